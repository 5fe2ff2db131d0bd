//! Procedural macros of ringkernel: `#[derive(RingMessage)]`, `#[ring_kernel]`, `#[rule]` and
//! `#[device]`. Use them through the `ringkernel` facade, which pins this crate's exact version.
//!
//! Each macro is split parse → validate → expand; errors are collected and reported with the
//! span of the offending code.

mod message;

use proc_macro::TokenStream;

/// Derives `ringkernel::RingMessage` for a `#[repr(C)]` struct whose fields are DSL types
/// (scalars, fixed arrays, other `RingMessage` structs): a stable `TYPE_ID` (a hash of the
/// module path and name, or `#[message(type_id = N)]`), the `LAYOUT` rustc chose, and
/// encoding that never reads padding. The struct must also be `Clone + Copy`.
#[proc_macro_derive(RingMessage, attributes(message))]
pub fn derive_ring_message(input: TokenStream) -> TokenStream {
    message::derive(input.into()).into()
}
