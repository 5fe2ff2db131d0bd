//! The registry example from the original documentation, unchanged.

use std::sync::Arc;

use ringkernel::rules::*;

#[rustfmt::skip]
#[tokio::test]
async fn seed_documentation_example_compiles_and_passes() {
    let registry = RuleRegistry::new(5, Arc::new(NoopSwapBackend));
    let rule = CompiledRule { rule_id: "gaap-consolidation".into(), version: 1,
        ptx: b".version 8.0\n.target sm_90\n".to_vec(), compute_cap: "sm_90".into(),
        depends_on: vec![], signature: None, actor_config: ActorConfig::default(),
        metadata: RuleMetadata::default() };
    let handle = registry.register_rule(rule, "sm_90").await.unwrap();
    assert_eq!(handle.version, 1);
    // Beyond the seed: the version really is active.
    assert_eq!(handle.status, RuleStatus::Active);
    assert_eq!(registry.get_active("gaap-consolidation").map(|h| h.version), Some(1));
}
