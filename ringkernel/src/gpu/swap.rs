//! [`GpuSwapBackend`]: hot swaps of rule actors that run as persistent kernels on a device.
//!
//! - `pre_stage` parses the artifact and loads its module (the slow part: a PTX parse in the
//!   VM, a JIT on a GPU) on a blocking thread, off the swap's critical path, and looks up the
//!   persistent entry. A failed load leaves nothing staged.
//! - the first activation lays the actor out (control block, rings, state) and launches the
//!   staged entry; the state starts as the host implementation's default when the binary has
//!   one, else zeroed (a PTX-only artifact).
//! - `quiesce` asks the kernel to stop at a message boundary; queued messages stay queued.
//! - `swap` tells the quiesced kernel to terminate, waits for it to exit, and launches the
//!   new version's entry with the same parameters: the same rings, the same state buffer. A
//!   version whose rings or state differ in size or type is refused before anything stops.
//!   If the new launch fails, the old entry is relaunched (all or nothing).
//! - rollback is the same swap to a version still staged: nothing is reloaded.
//! - `unstage` unloads the module (unless it is the one running).

use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;

use super::actor::{ActorSpec, GpuLink, launch};
use super::{Image, type_id_for_layout};
use crate::device::{Device, FunctionId, ModuleId};
use crate::handle::HandleCore;
use crate::hlc::Hlc;
use crate::rules::{
    BackendError, CompiledRule, QuiesceReport, RuleSwapBackend, SwapTable, find_host_rule,
};

struct Staged {
    module: ModuleId,
    function: FunctionId,
    spec: ActorSpec,
    /// What checkpoints of the actor record while this version runs.
    identity: crate::checkpoint::Identity,
}

#[derive(Clone)]
struct Running {
    core: Arc<HandleCore>,
    link: Arc<GpuLink>,
    version: u64,
}

type State = SwapTable<Arc<Staged>, Running>;

/// Swaps rule versions of actors running as persistent kernels on one device.
pub struct GpuSwapBackend {
    device: Arc<dyn Device>,
    clock: Arc<Hlc>,
    state: Mutex<State>,
}

impl std::fmt::Debug for GpuSwapBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuSwapBackend").field("device", &self.device.name()).finish()
    }
}

impl GpuSwapBackend {
    /// A backend whose rule actors run on `device`, their clocks starting from `clock`.
    pub fn new(device: Arc<dyn Device>, clock: Arc<Hlc>) -> Self {
        GpuSwapBackend { device, clock, state: Mutex::new(State::default()) }
    }

    pub(crate) fn actor(&self, rule_id: &str) -> Option<Arc<HandleCore>> {
        self.state.lock().actors.get(rule_id).map(|r| r.core.clone())
    }
}

/// The actor layout a rule's version needs: ring geometry and type ids, launch shape, state.
fn spec_of(rule: &CompiledRule, image: &Image) -> ActorSpec {
    let host = find_host_rule(rule).map(|h| (h.new_handler)());
    let (message_type, response_type) = match &host {
        Some(handler) => handler.type_ids(),
        None => (type_id_for_layout(&image.message), type_id_for_layout(&image.response)),
    };
    let state = match &host {
        Some(handler) => handler.state_bytes(),
        None => vec![0; image.state_size],
    };
    ActorSpec {
        id: rule.rule_id.clone(),
        slot: 0,
        capacity: rule.actor_config.queue_capacity,
        message: (message_type, image.message.size as usize),
        response: (response_type, image.response.size as usize),
        state,
        hlc: 0,
        shape: image.shape,
    }
}

/// Runs blocking device work on tokio's blocking pool when there is a runtime, else inline.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => match handle.spawn_blocking(work).await {
            Ok(value) => value,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        },
        Err(_) => work(),
    }
}

impl GpuSwapBackend {
    /// Moves the rule's actor onto a pipeline's rings (see `GpuLink::relink`); its standalone
    /// handle is retired. Returns the actor's link, for the pipeline.
    pub(crate) fn adopt(
        &self,
        rule_id: &str,
        input: super::actor::KernelEnd,
        output: super::actor::KernelEnd,
    ) -> Result<Arc<dyn crate::handle::ActorLink>, String> {
        let Running { core, link, version } =
            self.state.lock().actor(rule_id).map_err(|e| e.to_string())?;
        let function =
            self.state.lock().staged(rule_id, version).map_err(|e| e.to_string())?.function;
        let gauge = input.gauge();
        link.relink(function, input, output)?;
        core.retire_host_ends(gauge);
        Ok(link)
    }
}

