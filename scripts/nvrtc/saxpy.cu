// SAXPY for the PTX VM benchmark (ringkernel-ptx/benches/vm.rs): the kernel both our VM and
// ptoxide run. Regenerate the checked-in PTX with
//   python3 scripts/nvrtc/nvrtc_ptx.py scripts/nvrtc/saxpy.cu sm_70 --fmad=true > ringkernel-ptx/benches/saxpy.ptx
// (--fmad=true: NVRTC then writes one fma.rn.f32, which ptoxide can parse; it cannot parse
// the mul.rn.f32/add.rn.f32 pair that --fmad=false gives.)
extern "C" __global__ void saxpy(float a, const float *x, float *y, unsigned long long n) {
    unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
