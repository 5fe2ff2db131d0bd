//! The emulated backend (the kernel's PTX as a persistent kernel in the PTX VM) against the
//! CPU backend (the Rust handler on a host thread), side by side in one run, and the CUDA
//! backend too where a GPU is usable (built with `--features ringkernel/cuda`):
//!
//! - `emulated_vs_cpu/round_trip_*`: one `call_blocking` of the echo kernel (u64 + 1);
//! - `emulated_vs_cpu/pipelined_*`: 200,000 messages from one client thread that sends
//!   batches of 256 and takes the responses in turn;
//! - then, outside criterion, the swap blackout (quiesce + swap between two pre-staged rule
//!   versions) under paced load, 300 swaps per backend, p50/p99, and the messages lost.

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

mod common;
use ringkernel::{Backend, RingContext, RingMessage, Runtime, ring_kernel, rule};

#[ring_kernel(id = "emu-echo", queue_capacity = 1024)]
fn emu_echo(_ctx: &mut RingContext, x: u64) -> u64 {
    x + 1
}

#[derive(RingMessage, Clone, Copy, Debug)]
#[repr(C)]
pub struct Tick {
    pub n: u64,
}

#[derive(RingMessage, Clone, Copy, Debug)]
#[repr(C)]
pub struct Total {
    pub total: u64,
}

#[rule(id = "emu-swap", version = 1)]
fn emu_swap_v1(_ctx: &mut RingContext, t: &mut Total, tick: Tick) -> u64 {
    t.total += tick.n;
    t.total
}

#[rule(id = "emu-swap", version = 2)]
fn emu_swap_v2(_ctx: &mut RingContext, t: &mut Total, tick: Tick) -> u64 {
    t.total += tick.n * 2;
    t.total
}

/// `Cpu`, `Emulated`, and `Cuda` when it starts here (else says why not).
fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Cpu, Backend::Emulated];
    match Runtime::builder().backend(Backend::Cuda).build() {
        Ok(rt) => {
            println!("CUDA device: {}", rt.device_name().unwrap_or_default());
            backends.push(Backend::Cuda);
        }
        Err(e) => println!("no CUDA figures: {e}"),
    }
    backends
}

fn runtime(backend: Backend) -> Runtime {
    Runtime::builder().backend(backend).build().unwrap()
}

fn side_by_side(c: &mut Criterion) {
    let mut group = c.benchmark_group("emulated_vs_cpu");
    for backend in backends() {
        let rt = runtime(backend);
        let echo = rt.launch(EmuEchoKernel).unwrap();
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("round_trip_{backend}"), |b| {
            b.iter(|| echo.call_blocking(41).unwrap())
        });
        const N: u64 = 200_000;
        group.throughput(Throughput::Elements(N));
        group.bench_function(format!("pipelined_{backend}_200k"), |b| {
            let batch: Vec<u64> = (0..256).collect();
            let mut got = Vec::with_capacity(512);
            b.iter_custom(|iters| {
                let started = Instant::now();
                for _ in 0..iters {
                    let (mut sent, mut received) = (0u64, 0u64);
                    while received < N {
                        let room = ((N - sent) as usize).min(256);
                        sent += echo.send_batch(&batch[..room]).unwrap() as u64;
                        got.clear();
                        let n = echo.receive_batch(&mut got, 512);
                        received += n as u64;
                        if n == 0 {
                            std::thread::yield_now();
                        }
                    }
                }
                started.elapsed()
            })
        });
        echo.terminate();
    }
    group.finish();
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort_unstable();
    (samples[samples.len() / 2], samples[samples.len() * 99 / 100])
}

/// Swap blackouts on `backend`, under paced load or idle: p50, p99, sent, received.
fn blackouts(backend: Backend, swaps: usize, loaded: bool) -> (Duration, Duration, u64, u64) {
    let rt = runtime(backend);
    let exec = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let registry = rt.rule_registry().clone();
    exec.block_on(registry.register_rule(EmuSwapV1Rule::compiled(), "sm_90")).unwrap();
    let staging = Instant::now();
    exec.block_on(registry.register_rule(EmuSwapV2Rule::compiled(), "sm_90")).unwrap();
    println!(
        "  {backend:<9} staging v2 (validate + pre-stage: module load): {:?}",
        staging.elapsed()
    );
    let actor = rt.rule_actor::<Tick, u64>("emu-swap").unwrap();
    let traffic = common::PacedTraffic::start(&actor, Tick { n: 1 }, loaded);
    let backend_swap = registry.backend();
    let mut times = Vec::with_capacity(swaps);
    let (mut from, mut to) = (1u64, 2u64);
    for _ in 0..swaps {
        let t = Instant::now();
        exec.block_on(async {
            backend_swap.quiesce("emu-swap", from).await.unwrap();
            backend_swap.swap("emu-swap", Some(from), to).await.unwrap();
        });
        times.push(t.elapsed());
        exec.block_on(backend_swap.terminate_old("emu-swap", from)).unwrap();
        std::mem::swap(&mut from, &mut to);
        std::thread::sleep(Duration::from_micros(300));
    }
    let (sent, received) = traffic.finish();
    actor.terminate();
    let (p50, p99) = percentiles(times);
    (p50, p99, sent, received)
}

/// Round-trip percentiles of individually timed calls on each backend.
fn round_trip_table() {
    const CALLS: usize = 50_000;
    println!("\nround trip, {CALLS} individually timed calls each (p50, p90, p99):");
    for backend in backends() {
        let rt = runtime(backend);
        let echo = rt.launch(EmuEchoKernel).unwrap();
        for _ in 0..5_000 {
            echo.call_blocking(1).unwrap();
        }
        let mut samples: Vec<Duration> = (0..CALLS)
            .map(|_| {
                let t = Instant::now();
                echo.call_blocking(1).unwrap();
                t.elapsed()
            })
            .collect();
        samples.sort_unstable();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
        println!("  {backend:<9} {:?} {:?} {:?}", at(0.5), at(0.9), at(0.99));
        echo.terminate();
    }
}

fn blackout_table(_c: &mut Criterion) {
    round_trip_table();
    for loaded in [true, false] {
        let how = if loaded { "under paced load" } else { "with no traffic" };
        println!("\nswap blackout {how}, 300 swaps each (p50, p99, lost):");
        for backend in backends() {
            let (p50, p99, sent, received) = blackouts(backend, 300, loaded);
            println!("  {backend:<9} {p50:?} {p99:?} lost {} of {sent}", sent - received);
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = side_by_side, blackout_table
}
criterion_main!(benches);
