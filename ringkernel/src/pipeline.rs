//! Pipelines: actors linked directly, one's output ring the next one's input ring.
//!
//! ```text
//! let pipeline = runtime.pipeline(ParseKernel).then(ScoreKernel).then(RouteKernel).launch()?;
//! let routed = pipeline.handle().call_blocking(raw_order)?;   // parse -> score -> route
//! let scored = pipeline.stages()[1].metrics().processed;
//! ```
//! (`examples/pipeline.rs` runs one.)
//!
//! `runtime.pipeline(first).then(second).then(third).launch()` starts every stage on the
//! runtime's backend and links stage N's output ring to stage N+1's input ring: on `Cpu` each
//! stage is an actor thread (woken by the stage before it when it parked), on `Emulated` and
//! `Cuda` each is a persistent kernel of its own, the rings between two stages live in device
//! memory (on a GPU their traffic never crosses the bus) and the host's two rings in mapped
//! memory ([`Pipeline::rings`] reports where each one is and what waits in it). The host
//! touches only the ends: the [`Pipeline`]'s `handle()` sends into the
//! first stage and receives from the last (`KernelHandle<M_first, R_last>`: the types chain at
//! compile time). Back-pressure flows upstream through the rings: a stage whose output ring
//! is full waits at a message boundary; nothing is lost and order is kept. Each stage's
//! sequence and correlation ids, tenant and sender pass through with its message, so a
//! `call` on the ends finds its answer; a stage's fault rides on as a failed message that
//! the next stages answer as a wrong-typed one (the first fault is counted where it happened).
//!
//! Each stage checkpoints on its own ([`StageHandle::checkpoint`]), and a kernel stage starts
//! from a checkpoint (of a stage or of a standalone actor of that kernel, taken on any
//! backend) with `.then(kernel).restored_from(&checkpoint)?`.
//!
//! The link protocol is the ABI's ring: no entry point changed for pipelines.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use ringkernel_codegen::abi::{ControlBlock, ack, request};
use ringkernel_codegen::artifact::LayoutRecord;

use crate::__private::ByteHandler;
use crate::backend::RuntimeError;
use crate::device::Device;
use crate::gpu::actor::{KernelEnd, launch_stage, mapped_ring};
use crate::handle::{ActorLink, HandleCore, KernelHandle, KernelMetrics, typed};
use crate::kernel::{GpuKernel, RingKernelHandler};
use crate::message::RingMessage;
use crate::ring::{Consumer, DeviceRing, Producer, Ring, RingError, RingGauge};
use crate::runtime::Runtime;

/// A rule actor moved onto a pipeline's rings: its link, and on `Cpu` the shared block the
/// stage before it wakes.
pub(crate) type AdoptedStage = (Arc<dyn ActorLink>, Option<Arc<crate::cpu::actor::Shared>>);

/// A kernel that can be a stage: what `#[ring_kernel]` generates.
pub(crate) trait StageKernel: GpuKernel + ByteHandler {}

impl<T: GpuKernel + ByteHandler> StageKernel for T {}

/// One stage to launch: a kernel, or the running actor of a registered rule (hot-swappable
/// in place by the registry).
enum Stage {
    Kernel(Box<dyn StageKernel>),
    Rule {
        id: String,
        capacity: u32,
        message: (u64, usize),
        response: (u64, usize),
        /// The rule actor's identity, kept current by the swap backend.
        identity: crate::checkpoint::SharedIdentity,
    },
}

impl Stage {
    fn id(&self) -> &str {
        match self {
            Stage::Kernel(k) => k.id(),
            Stage::Rule { id, .. } => id,
        }
    }

    /// (type id, size) of messages and of responses.
    fn shapes(&self) -> ((u64, usize), (u64, usize)) {
        match self {
            Stage::Kernel(k) => {
                let ((mt, rt), (ms, rs, _)) = (k.type_ids(), k.sizes());
                ((mt, ms), (rt, rs))
            }
            Stage::Rule { message, response, .. } => (*message, *response),
        }
    }

    fn capacity(&self) -> u32 {
        match self {
            Stage::Kernel(k) => k.queue_capacity(),
            Stage::Rule { capacity, .. } => *capacity,
        }
    }

