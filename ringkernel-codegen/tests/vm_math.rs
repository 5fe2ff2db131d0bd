//! The math library in the PTX VM against the same library natively: every function, f64 and
//! f32, on the accuracy sweep's special values (each pair of them for the binary functions)
//! and on random bit patterns and ordinary magnitudes, bit for bit (two NaNs count as equal
//! whatever their payloads). One batch launch per type runs every input.

#[macro_use]
mod common;
#[path = "common/ulp.rs"]
mod ulp;

use common::*;
use ringkernel_codegen::{Options, compile_source};
use ringkernel_codegen_twins::native::{math_f32, math_f64};
use ringkernel_ptx::{Arg, Dims, Module, Vm};

/// `(op, x, y)` for every function: the special pairs, then random bits and magnitudes.
fn inputs() -> Vec<(u32, f64, f64)> {
    let mut rng = Rng(0x0005_eed0_f4a7);
    let mut out = Vec::new();
    for op in 0..24u32 {
        for &x in &ulp::SPECIALS {
            for &y in &ulp::SPECIALS {
                out.push((op, x, y));
            }
        }
        for i in 0..300 {
            let value = |rng: &mut Rng| match i % 3 {
                0 => f64::from_bits(rng.next()),
                1 => (rng.next() % 2_000_000) as f64 / 1000.0 - 1000.0,
                _ => (rng.next() as i64 as f64) / 9.2e18 * 4.0,
            };
            let (x, y) = (value(&mut rng), value(&mut rng));
            out.push((op, x, y));
        }
    }
    out
}

fn run_batch(file: &str, messages: &[u8], message_size: usize, response_size: usize) -> Vec<u8> {
    let h = handler(file, file);
    let artifacts =
        compile_source(&h.source, &Options::default()).unwrap_or_else(|d| panic!("{file}: {d}"));
    let artifact = &artifacts[0];
    let module = Module::parse(&artifact.ptx).unwrap_or_else(|e| panic!("{file}: {e}"));
    let n = messages.len() / message_size;
    let vm = Vm::new();
    let cb = vm.alloc(128).unwrap();
    let states = vm.alloc(8).unwrap();
    let msgs = vm.alloc(messages.len()).unwrap();
    let resps = vm.alloc(n * response_size).unwrap();
    vm.write(cb, &[0u8; 128]).unwrap();
    vm.write(msgs, messages).unwrap();
    let args =
        [Arg::U64(cb), Arg::U64(states), Arg::U64(msgs), Arg::U64(resps), Arg::U32(n as u32)];
    vm.launch(
        &module,
        &artifact.metadata.entries.batch,
        Dims::linear((n as u32).div_ceil(64), 64),
        &args,
    )
    .unwrap_or_else(|f| panic!("{file}: the VM faulted: {f}"));
    let mut out = vec![0u8; n * response_size];
    vm.read(resps, &mut out).unwrap();
    out
}

fn name(op: u32) -> &'static str {
    ringkernel_codegen::math::METHODS[op as usize].0
}

#[test]
fn every_f64_function_in_the_vm_is_bit_identical_to_native() {
    let cases = inputs();
    let mut messages = Vec::new();
    for &(op, x, y) in &cases {
        messages.extend_from_slice(&op.to_le_bytes());
        messages.extend_from_slice(&[0u8; 4]);
        messages.extend_from_slice(&x.to_le_bytes());
        messages.extend_from_slice(&y.to_le_bytes());
    }
    let out = run_batch("math_f64", &messages, 24, 8);
    let mut ctx = native::RingContext { seq: 0, clock: 0, slot: 0 };
    for (i, &(op, x, y)) in cases.iter().enumerate() {
        let want = math_f64::math_f64(&mut ctx, math_f64::MathCall64 { op, x, y });
        let got = f64::from_le_bytes(out[i * 8..i * 8 + 8].try_into().unwrap());
        assert!(
            got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
            "{}({x:e}, {y:e}): VM {got:e} ({:#x}), native {want:e} ({:#x})",
            name(op),
            got.to_bits(),
            want.to_bits()
        );
    }
    let sin_one = cases.iter().position(|&c| c == (7, 1.0, 1.0)).unwrap();
    let got = f64::from_le_bytes(out[sin_one * 8..sin_one * 8 + 8].try_into().unwrap());
    assert_eq!(got, 0.8414709848078965, "sin(1) in the VM");
    println!("math_f64: {} inputs bit-identical", cases.len());
}

#[test]
fn every_f32_function_in_the_vm_is_bit_identical_to_native() {
    let cases: Vec<(u32, f32, f32)> =
        inputs().into_iter().map(|(op, x, y)| (op, x as f32, y as f32)).collect();
    let mut messages = Vec::new();
    for &(op, x, y) in &cases {
        messages.extend_from_slice(&op.to_le_bytes());
        messages.extend_from_slice(&x.to_le_bytes());
        messages.extend_from_slice(&y.to_le_bytes());
    }
    let out = run_batch("math_f32", &messages, 12, 4);
    let mut ctx = native::RingContext { seq: 0, clock: 0, slot: 0 };
    for (i, &(op, x, y)) in cases.iter().enumerate() {
        let want = math_f32::math_f32(&mut ctx, math_f32::MathCall32 { op, x, y });
        let got = f32::from_le_bytes(out[i * 4..i * 4 + 4].try_into().unwrap());
        assert!(
            got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
            "{}({x:e}, {y:e}): VM {got:e}, native {want:e}",
            name(op)
        );
    }
    println!("math_f32: {} inputs bit-identical", cases.len());
}
