//! Checkpoints: an actor's state, clock and counters, taken at a message boundary, written to
//! a versioned binary file and restored into a new actor on any backend.
//!
//! `handle.checkpoint()` quiesces the actor at a message boundary, copies its state, HLC and
//! counters and resumes it (the pause is reported as `blackout`). `Checkpoint::write_to` /
//! `read_from` use the format below; `Runtime::launch_restored(kernel, &checkpoint)` refuses a
//! checkpoint whose digest fails or whose state layout or ABI hash is not the kernel's, with the
//! reason, and otherwise launches the kernel with that state, clock and counters — on the
//! backend of that runtime, whichever backend took the checkpoint.
//!
//! # Format (version 1, little-endian)
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `RKCHKPT\0` |
//! | 4 | format version (1) |
//! | 4 + n | kernel id (length, UTF-8) |
//! | 8 | version of the kernel or rule |
//! | 8 | ABI hash of its artifact |
//! | 4 + n | state layout (length, the artifact's layout text; empty: stateless) |
//! | 8 | HLC (packed) |
//! | 8, 4, 4, 8, 8 | messages processed, errors, first error code, refused, aborted |
//! | 8 + n | state (length, the state type's `RingMessage` encoding) |
//! | 32 | SHA-256 of everything before it |

use std::io::{Read, Write};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::handle::KernelHandle;
use crate::message::RingMessage;

const MAGIC: &[u8; 8] = b"RKCHKPT\0";
const FORMAT_VERSION: u32 = 1;
/// The largest state a checkpoint file may claim (a corrupted length must not allocate more).
const MAX_STATE_BYTES: u64 = 1 << 32;

/// An actor's state, clock and counters at a message boundary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The kernel or rule id.
    pub kernel_id: String,
    /// Its version (1 for kernels).
    pub version: u64,
    /// The ABI hash of its artifact (layouts of message, response and state).
    pub abi_hash: u64,
    /// The state's layout as the artifact records it (empty: stateless).
    pub state_layout: String,
    /// The actor's hybrid logical clock (packed).
    pub hlc: u64,
    /// Messages handled.
    pub messages_processed: u64,
    /// Errors recorded.
    pub errors: u32,
    /// The first error's code.
    pub first_error: u32,
    /// Messages refused by the access policy.
    pub refused: u64,
    /// Messages aborted by their budget.
    pub aborted: u64,
    /// The state's encoding.
    pub state: Vec<u8>,
    /// How long the actor was paused to take it (not written to files: 0 after `read_from`).
    pub blackout: Duration,
}

/// Why a checkpoint could not be taken, read or restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The bytes are not a checkpoint: wrong magic, unknown format version, a length past the
    /// end, invalid UTF-8. The text says which.
    #[error("not a ringkernel checkpoint: {0}")]
    Malformed(String),
    /// The content does not match its digest (corrupted or edited).
    #[error("the checkpoint's digest does not match its content (corrupted or edited)")]
    DigestMismatch,
    /// The checkpoint is of another layout or ABI than the kernel it is restored into.
    #[error("checkpoint of `{checkpoint}` does not fit `{kernel}`: {reason}")]
    Incompatible {
        /// The checkpoint's kernel id.
        checkpoint: String,
        /// The kernel's id.
        kernel: String,
        /// What differs.
        reason: String,
    },
    /// The actor could not be paused or read (terminated, stuck, a device error).
    #[error("cannot checkpoint `{id}`: {reason}")]
    Actor {
        /// The actor.
        id: String,
        /// Why.
        reason: String,
    },
    /// Reading or writing the file failed.
    #[error("checkpoint I/O: {0}")]
    Io(String),
}

impl From<std::io::Error> for CheckpointError {
    fn from(e: std::io::Error) -> Self {
        CheckpointError::Io(e.to_string())
    }
}

