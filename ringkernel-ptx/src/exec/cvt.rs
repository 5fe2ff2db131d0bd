//! `cvt` in every direction (PTX ISA 9.7.9.21, "Data Movement and Conversion").
//!
//! - integer → integer: sign- or zero-extend from the source type, then truncate; `.sat`
//!   clamps to the destination's range first. A signed destination narrower than its
//!   register is sign-extended into it (as `ld.s8` does).
//! - integer → float and f64 → f32: rounded in the requested direction (default `.rn`).
//! - float → float of the same width with `.rni .rzi .rmi .rpi`: round to an integral value.
//! - float → integer: round as asked, then **saturate** to the destination range (always, not
//!   only with `.sat`). NaN follows the ISA's width-dependent rule: the result is 0 unless the
//!   source is `.f64` or the destination is 64 bits wide, in which case it is `1 << (width-1)`
//!   (MININT for signed, 2^(width-1) for unsigned destinations).
//! - `.ftz` flushes a subnormal f32 source (and f32 result) to zero; `.sat` on a float
//!   destination clamps to [0, 1].

use crate::inst::{FloatTy, IntTy, Round, Ty};
use crate::softfloat::{self, decompose};

use super::float::flush;

pub(crate) fn cvt(
    dty: Ty,
    sty: Ty,
    round: Option<Round>,
    integral: bool,
    ftz: bool,
    sat: bool,
    a: u64,
) -> u64 {
    let rnd = round.unwrap_or(Round::Nearest);
    match (dty, sty) {
        (Ty::Int(d), Ty::Int(s)) => int_to_int(d, s, sat, a),
        (Ty::Float(d), Ty::Int(s)) => {
            let r = int_to_float(d, s, rnd, a);
            finish_float(d, ftz, sat, r)
        }
        (Ty::Int(d), Ty::Float(s)) => {
            let a = if ftz && s == FloatTy::F32 { flush(s, a) } else { a };
            float_to_int(d, s, rnd, a)
        }
        (Ty::Float(d), Ty::Float(s)) => {
            let a = if ftz && s == FloatTy::F32 { flush(s, a) } else { a };
            let r = if d == s {
                if integral { round_integral(s, rnd, a) } else { a }
            } else if d == FloatTy::F64 {
                let x = f32::from_bits(a as u32);
                if x.is_nan() { 0x7fff_ffff_ffff_ffff } else { f64::from(x).to_bits() }
            } else {
                narrow(rnd, a)
            };
            finish_float(d, ftz, sat, r)
        }
        _ => a, // predicates are rejected by the decoder
    }
}

fn finish_float(d: FloatTy, ftz: bool, sat: bool, r: u64) -> u64 {
    let mut r = r;
    let x = match d {
        FloatTy::F32 => f64::from(f32::from_bits(r as u32)),
        FloatTy::F64 => f64::from_bits(r),
    };
    if x.is_nan() {
        r = match d {
            FloatTy::F32 => 0x7fff_ffff,
            FloatTy::F64 => 0x7fff_ffff_ffff_ffff,
        };
    }
    if ftz && d == FloatTy::F32 {
        r = flush(d, r);
    }
    if sat {
        r = if x.is_nan() || x <= 0.0 {
            0
        } else if x >= 1.0 {
            match d {
                FloatTy::F32 => u64::from(1.0f32.to_bits()),
                FloatTy::F64 => 1.0f64.to_bits(),
            }
        } else {
            r
        };
    }
    r
}

fn int_to_int(d: IntTy, s: IntTy, sat: bool, a: u64) -> u64 {
    let v = s.extend(a);
    if !sat {
        return d.extend(v);
    }
    let value: i128 = if s.signed { i128::from(v as i64) } else { i128::from(v) };
    let (lo, hi) = range(d);
    d.extend(value.clamp(lo, hi) as u64)
}

fn range(d: IntTy) -> (i128, i128) {
    let bits = u32::from(d.bits);
    if d.signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    }
}

fn int_to_float(d: FloatTy, s: IntTy, rnd: Round, a: u64) -> u64 {
    let v = s.extend(a);
    let (negative, magnitude) =
        if s.signed && (v as i64) < 0 { (true, (v as i64).unsigned_abs()) } else { (false, v) };
    if rnd == Round::Nearest {
        // Rust's `as` from an integer rounds to nearest, ties to even.
        return match (d, s.signed) {
            (FloatTy::F32, true) => u64::from(((v as i64) as f32).to_bits()),
            (FloatTy::F32, false) => u64::from((v as f32).to_bits()),
            (FloatTy::F64, true) => ((v as i64) as f64).to_bits(),
            (FloatTy::F64, false) => (v as f64).to_bits(),
        };
    }
    if magnitude == 0 {
        return 0;
    }
    softfloat::round(d, softfloat::from_int(negative, magnitude), rnd)
}

