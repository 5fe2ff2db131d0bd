//! The reference interpreter of the IR against rustc: every golden kernel runs on random
//! inputs both natively (the same source compiled as plain Rust, see build.rs) and through
//! the front end + interpreter; responses, state and intrinsics must agree bit for bit.
//!
//! Native Rust panics where the DSL defines a result (overflow in debug builds, division by
//! zero, out-of-bounds index); such inputs are skipped and counted, and each kernel must run
//! natively on enough inputs for the comparison to mean something.

use std::panic::{AssertUnwindSafe, catch_unwind};

use ringkernel_codegen::dev::{Context, lower_source, run_handler};
use ringkernel_codegen::ir::{Module, Scalar, Ty};

#[allow(unused, clippy::all, non_camel_case_types, dead_code)]
mod native {
    pub struct RingContext {
        pub seq: u64,
        pub clock: u64,
        pub slot: u32,
    }

    impl RingContext {
        pub fn message_seq(&self) -> u64 {
            self.seq
        }
        pub fn now(&mut self) -> u64 {
            self.clock = self.clock.wrapping_add(1);
            self.clock
        }
        pub fn kernel_slot(&self) -> u32 {
            self.slot
        }
    }

    macro_rules! twins {
        ($($name:ident),*) => {$(
            pub mod $name {
                include!(concat!(env!("OUT_DIR"), "/native/", stringify!($name), ".rs"));
            }
        )*};
    }

    twins!(
        aggregate_assign,
        arrays,
        bits,
        blocks,
        bool_logic,
        casts,
        compound_assign,
        control_if,
        counter,
        device_calls,
        f64_math,
        float_math,
        inclusive_range,
        int_arith,
        intrinsics,
        loops,
        minmax,
        narrow_ints,
        nested_structs,
        rules,
        short_circuit,
        stateless_scalar,
        transcendental,
        wide_ints
    );
}

use native::RingContext;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Every scalar leaf of a type: (byte offset, scalar).
fn leaves(module: &Module, ty: &Ty, base: u32, out: &mut Vec<(u32, Scalar)>) {
    match ty {
        Ty::Unit => {}
        Ty::Scalar(s) => out.push((base, *s)),
        Ty::Array(elem, n) => {
            let size = size_of_ty(module, elem);
            for i in 0..*n {
                leaves(module, elem, base + i * size, out);
            }
        }
        Ty::Struct(name) => {
            for f in &module.structs[name].fields {
                leaves(module, &Ty::from(&f.ty), base + f.offset, out);
            }
        }
    }
}

fn size_of_ty(module: &Module, ty: &Ty) -> u32 {
    match ty {
        Ty::Unit => 0,
        Ty::Scalar(s) => s.size(),
        Ty::Array(e, n) => size_of_ty(module, e) * n,
        Ty::Struct(name) => module.structs[name].size,
    }
}

/// Random bytes for a value of `ty`: mostly small numbers, some edge values and raw bits.
fn random_value(module: &Module, ty: &Ty, rng: &mut Rng) -> Vec<u8> {
    let mut bytes = vec![0u8; size_of_ty(module, ty) as usize];
    let mut cells = Vec::new();
    leaves(module, ty, 0, &mut cells);
    for (offset, s) in cells {
        let pick = rng.next() % 10;
        let raw: u64 = match s {
            Scalar::Bool => rng.next() & 1,
            Scalar::F32 => (match pick {
                0..=5 => ((rng.next() % 20_000) as f32 - 10_000.0) / 100.0,
                6 | 7 => ((rng.next() % 400) as f32 - 200.0) / 100.0,
                8 => [0.0, -0.0, 1.0, f32::NAN, f32::INFINITY, 0.5][rng.next() as usize % 6],
                _ => f32::from_bits(rng.next() as u32),
            })
            .to_bits() as u64,
            Scalar::F64 => (match pick {
                0..=5 => ((rng.next() % 20_000) as f64 - 10_000.0) / 100.0,
                6 | 7 => ((rng.next() % 400) as f64 - 200.0) / 100.0,
                8 => [0.0, -0.0, 1.0, f64::NAN, f64::NEG_INFINITY, 0.5][rng.next() as usize % 6],
                _ => f64::from_bits(rng.next()),
            })
            .to_bits(),
            _ => match pick {
                0..=5 => (rng.next() % 101).wrapping_sub(50),
                6 | 7 => [0u64, 1, u64::MAX, 2, 3][rng.next() as usize % 5],
                _ => rng.next(),
            },
        };
        let size = s.size() as usize;
        bytes[offset as usize..offset as usize + size].copy_from_slice(&raw.to_le_bytes()[..size]);
    }
    bytes
}

