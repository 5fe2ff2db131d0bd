//! ringkernel's compiler: Rust-syntax handlers to PTX at build time, no CUDA toolkit needed.
//!
//! The pipeline (front end → IR → checker → PTX writer, plus the ABI and artifact format) is
//! described in the workspace design notes. This crate currently provides the pieces the
//! runtime needs to agree with the compiler on data layout:
//!
//! - [`layout`]: the `#[repr(C)]` layout description of message and state types.
//!
//! The runtime depends on this crate with `default-features = false`, which leaves out the
//! syn-based front end.

#![deny(unsafe_code)]
#![allow(clippy::too_many_arguments)]
#![warn(missing_docs)]

pub mod abi;
pub mod artifact;
#[cfg(feature = "frontend")]
pub mod back;
pub mod check;
#[cfg(feature = "frontend")]
mod compile;
#[cfg(feature = "frontend")]
#[doc(hidden)]
pub mod dev;
pub mod diagnostic;
#[cfg(feature = "frontend")]
mod driver;
pub mod ir;
pub mod layout;
pub mod math;

#[cfg(feature = "frontend")]
pub mod front;

#[cfg(feature = "frontend")]
pub use compile::{Options, compile_source};
pub use diagnostic::{Diagnostic, Diagnostics};
#[cfg(feature = "frontend")]
pub use driver::{Build, BuildError};

/// Version of this compiler, recorded in every artifact it writes.
pub const COMPILER_VERSION: &str = env!("CARGO_PKG_VERSION");
