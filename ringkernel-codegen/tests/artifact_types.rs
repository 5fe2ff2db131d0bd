//! The `types:` line of every golden artifact describes its layouts exactly: the layouts and
//! the ABI hash recomputed from the types alone (what `ringkernel wrap --types` does) equal
//! the compiler's, and the line round-trips through the parser.

use ringkernel_codegen::artifact::{Artifact, ArtifactTypes};
use ringkernel_codegen::{Options, compile_source};

#[test]
fn every_golden_artifact_s_types_give_its_layouts_and_abi_hash() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/in");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let source = std::fs::read_to_string(&path).unwrap();
        for artifact in compile_source(&source, &Options::default()).unwrap() {
            let context = format!("{} ({})", artifact.id, path.display());
            let m = &artifact.metadata;
            let types = m.types.as_ref().unwrap_or_else(|| panic!("{context}: no types"));
            let again = ArtifactTypes::parse(&types.to_text()).unwrap();
            assert_eq!(&again, types, "{context}");
            let derived = types.metadata();
            assert_eq!(derived.message, m.message, "{context}: message");
            assert_eq!(derived.response, m.response, "{context}: response");
            assert_eq!(derived.state, m.state, "{context}: state");
            assert_eq!(derived.abi_hash, m.abi_hash, "{context}: ABI hash");
            assert_eq!(Artifact::parse(&artifact.to_text()).unwrap(), artifact, "{context}");
            checked += 1;
        }
    }
    assert!(checked >= 45, "only {checked} artifacts");
}
