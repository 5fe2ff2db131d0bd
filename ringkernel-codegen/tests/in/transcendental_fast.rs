//! `fast_math`: f32 `exp ln sin cos` as the GPU's `.approx` instructions (within their
//! documented error of the native functions, not bit-identical).

#[ring_kernel(id = "transcendental-fast", fast_math)]
fn transcendental_fast(ctx: &mut RingContext, x: f32) -> f32 {
    x.exp() + (x.abs() + 1.0).ln() + x.sin() * x.cos()
}
