//! One migrated VM's run as plot-ready series: what the GUI's live plots and the exported figures
//! both draw, so a saved figure shows the same data as the screen.
//!
//! Invariants:
//! - **x is seconds since `t0_ms`**, the VM's first event. A trace from the lab shell carries
//!   absolute lab times; subtracting the VM's own start makes runs comparable. Pings sent before
//!   t0 keep their negative x.
//! - **Pure.** Built from trace events only; no I/O, no clock. [`RunSeries::cut_at`] gives the run
//!   as seen at a playback time, so live playback is the finished run cut short.

use migralab_sim_core::units::{MIB, PAGE_SIZE};
use migralab_sim_core::{Outcome, Phase, Trace, TraceEvent, TraceKind};

/// Source name of the ping prober's events.
const PROBER: &str = "prober";

/// One ping probe to the VM.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PingPoint {
    /// When the probe was sent, seconds since t0 (negative if sent before the VM's first event).
    pub t_s: f64,
    /// Round-trip time, ms; `None` when no reply came back.
    pub rtt_ms: Option<f64>,
}

/// A migrated VM's run, as series of `[x, y]` points (x in seconds since `t0_ms`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSeries {
    /// The VM.
    pub vm: String,
    /// Trace time of the VM's first event, ms; every x is seconds since this.
    pub t0_ms: f64,
    /// Time of the last event of the VM (or of a ping to it, if later), seconds since t0.
    pub end_s: f64,
    /// "Memory remaining" of each progress sample, MiB.
    pub memory_remaining_mib: Vec<[f64; 2]>,
    /// x of every dirty-bitmap sync: the iteration boundaries.
    pub iterations: Vec<f64>,
    /// Memory bandwidth of each progress sample, MiB/s.
    pub send_rate_mibps: Vec<[f64; 2]>,
    /// Guest dirty rate of each progress sample, MiB/s (pages × 4096 bytes).
    pub dirty_rate_mibps: Vec<[f64; 2]>,
    /// Disk processed / disk total × 100 of each sample; empty when no disk is copied. It can pass
    /// 100: the block mirror re-sends blocks the guest writes while the copy runs.
    pub disk_percent: Vec<[f64; 2]>,
    /// Ping probes whose target is this VM, in the order sent.
    pub pings: Vec<PingPoint>,
    /// When the guest was paused: from entering stop-and-copy (or being suspended by `--timeout`)
    /// to running again (post-copy switchover or done). The end is `end_s` while it is still paused.
    pub downtime_s: Option<(f64, f64)>,
    /// Each phase entered, with its x.
    pub phases: Vec<(f64, Phase)>,
    /// Overall percent done: data processed / (processed + remaining) × 100. It goes down when the
    /// guest dirties pages faster than they are sent.
    pub progress: Vec<[f64; 2]>,
    /// How the migration ended, if it has.
    pub outcome: Option<Outcome>,
    /// x of the event carrying `outcome`, so that [`RunSeries::cut_at`] knows when it is reached.
    pub finished_s: Option<f64>,
}

