use ringkernel::{ring_kernel, RingContext};

#[ring_kernel(id = "k", queue_capacity = 1000)]
fn k(_ctx: &mut RingContext, x: u32) -> u32 {
    x
}

fn main() {}
