//! The actor thread: one per launched kernel, owning the handler and its state.
//!
//! It speaks the ABI: the host sets [`ControlBlock::requested`] (run, quiesce, terminate) and
//! the actor acknowledges in [`ControlBlock::acknowledged`] at a message boundary, counts
//! processed messages and records errors, exactly like the persistent GPU kernel.
//!
//! Idle policy: spin a little, then yield, then park. Waking uses a Dekker-style handshake:
//! the actor publishes `sleeping = true`, issues a SeqCst fence and re-checks its rings and
//! control before parking; a producer publishes its message (release), issues a SeqCst fence
//! and then reads `sleeping`. One of the two always sees the other, so no wake-up is lost
//! (and `park_timeout` bounds the damage of any bug here).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

use parking_lot::Mutex;
use ringkernel_codegen::abi::{ControlBlock, SlotHeader, ack, request};

use crate::__private::{ByteHandler, drain_errors};
use crate::context::RingContext;
use crate::handle::access::Senders;
use crate::kernel::HandlerError;
use crate::ring::{Consumer, Producer};
use ringkernel_codegen::abi::{FAILED_RESPONSE_TYPE, error, policy};

/// A replacement handler waiting for the actor to install it (while quiesced).
pub(crate) struct Pending {
    pub handler: Box<dyn ByteHandler>,
    /// Carry the old handler's state into the new one.
    pub keep_state: bool,
    /// Tag reported back once installed (the rule version).
    pub tag: u64,
}

/// New rings for an actor, and the stage it wakes after each response.
pub(crate) struct Relink {
    pub input: Consumer,
    pub output: Producer,
    pub downstream: Option<Arc<Shared>>,
}

/// What the actor and the host share.
pub(crate) struct Shared {
    pub control: ControlBlock,
    pub sleeping: AtomicBool,
    pub thread: Mutex<Option<Thread>>,
    pub mailbox: Mutex<Option<Pending>>,
    /// Result of the last install: the tag now running, or why it failed.
    pub installed: Mutex<Option<Result<u64, String>>>,
    /// Handler time per message, in nanoseconds, for the latency histogram.
    pub latency: crate::handle::metrics::Histogram,
    /// Rings to move onto (a rule actor becoming a pipeline stage), taken when it next runs.
    pub relink: Mutex<Option<Relink>>,
    /// Set by a checkpoint while the actor is quiesced: the actor puts its state in
    /// `snapshot` and clears it.
    pub snapshot_wanted: AtomicBool,
    pub snapshot: Mutex<Option<Vec<u8>>>,
}

impl Shared {
    pub fn new() -> Self {
        Self {
            control: ControlBlock::default(),
            sleeping: AtomicBool::new(false),
            thread: Mutex::new(None),
            mailbox: Mutex::new(None),
            installed: Mutex::new(None),
            latency: crate::handle::metrics::Histogram::default(),
            relink: Mutex::new(None),
            snapshot_wanted: AtomicBool::new(false),
            snapshot: Mutex::new(None),
        }
    }

    /// Wakes the actor if it may be parked. Call after publishing work or a request.
    pub fn wake(&self) {
        fence(Ordering::SeqCst);
        if self.sleeping.load(Ordering::SeqCst) {
            if let Some(thread) = self.thread.lock().as_ref() {
                thread.unpark();
            }
        }
    }
}

pub(crate) struct Actor {
    pub shared: Arc<Shared>,
    /// The identities of authorised senders, for `handle_secure`.
    pub senders: Arc<Senders>,
    /// The access policy (tenant, required permission bits), read from the control block
    /// whenever the actor starts running, as the PTX entry does.
    pub policy: Option<(u64, u32)>,
    /// The next stage of a pipeline, which reads our output ring: woken after each response.
    pub downstream: Option<Arc<Shared>>,
    pub input: Consumer,
    pub output: Producer,
    pub handler: Box<dyn ByteHandler>,
    pub ctx: RingContext,
    pub tag: u64,
    /// 0 spinning, 1 yielding, 2 parking (see `back_off`).
    pub idle_phase: u8,
}

impl Actor {
    pub fn spawn(self, name: String) -> std::io::Result<JoinHandle<Actor>> {
        let shared = self.shared.clone();
        // A large state lives on this stack while it is decoded or kept for a budget abort.
        let builder = std::thread::Builder::new().name(name).stack_size(8 << 20);
        let handle = builder.spawn(move || {
            let mut actor = self;
            actor.run();
            actor
        })?;
        *shared.thread.lock() = Some(handle.thread().clone());
        // The actor may have parked before its Thread was published: wake it once.
        shared.wake();
        Ok(handle)
    }

