//! Authenticators: a credential (a bearer token) in, an [`AuthContext`] out.
//!
//! [`JwtAuthenticator`] accepts JSON Web Tokens signed with HS256 (a shared secret) or EdDSA
//! (an Ed25519 key), checks the signature, the expiry (`exp`, required) and the audience
//! (`aud`), and reads the principal from `sub`, the tenant from `tenant` and the permissions
//! from `permissions` (a list of strings). Every bad token (malformed, wrongly signed,
//! expired, for another audience, missing a claim) is an [`AuthError::BadCredential`] with the
//! reason, never a panic. [`StaticAuthenticator`] is the test double: a fixed table.
//!
//! ```
//! use ringkernel::auth::{Authenticator, StaticAuthenticator};
//! use ringkernel::AuthContext;
//! let auth = StaticAuthenticator::new()
//!     .with("token-a", AuthContext::new("alice", 7).with_permission("ledger:write"));
//! assert_eq!(auth.authenticate("token-a").unwrap().tenant(), 7);
//! assert!(auth.authenticate("token-b").is_err());
//! ```

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::context::{AuthContext, AuthError, TenantId};

/// Turns a credential into the sender's identity.
pub trait Authenticator: Send + Sync {
    /// The identity `credential` proves, or why it proves none.
    fn authenticate(&self, credential: &str) -> Result<AuthContext, AuthError>;
}

#[derive(serde::Deserialize)]
struct Claims {
    sub: String,
    tenant: TenantId,
    #[serde(default)]
    permissions: Vec<String>,
}

/// JSON Web Tokens, HS256 or EdDSA (see the module docs).
pub struct JwtAuthenticator {
    key: DecodingKey,
    validation: Validation,
}

impl JwtAuthenticator {
    fn new(key: DecodingKey, algorithm: Algorithm, audience: &str) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.leeway = 0;
        Self { key, validation }
    }

    /// Tokens signed with HS256 under `secret`, for `audience`.
    pub fn hs256(secret: &[u8], audience: &str) -> Self {
        Self::new(DecodingKey::from_secret(secret), Algorithm::HS256, audience)
    }

    /// Tokens signed with EdDSA (Ed25519) by the holder of `public_key`, for `audience`.
    pub fn eddsa(public_key: &ed25519_dalek::VerifyingKey, audience: &str) -> Self {
        Self::new(DecodingKey::from_ed_der(public_key.as_bytes()), Algorithm::EdDSA, audience)
    }

    /// Allows `seconds` of clock skew on `exp` (0 by default).
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        self.validation.leeway = seconds;
        self
    }
}

impl Authenticator for JwtAuthenticator {
    fn authenticate(&self, credential: &str) -> Result<AuthContext, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(credential, &self.key, &self.validation)
            .map_err(|e| AuthError::BadCredential { reason: e.to_string() })?;
        let claims = data.claims;
        let context = claims
            .permissions
            .into_iter()
            .fold(AuthContext::new(claims.sub, claims.tenant), AuthContext::with_permission);
        Ok(context)
    }
}

/// A fixed table of credentials, for tests.
#[derive(Default)]
pub struct StaticAuthenticator {
    known: HashMap<String, AuthContext>,
}

impl StaticAuthenticator {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// `credential` proves `context`.
    pub fn with(mut self, credential: impl Into<String>, context: AuthContext) -> Self {
        self.known.insert(credential.into(), context);
        self
    }
}

impl Authenticator for StaticAuthenticator {
    fn authenticate(&self, credential: &str) -> Result<AuthContext, AuthError> {
        self.known
            .get(credential)
            .cloned()
            .ok_or_else(|| AuthError::BadCredential { reason: "unknown credential".into() })
    }
}
