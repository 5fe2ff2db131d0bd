//! The persistent entry of a golden kernel (`counter`), run asynchronously in the PTX VM
//! against rings and a control block in mapped host memory: a host thread pushes 100,000
//! numbered messages, the main thread reads every response, quiesces the kernel while the
//! producer keeps pushing, resumes it and finally terminates it. Nothing may be lost or
//! duplicated, order is kept, every response equals native Rust's, and the control block's
//! counters and acknowledgements are right.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use ringkernel_codegen::abi::offsets::*;
use ringkernel_codegen::abi::{RingGeometry, ack, request};
use ringkernel_codegen::{Options, compile_source};
use ringkernel_ptx::{Arg, Dims, Module, Vm};

/// Host memory accessed only through atomics, as the VM accesses it.
struct Shared {
    words: Box<[AtomicU64]>,
}

impl Shared {
    fn new(bytes: usize) -> Shared {
        Shared { words: (0..bytes.div_ceil(8)).map(|_| AtomicU64::new(0)).collect() }
    }
    fn word(&self, offset: u32) -> &AtomicU64 {
        &self.words[offset as usize / 8]
    }
    fn load(&self, offset: u32, order: Ordering) -> u64 {
        self.word(offset).load(order)
    }
    fn store(&self, offset: u32, value: u64, order: Ordering) {
        self.word(offset).store(value, order)
    }
    fn u32_at(&self, offset: u32, order: Ordering) -> u32 {
        (self.load(offset & !7, order) >> (8 * (offset & 7))) as u32
    }
    fn write_bytes(&self, offset: u32, bytes: &[u8]) {
        for (i, chunk) in bytes.chunks(8).enumerate() {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.store(offset + 8 * i as u32, u64::from_le_bytes(w), Ordering::Relaxed);
        }
    }
    fn read_bytes(&self, offset: u32, len: usize) -> Vec<u8> {
        (0..len.div_ceil(8))
            .flat_map(|i| self.load(offset + 8 * i as u32, Ordering::Relaxed).to_le_bytes())
            .take(len)
            .collect()
    }
    fn map(&self, vm: &Vm) -> u64 {
        // SAFETY: the buffer lives until the end of the test, after the launch has finished
        // and the range is unmapped; every access to it, here and in the VM, is atomic.
        unsafe { vm.map_host(self.words.as_ptr() as *mut u8, self.words.len() * 8).unwrap() }
    }
}

fn ring(geometry: RingGeometry, type_id: u64) -> Shared {
    let r = Shared::new(geometry.total_bytes() as usize);
    r.store(
        Q_CAPACITY,
        u64::from(geometry.capacity) | u64::from(geometry.slot_size) << 32,
        Ordering::Relaxed,
    );
    r.store(Q_TYPE_ID, type_id, Ordering::Relaxed);
    r
}

