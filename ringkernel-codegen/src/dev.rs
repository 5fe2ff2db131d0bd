//! Development aids: lowering a source to IR without generating code, and a reference
//! interpreter of the IR. The interpreter defines the DSL's semantics executably (wrapping
//! arithmetic, division by zero → 0, out-of-bounds reads → 0 and writes dropped, Rust's
//! casts); tests compare it with native Rust and with the PTX's behaviour.

use std::collections::BTreeMap;

use crate::abi::error;
use crate::diagnostic::Diagnostics;
use crate::front::KernelAttrs;
use crate::ir::*;
use crate::layout::{StructLayout, compute_layouts};

/// Parses, lowers and checks `src`: the module and its handlers, or the diagnostics.
pub fn lower_source(src: &str) -> Result<(Module, Vec<(KernelAttrs, FuncId)>), Diagnostics> {
    let mut diags = Diagnostics::new();
    let file = syn::parse_file(src).map_err(|e| {
        let mut d = Diagnostics::new();
        d.push(crate::diagnostic::Diagnostic::new(crate::front::span_of(e.span()), e.to_string()));
        d
    })?;
    let items = crate::front::collect_items(&file, &mut diags);
    let structs = compute_layouts(&items.structs).map_err(|e| {
        let mut d = Diagnostics::new();
        d.push(crate::diagnostic::Diagnostic::new(Span::default(), e.to_string()));
        d
    })?;
    let (module, handlers) = crate::front::lower_module(&items, structs, &mut diags);
    if diags.is_empty() {
        // As in `compile_source`: no follow-up errors about what failed to lower.
        diags.items.extend(crate::check::check_module(&module));
    }
    if diags.is_empty() { Ok((module, handlers)) } else { Err(diags) }
}

/// The first scalar of `ty` (offset and type) whose bytes differ between the images `a`
/// and `b`, skipping the offsets in `skip`; two NaNs count as equal whatever their payloads
/// (Rust leaves NaN bits unspecified). Padding is not compared.
pub fn first_difference(
    module: &Module,
    ty: &Ty,
    a: &[u8],
    b: &[u8],
    skip: &[u32],
) -> Option<(u32, Scalar)> {
    let nan = |s: Scalar, bytes: &[u8]| match s {
        Scalar::F32 => bytes.try_into().is_ok_and(|b| f32::from_le_bytes(b).is_nan()),
        Scalar::F64 => bytes.try_into().is_ok_and(|b| f64::from_le_bytes(b).is_nan()),
        _ => false,
    };
    module.scalar_cells(ty).into_iter().filter(|(offset, _)| !skip.contains(offset)).find(
        |&(offset, s)| {
            let range = offset as usize..(offset + s.size()) as usize;
            let (x, y) = (a.get(range.clone()), b.get(range));
            x != y && !matches!((x, y), (Some(x), Some(y)) if nan(s, x) && nan(s, y))
        },
    )
}

/// What the context intrinsics return during an interpreted call.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// `ctx.message_seq()`.
    pub message_seq: u64,
    /// The clock; `ctx.now()` increments it and returns the new value.
    pub clock: u64,
    /// `ctx.kernel_slot()`.
    pub kernel_slot: u32,
    /// Error codes recorded, in order (see [`crate::abi::error`]).
    pub errors: Vec<u32>,
    /// The handler's execution budget (its `max_steps`): loop iterations allowed per
    /// message, counted as the PTX and the native code count them (one per loop body
    /// entered). `None`: unlimited (only `run_handler`'s own step limit applies).
    pub budget: Option<u32>,
    /// Set when the last message ran out of budget: its response is zeroed, the error
    /// `BUDGET_EXHAUSTED` recorded and the state put back as it was (when it is at most
    /// [`crate::abi::STATE_SNAPSHOT_LIMIT`] bytes), as on every backend.
    pub aborted: bool,
}

/// The error `Interp::spend` unwinds with when the budget runs out.
const BUDGET_SPENT: &str = "\u{0}budget spent";

#[derive(Debug, Clone, PartialEq)]
enum V {
    Unit,
    Bool(bool),
    /// Integer bits, truncated to the type's width (zero above it).
    Int(u64),
    F32(f32),
    F64(f64),
    /// An aggregate's bytes.
    Mem(Vec<u8>),
}

enum Flow {
    Normal,
    /// Leaving loops: 0 the innermost one, more for a labelled `break`.
    Break(u32),
    /// As `Break`, for `continue`.
    Continue(u32),
    Return(V),
}

