//! The one way migralab writes and reads the files a user names or points it at, so that none of
//! them can hang it, exhaust its memory, or destroy or lose a file (issue 22; the book's
//! `reference/files.md` states the rules for users).
//!
//! Writing ([`write_atomically`]): a regular file is replaced in one step: a temporary with an
//! unpredictable name is created exclusively beside it (never through a symlink planted there),
//! given the target's permission bits, written, fsynced and renamed over it, then the folder is
//! fsynced; a crash never leaves half a file. A symlink is followed and the file it points to is
//! replaced, as `cp` writes through one. A FIFO or character device (`/dev/null`, a terminal)
//! and the descriptor names (`/dev/stdout`, `/dev/fd/N`) are written into, never replaced; a
//! directory, socket or block device is refused.
//!
//! Reading ([`read_bounded`]): regular files only, checked before and after the one open (a
//! FIFO or device is refused without blocking), and never more than a [`Limit`] per kind.

use std::ffi::OsString;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The path ends in `..` or is a root: there is no file name to write beside.
    #[error("{}: not a file name", .0.display())]
    NotAFileName(PathBuf),
    /// The path names something migralab does not replace or write into (a directory, ...).
    #[error("{}: {what}", .path.display())]
    Refused {
        /// The path asked for.
        path: PathBuf,
        /// What it is and what to do instead.
        what: &'static str,
    },
    /// An output is an input of the same command, or two outputs name one file.
    #[error("{first} and {second} are the same file; nothing was written (name another file)")]
    SameFile {
        /// The first of the two, as `--flag PATH` or `the trace PATH`.
        first: String,
        /// The second.
        second: String,
    },
    /// Creating, writing, syncing or renaming the file failed.
    #[error("cannot write {}", .path.display())]
    Io {
        /// The file asked for.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The OS refused (no such file, permission denied, ...).
    #[error("cannot read {}: {error}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said (shown in the message, not as a source: it is the whole reason).
        error: io::Error,
    },
    /// Not a regular file: reading a FIFO or device could block or never end.
    #[error("cannot read {}: {what}; migralab reads regular files only", .path.display())]
    NotAFile {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        what: &'static str,
    },
    /// Larger than the limit of its kind.
    #[error("cannot read {}: larger than {}, the limit for {}", .path.display(), human(.limit.bytes), .limit.what)]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit it is over.
        limit: Limit,
    },
    /// Text was expected.
    #[error("cannot read {}: not UTF-8 text", .path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
}

impl ReadError {
    /// The file does not exist (callers that start fresh without one check this).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io { error, .. } if error.kind() == io::ErrorKind::NotFound)
    }

    /// Why, without the path (for messages that name the file their own way).
    pub fn reason(&self) -> String {
        match self {
            ReadError::Io { error, .. } => error.to_string(),
            ReadError::NotAFile { what, .. } => {
                format!("{what}; migralab reads regular files only")
            }
            ReadError::TooLarge { limit, .. } => {
                format!(
                    "larger than {}, the limit for {}",
                    human(limit.bytes),
                    limit.what
                )
            }
            ReadError::NotUtf8 { .. } => "not UTF-8 text".into(),
        }
    }
}

/// How much of one kind of file migralab reads at most: far above any real one, far below what
/// would exhaust a student's laptop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Bytes.
    pub bytes: u64,
    /// The kind, as the message names it (`a scenario`).
    pub what: &'static str,
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

impl Limit {
    /// A scenario file (the shipped ones are under 4 KiB).
    pub const SCENARIO: Limit = Limit {
        bytes: MIB,
        what: "a scenario",
    };
    /// A question bank folder, all its TOML files together (the shipped bank is under 64 KiB).
    pub const QUESTION_BANK: Limit = Limit {
        bytes: 4 * MIB,
        what: "a question bank (all its files together)",
    };
    /// A saved run (`sim --json --out`): a long busy run is tens of MiB.
    pub const TRACE: Limit = Limit {
        bytes: 256 * MIB,
        what: "a trace",
    };
    /// The instructor settings (a few lines).
    pub const SETTINGS: Limit = Limit {
        bytes: 64 * KIB,
        what: "the instructor settings",
    };
    /// A student's progress file (one entry per quiz answer).
    pub const PROFILE: Limit = Limit {
        bytes: 16 * MIB,
        what: "a progress file",
    };
    /// A fidelity recording (one line per real run).
    pub const RECORDING: Limit = Limit {
        bytes: 256 * MIB,
        what: "a fidelity recording",
    };
    /// A calibration file (a few constants).
    pub const CALIBRATION: Limit = Limit {
        bytes: MIB,
        what: "a calibration file",
    };
}

