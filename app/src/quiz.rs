//! `migralab quiz`: take a self-assessment quiz in the terminal, or check and count a question
//! bank. The questions, grading and shuffling live in `migralab_course::quiz`; this module
//! reads the bank's files, asks the questions on stdin/stdout, runs the simulator for "predict
//! the outcome" questions, and prints the feedback.
//!
//! The shipped bank (`assets/quizzes/*.toml`) is embedded, so `migralab quiz` works from any
//! directory. Input is read line by line, so a quiz can be answered from a pipe (tests do).

use crate::cli::{EXIT_COMPLETED, EXIT_ERROR};
use crate::preflight::LangArg as CliLang;
use crate::scenarios;
use anyhow::{Context as _, bail};
use clap::Args;
use clap::builder::PossibleValuesParser;
use migralab_course::quiz::{
    Answer, Bank, Body, Graded, Kind, Lang, Located, Mark, Objective, Presented, Question,
    QuizError, Selection, Summary, grade, grade_prediction, plan, review_mistakes,
};
use migralab_sim_core::text::Text;
use migralab_sim_core::{RunOutcome, Scenario, Simulator};
use std::io::{self, BufRead, IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A file of the shipped bank, embedded at compile time.
#[derive(Debug, Clone, Copy)]
pub struct ShippedFile {
    /// File name in `assets/quizzes/`.
    pub name: &'static str,
    /// The TOML text.
    pub text: &'static str,
}

macro_rules! bank_file {
    ($name:literal) => {
        ShippedFile {
            name: $name,
            text: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../assets/quizzes/",
                $name
            )),
        }
    };
}

/// Every file of the shipped bank (`assets/quizzes/*.toml`), in teaching order.
pub const SHIPPED_BANK: &[ShippedFile] = &[
    bank_file!("concepts.toml"),
    bank_file!("prerequisites.toml"),
    bank_file!("virsh-migrate.toml"),
    bank_file!("errors.toml"),
];

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

/// A seed for a student who did not ask for one: different each run, printed so the same quiz
/// can be taken again with `--seed`. (The app may read the clock; sim-core may not.)
pub fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs() % 100_000)
}

/// The files of a bank, read but not yet parsed.
#[derive(Debug, Clone)]
pub struct BankSource {
    /// Shown in messages: the folder, or `assets/quizzes (shipped)`.
    pub label: String,
    /// The folder, for a bank on disk (scenario files may sit beside the questions).
    pub dir: Option<PathBuf>,
    /// (origin for errors, text), sorted by file name.
    pub files: Vec<(String, String)>,
}

impl BankSource {
    /// The embedded shipped bank.
    pub fn shipped() -> BankSource {
        BankSource {
            label: "assets/quizzes (shipped)".into(),
            dir: None,
            files: SHIPPED_BANK
                .iter()
                .map(|f| (format!("assets/quizzes/{}", f.name), f.text.to_string()))
                .collect(),
        }
    }

