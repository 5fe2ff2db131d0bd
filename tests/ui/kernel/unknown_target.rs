use ringkernel::{rule, RingContext};

#[rule(id = "r", version = 1, compute_cap = "sm_60")]
fn r(_ctx: &mut RingContext, x: u32) -> u32 {
    x
}

fn main() {}
