//! Observability: `Runtime::metrics_text` in the Prometheus format with the documented
//! names, and `tracing` events for actor starts and stops and every registry operation
//! (successes with their phases, rejections with the reason).

use std::sync::{Arc, Mutex};

use ringkernel::rules::CompiledRule;
use ringkernel::{Backend, HandlerError, RingContext, RingKernelHandler, Runtime};

struct Double;

#[ringkernel::async_trait]
impl RingKernelHandler<u32, u32> for Double {
    async fn handle(&mut self, _ctx: &mut RingContext, msg: u32) -> Result<u32, HandlerError> {
        Ok(msg.wrapping_mul(2))
    }
}

fn rule(version: u64) -> CompiledRule {
    let source = format!(
        "#[rule(id = \"observed\", version = {version})]\nfn observed_v{version}(ctx: &mut RingContext, x: u32) -> u32 {{ x + {version} }}\n"
    );
    let artifact =
        ringkernel_codegen::compile_source(&source, &Default::default()).unwrap().remove(0);
    CompiledRule::from_artifact(&artifact)
}

/// Records every event's message and fields as text.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl tracing::Subscriber for Recorder {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields(format!("{}:", event.metadata().target()));
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn metrics_text_and_tracing_events_cover_actors_and_the_registry() {
    let recorder = Recorder::default();
    let events = recorder.0.clone();
    let text = tracing::subscriber::with_default(recorder, || {
        let rt = Runtime::builder().backend(Backend::Cpu).max_history(8).build().unwrap();
        let handle = rt.launch_handler("double", 16, Double).unwrap();
        for i in 0..5 {
            assert_eq!(handle.call_blocking(i), Ok(2 * i));
        }
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let registry = rt.rule_registry().clone();
        runtime.block_on(async {
            registry.register_rule(rule(1), "sm_90").await.unwrap();
            registry.reload_rule(rule(2), "sm_90").await.unwrap();
            registry.rollback_rule("observed", 1).await.unwrap();
            // Rejected: not above the active version, and a version already staged.
            assert!(registry.reload_rule(rule(1), "sm_90").await.is_err());
        });
        let observed = rt.rule_actor::<u32, u32>("observed").unwrap();
        assert_eq!(observed.call_blocking(10), Ok(11));
        let text = rt.metrics_text();
        handle.terminate();
        text
    });
    for line in [
        "# TYPE ringkernel_messages_processed_total counter",
        "ringkernel_messages_processed_total{actor=\"double\",backend=\"cpu\"} 5",
        "ringkernel_messages_processed_total{actor=\"observed\",backend=\"cpu\"} 1",
        "ringkernel_queue_depth{actor=\"double\",backend=\"cpu\"} 0",
        "ringkernel_errors_total{actor=\"double\",backend=\"cpu\"} 0",
        "ringkernel_first_error_code{actor=\"double\",backend=\"cpu\"} 0",
        "# TYPE ringkernel_messages_refused_total counter",
        "ringkernel_messages_refused_total{actor=\"double\",backend=\"cpu\"} 0",
        "ringkernel_messages_aborted_total{actor=\"observed\",backend=\"cpu\"} 0",
        "ringkernel_rule_active_version{rule=\"observed\"} 1",
        "ringkernel_rule_versions{rule=\"observed\",status=\"active\"} 1",
        "ringkernel_rule_versions{rule=\"observed\",status=\"rolled_back\"} 1",
    ] {
        assert!(text.lines().any(|l| l == line), "`{line}` missing from\n{text}");
    }
    assert!(
        text.contains(
            "ringkernel_handler_seconds{actor=\"double\",backend=\"cpu\",quantile=\"0.99\"}"
        ),
        "{text}"
    );
    // Every sample line is `name{labels} value` with a number.
    for sample in text.lines().filter(|l| !l.starts_with('#')) {
        let value = sample.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "not a number in `{sample}`");
    }

    let events = events.lock().unwrap().clone();
    let has = |needle: &[&str]| events.iter().any(|e| needle.iter().all(|n| e.contains(n)));
    assert!(has(&["ringkernel::actor", "actor started", "double"]), "{events:#?}");
    assert!(has(&["ringkernel::actor", "actor terminated", "processed=5"]), "{events:#?}");
    assert!(has(&["ringkernel::rules", "registered", "version=1"]), "{events:#?}");
    assert!(has(&["ringkernel::rules", "swapped", "Reload", "to=2", "quiesce_us"]), "{events:#?}");
    assert!(has(&["ringkernel::rules", "swapped", "Rollback", "to=1"]), "{events:#?}");
    assert!(has(&["ringkernel::rules", "rejected", "reason"]), "{events:#?}");
}
