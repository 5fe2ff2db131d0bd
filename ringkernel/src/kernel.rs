//! The two traits a kernel implements: [`GpuKernel`] (what to launch) and
//! [`RingKernelHandler`] (what to do with each message).

use async_trait::async_trait;

use crate::context::{AuthError, RingContext, SecureRingContext};
use crate::message::RingMessage;

/// Grid and block dimensions of a persistent kernel launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LaunchConfig {
    /// Blocks in the grid.
    pub grid_size: u32,
    /// Threads per block.
    pub block_size: u32,
    /// Dynamic shared memory per block, in bytes.
    pub shared_memory_bytes: u32,
}

impl Default for LaunchConfig {
    fn default() -> Self {
        Self { grid_size: 1, block_size: 128, shared_memory_bytes: 0 }
    }
}

/// A kernel that can be launched as a persistent actor.
///
/// `#[ring_kernel]` generates an implementation carrying the PTX artifact that build.rs made.
pub trait GpuKernel: Send + Sync + 'static {
    /// Kernel id, unique within a runtime.
    fn id(&self) -> &str;

    /// How to launch it.
    fn launch_config(&self) -> LaunchConfig {
        LaunchConfig::default()
    }

    /// Slots in each of the input and output rings.
    fn queue_capacity(&self) -> u32 {
        1024
    }

    /// The PTX artifact (PTX text with embedded metadata), when one was compiled.
    fn ptx_artifact(&self) -> Option<&'static str> {
        None
    }
}

/// Why a handler produced no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// The sender was not authorised.
    #[error(transparent)]
    Unauthorized(#[from] AuthError),
    /// The handler refused the message; the text says why.
    #[error("handler rejected the message: {0}")]
    Rejected(String),
    /// The handler ran more loop iterations than its budget (`max_steps`) allows; the
    /// message was aborted and the state left as it was before it.
    #[error("the handler ran out of its budget of loop iterations ({max_steps}; 0: not known)")]
    BudgetExhausted {
        /// The budget (0 where it is not known: a PTX-only artifact's is in its PTX).
        max_steps: u32,
    },
}

/// Handles messages of type `M`, answering with `R`.
///
/// The handler value owns the actor's state, so `handle` takes `&mut self`; the runtime runs
/// one actor per handler value and never calls it concurrently.
///
/// ```
/// use std::sync::Arc;
/// use ringkernel::{Hlc, HandlerError, RingContext, RingKernelHandler};
///
/// struct Counter { total: u64 }
///
/// #[ringkernel::async_trait]
/// impl RingKernelHandler<u64, u64> for Counter {
///     async fn handle(&mut self, _ctx: &mut RingContext, msg: u64) -> Result<u64, HandlerError> {
///         self.total = self.total.wrapping_add(msg);
///         Ok(self.total)
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut ctx = RingContext::new("counter", 0, Arc::new(Hlc::new(0)));
/// let mut counter = Counter { total: 0 };
/// counter.handle(&mut ctx, 2).await.unwrap();
/// assert_eq!(counter.handle(&mut ctx, 3).await, Ok(5));
/// # });
/// ```
#[async_trait]
pub trait RingKernelHandler<M: RingMessage, R: RingMessage>: Send {
    /// Handles one message.
    async fn handle(&mut self, ctx: &mut RingContext, msg: M) -> Result<R, HandlerError>;

    /// Runs once before the first message.
    async fn initialize(&mut self, _ctx: &mut RingContext) -> Result<(), HandlerError> {
        Ok(())
    }

    /// Runs once after the last message, when the actor terminates.
    async fn ring_shutdown(&mut self, _ctx: &mut RingContext) -> Result<(), HandlerError> {
        Ok(())
    }

    /// Handles a message from an authenticated sender. Tenant and permission checks happen
    /// in the runtime before this is called; by default it delegates to [`Self::handle`].
    async fn handle_secure(
        &mut self,
        ctx: &mut SecureRingContext,
        msg: M,
    ) -> Result<R, HandlerError> {
        self.handle(ctx.ring_mut(), msg).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::AuthContext;
    use crate::hlc::Hlc;
    use std::sync::Arc;

    struct Guarded {
        calls: u32,
    }

    #[async_trait]
    impl RingKernelHandler<u32, u32> for Guarded {
        async fn handle(&mut self, ctx: &mut RingContext, msg: u32) -> Result<u32, HandlerError> {
            self.calls += 1;
            Ok(msg.wrapping_add(ctx.kernel_slot()))
        }
    }

    struct AdminOnly;

    #[async_trait]
    impl RingKernelHandler<u32, u32> for AdminOnly {
        async fn handle(&mut self, _ctx: &mut RingContext, msg: u32) -> Result<u32, HandlerError> {
            Ok(msg)
        }

        async fn handle_secure(
            &mut self,
            ctx: &mut SecureRingContext,
            msg: u32,
        ) -> Result<u32, HandlerError> {
            ctx.require("admin")?;
            self.handle(ctx.ring_mut(), msg).await
        }
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    #[test]
    fn handle_secure_delegates_to_handle_by_default() {
        let ring = RingContext::new("k", 5, Arc::new(Hlc::new(0)));
        let mut secure = SecureRingContext::new(ring, AuthContext::new("svc", 1));
        let mut handler = Guarded { calls: 0 };
        assert_eq!(block_on(handler.handle_secure(&mut secure, 10)), Ok(15));
        assert_eq!(handler.calls, 1);
        assert_eq!(block_on(handler.initialize(secure.ring_mut())), Ok(()));
    }

    #[test]
    fn an_overridden_handle_secure_can_refuse() {
        let ring = RingContext::new("k", 0, Arc::new(Hlc::new(0)));
        let mut plain = SecureRingContext::new(ring.clone(), AuthContext::new("eve", 1));
        let mut admin =
            SecureRingContext::new(ring, AuthContext::new("root", 1).with_permission("admin"));
        let err = block_on(AdminOnly.handle_secure(&mut plain, 1)).unwrap_err();
        assert!(matches!(err, HandlerError::Unauthorized(AuthError::MissingPermission { .. })));
        assert_eq!(block_on(AdminOnly.handle_secure(&mut admin, 1)), Ok(1));
    }
}
