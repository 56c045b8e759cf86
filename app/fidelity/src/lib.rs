//! # migralab fidelity
//!
//! The harness behind `migralab fidelity`: the simulator checked against real QEMU. Each case
//! of a grid runs on the lab in a box (several times) and in the simulator with the same
//! parameters; the table gives the real median, the simulated value and the relative error,
//! and the summary the median and worst errors over the cases the calibration was not fitted
//! on.
//!
//! A research tool, not part of what students use: the app only parses the command line
//! ([`FidelityArgs`]) and prints what [`run`] returns.

#![warn(missing_docs)]

pub mod calibration;
pub mod grid;
pub mod measure;
pub mod report;
pub mod runs;
pub mod twin_runs;

use calibration::Calibration;
use clap::Args;
use std::path::PathBuf;

/// `migralab fidelity --help`.
pub const LONG_ABOUT: &str = "\
Prove the simulator against real QEMU: run the same migrations on the lab in a box and in the \
simulator and compare total time, bytes transferred, iterations, downtime and the ping gap.

The grid covers guest RAM (256, 512 MiB), what the guest writes (idle and three rates, one \
faster than every cap), --bandwidth 10/20/40 MiB/s, downtime limits 100/300 ms and \
auto-converge; every validation case runs with --timeout 20 (suspend), so a guest that cannot \
converge is compared on the same bounded run. Each case runs --reps times for real (median and \
spread reported) and 401 times in the simulator, each run with its own seed for where the \
guest's writer is in its cycle when the migration starts (median and spread reported; the same \
seeds give the same answer every time; the count is chosen by a rule on the simulator's runs \
alone, see --twin-runs). A few calibration cases (idle \
guests, a writer throttled by auto-converge, a slow writer at a tight limit) fit the constants \
the simulator cannot know about this machine; they are fitted with --calibrate, stored in \
assets/calibration/labbox.toml, and not counted in the error; --check-calibration checks that \
the shipped constants are what the fit gives.

--held-out runs (or with --replay compares) the held-out set instead: twelve cases off the grid \
(RAM 128 to 1024 MiB, other working sets, rates and caps, post-copy, --copy-storage-all), each \
predicted only from what a user would set on the shipped labbox scenario, without a memory dump \
or the calibration file; its runs are in assets/calibration/labbox-heldout-runs.jsonl.

--record FILE keeps every real run as it ends (and continues an interrupted grid); --replay FILE \
compares the simulator with recorded runs without the lab (no root): the runs behind the \
README's table are in assets/calibration/labbox-runs.jsonl.

Needs root and the lab in a box's packages (see `migralab labbox --help`) unless --replay or \
--dry-run; the lab is brought up if it is not, and left up with --keep-lab.

Examples:
  migralab fidelity --dry-run                   # the plan, the simulator's answers, the lab time
  migralab fidelity --quick                     # the CI subset, one real run per case
  migralab fidelity --record runs.jsonl --calibrate   # the whole grid (~1 h), fit, report
  migralab fidelity --replay assets/calibration/labbox-runs.jsonl --json

Exit codes: 0 done (and under --fail-above), 1 the median bytes error is above --fail-above (or \
a validation case could not be compared under it; or --check-calibration found a constant the \
fit would change), 2 the lab or a case could not run.";

