//! # migralab app
//!
//! The `migralab` command line and the desktop app on top of `migralab_sim_core`, in layers:
//! [`cli`] (one module per command) and [`gui`] (the panels) on top of the models both use:
//! [`sessions`] (the simulated and the real lab, their runs), [`progress`] (students' profiles),
//! [`settings`] (the instructor's), [`quiz`] (question banks), [`export`] (reports, figures,
//! data), [`scenarios`] (the shipped ones) and [`storage`] (the data directory, atomic writes).
//! The models depend on neither `cli` nor `gui`.
//!
//! Invariants:
//! - **No simulation logic here.** The app reads files, picks what to run and renders results;
//!   every number comes from sim-core's trace and summary.
//! - **Errors are handled once.** Library code returns `anyhow::Result` with context;
//!   [`cli::main_with_args`] prints `error: {err:#}` and maps it to exit code 2.
//! - **Shipped scenarios are embedded**, so the binary works from any directory.

#![warn(missing_docs)]

// Real mode drives libvirt's daemons in namespaces and pings with raw ICMP: Linux only. The
// default (simulated) build is what students' Windows and macOS machines get.
#[cfg(all(feature = "real", not(target_os = "linux")))]
compile_error!("real mode (the `real` feature) is Linux-only; build without it on this system");

pub mod class;
pub mod cli;
pub mod export;
pub mod gui;
pub mod i18n;
pub mod lms;
pub mod progress;
pub mod quiz;
pub mod scenarios;
pub mod sessions;
pub mod settings;
pub mod storage;
pub mod twin;
