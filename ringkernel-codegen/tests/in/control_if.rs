//! `if` as a statement and as an expression, `else if` chains, nested conditions.

#[ring_kernel(id = "classify")]
fn classify(ctx: &mut RingContext, x: i32) -> u32 {
    let mut flags = 0u32;
    if x < 0 {
        flags |= 1;
    }
    if x % 2 == 0 {
        flags |= 2;
    } else {
        flags |= 4;
    }
    let size = if x.abs() < 10 { 10 } else if x.abs() < 100 { 20 } else if x.abs() < 1000 { 30 } else { 40 };
    flags + size
}
