//! ISA vectors for `cvt` (PTX ISA 9.7.9.21): every float-to-integer NaN, ±inf and overflow
//! case in both source widths and every destination width, the rounding modifiers, integer
//! saturation and truncation, integer-to-float and f64-to-f32 directed rounding.

mod common;

use common::*;

const INTS: [(&str, u32, bool); 8] = [
    ("s8", 8, true),
    ("u8", 8, false),
    ("s16", 16, true),
    ("u16", 16, false),
    ("s32", 32, true),
    ("u32", 32, false),
    ("s64", 64, true),
    ("u64", 64, false),
];

/// `cvt.rzi.<int>.<float>` of one input, as the low `bits` bits of the destination.
fn to_int(int: &str, bits: u32, float: &str, input: u64) -> u64 {
    let (dst, result) = match bits {
        8 | 16 => ("%h4", "%h4"),
        32 => ("%r4", "%r4"),
        _ => ("%rd4", "%rd4"),
    };
    let src = if float == "f32" { "%f1" } else { "%fd1" };
    let v = eval(&format!("cvt.rzi.{int}.{float} {dst}, {src};"), result, input, 0, 0);
    if bits == 64 { v } else { v & ((1u64 << bits) - 1) }
}

#[test]
fn float_to_int_nan_follows_the_width_dependent_rule() {
    // NaN gives 0 unless the source is f64 or the destination is 64 bits wide; then it gives
    // 1 << (width - 1).
    for (int, bits, _) in INTS {
        let f32_nan = to_int(int, bits, "f32", f32b(f32::NAN));
        let f64_nan = to_int(int, bits, "f64", f64b(f64::NAN));
        let top = 1u64 << (bits - 1);
        assert_eq!(f32_nan, if bits == 64 { top } else { 0 }, "cvt.rzi.{int}.f32 of NaN");
        assert_eq!(f64_nan, top, "cvt.rzi.{int}.f64 of NaN");
    }
}

#[test]
fn float_to_int_saturates_infinities_and_overflow() {
    for (int, bits, signed) in INTS {
        let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
        let (min, max) =
            if signed { (1u64 << (bits - 1), (1u64 << (bits - 1)) - 1) } else { (0, mask) };
        for float in ["f32", "f64"] {
            let enc = |x: f64| if float == "f32" { f32b(x as f32) } else { f64b(x) };
            assert_eq!(to_int(int, bits, float, enc(f64::INFINITY)), max, "{int}.{float} +inf");
            assert_eq!(to_int(int, bits, float, enc(f64::NEG_INFINITY)), min, "{int}.{float} -inf");
            assert_eq!(to_int(int, bits, float, enc(1e30)), max, "{int}.{float} 1e30");
            assert_eq!(to_int(int, bits, float, enc(-1e30)), min, "{int}.{float} -1e30");
            assert_eq!(to_int(int, bits, float, enc(-0.0)), 0, "{int}.{float} -0");
            assert_eq!(
                to_int(int, bits, float, enc(-7.9)),
                if signed { 7u64.wrapping_neg() & mask } else { 0 },
                "{int}.{float} -7.9"
            );
            assert_eq!(to_int(int, bits, float, enc(100.7)), 100.min(max), "{int}.{float} 100.7");
        }
    }
}

#[test]
fn integer_rounding_modifiers() {
    let cases = [
        (2.5f32, [2i64, 2, 2, 3]),
        (3.5, [4, 3, 3, 4]),
        (-2.5, [-2, -2, -3, -2]),
        (-0.4, [0, 0, -1, 0]),
        (0.4, [0, 0, 0, 1]),
    ];
    for (x, want) in cases {
        for (m, w) in ["rni", "rzi", "rmi", "rpi"].iter().zip(want) {
            let got = eval(&format!("cvt.{m}.s32.f32 %r4, %f1;"), "%r4", f32b(x), 0, 0);
            assert_eq!(got, w as i32 as u32 as u64, "cvt.{m}.s32.f32({x})");
            let same_width = eval(&format!("cvt.{m}.f32.f32 %f4, %f1;"), "%f4", f32b(x), 0, 0);
            assert_eq!(f32::from_bits(same_width as u32), w as f32, "cvt.{m}.f32.f32({x})");
        }
    }
    // .ftz flushes a subnormal source first: ceil of a tiny positive value is then 0.
    assert_eq!(eval("cvt.rpi.s32.f32 %r4, %f1;", "%r4", f32b(1.0e-40), 0, 0), 1);
    assert_eq!(eval("cvt.rpi.ftz.s32.f32 %r4, %f1;", "%r4", f32b(1.0e-40), 0, 0), 0);
}

