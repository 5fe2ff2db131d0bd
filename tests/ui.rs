//! trybuild ui tests of the macros: every misuse in `tests/ui/{message,kernel,pipeline}` fails with
//! the reviewed message in its `.stderr`; every case in `tests/ui/pass` compiles. The
//! artifacts the pass cases need are compiled here, as build.rs would.
//!
//! The `.stderr` files are rustc 1.95's output; on another compiler the test says why it
//! skipped. Regenerate with `TRYBUILD=overwrite cargo test --test ui` and review the diff.

use std::path::Path;

#[test]
fn ui() {
    let rustc =
        std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .arg("--version")
            .output();
    let version = rustc.map(|o| String::from_utf8_lossy(&o.stdout).to_string()).unwrap_or_default();
    if !version.starts_with("rustc 1.95.") {
        println!(
            "SKIPPED ui: the .stderr snapshots are rustc 1.95's, this is `{}`",
            version.trim()
        );
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let artifacts =
        std::env::temp_dir().join(format!("ringkernel-ui-artifacts-{}", std::process::id()));
    ringkernel_codegen::Build::new()
        .root(root)
        .dirs(["tests/ui/pass", "tests/ui/pipeline"])
        .out_dir(&artifacts)
        .cargo_directives(false)
        .compile()
        .unwrap_or_else(|e| panic!("the pass cases must be valid DSL:\n{e}"));
    // SAFETY: this is the only test of this binary, so no other thread reads the environment
    // concurrently; the cargo processes trybuild starts inherit the variable.
    unsafe { std::env::set_var("RINGKERNEL_ARTIFACT_DIR", artifacts.join("ringkernel")) };
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/message/*.rs");
    cases.compile_fail("tests/ui/kernel/*.rs");
    cases.compile_fail("tests/ui/pipeline/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
