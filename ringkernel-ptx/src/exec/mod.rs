//! The interpreter loop: one thread runs until it exits, reaches a collective, faults or
//! uses up its time slice. One `match` over the decoded [`Op`]; the families' arithmetic lives
//! in the submodules, memory access in [`Exec::resolve`], collectives in [`crate::sched`].

pub(crate) mod cvt;
pub(crate) mod float;
pub(crate) mod int;
mod memory_ops;
mod printf;

use std::sync::atomic::{Ordering, fence};

use crate::inst::*;
use crate::memory::{Block, View};
use crate::module::ModuleData;

/// Generic-address windows of the per-CTA and per-thread state spaces (ISA 5.1.6: generic
/// addressing). Global regions all lie below 2^46, so the windows never overlap them.
pub(crate) const PARAM_WINDOW: u64 = 0x7d00_0000_0000;
pub(crate) const SHARED_WINDOW: u64 = 0x7e00_0000_0000;
pub(crate) const LOCAL_WINDOW: u64 = 0x7f00_0000_0000;
pub(crate) const WINDOW_SIZE: u64 = 1 << 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Ready,
    /// Parked at a collective (the pc names it) until the scheduler completes it.
    Waiting,
    Exited,
}

/// What ended a run of one thread.
#[derive(Debug)]
pub(crate) enum Stop {
    Exit,
    Collective,
    Yield,
    /// At a `nanosleep`: the scheduler idles the host thread (see [`idle`]), then as `Yield`.
    Sleep,
    Fault(FaultKind),
}

#[derive(Debug)]
pub(crate) enum FaultKind {
    Illegal(u64),
    Misaligned(u64, u64),
    Trap,
    Unsupported(String),
}

/// One thread's architectural state.
pub(crate) struct Thread {
    pub regs: Vec<u64>,
    pub pc: u32,
    /// Call stack: (pc of the `call`, callee).
    pub stack: Vec<(u32, u32)>,
    pub on_stack: Vec<bool>,
    pub carry: bool,
    pub local: Block,
    pub param: Block,
    pub tid: [u32; 3],
    pub lane: u32,
    pub status: Status,
    pub executed: u64,
    /// `executed` at the last `nanosleep`, the instructions between the last two, and how
    /// many `nanosleep`s in a row came the same short distance after the previous one (a
    /// thread that only polls: its polling loop runs the same instructions every round).
    pub last_sleep: u64,
    pub last_gap: u32,
    pub idle_streak: u32,
}

/// The longest polling loop (instructions between two `nanosleep`s) that counts as idle.
const POLL_WINDOW: u64 = 256;
/// Polls in a row after which a `nanosleep` really sleeps.
const IDLE_STREAK: u32 = 20_000;
/// How long it then sleeps.
const IDLE_SLEEP: std::time::Duration = std::time::Duration::from_micros(50);

/// `nanosleep`: yield the host thread, so a polling kernel reacts within a scheduling
/// quantum; once the thread has done nothing but poll for [`IDLE_STREAK`] rounds (about 20
/// ms), sleep [`IDLE_SLEEP`] per round instead, so an idle persistent kernel stops burning
/// a host core. Any round that differs from the polling loop's (real work between two
/// `nanosleep`s) resets the streak.
/// The scheduler calls it when a thread stopped at a `nanosleep` ([`Stop::Sleep`]): keeping
/// it out of the run loop keeps that loop's code as it was.
#[cold]
#[inline(never)]
pub(crate) fn idle(t: &mut Thread) {
    let now = t.executed;
    // Gaps above POLL_WINDOW never count, so clamping them loses nothing.
    let gap = (now - t.last_sleep).min(u64::from(u32::MAX)) as u32;
    t.idle_streak = next_streak(t.idle_streak, t.last_gap, gap);
    t.last_gap = gap;
    t.last_sleep = now;
    if t.idle_streak > IDLE_STREAK {
        std::thread::sleep(IDLE_SLEEP);
    } else {
        std::thread::yield_now();
    }
}

/// The idle streak after a `nanosleep` that came `gap` instructions after the previous one
/// (which came `last_gap` after its own). A round that did work (handled a message) runs more
/// instructions than a bare poll, however little the work: comparing with the previous gap
/// tells them apart where a fixed threshold would not (a one-line handler is shorter than
/// many polling loops).
fn next_streak(streak: u32, last_gap: u32, gap: u32) -> u32 {
    if u64::from(gap) <= POLL_WINDOW && gap == last_gap { streak.saturating_add(1) } else { 0 }
}

