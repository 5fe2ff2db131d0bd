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
            MathFn::CountOnes | MathFn::CountZeros => {
                let masked = self.masked(s, x);
                self.emit(format!("popc.{} \t{out}, {masked};", bits(x)));
                if fun == MathFn::CountZeros {
                    self.emit(format!("sub.u32 \t{out}, {}, {out};", s.size() * 8));
                }
            }
            MathFn::LeadingZeros => self.leading_zeros(s, x, out),
            MathFn::TrailingZeros => self.trailing_zeros(s, x, out),
            MathFn::LeadingOnes | MathFn::TrailingOnes => {
                let inverted = self.reg(x.class);
                self.emit(format!("not.{} \t{inverted}, {x};", bits(x)));
                if fun == MathFn::LeadingOnes {
                    self.leading_zeros(s, inverted, out);
                } else {
                    self.trailing_zeros(s, inverted, out);
                }
            }
            MathFn::RotateLeft | MathFn::RotateRight => self.rotate(fun, s, x, vals[1], out),
            MathFn::SwapBytes => self.swap_bytes(s, x, out),
            MathFn::ReverseBits => {
                let masked = self.masked(s, x);
                self.emit(format!("brev.{} \t{out}, {masked};", bits(x)));
                if s.size() < 4 {
                    self.emit(format!("shr.b32 \t{out}, {out}, {};", 32 - s.size() * 8));
                }
                self.normalize(s, out);
            }
            MathFn::IsPowerOfTwo => {
                let masked = self.masked(s, x);
                let ones = self.reg(Class::B32);
                self.emit(format!("popc.{} \t{ones}, {masked};", bits(x)));
                self.emit(format!("setp.eq.u32 \t{out}, {ones}, 1;"));
            }
            MathFn::IsPositive | MathFn::IsNegative => {
                let cmp = if fun == MathFn::IsPositive { "gt" } else { "lt" };
                self.emit(format!("setp.{cmp}.{t} \t{out}, {x}, 0;"));
            }
            MathFn::Signum if s.is_float() => {
                let one = if s == Scalar::F32 { "0f3F800000" } else { "0d3FF0000000000000" };
                let nan = if s == Scalar::F32 { "0f7FC00000" } else { "0d7FF8000000000000" };
                let is_nan = self.reg(Class::Pred);
                // copysign d, a, b: b with a's sign.
                self.emit(format!("copysign.{t} \t{out}, {x}, {one};"));
                self.emit(format!("testp.notanumber.{t} \t{is_nan}, {x};"));
                self.emit(format!("selp.{t} \t{out}, {nan}, {out}, {is_nan};"));
            }
            MathFn::Signum => {
                let (above, below) = (self.reg(Class::Pred), self.reg(Class::Pred));
                let (a, b) = (self.reg(x.class), self.reg(x.class));
                self.emit(format!("setp.gt.{t} \t{above}, {x}, 0;"));
                self.emit(format!("setp.lt.{t} \t{below}, {x}, 0;"));
                self.emit(format!("selp.{t} \t{a}, 1, 0, {above};"));
                self.emit(format!("selp.{t} \t{b}, 1, 0, {below};"));
                self.emit(format!("sub.{t} \t{out}, {a}, {b};"));
            }
            MathFn::AbsDiff => {
                let (hi, lo) = (self.reg(x.class), self.reg(x.class));
                self.emit(format!("max.{t} \t{hi}, {x}, {};", vals[1]));
                self.emit(format!("min.{t} \t{lo}, {x}, {};", vals[1]));
                self.emit(format!("sub.{} \t{out}, {hi}, {lo};", arith(out_scalar)));
                self.normalize(out_scalar, out);
            }
            MathFn::IsNan
            | MathFn::IsInfinite
            | MathFn::IsFinite
            | MathFn::IsNormal
            | MathFn::IsSubnormal => {
                let test = match fun {
                    MathFn::IsNan => "notanumber",
                    MathFn::IsInfinite => "infinite",
                    MathFn::IsFinite => "finite",
                    MathFn::IsNormal => "normal",
                    _ => "subnormal",
                };
                self.emit(format!("testp.{test}.{t} \t{out}, {x};"));
            }
            MathFn::IsSignPositive | MathFn::IsSignNegative => {
                let (class, width) =
                    if s == Scalar::F32 { (Class::B32, 32) } else { (Class::B64, 64) };
                let raw = self.reg(class);
                self.emit(format!("mov.b{width} \t{raw}, {x};"));
                let cmp = if fun == MathFn::IsSignNegative { "lt" } else { "ge" };
                self.emit(format!("setp.{cmp}.s{width} \t{out}, {raw}, 0;"));
            }
            MathFn::ToBits => {
                let width = if s == Scalar::F32 { 32 } else { 64 };
                self.emit(format!("mov.b{width} \t{out}, {x};"));
            }
            MathFn::Trunc => self.emit(format!("cvt.rzi.{t}.{t} \t{out}, {x};")),
            MathFn::Isqrt => self.isqrt(s, x, out),
            MathFn::Round => {
                // trunc(x), plus ±1 when the dropped fraction (exact) is at least a half.
                let one = if s == Scalar::F32 { "0f3F800000" } else { "0d3FF0000000000000" };
                let half = if s == Scalar::F32 { "0f3F000000" } else { "0d3FE0000000000000" };
                let (whole, fraction, signed_one, up) =
                    (self.reg(x.class), self.reg(x.class), self.reg(x.class), self.reg(x.class));
                let away = self.reg(Class::Pred);
                self.emit(format!("cvt.rzi.{t}.{t} \t{whole}, {x};"));
                self.emit(format!("sub.rn.{t} \t{fraction}, {x}, {whole};"));
                self.emit(format!("abs.{t} \t{fraction}, {fraction};"));
                self.emit(format!("setp.ge.{t} \t{away}, {fraction}, {half};"));
                self.emit(format!("copysign.{t} \t{signed_one}, {x}, {one};"));
                self.emit(format!("add.rn.{t} \t{up}, {whole}, {signed_one};"));
                self.emit(format!("selp.{t} \t{out}, {up}, {whole}, {away};"));
            }
            MathFn::NextPowerOfTwo => {
                // 1 for 0 and 1; else 1 << (width - clz(x - 1)), 0 when that is the width.
                let w = s.size() * 8;
                let b = bits(x);
                let t = arith(s);
                let (less, zeros, shift) =
                    (self.reg(x.class), self.reg(Class::B32), self.reg(Class::B32));
                let (small, overflow) = (self.reg(Class::Pred), self.reg(Class::Pred));
                self.emit(format!("sub.{t} \t{less}, {x}, 1;"));
                self.leading_zeros(s, less, zeros);
                self.emit(format!("sub.u32 \t{shift}, {w}, {zeros};"));
                self.emit(format!("shl.{b} \t{out}, 1, {shift};"));
                self.emit(format!("setp.ge.u32 \t{overflow}, {shift}, {w};"));
                self.emit(format!("selp.{b} \t{out}, 0, {out}, {overflow};"));
                self.emit(format!("setp.le.{t} \t{small}, {x}, 1;"));
                self.emit(format!("selp.{b} \t{out}, 1, {out}, {small};"));
            }
            MathFn::RoundTiesEven => self.emit(format!("cvt.rni.{t}.{t} \t{out}, {x};")),
            MathFn::Fract => {
                let whole = self.reg(x.class);
                self.emit(format!("cvt.rzi.{t}.{t} \t{whole}, {x};"));
                self.emit(format!("sub.rn.{t} \t{out}, {x}, {whole};"));
            }
            MathFn::Recip => self.emit(format!("rcp.rn.{t} \t{out}, {x};")),
            MathFn::Copysign => self.emit(format!("copysign.{t} \t{out}, {}, {x};", vals[1])),
            MathFn::Clamp => {
                let (lo, hi) = (vals[1], vals[2]);
                let (p, q) = (self.reg(Class::Pred), self.reg(Class::Pred));
                if s.is_float() {
                    // `if x < lo { x = lo } if x > hi { x = hi }`
                    self.emit(format!("setp.lt.{t} \t{p}, {x}, {lo};"));
                    self.emit(format!("selp.{t} \t{out}, {lo}, {x}, {p};"));
                    self.emit(format!("setp.gt.{t} \t{q}, {out}, {hi};"));
                    self.emit(format!("selp.{t} \t{out}, {hi}, {out}, {q};"));
                } else {
                    // `if x < lo { lo } else if x > hi { hi } else { x }`
                    self.emit(format!("setp.gt.{t} \t{q}, {x}, {hi};"));
                    self.emit(format!("selp.{t} \t{out}, {hi}, {x}, {q};"));
                    self.emit(format!("setp.lt.{t} \t{p}, {x}, {lo};"));
                    self.emit(format!("selp.{t} \t{out}, {lo}, {out}, {p};"));
                }
            }
            MathFn::Pow => self.int_pow(s, x, vals[1], out),
            MathFn::DivEuclid | MathFn::RemEuclid => self.euclid(fun, s, x, vals[1], out),
            MathFn::FromBits => {
                let width = if s == Scalar::U32 { 32 } else { 64 };
                self.emit(format!("mov.b{width} \t{out}, {x};"));
            }
            MathFn::SaturatingAdd | MathFn::SaturatingSub => {
                self.saturating(fun, s, x, vals[1], out)
            }
            MathFn::SaturatingMul => self.saturating_mul(s, x, vals[1], out),
            MathFn::SaturatingPow => self.saturating_pow(s, x, vals[1], out),
            MathFn::AddOverflows | MathFn::SubOverflows | MathFn::MulOverflows => {
                self.overflows(fun, s, x, vals[1], out)
            }
            MathFn::ToDegrees | MathFn::ToRadians => {
                let factor = degree_factor(fun, s);
                self.emit(format!("mul.rn.{t} \t{out}, {x}, {factor};"));
            }
        }
        out
    }

    /// `saturating_add/sub`. Narrow types compute exactly in 32 bits and clamp to their
    /// range; 32- and 64-bit ones detect the overflow (unsigned: the carry or borrow; signed:
    /// the sign rule) and select the bound.
    fn saturating(&mut self, fun: MathFn, s: Scalar, x: Reg, y: Reg, out: Reg) {
        let add = fun == MathFn::SaturatingAdd;
        let op = if add { "add" } else { "sub" };
        let t = arith(s);
        let b = bits(x);
        if s.size() < 4 {
            let (lo, hi) = s.int_range();
            self.emit(format!("{op}.s32 \t{out}, {x}, {y};"));
            self.emit(format!("max.s32 \t{out}, {out}, {lo};"));
            self.emit(format!("min.s32 \t{out}, {out}, {hi};"));
            return;
        }
        let (exact, overflow) = self.add_sub_overflows(add, s, x, y);
        if !s.is_signed_int() {
            let bound = if add { "-1" } else { "0" };
            self.emit(format!("selp.{b} \t{out}, {bound}, {exact}, {overflow};"));
            return;
        }
        // The bound has x's sign: MAX for x >= 0, MIN for x < 0, i.e. (x >> (w-1)) ^ MAX.
        let (sign, bound) = (self.reg(x.class), self.reg(x.class));
        let w = s.size() * 8;
        let max = if w == 64 { "9223372036854775807".to_owned() } else { "2147483647".to_owned() };
        self.emit(format!("shr.{t} \t{sign}, {x}, {};", w - 1));
        self.emit(format!("xor.{b} \t{bound}, {sign}, {max};"));
        self.emit(format!("selp.{b} \t{out}, {bound}, {exact}, {overflow};"));
    }

    /// `saturating_mul`. Up to 32 bits the exact product is formed in 64 bits and clamped to
    /// the type's range; at 64 bits the high half tells: unsigned, any high bit overflowed;
    /// signed, a high half that is not the low half's sign extension did, and the bound
    /// has the sign of `x ^ y`.
    fn saturating_mul(&mut self, s: Scalar, x: Reg, y: Reg, out: Reg) {
        let t = arith(s);
        let signed = s.is_signed_int();
        let w = s.size() * 8;
        if w <= 32 {
            let (lo, hi) = s.int_range();
            let (wide_t, narrow) = if signed { ("s64", "s32") } else { ("u64", "u32") };
            let product = self.reg(Class::B64);
            self.emit(format!("mul.wide.{narrow} \t{product}, {x}, {y};"));
            self.emit(format!("max.{wide_t} \t{product}, {product}, {lo};"));
            self.emit(format!("min.{wide_t} \t{product}, {product}, {hi};"));
            self.emit(format!("cvt.{t}.{wide_t} \t{out}, {product};"));
            return;
        }
        let (low, overflow) = self.mul_overflows64(s, x, y);
        if !signed {
            self.emit(format!("selp.b64 \t{out}, -1, {low}, {overflow};"));
            return;
        }
        let bound = self.reg(Class::B64);
        // MAX when x and y have one sign, MIN otherwise: ((x ^ y) >> 63) ^ MAX.
        self.emit(format!("xor.b64 \t{bound}, {x}, {y};"));
        self.emit(format!("shr.s64 \t{bound}, {bound}, 63;"));
        self.emit(format!("xor.b64 \t{bound}, {bound}, 9223372036854775807;"));
        self.emit(format!("selp.b64 \t{out}, {bound}, {low}, {overflow};"));
    }

    /// The low half of a 64-bit product and whether the product overflowed: unsigned, any
    /// bit of the high half; signed, a high half that is not the low half's sign extension.
    fn mul_overflows64(&mut self, s: Scalar, x: Reg, y: Reg) -> (Reg, Reg) {
        let t = arith(s);
        let (low, high) = (self.reg(Class::B64), self.reg(Class::B64));
        self.emit(format!("mul.lo.{t} \t{low}, {x}, {y};"));
        self.emit(format!("mul.hi.{t} \t{high}, {x}, {y};"));
        let overflow = self.reg(Class::Pred);
        if s.is_signed_int() {
            let sign = self.reg(Class::B64);
            self.emit(format!("shr.s64 \t{sign}, {low}, 63;"));
            self.emit(format!("setp.ne.s64 \t{overflow}, {high}, {sign};"));
        } else {
            self.emit(format!("setp.ne.u64 \t{overflow}, {high}, 0;"));
        }
        (low, overflow)
    }

    /// The flag of `overflowing_add/sub/mul`. Narrow types (and products up to 32 bits)
    /// compute exactly in a wider register and test the type's range; 32- and 64-bit sums
    /// use the carry (unsigned) or sign rule (signed), 64-bit products the high half.
    fn overflows(&mut self, fun: MathFn, s: Scalar, x: Reg, y: Reg, out: Reg) {
        let w = s.size() * 8;
        let signed = s.is_signed_int();
        // The type's range (used up to 32 bits, where it fits the wider register).
        let (lo, hi) = s.int_range();
        let range_test = |me: &mut Self, exact: Reg, wide: &str| {
            let (below, above) = (me.reg(Class::Pred), me.reg(Class::Pred));
            me.emit(format!("setp.lt.{wide} \t{below}, {exact}, {lo};"));
            me.emit(format!("setp.gt.{wide} \t{above}, {exact}, {hi};"));
            me.emit(format!("or.pred \t{out}, {below}, {above};"));
        };
        if fun == MathFn::MulOverflows {
            if w <= 32 {
                let (wide, narrow) = if signed { ("s64", "s32") } else { ("u64", "u32") };
                let product = self.reg(Class::B64);
                self.emit(format!("mul.wide.{narrow} \t{product}, {x}, {y};"));
                // Unsigned products are never below 0: the range test's lower half is moot.
                range_test(self, product, wide);
            } else {
                let (_, overflow) = self.mul_overflows64(s, x, y);
                self.emit(format!("mov.pred \t{out}, {overflow};"));
            }
            return;
        }
        let add = fun == MathFn::AddOverflows;
        if w < 32 {
            // Operands are held extended in 32 bits: the exact result fits there.
            let exact = self.reg(Class::B32);
            self.emit(format!("{}.s32 \t{exact}, {x}, {y};", if add { "add" } else { "sub" }));
            range_test(self, exact, "s32");
            return;
        }
        let (_, overflow) = self.add_sub_overflows(add, s, x, y);
        self.emit(format!("mov.pred \t{out}, {overflow};"));
    }

    /// `x + y` (`add`) or `x - y` at 32 or 64 bits, wrapped, and whether the exact result
    /// left the type: unsigned, the carry (the sum wrapped below x) or the borrow (y above
    /// x); signed, the sign rule: add, x and y of one sign and the result of the other,
    /// `((x ^ r) & (y ^ r)) < 0`; sub, x and y of different signs and the result of y's,
    /// `((x ^ y) & (x ^ r)) < 0`. Shared by `saturating_add/sub` and `overflowing_add/sub`.
    fn add_sub_overflows(&mut self, add: bool, s: Scalar, x: Reg, y: Reg) -> (Reg, Reg) {
        let t = arith(s);
        let b = bits(x);
        let result = self.reg(x.class);
        self.emit(format!("{}.{t} \t{result}, {x}, {y};", if add { "add" } else { "sub" }));
        let overflow = self.reg(Class::Pred);
        if !s.is_signed_int() {
            let (smaller, larger) = if add { (result, x) } else { (x, y) };
            self.emit(format!("setp.lt.{t} \t{overflow}, {smaller}, {larger};"));
            return (result, overflow);
        }
        let (p, q, both) = (self.reg(x.class), self.reg(x.class), self.reg(x.class));
        self.emit(format!("xor.{b} \t{p}, {x}, {result};"));
        let other = if add { format!("{y}, {result}") } else { format!("{x}, {y}") };
        self.emit(format!("xor.{b} \t{q}, {other};"));
        self.emit(format!("and.{b} \t{both}, {p}, {q};"));
        self.emit(format!("setp.lt.{t} \t{overflow}, {both}, 0;"));
        (result, overflow)
    }

    /// `div_euclid` / `rem_euclid`: the truncating quotient or remainder (by zero: 0 and one
    /// error, `MIN / -1` wraps), then Rust's correction of a negative remainder.
    fn euclid(&mut self, fun: MathFn, s: Scalar, x: Reg, y: Reg, out: Reg) {
        let t = arith(s);
        let b = bits(x);
        if fun == MathFn::RemEuclid {
            self.int_divide(BinaryOp::Rem, s, x, y, out);
            if s.is_signed_int() {
                let (negative, magnitude, fixed) =
                    (self.reg(Class::Pred), self.reg(x.class), self.reg(x.class));
                self.emit(format!("setp.lt.{t} \t{negative}, {out}, 0;"));
                self.emit(format!("abs.{t} \t{magnitude}, {y};"));
                self.emit(format!("add.{t} \t{fixed}, {out}, {magnitude};"));
                self.emit(format!("selp.{b} \t{out}, {fixed}, {out}, {negative};"));
            }
            self.normalize(s, out);
            return;
        }
        self.int_divide(BinaryOp::Div, s, x, y, out);
        if s.is_signed_int() {
            // The remainder from the quotient (no second zero check, so one error at most);
            // a zero divisor leaves the quotient at 0.
            let (product, rest) = (self.reg(x.class), self.reg(x.class));
            self.emit(format!("mul.lo.{t} \t{product}, {out}, {y};"));
            self.emit(format!("sub.{t} \t{rest}, {x}, {product};"));
            let (negative, nonzero, adjust) =
                (self.reg(Class::Pred), self.reg(Class::Pred), self.reg(Class::Pred));
            self.emit(format!("setp.lt.{t} \t{negative}, {rest}, 0;"));
            self.emit(format!("setp.ne.{t} \t{nonzero}, {y}, 0;"));
            self.emit(format!("and.pred \t{adjust}, {negative}, {nonzero};"));
            let (positive, step, fixed) =
                (self.reg(Class::Pred), self.reg(x.class), self.reg(x.class));
            self.emit(format!("setp.gt.{t} \t{positive}, {y}, 0;"));
            self.emit(format!("selp.{t} \t{step}, -1, 1, {positive};"));
            self.emit(format!("add.{t} \t{fixed}, {out}, {step};"));
            self.emit(format!("selp.{b} \t{out}, {fixed}, {out}, {adjust};"));
        }
        self.normalize(s, out);
    }

    /// `isqrt`: the `f64` square root, truncated, is exact below 2^52 (a root just under an
    /// integer never rounds up to it there); for 64-bit values it is then corrected by one
    /// step each way (`r*r` fits: `r` is below 2^32). A negative signed value gives 0 and
    /// records the error (a non-negative one has the same bits as the unsigned value).
    fn isqrt(&mut self, s: Scalar, x: Reg, out: Reg) {
        if s.is_signed_int() {
            let (negative, fine) = (self.reg(Class::Pred), self.reg(Class::Pred));
            let (t, zero) = if s.size() == 8 { ("s64", "b64") } else { ("s32", "b32") };
            self.emit(format!("setp.lt.{t} \t{negative}, {x}, 0;"));
            self.emit(format!("not.pred \t{fine}, {negative};"));
            self.record_error_unless(fine, crate::abi::error::NEGATIVE_SQUARE_ROOT);
            let unsigned = if s.size() == 8 { Scalar::U64 } else { Scalar::U32 };
            self.isqrt(unsigned, x, out);
            self.emit(format!("selp.{zero} \t{out}, 0, {out}, {negative};"));
            return;
        }
        let wide = self.reg(Class::F64);
        let from = if s.size() == 8 { "u64" } else { "u32" };
        self.emit(format!("cvt.rn.f64.{from} \t{wide}, {x};"));
        self.emit(format!("sqrt.rn.f64 \t{wide}, {wide};"));
        if s.size() < 8 {
            self.emit(format!("cvt.rzi.u32.f64 \t{out}, {wide};"));
            return;
        }
        self.emit(format!("cvt.rzi.u64.f64 \t{out}, {wide};"));
        self.emit(format!("min.u64 \t{out}, {out}, 4294967295;"));
        let (square, next, next_square) =
            (self.reg(Class::B64), self.reg(Class::B64), self.reg(Class::B64));
        let (over, fits, below) =
            (self.reg(Class::Pred), self.reg(Class::Pred), self.reg(Class::Pred));
        self.emit(format!("mul.lo.u64 \t{square}, {out}, {out};"));
        self.emit(format!("setp.gt.u64 \t{over}, {square}, {x};"));
        self.emit(format!("@{over} sub.u64 \t{out}, {out}, 1;"));
        self.emit(format!("add.u64 \t{next}, {out}, 1;"));
        self.emit(format!("mul.lo.u64 \t{next_square}, {next}, {next};"));
        self.emit(format!("setp.le.u64 \t{fits}, {next}, 4294967295;"));
        self.emit(format!("setp.le.u64 \t{below}, {next_square}, {x};"));
        self.emit(format!("and.pred \t{below}, {below}, {fits};"));
        self.emit(format!("@{below} mov.u64 \t{out}, {next};"));
    }

    /// `x.pow(n)` wrapping: square and multiply over the bits of `n` (any order gives the
    /// same bits modulo 2^width).
    fn int_pow(&mut self, s: Scalar, x: Reg, n: Reg, out: Reg) {
        let t = arith(s);
        let (base, e, bit) = (self.reg(x.class), self.reg(Class::B32), self.reg(Class::B32));
        let (zero, odd) = (self.reg(Class::Pred), self.reg(Class::Pred));
        self.emit(format!("mov.{t} \t{out}, 1;"));
        self.emit(format!("mov.{t} \t{base}, {x};"));
        self.emit(format!("mov.u32 \t{e}, {n};"));
        let (top, done) = (self.label("pow"), self.label("powend"));
        self.place_label(&top);
        self.emit(format!("setp.eq.u32 \t{zero}, {e}, 0;"));
        self.emit(format!("@{zero} bra \t{done};"));
        self.emit(format!("and.b32 \t{bit}, {e}, 1;"));
        self.emit(format!("setp.eq.u32 \t{odd}, {bit}, 1;"));
        self.emit(format!("@{odd} mul.lo.{t} \t{out}, {out}, {base};"));
        self.emit(format!("mul.lo.{t} \t{base}, {base}, {base};"));
        self.emit(format!("shr.u32 \t{e}, {e}, 1;"));
        self.emit(format!("bra.uni \t{top};"));
        self.place_label(&done);
        self.normalize(s, out);
    }

    /// `saturating_pow`: square-and-multiply as `int_pow`, each product's overflow tested
    /// (a squared base only while it is still needed); on overflow the bound with the sign
    /// of the exact result, MIN for a negative base to an odd power.
    fn saturating_pow(&mut self, s: Scalar, x: Reg, n: Reg, out: Reg) {
        let t = arith(s);
        let (base, e, bit) = (self.reg(x.class), self.reg(Class::B32), self.reg(Class::B32));
        let (zero, odd, any) =
            (self.reg(Class::Pred), self.reg(Class::Pred), self.reg(Class::Pred));
        let flag = self.reg(Class::Pred);
        self.emit(format!("mov.{t} \t{out}, 1;"));
        self.emit(format!("mov.{t} \t{base}, {x};"));
        self.emit(format!("mov.u32 \t{e}, {n};"));
        self.emit(format!("setp.ne.u32 \t{any}, 0, 0;"));
        let (top, done) = (self.label("spow"), self.label("spowend"));
        self.place_label(&top);
        self.emit(format!("setp.eq.u32 \t{zero}, {e}, 0;"));
        self.emit(format!("@{zero} bra \t{done};"));
        self.emit(format!("and.b32 \t{bit}, {e}, 1;"));
        self.emit(format!("setp.eq.u32 \t{odd}, {bit}, 1;"));
        self.overflows(MathFn::MulOverflows, s, out, base, flag);
        self.emit(format!("and.pred \t{flag}, {flag}, {odd};"));
        self.emit(format!("or.pred \t{any}, {any}, {flag};"));
        self.emit(format!("@{odd} mul.lo.{t} \t{out}, {out}, {base};"));
        self.emit(format!("shr.u32 \t{e}, {e}, 1;"));
        self.emit(format!("setp.eq.u32 \t{zero}, {e}, 0;"));
        self.emit(format!("@{zero} bra \t{done};"));
        self.overflows(MathFn::MulOverflows, s, base, base, flag);
        self.emit(format!("or.pred \t{any}, {any}, {flag};"));
        self.emit(format!("mul.lo.{t} \t{base}, {base}, {base};"));
        self.emit(format!("bra.uni \t{top};"));
        self.place_label(&done);
        let b = bits(x);
        let (min, max) = s.int_range();
        // The bound, as the register's bits: MAX, or MIN when x < 0 and n is odd.
        let as_bits = |v: i128| {
            if b == "b64" { (v as u64).to_string() } else { (v as i64 as u32 as i32).to_string() }
        };
        let bound = self.reg(x.class);
        self.emit(format!("mov.{b} \t{bound}, {};", as_bits(max)));
        if s.is_signed_int() {
            let (negative, odd_n, both) =
                (self.reg(Class::Pred), self.reg(Class::Pred), self.reg(Class::Pred));
            self.emit(format!("setp.lt.{t} \t{negative}, {x}, 0;"));
            self.emit(format!("and.b32 \t{bit}, {n}, 1;"));
            self.emit(format!("setp.eq.u32 \t{odd_n}, {bit}, 1;"));
            self.emit(format!("and.pred \t{both}, {negative}, {odd_n};"));
            self.emit(format!("@{both} mov.{b} \t{bound}, {};", as_bits(min)));
        }
        self.emit(format!("@{any} mov.{b} \t{out}, {bound};"));
        self.normalize(s, out);
    }

    /// `leading_zeros` of `x` as a value of type `s` (its own bits only).
    fn leading_zeros(&mut self, s: Scalar, x: Reg, out: Reg) {
        let masked = self.masked(s, x);
        self.emit(format!("clz.{} \t{out}, {masked};", bits(x)));
        if s.size() < 4 {
            self.emit(format!("sub.u32 \t{out}, {out}, {};", 32 - s.size() * 8));
        }
    }

    /// `trailing_zeros` of `x` as a value of type `s`: the leading zeros of its bit reversal,
    /// at most the width (for 0).
    fn trailing_zeros(&mut self, s: Scalar, x: Reg, out: Reg) {
        let masked = self.masked(s, x);
        let reversed = self.reg(x.class);
        self.emit(format!("brev.{b} \t{reversed}, {masked};", b = bits(x)));
        self.emit(format!("clz.{} \t{out}, {reversed};", bits(x)));
        if s.size() < 4 {
            self.emit(format!("min.u32 \t{out}, {out}, {};", s.size() * 8));
        }
    }

    /// `rotate_left/right(n)`: `n` modulo the width, then two logical shifts of the value's
    /// own bits.
    fn rotate(&mut self, fun: MathFn, s: Scalar, x: Reg, n: Reg, out: Reg) {
        let width = s.size() * 8;
        let b = bits(x);
        let masked = self.masked(s, x);
        let (by, back) = (self.reg(Class::B32), self.reg(Class::B32));
        self.emit(format!("and.b32 \t{by}, {n}, {};", width - 1));
        self.emit(format!("sub.u32 \t{back}, {width}, {by};"));
        self.emit(format!("and.b32 \t{back}, {back}, {};", width - 1));
        let (first, second) = if fun == MathFn::RotateLeft { (by, back) } else { (back, by) };
        let (left, right) = (self.reg(x.class), self.reg(x.class));
        self.emit(format!("shl.{b} \t{left}, {masked}, {first};"));
        self.emit(format!("shr.{b} \t{right}, {masked}, {second};"));
        self.emit(format!("or.{b} \t{out}, {left}, {right};"));
        if width < 32 {
            self.emit(format!("and.b32 \t{out}, {out}, {};", (1u32 << width) - 1));
        }
        self.normalize(s, out);
    }

    /// `swap_bytes`: `prmt` reverses the bytes of a 32-bit word; narrower values shift their
    /// bytes into place, 64-bit ones swap their reversed halves.
    fn swap_bytes(&mut self, s: Scalar, x: Reg, out: Reg) {
        match s.size() {
            1 => self.emit(format!("mov.b32 \t{out}, {x};")),
            2 => {
                let masked = self.masked(s, x);
                self.emit(format!("prmt.b32 \t{out}, {masked}, 0, 0x4401;"));
                self.normalize(s, out);
            }
            4 => self.emit(format!("prmt.b32 \t{out}, {x}, 0, 0x0123;")),
            _ => {
                let (lo, hi) = (self.reg(Class::B32), self.reg(Class::B32));
                let (new_lo, new_hi) = (self.reg(Class::B32), self.reg(Class::B32));
                self.emit(format!("mov.b64 \t{{{lo}, {hi}}}, {x};"));
                self.emit(format!("prmt.b32 \t{new_lo}, {hi}, 0, 0x0123;"));
                self.emit(format!("prmt.b32 \t{new_hi}, {lo}, 0, 0x0123;"));
                self.emit(format!("mov.b64 \t{out}, {{{new_lo}, {new_hi}}};"));
            }
        }
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

/// `b32` or `b64` for an integer register.
fn bits(r: Reg) -> &'static str {
    if r.class == Class::B64 { "b64" } else { "b32" }
}

/// The factor `to_degrees` / `to_radians` multiply by, computed as the standard library
/// computes it (so that the product is the same bits), as a PTX literal.
pub(crate) fn degree_factor(fun: MathFn, s: Scalar) -> String {
    let to_degrees = fun == MathFn::ToDegrees;
    if s == Scalar::F32 {
        #[allow(clippy::excessive_precision)]
        let factor: f32 = if to_degrees {
            57.295_779_513_082_320_876_798_154_814_105_170_3_f32 // `f32::to_degrees`'s
        } else {
            core::f32::consts::PI / 180.0
        };
        format!("0f{:08X}", factor.to_bits())
    } else {
        let factor: f64 =
            if to_degrees { 180.0 / core::f64::consts::PI } else { core::f64::consts::PI / 180.0 };
        format!("0d{:016X}", factor.to_bits())
    }
}
