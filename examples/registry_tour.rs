//! A tour of the rule registry: register a signed rule, stage and reload newer versions,
//! roll back, and watch a tampered artifact and an unsigned one get rejected, printing the
//! report of every swap.
//!
//! Run it with `cargo run --example registry_tour`. The backend here is the recording model
//! that tests use (no GPU needed); the CPU and CUDA backends plug into the same registry.

use std::sync::Arc;

use ringkernel::rules::{
    ActorConfig, CompiledRule, Ed25519Verifier, RecordingSwapBackend, RuleError, RuleMetadata,
    RuleRegistry, RuleStatus, SigningKey, sign_rule,
};

const RULE_ID: &str = "gaap-consolidation";
const DEVICE: &str = "sm_90";

/// What the tour ended with; the end-to-end test checks it.
#[derive(Debug)]
pub struct TourOutcome {
    /// Version active at the end.
    pub active: u64,
    /// (version, status) of every version the registry still holds.
    pub history: Vec<(u64, RuleStatus)>,
    /// The rejection of the artifact with one flipped PTX byte.
    pub tampered: RuleError,
    /// The rejection of the unsigned artifact.
    pub unsigned: RuleError,
}

fn artifact(version: u64, key: &SigningKey) -> CompiledRule {
    let ptx = format!(
        ".version 8.0\n.target sm_90\n.address_size 64\n// {RULE_ID} v{version}\n\
         .visible .entry consolidate() {{ ret; }}\n"
    );
    let mut rule = CompiledRule {
        rule_id: RULE_ID.into(),
        version,
        ptx: ptx.into_bytes(),
        compute_cap: "sm_90".into(),
        depends_on: vec![],
        signature: None,
        actor_config: ActorConfig::default(),
        metadata: RuleMetadata {
            description: format!("consolidation rules, release {version}"),
            abi_hash: Some(0x5eed),
            ..RuleMetadata::default()
        },
    };
    sign_rule(&mut rule, key);
    rule
}

/// Runs the tour, printing as it goes.
pub async fn run() -> Result<TourOutcome, RuleError> {
    let key = SigningKey::from_bytes(&[42; 32]);
    let backend = Arc::new(RecordingSwapBackend::new());
    backend.set_messages_in_flight(3);
    let registry = RuleRegistry::new(3, backend.clone())
        .with_verifier(Arc::new(Ed25519Verifier::new(key.verifying_key())));

    let handle = registry.register_rule(artifact(1, &key), DEVICE).await?;
    println!(
        "registered `{}` v{} ({}), digest {}",
        handle.rule_id, handle.version, handle.status, handle.digest
    );

    let staged = registry.register_rule(artifact(2, &key), DEVICE).await?;
    println!("staged v{} ahead of time ({})", staged.version, staged.status);
    println!("{}", registry.reload_rule(artifact(2, &key), DEVICE).await?);
    println!("{}", registry.reload_rule(artifact(3, &key), DEVICE).await?);
    println!("{}", registry.rollback_rule(RULE_ID, 2).await?);
    println!("{}", registry.reload_rule(artifact(4, &key), DEVICE).await?);

    let mut tampered = artifact(5, &key);
    tampered.ptx[40] ^= 0x01;
    let tampered =
        registry.reload_rule(tampered, DEVICE).await.expect_err("tampered PTX must be rejected");
    println!("rejected tampered artifact: {tampered}");
    let mut unsigned = artifact(5, &key);
    unsigned.signature = None;
    let unsigned = registry
        .reload_rule(unsigned, DEVICE)
        .await
        .expect_err("unsigned artifact must be rejected");
    println!("rejected unsigned artifact: {unsigned}");

    let history: Vec<(u64, RuleStatus)> =
        registry.history(RULE_ID).iter().map(|h| (h.version, h.status)).collect();
    println!("history (max {}):", registry.max_history());
    for (version, status) in &history {
        println!("  v{version}: {status}");
    }
    let active = registry.get_active(RULE_ID).map_or(0, |h| h.version);
    println!(
        "backend runs v{:?}, staged {:?}; active v{active}",
        backend.installed(RULE_ID),
        backend.staged(RULE_ID)
    );
    Ok(TourOutcome { active, history, tampered, unsigned })
}

#[tokio::main]
async fn main() {
    if let Err(err) = run().await {
        eprintln!("error: {err}");
        std::process::exit(1);
    }
}
