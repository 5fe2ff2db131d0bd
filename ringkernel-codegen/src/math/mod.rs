//! The DSL's math library: one implementation of the transcendental functions for the CPU
//! and the GPU.
//!
//! A kernel's `x.sin()`, `x.exp()`, `y.atan2(x)`, ... call these functions in both of its
//! forms: natively (the macros rewrite the call to [`Transcendental`]) and in PTX (the front
//! end lowers the same source, [`LIBRARY_SOURCE`], into device functions). Every operation in them
//! is an IEEE operation rounded to nearest (`+ - * /`, `sqrt`, `mul_add`), never contracted,
//! so a kernel gives the same bits on every backend, which the GPU's own `sin.approx` or a
//! CUDA toolkit's libdevice cannot promise.
//!
//! # Accuracy
//!
//! Measured against a correctly rounded reference (`astro-float` at 192 bits plus the
//! argument's binary exponent) by
//! `tests/math_ulp.rs` (a CI-sized sample) and `benches/math_ulp.rs` (1 M samples per
//! function over the whole domain and the special values). Maximum errors found, in ulps of
//! the correctly rounded result (details and arguments in BENCHMARKS.md):
//!
//! | function | f64 | f32 |
//! |---|---|---|
//! | `exp` | 0.750 | 0.500 |
//! | `exp2` | 0.736 | 0.500 |
//! | `exp_m1` | 0.912 | 0.500 |
//! | `ln` | 0.780 | 0.500 |
//! | `log2` | 0.741 | 0.500 |
//! | `log10` | 0.661 | 0.500 |
//! | `ln_1p` | 0.776 | 0.500 |
//! | `sin` | 0.764 | 0.500 |
//! | `cos` | 0.748 | 0.500 |
//! | `tan` | 0.890 | 0.500 |
//! | `asin` | 0.505 | 0.500 |
//! | `acos` | 0.715 | 0.500 |
//! | `atan` | 0.501 | 0.500 |
//! | `sinh` | 0.776 | 0.500 |
//! | `cosh` | 0.646 | 0.500 |
//! | `tanh` | 0.785 | 0.500 |
//! | `asinh` | 0.521 | 0.500 |
//! | `acosh` | 0.521 | 0.500 |
//! | `atanh` | 0.506 | 0.500 |
//! | `cbrt` | 0.500 | 0.500 |
//! | `atan2` | 0.768 | 0.500 |
//! | `hypot` | 0.500 | 0.500 |
//! | `powf` | 0.897 | 0.500 |
//! | `log` | 0.500 | 0.500 |
//!
//! Every `f32` function is computed in `f64` (the `f64` function, or for `exp ln sin cos` a
//! shorter `f64` path accurate to ~2^-40) and rounded once. Special values (NaN, ±inf, ±0, domain
//! errors, overflow, underflow) follow IEEE 754 and Rust's standard library.
//!
//! `#[ring_kernel(fast_math)]` opts a kernel's handler body out of this library for `f32`
//! `exp ln sin cos`, into the GPU's `.approx` instructions (faster, documented error, CPU
//! and GPU differ in the last bits).

/// The library's files, which are also the text of [`LIBRARY_SOURCE`]. Their constants are
/// written as generated (see `scripts/math/constants.py`) and their arithmetic as the DSL
/// needs it, hence the allowances.
macro_rules! library_files {
    ($($file:ident),*) => {$(
        #[allow(
            clippy::approx_constant,
            clippy::excessive_precision,
            clippy::unreadable_literal,
            clippy::manual_range_contains,
            clippy::neg_multiply,
            clippy::assign_op_pattern
        )]
        mod $file;
    )*};
}

library_files!(shared, exp_log, trig, hyperbolic, single);

pub use exp_log::*;
pub use hyperbolic::*;
pub use single::*;
pub use trig::*;

/// The library's methods as a kernel calls them (`x.sin()`, `y.atan2(x)`) and how many
/// arguments each takes besides the receiver.
pub const METHODS: [(&str, usize); 24] = [
    ("exp", 0),
    ("exp2", 0),
    ("exp_m1", 0),
    ("ln", 0),
    ("log2", 0),
    ("log10", 0),
    ("ln_1p", 0),
    ("sin", 0),
    ("cos", 0),
    ("tan", 0),
    ("asin", 0),
    ("acos", 0),
    ("atan", 0),
    ("sinh", 0),
    ("cosh", 0),
    ("tanh", 0),
    ("asinh", 0),
    ("acosh", 0),
    ("atanh", 0),
    ("cbrt", 0),
    ("log", 1),
    ("atan2", 1),
    ("hypot", 1),
    ("powf", 1),
];

/// The `f32` methods that `#[ring_kernel(fast_math)]` maps to `.approx` instructions.
pub const APPROXIMATE_METHODS: [&str; 4] = ["exp", "ln", "sin", "cos"];

