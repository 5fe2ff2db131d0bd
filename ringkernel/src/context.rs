//! What a handler sees besides its message: [`RingContext`], and for multi-tenant actors
//! [`SecureRingContext`] with the caller's [`AuthContext`].

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::hlc::{Hlc, HlcError, HlcTimestamp};

/// Per-actor context handed to every handler call.
///
/// The DSL intrinsics `ctx.now()`, `ctx.message_seq()` and `ctx.kernel_slot()` map to these
/// methods natively and to control-block reads on the GPU.
///
/// ```
/// use std::sync::Arc;
/// use ringkernel::{Hlc, RingContext};
/// let mut ctx = RingContext::new("counter", 0, Arc::new(Hlc::new(1)));
/// ctx.begin_message(41, 7, None).unwrap();
/// assert_eq!((ctx.message_seq(), ctx.correlation_id()), (41, 7));
/// assert!(ctx.now() > 0);
/// ```
#[derive(Debug, Clone)]
pub struct RingContext {
    kernel_id: Arc<str>,
    kernel_slot: u32,
    clock: Arc<Hlc>,
    message_seq: u64,
    correlation_id: u64,
}

impl RingContext {
    /// A context for the actor `kernel_id` in slot `kernel_slot`, ticking `clock`.
    pub fn new(kernel_id: impl Into<Arc<str>>, kernel_slot: u32, clock: Arc<Hlc>) -> Self {
        Self { kernel_id: kernel_id.into(), kernel_slot, clock, message_seq: 0, correlation_id: 0 }
    }

    /// Id of the kernel this actor runs.
    pub fn kernel_id(&self) -> &str {
        &self.kernel_id
    }

    /// Slot of this actor among the kernel's instances.
    pub fn kernel_slot(&self) -> u32 {
        self.kernel_slot
    }

    /// Sequence number of the message being handled.
    pub fn message_seq(&self) -> u64 {
        self.message_seq
    }

    /// Correlation id of the message being handled (0 when none).
    pub fn correlation_id(&self) -> u64 {
        self.correlation_id
    }

    /// The current HLC time, packed (see [`crate::hlc`]); ticks the clock.
    pub fn now(&self) -> u64 {
        self.clock.now().packed
    }

    /// The current HLC time as a full timestamp; ticks the clock.
    pub fn timestamp(&self) -> HlcTimestamp {
        self.clock.now()
    }

    /// The actor's clock.
    pub fn clock(&self) -> &Hlc {
        &self.clock
    }

    /// Called by the runtime before each handler call: records the message's sequence and
    /// correlation ids and merges the sender's timestamp into the clock. A timestamp too far
    /// in the future is an error and leaves the context and clock unchanged.
    pub fn begin_message(
        &mut self,
        message_seq: u64,
        correlation_id: u64,
        sent_at: Option<HlcTimestamp>,
    ) -> Result<(), HlcError> {
        if let Some(sent_at) = sent_at {
            self.clock.update(sent_at)?;
        }
        self.message_seq = message_seq;
        self.correlation_id = correlation_id;
        Ok(())
    }
}

/// Tenant identifier. Integer so that the GPU side can compare it in one instruction.
pub type TenantId = u64;

/// Why an authorisation check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The principal lacks a permission.
    #[error("principal `{principal}` lacks permission `{permission}`")]
    MissingPermission {
        /// Who asked.
        principal: String,
        /// What was required.
        permission: String,
    },
    /// The credential proves nothing: malformed, wrongly signed, expired, for another
    /// audience, or missing a claim (the reason says which).
    #[error("credential refused: {reason}")]
    BadCredential {
        /// Why.
        reason: String,
    },
    /// The message belongs to another tenant.
    #[error("principal `{principal}` of tenant {tenant} may not act on tenant {requested}")]
    CrossTenant {
        /// Who asked.
        principal: String,
        /// The principal's tenant.
        tenant: TenantId,
        /// The tenant the message targets.
        requested: TenantId,
    },
}

/// Who sent a message: principal, tenant and permissions.
///
/// ```
/// use ringkernel::AuthContext;
/// let auth = AuthContext::new("alice", 7).with_permission("ledger:write");
/// assert!(auth.require("ledger:write").is_ok());
/// assert!(auth.require("ledger:admin").is_err());
/// assert!(auth.require_tenant(8).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthContext {
    principal: String,
    tenant: TenantId,
    permissions: BTreeSet<String>,
}

impl AuthContext {
    /// A principal of `tenant` with no permissions.
    pub fn new(principal: impl Into<String>, tenant: TenantId) -> Self {
        Self { principal: principal.into(), tenant, permissions: BTreeSet::new() }
    }

    /// Adds a permission.
    pub fn with_permission(mut self, permission: impl Into<String>) -> Self {
        self.permissions.insert(permission.into());
        self
    }

    /// The principal's name.
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The principal's tenant.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// Whether the principal holds `permission`.
    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }

    /// `Ok` when the principal holds `permission`, else an error naming both.
    pub fn require(&self, permission: &str) -> Result<(), AuthError> {
        if self.has_permission(permission) {
            Ok(())
        } else {
            Err(AuthError::MissingPermission {
                principal: self.principal.clone(),
                permission: permission.to_owned(),
            })
        }
    }

    /// `Ok` when `tenant` is the principal's own tenant.
    pub fn require_tenant(&self, tenant: TenantId) -> Result<(), AuthError> {
        if tenant == self.tenant {
            Ok(())
        } else {
            Err(AuthError::CrossTenant {
                principal: self.principal.clone(),
                tenant: self.tenant,
                requested: tenant,
            })
        }
    }
}

/// A [`RingContext`] plus the sender's [`AuthContext`], for `handle_secure`.
#[derive(Debug, Clone)]
pub struct SecureRingContext {
    ring: RingContext,
    auth: AuthContext,
}

impl SecureRingContext {
    /// Wraps a context with the sender's identity.
    pub fn new(ring: RingContext, auth: AuthContext) -> Self {
        Self { ring, auth }
    }

    /// The sender's identity.
    pub fn auth(&self) -> &AuthContext {
        &self.auth
    }

    /// The plain context.
    pub fn ring(&self) -> &RingContext {
        &self.ring
    }

    /// The plain context, mutably (what `handle` takes).
    pub fn ring_mut(&mut self) -> &mut RingContext {
        &mut self.ring
    }

    /// Shorthand for `self.auth().require(permission)`.
    pub fn require(&self, permission: &str) -> Result<(), AuthError> {
        self.auth.require(permission)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn require_names_principal_and_permission() {
        let auth = AuthContext::new("bob", 1).with_permission("read");
        let err = auth.require("write").unwrap_err();
        assert_eq!(err.to_string(), "principal `bob` lacks permission `write`");
        assert_eq!(
            auth.require_tenant(2).unwrap_err().to_string(),
            "principal `bob` of tenant 1 may not act on tenant 2"
        );
    }

    #[test]
    fn begin_message_rejects_skewed_sender_and_keeps_state() {
        let clock = Arc::new(Hlc::with_wall_clock(1, Duration::from_millis(10), || 1_000));
        let mut ctx = RingContext::new("k", 3, clock);
        ctx.begin_message(1, 1, None).unwrap();
        let far = HlcTimestamp::new(2_000, 0, 9);
        assert!(ctx.begin_message(2, 2, Some(far)).is_err());
        assert_eq!((ctx.message_seq(), ctx.correlation_id(), ctx.kernel_slot()), (1, 1, 3));
    }
}
