//! Associated constants of the primitives (`MAX MIN BITS EPSILON INFINITY NEG_INFINITY NAN
//! MIN_POSITIVE`) and the `core::f32::consts` / `std::f64::consts` paths.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Limits {
    pub x: f32,
    pub n: i32,
    pub y: f64,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Consts {
    pub circle: f32,
    pub bits: u32,
    pub e_scaled: f64,
    pub clamped: f32,
    pub nan_guard: f32,
    pub inf_guard: f64,
    pub wide: u64,
    pub near_one: bool,
    pub tiny: bool,
}

#[ring_kernel(id = "consts")]
fn constants(ctx: &mut RingContext, l: Limits) -> Consts {
    let circle = l.x * core::f32::consts::TAU + std::f32::consts::FRAC_PI_3;
    let e_scaled = l.y * std::f64::consts::E + core::f64::consts::FRAC_1_SQRT_2;
    let near_one = (l.x - 1.0).abs() < f32::EPSILON;
    let bits = u32::BITS + u8::BITS + i64::BITS;
    let clamped = if l.x > f32::MAX / 2.0 {
        f32::INFINITY
    } else if l.x < f32::MIN_POSITIVE {
        f32::NEG_INFINITY
    } else {
        l.x
    };
    let inf_guard = if l.y == f64::INFINITY || l.y == f64::NEG_INFINITY {
        f64::NAN
    } else {
        l.y * f64::EPSILON
    };
    let nan_guard = if l.x != l.x { f32::NAN } else { f32::MIN_POSITIVE };
    let tiny = l.y.abs() < f64::MIN_POSITIVE;
    let wide = if l.n < i32::MIN + 1 { u64::MAX } else { u64::BITS as u64 + i16::MAX as u64 };
    Consts { circle, bits, e_scaled, clamped, nan_guard, inf_guard, wide, near_one, tiny }
}
