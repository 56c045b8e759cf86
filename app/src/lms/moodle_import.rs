//! Moodle XML into migralab questions: the reverse of [`super::moodle_export`], and what it can
//! take from a bank written in Moodle itself.
//!
//! Invariants:
//! - **Bounded and panic-free.** The caller reads at most a question bank's size limit; the
//!   parser refuses DTDs (so no entity expansion) and more than [`MAX_NODES`] nodes, and at most
//!   [`super::MAX_IMPORT_QUESTIONS`] questions are taken.
//! - **Checked like any bank.** Each question is validated alone by migralab's bank loader
//!   ([`check_one`]); one that fails (an option without feedback: migralab needs every option to
//!   say why) is left out with its reasons, by line, in the notes. Nothing is left out without a
//!   note.

use super::bank_toml::{BankMistake, BankOption, BankPitfall, BankQuestion, BankStep, check_one};
use super::command_variants;
use super::moodle_export::CATEGORY_PREFIX;
use super::multilang::{from_html, unescape};
use anyhow::bail;
use migralab_course::quiz::{Kind, Objective};
use migralab_sim_core::text::Text;
use roxmltree::{Document, Node, ParsingOptions};
use std::collections::BTreeSet;

/// The parser stops after this many XML nodes (a 4 MiB bank has far fewer).
pub const MAX_NODES: u32 = 500_000;

/// Questions read from a file, and what was left out or changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Imported {
    /// The questions, in file order.
    pub questions: Vec<BankQuestion>,
    /// What could not be carried, each naming where.
    pub notes: Vec<String>,
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

fn child<'a, 'i>(n: Node<'a, 'i>, tag: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(tag))
}

/// The `<text>` inside `<tag>`.
fn text_of(n: Node<'_, '_>, tag: &str) -> Option<String> {
    let t = child(child(n, tag)?, "text")?;
    Some(t.text().unwrap_or_default().to_owned())
}

/// A child's own text, trimmed.
fn value_of(n: Node<'_, '_>, tag: &str) -> Option<String> {
    child(n, tag).map(|c| c.text().unwrap_or_default().trim().to_owned())
}

fn bool_of(n: Node<'_, '_>, tag: &str) -> Option<bool> {
    value_of(n, tag).map(|v| matches!(v.as_str(), "true" | "1"))
}

/// One `<answer>`: fraction (percent), its text (decoded from HTML when it is HTML), feedback.
struct Answer {
    fraction: f64,
    text: Text,
    raw: String,
    feedback: Option<Text>,
    tolerance: Option<f64>,
}

fn answers(q: Node<'_, '_>) -> Vec<Answer> {
    q.children()
        .filter(|c| c.has_tag_name("answer"))
        .map(|a| {
            let raw = text_of_answer(a);
            let text = if a.attribute("format") == Some("html") {
                from_html(&raw).0
            } else {
                Text::same(raw.trim())
            };
            let feedback = text_of(a, "feedback")
                .filter(|f| !f.trim().is_empty())
                .map(|f| from_html(&f).0);
            Answer {
                fraction: a
                    .attribute("fraction")
                    .and_then(|f| f.trim().parse().ok())
                    .filter(|f: &f64| f.is_finite())
                    .unwrap_or(0.0),
                text,
                raw,
                feedback,
                tolerance: value_of(a, "tolerance").and_then(|t| t.parse().ok()),
            }
        })
        .collect()
}

