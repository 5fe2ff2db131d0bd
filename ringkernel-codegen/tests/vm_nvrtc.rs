//! PTX that another compiler wrote, run in the PTX VM: `scripts/sass/kernels.cu` (CUDA C
//! twins of six golden kernels) compiled by NVRTC 12.9 (PyPI's `nvidia-cuda-nvrtc-cu12`,
//! through `scripts/nvrtc/nvrtc_ptx.py`), each batch kernel run on the golden kernel's random
//! inputs: the responses must equal native Rust's and those of our own PTX, bit for bit.
//!
//! Needs python3 and libnvrtc (`$RINGKERNEL_NVRTC` or `.venv`); without them the test prints
//! why it skipped, and fails instead when `RINGKERNEL_REQUIRE_NVRTC=1` (as in CI).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use ringkernel_codegen::abi::offsets::CB_ERROR_COUNT;
use ringkernel_codegen::{Options, compile_source};
use ringkernel_ptx::{Arg, Dims, Module, Vm};

/// NVRTC's PTX for a `.cu` file under the repository root, parsed by the VM; `None` (with
/// the reason printed) where NVRTC is unavailable and not required.
fn nvrtc(file: &str) -> Option<Module> {
    nvrtc_with(file, &[])
}

/// As [`nvrtc`], with extra NVRTC options.
fn nvrtc_with(file: &str, options: &[&str]) -> Option<Module> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = Command::new("python3")
        .arg(root.join("scripts/nvrtc/nvrtc_ptx.py"))
        .arg(root.join(file))
        .arg("sm_70")
        .args(options)
        .current_dir(root)
        .output();
    let why = match out {
        Ok(o) if o.status.success() => {
            let ptx = String::from_utf8(o.stdout).expect("PTX is text");
            return Some(
                Module::parse(&ptx)
                    .unwrap_or_else(|e| panic!("the VM rejects NVRTC's PTX of {file}: {e}")),
            );
        }
        Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
        Err(e) => format!("cannot run python3: {e}"),
    };
    if std::env::var("RINGKERNEL_REQUIRE_NVRTC").is_ok_and(|v| v == "1") {
        panic!("NVRTC is required (RINGKERNEL_REQUIRE_NVRTC=1) but unavailable: {why}");
    }
    println!("skipped: NVRTC unavailable ({why}); install nvidia-cuda-nvrtc-cu12 into .venv");
    None
}

fn nvrtc_module() -> Option<Module> {
    nvrtc("scripts/sass/kernels.cu")
}

/// Runs `entry` of `module` over all inputs at once; returns the responses.
fn run_batch(vm: &Vm, module: &Module, entry: &str, h: &Handler, cases: &[Case]) -> Vec<u8> {
    let (ms, rs) = (h.module.size_of(&h.msg_ty) as usize, h.module.size_of(&h.ret_ty) as usize);
    let n = cases.len();
    let cb = vm.alloc(128).unwrap();
    let states = vm.alloc(8).unwrap();
    let msgs = vm.alloc(ms * n).unwrap();
    let resps = vm.alloc(rs * n).unwrap();
    let bytes: Vec<u8> = cases.iter().flat_map(|c| c.msg.iter().copied()).collect();
    vm.write(msgs, &bytes).unwrap();
    let args =
        [Arg::U64(cb), Arg::U64(states), Arg::U64(msgs), Arg::U64(resps), Arg::U32(n as u32)];
    vm.launch(module, entry, Dims::linear((n as u32).div_ceil(128), 128), &args)
        .unwrap_or_else(|f| panic!("{entry}: {f}"));
    let mut out = vec![0u8; rs * n];
    vm.read(resps, &mut out).unwrap();
    let mut errors = [0u8; 4];
    vm.read(cb + u64::from(CB_ERROR_COUNT), &mut errors).unwrap();
    assert_eq!(u32::from_le_bytes(errors), 0, "{entry}: errors recorded");
    out
}

