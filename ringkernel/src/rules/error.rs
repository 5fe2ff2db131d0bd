//! Errors of the rules layer.

use std::time::Duration;

/// A backend step failed. Backends say what went wrong in their own words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BackendError {
    message: String,
}

impl BackendError {
    /// An error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Why a signature check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The signature bytes are not a signature of the verifier's scheme.
    #[error("malformed signature: {0}")]
    Malformed(String),
    /// No trusted key verifies the signature over the rule's digest.
    #[error("signature does not match the artifact under any trusted key")]
    Mismatch,
}

/// Every way a registry operation can fail. Validation errors leave the registry and the
/// backend untouched; backend errors say what state the rule was left in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// The artifact is structurally unusable (empty id or PTX, bad actor config).
    #[error("rule `{rule_id}` v{version} is malformed: {reason}")]
    Malformed {
        /// Rule id.
        rule_id: String,
        /// Version.
        version: u64,
        /// What is wrong.
        reason: String,
    },
    /// A verifier is set and the rule carries no signature.
    #[error("rule `{rule_id}` v{version} is unsigned and the registry requires signatures")]
    Unsigned {
        /// Rule id.
        rule_id: String,
        /// Version.
        version: u64,
    },
    /// The signature did not verify.
    #[error("rule `{rule_id}` v{version} failed signature verification: {source}")]
    BadSignature {
        /// Rule id.
        rule_id: String,
        /// Version.
        version: u64,
        /// Why.
        source: SignatureError,
    },
    /// A compute capability string could not be parsed.
    #[error("rule `{rule_id}` v{version}: invalid compute capability `{value}`: {reason}")]
    InvalidComputeCap {
        /// Rule id.
        rule_id: String,
        /// Version.
        version: u64,
        /// The string given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The device cannot run PTX for the rule's compute capability.
    #[error("rule `{rule_id}` v{version} targets {required}, which the {device} device cannot run")]
    ComputeCapMismatch {
        /// Rule id.
        rule_id: String,
        /// Version.
        version: u64,
        /// The rule's target.
        required: String,
        /// The device's capability.
        device: String,
    },
    /// A dependency has no active version.
    #[error("rule `{rule_id}` v{version} depends on `{dependency}`, which has no active version")]
    MissingDependency {
        /// Rule id.
        rule_id: String,
        /// Version.
        version: u64,
        /// The missing dependency.
        dependency: String,
    },
    /// The rule lists itself as a dependency.
    #[error("rule `{rule_id}` v{version} depends on itself")]
    SelfDependency {
        /// Rule id.
        rule_id: String,
        /// Version.
        version: u64,
    },
    /// The new version's ABI hash differs from the active version's.
    #[error(
        "rule `{rule_id}` v{version} has ABI hash {found:#x} but active v{active} has {expected:#x}: messages, responses and state must keep their layout across versions"
    )]
    AbiMismatch {
        /// Rule id.
        rule_id: String,
        /// Version.
        version: u64,
        /// Active version.
        active: u64,
        /// The active version's ABI hash.
        expected: u64,
        /// The new version's ABI hash.
        found: u64,
    },
    /// A reload to a version not above the active one.
    #[error(
        "rule `{rule_id}`: version {attempted} is not above active version {active}; use rollback_rule to go back"
    )]
    VersionNotIncreasing {
        /// Rule id.
        rule_id: String,
        /// Version given.
        attempted: u64,
        /// Active version.
        active: u64,
    },
    /// This (id, version) is already in the registry with other content or status.
    #[error("rule `{rule_id}` v{version} is already registered")]
    DuplicateVersion {
        /// Rule id.
        rule_id: String,
        /// Version.
        version: u64,
    },
    /// No rule with this id.
    #[error("rule `{rule_id}` is not registered; use register_rule first")]
    UnknownRule {
        /// Rule id.
        rule_id: String,
    },
    /// The version is not in the rule's history (never registered, failed, or evicted).
    #[error("rule `{rule_id}` has no staged version {version} in its history")]
    UnknownVersion {
        /// Rule id.
        rule_id: String,
        /// Version.
        version: u64,
    },
    /// A rollback to the version that is already active.
    #[error("rule `{rule_id}` v{version} is already active")]
    AlreadyActive {
        /// Rule id.
        rule_id: String,
        /// Version.
        version: u64,
    },
    /// A rollback to a version above the active one.
    #[error(
        "rule `{rule_id}`: cannot roll back to v{target}, which is newer than active v{active}"
    )]
    RollbackToNewer {
        /// Rule id.
        rule_id: String,
        /// Requested target.
        target: u64,
        /// Active version.
        active: u64,
    },
    /// Staging another version would need evicting the active one.
    #[error(
        "rule `{rule_id}`: history holds {max_history} version(s) and none can be evicted to stage v{version}"
    )]
    HistoryFull {
        /// Rule id.
        rule_id: String,
        /// Version that did not fit.
        version: u64,
        /// The bound.
        max_history: usize,
    },
    /// The backend could not stage the new version. Nothing changed.
    #[error("rule `{rule_id}`: pre-stage of v{version} failed: {source}")]
    PreStageFailed {
        /// Rule id.
        rule_id: String,
        /// Version.
        version: u64,
        /// Backend error.
        source: BackendError,
    },
    /// The first version of a rule could not be activated. It was unstaged; the rule stays
    /// unregistered.
    #[error("rule `{rule_id}`: activation of v{version} failed: {source}")]
    ActivationFailed {
        /// Rule id.
        rule_id: String,
        /// Version.
        version: u64,
        /// Backend error.
        source: BackendError,
    },
    /// The actor did not quiesce. The old version was resumed unless `resume_error` says
    /// otherwise.
    #[error(
        "rule `{rule_id}`: quiesce of v{active} for the swap to v{target} failed: {source}; {}",
        resumed_text(.resume_error)
    )]
    QuiesceFailed {
        /// Rule id.
        rule_id: String,
        /// Version that was running.
        active: u64,
        /// Version it was being swapped to.
        target: u64,
        /// Backend error.
        source: BackendError,
        /// Set when resuming the old version failed too.
        resume_error: Option<BackendError>,
    },
    /// The actor did not quiesce within the registry's timeout. Treated like
    /// [`RuleError::QuiesceFailed`].
    #[error(
        "rule `{rule_id}`: v{active} did not quiesce within {timeout:?} for the swap to v{target}; {}",
        resumed_text(.resume_error)
    )]
    QuiesceTimeout {
        /// Rule id.
        rule_id: String,
        /// Version that was running.
        active: u64,
        /// Version it was being swapped to.
        target: u64,
        /// The configured timeout.
        timeout: Duration,
        /// Set when resuming the old version failed too.
        resume_error: Option<BackendError>,
    },
    /// The swap failed. The backend kept the old version installed and it was resumed unless
    /// `resume_error` says otherwise.
    #[error("rule `{rule_id}`: swap v{from} -> v{to} failed: {source}; {}", resumed_text(.resume_error))]
    SwapFailed {
        /// Rule id.
        rule_id: String,
        /// Version that was running (0 for a first activation).
        from: u64,
        /// Target version.
        to: u64,
        /// Backend error.
        source: BackendError,
        /// Set when resuming the old version failed too.
        resume_error: Option<BackendError>,
    },
    /// `discard_staged` of a version that ran (only a never-activated one can go).
    #[error(
        "rule `{rule_id}` v{version} is {status}; only a never-activated version can be discarded"
    )]
    NotDiscardable {
        /// Rule id.
        rule_id: String,
        /// Version.
        version: u64,
        /// Its status.
        status: super::RuleStatus,
    },
    /// The backend failed to unstage a discarded version (the registry forgot it anyway).
    #[error("rule `{rule_id}`: unstage of v{version} failed: {source}")]
    UnstageFailed {
        /// Rule id.
        rule_id: String,
        /// Version.
        version: u64,
        /// Backend error.
        source: BackendError,
    },
    /// The registry was used outside a tokio runtime.
    #[error("the rule registry needs a tokio runtime (call it from within one)")]
    NoRuntime,
    /// The task running the operation panicked or was cancelled by runtime shutdown.
    #[error("rule `{rule_id}`: the operation's task ended abnormally: {reason}")]
    TaskAborted {
        /// Rule id.
        rule_id: String,
        /// What the runtime said.
        reason: String,
    },
}

fn resumed_text(resume_error: &Option<BackendError>) -> String {
    match resume_error {
        None => "the old version was resumed".to_owned(),
        Some(err) => {
            format!("resuming the old version also failed ({err}): the backend needs attention")
        }
    }
}
