//! The instructor's class: `DATA_DIR/class.json`, every student imported from other PCs, in
//! the format of `migralab progress export` (so the class file can itself be imported or read
//! by any tool that reads an export).
//!
//! Invariants:
//! - **All or nothing.** [`ClassStore::import`] reads and checks every input before it changes
//!   anything; one bad file leaves the class as it was.
//! - **One writer.** The read-merge-write holds `class.lock`, and the file is replaced
//!   atomically ([`crate::storage::write_creating_dir`]); a damaged class file is refused (with
//!   its line), never overwritten.

use super::files::{MAX_STUDENTS_PER_FILE, PROGRESS_IMPORT, ProgressFile, parse_progress};
use super::merge::{MergeReport, Students, merge_profile};
use crate::progress::{LOCK_WAIT, Profile, export_json};
use crate::storage::write_creating_dir;
use anyhow::bail;
use migralab_real::fsutil::{lock_exclusive, read_bounded};
use std::path::{Path, PathBuf};

/// The class file's name in the data directory.
pub const CLASS_FILE: &str = "class.json";

/// What one imported file did.
#[derive(Debug, Clone, PartialEq)]
pub struct FileOutcome {
    /// The file.
    pub path: PathBuf,
    /// Its students.
    pub students: usize,
    /// What merging it added or refused.
    pub report: MergeReport,
}

/// The class file in a data directory.
#[derive(Debug, Clone)]
pub struct ClassStore {
    path: PathBuf,
}

impl ClassStore {
    /// The class of `data_dir`.
    pub fn new(data_dir: &Path) -> ClassStore {
        ClassStore {
            path: data_dir.join(CLASS_FILE),
        }
    }

    /// The class file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The class's students (none when there is no class file yet).
    pub fn load(&self) -> anyhow::Result<Students> {
        let bytes = match read_bounded(&self.path, PROGRESS_IMPORT) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => return Ok(Students::new()),
            Err(e) => return Err(e.into()),
        };
        let students = parse_progress(&bytes, &self.path.display().to_string())?;
        Ok(students.into_iter().map(|p| (p.name.clone(), p)).collect())
    }

    /// Merge `files` (already read and checked) into the class and save it once; returns what
    /// each file did. The class is written only when something was added.
    pub fn import(&self, files: &[ProgressFile]) -> anyhow::Result<Vec<FileOutcome>> {
        let lock_path = self.path.with_extension("lock");
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let _lock = lock_exclusive(&lock_path, LOCK_WAIT)?;
        let mut class = self.load()?;
        let mut outcomes = Vec::new();
        let mut changed = false;
        for file in files {
            let source = file.path.display().to_string();
            let mut report = MergeReport::default();
            for p in &file.students {
                report.absorb(merge_profile(&mut class, p, &source));
            }
            changed |= report.changed();
            outcomes.push(FileOutcome {
                path: file.path.clone(),
                students: file.students.len(),
                report,
            });
        }
        if class.len() > MAX_STUDENTS_PER_FILE {
            bail!(
                "the class would have {} students, more than the {MAX_STUDENTS_PER_FILE} it may \
                 hold; nothing was imported",
                class.len()
            );
        }
        if changed {
            let profiles: Vec<Profile> = class.into_values().collect();
            write_creating_dir(&self.path, export_json(&profiles)?.as_bytes())?;
        }
        Ok(outcomes)
    }
}
