use ringkernel::{ring_kernel, RingContext};

#[ring_kernel(id = "a", id = "b")]
fn twice(_ctx: &mut RingContext, x: u32) -> u32 {
    x
}

fn main() {}
