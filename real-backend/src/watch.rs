//! Watching a host for a migration that someone else started: a terminal's `virsh migrate`,
//! virt-manager, another migralab. The watcher reads, every 100 ms as `virsh domjobinfo` would,
//! the job statistics of the source's running domains (or the one named); the first job whose
//! operation is an outgoing migration (`VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT`) is recorded to
//! its end with the same observer as a migration migralab starts, pinged by the prober, and
//! ended with libvirt's completed statistics (`virsh domjobinfo --completed`): completed, failed
//! with libvirt's message, or cancelled.

use crate::libvirt::host::RealHost;
use crate::libvirt::job::POLL;
use crate::libvirt::observe::JobObserver;
use crate::libvirt::{call, ffi, lab_error, stats};
use crate::prober::{Prober, ProberConfig, ping_event};
use migralab_sim_core::LabError;
use migralab_sim_core::scenario::MigrationSpec;
use migralab_sim_core::trace::{Outcome, Phase, TRACE_FORMAT, Trace, TraceEvent, TraceKind};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use virt::domain::Domain;
use virt::sys;

/// What to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchConfig {
    /// The source host's URI: where the migration job runs.
    pub src_uri: String,
    /// The destination's URI, to read the completed statistics there and name the target host.
    pub dst_uri: Option<String>,
    /// Only these domains (empty: any running domain of the source).
    pub domains: Vec<String>,
    /// Ping this address (the guest's) while the migration runs.
    pub ping: Option<Ipv4Addr>,
    /// Ping from inside this network namespace.
    pub ping_netns: Option<String>,
    /// Keep pinging this long after the end, so the recovery is in the trace.
    pub ping_tail: Duration,
    /// Give up when no migration has started within this (default: wait until stopped).
    pub wait: Option<Duration>,
}

impl WatchConfig {
    /// Watch every domain of `src_uri`, no prober, wait until stopped.
    pub fn new(src_uri: &str) -> WatchConfig {
        WatchConfig {
            src_uri: src_uri.to_string(),
            dst_uri: None,
            domains: Vec::new(),
            ping: None,
            ping_netns: None,
            ping_tail: Duration::from_millis(1000),
            wait: None,
        }
    }
}

/// A connected watcher.
#[derive(Debug)]
pub struct Watcher {
    config: WatchConfig,
    src: RealHost,
    dst: Option<RealHost>,
}

/// A migration the watcher saw, from its first statistics to its outcome.
#[derive(Debug)]
pub struct Watched {
    /// The domain.
    pub vm: String,
    /// Every event, in order, the last one its [`TraceKind::Finished`].
    pub events: Vec<TraceEvent>,
}

impl Watcher {
    /// Connect to the source (and the destination, when given).
    pub fn connect(config: WatchConfig) -> Result<Watcher, LabError> {
        let src = RealHost::open(&config.src_uri)?;
        let dst = match &config.dst_uri {
            Some(uri) => Some(RealHost::open(uri)?),
            None => None,
        };
        Ok(Watcher { config, src, dst })
    }

