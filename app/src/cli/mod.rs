//! The `migralab` command line: raw arguments are parsed once by clap into `Cli`, then validated
//! into a `RunConfig` (the scenario file read, the overrides applied, the scenario checked), and
//! `run` does the work. One module per command, each with its arguments, its validated
//! configuration and its `run`. Exit codes have fixed meanings: see [`EXIT_COMPLETED`] and
//! friends.

#[cfg(target_os = "linux")]
mod fidelity;
pub mod generate;
pub mod gui;
#[cfg(target_os = "linux")]
pub mod labbox;
pub mod lines;
pub mod migrate;
#[cfg(target_os = "linux")]
pub mod ping;
pub mod preflight;
pub mod progress;
pub mod quiz;
pub mod report;
pub mod shell;
pub mod sim;
pub mod twin;
pub mod watch;

use clap::{Parser, Subcommand};
use migralab_sim_core::lang::Lang;
use migralab_sim_core::term;
use std::ffi::OsString;
use std::io::{self, Write as _};
use std::process::ExitCode;

/// Every migration completed.
pub const EXIT_COMPLETED: u8 = 0;
/// A migration did not complete: failed, aborted or not converged.
pub const EXIT_NOT_COMPLETED: u8 = 1;
/// Bad input (unknown scenario, invalid file or `--set`) or any other error. clap uses it too.
pub const EXIT_ERROR: u8 = 2;

/// What `migralab --version` (and `-V`) prints after the name: the version, and whether this
/// build has real mode (libvirt) or is the simulator alone.
pub const VERSION: &str = if migralab_real::REAL_MODE_BUILT {
    concat!(env!("CARGO_PKG_VERSION"), " (real mode built in)")
} else {
    concat!(
        env!("CARGO_PKG_VERSION"),
        " (simulator only: built without real mode)"
    )
};

/// Simulate libvirt/QEMU live migration and see what `virsh`, `domjobinfo` and `ping` would show.
#[derive(Debug, Parser)]
#[command(
    name = "migralab",
    version = VERSION,
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
    #[cfg(target_os = "linux")]
    /// Ping a VM every 10 ms and report the loss windows (for real migrations).
    #[command(long_about = ping::PING_LONG_ABOUT)]
    Ping(ping::PingArgs),
    #[cfg(target_os = "linux")]
    /// Build, break and fix a lab of two real libvirt hosts on this machine (root).
    #[command(long_about = labbox::LABBOX_LONG_ABOUT)]
    Labbox(labbox::LabboxArgs),
    #[cfg(target_os = "linux")]
    /// Compare the simulator with real QEMU on the lab in a box, case by case (root).
    #[command(long_about = migralab_fidelity::LONG_ABOUT)]
    Fidelity(migralab_fidelity::FidelityArgs),
    /// Open the desktop app (what `migralab` alone does).
    #[command(long_about = gui::GUI_LONG_ABOUT)]
    Gui(gui::GuiArgs),
    /// Run a scenario in the simulator and summarise the migration.
    #[command(
        long_about = sim::SIM_LONG_ABOUT,
        after_help = "Run `migralab sim --help` for the shipped scenarios, examples and exit codes.",
        after_long_help = sim::sim_after_long_help()
    )]
    Sim(sim::SimArgs),
    /// Check every prerequisite of a migration, as `virsh migrate` would meet them.
    #[command(long_about = preflight::PREFLIGHT_LONG_ABOUT, after_long_help = preflight::EXIT_CODES_PREFLIGHT)]
    Preflight(preflight::PreflightArgs),
    /// Migrate a real VM between real hosts through libvirt and measure it (needs --real).
    #[command(long_about = migrate::MIGRATE_LONG_ABOUT)]
    Migrate(migrate::MigrateArgs),
    /// Wait for the next migration on a real host, whoever starts it, and record it (needs --real).
    #[command(long_about = watch::WATCH_LONG_ABOUT)]
    Watch(watch::WatchArgs),
    /// Take a self-assessment quiz in the terminal, or check a question bank.
    #[command(long_about = quiz::QUIZ_LONG_ABOUT, after_help = quiz::QUIZ_AFTER_HELP)]
    Quiz(quiz::QuizArgs),
    /// Open a root shell on the scenario's simulated hosts and type the lesson's commands.
    #[command(long_about = shell::SHELL_LONG_ABOUT, after_help = shell::SHELL_AFTER_HELP)]
    Shell(shell::ShellArgs),
    /// Export students' saved quiz results (JSON or CSV), or import other PCs' into the class.
    #[command(long_about = progress::PROGRESS_LONG_ABOUT, after_help = progress::PROGRESS_AFTER_HELP)]
    Progress(progress::ProgressArgs),
    /// Turn a saved run into a lab report (HTML), figures (PNG, SVG) and data (CSV, JSON).
    #[command(long_about = report::REPORT_LONG_ABOUT)]
    Report(report::ReportArgs),
    /// Build the simulated twin of a recorded real run: a scenario of that guest and command.
    #[command(long_about = twin::TWIN_LONG_ABOUT)]
    Twin(twin::TwinArgs),
    /// Write the man pages or a shell's completions (for packagers: scripts/package.sh).
    #[command(hide = true, long_about = generate::GENERATE_LONG_ABOUT)]
    Generate(generate::GenerateArgs),
}

/// A validated command line: every file read and every value checked; nothing is left to parse.
#[derive(Debug)]
enum RunConfig {
    Sim(sim::SimConfig),
    Preflight(preflight::PreflightConfig),
    Quiz(quiz::QuizConfig),
    Shell(shell::ShellConfig),
    Progress(progress::ProgressConfig),
    Report(report::ReportConfig),
    Twin(twin::TwinConfig),
    Generate(generate::GenerateConfig),
    Gui(gui::GuiConfig),
    #[cfg(target_os = "linux")]
    Ping(ping::PingConfig),
    #[cfg(target_os = "linux")]
    Labbox(labbox::LabboxConfig),
    #[cfg(target_os = "linux")]
    Fidelity(migralab_fidelity::FidelityConfig),
    Migrate(migrate::MigrateConfig),
    Watch(watch::WatchRun),
}