fn text_of_answer(a: Node<'_, '_>) -> String {
    child(a, "text")
        .map(|t| t.text().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

/// The question text without our `<pre class="migralab-error">` (a diagnose question's libvirt
/// message), and that message.
fn split_error(html: &str) -> (String, Option<String>) {
    const OPEN: &str = "<pre class=\"migralab-error\">";
    let Some(start) = html.find(OPEN) else {
        return (html.to_owned(), None);
    };
    let body = &html[start + OPEN.len()..];
    let Some(end) = body.find("</pre>") else {
        return (html.to_owned(), None);
    };
    let rest = format!("{}{}", &html[..start], &body[end + "</pre>".len()..]);
    (rest, Some(unescape(&body[..end])))
}

/// Read Moodle XML (`origin` names the file in notes and errors).
pub fn import(text: &str, origin: &str) -> anyhow::Result<Imported> {
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..ParsingOptions::default()
    };
    let doc = match Document::parse_with_options(text, options) {
        Ok(d) => d,
        Err(e) => bail!("{origin}:{}: not well-formed XML: {e}", e.pos().row),
    };
    let root = doc.root_element();
    if !root.has_tag_name("quiz") {
        bail!(
            "{origin}:{}: the root element is <{}>, not Moodle XML's <quiz>",
            doc.text_pos_at(root.range().start).row,
            root.tag_name().name()
        );
    }
    let mut out = Imported::default();
    let mut objective: Option<Objective> = None;
    let mut category = String::new();
    let mut ids = BTreeSet::new();
    for q in root.children().filter(|c| c.has_tag_name("question")) {
        let line = doc.text_pos_at(q.range().start).row;
        let at = format!("{origin}:{line}");
        let qtype = q.attribute("type").unwrap_or_default();
        if qtype == "category" {
            category = text_of(q, "category").unwrap_or_default();
            let last = category
                .trim()
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("");
            objective = Objective::from_id(last.trim());
            continue;
        }
        if out.questions.len() >= super::MAX_IMPORT_QUESTIONS {
            bail!(
                "{at}: more than {} questions; split the file",
                super::MAX_IMPORT_QUESTIONS
            );
        }
        let name = text_of(q, "name").unwrap_or_default();
        let name = name.trim();
        let mut notes = Vec::new();
        let Some(objective) = objective else {
            out.notes.push(format!(
                "{at}: question `{name}`: its category `{category}` is not a migralab learning \
                 objective (export categories as {CATEGORY_PREFIX}OBJECTIVE-ID); not imported"
            ));
            continue;
        };
        let idnumber = value_of(q, "idnumber").unwrap_or_default();
        let base = [idnumber.as_str(), name]
            .into_iter()
            .find(|s| valid_id(s))
            .map_or_else(|| id_from_name(name), str::to_owned);
        let mut id = base.clone();
        let mut n = 2;
        while ids.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        if id != name {
            notes.push(format!("{at}: question `{name}` is imported as `{id}`"));
        }
        let (prompt_html, error) = split_error(&text_of(q, "questiontext").unwrap_or_default());
        let (prompt, both) = from_html(&prompt_html);
        if !both {
            notes.push(format!(
                "{at}: question `{id}`: written in one language; the same text is used for both"
            ));
        }
        let explanation = text_of(q, "generalfeedback")
            .filter(|t| !t.trim().is_empty())
            .map(|t| from_html(&t).0);
        let mut bq = BankQuestion {
            id: id.clone(),
            objective: objective.as_str().to_owned(),
            prompt,
            explanation,
            ..BankQuestion::default()
        };
        let answers = answers(q);
        let kind = match qtype {
            "multichoice" => {
                let single = bool_of(q, "single").unwrap_or(true);
                if bool_of(q, "shuffleanswers") == Some(false) {
                    bq.shuffle = Some(false);
                }
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
                let mut steps: Vec<&Answer> = answers.iter().collect();
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
                bq.unit = Some(
                    child(q, "units")
                        .into_iter()
                        .flat_map(|u| u.children().filter(|c| c.has_tag_name("unit")))
                        .find(|u| {
                            value_of(*u, "multiplier").and_then(|m| m.parse::<f64>().ok())
                                == Some(1.0)
                        })
                        .and_then(|u| value_of(u, "unit_name"))
                        .unwrap_or_default(),
                );
                Kind::Numeric
            }
            "shortanswer" => {
                let unstar = |s: &str| s.trim().replace("\\*", "*");
                let mut rest: Vec<(String, bool, Option<Text>)> = Vec::new();
                for a in &answers {
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
                out.notes.push(format!(
                    "{at}: question `{name}`: Moodle's `{other}` type has no migralab kind; not imported"
                ));
                continue;
            }
        };
        bq.kind = kind.as_str().to_owned();
        match check_one(&bq) {
            Ok(()) => {
                ids.insert(id);
                out.notes.extend(notes);
                out.questions.push(bq);
            }
            Err(why) => out.notes.push(format!(
                "{at}: question `{id}` ({qtype}): not imported: {why}"
            )),
        }
    }
    Ok(out)
}
