//! `min`/`max` on signed, unsigned and float values, `T::MIN` / `T::MAX`.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Bounds {
    pub lo: i32,
    pub hi: u16,
    pub f: f32,
}

#[ring_kernel(id = "minmax")]
fn clamp_all(ctx: &mut RingContext, b: Bounds) -> Bounds {
    Bounds {
        lo: b.lo.max(i32::MIN + 5).min(i32::MAX - 5),
        hi: b.hi.min(u16::MAX / 2).max(3),
        f: b.f.max(f32::MIN).min(100.0),
    }
}