    /// Every `*.toml` directly in `dir`, sorted by name (other files, like EXAMPLE.md, are
    /// ignored).
    pub fn read_dir(dir: &Path) -> anyhow::Result<BankSource> {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read the question bank folder {}", dir.display()))?;
        let mut paths = Vec::new();
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot list {}", dir.display()))?
                .path();
            if path.is_file()
                && path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
            {
                paths.push(path);
            }
        }
        paths.sort();
        if paths.is_empty() {
            bail!(
                "{}: no .toml files (a bank is a folder of TOML files with [[question]] tables)",
                dir.display()
            );
        }
        let files = paths
            .iter()
            .map(|p| {
                std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read {}", p.display()))
                    .map(|text| (p.display().to_string(), text))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(BankSource {
            label: dir.display().to_string(),
            dir: Some(dir.to_path_buf()),
            files,
        })
    }

    /// Parse and validate.
    pub fn bank(&self) -> Result<Bank, Vec<QuizError>> {
        let located: Vec<Located<'_>> = self
            .files
            .iter()
            .map(|(origin, text)| Located { text, origin })
            .collect();
        Bank::load(&located)
    }

    /// The scenario a predict question names: a shipped one, or a file beside the bank.
    fn scenario(&self, name: &str) -> anyhow::Result<scenarios::Source> {
        if let Some(s) = scenarios::shipped(name) {
            return Ok(scenarios::Source {
                origin: format!("scenarios/{}.toml", s.name),
                text: s.text.to_string(),
            });
        }
        if let Some(dir) = &self.dir {
            for candidate in [dir.join(name), dir.join(format!("{name}.toml"))] {
                if candidate.is_file() {
                    return scenarios::resolve(&candidate);
                }
            }
        }
        scenarios::resolve(Path::new(name))
    }

    /// Load a predict question's scenario with its overrides applied.
    fn predict_scenario(&self, q: &Question) -> anyhow::Result<Option<Scenario>> {
        let Body::Predict {
            scenario,
            overrides,
            ..
        } = &q.body
        else {
            return Ok(None);
        };
        let source = self.scenario(scenario)?;
        let loaded = Scenario::load(
            migralab_sim_core::Located {
                text: &source.text,
                origin: &source.origin,
            },
            overrides,
        )?;
        Ok(Some(loaded))
    }

    /// Everything `--check` reports: the bank's errors, then the predict questions whose
    /// scenario cannot be loaded.
    pub fn check(&self) -> Result<Bank, Vec<String>> {
        let bank = self
            .bank()
            .map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>())?;
        let mut errors = Vec::new();
        for q in bank.questions() {
            if let Body::Predict { scenario_at, .. } = &q.body
                && let Err(e) = self.predict_scenario(q)
            {
                errors.push(format!("{scenario_at}: question `{}`: {e:#}", q.id));
            }
        }
        if errors.is_empty() {
            Ok(bank)
        } else {
            Err(errors)
        }
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

/// Run a predict question's scenario in the simulator (the CLI and the Quiz tab both use it).
pub fn simulate(source: &BankSource, q: &Question) -> anyhow::Result<RunOutcome> {
    let scenario = source
        .predict_scenario(q)?
        .context("not a predict question")?;
    let trace = Simulator::run(scenario);
    Ok(RunOutcome::of(&trace))
}

/// How to run a quiz session.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Language.
    pub lang: Lang,
    /// Which questions, in which order.
    pub selection: Selection,
    /// The bank folder given on the command line, for the "retry later" hint.
    pub bank_arg: Option<PathBuf>,
    /// Print each answer after reading it (when the input is a pipe, not a terminal, so that
    /// the transcript shows what was answered).
    pub echo: bool,
}

/// A text in the session's language.
fn tr(lang: Lang, id: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Id => id,
        Lang::En => en,
    }
}

/// The name of a kind of question, as the student reads it.
pub fn kind_label(lang: Lang, kind: Kind) -> &'static str {
    match kind {
        Kind::Single => tr(lang, "pilihan ganda", "single choice"),
        Kind::Multi => tr(lang, "pilih semua yang benar", "choose all that apply"),
        Kind::Order => tr(lang, "urutkan", "put in order"),
        Kind::Command => tr(lang, "tulis perintah", "write the command"),
        Kind::Diagnose => tr(lang, "diagnosis error", "diagnose the error"),
        Kind::Numeric => tr(lang, "hitung", "estimate"),
        Kind::Predict => tr(lang, "tebak hasilnya", "predict the outcome"),
    }
}

/// Word-wrap `text` at `width` columns, every line starting with `indent`.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    wrap_hanging(text, indent, indent, width)
}

