//! `migralab fidelity`: the options are parsed with the others (`migralab_fidelity` defines
//! them) and the harness runs; what it returns is printed here.

use anyhow::Context as _;
use std::process::ExitCode;

/// Run the harness and print its table or report.
pub(super) fn run(config: migralab_fidelity::FidelityConfig) -> anyhow::Result<ExitCode> {
    let outcome = migralab_fidelity::run(config)?;
    super::write_stdout(outcome.stdout.as_bytes()).context("cannot write to standard output")?;
    Ok(ExitCode::from(u8::from(outcome.above_limit)))
}
