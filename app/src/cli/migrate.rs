//! `migralab migrate --real`: a real migration through libvirt (cargo feature `real`; a build
//! without it says how to get it). Output follows `migralab sim`: the same human summary, the
//! same JSON (trace + summary), the same exit codes.

use clap::Args;
use migralab_sim_core::scenario::{MigrationSpec, TimeoutAction};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;

/// `migralab migrate --help`.
pub const MIGRATE_LONG_ABOUT: &str = "\
Migrate a real VM between two real hosts through libvirt, measuring what happens.

This is `virsh migrate` with a lab notebook: the options are virsh's, the migration is libvirt's \
(virDomainMigrate3, or virDomainMigrateToURI3 with --p2p), and while it runs migralab reads the \
job statistics every 100 ms (what `virsh domjobinfo` shows) and, with --ping, sends the guest an \
ICMP echo every 10 ms. The result is the same trace and summary `migralab sim` writes, so the \
real run can be plotted, reported (`migralab report`) and compared with the simulator.

Ctrl-C aborts the migration (virDomainAbortJob, as `virsh domjobabort`): the guest keeps running \
on the source. Connections to ssh URIs get no_tty=1, so a missing key fails at once instead of \
asking for a password. Every libvirt call has a deadline.

Run `migralab preflight --real` first: it checks every prerequisite on the real hosts.

Examples (typed on the source host, as in the lesson):
  migralab migrate --real --src qemu:///system --dst qemu+ssh://kvm-host-02/system db01 --live --persistent
  migralab migrate --real --src qemu:///system --dst qemu+ssh://kvm-host-02/system db01 --live \\
      --bandwidth 10 --ping 10.77.0.10 --out run.json
From this machine into a lab in a box (URIs from `migralab labbox status`):
  migralab migrate --real --src 'qemu:///system?socket=...' --dst 'qemu:///system?socket=...' db01 \\
      --live --ping 10.77.0.10 --ping-netns lab-client --json

Exit codes:
  0  the migration completed
  1  it did not (libvirt refused or failed it, or it was aborted); libvirt's message is printed
  2  bad input, or real mode is not built in";

/// Options of `migralab migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Use real hosts through libvirt (required: simulated migrations are `migralab sim` and
    /// `migralab shell`)
    #[arg(long)]
    real: bool,

    /// The source host's libvirt URI (e.g. qemu:///system on the source itself)
    #[arg(long, value_name = "URI")]
    src: String,

    /// The destination's libvirt URI (e.g. qemu+ssh://kvm-host-02/system)
    #[arg(long, value_name = "URI")]
    dst: String,

    /// The domain to migrate
    #[arg(value_name = "DOMAIN")]
    vm: String,

    /// Keep the guest running while its memory is copied (virsh --live)
    #[arg(long)]
    live: bool,
    /// Define the domain on the destination too (it stays defined on the source)
    #[arg(long)]
    persistent: bool,
    /// Remove the domain's definition from the source after success
    #[arg(long)]
    undefinesource: bool,
    /// Copy the disks to the destination too (no shared storage needed)
    #[arg(long)]
    copy_storage_all: bool,
    /// The source's libvirtd drives the migration (it connects to --dst itself)
    #[arg(long)]
    p2p: bool,
    /// Send the data through the libvirtd connection (needs --p2p)
    #[arg(long, alias = "tunneled")]
    tunnelled: bool,
    /// Throttle the guest's vCPUs when it dirties memory faster than it is sent
    #[arg(long)]
    auto_converge: bool,
    /// Allow switching to post-copy
    #[arg(long)]
    postcopy: bool,
    /// Switch to post-copy after the first pre-copy pass (needs --postcopy)
    #[arg(long, requires = "postcopy")]
    postcopy_after_precopy: bool,
    /// Skip libvirt's safety checks
    #[arg(long = "unsafe")]
    unsafe_: bool,
    /// Migration bandwidth limit, MiB/s
    #[arg(long, value_name = "MIBPS")]
    bandwidth: Option<u64>,
    /// Bandwidth limit after switching to post-copy, MiB/s
    #[arg(long, value_name = "MIBPS")]
    postcopy_bandwidth: Option<u64>,
    /// Suspend the guest (or with --timeout-postcopy switch to post-copy) after S seconds
    #[arg(long, value_name = "S", value_parser = clap::value_parser!(u64).range(1..))]
    timeout: Option<u64>,
    /// With --timeout: switch to post-copy instead of suspending
    #[arg(long, requires = "timeout")]
    timeout_postcopy: bool,
    /// The downtime limit, ms (as `virsh migrate-setmaxdowntime` before the migration)
    #[arg(long, value_name = "MS", default_value_t = 300)]
    downtime: u64,
    /// Auto-converge's first throttle, percent
    #[arg(long, value_name = "PCT", value_parser = clap::value_parser!(u8).range(0..=100))]
    auto_converge_initial: Option<u8>,
    /// Auto-converge's throttle step, percent
    #[arg(long, value_name = "PCT", value_parser = clap::value_parser!(u8).range(0..=100))]
    auto_converge_increment: Option<u8>,

    /// Ping this address (the guest's) every 10 ms during the migration
    #[arg(long, value_name = "IPV4")]
    ping: Option<Ipv4Addr>,
    /// Ping from inside this network namespace (needs root)
    #[arg(long, value_name = "NAME", requires = "ping")]
    ping_netns: Option<String>,

    /// Print the trace and summary as JSON (as `migralab sim --json`)
    #[arg(long)]
    json: bool,
    /// Also write the trace and summary as JSON to FILE (for `migralab report`)
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// A validated `migralab migrate --real`.
#[derive(Debug)]
pub struct MigrateConfig {
    /// Source URI.
    pub src: String,
    /// Destination URI.
    pub dst: String,
    /// The command.
    pub spec: MigrationSpec,
    /// Prober target.
    pub ping: Option<Ipv4Addr>,
    /// Prober namespace.
    pub ping_netns: Option<String>,
    /// JSON on stdout.
    pub json: bool,
    /// JSON to a file.
    pub out: Option<PathBuf>,
}

