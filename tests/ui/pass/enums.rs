// A fieldless enum as a message, a field and a state field: encoded as its discriminant,
// decoded with invalid discriminants refused, matched in a kernel and a method.
use std::sync::Arc;

use ringkernel::{device, ring_kernel, Hlc, MessageError, RingContext, RingMessage};

#[derive(RingMessage, Clone, Copy, Debug, PartialEq, Eq, PartialOrd)]
#[repr(u16)]
pub enum Mode {
    Idle = 3,
    Run,
    Halt = 700,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Order {
    pub mode: Mode,
    pub amount: i32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Machine {
    pub mode: Mode,
    pub total: i64,
}

impl Mode {
    #[device]
    fn weight(self) -> i64 {
        match self {
            Mode::Idle => 0,
            Self::Run => 1,
            Mode::Halt => -1,
        }
    }
}

// Tuples as values: a device function's result, destructured.
#[device]
fn split(total: i64) -> (i64, bool) {
    (total / 2, total % 2 != 0)
}

#[ring_kernel(id = "ui-enums")]
fn step(_ctx: &mut RingContext, m: &mut Machine, o: Order) -> Mode {
    if o.mode > m.mode {
        m.mode = o.mode;
    }
    m.total += o.mode.weight() * o.amount as i64;
    let (half, odd) = split(m.total);
    if odd && half > 1_000_000 {
        m.mode = Mode::Halt;
    }
    m.mode
}

fn main() {
    let mut ctx = RingContext::new("ui", 0, Arc::new(Hlc::new(0)));
    let mut m = Machine { mode: Mode::Idle, total: 0 };
    assert_eq!(step(&mut ctx, &mut m, Order { mode: Mode::Run, amount: 5 }), Mode::Run);
    assert_eq!(m.total, 5);
    assert_eq!(Mode::Halt.to_bytes(), 700u16.to_le_bytes());
    assert_eq!(Mode::decode(&4u16.to_le_bytes()), Ok(Mode::Run));
    assert_eq!(
        Mode::decode(&5u16.to_le_bytes()),
        Err(MessageError::InvalidValue { type_name: "Mode", field: "discriminant" })
    );
    let mut bytes = Order { mode: Mode::Halt, amount: 1 }.to_bytes();
    bytes[0] = 9;
    assert_eq!(
        Order::decode(&bytes),
        Err(MessageError::InvalidValue { type_name: "Order", field: "mode" })
    );
    assert_eq!(Mode::LAYOUT.size, 2);
}
