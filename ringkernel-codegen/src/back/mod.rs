//! Back ends: IR → target code.

pub mod ptx;
