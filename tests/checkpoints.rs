//! Checkpoints on every backend and across them: taken at a message boundary while the actor
//! runs on, written to a file, read back and restored into a new actor, which then answers the
//! same next messages exactly as the original did; a checkpoint taken on `Emulated` restores on
//! `Cpu` and the other way round. A truncated, corrupted or foreign file, or one of another
//! kernel, is an error naming what is wrong, and changes no running actor.

#[macro_use]
mod common;

use ringkernel::{
    Backend, Checkpoint, CheckpointError, RingContext, RingMessage, ring_kernel, rule,
};

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Reading {
    pub sensor: u32,
    pub value: i32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Summary {
    pub sensor: u32,
    pub count: u32,
    pub sum: i64,
    pub spread: i32,
    pub pad: u32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Sensors {
    pub counts: [u32; 8],
    pub sums: [i64; 8],
    pub lows: [i32; 8],
    pub highs: [i32; 8],
}

#[ring_kernel(id = "sensors")]
fn sensors(_ctx: &mut RingContext, s: &mut Sensors, r: Reading) -> Summary {
    let i = (r.sensor % 8) as usize;
    if s.counts[i] == 0 || r.value < s.lows[i] {
        s.lows[i] = r.value;
    }
    if s.counts[i] == 0 || r.value > s.highs[i] {
        s.highs[i] = r.value;
    }
    s.counts[i] += 1;
    s.sums[i] += r.value as i64;
    let divisor = (r.value % 5) as i64; // zero now and then: a recorded error
    Summary {
        sensor: r.sensor,
        count: s.counts[i],
        sum: s.sums[i] / divisor,
        spread: s.highs[i] - s.lows[i],
        pad: 0,
    }
}

#[ring_kernel(id = "other")]
fn other(_ctx: &mut RingContext, total: &mut Reading, r: Reading) -> Reading {
    total.value += r.value;
    *total
}

#[rule(id = "ckpt-rule", version = 1)]
fn tally_v1(_ctx: &mut RingContext, total: &mut Reading, r: Reading) -> Reading {
    total.value += r.value;
    total.sensor += 1;
    *total
}

#[rule(id = "ckpt-rule", version = 2)]
fn tally_v2(_ctx: &mut RingContext, total: &mut Reading, r: Reading) -> Reading {
    total.value += 2 * r.value;
    total.sensor += 1;
    *total
}

fn reading(i: u32) -> Reading {
    Reading { sensor: i * 7 % 11, value: (i as i32 * 7919) % 2001 - 1000 }
}

fn fresh() -> SensorsKernel {
    SensorsKernel::new(Sensors { counts: [0; 8], sums: [0; 8], lows: [0; 8], highs: [0; 8] })
}

on_every_backend!(
    a_checkpoint_round_trips_through_a_file_and_the_actor_goes_on,
    a_rule_actor_is_checkpointed_with_the_version_running
);

fn a_rule_actor_is_checkpointed_with_the_version_running(backend: Backend) {
    common::block_on(async move {
        let rt = common::runtime(backend);
        let registry = rt.rule_registry().clone();
        registry.register_rule(TallyV1Rule::compiled(), "sm_90").await.unwrap();
        let actor = rt.rule_actor::<Reading, Reading>("ckpt-rule").unwrap();
        for i in 0..20 {
            actor.call_blocking(reading(i)).unwrap();
        }
        registry.reload_rule(TallyV2Rule::compiled(), "sm_90").await.unwrap();
        for i in 20..30 {
            actor.call_blocking(reading(i)).unwrap();
        }
        let checkpoint = actor.checkpoint().unwrap();
        assert_eq!(
            (checkpoint.kernel_id.as_str(), checkpoint.version),
            ("ckpt-rule", 2),
            "{backend}"
        );
        let after: Vec<_> = (30..40).map(|i| actor.call_blocking(reading(i))).collect();
        let restored = rt.launch_restored(TallyV2Rule::default(), &checkpoint).unwrap();
        let again: Vec<_> = (30..40).map(|i| restored.call_blocking(reading(i))).collect();
        same(&again, &after, &format!("{backend}: a restored rule actor"));
        restored.terminate();
    })
}

fn a_checkpoint_round_trips_through_a_file_and_the_actor_goes_on(backend: Backend) {
    let rt = common::runtime(backend);
    let original = rt.launch(fresh()).unwrap();
    for i in 0..300 {
        original.send_blocking(reading(i)).unwrap();
    }
    for i in 0..300 {
        assert_eq!(original.receive_blocking().unwrap().value.sensor, reading(i).sensor);
    }
    let checkpoint = original.checkpoint().unwrap();
    assert_eq!((checkpoint.kernel_id.as_str(), checkpoint.version), ("sensors", 1));
    println!(
        "{backend}: checkpoint of {} state bytes, blackout {:?}",
        checkpoint.state.len(),
        checkpoint.blackout
    );
    assert_eq!(checkpoint.messages_processed, 300, "{backend}: at a message boundary, all handled");
    assert!(checkpoint.errors > 0, "{backend}: the counters come along");
    // The actor goes on after the checkpoint.
    let after: Vec<_> = (300..400).map(|i| original.call_blocking(reading(i))).collect();

    let path =
        std::env::temp_dir().join(format!("rk-checkpoint-{backend}-{}.bin", std::process::id()));
    checkpoint.write_to(std::fs::File::create(&path).unwrap()).unwrap();
    let read = Checkpoint::read_from(std::fs::File::open(&path).unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(read.state, checkpoint.state);

    let restored = rt.launch_restored(fresh(), &read).unwrap();
    let again: Vec<_> = (300..400).map(|i| restored.call_blocking(reading(i))).collect();
    same(&again, &after, &format!("{backend}: the restored actor against the original"));
    let (m, r) = (original.metrics(), restored.metrics());
    assert_eq!((m.processed, m.errors), (r.processed, r.errors), "{backend}: counters restored");
    original.terminate();
    restored.terminate();
    assert_eq!(original.final_state(), restored.final_state());
}

/// The two answer lists are equal (the first difference is reported, not both lists).
fn same<T: PartialEq + std::fmt::Debug>(got: &[T], want: &[T], context: &str) {
    assert_eq!(got.len(), want.len(), "{context}: answer counts");
    if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
        panic!("{context}: answer {i} is {:?}, expected {:?}", got[i], want[i]);
    }
}

fn run_on(
    backend: Backend,
    checkpoint: &Checkpoint,
) -> (Vec<Result<Summary, ringkernel::CallError>>, Option<Vec<u8>>) {
    let rt = common::runtime(backend);
    let restored = rt.launch_restored(fresh(), checkpoint).unwrap();
    let answers = (500..650).map(|i| restored.call_blocking(reading(i))).collect();
    restored.terminate();
    (answers, restored.final_state())
}

#[test]
fn checkpoints_move_between_the_cpu_and_the_vm() {
    for (from, to) in [(Backend::Emulated, Backend::Cpu), (Backend::Cpu, Backend::Emulated)] {
        let rt = common::runtime(from);
        let source = rt.launch(fresh()).unwrap();
        for i in 0..500 {
            source.call_blocking(reading(i)).unwrap_or_else(|e| e.faulted_value().unwrap());
        }
        let checkpoint = source.checkpoint().unwrap();
        let expected: Vec<_> = (500..650).map(|i| source.call_blocking(reading(i))).collect();
        source.terminate();
        let (answers, state) = run_on(to, &checkpoint);
        same(&answers, &expected, &format!("{from} -> {to}"));
        assert_eq!(state, source.final_state(), "{from} -> {to}: the final state differs");
    }
}

#[test]
fn bad_checkpoints_are_errors_and_change_nothing() {
    let rt = common::runtime(Backend::Cpu);
    let running = rt.launch(fresh()).unwrap();
    for i in 0..50 {
        running.call_blocking(reading(i)).ok();
    }
    let good = running.checkpoint().unwrap();
    let bytes = good.to_bytes();
    let truncated = Checkpoint::from_bytes(&bytes[..bytes.len() / 2]).unwrap_err();
    assert!(truncated.to_string().contains("truncated"), "{truncated}");
    let mut corrupted = bytes.clone();
    let at = bytes.len() - 40;
    corrupted[at] ^= 0x10;
    assert_eq!(Checkpoint::from_bytes(&corrupted), Err(CheckpointError::DigestMismatch));
    let foreign = Checkpoint::from_bytes(b"#!/bin/sh\necho not a checkpoint\n").unwrap_err();
    assert!(foreign.to_string().contains("wrong magic"), "{foreign}");
    // Another kernel's checkpoint: refused with both names and what differs.
    let theirs = rt.launch(OtherKernel::new(Reading { sensor: 0, value: 0 })).unwrap();
    let err = rt.launch_restored(fresh(), &theirs.checkpoint().unwrap()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("`other` does not fit `sensors`") && text.contains("state layout"),
        "{text}"
    );
    // Edited in memory: the digest is recomputed over what the file would hold, so the edit
    // itself passes; a state of the wrong size is refused when it is decoded.
    let mut edited = good.clone();
    edited.state.truncate(8);
    assert!(
        rt.launch_restored(fresh(), &edited).unwrap_err().to_string().contains("does not decode")
    );
    // The running actor is untouched: it answers on from where it was.
    assert_eq!(running.metrics().processed, 50);
    assert_eq!(running.checkpoint().unwrap().state, good.state);
    running.terminate();
    theirs.terminate();
}
