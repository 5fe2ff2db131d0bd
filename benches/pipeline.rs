//! Three stages linked directly (one's output ring the next one's input ring) against the
//! same three stages as standalone actors with host threads forwarding between them (how a
//! host-mediated actor-to-actor design moves messages), in one run, on `Cpu`, `Emulated` and
//! (with `--features ringkernel/cuda` on a machine with a GPU) `Cuda`:
//!
//! - `pipeline_throughput/*`: N messages (u64 + 1 at each stage) through the three stages, one
//!   client thread sending batches and taking the results in turn;
//! - `pipeline_latency/*`: one message through the three stages and back (`call_blocking` on
//!   the pipeline's ends; on the host-mediated chain, the client calls each actor in turn).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ringkernel::{Backend, KernelHandle, RingContext, Runtime, ring_kernel};

#[ring_kernel(id = "bench-stage-1", queue_capacity = 1024)]
fn stage_one(_ctx: &mut RingContext, x: u64) -> u64 {
    x + 1
}

#[ring_kernel(id = "bench-stage-2", queue_capacity = 1024)]
fn stage_two(_ctx: &mut RingContext, x: u64) -> u64 {
    x + 1
}

#[ring_kernel(id = "bench-stage-3", queue_capacity = 1024)]
fn stage_three(_ctx: &mut RingContext, x: u64) -> u64 {
    x + 1
}

/// Host threads moving responses of one actor into the next, until dropped.
struct Forwarders {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Forwarders {
    fn start(links: [(KernelHandle<u64, u64>, KernelHandle<u64, u64>); 2]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = links
            .into_iter()
            .map(|(from, to)| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut batch = Vec::with_capacity(256);
                    let mut values = Vec::with_capacity(256);
                    while !stop.load(Ordering::Relaxed) {
                        batch.clear();
                        if from.receive_batch(&mut batch, 256) == 0 {
                            std::thread::yield_now();
                            continue;
                        }
                        values.clear();
                        values.extend(batch.drain(..).map(|r| r.unwrap().value));
                        let mut sent = 0;
                        while sent < values.len() {
                            sent += to.send_batch(&values[sent..]).unwrap();
                        }
                    }
                })
            })
            .collect();
        Forwarders { stop, threads }
    }
}

impl Drop for Forwarders {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// One client: sends `n` messages in batches into `first`, takes `n` results from `last`.
fn push_through(first: &KernelHandle<u64, u64>, last: &KernelHandle<u64, u64>, n: u64) -> Duration {
    let started = Instant::now();
    let messages: Vec<u64> = (0..256).collect();
    let (mut sent, mut got) = (0u64, 0u64);
    let mut out = Vec::with_capacity(512);
    while got < n {
        if sent < n {
            let take = (n - sent).min(256) as usize;
            sent += first.send_batch(&messages[..take]).unwrap() as u64;
        }
        out.clear();
        got += last.receive_batch(&mut out, 512) as u64;
    }
    started.elapsed()
}

fn pipelines(c: &mut Criterion) {
    let backends =
        [(Backend::Cpu, 200_000u64), (Backend::Emulated, 20_000), (Backend::Cuda, 200_000)];
    for (backend, n) in backends {
        let rt = match Runtime::builder().backend(backend).build() {
            Ok(rt) => rt,
            Err(why) => {
                println!("skipped {backend}: {why}");
                continue;
            }
        };
        let direct = rt
            .pipeline(StageOneKernel)
            .then(StageTwoKernel)
            .then(StageThreeKernel)
            .launch()
            .unwrap();
        let ends = direct.handle().clone();
        let (a, b, cc) = (
            rt.launch(StageOneKernel).unwrap(),
            rt.launch(StageTwoKernel).unwrap(),
            rt.launch(StageThreeKernel).unwrap(),
        );
        assert_eq!(ends.call_blocking(1), Ok(4));

        let mut group = c.benchmark_group(format!("pipeline_throughput_{backend}"));
        group.throughput(Throughput::Elements(n));
        group.sample_size(10);
        group.bench_function("direct_links", |bench| {
            bench.iter_custom(|iters| (0..iters).map(|_| push_through(&ends, &ends, n)).sum())
        });
        {
            let _forwarders = Forwarders::start([(a.clone(), b.clone()), (b.clone(), cc.clone())]);
            group.bench_function("host_forwarding", |bench| {
                bench.iter_custom(|iters| (0..iters).map(|_| push_through(&a, &cc, n)).sum())
            });
        }
        group.finish();

        let mut group = c.benchmark_group(format!("pipeline_latency_{backend}"));
        group.bench_function("direct_links", |bench| bench.iter(|| ends.call_blocking(1).unwrap()));
        group.bench_function("host_calls_each_stage", |bench| {
            bench.iter(|| {
                let x = a.call_blocking(1).unwrap();
                let y = b.call_blocking(x).unwrap();
                cc.call_blocking(y).unwrap()
            })
        });
        group.finish();
        direct.terminate();
        for h in [a, b, cc] {
            h.terminate();
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = pipelines
}
criterion_main!(benches);
