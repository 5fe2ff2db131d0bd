//! [`Runtime`]: launching actors on a backend, and the rule registry wired to it.

pub use crate::backend::{Backend, RuntimeError};

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::__private::ByteHandler;
use crate::checkpoint::{Checkpoint, CheckpointError, Identity};
use crate::cpu::CpuSwapBackend;
use crate::device::{Device, FunctionId, LaunchShape, ModuleId};
use crate::gpu::GpuSwapBackend;
use crate::gpu::actor::ActorSpec;
use crate::handle::access::LaunchOptions;
use crate::handle::{HandleCore, KernelHandle, typed};
use crate::hlc::Hlc;
use crate::kernel::{GpuKernel, HandlerError, RingKernelHandler};
use crate::message::RingMessage;
use crate::rules::RuleRegistry;

/// Builds a [`Runtime`].
#[derive(Debug, Clone)]
pub struct RuntimeBuilder {
    backend: Backend,
    max_history: usize,
    node: u16,
}

impl RuntimeBuilder {
    /// The backend (default `Auto`).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Rule versions kept per rule (default 5).
    pub fn max_history(mut self, max_history: usize) -> Self {
        self.max_history = max_history;
        self
    }

    /// Node id of this runtime's clock.
    pub fn node(mut self, node: u16) -> Self {
        self.node = node;
        self
    }

    /// Starts the runtime. A backend this build or machine cannot provide (`Cuda` without
    /// the `cuda` feature, a driver or a device; `Emulated` without the `emulator` feature) is
    /// an error value; `Auto` picks CUDA when it is usable, else the CPU.
    pub fn build(self) -> Result<Runtime, RuntimeError> {
        let (backend, device) = open_backend(self.backend)?;
        let clock = Arc::new(Hlc::new(self.node));
        let cpu = Arc::new(CpuSwapBackend::new(clock.clone()));
        let (swap, registry) = match &device {
            None => (Swap::Cpu(cpu.clone()), RuleRegistry::new(self.max_history, cpu)),
            Some(device) => {
                let gpu = Arc::new(GpuSwapBackend::new(device.clone(), clock.clone()));
                (Swap::Gpu(gpu.clone()), RuleRegistry::new(self.max_history, gpu))
            }
        };
        Ok(Runtime {
            backend,
            clock,
            device,
            swap,
            registry,
            slots: AtomicU32::new(0),
            actors: Default::default(),
        })
    }
}

/// The device behind a backend (`None`: host threads).
fn open_backend(wanted: Backend) -> Result<(Backend, Option<Arc<dyn Device>>), RuntimeError> {
    match wanted {
        Backend::Cpu => Ok((Backend::Cpu, None)),
        Backend::Auto => Ok(match cuda_device() {
            Ok(device) => (Backend::Cuda, Some(device)),
            Err(_) => (Backend::Cpu, None),
        }),
        Backend::Cuda => cuda_device()
            .map(|device| (Backend::Cuda, Some(device)))
            .map_err(|reason| RuntimeError::BackendUnavailable { backend: Backend::Cuda, reason }),
        Backend::Emulated => {
            emulated_device().map(|device| (Backend::Emulated, Some(device))).map_err(|reason| {
                RuntimeError::BackendUnavailable { backend: Backend::Emulated, reason }
            })
        }
    }
}

#[cfg(feature = "cuda")]
fn cuda_device() -> Result<Arc<dyn Device>, String> {
    crate::device::CudaDevice::new(0)
        .map(|d| Arc::new(d) as Arc<dyn Device>)
        .map_err(|e| e.to_string())
}

#[cfg(not(feature = "cuda"))]
fn cuda_device() -> Result<Arc<dyn Device>, String> {
    Err("this build has no CUDA backend (enable the `cuda` feature)".into())
}

#[cfg(feature = "emulator")]
fn emulated_device() -> Result<Arc<dyn Device>, String> {
    Ok(Arc::new(crate::device::EmulatedDevice::new()))
}

#[cfg(not(feature = "emulator"))]
fn emulated_device() -> Result<Arc<dyn Device>, String> {
    Err("this build has no PTX virtual machine (enable the `emulator` feature)".into())
}

