//! A real terminal on a lab host, without egui: the login command for an allowed host, and
//! [`TerminalSession`], that command running on a pseudo-terminal with its output fed into a
//! terminal emulator (the `vt100` crate) whose cell grid the GUI draws.
//!
//! Invariants:
//! - **Only the instructor's hosts.** A login is built only for a URI in
//!   `real_lab.allowed_hosts`: `ssh -t` to an ssh URI's host, or the lab in a box's own
//!   namespaces (exactly what `migralab labbox sh HOST` runs) for a host's socket URI. Nothing
//!   else gets a terminal.
//! - **Nothing blocks the UI.** Reading the PTY and writing keys to it happen on threads of
//!   their own; the UI locks the emulator only to draw it.
//! - **Nothing outlives the session.** Dropping it hangs up the child's process groups, kills
//!   them after [`HANGUP_GRACE`] if they ignore the hang-up (ssh may), reaps the child and joins
//!   the reader: no orphan, no zombie, no hang.
//!
//! The child runs under util-linux's `setsid --ctty`, which gives it a session of its own with
//! the PTY as its controlling terminal (so Ctrl-C interrupts what runs in it, as in any
//! terminal) without code of ours between fork and exec.

use anyhow::Context as _;
use migralab_real::labbox;
use migralab_real::uri::LibvirtUri;
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::{Mode, OFlags};
use rustix::process::{Pid, Signal};
use rustix::pty::OpenptFlags;
use rustix::termios::Winsize;
use std::fs::File;
use std::io::{Read as _, Write as _};
use std::os::fd::OwnedFd;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a hung-up child may take to exit before it is killed.
pub const HANGUP_GRACE: Duration = Duration::from_millis(300);

/// Lines kept above the screen.
const SCROLLBACK: usize = 2000;

/// The reader's poll interval: how quickly it notices that the session is being dropped.
const READ_TICK: Duration = Duration::from_millis(50);

/// What the child is told it runs in: what `vt100` emulates.
pub const TERM: &str = "xterm-256color";

/// Called when there is something new to draw (the GUI's repaint request).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// A command line that logs in to a host (or, in tests, any command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginCommand {
    /// The program (looked up in `PATH`).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Environment variables set for it (on top of this process's, and [`TERM`]).
    pub env: Vec<(String, String)>,
}

impl LoginCommand {
    /// A command without extra environment.
    pub fn new(program: &str, args: &[&str]) -> LoginCommand {
        LoginCommand {
            program: program.to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: Vec::new(),
        }
    }

    /// The command line as a person would type it (shown above the terminal).
    pub fn shell_line(&self) -> String {
        migralab_sim_core::term::shell_line(
            std::iter::once(self.program.as_str()).chain(self.args.iter().map(String::as_str)),
        )
    }
}

/// How a host is logged in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginKind {
    /// `ssh -t` to the URI's host.
    Ssh,
    /// The lab in a box's namespaces for this host (`migralab labbox sh HOST`).
    Labbox(&'static str),
}

/// An allowed host a terminal can log in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalHost {
    /// The libvirt URI from `real_lab.allowed_hosts`.
    pub uri: String,
    /// What the chooser shows: the host's name.
    pub name: String,
    /// How it is logged in to.
    pub kind: LoginKind,
}

/// The allowed hosts a terminal can log in to, in the instructor's order, each once. A URI
/// that names no host to log in to (`qemu:///system`, `test:///default`, `qemu+tcp://...`) is
/// left out: there is nothing to open a terminal on, or no agreed way to log in.
pub fn terminal_hosts(allowed_hosts: &[String]) -> Vec<TerminalHost> {
    terminal_hosts_in(&labbox::LabboxConfig::default(), allowed_hosts)
}

/// [`terminal_hosts`] with the lab in a box's paths given.
pub fn terminal_hosts_in(
    cfg: &labbox::LabboxConfig,
    allowed_hosts: &[String],
) -> Vec<TerminalHost> {
    let mut out: Vec<TerminalHost> = Vec::new();
    for uri in allowed_hosts {
        if out.iter().any(|h| h.uri == *uri) {
            continue;
        }
        let host = if let Some(name) = labbox::host_of_uri(cfg, uri) {
            Some((name.to_owned(), LoginKind::Labbox(name)))
        } else {
            LibvirtUri::parse(uri).ok().and_then(|u| {
                let host = u.host()?.to_owned();
                (u.transport.as_deref() == Some("ssh")).then_some((host, LoginKind::Ssh))
            })
        };
        if let Some((name, kind)) = host {
            out.push(TerminalHost {
                uri: uri.clone(),
                name,
                kind,
            });
        }
    }
    out
}

