//! PTX-only rule versions on the CPU backend: the artifact's batch entry, run in the PTX VM
//! (the emulated device) once per message from the actor thread.
//!
//! An externally supplied artifact has no Rust handler in the binary, so the CPU actor cannot
//! call one; instead [`PtxProgram`] parses the artifact's PTX once (in `pre_stage`, off the
//! swap's critical path) and [`PtxHandler`] is the `ByteHandler` the actor installs. Its
//! state lives in VM memory between messages and crosses the `state_bytes` /
//! `set_state_bytes` boundary like a Rust handler's, so a swap between a `#[rule]` version and
//! a PTX-only one keeps the state in both directions. Errors the kernel records (division by
//! zero, index out of bounds) are handed to the actor exactly as the native handler's are; a
//! fault in the kernel (a wild pointer in hand-written PTX) fails that message's response and
//! nothing else.

use std::sync::Arc;

use ringkernel_codegen::abi::{ControlBlock, offsets};
use ringkernel_ptx::{Arg, Dims, Module, Vm};

use crate::__private::{ByteHandler, record_error};
use crate::context::RingContext;
use crate::gpu::{Image, type_id_for_layout};
use crate::kernel::HandlerError;
use crate::message::MessageError;

/// A parsed PTX-only rule version.
pub(crate) struct PtxProgram {
    vm: Vm,
    module: Module,
    batch: String,
    sizes: (usize, usize, usize),
    type_ids: (u64, u64),
}

impl PtxProgram {
    /// Parses the artifact (its metadata and its PTX).
    pub fn parse(artifact_text: &str) -> Result<Arc<Self>, String> {
        let (_, image) = Image::parse(artifact_text)?;
        let module = Module::parse(artifact_text).map_err(|e| format!("the PTX: {e}"))?;
        if !module.entries().iter().any(|e| *e == image.batch) {
            return Err(format!("the PTX has no entry `{}`", image.batch));
        }
        let vm = Vm::new();
        vm.set_workers(1);
        Ok(Arc::new(PtxProgram {
            vm,
            module,
            batch: image.batch,
            sizes: (image.message.size as usize, image.response.size as usize, image.state_size),
            type_ids: (type_id_for_layout(&image.message), type_id_for_layout(&image.response)),
        }))
    }

    /// A handler with its own state (zeroed) and buffers in the VM.
    pub fn handler(self: &Arc<Self>) -> Result<Box<dyn ByteHandler>, String> {
        let (message, response, state) = self.sizes;
        let control = size_of::<ControlBlock>();
        let layout = Scratch::new(control, state, message, response);
        let base = self.vm.alloc(layout.total).map_err(|e| e.to_string())?;
        Ok(Box::new(PtxHandler { program: self.clone(), base, layout }))
    }
}

/// Where a handler's control block, state, message and response sit in its VM allocation.
#[derive(Clone, Copy)]
struct Scratch {
    state: u64,
    message: u64,
    response: u64,
    total: usize,
}

impl Scratch {
    fn new(control: usize, state: usize, message: usize, response: usize) -> Self {
        let up = |n: usize| n.div_ceil(64) * 64;
        let state_at = up(control);
        let message_at = state_at + up(state.max(1));
        let response_at = message_at + up(message.max(1));
        Scratch {
            state: state_at as u64,
            message: message_at as u64,
            response: response_at as u64,
            total: response_at + up(response.max(1)),
        }
    }
}

struct PtxHandler {
    program: Arc<PtxProgram>,
    base: u64,
    layout: Scratch,
}

impl Drop for PtxHandler {
    fn drop(&mut self) {
        let _ = self.program.vm.free(self.base);
    }
}

impl PtxHandler {
    /// Runs the batch entry on one message; `Ok(true)` when its budget ran out (the entry
    /// counted the abort, zeroed the response and put the state back).
    fn run(&self, message: &[u8], response: &mut [u8]) -> Result<bool, String> {
        let (vm, at) = (&self.program.vm, |offset: u64| self.base + offset);
        vm.write(self.base, &[0; size_of::<ControlBlock>()]).map_err(|e| e.to_string())?;
        vm.write(at(self.layout.message), message).map_err(|e| e.to_string())?;
        let args = [
            Arg::U64(self.base),
            Arg::U64(at(self.layout.state)),
            Arg::U64(at(self.layout.message)),
            Arg::U64(at(self.layout.response)),
            Arg::U32(1),
        ];
        vm.launch(&self.program.module, &self.program.batch, Dims::linear(1, 1), &args)
            .map_err(|fault| format!("the PTX handler faulted: {fault}"))?;
        vm.read(at(self.layout.response), response).map_err(|e| e.to_string())?;
        let mut word = [0u8; 4];
        vm.read(self.base + u64::from(offsets::CB_ERROR_COUNT), &mut word)
            .map_err(|e| e.to_string())?;
        let count = u32::from_le_bytes(word);
        vm.read(self.base + u64::from(offsets::CB_ERROR_CODE), &mut word)
            .map_err(|e| e.to_string())?;
        // The control block keeps the first code and counts them all; the actor keeps its
        // own first code too, so handing it over `count` times records exactly the same.
        let code = u32::from_le_bytes(word);
        for _ in 0..count {
            record_error(code);
        }
        let mut aborted = [0u8; 8];
        vm.read(self.base + u64::from(offsets::CB_MESSAGES_ABORTED), &mut aborted)
            .map_err(|e| e.to_string())?;
        Ok(u64::from_le_bytes(aborted) != 0)
    }
}

impl ByteHandler for PtxHandler {
    fn handle_bytes(
        &mut self,
        _ctx: &mut RingContext,
        message: &[u8],
        response: &mut [u8],
    ) -> Result<(), HandlerError> {
        let (message_size, response_size, _) = self.program.sizes;
        if message.len() != message_size || response.len() != response_size {
            return Err(HandlerError::Rejected(format!(
                "a {}-byte message / {}-byte response where the artifact has {message_size} / {response_size}",
                message.len(),
                response.len()
            )));
        }
        match self.run(message, response) {
            Ok(false) => Ok(()),
            // The artifact's budget is in its PTX, not known here.
            Ok(true) => Err(HandlerError::BudgetExhausted { max_steps: 0 }),
            Err(why) => Err(HandlerError::Rejected(why)),
        }
    }

    fn state_bytes(&self) -> Vec<u8> {
        let mut state = vec![0; self.program.sizes.2];
        if !state.is_empty() {
            // A VM read of a live allocation cannot fail; if it ever did, zeroes are the
            // honest "unknown" rather than a panic in the actor thread.
            let _ = self.program.vm.read(self.base + self.layout.state, &mut state);
        }
        state
    }

    fn set_state_bytes(&mut self, bytes: &[u8]) -> Result<(), MessageError> {
        let expected = self.program.sizes.2;
        if bytes.len() != expected {
            return Err(MessageError::WrongSize {
                type_name: "state",
                expected,
                actual: bytes.len(),
            });
        }
        if !bytes.is_empty() {
            self.program.vm.write(self.base + self.layout.state, bytes).map_err(|_| {
                MessageError::InvalidValue { type_name: "state", field: "(VM memory)" }
            })?;
        }
        Ok(())
    }

    fn sizes(&self) -> (usize, usize, usize) {
        self.program.sizes
    }

    fn type_ids(&self) -> (u64, u64) {
        self.program.type_ids
    }
}
