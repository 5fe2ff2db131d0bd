//! Tenant isolation and permissions, enforced by the actor before its handler runs.
//!
//! An actor launched with an [`AccessPolicy`] (`Runtime::launch_with`, `launch_handler_with`,
//! `rule_actor_with`) accepts only messages that carry the policy's tenant and every
//! permission it requires. The policy's permissions become bits (the `i`-th required
//! permission is bit `i`, at most 32) written with the tenant into the actor's control block;
//! [`KernelHandle::authorized`] turns a sender's [`AuthContext`] into the same bits and stamps
//! them, with its tenant, into the header of every slot it sends. The actor — the CPU actor
//! thread, the persistent PTX entry, the loop of `ringkernel.cuh` — compares the two before
//! anything reads the message; a refused message is answered `Fault::Unauthorized` on its own
//! correlation id and counted (`KernelMetrics::refused`), the handler never sees it and the
//! state never changes. Plain handles stamp tenant 0 and no bits, so an actor with a policy
//! refuses them; an actor without one accepts every message, as before.
//!
//! The header fields cannot be set through the public API other than by `authorized`. What
//! this protects against (and what not: code in the process with raw memory access) is in
//! SECURITY.md.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use ringkernel_codegen::abi::{ControlBlock, SlotHeader, ack, policy, request};

use super::{CallError, KernelHandle, KernelMetrics, Response, SendError, wait_for};
use crate::backend::RuntimeError;
use crate::context::{AuthContext, AuthError, TenantId};
use crate::message::RingMessage;

/// Most permissions one policy may require (the bits of a slot header's `permissions`).
pub const MAX_PERMISSIONS: usize = 32;

/// Who may send to an actor: one tenant, holding every listed permission.
///
/// ```
/// use ringkernel::AccessPolicy;
/// let policy = AccessPolicy::new(7).require("ledger:write").require("ledger:read");
/// assert_eq!(policy.tenant(), 7);
/// assert_eq!(policy.required(), ["ledger:write", "ledger:read"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    tenant: TenantId,
    required: Vec<String>,
}

impl AccessPolicy {
    /// Messages must come from `tenant`.
    pub fn new(tenant: TenantId) -> Self {
        Self { tenant, required: Vec::new() }
    }

    /// Messages must also hold `permission` (listing one twice changes nothing).
    pub fn require(mut self, permission: impl Into<String>) -> Self {
        let permission = permission.into();
        if !self.required.contains(&permission) {
            self.required.push(permission);
        }
        self
    }

    /// The tenant.
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    /// The required permissions, in the order of their bits.
    pub fn required(&self) -> &[String] {
        &self.required
    }

    /// The bits `auth` holds of this policy's permissions.
    fn bits_of(&self, auth: &AuthContext) -> u32 {
        self.required
            .iter()
            .enumerate()
            .filter(|(_, p)| auth.has_permission(p))
            .fold(0, |bits, (i, _)| bits | 1 << i)
    }

    /// The bits a message must hold.
    fn required_bits(&self) -> u32 {
        match self.required.len() {
            MAX_PERMISSIONS => u32::MAX,
            n => (1u32 << n) - 1,
        }
    }

    fn check(&self) -> Result<(), String> {
        if self.required.len() > MAX_PERMISSIONS {
            return Err(format!(
                "an access policy may require at most {MAX_PERMISSIONS} permissions, this one requires {}",
                self.required.len()
            ));
        }
        Ok(())
    }
}

/// How to launch an actor.
///
/// ```
/// use ringkernel::{AccessPolicy, LaunchOptions};
/// let options = LaunchOptions::default().access(AccessPolicy::new(1).require("ledger:write"));
/// assert_eq!(options.policy().map(|p| p.tenant()), Some(1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchOptions {
    access: Option<AccessPolicy>,
}

impl LaunchOptions {
    /// Only senders satisfying `policy` reach the handler.
    pub fn access(mut self, policy: AccessPolicy) -> Self {
        self.access = Some(policy);
        self
    }

    /// The access policy, if any.
    pub fn policy(&self) -> Option<&AccessPolicy> {
        self.access.as_ref()
    }
}

/// What a handle writes into the header of each slot it sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stamp {
    tenant: TenantId,
    permissions: u32,
    sender: u16,
}

impl Stamp {
    pub fn header(&self, type_id: u64, sequence: u64, correlation: u64) -> SlotHeader {
        SlotHeader {
            type_id,
            sequence,
            correlation,
            hlc: 0,
            tenant: self.tenant,
            permissions: self.permissions,
            sender: self.sender,
            fault: 0,
        }
    }
}

/// The identities `authorized` registered for an actor, by sender number (1-based: 0 means
/// none), for hand-written handlers' `handle_secure`.
#[derive(Debug, Default)]
pub(crate) struct Senders(RwLock<Vec<AuthContext>>);

