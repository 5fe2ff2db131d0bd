//! One rule's history and status bookkeeping: the pure part of the state machine.
//!
//! The registry mutates this only while holding the rule's operation lock, and only in
//! short critical sections (never across an `.await`), so readers always see a state between
//! two whole transitions.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::SystemTime;

use super::rule::{CompiledRule, RuleDigest, RuleHandle, RuleStatus};

/// One version the registry holds.
#[derive(Debug, Clone)]
pub(crate) struct VersionEntry {
    pub rule: Arc<CompiledRule>,
    pub digest: RuleDigest,
    pub status: RuleStatus,
    pub registered_at: SystemTime,
}

impl VersionEntry {
    pub fn new(rule: Arc<CompiledRule>, digest: RuleDigest, status: RuleStatus) -> Self {
        Self { rule, digest, status, registered_at: SystemTime::now() }
    }

    pub fn version(&self) -> u64 {
        self.rule.version
    }

    pub fn handle(&self) -> RuleHandle {
        RuleHandle {
            rule_id: self.rule.rule_id.clone(),
            version: self.rule.version,
            status: self.status,
            compute_cap: self.rule.compute_cap.clone(),
            digest: self.digest,
            registered_at: self.registered_at,
        }
    }
}

/// History of one rule.
///
/// Invariants between operations: `staged` holds at most `max_history` entries, oldest first,
/// every one of them staged in the backend; `active` names one of them, whose status is
/// `Active` (or `Quiescing` during a swap); `last_failure` is not staged.
#[derive(Debug, Default)]
pub(crate) struct RuleState {
    pub staged: VecDeque<VersionEntry>,
    pub active: Option<u64>,
    pub last_failure: Option<VersionEntry>,
    /// Device capability of the last successful register or reload, used to re-validate
    /// rollback targets.
    pub device_cc: Option<String>,
}

impl RuleState {
    /// No version has ever been successfully registered.
    pub fn is_vacant(&self) -> bool {
        self.staged.is_empty() && self.active.is_none()
    }

    pub fn entry(&self, version: u64) -> Option<&VersionEntry> {
        self.staged.iter().find(|e| e.version() == version)
    }

    fn entry_mut(&mut self, version: u64) -> Option<&mut VersionEntry> {
        self.staged.iter_mut().find(|e| e.version() == version)
    }

    pub fn active_entry(&self) -> Option<&VersionEntry> {
        self.active.and_then(|v| self.entry(v))
    }

    pub fn set_status(&mut self, version: u64, status: RuleStatus) {
        if let Some(entry) = self.entry_mut(version) {
            entry.status = status;
        }
    }

    /// Staged entries, then the last failed attempt.
    pub fn handles(&self) -> Vec<RuleHandle> {
        self.staged.iter().chain(self.last_failure.as_ref()).map(VersionEntry::handle).collect()
    }

    /// Whether one more staged version fits once eviction ran (it never evicts the active).
    pub fn has_room_for_one_more(&self, max_history: usize) -> bool {
        self.staged.len() < max_history
            || self.staged.iter().any(|e| Some(e.version()) != self.active)
    }

    /// Adds a newly staged version.
    pub fn push_staged(&mut self, entry: VersionEntry) {
        if self.last_failure.as_ref().is_some_and(|f| f.version() == entry.version()) {
            self.last_failure = None;
        }
        self.staged.push_back(entry);
    }

    /// Records a failed attempt; the version is removed from the staged list if it was there.
    pub fn record_failure(&mut self, mut entry: VersionEntry) {
        self.staged.retain(|e| e.version() != entry.version());
        entry.status = RuleStatus::Failed;
        self.last_failure = Some(entry);
    }

    /// The reload of the active version to `new` succeeded.
    pub fn commit_reload(&mut self, new: VersionEntry, was_staged: bool) {
        let version = new.version();
        if let Some(old) = self.active {
            self.set_status(old, RuleStatus::Superseded(version));
        }
        if was_staged {
            self.set_status(version, RuleStatus::Active);
        } else {
            let mut new = new;
            new.status = RuleStatus::Active;
            self.push_staged(new);
        }
        self.active = Some(version);
    }

