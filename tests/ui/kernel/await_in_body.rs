use ringkernel::{ring_kernel, RingContext};

async fn fetch() -> u32 {
    1
}

#[ring_kernel(id = "k")]
async fn k(_ctx: &mut RingContext, x: u32) -> u32 {
    x + fetch().await
}

fn main() {}
