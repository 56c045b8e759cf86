//! The fidelity harness's tests, one binary: the comparison replayed from recorded runs (no
//! root, no libvirt) and, in real mode, the quick grid on the lab in a box.
//!
//! The harness runs in this process as `migralab fidelity` runs it: the same options parsed by
//! clap, the same [`FidelityConfig`], the same [`run`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(feature = "real")]
mod quick_run;
mod replay;

/// Without the `real` feature `quick_run` is compiled out, and a plain
/// `cargo test -p migralab_fidelity` would pass without it: this fails instead, so a green run
/// always means every test ran.
#[cfg(all(target_os = "linux", not(feature = "real")))] // real mode is Linux-only
#[test]
fn the_lab_in_a_box_run_was_left_out_of_this_build() {
    panic!(
        "this test binary was built without the `real` feature, so `quick_run` (the quick \
         fidelity run on the lab in a box) was left out. Run every test with \
         `bash scripts/test.sh`, or `cargo test --workspace --features migralab_app/real` \
         (this crate alone: `cargo test -p migralab_fidelity --features real`; needs \
         libvirt-dev and pkg-config, and root for the lab in a box)"
    );
}

use clap::Parser;
use migralab_fidelity::report::Report;
use migralab_fidelity::{FidelityArgs, FidelityConfig, run};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// What `migralab fidelity ARGS` would have printed, and whether it would have exited 0.
struct Ran {
    success: bool,
    /// The table or the JSON report.
    stdout: String,
    /// The error, worded as the command prints it (`{err:#}`); empty on success.
    stderr: String,
    /// The comparison, when the command made one.
    report: Option<Report>,
}

/// `migralab fidelity ARGS`, in this process. Bad options panic: every test passes valid ones.
fn fidelity(args: &[&str]) -> Ran {
    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        args: FidelityArgs,
    }
    let command = Command::try_parse_from(std::iter::once("fidelity").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("fidelity {args:?}: {e}"));
    match FidelityConfig::from_args(command.args).and_then(run) {
        Ok(outcome) => Ran {
            success: !outcome.above_limit,
            stdout: outcome.stdout,
            stderr: String::new(),
            report: outcome.report,
        },
        Err(e) => Ran {
            success: false,
            stdout: String::new(),
            stderr: format!("{e:#}"),
            report: None,
        },
    }
}

/// The machine. The lab in a box's run takes it alone: it measures real migrations, and the
/// simulations of the other tests (cargo runs the tests of one binary in parallel) would load
/// the cores it measures on. They share it among themselves.
static MACHINE: RwLock<()> = RwLock::new(());

/// Held by the test that runs the lab in a box.
#[cfg_attr(not(feature = "real"), allow(dead_code))]
fn machine_exclusive() -> RwLockWriteGuard<'static, ()> {
    // A test that panicked while holding it has released the machine all the same.
    MACHINE
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Held by every test that only simulates.
fn machine_shared() -> RwLockReadGuard<'static, ()> {
    MACHINE
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