    /// The rollback from the active version to `target` succeeded: everything above the
    /// target up to the old active version is marked rolled back.
    pub fn commit_rollback(&mut self, target: u64) {
        let old = self.active.unwrap_or(target);
        for entry in self.staged.iter_mut() {
            let v = entry.version();
            if v > target && v <= old {
                entry.status = RuleStatus::Rolledback;
            }
        }
        self.set_status(target, RuleStatus::Active);
        self.active = Some(target);
    }

    /// Evicts the oldest entries until at most `max_history` remain, never the active one
    /// and never `keep`. Returns the evicted versions, oldest first.
    pub fn evict_over(&mut self, max_history: usize, keep: u64) -> Vec<u64> {
        let mut evicted = Vec::new();
        while self.staged.len() > max_history {
            let active = self.active;
            let Some(pos) =
                self.staged.iter().position(|e| Some(e.version()) != active && e.version() != keep)
            else {
                break;
            };
            if let Some(entry) = self.staged.remove(pos) {
                evicted.push(entry.version());
            }
        }
        evicted
    }

    /// Whether a staged version older than the active one exists.
    pub fn rollback_available(&self) -> bool {
        self.active.is_some_and(|active| self.staged.iter().any(|e| e.version() < active))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(version: u64, status: RuleStatus) -> VersionEntry {
        let rule = CompiledRule {
            rule_id: "r".into(),
            version,
            ptx: vec![1],
            compute_cap: "sm_70".into(),
            depends_on: vec![],
            signature: None,
            actor_config: Default::default(),
            metadata: Default::default(),
        };
        VersionEntry::new(Arc::new(rule), RuleDigest([0; 32]), status)
    }

    fn statuses(state: &RuleState) -> Vec<(u64, RuleStatus)> {
        state.handles().iter().map(|h| (h.version, h.status)).collect()
    }

    #[test]
    fn eviction_is_fifo_and_skips_the_active_version() {
        let mut state = RuleState::default();
        state.push_staged(entry(1, RuleStatus::Active));
        state.active = Some(1);
        state.push_staged(entry(2, RuleStatus::Registered));
        state.push_staged(entry(3, RuleStatus::Registered));
        assert_eq!(state.evict_over(2, 3), vec![2]);
        assert_eq!(statuses(&state), vec![(1, RuleStatus::Active), (3, RuleStatus::Registered)]);
        assert_eq!(state.evict_over(1, 3), Vec::<u64>::new(), "active and kept entries stay");
    }

    #[test]
    fn rollback_marks_everything_between_target_and_old_active() {
        let mut state = RuleState::default();
        state.push_staged(entry(1, RuleStatus::Active));
        state.active = Some(1);
        for v in 2..=3 {
            state.commit_reload(entry(v, RuleStatus::Registered), false);
        }
        state.push_staged(entry(5, RuleStatus::Registered));
        state.commit_rollback(1);
        assert_eq!(
            statuses(&state),
            vec![
                (1, RuleStatus::Active),
                (2, RuleStatus::Rolledback),
                (3, RuleStatus::Rolledback),
                (5, RuleStatus::Registered)
            ]
        );
        assert!(!state.rollback_available());
    }

    #[test]
    fn a_failure_replaces_the_previous_one_and_unlists_the_version() {
        let mut state = RuleState::default();
        state.push_staged(entry(1, RuleStatus::Active));
        state.active = Some(1);
        state.push_staged(entry(2, RuleStatus::Registered));
        state.record_failure(entry(2, RuleStatus::Registered));
        state.record_failure(entry(3, RuleStatus::Registered));
        assert_eq!(statuses(&state), vec![(1, RuleStatus::Active), (3, RuleStatus::Failed)]);
        state.push_staged(entry(3, RuleStatus::Registered));
        assert!(state.last_failure.is_none());
    }
}
