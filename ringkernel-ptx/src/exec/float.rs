//! Floating-point instructions (PTX ISA 9.7.3 "Floating-Point Instructions") and float
//! comparisons (9.7.7).
//!
//! - `.rn` is the host's native IEEE arithmetic; `.rz .rm .rp` are rounded exactly by
//!   [`crate::softfloat`]. NaN results are the canonical NaN (`0x7fffffff`,
//!   `0x7fffffffffffffff`), as on the GPU.
//! - `.ftz` flushes subnormal f32 inputs and results to zero of the same sign; `.sat` clamps
//!   the result to [0, 1] with NaN → +0.
//! - `min`/`max`: a NaN operand is ignored unless both are NaN, and −0 orders below +0.
//! - The `.approx` functions (`ex2 lg2 sin cos tanh rsqrt`, `rcp.approx`, `sqrt.approx`,
//!   `div.approx/.full`) are computed in f64 and rounded once: well inside the ISA's documented
//!   error bounds, and the same bits on every host.

use crate::inst::{Cmp, FloatMode, FloatOp, FloatTy, FloatUnOp, Round, TestpOp};
use crate::softfloat::{self, Exact, decompose};

const CANONICAL_NAN_32: u64 = 0x7fff_ffff;
const CANONICAL_NAN_64: u64 = 0x7fff_ffff_ffff_ffff;

#[inline]
fn to_f64(ty: FloatTy, bits: u64) -> f64 {
    match ty {
        FloatTy::F32 => f64::from(f32::from_bits(bits as u32)),
        FloatTy::F64 => f64::from_bits(bits),
    }
}

pub(crate) fn flush(ty: FloatTy, bits: u64) -> u64 {
    match ty {
        FloatTy::F32 if bits & 0x7f80_0000 == 0 => bits & 0x8000_0000,
        FloatTy::F64 if bits & 0x7ff0_0000_0000_0000 == 0 => bits & (1 << 63),
        _ => bits,
    }
}

fn is_nan(ty: FloatTy, bits: u64) -> bool {
    match ty {
        FloatTy::F32 => f32::from_bits(bits as u32).is_nan(),
        FloatTy::F64 => f64::from_bits(bits).is_nan(),
    }
}

fn is_finite(ty: FloatTy, bits: u64) -> bool {
    to_f64(ty, bits).is_finite()
}

fn is_zero(ty: FloatTy, bits: u64) -> bool {
    to_f64(ty, bits) == 0.0
}

/// Applies `.ftz` (f32 only) and `.sat` to a result and canonicalises NaN.
#[inline]
fn finish(ty: FloatTy, mode: FloatMode, bits: u64) -> u64 {
    let mut r = bits;
    if is_nan(ty, r) {
        r = match ty {
            FloatTy::F32 => CANONICAL_NAN_32,
            FloatTy::F64 => CANONICAL_NAN_64,
        };
    }
    if mode.ftz && ty == FloatTy::F32 {
        r = flush(ty, r);
    }
    if mode.sat {
        let x = to_f64(ty, r);
        r = if x.is_nan() || x <= 0.0 {
            0
        } else if x >= 1.0 {
            from_f64(ty, 1.0)
        } else {
            r
        };
    }
    r
}

#[inline]
fn from_f64(ty: FloatTy, x: f64) -> u64 {
    match ty {
        FloatTy::F32 => u64::from((x as f32).to_bits()),
        FloatTy::F64 => x.to_bits(),
    }
}

#[inline]
fn native(op: FloatOp, ty: FloatTy, a: u64, b: u64) -> u64 {
    match ty {
        FloatTy::F32 => {
            let (x, y) = (f32::from_bits(a as u32), f32::from_bits(b as u32));
            u64::from(
                match op {
                    FloatOp::Add => x + y,
                    FloatOp::Sub => x - y,
                    FloatOp::Mul => x * y,
                    FloatOp::Div | FloatOp::DivApprox => x / y,
                    _ => unreachable!("handled by binary"),
                }
                .to_bits(),
            )
        }
        FloatTy::F64 => {
            let (x, y) = (f64::from_bits(a), f64::from_bits(b));
            match op {
                FloatOp::Add => x + y,
                FloatOp::Sub => x - y,
                FloatOp::Mul => x * y,
                FloatOp::Div | FloatOp::DivApprox => x / y,
                _ => unreachable!("handled by binary"),
            }
            .to_bits()
        }
    }
}

