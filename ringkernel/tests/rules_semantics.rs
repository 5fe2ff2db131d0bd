//! One test per guarantee of the rule registry (see `ringkernel::rules`).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{check_backend_agrees, check_registry_invariants, rule};
use ringkernel::rules::*;

fn recording_registry(max_history: usize) -> (RuleRegistry, Arc<RecordingSwapBackend>) {
    let backend = Arc::new(RecordingSwapBackend::new());
    (RuleRegistry::new(max_history, backend.clone()), backend)
}

fn statuses(registry: &RuleRegistry, id: &str) -> Vec<(u64, RuleStatus)> {
    registry.history(id).iter().map(|h| (h.version, h.status)).collect()
}

#[tokio::test]
async fn reload_must_increase_the_version_and_duplicates_are_rejected() {
    let (registry, backend) = recording_registry(5);
    registry.register_rule(rule("r", 5), "sm_80").await.unwrap();
    registry.reload_rule(rule("r", 6), "sm_80").await.unwrap();

    let err = registry.reload_rule(rule("r", 4), "sm_80").await.unwrap_err();
    assert_eq!(
        err,
        RuleError::VersionNotIncreasing { rule_id: "r".into(), attempted: 4, active: 6 }
    );
    let err = registry.reload_rule(rule("r", 6), "sm_80").await.unwrap_err();
    assert_eq!(err, RuleError::DuplicateVersion { rule_id: "r".into(), version: 6 });
    let err = registry.register_rule(rule("r", 5), "sm_80").await.unwrap_err();
    assert_eq!(err, RuleError::DuplicateVersion { rule_id: "r".into(), version: 5 });

    // Going back is only possible explicitly.
    let report = registry.rollback_rule("r", 5).await.unwrap();
    assert_eq!((report.kind, report.from_version, report.to_version), (SwapKind::Rollback, 6, 5));
    // v6 was rolled back: another artifact calling itself v6 is a duplicate; the same
    // artifact rolls forward to it without staging it again (a withdrawn release that comes
    // back, as a watched directory delivers it); a reload to v7 is fine.
    let mut impostor = rule("r", 6);
    impostor.ptx.extend_from_slice(b"// changed\n");
    let err = registry.reload_rule(impostor, "sm_80").await.unwrap_err();
    assert_eq!(err, RuleError::DuplicateVersion { rule_id: "r".into(), version: 6 });
    let forward = registry.reload_rule(rule("r", 6), "sm_80").await.unwrap();
    assert_eq!((forward.from_version, forward.to_version, forward.was_staged), (5, 6, true));
    assert_eq!(registry.reload_rule(rule("r", 7), "sm_80").await.unwrap().from_version, 6);
    check_backend_agrees(&registry, &backend, "r").unwrap();
}

#[tokio::test]
async fn validation_runs_in_order_and_touches_nothing_on_rejection() {
    let key = SigningKey::from_bytes(&[9; 32]);
    let (registry, backend) = recording_registry(5);
    let registry = registry.with_verifier(Arc::new(Ed25519Verifier::new(key.verifying_key())));
    let mut v1 = rule("r", 3);
    v1.metadata.abi_hash = Some(0xabc);
    sign_rule(&mut v1, &key);
    registry.register_rule(v1, "sm_80").await.unwrap();
    let calls_before = backend.calls();
    let history_before = registry.history("r");

    // Broken in every way: unsigned, wrong target, missing dependency, other ABI, old version.
    let mut bad = rule("r", 2);
    bad.compute_cap = "sm_90a".into();
    bad.depends_on = vec!["absent".into()];
    bad.metadata.abi_hash = Some(0xdef);
    let mut expected = Vec::new();
    expected.push(registry.reload_rule(bad.clone(), "sm_80").await.unwrap_err());
    sign_rule(&mut bad, &key);
    expected.push(registry.reload_rule(bad.clone(), "sm_80").await.unwrap_err());
    bad.compute_cap = "sm_80".into();
    sign_rule(&mut bad, &key);
    expected.push(registry.reload_rule(bad.clone(), "sm_80").await.unwrap_err());
    bad.depends_on.clear();
    sign_rule(&mut bad, &key);
    expected.push(registry.reload_rule(bad.clone(), "sm_80").await.unwrap_err());
    bad.metadata.abi_hash = Some(0xabc);
    sign_rule(&mut bad, &key);
    expected.push(registry.reload_rule(bad.clone(), "sm_80").await.unwrap_err());

    let kinds: Vec<&str> = expected
        .iter()
        .map(|e| match e {
            RuleError::Unsigned { .. } => "signature",
            RuleError::ComputeCapMismatch { .. } => "compute cap",
            RuleError::MissingDependency { .. } => "dependency",
            RuleError::AbiMismatch { .. } => "abi",
            RuleError::VersionNotIncreasing { .. } => "version",
            other => panic!("unexpected {other}"),
        })
        .collect();
    assert_eq!(kinds, ["signature", "compute cap", "dependency", "abi", "version"]);
    assert_eq!(backend.calls(), calls_before, "a rejected artifact reached the backend");
    assert_eq!(registry.history("r"), history_before, "a rejected artifact changed the registry");
}

