//! Writing one IR function as a PTX `.func`: registers, the local frame, memory access.

use std::fmt::Write as _;

use crate::ir::*;
use crate::layout::{EnumDef, StructLayout};

use std::collections::BTreeMap;

/// A register class of PTX.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Class {
    Pred,
    B32,
    B64,
    F32,
    F64,
}

/// A virtual register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Reg {
    pub class: Class,
    pub n: u32,
}

impl std::fmt::Display for Reg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let prefix = match self.class {
            Class::Pred => "%p",
            Class::B32 => "%r",
            Class::B64 => "%rd",
            Class::F32 => "%f",
            Class::F64 => "%fd",
        };
        write!(f, "{prefix}{}", self.n)
    }
}

pub(crate) fn class_of(s: Scalar) -> Class {
    match s {
        Scalar::Bool => Class::Pred,
        Scalar::I8 | Scalar::U8 | Scalar::I16 | Scalar::U16 | Scalar::I32 | Scalar::U32 => {
            Class::B32
        }
        Scalar::I64 | Scalar::U64 | Scalar::Isize | Scalar::Usize => Class::B64,
        Scalar::F32 => Class::F32,
        Scalar::F64 => Class::F64,
    }
}

/// Type suffix for arithmetic and comparisons (narrow integers compute in 32 bits).
pub(crate) fn arith(s: Scalar) -> &'static str {
    match s {
        Scalar::I8 | Scalar::I16 | Scalar::I32 => "s32",
        Scalar::U8 | Scalar::U16 | Scalar::U32 | Scalar::Bool => "u32",
        Scalar::I64 | Scalar::Isize => "s64",
        Scalar::U64 | Scalar::Usize => "u64",
        Scalar::F32 => "f32",
        Scalar::F64 => "f64",
    }
}

/// Type suffix for loads and stores.
pub(crate) fn mem(s: Scalar) -> &'static str {
    match s {
        Scalar::Bool | Scalar::U8 => "u8",
        Scalar::I8 => "s8",
        Scalar::U16 => "u16",
        Scalar::I16 => "s16",
        other => arith(other),
    }
}

/// A memory location (generic address space): `[base + offset]`, valid only where `guard`
/// (a predicate) holds, when there is one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Addr {
    pub base: Reg,
    pub offset: i64,
    pub guard: Option<Reg>,
}

impl Addr {
    pub fn plus(self, bytes: u32) -> Addr {
        Addr { offset: self.offset + i64::from(bytes), ..self }
    }
}

impl std::fmt::Display for Addr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.offset {
            0 => write!(f, "[{}]", self.base),
            o if o > 0 => write!(f, "[{}+{o}]", self.base),
            o => write!(f, "[{}{o}]", self.base),
        }
    }
}

/// The value of an expression.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Val {
    Reg(Reg),
    Mem(Addr),
    Unit,
}

/// Where a local lives.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Home {
    Reg(Reg),
    Mem(Addr),
}

/// The execution budget of a handler: `fuel` counts down at every loop iteration and the
/// message is aborted at `abort` when it is spent (see `FuncWriter::tick`).
pub(crate) struct Budget {
    pub fuel: Reg,
    pub abort: String,
    pub max_steps: u32,
    /// Whether a loop consumed fuel (otherwise no budget code is written at all).
    pub used: bool,
    /// Where in the body the budget's set-up goes (after the handler's inputs are bound).
    pub prologue_at: usize,
    /// The state, when its value before the message is kept for an abort.
    pub state: Option<(Ty, Addr)>,
}

/// Loop labels for `break` and `continue`.
pub(crate) struct LoopLabels {
    pub continue_to: String,
    pub break_to: String,
}

