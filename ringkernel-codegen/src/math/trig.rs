// The math library, part 3 of 5 (see shared.rs): sin, cos, tan and their inverses.

#[allow(unused_imports)]
use super::{exp_log::*, hyperbolic::*, shared::*, single::*};

/// `sin(r) - r` over `r`, minus nothing: the odd Taylor terms after the first, for `z = r^2`.
pub(super) fn sin_poly(z: f64) -> f64 {
    let a = SIN_17 + z * SIN_19;
    let a = SIN_15 + z * a;
    let a = SIN_13 + z * a;
    let a = SIN_11 + z * a;
    let a = SIN_9 + z * a;
    let a = SIN_7 + z * a;
    let a = SIN_5 + z * a;
    z * (SIN_3 + z * a)
}

/// `(cos(r) - 1 + r^2/2) / r^4` for `z = r^2`.
pub(super) fn cos_poly(z: f64) -> f64 {
    let a = COS_18 + z * COS_20;
    let a = COS_16 + z * a;
    let a = COS_14 + z * a;
    let a = COS_12 + z * a;
    let a = COS_10 + z * a;
    let a = COS_8 + z * a;
    let a = COS_6 + z * a;
    COS_4 + z * a
}

/// sin (`which == 0`), cos (1) or tan (2) of `x`.
pub(super) fn trig(x: f64, which: u32) -> f64 {
    if x.is_nan() || x.is_infinite() {
        return f64::NAN;
    }
    let ax = x.abs();
    if ax < 7.450580596923828e-9 {
        return if which == 1 { 1.0 } else { x };
    }
    // Reduction: |x| = k pi/2 + (r + rl), |r| <= pi/4 (up to rounding), quadrant = k mod 4.
    // Below 2^20 pi/2 it subtracts k pi/2 with pi/2 in four parts, keeping the rounding
    // errors exactly (2Sum); above, it multiplies the mantissa by a window of 2/pi's digits
    // (Payne-Hanek), so that the reduced argument keeps ~120 bits wherever |x| falls.
    let mut r = ax;
    let mut rl = 0.0;
    let mut quadrant = 0.0;
    if ax > PIO4_HI && ax < 1647099.3291652855 {
        let k = (ax * INV_PIO2).round();
        let a = ax - k * PIO2_1;
        let w = k * PIO2_2;
        // 2Sum: h1 + e1 = a - w exactly.
        let h1 = a - w;
        let e1 = sum_error(a, -w, h1);
        let t = k * PIO2_3;
        let h2 = h1 - t;
        let e2 = sum_error(h1, -t, h2);
        let tail = e1 + e2 - k * PIO2_4;
        r = h2 + tail;
        rl = tail - (r - h2);
        quadrant = k - 4.0 * (k * 0.25).floor();
    } else if ax >= 1647099.3291652855 {
        let bits = ax.to_bits();
        let q = ((bits >> 52) & 0x7ff) as i32 - 1075;
        let mantissa = (bits & 0x000f_ffff_ffff_ffff) | 0x0010_0000_0000_0000;
        // The mantissa in base-2^24 digits.
        let x0 = mantissa >> 48;
        let x1 = (mantissa >> 24) & 0xff_ffff;
        let x2 = mantissa & 0xff_ffff;
        // Digits of 2/pi before `first` only add multiples of 8 to x * 2/pi.
        let first = if q < 3 { 0 } else { ((q - 3) / 24) as usize };
        // The product's digits, most significant first: digit n is the sum of x_j d_k
        // over j + k = n; their unit is 2^(unit0 - 24 n).
        let unit0 = q - 24 * (first as i32) + 24;
        let mut fraction_hi = 0.0;
        let mut fraction_lo = 0.0;
        let mut whole = 0.0;
        let mut carry: u64 = 0;
        let mut n: i32 = 10;
        // From the least significant digit up, so that carries propagate; the fraction
        // is accumulated in a double-double, the whole part modulo 8.
        while n >= 0 {
            let mut sum = carry;
            let mut j: i32 = 0;
            while j < 3 {
                let k = n - j;
                if k >= 0 && k < 9 {
                    let xj = if j == 0 {
                        x0
                    } else if j == 1 {
                        x1
                    } else {
                        x2
                    };
                    sum += xj * (TWO_OVER_PI_DIGITS[first + k as usize] as u64);
                }
                j += 1;
            }
            let digit = if n == 0 { sum } else { sum & 0xff_ffff };
            carry = sum >> 24;
            let exponent = unit0 - 24 * n;
            let value = if exponent >= -1022 { digit as f64 * pow2(exponent) } else { 0.0 };
            let int_part = value.floor();
            let frac = value - int_part;
            whole += int_part - 8.0 * (int_part * 0.125).floor();
            // 2Sum of the fraction's head and this digit's fraction.
            let s = fraction_hi + frac;
            fraction_lo += sum_error(fraction_hi, frac, s);
            fraction_hi = s;
            n -= 1;
        }
        let s = fraction_hi + fraction_lo;
        fraction_lo = fraction_lo - (s - fraction_hi);
        fraction_hi = s;
        if fraction_hi >= 0.5 {
            fraction_hi -= 1.0;
            whole += 1.0;
        }
        let s = fraction_hi + fraction_lo;
        fraction_lo = fraction_lo - (s - fraction_hi);
        fraction_hi = s;
        quadrant = whole - 4.0 * (whole * 0.25).floor();
        // (fraction) * pi/2 in double-double.
        let h = fraction_hi * PIO2_HI;
        let l = fraction_hi.mul_add(PIO2_HI, -h) + (fraction_hi * PIO2_LO + fraction_lo * PIO2_HI);
        r = h + l;
        rl = l - (r - h);
    }
    let z = r * r;
    // sin(r + rl) = sin_hi + sin_lo, cos(r + rl) = cos_hi + cos_lo (unnormalised).
    let sin_hi = r;
    let sin_lo = r * sin_poly(z) + (rl - 0.5 * z * rl);
    // r^2 = z + zl exactly: z's rounding error would otherwise enter cos at full weight.
    let zl = r.mul_add(r, -z);
    let hz = 0.5 * z;
    let cos_hi = 1.0 - hz;
    let cos_lo = ((1.0 - cos_hi) - hz) + (z * z * cos_poly(z) - (r * rl + 0.5 * zl));
    let odd = quadrant == 1.0 || quadrant == 3.0;
    let negative_half = quadrant >= 2.0;
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    if which == 0 {
        let v = if odd { cos_hi + cos_lo } else { sin_hi + sin_lo };
        return if negative_half { -v * sign } else { v * sign };
    }
    if which == 1 {
        let v = if odd { sin_hi + sin_lo } else { cos_hi + cos_lo };
        // cos: quadrants 1 and 2 are negative.
        return if quadrant == 1.0 || quadrant == 2.0 { -v } else { v };
    }
    // tan = sin/cos in quadrants 0 and 2, -cos/sin in 1 and 3, divided in double-double.
    let nh = if odd { -cos_hi } else { sin_hi };
    let nl = if odd { -cos_lo } else { sin_lo };
    let dh = if odd { sin_hi } else { cos_hi };
    let dl = if odd { sin_lo } else { cos_lo };
    let n = nh + nl;
    let ne = nl - (n - nh);
    let d = dh + dl;
    let de = dl - (d - dh);
    let t0 = n / d;
    let t = t0 + ((-t0).mul_add(d, n) + ne - t0 * de) / d;
    t * sign
}