#[tokio::test]
async fn compute_capability_is_compared_numerically_and_suffixes_are_strict() {
    let (registry, _) = recording_registry(5);
    let mut portable = rule("p", 1);
    portable.compute_cap = "sm_90".into();
    registry.register_rule(portable.clone(), "sm_100").await.unwrap();
    portable.rule_id = "p2".into();
    let err = registry.register_rule(portable, "sm_89").await.unwrap_err();
    assert!(matches!(err, RuleError::ComputeCapMismatch { .. }), "{err}");

    let mut specific = rule("a", 1);
    specific.compute_cap = "sm_90a".into();
    assert!(registry.register_rule(specific.clone(), "sm_100").await.is_err());
    registry.register_rule(specific, "sm_90").await.unwrap();

    let mut garbage = rule("g", 1);
    garbage.compute_cap = "ampere".into();
    let err = registry.register_rule(garbage, "sm_90").await.unwrap_err();
    assert!(err.to_string().contains("invalid compute capability `ampere`"), "{err}");
    let err = registry.register_rule(rule("g", 1), "gpu0").await.unwrap_err();
    assert!(err.to_string().contains("device"), "{err}");
    assert_eq!(registry.list_rules(), ["a", "p"]);
}

#[tokio::test]
async fn dependencies_need_an_active_version() {
    let (registry, _) = recording_registry(5);
    let mut dependent = rule("ledger", 1);
    dependent.depends_on = vec!["fx-rates".into()];
    let err = registry.register_rule(dependent.clone(), "sm_80").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "rule `ledger` v1 depends on `fx-rates`, which has no active version"
    );
    registry.register_rule(rule("fx-rates", 1), "sm_80").await.unwrap();
    registry.register_rule(dependent, "sm_80").await.unwrap();

    let mut itself = rule("loop", 1);
    itself.depends_on = vec!["loop".into()];
    assert!(matches!(
        registry.register_rule(itself, "sm_80").await,
        Err(RuleError::SelfDependency { .. })
    ));
}

#[tokio::test]
async fn malformed_artifacts_are_rejected_with_the_reason() {
    let (registry, backend) = recording_registry(5);
    let mut empty = rule("m", 1);
    empty.ptx.clear();
    let mut odd_queue = rule("m", 1);
    odd_queue.actor_config.queue_capacity = 1000;
    let mut nameless = rule("", 1);
    nameless.rule_id = "  ".into();
    for (bad, needle) in
        [(empty, "ptx is empty"), (odd_queue, "power of two"), (nameless, "rule_id is empty")]
    {
        let err = registry.register_rule(bad, "sm_80").await.unwrap_err();
        assert!(err.to_string().contains(needle), "{err}");
    }
    assert!(backend.calls().is_empty());
    assert_eq!(registry.rule_count(), 0);
}