/// Compares two byte images at the scalar leaves of `ty` (padding ignored; NaN == NaN).
fn same(module: &Module, ty: &Ty, a: &[u8], b: &[u8]) -> Result<(), String> {
    let mut cells = Vec::new();
    leaves(module, ty, 0, &mut cells);
    for (offset, s) in cells {
        let (o, n) = (offset as usize, s.size() as usize);
        let (x, y) = (&a[o..o + n], &b[o..o + n]);
        let nan = |bytes: &[u8]| match s {
            Scalar::F32 => f32::from_le_bytes(bytes.try_into().unwrap()).is_nan(),
            Scalar::F64 => f64::from_le_bytes(bytes.try_into().unwrap()).is_nan(),
            _ => false,
        };
        if x != y && !(nan(x) && nan(y)) {
            return Err(format!(
                "{} at offset {offset}: interpreter {x:?}, native {y:?}",
                s.name()
            ));
        }
    }
    Ok(())
}

/// Reads a `T` from bytes laid out as rustc lays out `T` (bools already 0 or 1).
fn from_bytes<T: Copy>(bytes: &[u8]) -> T {
    assert_eq!(bytes.len(), std::mem::size_of::<T>());
    // SAFETY: the length matches, every field holds a valid bit pattern for its type (bools
    // are 0/1, the rest are plain integers and floats), and read_unaligned copes with any
    // alignment of the byte buffer.
    unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) }
}

/// The bytes of a `T`; padding bytes read as zero.
fn to_bytes<T: Copy>(value: T, module: &Module, ty: &Ty) -> Vec<u8> {
    let mut buffer = vec![0u8; std::mem::size_of::<T>()];
    // SAFETY: the buffer has room for a T; write_unaligned does not need alignment.
    unsafe { std::ptr::write_unaligned(buffer.as_mut_ptr().cast::<T>(), value) };
    // Only the scalar leaves are kept: padding may not have been written.
    let mut clean = vec![0u8; buffer.len()];
    let mut cells = Vec::new();
    leaves(module, ty, 0, &mut cells);
    for (offset, s) in cells {
        let (o, n) = (offset as usize, s.size() as usize);
        clean[o..o + n].copy_from_slice(&buffer[o..o + n]);
    }
    clean
}

struct Tally {
    compared: usize,
    skipped: usize,
}