    fn run(&mut self) {
        let mut idle: u32 = 0;
        let mut idle_since = std::time::Instant::now();
        loop {
            match self.shared.control.requested.load(Ordering::Acquire) {
                request::RUN => {
                    if self.shared.control.acknowledged.load(Ordering::Relaxed) != ack::RUNNING {
                        self.install_pending();
                        if let Some(relink) = self.shared.relink.lock().take() {
                            self.input.publish_head();
                            (self.input, self.output) = (relink.input, relink.output);
                            self.downstream = relink.downstream;
                        }
                        self.policy = read_policy(&self.shared.control);
                        self.shared.control.acknowledged.store(ack::RUNNING, Ordering::Release);
                    }
                    if self.process_one() {
                        // Keep handling while there is work and nothing else is requested;
                        // the request word is re-read (relaxed, a line only we write
                        // besides the host's rare requests) at every message boundary.
                        while self.shared.control.requested.load(Ordering::Relaxed) == request::RUN
                            && self.process_one()
                        {}
                        idle = 0;
                        self.idle_phase = 0;
                        continue;
                    }
                }
                request::QUIESCE => {
                    if self.shared.control.acknowledged.load(Ordering::Relaxed) != ack::QUIESCED {
                        self.input.publish_head();
                        self.shared.control.acknowledged.store(ack::QUIESCED, Ordering::Release);
                    }
                    if self.shared.snapshot_wanted.swap(false, Ordering::AcqRel) {
                        *self.shared.snapshot.lock() = Some(self.handler.state_bytes());
                        continue;
                    }
                }
                request::TERMINATE => {
                    self.input.publish_head();
                    self.shared.control.acknowledged.store(ack::TERMINATED, Ordering::Release);
                    return;
                }
                _ => {}
            }
            idle = idle.saturating_add(1);
            if idle == IDLE_ROUNDS_UNTIMED {
                idle_since = std::time::Instant::now();
            }
            self.back_off(idle, idle_since);
        }
    }

    /// Installs a handler waiting in the mailbox (the host sent it while we were quiesced).
    fn install_pending(&mut self) {
        let Some(pending) = self.shared.mailbox.lock().take() else { return };
        let mut next = pending.handler;
        let result = if pending.keep_state {
            next.set_state_bytes(&self.handler.state_bytes()).map_err(|e| e.to_string())
        } else {
            Ok(())
        };
        let outcome = match result {
            Ok(()) => {
                self.handler = next;
                self.tag = pending.tag;
                Ok(pending.tag)
            }
            Err(why) => {
                Err(format!("state of the running version does not fit the new one: {why}"))
            }
        };
        *self.shared.installed.lock() = Some(outcome);
    }

