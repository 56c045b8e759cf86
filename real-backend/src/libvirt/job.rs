//! One real migration: `virDomainMigrate3` (or `virDomainMigrateToURI3` with `--p2p`) on its own
//! thread, and a driver thread that polls the job statistics every 100 ms into trace events,
//! applies `--timeout` and `--postcopy-after-precopy` as virsh does (from the client), and turns
//! the end into an [`Outcome`] from the completed statistics.

use super::host::RealHost;
use super::observe::JobObserver;
use super::{ERR_OPERATION_ABORTED, call, ffi, lab_error, stats};
use crate::uri::connection_uri;
use migralab_sim_core::LabError;
use migralab_sim_core::scenario::{MigrationSpec, TimeoutAction};
use migralab_sim_core::trace::{Outcome, Phase, TraceEvent, TraceKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};
use virt::domain::{Domain, MigrateParameters};
use virt::sys;

/// Read a finished job's statistics and leave them for the next reader: without
/// `VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED` libvirt removes them once read, and the student's own
/// `virsh domjobinfo db01 --completed` (a step of Experiment 1) then says `Job type: None` (seen on
/// the lab in a box). libvirt-domain.h: "don't remove completed stats when reading them (Since:
/// 6.0.0)".
pub const COMPLETED_KEPT: u32 =
    sys::VIR_DOMAIN_JOB_STATS_COMPLETED | sys::VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED;

/// How often job statistics are read (the 100 ms; `virsh migrate --verbose` uses 50).
pub const POLL: Duration = Duration::from_millis(100);

/// libvirt's migration flags for a `virsh migrate` command, one flag per option.
pub fn flags(spec: &MigrationSpec) -> u32 {
    let pairs = [
        (spec.live, sys::VIR_MIGRATE_LIVE),
        (spec.persistent, sys::VIR_MIGRATE_PERSIST_DEST),
        (spec.undefinesource, sys::VIR_MIGRATE_UNDEFINE_SOURCE),
        (spec.copy_storage_all, sys::VIR_MIGRATE_NON_SHARED_DISK),
        (spec.p2p, sys::VIR_MIGRATE_PEER2PEER),
        (spec.tunnelled, sys::VIR_MIGRATE_TUNNELLED),
        (spec.auto_converge, sys::VIR_MIGRATE_AUTO_CONVERGE),
        (
            spec.postcopy || spec.postcopy_after_precopy,
            sys::VIR_MIGRATE_POSTCOPY,
        ),
        (spec.unsafe_, sys::VIR_MIGRATE_UNSAFE),
        (spec.tls, sys::VIR_MIGRATE_TLS),
    ];
    pairs
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |acc, (_, f)| acc | f)
}

/// libvirt's migration parameters for the command's tunables.
pub fn parameters(spec: &MigrationSpec) -> MigrateParameters {
    MigrateParameters {
        bandwidth: spec.bandwidth_mibps,
        bandwidth_postcopy: spec.postcopy_bandwidth_mibps,
        auto_converge_initial: spec.auto_converge_initial.map(i32::from),
        auto_converge_increment: spec.auto_converge_increment.map(i32::from),
        ..MigrateParameters::default()
    }
}

/// After how many finished pre-copy passes to switch to post-copy, if at all.
fn postcopy_after(spec: &MigrationSpec) -> Option<u64> {
    if spec.postcopy_after_precopy {
        Some(1)
    } else if spec.postcopy {
        spec.postcopy_after_pass.map(u64::from)
    } else {
        None
    }
}

/// A migration in progress. Dropping it does not stop the migration: call [`abort`](Self::abort).
#[derive(Debug)]
pub struct MigrationJob {
    vm: String,
    dom: Domain,
    finished: Arc<AtomicBool>,
}

