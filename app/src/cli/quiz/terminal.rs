//! The quiz in a terminal: ask the questions on stdin/stdout, grade them, print the feedback,
//! offer to retry the missed ones, and sum up per learning objective.
//!
//! The instructor's settings apply as in the app's Kuis tab: only the questions students may see
//! (`visible.quizzes`, [`crate::quiz::offered`]) are asked, and in assessment mode no answer is
//! judged or explained until the round is over, when every answer is reviewed. Each answer goes
//! to the [`QuizLog`] as soon as it is graded.

use crate::cli::lines::{Line, MAX_LINE_BYTES, read_line};
use crate::quiz::{kind_label, offered};
use crate::settings::Visible;
use crate::tr;
use anyhow::bail;
use migralab_course::quiz::{
    Answer, Bank, Body, Graded, Kind, Lang, Mark, Objective, Presented, Question, Selection,
    Summary, grade, grade_prediction, plan, review_mistakes,
};
use migralab_sim_core::RunOutcome;
use migralab_sim_core::text::Text;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;

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
    /// Assessment mode (`instructor.toml`): feedback only after the round.
    pub assessment: bool,
    /// What students may see (`instructor.toml`).
    pub visible: Visible,
}

/// Where the answers go as they are given (the student's profile, or nowhere: `()`).
pub trait QuizLog {
    /// Before the first question: the quiz's seed and how many questions its first round has.
    fn started(&mut self, seed: u64, questions: usize) -> anyhow::Result<()>;
    /// Right after an answer was graded.
    fn answered(&mut self, graded: &Graded) -> anyhow::Result<()>;
    /// The first round's last question was answered.
    fn completed(&mut self) -> anyhow::Result<()>;
}

