//! [`RealSession`]: real preflight and real migrations on a worker thread. The UI sends
//! requests and polls for answers once per frame; the worker wakes it (`request_repaint`) when
//! something arrives. libvirt calls block for up to ~20 s on a dead host, which is why none of
//! them may run on the UI thread.
//!
//! While a migration runs the worker owns the [`RealLab`]; it checks for an abort request
//! between two 100 ms waits, so "Batalkan" reaches libvirt within a tenth of a second. When the
//! session goes away (the app closes) the worker is told to stop: it aborts the job and drops
//! the lab, and [`RealSession`]'s `Drop` waits a bounded time for that to happen.

use super::prediction::{MeasuredWrites, Prediction, predict};
use crate::sessions::lab::{RunId, RunRecord};
use crate::sessions::series::RunSeries;
use migralab_real::libvirt::host::RealHost;
use migralab_real::libvirt::preflight::{PreflightOptions, real_preflight};
use migralab_real::real_lab::{RealLab, RealLabConfig, real_trace};
use migralab_real::watch::{WatchConfig, Watcher};
use migralab_sim_core::LabError;
use migralab_sim_core::lab::{Lab, LabCommand};
use migralab_sim_core::preflight::PreflightReport;
use migralab_sim_core::scenario::MigrationSpec;
use migralab_sim_core::time::SimDuration;
use migralab_sim_core::trace::{Outcome, Trace, TraceEvent, TraceKind};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::time::{Duration, Instant};

/// Called by the worker when it has news (the GUI passes `ctx.request_repaint`).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// How long dropping the session waits for a running migration to be aborted. libvirt's own
/// deadlines are about 20 s; after that the thread is left to finish on its own.
const STOP_WAIT: Duration = Duration::from_secs(25);

/// How long the worker keeps reading events after asking libvirt to abort, before it drops the
/// lab anyway (dropping aborts once more).
const ABORT_GRACE: Duration = Duration::from_secs(30);

/// Rebuild the live series at most this often: a long run has thousands of probes, and the
/// plots need no more than a few updates per second.
const REBUILD_EVERY: Duration = Duration::from_millis(250);

/// One request: where, what, and how to watch it.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Source URI.
    pub src: String,
    /// Destination URI.
    pub dst: String,
    /// Ping this address during the migration.
    pub ping: Option<Ipv4Addr>,
    /// The migration (its `vm` is the domain).
    pub spec: MigrationSpec,
    /// The `virsh` command it stands for (shown in the run list, the report and the prediction).
    pub command: String,
    /// Ping from inside this network namespace.
    pub ping_netns: Option<String>,
    /// The scenario the prediction's unknowns come from (a shipped name or a file).
    pub prediction_scenario: String,
}

enum ToWorker {
    Preflight(Job),
    Migrate(Job),
    /// Watch `job.src` for migrations of these domains started elsewhere, between requests.
    Watch(Job, Vec<String>),
    StopWatching,
    Abort,
    Stop,
}

enum FromWorker {
    Preflight(Result<PreflightReport, String>),
    Prediction(Result<Box<Prediction>, String>),
    Events(Vec<TraceEvent>),
    Notice(String),
    /// Watching the source, or why it cannot be watched.
    Watching(Result<(), String>),
    /// A migration started elsewhere is being recorded (boxed: a job carries its whole
    /// `virsh migrate` spec).
    Watched(Box<Job>),
    Finished(Box<Trace>),
}

/// What the worker is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Busy {
    /// Running real preflight.
    Preflight,
    /// Running a real migration.
    Migration,
}

/// The migration running now, as far as its events have arrived.
struct LiveRun {
    job: Job,
    /// Started elsewhere (a terminal, virt-manager) and only watched.
    watched: bool,
    events: Vec<TraceEvent>,
    series: RunSeries,
    dirty: bool,
    built: Instant,
}

/// Real mode's lab: preflight, migrations and predictions on a worker thread.
pub struct RealSession {
    tx: Sender<ToWorker>,
    rx: Receiver<FromWorker>,
    /// Closed (disconnected) when the worker thread ends.
    done: Receiver<()>,
    busy: Option<(Busy, Instant)>,
    report: Option<Result<PreflightReport, String>>,
    /// The job the preflight was run for.
    report_for: Option<Job>,
    prediction: Option<Result<Box<Prediction>, String>>,
    predicting: bool,
    live: Option<LiveRun>,
    abort_requested: bool,
    notices: Vec<String>,
    worker_lost: bool,
    /// What is being watched for migrations started elsewhere, and whether the source answered.
    watching: Option<(Job, Option<Result<(), String>>)>,
}

