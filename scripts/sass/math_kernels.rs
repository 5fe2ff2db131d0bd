//! The math library's functions, one per kernel, for the SASS size comparison with CUDA's
//! (`scripts/sass/compare.py --math`, against `math.cu`).

#[ring_kernel(id = "sass-sinf")]
fn sinf_k(ctx: &mut RingContext, x: f32) -> f32 {
    x.sin()
}

#[ring_kernel(id = "sass-expf")]
fn expf_k(ctx: &mut RingContext, x: f32) -> f32 {
    x.exp()
}

#[ring_kernel(id = "sass-logf")]
fn logf_k(ctx: &mut RingContext, x: f32) -> f32 {
    x.ln()
}

#[ring_kernel(id = "sass-sin")]
fn sin_k(ctx: &mut RingContext, x: f64) -> f64 {
    x.sin()
}

#[ring_kernel(id = "sass-exp")]
fn exp_k(ctx: &mut RingContext, x: f64) -> f64 {
    x.exp()
}

#[ring_kernel(id = "sass-log")]
fn log_k(ctx: &mut RingContext, x: f64) -> f64 {
    x.ln()
}
