//! [`RecordingSwapBackend`]: a strict model of a backend for tests.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use async_trait::async_trait;
use parking_lot::Mutex;

use super::backend::{QuiesceReport, RuleSwapBackend, SwapStep};
use super::error::BackendError;
use super::rule::CompiledRule;

/// One call the registry made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendCall {
    /// Which step.
    pub step: SwapStep,
    /// Rule id.
    pub rule_id: String,
    /// The version the step acts on (`to` for a swap).
    pub version: u64,
    /// For a swap, the version it replaced.
    pub from: Option<u64>,
    /// Whether the call succeeded.
    pub ok: bool,
}

#[derive(Debug, Default)]
struct Model {
    calls: Vec<BackendCall>,
    staged: BTreeSet<(String, u64)>,
    /// Installed version per rule and whether it is quiesced.
    installed: HashMap<String, (u64, bool)>,
    failures: BTreeMap<SwapStep, u32>,
    violations: Vec<String>,
    quiesce_delay: Duration,
    messages_in_flight: u64,
}

/// A backend that models staging, installing and quiescing, records every call, checks that
/// the registry follows the protocol of [`RuleSwapBackend`], and fails on request.
///
/// A protocol violation (swapping to an unstaged version, quiescing a version that is not
/// installed, staging twice…) is recorded in [`Self::violations`] and returned as an error.
/// An injected failure changes nothing, as the protocol requires of a failing step.
///
/// ```
/// use ringkernel::rules::{RecordingSwapBackend, SwapStep};
/// let backend = RecordingSwapBackend::new();
/// backend.fail_next(SwapStep::Swap);
/// assert!(backend.calls().is_empty());
/// ```
#[derive(Debug, Default)]
pub struct RecordingSwapBackend {
    model: Mutex<Model>,
}

impl RecordingSwapBackend {
    /// A backend with nothing staged.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next call of `step` fail (calls add up: twice means the next two).
    pub fn fail_next(&self, step: SwapStep) {
        *self.model.lock().failures.entry(step).or_default() += 1;
    }

    /// Makes every quiesce take `delay` before it lands.
    pub fn set_quiesce_delay(&self, delay: Duration) {
        self.model.lock().quiesce_delay = delay;
    }

    /// What quiesce reports as queued.
    pub fn set_messages_in_flight(&self, count: u64) {
        self.model.lock().messages_in_flight = count;
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<BackendCall> {
        self.model.lock().calls.clone()
    }

    /// Installed version of a rule.
    pub fn installed(&self, rule_id: &str) -> Option<u64> {
        self.model.lock().installed.get(rule_id).map(|&(version, _)| version)
    }

    /// Whether the rule's actor is quiesced.
    pub fn is_quiesced(&self, rule_id: &str) -> bool {
        self.model.lock().installed.get(rule_id).is_some_and(|&(_, quiesced)| quiesced)
    }

    /// Staged versions of a rule, ascending.
    pub fn staged(&self, rule_id: &str) -> Vec<u64> {
        let model = self.model.lock();
        model.staged.iter().filter(|(id, _)| id == rule_id).map(|&(_, v)| v).collect()
    }

    /// Protocol violations seen so far.
    pub fn violations(&self) -> Vec<String> {
        self.model.lock().violations.clone()
    }

    /// Records the call; runs `check` (protocol), then the injected failure, then `apply`.
    fn step(
        &self,
        step: SwapStep,
        rule_id: &str,
        version: u64,
        from: Option<u64>,
        check: impl FnOnce(&Model) -> Result<(), String>,
        apply: impl FnOnce(&mut Model),
    ) -> Result<(), BackendError> {
        let mut model = self.model.lock();
        let outcome = match check(&model) {
            Err(violation) => {
                let text = format!("{step:?} `{rule_id}` v{version}: {violation}");
                model.violations.push(text.clone());
                Err(BackendError::new(format!("protocol violation: {text}")))
            }
            Ok(()) => match model.failures.get_mut(&step) {
                Some(left) if *left > 0 => {
                    *left -= 1;
                    Err(BackendError::new(format!(
                        "injected {step:?} failure for `{rule_id}` v{version}"
                    )))
                }
                _ => {
                    apply(&mut model);
                    Ok(())
                }
            },
        };
        let ok = outcome.is_ok();
        model.calls.push(BackendCall { step, rule_id: rule_id.to_owned(), version, from, ok });
        outcome
    }
}

fn is_staged(model: &Model, rule_id: &str, version: u64) -> bool {
    model.staged.contains(&(rule_id.to_owned(), version))
}

#[async_trait]
impl RuleSwapBackend for RecordingSwapBackend {
    async fn pre_stage(&self, rule: &CompiledRule) -> Result<(), BackendError> {
        let (id, version) = (rule.rule_id.as_str(), rule.version);
        self.step(
            SwapStep::PreStage,
            id,
            version,
            None,
            |m| {
                if is_staged(m, id, version) { Err("already staged".into()) } else { Ok(()) }
            },
            |m| {
                m.staged.insert((id.to_owned(), version));
            },
        )
    }