/// What a thread runs against: the program, the address space, its CTA's shared memory.
pub(crate) struct Exec<'a> {
    pub module: &'a ModuleData,
    pub view: View<'a>,
    pub shared: &'a Block,
    /// Where device-side `printf` writes (see `printf.rs`).
    pub output: &'a parking_lot::Mutex<String>,
}

#[inline]
fn ordering(order: Order, load: bool) -> Ordering {
    match order {
        Order::Weak | Order::Relaxed => Ordering::Relaxed,
        Order::Acquire => Ordering::Acquire,
        Order::Release => Ordering::Release,
        Order::AcqRel if load => Ordering::Acquire,
        Order::AcqRel => Ordering::AcqRel,
        Order::SeqCst => Ordering::SeqCst,
    }
}

#[inline]
pub(crate) fn int_compare(cmp: Cmp, ty: IntTy, a: u64, b: u64) -> bool {
    let (ua, ub) = (a & ty.mask(), b & ty.mask());
    let s = IntTy { signed: true, ..ty };
    let (sa, sb) = (s.extend(a) as i64, s.extend(b) as i64);
    let signed = ty.signed;
    match cmp {
        Cmp::Eq | Cmp::Equ => ua == ub,
        Cmp::Ne | Cmp::Neu => ua != ub,
        Cmp::Lt | Cmp::Ltu => {
            if signed {
                sa < sb
            } else {
                ua < ub
            }
        }
        Cmp::Le | Cmp::Leu => {
            if signed {
                sa <= sb
            } else {
                ua <= ub
            }
        }
        Cmp::Gt | Cmp::Gtu => {
            if signed {
                sa > sb
            } else {
                ua > ub
            }
        }
        Cmp::Ge | Cmp::Geu => {
            if signed {
                sa >= sb
            } else {
                ua >= ub
            }
        }
        Cmp::Lo => ua < ub,
        Cmp::Ls => ua <= ub,
        Cmp::Hi => ua > ub,
        Cmp::Hs => ua >= ub,
        Cmp::Num => true,
        Cmp::Nan => false,
    }
}

#[inline]
pub(crate) fn compare(cmp: Cmp, ty: Ty, ftz: bool, a: u64, b: u64) -> bool {
    match ty {
        Ty::Int(i) => int_compare(cmp, i, a, b),
        Ty::Float(f) => float::compare(cmp, f, ftz, a, b),
        Ty::Pred => false,
    }
}

fn combine(r: bool, with: Option<(BoolOp, Reg, bool)>, regs: &[u64]) -> (bool, bool) {
    match with {
        None => (r, !r),
        Some((op, c, negated)) => {
            let c = (regs[c as usize] & 1 == 1) != negated;
            let f = |x: bool| match op {
                BoolOp::And => x && c,
                BoolOp::Or => x || c,
                BoolOp::Xor => x != c,
            };
            (f(r), f(!r))
        }
    }
}

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