fn neg(ty: FloatTy, bits: u64) -> u64 {
    bits ^ match ty {
        FloatTy::F32 => 1 << 31,
        FloatTy::F64 => 1 << 63,
    }
}

/// `a op b` rounded in a directed mode (finite operands; the rest is exact in IEEE).
fn directed(op: FloatOp, ty: FloatTy, round: Round, a: u64, b: u64) -> u64 {
    let b = if op == FloatOp::Sub { neg(ty, b) } else { b };
    let op = if op == FloatOp::Sub { FloatOp::Add } else { op };
    let r = native(op, ty, a, b);
    if !is_finite(ty, a) || !is_finite(ty, b) || is_nan(ty, r) {
        return r;
    }
    let (ea, eb) = (decompose(ty, a), decompose(ty, b));
    match op {
        FloatOp::Add => {
            if is_zero(ty, a) && is_zero(ty, b) {
                let negative =
                    if ea.negative == eb.negative { ea.negative } else { round == Round::Down };
                return if negative { neg(ty, 0) } else { 0 };
            }
            if is_zero(ty, a) {
                return b;
            }
            if is_zero(ty, b) {
                return a;
            }
            let sum = softfloat::add(ea, eb);
            if sum.mant == 0 && !sum.sticky {
                return if round == Round::Down { neg(ty, 0) } else { 0 };
            }
            softfloat::round(ty, sum, round)
        }
        FloatOp::Mul if !is_zero(ty, a) && !is_zero(ty, b) => {
            softfloat::round(ty, softfloat::mul(ea, eb), round)
        }
        FloatOp::Div | FloatOp::DivApprox if !is_zero(ty, a) && !is_zero(ty, b) => {
            softfloat::round(ty, softfloat::div(ea, eb), round)
        }
        _ => r,
    }
}

pub(crate) fn binary(op: FloatOp, ty: FloatTy, mode: FloatMode, a: u64, b: u64) -> u64 {
    let (a, b) = if mode.ftz { (flush(ty, a), flush(ty, b)) } else { (a, b) };
    let r = match op {
        FloatOp::Min | FloatOp::Max => {
            let (x, y) = (to_f64(ty, a), to_f64(ty, b));
            if x.is_nan() {
                b
            } else if y.is_nan() {
                a
            } else {
                // -0 < +0: compare (value, sign) so the zeros order.
                let less = x < y || (x == y && x.is_sign_negative() && !y.is_sign_negative());
                if less == (op == FloatOp::Min) { a } else { b }
            }
        }
        // copysign.type d, a, b: the sign of a on the magnitude of b (ISA 9.7.3.2).
        FloatOp::Copysign => {
            let sign = neg(ty, 0);
            (b & !sign) | (a & sign)
        }
        _ if mode.round == Round::Nearest => native(op, ty, a, b),
        _ => directed(op, ty, mode.round, a, b),
    };
    finish(ty, mode, r)
}

pub(crate) fn fma(ty: FloatTy, mode: FloatMode, a: u64, b: u64, c: u64) -> u64 {
    let (a, b, c) = if mode.ftz { (flush(ty, a), flush(ty, b), flush(ty, c)) } else { (a, b, c) };
    let r = match ty {
        FloatTy::F32 => u64::from(
            f32::from_bits(a as u32)
                .mul_add(f32::from_bits(b as u32), f32::from_bits(c as u32))
                .to_bits(),
        ),
        FloatTy::F64 => f64::from_bits(a).mul_add(f64::from_bits(b), f64::from_bits(c)).to_bits(),
    };
    if mode.round == Round::Nearest || ![a, b, c].iter().all(|&v| is_finite(ty, v)) || is_nan(ty, r)
    {
        return finish(ty, mode, r);
    }
    let product_zero = is_zero(ty, a) || is_zero(ty, b);
    let r = if product_zero {
        // An exact zero product: the sum is c, or a signed zero by IEEE's rule for x + y = 0.
        if !is_zero(ty, c) {
            c
        } else {
            let p_negative = decompose(ty, a).negative != decompose(ty, b).negative;
            let c_negative = decompose(ty, c).negative;
            let negative =
                if p_negative == c_negative { p_negative } else { mode.round == Round::Down };
            if negative { neg(ty, 0) } else { 0 }
        }
    } else {
        let p = softfloat::mul(decompose(ty, a), decompose(ty, b));
        let total: Exact = if is_zero(ty, c) { p } else { softfloat::add(p, decompose(ty, c)) };
        if total.mant == 0 && !total.sticky {
            if mode.round == Round::Down { neg(ty, 0) } else { 0 }
        } else {
            softfloat::round(ty, total, mode.round)
        }
    };
    finish(ty, mode, r)
}