/// The login command for `host`, which must be one of `allowed_hosts`.
///
/// - ssh: `ssh -t [-p PORT] [-i KEYFILE] [USER@]HOST`, the user, port and key file taken from
///   the URI as libvirt would use them. ssh itself asks for a password or a host key
///   confirmation when it needs one: it runs in the terminal.
/// - lab in a box: `nsenter` into the host's network, mount and UTS namespaces running `bash`,
///   as `migralab labbox sh HOST` does (fails with the reason when the lab is not up).
pub fn login_command(
    cfg: &labbox::LabboxConfig,
    allowed_hosts: &[String],
    host: &str,
) -> anyhow::Result<LoginCommand> {
    let Some(h) = terminal_hosts_in(cfg, allowed_hosts)
        .into_iter()
        .find(|h| h.uri == host)
    else {
        anyhow::bail!("{host} is not one of the instructor's hosts with a terminal");
    };
    match h.kind {
        LoginKind::Labbox(name) => {
            let cmd = labbox::host_command(cfg, name, "bash")
                .with_context(|| format!("cannot open a terminal on {name}"))?;
            Ok(LoginCommand {
                program: cmd.get_program().to_string_lossy().into_owned(),
                args: cmd
                    .get_args()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect(),
                env: cmd
                    .get_envs()
                    .filter_map(|(k, v)| {
                        Some((
                            k.to_string_lossy().into_owned(),
                            v?.to_string_lossy().into_owned(),
                        ))
                    })
                    .collect(),
            })
        }
        LoginKind::Ssh => {
            let uri = LibvirtUri::parse(&h.uri).with_context(|| format!("host {}", h.uri))?;
            let (user_host, port) = match uri.authority.rsplit_once(':') {
                Some((uh, p)) if !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()) => {
                    (uh.to_owned(), Some(p.to_owned()))
                }
                _ => (uri.authority.clone(), None),
            };
            let mut args = vec!["-t".to_owned()];
            if let Some(p) = port {
                args.extend(["-p".to_owned(), p]);
            }
            if let Some((_, key)) = uri.query.iter().find(|(k, _)| k == "keyfile") {
                args.extend(["-i".to_owned(), key.clone()]);
            }
            // `--` keeps a host name that starts with `-` from being read as an option.
            args.extend(["--".to_owned(), user_host]);
            Ok(LoginCommand {
                program: "ssh".to_owned(),
                args,
                env: Vec::new(),
            })
        }
    }
}

/// The terminal's size in character cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TermSize {
    /// Rows (at least 1).
    pub rows: u16,
    /// Columns (at least 1).
    pub cols: u16,
}

impl TermSize {
    /// `rows` × `cols`, each at least 1 and at most 500.
    pub fn new(rows: u16, cols: u16) -> TermSize {
        TermSize {
            rows: rows.clamp(1, 500),
            cols: cols.clamp(1, 500),
        }
    }

    fn nonzero(self) -> (std::num::NonZeroU16, std::num::NonZeroU16) {
        let one = std::num::NonZeroU16::MIN;
        (
            std::num::NonZeroU16::new(self.rows).unwrap_or(one),
            std::num::NonZeroU16::new(self.cols).unwrap_or(one),
        )
    }

    fn winsize(self) -> Winsize {
        Winsize {
            ws_row: self.rows,
            ws_col: self.cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        }
    }
}

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermState {
    /// The child runs.
    Running,
    /// The child exited (its status; [`std::process::ExitStatus`] tells a signal apart).
    Exited(ExitStatus),
}

/// What the reader thread and the session share.
struct Shared {
    parser: Mutex<vt100::Parser>,
    child: Mutex<Child>,
    status: Mutex<Option<ExitStatus>>,
    stop: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding it leaves the data usable (bytes, a child handle).
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Reap the child if it exited; its status, once known.
    fn reap(&self) -> Option<ExitStatus> {
        let mut status = lock(&self.status);
        if status.is_none()
            && let Ok(Some(s)) = lock(&self.child).try_wait()
        {
            *status = Some(s);
        }
        *status
    }
}

