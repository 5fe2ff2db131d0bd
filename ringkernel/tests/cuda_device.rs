#![cfg(feature = "cuda")]
//! The CUDA device on a machine without a GPU or driver: opening it is an error value naming
//! what is missing, never a panic. On a machine with a GPU it opens and runs a kernel that
//! writes through mapped memory (the rest of the CUDA checks are in `scripts/gpu/check.sh`).

use std::sync::atomic::{AtomicU32, Ordering};

use ringkernel::device::{CudaDevice, Device, DeviceError, LaunchShape};

const PTX: &str = ".version 7.0\n.target sm_70\n.address_size 64\n\
    .visible .entry put(.param .u64 p, .param .u32 v) {\n\
    .reg .b32 %r1; .reg .b64 %rd1;\n\
    ld.param.u64 %rd1, [p]; ld.param.u32 %r1, [v];\n\
    st.volatile.global.u32 [%rd1], %r1; ret; }";

#[test]
fn opening_a_cuda_device_is_an_error_value_without_a_gpu_and_works_with_one() {
    let device = match CudaDevice::new(0) {
        Err(DeviceError::NoDriver(why)) | Err(DeviceError::NoDevice(why)) => {
            println!("skipped the GPU part: {why}");
            assert!(!why.is_empty());
            return;
        }
        Err(other) => panic!("unexpected error opening the GPU: {other}"),
        Ok(device) => device,
    };
    println!("running on {}", device.name());
    let module = device.load_module(PTX).unwrap();
    assert!(matches!(device.load_module("not ptx"), Err(DeviceError::Load(_))));
    let put = device.function(module, "put").unwrap();
    let mapped = device.alloc_mapped(64).unwrap();
    let launch =
        device.launch(put, LaunchShape::linear(1, 1), &[mapped.device_address(), 1234]).unwrap();
    device.wait(launch).unwrap();
    // SAFETY: inside the mapping, aligned; the kernel has finished.
    let word = unsafe { &*mapped.host_ptr().cast::<AtomicU32>() };
    assert_eq!(word.load(Ordering::Acquire), 1234);
    device.unload(module).unwrap();
}
