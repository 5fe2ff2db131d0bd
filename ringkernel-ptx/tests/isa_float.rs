//! ISA vectors for the floating-point family (PTX ISA 9.7.3) and float comparisons (9.7.7):
//! every rounding modifier on values that round differently, `.ftz`, `.sat`, NaN and signed
//! zero rules, and the `.approx` functions within their documented error on dense sweeps.

mod common;

use common::*;

fn f(bits: u64) -> f32 {
    f32::from_bits(bits as u32)
}

/// Results of `op.{rn,rz,rm,rp}.f32 %f4, ...` on (a, b, c).
fn rounded(op: &str, operands: &str, a: u64, b: u64, c: u64) -> [u64; 4] {
    ["rn", "rz", "rm", "rp"]
        .map(|m| eval(&format!("{op}.{m}.f32 %f4, {operands};"), "%f4", a, b, c))
}

#[test]
fn every_rounding_modifier_on_values_that_round_differently() {
    let one = f32b(1.0);
    let tiny = f32b(2f32.powi(-30));
    let up = one + 1;
    assert_eq!(rounded("add", "%f1, %f2", one, tiny, 0), [one, one, one, up]);
    let neg_one = f32b(-1.0);
    assert_eq!(
        rounded("add", "%f1, %f2", neg_one, f32b(-(2f32.powi(-30))), 0),
        [neg_one, neg_one, neg_one + 1, neg_one]
    );
    assert_eq!(rounded("sub", "%f1, %f2", one, tiny, 0), [one, one - 1, one - 1, one]);
    // (1 + 2^-23)^2 = 1 + 2^-22 + 2^-46.
    let x = f32b(1.0 + 2f32.powi(-23));
    assert_eq!(
        rounded("mul", "%f1, %f2", x, x, 0),
        [0x3f80_0002, 0x3f80_0002, 0x3f80_0002, 0x3f80_0003]
    );
    assert_eq!(
        rounded("div", "%f1, %f2", one, f32b(3.0), 0),
        [0x3eaa_aaab, 0x3eaa_aaaa, 0x3eaa_aaaa, 0x3eaa_aaab]
    );
    assert_eq!(
        rounded("div", "%f1, %f2", neg_one, f32b(3.0), 0),
        [0xbeaa_aaab, 0xbeaa_aaaa, 0xbeaa_aaab, 0xbeaa_aaaa]
    );
    assert_eq!(
        rounded("sqrt", "%f1", f32b(2.0), 0, 0),
        [0x3fb5_04f3, 0x3fb5_04f3, 0x3fb5_04f3, 0x3fb5_04f4]
    );
    assert_eq!(
        rounded("rcp", "%f1", f32b(3.0), 0, 0),
        [0x3eaa_aaab, 0x3eaa_aaaa, 0x3eaa_aaaa, 0x3eaa_aaab]
    );
    // fma rounds once: x*x - (1 + 2^-22) is exactly 2^-46.
    assert_eq!(
        rounded("fma", "%f1, %f2, %f3", x, x, f32b(-(1.0 + 2f32.powi(-22)))),
        [f32b(2f32.powi(-46)); 4]
    );
    assert_eq!(
        rounded("fma", "%f1, %f2, %f3", x, x, 0),
        [0x3f80_0002, 0x3f80_0002, 0x3f80_0002, 0x3f80_0003]
    );
    // Overflow: .rz and .rm of a positive overflow give MAX, .rn and .rp infinity.
    let max = f32b(f32::MAX);
    assert_eq!(
        rounded("mul", "%f1, %f2", max, f32b(2.0), 0),
        [f32b(f32::INFINITY), max, max, f32b(f32::INFINITY)]
    );
    // Exact cancellation: +0, except -0 when rounding toward minus infinity.
    assert_eq!(rounded("sub", "%f1, %f2", one, one, 0), [0, 0, f32b(-0.0), 0]);
}

#[test]
fn f64_rounding_modifiers() {
    let r = |op: &str, m: &str, a: f64, b: f64| {
        eval(&format!("{op}.{m}.f64 %fd4, %fd1, %fd2;"), "%fd4", f64b(a), f64b(b), 0)
    };
    let third = f64b(1.0 / 3.0);
    assert_eq!(r("div", "rn", 1.0, 3.0), third);
    assert_eq!(r("div", "rz", 1.0, 3.0), third);
    assert_eq!(r("div", "rp", 1.0, 3.0), third + 1);
    assert_eq!(r("add", "rp", 1.0, 1e-30), f64b(1.0) + 1);
    assert_eq!(r("add", "rm", 1.0, -1e-30), f64b(1.0) - 1);
    let s = |m: &str| eval(&format!("sqrt.{m}.f64 %fd4, %fd1;"), "%fd4", f64b(2.0), 0, 0);
    assert_eq!(s("rn"), f64b(2f64.sqrt()));
    assert_eq!(s("rp"), s("rz") + 1);
    // A subnormal product rounds in the subnormal range: 2^-1074 * 0.5 is half the quantum.
    assert_eq!(r("mul", "rn", 5e-324, 0.5), 0);
    assert_eq!(r("mul", "rp", 5e-324, 0.5), 1);
    assert_eq!(r("mul", "rm", -5e-324, 0.5), f64b(-5e-324));
}

