//! Native twins of the golden kernels (`ringkernel-codegen/tests/in/*.rs`): the same handler
//! source compiled as plain Rust (see build.rs), the reference the differential tests hold the
//! IR interpreter and the PTX (in the VM, on a GPU) to.
//!
//! This crate is compiled with `overflow-checks = false` in every profile (see the workspace
//! Cargo.toml): integer arithmetic wraps, exactly as the DSL defines it, so inputs at MIN/MAX
//! are compared instead of skipped. What still panics here (division by zero, `MIN / -1`, an
//! index out of bounds) is where the DSL defines a result Rust does not; the tests skip those.

#[allow(unused, clippy::all, non_camel_case_types, dead_code)]
pub mod native {
    pub struct RingContext {
        pub seq: u64,
        pub clock: u64,
        pub slot: u32,
    }

    impl RingContext {
        pub fn message_seq(&self) -> u64 {
            self.seq
        }
        pub fn now(&mut self) -> u64 {
            self.clock = self.clock.wrapping_add(1);
            self.clock
        }
        pub fn kernel_slot(&self) -> u32 {
            self.slot
        }
    }

    /// The math library under the names build.rs gives the twins' math calls.
    pub trait RkMath: ringkernel_codegen::math::Transcendental {
        fn rk_exp(self) -> Self {
            self.exp()
        }
        fn rk_exp2(self) -> Self {
            self.exp2()
        }
        fn rk_exp_m1(self) -> Self {
            self.exp_m1()
        }
        fn rk_ln(self) -> Self {
            self.ln()
        }
        fn rk_log2(self) -> Self {
            self.log2()
        }
        fn rk_log10(self) -> Self {
            self.log10()
        }
        fn rk_ln_1p(self) -> Self {
            self.ln_1p()
        }
        fn rk_sin(self) -> Self {
            self.sin()
        }
        fn rk_cos(self) -> Self {
            self.cos()
        }
        fn rk_tan(self) -> Self {
            self.tan()
        }
        fn rk_asin(self) -> Self {
            self.asin()
        }
        fn rk_acos(self) -> Self {
            self.acos()
        }
        fn rk_atan(self) -> Self {
            self.atan()
        }
        fn rk_sinh(self) -> Self {
            self.sinh()
        }
        fn rk_cosh(self) -> Self {
            self.cosh()
        }
        fn rk_tanh(self) -> Self {
            self.tanh()
        }
        fn rk_asinh(self) -> Self {
            self.asinh()
        }
        fn rk_acosh(self) -> Self {
            self.acosh()
        }
        fn rk_atanh(self) -> Self {
            self.atanh()
        }
        fn rk_cbrt(self) -> Self {
            self.cbrt()
        }
        fn rk_log(self, base: Self) -> Self {
            self.log(base)
        }
        fn rk_atan2(self, other: Self) -> Self {
            self.atan2(other)
        }
        fn rk_hypot(self, other: Self) -> Self {
            self.hypot(other)
        }
        fn rk_powf(self, other: Self) -> Self {
            self.powf(other)
        }
        fn rk_sin_cos(self) -> (Self, Self) {
            self.sin_cos()
        }
    }

    impl RkMath for f32 {}
    impl RkMath for f64 {}

    macro_rules! twins {
        ($($name:ident),*) => {$(
            pub mod $name {
                #[allow(unused_imports)]
                use super::RkMath;
                include!(concat!(env!("OUT_DIR"), "/native/", stringify!($name), ".rs"));
            }
        )*};
    }

    twins!(
        aggregate_assign,
        array_iter,
        consts,
        consts_items,
        float_methods,
        int_methods,
        labels,
        matches,
        math_f32,
        math_f64,
        transcendental_fast,
        tuples,
        tuple_values,
        arrays,
        bits,
        clamp_pow,
        blocks,
        bool_logic,
        casts,
        compound_assign,
        control_if,
        counter,
        device_calls,
        enums,
        f64_math,
        float_math,
        inclusive_range,
        int_arith,
        intrinsics,
        loops,
        minmax,
        narrow_ints,
        nested_structs,
        rules,
        short_circuit,
        stateless_scalar,
        transcendental,
        wide_ints
    );
}
