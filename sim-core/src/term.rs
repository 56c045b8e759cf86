//! Text bound for a terminal: the one escaper for names and text that came from a file, and the
//! one shell quoter for command lines shown to users.
//!
//! - [`escape`] renders every character a terminal would act on rather than show — the C0
//!   controls (U+0000–U+001F), DEL (U+007F), the C1 controls (U+0080–U+009F), the bidirectional
//!   formatting characters (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) and the line
//!   and paragraph separators (U+2028, U+2029) — as Rust writes them: `\u{1b}`, `\u{202e}`.
//!   Everything else, a backslash included, is shown as it is, so plain names are unchanged.
//!   [`escape_text`] does the same but keeps newlines and tabs, for the multi-line text a
//!   command prints as a whole.
//! - [`shell_word`] quotes one argument the way `bash` reads it back as exactly that argument:
//!   plain words as they are, others in POSIX single quotes (`'it'\''s'`), and a word with a
//!   character [`escape`] would render in ANSI-C quotes with its UTF-8 bytes as `\xHH`
//!   (`$'db\x1b01'`, read by bash, zsh, ksh and POSIX.1-2024 shells), so that no raw control
//!   character reaches the terminal either. [`shell_line`] joins quoted words with spaces.

use std::borrow::Cow;
use std::fmt::Write as _;

/// A character that a terminal acts on instead of showing: C0 and C1 controls, DEL, the
/// bidirectional formatting characters and the line/paragraph separators.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// `s` with every [unsafe](is_unsafe) character written as `\u{XX}` (lowercase hex); borrowed
/// when there is none.
pub fn escape(s: &str) -> Cow<'_, str> {
    escape_where(s, is_unsafe)
}

/// Like [`escape`], but newlines and tabs stay as they are: for whole multi-line texts (a
/// summary, a report, an error) whose lines the program laid out itself.
pub fn escape_text(s: &str) -> Cow<'_, str> {
    escape_where(s, |c| c != '\n' && c != '\t' && is_unsafe(c))
}

fn escape_where(s: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A character a word may hold without quotes: letters and digits (any script) and
/// `_ - . / : = + @ , %`.
fn is_plain(c: char) -> bool {
    (c.is_alphanumeric() && !is_unsafe(c))
        || matches!(c, '_' | '-' | '.' | '/' | ':' | '=' | '+' | '@' | ',' | '%')
}

/// `s` as one shell word (see the [module](self) documentation); borrowed when it needs no
/// quotes.
pub fn shell_word(s: &str) -> Cow<'_, str> {
    if !s.is_empty() && s.chars().all(is_plain) {
        return Cow::Borrowed(s);
    }
    if !s.chars().any(is_unsafe) {
        return Cow::Owned(format!("'{}'", s.replace('\'', r"'\''")));
    }
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str("$'");
    for c in s.chars() {
        match c {
            '\'' => out.push_str(r"\'"),
            '\\' => out.push_str(r"\\"),
            c if is_unsafe(c) => {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    Cow::Owned(out)
}

/// The words quoted by [`shell_word`] and joined with spaces: a command line to copy.
pub fn shell_line<I, S>(words: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for w in words {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&shell_word(w.as_ref()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_and_unchanged() {
        for s in ["db01", "kvm-host-01", "C:\\path", "Pelajaran — ok", ""] {
            assert!(matches!(escape(s), Cow::Borrowed(_)), "{s:?}");
        }
        assert!(matches!(escape_text("a\n\tb"), Cow::Borrowed(_)));
    }

    #[test]
    fn controls_and_bidi_are_shown_as_rust_escapes() {
        assert_eq!(escape("db\u{1b}[2J01"), r"db\u{1b}[2J01");
        assert_eq!(escape("a\nb\tc\rd"), r"a\u{a}b\u{9}c\u{d}d");
        assert_eq!(escape("x\u{7f}\u{9b}y"), r"x\u{7f}\u{9b}y");
        assert_eq!(escape("\u{202e}txt.exe"), r"\u{202e}txt.exe");
        assert_eq!(
            escape("\u{2066}\u{2069}\u{61c}"),
            r"\u{2066}\u{2069}\u{61c}"
        );
        assert_eq!(escape_text("a\nb\tc\rd\u{0}"), "a\nb\tc\\u{d}d\\u{0}");
    }

    #[test]
    fn words_are_quoted_only_when_they_need_it() {
        assert_eq!(shell_word("qemu+ssh://h/system"), "qemu+ssh://h/system");
        assert_eq!(shell_word("--bandwidth"), "--bandwidth");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("$HOME"), "'$HOME'");
        assert_eq!(shell_word("~x"), "'~x'");
        assert_eq!(shell_word("db\u{1b}'\\"), r"$'db\x1b\'\\'");
        assert_eq!(shell_word("\u{202e}"), r"$'\xe2\x80\xae'");
        assert_eq!(
            shell_line(["virsh", "migrate", "a b"]),
            "virsh migrate 'a b'"
        );
    }
}
