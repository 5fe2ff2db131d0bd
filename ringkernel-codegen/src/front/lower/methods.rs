//! Method calls on scalars (the math methods, in one table) and the primitives' constants
//! (`T::MAX`, `T::EPSILON`, `core::f64::consts::PI`, ...).

use crate::ir::*;

use super::super::at;
use super::super::infer::Var;
use super::Lowerer;

impl Lowerer<'_> {
    pub(super) fn method_call(
        &mut self,
        m: &syn::ExprMethodCall,
        span: Span,
    ) -> Option<(ExprId, Var)> {
        let method = m.method.to_string();
        if m.turbofish.is_some() {
            self.error(span, "turbofish is not supported", "remove `::<...>`");
            return None;
        }
        if let syn::Expr::Path(p) = &*m.receiver {
            if p.path.get_ident().is_some_and(|i| Some(i.to_string()) == self.ctx) {
                let (intrinsic, ty) = match method.as_str() {
                    "now" => (Intrinsic::Now, Scalar::U64),
                    "message_seq" => (Intrinsic::MessageSeq, Scalar::U64),
                    "kernel_slot" => (Intrinsic::KernelSlot, Scalar::U32),
                    _ => {
                        self.error(span, format!("`ctx.{method}()` is not an intrinsic"), "the intrinsics are `ctx.now()`, `ctx.message_seq()` and `ctx.kernel_slot()`");
                        return None;
                    }
                };
                if !m.args.is_empty() {
                    self.error(
                        span,
                        format!("`ctx.{method}()` takes no arguments"),
                        "remove the arguments",
                    );
                }
                let var = self.table.scalar(ty);
                return Some(self.node(ExprKind::Intrinsic(intrinsic), var, span));
            }
        }
        let (receiver, rvar) = self.expr(&m.receiver)?;
        if let Some(Ty::Struct(name) | Ty::Enum(name, _)) = self.table.shallow(rvar) {
            return self.struct_method(m, &name, receiver, span);
        }
        // Byte order: the GPU and every host this runs on are little-endian, so `to_le` is
        // the value itself and `to_be` its bytes swapped.
        if method == "to_le" || method == "to_be" {
            if !m.args.is_empty()
                || !matches!(self.table.shallow(rvar), Some(Ty::Scalar(s)) if s.is_int())
            {
                self.error(
                    span,
                    format!("`{method}()` takes no arguments and an integer receiver"),
                    "call it on an integer: `x.to_be()`",
                );
                return None;
            }
            if method == "to_le" {
                return Some((receiver, rvar));
            }
            return Some(self.node(ExprKind::Math(MathFn::SwapBytes, vec![receiver]), rvar, span));
        }
        if method == "len" {
            // `array.len()`: the length is part of the type, a constant.
            let _ = receiver;
            return match self.table.shallow(rvar) {
                Some(Ty::Array(_, n)) if m.args.is_empty() => {
                    let usize_var = self.table.scalar(Scalar::Usize);
                    Some(self.node(ExprKind::Const(Const::Int(u64::from(n))), usize_var, span))
                }
                _ => {
                    let found = self.table.describe(rvar);
                    self.error(
                        span,
                        format!("`len()` is for arrays, not `{found}`"),
                        "call it on a fixed-size array",
                    );
                    None
                }
            };
        }
        let Some(Ty::Scalar(scalar)) = self.table.shallow(rvar) else {
            let found = self.table.describe(rvar);
            self.error(span, format!("can't call method `{method}` on `{found}`"), "math methods need a known scalar type: add a suffix (`2.0_f32`) or annotate the variable");
            return None;
        };
        if let Some(lowered) = self.library_call(m, receiver, rvar, scalar, span) {
            return lowered;
        }
        if let Some(lowered) =
            self.operator_method(m, method.as_str(), receiver, rvar, scalar, span)
        {
            return lowered;
        }
        if let Some((message, help)) = super::super::syntax::checked_method(&method) {
            self.error(span, message, help);
            return None;
        }
        let Some(sig) = method_signature(method.as_str()) else {
            self.error(
                span,
                format!("method `{method}` is not supported in kernels"),
                format!("supported: {}", SUPPORTED_METHODS),
            );
            return None;
        };
        let fits = match sig.receiver {
            Receiver::Any => scalar != Scalar::Bool,
            Receiver::Float => scalar.is_float(),
            Receiver::Int => scalar.is_int(),
            Receiver::Signed => scalar.is_signed_int(),
            Receiver::Unsigned => scalar.is_int() && !scalar.is_signed_int(),
            Receiver::SignedOrFloat => scalar.is_signed_int() || scalar.is_float(),
        };
        if !fits {
            self.error(
                span,
                format!("no method `{method}` on `{}`", scalar.name()),
                "check the receiver's type",
            );
            return None;
        }
        if m.args.len() != sig.args.len() {
            self.error(
                span,
                format!("`{method}` takes {} argument(s), {} given", sig.args.len(), m.args.len()),
                "fix the argument count",
            );
            return None;
        }
        let fun = sig.fun;
        let mut ids = vec![receiver];
        for (arg, ty) in m.args.iter().zip(sig.args) {
            let (id, var) = self.expr(arg)?;
            let expected = match ty {
                Arg::Same => rvar,
                Arg::U32 => self.table.scalar(Scalar::U32),
                Arg::I32 => self.table.scalar(Scalar::I32),
            };
            self.unify_or_report(
                var,
                expected,
                at(arg),
                &format!("for the argument of `{method}`"),
            );
            ids.push(id);
        }
        let var = match sig.out {
            Out::Same => rvar,
            Out::U32 => self.table.scalar(Scalar::U32),
            Out::Bool => self.table.scalar(Scalar::Bool),
            Out::Unsigned => self.table.scalar(unsigned_of(scalar)),
            Out::Bits => {
                self.table.scalar(if scalar == Scalar::F32 { Scalar::U32 } else { Scalar::U64 })
            }
        };
        Some(self.node(ExprKind::Math(fun, ids), var, span))
    }

    /// `p.norm2()` on a message struct: a call of its `#[device]` method, `p` as `self`.
    fn struct_method(
        &mut self,
        m: &syn::ExprMethodCall,
        name: &str,
        receiver: ExprId,
        span: Span,
    ) -> Option<(ExprId, Var)> {
        let method = m.method.to_string();
        let Some(sig) = self.devices.get(&super::method_key(name, &method)) else {
            self.error(
                span,
                format!("no method `{method}` on `{name}`"),
                format!("declare it: `impl {name} {{ #[device] fn {method}(&self) -> .. }}`"),
            );
            return None;
        };
        let (id, params, ret) = (sig.id, sig.params.clone(), sig.ret.clone());
        self.device_call(id, &params, &ret, &method, vec![receiver], &m.args, span)
    }

    /// `f32::from_bits(u32)` / `f64::from_bits(u64)`.
    pub(super) fn float_from_bits(
        &mut self,
        c: &syn::ExprCall,
        ty: &str,
        span: Span,
    ) -> Option<(ExprId, Var)> {
        let (float, bits) =
            if ty == "f32" { (Scalar::F32, Scalar::U32) } else { (Scalar::F64, Scalar::U64) };
        if c.args.len() != 1 {
            self.error(
                span,
                format!("`{ty}::from_bits` takes 1 argument, {} given", c.args.len()),
                "fix the argument count",
            );
            return None;
        }
        let (arg, var) = self.expr(&c.args[0])?;
        let expected = self.table.scalar(bits);
        self.unify_or_report(var, expected, at(&c.args[0]), &format!("for `{ty}::from_bits`"));
        let out = self.table.scalar(float);
        Some(self.node(ExprKind::Math(MathFn::FromBits, vec![arg]), out, span))
    }

    /// `T::from_be(x)` (the bytes swapped: every target is little-endian) and `T::from_le(x)`
    /// (the value itself).
    pub(super) fn int_from_endian(
        &mut self,
        c: &syn::ExprCall,
        ty: &str,
        function: &str,
        span: Span,
    ) -> Option<(ExprId, Var)> {
        let scalar = Scalar::from_name(ty)?;
        if c.args.len() != 1 {
            self.error(
                span,
                format!("`{ty}::{function}` takes 1 argument, {} given", c.args.len()),
                "fix the argument count",
            );
            return None;
        }
        let (arg, var) = self.expr(&c.args[0])?;
        let expected = self.table.scalar(scalar);
        self.unify_or_report(var, expected, at(&c.args[0]), &format!("for `{ty}::{function}`"));
        if function == "from_le" {
            return Some((arg, expected));
        }
        Some(self.node(ExprKind::Math(MathFn::SwapBytes, vec![arg]), expected, span))
    }

    /// The integer methods that are the DSL's own operators under another name (its integer
    /// arithmetic already wraps, and divides by zero to 0 with an error recorded):
    /// `wrapping_div/rem/shl/shr/neg/abs`, and `unsigned_abs` (the wrapping `abs` cast).
    /// `None` for any other method.
    fn operator_method(
        &mut self,
        m: &syn::ExprMethodCall,
        method: &str,
        receiver: ExprId,
        rvar: Var,
        scalar: Scalar,
        span: Span,
    ) -> Option<Option<(ExprId, Var)>> {
        let op = match method {
            "wrapping_div" => BinaryOp::Div,
            "wrapping_rem" => BinaryOp::Rem,
            "wrapping_shl" => BinaryOp::Shl,
            "wrapping_shr" => BinaryOp::Shr,
            "wrapping_neg" | "wrapping_abs" | "unsigned_abs" => BinaryOp::Sub,
            _ => return None,
        };
        let unary = matches!(method, "wrapping_neg" | "wrapping_abs" | "unsigned_abs");
        if !scalar.is_int() || (method.ends_with("abs") && !scalar.is_signed_int()) {
            self.error(
                span,
                format!("no method `{method}` on `{}`", scalar.name()),
                "check the receiver's type",
            );
            return Some(None);
        }
        if m.args.len() != usize::from(!unary) {
            self.error(
                span,
                format!(
                    "`{method}` takes {} argument(s), {} given",
                    usize::from(!unary),
                    m.args.len()
                ),
                "fix the argument count",
            );
            return Some(None);
        }
        if method == "wrapping_abs" {
            return Some(Some(self.node(ExprKind::Math(MathFn::Abs, vec![receiver]), rvar, span)));
        }
        if method == "unsigned_abs" {
            // The wrapping absolute value read as unsigned: `MIN.unsigned_abs()` is 2^(w-1).
            let (abs, _) = self.node(ExprKind::Math(MathFn::Abs, vec![receiver]), rvar, span);
            let unsigned = self.table.scalar(unsigned_of(scalar));
            return Some(Some(self.node(ExprKind::Cast(abs), unsigned, span)));
        }
        let (left, right) = if unary {
            (self.node(ExprKind::Const(Const::Int(0)), rvar, span).0, receiver)
        } else {
            let Some((arg, avar)) = self.expr(&m.args[0]) else { return Some(None) };
            let expected = if matches!(op, BinaryOp::Shl | BinaryOp::Shr) {
                self.table.scalar(Scalar::U32)
            } else {
                rvar
            };
            self.unify_or_report(
                avar,
                expected,
                at(&m.args[0]),
                &format!("for the argument of `{method}`"),
            );
            (receiver, arg)
        };
        Some(Some(self.node(ExprKind::Binary(op, left, right), rvar, span)))
    }
}

