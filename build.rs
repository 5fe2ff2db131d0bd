//! Build script of the root package: compiles every `#[ring_kernel]` / `#[rule]` handler
//! under `examples/`, `tests/` and `benches/`, and the compiler's golden kernels
//! (`ringkernel-codegen/tests/in/`, which `tests/differential.rs` runs on every backend), to
//! `$OUT_DIR/ringkernel/<id>-v<version>.ptx` at build time, with no CUDA toolkit. A DSL error
//! fails the build with `file:line:col`.

use std::path::Path;

const GOLDEN: &str = "ringkernel-codegen/tests/in";

fn main() {
    // tests/ui holds trybuild cases, some of them deliberately invalid.
    ringkernel_codegen::Build::new()
        .dirs(["examples", "tests", "benches", GOLDEN])
        .exclude(["tests/ui"])
        .run();
    write_includable(GOLDEN, "golden");
    write_includable("examples", "examples");
}

/// Copies each `.rs` file of `dir` to `$OUT_DIR/<name>/` without its `//!` header, so that
/// `tests/differential.rs` can `include!` it inside a module (inner doc comments are not
/// allowed there), with its top-level functions made `pub` (the kernel types the macros
/// generate take their function's visibility).
fn write_includable(dir: &str, name: &str) {
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join(name);
    std::fs::create_dir_all(&out).expect("create a directory in OUT_DIR");
    println!("cargo:rerun-if-changed={dir}");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let Ok(source) = std::fs::read_to_string(&path) else { continue };
        let body: String = source
            .lines()
            .filter(|line| !line.trim_start().starts_with("//!"))
            .map(|line| {
                if line.starts_with("fn ") || line.starts_with("async fn ") {
                    format!("pub {line}\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        std::fs::write(out.join(entry.file_name()), body).expect("write a copy in OUT_DIR");
    }
}
