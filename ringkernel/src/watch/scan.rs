//! Reading the watched directory: every `*.ptx` file, parsed, with the digest of its bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::rules::{CompiledRule, RuleDigest, rule_digest};

/// One artifact file as read in one scan.
pub(super) struct Found {
    pub path: PathBuf,
    /// SHA-256 of the file's bytes: a file is "the same file" while this holds.
    pub content: [u8; 32],
    /// The rule and its registry digest, or why the file is not an artifact.
    pub rule: Result<(CompiledRule, RuleDigest), String>,
}

/// Whether the watcher reads `path`: `*.ptx`, not hidden (a `.name.tmp` being written and
/// renamed into place is invisible until the rename).
pub(super) fn is_artifact_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    !name.starts_with('.') && name.ends_with(".ptx")
}

/// The artifact files of `dir`, by path; `Err` when the directory cannot be read.
pub(super) fn scan(dir: &Path) -> Result<BTreeMap<PathBuf, Found>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut found = BTreeMap::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if !is_artifact_name(&path) || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        // A file deleted between the listing and the read is simply not there.
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let content: [u8; 32] = Sha256::digest(&bytes).into();
        let rule = match std::str::from_utf8(&bytes) {
            Ok(text) => CompiledRule::from_artifact_text(text)
                .map(|rule| {
                    let digest = rule_digest(&rule);
                    (rule, digest)
                })
                .map_err(|e| e.to_string()),
            Err(_) => Err("not UTF-8 text".to_owned()),
        };
        found.insert(path.clone(), Found { path, content, rule });
    }
    Ok(found)
}