pub(crate) struct FuncWriter<'a> {
    pub f: &'a Function,
    pub structs: &'a BTreeMap<String, StructLayout>,
    pub enums: &'a BTreeMap<String, EnumDef>,
    pub functions: &'a [Function],
    pub body: String,
    counts: [u32; 5],
    labels: u32,
    pub frame_size: u32,
    pub frame_base: Reg,
    pub homes: Vec<Option<Home>>,
    pub loops: Vec<LoopLabels>,
    pub cb: Reg,
    pub seq: Reg,
    /// Where the result goes: the response pointer of a handler, or `None` (device
    /// functions return through `func_retval0`).
    pub response: Option<Reg>,
    pub return_label: String,
    pub uses_frame: bool,
    /// While a device function is being inlined: the register its result goes to.
    pub inline_result: Option<Reg>,
    /// Scalars of the (read-only) message loaded once at entry: (base, offset) → register.
    pub preloaded: Vec<(Reg, i64, Scalar, Reg)>,
    /// Pure expressions already computed, by operator and operand registers, one scope per
    /// conditionally executed region: an entry is only reused where its definition dominates.
    memo: Vec<Vec<(String, Reg)>>,
    /// The first error code this message raised (0: none), returned to the persistent loop.
    pub fault: Reg,
    /// The handler's execution budget.
    pub budget: Option<Budget>,
}

impl<'a> FuncWriter<'a> {
    pub fn new(
        f: &'a Function,
        structs: &'a BTreeMap<String, StructLayout>,
        enums: &'a BTreeMap<String, EnumDef>,
        functions: &'a [Function],
    ) -> Self {
        let mut w = FuncWriter {
            f,
            structs,
            enums,
            functions,
            body: String::new(),
            counts: [0; 5],
            labels: 0,
            frame_size: 0,
            frame_base: Reg { class: Class::B64, n: 0 },
            homes: vec![None; f.locals.len()],
            loops: Vec::new(),
            cb: Reg { class: Class::B64, n: 0 },
            seq: Reg { class: Class::B64, n: 0 },
            response: None,
            return_label: "$L__return".into(),
            uses_frame: false,
            inline_result: None,
            preloaded: Vec::new(),
            memo: vec![Vec::new()],
            fault: Reg { class: Class::B32, n: 0 },
            budget: None,
        };
        w.cb = w.reg(Class::B64);
        w.seq = w.reg(Class::B64);
        w.frame_base = w.reg(Class::B64);
        w.fault = w.reg(Class::B32);
        let fault = w.fault;
        w.emit(format!("mov.u32 \t{fault}, 0;"));
        w
    }

    /// Gives the function an execution budget of `max_steps` loop iterations.
    pub fn set_budget(&mut self, max_steps: u32) {
        let fuel = self.reg(Class::B32);
        let abort = self.label("budget_exhausted");
        self.budget = Some(Budget {
            fuel,
            abort,
            max_steps,
            used: false,
            prologue_at: self.body.len(),
            state: None,
        });
    }

    /// One loop iteration: spends one unit of fuel, aborting the message when none is left.
    pub fn tick(&mut self) {
        let Some(budget) = self.budget.as_mut() else { return };
        budget.used = true;
        let (fuel, abort) = (budget.fuel, budget.abort.clone());
        let spent = self.reg(Class::Pred);
        self.emit(format!("setp.eq.u32 \t{spent}, {fuel}, 0;"));
        self.emit(format!("@{spent} bra \t{abort};"));
        self.emit(format!("sub.u32 \t{fuel}, {fuel}, 1;"));
    }

