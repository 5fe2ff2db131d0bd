//! Host implementations of rules, registered by `#[rule]`: what the CPU backend runs.

use super::rule::CompiledRule;
use super::signature::rule_digest;
use crate::__private::{HostRule, host_rules};

/// The host implementation of `rule_id` v`version` whose artifact is exactly `rule`'s
/// (same digest), if this binary contains one. An externally supplied PTX-only artifact has
/// none.
pub fn find_host_rule(rule: &CompiledRule) -> Option<&'static HostRule> {
    let wanted = rule_digest(rule);
    host_rules().filter(|h| h.id == rule.rule_id && h.version == rule.version).find(|h| {
        CompiledRule::from_artifact_text(h.artifact).is_ok_and(|compiled| {
            // The digest covers the PTX and everything that affects execution; a rule built
            // from the same artifact has the same digest, signature or not.
            rule_digest(&compiled) == wanted
        })
    })
}
