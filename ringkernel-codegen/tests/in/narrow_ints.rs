//! 8- and 16-bit integers: wrapping, shifts and sign handling in 32-bit registers.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Narrow {
    pub a: i8,
    pub b: u8,
    pub c: i16,
    pub d: u16,
}

#[ring_kernel(id = "narrow-ints")]
fn narrow(ctx: &mut RingContext, msg: Narrow) -> Narrow {
    let a = msg.a.wrapping_mul(3) + 100;
    let b = (msg.b << 3) ^ msg.b;
    let c = (msg.c >> 2) - msg.c / 7;
    let d = msg.d.wrapping_sub(40000) | 1;
    Narrow { a: -a, b: !b, c, d: d % 1000 }
}
