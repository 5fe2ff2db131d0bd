//! A three-stage pipeline under load: `parse` (raw bytes to an order) → `score` (a rule,
//! hot-swapped while traffic flows) → `route` (picks a venue and keeps a tally). The stages are
//! linked directly, one's output ring the next one's input ring: the host only feeds the first
//! stage and drains the last. Midway, `score` is reloaded to v2 and rolled back; at the end the
//! `route` stage is checkpointed to a file, read back and restored into a fresh actor, which
//! answers the next messages exactly as the running stage does.
//!
//! `--backend cpu|emulated|cuda` picks where the stages run (default `auto`).
//!
//! Run it with `cargo run --example pipeline [-- --backend emulated]`.

use std::time::{Duration, Instant};

use ringkernel::prelude::*;
use ringkernel::{Checkpoint, pipeline::Pipeline};

#[derive(RingMessage, Clone, Copy, Debug)]
#[repr(C)]
pub struct Wire {
    pub seq: u64,
    pub sent_ns: u64,
    /// Big-endian price (4 bytes) and quantity (2 bytes), as a feed would send them.
    pub bytes: [u8; 8],
}

#[derive(RingMessage, Clone, Copy, Debug)]
#[repr(C)]
pub struct Order {
    pub seq: u64,
    pub sent_ns: u64,
    pub price: u32,
    pub qty: u32,
}

