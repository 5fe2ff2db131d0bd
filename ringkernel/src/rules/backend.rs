//! The backend side of a hot swap: what the registry asks a runtime backend to do.

use async_trait::async_trait;

use super::error::BackendError;
use super::rule::CompiledRule;

/// One step of the swap protocol; used to name steps in recordings and failure injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SwapStep {
    /// [`RuleSwapBackend::pre_stage`].
    PreStage,
    /// [`RuleSwapBackend::quiesce`].
    Quiesce,
    /// [`RuleSwapBackend::swap`].
    Swap,
    /// [`RuleSwapBackend::resume`].
    Resume,
    /// [`RuleSwapBackend::terminate_old`].
    TerminateOld,
    /// [`RuleSwapBackend::unstage`].
    Unstage,
}

/// What a quiesce found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuiesceReport {
    /// Messages waiting in the actor's input queue when it stopped. They stay queued and
    /// the version installed next handles them.
    pub messages_in_flight: u64,
}

/// Performs hot swaps on real hardware (or a model of it) for a [`super::RuleRegistry`].
///
/// # Protocol
///
/// For each rule the registry calls these one at a time (calls for different rules may
/// overlap), in these sequences:
///
/// ```text
/// first activation:  pre_stage(v) → swap(None, v)
/// stage only:        pre_stage(v)                                   (register of a later version)
/// reload a → v:      [pre_stage(v)] → quiesce(a) → swap(Some(a), v) → terminate_old(a) → unstage(evicted)…
/// rollback a → t:    quiesce(a) → swap(Some(a), t) → terminate_old(a)
/// failure paths:     quiesce error or timeout → resume(a) → unstage(v)
///                    swap error → resume(a) → unstage(v)   (unstage only for a new version)
/// ```
///
/// Contract for implementers:
/// - `pre_stage` does the slow work (module load, JIT, host implementation lookup) off the
///   critical path. If it fails, nothing of `rule` may stay staged.
/// - `quiesce` returns once the actor stopped at a message boundary; queued messages stay
///   queued. The registry may drop the future on timeout, so it must be cancellation safe.
/// - `swap` is all-or-nothing: on `Ok` the actor runs `to` on the same queues and state and
///   has resumed; on `Err` the version that was installed is still installed.
/// - `resume` restarts the installed version after a quiesce that did not lead to a swap;
///   it must succeed when the actor is already running (the quiesce may never have landed).
/// - Versions stay staged after `terminate_old` (instant rollback) until `unstage`.
///
/// Every method is async so that a backend can wait for the device without blocking a
/// tokio worker; long blocking work belongs in `tokio::task::spawn_blocking`.
#[async_trait]
pub trait RuleSwapBackend: Send + Sync {
    /// Prepares `rule` so that a later `swap` to it is fast.
    async fn pre_stage(&self, rule: &CompiledRule) -> Result<(), BackendError>;
    /// Stops the actor running `active` at a message boundary.
    async fn quiesce(&self, rule_id: &str, active: u64) -> Result<QuiesceReport, BackendError>;
    /// Installs the staged version `to` in place of `from` (`None`: first activation) and resumes.
    async fn swap(&self, rule_id: &str, from: Option<u64>, to: u64) -> Result<(), BackendError>;
    /// Resumes `active` after a quiesce that was not followed by a swap.
    async fn resume(&self, rule_id: &str, active: u64) -> Result<(), BackendError>;
    /// Releases what only a running `old` needed; it stays staged.
    async fn terminate_old(&self, rule_id: &str, old: u64) -> Result<(), BackendError>;
    /// Forgets a staged version entirely.
    async fn unstage(&self, rule_id: &str, version: u64) -> Result<(), BackendError>;
}

/// What a swap backend keeps: the staged versions (by rule id and version) and the running
/// actor of each rule, with the lookups every step makes and their errors.
pub(crate) struct SwapTable<S, A> {
    pub staged: std::collections::HashMap<(String, u64), S>,
    pub actors: std::collections::HashMap<String, A>,
}

impl<S, A> Default for SwapTable<S, A> {
    fn default() -> Self {
        SwapTable { staged: Default::default(), actors: Default::default() }
    }
}

impl<S: Clone, A: Clone> SwapTable<S, A> {
    /// The staged `version` of `rule_id`.
    pub fn staged(&self, rule_id: &str, version: u64) -> Result<S, BackendError> {
        self.staged
            .get(&(rule_id.to_owned(), version))
            .cloned()
            .ok_or_else(|| BackendError::new(format!("`{rule_id}` v{version} is not staged")))
    }

    /// The running actor of `rule_id`.
    pub fn actor(&self, rule_id: &str) -> Result<A, BackendError> {
        self.actors
            .get(rule_id)
            .cloned()
            .ok_or_else(|| BackendError::new(format!("`{rule_id}` has no running actor")))
    }
}

/// A backend that does nothing and always succeeds: the registry's logic without hardware.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopSwapBackend;

#[async_trait]
impl RuleSwapBackend for NoopSwapBackend {
    async fn pre_stage(&self, _rule: &CompiledRule) -> Result<(), BackendError> {
        Ok(())
    }

    async fn quiesce(&self, _rule_id: &str, _active: u64) -> Result<QuiesceReport, BackendError> {
        Ok(QuiesceReport::default())
    }

    async fn swap(&self, _rule_id: &str, _from: Option<u64>, _to: u64) -> Result<(), BackendError> {
        Ok(())
    }

    async fn resume(&self, _rule_id: &str, _active: u64) -> Result<(), BackendError> {
        Ok(())
    }

    async fn terminate_old(&self, _rule_id: &str, _old: u64) -> Result<(), BackendError> {
        Ok(())
    }

    async fn unstage(&self, _rule_id: &str, _version: u64) -> Result<(), BackendError> {
        Ok(())
    }
}