/// `1 MiB`, `64 KiB`, `300 bytes`.
fn human(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Read a regular file of at most `limit` bytes, with one open.
pub fn read_bounded(path: &Path, limit: Limit) -> Result<Vec<u8>, ReadError> {
    let io = |error| ReadError::Io {
        path: path.to_path_buf(),
        error,
    };
    // Looked at first, so that a FIFO or device is refused without being opened at all.
    let meta = std::fs::metadata(path).map_err(io)?;
    regular(path, &meta)?;
    if meta.len() > limit.bytes {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // A FIFO swapped in after the look must not block the open; on a regular file the flag
        // does nothing.
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(io)?;
    // The file opened, which need not be the one looked at.
    regular(path, &file.metadata().map_err(io)?)?;
    let mut bytes = Vec::new();
    // One byte past the limit tells a file that grew since the look.
    file.take(limit.bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit.bytes {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    Ok(bytes)
}

/// An exclusive lock on a lock file, held until dropped (see [`lock_exclusive`]).
#[derive(Debug)]
pub struct FileLock {
    // Closing the file releases the lock.
    _file: File,
}

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process held the lock for longer than the wait allowed.
    #[error(
        "{} is held by another migralab for more than {} s; try again (a stopped migralab \
         holding it must be ended first)",
        .path.display(),
        .waited.as_secs()
    )]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// How long this process waited.
        waited: std::time::Duration,
    },
    /// The lock file cannot be created or opened, or is not a regular file.
    #[error("cannot lock {}: {reason}", .path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Take an exclusive lock on `path` (created empty if missing, never truncated, never followed
/// through a symlink, a FIFO or device refused without blocking): the OS's advisory whole-file
/// lock (`flock` on Linux, `LockFileEx` on Windows), released when the [`FileLock`] is dropped
/// or the process ends however it ends. Waits at most `wait` for another holder, polling, and
/// then fails instead of hanging.
pub fn lock_exclusive(path: &Path, wait: std::time::Duration) -> Result<FileLock, LockError> {
    let io = |e: &dyn std::fmt::Display| LockError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    let file = options.open(path).map_err(|e| io(&e))?;
    let meta = file.metadata().map_err(|e| io(&e))?;
    if !meta.is_file() {
        return Err(io(&kind_of(&meta)));
    }
    let start = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(1);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(FileLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&e)),
        }
        let waited = start.elapsed();
        if waited >= wait {
            return Err(LockError::Busy {
                path: path.to_path_buf(),
                waited,
            });
        }
        std::thread::sleep(pause.min(wait.saturating_sub(waited)));
        pause = (pause * 2).min(std::time::Duration::from_millis(20));
    }
}

/// [`read_bounded`], as UTF-8 text.
pub fn read_text_bounded(path: &Path, limit: Limit) -> Result<String, ReadError> {
    String::from_utf8(read_bounded(path, limit)?).map_err(|_| ReadError::NotUtf8 {
        path: path.to_path_buf(),
    })
}

fn regular(path: &Path, meta: &Metadata) -> Result<(), ReadError> {
    if meta.is_file() {
        return Ok(());
    }
    Err(ReadError::NotAFile {
        path: path.to_path_buf(),
        what: kind_of(meta),
    })
}

/// What a file that is not a regular file is, for messages.
fn kind_of(meta: &Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        return "is a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if ft.is_fifo() {
            return "is a FIFO";
        }
        if ft.is_char_device() || ft.is_block_device() {
            return "is a device";
        }
        if ft.is_socket() {
            return "is a socket";
        }
    }
    "is not a regular file"
}

/// Where a write goes.
enum Target {
    /// Written into as it is: a FIFO, a character device, a descriptor name.
    Stream,
    /// A regular file (`real`: the symlink followed), replaced atomically.
    File {
        real: PathBuf,
        existing: Option<Metadata>,
    },
}