impl MigrationJob {
    /// Start migrating `spec.vm` from `src` to `dst`. `p2p_uri` is the destination URI the
    /// source's libvirtd uses with `--p2p` (default: `dst`'s). Trace events go to `events`, timed
    /// from `t0`. Refusals before the migration starts (unknown domain, bad downtime) come back
    /// here; everything later arrives as a [`TraceKind::Finished`] event.
    pub fn start(
        src: &RealHost,
        dst: &RealHost,
        p2p_uri: Option<&str>,
        spec: &MigrationSpec,
        t0: Instant,
        events: Sender<TraceEvent>,
    ) -> Result<MigrationJob, LabError> {
        let dom = src.domain(&spec.vm)?;
        let limit = spec.downtime_limit_ms;
        let d = dom.clone();
        src.ask("set the downtime limit", call::QUICK, move |_| {
            d.migrate_set_max_downtime(limit, 0)
                .map_err(|e| lab_error(&e))
        })?;
        let p2p_target =
            connection_uri(p2p_uri.unwrap_or(dst.uri())).map_err(|e| LabError::ConnectFailed {
                detail: e.to_string(),
            })?;
        let (done_tx, done_rx) = mpsc::channel();
        let (mig_dom, dconn, flags, params, p2p) = (
            dom.clone(),
            dst.connect().clone(),
            flags(spec),
            parameters(spec),
            spec.p2p,
        );
        std::thread::Builder::new()
            .name(format!("migrate {}", spec.vm))
            .spawn(move || {
                let result = if p2p {
                    mig_dom
                        .migrate_to_uri3(Some(&p2p_target), params, flags)
                        .map(|()| None)
                } else {
                    mig_dom.migrate3(&dconn, params, flags).map(Some)
                };
                let _ = done_tx.send(result);
            })
            .map_err(|e| LabError::Internal(format!("cannot start the migration thread: {e}")))?;
        let finished = Arc::new(AtomicBool::new(false));
        let driver = Driver {
            vm: spec.vm.clone(),
            dom: dom.clone(),
            dst: dst.clone(),
            spec: spec.clone(),
            t0,
            started: Instant::now(),
            events,
            finished: finished.clone(),
            observer: JobObserver::default(),
            postcopy_asked: false,
            timeout_done: false,
        };
        std::thread::Builder::new()
            .name(format!("job stats {}", spec.vm))
            .spawn(move || driver.run(done_rx))
            .map_err(|e| LabError::Internal(format!("cannot start the job-stats thread: {e}")))?;
        Ok(MigrationJob {
            vm: spec.vm.clone(),
            dom,
            finished,
        })
    }

    /// The domain being migrated.
    pub fn vm(&self) -> &str {
        &self.vm
    }

    /// Has the migration ended (and its `Finished` event been sent)?
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// `virsh domjobabort`: cancel the migration; the guest keeps running on the source.
    pub fn abort(&self) -> Result<(), LabError> {
        let d = self.dom.clone();
        call::with_deadline("abort the migration job", call::QUICK, move || {
            ffi::abort_job(&d).map_err(|e| lab_error(&e))
        })
    }

    /// `virsh migrate-postcopy`.
    pub fn start_postcopy(&self) -> Result<(), LabError> {
        let d = self.dom.clone();
        call::with_deadline("switch to post-copy", call::QUICK, move || {
            ffi::start_postcopy(&d).map_err(|e| lab_error(&e))
        })
    }

    /// `virsh migrate-setmaxdowntime`.
    pub fn set_max_downtime(&self, ms: u64) -> Result<(), LabError> {
        let d = self.dom.clone();
        call::with_deadline("set the downtime limit", call::QUICK, move || {
            d.migrate_set_max_downtime(ms, 0).map_err(|e| lab_error(&e))
        })
    }

    /// `virsh migrate-setspeed` (`None`: unlimited, which libvirt spells as its maximum).
    pub fn set_speed(&self, mibps: Option<u64>) -> Result<(), LabError> {
        let d = self.dom.clone();
        // libvirt's "unlimited" is the largest value QEMU accepts: 8 PiB/s in MiB/s.
        let bw = mibps.unwrap_or(8_796_093_022_207);
        call::with_deadline("set the migration speed", call::QUICK, move || {
            d.migrate_set_max_speed(bw, 0).map_err(|e| lab_error(&e))
        })
    }
}

type MigrateResult = Result<Option<Domain>, virt::error::Error>;

struct Driver {
    vm: String,
    dom: Domain,
    dst: RealHost,
    spec: MigrationSpec,
    t0: Instant,
    started: Instant,
    events: Sender<TraceEvent>,
    finished: Arc<AtomicBool>,
    observer: JobObserver,
    postcopy_asked: bool,
    timeout_done: bool,
}

impl Driver {
    fn emit(&self, kind: TraceKind) {
        let _ = self.events.send(TraceEvent {
            t_ms: self.t0.elapsed().as_secs_f64() * 1000.0,
            source: self.vm.clone(),
            kind,
        });
    }

    fn enter(&mut self, phase: Phase) {
        if let Some(kind) = self.observer.enter(phase) {
            self.emit(kind);
        }
    }

    fn run(mut self, done: Receiver<MigrateResult>) {
        self.enter(Phase::Setup);
        let result = loop {
            match done.recv_timeout(POLL) {
                Ok(r) => break r,
                Err(RecvTimeoutError::Timeout) => self.poll(),
                Err(RecvTimeoutError::Disconnected) => {
                    break Err(virt::error::Error::last_error());
                }
            }
        };
        let outcome = match result {
            Ok(new_dom) => self.completed(new_dom),
            Err(e) if e.code().to_raw() as i32 == ERR_OPERATION_ABORTED => Outcome::Aborted {
                at_ms: self.started.elapsed().as_millis() as u64,
            },
            Err(e) => {
                self.emit(TraceKind::Log {
                    message: format!("error: {}", e.message()),
                });
                Outcome::Failed {
                    error: lab_error(&e),
                    at_ms: self.started.elapsed().as_millis() as u64,
                }
            }
        };
        self.finished.store(true, Ordering::Release);
        self.emit(TraceKind::Finished(outcome));
    }

