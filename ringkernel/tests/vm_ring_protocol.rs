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
    ControlBlock, FAILED_RESPONSE_TYPE, SlotHeader, ack, error, policy, request,
};
use ringkernel_codegen::{Options, compile_source};
use ringkernel_ptx::{Arg, Dims, LaunchHandle, Module, Vm};

const IN_TYPE: u64 = 0x51;
const OUT_TYPE: u64 = 0x52;
const MESSAGES: u64 = 50_000;

/// The golden `echo_plus_one` kernel's persistent entry running in a VM, with the host
/// holding one end of each ring (`to_kernel`, `from_kernel`) and the kernel the other (the
/// kernel's input half is kept to probe freed slots; a ring lives while either half does).
struct Echo {
    // First, so that a failing test's drop cancels and joins the kernel before the rings and
    // the control block it reads go.
    kernel: Option<LaunchHandle>,
    to_kernel: Producer,
    from_kernel: Consumer,
    kernel_in: Consumer,
    control: Box<ControlBlock>,
    vm: Vm,
    mapped: [u64; 3],
}

impl Echo {
    /// Compiles the kernel, maps rings of these capacities and the control block, launches the
    /// persistent entry and tells it to run.
    fn launch(in_capacity: u32, out_capacity: u32) -> Echo {
        Echo::launch_with(in_capacity, out_capacity, None)
    }

    /// `launch`, with an access policy `(tenant, required bits)` written before `RUN`.
    fn launch_with(in_capacity: u32, out_capacity: u32, access: Option<(u64, u32)>) -> Echo {
        let src = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../ringkernel-codegen/tests/in/stateless_scalar.rs"
        ))
        .unwrap();
        let artifact = compile_source(&src, &Options::default()).unwrap().remove(0);
        let module = Module::parse(&artifact.ptx).unwrap();
        let (to_kernel, kernel_in) = Ring::create(in_capacity, 8, IN_TYPE).unwrap();
        let (kernel_out, from_kernel) = Ring::create(out_capacity, 8, OUT_TYPE).unwrap();
        let control = Box::new(ControlBlock::default());
        let vm = Vm::new();
        let (in_addr, out_addr) = (map(&vm, kernel_in.memory()), map(&vm, kernel_out.memory()));
        // SAFETY: the control block is boxed (stable, 64-byte aligned), outlives the kernel
        // (see the field order), and both sides access it only through its atomics.
        let cb_addr = unsafe {
            vm.map_host(&*control as *const ControlBlock as *mut u8, size_of::<ControlBlock>())
                .unwrap()
        };
        let state = vm.alloc(8).unwrap();
        let args = [Arg::U64(cb_addr), Arg::U64(in_addr), Arg::U64(out_addr), Arg::U64(state)];
        let entry = &artifact.metadata.entries.persistent;
        let kernel = vm.launch_async(&module, entry, Dims::linear(1, 32), &args).unwrap();
        if let Some((tenant, required)) = access {
            control.policy_tenant.store(tenant, Ordering::Relaxed);
            control.policy_required.store(required, Ordering::Relaxed);
            control.policy_flags.store(policy::ENFORCED, Ordering::Relaxed);
        }
        control.requested.store(request::RUN, Ordering::Release);
        Echo {
            kernel: Some(kernel),
            to_kernel,
            from_kernel,
            kernel_in,
            control,
            vm,
            mapped: [in_addr, out_addr, cb_addr],
        }
    }

    /// Tells the kernel to terminate, waits for it and unmaps what it saw; the control block
    /// and the rings stay for inspection.
    fn stop(&mut self) {
        self.control.requested.store(request::TERMINATE, Ordering::Release);
        if let Some(kernel) = self.kernel.take() {
            kernel.wait().expect("the kernel ends when told to");
        }
        for address in self.mapped {
            self.vm.unmap(address).unwrap();
        }
    }
}

fn map(vm: &Vm, (ptr, len): (std::ptr::NonNull<u8>, usize)) -> u64 {
    // SAFETY: the ring memory is cache-line aligned and lives (held by the test's halves of
    // the ring) until after the kernel has finished and the range is unmapped;
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
    let mut echo = Echo::launch(128, 32);
    let Echo { to_kernel, from_kernel, .. } = &mut echo;
    let value = |seq: u64| seq.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let reader_done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            for seq in 0..MESSAGES {
                let header = SlotHeader {
                    type_id: IN_TYPE,
                    sequence: seq,
                    correlation: seq ^ 0xabc,
                    tenant: seq % 3,
                    sender: (seq % 5) as u16,
                    ..SlotHeader::default()
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
            assert_eq!((header.tenant, header.sender), (seq % 3, (seq % 5) as u16), "sender");
            assert_eq!(header.fault, 0, "message {seq}: no fault");
            assert_eq!(
                reply,
                value(seq).wrapping_add(1),
                "message {seq}: a slot read before its payload was written"
            );
        }
    });
    echo.stop();
    let control = &echo.control;
    assert_eq!(control.acknowledged.load(Ordering::Acquire), ack::TERMINATED);
    assert_eq!(control.messages_processed.load(Ordering::Acquire), MESSAGES);
    assert_eq!(control.error_count.load(Ordering::Acquire), 0);
    // The kernel freed every input slot the host protocol's way: type id cleared.
    assert!(!echo.kernel_in.has_message(), "a freed input slot still announces a message");
}

