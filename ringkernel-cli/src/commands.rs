//! The subcommands. Each returns `Ok(Outcome)` for a result the caller reads from the exit
//! code (a bad signature, an ABI difference) and `Err(reason)` for what stopped it.

use std::path::Path;

use ringkernel::rules::{
    CompiledRule, Ed25519Verifier, SignatureVerifier, SigningKey, rule_digest, sign_rule,
};
use ringkernel_codegen::artifact::LayoutRecord;
use ringkernel_codegen::{Options, compile_source};
use serde_json::json;

use crate::files::{hex, read_artifact, read_public_key, read_secret_key, write_atomically};

/// `println!` that does not panic when stdout is gone (`ringkernel inspect x | head -1`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `eprintln!` that does not panic when stderr is gone.
macro_rules! warn {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// How a command that ran to the end came out.
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: the answer is "no" (bad signature, ABI incompatible), already printed.
    Failure,
}

pub fn compile(file: &Path, out_dir: &Path, arch: &str) -> Result<Outcome, String> {
    let src = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let opts =
        Options { compute_cap: arch.to_owned(), file_name: Some(file.display().to_string()) };
    let artifacts = match compile_source(&src, &opts) {
        Ok(artifacts) => artifacts,
        Err(diagnostics) => {
            warn!("{diagnostics}");
            return Ok(Outcome::Failure);
        }
    };
    if artifacts.is_empty() {
        return Err(format!("{}: no `#[ring_kernel]` or `#[rule]` handler", file.display()));
    }
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    for artifact in &artifacts {
        let path = out_dir.join(artifact.file_name());
        write_atomically(&path, artifact.to_text().as_bytes())?;
        say!(
            "wrote {} ({} v{}, {})",
            path.display(),
            artifact.id,
            artifact.version,
            artifact.metadata.compute_cap
        );
    }
    Ok(Outcome::Success)
}

fn layout_json(layout: &LayoutRecord) -> serde_json::Value {
    let fields: Vec<_> = layout
        .fields
        .iter()
        .map(|(name, offset, size)| json!({ "name": name, "offset": offset, "size": size }))
        .collect();
    json!({ "name": layout.name, "size": layout.size, "align": layout.align, "fields": fields })
}

pub fn inspect(path: &Path, as_json: bool) -> Result<Outcome, String> {
    let artifact = read_artifact(path)?;
    let m = &artifact.metadata;
    let digest = rule_digest(&CompiledRule::from_artifact(&artifact)).to_string();
    let signature = if artifact.signature.is_some() { "ed25519" } else { "unsigned" };
    if as_json {
        let value = json!({
            "id": artifact.id,
            "version": artifact.version,
            "kind": m.kind.as_str(),
            "target": m.compute_cap,
            "depends_on": m.depends_on,
            "entries": { "persistent": m.entries.persistent, "batch": m.entries.batch, "handler": m.entries.handler },
            "message": layout_json(&m.message),
            "response": layout_json(&m.response),
            "state": m.state.as_ref().map(layout_json),
            "abi": { "version": m.abi_version, "hash": format!("{:#018x}", m.abi_hash) },
            "digest": digest,
            "signature": signature,
            "compiler": m.compiler,
        });
        say!("{value:#}");
        return Ok(Outcome::Success);
    }
    let state = m.state.as_ref().map_or_else(|| "none".to_owned(), LayoutRecord::to_text);
    let deps = if m.depends_on.is_empty() { "none".to_owned() } else { m.depends_on.join(", ") };
    let signature = match &artifact.signature {
        Some(_) => "ed25519 (check it with `ringkernel verify --pubkey KEY.pub`)",
        None => "unsigned",
    };
    say!("id:         {}", artifact.id);
    say!("version:    {}", artifact.version);
    say!("kind:       {}", m.kind.as_str());
    say!("target:     {}", m.compute_cap);
    say!("depends on: {deps}");
    say!(
        "entries:    {} (persistent), {} (batch), {} (handler)",
        m.entries.persistent,
        m.entries.batch,
        m.entries.handler
    );
    say!("message:    {}", m.message.to_text());
    say!("response:   {}", m.response.to_text());
    say!("state:      {state}");
    say!("abi:        version {}, hash {:#018x}", m.abi_version, m.abi_hash);
    say!("digest:     {digest}");
    say!("signature:  {signature}");
    say!("compiler:   {}", m.compiler);
    Ok(Outcome::Success)
}

