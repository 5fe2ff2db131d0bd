use ringkernel::{ring_kernel, RingContext};

// Tuples are values inside a kernel, but not messages: Rust does not fix their layout.
#[ring_kernel(id = "k")]
fn k(_ctx: &mut RingContext, pair: (u32, u32)) -> u32 {
    let kept = (pair.0, pair.1 + 1);
    kept.0 + kept.1
}

fn main() {}
