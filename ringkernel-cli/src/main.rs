//! `ringkernel`: the command line for ringkernel artifacts.
//!
//! ```text
//! ringkernel compile src/kernels.rs -o artifacts --arch sm_90
//! ringkernel inspect artifacts/pricing-v2.ptx --json
//! ringkernel keygen -o release.key            # release.key (secret) and release.key.pub
//! ringkernel sign artifacts/pricing-v2.ptx --key release.key
//! ringkernel verify artifacts/pricing-v2.ptx --pubkey release.key.pub
//! ringkernel diff artifacts/pricing-v1.ptx artifacts/pricing-v2.ptx
//! ringkernel run artifacts/pricing-v2.ptx --input '{"seq": 1, "sent_ns": 0, "quantity": 60}'
//! ringkernel watch /srv/rules --pubkey release.key.pub --backend emulated
//! ```
//!
//! Exit codes: 0 success, 1 failure (a DSL error, a bad artifact or signature, an ABI
//! difference), 2 usage. Errors are one line on stderr naming the file and the reason.

mod commands;
mod files;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Compile, inspect, sign, verify and compare ringkernel artifacts (PTX with a metadata
/// header).
#[derive(Parser)]
#[command(
    name = "ringkernel",
    version,
    after_help = "Example:\n  ringkernel compile src/kernels.rs -o artifacts && ringkernel inspect artifacts/counter-v1.ptx"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile every `#[ring_kernel]` / `#[rule]` handler of a Rust source file to artifacts.
    #[command(
        after_help = "Example:\n  ringkernel compile src/kernels.rs -o artifacts --arch sm_90"
    )]
    Compile {
        /// The Rust source file.
        file: PathBuf,
        /// Where to write `<id>-v<version>.ptx` (the current directory by default).
        #[arg(short, long, default_value = ".")]
        out_dir: PathBuf,
        /// Target for handlers whose attribute names none.
        #[arg(long, default_value = "sm_70")]
        arch: String,
    },
    /// Show an artifact's id, version, target, entries, layouts, ABI hash, digest, signature
    /// and dependencies.
    #[command(after_help = "Example:\n  ringkernel inspect artifacts/pricing-v2.ptx --json")]
    Inspect {
        /// The artifact file.
        artifact: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Make an Ed25519 key pair: the secret key in KEY, the public key in KEY.pub (hex).
    #[command(after_help = "Example:\n  ringkernel keygen -o release.key")]
    Keygen {
        /// The secret key's file (created; never overwritten).
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Sign an artifact: its `signature:` line, over the registry's digest.
    #[command(
        after_help = "Example:\n  ringkernel sign artifacts/pricing-v2.ptx --key release.key"
    )]
    Sign {
        /// The artifact file (rewritten in place unless `-o` is given).
        artifact: PathBuf,
        /// The secret key file `keygen` wrote.
        #[arg(long)]
        key: PathBuf,
        /// Write the signed artifact here instead.
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// Check an artifact's signature: exit 0 when valid, 1 when bad or missing.
    #[command(
        after_help = "Example:\n  ringkernel verify artifacts/pricing-v2.ptx --pubkey release.key.pub"
    )]
    Verify {
        /// The artifact file.
        artifact: PathBuf,
        /// The public key file (`KEY.pub` from `keygen`).
        #[arg(long)]
        pubkey: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Whether two artifacts are ABI compatible (one can replace the other), and which
    /// layout field differs: exit 0 compatible, 1 not.
    #[command(
        after_help = "Example:\n  ringkernel diff artifacts/pricing-v1.ptx artifacts/pricing-v2.ptx"
    )]
    Diff {
        /// The running (old) artifact.
        old: PathBuf,
        /// The candidate (new) artifact.
        new: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Add the metadata header to PTX another compiler wrote (with `include/ringkernel.cuh`):
    /// the layouts, ABI hash and settings of the artifact it replaces.
    #[command(
        after_help = "Example:\n  ringkernel wrap load_v2.ptx --id load --version 2 --like artifacts/load-v1.ptx -o artifacts/load-v2.ptx"
    )]
    Wrap {
        /// The raw PTX (`nvcc -ptx`, NVRTC).
        ptx: PathBuf,
        /// Rule id.
        #[arg(long)]
        id: String,
        /// Version.
        #[arg(long)]
        version: u64,
        /// The artifact whose layouts and settings the new one shares.
        #[arg(long, required_unless_present = "types", conflicts_with = "types")]
        like: Option<PathBuf>,
        /// Or the types themselves, as an artifact's `types:` line writes them:
        /// `message=T response=T state=T|none` (structs `Name{a:u32,b:[f32;4]}`).
        #[arg(long)]
        types: Option<String>,
        /// Where to write the artifact (`<id>-v<version>.ptx` beside the PTX by default).
        #[arg(short, long)]
        out: Option<PathBuf>,
        /// The producer, for the `compiler:` line.
        #[arg(long, default_value = "external CUDA C (ringkernel wrap)")]
        compiler: String,
    },
    /// Run an artifact's handler on messages given as JSON, in the PTX virtual machine: one
    /// JSON response per line (state carried from message to message).
    #[command(
        after_help = "Example:\n  ringkernel run artifacts/scorer-v2.ptx --input '{\"quantity\": 3, \"price\": 2.5}' --input '{\"quantity\": 1, \"price\": \"NaN\"}'"
    )]
    Run {
        /// The artifact file.
        artifact: PathBuf,
        /// Where to run it.
        #[arg(long, default_value = "emulated", value_parser = ["emulated", "cuda"])]
        backend: String,
        /// A message as JSON (repeat for more): an object with the message's fields, or a
        /// bare number for a scalar message.
        #[arg(long = "input", required = true, allow_negative_numbers = true)]
        inputs: Vec<String>,
    },
    /// Run the artifact watcher in the foreground: the directory's artifacts become the
    /// registry's active versions; every event is logged.
    #[command(
        after_help = "Example:\n  ringkernel watch /srv/rules --pubkey release.key.pub --backend emulated"
    )]
    Watch {
        /// The directory of `*.ptx` artifacts.
        dir: PathBuf,
        /// Require artifacts signed by this key (`KEY.pub` from `keygen`).
        #[arg(long)]
        pubkey: Option<PathBuf>,
        /// Where the rule actors run: `cpu` (PTX-only artifacts in the PTX VM) or `emulated`.
        #[arg(long, default_value = "emulated", value_parser = ["cpu", "emulated", "cuda"])]
        backend: String,
        /// Device capability to validate against.
        #[arg(long, default_value = "sm_90")]
        device_cc: String,
        /// Scan once, print what happened and exit: 0 when nothing was rejected, 1 otherwise.
        #[arg(long)]
        once: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compile { file, out_dir, arch } => commands::compile(&file, &out_dir, &arch),
        Command::Inspect { artifact, json } => commands::inspect(&artifact, json),
        Command::Keygen { out } => commands::keygen(&out),
        Command::Sign { artifact, key, out } => commands::sign(&artifact, &key, out.as_deref()),
        Command::Verify { artifact, pubkey, json } => commands::verify(&artifact, &pubkey, json),
        Command::Diff { old, new, json } => commands::diff(&old, &new, json),
        Command::Run { artifact, backend, inputs } => {
            run::run(&artifact, &backend, &inputs).map(|responses| {
                use std::io::Write as _;
                let mut out = std::io::stdout().lock();
                for response in responses {
                    let _ = writeln!(out, "{response}");
                }
                commands::Outcome::Success
            })
        }
        Command::Wrap { ptx, id, version, like, types, out, compiler } => {
            let like = match (like, types) {
                (Some(like), _) => commands::Like::Artifact(like),
                (None, types) => commands::Like::Types(types.unwrap_or_default()),
            };
            commands::wrap(&ptx, &id, version, &like, out.as_deref(), &compiler)
        }
        Command::Watch { dir, pubkey, backend, device_cc, once } => {
            commands::watch(&dir, pubkey.as_deref(), &backend, &device_cc, once)
        }
    };
    match result {
        Ok(commands::Outcome::Success) => ExitCode::SUCCESS,
        Ok(commands::Outcome::Failure) => ExitCode::from(1),
        Err(message) => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "error: {message}");
            ExitCode::from(1)
        }
    }
}
