//! The persistent-kernel actor over any [`Device`].
//!
//! `launch` lays the actor out as the ABI says: the control block and both rings in mapped
//! memory (the host polls them; on a GPU they cross PCIe, never the kernel's stream), the state
//! in device memory, initialised from the kernel value's state. It then launches the
//! artifact's persistent entry with `(control, input ring, output ring, state)` and returns
//! the same [`HandleCore`] the CPU backend builds, so `KernelHandle` works unchanged.
//!
//! A small monitor thread per actor polls the launch (every millisecond): a kernel that
//! faulted, or ended without being told to, makes the handle report the actor gone (sends and
//! calls return `Terminated`) with the device's reason in [`ActorLink::failure`], instead of
//! leaving callers waiting for responses that will never come.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use ringkernel_codegen::abi::{ABI_VERSION, ControlBlock, ack, request};

use crate::device::{
    Device, DeviceError, FunctionId, LaunchId, LaunchShape, MappedMemory, ModuleId,
};
use crate::handle::{ActorLink, HandleCore, acknowledged};

/// How long a swap waits for the running kernel to acknowledge `TERMINATE`.
const STOP_LIMIT: Duration = Duration::from_secs(2);
use crate::backend::RuntimeError;
use crate::ring::{Consumer, DeviceRing, Producer, Ring, RingGauge};

/// One end of a ring as a persistent kernel holds it: where the kernel sees the ring, and
/// the memory, kept alive until the kernel stopped. The ring is in mapped memory when the
/// host holds the other end, in device memory when another kernel on the device does.
pub(crate) struct KernelEnd {
    address: u64,
    gauge: RingGauge,
    _memory: Box<dyn Send + Sync>,
}

impl KernelEnd {
    /// The kernel reads `input`, a ring in mapped memory the host writes.
    pub fn reading(input: Consumer) -> Result<KernelEnd, String> {
        let address = input.device_address().ok_or_else(not_mapped)?;
        Ok(KernelEnd { address, gauge: input.gauge(), _memory: Box::new(input) })
    }

    /// The kernel writes `output`, a ring in mapped memory the host reads.
    pub fn writing(output: Producer) -> Result<KernelEnd, String> {
        let address = output.device_address().ok_or_else(not_mapped)?;
        Ok(KernelEnd { address, gauge: output.gauge(), _memory: Box::new(output) })
    }

    /// One end of a ring in device memory (the kernel at the other end holds another).
    pub fn on_device(ring: &Arc<DeviceRing>) -> KernelEnd {
        let address = ring.device_address();
        KernelEnd { address, gauge: ring.gauge(), _memory: Box::new(ring.clone()) }
    }

    /// Where the kernel sees the ring.
    pub fn device_address(&self) -> u64 {
        self.address
    }

    /// A gauge of the ring's length.
    pub fn gauge(&self) -> RingGauge {
        self.gauge.clone()
    }
}

fn not_mapped() -> String {
    "a kernel's ring must be in memory the device maps".into()
}

/// What an actor's rings and state look like.
#[derive(Debug, Clone)]
pub(crate) struct ActorSpec {
    pub id: String,
    pub slot: u32,
    pub capacity: u32,
    /// Type id and size of the messages.
    pub message: (u64, usize),
    /// Type id and size of the responses.
    pub response: (u64, usize),
    /// The initial state bytes (empty: stateless).
    pub state: Vec<u8>,
    /// The actor's hybrid logical clock at launch (packed): the kernel's `ctx.now()` ticks it.
    pub hlc: u64,
    pub shape: LaunchShape,
}