/// Options of `migralab fidelity`.
#[derive(Debug, Args)]
pub struct FidelityArgs {
    /// Only the CI subset (the calibration cases and three others)
    #[arg(long)]
    quick: bool,
    /// The held-out set instead of the grid: cases off the grid (other RAM sizes, working sets,
    /// rates, caps; post-copy; --copy-storage-all), predicted only from what a user would set
    /// on the shipped labbox scenario (no memory dump, no calibration file)
    #[arg(long, conflicts_with_all = ["quick", "calibrate", "check_calibration", "calibration"])]
    held_out: bool,
    /// Real runs per case [default: 3, or 1 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=20))]
    reps: Option<u64>,
    /// Fit the calibration constants on the calibration cases and write them (to --calibration)
    #[arg(long)]
    calibrate: bool,
    /// Check that the calibration is what the fit gives for these runs (one more round of
    /// the fit from its constants, each search over the steps next to its value; exit 1 when
    /// a constant would change), instead of comparing
    #[arg(long, conflicts_with_all = ["calibrate", "dry_run"])]
    check_calibration: bool,
    /// The calibration file to use (and write with --calibrate) [default: the shipped one]
    #[arg(long, value_name = "FILE")]
    calibration: Option<PathBuf>,
    /// Only cases whose name contains TEXT (may repeat; with --calibrate the calibration cases
    /// run too, as the fit needs them)
    #[arg(long = "case", value_name = "TEXT")]
    cases: Vec<String>,
    /// Exit 1 when the median relative error on bytes is above this fraction (0.10 = 10 %), or
    /// when a validation case could not be compared
    #[arg(long, value_name = "FRACTION")]
    fail_above: Option<f64>,
    /// Print the report as JSON (a `cases` list and a `summary` object)
    #[arg(long)]
    json: bool,
    /// Print only the summary, as the README's Markdown table (with --held-out: the held-out
    /// set's table, case by case, as the book publishes it)
    #[arg(long, conflicts_with_all = ["json", "dry_run"])]
    markdown: bool,
    /// Simulator runs per case [default: the number the notebook's rule chose]; the
    /// report says how settled the twin's medians are at each number of runs
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=10_001))]
    twin_runs: Option<u64>,
    /// Also write the JSON report to FILE
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Leave the lab in a box up afterwards
    #[arg(long)]
    keep_lab: bool,
    /// Keep every real run in FILE (one JSON line each, written as it ends); cases FILE already
    /// holds enough runs of are not run again, so an interrupted grid continues where it stopped
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    record: Option<PathBuf>,
    /// Compare with the real runs recorded in FILE instead of running the lab (no root needed)
    #[arg(long, value_name = "FILE", conflicts_with = "keep_lab")]
    replay: Option<PathBuf>,
    /// Only list the cases with the simulator's prediction and how long the lab would take
    #[arg(long, conflicts_with_all = ["replay", "record", "calibrate"])]
    dry_run: bool,
}

/// A validated `migralab fidelity`.
// Without real mode the options are still checked, then `run` says how to get real mode.
#[cfg_attr(not(feature = "real"), allow(dead_code))]
#[derive(Debug)]
pub struct FidelityConfig {
    cases: Vec<grid::Case>,
    held_out: bool,
    reps: usize,
    calibrate: bool,
    check_calibration: bool,
    calibration_path: Option<PathBuf>,
    calibration: Calibration,
    fail_above: Option<f64>,
    json: bool,
    markdown: bool,
    twin_runs: u64,
    out: Option<PathBuf>,
    keep_lab: bool,
    record: Option<PathBuf>,
    replay: Option<PathBuf>,
    dry_run: bool,
}

impl FidelityConfig {
    /// Check the options and read the calibration.
    pub fn from_args(a: FidelityArgs) -> anyhow::Result<FidelityConfig> {
        let mut cases = if a.held_out {
            grid::held_out()
        } else if a.quick {
            grid::quick()
        } else {
            grid::full()
        };
        if !a.cases.is_empty() {
            // Without --calibrate a calibration case's real run is only reported, never used.
            cases.retain(|c| {
                ((a.calibrate || a.check_calibration) && c.calibration)
                    || a.cases.iter().any(|t| c.name.contains(t.as_str()))
            });
        }
        // Cases with the same guest run together: a new guest is a reboot; the disk cases
        // (another storage layout) after the others.
        cases.sort_by_key(|c| (!c.calibration, c.copy_storage, c.guest()));
        // Before an hour of runs: a report written over the recording or the calibration
        // would lose it.
        if let Some(out) = &a.out {
            migralab_real::fsutil::check_output(out)?;
        }
        let mut outputs: Vec<(&str, &std::path::Path)> = Vec::new();
        let mut inputs: Vec<(&str, &std::path::Path)> = Vec::new();
        outputs.extend(a.out.as_deref().map(|p| ("--out", p)));
        outputs.extend(a.record.as_deref().map(|p| ("--record", p)));
        inputs.extend(a.replay.as_deref().map(|p| ("--replay", p)));
        if let Some(c) = a.calibration.as_deref() {
            if a.calibrate {
                outputs.push(("--calibration", c));
            } else {
                inputs.push(("--calibration", c));
            }
        }
        migralab_real::fsutil::check_distinct(&inputs, &outputs)?;
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
            held_out: a.held_out,
            reps: a.reps.unwrap_or(if a.quick { 1 } else { 3 }) as usize,
            calibrate: a.calibrate,
            check_calibration: a.check_calibration,
            calibration_path: a.calibration,
            calibration,
            fail_above: a.fail_above,
            json: a.json,
            markdown: a.markdown,
            twin_runs: a.twin_runs.unwrap_or(measure::TWIN_RUNS),
            out: a.out,
            keep_lab: a.keep_lab,
            record: a.record,
            replay: a.replay,
            dry_run: a.dry_run,
        })
    }
}