impl RunSeries {
    /// The series of `vm` from a run's events (in trace order). Events of other VMs are ignored;
    /// pings count when `source` is the prober and the target is `vm`. A VM migrated twice (in the
    /// lab shell) keeps its first pause as `downtime_s` and its last outcome.
    pub fn from_events<'a>(
        vm: &str,
        events: impl IntoIterator<Item = &'a TraceEvent>,
    ) -> RunSeries {
        let events: Vec<&TraceEvent> = events
            .into_iter()
            .filter(|e| e.source == vm || is_ping_to(e, vm))
            .collect();
        let t0_ms = events
            .iter()
            .find(|e| e.source == vm)
            .map_or(0.0, |e| e.t_ms);
        let x = |t_ms: f64| (t_ms - t0_ms) / 1000.0;
        let mut s = RunSeries {
            vm: vm.to_string(),
            t0_ms,
            ..RunSeries::default()
        };
        let mut end_s: Option<f64> = None;
        let mut paused_at: Option<f64> = None;
        for e in &events {
            let t = x(e.t_ms);
            end_s = Some(end_s.map_or(t, |m| m.max(t)));
            match &e.kind {
                TraceKind::Phase { phase } => {
                    s.phases.push((t, *phase));
                    match phase {
                        Phase::StopAndCopy | Phase::Suspended => {
                            if s.downtime_s.is_none() {
                                paused_at.get_or_insert(t);
                            }
                        }
                        Phase::Postcopy | Phase::Done => {
                            if let Some(p) = paused_at.take() {
                                s.downtime_s = Some((p, t));
                            }
                        }
                        Phase::Setup | Phase::StorageCopy | Phase::Precopy | Phase::Resume => {}
                    }
                }
                TraceKind::Progress(p) => {
                    let mib = MIB as f64;
                    s.memory_remaining_mib
                        .push([t, p.memory_remaining as f64 / mib]);
                    s.send_rate_mibps.push([t, p.memory_bps / mib]);
                    s.dirty_rate_mibps
                        .push([t, (p.dirty_rate_pps * PAGE_SIZE) as f64 / mib]);
                    if p.disk_total > 0 {
                        s.disk_percent
                            .push([t, p.disk_processed as f64 * 100.0 / p.disk_total as f64]);
                    }
                    let done = p.data_processed() as f64;
                    let whole = done + p.data_remaining() as f64;
                    let pct = if whole > 0.0 {
                        done * 100.0 / whole
                    } else {
                        0.0
                    };
                    s.progress.push([t, pct]);
                }
                TraceKind::Sync(_) => s.iterations.push(t),
                TraceKind::Ping(p) => s.pings.push(PingPoint {
                    t_s: x(p.sent_ms),
                    rtt_ms: p.rtt_ms,
                }),
                TraceKind::Log { .. } => {}
                TraceKind::Finished(o) => {
                    s.outcome = Some(o.clone());
                    s.finished_s = Some(t);
                }
            }
        }
        s.end_s = end_s.unwrap_or(0.0);
        if let Some(p) = paused_at {
            // Still paused at the end of what we have (a live trace): the span runs to the end.
            s.downtime_s = Some((p, s.end_s));
        }
        s
    }

    /// One series per migrated VM of `trace` (a VM with phase, progress, sync or outcome events),
    /// in the order the VMs first appear.
    pub fn of_trace(trace: &Trace) -> Vec<RunSeries> {
        let mut vms: Vec<&str> = Vec::new();
        for e in &trace.events {
            let migration_event = matches!(
                e.kind,
                TraceKind::Phase { .. }
                    | TraceKind::Progress(_)
                    | TraceKind::Sync(_)
                    | TraceKind::Finished(_)
            );
            if migration_event && e.source != PROBER && !vms.contains(&e.source.as_str()) {
                vms.push(&e.source);
            }
        }
        vms.into_iter()
            .map(|vm| RunSeries::from_events(vm, &trace.events))
            .collect()
    }

    /// Probes to this VM that got no reply.
    pub fn lost_pings(&self) -> usize {
        self.pings.iter().filter(|p| p.rtt_ms.is_none()).count()
    }

    /// The run as seen at playback time `t_s` (seconds since t0): every point after `t_s` dropped,
    /// the pause cut at `t_s`, and no outcome until it is reached.
    pub fn cut_at(&self, t_s: f64) -> RunSeries {
        let points = |v: &[[f64; 2]]| -> Vec<[f64; 2]> {
            v.iter().copied().filter(|p| p[0] <= t_s).collect()
        };
        let reached = self.finished_s.is_some_and(|f| f <= t_s);
        RunSeries {
            vm: self.vm.clone(),
            t0_ms: self.t0_ms,
            end_s: self.end_s.min(t_s),
            memory_remaining_mib: points(&self.memory_remaining_mib),
            iterations: self
                .iterations
                .iter()
                .copied()
                .filter(|x| *x <= t_s)
                .collect(),
            send_rate_mibps: points(&self.send_rate_mibps),
            dirty_rate_mibps: points(&self.dirty_rate_mibps),
            disk_percent: points(&self.disk_percent),
            pings: self
                .pings
                .iter()
                .copied()
                .filter(|p| p.t_s <= t_s)
                .collect(),
            downtime_s: self
                .downtime_s
                .filter(|(start, _)| *start <= t_s)
                .map(|(start, end)| (start, end.min(t_s))),
            phases: self
                .phases
                .iter()
                .copied()
                .filter(|(x, _)| *x <= t_s)
                .collect(),
            progress: points(&self.progress),
            outcome: if reached { self.outcome.clone() } else { None },
            finished_s: self.finished_s.filter(|_| reached),
        }
    }
}

