//! The persistent-kernel ABI: the memory the host and a persistent actor share.
//!
//! One definition for both sides. The runtime maps these structs into pinned, device-mapped
//! host memory (or device memory) and uses their atomics; the PTX writer reads the offsets
//! below and emits the matching `ld.acquire.sys` / `st.release.sys` instructions.
//!
//! # Control block
//!
//! One [`ControlBlock`] per actor. The host writes `requested` (run, quiesce, terminate); the
//! kernel acknowledges in `acknowledged` once it reached a message boundary, records errors
//! (`error_code` keeps the first, `error_count` counts all, `error_sequence` names the message
//! that raised the last one) and counts `messages_processed`. `hlc` holds the actor's hybrid
//! logical clock, packed as in the runtime's `hlc` module. The host writes the actor's access
//! policy (`policy_flags`, `policy_tenant`, `policy_required`) before the first `RUN`; the
//! kernel reads it each time it starts running and checks every message against it before the
//! handler (see [`SlotHeader::tenant`]). The second cache line counts the messages refused by
//! the policy and those aborted by the execution budget.
//!
//! # Rings
//!
//! Single-producer single-consumer rings of fixed-size slots. A ring is a [`QueueHeader`]
//! followed immediately by `capacity` slots of `slot_size` bytes. `head` (next slot to read,
//! written by the consumer) and `tail` (next slot to write, written by the producer) are
//! free-running `u64` counters on separate cache lines; slot `i` lives at index
//! `i & (capacity - 1)`. The ring is empty when `head == tail` and full when
//! `tail - head == capacity`.
//!
//! Memory ordering (the same on both sides; `.sys` scope on the GPU because the other side is
//! the host):
//! - the producer writes the slot, then stores `tail + 1` with **release**;
//! - the consumer loads `tail` with **acquire**, reads the slot, then stores `head + 1` with
//!   **release** so that the producer, loading `head` with **acquire**, may reuse the slot.
//!
//! A slot is a [`SlotHeader`] (type id, sequence, correlation id, HLC timestamp, the sender's
//! tenant, permission bits and handle, the response's fault) followed by the message bytes,
//! the whole rounded up to [`SLOT_ALIGN`] bytes (a cache line), so every slot starts on its
//! own cache line and every payload 48 bytes into it. Two neighbouring
//! slots never share a line: the producer writing slot `i + 1` does not take away the line
//! the consumer is reading slot `i` from. Kernels read `slot_size` from the header.

use std::sync::atomic::{AtomicU32, AtomicU64};

/// Version of this ABI, recorded in every control block and artifact.
pub const ABI_VERSION: u32 = 2;

/// Cache line size the layout is padded to (also the GPU's L2 sector group).
pub const CACHE_LINE: usize = 64;

/// Alignment and size granule of every slot: a cache line (see the module docs).
pub const SLOT_ALIGN: u32 = CACHE_LINE as u32;

/// Type id of a failed response: the handler did not produce a value for this message (a
/// wrong message type, a refused sender, an exhausted budget, a handler error; the slot's
/// `fault` says which). Its payload is zeroed; sequence and correlation are those of the
/// message, so the caller waiting for it gets an error instead of waiting.
pub const FAILED_RESPONSE_TYPE: u64 = u64::MAX;

/// Loop iterations a handler may run per message unless `#[ring_kernel(max_steps = N)]` says
/// otherwise: a runaway loop is stopped within about a second on the slowest backend (the PTX
/// VM runs some ten million simple iterations a second) and within milliseconds natively.
pub const DEFAULT_MAX_STEPS: u32 = 1 << 22;

/// The largest state (in bytes) whose value before a message is kept so that a message aborted
/// by its budget leaves the state as it was. A larger state keeps what the handler wrote before
/// the abort, the same on every backend.
pub const STATE_SNAPSHOT_LIMIT: u32 = 4096;

/// Bits of [`ControlBlock::policy_flags`].
pub mod policy {
    /// An access policy is in force: every message must carry the policy's tenant and hold
    /// every bit of `policy_required`.
    pub const ENFORCED: u32 = 1;
}

/// Values of [`ControlBlock::requested`].
pub mod request {
    /// Not started yet: the kernel waits.
    pub const IDLE: u32 = 0;
    /// Process messages.
    pub const RUN: u32 = 1;
    /// Stop at the next message boundary and acknowledge; queued messages stay queued.
    pub const QUIESCE: u32 = 2;
    /// Stop at the next message boundary, acknowledge and exit.
    pub const TERMINATE: u32 = 3;
}

