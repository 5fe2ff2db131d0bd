//! [`KernelHandle`]: sending to and hearing from a running actor, on any backend.
//!
//! A handle owns the host ends of the actor's two rings (the producer of its input, the
//! consumer of its output) and talks to the actor through its control block; the backend's
//! side is an `ActorLink` (a host thread on `Cpu`, a persistent kernel on a device
//! otherwise), so this module does not know which backend runs the actor.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use ringkernel_codegen::abi::{ControlBlock, FAILED_RESPONSE_TYPE, SlotHeader, ack, request};

use crate::backend::RuntimeError;
use crate::fault::Fault;
use crate::message::{MessageError, RingMessage};
use crate::ring::{Consumer, Producer};

pub mod access;
pub mod metrics;
mod timeout;

/// The backend's side of a running actor, as its handles see it.
pub(crate) trait ActorLink: Send + Sync {
    /// The actor's control block (host memory on `Cpu`, mapped memory on a device).
    fn control(&self) -> &ControlBlock;
    /// Wakes the actor if it may be asleep; called after publishing work or a request.
    fn wake(&self);
    /// Called once `TERMINATE` was requested: waits until the actor stopped and returns its
    /// final state bytes (`None` when they cannot be read back).
    fn join(&self) -> Option<Vec<u8>>;
    /// A quantile (0.0–1.0) of handler times, where the backend measures them.
    fn latency(&self, quantile: f64) -> Option<Duration>;
    /// Why the actor stopped without being told to (a kernel fault), once it has.
    fn failure(&self) -> Option<String> {
        None
    }
    /// The actor's state bytes, read while it is quiesced at a message boundary.
    fn state_at_boundary(&self) -> Result<Vec<u8>, String>;
    /// The actor's hybrid logical clock (packed).
    fn clock(&self) -> u64;
    /// Asks the actor for a state (one of `abi::request`) and wakes it.
    fn request(&self, state: u32) {
        self.control().requested.store(state, Ordering::Release);
        self.wake();
    }
    /// The stages of a pipeline that report apart from their ends (`actor`, counters), for
    /// the metrics text; none for a single actor.
    fn stage_metrics(&self) -> Vec<(String, KernelMetrics)> {
        Vec::new()
    }

    /// The state the actor last acknowledged (one of `abi::ack`).
    fn acknowledged(&self) -> u32 {
        self.control().acknowledged.load(Ordering::Acquire)
    }
}

/// The untyped side of a running actor, shared by every handle to it.
pub(crate) struct HandleCore {
    pub id: String,
    pub link: Arc<dyn ActorLink>,
    /// Set just before `TERMINATE` is requested, and read by the send and wait loops instead
    /// of the control block: on `Cpu` the control block shares its cache line with
    /// `messages_processed`, which the actor writes on every message, so polling it would
    /// pull that line across cores once per message.
    pub terminating: AtomicBool,
    pub producer: Mutex<Producer>,
    pub router: Mutex<Router>,
    pub next_sequence: AtomicU64,
    pub next_correlation: AtomicU64,
    /// The actor's state after it terminated.
    final_state: Mutex<Option<Vec<u8>>>,
    /// The access policy in force and the senders `authorized` registered.
    pub access: access::Access,
    /// Its artifact's identity, for checkpoints (`None`: a hand-written handler).
    pub identity: crate::checkpoint::SharedIdentity,
    /// The ring in front of the actor when it is not `producer`'s (a pipeline stage).
    pub input_gauge: Mutex<Option<crate::ring::RingGauge>>,
    /// Progress as last observed (see `timeout`).
    pub progress: Mutex<Option<timeout::Progress>>,
    pub message: (u64, usize),
    pub response: (u64, usize),
}

