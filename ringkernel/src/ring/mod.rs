//! The single-producer single-consumer ring of the ABI ([`ringkernel_codegen::abi`]), in host
//! memory: the same header, slot layout and orderings the GPU kernel uses, so the CPU backend
//! and the CUDA backend speak one protocol.
//!
//! On top of `tail`, each slot announces itself: the producer writes the slot's `type_id` last,
//! atomically with `Release` (0 is never a valid type id), and the consumer polls the
//! `type_id` of the slot it will read next with `Acquire`, and clears it when it frees the
//! slot. A round trip then moves only the slots' cache lines, not the `tail` words (which stay
//! up to date for readers that follow the ABI's `tail` protocol, such as the GPU kernel).
//! `type_id` is only ever accessed atomically. The generated PTX kernel speaks the same
//! protocol (its response slots store `type_id` last with release, then `tail`; it clears the
//! `type_id` of each input slot it frees), so a host consumer reads a ring a kernel writes on
//! this fast path, and a kernel reads a ring the host writes (tested in
//! `tests/vm_ring_protocol.rs` with the PTX in the PTX VM).
//!
//! Ownership enforces "single producer, single consumer": [`Ring::create`] returns one
//! [`Producer`] and one [`Consumer`], neither `Clone`. Orderings (see the ABI docs): the
//! producer writes a slot, then publishes `tail + 1` with `Release`; the consumer reads `tail`
//! with `Acquire`, reads the slot, then frees it by storing `head + 1` with `Release`, which the
//! producer reads with `Acquire` before reusing the slot. The consumer may free several slots
//! with one store of `head` ([`Consumer::publish_head`]), and the producer reads `head` only
//! when the ring looks full.
//!
//! Layout choices that matter for speed (measured in BENCHMARKS.md): each slot fills whole
//! cache lines (the ABI rounds slots up to 64 bytes), and the producer prefetches for write the
//! line of a slot a few positions ahead once the consumer has freed it.

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::mem::offset_of;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

mod device;

pub(crate) use device::DeviceRing;

use crate::device::MappedMemory;
use ringkernel_codegen::abi::{
    ABI_VERSION, CACHE_LINE, GeometryError, QueueHeader, RingGeometry, SlotHeader, offsets,
};

/// The memory of one ring: a [`QueueHeader`] followed by the slots.
struct RingMemory {
    base: NonNull<u8>,
    len: usize,
    owner: Owner,
    geometry: RingGeometry,
}

/// Who frees a ring's memory.
enum Owner {
    /// The host heap (`Ring::create`), freed with this layout.
    Heap(Layout),
    /// A device mapping (`Ring::create_in`), freed when it drops; where the device sees it.
    Mapped(MappedMemory),
}

// SAFETY: the memory is only accessed through `Producer` and `Consumer`, one of each per ring;
// the shared header fields are atomics, and a slot is written by the producer only while it
// is free and read by the consumer only after the producer published it (release/acquire on
// `tail`), then reused by the producer only after the consumer freed it (release/acquire on
// `head`). No slot is ever accessed by both sides at once.
unsafe impl Send for RingMemory {}
// SAFETY: see `Send`: concurrent access from the two sides follows the protocol above.
unsafe impl Sync for RingMemory {}

impl RingMemory {
    fn header(&self) -> &QueueHeader {
        // SAFETY: `base` points to an allocation of at least `size_of::<QueueHeader>()` bytes,
        // aligned to the cache line (QueueHeader's alignment), initialised (zeroed, then the
        // geometry written before the ring was shared), and alive as long as `self`.
        unsafe { &*self.base.as_ptr().cast::<QueueHeader>() }
    }

    fn slot(&self, index: u64) -> *mut u8 {
        // SAFETY: `slot_offset` is below `total_bytes` (it wraps the index at the capacity), so
        // the resulting pointer stays inside the allocation.
        unsafe { self.base.as_ptr().add(self.geometry.slot_offset(index) as usize) }
    }
}

impl Drop for RingMemory {
    fn drop(&mut self) {
        if let Owner::Heap(layout) = self.owner {
            // SAFETY: allocated in `Ring::create` with this exact layout, freed once (Drop).
            unsafe { dealloc(self.base.as_ptr(), layout) }
        }
        // A mapping frees itself when `owner` drops.
    }
}

