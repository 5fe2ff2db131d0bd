//! The threads that run asynchronous launches ([`crate::Vm::launch_async`]).
//!
//! A persistent kernel is relaunched at every hot swap, and starting an OS thread for it costs
//! tens of microseconds (more on a loaded machine), which a swap's blackout would pay. So
//! launch threads are kept: a finished one waits (parked on its channel) for the next
//! launch, and exits after [`IDLE_EXIT`] without one. The pool is process-wide; a thread
//! holds no VM between launches.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, OnceLock};
use std::time::Duration;

use parking_lot::Mutex;

/// How long an idle launch thread waits for work before it exits.
const IDLE_EXIT: Duration = Duration::from_secs(2);

type Job = Box<dyn FnOnce() + Send>;

/// Idle launch threads, each reachable through its own channel.
struct Pool {
    idle: Mutex<Vec<(u64, Sender<Job>)>>,
    next_id: Mutex<u64>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool { idle: Mutex::new(Vec::new()), next_id: Mutex::new(0) })
}

/// Where a launch leaves its result, and how its waiter hears of it.
pub(crate) struct Outcome<T> {
    result: std::sync::Mutex<Option<std::thread::Result<T>>>,
    done: Condvar,
}

impl<T> Outcome<T> {
    /// Whether the result is in.
    pub fn is_ready(&self) -> bool {
        self.result.lock().map(|r| r.is_some()).unwrap_or(true)
    }

    /// Blocks until the result is in and takes it: `Err` if the work panicked (or the
    /// result was already taken).
    pub fn take(&self) -> std::thread::Result<T> {
        let gone = || -> std::thread::Result<T> { Err(Box::new("the result was already taken")) };
        let Ok(mut result) = self.result.lock() else { return gone() };
        while result.is_none() {
            match self.done.wait(result) {
                Ok(next) => result = next,
                Err(_) => return gone(),
            }
        }
        result.take().unwrap_or_else(gone)
    }
}

/// Runs `work` on an idle launch thread (or a new one) and returns where its result will be.
pub(crate) fn run<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> std::io::Result<Arc<Outcome<T>>> {
    let outcome = Arc::new(Outcome { result: std::sync::Mutex::new(None), done: Condvar::new() });
    let delivery = outcome.clone();
    let job: Job = Box::new(move || {
        let value = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        if let Ok(mut slot) = delivery.result.lock() {
            *slot = Some(value);
        }
        delivery.done.notify_all();
    });
    let idle = pool().idle.lock().pop();
    match idle {
        // An idle thread keeps its own sender, so this send cannot fail while it lives; it
        // leaves the idle list before it exits.
        Some((_, sender)) => match sender.send(job) {
            Ok(()) => Ok(outcome),
            Err(mpsc::SendError(job)) => spawn(job).map(|()| outcome),
        },
        None => spawn(job).map(|()| outcome),
    }
}

fn spawn(first: Job) -> std::io::Result<()> {
    let id = {
        let mut next = pool().next_id.lock();
        *next += 1;
        *next
    };
    let (sender, receiver) = mpsc::channel::<Job>();
    std::thread::Builder::new().name("ptx-vm-launch".into()).spawn(move || {
        first();
        pool().idle.lock().push((id, sender.clone()));
        loop {
            match receiver.recv_timeout(IDLE_EXIT) {
                Ok(job) => {
                    job();
                    pool().idle.lock().push((id, sender.clone()));
                }
                Err(RecvTimeoutError::Timeout) => {
                    let mut idle = pool().idle.lock();
                    if let Some(i) = idle.iter().position(|(other, _)| *other == id) {
                        idle.remove(i);
                        return;
                    }
                    // A launcher took our sender just now: its job is on its way.
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_threads_are_reused_and_panics_are_errors() {
        let first = run(|| std::thread::current().id()).unwrap();
        let first_thread = first.take().unwrap();
        // A thread delivers its result, then goes back to the idle list: wait until it did.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !pool().idle.lock().iter().any(|_| true) {
            assert!(std::time::Instant::now() < deadline, "the thread never became idle");
            std::thread::yield_now();
        }
        let ids: Vec<_> =
            (0..20).map(|_| run(|| std::thread::current().id()).unwrap().take().unwrap()).collect();
        assert!(
            ids.contains(&first_thread) || ids.windows(2).any(|w| w[0] == w[1]),
            "no launch thread was reused"
        );
        let panicked = run(|| -> u32 { panic!("on purpose") }).unwrap();
        assert!(panicked.take().is_err(), "a panic is an error value");
        assert_eq!(run(|| 7).unwrap().take().unwrap(), 7, "the pool still works after a panic");
    }
}
