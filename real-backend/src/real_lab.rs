//! [`RealLab`]: the [`Lab`] trait answered by two real hosts. Commands start real migrations
//! (see [`crate::libvirt::job`]); `advance` waits on wall time while the job's driver thread and
//! the optional ICMP prober produce the same trace events the simulator writes.

use crate::libvirt::host::RealHost;
use crate::libvirt::job::MigrationJob;
use crate::libvirt::preflight::{PreflightOptions, real_preflight};
use crate::prober::{Prober, ProberConfig, ping_event};
use migralab_sim_core::LabError;
use migralab_sim_core::lab::{Lab, LabCommand};
use migralab_sim_core::preflight::PreflightReport;
use migralab_sim_core::scenario::MigrationSpec;
use migralab_sim_core::time::{SimDuration, SimTime};
use migralab_sim_core::trace::{TRACE_FORMAT, Trace, TraceEvent, TraceKind};
use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

/// Where the real lab is and how to watch it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealLabConfig {
    /// The source host's libvirt URI (e.g. `qemu:///system` typed on the source).
    pub src_uri: String,
    /// The destination's URI as this process reaches it (`qemu+ssh://kvm-host-02/system`).
    pub dst_uri: String,
    /// With `--p2p`, the destination URI the *source's* libvirtd uses, when it differs from
    /// `dst_uri` (a lab reached through local sockets). Default: `dst_uri`.
    pub p2p_dst_uri: Option<String>,
    /// Ping this address during migrations (the guest's).
    pub ping: Option<Ipv4Addr>,
    /// Ping from inside this network namespace.
    pub ping_netns: Option<String>,
    /// Keep pinging this long after a migration ends, so the recovery is in the trace.
    pub ping_tail: Duration,
    /// How preflight measures what libvirt cannot (the migration port).
    pub preflight: PreflightOptions,
}

impl RealLabConfig {
    /// Source and destination URIs, no prober.
    pub fn new(src_uri: &str, dst_uri: &str) -> RealLabConfig {
        RealLabConfig {
            src_uri: src_uri.to_string(),
            dst_uri: dst_uri.to_string(),
            p2p_dst_uri: None,
            ping: None,
            ping_netns: None,
            ping_tail: Duration::from_millis(1000),
            preflight: PreflightOptions::default(),
        }
    }
}

/// A finished real run as a trace (backend `real`, the hosts and the command as its scenario):
/// what `migralab migrate --real` saves and the app records, so reports treat it like a
/// simulated run.
pub fn real_trace(src: &str, dst: &str, spec: &MigrationSpec, events: Vec<TraceEvent>) -> Trace {
    Trace {
        format: TRACE_FORMAT,
        backend: "real".into(),
        seed: 0,
        scenario: serde_json::json!({
            "src": src,
            "dst": dst,
            "migration": spec,
        }),
        events,
    }
}

/// Two real hosts behind the [`Lab`] trait.
#[derive(Debug)]
pub struct RealLab {
    config: RealLabConfig,
    src: RealHost,
    dst: RealHost,
    t0: Instant,
    tx: Sender<TraceEvent>,
    rx: Receiver<TraceEvent>,
    queue: VecDeque<TraceEvent>,
    job: Option<MigrationJob>,
    prober: Option<Prober>,
    /// When the last migration ended (to stop the prober after the tail).
    ended: Option<Instant>,
}

impl RealLab {
    /// Connect to both hosts. Fails with libvirt's (ssh's) message when either cannot be reached.
    pub fn connect(config: RealLabConfig) -> Result<RealLab, LabError> {
        let src = RealHost::open(&config.src_uri)?;
        let dst = RealHost::open(&config.dst_uri)?;
        let (tx, rx) = mpsc::channel();
        Ok(RealLab {
            config,
            src,
            dst,
            t0: Instant::now(),
            tx,
            rx,
            queue: VecDeque::new(),
            job: None,
            prober: None,
            ended: None,
        })
    }

    /// Check every prerequisite of migrating `vm` between the two hosts, measured on them.
    pub fn preflight(&self, vm: &str) -> Result<PreflightReport, LabError> {
        real_preflight(
            &self.config.src_uri,
            &self.config.dst_uri,
            vm,
            &self.config.preflight,
        )
        .map(|(r, _)| r)
    }

    /// The source host's connection.
    pub fn source(&self) -> &RealHost {
        &self.src
    }

    /// The destination host's connection.
    pub fn destination(&self) -> &RealHost {
        &self.dst
    }

    /// Is `vm` running on the source (`Some(true)`), defined but stopped, or absent (`None`)?
    pub fn running_on_source(&self, vm: &str) -> Result<Option<bool>, LabError> {
        self.src.domain_state(vm)
    }

