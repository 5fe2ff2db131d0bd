//! The macros end to end: handlers compiled to PTX by build.rs, run natively with the DSL's
//! semantics (checked bit for bit against the reference interpreter of the IR), used through
//! the generated kernel and rule types, registered and swapped in the registry.

use std::path::PathBuf;
use std::sync::Arc;

use ringkernel::__private::{ByteHandler, take_errors};
use ringkernel::rules::{NoopSwapBackend, RuleRegistry, find_host_rule, rule_digest};
use ringkernel::{
    GpuKernel, Hlc, RingContext, RingKernelHandler, RingMessage, device, ring_kernel, rule,
};
use ringkernel_codegen::abi::error;
use ringkernel_codegen::dev::{Context, lower_source, run_handler};

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Pair {
    pub a: i32,
    pub b: i32,
    pub index: u8,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Outcome {
    pub sum: i32,
    pub quotient: i32,
    pub remainder: i32,
    pub picked: u32,
    pub negated: i32,
    pub shifted: i32,
    pub magnitude: i32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Tally {
    pub total: i64,
    pub seen: [u16; 4],
}

#[device]
fn halve(x: i32) -> i32 {
    x / 2
}

#[ring_kernel(id = "e2e-semantics", block_size = 64)]
fn semantics(_ctx: &mut RingContext, m: Pair) -> Outcome {
    let xs = [10u32, 20, 30, 40];
    Outcome {
        sum: m.a + m.b,
        quotient: m.a / m.b,
        remainder: m.a % m.b,
        picked: xs[m.index as usize],
        negated: -m.a,
        shifted: m.a << m.b,
        magnitude: halve(m.a).abs(),
    }
}

#[ring_kernel(id = "e2e-tally")]
async fn tally(_ctx: &mut RingContext, t: &mut Tally, m: Pair) -> i64 {
    t.total += m.a as i64;
    t.seen[m.index as usize] += 1;
    t.total
}

#[rule(id = "e2e-rule", version = 1, compute_cap = "sm_80")]
fn e2e_rule_v1(_ctx: &mut RingContext, m: Pair) -> i32 {
    m.a * 2
}

#[rule(id = "e2e-rule", version = 2, compute_cap = "sm_80")]
fn e2e_rule_v2(_ctx: &mut RingContext, m: Pair) -> i32 {
    m.a * 3
}

fn ctx() -> RingContext {
    RingContext::new("e2e", 0, Arc::new(Hlc::new(0)))
}

#[test]
fn handlers_keep_the_dsl_semantics_natively() {
    take_errors();
    let m = Pair { a: i32::MAX, b: 0, index: 9 };
    let out = semantics(&mut ctx(), m);
    assert_eq!(out.sum, i32::MAX, "MAX + 0");
    assert_eq!((out.quotient, out.remainder, out.picked), (0, 0, 0));
    assert_eq!(
        take_errors(),
        [error::DIVISION_BY_ZERO, error::DIVISION_BY_ZERO, error::INDEX_OUT_OF_BOUNDS]
    );
    let wraps = semantics(&mut ctx(), Pair { a: i32::MIN, b: -1, index: 1 });
    assert_eq!(
        (wraps.sum, wraps.quotient, wraps.negated, wraps.shifted, wraps.picked),
        (i32::MAX, i32::MIN, i32::MIN, 0, 20)
    );
    assert_eq!(wraps.magnitude, -(i32::MIN / 2));
}

/// Deterministic pseudo-random numbers.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn native_handlers_match_the_interpreter_bit_for_bit() {
    let src = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/macros_end_to_end.rs"),
    )
    .unwrap();
    let (module, handlers) = lower_source(&src).expect("this file is valid DSL");
    let (_, id) = handlers.iter().find(|(a, _)| a.id == "e2e-semantics").unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for case in 0..500 {
        let pick = |seed: &mut u64| match next(seed) % 4 {
            0 => [0, 1, -1, i32::MIN, i32::MAX][(next(seed) % 5) as usize],
            1 => next(seed) as i32,
            _ => (next(seed) % 200) as i32 - 100,
        };
        let m = Pair { a: pick(&mut seed), b: pick(&mut seed), index: (next(&mut seed) % 6) as u8 };
        take_errors();
        let native = semantics(&mut ctx(), m).to_bytes();
        let native_errors = take_errors();
        let mut interp_ctx = Context::default();
        let interpreted =
            run_handler(&module, *id, &mut [], &m.to_bytes(), &mut interp_ctx, 10_000).unwrap();
        assert_eq!(native, interpreted, "case {case}: {m:?}");
        assert_eq!(native_errors, interp_ctx.errors, "case {case}: {m:?}");
    }
}