    fn info(&self) -> StageInfo {
        match self {
            Stage::Kernel(kernel) => StageInfo {
                id: kernel.id().to_owned(),
                identity: Arc::new(parking_lot::Mutex::new(
                    kernel.ptx_artifact().and_then(crate::checkpoint::Identity::of_text),
                )),
                rule: false,
            },
            Stage::Rule { id, identity, .. } => {
                StageInfo { id: id.clone(), identity: identity.clone(), rule: true }
            }
        }
    }

    /// The layouts of its message and response types, as its artifact records them.
    fn layouts(&self, runtime: &Runtime) -> Option<(LayoutRecord, LayoutRecord)> {
        let text = match self {
            Stage::Kernel(k) => k.ptx_artifact().map(str::to_owned),
            Stage::Rule { id, .. } => runtime
                .rule_registry()
                .active_artifact(id)
                .and_then(|rule| String::from_utf8(rule.ptx.clone()).ok()),
        };
        let artifact = ringkernel_codegen::artifact::Artifact::parse(&text?).ok()?;
        Some((artifact.metadata.message, artifact.metadata.response))
    }
}

/// Stages of a pipeline being built: messages `M` in, responses `R` out of the last one.
pub struct PipelineBuilder<'rt, M, R> {
    runtime: &'rt Runtime,
    stages: Vec<Stage>,
    /// The checked checkpoint each stage starts from, if any (its state is already in it).
    restores: Vec<Option<crate::Checkpoint>>,
    /// Why a stage cannot be used (reported by `launch`).
    problem: Option<String>,
    _types: PhantomData<fn(M) -> R>,
}

impl Runtime {
    /// Starts a pipeline whose first stage is `first` (see [`crate::pipeline`]).
    pub fn pipeline<K, M, R>(&self, first: K) -> PipelineBuilder<'_, M, R>
    where
        K: GpuKernel + ByteHandler + RingKernelHandler<M, R> + 'static,
        M: RingMessage,
        R: RingMessage,
    {
        PipelineBuilder {
            runtime: self,
            stages: vec![Stage::Kernel(Box::new(first))],
            restores: vec![None],
            problem: None,
            _types: PhantomData,
        }
    }
}

impl<'rt, M: RingMessage, R: RingMessage> PipelineBuilder<'rt, M, R> {
    /// Adds a stage taking the previous stage's responses (`R`) as its messages.
    pub fn then<K, R2>(mut self, next: K) -> PipelineBuilder<'rt, M, R2>
    where
        K: GpuKernel + ByteHandler + RingKernelHandler<R, R2> + 'static,
        R2: RingMessage,
    {
        self.stages.push(Stage::Kernel(Box::new(next)));
        self.retyped()
    }

