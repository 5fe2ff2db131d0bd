use ringkernel::{ring_kernel, RingContext};

#[ring_kernel(id = "k")]
fn k(_ctx: &mut RingContext, x: u32) -> u32 {
    let items: Vec<u32> = Vec::new();
    x
}

fn main() {}
