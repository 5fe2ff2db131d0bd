//! Tenant isolation and permissions, checked by the actor before its handler, on every
//! backend: an authorised sender's messages reach the handler; another tenant's, an
//! under-privileged sender's and a plain handle's are answered `Unauthorized` on their own
//! correlation ids, counted, and never change the state. A hand-written handler's
//! `handle_secure` gets the sender's identity. A property test drives random policies and
//! senders against a model of the rule.

#[macro_use]
mod common;

use proptest::prelude::*;
use ringkernel::{
    AccessPolicy, AuthContext, Backend, CallError, Fault, HandlerError, LaunchOptions, RingContext,
    RingKernelHandler, RingMessage, SecureRingContext, ring_kernel,
};

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Deposit {
    pub amount: u32,
}

#[derive(RingMessage, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Balance {
    pub total: u64,
    pub deposits: u32,
    pub pad: u32,
}

#[ring_kernel(id = "vault")]
fn vault(_ctx: &mut RingContext, balance: &mut Balance, d: Deposit) -> Balance {
    balance.total += d.amount as u64;
    balance.deposits += 1;
    *balance
}

on_every_backend!(
    only_the_policys_tenant_with_every_permission_reaches_the_handler,
    hand_written_handlers_see_the_senders_identity,
);

fn policy() -> LaunchOptions {
    LaunchOptions::default().access(AccessPolicy::new(7).require("vault:write").require("audit"))
}

fn only_the_policys_tenant_with_every_permission_reaches_the_handler(backend: Backend) {
    let rt = common::runtime(backend);
    let plain = rt.launch_with(VaultKernel::default(), policy()).unwrap();
    let owner =
        AuthContext::new("alice", 7).with_permission("vault:write").with_permission("audit");
    let alice = plain.authorized(owner.clone().with_permission("extra")).unwrap();
    let reader = plain.authorized(AuthContext::new("bob", 7).with_permission("audit")).unwrap();
    let other_tenant =
        plain.authorized(AuthContext::new("eve", 8).with_permission("vault:write")).unwrap();
    let spoof = plain.authorized(AuthContext::new("mallory", 8)).unwrap();
    assert_eq!(alice.call_blocking(Deposit { amount: 5 }).unwrap().total, 5);
    let refused = |result: Result<Balance, CallError>| {
        matches!(result, Err(CallError::Faulted { fault: Fault::Unauthorized, value: None, .. }))
    };
    assert!(
        refused(reader.call_blocking(Deposit { amount: 100 })),
        "{backend}: a permission short"
    );
    assert!(
        refused(other_tenant.call_blocking(Deposit { amount: 100 })),
        "{backend}: cross-tenant"
    );
    assert!(refused(spoof.call_blocking(Deposit { amount: 100 })), "{backend}: nothing held");
    assert!(refused(plain.call_blocking(Deposit { amount: 100 })), "{backend}: a plain handle");
    // Sends: each refusal is answered in order, on its own sequence number.
    let order = [(&alice, 1), (&spoof, 2), (&alice, 3)];
    let sequences: Vec<u64> = order
        .iter()
        .map(|(h, amount)| h.send_blocking(Deposit { amount: *amount }).unwrap())
        .collect();
    let first = alice.receive_blocking().unwrap();
    assert_eq!((first.sequence, first.value.total, first.fault), (sequences[0], 6, None));
    match alice.receive_blocking() {
        Err(CallError::Faulted { fault: Fault::Unauthorized, sequence, .. }) => {
            assert_eq!(sequence, sequences[1])
        }
        other => panic!("{backend}: expected the refusal, got {other:?}"),
    }
    assert_eq!(alice.receive_blocking().unwrap().value, Balance { total: 9, deposits: 3, pad: 0 });
    let metrics = plain.metrics();
    assert_eq!((metrics.refused, metrics.processed), (5, 8), "{backend}");
    assert_eq!(metrics.first_error, ringkernel_codegen::abi::error::UNAUTHORIZED);
    plain.terminate();
    let state = Balance::decode(&plain.final_state().unwrap()).unwrap();
    assert_eq!(
        state,
        Balance { total: 9, deposits: 3, pad: 0 },
        "{backend}: refusals changed nothing"
    );
}

/// Records who sent each message; refuses principals named `deny` itself.
struct Audited;

#[ringkernel::async_trait]
impl RingKernelHandler<u32, u32> for Audited {
    async fn handle(&mut self, _ctx: &mut RingContext, msg: u32) -> Result<u32, HandlerError> {
        Ok(msg)
    }

