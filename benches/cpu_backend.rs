//! The CPU backend against the alternatives, in one run:
//!
//! - `round_trip/*`: one request and its response with a trivial handler (u64 + 1):
//!   ringkernel's `call_blocking`; the same actor as a tokio task with an mpsc request channel
//!   and a oneshot reply; as a thread with crossbeam channels; and the floor, two threads
//!   ping-ponging one atomic.
//! - `pipelined/*`: a million messages through the actor with many in flight, ringkernel versus
//!   crossbeam channels, two ways: one client thread that sends batches and takes the
//!   responses in turn (two busy threads, one per core of a 2-core machine), and a sender
//!   thread plus a receiver thread (three busy threads).
//! - then, outside criterion, per-call latency percentiles (p50/p99 of individually timed
//!   round trips) and the swap blackout (quiesce + swap of pre-staged versions) under load.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

mod common;
use ringkernel::{Backend, RingContext, RingMessage, Runtime, ring_kernel, rule};

#[ring_kernel(id = "bench-echo", queue_capacity = 1024)]
fn echo(_ctx: &mut RingContext, x: u64) -> u64 {
    x + 1
}

#[derive(RingMessage, Clone, Copy, Debug)]
#[repr(C)]
pub struct Tick {
    pub n: u64,
}

#[derive(RingMessage, Clone, Copy, Debug)]
#[repr(C)]
pub struct Count {
    pub total: u64,
}

#[rule(id = "bench-swap", version = 1)]
fn swap_v1(_ctx: &mut RingContext, c: &mut Count, t: Tick) -> u64 {
    c.total += t.n;
    c.total
}

#[rule(id = "bench-swap", version = 2)]
fn swap_v2(_ctx: &mut RingContext, c: &mut Count, t: Tick) -> u64 {
    c.total += t.n * 2;
    c.total
}

fn runtime() -> Runtime {
    Runtime::builder().backend(Backend::Cpu).build().unwrap()
}

/// Two threads ping-ponging one atomic: the floor of any cross-thread round trip.
struct PingPong {
    cell: Arc<AtomicU64>,
    _thread: std::thread::JoinHandle<()>,
}

impl PingPong {
    fn new() -> Self {
        let cell = Arc::new(AtomicU64::new(0));
        let remote = cell.clone();
        let thread = std::thread::spawn(move || {
            let mut last = 0;
            loop {
                let v = remote.load(Ordering::Acquire);
                if v == u64::MAX {
                    return;
                }
                if v != last && v % 2 == 1 {
                    remote.store(v + 1, Ordering::Release);
                    last = v + 1;
                }
                std::hint::spin_loop();
            }
        });
        Self { cell, _thread: thread }
    }

    fn round_trip(&self) {
        let v = self.cell.load(Ordering::Relaxed) + 1;
        self.cell.store(v, Ordering::Release);
        while self.cell.load(Ordering::Acquire) != v + 1 {
            std::hint::spin_loop();
        }
    }
}

impl Drop for PingPong {
    fn drop(&mut self) {
        self.cell.store(u64::MAX, Ordering::Release);
    }
}

type Request = (u64, tokio::sync::oneshot::Sender<u64>);

fn tokio_actor(rt: &tokio::runtime::Runtime) -> tokio::sync::mpsc::Sender<Request> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Request>(1024);
    rt.spawn(async move {
        while let Some((x, reply)) = rx.recv().await {
            let _ = reply.send(x + 1);
        }
    });
    tx
}

fn crossbeam_actor() -> (crossbeam_channel::Sender<u64>, crossbeam_channel::Receiver<u64>) {
    let (req_tx, req_rx) = crossbeam_channel::bounded::<u64>(1024);
    let (resp_tx, resp_rx) = crossbeam_channel::bounded::<u64>(1024);
    std::thread::spawn(move || {
        while let Ok(x) = req_rx.recv() {
            if resp_tx.send(x + 1).is_err() {
                return;
            }
        }
    });
    (req_tx, resp_rx)
}

