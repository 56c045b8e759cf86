//! migralab's vocabulary (`assets/glossary.toml`): one word per concept in each language, the
//! variants no shipped text may use, and the rule that finds them in a text. The tests crate
//! holds every shipped text (lesson, experiments, quiz bank, scenarios, UI strings, the texts
//! built in code) to it; the file's own header explains each field and the matching.

use migralab_sim_core::located::{Located, LocatedError};
use serde::Deserialize;

/// The glossary the app ships.
pub const SHIPPED: &str = include_str!("../../../assets/glossary.toml");
const SHIPPED_ORIGIN: &str = "assets/glossary.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    term: Vec<RawTerm>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerm {
    key: String,
    id: String,
    en: String,
    gloss: Option<String>,
    gloss_file: Option<String>,
    #[serde(default)]
    avoid_id: Vec<String>,
    #[serde(default)]
    avoid_id_prose: Vec<String>,
    #[serde(default)]
    avoid_en: Vec<String>,
    // The decision and why: for the people who edit the file.
    #[allow(dead_code)]
    note: Option<String>,
}

/// The shipped glossary's terms.
pub fn shipped() -> Result<Vec<Term>, LocatedError> {
    parse(SHIPPED_ORIGIN, SHIPPED)
}

/// A glossary file's terms (`origin` names it in errors).
pub fn parse(origin: &str, text: &str) -> Result<Vec<Term>, LocatedError> {
    let src = Located { text, origin };
    let file: File = toml::from_str(text).map_err(|e| LocatedError::from_toml(src, &e))?;
    if file.term.is_empty() {
        return Err(LocatedError::at_line(origin, 1, "no [[term]]"));
    }
    let variants = |v: &[String]| v.iter().map(|s| Variant::new(s)).collect::<Vec<_>>();
    file.term
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let gloss = match (t.gloss, t.gloss_file) {
                (Some(g), Some(file)) => Some((Variant::new(&g), file)),
                (None, None) => None,
                _ => {
                    return Err(LocatedError::at_path(
                        src,
                        &format!("term.{i}"),
                        format!("`{}`: `gloss` and `gloss_file` go together", t.key),
                    ));
                }
            };
            Ok(Term {
                avoid_id: variants(&t.avoid_id),
                avoid_id_prose: variants(&t.avoid_id_prose),
                avoid_en: variants(&t.avoid_en),
                key: t.key,
                id: t.id,
                en: t.en,
                gloss,
            })
        })
        .collect()
}

/// The language of a piece of text, when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextLang {
    /// Bahasa Indonesia.
    Id,
    /// English.
    En,
    /// Comments, keys, code: only the Indonesian-only words are checked.
    Unknown,
}

/// One phrase to look for: lower-case words separated by single spaces; `prefix` when the
/// glossary wrote a trailing `*`.
#[derive(Debug, Clone)]
pub struct Variant {
    /// As the glossary wrote it.
    pub shown: String,
    /// Lower-case words, single spaces.
    pub words: String,
    /// A trailing `*`: the word may go on.
    pub prefix: bool,
}

impl Variant {
    /// A variant as the glossary writes it (`berkas*`: the word and its suffixed forms).
    pub fn new(raw: &str) -> Variant {
        let (body, prefix) = match raw.strip_suffix('*') {
            Some(b) => (b, true),
            None => (raw, false),
        };
        Variant {
            shown: raw.to_string(),
            words: body
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase(),
            prefix,
        }
    }

    /// Byte offsets (in `norm`) where the variant starts as a whole word.
    pub fn find_in(&self, norm: &str) -> Vec<usize> {
        // A hyphen joins: `err-guest-cpu` and `topo-guest-on` are names, not the word "guest".
        let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
        let mut hits = Vec::new();
        let mut from = 0;
        while let Some(pos) = norm[from..].find(&self.words) {
            let start = from + pos;
            let end = start + self.words.len();
            let before_ok = !norm[..start].chars().next_back().is_some_and(is_word);
            let after_ok = self.prefix || !norm[end..].chars().next().is_some_and(is_word);
            if before_ok && after_ok {
                hits.push(start);
            }
            from = start + self.words.chars().next().map_or(1, char::len_utf8);
        }
        hits
    }
}