/// Runs `cases` random inputs of one handler through both sides.
fn compare<S: Copy, M: Copy, R: Copy>(
    file: &str,
    fn_name: &str,
    native: impl Fn(&mut RingContext, &mut S, M) -> R,
) -> Tally {
    let src = std::fs::read_to_string(format!("{}/tests/in/{file}.rs", env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    let (module, handlers) = lower_source(&src).unwrap_or_else(|d| panic!("{file}: {d}"));
    let (_, id) = handlers
        .iter()
        .find(|(_, id)| module.function(*id).name == fn_name)
        .unwrap_or_else(|| panic!("{file}: no handler {fn_name}"));
    let f = module.function(*id);
    let ringkernel_codegen::ir::FnRole::Handler { state, message } = &f.role else {
        unreachable!()
    };
    let state_ty = state.map(|s| f.local(s).ty.clone()).unwrap_or(Ty::Unit);
    let msg_ty = f.local(*message).ty.clone();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ (file.len() as u64 * 7919));
    let mut tally = Tally { compared: 0, skipped: 0 };
    for case in 0..300 {
        let msg_bytes = random_value(&module, &msg_ty, &mut rng);
        let mut state_bytes = random_value(&module, &state_ty, &mut rng);
        let (seq, clock, slot) =
            (rng.next() % 1000, rng.next() % 1_000_000, (rng.next() % 8) as u32);

        let mut native_state: S = if state.is_some() {
            from_bytes(&state_bytes)
        } else {
            from_bytes(&[0u8; 0][..std::mem::size_of::<S>()])
        };
        let msg: M = from_bytes(&msg_bytes);
        let mut native_ctx = RingContext { seq, clock, slot };
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let native_result =
            catch_unwind(AssertUnwindSafe(|| native(&mut native_ctx, &mut native_state, msg)));
        std::panic::set_hook(hook);
        let Ok(native_response) = native_result else {
            tally.skipped += 1;
            continue;
        };

        let mut ctx = Context { message_seq: seq, clock, kernel_slot: slot, errors: Vec::new() };
        let response = run_handler(&module, *id, &mut state_bytes, &msg_bytes, &mut ctx, 1_000_000)
            .unwrap_or_else(|e| panic!("{file}::{fn_name} case {case}: {e}"));
        let context = format!("{file}::{fn_name} case {case}, message {msg_bytes:?}");
        same(&module, &f.ret, &response, &to_bytes(native_response, &module, &f.ret))
            .unwrap_or_else(|e| panic!("{context}: response {e}"));
        if state.is_some() {
            same(&module, &state_ty, &state_bytes, &to_bytes(native_state, &module, &state_ty))
                .unwrap_or_else(|e| panic!("{context}: state {e}"));
        }
        assert_eq!(ctx.clock, native_ctx.clock, "{context}: clock");
        assert!(
            ctx.errors.is_empty(),
            "{context}: the interpreter recorded {:?} where Rust did not panic",
            ctx.errors
        );
        tally.compared += 1;
    }
    tally
}

macro_rules! stateless {
    ($file:ident, $func:ident) => {
        (
            stringify!($file),
            stringify!($func),
            compare::<(), _, _>(stringify!($file), stringify!($func), |ctx, _, m| {
                native::$file::$func(ctx, m)
            }),
        )
    };
}

macro_rules! stateful {
    ($file:ident, $func:ident) => {
        (
            stringify!($file),
            stringify!($func),
            compare(stringify!($file), stringify!($func), |ctx, s, m| {
                native::$file::$func(ctx, s, m)
            }),
        )
    };
}

#[test]
fn interpreter_agrees_with_rustc_on_every_golden_kernel() {
    let results = vec![
        stateful!(aggregate_assign, window),
        stateful!(arrays, histogram),
        stateless!(bits, bit_stats),
        stateless!(blocks, blocks),
        stateless!(bool_logic, bool_logic),
        stateless!(casts, casts),
        stateful!(compound_assign, compound),
        stateless!(control_if, classify),
        stateful!(counter, count),
        stateless!(device_calls, device_calls),
        stateless!(f64_math, weighted),
        stateless!(float_math, float_math),
        stateless!(inclusive_range, inclusive),
        stateless!(int_arith, int_arith),
        stateless!(intrinsics, stamp),
        stateless!(loops, collatz),
        stateless!(loops, first_divisor),
        stateless!(loops, count_pairs),
        stateless!(minmax, clamp_all),
        stateless!(narrow_ints, narrow),
        stateful!(nested_structs, path_length),
        stateless!(rules, fraud_score_v1),
        stateless!(rules, fraud_score_v2),
        stateless!(short_circuit, short_circuit),
        stateless!(stateless_scalar, echo_plus_one),
        stateless!(transcendental, transcendental),
        stateless!(wide_ints, wide),
    ];
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
    assert_eq!(results.len(), 27);
}
