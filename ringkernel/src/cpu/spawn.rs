//! Starting actors on host threads: rings, thread, handle.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;
use ringkernel_codegen::abi::ControlBlock;

use super::actor::{Actor, Shared};
use crate::__private::ByteHandler;
use crate::backend::RuntimeError;
use crate::context::RingContext;
use crate::handle::access::Senders;
use crate::handle::{ActorLink, HandleCore};
use crate::hlc::Hlc;
use crate::ring::Ring;

/// The handle's view of an actor thread.
pub(crate) struct CpuLink {
    pub shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<Actor>>>,
    clock: Arc<Hlc>,
}

impl ActorLink for CpuLink {
    fn control(&self) -> &ControlBlock {
        &self.shared.control
    }

    fn wake(&self) {
        self.shared.wake();
    }

    fn join(&self) -> Option<Vec<u8>> {
        let thread = self.thread.lock().take()?;
        thread.join().ok().map(|actor| actor.handler.state_bytes())
    }

    fn latency(&self, quantile: f64) -> Option<Duration> {
        self.shared.latency.quantile(quantile)
    }

    fn state_at_boundary(&self) -> Result<Vec<u8>, String> {
        // The actor thread owns the handler: it answers while it sits quiesced.
        *self.shared.snapshot.lock() = None;
        self.shared.snapshot_wanted.store(true, std::sync::atomic::Ordering::Release);
        let started = std::time::Instant::now();
        let mut round = 0u32;
        loop {
            round = round.saturating_add(1);
            self.shared.wake();
            if let Some(state) = self.shared.snapshot.lock().take() {
                return Ok(state);
            }
            if started.elapsed() > Duration::from_secs(5) {
                self.shared.snapshot_wanted.store(false, std::sync::atomic::Ordering::Release);
                return Err("the actor thread did not hand its state over within 5 s".into());
            }
            // The actor answers within microseconds unless it was parked: yield, then sleep.
            if round < 2000 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(20));
            }
        }
    }

    fn clock(&self) -> u64 {
        self.clock.now().packed
    }
}

/// What an actor thread is made of, besides its rings.
pub(crate) struct ActorParts<'a> {
    pub id: &'a str,
    pub slot: u32,
    pub handler: Box<dyn ByteHandler>,
    pub tag: u64,
    pub clock: Arc<Hlc>,
    pub senders: Arc<Senders>,
    /// The actor reading this one's output ring, woken after each response (pipelines).
    pub downstream: Option<Arc<Shared>>,
}

/// Starts an actor thread on the given ends of its rings (not yet told to run).
pub(crate) fn start_actor(
    parts: ActorParts<'_>,
    input: crate::ring::Consumer,
    output: crate::ring::Producer,
) -> Result<(Arc<CpuLink>, Arc<Shared>), RuntimeError> {
    let ActorParts { id, slot, handler, tag, clock, senders, downstream } = parts;
    let shared = Arc::new(Shared::new());
    let actor = Actor {
        shared: shared.clone(),
        senders,
        policy: None,
        downstream,
        input,
        output,
        handler,
        ctx: RingContext::new(id, slot, clock.clone()),
        tag,
        idle_phase: 0,
    };
    let thread = actor
        .spawn(format!("ringkernel-{id}"))
        .map_err(|e| RuntimeError::Launch { id: id.to_owned(), reason: e.to_string() })?;
    let link =
        Arc::new(CpuLink { shared: shared.clone(), thread: Mutex::new(Some(thread)), clock });
    Ok((link, shared))
}

/// Starts an actor running `handler` and returns its untyped core and the shared block the
/// CPU swap backend installs handlers through.
pub(crate) fn start(
    id: &str,
    slot: u32,
    capacity: u32,
    handler: Box<dyn ByteHandler>,
    tag: u64,
    clock: Arc<Hlc>,
) -> Result<(Arc<HandleCore>, Arc<Shared>), RuntimeError> {
    let (msg_size, resp_size, _) = handler.sizes();
    let (msg_type, resp_type) = handler.type_ids();
    let launch_error = |reason: String| RuntimeError::Launch { id: id.to_owned(), reason };
    let to_u32 = |n: usize| {
        u32::try_from(n).map_err(|_| launch_error(format!("a {n}-byte message is too large")))
    };
    let (input_producer, input_consumer) = Ring::create(capacity, to_u32(msg_size)?, msg_type)
        .map_err(|e| launch_error(e.to_string()))?;
    let (output_producer, output_consumer) = Ring::create(capacity, to_u32(resp_size)?, resp_type)
        .map_err(|e| launch_error(e.to_string()))?;
    let senders = Arc::new(Senders::default());
    let (link, shared) = start_actor(
        ActorParts { id, slot, handler, tag, clock, senders: senders.clone(), downstream: None },
        input_consumer,
        output_producer,
    )?;
    let core = Arc::new(HandleCore::new(
        id,
        link,
        input_producer,
        output_consumer,
        msg_size,
        resp_size,
        senders,
    ));
    core.start(Duration::from_secs(5))?;
    Ok((core, shared))
}
