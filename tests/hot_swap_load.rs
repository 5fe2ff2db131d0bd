//! Hot swap under load on every backend (`Cpu`: host threads; `Emulated`: persistent kernels
//! in the PTX VM, relaunched on the same rings and state at each swap; `Cuda` on a GPU):
//! producers stream numbered messages while rule versions are reloaded and rolled back about
//! two hundred times. Every response carries the
//! version that handled it and the state's running count. Checked: no message lost or
//! duplicated, per-stream order kept, versions seen are the activated ones in activation
//! order, and the state carried across every swap (the count runs 1..=N with no reset).
//!
//! A second test swaps a PTX-only artifact (compiled here at run time, so the binary has no
//! host implementation of it) into the running actor and back, under load.
//!
//! The 20 versions are written out because build.rs compiles what it reads in the source.

#[macro_use]
mod common;

use std::collections::HashMap;
use std::time::Duration;

use ringkernel::rules::CompiledRule;
use ringkernel::rules::SwapKind;
use ringkernel::{Backend, RingContext, RingMessage, rule};

on_every_backend!(
    hot_swaps_under_load_lose_nothing_and_keep_order_and_state,
    a_ptx_only_version_takes_over_a_running_actor_and_hands_it_back,
);

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Tagged {
    pub stream: u32,
    pub seq: u32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Stamped {
    pub stream: u32,
    pub seq: u32,
    pub version: u32,
    pub count: u64,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct LoadState {
    pub count: u64,
}

#[rule(id = "load", version = 1)]
fn load_v1(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 1, count: s.count }
}

#[rule(id = "load", version = 2)]
fn load_v2(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 2, count: s.count }
}

#[rule(id = "load", version = 3)]
fn load_v3(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 3, count: s.count }
}

#[rule(id = "load", version = 4)]
fn load_v4(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 4, count: s.count }
}

#[rule(id = "load", version = 5)]
fn load_v5(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 5, count: s.count }
}

#[rule(id = "load", version = 6)]
fn load_v6(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 6, count: s.count }
}

#[rule(id = "load", version = 7)]
fn load_v7(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 7, count: s.count }
}

#[rule(id = "load", version = 8)]
fn load_v8(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 8, count: s.count }
}

#[rule(id = "load", version = 9)]
fn load_v9(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 9, count: s.count }
}

#[rule(id = "load", version = 10)]
fn load_v10(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 10, count: s.count }
}

#[rule(id = "load", version = 11)]
fn load_v11(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 11, count: s.count }
}

#[rule(id = "load", version = 12)]
fn load_v12(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 12, count: s.count }
}

#[rule(id = "load", version = 13)]
fn load_v13(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 13, count: s.count }
}

#[rule(id = "load", version = 14)]
fn load_v14(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 14, count: s.count }
}

#[rule(id = "load", version = 15)]
fn load_v15(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 15, count: s.count }
}

#[rule(id = "load", version = 16)]
fn load_v16(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 16, count: s.count }
}

#[rule(id = "load", version = 17)]
fn load_v17(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 17, count: s.count }
}

#[rule(id = "load", version = 18)]
fn load_v18(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 18, count: s.count }
}

#[rule(id = "load", version = 19)]
fn load_v19(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 19, count: s.count }
}

#[rule(id = "load", version = 20)]
fn load_v20(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 20, count: s.count }
}

fn compiled(version: u64) -> ringkernel::rules::CompiledRule {
    let all = [
        LoadV1Rule::compiled,
        LoadV2Rule::compiled,
        LoadV3Rule::compiled,
        LoadV4Rule::compiled,
        LoadV5Rule::compiled,
        LoadV6Rule::compiled,
        LoadV7Rule::compiled,
        LoadV8Rule::compiled,
        LoadV9Rule::compiled,
        LoadV10Rule::compiled,
        LoadV11Rule::compiled,
        LoadV12Rule::compiled,
        LoadV13Rule::compiled,
        LoadV14Rule::compiled,
        LoadV15Rule::compiled,
        LoadV16Rule::compiled,
        LoadV17Rule::compiled,
        LoadV18Rule::compiled,
        LoadV19Rule::compiled,
        LoadV20Rule::compiled,
    ];
    all[version as usize - 1]()
}

const STREAMS: u32 = 3;
const PER_STREAM: u32 = 20_000;

fn hot_swaps_under_load_lose_nothing_and_keep_order_and_state(backend: Backend) {
    common::block_on(hot_swaps_under_load(backend));
}

