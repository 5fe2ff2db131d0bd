use ringkernel::{ring_kernel, RingContext};

// What kernels do not have, one error each, each saying what to write instead (natively
// this is valid Rust).
#[ring_kernel(id = "k")]
fn k(_ctx: &mut RingContext, x: u32) -> u32 {
    struct Local;
    let _r = &x;
    let _range = 0..x;
    let _later = async { 1 };
    if let 3 = x {
        return 1;
    }
    x.checked_add(1).unwrap_or(0)
}

fn main() {}
