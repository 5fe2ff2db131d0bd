//! The artifact format: PTX text with a metadata header written as PTX comments.
//!
//! Comments are ignored by `ptxas` and the driver, so an artifact file is loadable PTX as is.
//! The header is line-oriented, one `// key: value` per line, between a format line and an
//! end line:
//!
//! ```text
//! // ringkernel-artifact 1
//! // id: counter
//! // kind: ring_kernel                      ring_kernel | rule
//! // version: 1
//! // compute-cap: sm_70                     must equal the PTX `.target`
//! // depends-on: fx-rates,ledger            comma-separated, may be empty
//! // actor: grid=1 block=128 queue=1024 shared=0 backoff=1000
//! // entry-persistent: counter_persistent
//! // entry-batch: counter_batch
//! // func-handler: counter_handler
//! // message: Add size=8 align=4 fields=a@0:4,b@4:4
//! // response: u32 size=4 align=4 fields=
//! // state: Totals size=8 align=8 fields=sum@0:8      or `none`
//! // abi: version=1 hash=0x4ef7fb8305f700f8
//! // source-hash: 9f86d081884c7d65...                  hex, of the source text compiled
//! // compiler: ringkernel-codegen 0.1.0
//! // types: message=Add{a:u32,b:u32} response=u32 state=Totals{sum:u64}   optional
//! // signature: ed25519:5c1f...                        optional: 64 bytes in hex
//! // end-metadata
//! .version 6.3
//! .target sm_70
//! ...
//! ```
//!
//! Every key above is required except `types` (see [`TypeDesc`]) and `signature`, none may repeat, and unknown keys are
//! errors, except keys starting with `x-`, which are skipped (room for tools that add their
//! own). The signature is an Ed25519 signature over the registry's digest of the artifact
//! *without* its signature line (`ringkernel::rules::rule_digest` of
//! `CompiledRule::from_artifact`), so adding it changes nothing it covers. [`Artifact::parse`]
//! reports the line of the first problem and never panics, whatever the input.

use std::fmt;

use crate::abi::ABI_VERSION;

mod types;
mod wrap;

pub use types::{ArtifactTypes, TypeDesc};

pub(crate) const FORMAT_LINE: &str = "// ringkernel-artifact 1";
const END_LINE: &str = "// end-metadata";

/// Whether an artifact came from `#[ring_kernel]` or `#[rule]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArtifactKind {
    /// A kernel launched directly.
    RingKernel,
    /// A versioned rule for the registry.
    Rule,
}

impl ArtifactKind {
    /// As the `kind:` line writes it: `ring_kernel` or `rule`.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::RingKernel => "ring_kernel",
            ArtifactKind::Rule => "rule",
        }
    }
}

/// Launch and queue configuration of an actor, as recorded in artifacts. The runtime's
/// `ringkernel::rules::ActorConfig` is this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ActorSettings {
    /// Blocks in the grid (at least 1).
    pub grid_size: u32,
    /// Threads per block (1 to 1024).
    pub block_size: u32,
    /// Slots in each ring (a power of two, at least 2).
    pub queue_capacity: u32,
    /// Dynamic shared memory per block, in bytes.
    pub shared_memory_bytes: u32,
    /// How long an idle persistent kernel sleeps between polls, in nanoseconds.
    pub idle_backoff_ns: u32,
}

impl Default for ActorSettings {
    fn default() -> Self {
        Self {
            grid_size: 1,
            block_size: 128,
            queue_capacity: 1024,
            shared_memory_bytes: 0,
            idle_backoff_ns: 1_000,
        }
    }
}

impl ActorSettings {
    /// Checks the ranges documented on each field; the error says which is wrong.
    pub fn check(&self) -> Result<(), String> {
        if self.grid_size == 0 {
            return Err("actor_config.grid_size must be at least 1".into());
        }
        if !(1..=1024).contains(&self.block_size) {
            return Err(format!(
                "actor_config.block_size must be 1 to 1024, got {}",
                self.block_size
            ));
        }
        if self.queue_capacity < 2 || !self.queue_capacity.is_power_of_two() {
            return Err(format!(
                "actor_config.queue_capacity must be a power of two of at least 2, got {}",
                self.queue_capacity
            ));
        }
        Ok(())
    }
}

