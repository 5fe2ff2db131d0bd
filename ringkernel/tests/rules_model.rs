//! Random sequences of register / reload / rollback / injected backend failures, run against
//! the registry and against a small reference model written independently from it. After
//! every step the results, the statuses and the backend's state must agree.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::rule;
use proptest::prelude::*;
use ringkernel::rules::*;

const ID: &str = "model";

#[derive(Debug, Clone)]
enum Op {
    Register(u64),
    Reload(u64),
    Rollback(u64),
    Fail(SwapStep),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (1u64..=12).prop_map(Op::Register),
        4 => (1u64..=12).prop_map(Op::Reload),
        3 => (1u64..=12).prop_map(Op::Rollback),
        // Resume and unstage failures leave the backend needing an operator by design;
        // they have their own tests.
        1 => prop_oneof![
            Just(SwapStep::PreStage),
            Just(SwapStep::Quiesce),
            Just(SwapStep::Swap),
            Just(SwapStep::TerminateOld),
        ]
        .prop_map(Op::Fail),
    ]
}

/// The reference: a list of (version, status) oldest first, the active version, the last
/// failed version, and the injected failures still pending.
#[derive(Debug, Default)]
struct Model {
    max: usize,
    staged: Vec<(u64, RuleStatus)>,
    active: Option<u64>,
    failed: Option<u64>,
    pending: BTreeMap<SwapStep, u32>,
}

type Outcome = Result<(), &'static str>;

impl Model {
    /// A backend call: false when an injected failure consumes it.
    fn call(&mut self, step: SwapStep) -> bool {
        match self.pending.get_mut(&step) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        }
    }

    fn has(&self, v: u64) -> Option<RuleStatus> {
        self.staged.iter().find(|(x, _)| *x == v).map(|&(_, s)| s)
    }

    fn set(&mut self, v: u64, status: RuleStatus) {
        for entry in self.staged.iter_mut().filter(|(x, _)| *x == v) {
            entry.1 = status;
        }
    }

    fn push(&mut self, v: u64, status: RuleStatus) {
        if self.failed == Some(v) {
            self.failed = None;
        }
        self.staged.push((v, status));
    }

    fn fail(&mut self, v: u64) {
        self.staged.retain(|(x, _)| *x != v);
        self.failed = Some(v);
    }

    fn evict_and_unstage(&mut self, keep: u64) {
        while self.staged.len() > self.max {
            let Some(i) =
                self.staged.iter().position(|(x, _)| Some(*x) != self.active && *x != keep)
            else {
                break;
            };
            self.staged.remove(i);
            self.call(SwapStep::Unstage);
        }
    }

    fn register(&mut self, v: u64) -> Outcome {
        let Some(active) = self.active else {
            if !self.call(SwapStep::PreStage) {
                return Err("pre-stage");
            }
            if !self.call(SwapStep::Swap) {
                self.call(SwapStep::Unstage);
                return Err("activation");
            }
            self.push(v, RuleStatus::Active);
            self.active = Some(v);
            return Ok(());
        };
        if self.has(v).is_some() {
            return Err("duplicate");
        }
        if v <= active {
            return Err("not increasing");
        }
        if self.staged.len() >= self.max && self.staged.iter().all(|(x, _)| *x == active) {
            return Err("history full");
        }
        if !self.call(SwapStep::PreStage) {
            self.fail(v);
            return Err("pre-stage");
        }
        self.push(v, RuleStatus::Registered);
        self.evict_and_unstage(v);
        Ok(())
    }

    fn quiesce_and_swap(&mut self) -> Outcome {
        if !self.call(SwapStep::Quiesce) {
            self.call(SwapStep::Resume);
            return Err("quiesce");
        }
        if !self.call(SwapStep::Swap) {
            self.call(SwapStep::Resume);
            return Err("swap");
        }
        Ok(())
    }

    fn reload(&mut self, v: u64) -> Outcome {
        let active = self.active.ok_or("unknown rule")?;
        // Never run, or rolled back from: activated again without staging it again.
        let reusable = matches!(self.has(v), Some(RuleStatus::Registered | RuleStatus::Rolledback));
        if self.has(v).is_some() && !reusable {
            return Err("duplicate");
        }
        if v <= active {
            return Err("not increasing");
        }
        if !reusable && !self.call(SwapStep::PreStage) {
            self.fail(v);
            return Err("pre-stage");
        }
        if let Err(e) = self.quiesce_and_swap() {
            self.fail(v);
            self.call(SwapStep::Unstage);
            return Err(e);
        }
        self.set(active, RuleStatus::Superseded(v));
        if reusable {
            self.set(v, RuleStatus::Active);
        } else {
            self.push(v, RuleStatus::Active);
        }
        self.active = Some(v);
        // terminate_old runs before the unstages of evicted versions.
        self.call(SwapStep::TerminateOld);
        self.evict_and_unstage(v);
        Ok(())
    }

    fn rollback(&mut self, target: u64) -> Outcome {
        let active = self.active.ok_or("unknown rule")?;
        self.has(target).ok_or("unknown version")?;
        if target == active {
            return Err("already active");
        }
        if target > active {
            return Err("newer");
        }
        self.quiesce_and_swap()?;
        for entry in self.staged.iter_mut() {
            if entry.0 > target && entry.0 <= active {
                entry.1 = RuleStatus::Rolledback;
            }
        }
        self.set(target, RuleStatus::Active);
        self.active = Some(target);
        self.call(SwapStep::TerminateOld);
        Ok(())
    }

    fn history(&self) -> Vec<(u64, RuleStatus)> {
        let mut all = self.staged.clone();
        all.extend(self.failed.map(|v| (v, RuleStatus::Failed)));
        all
    }
}

