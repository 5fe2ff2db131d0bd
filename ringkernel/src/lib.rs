//! # ringkernel
//!
//! Persistent GPU actors written in plain Rust. A handler written once runs natively on the
//! CPU and, compiled at build time to PTX, as a persistent kernel on an NVIDIA GPU. Handlers
//! are versioned [rules] that a running actor can swap to (or roll back from)
//! without a restart, without losing a message and keeping its state.
//!
//! This crate holds the core traits ([`RingMessage`], [`GpuKernel`], [`RingKernelHandler`]),
//! the handler contexts ([`RingContext`], [`SecureRingContext`]), the hybrid logical clock
//! ([`Hlc`]) and the rule registry ([`rules`]).

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
pub mod auth;
mod backend;
pub mod checkpoint;
pub mod context;
pub mod cpu;
pub mod device;
pub mod fault;
pub mod gpu;
pub mod handle;
pub mod hlc;
pub mod kernel;
pub mod message;
pub mod observe;
pub mod pipeline;
pub mod ring;
pub mod rules;
pub mod runtime;
pub mod watch;

pub use async_trait::async_trait;
pub use checkpoint::{Checkpoint, CheckpointError};
pub use context::{AuthContext, AuthError, RingContext, SecureRingContext, TenantId};
pub use fault::Fault;
pub use handle::access::{AccessPolicy, AuthorizedHandle, LaunchOptions};
pub use handle::{CallError, KernelHandle, KernelMetrics, Response, SendError, TerminateReport};
pub use hlc::{Hlc, HlcError, HlcTimestamp};
pub use kernel::{GpuKernel, HandlerError, LaunchConfig, RingKernelHandler};
pub use message::{FieldLayout, MessageError, RingMessage, TypeLayout};
pub use pipeline::{Pipeline, PipelineBuilder, RingPlacement, RingReport, StageHandle};
pub use ringkernel_codegen::math;
pub use ringkernel_macros::{RingMessage, device, ring_kernel, rule};
pub use runtime::{Backend, Runtime, RuntimeBuilder, RuntimeError};

/// What a kernel file and the program around it usually need, in one import:
/// `use ringkernel::prelude::*;`.
///
/// ```
/// use ringkernel::prelude::*;
/// let runtime = Runtime::builder().backend(Backend::Cpu).build().unwrap();
/// assert_eq!(runtime.backend(), Backend::Cpu);
/// ```
pub mod prelude {
    pub use crate::{
        Backend, CallError, GpuKernel, HandlerError, KernelHandle, KernelMetrics, LaunchConfig,
        Response, RingContext, RingKernelHandler, RingMessage, Runtime, RuntimeError, SendError,
        TerminateReport, device, ring_kernel, rule,
    };
}
