//! `migralab fidelity --quick` on the lab in a box: the simulator against real QEMU, as the
//! regression guard against losing fidelity (the median error on bytes transferred over the
//! validation cases must stay within 10 %). Only the quick subset's validation cases run: with
//! the shipped calibration (no --calibrate) the calibration cases' real runs count for nothing,
//! and leaving them out takes two minutes off CI. Needs root and the lab's packages, as CI has;
//! it fails with the reason otherwise (the lab refuses to come up and says why), never skips.
//! Built without the `real` feature it does not exist, and a test in `main.rs` fails in its place.

use super::{fidelity, machine_exclusive};

#[test]
fn the_quick_fidelity_run_stays_within_ten_percent_on_bytes() {
    let _machine = machine_exclusive();
    let validation: Vec<String> = migralab_fidelity::grid::quick()
        .into_iter()
        .filter(|c| !c.calibration)
        .map(|c| c.name)
        .collect();
    assert!(
        validation.len() >= 3,
        "the quick subset validates on three cases"
    );
    let mut args = vec!["--quick", "--json", "--fail-above", "0.10"];
    for name in &validation {
        args.extend(["--case", name.as_str()]);
    }
    let out = fidelity(&args);
    let (stdout, stderr) = (&out.stdout, &out.stderr);
    let report: serde_json::Value = serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("no JSON report ({e}):\n{stdout}\n{stderr}"));
    let summary = &report["summary"];
    eprintln!("{}", serde_json::to_string_pretty(summary).unwrap());
    for key in [
        "median_error_bytes",
        "median_error_total_time",
        "worst_error_bytes",
        "worst_error_total_time",
        "iterations_exact_share",
        "median_downtime_error_ms",
    ] {
        assert!(
            summary[key].is_number(),
            "summary.{key} is a number: {summary}"
        );
    }
    let cases = report["cases"].as_array().unwrap();
    assert_eq!(
        cases.len(),
        validation.len(),
        "every validation case is reported"
    );
    assert!(
        cases
            .iter()
            .all(|c| c["real"].as_array().is_some_and(|r| !r.is_empty())),
        "every case ran for real"
    );
    // Every validation case compared: a case whose real or simulated runs did not complete
    // is named, never left out of the median.
    assert_eq!(summary["not_compared"], serde_json::json!([]), "{summary}");
    assert_eq!(
        summary["cases_compared"].as_u64().unwrap(),
        validation.len() as u64
    );
    let bytes = summary["median_error_bytes"].as_f64().unwrap();
    assert!(
        bytes <= 0.10,
        "median error on bytes {bytes} > 10 %\n{stderr}"
    );
    assert!(out.success, "above --fail-above\n{stdout}");
}
