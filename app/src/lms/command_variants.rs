//! A command question as the exact answers an LMS compares strings with: migralab grades a
//! `virsh migrate` line by what it means (any flag order, `--verbose` allowed), Moodle's short
//! answer and GIFT by the text. So the export lists the accepted variants (the model answer,
//! and the model answer with each set of optional flags), and each of the teacher's "missing"
//! or "extra" flag notes as the wrong answer it describes, with its explanation as feedback.
//! The import reads them back the same way.

use migralab_course::quiz::{MigrateCommand, Mistake, MistakeWhen};
use migralab_sim_core::text::Text;
use std::collections::BTreeSet;

/// At most this many optional flags are spelled out (2^n variants).
const MAX_OPTIONAL: usize = 3;

/// Answers of a command question for an LMS: `(text, right?, feedback)`, and notes on what
/// could not be carried.
pub struct Variants {
    /// The answers, the model answer first.
    pub answers: Vec<(String, bool, Option<Text>)>,
    /// What is lost.
    pub notes: Vec<String>,
}

/// The model answer with `--flag` inserted after `virsh migrate` (where every flag may go).
fn with_flags(expected: &str, flags: &[&str]) -> Option<String> {
    let rest = expected.trim().strip_prefix("virsh migrate ")?;
    let mut s = String::from("virsh migrate");
    for f in flags {
        s.push_str(" --");
        s.push_str(f);
    }
    s.push(' ');
    s.push_str(rest);
    Some(s)
}

/// The model answer without the standalone word `--flag`.
fn without_flag(expected: &str, flag: &str) -> String {
    let word = format!("--{flag}");
    expected
        .split_whitespace()
        .filter(|w| *w != word)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Does `line` parse to `expected` with exactly `added` flags more and `removed` fewer?
fn differs_by(expected: &MigrateCommand, line: &str, added: &[&str], removed: &[&str]) -> bool {
    let Ok(got) = MigrateCommand::parse(line) else {
        return false;
    };
    let mut want: BTreeSet<&str> = expected.flags.iter().copied().collect();
    for f in removed {
        want.remove(f);
    }
    want.extend(added);
    got.flags.iter().copied().collect::<BTreeSet<_>>() == want
        && got.options == expected.options
        && got.domain == expected.domain
        && got.desturi == expected.desturi
}

/// The answers for the model answer `expected_text`.
pub fn export(
    id: &str,
    expected_text: &str,
    optional_flags: &[String],
    mistakes: &[Mistake],
) -> Variants {
    let mut answers = vec![(expected_text.trim().to_owned(), true, None)];
    let mut notes = Vec::new();
    let Ok(expected) = MigrateCommand::parse(expected_text) else {
        notes.push(format!("question `{id}`: the model answer does not parse"));
        return Variants { answers, notes };
    };
    let addable: Vec<&str> = optional_flags
        .iter()
        .map(String::as_str)
        .filter(|f| !expected.flags.contains(f))
        .collect();
    if addable.len() > MAX_OPTIONAL {
        notes.push(format!(
            "question `{id}`: only the first {MAX_OPTIONAL} optional flags are listed as accepted answers"
        ));
    }
    let addable = &addable[..addable.len().min(MAX_OPTIONAL)];
    for mask in 1u32..(1 << addable.len()) {
        let set: Vec<&str> = addable
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, f)| *f)
            .collect();
        if let Some(line) = with_flags(expected_text, &set) {
            answers.push((line, true, None));
        }
    }
    for m in mistakes {
        let line = match m.when {
            MistakeWhen::Missing => Some(without_flag(expected_text, &m.flag))
                .filter(|l| differs_by(&expected, l, &[], &[m.flag.as_str()])),
            MistakeWhen::Extra => with_flags(expected_text, &[m.flag.as_str()])
                .filter(|l| differs_by(&expected, l, &[m.flag.as_str()], &[])),
        };
        match line {
            Some(l) => answers.push((l, false, Some(m.why.clone()))),
            None => notes.push(format!(
                "question `{id}`: the note on the {} flag --{} has no single wrong answer to \
                 carry it",
                match m.when {
                    MistakeWhen::Missing => "missing",
                    MistakeWhen::Extra => "extra",
                },
                m.flag
            )),
        }
    }
    notes.push(format!(
        "question `{id}`: the LMS accepts only the {} listed spellings of the command, not every \
         equivalent one (flag order, `root@`)",
        answers.iter().filter(|a| a.1).count()
    ));
    Variants { answers, notes }
}

/// What the answers of an imported command question say: optional flags, and mistakes.
pub struct Recovered {
    /// Flags the right variants add to the model answer.
    pub optional_flags: Vec<String>,
    /// `(flag, when, why)` from wrong answers that differ by one flag.
    pub mistakes: Vec<(String, MistakeWhen, Text)>,
    /// Answers that say neither.
    pub notes: Vec<String>,
}

/// Read back what [`export`] wrote: `answers` after the model answer.
pub fn recover(
    id: &str,
    expected_text: &str,
    answers: &[(String, bool, Option<Text>)],
) -> Recovered {
    let mut r = Recovered {
        optional_flags: Vec::new(),
        mistakes: Vec::new(),
        notes: Vec::new(),
    };
    let Ok(expected) = MigrateCommand::parse(expected_text) else {
        return r;
    };
    for (line, right, why) in answers {
        let Ok(got) = MigrateCommand::parse(line) else {
            r.notes.push(format!(
                "question `{id}`: answer `{line}` is not a virsh migrate command; left out"
            ));
            continue;
        };
        let extra: Vec<&str> = got.flags.difference(&expected.flags).copied().collect();
        let missing: Vec<&str> = expected.flags.difference(&got.flags).copied().collect();
        let same_rest = got.options == expected.options
            && got.domain == expected.domain
            && got.desturi == expected.desturi;
        match (right, why, extra.as_slice(), missing.as_slice(), same_rest) {
            (true, _, extra, [], true) => {
                for f in extra {
                    if !r.optional_flags.iter().any(|o| o == f) {
                        r.optional_flags.push((*f).to_owned());
                    }
                }
            }
            (false, Some(why), [f], [], true) => {
                r.mistakes
                    .push(((*f).to_owned(), MistakeWhen::Extra, why.clone()));
            }
            (false, Some(why), [], [f], true) => {
                r.mistakes
                    .push(((*f).to_owned(), MistakeWhen::Missing, why.clone()));
            }
            _ => r.notes.push(format!(
                "question `{id}`: answer `{line}` is not the model answer with optional flags or \
                 one flag more or less; migralab grades commands by meaning, so it is left out"
            )),
        }
    }
    r
}
