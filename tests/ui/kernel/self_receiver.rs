use ringkernel::{ring_kernel, RingContext};

struct Service;

impl Service {
    #[ring_kernel(id = "method")]
    fn method(&self, _ctx: &mut RingContext, x: u32) -> u32 {
        x
    }
}

fn main() {}
