//! Operating a service: its rules come from a watched directory. The directory is the
//! desired state: the highest valid version of each rule runs; a new signed file reloads it,
//! a tampered or unsigned one is reported and changes nothing, deleting the active file rolls
//! back. Messages flow throughout; at the end: the events, throughput, latency and `lost: 0`,
//! and the Prometheus metrics.
//!
//! This program plays the operator too (the `ringkernel` CLI does the same from a shell; see
//! README's "Operating it"): version 1 is this binary's `#[rule]`; version 2 arrives as a
//! PTX-only artifact, as another tool would deliver it.
//!
//! Run it with `cargo run --example ops [-- DIR]` (default: a fresh directory under the
//! system's temporary directory).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use ringkernel::prelude::*;
use ringkernel::rules::{CompiledRule, Ed25519Verifier, sign_rule};
use ringkernel::watch::{ArtifactWatcher, WatchEvent, WatchOptions};
use ringkernel_codegen::artifact::Artifact;

#[derive(RingMessage, Clone, Copy, Debug)]
#[repr(C)]
pub struct Quote {
    pub seq: u64,
    pub quantity: u32,
}

#[derive(RingMessage, Clone, Copy, Debug)]
#[repr(C)]
pub struct Priced {
    pub seq: u64,
    pub price: u64,
    pub version: u32,
}

#[rule(id = "ops-pricing", version = 1)]
fn ops_pricing_v1(_ctx: &mut RingContext, q: Quote) -> Priced {
    Priced { seq: q.seq, price: q.quantity as u64 * 100, version: 1 }
}

/// Version 2, compiled here from source: a PTX-only artifact (no `#[rule]` in this binary).
const V2_SOURCE: &str = r#"
#[derive(RingMessage)] #[repr(C)] pub struct Quote { pub seq: u64, pub quantity: u32 }
#[derive(RingMessage)] #[repr(C)] pub struct Priced { pub seq: u64, pub price: u64, pub version: u32 }
#[rule(id = "ops-pricing", version = 2)]
fn ops_pricing_v2(_ctx: &mut RingContext, q: Quote) -> Priced {
    let unit = if q.quantity > 50 { 95 } else { 100 };
    Priced { seq: q.seq, price: q.quantity as u64 * unit, version: 2 }
}
"#;

/// `artifact`, signed (what `ringkernel sign` writes).
fn signed(mut artifact: Artifact, key: &SigningKey) -> String {
    let mut rule = CompiledRule::from_artifact(&artifact);
    sign_rule(&mut rule, key);
    artifact.signature = rule.signature;
    artifact.to_text()
}

/// Write-then-rename: the watcher never reads a half-written file.
fn deploy(dir: &Path, name: &str, text: &str) {
    let temporary = dir.join(format!(".{name}.tmp"));
    std::fs::write(&temporary, text).expect("write the artifact");
    std::fs::rename(&temporary, dir.join(name)).expect("move it into place");
}

/// Waits for the watcher to act, printing its events, until `done` says enough.
fn follow(watcher: &ArtifactWatcher, done: impl Fn(&WatchEvent) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(event) = watcher.events().recv_timeout(Duration::from_millis(100)) {
            println!("  watcher: {event}");
            if done(&event) {
                return;
            }
        }
    }
    panic!("the watcher did not act within 30 s");
}