impl RunConfig {
    fn from_cli(cli: Cli) -> anyhow::Result<RunConfig> {
        match cli.command {
            Some(Command::Sim(args)) => Ok(RunConfig::Sim(sim::SimConfig::from_args(args)?)),
            Some(Command::Preflight(args)) => Ok(RunConfig::Preflight(
                preflight::PreflightConfig::from_args(args)?,
            )),
            #[cfg(target_os = "linux")]
            Some(Command::Fidelity(args)) => Ok(RunConfig::Fidelity(
                migralab_fidelity::FidelityConfig::from_args(args)?,
            )),
            Some(Command::Migrate(args)) => {
                Ok(RunConfig::Migrate(migrate::MigrateConfig::from_args(args)?))
            }
            Some(Command::Watch(args)) => Ok(RunConfig::Watch(watch::WatchRun::from_args(args)?)),
            Some(Command::Quiz(args)) => Ok(RunConfig::Quiz(quiz::QuizConfig::from_args(args)?)),
            Some(Command::Shell(args)) => {
                Ok(RunConfig::Shell(shell::ShellConfig::from_args(args)?))
            }
            Some(Command::Progress(args)) => Ok(RunConfig::Progress(
                progress::ProgressConfig::from_args(args)?,
            )),
            Some(Command::Report(args)) => {
                Ok(RunConfig::Report(report::ReportConfig::from_args(args)?))
            }
            Some(Command::Twin(args)) => Ok(RunConfig::Twin(twin::TwinConfig::from_args(args)?)),
            Some(Command::Generate(args)) => Ok(RunConfig::Generate(
                generate::GenerateConfig::from_args(args)?,
            )),
            #[cfg(target_os = "linux")]
            Some(Command::Ping(args)) => Ok(RunConfig::Ping(ping::PingConfig::from_args(args)?)),
            #[cfg(target_os = "linux")]
            Some(Command::Labbox(args)) => {
                Ok(RunConfig::Labbox(labbox::LabboxConfig::from_args(args)?))
            }
            Some(Command::Gui(args)) => Ok(RunConfig::Gui(gui::GuiConfig::from_args(args)?)),
            None => Ok(RunConfig::Gui(gui::GuiConfig::from_args(
                gui::GuiArgs::default(),
            )?)),
        }
    }
}

/// The command line's definition: every subcommand and option (the book's CLI reference is
/// checked against it).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
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
            eprintln!("error: {}", term::escape_text(&format!("{err:#}")));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Do what the configuration says.
fn run(config: RunConfig) -> anyhow::Result<ExitCode> {
    match config {
        RunConfig::Sim(s) => sim::run(s),
        RunConfig::Preflight(p) => preflight::run(p),
        RunConfig::Quiz(q) => quiz::run(q),
        RunConfig::Shell(sh) => shell::run(sh),
        RunConfig::Progress(p) => progress::run(p),
        RunConfig::Report(r) => report::run(r),
        RunConfig::Twin(t) => twin::run(t),
        RunConfig::Generate(g) => generate::run(g),
        RunConfig::Gui(g) => gui::run(g),
        #[cfg(target_os = "linux")]
        RunConfig::Ping(p) => ping::run(p),
        #[cfg(target_os = "linux")]
        RunConfig::Labbox(l) => labbox::run(l),
        #[cfg(target_os = "linux")]
        RunConfig::Fidelity(f) => fidelity::run(f),
        RunConfig::Migrate(m) => migrate::run(m),
        RunConfig::Watch(w) => watch::run(w),
    }
}

/// `--lang`: the language of what a command prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LangArg {
    /// Bahasa Indonesia (default).
    Id,
    /// English.
    En,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Lang {
        match l {
            LangArg::Id => Lang::Id,
            LangArg::En => Lang::En,
        }
    }
}

/// Write text meant for a person to stdout with [`term::escape_text`]: a control or bidi character
/// that came from a file is shown escaped, never acted on by the terminal (JSON and CSV go through
/// [`write_stdout`] as they are: serde and the CSV writer quote them).
pub(crate) fn write_text(text: &str) -> io::Result<()> {
    write_stdout(term::escape_text(text).as_bytes())
}

/// A writer that passes text on [`term::escape_text`]d: for output built piece by piece (the
/// terminal quiz prints an instructor's questions, which may hold any character).
pub(crate) struct Escaped<W>(pub W);

impl<W: io::Write> io::Write for Escaped<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // `write!` hands over whole `str` pieces; bytes that are not UTF-8 are passed as they are.
        match std::str::from_utf8(buf) {
            Ok(s) => self.0.write_all(term::escape_text(s).as_bytes())?,
            Err(_) => self.0.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// A path as messages show it: [`term::escape`]d.
pub(crate) fn shown_path(path: &std::path::Path) -> String {
    term::escape(&path.display().to_string()).into_owned()
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
        let RunConfig::Preflight(preflight::PreflightConfig::Simulated(p)) =
            config(&["preflight", "prereq-firewall", "--lang", "en"]).unwrap()
        else {
            panic!("expected a preflight");
        };
        assert_eq!(
            (p.migration.vm.as_str(), p.migration.to.as_str()),
            ("db01", "kvm-host-02")
        );
        assert_eq!(p.lang, Lang::En);
        let RunConfig::Preflight(preflight::PreflightConfig::Simulated(p)) = config(&[
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
}
