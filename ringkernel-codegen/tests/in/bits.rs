//! Bit operations: population count, leading zeros, shifts by any amount, masks.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Word {
    pub value: u64,
    pub shift: u32,
    pub small: i16,
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct BitStats {
    pub ones: u32,
    pub zeros: u32,
    pub small_ones: u32,
    pub small_zeros: u32,
    pub rotated: u64,
    pub masked: u64,
}

#[ring_kernel(id = "bits")]
fn bit_stats(ctx: &mut RingContext, w: Word) -> BitStats {
    let rotated = (w.value << w.shift) | (w.value >> (64 - w.shift));
    BitStats {
        ones: w.value.count_ones(),
        zeros: w.value.leading_zeros(),
        small_ones: w.small.count_ones(),
        small_zeros: w.small.leading_zeros(),
        rotated,
        masked: !w.value & 0xFFFF_0000_FFFF_0000 ^ (w.shift as u64),
    }
}
