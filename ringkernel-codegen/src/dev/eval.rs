//! Expression evaluation of the reference interpreter.

use crate::abi::error;
use crate::ir::*;

use super::{Flow, Interp, V, signed, wrap};

macro_rules! flow {
    ($e:expr) => {{
        let (flow, v) = $e;
        if !matches!(flow, Flow::Normal) {
            return Ok((flow, V::Unit));
        }
        v
    }};
}

impl Interp<'_> {
    pub(super) fn expr(&mut self, id: ExprId) -> Result<(Flow, V), String> {
        let node = self.f.expr(id).clone();
        let s = node.ty.scalar().unwrap_or(Scalar::U32);
        let v = match &node.kind {
            ExprKind::Const(c) => match (c, &node.ty) {
                (Const::Bool(b), _) => V::Bool(*b),
                (Const::Int(bits), Ty::Scalar(Scalar::F32)) => V::F32(*bits as f32),
                (Const::Int(bits), Ty::Scalar(Scalar::F64)) => V::F64(*bits as f64),
                (Const::Int(bits), _) => V::Int(wrap(*bits as i128, s)),
                (Const::Float(x), Ty::Scalar(Scalar::F32)) => V::F32(*x as f32),
                (Const::Float(x), _) => V::F64(*x),
            },
            ExprKind::Local(local) => self.locals[local.0 as usize].clone(),
            ExprKind::Field(base, index) => {
                let b = flow!(self.expr(*base)?);
                let Ty::Struct(name) = &self.f.expr(*base).ty else {
                    return Err("field of non-struct".into());
                };
                let field = self.layouts()[name].fields[*index as usize].clone();
                let V::Mem(bytes) = b else { return Err("struct value not in memory".into()) };
                let size = self.size(&Ty::from(&field.ty));
                let start = field.offset as usize;
                self.decode(&Ty::from(&field.ty), &bytes[start..start + size])
            }
            ExprKind::Index(base, index) => {
                let b = flow!(self.expr(*base)?);
                let i = flow!(self.expr(*index)?);
                let (V::Mem(bytes), V::Int(i)) = (b, i) else {
                    return Err("bad index operands".into());
                };
                let Ty::Array(elem, len) = &self.f.expr(*base).ty else {
                    return Err("index of non-array".into());
                };
                let esize = self.size(elem);
                if i < u64::from(*len) {
                    let start = i as usize * esize;
                    self.decode(elem, &bytes[start..start + esize])
                } else {
                    self.ctx.errors.push(error::INDEX_OUT_OF_BOUNDS);
                    let zero = self.zero_bytes(elem);
                    self.decode(elem, &zero)
                }
            }
            ExprKind::Unary(op, inner) => {
                let v = flow!(self.expr(*inner)?);
                let is = self.f.expr(*inner).ty.scalar().unwrap_or(Scalar::U32);
                match (op, v) {
                    (UnaryOp::Not, V::Bool(b)) => V::Bool(!b),
                    (UnaryOp::Not, V::Int(bits)) => V::Int(wrap(!bits as i128, is)),
                    (UnaryOp::Neg, V::Int(bits)) => V::Int(wrap(-signed(bits, is), is)),
                    (UnaryOp::Neg, V::F32(x)) => V::F32(-x),
                    (UnaryOp::Neg, V::F64(x)) => V::F64(-x),
                    _ => return Err("bad unary operand".into()),
                }
            }
            ExprKind::Binary(op, l, r) => {
                let a = flow!(self.expr(*l)?);
                let b = flow!(self.expr(*r)?);
                let ls = self.f.expr(*l).ty.scalar().unwrap_or(Scalar::U32);
                let rs = self.f.expr(*r).ty.scalar().unwrap_or(Scalar::U32);
                self.binary(*op, ls, a, b, rs)
            }
            ExprKind::And(l, r) | ExprKind::Or(l, r) => {
                let is_and = matches!(node.kind, ExprKind::And(..));
                let a = flow!(self.expr(*l)?);
                if (a == V::Bool(true)) != is_and { a } else { flow!(self.expr(*r)?) }
            }
            ExprKind::Cast(inner) => {
                let v = flow!(self.expr(*inner)?);
                let from = self.f.expr(*inner).ty.scalar().unwrap_or(Scalar::U32);
                cast(v, from, s)
            }
            ExprKind::Call(func, args) => {
                let callee = self.module.function(*func);
                let mut values = Vec::new();
                for a in args {
                    values.push(flow!(self.expr(*a)?));
                }
                let mut inner = Interp {
                    module: self.module,
                    f: callee,
                    locals: vec![V::Unit; callee.locals.len()],
                    ctx: self.ctx,
                    steps: self.steps,
                    fuel: self.fuel,
                };
                for (p, v) in callee.params.iter().zip(values) {
                    inner.locals[p.0 as usize] = v;
                }
                let result = inner.call_body()?;
                (self.steps, self.fuel) = (inner.steps, inner.fuel);
                result
            }
            ExprKind::Math(fun, args) => {
                let mut values = Vec::new();
                for a in args {
                    values.push(flow!(self.expr(*a)?));
                }
                let rs = self.f.expr(args[0]).ty.scalar().unwrap_or(Scalar::U32);
                if matches!(fun, MathFn::DivEuclid | MathFn::RemEuclid) {
                    euclid(*fun, rs, &values, &mut self.ctx.errors)?
                } else if let (MathFn::Isqrt, true, [V::Int(bits)]) =
                    (fun, rs.is_signed_int(), values.as_slice())
                {
                    match u64::try_from(signed(*bits, rs)) {
                        Ok(x) => V::Int(x.isqrt()),
                        Err(_) => {
                            self.ctx.errors.push(error::NEGATIVE_SQUARE_ROOT);
                            V::Int(0)
                        }
                    }
                } else {
                    math(*fun, rs, &values)?
                }
            }
            ExprKind::Intrinsic(which) => match which {
                Intrinsic::Now => {
                    self.ctx.clock = self.ctx.clock.wrapping_add(1);
                    V::Int(self.ctx.clock)
                }
                Intrinsic::MessageSeq => V::Int(self.ctx.message_seq),
                Intrinsic::KernelSlot => V::Int(u64::from(self.ctx.kernel_slot)),
            },
            ExprKind::If(cond, then, otherwise) => {
                let c = flow!(self.expr(*cond)?);
                if c == V::Bool(true) {
                    return self.block(then);
                }
                match otherwise {
                    Some(block) => return self.block(block),
                    None => V::Unit,
                }
            }
            ExprKind::Block(block) => return self.block(block),
            ExprKind::StructLit(fields) => {
                let Ty::Struct(name) = &node.ty else {
                    return Err("struct literal of non-struct".into());
                };
                let layout = self.layouts()[name].clone();
                let mut bytes = vec![0u8; layout.size as usize];
                for (value, field) in fields.iter().zip(&layout.fields) {
                    let v = flow!(self.expr(*value)?);
                    let raw = self.to_bytes(&Ty::from(&field.ty), &v);
                    bytes[field.offset as usize..field.offset as usize + raw.len()]
                        .copy_from_slice(&raw);
                }
                V::Mem(bytes)
            }
            ExprKind::ArrayLit(items) => {
                let Ty::Array(elem, _) = &node.ty else {
                    return Err("array literal of non-array".into());
                };
                let mut bytes = Vec::new();
                for item in items {
                    let v = flow!(self.expr(*item)?);
                    bytes.extend(self.to_bytes(elem, &v));
                }
                V::Mem(bytes)
            }
            ExprKind::ArrayRepeat(item, n) => {
                let Ty::Array(elem, _) = &node.ty else {
                    return Err("array repeat of non-array".into());
                };
                let v = flow!(self.expr(*item)?);
                let one = self.to_bytes(elem, &v);
                V::Mem(one.repeat(*n as usize))
            }
        };
        Ok((Flow::Normal, v))
    }

    pub(super) fn binary(&mut self, op: BinaryOp, s: Scalar, a: V, b: V, bs: Scalar) -> V {
        use BinaryOp as B;
        match (a, b) {
            (V::Int(x), V::Int(y)) => {
                let (xi, yi) = (signed(x, s), signed(y, bs));
                let int = |v: i128| V::Int(wrap(v, s));
                match op {
                    B::Add => int(xi + yi),
                    B::Sub => int(xi - yi),
                    B::Mul => V::Int(wrap((x as u128).wrapping_mul(y as u128) as i128, s)),
                    B::Div | B::Rem if yi == 0 => {
                        self.ctx.errors.push(error::DIVISION_BY_ZERO);
                        V::Int(0)
                    }
                    B::Div => int(xi / yi),
                    B::Rem => int(xi % yi),
                    B::BitAnd => V::Int(x & y),
                    B::BitOr => V::Int(x | y),
                    B::BitXor => V::Int(x ^ y),
                    B::Shl => int(xi << ((y as u32) & (s.size() * 8 - 1))),
                    B::Shr => int(xi >> ((y as u32) & (s.size() * 8 - 1))),
                    B::Eq => V::Bool(xi == yi),
                    B::Ne => V::Bool(xi != yi),
                    B::Lt => V::Bool(xi < yi),
                    B::Le => V::Bool(xi <= yi),
                    B::Gt => V::Bool(xi > yi),
                    B::Ge => V::Bool(xi >= yi),
                }
            }
            (V::F32(x), V::F32(y)) => float_op(
                op,
                x as f64,
                y as f64,
                |v| V::F32(v as f32),
                |a, b| (a as f32 / b as f32) as f64,
            ),
            (V::F64(x), V::F64(y)) => float_op(op, x, y, V::F64, |a, b| a / b),
            (V::Bool(x), V::Bool(y)) => match op {
                B::BitAnd => V::Bool(x & y),
                B::BitOr => V::Bool(x | y),
                B::BitXor | B::Ne => V::Bool(x ^ y),
                B::Eq => V::Bool(x == y),
                B::Lt => V::Bool(!x & y),
                B::Le => V::Bool(x <= y),
                B::Gt => V::Bool(x & !y),
                _ => V::Bool(x >= y),
            },
            _ => V::Unit,
        }
    }
}