impl Senders {
    fn register(&self, auth: &AuthContext) -> Result<u16, AuthError> {
        if let Some(i) = self.0.read().iter().position(|a| a == auth) {
            return Ok(i as u16 + 1);
        }
        let mut senders = self.0.write();
        if let Some(i) = senders.iter().position(|a| a == auth) {
            return Ok(i as u16 + 1);
        }
        if senders.len() >= usize::from(u16::MAX) {
            return Err(AuthError::BadCredential {
                reason: format!("this actor already has {} distinct senders", u16::MAX),
            });
        }
        senders.push(auth.clone());
        Ok(senders.len() as u16)
    }

    /// The identity of sender `number` (0: a plain handle).
    pub fn get(&self, number: u16) -> Option<AuthContext> {
        let index = usize::from(number).checked_sub(1)?;
        self.0.read().get(index).cloned()
    }
}

/// An actor's policy (as the host knows it) and its senders.
pub(crate) struct Access {
    policy: Mutex<Option<AccessPolicy>>,
    pub senders: Arc<Senders>,
}

impl Access {
    pub fn new(senders: Arc<Senders>) -> Self {
        Self { policy: Mutex::new(None), senders }
    }

    fn stamp_for(&self, auth: &AuthContext) -> Result<Stamp, AuthError> {
        let permissions = self.policy.lock().as_ref().map_or(0, |p| p.bits_of(auth));
        Ok(Stamp { tenant: auth.tenant(), permissions, sender: self.senders.register(auth)? })
    }
}

/// Writes `policy` (or none) into a control block the actor is not reading: before its first
/// `RUN`, or while it is quiesced.
fn write_policy(control: &ControlBlock, policy: Option<&AccessPolicy>) {
    let (flags, tenant, required) = match policy {
        Some(p) => (policy::ENFORCED, p.tenant, p.required_bits()),
        None => (0, 0, 0),
    };
    control.policy_tenant.store(tenant, Ordering::Relaxed);
    control.policy_required.store(required, Ordering::Relaxed);
    // The actor reads these after it acquires `RUN`, which is stored with release after them.
    control.policy_flags.store(flags, Ordering::Relaxed);
}

impl super::HandleCore {
    /// Puts `policy` in force at a message boundary: quiesce, write it, run again (the actor
    /// reads its policy whenever it starts running). Messages already queued are checked
    /// against the new policy.
    pub(crate) fn set_access(&self, policy: Option<AccessPolicy>) -> Result<(), RuntimeError> {
        let fail = |reason: String| RuntimeError::Launch { id: self.id.clone(), reason };
        if let Some(p) = &policy {
            p.check().map_err(fail)?;
        }
        let limit = Duration::from_secs(10);
        self.request(request::QUIESCE);
        if !wait_for(self, ack::QUIESCED, limit) {
            return Err(fail(
                "the actor did not stop at a message boundary to take its access policy".into(),
            ));
        }
        write_policy(self.link.control(), policy.as_ref());
        *self.access.policy.lock() = policy;
        self.request(request::RUN);
        if !wait_for(self, ack::RUNNING, limit) {
            return Err(fail("the actor did not run again after taking its access policy".into()));
        }
        Ok(())
    }
}

impl<M: RingMessage, R: RingMessage> KernelHandle<M, R> {
    /// A handle whose messages carry `auth`'s tenant and permissions (as bits of the actor's
    /// policy): the actor checks them before its handler runs, and a hand-written handler's
    /// `handle_secure` gets `auth`. Fails only when the actor has 65,535 distinct senders.
    ///
    /// ```
    /// use ringkernel::{AccessPolicy, AuthContext, Backend, CallError, Fault, LaunchOptions, Runtime};
    /// # use ringkernel::{HandlerError, RingContext, RingKernelHandler};
    /// # struct Echo;
    /// # #[ringkernel::async_trait]
    /// # impl RingKernelHandler<u32, u32> for Echo {
    /// #     async fn handle(&mut self, _: &mut RingContext, m: u32) -> Result<u32, HandlerError> { Ok(m) }
    /// # }
    /// let rt = Runtime::builder().backend(Backend::Cpu).build().unwrap();
    /// let options = LaunchOptions::default().access(AccessPolicy::new(7).require("echo"));
    /// let plain = rt.launch_handler_with::<_, u32, u32>("echo", 16, Echo, options).unwrap();
    /// let alice = plain.authorized(AuthContext::new("alice", 7).with_permission("echo")).unwrap();
    /// let mallory = plain.authorized(AuthContext::new("mallory", 8).with_permission("echo")).unwrap();
    /// assert_eq!(alice.call_blocking(5), Ok(5));
    /// assert_eq!(mallory.call_blocking(5).unwrap_err().fault(), Some(Fault::Unauthorized));
    /// assert_eq!(plain.call_blocking(5).unwrap_err().fault(), Some(Fault::Unauthorized));
    /// assert_eq!(plain.metrics().refused, 2);
    /// ```
    pub fn authorized(&self, auth: AuthContext) -> Result<AuthorizedHandle<M, R>, AuthError> {
        let stamp = self.core.access.stamp_for(&auth)?;
        let inner = KernelHandle { core: self.core.clone(), stamp, _types: self._types };
        Ok(AuthorizedHandle { inner, auth })
    }
}

