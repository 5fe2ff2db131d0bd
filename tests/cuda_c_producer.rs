//! A CUDA C producer of artifacts: version 2 of a rule written in CUDA C with
//! `include/ringkernel.cuh` (`tests/cuda/load_v2.cu`), compiled by NVRTC (PyPI's
//! `nvidia-cuda-nvrtc-cu12`, no GPU), wrapped like the Rust version 1, signed and dropped into
//! a watched directory, replaces the running Rust version under load on the emulated backend
//! (its persistent entry, relaunched on the same rings and state) and on the CPU backend (its
//! batch entry in the PTX VM): nothing lost, order and state kept, and every response after
//! the swap is the CUDA C version's. And: the header's struct offsets are the ABI's.
//!
//! Needs python3 and libnvrtc (`$RINGKERNEL_NVRTC` or `.venv`); without them the tests print
//! why they skipped, and fail instead when `RINGKERNEL_REQUIRE_NVRTC=1` (as in CI).

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringkernel::rules::{CompiledRule, Ed25519Verifier, SigningKey, sign_rule};
use ringkernel::watch::{ArtifactWatcher, WatchEvent, WatchOptions};
use ringkernel::{Backend, RingContext, RingMessage, Runtime, rule};
use ringkernel_codegen::artifact::Artifact;

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Tagged {
    pub stream: u32,
    pub seq: u32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Stamped {
    pub stream: u32,
    pub seq: u32,
    pub version: u32,
    pub count: u64,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct LoadState {
    pub count: u64,
}

#[rule(id = "cudac", version = 1)]
fn cudac_v1(_ctx: &mut RingContext, s: &mut LoadState, m: Tagged) -> Stamped {
    s.count += 1;
    Stamped { stream: m.stream, seq: m.seq, version: 1, count: s.count }
}

/// NVRTC's PTX for `source` (CUDA C text), with `include/` on the include path; `None`
/// (the reason printed) where NVRTC is unavailable and not required.
fn nvrtc(name: &str, source: &str) -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = std::env::temp_dir().join(format!("ringkernel-{name}-{}.cu", std::process::id()));
    std::fs::write(&file, source).unwrap();
    let out = Command::new("python3")
        .arg(root.join("scripts/nvrtc/nvrtc_ptx.py"))
        .arg(&file)
        .arg("sm_70")
        .arg(format!("--include-path={}", root.join("include").display()))
        .arg(format!("--include-path={}", root.join("tests/cuda").display()))
        .current_dir(root)
        .output();
    let _ = std::fs::remove_file(&file);
    let why = match out {
        Ok(o) if o.status.success() => return Some(String::from_utf8(o.stdout).unwrap()),
        Ok(o) if String::from_utf8_lossy(&o.stderr).contains("compile failed") => {
            panic!("NVRTC refused {name}: {}", String::from_utf8_lossy(&o.stderr))
        }
        Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
        Err(e) => format!("cannot run python3: {e}"),
    };
    if std::env::var("RINGKERNEL_REQUIRE_NVRTC").is_ok_and(|v| v == "1") {
        panic!(
            "NVRTC is required (RINGKERNEL_REQUIRE_NVRTC=1) but failed or is unavailable: {why}"
        );
    }
    println!("skipped: NVRTC unavailable ({why}); install nvidia-cuda-nvrtc-cu12 into .venv");
    None
}

#[test]
fn the_header_s_structs_have_the_abi_s_offsets_and_sizes() {
    use ringkernel_codegen::abi::offsets as o;
    use ringkernel_codegen::abi::{ControlBlock, QueueHeader, SlotHeader, error, request};
    // (C expression, the Rust value): NVRTC folds each expression to a constant the kernel
    // stores; the PTX VM runs it.
    let expected: Vec<(String, u64)> = [
        ("requested", o::CB_REQUESTED),
        ("acknowledged", o::CB_ACKNOWLEDGED),
        ("error_code", o::CB_ERROR_CODE),
        ("error_count", o::CB_ERROR_COUNT),
        ("messages_processed", o::CB_MESSAGES_PROCESSED),
        ("hlc", o::CB_HLC),
        ("kernel_slot", o::CB_KERNEL_SLOT),
        ("error_sequence", o::CB_ERROR_SEQUENCE),
        ("policy_tenant", o::CB_POLICY_TENANT),
        ("policy_required", o::CB_POLICY_REQUIRED),
        ("policy_flags", o::CB_POLICY_FLAGS),
        ("messages_refused", o::CB_MESSAGES_REFUSED),
        ("messages_aborted", o::CB_MESSAGES_ABORTED),
    ]
    .iter()
    .map(|(f, v)| (format!("(char *)&cb.{f} - (char *)&cb"), u64::from(*v)))
    .chain(
        [
            ("head", o::Q_HEAD),
            ("tail", o::Q_TAIL),
            ("capacity", o::Q_CAPACITY),
            ("slot_size", o::Q_SLOT_SIZE),
            ("type_id", o::Q_TYPE_ID),
        ]
        .iter()
        .map(|(f, v)| (format!("(char *)&q.{f} - (char *)&q"), u64::from(*v))),
    )
    .chain(
        [
            ("type_id", o::SLOT_TYPE_ID),
            ("sequence", o::SLOT_SEQUENCE),
            ("correlation", o::SLOT_CORRELATION),
            ("hlc", o::SLOT_HLC),
            ("tenant", o::SLOT_TENANT),
            ("permissions", o::SLOT_PERMISSIONS),
            ("sender", o::SLOT_SENDER),
            ("fault", o::SLOT_FAULT),
        ]
        .iter()
        .map(|(f, v)| (format!("(char *)&s.{f} - (char *)&s"), u64::from(*v))),
    )
    .chain([
        ("sizeof(rk_control_block)".to_owned(), size_of::<ControlBlock>() as u64),
        ("alignof(rk_control_block)".to_owned(), align_of::<ControlBlock>() as u64),
        ("sizeof(rk_queue_header)".to_owned(), size_of::<QueueHeader>() as u64),
        ("sizeof(rk_queue_header)".to_owned(), u64::from(o::Q_SLOTS)),
        ("sizeof(rk_slot_header)".to_owned(), size_of::<SlotHeader>() as u64),
        ("sizeof(rk_slot_header)".to_owned(), u64::from(o::SLOT_PAYLOAD)),
        ("RK_REQUEST_RUN".to_owned(), u64::from(request::RUN)),
        ("RK_REQUEST_QUIESCE".to_owned(), u64::from(request::QUIESCE)),
        ("RK_REQUEST_TERMINATE".to_owned(), u64::from(request::TERMINATE)),
        ("RK_ERROR_WRONG_MESSAGE_TYPE".to_owned(), u64::from(error::WRONG_MESSAGE_TYPE)),
        ("RK_ERROR_INVALID_VALUE".to_owned(), u64::from(error::INVALID_VALUE)),
        ("RK_ERROR_NEGATIVE_SQUARE_ROOT".to_owned(), u64::from(error::NEGATIVE_SQUARE_ROOT)),
        ("RK_ERROR_UNAUTHORIZED".to_owned(), u64::from(error::UNAUTHORIZED)),
        ("RK_ERROR_BUDGET_EXHAUSTED".to_owned(), u64::from(error::BUDGET_EXHAUSTED)),
        ("RK_ERROR_HANDLER_FAILED".to_owned(), u64::from(error::HANDLER_FAILED)),
        ("RK_POLICY_ENFORCED".to_owned(), u64::from(ringkernel_codegen::abi::policy::ENFORCED)),
        ("RK_MAX_STEPS".to_owned(), u64::from(ringkernel_codegen::abi::DEFAULT_MAX_STEPS)),
        ("RK_ABI_VERSION".to_owned(), u64::from(ringkernel_codegen::abi::ABI_VERSION)),
        ("RK_FAILED_RESPONSE_TYPE".to_owned(), ringkernel_codegen::abi::FAILED_RESPONSE_TYPE),
    ])
    .collect();
    let mut source = String::from(
        "#include \"ringkernel.cuh\"\nextern \"C\" __global__ void rk_layout(unsigned long long *out) {\n    rk_control_block cb; rk_queue_header q; rk_slot_header s;\n",
    );
    for (i, (expression, _)) in expected.iter().enumerate() {
        source.push_str(&format!("    out[{i}] = (unsigned long long)({expression});\n"));
    }
    source.push_str("}\n");
    let Some(ptx) = nvrtc("abi-layout", &source) else { return };
    let module = ringkernel_ptx::Module::parse(&ptx).expect("the VM reads NVRTC's PTX");
    let vm = ringkernel_ptx::Vm::new();
    let out = vm.alloc(8 * expected.len()).unwrap();
    vm.launch(
        &module,
        "rk_layout",
        ringkernel_ptx::Dims::linear(1, 1),
        &[ringkernel_ptx::Arg::U64(out)],
    )
    .unwrap();
    let mut bytes = vec![0u8; 8 * expected.len()];
    vm.read(out, &mut bytes).unwrap();
    for (i, (expression, value)) in expected.iter().enumerate() {
        let got = u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().unwrap());
        assert_eq!(got, *value, "include/ringkernel.cuh: {expression}");
    }
}

