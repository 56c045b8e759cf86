//! # migralab course
//!
//! The course material: the lesson (Sesi 1) in both languages with its widget markers and the
//! lesson's command taken apart ([`lesson`]), the guided experiments (Sesi 2, [`experiments`]),
//! the self-assessment quizzes: question banks, presenting, grading and command checks
//! ([`quiz`]), and the vocabulary every shipped text follows ([`glossary`]).
//!
//! Invariants:
//! - **Pure.** The model's purity rule holds here too (`sim-core/clippy.toml` governs this crate:
//!   no I/O, no clocks, no threads, no `HashMap`). The lesson and experiments are
//!   `include_str!`ed and parsed once; question banks are passed in as text by the caller.
//! - **Checked.** The unit tests parse every embedded asset (markers, scenarios, placeholders)
//!   and run every experiment step's command through the real lab shell.
//! - **Never panics.** An embedded asset that fails to parse (a bug the tests catch) is logged
//!   once and shown as an error text instead of its content.
//! - The GUI decides how to show a [`lesson::Block`] or a step; this crate decides what it is.
//! - Every error about a file is a [`LocatedError`] (`origin:line:column: ...`), as the
//!   scenario loader's are.

pub mod experiments;
pub mod glossary;
pub mod lesson;
pub mod quiz;

use migralab_sim_core::lang::Lang;
use migralab_sim_core::located::{Located, LocatedError};

/// Parse every embedded content file (lesson, command, experiments) and return the first error
/// (for a startup self-check; the unit tests guarantee there is none).
pub fn check() -> Result<(), LocatedError> {
    for lang in [Lang::Id, Lang::En] {
        lesson::parse_embedded(lang)?;
    }
    lesson::parse_command_embedded()?;
    experiments::parse_embedded()?;
    Ok(())
}

/// A TOML syntax or schema error in `text`, named `origin`.
fn toml_error(origin: &str, text: &str, e: &toml::de::Error) -> LocatedError {
    LocatedError::from_toml(Located { text, origin }, e)
}

/// An error about the value at `path` in `text`, named `origin`.
fn invalid(origin: &str, text: &str, path: &str, message: impl Into<String>) -> LocatedError {
    LocatedError::at_path(Located { text, origin }, path, message)
}
