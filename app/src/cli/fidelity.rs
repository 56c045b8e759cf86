//! `migralab fidelity`: the options are parsed with the others (`migralab_fidelity` defines
//! them) and the harness runs; what it returns is printed here.

use anyhow::Context as _;
use std::process::ExitCode;

/// Run the harness and print its table or report.
pub(super) fn run(config: migralab_fidelity::FidelityConfig) -> anyhow::Result<ExitCode> {
    let outcome = migralab_fidelity::run(config)?;
    // `--json` prints JSON (serde quotes it; escaping would break it); the table and the
    // Markdown name cases and files, so they are escaped like every text for a person.
    let is_json = serde_json::from_str::<serde_json::Value>(&outcome.stdout).is_ok();
    if is_json {
        super::write_stdout(outcome.stdout.as_bytes())
    } else {
        super::write_text(&outcome.stdout)
    }
    .context("cannot write to standard output")?;
    Ok(ExitCode::from(u8::from(outcome.above_limit)))
}
