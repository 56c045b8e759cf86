//! The app's integration tests, one binary (not one per file: each linked the whole GUI stack,
//! and on CI's two cores the links took longer than the tests). One module per area; the
//! helpers they share are in `common`.
//!
//! The tests of one binary run in parallel threads of one process: none of them may change the
//! process's environment or working directory (children get theirs through `Command`), and
//! each uses scratch directories of its own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod class_folder;
mod class_import;
mod cli;
mod file_fuzz;
mod gift;
mod gui;
mod gui_class;
mod gui_quiz;
#[cfg(feature = "real")]
mod gui_real;
mod gui_whatif;
#[cfg(unix)] // FIFOs, devices and modes
mod hostile_inputs;
mod i18n;
#[cfg(target_os = "linux")] // the lab in a box and the prober are Linux-only
mod labbox_cli;
mod moodle_xml;
mod packaging;
#[cfg(target_os = "linux")]
mod ping_cli;
mod progress;
mod quiz_cli;
#[cfg(feature = "real")]
mod real_lab;
#[cfg(all(feature = "real", target_os = "linux"))]
mod real_terminal;
mod report_cli;
mod shell_cli;
mod smoke;
mod student_data;
#[cfg(unix)] // file names with control characters
mod terminal_output;
mod twin_cli;

/// Without the `real` feature `gui_real` and `real_lab` are compiled out, and a plain
/// `cargo test -p migralab_app` would pass without them: this fails instead, so a green run
/// always means every test ran.
#[cfg(all(target_os = "linux", not(feature = "real")))]
#[test]
fn real_mode_tests_were_left_out_of_this_build() {
    panic!(
        "this test binary was built without the `real` feature, so the tests of real mode were \
         left out: `gui_real` (the app's real mode against libvirt's test driver) and `real_lab` \
         (the lab in a box). Run every test with `bash scripts/test.sh`, or \
         `cargo test --workspace --features migralab_app/real` (this crate alone: \
         `cargo test -p migralab_app --features real`; needs libvirt-dev and pkg-config, and \
         `real_lab` root)"
    );
}

#[cfg(target_os = "linux")]
use std::sync::{Mutex, MutexGuard};

/// Held by every test that brings up the lab in a box or times packets. The lab loads both
/// cores for minutes; a probe schedule measured beside it would measure that load, and cargo
/// runs the tests of one binary in parallel.
#[cfg(target_os = "linux")]
fn machine_exclusive() -> MutexGuard<'static, ()> {
    static MACHINE: Mutex<()> = Mutex::new(());
    // A test that panicked while holding it has released the machine all the same.
    MACHINE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