impl HandleCore {
    /// Counters and latencies of the actor behind this core.
    pub fn metrics(&self) -> KernelMetrics {
        // Before the producer is locked below (`stalled` locks it too).
        let current_message_for = self.stalled().map(|(busy_for, _)| busy_for);
        // A pipeline's stage reads the ring in front of it, not this core's.
        let gauge = self.input_gauge.lock().clone();
        let queued = match gauge {
            Some(gauge) => gauge.len().unwrap_or_default(),
            None => self.producer.lock().len(),
        };
        KernelMetrics::read(self.link.as_ref(), queued, current_message_for)
    }

    /// A core over the host ends of an actor's rings; the actor has not been told to run.
    pub fn new(
        id: &str,
        link: Arc<dyn ActorLink>,
        input: Producer,
        output: Consumer,
        message_size: usize,
        response_size: usize,
        senders: Arc<access::Senders>,
    ) -> Self {
        let (message_type, response_type) = (input.type_id(), output.type_id());
        HandleCore {
            id: id.to_owned(),
            link,
            terminating: AtomicBool::new(false),
            producer: Mutex::new(input),
            router: Mutex::new(Router::new(output)),
            next_sequence: AtomicU64::new(0),
            next_correlation: AtomicU64::new(1),
            final_state: Mutex::new(None),
            access: access::Access::new(senders),
            identity: Default::default(),
            input_gauge: Mutex::new(None),
            progress: Mutex::new(None),
            message: (message_type, message_size),
            response: (response_type, response_size),
        }
    }

    /// Asks the actor to run and waits (up to `limit`) until it says it does.
    pub fn start(&self, limit: Duration) -> Result<(), RuntimeError> {
        self.request(request::RUN);
        if wait_for(self, ack::RUNNING, limit) {
            return Ok(());
        }
        let why = self.link.failure().unwrap_or_else(|| {
            format!("the actor did not acknowledge RUN within {} ms", limit.as_millis())
        });
        self.stop();
        Err(RuntimeError::Launch { id: self.id.clone(), reason: why })
    }

    /// Stores a request into the control block and wakes the actor.
    pub fn request(&self, state: u32) {
        self.link.request(state);
    }

    /// The state the actor last acknowledged.
    pub fn acknowledged(&self) -> u32 {
        self.link.acknowledged()
    }

    /// Tells the actor to terminate and waits for it; keeps its final state. Idempotent.
    pub fn stop(&self) {
        self.terminating.store(true, Ordering::Release);
        if self.input_gauge.lock().is_some() {
            // The actor is a pipeline's stage now: the pipeline stops it, not this handle.
            return;
        }
        self.request(request::TERMINATE);
        let mut final_state = self.final_state.lock();
        if final_state.is_none() {
            *final_state = Some(self.link.join().unwrap_or_default());
        }
    }

    /// A swap's quiesce: asks the actor to stop at a message boundary and waits for it;
    /// returns how many messages stay queued.
    pub async fn quiesce(&self) -> Result<u64, crate::rules::BackendError> {
        self.request(request::QUIESCE);
        if !acknowledged(self, ack::QUIESCED).await {
            return Err(self.stopped_before("quiesced"));
        }
        match &*self.input_gauge.lock() {
            Some(gauge) => gauge.len().map_err(|e| {
                let why = format!("`{}`: the ring in front of it could not be read: {e}", self.id);
                crate::rules::BackendError::new(why)
            }),
            None => Ok(self.producer.lock().len()),
        }
    }

    /// A swap's resume: asks the actor to run and waits until it does.
    pub async fn resume(&self) -> Result<(), crate::rules::BackendError> {
        self.request(request::RUN);
        if !acknowledged(self, ack::RUNNING).await {
            return Err(self.stopped_before("resumed"));
        }
        Ok(())
    }

    /// The error of a swap step the actor did not reach because it stopped on its own.
    pub fn stopped_before(&self, what: &str) -> crate::rules::BackendError {
        let why = self.link.failure().unwrap_or_else(|| "no reason given".into());
        crate::rules::BackendError::new(format!("`{}` stopped before it {what}: {why}", self.id))
    }

