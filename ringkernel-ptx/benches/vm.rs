//! PTX VM throughput (see BENCHMARKS.md):
//! - `single_thread/straight_line_integer`: one thread, a loop over 32 independent integer
//!   instructions: the interpreter's per-instruction cost. Throughput is in instructions.
//! - `single_thread/golden_counter_batch`: the `counter` golden kernel's batch entry over
//!   10,000 messages on one worker: real generated code, calls included.
//! - `batch/golden_set_10k`: every golden batch entry on 10,000 inputs each, CTAs over all
//!   cores (the goal: under 2 s for the set).
//! - `saxpy/{ringkernel_ptx,ptoxide}`: NVRTC's SAXPY on 2^16 elements in both VMs, same run.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ringkernel_ptx::{Arg, Dims, Module, Vm};

const STRAIGHT_LINE: &str = "
.version 8.0
.target sm_70
.address_size 64
.visible .entry straight(.param .u64 out, .param .u32 iterations)
{
    .reg .pred %p1;
    .reg .b32 %r<16>;
    .reg .b64 %rd<3>;
    ld.param.u32 %r15, [iterations];
    mov.u32 %r1, 1; mov.u32 %r2, 2; mov.u32 %r3, 3; mov.u32 %r4, 4;
    mov.u32 %r5, 5; mov.u32 %r6, 6; mov.u32 %r7, 7; mov.u32 %r8, 8;
LOOP:
    add.u32 %r1, %r1, %r5;   xor.b32 %r2, %r2, %r6;   shl.b32 %r3, %r3, 1;     mad.lo.u32 %r4, %r4, 3, %r8;
    sub.u32 %r5, %r5, %r1;   and.b32 %r6, %r6, %r2;   or.b32 %r7, %r7, %r3;    mul.lo.u32 %r8, %r8, %r4;
    add.u32 %r1, %r1, %r7;   xor.b32 %r2, %r2, %r8;   shr.u32 %r3, %r3, 1;     add.u32 %r4, %r4, %r2;
    sub.u32 %r5, %r5, %r3;   and.b32 %r6, %r6, %r4;   or.b32 %r7, %r7, %r5;    mul.lo.u32 %r8, %r8, %r6;
    add.u32 %r1, %r1, %r5;   xor.b32 %r2, %r2, %r6;   shl.b32 %r3, %r3, 1;     mad.lo.u32 %r4, %r4, 3, %r8;
    sub.u32 %r5, %r5, %r1;   and.b32 %r6, %r6, %r2;   or.b32 %r7, %r7, %r3;    mul.lo.u32 %r8, %r8, %r4;
    add.u32 %r1, %r1, %r7;   xor.b32 %r2, %r2, %r8;   shr.u32 %r3, %r3, 1;     add.u32 %r4, %r4, %r2;
    sub.u32 %r5, %r5, %r3;   and.b32 %r6, %r6, %r4;   or.b32 %r7, %r7, %r5;    mul.lo.u32 %r8, %r8, %r6;
    sub.u32 %r15, %r15, 1;
    setp.ne.u32 %p1, %r15, 0;
    @%p1 bra.uni LOOP;
    add.u32 %r1, %r1, %r2;
    ld.param.u64 %rd1, [out];
    st.global.u32 [%rd1], %r1;
    ret;
}
";

/// A golden artifact: its module, batch entry and the message/state/response sizes.
struct Golden {
    name: String,
    module: Module,
    entry: String,
    sizes: [usize; 3],
}

fn golden() -> Vec<Golden> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ringkernel-codegen/tests/out/ptx");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "ptx")) {
        let text = std::fs::read_to_string(path).unwrap();
        for part in text.split("// ringkernel-artifact ").filter(|s| !s.trim().is_empty()) {
            let field = |key: &str| {
                part.lines()
                    .find_map(|l| l.strip_prefix(&format!("// {key}: ")))
                    .unwrap_or("")
                    .to_string()
            };
            let size = |key: &str| {
                field(key)
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("size="))
                    .map_or(0, |s| s.parse().unwrap())
            };
            out.push(Golden {
                name: field("id"),
                module: Module::parse(&format!("// ringkernel-artifact {part}")).unwrap(),
                entry: field("entry-batch"),
                sizes: [size("message"), size("state"), size("response")],
            });
        }
    }
    out
}

/// Buffers for `n` inputs of `g` filled with deterministic bytes; returns the launch args.
fn batch_args(vm: &Vm, g: &Golden, n: usize) -> Vec<Arg> {
    let [ms, ss, rs] = g.sizes;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut bytes = |len: usize| {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed % 7) as u8 // small values keep loops such as collatz short
            })
            .collect::<Vec<u8>>()
    };
    let cb = vm.alloc(128).unwrap();
    let states = vm.alloc((ss * n).max(8)).unwrap();
    let msgs = vm.alloc((ms * n).max(8)).unwrap();
    let resps = vm.alloc((rs * n).max(8)).unwrap();
    vm.write(states, &bytes(ss * n)).unwrap();
    vm.write(msgs, &bytes(ms * n)).unwrap();
    vec![Arg::U64(cb), Arg::U64(states), Arg::U64(msgs), Arg::U64(resps), Arg::U32(n as u32)]
}