fn slot(geometry: RingGeometry, index: u64) -> u32 {
    Q_SLOTS + (index % u64::from(geometry.capacity)) as u32 * geometry.slot_size
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

#[test]
fn the_persistent_entry_serves_100k_messages_through_mapped_rings() {
    const MESSAGES: u64 = 100_000;
    const IN_TYPE: u64 = 0x1111;
    const OUT_TYPE: u64 = 0x2222;
    let h = handler("counter", "count");
    let artifacts = compile_source(&h.source, &Options::default()).unwrap();
    let artifact = &artifacts[0];
    let module = Module::parse(&artifact.ptx).unwrap();
    let msg_size = h.module.size_of(&h.msg_ty);
    let resp_size = h.module.size_of(&h.ret_ty);
    let state_size = h.module.size_of(h.state_ty.as_ref().unwrap());
    let in_geo = RingGeometry::new(256, msg_size).unwrap();
    let out_geo = RingGeometry::new(64, resp_size).unwrap();
    let (input, output, cb) = (ring(in_geo, IN_TYPE), ring(out_geo, OUT_TYPE), Shared::new(128));

    let vm = Vm::new();
    let (in_addr, out_addr, cb_addr) = (input.map(&vm), output.map(&vm), cb.map(&vm));
    let state_addr = vm.alloc(state_size as usize).unwrap();
    let dims = Dims::linear(artifact.metadata.actor.grid_size, artifact.metadata.actor.block_size);
    let args = [Arg::U64(cb_addr), Arg::U64(in_addr), Arg::U64(out_addr), Arg::U64(state_addr)];
    let kernel =
        vm.launch_async(&module, &artifact.metadata.entries.persistent, dims, &args).unwrap();
    cb.store(CB_REQUESTED, u64::from(request::RUN), Ordering::Release);

    // The messages and what native Rust answers, in order, from a zero state.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut native_state: native::counter::Totals = from_bytes(&vec![0u8; state_size as usize]);
    let mut messages = Vec::with_capacity(MESSAGES as usize);
    let mut expected = Vec::with_capacity(MESSAGES as usize);
    for seq in 0..MESSAGES {
        let amount = (rng.next() % 2001) as i64 - 1000;
        let w = rng.next();
        let msg = native::counter::Add {
            amount,
            weights: [w as u16 % 300, (w >> 16) as u16 % 300, (w >> 32) as u16 % 300, 7],
        };
        let mut ctx = RingContext { seq, clock: 0, slot: 0 };
        let reply = native::counter::count(&mut ctx, &mut native_state, msg);
        messages.push(to_bytes(msg, &h.module, &h.msg_ty));
        expected.push(to_bytes(reply, &h.module, &h.ret_ty));
    }

    std::thread::scope(|s| {
        s.spawn(|| {
            for (seq, msg) in messages.iter().enumerate() {
                let seq = seq as u64;
                wait_for("room in the input ring", || {
                    seq - input.load(Q_HEAD, Ordering::Acquire) < u64::from(in_geo.capacity)
                });
                let at = slot(in_geo, seq);
                input.store(at + SLOT_TYPE_ID, IN_TYPE, Ordering::Relaxed);
                input.store(at + SLOT_SEQUENCE, seq, Ordering::Relaxed);
                input.store(at + SLOT_CORRELATION, seq + 1, Ordering::Relaxed);
                input.write_bytes(at + SLOT_PAYLOAD, msg);
                input.store(Q_TAIL, seq + 1, Ordering::Release);
            }
        });
        let mut last_hlc = 0;
        for seq in 0..MESSAGES {
            if seq == MESSAGES / 3 {
                // Quiesce while the producer keeps going: the kernel stops at a message
                // boundary, acknowledges, and handles nothing until resumed.
                cb.store(CB_REQUESTED, u64::from(request::QUIESCE), Ordering::Release);
                wait_for("the quiesce acknowledgement", || {
                    cb.u32_at(CB_ACKNOWLEDGED, Ordering::Acquire) == ack::QUIESCED
                });
                let processed = cb.load(CB_MESSAGES_PROCESSED, Ordering::Acquire);
                std::thread::sleep(Duration::from_millis(20));
                assert_eq!(
                    cb.load(CB_MESSAGES_PROCESSED, Ordering::Acquire),
                    processed,
                    "a quiesced kernel handled messages"
                );
                cb.store(CB_REQUESTED, u64::from(request::RUN), Ordering::Release);
                wait_for("the run acknowledgement", || {
                    cb.u32_at(CB_ACKNOWLEDGED, Ordering::Acquire) == ack::RUNNING
                });
            }
            wait_for("a response", || output.load(Q_TAIL, Ordering::Acquire) > seq);
            let at = slot(out_geo, seq);
            assert_eq!(output.load(at + SLOT_TYPE_ID, Ordering::Relaxed), OUT_TYPE);
            assert_eq!(
                output.load(at + SLOT_SEQUENCE, Ordering::Relaxed),
                seq,
                "responses out of order"
            );
            assert_eq!(output.load(at + SLOT_CORRELATION, Ordering::Relaxed), seq + 1);
            let hlc = output.load(at + SLOT_HLC, Ordering::Relaxed);
            assert!(hlc > last_hlc, "the clock did not advance at message {seq}");
            last_hlc = hlc;
            let response = output.read_bytes(at + SLOT_PAYLOAD, resp_size as usize);
            same(&h.module, &h.ret_ty, &response, &expected[seq as usize])
                .unwrap_or_else(|e| panic!("message {seq}: {e}"));
            output.store(Q_HEAD, seq + 1, Ordering::Release);
        }
    });

    cb.store(CB_REQUESTED, u64::from(request::TERMINATE), Ordering::Release);
    let stats = kernel.wait().expect("the persistent kernel ends cleanly when told to");
    assert_eq!(cb.u32_at(CB_ACKNOWLEDGED, Ordering::Acquire), ack::TERMINATED);
    assert_eq!(cb.load(CB_MESSAGES_PROCESSED, Ordering::Acquire), MESSAGES);
    assert_eq!(cb.u32_at(CB_ERROR_COUNT, Ordering::Acquire), 0);
    assert_eq!(input.load(Q_HEAD, Ordering::Acquire), MESSAGES, "input not fully consumed");
    assert_eq!(output.load(Q_TAIL, Ordering::Acquire), MESSAGES, "extra responses");
    let mut state = vec![0u8; state_size as usize];
    vm.read(state_addr, &mut state).unwrap();
    same(
        &h.module,
        h.state_ty.as_ref().unwrap(),
        &state,
        &to_bytes(native_state, &h.module, h.state_ty.as_ref().unwrap()),
    )
    .unwrap_or_else(|e| panic!("final state: {e}"));
    for a in [in_addr, out_addr, cb_addr] {
        vm.unmap(a).unwrap();
    }
    println!("{} instructions for {MESSAGES} messages in {:?}", stats.instructions, stats.elapsed);
}