/// Names of the PTX symbols an artifact defines.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntryPoints {
    /// The persistent actor loop (`.entry`).
    pub persistent: String,
    /// The one-thread-per-message batch kernel (`.entry`).
    pub batch: String,
    /// The handler body (`.func`).
    pub handler: String,
}

/// A type's layout as recorded in an artifact: name, size, alignment and fields as
/// `(name, offset, size)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LayoutRecord {
    /// Type name.
    pub name: String,
    /// Size in bytes.
    pub size: u32,
    /// Alignment in bytes.
    pub align: u32,
    /// Fields: name, offset, size.
    pub fields: Vec<(String, u32, u32)>,
}

impl LayoutRecord {
    /// `Name size=S align=A fields=a@0:4,b@8:8`.
    pub fn to_text(&self) -> String {
        let fields: Vec<String> =
            self.fields.iter().map(|(n, o, s)| format!("{n}@{o}:{s}")).collect();
        format!("{} size={} align={} fields={}", self.name, self.size, self.align, fields.join(","))
    }

    fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.split(' ');
        let name = parts.next().filter(|n| is_identifier(n)).ok_or("expected a type name")?;
        let size = keyed_u32(parts.next(), "size")?;
        let align = keyed_u32(parts.next(), "align")?;
        let fields_text =
            parts.next().and_then(|p| p.strip_prefix("fields=")).ok_or("expected `fields=`")?;
        if parts.next().is_some() {
            return Err("unexpected text after `fields=`".into());
        }
        if !align.is_power_of_two() {
            return Err(format!("alignment {align} is not a power of two"));
        }
        let mut fields = Vec::new();
        for field in fields_text.split(',').filter(|f| !f.is_empty()) {
            let (fname, rest) = field
                .split_once('@')
                .ok_or_else(|| format!("field `{field}` lacks `@offset:size`"))?;
            let (offset, fsize) =
                rest.split_once(':').ok_or_else(|| format!("field `{field}` lacks `:size`"))?;
            let offset: u32 =
                offset.parse().map_err(|_| format!("field `{fname}`: bad offset `{offset}`"))?;
            let fsize: u32 =
                fsize.parse().map_err(|_| format!("field `{fname}`: bad size `{fsize}`"))?;
            if !is_identifier(fname) {
                return Err(format!("bad field name `{fname}`"));
            }
            if u64::from(offset) + u64::from(fsize) > u64::from(size) {
                return Err(format!("field `{fname}` ends past the type's {size} bytes"));
            }
            fields.push((fname.to_owned(), offset, fsize));
        }
        Ok(Self { name: name.to_owned(), size, align, fields })
    }
}

impl From<&crate::layout::StructLayout> for LayoutRecord {
    fn from(layout: &crate::layout::StructLayout) -> Self {
        Self {
            name: layout.name.clone(),
            size: layout.size,
            align: layout.align,
            fields: layout.fields.iter().map(|f| (f.name.clone(), f.offset, f.size)).collect(),
        }
    }
}

/// Everything an artifact says about its PTX.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArtifactMetadata {
    /// Kernel or rule.
    pub kind: ArtifactKind,
    /// Target compute capability; equals the PTX `.target`.
    pub compute_cap: String,
    /// Rules that must be active first.
    pub depends_on: Vec<String>,
    /// Launch settings.
    pub actor: ActorSettings,
    /// Symbol names.
    pub entries: EntryPoints,
    /// Message layout.
    pub message: LayoutRecord,
    /// Response layout.
    pub response: LayoutRecord,
    /// State layout, when the handler has state.
    pub state: Option<LayoutRecord>,
    /// ABI version the code was generated for.
    pub abi_version: u32,
    /// `abi::abi_hash` of the three layouts.
    pub abi_hash: u64,
    /// Hex digest of the source text the PTX was compiled from.
    pub source_hash: String,
    /// `ringkernel-codegen <version>` or another tool's name and version.
    pub compiler: String,
    /// The full types of message, response and state, when the producer recorded them.
    pub types: Option<ArtifactTypes>,
}

/// A compiled kernel or rule: PTX plus metadata.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Artifact {
    /// Kernel or rule id.
    pub id: String,
    /// Version (1 for kernels).
    pub version: u64,
    /// The PTX text, without the metadata header.
    pub ptx: String,
    /// The metadata.
    pub metadata: ArtifactMetadata,
    /// The `signature:` line's bytes (an Ed25519 signature is 64), when the artifact is
    /// signed.
    pub signature: Option<Vec<u8>>,
}

