//! # migralab app
//!
//! The `migralab` command line (and, later, the desktop app) on top of `migralab_sim_core`.
//!
//! Invariants:
//! - **No simulation logic here.** The app reads files, picks what to run and renders results;
//!   every number comes from sim-core's trace and summary.
//! - **Errors are handled once.** Library code returns `anyhow::Result` with context;
//!   [`cli::main_with_args`] prints `error: {err:#}` and maps it to exit code 2.
//! - **Shipped scenarios are embedded**, so the binary works from any directory.

#![warn(missing_docs)]

pub mod cli;
pub mod export;
use migralab_real::fsutil;
pub mod gui;
pub mod i18n;
pub mod instructor;
pub mod lab_session;
pub mod labbox;
pub mod ping;
pub mod preflight;
pub mod progress;
pub mod quiz;
pub mod real;
pub mod real_session;
pub mod report;
pub mod scenarios;
pub mod series;
pub mod shell;