impl std::fmt::Debug for RealSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RealSession")
            .field("busy", &self.busy)
            .field("abort_requested", &self.abort_requested)
            .finish_non_exhaustive()
    }
}

impl RealSession {
    /// Start the worker. `waker` is called whenever an answer or new events arrive.
    pub fn new(waker: Waker) -> RealSession {
        let (tx, worker_rx) = mpsc::channel();
        let (worker_tx, rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("real-lab".into())
            .spawn(move || {
                // Dropped when the thread ends, however it ends: `done` then disconnects.
                let _done = done_tx;
                worker(worker_rx, worker_tx, waker);
            });
        let worker_lost = spawned.is_err();
        if let Err(e) = spawned {
            tracing::error!("cannot start the real-mode worker: {e}");
        }
        RealSession {
            tx,
            rx,
            done,
            busy: None,
            report: None,
            report_for: None,
            prediction: None,
            predicting: false,
            live: None,
            abort_requested: false,
            notices: Vec::new(),
            worker_lost,
            watching: None,
        }
    }

    /// Watch `job`'s source for migrations of `domains` that someone else starts (a terminal,
    /// virt-manager): each is recorded as a run like the form's. Replaces what was watched.
    pub fn watch(&mut self, job: Job, domains: Vec<String>) {
        if self.worker_lost {
            return;
        }
        if self.tx.send(ToWorker::Watch(job.clone(), domains)).is_err() {
            self.lose_worker();
            return;
        }
        self.watching = Some((job, None));
    }

    /// Stop watching (a watched migration being recorded is recorded to its end).
    pub fn stop_watching(&mut self) {
        if self.watching.take().is_some() && self.tx.send(ToWorker::StopWatching).is_err() {
            self.lose_worker();
        }
    }

    /// What is watched, and whether its source answered (`None`: not yet known).
    pub fn watching(&self) -> Option<(&Job, Option<Result<(), &str>>)> {
        self.watching.as_ref().map(|(j, r)| {
            (
                j,
                r.as_ref()
                    .map(|r| r.as_ref().map(|_| ()).map_err(String::as_str)),
            )
        })
    }

    /// Was the running migration started elsewhere (watched, not started here)?
    pub fn live_is_watched(&self) -> bool {
        self.live.as_ref().is_some_and(|l| l.watched)
    }

    /// What the worker is doing, and since when.
    pub fn busy(&self) -> Option<(Busy, Duration)> {
        self.busy.map(|(b, since)| (b, since.elapsed()))
    }

    /// Is a real migration running?
    pub fn is_migrating(&self) -> bool {
        matches!(self.busy, Some((Busy::Migration, _)))
    }

    /// Has "abort" been asked for the running migration?
    pub fn abort_requested(&self) -> bool {
        self.abort_requested
    }

    /// The last preflight's report (or why it could not run) and what it was run for.
    pub fn report(&self) -> Option<(&Result<PreflightReport, String>, Option<&Job>)> {
        self.report.as_ref().map(|r| (r, self.report_for.as_ref()))
    }

    /// The last prediction (or why there is none).
    pub fn prediction(&self) -> Option<Result<&Prediction, &str>> {
        self.prediction
            .as_ref()
            .map(|p| p.as_ref().map(|b| &**b).map_err(String::as_str))
    }

    /// Is the simulator still predicting?
    pub fn is_predicting(&self) -> bool {
        self.predicting
    }

    /// Messages for the user (an abort libvirt refused, a worker that died), oldest first.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Check every prerequisite of `job` on the real hosts (ignored while busy).
    pub fn preflight(&mut self, job: Job) -> bool {
        let started = self.request(Busy::Preflight, ToWorker::Preflight(job.clone()));
        if started {
            self.report_for = Some(job);
        }
        started
    }

    /// Start the real migration `job` (ignored while busy). The caller has asked for
    /// confirmation.
    pub fn migrate(&mut self, job: Job) -> bool {
        let started = self.request(Busy::Migration, ToWorker::Migrate(job.clone()));
        if started {
            self.start_live(job, false);
        }
        started
    }

    /// A migration begins: its live series starts empty. `watched`: started elsewhere.
    fn start_live(&mut self, job: Job, watched: bool) {
        self.abort_requested = false;
        self.live = Some(LiveRun {
            job,
            watched,
            events: Vec::new(),
            series: RunSeries::default(),
            dirty: false,
            built: Instant::now(),
        });
    }

    fn request(&mut self, busy: Busy, msg: ToWorker) -> bool {
        if self.busy.is_some() || self.worker_lost {
            return false;
        }
        if self.tx.send(msg).is_err() {
            self.lose_worker();
            return false;
        }
        self.busy = Some((busy, Instant::now()));
        self.predicting = true;
        self.prediction = None;
        true
    }

    /// Abort the running migration (`virsh domjobabort`).
    pub fn abort(&mut self) {
        if self.is_migrating() && !self.abort_requested {
            self.abort_requested = true;
            if self.tx.send(ToWorker::Abort).is_err() {
                self.lose_worker();
            }
        }
    }

    /// The running migration's series so far (as of the last [`RealSession::poll`]).
    pub fn live_series(&self) -> Option<&RunSeries> {
        self.live.as_ref().map(|l| &l.series)
    }

    /// The running migration's request.
    pub fn live_job(&self) -> Option<&Job> {
        self.live.as_ref().map(|l| &l.job)
    }

    /// Take what the worker sent and bring the live series up to date (rebuilt at most every
    /// [`REBUILD_EVERY`]). A finished migration comes back as a run for the session history,
    /// numbered from `next_id` as the simulated lab's runs are.
    pub fn poll(&mut self, next_id: &mut u32) -> Option<RunRecord> {
        if let Some(live) = &mut self.live
            && live.dirty
            && live.built.elapsed() >= REBUILD_EVERY
        {
            live.series = RunSeries::from_events(&live.job.spec.vm, &live.events);
            live.dirty = false;
            live.built = Instant::now();
        }
        let mut finished = None;
        loop {
            match self.rx.try_recv() {
                Ok(msg) => {
                    if let Some(run) = self.apply(msg, next_id) {
                        finished = Some(run);
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.lose_worker();
                    break;
                }
            }
        }
        finished
    }

    /// Block until the worker is idle, at most `timeout` (tests; never called from a frame).
    pub fn wait_idle(&mut self, next_id: &mut u32, timeout: Duration) -> Vec<RunRecord> {
        let end = Instant::now() + timeout;
        let mut runs = Vec::new();
        while self.busy.is_some() || self.predicting {
            let left = end.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(msg) => runs.extend(self.apply(msg, next_id)),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    self.lose_worker();
                    break;
                }
            }
        }
        runs
    }

