// The math functions ringkernel's library replaces, as CUDA's full-precision versions (no
// --use_fast_math), each in a batch kernel with the signature of ringkernel's `<name>_batch`,
// for the SASS size comparison in BENCHMARKS.md (`compare.py --math`).

typedef unsigned long long u64;

#define BATCH(name) extern "C" __global__ void name##_batch(u64 *cb, void *states, const void *msgs, void *resps, unsigned count)
#define INDEX unsigned i = blockIdx.x * blockDim.x + threadIdx.x; if (i >= count) return;
#define UNARY(name, type, fn) BATCH(name) { INDEX ((type *)resps)[i] = fn(((const type *)msgs)[i]); }

UNARY(sinf_k, float, sinf)
UNARY(expf_k, float, expf)
UNARY(logf_k, float, logf)
UNARY(sin_k, double, sin)
UNARY(exp_k, double, exp)
UNARY(log_k, double, log)
