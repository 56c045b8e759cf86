//! Bilingual texts as HTML with Moodle's multilang spans, and back.

use migralab_sim_core::text::Text;

/// Escape text for HTML (and XML) element content (never used in attributes, so quotes stay
/// as they are: GIFT would have to escape the `#` of `&#39;`). Characters XML 1.0 cannot carry
/// at all (most control characters) become U+FFFD: a bank's text may hold any character a TOML
/// escape can write.
pub fn escape(s: &str) -> String {
    let legal: String = s
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if u32::from(c) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect();
    crate::export::html::escape_content(&legal)
}

/// A text as HTML: new lines as `<br>` (HTML would join the lines).
fn html_of(s: &str) -> String {
    escape(s).replace('\n', "<br>\n")
}

/// Both languages as multilang spans (one plain text when they are the same).
pub fn to_html(t: &Text) -> String {
    if t.id == t.en {
        return html_of(&t.id);
    }
    format!(
        "<span lang=\"id\" class=\"multilang\">{}</span><span lang=\"en\" class=\"multilang\">{}</span>",
        html_of(&t.id),
        html_of(&t.en)
    )
}

/// Decode the few HTML entities Moodle and we write (`&amp;` and friends, numeric ones).
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(end) = tail.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// HTML to plain text: `<br>` and block ends as new lines, other tags dropped, entities
/// decoded. Returns the text and whether formatting other than line breaks was dropped.
pub fn to_plain(html: &str) -> (String, bool) {
    let mut out = String::with_capacity(html.len());
    let mut dropped = false;
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(end) = tail.find('>') else {
            out.push_str(tail);
            rest = "";
            break;
        };
        let tag = tail[1..end].trim().to_ascii_lowercase();
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        match name.as_str() {
            "br" => {
                out.push('\n');
                // Our own `<br>\n`: one new line, not two.
                if tail[end + 1..].starts_with('\n') {
                    rest = &tail[end + 2..];
                    continue;
                }
            }
            "p" | "div" if tag.starts_with('/') => out.push('\n'),
            "p" | "div" | "span" => {}
            _ => dropped = true,
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    (unescape(&out).trim().to_owned(), dropped)
}

/// The multilang spans of `html` by language, if it has any: `(lang, inner html)`.
fn spans(html: &str) -> Vec<(String, &str)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<span") {
        let tail = &rest[i..];
        let Some(open_end) = tail.find('>') else {
            break;
        };
        let open = &tail[..open_end];
        let body_start = open_end + 1;
        // The matching `</span>`, counting nested spans.
        let (mut depth, mut at) = (1usize, body_start);
        let mut close = None;
        while let Some(j) = tail[at..].find("span") {
            let k = at + j;
            if tail[..k].ends_with("</") {
                depth -= 1;
                if depth == 0 {
                    close = Some(k - 2);
                    break;
                }
            } else if tail[..k].ends_with('<') {
                depth += 1;
            }
            at = k + 4;
        }
        let Some(close) = close else {
            break;
        };
        if open.contains("multilang")
            && let Some(lang) = attr(open, "lang")
        {
            found.push((lang.to_ascii_lowercase(), &tail[body_start..close]));
        }
        // Past the closing tag's `>` (which need not follow `</span` directly).
        let after = tail[close..]
            .find('>')
            .map_or(tail.len(), |g| close + g + 1);
        rest = &tail[after..];
    }
    found
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let i = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = tag[i..].find('"')?;
    Some(&tag[i..i + end])
}

/// A text read back from HTML: its multilang spans, or the same text in both languages (then
/// the flag is false: only one language was there).
pub fn from_html(html: &str) -> (Text, bool) {
    let spans = spans(html);
    let pick = |lang: &str| {
        spans
            .iter()
            .find(|(l, _)| l == lang || l.starts_with(&format!("{lang}_")))
            .map(|(_, body)| to_plain(body).0)
    };
    match (pick("id"), pick("en")) {
        (Some(id), Some(en)) => (Text::new(id, en), true),
        (Some(one), None) | (None, Some(one)) => (Text::same(one), false),
        (None, None) => (Text::same(to_plain(html).0), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_survive_html() {
        let t = Text::new("a < b & \"c\"\nbaris 2", "x <y>");
        assert_eq!(from_html(&to_html(&t)), (t, true));
        let same = Text::same("`virsh` & co");
        assert_eq!(from_html(&to_html(&same)).0, same);
    }

    #[test]
    fn moodle_html_becomes_plain_text() {
        let (t, both) = from_html("<p>Which <b>flag</b> &amp; why?</p>");
        assert!(!both);
        assert_eq!(t.en, "Which flag & why?");
        assert!(to_plain("<p>a</p><img src=x>").1);
    }

    #[test]
    fn broken_html_does_not_panic() {
        for s in [
            "<span",
            "<span lang=\"id\" class=\"multilang\">x",
            // A closing tag cut before its `>`, a multi-byte character after it.
            "<span lang=\"id\" class=\"multilang\">x</span\u{a5}<span>",
            "&#xFFFFFFFF;",
            "&",
            "<",
        ] {
            let _ = from_html(s);
        }
    }
}