/// Why text is not a valid artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactError {
    /// 1-based line of the problem (0: the text as a whole).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ArtifactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "invalid ringkernel artifact: {}", self.message)
        } else {
            write!(f, "invalid ringkernel artifact, line {}: {}", self.line, self.message)
        }
    }
}

impl std::error::Error for ArtifactError {}

const KEYS: [&str; 18] = [
    "id",
    "kind",
    "version",
    "compute-cap",
    "depends-on",
    "actor",
    "entry-persistent",
    "entry-batch",
    "func-handler",
    "message",
    "response",
    "state",
    "abi",
    "source-hash",
    "compiler",
    "types",
    "signature",
    "",
];

impl Artifact {
    /// The artifact file: metadata header, then the PTX.
    pub fn to_text(&self) -> String {
        let m = &self.metadata;
        let a = &m.actor;
        let mut out = String::with_capacity(self.ptx.len() + 1024);
        let mut line = |key: &str, value: &str| {
            out.push_str("// ");
            out.push_str(key);
            out.push_str(": ");
            out.push_str(value);
            out.push('\n');
        };
        line("id", &self.id);
        line("kind", m.kind.as_str());
        line("version", &self.version.to_string());
        line("compute-cap", &m.compute_cap);
        line("depends-on", &m.depends_on.join(","));
        line(
            "actor",
            &format!(
                "grid={} block={} queue={} shared={} backoff={}",
                a.grid_size,
                a.block_size,
                a.queue_capacity,
                a.shared_memory_bytes,
                a.idle_backoff_ns
            ),
        );
        line("entry-persistent", &m.entries.persistent);
        line("entry-batch", &m.entries.batch);
        line("func-handler", &m.entries.handler);
        line("message", &m.message.to_text());
        line("response", &m.response.to_text());
        line("state", &m.state.as_ref().map_or_else(|| "none".to_owned(), LayoutRecord::to_text));
        line("abi", &format!("version={} hash={:#018x}", m.abi_version, m.abi_hash));
        line("source-hash", &m.source_hash);
        line("compiler", &m.compiler);
        if let Some(types) = &m.types {
            line("types", &types.to_text());
        }
        if let Some(signature) = &self.signature {
            let hex: String = signature.iter().map(|b| format!("{b:02x}")).collect();
            line("signature", &format!("ed25519:{hex}"));
        }
        format!("{FORMAT_LINE}\n{out}{END_LINE}\n{}", self.ptx)
    }

