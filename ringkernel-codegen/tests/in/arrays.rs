//! Array literals, repeats, indexing (reads and writes), out-of-bounds behaviour, copies.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Lookup {
    pub index: u32,
    pub values: [f32; 8],
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Histogram {
    pub bins: [u32; 16],
    pub last: [f32; 8],
}

#[ring_kernel(id = "histogram")]
fn histogram(ctx: &mut RingContext, hist: &mut Histogram, msg: Lookup) -> f32 {
    let weights = [1.0f32, 0.5, 0.25, 0.125];
    let mut acc = [0.0f32; 4];
    for i in 0..8 {
        acc[i % 4] += msg.values[i] * weights[i % 4];
    }
    hist.bins[msg.index as usize] += 1;
    hist.last = msg.values;
    let picked = msg.values[msg.index as usize];
    acc[0] + acc[1] + acc[2] + acc[3] + picked
}
