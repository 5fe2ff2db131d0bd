//! Hot swap under steady load, with nothing lost: a pricing rule runs as a persistent actor
//! while versions 2 and 3 replace version 1 and a rollback returns to version 2. Every
//! `ReloadReport` is printed, with the blackout (quiesce + swap) and, at the end, the latency
//! of the messages and the count of lost ones.
//!
//! `--backend cpu|emulated|cuda` picks where the actor runs (default `auto`: CUDA when a GPU is
//! usable, else the CPU); on `emulated` and `cuda` each swap relaunches the new version's
//! persistent kernel on the same rings and state.
//!
//! Run it with `cargo run --example hot_swap [-- --backend emulated]`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ringkernel::prelude::*;

#[derive(RingMessage, Clone, Copy, Debug)]
#[repr(C)]
pub struct Order {
    pub seq: u64,
    pub sent_ns: u64,
    pub quantity: u32,
}

#[derive(RingMessage, Clone, Copy, Debug)]
#[repr(C)]
pub struct Quote {
    pub seq: u64,
    pub sent_ns: u64,
    pub price: u64,
    pub version: u32,
}

#[derive(RingMessage, Clone, Copy, Debug)]
#[repr(C)]
pub struct Book {
    pub orders: u64,
    pub volume: u64,
}

#[rule(id = "pricing", version = 1)]
fn pricing_v1(_ctx: &mut RingContext, book: &mut Book, o: Order) -> Quote {
    book.orders += 1;
    book.volume += o.quantity as u64;
    Quote { seq: o.seq, sent_ns: o.sent_ns, price: o.quantity as u64 * 100, version: 1 }
}

#[rule(id = "pricing", version = 2)]
fn pricing_v2(_ctx: &mut RingContext, book: &mut Book, o: Order) -> Quote {
    book.orders += 1;
    book.volume += o.quantity as u64;
    // Volume discount.
    let unit = if o.quantity > 50 { 95 } else { 100 };
    Quote { seq: o.seq, sent_ns: o.sent_ns, price: o.quantity as u64 * unit, version: 2 }
}

#[rule(id = "pricing", version = 3)]
fn pricing_v3(_ctx: &mut RingContext, book: &mut Book, o: Order) -> Quote {
    book.orders += 1;
    book.volume += o.quantity as u64;
    // A fee per order, waived for the book's first thousand.
    let fee = if book.orders > 1000 { 7 } else { 0 };
    Quote { seq: o.seq, sent_ns: o.sent_ns, price: o.quantity as u64 * 100 + fee, version: 3 }
}

const ORDERS: u64 = 60_000;

#[tokio::main]
async fn main() {
    let backend = Backend::from_args(std::env::args()).unwrap_or_else(|e| exit_with(&e));
    let runtime =
        Runtime::builder().backend(backend).build().unwrap_or_else(|e| exit_with(&e.to_string()));
    println!("backend: {}", runtime.describe());
    let registry = runtime.rule_registry().clone();
    registry.register_rule(PricingV1Rule::compiled(), "sm_90").await.expect("v1 registers");
    let actor = runtime.rule_actor::<Order, Quote>("pricing").expect("v1 is running");
    println!("pricing v1 running; sending {ORDERS} orders at a steady pace");

    let start = Instant::now();
    let producer = {
        let actor = actor.clone();
        std::thread::spawn(move || {
            for seq in 0..ORDERS {
                let sent_ns = start.elapsed().as_nanos() as u64;
                actor
                    .send_blocking(Order { seq, sent_ns, quantity: (seq % 100) as u32 })
                    .expect("send");
                if seq % 500 == 499 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        })
    };
    let consumer = {
        let actor = actor.clone();
        std::thread::spawn(move || {
            let mut quotes = Vec::with_capacity(ORDERS as usize);
            while (quotes.len() as u64) < ORDERS {
                let quote = actor.receive_blocking().expect("receive").value;
                let latency = start.elapsed().as_nanos() as u64 - quote.sent_ns;
                quotes.push((quote, latency));
            }
            quotes
        })
    };

    let mut blackouts = Vec::new();
    for step in 0..3 {
        tokio::time::sleep(Duration::from_millis(40)).await;
        let report = match step {
            0 => registry.reload_rule(PricingV2Rule::compiled(), "sm_90").await,
            1 => registry.reload_rule(PricingV3Rule::compiled(), "sm_90").await,
            _ => registry.rollback_rule("pricing", 2).await,
        }
        .expect("swap");
        println!("{report}");
        blackouts.push(report.blackout());
    }
    producer.join().expect("producer");
    let quotes = consumer.join().expect("consumer");

    let mut per_version: BTreeMap<u32, u64> = BTreeMap::new();
    let mut in_order = true;
    for (i, (quote, _)) in quotes.iter().enumerate() {
        *per_version.entry(quote.version).or_default() += 1;
        in_order &= quote.seq == i as u64;
    }
    let mut latencies: Vec<u64> = quotes.iter().map(|(_, l)| *l).collect();
    latencies.sort_unstable();
    let pct = |p: f64| Duration::from_nanos(latencies[((latencies.len() - 1) as f64 * p) as usize]);
    println!("quotes per version: {per_version:?}");
    println!("blackout per swap: {blackouts:?}");
    println!(
        "latency send -> response: p50 {:?}, p99 {:?}, max {:?}",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    let lost = ORDERS - quotes.len() as u64;
    println!("sent: {ORDERS}, received: {}, in order: {in_order}, lost: {lost}", quotes.len());
    actor.terminate();
}

fn exit_with(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}