    /// The same stages, typed by what the last one answers.
    fn retyped<R2>(mut self) -> PipelineBuilder<'rt, M, R2> {
        self.restores.resize(self.stages.len(), None);
        PipelineBuilder {
            runtime: self.runtime,
            stages: self.stages,
            restores: self.restores,
            problem: self.problem,
            _types: PhantomData,
        }
    }

    /// Starts the stage added last from `checkpoint` (one of that kernel, taken on any
    /// backend, of a stage or of a standalone actor): its state now, its counters and clock
    /// once it is launched. Refused, with the reason, when the checkpoint's digest fails, its
    /// layout or ABI hash is not the kernel's, or the stage is a rule's (a rule actor keeps its
    /// own state across the swaps the registry makes).
    pub fn restored_from(
        mut self,
        checkpoint: &crate::Checkpoint,
    ) -> Result<Self, crate::CheckpointError> {
        if self.problem.is_some() {
            // The stage asked for last was not added: `launch` reports why.
            return Ok(self);
        }
        let runtime = self.runtime;
        let restored = match self.stages.last_mut() {
            Some(Stage::Kernel(kernel)) => runtime.restore_state(kernel.as_mut(), checkpoint)?,
            Some(Stage::Rule { id, .. }) => {
                return Err(crate::CheckpointError::Incompatible {
                    checkpoint: checkpoint.kernel_id.clone(),
                    kernel: id.clone(),
                    reason: "a rule stage runs the rule's actor, with the rule's own state".into(),
                });
            }
            None => return Ok(self),
        };
        if let Some(last) = self.restores.last_mut() {
            *last = Some(restored);
        }
        Ok(self)
    }

    /// Adds the running actor of the registered rule `rule_id` as a stage taking `R` and
    /// answering `R2`: its actor moves onto the pipeline's rings (its standalone handle then
    /// fails with `Terminated`) and the registry's reloads and rollbacks swap it in place,
    /// while traffic flows through the pipeline. Its layouts are checked at launch.
    pub fn then_rule<R2: RingMessage>(mut self, rule_id: &str) -> PipelineBuilder<'rt, M, R2> {
        match self.runtime.rule_core(rule_id) {
            Some(core) => {
                let capacity = core.producer.lock().capacity();
                self.stages.push(Stage::Rule {
                    id: rule_id.to_owned(),
                    capacity,
                    message: core.message,
                    response: core.response,
                    identity: core.identity.clone(),
                });
            }
            None => {
                let why = format!("rule `{rule_id}` has no running actor: register it first");
                self.problem.get_or_insert(why);
            }
        }
        self.retyped()
    }

    /// Launches every stage, linked, and returns the pipeline once all of them run.
    pub fn launch(self) -> Result<Pipeline<M, R>, RuntimeError> {
        // What the pipeline keeps of each stage once the stages are moved into their actors.
        let described: Vec<StageInfo> = self.stages.iter().map(Stage::info).collect();
        let ids: Vec<&str> = described.iter().map(|d| d.id.as_str()).collect();
        let id = ids.join(" -> ");
        let fail = |reason: String| RuntimeError::Launch { id: id.clone(), reason };
        if let Some(problem) = self.problem {
            return Err(fail(problem));
        }
        check_chain(self.runtime, &self.stages).map_err(&fail)?;
        let (first, last) =
            (self.stages[0].shapes().0, self.stages[self.stages.len() - 1].shapes().1);
        if (first, last)
            != ((M::TYPE_ID, M::LAYOUT.size as usize), (R::TYPE_ID, R::LAYOUT.size as usize))
        {
            return Err(fail(format!(
                "the ends carry {first:?} -> {last:?}, not {} -> {}",
                M::LAYOUT.name,
                R::LAYOUT.name
            )));
        }
        let rt = self.runtime;
        let links = match rt.device() {
            None => cpu_stages(rt, self.stages)?,
            Some(device) => device_stages(rt, device, self.stages)?,
        };
        let Links { stages, first, last, rings } = links;
        for (stage, restore) in stages.iter().zip(&self.restores) {
            if let Some(checkpoint) = restore {
                crate::checkpoint::restore_counters(stage.control(), checkpoint);
            }
        }
        let (message, response) = (first.payload_size(), last.payload_size());
        let stage_links = described
            .into_iter()
            .zip(stages)
            .zip(&rings)
            .map(|((info, link), input)| StageLink { info, link, input: input.gauge.clone() })
            .collect();
        let link = Arc::new(PipelineLink { stages: stage_links });
        let core = Arc::new(HandleCore::new(
            &id,
            link.clone(),
            first,
            last,
            message,
            response,
            Default::default(),
        ));
        core.start(Duration::from_secs(10))?;
        rt.track(&core);
        let handle = typed(core)?;
        let stages = (0..link.stages.len())
            .map(|index| StageHandle { pipeline: link.clone(), index })
            .collect();
        Ok(Pipeline { handle, stages, rings })
    }
}

/// Each stage's responses are the next stage's messages: checked by size, and by the
/// layouts' structure (alignment, each field's offset and size) where both artifacts record
/// their fields. Type ids are not compared: a rule's PTX-only version knows its types only
/// by layout, and kernels' types already chain at compile time.
fn check_chain(runtime: &Runtime, stages: &[Stage]) -> Result<(), String> {
    let layouts: Vec<_> = stages.iter().map(|stage| stage.layouts(runtime)).collect();
    for (pair, layouts) in stages.windows(2).zip(layouts.windows(2)) {
        let (out, into) = (pair[0].shapes().1, pair[1].shapes().0);
        let answers = layouts[0].as_ref().map(|(_, response)| response);
        let takes = layouts[1].as_ref().map(|(message, _)| message);
        let sizes_differ = out.1 != into.1;
        let structures = (answers.and_then(structure), takes.and_then(structure));
        let structure_differs = !sizes_differ && matches!(structures, (Some(a), Some(t)) if a != t);
        if sizes_differ || structure_differs {
            let describe = |layout: Option<&LayoutRecord>, size: usize| match layout {
                Some(l) if structure_differs => format!("`{}`", l.to_text()),
                Some(l) => format!("{} ({size} bytes)", l.name),
                None => format!("? ({size} bytes)"),
            };
            return Err(format!(
                "the types do not chain: `{}` answers {} but `{}` takes {}",
                pair[0].id(),
                describe(answers, out.1),
                pair[1].id(),
                describe(takes, into.1)
            ));
        }
    }
    Ok(())
}

