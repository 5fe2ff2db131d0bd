//! [`Fault`]: what went wrong with one message, as its response reports it.
//!
//! Every backend writes the fault of a message into the header of its response slot (see
//! `ringkernel_codegen::abi::SlotHeader::fault`): the first error its handler raised, or why
//! the handler produced no value. The caller of that message, and only that caller, sees it:
//! `call` returns `Err(CallError::Faulted { .. })` and `receive` a [`crate::Response`] whose
//! `fault` is set (or, when there is no value, the same error). The actor's error counters
//! count every fault as before.

use ringkernel_codegen::abi::error;

/// The fault of one message.
///
/// ```
/// use ringkernel::Fault;
/// assert_eq!(Fault::from_code(1), Some(Fault::DivisionByZero));
/// assert_eq!(Fault::from_code(0), None);
/// assert!(Fault::DivisionByZero.has_value());
/// assert!(!Fault::Unauthorized.has_value());
/// assert_eq!(Fault::BudgetExhausted.to_string(), "the handler ran out of its loop budget");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// An integer division or remainder by zero (the result is 0).
    DivisionByZero,
    /// An array index out of bounds (the read gave 0, the write was dropped).
    IndexOutOfBounds,
    /// The message's type id is not the actor's message type: the handler did not run.
    WrongMessageType,
    /// An enum field held a discriminant of no variant (it read as the first variant).
    InvalidValue,
    /// `isqrt` of a negative integer (the result is 0).
    NegativeSquareRoot,
    /// The sender's tenant or permissions do not satisfy the actor's access policy: the
    /// handler did not run and the state did not change.
    Unauthorized,
    /// The handler ran more loop iterations than its budget allows: the message was aborted
    /// and the state left as it was before it.
    BudgetExhausted,
    /// The handler returned an error or panicked (hand-written Rust handlers).
    HandlerFailed,
    /// A code this version does not know (written by a newer producer).
    Other(u32),
}

impl Fault {
    /// The fault a slot's code names (`None` for 0: no fault).
    pub fn from_code(code: u32) -> Option<Fault> {
        Some(match code {
            error::NONE => return None,
            error::DIVISION_BY_ZERO => Fault::DivisionByZero,
            error::INDEX_OUT_OF_BOUNDS => Fault::IndexOutOfBounds,
            error::WRONG_MESSAGE_TYPE => Fault::WrongMessageType,
            error::INVALID_VALUE => Fault::InvalidValue,
            error::NEGATIVE_SQUARE_ROOT => Fault::NegativeSquareRoot,
            error::UNAUTHORIZED => Fault::Unauthorized,
            error::BUDGET_EXHAUSTED => Fault::BudgetExhausted,
            error::HANDLER_FAILED => Fault::HandlerFailed,
            other => Fault::Other(other),
        })
    }

    /// The ABI's code of this fault (`ringkernel_codegen::abi::error`).
    pub fn code(self) -> u32 {
        match self {
            Fault::DivisionByZero => error::DIVISION_BY_ZERO,
            Fault::IndexOutOfBounds => error::INDEX_OUT_OF_BOUNDS,
            Fault::WrongMessageType => error::WRONG_MESSAGE_TYPE,
            Fault::InvalidValue => error::INVALID_VALUE,
            Fault::NegativeSquareRoot => error::NEGATIVE_SQUARE_ROOT,
            Fault::Unauthorized => error::UNAUTHORIZED,
            Fault::BudgetExhausted => error::BUDGET_EXHAUSTED,
            Fault::HandlerFailed => error::HANDLER_FAILED,
            Fault::Other(code) => code,
        }
    }

    /// Whether the response still carries the value the handler computed under the DSL's
    /// defined semantics (arithmetic and memory faults), rather than no value at all.
    pub fn has_value(self) -> bool {
        matches!(
            self,
            Fault::DivisionByZero
                | Fault::IndexOutOfBounds
                | Fault::InvalidValue
                | Fault::NegativeSquareRoot
        )
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::DivisionByZero => f.write_str("division by zero"),
            Fault::IndexOutOfBounds => f.write_str("index out of bounds"),
            Fault::WrongMessageType => f.write_str("wrong message type"),
            Fault::InvalidValue => f.write_str("invalid enum value"),
            Fault::NegativeSquareRoot => f.write_str("square root of a negative integer"),
            Fault::Unauthorized => f.write_str("the sender is not authorised"),
            Fault::BudgetExhausted => f.write_str("the handler ran out of its loop budget"),
            Fault::HandlerFailed => f.write_str("the handler failed"),
            Fault::Other(code) => write!(f, "fault code {code}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for code in 1..=12 {
            let fault = Fault::from_code(code).unwrap();
            assert_eq!(fault.code(), code);
            assert!(!fault.to_string().is_empty());
        }
        assert_eq!(Fault::from_code(99), Some(Fault::Other(99)));
    }
}