fn round_trips(c: &mut Criterion) {
    let mut group = c.benchmark_group("round_trip");
    let rt = runtime();
    let echo = rt.launch(EchoKernel).unwrap();
    group.bench_function("ringkernel_call", |b| b.iter(|| echo.call_blocking(41).unwrap()));

    let tokio_rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let tx = tokio_actor(&tokio_rt);
    group.bench_function("tokio_mpsc_oneshot", |b| {
        b.to_async(&tokio_rt).iter(|| async {
            let (reply, response) = tokio::sync::oneshot::channel();
            tx.send((41, reply)).await.unwrap();
            response.await.unwrap()
        })
    });

    let (req, resp) = crossbeam_actor();
    group.bench_function("crossbeam_channels", |b| {
        b.iter(|| {
            req.send(41).unwrap();
            resp.recv().unwrap()
        })
    });

    let floor = PingPong::new();
    group.bench_function("atomic_ping_pong_floor", |b| b.iter(|| floor.round_trip()));
    group.finish();
    echo.terminate();
}

/// Times `iters` rounds of one pipeline: a sender thread (from `spawn_sender`) pushes the
/// messages while this thread takes every response with `receive_all`.
fn time_pipeline(
    iters: u64,
    spawn_sender: impl Fn() -> std::thread::JoinHandle<()>,
    receive_all: impl Fn(),
) -> Duration {
    let started = Instant::now();
    for _ in 0..iters {
        let sender = spawn_sender();
        receive_all();
        sender.join().unwrap();
    }
    started.elapsed()
}

/// Times `iters` rounds of `n` messages sent and received one at a time: a sender thread
/// calls `send(i)` for every `i < n` while this thread calls `receive` `n` times.
fn time_one_by_one(
    iters: u64,
    n: u64,
    send: impl Fn(u64) + Clone + Send + 'static,
    receive: impl Fn(),
) -> Duration {
    time_pipeline(
        iters,
        || {
            let send = send.clone();
            std::thread::spawn(move || (0..n).for_each(send))
        },
        || (0..n).for_each(|_| receive()),
    )
}

/// Times `iters` rounds of `n` messages driven by one client thread: `step(sent, room)` sends
/// at most `room` more messages and takes the responses that are ready, returning how many of
/// each; when none was ready the client spins briefly before polling again.
fn time_one_client(
    iters: u64,
    n: u64,
    mut step: impl FnMut(u64, usize) -> (usize, usize),
) -> Duration {
    let started = Instant::now();
    for _ in 0..iters {
        let (mut sent, mut received) = (0u64, 0u64);
        while received < n {
            let (sent_now, received_now) = step(sent, (n - sent) as usize);
            sent += sent_now as u64;
            received += received_now as u64;
            if received_now == 0 {
                for _ in 0..16 {
                    std::hint::spin_loop();
                }
            }
        }
    }
    started.elapsed()
}

fn pipelined(c: &mut Criterion) {
    const N: u64 = 1_000_000;
    let mut group = c.benchmark_group("pipelined");
    group.throughput(Throughput::Elements(N));
    group.sample_size(10);
    let rt = runtime();
    let echo = rt.launch(EchoKernel).unwrap();
    group.bench_function("ringkernel_1M_messages", |b| {
        let send = {
            let echo = echo.clone();
            move |i| {
                echo.send_blocking(i).unwrap();
            }
        };
        b.iter_custom(|iters| {
            time_one_by_one(iters, N, send.clone(), || {
                echo.receive_blocking().unwrap();
            })
        })
    });
    group.bench_function("ringkernel_1M_messages_batched_256", |b| {
        b.iter_custom(|iters| {
            time_pipeline(
                iters,
                || {
                    let echo = echo.clone();
                    std::thread::spawn(move || {
                        let batch: Vec<u64> = (0..256).collect();
                        let mut sent = 0u64;
                        while sent < N {
                            let want = ((N - sent) as usize).min(batch.len());
                            let n = echo.send_batch(&batch[..want]).unwrap();
                            if n == 0 {
                                // Three busy threads share two cores here: let the others run.
                                std::thread::yield_now();
                            }
                            sent += n as u64;
                        }
                    })
                },
                || {
                    let mut got = Vec::with_capacity(256);
                    let mut received = 0u64;
                    while received < N {
                        got.clear();
                        let n = echo.receive_batch(&mut got, 256);
                        if n == 0 {
                            std::thread::yield_now();
                        }
                        received += n as u64;
                    }
                },
            )
        })
    });
    group.bench_function("ringkernel_one_client_batched_256", |b| {
        b.iter_custom(|iters| {
            let batch: Vec<u64> = (0..256).collect();
            let mut got = Vec::with_capacity(512);
            time_one_client(iters, N, |_, room| {
                let sent_now = echo.send_batch(&batch[..room.min(256)]).unwrap();
                got.clear();
                (sent_now, echo.receive_batch(&mut got, 512))
            })
        })
    });
    let (req, resp) = crossbeam_actor();
    group.bench_function("crossbeam_one_client_batched_256", |b| {
        b.iter_custom(|iters| {
            time_one_client(iters, N, |sent, room| {
                let mut sent_now = 0;
                while sent_now < room.min(256) && req.try_send(sent + sent_now as u64).is_ok() {
                    sent_now += 1;
                }
                let received = resp.try_iter().take(512).count();
                (sent_now, received)
            })
        })
    });
    group.bench_function("crossbeam_1M_messages", |b| {
        let send = {
            let req = req.clone();
            move |i| req.send(i).unwrap()
        };
        b.iter_custom(|iters| {
            time_one_by_one(iters, N, send.clone(), || {
                resp.recv().unwrap();
            })
        })
    });
    group.finish();
    echo.terminate();
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort_unstable();
    (samples[samples.len() / 2], samples[samples.len() * 99 / 100])
}