/// A handle that sends as one authenticated sender (see [`KernelHandle::authorized`]): the
/// sending, receiving and calling methods of [`KernelHandle`], each message stamped.
pub struct AuthorizedHandle<M, R> {
    inner: KernelHandle<M, R>,
    auth: AuthContext,
}

impl<M, R> std::fmt::Debug for AuthorizedHandle<M, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizedHandle")
            .field("id", &self.inner.core.id)
            .field("principal", &self.auth.principal())
            .finish_non_exhaustive()
    }
}

impl<M, R> Clone for AuthorizedHandle<M, R> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone(), auth: self.auth.clone() }
    }
}

impl<M: RingMessage, R: RingMessage> AuthorizedHandle<M, R> {
    /// The sender's identity.
    pub fn auth(&self) -> &AuthContext {
        &self.auth
    }

    /// The kernel or rule id.
    pub fn id(&self) -> &str {
        self.inner.id()
    }

    /// [`KernelHandle::try_send`], stamped.
    pub fn try_send(&self, msg: M) -> Result<u64, SendError<M>> {
        self.inner.try_send(msg)
    }

    /// [`KernelHandle::send`], stamped.
    pub async fn send(&self, msg: M) -> Result<u64, SendError<M>> {
        self.inner.send(msg).await
    }

    /// [`KernelHandle::send_blocking`], stamped.
    pub fn send_blocking(&self, msg: M) -> Result<u64, SendError<M>> {
        self.inner.send_blocking(msg)
    }

    /// [`KernelHandle::send_batch`], stamped.
    pub fn send_batch(&self, messages: &[M]) -> Result<usize, CallError> {
        self.inner.send_batch(messages)
    }

    /// [`KernelHandle::try_receive`].
    pub fn try_receive(&self) -> Option<Result<Response<R>, CallError>> {
        self.inner.try_receive()
    }

    /// [`KernelHandle::receive`].
    pub async fn receive(&self) -> Result<Response<R>, CallError> {
        self.inner.receive().await
    }

    /// [`KernelHandle::receive_blocking`].
    pub fn receive_blocking(&self) -> Result<Response<R>, CallError> {
        self.inner.receive_blocking()
    }

    /// [`KernelHandle::receive_timeout`].
    pub fn receive_timeout(&self, timeout: Duration) -> Result<Response<R>, CallError> {
        self.inner.receive_timeout(timeout)
    }

    /// [`KernelHandle::receive_batch`].
    pub fn receive_batch(
        &self,
        out: &mut Vec<Result<Response<R>, CallError>>,
        max: usize,
    ) -> usize {
        self.inner.receive_batch(out, max)
    }

    /// [`KernelHandle::call`], stamped.
    pub async fn call(&self, msg: M) -> Result<R, CallError> {
        self.inner.call(msg).await
    }

    /// [`KernelHandle::call_blocking`], stamped.
    pub fn call_blocking(&self, msg: M) -> Result<R, CallError> {
        self.inner.call_blocking(msg)
    }

    /// [`KernelHandle::call_timeout`], stamped.
    pub fn call_timeout(&self, msg: M, timeout: Duration) -> Result<R, CallError> {
        self.inner.call_timeout(msg, timeout)
    }

    /// [`KernelHandle::metrics`].
    pub fn metrics(&self) -> KernelMetrics {
        self.inner.metrics()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_map_to_the_policys_bits() {
        let policy = AccessPolicy::new(3).require("a").require("b").require("a").require("c");
        assert_eq!(policy.required_bits(), 0b111);
        let auth = AuthContext::new("x", 3).with_permission("c").with_permission("a");
        assert_eq!(policy.bits_of(&auth), 0b101);
        assert_eq!(policy.bits_of(&AuthContext::new("y", 3).with_permission("z")), 0);
        let full = (0..32).fold(AccessPolicy::new(1), |p, i| p.require(format!("p{i}")));
        assert_eq!(full.required_bits(), u32::MAX);
        assert!(full.check().is_ok());
        assert!(full.require("one too many").check().unwrap_err().contains("at most 32"));
    }

    #[test]
    fn senders_are_numbered_once_each() {
        let senders = Senders::default();
        let (a, b) = (AuthContext::new("a", 1), AuthContext::new("b", 1));
        assert_eq!(senders.register(&a), Ok(1));
        assert_eq!(senders.register(&b), Ok(2));
        assert_eq!(senders.register(&a), Ok(1));
        assert_eq!(senders.get(2), Some(b));
        assert_eq!(senders.get(0), None);
        assert_eq!(senders.get(3), None);
    }
}
