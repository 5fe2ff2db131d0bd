use ringkernel::{ring_kernel, RingContext};

#[ring_kernel(id = "by-ref")]
fn by_ref(_ctx: &mut RingContext, x: &u32) -> u32 {
    *x
}

fn main() {}