    /// Reads an artifact file. Never panics; the error names the first bad line.
    pub fn parse(text: &str) -> Result<Artifact, ArtifactError> {
        let err = |line: usize, message: String| ArtifactError { line, message };
        let mut lines = text.split_inclusive('\n').enumerate();
        match lines.next() {
            Some((_, first)) if first.trim_end() == FORMAT_LINE => {}
            Some((_, first)) if first.starts_with("// ringkernel-artifact ") => {
                return Err(err(
                    1,
                    format!("unsupported format `{}` (this reader knows 1)", first.trim_end()),
                ));
            }
            _ => return Err(err(1, format!("expected `{FORMAT_LINE}` as the first line"))),
        }
        let mut values: Vec<Option<(usize, &str)>> = vec![None; KEYS.len()];
        let mut ptx_start = None;
        let mut offset = FORMAT_LINE.len() + 1;
        for (index, raw) in lines {
            let number = index + 1;
            offset += raw.len();
            let line = raw.trim_end_matches(['\n', '\r']);
            if line == END_LINE {
                ptx_start = Some(offset);
                break;
            }
            let body = line.strip_prefix("// ").ok_or_else(|| {
                err(number, "expected `// key: value` or `// end-metadata`".into())
            })?;
            let (key, value) = body
                .split_once(": ")
                .or_else(|| body.strip_suffix(':').map(|k| (k, "")))
                .ok_or_else(|| err(number, format!("expected `key: value`, got `{body}`")))?;
            if key.starts_with("x-") {
                continue;
            }
            let slot = KEYS[..KEYS.len() - 1]
                .iter()
                .position(|k| *k == key)
                .ok_or_else(|| err(number, format!("unknown key `{key}`")))?;
            if values[slot].is_some() {
                return Err(err(number, format!("key `{key}` appears twice")));
            }
            values[slot] = Some((number, value));
        }
        let ptx_start = ptx_start.ok_or_else(|| err(0, format!("no `{END_LINE}` line")))?;
        let get = |i: usize| values[i].ok_or_else(|| err(0, format!("missing key `{}`", KEYS[i])));
        fn at<T>(
            (line, value): (usize, &str),
            what: Result<T, String>,
        ) -> Result<T, ArtifactError> {
            what.map_err(|m| ArtifactError { line, message: format!("{value:?}: {m}") })
        }

        let id = get(0)?;
        let id_value = at(id, check_name(id.1))?;
        let kind = get(1)?;
        let kind_value = at(
            kind,
            match kind.1 {
                "ring_kernel" => Ok(ArtifactKind::RingKernel),
                "rule" => Ok(ArtifactKind::Rule),
                _ => Err("kind must be `ring_kernel` or `rule`".into()),
            },
        )?;
        let version = get(2)?;
        let version_value: u64 =
            at(version, version.1.parse().map_err(|_| "not a version number".to_owned()))?;
        let cc = get(3)?;
        let cc_value = at(cc, check_name(cc.1))?;
        let deps = get(4)?;
        let deps_value =
            at(deps, deps.1.split(',').filter(|d| !d.is_empty()).map(check_name).collect())?;
        let actor = get(5)?;
        let actor_value = at(actor, parse_actor(actor.1))?;
        let mut names = Vec::new();
        for i in 6..9 {
            let entry = get(i)?;
            names.push(at(entry, check_symbol(entry.1))?);
        }
        let layout = |i: usize| -> Result<LayoutRecord, ArtifactError> {
            let v = get(i)?;
            at(v, LayoutRecord::parse(v.1))
        };
        let (message, response) = (layout(9)?, layout(10)?);
        let state = get(11)?;
        let state_value =
            if state.1 == "none" { None } else { Some(at(state, LayoutRecord::parse(state.1))?) };
        let abi = get(12)?;
        let (abi_version, abi_hash) = at(abi, parse_abi(abi.1))?;
        let source = get(13)?;
        let source_hash = at(source, check_hex(source.1))?;
        let compiler = get(14)?;
        if compiler.1.trim().is_empty() {
            return Err(err(compiler.0, "compiler is empty".into()));
        }

        let types = match values[15] {
            None => None,
            Some(entry) => Some(at(entry, ArtifactTypes::parse(entry.1))?),
        };
        let signature = match values[16] {
            None => None,
            Some(entry) => Some(at(entry, parse_signature(entry.1))?),
        };
        let ptx = text.get(ptx_start..).unwrap_or_default().to_owned();
        let target = ptx_directive(&ptx, ".target")
            .ok_or_else(|| err(0, "the PTX has no `.target` directive".into()))?;
        if ptx_directive(&ptx, ".version").is_none() {
            return Err(err(0, "the PTX has no `.version` directive".into()));
        }
        let target = target.split([',', ' ']).next().unwrap_or_default();
        if target != cc_value {
            return Err(err(
                cc.0,
                format!("compute-cap `{cc_value}` differs from the PTX `.target {target}`"),
            ));
        }
        check_complete(&ptx).map_err(|m| err(0, m))?;
        if defines_functions(&ptx) {
            for (i, name) in (6..9).zip(&names) {
                if !defines(&ptx, name) {
                    let line = values[i].map_or(0, |(line, _)| line);
                    return Err(err(
                        line,
                        format!("the PTX defines no `{name}` (truncated, or the wrong file?)"),
                    ));
                }
            }
        }
        let mut names = names.into_iter();
        let mut next_name = || names.next().unwrap_or_default();
        Ok(Artifact {
            id: id_value,
            version: version_value,
            ptx,
            metadata: ArtifactMetadata {
                kind: kind_value,
                compute_cap: cc_value,
                depends_on: deps_value,
                actor: actor_value,
                entries: EntryPoints {
                    persistent: next_name(),
                    batch: next_name(),
                    handler: next_name(),
                },
                message,
                response,
                state: state_value,
                abi_version,
                abi_hash,
                source_hash,
                compiler: compiler.1.to_owned(),
                types,
            },
            signature,
        })
    }

