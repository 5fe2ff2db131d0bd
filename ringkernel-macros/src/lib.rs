//! Procedural macros of ringkernel.
//!
//! This crate will hold the thin `#[proc_macro_attribute]` / `#[proc_macro_derive]` shims for
//! `#[derive(RingMessage)]`, `#[ring_kernel]`, `#[rule]` and `#[device]` (see the macros
//! issue). Use them through the `ringkernel` facade, which pins this crate's exact version.
//! It exports nothing yet: the macros land together with the codegen front end they share.
