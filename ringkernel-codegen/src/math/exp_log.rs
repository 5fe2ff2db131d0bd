// The math library, part 2 of 5 (see shared.rs): exponentials, logarithms, powf.

#[allow(unused_imports)]
use super::{hyperbolic::*, shared::*, single::*, trig::*};

/// `sum(r^(n-2) / n!)` for n >= 2: `(exp(r) - 1 - r) / r^2`.
pub(super) fn exp_poly(r: f64) -> f64 {
    let a = EXP_13 + r * EXP_14;
    let a = EXP_12 + r * a;
    let a = EXP_11 + r * a;
    let a = EXP_10 + r * a;
    let a = EXP_9 + r * a;
    let a = EXP_8 + r * a;
    let a = EXP_7 + r * a;
    let a = EXP_6 + r * a;
    let a = EXP_5 + r * a;
    let a = EXP_4 + r * a;
    let a = EXP_3 + r * a;
    EXP_2 + r * a
}

/// `exp(x + tail) * 2^extra` for `|x| <= 746`, `|tail| <= 2^-40 |x|`.
pub(super) fn exp_core(x: f64, tail: f64, extra: i32) -> f64 {
    let k = (x * INV_LN2).round();
    // k * LN2_HI is exact (LN2_HI has 21 significant bits) and so is the subtraction.
    let hi = x - k * LN2_HI;
    let lo = k * LN2_LO - tail;
    // r = rh + rl = hi - lo exactly (2Sum); e^r = 1 + rh + (rl + q(r)), where the sum
    // 1 + rh is also taken exactly, so that only the last addition rounds noticeably.
    let rh = hi - lo;
    let rl = sum_error(hi, -lo, rh);
    let q = rh * rh * exp_poly(rh);
    let u = 1.0 + rh;
    let ue = rh - (u - 1.0);
    scale(u + (ue + (rl + q)), k as i32 + extra)
}

/// `e^x` for `|x| <= 700` as a double-double `[head, tail]`, to ~2^-58 relative:
/// [`exp_core`] before its last rounding.
pub(super) fn exp_dd(x: f64) -> [f64; 2] {
    let k = (x * INV_LN2).round();
    let hi = x - k * LN2_HI;
    let lo = k * LN2_LO;
    let rh = hi - lo;
    let rl = sum_error(hi, -lo, rh);
    let q = rh * rh * exp_poly(rh);
    // 1 + rh exactly (2Sum), plus the rest, renormalised: head + tail with |tail| <= ulp.
    let u = 1.0 + rh;
    let rest = (rh - (u - 1.0)) + (rl + q);
    let head = u + rest;
    [scale(head, k as i32), scale(rest - (head - u), k as i32)]
}

/// `e^x`.
pub fn exp_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 710.0 {
        return f64::INFINITY;
    }
    if x < -746.0 {
        return 0.0;
    }
    exp_core(x, 0.0, 0)
}

/// `2^x`.
pub fn exp2_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 1025.0 {
        return f64::INFINITY;
    }
    if x < -1076.0 {
        return 0.0;
    }
    let k = x.round();
    let r = x - k;
    // r * ln 2 as a double-double.
    let hi = r * LN2;
    let lo = r.mul_add(LN2, -hi) + r * LN2_TAIL;
    exp_core(hi, lo, k as i32)
}

/// `e^x - 1`, accurate near 0.
pub fn exp_m1_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 710.0 {
        return f64::INFINITY;
    }
    if x < -40.0 {
        return -1.0;
    }
    let ax = x.abs();
    if ax < 5.551115123125783e-17 {
        return x;
    }
    if ax <= 0.34657359027997264 {
        return x + x * x * exp_poly(x);
    }
    let k = (x * INV_LN2).round();
    let hi = x - k * LN2_HI;
    let lo = k * LN2_LO;
    // e^r - 1 = rh + (rl + q), with rh + rl = hi - lo exactly (2Sum); rh^2 is taken
    // exactly (its rounding error would reach the result scaled by 2^k).
    let rh = hi - lo;
    let rl = sum_error(hi, -lo, rh);
    let zh = rh * rh;
    let zl = rh.mul_add(rh, -zh);
    let q = zh * exp_poly(rh) + 0.5 * zl;
    let ki = k as i32;
    if ki > 56 {
        return scale(1.0 + (rh + (rl + q)), ki);
    }
    let t = pow2(ki);
    if ki > 52 {
        return (t * (rh + (rl + q)) - 1.0) + t;
    }
    // e^x - 1 = (t - 1) + t rh + t (rl + q): t - 1 is exact for -53 <= k <= 52 and t rh
    // always is; their sum is taken exactly (2Sum), the small rest added last.
    let a = t - 1.0;
    let b = t * rh;
    let u = a + b;
    u + (sum_error(a, b, u) + t * (rl + q))
}