/// f64 → f32 in a rounding direction.
fn narrow(rnd: Round, a: u64) -> u64 {
    let x = f64::from_bits(a);
    if rnd == Round::Nearest || !x.is_finite() || x == 0.0 {
        return u64::from((x as f32).to_bits());
    }
    softfloat::round(FloatTy::F32, decompose(FloatTy::F64, a), rnd)
}

fn round_f64(rnd: Round, x: f64) -> f64 {
    match rnd {
        Round::Nearest => x.round_ties_even(),
        Round::Zero => x.trunc(),
        Round::Down => x.floor(),
        Round::Up => x.ceil(),
    }
}

fn round_integral(ty: FloatTy, rnd: Round, a: u64) -> u64 {
    match ty {
        FloatTy::F32 => {
            let x = f32::from_bits(a as u32);
            let r = match rnd {
                Round::Nearest => x.round_ties_even(),
                Round::Zero => x.trunc(),
                Round::Down => x.floor(),
                Round::Up => x.ceil(),
            };
            u64::from(r.to_bits())
        }
        FloatTy::F64 => round_f64(rnd, f64::from_bits(a)).to_bits(),
    }
}

fn float_to_int(d: IntTy, s: FloatTy, rnd: Round, a: u64) -> u64 {
    let x = match s {
        FloatTy::F32 => f64::from(f32::from_bits(a as u32)),
        FloatTy::F64 => f64::from_bits(a),
    };
    if x.is_nan() {
        return if s == FloatTy::F64 || d.bits == 64 { d.extend(1u64 << (d.bits - 1)) } else { 0 };
    }
    let r = round_f64(rnd, x);
    let (lo, hi) = range(d);
    // Every i128 bound is exactly representable in f64 up to 2^64; compare in f64.
    let v: i128 = if r <= lo as f64 {
        lo
    } else if r >= hi as f64 {
        hi
    } else {
        r as i128
    };
    d.extend(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const F32: Ty = Ty::Float(FloatTy::F32);
    const F64: Ty = Ty::Float(FloatTy::F64);
    const S32: Ty = Ty::Int(IntTy { bits: 32, signed: true });
    const U64: Ty = Ty::Int(IntTy { bits: 64, signed: false });
    const U8: Ty = Ty::Int(IntTy { bits: 8, signed: false });

    #[test]
    fn nan_rule_depends_on_widths() {
        let nan32 = u64::from(f32::NAN.to_bits());
        let nan64 = f64::NAN.to_bits();
        let rzi = Some(Round::Zero);
        assert_eq!(cvt(S32, F32, rzi, true, false, false, nan32), 0);
        assert_eq!(cvt(S32, F64, rzi, true, false, false, nan64) & 0xffff_ffff, 0x8000_0000);
        assert_eq!(cvt(U64, F32, rzi, true, false, false, nan32), 1 << 63);
        assert_eq!(cvt(U8, F32, rzi, true, false, false, nan32), 0);
    }

    #[test]
    fn float_to_int_saturates_and_rounds() {
        let rzi = Some(Round::Zero);
        let low32 = |v: u64| v & 0xffff_ffff;
        let f = |x: f32| u64::from(x.to_bits());
        assert_eq!(cvt(U8, F32, rzi, true, false, false, f(300.0)), 255);
        assert_eq!(
            low32(cvt(S32, F32, rzi, true, false, false, f(f32::NEG_INFINITY))),
            0x8000_0000
        );
        assert_eq!(cvt(S32, F32, Some(Round::Nearest), true, false, false, f(2.5)), 2);
        assert_eq!(cvt(S32, F32, Some(Round::Up), true, false, false, f(2.1)), 3);
        assert_eq!(cvt(S32, F32, Some(Round::Down), true, false, false, f(-2.1)), (-3i64) as u64);
        assert_eq!(cvt(U64, F64, rzi, true, false, false, 1e30f64.to_bits()), u64::MAX);
    }

    #[test]
    fn int_to_float_rounding_directions() {
        let big = (1u64 << 24) + 1; // not representable in f32
        let dn = cvt(F32, U64, Some(Round::Down), false, false, false, big);
        let up = cvt(F32, U64, Some(Round::Up), false, false, false, big);
        assert_eq!(up, dn + 1);
        assert_eq!(
            cvt(F32, U64, Some(Round::Nearest), false, false, false, big),
            u64::from(16777216.0f32.to_bits())
        );
    }

    #[test]
    fn narrowing_and_saturating_conversions() {
        let x = 0.1f64.to_bits();
        let dn = cvt(F32, F64, Some(Round::Down), false, false, false, x);
        let up = cvt(F32, F64, Some(Round::Up), false, false, false, x);
        assert_eq!(up, dn + 1);
        assert_eq!(cvt(U8, S32, None, false, false, true, (-5i32) as u32 as u64), 0);
        assert_eq!(cvt(U8, S32, None, false, false, false, 0x1ff), 0xff);
        assert_eq!(
            cvt(F32, F32, Some(Round::Down), true, false, false, u64::from((-0.5f32).to_bits())),
            u64::from((-1.0f32).to_bits())
        );
    }
}