/// The running persistent kernel of one actor, as its handles see it.
pub(crate) struct GpuLink {
    device: Arc<dyn Device>,
    /// Freed in `Drop` only once the kernel stopped (leaked if it never does).
    control: std::mem::ManuallyDrop<MappedMemory>,
    state_address: u64,
    state_len: usize,
    shape: LaunchShape,
    /// `(control, input ring, output ring, state)`: the persistent entry's parameters.
    params: Mutex<[u64; 4]>,
    /// The launch in flight; `None` between a swap's stop and its relaunch, and after join.
    running: Mutex<Option<LaunchId>>,
    /// Launches a swap replaced, exiting; reaped by `retire` after the blackout.
    retiring: Mutex<Vec<LaunchId>>,
    /// A module the actor owns (a kernel launched directly), unloaded after the last launch;
    /// rule actors run modules their swap backend owns.
    owned_module: Mutex<Option<ModuleId>>,
    failure: OnceLock<String>,
    joined: AtomicBool,
    /// The kernel's ends of the rings: the memory lives until the kernel stopped (`Drop`
    /// waits for it, and leaks the memory rather than free it under a kernel that never
    /// stops).
    kernel_ends: Mutex<std::mem::ManuallyDrop<(KernelEnd, KernelEnd)>>,
}

impl GpuLink {
    fn control_block(&self) -> &ControlBlock {
        // SAFETY: the mapping was made for a ControlBlock in `launch`: at least that many
        // bytes, 64-byte aligned (ControlBlock's alignment), zero-filled (a valid block: atomics
        // at 0) and then initialised before any kernel saw it; it lives as long as `self`, and
        // both sides access its shared fields only through atomics.
        unsafe { &*self.control.host_ptr().cast::<ControlBlock>() }
    }

    /// Launches `function` as this actor's persistent kernel.
    fn start_kernel(&self, function: FunctionId) -> Result<(), DeviceError> {
        let params = *self.params.lock();
        let launch = self.device.launch(function, self.shape, &params)?;
        *self.running.lock() = Some(launch);
        Ok(())
    }

    /// Replaces the running kernel by `new` on the same rings and state (a hot swap). The
    /// actor must be quiesced. The old kernel is told to terminate; once it acknowledged (it
    /// touches neither rings nor state after that) the new one is launched at once, and the
    /// old launch is only reaped later by [`GpuLink::retire`], off the blackout. On `Ok` the
    /// new kernel acknowledged `RUN`. If the old kernel does not stop, it keeps running
    /// (quiesced) and the swap fails; if the new one cannot launch, the old one is relaunched.
    pub async fn replace_kernel(
        &self,
        core: &HandleCore,
        old: FunctionId,
        new: FunctionId,
    ) -> Result<(), String> {
        let control = self.control_block();
        control.requested.store(request::TERMINATE, Ordering::Release);
        if !self.stopped(core).await {
            control.requested.store(request::QUIESCE, Ordering::Release);
            return Err(format!(
                "the running kernel did not acknowledge TERMINATE within {} ms; it keeps running",
                STOP_LIMIT.as_millis()
            ));
        }
        if let Some(launch) = self.running.lock().take() {
            self.retiring.lock().push(launch);
        }
        // Told RUN before it starts: the new kernel acknowledges RUNNING on its first poll.
        control.requested.store(request::RUN, Ordering::Release);
        let started = match self.start_kernel(new) {
            Ok(()) => Ok(()),
            Err(e) => Err(match self.start_kernel(old) {
                Ok(()) => format!("the new kernel did not launch ({e}); the old one runs again"),
                Err(again) => format!(
                    "the new kernel did not launch ({e}) and the old one did not restart ({again})"
                ),
            }),
        };
        if !acknowledged(core, ack::RUNNING).await {
            let why = self.failure().unwrap_or_default();
            return Err(format!("the kernel stopped before it acknowledged RUN: {why}"));
        }
        started
    }

