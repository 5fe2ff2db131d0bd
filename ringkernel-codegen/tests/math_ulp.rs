//! The math library's accuracy on a CI-sized sample (the full sweep is
//! `cargo bench -p ringkernel-codegen --bench math_ulp`): every function, f64 and f32,
//! within its documented bound of the correctly rounded result, and the same special
//! values as Rust's standard library.

#[path = "common/ulp.rs"]
mod ulp;

/// The bound every function is held to, f64 and f32, in ulps of the correctly rounded result.
const BOUND_ULPS: f64 = 1.0;

#[test]
fn every_function_is_within_its_bound_and_agrees_with_std_on_special_values() {
    let samples: usize =
        std::env::var("RINGKERNEL_ULP_SAMPLES").ok().and_then(|s| s.parse().ok()).unwrap_or(3000);
    let mut cc = astro_float::Consts::new().expect("astro-float constants");
    let mut failures = Vec::new();
    for case in ulp::cases() {
        let inputs = ulp::inputs(&case, samples, 7);
        let report = ulp::sweep(&case, &inputs, &mut cc);
        println!(
            "{:>7}: {:>6} measured, max {:.3} ulp (f64, at {:e} {:e}), {:.3} ulp (f32, at {:e} {:e})",
            case.name,
            report.measured,
            report.worst64.ulps,
            report.worst64.x,
            report.worst64.y,
            report.worst32.ulps,
            report.worst32.x,
            report.worst32.y
        );
        // A NaN error (a NaN where a number was due) fails too.
        let within = |ulps: f64| ulps <= BOUND_ULPS;
        if !(within(report.worst64.ulps) && within(report.worst32.ulps)) {
            failures.push(format!("{}: {:?} {:?}", case.name, report.worst64, report.worst32));
        }
        failures.extend(report.special_mismatches);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
