//! A question bank as Moodle XML (`qformat_xml`), the format Moodle's question bank imports.
//!
//! How each kind maps (the notes list what is lost):
//! - `single` → `multichoice` with `single` true: the right option 100 %, the others 0.
//! - `multi` → `multichoice` with `single` false: each right option 100/k %, each wrong one
//!   −100/w %, so Moodle's sum, floored at 0, is migralab's `hits/k − wrong picks/w`.
//! - `diagnose` → single choice; the libvirt message follows the prompt in
//!   `<pre class="migralab-error">`, which the import reads back as a `diagnose` question.
//! - `order` → the `ordering` question type (a Moodle plugin, standard since Moodle 4.4): the
//!   steps in the right order, `fraction` 1, 2, 3…; graded `RELATIVE_ALL_PREVIOUS_AND_NEXT`,
//!   the closest to migralab's share of step pairs in order.
//! - `numeric` → `numerical`: the answer with its tolerance (a percentage becomes the absolute
//!   width, as Moodle has no other), each pitfall as a 0 % answer with its explanation, the unit
//!   as a unit with multiplier 1.
//! - `command` → `shortanswer`, case-sensitive: see [`super::command_variants`].
//! - `predict` → not exported: it runs the simulator, which the LMS does not have.
//!
//! Every option's `why` is the answer's `feedback`, the explanation the `generalfeedback`, the
//! question id the `name` and `idnumber`, and each objective a category
//! `$course$/top/migralab/OBJECTIVE`.

use super::command_variants;
use super::convert::ERROR_OPEN;
use super::multilang::{escape, to_html};
use migralab_course::quiz::{Bank, Body, Choice, Question, Tolerance};
use migralab_sim_core::text::Text;
use std::fmt::Write as _;

/// The category path prefix of exported questions.
pub const CATEGORY_PREFIX: &str = "$course$/top/migralab/";

