//! The PTX the writer emits, run in the PTX virtual machine (`ringkernel-ptx`), against
//! native Rust: every golden kernel's **batch entry** on the same random inputs as the
//! interpreter test (edge values included), bit for bit — response, state, clock and the
//! control block's error counters. Each input runs as its own launch (one thread), then all
//! inputs of a kernel run again as one multi-CTA launch spread over the host's cores.
//!
//! A mismatch is a bug in the PTX writer or the VM; the PTX ISA decides which.

#[macro_use]
mod common;

use common::*;
use ringkernel_codegen::abi::offsets::{CB_ERROR_CODE, CB_ERROR_COUNT, CB_HLC, CB_KERNEL_SLOT};
use ringkernel_codegen::{Options, compile_source};
use ringkernel_ptx::{Arg, Dims, Module, Vm};

const CONTROL_BLOCK: usize = 128;

fn artifact(h: &Handler) -> (Module, String) {
    let artifacts = compile_source(&h.source, &Options::default())
        .unwrap_or_else(|d| panic!("{}: {d}", h.file));
    let a = artifacts
        .iter()
        .find(|a| a.metadata.entries.handler == format!("{}_handler", h.name))
        .unwrap_or_else(|| panic!("{}: no artifact for {}", h.file, h.name));
    let module =
        Module::parse(&a.ptx).unwrap_or_else(|e| panic!("{}: the VM rejects our PTX: {e}", h.file));
    (module, a.metadata.entries.batch.clone())
}

fn u32_at(bytes: &[u8], offset: u32) -> u32 {
    u32::from_le_bytes(bytes[offset as usize..offset as usize + 4].try_into().unwrap())
}

fn u64_at(bytes: &[u8], offset: u32) -> u64 {
    u64::from_le_bytes(bytes[offset as usize..offset as usize + 8].try_into().unwrap())
}

fn control_block(clock: u64, slot: u32) -> Vec<u8> {
    let mut cb = vec![0u8; CONTROL_BLOCK];
    cb[CB_HLC as usize..CB_HLC as usize + 8].copy_from_slice(&clock.to_le_bytes());
    cb[CB_KERNEL_SLOT as usize..CB_KERNEL_SLOT as usize + 4].copy_from_slice(&slot.to_le_bytes());
    cb
}

struct Buffers {
    cb: u64,
    states: u64,
    msgs: u64,
    resps: u64,
}

fn buffers(vm: &Vm, h: &Handler, n: usize) -> (Buffers, [usize; 3]) {
    let state_size = h.state_ty.as_ref().map_or(0, |t| h.module.size_of(t)) as usize;
    let sizes =
        [state_size, h.module.size_of(&h.msg_ty) as usize, h.module.size_of(&h.ret_ty) as usize];
    let alloc = |bytes: usize| vm.alloc((bytes * n).max(8)).unwrap();
    (
        Buffers {
            cb: alloc(CONTROL_BLOCK),
            states: alloc(sizes[0]),
            msgs: alloc(sizes[1]),
            resps: alloc(sizes[2]),
        },
        sizes,
    )
}

fn launch(vm: &Vm, module: &Module, entry: &str, b: &Buffers, n: u32, block: u32, context: &str) {
    let args =
        [Arg::U64(b.cb), Arg::U64(b.states), Arg::U64(b.msgs), Arg::U64(b.resps), Arg::U32(n)];
    vm.launch(module, entry, Dims::linear(n.div_ceil(block), block), &args)
        .unwrap_or_else(|f| panic!("{context}: the VM faulted: {f}"));
}

fn check_case(h: &Handler, case: &Case, response: &[u8], state: &[u8], cb: &[u8], context: &str) {
    same(&h.module, &h.ret_ty, response, &case.response)
        .unwrap_or_else(|e| panic!("{context}: response {e}"));
    if let Some(ty) = &h.state_ty {
        same(&h.module, ty, state, &case.state_after)
            .unwrap_or_else(|e| panic!("{context}: state {e}"));
    }
    assert_eq!(
        u32_at(cb, CB_ERROR_COUNT),
        0,
        "{context}: the kernel recorded error {} where Rust did not panic",
        u32_at(cb, CB_ERROR_CODE)
    );
}

struct Tally {
    compared: usize,
    skipped: usize,
    batch: usize,
}

