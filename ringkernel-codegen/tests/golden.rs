//! Golden PTX: every `tests/in/*.rs` compiles to `tests/out/ptx/<name>.ptx` (rewritten on
//! every run; CI fails if the folder differs from what is committed), the output is
//! deterministic, and every file is assembled by NVIDIA's `ptxas` for sm_70, sm_80 and sm_90.
//!
//! `ptxas` is found through `RINGKERNEL_PTXAS` or `PATH`. Without it the assembly test says
//! why it skipped; with `RINGKERNEL_REQUIRE_PTXAS=1` (as in CI) a missing `ptxas` fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use ringkernel_codegen::{Options, compile_source};

const TARGETS: [&str; 3] = ["sm_70", "sm_80", "sm_90"];

fn inputs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/in");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    files
}

/// All artifacts of one input compiled for `target`: file name, text, the target each one
/// really has (a handler may pin its own `compute_cap`).
fn compile(path: &Path, target: &str) -> Vec<(String, String, String)> {
    let src = std::fs::read_to_string(path).unwrap();
    let opts = Options { compute_cap: target.into(), file_name: Some(path.display().to_string()) };
    let artifacts = compile_source(&src, &opts)
        .unwrap_or_else(|d| panic!("{} does not compile:\n{d}", path.display()));
    assert!(!artifacts.is_empty(), "{} has no handler", path.display());
    artifacts
        .into_iter()
        .map(|a| (a.file_name(), a.to_text(), a.metadata.compute_cap.clone()))
        .collect()
}

#[test]
fn golden_outputs_are_current_and_deterministic() {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/out/ptx");
    std::fs::create_dir_all(&out).unwrap();
    let mut handlers = 0;
    for input in inputs() {
        let first = compile(&input, "sm_70");
        assert_eq!(
            first,
            compile(&input, "sm_70"),
            "{}: output differs between two runs",
            input.display()
        );
        handlers += first.len();
        let text: String = first.iter().map(|(_, t, _)| t.as_str()).collect::<Vec<_>>().join("\n");
        let stem = input.file_stem().unwrap().to_string_lossy().to_string();
        std::fs::write(out.join(format!("{stem}.ptx")), text).unwrap();
    }
    assert!(handlers >= 25, "only {handlers} golden handlers");
}

fn find_ptxas() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("RINGKERNEL_PTXAS") {
        // Tests run in the package directory; a relative path is taken from the workspace root.
        let path = PathBuf::from(path);
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        return Some(if path.is_relative() && !path.exists() {
            workspace.join(path)
        } else {
            path
        });
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("ptxas")).find(|p| p.is_file())
}

#[test]
fn every_golden_kernel_assembles_with_ptxas() {
    let Some(ptxas) = find_ptxas() else {
        let message = "ptxas not found (set RINGKERNEL_PTXAS or put it on PATH; `pip install nvidia-cuda-nvcc-cu12` provides it)";
        if std::env::var("RINGKERNEL_REQUIRE_PTXAS").as_deref() == Ok("1") {
            panic!("{message}, and RINGKERNEL_REQUIRE_PTXAS=1");
        }
        println!("SKIPPED every_golden_kernel_assembles_with_ptxas: {message}");
        return;
    };
    let scratch = std::env::temp_dir().join(format!("ringkernel-ptxas-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut failures = Vec::new();
    let mut assembled = 0;
    for input in inputs() {
        for target in TARGETS {
            for (name, text, arch) in compile(&input, target) {
                let file = scratch.join(format!("{target}-{name}"));
                std::fs::write(&file, &text).unwrap();
                let output = Command::new(&ptxas)
                    .arg(format!("-arch={arch}"))
                    .arg(&file)
                    .arg("-o")
                    .arg(scratch.join("out.cubin"))
                    .output()
                    .unwrap_or_else(|e| panic!("cannot run ptxas at {}: {e}", ptxas.display()));
                if output.status.success() {
                    assembled += 1;
                } else {
                    failures.push(format!(
                        "{} ({target}):\n{}",
                        input.display(),
                        String::from_utf8_lossy(&output.stderr)
                    ));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(
        failures.is_empty(),
        "ptxas rejected {} of {} files:\n{}",
        failures.len(),
        failures.len() + assembled,
        failures.join("\n")
    );
    println!("ptxas assembled {assembled} kernel files for {TARGETS:?}");
}
