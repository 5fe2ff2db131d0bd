//! [`HotReloadManager`]: one registry per device, addressed by device ordinal.

use std::sync::Arc;

use super::backend::RuleSwapBackend;
use super::error::RuleError;
use super::registry::RuleRegistry;
use super::rule::{CompiledRule, ReloadReport, RuleHandle};

/// A device the manager swaps rules on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Device ordinal (0 for the first device added).
    pub ordinal: u32,
    /// Its compute capability, e.g. `sm_90`.
    pub compute_cap: String,
}

/// Owns one [`RuleRegistry`] per device and knows each device's compute capability, so
/// callers register and reload without repeating it.
///
/// ```
/// use std::sync::Arc;
/// use ringkernel::rules::{HotReloadManager, NoopSwapBackend};
/// let mut manager = HotReloadManager::new("sm_90", 5, Arc::new(NoopSwapBackend));
/// let second = manager.add_device("sm_80", 5, Arc::new(NoopSwapBackend));
/// assert_eq!(second, 1);
/// assert_eq!(manager.rule_registry().max_history(), 5);
/// assert_eq!(manager.devices()[1].compute_cap, "sm_80");
/// ```
#[derive(Debug)]
pub struct HotReloadManager {
    devices: Vec<(DeviceInfo, RuleRegistry)>,
}

impl HotReloadManager {
    /// A manager for one device (ordinal 0) of capability `compute_cap`.
    pub fn new(compute_cap: &str, max_history: usize, backend: Arc<dyn RuleSwapBackend>) -> Self {
        let mut manager = Self { devices: Vec::new() };
        manager.add_registry(compute_cap, RuleRegistry::new(max_history, backend));
        manager
    }

    /// A manager whose device 0 is `registry` (a runtime's, say: `rt.rule_registry().clone()`).
    pub fn from_registry(compute_cap: &str, registry: RuleRegistry) -> Self {
        let mut manager = Self { devices: Vec::new() };
        manager.add_registry(compute_cap, registry);
        manager
    }

    /// Adds a device with its own registry; returns its ordinal.
    pub fn add_device(
        &mut self,
        compute_cap: &str,
        max_history: usize,
        backend: Arc<dyn RuleSwapBackend>,
    ) -> u32 {
        self.add_registry(compute_cap, RuleRegistry::new(max_history, backend))
    }

    /// Adds a device with a registry built by the caller (a verifier set, say); returns its
    /// ordinal.
    pub fn add_registry(&mut self, compute_cap: &str, registry: RuleRegistry) -> u32 {
        let ordinal = u32::try_from(self.devices.len()).unwrap_or(u32::MAX);
        self.devices.push((DeviceInfo { ordinal, compute_cap: compute_cap.to_owned() }, registry));
        ordinal
    }

    /// The registry of device 0.
    pub fn rule_registry(&self) -> &RuleRegistry {
        &self.devices[0].1
    }

    /// The registry of a device.
    pub fn device_registry(&self, ordinal: u32) -> Option<&RuleRegistry> {
        self.devices.get(ordinal as usize).map(|(_, registry)| registry)
    }

    /// The devices, by ordinal.
    pub fn devices(&self) -> Vec<DeviceInfo> {
        self.devices.iter().map(|(info, _)| info.clone()).collect()
    }

    /// Registers `rule` on every device, concurrently; one result per device, by ordinal.
    pub async fn register_everywhere(
        &self,
        rule: &CompiledRule,
    ) -> Vec<Result<RuleHandle, RuleError>> {
        let calls = self.devices.iter().map(|(info, registry)| {
            let (registry, rule, cc) = (registry.clone(), rule.clone(), info.compute_cap.clone());
            async move { registry.register_rule(rule, &cc).await }
        });
        join_in_order(&rule.rule_id, calls).await
    }

    /// Reloads `rule` on every device, concurrently; one result per device, by ordinal. A
    /// device that rejects it (a capability it lacks, say) keeps its active version.
    pub async fn reload_everywhere(
        &self,
        rule: &CompiledRule,
    ) -> Vec<Result<ReloadReport, RuleError>> {
        let calls = self.devices.iter().map(|(info, registry)| {
            let (registry, rule, cc) = (registry.clone(), rule.clone(), info.compute_cap.clone());
            async move { registry.reload_rule(rule, &cc).await }
        });
        join_in_order(&rule.rule_id, calls).await
    }

    /// Rolls `rule_id` back to `version` on every device, concurrently.
    pub async fn rollback_everywhere(
        &self,
        rule_id: &str,
        version: u64,
    ) -> Vec<Result<ReloadReport, RuleError>> {
        let calls = self.devices.iter().map(|(_, registry)| {
            let (registry, rule_id) = (registry.clone(), rule_id.to_owned());
            async move { registry.rollback_rule(&rule_id, version).await }
        });
        join_in_order(rule_id, calls).await
    }
}

/// Runs the futures concurrently on the current runtime; results in input order.
async fn join_in_order<T: Send + 'static>(
    rule_id: &str,
    calls: impl Iterator<
        Item = impl std::future::Future<Output = Result<T, RuleError>> + Send + 'static,
    >,
) -> Vec<Result<T, RuleError>> {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return calls.map(|_| Err(RuleError::NoRuntime)).collect();
    };
    let tasks: Vec<_> = calls.map(|call| runtime.spawn(call)).collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.unwrap_or_else(|err| {
            Err(RuleError::TaskAborted { rule_id: rule_id.to_owned(), reason: err.to_string() })
        }));
    }
    results
}