fn compare<S: Copy, M: Copy, R: Copy>(
    file: &str,
    fn_name: &str,
    native: impl Fn(&mut RingContext, &mut S, M) -> R,
) -> Tally {
    let h = handler(file, fn_name);
    let (module, entry) = artifact(&h);
    let (cases, panicked) = native_cases(&h, 300, Some(0), &native);
    let vm = Vm::new();
    vm.set_instruction_budget(Some(10_000_000));

    // One launch per input: thread 0 sees message sequence 0.
    let (b, [ss, ms, rs]) = buffers(&vm, &h, 1);
    let run_one = |case: &Case, context: &str| {
        vm.write(b.cb, &control_block(case.clock, case.slot)).unwrap();
        vm.write(b.states, &case.state).unwrap();
        vm.write(b.msgs, &case.msg).unwrap();
        vm.write(b.resps, &vec![0u8; rs]).unwrap();
        launch(&vm, &module, &entry, &b, 1, 1, context);
        let (mut resp, mut state, mut cb) =
            (vec![0u8; rs], vec![0u8; ss], vec![0u8; CONTROL_BLOCK]);
        vm.read(b.resps, &mut resp).unwrap();
        vm.read(b.states, &mut state).unwrap();
        vm.read(b.cb, &mut cb).unwrap();
        (resp, state, cb)
    };
    for (i, case) in cases.iter().enumerate() {
        let context =
            format!("{file}::{fn_name} case {i}, message {:?}, state {:?}", case.msg, case.state);
        let (resp, state, cb) = run_one(case, &context);
        check_case(&h, case, &resp, &state, &cb, &context);
        assert_eq!(u64_at(&cb, CB_HLC), case.clock_after, "{context}: clock");
    }
    // Where Rust panics (a zero divisor, an index out of bounds), the DSL's defined result and
    // the recorded errors come from the IR interpreter: the PTX must give the same.
    for (i, input) in panicked.iter().enumerate() {
        let context = format!(
            "{file}::{fn_name} panicking case {i}, message {:?}, state {:?}",
            input.msg, input.state
        );
        let (expected, errors) = interpreted(&h, input);
        let (resp, state, cb) = run_one(input, &context);
        same(&h.module, &h.ret_ty, &resp, &expected.response)
            .unwrap_or_else(|e| panic!("{context}: response {e}"));
        if let Some(ty) = &h.state_ty {
            same(&h.module, ty, &state, &expected.state_after)
                .unwrap_or_else(|e| panic!("{context}: state {e}"));
        }
        assert_eq!(
            u32_at(&cb, CB_ERROR_COUNT) as usize,
            errors.len(),
            "{context}: errors recorded ({errors:?})"
        );
        assert_eq!(
            u32_at(&cb, CB_ERROR_CODE),
            errors.first().copied().unwrap_or(0),
            "{context}: first error"
        );
        assert_eq!(u64_at(&cb, CB_HLC), expected.clock_after, "{context}: clock");
    }

    // All inputs in one launch: message i is thread i. Kernels that read the clock see it in
    // launch order, which a parallel launch does not fix; they are compared per input only.
    let reads_clock = cases.iter().any(|c| c.clock_after != c.clock);
    let (clock, slot) = (1000, 3);
    let batch: Vec<Option<Case>> = if reads_clock {
        Vec::new()
    } else {
        cases
            .iter()
            .enumerate()
            .map(|(i, c)| run_native(&h, &native, &c.msg, &c.state, (i as u64, clock, slot)))
            .collect()
    };
    let kept: Vec<(usize, &Case)> =
        batch.iter().enumerate().filter_map(|(i, c)| c.as_ref().map(|c| (i, c))).collect();
    if !kept.is_empty() {
        let n = batch.len();
        vm.set_instruction_budget(Some(10_000_000 * n as u64));
        let (b, _) = buffers(&vm, &h, n);
        vm.write(b.cb, &control_block(clock, slot)).unwrap();
        let gather = |f: &dyn Fn(&Case) -> Vec<u8>, size: usize| {
            let mut out = vec![0u8; size * n];
            for (i, c) in &kept {
                out[i * size..(i + 1) * size].copy_from_slice(&f(c));
            }
            out
        };
        vm.write(b.states, &gather(&|c| c.state.clone(), ss)).unwrap();
        vm.write(b.msgs, &gather(&|c| c.msg.clone(), ms)).unwrap();
        launch(&vm, &module, &entry, &b, n as u32, 64, &format!("{file}::{fn_name} batch"));
        let (mut resps, mut states, mut cb) =
            (vec![0u8; rs * n], vec![0u8; ss * n], vec![0u8; CONTROL_BLOCK]);
        vm.read(b.resps, &mut resps).unwrap();
        vm.read(b.states, &mut states).unwrap();
        vm.read(b.cb, &mut cb).unwrap();
        let clean_cb = control_block(clock, slot);
        for (i, c) in &kept {
            let context = format!("{file}::{fn_name} batch message {i}, message {:?}", c.msg);
            check_case(
                &h,
                c,
                &resps[i * rs..(i + 1) * rs],
                &states[i * ss..(i + 1) * ss],
                &clean_cb,
                &context,
            );
        }
        // Inputs that panic natively with sequence i may record errors in the shared block.
        if kept.len() == n {
            assert_eq!(u32_at(&cb, CB_ERROR_COUNT), 0, "{file}::{fn_name} batch: errors recorded");
        }
    }
    Tally { compared: cases.len(), skipped: panicked.len(), batch: kept.len() }
}

