use ringkernel::{ring_kernel, RingContext};

#[ring_kernel(queue_capacity = 64)]
fn unnamed(_ctx: &mut RingContext, x: u32) -> u32 {
    x
}

fn main() {}
