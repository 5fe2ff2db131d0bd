//! Versioned rules with targets and dependencies: two versions of one rule.

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Txn {
    pub amount: i64,
    pub account: u32,
}

#[rule(id = "fraud-score", version = 1, compute_cap = "sm_80")]
fn fraud_score_v1(ctx: &mut RingContext, txn: Txn) -> u32 {
    if txn.amount > 10_000 { 90 } else { 10 }
}

#[rule(id = "fraud-score", version = 2, compute_cap = "sm_80", depends_on = ["fx-rates"])]
fn fraud_score_v2(ctx: &mut RingContext, txn: Txn) -> u32 {
    let base = if txn.amount > 5_000 { 60 } else { 5 };
    base + (txn.account % 7)
}
