//! Waits that end. A handler that does not return (the DSL's runaway loop with the largest
//! budget, natively on `Cpu` and as PTX on `Emulated` — with the default budget it is aborted
//! instead, see `faults_and_budgets.rs`; a hand-written async handler) makes `call_timeout` and
//! `terminate_timeout` return `Stuck` with the message and how long it has run, instead of
//! hanging the caller; `metrics` shows the current message's time growing. A busy actor (slow
//! but making progress) gives `TimedOut`. A response that arrives after its call gave up never
//! reaches `receive`.
//!
//! The runaway actors spin until the test binary exits (nothing can take a thread or a
//! kernel back by force), so this binary holds only these tests.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ringkernel::{
    Backend, CallError, HandlerError, RingContext, RingKernelHandler, Runtime, ring_kernel,
};

#[ring_kernel(id = "runaway", max_steps = 4294967295)]
fn runaway(_ctx: &mut RingContext, x: u32) -> u32 {
    // Runs out its budget (minutes) for an even `x`: `i` stays even and never equals 7.
    let mut i = x;
    while i != 7 {
        i += 2;
    }
    i
}

fn assert_stuck(
    result: Result<impl std::fmt::Debug, CallError>,
    at_least: Duration,
    context: &str,
) -> u64 {
    match result {
        Err(CallError::Stuck { busy_for, sequence }) => {
            assert!(busy_for >= at_least, "{context}: stuck for only {busy_for:?}");
            sequence
        }
        other => panic!("{context}: expected Stuck, got {other:?}"),
    }
}

#[test]
fn a_runaway_loop_is_reported_stuck_on_the_cpu_and_in_the_vm() {
    for backend in [Backend::Cpu, Backend::Emulated] {
        let rt = Runtime::builder().backend(backend).build().unwrap();
        let handle = rt.launch(RunawayKernel).unwrap();
        assert_eq!(handle.call_blocking(1), Ok(7), "{backend}: an odd input ends");
        let wait = Duration::from_millis(300);
        let sequence = assert_stuck(
            handle.call_timeout(2, wait),
            wait.mul_f64(0.9),
            &format!("{backend} call"),
        );
        assert_eq!(sequence, 1, "{backend}: the second message is the one it is on");
        let current = handle.metrics().current_message_for.expect("on a message");
        assert!(current >= wait.mul_f64(0.9), "{backend}: metrics says {current:?}");
        // Messages queued behind it wait; a call for one of them reports the same stuck message.
        assert_eq!(
            assert_stuck(
                handle.call_timeout(3, wait),
                wait.mul_f64(0.9),
                &format!("{backend} queued")
            ),
            1
        );
        assert_stuck(handle.terminate_timeout(wait), wait, &format!("{backend} terminate"));
        assert!(
            matches!(handle.call_timeout(1, wait), Err(CallError::Terminated)),
            "{backend}: sends fail once told to terminate"
        );
    }
}

/// Sleeps 20 ms per message; hangs on 7 until `RELEASE` is set.
struct Slow;

static RELEASE: AtomicBool = AtomicBool::new(false);

#[ringkernel::async_trait]
impl RingKernelHandler<u32, u32> for Slow {
    async fn handle(&mut self, _ctx: &mut RingContext, msg: u32) -> Result<u32, HandlerError> {
        if msg == 7 {
            while !RELEASE.load(Ordering::Acquire) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        } else {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(msg * 10)
    }
}

#[test]
fn a_hung_async_handler_is_stuck_a_slow_one_is_busy_and_late_answers_are_dropped() {
    let rt = Runtime::builder().backend(Backend::Cpu).build().unwrap();
    let handle = rt.launch_handler("slow", 64, Slow).unwrap();
    // Busy: ten slow messages ahead of the call, progress all along.
    for i in 0..10 {
        handle.send_blocking(100 + i).unwrap();
    }
    match handle.call_timeout(1, Duration::from_millis(100)) {
        Err(CallError::TimedOut { waited }) => assert!(waited >= Duration::from_millis(100)),
        other => panic!("expected TimedOut, got {other:?}"),
    }
    for i in 0..10 {
        assert_eq!(handle.receive_timeout(Duration::from_secs(5)).unwrap().value, (100 + i) * 10);
    }
    // The answer to the call that gave up arrives, and is dropped.
    std::thread::sleep(Duration::from_millis(60));
    assert!(matches!(
        handle.receive_timeout(Duration::from_millis(50)),
        Err(CallError::TimedOut { .. })
    ));

    // Hung on 7: Stuck for call and terminate; released, it finishes and stops.
    let wait = Duration::from_millis(200);
    assert_stuck(handle.call_timeout(7, wait), wait.mul_f64(0.9), "hung call");
    assert_stuck(handle.terminate_timeout(wait), wait, "hung terminate");
    RELEASE.store(true, Ordering::Release);
    let report = handle
        .terminate_timeout(Duration::from_secs(5))
        .expect("released, it reaches the boundary");
    assert_eq!(report.processed, 12, "ten, the timed-out call and the hung one");
}
