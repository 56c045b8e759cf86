//! `migralab report`: read a saved trace and write the lab report, figures and data files asked for.

use super::LangArg;
use crate::export::csv_json;
use crate::export::figures::{self, Figure};
use crate::export::html::{self, LabReport, ReportRun};
use crate::sessions::series::RunSeries;
use crate::storage::{Limit, check_distinct, check_output, write_atomically};
use anyhow::{Context as _, bail};
use clap::Args;
use migralab_real::fsutil;
use migralab_sim_core::lang::Lang;
use migralab_sim_core::text::Text;
use migralab_sim_core::{Scenario, Trace};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Size of the PNG figures, pixels: sharp enough for a printed report.
const PNG_SIZE: (u32, u32) = (1200, 600);

/// `migralab report --help`.
pub const REPORT_LONG_ABOUT: &str = "\
Turn a saved run into a lab report, figures and data files.

TRACE is a run saved with `migralab sim SCENARIO --json --out TRACE` (a plain trace works too). \
Name at least one output:

  --html FILE   the lab report to hand in: one self-contained HTML page
  --png DIR     the figures as PNG images: DIR/memory.png, rates.png, ping.png, disk.png
  --svg DIR     the same figures as SVG (for slides or LaTeX)
  --csv FILE    the job statistics every 100 ms, as `migralab sim --csv` prints them
  --json FILE   the trace itself

The report shows the scenario and its TOML, the virsh commands, a results table (outcome, total \
time, downtime, data sent, iterations, lost pings) and the four figures; it needs no network and \
prints well.

The figures: memory remaining (a dashed line at each pre-copy iteration), send rate against \
the guest's dirty rate (pre-copy converges only while the first stays above the second), ping \
round-trip times with lost probes and the downtime shaded, and disk copy progress.

Examples:
  migralab sim exp1-no-shared-storage --json --out run.json
  migralab report run.json --html report.html --student Ana
      The lab report of Experiment 1, in Bahasa Indonesia.
  migralab report run.json --png figures --lang en
      figures/memory.png, figures/rates.png, figures/ping.png, figures/disk.png in English.

Exit codes:
  0  every file was written
  2  bad input (unreadable or invalid trace, no output named) or a file could not be written";

/// `migralab report` arguments.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run saved by `migralab sim --json --out FILE`, or a plain trace
    #[arg(value_name = "TRACE.json")]
    trace: PathBuf,

    /// Write the self-contained HTML lab report to FILE
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,

    /// Write the figures as PNG to DIR (memory.png, rates.png, ping.png, disk.png)
    #[arg(long, value_name = "DIR")]
    png: Option<PathBuf>,

    /// Write the figures as SVG to DIR (memory.svg, rates.svg, ping.svg, disk.svg)
    #[arg(long, value_name = "DIR")]
    svg: Option<PathBuf>,

    /// Write the progress samples as CSV to FILE
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,

    /// Write the trace as JSON to FILE
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,

    /// Language of the report and the figures' labels
    #[arg(long, value_enum, default_value = "id")]
    lang: LangArg,

    /// Title of the HTML report [default: the scenario's name]
    #[arg(long, value_name = "TEXT")]
    title: Option<String>,

    /// Student's name, shown under the title of the HTML report
    #[arg(long, value_name = "NAME")]
    student: Option<String>,
}

/// A validated `migralab report`: the trace is read and parsed, and something is to be written.
#[derive(Debug)]
pub struct ReportConfig {
    trace: Trace,
    /// The trace's file, named in messages.
    source: PathBuf,
    html: Option<PathBuf>,
    png: Option<PathBuf>,
    svg: Option<PathBuf>,
    csv: Option<PathBuf>,
    json: Option<PathBuf>,
    lang: Lang,
    title: Option<String>,
    student: Option<String>,
}