/// The swap backend of the runtime's rule actors.
enum Swap {
    Cpu(Arc<CpuSwapBackend>),
    Gpu(Arc<GpuSwapBackend>),
}

impl Swap {
    fn actor(&self, rule_id: &str) -> Option<Arc<HandleCore>> {
        match self {
            Swap::Cpu(cpu) => cpu.actor(rule_id),
            Swap::Gpu(gpu) => gpu.actor(rule_id),
        }
    }
}

/// Runs actors and hot-swaps rules.
///
/// ```
/// use ringkernel::{Backend, Runtime};
/// let runtime = Runtime::builder().backend(Backend::Cpu).build().unwrap();
/// assert_eq!(runtime.backend(), Backend::Cpu);
/// ```
pub struct Runtime {
    backend: Backend,
    clock: Arc<Hlc>,
    device: Option<Arc<dyn Device>>,
    swap: Swap,
    registry: RuleRegistry,
    slots: AtomicU32,
    /// The actors `launch` and `launch_handler` started, for `metrics_text`.
    actors: parking_lot::Mutex<Vec<std::sync::Weak<HandleCore>>>,
}

impl Runtime {
    /// A builder.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder { backend: Backend::Auto, max_history: 5, node: 0 }
    }

    /// The backend actually in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where the actors run, for logs: `cpu (host threads)`, `emulated (PTX VM ...)`,
    /// `cuda (NVIDIA H200)`.
    ///
    /// ```
    /// use ringkernel::{Backend, Runtime};
    /// let runtime = Runtime::builder().backend(Backend::Cpu).build().unwrap();
    /// assert_eq!(runtime.describe(), "cpu (host threads)");
    /// ```
    pub fn describe(&self) -> String {
        match self.device_name() {
            Some(device) => format!("{} ({device})", self.backend),
            None => format!("{} (host threads)", self.backend),
        }
    }

    /// The device the actors run on (`None` on the CPU backend).
    pub fn device_name(&self) -> Option<String> {
        self.device.as_ref().map(|d| d.name())
    }

    /// Launches a `#[ring_kernel]` kernel with its state: on `Cpu` an actor thread running
    /// its Rust handler; on `Emulated` and `Cuda` its PTX artifact's persistent entry on the
    /// device, with the state copied to device memory. The handle is the same either way.
    pub fn launch<K, M, R>(&self, kernel: K) -> Result<KernelHandle<M, R>, RuntimeError>
    where
        K: GpuKernel + ByteHandler + RingKernelHandler<M, R> + 'static,
        M: RingMessage,
        R: RingMessage,
    {
        let id = kernel.id().to_owned();
        let capacity = kernel.queue_capacity();
        let slot = self.slots.fetch_add(1, Ordering::Relaxed);
        let identity = kernel.ptx_artifact().and_then(Identity::of_text);
        let Some(device) = &self.device else {
            let (core, _) = crate::cpu::spawn::start(
                &id,
                slot,
                capacity,
                Box::new(kernel),
                0,
                self.clock.clone(),
            )?;
            *core.identity.lock() = identity;
            self.track(&core);
            return typed(core);
        };
        let (spec, function, module) = self.device_actor(device, &kernel, slot)?;
        let (core, _) = crate::gpu::actor::launch(device.clone(), &spec, function, Some(module))?;
        *core.identity.lock() = identity;
        self.track(&core);
        typed(core)
    }

    /// What a device needs to run `kernel` as actor `slot`: its layout checked against its
    /// artifact, its module loaded, its persistent entry found.
    pub(crate) fn device_actor(
        &self,
        device: &Arc<dyn Device>,
        kernel: &dyn crate::pipeline::StageKernel,
        slot: u32,
    ) -> Result<(ActorSpec, FunctionId, ModuleId), RuntimeError> {
        let id = kernel.id().to_owned();
        let fail = |reason: String| RuntimeError::Launch { id: id.clone(), reason };
        let ptx = kernel.ptx_artifact().ok_or_else(|| {
            fail(format!("it has no PTX artifact, which the {} backend runs", self.backend))
        })?;
        let (_, image) = crate::gpu::Image::parse(ptx).map_err(&fail)?;
        let (message_size, response_size, state_size) = kernel.sizes();
        if (message_size, response_size, state_size)
            != (image.message.size as usize, image.response.size as usize, image.state_size)
        {
            return Err(fail(format!(
                "its artifact's layouts ({} -> {}, state {} bytes) are not the kernel's: rebuild",
                image.message.name, image.response.name, image.state_size
            )));
        }
        let (message_type, response_type) = kernel.type_ids();
        let config = kernel.launch_config();
        let spec = ActorSpec {
            id: id.clone(),
            slot,
            capacity: kernel.queue_capacity(),
            message: (message_type, message_size),
            response: (response_type, response_size),
            state: kernel.state_bytes(),
            hlc: self.clock.now().packed,
            shape: LaunchShape {
                grid: [config.grid_size.max(1), 1, 1],
                block: [config.block_size.max(1), 1, 1],
                shared_bytes: config.shared_memory_bytes,
            },
        };
        let module = device.load_module(ptx).map_err(|e| fail(e.to_string()))?;
        match device.function(module, &image.persistent) {
            Ok(function) => Ok((spec, function, module)),
            Err(e) => {
                let _ = device.unload(module);
                Err(fail(e.to_string()))
            }
        }
    }

    /// Launches `kernel` with the state, clock and counters of `checkpoint` (taken on any
    /// backend); its handle numbers messages on from the checkpoint's `messages_processed`.
    /// Refused, with the reason and nothing launched, when the checkpoint's digest
    /// fails or its state layout or ABI hash is not the kernel's.
    pub fn launch_restored<K, M, R>(
        &self,
        mut kernel: K,
        checkpoint: &Checkpoint,
    ) -> Result<KernelHandle<M, R>, CheckpointError>
    where
        K: GpuKernel + ByteHandler + RingKernelHandler<M, R> + 'static,
        M: RingMessage,
        R: RingMessage,
    {
        let checkpoint = &self.restore_state(&mut kernel, checkpoint)?;
        let id = kernel.id().to_owned();
        let launch_error =
            |e: RuntimeError| CheckpointError::Actor { id: id.clone(), reason: e.to_string() };
        let handle = self.launch(kernel).map_err(launch_error)?;
        crate::checkpoint::restore_counters(handle.core.link.control(), checkpoint);
        // Sequence numbers go on from the messages the checkpointed actor had handled.
        handle.core.next_sequence.store(checkpoint.messages_processed, Ordering::Relaxed);
        Ok(handle)
    }

    /// The part of a restore that comes before the launch: checks `checkpoint` (its digest,
    /// like one read from a file, then its identity against `kernel`'s), puts its state into
    /// `kernel` and, on host threads, moves the runtime's clock past the checkpoint's. The
    /// counters and the device clock go into the control block once the actor exists
    /// ([`crate::checkpoint::restore_counters`]). Returns the checked checkpoint.
    pub(crate) fn restore_state<K: GpuKernel + ByteHandler + ?Sized>(
        &self,
        kernel: &mut K,
        checkpoint: &Checkpoint,
    ) -> Result<Checkpoint, CheckpointError> {
        // A checkpoint built or edited in memory is checked like one read from a file.
        let checkpoint = Checkpoint::from_bytes(&checkpoint.to_bytes())?;
        let id = kernel.id().to_owned();
        let incompatible = |reason: String| CheckpointError::Incompatible {
            checkpoint: checkpoint.kernel_id.clone(),
            kernel: id.clone(),
            reason,
        };
        let identity = kernel.ptx_artifact().and_then(Identity::of_text).ok_or_else(|| {
            incompatible("the kernel has no artifact to compare layouts with".into())
        })?;
        identity.accepts(&id, &checkpoint)?;
        kernel
            .set_state_bytes(&checkpoint.state)
            .map_err(|e| incompatible(format!("its state does not decode: {e}")))?;
        if self.device.is_none() {
            let sent_at = crate::hlc::HlcTimestamp { packed: checkpoint.hlc, node: 0 };
            self.clock.update(sent_at).map_err(|e| incompatible(format!("its clock: {e}")))?;
        }
        Ok(checkpoint)
    }

    /// [`Runtime::launch`] with options: with an access policy, only senders that satisfy it
    /// reach the handler (see [`crate::handle::access`]).
    pub fn launch_with<K, M, R>(
        &self,
        kernel: K,
        options: LaunchOptions,
    ) -> Result<KernelHandle<M, R>, RuntimeError>
    where
        K: GpuKernel + ByteHandler + RingKernelHandler<M, R> + 'static,
        M: RingMessage,
        R: RingMessage,
    {
        let handle = self.launch(kernel)?;
        apply(&handle, options)?;
        Ok(handle)
    }

    /// [`Runtime::launch_handler`] with options (see [`Runtime::launch_with`]). A sender's
    /// [`crate::AuthContext`] reaches the handler's `handle_secure`.
    pub fn launch_handler_with<H, M, R>(
        &self,
        id: &str,
        queue_capacity: u32,
        handler: H,
        options: LaunchOptions,
    ) -> Result<KernelHandle<M, R>, RuntimeError>
    where
        H: RingKernelHandler<M, R> + 'static,
        M: RingMessage,
        R: RingMessage,
    {
        let handle = self.launch_handler(id, queue_capacity, handler)?;
        apply(&handle, options)?;
        Ok(handle)
    }

    /// Launches a hand-written `RingKernelHandler` (async handlers included, run on a small
    /// executor of their own in the actor thread). Such a handler is Rust code with no PTX,
    /// so it runs on a host thread whichever the backend, with the same handle and rings.
    pub fn launch_handler<H, M, R>(
        &self,
        id: &str,
        queue_capacity: u32,
        handler: H,
    ) -> Result<KernelHandle<M, R>, RuntimeError>
    where
        H: RingKernelHandler<M, R> + 'static,
        M: RingMessage,
        R: RingMessage,
    {
        let executor = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| RuntimeError::Launch { id: id.to_owned(), reason: e.to_string() })?;
        let adapter = AsyncAdapter { handler, executor, _types: std::marker::PhantomData };
        let slot = self.slots.fetch_add(1, Ordering::Relaxed);
        let (core, _) = crate::cpu::spawn::start(
            id,
            slot,
            queue_capacity,
            Box::new(adapter),
            0,
            self.clock.clone(),
        )?;
        self.track(&core);
        typed(core)
    }

    /// The device actors run on (`None`: host threads).
    pub(crate) fn device(&self) -> Option<&Arc<dyn Device>> {
        self.device.as_ref()
    }

    /// The runtime's clock.
    pub(crate) fn clock(&self) -> &Arc<Hlc> {
        &self.clock
    }

    /// The running actor of `rule_id`, moved onto a pipeline's rings (see
    /// [`crate::pipeline`]): its link, and on `Cpu` its shared block for the stage before it
    /// to wake.
    pub(crate) fn adopt_rule(
        &self,
        rule_id: &str,
        rings: crate::pipeline::StageRings,
    ) -> Result<crate::pipeline::AdoptedStage, String> {
        use crate::pipeline::StageRings;
        match (&self.swap, rings) {
            (Swap::Cpu(cpu), StageRings::Threads(relink)) => {
                cpu.adopt(rule_id, relink).map(|(link, shared)| (link, Some(shared)))
            }
            (Swap::Gpu(gpu), StageRings::Kernel(input, output)) => {
                gpu.adopt(rule_id, input, output).map(|link| (link, None))
            }
            _ => Err(format!("rule `{rule_id}` runs on another backend than the pipeline")),
        }
    }

    /// The standalone core of `rule_id`'s actor, if it has one.
    pub(crate) fn rule_core(&self, rule_id: &str) -> Option<Arc<HandleCore>> {
        self.swap.actor(rule_id)
    }

    /// A fresh actor slot number.
    pub(crate) fn next_slot(&self) -> u32 {
        self.slots.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn track(&self, core: &Arc<HandleCore>) {
        tracing::info!(target: "ringkernel::actor", actor = %core.id, backend = %self.backend, "actor started");
        let mut actors = self.actors.lock();
        actors.retain(|a| a.strong_count() > 0);
        actors.push(Arc::downgrade(core));
    }

    /// The runtime's actors and registry in the Prometheus text format (see
    /// [`crate::observe`] for the metric names).
    ///
    /// ```
    /// let rt = ringkernel::Runtime::builder().backend(ringkernel::Backend::Cpu).build().unwrap();
    /// assert!(rt.metrics_text().contains("# TYPE ringkernel_messages_processed_total counter"));
    /// ```
    pub fn metrics_text(&self) -> String {
        let cores: Vec<Arc<HandleCore>> =
            self.actors.lock().iter().filter_map(std::sync::Weak::upgrade).collect();
        let mut actors = Vec::new();
        for core in cores {
            actors.push((core.id.clone(), core.metrics()));
            actors.extend(core.link.stage_metrics());
        }
        for id in self.registry.list_rules() {
            if let Some(core) = self.swap.actor(&id) {
                actors.push((id, core.metrics()));
            }
        }
        crate::observe::render(self.backend.name(), &actors, &self.registry)
    }

    /// The registry whose swaps run on this runtime's actors.
    pub fn rule_registry(&self) -> &RuleRegistry {
        &self.registry
    }

    /// A handle to the actor of `rule_id`, running whatever version the registry activated.
    pub fn rule_actor<M: RingMessage, R: RingMessage>(
        &self,
        rule_id: &str,
    ) -> Result<KernelHandle<M, R>, RuntimeError> {
        let core = self
            .swap
            .actor(rule_id)
            .ok_or_else(|| RuntimeError::NoRuleActor(rule_id.to_owned()))?;
        typed(core)
    }

    /// [`Runtime::rule_actor`], putting `options` in force on the rule's actor first (at a
    /// message boundary; it stays in force across swaps and rollbacks). Authorise senders
    /// after this call: their permission bits follow the policy in force.
    pub fn rule_actor_with<M: RingMessage, R: RingMessage>(
        &self,
        rule_id: &str,
        options: LaunchOptions,
    ) -> Result<KernelHandle<M, R>, RuntimeError> {
        let handle = self.rule_actor(rule_id)?;
        apply(&handle, options)?;
        Ok(handle)
    }
}

