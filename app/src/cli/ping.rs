//! `migralab ping`: the real-mode prober on its own. Run it beside a real `virsh migrate` (on lab
//! hosts, or inside a lab-client network namespace) to measure what the guest's users feel: how
//! many probes were lost, in which windows, and how long the gap between replies was.

use anyhow::Context as _;
use clap::Args;
use migralab_real::prober::{ProbeSummary, Prober, ProberConfig, SocketKind, ping_event};
use migralab_sim_core::term;
use migralab_sim_core::trace::{TRACE_FORMAT, Trace};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `migralab ping --help`.
pub const PING_LONG_ABOUT: &str = "\
Ping a VM every 10 ms and report the loss windows: run it while a real migration moves the VM.

This is Sesi 2's first experiment with a precise clock. Plain `ping` sends one probe a second, \
too coarse to see a downtime of 100 ms; migralab sends one every --interval ms, numbers each, and \
reports lost probes (no reply within --timeout), late ones (reply slower than --late), every loss \
window with the gap between the replies around it, and its own send-schedule drift.

It uses an unprivileged ICMP socket when net.ipv4.ping_group_range allows it, a raw socket \
otherwise (root or cap_net_raw). --netns runs it inside a network namespace (needs root), e.g. \
the lab client of a lab-in-a-box.

Examples:
  migralab ping 192.168.100.50 --duration 30
  migralab ping 10.77.0.10 --netns lab-client --duration 20 --out ping.json
  migralab ping 127.0.0.1 --duration 1 --json";

/// Options of `migralab ping`.
#[derive(Debug, Args)]
pub struct PingArgs {
    /// The IPv4 address to ping (the VM's)
    #[arg(value_name = "IPV4")]
    target: String,

    /// How long to ping, seconds
    #[arg(long, value_name = "S", default_value_t = 30.0)]
    duration: f64,

    /// Time between probes, ms
    #[arg(long, value_name = "MS", default_value_t = 10)]
    interval: u64,

    /// A reply slower than this is "late", ms
    #[arg(long, value_name = "MS", default_value_t = 100)]
    late: u64,

    /// A probe without a reply after this long is "lost", ms
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    timeout: u64,

    /// Ping from inside this network namespace (/run/netns/NAME)
    #[arg(long, value_name = "NAME")]
    netns: Option<String>,

    /// Print the summary and every probe as JSON
    #[arg(long)]
    json: bool,

    /// Also save the probes as a trace (JSON, the format of `migralab sim --json`'s events)
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// A validated `migralab ping`.
#[derive(Debug)]
pub struct PingConfig {
    target: Ipv4Addr,
    duration: Duration,
    interval: Duration,
    late: Duration,
    timeout: Duration,
    netns: Option<String>,
    json: bool,
    out: Option<PathBuf>,
}

impl PingConfig {
    /// Check the arguments.
    pub fn from_args(args: PingArgs) -> anyhow::Result<PingConfig> {
        let target: Ipv4Addr = args.target.parse().with_context(|| {
            format!(
                "`{}` is not an IPv4 address (e.g. 192.168.100.50)",
                args.target
            )
        })?;
        if !(args.duration > 0.0 && args.duration <= 24.0 * 3600.0) {
            anyhow::bail!("--duration must be between 0 and 86400 seconds");
        }
        if args.interval == 0 {
            anyhow::bail!("--interval must be at least 1 ms");
        }
        if let Some(out) = &args.out {
            crate::storage::check_output("--out", out)?;
        }
        Ok(PingConfig {
            target,
            duration: Duration::from_secs_f64(args.duration),
            interval: Duration::from_millis(args.interval),
            late: Duration::from_millis(args.late),
            timeout: Duration::from_millis(args.timeout),
            netns: args.netns,
            json: args.json,
            out: args.out,
        })
    }
}

/// Ping for the configured time, showing progress once a second, then report.
pub fn run(config: PingConfig) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let mut pc = ProberConfig::new(config.target, start);
    pc.interval = config.interval;
    pc.late = config.late;
    pc.timeout = config.timeout;
    pc.netns = config.netns.clone();
    let mut prober = Prober::start(pc).map_err(|e| anyhow::anyhow!("{e}"))?;
    let socket = match prober.socket_kind() {
        SocketKind::Datagram => "unprivileged ICMP socket",
        SocketKind::Raw => "raw socket",
    };
    eprintln!(
        "pinging {} every {} ms for {} s ({socket}{})",
        config.target,
        config.interval.as_millis(),
        config.duration.as_secs_f64(),
        config
            .netns
            .as_deref()
            .map(|n| format!(", in namespace {}", term::escape(n)))
            .unwrap_or_default()
    );
    let mut samples = Vec::new();
    let mut next_report = start + Duration::from_secs(1);
    while start.elapsed() < config.duration {
        std::thread::sleep(Duration::from_millis(50));
        samples.extend(prober.poll_samples());
        if Instant::now() >= next_report {
            next_report += Duration::from_secs(1);
            let s = prober.summary();
            eprintln!(
                "  {:>4.0} s  sent {:>6}  lost {:>5}  late {:>5}",
                start.elapsed().as_secs_f64(),
                s.sent,
                s.lost,
                s.late
            );
        }
    }
    let summary = prober.stop().map_err(|e| anyhow::anyhow!("{e}"))?;
    samples.extend(prober.poll_samples());
    let text = if config.json {
        let value = serde_json::json!({ "summary": summary, "samples": samples });
        let mut s = serde_json::to_string_pretty(&value).context("cannot serialise the result")?;
        s.push('\n');
        s
    } else {
        human(&summary)
    };
    super::write_stdout(text.as_bytes()).context("cannot write to standard output")?;
    if let Some(path) = &config.out {
        let trace = Trace {
            format: TRACE_FORMAT,
            backend: "real".into(),
            seed: 0,
            scenario: serde_json::Value::Null,
            events: samples.into_iter().map(ping_event).collect(),
        };
        let json = trace.to_json().context("cannot serialise the trace")?;
        crate::storage::write_atomically(path, json.as_bytes())?;
        eprintln!("wrote {}", super::shown_path(path));
    }
    Ok(ExitCode::SUCCESS)
}

/// The summary as a student reads it.
fn human(s: &ProbeSummary) -> String {
    let mut out = format!(
        "sent {}, answered {}, lost {}, late {}",
        s.sent, s.answered, s.lost, s.late
    );
    if let Some(max) = s.max_rtt_ms {
        out.push_str(&format!(", slowest reply {max:.1} ms"));
    }
    out.push('\n');
    if s.loss_windows.is_empty() {
        out.push_str("no loss window\n");
    }
    for w in &s.loss_windows {
        out.push_str(&format!(
            "loss window: probes {}–{} ({} lost) from {:.0} ms to {:.0} ms",
            w.first_seq, w.last_seq, w.lost, w.start_ms, w.end_ms
        ));
        match w.gap_ms {
            Some(g) => out.push_str(&format!(", {g:.0} ms between replies\n")),
            None => out.push_str(" (at the edge of the run)\n"),
        }
    }
    out.push_str(&format!(
        "send schedule drift: max {:.1} ms, p99 {:.1} ms\n",
        s.drift.max_ms, s.drift.p99_ms
    ));
    out
}
