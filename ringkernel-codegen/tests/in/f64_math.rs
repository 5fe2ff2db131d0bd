//! f64: arithmetic, sqrt, fused multiply-add, rounding, comparisons with NaN.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Sample {
    pub value: f64,
    pub weight: f64,
}

#[ring_kernel(id = "f64-math")]
fn weighted(ctx: &mut RingContext, s: Sample) -> f64 {
    let w = if s.weight != s.weight { 0.0 } else { s.weight };
    let scaled = s.value.mul_add(w, 1e-9);
    (scaled.abs().sqrt() - scaled.floor()).max(s.value.ceil()) / 3.0
}