impl Exec<'_> {
    /// Runs `t` for at most `limit` instructions.
    pub fn run(&mut self, t: &mut Thread, limit: u64) -> Stop {
        let code = &self.module.code[..];
        let mut pc = t.pc as usize;
        let mut n = 0u64;
        let stop = loop {
            if n >= limit {
                break Stop::Yield;
            }
            let Some(inst) = code.get(pc) else {
                break Stop::Fault(FaultKind::Unsupported(
                    "execution ran past the end of the program".into(),
                ));
            };
            n += 1;
            let regs = &mut t.regs[..];
            if inst.guard != SINK && ((regs[inst.guard as usize] & 1 == 1) == inst.guard_negated) {
                pc += 1;
                continue;
            }
            macro_rules! r {
                ($x:expr) => {
                    regs[$x as usize]
                };
            }
            match &inst.op {
                Op::Mov { d, a, mask } => r!(*d) = r!(*a) & mask,
                Op::Int { op, ty, d, a, b } => r!(*d) = int::binary(*op, *ty, r!(*a), r!(*b)),
                Op::Add32 { d, a, b } => {
                    r!(*d) = u64::from((r!(*a) as u32).wrapping_add(r!(*b) as u32))
                }
                Op::Add64 { d, a, b } => r!(*d) = r!(*a).wrapping_add(r!(*b)),
                Op::Sub32 { d, a, b } => {
                    r!(*d) = u64::from((r!(*a) as u32).wrapping_sub(r!(*b) as u32))
                }
                Op::Sub64 { d, a, b } => r!(*d) = r!(*a).wrapping_sub(r!(*b)),
                Op::MulLo32 { d, a, b } => {
                    r!(*d) = u64::from((r!(*a) as u32).wrapping_mul(r!(*b) as u32))
                }
                Op::MulLo64 { d, a, b } => r!(*d) = r!(*a).wrapping_mul(r!(*b)),
                Op::And32 { d, a, b } => r!(*d) = (r!(*a) & r!(*b)) & 0xffff_ffff,
                Op::And64 { d, a, b } => r!(*d) = r!(*a) & r!(*b),
                Op::Or32 { d, a, b } => r!(*d) = (r!(*a) | r!(*b)) & 0xffff_ffff,
                Op::Or64 { d, a, b } => r!(*d) = r!(*a) | r!(*b),
                Op::Xor32 { d, a, b } => r!(*d) = (r!(*a) ^ r!(*b)) & 0xffff_ffff,
                Op::Xor64 { d, a, b } => r!(*d) = r!(*a) ^ r!(*b),
                // Shift amounts are a full u32 and clamp at the width (ISA 9.7.8.7).
                Op::Shl32 { d, a, b } => {
                    let n = r!(*b) & 0xffff_ffff;
                    r!(*d) = if n >= 32 { 0 } else { (r!(*a) << n) & 0xffff_ffff };
                }
                Op::Shl64 { d, a, b } => {
                    let n = r!(*b) & 0xffff_ffff;
                    r!(*d) = if n >= 64 { 0 } else { r!(*a) << n };
                }
                Op::Setp { cmp, ty, ftz, p, q, a, b, combine: with } => {
                    let (x, y) = combine(compare(*cmp, *ty, *ftz, r!(*a), r!(*b)), *with, regs);
                    regs[*p as usize] = u64::from(x);
                    regs[*q as usize] = u64::from(y);
                }
                Op::Bra { target } => {
                    pc = *target as usize;
                    continue;
                }
                Op::Ld { space, ty, order, d, addr } => {
                    let address = r!(addr.base).wrapping_add(addr.offset as i64 as u64);
                    if let Err(k) =
                        self.load_vector(t, *space, *ty, ordering(*order, true), d, address)
                    {
                        break Stop::Fault(k);
                    }
                }
                Op::St { space, ty, order, a, addr } => {
                    let address = r!(addr.base).wrapping_add(addr.offset as i64 as u64);
                    if let Err(k) =
                        self.store_vector(t, *space, *ty, ordering(*order, false), a, address)
                    {
                        break Stop::Fault(k);
                    }
                }
                Op::LdScalar { space, size, signed, order, d, addr } => {
                    let address = r!(addr.base).wrapping_add(addr.offset as i64 as u64);
                    let size = u64::from(*size);
                    let ptr = match self.locate(*space, address, size, &t.local, &t.param) {
                        Ok(p) => p,
                        Err(k) => break Stop::Fault(k),
                    };
                    // SAFETY: `resolve` returned a pointer to `size` bytes inside a live
                    // region, aligned to `size`; all access to that memory is atomic.
                    let v = unsafe { crate::memory::load(ptr, size, ordering(*order, true)) };
                    let shift = 64 - 8 * size as u32;
                    t.regs[*d as usize] =
                        if *signed { (((v << shift) as i64) >> shift) as u64 } else { v };
                }
                Op::StScalar { space, size, order, a, addr } => {
                    let address = r!(addr.base).wrapping_add(addr.offset as i64 as u64);
                    let value = r!(*a);
                    let size = u64::from(*size);
                    let ptr = match self.locate(*space, address, size, &t.local, &t.param) {
                        Ok(p) => p,
                        Err(k) => break Stop::Fault(k),
                    };
                    // SAFETY: as for `LdScalar`.
                    unsafe { crate::memory::store(ptr, size, value, ordering(*order, false)) };
                }
                Op::SignExtend { from_bits, mask, d, a } => {
                    let shift = 64 - u32::from(*from_bits);
                    r!(*d) = ((((r!(*a) << shift) as i64) >> shift) as u64) & mask;
                }
                Op::Selp { d, a, b, p } => r!(*d) = if r!(*p) & 1 == 1 { r!(*a) } else { r!(*b) },
                Op::Cvt { dty, sty, round, integral, ftz, sat, d, a } => {
                    r!(*d) = cvt::cvt(*dty, *sty, *round, *integral, *ftz, *sat, r!(*a))
                }
                Op::Float { op, ty, mode, d, a, b } => {
                    r!(*d) = float::binary(*op, *ty, *mode, r!(*a), r!(*b))
                }
                Op::Fma { ty, mode, d, a, b, c } => {
                    r!(*d) = float::fma(*ty, *mode, r!(*a), r!(*b), r!(*c))
                }
                Op::FloatUn { op, ty, mode, d, a } => {
                    r!(*d) = float::unary(*op, *ty, *mode, r!(*a))
                }
                Op::IntUn { op, ty, d, a } => r!(*d) = int::unary(*op, *ty, r!(*a)),
                Op::IntCarry { op, carry, ty, d, a, b } => {
                    let (v, cf) = int::carry(*op, *carry, *ty, r!(*a), r!(*b), t.carry);
                    t.regs[*d as usize] = v;
                    if carry.write {
                        t.carry = cf;
                    }
                }
                Op::MulWide { ty, d, a, b } => {
                    r!(*d) = int::mul_wide(*ty, r!(*a), r!(*b)) & wide_mask(*ty)
                }
                Op::Mad { hi, ty, d, a, b, c } => {
                    let op = if *hi { IntOp::MulHi } else { IntOp::MulLo };
                    let p = int::binary(op, *ty, r!(*a), r!(*b));
                    r!(*d) = int::binary(IntOp::Add, *ty, p, r!(*c));
                }
                Op::MadWide { ty, d, a, b, c } => {
                    r!(*d) =
                        int::mul_wide(*ty, r!(*a), r!(*b)).wrapping_add(r!(*c)) & wide_mask(*ty)
                }
                Op::Mul24 { hi, ty, d, a, b } => r!(*d) = int::mul24(*hi, *ty, r!(*a), r!(*b)),
                Op::Sad { ty, d, a, b, c } => r!(*d) = int::sad(*ty, r!(*a), r!(*b), r!(*c)),
                Op::Bfe { ty, d, a, pos, len } => {
                    r!(*d) = int::bfe(*ty, r!(*a), r!(*pos), r!(*len))
                }
                Op::Bfi { ty, d, a, b, pos, len } => {
                    r!(*d) = int::bfi(*ty, r!(*a), r!(*b), r!(*pos), r!(*len))
                }
                Op::Prmt { d, a, b, c, mode } => r!(*d) = int::prmt(r!(*a), r!(*b), r!(*c), *mode),
                Op::PredBin { op, d, a, b } => {
                    let (x, y) = (r!(*a) & 1 == 1, r!(*b) & 1 == 1);
                    r!(*d) = u64::from(match op {
                        BoolOp::And => x && y,
                        BoolOp::Or => x || y,
                        BoolOp::Xor => x != y,
                    });
                }
                Op::PredNot { d, a } => r!(*d) = u64::from(r!(*a) & 1 == 0),
                Op::Set { cmp, ty, dty, d, a, b, combine: with } => {
                    let (x, _) = combine(compare(*cmp, *ty, false, r!(*a), r!(*b)), *with, regs);
                    r!(*d) = match (x, dty) {
                        (false, _) => 0,
                        (true, Ty::Float(FloatTy::F32)) => u64::from(1.0f32.to_bits()),
                        (true, Ty::Float(FloatTy::F64)) => 1.0f64.to_bits(),
                        (true, Ty::Int(i)) => i.mask(),
                        (true, Ty::Pred) => 1,
                    };
                }
                Op::Slct { ty, cty, d, a, b, c } => {
                    let take_a = match cty {
                        Ty::Float(FloatTy::F32) => f32::from_bits(r!(*c) as u32) >= 0.0,
                        _ => (r!(*c) as u32 as i32) >= 0,
                    };
                    let _ = ty;
                    r!(*d) = if take_a { r!(*a) } else { r!(*b) };
                }
                Op::MovDynamic { d, which } => {
                    let lane = t.lane;
                    let lt = (1u64 << lane) - 1;
                    r!(*d) = match which {
                        Dynamic::Clock => (t.executed + n) & 0xffff_ffff,
                        Dynamic::Clock64 => t.executed + n,
                        Dynamic::GlobalTimer => now_nanos(),
                        Dynamic::LaneMaskEq => 1 << lane,
                        Dynamic::LaneMaskLt => lt,
                        Dynamic::LaneMaskLe => lt | 1 << lane,
                        Dynamic::LaneMaskGe => !lt & 0xffff_ffff,
                        Dynamic::LaneMaskGt => !(lt | 1 << lane) & 0xffff_ffff,
                    };
                }
                Op::Pack { d, parts, part_bits } => {
                    let pm = (1u64 << part_bits) - 1;
                    let mut v = 0u64;
                    for i in 0..parts.len as usize {
                        v |= (r!(parts.regs[i]) & pm) << (i as u32 * u32::from(*part_bits));
                    }
                    r!(*d) = v;
                }
                Op::Unpack { parts, a, part_bits } => {
                    let pm = (1u64 << part_bits) - 1;
                    let v = r!(*a);
                    for i in 0..parts.len as usize {
                        r!(parts.regs[i]) = (v >> (i as u32 * u32::from(*part_bits))) & pm;
                    }
                }
                Op::Cvta { space, to_generic, d, a } => {
                    let window = match space {
                        Space::Shared => SHARED_WINDOW,
                        Space::Local => LOCAL_WINDOW,
                        Space::Param => PARAM_WINDOW,
                        _ => 0,
                    };
                    let v = r!(*a);
                    r!(*d) =
                        if *to_generic { v.wrapping_add(window) } else { v.wrapping_sub(window) };
                }
                Op::Atom { space, op, ty, order, d, addr, b, c } => {
                    let address = r!(addr.base).wrapping_add(addr.offset as i64 as u64);
                    let (bv, cv) = (r!(*b), r!(*c));
                    match self.atomic(
                        *space,
                        *op,
                        *ty,
                        ordering(*order, false),
                        address,
                        bv,
                        cv,
                        &t.local,
                        &t.param,
                    ) {
                        Ok(old) => t.regs[*d as usize] = old,
                        Err(k) => break Stop::Fault(k),
                    }
                }
                Op::Fence { order } => fence(ordering(*order, false)),
                Op::Bar { .. }
                | Op::Shfl { .. }
                | Op::Vote { .. }
                | Op::Activemask { .. }
                | Op::WarpSync { .. } => {
                    break Stop::Collective;
                }
                Op::Call(site) => {
                    let f = &self.module.functions[site.func as usize];
                    if !f.defined && f.name == "vprintf" && f.params.len() == 2 && f.rets.len() == 1
                    {
                        if let Err(k) = self.call_vprintf(t, site) {
                            break Stop::Fault(k);
                        }
                        pc += 1;
                        continue;
                    }
                    if !f.defined {
                        break Stop::Fault(FaultKind::Unsupported(format!(
                            "call to `{}`, which has no body",
                            f.name
                        )));
                    }
                    // Registers, params and locals have one static place per function: a
                    // recursive call would overwrite its caller's.
                    if t.on_stack[site.func as usize] {
                        break Stop::Fault(FaultKind::Unsupported(format!(
                            "recursive call to `{}`",
                            f.name
                        )));
                    }
                    if t.stack.len() >= 1024 {
                        break Stop::Fault(FaultKind::Unsupported(
                            "call stack deeper than 1024".into(),
                        ));
                    }
                    for copy in &site.args {
                        memory_ops::copy_param(&t.param, copy);
                    }
                    t.on_stack[site.func as usize] = true;
                    t.stack.push((pc as u32, site.func));
                    pc = f.start as usize;
                    continue;
                }
                Op::Ret => match t.stack.pop() {
                    None => break Stop::Exit,
                    Some((call_pc, func)) => {
                        t.on_stack[func as usize] = false;
                        if let Op::Call(site) = &code[call_pc as usize].op {
                            for copy in &site.rets {
                                memory_ops::copy_param(&t.param, copy);
                            }
                        }
                        pc = call_pc as usize + 1;
                        continue;
                    }
                },
                Op::Exit => break Stop::Exit,
                Op::Trap => break Stop::Fault(FaultKind::Trap),
                Op::Nanosleep => {
                    pc += 1;
                    break Stop::Sleep;
                }
                Op::Nop => {}
            }
            pc += 1;
        };
        t.pc = pc as u32;
        t.executed += n;
        stop
    }
}

fn wide_mask(ty: IntTy) -> u64 {
    if ty.bits >= 32 { u64::MAX } else { (1u64 << (ty.bits * 2)) - 1 }
}

#[cfg(test)]
mod idle_tests {
    use super::*;

    #[test]
    fn only_identical_short_rounds_count_as_polling() {
        let (mut streak, mut last) = (0, 0);
        let mut round = |gap: u32| {
            streak = next_streak(streak, last, gap);
            last = gap;
            streak
        };
        round(8);
        assert_eq!((1..=5).map(|_| round(8)).last(), Some(5), "a bare polling loop");
        const LONG: u32 = POLL_WINDOW as u32 + 1;
        assert_eq!(round(8 + 30), 0, "a round that handled a message resets the streak");
        assert_eq!(round(8), 0, "the first poll after it is compared with the work round");
        assert_eq!(round(8), 1);
        assert_eq!(round(LONG), 0, "a long round is never a poll");
        assert_eq!(round(LONG), 0);
    }
}
