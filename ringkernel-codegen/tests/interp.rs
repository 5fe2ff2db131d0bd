//! The reference interpreter of the IR against rustc: every golden kernel runs on random
//! inputs both natively (the same source compiled as plain Rust, see build.rs) and through
//! the front end + interpreter; responses, state and intrinsics must agree bit for bit.
//!
//! Native Rust panics where the DSL defines a result (overflow in debug builds, division by
//! zero, out-of-bounds index); such inputs are skipped and counted, and each kernel must run
//! natively on enough inputs for the comparison to mean something.

use ringkernel_codegen::dev::{Context, run_handler};

#[macro_use]
mod common;

use common::*;

struct Tally {
    compared: usize,
    skipped: usize,
}

/// Runs 300 random inputs of one handler through both sides.
fn compare<S: Copy, M: Copy, R: Copy>(
    file: &str,
    fn_name: &str,
    native: impl Fn(&mut RingContext, &mut S, M) -> R,
) -> Tally {
    let h = handler(file, fn_name);
    let (cases, panicked) = native_cases(&h, 300, None, &native);
    for (i, case) in cases.iter().enumerate() {
        let mut state = case.state.clone();
        let mut ctx = Context {
            message_seq: case.seq,
            clock: case.clock,
            kernel_slot: case.slot,
            budget: Some(h.max_steps),
            ..Default::default()
        };
        let response = run_handler(&h.module, h.id, &mut state, &case.msg, &mut ctx, 1_000_000)
            .unwrap_or_else(|e| panic!("{file}::{fn_name} case {i}: {e}"));
        let context = format!("{file}::{fn_name} case {i}, message {:?}", case.msg);
        same(&h.module, &h.ret_ty, &response, &case.response)
            .unwrap_or_else(|e| panic!("{context}: response {e}"));
        if let Some(ty) = &h.state_ty {
            same(&h.module, ty, &state, &case.state_after)
                .unwrap_or_else(|e| panic!("{context}: state {e}"));
        }
        assert_eq!(ctx.clock, case.clock_after, "{context}: clock");
        assert!(
            ctx.errors.is_empty(),
            "{context}: the interpreter recorded {:?} where Rust did not panic",
            ctx.errors
        );
    }
    Tally { compared: cases.len(), skipped: panicked.len() }
}

#[test]
fn interpreter_agrees_with_rustc_on_every_golden_kernel() {
    let mut results = golden_handlers!(stateless, stateful);
    // `fast_math` is approximate on the GPU only: the interpreter runs Rust's functions.
    results.push(stateless!(transcendental_fast, transcendental_fast));
    let mut thin = Vec::new();
    for (file, func, tally) in &results {
        println!(
            "{file}::{func}: {} compared, {} skipped (native panic)",
            tally.compared, tally.skipped
        );
        if tally.compared < 30 {
            thin.push(format!("{file}::{func} ({} compared)", tally.compared));
        }
    }
    assert!(thin.is_empty(), "too few inputs ran natively to compare: {thin:?}");
    assert_eq!(results.len(), 45);
}
