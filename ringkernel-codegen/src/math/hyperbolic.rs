// The math library, part 4 of 5 (see shared.rs): hyperbolic functions and their
// inverses, cbrt, hypot.

#[allow(unused_imports)]
use super::{exp_log::*, shared::*, single::*, trig::*};

/// `sum(z^k / (2k + 1)!)` for k >= 1: `(sinh(x) - x) / x` for `z = x^2`, `|x| <= 0.35`.
pub(super) fn sinh_poly(z: f64) -> f64 {
    z * (EXP_3 + z * (EXP_5 + z * (EXP_7 + z * (EXP_9 + z * (EXP_11 + z * EXP_13)))))
}

/// `sum(z^k / (2k)!)` for k >= 1: `cosh(x) - 1` for `z = x^2`, `|x| <= 0.35`.
pub(super) fn cosh_poly(z: f64) -> f64 {
    z * (EXP_2 + z * (EXP_4 + z * (EXP_6 + z * (EXP_8 + z * (EXP_10 + z * (EXP_12 + z * EXP_14))))))
}

/// `sinh(|x|)` (`which == 0`), `cosh(x)` (1) or `tanh(|x|)` (2) for `|x| < 22`, from
/// `e^|x|` and `e^-|x|` in double-double (or the Taylor series below 0.35), rounded once.
pub(super) fn hyperbolic(ax: f64, which: u32) -> f64 {
    let mut sh = ax;
    let mut sl = ax * sinh_poly(ax * ax);
    let mut ch = 1.0;
    let mut cl = cosh_poly(ax * ax);
    if ax >= 0.34657359027997264 {
        let [eh, el] = exp_dd(ax);
        // 1/e in double-double.
        let ih = 1.0 / eh;
        let il = ((-ih).mul_add(eh, 1.0) - ih * el) / eh;
        // (e - 1/e) / 2 and (e + 1/e) / 2 by 2Sum.
        let d = eh - ih;
        sh = 0.5 * d;
        sl = 0.5 * (sum_error(eh, -ih, d) + (el - il));
        let a = eh + ih;
        ch = 0.5 * a;
        cl = 0.5 * (sum_error(eh, ih, a) + (el + il));
    }
    if which == 0 {
        return sh + sl;
    }
    if which == 1 {
        return ch + cl;
    }
    let n = sh + sl;
    let ne = sl - (n - sh);
    let d = ch + cl;
    let de = cl - (d - ch);
    let t = n / d;
    t + ((-t).mul_add(d, n) + ne - t * de) / d
}

/// `ln(h + l)` for `h > 0` finite and `|l| <= 2^-50 h`, rounded about once.
pub(super) fn ln_of_dd(h: f64, l: f64) -> f64 {
    let [head, tail] = ln_dd(h);
    head + (tail + l / h)
}

/// The hyperbolic sine.
pub fn sinh_f64(x: f64) -> f64 {
    let ax = x.abs();
    if x.is_nan() || ax < 7.450580596923828e-9 || x.is_infinite() {
        return x;
    }
    if ax < 22.0 {
        return hyperbolic(ax, 0).copysign(x);
    }
    // e^-|x| is below half an ulp: e^|x| / 2, the halving inside exp's one rounding (so
    // that it overflows exactly where the result does, past 710.47).
    if ax > 711.0 {
        return f64::INFINITY.copysign(x);
    }
    exp_core(ax, 0.0, -1).copysign(x)
}

/// The hyperbolic cosine.
pub fn cosh_f64(x: f64) -> f64 {
    let ax = x.abs();
    if x.is_nan() {
        return x;
    }
    if ax < 7.450580596923828e-9 {
        return 1.0;
    }
    if ax < 22.0 {
        return hyperbolic(ax, 1);
    }
    if ax > 711.0 {
        return f64::INFINITY;
    }
    exp_core(ax, 0.0, -1)
}

/// The hyperbolic tangent.
pub fn tanh_f64(x: f64) -> f64 {
    let ax = x.abs();
    if x.is_nan() || ax < 7.450580596923828e-9 {
        return x;
    }
    if ax >= 22.0 {
        return 1.0f64.copysign(x);
    }
    hyperbolic(ax, 2).copysign(x)
}

/// `sqrt(a + al)` for `a > 0` as a double-double `[head, tail]`.
pub(super) fn sqrt_dd(a: f64, al: f64) -> [f64; 2] {
    let h = a.sqrt();
    [h, ((-h).mul_add(h, a) + al) / (2.0 * h)]
}