/// What a math method takes and gives.
struct MethodSig {
    fun: MathFn,
    receiver: Receiver,
    args: &'static [Arg],
    out: Out,
}

#[derive(Clone, Copy)]
enum Receiver {
    Any,
    Float,
    Int,
    Signed,
    Unsigned,
    SignedOrFloat,
}

#[derive(Clone, Copy)]
enum Arg {
    Same,
    U32,
    I32,
}

#[derive(Clone, Copy)]
enum Out {
    Same,
    U32,
    Bool,
    /// The unsigned integer of the receiver's width.
    Unsigned,
    /// `u32` for `f32`, `u64` for `f64`.
    Bits,
}

const SUPPORTED_METHODS: &str = "abs min max clamp signum copysign sqrt powi mul_add exp exp2 exp_m1 ln log log2 log10 ln_1p sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh cbrt hypot powf floor ceil trunc round round_ties_even fract recip to_degrees to_radians to_bits (and `f32::from_bits`) is_nan is_infinite is_finite is_normal is_subnormal is_sign_positive is_sign_negative; pow wrapping_pow div_euclid rem_euclid (and their wrapping_ names) wrapping_add wrapping_sub wrapping_mul saturating_add saturating_sub saturating_mul saturating_pow unsigned_abs wrapping_div wrapping_rem wrapping_neg wrapping_abs wrapping_shl wrapping_shr to_be to_le (and `T::from_be`, `T::from_le`) count_ones count_zeros leading_zeros trailing_zeros leading_ones trailing_ones rotate_left rotate_right swap_bytes reverse_bits is_power_of_two next_power_of_two isqrt is_positive is_negative abs_diff";

