//! Measures the math library's error in ulps against a correctly rounded reference
//! (`astro-float`), shared by `tests/math_ulp.rs` (a CI-sized sample) and
//! `benches/math_ulp.rs` (the full sample).
//!
//! The reference runs at 192 bits plus the magnitude of the input's binary exponent, so that
//! trigonometric arguments are reduced exactly and `e^x - 1`, `ln(1 + x)` keep their
//! relative accuracy near 0. Inputs whose correct result is not a finite nonzero number
//! in range (NaN, ±inf, domain errors, overflow, underflow to zero, exact zeros) are
//! instead checked against Rust's standard library: both must give the same special value.

#![allow(dead_code)]

use astro_float::{BigFloat, Consts, RoundingMode};

use ringkernel_codegen::math;

const RM: RoundingMode = RoundingMode::ToEven;

/// A function under test.
pub struct Case {
    /// Rust's name.
    pub name: &'static str,
    /// Two arguments.
    pub binary: bool,
    /// Ours, in f64 (the f32 variant is checked through `ours32`).
    pub ours: fn(f64, f64) -> f64,
    /// Ours in f32.
    pub ours32: fn(f32, f32) -> f32,
    /// The standard library's, for special values.
    pub std: fn(f64, f64) -> f64,
    /// The standard library's in f32.
    pub std32: fn(f32, f32) -> f32,
    /// The exact value at precision `p`.
    pub exact: fn(&BigFloat, &BigFloat, usize, &mut Consts) -> BigFloat,
    /// Where ordinary arguments lie (first argument), besides random bit patterns.
    pub range: (f64, f64),
}

macro_rules! unary {
    ($name:literal, $ours:path, $ours32:path, $m:ident, $range:expr, $exact:expr) => {
        Case {
            name: $name,
            binary: false,
            ours: |x, _| $ours(x),
            ours32: |x, _| $ours32(x),
            std: |x, _| x.$m(),
            std32: |x, _| x.$m(),
            exact: $exact,
            range: $range,
        }
    };
}

macro_rules! binary {
    ($name:literal, $ours:path, $ours32:path, $m:ident, $range:expr, $exact:expr) => {
        Case {
            name: $name,
            binary: true,
            ours: |x, y| $ours(x, y),
            ours32: |x, y| $ours32(x, y),
            std: |x, y| x.$m(y),
            std32: |x, y| x.$m(y),
            exact: $exact,
            range: $range,
        }
    };
}

fn one(p: usize) -> BigFloat {
    BigFloat::from_f64(1.0, p)
}

/// Every function of the library.
pub fn cases() -> Vec<Case> {
    vec![
        unary!("exp", math::exp_f64, math::exp_f32, exp, (-750.0, 750.0), |x, _, p, cc| x
            .exp(p, RM, cc)),
        unary!("exp2", math::exp2_f64, math::exp2_f32, exp2, (-1080.0, 1030.0), |x, _, p, cc| {
            BigFloat::from_f64(2.0, p).pow(x, p, RM, cc)
        }),
        unary!("exp_m1", math::exp_m1_f64, math::exp_m1_f32, exp_m1, (-5.0, 5.0), |x, _, p, cc| {
            x.exp(p, RM, cc).sub(&one(p), p, RM)
        }),
        unary!("ln", math::ln_f64, math::ln_f32, ln, (0.0, 4.0), |x, _, p, cc| x.ln(p, RM, cc)),
        unary!("log2", math::log2_f64, math::log2_f32, log2, (0.0, 4.0), |x, _, p, cc| x
            .log2(p, RM, cc)),
        unary!("log10", math::log10_f64, math::log10_f32, log10, (0.0, 4.0), |x, _, p, cc| x
            .log10(p, RM, cc)),
        unary!("ln_1p", math::ln_1p_f64, math::ln_1p_f32, ln_1p, (-1.0, 3.0), |x, _, p, cc| {
            x.add(&one(p), p, RM).ln(p, RM, cc)
        }),
        unary!("sin", math::sin_f64, math::sin_f32, sin, (-20.0, 20.0), |x, _, p, cc| x
            .sin(p, RM, cc)),
        unary!("cos", math::cos_f64, math::cos_f32, cos, (-20.0, 20.0), |x, _, p, cc| x
            .cos(p, RM, cc)),
        unary!("tan", math::tan_f64, math::tan_f32, tan, (-20.0, 20.0), |x, _, p, cc| x
            .tan(p, RM, cc)),
        unary!("asin", math::asin_f64, math::asin_f32, asin, (-1.0, 1.0), |x, _, p, cc| x
            .asin(p, RM, cc)),
        unary!("acos", math::acos_f64, math::acos_f32, acos, (-1.0, 1.0), |x, _, p, cc| x
            .acos(p, RM, cc)),
        unary!("atan", math::atan_f64, math::atan_f32, atan, (-20.0, 20.0), |x, _, p, cc| x
            .atan(p, RM, cc)),
        unary!("sinh", math::sinh_f64, math::sinh_f32, sinh, (-30.0, 30.0), |x, _, p, cc| x
            .sinh(p, RM, cc)),
        unary!("cosh", math::cosh_f64, math::cosh_f32, cosh, (-30.0, 30.0), |x, _, p, cc| x
            .cosh(p, RM, cc)),
        unary!("tanh", math::tanh_f64, math::tanh_f32, tanh, (-5.0, 5.0), |x, _, p, cc| x
            .tanh(p, RM, cc)),
        unary!("asinh", math::asinh_f64, math::asinh_f32, asinh, (-10.0, 10.0), |x, _, p, cc| x
            .asinh(p, RM, cc)),
        unary!("acosh", math::acosh_f64, math::acosh_f32, acosh, (1.0, 10.0), |x, _, p, cc| x
            .acosh(p, RM, cc)),
        unary!("atanh", math::atanh_f64, math::atanh_f32, atanh, (-1.0, 1.0), |x, _, p, cc| x
            .atanh(p, RM, cc)),
        unary!("cbrt", math::cbrt_f64, math::cbrt_f32, cbrt, (-10.0, 10.0), |x, _, p, _| x
            .cbrt(p, RM)),
        binary!("atan2", math::atan2_f64, math::atan2_f32, atan2, (-10.0, 10.0), atan2_exact),
        binary!("hypot", math::hypot_f64, math::hypot_f32, hypot, (-10.0, 10.0), |x, y, p, _| {
            x.mul(x, p, RM).add(&y.mul(y, p, RM), p, RM).sqrt(p, RM)
        }),
        binary!("powf", math::powf_f64, math::powf_f32, powf, (0.0, 4.0), |x, y, p, cc| {
            x.pow(y, p, RM, cc)
        }),
        binary!("log", math::log_f64, math::log_f32, log, (0.0, 4.0), |x, y, p, cc| {
            x.ln(p, RM, cc).div(&y.ln(p, RM, cc), p, RM)
        }),
    ]
}

