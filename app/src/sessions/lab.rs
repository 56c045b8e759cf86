//! The app's side of a simulated lab: a sim-core [`Shell`] on a worker thread (so a long
//! migration never freezes a frame), the terminal's scroll-back, the runs the student made and
//! their playback. No egui here: the panels in `gui::lab` draw this, and tests drive it directly.
//!
//! One path for everything: the migration form, the experiment buttons and the keyboard all end
//! up as a line typed into the same shell, so "done by a button or by typing" cannot differ.
//!
//! Playback: the shell computes a migration at once (lab time is simulated); the app then plays
//! its trace back at real time, ×10, ×100 or instantly. The terminal shows the command's output
//! when playback reaches the end, as a real terminal would when `virsh migrate` returns.
//!
//! Acting at the time the student sees: the worker keeps a copy of the shell from before the
//! last line that started a migration. Ctrl-C during its playback ([`LabSession::interrupt_at`])
//! or a line typed then ([`LabSession::submit_line_at`], as in a second terminal) replays that
//! line on the copy up to the shown lab time (`Shell::run_line_until`), acts there, and lets the
//! migration end; the replay replaces the line's output and runs. The shell is deterministic, so
//! the replay is the same run up to that time.

use crate::sessions::series::RunSeries;
use migralab_shell::{Shell, ShellRun};
use migralab_sim_core::lang::Lang;
use migralab_sim_core::scenario::{MigrationSpec, Scenario};
use migralab_sim_core::time::{SimDuration, SimTime};
use migralab_sim_core::trace::{Outcome, Trace};
use migralab_sim_core::world::World;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::time::Duration;

/// Called by the worker when a line is done (the GUI passes `ctx.request_repaint`).
pub type Waker = Box<dyn Fn() + Send>;

/// Identifies a run in the session history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(pub u32);

/// One line in the terminal's scroll-back.
#[derive(Debug, Clone, PartialEq)]
pub struct TermEntry {
    /// The prompt shown before the line (e.g. `root@kvm-host-01:~# `).
    pub prompt: String,
    /// What was typed.
    pub input: String,
    /// What the shell printed; `None` while the line still runs on the worker.
    pub output: Option<String>,
    /// Exit status.
    pub status: i32,
    /// Migrations this line started and finished, shown when their playback ends.
    pub runs: Vec<RunId>,
}

impl TermEntry {
    /// Output background jobs wrote between prompts (no line was typed).
    pub fn is_output_only(&self) -> bool {
        self.prompt.is_empty() && self.input.is_empty()
    }
}

/// A finished migration kept in the session history.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// Its id (numbered from 1 in the order runs finished).
    pub id: RunId,
    /// The scenario it ran in.
    pub scenario: String,
    /// The command line.
    pub command: String,
    /// The guest.
    pub vm: String,
    /// Source host.
    pub from: String,
    /// Destination host.
    pub to: String,
    /// What virsh was asked.
    pub spec: MigrationSpec,
    /// Every event (lab time).
    pub trace: Trace,
    /// The plotted series (seconds from the run's first event).
    pub series: RunSeries,
    /// virsh ran in the foreground of its line (Ctrl-C during its playback reaches it).
    pub foreground: bool,
}

impl RunRecord {
    /// This run as the experiments judge it, counted in `scenario` (the lab's own, or for a
    /// real run the step's).
    pub fn fact(&self, scenario: &str) -> migralab_course::experiments::RunFact {
        migralab_course::experiments::RunFact {
            scenario: scenario.to_string(),
            vm: self.vm.clone(),
            copy_storage_all: self.spec.copy_storage_all,
            // A finished run always has an outcome; "unknown" matches no expected outcome.
            outcome: self
                .outcome()
                .map_or("unknown", migralab_sim_core::Outcome::status)
                .to_string(),
        }
    }

    fn from_shell(id: RunId, scenario: &str, run: ShellRun) -> RunRecord {
        let series = RunSeries::from_events(&run.spec.vm, &run.trace.events);
        RunRecord {
            id,
            scenario: scenario.to_string(),
            command: run.command,
            vm: run.spec.vm.clone(),
            from: run.from,
            to: run.spec.to.clone(),
            spec: run.spec,
            trace: run.trace,
            series,
            foreground: run.foreground,
        }
    }