/// Values of [`ControlBlock::acknowledged`].
pub mod ack {
    /// Launched, waiting for `RUN`.
    pub const IDLE: u32 = 0;
    /// Processing messages.
    pub const RUNNING: u32 = 1;
    /// Stopped at a message boundary.
    pub const QUIESCED: u32 = 2;
    /// Exited.
    pub const TERMINATED: u32 = 3;
}

/// Values of [`ControlBlock::error_code`]. Errors never stop the actor: the message that
/// raised one is answered with the handler's result computed under the defined semantics
/// (see the DSL documentation) and the error is recorded.
pub mod error {
    /// No error.
    pub const NONE: u32 = 0;
    /// An integer division or remainder by zero (the result is defined as 0).
    pub const DIVISION_BY_ZERO: u32 = 1;
    /// An array index out of bounds (reads give 0, writes are dropped).
    pub const INDEX_OUT_OF_BOUNDS: u32 = 2;
    /// A slot whose type id does not match the actor's message type: the handler does not
    /// run and the message is answered with a failed response ([`super::FAILED_RESPONSE_TYPE`]).
    pub const WRONG_MESSAGE_TYPE: u32 = 3;
    /// Memory held a value its type does not have: an enum discriminant that names no
    /// variant (a message written outside Rust). The value read is the enum's first variant.
    pub const INVALID_VALUE: u32 = 4;
    /// `isqrt` of a negative integer (Rust's panics): the result is 0.
    pub const NEGATIVE_SQUARE_ROOT: u32 = 5;
    /// The sender's tenant or permissions do not satisfy the actor's access policy: the
    /// handler does not run and the message is answered with a failed response.
    pub const UNAUTHORIZED: u32 = 6;
    /// The handler ran more loop iterations than its budget allows: the message is aborted
    /// (failed response; the state as before the message, see [`super::STATE_SNAPSHOT_LIMIT`]).
    pub const BUDGET_EXHAUSTED: u32 = 7;
    /// The handler returned an error or panicked (hand-written Rust handlers only).
    pub const HANDLER_FAILED: u32 = 8;
}

/// Per-actor control block. See the module docs for who writes what.
#[derive(Debug, Default)]
#[repr(C, align(64))]
pub struct ControlBlock {
    /// State the host asks for: one of [`request`].
    pub requested: AtomicU32,
    /// State the kernel reached: one of [`ack`].
    pub acknowledged: AtomicU32,
    /// First error recorded: one of [`error`].
    pub error_code: AtomicU32,
    /// Number of errors recorded.
    pub error_count: AtomicU32,
    /// Messages handled since launch.
    pub messages_processed: AtomicU64,
    /// The actor's hybrid logical clock (packed).
    pub hlc: AtomicU64,
    /// [`ABI_VERSION`] of the code that set the block up.
    pub abi_version: u32,
    /// Index of this actor among the kernel's instances.
    pub kernel_slot: u32,
    /// Sequence number of the message that raised the last error.
    pub error_sequence: AtomicU64,
    /// The tenant every message must carry, when [`policy::ENFORCED`] is set.
    pub policy_tenant: AtomicU64,
    /// Permission bits every message must hold, when [`policy::ENFORCED`] is set.
    pub policy_required: AtomicU32,
    /// Bits of [`policy`]; 0: no policy (every message is accepted).
    pub policy_flags: AtomicU32,
    /// Messages refused by the access policy (second cache line: rarely written).
    pub messages_refused: AtomicU64,
    /// Messages aborted by their execution budget.
    pub messages_aborted: AtomicU64,
    reserved: [u64; 6],
}

/// Header of one ring; the slots follow it.
#[derive(Debug, Default)]
#[repr(C, align(64))]
pub struct QueueHeader {
    /// Next slot to read; written only by the consumer.
    pub head: AtomicU64,
    pad_head: [u64; CACHE_LINE / 8 - 1],
    /// Next slot to write; written only by the producer.
    pub tail: AtomicU64,
    pad_tail: [u64; CACHE_LINE / 8 - 1],
    /// Number of slots, a power of two.
    pub capacity: u32,
    /// Bytes per slot, header included, a multiple of [`SLOT_ALIGN`].
    pub slot_size: u32,
    /// Bytes of message in each slot.
    pub payload_size: u32,
    /// [`ABI_VERSION`].
    pub abi_version: u32,
    /// Type id of the messages this ring carries.
    pub type_id: u64,
    pad_config: [u64; CACHE_LINE / 8 - 3],
}

