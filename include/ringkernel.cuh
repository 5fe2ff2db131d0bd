// ringkernel.cuh: the persistent-actor ABI of ringkernel for CUDA C producers of artifacts.
//
// One definition of the shared memory with ringkernel_codegen::abi (a test compiles this
// header with NVRTC against the Rust offsets), and the actor loop our own PTX runs: wait for
// RUN (and read the access policy); poll the input ring with acquire loads; answer a slot
// whose sender the policy refuses, or of the wrong type, with a failed response before the
// handler could see it; call the handler; write the message's fault (its first recorded
// error) into the response header; publish the response slot's type id last, with release,
// then the tail; free the input slot (type id cleared, then head released); count the
// message; stop at message boundaries on QUIESCE and TERMINATE and acknowledge them.
//
// Budgets: our DSL's handlers count every loop iteration and abort a message whose budget
// ran out. CUDA C loops are not instrumented; a handler that wants the same guarantee calls
// `rk_spend(ctx)` in its loops and returns when it says the budget is spent (the loop then
// answers `RK_ERROR_BUDGET_EXHAUSTED` with a failed response; the state is the handler's
// business).
//
// A rule written in CUDA C:
//
//     #include "ringkernel.cuh"
//     struct Tagged { unsigned int stream, seq; };                       // #[repr(C)] layouts
//     struct Stamped { unsigned int stream, seq, version; unsigned long long count; };
//     struct LoadState { unsigned long long count; };
//     __device__ Stamped load(rk_context *ctx, LoadState *s, Tagged m) {
//         s->count += 1;
//         return Stamped{m.stream, m.seq, 2000, s->count};
//     }
//     RINGKERNEL_RULE_WITH_STATE(load_v2, Tagged, Stamped, LoadState, load)
//
// defines `load_v2_persistent`, `load_v2_batch` and `load_v2_handler`, the three entry points
// an artifact names. Compile it to PTX (nvcc -ptx, or NVRTC with --include-path=include),
// then `ringkernel wrap load_v2.ptx --id load --version 2 --like load-v1.ptx` adds the
// metadata header (layouts and ABI hash from the artifact it replaces).
//
// Needs sm_70 or newer (acquire/release at system scope, __nanosleep).
#pragma once

#define RK_ABI_VERSION 2u

// ControlBlock::requested.
#define RK_REQUEST_IDLE 0u
#define RK_REQUEST_RUN 1u
#define RK_REQUEST_QUIESCE 2u
#define RK_REQUEST_TERMINATE 3u
// ControlBlock::acknowledged.
#define RK_ACK_IDLE 0u
#define RK_ACK_RUNNING 1u
#define RK_ACK_QUIESCED 2u
#define RK_ACK_TERMINATED 3u
// ControlBlock::error_code.
#define RK_ERROR_NONE 0u
#define RK_ERROR_DIVISION_BY_ZERO 1u
#define RK_ERROR_INDEX_OUT_OF_BOUNDS 2u
#define RK_ERROR_WRONG_MESSAGE_TYPE 3u
#define RK_ERROR_INVALID_VALUE 4u
#define RK_ERROR_NEGATIVE_SQUARE_ROOT 5u
#define RK_ERROR_UNAUTHORIZED 6u
#define RK_ERROR_BUDGET_EXHAUSTED 7u
#define RK_ERROR_HANDLER_FAILED 8u
// ControlBlock::policy_flags.
#define RK_POLICY_ENFORCED 1u
// Loop iterations `rk_spend` allows per message (the DSL's default budget).
#ifndef RK_MAX_STEPS
#define RK_MAX_STEPS 4194304u
#endif
// The type id of a failed response (a refused or wrong-type slot's answer).
#define RK_FAILED_RESPONSE_TYPE 0xFFFFFFFFFFFFFFFFull
// The idle back-off of the loop, in nanoseconds (the artifact's `backoff` setting).
#ifndef RK_IDLE_BACKOFF_NS
#define RK_IDLE_BACKOFF_NS 1000u
#endif

