//! Opcode + modifiers + operands → one [`Op`]. Every modifier must be understood by the
//! family that decodes it: an unknown one is an error naming it, never silently dropped.

use super::operand::Operand;
use super::{Parser, scalar_type};
use crate::error::ParseError;
use crate::inst::*;
use crate::lex::Token;

mod memory;

/// The dotted modifiers after an opcode's base name, each consumed at most once.
struct Mods<'a> {
    items: Vec<&'a str>,
    used: Vec<bool>,
}

impl<'a> Mods<'a> {
    fn take(&mut self, m: &str) -> bool {
        for (i, item) in self.items.iter().enumerate() {
            if !self.used[i] && *item == m {
                self.used[i] = true;
                return true;
            }
        }
        false
    }

    /// The value of the first modifier of `table` that is present (consumed).
    fn pick<T: Copy>(&mut self, table: &[(&str, T)]) -> Option<T> {
        table.iter().find(|(m, _)| self.take(m)).map(|(_, v)| *v)
    }

    fn take_any(&mut self, set: &[&'a str]) -> Option<&'a str> {
        set.iter().copied().find(|m| self.take(m))
    }

    /// Removes modifiers that change nothing observable here (cache hints, `.uni`, ...).
    fn drop_hints(&mut self, base: &str) {
        for (i, item) in self.items.iter().enumerate() {
            // `.uni` is a hint on branches and calls, an operation of `vote`.
            let hint = (*item == ".uni" && base != "vote")
                || matches!(
                    *item,
                    ".aligned" | ".ca" | ".cg" | ".cs" | ".lu" | ".cv" | ".wb" | ".wt" | ".nc"
                )
                || item.starts_with(".L1::")
                || item.starts_with(".L2::");
            if hint {
                self.used[i] = true;
            }
        }
    }

    /// The scalar types, in order.
    fn types(&mut self) -> Vec<Ty> {
        let mut out = Vec::new();
        for (i, item) in self.items.iter().enumerate() {
            if !self.used[i] {
                if let Some(t) = scalar_type(item) {
                    self.used[i] = true;
                    out.push(t);
                }
            }
        }
        out
    }

    /// An untyped bit-size type (`.b8` … `.b128`) among the modifiers not yet taken.
    fn bit_type(&self) -> Option<&'a str> {
        self.items
            .iter()
            .zip(&self.used)
            .find(|(m, used)| !**used && matches!(**m, ".b8" | ".b16" | ".b32" | ".b64" | ".b128"))
            .map(|(m, _)| *m)
    }

    fn leftover(&self) -> Option<&'a str> {
        self.items.iter().zip(&self.used).find(|(_, u)| !**u).map(|(m, _)| *m)
    }
}

/// Instructions whose integer forms take signed or unsigned types only, never `.bN`.
const ARITHMETIC: &[&str] = &[
    "add", "sub", "addc", "subc", "mul", "mad", "mul24", "mad24", "sad", "div", "rem", "abs",
    "neg", "min", "max",
];

/// `.u32`: the type of counts, positions, masks and lane indices.
const U32: Ty = Ty::Int(IntTy { bits: 32, signed: false });

fn int(ty: Ty) -> Option<IntTy> {
    if let Ty::Int(i) = ty { Some(i) } else { None }
}

fn float(ty: Ty) -> Option<FloatTy> {
    if let Ty::Float(f) = ty { Some(f) } else { None }
}

const ROUNDINGS: &[(&str, Round)] =
    &[(".rn", Round::Nearest), (".rz", Round::Zero), (".rm", Round::Down), (".rp", Round::Up)];

const INTEGER_ROUNDINGS: &[(&str, Round)] =
    &[(".rni", Round::Nearest), (".rzi", Round::Zero), (".rmi", Round::Down), (".rpi", Round::Up)];

