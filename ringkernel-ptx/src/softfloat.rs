//! Exactly rounded arithmetic in every IEEE 754 rounding direction (`.rz .rm .rp`).
//!
//! The host FPU computes round-to-nearest-even, which is what `.rn` asks for, so `.rn` uses
//! native operations. The directed modes are computed here from the exact result: each
//! operation produces an unrounded value `(-1)^sign * mant * 2^exp`, with `sticky` set when
//! nonzero bits were dropped below `mant` (the value then lies strictly between `mant` and
//! `mant + 1` units), and [`round`] rounds it once, subnormals and overflow included. Inputs
//! that are NaN, infinite or zero are handled by the callers from IEEE's exact rules.

use crate::inst::{FloatTy, Round};

#[derive(Clone, Copy)]
struct Format {
    /// Precision in bits, the hidden bit included.
    precision: u32,
    /// Exponent of the least significant bit of the smallest subnormal.
    quantum_min: i32,
    /// Biased exponent of infinity.
    exp_inf: u64,
}

const F32: Format = Format { precision: 24, quantum_min: -149, exp_inf: 255 };
const F64: Format = Format { precision: 53, quantum_min: -1074, exp_inf: 2047 };

fn format(ty: FloatTy) -> Format {
    match ty {
        FloatTy::F32 => F32,
        FloatTy::F64 => F64,
    }
}

/// An unrounded finite value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Exact {
    pub negative: bool,
    pub mant: u128,
    pub exp: i32,
    pub sticky: bool,
}

/// Splits finite float bits into sign, integer mantissa and exponent.
pub(crate) fn decompose(ty: FloatTy, bits: u64) -> Exact {
    let (frac_bits, exp_mask, bias_shift) = match ty {
        FloatTy::F32 => (23u32, 0xffu64, 150i32),
        FloatTy::F64 => (52, 0x7ff, 1075),
    };
    let negative = (bits >> (frac_bits + exp_mask.count_ones())) & 1 == 1;
    let e = ((bits >> frac_bits) & exp_mask) as i32;
    let frac = bits & ((1u64 << frac_bits) - 1);
    let (mant, exp) =
        if e == 0 { (frac, 1 - bias_shift) } else { (frac | 1 << frac_bits, e - bias_shift) };
    Exact { negative, mant: u128::from(mant), exp, sticky: false }
}

fn signed_zero(ty: FloatTy, negative: bool) -> u64 {
    if negative { sign_bit(ty) } else { 0 }
}

fn sign_bit(ty: FloatTy) -> u64 {
    match ty {
        FloatTy::F32 => 1 << 31,
        FloatTy::F64 => 1 << 63,
    }
}

/// Rounds an exact value once into `ty` in direction `mode`.
pub(crate) fn round(ty: FloatTy, x: Exact, mode: Round) -> u64 {
    let f = format(ty);
    if x.mant == 0 {
        // Only sticky bits: a nonzero value below every representable magnitude.
        return if x.sticky { tiny(ty, f, x.negative, mode) } else { signed_zero(ty, x.negative) };
    }
    let length = 128 - x.mant.leading_zeros() as i32;
    let top = x.exp + length - 1;
    let quantum = (top - (f.precision as i32 - 1)).max(f.quantum_min);
    let shift = quantum - x.exp;
    let (mut m, inexact, above_half, at_half) = if shift <= 0 {
        (x.mant << (-shift) as u32, x.sticky, false, false)
    } else if shift >= 128 {
        // Everything is below the quantum: the value is less than half of it.
        (0u128, true, false, false)
    } else {
        let rest = x.mant & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        (
            x.mant >> shift,
            rest != 0 || x.sticky,
            rest > half || (rest == half && x.sticky),
            rest == half && !x.sticky,
        )
    };
    let up = match mode {
        Round::Nearest => above_half || (at_half && m & 1 == 1),
        Round::Zero => false,
        Round::Up => inexact && !x.negative,
        Round::Down => inexact && x.negative,
    };
    let mut q = quantum;
    if up {
        m += 1;
        if m == 1u128 << f.precision {
            m >>= 1;
            q += 1;
        }
    }
    let sign = if x.negative { sign_bit(ty) } else { 0 };
    if m == 0 {
        return sign;
    }
    let frac_bits = f.precision - 1;
    if m < 1u128 << frac_bits {
        return sign | m as u64; // subnormal: q is quantum_min
    }
    let biased = (q - f.quantum_min + 1) as u64;
    if biased >= f.exp_inf {
        return overflow(ty, f, x.negative, mode);
    }
    sign | biased << frac_bits | (m as u64 & ((1u64 << frac_bits) - 1))
}