typedef unsigned short rk_u16;
typedef unsigned int rk_u32;
typedef unsigned long long rk_u64;

struct __align__(64) rk_control_block {
    rk_u32 requested;
    rk_u32 acknowledged;
    rk_u32 error_code;
    rk_u32 error_count;
    rk_u64 messages_processed;
    rk_u64 hlc;
    rk_u32 abi_version;
    rk_u32 kernel_slot;
    rk_u64 error_sequence;
    rk_u64 policy_tenant;
    rk_u32 policy_required;
    rk_u32 policy_flags;
    rk_u64 messages_refused;
    rk_u64 messages_aborted;
    rk_u64 reserved[6];
};

struct __align__(64) rk_queue_header {
    rk_u64 head;
    rk_u64 pad_head[7];
    rk_u64 tail;
    rk_u64 pad_tail[7];
    rk_u32 capacity;
    rk_u32 slot_size;
    rk_u32 payload_size;
    rk_u32 abi_version;
    rk_u64 type_id;
    rk_u64 pad_config[5];
};

struct rk_slot_header {
    rk_u64 type_id;
    rk_u64 sequence;
    rk_u64 correlation;
    rk_u64 hlc;
    rk_u64 tenant;
    rk_u32 permissions;
    rk_u16 sender;
    rk_u16 fault;
};

// What a handler sees: the control block (for errors and the clock), its message's sequence
// number, the message's fault so far (its first error) and the budget left.
struct rk_context {
    rk_control_block *cb;
    rk_u64 sequence;
    rk_u32 fault;
    rk_u32 fuel;
};

static __device__ __forceinline__ rk_u32 rk_load_acquire_u32(const rk_u32 *p) {
    rk_u32 v;
    asm volatile("ld.acquire.sys.u32 %0, [%1];" : "=r"(v) : "l"(p) : "memory");
    return v;
}

