//! Per-host daemons, no systemd needed: `virtlogd -d`, `libvirtd -d --listen`, `sshd`. Each
//! writes its pid file into the host's private /run, which this machine reads directly.

use super::LabboxError;
use super::mounts::{HostDirs, in_host};
use super::run::{DEFAULT_TIMEOUT, PATH, check, describe, output};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The daemons of a host, in start order: (name as in `comm`, program, arguments, pid file in
/// the host's /run).
pub(crate) const DAEMONS: [(&str, &str, &[&str], &str); 3] = [
    ("virtlogd", "virtlogd", &["-d"], "virtlogd.pid"),
    ("libvirtd", "libvirtd", &["-d", "--listen"], "libvirtd.pid"),
    ("sshd", "/usr/sbin/sshd", &[], "sshd.pid"),
];

/// The pid in `file` if that process is alive and is `comm` (a stale pid file may name a pid
/// that now belongs to someone else).
pub(crate) fn pid_of(dirs: &HostDirs, comm: &str, file: &str) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(dirs.run.join(file))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (process_comm(pid).as_deref() == Some(comm)).then_some(pid)
}

/// `/proc/PID/comm`.
pub(crate) fn process_comm(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_owned())
}

/// Every daemon's pid (None if not running).
pub(crate) fn pids(dirs: &HostDirs) -> Vec<(String, Option<u32>)> {
    DAEMONS
        .iter()
        .map(|(comm, _, _, file)| ((*comm).to_owned(), pid_of(dirs, comm, file)))
        .collect()
}

/// Start whichever daemons are not running.
pub(crate) fn start(
    state_dir: &Path,
    dirs: &HostDirs,
    host: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<(), LabboxError> {
    for (comm, program, args, file) in DAEMONS {
        if pid_of(dirs, comm, file).is_some() {
            continue;
        }
        progress(&format!("starting {comm} on {host}"));
        let mut cmd = in_host(state_dir, host, program);
        // A clean environment: the daemons outlive this process and must not inherit the
        // caller's (LIBVIRT_DEFAULT_URI, a user's SSH agent...).
        cmd.args(args)
            .env_clear()
            .env("PATH", PATH)
            .env("LC_ALL", "C")
            .env("HOME", "/root");
        // The daemons keep no pipe of ours: stderr goes to a file read only on failure, so
        // waiting for the forking parent cannot block on the daemon holding the pipe.
        let err_path = dirs.root.join(format!("{comm}.start.err"));
        let err = std::fs::File::create(&err_path).map_err(|source| LabboxError::Io {
            what: "cannot create".into(),
            path: err_path.clone(),
            source,
        })?;
        let command = describe(&cmd);
        let status = cmd
            .stdout(Stdio::null())
            .stderr(err)
            .status()
            .map_err(|source| LabboxError::Spawn {
                command: command.clone(),
                source,
            })?;
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        if !status.success() {
            return Err(LabboxError::Command {
                command,
                status: status.to_string(),
                stderr: stderr.trim().to_owned(),
            });
        }
        wait_for(&format!("{comm} on {host} to write its pid file"), || {
            pid_of(dirs, comm, file).is_some()
        })?;
    }
    // libvirtd answers only once its drivers are up.
    let uri = socket_uri(dirs);
    let deadline = Instant::now() + DEFAULT_TIMEOUT;
    loop {
        let mut cmd = super::run::command("virsh");
        cmd.args(["-c", &uri, "version"]);
        let out = output(&mut cmd, DEFAULT_TIMEOUT)?;
        if out.status.success() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return check(&cmd, &out);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The URI of a host's libvirtd through its socket, usable from this machine.
pub(crate) fn socket_uri(dirs: &HostDirs) -> String {
    format!("qemu:///system?socket={}", dirs.libvirt_sock().display())
}

/// Poll `ready` every 50 ms for up to 30 s.
pub(crate) fn wait_for(what: &str, mut ready: impl FnMut() -> bool) -> Result<(), LabboxError> {
    let secs = 30;
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ready() {
        if Instant::now() >= deadline {
            return Err(LabboxError::Timeout {
                what: what.to_owned(),
                secs,
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}