fn overflow(ty: FloatTy, f: Format, negative: bool, mode: Round) -> u64 {
    let sign = if negative { sign_bit(ty) } else { 0 };
    let frac_bits = f.precision - 1;
    let inf = f.exp_inf << frac_bits;
    let max = inf - 1;
    let to_inf = match mode {
        Round::Nearest => true,
        Round::Zero => false,
        Round::Up => !negative,
        Round::Down => negative,
    };
    sign | if to_inf { inf } else { max }
}

fn tiny(ty: FloatTy, _f: Format, negative: bool, mode: Round) -> u64 {
    let sign = if negative { sign_bit(ty) } else { 0 };
    let away = match mode {
        Round::Nearest | Round::Zero => false,
        Round::Up => !negative,
        Round::Down => negative,
    };
    sign | u64::from(away)
}

/// Shifts a nonzero mantissa so its top bit is bit 125 (room for one carry).
fn normalize(x: Exact) -> Exact {
    let lz = x.mant.leading_zeros() as i32;
    let s = lz - 2;
    if s >= 0 {
        Exact { mant: x.mant << s, exp: x.exp - s, ..x }
    } else {
        let dropped = x.mant & ((1u128 << -s) - 1) != 0;
        Exact { mant: x.mant >> -s, exp: x.exp - s, sticky: x.sticky || dropped, ..x }
    }
}

/// Exact sum of two finite nonzero values (the sticky bit stands for anything dropped).
pub(crate) fn add(a: Exact, b: Exact) -> Exact {
    let (a, b) = (normalize(a), normalize(b));
    let (big, small) = if (a.exp, a.mant) >= (b.exp, b.mant) { (a, b) } else { (b, a) };
    let d = (big.exp - small.exp) as u32;
    let (aligned, sticky) = if d >= 127 {
        (0u128, true)
    } else {
        (small.mant >> d, small.mant & ((1u128 << d) - 1) != 0 || small.sticky)
    };
    if big.negative == small.negative {
        return Exact { negative: big.negative, mant: big.mant + aligned, exp: big.exp, sticky };
    }
    // big - (aligned + f), 0 <= f < 1: borrow one unit when f > 0 and keep the sticky bit.
    let mant = big.mant - aligned - u128::from(sticky);
    Exact { negative: big.negative, mant, exp: big.exp, sticky }
}

pub(crate) fn mul(a: Exact, b: Exact) -> Exact {
    Exact {
        negative: a.negative != b.negative,
        mant: a.mant * b.mant,
        exp: a.exp + b.exp,
        sticky: false,
    }
}

pub(crate) fn div(a: Exact, b: Exact) -> Exact {
    let a = normalize(a);
    let q = a.mant / b.mant;
    let r = a.mant % b.mant;
    Exact { negative: a.negative != b.negative, mant: q, exp: a.exp - b.exp, sticky: r != 0 }
}

pub(crate) fn sqrt(a: Exact) -> Exact {
    let mut a = normalize(a);
    if a.exp & 1 != 0 {
        a.mant >>= 1; // top bit moves to 124; the dropped bit is zero (normalize shifted in zeros)
        a.exp += 1;
    }
    let (s, exact) = isqrt(a.mant);
    Exact { negative: false, mant: s, exp: a.exp / 2, sticky: !exact }
}

/// Integer square root and whether it is exact.
fn isqrt(n: u128) -> (u128, bool) {
    let mut x: u128 = 0;
    let mut bit = 1u128 << 126;
    let mut rem = n;
    while bit > n {
        bit >>= 2;
    }
    while bit != 0 {
        if rem >= x + bit {
            rem -= x + bit;
            x = (x >> 1) + bit;
        } else {
            x >>= 1;
        }
        bit >>= 2;
    }
    (x, rem == 0)
}

