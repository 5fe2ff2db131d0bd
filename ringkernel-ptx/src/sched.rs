//! Scheduling: CTAs over worker threads, threads of a CTA cooperatively, and the collectives
//! (`bar`, `shfl.sync`, `vote.sync`, `activemask`) that make threads wait for each other.
//!
//! - Workers (up to the host's cores) take CTAs from a shared counter; a CTA runs entirely on
//!   one worker, so its shared memory and barriers need no locks.
//! - An entry that uses no collective (nor calls a function that does) runs its threads one
//!   after another, each to completion, reusing one thread state. A thread that runs for
//!   [`SOLO_SLICES`] slices without exiting may be waiting for a later thread of its CTA: the
//!   rest of the CTA is then started and scheduled cooperatively with it.
//! - Otherwise every thread of the CTA exists at once. Each runs until it exits, parks at a
//!   collective, or uses up a slice of [`SLICE`] instructions (so a thread spinning on a flag
//!   another thread of its CTA sets lets that thread run). A warp collective completes when
//!   every live thread of the warp is parked and the live lanes of its member mask are parked
//!   at that same instruction; `bar.sync` completes when all live threads of the CTA (or its
//!   thread count) arrived. Exited threads no longer count. A round in which nothing ran and
//!   nothing completed is a [`Fault::Deadlock`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use crate::error::{Fault, Location};
use crate::exec::{Exec, FaultKind, Status, Stop, Thread};
use crate::inst::{Op, SINK, ShflMode, VoteMode};
use crate::memory::{AddressSpace, Block, View};
use crate::module::{ModuleData, special};
use crate::{Dims, LaunchStats};

/// Instructions a thread runs before the scheduler looks at its CTA again.
const SLICE: u64 = 1 << 14;

/// Slices a thread of a collective-free CTA may use alone before the rest of its CTA is
/// started beside it (a thread may spin on memory that a later thread of its CTA writes).
const SOLO_SLICES: u32 = 64;

/// Everything a launch needs, independent of how it is driven (blocking or on its own thread).
pub(crate) struct Plan<'a> {
    pub module: &'a ModuleData,
    pub template: &'a [u64],
    pub entry: u32,
    pub dims: Dims,
    /// The parameter area with the arguments in place, as little-endian words.
    pub params: &'a [u64],
    pub budget: Option<u64>,
    pub cancel: &'a AtomicBool,
    pub workers: usize,
    /// Device-side `printf` output.
    pub output: &'a Mutex<String>,
}

struct Shared<'a> {
    plan: &'a Plan<'a>,
    space: &'a AddressSpace,
    executed: AtomicU64,
    next_cta: AtomicU32,
    stop: AtomicBool,
    fault: Mutex<Option<Fault>>,
}

pub(crate) fn run(plan: &Plan<'_>, space: &AddressSpace) -> Result<LaunchStats, Fault> {
    let start = Instant::now();
    let [gx, gy, gz] = plan.dims.grid;
    let ctas = u64::from(gx) * u64::from(gy) * u64::from(gz);
    let shared = Shared {
        plan,
        space,
        executed: AtomicU64::new(0),
        next_cta: AtomicU32::new(0),
        stop: AtomicBool::new(false),
        fault: Mutex::new(None),
    };
    let workers = plan.workers.clamp(1, ctas.max(1) as usize);
    if workers == 1 {
        worker(&shared);
    } else {
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| worker(&shared));
            }
        });
    }
    if let Some(f) = shared.fault.into_inner() {
        return Err(f);
    }
    let [bx, by, bz] = plan.dims.block;
    Ok(LaunchStats {
        instructions: shared.executed.into_inner(),
        threads: ctas * u64::from(bx) * u64::from(by) * u64::from(bz),
        ctas,
        elapsed: start.elapsed(),
    })
}

