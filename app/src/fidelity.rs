//! `migralab fidelity`: the simulator checked against real QEMU. Each case of a grid runs on
//! the lab in a box (several times) and in the simulator with the same parameters; the table
//! gives the real median, the simulated value and the relative error, and the summary the
//! median and worst errors over the cases the calibration was not fitted on.

pub mod calibration;
pub mod grid;
pub mod measure;
pub mod report;

use calibration::Calibration;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// `migralab fidelity --help`.
pub const FIDELITY_LONG_ABOUT: &str = "\
Prove the simulator against real QEMU: run the same migrations on the lab in a box and in the \
simulator and compare total time, bytes transferred, iterations, downtime and the ping gap.

The grid covers guest RAM (256, 512 MiB), what the guest writes (idle and three rates, one \
faster than the slower caps), --bandwidth 10/20/40 MiB/s, downtime limits 100/300 ms and \
auto-converge. Each case runs --reps times for real (median and spread reported) and once in \
the simulator (it is deterministic). A few cases (idle guests, and one writer throttled by \
auto-converge) calibrate the constants the simulator cannot know about this machine (setup \
time, copy rate without a cap, resume and announce delay, how much RAM a booted guest has \
written, how fast its writer copies); they are fitted with --calibrate, \
stored in assets/calibration/labbox.toml, and not counted in the error.

Needs root and the lab in a box's packages (see `migralab labbox --help`); the lab is brought \
up if it is not, and left up with --keep-lab.

Examples:
  migralab fidelity --quick                    # the CI subset, one real run per case
  migralab fidelity --calibrate --reps 3       # fit the constants, then report on the rest
  migralab fidelity --json --out fidelity.json

Exit codes: 0 done (and under --fail-above), 1 the median bytes error is above --fail-above, \
2 the lab or a case could not run.";

/// Options of `migralab fidelity`.
#[derive(Debug, Args)]
pub struct FidelityArgs {
    /// Only the CI subset (the calibration cases and three others)
    #[arg(long)]
    quick: bool,
    /// Real runs per case [default: 3, or 1 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=20))]
    reps: Option<u64>,
    /// Fit the calibration constants on the calibration cases and write them (to --calibration)
    #[arg(long)]
    calibrate: bool,
    /// The calibration file to use (and write with --calibrate) [default: the shipped one]
    #[arg(long, value_name = "FILE")]
    calibration: Option<PathBuf>,
    /// Only cases whose name contains TEXT (may repeat)
    #[arg(long = "case", value_name = "TEXT")]
    cases: Vec<String>,
    /// Exit 1 when the median relative error on bytes is above this fraction (0.10 = 10 %)
    #[arg(long, value_name = "FRACTION")]
    fail_above: Option<f64>,
    /// Print the report as JSON (a `cases` list and a `summary` object)
    #[arg(long)]
    json: bool,
    /// Also write the JSON report to FILE
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Leave the lab in a box up afterwards
    #[arg(long)]
    keep_lab: bool,
}

/// A validated `migralab fidelity`.
// Without real mode the options are still checked, then `run` says how to get real mode.
#[cfg_attr(not(feature = "real"), allow(dead_code))]
#[derive(Debug)]
pub struct FidelityConfig {
    cases: Vec<grid::Case>,
    reps: usize,
    calibrate: bool,
    calibration_path: Option<PathBuf>,
    calibration: Calibration,
    fail_above: Option<f64>,
    json: bool,
    out: Option<PathBuf>,
    keep_lab: bool,
}