impl QuizLog for () {
    fn started(&mut self, _: u64, _: usize) -> anyhow::Result<()> {
        Ok(())
    }
    fn answered(&mut self, _: &Graded) -> anyhow::Result<()> {
        Ok(())
    }
    fn completed(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The questions of `selection` that students may see, in the seeded order, cut to its count
/// (the same questions as the app's Kuis tab asks with the same seed and objective).
fn plan_visible<'a>(
    bank: &'a Bank,
    selection: &Selection,
    visible: &Visible,
    lang: Lang,
) -> anyhow::Result<Vec<Presented<'a>>> {
    let all = plan(
        bank,
        &Selection {
            count: None,
            ..selection.clone()
        },
    )?;
    let any = !all.is_empty();
    let mut shown: Vec<Presented<'a>> = all
        .into_iter()
        .filter(|p| offered(p.question, visible))
        .collect();
    if let Some(n) = selection.count {
        shown.truncate(n);
    }
    if shown.is_empty() {
        if any {
            bail!("{}", tr!(lang, "quiz-nothing-visible"));
        }
        bail!("no question matches the selection");
    }
    Ok(shown)
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
/// the end of input. A line that is not UTF-8 or too long rejects the whole answer (the caller
/// says so and asks again); the rest of the input is still read.
fn read_answer(input: &mut dyn BufRead) -> io::Result<Option<Line>> {
    let mut full = String::new();
    loop {
        let line = match read_line(input)? {
            None if full.is_empty() => return Ok(None),
            None => return Ok(Some(Line::Text(full))),
            Some(Line::Text(l)) => l,
            Some(bad) => return Ok(Some(bad)),
        };
        if full.len() + line.len() > MAX_LINE_BYTES {
            return Ok(Some(Line::TooLong));
        }
        full.push_str(&line);
        if line.ends_with('\\') {
            full.push('\n');
        } else {
            return Ok(Some(Line::Text(full)));
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
    log: &mut dyn QuizLog,
) -> anyhow::Result<Vec<Graded>> {
    let lang = settings.lang;
    let mut selection = settings.selection.clone();
    let first = plan_visible(bank, &selection, &settings.visible, lang)?;
    log.started(selection.seed, first.len())?;
    writeln!(
        out,
        "{} — {} {}, seed {} ({} --seed {})",
        Text::of("Kuis migralab", "migralab quiz").in_lang(lang),
        first.len(),
        Text::of("soal", "questions").in_lang(lang),
        selection.seed,
        Text::of("ulangi urutan ini dengan", "repeat this order with").in_lang(lang),
        selection.seed
    )?;
    write!(
        out,
        "{}",
        wrap(
            Text::of("Jawab dengan huruf (mis. b, atau a,c bila beberapa), angka, atau perintah lengkap. Ketik `lewati` untuk melewati soal.", "Answer with a letter (e.g. b, or a,c for several), a number, or a whole command. Type `skip` to skip a question.").in_lang(lang),
            "",
            WIDTH
        )
    )?;
    if settings.assessment {
        write!(
            out,
            "{}",
            wrap(&tr!(lang, "quiz-assessment-note"), "", WIDTH)
        )?;
    }
    let mut all: Vec<Graded> = Vec::new();
    let mut round = first;
    let mut round_no = 0u64;
    loop {
        let mut results = Vec::new();
        let mut answered = Vec::new();
        let mut ended = false;
        let n = round.len();
        for (i, p) in round.iter().enumerate() {
            match ask(p, (i + 1, n), settings, input, out, simulate)? {
                Some((g, skipped)) => {
                    log.answered(&g)?;
                    answered.push((i, skipped));
                    results.push(g);
                }
                None => {
                    ended = true;
                    break;
                }
            }
        }
        if round_no == 0 && !ended {
            log.completed()?;
        }
        all.extend(results.iter().cloned());
        print_summary(&results, lang, out)?;
        if settings.assessment && !answered.is_empty() {
            // Nothing was judged yet: every answer, with its explanation (as the app does).
            writeln!(out)?;
            writeln!(out, "{}", tr!(lang, "quiz-review-all"))?;
            for ((i, skipped), g) in answered.iter().zip(&results) {
                let Some(p) = round.get(*i) else { continue };
                writeln!(out)?;
                print_prompt(p, (i + 1, n), lang, out)?;
                show_result(p, g, *skipped, lang, out)?;
            }
        }
        let missed = review_mistakes(&all);
        if missed.is_empty() {
            if !results.is_empty() {
                writeln!(
                    out,
                    "{}",
                    Text::of(
                        "Semua soal sudah benar. Bagus!",
                        "Every question is right now. Well done!"
                    )
                    .in_lang(lang)
                )?;
            }
            break;
        }
        writeln!(
            out,
            "{} {}",
            Text::of("Soal yang perlu diulang:", "Questions to review:").in_lang(lang),
            missed.join(", ")
        )?;
        if ended {
            break;
        }
        let reply = loop {
            write!(
                out,
                "{} ",
                Text::of(
                    "Ulangi soal yang salah sekarang? [y/t]",
                    "Retry the missed questions now? [y/n]"
                )
                .in_lang(lang)
            )?;
            out.flush()?;
            match read_answer(input)? {
                Some(Line::Text(reply)) => {
                    if settings.echo {
                        writeln!(out, "{reply}")?;
                    }
                    break Some(reply);
                }
                Some(bad) => {
                    if settings.echo {
                        writeln!(out)?;
                    }
                    writeln!(out, "  {}", bad.problem(lang).unwrap_or_default())?;
                }
                None => {
                    if settings.echo {
                        writeln!(out)?;
                    }
                    break None;
                }
            }
        };
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
                Text::of("Untuk mengulang nanti:", "To retry later:").in_lang(lang),
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
        round = plan_visible(bank, &selection, &settings.visible, lang)?;
    }
    out.flush()?;
    Ok(all)
}

/// A question's title line and prompt (with a diagnose question's error, a predict question's
/// scenario).
fn print_prompt(
    p: &Presented<'_>,
    (number, total): (usize, usize),
    lang: Lang,
    out: &mut dyn Write,
) -> io::Result<()> {
    let q = p.question;
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
                Text::of("skenario", "scenario").in_lang(lang)
            )?;
        }
        _ => {}
    }
    Ok(())
}

