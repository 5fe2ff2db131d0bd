//! The same random message sequences to every golden kernel (`ringkernel-codegen/tests/in`)
//! and every example kernel, on `Cpu` (the macro-generated Rust handler on a host thread), on
//! `Emulated` (the build-time PTX as a persistent kernel in the PTX VM) and, where a GPU is
//! usable, on `Cuda` (the same PTX as a persistent kernel on the GPU: so PTX on the GPU is
//! checked against the VM and both against Rust), through the runtime's public API:
//! responses, failed responses, final state, processed count and the recorded errors must be
//! identical, byte for byte.
//!
//! Messages are drawn per field type from the IR (`ringkernel_codegen::dev::lower_source`):
//! NaN of both signs, ±inf, ±0, subnormals, MIN/MAX, 0, ±1, small values (zero divisors and
//! out-of-range indices among them) and random bits. The one allowance: a float cell that is
//! NaN on both sides may differ in its NaN payload (Rust leaves NaN bits unspecified and
//! x86 and the GPU produce different ones); every other bit is compared.
//!
//! A response cell holding `ctx.now()` (the actor's hybrid logical clock, `clock_at` below)
//! depends on when it ran, so it is not compared across backends; instead each backend's
//! values must be strictly increasing (the clock ticks once per read) and start after the
//! launch time.
//!
//! `transcendental_fast` is left out on purpose and says so: it asks for `fast_math`, whose
//! PTX uses `.approx` `sin`/`cos`/`ex2`/`lg2`, which are not the native functions' bits; the
//! PTX VM tests hold it to an error bound instead. Every other math call (the math library,
//! `math_f32`, `math_f64`, `transcendental`) must match bit for bit.

mod common;

use ringkernel::__private::ByteHandler;
use ringkernel::{Backend, GpuKernel, RingKernelHandler, RingMessage};
use ringkernel_codegen::ir::{FnRole, Module, Scalar, Ty};

macro_rules! golden_modules {
    ($($file:ident),* $(,)?) => {
        $(
            #[allow(dead_code, unused_imports, unused_variables, clippy::all)]
            mod $file {
                use ringkernel::{RingContext, RingMessage, device, ring_kernel, rule};
                include!(concat!(env!("OUT_DIR"), "/golden/", stringify!($file), ".rs"));
            }
        )*
    };
}

golden_modules!(
    aggregate_assign,
    array_iter,
    arrays,
    bits,
    clamp_pow,
    blocks,
    bool_logic,
    casts,
    compound_assign,
    consts,
    consts_items,
    control_if,
    counter,
    device_calls,
    enums,
    f64_math,
    float_math,
    float_methods,
    inclusive_range,
    int_arith,
    int_methods,
    labels,
    intrinsics,
    loops,
    matches,
    math_f32,
    math_f64,
    minmax,
    narrow_ints,
    nested_structs,
    rules,
    short_circuit,
    stateless_scalar,
    transcendental,
    tuples,
    tuple_values,
    wide_ints,
);

#[allow(dead_code, unused_imports, clippy::all)]
mod example_kernels {
    include!(concat!(env!("OUT_DIR"), "/examples/kernels.rs"));
}

#[allow(dead_code, unused_imports, clippy::all)]
mod example_quickstart {
    include!(concat!(env!("OUT_DIR"), "/examples/quickstart.rs"));
}

#[allow(dead_code, unused_imports, clippy::all)]
mod example_hot_swap {
    include!(concat!(env!("OUT_DIR"), "/examples/hot_swap.rs"));
}

/// Messages per kernel.
const MESSAGES: usize = 300;

/// xorshift64*: deterministic per kernel, no dependency.
struct Rng(u64);

