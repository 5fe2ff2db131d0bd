//! Every compound assignment on locals, state fields and array elements.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Acc {
    pub total: u32,
    pub cells: [i32; 4],
    pub scale: f32,
}

#[ring_kernel(id = "compound")]
fn compound(ctx: &mut RingContext, acc: &mut Acc, x: u32) -> u32 {
    let mut v = x;
    v += 3;
    v -= 1;
    v *= 5;
    v /= 2;
    v %= 1000;
    v &= 0xFF0;
    v |= 1;
    v ^= 0x55;
    v <<= 2;
    v >>= 1;
    acc.total += v;
    acc.cells[(x % 4) as usize] -= 7;
    acc.scale *= 1.5;
    acc.total
}
