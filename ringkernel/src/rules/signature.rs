//! Artifact signatures: a canonical digest of everything that affects execution, and
//! verifiers over it.
//!
//! # The digest
//!
//! [`rule_digest`] is SHA-256 over this byte string (integers little-endian; `bytes(x)` is
//! `x`'s length as a `u64` followed by `x`):
//!
//! ```text
//! "ringkernel.rule.v1\0"
//! bytes(rule_id) version:u64 bytes(compute_cap)
//! deps:u64 bytes(dep)...            dependencies sorted, duplicates removed
//! grid_size:u32 block_size:u32 queue_capacity:u32 shared_memory_bytes:u32 idle_backoff_ns:u32
//! abi:u8 [abi_hash:u64]             abi = 0 when metadata.abi_hash is None, else 1
//! bytes(ptx)
//! ```
//!
//! The ABI hash is covered because validation relies on it; the rest of the metadata
//! (description, author, tags) is not, so it can be edited without re-signing. Changing any
//! covered byte, such as one bit of the PTX, changes the digest and breaks the signature.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use super::error::SignatureError;
use super::rule::{CompiledRule, RuleDigest};

const DIGEST_DOMAIN: &[u8] = b"ringkernel.rule.v1\0";

/// SHA-256 of the canonical encoding of `rule` described in the module docs.
pub fn rule_digest(rule: &CompiledRule) -> RuleDigest {
    fn bytes(hasher: &mut Sha256, data: &[u8]) {
        hasher.update((data.len() as u64).to_le_bytes());
        hasher.update(data);
    }
    let mut hasher = Sha256::new();
    hasher.update(DIGEST_DOMAIN);
    bytes(&mut hasher, rule.rule_id.as_bytes());
    hasher.update(rule.version.to_le_bytes());
    bytes(&mut hasher, rule.compute_cap.as_bytes());
    let mut deps: Vec<&str> = rule.depends_on.iter().map(String::as_str).collect();
    deps.sort_unstable();
    deps.dedup();
    hasher.update((deps.len() as u64).to_le_bytes());
    for dep in deps {
        bytes(&mut hasher, dep.as_bytes());
    }
    let config = &rule.actor_config;
    for field in [
        config.grid_size,
        config.block_size,
        config.queue_capacity,
        config.shared_memory_bytes,
        config.idle_backoff_ns,
    ] {
        hasher.update(field.to_le_bytes());
    }
    match rule.metadata.abi_hash {
        None => hasher.update([0u8]),
        Some(hash) => {
            hasher.update([1u8]);
            hasher.update(hash.to_le_bytes());
        }
    }
    bytes(&mut hasher, &rule.ptx);
    RuleDigest(hasher.finalize().into())
}

/// Decides whether a rule's signature is acceptable.
///
/// The registry calls it only for rules that carry a signature; once a verifier is set,
/// unsigned rules are rejected before it is consulted.
pub trait SignatureVerifier: Send + Sync {
    /// `Ok` when `signature` is a valid signature of `rule` under this verifier's policy.
    /// `digest` is [`rule_digest`] of `rule`, computed once by the caller.
    fn verify(
        &self,
        rule: &CompiledRule,
        digest: &RuleDigest,
        signature: &[u8],
    ) -> Result<(), SignatureError>;
}

/// Ed25519 signatures over [`rule_digest`], accepted from any of a set of trusted keys
/// (several keys allow rotation without downtime).
///
/// ```
/// use ringkernel::rules::{rule_digest, sign_rule, CompiledRule, Ed25519Verifier, SignatureVerifier, SigningKey};
/// let key = SigningKey::from_bytes(&[7; 32]);
/// let mut rule = CompiledRule {
///     rule_id: "r".into(), version: 1, ptx: b"// ptx".to_vec(), compute_cap: "sm_80".into(),
///     depends_on: vec![], signature: None, actor_config: Default::default(),
///     metadata: Default::default(),
/// };
/// sign_rule(&mut rule, &key);
/// let verifier = Ed25519Verifier::new(key.verifying_key());
/// let signature = rule.signature.clone().unwrap();
/// assert!(verifier.verify(&rule, &rule_digest(&rule), &signature).is_ok());
/// rule.ptx[0] ^= 1;
/// assert!(verifier.verify(&rule, &rule_digest(&rule), &signature).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Ed25519Verifier {
    trusted: Vec<VerifyingKey>,
}