    /// How it ended.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.series.outcome.as_ref()
    }

    /// A real run that ended without completing, which `why` shows was cancelled (libvirt keeps
    /// no statistics of a cancelled migration, so the watcher could only see the job end with
    /// the guest still on the source): its outcome becomes "aborted" at the same time, and the
    /// trace says on what evidence. Completed or already aborted runs are left as they are.
    pub fn mark_cancelled(&mut self, why: &str) {
        let Some(Outcome::Failed { at_ms, .. }) = self.outcome().cloned() else {
            return;
        };
        for e in &mut self.trace.events {
            if e.source == self.vm
                && let migralab_sim_core::trace::TraceKind::Finished(o) = &mut e.kind
            {
                *o = Outcome::Aborted { at_ms };
            }
        }
        let t_ms = self.trace.events.last().map_or(0.0, |e| e.t_ms);
        self.trace
            .events
            .push(migralab_sim_core::trace::TraceEvent {
                t_ms,
                source: "lab".into(),
                kind: migralab_sim_core::trace::TraceKind::Log {
                    message: why.to_string(),
                },
            });
        self.series = RunSeries::from_events(&self.vm, &self.trace.events);
    }

    /// A short label for lists and legends: `#2 db01 -> kvm-host-02`.
    pub fn label(&self) -> String {
        format!("#{} {} -> {}", self.id.0, self.vm, self.to)
    }

    /// Where playback of this run ends, s: the last event or probe.
    pub fn span_end_s(&self) -> f64 {
        let last_ping = self.series.pings.last().map_or(0.0, |p| p.t_s);
        self.series.end_s.max(last_ping)
    }
}

/// How fast a run is played back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Speed {
    /// One lab second per second.
    RealTime,
    /// Ten lab seconds per second.
    #[default]
    X10,
    /// A hundred lab seconds per second.
    X100,
    /// The whole run at once.
    Instant,
}

impl Speed {
    /// Every speed, slowest first.
    pub const ALL: [Speed; 4] = [Speed::RealTime, Speed::X10, Speed::X100, Speed::Instant];

    /// Lab seconds per wall second (`None`: instant).
    pub fn factor(self) -> Option<f64> {
        match self {
            Speed::RealTime => Some(1.0),
            Speed::X10 => Some(10.0),
            Speed::X100 => Some(100.0),
            Speed::Instant => None,
        }
    }
}

/// Where the playback of one run stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Playback {
    /// The run being played.
    pub run: RunId,
    /// Playback time, s since the run's first event.
    pub cursor_s: f64,
    /// Paused by the student.
    pub paused: bool,
}

impl Playback {
    /// Move on by `wall_s` of wall time at `speed`, stopping at `end_s`.
    pub fn tick(&mut self, wall_s: f64, speed: Speed, end_s: f64) {
        if self.paused {
            return;
        }
        self.cursor_s = match speed.factor() {
            Some(f) => (self.cursor_s + wall_s.max(0.0) * f).min(end_s),
            None => end_s,
        };
    }

    /// Jump to the next iteration boundary (dirty-bitmap sync), or to the end; pauses.
    pub fn step_iteration(&mut self, series: &RunSeries, end_s: f64) {
        self.paused = true;
        let next = series
            .iterations
            .iter()
            .copied()
            .find(|&t| t > self.cursor_s + 1e-9);
        self.cursor_s = next.unwrap_or(end_s).min(end_s);
    }

    /// Has playback reached `end_s`?
    pub fn is_done(&self, end_s: f64) -> bool {
        self.cursor_s >= end_s - 1e-9
    }
}

/// One terminal line's result.
struct EntryDone {
    text: String,
    status: i32,
    runs: Vec<ShellRun>,
}

/// What the worker sends back for each request.
struct LineDone {
    /// A plain line: its result. A replay: the rewound line's, then those typed during its
    /// playback, in order.
    entries: Vec<EntryDone>,
    /// The line can be rewound (it started a migration).
    rewindable: bool,
    /// An answer to [`ToWorker::Advance`]: what background jobs printed meanwhile (one entry,
    /// no typed line).
    advanced: bool,
    /// Background jobs still run after it.
    jobs_running: bool,
    prompt: String,
    scenario: Scenario,
    world: World,
    now: SimTime,
    history: Vec<String>,
}

enum ToWorker {
    Line(String),
    /// A line typed while the rewindable line's migration plays, at lab time `at`.
    LineAt {
        line: String,
        at: SimTime,
    },
    /// Ctrl-C at lab time `at` while the rewindable line's migration plays.
    Interrupt {
        at: SimTime,
    },
    /// Let lab time pass while background jobs run and nothing is typed.
    Advance(SimDuration),
    Lang(Lang),
}

