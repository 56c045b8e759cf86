//! Helpers the modules share: scratch directories, running the `migralab` binary, root.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Does this test run as root (namespaces, libvirtd, mounts)? Read from /proc, no libc call.
#[cfg_attr(not(feature = "real"), allow(dead_code))] // only the real-lab test needs root
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// A scratch directory unique to one test, empty at first, removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    /// `migralab-AREA-PID-TEST` in the temporary directory. Every test of the binary has the
    /// same process id: the area (the module) and the test's name keep them apart.
    pub fn new(area: &str, test: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("migralab-{area}-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// The directory.
    pub fn as_path(&self) -> &Path {
        &self.0
    }

    /// The directory, as an argument.
    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap()
    }

    /// `name` in the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// `name` in the directory, as an argument.
    pub fn arg(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// Write `text` to `name` in the directory; its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one run of the binary left behind.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Standard output as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

/// `migralab ARGS` started in `dir`, `stdin` written to its standard input (`None`: it has
/// none).
pub fn migralab_with(dir: &Path, args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_migralab"))
        .args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run migralab: {e}"));
    if let Some(input) = stdin {
        match child.stdin.take().unwrap().write_all(input.as_bytes()) {
            // A closed pipe is fine: a command may stop reading early.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.unwrap(),
        }
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().expect("killed by a signal"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// `migralab ARGS` started in `dir`, without standard input.
pub fn migralab_in(dir: &Path, args: &[&str]) -> Run {
    migralab_with(dir, args, None)
}

/// `migralab ARGS` started in the temporary directory (outside the workspace, so the shipped
/// files must be embedded), without standard input.
pub fn migralab(args: &[&str]) -> Run {
    migralab_in(&std::env::temp_dir(), args)
}

/// A new directory `migralab-AREA-PID-N` in the temporary directory, for an app that keeps
/// files there for as long as it lives (so it is not removed).
pub fn fresh_dir(area: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "migralab-{area}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A bank of one single-choice question on --live (option a is right, shuffle off).
pub const ONE_QUESTION: &str = r#"[[question]]
id = "s-live"
kind = "single"
objective = "flag-live"
shuffle = false
prompt.id = "Flag mana yang menjaga VM tetap berjalan selama migrasi?"
prompt.en = "Which flag keeps the VM running during the migration?"

[[question.option]]
correct = true
text = { id = "--live", en = "--live" }
why = { id = "Benar, VM tetap berjalan.", en = "Right, the VM keeps running." }

[[question.option]]
text = { id = "--persistent", en = "--persistent" }
why = { id = "Itu tentang definisi di tujuan.", en = "That is about the definition on the destination." }
"#;

/// Wait for every child and fail with its standard error if one did not succeed.
pub fn wait_all_succeed(children: Vec<std::process::Child>) {
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
