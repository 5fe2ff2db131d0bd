//! ISA vectors for the integer, logic, shift, bit and comparison families (PTX ISA 9.7.1,
//! 9.7.7, 9.7.8, 9.7.9.7 `prmt`). Expected values are worked out from the ISA text.

mod common;

use common::*;

const M32: u64 = 0xffff_ffff;

#[test]
fn shl_and_shr_clamp_shift_amounts_at_the_width() {
    table(
        "shl.b32 %r4, %r1, %r2;",
        "%r4",
        &[(1, 31, 1 << 31), (1, 32, 0), (1, 33, 0), (1, M32, 0)],
    );
    table("shl.b64 %rd4, %rd1, %r2;", "%rd4", &[(1, 63, 1 << 63), (1, 64, 0), (3, 1000, 0)]);
    table(
        "shr.u32 %r4, %r1, %r2;",
        "%r4",
        &[(0x8000_0000, 31, 1), (0x8000_0000, 32, 0), (M32, 40, 0)],
    );
    table(
        "shr.s32 %r4, %r1, %r2;",
        "%r4",
        &[(0x8000_0000, 31, M32), (0x8000_0000, 40, M32), (0x4000_0000, 40, 0)],
    );
    table("shr.s64 %rd4, %rd1, %r2;", "%rd4", &[(1 << 63, 64, u64::MAX), (1 << 62, 200, 0)]);
    // The shift amount is a full u32: 2^32 - 1 is not 31 (no modulo as on x86).
    table("shr.u64 %rd4, %rd1, %r2;", "%rd4", &[(u64::MAX, M32, 0), (u64::MAX, 63, 1)]);
}

#[test]
fn bfind_of_zero_of_negative_values_and_shiftamt() {
    table(
        "bfind.u32 %r4, %r1;",
        "%r4",
        &[(0, 0, M32), (1, 0, 0), (0x8000_0000, 0, 31), (0x00f0, 0, 7)],
    );
    // Signed: the most significant bit that differs from the sign bit.
    table(
        "bfind.s32 %r4, %r1;",
        "%r4",
        &[(M32, 0, M32), (0xffff_fffe, 0, 0), (0x8000_0000, 0, 30), (5, 0, 2)],
    );
    table("bfind.shiftamt.u32 %r4, %r1;", "%r4", &[(1, 0, 31), (0x8000_0000, 0, 0), (0, 0, M32)]);
    table("bfind.u64 %r4, %rd1;", "%r4", &[(1 << 40, 0, 40), (0, 0, M32)]);
}

#[test]
fn prmt_selectors_and_modes() {
    let (a, b) = (0x4433_2211u64, 0x8877_6655u64);
    let rows = [
        (0x3210, 0x4433_2211),
        (0x7654, 0x8877_6655),
        (0x0123, 0x1122_3344),
        (0x4444, 0x5555_5555),
        (0x000f, 0x1111_11ff), // bit 3 of a selector replicates the sign of the byte: 0x88 → 0xff
        (0x8888, 0x0000_0000), // byte 0 is 0x11: sign 0
    ];
    for (sel, want) in rows {
        assert_eq!(
            eval("prmt.b32 %r4, %r1, %r2, %r3;", "%r4", a, b, sel),
            want,
            "prmt selector {sel:#x}"
        );
    }
    let modes = [
        ("f4e", 0, 0x4433_2211),
        ("f4e", 1, 0x5544_3322),
        ("f4e", 3, 0x7766_5544),
        ("b4e", 0, 0x6677_8811),
        ("b4e", 3, 0x1122_3344),
        ("rc8", 2, 0x3333_3333),
        ("ecl", 1, 0x4433_2222),
        ("ecr", 2, 0x3333_2211),
        ("rc16", 1, 0x4433_4433),
    ];
    for (mode, sel, want) in modes {
        let got = eval(&format!("prmt.b32.{mode} %r4, %r1, %r2, %r3;"), "%r4", a, b, sel);
        assert_eq!(got, want, "prmt.{mode} {sel}: got {got:#x}");
    }
}