/// The kind of request the worker is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PendingKind {
    Line,
    /// A replay: the answer's entries go to `rewind`.
    Replay,
}

/// A simulated lab open in the app.
pub struct LabSession {
    /// The scenario's name (`lesson`, `prereq-no-bridge`, a file stem, ...).
    pub scenario_name: String,
    scenario: Scenario,
    world: World,
    prompt: String,
    now: SimTime,
    history: Vec<String>,
    terminal: Vec<TermEntry>,
    tx: Sender<ToWorker>,
    rx: Receiver<LineDone>,
    /// Index in `terminal` of the line the worker is running.
    pending: Option<usize>,
    /// What the running request is, to place its answer.
    pending_kind: PendingKind,
    /// Entries the worker can replay: the last line that started a migration, then the lines
    /// typed during its playback (empty: none).
    rewind: Vec<usize>,
    /// Background jobs run in the shell (as of the last answer).
    jobs_running: bool,
    /// An [`LabSession::advance`] is on its way to the worker.
    advancing: bool,
    /// The runs last taken ended while the student watched (background jobs in wall-clock
    /// time), not within a line: nothing to play back.
    live_runs: bool,
    /// The worker thread ended (it never should): reported once in the terminal.
    worker_lost: bool,
}

impl std::fmt::Debug for LabSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabSession")
            .field("scenario_name", &self.scenario_name)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl LabSession {
    /// Open a lab on `scenario` with a shell worker. `waker` is called when a line finishes.
    pub fn open(name: &str, scenario: Scenario, lang: Lang, waker: Waker) -> LabSession {
        let shell = Shell::new(scenario.clone(), lang);
        let prompt = shell.prompt();
        let world = shell.simulator().world().clone();
        let live = shell.simulator().scenario().clone();
        let (tx, worker_rx) = mpsc::channel::<ToWorker>();
        let (worker_tx, rx) = mpsc::channel::<LineDone>();
        std::thread::Builder::new()
            .name(format!("lab-{name}"))
            .spawn(move || worker(shell, worker_rx, worker_tx, waker))
            .map_or_else(
                |e| tracing::error!("cannot start the lab worker: {e}"),
                |_| (),
            );
        LabSession {
            scenario_name: name.to_string(),
            scenario: live,
            world,
            prompt,
            now: SimTime::ZERO,
            history: Vec::new(),
            terminal: Vec::new(),
            tx,
            rx,
            pending: None,
            pending_kind: PendingKind::Line,
            rewind: Vec::new(),
            jobs_running: false,
            advancing: false,
            live_runs: false,
            worker_lost: false,
        }
    }

    /// The runs of the line that can be replayed at a shown time (the last line that started a
    /// migration, while nothing else has run since but lines typed during its playback).
    pub fn rewindable_runs(&self) -> &[RunId] {
        self.rewind
            .first()
            .and_then(|&i| self.terminal.get(i))
            .map_or(&[], |e| e.runs.as_slice())
    }

    /// The scenario as it stands now (hosts fixed by the student, VMs where they run).
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Which domains each host has (as of the last finished line).
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The prompt for the next line.
    pub fn prompt(&self) -> &str {
        &self.prompt
    }

    /// Lab time after the last finished line.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Lines typed so far (for ↑/↓ in the terminal), oldest first.
    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// The scroll-back.
    pub fn terminal(&self) -> &[TermEntry] {
        &self.terminal
    }

    /// Is a line still running on the worker?
    pub fn is_busy(&self) -> bool {
        self.pending.is_some()
    }

    /// Clear the scroll-back (`clear`, Ctrl+L).
    pub fn clear_terminal(&mut self) {
        match self.pending {
            Some(i) => {
                self.terminal.drain(..i);
                self.pending = Some(0);
            }
            None => self.terminal.clear(),
        }
    }

    /// Type `line` into the shell. Refused (returns false) while another line runs.
    pub fn submit_line(&mut self, line: &str) -> bool {
        if self.pending.is_some() {
            return false;
        }
        if line.trim() == "clear" {
            self.clear_terminal();
            return true;
        }
        self.terminal.push(TermEntry {
            prompt: self.prompt.clone(),
            input: line.to_string(),
            output: None,
            status: 0,
            runs: Vec::new(),
        });
        self.pending = Some(self.terminal.len() - 1);
        self.pending_kind = PendingKind::Line;
        if self.tx.send(ToWorker::Line(line.to_string())).is_err() {
            self.lose_worker();
        }
        true
    }

    /// Type `line` at lab time `at` while the rewindable line's migration plays back, as in a
    /// second terminal (`virsh domjobinfo`, `virsh domjobabort`). Without a rewindable line it
    /// is typed as [`LabSession::submit_line`] types it. Refused while another line runs.
    pub fn submit_line_at(&mut self, line: &str, at: SimTime) -> bool {
        if self.rewind.is_empty() || line.trim() == "clear" {
            return self.submit_line(line);
        }
        if self.pending.is_some() {
            return false;
        }
        self.terminal.push(TermEntry {
            prompt: self.prompt.clone(),
            input: line.to_string(),
            output: None,
            status: 0,
            runs: Vec::new(),
        });
        let i = self.terminal.len() - 1;
        self.rewind.push(i);
        self.pending = Some(i);
        self.pending_kind = PendingKind::Replay;
        let msg = ToWorker::LineAt {
            line: line.to_string(),
            at,
        };
        if self.tx.send(msg).is_err() {
            self.lose_worker();
        }
        true
    }

    /// Did the runs last taken end while lab time followed the wall clock (already seen live)?
    pub fn live_runs(&self) -> bool {
        self.live_runs
    }

    /// Do background jobs run in the lab (`virsh migrate ... &`)? Then the app lets lab time
    /// pass with the wall clock ([`LabSession::advance`]).
    pub fn jobs_running(&self) -> bool {
        self.jobs_running
    }

    /// Let `d` of lab time pass for the background jobs while nothing is typed; what they print
    /// comes as a terminal entry without a prompt, a migration that ends as a run. Nothing
    /// happens while a line runs, without running jobs, or while an earlier advance is on its
    /// way. A replayable line's copy is dropped (the lab moved on).
    pub fn advance(&mut self, d: SimDuration) -> bool {
        if self.pending.is_some() || self.advancing || !self.jobs_running {
            return false;
        }
        self.advancing = true;
        self.rewind.clear();
        if self.tx.send(ToWorker::Advance(d)).is_err() {
            self.lose_worker();
        }
        true
    }

    /// Ctrl-C at lab time `at` in the terminal of the rewindable line, while its migration plays
    /// back: the migration is cancelled there. False (nothing happens) without such a line or
    /// while another line runs.
    pub fn interrupt_at(&mut self, at: SimTime) -> bool {
        let Some(&first) = self.rewind.first() else {
            return false;
        };
        if self.pending.is_some() {
            return false;
        }
        self.pending = Some(first);
        self.pending_kind = PendingKind::Replay;
        if self.tx.send(ToWorker::Interrupt { at }).is_err() {
            self.lose_worker();
        }
        true
    }

    /// Change the language of the shell's hints.
    pub fn set_lang(&mut self, lang: Lang) {
        let _ = self.tx.send(ToWorker::Lang(lang));
    }

    /// Take what the worker finished; new runs get ids from `next_id` and are returned.
    pub fn poll(&mut self, next_id: &mut u32) -> Vec<RunRecord> {
        match self.rx.try_recv() {
            Ok(done) => self.apply(done, next_id),
            Err(TryRecvError::Empty) => Vec::new(),
            Err(TryRecvError::Disconnected) => {
                self.lose_worker();
                Vec::new()
            }
        }
    }

    /// Block until the running line (and any advance) is done (tests and headless use), at
    /// most `timeout` for each answer.
    pub fn wait(&mut self, next_id: &mut u32, timeout: Duration) -> Vec<RunRecord> {
        let mut runs = Vec::new();
        while self.pending.is_some() || self.advancing {
            match self.rx.recv_timeout(timeout) {
                Ok(done) => runs.extend(self.apply(done, next_id)),
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.lose_worker();
                    break;
                }
            }
        }
        runs
    }

    /// Place the worker's answer. Returns the runs that are new or replace a run of the same id
    /// (a replay keeps its entries' run ids).
    fn apply(&mut self, done: LineDone, next_id: &mut u32) -> Vec<RunRecord> {
        self.jobs_running = done.jobs_running;
        self.live_runs = done.advanced;
        if done.advanced {
            self.advancing = false;
            return self.apply_advance(done, next_id);
        }
        let Some(pending) = self.pending.take() else {
            return Vec::new();
        };
        let targets: Vec<usize> = match self.pending_kind {
            PendingKind::Line => vec![pending],
            PendingKind::Replay => self.rewind.clone(),
        };
        let mut out = Vec::new();
        for (i, entry_done) in targets.iter().zip(done.entries) {
            let Some(entry) = self.terminal.get_mut(*i) else {
                continue;
            };
            let mut old_ids = std::mem::take(&mut entry.runs).into_iter();
            let runs: Vec<RunRecord> = entry_done
                .runs
                .into_iter()
                .map(|r| {
                    let id = old_ids.next().unwrap_or_else(|| {
                        *next_id += 1;
                        RunId(*next_id)
                    });
                    RunRecord::from_shell(id, &self.scenario_name, r)
                })
                .collect();
            entry.output = Some(entry_done.text);
            entry.status = entry_done.status;
            entry.runs = runs.iter().map(|r| r.id).collect();
            out.extend(runs);
        }
        match (self.pending_kind, done.rewindable) {
            (PendingKind::Line, true) => self.rewind = vec![pending],
            (PendingKind::Line, false) => self.rewind.clear(),
            (PendingKind::Replay, rewindable) => {
                if !rewindable {
                    self.rewind.clear();
                }
            }
        }
        self.prompt = done.prompt;
        self.scenario = done.scenario;
        self.world = done.world;
        self.now = done.now;
        self.history = done.history;
        out
    }

    /// What background jobs printed while lab time passed: an entry without a prompt, as bash
    /// lets them write between prompts.
    fn apply_advance(&mut self, done: LineDone, next_id: &mut u32) -> Vec<RunRecord> {
        let Some(entry_done) = done.entries.into_iter().next() else {
            return Vec::new();
        };
        let runs: Vec<RunRecord> = entry_done
            .runs
            .into_iter()
            .map(|r| {
                *next_id += 1;
                RunRecord::from_shell(RunId(*next_id), &self.scenario_name, r)
            })
            .collect();
        if !entry_done.text.is_empty() || !runs.is_empty() {
            self.terminal.push(TermEntry {
                prompt: String::new(),
                input: String::new(),
                output: Some(entry_done.text),
                status: 0,
                runs: runs.iter().map(|r| r.id).collect(),
            });
        }
        self.world = done.world;
        self.scenario = done.scenario;
        self.now = done.now;
        runs
    }

    fn lose_worker(&mut self) {
        if self.worker_lost {
            return;
        }
        self.worker_lost = true;
        if let Some(entry) = self.pending.take().and_then(|i| self.terminal.get_mut(i)) {
            entry.output = Some(
                "migralab: the lab stopped unexpectedly; reopen the scenario to continue\n".into(),
            );
            entry.status = 1;
        }
    }
}

