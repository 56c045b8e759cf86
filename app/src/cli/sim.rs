//! `migralab sim`: run a scenario in the simulator and summarise the migration (or print the
//! whole trace as JSON, or the progress samples as CSV).

use super::{EXIT_COMPLETED, EXIT_NOT_COMPLETED, shown_path, write_stdout};
use crate::export::text::{self, HumanSummary, ProgressCsv};
use crate::scenarios;
use crate::storage::{check_distinct, check_output, write_atomically};
use anyhow::Context as _;
use clap::Args;
use migralab_sim_core::term;
use migralab_sim_core::{RunSummary, Scenario, Simulator};
use std::path::PathBuf;
use std::process::ExitCode;

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  every migration completed
  1  a migration did not complete (failed, aborted or not converged)
  2  bad input (unknown scenario, invalid file or --set value) or another error";

pub(super) const SIM_LONG_ABOUT: &str = "\
Run a scenario in the simulator and summarise the migration.

A scenario is a TOML file that describes a small lab: the hypervisor hosts, the network link \
between them, the storage (shared or local), the VMs with their RAM, disks and how busily they \
write memory, the `virsh migrate` commands to run, and a client that pings one VM throughout. The \
simulator follows QEMU's pre-copy algorithm page by page in simulated time, so a two-minute \
migration takes well under a second. The same scenario and seed always give the same result.";

pub(super) fn sim_after_long_help() -> String {
    let width = scenarios::SHIPPED
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(0);
    let list: String = scenarios::SHIPPED
        .iter()
        .map(|s| format!("  {:<width$}  {}\n", s.name, s.about))
        .collect();
    format!(
        "\
Shipped scenarios (name one instead of a file; `lesson` is the default):
{list}
Examples:
  migralab sim
      Run the lesson's migration and print a summary.
  migralab sim busy-db-no-converge --set migration.auto_converge=true
      The busy database that never converges, now with --auto-converge.
  migralab sim exp1-no-shared-storage --json --out run.json
      Save the whole run (every event, plus the summary) as JSON.

{EXIT_CODES_HELP}"
    )
}

/// Options of `migralab sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// A scenario file (TOML), or the name of a shipped scenario [default: lesson]
    ///
    /// An existing file wins; otherwise a bare name such as `busy-db-postcopy` picks the shipped
    /// scenario of that name (the list is below).
    #[arg(value_name = "SCENARIO")]
    scenario: Option<PathBuf>,

    /// Seed for every random choice (same as `--set seed=N`)
    #[arg(long, value_name = "N")]
    seed: Option<u64>,

    /// Change one scenario value, e.g. `link.bandwidth_mibps=1000` (may repeat)
    ///
    /// KEY is a dotted path into the scenario file. In a list (`vm`, `host`, `migration`) pick an
    /// entry by index or name (`vm.db01.ram_mib=8192`), or leave it out when there is only one
    /// (`migration.auto_converge=true`). VALUE is read as TOML (`1000`, `true`, `"text"`); anything
    /// else is taken as a string.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,

    /// Print the whole trace as JSON, with `outcome`, `ping` and `vms` summary keys
    #[arg(long, conflicts_with = "csv")]
    json: bool,

    /// Print the progress samples (`virsh domjobinfo` every 100 ms) as CSV
    #[arg(long)]
    csv: bool,

    /// Write the output to FILE instead of standard output
    ///
    /// The file is replaced in one step (written beside it, then renamed), so it is never left
    /// half-written.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// What `migralab sim` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Human,
    Json,
    Csv,
}

/// A validated run: the scenario is read, overridden and checked; nothing is left to parse.
#[derive(Debug)]
pub struct SimConfig {
    pub(super) scenario: Scenario,
    format: Format,
    out: Option<PathBuf>,
}

impl SimConfig {
    /// Read the scenario, apply the overrides and pick the output.
    pub fn from_args(args: SimArgs) -> anyhow::Result<SimConfig> {
        let mut overrides = args.overrides;
        // Last, so that it wins over a `--set seed=...`.
        overrides.extend(args.seed.map(|s| format!("seed={s}")));
        if let Some(out) = &args.out {
            check_output("--out", out)?;
            if let Some(scenario) = &args.scenario {
                check_distinct(&[("the scenario", scenario)], &[("--out", out)])?;
            }
        }
        let scenario = scenarios::load(args.scenario.as_deref(), &overrides)?;
        let format = match (args.json, args.csv) {
            (true, _) => Format::Json,
            (_, true) => Format::Csv,
            _ => Format::Human,
        };
        Ok(SimConfig {
            scenario,
            format,
            out: args.out,
        })
    }
}

/// Run the scenario and print (or write) the result; exit 1 when a migration did not complete.
pub fn run(config: SimConfig) -> anyhow::Result<ExitCode> {
    let trace = Simulator::run(config.scenario.clone());
    let summary = RunSummary::of(&trace);
    let text = match config.format {
        // Escaped whether it goes to a terminal or a file: a file of it is read with `cat`.
        Format::Human => term::escape_text(
            &HumanSummary::of_scenario(&config.scenario, &trace, &summary).to_string(),
        )
        .into_owned(),
        Format::Json => {
            text::json(&trace, &summary).context("cannot serialise the trace as JSON")?
        }
        Format::Csv => ProgressCsv(&trace).to_string(),
    };
    match &config.out {
        Some(path) => {
            write_atomically(path, text.as_bytes())?;
            eprintln!("wrote {}", shown_path(path));
        }
        None => write_stdout(text.as_bytes()).context("cannot write to standard output")?,
    }
    // A scenario that migrates nothing has nothing that failed.
    let code = if summary.outcome.status == "completed"
        || summary.outcome.status == migralab_sim_core::summary::NO_MIGRATION
    {
        EXIT_COMPLETED
    } else {
        EXIT_NOT_COMPLETED
    };
    Ok(ExitCode::from(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_shipped_scenario() {
        let help = sim_after_long_help();
        for s in scenarios::SHIPPED {
            assert!(
                help.contains(s.name) && help.contains(s.about),
                "{}",
                s.name
            );
        }
    }
}
