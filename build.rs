//! Build script of the root package: compiles every `#[ring_kernel]` / `#[rule]` handler
//! under `examples/`, `tests/` and `benches/` to `$OUT_DIR/ringkernel/<id>-v<version>.ptx` at build
//! time, with no CUDA toolkit. A DSL error fails the build with `file:line:col`.

fn main() {
    // tests/ui holds trybuild cases, some of them deliberately invalid.
    ringkernel_codegen::Build::new()
        .dirs(["examples", "tests", "benches"])
        .exclude(["tests/ui"])
        .run();
}