/// The last line that started a migration, with the shell from before it: the worker replays
/// it to act at a shown lab time.
struct Rewind {
    before: Shell,
    line: String,
    /// Lines typed during its playback, at their lab times (in order).
    typed: Vec<(SimTime, String)>,
}

/// Replay `rw` on a copy of the shell from before its line: the typed lines at their times, then
/// Ctrl-C at `ctrl_c` if given, then the rest. Returns the shell and the entries' results (the
/// line's first). A time earlier than one already acted at (the student moved the playback
/// back) acts at that later time: the lab's clock never runs backwards.
fn replay(rw: &Rewind, ctrl_c: Option<SimTime>) -> (Shell, Vec<EntryDone>) {
    let mut shell = rw.before.clone();
    let first_stop = rw.typed.first().map(|(t, _)| *t).or(ctrl_c);
    let out = match first_stop {
        Some(t) => shell.run_line_until(&rw.line, t),
        None => shell.run_line(&rw.line),
    };
    let mut line = EntryDone {
        text: out.text,
        status: out.status,
        runs: Vec::new(),
    };
    let mut typed = Vec::new();
    // Runs that started before a typed line's time belong to the rewound line.
    let mut starts = Vec::new();
    for (k, (t, text)) in rw.typed.iter().enumerate() {
        if k > 0 && shell.is_parked() {
            line.text.push_str(&shell.resume_until(*t).text);
        }
        shell.set_typing_time(SimDuration::ZERO);
        let o = shell.run_line(text);
        shell.set_typing_time(Shell::TYPING_TIME);
        starts.push(*t);
        typed.push(EntryDone {
            text: o.text,
            status: o.status,
            runs: Vec::new(),
        });
    }
    if let Some(t) = ctrl_c
        && shell.is_parked()
    {
        line.text.push_str(&shell.resume_until(t).text);
    }
    if shell.is_parked() {
        let o = if ctrl_c.is_some() {
            shell.interrupt()
        } else {
            shell.resume()
        };
        line.text.push_str(&o.text);
        line.status = o.status;
    }
    while let Some(run) = shell.poll_run() {
        let owner = starts.iter().rposition(|&t| run.started >= t);
        match owner.and_then(|k| typed.get_mut(k)) {
            Some(entry) => entry.runs.push(run),
            None => line.runs.push(run),
        }
    }
    let mut entries = vec![line];
    entries.extend(typed);
    (shell, entries)
}