    /// Writes what a used budget needs: the fuel's start value and the copy of the state at the
    /// start (inserted where the inputs were bound), and at `abort` the state put back, the
    /// error recorded and the fault set. `batch`: the batch entry, which has no persistent
    /// loop around it to zero the response and count the abort, so it does both itself. A
    /// budget no loop used writes nothing.
    pub fn finish_budget(&mut self, batch: bool) {
        let Some(budget) = self.budget.take() else { return };
        if !budget.used {
            return;
        }
        let body = std::mem::take(&mut self.body);
        let fuel = budget.fuel;
        self.emit(format!("mov.u32 \t{fuel}, {};", budget.max_steps));
        let saved = budget.state.as_ref().map(|(ty, state)| {
            let slot = self.frame_slot(ty);
            self.copy(ty, *state, slot);
            slot
        });
        let prologue = std::mem::replace(&mut self.body, body);
        self.body.insert_str(budget.prologue_at, &prologue);
        let done = self.return_label.clone();
        self.emit(format!("bra.uni \t{done};"));
        self.place_label(&budget.abort);
        if let (Some((ty, state)), Some(saved)) = (&budget.state, saved) {
            self.copy(ty, saved, *state);
        }
        let code = crate::abi::error::BUDGET_EXHAUSTED;
        self.record_error(code);
        let fault = self.fault;
        self.emit(format!("mov.u32 \t{fault}, {code};"));
        if let Some(response) = self.response.filter(|_| batch) {
            self.zero_response(response);
            // A plain increment: the CPU backend runs the batch entry one thread at a time,
            // and an atomic here would be a warp-aggregated reduction ten times the size.
            let (cb, count) = (self.cb, self.reg(Class::B64));
            let at = crate::abi::offsets::CB_MESSAGES_ABORTED;
            self.emit(format!("ld.u64 \t{count}, [{cb}+{at}];"));
            self.emit(format!("add.u64 \t{count}, {count}, 1;"));
            self.emit(format!("st.u64 \t[{cb}+{at}], {count};"));
        }
    }

    /// Zeroes the response (an aborted message has no value): a few stores of its alignment,
    /// or a loop kept rolled (it only runs on an abort) for a large one.
    fn zero_response(&mut self, response: Reg) {
        let (size, align) = self.size_align(&self.f.ret.clone());
        let unit = align.clamp(1, 8);
        let (class, ty) = if unit == 8 { (Class::B64, "u64") } else { (Class::B32, "") };
        let ty = if ty.is_empty() { ["u8", "u16", "", "u32"][unit as usize - 1] } else { ty };
        let zero = self.reg(class);
        self.emit(format!("mov.{} \t{zero}, 0;", if unit == 8 { "u64" } else { "u32" }));
        let stores = size / unit;
        if stores <= 8 {
            for i in 0..stores {
                self.emit(format!("st.{ty} \t[{response}+{}], {zero};", i * unit));
            }
            return;
        }
        let (at, end) = (self.reg(Class::B64), self.reg(Class::B64));
        let (top, zeroed, past) = (self.label("zero"), self.label("zeroed"), self.reg(Class::Pred));
        self.emit(format!("mov.u64 \t{at}, {response};"));
        self.emit(format!("add.u64 \t{end}, {response}, {size};"));
        self.place_label(&top);
        self.emit(".pragma \"nounroll\";");
        self.emit(format!("setp.ge.u64 \t{past}, {at}, {end};"));
        self.emit(format!("@{past} bra \t{zeroed};"));
        self.emit(format!("st.{ty} \t[{at}], {zero};"));
        self.emit(format!("add.u64 \t{at}, {at}, {unit};"));
        self.emit(format!("bra.uni \t{top};"));
        self.place_label(&zeroed);
    }

    pub fn reg(&mut self, class: Class) -> Reg {
        let slot = class as usize;
        self.counts[slot] += 1;
        Reg { class, n: self.counts[slot] }
    }

    pub fn label(&mut self, what: &str) -> String {
        self.labels += 1;
        format!("$L__{what}{}", self.labels)
    }

    pub fn emit(&mut self, line: impl AsRef<str>) {
        self.body.push('\t');
        self.body.push_str(line.as_ref());
        self.body.push('\n');
    }

    pub fn place_label(&mut self, label: &str) {
        let _ = writeln!(self.body, "{label}:");
    }

    /// Register declarations for the function's prologue.
    pub fn declarations(&self) -> String {
        let mut out = String::new();
        for (class, name, ty) in [
            (Class::Pred, "%p", "pred"),
            (Class::B32, "%r", "b32"),
            (Class::B64, "%rd", "b64"),
            (Class::F32, "%f", "f32"),
            (Class::F64, "%fd", "f64"),
        ] {
            let count = self.counts[class as usize];
            if count > 0 {
                let _ = writeln!(out, "\t.reg .{ty} \t{name}<{}>;", count + 1);
            }
        }
        out
    }