/// A login command running on a pseudo-terminal, its output in a terminal emulator.
pub struct TerminalSession {
    shared: Arc<Shared>,
    /// The PTY's master side: resizing, and the foreground process group at the end.
    master: OwnedFd,
    /// Keys for the writer thread (`None` once dropped).
    input: Option<mpsc::Sender<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
    pid: u32,
    size: TermSize,
    command_line: String,
}

impl std::fmt::Debug for TerminalSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalSession")
            .field("pid", &self.pid)
            .field("command", &self.command_line)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl TerminalSession {
    /// Start `cmd` on a new pseudo-terminal of `size`. `waker` is called from the reader
    /// thread whenever there is something new to draw (output, or the child's exit).
    pub fn spawn(cmd: &LoginCommand, size: TermSize, waker: Waker) -> anyhow::Result<Self> {
        let command_line = cmd.shell_line();
        let (master, slave) = open_pty(size).context("cannot open a pseudo-terminal")?;
        let stdio = |fd: &OwnedFd| -> anyhow::Result<Stdio> {
            Ok(Stdio::from(
                fd.try_clone().context("cannot duplicate the terminal")?,
            ))
        };
        let mut command = Command::new("setsid");
        command
            .arg("--ctty")
            .arg("--")
            .arg(&cmd.program)
            .args(&cmd.args)
            .env("TERM", TERM)
            .env_remove("COLUMNS")
            .env_remove("LINES")
            .envs(cmd.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(stdio(&slave)?)
            .stdout(stdio(&slave)?)
            .stderr(stdio(&slave)?);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start `setsid --ctty -- {command_line}`"))?;
        // Only the child holds the terminal's slave side now: its exit hangs the master up.
        drop(command);
        drop(slave);
        let pid = child.id();
        let (rows, cols) = size.nonzero();
        let shared = Arc::new(Shared {
            parser: Mutex::new(vt100::Parser::new(rows, cols, SCROLLBACK)),
            child: Mutex::new(child),
            status: Mutex::new(None),
            stop: AtomicBool::new(false),
        });
        let mut session = TerminalSession {
            shared: Arc::clone(&shared),
            master,
            input: None,
            reader: None,
            pid,
            size,
            command_line,
        };
        // From here on, an error drops `session`, which kills and reaps the child.
        let read_end = File::from(
            session
                .master
                .try_clone()
                .context("cannot duplicate the terminal")?,
        );
        let write_end = File::from(
            session
                .master
                .try_clone()
                .context("cannot duplicate the terminal")?,
        );
        session.reader = Some(
            std::thread::Builder::new()
                .name("terminal-reader".into())
                .spawn(move || read_loop(read_end, &shared, &*waker))
                .context("cannot start the terminal's reader thread")?,
        );
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        std::thread::Builder::new()
            .name("terminal-writer".into())
            .spawn(move || write_loop(write_end, &rx))
            .context("cannot start the terminal's writer thread")?;
        session.input = Some(tx);
        Ok(session)
    }

    /// The child's process id (its process group and session too).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The command line it runs, as typed.
    pub fn command_line(&self) -> &str {
        &self.command_line
    }

    /// The current size.
    pub fn size(&self) -> TermSize {
        self.size
    }

    /// Running, or how the child exited.
    pub fn state(&self) -> TermState {
        match self.shared.reap() {
            Some(s) => TermState::Exited(s),
            None => TermState::Running,
        }
    }

    /// Send bytes to the child as typed (keys, pasted text). Never blocks; ignored once the
    /// child has exited.
    pub fn send(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(tx) = &self.input {
            // A closed channel means the writer saw the terminal close: nothing to type into.
            let _ = tx.send(bytes.to_vec());
        }
    }

    /// Resize the terminal (the emulator's grid and the PTY, which tells the child with
    /// SIGWINCH). Does nothing when the size is unchanged.
    pub fn resize(&mut self, size: TermSize) -> anyhow::Result<()> {
        let size = TermSize::new(size.rows, size.cols);
        if size == self.size {
            return Ok(());
        }
        {
            let (rows, cols) = size.nonzero();
            lock(&self.shared.parser).set_size(rows, cols);
        }
        self.size = size;
        rustix::termios::tcsetwinsize(&self.master, size.winsize())
            .context("cannot resize the terminal")
    }

    /// Look at the emulator's screen (the GUI draws it from here).
    pub fn with_screen<R>(&self, f: impl FnOnce(&vt100::Screen) -> R) -> R {
        f(lock(&self.shared.parser).screen())
    }

    /// Scroll the view `rows` back into the scrollback (0: the live screen).
    pub fn set_scrollback(&self, rows: usize) {
        lock(&self.shared.parser).screen_mut().set_scrollback(rows);
    }

    /// The screen's text, rows joined by newlines, trailing blanks trimmed.
    pub fn contents(&self) -> String {
        self.with_screen(vt100::Screen::contents)
    }

    /// Wait (at most `timeout`) until `ready` holds for the screen's text; whether it did.
    /// For tests and scripted checks: never called from a frame.
    pub fn wait_for(&self, timeout: Duration, mut ready: impl FnMut(&str) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if ready(&self.contents()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Wait (at most `timeout`) for the child to exit; its status if it did.
    pub fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.shared.reap() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Hang up, kill what ignores the hang-up, reap. Bounded by [`HANGUP_GRACE`] plus a kill.
    fn end(&mut self) {
        self.input = None;
        {
            let mut status = lock(&self.shared.status);
            let mut child = lock(&self.shared.child);
            if status.is_none() {
                if let Ok(Some(s)) = child.try_wait() {
                    *status = Some(s);
                } else {
                    // Still running (or not yet reaped: its pid is still ours to signal).
                    let groups = self.process_groups(&child);
                    signal_all(&groups, Signal::HUP);
                    let deadline = Instant::now() + HANGUP_GRACE;
                    while status.is_none() && Instant::now() < deadline {
                        if let Ok(Some(s)) = child.try_wait() {
                            *status = Some(s);
                        } else {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                    }
                    if status.is_none() {
                        signal_all(&groups, Signal::KILL);
                        let _ = child.kill();
                        *status = child.wait().ok();
                    } else {
                        // The leader went; what it left in its groups goes too.
                        signal_all(&groups, Signal::KILL);
                    }
                }
            }
        }
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }

    /// The child's own process group and the terminal's foreground one (a command the shell
    /// runs, with job control, has its own).
    fn process_groups(&self, child: &Child) -> Vec<Pid> {
        let mut groups = Vec::new();
        if let Ok(id) = i32::try_from(child.id())
            && let Some(pid) = Pid::from_raw(id)
        {
            groups.push(pid);
        }
        if let Ok(fg) = rustix::termios::tcgetpgrp(&self.master)
            && !groups.contains(&fg)
        {
            groups.push(fg);
        }
        groups
    }
}

impl Drop for TerminalSession {
    fn drop(&mut self) {
        self.end();
    }
}

fn signal_all(groups: &[Pid], sig: Signal) {
    for g in groups {
        // Gone already is fine.
        let _ = rustix::process::kill_process_group(*g, sig);
    }
}

/// A new pseudo-terminal of `size`: (master, slave).
fn open_pty(size: TermSize) -> anyhow::Result<(OwnedFd, OwnedFd)> {
    let master =
        rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
            .context("posix_openpt")?;
    rustix::pty::grantpt(&master).context("grantpt")?;
    rustix::pty::unlockpt(&master).context("unlockpt")?;
    let name = rustix::pty::ptsname(&master, Vec::new()).context("ptsname")?;
    // NOCTTY: this process must not adopt it as its own controlling terminal.
    let slave = rustix::fs::open(
        name.as_c_str(),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("cannot open {}", name.to_string_lossy()))?;
    rustix::termios::tcsetwinsize(&master, size.winsize()).context("cannot size the terminal")?;
    Ok((master, slave))
}

/// Feed the child's output into the emulator until the terminal closes (the child and whatever
/// it left holding the terminal are gone) or the session is dropped; then wait for the child's
/// exit status, so the GUI can say how it ended.
fn read_loop(mut master: File, shared: &Shared, waker: &(dyn Fn() + Send + Sync)) {
    let mut buf = vec![0u8; 16 * 1024];
    let tick = Timespec::try_from(READ_TICK).unwrap_or(Timespec {
        tv_sec: 0,
        tv_nsec: 50_000_000,
    });
    while !shared.stop.load(Ordering::Relaxed) {
        let mut fds = [PollFd::new(&master, PollFlags::IN)];
        match rustix::event::poll(&mut fds, Some(&tick)) {
            Ok(0) => {
                // Idle: a child that exited while something else holds the terminal open.
                let known = lock(&shared.status).is_some();
                if !known && shared.reap().is_some() {
                    waker();
                }
                continue;
            }
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => break,
        }
        match master.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                lock(&shared.parser).process(&buf[..n]);
                waker();
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // EIO: every slave side closed.
            Err(_) => break,
        }
    }
    // The exit status follows the hang-up closely (the child's files close before it is a
    // zombie); `end` reaps it when the session is dropped first.
    while !shared.stop.load(Ordering::Relaxed) && shared.reap().is_none() {
        std::thread::sleep(Duration::from_millis(5));
    }
    waker();
}

/// Write what the user types, in order, until the session drops the sender or the terminal
/// closes.
fn write_loop(mut master: File, rx: &mpsc::Receiver<Vec<u8>>) {
    while let Ok(bytes) = rx.recv() {
        if master.write_all(&bytes).is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::path::PathBuf;

    fn cfg() -> labbox::LabboxConfig {
        labbox::LabboxConfig {
            state_dir: PathBuf::from("/tmp/lab-state"),
            cache_dir: PathBuf::from("/tmp/lab-cache"),
        }
    }

    fn hosts(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn only_hosts_with_a_login_get_a_terminal() {
        let sock =
            "qemu:///system?socket=/tmp/lab-state/hosts/kvm-host-02/run/libvirt/libvirt-sock";
        let allowed = hosts(&[
            "test:///default",
            "qemu+ssh://root@kvm-host-01:2222/system?keyfile=/root/.ssh/lab",
            "qemu:///system",
            sock,
            "qemu+ssh://root@kvm-host-01:2222/system?keyfile=/root/.ssh/lab",
            "qemu+tcp://kvm-host-03/system",
        ]);
        let t = terminal_hosts_in(&cfg(), &allowed);
        let names: Vec<_> = t.iter().map(|h| (h.name.as_str(), h.kind)).collect();
        assert_eq!(
            names,
            [
                ("kvm-host-01", LoginKind::Ssh),
                ("kvm-host-02", LoginKind::Labbox("kvm-host-02")),
            ]
        );
    }

    #[test]
    fn ssh_logins_take_user_port_and_key_from_the_uri() {
        let uri = "qemu+ssh://root@kvm-host-01:2222/system?keyfile=/root/.ssh/lab";
        let allowed = hosts(&[uri, "qemu+ssh://kvm-host-02/system"]);
        let c = login_command(&cfg(), &allowed, uri).unwrap();
        assert_eq!(
            c.shell_line(),
            "ssh -t -p 2222 -i /root/.ssh/lab -- root@kvm-host-01"
        );
        let c = login_command(&cfg(), &allowed, "qemu+ssh://kvm-host-02/system").unwrap();
        assert_eq!(c.shell_line(), "ssh -t -- kvm-host-02");
    }

    #[test]
    fn a_host_the_instructor_did_not_allow_gets_no_login() {
        let allowed = hosts(&["qemu+ssh://kvm-host-01/system"]);
        let err = login_command(&cfg(), &allowed, "qemu+ssh://evil/system")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not one of the instructor's hosts"), "{err}");
        assert!(login_command(&cfg(), &allowed, "test:///default").is_err());
    }

    #[test]
    fn a_lab_host_whose_lab_is_down_says_so() {
        let sock =
            "qemu:///system?socket=/tmp/lab-state/hosts/kvm-host-01/run/libvirt/libvirt-sock";
        let err = format!(
            "{:#}",
            login_command(&cfg(), &hosts(&[sock]), sock).unwrap_err()
        );
        assert!(
            err.contains("cannot open a terminal on kvm-host-01"),
            "{err}"
        );
    }
}
