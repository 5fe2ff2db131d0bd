//! What the protections cost, each against the same thing without it, in one run:
//!
//! - `access/*`: a round trip to an echo actor (u64 + 1) through a plain handle to an actor
//!   without a policy, and through an authorised handle to the same kernel launched with an
//!   access policy (tenant and two permissions checked before the handler), on `Cpu` and on
//!   `Emulated` (the check in the PTX persistent entry).
//! - `fuel/*`: a 256-iteration `while` loop natively: the DSL handler as the macro rewrites it
//!   (a fuel check per iteration, the budget set up and caught per message) against the same
//!   loop in plain Rust.
//! - then, outside criterion, the blackout of `checkpoint()` (the actor paused at a message
//!   boundary while its state, clock and counters are copied) for a 4 KiB and a 1 MiB state,
//!   on `Cpu` and `Emulated`, 40 checkpoints each while paced traffic flows.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ringkernel::{
    AccessPolicy, AuthContext, Backend, Hlc, LaunchOptions, RingContext, RingMessage, Runtime,
    ring_kernel,
};

mod common;

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Cells4k {
    pub cells: [u32; 1024],
}

#[derive(RingMessage, Clone, Copy)]
#[repr(C)]
pub struct Cells1m {
    pub cells: [u32; 262144],
}

#[ring_kernel(id = "checks-4k")]
fn touch_4k(_ctx: &mut RingContext, s: &mut Cells4k, i: u32) -> u32 {
    s.cells[(i % 1024) as usize] += 1;
    i
}

#[ring_kernel(id = "checks-1m")]
fn touch_1m(_ctx: &mut RingContext, s: &mut Cells1m, i: u32) -> u32 {
    s.cells[(i % 262144) as usize] += 1;
    i
}

#[ring_kernel(id = "checks-echo", queue_capacity = 1024)]
fn checked_echo(_ctx: &mut RingContext, x: u64) -> u64 {
    x + 1
}

#[ring_kernel(id = "checks-spin")]
fn spin(_ctx: &mut RingContext, n: u32) -> u64 {
    let mut i = 0;
    let mut acc = 0u64;
    while i < n {
        acc = acc * 31 + i as u64;
        i += 1;
    }
    acc
}

fn plain_spin(n: u32) -> u64 {
    let mut i = 0;
    let mut acc = 0u64;
    while i < n {
        acc = acc.wrapping_mul(31).wrapping_add(u64::from(i));
        i += 1;
    }
    acc
}

fn access(c: &mut Criterion) {
    let mut group = c.benchmark_group("access");
    for backend in [Backend::Cpu, Backend::Emulated] {
        let rt = Runtime::builder().backend(backend).build().unwrap();
        let open = rt.launch(CheckedEchoKernel).unwrap();
        let policy = AccessPolicy::new(7).require("echo:call").require("echo:audit");
        let guarded =
            rt.launch_with(CheckedEchoKernel, LaunchOptions::default().access(policy)).unwrap();
        let auth =
            AuthContext::new("bench", 7).with_permission("echo:call").with_permission("echo:audit");
        let authorized = guarded.authorized(auth).unwrap();
        group.bench_function(format!("{backend}_plain_no_policy"), |b| {
            b.iter(|| open.call_blocking(41).unwrap())
        });
        group.bench_function(format!("{backend}_authorized_policy_checked"), |b| {
            b.iter(|| authorized.call_blocking(41).unwrap())
        });
        open.terminate();
        guarded.terminate();
    }
    group.finish();
}

fn fuel(c: &mut Criterion) {
    let mut group = c.benchmark_group("fuel");
    let mut ctx = RingContext::new("bench", 0, Arc::new(Hlc::new(0)));
    let max_steps = ringkernel_codegen::abi::DEFAULT_MAX_STEPS;
    group.bench_function("dsl_while_256_budgeted", |b| {
        b.iter(|| {
            ringkernel::__private::run_budgeted(max_steps, || Ok(spin(&mut ctx, black_box(256))))
                .unwrap()
        })
    });
    group.bench_function("plain_rust_while_256", |b| b.iter(|| plain_spin(black_box(256))));
    group.finish();
    assert_eq!(spin(&mut ctx, 256), plain_spin(256));
}

/// Median and worst of `n` checkpoint blackouts under paced traffic, and the state's size.
fn blackouts(actor: &ringkernel::KernelHandle<u32, u32>, n: usize) -> (Duration, Duration, usize) {
    let traffic = common::PacedTraffic::start(actor, 7u32, true);
    let mut pauses = Vec::with_capacity(n);
    let mut bytes = 0;
    for _ in 0..n {
        let checkpoint = actor.checkpoint().expect("a checkpoint");
        bytes = checkpoint.state.len();
        pauses.push(checkpoint.blackout);
        std::thread::sleep(Duration::from_millis(5));
    }
    let (sent, received) = traffic.finish();
    assert_eq!(sent, received, "messages lost across checkpoints");
    pauses.sort();
    (pauses[n / 2], pauses[n - 1], bytes)
}

fn checkpoint_blackouts(_c: &mut Criterion) {
    for backend in [Backend::Cpu, Backend::Emulated] {
        let rt = Runtime::builder().backend(backend).build().unwrap();
        let small = rt.launch(Touch4kKernel::new(Cells4k { cells: [0; 1024] })).unwrap();
        let (p50, max, bytes) = blackouts(&small, 40);
        println!("checkpoint blackout, {backend}, {bytes}-byte state: p50 {p50:?}, max {max:?}");
        small.terminate();
        let large = rt.launch(Touch1mKernel::default()).unwrap();
        let (p50, max, bytes) = blackouts(&large, 40);
        println!("checkpoint blackout, {backend}, {bytes}-byte state: p50 {p50:?}, max {max:?}");
        large.terminate();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = access, fuel, checkpoint_blackouts
}
criterion_main!(benches);
