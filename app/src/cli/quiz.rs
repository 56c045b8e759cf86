//! `migralab quiz`: take a self-assessment quiz in the terminal (the `terminal` module), or check
//! and count a question bank. Input is read line by line, so a quiz can be answered from a pipe
//! (tests do).

mod exchange;
mod terminal;

use super::LangArg as CliLang;
use super::{EXIT_COMPLETED, EXIT_ERROR};
use crate::progress::{ProfileStore, QuizRecorder, unix_now};
use crate::quiz::{BankSource, fresh_seed, simulate};
use crate::settings::SettingsFile;
use crate::tr;
use anyhow::Context as _;
use clap::Args;
use clap::builder::PossibleValuesParser;
use migralab_course::quiz::{Graded, Lang, Objective, Question, Selection};
use std::io::{self, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use terminal::{QuizLog, Settings, take_quiz};

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

Without DIR the shipped bank is used (it is built into the binary). The instructor's settings \
(`instructor.toml` in the data directory) apply as in the app: only the questions they make \
visible are asked, and in assessment mode answers are judged and explained only at the end. \
With --student every answer is saved the moment it is given.

Examples:
  migralab quiz                               all questions, in Bahasa Indonesia
  migralab quiz --lang en --count 10          ten questions, in English
  migralab quiz --objective flag-live         only the questions on --live
  migralab quiz --check my-quizzes/           validate an instructor's bank
  migralab quiz --stats --json                count the shipped bank
  migralab quiz --export moodle-xml bank.xml  the shipped bank for Moodle's question bank
  migralab quiz my-quizzes/ --export gift bank.gift.txt
  migralab quiz --import moodle.xml --out my-quizzes/from-moodle.toml

--export writes a bank for a learning platform (Moodle XML, or GIFT), --import turns one into a \
migralab bank file; both list on standard error what cannot be carried (\"predict\" questions \
need the simulator; migralab needs every option to explain itself).";

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

    /// Write the bank for a learning platform: FORMAT `moodle-xml` or `gift`
    #[arg(long, num_args = 2, value_names = ["FORMAT", "FILE"], conflicts_with_all = ["check", "stats", "student", "import"])]
    export: Vec<PathBuf>,

    /// Turn a Moodle XML (`.xml`) or GIFT file into a migralab bank file (written to --out)
    #[arg(long, value_name = "FILE", requires = "out", conflicts_with_all = ["check", "stats", "student", "dir", "bank"])]
    import: Option<PathBuf>,

    /// With --import: the bank file (TOML) to write
    #[arg(long, value_name = "FILE", requires = "import")]
    out: Option<PathBuf>,
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

#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    Run,
    Check,
    Stats {
        json: bool,
    },
    Export {
        format: exchange::Format,
        file: PathBuf,
    },
    Import {
        file: PathBuf,
        out: PathBuf,
    },
}

impl QuizConfig {
    /// Validate the arguments and read the bank's files (not parse them: errors are the
    /// check's job).
    pub fn from_args(args: QuizArgs) -> anyhow::Result<QuizConfig> {
        let mode = match (args.check, args.stats, args.export.as_slice(), &args.import) {
            (true, ..) => Mode::Check,
            (_, true, ..) => Mode::Stats { json: args.json },
            (_, _, [format, file], _) => Mode::Export {
                format: exchange::Format::from_arg(format)?,
                file: file.clone(),
            },
            (_, _, _, Some(file)) => Mode::Import {
                file: file.clone(),
                out: args.out.clone().unwrap_or_default(),
            },
            _ => Mode::Run,
        };
        match &mode {
            Mode::Export { file, .. } => crate::storage::check_output("--export", file)?,
            Mode::Import { file, out } => {
                crate::storage::check_output("--out", out)?;
                crate::storage::check_distinct(&[("--import", file)], &[("--out", out)])?;
            }
            _ => {}
        }
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
        // The one name rule, checked before the first question (in the quiz's language); the
        // trimmed name is the one saved.
        let lang: Lang = args.lang.into();
        let student = args
            .student
            .as_deref()
            .map(|name| match crate::progress::valid_name(name) {
                Ok(n) => Ok(n.to_owned()),
                Err(e) => Err(anyhow::anyhow!(e.text(lang))),
            })
            .transpose()?;
        Ok(QuizConfig {
            mode,
            source,
            lang,
            selection: Selection {
                seed,
                objective,
                only: args.only,
                count: args.count,
            },
            student,
        })
    }
}

/// Run `migralab quiz`.
pub fn run(config: QuizConfig) -> anyhow::Result<ExitCode> {
    match config.mode {
        Mode::Export { format, file } => exchange::export(&config.source, format, &file),
        Mode::Import { file, out } => exchange::import(&file, &out),
        Mode::Check => run_check(&config.source),
        Mode::Stats { json } => run_stats(&config.source, json),
        Mode::Run => {
            let bank = match config.source.check() {
                Ok(bank) => bank,
                Err(errors) => return report_errors(&config.source, &errors),
            };
            let stdin = io::stdin();
            let mut input = stdin.lock();
            let mut out = super::Escaped(io::stdout().lock());
            let source = &config.source;
            let simulate = |q: &Question| simulate(source, q);
            let lang = config.lang;
            // The instructor's settings, read as the app reads them (a damaged file is left in
            // place, said, and the defaults used).
            let data_dir = crate::storage::data_dir();
            let file = match &data_dir {
                Ok(dir) => SettingsFile::read(dir),
                Err(e) => SettingsFile {
                    path: PathBuf::from(crate::settings::SETTINGS_FILE),
                    loaded: Err(format!("{e:#}")),
                },
            };
            if let Some(err) = file.error() {
                eprintln!(
                    "{}: {} {}",
                    tr!(lang, "cli-warning"),
                    tr!(lang, "quiz-settings-broken", error = err),
                    tr!(lang, "quiz-settings-defaults")
                );
            }
            let instructor = file.effective();
            let settings = Settings {
                lang,
                selection: config.selection.clone(),
                bank_arg: source.dir.clone(),
                echo: !io::stdin().is_terminal(),
                assessment: instructor.assessment_mode,
                visible: instructor.visible.clone(),
            };
            let mut log = match &config.student {
                Some(student) => {
                    writeln!(
                        out,
                        "{}",
                        tr!(lang, "quiz-student-saved", name = student.as_str())
                    )
                    .context("cannot write to standard output")?;
                    ProfileLog {
                        store: Some(ProfileStore::for_settings(&data_dir?, &instructor)),
                        student: student.clone(),
                        recorder: None,
                        lang,
                    }
                }
                None => ProfileLog {
                    store: None,
                    student: String::new(),
                    recorder: None,
                    lang,
                },
            };
            take_quiz(&bank, &settings, &mut input, &mut out, &simulate, &mut log)?;
            Ok(ExitCode::from(EXIT_COMPLETED))
        }
    }
}

/// The terminal quiz's answers into the student's profile, each as it is given; a damaged
/// profile set aside on the way is said on standard error.
struct ProfileLog {
    /// `None`: no `--student`, nothing is saved.
    store: Option<ProfileStore>,
    student: String,
    recorder: Option<QuizRecorder>,
    lang: Lang,
}

impl ProfileLog {
    fn say(&self, notice: Option<String>) {
        if let Some(n) = notice {
            eprintln!("{}: {n}", tr!(self.lang, "cli-warning"));
        }
    }
}

impl QuizLog for ProfileLog {
    fn started(&mut self, seed: u64, questions: usize) -> anyhow::Result<()> {
        let Some(store) = self.store.take() else {
            return Ok(());
        };
        let (recorder, notice) = QuizRecorder::start(
            store,
            &self.student,
            "terminal",
            seed,
            questions,
            unix_now(),
        )?;
        self.say(notice);
        self.recorder = Some(recorder);
        Ok(())
    }

    fn answered(&mut self, graded: &Graded) -> anyhow::Result<()> {
        if let Some(r) = &self.recorder {
            self.say(r.answer(graded, unix_now())?);
        }
        Ok(())
    }

    fn completed(&mut self) -> anyhow::Result<()> {
        if let Some(r) = &self.recorder {
            self.say(r.complete(unix_now())?);
        }
        Ok(())
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
    let mut out = super::Escaped(io::stdout().lock());
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to standard output")
        }
        _ => Ok(ExitCode::from(EXIT_COMPLETED)),
    }
}