    async fn handle_secure(
        &mut self,
        ctx: &mut SecureRingContext,
        msg: u32,
    ) -> Result<u32, HandlerError> {
        if ctx.auth().principal() == "deny" {
            return Err(ctx.auth().require("nothing").unwrap_err().into());
        }
        Ok(msg + ctx.auth().principal().len() as u32 * 1000 + ctx.auth().tenant() as u32 * 100)
    }
}

fn hand_written_handlers_see_the_senders_identity(backend: Backend) {
    let rt = common::runtime(backend);
    let options = LaunchOptions::default().access(AccessPolicy::new(3));
    let plain = rt.launch_handler_with::<_, u32, u32>("audited", 16, Audited, options).unwrap();
    let carol = plain.authorized(AuthContext::new("carol", 3)).unwrap();
    assert_eq!(carol.call_blocking(1), Ok(5301), "{backend}: `carol`, tenant 3");
    let dave = plain.authorized(AuthContext::new("dave", 3)).unwrap();
    assert_eq!(dave.call_blocking(2), Ok(4302));
    let deny = plain.authorized(AuthContext::new("deny", 3)).unwrap();
    assert_eq!(deny.call_blocking(3).unwrap_err().fault(), Some(Fault::Unauthorized));
    let intruder = plain.authorized(AuthContext::new("carol", 4)).unwrap();
    assert_eq!(intruder.call_blocking(4).unwrap_err().fault(), Some(Fault::Unauthorized));
    assert_eq!(plain.metrics().refused, 2, "{backend}: the handler's refusal counts too");
    // Without a policy, plain handles reach `handle`, authorised ones `handle_secure`.
    let open = rt.launch_handler::<_, u32, u32>("open", 16, Audited).unwrap();
    assert_eq!(open.call_blocking(9), Ok(9));
    assert_eq!(open.authorized(AuthContext::new("ed", 1)).unwrap().call_blocking(9), Ok(2109));
}

/// A sender in the property test: tenant and which of the four permissions it holds.
#[derive(Debug, Clone)]
struct Sender {
    tenant: u64,
    holds: [bool; 4],
}

const PERMISSIONS: [&str; 4] = ["p0", "p1", "p2", "p3"];

fn sender() -> impl Strategy<Value = Sender> {
    (0u64..4, any::<[bool; 4]>()).prop_map(|(tenant, holds)| Sender { tenant, holds })
}

/// Random policies (tenant 1–3, any subset of the permissions) and random senders, each
/// sending a deposit: the actor accepts exactly those the model accepts, on both backends.
fn policies_against_the_model(backend: Backend, cases: u32) {
    let rt = common::runtime(backend);
    let config = ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(tenant in 1u64..4, required in any::<[bool; 4]>(), senders in prop::collection::vec(sender(), 1..12))| {
        let policy = PERMISSIONS
            .iter()
            .zip(required)
            .filter(|(_, r)| *r)
            .fold(AccessPolicy::new(tenant), |p, (name, _)| p.require(*name));
        let plain = rt.launch_with(VaultKernel::default(), LaunchOptions::default().access(policy)).unwrap();
        let mut accepted = 0u32;
        for (i, s) in senders.iter().enumerate() {
            let auth = PERMISSIONS
                .iter()
                .zip(s.holds)
                .filter(|(_, h)| *h)
                .fold(AuthContext::new(format!("s{i}"), s.tenant), |a, (name, _)| a.with_permission(*name));
            let admitted = s.tenant == tenant && required.iter().zip(s.holds).all(|(r, h)| !r || h);
            let result = plain.authorized(auth).unwrap().call_blocking(Deposit { amount: 1 << i });
            match result {
                Ok(balance) => {
                    prop_assert!(admitted, "{backend}: {s:?} got through");
                    accepted += 1;
                    prop_assert_eq!(balance.deposits, accepted);
                }
                Err(err) => {
                    prop_assert!(!admitted, "{backend}: {s:?} refused: {err}");
                    prop_assert_eq!(err.fault(), Some(Fault::Unauthorized));
                }
            }
        }
        let refused = senders.len() as u64 - u64::from(accepted);
        prop_assert_eq!(plain.metrics().refused, refused);
        plain.terminate();
        let state = Balance::decode(&plain.final_state().unwrap()).unwrap();
        prop_assert_eq!(state.deposits, accepted);
    });
}

#[test]
fn random_policies_and_senders_match_the_model_on_the_cpu() {
    policies_against_the_model(Backend::Cpu, 64);
}

#[test]
fn random_policies_and_senders_match_the_model_in_the_vm() {
    policies_against_the_model(Backend::Emulated, 24);
}
