//! Wrapping PTX another compiler wrote into an artifact.

use super::{Artifact, ArtifactMetadata, EntryPoints, FORMAT_LINE, function_lines, ptx_directive};

impl Artifact {
    /// An artifact around PTX another compiler wrote (`nvcc -ptx`, NVRTC, with
    /// `include/ringkernel.cuh`): the metadata `like` (of the artifact it replaces: kind,
    /// dependencies, actor settings, layouts, ABI hash; or [`super::ArtifactTypes::metadata`]
    /// of its types) with `id`, `version`, the PTX's own
    /// `.target`, and the entry points the PTX defines, found as `<name>_persistent`,
    /// `<name>_batch` and `<name>_handler`. The source hash is the PTX's SHA-256.
    ///
    /// ```
    /// # let like = ringkernel_codegen::artifact::Artifact::parse(&ringkernel_codegen::compile_source(
    /// #     "#[rule(id = \"r\", version = 1)] fn r(ctx: &mut RingContext, x: u32) -> u32 { x }",
    /// #     &Default::default()).unwrap()[0].to_text()).unwrap();
    /// use ringkernel_codegen::artifact::Artifact;
    /// let raw = ".version 7.0\n.target sm_80\n.address_size 64\n\
    ///     .func r2_handler(.param .b64 a) { ret; }\n\
    ///     .visible .entry r2_batch(.param .u64 b) { ret; }\n\
    ///     .visible .entry r2_persistent(.param .u64 c) { ret; }\n";
    /// let wrapped = Artifact::wrap(raw, "r", 2, &like.metadata, "nvrtc 12.9").unwrap();
    /// assert_eq!((wrapped.version, wrapped.metadata.compute_cap.as_str()), (2, "sm_80"));
    /// assert_eq!(wrapped.metadata.entries.persistent, "r2_persistent");
    /// assert_eq!(wrapped.metadata.abi_hash, like.metadata.abi_hash);
    /// assert!(Artifact::wrap("garbage", "r", 2, &like.metadata, "x").is_err());
    /// ```
    pub fn wrap(
        raw_ptx: &str,
        id: &str,
        version: u64,
        like: &ArtifactMetadata,
        compiler: &str,
    ) -> Result<Artifact, String> {
        use sha2::{Digest, Sha256};
        if raw_ptx.starts_with(FORMAT_LINE) {
            return Err("this is already an artifact (it has a metadata header)".into());
        }
        let target = ptx_directive(raw_ptx, ".target")
            .ok_or("the PTX has no `.target` directive")?
            .split([',', ' '])
            .next()
            .unwrap_or_default()
            .to_owned();
        let name = function_lines(raw_ptx)
            .filter(|code| code.contains(".entry"))
            .find_map(|code| {
                let at = code.find("_persistent")?;
                let start = code[..at].rfind([' ', '\t']).map_or(0, |i| i + 1);
                Some(code[start..at].to_owned())
            })
            .ok_or("the PTX defines no `<name>_persistent` entry (see include/ringkernel.cuh)")?;
        let mut metadata = like.clone();
        metadata.compute_cap = target;
        metadata.entries = EntryPoints {
            persistent: format!("{name}_persistent"),
            batch: format!("{name}_batch"),
            handler: format!("{name}_handler"),
        };
        metadata.source_hash =
            Sha256::digest(raw_ptx.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        metadata.compiler = compiler.to_owned();
        let artifact = Artifact {
            id: id.to_owned(),
            version,
            ptx: raw_ptx.to_owned(),
            metadata,
            signature: None,
        };
        // Everything `parse` checks (names, entries present, blocks closed) holds, or the
        // wrapped file would be refused later.
        Artifact::parse(&artifact.to_text()).map_err(|e| e.to_string())
    }
}
