//! Helpers shared by the registry's integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;
use ringkernel::rules::{
    ActorConfig, BackendError, CompiledRule, QuiesceReport, RecordingSwapBackend, RuleMetadata,
    RuleRegistry, RuleStatus, RuleSwapBackend,
};

/// A small valid rule for `sm_80`.
pub fn rule(rule_id: &str, version: u64) -> CompiledRule {
    CompiledRule {
        rule_id: rule_id.into(),
        version,
        ptx: format!(".version 7.0\n.target sm_80\n// {rule_id} v{version}\n").into_bytes(),
        compute_cap: "sm_80".into(),
        depends_on: vec![],
        signature: None,
        actor_config: ActorConfig::default(),
        metadata: RuleMetadata::default(),
    }
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap()
}

/// Checks what must hold whenever no operation on `rule_id` is half-way through a locked
/// section: one active (or quiescing) version equal to `get_active`, history within its bound,
/// every version above the active one rolled back or only registered.
pub fn check_registry_invariants(registry: &RuleRegistry, rule_id: &str) -> Result<(), String> {
    let snapshot = registry.snapshot(rule_id).ok_or("rule vanished")?;
    let history = snapshot.history;
    let staged: Vec<_> = history.iter().filter(|h| h.status != RuleStatus::Failed).collect();
    if staged.len() > registry.max_history() {
        return Err(format!("{} staged versions, bound {}", staged.len(), registry.max_history()));
    }
    let running: Vec<_> = staged
        .iter()
        .filter(|h| matches!(h.status, RuleStatus::Active | RuleStatus::Quiescing))
        .collect();
    let [active] = running.as_slice() else {
        return Err(format!("expected one active version, history {history:?}"));
    };
    let reported = snapshot.active.map(|h| h.version);
    if reported != Some(active.version) {
        return Err(format!("get_active says {reported:?}, history says v{}", active.version));
    }
    for h in &staged {
        if h.version > active.version
            && !matches!(h.status, RuleStatus::Rolledback | RuleStatus::Registered)
        {
            return Err(format!(
                "v{} is {:?} above active v{}",
                h.version, h.status, active.version
            ));
        }
        if let RuleStatus::Superseded(by) = h.status {
            if by <= h.version {
                return Err(format!("v{} superseded by older v{by}", h.version));
            }
        }
    }
    if history.iter().filter(|h| h.status == RuleStatus::Failed).count() > 1 {
        return Err("more than one failed record".into());
    }
    Ok(())
}

/// Checks that the recording backend and the registry agree once everything settled.
pub fn check_backend_agrees(
    registry: &RuleRegistry,
    backend: &RecordingSwapBackend,
    rule_id: &str,
) -> Result<(), String> {
    let violations = backend.violations();
    if !violations.is_empty() {
        return Err(format!("protocol violations: {violations:?}"));
    }
    let active = registry.get_active(rule_id).map(|h| h.version);
    if backend.installed(rule_id) != active {
        return Err(format!(
            "backend runs {:?}, registry says {active:?}",
            backend.installed(rule_id)
        ));
    }
    if backend.is_quiesced(rule_id) {
        return Err("backend left quiesced".into());
    }
    let mut staged: Vec<u64> = registry
        .history(rule_id)
        .iter()
        .filter(|h| h.status != RuleStatus::Failed)
        .map(|h| h.version)
        .collect();
    staged.sort_unstable();
    if backend.staged(rule_id) != staged {
        return Err(format!(
            "backend staged {:?}, registry staged {staged:?}",
            backend.staged(rule_id)
        ));
    }
    Ok(())
}

/// Wraps a [`RecordingSwapBackend`], counting how many calls per rule run at once and
/// optionally holding every quiesce at a barrier.
pub struct ProbeBackend {
    pub recording: RecordingSwapBackend,
    in_flight: Mutex<HashMap<String, usize>>,
    pub max_concurrent_per_rule: AtomicUsize,
    pub quiesce_barrier: Option<tokio::sync::Barrier>,
}

impl ProbeBackend {
    pub fn new(quiesce_barrier: Option<usize>) -> Arc<Self> {
        Arc::new(Self {
            recording: RecordingSwapBackend::new(),
            in_flight: Mutex::new(HashMap::new()),
            max_concurrent_per_rule: AtomicUsize::new(0),
            quiesce_barrier: quiesce_barrier.map(tokio::sync::Barrier::new),
        })
    }

    async fn tracked<T>(&self, rule_id: &str, call: impl std::future::Future<Output = T>) -> T {
        {
            let mut map = self.in_flight.lock();
            let count = map.entry(rule_id.to_owned()).or_default();
            *count += 1;
            self.max_concurrent_per_rule.fetch_max(*count, Ordering::SeqCst);
        }
        tokio::task::yield_now().await;
        let out = call.await;
        *self.in_flight.lock().get_mut(rule_id).unwrap() -= 1;
        out
    }
}

#[ringkernel::async_trait]
impl RuleSwapBackend for ProbeBackend {
    async fn pre_stage(&self, rule: &CompiledRule) -> Result<(), BackendError> {
        self.tracked(&rule.rule_id, self.recording.pre_stage(rule)).await
    }

    async fn quiesce(&self, rule_id: &str, active: u64) -> Result<QuiesceReport, BackendError> {
        if let Some(barrier) = &self.quiesce_barrier {
            barrier.wait().await;
        }
        self.tracked(rule_id, self.recording.quiesce(rule_id, active)).await
    }

    async fn swap(&self, rule_id: &str, from: Option<u64>, to: u64) -> Result<(), BackendError> {
        self.tracked(rule_id, self.recording.swap(rule_id, from, to)).await
    }

    async fn resume(&self, rule_id: &str, active: u64) -> Result<(), BackendError> {
        self.tracked(rule_id, self.recording.resume(rule_id, active)).await
    }

    async fn terminate_old(&self, rule_id: &str, old: u64) -> Result<(), BackendError> {
        self.tracked(rule_id, self.recording.terminate_old(rule_id, old)).await
    }

    async fn unstage(&self, rule_id: &str, version: u64) -> Result<(), BackendError> {
        self.tracked(rule_id, self.recording.unstage(rule_id, version)).await
    }
}
