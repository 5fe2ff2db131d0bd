//! Waits that end: `call_timeout`, `receive_timeout`, `terminate_timeout`, and how a handle
//! tells a stuck actor from a busy one.
//!
//! Every backend is judged the same way, from the host, with nothing added to the ABI: the
//! actor is **on a message** while its input ring holds one (sent, not yet consumed); it is
//! **stuck** when it stays on one and `messages_processed` does not move. The time it has
//! been there is measured from the first time a handle observed that (each wait observes
//! continually; so does every `metrics` call), so `busy_for` is a lower bound. The message it
//! is on is the oldest one in the ring: sequence numbers are given out in order.

use std::time::{Duration, Instant};

use ringkernel_codegen::abi::ack;

use super::{Backoff, CallError, HandleCore, KernelHandle, TerminateReport};
use crate::message::RingMessage;

/// The actor's progress as a handle last saw it.
pub(crate) struct Progress {
    processed: u64,
    queued: u64,
    since: Instant,
}

impl HandleCore {
    /// Updates the observation; returns how long the actor has been on its current message
    /// and which one, when it is on one.
    pub(crate) fn stalled(&self) -> Option<(Duration, u64)> {
        let processed =
            self.link.control().messages_processed.load(std::sync::atomic::Ordering::Acquire);
        let queued = self.producer.lock().len();
        let now = Instant::now();
        let mut progress = self.progress.lock();
        let moved = progress.as_ref().is_none_or(|p| p.processed != processed || p.queued == 0);
        if moved {
            *progress = Some(Progress { processed, queued, since: now });
        }
        let p = progress.as_mut()?;
        p.queued = queued;
        if queued == 0 {
            return None;
        }
        let sequence =
            self.next_sequence.load(std::sync::atomic::Ordering::Relaxed).saturating_sub(queued);
        Some((now - p.since, sequence))
    }

    /// The error of a wait that ran out after `waited`.
    fn ran_out(&self, waited: Duration) -> CallError {
        match self.stalled() {
            Some((busy_for, sequence)) if busy_for >= waited.mul_f64(0.9) => {
                CallError::Stuck { busy_for, sequence }
            }
            _ => CallError::TimedOut { waited },
        }
    }
}

/// A wait's time limit: when it started and how long it may take.
#[derive(Clone, Copy)]
pub(crate) struct Limit {
    started: Instant,
    timeout: Duration,
}

impl<M: RingMessage, R: RingMessage> KernelHandle<M, R> {
    /// Why a wait stops now, if it does: the actor was terminated, or `limit` ran out (the
    /// progress observation is kept up to date on every check of a limited wait).
    pub(super) fn give_up(&self, limit: Option<Limit>) -> Option<CallError> {
        if self.terminated() {
            return Some(CallError::Terminated);
        }
        let limit = limit?;
        self.core.stalled();
        let waited = limit.started.elapsed();
        (waited >= limit.timeout).then(|| self.core.ran_out(waited))
    }

    fn limit(&self, timeout: Duration) -> Option<Limit> {
        self.core.stalled();
        Some(Limit { started: Instant::now(), timeout })
    }

    /// [`KernelHandle::call_blocking`] that gives up after `timeout`: `Stuck` when the actor
    /// sat on one message the whole time, `TimedOut` when it was busy with others. A response
    /// that arrives after the give-up is dropped (it never reaches `receive`).
    pub fn call_timeout(&self, msg: M, timeout: Duration) -> Result<R, CallError> {
        super::run_blocking(self.call_waiting(msg, super::Wait::Block, self.limit(timeout)))
    }

    /// [`KernelHandle::receive_blocking`] that gives up after `timeout` (`Stuck` or
    /// `TimedOut`, as for `call_timeout`).
    pub fn receive_timeout(&self, timeout: Duration) -> Result<super::Response<R>, CallError> {
        super::run_blocking(self.receive_waiting(super::Wait::Block, self.limit(timeout)))
    }

    /// [`KernelHandle::terminate`] that gives up after `timeout` when the actor does not
    /// reach a message boundary (a handler that never returns): `Err(Stuck)`. The actor is
    /// then left behind, told to terminate: sends fail from now on, and if it ever returns
    /// it stops; its thread (or kernel) cannot be taken from it by force.
    pub fn terminate_timeout(&self, timeout: Duration) -> Result<TerminateReport, CallError> {
        let started = Instant::now();
        self.core.stalled();
        self.core.terminating.store(true, std::sync::atomic::Ordering::Release);
        self.core.request(ringkernel_codegen::abi::request::TERMINATE);
        let mut backoff = Backoff(0);
        while self.core.acknowledged() != ack::TERMINATED && self.core.link.failure().is_none() {
            if started.elapsed() >= timeout {
                let waited = started.elapsed();
                return Err(match self.core.stalled() {
                    Some((busy_for, sequence)) => CallError::Stuck { busy_for, sequence },
                    None => CallError::TimedOut { waited },
                });
            }
            self.core.stalled();
            self.core.link.wake();
            backoff.snooze();
        }
        Ok(self.terminate())
    }
}