    fn apply(&mut self, msg: FromWorker, next_id: &mut u32) -> Option<RunRecord> {
        match msg {
            FromWorker::Preflight(r) => {
                self.report = Some(r);
                self.busy = None;
            }
            FromWorker::Prediction(p) => {
                self.prediction = Some(p);
                self.predicting = false;
            }
            FromWorker::Events(batch) => {
                if let Some(live) = &mut self.live {
                    live.events.extend(batch);
                    live.dirty = true;
                }
            }
            FromWorker::Notice(n) => self.notices.push(n),
            FromWorker::Watching(r) => {
                if let Some((_, state)) = &mut self.watching {
                    *state = Some(r);
                }
            }
            FromWorker::Watched(job) => {
                self.busy = Some((Busy::Migration, Instant::now()));
                self.predicting = true;
                self.prediction = None;
                self.start_live(*job, true);
            }
            FromWorker::Finished(trace) => {
                self.busy = None;
                let live = self.live.take()?;
                *next_id += 1;
                return Some(run_record(RunId(*next_id), &live.job, *trace));
            }
        }
        None
    }

    fn lose_worker(&mut self) {
        if !self.worker_lost {
            self.worker_lost = true;
            self.notices
                .push("migralab: the real-mode worker stopped unexpectedly".into());
        }
        self.busy = None;
        self.predicting = false;
        self.live = None;
    }
}

impl Drop for RealSession {
    fn drop(&mut self) {
        // Never leave a real migration running because the window closed: the worker aborts it
        // and drops the lab. Wait for that while a migration runs (bounded); otherwise let the
        // thread end on its own (a preflight only reads).
        let _ = self.tx.send(ToWorker::Stop);
        if self.is_migrating() {
            let _ = self.done.recv_timeout(STOP_WAIT);
        }
    }
}