/// `sum(2 z^(k-1) / (2k + 1))` for k >= 1, times z: the odd part of `2 atanh(s)` over s,
/// minus 2, for `z = s^2`.
pub(super) fn atanh_series(z: f64) -> f64 {
    z * (ATANH_3 + z * atanh_tail(z))
}

/// The same series from its second term on, over `z^2`: `sum(2 z^(k-2) / (2k + 1))` for
/// k >= 2 (kept apart so that `powf` can add the first term in double-double without
/// subtracting it back out of a rounded sum).
pub(super) fn atanh_tail(z: f64) -> f64 {
    let a = ATANH_23 + z * ATANH_25;
    let a = ATANH_21 + z * a;
    let a = ATANH_19 + z * a;
    let a = ATANH_17 + z * a;
    let a = ATANH_15 + z * a;
    let a = ATANH_13 + z * a;
    let a = ATANH_11 + z * a;
    let a = ATANH_9 + z * a;
    let a = ATANH_7 + z * a;
    ATANH_5 + z * a
}

/// The exponent `e` with `x = m 2^e`, `sqrt(1/2) <= m < sqrt(2)`, for finite `x > 0`.
pub(super) fn log_exponent(x: f64) -> i32 {
    let mut bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i32 - 1023;
    if e == -1023 {
        bits = (x * TWO_POW_54).to_bits();
        e = ((bits >> 52) & 0x7ff) as i32 - 1023 - 54;
    }
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > SQRT2 { e + 1 } else { e }
}

/// `m - 1` for the `m` of [`log_exponent`] (exact).
pub(super) fn log_fraction(x: f64) -> f64 {
    let mut bits = x.to_bits();
    if (bits >> 52) & 0x7ff == 0 {
        bits = (x * TWO_POW_54).to_bits();
    }
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > SQRT2 { m * 0.5 - 1.0 } else { m - 1.0 }
}

/// `log_base(x * (1 + tail))` for finite `x > 0` and `|tail| <= 2^-50`; `base`: 0 for e,
/// 2 for 2, 10 for 10.
pub(super) fn log_core(x: f64, tail: f64, base: u32) -> f64 {
    let e = log_exponent(x);
    let f = log_fraction(x);
    let dk = e as f64;
    let s = f / (2.0 + f);
    let r = atanh_series(s * s);
    let hfsq = 0.5 * f * f;
    // ln(1 + f) = f - hfsq + s (hfsq + r), exactly in real arithmetic.
    if base == 0 {
        return dk * LN2_HI - ((hfsq - (s * (hfsq + r) + (dk * LN2_LO + tail))) - f);
    }
    // f - hfsq split into a 21-bit head (so that head * INV_*_HI is exact) and the rest.
    let head = f64::from_bits((f - hfsq).to_bits() & 0xffff_ffff_0000_0000);
    let rest = (f - head) - hfsq + (s * (hfsq + r) + tail);
    if base == 2 {
        let val_hi = head * INV_LN2_HI;
        let val_lo = (rest + head) * INV_LN2_LO + rest * INV_LN2_HI;
        let w = dk + val_hi;
        return (val_lo + ((dk - w) + val_hi)) + w;
    }
    let y2 = dk * LOG10_2_HI;
    let val_hi = head * INV_LN10_HI;
    let val_lo = dk * LOG10_2_LO + (rest + head) * INV_LN10_LO + rest * INV_LN10_HI;
    let w = y2 + val_hi;
    (val_lo + ((y2 - w) + val_hi)) + w
}

/// The value of a logarithm outside `(0, inf)`, or NaN's; `0.5` when `x` is in range.
pub(super) fn log_special(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    0.5
}

/// The natural logarithm.
pub fn ln_f64(x: f64) -> f64 {
    let special = log_special(x);
    if special != 0.5 {
        return special;
    }
    log_core(x, 0.0, 0)
}

/// The base-2 logarithm.
pub fn log2_f64(x: f64) -> f64 {
    let special = log_special(x);
    if special != 0.5 {
        return special;
    }
    log_core(x, 0.0, 2)
}

/// The base-10 logarithm.
pub fn log10_f64(x: f64) -> f64 {
    let special = log_special(x);
    if special != 0.5 {
        return special;
    }
    log_core(x, 0.0, 10)
}

/// `log_base(x)`: `ln(x) / ln(base)` (the standard library's definition), with both
/// logarithms and the quotient in double-double so that it is rounded about once.
pub fn log_f64(x: f64, base: f64) -> f64 {
    let lx = ln_f64(x);
    let lb = ln_f64(base);
    if !lx.is_finite() || !lb.is_finite() || lx == 0.0 || lb == 0.0 {
        return lx / lb;
    }
    let [xh, xl] = ln_dd(x);
    let [bh, bl] = ln_dd(base);
    let q = xh / bh;
    q + ((-q).mul_add(bh, xh) + xl - q * bl) / bh
}

