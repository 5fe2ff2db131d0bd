//! Per-message faults and execution budgets, on every backend: a faulting message's own
//! caller gets `Faulted` (with the value the DSL's semantics gave, where there is one) and no
//! other caller sees it; a runaway loop is aborted with `BudgetExhausted`, the state left as it
//! was, and the actor serves the next message; budgets count loop iterations identically
//! natively and in the PTX (the exact boundary is tested), inside device functions too.

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use ringkernel::{Backend, CallError, Fault, RingContext, RingMessage, device, ring_kernel};

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Division {
    pub a: i32,
    pub b: i32,
    pub index: u32,
}

#[ring_kernel(id = "divider")]
fn divider(_ctx: &mut RingContext, m: Division) -> i32 {
    let table = [10, 20, 30];
    m.a / m.b + table[m.index as usize]
}

#[ring_kernel(id = "runaway-budget")]
fn runaway_budget(_ctx: &mut RingContext, x: u32) -> u32 {
    // Never ends for an even `x` but for its budget: `i` stays even and never equals 7.
    let mut i = x;
    while i != 7 {
        i += 2;
    }
    i
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Tally {
    pub total: u64,
    pub last: u32,
    pub pad: u32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Steps {
    /// Iterations of the `for` loop.
    pub count: u32,
    /// Iterations of the `while` loop inside the device function.
    pub inner: u32,
}

#[device]
fn count_down(n: u32) -> u64 {
    let mut left = n;
    let mut sum = 0u64;
    while left > 0 {
        sum += left as u64;
        left -= 1;
    }
    sum
}

/// 10 steps allowed: `count` iterations of the `for`, each with `inner` iterations of the
/// device function's `while` (and `loop` ones that `break` at once).
#[ring_kernel(id = "metered", max_steps = 10)]
fn metered(_ctx: &mut RingContext, tally: &mut Tally, m: Steps) -> u64 {
    for i in 0..m.count {
        tally.total += 1;
        tally.last = i;
        tally.total += count_down(m.inner);
    }
    tally.total
}

/// A state above the snapshot limit keeps what the handler wrote before the abort.
#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Big {
    pub cells: [u32; 1100],
}

#[ring_kernel(id = "big-state", max_steps = 5)]
fn big_state(_ctx: &mut RingContext, big: &mut Big, n: u32) -> u32 {
    let mut i = 0;
    while i < n {
        big.cells[i as usize] += 1;
        i += 1;
    }
    n
}

/// At most 1,000 trips: a counted `while`.
#[device]
fn count_to_1000(x: u32) -> u32 {
    let mut steps = 0u32;
    while x != 0 && steps < 1000 {
        steps += 1;
    }
    steps
}

/// Within a budget of 1,000 steps the loop cannot run out, so the PTX has no fuel check.
#[ring_kernel(id = "counted-within", max_steps = 1000)]
fn counted_within(_ctx: &mut RingContext, x: u32) -> u32 {
    count_to_1000(x)
}

/// One step less: the fuel check is there, and the 1,000th trip aborts.
#[ring_kernel(id = "counted-past", max_steps = 999)]
fn counted_past(_ctx: &mut RingContext, x: u32) -> u32 {
    count_to_1000(x)
}

on_every_backend!(
    a_counted_loop_within_its_budget_runs_and_one_past_it_is_aborted,
    a_fault_reaches_its_own_caller_with_the_value,
    a_runaway_loop_is_aborted_within_a_second_and_the_actor_goes_on,
    budgets_count_iterations_exactly_and_an_abort_restores_the_state,
    a_state_above_the_snapshot_limit_keeps_the_writes_before_the_abort,
);

fn a_fault_reaches_its_own_caller_with_the_value(backend: Backend) {
    let rt = common::runtime(backend);
    let handle = rt.launch(DividerKernel).unwrap();
    assert_eq!(handle.call_blocking(Division { a: 7, b: 2, index: 1 }), Ok(23));
    let err = handle.call_blocking(Division { a: 7, b: 0, index: 2 }).unwrap_err();
    assert!(
        matches!(err, CallError::Faulted { fault: Fault::DivisionByZero, sequence: 1, .. }),
        "{backend}: {err:?}"
    );
    assert_eq!(err.faulted_value::<i32>(), Some(30), "{backend}: 7 / 0 = 0, then + 30");
    let err = handle.call_blocking(Division { a: 9, b: 3, index: 7 }).unwrap_err();
    assert_eq!(err.fault(), Some(Fault::IndexOutOfBounds));
    assert_eq!(err.faulted_value::<i32>(), Some(3), "{backend}: the read gives 0");
    // The first fault of a message is the one reported; both are counted.
    let err = handle.call_blocking(Division { a: 1, b: 0, index: 9 }).unwrap_err();
    assert_eq!(err.fault(), Some(Fault::DivisionByZero));
    // Plain sends: the fault rides on the response; neighbours are clean.
    for (i, b) in [1, 0, 1].into_iter().enumerate() {
        handle.send_blocking(Division { a: 8, b, index: i as u32 }).unwrap();
    }
    let faults: Vec<(Option<Fault>, i32)> =
        (0..3).map(|_| handle.receive_blocking().map(|r| (r.fault, r.value)).unwrap()).collect();
    assert_eq!(faults, [(None, 18), (Some(Fault::DivisionByZero), 20), (None, 38)]);
    // Concurrent callers: only the one whose message faulted sees it.
    std::thread::scope(|s| {
        let callers: Vec<_> = (0..4)
            .map(|t| {
                let handle = handle.clone();
                s.spawn(move || {
                    (0..50)
                        .map(|i| {
                            let b = if (i + t) % 7 == 0 { 0 } else { 1 };
                            let result = handle.call_blocking(Division { a: i, b, index: 0 });
                            (b, result.map_err(|e| e.fault()))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for caller in callers {
            for (b, result) in caller.join().unwrap() {
                match b {
                    0 => assert_eq!(result, Err(Some(Fault::DivisionByZero))),
                    _ => assert!(result.is_ok(), "{backend}: {result:?}"),
                }
            }
        }
    });
    let metrics = handle.metrics();
    let concurrent: usize = (0..4).map(|t| (0..50).filter(|i| (i + t) % 7 == 0).count()).sum();
    // Two single faults, one message with two, one send, and the concurrent callers'.
    let errors = 1 + 1 + 2 + 1 + concurrent;
    assert_eq!(metrics.errors as usize, errors, "{backend}: every fault counted");
    handle.terminate();
}

fn a_runaway_loop_is_aborted_within_a_second_and_the_actor_goes_on(backend: Backend) {
    let rt = common::runtime(backend);
    let handle = rt.launch(RunawayBudgetKernel).unwrap();
    assert_eq!(handle.call_blocking(1), Ok(7));
    let started = Instant::now();
    let err = handle.call_timeout(2, Duration::from_secs(30)).unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(err, CallError::Faulted { fault: Fault::BudgetExhausted, value: None, .. }),
        "{backend}: {err:?}"
    );
    eprintln!("{backend}: a runaway loop aborted after {took:?}");
    assert!(took < Duration::from_secs(1), "{backend}: the default budget took {took:?}");
    assert_eq!(handle.call_blocking(3), Ok(7), "{backend}: the actor serves the next one");
    let metrics = handle.metrics();
    assert_eq!(metrics.aborted, 1);
    assert_eq!(metrics.first_error, ringkernel_codegen::abi::error::BUDGET_EXHAUSTED);
    handle.terminate();
}

fn a_counted_loop_within_its_budget_runs_and_one_past_it_is_aborted(backend: Backend) {
    use ringkernel::GpuKernel;
    let fuel = |ptx: Option<&str>| ptx.expect("an artifact").contains("budget_exhausted");
    assert!(!fuel(CountedWithinKernel.ptx_artifact()), "bounded by 1000 trips: no fuel");
    assert!(fuel(CountedPastKernel.ptx_artifact()), "1000 trips may exceed 999 steps");
    let rt = common::runtime(backend);
    let within = rt.launch(CountedWithinKernel).unwrap();
    let past = rt.launch(CountedPastKernel).unwrap();
    assert_eq!(within.call_blocking(1), Ok(1000), "{backend}");
    assert_eq!(within.call_blocking(0), Ok(0), "{backend}");
    let err = past.call_blocking(1).unwrap_err();
    assert_eq!(err.fault(), Some(Fault::BudgetExhausted), "{backend}: {err:?}");
    assert_eq!(past.call_blocking(0), Ok(0), "{backend}");
}

fn budgets_count_iterations_exactly_and_an_abort_restores_the_state(backend: Backend) {
    let rt = common::runtime(backend);
    let handle = rt.launch(MeteredKernel::default()).unwrap();
    // 10 steps: 10 `for` iterations; or 2 with 4 `while` iterations each (2 + 8).
    assert_eq!(handle.call_blocking(Steps { count: 10, inner: 0 }), Ok(10));
    assert_eq!(handle.call_blocking(Steps { count: 2, inner: 4 }), Ok(10 + 2 + 20));
    let total = 32;
    // One more step than allowed, each way: aborted, the state as it was.
    for over in [Steps { count: 11, inner: 0 }, Steps { count: 2, inner: 5 }] {
        let err = handle.call_blocking(over).unwrap_err();
        assert_eq!(err.fault(), Some(Fault::BudgetExhausted), "{backend}: {over:?}");
    }
    assert_eq!(handle.call_blocking(Steps { count: 0, inner: 100 }), Ok(total));
    assert_eq!(handle.call_blocking(Steps { count: 1, inner: 9 }), Ok(total + 1 + 45));
    let report = handle.terminate();
    assert_eq!(report.processed, 6);
    let state = Tally::decode(&handle.final_state().unwrap()).unwrap();
    assert_eq!(state, Tally { total: total + 46, last: 0, pad: 0 }, "{backend}");
}

fn a_state_above_the_snapshot_limit_keeps_the_writes_before_the_abort(backend: Backend) {
    const { assert!(1100 * 4 > ringkernel_codegen::abi::STATE_SNAPSHOT_LIMIT as usize) };
    let rt = common::runtime(backend);
    let handle = rt.launch(BigStateKernel::new(Big { cells: [0; 1100] })).unwrap();
    assert_eq!(handle.call_blocking(5), Ok(5));
    assert_eq!(handle.call_blocking(8).unwrap_err().fault(), Some(Fault::BudgetExhausted));
    handle.terminate();
    let state = Big::decode(&handle.final_state().unwrap()).unwrap();
    // The second message wrote cells 0..5 before its sixth step aborted it.
    assert_eq!(&state.cells[..7], &[2, 2, 2, 2, 2, 0, 0], "{backend}");
}

/// A PTX-only rule (compiled here at run time: no host implementation in this binary) with a
/// runaway loop, on the CPU backend, which runs its batch entry in the PTX VM: the abort is
/// reported as on every other path, and the actor goes on.
#[test]
fn a_ptx_only_rule_on_the_cpu_backend_reports_its_budget() {
    let source = r#"
        #[rule(id = "ptx-only-runaway", version = 1, max_steps = 50)]
        fn spin(_ctx: &mut RingContext, x: u32) -> u32 {
            let mut i = x;
            while i != 7 { i += 2; }
            i
        }
    "#;
    let artifact =
        ringkernel_codegen::compile_source(source, &Default::default()).unwrap().remove(0);
    let rule = ringkernel::rules::CompiledRule::from_artifact(&artifact);
    assert!(ringkernel::rules::find_host_rule(&rule).is_none());
    let rt = common::runtime(Backend::Cpu);
    common::block_on(rt.rule_registry().register_rule(rule, "sm_90")).unwrap();
    let handle = rt.rule_actor::<u32, u32>("ptx-only-runaway").unwrap();
    assert_eq!(handle.call_blocking(1), Ok(7));
    let err = handle.call_blocking(2).unwrap_err();
    assert!(matches!(err, CallError::Faulted { fault: Fault::BudgetExhausted, value: None, .. }));
    assert_eq!(handle.call_blocking(5), Ok(7));
    assert_eq!(handle.metrics().aborted, 1);
    handle.terminate();
}