/// An integer value as an exact float value.
pub(crate) fn from_int(negative: bool, magnitude: u64) -> Exact {
    Exact { negative, mant: u128::from(magnitude), exp: 0, sticky: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32_op(a: f32, b: f32, op: fn(Exact, Exact) -> Exact, mode: Round) -> f32 {
        let x = op(
            decompose(FloatTy::F32, u64::from(a.to_bits())),
            decompose(FloatTy::F32, u64::from(b.to_bits())),
        );
        f32::from_bits(round(FloatTy::F32, x, mode) as u32)
    }

    #[test]
    fn nearest_matches_the_hardware_on_awkward_values() {
        let values = [1.0f32, 3.0, 0.1, -7.25, 1e-40, 3.4e38, -1.17e-38, 16777217.0, 1.0e-45, 2.5];
        for &a in &values {
            for &b in &values {
                assert_eq!(
                    f32_op(a, b, add, Round::Nearest).to_bits(),
                    (a + b).to_bits(),
                    "{a} + {b}"
                );
                assert_eq!(
                    f32_op(a, b, mul, Round::Nearest).to_bits(),
                    (a * b).to_bits(),
                    "{a} * {b}"
                );
                assert_eq!(
                    f32_op(a, b, div, Round::Nearest).to_bits(),
                    (a / b).to_bits(),
                    "{a} / {b}"
                );
            }
            if a > 0.0 {
                let s = f32::from_bits(round(
                    FloatTy::F32,
                    sqrt(decompose(FloatTy::F32, u64::from(a.to_bits()))),
                    Round::Nearest,
                ) as u32);
                assert_eq!(s.to_bits(), a.sqrt().to_bits(), "sqrt {a}");
            }
        }
    }

    #[test]
    fn directed_modes_bracket_the_exact_result() {
        // 1/3 is not representable: down < up, adjacent, and zero truncates.
        let down = f32_op(1.0, 3.0, div, Round::Down);
        let up = f32_op(1.0, 3.0, div, Round::Up);
        assert_eq!(up.to_bits(), down.to_bits() + 1);
        assert_eq!(f32_op(-1.0, 3.0, div, Round::Zero), -down);
        // Overflow: toward zero gives MAX, up gives infinity.
        assert_eq!(f32_op(3.4e38, 10.0, mul, Round::Zero), f32::MAX);
        assert_eq!(f32_op(3.4e38, 10.0, mul, Round::Up), f32::INFINITY);
        assert_eq!(f32_op(-3.4e38, 10.0, mul, Round::Up), f32::MIN);
        // Underflow: the smallest subnormal survives rounding up.
        assert_eq!(f32_op(1.0e-45, 0.5, mul, Round::Up).to_bits(), 1);
        assert_eq!(f32_op(1.0e-45, 0.5, mul, Round::Down).to_bits(), 0);
        // A tiny addend moves the result only in its direction.
        assert_eq!(f32_op(1.0, 1.0e-30, add, Round::Up).to_bits(), 1.0f32.to_bits() + 1);
        assert_eq!(f32_op(1.0, -1.0e-30, add, Round::Up), 1.0);
        assert_eq!(f32_op(1.0, -1.0e-30, add, Round::Zero).to_bits(), 1.0f32.to_bits() - 1);
    }

    #[test]
    fn f64_nearest_agrees_with_native() {
        let values = [1.0f64, 0.1, 3.0, -2.5e-310, 1.7e308, 123456.789, -1.0e-320];
        for &a in &values {
            for &b in &values {
                let ea = decompose(FloatTy::F64, a.to_bits());
                let eb = decompose(FloatTy::F64, b.to_bits());
                assert_eq!(
                    round(FloatTy::F64, add(ea, eb), Round::Nearest),
                    (a + b).to_bits(),
                    "{a}+{b}"
                );
                assert_eq!(
                    round(FloatTy::F64, mul(ea, eb), Round::Nearest),
                    (a * b).to_bits(),
                    "{a}*{b}"
                );
                assert_eq!(
                    round(FloatTy::F64, div(ea, eb), Round::Nearest),
                    (a / b).to_bits(),
                    "{a}/{b}"
                );
            }
        }
    }
}
