//! Texts read from files and errors that point into them. Scenarios, question banks, the lesson
//! and the experiments are all written by hand, so every error about them says where, the same
//! way: `origin:line:column: message` (what a compiler or an editor's "go to" understands).

use crate::tomlspan::{line_col, line_col_of_path};

/// A text and where it came from (the `origin` errors name).
#[derive(Debug, Clone, Copy)]
pub struct Located<'a> {
    /// The text.
    pub text: &'a str,
    /// File name shown in errors (`<string>` when there is none).
    pub origin: &'a str,
}

/// Where something was written: file, 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// File name as given to the loader.
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.origin, self.line, self.column)
    }
}

/// Something wrong at a place in a hand-written file: the TOML does not parse or fit the schema,
/// a value breaks a rule, or a line is malformed. Shown as
/// `origin:line:column: subject: message` (column and subject when known).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}:{line}{}: {}{message}", column_suffix(*.column), subject_prefix(.subject))]
pub struct LocatedError {
    /// File name (or `<string>`).
    pub origin: String,
    /// 1-based line (of the offending value; of its table if the value is missing).
    pub line: usize,
    /// 1-based column; `None` when the whole line is meant.
    pub column: Option<usize>,
    /// What the message is about, shown before it: a value's dotted path in backticks
    /// (`` `vm.0.workload.set_mib` ``) or ``question `q3` ``; `None` for a syntax or schema error.
    pub subject: Option<String>,
    /// What is wrong and what would be accepted.
    pub message: String,
}

fn column_suffix(column: Option<usize>) -> String {
    column.map(|c| format!(":{c}")).unwrap_or_default()
}

fn subject_prefix(subject: &Option<String>) -> String {
    subject
        .as_ref()
        .map(|s| format!("{s}: "))
        .unwrap_or_default()
}

impl LocatedError {
    /// An error at `at`.
    pub fn at(at: Location, message: impl Into<String>) -> LocatedError {
        LocatedError {
            origin: at.origin,
            line: at.line,
            column: Some(at.column),
            subject: None,
            message: message.into(),
        }
    }

    /// A TOML syntax or schema error (as serde and toml word it), located by its span.
    pub fn from_toml(src: Located<'_>, e: &toml::de::Error) -> LocatedError {
        let (line, column) = e
            .span()
            .map(|s| line_col(src.text, s.start))
            .unwrap_or((1, 1));
        LocatedError::at(
            Location {
                origin: src.origin.to_string(),
                line,
                column,
            },
            e.message().trim(),
        )
    }

    /// A value that breaks a rule, located by its dotted path (`vm.0.ram_mib`) in `src`, which
    /// the message names.
    pub fn at_path(src: Located<'_>, path: &str, message: impl Into<String>) -> LocatedError {
        let (line, column) = line_col_of_path(src.text, path);
        LocatedError::at(
            Location {
                origin: src.origin.to_string(),
                line,
                column,
            },
            message,
        )
        .about(format!("`{path}`"))
    }

    /// A malformed line as a whole (no column).
    pub fn at_line(origin: &str, line: usize, message: impl Into<String>) -> LocatedError {
        LocatedError {
            origin: origin.to_string(),
            line,
            column: None,
            subject: None,
            message: message.into(),
        }
    }

    /// The same error, naming what it is about before the message.
    #[must_use]
    pub fn about(mut self, subject: impl Into<String>) -> LocatedError {
        self.subject = Some(subject.into());
        self
    }

    /// Where the error is.
    pub fn location(&self) -> Location {
        Location {
            origin: self.origin.clone(),
            line: self.line,
            column: self.column.unwrap_or(1),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SRC: Located<'static> = Located {
        text: "a = 1\n[t]\nb = \"x\"\n",
        origin: "f.toml",
    };

    #[test]
    fn every_form_is_origin_line_column_then_the_message() {
        let e = toml::from_str::<toml::Table>("a = = 1").unwrap_err();
        let parse = LocatedError::from_toml(
            Located {
                text: "a = = 1",
                origin: "f.toml",
            },
            &e,
        );
        assert!(parse.to_string().starts_with("f.toml:1:5: "), "{parse}");
        assert_eq!(
            LocatedError::at_path(SRC, "t.b", "must be a number").to_string(),
            "f.toml:3:5: `t.b`: must be a number"
        );
        assert_eq!(
            LocatedError::at_line("lesson.md", 7, "unknown marker").to_string(),
            "lesson.md:7: unknown marker"
        );
        let q = LocatedError::at(
            Location {
                origin: "bank.toml".into(),
                line: 2,
                column: 1,
            },
            "no options",
        )
        .about("question `q1`");
        assert_eq!(q.to_string(), "bank.toml:2:1: question `q1`: no options");
        assert_eq!(q.location().to_string(), "bank.toml:2:1");
    }
}
