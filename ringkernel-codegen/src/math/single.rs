// The math library, part 5 of 5 (see shared.rs): the f32 functions.

#[allow(unused_imports)]
use super::{exp_log::*, hyperbolic::*, shared::*, trig::*};

// ---- f32: each f64 function rounded once ----

/// `exp` for `f32`: the `f64` result rounded once.
pub fn exp_f32(x: f32) -> f32 {
    // An f32 result needs ~2^-35 relative accuracy before its one rounding: one reduction
    // step and a degree-9 polynomial in f64 give it (the f64 path keeps 2^-60).
    let x = x as f64;
    if x.is_nan() {
        return x as f32;
    }
    if x > 100.0 {
        return f32::INFINITY;
    }
    if x < -110.0 {
        return 0.0;
    }
    let k = (x * INV_LN2).round();
    let r = (-k).mul_add(LN2, x);
    let p = EXP_8 + r * EXP_9;
    let p = EXP_7 + r * p;
    let p = EXP_6 + r * p;
    let p = EXP_5 + r * p;
    let p = EXP_4 + r * p;
    let p = EXP_3 + r * p;
    let p = EXP_2 + r * p;
    ((1.0 + (r + r * r * p)) * pow2(k as i32)) as f32
}

/// `exp2` for `f32`: the `f64` result rounded once.
pub fn exp2_f32(x: f32) -> f32 {
    exp2_f64(x as f64) as f32
}

/// `exp_m1` for `f32`: the `f64` result rounded once.
pub fn exp_m1_f32(x: f32) -> f32 {
    exp_m1_f64(x as f64) as f32
}

/// `ln` for `f32`: the `f64` result rounded once.
pub fn ln_f32(x: f32) -> f32 {
    // As ln_f64 with the series cut at 2^-40 (seven terms instead of twelve); every f32 is
    // a normal f64, so no subnormal scaling either.
    let x = x as f64;
    let special = log_special(x);
    if special != 0.5 {
        return special as f32;
    }
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i32 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > SQRT2 {
        m *= 0.5;
        e += 1;
    }
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z
        * (ATANH_3
            + z * (ATANH_5
                + z * (ATANH_7 + z * (ATANH_9 + z * (ATANH_11 + z * (ATANH_13 + z * ATANH_15))))));
    let hfsq = 0.5 * f * f;
    ((e as f64) * LN2 + (f - hfsq + s * (hfsq + r))) as f32
}

/// `log2` for `f32`: the `f64` result rounded once.
pub fn log2_f32(x: f32) -> f32 {
    log2_f64(x as f64) as f32
}

/// `log10` for `f32`: the `f64` result rounded once.
pub fn log10_f32(x: f32) -> f32 {
    log10_f64(x as f64) as f32
}

/// `ln_1p` for `f32`: the `f64` result rounded once.
pub fn ln_1p_f32(x: f32) -> f32 {
    ln_1p_f64(x as f64) as f32
}

/// `sin` for `f32`: the `f64` result rounded once.
pub fn sin_f32(x: f32) -> f32 {
    trig_f32(x, 0)
}

/// `cos` for `f32`: the `f64` result rounded once.
pub fn cos_f32(x: f32) -> f32 {
    trig_f32(x, 1)
}

/// sin (`which == 0`) or cos (1) of an f32 to ~2^-40 before its one rounding: below 2^20
/// pi/2, a two-step reduction with pi/2 as a double-double (fused, so each step rounds once)
/// and short polynomials; above, the f64 path.
pub(super) fn trig_f32(x: f32, which: u32) -> f32 {
    let x = x as f64;
    let ax = x.abs();
    if ax.is_nan() || ax >= 1647099.3291652855 {
        return trig(x, which) as f32;
    }
    // Below 2^-13, x^2/6 is under a quarter of an f32 ulp (and -0 keeps its sign).
    if ax < 1.220703125e-4 {
        return if which == 1 { 1.0 } else { x as f32 };
    }
    let k = (x * INV_PIO2).round();
    let r = (-k).mul_add(PIO2_LO, (-k).mul_add(PIO2_HI, x));
    let z = r * r;
    let sin = r + r * z * (SIN_3 + z * (SIN_5 + z * (SIN_7 + z * (SIN_9 + z * SIN_11))));
    let cos =
        1.0 - 0.5 * z + z * z * (COS_4 + z * (COS_6 + z * (COS_8 + z * (COS_10 + z * COS_12))));
    // The quadrant of k (k may be negative): sin, cos, -sin, -cos from there.
    let q = (k - 4.0 * (k * 0.25).floor()) as u32 + which;
    let v = if q % 2 == 0 { sin } else { cos };
    (if q % 4 >= 2 { -v } else { v }) as f32
}

/// `tan` for `f32`: the `f64` result rounded once.
pub fn tan_f32(x: f32) -> f32 {
    tan_f64(x as f64) as f32
}

/// `asin` for `f32`: the `f64` result rounded once.
pub fn asin_f32(x: f32) -> f32 {
    asin_f64(x as f64) as f32
}

/// `acos` for `f32`: the `f64` result rounded once.
pub fn acos_f32(x: f32) -> f32 {
    acos_f64(x as f64) as f32
}

/// `atan` for `f32`: the `f64` result rounded once.
pub fn atan_f32(x: f32) -> f32 {
    atan_f64(x as f64) as f32
}

/// `sinh` for `f32`: the `f64` result rounded once.
pub fn sinh_f32(x: f32) -> f32 {
    sinh_f64(x as f64) as f32
}

/// `cosh` for `f32`: the `f64` result rounded once.
pub fn cosh_f32(x: f32) -> f32 {
    cosh_f64(x as f64) as f32
}

/// `tanh` for `f32`: the `f64` result rounded once.
pub fn tanh_f32(x: f32) -> f32 {
    tanh_f64(x as f64) as f32
}

/// `asinh` for `f32`: the `f64` result rounded once.
pub fn asinh_f32(x: f32) -> f32 {
    asinh_f64(x as f64) as f32
}

/// `acosh` for `f32`: the `f64` result rounded once.
pub fn acosh_f32(x: f32) -> f32 {
    acosh_f64(x as f64) as f32
}

/// `atanh` for `f32`: the `f64` result rounded once.
pub fn atanh_f32(x: f32) -> f32 {
    atanh_f64(x as f64) as f32
}

/// `cbrt` for `f32`: the `f64` result rounded once.
pub fn cbrt_f32(x: f32) -> f32 {
    cbrt_f64(x as f64) as f32
}

/// `atan2` for `f32`: the `f64` result rounded once.
pub fn atan2_f32(y: f32, x: f32) -> f32 {
    atan2_f64(y as f64, x as f64) as f32
}

/// `hypot` for `f32`: the `f64` result rounded once.
pub fn hypot_f32(x: f32, y: f32) -> f32 {
    hypot_f64(x as f64, y as f64) as f32
}

/// `powf` for `f32`: the `f64` result rounded once.
pub fn powf_f32(x: f32, y: f32) -> f32 {
    powf_f64(x as f64, y as f64) as f32
}

/// `log` for `f32`: the `f64` result rounded once.
pub fn log_f32(x: f32, base: f32) -> f32 {
    log_f64(x as f64, base as f64) as f32
}
