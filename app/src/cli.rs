//! The `migralab` command line: raw arguments are parsed once by clap into `Cli`, then validated
//! into a `RunConfig` (the scenario file read, the overrides applied, the scenario checked), and
//! `run` does the work. Exit codes have fixed meanings: see [`EXIT_COMPLETED`] and friends.

mod fidelity;

use crate::fsutil::write_atomically;
use crate::preflight::{LangArg, PreflightText};
use crate::report::{self, HumanSummary, ProgressCsv};
use crate::scenarios;
use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use migralab_sim_core::lang::Lang;
use migralab_sim_core::preflight::preflight;
use migralab_sim_core::scenario::MigrationSpec;
use migralab_sim_core::{RunSummary, Scenario, Simulator};
use std::ffi::OsString;
use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

/// Every migration completed.
pub const EXIT_COMPLETED: u8 = 0;
/// A migration did not complete: failed, aborted or not converged.
pub const EXIT_NOT_COMPLETED: u8 = 1;
/// Bad input (unknown scenario, invalid file or `--set`) or any other error. clap uses it too.
pub const EXIT_ERROR: u8 = 2;

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  every migration completed
  1  a migration did not complete (failed, aborted or not converged)
  2  bad input (unknown scenario, invalid file or --set value) or another error";

/// Simulate libvirt/QEMU live migration and see what `virsh`, `domjobinfo` and `ping` would show.
#[derive(Debug, Parser)]
#[command(
    name = "migralab",
    version,
    about,
    long_about = "Simulate libvirt/QEMU live migration and see what `virsh migrate`, `virsh domjobinfo` \
                  and a running `ping` would show.\n\n\
                  Without a subcommand, migralab opens the desktop app (the simulated lab: no \
                  libvirt needed). Every subcommand below works headless, in a terminal or a script.",
    after_help = "Run `migralab sim --help` for scenarios, examples and exit codes.",
    max_term_width = 100
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Ping a VM every 10 ms and report the loss windows (for real migrations).
    #[command(long_about = crate::ping::PING_LONG_ABOUT)]
    Ping(crate::ping::PingArgs),
    /// Build, break and fix a lab of two real libvirt hosts on this machine (root).
    #[command(long_about = crate::labbox::LABBOX_LONG_ABOUT)]
    Labbox(crate::labbox::LabboxArgs),
    /// Compare the simulator with real QEMU on the lab in a box, case by case (root).
    #[command(long_about = migralab_fidelity::LONG_ABOUT)]
    Fidelity(migralab_fidelity::FidelityArgs),
    /// Open the desktop app (what `migralab` alone does).
    #[command(long_about = crate::gui::GUI_LONG_ABOUT)]
    Gui(crate::gui::GuiArgs),
    /// Run a scenario in the simulator and summarise the migration.
    #[command(
        long_about = SIM_LONG_ABOUT,
        after_help = "Run `migralab sim --help` for the shipped scenarios, examples and exit codes.",
        after_long_help = sim_after_long_help()
    )]
    Sim(SimArgs),
    /// Check every prerequisite of a migration, as `virsh migrate` would meet them.
    #[command(long_about = PREFLIGHT_LONG_ABOUT, after_long_help = EXIT_CODES_PREFLIGHT)]
    Preflight(PreflightArgs),
    /// Migrate a real VM between real hosts through libvirt and measure it (needs --real).
    #[command(long_about = crate::real::MIGRATE_LONG_ABOUT)]
    Migrate(crate::real::MigrateArgs),
    /// Take a self-assessment quiz in the terminal, or check a question bank.
    #[command(long_about = crate::quiz::QUIZ_LONG_ABOUT, after_help = crate::quiz::QUIZ_AFTER_HELP)]
    Quiz(crate::quiz::QuizArgs),
    /// Open a root shell on the scenario's simulated hosts and type the lesson's commands.
    #[command(long_about = crate::shell::SHELL_LONG_ABOUT, after_help = crate::shell::SHELL_AFTER_HELP)]
    Shell(crate::shell::ShellArgs),
    /// Export students' saved quiz results (JSON or CSV) for the instructor.
    #[command(long_about = crate::progress::PROGRESS_LONG_ABOUT)]
    Progress(crate::progress::ProgressArgs),
    /// Turn a saved run into a lab report (HTML), figures (PNG, SVG) and data (CSV, JSON).
    #[command(long_about = crate::export::REPORT_LONG_ABOUT)]
    Report(crate::export::ReportArgs),
}