/// The inverse hyperbolic sine: `ln(|x| + sqrt(x^2 + 1))` with the argument and the
/// logarithm in double-double.
pub fn asinh_f64(x: f64) -> f64 {
    let ax = x.abs();
    if x.is_nan() || x.is_infinite() || ax < 7.450580596923828e-9 {
        return x;
    }
    if ax > 268435456.0 {
        let [head, tail] = ln_dd(ax);
        return (head + (tail + LN2)).copysign(x);
    }
    // x^2 + 1 exactly as a double-double, then its square root, then |x| + that.
    let ph = ax * ax;
    let pl = ax.mul_add(ax, -ph);
    let wh = ph + 1.0;
    let wl = sum_error(ph, 1.0, wh) + pl;
    let [rh, rl] = sqrt_dd(wh, wl);
    let ah = ax + rh;
    let al = sum_error(ax, rh, ah) + rl;
    ln_of_dd(ah, al).copysign(x)
}

/// The inverse hyperbolic cosine (NaN below 1): `ln(x + sqrt(x^2 - 1))` in double-double.
pub fn acosh_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x < 1.0 {
        return f64::NAN;
    }
    if x.is_infinite() {
        return x;
    }
    if x == 1.0 {
        return 0.0;
    }
    if x > 268435456.0 {
        let [head, tail] = ln_dd(x);
        return head + (tail + LN2);
    }
    let ph = x * x;
    let pl = x.mul_add(x, -ph);
    // ph - 1 is exact (ph >= 1 and Sterbenz or integer spacing).
    let wh = (ph - 1.0) + pl;
    let wl = pl - (wh - (ph - 1.0));
    let [rh, rl] = sqrt_dd(wh, wl);
    let ah = x + rh;
    let al = sum_error(x, rh, ah) + rl;
    ln_of_dd(ah, al)
}

/// The inverse hyperbolic tangent (NaN outside [-1, 1], infinite at ±1):
/// `(ln(1 + |x|) - ln(1 - |x|)) / 2` with both logarithms in double-double.
pub fn atanh_f64(x: f64) -> f64 {
    let ax = x.abs();
    if x.is_nan() || ax < 7.450580596923828e-9 {
        return x;
    }
    if ax > 1.0 {
        return f64::NAN;
    }
    if ax == 1.0 {
        return f64::INFINITY.copysign(x);
    }
    // 1 + ax and 1 - ax as exact double-doubles (Fast2Sum: 1 >= ax).
    let uh = 1.0 + ax;
    let ul = ax - (uh - 1.0);
    let vh = 1.0 - ax;
    let vl = (1.0 - vh) - ax;
    let [a, a_tail] = ln_dd(uh);
    let [b, b_tail] = ln_dd(vh);
    let d = a - b;
    let de = sum_error(a, -b, d);
    let tail = de + ((a_tail + ul / uh) - (b_tail + vl / vh));
    (0.5 * (d + tail)).copysign(x)
}

/// The cube root.
pub fn cbrt_f64(x: f64) -> f64 {
    if x.is_nan() || x.is_infinite() || x == 0.0 {
        return x;
    }
    let mut ax = x.abs();
    let mut unscale = 1.0;
    if ax < 2.2250738585072014e-308 {
        ax *= TWO_POW_54;
        unscale = 3.814697265625e-6;
    }
    // A first guess from the exponent divided by three (within ~6%), three Newton steps,
    // then one correction from the exact residual ax - t^3.
    let bits = ax.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let third = (e + 3000) / 3 - 1000;
    let rem = e - 3 * third;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let m = m * pow2(rem as i32);
    let mut t = 0.6 + 0.4 * m - 0.0296 * m * m;
    let mut i = 0;
    while i < 5 {
        t = t - (t * t * t - m) / (3.0 * t * t);
        i += 1;
    }
    let t2 = t * t;
    let t2l = t.mul_add(t, -t2);
    let residual = (-t).mul_add(t2, m) - t * t2l;
    let t = t + residual / (3.0 * t2);
    (t * pow2(third as i32) * unscale).copysign(x)
}

/// `sqrt(x^2 + y^2)` without overflow or underflow on the way.
pub fn hypot_f64(x: f64, y: f64) -> f64 {
    if x.is_infinite() || y.is_infinite() {
        return f64::INFINITY;
    }
    if x.is_nan() || y.is_nan() {
        return x + y;
    }
    let a = x.abs().max(y.abs());
    let b = x.abs().min(y.abs());
    // Past 2^60, b^2 is below half an ulp of a^2 (and b = 0 ends here too).
    if b == 0.0 || a > b * 1.152921504606847e18 {
        return a + b;
    }
    // Keep both squares normal: a^2 below 2^1000, b^2 above 2^-1000.
    let mut s = 1.0;
    let mut unscale = 1.0;
    if a > 3.273390607896142e150 {
        s = pow2(-600);
        unscale = pow2(600);
    } else if a < 3.054936363499605e-151 {
        s = pow2(1000);
        unscale = pow2(-1000);
    }
    let a = a * s;
    let b = b * s;
    let ah = a * a;
    let al = a.mul_add(a, -ah);
    let bh = b * b;
    let bl = b.mul_add(b, -bh);
    let sh = ah + bh;
    let sl = ((ah - sh) + bh) + (al + bl);
    let r = sh.sqrt();
    let r = r + ((-r).mul_add(r, sh) + sl) / (2.0 * r);
    r * unscale
}