    /// The actor moved onto a pipeline's rings: sends and waits through this core's (now
    /// unread) rings fail as `Terminated` from here on; swaps still reach the actor.
    pub fn retire_host_ends(&self, input: crate::ring::RingGauge) {
        *self.input_gauge.lock() = Some(input);
        self.terminating.store(true, Ordering::Release);
    }

    /// Whether sends and waits should give up: terminated, or stopped on its own.
    pub fn gone(&self) -> bool {
        self.terminating.load(Ordering::Acquire) || self.link.failure().is_some()
    }
}

/// Responses read from the output ring but not yet taken. Few calls wait at once, so the
/// waiting and claimed sets are small vectors.
pub(crate) struct Router {
    pub consumer: Consumer,
    unclaimed: VecDeque<Raw>,
    claimed: Vec<Raw>,
    waiting: Vec<u64>,
    /// Calls given up on (a timeout): their responses, when they come, are dropped.
    abandoned: Vec<u64>,
}

impl Router {
    pub fn new(consumer: Consumer) -> Self {
        Self {
            consumer,
            unclaimed: VecDeque::new(),
            claimed: Vec::new(),
            waiting: Vec::new(),
            abandoned: Vec::new(),
        }
    }

    /// Files a response that is not the one being looked for.
    fn file(&mut self, raw: Raw) {
        let correlation = raw.header.correlation;
        if correlation != 0 && self.waiting.contains(&correlation) {
            self.claimed.push(raw);
        } else if let Some(i) = self.abandoned.iter().position(|c| *c == correlation) {
            self.abandoned.swap_remove(i);
        } else {
            self.unclaimed.push_back(raw);
        }
    }

    /// Moves every response in the ring to where it belongs.
    fn drain(&mut self) {
        while let Some(raw) = self.consumer.try_pop(|h, b| Raw { header: *h, bytes: b.to_vec() }) {
            self.file(raw);
        }
    }
}

struct Raw {
    header: SlotHeader,
    bytes: Vec<u8>,
}

/// A response and the sequence and correlation ids of the message it answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Response<R> {
    /// Sequence number of the message.
    pub sequence: u64,
    /// Correlation id (0 for plain sends).
    pub correlation: u64,
    /// The handler's result (under the DSL's semantics when `fault` is set).
    pub value: R,
    /// The first fault the handler raised on this message (a division by zero, an index out
    /// of bounds...), `None` when there was none. Faults without a value (a refused sender,
    /// an exhausted budget...) come as `Err(CallError::Faulted { .. })` instead.
    pub fault: Option<Fault>,
}

/// Why a message could not be sent; the message is handed back.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SendError<M> {
    /// The input queue is full (only from `try_send`).
    #[error("the actor's input queue is full")]
    Full(M),
    /// The actor was terminated.
    #[error("the actor was terminated")]
    Terminated(M),
}

impl<M> SendError<M> {
    /// The message that was not sent.
    pub fn into_inner(self) -> M {
        match self {
            SendError::Full(m) | SendError::Terminated(m) => m,
        }
    }
}

/// Why no response came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The actor was terminated.
    #[error("the actor was terminated")]
    Terminated,
    /// The message faulted (see [`Fault`]): only its own caller gets this. `value` holds
    /// the encoded response the handler still computed under the DSL's semantics (for
    /// arithmetic and memory faults; decode it with [`CallError::faulted_value`]), `None`
    /// when the handler produced none (a refused sender, a wrong type, an exhausted budget,
    /// a failed hand-written handler).
    #[error("message {sequence} faulted: {fault}")]
    Faulted {
        /// What went wrong.
        fault: Fault,
        /// Sequence number of the message.
        sequence: u64,
        /// The response's bytes, when there is a value.
        value: Option<Vec<u8>>,
    },
    /// The response bytes did not decode.
    #[error("the response does not decode: {0}")]
    Decode(#[from] MessageError),
    /// A `_timeout` wait ran out while the actor made no progress: it has been on message
    /// `sequence` for at least `busy_for` (a runaway handler, a hung device).
    #[error("the actor is stuck: on message {sequence} for at least {busy_for:?}")]
    Stuck {
        /// How long the actor has been on that message, as far as this handle saw.
        busy_for: Duration,
        /// The message it is on.
        sequence: u64,
    },
    /// A `_timeout` wait ran out while the actor was making progress (on other messages).
    #[error("no answer within {waited:?} (the actor is busy, not stuck)")]
    TimedOut {
        /// How long the caller waited.
        waited: Duration,
    },
}

