//! [`RuleRegistry`]: versioned rules, validated and hot-swapped through a backend.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument as _;

use parking_lot::{Mutex, RwLock};

use super::backend::RuleSwapBackend;
use super::error::{BackendError, RuleError};
use super::rule::{
    CompiledRule, ReloadReport, RuleDigest, RuleHandle, RuleSnapshot, RuleStatus, SwapKind,
};
use super::signature::{SignatureVerifier, rule_digest};
use super::state::{RuleState, VersionEntry};
use super::validate::{Candidate, Purpose, validate};

/// Registry of versioned, hot-swappable rules. See the [module docs](super) for the state
/// machine and guarantees.
///
/// Cloning is cheap and gives another handle to the same registry. Operations need a tokio
/// runtime: each one runs to completion in its own task, so dropping the future of a
/// `reload_rule` (a timeout around it, say) never leaves a rule half-swapped.
///
/// ```
/// use std::sync::Arc;
/// use ringkernel::rules::{ActorConfig, CompiledRule, NoopSwapBackend, RuleMetadata, RuleRegistry};
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let registry = RuleRegistry::new(5, Arc::new(NoopSwapBackend));
/// let rule = |version| CompiledRule {
///     rule_id: "fraud-score".into(), version, ptx: b"// ptx".to_vec(),
///     compute_cap: "sm_80".into(), depends_on: vec![], signature: None,
///     actor_config: ActorConfig::default(), metadata: RuleMetadata::default(),
/// };
/// registry.register_rule(rule(1), "sm_90").await.unwrap();
/// let report = registry.reload_rule(rule(2), "sm_90").await.unwrap();
/// assert_eq!((report.from_version, report.to_version), (1, 2));
/// registry.rollback_rule("fraud-score", 1).await.unwrap();
/// assert_eq!(registry.get_active("fraud-score").unwrap().version, 1);
/// # });
/// ```
#[derive(Clone)]
pub struct RuleRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    max_history: usize,
    backend: Arc<dyn RuleSwapBackend>,
    verifier: RwLock<Option<Arc<dyn SignatureVerifier>>>,
    quiesce_timeout: RwLock<Duration>,
    rules: RwLock<HashMap<String, Arc<RuleSlot>>>,
    cleanup_errors: Mutex<Vec<String>>,
}

/// One rule: an async lock that serialises its operations, and its state behind a sync lock
/// that is only held for short, await-free critical sections (so queries never wait for a
/// swap in progress).
#[derive(Default)]
struct RuleSlot {
    op: tokio::sync::Mutex<()>,
    state: RwLock<RuleState>,
}

/// Puts a version marked `Quiescing` back to `Active` if the swap is torn down before it
/// finished (a panicking backend): the rule must not stay `Quiescing` forever.
struct QuiescingMark<'a> {
    slot: &'a RuleSlot,
    version: u64,
    armed: bool,
}

impl Drop for QuiescingMark<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.slot.state.write().set_status(self.version, RuleStatus::Active);
        }
    }
}

/// Durations and findings of a quiesce + swap.
struct Swapped {
    quiesce: Duration,
    swap: Duration,
    messages_in_flight: u64,
}

impl std::fmt::Debug for RuleRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleRegistry")
            .field("max_history", &self.inner.max_history)
            .field("rules", &self.list_rules())
            .field("verifier", &self.inner.verifier.read().is_some())
            .finish()
    }
}

impl RuleRegistry {
    /// Default time a quiesce may take before the swap is abandoned: 5 s.
    pub const DEFAULT_QUIESCE_TIMEOUT: Duration = Duration::from_secs(5);

