// Version 3 of the `cudac` rule of tests/cuda_c_producer.rs: the same layouts, a handler that
// reports a fault (every fifth message) and spends a budget of 100 loop iterations (`stream`
// iterations per message), to show the header's loop carries faults, budgets and the access
// policy as our own PTX does.
#define RK_MAX_STEPS 100u
#include "ringkernel.cuh"
#include "cudac_types.cuh"

__device__ Stamped guarded(rk_context *ctx, LoadState *s, Tagged m) {
    for (unsigned int i = 0; i < m.stream; ++i) {
        if (rk_spend(ctx)) return Stamped{0u, 0u, 0u, 0ull};
    }
    if (m.seq % 5u == 0u) rk_record_error(ctx, RK_ERROR_DIVISION_BY_ZERO);
    s->count += 1;
    return Stamped{m.stream, m.seq, 3000u, s->count};
}

RINGKERNEL_RULE_WITH_STATE(cudac_v3, Tagged, Stamped, LoadState, guarded)