    /// This artifact without its signature: what a signature covers.
    pub fn unsigned(&self) -> Artifact {
        Artifact { signature: None, ..self.clone() }
    }

    /// File name build.rs writes it under: `<id>-v<version>.ptx`.
    pub fn file_name(&self) -> String {
        format!("{}-v{}.ptx", self.id, self.version)
    }
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn check_name(text: &str) -> Result<String, String> {
    let ok = !text.is_empty()
        && text.len() <= 128
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(text.to_owned())
    } else {
        Err("expected 1 to 128 characters of [A-Za-z0-9_.-]".into())
    }
}

fn check_symbol(text: &str) -> Result<String, String> {
    if is_identifier(text) && text.len() <= 256 {
        Ok(text.to_owned())
    } else {
        Err("not a PTX symbol name".into())
    }
}

/// `ed25519:` and 64 bytes in hex.
fn parse_signature(text: &str) -> Result<Vec<u8>, String> {
    let hex = text.strip_prefix("ed25519:").ok_or("expected `ed25519:<128 hex digits>`")?;
    if hex.len() != 128 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("an Ed25519 signature is 128 hex digits".into());
    }
    (0..64)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string()))
        .collect()
}

fn check_hex(text: &str) -> Result<String, String> {
    if !text.is_empty() && text.len() <= 128 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(text.to_owned())
    } else {
        Err("expected a hex digest".into())
    }
}

fn keyed_u32(part: Option<&str>, key: &str) -> Result<u32, String> {
    part.and_then(|p| p.strip_prefix(key)?.strip_prefix('='))
        .ok_or_else(|| format!("expected `{key}=N`"))?
        .parse()
        .map_err(|_| format!("`{key}` is not a number"))
}

fn parse_actor(text: &str) -> Result<ActorSettings, String> {
    let mut parts = text.split(' ');
    let settings = ActorSettings {
        grid_size: keyed_u32(parts.next(), "grid")?,
        block_size: keyed_u32(parts.next(), "block")?,
        queue_capacity: keyed_u32(parts.next(), "queue")?,
        shared_memory_bytes: keyed_u32(parts.next(), "shared")?,
        idle_backoff_ns: keyed_u32(parts.next(), "backoff")?,
    };
    if parts.next().is_some() {
        return Err("unexpected text after `backoff=`".into());
    }
    Ok(settings)
}

fn parse_abi(text: &str) -> Result<(u32, u64), String> {
    let mut parts = text.split(' ');
    let version = keyed_u32(parts.next(), "version")?;
    let hash =
        parts.next().and_then(|p| p.strip_prefix("hash=0x")).ok_or("expected `hash=0x...`")?;
    let hash = u64::from_str_radix(hash, 16).map_err(|_| "hash is not a 64-bit hex number")?;
    if parts.next().is_some() {
        return Err("unexpected text after `hash=`".into());
    }
    if version != ABI_VERSION {
        return Err(format!("ABI version {version} is not the supported {ABI_VERSION}"));
    }
    Ok((version, hash))
}

/// The text after the first `directive` at the start of a line (comments skipped).
/// Every `{` of the PTX (outside comments) is closed: a file cut short ends inside a block.
fn check_complete(ptx: &str) -> Result<(), String> {
    let mut depth = 0i64;
    for line in ptx.lines() {
        let code = line.split("//").next().unwrap_or_default();
        for c in code.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth < 0 {
                return Err("the PTX closes a block it never opened".into());
            }
        }
    }
    if depth == 0 {
        Ok(())
    } else {
        Err("the PTX ends inside a block: the file is truncated or incomplete".into())
    }
}

/// Lines of PTX code (not comments) that declare an `.entry` or a `.func`.
pub(crate) fn function_lines(ptx: &str) -> impl Iterator<Item = &str> {
    ptx.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .filter(|code| code.contains(".entry") || code.contains(".func"))
}

fn defines_functions(ptx: &str) -> bool {
    function_lines(ptx).next().is_some()
}

/// Whether an `.entry` / `.func` named `name` is declared.
fn defines(ptx: &str, name: &str) -> bool {
    function_lines(ptx).any(|code| {
        code.match_indices(name).any(|(at, _)| {
            let before = code[..at].chars().next_back();
            let after = code[at + name.len()..].trim_start().chars().next();
            before.is_none_or(|c| c == ' ' || c == '\t' || c == ')') && after == Some('(')
        })
    })
}

