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

/// Directives and forms real compilers emit, all in one module: linkage, performance
/// directives, dynamic shared memory, debug sections, pragmas, scoped registers, every
/// immediate form. It parses and runs.
#[test]
fn the_directives_compilers_emit_parse_and_run() {
    let ptx = r#"
//
// Generated by a compiler
//
.version 8.8
.target sm_90, debug
.address_size 64
.file 1 "kernel.cu"
/* a block
   comment */
.extern .shared .align 16 .b8 dynamic_smem[];
.const .align 4 .u32 bias = 0x10;
.global .align 8 .f64 halves[2] = {0d3FE0000000000000, 0.5};
.weak .func (.param .b32 out) twice(.param .b32 x)
{
    .reg .b32 %r<2>;
    ld.param.b32 %r0, [x];
    shl.b32 %r1, %r0, 1;
    st.param.b32 [out], %r1;
    ret;
}
.visible .entry k(.param .u64 k_out)
.maxntid 64, 1, 1
.reqntid 64
.minnctapersm 1
{
    .pragma "nounroll";
    .reg .pred %p<2>;
    .reg .b32 %r<8>;
    .reg .b64 %rd<4>;
    .reg .f32 %f<2>;
    .loc 1 10 3
    ld.param.u64 %rd1, [k_out];
    mov.u32 %r1, %tid.x;
    mov.u32 %r2, dynamic_smem;
    shl.b32 %r3, %r1, 2;
    add.u32 %r4, %r2, %r3;
    st.shared.u32 [%r4], %r1;
    bar.sync 0;
    xor.b32 %r5, %r1, 63;
    shl.b32 %r5, %r5, 2;
    add.u32 %r5, %r2, %r5;
    ld.shared.u32 %r6, [%r5];
    ld.const.u32 %r7, [bias];
    add.u32 %r6, %r6, %r7;
    {
        .reg .b32 %scoped;
        .param .b32 a;
        .param .b32 r;
        st.param.b32 [a], %r6;
        call.uni (r), twice, (a);
        ld.param.b32 %scoped, [r];
        mov.b32 %r6, %scoped;
    }
    mov.f32 %f1, 0f3F800000;
    cvt.rzi.u32.f32 %r7, %f1;
    add.u32 %r6, %r6, %r7;
    mul.wide.u32 %rd2, %r1, 4;
    add.s64 %rd3, %rd1, %rd2;
    st.global.u32 [%rd3], %r6;
    ret;
}
.section .debug_abbrev
{
    .b8 1
    .b8 17
}
"#;
    let m = Module::parse(ptx).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((m.ptx_version(), m.target()), ((8, 8), "sm_90"));
    let vm = Vm::new();
    let out = vm.alloc(4 * 64).unwrap();
    let dims = Dims { grid: [1, 1, 1], block: [64, 1, 1], shared_bytes: 256 };
    vm.launch(&m, "k", dims, &[Arg::U64(out)]).unwrap();
    let mut bytes = vec![0u8; 4 * 64];
    vm.read(out, &mut bytes).unwrap();
    for (tid, v) in bytes.chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).enumerate() {
        // Thread tid reads the value of thread tid ^ 63, adds bias 16, doubles, adds 1.
        assert_eq!(v, ((tid as u32 ^ 63) + 16) * 2 + 1, "thread {tid}");
    }
    let halves = vm.global_address(&m, "halves").unwrap().unwrap();
    let mut h = [0u8; 16];
    vm.read(halves, &mut h).unwrap();
    assert_eq!(h, [0.5f64.to_le_bytes(), 0.5f64.to_le_bytes()].concat().as_slice());
    // Without the dynamic shared memory the kernel's accesses fault.
    assert!(vm.launch(&m, "k", Dims::linear(1, 64), &[Arg::U64(out)]).is_err());
}