/// The source text of the library, which the front end lowers into device functions: its
/// five files, one after the other.
pub const LIBRARY_SOURCE: &str = concat!(
    include_str!("shared.rs"),
    include_str!("exp_log.rs"),
    include_str!("trig.rs"),
    include_str!("hyperbolic.rs"),
    include_str!("single.rs"),
);

/// The library's functions as methods of `f32` and `f64`, named as the standard library
/// names them (`Transcendental::sin(x)` is `sin_f64(x)` for an `f64`). The macros rewrite a
/// kernel's `x.sin()` to this trait, so that native code and PTX agree bit for bit.
pub trait Transcendental: Copy {
    /// `e^self`.
    fn exp(self) -> Self;
    /// `2^self`.
    fn exp2(self) -> Self;
    /// `e^self - 1`.
    fn exp_m1(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// Base-2 logarithm.
    fn log2(self) -> Self;
    /// Base-10 logarithm.
    fn log10(self) -> Self;
    /// `ln(self) / ln(base)`.
    fn log(self, base: Self) -> Self;
    /// `ln(1 + self)`.
    fn ln_1p(self) -> Self;
    /// Sine.
    fn sin(self) -> Self;
    /// Cosine.
    fn cos(self) -> Self;
    /// Tangent.
    fn tan(self) -> Self;
    /// Arcsine.
    fn asin(self) -> Self;
    /// Arccosine.
    fn acos(self) -> Self;
    /// Arctangent.
    fn atan(self) -> Self;
    /// Four-quadrant arctangent of `self / other`.
    fn atan2(self, other: Self) -> Self;
    /// Hyperbolic sine.
    fn sinh(self) -> Self;
    /// Hyperbolic cosine.
    fn cosh(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Inverse hyperbolic sine.
    fn asinh(self) -> Self;
    /// Inverse hyperbolic cosine.
    fn acosh(self) -> Self;
    /// Inverse hyperbolic tangent.
    fn atanh(self) -> Self;
    /// Cube root.
    fn cbrt(self) -> Self;
    /// `sqrt(self^2 + other^2)`.
    fn hypot(self, other: Self) -> Self;
    /// `self^exponent`.
    fn powf(self, exponent: Self) -> Self;
    /// `(self.sin(), self.cos())`, as the GPU computes it.
    fn sin_cos(self) -> (Self, Self) {
        (self.sin(), self.cos())
    }
    /// `exp` in a `fast_math` kernel: the standard library's for `f32` (the GPU uses
    /// `ex2.approx`, so the two differ in the last bits anyway), this library's for `f64`.
    fn fast_exp(self) -> Self;
    /// `ln` in a `fast_math` kernel (see [`Transcendental::fast_exp`]).
    fn fast_ln(self) -> Self;
    /// `sin` in a `fast_math` kernel (see [`Transcendental::fast_exp`]).
    fn fast_sin(self) -> Self;
    /// `cos` in a `fast_math` kernel (see [`Transcendental::fast_exp`]).
    fn fast_cos(self) -> Self;
}

macro_rules! transcendental {
    ($t:ty: $($unary:ident => $uf:ident),* ; $($binary:ident => $bf:ident),* ;
     $($fast:ident => $ff:expr),*) => {
        impl Transcendental for $t {
            $(fn $unary(self) -> Self { $uf(self) })*
            $(fn $binary(self, other: Self) -> Self { $bf(self, other) })*
            $(fn $fast(self) -> Self { $ff(self) })*
        }
    };
}

transcendental!(f64: exp => exp_f64, exp2 => exp2_f64, exp_m1 => exp_m1_f64, ln => ln_f64,
    log2 => log2_f64, log10 => log10_f64, ln_1p => ln_1p_f64, sin => sin_f64, cos => cos_f64,
    tan => tan_f64, asin => asin_f64, acos => acos_f64, atan => atan_f64, sinh => sinh_f64,
    cosh => cosh_f64, tanh => tanh_f64, asinh => asinh_f64, acosh => acosh_f64,
    atanh => atanh_f64, cbrt => cbrt_f64;
    log => log_f64, atan2 => atan2_f64, hypot => hypot_f64, powf => powf_f64;
    fast_exp => exp_f64, fast_ln => ln_f64, fast_sin => sin_f64, fast_cos => cos_f64);
transcendental!(f32: exp => exp_f32, exp2 => exp2_f32, exp_m1 => exp_m1_f32, ln => ln_f32,
    log2 => log2_f32, log10 => log10_f32, ln_1p => ln_1p_f32, sin => sin_f32, cos => cos_f32,
    tan => tan_f32, asin => asin_f32, acos => acos_f32, atan => atan_f32, sinh => sinh_f32,
    cosh => cosh_f32, tanh => tanh_f32, asinh => asinh_f32, acosh => acosh_f32,
    atanh => atanh_f32, cbrt => cbrt_f32;
    log => log_f32, atan2 => atan2_f32, hypot => hypot_f32, powf => powf_f32;
    fast_exp => f32::exp, fast_ln => f32::ln, fast_sin => f32::sin, fast_cos => f32::cos);
