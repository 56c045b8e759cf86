//! GIFT, the plain-text question format Moodle (and other platforms) import: written for the
//! kinds GIFT has, read back for those and what a teacher types.
//!
//! How migralab maps (see [`super::moodle_export`] for the reasons, which are the same):
//! `single` and `diagnose` are `=right ~wrong` (the libvirt message in
//! `<pre class="migralab-error">`), `multi` is `~%50%right ~%-50%wrong`, `numeric` is
//! `{#=%100%ANSWER:TOLERANCE =%0%PITFALL:TOLERANCE#why}` (GIFT has no units: the unit follows the
//! prompt in `<span class="migralab-unit">`), `command` a short answer (`=` each accepted
//! spelling, `=%0%` each described mistake). GIFT has no ordering questions and no "keep the
//! option order": both are noted. Texts are `[html]` with the multilang spans; every GIFT special
//! character (`~ = # { } :` and `\`) is escaped with `\`, new lines as `\n`.
//!
//! Reading is bounded and panic-free: the caller reads at most a question bank's size; the
//! parser walks characters, never slices inside one, and stops at
//! [`super::MAX_IMPORT_QUESTIONS`].

use super::command_variants;
use super::convert::{Converter, ERROR_OPEN, Imported, LmsAnswer, LmsQuestion, UNIT_OPEN};
use super::moodle_export::{CATEGORY_PREFIX, absolute_tolerance, fraction};
use super::multilang::{escape as html_escape, from_html, to_html};
use migralab_course::quiz::{Bank, Body, Choice, Question};
use migralab_sim_core::text::Text;
use std::fmt::Write as _;

/// Escape a text for GIFT.
fn gift_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '~' | '=' | '#' | '{' | '}' | ':' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

fn html(t: &Text) -> String {
    gift_escape(&to_html(t))
}

fn choices(out: &mut String, options: &[Choice], single: bool) {
    let right = options.iter().filter(|o| o.correct).count().max(1) as f64;
    let wrong = options.iter().filter(|o| !o.correct).count().max(1) as f64;
    for o in options {
        let mark = match (single, o.correct) {
            (true, true) => "=".to_owned(),
            (true, false) => "~".to_owned(),
            (false, true) => format!("~%{}%", fraction(100.0 / right)),
            (false, false) => format!("~%{}%", fraction(-100.0 / wrong)),
        };
        let _ = writeln!(out, "  {mark}{}#{}", html(&o.text), html(&o.why));
    }
}

fn head(out: &mut String, q: &Question, extra_html: &str) {
    let _ = writeln!(
        out,
        "::{}::[html]{}{}{{",
        gift_escape(&q.id),
        html(&q.prompt),
        gift_escape(extra_html)
    );
}

fn tail(out: &mut String, q: &Question) {
    if let Some(e) = &q.explanation {
        let _ = writeln!(out, "  ####{}", html(e));
    }
    out.push_str("}\n\n");
}

/// The bank as GIFT, and what could not be carried.
pub fn export(bank: &Bank) -> super::Exported {
    let mut out = String::from(
        "// migralab question bank (`migralab quiz --export gift`); import in Moodle with \"Get category from file\".\n\n",
    );
    let mut notes = Vec::new();
    let mut category = None;
    let mut questions = 0;
    for q in bank.questions() {
        let skip = match &q.body {
            Body::Predict { .. } => Some("a \"predict the outcome\" question runs the simulator"),
            Body::Order { .. } => Some("GIFT has no ordering questions (use Moodle XML)"),
            _ => None,
        };
        if let Some(why) = skip {
            notes.push(format!("question `{}`: {why}; not exported", q.id));
            continue;
        }
        questions += 1;
        if category != Some(q.objective) {
            category = Some(q.objective);
            let _ = writeln!(
                out,
                "$CATEGORY: {CATEGORY_PREFIX}{}\n",
                q.objective.as_str()
            );
        }
        if !q.shuffle {
            notes.push(format!(
                "question `{}`: GIFT cannot keep the options in order; the quiz's setting decides",
                q.id
            ));
        }
        match &q.body {
            Body::Single { options } => {
                head(&mut out, q, "");
                choices(&mut out, options, true);
            }
            Body::Multi { options } => {
                head(&mut out, q, "");
                choices(&mut out, options, false);
            }
            Body::Diagnose { error, options } => {
                head(
                    &mut out,
                    q,
                    &format!("{ERROR_OPEN}{}</pre>", html_escape(error)),
                );
                choices(&mut out, options, true);
            }
            Body::Numeric {
                answer,
                tolerance,
                unit,
                pitfalls,
            } => {
                let width = absolute_tolerance(q, *answer, *tolerance, &mut notes);
                head(
                    &mut out,
                    q,
                    &format!(" {UNIT_OPEN}{}</span>", html_escape(unit)),
                );
                out.push_str("  #\n");
                let _ = writeln!(out, "  =%100%{answer}:{width}");
                for p in pitfalls {
                    let _ = writeln!(out, "  =%0%{}:{width}#{}", p.value, html(&p.why));
                }
            }
            Body::Command {
                expected_text,
                optional_flags,
                mistakes,
                ..
            } => {
                head(&mut out, q, "");
                let v = command_variants::export(&q.id, expected_text, optional_flags, mistakes);
                notes.extend(v.notes);
                for (line, right, why) in &v.answers {
                    // Short answers are compared as HTML text: escaped like the rest.
                    let text = gift_escape(&html_escape(line));
                    match (right, why) {
                        (true, _) => {
                            let _ = writeln!(out, "  ={text}");
                        }
                        (false, Some(w)) => {
                            let _ = writeln!(out, "  =%0%{text}#{}", html(w));
                        }
                        (false, None) => {}
                    }
                }
            }
            Body::Order { .. } | Body::Predict { .. } => {}
        }
        tail(&mut out, q);
    }
    super::Exported {
        text: out,
        notes,
        questions,
    }
}

