//! Authenticators: JWTs (HS256 and EdDSA) become `AuthContext`s; expired, wrongly signed,
//! foreign-audience, malformed or incomplete tokens are `BadCredential` errors with the
//! reason, never panics (a property test feeds arbitrary text and mangled tokens).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ringkernel::AuthError;
use ringkernel::auth::{Authenticator, JwtAuthenticator};

#[derive(serde::Serialize)]
struct Claims<'a> {
    sub: &'a str,
    tenant: u64,
    permissions: Vec<&'a str>,
    aud: &'a str,
    exp: u64,
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn claims(aud: &str, exp: u64) -> Claims<'_> {
    Claims { sub: "alice", tenant: 7, permissions: vec!["ledger:write", "ledger:read"], aud, exp }
}

fn hs256(secret: &[u8], claims: &Claims<'_>) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret))
        .unwrap()
}

/// An Ed25519 key as PKCS#8 DER (the fixed prefix of RFC 8410 and the 32-byte seed).
fn ed25519_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    der
}

fn eddsa(seed: &[u8; 32], claims: &Claims<'_>) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::EdDSA),
        claims,
        &EncodingKey::from_ed_der(&ed25519_pkcs8(seed)),
    )
    .unwrap()
}

fn refused(result: Result<ringkernel::AuthContext, AuthError>, needle: &str, context: &str) {
    match result {
        Err(AuthError::BadCredential { reason }) => {
            assert!(
                reason.to_lowercase().contains(needle),
                "{context}: reason `{reason}` lacks `{needle}`"
            )
        }
        other => panic!("{context}: expected BadCredential, got {other:?}"),
    }
}

#[test]
fn hs256_tokens_are_checked_for_signature_expiry_and_audience() {
    let auth = JwtAuthenticator::hs256(b"the shared secret", "ledger");
    let context =
        auth.authenticate(&hs256(b"the shared secret", &claims("ledger", now() + 600))).unwrap();
    assert_eq!((context.principal(), context.tenant()), ("alice", 7));
    assert!(context.require("ledger:write").is_ok() && context.require("ledger:admin").is_err());

    refused(
        auth.authenticate(&hs256(b"another secret", &claims("ledger", now() + 600))),
        "signature",
        "wrong secret",
    );
    refused(
        auth.authenticate(&hs256(b"the shared secret", &claims("ledger", now() - 10))),
        "expired",
        "expired",
    );
    refused(
        auth.authenticate(&hs256(b"the shared secret", &claims("billing", now() + 600))),
        "audience",
        "audience",
    );
    // Without `tenant`: a claim is missing.
    #[derive(serde::Serialize)]
    struct NoTenant<'a> {
        sub: &'a str,
        aud: &'a str,
        exp: u64,
    }
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &NoTenant { sub: "bob", aud: "ledger", exp: now() + 600 },
        &EncodingKey::from_secret(b"the shared secret"),
    )
    .unwrap();
    refused(auth.authenticate(&token), "tenant", "no tenant");
    for junk in
        ["", "not-a-token", "a.b.c", "..", "eyJhbGciOiJIUzI1NiJ9.e30.", &"A".repeat(100_000)]
    {
        assert!(
            matches!(auth.authenticate(junk), Err(AuthError::BadCredential { .. })),
            "{junk:.20}"
        );
    }
}

#[test]
fn eddsa_tokens_verify_under_the_public_key_only() {
    let seed = [5u8; 32];
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    let auth = JwtAuthenticator::eddsa(&public, "ledger");
    let token = eddsa(&seed, &claims("ledger", now() + 600));
    assert_eq!(auth.authenticate(&token).unwrap().principal(), "alice");
    refused(
        auth.authenticate(&eddsa(&[6u8; 32], &claims("ledger", now() + 600))),
        "signature",
        "other key",
    );
    // An HS256 token presented to the EdDSA authenticator: the algorithm is not accepted.
    assert!(auth.authenticate(&hs256(b"x", &claims("ledger", now() + 600))).is_err());
    // One character of the payload changed.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut payload = parts[1].clone().into_bytes();
    payload[5] = if payload[5] == b'A' { b'B' } else { b'A' };
    parts[1] = String::from_utf8(payload).unwrap();
    assert!(auth.authenticate(&parts.join(".")).is_err());
}

#[test]
fn arbitrary_and_mangled_tokens_are_errors_not_panics() {
    use proptest::prelude::*;
    let auth = JwtAuthenticator::hs256(b"k", "ledger");
    let good = hs256(b"k", &claims("ledger", now() + 600));
    let mut config = ProptestConfig::with_cases(256);
    config.failure_persistence = None;
    proptest!(config, |(text in ".{0,200}", at in 0usize..1000, byte in any::<u8>())| {
        let _ = auth.authenticate(&text);
        let mut bytes = good.clone().into_bytes();
        let i = at % bytes.len();
        bytes[i] = byte;
        let mangled = String::from_utf8_lossy(&bytes).into_owned();
        if mangled != good {
            prop_assert!(auth.authenticate(&mangled).is_err() || mangled.len() != good.len());
        }
    });
}