fn main() {
    let dir = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| {
        std::env::temp_dir().join(format!("ringkernel-ops-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).expect("create the artifact directory");
    // The release key (`ringkernel keygen`); fixed here so that runs are reproducible.
    let key = SigningKey::from_bytes(&[7; 32]);
    let v1 = signed(
        Artifact::parse(std::str::from_utf8(&OpsPricingV1Rule::compiled().ptx).unwrap()).unwrap(),
        &key,
    );
    let v2 = signed(
        ringkernel_codegen::compile_source(V2_SOURCE, &Default::default()).unwrap().remove(0),
        &key,
    );

    let rt = Runtime::builder().backend(Backend::Cpu).build().expect("a runtime");
    rt.rule_registry().set_verifier(Some(Arc::new(Ed25519Verifier::new(key.verifying_key()))));
    println!(
        "$ ringkernel sign pricing-v1.ptx --key release.key -o {}/pricing-v1.ptx",
        dir.display()
    );
    deploy(&dir, "pricing-v1.ptx", &v1);
    let options = WatchOptions::default().settle(Duration::from_millis(50));
    let watcher = ArtifactWatcher::start(&dir, rt.rule_registry().clone(), options).unwrap();
    follow(&watcher, |e| matches!(e, WatchEvent::Activated { version: 1, .. }));

    // The service: a client streaming quotes, a receiver timing the answers.
    let handle = rt.rule_actor::<Quote, Priced>("ops-pricing").expect("the rule's actor");
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let sender = {
        let (handle, stop) = (handle.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut seq = 0;
            while !stop.load(Ordering::Relaxed) {
                handle.send_blocking(Quote { seq, quantity: (seq % 100) as u32 }).unwrap();
                seq += 1;
                if seq % 256 == 0 {
                    std::thread::sleep(Duration::from_micros(100));
                }
            }
            seq
        })
    };
    let receiver = {
        let (handle, stop) = (handle.clone(), stop.clone());
        std::thread::spawn(move || {
            let (mut received, mut versions, mut last) = (0u64, [0u64; 3], Instant::now());
            loop {
                match handle.try_receive() {
                    Some(response) => {
                        let priced = response.expect("an answer").value;
                        assert_eq!(priced.seq, received, "answers come in order");
                        versions[priced.version as usize] += 1;
                        received += 1;
                        last = Instant::now();
                    }
                    None if stop.load(Ordering::Relaxed)
                        && last.elapsed() > Duration::from_millis(500) =>
                    {
                        break;
                    }
                    None => std::thread::sleep(Duration::from_micros(20)),
                }
            }
            (received, versions)
        })
    };

    std::thread::sleep(Duration::from_millis(200));
    println!(
        "$ ringkernel sign pricing-v2.ptx --key release.key -o {}/pricing-v2.ptx",
        dir.display()
    );
    deploy(&dir, "pricing-v2.ptx", &v2);
    follow(&watcher, |e| matches!(e, WatchEvent::Activated { version: 2, .. }));

    std::thread::sleep(Duration::from_millis(200));
    println!("$ cp tampered-v3.ptx {}/   # one PTX byte changed after signing", dir.display());
    let v3 = v2.replace("// version: 2", "// version: 3").replace("pricing_v2", "pricing_v3");
    deploy(&dir, "pricing-v3.ptx", &v3);
    follow(&watcher, |e| matches!(e, WatchEvent::Rejected { .. }));

    std::thread::sleep(Duration::from_millis(200));
    println!("$ rm {}/pricing-v2.ptx   # roll back", dir.display());
    std::fs::remove_file(dir.join("pricing-v2.ptx")).unwrap();
    follow(&watcher, |e| matches!(e, WatchEvent::RolledBack { to: 1, .. }));
    std::thread::sleep(Duration::from_millis(200));

    stop.store(true, Ordering::Relaxed);
    let sent = sender.join().unwrap();
    let (received, versions) = receiver.join().unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let metrics = handle.metrics();
    println!(
        "{received} quotes in {seconds:.2} s ({:.0}/s), answered by v1 {} / v2 {}, handler p99 {:?}, lost: {}",
        received as f64 / seconds,
        versions[1],
        versions[2],
        metrics.latency_p99.unwrap_or_default(),
        sent - received
    );
    assert_eq!(sent, received, "nothing may be lost");
    println!("--- metrics (Runtime::metrics_text) ---");
    for line in rt.metrics_text().lines().filter(|l| l.contains("ops-pricing")) {
        println!("{line}");
    }
    watcher.stop();
    handle.terminate();
    let _ = std::fs::remove_dir_all(&dir);
}
