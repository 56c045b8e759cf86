//! Runs the shell leaves behind: every `virsh migrate` typed becomes a [`ShellRun`] with its own
//! [`Trace`], so the desktop app can plot, replay, compare and export what the student did
//! exactly as it does for a scenario run.
//!
//! The shell's own `ping` replaces the scenario's background prober while the student types, so
//! the ping timeline of a run is rebuilt afterwards from the migration's outages: a probe every
//! `[prober].interval_ms` from a second before the migration until `[prober].tail_ms` after it.
//! That is the same [`ProbeTracker`] the simulator uses, fed the same outages.

use super::Shell;
use migralab_sim_core::error::LabError;
use migralab_sim_core::ping::ProbeTracker;
use migralab_sim_core::scenario::MigrationSpec;
use migralab_sim_core::time::{SimDuration, SimTime};
use migralab_sim_core::trace::{Outcome, Trace, TraceEvent, TraceKind};

/// Pings start this long before the migration, so the plot shows the normal round trip first.
const PING_LEAD: SimDuration = SimDuration::from_secs(1);

/// One `virsh migrate` the student ran in the shell, finished.
#[derive(Debug, Clone, PartialEq)]
pub struct ShellRun {
    /// The line as typed (for a job, as `jobs` shows it).
    pub command: String,
    /// What virsh was asked to do.
    pub spec: MigrationSpec,
    /// The host the guest ran on when the command started.
    pub from: String,
    /// Lab time the command started.
    pub started: SimTime,
    /// Lab time the job ended.
    pub ended: SimTime,
    /// virsh ran in the foreground (Ctrl-C in its terminal reaches it), not as a `&` job.
    pub foreground: bool,
    /// Every event of this migration (lab time, not rebased) and the probes around it.
    pub trace: Trace,
}

impl ShellRun {
    /// How the migration ended (a refused command ends as `Failed` at once).
    pub fn outcome(&self) -> Option<&Outcome> {
        self.trace.outcomes().map(|(_, o)| o).next()
    }
}

impl Shell {
    /// The next finished migration run, oldest first. Each is returned once.
    pub fn poll_run(&mut self) -> Option<ShellRun> {
        self.finished_runs.pop_front()
    }

    /// Keep an event of the simulator for the run it belongs to.
    pub(super) fn record_event(&mut self, ev: TraceEvent) {
        if ev.source != "prober" {
            self.recorded.push(ev);
        }
    }

    /// A migration job ended: package its events and the probes around it as a run.
    pub(super) fn record_finished_job(&mut self, slot: usize) {
        let Some(job) = self.jobs.get(slot) else {
            return;
        };
        let Some(w) = job.migration() else {
            return;
        };
        let Some(m) = self.sim.migrations().get(w.mig) else {
            return;
        };
        let vm = w.spec.vm.clone();
        let command = job.command.clone();
        let spec = w.spec.clone();
        let mig = w.mig;
        let started = job.started;
        let foreground = job.id == 0;
        let ended = m.finished_at().unwrap_or(self.sim.now());
        let from = m.source_host().to_string();
        let outages = m.outages().to_vec();
        let t_start = started.as_ms_f64();
        let mut events: Vec<TraceEvent> = self
            .recorded
            .iter()
            .filter(|e| e.source == vm && e.t_ms >= t_start)
            .cloned()
            .collect();
        events.extend(self.probes_around(&vm, started, ended, &outages));
        let run = ShellRun {
            command,
            spec,
            from,
            started,
            ended,
            foreground,
            trace: self.sim.trace_of(events),
        };
        self.finished_runs.push_back(run);
        // Nothing older than the oldest running job is needed any more.
        let oldest = self
            .jobs
            .iter()
            .filter(|j| !j.finished && j.migration().is_some_and(|w| w.mig != mig))
            .map(|j| j.started.as_ms_f64())
            .fold(f64::INFINITY, f64::min);
        self.recorded.retain(|e| e.t_ms >= oldest);
    }

    /// libvirt refused the command before any job started: a run that failed at once.
    pub(super) fn record_refused(&mut self, command: &str, spec: &MigrationSpec, error: &LabError) {
        let now = self.sim.now();
        let from = self
            .sim
            .world()
            .running_on(&spec.vm)
            .unwrap_or_default()
            .to_string();
        let event = TraceEvent {
            t_ms: now.as_ms_f64(),
            source: spec.vm.clone(),
            kind: TraceKind::Finished(Outcome::Failed {
                error: error.clone(),
                at_ms: now.as_ms_f64() as u64,
            }),
        };
        let run = ShellRun {
            command: command.to_string(),
            spec: spec.clone(),
            from,
            started: now,
            ended: now,
            // Refused before any job: nothing for Ctrl-C to reach.
            foreground: false,
            trace: self.sim.trace_of(vec![event]),
        };
        self.finished_runs.push_back(run);
    }

    /// The background prober's view of `vm` from just before `started` to the tail after `ended`.
    fn probes_around(
        &mut self,
        vm: &str,
        started: SimTime,
        ended: SimTime,
        outages: &[(SimTime, Option<SimTime>)],
    ) -> Vec<TraceEvent> {
        let spec = self.sim.scenario().prober.clone();
        let from = SimTime(started.0.saturating_sub(PING_LEAD.0));
        let stop = ended + SimDuration::from_ms_f64(spec.tail_ms);
        let mut tracker =
            ProbeTracker::new(&spec, vm.to_string(), self.seeds.derive()).starting_at(from);
        // Every probe sent before `stop` is resolved once it can have arrived.
        let horizon = stop + SimDuration::from_secs(1);
        tracker
            .poll(horizon, stop, outages)
            .into_iter()
            .map(|s| TraceEvent {
                t_ms: s.sent_ms,
                source: "prober".into(),
                kind: TraceKind::Ping(s),
            })
            .collect()
    }
}