pub(crate) fn unary(op: FloatUnOp, ty: FloatTy, mode: FloatMode, a: u64) -> u64 {
    let a = if mode.ftz { flush(ty, a) } else { a };
    let x = to_f64(ty, a);
    let approx = |v: f64| from_f64(ty, v);
    let r = match op {
        FloatUnOp::Abs => a & !neg(ty, 0),
        FloatUnOp::Neg => neg(ty, a),
        FloatUnOp::Sqrt => sqrt(ty, mode.round, a),
        FloatUnOp::SqrtApprox => approx(x.sqrt()),
        FloatUnOp::Rcp => binary(
            FloatOp::Div,
            ty,
            FloatMode { ftz: false, sat: false, ..mode },
            from_f64(ty, 1.0),
            a,
        ),
        FloatUnOp::RcpApprox => approx(1.0 / x),
        FloatUnOp::Rsqrt => approx(1.0 / x.sqrt()),
        FloatUnOp::Ex2 => approx(x.exp2()),
        FloatUnOp::Lg2 => approx(x.log2()),
        FloatUnOp::Sin => approx(x.sin()),
        FloatUnOp::Cos => approx(x.cos()),
        FloatUnOp::Tanh => approx(x.tanh()),
        FloatUnOp::Testp(t) => {
            return u64::from(match t {
                TestpOp::Finite => x.is_finite(),
                TestpOp::Infinite => x.is_infinite(),
                TestpOp::Number => !x.is_nan(),
                TestpOp::NotANumber => x.is_nan(),
                TestpOp::Normal => match ty {
                    FloatTy::F32 => f32::from_bits(a as u32).is_normal(),
                    FloatTy::F64 => x.is_normal(),
                },
                TestpOp::Subnormal => match ty {
                    FloatTy::F32 => f32::from_bits(a as u32).is_subnormal(),
                    FloatTy::F64 => x.is_subnormal(),
                },
            });
        }
    };
    match op {
        // abs/neg are bit operations: NaN payloads pass through.
        FloatUnOp::Abs | FloatUnOp::Neg => {
            if mode.ftz && ty == FloatTy::F32 {
                flush(ty, r)
            } else {
                r
            }
        }
        _ => finish(ty, mode, r),
    }
}

fn sqrt(ty: FloatTy, round: Round, a: u64) -> u64 {
    let x = to_f64(ty, a);
    let native = match ty {
        FloatTy::F32 => u64::from(f32::from_bits(a as u32).sqrt().to_bits()),
        FloatTy::F64 => x.sqrt().to_bits(),
    };
    if round == Round::Nearest || !x.is_finite() || x <= 0.0 {
        return native;
    }
    softfloat::round(ty, softfloat::sqrt(decompose(ty, a)), round)
}