fn atan2_exact(y: &BigFloat, x: &BigFloat, p: usize, cc: &mut Consts) -> BigFloat {
    if y.is_zero() {
        // The sign of zero decides; the special-value comparison with std covers it.
        return BigFloat::nan(None);
    }
    let base = y.div(x, p, RM).atan(p, RM, cc);
    if x.is_negative() {
        let pi = cc.pi(p, RM);
        if y.is_negative() { base.sub(&pi, p, RM) } else { base.add(&pi, p, RM) }
    } else {
        base
    }
}

/// `x` exactly at precision `p`. (astro-float 0.9 misreads subnormal f64s, halving them, so
/// they are scaled into the normal range first and back exactly.)
pub fn big(x: f64, p: usize) -> BigFloat {
    if x != 0.0 && x.abs() < f64::MIN_POSITIVE {
        let mut v = BigFloat::from_f64(x * 2f64.powi(64), p);
        if let Some(e) = v.exponent() {
            v.set_exponent(e - 64);
        }
        return v;
    }
    BigFloat::from_f64(x, p)
}

/// `2^e` at precision `p`.
fn power_of_two(e: i32, p: usize) -> BigFloat {
    let mut v = BigFloat::from_f64(1.0, p);
    v.set_exponent(e + 1);
    v
}

/// An approximation (64 bits) of a finite BigFloat as f64, for reporting an error.
fn approx(v: &BigFloat) -> f64 {
    let Some((words, _, sign, exponent, _)) = v.as_raw_parts() else { return 0.0 };
    let top = words.last().copied().unwrap_or(0) as f64;
    let magnitude = top * 2f64.powi(exponent - 64);
    if sign.is_negative() { -magnitude } else { magnitude }
}

/// The largest error found, in ulps, and where.
#[derive(Debug, Clone, Copy, Default)]
pub struct Worst {
    /// Error in ulps of the correctly rounded result.
    pub ulps: f64,
    /// The arguments.
    pub x: f64,
    /// The second argument of binary functions.
    pub y: f64,
}

/// How one sweep went.
#[derive(Debug, Default)]
pub struct Report {
    /// Inputs measured.
    pub measured: usize,
    /// Worst f64 error.
    pub worst64: Worst,
    /// Worst f32 error.
    pub worst32: Worst,
    /// Special values where we and std disagree.
    pub special_mismatches: Vec<String>,
}

/// A deterministic generator (splitmix64).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The special values every sweep starts with.
pub const SPECIALS: [f64; 20] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    2.0,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::MIN_POSITIVE,
    5e-324,
    -5e-324,
    f64::MAX,
    f64::MIN,
    1e-300,
    710.0,
    -709.8,
    710.4,
    1e22,
];

