//! Math methods → PTX instructions or short sequences.

use crate::ir::*;

use super::func::{Class, FuncWriter, Reg, arith, class_of};

impl FuncWriter<'_> {
    pub fn math(&mut self, fun: MathFn, args: &[ExprId], out_scalar: Scalar) -> Reg {
        let s = self.f.expr(args[0]).ty.scalar().unwrap_or(Scalar::F32);
        let vals: Vec<Reg> = args.iter().map(|a| self.scalar(*a)).collect();
        // Math methods are pure: an equal call with the same operands reuses its register.
        let key = format!(
            "{fun:?} {} {}",
            vals.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(" "),
            s.name()
        );
        if let Some(r) = self.recall(&key) {
            return r;
        }
        let r = self.math_uncached(fun, args, &vals, s, out_scalar);
        self.remember(key, r);
        r
    }

    fn math_uncached(
        &mut self,
        fun: MathFn,
        args: &[ExprId],
        vals: &[Reg],
        s: Scalar,
        out_scalar: Scalar,
    ) -> Reg {
        let x = vals[0];
        let t = arith(s);
        let out = self.reg(class_of(out_scalar));
        match fun {
            MathFn::Abs => {
                self.emit(format!("abs.{t} \t{out}, {x};"));
                self.normalize(s, out);
            }
            MathFn::Min | MathFn::Max => {
                let name = if fun == MathFn::Min { "min" } else { "max" };
                self.emit(format!("{name}.{t} \t{out}, {x}, {};", vals[1]));
            }
            MathFn::Sqrt => self.emit(format!("sqrt.rn.{t} \t{out}, {x};")),
            MathFn::Exp => {
                let scaled = self.reg(Class::F32);
                self.emit(format!("mul.rn.f32 \t{scaled}, {x}, 0f3FB8AA3B;"));
                self.emit(format!("ex2.approx.f32 \t{out}, {scaled};"));
            }
            MathFn::Ln => {
                let log2 = self.reg(Class::F32);
                self.emit(format!("lg2.approx.f32 \t{log2}, {x};"));
                self.emit(format!("mul.rn.f32 \t{out}, {log2}, 0f3F317218;"));
            }
            MathFn::Sin => self.emit(format!("sin.approx.f32 \t{out}, {x};")),
            MathFn::Cos => self.emit(format!("cos.approx.f32 \t{out}, {x};")),
            MathFn::MulAdd => {
                self.emit(format!("fma.rn.{t} \t{out}, {x}, {}, {};", vals[1], vals[2]))
            }
            MathFn::Floor => self.emit(format!("cvt.rmi.{t}.{t} \t{out}, {x};")),
            MathFn::Ceil => self.emit(format!("cvt.rpi.{t}.{t} \t{out}, {x};")),
            MathFn::Powi => match &self.f.expr(args[1]).kind {
                ExprKind::Const(Const::Int(bits)) => {
                    self.powi_constant(x, *bits as u32 as i32, s, out)
                }
                _ => self.powi(x, vals[1], s, out),
            },
            MathFn::WrappingAdd | MathFn::WrappingSub | MathFn::WrappingMul => {
                let op = match fun {
                    MathFn::WrappingAdd => BinaryOp::Add,
                    MathFn::WrappingSub => BinaryOp::Sub,
                    _ => BinaryOp::Mul,
                };
                let r = self.binary_regs(op, s, x, vals[1], s);
                return r;
            }
            MathFn::CountOnes | MathFn::LeadingZeros => {
                let masked = self.masked(s, x);
                let bits = if x.class == Class::B64 { "b64" } else { "b32" };
                let name = if fun == MathFn::CountOnes { "popc" } else { "clz" };
                self.emit(format!("{name}.{bits} \t{out}, {masked};"));
                if fun == MathFn::LeadingZeros && s.size() < 4 {
                    self.emit(format!("sub.u32 \t{out}, {out}, {};", 32 - s.size() * 8));
                }
            }
        }
        out
    }

    /// The value's own bits only (narrow signed values are held sign-extended).
    fn masked(&mut self, s: Scalar, x: Reg) -> Reg {
        if s.size() >= 4 {
            return x;
        }
        let m = self.reg(Class::B32);
        self.emit(format!("and.b32 \t{m}, {x}, {};", (1u32 << (s.size() * 8)) - 1));
        m
    }

    /// `x.powi(n)` for a constant `n`: the loop below, unrolled (same multiplications in the
    /// same order, so the same result).
    fn powi_constant(&mut self, x: Reg, n: i32, s: Scalar, out: Reg) {
        let t = arith(s);
        let one = if s == Scalar::F32 { "0f3F800000" } else { "0d3FF0000000000000" };
        self.emit(format!("mov.{t} \t{out}, {one};"));
        let mut base = x;
        let mut e = n.unsigned_abs();
        while e != 0 {
            if e & 1 == 1 {
                self.emit(format!("mul.rn.{t} \t{out}, {out}, {base};"));
            }
            e >>= 1;
            if e != 0 {
                let next = self.reg(x.class);
                self.emit(format!("mul.rn.{t} \t{next}, {base}, {base};"));
                base = next;
            }
        }
        if n < 0 {
            self.emit(format!("rcp.rn.{t} \t{out}, {out};"));
        }
    }

    /// `x.powi(n)` by repeated squaring; a negative `n` gives the reciprocal.
    fn powi(&mut self, x: Reg, n: Reg, s: Scalar, out: Reg) {
        let t = arith(s);
        let one = if s == Scalar::F32 { "0f3F800000" } else { "0d3FF0000000000000" };
        let base = self.reg(x.class);
        let e = self.reg(Class::B32);
        let negative = self.reg(Class::Pred);
        self.emit(format!("mov.{t} \t{out}, {one};"));
        self.emit(format!("mov.{t} \t{base}, {x};"));
        self.emit(format!("setp.lt.s32 \t{negative}, {n}, 0;"));
        self.emit(format!("abs.s32 \t{e}, {n};"));
        let (top, done) = (self.label("powi"), self.label("powiend"));
        self.place_label(&top);
        let zero = self.reg(Class::Pred);
        self.emit(format!("setp.eq.u32 \t{zero}, {e}, 0;"));
        self.emit(format!("@{zero} bra \t{done};"));
        let bit = self.reg(Class::B32);
        let odd = self.reg(Class::Pred);
        self.emit(format!("and.b32 \t{bit}, {e}, 1;"));
        self.emit(format!("setp.ne.u32 \t{odd}, {bit}, 0;"));
        self.emit(format!("@{odd} mul.rn.{t} \t{out}, {out}, {base};"));
        self.emit(format!("mul.rn.{t} \t{base}, {base}, {base};"));
        self.emit(format!("shr.u32 \t{e}, {e}, 1;"));
        self.emit(format!("bra.uni \t{top};"));
        self.place_label(&done);
        self.emit(format!("@{negative} rcp.rn.{t} \t{out}, {out};"));
    }
}
