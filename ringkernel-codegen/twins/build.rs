//! Writes native twins of the golden kernels (`ringkernel-codegen/tests/in/*.rs`): the same
//! source with the DSL attributes removed, `async fn` made synchronous and the math methods
//! renamed to the math library's (`.sin(` → `.rk_sin(`, see `src/lib.rs`), as the macros
//! rewrite them, so that rustc compiles it as plain Rust. `src/lib.rs` includes them.

use std::path::Path;

use ringkernel_codegen::math;

fn main() {
    let dir = Path::new("../tests/in");
    println!("cargo:rerun-if-changed=../tests/in");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("native");
    std::fs::create_dir_all(&out).expect("create OUT_DIR/native");
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        println!("cargo:rerun-if-changed={}", path.display());
        let Ok(src) = std::fs::read_to_string(&path) else { continue };
        let fast_math = src.contains("fast_math");
        let mut native = String::from("#[allow(unused_imports)]\nuse super::RingContext;\n");
        for line in src.lines() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("#[ring_kernel")
                || trimmed.starts_with("#[rule")
                || trimmed.starts_with("#[device")
            {
                continue;
            }
            let mut line = line
                .replacen("//!", "//", 1)
                .replace("RingMessage, ", "")
                .replace("async fn", "fn");
            // The math library's methods (a `fast_math` kernel keeps the standard library's
            // `exp ln sin cos`, as the macros do).
            let methods = math::METHODS.iter().map(|(name, _)| *name).chain(["sin_cos"]);
            for method in methods {
                if !(fast_math && math::APPROXIMATE_METHODS.contains(&method)) {
                    line = line.replace(&format!(".{method}("), &format!(".rk_{method}("));
                }
            }
            if line.starts_with("fn ") {
                line.insert_str(0, "pub ");
            }
            native.push_str(&line);
            native.push('\n');
        }
        std::fs::write(out.join(entry.file_name()), native).expect("write native twin");
    }
}
