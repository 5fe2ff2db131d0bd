//! [`Build`]: the build.rs entry point.
//!
//! In `build.rs`, inside `fn main`:
//!
//! ```no_run
//! ringkernel_codegen::Build::new().run();
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::artifact::Artifact;
use crate::compile::{Options, compile_source};
use crate::diagnostic::Diagnostics;

/// Compiles every handler of a crate to `$OUT_DIR/ringkernel/<id>-v<version>.ptx`.
#[derive(Debug, Clone)]
pub struct Build {
    root: PathBuf,
    dirs: Vec<PathBuf>,
    compute_cap: String,
    out_dir: Option<PathBuf>,
    emit_cargo_directives: bool,
    excluded: Vec<PathBuf>,
}

/// Why a build failed.
#[derive(Debug)]
pub enum BuildError {
    /// Reading a source or writing an artifact failed.
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// DSL errors, one entry per file.
    Diagnostics(Vec<Diagnostics>),
    /// Two handlers produce the same `(id, version)`.
    Duplicate {
        /// The artifact file name.
        name: String,
        /// The two sources.
        first: PathBuf,
        /// The second source.
        second: PathBuf,
    },
    /// Two versions of one rule have different message, response or state layouts: they
    /// could not swap on the same queues and state.
    AbiMismatch {
        /// Rule id.
        id: String,
        /// One version and its source.
        first: (u64, PathBuf),
        /// Another version and its source.
        second: (u64, PathBuf),
    },
    /// `OUT_DIR` is not set and no output directory was given.
    NoOutDir,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Io { path, error } => write!(f, "error: {}: {error}", path.display()),
            BuildError::Diagnostics(all) => {
                for (i, d) in all.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{d}")?;
                }
                Ok(())
            }
            BuildError::Duplicate { name, first, second } => {
                write!(
                    f,
                    "error: `{name}` is produced by both {} and {}\n  = help: give each handler its own id, or each rule version its own number",
                    first.display(),
                    second.display()
                )
            }
            BuildError::AbiMismatch { id, first, second } => write!(
                f,
                "error: rule `{id}` v{} ({}) and v{} ({}) have different message, response or state layouts\n  = help: versions of one rule swap on the same queues and state: keep the types, or give the new layout a new rule id",
                first.0,
                first.1.display(),
                second.0,
                second.1.display()
            ),
            BuildError::NoOutDir => {
                write!(f, "error: OUT_DIR is not set (run from a build script or call `out_dir`)")
            }
        }
    }
}

impl std::error::Error for BuildError {}

impl Default for Build {
    fn default() -> Self {
        Self::new()
    }
}

impl Build {
    /// Scans `src/`, `examples/` and `tests/` of the crate being built, for the target in
    /// `RINGKERNEL_COMPUTE_CAP` (default `sm_70`).
    pub fn new() -> Self {
        let root = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        let compute_cap =
            std::env::var("RINGKERNEL_COMPUTE_CAP").unwrap_or_else(|_| "sm_70".into());
        Self {
            dirs: vec![root.join("src"), root.join("examples"), root.join("tests")],
            root,
            compute_cap,
            out_dir: None,
            emit_cargo_directives: true,
            excluded: Vec::new(),
        }
    }

    /// Treats `dir` as the crate root (default: `CARGO_MANIFEST_DIR`); the directories to scan
    /// go back to `src/`, `examples/` and `tests/` under it.
    pub fn root(mut self, dir: impl Into<PathBuf>) -> Self {
        self.root = dir.into();
        self.dirs =
            vec![self.root.join("src"), self.root.join("examples"), self.root.join("tests")];
        self
    }

    /// Scans these directories instead (relative to the crate root).
    pub fn dirs<P: AsRef<Path>>(mut self, dirs: impl IntoIterator<Item = P>) -> Self {
        self.dirs = dirs.into_iter().map(|d| self.root.join(d)).collect();
        self
    }

    /// Skips these directories (relative to the crate root), e.g. compile-fail test cases.
    pub fn exclude<P: AsRef<Path>>(mut self, dirs: impl IntoIterator<Item = P>) -> Self {
        self.excluded.extend(dirs.into_iter().map(|d| self.root.join(d)));
        self
    }

    /// Target for handlers that name none.
    pub fn compute_cap(mut self, compute_cap: impl Into<String>) -> Self {
        self.compute_cap = compute_cap.into();
        self
    }