fn method_signature(method: &str) -> Option<MethodSig> {
    use {Arg as A, MathFn as F, Out as O, Receiver as R};
    let sig = |fun, receiver, args, out| Some(MethodSig { fun, receiver, args, out });
    match method {
        "abs" => sig(F::Abs, R::SignedOrFloat, &[], O::Same),
        "min" => sig(F::Min, R::Any, &[A::Same], O::Same),
        "clamp" => sig(F::Clamp, R::Any, &[A::Same, A::Same], O::Same),
        "pow" | "wrapping_pow" => sig(F::Pow, R::Int, &[A::U32], O::Same),
        "div_euclid" | "wrapping_div_euclid" => sig(F::DivEuclid, R::Int, &[A::Same], O::Same),
        "rem_euclid" | "wrapping_rem_euclid" => sig(F::RemEuclid, R::Int, &[A::Same], O::Same),
        "max" => sig(F::Max, R::Any, &[A::Same], O::Same),
        "signum" => sig(F::Signum, R::SignedOrFloat, &[], O::Same),
        "copysign" => sig(F::Copysign, R::Float, &[A::Same], O::Same),
        "sqrt" => sig(F::Sqrt, R::Float, &[], O::Same),
        "exp" => sig(F::Exp, R::Float, &[], O::Same),
        "ln" => sig(F::Ln, R::Float, &[], O::Same),
        "sin" => sig(F::Sin, R::Float, &[], O::Same),
        "cos" => sig(F::Cos, R::Float, &[], O::Same),
        "powi" => sig(F::Powi, R::Float, &[A::I32], O::Same),
        "mul_add" => sig(F::MulAdd, R::Float, &[A::Same, A::Same], O::Same),
        "floor" => sig(F::Floor, R::Float, &[], O::Same),
        "ceil" => sig(F::Ceil, R::Float, &[], O::Same),
        "trunc" => sig(F::Trunc, R::Float, &[], O::Same),
        "round" => sig(F::Round, R::Float, &[], O::Same),
        "next_power_of_two" => sig(F::NextPowerOfTwo, R::Unsigned, &[], O::Same),
        "isqrt" => sig(F::Isqrt, R::Int, &[], O::Same),
        "round_ties_even" => sig(F::RoundTiesEven, R::Float, &[], O::Same),
        "fract" => sig(F::Fract, R::Float, &[], O::Same),
        "recip" => sig(F::Recip, R::Float, &[], O::Same),
        "to_degrees" => sig(F::ToDegrees, R::Float, &[], O::Same),
        "to_radians" => sig(F::ToRadians, R::Float, &[], O::Same),
        "to_bits" => sig(F::ToBits, R::Float, &[], O::Bits),
        "is_nan" => sig(F::IsNan, R::Float, &[], O::Bool),
        "is_infinite" => sig(F::IsInfinite, R::Float, &[], O::Bool),
        "is_finite" => sig(F::IsFinite, R::Float, &[], O::Bool),
        "is_normal" => sig(F::IsNormal, R::Float, &[], O::Bool),
        "is_subnormal" => sig(F::IsSubnormal, R::Float, &[], O::Bool),
        "is_sign_positive" => sig(F::IsSignPositive, R::Float, &[], O::Bool),
        "is_sign_negative" => sig(F::IsSignNegative, R::Float, &[], O::Bool),
        "wrapping_add" => sig(F::WrappingAdd, R::Int, &[A::Same], O::Same),
        "wrapping_sub" => sig(F::WrappingSub, R::Int, &[A::Same], O::Same),
        "wrapping_mul" => sig(F::WrappingMul, R::Int, &[A::Same], O::Same),
        "saturating_add" => sig(F::SaturatingAdd, R::Int, &[A::Same], O::Same),
        "saturating_sub" => sig(F::SaturatingSub, R::Int, &[A::Same], O::Same),
        "saturating_mul" => sig(F::SaturatingMul, R::Int, &[A::Same], O::Same),
        "saturating_pow" => sig(F::SaturatingPow, R::Int, &[A::U32], O::Same),
        "count_ones" => sig(F::CountOnes, R::Int, &[], O::U32),
        "count_zeros" => sig(F::CountZeros, R::Int, &[], O::U32),
        "leading_zeros" => sig(F::LeadingZeros, R::Int, &[], O::U32),
        "trailing_zeros" => sig(F::TrailingZeros, R::Int, &[], O::U32),
        "leading_ones" => sig(F::LeadingOnes, R::Int, &[], O::U32),
        "trailing_ones" => sig(F::TrailingOnes, R::Int, &[], O::U32),
        "rotate_left" => sig(F::RotateLeft, R::Int, &[A::U32], O::Same),
        "rotate_right" => sig(F::RotateRight, R::Int, &[A::U32], O::Same),
        "swap_bytes" => sig(F::SwapBytes, R::Int, &[], O::Same),
        "reverse_bits" => sig(F::ReverseBits, R::Int, &[], O::Same),
        "is_power_of_two" => sig(F::IsPowerOfTwo, R::Unsigned, &[], O::Bool),
        "is_positive" => sig(F::IsPositive, R::Signed, &[], O::Bool),
        "is_negative" => sig(F::IsNegative, R::Signed, &[], O::Bool),
        "abs_diff" => sig(F::AbsDiff, R::Int, &[A::Same], O::Unsigned),
        _ => None,
    }
}