#[tokio::test]
async fn history_is_bounded_fifo_and_never_evicts_the_active_version() {
    let (registry, backend) = recording_registry(3);
    registry.register_rule(rule("h", 1), "sm_80").await.unwrap();
    for v in 2..=4 {
        registry.register_rule(rule("h", v), "sm_80").await.unwrap();
    }
    // v2 was the oldest non-active entry; v1 is active and stays.
    assert_eq!(
        statuses(&registry, "h"),
        [(1, RuleStatus::Active), (3, RuleStatus::Registered), (4, RuleStatus::Registered)]
    );
    let mut evicted = Vec::new();
    for v in 5..=9 {
        evicted.extend(registry.reload_rule(rule("h", v), "sm_80").await.unwrap().evicted);
    }
    assert_eq!(evicted, [1, 3, 4, 5, 6]);
    assert_eq!(registry.history("h").len(), 3);
    assert_eq!(registry.get_active("h").unwrap().version, 9);
    check_backend_agrees(&registry, &backend, "h").unwrap();
    let unstaged: Vec<u64> =
        backend.calls().iter().filter(|c| c.step == SwapStep::Unstage).map(|c| c.version).collect();
    assert_eq!(unstaged, [2, 1, 3, 4, 5, 6]);
}

#[tokio::test]
async fn a_history_of_one_still_reloads_but_cannot_stage_ahead() {
    let (registry, backend) = recording_registry(1);
    registry.register_rule(rule("one", 1), "sm_80").await.unwrap();
    let err = registry.register_rule(rule("one", 2), "sm_80").await.unwrap_err();
    assert!(matches!(err, RuleError::HistoryFull { max_history: 1, .. }), "{err}");
    let report = registry.reload_rule(rule("one", 2), "sm_80").await.unwrap();
    assert_eq!((report.evicted.as_slice(), report.rollback_available), ([1].as_slice(), false));
    check_backend_agrees(&registry, &backend, "one").unwrap();
    // The evicted version was terminated before it was unstaged.
    let tail: Vec<SwapStep> = backend.calls().iter().rev().take(2).map(|c| c.step).collect();
    assert_eq!(tail, [SwapStep::Unstage, SwapStep::TerminateOld]);
}

#[tokio::test]
async fn a_registered_version_is_activated_by_reload_without_staging_twice() {
    let (registry, backend) = recording_registry(5);
    registry.register_rule(rule("s", 1), "sm_80").await.unwrap();
    let handle = registry.register_rule(rule("s", 2), "sm_80").await.unwrap();
    assert_eq!(handle.status, RuleStatus::Registered);
    assert_eq!(registry.get_active("s").unwrap().version, 1);
    let report = registry.reload_rule(rule("s", 2), "sm_80").await.unwrap();
    assert!(report.was_staged);
    assert_eq!(report.pre_stage, Duration::ZERO);
    let pre_stages = backend.calls().iter().filter(|c| c.step == SwapStep::PreStage).count();
    assert_eq!(pre_stages, 2);
    // Same version, different bytes: a duplicate, not a silent replacement.
    registry.register_rule(rule("s", 3), "sm_80").await.unwrap();
    let mut changed = rule("s", 3);
    changed.ptx.push(b'\n');
    assert!(matches!(
        registry.reload_rule(changed, "sm_80").await,
        Err(RuleError::DuplicateVersion { .. })
    ));
    check_backend_agrees(&registry, &backend, "s").unwrap();
}

