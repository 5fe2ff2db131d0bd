//! Metrics in the Prometheus text exposition format ([`crate::Runtime::metrics_text`]).
//!
//! | metric | type | labels | meaning |
//! |---|---|---|---|
//! | `ringkernel_messages_processed_total` | counter | `actor`, `backend` | messages the actor handled |
//! | `ringkernel_queue_depth` | gauge | `actor`, `backend` | messages waiting in its input ring |
//! | `ringkernel_errors_total` | counter | `actor`, `backend` | errors recorded (division by zero, out-of-bounds index, invalid value, ...) |
//! | `ringkernel_first_error_code` | gauge | `actor`, `backend` | the first error's `abi::error` code (0: none) |
//! | `ringkernel_messages_refused_total` | counter | `actor`, `backend` | messages the access policy refused |
//! | `ringkernel_messages_aborted_total` | counter | `actor`, `backend` | messages aborted by their loop budget |
//! | `ringkernel_handler_seconds` | gauge | `actor`, `backend`, `quantile` (`0.5`, `0.99`) | handler time (upper bound of its log2 bucket) |
//! | `ringkernel_rule_active_version` | gauge | `rule` | the version that runs |
//! | `ringkernel_rule_versions` | gauge | `rule`, `status` | staged versions by status (`registered`, `active`, `superseded`, `rolled_back`, `failed`, ...) |
//!
//! Rule actors appear with `actor` set to the rule id. A pipeline appears as its ends (`actor`
//! = `first -> ... -> last`: the last stage's counters, the first ring's queue) and each of
//! its kernel stages by its kernel id (its own counters, the queue of the ring in front of
//! it); a rule stage by its rule id. Label values are escaped as the format requires.

use crate::rules::{RuleRegistry, RuleStatus};
use std::collections::BTreeMap;
use std::fmt::Write as _;

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn status_name(status: RuleStatus) -> &'static str {
    match status {
        RuleStatus::Registered => "registered",
        RuleStatus::Active => "active",
        RuleStatus::Quiescing => "quiescing",
        RuleStatus::Superseded(_) => "superseded",
        RuleStatus::Rolledback => "rolled_back",
        RuleStatus::Failed => "failed",
    }
}

/// Renders the series of `actors` (id, counters), then the registry's.
pub(crate) fn render(
    backend: &str,
    actors: &[(String, crate::KernelMetrics)],
    registry: &RuleRegistry,
) -> String {
    let all: Vec<(String, &crate::KernelMetrics)> =
        actors.iter().map(|(id, metrics)| (escape(id), metrics)).collect();
    let backend = escape(backend);
    let mut out = String::new();
    type Pick = fn(&crate::KernelMetrics) -> String;
    let series: [(&str, &str, &str, Pick); 6] = [
        ("ringkernel_messages_processed_total", "counter", "Messages the actor handled.", |m| {
            m.processed.to_string()
        }),
        ("ringkernel_queue_depth", "gauge", "Messages waiting in the actor's input ring.", |m| {
            m.queued.to_string()
        }),
        ("ringkernel_errors_total", "counter", "Errors the actor recorded.", |m| {
            m.errors.to_string()
        }),
        (
            "ringkernel_first_error_code",
            "gauge",
            "The first recorded error's code (0: none).",
            |m| m.first_error.to_string(),
        ),
        (
            "ringkernel_messages_refused_total",
            "counter",
            "Messages the actor's access policy refused.",
            |m| m.refused.to_string(),
        ),
        (
            "ringkernel_messages_aborted_total",
            "counter",
            "Messages aborted because their handler ran out of its loop budget.",
            |m| m.aborted.to_string(),
        ),
    ];
    for (name, kind, help, pick) in series {
        header(&mut out, name, kind, help);
        for (actor, metrics) in &all {
            let _ = writeln!(
                out,
                "{name}{{actor=\"{actor}\",backend=\"{backend}\"}} {}",
                pick(metrics)
            );
        }
    }
    header(
        &mut out,
        "ringkernel_handler_seconds",
        "gauge",
        "Handler time quantiles (log2 bucket upper bounds).",
    );
    for (actor, metrics) in &all {
        for (quantile, value) in [("0.5", metrics.latency_p50), ("0.99", metrics.latency_p99)] {
            if let Some(value) = value {
                let _ = writeln!(
                    out,
                    "ringkernel_handler_seconds{{actor=\"{actor}\",backend=\"{backend}\",quantile=\"{quantile}\"}} {:e}",
                    value.as_secs_f64()
                );
            }
        }
    }
    header(
        &mut out,
        "ringkernel_rule_active_version",
        "gauge",
        "The version of the rule that runs.",
    );
    let rules = registry.list_rules();
    for rule in &rules {
        if let Some(active) = registry.get_active(rule) {
            let _ = writeln!(
                out,
                "ringkernel_rule_active_version{{rule=\"{}\"}} {}",
                escape(rule),
                active.version
            );
        }
    }
    header(&mut out, "ringkernel_rule_versions", "gauge", "Staged versions of the rule by status.");
    for rule in &rules {
        let mut by_status: BTreeMap<&str, u64> = BTreeMap::new();
        for handle in registry.history(rule) {
            *by_status.entry(status_name(handle.status)).or_default() += 1;
        }
        for (status, count) in by_status {
            let _ = writeln!(
                out,
                "ringkernel_rule_versions{{rule=\"{}\",status=\"{status}\"}} {count}",
                escape(rule)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
