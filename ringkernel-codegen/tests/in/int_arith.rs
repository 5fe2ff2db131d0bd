//! Integer arithmetic with Rust's wrapping semantics, division by zero and MIN / -1.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Pair {
    pub a: i32,
    pub b: i32,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct IntResults {
    pub sum: i32,
    pub diff: i32,
    pub product: i32,
    pub quotient: i32,
    pub remainder: i32,
    pub unsigned_quotient: u32,
    pub unsigned_remainder: u32,
    pub negated: i32,
}

#[ring_kernel(id = "int-arith")]
fn int_arith(ctx: &mut RingContext, msg: Pair) -> IntResults {
    let ua = msg.a as u32;
    let ub = msg.b as u32;
    IntResults {
        sum: msg.a + msg.b,
        diff: msg.a - msg.b,
        product: msg.a * msg.b,
        quotient: msg.a / msg.b,
        remainder: msg.a % msg.b,
        unsigned_quotient: ua / ub,
        unsigned_remainder: ua % ub,
        negated: -msg.a,
    }
}