/// The `type_id` word of a slot, as an atomic.
fn slot_type_id<'a>(slot: *mut u8) -> &'a AtomicU64 {
    // SAFETY: `slot` points to a live slot (inside a `RingMemory` that outlives every use by
    // its producer and consumer), cache-line aligned, whose first 8 bytes are the `type_id`
    // word; that word is only ever accessed through this atomic (zero-initialised memory is
    // a valid AtomicU64).
    unsafe { AtomicU64::from_ptr(slot.add(offsets::SLOT_TYPE_ID as usize).cast::<u64>()) }
}

/// Writes every field of a slot's header but `type_id` (which announces the slot).
///
/// # Safety
/// `slot` points to a free slot of a live ring, owned by its producer (cache-line aligned,
/// at least `SLOT_PAYLOAD` bytes).
unsafe fn write_header_fields(slot: *mut u8, header: &SlotHeader) {
    // SAFETY: the caller's contract; every offset is inside the header and aligned for its
    // field (the header's offsets are pinned by the ABI's tests).
    unsafe {
        let at = |offset: u32| slot.add(offset as usize);
        at(offsets::SLOT_SEQUENCE).cast::<u64>().write(header.sequence);
        at(offsets::SLOT_CORRELATION).cast::<u64>().write(header.correlation);
        at(offsets::SLOT_HLC).cast::<u64>().write(header.hlc);
        at(offsets::SLOT_TENANT).cast::<u64>().write(header.tenant);
        at(offsets::SLOT_PERMISSIONS).cast::<u32>().write(header.permissions);
        at(offsets::SLOT_SENDER).cast::<u16>().write(header.sender);
        at(offsets::SLOT_FAULT).cast::<u16>().write(header.fault);
    }
}

/// Reads a published slot's header, given its `type_id` (read atomically by the caller).
///
/// # Safety
/// `slot` points to a slot of a live ring that its producer published and its consumer (the
/// caller) has not freed.
unsafe fn read_header_fields(slot: *mut u8, type_id: u64) -> SlotHeader {
    // SAFETY: the caller's contract; as in `write_header_fields`.
    unsafe {
        let at = |offset: u32| slot.add(offset as usize);
        SlotHeader {
            type_id,
            sequence: at(offsets::SLOT_SEQUENCE).cast::<u64>().read(),
            correlation: at(offsets::SLOT_CORRELATION).cast::<u64>().read(),
            hlc: at(offsets::SLOT_HLC).cast::<u64>().read(),
            tenant: at(offsets::SLOT_TENANT).cast::<u64>().read(),
            permissions: at(offsets::SLOT_PERMISSIONS).cast::<u32>().read(),
            sender: at(offsets::SLOT_SENDER).cast::<u16>().read(),
            fault: at(offsets::SLOT_FAULT).cast::<u16>().read(),
        }
    }
}

/// How many slots ahead of its writes a producer prefetches (see `Producer::prefetch_ahead`).
const PREFETCH_AHEAD: u64 = 4;

/// A hint to bring a cache line here for writing; never faults, changes no memory.
#[inline(always)]
fn prefetch_for_write(line: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHW is a hint: it does not fault on any address and writes nothing; the
    // SSE baseline of x86_64 provides `_mm_prefetch`.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_ET0 }>(line.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = line;
}

/// Creates rings.
pub struct Ring;

/// Why a ring could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    /// Bad capacity or size.
    #[error("{0}")]
    Geometry(String),
    /// The allocator refused.
    #[error("could not allocate {0} bytes for a ring")]
    OutOfMemory(u64),
    /// The device holding the ring refused an allocation or a copy, with its message.
    #[error("device ring: {0}")]
    Device(String),
}

impl From<GeometryError> for RingError {
    fn from(e: GeometryError) -> Self {
        RingError::Geometry(e.to_string())
    }
}

