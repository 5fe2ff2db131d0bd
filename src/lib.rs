//! The root package of the ringkernel workspace: runnable examples (`examples/`) and
//! end-to-end tests (`tests/`). Not published.
//!
//! This library exists so that the Rust snippets of `README.md` are compiled and run as
//! doctests with the rest of the test suite.

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
