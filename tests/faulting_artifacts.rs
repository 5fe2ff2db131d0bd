//! A PTX-only artifact whose kernel dereferences a wild pointer (as hand-written PTX from
//! another tool might): on `Emulated` the persistent kernel faults in the PTX VM, and the
//! handle reports the actor gone with the VM's reason instead of leaving callers waiting; on
//! `Cpu` (the artifact's batch entry run in the PTX VM per message) the faulting message gets
//! a failed response, the actor keeps serving, and nothing else changes. Never a panic.

#[macro_use]
mod common;

use ringkernel::rules::CompiledRule;
use ringkernel::{Backend, CallError};

on_every_backend!(a_wild_pointer_in_a_ptx_only_kernel_is_an_error_value);

/// A stateless `u32 -> u32` rule whose persistent and batch entries first load from address
/// 0 (unmapped on every device) when the message is 13.
fn wild_rule() -> CompiledRule {
    let source = r#"
        #[rule(id = "wild", version = 1)]
        fn wild(_ctx: &mut RingContext, x: u32) -> u32 { x + 1 }
    "#;
    let artifact =
        ringkernel_codegen::compile_source(source, &Default::default()).unwrap().remove(0);
    let mut text = artifact.to_text();
    let wild =
        "\t.reg .b64 \t%wild<2>;\n\tmov.u64 \t%wild0, 0;\n\tld.global.u64 \t%wild1, [%wild0];\n";
    // Persistent entry: fault on the first message (after acknowledging RUN).
    let at = text.find("$L__loop:\n").expect("the persistent loop") + "$L__loop:\n".len();
    let probe = "\tld.acquire.sys.u64 \t%rd14, [%rd2+64];\n\tsetp.eq.u64 \t%p3, %rd14, %rd12;\n\t@%p3 bra \t$L__idle;\n";
    text.insert_str(at, &format!("{probe}{wild}"));
    // Batch entry: fault right away.
    let batch = text.find(".entry wild_batch(").expect("the batch entry");
    let body = batch + text[batch..].find("{\n").unwrap() + 2;
    let first_load = body + text[body..].find("\tld.param").unwrap();
    text.insert_str(first_load, wild);
    let rule = CompiledRule::from_artifact_text(&text).expect("the edited artifact parses");
    assert!(ringkernel::rules::find_host_rule(&rule).is_none());
    rule
}

fn a_wild_pointer_in_a_ptx_only_kernel_is_an_error_value(backend: Backend) {
    common::block_on(async move {
        let rt = common::runtime(backend);
        let registry = rt.rule_registry().clone();
        registry.register_rule(wild_rule(), "sm_90").await.expect("it validates and launches");
        let handle = rt.rule_actor::<u32, u32>("wild").unwrap();
        let result = handle.call(5).await;
        match backend {
            Backend::Cpu => {
                assert!(
                    matches!(result, Err(CallError::Faulted { sequence: 0, .. })),
                    "{result:?}"
                );
                assert!(handle.failure().is_none(), "the actor thread keeps serving");
                assert!(matches!(handle.call(6).await, Err(CallError::Faulted { .. })));
                assert_eq!(handle.terminate().processed, 2);
            }
            _ => {
                assert_eq!(result, Err(CallError::Terminated), "the kernel died: no answer");
                let why = handle.failure().expect("the handle says why");
                eprintln!("emulated failure: {why}");
                assert!(why.contains("illegal address"), "{why}");
                assert!(handle.try_send(1).is_err(), "sends fail once the kernel is gone");
                handle.terminate(); // returns: nothing left to wait for
            }
        }
    });
}
