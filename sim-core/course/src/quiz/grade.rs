//! Grading: an [`Answer`] to a [`Question`] gives a [`Graded`] result with a score, the
//! explanation of every option, and what exactly was wrong.
//!
//! Scores are in `0.0..=1.0`; a question counts as *correct* only with a full score.
//! - **single, diagnose, predict**: 1 for the right option, else 0.
//! - **multi** (partial credit): `max(0, hits / right_options − false_picks / wrong_options)`.
//!   Picking every option therefore scores 0, picking half of the right ones and nothing wrong
//!   scores 0.5. (With no wrong options the penalty term is 0.)
//! - **order** (partial credit): the share of step pairs the student put in the right relative
//!   order (Kendall's tau as a fraction). Swapping two neighbours in five steps scores 0.9; the
//!   reverse order scores 0.
//! - **command**: 1 when the command is equivalent to the model answer (see
//!   [`compare`](super::compare)), else 0 — a command with one wrong flag does something else.
//! - **numeric**: 1 within the tolerance, else 0.
//! - **skipped**: 0.

use super::command::{MigrateCommand, compare};
use super::{Body, Kind, Objective, Question};
use migralab_sim_core::RunOutcome;
use migralab_sim_core::text::Text;
use std::collections::BTreeMap;

/// A student's answer, by the options' original indices (see [`Presented`](super::Presented)).
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// One option (single, diagnose, predict).
    Choice(usize),
    /// Several options (multi).
    Choices(Vec<usize>),
    /// The steps in the student's order (order).
    Order(Vec<usize>),
    /// A number in the question's unit (numeric).
    Number(f64),
    /// A command line (command).
    Command(String),
    /// No answer.
    Skipped,
}

/// How a feedback line relates to the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Chosen and right (or a step in its right place, or a right answer).
    Right,
    /// Chosen and wrong (or a step out of place, or a mistake in the answer).
    Wrong,
    /// Right but not chosen.
    Missed,
    /// Wrong and not chosen.
    Other,
    /// Information: the model answer, what the simulator did.
    Info,
}

/// One line of feedback.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// How it relates to the answer.
    pub mark: Mark,
    /// The option or step it is about (original index), if any.
    pub item: Option<usize>,
    /// The explanation.
    pub text: Text,
}

/// The result of one question.
#[derive(Debug, Clone, PartialEq)]
pub struct Graded {
    /// The question's id.
    pub id: String,
    /// Its objective.
    pub objective: Objective,
    /// Its kind.
    pub kind: Kind,
    /// Full marks?
    pub correct: bool,
    /// 0.0..=1.0.
    pub score: f64,
    /// Feedback: every option's explanation, or what was wrong.
    pub notes: Vec<Note>,
    /// The question's general explanation, if it has one.
    pub explanation: Option<Text>,
    /// For a predict question graded against the simulator: what the run did.
    pub actual: Option<RunOutcome>,
}

fn note(mark: Mark, item: Option<usize>, text: Text) -> Note {
    Note { mark, item, text }
}

