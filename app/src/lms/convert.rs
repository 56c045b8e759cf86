//! From a learning platform's question to a migralab one, whatever the file format: the Moodle
//! XML and GIFT readers turn each question into an [`LmsQuestion`], and [`Converter`] maps it
//! (the rules of [`super::moodle_export`], in reverse), checks it with migralab's bank loader,
//! and notes what it could not carry.

use super::bank_toml::{BankMistake, BankOption, BankPitfall, BankQuestion, BankStep, check_one};
use super::command_variants;
use super::moodle_export::CATEGORY_PREFIX;
use super::multilang::{from_html, unescape};
use anyhow::bail;
use migralab_course::quiz::{Kind, Objective};
use migralab_sim_core::text::Text;
use std::collections::BTreeSet;

/// Questions read from a file, and what was left out or changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Imported {
    /// The questions, in file order.
    pub questions: Vec<BankQuestion>,
    /// What could not be carried, each naming where.
    pub notes: Vec<String>,
}

/// One answer as the platform has it.
#[derive(Debug, Clone, PartialEq)]
pub struct LmsAnswer {
    /// Percent: 100 right, 0 wrong, between partial; an ordering item's position.
    pub fraction: f64,
    /// The text, decoded from HTML when it was HTML.
    pub text: Text,
    /// The text as written (numbers and commands are read from it).
    pub raw: String,
    /// Its feedback.
    pub feedback: Option<Text>,
    /// A numerical answer's tolerance.
    pub tolerance: Option<f64>,
}

/// One question as the platform has it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LmsQuestion {
    /// `FILE:LINE`, for notes.
    pub at: String,
    /// Moodle's question type: `multichoice`, `numerical`, `shortanswer`, `ordering`, ...
    pub qtype: String,
    /// Its name (title).
    pub name: String,
    /// Its ID number (Moodle XML).
    pub idnumber: String,
    /// The question text, HTML.
    pub prompt_html: String,
    /// The general feedback.
    pub explanation: Option<Text>,
    /// A multichoice question with one right answer.
    pub single: bool,
    /// `Some(false)`: keep the answers' order.
    pub shuffle: Option<bool>,
    /// A numerical question's unit.
    pub unit: String,
    /// The answers.
    pub answers: Vec<LmsAnswer>,
}

/// Is `id` a migralab question id (lower-case letters, digits, `-`, `_`, `.`)?
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// A migralab id from a Moodle question name: lower case, other characters as `-`.
fn id_from_name(name: &str) -> String {
    let mut id: String = name
        .chars()
        .take(80)
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    id = id.trim_matches('-').to_owned();
    if id.is_empty() {
        "question".to_owned()
    } else {
        id
    }
}

/// The question text without our `<pre class="migralab-error">` (a diagnose question's libvirt
/// message), and that message.
fn split_error(html: &str) -> (String, Option<String>) {
    split_marked(html, ERROR_OPEN, "</pre>")
}

/// How the exports mark a diagnose question's libvirt message in the question text.
pub const ERROR_OPEN: &str = "<pre class=\"migralab-error\">";
/// How the GIFT export marks a numeric question's unit (GIFT has no units).
pub const UNIT_OPEN: &str = "<span class=\"migralab-unit\">";

/// `html` without the element opened by `open` and closed by `close`, and its text.
fn split_marked(html: &str, open: &str, close: &str) -> (String, Option<String>) {
    let Some(start) = html.find(open) else {
        return (html.to_owned(), None);
    };
    let body = &html[start + open.len()..];
    let Some(end) = body.find(close) else {
        return (html.to_owned(), None);
    };
    let rest = format!("{}{}", &html[..start], &body[end + close.len()..]);
    (rest, Some(unescape(&body[..end])))
}

/// Maps questions one by one, keeping the current category and the ids used.
#[derive(Debug, Default)]
pub struct Converter {
    objective: Option<Objective>,
    category: String,
    ids: BTreeSet<String>,
    /// What was converted so far.
    pub out: Imported,
}

impl Converter {
    /// A category starts: its last path segment is the objective of what follows.
    pub fn category(&mut self, path: &str) {
        self.category = path.trim().to_owned();
        let last = self
            .category
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or("");
        self.objective = Objective::from_id(last.trim());
    }