fn float_op(
    op: BinaryOp,
    x: f64,
    y: f64,
    make: impl Fn(f64) -> V,
    div: impl Fn(f64, f64) -> f64,
) -> V {
    use BinaryOp as B;
    // f32 operations are computed in f64 and rounded once, which equals the f32 result
    // for + - * (f64 holds the exact product and sum of two f32s up to one rounding).
    match op {
        B::Add => make(x + y),
        B::Sub => make(x - y),
        B::Mul => make(x * y),
        B::Div => make(div(x, y)),
        B::Eq => V::Bool(x == y),
        B::Ne => V::Bool(x != y),
        B::Lt => V::Bool(x < y),
        B::Le => V::Bool(x <= y),
        B::Gt => V::Bool(x > y),
        B::Ge => V::Bool(x >= y),
        _ => V::Unit,
    }
}

/// Rust's `as`.
fn cast(v: V, from: Scalar, to: Scalar) -> V {
    let as_i128 = match &v {
        V::Int(bits) => Some(signed(*bits, from)),
        V::Bool(b) => Some(i128::from(*b)),
        _ => None,
    };
    let as_f64 = match &v {
        V::F32(x) => Some(*x as f64),
        V::F64(x) => Some(*x),
        _ => None,
    };
    match to {
        Scalar::F32 => V::F32(match (&v, as_i128) {
            (V::F32(x), _) => *x,
            (V::F64(x), _) => *x as f32,
            (_, Some(i)) => i as f32,
            _ => 0.0,
        }),
        Scalar::F64 => V::F64(match (as_f64, as_i128) {
            (Some(x), _) => x,
            (_, Some(i)) => i as f64,
            _ => 0.0,
        }),
        Scalar::Bool => v,
        int => {
            let value = match (as_i128, as_f64) {
                (Some(i), _) => i,
                (_, Some(x)) => {
                    // Saturating, NaN → 0.
                    let (lo, hi) = int.int_range();
                    // Compare as floats first: `hi as f64` may round up past `hi`.
                    let t = x.trunc();
                    if x.is_nan() {
                        0
                    } else if t >= hi as f64 {
                        hi
                    } else if t <= lo as f64 {
                        lo
                    } else {
                        t as i128
                    }
                }
                _ => 0,
            };
            V::Int(wrap(value, int))
        }
    }
}