fn worker(sh: &Shared<'_>) {
    let [gx, gy, gz] = sh.plan.dims.grid;
    let total = gx as u64 * gy as u64 * gz as u64;
    let mut spare: Option<Thread> = None;
    loop {
        if sh.stop.load(Ordering::Relaxed) {
            return;
        }
        let i = u64::from(sh.next_cta.fetch_add(1, Ordering::Relaxed));
        if i >= total {
            return;
        }
        let cta = [
            (i % u64::from(gx)) as u32,
            ((i / u64::from(gx)) % u64::from(gy)) as u32,
            (i / (u64::from(gx) * u64::from(gy))) as u32,
        ];
        let result = run_cta(sh, cta, &mut spare);
        if let Err(f) = result {
            let mut slot = sh.fault.lock();
            if slot.is_none() {
                *slot = Some(f);
            }
            sh.stop.store(true, Ordering::Relaxed);
            return;
        }
    }
}

fn new_thread(plan: &Plan<'_>) -> Result<Thread, Fault> {
    let m = plan.module;
    Ok(Thread {
        regs: plan.template.to_vec(),
        pc: 0,
        stack: Vec::new(),
        on_stack: vec![false; m.functions.len()],
        carry: false,
        local: Block::new(u64::from(m.local_size).max(8))?,
        param: Block::new(u64::from(m.param_size).max(8))?,
        tid: [0; 3],
        lane: 0,
        status: Status::Ready,
        executed: 0,
        last_sleep: 0,
        last_gap: 0,
        idle_streak: 0,
    })
}

/// Puts a thread at the entry with its ids, fresh registers and arguments.
fn reset(t: &mut Thread, plan: &Plan<'_>, cta: [u32; 3], linear: u32) {
    let [bx, by, _] = plan.dims.block;
    // One-dimensional blocks (the common case) need no division.
    let tid = if by == 1 && plan.dims.block[2] == 1 {
        [linear, 0, 0]
    } else {
        [linear % bx, (linear / bx) % by, linear / (bx * by)]
    };
    t.regs.copy_from_slice(plan.template);
    for k in 0..3 {
        t.regs[(special::TID + k as u32) as usize] = u64::from(tid[k]);
        t.regs[(special::NTID + k as u32) as usize] = u64::from(plan.dims.block[k]);
        t.regs[(special::CTAID + k as u32) as usize] = u64::from(cta[k]);
        t.regs[(special::NCTAID + k as u32) as usize] = u64::from(plan.dims.grid[k]);
    }
    let threads = bx * by * plan.dims.block[2];
    t.regs[special::LANEID as usize] = u64::from(linear % 32);
    t.regs[special::WARPID as usize] = u64::from(linear / 32);
    t.regs[special::NWARPID as usize] = u64::from(threads.div_ceil(32));
    t.regs[special::SMID as usize] = 0;
    t.pc = plan.module.functions[plan.entry as usize].start;
    t.stack.clear();
    t.on_stack.iter_mut().for_each(|b| *b = false);
    t.carry = false;
    if plan.module.local_size > 0 {
        t.local.zero();
    }
    // The image covers the whole param area: arguments in place, zeros elsewhere.
    t.param.fill_from(plan.params);
    t.tid = tid;
    t.lane = linear % 32;
    t.status = Status::Ready;
    t.executed = 0;
    t.last_sleep = 0;
    t.last_gap = 0;
    t.idle_streak = 0;
}

fn location(plan: &Plan<'_>, t: &Thread, cta: [u32; 3]) -> Box<Location> {
    let m = plan.module;
    let pc = t.pc.min(m.code.len().saturating_sub(1) as u32);
    let owner = m.owner.get(pc as usize).copied().unwrap_or(plan.entry);
    Box::new(Location {
        entry: m.functions[plan.entry as usize].name.clone(),
        function: m.functions[owner as usize].name.clone(),
        pc,
        line: m.lines.get(pc as usize).copied().unwrap_or(0),
        cta,
        thread: t.tid,
    })
}

fn to_fault(plan: &Plan<'_>, t: &Thread, cta: [u32; 3], kind: FaultKind) -> Fault {
    let at = location(plan, t, cta);
    match kind {
        FaultKind::Illegal(address) => {
            Fault::IllegalAddress { entry: at.entry.clone(), pc: at.pc, address, at }
        }
        FaultKind::Misaligned(address, size) => {
            Fault::MisalignedAddress { entry: at.entry.clone(), pc: at.pc, address, size, at }
        }
        FaultKind::Trap => Fault::Trap { at },
        FaultKind::Unsupported(what) => Fault::Unsupported { at, what },
    }
}