/// A layout's alignment and each field's offset and size; `None` when it records no fields
/// (an artifact made by another tool may not).
fn structure(layout: &LayoutRecord) -> Option<(u32, Vec<(u32, u32)>)> {
    let fields: Vec<(u32, u32)> = layout.fields.iter().map(|&(_, at, size)| (at, size)).collect();
    (!fields.is_empty()).then_some((layout.align, fields))
}

/// The launched stages, the host's two ends, and a gauge of every ring.
struct Links {
    stages: Vec<Arc<dyn ActorLink>>,
    first: Producer,
    last: Consumer,
    rings: Vec<LinkRing>,
}

/// One of a pipeline's rings, as its reports see it.
#[derive(Clone)]
struct LinkRing {
    gauge: RingGauge,
    placement: RingPlacement,
    capacity: u32,
}

/// A rule stage's rings, as its backend runs it.
pub(crate) enum StageRings {
    /// An actor thread's ends, and the next stage's block to wake.
    Threads(crate::cpu::actor::Relink),
    /// A persistent kernel's ends: its input, its output.
    Kernel(KernelEnd, KernelEnd),
}

/// The shape of one of a pipeline's rings: slots, and the (type id, size) of its messages.
#[derive(Debug, Clone, Copy)]
struct RingShape {
    capacity: u32,
    message: (u64, usize),
}

/// How a backend makes a pipeline's rings: the host writes the first and reads the last;
/// the rings between two stages are the stages' alone.
trait RingMaker {
    /// A stage's end of its input ring.
    type Input;
    /// A stage's end of its output ring.
    type Output;
    /// Where the rings the host touches live.
    const ENDS: RingPlacement;
    /// Where the rings between two stages live.
    const BETWEEN: RingPlacement;
    fn host_to_stage(&self, shape: RingShape) -> Result<(Producer, Self::Input), String>;
    fn stage_to_host(&self, shape: RingShape) -> Result<(Self::Output, Consumer), String>;
    fn stage_to_stage(&self, shape: RingShape) -> Result<(Self::Output, Self::Input), String>;
    fn gauge(input: &Self::Input) -> RingGauge;
}

/// The rings of a pipeline of `n` stages, made by a [`RingMaker`] for each shape of
/// [`ring_shapes`]: stage `i` reads ring `i` and writes ring `i + 1`.
struct LinkRings<I, O> {
    first: Producer,
    last: Consumer,
    /// Stage `i`'s ends: its input ring's, its output ring's.
    stage_ends: Vec<(I, O)>,
    rings: Vec<LinkRing>,
}

impl<I, O> LinkRings<I, O> {
    fn new<M: RingMaker<Input = I, Output = O>>(
        stages: &[Stage],
        maker: &M,
    ) -> Result<Self, String> {
        let shapes = ring_shapes(stages);
        let n = stages.len();
        let ring = |placement, gauge, shape: RingShape| LinkRing {
            gauge,
            placement,
            capacity: shape.capacity,
        };
        let (first, mut input) = maker.host_to_stage(shapes[0])?;
        let mut rings = vec![ring(M::ENDS, first.gauge(), shapes[0])];
        let mut stage_ends = Vec::with_capacity(n);
        for &shape in &shapes[1..n] {
            let (output, next_input) = maker.stage_to_stage(shape)?;
            rings.push(ring(M::BETWEEN, M::gauge(&next_input), shape));
            stage_ends.push((std::mem::replace(&mut input, next_input), output));
        }
        let (output, last) = maker.stage_to_host(shapes[n])?;
        rings.push(ring(M::ENDS, last.gauge(), shapes[n]));
        stage_ends.push((input, output));
        Ok(LinkRings { first, last, stage_ends, rings })
    }
}

/// Ring `i` feeds stage `i` (typed as the stage before it answers); the last ring carries
/// the last stage's responses.
fn ring_shapes(stages: &[Stage]) -> Vec<RingShape> {
    let mut shapes = Vec::with_capacity(stages.len() + 1);
    for (i, stage) in stages.iter().enumerate() {
        let message = if i == 0 { stage.shapes().0 } else { stages[i - 1].shapes().1 };
        shapes.push(RingShape { capacity: stage.capacity(), message });
    }
    if let Some(last) = stages.last() {
        shapes.push(RingShape { capacity: last.capacity(), message: last.shapes().1 });
    }
    shapes
}

