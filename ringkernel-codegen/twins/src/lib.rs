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

    macro_rules! twins {
        ($($name:ident),*) => {$(
            pub mod $name {
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