    fn poll(&mut self) {
        let Some((sample, events)) = self.observer.observe(&self.dom) else {
            return;
        };
        let (progress, changes) = events
            .split_last()
            .map_or((None, &[][..]), |(p, c)| (Some(p), c));
        for kind in changes {
            self.emit(kind.clone());
        }
        // virsh's --postcopy-after-precopy: switch once the first pass is done (iteration 2).
        if let Some(n) = postcopy_after(&self.spec)
            && !self.postcopy_asked
            && sample.iteration > n
        {
            self.postcopy_asked = true;
            let _ = ffi::start_postcopy(&self.dom);
        }
        // virsh's --timeout: suspend the guest (or switch to post-copy) after N seconds.
        if let Some(t) = self.spec.timeout_s
            && !self.timeout_done
            && self.started.elapsed() >= Duration::from_secs(t)
        {
            self.timeout_done = true;
            let _ = match self.spec.timeout_action {
                TimeoutAction::Suspend => self.dom.suspend(),
                TimeoutAction::Postcopy => ffi::start_postcopy(&self.dom),
            };
        }
        if let Some(p) = progress {
            self.emit(p.clone());
        }
    }

    fn completed(&mut self, new_dom: Option<Domain>) -> Outcome {
        let wall = self.started.elapsed().as_millis() as u64;
        // The destination keeps the completed job's statistics (`domjobinfo --completed`); the
        // source usually does too. p2p gives no destination handle: look the domain up.
        let on_dst = new_dom.or_else(|| self.dst.domain(&self.vm).ok());
        let read = |d: &Domain| {
            ffi::job_stats(d, COMPLETED_KEPT)
                .ok()
                .filter(|s| s.r#type == sys::VIR_DOMAIN_JOB_COMPLETED as i32)
        };
        let from_src = read(&self.dom);
        // The disk figures live on the source (its block mirrors), or in what the job showed.
        let disk = from_src
            .as_ref()
            .and_then(|s| s.disk_processed)
            .unwrap_or(0)
            .max(self.observer.disk_processed());
        let stats = on_dst.as_ref().and_then(read).or(from_src);
        self.enter(Phase::Done);
        match stats {
            Some(s) => stats::completed(&s, wall, disk),
            None => Outcome::Completed {
                total_ms: wall,
                downtime_ms: 0,
                memory_bytes: 0,
                disk_bytes: disk,
                iterations: self.observer.iteration(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> MigrationSpec {
        let mut s = MigrationSpec::new("db01", "kvm-host-02");
        s.live = false;
        s
    }

    #[test]
    fn each_virsh_option_is_one_libvirt_flag() {
        assert_eq!(flags(&spec()), 0);
        let mut s = spec();
        s.live = true;
        assert_eq!(flags(&s), sys::VIR_MIGRATE_LIVE);
        s.persistent = true;
        s.undefinesource = true;
        assert_eq!(
            flags(&s),
            sys::VIR_MIGRATE_LIVE
                | sys::VIR_MIGRATE_PERSIST_DEST
                | sys::VIR_MIGRATE_UNDEFINE_SOURCE
        );
        let mut all = spec();
        all.copy_storage_all = true;
        all.p2p = true;
        all.tunnelled = true;
        all.auto_converge = true;
        all.postcopy = true;
        all.unsafe_ = true;
        all.tls = true;
        assert_eq!(
            flags(&all),
            sys::VIR_MIGRATE_NON_SHARED_DISK
                | sys::VIR_MIGRATE_PEER2PEER
                | sys::VIR_MIGRATE_TUNNELLED
                | sys::VIR_MIGRATE_AUTO_CONVERGE
                | sys::VIR_MIGRATE_POSTCOPY
                | sys::VIR_MIGRATE_UNSAFE
                | sys::VIR_MIGRATE_TLS
        );
    }

    #[test]
    fn tunables_become_migration_parameters() {
        let mut s = spec();
        s.bandwidth_mibps = Some(10);
        s.postcopy_bandwidth_mibps = Some(50);
        s.auto_converge_initial = Some(30);
        s.auto_converge_increment = Some(5);
        let p = parameters(&s);
        assert_eq!(p.bandwidth, Some(10));
        assert_eq!(p.bandwidth_postcopy, Some(50));
        assert_eq!(p.auto_converge_initial, Some(30));
        assert_eq!(p.auto_converge_increment, Some(5));
        assert_eq!(parameters(&spec()).bandwidth, None);
    }

    #[test]
    fn postcopy_switch_point_follows_virsh() {
        let mut s = spec();
        assert_eq!(postcopy_after(&s), None);
        s.postcopy_after_precopy = true;
        assert_eq!(postcopy_after(&s), Some(1));
        let mut s = spec();
        s.postcopy = true;
        s.postcopy_after_pass = Some(3);
        assert_eq!(postcopy_after(&s), Some(3));
        assert!(flags(&s) & sys::VIR_MIGRATE_POSTCOPY != 0);
    }
}