/// `/dev/stdout`, `/dev/fd/1`...: the user means the descriptor, even when it is a regular file
/// (`> log`), which must be appended to, not replaced behind the shell's back.
fn names_a_descriptor(path: &Path) -> bool {
    cfg!(unix)
        && (path == Path::new("/dev/stdout")
            || path == Path::new("/dev/stderr")
            || path.starts_with("/dev/fd")
            || path.starts_with("/proc/self/fd"))
}

fn target_of(path: &Path) -> Result<Target, WriteError> {
    if names_a_descriptor(path) {
        return Ok(Target::Stream);
    }
    let io = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let refused = |what| WriteError::Refused {
        path: path.to_path_buf(),
        what,
    };
    let link = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(Target::File {
                real: path.to_path_buf(),
                existing: None,
            });
        }
        Err(e) => return Err(io(e)),
        Ok(m) => m,
    };
    let is_link = link.file_type().is_symlink();
    let meta = if is_link {
        match std::fs::metadata(path) {
            // `cp` refuses to write through a dangling symlink too: where it points may be
            // a place the user never meant (it was planted, or is stale).
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(refused(
                    "is a symbolic link to a missing file; name a regular file",
                ));
            }
            Err(e) => return Err(io(e)),
            Ok(m) => m,
        }
    } else {
        link
    };
    let ft = meta.file_type();
    if ft.is_file() {
        let real = if is_link {
            std::fs::canonicalize(path).map_err(io)?
        } else {
            path.to_path_buf()
        };
        return Ok(Target::File {
            real,
            existing: Some(meta),
        });
    }
    if ft.is_dir() {
        return Err(refused("is a directory; name a file in it"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if ft.is_fifo() || ft.is_char_device() {
            return Ok(Target::Stream);
        }
        if ft.is_block_device() {
            return Err(refused("is a disk (block device); name a regular file"));
        }
        if ft.is_socket() {
            return Err(refused("is a socket; name a regular file"));
        }
    }
    Err(refused("is not a regular file; name a regular file"))
}

/// Refuse now, before any work, what [`write_atomically`] would refuse (a directory, a socket,
/// a dangling symlink...). The write itself can still fail (a full disk).
pub fn check_output(path: &Path) -> Result<(), WriteError> {
    match target_of(path)? {
        Target::File { real, .. } if real.file_name().is_none() => {
            Err(WriteError::NotAFileName(path.to_path_buf()))
        }
        _ => Ok(()),
    }
}

/// Write `bytes` to `path`: a regular file (or none yet) is replaced atomically; a FIFO, a
/// character device or a descriptor name is written into (see the module docs).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    match target_of(path)? {
        Target::Stream => write_into(path, bytes),
        Target::File { real, existing } => replace(path, &real, existing.as_ref(), bytes),
    }
}

fn write_into(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let io = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = OpenOptions::new();
    // Appending: a descriptor the shell opened with `>>` keeps what it had.
    options.append(true);
    #[cfg(unix)]
    {
        // Opening a FIFO nobody reads would block for ever; non-blocking, it fails at once.
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let mut file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ENXIO) {
            return WriteError::Refused {
                path: path.to_path_buf(),
                what: "is a FIFO that no process is reading; start its reader first",
            };
        }
        io(e)
    })?;
    write_patiently(&mut file, bytes).map_err(io)
}

