//! Turning the TOML files of a bank into validated [`Question`]s, with every error located by
//! file, line and column (the approach of `Scenario::load`: schema errors come from serde with the
//! span toml gives; rule errors carry a dotted path that is looked up in the text afterwards).
//!
//! The file schema is deliberately flat: one `[[question]]` table with every key any kind can
//! use, `deny_unknown_fields` everywhere, and the per-kind rules (which keys are required, which
//! are not allowed) checked here. An internally tagged enum would lose toml's spans.

use super::command::{MigrateCommand, Mistake, MistakeWhen, is_migrate_flag};
use super::{
    Bank, Body, Choice, Expect, Kind, Located, Location, Objective, Pitfall, Prediction, Question,
    Step, Tolerance,
};
use migralab_sim_core::located::LocatedError;
use migralab_sim_core::text::Text;
use migralab_sim_core::tomlspan::{line_col, offset_of_path};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::de::DeTable;

/// A question bank file that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuizError {
    /// A file is not valid TOML or does not fit the schema (unknown key, wrong type, unknown kind
    /// or objective), or a question breaks a rule (missing translation, missing explanation, two
    /// correct options in a single-choice question, ...): then the error is about
    /// ``question `ID` `` (or `#N` when it has none).
    #[error(transparent)]
    Located(#[from] LocatedError),
    /// A question id asked for (`--only`, a review list) that the bank does not have.
    #[error("no question has the id `{id}`")]
    UnknownQuestion {
        /// The id.
        id: String,
    },
    /// The bank as a whole is unusable (no questions at all).
    #[error("{origin}: {message}")]
    Bank {
        /// The folder or file list.
        origin: String,
        /// What is wrong.
        message: String,
    },
}

impl QuizError {
    /// Where the error is, if it has a line.
    pub fn location(&self) -> Option<Location> {
        match self {
            QuizError::Located(e) => Some(e.location()),
            QuizError::Bank { .. } | QuizError::UnknownQuestion { .. } => None,
        }
    }
}