    pub fn size_align(&self, ty: &Ty) -> (u32, u32) {
        match ty {
            Ty::Unit | Ty::Tuple(_) => (0, 1),
            Ty::Scalar(s) | Ty::Enum(_, s) => (s.size(), s.size()),
            Ty::Array(elem, n) => {
                let (size, align) = self.size_align(elem);
                (size.saturating_mul(*n), align)
            }
            Ty::Struct(name) => self.structs.get(name).map_or((0, 1), |l| (l.size, l.align)),
        }
    }

    /// A fresh slot in the local frame for a value of `ty`.
    pub fn frame_slot(&mut self, ty: &Ty) -> Addr {
        let (size, align) = self.size_align(ty);
        let offset = self.frame_size.checked_next_multiple_of(align.max(1)).unwrap_or(u32::MAX);
        self.frame_size = offset.saturating_add(size);
        self.uses_frame = true;
        Addr { base: self.frame_base, offset: i64::from(offset), guard: None }
    }

    /// Enters a region that may not execute (a branch, a loop body, the right side of `&&`).
    pub fn enter_region(&mut self) {
        self.memo.push(Vec::new());
    }

    /// Leaves it: what was computed inside is not available after.
    pub fn leave_region(&mut self) {
        self.memo.pop();
    }

    /// A register already holding the value of `key`, if one dominates this point.
    pub fn recall(&self, key: &str) -> Option<Reg> {
        self.memo
            .iter()
            .rev()
            .flat_map(|scope| scope.iter())
            .find(|(k, _)| k == key)
            .map(|(_, r)| *r)
    }

    pub fn remember(&mut self, key: String, r: Reg) {
        if let Some(scope) = self.memo.last_mut() {
            scope.push((key, r));
        }
    }

    /// Loads every scalar of the message that is not inside an array into a register, at
    /// entry. The message is read-only (the checker enforces it), so later reads of those
    /// fields use the registers; ptxas cannot merge the loads itself because, to it, the
    /// state and response stores might alias the message.
    pub fn preload_message(&mut self, ty: &Ty, base: Reg) {
        for (offset, leaf) in crate::ir::leaves_in(self.structs, ty, false) {
            let offset = i64::from(offset);
            let addr = Addr { base, offset, guard: None };
            let r = self.load_value(&leaf, addr);
            let s = leaf.scalar().unwrap_or(Scalar::U32);
            self.preloaded.push((base, offset, s, r));
        }
    }

    /// Loads a scalar from memory (zero where the address's guard is false).
    pub fn load(&mut self, s: Scalar, addr: Addr) -> Reg {
        self.load_or(s, addr, None)
    }

    /// Loads a value of scalar or enum type `ty`. An enum's out-of-bounds read gives its zero
    /// value (the first variant), and a number that is no variant's discriminant (bytes made
    /// outside Rust) gives the zero value too and records `INVALID_VALUE`: past this load,
    /// every enum register holds a variant.
    pub fn load_value(&mut self, ty: &Ty, addr: Addr) -> Reg {
        let Ty::Enum(name, s) = ty else {
            return self.load(ty.scalar().unwrap_or(Scalar::U32), addr);
        };
        let preloaded = addr.guard.is_none()
            && self
                .preloaded
                .iter()
                .any(|(b, o, ps, _)| *b == addr.base && *o == addr.offset && ps == s);
        let Some(def) = self.enums.get(name).filter(|_| !preloaded) else {
            return self.load(*s, addr);
        };
        let (zero, mut discriminants) =
            (def.zero(), def.variants.iter().map(|(_, d)| *d).collect::<Vec<_>>());
        discriminants.sort_unstable();
        let r = self.load_or(*s, addr, Some(zero));
        let t = if s.size() == 8 { "b64" } else { "b32" };
        let bits =
            |d: i128| if s.size() == 8 { (d as u64).to_string() } else { (d as u32).to_string() };
        let valid = self.reg(Class::Pred);
        let (lo, hi) = (discriminants[0], discriminants[discriminants.len() - 1]);
        if hi - lo + 1 == discriminants.len() as i128 {
            // Contiguous: one unsigned compare of the offset from the lowest.
            let offset = self.reg(r.class);
            let ut = if s.size() == 8 { "u64" } else { "u32" };
            self.emit(format!("sub.{ut} 	{offset}, {r}, {};", bits(lo)));
            self.emit(format!("setp.le.{ut} 	{valid}, {offset}, {};", bits(hi - lo)));
        } else {
            self.emit(format!("setp.eq.{t} 	{valid}, {r}, {};", bits(discriminants[0])));
            for d in &discriminants[1..] {
                let p = self.reg(Class::Pred);
                self.emit(format!("setp.eq.{t} 	{p}, {r}, {};", bits(*d)));
                self.emit(format!("or.pred 	{valid}, {valid}, {p};"));
            }
        }
        self.emit(format!("selp.{t} 	{r}, {r}, {}, {valid};", bits(zero)));
        self.record_error_unless(valid, crate::abi::error::INVALID_VALUE);
        r
    }