/// Puts launch options in force on a started actor; an actor that refuses is terminated.
fn apply<M: RingMessage, R: RingMessage>(
    handle: &KernelHandle<M, R>,
    options: LaunchOptions,
) -> Result<(), RuntimeError> {
    let Some(policy) = options.policy().cloned() else { return Ok(()) };
    handle.core.set_access(Some(policy))
}

/// Runs an async `RingKernelHandler` as a byte handler.
struct AsyncAdapter<H, M, R> {
    handler: H,
    executor: tokio::runtime::Runtime,
    _types: std::marker::PhantomData<fn(M) -> R>,
}

impl<H, M, R> ByteHandler for AsyncAdapter<H, M, R>
where
    H: RingKernelHandler<M, R>,
    M: RingMessage,
    R: RingMessage,
{
    fn handle_bytes(
        &mut self,
        ctx: &mut crate::RingContext,
        message: &[u8],
        response: &mut [u8],
    ) -> Result<(), HandlerError> {
        self.handle_bytes_from(ctx, None, message, response)
    }

    fn handle_bytes_from(
        &mut self,
        ctx: &mut crate::RingContext,
        sender: Option<crate::AuthContext>,
        message: &[u8],
        response: &mut [u8],
    ) -> Result<(), HandlerError> {
        let message = M::decode(message).map_err(|e| HandlerError::Rejected(e.to_string()))?;
        let result = match sender {
            Some(auth) => {
                let mut secure = crate::SecureRingContext::new(ctx.clone(), auth);
                self.executor.block_on(self.handler.handle_secure(&mut secure, message))?
            }
            None => self.executor.block_on(self.handler.handle(ctx, message))?,
        };
        result.encode(response).map_err(|e| HandlerError::Rejected(e.to_string()))
    }

    fn wants_sender(&self) -> bool {
        true
    }

    fn state_bytes(&self) -> Vec<u8> {
        Vec::new()
    }

    fn set_state_bytes(&mut self, _bytes: &[u8]) -> Result<(), crate::MessageError> {
        Ok(())
    }

    fn sizes(&self) -> (usize, usize, usize) {
        (M::LAYOUT.size as usize, R::LAYOUT.size as usize, 0)
    }

    fn type_ids(&self) -> (u64, u64) {
        (M::TYPE_ID, R::TYPE_ID)
    }
}
