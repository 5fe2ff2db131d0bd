use ringkernel::{ring_kernel, RingContext};

// A valid kernel whose PTX no build script produced.
#[ring_kernel(id = "never-built")]
fn never_built(_ctx: &mut RingContext, x: u32) -> u32 {
    x
}

fn main() {}
