//! f32 arithmetic and the exactly rounded math methods.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Vec3 {
    pub x: f32,
    pub y: f32,
    pub z: f32,
}

#[ring_kernel(id = "float-math")]
fn float_math(ctx: &mut RingContext, v: Vec3) -> Vec3 {
    let len = (v.x * v.x + v.y * v.y + v.z * v.z).sqrt();
    let inv = if len > 0.0 { 1.0 / len } else { 0.0 };
    Vec3 {
        x: v.x.mul_add(inv, -0.5).abs(),
        y: v.y.min(v.z).max(-1.0).floor(),
        z: v.z.powi(3) - v.x.ceil() + v.y.powi(-2),
    }
}