impl MigrateConfig {
    /// Check the arguments; `--real` is required.
    pub fn from_args(a: MigrateArgs) -> anyhow::Result<MigrateConfig> {
        if !a.real {
            anyhow::bail!(
                "`migralab migrate` moves real VMs and needs --real. To migrate in the simulator, \
                 use `migralab sim` (a scenario) or `migralab shell` (type `virsh migrate`)."
            );
        }
        if a.tunnelled && !a.p2p {
            anyhow::bail!("--tunnelled needs --p2p (libvirt tunnels only peer-to-peer migrations)");
        }
        let to = migralab_real::uri::LibvirtUri::parse(&a.dst)
            .map_err(|e| anyhow::anyhow!("--dst: {e}"))?
            .host()
            .unwrap_or("destination")
            .to_string();
        migralab_real::uri::LibvirtUri::parse(&a.src).map_err(|e| anyhow::anyhow!("--src: {e}"))?;
        let mut spec = MigrationSpec::new(&a.vm, &to);
        spec.live = a.live;
        spec.persistent = a.persistent;
        spec.undefinesource = a.undefinesource;
        spec.copy_storage_all = a.copy_storage_all;
        spec.p2p = a.p2p;
        spec.tunnelled = a.tunnelled;
        spec.auto_converge = a.auto_converge;
        spec.postcopy = a.postcopy;
        spec.postcopy_after_precopy = a.postcopy_after_precopy;
        spec.unsafe_ = a.unsafe_;
        spec.bandwidth_mibps = a.bandwidth;
        spec.postcopy_bandwidth_mibps = a.postcopy_bandwidth;
        spec.timeout_s = a.timeout;
        spec.timeout_action = if a.timeout_postcopy {
            TimeoutAction::Postcopy
        } else {
            TimeoutAction::Suspend
        };
        spec.downtime_limit_ms = a.downtime;
        spec.auto_converge_initial = a.auto_converge_initial;
        spec.auto_converge_increment = a.auto_converge_increment;
        if let Some(out) = &a.out {
            // Before the migration, not after it: its record would be lost.
            crate::storage::check_output("--out", out)?;
        }
        Ok(MigrateConfig {
            src: a.src,
            dst: a.dst,
            spec,
            ping: a.ping,
            ping_netns: a.ping_netns,
            json: a.json,
            out: a.out,
        })
    }
}

#[cfg(not(feature = "real"))]
mod run_impl {
    use super::*;

    pub fn migrate(_: MigrateConfig) -> anyhow::Result<ExitCode> {
        anyhow::bail!("{}", migralab_real::REAL_MODE_MISSING)
    }
}

#[cfg(feature = "real")]
pub(crate) mod run_impl {
    use super::*;
    use crate::cli::{EXIT_COMPLETED, EXIT_NOT_COMPLETED, write_stdout};
    use crate::export::text::{self, HumanSummary};
    use crate::storage::write_atomically;
    use anyhow::Context as _;
    use migralab_real::real_lab::{RealLab, RealLabConfig, real_trace};
    use migralab_sim_core::lab::{Lab, LabCommand};
    use migralab_sim_core::time::SimDuration;
    use migralab_sim_core::trace::{Outcome, TraceEvent, TraceKind};
    use migralab_sim_core::{LabError, RunSummary};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn failed(error: LabError) -> TraceEvent {
        TraceEvent {
            t_ms: 0.0,
            source: String::new(),
            kind: TraceKind::Finished(Outcome::Failed { error, at_ms: 0 }),
        }
    }