    /// Handles one message if there is one and room for its response. The message is checked
    /// against the access policy, then its type, before the handler runs. The handler writes
    /// its response straight into the output slot, which is published afterwards with the
    /// message's fault (its first error), or marked failed (and zeroed) when the message was
    /// refused, of the wrong type, aborted by its budget, or the handler failed or panicked,
    /// so the caller always gets an answer. Returns whether a message was handled.
    fn process_one(&mut self) -> bool {
        let Actor { input, output, handler, ctx, shared, senders, policy, .. } = self;
        if !output.has_room() {
            // Blocked on the caller: let the senders see the room we made.
            input.publish_head();
            return false;
        }
        let (expected_type, response_type) = (input.type_id(), output.type_id());
        // Handler time is sampled on one message in 64: reading the clock twice per message
        // would cost as much as a trivial handler.
        let processed = shared.control.messages_processed.load(Ordering::Relaxed);
        let sampled = slot_is_sampled(processed);
        let control = &shared.control;
        let handled = input.try_pop(|slot, payload| {
            let started = sampled.then(std::time::Instant::now);
            let _ = ctx.begin_message(slot.sequence, slot.correlation, None);
            let pushed = output.try_push_with(|response| {
                let admitted = policy.is_none_or(|(tenant, required)| {
                    slot.tenant == tenant && slot.permissions & required == required
                });
                let outcome = if !admitted {
                    control.messages_refused.fetch_add(1, Ordering::Relaxed);
                    Err(NoValue::Record(error::UNAUTHORIZED))
                } else if slot.type_id == FAILED_RESPONSE_TYPE {
                    // Failed in a stage before us (a pipeline): passed on, fault kept.
                    Err(NoValue::Counted(slot.fault))
                } else if slot.type_id != expected_type {
                    Err(NoValue::Record(error::WRONG_MESSAGE_TYPE))
                } else {
                    // Only hand-written handlers take the sender (a lookup and a clone).
                    let sender =
                        if handler.wants_sender() { senders.get(slot.sender) } else { None };
                    // A handler that panics (hand-written Rust can) fails this message's
                    // response and nothing else: the actor thread lives on.
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        handler.handle_bytes_from(ctx, sender, payload, response)
                    }));
                    match result {
                        Ok(Ok(())) => Ok(()),
                        // Recorded (as the PTX records it) where the budget ran out.
                        Ok(Err(HandlerError::BudgetExhausted { .. })) => {
                            control.messages_aborted.fetch_add(1, Ordering::Relaxed);
                            Err(NoValue::Counted(error::BUDGET_EXHAUSTED as u16))
                        }
                        Ok(Err(HandlerError::Unauthorized(_))) => {
                            control.messages_refused.fetch_add(1, Ordering::Relaxed);
                            Err(NoValue::Record(error::UNAUTHORIZED))
                        }
                        Ok(Err(HandlerError::Rejected(_))) | Err(_) => {
                            Err(NoValue::Record(error::HANDLER_FAILED))
                        }
                    }
                };
                let mut first = 0;
                drain_errors(|code| {
                    first = if first == 0 { code } else { first };
                    record(control, code, slot.sequence);
                });
                let mut header = SlotHeader {
                    type_id: response_type,
                    sequence: slot.sequence,
                    correlation: slot.correlation,
                    hlc: slot.hlc,
                    tenant: slot.tenant,
                    permissions: slot.permissions,
                    sender: slot.sender,
                    // The first fault along a pipeline is the one reported.
                    fault: if slot.fault != 0 { slot.fault } else { first as u16 },
                };
                if let Err(no_value) = outcome {
                    header.fault = match no_value {
                        NoValue::Record(code) => {
                            record(control, code, slot.sequence);
                            code as u16
                        }
                        NoValue::Counted(fault) => fault,
                    };
                    header.type_id = FAILED_RESPONSE_TYPE;
                    response.fill(0);
                }
                header
            });
            debug_assert!(pushed, "room was checked before popping");
            if let Some(started) = started {
                shared.latency.record(started.elapsed());
            }
        });
        if handled.is_none() {
            return false;
        }
        // Single writer: a plain increment published with release, as the GPU kernel does.
        shared.control.messages_processed.store(processed + 1, Ordering::Release);
        if let Some(next) = &self.downstream {
            next.wake();
        }
        true
    }

    /// Spins for the first 50 µs of idleness (a caller waiting on a response usually sends
    /// again within that), yields for the next 150 µs, then parks: an idle actor does not burn
    /// a core. The first `IDLE_ROUNDS_UNTIMED` rounds (a few microseconds) spin without
    /// reading the clock, which would delay noticing the next message of a caller that sends
    /// them one at a time (two clock reads cost about as much as handling a message); then
    /// the clock is read once every 64 rounds.
    fn back_off(&mut self, idle: u32, idle_since: std::time::Instant) {
        const SPIN: std::time::Duration = std::time::Duration::from_micros(50);
        if idle > IDLE_ROUNDS_UNTIMED && idle % 64 == 0 {
            let elapsed = idle_since.elapsed();
            self.idle_phase = if elapsed < SPIN {
                0
            } else if elapsed < SPIN * 4 {
                1
            } else {
                2
            };
        }
        match self.idle_phase {
            0 => std::hint::spin_loop(),
            1 => std::thread::yield_now(),
            _ => {
                self.shared.sleeping.store(true, Ordering::SeqCst);
                fence(Ordering::SeqCst);
                let work = !self.input.is_empty() || self.requested_changed();
                if !work {
                    std::thread::park_timeout(Duration::from_millis(50));
                }
                self.shared.sleeping.store(false, Ordering::SeqCst);
            }
        }
    }

    fn requested_changed(&self) -> bool {
        if self.shared.snapshot_wanted.load(Ordering::Acquire) {
            return true;
        }
        let requested = self.shared.control.requested.load(Ordering::Acquire);
        let acknowledged = self.shared.control.acknowledged.load(Ordering::Acquire);
        !matches!(
            (requested, acknowledged),
            (request::RUN, ack::RUNNING) | (request::QUIESCE, ack::QUIESCED)
        )
    }
}

/// Why a message is answered without a value: a fault to record now, or one already counted
/// (a spent budget, recorded where it ran out; a failure passed on from an earlier stage).
enum NoValue {
    Record(u32),
    Counted(u16),
}

/// Idle rounds spun before the actor starts timing its idleness (see `Actor::back_off`).
const IDLE_ROUNDS_UNTIMED: u32 = 64;

fn slot_is_sampled(processed: u64) -> bool {
    processed % 64 == 0
}

/// The access policy in a control block: `(tenant, required bits)` when one is enforced.
fn read_policy(control: &ControlBlock) -> Option<(u64, u32)> {
    let flags = control.policy_flags.load(Ordering::Relaxed);
    (flags & policy::ENFORCED != 0).then(|| {
        (
            control.policy_tenant.load(Ordering::Relaxed),
            control.policy_required.load(Ordering::Relaxed),
        )
    })
}

/// Records an error as the GPU does: first code kept, every error counted, last sequence kept.
pub(crate) fn record(control: &ControlBlock, code: u32, sequence: u64) {
    control.error_count.fetch_add(1, Ordering::Relaxed);
    let _ = control.error_code.compare_exchange(0, code, Ordering::Relaxed, Ordering::Relaxed);
    control.error_sequence.store(sequence, Ordering::Relaxed);
}
