//! [`Runtime`]: launching actors on a backend, and the rule registry wired to it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::__private::ByteHandler;
use crate::cpu::{CpuSwapBackend, KernelHandle};
use crate::hlc::Hlc;
use crate::kernel::{GpuKernel, HandlerError, RingKernelHandler};
use crate::message::RingMessage;
use crate::rules::RuleRegistry;

/// Which backend runs the actors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// CUDA when the `cuda` feature is on and a driver and device are present, else the CPU.
    #[default]
    Auto,
    /// Host threads; always available.
    Cpu,
    /// An NVIDIA GPU (feature `cuda`).
    Cuda,
}

/// Errors of the runtime.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// The backend cannot be used here.
    #[error("backend {backend:?} is not available: {reason}")]
    BackendUnavailable {
        /// The backend asked for.
        backend: Backend,
        /// Why.
        reason: String,
    },
    /// An actor could not be started.
    #[error("kernel `{id}` could not be launched: {reason}")]
    Launch {
        /// Kernel id.
        id: String,
        /// Why.
        reason: String,
    },
    /// No rule actor with this id is running.
    #[error("rule `{0}` has no active version on this runtime")]
    NoRuleActor(String),
    /// The actor's rings carry other types than the handle asks for.
    #[error("`{id}` does not carry {wanted}")]
    WrongTypes {
        /// Kernel or rule id.
        id: String,
        /// The message and response types asked for.
        wanted: String,
    },
}

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

    /// Starts the runtime. `Cuda` without the `cuda` feature is an error value.
    pub fn build(self) -> Result<Runtime, RuntimeError> {
        let backend = match self.backend {
            Backend::Cpu | Backend::Auto => Backend::Cpu,
            Backend::Cuda => {
                return Err(RuntimeError::BackendUnavailable {
                    backend: Backend::Cuda,
                    reason: "this build has no CUDA backend (enable the `cuda` feature)".into(),
                });
            }
        };
        let clock = Arc::new(Hlc::new(self.node));
        let swap = Arc::new(CpuSwapBackend::new(clock.clone()));
        let registry = RuleRegistry::new(self.max_history, swap.clone());
        Ok(Runtime { backend, clock, swap, registry, slots: AtomicU32::new(0) })
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
    swap: Arc<CpuSwapBackend>,
    registry: RuleRegistry,
    slots: AtomicU32,
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

    /// Launches a `#[ring_kernel]` kernel: an actor thread running its handler on its state.
    pub fn launch<K, M, R>(&self, kernel: K) -> Result<KernelHandle<M, R>, RuntimeError>
    where
        K: GpuKernel + ByteHandler + RingKernelHandler<M, R> + 'static,
        M: RingMessage,
        R: RingMessage,
    {
        let id = kernel.id().to_owned();
        let capacity = kernel.queue_capacity();
        let slot = self.slots.fetch_add(1, Ordering::Relaxed);
        let core =
            crate::cpu::spawn::start(&id, slot, capacity, Box::new(kernel), 0, self.clock.clone())?;
        crate::cpu::spawn::typed(core)
    }

    /// Launches a hand-written `RingKernelHandler` (async handlers included, run on a small
    /// executor of their own in the actor thread).
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
        let core = crate::cpu::spawn::start(
            id,
            slot,
            queue_capacity,
            Box::new(adapter),
            0,
            self.clock.clone(),
        )?;
        crate::cpu::spawn::typed(core)
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
        crate::cpu::spawn::typed(core)
    }
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
        let message = M::decode(message).map_err(|e| HandlerError::Rejected(e.to_string()))?;
        let result = self.executor.block_on(self.handler.handle(ctx, message))?;
        result.encode(response).map_err(|e| HandlerError::Rejected(e.to_string()))
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
