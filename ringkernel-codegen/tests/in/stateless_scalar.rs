//! The smallest handler: scalar in, scalar out, no state.

#[ring_kernel(id = "echo-plus-one", block_size = 64, idle_backoff_ns = 500)]
fn echo_plus_one(ctx: &mut RingContext, x: u64) -> u64 {
    x + 1
}