/// What a run gives the command line.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The table or the JSON report, for standard output.
    pub stdout: String,
    /// The median error on bytes is above `--fail-above`, or a validation case could not be
    /// compared under it, or `--check-calibration` found a constant the fit would change (the
    /// command exits 1).
    pub above_limit: bool,
    /// The comparison, when there was one (what the text, the JSON and the Markdown are
    /// made of).
    pub report: Option<report::Report>,
}

/// Run `migralab fidelity`. Progress goes to standard error as it happens; the result is
/// returned so the caller decides where it goes.
pub fn run(c: FidelityConfig) -> anyhow::Result<Outcome> {
    if c.dry_run {
        return dry_run(&c);
    }
    let measured = match &c.replay {
        Some(path) => {
            let recorded = runs::load(path)?;
            let measured = runs::by_case(&c.cases, &recorded);
            anyhow::ensure!(
                !measured.is_empty(),
                "{} holds no runs of the cases asked for",
                path.display()
            );
            measured
        }
        None => measure_real(&c)?,
    };
    compare(&c, measured)
}

/// `--dry-run`: the cases, what the simulator predicts for each, and the lab time it adds up to.
fn dry_run(c: &FidelityConfig) -> anyhow::Result<Outcome> {
    let mut text = format!(
        "{:<32} {:>8} {:>8} {:>5} {:>6}\n",
        "case", "sim s", "MiB", "iter", "down"
    );
    let mut lab_s = 0.0;
    let mut json = Vec::new();
    for case in &c.cases {
        // The prediction is what the comparison uses (the median of the twin's runs); the
        // syncs shown are those of one of them.
        let m = measure::simulate_median(case, &c.calibration, c.twin_runs)?;
        let (_, syncs) = measure::simulate_with_syncs(case, &c.calibration)?;
        if c.json {
            json.push(serde_json::json!({ "case": case, "sim": m, "syncs": syncs }));
        }
        // Each real run also brings the guest back (uncapped) and waits a little between runs.
        lab_s += (m.total_ms / 1000.0 + 3.0) * c.reps as f64;
        text += &format!(
            "{:<32} {:>8.2} {:>8.1} {:>5} {:>6.0}{}\n",
            case.name,
            m.total_ms / 1000.0,
            m.bytes / 1_048_576.0,
            m.iterations,
            m.downtime_ms,
            if m.completed() {
                String::new()
            } else {
                format!("  {}", m.status)
            }
        );
    }
    text += &format!(
        "{} cases, {} real run(s) each: about {:.0} minutes on the lab in a box\n",
        c.cases.len(),
        c.reps,
        lab_s / 60.0
    );
    if c.json {
        text = serde_json::to_string_pretty(&json)? + "\n";
    }
    Ok(Outcome {
        stdout: text,
        above_limit: false,
        report: None,
    })
}

/// Run every case that still needs runs on the lab in a box (recording them as they end).
fn measure_real(c: &FidelityConfig) -> anyhow::Result<Vec<(grid::Case, Vec<runs::RecordedRun>)>> {
    #[cfg(not(feature = "real"))]
    {
        let _ = c;
        anyhow::bail!("{}", migralab_real::REAL_MODE_MISSING)
    }
    #[cfg(feature = "real")]
    {
        measure_real_lab(c)
    }
}

