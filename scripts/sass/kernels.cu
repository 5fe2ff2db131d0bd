// The same handlers as ringkernel-codegen/tests/in/{stateless_scalar,control_if,loops,
// device_calls,float_math,bits}.rs, written in CUDA C with the same semantics (wrapping
// integer arithmetic through unsigned types, Rust's min/max/powi), each as a batch kernel
// with the same signature as ringkernel's `<name>_batch`. Compiled with NVRTC
// (--fmad=false: Rust never contracts a*b+c) for the SASS size comparison in BENCHMARKS.md.

typedef unsigned long long u64;
typedef long long i64;

#define BATCH(name) extern "C" __global__ void name##_batch(u64 *cb, void *states, const void *msgs, void *resps, unsigned count)
#define INDEX unsigned i = blockIdx.x * blockDim.x + threadIdx.x; if (i >= count) return;

BATCH(echo_plus_one) {
    INDEX
    ((u64 *)resps)[i] = ((const u64 *)msgs)[i] + 1;
}

BATCH(classify) {
    INDEX
    int x = ((const int *)msgs)[i];
    unsigned flags = 0;
    if (x < 0) flags |= 1;
    if (x % 2 == 0) flags |= 2; else flags |= 4;
    int ax = x < 0 ? (int)(0u - (unsigned)x) : x;
    unsigned size = ax < 10 ? 10 : ax < 100 ? 20 : ax < 1000 ? 30 : 40;
    ((unsigned *)resps)[i] = flags + size;
}

BATCH(collatz) {
    INDEX
    u64 n = ((const u64 *)msgs)[i];
    unsigned steps = 0;
    while (n > 1 && steps < 1000) {
        n = n % 2 == 0 ? n / 2 : 3 * n + 1;
        steps += 1;
    }
    ((unsigned *)resps)[i] = steps;
}

__device__ bool is_even(unsigned x) { return x % 2 == 0; }
__device__ unsigned square(unsigned x) { return x * x; }
__device__ unsigned pick(bool flag, unsigned a, unsigned b) { return flag ? a : b; }
__device__ unsigned sum_of_squares(unsigned n) {
    unsigned total = 0;
    for (unsigned k = 1; k <= n; k++) { total += square(k); if (k == n) break; }
    return total;
}

BATCH(device_calls) {
    INDEX
    unsigned n = ((const unsigned *)msgs)[i];
    unsigned s = sum_of_squares(n % 100);
    ((unsigned *)resps)[i] = pick(is_even(n), s, square(n));
}

struct Vec3 { float x, y, z; };

__device__ float powi(float x, int n) {
    float r = 1.0f, base = x;
    unsigned e = n < 0 ? 0u - (unsigned)n : (unsigned)n;
    while (e != 0) { if (e & 1) r = r * base; base = base * base; e >>= 1; }
    return n < 0 ? 1.0f / r : r;
}

BATCH(float_math) {
    INDEX
    Vec3 v = ((const Vec3 *)msgs)[i];
    float len = sqrtf(v.x * v.x + v.y * v.y + v.z * v.z);
    float inv = len > 0.0f ? 1.0f / len : 0.0f;
    Vec3 out;
    out.x = fabsf(fmaf(v.x, inv, -0.5f));
    out.y = floorf(fmaxf(fminf(v.y, v.z), -1.0f));
    out.z = powi(v.z, 3) - ceilf(v.x) + powi(v.y, -2);
    ((Vec3 *)resps)[i] = out;
}

struct Word { u64 value; unsigned shift; short small; };
struct BitStats { unsigned ones, zeros, small_ones, small_zeros; u64 rotated, masked; };

BATCH(bit_stats) {
    INDEX
    Word w = ((const Word *)msgs)[i];
    BitStats s;
    u64 rotated = (w.value << (w.shift & 63)) | (w.value >> ((64u - w.shift) & 63));
    s.ones = __popcll(w.value);
    s.zeros = __clzll(w.value);
    s.small_ones = __popc((unsigned)w.small & 0xFFFF);
    s.small_zeros = __clz((unsigned)w.small & 0xFFFF) - 16;
    s.rotated = rotated;
    s.masked = (~w.value & 0xFFFF0000FFFF0000ull) ^ (u64)w.shift;
    ((BitStats *)resps)[i] = s;
}