pub fn keygen(out: &Path) -> Result<Outcome, String> {
    let public_path = {
        let mut name = out.as_os_str().to_owned();
        name.push(".pub");
        std::path::PathBuf::from(name)
    };
    for path in [out, public_path.as_path()] {
        if path.exists() {
            return Err(format!("{}: exists; keys are never overwritten", path.display()));
        }
    }
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret).map_err(|e| format!("no randomness for the key: {e}"))?;
    let key = SigningKey::from_bytes(&secret);
    write_secret(out, &hex(&secret))?;
    write_atomically(
        &public_path,
        format!("{}\n", hex(key.verifying_key().as_bytes())).as_bytes(),
    )?;
    say!("wrote {} (secret) and {} (public)", out.display(), public_path.display());
    Ok(Outcome::Success)
}

/// The secret key, readable by its owner only.
fn write_secret(path: &Path, hex_key: &str) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    writeln!(file, "{hex_key}").map_err(|e| format!("{}: {e}", path.display()))
}

pub fn sign(path: &Path, key: &Path, out: Option<&Path>) -> Result<Outcome, String> {
    let mut artifact = read_artifact(path)?;
    let key = read_secret_key(key)?;
    let mut rule = CompiledRule::from_artifact(&artifact);
    sign_rule(&mut rule, &key);
    artifact.signature = rule.signature;
    let target = out.unwrap_or(path);
    write_atomically(target, artifact.to_text().as_bytes())?;
    say!("signed {} v{} -> {}", artifact.id, artifact.version, target.display());
    Ok(Outcome::Success)
}

pub fn verify(path: &Path, pubkey: &Path, as_json: bool) -> Result<Outcome, String> {
    let artifact = read_artifact(path)?;
    let key = read_public_key(pubkey)?;
    let rule = CompiledRule::from_artifact(&artifact);
    let verdict = match &rule.signature {
        None => Err("unsigned: the artifact has no `signature:` line".to_owned()),
        Some(signature) => Ed25519Verifier::new(key)
            .verify(&rule, &rule_digest(&rule), signature)
            .map_err(|e| e.to_string()),
    };
    if as_json {
        let value = match &verdict {
            Ok(()) => json!({ "artifact": path.display().to_string(), "valid": true }),
            Err(reason) => {
                json!({ "artifact": path.display().to_string(), "valid": false, "reason": reason })
            }
        };
        say!("{value:#}");
    }
    match verdict {
        Ok(()) => {
            if !as_json {
                say!("{}: valid signature ({} v{})", path.display(), artifact.id, artifact.version);
            }
            Ok(Outcome::Success)
        }
        Err(reason) => {
            warn!("{}: {reason}", path.display());
            Ok(Outcome::Failure)
        }
    }
}

/// Where `wrap` takes the layouts from.
pub enum Like {
    /// The artifact the new one replaces.
    Artifact(std::path::PathBuf),
    /// A `types:` line.
    Types(String),
}

pub fn wrap(
    ptx: &Path,
    id: &str,
    version: u64,
    like: &Like,
    out: Option<&Path>,
    compiler: &str,
) -> Result<Outcome, String> {
    let raw = std::fs::read_to_string(ptx).map_err(|e| format!("{}: {e}", ptx.display()))?;
    let like = match like {
        Like::Artifact(path) => read_artifact(path)?.metadata,
        Like::Types(text) => ringkernel_codegen::artifact::ArtifactTypes::parse(text)
            .map_err(|e| format!("--types: {e}"))?
            .metadata(),
    };
    let artifact = ringkernel_codegen::artifact::Artifact::wrap(&raw, id, version, &like, compiler)
        .map_err(|e| format!("{}: {e}", ptx.display()))?;
    let target = out.map_or_else(|| ptx.with_file_name(artifact.file_name()), Path::to_path_buf);
    write_atomically(&target, artifact.to_text().as_bytes())?;
    say!(
        "wrapped {} as {} v{} ({}, entries {}) -> {}",
        ptx.display(),
        artifact.id,
        artifact.version,
        artifact.metadata.compute_cap,
        artifact.metadata.entries.persistent,
        target.display()
    );
    Ok(Outcome::Success)
}

