use ringkernel::{ring_kernel, RingContext};

#[ring_kernel(id = "k")]
fn k(_ctx: &mut RingContext, x: u32) -> u32 {
    // Destructured where it is made is fine; kept as a value it is not.
    let (a, b) = (x, x + 1);
    let _pair = (a, b);
    a + b
}

fn main() {}
