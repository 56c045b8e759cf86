//! `migralab progress export`: students' saved quiz results, as JSON or CSV, for the instructor;
//! `migralab progress import`: many PCs' exports merged into the instructor's class.

use super::{EXIT_COMPLETED, EXIT_NOT_COMPLETED, write_stdout, write_text};
use crate::class::files::{expand_inputs, read_progress_file};
use crate::class::store::ClassStore;
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

`progress import` merges exports from other PCs (files, or folders of *.json files) into the \
class (`class.json` in the data directory), per student and per answer: importing a file twice \
changes nothing. A student whose name differs from a class member's only by case or spaces, or \
whose file disagrees with the class about an answer, is not merged and is reported (exit 1).

Examples:
  migralab progress export --csv --out results.csv     every student, one row per answer
  migralab progress export --student Ana               Ana's profile as JSON
  migralab progress import pc01.json pc02.json         merge two PCs' exports into the class
  migralab progress import /media/usb/exports/         every *.json in the folder
  migralab progress report --html --out kelas.html     the class report (also --csv)

`progress report` gathers the class as the app's Instruktur tab shows it: this PC's students, \
the imported class and the class folder (`class_folder` in instructor.toml).";

/// `migralab progress --help`: exit codes.
pub const PROGRESS_AFTER_HELP: &str = "\
Exit codes:
  0  done (import: everything merged, or already in the class)
  1  import: some students were not merged (conflicts, listed on standard error)
  2  an error; an import that fails changes nothing";

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
    /// Merge exported progress files (or folders of them) into the class.
    Import(ImportArgs),
    /// The class report: this PC's students, the imported class and the class folder.
    Report(ReportArgs),
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// One row per student: mastery per objective, experiments, stuck on (the default)
    #[arg(long, conflicts_with = "html")]
    csv: bool,

    /// One self-contained HTML page with the chart and the heat map
    #[arg(long)]
    html: bool,

    /// Language of the HTML report
    #[arg(long, value_enum, default_value = "id")]
    lang: super::LangArg,

    /// Only students stuck somewhere
    #[arg(long)]
    only_stuck: bool,

    /// Write to FILE (atomically) instead of standard output
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ImportArgs {
    /// Exported files (`progress export`), or folders of *.json files
    #[arg(value_name = "FILE|DIR", required = true)]
    inputs: Vec<PathBuf>,
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
pub enum ProgressConfig {
    /// `progress export`.
    Export(ExportConfig),
    /// `progress import`.
    Import {
        /// The class to merge into.
        class: ClassStore,
        /// The files to read.
        inputs: Vec<PathBuf>,
    },
    /// `progress report`.
    Report {
        /// The data directory.
        data_dir: PathBuf,
        /// HTML (else CSV).
        html: bool,
        /// The report's language.
        lang: migralab_sim_core::lang::Lang,
        /// Only the stuck.
        only_stuck: bool,
        /// Where to write.
        out: Option<PathBuf>,
    },
}

/// A validated `migralab progress export`.
#[derive(Debug)]
pub struct ExportConfig {
    store: ProfileStore,
    student: Option<String>,
    csv: bool,
    out: Option<PathBuf>,
}

impl ProgressConfig {
    /// Validate the arguments and find the data directory.
    pub fn from_args(args: ProgressArgs) -> anyhow::Result<ProgressConfig> {
        let e = match args.action {
            ProgressAction::Export(e) => e,
            ProgressAction::Import(i) => {
                return Ok(ProgressConfig::Import {
                    class: ClassStore::new(&crate::storage::data_dir()?),
                    inputs: expand_inputs(&i.inputs)?,
                });
            }
            ProgressAction::Report(r) => {
                if let Some(out) = &r.out {
                    check_output("--out", out)?;
                }
                return Ok(ProgressConfig::Report {
                    data_dir: crate::storage::data_dir()?,
                    html: r.html,
                    lang: r.lang.into(),
                    only_stuck: r.only_stuck,
                    out: r.out,
                });
            }
        };
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
        Ok(ProgressConfig::Export(ExportConfig {
            store,
            student,
            csv: e.csv,
            out: e.out,
        }))
    }
}

/// Run `migralab progress`.
pub fn run(config: ProgressConfig) -> anyhow::Result<ExitCode> {
    match config {
        ProgressConfig::Export(e) => run_export(e),
        ProgressConfig::Import { class, inputs } => run_import(&class, &inputs),
        ProgressConfig::Report {
            data_dir,
            html,
            lang,
            only_stuck,
            out,
        } => run_report(&data_dir, html, lang, only_stuck, out.as_deref()),
    }
}

/// `progress report`: the class as the Instruktur tab shows it, sorted by name.
fn run_report(
    data_dir: &std::path::Path,
    html: bool,
    lang: migralab_sim_core::lang::Lang,
    only_stuck: bool,
    out: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    use crate::class::{folder::ClassFolderReader, gather::gather, report, view};
    let settings = crate::settings::SettingsFile::read(data_dir);
    if let Some(e) = settings.error() {
        eprintln!("warning: {}", migralab_sim_core::term::escape(e));
    }
    let mut reader = settings
        .effective()
        .class_folder
        .map(|f| ClassFolderReader::new(&f));
    let g = gather(Some(data_dir), reader.as_mut());
    for p in &g.problems {
        eprintln!("warning: {}", migralab_sim_core::term::escape(p));
    }
    let opts = view::ViewOptions {
        only_stuck,
        ..view::ViewOptions::default()
    };
    let rows = view::rows(&g.students, &opts);
    let text = if html {
        let title = crate::tr!(lang, "class-report-title");
        report::to_html(&rows, lang, &format!("{title} · {}", rows.len()))?
    } else {
        report::to_csv(&rows)
    };
    match out {
        Some(path) => {
            write_atomically(path, text.as_bytes())?;
            eprintln!("wrote {}", path.display());
        }
        None => write_stdout(text.as_bytes()).context("cannot write to standard output")?,
    }
    Ok(ExitCode::from(EXIT_COMPLETED))
}

/// `progress import`: read and check every file first (a bad one stops the import before the
/// class changes), then merge them all under the class's lock.
fn run_import(class: &ClassStore, inputs: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let files = inputs
        .iter()
        .map(|p| read_progress_file(p))
        .collect::<anyhow::Result<Vec<_>>>()
        .context("nothing was imported")?;
    let outcomes = class.import(&files)?;
    let mut out = String::new();
    let mut conflicts = 0;
    for o in &outcomes {
        let r = &o.report;
        out.push_str(&format!(
            "{}: {} students; new: {} students, {} answers, {} quizzes, {} observations\n",
            o.path.display(),
            o.students,
            r.new_students,
            r.new_attempts,
            r.new_quizzes,
            r.new_observations
        ));
        for c in &r.conflicts {
            conflicts += 1;
            eprintln!(
                "conflict: {}",
                migralab_sim_core::term::escape(&c.to_string())
            );
        }
    }
    out.push_str(&format!("class: {}\n", class.path().display()));
    write_text(&out).context("cannot write to standard output")?;
    Ok(ExitCode::from(if conflicts > 0 {
        EXIT_NOT_COMPLETED
    } else {
        EXIT_COMPLETED
    }))
}

/// `progress export`.
fn run_export(config: ExportConfig) -> anyhow::Result<ExitCode> {
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