impl CallError {
    /// The value a faulted message still produced, decoded as `R`; `None` for other errors
    /// and for faults without a value.
    pub fn faulted_value<R: RingMessage>(&self) -> Option<R> {
        match self {
            CallError::Faulted { value: Some(bytes), .. } => R::decode(bytes).ok(),
            _ => None,
        }
    }

    /// The fault, when this is one.
    pub fn fault(&self) -> Option<Fault> {
        match self {
            CallError::Faulted { fault, .. } => Some(*fault),
            _ => None,
        }
    }
}

/// What `terminate` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminateReport {
    /// Messages handled over the actor's life.
    pub processed: u64,
    /// Messages still queued when it stopped (never handled).
    pub pending: u64,
}

/// Counters and handler latencies of an actor.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelMetrics {
    /// Messages handled.
    pub processed: u64,
    /// Messages waiting in the input queue.
    pub queued: u64,
    /// Errors recorded (division by zero, index out of bounds, failed handlers...).
    pub errors: u32,
    /// Messages refused by the actor's access policy (answered `Unauthorized`).
    pub refused: u64,
    /// Messages aborted because their handler ran out of its loop budget.
    pub aborted: u64,
    /// First error code recorded (see `ringkernel_codegen::abi::error`).
    pub first_error: u32,
    /// Median handler time (bucket upper bound).
    pub latency_p50: Option<Duration>,
    /// 99th percentile handler time (bucket upper bound).
    pub latency_p99: Option<Duration>,
    /// How long the actor has been on its current message without finishing it, when it is
    /// on one: measured from the first time a handle saw it there, so a monitor that reads
    /// metrics periodically sees a runaway handler grow.
    pub current_message_for: Option<Duration>,
}

impl KernelMetrics {
    /// The counters of the actor behind `link`, with what only its handle knows.
    pub(crate) fn read(
        link: &dyn ActorLink,
        queued: u64,
        current_message_for: Option<Duration>,
    ) -> KernelMetrics {
        let control = link.control();
        KernelMetrics {
            processed: control.messages_processed.load(Ordering::Acquire),
            queued,
            errors: control.error_count.load(Ordering::Relaxed),
            refused: control.messages_refused.load(Ordering::Relaxed),
            aborted: control.messages_aborted.load(Ordering::Relaxed),
            first_error: control.error_code.load(Ordering::Relaxed),
            latency_p50: link.latency(0.5),
            latency_p99: link.latency(0.99),
            current_message_for,
        }
    }
}

/// How a waiting caller passes time: spin, then yield, then sleep briefly.
struct Backoff(u32);

impl Backoff {
    fn snooze(&mut self) {
        self.0 = self.0.saturating_add(1);
        match self.0 {
            0..=200 => std::hint::spin_loop(),
            201..=400 => std::thread::yield_now(),
            _ => std::thread::sleep(Duration::from_micros(50)),
        }
    }

    /// In async code: spin briefly, then give the executor back.
    async fn snooze_async(&mut self) {
        self.0 = self.0.saturating_add(1);
        if self.0 <= 200 {
            std::hint::spin_loop();
        } else {
            YieldNow(false).await;
        }
    }