fn is_ping_to(e: &TraceEvent, vm: &str) -> bool {
    matches!(&e.kind, TraceKind::Ping(p) if e.source == PROBER && p.target == vm)
}

/// At most about four points per column of `columns` over `x`: the first, lowest, highest and
/// last point of each column, in order, so the drawn line keeps every peak and trough.
pub fn thin(points: &[[f64; 2]], x: &std::ops::Range<f64>, columns: usize) -> Vec<[f64; 2]> {
    let all = || points.to_vec();
    let width = x.end - x.start;
    if points.len() <= 4 * columns || width.is_nan() || width <= 0.0 {
        return all();
    }
    let column = |p: &[f64; 2]| (((p[0] - x.start) / width) * columns as f64).floor() as i64;
    let mut out = Vec::with_capacity(4 * columns);
    let mut i = 0;
    while i < points.len() {
        let c = column(&points[i]);
        let mut j = i;
        while j < points.len() && column(&points[j]) == c {
            j += 1;
        }
        let group = &points[i..j];
        let (mut lo, mut hi) = (0, 0);
        for (k, p) in group.iter().enumerate() {
            if p[1] < group[lo][1] {
                lo = k;
            }
            if p[1] > group[hi][1] {
                hi = k;
            }
        }
        let mut keep = [0, lo, hi, group.len() - 1];
        keep.sort_unstable();
        let mut last = None;
        for k in keep {
            if last != Some(k) {
                out.push(group[k]);
                last = Some(k);
            }
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use migralab_sim_core::{MigrationSample, PingSample, Simulator, trace::SyncRecord};
    use std::path::Path;

    fn ev(t_ms: f64, source: &str, kind: TraceKind) -> TraceEvent {
        TraceEvent {
            t_ms,
            source: source.to_string(),
            kind,
        }
    }

    fn phase(t_ms: f64, vm: &str, phase: Phase) -> TraceEvent {
        ev(t_ms, vm, TraceKind::Phase { phase })
    }

    fn ping(t_ms: f64, seq: u64, target: &str, rtt_ms: Option<f64>) -> TraceEvent {
        ev(
            t_ms,
            PROBER,
            TraceKind::Ping(PingSample {
                seq,
                target: target.to_string(),
                sent_ms: t_ms,
                rtt_ms,
            }),
        )
    }

    fn sync(t_ms: f64, vm: &str, iteration: u64) -> TraceEvent {
        ev(
            t_ms,
            vm,
            TraceKind::Sync(SyncRecord {
                iteration,
                new_dirty_pages: 0,
                remaining_bytes: 0,
                threshold_bytes: 0,
                throttle_pct: 0,
            }),
        )
    }

    fn completed() -> Outcome {
        Outcome::Completed {
            total_ms: 3000,
            downtime_ms: 200,
            memory_bytes: 0,
            disk_bytes: 0,
            iterations: 2,
        }
    }

    /// A run of `db01` in absolute lab time (starting at 10 s), with `web01` and pings around it.
    fn lab_run() -> Vec<TraceEvent> {
        let sample = MigrationSample {
            memory_total: 4 * MIB,
            memory_processed: 3 * MIB,
            memory_remaining: MIB,
            disk_total: 8 * MIB,
            disk_processed: 2 * MIB,
            disk_remaining: 6 * MIB,
            memory_bps: 2.0 * MIB as f64,
            dirty_rate_pps: 256,
            ..MigrationSample::default()
        };
        vec![
            ping(9_500.0, 1, "db01", Some(0.5)),
            phase(10_000.0, "db01", Phase::Setup),
            phase(10_000.0, "web01", Phase::Setup),
            phase(10_030.0, "db01", Phase::Precopy),
            ev(10_100.0, "db01", TraceKind::Progress(sample)),
            sync(11_000.0, "db01", 2),
            ping(11_500.0, 2, "db01", None),
            ping(11_500.0, 1, "web01", None),
            phase(12_000.0, "db01", Phase::StopAndCopy),
            phase(12_150.0, "db01", Phase::Resume),
            phase(12_200.0, "db01", Phase::Done),
            ev(12_200.0, "db01", TraceKind::Finished(completed())),
            ping(12_500.0, 3, "db01", Some(0.4)),
        ]
    }

    #[test]
    fn hand_built_run_in_lab_time_starts_at_the_vms_first_event() {
        let s = RunSeries::from_events("db01", &lab_run());
        assert_eq!(s.t0_ms, 10_000.0);
        assert_eq!(s.end_s, 2.5, "the last ping to db01 is the last event");
        assert_eq!(
            s.pings.first().unwrap().t_s,
            -0.5,
            "sent before t0: negative x"
        );
        assert_eq!(s.pings.len(), 3, "the ping to web01 is not db01's");
        assert_eq!(s.lost_pings(), 1);
        assert_eq!(s.iterations, vec![1.0]);
        assert_eq!(s.memory_remaining_mib, vec![[0.1, 1.0]]);
        assert_eq!(s.send_rate_mibps, vec![[0.1, 2.0]]);
        assert_eq!(
            s.dirty_rate_mibps,
            vec![[0.1, 1.0]],
            "256 pages × 4 KiB = 1 MiB"
        );
        assert_eq!(s.disk_percent, vec![[0.1, 25.0]]);
        // (3 + 2) processed of (3 + 2) + (1 + 6): 5/12.
        assert!((s.progress[0][1] - 500.0 / 12.0).abs() < 1e-9);
        let (start, end) = s.downtime_s.unwrap();
        assert!((start - 2.0).abs() < 1e-9 && (end - 2.2).abs() < 1e-9);
        assert_eq!(s.phases.len(), 5);
        assert_eq!(s.outcome, Some(completed()));
    }

    #[test]
    fn of_trace_gives_one_series_per_migrated_vm_in_order() {
        let trace = Trace {
            format: 1,
            backend: "sim".into(),
            seed: 1,
            scenario: serde_json::Value::Null,
            events: lab_run(),
        };
        let vms: Vec<String> = RunSeries::of_trace(&trace)
            .into_iter()
            .map(|s| s.vm)
            .collect();
        assert_eq!(vms, ["db01", "web01"]);
    }

    #[test]
    fn no_disk_copy_means_no_disk_series() {
        let events = [ev(
            0.0,
            "db01",
            TraceKind::Progress(MigrationSample {
                memory_total: MIB,
                memory_remaining: MIB,
                ..MigrationSample::default()
            }),
        )];
        let s = RunSeries::from_events("db01", &events);
        assert!(s.disk_percent.is_empty());
        assert_eq!(s.progress, vec![[0.0, 0.0]]);
    }

    #[test]
    fn postcopy_switchover_ends_the_pause_and_a_live_pause_runs_to_the_end() {
        let events = [
            phase(0.0, "db01", Phase::Precopy),
            phase(1_000.0, "db01", Phase::StopAndCopy),
            phase(1_010.0, "db01", Phase::Resume),
            phase(1_030.0, "db01", Phase::Postcopy),
            phase(5_000.0, "db01", Phase::Done),
        ];
        let s = RunSeries::from_events("db01", &events);
        assert_eq!(s.downtime_s, Some((1.0, 1.03)));
        // Seen live, before the switchover: still paused up to the last event.
        let live = RunSeries::from_events("db01", &events[..3]);
        assert_eq!(live.downtime_s, Some((1.0, 1.01)));
    }

    #[test]
    fn cut_at_shows_the_run_as_it_was_at_that_moment() {
        let s = RunSeries::from_events("db01", &lab_run());
        let mid = s.cut_at(2.17);
        assert_eq!(mid.downtime_s, Some((2.0, 2.17)));
        assert_eq!(mid.outcome, None);
        assert_eq!(mid.pings.len(), 2);
        assert_eq!(mid.end_s, 2.17);
        assert_eq!(mid.phases.last().unwrap().1, Phase::Resume);
        let before = s.cut_at(0.05);
        assert!(before.memory_remaining_mib.is_empty() && before.downtime_s.is_none());
        assert_eq!(
            s.cut_at(f64::INFINITY),
            s,
            "cutting after the end keeps everything"
        );
    }

    #[test]
    fn shaded_pause_is_libvirts_downtime_in_every_shipped_run() {
        for name in [
            "lesson",
            "busy-db-postcopy",
            "busy-db-auto-converge",
            "maintenance-evacuate",
        ] {
            let scenario = crate::scenarios::load(Some(Path::new(name)), &[]).unwrap();
            for s in RunSeries::of_trace(&Simulator::run(scenario)) {
                let Some(Outcome::Completed { downtime_ms, .. }) = s.outcome else {
                    panic!("{name}/{}: {:?}", s.vm, s.outcome);
                };
                let (start, end) = s.downtime_s.unwrap();
                assert!(
                    ((end - start) * 1000.0 - downtime_ms as f64).abs() < 1.0,
                    "{name}/{}: {start}..{end} vs {downtime_ms} ms",
                    s.vm
                );
            }
        }
        let scenario = crate::scenarios::load(Some(Path::new("busy-db-no-converge")), &[]).unwrap();
        let runs = RunSeries::of_trace(&Simulator::run(scenario));
        assert_eq!(
            runs[0].downtime_s, None,
            "a run that never converges never pauses"
        );
        assert!(
            runs[0].progress.windows(2).any(|w| w[1][1] < w[0][1]),
            "progress goes down when dirty pages outrun the copy"
        );
    }

    #[test]
    fn simulated_run_matches_the_summary() {
        let scenario = crate::scenarios::load(Some(Path::new("exp1-no-shared-storage")), &[])
            .expect("shipped scenario");
        let trace = Simulator::run(scenario);
        let runs = RunSeries::of_trace(&trace);
        assert_eq!(runs.len(), 1);
        let s = &runs[0];
        assert_eq!(s.vm, "db01");
        let Some(Outcome::Completed {
            downtime_ms,
            iterations,
            ..
        }) = s.outcome
        else {
            panic!("expected a completed run, got {:?}", s.outcome);
        };
        let (start, end) = s.downtime_s.unwrap();
        assert!(
            ((end - start) * 1000.0 - downtime_ms as f64).abs() < 1.0,
            "shaded pause {start}..{end} vs libvirt's {downtime_ms} ms"
        );
        // The first sync only starts dirty logging; every later one is a recorded boundary.
        assert_eq!(s.iterations.len() as u64, iterations - 1);
        assert!(
            !s.disk_percent.is_empty(),
            "--copy-storage-all copies the disk"
        );
        assert!(
            s.memory_remaining_mib
                .windows(2)
                .all(|w| w[0][0] <= w[1][0])
        );
        let lost = trace.pings().filter(|p| p.rtt_ms.is_none()).count();
        assert_eq!(s.lost_pings(), lost);
        assert!(s.progress.iter().all(|p| (0.0..=100.0).contains(&p[1])));
    }
}
