//! Writing files so that a crash never leaves half of one: write a temporary file beside the
//! target, fsync it, rename it over the target, then fsync the folder.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The path ends in `..` or is a root: there is no file name to write beside.
    #[error("{}: not a file name", .0.display())]
    NotAFileName(PathBuf),
    /// Creating, writing, syncing or renaming the file failed.
    #[error("cannot write {}", .path.display())]
    Io {
        /// The file asked for.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

/// A counter so two writes from one process never share a temporary file.
static TEMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// Replace `path` with `bytes` atomically: write `.NAME.PID.SEQ.tmp` beside it, fsync, rename,
/// then fsync the folder (best effort: not every platform can open a folder).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let name = path
        .file_name()
        .ok_or_else(|| WriteError::NotAFileName(path.to_path_buf()))?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp_name = OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        TEMP_SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = dir.join(tmp_name);
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        // Best effort: the temporary may not exist. The write error is the one to report.
        let _ = std::fs::remove_file(&tmp);
        return Err(WriteError::Io {
            path: path.to_path_buf(),
            source: e,
        });
    }
    if let Ok(d) = std::fs::File::open(dir) {
        // Makes the rename itself durable on Linux; an error here loses nothing already written.
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = std::env::temp_dir().join(format!("migralab-fsutil-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("run.json");
        write_atomically(&target, b"one").unwrap();
        write_atomically(&target, b"two").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("run.json")]);
        assert!(
            write_atomically(&dir.join("missing/run.json"), b"x").is_err(),
            "no folder is created"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
