//! `..=` up to a type's maximum must terminate; a `u8` loop counter.

#[ring_kernel(id = "inclusive")]
fn inclusive(ctx: &mut RingContext, base: u32) -> u32 {
    let mut total = 0u32;
    for i in 250u8..=u8::MAX {
        total += i as u32;
    }
    for j in base..=base + 2 {
        total += j;
    }
    total
}
