//! Runs the README's main job (the registry tour example) and checks what it ended with.

#[allow(dead_code)]
#[path = "../examples/registry_tour.rs"]
mod tour;

use ringkernel::rules::{RuleError, RuleStatus, SignatureError};

#[tokio::test]
async fn the_registry_tour_ends_where_it_says() {
    let outcome = tour::run().await.expect("the tour runs without errors");
    assert_eq!(outcome.active, 4);
    assert_eq!(
        outcome.history,
        [(2, RuleStatus::Superseded(4)), (3, RuleStatus::Rolledback), (4, RuleStatus::Active)]
    );
    assert!(matches!(
        outcome.tampered,
        RuleError::BadSignature { source: SignatureError::Mismatch, .. }
    ));
    assert!(matches!(outcome.unsigned, RuleError::Unsigned { version: 5, .. }));
}
