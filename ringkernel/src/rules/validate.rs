//! Validation of an artifact against the registry's policy, in the documented order:
//! signature → well-formedness and compute capability → dependencies → ABI → version.
//!
//! Pure: it reads a snapshot of the rule's state and calls no backend, so a rejected
//! artifact changes nothing anywhere.

use super::compute_cap::ComputeCap;
use super::error::RuleError;
use super::rule::{CompiledRule, RuleDigest, RuleStatus};
use super::signature::SignatureVerifier;
use super::state::RuleState;

/// What the artifact is being validated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// `register_rule`: first version, or a later version to stage.
    Register,
    /// `reload_rule`: a higher version to activate.
    Reload,
    /// `rollback_rule`: an older staged version to re-activate (no version check).
    Rollback,
}

/// Everything validation looks at.
pub(crate) struct Candidate<'a> {
    pub rule: &'a CompiledRule,
    pub digest: &'a RuleDigest,
    pub device_cc: &'a str,
    pub verifier: Option<&'a dyn SignatureVerifier>,
    /// The first dependency without an active version, looked up by the caller.
    pub missing_dependency: Option<&'a str>,
    pub max_history: usize,
}

/// Validates; on success says whether the version is already staged (registered earlier
/// with identical content), in which case a reload skips `pre_stage`.
pub(crate) fn validate(
    c: &Candidate<'_>,
    state: &RuleState,
    purpose: Purpose,
) -> Result<bool, RuleError> {
    let rule = c.rule;
    let (rule_id, version) = (rule.rule_id.clone(), rule.version);

    if let Some(verifier) = c.verifier {
        let signature = rule
            .signature
            .as_deref()
            .ok_or_else(|| RuleError::Unsigned { rule_id: rule_id.clone(), version })?;
        verifier.verify(rule, c.digest, signature).map_err(|source| RuleError::BadSignature {
            rule_id: rule_id.clone(),
            version,
            source,
        })?;
    }

    let malformed =
        |reason: String| RuleError::Malformed { rule_id: rule_id.clone(), version, reason };
    if rule.rule_id.trim().is_empty() {
        return Err(malformed("rule_id is empty".into()));
    }
    if rule.ptx.is_empty() {
        return Err(malformed("ptx is empty".into()));
    }
    rule.actor_config.check().map_err(malformed)?;
    let parse = |value: &str, whose: &str| {
        value.parse::<ComputeCap>().map_err(|reason| RuleError::InvalidComputeCap {
            rule_id: rule_id.clone(),
            version,
            value: value.to_owned(),
            reason: format!("{whose}: {reason}"),
        })
    };
    let required = parse(&rule.compute_cap, "rule target")?;
    let device = parse(c.device_cc, "device")?;
    if !required.runs_on(&device) {
        return Err(RuleError::ComputeCapMismatch {
            rule_id,
            version,
            required: rule.compute_cap.clone(),
            device: c.device_cc.to_owned(),
        });
    }

    if rule.depends_on.contains(&rule.rule_id) {
        return Err(RuleError::SelfDependency { rule_id, version });
    }
    if let Some(dependency) = c.missing_dependency {
        return Err(RuleError::MissingDependency {
            rule_id,
            version,
            dependency: dependency.to_owned(),
        });
    }

    if let Some(active) = state.active_entry() {
        if let (Some(expected), Some(found)) =
            (active.rule.metadata.abi_hash, rule.metadata.abi_hash)
        {
            if expected != found {
                return Err(RuleError::AbiMismatch {
                    rule_id,
                    version,
                    active: active.version(),
                    expected,
                    found,
                });
            }
        }
    }

    if purpose == Purpose::Rollback {
        return Ok(true);
    }
    let existing = state.entry(version);
    // A staged version that never ran (registered) or was rolled back from is activated
    // again as it is: a reload of the same artifact rolls forward without staging it again.
    let reusable = purpose == Purpose::Reload
        && existing.is_some_and(|e| {
            matches!(e.status, RuleStatus::Registered | RuleStatus::Rolledback)
                && e.digest == *c.digest
        });
    if existing.is_some() && !reusable {
        return Err(RuleError::DuplicateVersion { rule_id, version });
    }
    if let Some(active) = state.active {
        if version <= active {
            return Err(RuleError::VersionNotIncreasing { rule_id, attempted: version, active });
        }
        if purpose == Purpose::Register && !state.has_room_for_one_more(c.max_history) {
            return Err(RuleError::HistoryFull { rule_id, version, max_history: c.max_history });
        }
    }
    Ok(reusable)
}