const PREFLIGHT_LONG_ABOUT: &str = "\
Check every prerequisite of a migration, as `virsh migrate` would meet them.

The lesson's five prerequisites (shared storage, the same bridge and network, SSH trust, a \
compatible CPU, a compatible QEMU/libvirt) and the ones it forgets (migration ports 49152-49215, \
name resolution, two different hosts, the domain running, free memory on the destination) are \
checked in the scenario's lab. Each line says what was found; a failing check says how to fix it \
and the exact error libvirt would print. The migration checked is the scenario's first one unless \
--vm/--to say otherwise.

Examples:
  migralab preflight prereq-firewall
  migralab preflight lesson --vm db01 --to kvm-host-02 --lang en
  migralab preflight exp2-cpu-models --vm app01 --json

With --real the same checks are measured on real hosts through libvirt (a build with the `real` \
feature): host UUIDs and versions from `virsh capabilities`, the guest CPU against the \
destination's QEMU (virConnectCompareHypervisorCPU), its machine type, bridges, disks in the \
destination's storage pools, free memory, and the connection itself (ssh). What libvirt cannot \
tell (ports, name resolution, subnets) is shown as ???? with the reason.
  migralab preflight --real --src qemu:///system --dst qemu+ssh://kvm-host-02/system --vm db01";

const EXIT_CODES_PREFLIGHT: &str = "\
Exit codes:
  0  every check passes or only warns
  1  a check fails: the migration would fail
  2  bad input (unknown scenario, VM or host) or another error";

#[derive(Debug, Args)]
struct PreflightArgs {
    /// A scenario file (TOML), or the name of a shipped scenario [default: lesson]
    #[arg(value_name = "SCENARIO")]
    scenario: Option<PathBuf>,

    /// The domain to migrate [default: the scenario's first migration]
    #[arg(long, value_name = "NAME")]
    vm: Option<String>,

    /// The destination host [default: the scenario's first migration]
    #[arg(long, value_name = "HOST")]
    to: Option<String>,

    /// Change one scenario value (as for `migralab sim`; may repeat)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,

    /// Print the report as JSON
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    real: crate::real::RealPreflightArgs,

    /// Language of the report
    #[arg(long, value_enum, default_value = "id")]
    lang: LangArg,
}

const SIM_LONG_ABOUT: &str = "\
Run a scenario in the simulator and summarise the migration.

A scenario is a TOML file that describes a small lab: the hypervisor hosts, the network link \
between them, the storage (shared or local), the VMs with their RAM, disks and how busily they \
write memory, the `virsh migrate` commands to run, and a client that pings one VM throughout. The \
simulator follows QEMU's pre-copy algorithm page by page in simulated time, so a two-minute \
migration takes well under a second. The same scenario and seed always give the same result.";

