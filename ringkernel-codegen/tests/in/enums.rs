//! Fieldless enums: as a message, in message, state and response fields, in arrays and
//! consts, in `match` (variants, `Self::`, `|`, `_`, bindings, guards), `==` and `<`, `as`
//! casts, device functions and methods. An out-of-bounds read gives the first variant.

#[derive(RingMessage, Clone, Copy, PartialEq, Eq, PartialOrd)]
#[repr(u8)]
pub enum Op {
    Add = 1,
    Sub,
    Mul = 5,
    Keep = 200,
}

#[derive(RingMessage, Clone, Copy, PartialEq)]
#[repr(i16)]
pub enum Level {
    Low = -1,
    Mid,
    High,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Command {
    pub op: Op,
    pub level: Level,
    pub a: i32,
    pub b: i32,
    pub pick: u32,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Outcome {
    pub value: i32,
    pub op: Op,
    pub code: u32,
    pub picked: Op,
    pub level: Level,
    pub wide: u64,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct History {
    pub last: Op,
    pub ops: [Op; 4],
    pub count: u32,
}

const DEFAULT_OP: Op = Op::Keep;
const TABLE: [Op; 3] = [Op::Sub, Op::Mul, Op::Add];

impl Op {
    #[device]
    fn apply(self, a: i32, b: i32) -> i32 {
        match self {
            Op::Add => a.wrapping_add(b),
            Op::Sub => a.wrapping_sub(b),
            Self::Mul => a.wrapping_mul(b),
            Op::Keep => a,
        }
    }

    #[device]
    fn rotated(&self) -> Self {
        match *self {
            Self::Add => Self::Sub,
            Self::Sub => Self::Mul,
            Self::Mul => Self::Keep,
            Self::Keep => Self::Add,
        }
    }
}

#[device]
fn invert(op: Op) -> Op {
    match op {
        Op::Add => Op::Sub,
        Op::Sub => Op::Add,
        other => other,
    }
}

#[ring_kernel(id = "enums")]
fn run(ctx: &mut RingContext, history: &mut History, c: Command) -> Outcome {
    let value = c.op.apply(c.a, c.b);
    let code = match c.op {
        Op::Add | Op::Sub => 1u32,
        op @ Op::Mul if c.a > 0 => 10 + op as u32,
        Op::Mul => 3,
        _ => 4,
    };
    let level_code = match c.level {
        Level::Low => -1i32,
        Level::Mid => 0,
        Level::High => 1,
    };
    // Indices 4 and 5 are out of bounds: the first variant, `Op::Add`.
    let picked = history.ops[c.pick as usize % 6];
    history.ops[(history.count % 4) as usize] = invert(c.op);
    history.count = history.count.wrapping_add(1);
    let op = if c.op == history.last {
        DEFAULT_OP.rotated()
    } else if c.op < Op::Mul {
        TABLE[(c.pick % 3) as usize]
    } else {
        c.op
    };
    history.last = c.op;
    let wide = (c.level as u64) ^ (op as u64);
    Outcome { value: value.wrapping_add(level_code), op, code, picked, level: c.level, wide }
}

#[ring_kernel(id = "enum-message")]
fn flip(ctx: &mut RingContext, op: Op) -> Op {
    if op != Op::Keep { invert(op) } else { Op::Mul }
}