/// Word-wrap with a different start for the first line (`a) ...` then aligned continuations).
fn wrap_hanging(text: &str, first: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    for (n, paragraph) in text.split('\n').enumerate() {
        let mut line = String::from(if n == 0 { first } else { indent });
        let mut empty = true;
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            if !empty && line.chars().count() + 1 + word.chars().count() > width {
                out.push_str(&line);
                out.push('\n');
                line = String::from(indent);
                empty = true;
            }
            if !empty {
                line.push(' ');
            }
            line.push_str(word);
            empty = false;
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

const WIDTH: usize = 100;

/// Read one answer line; a line ending in `\` continues on the next (long commands). `None` at
/// the end of input.
fn read_answer(input: &mut dyn BufRead) -> io::Result<Option<String>> {
    let mut full = String::new();
    loop {
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            return Ok(if full.is_empty() { None } else { Some(full) });
        }
        let line = line.trim_end_matches(['\n', '\r']);
        full.push_str(line);
        if line.ends_with('\\') {
            full.push('\n');
        } else {
            return Ok(Some(full));
        }
    }
}

/// Ask the questions of `settings.selection`, grade them, offer to retry the missed ones, and
/// print a summary per objective. Returns every result (retries included). Stops early, with a
/// summary, when the input ends.
pub fn take_quiz(
    bank: &Bank,
    settings: &Settings,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    simulate: &dyn Fn(&Question) -> anyhow::Result<RunOutcome>,
) -> anyhow::Result<Vec<Graded>> {
    let lang = settings.lang;
    let mut selection = settings.selection.clone();
    let first = plan(bank, &selection)?;
    if first.is_empty() {
        bail!("no question matches the selection");
    }
    writeln!(
        out,
        "{} — {} {}, seed {} ({} --seed {})",
        tr(lang, "Kuis migralab", "migralab quiz"),
        first.len(),
        tr(lang, "soal", "questions"),
        selection.seed,
        tr(lang, "ulangi urutan ini dengan", "repeat this order with"),
        selection.seed
    )?;
    write!(
        out,
        "{}",
        wrap(
            tr(
                lang,
                "Jawab dengan huruf (mis. b, atau a,c bila beberapa), angka, atau perintah lengkap. Ketik `lewati` untuk melewati soal.",
                "Answer with a letter (e.g. b, or a,c for several), a number, or a whole command. Type `skip` to skip a question."
            ),
            "",
            WIDTH
        )
    )?;
    let mut all: Vec<Graded> = Vec::new();
    let mut round = first;
    let mut round_no = 0u64;
    loop {
        let mut results = Vec::new();
        let mut ended = false;
        let n = round.len();
        for (i, p) in round.iter().enumerate() {
            match ask(p, (i + 1, n), settings, input, out, simulate)? {
                Some(g) => results.push(g),
                None => {
                    ended = true;
                    break;
                }
            }
        }
        all.extend(results.iter().cloned());
        print_summary(&results, lang, out)?;
        let missed = review_mistakes(&all);
        if missed.is_empty() {
            if !results.is_empty() {
                writeln!(
                    out,
                    "{}",
                    tr(
                        lang,
                        "Semua soal sudah benar. Bagus!",
                        "Every question is right now. Well done!"
                    )
                )?;
            }
            break;
        }
        writeln!(
            out,
            "{} {}",
            tr(lang, "Soal yang perlu diulang:", "Questions to review:"),
            missed.join(", ")
        )?;
        if ended {
            break;
        }
        write!(
            out,
            "{} ",
            tr(
                lang,
                "Ulangi soal yang salah sekarang? [y/t]",
                "Retry the missed questions now? [y/n]"
            )
        )?;
        out.flush()?;
        let reply = read_answer(input)?;
        if settings.echo {
            writeln!(out, "{}", reply.as_deref().unwrap_or_default())?;
        }
        let again =
            reply.is_some_and(|a| matches!(a.trim().to_lowercase().as_str(), "y" | "ya" | "yes"));
        if !again {
            let bank_arg = settings
                .bank_arg
                .as_ref()
                .map(|d| format!(" --bank {}", d.display()))
                .unwrap_or_default();
            writeln!(
                out,
                "{} migralab quiz{bank_arg} --only {} --seed {}",
                tr(lang, "Untuk mengulang nanti:", "To retry later:"),
                missed.join(","),
                selection.seed
            )?;
            break;
        }
        round_no += 1;
        selection = Selection {
            seed: settings.selection.seed.wrapping_add(round_no),
            objective: None,
            only: missed,
            count: None,
        };
        round = plan(bank, &selection)?;
    }
    out.flush()?;
    Ok(all)
}

/// Ask one question; `None` when the input ended before an answer.
fn ask(
    p: &Presented<'_>,
    (number, total): (usize, usize),
    settings: &Settings,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    simulate: &dyn Fn(&Question) -> anyhow::Result<RunOutcome>,
) -> anyhow::Result<Option<Graded>> {
    let q = p.question;
    let lang = settings.lang;
    writeln!(out)?;
    writeln!(
        out,
        "[{number}/{total}] {} · {}",
        lang.pick(&q.objective.title()),
        kind_label(lang, q.kind())
    )?;
    write!(out, "{}", wrap(lang.pick(&q.prompt), "", WIDTH))?;
    match &q.body {
        Body::Diagnose { error, .. } => {
            writeln!(out)?;
            for line in error.lines() {
                writeln!(out, "    {line}")?;
            }
            writeln!(out)?;
        }
        Body::Predict {
            scenario,
            overrides,
            ..
        } => {
            let sets: String = overrides.iter().map(|s| format!(" --set {s}")).collect();
            writeln!(
                out,
                "  ({}: migralab sim {scenario}{sets})",
                tr(lang, "skenario", "scenario")
            )?;
        }
        _ => {}
    }
    for (letter, text) in p.items() {
        write!(
            out,
            "{}",
            wrap_hanging(lang.pick(text), &format!("  {letter}) "), "     ", WIDTH)
        )?;
    }
    let hint = match &q.body {
        Body::Multi { .. } => tr(lang, "Huruf-huruf, mis. a,c", "Letters, e.g. a,c").to_string(),
        Body::Order { .. } => tr(
            lang,
            "Huruf dalam urutan yang benar, mis. c,a,b",
            "Letters in the right order, e.g. c,a,b",
        )
        .to_string(),
        Body::Command { .. } => tr(lang, "Perintah lengkap", "The whole command").to_string(),
        Body::Numeric { unit, .. } => {
            format!("{} {unit}", tr(lang, "Angka, dalam", "A number, in"))
        }
        _ => tr(lang, "Satu huruf", "One letter").to_string(),
    };
    let answer = loop {
        write!(out, "{hint}> ")?;
        out.flush()?;
        let Some(line) = read_answer(input)? else {
            writeln!(out)?;
            return Ok(None);
        };
        if settings.echo {
            writeln!(out, "{line}")?;
        }
        match p.parse_answer(&line) {
            Ok(a) => break a,
            Err(e) => writeln!(out, "  {}", lang.pick(&e.text()))?,
        }
    };
    let graded = if q.kind() == Kind::Predict && answer != Answer::Skipped {
        writeln!(
            out,
            "{}",
            tr(
                lang,
                "Menjalankan skenario di simulator...",
                "Running the scenario in the simulator..."
            )
        )?;
        match simulate(q) {
            Ok(actual) => grade_prediction(q, &answer, &actual),
            Err(e) => {
                writeln!(
                    out,
                    "  {} {e:#}",
                    tr(
                        lang,
                        "Simulator tidak bisa dijalankan:",
                        "The simulator could not run:"
                    )
                )?;
                grade(q, &answer)
            }
        }
    } else {
        grade(q, &answer)
    };
    show_result(p, &graded, answer == Answer::Skipped, lang, out)?;
    Ok(Some(graded))
}

fn marker(mark: Mark) -> &'static str {
    match mark {
        Mark::Right => "✓",
        Mark::Wrong => "✗",
        Mark::Missed => "→",
        Mark::Other => " ",
        Mark::Info => "·",
    }
}

