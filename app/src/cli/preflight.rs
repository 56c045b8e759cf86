//! `migralab preflight`: every prerequisite of one migration, checked in a scenario's simulated
//! lab or (`--real`) on real hosts through libvirt, as a table a student can read or as JSON.

use super::{EXIT_COMPLETED, EXIT_NOT_COMPLETED, LangArg, write_stdout, write_text};
use crate::export::preflight_text::PreflightText;
use crate::scenarios;
use anyhow::Context as _;
use clap::Args;
use migralab_sim_core::Scenario;
use migralab_sim_core::lang::Lang;
use migralab_sim_core::preflight::{PreflightReport, preflight};
use migralab_sim_core::scenario::MigrationSpec;
use std::path::PathBuf;
use std::process::ExitCode;

pub(super) const PREFLIGHT_LONG_ABOUT: &str = "\
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

pub(super) const EXIT_CODES_PREFLIGHT: &str = "\
Exit codes:
  0  every check passes or only warns
  1  a check fails: the migration would fail
  2  bad input (unknown scenario, VM or host) or another error";

/// Options of `migralab preflight`.
#[derive(Debug, Args)]
pub struct PreflightArgs {
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
    real: RealPreflightArgs,

    /// Language of the report
    #[arg(long, value_enum, default_value = "id")]
    lang: LangArg,
}

/// A validated `migralab preflight`: in a scenario's simulated lab, or on real hosts.
#[derive(Debug)]
pub enum PreflightConfig {
    /// The scenario's lab.
    Simulated(Box<SimulatedPreflight>),
    /// `--real`: real hosts through libvirt.
    Real(RealPreflight),
}

impl PreflightConfig {
    /// Check the arguments: with `--real` the hosts and the domain, else read the scenario.
    pub fn from_args(args: PreflightArgs) -> anyhow::Result<PreflightConfig> {
        if args.real.real {
            let missing = |what| anyhow::anyhow!("preflight --real needs {what}");
            return Ok(PreflightConfig::Real(RealPreflight {
                src: args.real.src.ok_or_else(|| missing("--src URI"))?,
                dst: args.real.dst.ok_or_else(|| missing("--dst URI"))?,
                vm: args.vm.ok_or_else(|| missing("--vm NAME"))?,
                json: args.json,
                lang: args.lang.into(),
                no_trial_start: args.real.no_trial_start,
            }));
        }
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
        Ok(PreflightConfig::Simulated(Box::new(SimulatedPreflight {
            scenario,
            migration,
            json: args.json,
            lang: args.lang.into(),
        })))
    }
}

/// A validated preflight in a scenario's lab.
#[derive(Debug)]
pub struct SimulatedPreflight {
    scenario: Scenario,
    pub(super) migration: MigrationSpec,
    json: bool,
    pub(super) lang: Lang,
}

/// The real-mode options of `migralab preflight`.
#[derive(Debug, Args)]
pub struct RealPreflightArgs {
    /// Check real hosts through libvirt instead of a scenario (needs --src, --dst and --vm)
    #[arg(long, requires_all = ["src", "dst", "vm"])]
    real: bool,
    /// With --real: the source host's libvirt URI
    #[arg(long, value_name = "URI", requires = "real")]
    src: Option<String>,
    /// With --real: the destination's libvirt URI
    #[arg(long, value_name = "URI", requires = "real")]
    dst: Option<String>,
    /// With --real: check the CPU with libvirt's comparison only, without starting a paused
    /// 32 MiB probe domain on the destination
    #[arg(long, requires = "real")]
    no_trial_start: bool,
}

/// A validated `migralab preflight --real`.
#[derive(Debug)]
// Read only by the libvirt checks, which a build without real mode does not have.
#[cfg_attr(not(feature = "real"), allow(dead_code))]
pub struct RealPreflight {
    src: String,
    dst: String,
    vm: String,
    json: bool,
    lang: Lang,
    no_trial_start: bool,
}

/// Run the checks and print them; exit 1 when a check fails.
pub fn run(config: PreflightConfig) -> anyhow::Result<ExitCode> {
    match config {
        PreflightConfig::Simulated(c) => {
            // An unknown VM or host is bad input (exit 2), worded as virsh would.
            let report =
                preflight(&c.scenario, &c.migration).map_err(|e| anyhow::anyhow!("{e}"))?;
            print(&report, c.json, c.lang)
        }
        PreflightConfig::Real(c) => print(&real_report(&c)?, c.json, c.lang),
    }
}

#[cfg(feature = "real")]
fn real_report(c: &RealPreflight) -> anyhow::Result<PreflightReport> {
    use migralab_real::libvirt::preflight::{PreflightOptions, real_preflight};
    // The source must answer; anything wrong with the destination is a failed check.
    let options = PreflightOptions {
        no_trial_start: c.no_trial_start,
        ..PreflightOptions::default()
    };
    let (report, _) =
        real_preflight(&c.src, &c.dst, &c.vm, &options).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(report)
}

#[cfg(not(feature = "real"))]
fn real_report(_: &RealPreflight) -> anyhow::Result<PreflightReport> {
    anyhow::bail!("{}", migralab_real::REAL_MODE_MISSING)
}

/// The report as a table (or JSON) on standard output.
fn print(report: &PreflightReport, json: bool, lang: Lang) -> anyhow::Result<ExitCode> {
    let text = if json {
        let mut s =
            serde_json::to_string_pretty(report).context("cannot serialise the report as JSON")?;
        s.push('\n');
        write_stdout(s.as_bytes())
    } else {
        write_text(&PreflightText { report, lang }.to_string())
    };
    text.context("cannot write to standard output")?;
    Ok(ExitCode::from(if report.first_failure().is_some() {
        EXIT_NOT_COMPLETED
    } else {
        EXIT_COMPLETED
    }))
}
