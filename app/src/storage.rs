//! Where migralab keeps its files and how it writes them: the data directory, atomic writes
//! (a temporary file beside the target, fsync, rename, fsync the folder: a crash never leaves
//! half of a file), and setting a bad file aside instead of losing it.

use anyhow::{Context as _, bail};
use std::path::{Path, PathBuf};

pub use migralab_real::fsutil::Limit;
use migralab_real::fsutil::{self, WriteError};

/// Write `bytes` to `path` the one way migralab writes files: a regular file is replaced
/// atomically, a FIFO or device written into, a directory refused (see
/// [`migralab_real::fsutil`], which the fidelity harness shares).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    Ok(fsutil::write_atomically(path, bytes)?)
}

/// Read a regular file of at most `limit` bytes as text (a FIFO or device is refused without
/// blocking; see [`fsutil::read_bounded`]).
pub fn read_text(path: &Path, limit: Limit) -> anyhow::Result<String> {
    Ok(fsutil::read_text_bounded(path, limit)?)
}

/// Refuse an output option (`--out PATH`) that names a directory, socket, disk or dangling
/// symlink, before any work is done.
pub fn check_output(flag: &str, path: &Path) -> anyhow::Result<()> {
    fsutil::check_output(path).map_err(|e| match e {
        WriteError::Refused { .. } | WriteError::NotAFileName(_) => anyhow::anyhow!("{flag} {e}"),
        e => e.into(),
    })
}

/// Refuse, before anything is written, an output that is also an input, or two outputs that
/// are one file. Entries are (`--flag` or `the trace`, path).
pub fn check_distinct(inputs: &[(&str, &Path)], outputs: &[(&str, &Path)]) -> anyhow::Result<()> {
    Ok(fsutil::check_distinct(inputs, outputs)?)
}

/// Environment variable that overrides the data directory (tests point it at a temp folder).
pub const DATA_DIR_ENV: &str = "MIGRALAB_DATA_DIR";

/// Where migralab keeps its data: `$MIGRALAB_DATA_DIR` if set, else the platform data directory
/// (`~/.local/share/migralab` on Linux, `%APPDATA%\migralab\data` on Windows,
/// `~/Library/Application Support/migralab` on macOS).
pub fn data_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "migralab")
        .map(|p| p.data_dir().to_path_buf())
        .with_context(|| {
            format!("cannot find a home directory for migralab's data: set {DATA_DIR_ENV}")
        })
}

/// A loaded file, and what happened to a bad one on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<T> {
    /// The value (fresh when the file was missing or set aside).
    pub value: T,
    /// Set when the file was bad and renamed aside: say it to the user.
    pub notice: Option<String>,
}

/// Why a file was set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aside {
    /// It does not parse.
    Corrupt,
    /// A newer migralab wrote it.
    Newer,
}

impl Aside {
    fn tag(self) -> &'static str {
        match self {
            Aside::Corrupt => "corrupt",
            Aside::Newer => "newer",
        }
    }
}

/// Rename `path` (`DIR/STEM.EXT`) to the first free `DIR/STEM.corrupt-N.EXT` (or `newer-N`) and
/// return the new path. Never overwrites an earlier kept file.
pub fn set_aside(path: &Path, why: Aside) -> anyhow::Result<PathBuf> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .with_context(|| format!("{}: not a file name", path.display()))?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("bak");
    for n in 1..10_000u32 {
        let aside = path.with_file_name(format!("{stem}.{}-{n}.{ext}", why.tag()));
        if aside.exists() {
            continue;
        }
        std::fs::rename(path, &aside).with_context(|| {
            format!(
                "cannot keep {} aside as {}",
                path.display(),
                aside.display()
            )
        })?;
        return Ok(aside);
    }
    bail!("{}: too many files kept aside already", path.display())
}

/// Replace `path` with `bytes` atomically, creating its folder first (the data directory may
/// not exist yet on a new machine).
pub fn write_creating_dir(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_atomically(path, bytes)
}