fn signed(mut artifact: Artifact, key: &SigningKey) -> String {
    let mut rule = CompiledRule::from_artifact(&artifact);
    sign_rule(&mut rule, key);
    artifact.signature = rule.signature;
    artifact.to_text()
}

const STREAMS: u32 = 3;
const PER_STREAM: u32 = 4_000;

fn swap_in_the_cuda_c_version(backend: Backend, v2: &str, key: &SigningKey, v1: &str) {
    let rt = Runtime::builder().backend(backend).max_history(8).build().unwrap();
    rt.rule_registry().set_verifier(Some(Arc::new(Ed25519Verifier::new(key.verifying_key()))));
    let dir =
        std::env::temp_dir().join(format!("ringkernel-cudac-{backend}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let put = |name: &str, text: &str| {
        let temporary = dir.join(format!(".{name}.tmp"));
        std::fs::write(&temporary, text).unwrap();
        std::fs::rename(&temporary, dir.join(name)).unwrap();
    };
    put("cudac-v1.ptx", v1);
    let options = WatchOptions::default()
        .settle(Duration::from_millis(20))
        .poll_interval(Duration::from_millis(100));
    let watcher = ArtifactWatcher::start(&dir, rt.rule_registry().clone(), options).unwrap();
    let wait_for = |version: u64| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            match watcher.events().recv_timeout(Duration::from_millis(100)) {
                Ok(WatchEvent::Activated { version: v, .. }) if v == version => return,
                Ok(WatchEvent::Rejected { path, reason }) => {
                    panic!("{backend}: {} rejected: {reason}", path.display())
                }
                _ => {}
            }
        }
        panic!("{backend}: v{version} was not activated within 60 s");
    };
    wait_for(1);
    let handle = rt.rule_actor::<Tagged, Stamped>("cudac").unwrap();
    // Producers run until the swap happened and then `PER_STREAM` messages more each.
    let swapped = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let producers: Vec<_> = (0..STREAMS)
        .map(|stream| {
            let (handle, swapped) = (handle.clone(), swapped.clone());
            std::thread::spawn(move || {
                let (mut seq, mut after) = (0u32, 0u32);
                while after < PER_STREAM {
                    handle.send_blocking(Tagged { stream, seq }).unwrap();
                    seq += 1;
                    if swapped.load(std::sync::atomic::Ordering::Relaxed) {
                        after += 1;
                    } else if seq % 64 == 0 {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                }
                seq
            })
        })
        .collect();
    let consumer = {
        let handle = handle.clone();
        std::thread::spawn(move || {
            let (mut seen, mut last) = (Vec::new(), Instant::now());
            while last.elapsed() < Duration::from_secs(3) {
                match handle.try_receive() {
                    Some(r) => {
                        seen.push(r.unwrap().value);
                        last = Instant::now();
                    }
                    None => std::thread::sleep(Duration::from_micros(50)),
                }
            }
            seen
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    put("cudac-v2.ptx", v2);
    wait_for(2);
    swapped.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent: u32 = producers.into_iter().map(|p| p.join().unwrap()).sum();
    let responses = consumer.join().unwrap();

    assert_eq!(responses.len() as u32, sent, "{backend}: lost messages");
    let mut next: HashMap<u32, u32> = HashMap::new();
    for r in &responses {
        let expected = next.entry(r.stream).or_insert(0);
        assert_eq!(r.seq, *expected, "{backend}: stream {} out of order", r.stream);
        *expected += 1;
    }
    for (i, r) in responses.iter().enumerate() {
        assert_eq!(r.count, i as u64 + 1, "{backend}: state lost at response {i} (v{})", r.version);
    }
    let first_cuda = responses.iter().position(|r| r.version == 2000);
    let switched =
        first_cuda.unwrap_or_else(|| panic!("{backend}: no response from the CUDA C version"));
    assert!(responses[..switched].iter().all(|r| r.version == 1), "{backend}");
    assert!(
        responses[switched..].iter().all(|r| r.version == 2000),
        "{backend}: after the swap only the CUDA C version answers"
    );
    println!(
        "{backend}: {} messages, {} by the Rust v1, {} by the CUDA C v2, nothing lost",
        responses.len(),
        switched,
        responses.len() - switched
    );
    watcher.stop();
    handle.terminate();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cuda_c_version_replaces_the_running_rust_version_under_load() {
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cuda/load_v2.cu"),
    )
    .unwrap();
    let Some(ptx) = nvrtc("load_v2", &source) else { return };
    let like = Artifact::parse(std::str::from_utf8(&CudacV1Rule::compiled().ptx).unwrap()).unwrap();
    let wrapped =
        Artifact::wrap(&ptx, "cudac", 2, &like.metadata, "nvrtc 12.9 (tests/cuda/load_v2.cu)")
            .unwrap();
    assert!(ringkernel::rules::find_host_rule(&CompiledRule::from_artifact(&wrapped)).is_none());
    let key = SigningKey::from_bytes(&[21; 32]);
    let (v1, v2) = (signed(like, &key), signed(wrapped, &key));
    for backend in [Backend::Emulated, Backend::Cpu] {
        swap_in_the_cuda_c_version(backend, &v2, &key, &v1);
    }
}

/// The header's loop enforces the access policy before the handler, carries the handler's
/// fault into the response and answers a spent budget with `BudgetExhausted`, on the emulated
/// backend (its persistent entry) as our own PTX does.
#[test]
fn the_cuda_c_loop_enforces_policies_and_reports_faults_and_budgets() {
    use ringkernel::{AccessPolicy, AuthContext, Fault, LaunchOptions};
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cuda/guarded_v3.cu"),
    )
    .unwrap();
    let Some(ptx) = nvrtc("guarded_v3", &source) else { return };
    let like = Artifact::parse(std::str::from_utf8(&CudacV1Rule::compiled().ptx).unwrap()).unwrap();
    let v3 = Artifact::wrap(&ptx, "cudac", 3, &like.metadata, "nvrtc (tests/cuda/guarded_v3.cu)")
        .unwrap();
    let rt = Runtime::builder().backend(Backend::Emulated).build().unwrap();
    let registry = rt.rule_registry().clone();
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    tokio.block_on(registry.register_rule(CudacV1Rule::compiled(), "sm_90")).unwrap();
    let options = LaunchOptions::default().access(AccessPolicy::new(4).require("load"));
    let plain = rt.rule_actor_with::<Tagged, Stamped>("cudac", options).unwrap();
    tokio.block_on(registry.reload_rule(CompiledRule::from_artifact(&v3), "sm_90")).unwrap();
    let owner = plain.authorized(AuthContext::new("o", 4).with_permission("load")).unwrap();
    let stranger = plain.authorized(AuthContext::new("s", 5).with_permission("load")).unwrap();
    assert_eq!(owner.call_blocking(Tagged { stream: 3, seq: 1 }).unwrap().version, 3000);
    assert_eq!(
        stranger.call_blocking(Tagged { stream: 3, seq: 2 }).unwrap_err().fault(),
        Some(Fault::Unauthorized)
    );
    assert_eq!(
        plain.call_blocking(Tagged { stream: 3, seq: 3 }).unwrap_err().fault(),
        Some(Fault::Unauthorized)
    );
    let fault = owner.call_blocking(Tagged { stream: 100, seq: 5 }).unwrap_err();
    assert_eq!(fault.fault(), Some(Fault::DivisionByZero), "100 iterations fit the budget");
    assert_eq!(fault.faulted_value::<Stamped>().map(|s| (s.version, s.count)), Some((3000, 2)));
    let spent = owner.call_blocking(Tagged { stream: 101, seq: 6 }).unwrap_err();
    assert!(matches!(
        spent,
        ringkernel::CallError::Faulted { fault: Fault::BudgetExhausted, value: None, .. }
    ));
    assert_eq!(owner.call_blocking(Tagged { stream: 0, seq: 7 }).unwrap().count, 3);
    let metrics = plain.metrics();
    assert_eq!((metrics.refused, metrics.aborted, metrics.errors), (2, 1, 4));
    plain.terminate();
}