impl Ed25519Verifier {
    /// Trusts one key.
    pub fn new(key: VerifyingKey) -> Self {
        Self { trusted: vec![key] }
    }

    /// Trusts one more key.
    pub fn with_key(mut self, key: VerifyingKey) -> Self {
        self.trusted.push(key);
        self
    }
}

impl SignatureVerifier for Ed25519Verifier {
    fn verify(
        &self,
        _rule: &CompiledRule,
        digest: &RuleDigest,
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let signature = Signature::from_slice(signature).map_err(|_| {
            SignatureError::Malformed(format!(
                "an ed25519 signature is 64 bytes, got {}",
                signature.len()
            ))
        })?;
        if self.trusted.iter().any(|key| key.verify(&digest.0, &signature).is_ok()) {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}

/// Signs `rule` with `key`, replacing any earlier signature.
pub fn sign_rule(rule: &mut CompiledRule, key: &SigningKey) {
    rule.signature = Some(key.sign(&rule_digest(rule).0).to_bytes().to_vec());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> CompiledRule {
        CompiledRule {
            rule_id: "sig".into(),
            version: 3,
            ptx: b".version 8.0\n.target sm_80\n".to_vec(),
            compute_cap: "sm_80".into(),
            depends_on: vec!["b".into(), "a".into()],
            signature: None,
            actor_config: Default::default(),
            metadata: Default::default(),
        }
    }

    #[test]
    fn every_execution_relevant_field_changes_the_digest() {
        let base = rule_digest(&rule());
        let edits: [fn(&mut CompiledRule); 8] = [
            |r| r.rule_id.push('x'),
            |r| r.version += 1,
            |r| r.compute_cap = "sm_86".into(),
            |r| r.depends_on.push("c".into()),
            |r| r.actor_config.block_size = 64,
            |r| r.actor_config.idle_backoff_ns = 5,
            |r| r.metadata.abi_hash = Some(1),
            |r| r.ptx[3] ^= 0x01,
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut changed = rule();
            edit(&mut changed);
            assert_ne!(rule_digest(&changed), base, "edit {i} did not change the digest");
        }
    }

    #[test]
    fn descriptive_metadata_and_dependency_order_do_not() {
        let mut changed = rule();
        changed.metadata.description = "new text".into();
        changed.depends_on.reverse();
        changed.signature = Some(vec![1, 2, 3]);
        assert_eq!(rule_digest(&changed), rule_digest(&rule()));
    }

    #[test]
    fn length_prefixes_keep_field_boundaries_apart() {
        let (mut a, mut b) = (rule(), rule());
        a.rule_id = "ab".into();
        a.compute_cap = "c".into();
        b.rule_id = "a".into();
        b.compute_cap = "bc".into();
        assert_ne!(rule_digest(&a), rule_digest(&b));
    }

    #[test]
    fn rotated_keys_verify_and_foreign_keys_do_not() {
        let (old, new, foreign) = (
            SigningKey::from_bytes(&[1; 32]),
            SigningKey::from_bytes(&[2; 32]),
            SigningKey::from_bytes(&[3; 32]),
        );
        let verifier = Ed25519Verifier::new(old.verifying_key()).with_key(new.verifying_key());
        for (key, ok) in [(&old, true), (&new, true), (&foreign, false)] {
            let mut signed = rule();
            sign_rule(&mut signed, key);
            let signature = signed.signature.as_deref().unwrap();
            let result = verifier.verify(&signed, &rule_digest(&signed), signature);
            assert_eq!(result.is_ok(), ok);
        }
        assert!(matches!(
            verifier.verify(&rule(), &rule_digest(&rule()), &[0; 10]),
            Err(SignatureError::Malformed(_))
        ));
    }
}