/// The unsigned integer type of `s`'s width.
pub(crate) fn unsigned_of(s: Scalar) -> Scalar {
    match s {
        Scalar::I8 => Scalar::U8,
        Scalar::I16 => Scalar::U16,
        Scalar::I32 => Scalar::U32,
        Scalar::I64 => Scalar::U64,
        Scalar::Isize => Scalar::Usize,
        other => other,
    }
}

/// `T::NAME` for a primitive `T`: the value and its type (`BITS` is a `u32`).
pub(super) fn associated_const(scalar: Scalar, name: &str) -> Option<(Const, Scalar)> {
    let float = |f32_value: f32, f64_value: f64| {
        Some(Const::Float(if scalar == Scalar::F32 { f64::from(f32_value) } else { f64_value }))
    };
    let value = match name {
        "MAX" => Some(scalar_limit(scalar, true)),
        "MIN" => Some(scalar_limit(scalar, false)),
        "BITS" if scalar.is_int() => {
            return Some((Const::Int(u64::from(scalar.size() * 8)), Scalar::U32));
        }
        _ if !scalar.is_float() => None,
        "EPSILON" => float(f32::EPSILON, f64::EPSILON),
        "INFINITY" => float(f32::INFINITY, f64::INFINITY),
        "NEG_INFINITY" => float(f32::NEG_INFINITY, f64::NEG_INFINITY),
        "NAN" => float(f32::NAN, f64::NAN),
        "MIN_POSITIVE" => float(f32::MIN_POSITIVE, f64::MIN_POSITIVE),
        _ => None,
    };
    value.map(|v| (v, scalar))
}