/// Header of one slot; the message bytes follow it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct SlotHeader {
    /// Type id of the message (`RingMessage::TYPE_ID`).
    pub type_id: u64,
    /// Sequence number given by the producer.
    pub sequence: u64,
    /// Correlation id matching a response to its request (0: none).
    pub correlation: u64,
    /// HLC timestamp of the send (packed).
    pub hlc: u64,
    /// Tenant of the sender (0: a plain handle, no tenant). A response carries the tenant of
    /// the message it answers.
    pub tenant: u64,
    /// The sender's permissions as bits of the actor's policy (bit `i`: the policy's `i`-th
    /// required permission).
    pub permissions: u32,
    /// The host-side handle that sent the message (0: none), for hand-written handlers'
    /// `handle_secure`; kernels copy it to the response and do not read it.
    pub sender: u16,
    /// On a response: the fault of the message it answers, one of [`error`] (0: none); the
    /// first error its handler raised, or why it produced no value. 0 on a message.
    pub fault: u16,
}

/// Byte offsets the PTX writer uses (and tests pin).
pub mod offsets {
    use super::{ControlBlock, QueueHeader, SlotHeader};
    use core::mem::offset_of;

    /// `ControlBlock::requested`.
    pub const CB_REQUESTED: u32 = offset_of!(ControlBlock, requested) as u32;
    /// `ControlBlock::acknowledged`.
    pub const CB_ACKNOWLEDGED: u32 = offset_of!(ControlBlock, acknowledged) as u32;
    /// `ControlBlock::error_code`.
    pub const CB_ERROR_CODE: u32 = offset_of!(ControlBlock, error_code) as u32;
    /// `ControlBlock::error_count`.
    pub const CB_ERROR_COUNT: u32 = offset_of!(ControlBlock, error_count) as u32;
    /// `ControlBlock::messages_processed`.
    pub const CB_MESSAGES_PROCESSED: u32 = offset_of!(ControlBlock, messages_processed) as u32;
    /// `ControlBlock::hlc`.
    pub const CB_HLC: u32 = offset_of!(ControlBlock, hlc) as u32;
    /// `ControlBlock::kernel_slot`.
    pub const CB_KERNEL_SLOT: u32 = offset_of!(ControlBlock, kernel_slot) as u32;
    /// `ControlBlock::error_sequence`.
    pub const CB_ERROR_SEQUENCE: u32 = offset_of!(ControlBlock, error_sequence) as u32;
    /// `ControlBlock::policy_tenant`.
    pub const CB_POLICY_TENANT: u32 = offset_of!(ControlBlock, policy_tenant) as u32;
    /// `ControlBlock::policy_required`.
    pub const CB_POLICY_REQUIRED: u32 = offset_of!(ControlBlock, policy_required) as u32;
    /// `ControlBlock::policy_flags`.
    pub const CB_POLICY_FLAGS: u32 = offset_of!(ControlBlock, policy_flags) as u32;
    /// `ControlBlock::messages_refused`.
    pub const CB_MESSAGES_REFUSED: u32 = offset_of!(ControlBlock, messages_refused) as u32;
    /// `ControlBlock::messages_aborted`.
    pub const CB_MESSAGES_ABORTED: u32 = offset_of!(ControlBlock, messages_aborted) as u32;
    /// `QueueHeader::head`.
    pub const Q_HEAD: u32 = offset_of!(QueueHeader, head) as u32;
    /// `QueueHeader::tail`.
    pub const Q_TAIL: u32 = offset_of!(QueueHeader, tail) as u32;
    /// `QueueHeader::capacity`.
    pub const Q_CAPACITY: u32 = offset_of!(QueueHeader, capacity) as u32;
    /// `QueueHeader::type_id`.
    pub const Q_TYPE_ID: u32 = offset_of!(QueueHeader, type_id) as u32;
    /// `QueueHeader::slot_size`.
    pub const Q_SLOT_SIZE: u32 = offset_of!(QueueHeader, slot_size) as u32;
    /// Where slot 0 starts, from the start of the header.
    pub const Q_SLOTS: u32 = size_of::<QueueHeader>() as u32;
    /// `SlotHeader::type_id`.
    pub const SLOT_TYPE_ID: u32 = offset_of!(SlotHeader, type_id) as u32;
    /// `SlotHeader::sequence`.
    pub const SLOT_SEQUENCE: u32 = offset_of!(SlotHeader, sequence) as u32;
    /// `SlotHeader::correlation`.
    pub const SLOT_CORRELATION: u32 = offset_of!(SlotHeader, correlation) as u32;
    /// `SlotHeader::hlc`.
    pub const SLOT_HLC: u32 = offset_of!(SlotHeader, hlc) as u32;
    /// `SlotHeader::tenant`.
    pub const SLOT_TENANT: u32 = offset_of!(SlotHeader, tenant) as u32;
    /// `SlotHeader::permissions`.
    pub const SLOT_PERMISSIONS: u32 = offset_of!(SlotHeader, permissions) as u32;
    /// `SlotHeader::sender`.
    pub const SLOT_SENDER: u32 = offset_of!(SlotHeader, sender) as u32;
    /// `SlotHeader::fault`.
    pub const SLOT_FAULT: u32 = offset_of!(SlotHeader, fault) as u32;
    /// Where the message starts within a slot.
    pub const SLOT_PAYLOAD: u32 = size_of::<SlotHeader>() as u32;