#[test]
fn a_wrong_type_slot_is_answered_with_a_failed_response_as_on_the_cpu() {
    let mut echo = Echo::launch(4, 4);
    let Echo { to_kernel, from_kernel, .. } = &mut echo;
    let slots = [(IN_TYPE + 7, 1u64, 41u64), (IN_TYPE, 2, 42)];
    for (type_id, sequence, value) in slots {
        let header =
            SlotHeader { type_id, sequence, correlation: sequence * 10, ..SlotHeader::default() };
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
    echo.stop();
    let control = &echo.control;
    assert_eq!(control.error_count.load(Ordering::Acquire), 1);
    assert_eq!(control.error_code.load(Ordering::Acquire), error::WRONG_MESSAGE_TYPE);
    assert_eq!(control.error_sequence.load(Ordering::Acquire), 1);
    assert_eq!(control.messages_processed.load(Ordering::Acquire), 2);
}

#[test]
fn the_access_policy_is_checked_before_the_handler_and_refusals_are_answered() {
    // Tenant 5 with both permission bits; anything less is refused before the handler.
    let mut echo = Echo::launch_with(8, 8, Some((5, 0b11)));
    let Echo { to_kernel, from_kernel, .. } = &mut echo;
    let slots: [(u64, u64, u32); 6] = [
        (IN_TYPE, 5, 0b11),
        (IN_TYPE, 5, 0b01),
        (IN_TYPE, 4, 0b11),
        (IN_TYPE, 0, 0),
        (IN_TYPE + 1, 5, 0b111),
        (IN_TYPE, 5, 0b111),
    ];
    for (sequence, (type_id, tenant, permissions)) in slots.into_iter().enumerate() {
        let sequence = sequence as u64;
        let header = SlotHeader {
            type_id,
            sequence,
            correlation: sequence + 100,
            tenant,
            permissions,
            ..SlotHeader::default()
        };
        assert!(to_kernel.try_push(header, |p| p.copy_from_slice(&sequence.to_le_bytes())));
    }
    let mut got = Vec::new();
    wait_for("six responses", || {
        let popped = from_kernel.try_pop(|h, p| {
            (h.type_id, h.correlation, h.tenant, h.fault, u64::from_le_bytes(p.try_into().unwrap()))
        });
        got.extend(popped);
        got.len() == 6
    });
    let refused = |correlation, tenant| {
        (FAILED_RESPONSE_TYPE, correlation, tenant, error::UNAUTHORIZED as u16, 0)
    };
    assert_eq!(
        got,
        [
            (OUT_TYPE, 100, 5, 0, 1),
            refused(101, 5),
            refused(102, 4),
            refused(103, 0),
            (FAILED_RESPONSE_TYPE, 104, 5, error::WRONG_MESSAGE_TYPE as u16, 0),
            (OUT_TYPE, 105, 5, 0, 6),
        ]
    );
    echo.stop();
    let control = &echo.control;
    assert_eq!(control.messages_refused.load(Ordering::Acquire), 3);
    assert_eq!(control.error_count.load(Ordering::Acquire), 4);
    assert_eq!(control.error_code.load(Ordering::Acquire), error::UNAUTHORIZED);
    assert_eq!(control.messages_processed.load(Ordering::Acquire), 6);
}

#[test]
fn a_fault_from_a_stage_before_is_kept_and_a_failed_message_is_passed_on() {
    // As a pipeline's second stage sees them: a message carrying the first stage's fault, and
    // a failed one (no value). The first is handled and keeps its fault; the second is passed
    // on failed, its fault kept, neither handled nor counted again.
    let mut echo = Echo::launch(4, 4);
    let Echo { to_kernel, from_kernel, .. } = &mut echo;
    let slots = [
        (IN_TYPE, 1u64, error::DIVISION_BY_ZERO as u16, 41u64),
        (FAILED_RESPONSE_TYPE, 2, error::BUDGET_EXHAUSTED as u16, 0),
        (IN_TYPE, 3, 0, 42),
    ];
    for (type_id, sequence, fault, value) in slots {
        let header =
            SlotHeader { type_id, sequence, correlation: sequence, fault, ..SlotHeader::default() };
        assert!(to_kernel.try_push(header, |p| p.copy_from_slice(&value.to_le_bytes())));
    }
    let mut got = Vec::new();
    wait_for("three responses", || {
        let popped = from_kernel.try_pop(|h, p| {
            (h.type_id, h.sequence, h.fault, u64::from_le_bytes(p.try_into().unwrap()))
        });
        got.extend(popped);
        got.len() == 3
    });
    assert_eq!(
        got,
        [
            (OUT_TYPE, 1, error::DIVISION_BY_ZERO as u16, 42),
            (FAILED_RESPONSE_TYPE, 2, error::BUDGET_EXHAUSTED as u16, 0),
            (OUT_TYPE, 3, 0, 43),
        ]
    );
    echo.stop();
    let control = &echo.control;
    assert_eq!(control.error_count.load(Ordering::Acquire), 0, "nothing happened here");
    assert_eq!(control.messages_processed.load(Ordering::Acquire), 3);
}
