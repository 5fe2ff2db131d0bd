//! Every backend with macro-generated kernels: calls, ordering, back-pressure, activation,
//! errors, concurrent callers, idle wake-up, termination, hand-written async handlers. Each
//! test runs on `Cpu` and `Emulated` (the kernel's PTX in the PTX VM), and on `Cuda` where a
//! GPU is present (it prints why it skips otherwise).

#[macro_use]
mod common;

use std::time::Duration;

use ringkernel::{
    Backend, CallError, Fault, HandlerError, RingContext, RingKernelHandler, RingMessage,
    SendError, ring_kernel,
};

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Job {
    pub id: u32,
    pub divisor: u32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Done {
    pub id: u32,
    pub quotient: u32,
    pub handled: u64,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Counter {
    pub handled: u64,
}

#[ring_kernel(id = "cpu-jobs", queue_capacity = 8)]
fn jobs(_ctx: &mut RingContext, c: &mut Counter, job: Job) -> Done {
    c.handled += 1;
    Done { id: job.id, quotient: 1000 / job.divisor, handled: c.handled }
}

on_every_backend!(
    call_returns_the_handlers_result_and_state_persists,
    sends_are_answered_in_order_and_errors_are_recorded_not_fatal,
    a_full_queue_pushes_back_and_deactivation_keeps_messages_queued,
    taking_fewer_responses_than_were_sent_still_lets_the_actor_go_on,
    concurrent_callers_get_their_own_responses,
    async_callers_get_their_own_responses_and_fail_after_terminate,
    an_idle_actor_parks_and_wakes_on_the_next_message,
    hand_written_async_handlers_work_and_failures_reach_the_caller,
    batches_send_what_fits_in_order_and_receive_everything,
);

fn call_returns_the_handlers_result_and_state_persists(backend: Backend) {
    let rt = common::runtime(backend);
    assert_eq!(rt.backend(), backend);
    assert_eq!(rt.device_name().is_some(), backend != Backend::Cpu, "{:?}", rt.device_name());
    let handle = rt.launch(JobsKernel::default()).unwrap();
    assert_eq!(
        handle.call_blocking(Job { id: 1, divisor: 10 }),
        Ok(Done { id: 1, quotient: 100, handled: 1 })
    );
    assert_eq!(handle.call_blocking(Job { id: 2, divisor: 3 }).unwrap().handled, 2);
    let report = handle.terminate();
    assert_eq!((report.processed, report.pending), (2, 0));
    assert!(matches!(handle.try_send(Job { id: 3, divisor: 1 }), Err(SendError::Terminated(_))));
}

fn sends_are_answered_in_order_and_errors_are_recorded_not_fatal(backend: Backend) {
    common::block_on(async move {
        let rt = common::runtime(backend);
        let handle = rt.launch(JobsKernel::default()).unwrap();
        // The queues hold 8: the sender waits for room while the receiver drains (back-pressure).
        let sender = {
            let handle = handle.clone();
            tokio::spawn(async move {
                for id in 0..100 {
                    handle.send(Job { id, divisor: id % 5 }).await.unwrap();
                }
            })
        };
        for id in 0..100 {
            let response = handle.receive().await.unwrap();
            assert_eq!((response.sequence, response.value.id), (u64::from(id), id));
            let expected = 1000u32.checked_div(id % 5).unwrap_or(0);
            assert_eq!(response.value.quotient, expected, "division by zero gives 0");
        }
        sender.await.unwrap();
        let metrics = handle.metrics();
        assert_eq!(
            (metrics.processed, metrics.errors, metrics.first_error),
            (100, 20, ringkernel_codegen::abi::error::DIVISION_BY_ZERO)
        );
        // Handler times are measured by the host threads only.
        assert_eq!(metrics.latency_p50.is_some(), backend == Backend::Cpu);
        handle.terminate();
    })
}

fn a_full_queue_pushes_back_and_deactivation_keeps_messages_queued(backend: Backend) {
    let rt = common::runtime(backend);
    let handle = rt.launch(JobsKernel::default()).unwrap();
    handle.deactivate();
    for id in 0..8 {
        handle.try_send(Job { id, divisor: 1 }).unwrap();
    }
    let refused = handle.try_send(Job { id: 99, divisor: 1 }).unwrap_err();
    assert!(matches!(refused, SendError::Full(_)));
    assert_eq!(refused.into_inner().id, 99, "the message comes back");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(handle.metrics().processed, 0, "a deactivated actor handles nothing");
    assert_eq!(handle.metrics().queued, 8);
    handle.activate();
    let ids: Vec<u32> = (0..8).map(|_| handle.receive_blocking().unwrap().value.id).collect();
    assert_eq!(ids, (0..8).collect::<Vec<_>>());
    // Now the queue drains while a blocking send waits for room.
    for id in 0..50 {
        handle.send_blocking(Job { id, divisor: 2 }).unwrap();
        handle.receive_blocking().unwrap();
    }
    handle.deactivate();
    handle.try_send(Job { id: 7, divisor: 1 }).unwrap();
    let report = handle.terminate();
    assert_eq!((report.processed, report.pending), (58, 1), "terminate reports what was left");
}

fn taking_fewer_responses_than_were_sent_still_lets_the_actor_go_on(backend: Backend) {
    // Fill both queues (8 slots each), then take one response: the actor must see that slot
    // free, handle one more message and so make room for one more send. A consumer that kept
    // its progress to itself would leave the actor and this send waiting on each other.
    let rt = common::runtime(backend);
    let handle = rt.launch(JobsKernel::default()).unwrap();
    for id in 0..16 {
        handle.send_blocking(Job { id, divisor: 1 }).unwrap();
    }
    while handle.metrics().processed < 8 {
        std::thread::yield_now();
    }
    assert_eq!(handle.try_receive().unwrap().unwrap().value.id, 0);
    let sender = {
        let handle = handle.clone();
        std::thread::spawn(move || handle.send_blocking(Job { id: 16, divisor: 1 }))
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !sender.is_finished() {
        assert!(std::time::Instant::now() < deadline, "the send never found room");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(sender.join().unwrap().is_ok());
    let ids: Vec<u32> = (1..17).map(|_| handle.receive_blocking().unwrap().value.id).collect();
    assert_eq!(ids, (1..17).collect::<Vec<_>>());
    handle.terminate();
}

fn concurrent_callers_get_their_own_responses(backend: Backend) {
    let rt = common::runtime(backend);
    let handle = rt.launch(JobsKernel::default()).unwrap();
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            let handle = handle.clone();
            std::thread::spawn(move || {
                for i in 0..500u32 {
                    let id = t * 10_000 + i;
                    let done = handle.call_blocking(Job { id, divisor: 7 }).unwrap();
                    assert_eq!(done.id, id, "a caller got someone else's response");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(handle.metrics().processed, 2000);
    handle.terminate();
}

fn async_callers_get_their_own_responses_and_fail_after_terminate(backend: Backend) {
    common::block_on(async move {
        let rt = common::runtime(backend);
        let handle = rt.launch(JobsKernel::default()).unwrap();
        let tasks: Vec<_> = (0..4u32)
            .map(|t| {
                let handle = handle.clone();
                tokio::spawn(async move {
                    for i in 0..200u32 {
                        let id = t * 10_000 + i;
                        let done = handle.call(Job { id, divisor: 3 }).await.unwrap();
                        assert_eq!((done.id, done.quotient), (id, 333), "a wrong response");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(handle.metrics().processed, 800);
        handle.terminate();
        assert_eq!(handle.call(Job { id: 1, divisor: 1 }).await, Err(CallError::Terminated));
        assert_eq!(handle.receive().await.err(), Some(CallError::Terminated));
    })
}

fn an_idle_actor_parks_and_wakes_on_the_next_message(backend: Backend) {
    let rt = common::runtime(backend);
    let handle = rt.launch(JobsKernel::default()).unwrap();
    handle.call_blocking(Job { id: 1, divisor: 1 }).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let started = std::time::Instant::now();
    handle.call_blocking(Job { id: 2, divisor: 1 }).unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(40),
        "the parked actor was not woken: {:?}",
        started.elapsed()
    );
    handle.terminate();
}

/// A hand-written async handler that really awaits.
struct Slow;

#[ringkernel::async_trait]
impl RingKernelHandler<u32, u32> for Slow {
    async fn handle(&mut self, _ctx: &mut RingContext, msg: u32) -> Result<u32, HandlerError> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        if msg == 13 {
            return Err(HandlerError::Rejected("unlucky".into()));
        }
        if msg == 666 {
            panic!("a hand-written handler panicked (on purpose, in a test)");
        }
        Ok(msg * 2)
    }
}

fn hand_written_async_handlers_work_and_failures_reach_the_caller(backend: Backend) {
    let rt = common::runtime(backend);
    let handle = rt.launch_handler("slow", 4, Slow).unwrap();
    assert_eq!(handle.call_blocking(21), Ok(42));
    let failed = |result: Result<u32, CallError>| {
        matches!(result, Err(CallError::Faulted { fault: Fault::HandlerFailed, value: None, .. }))
    };
    assert!(failed(handle.call_blocking(13)));
    assert_eq!(handle.call_blocking(1), Ok(2));
    // A panic fails that message only: the actor answers the next one.
    assert!(failed(handle.call_blocking(666)));
    assert_eq!(handle.call_blocking(4), Ok(8));
    let metrics = handle.metrics();
    assert_eq!(
        (metrics.errors, metrics.first_error),
        (2, ringkernel_codegen::abi::error::HANDLER_FAILED),
        "each failed message is counted"
    );
    handle.terminate();
}

fn batches_send_what_fits_in_order_and_receive_everything(backend: Backend) {
    let rt = common::runtime(backend);
    let handle = rt.launch(JobsKernel::default()).unwrap();
    handle.deactivate();
    let jobs: Vec<Job> = (0..20).map(|id| Job { id, divisor: 1 }).collect();
    assert_eq!(handle.send_batch(&jobs).unwrap(), 8, "only what fits is sent");
    handle.activate();
    let mut sent = 8;
    let mut got = Vec::new();
    while got.len() < 20 {
        sent += handle.send_batch(&jobs[sent..]).unwrap();
        handle.receive_batch(&mut got, 5);
    }
    let ids: Vec<u32> = got.into_iter().map(|r| r.unwrap().value.id).collect();
    assert_eq!(ids, (0..20).collect::<Vec<_>>());
    handle.terminate();
    assert_eq!(handle.send_batch(&jobs), Err(CallError::Terminated));
}
