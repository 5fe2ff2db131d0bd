//! [`CpuSwapBackend`]: hot swaps of rule actors on the CPU backend.
//!
//! - `pre_stage` resolves the host implementation `#[rule]` registered for the artifact (by
//!   id, version and digest); an external PTX-only artifact has none and is refused here, so
//!   the registry never activates something the CPU cannot run.
//! - the first activation starts the rule's actor; later swaps hand the new version's handler
//!   to the actor while it is quiesced, and the actor installs it on resume, carrying the state
//!   over, on the same rings: queued messages wait and are handled by the new version.
//! - quiesce reports how many messages were queued; rollback to a staged version is the same
//!   swap (instant: nothing to load).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;
use ringkernel_codegen::abi::{ack, request};

use super::actor::Pending;
use super::handle::HandleCore;
use crate::__private::HostRule;
use crate::hlc::Hlc;
use crate::rules::{BackendError, CompiledRule, QuiesceReport, RuleSwapBackend, find_host_rule};

#[derive(Default)]
struct State {
    staged: HashMap<(String, u64), &'static HostRule>,
    actors: HashMap<String, Arc<HandleCore>>,
}

/// Swaps rule versions of actors running on host threads.
pub struct CpuSwapBackend {
    state: Mutex<State>,
    clock: Arc<Hlc>,
}

impl CpuSwapBackend {
    /// A backend whose actors tick `clock`.
    pub fn new(clock: Arc<Hlc>) -> Self {
        Self { state: Mutex::new(State::default()), clock }
    }

    pub(crate) fn actor(&self, rule_id: &str) -> Option<Arc<HandleCore>> {
        self.state.lock().actors.get(rule_id).cloned()
    }

    fn staged(&self, rule_id: &str, version: u64) -> Result<&'static HostRule, BackendError> {
        self.state
            .lock()
            .staged
            .get(&(rule_id.to_owned(), version))
            .copied()
            .ok_or_else(|| BackendError::new(format!("`{rule_id}` v{version} is not staged")))
    }

    fn core(&self, rule_id: &str) -> Result<Arc<HandleCore>, BackendError> {
        self.actor(rule_id)
            .ok_or_else(|| BackendError::new(format!("`{rule_id}` has no running actor")))
    }
}

/// Waits until the actor acknowledges `state`: spins for the first microseconds (a swap's
/// blackout is what users feel), then sleeps in short steps so a slow actor does not hold a
/// tokio worker.
async fn acknowledged(core: &HandleCore, state: u32) {
    let started = Instant::now();
    while core.shared.control.acknowledged.load(Ordering::Acquire) != state {
        core.shared.wake();
        if started.elapsed() < Duration::from_micros(200) {
            std::hint::spin_loop();
        } else {
            tokio::time::sleep(Duration::from_micros(100)).await;
        }
    }
}

#[async_trait]
impl RuleSwapBackend for CpuSwapBackend {
    async fn pre_stage(&self, rule: &CompiledRule) -> Result<(), BackendError> {
        let host = find_host_rule(rule).ok_or_else(|| {
            BackendError::new(format!(
                "no host implementation of `{}` v{} with this artifact in the binary: the CPU backend runs `#[rule]` handlers compiled into the program, not PTX-only artifacts",
                rule.rule_id, rule.version
            ))
        })?;
        self.state.lock().staged.insert((rule.rule_id.clone(), rule.version), host);
        Ok(())
    }

    async fn quiesce(&self, rule_id: &str, _active: u64) -> Result<QuiesceReport, BackendError> {
        let core = self.core(rule_id)?;
        core.shared.request(request::QUIESCE);
        acknowledged(&core, ack::QUIESCED).await;
        Ok(QuiesceReport { messages_in_flight: core.producer.lock().len() })
    }

    async fn swap(&self, rule_id: &str, from: Option<u64>, to: u64) -> Result<(), BackendError> {
        let host = self.staged(rule_id, to)?;
        let Some(_) = from else {
            let capacity = 1024;
            let core = super::spawn::start(
                rule_id,
                0,
                capacity,
                (host.new_handler)(),
                to,
                self.clock.clone(),
            )
            .map_err(|e| BackendError::new(e.to_string()))?;
            self.state.lock().actors.insert(rule_id.to_owned(), core);
            return Ok(());
        };
        let core = self.core(rule_id)?;
        *core.shared.installed.lock() = None;
        *core.shared.mailbox.lock() =
            Some(Pending { handler: (host.new_handler)(), keep_state: true, tag: to });
        core.shared.request(request::RUN);
        acknowledged(&core, ack::RUNNING).await;
        match core.shared.installed.lock().take() {
            Some(Ok(tag)) if tag == to => Ok(()),
            Some(Err(why)) => Err(BackendError::new(why)),
            other => Err(BackendError::new(format!(
                "the actor reported {other:?} instead of installing v{to}"
            ))),
        }
    }

    async fn resume(&self, rule_id: &str, _active: u64) -> Result<(), BackendError> {
        let core = self.core(rule_id)?;
        // Anything left in the mailbox belongs to an abandoned swap.
        core.shared.mailbox.lock().take();
        core.shared.request(request::RUN);
        acknowledged(&core, ack::RUNNING).await;
        Ok(())
    }

    async fn terminate_old(&self, _rule_id: &str, _old: u64) -> Result<(), BackendError> {
        // The actor dropped the old handler when it installed the new one.
        Ok(())
    }

    async fn unstage(&self, rule_id: &str, version: u64) -> Result<(), BackendError> {
        self.state.lock().staged.remove(&(rule_id.to_owned(), version));
        Ok(())
    }
}