impl Ring {
    /// A ring of `capacity` slots (a power of two) for messages of `payload_size` bytes of type
    /// `type_id`.
    pub fn create(
        capacity: u32,
        payload_size: u32,
        type_id: u64,
    ) -> Result<(Producer, Consumer), RingError> {
        check_type_id(type_id)?;
        let geometry = RingGeometry::new(capacity, payload_size)?;
        let total = geometry.total_bytes();
        let layout = Layout::from_size_align(total as usize, CACHE_LINE)
            .map_err(|_| RingError::OutOfMemory(total))?;
        // SAFETY: `layout` has a non-zero size (at least the header).
        let raw = unsafe { alloc_zeroed(layout) };
        let base = NonNull::new(raw).ok_or(RingError::OutOfMemory(total))?;
        Ok(Self::assemble(base, layout.size(), Owner::Heap(layout), geometry, type_id))
    }

    /// Bytes a ring of this geometry needs (header and slots), for [`Ring::create_in`].
    pub fn bytes_needed(capacity: u32, payload_size: u32) -> Result<u64, RingError> {
        Ok(RingGeometry::new(capacity, payload_size)?.total_bytes())
    }

    /// A ring like [`Ring::create`]'s in memory a device maps (zero-filled, 64-byte aligned,
    /// at least [`Ring::bytes_needed`] bytes), so a kernel on that device can be either side.
    /// The ring owns the mapping and frees it when both halves are gone.
    pub fn create_in(
        memory: MappedMemory,
        capacity: u32,
        payload_size: u32,
        type_id: u64,
    ) -> Result<(Producer, Consumer), RingError> {
        check_type_id(type_id)?;
        let geometry = RingGeometry::new(capacity, payload_size)?;
        let total = geometry.total_bytes();
        if (memory.len() as u64) < total {
            return Err(RingError::Geometry(format!(
                "the mapping has {} bytes, the ring needs {total}",
                memory.len()
            )));
        }
        let base = NonNull::new(memory.host_ptr()).ok_or(RingError::OutOfMemory(total))?;
        if base.as_ptr().align_offset(CACHE_LINE) != 0 {
            return Err(RingError::Geometry("the mapping is not cache-line aligned".into()));
        }
        Ok(Self::assemble(base, total as usize, Owner::Mapped(memory), geometry, type_id))
    }

    fn assemble(
        base: NonNull<u8>,
        len: usize,
        owner: Owner,
        geometry: RingGeometry,
        type_id: u64,
    ) -> (Producer, Consumer) {
        let config = configuration_line(&geometry, type_id);
        // SAFETY: `base` is zeroed memory (a valid QueueHeader: atomics at 0, integers 0),
        // aligned and sized for the header, owned by `owner`; not shared yet (no kernel has
        // its address), so plain writes are fine. The line ends inside the header (it runs
        // from `capacity` to the end of `type_id`) and is a separate allocation.
        unsafe {
            let at = base.as_ptr().add(offsets::Q_CAPACITY as usize);
            std::ptr::copy_nonoverlapping(config.as_ptr(), at, config.len());
        }
        let capacity = geometry.capacity;
        let memory = Arc::new(RingMemory { base, len, owner, geometry });
        let producer = Producer { memory: memory.clone(), tail: 0, cached_head: 0 };
        let publish_every = u64::from((capacity / 4).clamp(1, 32));
        let consumer = Consumer { memory, head: 0, published_head: 0, publish_every };
        (producer, consumer)
    }
}

/// The header's fields from `capacity` to `type_id` (geometry, ABI version, type id), laid
/// out as [`QueueHeader`] does (little-endian, like every device we run on): what every ring
/// has in its header before anyone uses it, in host memory or device memory alike.
fn configuration_line(geometry: &RingGeometry, type_id: u64) -> Vec<u8> {
    let start = offset_of!(QueueHeader, capacity);
    let mut line = vec![0u8; offset_of!(QueueHeader, type_id) + 8 - start];
    let mut put = |offset: usize, bytes: &[u8]| {
        line[offset - start..offset - start + bytes.len()].copy_from_slice(bytes);
    };
    put(offset_of!(QueueHeader, capacity), &geometry.capacity.to_le_bytes());
    put(offset_of!(QueueHeader, slot_size), &geometry.slot_size.to_le_bytes());
    put(offset_of!(QueueHeader, payload_size), &geometry.payload_size.to_le_bytes());
    put(offset_of!(QueueHeader, abi_version), &ABI_VERSION.to_le_bytes());
    put(offset_of!(QueueHeader, type_id), &type_id.to_le_bytes());
    line
}

