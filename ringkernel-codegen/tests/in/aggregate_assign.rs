//! Whole-aggregate assignment that reads its own target, big arrays copied by loops.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Window {
    pub samples: [i32; 32],
    pub pair: [i32; 2],
}

#[ring_kernel(id = "window")]
fn window(ctx: &mut RingContext, w: &mut Window, x: i32) -> i32 {
    w.pair = [w.pair[1], w.pair[0] + x];
    let mut shifted = [0i32; 32];
    for i in 1..32 {
        shifted[i - 1] = w.samples[i];
    }
    shifted[31] = x;
    w.samples = shifted;
    let copy = *w;
    copy.samples[0] + copy.pair[1]
}
