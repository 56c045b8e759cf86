//! `migralab watch --real`: wait for the next migration of a domain that someone else starts (a
//! terminal's `virsh migrate`, virt-manager) and record it as `migralab migrate --real` records
//! its own: the same trace, summary, JSON and exit codes.

use clap::Args;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// `migralab watch --help`.
pub const WATCH_LONG_ABOUT: &str = "\
Wait for the next live migration on a real host and record it, whoever started it.

Start it from a terminal (`virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent`), \
from virt-manager or from another tool: migralab reads the source's job statistics every 100 ms, \
as `virsh domjobinfo` does, notices the first outgoing migration job (of --vm, or of any running \
domain), records its progress and, with --ping, pings the guest every 10 ms. When the job ends \
it reads how from libvirt's completed statistics (`virsh domjobinfo --completed`) and prints the \
same summary and JSON as `migralab sim` and `migralab migrate`. Watching never acts on the job: \
Ctrl-C stops watching, and the migration goes on.

Examples (URIs of a lab in a box from `migralab labbox status`):
  migralab watch --real --src qemu:///system --dst qemu+ssh://kvm-host-02/system --vm db01
  migralab watch --real --src 'qemu:///system?socket=...' --dst 'qemu:///system?socket=...' \\
      --vm db01 --ping 10.77.0.10 --ping-netns lab-client --json --out run.json

Exit codes:
  0  the watched migration completed
  1  it did not (failed with libvirt's message, or was cancelled), or watching stopped first
  2  bad input, a host that cannot be reached, no migration within --wait, or real mode is not
     built in";

/// Options of `migralab watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Watch real hosts through libvirt (required)
    #[arg(long)]
    real: bool,
    /// The source host's libvirt URI: where the migration job runs
    #[arg(long, value_name = "URI")]
    src: String,
    /// The destination's URI (reads the completed statistics there)
    #[arg(long, value_name = "URI")]
    dst: Option<String>,
    /// Only this domain (default: any running domain of the source)
    #[arg(long, value_name = "NAME")]
    vm: Option<String>,
    /// Ping this address (the guest's) every 10 ms while the migration runs
    #[arg(long, value_name = "IPV4")]
    ping: Option<Ipv4Addr>,
    /// Ping from inside this network namespace (needs root)
    #[arg(long, value_name = "NAME", requires = "ping")]
    ping_netns: Option<String>,
    /// Give up when no migration starts within this many seconds (default: wait until Ctrl-C)
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    wait: Option<u64>,
    /// Print the trace and summary as JSON (as `migralab sim --json`)
    #[arg(long)]
    json: bool,
    /// Also write the trace and summary as JSON to FILE (for `migralab report`)
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// A validated `migralab watch --real`.
#[derive(Debug)]
#[cfg_attr(
    not(all(feature = "real", target_os = "linux")),
    allow(dead_code, reason = "read only where real mode is built in")
)]
pub struct WatchRun {
    src: String,
    dst: Option<String>,
    vm: Option<String>,
    ping: Option<Ipv4Addr>,
    ping_netns: Option<String>,
    wait: Option<Duration>,
    json: bool,
    out: Option<PathBuf>,
}

impl WatchRun {
    /// Check the arguments; `--real` is required.
    pub fn from_args(a: WatchArgs) -> anyhow::Result<WatchRun> {
        if !a.real {
            anyhow::bail!(
                "`migralab watch` watches real hosts and needs --real (a simulated lab is watched in `migralab shell` or the app)."
            );
        }
        for (what, uri) in [("--src", Some(&a.src)), ("--dst", a.dst.as_ref())] {
            if let Some(uri) = uri {
                migralab_real::uri::LibvirtUri::parse(uri)
                    .map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
            }
        }
        if let Some(out) = &a.out {
            // Before watching, not after: the record would be lost.
            crate::storage::check_output("--out", out)?;
        }
        Ok(WatchRun {
            src: a.src,
            dst: a.dst,
            vm: a.vm,
            ping: a.ping,
            ping_netns: a.ping_netns,
            wait: a.wait.map(Duration::from_secs),
            json: a.json,
            out: a.out,
        })
    }
}

#[cfg(not(all(feature = "real", target_os = "linux")))]
mod run_impl {
    use super::*;

    pub fn watch(_: WatchRun) -> anyhow::Result<ExitCode> {
        anyhow::bail!("{}", migralab_real::REAL_MODE_MISSING)
    }
}

#[cfg(all(feature = "real", target_os = "linux"))]
mod run_impl {
    use super::*;
    use crate::cli::migrate::run_impl::{progress_line, report};
    use anyhow::Context as _;
    use migralab_real::watch::{WatchConfig, Watcher};
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    pub fn watch(c: WatchRun) -> anyhow::Result<ExitCode> {
        let stop = Arc::new(AtomicBool::new(false));
        // Ctrl-C stops watching; the migration is not ours and goes on.
        signal_hook::flag::register(signal_hook::consts::SIGINT, stop.clone())
            .context("cannot catch Ctrl-C")?;
        signal_hook::flag::register(signal_hook::consts::SIGTERM, stop.clone())
            .context("cannot catch SIGTERM")?;
        let mut config = WatchConfig::new(&c.src);
        config.dst_uri = c.dst.clone();
        config.domains = c.vm.iter().cloned().collect();
        config.ping = c.ping;
        config.ping_netns = c.ping_netns.clone();
        config.wait = c.wait;
        let watcher = Watcher::connect(config).map_err(|e| anyhow::anyhow!("{e}"))?;
        let who = c.vm.as_deref().unwrap_or("any running domain");
        eprintln!(
            "waiting for a migration of {} on {}   (Ctrl-C stops watching)",
            crate::cli::term::escape(who),
            crate::cli::term::escape(&c.src)
        );
        let Some(dom) = watcher
            .next_job(&stop)
            .map_err(|e| anyhow::anyhow!("{e}"))?
        else {
            anyhow::bail!("no migration started on {} while watching", c.src);
        };
        let watched = watcher
            .record(dom, &stop, progress_line)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let vm = watched.vm.clone();
        let trace = watcher.trace(watched);
        let dst = c.dst.as_deref().unwrap_or("its destination");
        // The command is not known: the summary names the domain and the hosts.
        report(
            &trace,
            &format!("Watched migration of {vm}: {} -> {dst}", c.src),
            &[],
            c.json,
            c.out.as_deref(),
        )
    }
}

/// Run `migralab watch --real`.
pub fn run(c: WatchRun) -> anyhow::Result<ExitCode> {
    run_impl::watch(c)
}