/// Grade an answer. A predict question is graded against the option the bank marks correct;
/// use [`grade_prediction`] to grade it against a real simulator run.
pub fn grade(q: &Question, answer: &Answer) -> Graded {
    let mut g = Graded {
        id: q.id.clone(),
        objective: q.objective,
        kind: q.kind(),
        correct: false,
        score: 0.0,
        notes: Vec::new(),
        explanation: q.explanation.clone(),
        actual: None,
    };
    match (&q.body, answer) {
        (Body::Single { .. } | Body::Diagnose { .. } | Body::Predict { .. }, _) => {
            let right: Vec<bool> = q.choices().iter().map(|c| c.correct).collect();
            let chosen = match answer {
                Answer::Choice(i) => vec![*i],
                _ => Vec::new(),
            };
            choice_notes(q, &mut g, &chosen, &right);
            g.correct = chosen.len() == 1 && right.get(chosen[0]).copied().unwrap_or(false);
            g.score = if g.correct { 1.0 } else { 0.0 };
        }
        (Body::Multi { options }, _) => {
            let right: Vec<bool> = options.iter().map(|c| c.correct).collect();
            let chosen = match answer {
                Answer::Choices(v) => v.clone(),
                Answer::Choice(i) => vec![*i],
                _ => Vec::new(),
            };
            choice_notes(q, &mut g, &chosen, &right);
            let n_right = right.iter().filter(|r| **r).count();
            let n_wrong = right.len() - n_right;
            let hits = chosen
                .iter()
                .filter(|i| right.get(**i).copied().unwrap_or(false))
                .count();
            let false_picks = chosen.len() - hits;
            let gain = if n_right == 0 {
                0.0
            } else {
                hits as f64 / n_right as f64
            };
            let penalty = if n_wrong == 0 {
                0.0
            } else {
                false_picks as f64 / n_wrong as f64
            };
            g.score = (gain - penalty).clamp(0.0, 1.0);
            g.correct = hits == n_right && false_picks == 0;
        }
        (Body::Order { steps }, _) => {
            let given: Vec<usize> = match answer {
                Answer::Order(v) if v.len() == steps.len() => v.clone(),
                _ => Vec::new(),
            };
            for (i, s) in steps.iter().enumerate() {
                let mark = match given.get(i) {
                    _ if given.is_empty() => Mark::Missed,
                    Some(g) if *g == i => Mark::Right,
                    _ => Mark::Wrong,
                };
                g.notes.push(note(
                    mark,
                    Some(i),
                    Text::new(
                        format!("Langkah {}: {}", i + 1, s.why.id),
                        format!("Step {}: {}", i + 1, s.why.en),
                    ),
                ));
            }
            g.score = kendall_fraction(&given);
            g.correct = !given.is_empty() && given.iter().enumerate().all(|(i, s)| i == *s);
        }
        (
            Body::Command {
                expected_text,
                expected,
                optional_flags,
                mistakes,
            },
            _,
        ) => {
            if let Answer::Command(line) = answer {
                match MigrateCommand::parse(line) {
                    Ok(given) => {
                        let issues = compare(expected, &given, optional_flags);
                        g.correct = issues.is_empty();
                        if g.correct {
                            g.notes.push(note(
                                Mark::Right,
                                None,
                                Text::new(
                                    "Benar: perintah ini setara dengan jawaban model.",
                                    "Right: this command is equivalent to the model answer.",
                                ),
                            ));
                        }
                        g.notes.extend(
                            issues
                                .iter()
                                .map(|i| note(Mark::Wrong, None, i.explain(mistakes))),
                        );
                    }
                    Err(e) => g.notes.push(note(
                        Mark::Wrong,
                        None,
                        Text::new(
                            format!("virsh akan menolak perintah ini: error: {e}"),
                            format!("virsh would reject this command: error: {e}"),
                        ),
                    )),
                }
            }
            g.score = if g.correct { 1.0 } else { 0.0 };
            g.notes.push(note(
                Mark::Info,
                None,
                Text::new(
                    format!("Jawaban model: {expected_text}"),
                    format!("Model answer: {expected_text}"),
                ),
            ));
        }
        (
            Body::Numeric {
                answer: right,
                tolerance,
                unit,
                pitfalls,
            },
            _,
        ) => {
            let width = tolerance.width(*right);
            let range = Text::new(
                format!(
                    "Jawaban: {} {unit} (± {} {unit}).",
                    fmt_num(*right),
                    fmt_num(width)
                ),
                format!(
                    "Answer: {} {unit} (± {} {unit}).",
                    fmt_num(*right),
                    fmt_num(width)
                ),
            );
            if let Answer::Number(v) = answer {
                g.correct = (v - right).abs() <= width;
                let (mark, id, en) = if g.correct {
                    (Mark::Right, "Benar", "Right")
                } else if v < right {
                    (Mark::Wrong, "Terlalu kecil", "Too low")
                } else {
                    (Mark::Wrong, "Terlalu besar", "Too high")
                };
                g.notes.push(note(
                    mark,
                    None,
                    Text::new(
                        format!("{id}: {} {unit}. {}", fmt_num(*v), range.id),
                        format!("{en}: {} {unit}. {}", fmt_num(*v), range.en),
                    ),
                ));
                if !g.correct
                    && let Some(p) = pitfalls.iter().find(|p| (v - p.value).abs() <= width)
                {
                    g.notes.push(note(Mark::Wrong, None, p.why.clone()));
                }
            } else {
                g.notes.push(note(Mark::Info, None, range));
            }
            g.score = if g.correct { 1.0 } else { 0.0 };
        }
    }
    g
}

/// Grade a predict question against what the simulator did: the prediction is right when the
/// chosen option's `expect` holds for `actual`, whatever the bank marks correct. The result keeps
/// `actual`, and a note says in words what happened, to show beside the prediction. Other kinds
/// are graded with [`grade`].
pub fn grade_prediction(q: &Question, answer: &Answer, actual: &RunOutcome) -> Graded {
    let Body::Predict { options, .. } = &q.body else {
        return grade(q, answer);
    };
    let mut g = grade(q, answer);
    let matches: Vec<bool> = options.iter().map(|p| p.expect.matches(actual)).collect();
    let chosen = match answer {
        Answer::Choice(i) => vec![*i],
        _ => Vec::new(),
    };
    g.notes.clear();
    choice_notes(q, &mut g, &chosen, &matches);
    g.correct = chosen.len() == 1 && matches.get(chosen[0]).copied().unwrap_or(false);
    g.score = if g.correct { 1.0 } else { 0.0 };
    g.notes
        .push(note(Mark::Info, None, describe_outcome(actual)));
    g.actual = Some(actual.clone());
    g
}

