//! The floats' classification, rounding, sign and bit methods, in `f32` and `f64`.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Floats {
    pub x: f32,
    pub y: f32,
    pub p: f64,
    pub q: f64,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct FloatFacts {
    pub rounded: [f32; 4],
    pub rounded_wide: [f64; 4],
    pub signs: [f32; 3],
    pub signs_wide: [f64; 3],
    pub angles: [f32; 2],
    pub angles_wide: [f64; 2],
    pub bits: u32,
    pub bits_wide: u64,
    pub from_bits: f32,
    pub from_bits_wide: f64,
    pub classes: [bool; 7],
    pub classes_wide: [bool; 7],
}

#[ring_kernel(id = "float-methods")]
fn float_methods(ctx: &mut RingContext, f: Floats) -> FloatFacts {
    FloatFacts {
        rounded: [f.x.trunc(), f.x.round_ties_even(), f.x.fract(), f.y.recip()],
        rounded_wide: [f.p.trunc(), f.p.round_ties_even(), f.p.fract(), f.q.recip()],
        signs: [f.x.signum(), f.x.copysign(f.y), f.y.abs().copysign(-1.0)],
        signs_wide: [f.p.signum(), f.p.copysign(f.q), f.q.abs().copysign(-1.0)],
        angles: [f.x.to_degrees(), f.y.to_radians()],
        angles_wide: [f.p.to_degrees(), f.q.to_radians()],
        bits: f.x.to_bits() ^ f.y.to_bits(),
        bits_wide: f.p.to_bits().wrapping_add(f.q.to_bits()),
        from_bits: f32::from_bits(f.x.to_bits() ^ 0x8000_0001),
        from_bits_wide: f64::from_bits(f.p.to_bits().rotate_left(1)),
        classes: [
            f.x.is_nan(),
            f.x.is_infinite(),
            f.x.is_finite(),
            f.x.is_normal(),
            f.y.is_subnormal(),
            f.y.is_sign_positive(),
            f.y.is_sign_negative(),
        ],
        classes_wide: [
            f.p.is_nan(),
            f.p.is_infinite(),
            f.p.is_finite(),
            f.p.is_normal(),
            f.q.is_subnormal(),
            f.q.is_sign_positive(),
            f.q.is_sign_negative(),
        ],
    }
}
