//! Reading artifacts and keys, writing files without ever leaving a partial one.

use std::path::Path;

use ringkernel::rules::{SigningKey, VerifyingKey};
use ringkernel_codegen::artifact::Artifact;

/// The artifact at `path`; the error names the file and the line.
pub fn read_artifact(path: &Path) -> Result<Artifact, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Artifact::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: a reader
/// (a watched directory) sees the old file or the new one, never part of it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&temporary, bytes).and_then(|()| std::fs::rename(&temporary, path)).map_err(
        |e| {
            let _ = std::fs::remove_file(&temporary);
            format!("{}: {e}", path.display())
        },
    )
}

/// 32 bytes written as 64 hex digits (surrounding whitespace allowed).
fn read_hex32(path: &Path, what: &str) -> Result<[u8; 32], String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let hex = text.trim();
    let bad = || format!("{}: not a {what} (expected 64 hex digits)", path.display());
    if hex.len() != 64 || !hex.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

pub fn read_secret_key(path: &Path) -> Result<SigningKey, String> {
    read_hex32(path, "secret key").map(|bytes| SigningKey::from_bytes(&bytes))
}

pub fn read_public_key(path: &Path) -> Result<VerifyingKey, String> {
    let bytes = read_hex32(path, "public key")?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| format!("{}: not a valid Ed25519 public key", path.display()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
