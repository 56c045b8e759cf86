//! The teaching content of the Lesson and Experiments tabs, embedded in the binary: the lesson
//! (Sesi 1) in both languages with its widget markers, the lesson's command taken apart, and the
//! guided experiments (Sesi 2).
//!
//! Invariants:
//! - **Pure.** Nothing here draws or touches files: the assets are `include_str!`ed, parsed once
//!   and checked by the unit tests (markers, scenarios, placeholders, and every step's command
//!   run through the real lab shell).
//! - **Never panics.** An embedded asset that fails to parse (a bug the tests catch) is logged
//!   once and shown as an error text instead of its content.
//! - The GUI decides how to show a [`lesson::Block`] or a step; this module decides what it is.

pub mod experiments;
pub mod lesson;

/// Why a content file does not load. Every variant names the file (`origin`) and the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContentError {
    /// The text is not valid TOML or does not fit the schema.
    #[error("{origin}:{line}:{column}: {message}")]
    Parse {
        /// File name (or `<string>`).
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// A value fits the schema but breaks a rule (duplicate id, unknown placeholder, ...).
    #[error("{origin}:{line}:{column}: `{path}`: {message}")]
    Invalid {
        /// File name (or `<string>`).
        origin: String,
        /// 1-based line of the value (of its table, if the value is missing).
        line: usize,
        /// 1-based column.
        column: usize,
        /// Dotted path of the value, e.g. `experiment.0.step.2.done.prefix`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A widget marker line in a lesson file is unknown, malformed or repeated.
    #[error("{origin}:{line}: {message}")]
    Marker {
        /// File name (or `<string>`).
        origin: String,
        /// 1-based line of the marker.
        line: usize,
        /// What is wrong and which markers exist.
        message: String,
    },
}

/// Parse every embedded content file and return the first error (for a startup self-check; the
/// unit tests guarantee there is none).
pub fn check() -> Result<(), ContentError> {
    for lang in [
        migralab_sim_core::lang::Lang::Id,
        migralab_sim_core::lang::Lang::En,
    ] {
        lesson::parse_embedded(lang)?;
    }
    lesson::parse_command_embedded()?;
    experiments::parse_embedded()?;
    Ok(())
}

/// A [`ContentError::Parse`] from a TOML error, located in `text`.
fn toml_error(origin: &str, text: &str, e: &toml::de::Error) -> ContentError {
    let (line, column) = e
        .span()
        .map(|s| migralab_sim_core::tomlspan::line_col(text, s.start))
        .unwrap_or((1, 1));
    ContentError::Parse {
        origin: origin.to_string(),
        line,
        column,
        message: e.message().trim().to_string(),
    }
}

/// A [`ContentError::Invalid`] about the value at `path` in `text`.
fn invalid(origin: &str, text: &str, path: &str, message: impl Into<String>) -> ContentError {
    let (line, column) = migralab_sim_core::tomlspan::line_col_of_path(text, path);
    ContentError::Invalid {
        origin: origin.to_string(),
        line,
        column,
        path: path.to_string(),
        message: message.into(),
    }
}
