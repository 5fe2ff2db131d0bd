//! Instruction operands (ISA 6): registers, immediates, addresses, vectors, and their
//! conversion to register slots for a given instruction type.

use super::{Parser, Symbol};
use crate::error::ParseError;
use crate::inst::{Addr, FloatTy, Reg, Regs, SINK, Ty};
use crate::lex::{Tok, Token};
use crate::module::{ConstValue, special};

#[derive(Clone, Debug)]
pub(crate) enum Operand<'a> {
    /// A name: register, variable, function or label (resolved by the decoder's need).
    Name(&'a str, Token<'a>),
    /// `!%p`.
    Not(&'a str, Token<'a>),
    /// `%p|%q` (two `setp` destinations).
    Pair(&'a str, &'a str, Token<'a>),
    Int(i128, Token<'a>),
    F32Bits(u32, Token<'a>),
    F64Bits(u64, Token<'a>),
    Decimal(f64, Token<'a>),
    /// `[base + offset]`; base is a name or absent (absolute address).
    Address(Option<(&'a str, Token<'a>)>, i32, Token<'a>),
    /// `{a, b, ...}`.
    Vector(Vec<Operand<'a>>, Token<'a>),
    /// `(a, b, ...)`: call parameter lists.
    List(Vec<Operand<'a>>, Token<'a>),
    /// `_`.
    Sink(Token<'a>),
}

impl<'a> Operand<'a> {
    pub fn token(&self) -> Token<'a> {
        match self {
            Operand::Name(_, t)
            | Operand::Not(_, t)
            | Operand::Pair(_, _, t)
            | Operand::Int(_, t)
            | Operand::F32Bits(_, t)
            | Operand::F64Bits(_, t)
            | Operand::Decimal(_, t)
            | Operand::Address(_, _, t)
            | Operand::Vector(_, t)
            | Operand::List(_, t)
            | Operand::Sink(t) => *t,
        }
    }
}

impl<'a> Parser<'a> {
    pub fn operands(&mut self) -> Result<Vec<Operand<'a>>, ParseError> {
        let mut out = Vec::new();
        if self.eat_punct(';') {
            return Ok(out);
        }
        loop {
            out.push(self.operand()?);
            if self.eat_punct(';') {
                return Ok(out);
            }
            if !self.eat_punct(',') {
                return Err(self.error_at(self.peek(), "expected `,` or `;` after an operand"));
            }
        }
    }

    fn operand(&mut self) -> Result<Operand<'a>, ParseError> {
        let t = self.peek();
        match t.tok {
            Tok::Punct('!') => {
                self.pos += 1;
                let (w, at) = self.word("a predicate after `!`")?;
                Ok(Operand::Not(w, at))
            }
            Tok::Punct('[') => {
                self.pos += 1;
                let mut base = None;
                let mut offset: i128 = 0;
                if let Tok::Word(w) = self.peek().tok {
                    base = Some((w, self.next()));
                    // `+ n`, `+ -n` and `- n` (`integer` reads the sign).
                    if self.eat_punct('+') || self.is_punct('-') {
                        offset = self.integer()?;
                    }
                } else {
                    offset = self.integer()?;
                }
                self.expect_punct(']')?;
                let offset = i32::try_from(offset)
                    .map_err(|_| self.error_at(t, "address offset out of the 32-bit range"))?;
                Ok(Operand::Address(base, offset, t))
            }
            Tok::Punct('{') | Tok::Punct('(') => {
                let close = if t.tok == Tok::Punct('{') { '}' } else { ')' };
                self.pos += 1;
                let mut items = Vec::new();
                if !self.eat_punct(close) {
                    loop {
                        items.push(self.operand()?);
                        if self.eat_punct(close) {
                            break;
                        }
                        self.expect_punct(',')?;
                    }
                }
                Ok(if close == '}' { Operand::Vector(items, t) } else { Operand::List(items, t) })
            }
            Tok::Word("_") => {
                self.pos += 1;
                Ok(Operand::Sink(t))
            }
            Tok::Word(w) => {
                self.pos += 1;
                if self.eat_punct('|') {
                    let (q, _) = self.word("a second predicate after `|`")?;
                    return Ok(Operand::Pair(w, q, t));
                }
                Ok(Operand::Name(w, t))
            }
            Tok::Punct('-') | Tok::Int(_) | Tok::F32Bits(_) | Tok::F64Bits(_) | Tok::Decimal(_) => {
                let negative = self.eat_punct('-');
                let n = self.next();
                Ok(match n.tok {
                    Tok::Int(v) => Operand::Int(if negative { -(v as i128) } else { v as i128 }, t),
                    Tok::F32Bits(b) => Operand::F32Bits(b ^ if negative { 1 << 31 } else { 0 }, t),
                    Tok::F64Bits(b) => Operand::F64Bits(b ^ if negative { 1 << 63 } else { 0 }, t),
                    Tok::Decimal(x) => Operand::Decimal(if negative { -x } else { x }, t),
                    _ => return Err(self.error_at(n, "expected a number after `-`")),
                })
            }
            _ => Err(self.error_at(t, "expected an operand")),
        }
    }

    /// A special register that does not change while a thread runs, as its fixed slot.
    fn special_slot(name: &str) -> Option<Reg> {
        let axis = |base: u32, rest: &str| match rest {
            ".x" => Some(base),
            ".y" => Some(base + 1),
            ".z" => Some(base + 2),
            _ => None,
        };
        for (prefix, base) in [
            ("%tid", special::TID),
            ("%ntid", special::NTID),
            ("%ctaid", special::CTAID),
            ("%nctaid", special::NCTAID),
        ] {
            if let Some(rest) = name.strip_prefix(prefix) {
                if let Some(r) = axis(base, rest) {
                    return Some(r);
                }
            }
        }
        match name {
            "%laneid" => Some(special::LANEID),
            "%warpid" => Some(special::WARPID),
            "%nwarpid" => Some(special::NWARPID),
            "%smid" | "%gridid" => Some(special::SMID),
            "%nsmid" => Some(special::SMID),
            _ => None,
        }
    }

    /// A register that the instruction writes.
    pub fn dest(&mut self, op: &Operand<'a>) -> Result<Reg, ParseError> {
        match op {
            Operand::Sink(_) => Ok(SINK),
            Operand::Name(w, t) => match self.lookup(w) {
                Some(Symbol::Reg(r)) => Ok(r),
                _ => Err(self.error_at(*t, format!("`{w}` is not a declared register"))),
            },
            other => Err(self.error_at(other.token(), "expected a destination register")),
        }
    }

    /// A source operand as a register slot, immediates encoded for the instruction type `ty`.
    pub fn src(&mut self, op: &Operand<'a>, ty: Ty) -> Result<Reg, ParseError> {
        let bits = match op {
            Operand::Name(w, t) => {
                if let Some(r) = Self::special_slot(w) {
                    return Ok(r);
                }
                return match self.lookup(w) {
                    Some(Symbol::Reg(r)) => Ok(r),
                    Some(sym) => self.symbol_address(sym, 0, *t),
                    None => Err(self.error_at(*t, format!("unknown name `{w}`"))),
                };
            }
            Operand::Int(v, t) => match ty {
                Ty::Float(FloatTy::F32) => u64::from((*v as f32).to_bits()),
                Ty::Float(FloatTy::F64) => (*v as f64).to_bits(),
                _ => {
                    if *v < -(1i128 << 63) || *v > u64::MAX as i128 {
                        return Err(self.error_at(*t, "integer literal out of range"));
                    }
                    (*v as u64) & if let Ty::Int(i) = ty { i.mask() } else { 1 }
                }
            },
            Operand::F32Bits(b, _) => match ty {
                Ty::Float(FloatTy::F64) => f64::from(f32::from_bits(*b)).to_bits(),
                _ => u64::from(*b),
            },
            Operand::F64Bits(b, _) => match ty {
                Ty::Float(FloatTy::F32) => u64::from((f64::from_bits(*b) as f32).to_bits()),
                _ => *b,
            },
            Operand::Decimal(x, _) => match ty {
                Ty::Float(FloatTy::F32) => u64::from((*x as f32).to_bits()),
                _ => x.to_bits(),
            },
            Operand::Sink(t) => return Err(self.error_at(*t, "`_` is not a source")),
            other => {
                return Err(self.error_at(other.token(), "expected a register or an immediate"));
            }
        };
        Ok(self.constant(ConstValue::Bits(bits)))
    }

    /// The address of a symbol in its own state space, as a constant slot.
    fn symbol_address(
        &mut self,
        sym: Symbol,
        offset: i64,
        at: Token<'a>,
    ) -> Result<Reg, ParseError> {
        let value = match sym {
            Symbol::Global(var) => ConstValue::GlobalAddress { var, offset },
            Symbol::Shared(o) | Symbol::Local(o) | Symbol::Param { offset: o, .. } => {
                ConstValue::Bits(u64::from(o).wrapping_add(offset as u64))
            }
            Symbol::DynamicShared => ConstValue::DynamicShared { offset },
            Symbol::Func(_) => {
                return Err(self.error_at(at, "function addresses are not supported"));
            }
            Symbol::Reg(_) => unreachable!("handled by the callers"),
        };
        Ok(self.constant(value))
    }

    /// `[base + offset]` → base slot (register or symbol address) and offset.
    pub fn address(&mut self, op: &Operand<'a>) -> Result<Addr, ParseError> {
        let Operand::Address(base, offset, t) = op else {
            return Err(self.error_at(op.token(), "expected an address `[...]`"));
        };
        match base {
            None => Ok(Addr { base: self.constant(ConstValue::Bits(*offset as u64)), offset: 0 }),
            Some((w, wt)) => match self.lookup(w) {
                Some(Symbol::Reg(r)) => Ok(Addr { base: r, offset: *offset }),
                Some(sym) => {
                    Ok(Addr { base: self.symbol_address(sym, i64::from(*offset), *wt)?, offset: 0 })
                }
                None => Err(self.error_at(*t, format!("unknown name `{w}` in an address"))),
            },
        }
    }

    /// A register or a `{a, b, c, d}` vector of registers (destinations when `write`).
    pub fn regs(
        &mut self,
        op: &Operand<'a>,
        ty: Ty,
        lanes: u8,
        write: bool,
    ) -> Result<Regs, ParseError> {
        let mut regs = Regs { regs: [SINK; 4], len: lanes };
        match op {
            Operand::Vector(items, t) => {
                if items.len() != lanes as usize {
                    return Err(
                        self.error_at(*t, format!("expected a vector of {lanes} registers"))
                    );
                }
                for (i, item) in items.iter().enumerate() {
                    regs.regs[i] = if write { self.dest(item)? } else { self.src(item, ty)? };
                }
            }
            single if lanes == 1 => {
                regs.regs[0] = if write { self.dest(single)? } else { self.src(single, ty)? }
            }
            other => {
                return Err(
                    self.error_at(other.token(), format!("expected a vector of {lanes} registers"))
                );
            }
        }
        Ok(regs)
    }

    /// A predicate source, possibly negated (`!%p`): (slot, negated).
    pub fn pred(&mut self, op: &Operand<'a>) -> Result<(Reg, bool), ParseError> {
        match op {
            Operand::Not(w, t) => Ok((self.dest(&Operand::Name(w, *t))?, true)),
            other => Ok((self.src(other, Ty::Pred)?, false)),
        }
    }
}