/// Host threads: every ring on the heap.
struct ThreadRings;

impl ThreadRings {
    fn ring(
        RingShape { capacity, message: (type_id, size) }: RingShape,
    ) -> Result<(Producer, Consumer), String> {
        let size = u32::try_from(size).map_err(|_| format!("a {size}-byte message"))?;
        Ring::create(capacity, size, type_id).map_err(|e| e.to_string())
    }
}

impl RingMaker for ThreadRings {
    type Input = Consumer;
    type Output = Producer;
    const ENDS: RingPlacement = RingPlacement::Host;
    const BETWEEN: RingPlacement = RingPlacement::Host;
    fn host_to_stage(&self, shape: RingShape) -> Result<(Producer, Consumer), String> {
        Self::ring(shape)
    }
    fn stage_to_host(&self, shape: RingShape) -> Result<(Producer, Consumer), String> {
        Self::ring(shape)
    }
    fn stage_to_stage(&self, shape: RingShape) -> Result<(Producer, Consumer), String> {
        Self::ring(shape)
    }
    fn gauge(input: &Consumer) -> RingGauge {
        input.gauge()
    }
}

/// Persistent kernels on one device: the ends in mapped memory, the links in device memory.
struct KernelRings<'a>(&'a Arc<dyn Device>);

impl RingMaker for KernelRings<'_> {
    type Input = KernelEnd;
    type Output = KernelEnd;
    const ENDS: RingPlacement = RingPlacement::Mapped;
    const BETWEEN: RingPlacement = RingPlacement::Device;
    fn host_to_stage(&self, shape: RingShape) -> Result<(Producer, KernelEnd), String> {
        let (host, kernel) = mapped_ring(self.0, shape.capacity, shape.message)?;
        Ok((host, KernelEnd::reading(kernel)?))
    }
    fn stage_to_host(&self, shape: RingShape) -> Result<(KernelEnd, Consumer), String> {
        let (kernel, host) = mapped_ring(self.0, shape.capacity, shape.message)?;
        Ok((KernelEnd::writing(kernel)?, host))
    }
    fn stage_to_stage(&self, shape: RingShape) -> Result<(KernelEnd, KernelEnd), String> {
        let (type_id, size) = shape.message;
        let size = u32::try_from(size).map_err(|_| format!("a {size}-byte message"))?;
        let ring =
            DeviceRing::create(self.0, shape.capacity, size, type_id).map_err(|e| e.to_string())?;
        Ok((KernelEnd::on_device(&ring), KernelEnd::on_device(&ring)))
    }
    fn gauge(input: &KernelEnd) -> RingGauge {
        input.gauge()
    }
}

fn cpu_stages(rt: &Runtime, stages: Vec<Stage>) -> Result<Links, RuntimeError> {
    let fail = |reason: String| RuntimeError::Launch { id: "pipeline".into(), reason };
    let LinkRings { first, last, stage_ends, rings } =
        LinkRings::new(&stages, &ThreadRings).map_err(fail)?;
    let mut links: Vec<Arc<dyn ActorLink>> = Vec::with_capacity(stages.len());
    let mut downstream = None;
    // Last stage first, so that each stage knows the one it wakes.
    for (stage, (input, output)) in stages.into_iter().zip(stage_ends).rev() {
        let (link, shared) = match stage {
            Stage::Kernel(kernel) => {
                let id = kernel.id().to_owned();
                let parts = crate::cpu::spawn::ActorParts {
                    id: &id,
                    slot: rt.next_slot(),
                    handler: kernel,
                    tag: 0,
                    clock: rt.clock().clone(),
                    senders: Default::default(),
                    downstream: downstream.take(),
                };
                let (link, shared) = crate::cpu::spawn::start_actor(parts, input, output)?;
                (link as Arc<dyn ActorLink>, Some(shared))
            }
            Stage::Rule { id, .. } => {
                let relink =
                    crate::cpu::actor::Relink { input, output, downstream: downstream.take() };
                rt.adopt_rule(&id, StageRings::Threads(relink)).map_err(&fail)?
            }
        };
        downstream = shared;
        links.push(link);
    }
    links.reverse();
    Ok(Links { stages: links, first, last, rings })
}