    /// Convert one question (or note why not); fails only past the question limit.
    pub fn add(&mut self, q: LmsQuestion) -> anyhow::Result<()> {
        let at = q.at.clone();
        if self.out.questions.len() >= super::MAX_IMPORT_QUESTIONS {
            bail!(
                "{at}: more than {} questions; split the file",
                super::MAX_IMPORT_QUESTIONS
            );
        }
        let name = q.name.trim();
        let Some(objective) = self.objective else {
            self.out.notes.push(format!(
                "{at}: question `{name}`: its category `{}` is not a migralab learning \
                 objective (export categories as {CATEGORY_PREFIX}OBJECTIVE-ID); not imported",
                self.category
            ));
            return Ok(());
        };
        let base = [q.idnumber.trim(), name]
            .into_iter()
            .find(|s| valid_id(s))
            .map_or_else(|| id_from_name(name), str::to_owned);
        let mut id = base.clone();
        let mut n = 2;
        while self.ids.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        let mut notes = Vec::new();
        if id != name {
            notes.push(format!("{at}: question `{name}` is imported as `{id}`"));
        }
        let (prompt_html, error) = split_error(&q.prompt_html);
        let (prompt_html, unit_in_text) = split_marked(&prompt_html, UNIT_OPEN, "</span>");
        let unit = match unit_in_text {
            Some(u) if q.unit.is_empty() => u.trim().to_owned(),
            _ => q.unit.clone(),
        };
        let (prompt, both) = from_html(&prompt_html);
        if !both {
            notes.push(format!(
                "{at}: question `{id}`: written in one language; the same text is used for both"
            ));
        }
        let mut bq = BankQuestion {
            id: id.clone(),
            objective: objective.as_str().to_owned(),
            prompt,
            explanation: q.explanation.clone(),
            ..BankQuestion::default()
        };
        let answers = &q.answers;
        let kind = match q.qtype.as_str() {
            "multichoice" => {
                let single = q.single;
                bq.shuffle = q.shuffle.filter(|s| !s);
                if single
                    && answers
                        .iter()
                        .any(|a| a.fraction > 0.0 && a.fraction < 100.0)
                {
                    notes.push(format!("{at}: question `{id}`: partial credit for an option is not carried (migralab scores single choice 1 or 0)"));
                }
                bq.options = answers
                    .iter()
                    .map(|a| BankOption {
                        text: a.text.clone(),
                        correct: a.fraction > 0.0,
                        why: a.feedback.clone().unwrap_or_default(),
                    })
                    .collect();
                match (single, error) {
                    (true, Some(e)) => {
                        bq.error = Some(e);
                        Kind::Diagnose
                    }
                    (true, None) => Kind::Single,
                    (false, _) => Kind::Multi,
                }
            }
            "ordering" => {
                let mut steps: Vec<&LmsAnswer> = answers.iter().collect();
                steps.sort_by(|a, b| a.fraction.total_cmp(&b.fraction));
                bq.steps = steps
                    .into_iter()
                    .map(|a| BankStep {
                        text: a.text.clone(),
                        why: a.feedback.clone().unwrap_or_default(),
                    })
                    .collect();
                Kind::Order
            }
            "numerical" => {
                let right = answers
                    .iter()
                    .position(|a| a.fraction >= 100.0 && a.raw.trim().parse::<f64>().is_ok());
                if let Some(r) = right.map(|i| &answers[i]) {
                    bq.answer = r.raw.trim().parse().ok();
                    bq.tolerance = Some(r.tolerance.unwrap_or(0.0));
                }
                for (i, a) in answers.iter().enumerate() {
                    if Some(i) == right {
                        continue;
                    }
                    match (a.raw.trim().parse::<f64>(), &a.feedback, a.fraction) {
                        (Ok(value), Some(why), f) if f <= 0.0 => bq.pitfalls.push(BankPitfall {
                            value,
                            why: why.clone(),
                        }),
                        _ => notes.push(format!(
                            "{at}: question `{id}`: answer `{}` ({} %) is not carried (migralab has one right value and explained wrong ones)",
                            a.raw.trim(),
                            a.fraction
                        )),
                    }
                }
                bq.unit = Some(unit);
                Kind::Numeric
            }
            "shortanswer" => {
                let unstar = |s: &str| s.trim().replace("\\*", "*");
                let mut rest: Vec<(String, bool, Option<Text>)> = Vec::new();
                for a in answers {
                    let line = unstar(&a.raw);
                    if a.fraction >= 100.0 && bq.expected.is_none() {
                        bq.expected = Some(line);
                    } else {
                        rest.push((line, a.fraction >= 100.0, a.feedback.clone()));
                    }
                }
                if let Some(expected) = &bq.expected {
                    let r = command_variants::recover(&id, expected, &rest);
                    bq.optional_flags = r.optional_flags;
                    bq.mistakes = r
                        .mistakes
                        .into_iter()
                        .map(|(flag, when, why)| BankMistake { flag, when, why })
                        .collect();
                    notes.extend(r.notes.into_iter().map(|n| format!("{at}: {n}")));
                }
                Kind::Command
            }
            other => {
                self.out.notes.push(format!(
                    "{at}: question `{name}`: Moodle's `{other}` type has no migralab kind; not imported"
                ));
                return Ok(());
            }
        };
        bq.kind = kind.as_str().to_owned();
        match check_one(&bq) {
            Ok(()) => {
                self.ids.insert(id);
                self.out.notes.extend(notes);
                self.out.questions.push(bq);
            }
            Err(why) => self.out.notes.push(format!(
                "{at}: question `{id}` ({}): not imported: {why}",
                q.qtype
            )),
        }
        Ok(())
    }
}
