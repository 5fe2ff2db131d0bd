use ringkernel::{ring_kernel, RingContext};

#[ring_kernel(id = "generic")]
fn generic<T>(_ctx: &mut RingContext, x: u32) -> u32 {
    x
}

fn main() {}
