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

mod kernel;

/// Turns `fn name(ctx: &mut RingContext, [state: &mut S,] msg: M) -> R` into a persistent GPU
/// kernel: the function stays (with the DSL's semantics natively: wrapping integers, division
/// by zero → 0, out-of-bounds index → 0), and `<Name>Kernel` implements `GpuKernel` and
/// `RingKernelHandler<M, R>` with the PTX build.rs compiled from the same source.
///
/// Arguments: `id = "..."` (required), `queue_capacity`, `block_size`, `grid_size`,
/// `shared_memory_bytes`, `idle_backoff_ns`, `compute_cap`, `fast_math`, `max_steps = N`
/// (loop iterations per message before the message is aborted with `BudgetExhausted`,
/// counted identically natively and in the PTX; default
/// `ringkernel_codegen::abi::DEFAULT_MAX_STEPS`).
#[proc_macro_attribute]
pub fn ring_kernel(args: TokenStream, item: TokenStream) -> TokenStream {
    kernel::expand(kernel::Kind::RingKernel, args.into(), item.into()).into()
}

/// Like `#[ring_kernel]`, for a versioned rule: `#[rule(id = "...", version = N,
/// compute_cap = "sm_80", depends_on = ["..."])]` generates `<Name>Rule` with
/// `fn compiled() -> CompiledRule` and registers its host implementation for the CPU backend.
#[proc_macro_attribute]
pub fn rule(args: TokenStream, item: TokenStream) -> TokenStream {
    kernel::expand(kernel::Kind::Rule, args.into(), item.into()).into()
}

/// Marks a helper callable from handlers (inlined into the PTX; natively, the function with
/// the DSL's semantics).
#[proc_macro_attribute]
pub fn device(args: TokenStream, item: TokenStream) -> TokenStream {
    kernel::expand(kernel::Kind::Device, args.into(), item.into()).into()
}
