//! Hot swap inside a pipeline, on `Cpu` and `Emulated`: a three-stage pipeline whose middle
//! stage is a rule actor carries 100,000 numbered messages while the registry reloads and rolls
//! back that stage 50 times. Upstream keeps producing into the link ring (waiting when it is
//! full), downstream drains, each new version takes over the same rings and state. Checked:
//! nothing lost or duplicated, order kept, every response carries the version of the middle
//! stage that handled it, those versions follow the activation order, and the middle stage's
//! state (a running count) was carried across every swap.

#[macro_use]
mod common;

use ringkernel::{Backend, RingContext, RingMessage, ring_kernel, rule};

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Order {
    pub seq: u32,
    pub qty: u32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Checked {
    pub seq: u32,
    pub qty: u32,
    pub parity: u32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Priced {
    pub seq: u32,
    pub version: u32,
    pub count: u64,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Booked {
    pub seq: u32,
    pub version: u32,
    pub count: u64,
    pub booked: u64,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Tally {
    pub count: u64,
}

#[ring_kernel(id = "swap-check", queue_capacity = 64)]
fn check(_ctx: &mut RingContext, o: Order) -> Checked {
    Checked { seq: o.seq, qty: o.qty, parity: o.qty % 2 }
}

/// As large as `Checked`, with other fields.
#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Reading {
    pub id: u16,
    pub kind: u16,
    pub level: u32,
    pub more: u32,
}

#[ring_kernel(id = "swap-read")]
fn read(_ctx: &mut RingContext, o: Order) -> Reading {
    Reading { id: o.seq as u16, kind: 1, level: o.qty, more: 0 }
}

#[rule(id = "swap-price", version = 1)]
fn price_v1(_ctx: &mut RingContext, t: &mut Tally, c: Checked) -> Priced {
    t.count += 1;
    Priced { seq: c.seq, version: 1, count: t.count }
}

#[rule(id = "swap-price", version = 2)]
fn price_v2(_ctx: &mut RingContext, t: &mut Tally, c: Checked) -> Priced {
    t.count += 1;
    Priced { seq: c.seq, version: 2, count: t.count }
}

#[rule(id = "swap-price", version = 3)]
fn price_v3(_ctx: &mut RingContext, t: &mut Tally, c: Checked) -> Priced {
    t.count += 1;
    Priced { seq: c.seq, version: 3, count: t.count }
}

#[ring_kernel(id = "swap-book", queue_capacity = 64)]
fn book(_ctx: &mut RingContext, t: &mut Tally, p: Priced) -> Booked {
    t.count += 1;
    Booked { seq: p.seq, version: p.version, count: p.count, booked: t.count }
}

fn compiled(version: u64) -> ringkernel::rules::CompiledRule {
    [PriceV1Rule::compiled, PriceV2Rule::compiled, PriceV3Rule::compiled][version as usize - 1]()
}

const MESSAGES: u32 = 100_000;
const SWAPS: usize = 50;

/// `BookKernel` without its PTX artifact: host threads run it, a device cannot.
struct UnbuiltBook(BookKernel);

impl ringkernel::GpuKernel for UnbuiltBook {
    fn id(&self) -> &str {
        "unbuilt-book"
    }
}

impl ringkernel::__private::ByteHandler for UnbuiltBook {
    fn handle_bytes(
        &mut self,
        ctx: &mut RingContext,
        message: &[u8],
        response: &mut [u8],
    ) -> Result<(), ringkernel::HandlerError> {
        self.0.handle_bytes(ctx, message, response)
    }
    fn state_bytes(&self) -> Vec<u8> {
        self.0.state_bytes()
    }
    fn set_state_bytes(&mut self, bytes: &[u8]) -> Result<(), ringkernel::MessageError> {
        self.0.set_state_bytes(bytes)
    }
    fn sizes(&self) -> (usize, usize, usize) {
        self.0.sizes()
    }
    fn type_ids(&self) -> (u64, u64) {
        self.0.type_ids()
    }
}

#[ringkernel::async_trait]
impl ringkernel::RingKernelHandler<Priced, Booked> for UnbuiltBook {
    async fn handle(
        &mut self,
        ctx: &mut RingContext,
        msg: Priced,
    ) -> Result<Booked, ringkernel::HandlerError> {
        self.0.handle(ctx, msg).await
    }
}

on_every_backend!(
    a_pipeline_that_cannot_launch_leaves_the_rule_actor_as_it_was,
    swapping_the_middle_stage_under_load_loses_nothing,
    a_rule_stage_whose_types_do_not_chain_is_refused_with_both_types
);

fn a_rule_stage_whose_types_do_not_chain_is_refused_with_both_types(backend: Backend) {
    common::block_on(async move {
        let rt = ringkernel::Runtime::builder().backend(backend).build().unwrap();
        rt.rule_registry().register_rule(compiled(1), "sm_90").await.unwrap();
        // `swap-price` takes `Checked`; the stage before it answers `Priced`.
        let refused = rt.pipeline(BookKernel::default()).then_rule::<Priced>("swap-price").launch();
        let err = refused.err().expect("refused").to_string();
        assert!(
            err.contains(
                "`swap-book` answers Booked (24 bytes) but `swap-price` takes Checked (12 bytes)"
            ),
            "{backend}: {err}"
        );
        // As many bytes, laid out otherwise: refused too, with both layouts.
        let refused = rt.pipeline(ReadKernel).then_rule::<Priced>("swap-price").launch();
        let err = refused.err().expect("refused").to_string();
        assert!(
            err.contains(
                "`swap-read` answers `Reading size=12 align=4 fields=id@0:2,kind@2:2,level@4:4,more@8:4` but `swap-price` takes `Checked size=12 align=4 fields=seq@0:4,qty@4:4,parity@8:4`"
            ),
            "{backend}: {err}"
        );
        // The rule's actor was left alone: it still answers through its own handle.
        let standalone = rt.rule_actor::<Checked, Priced>("swap-price").unwrap();
        assert_eq!(standalone.call_blocking(Checked { seq: 5, qty: 1, parity: 1 }).unwrap().seq, 5);
        // A rule stage keeps the rule's own state: a checkpoint is not put into it.
        let checkpoint = standalone.checkpoint().unwrap();
        let refused =
            rt.pipeline(CheckKernel).then_rule::<Priced>("swap-price").restored_from(&checkpoint);
        let err = refused.err().expect("refused").to_string();
        assert!(err.contains("a rule stage runs the rule's actor"), "{backend}: {err}");
        let unknown = rt.pipeline(CheckKernel).then_rule::<Priced>("no-such-rule").launch();
        assert!(unknown.err().expect("refused").to_string().contains("has no running actor"));
    })
}

fn a_pipeline_that_cannot_launch_leaves_the_rule_actor_as_it_was(backend: Backend) {
    common::block_on(async move {
        let rt = ringkernel::Runtime::builder().backend(backend).build().unwrap();
        rt.rule_registry().register_rule(compiled(1), "sm_90").await.unwrap();
        let launched = rt
            .pipeline(CheckKernel)
            .then_rule::<Priced>("swap-price")
            .then(UnbuiltBook(BookKernel::default()))
            .launch();
        let standalone = rt.rule_actor::<Checked, Priced>("swap-price").unwrap();
        let probe = Checked { seq: 9, qty: 1, parity: 1 };
        match launched {
            // Host threads need no PTX: the pipeline runs, and the rule is its stage now.
            Ok(pipeline) => {
                assert_eq!(backend, Backend::Cpu);
                let booked = pipeline.handle().call_blocking(Order { seq: 3, qty: 1 }).unwrap();
                assert_eq!((booked.seq, booked.version), (3, 1));
                assert!(standalone.try_send(probe).is_err(), "the stage's own handle is retired");
                pipeline.terminate();
            }
            // A device cannot launch the last stage: refused before the rule's actor moved.
            Err(e) => {
                assert_ne!(backend, Backend::Cpu);
                assert!(e.to_string().contains("no PTX artifact"), "{backend}: {e}");
                let priced = standalone.call_blocking(probe).unwrap();
                assert_eq!((priced.seq, priced.count), (9, 1), "{backend}: untouched");
            }
        }
    })
}

fn swapping_the_middle_stage_under_load_loses_nothing(backend: Backend) {
    common::block_on(swap_in_pipeline(backend));
}

async fn swap_in_pipeline(backend: Backend) {
    let rt = ringkernel::Runtime::builder().backend(backend).max_history(8).build().unwrap();
    let registry = rt.rule_registry().clone();
    registry.register_rule(compiled(1), "sm_90").await.unwrap();
    let pipeline = rt
        .pipeline(CheckKernel)
        .then_rule::<Priced>("swap-price")
        .then(BookKernel::default())
        .launch()
        .unwrap();
    // On a device the rule's kernel reads and writes device memory, as the kernel stages do.
    let placements: Vec<_> = pipeline.rings().unwrap().iter().map(|r| r.placement).collect();
    let link = match backend {
        Backend::Cpu => ringkernel::RingPlacement::Host,
        _ => ringkernel::RingPlacement::Device,
    };
    assert_eq!(placements[1..3], [link, link], "{backend}");
    // The rule's own handle is retired: its actor now belongs to the pipeline.
    let standalone = rt.rule_actor::<Checked, Priced>("swap-price").unwrap();
    assert!(matches!(
        standalone.try_send(Checked { seq: 0, qty: 0, parity: 0 }),
        Err(ringkernel::SendError::Terminated(_))
    ));
    // Terminating the retired handle leaves the stage running.
    standalone.terminate();
    let ends = pipeline.handle().clone();
    let producer = {
        let ends = ends.clone();
        std::thread::spawn(move || {
            for seq in 0..MESSAGES {
                ends.send_blocking(Order { seq, qty: seq % 97 }).unwrap();
            }
        })
    };
    let consumer = {
        let ends = ends.clone();
        std::thread::spawn(move || {
            (0..MESSAGES).map(|_| ends.receive_blocking().unwrap().value).collect::<Vec<_>>()
        })
    };
    // Reload and roll back the middle stage while messages flow.
    let plan: [(bool, u64); 4] = [(true, 2), (true, 3), (false, 2), (false, 1)];
    let mut activations = vec![1u32];
    let mut most_in_flight = 0;
    for swap in 0..SWAPS {
        let (reload, version) = plan[swap % plan.len()];
        let report = if reload {
            registry.reload_rule(compiled(version), "sm_90").await.unwrap()
        } else {
            registry.rollback_rule("swap-price", version).await.unwrap()
        };
        most_in_flight = most_in_flight.max(report.messages_in_flight);
        activations.push(version as u32);
        tokio::time::sleep(std::time::Duration::from_micros(300)).await;
    }
    producer.join().unwrap();
    let responses = consumer.join().unwrap();

    assert_eq!(responses.len() as u32, MESSAGES, "{backend}: messages lost");
    let mut epoch = 0;
    for (i, r) in responses.iter().enumerate() {
        assert_eq!(r.seq, i as u32, "{backend}: lost, duplicated or out of order at {i}");
        assert_eq!(r.count, i as u64 + 1, "{backend}: the middle stage's state was not carried");
        assert_eq!(r.booked, i as u64 + 1, "{backend}: the last stage's state");
        while activations[epoch] != r.version {
            epoch += 1;
            assert!(
                epoch < activations.len(),
                "{backend}: v{} out of activation order at {i}",
                r.version
            );
        }
    }
    let changes = responses.windows(2).filter(|w| w[0].version != w[1].version).count();
    println!(
        "{backend}: {MESSAGES} messages through 3 stages, {SWAPS} swaps of the middle one, {changes} version changes seen"
    );
    assert!(changes > 0, "{backend}: no swap happened while messages flowed");
    // The reports count what waited in the link ring in front of the stage.
    assert!(most_in_flight > 0, "{backend}: no swap saw a message queued in front of the stage");
    for stage in pipeline.stages() {
        assert_eq!(stage.metrics().processed, u64::from(MESSAGES), "{backend}: {}", stage.id());
    }
    // A checkpoint of the middle stage records the version running now, and its count.
    let checkpoint = pipeline.stages()[1].checkpoint().unwrap();
    assert_eq!(checkpoint.version, u64::from(*activations.last().unwrap()), "{backend}");
    assert_eq!(Tally::decode(&checkpoint.state).unwrap().count, u64::from(MESSAGES));
    // Stopped, the middle stage's queue is its link ring's, for the stage, the rule's own
    // handle and the metrics text alike.
    assert!(pipeline.stages()[1].deactivate());
    for seq in MESSAGES..MESSAGES + 5 {
        ends.send_blocking(Order { seq, qty: 1 }).unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while pipeline.rings().unwrap()[1].queued < 5 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert_eq!(pipeline.stages()[1].metrics().queued, 5, "{backend}");
    assert_eq!(standalone.metrics().queued, 5, "{backend}");
    let depth = format!("ringkernel_queue_depth{{actor=\"swap-price\",backend=\"{backend}\"}} 5");
    assert!(rt.metrics_text().contains(&depth), "{backend}: {}", rt.metrics_text());
    assert!(pipeline.stages()[1].activate());
    for seq in MESSAGES..MESSAGES + 5 {
        assert_eq!(ends.receive_blocking().unwrap().value.seq, seq, "{backend}");
    }
    pipeline.terminate();
}