/// The sine.
pub fn sin_f64(x: f64) -> f64 {
    trig(x, 0)
}

/// The cosine.
pub fn cos_f64(x: f64) -> f64 {
    trig(x, 1)
}

/// The tangent.
pub fn tan_f64(x: f64) -> f64 {
    trig(x, 2)
}

/// `(atan(t) - t) / t` for `z = t^2`, `|t| <= 1/16`.
pub(super) fn atan_poly(z: f64) -> f64 {
    let a = ATAN_15 + z * ATAN_17;
    let a = ATAN_13 + z * a;
    let a = ATAN_11 + z * a;
    let a = ATAN_9 + z * a;
    let a = ATAN_7 + z * a;
    let a = ATAN_5 + z * a;
    z * (ATAN_3 + z * a)
}

/// `offset + sign * atan(v + vl)` for `v >= 0` (infinity included), `|vl| <= 2^-50 v`,
/// where `offset = off_hi + off_lo`: the core of atan, atan2, asin and acos.
///
/// `v` (or `1/v` above 1, whose rounding error joins the tail) is moved next to the
/// nearest `c = j/8`: `atan(v) = atan(c) + atan(t)`, `t = (v - c) / (1 + v c)` with
/// `|t| <= 1/16`, where a short Taylor polynomial is enough; `atan(j/8)` and `pi/2 -
/// atan(j/8)` are tabulated as double-doubles, and the sum is taken in double-double.
pub(super) fn atan_core(v: f64, vl: f64, sign: f64, off_hi: f64, off_lo: f64) -> f64 {
    let mut u = v;
    let mut ul = vl;
    let above_one = v > 1.0;
    if above_one {
        if v.is_infinite() {
            u = 0.0;
            ul = 0.0;
        } else {
            u = 1.0 / v;
            ul = ((-u).mul_add(v, 1.0) - u * vl) / v;
        }
    }
    let j = (u * 8.0).round();
    let c = j * 0.125;
    let index = j as usize;
    // v - c is exact (Sterbenz, or c = 0); 1 - d is exact for d in [1, 2.07].
    let n = u - c;
    let d = u.mul_add(c, 1.0);
    let de = u.mul_add(c, 1.0 - d) + ul * c;
    let t0 = n / d;
    let tl = ((-t0).mul_add(d, n) + ul - t0 * de) / d;
    let p = t0 * atan_poly(t0 * t0);
    let base_hi = if above_one { ACOT_EIGHTHS_HI[index] } else { ATAN_EIGHTHS_HI[index] };
    let base_lo = if above_one { ACOT_EIGHTHS_LO[index] } else { ATAN_EIGHTHS_LO[index] };
    // Above one, atan(v) = acot-table - atan(t).
    let t_sign = if above_one { -sign } else { sign };
    // off_hi + sign base_hi + t_sign t0 by two 2Sums, then everything smaller.
    let b = sign * base_hi;
    let h = off_hi + b;
    let e1 = sum_error(off_hi, b, h);
    let t = t_sign * t0;
    let h2 = h + t;
    let e2 = sum_error(h, t, h2);
    h2 + (e1 + e2 + off_lo + sign * base_lo + t_sign * (p + tl))
}

