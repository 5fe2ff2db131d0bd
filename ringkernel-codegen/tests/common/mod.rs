//! Shared by the differential tests (`interp.rs`, `vm.rs`): the native twins of the golden
//! kernels (plain Rust, see build.rs), random inputs that always include the edge values
//! (NaN, ±inf, ±0, subnormals, MIN/MAX, zero divisors) and bitwise comparison of results.
#![allow(dead_code, unused_macros)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use ringkernel_codegen::dev::lower_source;
use ringkernel_codegen::ir::{FnRole, FuncId, Module, Scalar, Ty};

/// Float inputs every kernel sees: zeros of both signs, NaN, infinities, the smallest
/// normal, subnormals, the extremes, and values that round differently.
pub const EDGE_F32: [f32; 14] = [
    0.0,
    -0.0,
    1.0,
    0.5,
    -1.5,
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::MIN_POSITIVE,
    1.0e-40,
    -1.0e-45,
    f32::MAX,
    f32::MIN,
    2.5,
];
pub const EDGE_F64: [f64; 14] = [
    0.0,
    -0.0,
    1.0,
    0.5,
    -1.5,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::MIN_POSITIVE,
    1.0e-310,
    -5.0e-324,
    f64::MAX,
    f64::MIN,
    2.5,
];

pub use ringkernel_codegen_twins::native;
pub use ringkernel_codegen_twins::native::RingContext;

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Random bytes for a value of `ty`: mostly small numbers, some edge values and raw bits.
pub fn random_value(module: &Module, ty: &Ty, rng: &mut Rng) -> Vec<u8> {
    let mut bytes = vec![0u8; module.size_of(ty) as usize];
    for (offset, s) in module.scalar_cells(ty) {
        let pick = rng.next() % 10;
        let raw: u64 = match s {
            Scalar::Bool => rng.next() & 1,
            Scalar::F32 => (match pick {
                0..=5 => ((rng.next() % 20_000) as f32 - 10_000.0) / 100.0,
                6 | 7 => ((rng.next() % 400) as f32 - 200.0) / 100.0,
                8 => EDGE_F32[rng.next() as usize % EDGE_F32.len()],
                _ => f32::from_bits(rng.next() as u32),
            })
            .to_bits() as u64,
            Scalar::F64 => (match pick {
                0..=5 => ((rng.next() % 20_000) as f64 - 10_000.0) / 100.0,
                6 | 7 => ((rng.next() % 400) as f64 - 200.0) / 100.0,
                8 => EDGE_F64[rng.next() as usize % EDGE_F64.len()],
                _ => f64::from_bits(rng.next()),
            })
            .to_bits(),
            _ => match pick {
                0..=5 => (rng.next() % 101).wrapping_sub(50),
                6 | 7 => {
                    // 0, 1, -1 (all ones), MIN and MAX of the leaf's width, small divisors.
                    let bits = 8 * s.size();
                    let min = 1u64 << (bits - 1);
                    [0u64, 1, u64::MAX, 2, 3, min, min - 1, 7][rng.next() as usize % 8]
                }
                _ => rng.next(),
            },
        };
        let size = s.size() as usize;
        bytes[offset as usize..offset as usize + size].copy_from_slice(&raw.to_le_bytes()[..size]);
    }
    // An enum holds one of its variants (Rust cannot hold anything else).
    for (offset, name, s) in module.enum_cells(ty) {
        let variants = &module.enums[&name].variants;
        let value = variants[rng.next() as usize % variants.len()].1 as u64;
        let (o, n) = (offset as usize, s.size() as usize);
        bytes[o..o + n].copy_from_slice(&value.to_le_bytes()[..n]);
    }
    bytes
}

/// Compares two byte images at the scalar leaves of `ty` (padding ignored; NaN == NaN).
pub fn same(module: &Module, ty: &Ty, a: &[u8], b: &[u8]) -> Result<(), String> {
    match ringkernel_codegen::dev::first_difference(module, ty, a, b, &[]) {
        None => Ok(()),
        Some((offset, s)) => {
            let range = offset as usize..(offset + s.size()) as usize;
            Err(format!(
                "{} at offset {offset}: got {:?}, native {:?}",
                s.name(),
                &a[range.clone()],
                &b[range]
            ))
        }
    }
}

