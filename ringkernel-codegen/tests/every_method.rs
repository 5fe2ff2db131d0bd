//! Every primitive method the DSL promises (README's table) compiles in one kernel, integer
//! and float, at several widths: a method that stops being accepted fails here by name.

use ringkernel_codegen::{Options, compile_source};

const INT_METHODS: &[&str] = &[
    "wrapping_add(b)",
    "wrapping_sub(b)",
    "wrapping_mul(b)",
    "wrapping_div(b)",
    "wrapping_rem(b)",
    "wrapping_neg()",
    "wrapping_shl(3)",
    "wrapping_shr(3)",
    "wrapping_pow(3)",
    "saturating_add(b)",
    "saturating_sub(b)",
    "saturating_mul(b)",
    "saturating_pow(3)",
    "rotate_left(3)",
    "rotate_right(3)",
    "count_ones() as T",
    "count_zeros() as T",
    "leading_zeros() as T",
    "trailing_zeros() as T",
    "leading_ones() as T",
    "trailing_ones() as T",
    "swap_bytes()",
    "reverse_bits()",
    "pow(2)",
    "isqrt()",
    "abs_diff(b) as T",
    "min(b)",
    "max(b)",
    "clamp(b, b)",
    "rem_euclid(b)",
    "div_euclid(b)",
    "to_be()",
    "to_le()",
];
const SIGNED_METHODS: &[&str] = &[
    "wrapping_abs()",
    "abs()",
    "unsigned_abs() as T",
    "signum()",
    "is_positive() as T",
    "is_negative() as T",
];
const UNSIGNED_METHODS: &[&str] = &["is_power_of_two() as T", "next_power_of_two()"];
const FLOAT_METHODS: &[&str] = &[
    "abs()",
    "signum()",
    "copysign(b)",
    "min(b)",
    "max(b)",
    "clamp(b, b)",
    "floor()",
    "ceil()",
    "round()",
    "round_ties_even()",
    "trunc()",
    "fract()",
    "sqrt()",
    "cbrt()",
    "recip()",
    "mul_add(b, b)",
    "powi(3)",
    "powf(b)",
    "exp()",
    "exp2()",
    "exp_m1()",
    "ln()",
    "log(b)",
    "log2()",
    "log10()",
    "ln_1p()",
    "sin()",
    "cos()",
    "tan()",
    "asin()",
    "acos()",
    "atan()",
    "atan2(b)",
    "sinh()",
    "cosh()",
    "tanh()",
    "asinh()",
    "acosh()",
    "atanh()",
    "hypot(b)",
    "to_degrees()",
    "to_radians()",
    "is_nan() as u8 as T",
    "is_infinite() as u8 as T",
    "is_finite() as u8 as T",
    "is_normal() as u8 as T",
    "is_sign_positive() as u8 as T",
    "is_sign_negative() as u8 as T",
    "to_bits() as T",
];

fn kernel(ty: &str, methods: &[&[&str]]) -> String {
    let mut body = format!("    let mut acc: {ty} = a;\n");
    for method in methods.iter().flat_map(|m| m.iter()) {
        let call = method.replace(" as T", &format!(" as {ty}"));
        body.push_str(&format!("    acc = acc.max(a.{call});\n"));
    }
    format!(
        "#[ring_kernel(id = \"every-{ty}\")]\nfn every_{ty}(ctx: &mut RingContext, a: {ty}) -> {ty} {{\n    let b = a;\n{body}    acc\n}}\n"
    )
}

#[test]
fn every_listed_primitive_method_compiles() {
    let mut src = String::new();
    for ty in ["i8", "i32", "i64"] {
        src.push_str(&kernel(ty, &[INT_METHODS, SIGNED_METHODS]));
    }
    for ty in ["u8", "u16", "u64"] {
        src.push_str(&kernel(ty, &[INT_METHODS, UNSIGNED_METHODS]));
    }
    for ty in ["f32", "f64"] {
        src.push_str(&kernel(ty, &[FLOAT_METHODS]));
    }
    src.push_str(
        "#[ring_kernel(id = \"every-tuple\")]\nfn every_tuple(ctx: &mut RingContext, a: f64) -> f64 {\n    \
         let (s, c) = a.sin_cos();\n    let (v, o) = (a as u32).overflowing_add(7);\n    \
         let (w, p) = (a as i16).overflowing_sub(7);\n    let (m, q) = (a as u64).overflowing_mul(7);\n    \
         let bits = f64::from_bits(a.to_bits()) + f32::from_bits(7) as f64;\n    \
         let e = u32::from_be(v) as f64 + i16::from_le(w) as f64 + m as f64;\n    \
         s + c + bits + e + (o as u8 + p as u8 + q as u8) as f64\n}\n",
    );
    if let Err(diagnostics) = compile_source(&src, &Options::default()) {
        panic!("{diagnostics}\n--- source ---\n{src}");
    }
}