fn check_type_id(type_id: u64) -> Result<(), RingError> {
    if type_id == 0 {
        return Err(RingError::Geometry("type id 0 is reserved: it marks an empty slot".into()));
    }
    Ok(())
}

impl RingMemory {
    /// Where a device sees the ring (its mapping's address), if it is in mapped memory.
    fn device_address(&self) -> Option<u64> {
        match &self.owner {
            Owner::Mapped(m) => Some(m.device_address()),
            Owner::Heap(_) => None,
        }
    }
}

/// The writing side of a ring.
pub struct Producer {
    memory: Arc<RingMemory>,
    /// Our copy of `tail` (we are its only writer).
    tail: u64,
    /// The last `head` we read; refreshed only when the ring looks full.
    cached_head: u64,
}

impl Producer {
    /// Number of slots.
    pub fn capacity(&self) -> u32 {
        self.memory.geometry.capacity
    }

    /// Message size.
    pub fn payload_size(&self) -> usize {
        self.memory.geometry.payload_size as usize
    }

    /// Type id the ring was created for.
    pub fn type_id(&self) -> u64 {
        self.memory.header().type_id
    }

    /// The ring's memory (header, then slots) and its length in bytes: for mapping the ring
    /// into a device's address space, where a kernel plays the other side. Writing it other
    /// than by the ring protocol breaks the ring.
    pub fn memory(&self) -> (NonNull<u8>, usize) {
        (self.memory.base, self.memory.len)
    }

    /// Where a device sees the ring, when it was made by [`Ring::create_in`].
    pub fn device_address(&self) -> Option<u64> {
        self.memory.device_address()
    }

    /// A gauge of this ring's length for others to read.
    pub fn gauge(&self) -> RingGauge {
        RingGauge { ring: Gauged::Host(self.memory.clone()) }
    }

    /// Writes one message if there is room: `fill` writes the payload (exactly
    /// `payload_size` bytes). Returns `false` when the ring is full.
    pub fn try_push(&mut self, header: SlotHeader, fill: impl FnOnce(&mut [u8])) -> bool {
        self.try_push_with(|payload| {
            fill(payload);
            header
        })
    }

    /// Writes one message if there is room, deciding its header after its payload: `write`
    /// fills the payload (exactly `payload_size` bytes) in place and returns the header (the
    /// actor learns whether the handler succeeded only after it wrote the response). Returns
    /// `false`, without calling `write`, when the ring is full.
    pub fn try_push_with(&mut self, write: impl FnOnce(&mut [u8]) -> SlotHeader) -> bool {
        if !self.has_room() {
            return false;
        }
        let slot = self.memory.slot(self.tail);
        let payload_size = self.payload_size();
        // SAFETY: the slot at `tail` is free (tail - head < capacity) and only the producer
        // (us, `&mut self`) writes free slots; it spans `slot_size >= SLOT_PAYLOAD + payload_size` bytes
        // inside the allocation, cache-line aligned (SlotHeader needs 8). `type_id` is not
        // written here: the consumer may be polling it (atomically) right now.
        let header = unsafe {
            let payload = std::slice::from_raw_parts_mut(
                slot.add(offsets::SLOT_PAYLOAD as usize),
                payload_size,
            );
            let header = write(payload);
            write_header_fields(slot, &header);
            header
        };
        debug_assert_ne!(header.type_id, 0, "type id 0 marks an empty slot");
        // Release: the slot's fields and payload are visible to a consumer that acquires this
        // type id (never 0: `Ring::create` and the type ids of messages rule it out).
        slot_type_id(slot).store(header.type_id, Ordering::Release);
        self.tail += 1;
        // Release: the slot's contents are visible to a reader of the ABI's `tail` protocol.
        self.memory.header().tail.store(self.tail, Ordering::Release);
        self.prefetch_ahead();
        true
    }