/// A rule error about question `name` at `at`.
fn invalid(at: Location, name: &str, message: impl Into<String>) -> QuizError {
    LocatedError::at(at, message)
        .about(format!("question `{name}`"))
        .into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default, rename = "question")]
    questions: Vec<RawQuestion>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Option<String>,
    kind: Option<Kind>,
    objective: Option<Objective>,
    prompt: Option<Text>,
    explanation: Option<Text>,
    shuffle: Option<bool>,
    #[serde(default, rename = "option")]
    options: Vec<RawOption>,
    #[serde(default, rename = "step")]
    steps: Vec<RawStep>,
    error: Option<String>,
    expected: Option<String>,
    #[serde(default)]
    optional_flags: Vec<String>,
    #[serde(default, rename = "mistake")]
    mistakes: Vec<RawMistake>,
    answer: Option<f64>,
    tolerance: Option<f64>,
    tolerance_percent: Option<f64>,
    unit: Option<String>,
    #[serde(default, rename = "pitfall")]
    pitfalls: Vec<RawPitfall>,
    scenario: Option<String>,
    #[serde(default)]
    set: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    text: Option<Text>,
    #[serde(default)]
    correct: bool,
    why: Option<Text>,
    expect: Option<Expect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    text: Option<Text>,
    why: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMistake {
    flag: String,
    when: MistakeWhen,
    why: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPitfall {
    value: f64,
    why: Option<Text>,
}

/// Options and steps per question.
const MIN_OPTIONS: usize = 2;
const MAX_OPTIONS: usize = 8;
const MIN_STEPS: usize = 3;

impl Bank {
    /// Parse and validate a bank from one TOML text (named `<string>` in errors).
    pub fn from_toml_str(text: &str) -> Result<Bank, Vec<QuizError>> {
        Bank::load(&[Located {
            text,
            origin: "<string>",
        }])
    }

    /// Parse and validate every file of a bank. Returns every error found (each file stops at
    /// its first TOML/schema error; rule errors are all reported), or the bank.
    pub fn load(files: &[Located<'_>]) -> Result<Bank, Vec<QuizError>> {
        let mut errors = Vec::new();
        let mut questions = Vec::new();
        for src in files {
            match load_file(*src) {
                Ok(qs) => questions.extend(qs),
                Err(errs) => errors.extend(errs),
            }
        }
        // Ids are unique across the whole bank: a review list or a progress file names them.
        let mut seen: BTreeMap<&str, &Location> = BTreeMap::new();
        for q in &questions {
            if let Some(first) = seen.get(q.id.as_str()) {
                errors.push(invalid(
                    q.at.clone(),
                    &q.id,
                    format!("the id is already used at {first}"),
                ));
            } else {
                seen.insert(&q.id, &q.at);
            }
        }
        if errors.is_empty() && questions.is_empty() {
            let origin = files
                .iter()
                .map(|f| f.origin)
                .collect::<Vec<_>>()
                .join(", ");
            errors.push(QuizError::Bank {
                origin: if origin.is_empty() {
                    "<no files>".into()
                } else {
                    origin
                },
                message: "the bank has no questions (add [[question]] tables)".into(),
            });
        }
        if errors.is_empty() {
            Ok(Bank { questions })
        } else {
            Err(errors)
        }
    }
}

fn load_file(src: Located<'_>) -> Result<Vec<Question>, Vec<QuizError>> {
    let raw: RawFile = toml::from_str(src.text)
        .map_err(|e| vec![QuizError::from(LocatedError::from_toml(src, &e))])?;
    let spans = Spans::new(src.text);
    let mut errors = Vec::new();
    let mut questions = Vec::new();
    for (i, rq) in raw.questions.into_iter().enumerate() {
        let mut v = Validator {
            base: format!("question.{i}"),
            errors: Vec::new(),
        };
        let name = rq.id.clone().unwrap_or_else(|| format!("#{}", i + 1));
        let at = spans.location(src.origin, &v.base);
        let q = v.question(rq, at, &spans, src.origin);
        if v.errors.is_empty() {
            questions.extend(q);
        }
        for (path, message) in v.errors {
            errors.push(invalid(spans.location(src.origin, &path), &name, message));
        }
    }
    if errors.is_empty() {
        Ok(questions)
    } else {
        Err(errors)
    }
}

/// Collects rule errors of one question as (dotted path, message).
struct Validator {
    base: String,
    errors: Vec<(String, String)>,
}

impl Validator {
    fn err(&mut self, rel: &str, message: impl Into<String>) {
        let path = if rel.is_empty() {
            self.base.clone()
        } else {
            format!("{}.{rel}", self.base)
        };
        self.errors.push((path, message.into()));
    }

    /// A required bilingual text: both languages present and not blank.
    fn text(&mut self, rel: &str, t: Option<Text>, what: &str) -> Text {
        match t {
            None => {
                // Reported where the enclosing table starts.
                let parent = rel.rsplit_once('.').map_or("", |(p, _)| p);
                self.err(
                    parent,
                    format!(
                        "{what} is missing: add `{rel_key}.id` and `{rel_key}.en`",
                        rel_key = last(rel)
                    ),
                );
                Text::default()
            }
            Some(t) => {
                self.translations(rel, &t, what);
                t
            }
        }
    }

    fn translations(&mut self, rel: &str, t: &Text, what: &str) {
        for (lang, value, name) in [("id", &t.id, "Bahasa Indonesia"), ("en", &t.en, "English")] {
            if value.trim().is_empty() {
                let path = if value.is_empty() {
                    rel.to_string()
                } else {
                    format!("{rel}.{lang}")
                };
                self.err(
                    &path,
                    format!(
                        "missing translation: {what} has no {name} text (`{}.{lang}`)",
                        last(rel)
                    ),
                );
            }
        }
    }

    fn not_for(&mut self, kind: Kind, key: &str, present: bool, for_kinds: &str) {
        if present {
            self.err(
                key,
                format!(
                    "`{key}` is not used by `{}` questions (only by {for_kinds})",
                    kind.as_str()
                ),
            );
        }
    }

    fn question(
        &mut self,
        rq: RawQuestion,
        at: Location,
        spans: &Spans,
        origin: &str,
    ) -> Option<Question> {
        let id = match rq.id {
            Some(id) if valid_id(&id) => id,
            Some(id) => {
                self.err(
                    "id",
                    format!("id `{id}` may use only lower-case letters, digits, `-`, `_` and `.`"),
                );
                id
            }
            None => {
                self.err("", "the question has no `id`");
                String::new()
            }
        };
        let Some(kind) = rq.kind else {
            self.err(
                "",
                "the question has no `kind` (single, multi, order, command, diagnose, numeric or predict)",
            );
            return None;
        };
        let objective = rq.objective;
        if objective.is_none() {
            self.err(
                "",
                "the question has no `objective` (e.g. objective = \"flag-live\")",
            );
        }
        let prompt = self.text("prompt", rq.prompt, "the prompt");
        let explanation = rq.explanation.inspect(|t| {
            self.translations("explanation", t, "the explanation");
        });

        // Keys that belong to other kinds.
        let uses_options = matches!(
            kind,
            Kind::Single | Kind::Multi | Kind::Diagnose | Kind::Predict
        );
        self.not_for(
            kind,
            "option",
            !uses_options && !rq.options.is_empty(),
            "single, multi, diagnose and predict",
        );
        self.not_for(
            kind,
            "step",
            kind != Kind::Order && !rq.steps.is_empty(),
            "order",
        );
        self.not_for(
            kind,
            "error",
            kind != Kind::Diagnose && rq.error.is_some(),
            "diagnose",
        );
        let command = kind == Kind::Command;
        self.not_for(
            kind,
            "expected",
            !command && rq.expected.is_some(),
            "command",
        );
        self.not_for(
            kind,
            "optional_flags",
            !command && !rq.optional_flags.is_empty(),
            "command",
        );
        self.not_for(
            kind,
            "mistake",
            !command && !rq.mistakes.is_empty(),
            "command",
        );
        let numeric = kind == Kind::Numeric;
        self.not_for(kind, "answer", !numeric && rq.answer.is_some(), "numeric");
        self.not_for(
            kind,
            "tolerance",
            !numeric && rq.tolerance.is_some(),
            "numeric",
        );
        self.not_for(
            kind,
            "tolerance_percent",
            !numeric && rq.tolerance_percent.is_some(),
            "numeric",
        );
        self.not_for(kind, "unit", !numeric && rq.unit.is_some(), "numeric");
        self.not_for(
            kind,
            "pitfall",
            !numeric && !rq.pitfalls.is_empty(),
            "numeric",
        );
        let predict = kind == Kind::Predict;
        self.not_for(
            kind,
            "scenario",
            !predict && rq.scenario.is_some(),
            "predict",
        );
        self.not_for(kind, "set", !predict && !rq.set.is_empty(), "predict");
        if rq.shuffle.is_some() && !uses_options {
            self.not_for(kind, "shuffle", true, "single, multi, diagnose and predict");
        }
        if matches!(kind, Kind::Numeric | Kind::Command) && explanation.is_none() {
            self.err(
                "",
                "numeric and command questions need an `explanation` (the worked answer)",
            );
        }

        let body = match kind {
            Kind::Single | Kind::Multi | Kind::Diagnose => {
                let options = self.choices(kind, rq.options);
                match kind {
                    Kind::Single => Body::Single { options },
                    Kind::Multi => Body::Multi { options },
                    _ => {
                        let error = rq.error.unwrap_or_default();
                        if error.trim().is_empty() {
                            self.err(
                                "",
                                "a diagnose question needs `error`: the libvirt message the student reads",
                            );
                        }
                        Body::Diagnose { error, options }
                    }
                }
            }
            Kind::Predict => {
                let expects: Vec<Option<Expect>> =
                    rq.options.iter().map(|o| o.expect.clone()).collect();
                let choices = self.choices(kind, rq.options);
                let mut options = Vec::new();
                for (i, (choice, expect)) in choices.into_iter().zip(expects).enumerate() {
                    match expect {
                        Some(expect) => options.push(Prediction { choice, expect }),
                        None => self.err(
                            &format!("option.{i}"),
                            format!(
                                "option {} of a predict question needs `expect`, e.g. expect = {{ status = \"completed\" }}",
                                i + 1
                            ),
                        ),
                    }
                }
                for i in 0..options.len() {
                    for j in 0..i {
                        if options[i].expect == options[j].expect {
                            self.err(
                                &format!("option.{i}.expect"),
                                format!(
                                    "options {} and {} expect the same outcome: the simulator could not tell them apart",
                                    j + 1,
                                    i + 1
                                ),
                            );
                        }
                    }
                }
                let scenario = rq.scenario.unwrap_or_default();
                if scenario.trim().is_empty() {
                    self.err(
                        "",
                        "a predict question needs `scenario`: the shipped scenario to run (e.g. \"busy-db-no-converge\")",
                    );
                }
                for (i, s) in rq.set.iter().enumerate() {
                    if !s.contains('=') {
                        self.err(
                            &format!("set.{i}"),
                            format!(
                                "`{s}` is not key=value (e.g. \"migration.auto_converge=true\")"
                            ),
                        );
                    }
                }
                Body::Predict {
                    scenario_at: spans.location(origin, &format!("{}.scenario", self.base)),
                    scenario,
                    overrides: rq.set,
                    options,
                }
            }
            Kind::Order => {
                if rq.steps.len() < MIN_STEPS || rq.steps.len() > MAX_OPTIONS {
                    self.err(
                        "",
                        format!(
                            "an order question needs {MIN_STEPS} to {MAX_OPTIONS} `[[question.step]]` tables, in the correct order (has {})",
                            rq.steps.len()
                        ),
                    );
                }
                let steps = rq
                    .steps
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let n = i + 1;
                        Step {
                            text: self.text(
                                &format!("step.{i}.text"),
                                s.text,
                                &format!("step {n}"),
                            ),
                            why: self.text(
                                &format!("step.{i}.why"),
                                s.why,
                                &format!("the explanation (`why`) of step {n}"),
                            ),
                        }
                    })
                    .collect();
                Body::Order { steps }
            }
            Kind::Command => {
                let expected_text = rq.expected.unwrap_or_default();
                let expected = match MigrateCommand::parse(&expected_text) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        let at = if expected_text.is_empty() {
                            ""
                        } else {
                            "expected"
                        };
                        self.err(
                            at,
                            format!("`expected` must be a `virsh migrate` command: {e}"),
                        );
                        None
                    }
                };
                for (i, f) in rq.optional_flags.iter().enumerate() {
                    if !is_migrate_flag(f) {
                        self.err(
                            &format!("optional_flags.{i}"),
                            format!("`{f}` is not a virsh migrate flag"),
                        );
                    }
                }
                let mut mistakes = Vec::new();
                for (i, m) in rq.mistakes.into_iter().enumerate() {
                    if !is_migrate_flag(&m.flag) {
                        self.err(
                            &format!("mistake.{i}.flag"),
                            format!("`{}` is not a virsh migrate flag", m.flag),
                        );
                    }
                    let why = self.text(
                        &format!("mistake.{i}.why"),
                        m.why,
                        &format!("the explanation of mistake {}", i + 1),
                    );
                    mistakes.push(Mistake {
                        flag: m.flag.trim_start_matches("--").to_string(),
                        when: m.when,
                        why,
                    });
                }
                let expected = expected?;
                Body::Command {
                    expected_text,
                    expected,
                    optional_flags: rq.optional_flags,
                    mistakes,
                }
            }
            Kind::Numeric => {
                let answer = rq.answer.unwrap_or(f64::NAN);
                if rq.answer.is_none() {
                    self.err("", "a numeric question needs `answer`");
                } else if !answer.is_finite() {
                    self.err("answer", "`answer` must be a finite number");
                }
                let tolerance = match (rq.tolerance, rq.tolerance_percent) {
                    (Some(t), None) => Tolerance::Absolute(t),
                    (None, Some(p)) => Tolerance::Percent(p),
                    (Some(_), Some(_)) => {
                        self.err(
                            "tolerance_percent",
                            "give either `tolerance` (absolute) or `tolerance_percent`, not both",
                        );
                        Tolerance::Absolute(0.0)
                    }
                    (None, None) => {
                        self.err(
                            "",
                            "a numeric question needs `tolerance` (absolute, in the unit) or `tolerance_percent`",
                        );
                        Tolerance::Absolute(0.0)
                    }
                };
                for (key, value) in [
                    ("tolerance", rq.tolerance),
                    ("tolerance_percent", rq.tolerance_percent),
                ] {
                    if value.is_some_and(|t| !(t.is_finite() && t > 0.0)) {
                        self.err(key, format!("`{key}` must be a positive number"));
                    }
                }
                let unit = rq.unit.unwrap_or_default();
                if unit.trim().is_empty() {
                    self.err("", "a numeric question needs `unit` (e.g. \"s\", \"MiB\")");
                }
                let pitfalls = rq
                    .pitfalls
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| Pitfall {
                        value: p.value,
                        why: self.text(
                            &format!("pitfall.{i}.why"),
                            p.why,
                            &format!("the explanation of pitfall {}", i + 1),
                        ),
                    })
                    .collect::<Vec<_>>();
                for (i, p) in pitfalls.iter().enumerate() {
                    if (p.value - answer).abs() <= tolerance.width(answer) {
                        self.err(
                            &format!("pitfall.{i}.value"),
                            "this pitfall is within the tolerance of the right answer",
                        );
                    }
                }
                Body::Numeric {
                    answer,
                    tolerance,
                    unit,
                    pitfalls,
                }
            }
        };
        Some(Question {
            id,
            objective: objective?,
            prompt,
            explanation,
            shuffle: rq.shuffle.unwrap_or(true),
            body,
            at,
        })
    }

    /// The options of a choice question, with the per-kind rules on how many are right.
    fn choices(&mut self, kind: Kind, raw: Vec<RawOption>) -> Vec<Choice> {
        if raw.len() < MIN_OPTIONS || raw.len() > MAX_OPTIONS {
            self.err(
                "",
                format!(
                    "a `{}` question needs {MIN_OPTIONS} to {MAX_OPTIONS} `[[question.option]]` tables (has {})",
                    kind.as_str(),
                    raw.len()
                ),
            );
        }
        let mut out = Vec::new();
        for (i, o) in raw.into_iter().enumerate() {
            let n = i + 1;
            if kind != Kind::Predict && o.expect.is_some() {
                self.err(
                    &format!("option.{i}.expect"),
                    "`expect` is only for predict questions",
                );
            }
            let text = self.text(&format!("option.{i}.text"), o.text, &format!("option {n}"));
            let why = self.text(
                &format!("option.{i}.why"),
                o.why,
                &format!("the explanation (`why`) of option {n}"),
            );
            out.push(Choice {
                text,
                correct: o.correct,
                why,
            });
        }
        let right: Vec<usize> = out
            .iter()
            .enumerate()
            .filter(|(_, c)| c.correct)
            .map(|(i, _)| i)
            .collect();
        match (kind, right.as_slice()) {
            (_, []) if !out.is_empty() => self.err(
                "",
                "no option is marked `correct = true`",
            ),
            (Kind::Single | Kind::Diagnose | Kind::Predict, [_, second, ..]) => self.err(
                &format!("option.{second}.correct"),
                format!(
                    "a `{}` question has exactly one correct option, but options {} are marked correct (use kind = \"multi\" for several)",
                    kind.as_str(),
                    right
                        .iter()
                        .map(|i| (i + 1).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            _ => {}
        }
        out
    }
}

fn last(rel: &str) -> &str {
    rel.rsplit('.').next().unwrap_or(rel)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

/// Finds where a dotted path (`question.3.option.1.why.en`) is written.
struct Spans<'a> {
    text: &'a str,
    root: Option<toml::Spanned<DeTable<'a>>>,
}

impl<'a> Spans<'a> {
    fn new(text: &'a str) -> Spans<'a> {
        Spans {
            text,
            root: DeTable::parse(text).ok(),
        }
    }

    fn location(&self, origin: &str, path: &str) -> Location {
        let (line, column) = self.line_col_of(path);
        Location {
            origin: origin.to_string(),
            line,
            column,
        }
    }

    /// The value at `path`, or the deepest table on that path that exists.
    fn line_col_of(&self, path: &str) -> (usize, usize) {
        match &self.root {
            Some(root) => line_col(self.text, offset_of_path(root, path)),
            None => (1, 1),
        }
    }
}