    /// Writes under `dir/ringkernel/` instead of `$OUT_DIR/ringkernel/`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Whether to print `cargo:` directives (on by default; off for use outside build.rs).
    pub fn cargo_directives(mut self, on: bool) -> Self {
        self.emit_cargo_directives = on;
        self
    }

    /// Compiles; returns the artifact paths written.
    pub fn compile(&self) -> Result<Vec<PathBuf>, BuildError> {
        let out = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR").map(PathBuf::from).ok_or(BuildError::NoOutDir)?,
        }
        .join("ringkernel");
        if self.emit_cargo_directives {
            println!("cargo:rerun-if-env-changed=RINGKERNEL_COMPUTE_CAP");
        }
        let mut files = Vec::new();
        for dir in &self.dirs {
            if dir.is_dir() {
                if self.emit_cargo_directives {
                    println!("cargo:rerun-if-changed={}", dir.display());
                }
                collect_rust_files(dir, &self.excluded, &mut files)
                    .map_err(|error| BuildError::Io { path: dir.clone(), error })?;
            }
        }
        files.sort();
        let mut failures = Vec::new();
        let mut produced: BTreeMap<String, (PathBuf, Artifact)> = BTreeMap::new();
        let mut duplicate = None;
        for file in &files {
            let src = std::fs::read_to_string(file)
                .map_err(|error| BuildError::Io { path: file.clone(), error })?;
            if self.emit_cargo_directives {
                println!("cargo:rerun-if-changed={}", file.display());
            }
            // Only files that mention a handler attribute are parsed.
            if !(src.contains("ring_kernel") || src.contains("#[rule")) {
                continue;
            }
            let shown = file.strip_prefix(&self.root).unwrap_or(file).display().to_string();
            let opts = Options { compute_cap: self.compute_cap.clone(), file_name: Some(shown) };
            match compile_source(&src, &opts) {
                Ok(artifacts) => {
                    for artifact in artifacts {
                        let name = artifact.file_name();
                        if let Some((first, _)) = produced.get(&name) {
                            duplicate.get_or_insert(BuildError::Duplicate {
                                name: name.clone(),
                                first: first.clone(),
                                second: file.clone(),
                            });
                        } else {
                            produced.insert(name, (file.clone(), artifact));
                        }
                    }
                }
                Err(diags) => failures.push(diags),
            }
        }
        if !failures.is_empty() {
            return Err(BuildError::Diagnostics(failures));
        }
        if let Some(err) = duplicate {
            return Err(err);
        }
        // Every version of a rule must keep the layouts (same ABI hash).
        let mut by_id: BTreeMap<&str, (u64, u64, &PathBuf)> = BTreeMap::new();
        for (file, artifact) in produced.values() {
            let entry = (artifact.version, artifact.metadata.abi_hash, file);
            match by_id.get(artifact.id.as_str()) {
                Some(&(version, hash, first)) if hash != artifact.metadata.abi_hash => {
                    return Err(BuildError::AbiMismatch {
                        id: artifact.id.clone(),
                        first: (version, first.clone()),
                        second: (artifact.version, file.clone()),
                    });
                }
                Some(_) => {}
                None => {
                    by_id.insert(&artifact.id, entry);
                }
            }
        }
        std::fs::create_dir_all(&out)
            .map_err(|error| BuildError::Io { path: out.clone(), error })?;
        let mut written = Vec::new();
        for (name, (_, artifact)) in produced {
            let path = out.join(name);
            let text = artifact.to_text();
            // Unchanged artifacts are not rewritten, so that nothing downstream rebuilds.
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                std::fs::write(&path, text)
                    .map_err(|error| BuildError::Io { path: path.clone(), error })?;
            }
            written.push(path);
        }
        Ok(written)
    }

    /// For build.rs: compiles, prints any error to stderr and exits with status 1, which
    /// fails the build with the diagnostics shown.
    pub fn run(&self) {
        if let Err(err) = self.compile() {
            eprintln!("{err}");
            std::process::exit(1);
        }
    }
}

fn collect_rust_files(
    dir: &Path,
    excluded: &[PathBuf],
    out: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            let skipped = path
                .file_name()
                .is_some_and(|n| n == "target" || n.to_string_lossy().starts_with('.'));
            if skipped || excluded.contains(&path) {
                continue;
            }
            collect_rust_files(&path, excluded, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}
