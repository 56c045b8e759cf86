//! `migralab quiz`: take a self-assessment quiz in the terminal (the `terminal` module), or check
//! and count a question bank. Input is read line by line, so a quiz can be answered from a pipe
//! (tests do).

mod terminal;

use super::LangArg as CliLang;
use super::{EXIT_COMPLETED, EXIT_ERROR};
use crate::quiz::{BankSource, fresh_seed, simulate};
use anyhow::Context as _;
use clap::Args;
use clap::builder::PossibleValuesParser;
use migralab_course::quiz::{Lang, Objective, Question, Selection};
use std::io::{self, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use terminal::{Settings, take_quiz};

/// `migralab quiz --help`: what it does and examples.
pub const QUIZ_LONG_ABOUT: &str = "\
Take a self-assessment quiz on live migration in the terminal, or check a question bank.

Each question is printed with its options; answer with a letter (`b`), several letters for \
\"choose all that apply\" (`a,c`), the letters in order for \"put in order\" (`c,a,b,d`), a \
number (`73` or `73,1`), or a whole `virsh migrate` command line. `skip` (or `lewati`) skips a \
question. After each answer you see whether it was right and why every option is right or \
wrong; \"predict the outcome\" questions run the named scenario in the simulator and show what \
really happens beside your prediction. At the end: a score per learning objective, and the \
questions you missed, which you can retry at once.

Without DIR the shipped bank is used (it is built into the binary).

Examples:
  migralab quiz                               all questions, in Bahasa Indonesia
  migralab quiz --lang en --count 10          ten questions, in English
  migralab quiz --objective flag-live         only the questions on --live
  migralab quiz --check my-quizzes/           validate an instructor's bank
  migralab quiz --stats --json                count the shipped bank";

/// `migralab quiz --help`: exit codes.
pub const QUIZ_AFTER_HELP: &str = "\
Exit codes:
  0  the quiz ran (whatever the score), or the bank is valid
  2  the bank has errors (each printed as FILE:LINE:COLUMN: message) or another error";

/// `migralab quiz` arguments.
#[derive(Debug, Args)]
pub struct QuizArgs {
    /// A question bank folder (every *.toml in it) [default: the shipped bank]
    #[arg(value_name = "DIR")]
    dir: Option<PathBuf>,

    /// The question bank folder (same as DIR)
    #[arg(long, value_name = "DIR", conflicts_with = "dir")]
    bank: Option<PathBuf>,

    /// Language of the questions and feedback
    #[arg(long, value_enum, default_value = "id")]
    lang: CliLang,

    /// Seed of the question and option order [default: new each run, printed at the start]
    #[arg(long, value_name = "N")]
    seed: Option<u64>,

    /// Only questions on this learning objective
    #[arg(long, value_name = "ID", value_parser = PossibleValuesParser::new(Objective::ALL.map(Objective::as_str)))]
    objective: Option<String>,

    /// At most this many questions
    #[arg(long, value_name = "N")]
    count: Option<usize>,

    /// Only these questions, in this order (comma-separated ids; e.g. the ones you missed)
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    only: Vec<String>,

    /// Validate the bank and print every error with FILE:LINE:COLUMN (exit 2 on errors)
    #[arg(long, conflicts_with = "stats")]
    check: bool,

    /// Count the bank's questions per objective and kind
    #[arg(long)]
    stats: bool,

    /// With --stats: print JSON
    #[arg(long, requires = "stats")]
    json: bool,

    /// Save every answer to this student's progress profile (see `migralab progress`)
    #[arg(long, value_name = "NAME", conflicts_with_all = ["check", "stats"])]
    student: Option<String>,
}

/// What `migralab quiz` does, validated.
#[derive(Debug)]
pub struct QuizConfig {
    mode: Mode,
    source: BankSource,
    lang: Lang,
    selection: Selection,
    student: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Run,
    Check,
    Stats { json: bool },
}

impl QuizConfig {
    /// Validate the arguments and read the bank's files (not parse them: errors are the
    /// check's job).
    pub fn from_args(args: QuizArgs) -> anyhow::Result<QuizConfig> {
        let mode = match (args.check, args.stats) {
            (true, _) => Mode::Check,
            (_, true) => Mode::Stats { json: args.json },
            _ => Mode::Run,
        };
        let source = match args.dir.or(args.bank) {
            Some(dir) => BankSource::read_dir(&dir)?,
            None => BankSource::shipped(),
        };
        let objective = args
            .objective
            .as_deref()
            .map(|id| Objective::from_id(id).with_context(|| format!("unknown objective `{id}`")))
            .transpose()?;
        let seed = args.seed.unwrap_or_else(fresh_seed);
        if let Some(name) = &args.student {
            crate::progress::valid_name(name)?;
        }
        Ok(QuizConfig {
            mode,
            source,
            lang: args.lang.into(),
            selection: Selection {
                seed,
                objective,
                only: args.only,
                count: args.count,
            },
            student: args.student,
        })
    }
}

/// Run `migralab quiz`.
pub fn run(config: QuizConfig) -> anyhow::Result<ExitCode> {
    match config.mode {
        Mode::Check => run_check(&config.source),
        Mode::Stats { json } => run_stats(&config.source, json),
        Mode::Run => {
            let bank = match config.source.check() {
                Ok(bank) => bank,
                Err(errors) => return report_errors(&config.source, &errors),
            };
            let stdin = io::stdin();
            let mut input = stdin.lock();
            let mut out = io::stdout().lock();
            let source = &config.source;
            let simulate = |q: &Question| simulate(source, q);
            let settings = Settings {
                lang: config.lang,
                selection: config.selection.clone(),
                bank_arg: source.dir.clone(),
                echo: !io::stdin().is_terminal(),
            };
            let results = take_quiz(&bank, &settings, &mut input, &mut out, &simulate)?;
            if let Some(student) = &config.student {
                crate::progress::record_quiz(student, &results, crate::progress::unix_now())?;
            }
            Ok(ExitCode::from(EXIT_COMPLETED))
        }
    }
}

fn report_errors(source: &BankSource, errors: &[String]) -> anyhow::Result<ExitCode> {
    for e in errors {
        eprintln!("error: {e}");
    }
    let n = errors.len();
    eprintln!(
        "{}: {n} error{}",
        source.label,
        if n == 1 { "" } else { "s" }
    );
    Ok(ExitCode::from(EXIT_ERROR))
}

fn run_check(source: &BankSource) -> anyhow::Result<ExitCode> {
    match source.check() {
        Err(errors) => report_errors(source, &errors),
        Ok(bank) => {
            let stats = bank.stats();
            let covered = stats.objectives.0.iter().filter(|(_, n)| *n > 0).count();
            let mut out = io::stdout().lock();
            writeln!(
                out,
                "ok: {}: {} questions in {} files, {covered}/{} objectives, languages {}",
                source.label,
                stats.questions,
                source.files.len(),
                Objective::ALL.len(),
                stats.languages.join(", ")
            )
            .context("cannot write to standard output")?;
            Ok(ExitCode::from(EXIT_COMPLETED))
        }
    }
}

fn run_stats(source: &BankSource, json: bool) -> anyhow::Result<ExitCode> {
    let bank = match source.bank() {
        Ok(b) => b,
        Err(errors) => {
            let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
            return report_errors(source, &errors);
        }
    };
    let stats = bank.stats();
    let text = if json {
        let mut s = serde_json::to_string_pretty(&stats).context("cannot serialise the stats")?;
        s.push('\n');
        s
    } else {
        let mut s = format!(
            "{}: {} questions in {} files, languages {}\n\nobjectives:\n",
            source.label,
            stats.questions,
            source.files.len(),
            stats.languages.join(", ")
        );
        for (name, n) in &stats.objectives.0 {
            s.push_str(&format!("  {name:<32} {n:>3}\n"));
        }
        s.push_str("\nkinds:\n");
        for (name, n) in &stats.types.0 {
            s.push_str(&format!("  {name:<32} {n:>3}\n"));
        }
        s
    };
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to standard output")
        }
        _ => Ok(ExitCode::from(EXIT_COMPLETED)),
    }
}