/// `ln(1 + x)`, accurate near 0.
pub fn ln_1p_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x < -1.0 {
        return f64::NAN;
    }
    if x == -1.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    if x.abs() < 5.551115123125783e-17 {
        return x;
    }
    let u = 1.0 + x;
    // The rounding error of 1 + x, exactly (Fast2Sum in magnitude order).
    let c = if x.abs() <= 1.0 { x - (u - 1.0) } else { 1.0 - (u - x) };
    log_core(u, c / u, 0)
}

/// `ln(x)` for finite `x > 0` as a double-double `[head, tail]`, to ~2^-66 relative. The odd
/// series of `2 atanh(s)`, `s = f / (2 + f)`, with its first two terms in double-double.
pub(super) fn ln_dd(ax: f64) -> [f64; 2] {
    let dk = log_exponent(ax) as f64;
    let f = log_fraction(ax);
    // s = f / (2 + f) in double-double; 2 + f itself by Fast2Sum.
    let dh = 2.0 + f;
    let dl = (2.0 - dh) + f;
    let sh = f / dh;
    let sl = ((-sh).mul_add(dh, f) - sh * dl) / dh;
    // (2/3) s^3 in double-double.
    let c = sh * sh;
    let cl = sh.mul_add(sh, -c);
    let s3h = c * sh;
    let s3l = c.mul_add(sh, -s3h) + cl * sh + 3.0 * c * sl;
    let t3h = ATANH_3 * s3h;
    let t3l = ATANH_3.mul_add(s3h, -t3h) + ATANH_3 * s3l + ATANH_3_TAIL * s3h;
    // The series' later terms in plain double: below 2^-12 of the total.
    let rest = sh * (c * c * atanh_tail(c));
    // ln(1 + f) = 2s + (2/3)s^3 + rest; plus dk ln 2.
    let two_s = 2.0 * sh;
    let h1 = two_s + t3h;
    let e1 = t3h - (h1 - two_s);
    let l1 = e1 + 2.0 * sl + t3l + rest;
    let kh = dk * LN2_HI;
    let klo = dk * LN2_LO;
    let klo_err = dk.mul_add(LN2_LO, -klo);
    // kh + h1 by 2Sum.
    let lh = kh + h1;
    let le = sum_error(kh, h1, lh);
    let ll0 = le + (l1 + (klo + klo_err));
    let log_hi = lh + ll0;
    let log_lo = ll0 - (log_hi - lh);
    [log_hi, log_lo]
}

/// `x^y` with IEEE 754's special cases (Rust's `powf`).
///
/// `y ln|x|` is formed in double-double (`ln|x|` to ~2^-66 relative: the odd series of
/// `2 atanh(s)` with its first two terms in double-double), then exponentiated with the
/// product's tail, so that the error of the exponent stays far below one ulp of the result.
pub fn powf_f64(x: f64, y: f64) -> f64 {
    if y == 0.0 || x == 1.0 {
        return 1.0;
    }
    if x.is_nan() || y.is_nan() {
        return x + y;
    }
    let y_int = y == y.trunc();
    let y_odd = y_int && y.abs() < 9007199254740992.0 && y * 0.5 != (y * 0.5).trunc();
    if y.is_infinite() {
        let ax = x.abs();
        if ax == 1.0 {
            return 1.0;
        }
        return if (ax < 1.0) == (y < 0.0) { f64::INFINITY } else { 0.0 };
    }
    if x == 0.0 {
        if y < 0.0 {
            return if y_odd { f64::INFINITY.copysign(x) } else { f64::INFINITY };
        }
        return if y_odd { x } else { 0.0 };
    }
    if x.is_infinite() {
        if x > 0.0 {
            return if y < 0.0 { 0.0 } else { x };
        }
        if y < 0.0 {
            return if y_odd { -0.0 } else { 0.0 };
        }
        return if y_odd { x } else { f64::INFINITY };
    }
    let mut sign = 1.0;
    if x < 0.0 {
        if !y_int {
            return f64::NAN;
        }
        if y_odd {
            sign = -1.0;
        }
    }
    let ax = x.abs();
    let [log_hi, log_lo] = ln_dd(ax);
    // y ln|x| in double-double.
    let ph = y * log_hi;
    let pl = y.mul_add(log_hi, -ph) + y * log_lo;
    if ph > 710.0 {
        return sign * f64::INFINITY;
    }
    if ph < -746.0 {
        return sign * 0.0;
    }
    sign * exp_core(ph, pl, 0)
}
