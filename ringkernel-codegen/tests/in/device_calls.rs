//! Device helpers: scalar and bool parameters, helpers calling helpers, early returns.

#[device]
fn is_even(x: u32) -> bool {
    x % 2 == 0
}

#[device]
fn square(x: u32) -> u32 {
    x.wrapping_mul(x)
}

#[device]
fn pick(flag: bool, a: u32, b: u32) -> u32 {
    if flag {
        return a;
    }
    b
}

#[device]
fn sum_of_squares(n: u32) -> u32 {
    let mut total = 0u32;
    for i in 1..=n {
        total = total.wrapping_add(square(i));
    }
    total
}

#[ring_kernel(id = "device-calls")]
fn device_calls(ctx: &mut RingContext, n: u32) -> u32 {
    let s = sum_of_squares(n % 100);
    pick(is_even(n), s, square(n))
}
