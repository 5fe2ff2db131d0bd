//! Hundreds of concurrent reloads and rollbacks, with injected backend failures, on a
//! multi-threaded runtime. The invariants are checked after every operation and continuously
//! by a watcher task; at the end the registry and the strict recording backend must agree.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use common::{check_backend_agrees, check_registry_invariants, rule};
use ringkernel::rules::*;

const RULES: [&str; 3] = ["alpha", "beta", "gamma"];
const TASKS: u64 = 200;
const OPS_PER_TASK: u64 = 5;

/// Deterministic per-task pseudo-random numbers (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reloads_and_rollbacks_keep_every_invariant() {
    let backend = Arc::new(RecordingSwapBackend::new());
    let registry = RuleRegistry::new(8, backend.clone());
    for id in RULES {
        registry.register_rule(rule(id, 1), "sm_80").await.unwrap();
    }
    let next_version: Arc<Vec<AtomicU64>> =
        Arc::new(RULES.iter().map(|_| AtomicU64::new(2)).collect());
    let done = Arc::new(AtomicBool::new(false));

    let watcher = tokio::spawn({
        let (registry, done) = (registry.clone(), done.clone());
        async move {
            let mut checks = 0u64;
            while !done.load(Ordering::Acquire) {
                for id in RULES {
                    check_registry_invariants(&registry, id)
                        .map_err(|e| format!("watcher, `{id}`: {e}"))?;
                }
                checks += 1;
                tokio::task::yield_now().await;
            }
            Ok::<u64, String>(checks)
        }
    });

    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let (registry, backend, next_version) =
                (registry.clone(), backend.clone(), next_version.clone());
            tokio::spawn(async move {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (task + 1));
                let mut outcomes = (0u32, 0u32, 0u32);
                for _ in 0..OPS_PER_TASK {
                    let which = rng.below(RULES.len() as u64) as usize;
                    let id = RULES[which];
                    match rng.below(10) {
                        0 => backend.fail_next(
                            [
                                SwapStep::PreStage,
                                SwapStep::Quiesce,
                                SwapStep::Swap,
                                SwapStep::TerminateOld,
                            ][rng.below(4) as usize],
                        ),
                        1..=5 => {
                            // Mostly fresh versions, sometimes a stale one that must be refused.
                            let fresh = next_version[which].fetch_add(1, Ordering::SeqCst);
                            let version = if rng.below(5) == 0 {
                                fresh.saturating_sub(3).max(1)
                            } else {
                                fresh
                            };
                            match registry.reload_rule(rule(id, version), "sm_80").await {
                                Ok(report) => {
                                    assert!(report.to_version > report.from_version, "{report}");
                                    outcomes.0 += 1;
                                }
                                Err(_) => outcomes.2 += 1,
                            }
                        }
                        _ => {
                            // An older staged version, as seen now (another swap may still win the race).
                            let snapshot = registry.snapshot(id).unwrap();
                            let active = snapshot.active.map_or(1, |h| h.version);
                            let older: Vec<u64> = snapshot
                                .history
                                .iter()
                                .filter(|h| h.version < active && h.status != RuleStatus::Failed)
                                .map(|h| h.version)
                                .collect();
                            let target = if older.is_empty() {
                                active.saturating_sub(1).max(1)
                            } else {
                                older[rng.below(older.len() as u64) as usize]
                            };
                            match registry.rollback_rule(id, target).await {
                                Ok(report) => {
                                    assert!(report.to_version < report.from_version, "{report}");
                                    outcomes.1 += 1;
                                }
                                Err(_) => outcomes.2 += 1,
                            }
                        }
                    }
                    check_registry_invariants(&registry, id)
                        .map_err(|e| format!("after op on `{id}`: {e}"))?;
                }
                Ok::<_, String>(outcomes)
            })
        })
        .collect();

    let (mut reloads, mut rollbacks, mut refused) = (0, 0, 0);
    for task in tasks {
        let (a, b, c) = task.await.unwrap().unwrap();
        reloads += a;
        rollbacks += b;
        refused += c;
    }
    done.store(true, Ordering::Release);
    let watcher_checks = watcher.await.unwrap().unwrap();

    println!(
        "{reloads} reloads, {rollbacks} rollbacks, {refused} refused, {watcher_checks} watcher passes"
    );
    assert!(
        reloads >= 200 && rollbacks >= 5,
        "too few swaps ran: {reloads} reloads, {rollbacks} rollbacks"
    );
    assert!(
        refused > 0,
        "no operation was refused: the stale and failing paths were not exercised"
    );
    assert!(watcher_checks > 0);
    for id in RULES {
        check_registry_invariants(&registry, id).unwrap();
        check_backend_agrees(&registry, &backend, id).unwrap();
    }
}
