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
#![warn(missing_docs)]

pub mod abi;
pub mod artifact;
pub mod layout;

/// Version of this compiler, recorded in every artifact it writes.
pub const COMPILER_VERSION: &str = env!("CARGO_PKG_VERSION");
