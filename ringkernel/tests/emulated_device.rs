#![cfg(feature = "emulator")]
//! The device layer on the emulated device: mapped host memory a kernel reads and writes
//! while the host watches, device memory, module load errors with the parser's message, entry
//! lookup, asynchronous launches with raw parameters, completion and faults as values.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use ringkernel::device::{Device, DeviceError, EmulatedDevice, LaunchShape, LaunchState};

const PTX: &str = "
.version 7.0
.target sm_70
.address_size 64
// Waits until flag (word 0) is nonzero, then writes flag + n into word 1 and its value
// + 1 into the device word at dev.
.visible .entry echo(.param .u64 mapped, .param .u64 dev, .param .u32 n)
{
    .reg .pred %p1; .reg .b32 %r<5>; .reg .b64 %rd<3>;
    ld.param.u64 %rd1, [mapped];
    ld.param.u64 %rd2, [dev];
    ld.param.u32 %r2, [n];
WAIT:
    ld.acquire.sys.u32 %r1, [%rd1];
    setp.eq.u32 %p1, %r1, 0;
    @%p1 nanosleep.u32 100;
    @%p1 bra WAIT;
    add.u32 %r3, %r1, %r2;
    st.release.sys.u32 [%rd1+4], %r3;
    ld.global.u32 %r4, [%rd2];
    add.u32 %r4, %r4, 1;
    st.global.u32 [%rd2], %r4;
    ret;
}
.visible .entry wild(.param .u64 p) { .reg .b64 %rd1; ld.param.u64 %rd1, [p]; st.global.u32 [%rd1], 1; ret; }
";

fn word(memory: &ringkernel::device::MappedMemory, index: usize) -> &AtomicU32 {
    assert!(4 * (index + 1) <= memory.len());
    // SAFETY: inside the mapping, 4-byte aligned (the mapping is 64-byte aligned); the
    // kernel accesses these words atomically too.
    unsafe { &*memory.host_ptr().cast::<AtomicU32>().add(index) }
}

#[test]
fn a_kernel_and_the_host_share_mapped_memory_through_the_device_layer() {
    let device = EmulatedDevice::new();
    assert!(device.name().contains("PTX VM"));
    let module = device.load_module(PTX).unwrap();
    let echo = device.function(module, "echo").unwrap();
    let mapped = device.alloc_mapped(64).unwrap();
    assert_eq!(mapped.device_address() % 64, 0);
    let dev = device.alloc(4).unwrap();
    device.write(dev, &41u32.to_le_bytes()).unwrap();

    let launch = device
        .launch(echo, LaunchShape::linear(1, 1), &[mapped.device_address(), dev, 1000])
        .unwrap();
    std::thread::sleep(Duration::from_millis(10));
    assert_eq!(device.poll(launch), Ok(LaunchState::Running), "the kernel waits for the flag");
    word(&mapped, 0).store(7, Ordering::Release);
    let start = Instant::now();
    while device.poll(launch) == Ok(LaunchState::Running) {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::yield_now();
    }
    assert_eq!(device.poll(launch), Ok(LaunchState::Finished), "a finished launch stays finished");
    device.wait(launch).unwrap();
    assert_eq!(device.poll(launch), Err(DeviceError::UnknownHandle("launch")), "wait released it");
    assert_eq!(word(&mapped, 1).load(Ordering::Acquire), 1007);
    let mut out = [0u8; 4];
    device.read(dev, &mut out).unwrap();
    assert_eq!(u32::from_le_bytes(out), 42);
    device.free(dev).unwrap();
    device.unload(module).unwrap();
    assert_eq!(device.function(module, "echo"), Err(DeviceError::UnknownHandle("module")));
}

#[test]
fn every_failure_is_an_error_value_with_the_devices_message() {
    let device = EmulatedDevice::new();
    match device
        .load_module(".version 7.0\n.target sm_70\n.address_size 64\n.visible .entry k() { frob; }")
    {
        Err(DeviceError::Load(message)) => assert!(message.contains("frob"), "{message}"),
        other => panic!("{other:?}"),
    }
    let module = device.load_module(PTX).unwrap();
    assert_eq!(
        device.function(module, "nope"),
        Err(DeviceError::NoFunction { name: "nope".into() })
    );
    let wild = device.function(module, "wild").unwrap();
    assert!(matches!(
        device.launch(wild, LaunchShape::linear(1, 1), &[]),
        Err(DeviceError::Launch(_))
    ));
    assert!(matches!(
        device.launch(wild, LaunchShape::linear(0, 1), &[0]),
        Err(DeviceError::Launch(_))
    ));
    let launch = device.launch(wild, LaunchShape::linear(1, 1), &[16]).unwrap();
    match device.wait(launch) {
        Err(DeviceError::Fault(message)) => {
            assert!(message.contains("illegal address 0x10"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(device.alloc_mapped(0), Err(DeviceError::Memory(_))));
    assert!(matches!(device.read(8, &mut [0u8; 4]), Err(DeviceError::Memory(_))));
    assert_eq!(device.unload(module), Ok(()));
    assert_eq!(device.unload(module), Err(DeviceError::UnknownHandle("module")));
}