// ---- reading ----------------------------------------------------------------------------------

/// A text with GIFT's escapes: characters, each marked escaped or not.
type Chars = Vec<(char, bool)>;

fn lex(s: &str) -> Chars {
    let mut out = Vec::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('n') => out.push(('\n', true)),
                Some(e) => out.push((e, true)),
                None => out.push(('\\', true)),
            }
        } else {
            out.push((c, false));
        }
    }
    out
}

fn text_of(chars: &[(char, bool)]) -> String {
    chars.iter().map(|(c, _)| *c).collect()
}

/// The index of the first unescaped `c` at or after `from`.
fn find(chars: &[(char, bool)], from: usize, c: char) -> Option<usize> {
    (from..chars.len()).find(|&i| chars[i] == (c, false))
}

/// The index of the first unescaped occurrence of `pat`.
fn find_str(chars: &[(char, bool)], pat: &str) -> Option<usize> {
    let p: Vec<char> = pat.chars().collect();
    (0..chars.len().saturating_sub(p.len() - 1)).find(|&i| {
        p.iter()
            .enumerate()
            .all(|(k, c)| chars.get(i + k) == Some(&(*c, false)))
    })
}

/// A text as [`Text`]: HTML when the question is `[html]`, else as it is.
fn to_text(s: &str, is_html: bool) -> Text {
    if is_html {
        from_html(s).0
    } else {
        Text::same(s.trim())
    }
}

/// One answer item `%W%TEXT#FEEDBACK` (the `=`/`~` already taken), for `default` weight.
fn item(chars: &[(char, bool)], default: f64, is_html: bool) -> LmsAnswer {
    let mut body = chars;
    let mut weight = default;
    if body.first() == Some(&('%', false))
        && let Some(end) = find(body, 1, '%')
    {
        if let Ok(w) = text_of(&body[1..end]).trim().parse::<f64>() {
            weight = w;
        }
        body = &body[end + 1..];
    }
    let (answer, feedback) = match find(body, 0, '#') {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let raw = text_of(answer).trim().to_owned();
    LmsAnswer {
        fraction: weight,
        text: to_text(&raw, is_html),
        raw,
        feedback: feedback
            .map(text_of)
            .filter(|f| !f.trim().is_empty())
            .map(|f| to_text(&f, is_html)),
        tolerance: None,
    }
}

/// Split an answer block at unescaped `=` and `~`: (marker, item).
fn items(chars: &[(char, bool)]) -> Vec<(char, &[(char, bool)])> {
    let starts: Vec<usize> = (0..chars.len())
        .filter(|&i| chars[i] == ('=', false) || chars[i] == ('~', false))
        .collect();
    starts
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let end = starts.get(k + 1).copied().unwrap_or(chars.len());
            (chars[i].0, &chars[i + 1..end])
        })
        .collect()
}