/// Ask one question; `None` when the input ended before an answer, else the grade and whether
/// it was skipped.
fn ask(
    p: &Presented<'_>,
    number: (usize, usize),
    settings: &Settings,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    simulate: &dyn Fn(&Question) -> anyhow::Result<RunOutcome>,
) -> anyhow::Result<Option<(Graded, bool)>> {
    let q = p.question;
    let lang = settings.lang;
    writeln!(out)?;
    print_prompt(p, number, lang, out)?;
    for (letter, text) in p.items() {
        write!(
            out,
            "{}",
            wrap_hanging(lang.pick(text), &format!("  {letter}) "), "     ", WIDTH)
        )?;
    }
    let hint = match &q.body {
        Body::Multi { .. } => Text::of("Huruf-huruf, mis. a,c", "Letters, e.g. a,c")
            .in_lang(lang)
            .to_string(),
        Body::Order { .. } => Text::of(
            "Huruf dalam urutan yang benar, mis. c,a,b",
            "Letters in the right order, e.g. c,a,b",
        )
        .in_lang(lang)
        .to_string(),
        Body::Command { .. } => Text::of("Perintah lengkap", "The whole command")
            .in_lang(lang)
            .to_string(),
        Body::Numeric { unit, .. } => {
            format!(
                "{} {unit}",
                Text::of("Angka, dalam", "A number, in").in_lang(lang)
            )
        }
        _ => Text::of("Satu huruf", "One letter")
            .in_lang(lang)
            .to_string(),
    };
    let answer = loop {
        write!(out, "{hint}> ")?;
        out.flush()?;
        let line = match read_answer(input)? {
            None => {
                writeln!(out)?;
                return Ok(None);
            }
            Some(Line::Text(line)) => line,
            Some(bad) => {
                if settings.echo {
                    writeln!(out)?;
                }
                writeln!(out, "  {}", bad.problem(lang).unwrap_or_default())?;
                continue;
            }
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
            Text::of(
                "Menjalankan skenario di simulator...",
                "Running the scenario in the simulator..."
            )
            .in_lang(lang)
        )?;
        match simulate(q) {
            Ok(actual) => grade_prediction(q, &answer, &actual),
            Err(e) => {
                writeln!(
                    out,
                    "  {} {e:#}",
                    Text::of(
                        "Simulator tidak bisa dijalankan:",
                        "The simulator could not run:"
                    )
                    .in_lang(lang)
                )?;
                grade(q, &answer)
            }
        }
    } else {
        grade(q, &answer)
    };
    let skipped = answer == Answer::Skipped;
    if settings.assessment {
        writeln!(out, "{}", tr!(lang, "quiz-answer-taken"))?;
    } else {
        show_result(p, &graded, skipped, lang, out)?;
    }
    Ok(Some((graded, skipped)))
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
        writeln!(out, "– {}", Text::of("Dilewati.", "Skipped.").in_lang(lang))?;
    } else if g.correct {
        writeln!(out, "✓ {}", Text::of("Benar!", "Right!").in_lang(lang))?;
    } else if g.score > 0.0 {
        writeln!(
            out,
            "◐ {} ({} {:.2})",
            Text::of("Sebagian benar", "Partly right").in_lang(lang),
            Text::of("skor", "score").in_lang(lang),
            g.score
        )?;
    } else {
        writeln!(
            out,
            "✗ {}",
            Text::of("Belum tepat.", "Not right.").in_lang(lang)
        )?;
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
                Text::of("Urutan yang benar:", "The right order:").in_lang(lang),
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
                    Mark::Right | Mark::Wrong => {
                        Text::of("  ← jawabanmu", "  ← your answer").in_lang(lang)
                    }
                    Mark::Missed => Text::of("  ← yang benar", "  ← the right one").in_lang(lang),
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
                    Text::of("Penjelasan:", "Explanation:").in_lang(lang),
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
        Text::of("Hasil", "Result").in_lang(lang),
        s.total.correct,
        Text::of("dari", "of").in_lang(lang),
        s.total.asked,
        Text::of("benar", "right").in_lang(lang),
        Text::of("skor", "score").in_lang(lang),
        s.total.points,
        s.total.asked,
        s.total.percent()
    )?;
    writeln!(
        out,
        "{}:",
        Text::of("Per tujuan pembelajaran", "Per learning objective").in_lang(lang)
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
    use crate::quiz::BankSource;
    use anyhow::bail;
    use migralab_course::quiz::Selection;

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
            assessment: false,
            visible: Visible::default(),
        };
        let script = "virsh migrate --persistent db01 \\\n qemu+ssh://kvm-host-02/system\n\nnot a number\n33,6 MiB\ny\nvirsh migrate --live db01 qemu+ssh://root@kvm-host-02/system/\n";
        let mut input = io::Cursor::new(script.as_bytes());
        let mut out = Vec::new();
        let results = take_quiz(
            &bank,
            &settings,
            &mut input,
            &mut out,
            &|_| bail!("no simulator in this test"),
            &mut (),
        )
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