#[test]
fn the_vm_runs_every_golden_batch_entry_like_rustc() {
    let results = golden_handlers!(stateless, stateful);
    let mut thin = Vec::new();
    for (file, func, t) in &results {
        println!(
            "{file}::{func}: {} compared one by one, {} in one batch, {} where Rust panics compared with the interpreter",
            t.compared, t.batch, t.skipped
        );
        if t.compared < 30 {
            thin.push(format!("{file}::{func} ({} compared)", t.compared));
        }
    }
    assert!(thin.is_empty(), "too few inputs ran natively to compare: {thin:?}");
    assert_eq!(results.len(), 44);
}

/// `transcendental_fast` is the one golden kernel whose PTX does not match Rust bit for bit,
/// by request: `#[ring_kernel(fast_math)]` lowers f32 `exp ln sin cos` to
/// `ex2/lg2/sin/cos.approx.f32` (plus a scaling multiply), whose results the ISA defines only
/// within an error bound, while its native code calls Rust's functions. This test holds the
/// VM to the error the instruction sequence allows: 2^-16 relative to the magnitudes of the
/// three terms. (Without `fast_math` the same source, `transcendental`, is bit-identical.)
#[test]
fn fast_math_is_within_the_approximate_instructions_error() {
    let h = handler("transcendental_fast", "transcendental_fast");
    let (module, entry) = artifact(&h);
    let native = |ctx: &mut RingContext, _: &mut (), x: f32| {
        native::transcendental_fast::transcendental_fast(ctx, x)
    };
    let (cases, _) = native_cases(&h, 300, Some(0), &native);
    let vm = Vm::new();
    let (b, [_, _, rs]) = buffers(&vm, &h, 1);
    let mut exact = 0;
    for (i, case) in cases.iter().enumerate() {
        vm.write(b.cb, &control_block(0, 0)).unwrap();
        vm.write(b.msgs, &case.msg).unwrap();
        launch(&vm, &module, &entry, &b, 1, 1, "transcendental_fast");
        let mut resp = vec![0u8; rs];
        vm.read(b.resps, &mut resp).unwrap();
        let got = f32::from_le_bytes(resp[..4].try_into().unwrap());
        let want = f32::from_le_bytes(case.response[..4].try_into().unwrap());
        let x = f64::from(f32::from_le_bytes(case.msg[..4].try_into().unwrap()));
        let scale = x.exp().abs() + (x.abs() + 1.0).ln().abs() + 1.0;
        let close = (got.is_nan() && want.is_nan())
            || got == want
            || (f64::from(got) - f64::from(want)).abs() <= scale * 2f64.powi(-16);
        assert!(close, "case {i}: x = {x}: VM {got}, native {want}");
        exact += usize::from(got.to_bits() == want.to_bits());
    }
    println!(
        "transcendental_fast: {} inputs, {exact} bit-identical, the rest within the bound",
        cases.len()
    );
}

/// An input at sequence, clock and slot 0, with no results yet.
fn input_at_zero(msg: Vec<u8>, state: Vec<u8>) -> Case {
    let (response, state_after) = (Vec::new(), Vec::new());
    Case { msg, state, seq: 0, clock: 0, slot: 0, response, state_after, clock_after: 0 }
}

