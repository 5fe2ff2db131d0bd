//! Quick start: write a handler in Rust, launch it as a persistent actor, call it.
//!
//! build.rs compiled `average` to PTX at build time. `--backend cpu` runs the Rust handler on
//! a host thread; `--backend emulated` runs that PTX as a persistent kernel in the PTX VM;
//! `--backend cuda` on an NVIDIA GPU (build with `--features ringkernel/cuda`). The default,
//! `auto`, is CUDA when a GPU is usable, else the CPU. Same results on every backend.
//!
//! Run it with `cargo run --example quickstart [-- --backend emulated]`.

use ringkernel::prelude::*;

#[derive(RingMessage, Clone, Copy, Debug)]
#[repr(C)]
pub struct Sample {
    pub sensor: u32,
    pub value: f32,
}

#[derive(RingMessage, Clone, Copy, Debug)]
#[repr(C)]
pub struct Window {
    pub values: [f32; 8],
    pub next: u32,
    pub seen: u32,
}

#[derive(RingMessage, Clone, Copy, Debug)]
#[repr(C)]
pub struct Average {
    pub sensor: u32,
    pub mean: f32,
    pub samples: u32,
}

/// A moving average over the last eight samples, kept in the actor's state.
#[ring_kernel(id = "moving-average", queue_capacity = 64)]
fn average(_ctx: &mut RingContext, w: &mut Window, s: Sample) -> Average {
    w.values[(w.next % 8) as usize] = s.value;
    w.next += 1;
    w.seen = w.seen.min(7) + 1;
    let mut sum = 0.0f32;
    for i in 0..8 {
        sum += w.values[i];
    }
    Average { sensor: s.sensor, mean: sum / w.seen as f32, samples: w.seen }
}

fn main() {
    let backend = Backend::from_args(std::env::args()).unwrap_or_else(|e| exit_with(&e));
    let runtime =
        Runtime::builder().backend(backend).build().unwrap_or_else(|e| exit_with(&e.to_string()));
    println!("backend: {}", runtime.describe());
    let actor = runtime.launch(AverageKernel::default()).expect("launch");
    for (i, value) in [10.0f32, 12.0, 11.0, 30.0, 12.5].into_iter().enumerate() {
        let avg = actor.call_blocking(Sample { sensor: 7, value }).expect("call");
        println!("sample {i}: {value:>5} -> mean {:.2} over {} samples", avg.mean, avg.samples);
    }
    let metrics = actor.metrics();
    println!(
        "processed {} messages, {} errors, handler time p50 {:?}",
        metrics.processed, metrics.errors, metrics.latency_p50
    );
    let report = actor.terminate();
    println!("terminated: {} processed, {} left queued", report.processed, report.pending);
}

fn exit_with(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}