fn single_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("single_thread");
    let vm = Vm::new();
    vm.set_workers(1);
    let module = Module::parse(STRAIGHT_LINE).unwrap();
    let out = vm.alloc(4).unwrap();
    let args = [Arg::U64(out), Arg::U32(10_000)];
    let stats = vm.launch(&module, "straight", Dims::linear(1, 1), &args).unwrap();
    group.throughput(Throughput::Elements(stats.instructions));
    group.bench_function("straight_line_integer", |b| {
        b.iter(|| vm.launch(&module, "straight", Dims::linear(1, 1), &args).unwrap())
    });

    let counter = golden().into_iter().find(|g| g.name == "counter").unwrap();
    let args = batch_args(&vm, &counter, 10_000);
    let dims = Dims::linear(10_000u32.div_ceil(128), 128);
    let stats = vm.launch(&counter.module, &counter.entry, dims, &args).unwrap();
    group.throughput(Throughput::Elements(stats.instructions));
    group.bench_function("golden_counter_batch", |b| {
        b.iter(|| vm.launch(&counter.module, &counter.entry, dims, &args).unwrap())
    });
    group.finish();
}

fn batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    let vm = Vm::new();
    let set: Vec<(Golden, Vec<Arg>)> = golden()
        .into_iter()
        .map(|g| {
            let args = batch_args(&vm, &g, 10_000);
            (g, args)
        })
        .collect();
    let dims = Dims::linear(10_000u32.div_ceil(128), 128);
    let total: u64 = set
        .iter()
        .map(|(g, a)| vm.launch(&g.module, &g.entry, dims, a).unwrap().instructions)
        .sum();
    group.throughput(Throughput::Elements(total));
    group.bench_function(
        BenchmarkId::new("golden_set_10k", format!("{} entries", set.len())),
        |b| {
            b.iter(|| {
                for (g, a) in &set {
                    vm.launch(&g.module, &g.entry, dims, a).unwrap();
                }
            })
        },
    );
    group.finish();
}

fn saxpy(c: &mut Criterion) {
    const N: usize = 1 << 16;
    let ptx = include_str!("saxpy.ptx");
    let x: Vec<f32> = (0..N).map(|i| i as f32 * 0.5).collect();
    let y: Vec<f32> = (0..N).map(|i| 1.0 + i as f32).collect();
    let mut group = c.benchmark_group("saxpy");
    group.throughput(Throughput::Elements(N as u64));

    let vm = Vm::new();
    let module = Module::parse(ptx).unwrap();
    let (dx, dy) = (vm.alloc(4 * N).unwrap(), vm.alloc(4 * N).unwrap());
    vm.write(dx, &x.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>()).unwrap();
    let y_bytes: Vec<u8> = y.iter().flat_map(|v| v.to_le_bytes()).collect();
    vm.write(dy, &y_bytes).unwrap();
    let args = [Arg::F32(2.0), Arg::U64(dx), Arg::U64(dy), Arg::U64(N as u64)];
    let dims = Dims::linear((N as u32).div_ceil(256), 256);
    group.bench_function("ringkernel_ptx", |b| {
        b.iter(|| vm.launch(&module, "saxpy", dims, &args).unwrap())
    });
    vm.set_workers(1);
    group.bench_function("ringkernel_ptx_one_worker", |b| {
        b.iter(|| vm.launch(&module, "saxpy", dims, &args).unwrap())
    });

    let mut ctx = ptoxide::Context::new_with_module(ptx).expect("ptoxide parses NVRTC's SAXPY");
    let px = ctx.alloc::<f32>(N);
    let py = ctx.alloc::<f32>(N);
    ctx.write(px, &x);
    ctx.write(py, &y);
    group.bench_function("ptoxide", |b| {
        b.iter(|| {
            let params =
                ptoxide::LaunchParams::func_id(0).grid1d((N as u32).div_ceil(256)).block1d(256);
            let args = [
                ptoxide::Argument::U32(2.0f32.to_bits()),
                ptoxide::Argument::ptr(px),
                ptoxide::Argument::ptr(py),
                ptoxide::Argument::U64(N as u64),
            ];
            ctx.run(params, &args).unwrap()
        })
    });
    group.finish();

    // Both VMs compute the same y (checked once, outside the timing).
    let (mut ours, mut theirs) = (vec![0u8; 4 * N], vec![0f32; N]);
    vm.write(dy, &y_bytes).unwrap();
    vm.launch(&module, "saxpy", dims, &args).unwrap();
    vm.read(dy, &mut ours).unwrap();
    ctx.write(py, &y);
    let params = ptoxide::LaunchParams::func_id(0).grid1d((N as u32).div_ceil(256)).block1d(256);
    ctx.run(
        params,
        &[
            ptoxide::Argument::U32(2.0f32.to_bits()),
            ptoxide::Argument::ptr(px),
            ptoxide::Argument::ptr(py),
            ptoxide::Argument::U64(N as u64),
        ],
    )
    .unwrap();
    ctx.read(py, &mut theirs);
    let ours: Vec<f32> =
        ours.chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
    assert_eq!(ours, theirs, "the two VMs disagree on SAXPY");
}

criterion_group!(benches, single_thread, batch, saxpy);
criterion_main!(benches);
