//! Building a [`CompiledRule`] from a ringkernel artifact (see `ringkernel_codegen::artifact`).

use ringkernel_codegen::artifact::{Artifact, ArtifactError};

use super::rule::{CompiledRule, RuleMetadata};

impl CompiledRule {
    /// A rule from a parsed artifact. The PTX bytes are the whole artifact file (metadata
    /// comments included) without its `signature:` line, which the driver loads as is and
    /// the signature covers; the signature goes into `signature`, the ABI hash into
    /// `metadata.abi_hash`, so the registry refuses a version whose layouts differ.
    pub fn from_artifact(artifact: &Artifact) -> Self {
        let m = &artifact.metadata;
        CompiledRule {
            rule_id: artifact.id.clone(),
            version: artifact.version,
            ptx: artifact.unsigned().to_text().into_bytes(),
            compute_cap: m.compute_cap.clone(),
            depends_on: m.depends_on.clone(),
            signature: artifact.signature.clone(),
            actor_config: m.actor,
            metadata: RuleMetadata {
                description: format!("{} v{} ({})", artifact.id, artifact.version, m.compiler),
                author: String::new(),
                abi_hash: Some(m.abi_hash),
                source_hash: Some(m.source_hash.clone()),
                tags: Vec::new(),
            },
        }
    }

    /// A rule from the text of an artifact file, such as one a build produced or another
    /// tool wrote in the same format. Bad text is an error naming the line.
    ///
    /// ```
    /// use ringkernel::rules::CompiledRule;
    /// let err = CompiledRule::from_artifact_text(".version 8.0\n.target sm_90\n").unwrap_err();
    /// assert!(err.to_string().contains("line 1"));
    /// ```
    pub fn from_artifact_text(text: &str) -> Result<Self, ArtifactError> {
        Artifact::parse(text).map(|artifact| Self::from_artifact(&artifact))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{NoopSwapBackend, RuleError, RuleRegistry};
    use ringkernel_codegen::artifact::{
        ActorSettings, ArtifactKind, ArtifactMetadata, EntryPoints, LayoutRecord,
    };
    use std::sync::Arc;

    fn artifact(version: u64, abi_hash: u64) -> Artifact {
        let record =
            |name: &str| LayoutRecord { name: name.into(), size: 4, align: 4, fields: vec![] };
        Artifact {
            id: "scorer".into(),
            version,
            ptx: ".version 7.0\n.target sm_80\n.address_size 64\n".into(),
            metadata: ArtifactMetadata {
                kind: ArtifactKind::Rule,
                compute_cap: "sm_80".into(),
                depends_on: vec![],
                actor: ActorSettings { queue_capacity: 256, ..ActorSettings::default() },
                entries: EntryPoints {
                    persistent: "p".into(),
                    batch: "b".into(),
                    handler: "h".into(),
                },
                message: record("u32"),
                response: record("u32"),
                state: None,
                abi_version: ringkernel_codegen::abi::ABI_VERSION,
                abi_hash,
                source_hash: "00ff".into(),
                compiler: "ringkernel-codegen test".into(),
                types: None,
            },
            signature: None,
        }
    }

    #[test]
    fn a_signed_artifact_verifies_and_a_tampered_one_does_not() {
        use crate::rules::{Ed25519Verifier, SigningKey, rule_digest, sign_rule};
        let key = SigningKey::from_bytes(&[9; 32]);
        // Sign as the CLI does: the rule of the unsigned artifact, its signature written back.
        let mut unsigned = CompiledRule::from_artifact(&artifact(1, 7));
        sign_rule(&mut unsigned, &key);
        let mut signed = artifact(1, 7);
        signed.signature = unsigned.signature.clone();
        let text = signed.to_text();
        let rule = CompiledRule::from_artifact_text(&text).unwrap();
        assert_eq!(rule.signature, unsigned.signature);
        assert_eq!(rule.ptx, unsigned.ptx, "the signature line is not part of what it signs");
        let registry = RuleRegistry::new(4, Arc::new(NoopSwapBackend))
            .with_verifier(Arc::new(Ed25519Verifier::new(key.verifying_key())));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        runtime.block_on(registry.register_rule(rule, "sm_90")).unwrap();
        let tampered = text
            .replace(".target sm_80\n", ".target sm_80\n// \n")
            .replace("// version: 1\n", "// version: 2\n");
        let rule = CompiledRule::from_artifact_text(&tampered).unwrap();
        assert_ne!(rule_digest(&rule), rule_digest(&unsigned));
        let err = runtime.block_on(registry.reload_rule(rule, "sm_90")).unwrap_err();
        assert!(matches!(err, RuleError::BadSignature { .. }), "{err}");
    }

    #[test]
    fn artifacts_register_and_their_abi_hash_guards_reloads() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let registry = RuleRegistry::new(4, Arc::new(NoopSwapBackend));
        let v1 = CompiledRule::from_artifact_text(&artifact(1, 7).to_text()).unwrap();
        assert_eq!((v1.actor_config.queue_capacity, v1.metadata.abi_hash), (256, Some(7)));
        assert!(v1.ptx.starts_with(b"// ringkernel-artifact 1\n"));
        runtime.block_on(registry.register_rule(v1, "sm_90")).unwrap();

        let incompatible = CompiledRule::from_artifact(&artifact(2, 8));
        let err = runtime.block_on(registry.reload_rule(incompatible, "sm_90")).unwrap_err();
        assert!(matches!(err, RuleError::AbiMismatch { expected: 7, found: 8, .. }), "{err}");
        let compatible = CompiledRule::from_artifact(&artifact(2, 7));
        runtime.block_on(registry.reload_rule(compatible, "sm_90")).unwrap();
    }
}