impl Rng {
    fn seeded(name: &str) -> Self {
        Rng(name
            .bytes()
            .fold(0x9e37_79b9_7f4a_7c15, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
            | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[(self.next() % from.len() as u64) as usize]
    }
}

/// A value of scalar type `s`, little-endian, drawn as the module docs say.
fn draw(s: Scalar, rng: &mut Rng) -> Vec<u8> {
    let size = s.size() as usize;
    let bits = match s {
        Scalar::Bool => rng.next() & 1,
        Scalar::F32 => u64::from(match rng.next() % 4 {
            0 | 1 => rng.pick(&[
                0x7fc0_0000u32,
                0xffc0_0000,
                0x7f80_0000,
                0xff80_0000,
                0,
                0x8000_0000,
                1,
                0x8000_0001,
                0x007f_ffff,
                0x0080_0000,
                0x7f7f_ffff,
                0xff7f_ffff,
                0x3f80_0000,
                0xbfc0_0000,
                0x4f00_0000,
                0xcf00_0000,
                0x5f00_0000,
            ]),
            2 => rng.next() as u32,
            _ => ((rng.next() % 2001) as f32 / 8.0 - 125.0).to_bits(),
        }),
        Scalar::F64 => match rng.next() % 4 {
            0 | 1 => rng.pick(&[
                0x7ff8_0000_0000_0000u64,
                0xfff8_0000_0000_0000,
                0x7ff0_0000_0000_0000,
                0xfff0_0000_0000_0000,
                0,
                0x8000_0000_0000_0000,
                1,
                0x000f_ffff_ffff_ffff,
                0x0010_0000_0000_0000,
                0x7fef_ffff_ffff_ffff,
                0xffef_ffff_ffff_ffff,
                0x3ff0_0000_0000_0000,
                0x43e0_0000_0000_0000,
                0xc3e0_0000_0000_0000,
                0x41e0_0000_0000_0000,
            ]),
            2 => rng.next(),
            _ => ((rng.next() % 2001) as f64 / 8.0 - 125.0).to_bits(),
        },
        _ => {
            let width = size as u32 * 8;
            let top = 1u64 << (width - 1);
            match rng.next() % 4 {
                // 0, ±1, MIN, MAX of both signednesses, small values.
                0 | 1 => rng.pick(&[0, 1, u64::MAX, top, top - 1, 2, 3, 7, 16, 255, 256]),
                2 => rng.next(),
                _ => rng.next() % 64,
            }
        }
    };
    bits.to_le_bytes()[..size].to_vec()
}

/// The handler `name`'s message, response and state types in the IR of `source`.
struct Shapes {
    module: Module,
    message: Ty,
    response: Ty,
    state: Option<Ty>,
}

fn shapes(source: &str, name: &str) -> Shapes {
    let (module, handlers) = ringkernel_codegen::dev::lower_source(source)
        .unwrap_or_else(|d| panic!("{name}: the source does not lower: {d}"));
    let id = handlers
        .iter()
        .map(|(_, id)| *id)
        .find(|id| module.function(*id).name == name)
        .unwrap_or_else(|| panic!("no handler `{name}`"));
    let f = module.function(id);
    let FnRole::Handler { state, message } = &f.role else { panic!("`{name}` is no handler") };
    let (message, response) = (f.local(*message).ty.clone(), f.ret.clone());
    let state = state.map(|s| f.local(s).ty.clone());
    Shapes { module, message, response, state }
}

/// Equal bytes, except NaN payloads in float cells (see the module docs).
fn same_bits(
    module: &Module,
    ty: &Ty,
    cpu: &[u8],
    emulated: &[u8],
    clock_at: &[u32],
) -> Result<(), String> {
    if cpu.len() != emulated.len() {
        return Err(format!("{} bytes on the CPU, {} on the device", cpu.len(), emulated.len()));
    }
    if let Some((offset, s)) =
        ringkernel_codegen::dev::first_difference(module, ty, cpu, emulated, clock_at)
    {
        let range = offset as usize..(offset + s.size()) as usize;
        let (x, y) = (&cpu[range.clone()], &emulated[range]);
        return Err(format!("{s:?} at offset {offset}: cpu {x:?}, device {y:?}"));
    }
    Ok(())
}

/// What one backend made of the sequence.
struct Run {
    responses: Vec<(u64, Result<Vec<u8>, String>)>,
    state: Vec<u8>,
    processed: u64,
    errors: u32,
    first_error: u32,
}

fn run<K, M, R>(backend: Backend, messages: &[M]) -> Run
where
    K: GpuKernel + ByteHandler + RingKernelHandler<M, R> + Default + 'static,
    M: RingMessage + Clone,
    R: RingMessage,
{
    let rt = common::runtime(backend);
    let handle = rt.launch(K::default()).unwrap_or_else(|e| panic!("{backend}: {e}"));
    let mut responses = Vec::with_capacity(messages.len());
    let mut batch = Vec::new();
    let mut sent = 0;
    while responses.len() < messages.len() {
        sent += handle.send_batch(&messages[sent..]).unwrap();
        batch.clear();
        handle.receive_batch(&mut batch, 64);
        for response in batch.drain(..) {
            responses.push(match response {
                Ok(r) => (r.sequence, Ok(r.value.to_bytes())),
                Err(e) => (u64::MAX, Err(e.to_string())),
            });
        }
        std::thread::yield_now();
    }
    let report = handle.terminate();
    let metrics = handle.metrics();
    Run {
        responses,
        state: handle.final_state().expect("terminated"),
        processed: report.processed,
        errors: metrics.errors,
        first_error: metrics.first_error,
    }
}

fn differential<K, M, R>(source: &str, name: &str, clock_at: &[u32])
where
    K: GpuKernel + ByteHandler + RingKernelHandler<M, R> + Default + 'static,
    M: RingMessage + Clone,
    R: RingMessage,
{
    let shapes = shapes(source, name);
    let message_cells = shapes.module.scalar_cells(&shapes.message);
    let enum_cells = shapes.module.enum_cells(&shapes.message);
    let mut rng = Rng::seeded(name);
    let messages: Vec<M> = (0..MESSAGES)
        .map(|_| {
            let mut bytes = vec![0u8; M::LAYOUT.size as usize];
            for (offset, s) in &message_cells {
                let value = draw(*s, &mut rng);
                bytes[*offset as usize..*offset as usize + value.len()].copy_from_slice(&value);
            }
            // An enum field holds one of its variants (a Rust value can hold nothing else).
            for (offset, enum_name, s) in &enum_cells {
                let variants = &shapes.module.enums[enum_name].variants;
                let discriminants: Vec<i128> = variants.iter().map(|v| v.1).collect();
                let pick = rng.pick(&discriminants) as u64;
                let (at, n) = (*offset as usize, s.size() as usize);
                bytes[at..at + n].copy_from_slice(&pick.to_le_bytes()[..n]);
            }
            M::decode(&bytes).unwrap_or_else(|e| panic!("{name}: a drawn message: {e}"))
        })
        .collect();
    let launched =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
            as u64;
    let cpu = run::<K, M, R>(Backend::Cpu, &messages);
    let mut devices = vec![Backend::Emulated];
    match common::unavailable(Backend::Cuda) {
        None => devices.push(Backend::Cuda),
        Some(why) if std::env::var("RINGKERNEL_REQUIRE_CUDA").as_deref() == Ok("1") => {
            panic!("{name}: CUDA is required here: {why}")
        }
        Some(_) => {}
    }
    for device in devices {
        let other = run::<K, M, R>(device, &messages);
        compare(name, &shapes, &messages, clock_at, launched, &cpu, &other, device);
    }
}

#[allow(clippy::too_many_arguments)]
fn compare<M: RingMessage>(
    name: &str,
    shapes: &Shapes,
    messages: &[M],
    clock_at: &[u32],
    launched: u64,
    cpu: &Run,
    emulated: &Run,
    device: Backend,
) {
    let name = &format!("{name} ({device} vs cpu)");
    for (backend, run) in [("cpu", cpu), ("device", emulated)] {
        for &offset in clock_at {
            let at = offset as usize;
            let clock: Vec<u64> = run
                .responses
                .iter()
                .filter_map(|(_, r)| r.as_ref().ok())
                .map(|bytes| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()))
                .collect();
            assert!(
                clock.windows(2).all(|w| w[0] < w[1]),
                "{name} on {backend}: the clock went back"
            );
            assert!(
                clock[0] >> 16 >= launched,
                "{name} on {backend}: the clock starts before the launch"
            );
        }
    }
    assert_eq!(cpu.responses.len(), emulated.responses.len(), "{name}: responses");
    for (i, (c, e)) in cpu.responses.iter().zip(&emulated.responses).enumerate() {
        let context = format!("{name}: response {i} (message {:?})", messages[i].to_bytes());
        assert_eq!(c.0, e.0, "{context}: sequence");
        match (&c.1, &e.1) {
            (Ok(c), Ok(e)) => same_bits(&shapes.module, &shapes.response, c, e, clock_at)
                .unwrap_or_else(|why| panic!("{context}: {why}")),
            (c, e) => assert_eq!(c, e, "{context}"),
        }
    }
    if let Some(state) = &shapes.state {
        same_bits(&shapes.module, state, &cpu.state, &emulated.state, &[])
            .unwrap_or_else(|why| panic!("{name}: final state: {why}"));
    } else {
        assert_eq!(cpu.state, emulated.state, "{name}: a stateless kernel's state");
    }
    assert_eq!(
        (cpu.processed, cpu.errors, cpu.first_error),
        (emulated.processed, emulated.errors, emulated.first_error),
        "{name}: processed, errors, first error (cpu, emulated)"
    );
}

macro_rules! differential_tests {
    ($($test:ident: $file:literal, $kernel:path, $handler:literal $(, clock_at $clock:expr)?;)*) => {
        $(
            #[test]
            fn $test() {
                if let Some(why) = common::unavailable(Backend::Emulated) {
                    eprintln!("skipped: {why}");
                    return;
                }
                let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/", $file)).unwrap();
                let clock_at: &[u32] = &[$($clock)?];
                differential::<$kernel, _, _>(&source, $handler, clock_at);
            }
        )*
    };
}

differential_tests! {
    golden_window: "ringkernel-codegen/tests/in/aggregate_assign.rs", aggregate_assign::WindowKernel, "window";
    golden_array_iter: "ringkernel-codegen/tests/in/array_iter.rs", array_iter::SummarizeKernel, "summarize";
    golden_histogram: "ringkernel-codegen/tests/in/arrays.rs", arrays::HistogramKernel, "histogram";
    golden_bit_stats: "ringkernel-codegen/tests/in/bits.rs", bits::BitStatsKernel, "bit_stats";
    golden_clamp_pow: "ringkernel-codegen/tests/in/clamp_pow.rs", clamp_pow::ClampPowKernel, "clamp_pow";
    golden_signed_root: "ringkernel-codegen/tests/in/clamp_pow.rs", clamp_pow::SignedRootKernel, "signed_root";
    golden_blocks: "ringkernel-codegen/tests/in/blocks.rs", blocks::BlocksKernel, "blocks";
    golden_bool_logic: "ringkernel-codegen/tests/in/bool_logic.rs", bool_logic::BoolLogicKernel, "bool_logic";
    golden_casts: "ringkernel-codegen/tests/in/casts.rs", casts::CastsKernel, "casts";
    golden_compound: "ringkernel-codegen/tests/in/compound_assign.rs", compound_assign::CompoundKernel, "compound";
    golden_constants: "ringkernel-codegen/tests/in/consts.rs", consts::ConstantsKernel, "constants";
    golden_const_items: "ringkernel-codegen/tests/in/consts_items.rs", consts_items::LookUpKernel, "look_up";
    golden_classify: "ringkernel-codegen/tests/in/control_if.rs", control_if::ClassifyKernel, "classify";
    golden_count: "ringkernel-codegen/tests/in/counter.rs", counter::CountKernel, "count";
    golden_device_calls: "ringkernel-codegen/tests/in/device_calls.rs", device_calls::DeviceCallsKernel, "device_calls";
    golden_enums: "ringkernel-codegen/tests/in/enums.rs", enums::RunKernel, "run";
    golden_enum_message: "ringkernel-codegen/tests/in/enums.rs", enums::FlipKernel, "flip";
    golden_weighted: "ringkernel-codegen/tests/in/f64_math.rs", f64_math::WeightedKernel, "weighted";
    golden_float_math: "ringkernel-codegen/tests/in/float_math.rs", float_math::FloatMathKernel, "float_math";
    golden_float_methods: "ringkernel-codegen/tests/in/float_methods.rs", float_methods::FloatMethodsKernel, "float_methods";
    golden_int_methods: "ringkernel-codegen/tests/in/int_methods.rs", int_methods::IntMethodsKernel, "int_methods";
    golden_inclusive: "ringkernel-codegen/tests/in/inclusive_range.rs", inclusive_range::InclusiveKernel, "inclusive";
    golden_int_arith: "ringkernel-codegen/tests/in/int_arith.rs", int_arith::IntArithKernel, "int_arith";
    golden_stamp: "ringkernel-codegen/tests/in/intrinsics.rs", intrinsics::StampKernel, "stamp", clock_at 8;
    golden_labels: "ringkernel-codegen/tests/in/labels.rs", labels::SearchKernel, "search";
    golden_break_value: "ringkernel-codegen/tests/in/labels.rs", labels::FirstHitKernel, "first_hit";
    golden_collatz: "ringkernel-codegen/tests/in/loops.rs", loops::CollatzKernel, "collatz";
    golden_first_divisor: "ringkernel-codegen/tests/in/loops.rs", loops::FirstDivisorKernel, "first_divisor";
    golden_count_pairs: "ringkernel-codegen/tests/in/loops.rs", loops::CountPairsKernel, "count_pairs";
    golden_match_decode: "ringkernel-codegen/tests/in/matches.rs", matches::DecodeKernel, "decode";
    golden_match_early: "ringkernel-codegen/tests/in/matches.rs", matches::EarlyKernel, "early";
    golden_math_f32: "ringkernel-codegen/tests/in/math_f32.rs", math_f32::MathF32Kernel, "math_f32";
    golden_math_f64: "ringkernel-codegen/tests/in/math_f64.rs", math_f64::MathF64Kernel, "math_f64";
    golden_transcendental: "ringkernel-codegen/tests/in/transcendental.rs", transcendental::TranscendentalKernel, "transcendental";
    golden_tuples: "ringkernel-codegen/tests/in/tuples.rs", tuples::TuplesKernel, "tuples";
    golden_tuple_values: "ringkernel-codegen/tests/in/tuple_values.rs", tuple_values::TupleValuesKernel, "tuple_values";
    golden_clamp_all: "ringkernel-codegen/tests/in/minmax.rs", minmax::ClampAllKernel, "clamp_all";
    golden_narrow: "ringkernel-codegen/tests/in/narrow_ints.rs", narrow_ints::NarrowKernel, "narrow";
    golden_path_length: "ringkernel-codegen/tests/in/nested_structs.rs", nested_structs::PathLengthKernel, "path_length";
    golden_fraud_score_v1: "ringkernel-codegen/tests/in/rules.rs", rules::FraudScoreV1Rule, "fraud_score_v1";
    golden_fraud_score_v2: "ringkernel-codegen/tests/in/rules.rs", rules::FraudScoreV2Rule, "fraud_score_v2";
    golden_short_circuit: "ringkernel-codegen/tests/in/short_circuit.rs", short_circuit::ShortCircuitKernel, "short_circuit";
    golden_echo_plus_one: "ringkernel-codegen/tests/in/stateless_scalar.rs", stateless_scalar::EchoPlusOneKernel, "echo_plus_one";
    golden_wide: "ringkernel-codegen/tests/in/wide_ints.rs", wide_ints::WideKernel, "wide";
    example_ledger: "examples/kernels.rs", example_kernels::PostKernel, "post";
    example_risk_v1: "examples/kernels.rs", example_kernels::RiskV1Rule, "risk_v1";
    example_risk_v2: "examples/kernels.rs", example_kernels::RiskV2Rule, "risk_v2";
    example_moving_average: "examples/quickstart.rs", example_quickstart::AverageKernel, "average";
    example_pricing_v1: "examples/hot_swap.rs", example_hot_swap::PricingV1Rule, "pricing_v1";
    example_pricing_v2: "examples/hot_swap.rs", example_hot_swap::PricingV2Rule, "pricing_v2";
    example_pricing_v3: "examples/hot_swap.rs", example_hot_swap::PricingV3Rule, "pricing_v3";
}