fn width(s: Scalar) -> u32 {
    s.size() * 8
}

fn wrap(x: i128, s: Scalar) -> u64 {
    let bits = width(s);
    if bits == 64 { x as u64 } else { (x as u64) & ((1u64 << bits) - 1) }
}

fn signed(bits: u64, s: Scalar) -> i128 {
    if s.is_signed_int() {
        let w = width(s);
        (((bits << (64 - w)) as i64) >> (64 - w)) as i128
    } else {
        bits as i128
    }
}

struct Interp<'a> {
    module: &'a Module,
    f: &'a Function,
    locals: Vec<V>,
    ctx: &'a mut Context,
    steps: u64,
    /// Fuel left of the DSL budget (see [`Context::budget`]).
    fuel: Option<u32>,
}

/// Runs a handler: `state` (updated in place) and `message` bytes in, response bytes out.
/// Fails (instead of looping forever) after `max_steps` statements.
pub fn run_handler(
    module: &Module,
    handler: FuncId,
    state: &mut [u8],
    message: &[u8],
    ctx: &mut Context,
    max_steps: u64,
) -> Result<Vec<u8>, String> {
    let f = module.function(handler);
    let FnRole::Handler { state: state_local, message: msg_local } = &f.role else {
        return Err("not a handler".into());
    };
    let fuel = ctx.budget;
    ctx.aborted = false;
    let mut interp =
        Interp { module, f, locals: vec![V::Unit; f.locals.len()], ctx, steps: max_steps, fuel };
    let msg_ty = f.local(*msg_local).ty.clone();
    let mut message = message.to_vec();
    if msg_ty.is_aggregate() {
        interp.check_message_enums(&msg_ty, &mut message);
    }
    interp.locals[msg_local.0 as usize] = interp.decode(&msg_ty, &message);
    if let Some(s) = state_local {
        interp.locals[s.0 as usize] = V::Mem(state.to_vec());
    }
    let result = match interp.call_body() {
        Err(why) if why == BUDGET_SPENT => {
            // State as it was (up to the snapshot limit), response zeroed, error recorded.
            let size = state.len() as u32;
            if let Some(s) = state_local.filter(|_| size <= crate::abi::STATE_SNAPSHOT_LIMIT) {
                interp.locals[s.0 as usize] = V::Mem(state.to_vec());
            }
            interp.ctx.errors.push(error::BUDGET_EXHAUSTED);
            interp.ctx.aborted = true;
            V::Mem(vec![0; interp.size(&f.ret)])
        }
        other => other?,
    };
    if let Some(s) = state_local {
        if let V::Mem(bytes) = &interp.locals[s.0 as usize] {
            state.copy_from_slice(bytes);
        }
    }
    let ret = f.ret.clone();
    Ok(interp.to_bytes(&ret, &result))
}