#[tokio::test]
async fn generated_kernel_types_are_handlers_and_kernels() {
    let mut kernel = TallyKernel::default();
    assert_eq!((kernel.id(), kernel.queue_capacity()), ("e2e-tally", 1024));
    assert_eq!(SemanticsKernel.launch_config().block_size, 64);
    let mut c = ctx();
    assert_eq!(kernel.handle(&mut c, Pair { a: 5, b: 0, index: 2 }).await, Ok(5));
    assert_eq!(kernel.handle(&mut c, Pair { a: -7, b: 0, index: 2 }).await, Ok(-2));
    assert_eq!(kernel.state, Tally { total: -2, seen: [0, 0, 2, 0] });

    // The byte interface the CPU backend drives, state carried in and out.
    let mut response = [0u8; 8];
    kernel.handle_bytes(&mut c, &Pair { a: 10, b: 0, index: 0 }.to_bytes(), &mut response).unwrap();
    assert_eq!(i64::from_le_bytes(response), 8);
    let saved = kernel.state_bytes();
    let mut fresh = TallyKernel::default();
    fresh.set_state_bytes(&saved).unwrap();
    assert_eq!(fresh.state, kernel.state);
    assert!(fresh.set_state_bytes(&saved[..3]).is_err());
    assert!(
        kernel.handle_bytes(&mut c, &[1, 2], &mut response).is_err(),
        "a message of the wrong size is an error"
    );
    assert_eq!(kernel.sizes(), (12, 8, 16));

    let artifact = kernel.ptx_artifact().unwrap();
    assert!(artifact.contains(".visible .entry tally_persistent("));
    assert!(artifact.contains(".visible .entry tally_batch("));
}

#[tokio::test]
async fn rules_register_swap_and_find_their_host_implementation() {
    let registry = RuleRegistry::new(4, Arc::new(NoopSwapBackend));
    let v1 = E2eRuleV1Rule::compiled();
    assert_eq!(
        (v1.rule_id.as_str(), v1.version, v1.compute_cap.as_str()),
        ("e2e-rule", 1, "sm_80")
    );
    registry.register_rule(v1.clone(), "sm_90").await.unwrap();
    let report = registry.reload_rule(E2eRuleV2Rule::compiled(), "sm_90").await.unwrap();
    assert_eq!((report.from_version, report.to_version), (1, 2));

    let host = find_host_rule(&E2eRuleV2Rule::compiled()).expect("v2 has a host implementation");
    assert_eq!((host.id, host.version), ("e2e-rule", 2));
    let mut handler = (host.new_handler)();
    let mut response = [0u8; 4];
    handler
        .handle_bytes(&mut ctx(), &Pair { a: 7, b: 0, index: 0 }.to_bytes(), &mut response)
        .unwrap();
    assert_eq!(i32::from_le_bytes(response), 21, "v2 triples");
    // A tampered artifact (other PTX) has no host implementation.
    let mut tampered = v1;
    tampered.ptx.extend_from_slice(b"// edited\n");
    assert!(find_host_rule(&tampered).is_none());
    assert_ne!(rule_digest(&tampered), rule_digest(&E2eRuleV1Rule::compiled()));
}

#[test]
fn generated_artifacts_assemble_with_ptxas() {
    let Ok(ptxas) = std::env::var("RINGKERNEL_PTXAS") else {
        assert_ne!(
            std::env::var("RINGKERNEL_REQUIRE_PTXAS").as_deref(),
            Ok("1"),
            "RINGKERNEL_REQUIRE_PTXAS=1 but RINGKERNEL_PTXAS is not set"
        );
        println!("SKIPPED generated_artifacts_assemble_with_ptxas: RINGKERNEL_PTXAS is not set");
        return;
    };
    let dir = std::env::temp_dir().join(format!("rk-e2e-ptxas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, artifact, arch) in [
        ("semantics", SemanticsKernel::ARTIFACT, "sm_70"),
        ("tally", TallyKernel::ARTIFACT, "sm_70"),
        ("rule-v1", E2eRuleV1Rule::ARTIFACT, "sm_80"),
        ("rule-v2", E2eRuleV2Rule::ARTIFACT, "sm_80"),
    ] {
        let file = dir.join(format!("{name}.ptx"));
        std::fs::write(&file, artifact).unwrap();
        let out = std::process::Command::new(&ptxas)
            .arg(format!("-arch={arch}"))
            .arg(&file)
            .arg("-o")
            .arg(dir.join("out.cubin"))
            .output()
            .expect("run ptxas");
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
