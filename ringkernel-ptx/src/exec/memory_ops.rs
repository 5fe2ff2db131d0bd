//! Memory instructions' address resolution and atomics (PTX ISA 9.7.9 "Data Movement",
//! 9.7.12 "Parallel Synchronization and Communication": `atom`, `red`).
//!
//! Each state space resolves on its own: `.global`/`.const` through the region table,
//! `.shared` in the CTA's block, `.local` and `.param` in the thread's blocks; a generic
//! address is first matched against the shared, local and param windows, then the table.
//! Every access is checked for alignment (to the access size, the whole vector for `.v2/.v4`)
//! before bounds, as the hardware reports misalignment first.

use std::sync::atomic::Ordering;

use super::{
    Exec, FaultKind, LOCAL_WINDOW, PARAM_WINDOW, SHARED_WINDOW, Thread, WINDOW_SIZE, float,
};
use crate::inst::{AtomOp, FloatMode, FloatOp, ParamCopy, Regs, Round, Space, Ty};
use crate::memory::{Block, load, store, update};

pub(super) fn copy_param(param: &Block, copy: &ParamCopy) {
    for i in 0..u64::from(copy.len) {
        let (from, to) = (u64::from(copy.from) + i, u64::from(copy.to) + i);
        if let (Some(src), Some(dst)) = (param.at(from, 1), param.at(to, 1)) {
            // SAFETY: both pointers come from `Block::at`, inside the block and byte-sized.
            unsafe { store(dst, 1, load(src, 1, Ordering::Relaxed), Ordering::Relaxed) };
        }
    }
}

/// The little-endian word at a param offset (as far as the area reaches).
pub(super) fn param_word(param: &Block, offset: u32) -> u64 {
    let mut v = 0u64;
    for i in 0..8u64 {
        if let Some(p) = param.at(u64::from(offset) + i, 1) {
            // SAFETY: `Block::at` checked bounds; byte access, atomic.
            v |= unsafe { load(p, 1, Ordering::Relaxed) } << (8 * i);
        }
    }
    v
}

/// Stores the low 4 bytes of `value` at a param offset (a `.b32` return value).
pub(super) fn set_param_word(param: &Block, offset: u32, value: u64) {
    for i in 0..4u64 {
        if let Some(p) = param.at(u64::from(offset) + i, 1) {
            // SAFETY: as in `param_word`.
            unsafe { store(p, 1, value >> (8 * i), Ordering::Relaxed) };
        }
    }
}

