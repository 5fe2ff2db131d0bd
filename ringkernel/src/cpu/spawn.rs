//! Starting actors: rings, thread, handle.

use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use parking_lot::Mutex;
use ringkernel_codegen::abi::{ack, request};

use super::actor::{Actor, Shared};
use super::handle::{HandleCore, KernelHandle, Router, wait_for};
use super::ring::Ring;
use crate::__private::ByteHandler;
use crate::context::RingContext;
use crate::hlc::Hlc;
use crate::message::RingMessage;
use crate::runtime::RuntimeError;

/// Starts an actor running `handler` and returns its untyped core.
pub(crate) fn start(
    id: &str,
    slot: u32,
    capacity: u32,
    handler: Box<dyn ByteHandler>,
    tag: u64,
    clock: Arc<Hlc>,
) -> Result<Arc<HandleCore>, RuntimeError> {
    let (msg_size, resp_size, _) = handler.sizes();
    let (msg_type, resp_type) = handler.type_ids();
    let to_u32 = |n: usize| {
        u32::try_from(n).map_err(|_| RuntimeError::Launch {
            id: id.to_owned(),
            reason: format!("a {n}-byte message is too large"),
        })
    };
    let (input_producer, input_consumer) = Ring::create(capacity, to_u32(msg_size)?, msg_type)
        .map_err(|e| RuntimeError::Launch { id: id.to_owned(), reason: e.to_string() })?;
    let (output_producer, output_consumer) = Ring::create(capacity, to_u32(resp_size)?, resp_type)
        .map_err(|e| RuntimeError::Launch { id: id.to_owned(), reason: e.to_string() })?;
    let shared = Arc::new(Shared::new());
    let actor = Actor {
        shared: shared.clone(),
        input: input_consumer,
        output: output_producer,
        handler,
        ctx: RingContext::new(id, slot, clock),
        tag,
        idle_phase: 0,
    };
    let thread = actor
        .spawn(format!("ringkernel-{id}"))
        .map_err(|e| RuntimeError::Launch { id: id.to_owned(), reason: e.to_string() })?;
    let core = Arc::new(HandleCore {
        id: id.to_owned(),
        shared,
        producer: Mutex::new(input_producer),
        router: Mutex::new(Router::new(output_consumer)),
        next_sequence: AtomicU64::new(0),
        next_correlation: AtomicU64::new(1),
        thread: Mutex::new(Some(thread)),
        message: (msg_type, msg_size),
        response: (resp_type, resp_size),
    });
    core.shared.request(request::RUN);
    if !wait_for(&core.shared, ack::RUNNING, Duration::from_secs(5)) {
        return Err(RuntimeError::Launch {
            id: id.to_owned(),
            reason: "the actor thread did not start within 5 s".into(),
        });
    }
    Ok(core)
}

/// A typed view of a core, after checking that `M` and `R` are what its rings carry.
pub(crate) fn typed<M: RingMessage, R: RingMessage>(
    core: Arc<HandleCore>,
) -> Result<KernelHandle<M, R>, RuntimeError> {
    let expected = ((M::TYPE_ID, M::LAYOUT.size as usize), (R::TYPE_ID, R::LAYOUT.size as usize));
    if (core.message, core.response) != expected {
        return Err(RuntimeError::WrongTypes {
            id: core.id.clone(),
            wanted: format!("{} -> {}", M::LAYOUT.name, R::LAYOUT.name),
        });
    }
    Ok(KernelHandle { core, _types: PhantomData })
}
