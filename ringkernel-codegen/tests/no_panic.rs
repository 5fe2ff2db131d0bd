//! The compiler never panics: every golden source cut at any point or with bytes replaced
//! gives artifacts or diagnostics.

use std::path::Path;

use proptest::prelude::*;
use ringkernel_codegen::{Options, compile_source};

fn sources() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/in");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn truncated_sources_never_panic(file in 0usize..64, cut in 0usize..4000) {
        let sources = sources();
        let src = &sources[file % sources.len()];
        let mut cut = cut.min(src.len());
        while !src.is_char_boundary(cut) {
            cut -= 1;
        }
        let _ = compile_source(&src[..cut], &Options::default());
    }

    #[test]
    fn mutated_sources_never_panic(file in 0usize..64, edits in prop::collection::vec((0usize..4000, prop::sample::select(vec![b'0', b'9', b'-', b'(', b'}', b';', b'x', b' ', b'.', b'*', b'!', b'=', b'u', b'f'])), 1..6)) {
        let sources = sources();
        let mut bytes = sources[file % sources.len()].clone().into_bytes();
        for (pos, byte) in edits {
            let pos = pos % bytes.len();
            bytes[pos] = byte;
        }
        let src = String::from_utf8_lossy(&bytes);
        let _ = compile_source(&src, &Options::default());
    }
}