#[cfg(feature = "real")]
fn measure_real_lab(
    c: &FidelityConfig,
) -> anyhow::Result<Vec<(grid::Case, Vec<runs::RecordedRun>)>> {
    use measure::RealBench;
    let t0 = std::time::Instant::now();
    let mut log = |m: &str| eprintln!("[{:6.1} s] {m}", t0.elapsed().as_secs_f64());
    let before = match &c.record {
        Some(p) if p.exists() => runs::load(p)?,
        _ => Vec::new(),
    };
    let mut recorder = c.record.as_deref().map(runs::Recorder::open).transpose()?;
    let mut measured: Vec<(grid::Case, Vec<runs::RecordedRun>)> = c
        .cases
        .iter()
        .map(|k| {
            let mut have: Vec<runs::RecordedRun> = before
                .iter()
                .filter(|r| r.case == k.name)
                .cloned()
                .collect();
            have.truncate(c.reps);
            (k.clone(), have)
        })
        .collect();
    let todo: usize = measured.iter().map(|(_, h)| c.reps - h.len()).sum();
    if todo == 0 {
        log("every case is already recorded; nothing to run");
        return Ok(measured);
    }
    if !before.is_empty() {
        log(&format!("continuing the recording: {todo} run(s) to go"));
    }
    let mut bench = RealBench::up(&mut log)?;
    let total = measured.len();
    let outcome = (|| -> anyhow::Result<()> {
        for (i, (case, have)) in measured.iter_mut().enumerate() {
            for rep in have.len()..c.reps {
                let (m, syncs, guest_memory) = bench.measure(case)?;
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
                let run = runs::RecordedRun {
                    case: case.name.clone(),
                    rep: rep + 1,
                    at_unix_s: unix_now(),
                    measurement: m,
                    syncs,
                    guest_memory,
                };
                if let Some(r) = recorder.as_mut() {
                    r.record(&run)?;
                }
                have.push(run);
            }
        }
        Ok(())
    })();
    if !c.keep_lab {
        bench.down(&mut log)?;
    }
    outcome?;
    Ok(measured)
}

/// What the fit needs of each calibration case's real runs.
fn fit_inputs(measured: &[(grid::Case, Vec<runs::RecordedRun>)]) -> Vec<calibration::FitInput> {
    use measure::Measurement;
    measured
        .iter()
        .filter(|(k, _)| k.calibration)
        .filter_map(|(k, runs)| {
            let ms: Vec<Measurement> = runs.iter().map(|r| r.measurement.clone()).collect();
            let median = report::median_of(&ms)?;
            // The dirty pages QEMU counted at the end of the first pass (its dirty rate
            // covers the pass when it lasted a second or more), over the pass's length at
            // the cap.
            let qemu_dirty: Vec<(f64, f64)> = match k.bandwidth_mibps {
                Some(cap) => runs
                    .iter()
                    .filter_map(|r| {
                        let s = r.syncs.iter().rev().find(|s| {
                            s.iteration >= 2 && s.dirty_rate_pps.is_some_and(|d| d > 0)
                        })?;
                        let secs = s.processed_bytes as f64 / (cap as f64 * 1_048_576.0);
                        Some((secs, s.dirty_rate_pps? as f64 * secs))
                    })
                    .collect(),
                None => Vec::new(),
            };
            let first_passes: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.syncs.iter().find(|s| s.iteration >= 2))
                .map(|s| s.processed_bytes as f64 / 1_048_576.0)
                .collect();
            Some(calibration::FitInput {
                case: k.clone(),
                median,
                runs: ms,
                qemu_dirty,
                first_pass_mib: calibration::median(&first_passes),
            })
        })
        .collect()
}

/// `--check-calibration`: whether `refit` (one more round of the fit) left `cal` as it was.
fn calibration_check(cal: &Calibration, refit: &Calibration) -> anyhow::Result<Outcome> {
    use anyhow::Context as _;
    let table = |c: &Calibration| -> anyhow::Result<toml::Table> {
        toml::Table::try_from(c).context("cannot write the calibration as TOML")
    };
    let (was, now) = (table(cal)?, table(refit)?);
    let keys: std::collections::BTreeSet<&String> = was.keys().chain(now.keys()).collect();
    let changed: Vec<String> = keys
        .into_iter()
        .filter(|k| was.get(*k) != now.get(*k))
        .map(|k| {
            let show = |v: Option<&toml::Value>| v.map_or("(none)".into(), ToString::to_string);
            format!(
                "  {k}: {} in the calibration, {} by the fit",
                show(was.get(k)),
                show(now.get(k))
            )
        })
        .collect();
    let stdout = if changed.is_empty() {
        format!(
            "the calibration is what the fit gives: {} constants, fitted on {}\n",
            was.len() - 1,
            cal.fitted_on.join(", ")
        )
    } else {
        format!(
            "the fit changes {} of the calibration's constants:\n{}\n",
            changed.len(),
            changed.join("\n")
        )
    };
    Ok(Outcome {
        stdout,
        above_limit: !changed.is_empty(),
        report: None,
    })
}

