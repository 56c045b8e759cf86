//! Exchanging question banks with a school's learning platform (LMS): Moodle XML and GIFT, for
//! the question kinds both sides have. What cannot map is returned as a list of notes for the
//! caller to show, never dropped silently.
//!
//! Both languages travel in one text with Moodle's core "Multi-language content" filter
//! (`filter_multilang`): `<span lang="id" class="multilang">…</span><span lang="en"
//! class="multilang">…</span>`. With the filter on, students see their Moodle language; without
//! it they see both. A text written without those spans (a bank made in Moodle) is imported into
//! both languages, and a note says so.

pub mod bank_toml;
pub mod command_variants;
pub mod convert;
pub mod gift;
pub mod moodle_export;
pub mod moodle_import;
pub mod multilang;

/// A bank written for a platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The file's text.
    pub text: String,
    /// What could not be carried.
    pub notes: Vec<String>,
    /// How many questions it holds.
    pub questions: usize,
}

/// The most questions an imported file may hold (the shipped bank has about 90).
pub const MAX_IMPORT_QUESTIONS: usize = 2_000;
