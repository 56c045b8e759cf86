//! The real binary under Xvfb: it opens its window, draws, saves a screenshot of the first frames
//! and closes cleanly. Needs `Xvfb` (the test command installs it) and a software renderer
//! (lavapipe from `mesa-vulkan-drivers`, or Mesa's GL llvmpipe).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An Xvfb server on a display of its own, killed when dropped.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Xvfb {
        // A display number unlikely to be taken by another test run on the machine.
        let n = 100 + std::process::id() % 400;
        let display = format!(":{n}");
        let child = Command::new("Xvfb")
            .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is needed for this test: `apt-get install xvfb` (scripts/test.sh installs it)");
        let socket = format!("/tmp/.X11-unix/X{n}");
        let start = Instant::now();
        while !std::path::Path::new(&socket).exists() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "Xvfb did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Xvfb { child, display }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
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