#[derive(RingMessage, Clone, Copy, Debug)]
#[repr(C)]
pub struct Scored {
    pub seq: u64,
    pub sent_ns: u64,
    pub notional: u64,
    pub risk: u32,
    pub version: u32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Routed {
    pub seq: u64,
    pub sent_ns: u64,
    pub venue: u32,
    pub version: u32,
    pub routed: u64,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Venues {
    pub per_venue: [u64; 4],
    pub routed: u64,
}

#[ring_kernel(id = "example-parse", queue_capacity = 256)]
fn parse(_ctx: &mut RingContext, w: Wire) -> Order {
    let mut price = 0u32;
    for i in 0..4 {
        price = price * 256 + w.bytes[i] as u32;
    }
    Order {
        seq: w.seq,
        sent_ns: w.sent_ns,
        price,
        qty: w.bytes[4] as u32 * 256 + w.bytes[5] as u32,
    }
}

#[rule(id = "example-score", version = 1)]
fn score_v1(_ctx: &mut RingContext, o: Order) -> Scored {
    let notional = o.price as u64 * o.qty as u64;
    Scored {
        seq: o.seq,
        sent_ns: o.sent_ns,
        notional,
        risk: (notional / 10_000) as u32,
        version: 1,
    }
}

#[rule(id = "example-score", version = 2)]
fn score_v2(_ctx: &mut RingContext, o: Order) -> Scored {
    let notional = o.price as u64 * o.qty as u64;
    // Large tickets weigh double.
    let risk = if notional > 1_000_000 { notional / 5_000 } else { notional / 10_000 };
    Scored { seq: o.seq, sent_ns: o.sent_ns, notional, risk: risk as u32, version: 2 }
}

#[ring_kernel(id = "example-route", queue_capacity = 256)]
fn route(_ctx: &mut RingContext, v: &mut Venues, s: Scored) -> Routed {
    let venue = if s.risk > 50 { 3 } else { (s.seq % 3) as u32 };
    v.per_venue[venue as usize] += 1;
    v.routed += 1;
    Routed { seq: s.seq, sent_ns: s.sent_ns, venue, version: s.version, routed: v.routed }
}

const ORDERS: u64 = 200_000;

fn wire(seq: u64, start: Instant) -> Wire {
    let price = (seq.wrapping_mul(2654435761) % 50_000) as u32 + 100;
    let qty = (seq % 300) as u16 + 1;
    let [p0, p1, p2, p3] = price.to_be_bytes();
    let [q0, q1] = qty.to_be_bytes();
    Wire { seq, sent_ns: start.elapsed().as_nanos() as u64, bytes: [p0, p1, p2, p3, q0, q1, 0, 0] }
}

#[tokio::main]
async fn main() {
    let backend = Backend::from_args(std::env::args()).unwrap_or_else(|e| exit_with(&e));
    let runtime =
        Runtime::builder().backend(backend).build().unwrap_or_else(|e| exit_with(&e.to_string()));
    println!("backend: {}", runtime.describe());
    let registry = runtime.rule_registry().clone();
    registry.register_rule(ScoreV1Rule::compiled(), "sm_90").await.expect("score v1 registers");
    let pipeline: Pipeline<Wire, Routed> = runtime
        .pipeline(ParseKernel)
        .then_rule::<Scored>("example-score")
        .then(RouteKernel::default())
        .launch()
        .unwrap_or_else(|e| exit_with(&e.to_string()));
    let ends = pipeline.handle().clone();
    println!("pipeline {} running; sending {ORDERS} orders", ends.id());
    let rings = pipeline.rings().unwrap_or_else(|e| exit_with(&e.to_string()));
    let placements: Vec<String> = rings.iter().map(|r| format!("{:?}", r.placement)).collect();
    println!("rings (host -> stages -> host): {}", placements.join(", "));

    let start = Instant::now();
    let producer = {
        let ends = ends.clone();
        std::thread::spawn(move || {
            let mut batch = Vec::with_capacity(64);
            let mut seq = 0;
            while seq < ORDERS {
                batch.clear();
                batch.extend((seq..(seq + 64).min(ORDERS)).map(|s| wire(s, start)));
                let mut sent = 0;
                while sent < batch.len() {
                    sent += ends.send_batch(&batch[sent..]).expect("send");
                    if sent < batch.len() {
                        std::thread::yield_now();
                    }
                }
                seq += batch.len() as u64;
            }
        })
    };
    let consumer = {
        let ends = ends.clone();
        std::thread::spawn(move || {
            let mut routed = Vec::with_capacity(ORDERS as usize);
            let mut batch = Vec::with_capacity(256);
            while (routed.len() as u64) < ORDERS {
                batch.clear();
                if ends.receive_batch(&mut batch, 256) == 0 {
                    std::thread::yield_now();
                }
                for r in batch.drain(..) {
                    let r = r.expect("a routed order").value;
                    routed.push((r, start.elapsed().as_nanos() as u64 - r.sent_ns));
                }
            }
            routed
        })
    };

    // Swap the middle stage while the orders flow, then roll it back.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let reload = registry.reload_rule(ScoreV2Rule::compiled(), "sm_90").await.expect("v2");
    println!("{reload}");
    tokio::time::sleep(Duration::from_millis(30)).await;
    let rollback = registry.rollback_rule("example-score", 1).await.expect("rollback");
    println!("{rollback}");
    producer.join().expect("producer");
    let routed = consumer.join().expect("consumer");
    let elapsed = start.elapsed();

    let in_order = routed.iter().enumerate().all(|(i, (r, _))| r.seq == i as u64);
    let by_v2 = routed.iter().filter(|(r, _)| r.version == 2).count();
    let mut latencies: Vec<u64> = routed.iter().map(|(_, l)| *l).collect();
    latencies.sort_unstable();
    let pct = |p: f64| Duration::from_nanos(latencies[((latencies.len() - 1) as f64 * p) as usize]);
    println!(
        "throughput: {:.2} M orders/s through 3 stages ({ORDERS} in {elapsed:?}); scored by v2: {by_v2}",
        ORDERS as f64 / elapsed.as_secs_f64() / 1e6
    );
    println!("latency end to end: p50 {:?}, p99 {:?}, max {:?}", pct(0.5), pct(0.99), pct(1.0));

    // Checkpoint the last stage to a file, restore it into a new actor and compare.
    let route = &pipeline.stages()[2];
    let checkpoint = route.checkpoint().expect("checkpoint");
    let path = std::env::temp_dir().join(format!("ringkernel-route-{}.ckpt", std::process::id()));
    checkpoint.write_to(std::fs::File::create(&path).expect("file")).expect("write");
    let read = Checkpoint::read_from(std::fs::File::open(&path).expect("file")).expect("read");
    let _ = std::fs::remove_file(&path);
    let restored = runtime
        .launch_restored(RouteKernel::default(), &read)
        .unwrap_or_else(|e| exit_with(&e.to_string()));
    let probe = Scored { seq: ORDERS, sent_ns: 0, notional: 10, risk: 1, version: 1 };
    let from_restored = restored.call_blocking(probe).expect("restored answers");
    println!(
        "checkpoint of `{}`: {} state bytes, blackout {:?}; restored, it routes order {} as #{}",
        read.kernel_id,
        read.state.len(),
        checkpoint.blackout,
        from_restored.seq,
        from_restored.routed
    );
    let lost = ORDERS - routed.len() as u64;
    println!("sent: {ORDERS}, received: {}, in order: {in_order}, lost: {lost}", routed.len());
    restored.terminate();
    pipeline.terminate();
    if lost != 0 || !in_order || from_restored.routed != ORDERS + 1 {
        std::process::exit(1);
    }
}

fn exit_with(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}
