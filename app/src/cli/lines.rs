//! Lines from standard input, not trusted: the terminal quiz and `migralab shell` read their
//! piped input through [`read_line`]. A line that is not UTF-8, or longer than
//! [`MAX_LINE_BYTES`], is consumed and reported as such, so the caller rejects **that line only**
//! and goes on with the next (`BufRead::read_line` into a `String` fails the whole stream on the
//! first invalid byte, and `read_until` grows without bound on input with no new line).

use crate::tr;
use migralab_sim_core::lang::Lang;
use std::io::{self, BufRead};

/// The longest line accepted, in bytes (a quiz answer or a shell command is far shorter).
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// One line of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// The text, without its `\n` or `\r\n`.
    Text(String),
    /// Not UTF-8: rejected.
    NotUtf8,
    /// Longer than [`MAX_LINE_BYTES`]: rejected (and not kept in memory).
    TooLong,
}

impl Line {
    /// What to tell the user about a rejected line (`None` for text).
    pub fn problem(&self, lang: Lang) -> Option<String> {
        match self {
            Line::Text(_) => None,
            Line::NotUtf8 => Some(tr!(lang, "line-not-utf8")),
            Line::TooLong => Some(tr!(lang, "line-too-long", max = MAX_LINE_BYTES)),
        }
    }
}

/// Read one line; `None` at the end of input. At most [`MAX_LINE_BYTES`] (and the line end) are
/// kept whatever the input holds.
pub fn read_line(input: &mut dyn BufRead) -> io::Result<Option<Line>> {
    let mut buf: Vec<u8> = Vec::new();
    let mut too_long = false;
    let mut any = false;
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            break;
        }
        any = true;
        let (n, found) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if !too_long {
            if buf.len() + n > MAX_LINE_BYTES + 2 {
                too_long = true;
                buf = Vec::new();
            } else {
                buf.extend_from_slice(available.get(..n).unwrap_or_default());
            }
        }
        input.consume(n);
        if found {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    if too_long || buf.len() > MAX_LINE_BYTES {
        return Ok(Some(Line::TooLong));
    }
    Ok(Some(match String::from_utf8(buf) {
        Ok(s) => Line::Text(s),
        Err(_) => Line::NotUtf8,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn all(bytes: &[u8]) -> Vec<Line> {
        // A tiny buffer, so lines cross buffer boundaries.
        let mut input = io::BufReader::with_capacity(3, bytes);
        std::iter::from_fn(|| read_line(&mut input).unwrap()).collect()
    }

    #[test]
    fn a_bad_line_is_rejected_and_the_next_is_read() {
        assert_eq!(
            all(b"a\r\n\xff\xfe b\nc"),
            [
                Line::Text("a".into()),
                Line::NotUtf8,
                Line::Text("c".into())
            ]
        );
        assert_eq!(all(b""), []);
        assert_eq!(all(b"\n"), [Line::Text(String::new())]);
    }

    #[test]
    fn an_endless_line_is_rejected_without_keeping_it() {
        let mut long = vec![b'x'; MAX_LINE_BYTES + 1];
        long.extend_from_slice(b"\nok\n");
        assert_eq!(all(&long), [Line::TooLong, Line::Text("ok".into())]);
        let exact = vec![b'x'; MAX_LINE_BYTES];
        assert!(matches!(all(&exact).as_slice(), [Line::Text(s)] if s.len() == MAX_LINE_BYTES));
    }
}