/// `core::f64::consts::NAME` (an `f32` constant is this value rounded to `f32`, which is
/// what `core::f32::consts` holds).
pub(super) fn float_const(name: &str) -> Option<f64> {
    use std::f64::consts as c;
    Some(match name {
        "PI" => c::PI,
        "TAU" => c::TAU,
        "E" => c::E,
        "FRAC_PI_2" => c::FRAC_PI_2,
        "FRAC_PI_3" => c::FRAC_PI_3,
        "FRAC_PI_4" => c::FRAC_PI_4,
        "FRAC_PI_6" => c::FRAC_PI_6,
        "FRAC_PI_8" => c::FRAC_PI_8,
        "FRAC_1_PI" => c::FRAC_1_PI,
        "FRAC_2_PI" => c::FRAC_2_PI,
        "FRAC_2_SQRT_PI" => c::FRAC_2_SQRT_PI,
        "SQRT_2" => c::SQRT_2,
        "FRAC_1_SQRT_2" => c::FRAC_1_SQRT_2,
        "LN_2" => c::LN_2,
        "LN_10" => c::LN_10,
        "LOG2_E" => c::LOG2_E,
        "LOG2_10" => c::LOG2_10,
        "LOG10_E" => c::LOG10_E,
        "LOG10_2" => c::LOG10_2,
        _ => return None,
    })
}