static __device__ __forceinline__ rk_u64 rk_load_acquire_u64(const rk_u64 *p) {
    rk_u64 v;
    asm volatile("ld.acquire.sys.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
    return v;
}

static __device__ __forceinline__ void rk_store_release_u32(rk_u32 *p, rk_u32 v) {
    asm volatile("st.release.sys.u32 [%0], %1;" ::"l"(p), "r"(v) : "memory");
}

static __device__ __forceinline__ void rk_store_release_u64(rk_u64 *p, rk_u64 v) {
    asm volatile("st.release.sys.u64 [%0], %1;" ::"l"(p), "l"(v) : "memory");
}

// Records an error as our PTX does: the count, the first code, the message's sequence.
// The message's fault is its first error.
static __device__ __forceinline__ void rk_record_error(rk_context *ctx, rk_u32 code) {
    atomicAdd(&ctx->cb->error_count, 1u);
    atomicCAS(&ctx->cb->error_code, 0u, code);
    ctx->cb->error_sequence = ctx->sequence;
    if (ctx->fault == 0u) ctx->fault = code;
}

// One loop iteration: true once the message's budget is spent (the error is then recorded
// and counted once, and the message will be answered with a failed response).
static __device__ __forceinline__ bool rk_spend(rk_context *ctx) {
    if (ctx->fuel == 0u) {
        if (ctx->fault != RK_ERROR_BUDGET_EXHAUSTED) {
            rk_record_error(ctx, RK_ERROR_BUDGET_EXHAUSTED);
            atomicAdd(&ctx->cb->messages_aborted, 1ull);
            ctx->fault = RK_ERROR_BUDGET_EXHAUSTED;
        }
        return true;
    }
    ctx->fuel -= 1u;
    return false;
}

// `ctx.now()`: the actor's clock, one tick per read.
static __device__ __forceinline__ rk_u64 rk_now(rk_context *ctx) {
    return atomicAdd(&ctx->cb->hlc, 1ull) + 1ull;
}

// A handler returns the message's fault (0: none).
typedef rk_u32 (*rk_handler_fn)(rk_control_block *, rk_u64, void *, const void *, void *);

// The actor loop of the ABI; thread 0 of block 0 runs it, the others return.
template <rk_handler_fn Handler>
static __device__ void rk_persistent_loop(rk_control_block *cb, rk_queue_header *in,
                                          rk_queue_header *out, unsigned char *state) {
    if ((threadIdx.x | blockIdx.x) != 0) return;
    const rk_u64 in_mask = (rk_u64)in->capacity - 1, in_slot = in->slot_size;
    const rk_u64 out_capacity = out->capacity, out_mask = out_capacity - 1;
    const rk_u64 out_slot = out->slot_size;
    const rk_u64 in_type = in->type_id, out_type = out->type_id;
    rk_u64 head = rk_load_acquire_u64(&in->head);
    rk_u64 tail = rk_load_acquire_u64(&out->tail);
    for (;;) {
        const rk_u32 requested = rk_load_acquire_u32(&cb->requested);
        if (requested == RK_REQUEST_TERMINATE) {
            rk_store_release_u32(&cb->acknowledged, RK_ACK_TERMINATED);
            return;
        }
        if (requested != RK_REQUEST_RUN) {
            if (requested == RK_REQUEST_QUIESCE) {
                rk_store_release_u32(&cb->acknowledged, RK_ACK_QUIESCED);
            }
            __nanosleep(RK_IDLE_BACKOFF_NS);
            continue;
        }
        // The access policy, written before RUN (which we acquired).
        const bool enforced = (cb->policy_flags & RK_POLICY_ENFORCED) != 0u;
        const rk_u64 policy_tenant = cb->policy_tenant;
        const rk_u32 policy_required = cb->policy_required;
        rk_store_release_u32(&cb->acknowledged, RK_ACK_RUNNING);
        while (rk_load_acquire_u32(&cb->requested) == RK_REQUEST_RUN) {
            if (rk_load_acquire_u64(&in->tail) == head ||
                tail - rk_load_acquire_u64(&out->head) >= out_capacity) {
                __nanosleep(RK_IDLE_BACKOFF_NS);
                continue;
            }
            unsigned char *slot = (unsigned char *)in + sizeof(rk_queue_header) + (head & in_mask) * in_slot;
            unsigned char *reply = (unsigned char *)out + sizeof(rk_queue_header) + (tail & out_mask) * out_slot;
            rk_slot_header *message = (rk_slot_header *)slot;
            rk_slot_header *response = (rk_slot_header *)reply;
            response->sequence = message->sequence;
            response->correlation = message->correlation;
            response->tenant = message->tenant;
            response->permissions = message->permissions;
            response->sender = message->sender;
            response->hlc = atomicAdd(&cb->hlc, 1ull) + 1ull;
            rk_u64 type = out_type;
            rk_u32 fault = 0u;
            bool forwarded = false;
            // The policy, before anything else reads the message.
            if (enforced && (message->tenant != policy_tenant ||
                             (message->permissions & policy_required) != policy_required)) {
                atomicAdd(&cb->messages_refused, 1ull);
                fault = RK_ERROR_UNAUTHORIZED;
            } else if (message->type_id == RK_FAILED_RESPONSE_TYPE) {
                // Failed in a stage before us (a pipeline): passed on, its fault kept.
                fault = message->fault;
                forwarded = true;
            } else if (message->type_id != in_type) {
                fault = RK_ERROR_WRONG_MESSAGE_TYPE;
            } else {
                fault = Handler(cb, message->sequence, state, slot + sizeof(rk_slot_header), reply + sizeof(rk_slot_header));
                // The first fault along a pipeline is the one reported.
                if (message->fault != 0u && fault != RK_ERROR_BUDGET_EXHAUSTED) fault = message->fault;
            }
            const bool refused = fault == RK_ERROR_UNAUTHORIZED || fault == RK_ERROR_WRONG_MESSAGE_TYPE;
            if (!forwarded && refused) {
                rk_context ctx = {cb, message->sequence, 0u, 0u};
                rk_record_error(&ctx, fault);
            }
            if (forwarded || refused || fault == RK_ERROR_BUDGET_EXHAUSTED) {
                // A failed response with a zeroed payload, so that no caller waits forever.
                for (rk_u64 at = sizeof(rk_slot_header); at < out_slot; at += 8) {
                    *(rk_u64 *)(reply + at) = 0;
                }
                type = RK_FAILED_RESPONSE_TYPE;
            }
            response->fault = (rk_u16)fault;
            // The slot announces itself last, then the tail.
            rk_store_release_u64(&response->type_id, type);
            tail += 1;
            rk_store_release_u64(&out->tail, tail);
            // Free the input slot: clear its type id, then release head.
            message->type_id = 0;
            head += 1;
            rk_store_release_u64(&in->head, head);
            rk_store_release_u64(&cb->messages_processed, cb->messages_processed + 1);
        }
    }
}

// The batch and persistent entries around `NAME_handler`; each batch thread's state is
// STATE_BYTES further on (0: a stateless rule).
#define RK_DEFINE_ENTRIES(NAME, MESSAGE, RESPONSE, STATE_BYTES)                                 \
    extern "C" __global__ void NAME##_batch(rk_control_block *cb, unsigned char *states,        \
                                            const unsigned char *msgs, unsigned char *resps,    \
                                            unsigned int count) {                               \
        unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;                                \
        if (i >= count) return;                                                                \
        NAME##_handler(cb, i, states + (rk_u64)i * (STATE_BYTES),                               \
                       msgs + (rk_u64)i * sizeof(MESSAGE), resps + (rk_u64)i * sizeof(RESPONSE)); \
    }                                                                                          \
    extern "C" __global__ void NAME##_persistent(rk_control_block *cb, rk_queue_header *in,     \
                                                 rk_queue_header *out, unsigned char *state) {  \
        rk_persistent_loop<NAME##_handler>(cb, in, out, state);                                \
    }