/// The arctangent.
pub fn atan_f64(x: f64) -> f64 {
    if x.is_nan() || x.abs() < 7.450580596923828e-9 {
        return x;
    }
    atan_core(x.abs(), 0.0, 1.0, 0.0, 0.0).copysign(x)
}

/// The four-quadrant arctangent of `y / x`, with IEEE 754's special cases.
pub fn atan2_f64(y: f64, x: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        return x + y;
    }
    let pi = PI_HI.copysign(y);
    if y == 0.0 {
        return if x > 0.0 || (x == 0.0 && x.is_sign_positive()) { y } else { pi };
    }
    if x.is_infinite() {
        if y.is_infinite() {
            let quarter = if x > 0.0 { PIO4_HI } else { 3.0 * PIO4_HI };
            return quarter.copysign(y);
        }
        return if x > 0.0 { 0.0f64.copysign(y) } else { pi };
    }
    if x == 0.0 || y.is_infinite() {
        return PIO2_HI.copysign(y);
    }
    let ax = x.abs();
    let ay = y.abs();
    let q = ay / ax;
    let ql = if q.is_infinite() || q == 0.0 { 0.0 } else { (-q).mul_add(ax, ay) / ax };
    if x > 0.0 {
        return atan_core(q, ql, 1.0, 0.0, 0.0).copysign(y);
    }
    atan_core(q, ql, -1.0, PI_HI, PI_LO).copysign(y)
}

/// `sqrt(1 - x^2)` for `0 <= x <= 1` as a double-double `[head, tail]`.
pub(super) fn sqrt_one_minus_square(x: f64) -> [f64; 2] {
    let ph = x * x;
    let pl = x.mul_add(x, -ph);
    // 1 - ph by Fast2Sum (ph <= 1), then minus pl: w = wh + wl = 1 - x^2.
    let wh = 1.0 - ph;
    let wl = ((1.0 - wh) - ph) - pl;
    let d = wh.sqrt();
    [d, if d == 0.0 { 0.0 } else { ((-d).mul_add(d, wh) + wl) / (2.0 * d) }]
}

/// The arcsine (NaN outside [-1, 1]).
pub fn asin_f64(x: f64) -> f64 {
    if x.is_nan() || x.abs() < 7.450580596923828e-9 {
        return x;
    }
    let ax = x.abs();
    if ax > 1.0 {
        return f64::NAN;
    }
    if ax == 1.0 {
        return PIO2_HI.copysign(x);
    }
    let [d, dc] = sqrt_one_minus_square(ax);
    let q = ax / d;
    let ql = ((-q).mul_add(d, ax) - q * dc) / d;
    atan_core(q, ql, 1.0, 0.0, 0.0).copysign(x)
}

/// The arccosine (NaN outside [-1, 1]).
pub fn acos_f64(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let ax = x.abs();
    if ax > 1.0 {
        return f64::NAN;
    }
    if x == 1.0 {
        return 0.0;
    }
    if x == -1.0 {
        return PI_HI;
    }
    if ax < 5.551115123125783e-17 {
        return PIO2_HI;
    }
    let [d, dc] = sqrt_one_minus_square(ax);
    let q = d / ax;
    let ql = if q.is_infinite() { 0.0 } else { ((-q).mul_add(ax, d) + dc) / ax };
    if x > 0.0 {
        return atan_core(q, ql, 1.0, 0.0, 0.0);
    }
    atan_core(q, ql, -1.0, PI_HI, PI_LO)
}
