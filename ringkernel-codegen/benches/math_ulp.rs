//! The full accuracy sweep of the math library: 1 M inputs per function (override with
//! `RINGKERNEL_ULP_SAMPLES`), f64 and f32, printed as the table in BENCHMARKS.md.

#[path = "../tests/common/ulp.rs"]
mod ulp;

fn main() {
    let samples: usize = std::env::var("RINGKERNEL_ULP_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let mut cc = astro_float::Consts::new().expect("astro-float constants");
    println!(
        "| function | inputs measured | max error f64 (ulp) | at | max error f32 (ulp) | at |"
    );
    println!("|---|---|---|---|---|---|");
    for case in ulp::cases() {
        if only.as_deref().is_some_and(|o| o != case.name) {
            continue;
        }
        let inputs = ulp::inputs(&case, samples, 11);
        let r = ulp::sweep(&case, &inputs, &mut cc);
        println!(
            "| `{}` | {} | {:.3} | {:e}, {:e} | {:.3} | {:e}, {:e} |",
            case.name,
            r.measured,
            r.worst64.ulps,
            r.worst64.x,
            r.worst64.y,
            r.worst32.ulps,
            r.worst32.x,
            r.worst32.y
        );
        for m in r.special_mismatches.iter().take(5) {
            println!("  special value mismatch: {m}");
        }
    }
}