/// Lower-case, every run of whitespace one space: a variant split by a line break inside one text
/// (a Rust string literal holding a newline) still matches.
pub fn normalize(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `text` without its `code spans`, 'single-quoted' and "double-quoted" parts: the places where
/// libvirt's and QEMU's own English wording is quoted unchanged.
pub fn strip_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut closing: Option<char> = None;
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match closing {
            Some(q) if c == q => closing = None,
            Some(_) => {}
            None => {
                // An apostrophe inside a word ("host's") does not open a quote.
                let prev_is_word = i > 0 && chars[i - 1].is_alphanumeric();
                if c == '`' || c == '"' || (c == '\'' && !prev_is_word) {
                    closing = Some(c);
                    out.push(' ');
                } else {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// One concept: its house term and the variants no text may use.
#[derive(Debug)]
pub struct Term {
    /// Stable name of the entry.
    pub key: String,
    /// The house term in Bahasa Indonesia.
    pub id: String,
    /// The house term in English.
    pub en: String,
    /// The Indonesian rendering allowed once, and the file whose introducing line may hold it.
    pub gloss: Option<(Variant, String)>,
    /// Words no text of either language may use.
    pub avoid_id: Vec<Variant>,
    /// Words an Indonesian sentence must not use, outside code and quotes.
    pub avoid_id_prose: Vec<Variant>,
    /// Variants an English text must not use.
    pub avoid_en: Vec<Variant>,
}

/// One line of shipped text: where it is, its language, and the text itself.
pub struct Line {
    /// The file (or scenario and command) it comes from.
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// Its language, when known.
    pub lang: TextLang,
    /// The text.
    pub text: String,
}

/// Every violation of the glossary in `lines`, as `origin:line: message`; the allowed glosses
/// found (term key, where) go to `glosses_seen`.
pub fn violations(
    terms: &[Term],
    lines: &[Line],
    glosses_seen: &mut Vec<(String, String)>,
) -> Vec<String> {
    let mut out = Vec::new();
    for l in lines {
        let norm = normalize(&l.text);
        for t in terms {
            let gloss_here = t
                .gloss
                .as_ref()
                .filter(|(_, file)| l.origin.ends_with(file.as_str()));
            for v in &t.avoid_id {
                for _ in v.find_in(&norm) {
                    // The gloss is allowed once, on the line that introduces the term.
                    let is_gloss = gloss_here.is_some_and(|(g, _)| g.words == v.words)
                        && norm.contains(&t.id.to_lowercase());
                    if is_gloss {
                        glosses_seen.push((t.key.clone(), format!("{}:{}", l.origin, l.line)));
                    } else {
                        out.push(format!(
                            "{}:{}: \"{}\" ({}: write \"{}\")",
                            l.origin, l.line, v.shown, t.key, t.id
                        ));
                    }
                }
            }
            let (prose, lang_list) = match l.lang {
                TextLang::Id => (normalize(&strip_quoted(&l.text)), &t.avoid_id_prose),
                TextLang::En => (norm.clone(), &t.avoid_en),
                TextLang::Unknown => continue,
            };
            for v in lang_list {
                if !v.find_in(&prose).is_empty() {
                    out.push(format!(
                        "{}:{}: \"{}\" ({}: write \"{}\")",
                        l.origin, l.line, v.shown, t.key, t.id
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_glossary_parses_and_names_each_concept_once() {
        let terms = shipped().unwrap_or_else(|e| panic!("{e}"));
        let mut keys: Vec<&str> = terms.iter().map(|t| t.key.as_str()).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "a key twice");
        assert!(terms.iter().all(|t| !t.id.is_empty() && !t.en.is_empty()));
    }

    #[test]
    fn a_gloss_without_its_file_is_refused_where_it_is() {
        let e = parse(
            "g.toml",
            "[[term]]\nkey = \"k\"\nid = \"a\"\nen = \"b\"\ngloss = \"c\"\n",
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.starts_with("g.toml:") && e.contains("gloss_file"), "{e}");
    }
}