/// The guest's writes as a preflight measured them.
struct Measured {
    src: String,
    vm: String,
    at: Instant,
    writes: MeasuredWrites,
}

/// A measurement is used for this long: a guest's work changes.
const MEASURED_FOR: Duration = Duration::from_secs(600);

/// The measured writes that apply to `job` (same source and domain, recent enough).
fn writes_for(measured: &Option<Measured>, job: &Job) -> Option<MeasuredWrites> {
    measured
        .as_ref()
        .filter(|m| m.src == job.src && m.vm == job.spec.vm && m.at.elapsed() < MEASURED_FOR)
        .map(|m| m.writes.clone())
}

/// Measure how `vm` writes its memory on `host` (about 4.5 s: two dirty-rate windows).
fn measure_writes(host: &RealHost, vm: &str) -> Result<MeasuredWrites, String> {
    use migralab_real::libvirt::dirtyrate;
    let windows = dirtyrate::measure(host, vm).map_err(|e| e.to_string())?;
    let e = dirtyrate::estimate(&windows).ok_or("no window was measured")?;
    Ok(MeasuredWrites {
        windows: windows.iter().map(|w| (w.seconds, w.mib_per_s)).collect(),
        rate_mibps: e.rate_mibps,
        set_mib: e.set_mib,
        set_measured: e.set_measured,
    })
}

/// A finished real migration as a run of the session history.
fn run_record(id: RunId, job: &Job, trace: Trace) -> RunRecord {
    let series = RunSeries::from_events(&job.spec.vm, &trace.events);
    let mut spec = job.spec.clone();
    // A watched run's flags are unknown until its statistics show a disk being copied.
    spec.copy_storage_all |= trace.copied_storage(&spec.vm);
    RunRecord {
        id,
        scenario: format!("real: {} -> {}", job.src, job.dst),
        command: job.command.clone(),
        vm: job.spec.vm.clone(),
        from: super::dest_name(&job.src),
        to: job.spec.to.clone(),
        spec,
        trace,
        series,
        // The simulated lab's replay (Ctrl-C at the shown time) is not for real runs.
        foreground: false,
    }
}

