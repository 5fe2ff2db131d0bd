//! The CPU backend: persistent actors on host threads, speaking the ABI's ring protocol.

pub(crate) mod actor;
mod handle;
pub mod metrics;
pub mod ring;
pub(crate) mod spawn;
mod swap;

pub use handle::{CallError, KernelHandle, KernelMetrics, Response, SendError, TerminateReport};
pub use swap::CpuSwapBackend;
