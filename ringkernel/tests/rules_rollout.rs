//! All-or-nothing rollout across devices (`HotReloadManager::reload_everywhere_atomic`):
//! three devices, each with a recording backend that fails on request; a failure injected at
//! every step on every device leaves the old version running everywhere, backends and
//! registries agreeing; without failures the new version runs everywhere.

mod common;

use std::sync::Arc;

use common::{check_backend_agrees, check_registry_invariants, rule, runtime};
use ringkernel::rules::{
    HotReloadManager, RecordingSwapBackend, RolloutPhase, RuleRegistry, SwapStep,
};

fn three_devices() -> (HotReloadManager, Vec<Arc<RecordingSwapBackend>>) {
    let backends: Vec<Arc<RecordingSwapBackend>> =
        (0..3).map(|_| Arc::new(RecordingSwapBackend::new())).collect();
    let mut manager = HotReloadManager::new("sm_90", 8, backends[0].clone());
    for backend in &backends[1..] {
        manager.add_device("sm_90", 8, backend.clone());
    }
    (manager, backends)
}

fn registries(manager: &HotReloadManager) -> Vec<RuleRegistry> {
    (0..3).map(|i| manager.device_registry(i).unwrap().clone()).collect()
}

fn assert_everywhere(
    manager: &HotReloadManager,
    backends: &[Arc<RecordingSwapBackend>],
    version: u64,
    context: &str,
) {
    for (i, (registry, backend)) in registries(manager).iter().zip(backends).enumerate() {
        assert_eq!(
            registry.get_active("r").map(|h| h.version),
            Some(version),
            "{context}: device {i}"
        );
        assert_eq!(backend.installed("r"), Some(version), "{context}: device {i} backend");
        check_registry_invariants(registry, "r")
            .unwrap_or_else(|e| panic!("{context}: device {i}: {e}"));
        check_backend_agrees(registry, backend, "r")
            .unwrap_or_else(|e| panic!("{context}: device {i}: {e}"));
    }
}

#[test]
fn a_failure_at_any_step_on_any_device_leaves_the_old_version_everywhere() {
    let rt = runtime();
    let (manager, backends) = three_devices();
    rt.block_on(async {
        for result in manager.register_everywhere(&rule("r", 1)).await {
            result.unwrap();
        }
        for step in [SwapStep::PreStage, SwapStep::Quiesce, SwapStep::Swap] {
            for device in 0..3 {
                backends[device].fail_next(step);
                let report = manager.reload_everywhere_atomic(&rule("r", 2)).await;
                let context = format!("{step:?} failing on device {device}");
                assert!(!report.committed, "{context}: {report:?}");
                assert!(report.needs_attention().is_empty(), "{context}: {report:?}");
                assert_everywhere(&manager, &backends, 1, &context);
                // Every device says what happened to it.
                let failed = &report.devices[device].phases;
                assert!(
                    failed.iter().any(|p| matches!(
                        p,
                        RolloutPhase::StageFailed(_) | RolloutPhase::SwapFailed(_)
                    )),
                    "{context}: {failed:?}"
                );
                if step != SwapStep::PreStage {
                    for earlier in 0..device {
                        assert_eq!(
                            report.devices[earlier].phases,
                            [RolloutPhase::Staged, RolloutPhase::Swapped, RolloutPhase::RolledBack],
                            "{context}: device {earlier}"
                        );
                    }
                }
            }
        }
        // Without a failure: committed, v2 everywhere, each device staged then swapped.
        let report = manager.reload_everywhere_atomic(&rule("r", 2)).await;
        assert!(report.committed, "{report:?}");
        for device in &report.devices {
            assert_eq!(device.previous, Some(1));
            assert_eq!(device.phases, [RolloutPhase::Staged, RolloutPhase::Swapped]);
        }
        assert_everywhere(&manager, &backends, 2, "committed");
    });
}

#[test]
fn a_device_that_refuses_the_version_stops_the_rollout_before_any_swap() {
    let rt = runtime();
    let (mut manager, mut backends) = three_devices();
    let old = Arc::new(RecordingSwapBackend::new());
    manager.add_device("sm_70", 8, old.clone());
    backends.push(old);
    rt.block_on(async {
        let mut v1 = rule("r", 1);
        v1.compute_cap = "sm_70".into();
        v1.ptx = String::from_utf8(v1.ptx).unwrap().replace("sm_80", "sm_70").into_bytes();
        for result in manager.register_everywhere(&v1).await {
            result.unwrap();
        }
        // v2 needs sm_80: the fourth device refuses it; the first three discard what they staged.
        let report = manager.reload_everywhere_atomic(&rule("r", 2)).await;
        assert!(!report.committed);
        assert!(matches!(&report.devices[3].phases[..], [RolloutPhase::StageFailed(reason)] if reason.contains("sm_80")), "{report:?}");
        for device in &report.devices[..3] {
            assert_eq!(device.phases, [RolloutPhase::Staged, RolloutPhase::Discarded]);
        }
        for (i, backend) in backends.iter().enumerate() {
            assert_eq!(backend.installed("r"), Some(1), "device {i}");
            assert_eq!(backend.staged("r"), [1], "device {i}: the staged v2 was unstaged");
            assert!(backend.violations().is_empty(), "device {i}: {:?}", backend.violations());
        }
        // A rule with nothing running somewhere: refused up front.
        let report = manager.reload_everywhere_atomic(&rule("other", 1)).await;
        assert!(!report.committed && report.devices[0].phases.len() == 1);
    });
}