    /// Asks for ownership of the line of the slot `PREFETCH_AHEAD` positions on, so that the
    /// write into it finds the line here instead of waiting for it to come from the consumer,
    /// which freed (and so last wrote) it. Only a slot the consumer has freed is touched: one
    /// it may still be reading, or polling, is left alone.
    fn prefetch_ahead(&self) {
        let ahead = self.tail + PREFETCH_AHEAD;
        if ahead - self.cached_head < u64::from(self.memory.geometry.capacity) {
            prefetch_for_write(self.memory.slot(ahead));
        }
    }

    /// Whether one more message fits, using the cached head (refreshed only when the ring
    /// looks full, so the common case touches no shared cache line).
    pub fn has_room(&mut self) -> bool {
        let capacity = u64::from(self.memory.geometry.capacity);
        if self.tail - self.cached_head < capacity {
            return true;
        }
        self.cached_head = self.memory.header().head.load(Ordering::Acquire);
        self.tail - self.cached_head < capacity
    }

    /// Messages written and not yet consumed (may be stale by the time it returns).
    pub fn len(&self) -> u64 {
        self.tail.saturating_sub(self.memory.header().head.load(Ordering::Acquire))
    }

    /// Whether the ring is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How many messages wait in a ring, read by someone who is neither end (a swap of a
/// pipeline stage reporting what is queued in front of it, a pipeline's link report).
#[derive(Clone)]
pub struct RingGauge {
    ring: Gauged,
}

#[derive(Clone)]
enum Gauged {
    /// A ring the host addresses.
    Host(Arc<RingMemory>),
    /// A ring in device memory, read through the device.
    Device(Arc<DeviceRing>),
}

impl RingGauge {
    fn device(ring: Arc<DeviceRing>) -> Self {
        RingGauge { ring: Gauged::Device(ring) }
    }

    /// Messages written and not yet freed by the consumer (it frees in batches, so this may
    /// count a few it already read). A ring in device memory is read through its device,
    /// which may fail.
    pub fn len(&self) -> Result<u64, RingError> {
        match &self.ring {
            Gauged::Host(memory) => {
                let header = memory.header();
                let head = header.head.load(Ordering::Acquire);
                Ok(header.tail.load(Ordering::Acquire).saturating_sub(head))
            }
            Gauged::Device(ring) => ring.len(),
        }
    }

    /// Whether [`RingGauge::len`] is 0 (a ring that cannot be read counts as not empty).
    pub fn is_empty(&self) -> bool {
        matches!(self.len(), Ok(0))
    }
}

/// The reading side of a ring.
pub struct Consumer {
    memory: Arc<RingMemory>,
    /// Our copy of `head` (we are its only writer).
    head: u64,
    /// The last `head` stored in the header for the producer.
    published_head: u64,
    /// Store `head` at least once per this many messages (see [`Consumer::publish_head`]).
    publish_every: u64,
}

impl Consumer {
    /// Message size.
    pub fn payload_size(&self) -> usize {
        self.memory.geometry.payload_size as usize
    }

    /// Type id the ring was created for.
    pub fn type_id(&self) -> u64 {
        self.memory.header().type_id
    }

    /// The ring's memory (header, then slots) and its length in bytes: for mapping the ring
    /// into a device's address space, where a kernel plays the other side. Writing it other
    /// than by the ring protocol breaks the ring.
    pub fn memory(&self) -> (NonNull<u8>, usize) {
        (self.memory.base, self.memory.len)
    }

    /// Where a device sees the ring, when it was made by [`Ring::create_in`].
    pub fn device_address(&self) -> Option<u64> {
        self.memory.device_address()
    }

    /// A gauge of this ring's length for others to read.
    pub fn gauge(&self) -> RingGauge {
        RingGauge { ring: Gauged::Host(self.memory.clone()) }
    }

    /// Whether a message is waiting: the next slot has announced itself. This reads one cache
    /// line, the one the message is in, and never the producer's `tail` line: reading `tail`
    /// as well (to take several messages per read) measured slower, because the producer
    /// writes `tail` on every message and the line then moves between the cores each time.
    pub fn has_message(&mut self) -> bool {
        let announced = slot_type_id(self.memory.slot(self.head)).load(Ordering::Acquire) != 0;
        if !announced {
            self.publish_head();
        }
        announced
    }