    /// Wait for the next outgoing migration job; `None` when the wait ran out or `stop` was set.
    pub fn next_job(&self, stop: &AtomicBool) -> Result<Option<Domain>, LabError> {
        let started = Instant::now();
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            if let Some(dom) = self.find_job()? {
                return Ok(Some(dom));
            }
            if self.config.wait.is_some_and(|w| started.elapsed() >= w) {
                return Ok(None);
            }
            std::thread::sleep(POLL);
        }
    }

    /// The source host.
    pub fn source(&self) -> &RealHost {
        &self.src
    }

    /// A running domain of the source (of the watched ones) with an outgoing migration job.
    pub fn find_job(&self) -> Result<Option<Domain>, LabError> {
        let only = self.config.domains.clone();
        self.src
            .ask("look for a migration job", call::QUICK, move |c| {
                let doms = c
                    .list_all_domains(sys::VIR_CONNECT_LIST_DOMAINS_ACTIVE)
                    .map_err(|e| lab_error(&e))?;
                Ok(doms.into_iter().find(|d| {
                    let named = only.is_empty() || d.name().is_ok_and(|name| only.contains(&name));
                    named
                        && ffi::job_stats(d, 0).is_ok_and(|s| {
                            s.r#type == sys::VIR_DOMAIN_JOB_UNBOUNDED as i32
                                && s.operation
                                    == Some(sys::VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT as i32)
                        })
                }))
            })
    }

    /// Record `dom`'s migration job to its end, handing each event to `on_event` as it comes.
    /// `stop` ends the recording early (the job goes on: watching never acts on it); the
    /// outcome is then `aborted` at the time the watcher stopped looking.
    pub fn record(
        &self,
        dom: Domain,
        stop: &AtomicBool,
        mut on_event: impl FnMut(&TraceEvent),
    ) -> Result<Watched, LabError> {
        let vm = dom.name().map_err(|e| lab_error(&e))?;
        let t0 = Instant::now();
        let mut events = Vec::new();
        let event = |source: &str, kind: TraceKind| TraceEvent {
            t_ms: t0.elapsed().as_secs_f64() * 1000.0,
            source: source.to_string(),
            kind,
        };
        let mut emit = |events: &mut Vec<TraceEvent>, e: TraceEvent| {
            on_event(&e);
            events.push(e);
        };
        let mut prober = match self.config.ping {
            Some(ip) => {
                let mut pc = ProberConfig::new(ip, t0);
                pc.netns = self.config.ping_netns.clone();
                pc.target_name = vm.clone();
                Some(Prober::start(pc).map_err(|e| {
                    LabError::Internal(format!("cannot start the ping prober: {e}"))
                })?)
            }
            None => None,
        };
        let message = format!(
            "watching a migration of {vm} from {} (started outside migralab)",
            self.src.uri()
        );
        emit(&mut events, event("lab", TraceKind::Log { message }));
        let mut observer = JobObserver::default();
        let mut iterations = 0;
        let mut stopped = false;
        loop {
            if let Some(p) = &mut prober {
                for s in p.poll_samples() {
                    emit(&mut events, ping_event(s));
                }
            }
            if stop.load(Ordering::Relaxed) {
                stopped = true;
                break;
            }
            // The observer goes to the call's thread and comes back with what it saw (a call
            // that misses its deadline loses it, and the recording ends there).
            let (d, mut o) = (dom.clone(), std::mem::take(&mut observer));
            iterations = o.iteration();
            let read = self
                .src
                .ask("read the job statistics", call::QUICK, move |_| {
                    let seen = o.observe(&d);
                    Ok((o, seen))
                });
            match read {
                Ok((o, Some((_, kinds)))) => {
                    observer = o;
                    for k in kinds {
                        emit(&mut events, event(&vm, k));
                    }
                }
                // No job any more: it ended.
                Ok((o, None)) => {
                    observer = o;
                    break;
                }
                // The source stopped answering (its libvirtd died, the domain left it).
                Err(_) => break,
            }
            std::thread::sleep(POLL);
        }
        let at_ms = t0.elapsed().as_millis() as u64;
        if let Some(k) = observer.enter(Phase::Done) {
            emit(&mut events, event(&vm, k));
        }
        let outcome = if stopped {
            // Not the job's end: the recording's. Said so, since the status reads "aborted".
            let message = format!(
                "stopped watching {vm}: the migration itself goes on (watching never acts on it)"
            );
            emit(&mut events, event("lab", TraceKind::Log { message }));
            Outcome::Aborted { at_ms }
        } else {
            self.outcome(
                &dom,
                &vm,
                at_ms,
                observer.iteration().max(iterations),
                &observer,
            )
        };
        if let Outcome::Failed { error, .. } = &outcome {
            let message = format!("error: {error}");
            emit(&mut events, event(&vm, TraceKind::Log { message }));
        }
        emit(&mut events, event(&vm, TraceKind::Finished(outcome)));
        if let Some(mut p) = prober.take() {
            let until = Instant::now() + self.config.ping_tail;
            while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(POLL);
            }
            let _ = p.stop();
            for s in p.poll_samples() {
                emit(&mut events, ping_event(s));
            }
        }
        events.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
        Ok(Watched { vm, events })
    }

    /// Cancel `vm`'s migration job (`virsh domjobabort`), when a person asks for it: watching
    /// itself never acts on a job.
    pub fn abort_job(&self, vm: &str) -> Result<(), LabError> {
        let dom = self.src.domain(vm)?;
        self.src
            .ask("abort the migration job", call::QUICK, move |_| {
                ffi::abort_job(&dom).map_err(|e| lab_error(&e))
            })
    }

    /// How the job ended, from the completed statistics libvirt keeps (`domjobinfo
    /// --completed`): on the destination for a migration that completed, on the source for one
    /// that failed or was cancelled.
    fn outcome(
        &self,
        dom: &Domain,
        vm: &str,
        wall_ms: u64,
        iterations: u64,
        observer: &JobObserver,
    ) -> Outcome {
        let on_dst = self.dst.as_ref().and_then(|h| h.domain(vm).ok());
        let read = |d: &Domain| {
            let d = d.clone();
            self.src
                .ask("read the completed job", call::QUICK, move |_| {
                    ffi::job_stats(&d, crate::libvirt::job::COMPLETED_KEPT)
                        .map_err(|e| lab_error(&e))
                })
                .ok()
        };
        let ended = |s: &virt::domain::JobStats| {
            [
                sys::VIR_DOMAIN_JOB_COMPLETED,
                sys::VIR_DOMAIN_JOB_CANCELLED,
                sys::VIR_DOMAIN_JOB_FAILED,
            ]
            .iter()
            .any(|t| s.r#type == *t as i32)
        };
        let mut from_src = read(dom);
        // The guest still runs on the source: the job did not complete, and libvirt keeps the
        // statistics of a cancelled or failed one a moment after the job itself is gone (the
        // watcher, polling every 100 ms, can look in between: seen on the lab in a box, where
        // a cancelled job then read as none).
        let src_active = active(&self.src, dom);
        if src_active {
            for _ in 0..20 {
                if from_src.as_ref().is_some_and(ended) {
                    break;
                }
                std::thread::sleep(POLL);
                from_src = read(dom);
            }
        }
        let completed =
            |s: &virt::domain::JobStats| s.r#type == sys::VIR_DOMAIN_JOB_COMPLETED as i32;
        let src_disk = from_src
            .as_ref()
            .filter(|s| completed(s))
            .and_then(|s| s.disk_processed)
            .unwrap_or(0);
        if let Some(s) = on_dst
            .as_ref()
            .and_then(read)
            .filter(completed)
            .or_else(|| from_src.clone().filter(completed))
        {
            let disk = src_disk.max(observer.disk_processed());
            return stats::completed(&s, wall_ms, disk);
        }
        match from_src {
            Some(s) if s.r#type == sys::VIR_DOMAIN_JOB_CANCELLED as i32 => {
                Outcome::Aborted { at_ms: wall_ms }
            }
            Some(s) if s.r#type == sys::VIR_DOMAIN_JOB_FAILED as i32 => Outcome::Failed {
                error: LabError::OperationFailed(
                    s.error_message
                        .unwrap_or_else(|| "the migration job failed".into()),
                ),
                at_ms: wall_ms,
            },
            // No statistics kept: the guest running on the destination, and no longer on the
            // source, says it completed (an incoming guest is active on the destination, paused,
            // until a cancelled migration's clean-up removes it).
            _ if !src_active
                && on_dst
                    .as_ref()
                    .zip(self.dst.as_ref())
                    .is_some_and(|(d, h)| active(h, d)) =>
            {
                Outcome::Completed {
                    total_ms: wall_ms,
                    downtime_ms: 0,
                    memory_bytes: 0,
                    disk_bytes: observer.disk_processed(),
                    iterations,
                }
            }
            // libvirt keeps no statistics of a job whose end came from the other side (the
            // destination's daemon died): what is known is where the guest runs now.
            _ => {
                let on_src = src_active;
                let dst_down = self.dst.as_ref().is_some_and(|h| h.info().is_err());
                let mut why = format!(
                    "the migration job ended without completing{}; libvirt kept no statistics of why (the program that started it was told)",
                    if on_src {
                        format!(": {vm} still runs on the source")
                    } else {
                        String::new()
                    }
                );
                if dst_down {
                    why.push_str("; the destination's libvirtd does not answer");
                }
                Outcome::Failed {
                    error: LabError::OperationFailed(why),
                    at_ms: wall_ms,
                }
            }
        }
    }

    /// A watched run as a trace (backend `real`), as `migralab migrate --real` writes one: the
    /// command is not known, only the domain and the hosts.
    pub fn trace(&self, watched: Watched) -> Trace {
        let to = self
            .config
            .dst_uri
            .as_deref()
            .and_then(|u| crate::uri::LibvirtUri::parse(u).ok())
            .and_then(|u| u.host().map(str::to_string))
            .unwrap_or_else(|| "destination".into());
        let mut trace = Trace {
            format: TRACE_FORMAT,
            backend: "real".into(),
            seed: 0,
            scenario: serde_json::Value::Null,
            events: watched.events,
        };
        let mut spec = MigrationSpec::new(&watched.vm, &to);
        spec.copy_storage_all = trace.copied_storage(&watched.vm);
        trace.scenario = serde_json::json!({
            "src": self.config.src_uri,
            "dst": self.config.dst_uri,
            "watched": true,
            "migration": spec,
        });
        trace
    }
}

/// Is `dom` running on `host`? (No answer within the deadline: no.)
fn active(host: &RealHost, dom: &Domain) -> bool {
    let d = dom.clone();
    host.ask("read the domain's state", call::QUICK, move |_| {
        Ok(d.is_active().unwrap_or(false))
    })
    .unwrap_or(false)
}
