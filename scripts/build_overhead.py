#!/usr/bin/env python3
"""Extra build time that build.rs + the macros add to a crate with 50 handlers.

Generates two crates under target/build-overhead/ with the same 50 handlers: `macros` (the
build.rs one-liner, #[derive(RingMessage)], #[ring_kernel], #[device]) and `plain` (the same
functions as ordinary Rust, no build script). Dependencies are built once in a shared target
directory; then, five times each, it times
  - a clean build of the crate itself (`cargo clean -p <crate>` first), and
  - an incremental rebuild after editing the body of one handler,
and prints the median and the range, and the difference between the two crates.

Usage: python3 scripts/build_overhead.py [RUNS]
"""
import os
import shutil
import statistics
import subprocess
import sys
import time

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = os.path.join(ROOT, "target", "build-overhead")
TARGET = os.path.join(BASE, "target")
HANDLERS = 50

MESSAGES = """
#[derive({derive})]
#[repr(C)]
pub struct Msg {{
    pub a: i64,
    pub b: u32,
    pub xs: [f32; 8],
}}

#[derive({derive})]
#[repr(C)]
pub struct Out {{
    pub total: i64,
    pub mean: f32,
}}

#[derive({derive})]
#[repr(C)]
pub struct State {{
    pub count: u64,
    pub last: [i64; 4],
}}

{device_attr}
pub fn scale(x: f32, k: u32) -> f32 {{
    x * (k as f32 + 1.0)
}}
"""

HANDLER = """
{attr}
pub fn handler_{i}(_ctx: &mut RingContext, s: &mut State, m: Msg) -> Out {{
    let mut sum = 0.0f32;
    for j in 0..8 {{
        if m.xs[j] > 0.0 {{
            sum += scale(m.xs[j], m.b % {k});
        }} else {{
            sum -= m.xs[j];
        }}
    }}
    let mut total = m.a;
    let mut n = m.b;
    while n > 1 {{
        n = if n % 2 == 0 {{ n / 2 }} else {{ 3 * n + 1 }};
        total += {i};
    }}
    s.count += 1;
    s.last[(s.count % 4) as usize] = total;
    Out {{ total, mean: sum / 8.0 }}
}}
"""


def write_crate(name: str, with_macros: bool) -> str:
    path = os.path.join(BASE, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(os.path.join(path, "src"))
    deps = f'ringkernel = {{ path = "{ROOT}/ringkernel" }}\n'
    build = ""
    if with_macros:
        build = f'[build-dependencies]\nringkernel-codegen = {{ path = "{ROOT}/ringkernel-codegen" }}\n'
        with open(os.path.join(path, "build.rs"), "w") as f:
            f.write("fn main() {\n    ringkernel_codegen::Build::new().run();\n}\n")
    with open(os.path.join(path, "Cargo.toml"), "w") as f:
        f.write(f'[package]\nname = "bench_{name}"\nversion = "0.1.0"\nedition = "2024"\npublish = false\n\n[workspace]\n\n[dependencies]\n{deps}{build}')
    derive = "ringkernel::RingMessage, Clone, Copy" if with_macros else "Clone, Copy"
    src = "#![allow(clippy::all)]\nuse ringkernel::RingContext;\n"
    if with_macros:
        src += "use ringkernel::{device, ring_kernel};\n"
    src += MESSAGES.format(derive=derive, device_attr="#[device]" if with_macros else "")
    for i in range(HANDLERS):
        attr = f'#[ring_kernel(id = "handler-{i}")]' if with_macros else ""
        src += HANDLER.format(attr=attr, i=i, k=i % 7 + 2)
    with open(os.path.join(path, "src", "lib.rs"), "w") as f:
        f.write(src)
    return path


def cargo_build(path: str) -> float:
    start = time.perf_counter()
    subprocess.run(["cargo", "build", "-q", "--offline"], cwd=path, check=True, env=dict(os.environ, CARGO_TARGET_DIR=TARGET))
    return time.perf_counter() - start


def edit_one_handler(path: str, run: int) -> None:
    lib = os.path.join(path, "src", "lib.rs")
    with open(lib) as f:
        src = f.read()
    marker = "total += 0;"
    replaced = src.replace(marker, f"total += {run + 100};", 1) if marker in src else src.replace(f"total += {run + 99};", f"total += {run + 100};", 1)
    with open(lib, "w") as f:
        f.write(replaced)


def summary(times):
    return statistics.median(times), min(times), max(times)


def main() -> None:
    results = {}
    for name, with_macros in (("macros", True), ("plain", False)):
        path = write_crate(name, with_macros)
        cargo_build(path)  # dependencies, once
        clean, incremental = [], []
        for run in range(RUNS):
            subprocess.run(["cargo", "clean", "-q", "-p", f"bench_{name}"], cwd=path, check=True, env=dict(os.environ, CARGO_TARGET_DIR=TARGET))
            clean.append(cargo_build(path))
            edit_one_handler(path, run)
            incremental.append(cargo_build(path))
        results[name] = (summary(clean), summary(incremental))
    print(f"| build of a crate with {HANDLERS} handlers (debug, {RUNS} runs) | median | range |")
    print("|---|---|---|")
    for name in ("macros", "plain"):
        (c, c_lo, c_hi), (i, i_lo, i_hi) = results[name]
        label = "build.rs + macros" if name == "macros" else "plain Rust (no build.rs, no macros)"
        print(f"| clean, {label} | {c:.2f} s | {c_lo:.2f}–{c_hi:.2f} s |")
        print(f"| incremental after editing one handler, {label} | {i:.2f} s | {i_lo:.2f}–{i_hi:.2f} s |")
    (mc, _, _), (mi, _, _) = results["macros"]
    (pc, _, _), (pi, _, _) = results["plain"]
    print(f"\nextra: clean +{mc - pc:.2f} s ({mc / pc:.2f}x), incremental +{mi - pi:.2f} s ({mi / pi:.2f}x)")


if __name__ == "__main__":
    main()