    /// Stores `head` for the producer if it moved since the last store. The consumer does not
    /// store it after every message: the producer reads `head` only when the ring looks full,
    /// and each store would take the line back from it. `try_pop` stores it every
    /// `publish_every` messages (a quarter of the ring at most) and whenever the ring runs
    /// dry; a consumer that stops reading with messages left (a caller that took what it
    /// wanted) must call this, so that the producer sees the room it made.
    ///
    /// The slots being freed are marked empty (`type_id` 0) here too, not when they are read:
    /// a consumer that answers each message before it reads the next (a caller waiting for its
    /// response, then sending again) then writes its next message before it marks the previous
    /// slot empty. Stores become visible in program order, so marking first would make the
    /// next message wait for the marking store to take the slot's line from the producer.
    pub fn publish_head(&mut self) {
        if self.published_head == self.head {
            return;
        }
        for index in self.published_head..self.head {
            // Relaxed: the release store of `head` below orders this before the producer's
            // next write of the slot.
            slot_type_id(self.memory.slot(index)).store(0, Ordering::Relaxed);
        }
        self.published_head = self.head;
        // Release: our reads of the freed slots happen before the producer reuses them.
        self.memory.header().head.store(self.head, Ordering::Release);
    }

    /// Reads one message if there is one: `read` gets the slot header and the payload; the
    /// slot is freed after it returns.
    pub fn try_pop<R>(&mut self, read: impl FnOnce(&SlotHeader, &[u8]) -> R) -> Option<R> {
        if !self.has_message() {
            return None;
        }
        let slot = self.memory.slot(self.head);
        let type_id = slot_type_id(slot);
        // SAFETY: the slot at `head` was published by the producer (its non-zero type id was
        // acquired by `has_message`, stored with release after the slot was written), is not
        // reused before `publish_head` stores a head past it, and holds initialised header
        // fields and `payload_size` payload bytes. `type_id` is read through its atomic only.
        let result = unsafe {
            let header = read_header_fields(slot, type_id.load(Ordering::Relaxed));
            let payload = std::slice::from_raw_parts(
                slot.add(offsets::SLOT_PAYLOAD as usize),
                self.payload_size(),
            );
            read(&header, payload)
        };
        // `publish_head` marks the slot empty for its next lap.
        self.head += 1;
        if self.head - self.published_head >= self.publish_every {
            self.publish_head();
        }
        Some(result)
    }

    /// Messages waiting (may be stale by the time it returns).
    pub fn len(&self) -> u64 {
        // The slot announces itself before `tail` moves: `head` may briefly pass `tail`.
        self.memory.header().tail.load(Ordering::Acquire).saturating_sub(self.head)
    }

    /// Whether no message is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(sequence: u64) -> SlotHeader {
        SlotHeader { type_id: 9, sequence, correlation: sequence * 10, ..SlotHeader::default() }
    }

    #[test]
    fn fills_up_refuses_then_frees() {
        let (mut p, mut c) = Ring::create(4, 8, 9).unwrap();
        for i in 0..4 {
            assert!(p.try_push(header(i), |b| b.copy_from_slice(&i.to_le_bytes())));
        }
        assert!(!p.try_push(header(4), |_| {}), "a full ring refuses");
        assert_eq!(c.len(), 4);
        let first = c
            .try_pop(|h, b| (h.sequence, h.correlation, u64::from_le_bytes(b.try_into().unwrap())));
        assert_eq!(first, Some((0, 0, 0)));
        assert!(p.try_push(header(4), |b| b.copy_from_slice(&4u64.to_le_bytes())));
        let rest: Vec<u64> = std::iter::from_fn(|| c.try_pop(|h, _| h.sequence)).collect();
        assert_eq!(rest, [1, 2, 3, 4]);
        assert!(c.try_pop(|_, _| ()).is_none());
        assert_eq!(c.type_id(), 9);
    }

