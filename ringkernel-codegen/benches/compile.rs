//! Compile time of the golden set (`tests/in/*.rs`): the whole set through `compile_source`
//! (parse, lower, check, PTX, artifact text), each file alone, and the front end alone.

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ringkernel_codegen::{Options, compile_source};

fn sources() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/in");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .iter()
        .map(|p| {
            (p.file_stem().unwrap().to_string_lossy().into(), std::fs::read_to_string(p).unwrap())
        })
        .collect()
}

fn compile_time(c: &mut Criterion) {
    let sources = sources();
    let opts = Options::default();
    let handlers: usize =
        sources.iter().map(|(_, s)| compile_source(s, &opts).unwrap().len()).sum();
    println!("golden set: {} files, {handlers} handlers", sources.len());

    c.bench_function("golden_set/compile_to_artifact_text", |b| {
        b.iter(|| {
            for (_, src) in &sources {
                for artifact in compile_source(std::hint::black_box(src), &opts).unwrap() {
                    std::hint::black_box(artifact.to_text());
                }
            }
        })
    });
    c.bench_function("golden_set/front_end_and_checker_only", |b| {
        b.iter(|| {
            for (_, src) in &sources {
                std::hint::black_box(
                    ringkernel_codegen::dev::lower_source(std::hint::black_box(src)).unwrap(),
                );
            }
        })
    });
    let mut group = c.benchmark_group("per_file");
    for name in ["counter", "loops", "nested_structs"] {
        let src = &sources.iter().find(|(n, _)| n == name).unwrap().1;
        group.bench_function(name, |b| {
            b.iter(|| compile_source(std::hint::black_box(src), &opts).unwrap())
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(40).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = compile_time
}
criterion_main!(benches);