#[test]
fn ftz_flushes_subnormal_inputs_and_results_and_sat_clamps() {
    let sub = f32b(1.0e-40);
    assert_eq!(eval("add.f32 %f4, %f1, %f2;", "%f4", sub, 0, 0), sub);
    assert_eq!(eval("add.ftz.f32 %f4, %f1, %f2;", "%f4", sub, 0, 0), 0);
    // A flushed input is a zero of the same sign: -0 + -0 is -0, -0 + +0 is +0.
    assert_eq!(
        eval("add.ftz.f32 %f4, %f1, %f2;", "%f4", f32b(-1.0e-40), f32b(-0.0), 0),
        f32b(-0.0)
    );
    assert_eq!(eval("add.ftz.f32 %f4, %f1, %f2;", "%f4", f32b(-1.0e-40), 0, 0), 0);
    let small = f32b(1.0e-20);
    assert_eq!(eval("mul.rn.f32 %f4, %f1, %f2;", "%f4", small, small, 0), f32b(1.0e-20 * 1.0e-20));
    assert_eq!(eval("mul.rn.ftz.f32 %f4, %f1, %f2;", "%f4", small, small, 0), 0);
    assert_eq!(eval("add.sat.f32 %f4, %f1, %f2;", "%f4", f32b(0.7), f32b(0.7), 0), f32b(1.0));
    assert_eq!(eval("add.sat.f32 %f4, %f1, %f2;", "%f4", f32b(-0.5), 0, 0), 0);
    assert_eq!(eval("add.sat.f32 %f4, %f1, %f2;", "%f4", f32b(f32::NAN), 0, 0), 0);
    assert_eq!(eval("setp.lt.ftz.f32 %p4, %f1, %f2;", "%p4", f32b(-1.0e-40), 0, 0), 0);
    assert_eq!(eval("setp.lt.f32 %p4, %f1, %f2;", "%p4", f32b(-1.0e-40), 0, 0), 1);
}

#[test]
fn nan_and_signed_zero_rules() {
    let nan = f32b(f32::NAN);
    assert_eq!(eval("min.f32 %f4, %f1, %f2;", "%f4", nan, f32b(3.0), 0), f32b(3.0));
    assert_eq!(eval("max.f32 %f4, %f1, %f2;", "%f4", f32b(3.0), nan, 0), f32b(3.0));
    assert!(f(eval("max.f32 %f4, %f1, %f2;", "%f4", nan, nan, 0)).is_nan());
    assert_eq!(eval("min.f32 %f4, %f1, %f2;", "%f4", 0, f32b(-0.0), 0), f32b(-0.0));
    assert_eq!(eval("max.f32 %f4, %f1, %f2;", "%f4", f32b(-0.0), 0, 0), 0);
    // Arithmetic NaN results are the canonical NaN.
    assert_eq!(
        eval("add.f32 %f4, %f1, %f2;", "%f4", f32b(f32::INFINITY), f32b(f32::NEG_INFINITY), 0),
        0x7fff_ffff
    );
    // abs/neg/copysign are bit operations.
    assert_eq!(eval("neg.f32 %f4, %f1;", "%f4", 0, 0, 0), f32b(-0.0));
    assert_eq!(eval("abs.f32 %f4, %f1;", "%f4", 0xffc0_0001, 0, 0), 0x7fc0_0001);
    assert_eq!(eval("copysign.f32 %f4, %f1, %f2;", "%f4", f32b(-1.0), f32b(2.0), 0), f32b(-2.0));
    assert_eq!(
        eval("div.rn.f32 %f4, %f1, %f2;", "%f4", f32b(1.0), f32b(-0.0), 0),
        f32b(f32::NEG_INFINITY)
    );
    assert_eq!(eval("testp.subnormal.f32 %p4, %f1;", "%p4", f32b(1.0e-40), 0, 0), 1);
    assert_eq!(eval("testp.notanumber.f64 %p4, %fd1;", "%p4", f64b(f64::NAN), 0, 0), 1);
    assert_eq!(eval("testp.finite.f32 %p4, %f1;", "%p4", f32b(f32::INFINITY), 0, 0), 0);
}

