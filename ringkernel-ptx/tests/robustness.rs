//! No input crashes the VM: parse errors name the line, column and token; random bytes,
//! truncated and mutated PTX never panic; valid modules launched with wild pointers and
//! random arguments end in `Ok` or a `Fault`, never a panic or a hang.

use std::path::PathBuf;

use proptest::prelude::*;
use ringkernel_ptx::{Arg, Dims, Fault, Module, Vm};

fn golden() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ringkernel-codegen/tests/out/ptx");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ptx"))
        .collect();
    files.sort();
    // A golden file holds one artifact per kernel of its source, each a whole module.
    let mut modules = Vec::new();
    for p in files {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&p).unwrap();
        for (i, part) in
            text.split("// ringkernel-artifact ").filter(|s| !s.trim().is_empty()).enumerate()
        {
            modules.push((format!("{name}#{i}"), format!("// ringkernel-artifact {part}")));
        }
    }
    modules
}

#[test]
fn every_golden_module_parses() {
    let all = golden();
    assert!(all.len() >= 27, "golden PTX not found: {} modules", all.len());
    for (name, text) in &all {
        let m = Module::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(m.entries().len() >= 2, "{name}: {:?}", m.entries());
        assert!(m.target().starts_with("sm_"), "{name}: {}", m.target());
    }
}

fn err(text: &str) -> ringkernel_ptx::ParseError {
    let full = format!(".version 8.0\n.target sm_90\n.address_size 64\n{text}");
    Module::parse(&full).expect_err("must be rejected")
}

#[test]
fn parse_errors_name_the_line_column_and_token() {
    let e = err(".visible .entry k() {\n  frobnicate.u32 %r1;\n}");
    assert_eq!((e.line, e.column, e.token.as_str()), (5, 3, "frobnicate.u32"));
    assert!(e.message.contains("unsupported instruction `frobnicate`"), "{e}");
    assert!(e.to_string().starts_with("5:3: "), "{e}");
    let e = err(".visible .entry k() { .reg .b32 %r<2>; add.wrap.u32 %r1, %r1, 1; }");
    assert!(e.message.contains("`.wrap`"), "{e}");
    let e = err(".visible .entry k() { add.u32 %r1, %r1, 1; }");
    assert!(e.message.contains("not a declared register"), "{e}");
    let e = err(".visible .entry k() { bra NOWHERE; }");
    assert!(e.message.contains("unknown label `NOWHERE`"), "{e}");
    let e = err(".visible .entry k() { .reg .b32 %r<2>; add.u32 %r1, %r1; }");
    assert!(e.message.contains("takes 3 operands"), "{e}");
    let e = Module::parse(".version 8.0\n.target sm_90\n.address_size 32\n").unwrap_err();
    assert!(e.message.contains("address_size 64"), "{e}");
    let e = err(".visible .entry k() { .reg .f32 %f<2>; div.f32 %f1, %f1, %f1; }");
    assert!(e.message.contains("rounding"), "{e}");
    let e = err(".visible .entry k() { .reg .b32 %r<2>; shfl.up.b32 %r1, %r1, 1, 0; }");
    assert!(e.message.contains("shfl.sync"), "{e}");
    let e = err(".visible .entry k( { ret; }");
    assert!(e.line >= 4, "{e}");
    let e = err(".visible .entry k() { ret; ");
    assert!(e.message.contains("unterminated") || e.message.contains("expected"), "{e}");
}

/// Launches every entry of `m` with arguments drawn from `seed`: small valid buffers, wild
/// pointers, random scalars. Every outcome must be a value.
fn launch_all(m: &Module, seed: u64) {
    let vm = Vm::new();
    vm.set_instruction_budget(Some(200_000));
    vm.set_workers(1);
    let buf = vm.alloc(4096).unwrap();
    let mut s = seed | 1;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    for entry in m.entries() {
        let sizes = m.entry_params(entry).unwrap();
        let args: Vec<Arg> = sizes
            .iter()
            .map(|&size| {
                let r = next();
                let v = match r % 4 {
                    0 => buf,
                    1 => buf + (r >> 8) % 8192,
                    2 => r >> 3,
                    _ => (r >> 20) % 64,
                };
                match size {
                    1 => Arg::U8(v as u8),
                    2 => Arg::U16(v as u16),
                    4 => Arg::U32(v as u32),
                    8 => Arg::U64(v),
                    n => Arg::Bytes(vec![v as u8; n as usize]),
                }
            })
            .collect();
        let dims = Dims {
            grid: [1 + (next() % 2) as u32, 1, 1],
            block: [1 + (next() % 40) as u32, 1, 1],
            shared_bytes: 0,
        };
        match vm.launch(m, entry, dims, &args) {
            Ok(_)
            | Err(Fault::IllegalAddress { .. })
            | Err(Fault::MisalignedAddress { .. })
            | Err(Fault::BudgetExhausted { .. }) => {}
            Err(other) => {
                // Other faults are values too; they must render.
                assert!(!other.to_string().is_empty());
            }
        }
    }
}

#[test]
fn golden_batch_entries_with_wild_pointers_fault_cleanly() {
    for (i, (name, text)) in golden().iter().enumerate() {
        let m = Module::parse(text).unwrap();
        for seed in 0..8 {
            launch_all(&m, (i as u64) << 32 | seed);
        }
        let _ = name;
    }
}

proptest! {
    // 256 cases in the test suite; PROPTEST_CASES=N for a longer fuzzing session.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = Module::parse(&text);
    }

    #[test]
    fn truncated_golden_ptx_never_panics(file in 0usize..24, cut in 0.0f64..1.0) {
        let all = golden();
        let (_, text) = &all[file % all.len()];
        let mut end = (text.len() as f64 * cut) as usize;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        if let Ok(m) = Module::parse(&text[..end]) {
            launch_all(&m, end as u64);
        }
    }

    #[test]
    fn mutated_golden_ptx_never_panics(file in 0usize..24, edits in proptest::collection::vec((0.0f64..1.0, any::<u8>(), 0u8..4), 1..6), seed in any::<u64>()) {
        let all = golden();
        let (_, text) = &all[file % all.len()];
        let mut bytes = text.as_bytes().to_vec();
        for (at, byte, kind) in edits {
            let i = ((bytes.len() as f64) * at) as usize % bytes.len().max(1);
            // Printable replacements keep most mutants lexically valid, so they reach the
            // decoder and the interpreter.
            const CHARS: &[u8] = b"0123456789%.,;[]{}+-_abcdefuxrp<> \n";
            let c = CHARS[byte as usize % CHARS.len()];
            match kind {
                0 => bytes[i] = c,
                1 => { bytes.remove(i); }
                2 => bytes.insert(i, c),
                _ => {
                    // Swap two lines: reorders instructions and declarations.
                    let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
                    let (a, b) = (i % lines.len(), (i / 7) % lines.len());
                    let mut ls: Vec<Vec<u8>> = lines.iter().map(|l| l.to_vec()).collect();
                    ls.swap(a, b);
                    bytes = ls.join(&b'\n');
                }
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(m) = Module::parse(&text) {
            launch_all(&m, seed);
        }
    }
}
