//! Expressions and statements → PTX instructions.

use crate::abi::{error, offsets};
use crate::ir::*;

use super::func::{Addr, Class, FuncWriter, Home, LoopLabels, Reg, Val, arith, class_of};

fn node_is_int(node: &ExprNode) -> bool {
    node.ty.scalar().is_some_and(Scalar::is_int)
}

fn scalar_of(ty: &Ty) -> Scalar {
    ty.scalar().unwrap_or(Scalar::U32)
}

impl FuncWriter<'_> {
    /// Evaluates an expression of scalar type into a register.
    pub fn scalar(&mut self, id: ExprId) -> Reg {
        match self.eval(id) {
            Val::Reg(r) => r,
            Val::Mem(addr) => {
                let ty = self.f.expr(id).ty.clone();
                self.load_value(&ty, addr)
            }
            Val::Unit => self.reg(Class::B32),
        }
    }

    /// Evaluates an expression of aggregate type to a memory location.
    pub fn memory(&mut self, id: ExprId) -> Addr {
        match self.eval(id) {
            Val::Mem(addr) => addr,
            Val::Reg(r) => {
                let ty = self.f.expr(id).ty.clone();
                let slot = self.frame_slot(&ty);
                self.store(scalar_of(&ty), slot, r);
                slot
            }
            Val::Unit => self.frame_slot(&Ty::Unit),
        }
    }

    /// Writes each field of a struct literal of type `name` at its offset from `dst`.
    fn write_struct_fields(&mut self, name: &str, fields: &[ExprId], dst: Addr) {
        let offsets: Vec<u32> = self
            .structs
            .get(name)
            .map(|l| l.fields.iter().map(|f| f.offset).collect())
            .unwrap_or_default();
        for (value, offset) in fields.iter().zip(offsets) {
            self.write_to(*value, dst.plus(offset));
        }
    }

    /// Writes the value of `id` to `dst`, which the expression cannot read (a fresh `let`
    /// slot, the response slot or a temporary): literals, `if`s and blocks write their parts
    /// straight into it instead of building the value elsewhere and copying.
    pub fn write_to(&mut self, id: ExprId, dst: Addr) {
        let node = self.f.expr(id).clone();
        let ty = node.ty.clone();
        match (&node.kind, &ty) {
            (ExprKind::StructLit(fields), Ty::Struct(name)) => {
                self.write_struct_fields(name, fields, dst);
                return;
            }
            (ExprKind::ArrayLit(items), Ty::Array(elem, _)) => {
                let (esize, _) = self.size_align(elem);
                for (i, item) in items.iter().enumerate() {
                    self.write_to(*item, dst.plus(i as u32 * esize));
                }
                return;
            }
            (ExprKind::ArrayRepeat(item, n), Ty::Array(elem, _)) if *n > 0 => {
                let elem = (**elem).clone();
                self.write_to(*item, dst);
                self.fill_from_first(&elem, *n, dst);
                return;
            }
            (ExprKind::If(cond, then, Some(otherwise)), _) if ty.is_aggregate() => {
                let c = self.scalar(*cond);
                let (else_label, end) = (self.label("else"), self.label("endif"));
                self.emit(format!("@!{c} bra \t{else_label};"));
                self.enter_region();
                self.block_into(then, dst);
                self.leave_region();
                self.emit(format!("bra.uni \t{end};"));
                self.place_label(&else_label);
                self.enter_region();
                self.block_into(otherwise, dst);
                self.leave_region();
                self.place_label(&end);
                return;
            }
            (ExprKind::Block(block), _) if ty.is_aggregate() => {
                self.block_into(block, dst);
                return;
            }
            _ => {}
        }
        match &ty {
            Ty::Unit => {
                self.eval(id);
            }
            Ty::Scalar(s) | Ty::Enum(_, s) => {
                let r = self.scalar(id);
                self.store(*s, dst, r);
            }
            _ => {
                let src = self.memory(id);
                self.copy(&ty, src, dst);
            }
        }
    }

    fn copy_reg(&mut self, r: Reg) -> Reg {
        let out = self.reg(r.class);
        let ty = match r.class {
            Class::Pred => "pred",
            Class::B32 => "b32",
            Class::B64 => "b64",
            Class::F32 => "f32",
            Class::F64 => "f64",
        };
        self.emit(format!("mov.{ty} \t{out}, {r};"));
        out
    }

    pub fn eval(&mut self, id: ExprId) -> Val {
        let node = self.f.expr(id).clone();
        match &node.kind {
            ExprKind::Const(c) => Val::Reg(self.constant(*c, scalar_of(&node.ty))),
            ExprKind::Local(local) => match self.homes[local.0 as usize] {
                // An immutable local's register is written once (per loop iteration at most)
                // before any read, so it can be used directly, which lets equal expressions
                // over it be recognised.
                Some(Home::Reg(r))
                    if !self.f.local(*local).mutable
                        && self.f.local(*local).kind != LocalKind::Var =>
                {
                    Val::Reg(r)
                }
                Some(Home::Reg(r))
                    if !self.f.local(*local).mutable && !self.is_loop_counter(*local) =>
                {
                    Val::Reg(r)
                }
                Some(Home::Reg(r)) => Val::Reg(self.copy_reg(r)),
                Some(Home::Mem(addr)) => self.value_at(&node.ty, addr),
                None => Val::Unit,
            },
            ExprKind::Field(base, index) => {
                let base_addr = self.memory(*base);
                let Ty::Struct(name) = &self.f.expr(*base).ty else { return Val::Unit };
                let offset = self
                    .structs
                    .get(name)
                    .and_then(|l| l.fields.get(*index as usize))
                    .map_or(0, |f| f.offset);
                let addr = base_addr.plus(offset);
                self.value_at(&node.ty, addr)
            }
            ExprKind::Index(base, index) => {
                let base_addr = self.memory(*base);
                let addr = self.element(base_addr, &self.f.expr(*base).ty.clone(), *index);
                self.value_at(&node.ty, addr)
            }
            ExprKind::Unary(op, inner) => {
                let v = self.scalar(*inner);
                let key = format!("{op:?} {v} {}", node.ty);
                if let Some(r) = self.recall(&key) {
                    return Val::Reg(r);
                }
                let r = self.unary_reg(*op, scalar_of(&self.f.expr(*inner).ty), v);
                self.remember(key, r);
                Val::Reg(r)
            }
            ExprKind::Binary(op, l, r) => Val::Reg(self.binary(*op, *l, *r)),
            ExprKind::And(l, r) | ExprKind::Or(l, r) => {
                let is_and = matches!(node.kind, ExprKind::And(..));
                let out = self.reg(Class::Pred);
                let left = self.scalar(*l);
                self.emit(format!("mov.pred \t{out}, {left};"));
                let done = self.label("sc");
                self.emit(format!("@{}{out} bra \t{done};", if is_and { "!" } else { "" }));
                self.enter_region();
                let right = self.scalar(*r);
                self.leave_region();
                self.emit(format!("mov.pred \t{out}, {right};"));
                self.place_label(&done);
                Val::Reg(out)
            }
            ExprKind::Cast(inner) => {
                let from = scalar_of(&self.f.expr(*inner).ty);
                let value = self.scalar(*inner);
                let key = format!("as {value} {} {}", from.name(), node.ty);
                if let Some(r) = self.recall(&key) {
                    return Val::Reg(r);
                }
                let r = self.cast(value, from, scalar_of(&node.ty));
                self.remember(key, r);
                Val::Reg(r)
            }
            ExprKind::Call(func, args) => self.call(*func, args, &node.ty),
            ExprKind::Math(fun, args) => Val::Reg(self.math(*fun, args, scalar_of(&node.ty))),
            ExprKind::Intrinsic(which) => Val::Reg(self.intrinsic(*which)),
            ExprKind::If(cond, then, otherwise) => {
                self.if_value(*cond, then, otherwise.as_ref(), &node.ty)
            }
            ExprKind::Block(block) => self.block_value(block, &node.ty),
            ExprKind::StructLit(fields) => {
                let slot = self.frame_slot(&node.ty);
                let Ty::Struct(name) = &node.ty else { return Val::Unit };
                self.write_struct_fields(name, fields, slot);
                Val::Mem(slot)
            }
            ExprKind::ArrayLit(items) => {
                let slot = self.frame_slot(&node.ty);
                let Ty::Array(elem, _) = &node.ty else { return Val::Unit };
                let (esize, _) = self.size_align(elem);
                for (i, item) in items.iter().enumerate() {
                    self.write_to(*item, slot.plus(i as u32 * esize));
                }
                Val::Mem(slot)
            }
            ExprKind::ArrayRepeat(item, n) => {
                let slot = self.frame_slot(&node.ty);
                let Ty::Array(elem, _) = &node.ty else { return Val::Unit };
                let elem = (**elem).clone();
                if *n > 0 {
                    self.write_to(*item, slot);
                    self.fill_from_first(&elem, *n, slot);
                } else {
                    self.eval(*item);
                }
                Val::Mem(slot)
            }
        }
    }

    /// The value of type `ty` stored at `addr`: aggregates stay in memory, scalars are loaded.
    fn value_at(&mut self, ty: &Ty, addr: Addr) -> Val {
        if ty.is_aggregate() { Val::Mem(addr) } else { Val::Reg(self.load_value(ty, addr)) }
    }

    /// Address of element `index` of the array at `base`, guarded by the bounds check.
    pub fn element(&mut self, base: Addr, array_ty: &Ty, index: ExprId) -> Addr {
        let Ty::Array(elem, len) = array_ty else { return base };
        let (esize, _) = self.size_align(elem);
        let i = self.scalar(index);
        let ok = self.reg(Class::Pred);
        self.emit(format!("setp.lt.u64 \t{ok}, {i}, {len};"));
        self.record_error_unless(ok, error::INDEX_OUT_OF_BOUNDS);
        let guard = match base.guard {
            Some(outer) => {
                let both = self.reg(Class::Pred);
                self.emit(format!("and.pred \t{both}, {ok}, {outer};"));
                both
            }
            None => ok,
        };
        let addr = self.reg(Class::B64);
        self.emit(format!("mad.lo.u64 \t{addr}, {i}, {esize}, {};", base.base));
        Addr { base: addr, offset: base.offset, guard: Some(guard) }
    }

    pub fn constant(&mut self, c: Const, s: Scalar) -> Reg {
        let class = class_of(s);
        let r = self.reg(class);
        match (c, class) {
            (Const::Bool(b), _) => {
                let t = self.reg(Class::B32);
                self.emit(format!("mov.u32 \t{t}, {};", u32::from(b)));
                self.emit(format!("setp.ne.u32 \t{r}, {t}, 0;"));
            }
            (Const::Int(bits), Class::B32) => {
                let value = if s.is_signed_int() {
                    i64::from((bits as u32) as i32) as u64 as u32
                } else {
                    bits as u32
                };
                let value = match s {
                    Scalar::I8 => (bits as u8) as i8 as i32 as u32,
                    Scalar::I16 => (bits as u16) as i16 as i32 as u32,
                    Scalar::U8 => u32::from(bits as u8),
                    Scalar::U16 => u32::from(bits as u16),
                    _ => value,
                };
                self.emit(format!("mov.b32 \t{r}, {value};"));
            }
            (Const::Int(bits), Class::B64) => self.emit(format!("mov.b64 \t{r}, {bits};")),
            (Const::Float(v), Class::F32) => {
                self.emit(format!("mov.f32 \t{r}, 0f{:08X};", (v as f32).to_bits()))
            }
            (Const::Float(v), Class::F64) => {
                self.emit(format!("mov.f64 \t{r}, 0d{:016X};", v.to_bits()))
            }
            (Const::Int(bits), Class::F32) => {
                self.emit(format!("mov.f32 \t{r}, 0f{:08X};", (bits as f32).to_bits()))
            }
            (Const::Int(bits), Class::F64) => {
                self.emit(format!("mov.f64 \t{r}, 0d{:016X};", (bits as f64).to_bits()))
            }
            _ => {}
        }
        r
    }

    fn unary_reg(&mut self, op: UnaryOp, s: Scalar, v: Reg) -> Reg {
        let out = self.reg(v.class);
        match (op, v.class) {
            (UnaryOp::Not, Class::Pred) => self.emit(format!("not.pred \t{out}, {v};")),
            (UnaryOp::Not, Class::B32) => self.emit(format!("not.b32 \t{out}, {v};")),
            (UnaryOp::Not, _) => self.emit(format!("not.b64 \t{out}, {v};")),
            (UnaryOp::Neg, _) => self.emit(format!("neg.{} \t{out}, {v};", arith(s))),
        }
        self.normalize(s, out);
        out
    }

    fn binary(&mut self, op: BinaryOp, l: ExprId, r: ExprId) -> Reg {
        let s = scalar_of(&self.f.expr(l).ty);
        let rs = scalar_of(&self.f.expr(r).ty);
        if let Some(p) = self.divisibility_test(op, l, r) {
            return p;
        }
        if op == BinaryOp::Div
            && s.is_float()
            && matches!(self.f.expr(l).kind, ExprKind::Const(Const::Float(v)) if v == 1.0)
        {
            // `1.0 / x`: the correctly rounded reciprocal is bit-identical and cheaper.
            let x = self.scalar(r);
            let out = self.reg(x.class);
            self.emit(format!("rcp.rn.{} \t{out}, {x};", arith(s)));
            return out;
        }
        if let (BinaryOp::Div | BinaryOp::Rem, true, ExprKind::Const(Const::Int(bits))) =
            (op, s.is_int(), &self.f.expr(r).kind)
        {
            let divisor = *bits;
            let a = self.scalar(l);
            return self.divide_by_constant(op, s, a, divisor);
        }
        let a = self.scalar(l);
        let b = self.scalar(r);
        // Division and remainder record errors: never merged.
        if matches!(op, BinaryOp::Div | BinaryOp::Rem) && s.is_int() {
            return self.binary_regs(op, s, a, b, rs);
        }
        let key = format!("{op:?} {a} {b} {}", s.name());
        if let Some(r) = self.recall(&key) {
            return r;
        }
        let out = self.binary_regs(op, s, a, b, rs);
        self.remember(key, out);
        out
    }

    /// `a op b` for scalars of type `s` (`bs`: the type of `b`, which differs for shifts).
    pub fn binary_regs(&mut self, op: BinaryOp, s: Scalar, a: Reg, b: Reg, bs: Scalar) -> Reg {
        let t = arith(s);
        if op.is_comparison() {
            let out = self.reg(Class::Pred);
            let (a, b, t) = if s == Scalar::Bool {
                (self.bool_to_u32(a), self.bool_to_u32(b), "u32")
            } else {
                (a, b, t)
            };
            let cmp = match op {
                BinaryOp::Eq => "eq",
                BinaryOp::Ne if s.is_float() => "neu",
                BinaryOp::Ne => "ne",
                BinaryOp::Lt => "lt",
                BinaryOp::Le => "le",
                BinaryOp::Gt => "gt",
                _ => "ge",
            };
            self.emit(format!("setp.{cmp}.{t} \t{out}, {a}, {b};"));
            return out;
        }
        let out = self.reg(a.class);
        let bits = if a.class == Class::B64 { "b64" } else { "b32" };
        match op {
            BinaryOp::Add | BinaryOp::Sub if s.is_float() => self.emit(format!(
                "{}.rn.{t} \t{out}, {a}, {b};",
                if op == BinaryOp::Add { "add" } else { "sub" }
            )),
            BinaryOp::Add => self.emit(format!("add.{t} \t{out}, {a}, {b};")),
            BinaryOp::Sub => self.emit(format!("sub.{t} \t{out}, {a}, {b};")),
            BinaryOp::Mul if s.is_float() => self.emit(format!("mul.rn.{t} \t{out}, {a}, {b};")),
            BinaryOp::Mul => self.emit(format!("mul.lo.{t} \t{out}, {a}, {b};")),
            BinaryOp::Div if s.is_float() => self.emit(format!("div.rn.{t} \t{out}, {a}, {b};")),
            BinaryOp::Div | BinaryOp::Rem => self.int_divide(op, s, a, b, out),
            BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor => {
                let name = match op {
                    BinaryOp::BitAnd => "and",
                    BinaryOp::BitOr => "or",
                    _ => "xor",
                };
                let ty = if a.class == Class::Pred { "pred" } else { bits };
                self.emit(format!("{name}.{ty} \t{out}, {a}, {b};"));
            }
            BinaryOp::Shl | BinaryOp::Shr => {
                let amount = if b.class == Class::B64 {
                    let n = self.reg(Class::B32);
                    self.emit(format!("cvt.u32.u64 \t{n}, {b};"));
                    n
                } else {
                    b
                };
                let _ = bs;
                let masked = self.reg(Class::B32);
                self.emit(format!("and.b32 \t{masked}, {amount}, {};", s.size() * 8 - 1));
                if op == BinaryOp::Shl {
                    self.emit(format!("shl.{bits} \t{out}, {a}, {masked};"));
                } else {
                    self.emit(format!("shr.{t} \t{out}, {a}, {masked};"));
                }
            }
            _ => {}
        }
        self.normalize(s, out);
        out
    }

    /// `a % 2^k == 0` and `a % 2^k != 0` as a test of the low bits (true for signed `a` too:
    /// a truncated remainder is zero exactly when the low `k` bits are).
    fn divisibility_test(&mut self, op: BinaryOp, l: ExprId, r: ExprId) -> Option<Reg> {
        if !matches!(op, BinaryOp::Eq | BinaryOp::Ne)
            || !matches!(self.f.expr(r).kind, ExprKind::Const(Const::Int(0)))
        {
            return None;
        }
        let ExprKind::Binary(BinaryOp::Rem, a, d) = self.f.expr(l).kind else { return None };
        let ExprKind::Const(Const::Int(bits)) = self.f.expr(d).kind else { return None };
        let s = scalar_of(&self.f.expr(a).ty);
        let width = s.size() * 8;
        let divisor = if s.is_signed_int() {
            ((bits << (64 - width)) as i64) >> (64 - width)
        } else {
            bits as i64
        };
        if !s.is_int() || divisor <= 0 || !(divisor as u64).is_power_of_two() {
            return None;
        }
        let value = self.scalar(a);
        let (bt, ut) = if value.class == Class::B64 { ("b64", "u64") } else { ("b32", "u32") };
        let low = self.reg(value.class);
        self.emit(format!("and.{bt} \t{low}, {value}, {};", divisor - 1));
        let out = self.reg(Class::Pred);
        self.emit(format!(
            "setp.{}.{ut} \t{out}, {low}, 0;",
            if op == BinaryOp::Eq { "eq" } else { "ne" }
        ));
        Some(out)
    }

    /// `a / c` or `a % c` for a constant `c`: no runtime checks where the constant rules
    /// them out, shifts and masks for unsigned powers of two, an immediate otherwise (which
    /// ptxas turns into a multiplication).
    fn divide_by_constant(&mut self, op: BinaryOp, s: Scalar, a: Reg, bits: u64) -> Reg {
        let t = arith(s);
        let width = s.size() * 8;
        let signed_value = if s.is_signed_int() {
            ((bits << (64 - width)) as i64) >> (64 - width)
        } else {
            bits as i64
        };
        if bits == 0 || (s.is_signed_int() && signed_value == -1) {
            let b = self.constant(Const::Int(bits), s);
            return self.binary_regs(op, s, a, b, s);
        }
        let out = self.reg(a.class);
        let wide = a.class == Class::B64;
        if !s.is_signed_int() && bits.is_power_of_two() {
            if op == BinaryOp::Div {
                self.emit(format!("shr.{t} \t{out}, {a}, {};", bits.trailing_zeros()));
            } else {
                self.emit(format!(
                    "and.b{} \t{out}, {a}, {};",
                    if wide { 64 } else { 32 },
                    bits - 1
                ));
            }
            return out;
        }
        if s.is_signed_int() && signed_value > 0 && (signed_value as u64).is_power_of_two() {
            // Truncating division by 2^k: add 2^k - 1 to negative values, then shift.
            let k = (signed_value as u64).trailing_zeros();
            let w = if wide { 64 } else { 32 };
            let bt = if wide { "b64" } else { "b32" };
            let (ut, st) = if wide { ("u64", "s64") } else { ("u32", "s32") };
            if k == 0 {
                if op == BinaryOp::Div {
                    self.emit(format!("mov.{bt} \t{out}, {a};"));
                } else {
                    self.emit(format!("mov.{bt} \t{out}, 0;"));
                }
                return out;
            }
            let bias = self.reg(a.class);
            self.emit(format!("shr.{st} \t{bias}, {a}, {};", w - 1));
            self.emit(format!("shr.{ut} \t{bias}, {bias}, {};", w - k));
            self.emit(format!("add.{st} \t{bias}, {a}, {bias};"));
            if op == BinaryOp::Div {
                self.emit(format!("shr.{st} \t{out}, {bias}, {k};"));
            } else {
                self.emit(format!("and.{bt} \t{bias}, {bias}, {};", -(signed_value)));
                self.emit(format!("sub.{st} \t{out}, {a}, {bias};"));
            }
            self.normalize(s, out);
            return out;
        }
        let name = if op == BinaryOp::Div { "div" } else { "rem" };
        let immediate = if s.is_signed_int() { signed_value.to_string() } else { bits.to_string() };
        self.emit(format!("{name}.{t} \t{out}, {a}, {immediate};"));
        self.normalize(s, out);
        out
    }

    /// Integer `/` and `%`: by zero gives 0 and records an error; `MIN / -1` wraps.
    pub(super) fn int_divide(&mut self, op: BinaryOp, s: Scalar, a: Reg, b: Reg, out: Reg) {
        let t = arith(s);
        let bits = if a.class == Class::B64 { "b64" } else { "b32" };
        let zero = self.reg(Class::Pred);
        self.emit(format!("setp.eq.{t} \t{zero}, {b}, 0;"));
        let nonzero = self.reg(Class::Pred);
        self.emit(format!("not.pred \t{nonzero}, {zero};"));
        self.record_error_unless(nonzero, error::DIVISION_BY_ZERO);
        let safe = self.reg(b.class);
        let name = if op == BinaryOp::Div { "div" } else { "rem" };
        if s.is_signed_int() {
            let minus_one = self.reg(Class::Pred);
            self.emit(format!("setp.eq.{t} \t{minus_one}, {b}, -1;"));
            let special = self.reg(Class::Pred);
            self.emit(format!("or.pred \t{special}, {zero}, {minus_one};"));
            self.emit(format!("selp.{bits} \t{safe}, 1, {b}, {special};"));
            self.emit(format!("{name}.{t} \t{out}, {a}, {safe};"));
            if op == BinaryOp::Div {
                let negated = self.reg(a.class);
                self.emit(format!("neg.{t} \t{negated}, {a};"));
                self.emit(format!("selp.{bits} \t{out}, {negated}, {out}, {minus_one};"));
            } else {
                self.emit(format!("selp.{bits} \t{out}, 0, {out}, {minus_one};"));
            }
        } else {
            self.emit(format!("selp.{bits} \t{safe}, 1, {b}, {zero};"));
            self.emit(format!("{name}.{t} \t{out}, {a}, {safe};"));
        }
        self.emit(format!("selp.{bits} \t{out}, 0, {out}, {zero};"));
    }

    fn block_into(&mut self, block: &Block, dst: Addr) {
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
        if let Some(tail) = block.tail {
            self.write_to(tail, dst);
        }
    }

    pub fn bool_to_u32(&mut self, p: Reg) -> Reg {
        if p.class != Class::Pred {
            return p;
        }
        let r = self.reg(Class::B32);
        self.emit(format!("selp.u32 \t{r}, 1, 0, {p};"));
        r
    }

    /// `value as to`, with Rust's semantics.
    pub fn cast(&mut self, value: Reg, from: Scalar, to: Scalar) -> Reg {
        if from == to {
            return value;
        }
        let value = if from == Scalar::Bool { self.bool_to_u32(value) } else { value };
        let out = self.reg(class_of(to));
        let (fc, tc) = (value.class, out.class);
        let (ft, tt) = (if from == Scalar::Bool { "u32" } else { arith(from) }, arith(to));
        match (fc, tc) {
            (Class::F32 | Class::F64, Class::F32 | Class::F64) => {
                let rnd = if tc == Class::F32 && fc == Class::F64 { ".rn" } else { "" };
                self.emit(format!("cvt{rnd}.{tt}.{ft} \t{out}, {value};"));
            }
            (Class::B32 | Class::B64, Class::F32 | Class::F64) => {
                self.emit(format!("cvt.rn.{tt}.{ft} \t{out}, {value};"))
            }
            (Class::F32 | Class::F64, _) => {
                // cvt.rzi saturates; narrow targets are clamped after. Its NaN result is 0
                // only from f32 into at most 32 bits: from f64, or into 64 bits, the ISA
                // gives 1 << (width - 1), so NaN is mapped to Rust's 0 explicitly.
                self.emit(format!("cvt.rzi.{tt}.{ft} \t{out}, {value};"));
                if fc == Class::F64 || tc == Class::B64 {
                    let nan = self.reg(Class::Pred);
                    let bits = if tc == Class::B64 { 64 } else { 32 };
                    self.emit(format!("setp.nan.{ft} \t{nan}, {value}, {value};"));
                    self.emit(format!("selp.b{bits} \t{out}, 0, {out}, {nan};"));
                }
                match to {
                    Scalar::I8 => self.clamp(out, "s32", -128, 127),
                    Scalar::I16 => self.clamp(out, "s32", -32768, 32767),
                    Scalar::U8 => self.clamp(out, "u32", 0, 255),
                    Scalar::U16 => self.clamp(out, "u32", 0, 65535),
                    _ => {}
                }
            }
            (Class::B32, Class::B64) => self.emit(format!(
                "cvt.{}.{} \t{out}, {value};",
                if from.is_signed_int() { "s64" } else { "u64" },
                if from.is_signed_int() { "s32" } else { "u32" }
            )),
            (Class::B64, Class::B32) => {
                self.emit(format!("cvt.u32.u64 \t{out}, {value};"));
                self.normalize(to, out);
            }
            (Class::B64, Class::B64) => self.emit(format!("mov.b64 \t{out}, {value};")),
            _ => {
                self.emit(format!("mov.b32 \t{out}, {value};"));
                self.normalize(to, out);
            }
        }
        out
    }

    fn clamp(&mut self, r: Reg, t: &str, lo: i32, hi: i32) {
        if t == "s32" {
            self.emit(format!("max.s32 \t{r}, {r}, {lo};"));
        }
        self.emit(format!("min.{t} \t{r}, {r}, {hi};"));
    }

    fn intrinsic(&mut self, which: Intrinsic) -> Reg {
        let cb = self.cb;
        match which {
            Intrinsic::Now => {
                let r = self.reg(Class::B64);
                self.emit(format!("atom.add.u64 \t{r}, [{cb}+{}], 1;", offsets::CB_HLC));
                self.emit(format!("add.u64 \t{r}, {r}, 1;"));
                r
            }
            Intrinsic::MessageSeq => self.copy_reg(self.seq),
            Intrinsic::KernelSlot => {
                let r = self.reg(Class::B32);
                self.emit(format!("ld.u32 \t{r}, [{cb}+{}];", offsets::CB_KERNEL_SLOT));
                r
            }
        }
    }

    /// A device function call, inlined: the callee's body is written in place with its own
    /// locals, loops and return label (recursion is rejected by the checker).
    fn call(&mut self, func: FuncId, args: &[ExprId], ret: &Ty) -> Val {
        let callee: &Function = &self.functions[func.0 as usize];
        // Scalars by value in registers; structs and arrays by their memory, which the
        // callee only reads (aggregate parameters cannot be `mut`, and nothing else can
        // write the caller's value while the inlined body runs).
        let values: Vec<Val> = args
            .iter()
            .map(|a| {
                if self.f.expr(*a).ty.is_aggregate() {
                    Val::Mem(self.memory(*a))
                } else {
                    Val::Reg(self.scalar(*a))
                }
            })
            .collect();
        let result = ret.scalar().map(|s| self.reg(class_of(s)));
        // A struct or array result is written, like a handler's response, into memory: a
        // frame slot of the caller's, which the call's value then is.
        let aggregate = ret.is_aggregate().then(|| self.frame_slot(ret));
        let done = self.label("inlined");
        let saved_f = std::mem::replace(&mut self.f, callee);
        let saved_homes = std::mem::replace(&mut self.homes, vec![None; callee.locals.len()]);
        let saved_loops = std::mem::take(&mut self.loops);
        let saved_label = std::mem::replace(&mut self.return_label, done.clone());
        let saved_response = self.response.take();
        if let Some(slot) = aggregate {
            let ptr = self.reg(Class::B64);
            self.emit(format!("add.s64 \t{ptr}, {}, {};", slot.base, slot.offset));
            self.response = Some(ptr);
        }
        let saved_result = std::mem::replace(&mut self.inline_result, result);
        for (param, value) in callee.params.iter().zip(values) {
            self.homes[param.0 as usize] = Some(match value {
                Val::Mem(addr) => Home::Mem(addr),
                Val::Reg(r) => Home::Reg(self.copy_reg(r)),
                Val::Unit => continue,
            });
        }
        // An early `return` skips the rest of the body: nothing computed inside may be
        // reused after the call.
        self.enter_region();
        for stmt in &callee.body.stmts {
            self.stmt(stmt);
        }
        if let Some(tail) = callee.body.tail {
            self.write_result(tail);
        }
        self.place_label(&done);
        self.leave_region();
        self.f = saved_f;
        self.homes = saved_homes;
        self.loops = saved_loops;
        self.return_label = saved_label;
        self.response = saved_response;
        self.inline_result = saved_result;
        match (result, aggregate) {
            (Some(r), _) => Val::Reg(r),
            (None, Some(slot)) => Val::Mem(slot),
            (None, None) => Val::Unit,
        }
    }

    fn if_value(&mut self, cond: ExprId, then: &Block, otherwise: Option<&Block>, ty: &Ty) -> Val {
        if let (Some(s), Some(other)) = (ty.scalar(), otherwise) {
            let mut budget = 24;
            if self.speculatable_block(then, &mut budget)
                && self.speculatable_block(other, &mut budget)
            {
                // Both sides are small and have no effects: compute both and select.
                let c = self.scalar(cond);
                let a = self.scalar(then.tail.unwrap_or(cond));
                let b = self.scalar(other.tail.unwrap_or(cond));
                let out = self.reg(class_of(s));
                let t = match out.class {
                    Class::Pred => {
                        self.emit(format!("and.pred \t{out}, {c}, {a};"));
                        let not_c = self.reg(Class::Pred);
                        self.emit(format!("not.pred \t{not_c}, {c};"));
                        let else_part = self.reg(Class::Pred);
                        self.emit(format!("and.pred \t{else_part}, {not_c}, {b};"));
                        self.emit(format!("or.pred \t{out}, {out}, {else_part};"));
                        return Val::Reg(out);
                    }
                    Class::B32 => "b32",
                    Class::B64 => "b64",
                    Class::F32 => "f32",
                    Class::F64 => "f64",
                };
                self.emit(format!("selp.{t} \t{out}, {a}, {b}, {c};"));
                return Val::Reg(out);
            }
        }
        let c = self.scalar(cond);
        let (else_label, end) = (self.label("else"), self.label("endif"));
        self.emit(format!("@!{c} bra \t{else_label};"));
        let result = self.result_home(ty);
        self.enter_region();
        let then_val = self.block_value(then, ty);
        self.move_into(result, then_val, ty);
        self.leave_region();
        self.emit(format!("bra.uni \t{end};"));
        self.place_label(&else_label);
        if let Some(other) = otherwise {
            self.enter_region();
            let else_val = self.block_value(other, ty);
            self.move_into(result, else_val, ty);
            self.leave_region();
        }
        self.place_label(&end);
        match result {
            Some(Home::Reg(r)) => Val::Reg(r),
            Some(Home::Mem(a)) => Val::Mem(a),
            None => Val::Unit,
        }
    }

    /// A block that is only a cheap value without effects (no statements, no division,
    /// indexing, calls or clock ticks), within `budget` nodes: safe to evaluate even when
    /// its branch is not taken.
    fn speculatable_block(&self, block: &Block, budget: &mut u32) -> bool {
        block.stmts.is_empty() && block.tail.is_some_and(|t| self.speculatable(t, budget))
    }

    fn speculatable(&self, id: ExprId, budget: &mut u32) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        let node = self.f.expr(id);
        if node.ty.is_aggregate() {
            return false;
        }
        match &node.kind {
            ExprKind::Const(_) | ExprKind::Local(_) => true,
            ExprKind::Field(base, _) => {
                matches!(self.f.expr(*base).kind, ExprKind::Local(l) if self.f.local(l).kind == LocalKind::Message)
            }
            ExprKind::Unary(_, a) | ExprKind::Cast(a) => self.speculatable(*a, budget),
            ExprKind::Binary(op, a, b) => {
                // Integer division records errors; float division has no effects.
                let effect =
                    matches!(op, BinaryOp::Div | BinaryOp::Rem) && node_is_int(self.f.expr(*a));
                !effect && self.speculatable(*a, budget) && self.speculatable(*b, budget)
            }
            ExprKind::Math(_, args) => args.iter().all(|a| self.speculatable(*a, budget)),
            ExprKind::If(c, then, Some(other)) => {
                self.speculatable(*c, budget)
                    && self.speculatable_block(then, budget)
                    && self.speculatable_block(other, budget)
            }
            _ => false,
        }
    }

    pub fn result_home(&mut self, ty: &Ty) -> Option<Home> {
        match ty {
            Ty::Unit => None,
            Ty::Scalar(s) | Ty::Enum(_, s) => Some(Home::Reg(self.reg(class_of(*s)))),
            _ => Some(Home::Mem(self.frame_slot(ty))),
        }
    }

    pub fn move_into(&mut self, home: Option<Home>, value: Val, ty: &Ty) {
        match (home, value) {
            (Some(Home::Reg(dst)), Val::Reg(src)) => {
                let t = match dst.class {
                    Class::Pred => "pred",
                    Class::B32 => "b32",
                    Class::B64 => "b64",
                    Class::F32 => "f32",
                    Class::F64 => "f64",
                };
                self.emit(format!("mov.{t} \t{dst}, {src};"));
            }
            (Some(Home::Reg(dst)), Val::Mem(src)) => {
                let v = self.load_value(ty, src);
                self.move_into(Some(Home::Reg(dst)), Val::Reg(v), ty);
            }
            (Some(Home::Mem(dst)), Val::Mem(src)) => self.copy(ty, src, dst),
            (Some(Home::Mem(dst)), Val::Reg(src)) => self.store(scalar_of(ty), dst, src),
            _ => {}
        }
    }

    pub fn block_value(&mut self, block: &Block, _ty: &Ty) -> Val {
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
        match block.tail {
            Some(tail) => self.eval(tail),
            None => Val::Unit,
        }
    }

    pub fn stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Let(local, init, _) => {
                let ty = self.f.local(*local).ty.clone();
                let home = self.result_home(&ty);
                if let Some(init) = init {
                    match home {
                        // The new local is not in scope in its initialiser: no aliasing.
                        Some(Home::Mem(slot)) => self.write_to(*init, slot),
                        _ => {
                            let value = self.eval(*init);
                            self.move_into(home, value, &ty);
                        }
                    }
                }
                self.homes[local.0 as usize] = home;
            }
            Stmt::Assign(place, op, value, _) => self.assign(place, *op, *value),
            Stmt::Expr(e) => {
                self.eval(*e);
            }
            Stmt::While(cond, body) => self.loop_stmt(("while", "wend"), Some(*cond), body),
            Stmt::Loop(body) => self.loop_stmt(("loop", "lend"), None, body),
            Stmt::For { var, start, end, inclusive, body } => {
                self.for_loop(*var, *start, *end, *inclusive, body)
            }
            Stmt::Break(depth, _) => {
                let index = self.loops.len().checked_sub(1 + *depth as usize);
                if let Some(l) = index.and_then(|i| self.loops.get(i)) {
                    let target = l.break_to.clone();
                    self.emit(format!("bra.uni \t{target};"));
                }
            }
            Stmt::Continue(depth, _) => {
                let index = self.loops.len().checked_sub(1 + *depth as usize);
                if let Some(l) = index.and_then(|i| self.loops.get(i)) {
                    let target = l.continue_to.clone();
                    self.emit(format!("bra.uni \t{target};"));
                }
            }
            Stmt::Return(value, _) => {
                if let Some(v) = value {
                    self.write_result(*v);
                }
                let target = self.return_label.clone();
                self.emit(format!("bra.uni \t{target};"));
            }
        }
    }

    /// `while cond { body }` (with `cond`) or `loop { body }` (without): a region whose top
    /// label is `continue`'s target and whose end label is `break`'s.
    fn loop_stmt(&mut self, names: (&str, &str), cond: Option<ExprId>, body: &Block) {
        let (top, end) = (self.label(names.0), self.label(names.1));
        self.enter_region();
        self.place_label(&top);
        if let Some(cond) = cond {
            let c = self.scalar(cond);
            self.emit(format!("@!{c} bra \t{end};"));
        }
        self.tick();
        self.loops.push(LoopLabels { continue_to: top.clone(), break_to: end.clone() });
        self.block_value(body, &Ty::Unit);
        self.loops.pop();
        self.emit(format!("bra.uni \t{top};"));
        self.place_label(&end);
        self.leave_region();
    }

    fn for_loop(
        &mut self,
        var: LocalId,
        start: ExprId,
        end: ExprId,
        inclusive: bool,
        body: &Block,
    ) {
        let s = scalar_of(&self.f.local(var).ty);
        let first = self.scalar(start);
        let last = self.scalar(end);
        let counter = self.reg(class_of(s));
        self.emit(format!(
            "mov.{} \t{counter}, {first};",
            if counter.class == Class::B64 { "b64" } else { "b32" }
        ));
        self.homes[var.0 as usize] = Some(Home::Reg(counter));
        let (top, next, done) = (self.label("for"), self.label("fnext"), self.label("fend"));
        self.enter_region();
        self.place_label(&top);
        let go = self.reg(Class::Pred);
        self.emit(format!(
            "setp.{}.{} \t{go}, {counter}, {last};",
            if inclusive { "le" } else { "lt" },
            arith(s)
        ));
        self.emit(format!("@!{go} bra \t{done};"));
        self.tick();
        self.loops.push(LoopLabels { continue_to: next.clone(), break_to: done.clone() });
        self.block_value(body, &Ty::Unit);
        self.loops.pop();
        self.place_label(&next);
        if inclusive {
            // `a..=b` must stop at b even when b is the type's maximum.
            let at_end = self.reg(Class::Pred);
            self.emit(format!("setp.eq.{} \t{at_end}, {counter}, {last};", arith(s)));
            self.emit(format!("@{at_end} bra \t{done};"));
        }
        self.emit(format!("add.{} \t{counter}, {counter}, 1;", arith(s)));
        self.normalize(s, counter);
        self.emit(format!("bra.uni \t{top};"));
        self.place_label(&done);
        self.leave_region();
    }

    fn is_loop_counter(&self, local: LocalId) -> bool {
        fn find(block: &Block, local: LocalId) -> bool {
            block.stmts.iter().any(|s| match s {
                Stmt::For { var, body, .. } => *var == local || find(body, local),
                Stmt::While(_, body) | Stmt::Loop(body) => find(body, local),
                _ => false,
            })
        }
        find(&self.f.body, local)
    }

    /// Address of a place in memory, or the register of a scalar local.
    fn place_home(&mut self, place: &Place) -> (Home, Ty) {
        match place {
            Place::Local(id) => {
                let ty = self.f.local(*id).ty.clone();
                let home = match self.homes[id.0 as usize] {
                    Some(home) => home,
                    None => {
                        let home = self.result_home(&ty).unwrap_or(Home::Reg(self.cb));
                        self.homes[id.0 as usize] = Some(home);
                        home
                    }
                };
                (home, ty)
            }
            Place::Field(base, index) => {
                let (home, ty) = self.place_home(base);
                let Home::Mem(addr) = home else { return (home, ty) };
                let Ty::Struct(name) = &ty else { return (home, ty) };
                let field = self
                    .structs
                    .get(name)
                    .and_then(|l| l.fields.get(*index as usize))
                    .map(|f| (f.offset, Ty::from(&f.ty)));
                let (offset, fty) = field.unwrap_or((0, Ty::Unit));
                (Home::Mem(addr.plus(offset)), fty)
            }
            Place::Index(base, index) => {
                let (home, ty) = self.place_home(base);
                let Home::Mem(addr) = home else { return (home, ty) };
                let Ty::Array(elem, _) = &ty else { return (home, ty) };
                let elem = (**elem).clone();
                (Home::Mem(self.element(addr, &ty, *index)), elem)
            }
        }
    }

    fn assign(&mut self, place: &Place, op: Option<BinaryOp>, value: ExprId) {
        let vty = self.f.expr(value).ty.clone();
        if vty.is_aggregate() {
            // Evaluate first (into a temporary), then copy: the value may read the place.
            let src = self.memory(value);
            let tmp = self.frame_slot(&vty);
            self.copy(&vty, src, tmp);
            let (home, ty) = self.place_home(place);
            if let Home::Mem(dst) = home {
                self.copy(&ty, tmp, dst);
            }
            return;
        }
        let v = self.scalar(value);
        let (home, ty) = self.place_home(place);
        let s = scalar_of(&ty);
        let result = match op {
            None => v,
            Some(op) => {
                let old = match home {
                    Home::Reg(r) => r,
                    Home::Mem(addr) => self.load(s, addr),
                };
                self.binary_regs(op, s, old, v, scalar_of(&vty))
            }
        };
        match home {
            Home::Reg(r) => self.move_into(Some(Home::Reg(r)), Val::Reg(result), &ty),
            Home::Mem(addr) => self.store(s, addr, result),
        }
    }

    /// Delivers a function's result: to the response slot of a handler, or the return
    /// parameter of a device function.
    pub fn write_result(&mut self, value: ExprId) {
        let ty = self.f.expr(value).ty.clone();
        match self.response {
            Some(resp) => {
                let dst = Addr { base: resp, offset: 0, guard: None };
                self.write_to(value, dst);
            }
            None => match self.inline_result {
                Some(target) => {
                    let r = self.scalar(value);
                    self.move_into(Some(Home::Reg(target)), Val::Reg(r), &ty);
                }
                None => {
                    self.eval(value);
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    /// The instruction sequence `divide_by_constant` emits for a signed divisor 2^k, executed
    /// with Rust operations on a register of `w` bits: shr.s, shr.u, add, then shr.s (div)
    /// or and + sub (rem).
    fn pow2_sequence(x: i64, k: u32, w: u32, rem: bool) -> i64 {
        let mask = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
        let sext = |v: u64| if w == 64 { v as i64 } else { ((v << (64 - w)) as i64) >> (64 - w) };
        let xr = (x as u64) & mask;
        let sign = ((sext(xr) >> (w - 1)) as u64) & mask;
        let bias = (sign & mask) >> (w - k);
        let sum = xr.wrapping_add(bias) & mask;
        if rem {
            let d = 1i64 << k;
            let anded = sum & ((-d) as u64 & mask);
            sext(xr.wrapping_sub(anded) & mask)
        } else {
            sext(sum) >> k
        }
    }

    #[test]
    fn signed_power_of_two_division_matches_rust_exhaustively_for_narrow_types() {
        for x in i16::MIN..=i16::MAX {
            for k in 1..15 {
                let d = 1i16 << k;
                assert_eq!(pow2_sequence(x as i64, k, 32, false), (x / d) as i64, "{x} / {d}");
                assert_eq!(pow2_sequence(x as i64, k, 32, true), (x % d) as i64, "{x} % {d}");
            }
        }
    }

    #[test]
    fn signed_power_of_two_division_matches_rust_at_the_edges_of_wide_types() {
        let samples = [
            i64::MIN,
            i64::MIN + 1,
            -4097,
            -4096,
            -3,
            -2,
            -1,
            0,
            1,
            2,
            3,
            4095,
            4096,
            i64::MAX - 1,
            i64::MAX,
        ];
        for &x in &samples {
            for k in 1..63 {
                let d = 1i64 << k;
                assert_eq!(pow2_sequence(x, k, 64, false), x / d, "{x} / {d}");
                assert_eq!(pow2_sequence(x, k, 64, true), x % d, "{x} % {d}");
            }
            let x32 = x as i32;
            for k in 1..31 {
                let d = 1i32 << k;
                assert_eq!(
                    pow2_sequence(x32 as i64, k, 32, false),
                    (x32 / d) as i64,
                    "{x32} / {d}"
                );
                assert_eq!(pow2_sequence(x32 as i64, k, 32, true), (x32 % d) as i64, "{x32} % {d}");
            }
        }
    }
}
