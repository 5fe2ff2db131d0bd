use ringkernel::{rule, RingContext};

#[rule(id = "scorer", version = "two")]
fn scorer(_ctx: &mut RingContext, x: u32) -> u32 {
    x
}

fn main() {}
