//! Bringing the registry to the directory's desired state: for each rule id, the highest
//! version among the valid files present that the registry can activate.
//!
//! Per rule id, versions are tried from the highest down: one above the active version is
//! reloaded (registered, for a new rule id); the active one ends the search; one below it
//! (the active file is gone or bad) is rolled back to, which the registry allows for versions
//! it has staged, that is, that were active once. A file the registry refuses (signature,
//! capability, dependency, ABI, version rules) or that does not parse is reported once per
//! content and the next version down is tried.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use super::WatchEvent;
use super::scan::Found;
use crate::rules::{CompiledRule, RuleDigest, RuleRegistry, RuleStatus};

pub(super) struct Reconciler {
    registry: RuleRegistry,
    device_cc: String,
    /// Files reported as bad, with the content they had.
    reported: HashMap<PathBuf, [u8; 32]>,
    /// Notices given for a rule id and version that cannot be made active (given once).
    noticed: HashSet<(String, u64)>,
}

impl Reconciler {
    pub fn new(registry: RuleRegistry, device_cc: String) -> Self {
        Self { registry, device_cc, reported: HashMap::new(), noticed: HashSet::new() }
    }

    fn reject(&mut self, found: &Found, reason: String, out: &mut Vec<WatchEvent>) {
        if self.reported.get(&found.path) != Some(&found.content) {
            self.reported.insert(found.path.clone(), found.content);
            out.push(WatchEvent::Rejected { path: found.path.clone(), reason });
        }
    }

    fn notice(&mut self, rule_id: &str, version: u64, reason: String, out: &mut Vec<WatchEvent>) {
        if self.noticed.insert((rule_id.to_owned(), version)) {
            out.push(WatchEvent::NotActivated { rule_id: rule_id.to_owned(), version, reason });
        }
    }

    /// One pass over a scan's files; the events it caused, in order.
    pub async fn reconcile(&mut self, files: &BTreeMap<PathBuf, Found>) -> Vec<WatchEvent> {
        let mut out = Vec::new();
        // A reported file that changed or went away is a new file when it comes back.
        self.reported
            .retain(|path, content| files.get(path).is_some_and(|f| f.content == *content));
        // Every file that parses is checked against the registry's policy, whether or not it
        // is about to be activated, so that a bad file is reported when it appears.
        let mut with_files = BTreeSet::new();
        let mut usable: BTreeMap<String, BTreeMap<u64, Vec<&Found>>> = BTreeMap::new();
        for found in files.values() {
            let rule = match &found.rule {
                Ok((rule, _)) => rule,
                Err(reason) => {
                    self.reject(found, reason.clone(), &mut out);
                    continue;
                }
            };
            with_files.insert(rule.rule_id.clone());
            match self.registry.check_rule(rule, &self.device_cc) {
                Ok(()) => usable
                    .entry(rule.rule_id.clone())
                    .or_default()
                    .entry(rule.version)
                    .or_default()
                    .push(found),
                Err(e) => self.reject(found, e.to_string(), &mut out),
            }
        }
        for (rule_id, versions) in &usable {
            self.reconcile_rule(rule_id, versions, &mut out).await;
        }
        for rule_id in self.registry.list_rules() {
            if let (false, Some(active)) =
                (with_files.contains(&rule_id), self.registry.get_active(&rule_id))
            {
                let reason =
                    "no file of this rule is left in the directory; it keeps running".into();
                self.notice(&rule_id, active.version, reason, &mut out);
            }
        }
        out
    }

    async fn reconcile_rule(
        &mut self,
        rule_id: &str,
        versions: &BTreeMap<u64, Vec<&Found>>,
        out: &mut Vec<WatchEvent>,
    ) {
        for (&version, files) in versions.iter().rev() {
            let Some((chosen, rule, digest)) =
                self.one_file_per_version(rule_id, version, files, out)
            else {
                continue;
            };
            let active_handle = self.registry.get_active(rule_id);
            let active = active_handle.as_ref().map(|h| h.version);
            let outcome = match active {
                Some(v) if v == version => {
                    if active_handle.is_some_and(|h| h.digest == digest) {
                        return;
                    }
                    Err(format!(
                        "{rule_id} v{version} differs from the running v{version}; a version never changes: give it a new number"
                    ))
                }
                Some(v) if version < v => {
                    if self.staged_digest(rule_id, version) != Some(digest) {
                        let reason = format!(
                            "below the active v{v} and never active, so not staged: the registry cannot roll back to it"
                        );
                        self.notice(rule_id, version, reason, out);
                        continue;
                    }
                    self.registry
                        .rollback_rule(rule_id, version)
                        .await
                        .map(|_| WatchEvent::RolledBack {
                            rule_id: rule_id.to_owned(),
                            from: v,
                            to: version,
                        })
                        .map_err(|e| e.to_string())
                }
                // A new rule id registers, a higher version reloads.
                _ => {
                    let activated = match active {
                        None => self.registry.register_rule(rule, &self.device_cc).await.map(drop),
                        Some(_) => self.registry.reload_rule(rule, &self.device_cc).await.map(drop),
                    };
                    activated
                        .map(|()| WatchEvent::Activated {
                            rule_id: rule_id.to_owned(),
                            version,
                            path: chosen.path.clone(),
                        })
                        .map_err(|e| e.to_string())
                }
            };
            match outcome {
                Ok(event) => {
                    self.noticed.retain(|(id, _)| id != rule_id);
                    out.push(event);
                    return;
                }
                Err(reason) => self.reject(chosen, reason, out),
            }
        }
    }

    /// The digest of `rule_id` v`version` when the registry has it staged (not a failed
    /// attempt).
    fn staged_digest(&self, rule_id: &str, version: u64) -> Option<RuleDigest> {
        self.registry
            .get_rule(rule_id, version)
            .filter(|h| h.status != RuleStatus::Failed)
            .map(|h| h.digest)
    }

    /// The file that stands for `rule_id` v`version`: the one the registry already has if
    /// any, else the first; other files of that version with other contents are reported.
    fn one_file_per_version<'f>(
        &mut self,
        rule_id: &str,
        version: u64,
        files: &[&'f Found],
        out: &mut Vec<WatchEvent>,
    ) -> Option<(&'f Found, CompiledRule, RuleDigest)> {
        let known = self.staged_digest(rule_id, version);
        let rules: Vec<(&Found, &CompiledRule, RuleDigest)> = files
            .iter()
            .filter_map(|f| f.rule.as_ref().ok().map(|(rule, digest)| (*f, rule, *digest)))
            .collect();
        let pick = rules.iter().position(|(_, _, d)| Some(*d) == known).unwrap_or(0);
        let (chosen, rule, digest) = *rules.get(pick)?;
        for (other, _, other_digest) in &rules {
            if *other_digest != digest {
                let reason = format!(
                    "{rule_id} v{version} is also in {} with other contents; one version, one artifact",
                    chosen.path.display()
                );
                self.reject(other, reason, out);
            }
        }
        Some((chosen, rule.clone(), digest))
    }
}