pub(crate) fn ptx_directive<'a>(ptx: &'a str, directive: &str) -> Option<&'a str> {
    ptx.lines()
        .map(str::trim_start)
        .find_map(|line| line.strip_prefix(directive).filter(|rest| rest.starts_with([' ', '\t'])))
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(super) fn sample() -> Artifact {
        Artifact {
            id: "counter".into(),
            version: 3,
            ptx: ".version 6.3\n.target sm_70\n.address_size 64\n".into(),
            metadata: ArtifactMetadata {
                kind: ArtifactKind::Rule,
                compute_cap: "sm_70".into(),
                depends_on: vec!["fx-rates".into(), "ledger".into()],
                actor: ActorSettings::default(),
                entries: EntryPoints {
                    persistent: "counter_persistent".into(),
                    batch: "counter_batch".into(),
                    handler: "counter_handler".into(),
                },
                message: LayoutRecord {
                    name: "Add".into(),
                    size: 8,
                    align: 4,
                    fields: vec![("a".into(), 0, 4), ("b".into(), 4, 4)],
                },
                response: LayoutRecord { name: "u32".into(), size: 4, align: 4, fields: vec![] },
                state: None,
                abi_version: ABI_VERSION,
                abi_hash: 0x1234_5678_9abc_def0,
                source_hash: "9f86d081".into(),
                compiler: "ringkernel-codegen 0.1.0".into(),
                types: None,
            },
            signature: None,
        }
    }

    #[test]
    fn truncated_ptx_and_missing_entries_are_errors() {
        let mut artifact = sample();
        artifact.ptx.push_str(
            ".func counter_handler(.param .b64 a)\n{\n\tret;\n}\n\
             .visible .entry counter_batch(.param .u64 b)\n{\n\tret;\n}\n\
             .visible .entry counter_persistent(.param .u64 c)\n{ // {\n\tret;\n}\n",
        );
        let text = artifact.to_text();
        assert_eq!(Artifact::parse(&text), Ok(artifact.clone()));
        let cut = &text[..text.len() - 3];
        assert!(parse_error(cut).contains("truncated"), "{}", parse_error(cut));
        let without_persistent = &text[..text.find(".visible .entry counter_persistent").unwrap()];
        let err = Artifact::parse(without_persistent).unwrap_err();
        assert!(err.message.contains("defines no `counter_persistent`"), "{err}");
        assert_eq!(err.line, 8, "the entry-persistent line");
        let stray = text.replacen("\tret;\n}\n", "\tret;\n}\n}\n", 1);
        assert!(parse_error(&stray).contains("never opened"), "{}", parse_error(&stray));
    }

    #[test]
    fn signatures_round_trip_and_bad_ones_name_their_line() {
        let mut artifact = sample();
        artifact.signature = Some((0..64).collect());
        let text = artifact.to_text();
        assert!(text.contains("// signature: ed25519:000102"));
        assert_eq!(Artifact::parse(&text), Ok(artifact.clone()));
        assert_eq!(artifact.unsigned().to_text(), sample().to_text());
        let line = text.lines().position(|l| l.starts_with("// signature:")).unwrap() + 1;
        for bad in ["// signature: ed25519:00", "// signature: rsa:00", "// signature: ed25519:zz"]
        {
            let broken: String = text
                .lines()
                .map(|l| if l.starts_with("// signature:") { bad } else { l })
                .collect::<Vec<_>>()
                .join("\n");
            let err = Artifact::parse(&broken).unwrap_err();
            assert_eq!(err.line, line, "{bad}: {err}");
        }
    }

    #[test]
    fn round_trips() {
        let mut artifact = sample();
        assert_eq!(Artifact::parse(&artifact.to_text()), Ok(artifact.clone()));
        artifact.metadata.state =
            Some(LayoutRecord { name: "S".into(), size: 0, align: 1, fields: vec![] });
        artifact.metadata.depends_on.clear();
        artifact.metadata.kind = ArtifactKind::RingKernel;
        assert_eq!(Artifact::parse(&artifact.to_text()), Ok(artifact));
    }

    #[test]
    fn header_is_ptx_comments() {
        let text = sample().to_text();
        let header: Vec<&str> = text.lines().take_while(|l| !l.starts_with('.')).collect();
        assert!(header.iter().all(|l| l.starts_with("// ")), "{header:?}");
        assert!(text.contains("\n.version 6.3\n.target sm_70\n"));
    }

    fn parse_error(text: &str) -> String {
        Artifact::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let good = sample().to_text();
        assert_eq!(
            parse_error(""),
            format!(
                "invalid ringkernel artifact, line 1: expected `{FORMAT_LINE}` as the first line"
            )
        );
        assert!(
            parse_error(&good.replace("artifact 1", "artifact 2")).contains("unsupported format")
        );
        assert!(
            parse_error(&good.replace("// version: 3", "// version: three"))
                .contains("line 4: \"three\": not a version number")
        );
        assert!(
            parse_error(&good.replace("// kind: rule", "// kind: rule\n// kind: rule"))
                .contains("appears twice")
        );
        assert!(
            parse_error(&good.replace("// kind: rule", "// flavour: rule"))
                .contains("unknown key `flavour`")
        );
        assert!(parse_error(&good.replace("// kind: rule\n", "")).contains("missing key `kind`"));
        assert!(
            parse_error(&good.replace("// end-metadata\n", ""))
                .contains("line 17: expected `// key: value` or `// end-metadata`")
        );
        assert!(
            parse_error(&good.replace(".target sm_70", ".target sm_80"))
                .contains("differs from the PTX `.target sm_80`")
        );
        assert!(parse_error(&good.replace(".version 6.3\n", "")).contains("no `.version`"));
        assert!(
            parse_error(&good.replace("align=4 fields=a", "align=3 fields=a"))
                .contains("not a power of two")
        );
        assert!(parse_error(&good.replace("b@4:4", "b@6:4")).contains("ends past"));
        assert!(
            parse_error(&good.replace("version=2 hash", "version=9 hash"))
                .contains("ABI version 9")
        );
        assert!(parse_error(&good.replace("id: counter", "id: a b")).contains("[A-Za-z0-9_.-]"));
        assert!(
            parse_error(&good.replace("block=128", "block=-1")).contains("`block` is not a number")
        );
    }

    #[test]
    fn a_header_without_its_end_line_is_an_error() {
        let header_only: String =
            sample().to_text().lines().take(16).map(|l| format!("{l}\n")).collect();
        assert_eq!(
            parse_error(&header_only),
            "invalid ringkernel artifact: no `// end-metadata` line"
        );
    }

    #[test]
    fn extension_keys_are_skipped_and_crlf_is_accepted() {
        let text =
            sample().to_text().replace("// kind: rule\n", "// kind: rule\n// x-signed-by: ci\n");
        assert!(Artifact::parse(&text).is_ok());
        let crlf = sample().to_text().replace('\n', "\r\n");
        assert_eq!(Artifact::parse(&crlf).map(|a| a.id), Ok("counter".into()));
    }

    proptest! {
        #[test]
        fn random_text_never_panics(text in ".{0,400}") {
            let _ = Artifact::parse(&text);
        }

        #[test]
        fn every_truncation_is_handled(cut in 0usize..600) {
            let text = sample().to_text();
            let cut = cut.min(text.len());
            if text.is_char_boundary(cut) {
                // Cutting inside the header is always an error; inside the PTX it may parse.
                let result = Artifact::parse(&text[..cut]);
                if cut < text.find(".version").unwrap() {
                    prop_assert!(result.is_err());
                }
            }
        }

        #[test]
        fn byte_flips_never_panic(position in 0usize..600, byte in any::<u8>()) {
            let mut bytes = sample().to_text().into_bytes();
            let position = position % bytes.len();
            bytes[position] = byte;
            let _ = Artifact::parse(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn round_trips_random_metadata(
            id in "[a-z][a-z0-9_-]{0,20}",
            version in any::<u64>(),
            deps in prop::collection::vec("[a-z][a-z0-9.]{0,8}", 0..4),
            block in 1u32..1025,
            hash in any::<u64>(),
            source in "[0-9a-f]{1,64}",
        ) {
            let mut artifact = sample();
            artifact.id = id;
            artifact.version = version;
            artifact.metadata.depends_on = deps;
            artifact.metadata.actor.block_size = block;
            artifact.metadata.abi_hash = hash;
            artifact.metadata.source_hash = source;
            prop_assert_eq!(Artifact::parse(&artifact.to_text()), Ok(artifact));
        }
    }
}
