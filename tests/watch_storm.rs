//! The artifact watcher against a running rule actor: a storm of 500 file operations (new
//! versions, tampered copies, truncated files, deletes, renames) while messages flow; then
//! the registry holds the directory's desired state, no message was lost, and every bad file
//! was reported once. And: the directory disappearing and coming back.
//!
//! Version 1 is this binary's `#[rule]` (so the actor has this binary's message types);
//! versions 2 and up are compiled here at run time: PTX-only artifacts, as another tool
//! would deliver them. Every one is signed and the registry requires signatures.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ringkernel::rules::{CompiledRule, Ed25519Verifier, SigningKey, sign_rule};
use ringkernel::watch::{ArtifactWatcher, WatchEvent, WatchOptions};
use ringkernel::{Backend, RingContext, RingMessage, Runtime, rule};
use ringkernel_codegen::artifact::Artifact;

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Ping {
    pub seq: u32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Pong {
    pub seq: u32,
    pub version: u32,
}

const VERSIONS: u64 = 24;

#[rule(id = "storm", version = 1)]
fn storm_v1(_ctx: &mut RingContext, p: Ping) -> Pong {
    Pong { seq: p.seq, version: 1 }
}

/// `artifact`, signed as the CLI signs.
fn signed(mut artifact: Artifact, key: &SigningKey) -> String {
    let mut rule = CompiledRule::from_artifact(&artifact);
    sign_rule(&mut rule, key);
    artifact.signature = rule.signature;
    artifact.to_text()
}

/// Version `v` of rule `storm`, signed: v1 is this binary's, the others PTX-only.
fn signed_artifact(v: u64, key: &SigningKey) -> String {
    if v == 1 {
        let text = String::from_utf8(StormV1Rule::compiled().ptx).unwrap();
        return signed(Artifact::parse(&text).unwrap(), key);
    }
    let source = format!(
        r#"
        #[derive(RingMessage)] #[repr(C)] pub struct Ping {{ pub seq: u32 }}
        #[derive(RingMessage)] #[repr(C)] pub struct Pong {{ pub seq: u32, pub version: u32 }}
        #[rule(id = "storm", version = {v})]
        fn storm_v{v}(_ctx: &mut RingContext, p: Ping) -> Pong {{ Pong {{ seq: p.seq, version: {v} }} }}
    "#
    );
    let artifact = ringkernel_codegen::compile_source(&source, &Default::default())
        .expect("the storm rule compiles")
        .remove(0);
    signed(artifact, key)
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("ringkernel-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Dir(path)
    }

    /// Write-then-rename, as the CLI writes.
    fn put(&self, name: &str, text: &str) {
        let temporary = self.0.join(format!(".{name}.tmp"));
        std::fs::write(&temporary, text).unwrap();
        std::fs::rename(&temporary, self.0.join(name)).unwrap();
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn options() -> WatchOptions {
    WatchOptions::default()
        .settle(Duration::from_millis(20))
        .poll_interval(Duration::from_millis(100))
}

fn runtime_with_verifier(key: &SigningKey) -> Runtime {
    let rt = Runtime::builder().backend(Backend::Cpu).max_history(64).build().unwrap();
    rt.rule_registry().set_verifier(Some(Arc::new(Ed25519Verifier::new(key.verifying_key()))));
    rt
}

fn settle(watcher: &ArtifactWatcher) {
    std::thread::sleep(Duration::from_millis(60));
    assert!(watcher.sync(Duration::from_secs(20)), "the watcher did not finish a scan");
    assert!(watcher.sync(Duration::from_secs(20)), "the watcher did not finish a scan");
}

#[test]
fn a_storm_of_file_operations_leaves_the_directory_s_desired_state_and_loses_nothing() {
    let key = SigningKey::from_bytes(&[42; 32]);
    let artifacts: Vec<String> = (1..=VERSIONS).map(|v| signed_artifact(v, &key)).collect();
    let rt = runtime_with_verifier(&key);
    let registry = rt.rule_registry().clone();
    let dir = Dir::new("watch-storm");
    dir.put("storm-v1.ptx", &artifacts[0]);
    let watcher = ArtifactWatcher::start(&dir.0, registry.clone(), options()).unwrap();
    settle(&watcher);
    assert_eq!(registry.get_active("storm").map(|h| h.version), Some(1));

    // Load: a producer and a consumer for the whole storm.
    let handle = rt.rule_actor::<Ping, Pong>("storm").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let producer = {
        let (handle, stop) = (handle.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut sent = 0u32;
            while !stop.load(Ordering::Relaxed) {
                handle.send_blocking(Ping { seq: sent }).unwrap();
                sent += 1;
                if sent % 64 == 0 {
                    std::thread::sleep(Duration::from_micros(200));
                }
            }
            sent
        })
    };
    let consumer = {
        let (handle, stop) = (handle.clone(), stop.clone());
        std::thread::spawn(move || {
            let (mut seen, mut last) = (Vec::new(), std::time::Instant::now());
            loop {
                match handle.try_receive() {
                    Some(response) => {
                        seen.push(response.expect("a response, not a failure").value);
                        last = std::time::Instant::now();
                    }
                    // Done once the producer stopped and nothing came for a while.
                    None if stop.load(Ordering::Relaxed)
                        && last.elapsed() > Duration::from_secs(2) =>
                    {
                        break;
                    }
                    None => std::thread::sleep(Duration::from_micros(50)),
                }
            }
            seen
        })
    };

    // The storm. `files` is what the directory holds: name → the version, or None for a bad
    // file; bad file names are never reused.
    let mut files: BTreeMap<String, Option<u64>> = BTreeMap::new();
    files.insert("storm-v1.ptx".into(), Some(1));
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    let mut serial = 0;
    for op in 0..500 {
        serial += 1;
        let pick = |rng: &mut Rng, files: &BTreeMap<String, Option<u64>>| {
            (!files.is_empty()).then(|| files.keys().nth(rng.below(files.len())).unwrap().clone())
        };
        match rng.below(100) {
            // A version, new or again (mostly upward, as releases go).
            0..=29 => {
                let top = files.values().flatten().max().copied().unwrap_or(1);
                let v = if rng.below(2) == 0 {
                    1 + rng.below(VERSIONS as usize) as u64
                } else {
                    (top + 1).min(VERSIONS)
                };
                let name = format!("storm-v{v}-{serial}.ptx");
                dir.put(&name, &artifacts[v as usize - 1]);
                files.insert(name, Some(v));
            }
            // A tampered copy: one PTX byte changed, the signature kept.
            30..=44 => {
                let v = 1 + rng.below(VERSIONS as usize);
                let text = artifacts[v - 1].replacen("ret;", "exit;", 1);
                let name = format!("tampered-{serial}.ptx");
                dir.put(&name, &text);
                files.insert(name, None);
            }
            // A truncated file, written in place (settling, then read whole).
            45..=54 => {
                let text = &artifacts[rng.below(VERSIONS as usize)];
                let name = format!("truncated-{serial}.ptx");
                std::fs::write(
                    dir.0.join(&name),
                    &text[..text.len() / 2 + rng.below(text.len() / 3)],
                )
                .unwrap();
                files.insert(name, None);
            }
            // The release is withdrawn: every file of the highest version goes.
            55..=61 => {
                if let Some(top) = files.values().flatten().max().copied() {
                    let doomed: Vec<String> = files
                        .iter()
                        .filter(|(_, v)| **v == Some(top))
                        .map(|(n, _)| n.clone())
                        .collect();
                    for name in doomed {
                        std::fs::remove_file(dir.0.join(&name)).unwrap();
                        files.remove(&name);
                    }
                }
            }
            // A delete.
            62..=79 => {
                if let Some(name) = pick(&mut rng, &files) {
                    std::fs::remove_file(dir.0.join(&name)).unwrap();
                    files.remove(&name);
                }
            }
            // A rename (bad files to a fresh bad name).
            _ => {
                if let Some(name) = pick(&mut rng, &files) {
                    let what = files.remove(&name).unwrap();
                    let new_name = match what {
                        Some(v) => format!("renamed-v{v}-{serial}.ptx"),
                        None => format!("renamed-bad-{serial}.ptx"),
                    };
                    std::fs::rename(dir.0.join(&name), dir.0.join(&new_name)).unwrap();
                    files.insert(new_name, what);
                }
            }
        }
        // Some operations land in one scan, some in the next.
        std::thread::sleep(Duration::from_millis(if op % 10 == 0 { 30 } else { 2 }));
    }
    settle(&watcher);

    // The registry holds the desired state: the active version's file is present and no
    // valid version present is higher; or, if no present version can run, none of them
    // was ever staged (the rule keeps running the last one, and said so).
    let events: Vec<WatchEvent> = watcher.events().try_iter().collect();
    let present: Vec<u64> = files.values().flatten().copied().collect();
    let active = registry.get_active("storm").map(|h| h.version).unwrap();
    if present.contains(&active) {
        let tail: Vec<String> = events.iter().rev().take(12).map(|e| e.to_string()).collect();
        assert_eq!(
            Some(&active),
            present.iter().max(),
            "a higher valid version was left inactive; last events (newest first): {tail:#?}; history {:?}",
            registry.history("storm").iter().map(|h| (h.version, h.status)).collect::<Vec<_>>()
        );
    } else {
        for v in &present {
            assert!(
                *v < active && registry.artifact("storm", *v).is_none(),
                "v{v} is present and staged but v{active} runs without a file"
            );
        }
    }

    // Every bad file present was reported exactly once; no path was reported twice.
    let mut rejected: HashMap<PathBuf, usize> = HashMap::new();
    for event in &events {
        if let WatchEvent::Rejected { path, .. } = event {
            *rejected.entry(path.clone()).or_default() += 1;
        }
    }
    for (path, count) in &rejected {
        assert_eq!(*count, 1, "{} reported {count} times", path.display());
    }
    let bad_present: Vec<&String> =
        files.iter().filter(|(_, v)| v.is_none()).map(|(n, _)| n).collect();
    for name in &bad_present {
        assert_eq!(rejected.get(&dir.0.join(name)), Some(&1), "{name} was not reported");
    }
    let activations = events.iter().filter(|e| matches!(e, WatchEvent::Activated { .. })).count();
    let rollbacks = events.iter().filter(|e| matches!(e, WatchEvent::RolledBack { .. })).count();

    // Nothing lost: every message answered, in order.
    stop.store(true, Ordering::Relaxed);
    let sent = producer.join().unwrap();
    let seen = consumer.join().unwrap();
    assert_eq!(seen.len() as u32, sent, "messages lost");
    assert!(seen.iter().enumerate().all(|(i, p)| p.seq == i as u32), "order not kept");
    let versions_seen = seen.windows(2).filter(|w| w[0].version != w[1].version).count();
    println!(
        "500 file operations: {activations} activations, {rollbacks} rollbacks, {} rejections, {sent} messages, {versions_seen} version changes seen by them, final v{active}",
        rejected.len()
    );
    // How many swaps land between scans depends on timing; the storm must have swapped.
    assert!(activations + rollbacks >= 4, "the storm swapped too little to test anything");
    assert!(!rejected.is_empty());
    watcher.stop();
    handle.terminate();
}

#[test]
fn the_watcher_survives_its_directory_disappearing_and_coming_back() {
    let key = SigningKey::from_bytes(&[43; 32]);
    let rt = runtime_with_verifier(&key);
    let registry = rt.rule_registry().clone();
    let dir = Dir::new("watch-vanish");
    dir.put("a.ptx", &signed_artifact(1, &key));
    let watcher = ArtifactWatcher::start(&dir.0, registry.clone(), options()).unwrap();
    settle(&watcher);
    assert_eq!(registry.get_active("storm").map(|h| h.version), Some(1));

    std::fs::remove_dir_all(&dir.0).unwrap();
    settle(&watcher);
    assert_eq!(registry.get_active("storm").map(|h| h.version), Some(1), "nothing changes");
    std::fs::create_dir_all(&dir.0).unwrap();
    dir.put("b.ptx", &signed_artifact(2, &key));
    settle(&watcher);
    assert_eq!(registry.get_active("storm").map(|h| h.version), Some(2));
    // The active file goes (v1's is back too): back to v1; it comes back: v2 again.
    dir.put("a.ptx", &signed_artifact(1, &key));
    settle(&watcher);
    std::fs::remove_file(dir.0.join("b.ptx")).unwrap();
    settle(&watcher);
    assert_eq!(registry.get_active("storm").map(|h| h.version), Some(1), "rolled back");
    dir.put("b.ptx", &signed_artifact(2, &key));
    settle(&watcher);
    assert_eq!(registry.get_active("storm").map(|h| h.version), Some(2), "rolled forward");
    // An unsigned artifact: rejected with the registry's reason, nothing changes.
    let unsigned = Artifact::parse(&signed_artifact(3, &key)).unwrap().unsigned().to_text();
    dir.put("c.ptx", &unsigned);
    settle(&watcher);
    assert_eq!(registry.get_active("storm").map(|h| h.version), Some(2));

    let events: Vec<String> = watcher.events().try_iter().map(|e| e.to_string()).collect();
    let position = |needle: &str| events.iter().position(|e| e.contains(needle));
    let missing = position("is missing").expect("the disappearance is reported");
    let back = position("is back").expect("the return is reported");
    assert!(missing < back, "{events:#?}");
    assert_eq!(events.iter().filter(|e| e.contains("is missing")).count(), 1, "{events:#?}");
    assert!(position("activated storm v2").is_some_and(|i| i > back), "{events:#?}");
    assert!(position("rolled storm back from v2 to v1").is_some(), "{events:#?}");
    let rejected = position("rejected").map(|i| &events[i]).expect("the unsigned file is reported");
    assert!(rejected.contains("c.ptx") && rejected.contains("unsigned"), "{rejected}");
    let _ = Path::new(".");
}

/// A signed artifact with random damage (bytes flipped, cut, inserted, lines duplicated or
/// dropped) dropped into the watched directory: never a panic, always one rejection, and the
/// running version stays.
#[test]
fn mutated_artifacts_are_rejected_and_change_nothing() {
    use proptest::prelude::*;
    let key = SigningKey::from_bytes(&[44; 32]);
    let rt = runtime_with_verifier(&key);
    let registry = rt.rule_registry().clone();
    let dir = Dir::new("watch-mutants");
    dir.put("base.ptx", &signed_artifact(1, &key));
    let watcher = ArtifactWatcher::start(&dir.0, registry.clone(), options()).unwrap();
    settle(&watcher);
    assert_eq!(registry.get_active("storm").map(|h| h.version), Some(1));
    let original = signed_artifact(2, &key);
    let case = std::sync::atomic::AtomicUsize::new(0);
    let mut config = ProptestConfig::with_cases(48);
    config.failure_persistence = None;
    proptest!(config, |(kind in 0u8..5, at in 0usize..100_000, byte in any::<u8>())| {
        let case = case.fetch_add(1, Ordering::Relaxed);
        let mut bytes = original.clone().into_bytes();
        let at = at % bytes.len();
        match kind {
            0 => bytes[at] ^= byte | 1,
            1 => bytes.truncate(at),
            2 => bytes.insert(at, byte),
            3 => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let lines: Vec<&str> = text.lines().collect();
                let i = at % lines.len();
                let mut out = lines.clone();
                out.insert(i, lines[i]);
                bytes = out.join("\n").into_bytes();
            }
            _ => {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut lines: Vec<&str> = text.lines().collect();
                lines.remove(at % lines.len());
                bytes = lines.join("\n").into_bytes();
            }
        }
        prop_assume!(bytes != original.as_bytes());
        let name = format!("mutant-{case}.ptx");
        let temporary = dir.0.join(format!(".{name}.tmp"));
        std::fs::write(&temporary, &bytes).unwrap();
        std::fs::rename(&temporary, dir.0.join(&name)).unwrap();
        settle(&watcher);
        let events: Vec<WatchEvent> = watcher.events().try_iter().collect();
        let rejected = events.iter().filter(|e| matches!(e, WatchEvent::Rejected { path, .. } if path.ends_with(&name))).count();
        prop_assert_eq!(rejected, 1, "mutation {} at {}: events {:?}", kind, at, events);
        prop_assert_eq!(registry.get_active("storm").map(|h| h.version), Some(1));
        std::fs::remove_file(dir.0.join(&name)).unwrap();
    });
}