fn compare<M: Copy, R: Copy>(
    nvrtc: &Module,
    file: &str,
    name: &str,
    native: impl Fn(&mut RingContext, M) -> R,
) -> usize {
    let h = handler(file, name);
    // Message i runs as thread i: native Rust sees sequence number i too.
    let (all, _) =
        native_cases(&h, 300, None, &|ctx: &mut RingContext, _: &mut (), m: M| native(ctx, m));
    let cases: Vec<Case> = all
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            run_native(
                &h,
                &|ctx: &mut RingContext, _: &mut (), m: M| native(ctx, m),
                &c.msg,
                &[],
                (i as u64, 0, 0),
            )
        })
        .collect();
    let ours = compile_source(&h.source, &Options::default()).unwrap();
    let ours =
        ours.iter().find(|a| a.metadata.entries.handler == format!("{name}_handler")).unwrap();
    let ours_module = Module::parse(&ours.ptx).unwrap();
    let vm = Vm::new();
    let entry = format!("{name}_batch");
    let theirs = run_batch(&vm, nvrtc, &entry, &h, &cases);
    let mine = run_batch(&vm, &ours_module, &entry, &h, &cases);
    let rs = h.module.size_of(&h.ret_ty) as usize;
    for (i, c) in cases.iter().enumerate() {
        let context = format!("{name} message {i} {:?}", c.msg);
        same(&h.module, &h.ret_ty, &theirs[i * rs..(i + 1) * rs], &c.response)
            .unwrap_or_else(|e| panic!("{context}: NVRTC's PTX in the VM vs native: {e}"));
        same(&h.module, &h.ret_ty, &mine[i * rs..(i + 1) * rs], &c.response)
            .unwrap_or_else(|e| panic!("{context}: our PTX in the VM vs native: {e}"));
    }
    cases.len()
}

#[test]
fn nvrtc_twins_give_the_same_results_as_rust_and_our_ptx() {
    let Some(nvrtc) = nvrtc_module() else { return };
    let counts = [
        compare(
            &nvrtc,
            "stateless_scalar",
            "echo_plus_one",
            native::stateless_scalar::echo_plus_one,
        ),
        compare(&nvrtc, "control_if", "classify", native::control_if::classify),
        compare(&nvrtc, "loops", "collatz", native::loops::collatz),
        compare(&nvrtc, "device_calls", "device_calls", native::device_calls::device_calls),
        compare(&nvrtc, "float_math", "float_math", native::float_math::float_math),
        compare(&nvrtc, "bits", "bit_stats", native::bits::bit_stats),
    ];
    println!("inputs compared per kernel: {counts:?}");
    assert!(counts.iter().all(|&n| n >= 30), "too few inputs ran natively: {counts:?}");
}

fn u32s(vm: &Vm, address: u64, n: usize) -> Vec<u32> {
    let mut bytes = vec![0u8; 4 * n];
    vm.read(address, &mut bytes).unwrap();
    bytes.chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect()
}

/// NVRTC's shared-memory, `__syncthreads`, `__shfl_down_sync`, `__ballot_sync` and atomic
/// code (`scripts/nvrtc/collectives.cu`) against the same computations in Rust.
#[test]
fn nvrtc_collectives_shared_memory_and_atomics_agree_with_rust() {
    // With line information (`.file`/`.loc` between the instructions), and unoptimised with
    // debug information (`-G`).
    for options in [&["--generate-line-info"][..], &["-G"][..]] {
        let Some(m) = nvrtc_with("scripts/nvrtc/collectives.cu", options) else { return };
        check_collectives(&m);
    }
}

