//! Decoding of the memory, atomic, synchronisation and call instructions (PTX ISA 9.7.9,
//! 9.7.12, 9.7.13, 9.7.14.4 `call`).

use super::super::Parser;
use super::super::Symbol;
use super::super::operand::Operand;
use super::{Mods, U32};
use crate::error::ParseError;
use crate::inst::*;
use crate::lex::Token;
use crate::module::ConstValue;

impl<'a> Parser<'a> {
    pub(super) fn decode_sync(
        &mut self,
        base: &str,
        mods: &mut Mods<'a>,
        ops: &[Operand<'a>],
        at: Token<'a>,
    ) -> Result<Op, ParseError> {
        match base {
            "fence" | "membar" => {
                let order = match mods.take_any(&[".sc", ".acq_rel", ".cta", ".gl", ".sys", ".gpu"])
                {
                    Some(".acq_rel") => Order::AcqRel,
                    _ => Order::SeqCst,
                };
                mods.take_any(&[".cta", ".gpu", ".sys", ".cluster"]);
                Ok(Op::Fence { order })
            }
            "bar" if mods.take(".warp") => {
                // bar.warp.sync membermask: the member lanes meet (ISA 9.7.12.3).
                if !mods.take(".sync") {
                    return Err(self.error_at(at, "`bar.warp` needs `.sync`"));
                }
                self.arity(ops, 1, at, base)?;
                self.note_collective();
                Ok(Op::WarpSync { mask: self.src(&ops[0], U32)? })
            }
            "bar" | "barrier" => {
                let wait = !mods.take(".arrive");
                if wait {
                    mods.take(".sync");
                }
                if mods.take(".red") || mods.take(".popc") {
                    return Err(self.error_at(at, "`bar.red` is not supported"));
                }
                let id = match ops.first() {
                    Some(o) => self.src(o, U32)?,
                    None => return Err(self.error_at(at, "`bar` needs a barrier number")),
                };
                let count = match ops.get(1) {
                    Some(o) => self.src(o, U32)?,
                    None => SINK,
                };
                self.note_collective();
                Ok(Op::Bar { id, count, wait })
            }
            "shfl" => {
                if !mods.take(".sync") {
                    return Err(self.error_at(at, "only `shfl.sync` is supported (sm_70+)"));
                }
                let modes = [
                    (".up", ShflMode::Up),
                    (".down", ShflMode::Down),
                    (".bfly", ShflMode::Bfly),
                    (".idx", ShflMode::Idx),
                ];
                let mode = mods
                    .pick(&modes)
                    .ok_or_else(|| self.error_at(at, "`shfl.sync` needs `.up .down .bfly .idx`"))?;
                let ty = self.one_type(mods, at, base)?;
                self.arity(ops, 5, at, base)?;
                let (d, p) = match &ops[0] {
                    Operand::Pair(a, b, t) => {
                        (self.dest(&Operand::Name(a, *t))?, self.dest(&Operand::Name(b, *t))?)
                    }
                    other => (self.dest(other)?, SINK),
                };
                self.note_collective();
                Ok(Op::Shfl {
                    mode,
                    d,
                    p,
                    a: self.src(&ops[1], ty)?,
                    b: self.src(&ops[2], U32)?,
                    c: self.src(&ops[3], U32)?,
                    mask: self.src(&ops[4], U32)?,
                })
            }
            "vote" => {
                if !mods.take(".sync") {
                    return Err(self.error_at(at, "only `vote.sync` is supported (sm_70+)"));
                }
                let modes = [
                    (".all", VoteMode::All),
                    (".any", VoteMode::Any),
                    (".uni", VoteMode::Uni),
                    (".ballot", VoteMode::Ballot),
                ];
                let mode = mods.pick(&modes).ok_or_else(|| {
                    self.error_at(at, "`vote.sync` needs `.all .any .uni .ballot`")
                })?;
                let _ = mods.types();
                self.arity(ops, 3, at, base)?;
                let (a, negate) = self.pred(&ops[1])?;
                self.note_collective();
                Ok(Op::Vote {
                    mode,
                    d: self.dest(&ops[0])?,
                    a,
                    negate,
                    mask: self.src(&ops[2], U32)?,
                })
            }
            "activemask" => {
                let _ = mods.types();
                self.arity(ops, 1, at, base)?;
                self.note_collective();
                Ok(Op::Activemask { d: self.dest(&ops[0])? })
            }
            _ => unreachable!("dispatched by `decode`"),
        }
    }

    pub(super) fn decode_memory(
        &mut self,
        base: &str,
        mods: &mut Mods<'a>,
        ops: &[Operand<'a>],
        at: Token<'a>,
    ) -> Result<Op, ParseError> {
        self.arity(ops, 2, at, base)?;
        let order = Self::order(mods);
        let space = Self::space(mods);
        let lanes = match mods.take_any(&[".v2", ".v4"]) {
            Some(".v2") => 2,
            Some(".v4") => 4,
            _ => 1,
        };
        let ty = self.one_type(mods, at, base)?;
        if ty == Ty::Pred {
            return Err(self.error_at(at, "predicates cannot be loaded or stored"));
        }
        if (order == Order::Acquire && base == "st")
            || (order == Order::Release && base != "st")
            || order == Order::AcqRel
        {
            return Err(self.error_at(at, format!("`{base}` cannot have that memory order")));
        }
        if base == "st" {
            let addr = self.address(&ops[0])?;
            let a = self.regs(&ops[1], ty, lanes, false)?;
            if matches!(space, Space::Const) {
                return Err(self.error_at(at, "`.const` memory is read-only"));
            }
            return Ok(Op::St { space, ty, order, a, addr });
        }
        let d = self.regs(&ops[0], ty, lanes, true)?;
        let addr = self.address(&ops[1])?;
        Ok(Op::Ld { space, ty, order, d, addr })
    }

    pub(super) fn decode_atom(
        &mut self,
        base: &str,
        mods: &mut Mods<'a>,
        ops: &[Operand<'a>],
        at: Token<'a>,
    ) -> Result<Op, ParseError> {
        let order = Self::order(mods);
        let space = Self::space(mods);
        let ops_table = [
            (".add", AtomOp::Add),
            (".min", AtomOp::Min),
            (".max", AtomOp::Max),
            (".inc", AtomOp::Inc),
            (".dec", AtomOp::Dec),
            (".and", AtomOp::And),
            (".or", AtomOp::Or),
            (".xor", AtomOp::Xor),
            (".exch", AtomOp::Exch),
            (".cas", AtomOp::Cas),
        ];
        let op = mods.pick(&ops_table).ok_or_else(|| {
            self.error_at(at, format!("`{base}` needs an operation such as `.add`"))
        })?;
        mods.take(".ftz");
        let ty = self.one_type(mods, at, base)?;
        let legal = match (op, ty) {
            (_, Ty::Pred) => false,
            (AtomOp::Add | AtomOp::Min | AtomOp::Max, Ty::Float(_)) => true,
            (_, Ty::Float(_)) => false,
            (_, Ty::Int(i)) => i.bits >= 32 || (op == AtomOp::Cas && i.bits == 16),
        };
        if !legal {
            return Err(self
                .error_at(at, format!("`{base}` does not support that operation with that type")));
        }
        let with_dest = base == "atom";
        let expect = if op == AtomOp::Cas { 4 } else { 3 } - usize::from(!with_dest);
        self.arity(ops, expect, at, base)?;
        if op == AtomOp::Cas && !with_dest {
            return Err(self.error_at(at, "`red` has no `.cas`"));
        }
        let (d, rest) = if with_dest { (self.dest(&ops[0])?, &ops[1..]) } else { (SINK, ops) };
        let addr = self.address(&rest[0])?;
        let b = self.src(&rest[1], ty)?;
        let c = if op == AtomOp::Cas { self.src(&rest[2], ty)? } else { SINK };
        Ok(Op::Atom { space, op, ty, order, d, addr, b, c })
    }

    pub(super) fn decode_call(
        &mut self,
        ops: &[Operand<'a>],
        at: Token<'a>,
    ) -> Result<Op, ParseError> {
        // call{.uni} (rets), func, (args);  or  call func, (args);  or  call func;
        let mut i = 0;
        let rets = match ops.first() {
            Some(Operand::List(items, _)) => {
                i = 1;
                items.clone()
            }
            _ => Vec::new(),
        };
        let Some(Operand::Name(name, nt)) = ops.get(i) else {
            return Err(self.error_at(at, "`call` needs a function name"));
        };
        let args = match ops.get(i + 1) {
            Some(Operand::List(items, _)) => items.clone(),
            None => Vec::new(),
            Some(other) => {
                return Err(self.error_at(other.token(), "indirect calls are not supported"));
            }
        };
        if ops.len() > i + 2 {
            return Err(self.error_at(at, "indirect calls are not supported"));
        }
        let Some(Symbol::Func(func)) = self.lookup(name) else {
            return Err(self.error_at(*nt, format!("`{name}` is not a declared function")));
        };
        let callee = self.module.functions[func as usize].clone();
        if callee.is_entry {
            return Err(self.error_at(*nt, "an entry cannot be called"));
        }
        let copies = |p: &mut Self,
                      actual: &[Operand<'a>],
                      formal: &[crate::module::ParamSlot],
                      to_callee: bool| {
            if actual.len() != formal.len() {
                return Err(p.error_at(
                    *nt,
                    format!(
                        "`{name}` takes {} parameters here, {} given",
                        formal.len(),
                        actual.len()
                    ),
                ));
            }
            let mut out = Vec::new();
            for (a, f) in actual.iter().zip(formal) {
                let Operand::Name(w, t) = a else {
                    return Err(p.error_at(a.token(), "call arguments must be `.param` names"));
                };
                let Some(Symbol::Param { offset, size }) = p.lookup(w) else {
                    return Err(p.error_at(*t, format!("`{w}` is not a `.param` in scope")));
                };
                let len = size.min(f.size);
                out.push(if to_callee {
                    crate::inst::ParamCopy { from: offset, to: f.offset, len }
                } else {
                    crate::inst::ParamCopy { from: f.offset, to: offset, len }
                });
            }
            Ok(out)
        };
        let args = copies(self, &args, &callee.params, true)?;
        let rets = copies(self, &rets, &callee.rets, false)?;
        self.note_call(func);
        let _ = self.constant(ConstValue::Bits(0));
        Ok(Op::Call(Box::new(CallSite { func, args, rets })))
    }
}