#[async_trait]
impl RuleSwapBackend for GpuSwapBackend {
    async fn pre_stage(&self, rule: &CompiledRule) -> Result<(), BackendError> {
        let text = std::str::from_utf8(&rule.ptx)
            .map_err(|e| BackendError::new(format!("the artifact is not UTF-8 text: {e}")))?
            .to_owned();
        let (artifact, image) = super::Image::parse(&text).map_err(BackendError::new)?;
        let spec = spec_of(rule, &image);
        let identity = crate::checkpoint::Identity::of(&artifact);
        let device = self.device.clone();
        let entry = image.persistent.clone();
        let loaded = blocking(move || {
            let module = device.load_module(&text).map_err(|e| e.to_string())?;
            match device.function(module, &entry) {
                Ok(function) => Ok((module, function)),
                Err(e) => {
                    let _ = device.unload(module);
                    Err(e.to_string())
                }
            }
        })
        .await;
        let (module, function) = loaded
            .map_err(|e| BackendError::new(format!("`{}` v{}: {e}", rule.rule_id, rule.version)))?;
        let previous = self.state.lock().staged.insert(
            (rule.rule_id.clone(), rule.version),
            Arc::new(Staged { module, function, spec, identity }),
        );
        if let Some(previous) = previous {
            let _ = self.device.unload(previous.module);
        }
        Ok(())
    }

    async fn quiesce(&self, rule_id: &str, _active: u64) -> Result<QuiesceReport, BackendError> {
        let core = self.state.lock().actor(rule_id)?.core;
        Ok(QuiesceReport { messages_in_flight: core.quiesce().await? })
    }

    async fn swap(&self, rule_id: &str, from: Option<u64>, to: u64) -> Result<(), BackendError> {
        let next = self.state.lock().staged(rule_id, to)?;
        let Some(from) = from else {
            let device = self.device.clone();
            let spec = ActorSpec { hlc: self.clock.now().packed, ..next.spec.clone() };
            let (core, link) = launch(device, &spec, next.function, None)
                .map_err(|e| BackendError::new(e.to_string()))?;
            *core.identity.lock() = Some(next.identity.clone());
            self.state
                .lock()
                .actors
                .insert(rule_id.to_owned(), Running { core, link, version: to });
            return Ok(());
        };
        let Running { core, link, version: running } = self.state.lock().actor(rule_id)?;
        let old = self.state.lock().staged(rule_id, running)?;
        debug_assert_eq!(running, from, "the registry swaps from the running version");
        // Sizes, not type ids: a PTX-only version names its types only by layout (the
        // registry's ABI check compared those), and it reads the type ids from the rings.
        let same_rings = (core.message.1, core.response.1)
            == (next.spec.message.1, next.spec.response.1)
            && old.spec.state.len() == next.spec.state.len();
        if !same_rings {
            return Err(BackendError::new(format!(
                "`{rule_id}` v{to} needs other rings or another state size than v{running}: it cannot take over this actor"
            )));
        }
        link.replace_kernel(&core, old.function, next.function).await.map_err(BackendError::new)?;
        if core.link.failure().is_some() {
            return Err(core.stopped_before(&format!("ran v{to}")));
        }
        if let Some(actor) = self.state.lock().actors.get_mut(rule_id) {
            actor.version = to;
        }
        *core.identity.lock() = Some(next.identity.clone());
        Ok(())
    }

    async fn resume(&self, rule_id: &str, _active: u64) -> Result<(), BackendError> {
        let core = self.state.lock().actor(rule_id)?.core;
        core.resume().await
    }

    async fn terminate_old(&self, rule_id: &str, _old: u64) -> Result<(), BackendError> {
        // The old kernel stopped in `swap`; reap its launch now, after the blackout. Its
        // module stays loaded for an instant rollback.
        let link = self.state.lock().actor(rule_id)?.link;
        blocking(move || link.retire()).await;
        Ok(())
    }

    async fn unstage(&self, rule_id: &str, version: u64) -> Result<(), BackendError> {
        let mut state = self.state.lock();
        if state.actors.get(rule_id).is_some_and(|r| r.version == version) {
            return Err(BackendError::new(format!(
                "`{rule_id}` v{version} is running: it cannot be unstaged"
            )));
        }
        if let Some(staged) = state.staged.remove(&(rule_id.to_owned(), version)) {
            let _ = self.device.unload(staged.module);
        }
        Ok(())
    }
}