/// `write_all` on a non-blocking descriptor: a full pipe is waited for, not an error.
fn write_patiently(file: &mut File, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match file.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn replace(
    asked: &Path,
    real: &Path,
    existing: Option<&Metadata>,
    bytes: &[u8],
) -> Result<(), WriteError> {
    let io = |source| WriteError::Io {
        path: asked.to_path_buf(),
        source,
    };
    let name = real
        .file_name()
        .ok_or_else(|| WriteError::NotAFileName(asked.to_path_buf()))?;
    let dir = real
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (tmp, file) = create_temporary(dir, name, existing.is_some()).map_err(io)?;
    let written = fill(file, existing, bytes).and_then(|()| std::fs::rename(&tmp, real));
    if let Err(e) = written {
        // Best effort: the write error is the one to report.
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    if let Ok(d) = File::open(dir) {
        // Makes the rename itself durable on Linux; an error here loses nothing already written.
        let _ = d.sync_all();
    }
    Ok(())
}

fn fill(mut file: File, existing: Option<&Metadata>, bytes: &[u8]) -> io::Result<()> {
    #[cfg(unix)]
    if let Some(meta) = existing {
        // The replaced file keeps its permission bits (not set-id: never granted by a write).
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(
            std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777,
        ))?;
    }
    #[cfg(not(unix))]
    let _ = existing;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Create `.NAME.RANDOM.tmp` in `dir`, exclusively: a file or symlink already there (planted or
/// left by a crash) is never opened, another name is drawn. `private`: the target exists, so
/// the temporary is owner-only until it is given the target's bits (a 0600 file's contents are
/// never readable by others, even for a moment).
fn create_temporary(
    dir: &Path,
    name: &std::ffi::OsStr,
    private: bool,
) -> io::Result<(PathBuf, File)> {
    let mut last = io::Error::from(io::ErrorKind::AlreadyExists);
    for _ in 0..16 {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).map_err(io::Error::other)?;
        let mut tmp_name = OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{:016x}.tmp", u64::from_le_bytes(random)));
        let tmp = dir.join(tmp_name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        #[cfg(not(unix))]
        let _ = private;
        match options.open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// What a path names, to tell whether two paths are one file.
#[derive(Debug, PartialEq, Eq)]
enum FileId {
    /// An existing file: its device and inode (or canonical path where there are none).
    Existing(u64, u64, PathBuf),
    /// A file not there yet: its canonical folder and its name.
    New(PathBuf),
}

fn file_id(path: &Path) -> Option<FileId> {
    match std::fs::metadata(path) {
        // Streams and devices may be named twice (`--csv /dev/null --json /dev/null`).
        Ok(m) if !m.is_file() => None,
        Ok(m) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt as _;
                Some(FileId::Existing(m.dev(), m.ino(), PathBuf::new()))
            }
            #[cfg(not(unix))]
            {
                let _ = m;
                std::fs::canonicalize(path)
                    .ok()
                    .map(|p| FileId::Existing(0, 0, p))
            }
        }
        Err(_) => {
            let name = path.file_name()?;
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            std::fs::canonicalize(dir)
                .ok()
                .map(|d| FileId::New(d.join(name)))
        }
    }
}

/// Refuse, before anything is written, an output that is also an input of the same command or
/// two outputs that name one file (by device and inode when the file exists, else by canonical
/// folder and name). Each entry is (how the message names it, the path): `("--json", path)`.
pub fn check_distinct(
    inputs: &[(&str, &Path)],
    outputs: &[(&str, &Path)],
) -> Result<(), WriteError> {
    let ids: Vec<_> = outputs.iter().map(|(_, p)| file_id(p)).collect();
    let named = |(label, path): &(&str, &Path)| format!("{label} {}", path.display());
    for (i, out) in outputs.iter().enumerate() {
        let Some(id) = &ids[i] else { continue };
        for input in inputs {
            // An input not there is not read: `sim lesson --out lesson` names a shipped one.
            if let Some(input_id @ FileId::Existing(..)) = file_id(input.1)
                && &input_id == id
            {
                return Err(WriteError::SameFile {
                    first: named(out),
                    second: named(input),
                });
            }
        }
        for (j, other) in outputs.iter().enumerate().take(i) {
            if ids[j].as_ref() == Some(id) {
                return Err(WriteError::SameFile {
                    first: named(other),
                    second: named(out),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A scratch folder of its own per test (tests run in parallel threads).
    fn scratch(test: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("migralab-fsutil-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<OsString> {
        let mut n: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = scratch("replace");
        let target = dir.join("run.json");
        write_atomically(&target, b"one").unwrap();
        write_atomically(&target, b"two").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"two");
        assert_eq!(names(&dir), vec![OsString::from("run.json")]);
        assert!(
            write_atomically(&dir.join("missing/run.json"), b"x").is_err(),
            "no folder is created"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_directory_is_refused_and_left_alone() {
        let dir = scratch("dir");
        let sub = dir.join("sub");
        std::fs::create_dir(&sub).unwrap();
        let err = write_atomically(&sub, b"x").unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
        assert!(check_output(&sub).is_err());
        assert!(sub.is_dir());
        assert_eq!(names(&dir), vec![OsString::from("sub")]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_symlink_is_written_through_and_stays_a_symlink() {
        let dir = scratch("symlink");
        let real = dir.join("real.json");
        std::fs::write(&real, "old").unwrap();
        let link = dir.join("link.json");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&real, &link).unwrap();
        #[cfg(unix)]
        {
            write_atomically(&link, b"new").unwrap();
            assert_eq!(std::fs::read(&real).unwrap(), b"new");
            assert!(
                std::fs::symlink_metadata(&link)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
            // A dangling one is refused: where it points was never meant.
            let dangling = dir.join("dangling.json");
            std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
            assert!(write_atomically(&dangling, b"x").is_err());
            assert!(!dir.join("nowhere").exists());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn too_large_a_file_is_refused_naming_the_limit() {
        let dir = scratch("large");
        let big = dir.join("big.toml");
        std::fs::write(&big, vec![b'#'; 2048]).unwrap();
        let small = Limit {
            bytes: 1024,
            what: "a test file",
        };
        let err = read_bounded(&big, small).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot read {}: larger than 1 KiB, the limit for a test file",
                big.display()
            )
        );
        std::fs::write(&big, vec![b'#'; 1024]).unwrap();
        assert_eq!(
            read_bounded(&big, small).unwrap().len(),
            1024,
            "the limit itself is fine"
        );
        assert!(
            read_bounded(&dir.join("none"), small)
                .unwrap_err()
                .is_not_found()
        );
        assert!(
            read_bounded(&dir, small)
                .unwrap_err()
                .to_string()
                .contains("is a directory")
        );
        std::fs::write(&big, [0xff, 0xfe]).unwrap();
        assert!(matches!(
            read_text_bounded(&big, small),
            Err(ReadError::NotUtf8 { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn outputs_that_are_inputs_or_each_other_are_refused() {
        let dir = scratch("same");
        let input = dir.join("run.json");
        std::fs::write(&input, "{}").unwrap();
        let alias = dir.join(".").join("run.json");
        let err = check_distinct(&[("the trace", &input)], &[("--json", &alias)]).unwrap_err();
        assert!(err.to_string().contains("are the same file"), "{err}");
        let a = dir.join("a.csv");
        let b = dir.join("sub/../a.csv");
        std::fs::create_dir(dir.join("sub")).unwrap();
        assert!(
            check_distinct(&[], &[("--csv", &a), ("--json", &b)]).is_err(),
            "not there yet"
        );
        assert!(
            check_distinct(
                &[("the trace", &input)],
                &[("--csv", &a), ("--json", &dir.join("b"))]
            )
            .is_ok()
        );
        #[cfg(unix)]
        assert!(
            check_distinct(
                &[],
                &[
                    ("--csv", Path::new("/dev/null")),
                    ("--json", Path::new("/dev/null"))
                ]
            )
            .is_ok(),
            "a device may be named twice"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// What only Unix has: modes, FIFOs, devices.
#[cfg(all(test, unix))]
mod unix_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;
    use std::time::Duration;

    fn scratch(test: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("migralab-fsutil-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Run `f` on a thread; a hang fails the test instead of hanging CI.
    fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(secs))
            .unwrap_or_else(|_| panic!("blocked for more than {secs} s"))
    }

    fn mkfifo(path: &Path) {
        let ok = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap()
            .success();
        assert!(ok, "mkfifo {}", path.display());
    }

    #[test]
    fn a_lock_is_exclusive_bounded_and_never_a_fifo_or_symlink() {
        let dir = scratch("lock");
        let path = dir.join("ana.lock");
        let held = lock_exclusive(&path, Duration::from_secs(1)).unwrap();
        // Another open of the file cannot take it: it waits, then says so instead of hanging.
        let t = std::time::Instant::now();
        let busy = lock_exclusive(&path, Duration::from_millis(100)).unwrap_err();
        assert!(matches!(busy, LockError::Busy { .. }), "{busy}");
        assert!(t.elapsed() < Duration::from_secs(2));
        drop(held);
        drop(lock_exclusive(&path, Duration::from_millis(100)).unwrap());
        // A FIFO in its place is refused without blocking; a symlink is not followed.
        let fifo = dir.join("fifo.lock");
        mkfifo(&fifo);
        let e = within(5, move || {
            lock_exclusive(&fifo, Duration::from_millis(10)).unwrap_err()
        });
        assert!(e.to_string().contains("FIFO"), "{e}");
        let link = dir.join("link.lock");
        std::os::unix::fs::symlink(dir.join("elsewhere"), &link).unwrap();
        assert!(lock_exclusive(&link, Duration::from_millis(10)).is_err());
        assert!(
            !dir.join("elsewhere").exists(),
            "nothing created through the symlink"
        );
    }

    #[test]
    fn the_permission_bits_are_kept() {
        let dir = scratch("mode");
        let target = dir.join("secret.toml");
        std::fs::write(&target, "old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomically(&target, b"new").unwrap();
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomically(&target, b"newer").unwrap();
        let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_symlink_at_any_temporary_name_is_never_followed() {
        let dir = scratch("planted");
        let victim = dir.join("victim");
        std::fs::write(&victim, "keep").unwrap();
        // The old predictable names: `.NAME.PID.SEQ.tmp`. Plant them all for the first SEQs.
        for seq in 0..64 {
            let planted = dir.join(format!(".run.json.{}.{seq}.tmp", std::process::id()));
            std::os::unix::fs::symlink(&victim, planted).unwrap();
        }
        for _ in 0..8 {
            write_atomically(&dir.join("run.json"), b"mine").unwrap();
        }
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert_eq!(std::fs::read(dir.join("run.json")).unwrap(), b"mine");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dev_null_is_written_into_not_replaced() {
        write_atomically(Path::new("/dev/null"), b"gone").unwrap();
        let meta = std::fs::metadata("/dev/null").unwrap();
        use std::os::unix::fs::FileTypeExt as _;
        assert!(meta.file_type().is_char_device());
    }

    #[test]
    fn a_full_device_fails_with_the_reason() {
        let err = write_atomically(Path::new("/dev/full"), b"x").unwrap_err();
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(source.contains("No space left"), "{source}");
    }

    #[test]
    fn an_unwritable_folder_fails_and_leaves_nothing() {
        let dir = scratch("readonly");
        let ro = dir.join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        let result = write_atomically(&ro.join("out.json"), b"x");
        // Root may write anywhere: then the write succeeds, which is also right.
        if let Err(err) = result {
            assert!(err.to_string().contains("out.json"), "{err}");
        }
        let leftovers: Vec<_> = std::fs::read_dir(&ro)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fifo_nobody_reads_is_refused_without_blocking() {
        let dir = scratch("fifo-noreader");
        let fifo = dir.join("pipe");
        mkfifo(&fifo);
        let f = fifo.clone();
        let err = within(10, move || write_atomically(&f, b"x")).unwrap_err();
        assert!(err.to_string().contains("no process is reading"), "{err}");
        assert!(check_output(&fifo).is_ok(), "a FIFO is a fine output");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fifo_with_a_reader_is_written_into() {
        let dir = scratch("fifo-reader");
        let fifo = dir.join("pipe");
        mkfifo(&fifo);
        let f = fifo.clone();
        // The reader opens first (blocking until the writer comes), as `cat pipe &` would.
        let reader = std::thread::spawn(move || std::fs::read(&f).unwrap());
        let big = vec![b'x'; 1 << 20]; // more than a pipe holds: the writer must wait for it
        let f = fifo.clone();
        let sent = big.clone();
        within(20, move || {
            // The reader thread may not have opened yet: retry until it has.
            for _ in 0..1000 {
                match write_atomically(&f, &sent) {
                    Err(WriteError::Refused { .. }) => std::thread::sleep(Duration::from_millis(5)),
                    other => return other.unwrap(),
                }
            }
            panic!("the reader never opened the FIFO");
        });
        assert_eq!(within(10, move || reader.join().unwrap()), big);
        use std::os::unix::fs::FileTypeExt as _;
        assert!(
            std::fs::symlink_metadata(&fifo)
                .unwrap()
                .file_type()
                .is_fifo(),
            "still a FIFO"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reading_a_fifo_or_device_is_refused_without_blocking() {
        let dir = scratch("fifo-read");
        let fifo = dir.join("pipe");
        mkfifo(&fifo);
        let f = fifo.clone();
        let err = within(10, move || read_bounded(&f, Limit::SCENARIO)).unwrap_err();
        assert!(err.to_string().contains("is a FIFO"), "{err}");
        let err = within(10, || read_bounded(Path::new("/dev/zero"), Limit::SCENARIO)).unwrap_err();
        assert!(err.to_string().contains("is a device"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