const COMPARISONS: &[(&str, Cmp)] = &[
    (".eq", Cmp::Eq),
    (".ne", Cmp::Ne),
    (".lt", Cmp::Lt),
    (".le", Cmp::Le),
    (".gt", Cmp::Gt),
    (".ge", Cmp::Ge),
    (".lo", Cmp::Lo),
    (".ls", Cmp::Ls),
    (".hi", Cmp::Hi),
    (".hs", Cmp::Hs),
    (".equ", Cmp::Equ),
    (".neu", Cmp::Neu),
    (".ltu", Cmp::Ltu),
    (".leu", Cmp::Leu),
    (".gtu", Cmp::Gtu),
    (".geu", Cmp::Geu),
    (".num", Cmp::Num),
    (".nan", Cmp::Nan),
];

impl<'a> Parser<'a> {
    pub fn instruction(&mut self) -> Result<(), ParseError> {
        let mut guard = SINK;
        let mut guard_negated = false;
        if self.eat_punct('@') {
            guard_negated = self.eat_punct('!');
            let (g, at) = self.word("a guard predicate")?;
            guard = self.dest(&Operand::Name(g, at))?;
        }
        let (opcode, at) = self.word("an opcode")?;
        let ops = self.operands()?;
        let base = opcode.split('.').next().unwrap_or("");
        let mut items = Vec::new();
        let rest = &opcode[base.len()..];
        let mut start = 0;
        for (i, c) in rest.char_indices().skip(1) {
            if c == '.' {
                items.push(&rest[start..i]);
                start = i;
            }
        }
        if !rest.is_empty() {
            items.push(&rest[start..]);
        }
        let used = vec![false; items.len()];
        let mut mods = Mods { items, used };
        let op = self.decode(base, &mut mods, &ops, at)?.specialize();
        if let Some(m) = mods.leftover() {
            return Err(self.error_at(at, format!("`{base}` does not support the modifier `{m}`")));
        }
        self.push_guarded(Inst { guard, guard_negated, op }, at.line);
        Ok(())
    }