/// `div_euclid` / `rem_euclid` with the DSL's zero divisor (0, one error) and wrapping.
fn euclid(fun: MathFn, s: Scalar, args: &[V], errors: &mut Vec<u32>) -> Result<V, String> {
    let (V::Int(x), V::Int(y)) = (&args[0], &args[1]) else { return Err("bad euclid".into()) };
    let (a, b) = (signed(*x, s), signed(*y, s));
    if b == 0 {
        errors.push(error::DIVISION_BY_ZERO);
        return Ok(V::Int(0));
    }
    let (q, r) = (a / b, a % b);
    let value = match fun {
        MathFn::RemEuclid if r < 0 => r + b.abs(),
        MathFn::RemEuclid => r,
        _ if r < 0 => {
            if b > 0 {
                q - 1
            } else {
                q + 1
            }
        }
        _ => q,
    };
    Ok(V::Int(wrap(value, s)))
}

fn math(fun: MathFn, s: Scalar, args: &[V]) -> Result<V, String> {
    use MathFn as M;
    let v = match (fun, &args[0]) {
        (M::Abs, V::Int(x)) => V::Int(wrap(signed(*x, s).abs(), s)),
        (M::Abs, V::F32(x)) => V::F32(x.abs()),
        (M::Abs, V::F64(x)) => V::F64(x.abs()),
        (M::Min | M::Max, V::Int(x)) => {
            let V::Int(y) = args[1] else { return Err("bad min/max".into()) };
            let (a, b) = (signed(*x, s), signed(y, s));
            V::Int(wrap(if fun == M::Min { a.min(b) } else { a.max(b) }, s))
        }
        (M::Min | M::Max, V::F32(x)) => {
            let V::F32(y) = args[1] else { return Err("bad min/max".into()) };
            V::F32(if fun == M::Min { x.min(y) } else { x.max(y) })
        }
        (M::Min | M::Max, V::F64(x)) => {
            let V::F64(y) = args[1] else { return Err("bad min/max".into()) };
            V::F64(if fun == M::Min { x.min(y) } else { x.max(y) })
        }
        (M::Sqrt, V::F32(x)) => V::F32(x.sqrt()),
        (M::Sqrt, V::F64(x)) => V::F64(x.sqrt()),
        (M::Exp, V::F32(x)) => V::F32(x.exp()),
        (M::Ln, V::F32(x)) => V::F32(x.ln()),
        (M::Sin, V::F32(x)) => V::F32(x.sin()),
        (M::Cos, V::F32(x)) => V::F32(x.cos()),
        (M::Floor, V::F32(x)) => V::F32(x.floor()),
        (M::Floor, V::F64(x)) => V::F64(x.floor()),
        (M::Ceil, V::F32(x)) => V::F32(x.ceil()),
        (M::Ceil, V::F64(x)) => V::F64(x.ceil()),
        (M::Powi, V::F32(x)) => {
            let V::Int(n) = args[1] else { return Err("bad powi".into()) };
            V::F32(x.powi(n as u32 as i32))
        }
        (M::Powi, V::F64(x)) => {
            let V::Int(n) = args[1] else { return Err("bad powi".into()) };
            V::F64(x.powi(n as u32 as i32))
        }
        (M::MulAdd, V::F32(x)) => match (&args[1], &args[2]) {
            (V::F32(a), V::F32(b)) => V::F32(x.mul_add(*a, *b)),
            _ => return Err("bad mul_add".into()),
        },
        (M::MulAdd, V::F64(x)) => match (&args[1], &args[2]) {
            (V::F64(a), V::F64(b)) => V::F64(x.mul_add(*a, *b)),
            _ => return Err("bad mul_add".into()),
        },
        (M::WrappingAdd | M::WrappingSub | M::WrappingMul, V::Int(x)) => {
            let V::Int(y) = args[1] else { return Err("bad wrapping op".into()) };
            let (a, b) = (signed(*x, s), signed(y, s));
            V::Int(match fun {
                M::WrappingAdd => wrap(a + b, s),
                M::WrappingSub => wrap(a - b, s),
                _ => wrap((*x as u128).wrapping_mul(y as u128) as i128, s),
            })
        }
        (M::CountOnes, V::Int(x)) => V::Int(u64::from(x.count_ones())),
        (M::LeadingZeros, V::Int(x)) => V::Int(u64::from(x.leading_zeros() - (64 - s.size() * 8))),
        (M::CountZeros, V::Int(x)) => V::Int(u64::from(s.size() * 8 - x.count_ones())),
        (M::TrailingZeros, V::Int(x)) => V::Int(u64::from(x.trailing_zeros().min(s.size() * 8))),
        (M::LeadingOnes | M::TrailingOnes, V::Int(x)) => {
            let (w, inverted) = (s.size() * 8, wrap(!(*x as i128), s));
            V::Int(u64::from(if fun == M::LeadingOnes {
                inverted.leading_zeros() - (64 - w)
            } else {
                inverted.trailing_zeros().min(w)
            }))
        }
        (M::RotateLeft | M::RotateRight, V::Int(x)) => {
            let V::Int(n) = args[1] else { return Err("bad rotate".into()) };
            let w = u64::from(s.size() * 8);
            let by = n % w;
            let by = if fun == M::RotateLeft { by } else { (w - by) % w };
            let rotated = if by == 0 { *x } else { (*x << by) | (*x >> (w - by)) };
            V::Int(wrap(rotated as i128, s))
        }
        (M::SwapBytes, V::Int(x)) => V::Int(x.swap_bytes() >> (64 - s.size() * 8)),
        (M::ReverseBits, V::Int(x)) => V::Int(x.reverse_bits() >> (64 - s.size() * 8)),
        (M::IsPowerOfTwo, V::Int(x)) => V::Bool(x.count_ones() == 1),
        (M::IsPositive, V::Int(x)) => V::Bool(signed(*x, s) > 0),
        (M::IsNegative, V::Int(x)) => V::Bool(signed(*x, s) < 0),
        (M::Signum, V::Int(x)) => V::Int(wrap(signed(*x, s).signum(), s)),
        (M::Signum, V::F32(x)) => V::F32(x.signum()),
        (M::Signum, V::F64(x)) => V::F64(x.signum()),
        (M::AbsDiff, V::Int(x)) => {
            let V::Int(y) = args[1] else { return Err("bad abs_diff".into()) };
            V::Int(wrap((signed(*x, s) - signed(y, s)).abs(), s))
        }
        (M::IsNan, V::F32(x)) => V::Bool(x.is_nan()),
        (M::IsNan, V::F64(x)) => V::Bool(x.is_nan()),
        (M::IsInfinite, V::F32(x)) => V::Bool(x.is_infinite()),
        (M::IsInfinite, V::F64(x)) => V::Bool(x.is_infinite()),
        (M::IsFinite, V::F32(x)) => V::Bool(x.is_finite()),
        (M::IsFinite, V::F64(x)) => V::Bool(x.is_finite()),
        (M::IsNormal, V::F32(x)) => V::Bool(x.is_normal()),
        (M::IsNormal, V::F64(x)) => V::Bool(x.is_normal()),
        (M::IsSubnormal, V::F32(x)) => V::Bool(x.is_subnormal()),
        (M::IsSubnormal, V::F64(x)) => V::Bool(x.is_subnormal()),
        (M::IsSignPositive, V::F32(x)) => V::Bool(x.is_sign_positive()),
        (M::IsSignPositive, V::F64(x)) => V::Bool(x.is_sign_positive()),
        (M::IsSignNegative, V::F32(x)) => V::Bool(x.is_sign_negative()),
        (M::IsSignNegative, V::F64(x)) => V::Bool(x.is_sign_negative()),
        (M::ToBits, V::F32(x)) => V::Int(u64::from(x.to_bits())),
        (M::ToBits, V::F64(x)) => V::Int(x.to_bits()),
        (M::Isqrt, V::Int(x)) => V::Int(x.isqrt()),
        (M::Round, V::F32(x)) => V::F32(x.round()),
        (M::Round, V::F64(x)) => V::F64(x.round()),
        (M::NextPowerOfTwo, V::Int(x)) => {
            let w = s.size() * 8;
            let next =
                if *x <= 1 { 1u128 } else { 1u128 << (128 - (u128::from(*x) - 1).leading_zeros()) };
            V::Int(if next >> w != 0 { 0 } else { next as u64 })
        }
        (M::Trunc, V::F32(x)) => V::F32(x.trunc()),
        (M::Trunc, V::F64(x)) => V::F64(x.trunc()),
        (M::RoundTiesEven, V::F32(x)) => V::F32(x.round_ties_even()),
        (M::RoundTiesEven, V::F64(x)) => V::F64(x.round_ties_even()),
        (M::Fract, V::F32(x)) => V::F32(x.fract()),
        (M::Fract, V::F64(x)) => V::F64(x.fract()),
        (M::Recip, V::F32(x)) => V::F32(x.recip()),
        (M::Recip, V::F64(x)) => V::F64(x.recip()),
        (M::Copysign, V::F32(x)) => {
            let V::F32(y) = args[1] else { return Err("bad copysign".into()) };
            V::F32(x.copysign(y))
        }
        (M::Copysign, V::F64(x)) => {
            let V::F64(y) = args[1] else { return Err("bad copysign".into()) };
            V::F64(x.copysign(y))
        }
        (M::Clamp, V::Int(x)) => {
            let (V::Int(lo), V::Int(hi)) = (&args[1], &args[2]) else {
                return Err("bad clamp".into());
            };
            let (v, lo, hi) = (signed(*x, s), signed(*lo, s), signed(*hi, s));
            V::Int(wrap(
                if v < lo {
                    lo
                } else if v > hi {
                    hi
                } else {
                    v
                },
                s,
            ))
        }
        (M::Clamp, V::F32(x)) => {
            let (V::F32(lo), V::F32(hi)) = (&args[1], &args[2]) else {
                return Err("bad clamp".into());
            };
            let low = if *x < *lo { *lo } else { *x };
            V::F32(if low > *hi { *hi } else { low })
        }
        (M::Clamp, V::F64(x)) => {
            let (V::F64(lo), V::F64(hi)) = (&args[1], &args[2]) else {
                return Err("bad clamp".into());
            };
            let low = if *x < *lo { *lo } else { *x };
            V::F64(if low > *hi { *hi } else { low })
        }
        (M::Pow, V::Int(x)) => {
            let V::Int(n) = args[1] else { return Err("bad pow".into()) };
            let (mut acc, mut base, mut e) = (1u64, *x, n as u32);
            while e != 0 {
                if e & 1 == 1 {
                    acc = acc.wrapping_mul(base);
                }
                base = base.wrapping_mul(base);
                e >>= 1;
            }
            V::Int(wrap(acc as i128, s))
        }
        (M::FromBits, V::Int(x)) if s == Scalar::U32 => V::F32(f32::from_bits(*x as u32)),
        (M::FromBits, V::Int(x)) => V::F64(f64::from_bits(*x)),
        (M::SaturatingAdd | M::SaturatingSub | M::SaturatingMul, V::Int(x)) => {
            let V::Int(y) = args[1] else { return Err("bad saturating op".into()) };
            let (a, b) = (signed(*x, s), signed(y, s));
            // Exact in i128, except a product of two u64s past 2^127, which saturates anyway.
            let exact = match fun {
                M::SaturatingAdd => a + b,
                M::SaturatingSub => a - b,
                _ => a.checked_mul(b).unwrap_or(i128::MAX),
            };
            let (lo, hi) = s.int_range();
            V::Int(wrap(exact.clamp(lo, hi), s))
        }
        (M::SaturatingPow, V::Int(x)) => {
            let V::Int(n) = args[1] else { return Err("bad saturating_pow".into()) };
            let (lo, hi) = s.int_range();
            let (base, n) = (signed(*x, s), n as u32);
            // |base| >= 2 leaves the range within 128 factors; 0, 1 and -1 never do.
            let exact = match base {
                0 => i128::from(n == 0),
                1 => 1,
                -1 => {
                    if n % 2 == 0 {
                        1
                    } else {
                        -1
                    }
                }
                _ => {
                    let mut acc: Option<i128> = Some(1);
                    for _ in 0..n {
                        acc =
                            acc.and_then(|a| a.checked_mul(base)).filter(|a| (lo..=hi).contains(a));
                        if acc.is_none() {
                            break;
                        }
                    }
                    acc.unwrap_or(if base < 0 && n % 2 == 1 { lo } else { hi })
                }
            };
            V::Int(wrap(exact, s))
        }
        (M::AddOverflows | M::SubOverflows | M::MulOverflows, V::Int(x)) => {
            let V::Int(y) = args[1] else { return Err("bad overflow test".into()) };
            let (a, b) = (signed(*x, s), signed(y, s));
            let exact = match fun {
                M::AddOverflows => Some(a + b),
                M::SubOverflows => Some(a - b),
                _ => a.checked_mul(b),
            };
            let (lo, hi) = s.int_range();
            V::Bool(exact.is_none_or(|v| v < lo || v > hi))
        }
        (M::ToDegrees, V::F32(x)) => V::F32(x.to_degrees()),
        (M::ToDegrees, V::F64(x)) => V::F64(x.to_degrees()),
        (M::ToRadians, V::F32(x)) => V::F32(x.to_radians()),
        (M::ToRadians, V::F64(x)) => V::F64(x.to_radians()),
        _ => return Err(format!("{fun:?} on an unexpected value")),
    };
    Ok(v)
}
