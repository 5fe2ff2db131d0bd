//! The CPU backend: persistent actors on host threads, speaking the ABI's ring protocol.

pub(crate) mod actor;
#[cfg(feature = "emulator")]
mod ptx_rule;
pub(crate) mod spawn;
mod swap;

pub use swap::CpuSwapBackend;

/// The ABI's ring, which moved to [`crate::ring`] (it serves every backend); kept here so
/// that code written against `cpu::ring` still builds.
pub mod ring {
    pub use crate::ring::*;
}
