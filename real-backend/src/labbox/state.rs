//! What `up` made, written down *before* each thing is made, so a `down` after a crash or a
//! half-finished `up` knows what to remove. An append-only log of `kind value` lines: a torn
//! last line costs at most that one entry, and appending never rewrites what is already safe.
//!
//! Layout of the state directory:
//! - `made`: the log (see [`Made`]);
//! - `faults`: the faults currently broken, one name a line;
//! - `guest`: the guest's spec (`ram ws rate disk`);
//! - `ns/`: the pinned mount and UTS namespaces (`<host>.mnt`, `<host>.uts`);
//! - `hosts/<host>/`: each host's private /run, /etc/libvirt, /etc/ssh, ...;
//! - `images/`: the shared storage.

use super::{Fault, GuestSpec, LabboxError};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Everything the log records.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Made {
    /// Network namespaces by name.
    pub netns: Vec<String>,
    /// Files with a namespace bind-mounted on them.
    pub pins: Vec<PathBuf>,
    /// Directories bind-mounted on themselves (made private so namespaces can be pinned in them).
    pub self_mounts: Vec<PathBuf>,
    /// `/dev/kvm`'s mode, uid and gid before `up` changed them.
    pub kvm: Option<(u32, u32, u32)>,
    /// `up` finished.
    pub complete: bool,
}

fn io(what: &str, path: &Path, source: std::io::Error) -> LabboxError {
    LabboxError::Io {
        what: what.into(),
        path: path.to_path_buf(),
        source,
    }
}

/// The log's path.
fn log_path(state_dir: &Path) -> PathBuf {
    state_dir.join("made")
}

/// Append one entry and push it to disk before the thing it names is made.
pub(crate) fn record(state_dir: &Path, kind: &str, value: &str) -> Result<(), LabboxError> {
    let path = log_path(state_dir);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| io("cannot open", &path, e))?;
    f.write_all(format!("{kind} {value}\n").as_bytes())
        .and_then(|()| f.sync_data())
        .map_err(|e| io("cannot write", &path, e))
}

/// Read the log; a missing log is an empty one.
pub(crate) fn read(state_dir: &Path) -> Result<Made, LabboxError> {
    let path = log_path(state_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Made::default()),
        Err(e) => return Err(io("cannot read", &path, e)),
    };
    Ok(parse(&text))
}

/// Parse the log, ignoring lines it does not know (a torn last line, say).
pub(crate) fn parse(text: &str) -> Made {
    let mut made = Made::default();
    for line in text.lines() {
        let (kind, value) = line.split_once(' ').unwrap_or((line, ""));
        match kind {
            "netns" if !value.is_empty() => push_new(&mut made.netns, value.to_owned()),
            "pin" if !value.is_empty() => push_new(&mut made.pins, PathBuf::from(value)),
            "self-mount" if !value.is_empty() => {
                push_new(&mut made.self_mounts, PathBuf::from(value));
            }
            "kvm" => {
                // `MODE(octal) UID GID`. Only the first record is the original: a later `up`
                // sees the mode an earlier one set.
                let mut it = value.split(' ');
                let mode = it.next().and_then(|v| u32::from_str_radix(v, 8).ok());
                let uid = it.next().and_then(|v| v.parse().ok());
                let gid = it.next().and_then(|v| v.parse().ok());
                if let (Some(mode), Some(uid), Some(gid), None) = (mode, uid, gid, made.kvm) {
                    made.kvm = Some((mode, uid, gid));
                }
            }
            "complete" => made.complete = true,
            _ => {}
        }
    }
    made
}

fn push_new<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// The faults currently broken.
pub(crate) fn faults(state_dir: &Path) -> Vec<Fault> {
    std::fs::read_to_string(state_dir.join("faults"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Write the faults currently broken.
pub(crate) fn set_faults(state_dir: &Path, faults: &[Fault]) -> Result<(), LabboxError> {
    let text: String = faults.iter().map(|f| format!("{f}\n")).collect();
    write_file(&state_dir.join("faults"), text.as_bytes())
}

/// The guest's spec as last set.
pub(crate) fn guest(state_dir: &Path) -> Option<GuestSpec> {
    let text = std::fs::read_to_string(state_dir.join("guest")).ok()?;
    let n: Vec<u64> = text
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    match n.as_slice() {
        [ram, ws, rate, disk] => Some(GuestSpec {
            ram_mib: *ram,
            working_set_mib: *ws,
            dirty_rate_mibps: *rate,
            disk: *disk != 0,
        }),
        _ => None,
    }
}

/// Record the guest's spec.
pub(crate) fn set_guest(state_dir: &Path, g: &GuestSpec) -> Result<(), LabboxError> {
    let text = format!(
        "{} {} {} {}\n",
        g.ram_mib,
        g.working_set_mib,
        g.dirty_rate_mibps,
        u8::from(g.disk)
    );
    write_file(&state_dir.join("guest"), text.as_bytes())
}

/// Write a whole file (small files only), replacing it atomically.
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), LabboxError> {
    let tmp = path.with_extension("tmp-migralab");
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| io("cannot write", path, e))
}

/// Create a directory and its parents.
pub(crate) fn mkdir(path: &Path) -> Result<(), LabboxError> {
    std::fs::create_dir_all(path).map_err(|e| io("cannot create directory", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_read_back_without_duplicates_and_a_torn_line_is_ignored() {
        let made = parse(
            "netns lab-sw\nnetns kvm-host-01\nnetns lab-sw\npin /run/x/ns/a.mnt\n\
             self-mount /run/x/ns\nkvm 600 0 0\nkvm 660 0 993\ncomplete\nnet",
        );
        assert_eq!(made.netns, ["lab-sw", "kvm-host-01"]);
        assert_eq!(made.pins, [PathBuf::from("/run/x/ns/a.mnt")]);
        assert_eq!(made.self_mounts, [PathBuf::from("/run/x/ns")]);
        assert_eq!(made.kvm, Some((0o600, 0, 0)));
        assert_eq!(parse("kvm 660 0 993").kvm, Some((0o660, 0, 993)));
        assert!(made.complete);
    }
}
