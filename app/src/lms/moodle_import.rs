//! Moodle XML into migralab questions: the reverse of [`super::moodle_export`], and what it can
//! take from a bank written in Moodle itself.
//!
//! Invariants:
//! - **Bounded and panic-free.** The caller reads at most a question bank's size limit; the
//!   parser refuses DTDs (so no entity expansion) and more than [`MAX_NODES`] nodes, and at most
//!   [`super::MAX_IMPORT_QUESTIONS`] questions are taken.
//! - **Checked like any bank** (see [`Converter`]): a question migralab cannot use is left out
//!   with its reasons, by line, in the notes. Nothing is left out without a note.

use super::convert::{Converter, Imported, LmsAnswer, LmsQuestion};
use super::multilang::from_html;
use anyhow::bail;
use migralab_sim_core::text::Text;
use roxmltree::{Document, Node, ParsingOptions};

/// The parser stops after this many XML nodes (a 4 MiB bank has far fewer).
pub const MAX_NODES: u32 = 500_000;

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

fn answers(q: Node<'_, '_>) -> Vec<LmsAnswer> {
    q.children()
        .filter(|c| c.has_tag_name("answer"))
        .map(|a| {
            let raw = child(a, "text")
                .map(|t| t.text().unwrap_or_default().to_owned())
                .unwrap_or_default();
            let text = if a.attribute("format") == Some("html") {
                from_html(&raw).0
            } else {
                Text::same(raw.trim())
            };
            let feedback = text_of(a, "feedback")
                .filter(|f| !f.trim().is_empty())
                .map(|f| from_html(&f).0);
            LmsAnswer {
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

/// A numerical question's unit: the one with multiplier 1.
fn unit_of(q: Node<'_, '_>) -> String {
    child(q, "units")
        .into_iter()
        .flat_map(|u| u.children().filter(|c| c.has_tag_name("unit")))
        .find(|u| value_of(*u, "multiplier").and_then(|m| m.parse::<f64>().ok()) == Some(1.0))
        .and_then(|u| value_of(u, "unit_name"))
        .unwrap_or_default()
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
    let mut conv = Converter::default();
    for q in root.children().filter(|c| c.has_tag_name("question")) {
        let line = doc.text_pos_at(q.range().start).row;
        let qtype = q.attribute("type").unwrap_or_default();
        if qtype == "category" {
            conv.category(&text_of(q, "category").unwrap_or_default());
            continue;
        }
        conv.add(LmsQuestion {
            at: format!("{origin}:{line}"),
            qtype: qtype.to_owned(),
            name: text_of(q, "name").unwrap_or_default(),
            idnumber: value_of(q, "idnumber").unwrap_or_default(),
            prompt_html: text_of(q, "questiontext").unwrap_or_default(),
            explanation: text_of(q, "generalfeedback")
                .filter(|t| !t.trim().is_empty())
                .map(|t| from_html(&t).0),
            single: bool_of(q, "single").unwrap_or(true),
            shuffle: bool_of(q, "shuffleanswers"),
            unit: unit_of(q),
            answers: answers(q),
        })?;
    }
    Ok(conv.out)
}