/// Bytes made outside Rust can hold a number that is no variant of an enum field. The PTX
/// and the interpreter both read it as the enum's first variant and record `INVALID_VALUE`
/// once per invalid field of the message; the handler's result is what Rust gives for the
/// first variant.
#[test]
fn invalid_enum_discriminants_read_as_the_first_variant_and_are_recorded() {
    use ringkernel_codegen::abi::error::INVALID_VALUE;
    let vm = Vm::new();
    // `flip` takes the enum itself: every byte that is not 1, 2, 5 or 200 is invalid.
    let h = handler("enums", "flip");
    let (module, entry) = artifact(&h);
    let (b, [_, _, rs]) = buffers(&vm, &h, 1);
    let first =
        native::enums::flip(&mut RingContext { seq: 0, clock: 0, slot: 0 }, native::enums::Op::Add);
    for raw in [0u8, 3, 4, 6, 199, 201, 255] {
        let input = input_at_zero(vec![raw], Vec::new());
        let (expected, errors) = interpreted(&h, &input);
        assert_eq!(errors, [INVALID_VALUE], "byte {raw}: interpreter errors");
        assert_eq!(expected.response, [first as u8], "byte {raw}: interpreter response");
        vm.write(b.cb, &control_block(0, 0)).unwrap();
        vm.write(b.msgs, &[raw]).unwrap();
        launch(&vm, &module, &entry, &b, 1, 1, "enums::flip");
        let (mut resp, mut cb) = (vec![0u8; rs], vec![0u8; CONTROL_BLOCK]);
        vm.read(b.resps, &mut resp).unwrap();
        vm.read(b.cb, &mut cb).unwrap();
        assert_eq!(resp, expected.response, "byte {raw}: VM response");
        assert_eq!((u32_at(&cb, CB_ERROR_CODE), u32_at(&cb, CB_ERROR_COUNT)), (INVALID_VALUE, 1));
    }

    // `run`: invalid `op` and `level` fields in a struct message, read many times, are
    // recorded once each; the state's history holds valid values.
    let h = handler("enums", "run");
    let (module, entry) = artifact(&h);
    let (b, [ss, _, rs]) = buffers(&vm, &h, 1);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..40 {
        let mut msg = random_value(&h.module, &h.msg_ty, &mut rng);
        let state = random_value(&h.module, h.state_ty.as_ref().unwrap(), &mut rng);
        // op (u8 at 0): 0, 3 or 250; level (i16 at 2): -2, 2 or 0x7fff (valid every third).
        let invalid_op = i % 3 != 2;
        let invalid_level = i % 2 == 0;
        if invalid_op {
            msg[0] = [0u8, 3, 250][i % 3];
        }
        if invalid_level {
            msg[2..4].copy_from_slice(&[-2i16, 2, 0x7fff][i % 3].to_le_bytes());
        }
        let input = input_at_zero(msg.clone(), state.clone());
        let (expected, errors) = interpreted(&h, &input);
        let invalid = usize::from(invalid_op) + usize::from(invalid_level);
        assert_eq!(
            errors.iter().filter(|&&e| e == INVALID_VALUE).count(),
            invalid,
            "case {i}: interpreter errors {errors:?}"
        );
        vm.write(b.cb, &control_block(0, 0)).unwrap();
        vm.write(b.states, &state).unwrap();
        vm.write(b.msgs, &msg).unwrap();
        launch(&vm, &module, &entry, &b, 1, 1, "enums::run");
        let (mut resp, mut st, mut cb) = (vec![0u8; rs], vec![0u8; ss], vec![0u8; CONTROL_BLOCK]);
        vm.read(b.resps, &mut resp).unwrap();
        vm.read(b.states, &mut st).unwrap();
        vm.read(b.cb, &mut cb).unwrap();
        let context = format!("case {i}, message {msg:?}");
        same(&h.module, &h.ret_ty, &resp, &expected.response)
            .unwrap_or_else(|e| panic!("{context}: response {e}"));
        same(&h.module, h.state_ty.as_ref().unwrap(), &st, &expected.state_after)
            .unwrap_or_else(|e| panic!("{context}: state {e}"));
        assert_eq!(u32_at(&cb, CB_ERROR_COUNT) as usize, errors.len(), "{context}: error count");
        assert_eq!(
            u32_at(&cb, CB_ERROR_CODE),
            errors.first().copied().unwrap_or(0),
            "{context}: first error"
        );
    }
}
