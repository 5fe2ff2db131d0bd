//! Error values: what the parser rejects and what a running kernel can fault with.

use std::fmt;

/// PTX text the parser rejects: where, what it found, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line of the offending token.
    pub line: u32,
    /// 1-based column of the offending token.
    pub column: u32,
    /// The token as written (empty at the end of the input).
    pub token: String,
    /// What is wrong, in lowercase.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.token.is_empty() {
            write!(f, "{}:{}: {}", self.line, self.column, self.message)
        } else {
            write!(f, "{}:{}: {} (at `{}`)", self.line, self.column, self.message, self.token)
        }
    }
}

impl std::error::Error for ParseError {}

/// A host-side memory operation the address space refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemoryError {
    /// The range `[address, address + len)` is not inside one allocation or mapped range.
    OutOfBounds { address: u64, len: u64 },
    /// The device address space (or the host allocator) cannot hold a region that large.
    OutOfMemory { len: u64 },
    /// `free`/`unmap` of an address that does not start a region.
    NotARegion { address: u64 },
    /// `map_host` with a pointer that is null or not 8-byte aligned.
    BadHostPointer { pointer: usize },
}

impl fmt::Display for MemoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemoryError::OutOfBounds { address, len } => {
                write!(f, "{len} bytes at {address:#x} are not inside one allocation")
            }
            MemoryError::OutOfMemory { len } => write!(f, "cannot allocate {len} bytes"),
            MemoryError::NotARegion { address } => {
                write!(f, "{address:#x} is not the start of an allocation or mapped range")
            }
            MemoryError::BadHostPointer { pointer } => {
                write!(f, "host pointer {pointer:#x} is null or not 8-byte aligned")
            }
        }
    }
}

impl std::error::Error for MemoryError {}

/// Where in the program a fault happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The entry that was launched.
    pub entry: String,
    /// The function the faulting instruction belongs to.
    pub function: String,
    /// Index of the instruction in the module's decoded program.
    pub pc: u32,
    /// Line of the instruction in the PTX text.
    pub line: u32,
    /// The faulting thread: CTA index and thread index (x, y, z).
    pub cta: [u32; 3],
    pub thread: [u32; 3],
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` (in `{}`, PTX line {}, pc {}), block ({},{},{}) thread ({},{},{})",
            self.entry,
            self.function,
            self.line,
            self.pc,
            self.cta[0],
            self.cta[1],
            self.cta[2],
            self.thread[0],
            self.thread[1],
            self.thread[2]
        )
    }
}

/// Why a launch did not complete. The VM stays usable after every fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An access outside every allocation and mapped range (CUDA error 700): the entry
    /// launched, the faulting instruction's index, the address; `at` has the rest (function,
    /// PTX line, block, thread).
    IllegalAddress { entry: String, pc: u32, address: u64, at: Box<Location> },
    /// An access whose address is not a multiple of its size (CUDA error 716).
    MisalignedAddress { entry: String, pc: u32, address: u64, size: u64, at: Box<Location> },
    /// The instruction budget of the launch ran out (see [`crate::Vm::set_instruction_budget`]).
    BudgetExhausted { entry: String, executed: u64 },
    /// A `trap` instruction (CUDA error 719).
    Trap { at: Box<Location> },
    /// Threads wait at barriers or warp collectives that can never complete.
    Deadlock { entry: String, detail: String },
    /// The module has no `.entry` of that name.
    NoSuchEntry { entry: String, available: Vec<String> },
    /// The arguments do not match the entry's parameter list.
    BadArguments { entry: String, detail: String },
    /// The launch shape is invalid (zero or too many threads, too much shared memory).
    BadDims { entry: String, detail: String },
    /// The program does something this VM defines as unsupported (a recursive call, a call
    /// to an `.extern` function without a body other than `vprintf`).
    Unsupported { at: Box<Location>, what: String },
    /// The module's variables could not be placed in the address space.
    Memory(MemoryError),
    /// The launch was cancelled with [`crate::LaunchHandle::cancel`].
    Cancelled { entry: String },
    /// A defect in the VM itself (a worker thread panicked); please report it.
    Internal(String),
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::IllegalAddress { at, address, .. } => {
                write!(f, "illegal address {address:#x} in {at}")
            }
            Fault::MisalignedAddress { at, address, size, .. } => {
                write!(f, "misaligned {size}-byte access at {address:#x} in {at}")
            }
            Fault::BudgetExhausted { entry, executed } => {
                write!(
                    f,
                    "`{entry}` ran out of its instruction budget after {executed} instructions"
                )
            }
            Fault::Trap { at } => write!(f, "trap in {at}"),
            Fault::Deadlock { entry, detail } => write!(f, "deadlock in `{entry}`: {detail}"),
            Fault::NoSuchEntry { entry, available } => {
                write!(f, "no entry `{entry}` in the module (entries: {})", available.join(", "))
            }
            Fault::BadArguments { entry, detail } => {
                write!(f, "bad arguments for `{entry}`: {detail}")
            }
            Fault::BadDims { entry, detail } => {
                write!(f, "bad launch shape for `{entry}`: {detail}")
            }
            Fault::Unsupported { at, what } => write!(f, "unsupported: {what} in {at}"),
            Fault::Memory(e) => write!(f, "module variables: {e}"),
            Fault::Cancelled { entry } => write!(f, "launch of `{entry}` cancelled"),
            Fault::Internal(what) => write!(f, "internal error in the PTX VM: {what}"),
        }
    }
}

impl std::error::Error for Fault {}

impl From<MemoryError> for Fault {
    fn from(e: MemoryError) -> Self {
        Fault::Memory(e)
    }
}