/// Per-call latency distributions and the swap blackout, printed for BENCHMARKS.md.
fn distributions(_c: &mut Criterion) {
    const CALLS: usize = 200_000;
    let rt = runtime();
    let echo = rt.launch(EchoKernel).unwrap();
    let timed = |f: &mut dyn FnMut()| {
        for _ in 0..10_000 {
            f();
        }
        (0..CALLS)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect::<Vec<_>>()
    };
    let ours = percentiles(timed(&mut || {
        echo.call_blocking(1).unwrap();
    }));
    let (req, resp) = crossbeam_actor();
    let crossbeam = percentiles(timed(&mut || {
        req.send(1).unwrap();
        resp.recv().unwrap();
    }));
    let tokio_rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let tx = tokio_actor(&tokio_rt);
    let tokio_lat = percentiles(timed(&mut || {
        tokio_rt.block_on(async {
            let (reply, response) = tokio::sync::oneshot::channel();
            tx.send((1, reply)).await.unwrap();
            response.await.unwrap();
        });
    }));
    let floor = PingPong::new();
    let floor_lat = percentiles(timed(&mut || floor.round_trip()));
    drop(floor);
    echo.terminate();
    println!("\nround trip, {CALLS} timed calls each (p50, p99):");
    println!("  ringkernel call_blocking  {:?} {:?}", ours.0, ours.1);
    println!("  tokio mpsc + oneshot      {:?} {:?}", tokio_lat.0, tokio_lat.1);
    println!("  crossbeam channels        {:?} {:?}", crossbeam.0, crossbeam.1);
    println!("  atomic ping-pong floor    {:?} {:?}", floor_lat.0, floor_lat.1);

    // Swap blackout under load: a sender streams ticks, a receiver drains, and the backend
    // swaps the actor between two pre-staged versions (quiesce + swap), 1000 times.
    let exec = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let registry = rt.rule_registry().clone();
    exec.block_on(registry.register_rule(SwapV1Rule::compiled(), "sm_90")).unwrap();
    exec.block_on(registry.register_rule(SwapV2Rule::compiled(), "sm_90")).unwrap();
    let actor = rt.rule_actor::<Tick, u64>("bench-swap").unwrap();
    let traffic = common::PacedTraffic::start(&actor, Tick { n: 1 }, true);
    let backend = registry.backend();
    let mut blackouts = Vec::new();
    let (mut from, mut to) = (1u64, 2u64);
    for _ in 0..1000 {
        let t = Instant::now();
        exec.block_on(async {
            backend.quiesce("bench-swap", from).await.unwrap();
            backend.swap("bench-swap", Some(from), to).await.unwrap();
        });
        blackouts.push(t.elapsed());
        std::mem::swap(&mut from, &mut to);
        std::thread::sleep(Duration::from_micros(200));
    }
    let (sent, received) = traffic.finish();
    let (p50, p99) = percentiles(blackouts);
    println!(
        "swap blackout under load, 1000 swaps: p50 {p50:?}, p99 {p99:?} ({sent} sent, {received} received, lost {})",
        sent - received
    );
    actor.terminate();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = round_trips, pipelined, distributions
}
criterion_main!(benches);