    use core::mem::size_of;
}

/// Why a ring geometry is unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GeometryError {
    /// Capacity is not a power of two of at least 2.
    BadCapacity(u32),
    /// The ring would not fit in memory addressable with 32-bit slot offsets.
    TooLarge {
        /// Slots requested.
        capacity: u32,
        /// Message size.
        payload_size: u32,
    },
}

impl std::fmt::Display for GeometryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GeometryError::BadCapacity(c) => {
                write!(f, "ring capacity must be a power of two of at least 2, got {c}")
            }
            GeometryError::TooLarge { capacity, payload_size } => {
                write!(
                    f,
                    "a ring of {capacity} slots of {payload_size}-byte messages exceeds 4 GiB"
                )
            }
        }
    }
}

impl std::error::Error for GeometryError {}

/// Size and placement of one ring.
///
/// ```
/// use ringkernel_codegen::abi::RingGeometry;
/// let ring = RingGeometry::new(1024, 12).unwrap();
/// assert_eq!(ring.slot_size, 64); // 48-byte header + 12 bytes, rounded up to a cache line
/// assert_eq!(ring.total_bytes(), 192 + 1024 * 64);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingGeometry {
    /// Number of slots.
    pub capacity: u32,
    /// Message size in bytes.
    pub payload_size: u32,
    /// Slot size in bytes.
    pub slot_size: u32,
}

impl RingGeometry {
    /// The geometry for `capacity` slots of `payload_size`-byte messages.
    pub fn new(capacity: u32, payload_size: u32) -> Result<Self, GeometryError> {
        if capacity < 2 || !capacity.is_power_of_two() {
            return Err(GeometryError::BadCapacity(capacity));
        }
        let too_large = GeometryError::TooLarge { capacity, payload_size };
        let slot_size = offsets::SLOT_PAYLOAD
            .checked_add(payload_size)
            .and_then(|s| s.checked_next_multiple_of(SLOT_ALIGN))
            .ok_or(too_large.clone())?;
        slot_size
            .checked_mul(capacity)
            .and_then(|s| s.checked_add(offsets::Q_SLOTS))
            .ok_or(too_large)?;
        Ok(Self { capacity, payload_size, slot_size })
    }

    /// Bytes of header plus slots.
    pub fn total_bytes(&self) -> u64 {
        u64::from(offsets::Q_SLOTS) + u64::from(self.capacity) * u64::from(self.slot_size)
    }

    /// Byte offset of the slot for free-running index `index`, from the start of the header.
    pub fn slot_offset(&self, index: u64) -> u64 {
        u64::from(offsets::Q_SLOTS)
            + (index & u64::from(self.capacity - 1)) * u64::from(self.slot_size)
    }
}

