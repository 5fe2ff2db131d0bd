//! Build script of the root package.
//!
//! The codegen issue wires `ringkernel_codegen::Build` in here so that every
//! `#[ring_kernel]` / `#[rule]` under `examples/` and `tests/` is compiled to PTX
//! at build time. Until then it only tells cargo when to rerun.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
}
