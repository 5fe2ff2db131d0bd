//! Versioned, validated, hot-swappable rules.
//!
//! A rule is a handler compiled to PTX ([`CompiledRule`]) with an id and a version. The
//! [`RuleRegistry`] keeps each rule's versions, validates new ones, and swaps the running
//! actor from one version to another through a [`RuleSwapBackend`] without a restart and
//! without losing a message: the actor stops at a message boundary, the new version takes
//! over the same queues and state, queued messages wait.
//!
//! # State machine of one version
//!
//! ```text
//!                      register_rule (rule already active elsewhere: stage only)
//!   artifact ──validate──► Registered ──────────────┐ reload_rule (same artifact:
//!      │                                            │  no second pre-stage)
//!      │ register_rule (first version)              ▼
//!      │ reload_rule  ──pre_stage──────────────► [quiesce old] ──swap──► Active
//!      │                                             │                    │  │
//!      │                        any step fails ──────┘                    │  │ reload to v'
//!      ▼                        (old resumed)                             │  ▼
//!   rejected: nothing            Failed                     Quiescing ◄───┘ Superseded(v')
//!   changed anywhere             (not staged)               (while being       │
//!                                                            swapped away)     │ rollback_rule
//!                                                                              ▼  to it
//!   Active ──rollback_rule to an older version──► Rolledback ───────────────► Active
//!              (every version above the target up to the old active one)  reload_rule
//!                                                                   (same artifact: rolls
//!                                                                    forward, no pre-stage)
//!
//!   any non-active staged version ──FIFO eviction beyond max_history──► unstaged, forgotten
//! ```
//!
//! # Guarantees
//!
//! - **Validation first, in order**: signature (when a verifier is set, unsigned rules are
//!   rejected) → well-formedness and compute capability (see [`ComputeCap`] for `sm_90a`
//!   and `sm_100f`) → dependencies (each `depends_on` id has an active version) → ABI
//!   (`metadata.abi_hash` equals the active version's, when both have one) → version (a
//!   reload must go above the active version; another artifact under an id and version
//!   already staged is rejected, the same one is re-activated without a second pre-stage). A
//!   rejected artifact reaches no backend and changes no state.
//! - **Serialised per rule**: reloads and rollbacks of one rule take its async lock in turn;
//!   different rules proceed in parallel. Queries never wait for a swap.
//! - **Cancellation safe**: each operation runs in its own tokio task, so dropping its
//!   future does not stop it half-way.
//! - **Bounded history**: at most `max_history` staged versions per rule (plus a record of
//!   the last failed attempt), evicted oldest first and unstaged in the backend; the active
//!   version is never evicted. During a swap the incoming version is staged too.
//! - **Failure leaves agreement**: a failing pre-stage changes nothing; a failing or
//!   timed-out quiesce, or a failing swap, resumes the old version in the backend, unstages
//!   the new one and records it as `Failed`; the error says whether resuming worked.
//!   Clean-up failures after a successful swap are listed in the [`ReloadReport`].
//! - **Rollback re-validates** its target against the current verifier and the device
//!   capability of the last reload.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use ringkernel::rules::{ActorConfig, CompiledRule, NoopSwapBackend, RuleMetadata, RuleRegistry};
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let registry = RuleRegistry::new(5, Arc::new(NoopSwapBackend));
//! let rule = CompiledRule { rule_id: "gaap-consolidation".into(), version: 1,
//!     ptx: b".version 8.0\n.target sm_90\n".to_vec(), compute_cap: "sm_90".into(),
//!     depends_on: vec![], signature: None, actor_config: ActorConfig::default(),
//!     metadata: RuleMetadata::default() };
//! let handle = registry.register_rule(rule, "sm_90").await.unwrap();
//! assert_eq!(handle.version, 1);
//! # });
//! ```

mod backend;
mod compute_cap;
mod error;
mod from_artifact;
mod host;
mod manager;
mod recording;
mod registry;
mod rollout;
mod rule;
mod signature;
mod state;
mod validate;

pub(crate) use backend::SwapTable;
pub use backend::{NoopSwapBackend, QuiesceReport, RuleSwapBackend, SwapStep};
pub use compute_cap::{ArchVariant, ComputeCap};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use error::{BackendError, RuleError, SignatureError};
pub use host::find_host_rule;
pub use manager::{DeviceInfo, HotReloadManager};
pub use recording::{BackendCall, RecordingSwapBackend};
pub use registry::RuleRegistry;
pub use rollout::{DeviceRollout, RolloutPhase, RolloutReport};
pub use rule::{
    ActorConfig, CompiledRule, ReloadReport, RuleDigest, RuleHandle, RuleMetadata, RuleSnapshot,
    RuleStatus, SwapKind,
};
pub use signature::{Ed25519Verifier, SignatureVerifier, rule_digest, sign_rule};
