//! `&&` and `||` evaluate their right side only when needed (observable through errors).

#[device]
fn checked_div_is_big(a: u32, b: u32) -> bool {
    a / b > 10
}

#[ring_kernel(id = "short-circuit")]
fn short_circuit(ctx: &mut RingContext, x: u32) -> u32 {
    let safe = x != 0 && checked_div_is_big(100, x);
    let either = x == 0 || checked_div_is_big(1000, x);
    let both = !safe && either;
    (safe as u32) + (either as u32) * 2 + (both as u32) * 4
}
