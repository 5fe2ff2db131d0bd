#![cfg(feature = "emulator")]
//! One ring protocol for host code and generated PTX: the persistent entry of a golden kernel
//! (`stateless_scalar`'s `echo_plus_one`), run in the PTX VM, consumes a ring the host's
//! `Producer` writes and produces into a ring the host's `Consumer` reads on its fast path
//! (polling each slot's `type_id`, never `tail`), under load. Every response must carry its
//! request's sequence and correlation, in order, with the kernel's result.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ringkernel::ring::{Consumer, Producer, Ring};
use ringkernel_codegen::abi::{
    ControlBlock, FAILED_RESPONSE_TYPE, SlotHeader, ack, error, request,
};
use ringkernel_codegen::{Options, compile_source};
use ringkernel_ptx::{Arg, Dims, Module, Vm};

const IN_TYPE: u64 = 0x51;
const OUT_TYPE: u64 = 0x52;
const MESSAGES: u64 = 50_000;

fn map(vm: &Vm, (ptr, len): (std::ptr::NonNull<u8>, usize)) -> u64 {
    // SAFETY: the ring memory is cache-line aligned and lives (held by the test's unused
    // producer/consumer halves) until after the kernel has finished and the range is unmapped;
    // the host side touches it only through the ring protocol, whose shared words are atomics
    // and whose slots are handed over by release/acquire pairs.
    unsafe { vm.map_host(ptr.as_ptr(), len).unwrap() }
}

/// Raises its flag when dropped: the reading side ends (or fails), the writing side stops.
struct RaiseOnDrop<'a>(&'a AtomicBool);

impl Drop for RaiseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

#[test]
fn a_kernel_in_the_vm_and_host_rings_speak_one_protocol() {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../ringkernel-codegen/tests/in/stateless_scalar.rs"
    ))
    .unwrap();
    let artifact = compile_source(&src, &Options::default()).unwrap().remove(0);
    let module = Module::parse(&artifact.ptx).unwrap();

    // The host keeps one end of each ring; the kernel plays the other.
    let (mut to_kernel, kernel_in): (Producer, Consumer) = Ring::create(128, 8, IN_TYPE).unwrap();
    let (kernel_out, mut from_kernel): (Producer, Consumer) =
        Ring::create(32, 8, OUT_TYPE).unwrap();
    let control = Box::new(ControlBlock::default());
    let vm = Vm::new();
    let in_addr = map(&vm, kernel_in.memory());
    let out_addr = map(&vm, kernel_out.memory());
    // SAFETY: the control block is boxed (stable, 64-byte aligned), outlives the kernel, and
    // both sides access it only through its atomics.
    let cb_addr = unsafe {
        vm.map_host(&*control as *const ControlBlock as *mut u8, size_of::<ControlBlock>()).unwrap()
    };
    let state = vm.alloc(8).unwrap();
    let args = [Arg::U64(cb_addr), Arg::U64(in_addr), Arg::U64(out_addr), Arg::U64(state)];
    let kernel = vm
        .launch_async(&module, &artifact.metadata.entries.persistent, Dims::linear(1, 32), &args)
        .unwrap();
    control.requested.store(request::RUN, Ordering::Release);

    let value = |seq: u64| seq.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let reader_done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            for seq in 0..MESSAGES {
                let header = SlotHeader {
                    type_id: IN_TYPE,
                    sequence: seq,
                    correlation: seq ^ 0xabc,
                    hlc: 0,
                };
                while !to_kernel
                    .try_push(header, |payload| payload.copy_from_slice(&value(seq).to_le_bytes()))
                {
                    if reader_done.load(Ordering::Acquire) {
                        return; // the reading side failed: stop instead of waiting forever
                    }
                    std::thread::yield_now();
                }
            }
        });
        let _stop_writer_on_failure = RaiseOnDrop(&reader_done);
        for seq in 0..MESSAGES {
            let mut got = None;
            wait_for("a response", || {
                got = from_kernel
                    .try_pop(|h, payload| (*h, u64::from_le_bytes(payload.try_into().unwrap())));
                got.is_some()
            });
            let (header, reply) = got.unwrap();
            assert_eq!(header.type_id, OUT_TYPE, "message {seq}");
            assert_eq!(header.sequence, seq, "responses out of order");
            assert_eq!(header.correlation, seq ^ 0xabc, "message {seq}: correlation");
            assert_eq!(
                reply,
                value(seq).wrapping_add(1),
                "message {seq}: a slot read before its payload was written"
            );
        }
    });
    control.requested.store(request::TERMINATE, Ordering::Release);
    kernel.wait().expect("the kernel ends when told to");
    assert_eq!(control.acknowledged.load(Ordering::Acquire), ack::TERMINATED);
    assert_eq!(control.messages_processed.load(Ordering::Acquire), MESSAGES);
    assert_eq!(control.error_count.load(Ordering::Acquire), 0);
    // The kernel freed every input slot the host protocol's way: type id cleared.
    let mut probe = kernel_in;
    assert!(!probe.has_message(), "a freed input slot still announces a message");
    for a in [in_addr, out_addr, cb_addr] {
        vm.unmap(a).unwrap();
    }
    drop(kernel_out);
}