#[inline]
/// A float comparison of `setp`/`set`/`slct` (ISA Table 21: ordered and unordered forms).
pub(crate) fn compare(cmp: Cmp, ty: FloatTy, ftz: bool, a: u64, b: u64) -> bool {
    let (a, b) = if ftz { (flush(ty, a), flush(ty, b)) } else { (a, b) };
    let (x, y) = (to_f64(ty, a), to_f64(ty, b));
    let unordered = x.is_nan() || y.is_nan();
    match cmp {
        Cmp::Eq => x == y,
        Cmp::Ne => !unordered && x != y,
        Cmp::Lt | Cmp::Lo => x < y,
        Cmp::Le | Cmp::Ls => x <= y,
        Cmp::Gt | Cmp::Hi => x > y,
        Cmp::Ge | Cmp::Hs => x >= y,
        Cmp::Equ => unordered || x == y,
        Cmp::Neu => x != y,
        Cmp::Ltu => unordered || x < y,
        Cmp::Leu => unordered || x <= y,
        Cmp::Gtu => unordered || x > y,
        Cmp::Geu => unordered || x >= y,
        Cmp::Num => !unordered,
        Cmp::Nan => unordered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RN: FloatMode = FloatMode { round: Round::Nearest, ftz: false, sat: false };

    fn f(x: f32) -> u64 {
        u64::from(x.to_bits())
    }

    #[test]
    fn unordered_comparisons_are_true_on_nan() {
        let nan = f(f32::NAN);
        assert!(!compare(Cmp::Lt, FloatTy::F32, false, nan, f(1.0)));
        assert!(compare(Cmp::Ltu, FloatTy::F32, false, nan, f(1.0)));
        assert!(!compare(Cmp::Ne, FloatTy::F32, false, nan, nan));
        assert!(compare(Cmp::Neu, FloatTy::F32, false, nan, nan));
        assert!(compare(Cmp::Nan, FloatTy::F32, false, f(0.0), nan));
    }

    #[test]
    fn min_max_ignore_one_nan_and_order_zeros() {
        assert_eq!(binary(FloatOp::Min, FloatTy::F32, RN, f(f32::NAN), f(2.0)), f(2.0));
        assert_eq!(binary(FloatOp::Min, FloatTy::F32, RN, f(0.0), f(-0.0)), f(-0.0));
        assert_eq!(binary(FloatOp::Max, FloatTy::F32, RN, f(-0.0), f(0.0)), f(0.0));
        assert_eq!(
            binary(FloatOp::Max, FloatTy::F32, RN, f(f32::NAN), f(f32::NAN)),
            CANONICAL_NAN_32
        );
    }

    #[test]
    fn ftz_and_sat() {
        let sub = f(1.0e-40);
        let ftz = FloatMode { ftz: true, ..RN };
        assert_eq!(binary(FloatOp::Add, FloatTy::F32, ftz, sub, 0), 0);
        assert_eq!(binary(FloatOp::Add, FloatTy::F32, RN, sub, 0), sub);
        let sat = FloatMode { sat: true, ..RN };
        assert_eq!(binary(FloatOp::Mul, FloatTy::F32, sat, f(3.0), f(2.0)), f(1.0));
        assert_eq!(binary(FloatOp::Add, FloatTy::F32, sat, f(f32::NAN), f(1.0)), 0);
    }

    #[test]
    fn directed_rounding_of_add_mul_div_sqrt_fma() {
        let m = |round| FloatMode { round, ftz: false, sat: false };
        let third_dn = binary(FloatOp::Div, FloatTy::F32, m(Round::Down), f(1.0), f(3.0));
        let third_up = binary(FloatOp::Div, FloatTy::F32, m(Round::Up), f(1.0), f(3.0));
        assert_eq!(third_up, third_dn + 1);
        assert_eq!(binary(FloatOp::Sub, FloatTy::F32, m(Round::Down), f(1.0), f(1.0)), f(-0.0));
        assert_eq!(binary(FloatOp::Sub, FloatTy::F32, m(Round::Up), f(1.0), f(1.0)), f(0.0));
        let two = 2.0f64.to_bits();
        let s_dn = unary(FloatUnOp::Sqrt, FloatTy::F64, m(Round::Down), two);
        let s_up = unary(FloatUnOp::Sqrt, FloatTy::F64, m(Round::Up), two);
        assert_eq!(s_up, s_dn + 1);
        // fma keeps the product exact: 1 + 2^-60 rounds up only in .rp.
        let tiny = 2f64.powi(-30).to_bits();
        let one = 1.0f64.to_bits();
        assert_eq!(fma(FloatTy::F64, m(Round::Up), tiny, tiny, one), one + 1);
        assert_eq!(fma(FloatTy::F64, m(Round::Nearest), tiny, tiny, one), one);
    }

    #[test]
    fn copysign_takes_the_sign_of_the_first_operand() {
        assert_eq!(binary(FloatOp::Copysign, FloatTy::F32, RN, f(-1.0), f(2.0)), f(-2.0));
    }
}