    async fn quiesce(&self, rule_id: &str, active: u64) -> Result<QuiesceReport, BackendError> {
        let delay = self.model.lock().quiesce_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.step(
            SwapStep::Quiesce,
            rule_id,
            active,
            None,
            |m| match m.installed.get(rule_id) {
                Some(&(v, false)) if v == active => Ok(()),
                other => Err(format!("expected v{active} running, found {other:?}")),
            },
            |m| {
                m.installed.insert(rule_id.to_owned(), (active, true));
            },
        )?;
        Ok(QuiesceReport { messages_in_flight: self.model.lock().messages_in_flight })
    }

    async fn swap(&self, rule_id: &str, from: Option<u64>, to: u64) -> Result<(), BackendError> {
        self.step(
            SwapStep::Swap,
            rule_id,
            to,
            from,
            |m| {
                if !is_staged(m, rule_id, to) {
                    return Err("target not staged".into());
                }
                match (from, m.installed.get(rule_id)) {
                    (None, None) => Ok(()),
                    (Some(from), Some(&(v, true))) if v == from => Ok(()),
                    (_, found) => {
                        Err(format!("swap from {from:?} but found {found:?} (version, quiesced)"))
                    }
                }
            },
            |m| {
                m.installed.insert(rule_id.to_owned(), (to, false));
            },
        )
    }

    async fn resume(&self, rule_id: &str, active: u64) -> Result<(), BackendError> {
        self.step(
            SwapStep::Resume,
            rule_id,
            active,
            None,
            |m| match m.installed.get(rule_id) {
                Some(&(v, _)) if v == active => Ok(()),
                other => Err(format!("resume v{active} but found {other:?}")),
            },
            |m| {
                m.installed.insert(rule_id.to_owned(), (active, false));
            },
        )
    }

    async fn terminate_old(&self, rule_id: &str, old: u64) -> Result<(), BackendError> {
        self.step(
            SwapStep::TerminateOld,
            rule_id,
            old,
            None,
            |m| {
                if m.installed.get(rule_id).is_some_and(|&(v, _)| v == old) {
                    Err("terminating the installed version".into())
                } else if !is_staged(m, rule_id, old) {
                    Err("terminating a version that is not staged".into())
                } else {
                    Ok(())
                }
            },
            |_| {},
        )
    }

    async fn unstage(&self, rule_id: &str, version: u64) -> Result<(), BackendError> {
        self.step(
            SwapStep::Unstage,
            rule_id,
            version,
            None,
            |m| {
                if m.installed.get(rule_id).is_some_and(|&(v, _)| v == version) {
                    Err("unstaging the installed version".into())
                } else if !is_staged(m, rule_id, version) {
                    Err("unstaging a version that is not staged".into())
                } else {
                    Ok(())
                }
            },
            |m| {
                m.staged.remove(&(rule_id.to_owned(), version));
            },
        )
    }
}
