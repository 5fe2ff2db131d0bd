//! All-or-nothing rollout on real emulated devices: three runtimes on the emulated backend
//! (three PTX VMs, each running the rule as a persistent kernel), one `HotReloadManager` over
//! their registries. A device that cannot take the new version (a capability it lacks) stops
//! the rollout before any swap: every actor still answers as v1. Without it, every device
//! swaps and every actor answers as v2, its state kept.

use ringkernel::rules::{CompiledRule, HotReloadManager, RolloutPhase};
use ringkernel::{Backend, RingContext, RingMessage, Runtime, rule};

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Count {
    pub total: u64,
}

#[rule(id = "fleet", version = 1)]
fn fleet_v1(_ctx: &mut RingContext, c: &mut Count, x: u32) -> u64 {
    c.total += x as u64;
    c.total
}

/// v2 (PTX-only, for `target`): adds 1000 per message on top.
fn fleet_v2(target: &str) -> CompiledRule {
    let source = format!(
        "#[derive(RingMessage)] #[repr(C)] pub struct Count {{ pub total: u64 }}\n\
         #[rule(id = \"fleet\", version = 2, compute_cap = \"{target}\")]\n\
         fn fleet_v2(ctx: &mut RingContext, c: &mut Count, x: u32) -> u64 {{ c.total += x as u64 + 1000; c.total }}\n"
    );
    let artifact =
        ringkernel_codegen::compile_source(&source, &Default::default()).unwrap().remove(0);
    CompiledRule::from_artifact(&artifact)
}

#[test]
fn a_rollout_over_three_emulated_devices_is_all_or_nothing() {
    let runtimes: Vec<Runtime> =
        (0..3).map(|_| Runtime::builder().backend(Backend::Emulated).build().unwrap()).collect();
    let executor = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    // The third device says it is an sm_75 part.
    let mut manager = HotReloadManager::from_registry("sm_90", runtimes[0].rule_registry().clone());
    manager.add_registry("sm_90", runtimes[1].rule_registry().clone());
    manager.add_registry("sm_75", runtimes[2].rule_registry().clone());
    executor.block_on(async {
        for result in manager.register_everywhere(&FleetV1Rule::compiled()).await {
            result.unwrap();
        }
    });
    let handles: Vec<_> =
        runtimes.iter().map(|rt| rt.rule_actor::<u32, u64>("fleet").unwrap()).collect();
    for handle in &handles {
        assert_eq!(handle.call_blocking(5), Ok(5));
    }

    // v2 for sm_80: the sm_75 device refuses it, the others discard what they staged.
    let report = executor.block_on(manager.reload_everywhere_atomic(&fleet_v2("sm_80")));
    assert!(!report.committed, "{report:?}");
    assert!(
        matches!(&report.devices[2].phases[..], [RolloutPhase::StageFailed(r)] if r.contains("sm_80")),
        "{report:?}"
    );
    for device in &report.devices[..2] {
        assert_eq!(device.phases, [RolloutPhase::Staged, RolloutPhase::Discarded]);
    }
    for handle in &handles {
        assert_eq!(handle.call_blocking(1), Ok(6), "v1 still answers everywhere");
    }

    // v2 for sm_75: everywhere, each actor's state carried over.
    let report = executor.block_on(manager.reload_everywhere_atomic(&fleet_v2("sm_75")));
    assert!(report.committed, "{report:?}");
    for (i, handle) in handles.iter().enumerate() {
        assert_eq!(handle.call_blocking(1), Ok(1007), "device {i}: v2 with v1's state");
        assert_eq!(runtimes[i].rule_registry().get_active("fleet").map(|h| h.version), Some(2));
    }
    for handle in handles {
        handle.terminate();
    }
}