fn worker(mut shell: Shell, rx: Receiver<ToWorker>, tx: Sender<LineDone>, waker: Waker) {
    let mut rewind: Option<Rewind> = None;
    for msg in rx {
        let mut advanced = false;
        let (entries, rewindable) = match msg {
            ToWorker::Lang(lang) => {
                shell.set_lang(lang);
                if let Some(rw) = &mut rewind {
                    rw.before.set_lang(lang);
                }
                continue;
            }
            ToWorker::Line(line) => {
                let before = shell.clone();
                let out = shell.run_line(&line);
                let runs: Vec<ShellRun> = std::iter::from_fn(|| shell.poll_run()).collect();
                rewind = (!runs.is_empty()).then_some(Rewind {
                    before,
                    line,
                    typed: Vec::new(),
                });
                let entry = EntryDone {
                    text: out.text,
                    status: out.status,
                    runs,
                };
                (vec![entry], rewind.is_some())
            }
            ToWorker::LineAt { line, at } => match &mut rewind {
                Some(rw) => {
                    rw.typed.push((at, line));
                    let (replayed, entries) = replay(rw, None);
                    shell = replayed;
                    (entries, true)
                }
                None => {
                    // The app only sends it with a rewindable line; answer as a plain line.
                    let out = shell.run_line(&line);
                    let runs = std::iter::from_fn(|| shell.poll_run()).collect();
                    let entry = EntryDone {
                        text: out.text,
                        status: out.status,
                        runs,
                    };
                    (vec![entry], false)
                }
            },
            ToWorker::Interrupt { at } => match rewind.take() {
                Some(rw) => {
                    let (replayed, entries) = replay(&rw, Some(at));
                    shell = replayed;
                    (entries, false)
                }
                None => (Vec::new(), false),
            },
            ToWorker::Advance(d) => {
                rewind = None;
                let text = shell.advance(d);
                let runs = std::iter::from_fn(|| shell.poll_run()).collect();
                advanced = true;
                let entry = EntryDone {
                    text,
                    status: 0,
                    runs,
                };
                (vec![entry], false)
            }
        };
        let done = LineDone {
            entries,
            rewindable,
            advanced,
            jobs_running: shell.has_running_jobs(),
            prompt: shell.prompt(),
            scenario: shell.simulator().scenario().clone(),
            world: shell.simulator().world().clone(),
            now: shell.now(),
            history: shell.history().to_vec(),
        };
        if tx.send(done).is_err() {
            return;
        }
        waker();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn open(name: &str) -> LabSession {
        let scenario = crate::scenarios::load(Some(std::path::Path::new(name)), &[]).unwrap();
        LabSession::open(name, scenario, Lang::En, Box::new(|| {}))
    }

    fn run(s: &mut LabSession, line: &str, next: &mut u32) -> Vec<RunRecord> {
        assert!(s.submit_line(line));
        assert!(s.is_busy());
        let runs = s.wait(next, Duration::from_secs(60));
        assert!(!s.is_busy(), "the line finished");
        runs
    }

    #[test]
    fn a_migration_typed_in_the_terminal_becomes_a_run_and_moves_the_guest() {
        let mut s = open("lesson");
        let mut next = 0;
        assert_eq!(s.world().running_on("db01"), Some("kvm-host-01"));
        let runs = run(
            &mut s,
            "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent",
            &mut next,
        );
        assert_eq!(runs.len(), 1);
        let r = &runs[0];
        assert_eq!(
            (r.id, r.vm.as_str(), r.from.as_str()),
            (RunId(1), "db01", "kvm-host-01")
        );
        assert!(r.outcome().is_some_and(|o| o.is_completed()));
        assert!(!r.series.memory_remaining_mib.is_empty());
        assert_eq!(s.world().running_on("db01"), Some("kvm-host-02"));
        let entry = s.terminal().last().unwrap();
        assert_eq!(entry.runs, vec![RunId(1)]);
        assert_eq!(entry.status, 0);
        assert_eq!(s.history().len(), 1);
    }

    const BUSY_MIGRATE: &str = "virsh migrate --live --verbose db01 qemu+ssh://kvm-host-02/system";

    fn lab_time(r: &RunRecord, cursor_s: f64) -> SimTime {
        SimTime::ZERO + SimDuration::from_ms_f64(r.series.t0_ms + cursor_s * 1000.0)
    }

    #[test]
    fn ctrl_c_during_playback_cancels_the_run_at_the_shown_time_and_keeps_its_id() {
        let mut s = open("busy-db-no-converge");
        let mut next = 0;
        let runs = run(&mut s, BUSY_MIGRATE, &mut next);
        let first = &runs[0];
        assert_eq!(first.outcome().map(Outcome::status), Some("not-converged"));
        assert_eq!(s.rewindable_runs(), &[first.id]);
        assert!(s.interrupt_at(lab_time(first, 20.0)));
        let replaced = s.wait(&mut next, Duration::from_secs(60));
        assert_eq!(replaced.len(), 1);
        let r = &replaced[0];
        assert_eq!(r.id, first.id, "the played run is replaced, not added");
        let Some(Outcome::Aborted { at_ms }) = r.outcome() else {
            panic!("{:?}", r.outcome());
        };
        let t0 = r.series.t0_ms as u64;
        assert!(
            (t0 + 20_000..t0 + 20_100).contains(at_ms),
            "{at_ms} vs {t0}"
        );
        assert!(
            r.series.end_s < first.series.end_s / 2.0,
            "the plots stop there"
        );
        let entry = s.terminal().last().unwrap();
        assert_eq!(entry.runs, vec![first.id]);
        let out = entry.output.clone().unwrap();
        assert!(
            out.ends_with("^C\nerror: operation aborted: job 'migration out' canceled by client\n"),
            "{out}"
        );
        assert!(s.rewindable_runs().is_empty(), "nothing left to interrupt");
        assert!(!s.interrupt_at(lab_time(first, 30.0)));
        assert_eq!(s.world().running_on("db01"), Some("kvm-host-01"));
        run(&mut s, "virsh list", &mut next);
        let list = s.terminal().last().unwrap().output.clone().unwrap();
        assert!(list.contains("db01") && list.contains("running"), "{list}");
        run(&mut s, "virsh domjobinfo db01 --completed", &mut next);
        let info = s.terminal().last().unwrap().output.clone().unwrap();
        // libvirt keeps no statistics of a cancelled migration (the lab in a box).
        assert!(info.starts_with("Job type:         None"), "{info}");
    }

    #[test]
    fn lines_typed_during_playback_run_at_the_shown_time_as_in_a_second_terminal() {
        let mut s = open("busy-db-no-converge");
        let mut next = 0;
        let runs = run(&mut s, BUSY_MIGRATE, &mut next);
        let first = runs[0].clone();
        assert!(s.submit_line_at("virsh domjobinfo db01", lab_time(&first, 15.0)));
        let after_info = s.wait(&mut next, Duration::from_secs(60));
        let info = s.terminal().last().unwrap().output.clone().unwrap();
        assert!(info.starts_with("Job type:         Unbounded"), "{info}");
        assert!(info.contains("Time elapsed:     15"), "{info}");
        assert_eq!(after_info.len(), 1, "the migration's run comes again");
        assert_eq!(after_info[0].id, first.id);
        assert_eq!(
            after_info[0].outcome().map(Outcome::status),
            Some("not-converged"),
            "a look does not change the run"
        );
        assert!(s.submit_line_at("virsh domjobabort db01", lab_time(&first, 25.0)));
        let after_abort = s.wait(&mut next, Duration::from_secs(60));
        assert_eq!(after_abort[0].id, first.id);
        let Some(Outcome::Aborted { at_ms }) = after_abort[0].outcome() else {
            panic!("{:?}", after_abort[0].outcome());
        };
        assert!((25_000..25_100).contains(at_ms), "{at_ms}");
        let n = s.terminal().len();
        let migrate_out = s.terminal()[n - 3].output.clone().unwrap();
        assert!(
            migrate_out
                .ends_with("error: operation aborted: job 'migration out' canceled by client\n"),
            "{migrate_out}"
        );
        assert_eq!(s.terminal()[n - 1].status, 0, "domjobabort succeeded");
        assert_eq!(s.world().running_on("db01"), Some("kvm-host-01"));
    }

    #[test]
    fn ctrl_c_after_a_line_typed_during_playback_replays_both_at_their_times() {
        let mut s = open("busy-db-no-converge");
        let mut next = 0;
        let first = run(&mut s, BUSY_MIGRATE, &mut next)[0].clone();
        assert!(s.submit_line_at("virsh domjobinfo db01", lab_time(&first, 10.0)));
        s.wait(&mut next, Duration::from_secs(60));
        assert!(s.interrupt_at(lab_time(&first, 25.0)));
        let replaced = s.wait(&mut next, Duration::from_secs(60));
        assert_eq!(replaced.len(), 1);
        assert!(matches!(
            replaced[0].outcome(),
            Some(Outcome::Aborted { at_ms }) if (25_000..25_100).contains(at_ms)
        ));
        let info = s.terminal()[1].output.clone().unwrap();
        assert!(
            info.contains("Time elapsed:     10"),
            "still its own time: {info}"
        );
        assert!(s.terminal()[0].output.clone().unwrap().contains("^C\n"));
        // The progress lines virsh printed before Ctrl-C are all there, up to 25 s.
        let progress = s.terminal()[0]
            .output
            .clone()
            .unwrap()
            .matches("Migration: [")
            .count();
        assert!((20..=26).contains(&progress), "{progress}");
    }

    #[test]
    fn background_jobs_run_in_lab_time_while_nothing_is_typed() {
        let mut s = open("busy-db-no-converge");
        let mut next = 0;
        assert!(!s.advance(SimDuration::from_secs(5)), "nothing runs");
        assert!(run(&mut s, &format!("{BUSY_MIGRATE} &"), &mut next).is_empty());
        assert!(s.jobs_running());
        let start = s.now();
        assert!(s.advance(SimDuration::from_secs(10)));
        assert!(!s.advance(SimDuration::from_secs(10)), "one at a time");
        assert!(s.wait(&mut next, Duration::from_secs(60)).is_empty());
        assert_eq!(s.now(), start + SimDuration::from_secs(10));
        let shown = s.terminal().last().unwrap();
        assert!(shown.is_output_only());
        assert!(
            shown.output.as_deref().unwrap().contains("Migration: ["),
            "{shown:?}"
        );
        let runs = run(&mut s, "virsh domjobabort db01", &mut next);
        assert_eq!(runs.len(), 1);
        assert!(
            !runs[0].foreground,
            "nothing for Ctrl-C during its playback"
        );
        assert!(matches!(
            runs[0].outcome(),
            Some(Outcome::Aborted { at_ms }) if (11_000..11_100).contains(at_ms)
        ));
        assert!(!s.jobs_running());
        assert!(!s.advance(SimDuration::from_secs(1)));
    }

    #[test]
    fn a_second_line_waits_for_the_first() {
        let mut s = open("lesson");
        assert!(s.submit_line("sleep 1"));
        assert!(!s.submit_line("virsh list"), "refused while busy");
        let mut next = 0;
        s.wait(&mut next, Duration::from_secs(60));
        assert!(s.submit_line("virsh list"));
        s.wait(&mut next, Duration::from_secs(60));
        let out = s.terminal().last().unwrap().output.clone().unwrap();
        assert!(out.contains("db01"), "{out}");
    }

    #[test]
    fn clear_empties_the_scrollback() {
        let mut s = open("lesson");
        let mut next = 0;
        run(&mut s, "virsh list", &mut next);
        assert!(s.submit_line("clear"));
        assert!(s.terminal().is_empty());
    }

    #[test]
    fn playback_moves_with_the_speed_and_steps_by_iteration() {
        let mut s = open("lesson");
        let mut next = 0;
        let runs = run(
            &mut s,
            "virsh migrate --live db01 qemu+ssh://kvm-host-02/system",
            &mut next,
        );
        let r = &runs[0];
        let end = r.span_end_s();
        let mut p = Playback {
            run: r.id,
            cursor_s: 0.0,
            paused: false,
        };
        p.tick(0.5, Speed::RealTime, end);
        assert!((p.cursor_s - 0.5).abs() < 1e-9);
        p.tick(0.1, Speed::X10, end);
        assert!((p.cursor_s - 1.5).abs() < 1e-9);
        assert!(!p.is_done(end));
        p.step_iteration(&r.series, end);
        assert!(p.paused);
        let first_after = r.series.iterations.iter().find(|&&t| t > 1.5).copied();
        assert_eq!(Some(p.cursor_s), first_after.or(Some(end)));
        p.tick(10.0, Speed::X100, end);
        assert!(!p.is_done(end) || first_after.is_none(), "paused stays put");
        p.paused = false;
        p.tick(0.0, Speed::Instant, end);
        assert!(p.is_done(end));
    }
}