#[test]
fn ordered_and_unordered_comparisons() {
    let (nan, one, two) = (f32b(f32::NAN), f32b(1.0), f32b(2.0));
    let cases = [
        ("eq", [0, 0]),
        ("ne", [1, 0]),
        ("lt", [1, 0]),
        ("le", [1, 0]),
        ("gt", [0, 0]),
        ("ge", [0, 0]),
        ("equ", [0, 1]),
        ("neu", [1, 1]),
        ("ltu", [1, 1]),
        ("leu", [1, 1]),
        ("gtu", [0, 1]),
        ("geu", [0, 1]),
        ("num", [1, 0]),
        ("nan", [0, 1]),
    ];
    for (cmp, [ordered, with_nan]) in cases {
        let body = format!("setp.{cmp}.f32 %p4, %f1, %f2;");
        assert_eq!(eval(&body, "%p4", one, two, 0), ordered, "{cmp}(1, 2)");
        assert_eq!(eval(&body, "%p4", one, nan, 0), with_nan, "{cmp}(1, NaN)");
        let body = format!("setp.{cmp}.f64 %p4, %fd1, %fd2;");
        assert_eq!(eval(&body, "%p4", f64b(1.0), f64b(f64::NAN), 0), with_nan, "{cmp}.f64(1, NaN)");
    }
}

/// `.approx` functions against f64 references over a dense sweep, within the ISA's bounds.
#[test]
fn approx_functions_stay_within_their_documented_error() {
    let sweep =
        |lo: f32, hi: f32, n: usize| (0..=n).map(move |i| lo + (hi - lo) * i as f32 / n as f32);
    let check = |op: &str, xs: Vec<f32>, reference: fn(f64) -> f64, relative: bool, bound: f64| {
        let mut worst = 0.0f64;
        for x in xs {
            let got =
                f64::from(f(eval(&format!("{op}.approx.f32 %f4, %f1;"), "%f4", f32b(x), 0, 0)));
            let want = reference(f64::from(x));
            let err = if relative { ((got - want) / want).abs() } else { (got - want).abs() };
            assert!(
                err <= bound,
                "{op}.approx({x}) = {got}, reference {want}: error {err:e} > {bound:e}"
            );
            worst = worst.max(err);
        }
        println!("{op}.approx.f32: worst error {worst:e} (bound {bound:e})");
    };
    check("ex2", sweep(-100.0, 100.0, 2000).collect(), f64::exp2, true, 2f64.powi(-22));
    // lg2's bound is on the mantissa's logarithm (inputs in [1, 2)); elsewhere the result's
    // own rounding dominates, so the check there is relative.
    check("lg2", sweep(1.0, 2.0, 2000).collect(), f64::log2, false, 2f64.powf(-22.6));
    check(
        "lg2",
        sweep(0.01, 1000.0, 2000).filter(|x| (x.log2()).abs() > 1.0).collect(),
        f64::log2,
        true,
        2f64.powi(-22),
    );
    check(
        "sin",
        sweep(-std::f32::consts::PI, std::f32::consts::PI, 2000).collect(),
        f64::sin,
        false,
        2f64.powf(-20.9),
    );
    check(
        "cos",
        sweep(-std::f32::consts::PI, std::f32::consts::PI, 2000).collect(),
        f64::cos,
        false,
        2f64.powf(-20.9),
    );
    check("rsqrt", sweep(0.001, 1.0e6, 2000).collect(), |x| 1.0 / x.sqrt(), true, 2f64.powf(-22.9));
    check(
        "tanh",
        sweep(-10.0, 10.0, 2000).filter(|x| *x != 0.0).collect(),
        f64::tanh,
        true,
        2f64.powi(-11),
    );
    // Special values.
    assert_eq!(eval("ex2.approx.f32 %f4, %f1;", "%f4", f32b(f32::NEG_INFINITY), 0, 0), 0);
    assert_eq!(eval("lg2.approx.f32 %f4, %f1;", "%f4", 0, 0, 0), f32b(f32::NEG_INFINITY));
    assert!(f(eval("lg2.approx.f32 %f4, %f1;", "%f4", f32b(-1.0), 0, 0)).is_nan());
    assert_eq!(eval("rcp.approx.ftz.f64 %fd4, %fd1;", "%fd4", f64b(4.0), 0, 0), f64b(0.25));
}