fn kind<T>(result: &Result<T, RuleError>) -> Outcome {
    match result {
        Ok(_) => Ok(()),
        Err(e) => Err(match e {
            RuleError::PreStageFailed { .. } => "pre-stage",
            RuleError::ActivationFailed { .. } => "activation",
            RuleError::QuiesceFailed { .. } => "quiesce",
            RuleError::SwapFailed { .. } => "swap",
            RuleError::DuplicateVersion { .. } => "duplicate",
            RuleError::VersionNotIncreasing { .. } => "not increasing",
            RuleError::HistoryFull { .. } => "history full",
            RuleError::UnknownRule { .. } => "unknown rule",
            RuleError::UnknownVersion { .. } => "unknown version",
            RuleError::AlreadyActive { .. } => "already active",
            RuleError::RollbackToNewer { .. } => "newer",
            _ => "other",
        }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn registry_agrees_with_the_reference_model(max in 1usize..=4, ops in prop::collection::vec(op(), 1..40)) {
        let runtime = common::runtime();
        let backend = Arc::new(RecordingSwapBackend::new());
        let registry = RuleRegistry::new(max, backend.clone());
        let mut model = Model { max, ..Model::default() };

        for (step, op) in ops.iter().enumerate() {
            let (expected, actual) = match *op {
                Op::Register(v) => (model.register(v), kind(&runtime.block_on(registry.register_rule(rule(ID, v), "sm_80")))),
                Op::Reload(v) => (model.reload(v), kind(&runtime.block_on(registry.reload_rule(rule(ID, v), "sm_80")))),
                Op::Rollback(v) => (model.rollback(v), kind(&runtime.block_on(registry.rollback_rule(ID, v)))),
                Op::Fail(s) => {
                    backend.fail_next(s);
                    *model.pending.entry(s).or_default() += 1;
                    (Ok(()), Ok(()))
                }
            };
            prop_assert_eq!(actual, expected, "step {} {:?}", step, op);
            let history: Vec<(u64, RuleStatus)> = registry.history(ID).iter().map(|h| (h.version, h.status)).collect();
            prop_assert_eq!(&history, &model.history(), "step {} {:?}", step, op);
            prop_assert_eq!(backend.installed(ID), model.active, "step {} {:?}", step, op);
            let mut staged: Vec<u64> = model.staged.iter().map(|e| e.0).collect();
            staged.sort_unstable();
            prop_assert_eq!(backend.staged(ID), staged, "step {} {:?}", step, op);
            prop_assert!(backend.violations().is_empty(), "{:?}", backend.violations());
            prop_assert!(!backend.is_quiesced(ID));
        }
    }
}
