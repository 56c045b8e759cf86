//! Running the system's tools (`ip`, `nsenter`, `mount`, `virsh`...): one place that builds a
//! predictable environment, waits with a deadline and turns a failure into an error naming the
//! command and its stderr.

use super::LabboxError;
use std::io::Read as _;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The sbin directories are often missing from a user's PATH (and cargo's), yet `ip`, `sshd`
/// and `libvirtd` live there.
pub(crate) const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How long an ordinary command may take. libvirt's first QEMU probe is the slow one (~20 s).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// A command with our PATH, the C locale (error texts are compared with libvirt's English) and
/// no stdin (nothing may ever wait for a password).
pub(crate) fn command(program: &str) -> Command {
    let mut c = Command::new(program);
    c.env("PATH", PATH).env("LC_ALL", "C").stdin(Stdio::null());
    c
}

/// The command line as a user would type it.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Run to completion (or `timeout`), capturing stdout and stderr; the exit status is the
/// caller's to judge.
pub(crate) fn output(cmd: &mut Command, timeout: Duration) -> Result<Output, LabboxError> {
    let command = describe(cmd);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| LabboxError::Spawn {
            command: command.clone(),
            source,
        })?;
    let pid = child.id();
    // Pipes are drained on their own threads so a chatty command cannot block on a full pipe
    // while we wait for it.
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let err_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let status = match rx.recv_timeout(timeout) {
        Ok(Ok(status)) => status,
        Ok(Err(source)) => return Err(LabboxError::Spawn { command, source }),
        Err(_) => {
            if let Ok(pid) = i32::try_from(pid) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            return Err(LabboxError::Timeout {
                what: format!("`{command}`"),
                secs: timeout.as_secs(),
            });
        }
    };
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = err_thread.join().unwrap_or_default();
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// Run and require success; returns stdout.
pub(crate) fn run(cmd: &mut Command) -> Result<String, LabboxError> {
    run_timeout(cmd, DEFAULT_TIMEOUT)
}

/// [`run`] with its own deadline.
pub(crate) fn run_timeout(cmd: &mut Command, timeout: Duration) -> Result<String, LabboxError> {
    let out = output(cmd, timeout)?;
    check(cmd, &out)?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// An error for a finished command that did not succeed.
pub(crate) fn check(cmd: &Command, out: &Output) -> Result<(), LabboxError> {
    if out.status.success() {
        return Ok(());
    }
    let mut stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if stderr.is_empty() {
        // virsh and friends sometimes explain on stdout.
        stderr = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    }
    Err(LabboxError::Command {
        command: describe(cmd),
        status: out.status.to_string(),
        stderr,
    })
}