pub fn watch(
    dir: &Path,
    pubkey: Option<&Path>,
    backend: &str,
    device_cc: &str,
    once: bool,
) -> Result<Outcome, String> {
    use ringkernel::watch::{ArtifactWatcher, WatchEvent, WatchOptions};
    let backend = match backend {
        "cpu" => ringkernel::Backend::Cpu,
        "cuda" => ringkernel::Backend::Cuda,
        _ => ringkernel::Backend::Emulated,
    };
    let runtime = ringkernel::Runtime::builder()
        .backend(backend)
        .max_history(64)
        .build()
        .map_err(|e| format!("cannot start the {} backend: {e}", backend.name()))?;
    if let Some(pubkey) = pubkey {
        let verifier = Ed25519Verifier::new(read_public_key(pubkey)?);
        runtime.rule_registry().set_verifier(Some(std::sync::Arc::new(verifier)));
    }
    let options = WatchOptions::default().device_cc(device_cc);
    let watcher = ArtifactWatcher::start(dir, runtime.rule_registry().clone(), options)
        .map_err(|e| e.to_string())?;
    say!(
        "watching {} ({}; signatures {})",
        dir.display(),
        backend.name(),
        if pubkey.is_some() { "required" } else { "not required" }
    );
    let mut rejected = false;
    let mut log = |event: WatchEvent| {
        rejected |=
            matches!(event, WatchEvent::Rejected { .. } | WatchEvent::DirectoryMissing { .. });
        say!("{event}");
    };
    if once {
        // The first scan waits for files that are still being written.
        std::thread::sleep(std::time::Duration::from_millis(150));
        if !watcher.sync(std::time::Duration::from_secs(60)) {
            return Err(format!("{}: the scan did not finish in a minute", dir.display()));
        }
        watcher.events().try_iter().for_each(&mut log);
        for rule_id in runtime.rule_registry().list_rules() {
            if let Some(active) = runtime.rule_registry().get_active(&rule_id) {
                say!("active: {rule_id} v{}", active.version);
            }
        }
        return Ok(if rejected { Outcome::Failure } else { Outcome::Success });
    }
    for event in watcher.events().iter() {
        log(event);
    }
    Ok(Outcome::Success)
}

/// How one layout of `new` differs from the same layout of `old`.
fn layout_differences(
    which: &str,
    old: Option<&LayoutRecord>,
    new: Option<&LayoutRecord>,
) -> Vec<String> {
    let (old, new) = match (old, new) {
        (None, None) => return Vec::new(),
        (Some(_), None) => return vec![format!("{which}: the new version has none")],
        (None, Some(_)) => return vec![format!("{which}: only the new version has one")],
        (Some(old), Some(new)) => (old, new),
    };
    let mut out = Vec::new();
    if old.name != new.name {
        out.push(format!("{which}: type `{}` became `{}`", old.name, new.name));
    }
    if (old.size, old.align) != (new.size, new.align) {
        out.push(format!(
            "{which}: size/align {}/{} became {}/{}",
            old.size, old.align, new.size, new.align
        ));
    }
    for (name, offset, size) in &old.fields {
        match new.fields.iter().find(|(n, _, _)| n == name) {
            None => out.push(format!("{which}.{name}: removed")),
            Some((_, o, s)) if (o, s) != (offset, size) => {
                out.push(format!("{which}.{name}: offset/size {offset}/{size} became {o}/{s}"))
            }
            Some(_) => {}
        }
    }
    for (name, offset, size) in &new.fields {
        if !old.fields.iter().any(|(n, _, _)| n == name) {
            out.push(format!("{which}.{name}: added at offset {offset}, {size} bytes"));
        }
    }
    out
}

pub fn diff(old_path: &Path, new_path: &Path, as_json: bool) -> Result<Outcome, String> {
    let (old, new) = (read_artifact(old_path)?, read_artifact(new_path)?);
    let (a, b) = (&old.metadata, &new.metadata);
    let mut differences = Vec::new();
    if a.abi_version != b.abi_version {
        differences.push(format!("abi version {} became {}", a.abi_version, b.abi_version));
    }
    differences.extend(layout_differences("message", Some(&a.message), Some(&b.message)));
    differences.extend(layout_differences("response", Some(&a.response), Some(&b.response)));
    differences.extend(layout_differences("state", a.state.as_ref(), b.state.as_ref()));
    let compatible = a.abi_hash == b.abi_hash && a.abi_version == b.abi_version;
    if !compatible && differences.is_empty() {
        differences.push(format!("abi hash {:#018x} became {:#018x}", a.abi_hash, b.abi_hash));
    }
    if as_json {
        let value = json!({
            "old": { "id": old.id, "version": old.version, "abi_hash": format!("{:#018x}", a.abi_hash) },
            "new": { "id": new.id, "version": new.version, "abi_hash": format!("{:#018x}", b.abi_hash) },
            "compatible": compatible,
            "differences": differences,
        });
        say!("{value:#}");
    } else {
        let verdict = if compatible { "ABI compatible" } else { "ABI incompatible" };
        say!("{} v{} -> {} v{}: {verdict}", old.id, old.version, new.id, new.version);
        for difference in &differences {
            say!("  {difference}");
        }
    }
    Ok(if compatible { Outcome::Success } else { Outcome::Failure })
}