    /// `load` with `zero` (a discriminant) instead of 0 where the guard is false.
    fn load_or(&mut self, s: Scalar, addr: Addr, zero: Option<i128>) -> Reg {
        if addr.guard.is_none() {
            let hit = self
                .preloaded
                .iter()
                .find(|(b, o, ps, _)| *b == addr.base && *o == addr.offset && *ps == s)
                .map(|p| p.3);
            if let Some(r) = hit {
                return r;
            }
        }
        let class = class_of(s);
        let raw_class = if class == Class::Pred { Class::B32 } else { class };
        let raw = self.reg(raw_class);
        if let Some(guard) = addr.guard {
            let literal = match zero {
                Some(d) if raw_class == Class::B64 => (d as u64).to_string(),
                Some(d) => (d as u32).to_string(),
                None => zero_literal(raw_class).to_owned(),
            };
            self.emit(format!("mov.{} \t{raw}, {literal};", zero_type(raw_class)));
            self.emit(format!("@{guard} ld.{} \t{raw}, {addr};", mem(s)));
        } else {
            self.emit(format!("ld.{} \t{raw}, {addr};", mem(s)));
        }
        if class == Class::Pred {
            let p = self.reg(Class::Pred);
            self.emit(format!("setp.ne.u32 \t{p}, {raw}, 0;"));
            p
        } else {
            raw
        }
    }

    /// Stores a scalar (nothing where the address's guard is false).
    pub fn store(&mut self, s: Scalar, addr: Addr, value: Reg) {
        let value = if value.class == Class::Pred {
            let r = self.reg(Class::B32);
            self.emit(format!("selp.u32 \t{r}, 1, 0, {value};"));
            r
        } else {
            value
        };
        let guard = addr.guard.map(|g| format!("@{g} ")).unwrap_or_default();
        self.emit(format!("{guard}st.{} \t{addr}, {value};", mem(s)));
    }

    /// Fills elements `1..n` of the array at `base` with copies of element 0.
    pub fn fill_from_first(&mut self, elem: &Ty, n: u32, base: Addr) {
        let (esize, _) = self.size_align(elem);
        if n <= 8 {
            for i in 1..n {
                self.copy(elem, base, base.plus(i * esize));
            }
            return;
        }
        let (dst, i) = (self.reg(Class::B64), self.reg(Class::B32));
        self.emit(format!("add.s64 \t{dst}, {}, {};", base.base, base.offset + i64::from(esize)));
        self.emit(format!("mov.u32 \t{i}, 1;"));
        let top = self.label("fill");
        self.place_label(&top);
        self.copy(elem, base, Addr { base: dst, offset: 0, guard: None });
        self.emit(format!("add.s64 \t{dst}, {dst}, {esize};"));
        self.emit(format!("add.s32 \t{i}, {i}, 1;"));
        let p = self.reg(Class::Pred);
        self.emit(format!("setp.lt.u32 \t{p}, {i}, {n};"));
        self.emit(format!("@{p} bra \t{top};"));
    }

