//! Pipelines of kernels linked directly (one stage's output ring is the next one's input
//! ring), on every backend: calls through three stages return the composition; ten thousand
//! numbered messages arrive once each, in order; a stopped middle stage fills its input ring,
//! the stage before it waits (back-pressure) and nothing is lost when it runs again; each
//! stage counts what went through it; a fault in a stage reaches the caller of its message.

#[macro_use]
mod common;

use std::time::{Duration, Instant};

use ringkernel::{
    Backend, CallError, Checkpoint, CheckpointError, Fault, Pipeline, RingContext, RingMessage,
    RingPlacement, ring_kernel,
};

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Raw {
    pub id: u32,
    pub bytes: [u8; 8],
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Parsed {
    pub id: u32,
    pub price: u32,
    pub qty: u32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Scored {
    pub id: u32,
    pub score: u32,
    pub notional: u64,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Routed {
    pub id: u32,
    pub venue: u32,
    pub notional: u64,
    pub seen: u64,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Seen {
    pub count: u64,
}

#[ring_kernel(id = "pipe-parse", queue_capacity = 16)]
fn parse(_ctx: &mut RingContext, raw: Raw) -> Parsed {
    let mut price = 0u32;
    for i in 0..4 {
        price = price * 256 + raw.bytes[i] as u32;
    }
    let qty = raw.bytes[4] as u32 * 256 + raw.bytes[5] as u32;
    Parsed { id: raw.id, price, qty }
}

#[ring_kernel(id = "pipe-score", queue_capacity = 16, max_steps = 64)]
fn score(_ctx: &mut RingContext, p: Parsed) -> Scored {
    // A quantity of 65,000 or more spins past the budget: aborted, a failed message that the
    // next stage passes on.
    let mut spins = 0;
    while spins < p.qty / 1000 {
        spins += 1;
    }
    // A zero quantity divides by zero: a fault for that message's caller.
    Scored { id: p.id, score: p.price / p.qty, notional: p.price as u64 * p.qty as u64 }
}

#[ring_kernel(id = "pipe-route", queue_capacity = 16)]
fn route(_ctx: &mut RingContext, seen: &mut Seen, s: Scored) -> Routed {
    seen.count += 1;
    Routed { id: s.id, venue: s.score % 3, notional: s.notional, seen: seen.count }
}

fn raw(id: u32) -> Raw {
    let price = id.wrapping_mul(2654435761) % 100_000 + 1;
    let qty = (id % 200) as u16 + 1;
    let [p0, p1, p2, p3] = price.to_be_bytes();
    let [q0, q1] = qty.to_be_bytes();
    Raw { id, bytes: [p0, p1, p2, p3, q0, q1, 0, 0] }
}

fn expected(r: Raw, seen: u64) -> Routed {
    let price = u32::from_be_bytes([r.bytes[0], r.bytes[1], r.bytes[2], r.bytes[3]]);
    let qty = u16::from_be_bytes([r.bytes[4], r.bytes[5]]) as u32;
    let score = price.checked_div(qty).unwrap_or(0);
    Routed { id: r.id, venue: score % 3, notional: price as u64 * qty as u64, seen }
}

on_every_backend!(
    three_linked_stages_lose_nothing_keep_order_and_push_back,
    a_restored_stage_goes_on_where_its_checkpoint_was
);

fn three_linked_stages_lose_nothing_keep_order_and_push_back(backend: Backend) {
    let rt = common::runtime(backend);
    let pipeline =
        rt.pipeline(ParseKernel).then(ScoreKernel).then(RouteKernel::default()).launch().unwrap();
    let ends = pipeline.handle();
    assert_eq!(ends.id(), "pipe-parse -> pipe-score -> pipe-route");
    // The host's rings are the ends; on a device the two links are the kernels' alone.
    let rings = pipeline.rings().unwrap();
    let (host, link) = match backend {
        Backend::Cpu => (RingPlacement::Host, RingPlacement::Host),
        _ => (RingPlacement::Mapped, RingPlacement::Device),
    };
    let placements: Vec<_> = rings.iter().map(|r| r.placement).collect();
    assert_eq!(placements, [host, link, link, host], "{backend}");
    let names = |r: &ringkernel::RingReport| (r.from.clone(), r.to.clone());
    let stage = |name: &str| Some(name.to_owned());
    assert_eq!(
        rings.iter().map(names).collect::<Vec<_>>(),
        [
            (None, stage("pipe-parse")),
            (stage("pipe-parse"), stage("pipe-score")),
            (stage("pipe-score"), stage("pipe-route")),
            (stage("pipe-route"), None),
        ]
    );
    assert!(rings.iter().all(|r| r.capacity == 16 && r.queued == 0), "{backend}: {rings:?}");
    assert_eq!(ends.call_blocking(raw(1)), Ok(expected(raw(1), 1)));

    // Ten thousand numbered messages: one sender, one receiver, many in flight.
    const N: u32 = 10_000;
    let receiver = {
        let ends = ends.clone();
        std::thread::spawn(move || {
            (0..N).map(|_| ends.receive_blocking().unwrap()).collect::<Vec<_>>()
        })
    };
    for id in 2..N + 2 {
        ends.send_blocking(raw(id)).unwrap();
    }
    let got = receiver.join().unwrap();
    for (i, r) in got.iter().enumerate() {
        let id = i as u32 + 2;
        assert_eq!(r.value, expected(raw(id), u64::from(id)), "{backend}: message {id}");
        assert_eq!(r.sequence, u64::from(id) - 1, "{backend}: sequence ids pass through");
    }

    // Back-pressure: stop the middle stage; the first fills its input ring and its output
    // ring (16 each), then the ends' ring fills; sends wait, nothing is dropped.
    assert!(pipeline.stages()[1].deactivate());
    let mut sent = 0;
    while ends.try_send(raw(20_000 + sent)).is_ok() {
        sent += 1;
        assert!(sent <= 64, "{backend}: the rings should have filled");
    }
    assert!(sent >= 16, "{backend}: only {sent} fit");
    // The first stage goes on until the ring in front of the stopped one is full.
    assert!(
        settles(&pipeline, |queued| queued[1] == 16),
        "{backend}: the stopped stage's input ring: {:?}",
        pipeline.rings()
    );
    assert_eq!(pipeline.stages()[1].metrics().queued, 16, "{backend}");
    // The metrics text shows each stage by its kernel id, besides the pipeline's ends.
    let text = rt.metrics_text();
    let series = |name: &str, actor: &str, value: u64| {
        format!("{name}{{actor=\"{actor}\",backend=\"{backend}\"}} {value}")
    };
    for line in [
        series("ringkernel_queue_depth", "pipe-score", 16),
        series("ringkernel_messages_processed_total", "pipe-route", u64::from(N) + 1),
        series(
            "ringkernel_messages_processed_total",
            "pipe-parse -> pipe-score -> pipe-route",
            u64::from(N) + 1,
        ),
    ] {
        assert!(text.lines().any(|l| l == line), "{backend}: no `{line}` in\n{text}");
    }
    assert_eq!(pipeline.stages()[2].metrics().processed, u64::from(N) + 1);
    assert!(pipeline.stages()[1].activate());
    for i in 0..sent {
        let r = ends.receive_blocking().unwrap();
        assert_eq!(r.value.id, 20_000 + i, "{backend}: order after the stall");
    }

    assert!(
        settles(&pipeline, |queued| queued.iter().all(|&q| q == 0)),
        "{backend}: drained: {:?}",
        pipeline.rings()
    );

    // A fault in the middle stage (a zero quantity) reaches its caller.
    let mut zero = raw(7);
    zero.bytes[4] = 0;
    zero.bytes[5] = 0;
    let err = ends.call_blocking(zero).unwrap_err();
    assert!(
        matches!(err, CallError::Faulted { fault: Fault::DivisionByZero, .. }),
        "{backend}: {err:?}"
    );
    // Aborted in the middle stage: the last one passes the failure on without running.
    let mut huge = raw(8);
    huge.bytes[4] = 0xff;
    huge.bytes[5] = 0xff;
    let err = ends.call_blocking(huge).unwrap_err();
    assert!(
        matches!(err, CallError::Faulted { fault: Fault::BudgetExhausted, value: None, .. }),
        "{backend}: {err:?}"
    );
    let total = u64::from(N) + 1 + u64::from(sent) + 2;
    for stage in pipeline.stages() {
        assert_eq!(stage.metrics().processed, total, "{backend}: {}", stage.id());
    }
    let (score, route) = (pipeline.stages()[1].metrics(), pipeline.stages()[2].metrics());
    assert_eq!((score.errors, score.aborted), (2, 1), "{backend}: counted where they happened");
    assert_eq!((route.errors, route.aborted), (0, 0), "{backend}: passed on, not counted again");
    // A stage stops on its own; its final state is the count of what it routed.
    let seen = Seen::decode(&pipeline.stages()[2].terminate().unwrap()).unwrap();
    assert_eq!(seen.count, total - 1, "{backend}: the aborted message never reached its handler");
    let report = pipeline.terminate();
    assert_eq!(report.processed, total);
}

fn a_restored_stage_goes_on_where_its_checkpoint_was(backend: Backend) {
    let rt = common::runtime(backend);
    let pipeline =
        rt.pipeline(ParseKernel).then(ScoreKernel).then(RouteKernel::default()).launch().unwrap();
    for id in 1..=5 {
        assert_eq!(pipeline.handle().call_blocking(raw(id)), Ok(expected(raw(id), u64::from(id))));
    }
    let checkpoint = pipeline.stages()[2].checkpoint().unwrap();
    assert_eq!((checkpoint.kernel_id.as_str(), checkpoint.messages_processed), ("pipe-route", 5));
    pipeline.terminate();
    drop(pipeline);
    // Through its bytes (a file's), into a new pipeline on this backend and on the CPU.
    let read = Checkpoint::from_bytes(&checkpoint.to_bytes()).unwrap();
    for target in [backend, Backend::Cpu] {
        let rt = common::runtime(target);
        let restored = rt
            .pipeline(ParseKernel)
            .then(ScoreKernel)
            .then(RouteKernel::default())
            .restored_from(&read)
            .unwrap()
            .launch()
            .unwrap();
        let next = restored.handle().call_blocking(raw(6));
        assert_eq!(next, Ok(expected(raw(6), 6)), "{backend} -> {target}: the count goes on");
        let processed: Vec<u64> = restored.stages().iter().map(|s| s.metrics().processed).collect();
        assert_eq!(
            processed,
            [1, 1, 6],
            "{backend} -> {target}: only the restored stage's counters"
        );
        assert!(
            restored.stages()[2].checkpoint().unwrap().hlc > checkpoint.hlc,
            "{backend} -> {target}: the clock goes on"
        );
        restored.terminate();
    }
    // A checkpoint of another kernel does not fit a stage: refused, with the reason.
    let refused = rt.pipeline(ParseKernel).then(ScoreKernel).restored_from(&read);
    let err = refused.err().expect("refused");
    assert!(
        matches!(&err, CheckpointError::Incompatible { kernel, .. } if kernel == "pipe-score"),
        "{backend}: {err}"
    );
}

/// Whether the rings' queue lengths come to satisfy `settled` within five seconds.
fn settles(pipeline: &Pipeline<Raw, Routed>, settled: impl Fn(&[u64]) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let queued: Vec<u64> = pipeline.rings().unwrap().iter().map(|r| r.queued).collect();
        if settled(&queued) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
