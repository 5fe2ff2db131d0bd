use ringkernel::{ring_kernel, RingContext};

#[ring_kernel(id = "k")]
fn k(_ctx: &mut RingContext, x: u32) -> u32 {
    println!("{x}");
    x
}

fn main() {}