    /// Copies a value of type `ty` between memory locations, scalar by scalar.
    pub fn copy(&mut self, ty: &Ty, src: Addr, dst: Addr) {
        match ty {
            Ty::Unit | Ty::Tuple(_) => {}
            Ty::Scalar(s) | Ty::Enum(_, s) => {
                let v = self.load_value(ty, src);
                self.store(*s, dst, v);
            }
            Ty::Struct(name) => {
                let fields: Vec<(Ty, u32)> = self
                    .structs
                    .get(name)
                    .map(|l| l.fields.iter().map(|f| (Ty::from(&f.ty), f.offset)).collect())
                    .unwrap_or_default();
                for (fty, offset) in fields {
                    self.copy(&fty, src.plus(offset), dst.plus(offset));
                }
            }
            Ty::Array(elem, n) => {
                let (esize, _) = self.size_align(elem);
                if *n <= 8 {
                    for i in 0..*n {
                        self.copy(elem, src.plus(i * esize), dst.plus(i * esize));
                    }
                } else {
                    // A loop over the elements with moving base registers.
                    let (s, d, i) =
                        (self.reg(Class::B64), self.reg(Class::B64), self.reg(Class::B32));
                    self.emit(format!("add.s64 \t{s}, {}, {};", src.base, src.offset));
                    self.emit(format!("add.s64 \t{d}, {}, {};", dst.base, dst.offset));
                    self.emit(format!("mov.u32 \t{i}, 0;"));
                    let top = self.label("copy");
                    self.place_label(&top);
                    self.copy(
                        elem,
                        Addr { base: s, offset: 0, guard: src.guard },
                        Addr { base: d, offset: 0, guard: dst.guard },
                    );
                    self.emit(format!("add.s64 \t{s}, {s}, {esize};"));
                    self.emit(format!("add.s64 \t{d}, {d}, {esize};"));
                    self.emit(format!("add.s32 \t{i}, {i}, 1;"));
                    let p = self.reg(Class::Pred);
                    self.emit(format!("setp.lt.u32 \t{p}, {i}, {n};"));
                    self.emit(format!("@{p} bra \t{top};"));
                }
            }
        }
    }

    /// Records an error in the control block (the handler keeps going).
    pub fn record_error(&mut self, code: u32) {
        let (cb, seq) = (self.cb, self.seq);
        self.emit("{");
        self.emit(".param .b64 rk_err_cb;");
        self.emit(".param .b32 rk_err_code;");
        self.emit(".param .b64 rk_err_seq;");
        self.emit(format!("st.param.b64 \t[rk_err_cb], {cb};"));
        self.emit(format!("st.param.b32 \t[rk_err_code], {code};"));
        self.emit(format!("st.param.b64 \t[rk_err_seq], {seq};"));
        self.emit("call.uni \trk_record_error, (rk_err_cb, rk_err_code, rk_err_seq);");
        self.emit("}");
        // The message's fault is its first error.
        let (fault, first) = (self.fault, self.reg(Class::Pred));
        self.emit(format!("setp.eq.u32 \t{first}, {fault}, 0;"));
        self.emit(format!("@{first} mov.u32 \t{fault}, {code};"));
    }

    /// Records `code` where `ok` is false.
    pub fn record_error_unless(&mut self, ok: Reg, code: u32) {
        let skip = self.label("noerr");
        self.emit(format!("@{ok} bra \t{skip};"));
        self.record_error(code);
        self.place_label(&skip);
    }

    /// Normalises a narrow integer held in 32 bits after a wrapping operation.
    pub fn normalize(&mut self, s: Scalar, r: Reg) {
        match s {
            Scalar::I8 => self.emit(format!("bfe.s32 \t{r}, {r}, 0, 8;")),
            Scalar::I16 => self.emit(format!("bfe.s32 \t{r}, {r}, 0, 16;")),
            Scalar::U8 => self.emit(format!("and.b32 \t{r}, {r}, 255;")),
            Scalar::U16 => self.emit(format!("and.b32 \t{r}, {r}, 65535;")),
            _ => {}
        }
    }
}

pub(crate) fn zero_type(class: Class) -> &'static str {
    match class {
        Class::Pred | Class::B32 => "u32",
        Class::B64 => "u64",
        Class::F32 => "f32",
        Class::F64 => "f64",
    }
}

pub(crate) fn zero_literal(class: Class) -> &'static str {
    match class {
        Class::F32 => "0f00000000",
        Class::F64 => "0d0000000000000000",
        _ => "0",
    }
}
