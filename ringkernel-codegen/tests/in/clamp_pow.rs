//! `clamp` (integers and floats; natively Rust panics when `lo > hi` or a bound is NaN, the
//! DSL gives Rust's comparisons in Rust's order instead) and wrapping `pow` / `wrapping_pow`.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Bounds {
    pub a: i32,
    pub b: i32,
    pub n: u32,
    pub d: u8,
    pub x: f32,
    pub y: f32,
    pub l: i64,
    pub p: f64,
    pub q: f64,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Clamped {
    pub ints: [i32; 2],
    pub small: u8,
    pub floats: [f32; 2],
    pub wide: [f64; 2],
    pub powers: [i32; 2],
    pub power_byte: u8,
    pub power_wide: i64,
}

#[ring_kernel(id = "clamp-pow")]
fn clamp_pow(ctx: &mut RingContext, v: Bounds) -> Clamped {
    Clamped {
        ints: [v.a.clamp(-5, v.b), v.b.clamp(v.a, 100)],
        small: v.d.clamp(10, 200),
        floats: [v.x.clamp(v.y, 1.0), v.y.clamp(-2.5, 2.5)],
        wide: [v.p.clamp(-1.0, v.q), v.q.clamp(v.p, v.p)],
        powers: [v.a.wrapping_pow(v.n), v.b.pow(v.n % 7)],
        power_byte: v.d.pow(v.n % 9),
        power_wide: v.l.pow(3),
    }
}
