//! The rule registry's own overhead per swap, with a backend that does nothing.
//!
//! Each operation is issued from inside a runtime task, one after another, as a service's
//! control plane would call it; artifacts are built before the clock starts. Every case runs
//! on a two-worker multi-thread runtime and on a current-thread runtime:
//!
//! - `reload/noop`: validate (no verifier), quiesce, swap, terminate_old and one eviction +
//!   unstage per call (history of 5), in a task of its own;
//! - `reload/noop_ed25519`: the same with an Ed25519 verifier set;
//! - `reload/rejected`: a reload refused by validation's last step (version not above the
//!   active one): task, lock, digest and validation, no backend call;
//! - `floor/spawn_join`: spawning and joining one empty task, the fixed price of running each
//!   operation to completion in its own task;
//!
//! plus `digest/4k`: the SHA-256 digest of the 4 KiB artifact, computed once per operation.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use ringkernel::rules::{
    ActorConfig, CompiledRule, Ed25519Verifier, NoopSwapBackend, RuleMetadata, RuleRegistry,
    SigningKey, rule_digest, sign_rule,
};
use tokio::runtime::Runtime;

fn rule(version: u64) -> CompiledRule {
    CompiledRule {
        rule_id: "bench".into(),
        version,
        ptx: vec![b'x'; 4096],
        compute_cap: "sm_80".into(),
        depends_on: vec![],
        signature: None,
        actor_config: ActorConfig::default(),
        metadata: RuleMetadata::default(),
    }
}

fn runtimes() -> [(&'static str, Runtime); 2] {
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let current = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    [("multi_thread", multi), ("current_thread", current)]
}

/// Times `iters` sequential calls of `op` from inside one runtime task.
fn time_in_task<I, F, Fut>(rt: &Runtime, iters: u64, make: impl FnMut(u64) -> I, op: F) -> Duration
where
    I: Send + 'static,
    F: Fn(I) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let inputs: Vec<I> = (0..iters).map(make).collect();
    rt.block_on(rt.spawn(async move {
        let start = Instant::now();
        for input in inputs {
            op(input).await;
        }
        start.elapsed()
    }))
    .unwrap()
}

/// Benchmarks `reload_rule` on `registry` with artifacts from `make`, from inside a task.
fn bench_reloads(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    name: &str,
    registry: &RuleRegistry,
    make: impl Fn(u64) -> CompiledRule,
    expect_ok: bool,
) {
    let next = AtomicU64::new(registry.get_active("bench").unwrap().version + 1);
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let registry = registry.clone();
            let inputs = |_| make(if expect_ok { next.fetch_add(1, Ordering::Relaxed) } else { 1 });
            time_in_task(rt, iters, inputs, move |r| {
                let registry = registry.clone();
                async move {
                    let result = registry.reload_rule(r, "sm_90").await;
                    assert_eq!(result.is_ok(), expect_ok, "{result:?}");
                }
            })
        })
    });
}

fn registry_overhead(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[5; 32]);
    let signed = |version| {
        let mut r = rule(version);
        sign_rule(&mut r, &key);
        r
    };
    for (flavour, rt) in runtimes() {
        let mut group = c.benchmark_group(flavour);
        let plain = RuleRegistry::new(5, Arc::new(NoopSwapBackend));
        rt.block_on(plain.register_rule(rule(1), "sm_90")).unwrap();
        bench_reloads(&mut group, &rt, "reload/noop", &plain, rule, true);

        let verified = RuleRegistry::new(5, Arc::new(NoopSwapBackend))
            .with_verifier(Arc::new(Ed25519Verifier::new(key.verifying_key())));
        rt.block_on(verified.register_rule(signed(1), "sm_90")).unwrap();
        bench_reloads(&mut group, &rt, "reload/noop_ed25519", &verified, signed, true);

        // Version 1 is below the active version: validation runs to its last step and refuses.
        bench_reloads(&mut group, &rt, "reload/rejected", &plain, rule, false);

        group.bench_function("floor/spawn_join", |b| {
            b.iter_custom(|iters| {
                time_in_task(
                    &rt,
                    iters,
                    |_| (),
                    |()| async {
                        tokio::spawn(async {}).await.unwrap();
                    },
                )
            })
        });
        group.finish();
    }

    let artifact = rule(1);
    c.bench_function("digest/4k", |b| b.iter(|| rule_digest(std::hint::black_box(&artifact))));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(60)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    targets = registry_overhead
}
criterion_main!(benches);