/// `count` inputs for `case`: the specials (and their pairs), then thirds each of random bit
/// patterns, uniform values in the case's range, and values a few ulps from multiples of
/// pi/2 (for the trigonometric reductions) or from the range's ends.
pub fn inputs(case: &Case, count: usize, seed: u64) -> Vec<(f64, f64)> {
    let mut rng = Rng(seed ^ (case.name.len() as u64 * 0x1234_5678));
    let mut out = Vec::with_capacity(count + SPECIALS.len() * SPECIALS.len());
    for &x in &SPECIALS {
        if case.binary {
            for &y in &SPECIALS {
                out.push((x, y));
            }
        } else {
            out.push((x, 0.0));
        }
    }
    let (lo, hi) = case.range;
    for i in 0..count {
        let x = match i % 3 {
            0 => f64::from_bits(rng.next()),
            1 => lo + (hi - lo) * rng.unit(),
            _ => {
                let k = (rng.next() % 2_000_000) as f64 - 1_000_000.0;
                let near = k * std::f64::consts::FRAC_PI_2;
                let step = (rng.next() % 9) as i64 - 4;
                f64::from_bits((near.to_bits() as i64 + step) as u64)
            }
        };
        // The second argument: raw bits, the case's range, small values, and large ordinary
        // ones (for `powf`, exponents whose product with ln x spans the whole range of exp:
        // where the logarithm's relative error is magnified most).
        let y = match rng.next() % 4 {
            0 => f64::from_bits(rng.next()),
            1 => lo + (hi - lo) * rng.unit(),
            2 => (rng.next() % 64) as f64 - 32.0 + 0.5 * rng.unit(),
            _ => 4000.0 * rng.unit() - 2000.0,
        };
        out.push((x, y));
    }
    out
}

/// The error of `got` against the exact value, in ulps of `T` (53 or 24 bits, subnormal
/// floor `min_exp`); `None` when the exact value is not a finite nonzero number in range.
fn ulps(got: f64, exact: &BigFloat, bits: i32, min_exp: i32, max: f64, p: usize) -> Option<f64> {
    if exact.is_nan() || exact.is_inf() || exact.is_zero() {
        return None;
    }
    let e = exact.exponent()?;
    if !(-1100..=1100).contains(&e) {
        return None;
    }
    let magnitude = approx(exact).abs();
    if magnitude > max {
        return None;
    }
    if !got.is_finite() {
        return Some(f64::INFINITY);
    }
    let ulp_exp = (e - bits).max(min_exp);
    let diff = big(got, p).sub(exact, p, RM);
    if diff.is_zero() {
        return Some(0.0);
    }
    Some(approx(&diff.div(&power_of_two(ulp_exp, p), p, RM)).abs())
}

fn same_special(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

/// Measures `case` on `inputs` in f64 and f32.
pub fn sweep(case: &Case, inputs: &[(f64, f64)], cc: &mut Consts) -> Report {
    let mut report = Report::default();
    for &(x, y) in inputs {
        let (x32, y32) = (x as f32, y as f32);
        for wide in [true, false] {
            let (ax, ay) = if wide { (x, y) } else { (f64::from(x32), f64::from(y32)) };
            let got = if wide { (case.ours)(x, y) } else { f64::from((case.ours32)(x32, y32)) };
            let std = if wide { (case.std)(x, y) } else { f64::from((case.std32)(x32, y32)) };
            let exponent =
                |v: f64| if v == 0.0 || !v.is_finite() { 0 } else { v.abs().log2().abs() as usize };
            let p = 192 + exponent(ax).max(if case.binary { exponent(ay) } else { 0 });
            let exact = if ax.is_finite() && (!case.binary || ay.is_finite()) {
                (case.exact)(&big(ax, p), &big(ay, p), p, cc)
            } else {
                BigFloat::nan(None)
            };
            let (bits, min_exp, max) =
                if wide { (53, -1074, f64::MAX) } else { (24, -149, f64::from(f32::MAX)) };
            // Where the exact result is a finite nonzero number in range, it is the judge
            // (std's `asinh(f64::MAX)` is infinite, for one); elsewhere std's special value.
            let measured = ulps(got, &exact, bits, min_exp, max, p);
            match measured {
                Some(error) => {
                    report.measured += 1;
                    let worst = if wide { &mut report.worst64 } else { &mut report.worst32 };
                    if error > worst.ulps || error.is_nan() {
                        *worst = Worst { ulps: error, x: ax, y: ay };
                    }
                }
                None if !same_special(got, std) => report.special_mismatches.push(format!(
                    "{}({ax:e}{}) in {}: ours {got:e}, std {std:e}",
                    case.name,
                    if case.binary { format!(", {ay:e}") } else { String::new() },
                    if wide { "f64" } else { "f32" }
                )),
                None => {}
            }
        }
    }
    report
}