fn device_stages(
    rt: &Runtime,
    device: &Arc<dyn Device>,
    stages: Vec<Stage>,
) -> Result<Links, RuntimeError> {
    let fail = |reason: String| RuntimeError::Launch { id: "pipeline".into(), reason };
    let LinkRings { first, last, stage_ends, rings } =
        LinkRings::new(&stages, &KernelRings(device)).map_err(fail)?;
    // Kernel stages first: one that fails to launch then leaves every rule actor where it
    // was (moving one onto the pipeline's rings retires its own handle).
    let mut links: Vec<Option<Arc<dyn ActorLink>>> = Vec::with_capacity(stages.len());
    let mut rule_stages = Vec::new();
    for (i, (stage, (input, output))) in stages.iter().zip(stage_ends).enumerate() {
        match stage {
            Stage::Kernel(kernel) => {
                let (spec, function, module) =
                    rt.device_actor(device, kernel.as_ref(), rt.next_slot())?;
                let link =
                    launch_stage(device.clone(), &spec, function, Some(module), input, output)?;
                links.push(Some(link));
            }
            Stage::Rule { id, .. } => {
                links.push(None);
                rule_stages.push((i, id, input, output));
            }
        }
    }
    for (i, id, input, output) in rule_stages {
        links[i] = Some(rt.adopt_rule(id, StageRings::Kernel(input, output)).map_err(&fail)?.0);
    }
    let links = links.into_iter().flatten().collect();
    Ok(Links { stages: links, first, last, rings })
}

/// One stage as its pipeline sees it.
struct StageLink {
    info: StageInfo,
    link: Arc<dyn ActorLink>,
    /// Its input ring.
    input: RingGauge,
}

/// A stage's id, checkpoint identity and kind.
struct StageInfo {
    id: String,
    /// What its checkpoints record of its artifact (a rule stage's: the version running,
    /// kept current by the swap backend).
    identity: crate::checkpoint::SharedIdentity,
    /// A rule actor's (reported by its rule id with the rule actors, not as a stage).
    rule: bool,
}

impl StageLink {
    /// Its counters; `queued` is what waits in its input ring (0 when a ring in device memory
    /// cannot be read: [`Pipeline::rings`] says why).
    fn metrics(&self) -> KernelMetrics {
        KernelMetrics::read(self.link.as_ref(), self.input.len().unwrap_or_default(), None)
    }
}

/// The ends' view of a pipeline: requests go to every stage; the counters are the last
/// stage's (messages that came through).
struct PipelineLink {
    stages: Vec<StageLink>,
}

impl ActorLink for PipelineLink {
    fn control(&self) -> &ControlBlock {
        self.stages.last().expect("a pipeline has stages").link.control()
    }

    fn wake(&self) {
        self.stages.iter().for_each(|s| s.link.wake());
    }

    fn join(&self) -> Option<Vec<u8>> {
        let states: Vec<Option<Vec<u8>>> = self.stages.iter().map(|s| s.link.join()).collect();
        states.into_iter().last().flatten()
    }

    fn latency(&self, _quantile: f64) -> Option<Duration> {
        None
    }

    fn failure(&self) -> Option<String> {
        self.stages.iter().find_map(|s| s.link.failure())
    }

    fn state_at_boundary(&self) -> Result<Vec<u8>, String> {
        Err("a pipeline has one state per stage: checkpoint the stages".into())
    }

    fn clock(&self) -> u64 {
        self.stages.iter().map(|s| s.link.clock()).max().unwrap_or_default()
    }

    fn request(&self, state: u32) {
        self.stages.iter().for_each(|s| s.link.request(state));
    }

    /// Kernel stages by their ids; rule stages report as rule actors.
    fn stage_metrics(&self) -> Vec<(String, KernelMetrics)> {
        let kernels = self.stages.iter().filter(|s| !s.info.rule);
        kernels.map(|s| (s.info.id.clone(), s.metrics())).collect()
    }

    /// A state every stage acknowledged, or `u32::MAX` while they differ.
    fn acknowledged(&self) -> u32 {
        let mut states = self.stages.iter().map(|s| s.link.acknowledged());
        let first = states.next().unwrap_or(u32::MAX);
        if states.all(|s| s == first) { first } else { u32::MAX }
    }
}