impl Interp<'_> {
    fn layouts(&self) -> &BTreeMap<String, StructLayout> {
        &self.module.structs
    }

    fn size(&self, ty: &Ty) -> usize {
        match ty {
            Ty::Unit | Ty::Tuple(_) => 0,
            Ty::Scalar(s) | Ty::Enum(_, s) => s.size() as usize,
            Ty::Array(e, n) => self.size(e) * *n as usize,
            Ty::Struct(name) => self.layouts().get(name).map_or(0, |l| l.size as usize),
        }
    }

    /// The value of `ty` in `bytes` (a load). An enum's bytes that name no variant give its
    /// zero value and record `INVALID_VALUE`, as the PTX does.
    fn decode(&mut self, ty: &Ty, bytes: &[u8]) -> V {
        match ty {
            Ty::Unit => V::Unit,
            Ty::Enum(name, s) => {
                let V::Int(bits) = self.decode(&Ty::Scalar(*s), bytes) else { return V::Unit };
                let Some(def) = self.module.enums.get(name) else { return V::Int(bits) };
                let value = if s.is_signed_int() { signed(bits, *s) } else { i128::from(bits) };
                if def.is_variant(value) {
                    V::Int(bits)
                } else {
                    self.ctx.errors.push(error::INVALID_VALUE);
                    V::Int(wrap(def.zero(), *s))
                }
            }
            Ty::Scalar(s) => {
                let mut raw = [0u8; 8];
                raw[..bytes.len().min(8)].copy_from_slice(&bytes[..bytes.len().min(8)]);
                let bits = u64::from_le_bytes(raw);
                match s {
                    Scalar::Bool => V::Bool(bytes[0] != 0),
                    Scalar::F32 => V::F32(f32::from_bits(bits as u32)),
                    Scalar::F64 => V::F64(f64::from_bits(bits)),
                    s => V::Int(wrap(bits as i128, *s)),
                }
            }
            _ => V::Mem(bytes.to_vec()),
        }
    }

    /// Checks the enums of a struct message that are not inside arrays once, as the PTX
    /// does when it loads them at entry: each invalid one is recorded and becomes the zero
    /// value. (Array elements are checked where they are read, in both.)
    fn check_message_enums(&mut self, ty: &Ty, bytes: &mut [u8]) {
        for (offset, leaf) in leaves_in(&self.module.structs, ty, false) {
            let Ty::Enum(_, s) = leaf else { continue };
            let (at, n) = (offset as usize, s.size() as usize);
            if let V::Int(bits) = self.decode(&leaf, &bytes[at..at + n]) {
                bytes[at..at + n].copy_from_slice(&bits.to_le_bytes()[..n]);
            }
        }
    }

    /// The zero value of `ty` as bytes (what an out-of-bounds read gives): zeros, with every
    /// enum at its first variant.
    fn zero_bytes(&self, ty: &Ty) -> Vec<u8> {
        let mut bytes = vec![0; self.size(ty)];
        for (offset, name, s) in self.module.enum_cells(ty) {
            if let Some(def) = self.module.enums.get(&name) {
                let n = s.size() as usize;
                let at = offset as usize;
                bytes[at..at + n].copy_from_slice(&(def.zero() as u64).to_le_bytes()[..n]);
            }
        }
        bytes
    }

    fn to_bytes(&self, ty: &Ty, v: &V) -> Vec<u8> {
        let size = self.size(ty);
        match v {
            V::Mem(bytes) => bytes.clone(),
            V::Bool(b) => vec![u8::from(*b)],
            V::Int(bits) => bits.to_le_bytes()[..size].to_vec(),
            V::F32(x) => x.to_le_bytes().to_vec(),
            V::F64(x) => x.to_le_bytes().to_vec(),
            V::Unit => vec![0; size],
        }
    }

    fn call_body(&mut self) -> Result<V, String> {
        let body = self.f.body.clone();
        match self.block(&body)? {
            (Flow::Return(v), _) => Ok(v),
            (_, v) => Ok(v),
        }
    }

    /// One loop body entered: spends a unit of the DSL budget.
    fn spend(&mut self) -> Result<(), String> {
        match self.fuel.as_mut() {
            Some(0) => Err(BUDGET_SPENT.into()),
            Some(fuel) => {
                *fuel -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn tick(&mut self) -> Result<(), String> {
        if self.steps == 0 {
            return Err("step limit reached".into());
        }
        self.steps -= 1;
        Ok(())
    }

    fn block(&mut self, block: &Block) -> Result<(Flow, V), String> {
        for stmt in &block.stmts {
            self.tick()?;
            match self.stmt(stmt)? {
                Flow::Normal => {}
                other => return Ok((other, V::Unit)),
            }
        }
        match block.tail {
            Some(tail) => self.expr(tail),
            None => Ok((Flow::Normal, V::Unit)),
        }
    }

    fn stmt(&mut self, stmt: &Stmt) -> Result<Flow, String> {
        match stmt {
            Stmt::Let(local, init, _) => {
                if let Some(init) = init {
                    let (flow, v) = self.expr(*init)?;
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                    self.locals[local.0 as usize] = v;
                }
                Ok(Flow::Normal)
            }
            Stmt::Assign(place, op, value, _) => {
                let (flow, v) = self.expr(*value)?;
                if !matches!(flow, Flow::Normal) {
                    return Ok(flow);
                }
                let (root, offset, ty, in_bounds) = self.place(place)?;
                let vty = self.f.expr(*value).ty.clone();
                let new = match op {
                    None => v,
                    Some(op) => {
                        let old = self.read_place(root, offset, &ty, in_bounds);
                        self.binary(
                            *op,
                            ty.scalar().unwrap_or(Scalar::U32),
                            old,
                            v,
                            vty.scalar().unwrap_or(Scalar::U32),
                        )
                    }
                };
                if in_bounds {
                    self.write_place(root, offset, &ty, new);
                }
                Ok(Flow::Normal)
            }
            Stmt::Expr(e) => Ok(self.expr(*e)?.0),
            Stmt::While(cond, body) => loop {
                self.tick()?;
                let (flow, c) = self.expr(*cond)?;
                if !matches!(flow, Flow::Normal) {
                    return Ok(flow);
                }
                if c != V::Bool(true) {
                    return Ok(Flow::Normal);
                }
                self.spend()?;
                match self.block(body)?.0 {
                    Flow::Break(0) => return Ok(Flow::Normal),
                    Flow::Break(d) => return Ok(Flow::Break(d - 1)),
                    Flow::Continue(d) if d > 0 => return Ok(Flow::Continue(d - 1)),
                    Flow::Return(v) => return Ok(Flow::Return(v)),
                    _ => {}
                }
            },
            Stmt::Loop(body) => loop {
                self.tick()?;
                self.spend()?;
                match self.block(body)?.0 {
                    Flow::Break(0) => return Ok(Flow::Normal),
                    Flow::Break(d) => return Ok(Flow::Break(d - 1)),
                    Flow::Continue(d) if d > 0 => return Ok(Flow::Continue(d - 1)),
                    Flow::Return(v) => return Ok(Flow::Return(v)),
                    _ => {}
                }
            },
            Stmt::For { var, start, end, inclusive, body } => {
                let s = self.f.local(*var).ty.scalar().unwrap_or(Scalar::I32);
                let (_, a) = self.expr(*start)?;
                let (_, b) = self.expr(*end)?;
                let (V::Int(a), V::Int(b)) = (a, b) else { return Err("non-integer range".into()) };
                let (mut i, end) = (signed(a, s), signed(b, s));
                while if *inclusive { i <= end } else { i < end } {
                    self.tick()?;
                    self.spend()?;
                    self.locals[var.0 as usize] = V::Int(wrap(i, s));
                    match self.block(body)?.0 {
                        Flow::Break(0) => break,
                        Flow::Break(d) => return Ok(Flow::Break(d - 1)),
                        Flow::Continue(d) if d > 0 => return Ok(Flow::Continue(d - 1)),
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        _ => {}
                    }
                    i += 1;
                }
                Ok(Flow::Normal)
            }
            Stmt::Break(depth, _) => Ok(Flow::Break(*depth)),
            Stmt::Continue(depth, _) => Ok(Flow::Continue(*depth)),
            Stmt::Return(value, _) => {
                let v = match value {
                    Some(v) => {
                        let (flow, v) = self.expr(*v)?;
                        if !matches!(flow, Flow::Normal) {
                            return Ok(flow);
                        }
                        v
                    }
                    None => V::Unit,
                };
                Ok(Flow::Return(v))
            }
        }
    }

    /// Resolves a place to (root local, byte offset, type, in bounds).
    fn place(&mut self, place: &Place) -> Result<(LocalId, usize, Ty, bool), String> {
        match place {
            Place::Local(id) => Ok((*id, 0, self.f.local(*id).ty.clone(), true)),
            Place::Field(base, index) => {
                let (root, offset, ty, ok) = self.place(base)?;
                let Ty::Struct(name) = &ty else { return Err("field of non-struct".into()) };
                let field = &self.layouts()[name].fields[*index as usize];
                Ok((root, offset + field.offset as usize, Ty::from(&field.ty), ok))
            }
            Place::Index(base, index) => {
                let (root, offset, ty, ok) = self.place(base)?;
                let Ty::Array(elem, len) = &ty else { return Err("index of non-array".into()) };
                let (_, i) = self.expr(*index)?;
                let V::Int(i) = i else { return Err("non-integer index".into()) };
                let inside = i < u64::from(*len);
                if !inside {
                    self.ctx.errors.push(error::INDEX_OUT_OF_BOUNDS);
                }
                let esize = self.size(elem);
                let i = if inside { i as usize } else { 0 };
                Ok((root, offset + i * esize, (**elem).clone(), ok && inside))
            }
        }
    }

    fn read_place(&mut self, root: LocalId, offset: usize, ty: &Ty, in_bounds: bool) -> V {
        let size = self.size(ty);
        let slice = match &self.locals[root.0 as usize] {
            V::Mem(bytes) if in_bounds => bytes[offset..offset + size].to_vec(),
            V::Mem(_) => self.zero_bytes(ty),
            scalar => return scalar.clone(),
        };
        self.decode(ty, &slice)
    }

    fn write_place(&mut self, root: LocalId, offset: usize, ty: &Ty, value: V) {
        let bytes = self.to_bytes(ty, &value);
        match &mut self.locals[root.0 as usize] {
            V::Mem(target) => target[offset..offset + bytes.len()].copy_from_slice(&bytes),
            slot => *slot = value,
        }
    }
}

mod eval;