/// Counts executed instructions against the budget; checks cancellation.
fn account(sh: &Shared<'_>, n: u64) -> Result<u64, Fault> {
    let total = sh.executed.fetch_add(n, Ordering::Relaxed) + n;
    let entry = || sh.plan.module.functions[sh.plan.entry as usize].name.clone();
    if let Some(b) = sh.plan.budget {
        if total > b {
            return Err(Fault::BudgetExhausted { entry: entry(), executed: total });
        }
    }
    if sh.plan.cancel.load(Ordering::Relaxed) {
        return Err(Fault::Cancelled { entry: entry() });
    }
    if sh.stop.load(Ordering::Relaxed) {
        return Err(Fault::Cancelled { entry: entry() });
    }
    Ok(match sh.plan.budget {
        Some(b) => SLICE.min(b.saturating_sub(total) + 1),
        None => SLICE,
    })
}

fn run_cta(sh: &Shared<'_>, cta: [u32; 3], spare: &mut Option<Thread>) -> Result<(), Fault> {
    let plan = sh.plan;
    let [bx, by, bz] = plan.dims.block;
    let threads = bx * by * bz;
    let shared_len = u64::from(plan.module.shared_static_size) + u64::from(plan.dims.shared_bytes);
    let shared_mem = Block::new(shared_len.max(8))?;
    let mut exec = Exec {
        module: plan.module,
        view: View::new(sh.space),
        shared: &shared_mem,
        output: plan.output,
    };
    if plan.module.functions[plan.entry as usize].uses_collectives {
        run_cooperative(sh, &mut exec, cta, threads)
    } else {
        run_one_by_one(sh, &mut exec, cta, threads, spare)
    }
}

fn run_one_by_one(
    sh: &Shared<'_>,
    exec: &mut Exec<'_>,
    cta: [u32; 3],
    threads: u32,
    spare: &mut Option<Thread>,
) -> Result<(), Fault> {
    let plan = sh.plan;
    let mut t = match spare.take() {
        Some(t) => t,
        None => new_thread(plan)?,
    };
    // Instructions are reported to the shared counter once per slice, not per thread: a
    // shared atomic per thread costs more than a short kernel's whole body.
    let mut allowance = account(sh, 0)?;
    let mut pending = 0u64;
    for linear in 0..threads {
        reset(&mut t, plan, cta, linear);
        let mut slices = 0u32;
        loop {
            let before = t.executed;
            let stop = exec.run(&mut t, allowance.saturating_sub(pending));
            pending += t.executed - before;
            if pending >= allowance || !matches!(stop, Stop::Exit) {
                allowance = account(sh, std::mem::take(&mut pending))?;
            }
            if matches!(stop, Stop::Sleep) {
                crate::exec::idle(&mut t);
            }
            match stop {
                Stop::Exit => break,
                Stop::Yield | Stop::Sleep => {
                    slices += 1;
                    if slices >= SOLO_SLICES && linear + 1 < threads {
                        // This thread may be waiting for a later one (sm_70+ guarantees
                        // forward progress between the threads of a warp): start the rest of
                        // the CTA beside it.
                        account(sh, std::mem::take(&mut pending))?;
                        let mut ts = vec![t];
                        for later in linear + 1..threads {
                            let mut u = new_thread(plan)?;
                            reset(&mut u, plan, cta, later);
                            ts.push(u);
                        }
                        return run_threads(sh, exec, cta, ts);
                    }
                }
                Stop::Fault(k) => return Err(to_fault(plan, &t, cta, k)),
                Stop::Collective => unreachable!("entries without collectives never park"),
            }
        }
    }
    account(sh, pending)?;
    *spare = Some(t);
    Ok(())
}

fn run_cooperative(
    sh: &Shared<'_>,
    exec: &mut Exec<'_>,
    cta: [u32; 3],
    threads: u32,
) -> Result<(), Fault> {
    let plan = sh.plan;
    let mut ts = Vec::with_capacity(threads as usize);
    for linear in 0..threads {
        let mut t = new_thread(plan)?;
        reset(&mut t, plan, cta, linear);
        ts.push(t);
    }
    run_threads(sh, exec, cta, ts)
}

