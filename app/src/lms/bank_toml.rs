//! Writing imported questions as a migralab question bank file (TOML, the schema of
//! `assets/quizzes/EXAMPLE.md`), so they are checked by the same loader as every bank.

use migralab_course::quiz::MistakeWhen;
use migralab_sim_core::text::Text;
use serde::Serialize;

/// One `[[question]]` table.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BankQuestion {
    /// `id`.
    pub id: String,
    /// `kind`.
    pub kind: String,
    /// `objective`.
    pub objective: String,
    /// `prompt`.
    pub prompt: Text,
    /// `explanation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Text>,
    /// `shuffle` (absent: true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shuffle: Option<bool>,
    /// `error` (diagnose).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `expected` (command).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// `optional_flags` (command).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub optional_flags: Vec<String>,
    /// `answer` (numeric).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<f64>,
    /// `tolerance` (numeric, absolute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
    /// `unit` (numeric).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// `[[question.option]]`.
    #[serde(rename = "option", skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<BankOption>,
    /// `[[question.step]]`.
    #[serde(rename = "step", skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<BankStep>,
    /// `[[question.pitfall]]`.
    #[serde(rename = "pitfall", skip_serializing_if = "Vec::is_empty")]
    pub pitfalls: Vec<BankPitfall>,
    /// `[[question.mistake]]`.
    #[serde(rename = "mistake", skip_serializing_if = "Vec::is_empty")]
    pub mistakes: Vec<BankMistake>,
}

/// `[[question.option]]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BankOption {
    /// `text`.
    pub text: Text,
    /// `correct`.
    pub correct: bool,
    /// `why`.
    pub why: Text,
}

/// `[[question.step]]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BankStep {
    /// `text`.
    pub text: Text,
    /// `why`.
    pub why: Text,
}

/// `[[question.pitfall]]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BankPitfall {
    /// `value`.
    pub value: f64,
    /// `why`.
    pub why: Text,
}

/// `[[question.mistake]]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BankMistake {
    /// `flag`.
    pub flag: String,
    /// `when`.
    pub when: MistakeWhen,
    /// `why`.
    pub why: Text,
}

#[derive(Serialize)]
struct File<'a> {
    question: &'a [BankQuestion],
}

/// The TOML text of a bank file holding `questions`.
pub fn to_toml(questions: &[BankQuestion]) -> anyhow::Result<String> {
    let body = toml::to_string_pretty(&File {
        question: questions,
    })?;
    Ok(format!(
        "# Imported by `migralab quiz --import`; check with `migralab quiz --check DIR`.\n\n{body}"
    ))
}

/// Validate one question alone with migralab's bank loader: `Err` carries its reasons.
pub fn check_one(q: &BankQuestion) -> Result<(), String> {
    let text = to_toml(std::slice::from_ref(q)).map_err(|e| e.to_string())?;
    migralab_course::quiz::Bank::from_toml_str(&text)
        .map(|_| ())
        .map_err(|errors| {
            errors
                .iter()
                .map(|e| {
                    // The location is in the generated text, which the user never sees.
                    let s = e.to_string();
                    s.split_once(": ").map_or(s.clone(), |(_, m)| m.to_owned())
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
}
