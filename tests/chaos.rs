//! Chaos, bounded and deterministic in what it checks, on `Cpu` and `Emulated`: producers of
//! three tenants (two authorised writers of tenant 1, one of tenant 1 without the write
//! permission, writers of tenants 2 and 3) call a rule actor guarded by an access policy with
//! numbered messages — some that fault (division by zero), some that run out of their budget —
//! while the rule is reloaded and rolled back between three versions. Checked: every message
//! gets exactly one answer, its own (producer and number), of the kind the model predicts; none
//! is lost, duplicated or stray; no message of another tenant reaches a handler (the handler
//! counts every message whose sender is not tenant 1); the versions each producer saw follow
//! the activation order; the refusal and abort counters and the final state equal the model's.
//! A message of a wrong type cannot even be sent through the typed API (the handle is refused).

#[macro_use]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ringkernel::{
    AccessPolicy, AuthContext, Backend, CallError, Fault, LaunchOptions, RingContext, RingMessage,
    RuntimeError, device, rule,
};
use std::sync::Mutex;

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Entry {
    pub producer: u32,
    pub seq: u32,
    /// The sender's tenant, as the producer (truthfully) claims it.
    pub tenant: u32,
    pub amount: i32,
    pub divisor: i32,
    /// Loop iterations the handler runs (over 1000: the budget is spent).
    pub spin: u32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Receipt {
    pub producer: u32,
    pub seq: u32,
    pub version: u32,
    pub pad: u32,
    pub total: i64,
    pub count: u64,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Ledger {
    pub total: i64,
    pub count: u64,
    /// Messages handled whose sender was not tenant 1: must stay 0.
    pub foreign: u64,
}

/// What every version adds to the total: the amount over the divisor (0 for a zero divisor,
/// a fault).
#[device]
fn share(e: Entry) -> i64 {
    (e.amount / e.divisor) as i64
}

/// 1 for a message of a sender other than tenant 1 (which must never arrive).
#[device]
fn foreign(e: Entry) -> u64 {
    if e.tenant != 1 { 1 } else { 0 }
}

#[rule(id = "chaos-ledger", version = 1, max_steps = 1000)]
fn ledger_v1(_ctx: &mut RingContext, s: &mut Ledger, e: Entry) -> Receipt {
    s.count += 1;
    s.total += share(e);
    s.foreign += foreign(e);
    let mut i = 0;
    while i < e.spin {
        i += 1;
    }
    Receipt { producer: e.producer, seq: e.seq, version: 1, pad: 0, total: s.total, count: s.count }
}

#[rule(id = "chaos-ledger", version = 2, max_steps = 1000)]
fn ledger_v2(_ctx: &mut RingContext, s: &mut Ledger, e: Entry) -> Receipt {
    s.count += 1;
    s.total += share(e);
    s.foreign += foreign(e);
    for _ in 0..e.spin {
        s.foreign += 0;
    }
    Receipt { producer: e.producer, seq: e.seq, version: 2, pad: 0, total: s.total, count: s.count }
}

#[rule(id = "chaos-ledger", version = 3, max_steps = 1000)]
fn ledger_v3(_ctx: &mut RingContext, s: &mut Ledger, e: Entry) -> Receipt {
    s.count += 1;
    s.total += share(e);
    s.foreign += foreign(e);
    let mut left = e.spin;
    loop {
        if left == 0 {
            break;
        }
        left -= 1;
    }
    Receipt { producer: e.producer, seq: e.seq, version: 3, pad: 0, total: s.total, count: s.count }
}

fn compiled(version: u64) -> ringkernel::rules::CompiledRule {
    [LedgerV1Rule::compiled, LedgerV2Rule::compiled, LedgerV3Rule::compiled][version as usize - 1]()
}

const PER_PRODUCER: u32 = 2000;

/// (tenant, holds `ledger:write`) of each producer.
const PRODUCERS: [(u64, bool); 5] = [(1, true), (1, true), (1, false), (2, true), (3, true)];

fn entry(producer: u32, seq: u32) -> Entry {
    Entry {
        producer,
        seq,
        tenant: PRODUCERS[producer as usize].0 as u32,
        amount: seq as i32 * 7 - 2000,
        divisor: if seq % 17 == 0 { 0 } else { 1 + (seq % 3) as i32 },
        spin: if seq % 29 == 0 { 5000 } else { seq % 40 },
    }
}

/// What the actor must answer `e` with, and what it adds to the state.
#[derive(Debug, PartialEq)]
enum Expected {
    Refused,
    Aborted,
    Handled { fault: Option<Fault>, added: i64 },
}

fn model(e: &Entry) -> Expected {
    let (tenant, writes) = PRODUCERS[e.producer as usize];
    if tenant != 1 || !writes {
        return Expected::Refused;
    }
    if e.spin > 1000 {
        return Expected::Aborted;
    }
    match e.divisor {
        0 => Expected::Handled { fault: Some(Fault::DivisionByZero), added: 0 },
        d => Expected::Handled { fault: None, added: i64::from(e.amount / d) },
    }
}

on_every_backend!(chaos_under_swaps_keeps_every_guarantee);

fn chaos_under_swaps_keeps_every_guarantee(backend: Backend) {
    common::block_on(chaos(backend));
}

async fn chaos(backend: Backend) {
    let rt = ringkernel::Runtime::builder().backend(backend).max_history(8).build().unwrap();
    let registry = rt.rule_registry().clone();
    registry.register_rule(compiled(1), "sm_90").await.unwrap();
    let policy = AccessPolicy::new(1).require("ledger:write");
    let plain = rt
        .rule_actor_with::<Entry, Receipt>("chaos-ledger", LaunchOptions::default().access(policy))
        .unwrap();
    assert!(matches!(
        rt.rule_actor::<u32, Receipt>("chaos-ledger"),
        Err(RuntimeError::WrongTypes { .. })
    ));

    let activations = Arc::new(Mutex::new(vec![1u32]));
    let done = Arc::new(AtomicBool::new(false));
    let producers: Vec<_> = PRODUCERS
        .iter()
        .enumerate()
        .map(|(p, (tenant, writes))| {
            let mut auth = AuthContext::new(format!("producer-{p}"), *tenant);
            if *writes {
                auth = auth.with_permission("ledger:write");
            }
            let handle = plain.authorized(auth).unwrap();
            std::thread::spawn(move || {
                (0..PER_PRODUCER)
                    .map(|seq| (entry(p as u32, seq), handle.call_blocking(entry(p as u32, seq))))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    // A plain handle sends too: refused like any stranger.
    let stranger = {
        let plain = plain.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut refused = 0u64;
            while !done.load(Ordering::Acquire) {
                let result = plain.call_blocking(entry(0, 0));
                assert_eq!(result.unwrap_err().fault(), Some(Fault::Unauthorized));
                refused += 1;
                std::thread::sleep(std::time::Duration::from_micros(100));
            }
            refused
        })
    };

    // Reload and roll back between the three versions while the producers run.
    let mut swaps = 0;
    let plan: [(bool, u64); 4] = [(true, 2), (true, 3), (false, 2), (false, 1)];
    while !producers.iter().all(|p| p.is_finished()) && swaps < 400 {
        let (reload, version) = plan[swaps % plan.len()];
        if reload {
            registry.reload_rule(compiled(version), "sm_90").await.unwrap();
        } else {
            registry.rollback_rule("chaos-ledger", version).await.unwrap();
        }
        activations.lock().unwrap().push(version as u32);
        swaps += 1;
        tokio::time::sleep(std::time::Duration::from_micros(200)).await;
    }
    let answers: Vec<Vec<(Entry, Result<Receipt, CallError>)>> =
        producers.into_iter().map(|p| p.join().unwrap()).collect();
    done.store(true, Ordering::Release);
    let stranger_refused = stranger.join().unwrap();
    let activations = activations.lock().unwrap().clone();

    let (mut refused, mut aborted, mut handled, mut total) = (stranger_refused, 0u64, 0u64, 0i64);
    for (p, answers) in answers.iter().enumerate() {
        assert_eq!(answers.len() as u32, PER_PRODUCER, "{backend}: producer {p} lost answers");
        let mut epoch = 0;
        for (e, result) in answers {
            let context = format!("{backend}: producer {p} message {}", e.seq);
            let receipt = match (model(e), result) {
                (Expected::Refused, Err(err)) => {
                    assert_eq!(err.fault(), Some(Fault::Unauthorized), "{context}");
                    refused += 1;
                    continue;
                }
                (Expected::Aborted, Err(err)) => {
                    assert!(
                        matches!(
                            err,
                            CallError::Faulted { fault: Fault::BudgetExhausted, value: None, .. }
                        ),
                        "{context}: {err:?}"
                    );
                    aborted += 1;
                    continue;
                }
                (Expected::Handled { fault: None, added }, Ok(receipt)) => {
                    total += added;
                    *receipt
                }
                (Expected::Handled { fault: Some(fault), added }, Err(err)) => {
                    assert_eq!(err.fault(), Some(fault), "{context}");
                    total += added;
                    err.faulted_value::<Receipt>().expect("a division by zero still answers")
                }
                (expected, got) => panic!("{context}: expected {expected:?}, got {got:?}"),
            };
            handled += 1;
            assert_eq!(
                (receipt.producer, receipt.seq),
                (p as u32, e.seq),
                "{context}: not its own answer"
            );
            while activations[epoch] != receipt.version {
                epoch += 1;
                assert!(
                    epoch < activations.len(),
                    "{context}: v{} out of activation order",
                    receipt.version
                );
            }
        }
    }
    // Nothing stray: every answer was taken by its caller.
    assert!(plain.try_receive().is_none(), "{backend}: a response nobody asked for");
    let metrics = plain.metrics();
    let sent = PRODUCERS.len() as u64 * u64::from(PER_PRODUCER) + stranger_refused;
    assert_eq!(metrics.processed, sent, "{backend}: every message handled once");
    assert_eq!((metrics.refused, metrics.aborted), (refused, aborted), "{backend}");
    plain.terminate();
    let state = Ledger::decode(&plain.final_state().unwrap()).unwrap();
    assert_eq!(state, Ledger { total, count: handled, foreign: 0 }, "{backend}: the model's state");
    println!(
        "{backend}: {sent} messages ({handled} handled, {refused} refused, {aborted} aborted) under {swaps} swaps"
    );
    assert!(swaps >= 20, "{backend}: only {swaps} swaps ran during the traffic");
}