#[test]
fn mul_hi_wide_and_mad_wide() {
    table("mul.hi.u32 %r4, %r1, %r2;", "%r4", &[(M32, M32, 0xffff_fffe), (0x1_0000, 0x1_0000, 1)]);
    table(
        "mul.hi.s32 %r4, %r1, %r2;",
        "%r4",
        &[(M32, M32, 0), (M32, 2, M32), (0x8000_0000, 0x8000_0000, 0x4000_0000)],
    );
    table("mul.hi.u64 %rd4, %rd1, %rd2;", "%rd4", &[(u64::MAX, u64::MAX, u64::MAX - 1)]);
    table("mul.hi.s64 %rd4, %rd1, %rd2;", "%rd4", &[(u64::MAX, 5, u64::MAX)]);
    table(
        "mul.wide.s32 %rd4, %r1, %r2;",
        "%rd4",
        &[(M32, 3, (-3i64) as u64), (0x8000_0000, 0x8000_0000, 1 << 62)],
    );
    table("mul.wide.u32 %rd4, %r1, %r2;", "%rd4", &[(M32, M32, 0xffff_fffe_0000_0001)]);
    table("mul.wide.s16 %r4, %h1, %h2;", "%r4", &[(0xffff, 0xffff, 1), (0x8000, 2, 0xffff_0000)]);
    assert_eq!(eval("mad.wide.s32 %rd4, %r1, %r2, %rd3;", "%rd4", M32, 2, 10), 8);
    assert_eq!(eval("mad.lo.u32 %r4, %r1, %r2, %r3;", "%r4", 0x8000_0000, 2, 5), 5);
    assert_eq!(eval("mad.hi.u32 %r4, %r1, %r2, %r3;", "%r4", M32, M32, 2), 0);
    table(
        "mul24.lo.u32 %r4, %r1, %r2;",
        "%r4",
        &[(0x0100_0001, 2, 2), (0xff_ffff, 0xff_ffff, 0xfe00_0001)],
    );
    table("mul24.hi.s32 %r4, %r1, %r2;", "%r4", &[(0xff_ffff, 1, M32)]);
}

#[test]
fn carry_chains_add_and_subtract_across_words() {
    // (2^32 - 1) + 1 with the carry into the high word; then 0 - 1 with the borrow.
    let add = "add.cc.u32 %r4, %r1, %r2; addc.u32 %r5, %r3, 0; mov.b64 %rd4, {%r4, %r5};";
    assert_eq!(eval(add, "%rd4", M32, 1, 7), 8 << 32);
    let sub = "sub.cc.u32 %r4, %r1, %r2; subc.u32 %r5, %r3, 0; mov.b64 %rd4, {%r4, %r5};";
    assert_eq!(eval(sub, "%rd4", 0, 1, 7), (6 << 32) | M32);
    assert_eq!(
        eval(
            "add.cc.u64 %rd4, %rd1, %rd2; addc.cc.u64 %rd5, 0, 0; addc.u64 %rd4, %rd5, 0;",
            "%rd4",
            u64::MAX,
            1,
            0
        ),
        1
    );
    table(
        "add.sat.s32 %r4, %r1, %r2;",
        "%r4",
        &[(0x7fff_ffff, 1, 0x7fff_ffff), (0x8000_0000, M32, 0x8000_0000)],
    );
    table("sub.sat.s32 %r4, %r1, %r2;", "%r4", &[(0x8000_0000, 1, 0x8000_0000)]);
}

#[test]
fn division_by_zero_and_overflow_have_the_documented_values() {
    table("div.u32 %r4, %r1, %r2;", "%r4", &[(7, 2, 3), (7, 0, M32)]);
    table("rem.u32 %r4, %r1, %r2;", "%r4", &[(7, 2, 1), (7, 0, 7)]);
    table(
        "div.s32 %r4, %r1, %r2;",
        "%r4",
        &[
            ((-7i32) as u32 as u64, 2, (-3i32) as u32 as u64),
            (0x8000_0000, M32, 0x8000_0000),
            (5, 0, M32),
        ],
    );
    table(
        "rem.s32 %r4, %r1, %r2;",
        "%r4",
        &[((-7i32) as u32 as u64, 2, M32), (0x8000_0000, M32, 0)],
    );
    table("div.s64 %rd4, %rd1, %rd2;", "%rd4", &[(1 << 63, u64::MAX, 1 << 63)]);
}

#[test]
fn min_max_abs_neg_popc_clz_brev_cnot_sad() {
    table(
        "min.s32 %r4, %r1, %r2;",
        "%r4",
        &[(M32, 1, M32), (0x8000_0000, 0x7fff_ffff, 0x8000_0000)],
    );
    table("min.u32 %r4, %r1, %r2;", "%r4", &[(M32, 1, 1)]);
    table("max.s64 %rd4, %rd1, %rd2;", "%rd4", &[(u64::MAX, 0, 0)]);
    table("abs.s32 %r4, %r1;", "%r4", &[(0x8000_0000, 0, 0x8000_0000), (M32, 0, 1)]);
    table("neg.s32 %r4, %r1;", "%r4", &[(1, 0, M32), (0x8000_0000, 0, 0x8000_0000)]);
    table("popc.b64 %r4, %rd1;", "%r4", &[(u64::MAX, 0, 64), (0, 0, 0)]);
    table("clz.b32 %r4, %r1;", "%r4", &[(0, 0, 32), (1, 0, 31), (M32, 0, 0)]);
    table("clz.b64 %r4, %rd1;", "%r4", &[(0, 0, 64), (1 << 40, 0, 23)]);
    table("brev.b32 %r4, %r1;", "%r4", &[(1, 0, 0x8000_0000), (0xf0, 0, 0x0f00_0000)]);
    table("cnot.b32 %r4, %r1;", "%r4", &[(0, 0, 1), (5, 0, 0)]);
    table("not.b16 %h4, %h1;", "%h4", &[(0, 0, 0xffff)]);
    assert_eq!(eval("sad.s32 %r4, %r1, %r2, %r3;", "%r4", M32, 1, 10), 12);
}