async fn hot_swaps_under_load(backend: Backend) {
    let rt = ringkernel::Runtime::builder().backend(backend).max_history(32).build().unwrap();
    let registry = rt.rule_registry().clone();
    registry.register_rule(compiled(1), "sm_90").await.unwrap();
    let handle = rt.rule_actor::<Tagged, Stamped>("load").unwrap();

    let producers: Vec<_> = (0..STREAMS)
        .map(|stream| {
            let handle = handle.clone();
            std::thread::spawn(move || {
                for seq in 0..PER_STREAM {
                    handle.send_blocking(Tagged { stream, seq }).unwrap();
                }
            })
        })
        .collect();
    let consumer = {
        let handle = handle.clone();
        std::thread::spawn(move || {
            (0..STREAMS * PER_STREAM)
                .map(|_| handle.receive_blocking().unwrap().value)
                .collect::<Vec<_>>()
        })
    };

    // Reload each new version, then roll back through every older one, while messages flow.
    let mut activations = vec![1u32];
    let mut swaps = 0;
    let mut blackouts = Vec::new();
    for next in 2..=20u64 {
        let report = registry.reload_rule(compiled(next), "sm_90").await.unwrap();
        assert_eq!((report.kind, report.to_version), (SwapKind::Reload, next));
        activations.push(next as u32);
        blackouts.push(report.blackout());
        swaps += 1;
        for target in (1..next).rev() {
            let report = registry.rollback_rule("load", target).await.unwrap();
            activations.push(target as u32);
            blackouts.push(report.blackout());
            swaps += 1;
            tokio::time::sleep(Duration::from_micros(50)).await;
        }
    }
    for producer in producers {
        producer.join().unwrap();
    }
    let responses = consumer.join().unwrap();
    assert!(swaps >= 200, "only {swaps} swaps");

    // Nothing lost, nothing duplicated, per-stream order kept.
    assert_eq!(responses.len() as u32, STREAMS * PER_STREAM);
    let mut next_seq: HashMap<u32, u32> = HashMap::new();
    for r in &responses {
        let expected = next_seq.entry(r.stream).or_insert(0);
        assert_eq!(r.seq, *expected, "stream {} out of order or lost/duplicated", r.stream);
        *expected += 1;
    }
    // The state was carried across every swap: the running count never resets or repeats.
    for (i, r) in responses.iter().enumerate() {
        assert_eq!(r.count, i as u64 + 1, "state lost at response {i} (version {})", r.version);
    }
    // Versions seen are the activated ones, in activation order.
    let mut epoch = 0;
    for (i, r) in responses.iter().enumerate() {
        while activations[epoch] != r.version {
            epoch += 1;
            assert!(
                epoch < activations.len(),
                "response {i} from v{} is out of activation order",
                r.version
            );
        }
    }
    let distinct_epochs = responses.windows(2).filter(|w| w[0].version != w[1].version).count();
    blackouts.sort();
    println!(
        "{backend}: {} messages, {swaps} swaps, {distinct_epochs} version changes seen in the stream, blackout p50 {:?} p99 {:?}",
        responses.len(),
        blackouts[blackouts.len() / 2],
        blackouts[blackouts.len() * 99 / 100]
    );
    assert!(distinct_epochs > 0, "no swap happened while messages flowed");
    handle.terminate();
}

/// Version 21 of `load`, compiled from source at run time: a PTX-only artifact, as another
/// tool would deliver it (no `#[rule]` in this binary has its digest).
fn external_v21() -> CompiledRule {
    let source = r#"
        #[derive(RingMessage)] #[repr(C)] pub struct Tagged { pub stream: u32, pub seq: u32 }
        #[derive(RingMessage)] #[repr(C)]
        pub struct Stamped { pub stream: u32, pub seq: u32, pub version: u32, pub count: u64 }
        #[derive(RingMessage)] #[repr(C)] pub struct LoadState { pub count: u64 }
        #[rule(id = "load", version = 21)]
        fn load_v21(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
            s.count += 1;
            Stamped { stream: m.stream, seq: m.seq, version: 21, count: s.count }
        }
    "#;
    let options = ringkernel_codegen::Options::default();
    let artifact = ringkernel_codegen::compile_source(source, &options).unwrap().remove(0);
    let rule = CompiledRule::from_artifact(&artifact);
    assert!(ringkernel::rules::find_host_rule(&rule).is_none(), "v21 must be PTX-only");
    rule
}

fn a_ptx_only_version_takes_over_a_running_actor_and_hands_it_back(backend: Backend) {
    common::block_on(async move {
        let rt = common::runtime(backend);
        let registry = rt.rule_registry().clone();
        registry.register_rule(compiled(1), "sm_90").await.unwrap();
        let handle = rt.rule_actor::<Tagged, Stamped>("load").unwrap();
        // A stream runs throughout (its responses drained as they come, or the full output
        // ring would hold the calls' responses back); calls between the swaps pin down who
        // answered.
        let stream = {
            let handle = handle.clone();
            std::thread::spawn(move || {
                for seq in 0..3_000 {
                    handle.send_blocking(Tagged { stream: 9, seq }).unwrap();
                }
            })
        };
        let drain = {
            let handle = handle.clone();
            std::thread::spawn(move || {
                (0..3_000).map(|_| handle.receive_blocking().unwrap().value).collect::<Vec<_>>()
            })
        };
        let call = |seq| handle.call_blocking(Tagged { stream: 1, seq }).unwrap();
        assert_eq!(call(0).version, 1);
        let report = registry.reload_rule(external_v21(), "sm_90").await.unwrap();
        assert_eq!(report.to_version, 21);
        let answered = call(1);
        assert_eq!(answered.version, 21, "the PTX-only version answers after the swap");
        registry.rollback_rule("load", 1).await.unwrap();
        assert_eq!(call(2).version, 1, "the host version is back");
        stream.join().unwrap();
        let streamed = drain.join().unwrap();
        // Nothing lost or reordered; the state carried across both swaps (counts are the
        // order of handling, calls included); the versions follow the activations 1, 21, 1.
        assert!(streamed.iter().enumerate().all(|(i, r)| r.seq == i as u32), "stream order");
        let mut counts: Vec<u64> = streamed.iter().map(|r| r.count).collect();
        counts.push(answered.count);
        counts.sort_unstable();
        assert!(counts.windows(2).all(|w| w[0] < w[1]), "a count repeated: state was lost");
        let versions: Vec<u32> = streamed.iter().map(|r| r.version).collect();
        let mut phases = versions.clone();
        phases.dedup();
        assert!(
            [vec![1], vec![1, 21], vec![1, 21, 1], vec![21, 1], vec![21], vec![1, 21, 1]]
                .contains(&phases),
            "versions out of activation order: {phases:?}"
        );
        let report = handle.terminate();
        assert_eq!(report.processed, 3_003);
        assert_eq!(handle.metrics().errors, 0);
    });
}
