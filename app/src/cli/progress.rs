//! `migralab progress export`: students' saved quiz results, as JSON or CSV, for the instructor.

use super::{EXIT_COMPLETED, write_stdout};
use crate::progress::{ProfileStore, export_csv, export_json, valid_name};
use crate::storage::{check_distinct, check_output, write_atomically};
use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// `migralab progress --help`.
pub const PROGRESS_LONG_ABOUT: &str = "\
Students' saved quiz results, for the instructor.

Each student's answers are saved when they take a quiz with `migralab quiz --student NAME`. \
The profiles live in the data directory (`~/.local/share/migralab/students/` on Linux; set \
MIGRALAB_DATA_DIR to use another folder).

Examples:
  migralab progress export --csv --out results.csv     every student, one row per answer
  migralab progress export --student Ana               Ana's profile as JSON";

/// `migralab progress` arguments.
#[derive(Debug, Args)]
pub struct ProgressArgs {
    #[command(subcommand)]
    action: ProgressAction,
}

#[derive(Debug, Subcommand)]
enum ProgressAction {
    /// Export one or every student's results as JSON (the default) or CSV.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// Only this student [default: every student]
    #[arg(long, value_name = "NAME")]
    student: Option<String>,

    /// Print JSON: every profile (the default)
    #[arg(long, conflicts_with = "csv")]
    json: bool,

    /// Print CSV: one row per quiz answer
    #[arg(long)]
    csv: bool,

    /// Write to FILE (atomically) instead of standard output
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// A validated `migralab progress` run.
#[derive(Debug)]
pub struct ProgressConfig {
    store: ProfileStore,
    student: Option<String>,
    csv: bool,
    out: Option<PathBuf>,
}

impl ProgressConfig {
    /// Validate the arguments and find the data directory.
    pub fn from_args(args: ProgressArgs) -> anyhow::Result<ProgressConfig> {
        let ProgressAction::Export(e) = args.action;
        // The one name rule; the trimmed name is the one looked up (` Ana ` is Ana).
        let student = e
            .student
            .as_deref()
            .map(|s| valid_name(s).map(str::to_owned))
            .transpose()?;
        let store = ProfileStore::open_default()?;
        if let Some(out) = &e.out {
            check_output("--out", out)?;
            // The export must not replace a profile it reads.
            let profiles = store.profile_paths()?;
            let inputs: Vec<(&str, &std::path::Path)> = profiles
                .iter()
                .map(|p| ("the profile", p.as_path()))
                .collect();
            check_distinct(&inputs, &[("--out", out)])?;
        }
        Ok(ProgressConfig {
            store,
            student,
            csv: e.csv,
            out: e.out,
        })
    }
}

/// Run `migralab progress export`.
pub fn run(config: ProgressConfig) -> anyhow::Result<ExitCode> {
    let (profiles, notices) = match &config.student {
        Some(name) => {
            if !config.store.path_of(name).exists() {
                bail!(
                    "no saved progress for `{name}` in {}",
                    config.store.dir().display()
                );
            }
            let loaded = config.store.load(name)?;
            (vec![loaded.value], loaded.notice.into_iter().collect())
        }
        None => config.store.load_all()?,
    };
    for n in notices {
        eprintln!("warning: {n}");
    }
    let text = if config.csv {
        export_csv(&profiles)
    } else {
        export_json(&profiles)?
    };
    match &config.out {
        Some(path) => {
            write_atomically(path, text.as_bytes())?;
            eprintln!("wrote {}", path.display());
        }
        None => write_stdout(text.as_bytes()).context("cannot write to standard output")?,
    }
    Ok(ExitCode::from(EXIT_COMPLETED))
}