#[tokio::test]
async fn every_status_is_reachable() {
    let (registry, backend) = recording_registry(10);
    registry.register_rule(rule("st", 1), "sm_80").await.unwrap();
    registry.reload_rule(rule("st", 2), "sm_80").await.unwrap();
    registry.reload_rule(rule("st", 3), "sm_80").await.unwrap();
    registry.rollback_rule("st", 2).await.unwrap();
    registry.register_rule(rule("st", 4), "sm_80").await.unwrap();
    backend.fail_next(SwapStep::Swap);
    assert!(registry.reload_rule(rule("st", 5), "sm_80").await.is_err());
    assert_eq!(
        statuses(&registry, "st"),
        [
            (1, RuleStatus::Superseded(2)),
            (2, RuleStatus::Active),
            (3, RuleStatus::Rolledback),
            (4, RuleStatus::Registered),
            (5, RuleStatus::Failed),
        ]
    );

    // Quiescing is visible while a swap is in progress.
    backend.set_quiesce_delay(Duration::from_millis(300));
    let reload = tokio::spawn({
        let registry = registry.clone();
        async move { registry.reload_rule(rule("st", 6), "sm_80").await }
    });
    let mut seen = None;
    for _ in 0..200 {
        seen = registry.get_active("st").map(|h| h.status);
        if seen == Some(RuleStatus::Quiescing) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(seen, Some(RuleStatus::Quiescing));
    reload.await.unwrap().unwrap();
    assert_eq!(
        registry.get_active("st").map(|h| (h.version, h.status)),
        Some((6, RuleStatus::Active))
    );
    check_backend_agrees(&registry, &backend, "st").unwrap();
}

#[tokio::test]
async fn a_failure_at_any_step_leaves_registry_and_backend_agreeing() {
    for step in [SwapStep::PreStage, SwapStep::Quiesce, SwapStep::Swap] {
        let (registry, backend) = recording_registry(5);
        registry.register_rule(rule("f", 1), "sm_80").await.unwrap();
        backend.fail_next(step);
        let err = registry.reload_rule(rule("f", 2), "sm_80").await.unwrap_err();
        let text = err.to_string();
        match step {
            SwapStep::PreStage => {
                assert!(matches!(err, RuleError::PreStageFailed { .. }), "{text}")
            }
            SwapStep::Quiesce => assert!(
                matches!(err, RuleError::QuiesceFailed { resume_error: None, .. }),
                "{text}"
            ),
            _ => assert!(matches!(err, RuleError::SwapFailed { resume_error: None, .. }), "{text}"),
        }
        if step != SwapStep::PreStage {
            assert!(text.contains("the old version was resumed"), "{text}");
        }
        assert_eq!(
            registry.get_active("f").map(|h| (h.version, h.status)),
            Some((1, RuleStatus::Active))
        );
        assert_eq!(registry.get_rule("f", 2).map(|h| h.status), Some(RuleStatus::Failed));
        check_backend_agrees(&registry, &backend, "f").unwrap();
        // A retry of the same version works once the fault is gone.
        registry.reload_rule(rule("f", 2), "sm_80").await.unwrap();
        assert_eq!(
            statuses(&registry, "f"),
            [(1, RuleStatus::Superseded(2)), (2, RuleStatus::Active)]
        );
        check_backend_agrees(&registry, &backend, "f").unwrap();
    }
}

#[tokio::test]
async fn a_failed_resume_is_reported_as_needing_attention() {
    let (registry, backend) = recording_registry(5);
    registry.register_rule(rule("f", 1), "sm_80").await.unwrap();
    backend.fail_next(SwapStep::Swap);
    backend.fail_next(SwapStep::Resume);
    let err = registry.reload_rule(rule("f", 2), "sm_80").await.unwrap_err();
    assert!(matches!(err, RuleError::SwapFailed { resume_error: Some(_), .. }));
    assert!(err.to_string().contains("the backend needs attention"), "{err}");
}

#[tokio::test]
async fn clean_up_failures_after_a_swap_are_reported_not_fatal() {
    let (registry, backend) = recording_registry(1);
    registry.register_rule(rule("c", 1), "sm_80").await.unwrap();
    backend.fail_next(SwapStep::TerminateOld);
    backend.fail_next(SwapStep::Unstage);
    let report = registry.reload_rule(rule("c", 2), "sm_80").await.unwrap();
    assert_eq!(report.to_version, 2);
    assert_eq!(report.cleanup_errors.len(), 2, "{report}");
    assert!(report.to_string().contains("terminate_old of `c` v1 failed"), "{report}");
    assert_eq!(backend.installed("c"), Some(2));
}

#[tokio::test]
async fn a_failed_first_activation_leaves_no_trace() {
    let (registry, backend) = recording_registry(5);
    backend.fail_next(SwapStep::Swap);
    let err = registry.register_rule(rule("new", 1), "sm_80").await.unwrap_err();
    assert!(matches!(err, RuleError::ActivationFailed { .. }), "{err}");
    assert_eq!(registry.rule_count(), 0);
    assert!(registry.history("new").is_empty());
    assert!(backend.staged("new").is_empty());
    assert!(matches!(
        registry.reload_rule(rule("new", 2), "sm_80").await,
        Err(RuleError::UnknownRule { .. })
    ));
    registry.register_rule(rule("new", 1), "sm_80").await.unwrap();
    check_backend_agrees(&registry, &backend, "new").unwrap();
}

#[tokio::test]
async fn a_slow_quiesce_times_out_and_the_old_version_keeps_running() {
    let backend = Arc::new(RecordingSwapBackend::new());
    let registry =
        RuleRegistry::new(5, backend.clone()).with_quiesce_timeout(Duration::from_millis(20));
    registry.register_rule(rule("q", 1), "sm_80").await.unwrap();
    backend.set_quiesce_delay(Duration::from_millis(500));
    let err = registry.reload_rule(rule("q", 2), "sm_80").await.unwrap_err();
    assert!(
        matches!(err, RuleError::QuiesceTimeout { active: 1, target: 2, timeout, resume_error: None, .. } if timeout == Duration::from_millis(20)),
        "{err}"
    );
    check_backend_agrees(&registry, &backend, "q").unwrap();
    assert_eq!(registry.get_active("q").map(|h| h.status), Some(RuleStatus::Active));
}

#[tokio::test]
async fn rollback_revalidates_against_the_current_verifier() {
    let key = SigningKey::from_bytes(&[4; 32]);
    let (registry, backend) = recording_registry(5);
    registry.register_rule(rule("rv", 1), "sm_80").await.unwrap();
    let mut signed = rule("rv", 2);
    sign_rule(&mut signed, &key);
    registry.reload_rule(signed, "sm_80").await.unwrap();
    registry.set_verifier(Some(Arc::new(Ed25519Verifier::new(key.verifying_key()))));
    let err = registry.rollback_rule("rv", 1).await.unwrap_err();
    assert_eq!(err, RuleError::Unsigned { rule_id: "rv".into(), version: 1 });
    assert_eq!(registry.get_active("rv").unwrap().version, 2);
    check_backend_agrees(&registry, &backend, "rv").unwrap();
}

#[tokio::test]
async fn rollback_revalidates_against_the_device_of_the_last_reload() {
    let (registry, _) = recording_registry(5);
    let mut hopper_only = rule("dev", 1);
    hopper_only.compute_cap = "sm_90a".into();
    registry.register_rule(hopper_only, "sm_90").await.unwrap();
    // The rule moved to a newer device with a portable v2.
    registry.reload_rule(rule("dev", 2), "sm_100").await.unwrap();
    let err = registry.rollback_rule("dev", 1).await.unwrap_err();
    assert!(matches!(err, RuleError::ComputeCapMismatch { .. }), "{err}");
}

#[tokio::test]
async fn rollback_targets_must_be_older_and_staged() {
    let (registry, _) = recording_registry(2);
    for v in 1..=3 {
        if v == 1 {
            registry.register_rule(rule("t", v), "sm_80").await.unwrap();
        } else {
            registry.reload_rule(rule("t", v), "sm_80").await.unwrap();
        }
    }
    let err = |e: Result<ReloadReport, RuleError>| e.unwrap_err();
    assert!(matches!(
        err(registry.rollback_rule("t", 1).await),
        RuleError::UnknownVersion { version: 1, .. }
    ));
    assert!(matches!(err(registry.rollback_rule("t", 3).await), RuleError::AlreadyActive { .. }));
    assert!(matches!(err(registry.rollback_rule("nope", 1).await), RuleError::UnknownRule { .. }));
    let report = registry.rollback_rule("t", 2).await.unwrap();
    assert!(!report.rollback_available);
    assert!(matches!(
        err(registry.rollback_rule("t", 3).await),
        RuleError::RollbackToNewer { target: 3, active: 2, .. }
    ));
}

#[tokio::test]
async fn tampered_and_unsigned_artifacts_are_rejected_once_a_verifier_is_set() {
    let key = SigningKey::from_bytes(&[1; 32]);
    let (registry, backend) = recording_registry(5);
    let registry = registry.with_verifier(Arc::new(Ed25519Verifier::new(key.verifying_key())));
    let mut good = rule("sig", 1);
    sign_rule(&mut good, &key);
    registry.register_rule(good.clone(), "sm_80").await.unwrap();

    let mut tampered = rule("sig", 2);
    sign_rule(&mut tampered, &key);
    tampered.ptx[10] ^= 0x01;
    let err = registry.reload_rule(tampered, "sm_80").await.unwrap_err();
    assert!(
        matches!(err, RuleError::BadSignature { source: SignatureError::Mismatch, .. }),
        "{err}"
    );
    assert!(matches!(
        registry.reload_rule(rule("sig", 2), "sm_80").await,
        Err(RuleError::Unsigned { .. })
    ));
    let mut foreign = rule("sig", 2);
    sign_rule(&mut foreign, &SigningKey::from_bytes(&[2; 32]));
    assert!(registry.reload_rule(foreign, "sm_80").await.is_err());
    assert_eq!(backend.calls().len(), 2, "only the good registration reached the backend");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_on_one_rule_are_serialised() {
    let backend = common::ProbeBackend::new(None);
    let registry = RuleRegistry::new(4, backend.clone());
    registry.register_rule(rule("one", 1), "sm_80").await.unwrap();
    let tasks: Vec<_> = (2..=40)
        .map(|v| {
            let registry = registry.clone();
            tokio::spawn(async move {
                if v % 3 == 0 {
                    let _ = registry.rollback_rule("one", v - 2).await;
                } else {
                    let _ = registry.reload_rule(rule("one", v), "sm_80").await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(backend.max_concurrent_per_rule.load(std::sync::atomic::Ordering::SeqCst), 1);
    check_registry_invariants(&registry, "one").unwrap();
    check_backend_agrees(&registry, &backend.recording, "one").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_rules_swap_in_parallel() {
    // Every quiesce waits at a barrier for all four rules: if swaps of different rules were
    // serialised, the first would wait forever and time out.
    let backend = common::ProbeBackend::new(Some(4));
    let registry =
        RuleRegistry::new(4, backend.clone()).with_quiesce_timeout(Duration::from_secs(10));
    let ids = ["a", "b", "c", "d"];
    for id in ids {
        registry.register_rule(rule(id, 1), "sm_80").await.unwrap();
    }
    let tasks: Vec<_> = ids
        .into_iter()
        .map(|id| {
            let registry = registry.clone();
            tokio::spawn(async move { registry.reload_rule(rule(id, 2), "sm_80").await })
        })
        .collect();
    for task in tasks {
        let report = tokio::time::timeout(Duration::from_secs(20), task)
            .await
            .expect("swaps were serialised");
        assert_eq!(report.unwrap().unwrap().to_version, 2);
    }
}

#[tokio::test]
async fn dropping_a_reload_future_does_not_leave_the_rule_half_swapped() {
    let (registry, backend) = recording_registry(5);
    registry.register_rule(rule("d", 1), "sm_80").await.unwrap();
    backend.set_quiesce_delay(Duration::from_millis(100));
    let abandoned = tokio::time::timeout(
        Duration::from_millis(10),
        registry.reload_rule(rule("d", 2), "sm_80"),
    )
    .await;
    assert!(abandoned.is_err(), "the caller gave up before the swap finished");
    for _ in 0..100 {
        if registry.get_active("d").map(|h| (h.version, h.status)) == Some((2, RuleStatus::Active))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(registry.get_active("d").map(|h| h.version), Some(2));
    check_backend_agrees(&registry, &backend, "d").unwrap();
}

#[test]
fn outside_a_tokio_runtime_operations_return_an_error() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let registry = RuleRegistry::new(5, Arc::new(NoopSwapBackend));
    let mut future = Box::pin(registry.register_rule(rule("x", 1), "sm_80"));
    let mut cx = Context::from_waker(Waker::noop());
    match future.as_mut().poll(&mut cx) {
        Poll::Ready(result) => assert_eq!(result.unwrap_err(), RuleError::NoRuntime),
        Poll::Pending => panic!("expected an immediate error"),
    }
}

#[tokio::test]
async fn the_manager_applies_each_devices_capability() {
    let mut manager = HotReloadManager::new("sm_90", 5, Arc::new(NoopSwapBackend));
    manager.add_device("sm_80", 5, Arc::new(NoopSwapBackend));
    let mut hopper = rule("m", 1);
    hopper.compute_cap = "sm_90".into();
    let results = manager.register_everywhere(&hopper).await;
    assert!(results[0].is_ok());
    assert!(matches!(results[1], Err(RuleError::ComputeCapMismatch { .. })));
    assert_eq!(manager.rule_registry().get_active("m").unwrap().version, 1);
    assert!(manager.device_registry(1).unwrap().get_active("m").is_none());
    assert!(manager.device_registry(2).is_none());

    let results = manager.reload_everywhere(&rule("m", 2)).await;
    assert!(results[0].is_ok() && matches!(results[1], Err(RuleError::UnknownRule { .. })));
    let results = manager.rollback_everywhere("m", 1).await;
    assert!(results[0].is_ok());
}

#[tokio::test]
async fn reports_describe_every_phase() {
    let (registry, backend) = recording_registry(5);
    backend.set_messages_in_flight(17);
    registry.register_rule(rule("rep", 1), "sm_80").await.unwrap();
    let report = registry.reload_rule(rule("rep", 2), "sm_80").await.unwrap();
    assert_eq!(report.messages_in_flight, 17);
    assert!(report.rollback_available && !report.was_staged);
    assert!(report.total >= report.validate + report.pre_stage + report.quiesce + report.swap);
    let text = report.to_string();
    assert!(text.starts_with("reload `rep` v1 -> v2"), "{text}");
    assert!(text.contains("17 in flight") && text.contains("rollback available"), "{text}");
}

/// A backend whose first quiesce panics.
struct PanicsOnce(std::sync::atomic::AtomicBool);

#[ringkernel::async_trait]
impl RuleSwapBackend for PanicsOnce {
    async fn pre_stage(&self, _: &CompiledRule) -> Result<(), BackendError> {
        Ok(())
    }
    async fn quiesce(&self, _: &str, _: u64) -> Result<QuiesceReport, BackendError> {
        if !self.0.swap(true, std::sync::atomic::Ordering::SeqCst) {
            panic!("backend bug");
        }
        Ok(QuiesceReport::default())
    }
    async fn swap(&self, _: &str, _: Option<u64>, _: u64) -> Result<(), BackendError> {
        Ok(())
    }
    async fn resume(&self, _: &str, _: u64) -> Result<(), BackendError> {
        Ok(())
    }
    async fn terminate_old(&self, _: &str, _: u64) -> Result<(), BackendError> {
        Ok(())
    }
    async fn unstage(&self, _: &str, _: u64) -> Result<(), BackendError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_panicking_backend_is_an_error_and_leaves_the_rule_usable() {
    let registry = RuleRegistry::new(5, Arc::new(PanicsOnce(Default::default())));
    registry.register_rule(rule("p", 1), "sm_80").await.unwrap();
    let err = registry.reload_rule(rule("p", 2), "sm_80").await.unwrap_err();
    assert!(matches!(err, RuleError::TaskAborted { .. }), "{err}");
    assert!(err.to_string().contains("rule `p`"), "{err}");
    assert_eq!(
        registry.get_active("p").map(|h| (h.version, h.status)),
        Some((1, RuleStatus::Active))
    );
    registry.reload_rule(rule("p", 2), "sm_80").await.unwrap();
    assert_eq!(registry.get_active("p").unwrap().version, 2);
}
