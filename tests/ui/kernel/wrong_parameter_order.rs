use ringkernel::{ring_kernel, RingContext};

#[ring_kernel(id = "order")]
fn order(x: u32, _ctx: &mut RingContext) -> u32 {
    x
}

fn main() {}
