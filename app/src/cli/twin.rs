//! `migralab twin`: the simulated twin of a recorded real run (see [`crate::twin`]).

use crate::twin::{Twin, read_trace, write_new};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// `migralab twin --help`.
pub const TWIN_LONG_ABOUT: &str = "\
Build a scenario of the guest a real migration recorded: its simulated twin.

TRACE is a real run saved with `migralab migrate --real --out FILE` or `migralab watch --out \
FILE`. From libvirt's job statistics the twin takes the guest's RAM, what it had written (the \
normal pages of QEMU's first pass), how fast and how much it rewrites (the dirty rate at each \
sync, what each sync left pending), the link's rate (the first pass's memory bandwidth; under \
--bandwidth that is the cap, not the link), the setup time and the command's flags. The \
scenario's comments say which values were measured, from which sample, and which are assumed, \
and how the twin's replay compares with the real run.

Replay it with `migralab sim TWIN.toml`; change one value for the what-if.

Examples:
  migralab twin run.json -o db01-twin.toml
  migralab sim db01-twin.toml --set migration.bandwidth_mibps=50
      What the same guest would have done under --bandwidth 50.
  migralab twin run.json
      The twin on standard output.

Exit codes:
  0  the twin was written
  2  the trace cannot be read, is not a completed real migration, or holds values no guest has; \
or FILE exists already (a twin never replaces a file)";

/// Options of `migralab twin`.
#[derive(Debug, Args)]
pub struct TwinArgs {
    /// A real run saved by `migralab migrate --real --out` or `migralab watch --out`
    #[arg(value_name = "TRACE.json")]
    trace: PathBuf,
    /// Write the twin's scenario to FILE, which must not exist (default: standard output)
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    out: Option<PathBuf>,
}

/// A validated `migralab twin`: the twin is built, its file not yet written.
#[derive(Debug)]
pub struct TwinConfig {
    twin: Twin,
    out: Option<PathBuf>,
}

impl TwinConfig {
    /// Read the trace and build its twin.
    pub fn from_args(args: TwinArgs) -> anyhow::Result<TwinConfig> {
        if let Some(out) = &args.out {
            crate::storage::check_output("-o", out)?;
            crate::storage::check_distinct(&[("the trace", &args.trace)], &[("-o", out)])?;
        }
        let trace = read_trace(&args.trace)?;
        let twin = Twin::from_trace(&trace)
            .map_err(|e| e.context(format!("cannot build a twin of {}", args.trace.display())))?;
        Ok(TwinConfig {
            twin,
            out: args.out,
        })
    }
}

/// Write the twin and say how close its replay came.
pub fn run(config: TwinConfig) -> anyhow::Result<ExitCode> {
    let text = config.twin.to_toml()?;
    match &config.out {
        Some(path) => {
            write_new(path, &text)?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    let (bytes, time) = config.twin.errors();
    eprintln!(
        "the twin replays the real run within {:.1} % of its bytes and {:.1} % of its time",
        bytes * 100.0,
        time * 100.0
    );
    Ok(ExitCode::SUCCESS)
}