/// One question block (comments and blank lines gone) into `conv`.
fn question(block: &str, at: String, conv: &mut Converter) -> anyhow::Result<()> {
    let chars = lex(block);
    let mut pos = 0;
    let mut name = String::new();
    if chars.starts_with(&[(':', false), (':', false)])
        && let Some(end) = find_str(&chars[2..], "::")
    {
        name = text_of(&chars[2..2 + end]).trim().to_owned();
        pos = 2 + end + 2;
    }
    let rest = &chars[pos..];
    let skip_ws = rest.iter().take_while(|(c, _)| c.is_whitespace()).count();
    let mut rest = &rest[skip_ws..];
    let mut is_html = false;
    if rest.first() == Some(&('[', false))
        && let Some(end) = find(rest, 0, ']')
    {
        is_html = text_of(&rest[1..end]).eq_ignore_ascii_case("html");
        rest = &rest[end + 1..];
    }
    let Some(open) = find(rest, 0, '{') else {
        conv.add(LmsQuestion {
            at,
            qtype: "description".into(),
            name,
            ..LmsQuestion::default()
        })?;
        return Ok(());
    };
    let close = find(rest, open + 1, '}').unwrap_or(rest.len());
    let mut prompt = text_of(&rest[..open]);
    let after = rest.get(close + 1..).map(text_of).unwrap_or_default();
    if !after.trim().is_empty() {
        // A "missing word" question: the answers stand for a gap in the sentence.
        prompt.push_str(" _____ ");
        prompt.push_str(&after);
    }
    let mut block = &rest[open + 1..close.max(open + 1)];
    let mut explanation = None;
    if let Some(i) = find_str(block, "####") {
        let fb = text_of(&block[i + 4..]);
        explanation = Some(to_text(&fb, is_html)).filter(|t| !t.en.trim().is_empty());
        block = &block[..i];
    }
    let trimmed = text_of(block);
    let trimmed = trimmed.trim();
    let prompt_html = if is_html {
        prompt
    } else {
        html_escape(prompt.trim())
    };
    let mut q = LmsQuestion {
        at,
        name: if name.is_empty() {
            prompt_html.chars().take(40).collect()
        } else {
            name
        },
        prompt_html,
        explanation,
        single: true,
        ..LmsQuestion::default()
    };
    if trimmed.is_empty() {
        q.qtype = "essay".into();
    } else if matches!(
        trimmed.to_ascii_uppercase().split('#').next(),
        Some("T" | "F" | "TRUE" | "FALSE")
    ) {
        q.qtype = "truefalse".into();
    } else if find_str(block, "->").is_some() {
        q.qtype = "matching".into();
    } else if block.iter().find(|(c, _)| !c.is_whitespace()) == Some(&('#', false)) {
        q.qtype = "numerical".into();
        let start = find(block, 0, '#').map_or(0, |i| i + 1);
        let body = &block[start..];
        let parts = items(body);
        let parts: Vec<(char, &[(char, bool)])> = if parts.is_empty() {
            vec![('=', body)]
        } else {
            parts
        };
        for (_, it) in parts {
            let mut a = item(it, 100.0, is_html);
            // ANSWER:TOLERANCE, or MIN..MAX.
            let raw = a.raw.clone();
            if let Some((v, t)) = raw.split_once(':') {
                a.raw = v.trim().to_owned();
                a.tolerance = t.trim().parse().ok();
            } else if let Some((lo, hi)) = raw.split_once("..")
                && let (Ok(lo), Ok(hi)) = (lo.trim().parse::<f64>(), hi.trim().parse::<f64>())
            {
                a.raw = ((lo + hi) / 2.0).to_string();
                a.tolerance = Some((hi - lo).abs() / 2.0);
            }
            q.answers.push(a);
        }
    } else {
        let parts = items(block);
        let wrong = parts.iter().filter(|(m, _)| *m == '~').count();
        q.qtype = if wrong == 0 {
            "shortanswer"
        } else {
            "multichoice"
        }
        .into();
        for (marker, it) in parts {
            let default = if marker == '=' { 100.0 } else { 0.0 };
            q.answers.push(item(it, default, is_html));
        }
        let right = q.answers.iter().filter(|a| a.fraction > 0.0).count();
        q.single = right <= 1
            && q.answers
                .iter()
                .all(|a| a.fraction == 100.0 || a.fraction == 0.0);
        if q.qtype == "shortanswer" {
            // Short answers are plain text in Moodle; ours are escaped HTML.
            for a in &mut q.answers {
                a.raw = super::multilang::unescape(&a.raw);
            }
        }
    }
    conv.add(q)
}

/// Read GIFT (`origin` names the file in notes).
pub fn import(text: &str, origin: &str) -> anyhow::Result<Imported> {
    let mut conv = Converter::default();
    let mut block = String::new();
    let mut start = 0;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().chain(std::iter::once(&"")).enumerate() {
        let t = line.trim();
        if t.starts_with("//") {
            continue;
        }
        if let Some(path) = t.strip_prefix("$CATEGORY:") {
            conv.category(path);
            continue;
        }
        if t.is_empty() {
            if !block.trim().is_empty() {
                question(&block, format!("{origin}:{}", start + 1), &mut conv)?;
            }
            block.clear();
            continue;
        }
        if block.is_empty() {
            start = i;
        }
        block.push_str(line);
        block.push('\n');
    }
    Ok(conv.out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn escapes_round_trip_through_the_lexer() {
        let s = "a ~ b = c # d { e } f : g \\ h\nnext";
        assert_eq!(text_of(&lex(&gift_escape(s))), s);
        assert!(
            lex(&gift_escape(s))
                .iter()
                .all(|(c, esc)| *esc || !"~=#{}:".contains(*c))
        );
    }
}
