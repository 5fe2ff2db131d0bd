// Device-side printf (vprintf) for the PTX VM test in ringkernel-codegen/tests/vm_nvrtc.rs.
extern "C" __global__ void hello(int n) {
    printf("tid %d of %d: %5.2f %s %c %llx %u%% %-4d| %e\n", threadIdx.x, n, 1.5f * threadIdx.x,
           "ok", 'A' + threadIdx.x, 0xabcdefull, 7u, -3, 12345.678);
}
