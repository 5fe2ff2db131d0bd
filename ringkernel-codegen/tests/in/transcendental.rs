//! f32 transcendental functions: the math library's, bit-identical on the CPU and the GPU.

#[ring_kernel(id = "transcendental")]
fn transcendental(ctx: &mut RingContext, x: f32) -> f32 {
    x.exp() + (x.abs() + 1.0).ln() + x.sin() * x.cos()
}