impl ReportConfig {
    /// Check that an output is named and read the trace.
    pub fn from_args(args: ReportArgs) -> anyhow::Result<ReportConfig> {
        if args.html.is_none()
            && args.png.is_none()
            && args.svg.is_none()
            && args.csv.is_none()
            && args.json.is_none()
        {
            bail!(
                "nothing to write: name at least one output (--html FILE, --png DIR, --svg DIR, \
                 --csv FILE or --json FILE); see `migralab report --help`"
            );
        }
        // Every file this run would write, checked before anything is: a directory named as a
        // file, an output that is the trace itself, two outputs that are one file.
        let mut outputs: Vec<(&str, PathBuf)> = Vec::new();
        for (flag, path) in [
            ("--html", &args.html),
            ("--csv", &args.csv),
            ("--json", &args.json),
        ] {
            if let Some(p) = path {
                check_output(flag, p)?;
                outputs.push((flag, p.clone()));
            }
        }
        for (flag, dir, ext) in [("--png", &args.png, "png"), ("--svg", &args.svg, "svg")] {
            if let Some(dir) = dir {
                for fig in Figure::all() {
                    let path = dir.join(format!("{}.{ext}", fig.file_stem()));
                    check_output(flag, &path)?;
                    outputs.push((flag, path));
                }
            }
        }
        let outputs: Vec<(&str, &Path)> = outputs.iter().map(|(f, p)| (*f, p.as_path())).collect();
        check_distinct(&[("the trace", &args.trace)], &outputs)?;
        let text = fsutil::read_text_bounded(&args.trace, Limit::TRACE).map_err(|e| {
            anyhow::anyhow!(
                "cannot read the trace {}: {}",
                args.trace.display(),
                e.reason()
            )
        })?;
        let trace = csv_json::parse_trace(&text).with_context(|| {
            format!(
                "{} is not a migralab trace (save one with `migralab sim --json --out FILE`)",
                args.trace.display()
            )
        })?;
        Ok(ReportConfig {
            trace,
            source: args.trace,
            html: args.html,
            png: args.png,
            svg: args.svg,
            csv: args.csv,
            json: args.json,
            lang: args.lang.into(),
            title: args.title,
            student: args.student,
        })
    }
}

/// Write every output asked for, saying `wrote PATH` for each on standard error.
pub fn run(config: ReportConfig) -> anyhow::Result<ExitCode> {
    let trace = &config.trace;
    let lang = config.lang;
    if let Some(path) = &config.html {
        let report = lab_report(&config);
        let text = html::render(&report)
            .with_context(|| format!("cannot make the report of {}", config.source.display()))?;
        write(path, text.as_bytes())?;
    }
    let series = RunSeries::of_trace(trace);
    let runs: Vec<(&str, &RunSeries)> = series.iter().map(|s| (s.vm.as_str(), s)).collect();
    if let Some(dir) = &config.png {
        create_dir(dir, "--png")?;
        for fig in Figure::all() {
            let path = dir.join(format!("{}.png", fig.file_stem()));
            let bytes = figures::png(fig, &runs, lang, PNG_SIZE)
                .with_context(|| format!("cannot make {}", path.display()))?;
            write(&path, &bytes)?;
        }
    }
    if let Some(dir) = &config.svg {
        create_dir(dir, "--svg")?;
        for fig in Figure::all() {
            let path = dir.join(format!("{}.svg", fig.file_stem()));
            let text = figures::svg(fig, &runs, lang)
                .with_context(|| format!("cannot make {}", path.display()))?;
            write(&path, text.as_bytes())?;
        }
    }
    if let Some(path) = &config.csv {
        write(path, csv_json::csv(trace).as_bytes())?;
    }
    if let Some(path) = &config.json {
        write(path, csv_json::json(trace)?.as_bytes())?;
    }
    Ok(ExitCode::SUCCESS)
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_atomically(path, bytes)?;
    eprintln!("wrote {}", super::shown_path(path));
    Ok(())
}

/// A figures folder is made if missing, like `mkdir -p`; a file in the way is an error.
fn create_dir(dir: &Path, flag: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{flag} {}: cannot create the folder", dir.display()))
}

/// The report of one saved run: the scenario comes from the trace itself.
fn lab_report(config: &ReportConfig) -> LabReport<'_> {
    let trace = &config.trace;
    let scenario: Option<Scenario> = serde_json::from_value(trace.scenario.clone()).ok();
    let scenario_name = scenario
        .as_ref()
        .map(|s| s.name.clone())
        .or_else(|| trace.scenario.get("name")?.as_str().map(str::to_string))
        .unwrap_or_else(|| config.source.display().to_string());
    // The resolved scenario as a student would write it; JSON if it cannot be TOML (a hand-made
    // trace), so that it is still shown.
    let scenario_toml = scenario
        .as_ref()
        .and_then(|s| toml::to_string(s).ok())
        .or_else(|| toml::to_string(&trace.scenario).ok())
        .or_else(|| serde_json::to_string_pretty(&trace.scenario).ok())
        .unwrap_or_default();
    let commands = scenario
        .as_ref()
        .map(|s| s.migrations.iter().map(|m| m.virsh_command()).collect())
        .unwrap_or_default();
    let title = config.title.clone().unwrap_or_else(|| {
        format!(
            "{}: {scenario_name}",
            Text::of(
                "Laporan praktikum live migration",
                "Live migration lab report"
            )
            .in_lang(config.lang)
        )
    });
    LabReport {
        lang: config.lang,
        title,
        student: config.student.clone(),
        scenario_name: scenario_name.clone(),
        scenario_toml,
        commands,
        observations: Vec::new(),
        runs: vec![ReportRun {
            label: scenario_name,
            trace,
        }],
    }
}
