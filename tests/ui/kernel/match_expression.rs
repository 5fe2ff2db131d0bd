use ringkernel::{ring_kernel, RingContext};

#[ring_kernel(id = "k")]
fn k(_ctx: &mut RingContext, x: u32) -> u32 {
    match x {
        0 => 1,
        _ => 2,
    }
}

fn main() {}
