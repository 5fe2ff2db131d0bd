//! The sandboxed device address space and the one way memory is touched.
//!
//! # Regions
//! Device memory is a table of regions: allocations the VM owns (`alloc`) and host ranges the
//! caller mapped in (`map_host`). Each region starts on a 256-byte boundary and is followed by
//! a 64 KiB hole, so running off the end of one faults instead of reaching the next. Address 0
//! and everything below the first region are never valid.
//!
//! # Access
//! Every byte is read and written through atomics (`AtomicU8..AtomicU64`), sized and aligned
//! like the PTX access: host threads may touch mapped memory while a kernel runs, and with
//! atomics that is never a data race. A plain PTX `ld`/`st` is a relaxed atomic (on x86-64 and
//! AArch64 the same instruction as a plain access); `.acquire`, `.release` and `atom`'s orders
//! map to the Rust ordering of the same name; `.sc` and `fence.sc` to `SeqCst`.
//!
//! A running kernel reads the region table through a snapshot ([`View`]) and only looks at the
//! shared table again when an address misses, so the table costs nothing per access.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64, Ordering};

use parking_lot::{Mutex, RwLock};

use crate::error::MemoryError;

/// Alignment of every region's base address.
pub const REGION_ALIGN: u64 = 256;
/// Unmapped bytes after every region.
const GUARD: u64 = 64 * 1024;
/// First device address handed out.
const FIRST_ADDRESS: u64 = 0x1_0000_0000;
/// Largest single region.
const MAX_REGION: u64 = 1 << 36;

/// Zero-filled memory the VM owns, 8-byte aligned, accessed only through atomics.
pub(crate) struct Block(Box<[AtomicU64]>);

impl Block {
    pub fn new(len: u64) -> Result<Block, MemoryError> {
        let oom = MemoryError::OutOfMemory { len };
        let words = usize::try_from(len.div_ceil(8)).map_err(|_| oom.clone())?.max(1);
        let layout = std::alloc::Layout::array::<AtomicU64>(words).map_err(|_| oom.clone())?;
        // SAFETY: the layout has a non-zero size (at least one word).
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<AtomicU64>();
        if ptr.is_null() {
            return Err(oom);
        }
        // SAFETY: `ptr` is a fresh allocation of `words` zeroed words with the layout of
        // `[AtomicU64; words]` (all-zero bytes are a valid AtomicU64) made by the global
        // allocator, so the Box may own and free it. Zeroed pages are mapped lazily, so a
        // large allocation costs nothing until it is touched.
        Ok(Block(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, words)) }))
    }

    pub fn ptr(&self) -> *mut u8 {
        self.0.as_ptr() as *mut u8
    }

    pub fn len(&self) -> u64 {
        self.0.len() as u64 * 8
    }

    /// Byte `offset..offset + size` as a pointer, if inside and aligned to `size`.
    #[inline(always)]
    pub fn at(&self, offset: u64, size: u64) -> Option<*mut u8> {
        (offset.checked_add(size)? <= self.len() && offset & (size - 1) == 0)
            .then(|| self.ptr().wrapping_add(offset as usize))
    }

    /// Overwrites the block's first words with `words`.
    pub fn fill_from(&self, words: &[u64]) {
        for (w, v) in self.0.iter().zip(words) {
            w.store(*v, Ordering::Relaxed);
        }
    }

    pub fn zero(&self) {
        for w in self.0.iter() {
            w.store(0, Ordering::Relaxed);
        }
    }
}

/// Loads `size` bytes (1, 2, 4 or 8) little-endian, zero-extended.
///
/// # Safety
/// `ptr` must be valid for `size` bytes, aligned to `size`, and every concurrent access to
/// those bytes must be atomic.
#[inline(always)]
pub(crate) unsafe fn load(ptr: *const u8, size: u64, order: Ordering) -> u64 {
    // SAFETY: the caller guarantees validity, alignment and atomic-only concurrent access;
    // the atomic types have the size and alignment of the integers they wrap.
    unsafe {
        match size {
            1 => u64::from((*ptr.cast::<AtomicU8>()).load(order)),
            2 => u64::from((*ptr.cast::<AtomicU16>()).load(order)),
            4 => u64::from((*ptr.cast::<AtomicU32>()).load(order)),
            _ => (*ptr.cast::<AtomicU64>()).load(order),
        }
    }
}

/// Stores the low `size` bytes of `value`.
///
/// # Safety
/// As for [`load`].
#[inline(always)]
pub(crate) unsafe fn store(ptr: *mut u8, size: u64, value: u64, order: Ordering) {
    // SAFETY: as for `load`.
    unsafe {
        match size {
            1 => (*ptr.cast::<AtomicU8>()).store(value as u8, order),
            2 => (*ptr.cast::<AtomicU16>()).store(value as u16, order),
            4 => (*ptr.cast::<AtomicU32>()).store(value as u32, order),
            _ => (*ptr.cast::<AtomicU64>()).store(value, order),
        }
    }
}