fn check_collectives(m: &Module) {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for (n, block) in [(10_000u32, 256u32), (1_000, 96), (33, 32)] {
        let x: Vec<u32> = (0..n).map(|_| (rng.next() % 1_000_000) as u32).collect();
        let vm = Vm::new();
        let xs = vm.alloc(4 * n as usize).unwrap();
        vm.write(xs, &x.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>()).unwrap();
        let total = vm.alloc(8).unwrap();
        let grid = n.div_ceil(block);
        vm.launch(
            m,
            "block_sum",
            Dims::linear(grid, block),
            &[Arg::U64(xs), Arg::U32(n), Arg::U64(total)],
        )
        .unwrap_or_else(|f| panic!("block_sum n={n} block={block}: {f}"));
        let mut got = [0u8; 8];
        vm.read(total, &mut got).unwrap();
        let want: u64 = x.iter().map(|&v| u64::from(v)).sum();
        assert_eq!(u64::from_le_bytes(got), want, "block_sum n={n} block={block}");
    }
    // warp_stats scans 256 threads per block in shared memory.
    let n = 1_000u32;
    let x: Vec<u32> = (0..n).map(|_| (rng.next() % 50) as u32).collect();
    let vm = Vm::new();
    let xs = vm.alloc(4 * n as usize).unwrap();
    vm.write(xs, &x.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>()).unwrap();
    let (odd, prefix) = (vm.alloc(4 * n as usize).unwrap(), vm.alloc(4 * n as usize).unwrap());
    let blocks = n.div_ceil(256);
    let maxima = vm.alloc(4 * blocks as usize).unwrap();
    let args = [Arg::U64(xs), Arg::U32(n), Arg::U64(odd), Arg::U64(prefix), Arg::U64(maxima)];
    vm.launch(m, "warp_stats", Dims::linear(blocks, 256), &args)
        .unwrap_or_else(|f| panic!("warp_stats: {f}"));
    let (odd, prefix, maxima) = (
        u32s(&vm, odd, n as usize),
        u32s(&vm, prefix, n as usize),
        u32s(&vm, maxima, blocks as usize),
    );
    for i in 0..n as usize {
        let warp = i / 32 * 32;
        let lanes = &x[warp..(warp + 32).min(n as usize)];
        assert_eq!(odd[i], lanes.iter().filter(|v| *v & 1 == 1).count() as u32, "odd lanes at {i}");
        let block = i / 256 * 256;
        assert_eq!(prefix[i], x[block..=i].iter().sum::<u32>(), "prefix at {i}");
    }
    for (b, max) in maxima.iter().enumerate() {
        assert_eq!(
            *max,
            *x[b * 256..((b + 1) * 256).min(n as usize)].iter().max().unwrap(),
            "block {b} max"
        );
    }
}

/// Device-side `printf` in NVRTC's PTX (a call to `vprintf`) is formatted by the VM.
#[test]
fn nvrtc_printf_is_formatted_like_c() {
    let Some(m) = nvrtc("scripts/nvrtc/printf.cu") else { return };
    let vm = Vm::new();
    vm.set_workers(1);
    vm.launch(&m, "hello", Dims::linear(1, 2), &[Arg::U32(2)]).unwrap_or_else(|f| panic!("{f}"));
    assert_eq!(
        vm.take_output(),
        "tid 0 of 2:  0.00 ok A abcdef 7% -3  | 1.234568e+04\n\
         tid 1 of 2:  1.50 ok B abcdef 7% -3  | 1.234568e+04\n"
    );
    assert_eq!(vm.take_output(), "", "taken");
}

/// The same twins compiled other ways real users compile: unoptimised with device debug
/// information (`-G`: locals on the stack, `.loc` everywhere, DWARF sections), for sm_90,
/// and with `--use_fast_math` (integer kernels only: fast math changes float results).
#[test]
fn nvrtc_twins_compiled_with_debug_info_other_targets_and_fast_math_agree() {
    for options in [&["-G"][..], &["--gpu-architecture=compute_90"][..], &["--use_fast_math"][..]] {
        let Some(m) = nvrtc_with("scripts/sass/kernels.cu", options) else { return };
        let floats = options != ["--use_fast_math"];
        compare(&m, "stateless_scalar", "echo_plus_one", native::stateless_scalar::echo_plus_one);
        compare(&m, "control_if", "classify", native::control_if::classify);
        compare(&m, "loops", "collatz", native::loops::collatz);
        compare(&m, "device_calls", "device_calls", native::device_calls::device_calls);
        compare(&m, "bits", "bit_stats", native::bits::bit_stats);
        if floats {
            compare(&m, "float_math", "float_math", native::float_math::float_math);
        }
    }
}