    /// Waits until the running kernel acknowledged `TERMINATE` or ended; `false` after
    /// [`STOP_LIMIT`].
    async fn stopped(&self, core: &HandleCore) -> bool {
        let started = Instant::now();
        loop {
            if core.acknowledged() == ack::TERMINATED {
                return true;
            }
            let launch = *self.running.lock();
            let ended = launch.is_none_or(|l| {
                !matches!(self.device.poll(l), Ok(crate::device::LaunchState::Running))
            });
            if ended {
                return true;
            }
            let waited = started.elapsed();
            if waited > STOP_LIMIT {
                return false;
            }
            crate::handle::pause_while_waiting(started).await;
        }
    }

    /// Moves the actor onto other rings (a rule actor becoming a pipeline stage): its kernel
    /// is stopped, relaunched on `input` and `output` with the same state and control block,
    /// and left quiesced (`RUN` starts it). The old rings' kernel ends are dropped once the
    /// kernel that used them ended.
    pub fn relink(
        &self,
        function: FunctionId,
        input: KernelEnd,
        output: KernelEnd,
    ) -> Result<(), String> {
        let control = self.control_block();
        control.requested.store(request::TERMINATE, Ordering::Release);
        if let Some(launch) = self.running.lock().take() {
            if !self.ended_within_grace(launch) {
                *self.running.lock() = Some(launch);
                control.requested.store(request::QUIESCE, Ordering::Release);
                return Err(
                    "the running kernel did not stop to be moved onto the pipeline's rings".into(),
                );
            }
        }
        self.retire();
        {
            let mut params = self.params.lock();
            params[1] = input.device_address();
            params[2] = output.device_address();
        }
        let old = std::mem::replace(
            &mut *self.kernel_ends.lock(),
            std::mem::ManuallyDrop::new((input, output)),
        );
        drop(std::mem::ManuallyDrop::into_inner(old));
        control.requested.store(request::QUIESCE, Ordering::Release);
        self.start_kernel(function).map_err(|e| e.to_string())
    }

    /// Reaps the launches that swaps replaced (each acknowledged `TERMINATE` and is exiting).
    pub fn retire(&self) {
        let retiring = std::mem::take(&mut *self.retiring.lock());
        for launch in retiring {
            let _ = self.device.wait(launch);
        }
    }

    fn stop_monitoring_and_join(&self) -> Option<Vec<u8>> {
        self.joined.store(true, Ordering::Release);
        self.retire();
        if let Some(launch) = self.running.lock().take() {
            if let Err(e) = self.device.wait(launch) {
                let _ = self.failure.set(e.to_string());
            }
        }
        if let Some(module) = self.owned_module.lock().take() {
            let _ = self.device.unload(module);
        }
        self.read_state().ok()
    }

    /// The state bytes in device memory (read while no kernel runs, or at a boundary).
    fn read_state(&self) -> Result<Vec<u8>, String> {
        let mut state = vec![0; self.state_len];
        if self.state_len > 0 {
            self.device.read(self.state_address, &mut state).map_err(|e| e.to_string())?;
        }
        Ok(state)
    }
}

impl GpuLink {
    /// Waits up to [`STOP_LIMIT`] for `launch` to end; false when it is still running (a
    /// kernel in a runaway loop never reaches a message boundary).
    fn ended_within_grace(&self, launch: LaunchId) -> bool {
        let deadline = std::time::Instant::now() + STOP_LIMIT;
        loop {
            match self.device.poll(launch) {
                Ok(crate::device::LaunchState::Running) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Ok(crate::device::LaunchState::Running) => return false,
                _ => {
                    let _ = self.device.wait(launch);
                    return true;
                }
            }
        }
    }
}