/// Atomically replaces the value with `f(old)` (`None`: leave it) and returns the old value.
///
/// # Safety
/// As for [`load`]; `size` is 2, 4 or 8.
#[inline]
pub(crate) unsafe fn update(
    ptr: *mut u8,
    size: u64,
    order: Ordering,
    f: impl Fn(u64) -> Option<u64>,
) -> u64 {
    let fail = match order {
        Ordering::Release | Ordering::Relaxed => Ordering::Relaxed,
        Ordering::AcqRel => Ordering::Acquire,
        o => o,
    };
    // SAFETY: as for `load`.
    unsafe {
        match size {
            2 => {
                let a = &*ptr.cast::<AtomicU16>();
                match a.fetch_update(order, fail, |v| f(u64::from(v)).map(|n| n as u16)) {
                    Ok(v) | Err(v) => u64::from(v),
                }
            }
            4 => {
                let a = &*ptr.cast::<AtomicU32>();
                match a.fetch_update(order, fail, |v| f(u64::from(v)).map(|n| n as u32)) {
                    Ok(v) | Err(v) => u64::from(v),
                }
            }
            _ => {
                let a = &*ptr.cast::<AtomicU64>();
                match a.fetch_update(order, fail, f) {
                    Ok(v) | Err(v) => v,
                }
            }
        }
    }
}

#[derive(Clone)]
pub(crate) struct Region {
    pub base: u64,
    pub len: u64,
    ptr: *mut u8,
    /// Keeps VM-owned memory alive while any snapshot can reach it; `None` for host ranges.
    _owner: Option<Arc<Block>>,
}

// SAFETY: a Region is a pointer plus bounds; all access through it is atomic (see the module
// docs), VM-owned memory is kept alive by the Arc, and mapped host memory by the contract of
// `Vm::map_host`.
unsafe impl Send for Region {}
// SAFETY: as above; shared references only hand out the pointer for atomic access.
unsafe impl Sync for Region {}

impl Region {
    /// Pointer to `[address, address + size)` if it lies inside this region.
    #[inline]
    fn at(&self, address: u64, size: u64) -> Option<*mut u8> {
        let offset = address.checked_sub(self.base)?;
        (offset.checked_add(size)? <= self.len).then(|| self.ptr.wrapping_add(offset as usize))
    }
}

#[derive(Default)]
pub(crate) struct Table {
    generation: u64,
    regions: Vec<Region>,
}

impl Table {
    fn find(&self, address: u64) -> Option<usize> {
        let i = self.regions.partition_point(|r| r.base <= address);
        (i > 0 && address - self.regions[i - 1].base < self.regions[i - 1].len.max(1))
            .then(|| i - 1)
    }
}

/// The VM's address space: the region table and the next free address.
pub(crate) struct AddressSpace {
    table: RwLock<Arc<Table>>,
    next: Mutex<u64>,
}

impl AddressSpace {
    pub fn new() -> AddressSpace {
        AddressSpace {
            table: RwLock::new(Arc::new(Table::default())),
            next: Mutex::new(FIRST_ADDRESS),
        }
    }

    fn insert(
        &self,
        len: u64,
        ptr: *mut u8,
        owner: Option<Arc<Block>>,
    ) -> Result<u64, MemoryError> {
        if len == 0 || len > MAX_REGION {
            return Err(MemoryError::OutOfMemory { len });
        }
        let mut next = self.next.lock();
        let base = *next;
        let end = base
            .checked_add(len.div_ceil(REGION_ALIGN) * REGION_ALIGN + GUARD)
            .filter(|e| *e < 1 << 56)
            .ok_or(MemoryError::OutOfMemory { len })?;
        *next = end;
        let mut table = self.table.write();
        let mut new = Table { generation: table.generation + 1, regions: table.regions.clone() };
        new.regions.push(Region { base, len, ptr, _owner: owner });
        *table = Arc::new(new);
        Ok(base)
    }

    pub fn alloc(&self, len: u64) -> Result<u64, MemoryError> {
        if len == 0 || len > MAX_REGION {
            return Err(MemoryError::OutOfMemory { len });
        }
        let block = Arc::new(Block::new(len)?);
        let ptr = block.ptr();
        self.insert(len, ptr, Some(block))
    }

    /// # Safety
    /// See [`crate::Vm::map_host`].
    pub unsafe fn map_host(&self, ptr: *mut u8, len: u64) -> Result<u64, MemoryError> {
        if ptr.is_null() || (ptr as usize) % 8 != 0 {
            return Err(MemoryError::BadHostPointer { pointer: ptr as usize });
        }
        self.insert(len, ptr, None)
    }

    pub fn remove(&self, address: u64) -> Result<(), MemoryError> {
        let mut table = self.table.write();
        let Some(i) = table.regions.iter().position(|r| r.base == address) else {
            return Err(MemoryError::NotARegion { address });
        };
        let mut regions = table.regions.clone();
        regions.remove(i);
        *table = Arc::new(Table { generation: table.generation + 1, regions });
        Ok(())
    }