/// Reads a `T` from bytes laid out as rustc lays out `T` (bools already 0 or 1).
pub fn from_bytes<T: Copy>(bytes: &[u8]) -> T {
    assert_eq!(bytes.len(), std::mem::size_of::<T>());
    // SAFETY: the length matches, every field holds a valid bit pattern for its type (bools
    // are 0/1, the rest are plain integers and floats), and read_unaligned copes with any
    // alignment of the byte buffer.
    unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) }
}

/// The bytes of a `T`; padding bytes read as zero.
pub fn to_bytes<T: Copy>(value: T, module: &Module, ty: &Ty) -> Vec<u8> {
    let mut buffer = vec![0u8; std::mem::size_of::<T>()];
    // SAFETY: the buffer has room for a T; write_unaligned does not need alignment.
    unsafe { std::ptr::write_unaligned(buffer.as_mut_ptr().cast::<T>(), value) };
    // Only the scalar leaves are kept: padding may not have been written.
    let mut clean = vec![0u8; buffer.len()];
    for (offset, s) in module.scalar_cells(ty) {
        let (o, n) = (offset as usize, s.size() as usize);
        clean[o..o + n].copy_from_slice(&buffer[o..o + n]);
    }
    clean
}

/// One golden handler, lowered to the IR for its types.
pub struct Handler {
    pub file: String,
    pub name: String,
    pub source: String,
    pub module: Module,
    pub id: FuncId,
    pub state_ty: Option<Ty>,
    pub msg_ty: Ty,
    pub ret_ty: Ty,
    /// The handler's `max_steps` budget.
    pub max_steps: u32,
}

pub fn handler(file: &str, fn_name: &str) -> Handler {
    let source =
        std::fs::read_to_string(format!("{}/tests/in/{file}.rs", env!("CARGO_MANIFEST_DIR")))
            .unwrap();
    let (module, handlers) = lower_source(&source).unwrap_or_else(|d| panic!("{file}: {d}"));
    let (max_steps, id) = handlers
        .iter()
        .map(|(attrs, id)| (attrs.max_steps, *id))
        .find(|(_, id)| module.function(*id).name == fn_name)
        .unwrap_or_else(|| panic!("{file}: no handler {fn_name}"));
    let f = module.function(id);
    let FnRole::Handler { state, message } = &f.role else { unreachable!() };
    let state_ty = state.map(|s| f.local(s).ty.clone());
    let msg_ty = f.local(*message).ty.clone();
    let ret_ty = f.ret.clone();
    Handler {
        file: file.into(),
        name: fn_name.into(),
        source,
        module,
        id,
        state_ty,
        msg_ty,
        ret_ty,
        max_steps,
    }
}

/// One input and what native Rust made of it.
pub struct Case {
    pub msg: Vec<u8>,
    pub state: Vec<u8>,
    pub seq: u64,
    pub clock: u64,
    pub slot: u32,
    pub response: Vec<u8>,
    pub state_after: Vec<u8>,
    pub clock_after: u64,
}

/// Runs the native twin on one input; `None` where Rust panics (overflow in debug builds,
/// division by zero, out-of-bounds index: inputs whose DSL result Rust does not define).
pub fn run_native<S: Copy, M: Copy, R: Copy>(
    h: &Handler,
    native: &impl Fn(&mut RingContext, &mut S, M) -> R,
    msg: &[u8],
    state: &[u8],
    (seq, clock, slot): (u64, u64, u32),
) -> Option<Case> {
    let mut native_state: S = if h.state_ty.is_some() {
        from_bytes(state)
    } else {
        from_bytes(&[0u8; 0][..std::mem::size_of::<S>()])
    };
    let m: M = from_bytes(msg);
    let mut ctx = RingContext { seq, clock, slot };
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(|| native(&mut ctx, &mut native_state, m)));
    std::panic::set_hook(hook);
    let response = result.ok()?;
    let state_after = match &h.state_ty {
        Some(ty) => to_bytes(native_state, &h.module, ty),
        None => Vec::new(),
    };
    Some(Case {
        msg: msg.to_vec(),
        state: state.to_vec(),
        seq,
        clock,
        slot,
        response: to_bytes(response, &h.module, &h.ret_ty),
        state_after,
        clock_after: ctx.clock,
    })
}