/// One note per option in original order: chosen or not, right or not, and why.
fn choice_notes(q: &Question, g: &mut Graded, chosen: &[usize], right: &[bool]) {
    for (i, c) in q.choices().iter().enumerate() {
        let picked = chosen.contains(&i);
        let is_right = right.get(i).copied().unwrap_or(false);
        let mark = match (picked, is_right) {
            (true, true) => Mark::Right,
            (true, false) => Mark::Wrong,
            (false, true) => Mark::Missed,
            (false, false) => Mark::Other,
        };
        g.notes.push(note(mark, Some(i), c.why.clone()));
    }
}

/// What a run did, in words.
fn describe_outcome(o: &RunOutcome) -> Text {
    let secs = o.total_ms as f64 / 1000.0;
    match o.status.as_str() {
        "completed" => Text::new(
            format!(
                "Simulator: selesai dalam {secs:.1} s, downtime {} ms, {} iterasi.",
                o.downtime_ms, o.iterations
            ),
            format!(
                "Simulator: completed in {secs:.1} s, downtime {} ms, {} iterations.",
                o.downtime_ms, o.iterations
            ),
        ),
        "failed" => {
            let e = o.error.as_deref().unwrap_or("?").replace('\n', " / ");
            Text::new(
                format!("Simulator: gagal — error: {e}"),
                format!("Simulator: failed — error: {e}"),
            )
        }
        "not-converged" => Text::new(
            format!(
                "Simulator: tidak konvergen — setelah {secs:.0} s dan {} iterasi sisa data masih di atas ambang, VM tidak pernah dijeda.",
                o.iterations
            ),
            format!(
                "Simulator: not converged — after {secs:.0} s and {} iterations the remaining data was still above the threshold; the VM was never paused.",
                o.iterations
            ),
        ),
        "time-limit" => Text::new(
            format!(
                "Simulator: batas waktu tercapai — setelah {secs:.0} s dan {} iterasi migrasi masih berjalan maju; ia butuh waktu lebih lama (naikkan sim.max_time_s).",
                o.iterations
            ),
            format!(
                "Simulator: time limit reached — after {secs:.0} s and {} iterations the migration was still making progress; it needs longer (raise sim.max_time_s).",
                o.iterations
            ),
        ),
        "no-migration" => Text::new(
            "Simulator: skenario ini tidak menjalankan migrasi.",
            "Simulator: this scenario runs no migration.",
        ),
        other => Text::new(
            format!("Simulator: {other}."),
            format!("Simulator: {other}."),
        ),
    }
}

/// Share of pairs in the right relative order (1.0 = identical, 0.0 = reversed or empty).
fn kendall_fraction(given: &[usize]) -> f64 {
    let n = given.len();
    if n < 2 {
        return if n == 1 { 1.0 } else { 0.0 };
    }
    let mut good = 0usize;
    let mut total = 0usize;
    for i in 0..n {
        for j in i + 1..n {
            total += 1;
            if given[i] < given[j] {
                good += 1;
            }
        }
    }
    good as f64 / total as f64
}

fn fmt_num(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Scores of one objective.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ObjectiveScore {
    /// Questions asked.
    pub asked: usize,
    /// Questions with full marks.
    pub correct: usize,
    /// Sum of scores (partial credit included).
    pub points: f64,
}

impl ObjectiveScore {
    /// Points as a percentage of the questions asked.
    pub fn percent(&self) -> f64 {
        if self.asked == 0 {
            0.0
        } else {
            100.0 * self.points / self.asked as f64
        }
    }
}

/// Scores of a quiz, in total and per objective.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    /// Everything together.
    pub total: ObjectiveScore,
    /// Per objective, in teaching order.
    pub objectives: BTreeMap<Objective, ObjectiveScore>,
}

impl Summary {
    /// Add up results.
    pub fn of(results: &[Graded]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            for slot in [&mut s.total, s.objectives.entry(r.objective).or_default()] {
                slot.asked += 1;
                slot.points += r.score;
                if r.correct {
                    slot.correct += 1;
                }
            }
        }
        s
    }
}

/// "Review my mistakes": the ids of the questions whose latest result is not fully correct, in
/// the order they were first asked.
pub fn review_mistakes(results: &[Graded]) -> Vec<String> {
    let mut latest: BTreeMap<&str, bool> = BTreeMap::new();
    for r in results {
        latest.insert(&r.id, r.correct);
    }
    let mut out: Vec<String> = Vec::new();
    for r in results {
        if latest.get(r.id.as_str()) == Some(&false) && !out.contains(&r.id) {
            out.push(r.id.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kendall_fraction_examples() {
        assert_eq!(kendall_fraction(&[0, 1, 2, 3, 4]), 1.0);
        assert_eq!(kendall_fraction(&[4, 3, 2, 1, 0]), 0.0);
        assert!((kendall_fraction(&[1, 0, 2, 3, 4]) - 0.9).abs() < 1e-9);
        assert_eq!(kendall_fraction(&[]), 0.0);
    }

    #[test]
    fn numbers_print_short() {
        assert_eq!(fmt_num(73.0), "73");
        assert_eq!(fmt_num(73.14159), "73.14");
        assert_eq!(fmt_num(0.5), "0.5");
    }
}