    pub fn snapshot(&self) -> Arc<Table> {
        self.table.read().clone()
    }

    /// The region holding all of `[address, address + len)`.
    fn region(&self, address: u64, len: u64) -> Result<Region, MemoryError> {
        let table = self.snapshot();
        let err = MemoryError::OutOfBounds { address, len };
        let r = table.find(address).map(|i| table.regions[i].clone()).ok_or(err.clone())?;
        r.at(address, len.max(1)).ok_or(err)?;
        Ok(r)
    }

    /// Copies host bytes into device memory (relaxed atomics, widest aligned steps).
    pub fn write(&self, address: u64, bytes: &[u8]) -> Result<(), MemoryError> {
        let region = self.region(address, bytes.len() as u64)?;
        let mut i = 0usize;
        while i < bytes.len() {
            let a = address + i as u64;
            let step = if a % 8 == 0 && bytes.len() - i >= 8 { 8 } else { 1 };
            let mut word = [0u8; 8];
            word[..step].copy_from_slice(&bytes[i..i + step]);
            let p = region.at(a, step as u64).expect("inside the checked range");
            // SAFETY: inside the region (checked above), aligned to `step`, atomic access.
            unsafe { store(p, step as u64, u64::from_le_bytes(word), Ordering::Relaxed) };
            i += step;
        }
        Ok(())
    }

    /// Copies device memory into host bytes.
    pub fn read(&self, address: u64, out: &mut [u8]) -> Result<(), MemoryError> {
        let region = self.region(address, out.len() as u64)?;
        let mut i = 0usize;
        while i < out.len() {
            let a = address + i as u64;
            let step = if a % 8 == 0 && out.len() - i >= 8 { 8 } else { 1 };
            let p = region.at(a, step as u64).expect("inside the checked range");
            // SAFETY: as in `write`.
            let v = unsafe { load(p, step as u64, Ordering::Relaxed) };
            out[i..i + step].copy_from_slice(&v.to_le_bytes()[..step]);
            i += step;
        }
        Ok(())
    }
}

/// A kernel thread's view of the region table: a snapshot plus the last two regions hit
/// (kernels typically stream through two or three buffers at once).
pub(crate) struct View<'a> {
    space: &'a AddressSpace,
    table: Arc<Table>,
    recent: [usize; 2],
}

impl<'a> View<'a> {
    pub fn new(space: &'a AddressSpace) -> View<'a> {
        View { space, table: space.snapshot(), recent: [0, 0] }
    }

    /// Pointer for a `size`-byte access at `address`; `None` when no region holds it all.
    #[inline(always)]
    pub fn at(&mut self, address: u64, size: u64) -> Option<*mut u8> {
        for i in self.recent {
            if let Some(p) = self.table.regions.get(i).and_then(|r| r.at(address, size)) {
                return Some(p);
            }
        }
        self.slow(address, size)
    }

    #[cold]
    fn slow(&mut self, address: u64, size: u64) -> Option<*mut u8> {
        for refresh in [false, true] {
            if refresh {
                let latest = self.space.snapshot();
                if latest.generation == self.table.generation {
                    return None;
                }
                self.table = latest;
            }
            if let Some(i) = self.table.find(address) {
                if let Some(p) = self.table.regions[i].at(address, size) {
                    self.recent = [i, self.recent[0]];
                    return Some(p);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_aligned_guarded_and_checked() {
        let s = AddressSpace::new();
        let a = s.alloc(100).unwrap();
        let b = s.alloc(8).unwrap();
        assert_eq!(a % REGION_ALIGN, 0);
        assert!(b >= a + 100 + GUARD);
        s.write(a, &[7; 100]).unwrap();
        let mut out = [0u8; 3];
        s.read(a + 97, &mut out).unwrap();
        assert_eq!(out, [7, 7, 7]);
        assert!(s.read(a + 98, &mut out).is_err());
        assert!(s.write(0, &[1]).is_err());
        let mut v = View::new(&s);
        assert!(v.at(a + 96, 4).is_some());
        assert!(v.at(a + 100, 1).is_none());
        assert!(v.at(b, 8).is_some());
        s.remove(b).unwrap();
        assert!(s.remove(b).is_err());
        assert_eq!(s.alloc(0), Err(MemoryError::OutOfMemory { len: 0 }));
    }

    #[test]
    fn large_allocations_are_lazy_and_too_large_ones_are_errors() {
        let s = AddressSpace::new();
        let big = s.alloc(1 << 30).unwrap(); // zeroed pages, not touched
        let mut last = [1u8];
        s.read(big + (1 << 30) - 1, &mut last).unwrap();
        assert_eq!(last, [0]);
        s.remove(big).unwrap();
        assert_eq!(s.alloc(1 << 40), Err(MemoryError::OutOfMemory { len: 1 << 40 }));
    }

    #[test]
    fn a_view_sees_regions_added_after_it_was_taken() {
        let s = AddressSpace::new();
        let mut v = View::new(&s);
        let a = s.alloc(16).unwrap();
        assert!(v.at(a, 8).is_some());
    }
}