/// Hash identifying the data layout an actor's code assumes: ABI version plus the text
/// layouts of message, response and state (see `StructLayout::to_text`). Two versions of a
/// rule can swap on the same queues and state only if their hashes are equal.
/// FNV-1a, 64 bit: stable across Rust versions and platforms.
pub fn abi_hash(message: &str, response: &str, state: Option<&str>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    eat(&ABI_VERSION.to_le_bytes());
    for part in [message, response, state.unwrap_or("-")] {
        eat(&(part.len() as u64).to_le_bytes());
        eat(part.as_bytes());
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::offsets::*;
    use super::*;
    use core::mem::{align_of, size_of};

    #[test]
    fn control_block_is_two_cache_lines_with_pinned_offsets() {
        assert_eq!(size_of::<ControlBlock>(), 2 * CACHE_LINE);
        assert_eq!(align_of::<ControlBlock>(), CACHE_LINE);
        assert_eq!(
            [
                CB_REQUESTED,
                CB_ACKNOWLEDGED,
                CB_ERROR_CODE,
                CB_ERROR_COUNT,
                CB_MESSAGES_PROCESSED,
                CB_HLC,
                CB_KERNEL_SLOT,
                CB_ERROR_SEQUENCE,
                CB_POLICY_TENANT,
                CB_POLICY_REQUIRED,
                CB_POLICY_FLAGS,
                CB_MESSAGES_REFUSED,
                CB_MESSAGES_ABORTED
            ],
            [0, 4, 8, 12, 16, 24, 36, 40, 48, 56, 60, 64, 72]
        );
        // 64-bit atomics are naturally aligned (the GPU faults on misaligned atomics).
        for offset in [
            CB_MESSAGES_PROCESSED,
            CB_HLC,
            CB_ERROR_SEQUENCE,
            CB_MESSAGES_REFUSED,
            CB_MESSAGES_ABORTED,
        ] {
            assert_eq!(offset % 8, 0);
        }
    }

    #[test]
    fn head_and_tail_live_on_separate_cache_lines() {
        assert_eq!((Q_HEAD, Q_TAIL), (0, 64));
        assert_eq!(Q_HEAD as usize / CACHE_LINE + 1, Q_TAIL as usize / CACHE_LINE);
        assert_eq!(Q_SLOTS as usize, 3 * CACHE_LINE);
        assert_eq!((Q_CAPACITY, Q_SLOT_SIZE), (128, 132));
    }

    #[test]
    fn slots_are_a_48_byte_header_then_an_aligned_payload() {
        assert_eq!((SLOT_TYPE_ID, SLOT_SEQUENCE, SLOT_CORRELATION, SLOT_HLC), (0, 8, 16, 24));
        assert_eq!(
            (SLOT_TENANT, SLOT_PERMISSIONS, SLOT_SENDER, SLOT_FAULT, SLOT_PAYLOAD),
            (32, 40, 44, 46, 48)
        );
        for payload in [0, 1, 8, 15, 16, 17, 32, 33, 1000] {
            let ring = RingGeometry::new(4, payload).unwrap();
            assert_eq!(ring.slot_size % SLOT_ALIGN, 0);
            assert!(ring.slot_size >= 48 + payload && ring.slot_size < 48 + payload + SLOT_ALIGN);
        }
    }

    #[test]
    fn slot_offsets_wrap_at_capacity() {
        let ring = RingGeometry::new(8, 16).unwrap();
        assert_eq!(ring.slot_offset(0), 192);
        assert_eq!(ring.slot_offset(9), ring.slot_offset(1));
        assert_eq!(ring.slot_offset(u64::MAX), 192 + 7 * 64);
        assert_eq!(RingGeometry::new(8, 17).unwrap().slot_size, 128);
    }

    #[test]
    fn bad_geometries_are_errors() {
        assert_eq!(RingGeometry::new(1000, 4), Err(GeometryError::BadCapacity(1000)));
        assert_eq!(RingGeometry::new(1, 4), Err(GeometryError::BadCapacity(1)));
        assert!(matches!(RingGeometry::new(1 << 30, 64), Err(GeometryError::TooLarge { .. })));
        assert!(matches!(RingGeometry::new(2, u32::MAX), Err(GeometryError::TooLarge { .. })));
    }

    // ABI 2 (tenant, permissions, sender and fault in the slot header): artifacts of ABI 1
    // hash differently and are refused.
    const PINNED_EMPTY_HASH: u64 = 0xfc0a_c480_4093_80c1;

    #[test]
    fn abi_hash_separates_fields_and_is_stable() {
        let a = abi_hash("M size=4 align=4 fields=x@0:4", "u32", None);
        assert_eq!(a, abi_hash("M size=4 align=4 fields=x@0:4", "u32", None));
        assert_ne!(
            a,
            abi_hash("M size=4 align=4 fields=x@0:4", "u32", Some("S size=0 align=1 fields="))
        );
        assert_ne!(abi_hash("ab", "c", None), abi_hash("a", "bc", None));
        // Pinned: artifacts written by earlier builds must keep matching.
        assert_eq!(abi_hash("", "", None), PINNED_EMPTY_HASH, "{:#x}", abi_hash("", "", None));
    }
}
