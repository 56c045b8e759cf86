//! The real binary under Xvfb: it opens its window, draws, saves a screenshot of the first frames
//! and closes cleanly. Needs `Xvfb` (the test command installs it) and a software renderer
//! (lavapipe from `mesa-vulkan-drivers`, or Mesa's GL llvmpipe).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An Xvfb server on a display of its own, stopped when dropped.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Xvfb {
        // `-displayfd 1`: Xvfb picks a free display itself and prints its number on stdout only
        // once it accepts connections. Picking a number ourselves and waiting for its socket
        // raced with stale sockets and lock files left by killed servers on shared CI machines
        // (the app then failed with "Failed to open connection to X server").
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is needed for this test: `apt-get install xvfb` (scripts/test.sh installs it)");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!("Xvfb did not report a display within 30 s");
            }
        };
        let n: u32 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("Xvfb did not start (it printed {line:?})"));
        Xvfb {
            child,
            display: format!(":{n}"),
        }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: Xvfb then removes its socket and lock file.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_app_opens_draws_a_frame_and_closes_cleanly() {
    let x = Xvfb::start();
    let dir = std::env::temp_dir().join(format!("migralab-smoke-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let shot = dir.join("first-frame.png");
    let mut child = Command::new(env!("CARGO_BIN_EXE_migralab"))
        .args(["gui", "--screenshot"])
        .arg(&shot)
        .env("DISPLAY", &x.display)
        .env_remove("WAYLAND_DISPLAY")
        .env("XDG_RUNTIME_DIR", &dir)
        .env("MIGRALAB_DATA_DIR", &dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("the app did not close within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = child.wait_with_output().unwrap();
    assert!(
        status.success(),
        "exit {status}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let img = image::open(&shot).expect("a PNG screenshot").to_rgba8();
    assert!(
        img.width() >= 800 && img.height() >= 500,
        "{}x{}",
        img.width(),
        img.height()
    );
    let first = *img.get_pixel(0, 0);
    let differing = img.pixels().filter(|p| **p != first).count();
    assert!(
        differing > (img.width() * img.height() / 50) as usize,
        "the screenshot is nearly blank ({differing} pixels differ)"
    );
    // The app saved its state on the way out (nothing is lost between runs).
    assert!(dir.join("gui.ron").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