#[test]
fn int_to_int_truncates_extends_and_saturates() {
    assert_eq!(eval("cvt.u32.u64 %r4, %rd1;", "%r4", 0x1_2345_6789, 0, 0), 0x2345_6789);
    assert_eq!(eval("cvt.s64.s32 %rd4, %r1;", "%rd4", 0xffff_fffe, 0, 0), (-2i64) as u64);
    assert_eq!(eval("cvt.u64.u32 %rd4, %r1;", "%rd4", 0xffff_fffe, 0, 0), 0xffff_fffe);
    assert_eq!(eval("cvt.s32.s8 %r4, %r1;", "%r4", 0x80, 0, 0), 0xffff_ff80);
    assert_eq!(eval("cvt.sat.u8.s32 %r4, %r1;", "%r4", 0xffff_fffb, 0, 0) & 0xff, 0);
    assert_eq!(eval("cvt.sat.u8.s32 %r4, %r1;", "%r4", 300, 0, 0) & 0xff, 255);
    assert_eq!(eval("cvt.sat.s8.s32 %r4, %r1;", "%r4", 300, 0, 0) & 0xff, 127);
    assert_eq!(eval("cvt.sat.s32.u32 %r4, %r1;", "%r4", 0xffff_ffff, 0, 0), 0x7fff_ffff);
    assert_eq!(eval("cvt.sat.u32.s64 %r4, %rd1;", "%r4", (-1i64) as u64, 0, 0), 0);
    assert_eq!(eval("cvt.u16.u32 %h4, %r1;", "%h4", 0x1_0005, 0, 0), 5);
}

#[test]
fn int_to_float_and_f64_to_f32_directed_rounding() {
    let big = (1u64 << 24) + 1;
    let r = |m: &str, v: u64| eval(&format!("cvt.{m}.f32.u64 %f4, %rd1;"), "%f4", v, 0, 0);
    assert_eq!(r("rn", big), f32b(16_777_216.0));
    assert_eq!(r("rz", big), f32b(16_777_216.0));
    assert_eq!(r("rm", big), f32b(16_777_216.0));
    assert_eq!(r("rp", big), f32b(16_777_218.0));
    let s = |m: &str, v: i64| eval(&format!("cvt.{m}.f32.s64 %f4, %rd1;"), "%f4", v as u64, 0, 0);
    assert_eq!(s("rm", -(big as i64)), f32b(-16_777_218.0));
    assert_eq!(s("rp", -(big as i64)), f32b(-16_777_216.0));
    assert_eq!(s("rn", i64::MIN), f32b(-9.223_372e18));
    let n = |m: &str, x: f64| eval(&format!("cvt.{m}.f32.f64 %f4, %fd1;"), "%f4", f64b(x), 0, 0);
    assert_eq!(n("rn", 0.1), f32b(0.1));
    assert_eq!(n("rp", 0.1), n("rz", 0.1) + 1);
    assert_eq!(n("rz", 1e300), f32b(f32::MAX));
    assert_eq!(n("rn", 1e300), f32b(f32::INFINITY));
    assert_eq!(n("rm", -1e300), f32b(f32::NEG_INFINITY));
    assert_eq!(n("rn", 1e-50), 0);
    assert_eq!(n("rp", 1e-50), 1);
    assert!(f32::from_bits(n("rn", f64::NAN) as u32).is_nan());
    assert_eq!(
        eval("cvt.f64.f32 %fd4, %f1;", "%fd4", f32b(1.0e-40), 0, 0),
        f64b(f64::from(1.0e-40f32))
    );
    assert_eq!(eval("cvt.ftz.f64.f32 %fd4, %f1;", "%fd4", f32b(1.0e-40), 0, 0), 0);
    assert_eq!(eval("cvt.sat.f32.f32 %f4, %f1;", "%f4", f32b(7.0), 0, 0), f32b(1.0));
    assert_eq!(eval("cvt.rn.sat.f32.s32 %f4, %r1;", "%f4", 0xffff_fffe, 0, 0), 0);
}