/// Moodle's fractions are percentages with up to 7 decimals; 5 keep the sums of `100/k`
/// within Moodle's rounding.
pub(crate) fn fraction(f: f64) -> String {
    let s = format!("{f:.5}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

fn text_el(out: &mut String, indent: &str, tag: &str, html: &str) {
    let _ = writeln!(
        out,
        "{indent}<{tag} format=\"html\">\n{indent}  <text>{}</text>\n{indent}</{tag}>",
        escape(html)
    );
}

fn answer_el(
    out: &mut String,
    fraction_pct: &str,
    text_html: &str,
    feedback: Option<&Text>,
    format: &str,
) {
    let _ = writeln!(
        out,
        "    <answer fraction=\"{fraction_pct}\" format=\"{format}\">"
    );
    let _ = writeln!(out, "      <text>{}</text>", escape(text_html));
    if let Some(f) = feedback {
        text_el(out, "      ", "feedback", &to_html(f));
    }
    out.push_str("    </answer>\n");
}

fn head(out: &mut String, qtype: &str, q: &Question, extra_text: &str) {
    let _ = writeln!(out, "  <question type=\"{qtype}\">");
    let _ = writeln!(
        out,
        "    <name>\n      <text>{}</text>\n    </name>",
        escape(&q.id)
    );
    text_el(
        out,
        "    ",
        "questiontext",
        &format!("{}{extra_text}", to_html(&q.prompt)),
    );
    text_el(
        out,
        "    ",
        "generalfeedback",
        &q.explanation.as_ref().map(to_html).unwrap_or_default(),
    );
    out.push_str("    <defaultgrade>1</defaultgrade>\n    <penalty>0.3333333</penalty>\n    <hidden>0</hidden>\n");
    let _ = writeln!(out, "    <idnumber>{}</idnumber>", escape(&q.id));
}

fn choices(out: &mut String, q: &Question, options: &[Choice], single: bool, extra_text: &str) {
    head(out, "multichoice", q, extra_text);
    let _ = writeln!(out, "    <single>{single}</single>");
    let _ = writeln!(out, "    <shuffleanswers>{}</shuffleanswers>", q.shuffle);
    out.push_str("    <answernumbering>abc</answernumbering>\n");
    let right = options.iter().filter(|o| o.correct).count().max(1) as f64;
    let wrong = options.iter().filter(|o| !o.correct).count().max(1) as f64;
    for o in options {
        let f = match (single, o.correct) {
            (true, true) => 100.0,
            (true, false) => 0.0,
            (false, true) => 100.0 / right,
            (false, false) => -100.0 / wrong,
        };
        answer_el(out, &fraction(f), &to_html(&o.text), Some(&o.why), "html");
    }
}

/// A numeric question's tolerance as the absolute width LMS formats have; a percentage is
/// noted as converted.
pub(crate) fn absolute_tolerance(
    q: &Question,
    answer: f64,
    tolerance: Tolerance,
    notes: &mut Vec<String>,
) -> f64 {
    let width = tolerance.width(answer);
    if let Tolerance::Percent(p) = tolerance {
        notes.push(format!(
            "question `{}`: the tolerance of {p} % is exported as ±{width} (the LMS's tolerance is absolute)",
            q.id
        ));
    }
    width
}

/// The bank as Moodle XML, and what could not be carried.
pub fn export(bank: &Bank) -> super::Exported {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<quiz>\n");
    let mut notes = Vec::new();
    let mut category = None;
    let mut questions = 0;
    for q in bank.questions() {
        if matches!(q.body, Body::Predict { .. }) {
            notes.push(format!(
                "question `{}`: a \"predict the outcome\" question runs the simulator; not exported",
                q.id
            ));
            continue;
        }
        if category != Some(q.objective) {
            category = Some(q.objective);
            out.push_str("  <question type=\"category\">\n");
            let _ = writeln!(
                out,
                "    <category>\n      <text>{}{}</text>\n    </category>",
                CATEGORY_PREFIX,
                q.objective.as_str()
            );
            text_el(&mut out, "    ", "info", &to_html(&q.objective.title()));
            out.push_str("  </question>\n");
        }
        questions += 1;
        match &q.body {
            Body::Single { options } => choices(&mut out, q, options, true, ""),
            Body::Multi { options } => choices(&mut out, q, options, false, ""),
            Body::Diagnose { error, options } => {
                let pre = format!("{ERROR_OPEN}{}</pre>", escape(error));
                choices(&mut out, q, options, true, &pre);
            }
            Body::Order { steps } => {
                head(&mut out, "ordering", q, "");
                out.push_str(
                    "    <layouttype>VERTICAL</layouttype>\n    <selecttype>ALL</selecttype>\n    <selectcount>0</selectcount>\n    <gradingtype>RELATIVE_ALL_PREVIOUS_AND_NEXT</gradingtype>\n    <showgrading>SHOW</showgrading>\n    <numberingstyle>none</numberingstyle>\n",
                );
                for (i, s) in steps.iter().enumerate() {
                    answer_el(
                        &mut out,
                        &(i + 1).to_string(),
                        &to_html(&s.text),
                        Some(&s.why),
                        "html",
                    );
                }
            }
            Body::Numeric {
                answer,
                tolerance,
                unit,
                pitfalls,
            } => {
                head(&mut out, "numerical", q, "");
                let width = absolute_tolerance(q, *answer, *tolerance, &mut notes);
                let mut numeric_answer = |f: &str, value: f64, why: Option<&Text>| {
                    let _ = writeln!(
                        out,
                        "    <answer fraction=\"{f}\" format=\"moodle_auto_format\">"
                    );
                    let _ = writeln!(out, "      <text>{value}</text>");
                    let _ = writeln!(out, "      <tolerance>{width}</tolerance>");
                    if let Some(w) = why {
                        text_el(&mut out, "      ", "feedback", &to_html(w));
                    }
                    out.push_str("    </answer>\n");
                };
                numeric_answer("100", *answer, None);
                for p in pitfalls {
                    numeric_answer("0", p.value, Some(&p.why));
                }
                if !unit.is_empty() {
                    let _ = writeln!(
                        out,
                        "    <units>\n      <unit>\n        <multiplier>1</multiplier>\n        <unit_name>{}</unit_name>\n      </unit>\n    </units>",
                        escape(unit)
                    );
                }
                // Units shown beside the box, not graded (migralab grades the number alone).
                out.push_str("    <unitgradingtype>0</unitgradingtype>\n    <unitpenalty>0</unitpenalty>\n    <showunits>3</showunits>\n    <unitsleft>0</unitsleft>\n");
            }
            Body::Command {
                expected_text,
                optional_flags,
                mistakes,
                ..
            } => {
                head(&mut out, "shortanswer", q, "");
                out.push_str("    <usecase>1</usecase>\n");
                let v = command_variants::export(&q.id, expected_text, optional_flags, mistakes);
                notes.extend(v.notes);
                for (line, right, why) in &v.answers {
                    // `*` is Moodle's wildcard in a short answer; a literal one is `\*`.
                    let text = line.replace('*', "\\*");
                    answer_el(
                        &mut out,
                        if *right { "100" } else { "0" },
                        &text,
                        why.as_ref(),
                        "moodle_auto_format",
                    );
                }
            }
            Body::Predict { .. } => {}
        }
        out.push_str("  </question>\n");
    }
    out.push_str("</quiz>\n");
    super::Exported {
        text: out,
        notes,
        questions,
    }
}