// The three entry points of a rule with state: `HANDLER(rk_context *, State *, Message)`
// returns the response.
#define RINGKERNEL_RULE_WITH_STATE(NAME, MESSAGE, RESPONSE, STATE, HANDLER)                     \
    extern "C" __device__ __noinline__ rk_u32 NAME##_handler(rk_control_block *cb, rk_u64 seq,   \
                                                            void *state, const void *msg,       \
                                                            void *resp) {                       \
        rk_context ctx = {cb, seq, 0u, RK_MAX_STEPS};                                          \
        *(RESPONSE *)resp = HANDLER(&ctx, (STATE *)state, *(const MESSAGE *)msg);              \
        return ctx.fault;                                                                      \
    }                                                                                          \
    RK_DEFINE_ENTRIES(NAME, MESSAGE, RESPONSE, sizeof(STATE))

// The same for a stateless rule: `HANDLER(rk_context *, Message)`.
#define RINGKERNEL_RULE(NAME, MESSAGE, RESPONSE, HANDLER)                                       \
    extern "C" __device__ __noinline__ rk_u32 NAME##_handler(rk_control_block *cb, rk_u64 seq,   \
                                                            void *state, const void *msg,       \
                                                            void *resp) {                       \
        rk_context ctx = {cb, seq, 0u, RK_MAX_STEPS};                                          \
        (void)state;                                                                           \
        *(RESPONSE *)resp = HANDLER(&ctx, *(const MESSAGE *)msg);                              \
        return ctx.fault;                                                                      \
    }                                                                                          \
    RK_DEFINE_ENTRIES(NAME, MESSAGE, RESPONSE, 0)