    /// Waits the way `wait` says: `Block` never returns `Pending`.
    async fn pause(&mut self, wait: Wait) {
        match wait {
            Wait::Block => self.snooze(),
            Wait::Yield => self.snooze_async().await,
        }
    }
}

/// How an operation waits: each waiting operation is written once, as an `async fn` taking a
/// `Wait`; the `_blocking` variants run it with `Block` through [`run_blocking`].
#[derive(Clone, Copy)]
enum Wait {
    /// Block the thread (spin, yield, sleep): the future never returns `Pending`.
    Block,
    /// Spin briefly, then hand the executor back.
    Yield,
}

/// Drives a future built with [`Wait::Block`] to completion on this thread. Such a future
/// never returns `Pending`, so the first poll finishes it; polling again is only a fallback.
fn run_blocking<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Returns `Pending` once (waking itself), so that other tasks run.
struct YieldNow(bool);

impl std::future::Future for YieldNow {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// A typed handle to a running actor: `M` in, `R` out. Cloning gives another handle to the
/// same actor. All methods take `&self`; concurrent senders are serialised on the input
/// queue (the ring has one producer), concurrent receivers on the output queue.
pub struct KernelHandle<M, R> {
    pub(crate) core: Arc<HandleCore>,
    /// What every message this handle sends carries in its slot header (zero for a plain
    /// handle; set only by `authorized`).
    pub(crate) stamp: access::Stamp,
    pub(crate) _types: PhantomData<fn(M) -> R>,
}

impl<M, R> std::fmt::Debug for KernelHandle<M, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KernelHandle").field("id", &self.core.id).finish_non_exhaustive()
    }
}

impl<M, R> Clone for KernelHandle<M, R> {
    fn clone(&self) -> Self {
        Self { core: self.core.clone(), stamp: self.stamp, _types: PhantomData }
    }
}

impl<M: RingMessage, R: RingMessage> KernelHandle<M, R> {
    /// The kernel or rule id.
    pub fn id(&self) -> &str {
        &self.core.id
    }

    fn terminated(&self) -> bool {
        self.core.gone()
    }

    fn push(&self, msg: &M, correlation: u64) -> Result<u64, ()> {
        let mut producer = self.core.producer.lock();
        let sequence = self.core.next_sequence.load(Ordering::Relaxed);
        let header = self.stamp.header(M::TYPE_ID, sequence, correlation);
        let pushed = producer.try_push(header, |slot| {
            // The ring was sized for M: encoding cannot fail on size.
            let _ = msg.encode(slot);
        });
        drop(producer);
        if !pushed {
            return Err(());
        }
        self.core.next_sequence.store(sequence + 1, Ordering::Relaxed);
        self.core.link.wake();
        Ok(sequence)
    }

    /// Sends `msg` if there is room; hands it back when the queue is full. Returns its
    /// sequence number.
    pub fn try_send(&self, msg: M) -> Result<u64, SendError<M>> {
        if self.terminated() {
            return Err(SendError::Terminated(msg));
        }
        self.push(&msg, 0).map_err(|()| SendError::Full(msg))
    }

    /// Sends `msg`, waiting while the queue is full (back-pressure, never loss).
    pub async fn send(&self, msg: M) -> Result<u64, SendError<M>> {
        self.send_waiting(msg, Wait::Yield).await
    }

    /// `send` for synchronous code: blocks the thread while the queue is full.
    pub fn send_blocking(&self, msg: M) -> Result<u64, SendError<M>> {
        run_blocking(self.send_waiting(msg, Wait::Block))
    }

    async fn send_waiting(&self, msg: M, wait: Wait) -> Result<u64, SendError<M>> {
        let mut backoff = Backoff(0);
        loop {
            if self.terminated() {
                return Err(SendError::Terminated(msg));
            }
            if let Ok(sequence) = self.push(&msg, 0) {
                return Ok(sequence);
            }
            backoff.pause(wait).await;
        }
    }