impl FidelityConfig {
    /// Check the options and read the calibration.
    pub fn from_args(a: FidelityArgs) -> anyhow::Result<FidelityConfig> {
        let mut cases = if a.quick { grid::quick() } else { grid::full() };
        if !a.cases.is_empty() {
            cases.retain(|c| c.calibration || a.cases.iter().any(|t| c.name.contains(t.as_str())));
        }
        // Cases with the same guest run together: a new guest is a reboot.
        cases.sort_by_key(|c| (!c.calibration, c.guest()));
        let calibration = match &a.calibration {
            Some(p) if p.exists() || !a.calibrate => Calibration::load(p)?,
            _ => Calibration::shipped()?,
        };
        if let Some(f) = a.fail_above {
            anyhow::ensure!(
                f > 0.0,
                "--fail-above must be a positive fraction, e.g. 0.10"
            );
        }
        Ok(FidelityConfig {
            cases,
            reps: a.reps.unwrap_or(if a.quick { 1 } else { 3 }) as usize,
            calibrate: a.calibrate,
            calibration_path: a.calibration,
            calibration,
            fail_above: a.fail_above,
            json: a.json,
            out: a.out,
            keep_lab: a.keep_lab,
        })
    }
}

/// Run `migralab fidelity`.
pub fn run(c: FidelityConfig) -> anyhow::Result<ExitCode> {
    #[cfg(not(feature = "real"))]
    {
        let _ = c;
        anyhow::bail!("{}", migralab_real::REAL_MODE_MISSING)
    }
    #[cfg(feature = "real")]
    {
        run_real(c)
    }
}

#[cfg(feature = "real")]
fn run_real(c: FidelityConfig) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    use measure::{Measurement, RealBench, simulate};
    let t0 = std::time::Instant::now();
    let mut log = |m: &str| eprintln!("[{:6.1} s] {m}", t0.elapsed().as_secs_f64());
    let mut bench = RealBench::up(&mut log)?;
    let mut measured: Vec<(grid::Case, Vec<Measurement>)> = Vec::new();
    let total = c.cases.len();
    let outcome = (|| -> anyhow::Result<()> {
        for (i, case) in c.cases.iter().enumerate() {
            let mut runs = Vec::new();
            for rep in 0..c.reps {
                let m = bench.measure(case)?;
                eprintln!(
                    "[{:6.1} s] {}/{total} {} run {}: {} {:.2} s, {:.1} MiB, {} passes, downtime {:.0} ms",
                    t0.elapsed().as_secs_f64(),
                    i + 1,
                    case.name,
                    rep + 1,
                    m.status,
                    m.total_ms / 1000.0,
                    m.bytes / 1_048_576.0,
                    m.iterations,
                    m.downtime_ms
                );
                runs.push(m);
            }
            measured.push((case.clone(), runs));
        }
        Ok(())
    })();
    if !c.keep_lab {
        bench.down(&mut log)?;
    }
    outcome?;

    let mut cal = c.calibration.clone();
    if c.calibrate {
        let medians: Vec<(grid::Case, Measurement)> = measured
            .iter()
            .filter(|(k, _)| k.calibration)
            .filter_map(|(k, runs)| {
                report::CaseResult::new(k.clone(), runs.clone(), runs[0].clone())
                    .real_median
                    .map(|m| (k.clone(), m))
            })
            .collect();
        let pairs: Vec<(&grid::Case, &Measurement)> = medians.iter().map(|(k, m)| (k, m)).collect();
        cal = Calibration::fit(&cal, &pairs);
        let path = c
            .calibration_path
            .clone()
            .unwrap_or_else(calibration::default_path);
        cal.save(&path)?;
        eprintln!("wrote the calibration to {}", path.display());
    }
    let cases = measured
        .into_iter()
        .map(|(case, runs)| {
            let sim = simulate(&case, &cal)?;
            Ok(report::CaseResult::new(case, runs, sim))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let report = report::Report {
        summary: report::Summary::of(&cases),
        cases,
        calibration: cal,
        repetitions: c.reps,
    };
    let json = serde_json::to_string_pretty(&report).context("cannot write the report as JSON")?;
    if let Some(path) = &c.out {
        crate::fsutil::write_atomically(path, json.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    let text = if c.json {
        json + "\n"
    } else {
        report.to_string()
    };
    crate::cli::write_stdout(text.as_bytes()).context("cannot write to standard output")?;
    let too_far = matches!(
        (c.fail_above, report.summary.median_error_bytes),
        (Some(limit), Some(e)) if e > limit
    );
    Ok(ExitCode::from(if too_far { 1 } else { 0 }))
}