fn show_result(
    p: &Presented<'_>,
    g: &Graded,
    skipped: bool,
    lang: Lang,
    out: &mut dyn Write,
) -> io::Result<()> {
    let q = p.question;
    if skipped {
        writeln!(out, "– {}", tr(lang, "Dilewati.", "Skipped."))?;
    } else if g.correct {
        writeln!(out, "✓ {}", tr(lang, "Benar!", "Right!"))?;
    } else if g.score > 0.0 {
        writeln!(
            out,
            "◐ {} ({} {:.2})",
            tr(lang, "Sebagian benar", "Partly right"),
            tr(lang, "skor", "score"),
            g.score
        )?;
    } else {
        writeln!(out, "✗ {}", tr(lang, "Belum tepat.", "Not right."))?;
    }
    let free_notes = g.notes.iter().filter(|n| n.item.is_none());
    match &q.body {
        Body::Order { steps } => {
            let right: Vec<String> = (0..steps.len())
                .filter_map(|i| p.letter_of(i).map(String::from))
                .collect();
            writeln!(
                out,
                "{} {}",
                tr(lang, "Urutan yang benar:", "The right order:"),
                right.join(", ")
            )?;
            for note in g.notes.iter().filter(|n| n.item.is_some()) {
                let Some(i) = note.item else { continue };
                let letter = p.letter_of(i).unwrap_or('?');
                let text = steps.get(i).map_or("", |s| lang.pick(&s.text));
                let first = format!("{} {letter}) ", marker(note.mark));
                write!(out, "{}", wrap_hanging(text, &first, "     ", WIDTH))?;
                write!(out, "{}", wrap(lang.pick(&note.text), "     ", WIDTH))?;
            }
        }
        Body::Single { .. } | Body::Multi { .. } | Body::Diagnose { .. } | Body::Predict { .. } => {
            // The simulator's result first, beside the prediction.
            for note in free_notes {
                write!(out, "{}", wrap(lang.pick(&note.text), "  ", WIDTH))?;
            }
            let choices = q.choices();
            for (pos, original) in p.order.iter().enumerate() {
                let Some(note) = g.notes.iter().find(|n| n.item == Some(*original)) else {
                    continue;
                };
                let text = choices.get(*original).map_or("", |c| lang.pick(&c.text));
                let tag = match note.mark {
                    Mark::Right | Mark::Wrong => tr(lang, "  ← jawabanmu", "  ← your answer"),
                    Mark::Missed => tr(lang, "  ← yang benar", "  ← the right one"),
                    _ => "",
                };
                let first = format!("{} {}) ", marker(note.mark), Presented::letter(pos));
                write!(
                    out,
                    "{}",
                    wrap_hanging(&format!("{text}{tag}"), &first, "     ", WIDTH)
                )?;
                write!(out, "{}", wrap(lang.pick(&note.text), "     ", WIDTH))?;
            }
        }
        Body::Command { .. } | Body::Numeric { .. } => {
            for note in free_notes {
                // The marker takes the place of the first indent space.
                let body = wrap(lang.pick(&note.text), "  ", WIDTH);
                write!(
                    out,
                    "{}{}",
                    marker(note.mark),
                    body.get(1..).unwrap_or_default()
                )?;
            }
        }
    }
    if let Some(e) = &g.explanation {
        write!(
            out,
            "{}",
            wrap(
                &format!(
                    "{} {}",
                    tr(lang, "Penjelasan:", "Explanation:"),
                    lang.pick(e)
                ),
                "  ",
                WIDTH
            )
        )?;
    }
    Ok(())
}

