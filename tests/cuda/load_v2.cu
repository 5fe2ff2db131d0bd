// Version 2 of the `cudac` rule of tests/cuda_c_producer.rs, written in CUDA C: the same
// layouts as the Rust version 1, a different version stamp.
#include "ringkernel.cuh"
#include "cudac_types.cuh"

__device__ Stamped load(rk_context *ctx, LoadState *s, Tagged m) {
    (void)ctx;
    s->count += 1;
    return Stamped{m.stream, m.seq, 2000u, s->count};
}

RINGKERNEL_RULE_WITH_STATE(cudac_v2, Tagged, Stamped, LoadState, load)