/// Where one of a pipeline's rings lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RingPlacement {
    /// Host memory that only host threads use (`Cpu`).
    Host,
    /// Host memory the device maps: a ring between the host and a kernel.
    Mapped,
    /// Device memory: a ring between two kernels on one device, which the host never reads.
    Device,
}

/// One of a pipeline's rings as [`Pipeline::rings`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingReport {
    /// The stage writing it (`None`: the host, into the first stage).
    pub from: Option<String>,
    /// The stage reading it (`None`: the host, from the last stage).
    pub to: Option<String>,
    /// Where it lives.
    pub placement: RingPlacement,
    /// Its slots.
    pub capacity: u32,
    /// Messages in it, written and not yet freed by its reader (who frees in batches, so a
    /// few of these may already be read).
    pub queued: u64,
}

/// A running pipeline: the handle to its ends, and one handle per stage.
pub struct Pipeline<M, R> {
    handle: KernelHandle<M, R>,
    stages: Vec<StageHandle>,
    /// Ring `i` feeds stage `i`; the last one the host.
    rings: Vec<LinkRing>,
}

impl<M: RingMessage, R: RingMessage> Pipeline<M, R> {
    /// Sends into the first stage, receives from the last.
    pub fn handle(&self) -> &KernelHandle<M, R> {
        &self.handle
    }

    /// The stages, in order.
    pub fn stages(&self) -> &[StageHandle] {
        &self.stages
    }

    /// Every ring of the pipeline, from the host's into the first stage to the last stage's
    /// to the host: who writes and reads it, where it lives, what waits in it (a full ring
    /// points at the stage after it as the slowest). A ring in device memory is read through
    /// the device, which may fail.
    pub fn rings(&self) -> Result<Vec<RingReport>, RingError> {
        let stage = |i: usize| self.stages.get(i).map(|s| s.id().to_owned());
        let mut reports = Vec::with_capacity(self.rings.len());
        for (i, ring) in self.rings.iter().enumerate() {
            reports.push(RingReport {
                from: i.checked_sub(1).and_then(stage),
                to: stage(i),
                placement: ring.placement,
                capacity: ring.capacity,
                queued: ring.gauge.len()?,
            });
        }
        Ok(reports)
    }

    /// Stops every stage at a message boundary (messages between stages stay where they are).
    pub fn terminate(&self) -> crate::TerminateReport {
        self.handle.terminate()
    }
}

/// One stage of a pipeline: its counters, its run state, its checkpoints.
pub struct StageHandle {
    pipeline: Arc<PipelineLink>,
    index: usize,
}

impl StageHandle {
    fn stage(&self) -> &StageLink {
        &self.pipeline.stages[self.index]
    }

    /// The stage's kernel id.
    pub fn id(&self) -> &str {
        &self.stage().info.id
    }

    /// The stage's counters; `queued` is what waits in its input ring (0 when a ring in
    /// device memory cannot be read: [`Pipeline::rings`] says why). Latencies are not measured
    /// per stage.
    pub fn metrics(&self) -> KernelMetrics {
        self.stage().metrics()
    }

    /// Stops this stage at its next message boundary; messages wait in its input ring (and
    /// the stages before it wait when that ring fills).
    pub fn deactivate(&self) -> bool {
        self.wait(request::QUIESCE, ack::QUIESCED)
    }

    /// A checkpoint of this stage (see [`KernelHandle::checkpoint`]); the stages around it
    /// wait at their message boundaries for the blackout, nothing is lost.
    pub fn checkpoint(&self) -> Result<crate::Checkpoint, crate::CheckpointError> {
        let identity = self.stage().info.identity.lock().clone();
        crate::checkpoint::take(self.id(), identity, self.stage().link.as_ref())
    }

    /// Stops this stage at its next message boundary for good (the stages around it go on
    /// until their rings fill); returns its final state bytes when they can be read.
    pub fn terminate(&self) -> Option<Vec<u8>> {
        let link = &self.stage().link;
        link.request(request::TERMINATE);
        link.join()
    }

    /// Resumes this stage.
    pub fn activate(&self) -> bool {
        self.wait(request::RUN, ack::RUNNING)
    }

    fn wait(&self, state: u32, acked: u32) -> bool {
        let link = self.stage().link.as_ref();
        link.request(state);
        crate::handle::wait_for_link(link, acked, Duration::from_secs(5))
    }
}
