//! All-or-nothing rollout of a new version across the devices of a [`HotReloadManager`].
//!
//! 1. **Stage everywhere**: every device validates and pre-stages the version
//!    (`register_rule`: status `Registered`, nothing swapped), concurrently. If any device
//!    refuses, the devices that staged it discard it (`discard_staged`) and nothing changed
//!    anywhere.
//! 2. **Swap each**, one device after another (`reload_rule` of the staged artifact: no
//!    second pre-stage). If a swap fails, that device kept its old version (the registry's
//!    guarantee), the devices already swapped roll back to the version they ran before, and
//!    the devices not reached discard the staged version: the old version runs everywhere.
//!
//! The version must be above an active version on every device (a first registration has
//! nothing to return to; use `register_everywhere`).

use super::error::RuleError;
use super::manager::HotReloadManager;
use super::rule::CompiledRule;

/// One step of a rollout on one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutPhase {
    /// Validated and pre-staged.
    Staged,
    /// Refused (the reason): validation or pre-stage.
    StageFailed(String),
    /// The new version runs.
    Swapped,
    /// The swap failed (the reason); the old version kept running.
    SwapFailed(String),
    /// Swapped, then returned to the previous version because another device failed.
    RolledBack,
    /// Rolling back failed (the reason): this device needs an operator.
    RollbackFailed(String),
    /// The staged version was discarded without ever running.
    Discarded,
    /// Discarding failed (the reason); the version stays staged, inactive.
    DiscardFailed(String),
}

/// What happened on one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRollout {
    /// Device ordinal.
    pub ordinal: u32,
    /// The version that ran before.
    pub previous: Option<u64>,
    /// Its phases, in order.
    pub phases: Vec<RolloutPhase>,
}

/// The outcome of [`HotReloadManager::reload_everywhere_atomic`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutReport {
    /// Rule id.
    pub rule_id: String,
    /// The version rolled out.
    pub version: u64,
    /// True when the version runs on every device; false when the previous versions run
    /// everywhere (unless a device's phases end in a `...Failed`).
    pub committed: bool,
    /// One entry per device, by ordinal.
    pub devices: Vec<DeviceRollout>,
}

impl RolloutReport {
    /// Devices left in a state the rollout could not restore (a failed rollback or discard).
    pub fn needs_attention(&self) -> Vec<u32> {
        self.devices
            .iter()
            .filter(|d| {
                d.phases.iter().any(|p| {
                    matches!(p, RolloutPhase::RollbackFailed(_) | RolloutPhase::DiscardFailed(_))
                })
            })
            .map(|d| d.ordinal)
            .collect()
    }
}

impl HotReloadManager {
    /// Rolls `rule` out on every device or on none (see the module docs).
    pub async fn reload_everywhere_atomic(&self, rule: &CompiledRule) -> RolloutReport {
        let (rule_id, version) = (rule.rule_id.clone(), rule.version);
        let devices = self.devices();
        let mut report = RolloutReport {
            rule_id: rule_id.clone(),
            version,
            committed: false,
            devices: devices
                .iter()
                .map(|d| DeviceRollout {
                    ordinal: d.ordinal,
                    previous: self
                        .device_registry(d.ordinal)
                        .and_then(|r| r.get_active(&rule_id))
                        .map(|h| h.version),
                    phases: Vec::new(),
                })
                .collect(),
        };
        // A device with nothing running would activate on `register_rule`: no two phases.
        if let Some(d) = report.devices.iter_mut().find(|d| d.previous.is_none()) {
            let reason = RuleError::UnknownRule { rule_id: rule_id.clone() }.to_string();
            d.phases.push(RolloutPhase::StageFailed(reason));
            return report;
        }

        // 1. Stage everywhere. A device that staged this very artifact before (an earlier
        // attempt that was rolled back) keeps it staged.
        let digest = super::rule_digest(rule);
        let mut staged_now = vec![false; devices.len()];
        let mut refused = false;
        for (i, device) in devices.iter().enumerate() {
            let registry = self.registry_at(i);
            let already = registry.get_rule(&rule_id, version).is_some_and(|h| {
                h.digest == digest
                    && matches!(
                        h.status,
                        super::RuleStatus::Registered | super::RuleStatus::Rolledback
                    )
            });
            let phase = if already {
                RolloutPhase::Staged
            } else {
                match registry.register_rule(rule.clone(), &device.compute_cap).await {
                    Ok(_) => {
                        staged_now[i] = true;
                        RolloutPhase::Staged
                    }
                    Err(e) => {
                        refused = true;
                        RolloutPhase::StageFailed(e.to_string())
                    }
                }
            };
            report.devices[i].phases.push(phase);
        }
        if refused {
            for (i, staged) in staged_now.iter().enumerate() {
                if *staged {
                    self.discard(&mut report, i).await;
                }
            }
            tracing::warn!(target: "ringkernel::rules", rule_id = %rule_id, version, "rollout refused: nothing changed");
            return report;
        }

        // 2. Swap each, in order.
        for i in 0..devices.len() {
            let (registry, cc) = (self.registry_at(i), &devices[i].compute_cap);
            match registry.reload_rule(rule.clone(), cc).await {
                Ok(_) => report.devices[i].phases.push(RolloutPhase::Swapped),
                Err(e) => {
                    report.devices[i].phases.push(RolloutPhase::SwapFailed(e.to_string()));
                    self.discard_if_staged(&mut report, i).await;
                    for done in 0..i {
                        self.roll_back(&mut report, done).await;
                    }
                    let untouched: Vec<usize> =
                        (i + 1..devices.len()).filter(|&rest| staged_now[rest]).collect();
                    for rest in untouched {
                        self.discard(&mut report, rest).await;
                    }
                    tracing::warn!(target: "ringkernel::rules", rule_id = %rule_id, version, device = i, reason = %e, "rollout undone");
                    return report;
                }
            }
        }
        report.committed = true;
        tracing::info!(target: "ringkernel::rules", rule_id = %rule_id, version, devices = devices.len(), "rolled out everywhere");
        report
    }

    fn registry_at(&self, index: usize) -> &super::RuleRegistry {
        // Indices come from `devices()`, whose ordinals are the indices.
        self.device_registry(index as u32).unwrap_or_else(|| self.rule_registry())
    }

    async fn discard(&self, report: &mut RolloutReport, index: usize) {
        let (rule_id, version) = (report.rule_id.clone(), report.version);
        let phase = match self.registry_at(index).discard_staged(&rule_id, version).await {
            Ok(()) => RolloutPhase::Discarded,
            Err(e) => RolloutPhase::DiscardFailed(e.to_string()),
        };
        report.devices[index].phases.push(phase);
    }

    /// A failed swap may leave the version staged (a quiesce that failed) or not (a swap
    /// failure records it as failed): discard it only when it is still there.
    async fn discard_if_staged(&self, report: &mut RolloutReport, index: usize) {
        let registry = self.registry_at(index);
        let staged = registry
            .get_rule(&report.rule_id, report.version)
            .is_some_and(|h| h.status == super::RuleStatus::Registered);
        if staged {
            self.discard(report, index).await;
        }
    }

    async fn roll_back(&self, report: &mut RolloutReport, index: usize) {
        let Some(previous) = report.devices[index].previous else { return };
        let rule_id = report.rule_id.clone();
        let phase = match self.registry_at(index).rollback_rule(&rule_id, previous).await {
            Ok(_) => RolloutPhase::RolledBack,
            Err(e) => RolloutPhase::RollbackFailed(e.to_string()),
        };
        report.devices[index].phases.push(phase);
    }
}