/// Runs a CTA's threads cooperatively until all exit (see the module docs).
fn run_threads(
    sh: &Shared<'_>,
    exec: &mut Exec<'_>,
    cta: [u32; 3],
    mut ts: Vec<Thread>,
) -> Result<(), Fault> {
    let plan = sh.plan;
    let mut slice = account(sh, 0)?;
    let mut arrivals: BTreeMap<u64, u64> = BTreeMap::new();
    loop {
        let mut progressed = false;
        for t in ts.iter_mut().filter(|t| t.status == Status::Ready) {
            let before = t.executed;
            let stop = exec.run(t, slice);
            slice = account(sh, t.executed - before)?;
            progressed |= t.executed > before;
            match stop {
                Stop::Exit => t.status = Status::Exited,
                Stop::Collective => t.status = Status::Waiting,
                Stop::Sleep => crate::exec::idle(t),
                Stop::Yield => {}
                Stop::Fault(k) => return Err(to_fault(plan, t, cta, k)),
            }
        }
        if ts.iter().all(|t| t.status == Status::Exited) {
            return Ok(());
        }
        progressed |= complete_warp_collectives(plan.module, &mut ts);
        progressed |= complete_barriers(plan.module, &mut ts, &mut arrivals);
        if !progressed && ts.iter().all(|t| t.status != Status::Ready) {
            return Err(deadlock(plan, &ts, cta));
        }
    }
}

fn deadlock(plan: &Plan<'_>, ts: &[Thread], cta: [u32; 3]) -> Fault {
    let mut at: BTreeMap<u32, usize> = BTreeMap::new();
    for t in ts.iter().filter(|t| t.status == Status::Waiting) {
        *at.entry(plan.module.lines[t.pc as usize]).or_default() += 1;
    }
    let waits: Vec<String> = at.iter().map(|(line, n)| format!("{n} at PTX line {line}")).collect();
    Fault::Deadlock {
        entry: plan.module.functions[plan.entry as usize].name.clone(),
        detail: format!(
            "block ({},{},{}): threads wait forever: {}",
            cta[0],
            cta[1],
            cta[2],
            waits.join(", ")
        ),
    }
}

fn complete_warp_collectives(m: &ModuleData, ts: &mut [Thread]) -> bool {
    let mut progressed = false;
    for w in 0..ts.len().div_ceil(32) {
        let lanes = w * 32..((w + 1) * 32).min(ts.len());
        let warp = &mut ts[lanes];
        if warp.iter().any(|t| t.status == Status::Ready) {
            continue;
        }
        let live: u32 = warp
            .iter()
            .enumerate()
            .filter(|(_, t)| t.status != Status::Exited)
            .map(|(i, _)| 1u32 << i)
            .sum();
        let mut pcs: Vec<u32> =
            warp.iter().filter(|t| t.status == Status::Waiting).map(|t| t.pc).collect();
        pcs.sort_unstable();
        pcs.dedup();
        for pc in pcs {
            let op = &m.code[pc as usize].op;
            let mask_reg = match op {
                Op::Shfl { mask, .. } | Op::Vote { mask, .. } => Some(*mask),
                Op::WarpSync { mask } => Some(*mask),
                Op::Activemask { .. } => None,
                _ => continue,
            };
            let group: u32 = warp
                .iter()
                .enumerate()
                .filter(|(_, t)| t.status == Status::Waiting && t.pc == pc)
                .map(|(i, _)| 1u32 << i)
                .sum();
            let need = match mask_reg {
                Some(r) => {
                    let first = group.trailing_zeros() as usize;
                    warp[first].regs[r as usize] as u32 & live
                }
                None => group,
            };
            if need & !group != 0 {
                continue;
            }
            execute_warp_op(op, warp, group);
            for (i, t) in warp.iter_mut().enumerate() {
                if group & (1 << i) != 0 {
                    t.status = Status::Ready;
                    t.pc += 1;
                }
            }
            progressed = true;
        }
    }
    progressed
}