fn print_summary(results: &[Graded], lang: Lang, out: &mut dyn Write) -> io::Result<()> {
    if results.is_empty() {
        return Ok(());
    }
    let s = Summary::of(results);
    writeln!(out)?;
    writeln!(
        out,
        "{}: {} {} {} {}, {} {:.1}/{} ({:.0} %)",
        tr(lang, "Hasil", "Result"),
        s.total.correct,
        tr(lang, "dari", "of"),
        s.total.asked,
        tr(lang, "benar", "right"),
        tr(lang, "skor", "score"),
        s.total.points,
        s.total.asked,
        s.total.percent()
    )?;
    writeln!(
        out,
        "{}:",
        tr(lang, "Per tujuan pembelajaran", "Per learning objective")
    )?;
    for (objective, score) in &s.objectives {
        let title = title_of(*objective, lang);
        writeln!(
            out,
            "  {title:<46} {:>2}/{:<2} {:>4.0} %",
            score.correct,
            score.asked,
            score.percent()
        )?;
    }
    Ok(())
}

fn title_of(objective: Objective, lang: Lang) -> String {
    let t: Text = objective.title();
    lang.pick(&t).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn every_shipped_file_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/quizzes");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = SHIPPED_BANK.iter().map(|f| f.name.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn shipped_bank_passes_the_check_with_its_scenarios() {
        let bank = BankSource::shipped()
            .check()
            .unwrap_or_else(|e| panic!("{}", e.join("\n")));
        let stats = bank.stats();
        assert!(stats.questions >= 40);
        assert_eq!(stats.languages, vec!["id", "en"]);
        for o in Objective::ALL {
            assert!(stats.objectives.get(o.as_str()) >= 3, "{}", o.as_str());
        }
    }

    /// The bank's expected answer of every predict question is what the simulator really does.
    #[test]
    fn predict_answers_agree_with_the_simulator() {
        let source = BankSource::shipped();
        let bank = source.bank().unwrap();
        for q in bank.questions() {
            let Body::Predict { options, .. } = &q.body else {
                continue;
            };
            let actual = simulate(&source, q).unwrap();
            let matching: Vec<usize> = options
                .iter()
                .enumerate()
                .filter(|(_, o)| o.expect.matches(&actual))
                .map(|(i, _)| i)
                .collect();
            let expected: Vec<usize> = options
                .iter()
                .enumerate()
                .filter(|(_, o)| o.choice.correct)
                .map(|(i, _)| i)
                .collect();
            assert_eq!(
                matching, expected,
                "{}: the simulator gave {actual:?}",
                q.id
            );
        }
    }

    #[test]
    fn wrap_keeps_words_and_indent() {
        assert_eq!(wrap("aa bb cc", "  ", 7), "  aa bb\n  cc\n");
        assert_eq!(wrap("", "", 10), "\n");
    }

    #[test]
    fn a_session_from_a_script() {
        let bank = BankSource::shipped().bank().unwrap();
        let settings = Settings {
            lang: Lang::En,
            selection: Selection {
                seed: 5,
                only: vec!["live-command".into(), "dirty-threshold".into()],
                ..Selection::default()
            },
            bank_arg: None,
            echo: true,
        };
        let script = "virsh migrate --persistent db01 \\\n qemu+ssh://kvm-host-02/system\n\nnot a number\n33,6 MiB\ny\nvirsh migrate --live db01 qemu+ssh://root@kvm-host-02/system/\n";
        let mut input = io::Cursor::new(script.as_bytes());
        let mut out = Vec::new();
        let results = take_quiz(&bank, &settings, &mut input, &mut out, &|_| {
            bail!("no simulator in this test")
        })
        .unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(results.len(), 3, "{out}");
        assert!(!results[0].correct && results[1].correct && results[2].correct);
        assert!(out.contains("Missing --live"), "{out}");
        assert!(out.contains("--persistent is not asked for"), "{out}");
        assert!(out.contains("Empty answer"), "{out}");
        assert!(out.contains("`not a number` is not a number"), "{out}");
        assert!(out.contains("Questions to review: live-command"), "{out}");
        assert!(out.contains("Every question is right now"), "{out}");
    }
}