impl Drop for GpuLink {
    fn drop(&mut self) {
        // Every handle is gone: stop the kernel (it must not outlive its rings) and free.
        let mut stopped = true;
        if let Some(launch) = self.running.get_mut().take() {
            self.control_block().requested.store(request::TERMINATE, Ordering::Release);
            stopped &= self.ended_within_grace(launch);
        }
        for launch in std::mem::take(self.retiring.get_mut()) {
            stopped &= self.ended_within_grace(launch);
        }
        if !stopped {
            // A kernel that never stops still reads and writes its rings, state and control
            // block: that memory must outlive it, so it is leaked, not freed.
            tracing::error!(target: "ringkernel::actor", "a device actor did not stop within {STOP_LIMIT:?} of TERMINATE; its memory is left to it");
            return;
        }
        if let Some(module) = self.owned_module.get_mut().take() {
            let _ = self.device.unload(module);
        }
        let _ = self.device.free(self.state_address);
        // SAFETY: every launch that used this memory has ended (above), `drop` runs once, and
        // neither field is touched after this point.
        unsafe {
            std::mem::ManuallyDrop::drop(self.kernel_ends.get_mut());
            std::mem::ManuallyDrop::drop(&mut self.control);
        }
    }
}

impl ActorLink for GpuLink {
    fn control(&self) -> &ControlBlock {
        self.control_block()
    }

    fn wake(&self) {
        // A persistent kernel polls; there is nothing to wake.
    }

    fn join(&self) -> Option<Vec<u8>> {
        self.stop_monitoring_and_join()
    }

    fn latency(&self, _quantile: f64) -> Option<Duration> {
        // Handler times are not measured on the device.
        None
    }

    fn failure(&self) -> Option<String> {
        self.failure.get().cloned()
    }

    fn state_at_boundary(&self) -> Result<Vec<u8>, String> {
        self.read_state()
    }

    fn clock(&self) -> u64 {
        self.control_block().hlc.load(Ordering::Acquire)
    }
}

/// Polls the actor's launch until the actor is joined or dropped (see the module docs).
fn monitor(link: Weak<GpuLink>) {
    loop {
        std::thread::sleep(Duration::from_millis(1));
        let Some(link) = link.upgrade() else { return };
        if link.joined.load(Ordering::Acquire) || link.failure.get().is_some() {
            return;
        }
        let mut running = link.running.lock();
        let Some(launch) = *running else { continue };
        let why = match link.device.poll(launch) {
            Ok(crate::device::LaunchState::Running) => continue,
            Ok(crate::device::LaunchState::Finished) => {
                if link.control_block().requested.load(Ordering::Acquire) == request::TERMINATE {
                    continue; // told to: `join` releases it
                }
                "the kernel exited without being told to".to_owned()
            }
            Err(e) => e.to_string(),
        };
        if let Some(launch) = running.take() {
            let _ = link.device.wait(launch);
        }
        drop(running);
        tracing::error!(target: "ringkernel::actor", reason = %why, "device actor stopped: its sends and calls now fail");
        let _ = link.failure.set(why);
        return;
    }
}

/// Lays out and launches an actor running `function` (see the module docs). `owned_module`
/// is unloaded when the actor ends.
pub(crate) fn launch(
    device: Arc<dyn Device>,
    spec: &ActorSpec,
    function: FunctionId,
    owned_module: Option<ModuleId>,
) -> Result<(Arc<HandleCore>, Arc<GpuLink>), RuntimeError> {
    let id = spec.id.as_str();
    let fail = |reason: String| RuntimeError::Launch { id: id.to_owned(), reason };
    let rings = mapped_ring(&device, spec.capacity, spec.message)
        .and_then(|input| Ok((input, mapped_ring(&device, spec.capacity, spec.response)?)));
    let ends =
        rings.and_then(|((input_producer, input_consumer), (output_producer, output_consumer))| {
            let kernel_ends =
                (KernelEnd::reading(input_consumer)?, KernelEnd::writing(output_producer)?);
            Ok(((input_producer, output_consumer), kernel_ends))
        });
    let ((input_producer, output_consumer), (input, output)) =
        ends.inspect_err(|_| unload(&device, owned_module)).map_err(fail)?;
    let link = launch_stage(device, spec, function, owned_module, input, output)?;
    let core = Arc::new(HandleCore::new(
        id,
        link.clone(),
        input_producer,
        output_consumer,
        spec.message.1,
        spec.response.1,
        Default::default(),
    ));
    core.start(Duration::from_secs(10))?;
    Ok((core, link))
}