    /// A registry keeping at most `max_history` staged versions per rule (at least 1: the
    /// active version is never evicted), swapping through `backend`.
    pub fn new(max_history: usize, backend: Arc<dyn RuleSwapBackend>) -> Self {
        Self {
            inner: Arc::new(Inner {
                max_history: max_history.max(1),
                backend,
                verifier: RwLock::new(None),
                quiesce_timeout: RwLock::new(Self::DEFAULT_QUIESCE_TIMEOUT),
                rules: RwLock::new(HashMap::new()),
                cleanup_errors: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Requires every rule from now on to carry a signature that `verifier` accepts.
    pub fn with_verifier(self, verifier: Arc<dyn SignatureVerifier>) -> Self {
        self.set_verifier(Some(verifier));
        self
    }

    /// Sets or clears the verifier. Rollbacks re-check their target with the verifier set at
    /// the time of the rollback.
    pub fn set_verifier(&self, verifier: Option<Arc<dyn SignatureVerifier>>) {
        *self.inner.verifier.write() = verifier;
    }

    /// Sets how long a quiesce may take before the swap fails with
    /// [`RuleError::QuiesceTimeout`].
    pub fn with_quiesce_timeout(self, timeout: Duration) -> Self {
        *self.inner.quiesce_timeout.write() = timeout;
        self
    }

    /// The quiesce timeout.
    pub fn quiesce_timeout(&self) -> Duration {
        *self.inner.quiesce_timeout.read()
    }

    /// Staged versions kept per rule.
    pub fn max_history(&self) -> usize {
        self.inner.max_history
    }

    /// The swap backend.
    pub fn backend(&self) -> Arc<dyn RuleSwapBackend> {
        self.inner.backend.clone()
    }

    /// Registers a rule.
    ///
    /// The first version of a rule id is validated, staged and activated (status `Active`).
    /// A later version of a rule that already has an active one is validated and staged only
    /// (status `Registered`); `reload_rule` with the same artifact activates it without
    /// staging it again. `device_cc` is the capability of the device the rule will run on.
    pub async fn register_rule(
        &self,
        rule: CompiledRule,
        device_cc: &str,
    ) -> Result<RuleHandle, RuleError> {
        let (rule_id, version) = (rule.rule_id.clone(), rule.version);
        let inner = self.inner.clone();
        let span = tracing::info_span!("register_rule", rule_id = %rule_id, version);
        let result = run_to_completion(
            &rule_id,
            inner.register(rule, device_cc.to_owned()).instrument(span),
        )
        .await;
        match &result {
            Ok(handle) => tracing::info!(
                target: "ringkernel::rules", rule_id = %rule_id, version, status = %handle.status,
                "registered"
            ),
            Err(e) => {
                tracing::warn!(target: "ringkernel::rules", rule_id = %rule_id, version, reason = %e, "rejected")
            }
        }
        result
    }

    /// Validates, stages and atomically activates a higher version of a registered rule.
    pub async fn reload_rule(
        &self,
        rule: CompiledRule,
        device_cc: &str,
    ) -> Result<ReloadReport, RuleError> {
        let (rule_id, version) = (rule.rule_id.clone(), rule.version);
        let inner = self.inner.clone();
        let span = tracing::info_span!("reload_rule", rule_id = %rule_id, version);
        let operation = inner.reload(rule, device_cc.to_owned(), Instant::now()).instrument(span);
        log_swap(&rule_id, version, run_to_completion(&rule_id, operation).await)
    }

    /// Re-activates an older version still in the history, after re-validating it against
    /// the current verifier and the device capability of the last reload.
    pub async fn rollback_rule(
        &self,
        rule_id: &str,
        to_version: u64,
    ) -> Result<ReloadReport, RuleError> {
        let inner = self.inner.clone();
        let span = tracing::info_span!("rollback_rule", rule_id = %rule_id, to_version);
        let operation =
            inner.rollback(rule_id.to_owned(), to_version, Instant::now()).instrument(span);
        log_swap(rule_id, to_version, run_to_completion(rule_id, operation).await)
    }

    /// The active version of a rule (status `Quiescing` while a swap away from it runs).
    pub fn get_active(&self, rule_id: &str) -> Option<RuleHandle> {
        self.inner.read_state(rule_id, |s| s.active_entry().map(VersionEntry::handle)).flatten()
    }

    /// One version of a rule: a staged one, or the last failed attempt.
    pub fn get_rule(&self, rule_id: &str, version: u64) -> Option<RuleHandle> {
        self.history(rule_id).into_iter().find(|h| h.version == version)
    }

    /// The artifact of a staged version.
    pub fn artifact(&self, rule_id: &str, version: u64) -> Option<Arc<CompiledRule>> {
        self.inner.read_state(rule_id, |s| s.entry(version).map(|e| e.rule.clone())).flatten()
    }

    /// The artifact of the active version.
    pub fn active_artifact(&self, rule_id: &str) -> Option<Arc<CompiledRule>> {
        self.inner.read_state(rule_id, |s| s.active_entry().map(|e| e.rule.clone())).flatten()
    }

    /// Staged versions of a rule, oldest first, then the last failed attempt if any.
    pub fn history(&self, rule_id: &str) -> Vec<RuleHandle> {
        self.inner.read_state(rule_id, RuleState::handles).unwrap_or_default()
    }

    /// The active version and the history of a rule, read at one instant (the separate
    /// queries may straddle a concurrent swap).
    pub fn snapshot(&self, rule_id: &str) -> Option<RuleSnapshot> {
        self.inner.read_state(rule_id, |s| RuleSnapshot {
            rule_id: rule_id.to_owned(),
            active: s.active_entry().map(VersionEntry::handle),
            history: s.handles(),
        })
    }

    /// Ids of all registered rules, sorted.
    pub fn list_rules(&self) -> Vec<String> {
        let rules = self.inner.rules.read();
        let mut ids: Vec<String> = rules
            .iter()
            .filter(|(_, slot)| !slot.state.read().is_vacant())
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Number of registered rules.
    pub fn rule_count(&self) -> usize {
        self.list_rules().len()
    }

    /// Removes a version that was staged but never activated (status `Registered`) and
    /// unstages it from the backend: undoes a `register_rule` of a later version, as an
    /// all-or-nothing rollout across devices does when another device refused it.
    pub async fn discard_staged(&self, rule_id: &str, version: u64) -> Result<(), RuleError> {
        let slot = self.inner.existing_slot(rule_id)?;
        let _serialised = slot.op.lock().await;
        {
            let mut state = slot.state.write();
            let unknown = || RuleError::UnknownVersion { rule_id: rule_id.to_owned(), version };
            let entry = state.entry(version).ok_or_else(unknown)?;
            if entry.status != RuleStatus::Registered {
                let (rule_id, status) = (rule_id.to_owned(), entry.status);
                return Err(RuleError::NotDiscardable { rule_id, version, status });
            }
            state.staged.retain(|e| e.version() != version);
        }
        tracing::info!(target: "ringkernel::rules", rule_id, version, "discarded");
        self.inner.backend.unstage(rule_id, version).await.map_err(|source| {
            RuleError::UnstageFailed { rule_id: rule_id.to_owned(), version, source }
        })
    }

    /// Validates `rule` as a rollback to it would (signature → well-formedness and compute
    /// capability → dependencies → ABI against the active version), without the version rules
    /// and without changing anything: whether an artifact is usable at all, for a tool that
    /// reports bad files (the artifact watcher) before anything asks to activate them.
    pub fn check_rule(&self, rule: &CompiledRule, device_cc: &str) -> Result<(), RuleError> {
        let digest = rule_digest(rule);
        let slot = self.inner.rules.read().get(&rule.rule_id).cloned().unwrap_or_default();
        self.inner.validate(rule, &digest, device_cc, &slot, Purpose::Rollback).map(|_| ())
    }

    /// Takes the clean-up failures (`unstage` after an eviction or a failed swap) that no
    /// report carried. A reload's own clean-up failures are in its [`ReloadReport`].
    pub fn take_cleanup_errors(&self) -> Vec<String> {
        std::mem::take(&mut *self.inner.cleanup_errors.lock())
    }
}

/// One `tracing` event per swap: its phases on success, the reason on failure.
fn log_swap(
    rule_id: &str,
    version: u64,
    result: Result<ReloadReport, RuleError>,
) -> Result<ReloadReport, RuleError> {
    match &result {
        Ok(r) => tracing::info!(
            target: "ringkernel::rules",
            rule_id, kind = ?r.kind, from = r.from_version, to = r.to_version,
            validate_us = r.validate.as_micros() as u64, pre_stage_us = r.pre_stage.as_micros() as u64,
            quiesce_us = r.quiesce.as_micros() as u64, swap_us = r.swap.as_micros() as u64,
            in_flight = r.messages_in_flight, "swapped"
        ),
        Err(e) => {
            tracing::warn!(target: "ringkernel::rules", rule_id, version, reason = %e, "rejected")
        }
    }
    result
}

/// Runs a registry operation in its own task so that it completes even if the caller's
/// future is dropped.
async fn run_to_completion<T: Send + 'static>(
    rule_id: &str,
    operation: impl Future<Output = Result<T, RuleError>> + Send + 'static,
) -> Result<T, RuleError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| RuleError::NoRuntime)?;
    runtime.spawn(operation).await.map_err(|err| RuleError::TaskAborted {
        rule_id: rule_id.to_owned(),
        reason: err.to_string(),
    })?
}

impl Inner {
    fn read_state<T>(&self, rule_id: &str, read: impl FnOnce(&RuleState) -> T) -> Option<T> {
        let slot = self.rules.read().get(rule_id).cloned()?;
        let state = slot.state.read();
        (!state.is_vacant()).then(|| read(&state))
    }

    fn slot_or_create(&self, rule_id: &str) -> Arc<RuleSlot> {
        if let Some(slot) = self.rules.read().get(rule_id) {
            return slot.clone();
        }
        self.rules.write().entry(rule_id.to_owned()).or_default().clone()
    }

    fn existing_slot(&self, rule_id: &str) -> Result<Arc<RuleSlot>, RuleError> {
        self.rules
            .read()
            .get(rule_id)
            .cloned()
            .ok_or_else(|| RuleError::UnknownRule { rule_id: rule_id.to_owned() })
    }

    fn is_active(&self, rule_id: &str) -> bool {
        let slot = self.rules.read().get(rule_id).cloned();
        slot.is_some_and(|slot| slot.state.read().active.is_some())
    }

    fn note_cleanup(&self, what: String) {
        self.cleanup_errors.lock().push(what);
    }

    /// Validates `rule` for `purpose` against the current state of `slot`.
    fn validate(
        &self,
        rule: &CompiledRule,
        digest: &RuleDigest,
        device_cc: &str,
        slot: &RuleSlot,
        purpose: Purpose,
    ) -> Result<bool, RuleError> {
        let verifier = self.verifier.read().clone();
        // Looked up before taking this rule's state lock: no two state locks are ever held
        // at once. A self-dependency is reported by `validate`, not looked up here.
        let missing_dependency = rule
            .depends_on
            .iter()
            .find(|dep| **dep != rule.rule_id && !self.is_active(dep))
            .map(String::as_str);
        let candidate = Candidate {
            rule,
            digest,
            device_cc,
            verifier: verifier.as_deref(),
            missing_dependency,
            max_history: self.max_history,
        };
        validate(&candidate, &slot.state.read(), purpose)
    }

    async fn register(
        self: Arc<Self>,
        rule: CompiledRule,
        device_cc: String,
    ) -> Result<RuleHandle, RuleError> {
        let slot = self.slot_or_create(&rule.rule_id);
        let _serialised = slot.op.lock().await;
        let digest = rule_digest(&rule);
        self.validate(&rule, &digest, &device_cc, &slot, Purpose::Register)?;
        let rule = Arc::new(rule);
        let (id, version) = (rule.rule_id.as_str(), rule.version);
        let entry = VersionEntry::new(rule.clone(), digest, RuleStatus::Registered);
        let active = slot.state.read().active;

        if let Err(source) = self.backend.pre_stage(&rule).await {
            if active.is_some() {
                slot.state.write().record_failure(entry);
            }
            return Err(RuleError::PreStageFailed { rule_id: id.to_owned(), version, source });
        }

        if active.is_some() {
            let handle = entry.handle();
            let evicted = {
                let mut state = slot.state.write();
                state.push_staged(entry);
                state.evict_over(self.max_history, version)
            };
            for old in evicted {
                if let Err(err) = self.backend.unstage(id, old).await {
                    self.note_cleanup(format!("unstage of evicted `{id}` v{old} failed: {err}"));
                }
            }
            return Ok(handle);
        }

        if let Err(source) = self.backend.swap(id, None, version).await {
            self.unstage_abandoned(id, version).await;
            return Err(RuleError::ActivationFailed { rule_id: id.to_owned(), version, source });
        }
        let mut handle = entry.handle();
        handle.status = RuleStatus::Active;
        let mut state = slot.state.write();
        state.commit_reload(entry, false);
        state.device_cc = Some(device_cc);
        Ok(handle)
    }

    async fn reload(
        self: Arc<Self>,
        rule: CompiledRule,
        device_cc: String,
        started: Instant,
    ) -> Result<ReloadReport, RuleError> {
        let slot = self.existing_slot(&rule.rule_id)?;
        let _serialised = slot.op.lock().await;
        let phase = Instant::now();
        let from = slot
            .state
            .read()
            .active
            .ok_or_else(|| RuleError::UnknownRule { rule_id: rule.rule_id.clone() })?;
        let digest = rule_digest(&rule);
        let was_staged = self.validate(&rule, &digest, &device_cc, &slot, Purpose::Reload)?;
        let validate = phase.elapsed();

        let rule = Arc::new(rule);
        let (id, version) = (rule.rule_id.as_str(), rule.version);
        let entry = VersionEntry::new(rule.clone(), digest, RuleStatus::Registered);

        let mut pre_stage = Duration::ZERO;
        if !was_staged {
            let phase = Instant::now();
            if let Err(source) = self.backend.pre_stage(&rule).await {
                slot.state.write().record_failure(entry);
                return Err(RuleError::PreStageFailed { rule_id: id.to_owned(), version, source });
            }
            pre_stage = phase.elapsed();
        }

        let swapped = match self.quiesce_and_swap(&slot, id, from, version).await {
            Ok(swapped) => swapped,
            Err(err) => {
                slot.state.write().record_failure(entry);
                self.unstage_abandoned(id, version).await;
                return Err(err);
            }
        };
        let (evicted, rollback_available) = {
            let mut state = slot.state.write();
            state.commit_reload(entry, was_staged);
            state.device_cc = Some(device_cc);
            (state.evict_over(self.max_history, version), state.rollback_available())
        };
        let cleanup_errors = self.clean_up_after_swap(id, from, &evicted).await;
        Ok(ReloadReport {
            rule_id: id.to_owned(),
            kind: SwapKind::Reload,
            from_version: from,
            to_version: version,
            validate,
            pre_stage,
            quiesce: swapped.quiesce,
            swap: swapped.swap,
            total: started.elapsed(),
            messages_in_flight: swapped.messages_in_flight,
            was_staged,
            rollback_available,
            evicted,
            cleanup_errors,
        })
    }

    async fn rollback(
        self: Arc<Self>,
        rule_id: String,
        target: u64,
        started: Instant,
    ) -> Result<ReloadReport, RuleError> {
        let slot = self.existing_slot(&rule_id)?;
        let _serialised = slot.op.lock().await;
        let phase = Instant::now();
        let (from, target_rule, digest, device_cc) = {
            let state = slot.state.read();
            let from =
                state.active.ok_or_else(|| RuleError::UnknownRule { rule_id: rule_id.clone() })?;
            let entry = state.entry(target).ok_or_else(|| RuleError::UnknownVersion {
                rule_id: rule_id.clone(),
                version: target,
            })?;
            if target == from {
                return Err(RuleError::AlreadyActive { rule_id, version: target });
            }
            if target > from {
                return Err(RuleError::RollbackToNewer { rule_id, target, active: from });
            }
            (from, entry.rule.clone(), entry.digest, state.device_cc.clone().unwrap_or_default())
        };
        self.validate(&target_rule, &digest, &device_cc, &slot, Purpose::Rollback)?;
        let validate = phase.elapsed();

        let swapped = self.quiesce_and_swap(&slot, &rule_id, from, target).await?;
        let rollback_available = {
            let mut state = slot.state.write();
            state.commit_rollback(target);
            state.rollback_available()
        };
        let cleanup_errors = self.clean_up_after_swap(&rule_id, from, &[]).await;
        Ok(ReloadReport {
            rule_id,
            kind: SwapKind::Rollback,
            from_version: from,
            to_version: target,
            validate,
            pre_stage: Duration::ZERO,
            quiesce: swapped.quiesce,
            swap: swapped.swap,
            total: started.elapsed(),
            messages_in_flight: swapped.messages_in_flight,
            was_staged: true,
            rollback_available,
            evicted: Vec::new(),
            cleanup_errors,
        })
    }

    /// Quiesces `from` and swaps to the staged `to`. On any failure the backend is asked to
    /// resume `from`, `from` is `Active` again, and the error says whether resuming worked.
    async fn quiesce_and_swap(
        &self,
        slot: &RuleSlot,
        id: &str,
        from: u64,
        to: u64,
    ) -> Result<Swapped, RuleError> {
        slot.state.write().set_status(from, RuleStatus::Quiescing);
        let mut mark = QuiescingMark { slot, version: from, armed: true };
        let timeout = *self.quiesce_timeout.read();
        let phase = Instant::now();
        let quiesced = tokio::time::timeout(timeout, self.backend.quiesce(id, from)).await;
        let quiesce = phase.elapsed();
        let report = match quiesced {
            Ok(Ok(report)) => report,
            Ok(Err(source)) => {
                let resume_error = self.resume_after_failure(slot, id, from).await;
                return Err(RuleError::QuiesceFailed {
                    rule_id: id.to_owned(),
                    active: from,
                    target: to,
                    source,
                    resume_error,
                });
            }
            Err(_elapsed) => {
                let resume_error = self.resume_after_failure(slot, id, from).await;
                return Err(RuleError::QuiesceTimeout {
                    rule_id: id.to_owned(),
                    active: from,
                    target: to,
                    timeout,
                    resume_error,
                });
            }
        };
        let phase = Instant::now();
        if let Err(source) = self.backend.swap(id, Some(from), to).await {
            let resume_error = self.resume_after_failure(slot, id, from).await;
            return Err(RuleError::SwapFailed {
                rule_id: id.to_owned(),
                from,
                to,
                source,
                resume_error,
            });
        }
        mark.armed = false;
        Ok(Swapped {
            quiesce,
            swap: phase.elapsed(),
            messages_in_flight: report.messages_in_flight,
        })
    }

    async fn resume_after_failure(
        &self,
        slot: &RuleSlot,
        id: &str,
        active: u64,
    ) -> Option<BackendError> {
        let resumed = self.backend.resume(id, active).await;
        slot.state.write().set_status(active, RuleStatus::Active);
        resumed.err()
    }

    async fn unstage_abandoned(&self, id: &str, version: u64) {
        if let Err(err) = self.backend.unstage(id, version).await {
            self.note_cleanup(format!("unstage of failed `{id}` v{version} failed: {err}"));
        }
    }

    /// `terminate_old` for the replaced version, then `unstage` for the evicted ones.
    async fn clean_up_after_swap(&self, id: &str, old: u64, evicted: &[u64]) -> Vec<String> {
        let mut problems = Vec::new();
        if let Err(err) = self.backend.terminate_old(id, old).await {
            problems.push(format!("terminate_old of `{id}` v{old} failed: {err}"));
        }
        for &version in evicted {
            if let Err(err) = self.backend.unstage(id, version).await {
                problems.push(format!("unstage of evicted `{id}` v{version} failed: {err}"));
            }
        }
        problems
    }
}