    pub fn migrate(c: MigrateConfig) -> anyhow::Result<ExitCode> {
        let interrupted = Arc::new(AtomicBool::new(false));
        // Ctrl-C aborts the libvirt job instead of killing us with the migration running.
        signal_hook::flag::register(signal_hook::consts::SIGINT, interrupted.clone())
            .context("cannot catch Ctrl-C")?;
        signal_hook::flag::register(signal_hook::consts::SIGTERM, interrupted.clone())
            .context("cannot catch SIGTERM")?;
        let mut config = RealLabConfig::new(&c.src, &c.dst);
        config.ping = c.ping;
        config.ping_netns = c.ping_netns.clone();
        let mut events = Vec::new();
        let started = RealLab::connect(config).and_then(|mut lab| {
            lab.submit(LabCommand::Migrate(c.spec.clone()))?;
            Ok(lab)
        });
        match started {
            Err(e) => {
                let mut ev = failed(e);
                ev.source = c.spec.vm.clone();
                events.push(ev);
            }
            Ok(mut lab) => {
                eprintln!("$ {}   (Ctrl-C aborts)", c.spec.virsh_command());
                let mut aborted = false;
                loop {
                    for e in std::iter::from_fn(|| lab.poll_event()) {
                        progress_line(&e);
                        events.push(e);
                    }
                    if lab.is_idle() {
                        break;
                    }
                    if interrupted.load(Ordering::Relaxed) && !aborted {
                        aborted = true;
                        eprintln!("aborting the migration (virDomainAbortJob)...");
                        if let Err(e) = lab.abort() {
                            let e = e.to_string();
                            eprintln!("error: {}", migralab_sim_core::term::escape_text(&e));
                        }
                    }
                    lab.advance(SimDuration::from_millis(100));
                }
            }
        }
        let trace = real_trace(&c.src, &c.dst, &c.spec, events);
        report(
            &trace,
            &format!("Real migration: {} -> {}", c.src, c.dst),
            std::slice::from_ref(&c.spec),
            c.json,
            c.out.as_deref(),
        )
    }

    /// A finished real run, as `migralab sim` reports one: the JSON to `out`, the JSON or the
    /// human summary (under `heading`, with the commands `migrations`) on stdout, and the exit
    /// code of its outcome. `migralab watch` reports its runs the same way.
    pub(crate) fn report(
        trace: &migralab_sim_core::Trace,
        heading: &str,
        migrations: &[migralab_sim_core::scenario::MigrationSpec],
        json_out: bool,
        out: Option<&std::path::Path>,
    ) -> anyhow::Result<ExitCode> {
        let summary = RunSummary::of(trace);
        let json = text::json(trace, &summary).context("cannot serialise the trace as JSON")?;
        if let Some(path) = out {
            write_atomically(path, json.as_bytes())?;
            eprintln!("wrote {}", crate::cli::shown_path(path));
        }
        if json_out {
            write_stdout(json.as_bytes())
        } else {
            crate::cli::write_text(
                &HumanSummary {
                    heading: heading.to_string(),
                    migrations: migrations.to_vec(),
                    shared_storage: !migrations.iter().any(|m| m.copy_storage_all),
                    ping_interval_ms: 10.0,
                    trace,
                    summary: &summary,
                }
                .to_string(),
            )
        }
        .context("cannot write to standard output")?;
        Ok(ExitCode::from(if summary.outcome.status == "completed" {
            EXIT_COMPLETED
        } else {
            EXIT_NOT_COMPLETED
        }))
    }

    /// What a person watching the terminal wants to see while it runs: phases and passes.
    pub(crate) fn progress_line(e: &TraceEvent) {
        let secs = e.t_ms / 1000.0;
        match &e.kind {
            TraceKind::Phase { phase } => eprintln!("  {secs:7.2} s  {phase:?}"),
            TraceKind::Sync(s) => eprintln!(
                "  {secs:7.2} s  pass {}: {:.1} MiB left{}",
                s.iteration,
                s.remaining_bytes as f64 / 1_048_576.0,
                if s.throttle_pct > 0 {
                    format!(", vCPUs throttled {} %", s.throttle_pct)
                } else {
                    String::new()
                }
            ),
            _ => {}
        }
    }
}

/// Run `migralab migrate --real`.
pub fn run(c: MigrateConfig) -> anyhow::Result<ExitCode> {
    run_impl::migrate(c)
}