fn unload(device: &Arc<dyn Device>, module: Option<ModuleId>) {
    if let Some(module) = module {
        let _ = device.unload(module);
    }
}

/// A ring in memory the device maps, for messages of `(type id, size)`.
pub(crate) fn mapped_ring(
    device: &Arc<dyn Device>,
    capacity: u32,
    (type_id, size): (u64, usize),
) -> Result<(Producer, Consumer), String> {
    let payload = u32::try_from(size).map_err(|_| format!("a {size}-byte message is too large"))?;
    let bytes = Ring::bytes_needed(capacity, payload).map_err(|e| e.to_string())?;
    let bytes = usize::try_from(bytes).map_err(|_| "the ring is too large".to_owned())?;
    let memory = device.alloc_mapped(bytes).map_err(|e| e.to_string())?;
    Ring::create_in(memory, capacity, payload, type_id).map_err(|e| e.to_string())
}

/// Launches an actor running `function` on the given kernel ends of its rings: a standalone
/// actor's (in mapped memory, the host at the other ends), or a pipeline stage's whose
/// neighbours hold the other ends. The actor is not yet told to run.
pub(crate) fn launch_stage(
    device: Arc<dyn Device>,
    spec: &ActorSpec,
    function: FunctionId,
    owned_module: Option<ModuleId>,
    input: KernelEnd,
    output: KernelEnd,
) -> Result<Arc<GpuLink>, RuntimeError> {
    let id = spec.id.as_str();
    let fail = |reason: String| RuntimeError::Launch { id: id.to_owned(), reason };
    let (control, state_address) = lay_out(&device, spec).map_err(|e| {
        unload(&device, owned_module);
        fail(e)
    })?;
    let params =
        [control.device_address(), input.device_address(), output.device_address(), state_address];
    let link = Arc::new(GpuLink {
        device: device.clone(),
        control: std::mem::ManuallyDrop::new(control),
        state_address,
        state_len: spec.state.len(),
        shape: spec.shape,
        params: Mutex::new(params),
        running: Mutex::new(None),
        retiring: Mutex::new(Vec::new()),
        owned_module: Mutex::new(owned_module),
        failure: OnceLock::new(),
        joined: AtomicBool::new(false),
        kernel_ends: Mutex::new(std::mem::ManuallyDrop::new((input, output))),
    });
    link.start_kernel(function).map_err(|e| fail(e.to_string()))?;
    let weak = Arc::downgrade(&link);
    std::thread::Builder::new()
        .name(format!("ringkernel-monitor-{id}"))
        .spawn(move || monitor(weak))
        .map_err(|e| fail(e.to_string()))?;
    Ok(link)
}

/// The control block and the state of an actor, in device-visible memory.
fn lay_out(device: &Arc<dyn Device>, spec: &ActorSpec) -> Result<(MappedMemory, u64), String> {
    let control = device.alloc_mapped(size_of::<ControlBlock>()).map_err(|e| e.to_string())?;
    // SAFETY: fresh zero-filled mapping of a ControlBlock's size, 64-byte aligned; no kernel
    // has its address yet, so plain writes of the non-atomic fields are fine.
    unsafe {
        let block = control.host_ptr().cast::<ControlBlock>();
        (*block).abi_version = ABI_VERSION;
        (*block).kernel_slot = spec.slot;
        *(*block).hlc.get_mut() = spec.hlc;
    }
    let state_address = device.alloc(spec.state.len().max(8)).map_err(|e| e.to_string())?;
    if !spec.state.is_empty() {
        if let Err(e) = device.write(state_address, &spec.state) {
            let _ = device.free(state_address);
            return Err(e.to_string());
        }
    }
    Ok((control, state_address))
}