    /// The next response of a plain `send`, if one is ready.
    pub fn try_receive(&self) -> Option<Result<Response<R>, CallError>> {
        let mut router = self.core.router.lock();
        let response = if router.unclaimed.is_empty()
            && router.waiting.is_empty()
            && router.abandoned.is_empty()
        {
            // Fast path: no call is waiting for a correlation id, so the next response is
            // ours; decode it straight from the slot.
            router.consumer.try_pop(|header, bytes| Self::decode_slot(header, bytes))
        } else {
            if router.unclaimed.is_empty() {
                router.drain();
            }
            router.unclaimed.pop_front().map(|raw| Self::decode_slot(&raw.header, &raw.bytes))
        };
        // The caller may not come back for a while: let the actor see the room we made.
        router.consumer.publish_head();
        response
    }

    /// A response slot as `receive` gives it: a fault without a value is an error.
    fn decode_slot(header: &SlotHeader, bytes: &[u8]) -> Result<Response<R>, CallError> {
        let fault = Fault::from_code(u32::from(header.fault));
        if header.type_id == FAILED_RESPONSE_TYPE {
            return Err(CallError::Faulted {
                fault: fault.unwrap_or(Fault::HandlerFailed),
                sequence: header.sequence,
                value: None,
            });
        }
        Ok(Response {
            sequence: header.sequence,
            correlation: header.correlation,
            value: R::decode(bytes)?,
            fault,
        })
    }

    /// A response slot as `call` gives it: any fault is an error, with the value if any.
    fn decode_call(header: &SlotHeader, bytes: &[u8]) -> Result<R, CallError> {
        let response = Self::decode_slot(header, bytes)?;
        match response.fault {
            None => Ok(response.value),
            Some(fault) => Err(CallError::Faulted {
                fault,
                sequence: response.sequence,
                value: Some(bytes.to_vec()),
            }),
        }
    }

    /// Waits for the next response of a plain `send`.
    pub async fn receive(&self) -> Result<Response<R>, CallError> {
        self.receive_waiting(Wait::Yield, None).await
    }

    /// `receive` for synchronous code.
    pub fn receive_blocking(&self) -> Result<Response<R>, CallError> {
        run_blocking(self.receive_waiting(Wait::Block, None))
    }

    async fn receive_waiting(
        &self,
        wait: Wait,
        limit: Option<timeout::Limit>,
    ) -> Result<Response<R>, CallError> {
        let mut backoff = Backoff(0);
        loop {
            if let Some(result) = self.try_receive() {
                return result;
            }
            if let Some(stop) = self.give_up(limit) {
                return Err(stop);
            }
            backoff.pause(wait).await;
        }
    }

    fn start_call(&self) -> u64 {
        let correlation = self.core.next_correlation.fetch_add(1, Ordering::Relaxed);
        self.core.router.lock().waiting.push(correlation);
        correlation
    }

    /// The response to `correlation` if it arrived. A response popped from the ring that is
    /// ours is decoded in place (no allocation); others are filed for their owners.
    fn poll_call(&self, correlation: u64) -> Option<Result<R, CallError>> {
        let mut router = self.core.router.lock();
        let found = if let Some(i) =
            router.claimed.iter().position(|raw| raw.header.correlation == correlation)
        {
            let raw = router.claimed.swap_remove(i);
            Some(Self::decode_call(&raw.header, &raw.bytes))
        } else {
            loop {
                let popped = router.consumer.try_pop(|header, bytes| {
                    if header.correlation == correlation {
                        Ok(Self::decode_call(header, bytes))
                    } else {
                        Err(Raw { header: *header, bytes: bytes.to_vec() })
                    }
                });
                match popped {
                    None => break None,
                    Some(Ok(result)) => break Some(result),
                    Some(Err(other)) => router.file(other),
                }
            }
        };
        if found.is_some() {
            router.waiting.retain(|c| *c != correlation);
        }
        router.consumer.publish_head();
        found
    }