fn sim_after_long_help() -> String {
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

#[derive(Debug, Args)]
struct SimArgs {
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
enum RunConfig {
    Sim(SimConfig),
    Preflight(PreflightConfig),
    Quiz(crate::quiz::QuizConfig),
    Shell(crate::shell::ShellConfig),
    Progress(crate::progress::ProgressConfig),
    Report(crate::export::ReportConfig),
    Gui(crate::gui::GuiConfig),
    Ping(crate::ping::PingConfig),
    Labbox(crate::labbox::LabboxConfig),
    Fidelity(migralab_fidelity::FidelityConfig),
    RealPreflight(crate::real::PreflightConfig),
    Migrate(crate::real::MigrateConfig),
}

#[derive(Debug)]
struct PreflightConfig {
    scenario: Scenario,
    migration: MigrationSpec,
    json: bool,
    lang: Lang,
}

impl PreflightConfig {
    fn from_args(args: PreflightArgs) -> anyhow::Result<PreflightConfig> {
        let scenario = scenarios::load(args.scenario.as_deref(), &args.overrides)?;
        let first = scenario.migrations.first();
        let vm = args
            .vm
            .or_else(|| first.map(|m| m.vm.clone()))
            .context("the scenario has no migration: name one with --vm and --to")?;
        // Keep the flags of the scenario's migration of that VM, if it has one.
        let mut migration = scenario
            .migrations
            .iter()
            .find(|m| m.vm == vm)
            .or(first)
            .cloned()
            .context("the scenario has no migration: name one with --vm and --to")?;
        migration.vm = vm;
        if let Some(to) = args.to {
            migration.to = to;
        }
        Ok(PreflightConfig {
            scenario,
            migration,
            json: args.json,
            lang: args.lang.into(),
        })
    }
}

#[derive(Debug)]
struct SimConfig {
    scenario: Scenario,
    format: Format,
    out: Option<PathBuf>,
}

impl RunConfig {
    fn from_cli(cli: Cli) -> anyhow::Result<RunConfig> {
        match cli.command {
            Some(Command::Sim(args)) => Ok(RunConfig::Sim(SimConfig::from_args(args)?)),
            Some(Command::Preflight(args)) if args.real.real => Ok(RunConfig::RealPreflight(
                crate::real::PreflightConfig::new(args.real, args.vm, args.json, args.lang)?,
            )),
            Some(Command::Preflight(args)) => {
                Ok(RunConfig::Preflight(PreflightConfig::from_args(args)?))
            }
            Some(Command::Fidelity(args)) => Ok(RunConfig::Fidelity(
                migralab_fidelity::FidelityConfig::from_args(args)?,
            )),
            Some(Command::Migrate(args)) => Ok(RunConfig::Migrate(
                crate::real::MigrateConfig::from_args(args)?,
            )),
            Some(Command::Quiz(args)) => {
                Ok(RunConfig::Quiz(crate::quiz::QuizConfig::from_args(args)?))
            }
            Some(Command::Shell(args)) => Ok(RunConfig::Shell(
                crate::shell::ShellConfig::from_args(args)?,
            )),
            Some(Command::Progress(args)) => Ok(RunConfig::Progress(
                crate::progress::ProgressConfig::from_args(args)?,
            )),
            Some(Command::Report(args)) => Ok(RunConfig::Report(
                crate::export::ReportConfig::from_args(args)?,
            )),
            Some(Command::Ping(args)) => {
                Ok(RunConfig::Ping(crate::ping::PingConfig::from_args(args)?))
            }
            Some(Command::Labbox(args)) => Ok(RunConfig::Labbox(
                crate::labbox::LabboxConfig::from_args(args)?,
            )),
            Some(Command::Gui(args)) => Ok(RunConfig::Gui(crate::gui::GuiConfig::from_args(args)?)),
            None => Ok(RunConfig::Gui(crate::gui::GuiConfig::from_args(
                crate::gui::GuiArgs::default(),
            )?)),
        }
    }
}

impl SimConfig {
    fn from_args(args: SimArgs) -> anyhow::Result<SimConfig> {
        let mut overrides = args.overrides;
        // Last, so that it wins over a `--set seed=...`.
        overrides.extend(args.seed.map(|s| format!("seed={s}")));
        let scenario = scenarios::load(args.scenario.as_deref(), &overrides)?;
        let format = match (args.json, args.csv) {
            (true, _) => Format::Json,
            (_, true) => Format::Csv,
            _ => Format::Human,
        };
        if let Some(out) = &args.out
            && out.is_dir()
        {
            anyhow::bail!("--out {}: is a directory; name a file in it", out.display());
        }
        Ok(SimConfig {
            scenario,
            format,
            out: args.out,
        })
    }
}

/// Parse `args` (program name first), run, and return the exit code. Errors are printed here.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            // `--help` and `--version` arrive here too: clap knows their exit code (0) and stream.
            let code = err.exit_code();
            if let Err(e) = err.print()
                && e.kind() != io::ErrorKind::BrokenPipe
            {
                return ExitCode::from(EXIT_ERROR);
            }
            return ExitCode::from(u8::try_from(code).unwrap_or(EXIT_ERROR));
        }
    };
    match RunConfig::from_cli(cli).and_then(run) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Do what the configuration says.