    #[test]
    fn head_is_stored_lazily_but_always_when_the_consumer_stops() {
        let (mut p, mut c) = Ring::create(8, 8, 9).unwrap(); // publishes every 2 messages
        for i in 0..8 {
            assert!(p.try_push(header(i), |_| {}));
        }
        assert_eq!(c.try_pop(|h, _| h.sequence), Some(0));
        assert!(!p.has_room(), "one read message is not stored for the producer yet");
        c.publish_head();
        assert!(p.try_push(header(8), |_| {}), "after publish_head the producer sees the room");
        assert_eq!(c.try_pop(|h, _| h.sequence), Some(1));
        assert!(!p.has_room());
        assert_eq!(c.try_pop(|h, _| h.sequence), Some(2));
        assert!(p.try_push(header(9), |_| {}), "every second read message stores head");
        assert!(p.try_push(header(10), |_| {}));
        let rest: Vec<u64> = std::iter::from_fn(|| c.try_pop(|h, _| h.sequence)).collect();
        assert_eq!(rest, (3..11).collect::<Vec<_>>());
        assert_eq!(p.len(), 0, "running dry stores head");
    }

    #[test]
    fn a_header_decided_after_the_payload_is_published_with_it() {
        let (mut p, mut c) = Ring::create(4, 8, 9).unwrap();
        let stamped = SlotHeader {
            type_id: 9,
            sequence: 5,
            correlation: 6,
            hlc: 7,
            tenant: 8,
            permissions: 9,
            sender: 10,
            fault: 11,
        };
        assert!(p.try_push_with(|payload| {
            payload.copy_from_slice(&77u64.to_le_bytes());
            stamped
        }));
        let popped = c.try_pop(|h, b| (*h, u64::from_le_bytes(b.try_into().unwrap())));
        assert_eq!(popped, Some((stamped, 77)));
        for i in 0..4 {
            assert!(p.try_push(header(i), |_| {}));
        }
        assert!(!p.try_push_with(|_| unreachable!("a full ring does not call the writer")));
    }

    #[test]
    fn header_matches_the_abi() {
        let (p, _c) = Ring::create(8, 12, 77).unwrap();
        let h = p.memory.header();
        assert_eq!(
            (h.capacity, h.slot_size, h.payload_size, h.type_id, h.abi_version),
            (8, 64, 12, 77, ABI_VERSION)
        );
        assert_eq!(p.memory.base.as_ptr() as usize % CACHE_LINE, 0);
        assert!(Ring::create(6, 4, 1).is_err(), "capacity must be a power of two");
    }

    #[test]
    fn type_id_zero_is_reserved_for_empty_slots() {
        let error = Ring::create(8, 4, 0).err().expect("type id 0 is refused");
        assert!(error.to_string().contains("type id 0 is reserved"), "{error}");
    }

    #[test]
    fn slots_are_marked_empty_after_each_lap() {
        let (mut p, mut c) = Ring::create(2, 8, 5).unwrap();
        for lap in 0..5u64 {
            for i in 0..2 {
                assert!(p.try_push(header(lap * 2 + i), |_| {}));
            }
            let seen: Vec<u64> = std::iter::from_fn(|| c.try_pop(|h, _| h.sequence)).collect();
            assert_eq!(seen, [lap * 2, lap * 2 + 1], "lap {lap}");
            assert!(!c.has_message(), "a read slot must not be read again");
        }
    }

    #[test]
    fn two_threads_pass_a_million_messages_in_order_without_loss() {
        const N: u64 = 1_000_000;
        let (mut p, mut c) = Ring::create(64, 8, 1).unwrap();
        let producer = std::thread::spawn(move || {
            let mut i = 0;
            while i < N {
                if p.try_push(header(i), |b| b.copy_from_slice(&(i ^ 0x5555).to_le_bytes())) {
                    i += 1;
                } else {
                    std::hint::spin_loop();
                }
            }
        });
        let mut expected = 0;
        while expected < N {
            if let Some((seq, value)) =
                c.try_pop(|h, b| (h.sequence, u64::from_le_bytes(b.try_into().unwrap())))
            {
                assert_eq!((seq, value), (expected, expected ^ 0x5555), "out of order or torn");
                expected += 1;
            } else {
                std::hint::spin_loop();
            }
        }
        producer.join().unwrap();
        assert!(c.try_pop(|_, _| ()).is_none());
    }
}
