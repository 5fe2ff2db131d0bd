//! [`CpuSwapBackend`]: hot swaps of rule actors on the CPU backend.
//!
//! - `pre_stage` resolves the host implementation `#[rule]` registered for the artifact (by
//!   id, version and digest). An external PTX-only artifact has none: with the `emulator`
//!   feature (the default) it is parsed for the PTX VM and each message runs its batch entry
//!   there (see `ptx_rule.rs`); without it, it is refused, so the registry never activates
//!   something the CPU cannot run.
//! - the first activation starts the rule's actor; later swaps hand the new version's handler
//!   to the actor while it is quiesced, and the actor installs it on resume, carrying the state
//!   over, on the same rings: queued messages wait and are handled by the new version.
//! - quiesce reports how many messages were queued; rollback to a staged version is the same
//!   swap (instant: nothing to load).

use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;

use super::actor::{Pending, Shared};
use crate::__private::HostRule;
use crate::handle::HandleCore;
use crate::hlc::Hlc;
use crate::rules::{
    BackendError, CompiledRule, QuiesceReport, RuleSwapBackend, SwapTable, find_host_rule,
};

/// A staged version: how it runs on host threads, and its rings' capacity.
#[derive(Clone)]
struct Staged {
    run: Run,
    queue_capacity: u32,
    /// What checkpoints of the actor record while this version runs.
    identity: Option<crate::checkpoint::Identity>,
}

/// How a staged version runs on host threads.
#[derive(Clone)]
enum Run {
    /// The `#[rule]` compiled into this binary.
    Host(&'static HostRule),
    /// A PTX-only artifact, run in the PTX VM.
    #[cfg(feature = "emulator")]
    Ptx(Arc<super::ptx_rule::PtxProgram>),
}

impl Staged {
    fn new_handler(&self) -> Result<Box<dyn crate::__private::ByteHandler>, BackendError> {
        match &self.run {
            Run::Host(host) => Ok((host.new_handler)()),
            #[cfg(feature = "emulator")]
            Run::Ptx(program) => program.handler().map_err(BackendError::new),
        }
    }
}

type State = SwapTable<Staged, (Arc<HandleCore>, Arc<Shared>)>;

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
        self.state.lock().actors.get(rule_id).map(|(core, _)| core.clone())
    }
}

impl CpuSwapBackend {
    /// Moves the rule's actor onto a pipeline's rings: quiesced, it takes them when it next
    /// runs; its standalone handle is retired. Returns the actor's link and shared block (for
    /// the stage before it to wake).
    pub(crate) fn adopt(
        &self,
        rule_id: &str,
        relink: super::actor::Relink,
    ) -> Result<(Arc<dyn crate::handle::ActorLink>, Arc<Shared>), String> {
        let (core, shared) = self.state.lock().actor(rule_id).map_err(|e| e.to_string())?;
        core.request(ringkernel_codegen::abi::request::QUIESCE);
        let limit = std::time::Duration::from_secs(10);
        if !crate::handle::wait_for(&core, ringkernel_codegen::abi::ack::QUIESCED, limit) {
            return Err(format!(
                "`{rule_id}` did not stop at a message boundary to join the pipeline"
            ));
        }
        let gauge = relink.input.gauge();
        *shared.relink.lock() = Some(relink);
        core.retire_host_ends(gauge);
        Ok((core.link.clone(), shared))
    }
}

#[async_trait]
impl RuleSwapBackend for CpuSwapBackend {
    async fn pre_stage(&self, rule: &CompiledRule) -> Result<(), BackendError> {
        let run = match find_host_rule(rule) {
            Some(host) => Run::Host(host),
            None => ptx_only(rule)?,
        };
        let identity =
            std::str::from_utf8(&rule.ptx).ok().and_then(crate::checkpoint::Identity::of_text);
        let staged = Staged { run, queue_capacity: rule.actor_config.queue_capacity, identity };
        self.state.lock().staged.insert((rule.rule_id.clone(), rule.version), staged);
        Ok(())
    }

    async fn quiesce(&self, rule_id: &str, _active: u64) -> Result<QuiesceReport, BackendError> {
        let (core, _) = self.state.lock().actor(rule_id)?;
        Ok(QuiesceReport { messages_in_flight: core.quiesce().await? })
    }

    async fn swap(&self, rule_id: &str, from: Option<u64>, to: u64) -> Result<(), BackendError> {
        let staged = self.state.lock().staged(rule_id, to)?;
        let handler = staged.new_handler()?;
        let Some(_) = from else {
            let capacity = staged.queue_capacity;
            let started =
                super::spawn::start(rule_id, 0, capacity, handler, to, self.clock.clone())
                    .map_err(|e| BackendError::new(e.to_string()))?;
            *started.0.identity.lock() = staged.identity.clone();
            self.state.lock().actors.insert(rule_id.to_owned(), started);
            return Ok(());
        };
        let (core, shared) = self.state.lock().actor(rule_id)?;
        *shared.installed.lock() = None;
        *shared.mailbox.lock() = Some(Pending { handler, keep_state: true, tag: to });
        core.resume().await?;
        match shared.installed.lock().take() {
            Some(Ok(tag)) if tag == to => {
                *core.identity.lock() = staged.identity.clone();
                Ok(())
            }
            Some(Err(why)) => Err(BackendError::new(why)),
            other => Err(BackendError::new(format!(
                "the actor reported {other:?} instead of installing v{to}"
            ))),
        }
    }

    async fn resume(&self, rule_id: &str, _active: u64) -> Result<(), BackendError> {
        let (core, shared) = self.state.lock().actor(rule_id)?;
        // Anything left in the mailbox belongs to an abandoned swap.
        shared.mailbox.lock().take();
        core.resume().await
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

/// Stages a PTX-only artifact for the PTX VM (see the module docs).
#[cfg(feature = "emulator")]
fn ptx_only(rule: &CompiledRule) -> Result<Run, BackendError> {
    let text = std::str::from_utf8(&rule.ptx)
        .map_err(|e| BackendError::new(format!("the artifact is not UTF-8 text: {e}")))?;
    let program = super::ptx_rule::PtxProgram::parse(text).map_err(|e| {
        BackendError::new(format!(
            "`{}` v{} has no host implementation and its PTX cannot run in the PTX VM: {e}",
            rule.rule_id, rule.version
        ))
    })?;
    Ok(Run::Ptx(program))
}

#[cfg(not(feature = "emulator"))]
fn ptx_only(rule: &CompiledRule) -> Result<Run, BackendError> {
    Err(BackendError::new(format!(
        "no host implementation of `{}` v{} with this artifact in the binary, and this build has no PTX VM (feature `emulator`) to run a PTX-only artifact on the CPU backend",
        rule.rule_id, rule.version
    )))
}
