//! `migralab quiz --export FORMAT FILE` and `--import FILE --out BANK.toml`: question banks to
//! and from a learning platform (see [`crate::lms`]). What cannot be carried is listed on
//! standard error (escaped: it quotes the file's texts), never dropped silently.

use super::report_errors;
use crate::cli::{EXIT_COMPLETED, EXIT_ERROR, write_text};
use crate::lms::{bank_toml, gift, moodle_export, moodle_import};
use crate::quiz::BankSource;
use crate::storage::{Limit, read_text, write_atomically};
use anyhow::{Context as _, bail};
use migralab_course::quiz::Bank;
use migralab_sim_core::term;
use std::path::Path;
use std::process::ExitCode;

/// A learning platform's question format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Moodle XML.
    MoodleXml,
    /// GIFT (Moodle's and others' plain text format).
    Gift,
}

impl Format {
    /// `moodle-xml` or `gift`.
    pub fn from_arg(arg: &Path) -> anyhow::Result<Format> {
        match arg.to_str() {
            Some("moodle-xml") => Ok(Format::MoodleXml),
            Some("gift") => Ok(Format::Gift),
            _ => bail!(
                "--export: unknown format `{}` (use moodle-xml or gift)",
                term::escape(&arg.to_string_lossy())
            ),
        }
    }
}

fn say_notes(notes: &[String]) {
    for n in notes {
        eprintln!("not carried: {}", term::escape(n));
    }
}

/// `--export`.
pub fn export(source: &BankSource, format: Format, file: &Path) -> anyhow::Result<ExitCode> {
    let bank = match source.bank() {
        Ok(b) => b,
        Err(errors) => {
            let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
            return report_errors(source, &errors);
        }
    };
    let exported = match format {
        Format::MoodleXml => moodle_export::export(&bank),
        Format::Gift => gift::export(&bank),
    };
    write_atomically(file, exported.text.as_bytes())?;
    say_notes(&exported.notes);
    write_text(&format!(
        "wrote {}: {} of {} questions\n",
        file.display(),
        exported.questions,
        bank.questions().len()
    ))?;
    Ok(ExitCode::from(EXIT_COMPLETED))
}

/// `--import`.
pub fn import(file: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let text = read_text(file, Limit::QUESTION_BANK)?;
    let origin = file.display().to_string();
    let imported = if text.trim_start().starts_with('<') {
        moodle_import::import(&text, &origin)?
    } else {
        gift::import(&text, &origin)?
    };
    say_notes(&imported.notes);
    if imported.questions.is_empty() {
        eprintln!(
            "error: {}: no question could be imported",
            term::escape(&origin)
        );
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    let toml = bank_toml::to_toml(&imported.questions)?;
    // Every question passed the loader alone; the whole file must too (ids are unique).
    Bank::from_toml_str(&toml)
        .map_err(|e| {
            anyhow::anyhow!(
                "{}",
                e.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })
        .context("the imported bank does not load; nothing was written")?;
    write_atomically(out, toml.as_bytes())?;
    write_text(&format!(
        "wrote {}: {} questions (check with `migralab quiz --check {}`)\n",
        out.display(),
        imported.questions.len(),
        out.parent()
            .map_or_else(|| ".".into(), |p| p.display().to_string())
    ))?;
    Ok(ExitCode::from(EXIT_COMPLETED))
}