fn execute_warp_op(op: &Op, warp: &mut [Thread], group: u32) {
    let members = |i: usize| group & (1 << i) != 0;
    match op {
        Op::Activemask { d } => {
            for (i, t) in warp.iter_mut().enumerate() {
                if members(i) {
                    t.regs[*d as usize] = u64::from(group);
                }
            }
        }
        Op::Vote { mode, d, a, negate, mask } => {
            let mut ballot = 0u32;
            let mut values = Vec::new();
            for (i, t) in warp.iter().enumerate() {
                if members(i) && (t.regs[*mask as usize] as u32) & (1 << i) != 0 {
                    let v = (t.regs[*a as usize] & 1 == 1) != *negate;
                    ballot |= u32::from(v) << i;
                    values.push(v);
                }
            }
            let result = match mode {
                VoteMode::Ballot => u64::from(ballot),
                VoteMode::All => u64::from(values.iter().all(|v| *v)),
                VoteMode::Any => u64::from(values.iter().any(|v| *v)),
                VoteMode::Uni => u64::from(values.iter().all(|v| *v) || values.iter().all(|v| !*v)),
            };
            for (i, t) in warp.iter_mut().enumerate() {
                if members(i) {
                    t.regs[*d as usize] = result;
                }
            }
        }
        Op::Shfl { mode, d, p, a, b, c, .. } => {
            let mut out = [(0u64, false); 32];
            for (i, t) in warp.iter().enumerate() {
                if !members(i) {
                    continue;
                }
                let lane = i as i64;
                let bval = (t.regs[*b as usize] & 0x1f) as i64;
                let cval = t.regs[*c as usize];
                let clamp = (cval & 0x1f) as i64;
                let segmask = ((cval >> 8) & 0x1f) as i64;
                let max_lane = (lane & segmask) | (clamp & !segmask);
                let min_lane = lane & segmask;
                let (j, valid) = match mode {
                    ShflMode::Up => (lane - bval, lane - bval >= max_lane),
                    ShflMode::Down => (lane + bval, lane + bval <= max_lane),
                    ShflMode::Bfly => (lane ^ bval, (lane ^ bval) <= max_lane),
                    ShflMode::Idx => {
                        let j = min_lane | (bval & !segmask);
                        (j, j <= max_lane)
                    }
                };
                let src = if valid { j as usize } else { i };
                let value =
                    warp.get(src).map(|s| s.regs[*a as usize]).unwrap_or(t.regs[*a as usize]);
                out[i] = (value, valid);
            }
            for (i, t) in warp.iter_mut().enumerate() {
                if members(i) {
                    t.regs[*d as usize] = out[i].0 & 0xffff_ffff;
                    if *p != SINK {
                        t.regs[*p as usize] = u64::from(out[i].1);
                    }
                }
            }
        }
        _ => {}
    }
}

fn complete_barriers(m: &ModuleData, ts: &mut [Thread], arrivals: &mut BTreeMap<u64, u64>) -> bool {
    let mut progressed = false;
    // Arrive-only threads count and go on at once.
    for t in ts.iter_mut().filter(|t| t.status == Status::Waiting) {
        if let Op::Bar { id, wait: false, .. } = &m.code[t.pc as usize].op {
            *arrivals.entry(t.regs[*id as usize] & 0xf).or_default() += 1;
            t.status = Status::Ready;
            t.pc += 1;
            progressed = true;
        }
    }
    let live = ts.iter().filter(|t| t.status != Status::Exited).count() as u64;
    let mut waiting: BTreeMap<u64, (u64, Option<u64>)> = BTreeMap::new();
    for t in ts.iter().filter(|t| t.status == Status::Waiting) {
        if let Op::Bar { id, count, wait: true } = &m.code[t.pc as usize].op {
            let e = waiting.entry(t.regs[*id as usize] & 0xf).or_default();
            e.0 += 1;
            if *count != SINK {
                e.1 = Some(t.regs[*count as usize] & 0xffff_ffff);
            }
        }
    }
    for (id, (n, count)) in waiting {
        let arrived = n + arrivals.get(&id).copied().unwrap_or(0);
        let expected = count.unwrap_or(live);
        if arrived < expected {
            continue;
        }
        arrivals.remove(&id);
        for t in ts.iter_mut().filter(|t| t.status == Status::Waiting) {
            if let Op::Bar { id: r, wait: true, .. } = &m.code[t.pc as usize].op {
                if t.regs[*r as usize] & 0xf == id {
                    t.status = Status::Ready;
                    t.pc += 1;
                }
            }
        }
        progressed = true;
    }
    progressed
}