/// `count` random inputs of a handler with native results, and the inputs on which Rust
/// panicked (results left empty). `fixed_seq` replaces the random message sequence number.
pub fn native_cases<S: Copy, M: Copy, R: Copy>(
    h: &Handler,
    count: usize,
    fixed_seq: Option<u64>,
    native: &impl Fn(&mut RingContext, &mut S, M) -> R,
) -> (Vec<Case>, Vec<Case>) {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ (h.file.len() as u64 * 7919));
    let (mut cases, mut panicked) = (Vec::new(), Vec::new());
    for _ in 0..count {
        let msg = random_value(&h.module, &h.msg_ty, &mut rng);
        let state = random_value(&h.module, h.state_ty.as_ref().unwrap_or(&Ty::Unit), &mut rng);
        let (seq, clock, slot) =
            (rng.next() % 1000, rng.next() % 1_000_000, (rng.next() % 8) as u32);
        let seq = fixed_seq.unwrap_or(seq);
        match run_native(h, native, &msg, &state, (seq, clock, slot)) {
            Some(case) => cases.push(case),
            None => panicked.push(Case {
                msg,
                state,
                seq,
                clock,
                slot,
                response: Vec::new(),
                state_after: Vec::new(),
                clock_after: clock,
            }),
        }
    }
    (cases, panicked)
}

/// Where Rust panics the DSL still defines a result (division by zero gives 0, an index out
/// of bounds reads 0 and drops writes, both recorded): the IR interpreter's result for such
/// an input, with the error codes it recorded in order.
pub fn interpreted(h: &Handler, input: &Case) -> (Case, Vec<u32>) {
    let mut state = input.state.clone();
    let mut ctx = ringkernel_codegen::dev::Context {
        message_seq: input.seq,
        clock: input.clock,
        kernel_slot: input.slot,
        budget: Some(h.max_steps),
        ..Default::default()
    };
    let response = ringkernel_codegen::dev::run_handler(
        &h.module, h.id, &mut state, &input.msg, &mut ctx, 1_000_000,
    )
    .unwrap_or_else(|e| panic!("{}::{}: the interpreter failed: {e}", h.file, h.name));
    let case = Case {
        msg: input.msg.clone(),
        state: input.state.clone(),
        seq: input.seq,
        clock: input.clock,
        slot: input.slot,
        response,
        state_after: if h.state_ty.is_some() { state } else { Vec::new() },
        clock_after: ctx.clock,
    };
    (case, ctx.errors)
}

/// Every golden handler except `transcendental_fast` (whose PTX is approximate, see vm.rs), as a
/// `vec!` of `$stateless!(file, function)` / `$stateful!(file, function)` expansions.
macro_rules! golden_handlers {
    ($stateless:ident, $stateful:ident) => {
        vec![
            $stateful!(aggregate_assign, window),
            $stateless!(array_iter, summarize),
            $stateful!(arrays, histogram),
            $stateless!(bits, bit_stats),
            $stateless!(clamp_pow, clamp_pow),
            $stateless!(clamp_pow, signed_root),
            $stateless!(blocks, blocks),
            $stateless!(bool_logic, bool_logic),
            $stateless!(casts, casts),
            $stateful!(compound_assign, compound),
            $stateless!(consts, constants),
            $stateless!(consts_items, look_up),
            $stateless!(control_if, classify),
            $stateful!(counter, count),
            $stateless!(device_calls, device_calls),
            $stateful!(enums, run),
            $stateless!(enums, flip),
            $stateless!(f64_math, weighted),
            $stateless!(float_math, float_math),
            $stateless!(float_methods, float_methods),
            $stateless!(inclusive_range, inclusive),
            $stateless!(int_arith, int_arith),
            $stateless!(int_methods, int_methods),
            $stateless!(intrinsics, stamp),
            $stateless!(labels, search),
            $stateless!(labels, first_hit),
            $stateless!(loops, collatz),
            $stateless!(loops, first_divisor),
            $stateless!(loops, count_pairs),
            $stateless!(math_f32, math_f32),
            $stateless!(math_f64, math_f64),
            $stateless!(matches, decode),
            $stateless!(matches, early),
            $stateless!(minmax, clamp_all),
            $stateless!(narrow_ints, narrow),
            $stateful!(nested_structs, path_length),
            $stateless!(rules, fraud_score_v1),
            $stateless!(rules, fraud_score_v2),
            $stateless!(short_circuit, short_circuit),
            $stateless!(stateless_scalar, echo_plus_one),
            $stateless!(transcendental, transcendental),
            $stateless!(tuples, tuples),
            $stateless!(tuple_values, tuple_values),
            $stateless!(wide_ints, wide),
        ]
    };
}

/// `(file, function, compare(...))` for a stateless handler: `compare` is the calling test's.
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