    fn arity(
        &self,
        ops: &[Operand<'a>],
        n: usize,
        at: Token<'a>,
        base: &str,
    ) -> Result<(), ParseError> {
        if ops.len() == n {
            Ok(())
        } else {
            Err(self.error_at(at, format!("`{base}` takes {n} operands, found {}", ops.len())))
        }
    }

    fn one_type(&self, mods: &mut Mods<'a>, at: Token<'a>, base: &str) -> Result<Ty, ParseError> {
        match mods.types().as_slice() {
            [t] => Ok(*t),
            _ => Err(self.error_at(at, format!("`{base}` needs exactly one type such as `.u32`"))),
        }
    }

    fn int_type(
        &self,
        mods: &mut Mods<'a>,
        at: Token<'a>,
        base: &str,
    ) -> Result<IntTy, ParseError> {
        let t = self.one_type(mods, at, base)?;
        int(t).ok_or_else(|| self.error_at(at, format!("`{base}` needs an integer type")))
    }

    fn float_mode(&self, mods: &mut Mods<'a>) -> FloatMode {
        let round = mods.pick(ROUNDINGS).unwrap_or(Round::Nearest);
        FloatMode { round, ftz: mods.take(".ftz"), sat: mods.take(".sat") }
    }

    fn order(mods: &mut Mods<'a>) -> Order {
        let order = match mods.take_any(&[
            ".relaxed",
            ".acquire",
            ".release",
            ".acq_rel",
            ".sc",
            ".volatile",
            ".weak",
            ".mmio",
        ]) {
            Some(".relaxed") | Some(".volatile") | Some(".mmio") => Order::Relaxed,
            Some(".acquire") => Order::Acquire,
            Some(".release") => Order::Release,
            Some(".acq_rel") => Order::AcqRel,
            Some(".sc") => Order::SeqCst,
            _ => Order::Weak,
        };
        mods.take_any(&[".cta", ".gpu", ".sys", ".cluster"]);
        order
    }

    fn space(mods: &mut Mods<'a>) -> Space {
        match mods.take_any(&[".global", ".shared", ".local", ".param", ".const", ".shared::cta"]) {
            Some(".global") => Space::Global,
            Some(".shared") | Some(".shared::cta") => Space::Shared,
            Some(".local") => Space::Local,
            Some(".param") => Space::Param,
            Some(".const") => Space::Const,
            _ => Space::Generic,
        }
    }

    fn decode(
        &mut self,
        base: &str,
        mods: &mut Mods<'a>,
        ops: &[Operand<'a>],
        at: Token<'a>,
    ) -> Result<Op, ParseError> {
        mods.drop_hints(base);
        if ARITHMETIC.contains(&base) {
            if let Some(bits) = mods.bit_type() {
                return Err(self.error_at(
                    at,
                    format!("`{base}` takes a `.u`, `.s` or float type, not `{bits}`"),
                ));
            }
        }
        match base {
            "mov" => self.decode_mov(mods, ops, at),
            "add" | "sub" | "addc" | "subc" => {
                self.arity(ops, 3, at, base)?;
                let ty = self.one_type(mods, at, base)?;
                if let Some(f) = float(ty) {
                    let mode = self.float_mode(mods);
                    let op = if base == "add" { FloatOp::Add } else { FloatOp::Sub };
                    let (d, a, b) =
                        (self.dest(&ops[0])?, self.src(&ops[1], ty)?, self.src(&ops[2], ty)?);
                    return Ok(Op::Float { op, ty: f, mode, d, a, b });
                }
                let ty = int(ty).ok_or_else(|| self.error_at(at, "bad type"))?;
                let sat = mods.take(".sat");
                let carry = Carry { read: base.ends_with('c'), write: mods.take(".cc") };
                let (d, a, b) = (
                    self.dest(&ops[0])?,
                    self.src(&ops[1], Ty::Int(ty))?,
                    self.src(&ops[2], Ty::Int(ty))?,
                );
                let op = if base.starts_with("add") { IntOp::Add } else { IntOp::Sub };
                if carry.read || carry.write {
                    if sat || ty.bits < 32 {
                        return Err(self.error_at(
                            at,
                            "carry arithmetic needs a 32- or 64-bit type and no `.sat`",
                        ));
                    }
                    return Ok(Op::IntCarry { op, carry, ty, d, a, b });
                }
                if sat {
                    if ty != (IntTy { bits: 32, signed: true }) {
                        return Err(self.error_at(at, "`.sat` integer add/sub is `.s32` only"));
                    }
                    let op = if op == IntOp::Add { IntOp::AddSat } else { IntOp::SubSat };
                    return Ok(Op::Int { op, ty, d, a, b });
                }
                Ok(Op::Int { op, ty, d, a, b })
            }
            "mul" | "mad" | "fma" => self.decode_mul(base, mods, ops, at),
            "mul24" | "mad24" => {
                let hi = mods.take(".hi");
                if !hi {
                    mods.take(".lo");
                }
                let ty = self.int_type(mods, at, base)?;
                if base == "mad24" {
                    return Err(self.error_at(at, "`mad24` is not supported; use `mad`"));
                }
                self.arity(ops, 3, at, base)?;
                let (d, a, b) = (
                    self.dest(&ops[0])?,
                    self.src(&ops[1], Ty::Int(ty))?,
                    self.src(&ops[2], Ty::Int(ty))?,
                );
                Ok(Op::Mul24 { hi, ty, d, a, b })
            }
            "sad" => {
                self.arity(ops, 4, at, base)?;
                let ty = self.int_type(mods, at, base)?;
                let t = Ty::Int(ty);
                Ok(Op::Sad {
                    ty,
                    d: self.dest(&ops[0])?,
                    a: self.src(&ops[1], t)?,
                    b: self.src(&ops[2], t)?,
                    c: self.src(&ops[3], t)?,
                })
            }
            "div" | "rem" | "min" | "max" | "and" | "or" | "xor" | "shl" | "shr" | "copysign" => {
                self.arity(ops, 3, at, base)?;
                let approx = mods.take(".approx");
                let full = mods.take(".full");
                let explicit = approx
                    || full
                    || mods.items.iter().any(|m| matches!(*m, ".rn" | ".rz" | ".rm" | ".rp"));
                let ty = self.one_type(mods, at, base)?;
                if ty == Ty::Pred && matches!(base, "and" | "or" | "xor") {
                    let op = match base {
                        "and" => BoolOp::And,
                        "or" => BoolOp::Or,
                        _ => BoolOp::Xor,
                    };
                    return Ok(Op::PredBin {
                        op,
                        d: self.dest(&ops[0])?,
                        a: self.src(&ops[1], ty)?,
                        b: self.src(&ops[2], ty)?,
                    });
                }
                if let Some(f) = float(ty) {
                    let mode = self.float_mode(mods);
                    let op = match base {
                        "div" if approx || full => FloatOp::DivApprox,
                        "div" => FloatOp::Div,
                        "min" => FloatOp::Min,
                        "max" => FloatOp::Max,
                        "copysign" => FloatOp::Copysign,
                        _ => return Err(self.error_at(at, format!("`{base}` has no float form"))),
                    };
                    if op == FloatOp::Div && !explicit {
                        return Err(self.error_at(
                            at,
                            "float `div` needs `.approx`, `.full` or a rounding modifier",
                        ));
                    }
                    let (d, a, b) =
                        (self.dest(&ops[0])?, self.src(&ops[1], ty)?, self.src(&ops[2], ty)?);
                    return Ok(Op::Float { op, ty: f, mode, d, a, b });
                }
                let ity = int(ty).ok_or_else(|| self.error_at(at, "bad type"))?;
                let op = match base {
                    "div" => IntOp::Div,
                    "rem" => IntOp::Rem,
                    "min" => IntOp::Min,
                    "max" => IntOp::Max,
                    "and" => IntOp::And,
                    "or" => IntOp::Or,
                    "xor" => IntOp::Xor,
                    "shl" => IntOp::Shl,
                    "shr" => IntOp::Shr,
                    _ => return Err(self.error_at(at, format!("`{base}` needs a float type"))),
                };
                // Shift amounts are always .u32 (ISA 9.7.8.7).
                let bty = if matches!(op, IntOp::Shl | IntOp::Shr) { U32 } else { ty };
                let (d, a, b) =
                    (self.dest(&ops[0])?, self.src(&ops[1], ty)?, self.src(&ops[2], bty)?);
                Ok(Op::Int { op, ty: ity, d, a, b })
            }
            "abs" | "neg" | "not" | "cnot" | "popc" | "clz" | "bfind" | "brev" => {
                self.arity(ops, 2, at, base)?;
                let shift_amount = mods.take(".shiftamt");
                let ty = self.one_type(mods, at, base)?;
                if ty == Ty::Pred && base == "not" {
                    return Ok(Op::PredNot { d: self.dest(&ops[0])?, a: self.src(&ops[1], ty)? });
                }
                if let Some(f) = float(ty) {
                    let mode = self.float_mode(mods);
                    let op = match base {
                        "abs" => FloatUnOp::Abs,
                        "neg" => FloatUnOp::Neg,
                        _ => return Err(self.error_at(at, format!("`{base}` has no float form"))),
                    };
                    return Ok(Op::FloatUn {
                        op,
                        ty: f,
                        mode,
                        d: self.dest(&ops[0])?,
                        a: self.src(&ops[1], ty)?,
                    });
                }
                let ity = int(ty).ok_or_else(|| self.error_at(at, "bad type"))?;
                let op = match base {
                    "abs" => IntUnOp::Abs,
                    "neg" => IntUnOp::Neg,
                    "not" => IntUnOp::Not,
                    "cnot" => IntUnOp::Cnot,
                    "popc" => IntUnOp::Popc,
                    "clz" => IntUnOp::Clz,
                    "bfind" => IntUnOp::Bfind { shift_amount },
                    _ => IntUnOp::Brev,
                };
                Ok(Op::IntUn { op, ty: ity, d: self.dest(&ops[0])?, a: self.src(&ops[1], ty)? })
            }
            "bfe" => {
                self.arity(ops, 4, at, base)?;
                let ty = self.int_type(mods, at, base)?;
                Ok(Op::Bfe {
                    ty,
                    d: self.dest(&ops[0])?,
                    a: self.src(&ops[1], Ty::Int(ty))?,
                    pos: self.src(&ops[2], U32)?,
                    len: self.src(&ops[3], U32)?,
                })
            }
            "bfi" => {
                self.arity(ops, 5, at, base)?;
                let ty = self.int_type(mods, at, base)?;
                Ok(Op::Bfi {
                    ty,
                    d: self.dest(&ops[0])?,
                    a: self.src(&ops[1], Ty::Int(ty))?,
                    b: self.src(&ops[2], Ty::Int(ty))?,
                    pos: self.src(&ops[3], U32)?,
                    len: self.src(&ops[4], U32)?,
                })
            }
            "prmt" => {
                self.arity(ops, 4, at, base)?;
                let mode =
                    mods.take_any(&[".f4e", ".b4e", ".rc8", ".ecl", ".ecr", ".rc16"]).map(|m| {
                        match m {
                            ".f4e" => 0,
                            ".b4e" => 1,
                            ".rc8" => 2,
                            ".ecl" => 3,
                            ".ecr" => 4,
                            _ => 5,
                        }
                    });
                let t = Ty::Int(self.int_type(mods, at, base)?);
                Ok(Op::Prmt {
                    d: self.dest(&ops[0])?,
                    a: self.src(&ops[1], t)?,
                    b: self.src(&ops[2], t)?,
                    c: self.src(&ops[3], t)?,
                    mode,
                })
            }
            "setp" | "set" => self.decode_setp(base, mods, ops, at),
            "selp" => {
                self.arity(ops, 4, at, base)?;
                let ty = self.one_type(mods, at, base)?;
                Ok(Op::Selp {
                    d: self.dest(&ops[0])?,
                    a: self.src(&ops[1], ty)?,
                    b: self.src(&ops[2], ty)?,
                    p: self.src(&ops[3], Ty::Pred)?,
                })
            }
            "slct" => {
                self.arity(ops, 4, at, base)?;
                mods.take(".ftz");
                let types = mods.types();
                let [ty, cty] = types[..] else {
                    return Err(self.error_at(at, "`slct` needs two types"));
                };
                Ok(Op::Slct {
                    ty,
                    cty,
                    d: self.dest(&ops[0])?,
                    a: self.src(&ops[1], ty)?,
                    b: self.src(&ops[2], ty)?,
                    c: self.src(&ops[3], cty)?,
                })
            }
            "sqrt" | "rsqrt" | "rcp" | "ex2" | "lg2" | "sin" | "cos" | "tanh" | "testp" => {
                self.arity(ops, 2, at, base)?;
                let approx = mods.take(".approx");
                let testp = mods.pick(&[
                    (".finite", TestpOp::Finite),
                    (".infinite", TestpOp::Infinite),
                    (".number", TestpOp::Number),
                    (".notanumber", TestpOp::NotANumber),
                    (".normal", TestpOp::Normal),
                    (".subnormal", TestpOp::Subnormal),
                ]);
                let mode = self.float_mode(mods);
                let ty = self.one_type(mods, at, base)?;
                let f = float(ty)
                    .ok_or_else(|| self.error_at(at, format!("`{base}` needs a float type")))?;
                let op = match base {
                    "sqrt" if approx => FloatUnOp::SqrtApprox,
                    "sqrt" => FloatUnOp::Sqrt,
                    "rsqrt" => FloatUnOp::Rsqrt,
                    "rcp" if approx => FloatUnOp::RcpApprox,
                    "rcp" => FloatUnOp::Rcp,
                    "ex2" => FloatUnOp::Ex2,
                    "lg2" => FloatUnOp::Lg2,
                    "sin" => FloatUnOp::Sin,
                    "cos" => FloatUnOp::Cos,
                    "tanh" => FloatUnOp::Tanh,
                    _ => FloatUnOp::Testp(testp.ok_or_else(|| {
                        self.error_at(at, "`testp` needs a property such as `.finite`")
                    })?),
                };
                let needs_approx = matches!(
                    op,
                    FloatUnOp::Rsqrt
                        | FloatUnOp::Ex2
                        | FloatUnOp::Lg2
                        | FloatUnOp::Sin
                        | FloatUnOp::Cos
                        | FloatUnOp::Tanh
                );
                if needs_approx && !approx {
                    return Err(
                        self.error_at(at, format!("`{base}` exists only as `{base}.approx`"))
                    );
                }
                Ok(Op::FloatUn {
                    op,
                    ty: f,
                    mode,
                    d: self.dest(&ops[0])?,
                    a: self.src(&ops[1], ty)?,
                })
            }
            "cvt" => {
                self.arity(ops, 2, at, base)?;
                let integer_rounding = mods.pick(INTEGER_ROUNDINGS);
                let (round, integral) = match integer_rounding {
                    Some(r) => (Some(r), true),
                    None => (mods.pick(ROUNDINGS), false),
                };
                let ftz = mods.take(".ftz");
                let sat = mods.take(".sat");
                let types = mods.types();
                let [dty, sty] = types[..] else {
                    return Err(self.error_at(at, "`cvt` needs a destination and a source type"));
                };
                if dty == Ty::Pred || sty == Ty::Pred {
                    return Err(self.error_at(at, "`cvt` does not convert predicates"));
                }
                let float_dst = float(dty).is_some();
                let float_src = float(sty).is_some();
                if integral && !(float_src) {
                    return Err(
                        self.error_at(at, "integer rounding (`.rni` ...) needs a float source")
                    );
                }
                if float_src && !float_dst && !integral && round.is_some() {
                    return Err(
                        self.error_at(at, "float-to-integer `cvt` takes `.rni .rzi .rmi .rpi`")
                    );
                }
                if float_src && !float_dst && round.is_none() {
                    return Err(
                        self.error_at(at, "float-to-integer `cvt` needs a rounding modifier")
                    );
                }
                Ok(Op::Cvt {
                    dty,
                    sty,
                    round,
                    integral,
                    ftz,
                    sat,
                    d: self.dest(&ops[0])?,
                    a: self.src(&ops[1], sty)?,
                })
            }
            "cvta" => {
                self.arity(ops, 2, at, base)?;
                let to = mods.take(".to");
                let space = Self::space(mods);
                if matches!(space, Space::Generic) {
                    return Err(self.error_at(at, "`cvta` needs a state space"));
                }
                let ty = self.int_type(mods, at, base)?;
                Ok(Op::Cvta {
                    space,
                    to_generic: !to,
                    d: self.dest(&ops[0])?,
                    a: self.src(&ops[1], Ty::Int(ty))?,
                })
            }
            "ld" | "st" | "ldu" => self.decode_memory(base, mods, ops, at),
            "atom" | "red" => self.decode_atom(base, mods, ops, at),
            "fence" | "membar" | "bar" | "barrier" | "shfl" | "vote" | "activemask" => {
                self.decode_sync(base, mods, ops, at)
            }
            "bra" => {
                self.arity(ops, 1, at, base)?;
                let Operand::Name(_, t) = &ops[0] else {
                    return Err(self.error_at(at, "`bra` needs a label"));
                };
                self.branch_fixup(*t);
                Ok(Op::Bra { target: u32::MAX })
            }
            "call" => self.decode_call(ops, at),
            "ret" => Ok(Op::Ret),
            "exit" => Ok(Op::Exit),
            "trap" => Ok(Op::Trap),
            // Without a debugger attached, a breakpoint stops the kernel like `trap`.
            "brkpt" => Ok(Op::Trap),
            "pmevent" => Ok(Op::Nop),
            "prefetch" | "prefetchu" => {
                Self::space(mods);
                mods.take_any(&[".L1", ".L2"]);
                Ok(Op::Nop)
            }
            "nanosleep" => {
                let _ = mods.types();
                self.arity(ops, 1, at, base)?;
                self.src(&ops[0], U32)?;
                Ok(Op::Nanosleep)
            }
            _ => Err(self.error_at(at, format!("unsupported instruction `{base}`"))),
        }
    }

    fn decode_mov(
        &mut self,
        mods: &mut Mods<'a>,
        ops: &[Operand<'a>],
        at: Token<'a>,
    ) -> Result<Op, ParseError> {
        self.arity(ops, 2, at, "mov")?;
        let ty = self.one_type(mods, at, "mov")?;
        let bits = (ty.bytes() * 8) as u8;
        let mask = if ty == Ty::Pred {
            1
        } else if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        match (&ops[0], &ops[1]) {
            (Operand::Vector(items, t), src) => {
                let part_bits = bits / items.len().max(1) as u8;
                if !matches!(items.len(), 2 | 4) || part_bits < 8 {
                    return Err(self.error_at(*t, "`mov` unpacks into 2 or 4 registers"));
                }
                let parts = self.regs(&ops[0], ty, items.len() as u8, true)?;
                Ok(Op::Unpack { parts, a: self.src(src, ty)?, part_bits })
            }
            (dst, Operand::Vector(items, t)) => {
                let part_bits = bits / items.len().max(1) as u8;
                if !matches!(items.len(), 2 | 4) || part_bits < 8 {
                    return Err(self.error_at(*t, "`mov` packs 2 or 4 registers"));
                }
                let pt = Ty::Int(IntTy { bits: part_bits, signed: false });
                let parts = self.regs(&ops[1], pt, items.len() as u8, false)?;
                Ok(Op::Pack { d: self.dest(dst)?, parts, part_bits })
            }
            (dst, Operand::Name(w, _)) if DYNAMIC.iter().any(|(n, _)| n == w) => {
                let which = DYNAMIC.iter().find(|(n, _)| n == w).map(|(_, d)| *d).expect("checked");
                Ok(Op::MovDynamic { d: self.dest(dst)?, which })
            }
            (dst, src) => Ok(Op::Mov { d: self.dest(dst)?, a: self.src(src, ty)?, mask }),
        }
    }

    fn decode_mul(
        &mut self,
        base: &str,
        mods: &mut Mods<'a>,
        ops: &[Operand<'a>],
        at: Token<'a>,
    ) -> Result<Op, ParseError> {
        let n = if base == "mul" { 3 } else { 4 };
        self.arity(ops, n, at, base)?;
        let width = mods.take_any(&[".lo", ".hi", ".wide"]);
        let ty = self.one_type(mods, at, base)?;
        if let Some(f) = float(ty) {
            let explicit = mods.items.iter().any(|m| matches!(*m, ".rn" | ".rz" | ".rm" | ".rp"));
            let mode = self.float_mode(mods);
            if base == "fma" && !explicit {
                return Err(self.error_at(at, "`fma` needs a rounding modifier"));
            }
            let (d, a, b) = (self.dest(&ops[0])?, self.src(&ops[1], ty)?, self.src(&ops[2], ty)?);
            if base == "mul" {
                return Ok(Op::Float { op: FloatOp::Mul, ty: f, mode, d, a, b });
            }
            // `mad.f32` with a rounding modifier is fma (ISA 9.7.3.6); without one it is an
            // old, unrounded form that we do not model.
            if base == "mad" && !explicit {
                return Err(self
                    .error_at(at, "`mad` on floats needs a rounding modifier (it is then `fma`)"));
            }
            return Ok(Op::Fma { ty: f, mode, d, a, b, c: self.src(&ops[3], ty)? });
        }
        if base == "fma" {
            return Err(self.error_at(at, "`fma` needs a float type"));
        }
        let ity = int(ty).ok_or_else(|| self.error_at(at, "bad type"))?;
        if mods.take(".sat") || mods.take(".cc") {
            return Err(self.error_at(at, format!("`{base}` with `.sat`/`.cc` is not supported")));
        }
        let d = self.dest(&ops[0])?;
        let a = self.src(&ops[1], ty)?;
        let b = self.src(&ops[2], ty)?;
        let wide = width == Some(".wide");
        if wide && ity.bits == 64 {
            return Err(self.error_at(at, "`.wide` needs a 16- or 32-bit type"));
        }
        let wide_ty = Ty::Int(IntTy { bits: ity.bits * 2, signed: ity.signed });
        match (base, width) {
            ("mul", Some(".wide")) => Ok(Op::MulWide { ty: ity, d, a, b }),
            ("mul", Some(".hi")) => Ok(Op::Int { op: IntOp::MulHi, ty: ity, d, a, b }),
            ("mul", Some(".lo")) => Ok(Op::Int { op: IntOp::MulLo, ty: ity, d, a, b }),
            ("mad", Some(".wide")) => {
                Ok(Op::MadWide { ty: ity, d, a, b, c: self.src(&ops[3], wide_ty)? })
            }
            ("mad", Some(".hi")) => {
                Ok(Op::Mad { hi: true, ty: ity, d, a, b, c: self.src(&ops[3], ty)? })
            }
            ("mad", Some(".lo")) => {
                Ok(Op::Mad { hi: false, ty: ity, d, a, b, c: self.src(&ops[3], ty)? })
            }
            _ => Err(self.error_at(at, format!("integer `{base}` needs `.lo`, `.hi` or `.wide`"))),
        }
    }

    fn decode_setp(
        &mut self,
        base: &str,
        mods: &mut Mods<'a>,
        ops: &[Operand<'a>],
        at: Token<'a>,
    ) -> Result<Op, ParseError> {
        let cmp = mods.pick(COMPARISONS);
        let cmp = cmp.ok_or_else(|| {
            self.error_at(at, format!("`{base}` needs a comparison such as `.lt`"))
        })?;
        let combine_op =
            mods.pick(&[(".and", BoolOp::And), (".or", BoolOp::Or), (".xor", BoolOp::Xor)]);
        let ftz = mods.take(".ftz");
        let types = mods.types();
        let (dty, ty) = match (base, &types[..]) {
            ("setp", [t]) => (Ty::Pred, *t),
            ("set", [d, t]) => (*d, *t),
            _ => return Err(self.error_at(at, format!("`{base}` has the wrong number of types"))),
        };
        if ty == Ty::Pred {
            return Err(self.error_at(at, "comparisons of predicates are not defined"));
        }
        let n = if combine_op.is_some() { 4 } else { 3 };
        self.arity(ops, n, at, base)?;
        let combine = match combine_op {
            Some(op) => {
                let (c, neg) = self.pred(&ops[3])?;
                Some((op, c, neg))
            }
            None => None,
        };
        let (a, b) = (self.src(&ops[1], ty)?, self.src(&ops[2], ty)?);
        if base == "set" {
            return Ok(Op::Set { cmp, ty, dty, d: self.dest(&ops[0])?, a, b, combine });
        }
        let (p, q) = match &ops[0] {
            Operand::Pair(p, q, t) => {
                (self.dest(&Operand::Name(p, *t))?, self.dest(&Operand::Name(q, *t))?)
            }
            other => (self.dest(other)?, SINK),
        };
        Ok(Op::Setp { cmp, ty, ftz, p, q, a, b, combine })
    }
}

const DYNAMIC: &[(&str, Dynamic)] = &[
    ("%clock", Dynamic::Clock),
    ("%clock64", Dynamic::Clock64),
    ("%globaltimer", Dynamic::GlobalTimer),
    ("%lanemask_lt", Dynamic::LaneMaskLt),
    ("%lanemask_le", Dynamic::LaneMaskLe),
    ("%lanemask_eq", Dynamic::LaneMaskEq),
    ("%lanemask_ge", Dynamic::LaneMaskGe),
    ("%lanemask_gt", Dynamic::LaneMaskGt),
];