    fn abandon_call(&self, correlation: u64) {
        let mut router = self.core.router.lock();
        router.waiting.retain(|c| *c != correlation);
        let before = router.claimed.len();
        router.claimed.retain(|raw| raw.header.correlation != correlation);
        if router.claimed.len() == before {
            // Its response may still come: drop it then instead of handing it to `receive`.
            router.abandoned.push(correlation);
        }
    }

    /// Sends as many of `messages` as fit, in order, with one lock and one wake-up; returns
    /// how many were sent (the rest did not fit: send them later).
    pub fn send_batch(&self, messages: &[M]) -> Result<usize, CallError> {
        if self.terminated() {
            return Err(CallError::Terminated);
        }
        let mut producer = self.core.producer.lock();
        let mut sequence = self.core.next_sequence.load(Ordering::Relaxed);
        let mut sent = 0;
        for msg in messages {
            let header = self.stamp.header(M::TYPE_ID, sequence, 0);
            if !producer.try_push(header, |slot| {
                let _ = msg.encode(slot);
            }) {
                break;
            }
            sequence += 1;
            sent += 1;
        }
        self.core.next_sequence.store(sequence, Ordering::Relaxed);
        drop(producer);
        if sent > 0 {
            self.core.link.wake();
        }
        Ok(sent)
    }

    /// Appends up to `max` ready responses of plain sends to `out`; returns how many.
    pub fn receive_batch(
        &self,
        out: &mut Vec<Result<Response<R>, CallError>>,
        max: usize,
    ) -> usize {
        let mut router = self.core.router.lock();
        let mut taken = 0;
        while taken < max {
            let next = match router.unclaimed.pop_front() {
                Some(raw) => Some(Self::decode_slot(&raw.header, &raw.bytes)),
                None if router.waiting.is_empty() => {
                    router.consumer.try_pop(|header, bytes| Self::decode_slot(header, bytes))
                }
                None => {
                    router.drain();
                    router
                        .unclaimed
                        .pop_front()
                        .map(|raw| Self::decode_slot(&raw.header, &raw.bytes))
                }
            };
            let Some(next) = next else { break };
            out.push(next);
            taken += 1;
        }
        router.consumer.publish_head();
        taken
    }

    /// Sends `msg` and waits for its response (matched by correlation id, whatever else is
    /// in flight).
    pub async fn call(&self, msg: M) -> Result<R, CallError> {
        self.call_waiting(msg, Wait::Yield, None).await
    }

    /// `call` for synchronous code.
    pub fn call_blocking(&self, msg: M) -> Result<R, CallError> {
        run_blocking(self.call_waiting(msg, Wait::Block, None))
    }

    async fn call_waiting(
        &self,
        msg: M,
        wait: Wait,
        limit: Option<timeout::Limit>,
    ) -> Result<R, CallError> {
        let correlation = self.start_call();
        let mut backoff = Backoff(0);
        while self.push(&msg, correlation).is_err() {
            if let Some(stop) = self.give_up(limit) {
                self.abandon_call(correlation);
                return Err(stop);
            }
            backoff.pause(wait).await;
        }
        let mut backoff = Backoff(0);
        loop {
            if let Some(result) = self.poll_call(correlation) {
                return result;
            }
            if let Some(stop) = self.give_up(limit) {
                self.abandon_call(correlation);
                return Err(stop);
            }
            backoff.pause(wait).await;
        }
    }

    /// Resumes processing after `deactivate`.
    pub fn activate(&self) {
        self.core.request(request::RUN);
        wait_for(&self.core, ack::RUNNING, Duration::from_secs(5));
    }

    /// Stops processing at the next message boundary; queued messages stay queued.
    pub fn deactivate(&self) {
        self.core.request(request::QUIESCE);
        wait_for(&self.core, ack::QUIESCED, Duration::from_secs(5));
    }

