//! `Build`: scanning a crate, writing artifacts, reporting diagnostics and duplicates.

use std::path::{Path, PathBuf};

use ringkernel_codegen::{Build, BuildError, artifact::Artifact};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ringkernel-build-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src/kernels")).unwrap();
    std::fs::create_dir_all(dir.join("examples")).unwrap();
    dir
}

/// A `Build` of `dir/src` (an absolute directory, no root) writing to `dir/out`, without
/// cargo directives.
fn build_src(dir: &Path) -> Build {
    Build::new().dirs([dir.join("src")]).out_dir(dir.join("out")).cargo_directives(false)
}

const GOOD: &str = r#"
#[ring_kernel(id = "adder")]
fn add(ctx: &mut RingContext, x: u32) -> u32 { x + 1 }
"#;

const RULE: &str = r#"
#[rule(id = "scorer", version = 3, compute_cap = "sm_80")]
fn score(ctx: &mut RingContext, x: i64) -> i64 { x * 2 }
"#;

#[test]
fn writes_one_parseable_artifact_per_handler() {
    let dir = scratch("good");
    std::fs::write(dir.join("src/lib.rs"), "pub fn unrelated() {}").unwrap();
    std::fs::write(dir.join("src/kernels/adder.rs"), GOOD).unwrap();
    std::fs::write(dir.join("examples/scorer.rs"), RULE).unwrap();
    let build = Build::new()
        .root(&dir)
        .dirs(["src", "examples"])
        .out_dir(dir.join("out"))
        .cargo_directives(false);
    let mut written = build.compile().unwrap();
    written.sort();
    let names: Vec<String> =
        written.iter().map(|p| p.file_name().unwrap().to_string_lossy().into()).collect();
    assert_eq!(names, ["adder-v1.ptx", "scorer-v3.ptx"]);
    let scorer = Artifact::parse(&std::fs::read_to_string(&written[1]).unwrap()).unwrap();
    assert_eq!(
        (scorer.id.as_str(), scorer.version, scorer.metadata.compute_cap.as_str()),
        ("scorer", 3, "sm_80")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dsl_errors_fail_with_file_line_and_column() {
    let dir = scratch("bad");
    std::fs::write(dir.join("src/broken.rs"), "#[ring_kernel(id = \"k\")]\nfn k(ctx: &mut RingContext, x: u32) -> u32 {\n    x + missing\n}\n").unwrap();
    let err = build_src(&dir).compile().unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, BuildError::Diagnostics(_)));
    assert!(text.starts_with("error: cannot find value `missing` in this kernel"), "{text}");
    assert!(text.contains("broken.rs:3:9"), "{text}");
    assert!(!dir.join("out/ringkernel").exists(), "nothing is written when a file fails");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_same_id_and_version_from_two_files_is_an_error() {
    let dir = scratch("dup");
    std::fs::write(dir.join("src/a.rs"), GOOD).unwrap();
    std::fs::write(dir.join("src/b.rs"), GOOD.replace("fn add", "fn add_again")).unwrap();
    let err = build_src(&dir).compile().unwrap_err();
    assert!(err.to_string().contains("`adder-v1.ptx` is produced by both"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rule_versions_with_different_layouts_are_an_error() {
    let dir = scratch("abi");
    std::fs::write(
        dir.join("src/v1.rs"),
        "#[rule(id = \"r\", version = 1)]\nfn r1(ctx: &mut RingContext, x: u32) -> u32 { x }\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/v2.rs"), "#[rule(id = \"r\", version = 2)]\nfn r2(ctx: &mut RingContext, x: u64) -> u32 { x as u32 }\n").unwrap();
    let err = build_src(&dir).compile().unwrap_err();
    assert!(matches!(err, BuildError::AbiMismatch { .. }), "{err}");
    assert!(err.to_string().contains("rule `r` v1"), "{err}");
    std::fs::write(
        dir.join("src/v2.rs"),
        "#[rule(id = \"r\", version = 2)]\nfn r2(ctx: &mut RingContext, x: u32) -> u32 { x + 1 }\n",
    )
    .unwrap();
    assert_eq!(build_src(&dir).compile().unwrap().len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}