fn run(config: RunConfig) -> anyhow::Result<ExitCode> {
    match config {
        RunConfig::Sim(sim) => run_sim(sim),
        RunConfig::Preflight(p) => run_preflight(p),
        RunConfig::Quiz(q) => crate::quiz::run(q),
        RunConfig::Shell(sh) => crate::shell::run(sh),
        RunConfig::Progress(p) => crate::progress::run(p),
        RunConfig::Report(r) => crate::export::run(r),
        RunConfig::Gui(g) => crate::gui::run(g),
        RunConfig::Ping(p) => crate::ping::run(p),
        RunConfig::Labbox(l) => crate::labbox::run(l),
        RunConfig::Fidelity(f) => fidelity::run(f),
        RunConfig::RealPreflight(p) => crate::real::run_preflight(p),
        RunConfig::Migrate(m) => crate::real::run_migrate(m),
    }
}

fn run_preflight(config: PreflightConfig) -> anyhow::Result<ExitCode> {
    // An unknown VM or host is bad input (exit 2), worded as virsh would.
    let report =
        preflight(&config.scenario, &config.migration).map_err(|e| anyhow::anyhow!("{e}"))?;
    let text = if config.json {
        let mut s =
            serde_json::to_string_pretty(&report).context("cannot serialise the report as JSON")?;
        s.push('\n');
        s
    } else {
        PreflightText {
            report: &report,
            lang: config.lang,
        }
        .to_string()
    };
    write_stdout(text.as_bytes()).context("cannot write to standard output")?;
    Ok(ExitCode::from(if report.first_failure().is_some() {
        EXIT_NOT_COMPLETED
    } else {
        EXIT_COMPLETED
    }))
}

fn run_sim(config: SimConfig) -> anyhow::Result<ExitCode> {
    let trace = Simulator::run(config.scenario.clone());
    let summary = RunSummary::of(&trace);
    let text = match config.format {
        Format::Human => HumanSummary::of_scenario(&config.scenario, &trace, &summary).to_string(),
        Format::Json => {
            report::json(&trace, &summary).context("cannot serialise the trace as JSON")?
        }
        Format::Csv => ProgressCsv(&trace).to_string(),
    };
    match &config.out {
        Some(path) => {
            write_atomically(path, text.as_bytes())?;
            eprintln!("wrote {}", path.display());
        }
        None => write_stdout(text.as_bytes()).context("cannot write to standard output")?,
    }
    let code = if summary.outcome.status == "completed" {
        EXIT_COMPLETED
    } else {
        EXIT_NOT_COMPLETED
    };
    Ok(ExitCode::from(code))
}

/// Write to stdout; a closed pipe (`migralab sim --csv | head`) is not an error.
pub(crate) fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use clap::CommandFactory as _;

    fn config(args: &[&str]) -> anyhow::Result<RunConfig> {
        let cli = Cli::try_parse_from(std::iter::once("migralab").chain(args.iter().copied()))?;
        RunConfig::from_cli(cli)
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_subcommand_opens_the_desktop_app() {
        assert!(matches!(config(&[]).unwrap(), RunConfig::Gui(_)));
    }

    #[test]
    fn seed_flag_wins_over_set_seed() {
        let RunConfig::Sim(c) = config(&[
            "sim",
            "exp1-shared-storage",
            "--set",
            "seed=3",
            "--seed",
            "7",
        ])
        .unwrap() else {
            panic!("expected a sim run");
        };
        assert_eq!(c.scenario.name, "exp1-shared-storage");
        assert_eq!(c.scenario.seed, 7);
    }

    #[test]
    fn preflight_defaults_to_the_scenarios_first_migration() {
        let RunConfig::Preflight(p) =
            config(&["preflight", "prereq-firewall", "--lang", "en"]).unwrap()
        else {
            panic!("expected a preflight");
        };
        assert_eq!(
            (p.migration.vm.as_str(), p.migration.to.as_str()),
            ("db01", "kvm-host-02")
        );
        assert_eq!(p.lang, Lang::En);
        let RunConfig::Preflight(p) = config(&[
            "preflight",
            "exp2-cpu-models",
            "--vm",
            "app01",
            "--to",
            "kvm-host-02",
        ])
        .unwrap() else {
            panic!("expected a preflight");
        };
        assert_eq!(p.migration.vm, "app01");
    }

    #[test]
    fn json_and_csv_conflict() {
        let err = Cli::try_parse_from(["migralab", "sim", "--json", "--csv"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
        assert_eq!(err.exit_code(), i32::from(EXIT_ERROR));
    }

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