    /// Stops the actor at a message boundary and reports what was handled and what was left
    /// queued. Later sends fail with `Terminated`.
    pub fn terminate(&self) -> TerminateReport {
        self.core.stop();
        let queued = self.core.producer.lock().len();
        let report = TerminateReport {
            processed: self.core.link.control().messages_processed.load(Ordering::Acquire),
            pending: queued,
        };
        tracing::info!(
            target: "ringkernel::actor", actor = %self.core.id, processed = report.processed,
            pending = report.pending, "actor terminated"
        );
        report
    }

    /// Why the actor stopped on its own, if it did: a device kernel that faulted (a wild
    /// pointer in hand-written PTX, say) or exited without being told to. Sends and calls
    /// then fail with `Terminated`; this says why.
    pub fn failure(&self) -> Option<String> {
        self.core.link.failure()
    }

    /// The actor's state bytes (its state type's `RingMessage` encoding) once it terminated;
    /// `None` before `terminate`. Empty for a stateless kernel.
    pub fn final_state(&self) -> Option<Vec<u8>> {
        self.core.final_state.lock().clone()
    }

    /// Counters and latencies.
    pub fn metrics(&self) -> KernelMetrics {
        self.core.metrics()
    }
}

/// Waits (blocking, bounded) until the actor acknowledges `state`; gives up early when the
/// actor stopped on its own.
pub(crate) fn wait_for(core: &HandleCore, state: u32, limit: Duration) -> bool {
    wait_for_link(core.link.as_ref(), state, limit)
}

/// [`wait_for`] on the actor behind `link` (a pipeline stage has no core of its own).
pub(crate) fn wait_for_link(link: &dyn ActorLink, state: u32, limit: Duration) -> bool {
    let started = Instant::now();
    let mut backoff = Backoff(0);
    while link.acknowledged() != state {
        if started.elapsed() > limit || link.failure().is_some() {
            return false;
        }
        link.wake();
        backoff.snooze();
    }
    true
}

/// A typed view of a core, after checking that `M` and `R` are what its rings carry.
pub(crate) fn typed<M: RingMessage, R: RingMessage>(
    core: Arc<HandleCore>,
) -> Result<KernelHandle<M, R>, RuntimeError> {
    let expected = ((M::TYPE_ID, M::LAYOUT.size as usize), (R::TYPE_ID, R::LAYOUT.size as usize));
    if (core.message, core.response) != expected {
        return Err(RuntimeError::WrongTypes {
            id: core.id.clone(),
            wanted: format!("{} -> {}", M::LAYOUT.name, R::LAYOUT.name),
        });
    }
    Ok(KernelHandle { core, stamp: access::Stamp::default(), _types: PhantomData })
}

/// Waits until the actor acknowledges `state` (see [`pause_while_waiting`] for how). Returns
/// `false` (at once) when the actor stopped on its own instead.
pub(crate) async fn acknowledged(core: &HandleCore, state: u32) -> bool {
    let started = Instant::now();
    while core.acknowledged() != state {
        if core.link.failure().is_some() {
            return false;
        }
        core.link.wake();
        pause_while_waiting(started).await;
    }
    true
}

/// One pause of a swap step waiting on an actor since `started`: spin for the first 5 µs
/// (a CPU actor acknowledges within that; spinning longer takes the core a device's launch
/// thread needs on a small machine), then hand the tokio worker back on every round
/// for 20 ms, then sleep a millisecond at a time (tokio's timers have that granularity, so
/// sleeping earlier would add a millisecond to a blackout) so a slow actor does not hold a
/// worker.
pub(crate) async fn pause_while_waiting(started: Instant) {
    let waited = started.elapsed();
    if waited < Duration::from_micros(5) {
        std::hint::spin_loop();
    } else if waited < Duration::from_millis(20) {
        tokio::task::yield_now().await;
    } else {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