    /// Is `vm` running on the destination?
    pub fn running_on_destination(&self, vm: &str) -> Result<Option<bool>, LabError> {
        self.dst.domain_state(vm)
    }

    /// Abort the running migration, if any (also done on drop: real-mode actions are never
    /// left running behind the user's back).
    pub fn abort(&self) -> Result<(), LabError> {
        match &self.job {
            Some(job) if !job.is_finished() => job.abort(),
            _ => Ok(()),
        }
    }

    fn job_for(&self, vm: &str) -> Result<&MigrationJob, LabError> {
        self.job
            .as_ref()
            .filter(|j| j.vm() == vm && !j.is_finished())
            .ok_or_else(|| LabError::InvalidOperation("no job is active on the domain".into()))
    }

    fn pump(&mut self) {
        self.queue.extend(self.rx.try_iter());
        if let Some(p) = &mut self.prober {
            self.queue
                .extend(p.poll_samples().into_iter().map(ping_event));
        }
        if self.ended.is_none() && self.job.as_ref().is_some_and(MigrationJob::is_finished) {
            // The job's last event may have been sent after the first drain.
            self.queue.extend(self.rx.try_iter());
            self.ended = Some(Instant::now());
        }
        if let Some(end) = self.ended
            && end.elapsed() >= self.config.ping_tail
            && let Some(mut p) = self.prober.take()
        {
            let _ = p.stop();
            self.queue
                .extend(p.poll_samples().into_iter().map(ping_event));
        }
    }
}

impl Lab for RealLab {
    fn now(&self) -> SimTime {
        // Lab time is in nanoseconds, as the simulator's.
        SimTime(self.t0.elapsed().as_nanos() as u64)
    }

    fn submit(&mut self, cmd: LabCommand) -> Result<(), LabError> {
        match cmd {
            LabCommand::Migrate(spec) => {
                if self.job.as_ref().is_some_and(|j| !j.is_finished()) {
                    return Err(LabError::OperationFailed(
                        "another migration job is already running in this lab".into(),
                    ));
                }
                if let Some(ip) = self.config.ping
                    && self.prober.is_none()
                {
                    let mut pc = ProberConfig::new(ip, self.t0);
                    pc.netns = self.config.ping_netns.clone();
                    // The simulator names the pinged guest, not its address; plots look it up so.
                    pc.target_name = spec.vm.clone();
                    let prober = Prober::start(pc).map_err(|e| {
                        LabError::Internal(format!("cannot start the ping prober: {e}"))
                    })?;
                    self.prober = Some(prober);
                    // A short look at the guest before it moves: the plot's baseline.
                    std::thread::sleep(Duration::from_millis(300));
                }
                let job = MigrationJob::start(
                    &self.src,
                    &self.dst,
                    self.config.p2p_dst_uri.as_deref(),
                    &spec,
                    self.t0,
                    self.tx.clone(),
                )?;
                let _ = self.tx.send(TraceEvent {
                    t_ms: self.t0.elapsed().as_secs_f64() * 1000.0,
                    source: "lab".into(),
                    kind: TraceKind::Log {
                        message: spec.virsh_command(),
                    },
                });
                self.job = Some(job);
                self.ended = None;
                Ok(())
            }
            LabCommand::Abort { vm } => self.job_for(&vm)?.abort(),
            LabCommand::StartPostcopy { vm } => self.job_for(&vm)?.start_postcopy(),
            LabCommand::SetMaxDowntime { vm, ms } => self.job_for(&vm)?.set_max_downtime(ms),
            LabCommand::SetSpeed { vm, mibps } => self.job_for(&vm)?.set_speed(mibps),
            other => Err(LabError::Unsupported(format!(
                "the real lab cannot do {other:?} yet"
            ))),
        }
    }

    fn advance(&mut self, budget: SimDuration) {
        let until = Instant::now() + Duration::from_nanos(budget.0);
        loop {
            self.pump();
            let now = Instant::now();
            if now >= until || self.is_idle() {
                break;
            }
            if let Ok(e) = self
                .rx
                .recv_timeout((until - now).min(Duration::from_millis(20)))
            {
                self.queue.push_back(e);
            }
        }
    }

    fn poll_event(&mut self) -> Option<TraceEvent> {
        if self.queue.is_empty() {
            self.pump();
        }
        self.queue.pop_front()
    }

    fn is_idle(&self) -> bool {
        self.job.as_ref().is_none_or(MigrationJob::is_finished)
            && self.prober.is_none()
            && self.queue.is_empty()
    }
}

impl Drop for RealLab {
    fn drop(&mut self) {
        // Never leave a migration running when the app or CLI goes away.
        let _ = self.abort();
    }
}