fn scalar_limit(scalar: Scalar, max: bool) -> Const {
    match scalar {
        Scalar::F32 => Const::Float(if max { f32::MAX as f64 } else { f32::MIN as f64 }),
        Scalar::F64 => Const::Float(if max { f64::MAX } else { f64::MIN }),
        s => {
            let bits = s.size() * 8;
            let value: u64 = match (s.is_signed_int(), max) {
                (true, true) => (1u64 << (bits - 1)) - 1,
                (true, false) => (1u64 << (bits - 1)).wrapping_neg(),
                (false, true) => {
                    if bits == 64 {
                        u64::MAX
                    } else {
                        (1u64 << bits) - 1
                    }
                }
                (false, false) => 0,
            };
            Const::Int(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_constants_are_the_cores_in_both_widths() {
        macro_rules! check {
            ($($name:ident),*) => {$(
                let value = float_const(stringify!($name)).expect(stringify!($name));
                assert_eq!(value.to_bits(), core::f64::consts::$name.to_bits(), stringify!($name));
                assert_eq!((value as f32).to_bits(), core::f32::consts::$name.to_bits(), stringify!($name));
            )*};
        }
        check!(
            PI,
            TAU,
            E,
            FRAC_PI_2,
            FRAC_PI_3,
            FRAC_PI_4,
            FRAC_PI_6,
            FRAC_PI_8,
            FRAC_1_PI,
            FRAC_2_PI,
            FRAC_2_SQRT_PI,
            SQRT_2,
            FRAC_1_SQRT_2,
            LN_2,
            LN_10,
            LOG2_E,
            LOG2_10,
            LOG10_E,
            LOG10_2
        );
        assert_eq!(float_const("PHI"), None);
        let f32_nan = associated_const(Scalar::F32, "NAN").unwrap().0;
        assert!(matches!(f32_nan, Const::Float(v) if (v as f32).to_bits() == f32::NAN.to_bits()));
        assert_eq!(associated_const(Scalar::U16, "BITS"), Some((Const::Int(16), Scalar::U32)));
        assert_eq!(associated_const(Scalar::I32, "EPSILON"), None, "no float constants on ints");
    }
}