impl Checkpoint {
    fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.state.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        let text = |out: &mut Vec<u8>, s: &str| {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        };
        text(&mut out, &self.kernel_id);
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.abi_hash.to_le_bytes());
        text(&mut out, &self.state_layout);
        for word in [self.hlc, self.messages_processed] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&self.errors.to_le_bytes());
        out.extend_from_slice(&self.first_error.to_le_bytes());
        for word in [self.refused, self.aborted, self.state.len() as u64] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&self.state);
        out
    }

    /// The file's bytes (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.body();
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    /// Writes the checkpoint (the format in the module docs).
    pub fn write_to(&self, mut out: impl Write) -> Result<(), CheckpointError> {
        out.write_all(&self.to_bytes())?;
        out.flush()?;
        Ok(())
    }

    /// Reads a checkpoint, checking its format and digest.
    pub fn read_from(mut input: impl Read) -> Result<Checkpoint, CheckpointError> {
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes)?;
        Checkpoint::from_bytes(&bytes)
    }

    /// Parses a checkpoint's bytes, checking its format and digest.
    pub fn from_bytes(bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(8, "the magic")? != MAGIC {
            return Err(CheckpointError::Malformed("wrong magic (not a checkpoint file)".into()));
        }
        let format = r.u32("the format version")?;
        if format != FORMAT_VERSION {
            return Err(CheckpointError::Malformed(format!(
                "format version {format}; this build reads version {FORMAT_VERSION}"
            )));
        }
        let kernel_id = r.text("the kernel id")?;
        let (version, abi_hash) = (r.u64("the version")?, r.u64("the ABI hash")?);
        let state_layout = r.text("the state layout")?;
        let (hlc, messages_processed) = (r.u64("the clock")?, r.u64("the counters")?);
        let (errors, first_error) = (r.u32("the counters")?, r.u32("the counters")?);
        let (refused, aborted) = (r.u64("the counters")?, r.u64("the counters")?);
        let state_len = r.u64("the state's length")?;
        if state_len > MAX_STATE_BYTES {
            return Err(CheckpointError::Malformed(format!("a state of {state_len} bytes")));
        }
        let state = r.take(state_len as usize, "the state")?.to_vec();
        let end = r.at;
        let digest = r.take(32, "the digest")?;
        if r.at != bytes.len() {
            return Err(CheckpointError::Malformed(format!(
                "{} bytes after the digest",
                bytes.len() - r.at
            )));
        }
        if Sha256::digest(&bytes[..end]).as_slice() != digest {
            return Err(CheckpointError::DigestMismatch);
        }
        Ok(Checkpoint {
            kernel_id,
            version,
            abi_hash,
            state_layout,
            hlc,
            messages_processed,
            errors,
            first_error,
            refused,
            aborted,
            state,
            blackout: Duration::ZERO,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], CheckpointError> {
        let end = self.at.checked_add(n).filter(|end| *end <= self.bytes.len());
        let Some(end) = end else {
            return Err(CheckpointError::Malformed(format!(
                "truncated: {what} runs past the end ({} bytes)",
                self.bytes.len()
            )));
        };
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u32(&mut self, what: &str) -> Result<u32, CheckpointError> {
        Ok(u32::from_le_bytes(self.take(4, what)?.try_into().unwrap_or_default()))
    }

    fn u64(&mut self, what: &str) -> Result<u64, CheckpointError> {
        Ok(u64::from_le_bytes(self.take(8, what)?.try_into().unwrap_or_default()))
    }

    fn text(&mut self, what: &str) -> Result<String, CheckpointError> {
        let n = self.u32(what)? as usize;
        let raw = self.take(n, what)?;
        String::from_utf8(raw.to_vec())
            .map_err(|_| CheckpointError::Malformed(format!("{what} is not UTF-8")))
    }
}

/// An actor's identity as its handles and pipeline stages share it (the swap backends update
/// it when a rule actor changes version).
pub(crate) type SharedIdentity = std::sync::Arc<parking_lot::Mutex<Option<Identity>>>;

/// What a checkpoint needs to know of an actor beyond its memory: its artifact's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Identity {
    pub version: u64,
    pub abi_hash: u64,
    pub state_layout: String,
}

impl Identity {
    /// The identity an artifact gives its actors.
    pub fn of(artifact: &ringkernel_codegen::artifact::Artifact) -> Identity {
        let m = &artifact.metadata;
        Identity {
            version: artifact.version,
            abi_hash: m.abi_hash,
            state_layout: m.state.as_ref().map(|s| s.to_text()).unwrap_or_default(),
        }
    }

    /// The identity of the artifact `text` (`None` when it does not parse).
    pub fn of_text(text: &str) -> Option<Identity> {
        ringkernel_codegen::artifact::Artifact::parse(text).ok().map(|a| Identity::of(&a))
    }

    /// Whether `checkpoint` can be restored into an actor of this identity, and why not.
    pub fn accepts(&self, kernel: &str, checkpoint: &Checkpoint) -> Result<(), CheckpointError> {
        let refuse = |reason: String| CheckpointError::Incompatible {
            checkpoint: checkpoint.kernel_id.clone(),
            kernel: kernel.to_owned(),
            reason,
        };
        if checkpoint.state_layout != self.state_layout {
            return Err(refuse(format!(
                "state layout `{}` is not the kernel's `{}`",
                checkpoint.state_layout, self.state_layout
            )));
        }
        if checkpoint.abi_hash != self.abi_hash {
            return Err(refuse(format!(
                "ABI hash {:#018x} is not the kernel's {:#018x}",
                checkpoint.abi_hash, self.abi_hash
            )));
        }
        Ok(())
    }
}

impl<M: RingMessage, R: RingMessage> KernelHandle<M, R> {
    /// Pauses the actor at a message boundary, copies its state, clock and counters, and
    /// resumes it; the pause is reported as the checkpoint's `blackout`. Queued messages stay
    /// queued. A hand-written handler (no artifact, so no state layout) cannot be checkpointed.
    pub fn checkpoint(&self) -> Result<Checkpoint, CheckpointError> {
        let core = &self.core;
        if core.gone() {
            return Err(CheckpointError::Actor {
                id: core.id.clone(),
                reason: "it was terminated".into(),
            });
        }
        let identity = core.identity.lock().clone();
        take(&core.id, identity, core.link.as_ref())
    }
}

/// Pauses the actor behind `link` at a message boundary, copies its state, clock and counters,
/// and resumes it (see [`KernelHandle::checkpoint`]).
pub(crate) fn take(
    id: &str,
    identity: Option<Identity>,
    link: &dyn crate::handle::ActorLink,
) -> Result<Checkpoint, CheckpointError> {
    use ringkernel_codegen::abi::{ack, request};
    let fail = |reason: String| CheckpointError::Actor { id: id.to_owned(), reason };
    let identity = identity.ok_or_else(|| {
        fail("it has no artifact (a hand-written handler): its state layout is unknown".into())
    })?;
    let started = Instant::now();
    link.request(request::QUIESCE);
    let limit = Duration::from_secs(10);
    let taken = if crate::handle::wait_for_link(link, ack::QUIESCED, limit) {
        link.state_at_boundary().map_err(&fail)
    } else {
        Err(fail("it did not reach a message boundary within 10 s".into()))
    };
    let control = link.control();
    let counters = (
        control.messages_processed.load(Ordering::Acquire),
        control.error_count.load(Ordering::Relaxed),
        control.error_code.load(Ordering::Relaxed),
        control.messages_refused.load(Ordering::Relaxed),
        control.messages_aborted.load(Ordering::Relaxed),
    );
    let hlc = link.clock();
    link.request(request::RUN);
    crate::handle::wait_for_link(link, ack::RUNNING, limit);
    let blackout = started.elapsed();
    let state = taken?;
    let (messages_processed, errors, first_error, refused, aborted) = counters;
    Ok(Checkpoint {
        kernel_id: id.to_owned(),
        version: identity.version,
        abi_hash: identity.abi_hash,
        state_layout: identity.state_layout,
        hlc,
        messages_processed,
        errors,
        first_error,
        refused,
        aborted,
        state,
        blackout,
    })
}

/// Writes a checkpoint's counters and clock into a new actor's control block, before any
/// message reaches it.
pub(crate) fn restore_counters(control: &ringkernel_codegen::abi::ControlBlock, c: &Checkpoint) {
    control.messages_processed.store(c.messages_processed, Ordering::Release);
    control.error_count.store(c.errors, Ordering::Relaxed);
    control.error_code.store(c.first_error, Ordering::Relaxed);
    control.messages_refused.store(c.refused, Ordering::Relaxed);
    control.messages_aborted.store(c.aborted, Ordering::Relaxed);
    control.hlc.fetch_max(c.hlc, Ordering::AcqRel);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        Checkpoint {
            kernel_id: "vault".into(),
            version: 3,
            abi_hash: 0x1234_5678_9abc_def0,
            state_layout: "Balance size=16 align=8 fields=total@0:8,deposits@8:4,pad@12:4".into(),
            hlc: 99 << 16,
            messages_processed: 41,
            errors: 2,
            first_error: 1,
            refused: 5,
            aborted: 1,
            state: (0..16).collect(),
            blackout: Duration::ZERO,
        }
    }

    #[test]
    fn a_checkpoint_round_trips_through_its_bytes() {
        let c = sample();
        let mut file = Vec::new();
        c.write_to(&mut file).unwrap();
        assert_eq!(Checkpoint::read_from(file.as_slice()).unwrap(), c);
    }

    #[test]
    fn every_damaged_file_is_an_error_naming_the_problem() {
        let good = sample().to_bytes();
        for cut in [0, 3, 8, 11, 20, good.len() - 33, good.len() - 1] {
            let err = Checkpoint::from_bytes(&good[..cut]).unwrap_err();
            assert!(
                matches!(err, CheckpointError::Malformed(ref m) if m.contains("truncated")),
                "{cut}: {err}"
            );
        }
        for at in 12..good.len() {
            let mut bad = good.clone();
            bad[at] ^= 0x40;
            assert!(Checkpoint::from_bytes(&bad).is_err(), "a flipped byte at {at} went unnoticed");
        }
        let mut foreign = good.clone();
        foreign[0] = b'X';
        assert!(Checkpoint::from_bytes(&foreign).unwrap_err().to_string().contains("wrong magic"));
        let mut newer = good.clone();
        newer[8] = 2;
        assert!(
            Checkpoint::from_bytes(&newer).unwrap_err().to_string().contains("format version 2")
        );
        let mut longer = good.clone();
        longer.push(0);
        assert!(
            Checkpoint::from_bytes(&longer).unwrap_err().to_string().contains("after the digest")
        );
        let mut huge = sample();
        huge.state.clear();
        let mut bytes = huge.body();
        let len_at = bytes.len() - 8;
        bytes[len_at..].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(Checkpoint::from_bytes(&bytes).unwrap_err().to_string().contains("bytes"));
    }

    #[test]
    fn an_edited_content_fails_its_digest() {
        let mut bytes = sample().to_bytes();
        let state_at = bytes.len() - 32 - 16;
        bytes[state_at] ^= 0xff;
        assert_eq!(Checkpoint::from_bytes(&bytes), Err(CheckpointError::DigestMismatch));
    }

    #[test]
    fn only_the_same_layout_and_abi_are_accepted() {
        let c = sample();
        let identity =
            Identity { version: 3, abi_hash: c.abi_hash, state_layout: c.state_layout.clone() };
        assert!(identity.accepts("vault", &c).is_ok());
        let other = Identity { abi_hash: 7, ..identity.clone() };
        assert!(other.accepts("vault", &c).unwrap_err().to_string().contains("ABI hash"));
        let other =
            Identity { state_layout: "Other size=8 align=8 fields=x@0:8".into(), ..identity };
        let err = other.accepts("ledger", &c).unwrap_err().to_string();
        assert!(
            err.contains("`vault` does not fit `ledger`") && err.contains("state layout"),
            "{err}"
        );
    }
}
