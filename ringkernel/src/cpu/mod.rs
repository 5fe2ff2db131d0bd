//! The CPU backend: persistent actors on host threads, speaking the ABI's ring protocol.

pub mod ring;