impl Exec<'_> {
    #[inline(always)]
    pub(super) fn check_align(&self, address: u64, size: u64) -> Result<(), FaultKind> {
        // Sizes are powers of two (1 to 32 bytes).
        if address & (size - 1) == 0 { Ok(()) } else { Err(FaultKind::Misaligned(address, size)) }
    }

    #[inline(always)]
    pub(super) fn resolve(
        &mut self,
        space: Space,
        address: u64,
        size: u64,
        local: &Block,
        param: &Block,
    ) -> Result<*mut u8, FaultKind> {
        let hit = match space {
            Space::Global | Space::Const => self.view.at(address, size),
            Space::Shared => self.shared.at(address, size),
            Space::Local => local.at(address, size),
            Space::Param => param.at(address, size),
            Space::Generic => {
                let window = |base: u64| address.wrapping_sub(base) < WINDOW_SIZE;
                if window(SHARED_WINDOW) {
                    self.shared.at(address - SHARED_WINDOW, size)
                } else if window(LOCAL_WINDOW) {
                    local.at(address - LOCAL_WINDOW, size)
                } else if window(PARAM_WINDOW) {
                    param.at(address - PARAM_WINDOW, size)
                } else {
                    self.view.at(address, size)
                }
            }
        };
        hit.ok_or(FaultKind::Illegal(address))
    }

    /// Alignment, then bounds: the pointer for one `size`-byte access.
    #[inline(always)]
    pub(super) fn locate(
        &mut self,
        space: Space,
        address: u64,
        size: u64,
        local: &Block,
        param: &Block,
    ) -> Result<*mut u8, FaultKind> {
        self.check_align(address, size)?;
        self.resolve(space, address, size, local, param)
    }

    /// `ld.v2/.v4`: the whole vector is aligned to its size, each lane is checked.
    #[inline(never)]
    pub(super) fn load_vector(
        &mut self,
        t: &mut Thread,
        space: Space,
        ty: Ty,
        order: Ordering,
        d: &Regs,
        address: u64,
    ) -> Result<(), FaultKind> {
        let size = ty.bytes();
        self.check_align(address, size * u64::from(d.len))?;
        for (i, &reg) in d.regs[..usize::from(d.len)].iter().enumerate() {
            let ptr = self.resolve(
                space,
                address.wrapping_add(i as u64 * size),
                size,
                &t.local,
                &t.param,
            )?;
            // SAFETY: `resolve` returned a pointer to `size` bytes inside a live region,
            // aligned to `size` (the vector's alignment implies each lane's); all access to
            // that memory is atomic.
            let v = unsafe { load(ptr, size, order) };
            t.regs[reg as usize] = if let Ty::Int(it) = ty { it.extend(v) } else { v };
        }
        Ok(())
    }

    /// `st.v2/.v4`.
    #[inline(never)]
    pub(super) fn store_vector(
        &mut self,
        t: &mut Thread,
        space: Space,
        ty: Ty,
        order: Ordering,
        a: &Regs,
        address: u64,
    ) -> Result<(), FaultKind> {
        let size = ty.bytes();
        self.check_align(address, size * u64::from(a.len))?;
        for (i, &reg) in a.regs[..usize::from(a.len)].iter().enumerate() {
            let ptr = self.resolve(
                space,
                address.wrapping_add(i as u64 * size),
                size,
                &t.local,
                &t.param,
            )?;
            // SAFETY: as in `load_vector`.
            unsafe { store(ptr, size, t.regs[reg as usize], order) };
        }
        Ok(())
    }

    /// `atom`/`red`: returns the old value.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    pub(super) fn atomic(
        &mut self,
        space: Space,
        op: AtomOp,
        ty: Ty,
        order: Ordering,
        address: u64,
        b: u64,
        c: u64,
        local: &Block,
        param: &Block,
    ) -> Result<u64, FaultKind> {
        let size = ty.bytes();
        let ptr = self.locate(space, address, size, local, param)?;
        let mask = if size == 8 { u64::MAX } else { (1u64 << (size * 8)) - 1 };
        let b = b & mask;
        let rn = FloatMode { round: Round::Nearest, ftz: false, sat: false };
        let f = |old: u64| -> Option<u64> {
            Some(match (op, ty) {
                (AtomOp::Add, Ty::Float(ft)) => float::binary(FloatOp::Add, ft, rn, old, b),
                (AtomOp::Min, Ty::Float(ft)) => float::binary(FloatOp::Min, ft, rn, old, b),
                (AtomOp::Max, Ty::Float(ft)) => float::binary(FloatOp::Max, ft, rn, old, b),
                (AtomOp::Add, _) => old.wrapping_add(b) & mask,
                (AtomOp::Min | AtomOp::Max, Ty::Int(it)) => {
                    let less = if it.signed {
                        (it.extend(old) as i64) < (it.extend(b) as i64)
                    } else {
                        old < b
                    };
                    if less == (op == AtomOp::Min) { old } else { b }
                }
                (AtomOp::Inc, _) => {
                    if old >= b {
                        0
                    } else {
                        old + 1
                    }
                }
                (AtomOp::Dec, _) => {
                    if old == 0 || old > b {
                        b
                    } else {
                        old - 1
                    }
                }
                (AtomOp::And, _) => old & b,
                (AtomOp::Or, _) => old | b,
                (AtomOp::Xor, _) => old ^ b,
                (AtomOp::Exch, _) => b,
                (AtomOp::Cas, _) => {
                    if old == b {
                        c & mask
                    } else {
                        return None;
                    }
                }
                _ => old,
            })
        };
        // SAFETY: `resolve` checked bounds, `check_align` alignment; the memory is only ever
        // accessed atomically (module docs of `memory`).
        let old = unsafe { update(ptr, size, order, f) };
        Ok(if let Ty::Int(it) = ty { it.extend(old) } else { old })
    }
}
