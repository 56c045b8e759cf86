//! The class folder: a directory the lab PCs share (a mounted network share), set as
//! `class_folder` in `instructor.toml`. Each student's app writes its own file there, and the
//! instructor's app reads them all, live.
//!
//! Invariants:
//! - **No shared file.** Each file is one student on one PC, `STEM.PCID.json` (the profile's
//!   file stem, and this PC's id from `DATA_DIR/pc-id`), written only by that PC under the
//!   student's profile lock, atomically (a temporary beside it, renamed): two PCs never write
//!   one file, and a reader sees the old file or the new one, never half of one.
//! - **Read cheaply.** [`ClassFolderReader::refresh`] lists the folder and re-reads only the
//!   files whose size or modification time changed; a file that does not read is reported with
//!   its reason and skipped, and never renamed or deleted (it is a student's PC's).

use super::files::{MAX_IMPORT_FILES, PROGRESS_IMPORT, json_files, parse_progress};
use super::merge::{Conflict, Students, merge_profile};
use crate::progress::{Profile, file_stem};
use crate::storage::write_atomically;
use anyhow::Context as _;
use migralab_real::fsutil::read_bounded;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The file in the data directory that names this PC in the class folder.
pub const PC_ID_FILE: &str = "pc-id";

/// This PC's id: 16 hex digits made once and kept in `DATA_DIR/pc-id`, so that two PCs never
/// share a class folder file (host names repeat across rooms; a random id does not). The file
/// is created exclusively, so two processes starting at once agree on one id.
pub fn pc_id(data_dir: &Path) -> anyhow::Result<String> {
    use std::io::Write as _;
    let path = data_dir.join(PC_ID_FILE);
    let read = || {
        crate::storage::read_text(&path, crate::storage::Limit::SETTINGS)
            .ok()
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    if let Some(id) = read() {
        return Ok(id);
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let id = format!(
        "{:08x}{:08x}",
        crate::progress::random_u32(),
        crate::progress::random_u32()
    );
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(mut f) => {
            f.write_all(format!("{id}\n").as_bytes())
                .and_then(|()| f.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(id)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Another process is writing it: its 17 bytes arrive in a moment.
            for _ in 0..100 {
                if let Some(id) = read() {
                    return Ok(id);
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            anyhow::bail!(
                "{} is not a PC id (16 hex digits); delete it and a new one is made",
                path.display()
            )
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

/// A student PC's view of the class folder: where its files go.
#[derive(Debug, Clone)]
pub struct ClassFolder {
    folder: PathBuf,
    data_dir: PathBuf,
}

impl ClassFolder {
    /// The class folder `folder`, for the PC whose data directory is `data_dir`.
    pub fn new(folder: &Path, data_dir: &Path) -> ClassFolder {
        ClassFolder {
            folder: folder.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
        }
    }

    /// The file of `name` from this PC.
    pub fn path_of(&self, name: &str) -> anyhow::Result<PathBuf> {
        Ok(self.folder.join(format!(
            "{}.{}.json",
            file_stem(name),
            pc_id(&self.data_dir)?
        )))
    }

    /// Write `profile` to its file (the folder must exist: a share that is not mounted is an
    /// error, not a new local folder the instructor never sees).
    pub fn publish(&self, profile: &Profile) -> anyhow::Result<()> {
        if !self.folder.is_dir() {
            anyhow::bail!(
                "{} is not a folder (is the share mounted?)",
                self.folder.display()
            );
        }
        let path = self.path_of(&profile.name)?;
        // Only this PC's own regular file is ever replaced: a symbolic link planted under its
        // name (by anyone who can write the share) would otherwise make the atomic write
        // replace the file the link points to, on this PC.
        if let Ok(meta) = std::fs::symlink_metadata(&path)
            && !meta.file_type().is_file()
        {
            anyhow::bail!(
                "{} is not a regular file (a link or a special file put in the class folder); \
                 not written",
                path.display()
            );
        }
        let mut text = serde_json::to_string_pretty(profile).context("cannot serialise")?;
        text.push('\n');
        write_atomically(&path, text.as_bytes())
    }
}

/// One file's last reading.
#[derive(Debug, Clone)]
struct Seen {
    stamp: (Option<SystemTime>, u64),
    students: Result<Vec<Profile>, String>,
}

/// The instructor's view of the class folder, re-read as it changes.
#[derive(Debug, Clone, Default)]
pub struct ClassFolderReader {
    folder: PathBuf,
    seen: HashMap<PathBuf, Seen>,
}

impl ClassFolderReader {
    /// A reader of `folder` (nothing read yet).
    pub fn new(folder: &Path) -> ClassFolderReader {
        ClassFolderReader {
            folder: folder.to_path_buf(),
            seen: HashMap::new(),
        }
    }

    /// The folder.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// List the folder and re-read the files that changed; true when anything did.
    pub fn refresh(&mut self) -> anyhow::Result<bool> {
        let files = json_files(&self.folder)?;
        let mut changed = files.len() != self.seen.len();
        let mut next = HashMap::with_capacity(files.len());
        for path in files.into_iter().take(MAX_IMPORT_FILES) {
            // Not followed: a link in a shared folder may point anywhere on this PC.
            let meta = std::fs::symlink_metadata(&path).ok();
            let stamp = (
                meta.as_ref().and_then(|m| m.modified().ok()),
                meta.as_ref().map_or(0, std::fs::Metadata::len),
            );
            match self.seen.remove(&path) {
                Some(seen) if seen.stamp == stamp => {
                    next.insert(path, seen);
                }
                _ => {
                    changed = true;
                    let origin = path.display().to_string();
                    let regular = meta.as_ref().is_some_and(|m| m.file_type().is_file());
                    let students = if !regular {
                        Err(format!("{origin}: not a regular file (a link?); skipped"))
                    } else {
                        read_bounded(&path, PROGRESS_IMPORT)
                            .map_err(|e| e.to_string())
                            .and_then(|b| parse_progress(&b, &origin).map_err(|e| format!("{e:#}")))
                    };
                    next.insert(path, Seen { stamp, students });
                }
            }
        }
        self.seen = next;
        Ok(changed)
    }

    /// Every student in the folder, merged into `class` (see [`merge_profile`]); the files that
    /// do not read, and the conflicts.
    pub fn merge_into(&self, class: &mut Students) -> (Vec<String>, Vec<Conflict>) {
        let mut paths: Vec<&PathBuf> = self.seen.keys().collect();
        paths.sort();
        let (mut bad, mut conflicts) = (Vec::new(), Vec::new());
        for path in paths {
            match &self.seen[path].students {
                Ok(students) => {
                    for p in students {
                        let source = path.display().to_string();
                        conflicts.extend(merge_profile(class, p, &source).conflicts);
                    }
                }
                Err(e) => bad.push(e.clone()),
            }
        }
        (bad, conflicts)
    }
}
