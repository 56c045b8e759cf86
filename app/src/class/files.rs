//! Reading progress files from other PCs: a `migralab progress export` (`{"format", "students"}`),
//! one profile (`--student NAME`, or a class folder entry), or a whole folder of them.
//!
//! Invariants:
//! - **Bounded.** A file is read up to [`PROGRESS_IMPORT`] bytes, a file holds at most
//!   [`MAX_STUDENTS_PER_FILE`] students, a folder at most [`MAX_IMPORT_FILES`] files, all checked
//!   before anything is merged.
//! - **Located errors.** A file that does not parse is reported as `FILE:LINE:COLUMN: message`;
//!   one that parses but breaks a rule (a name the name rule refuses, a score outside 0..1, a
//!   newer format) as `FILE: student #N (`NAME`): message`.

use crate::progress::{PROFILE_FORMAT, Profile, valid_name};
use anyhow::{Context as _, bail};
use migralab_real::fsutil::{Limit, read_bounded};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A file imported, exported or kept as a class has at most this many students.
pub const MAX_STUDENTS_PER_FILE: usize = 2_000;

/// `migralab progress import` reads at most this many files (folders expanded).
pub const MAX_IMPORT_FILES: usize = 2_000;

/// How much of one file to import (or of the class file) is read: a whole PC's export of
/// long-used profiles is a few MiB.
pub const PROGRESS_IMPORT: Limit = Limit {
    bytes: 64 * 1024 * 1024,
    what: "a progress file to import (or the class file)",
};

/// One file's students.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressFile {
    /// Where it was read.
    pub path: PathBuf,
    /// Its students, as written.
    pub students: Vec<Profile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Export {
    #[allow(dead_code)] // checked on the raw value first
    format: u32,
    students: Vec<Profile>,
}

/// Parse the text of a progress file (`origin` names it in errors).
pub fn parse_progress(bytes: &[u8], origin: &str) -> anyhow::Result<Vec<Profile>> {
    let located =
        |e: serde_json::Error| anyhow::anyhow!("{origin}:{}:{}: {e}", e.line(), e.column());
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(located)?;
    let Some(format) = value.get("format").and_then(serde_json::Value::as_u64) else {
        bail!("{origin}: not a migralab progress file (no `format` number)");
    };
    if format > u64::from(PROFILE_FORMAT) {
        bail!("{origin}: format {format}, this migralab reads up to {PROFILE_FORMAT}");
    }
    if let Some(n) = value
        .get("students")
        .and_then(serde_json::Value::as_array)
        .map(Vec::len)
        && n > MAX_STUDENTS_PER_FILE
    {
        bail!("{origin}: {n} students, more than the {MAX_STUDENTS_PER_FILE} a file may hold");
    }
    // Parsed again from the text, not the value, so that errors keep their line.
    let students = if value.get("students").is_some() {
        serde_json::from_slice::<Export>(bytes)
            .map_err(located)?
            .students
    } else {
        vec![serde_json::from_slice::<Profile>(bytes).map_err(located)?]
    };
    for (i, p) in students.iter().enumerate() {
        check_profile(p).map_err(|why| {
            anyhow::anyhow!(
                "{origin}: student #{} (`{}`): {why}",
                i + 1,
                migralab_sim_core::term::escape(&p.name)
            )
        })?;
    }
    Ok(students)
}

/// The rules a profile from elsewhere must keep: the name rule, trimmed names, scores that are
/// scores, answers that name their quiz.
fn check_profile(p: &Profile) -> Result<(), String> {
    let name = valid_name(&p.name).map_err(|e| e.to_string())?;
    if name != p.name {
        return Err("the name has leading or trailing spaces".into());
    }
    if p.format > PROFILE_FORMAT {
        return Err(format!(
            "format {}, this migralab reads up to {PROFILE_FORMAT}",
            p.format
        ));
    }
    for (i, a) in p.attempts.iter().enumerate() {
        if !(a.score.is_finite() && (0.0..=1.0).contains(&a.score)) {
            return Err(format!(
                "answer #{}: score {} is not within 0..1",
                i + 1,
                a.score
            ));
        }
        if a.question.is_empty() || a.objective.is_empty() {
            return Err(format!("answer #{}: no question or objective", i + 1));
        }
    }
    Ok(())
}

/// Read one progress file.
pub fn read_progress_file(path: &Path) -> anyhow::Result<ProgressFile> {
    let bytes = read_bounded(path, PROGRESS_IMPORT)?;
    Ok(ProgressFile {
        path: path.to_path_buf(),
        students: parse_progress(&bytes, &path.display().to_string())?,
    })
}

/// The files an import reads: each argument that is a file, and every `*.json` directly in
/// each folder (hidden files, i.e. temporaries being written, skipped), in name order.
pub fn expand_inputs(args: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for arg in args {
        let meta =
            std::fs::metadata(arg).with_context(|| format!("cannot read {}", arg.display()))?;
        if meta.is_dir() {
            files.extend(json_files(arg)?);
        } else {
            files.push(arg.clone());
        }
        if files.len() > MAX_IMPORT_FILES {
            bail!("more than {MAX_IMPORT_FILES} files to import; import them in parts");
        }
    }
    Ok(files)
}

/// The `*.json` files directly in `dir`, hidden ones skipped, sorted.
pub fn json_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !name.starts_with('.') && name.ends_with(".json") {
            found.push(path);
            if found.len() > MAX_IMPORT_FILES {
                bail!("{}: more than {MAX_IMPORT_FILES} files", dir.display());
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_profile_and_an_export_both_read() {
        let one = br#"{"format": 2, "name": "Ana"}"#;
        assert_eq!(parse_progress(one, "a").map(|s| s.len()).ok(), Some(1));
        let all = br#"{"format": 2, "students": [{"format": 2, "name": "Ana"}, {"format": 1, "name": "Budi"}]}"#;
        assert_eq!(parse_progress(all, "a").map(|s| s.len()).ok(), Some(2));
    }

    #[test]
    fn errors_say_where() {
        let err = parse_progress(b"{\"format\": 2,\n \"name\": 3}", "f.json").unwrap_err();
        assert!(err.to_string().starts_with("f.json:2:"), "{err}");
        let err = parse_progress(
            br#"{"format": 2, "students": [{"format": 2, "name": "A/B"}]}"#,
            "f.json",
        )
        .unwrap_err();
        assert!(err.to_string().contains("student #1 (`A/B`)"), "{err}");
        let err = parse_progress(
            br#"{"format": 2, "name": "Ana", "attempts": [{"at": 1, "question": "q", "objective": "o", "score": 7, "correct": true}]}"#,
            "f.json",
        )
        .unwrap_err();
        assert!(err.to_string().contains("not within 0..1"), "{err}");
    }
}
