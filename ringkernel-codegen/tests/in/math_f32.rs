//! Every function of the math library on `f32`, chosen by `op`: the same algorithm natively
//! and in the PTX, so the two agree bit for bit.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct MathCall32 {
    pub op: u32,
    pub x: f32,
    pub y: f32,
}

#[ring_kernel(id = "math-f32")]
fn math_f32(ctx: &mut RingContext, m: MathCall32) -> f32 {
    let x = m.x;
    let y = m.y;
    match m.op % 24 {
        0 => x.exp(),
        1 => x.exp2(),
        2 => x.exp_m1(),
        3 => x.ln(),
        4 => x.log2(),
        5 => x.log10(),
        6 => x.ln_1p(),
        7 => x.sin(),
        8 => x.cos(),
        9 => x.tan(),
        10 => x.asin(),
        11 => x.acos(),
        12 => x.atan(),
        13 => x.sinh(),
        14 => x.cosh(),
        15 => x.tanh(),
        16 => x.asinh(),
        17 => x.acosh(),
        18 => x.atanh(),
        19 => x.cbrt(),
        20 => x.log(y),
        21 => y.atan2(x),
        22 => x.hypot(y),
        23 => x.powf(y),
        _ => x,
    }
}