/// Fit (with `--calibrate`), simulate every case and print the comparison.
fn compare(
    c: &FidelityConfig,
    measured: Vec<(grid::Case, Vec<runs::RecordedRun>)>,
) -> anyhow::Result<Outcome> {
    use anyhow::Context as _;
    use measure::{Measurement, simulate_runs};
    // The guest's memory measured when it was booted for the case goes to the simulator too:
    // a dump with its per-MiB map if some run has one (a recording may hold only the totals),
    // of the layout most of the case's runs were measured on.
    let measured: Vec<(grid::Case, Vec<runs::RecordedRun>)> = measured
        .into_iter()
        .map(|(mut k, runs)| {
            let dumps = runs.iter().filter_map(|r| r.guest_memory.as_ref());
            k.memory = runs::most_common_layout(dumps.clone())
                .or_else(|| dumps.clone().next())
                .cloned();
            // A dump that did not look for the writer's files gets them from another dump of
            // the same guest, when its data lies in the same place.
            let guest = k.guest();
            if let Some(m) = k.memory.as_mut() {
                runs::fill_writer_files(m, guest, runs::WRITER_MAPS)?;
            }
            Ok((k, runs))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut cal = c.calibration.clone();
    if c.check_calibration {
        let refit = Calibration::fit_searching(
            &cal,
            &fit_inputs(&measured),
            calibration::FIT_RUNS,
            calibration::Search::Around,
        );
        return calibration_check(&cal, &refit);
    }
    if c.calibrate {
        let inputs = fit_inputs(&measured);
        cal = Calibration::fit(&cal, &inputs);
        let path = c
            .calibration_path
            .clone()
            .unwrap_or_else(calibration::default_path);
        cal.save(&path)?;
        eprintln!("wrote the calibration to {}", path.display());
    }
    let measured: Vec<(grid::Case, Vec<Measurement>)> = measured
        .into_iter()
        .map(|(k, r)| (k, r.into_iter().map(|r| r.measurement).collect()))
        .collect();
    let repetitions = measured.iter().map(|(_, r)| r.len()).max().unwrap_or(0);
    let cases = measured
        .into_iter()
        .map(|(case, runs)| {
            let sims = simulate_runs(&case, &cal, c.twin_runs)?;
            Ok(report::CaseResult::new(case, runs, sims))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let report = report::Report {
        summary: report::Summary::of(&cases),
        cases,
        calibration: cal,
        repetitions,
    };
    let json = serde_json::to_string_pretty(&report).context("cannot write the report as JSON")?;
    if let Some(path) = &c.out {
        migralab_real::fsutil::write_atomically(path, json.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    let text = if c.json {
        json + "\n"
    } else if c.markdown && c.held_out {
        report.held_out_table()
    } else if c.markdown {
        report.readme_table()
    } else {
        report.to_string()
    };
    // A case left out would make the median one over fewer cases than asked for.
    let above_limit = c.fail_above.is_some_and(|limit| {
        !report.summary.not_compared.is_empty()
            || report.summary.median_error_bytes.is_some_and(|e| e > limit)
    });
    Ok(Outcome {
        stdout: text,
        above_limit,
        report: Some(report),
    })
}

/// Seconds since the Unix epoch, when a real run ended (0 if the clock is before 1970).
#[cfg(feature = "real")]
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_gives_the_twins_number_of_runs() {
        let said = format!("{} times in the simulator", measure::TWIN_RUNS);
        assert!(LONG_ABOUT.contains(&said), "{said}");
    }
}