#[test]
fn a_wrong_type_slot_is_answered_with_a_failed_response_as_on_the_cpu() {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../ringkernel-codegen/tests/in/stateless_scalar.rs"
    ))
    .unwrap();
    let artifact = compile_source(&src, &Options::default()).unwrap().remove(0);
    let module = Module::parse(&artifact.ptx).unwrap();
    let (mut to_kernel, kernel_in) = Ring::create(4, 8, IN_TYPE).unwrap();
    let (kernel_out, mut from_kernel) = Ring::create(4, 8, OUT_TYPE).unwrap();
    let control = Box::new(ControlBlock::default());
    let vm = Vm::new();
    let (in_addr, out_addr) = (map(&vm, kernel_in.memory()), map(&vm, kernel_out.memory()));
    // SAFETY: as in the test above: boxed, outlives the kernel, accessed through atomics.
    let cb_addr = unsafe {
        vm.map_host(&*control as *const ControlBlock as *mut u8, size_of::<ControlBlock>()).unwrap()
    };
    let state = vm.alloc(8).unwrap();
    let args = [Arg::U64(cb_addr), Arg::U64(in_addr), Arg::U64(out_addr), Arg::U64(state)];
    let kernel = vm
        .launch_async(&module, &artifact.metadata.entries.persistent, Dims::linear(1, 32), &args)
        .unwrap();
    control.requested.store(request::RUN, Ordering::Release);
    let slots = [(IN_TYPE + 7, 1u64, 41u64), (IN_TYPE, 2, 42)];
    for (type_id, sequence, value) in slots {
        let header = SlotHeader { type_id, sequence, correlation: sequence * 10, hlc: 0 };
        assert!(to_kernel.try_push(header, |p| p.copy_from_slice(&value.to_le_bytes())));
    }
    let mut got = Vec::new();
    wait_for("two responses", || {
        let popped = from_kernel.try_pop(|h, p| {
            (h.type_id, h.sequence, h.correlation, u64::from_le_bytes(p.try_into().unwrap()))
        });
        got.extend(popped);
        got.len() == 2
    });
    assert_eq!(
        got,
        [(FAILED_RESPONSE_TYPE, 1, 10, 0), (OUT_TYPE, 2, 20, 43)],
        "the wrong-type slot gets a failed, zeroed response; the next one is handled"
    );
    control.requested.store(request::TERMINATE, Ordering::Release);
    kernel.wait().unwrap();
    assert_eq!(control.error_count.load(Ordering::Acquire), 1);
    assert_eq!(control.error_code.load(Ordering::Acquire), error::WRONG_MESSAGE_TYPE);
    assert_eq!(control.error_sequence.load(Ordering::Acquire), 1);
    assert_eq!(control.messages_processed.load(Ordering::Acquire), 2);
    for a in [in_addr, out_addr, cb_addr] {
        vm.unmap(a).unwrap();
    }
    drop((kernel_in, kernel_out));
}