#[test]
fn bfe_and_bfi_fields() {
    table("bfe.u32 %r4, %r1, 4, %r2;", "%r4", &[(0xabcd, 8, 0xbc), (0xabcd, 0, 0)]);
    table(
        "bfe.s32 %r4, %r1, %r2, 4;",
        "%r4",
        &[(0xf0, 4, M32), (0x70, 4, 7), (0x8000_0000, 31, M32), (0x8000_0000, 200, M32)],
    );
    // A field running past the top bit is filled with the top bit for signed types.
    table("bfe.s32 %r4, %r1, 28, %r2;", "%r4", &[(0x8000_0000, 8, 0xffff_fff8)]);
    table("bfe.u64 %rd4, %rd1, 60, 8;", "%rd4", &[(0xf000_0000_0000_0000, 0, 0xf)]);
    table("bfi.b32 %r4, %r1, %r2, 8, 8;", "%r4", &[(0xff, 0, 0xff00), (0x1ff, 0xffff_ffff, M32)]);
    table("bfi.b32 %r4, %r1, %r2, 28, 8;", "%r4", &[(0xff, 0, 0xf000_0000)]);
    table("bfi.b32 %r4, %r1, %r2, 0, 0;", "%r4", &[(0xff, 0x1234, 0x1234)]);
}

#[test]
fn setp_every_integer_comparison_and_combiners() {
    let (a, b) = ((-1i32) as u32 as u64, 1u64);
    for (cmp, signed, unsigned) in [
        ("lt", true, false),
        ("le", true, false),
        ("gt", false, true),
        ("ge", false, true),
        ("eq", false, false),
        ("ne", true, true),
    ] {
        let s = eval(&format!("setp.{cmp}.s32 %p4, %r1, %r2;"), "%p4", a, b, 0);
        let u = eval(&format!("setp.{cmp}.u32 %p4, %r1, %r2;"), "%p4", a, b, 0);
        assert_eq!((s, u), (u64::from(signed), u64::from(unsigned)), "setp.{cmp}");
    }
    for (cmp, want) in [("lo", 0), ("ls", 0), ("hi", 1), ("hs", 1)] {
        assert_eq!(
            eval(&format!("setp.{cmp}.u32 %p4, %r1, %r2;"), "%p4", a, b, 0),
            want,
            "setp.{cmp}"
        );
    }
    // p = (a < b) OP c, q = !(a < b) OP c; with a negated c.
    let body = |op: &str| {
        format!(
            "setp.lt.u32.{op} %p4|%p5, %r1, %r2, !%p3; selp.u32 %r4, 2, 0, %p5; selp.u32 %r5, 1, 0, %p4; or.b32 %r4, %r4, %r5;"
        )
    };
    assert_eq!(eval(&body("and"), "%r4", 1, 2, 0), 1); // p = 1 & 1, q = 0 & 1
    assert_eq!(eval(&body("or"), "%r4", 2, 1, 1), 2); // p = 0 | 0, q = 1 | 0
    assert_eq!(eval(&body("xor"), "%r4", 1, 2, 0), 2); // c = !0 = 1: p = 1 ^ 1, q = 0 ^ 1
}

#[test]
fn selp_set_slct() {
    assert_eq!(eval("selp.b32 %r4, %r1, %r2, %p3;", "%r4", 10, 20, 1), 10);
    assert_eq!(eval("selp.b32 %r4, %r1, %r2, %p3;", "%r4", 10, 20, 0), 20);
    assert_eq!(eval("set.lt.u32.s32 %r4, %r1, %r2;", "%r4", M32, 0, 0), M32);
    assert_eq!(eval("set.lt.f32.s32 %f4, %r1, %r2;", "%f4", M32, 0, 0), f32b(1.0));
    assert_eq!(eval("set.gt.u32.u32 %r4, %r1, %r2;", "%r4", M32, 0, 0), M32);
    assert_eq!(eval("slct.u32.s32 %r4, %r1, %r2, %r3;", "%r4", 1, 2, M32), 2);
    assert_eq!(eval("slct.u32.f32 %r4, %r1, %r2, %r3;", "%r4", 1, 2, f32b(-0.0)), 1);
    assert_eq!(eval("and.pred %p4, %p1, %p2; xor.pred %p4, %p4, %p3;", "%p4", 1, 1, 1), 0);
    assert_eq!(eval("not.pred %p4, %p1;", "%p4", 0, 0, 0), 1);
}
