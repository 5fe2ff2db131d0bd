//! The three macros end to end, without a GPU: a `#[ring_kernel]` with state and a
//! `#[device]` helper, and two versions of a `#[rule]`. build.rs compiled all of them to PTX
//! (no CUDA toolkit); here they run natively with the same semantics, and the rule versions
//! go through the registry.
//!
//! Run it with `cargo run --example kernels`.

use std::sync::Arc;

use ringkernel::rules::{NoopSwapBackend, RuleRegistry};
use ringkernel::{
    GpuKernel, Hlc, RingContext, RingKernelHandler, RingMessage, device, ring_kernel, rule,
};

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Deposit {
    pub amount: i64,
    pub account: u32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Ledger {
    pub balance: i64,
    pub deposits: u32,
    pub last: [i64; 4],
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Receipt {
    pub balance: i64,
    pub fee: i64,
    pub flagged: bool,
}

#[device]
fn fee_for(amount: i64) -> i64 {
    if amount > 10_000 { amount / 1000 } else { 1 }
}

#[ring_kernel(id = "ledger", queue_capacity = 256)]
fn post(_ctx: &mut RingContext, ledger: &mut Ledger, deposit: Deposit) -> Receipt {
    let fee = fee_for(deposit.amount);
    ledger.balance += deposit.amount - fee;
    ledger.last[(ledger.deposits % 4) as usize] = deposit.amount;
    ledger.deposits += 1;
    Receipt { balance: ledger.balance, fee, flagged: deposit.amount > 50_000 }
}

#[rule(id = "risk", version = 1, compute_cap = "sm_80")]
fn risk_v1(_ctx: &mut RingContext, deposit: Deposit) -> u32 {
    if deposit.amount > 10_000 { 80 } else { 10 }
}

#[rule(id = "risk", version = 2, compute_cap = "sm_80")]
fn risk_v2(_ctx: &mut RingContext, deposit: Deposit) -> u32 {
    let base = if deposit.amount > 5_000 { 60 } else { 5 };
    base + deposit.account % 7
}

#[tokio::main]
async fn main() {
    let mut ctx = RingContext::new("ledger", 0, Arc::new(Hlc::new(0)));
    let mut ledger = PostKernel::default();
    println!(
        "kernel `{}`: queue {} slots, {} bytes of PTX",
        ledger.id(),
        ledger.queue_capacity(),
        PostKernel::ARTIFACT.len()
    );
    for amount in [500, 20_000, 75_000] {
        let receipt =
            ledger.handle(&mut ctx, Deposit { amount, account: 7 }).await.expect("handler runs");
        println!("deposit {amount:>6}: {receipt:?}");
    }
    println!("state after three deposits: {:?}", ledger.state);

    let registry = RuleRegistry::new(4, Arc::new(NoopSwapBackend));
    let v1 = RiskV1Rule::compiled();
    println!(
        "rule `{}` v{}: {} bytes of artifact, ABI hash {:#x}",
        v1.rule_id,
        v1.version,
        v1.ptx.len(),
        v1.metadata.abi_hash.unwrap_or(0)
    );
    registry.register_rule(v1, "sm_90").await.expect("v1 registers");
    let report = registry.reload_rule(RiskV2Rule::compiled(), "sm_90").await.expect("v2 reloads");
    println!("{report}");
    let deposit = Deposit { amount: 6_000, account: 10 };
    println!(
        "risk of {deposit:?}: v1 says {}, v2 says {}",
        risk_v1(&mut ctx, deposit),
        risk_v2(&mut ctx, deposit)
    );
}
