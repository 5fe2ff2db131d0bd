// CUDA C kernels that use what batch handlers do not: shared memory, __syncthreads, warp
// shuffles and votes, atomics. Compiled by NVRTC in ringkernel-codegen/tests/vm_nvrtc.rs and
// run in the PTX VM against the same computation in Rust.
typedef unsigned long long u64;

// Sum of x over the whole grid: per-warp shuffle reduction, per-block shared memory, one
// atomicAdd per block.
extern "C" __global__ void block_sum(const unsigned *x, unsigned n, u64 *total) {
    __shared__ unsigned warp_sums[32];
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned v = i < n ? x[i] : 0;
    for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffff, v, offset);
    unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0) warp_sums[warp] = v;
    __syncthreads();
    if (warp == 0) {
        unsigned w = lane < (blockDim.x + 31) / 32 ? warp_sums[lane] : 0;
        for (int offset = 16; offset > 0; offset /= 2) w += __shfl_down_sync(0xffffffff, w, offset);
        if (lane == 0) atomicAdd(total, (u64)w);
    }
}

// Per element: how many lanes of its warp hold an odd value (ballot + popc), its inclusive
// prefix sum within the block (shared-memory scan), and the block's maximum (atomicMax).
extern "C" __global__ void warp_stats(const unsigned *x, unsigned n, unsigned *odd_lanes,
                                      unsigned *prefix, unsigned *block_max) {
    __shared__ unsigned scan[256];
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned v = i < n ? x[i] : 0;
    unsigned ballot = __ballot_sync(0xffffffff, v & 1);
    scan[threadIdx.x] = v;
    __syncthreads();
    for (unsigned d = 1; d < blockDim.x; d *= 2) {
        unsigned add = threadIdx.x >= d ? scan[threadIdx.x - d] : 0;
        __syncthreads();
        scan[threadIdx.x] += add;
        __syncthreads();
    }
    if (i < n) {
        odd_lanes[i] = __popc(ballot);
        prefix[i] = scan[threadIdx.x];
        atomicMax(&block_max[blockIdx.x], v);
    }
}