fn worker(rx: Receiver<ToWorker>, tx: Sender<FromWorker>, waker: Waker) {
    let send = |msg: FromWorker| {
        let ok = tx.send(msg).is_ok();
        waker();
        ok
    };
    // Between requests, the source being watched is looked at every 100 ms.
    let mut watch: Option<(Job, Watcher)> = None;
    // Requests that came while a migration ran, taken before new ones.
    let mut pending: Vec<ToWorker> = Vec::new();
    // The guest's writes as the last preflight measured them.
    let mut measured: Option<Measured> = None;
    loop {
        let msg = if !pending.is_empty() {
            pending.remove(0)
        } else if watch.is_some() {
            match rx.recv_timeout(migralab_real::libvirt::job::POLL) {
                Ok(msg) => msg,
                Err(RecvTimeoutError::Timeout) => {
                    if let Some((job, watcher)) = &watch
                        && !watched(job, watcher, &rx, &tx, &waker, &mut pending, &measured)
                    {
                        return;
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            }
        } else {
            match rx.recv() {
                Ok(msg) => msg,
                Err(_) => return,
            }
        };
        match msg {
            ToWorker::Preflight(job) => {
                // Default probing: the destination's migration port from this machine when
                // its URI names a host, as `migralab preflight --real` does.
                let answer = real_preflight(
                    &job.src,
                    &job.dst,
                    &job.spec.vm,
                    &PreflightOptions::default(),
                );
                let src = match answer {
                    Ok((report, hosts)) => {
                        send(FromWorker::Preflight(Ok(report)));
                        hosts.map(|(s, _)| s)
                    }
                    Err(e) => {
                        send(FromWorker::Preflight(Err(e.to_string())));
                        None
                    }
                };
                // The prediction before the first run: the live guest's writes measured now.
                measured = src.as_ref().and_then(|h| match measure_writes(h, &job.spec.vm) {
                    Ok(m) => Some(Measured {
                        src: job.src.clone(),
                        vm: job.spec.vm.clone(),
                        at: Instant::now(),
                        writes: m,
                    }),
                    Err(e) => {
                        send(FromWorker::Notice(format!(
                            "migralab: {}'s writes could not be measured, so the prediction assumes them: {e}",
                            job.spec.vm
                        )));
                        None
                    }
                });
                start_prediction(src.as_ref(), &job, &tx, &waker, writes_for(&measured, &job));
            }
            ToWorker::Migrate(job) => {
                if !migrate(
                    &job,
                    &rx,
                    &tx,
                    &waker,
                    &mut pending,
                    writes_for(&measured, &job),
                ) {
                    return;
                }
            }
            ToWorker::Watch(job, domains) => {
                let mut config = WatchConfig::new(&job.src);
                config.dst_uri = Some(job.dst.clone());
                config.domains = domains;
                config.ping = job.ping;
                config.ping_netns = job.ping_netns.clone();
                watch = match Watcher::connect(config) {
                    Ok(w) => {
                        send(FromWorker::Watching(Ok(())));
                        Some((job, w))
                    }
                    Err(e) => {
                        send(FromWorker::Watching(Err(e.to_string())));
                        None
                    }
                };
            }
            ToWorker::StopWatching => watch = None,
            ToWorker::Abort => {}
            ToWorker::Stop => return,
        }
    }
}

/// Look once for a migration started elsewhere on the watched source; record it to its end if
/// there is one. False when the session is gone (stop the worker).
fn watched(
    job: &Job,
    watcher: &Watcher,
    rx: &Receiver<ToWorker>,
    tx: &Sender<FromWorker>,
    waker: &Waker,
    pending: &mut Vec<ToWorker>,
    measured: &Option<Measured>,
) -> bool {
    let dom = match watcher.find_job() {
        Ok(Some(dom)) => dom,
        Ok(None) => return true,
        Err(e) => {
            let _ = tx.send(FromWorker::Watching(Err(e.to_string())));
            waker();
            // A source that stopped answering is not asked again every 100 ms.
            std::thread::sleep(Duration::from_secs(2));
            return true;
        }
    };
    let Ok(vm) = dom.name() else {
        return true;
    };
    let to = super::dest_name(&job.dst);
    let mut spec = MigrationSpec::new(&vm, &to);
    spec.live = true;
    let watched_job = Job {
        spec,
        command: format!("virsh migrate ... {vm} ... (started outside migralab)"),
        ..job.clone()
    };
    if tx
        .send(FromWorker::Watched(Box::new(watched_job.clone())))
        .is_err()
    {
        return false;
    }
    waker();
    start_prediction(
        Some(watcher.source()),
        &watched_job,
        tx,
        waker,
        writes_for(measured, &watched_job),
    );
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut alive = true;
    let mut last_wake = Instant::now();
    let recorded = watcher.record(dom, &stop, |e| {
        let _ = tx.send(FromWorker::Events(vec![named_ping(
            e.clone(),
            &watched_job,
        )]));
        if last_wake.elapsed() >= migralab_real::libvirt::job::POLL {
            last_wake = Instant::now();
            waker();
        }
        match rx.try_recv() {
            // "Batalkan" on a watched migration: the person asks, so libvirt is asked.
            Ok(ToWorker::Abort) => {
                if let Err(e) = watcher.abort_job(&vm) {
                    let _ = tx.send(FromWorker::Notice(e.virsh_line()));
                }
            }
            Ok(ToWorker::Stop) | Err(TryRecvError::Disconnected) => {
                alive = false;
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            // Kept for after this run (the UI asks nothing else while a migration runs).
            Ok(m) => pending.push(m),
            Err(TryRecvError::Empty) => {}
        }
    });
    let trace = match recorded {
        Ok(w) => watcher.trace(w),
        Err(e) => real_trace(&job.src, &job.dst, &watched_job.spec, vec![failed(&vm, e)]),
    };
    if tx.send(FromWorker::Finished(Box::new(trace))).is_err() {
        alive = false;
    }
    waker();
    alive
}

/// The guest's RAM from the source, then the simulator on its own thread (it is CPU work and
/// must not delay the migration). Always answers, with the reason when it cannot predict.
fn start_prediction(
    src: Option<&RealHost>,
    job: &Job,
    tx: &Sender<FromWorker>,
    waker: &Waker,
    writes: Option<MeasuredWrites>,
) {
    let spec = &job.spec;
    let ram = match src {
        None => Err("the hosts could not be reached, so the guest's RAM is unknown".to_string()),
        Some(h) => h
            .domain(&spec.vm)
            .and_then(|d| h.domain_facts(&d))
            .map(|f| f.memory_kib.div_ceil(1024))
            .map_err(|e| e.to_string()),
    };
    let spec = spec.clone();
    let command = job.command.clone();
    let base = job.prediction_scenario.clone();
    let tx = tx.clone();
    let waker = waker.clone();
    let spawned = std::thread::Builder::new()
        .name("real-prediction".into())
        .spawn(move || {
            let p = ram.and_then(|mib| {
                predict(&base, mib, &spec, writes.as_ref())
                    .map(|p| Box::new(Prediction { command, ..p }))
                    .map_err(|e| format!("{e:#}"))
            });
            let _ = tx.send(FromWorker::Prediction(p));
            waker();
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the prediction: {e}");
    }
}

/// Run one migration to its end; false when the session is gone (stop the worker).
fn migrate(
    job: &Job,
    rx: &Receiver<ToWorker>,
    tx: &Sender<FromWorker>,
    waker: &Waker,
    pending: &mut Vec<ToWorker>,
    writes: Option<MeasuredWrites>,
) -> bool {
    let mut config = RealLabConfig::new(&job.src, &job.dst);
    config.ping = job.ping;
    config.ping_netns = job.ping_netns.clone();
    let mut events = Vec::new();
    let mut alive = true;
    let lab = match RealLab::connect(config) {
        Ok(lab) => {
            start_prediction(Some(lab.source()), job, tx, waker, writes.clone());
            Ok(lab)
        }
        Err(e) => {
            // The UI waits for a prediction after every request: answer, with the reason.
            start_prediction(None, job, tx, waker, writes.clone());
            Err(e)
        }
    }
    .and_then(|mut lab| {
        lab.submit(LabCommand::Migrate(job.spec.clone()))?;
        Ok(lab)
    });
    match lab {
        Err(e) => {
            // Refused before it started: the trace says so with libvirt's words.
            events.push(failed(&job.spec.vm, e));
            if tx.send(FromWorker::Events(events.clone())).is_err() {
                alive = false;
            }
        }
        Ok(mut lab) => {
            let mut abort_at: Option<Instant> = None;
            loop {
                let batch: Vec<TraceEvent> = std::iter::from_fn(|| lab.poll_event())
                    .map(|e| named_ping(e, job))
                    .collect();
                if !batch.is_empty() {
                    events.extend(batch.iter().cloned());
                    if tx.send(FromWorker::Events(batch)).is_err() {
                        alive = false;
                    }
                    waker();
                }
                if lab.is_idle() {
                    break;
                }
                let stop = match rx.try_recv() {
                    Ok(ToWorker::Abort) => Some(true),
                    Ok(ToWorker::Stop) | Err(TryRecvError::Disconnected) => {
                        alive = false;
                        Some(false)
                    }
                    // The UI never asks for more while a migration runs; what to watch is kept
                    // for after it.
                    Ok(ToWorker::Preflight(_) | ToWorker::Migrate(_)) => None,
                    Ok(m @ (ToWorker::Watch(..) | ToWorker::StopWatching)) => {
                        pending.push(m);
                        None
                    }
                    Err(TryRecvError::Empty) => None,
                };
                if (stop.is_some() || !alive) && abort_at.is_none() {
                    abort_at = Some(Instant::now());
                    if let Err(e) = lab.abort() {
                        // libvirt's words: the job may have just finished on its own.
                        let _ = tx.send(FromWorker::Notice(e.virsh_line()));
                        waker();
                    }
                }
                if abort_at.is_some_and(|t| t.elapsed() > ABORT_GRACE) {
                    break;
                }
                lab.advance(SimDuration::from_millis(100));
            }
            // Dropping the lab aborts whatever is still running.
            drop(lab);
        }
    }
    let trace = real_trace(&job.src, &job.dst, &job.spec, events);
    if tx.send(FromWorker::Finished(Box::new(trace))).is_err() {
        alive = false;
    }
    waker();
    alive
}

/// The outcome event of a migration libvirt refused to start.
fn failed(vm: &str, error: LabError) -> TraceEvent {
    TraceEvent {
        t_ms: 0.0,
        source: vm.to_string(),
        kind: TraceKind::Finished(Outcome::Failed { error, at_ms: 0 }),
    }
}

/// The prober names its samples by address; the series and reports look for the VM's name.
fn named_ping(mut e: TraceEvent, job: &Job) -> TraceEvent {
    if let TraceKind::Ping(p) = &mut e.kind
        && job.ping.is_some_and(|ip| p.target == ip.to_string())
    {
        p.target = job.spec.vm.clone();
    }
    e
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use migralab_sim_core::preflight::{CheckId, CheckStatus};

    const TEST: &str = "test:///default";

    fn job() -> Job {
        Job {
            src: TEST.into(),
            dst: TEST.into(),
            ping: None,
            spec: MigrationSpec::new("test", TEST),
            command: "virsh -c test:///default migrate --live test test:///default".into(),
            ping_netns: None,
            prediction_scenario: "lesson".into(),
        }
    }

    fn session() -> RealSession {
        RealSession::new(Arc::new(|| {}))
    }

    #[test]
    fn preflight_runs_on_the_worker_and_predicts() {
        let mut s = session();
        assert!(s.preflight(job()));
        assert_eq!(s.busy().map(|b| b.0), Some(Busy::Preflight));
        assert!(!s.preflight(job()), "one request at a time");
        let mut next = 0;
        let runs = s.wait_idle(&mut next, Duration::from_secs(60));
        assert!(runs.is_empty() && next == 0);
        let (report, for_job) = s.report().unwrap();
        assert_eq!(for_job, Some(&job()));
        let report = report.as_ref().unwrap();
        let same = report.check(CheckId::NotSameHost).unwrap();
        assert_eq!(same.status, CheckStatus::Fail);
        let p = s.prediction().unwrap().unwrap();
        assert!(p.ram_mib > 0, "the test domain's RAM");
        assert!(p.outcome.total_ms > 0);
    }

    #[test]
    fn an_unknown_domain_is_reported_not_panicked_on() {
        let mut s = session();
        let mut j = job();
        j.spec.vm = "db99".into();
        assert!(s.preflight(j));
        s.wait_idle(&mut 0, Duration::from_secs(60));
        let (report, _) = s.report().unwrap();
        assert_eq!(report.as_ref().unwrap_err(), "failed to get domain 'db99'");
        assert!(s.prediction().unwrap().is_err());
    }

    #[test]
    fn a_refused_migration_becomes_a_failed_run_with_libvirts_message() {
        let mut s = session();
        assert!(s.migrate(job()));
        assert!(s.is_migrating());
        let mut next = 4;
        let runs = s.wait_idle(&mut next, Duration::from_secs(60));
        assert_eq!(runs.len(), 1);
        let r = &runs[0];
        assert_eq!(r.id, RunId(5));
        assert_eq!(r.trace.backend, "real");
        match r.outcome() {
            Some(Outcome::Failed { error, .. }) => assert!(
                error.to_string().starts_with(
                    "this function is not supported by the connection driver: \
                     virDomainMigrateSetMaxDowntime"
                ),
                "{error}"
            ),
            other => panic!("{other:?}"),
        }
        assert!(!s.is_migrating());
        assert!(s.prediction().unwrap().is_ok(), "predicted all the same");
        // Aborting with nothing running does nothing.
        s.abort();
        assert!(!s.abort_requested());
    }

    #[test]
    fn an_unreachable_host_fails_the_run_and_the_prediction_says_why() {
        let mut s = session();
        let mut j = job();
        j.dst = "qemu+ssh://no-such-host.invalid/system".into();
        assert!(s.migrate(j));
        let runs = s.wait_idle(&mut 0, Duration::from_secs(60));
        assert_eq!(runs.len(), 1);
        assert!(matches!(runs[0].outcome(), Some(Outcome::Failed { .. })));
        assert!(!s.is_predicting(), "answered");
        assert!(s.prediction().unwrap().is_err());
    }

    #[test]
    fn pings_are_named_after_the_vm() {
        let mut j = job();
        j.ping = Some(Ipv4Addr::new(10, 0, 0, 5));
        let e = TraceEvent {
            t_ms: 1.0,
            source: "prober".into(),
            kind: TraceKind::Ping(migralab_sim_core::PingSample {
                seq: 1,
                target: "10.0.0.5".into(),
                sent_ms: 1.0,
                rtt_ms: Some(0.3),
            }),
        };
        let e = named_ping(e, &j);
        assert!(matches!(e.kind, TraceKind::Ping(p) if p.target == "test"));
    }

    #[test]
    fn dropping_an_idle_session_returns_at_once() {
        let t = Instant::now();
        drop(session());
        assert!(t.elapsed() < Duration::from_secs(5));
    }
}
