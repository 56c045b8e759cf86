//! The what-if panel's model (issue 23 §4): the lab's guest and migration with the knobs a
//! student drags (`--bandwidth`, the downtime limit, the guest's dirty rate, working set and
//! RAM, `--auto-converge`, `--postcopy`), re-simulated for just the outcome, and the sweep of
//! the whole bandwidth range. No egui here: `gui::lab::whatif` draws it; the worker that runs it
//! off the UI thread is [`worker`].
//!
//! A what-if never touches the lab: it runs a copy of the lab's scenario holding one migration,
//! with the ping prober off and progress sampled rarely (neither changes what the migration
//! does; a test below proves the outcome is the full run's).

pub mod explorer;
pub mod worker;

use migralab_sim_core::scenario::{MigrationSpec, Scenario, WorkloadSpec};
use migralab_sim_core::{Outcome, Phase, Simulator, TraceKind};
use std::ops::RangeInclusive;

/// What the student sets. Whole numbers, so a set of knobs is a cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Knobs {
    /// `virsh migrate --bandwidth N` (or `virsh migrate-setspeed`), MiB/s.
    pub bandwidth_mibps: u64,
    /// `virsh migrate-setmaxdowntime`, ms.
    pub downtime_ms: u64,
    /// How fast the guest writes its working set, MiB/s (0: an idle guest).
    pub dirty_mibps: u64,
    /// The working set the guest rewrites, MiB.
    pub set_mib: u64,
    /// The guest's RAM, MiB.
    pub ram_mib: u64,
    /// `--auto-converge`.
    pub auto_converge: bool,
    /// `--postcopy --postcopy-after-precopy` (as the migrate form's switch).
    pub postcopy: bool,
}

impl Knobs {
    /// The knobs that decide the sweep: everything but the bandwidth it sweeps.
    pub fn sweep_key(&self) -> Knobs {
        Knobs {
            bandwidth_mibps: 0,
            ..*self
        }
    }
}

/// How far each slider goes. Bounded so that no combination costs more than a moment of the
/// worker's time; a combination the simulator's budget still refuses is shown as refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranges {
    /// `--bandwidth`: from 1 MiB/s to the link's speed (above it the link decides).
    pub bandwidth_mibps: RangeInclusive<u64>,
    /// Downtime limit: 10 ms to 5 s.
    pub downtime_ms: RangeInclusive<u64>,
    /// Dirty rate: up to twice the link (enough to show a guest no link can keep up with).
    pub dirty_mibps: RangeInclusive<u64>,
    /// RAM: 256 MiB to 16 GiB (or the lab's guest, if larger).
    pub ram_mib: RangeInclusive<u64>,
}

/// Smallest downtime limit offered, ms.
const MIN_DOWNTIME_MS: u64 = 10;
/// Largest downtime limit offered, ms.
const MAX_DOWNTIME_MS: u64 = 5_000;
/// Smallest RAM offered, MiB.
const MIN_RAM_MIB: u64 = 256;
/// Largest RAM offered, MiB (unless the lab's guest is larger).
const MAX_RAM_MIB: u64 = 16 * 1024;
/// Points of the bandwidth sweep.
pub const SWEEP_POINTS: usize = 16;
/// Progress samples of a what-if run, ms apart: nobody reads them, and fewer events cost less.
const WHATIF_SAMPLE_MS: u64 = 3_600_000;

/// The lab's guest and migration a what-if starts from.
#[derive(Debug, Clone)]
pub struct Base {
    scenario: Scenario,
    spec: MigrationSpec,
    vm_index: usize,
    link_mibps: u64,
    start: Knobs,
}

impl Base {
    /// The what-if of migrating `spec.vm` as `spec` says (the migrate form's command) in
    /// `scenario` (the lab as it is now); `None` when the scenario has no such guest.
    pub fn new(scenario: &Scenario, spec: &MigrationSpec) -> Option<Base> {
        let vm_index = scenario.vms.iter().position(|v| v.name == spec.vm)?;
        let vm = &scenario.vms[vm_index];
        let link_mibps = (scenario.link.bandwidth_mibps.round() as u64).max(1);
        let (set_mib, dirty) = vm.workload.set_and_rate().unwrap_or((0, 0.0));
        let mut scenario = scenario.clone();
        let mut spec = spec.clone();
        spec.start_ms = 0;
        let start = Knobs {
            bandwidth_mibps: spec.bandwidth_mibps.unwrap_or(link_mibps).min(link_mibps),
            downtime_ms: spec.downtime_limit_ms,
            dirty_mibps: dirty.round() as u64,
            set_mib: if set_mib == 0 {
                (vm.ram_mib / 32).max(1)
            } else {
                set_mib
            },
            ram_mib: vm.ram_mib,
            auto_converge: spec.auto_converge,
            postcopy: spec.postcopy,
        };
        scenario.prober.enabled = false;
        // The timeout's client polls fall on the sample interval (see `Migration::new`): keep it
        // then, so a `--timeout` run stays the lab's.
        if spec.timeout_s.is_none() {
            scenario.sim.sample_interval_ms = WHATIF_SAMPLE_MS;
        }
        let mut base = Base {
            scenario,
            spec,
            vm_index,
            link_mibps,
            start,
        };
        base.start = base.clamp(start);
        Some(base)
    }

    /// The guest's name.
    pub fn vm(&self) -> &str {
        &self.spec.vm
    }

    /// The destination host.
    pub fn to(&self) -> &str {
        &self.spec.to
    }

    /// The link's speed, MiB/s.
    pub fn link_mibps(&self) -> u64 {
        self.link_mibps
    }

    /// The knobs as the lab has them.
    pub fn start(&self) -> Knobs {
        self.start
    }

    /// How far each slider goes.
    pub fn ranges(&self) -> Ranges {
        let ram_max = MAX_RAM_MIB.max(self.scenario.vms[self.vm_index].ram_mib);
        Ranges {
            bandwidth_mibps: 1..=self.link_mibps,
            downtime_ms: MIN_DOWNTIME_MS..=MAX_DOWNTIME_MS,
            dirty_mibps: 0..=(2 * self.link_mibps).max(self.start.dirty_mibps),
            ram_mib: MIN_RAM_MIB.min(ram_max)..=ram_max,
        }
    }

    /// `k` held inside the ranges (the working set inside the RAM).
    pub fn clamp(&self, k: Knobs) -> Knobs {
        let r = self.ranges();
        let within = |v: u64, r: &RangeInclusive<u64>| v.clamp(*r.start(), *r.end());
        let ram_mib = within(k.ram_mib, &r.ram_mib);
        Knobs {
            bandwidth_mibps: within(k.bandwidth_mibps, &r.bandwidth_mibps),
            downtime_ms: within(k.downtime_ms, &r.downtime_ms),
            dirty_mibps: within(k.dirty_mibps, &r.dirty_mibps),
            set_mib: k.set_mib.clamp(1, ram_mib),
            ram_mib,
            auto_converge: k.auto_converge,
            postcopy: k.postcopy,
        }
    }

    /// The migration `k` describes, as the form would type it.
    pub fn spec_for(&self, k: &Knobs) -> MigrationSpec {
        let mut spec = self.spec.clone();
        // The form's 0 is "not given": at the link's speed, `--bandwidth` changes nothing.
        spec.bandwidth_mibps = (k.bandwidth_mibps < self.link_mibps).then_some(k.bandwidth_mibps);
        spec.downtime_limit_ms = k.downtime_ms;
        spec.auto_converge = k.auto_converge;
        spec.postcopy = k.postcopy;
        spec.postcopy_after_precopy = k.postcopy;
        spec
    }

    /// The scenario a what-if with `k` runs: the lab's, its guest changed as `k` says, with
    /// that one migration.
    pub fn scenario_for(&self, k: &Knobs) -> Scenario {
        let k = self.clamp(*k);
        let mut s = self.scenario.clone();
        let vm = &mut s.vms[self.vm_index];
        vm.ram_mib = k.ram_mib;
        // What the guest has written stays (it does not grow with the RAM), as far as it fits
        // in a smaller RAM beside the kernel's page descriptors.
        if let Some(w) = vm.written_mib {
            vm.written_mib = Some(w.min(vm.max_written_mib()));
        }
        vm.workload = match (k.dirty_mibps, &vm.workload) {
            (0, _) => WorkloadSpec::Idle,
            (rate, WorkloadSpec::Zipf { skew, .. }) => WorkloadSpec::Zipf {
                set_mib: k.set_mib,
                rate_mibps: rate as f64,
                skew: *skew,
            },
            (rate, WorkloadSpec::Scanner { .. }) => WorkloadSpec::Scanner {
                set_mib: k.set_mib,
                rate_mibps: rate as f64,
            },
            (rate, _) => WorkloadSpec::HotSet {
                set_mib: k.set_mib,
                rate_mibps: rate as f64,
            },
        };
        s.migrations = vec![self.spec_for(&k)];
        s
    }

    /// The bandwidths the sweep runs, slowest first: spread evenly on a log scale from the
    /// slider's lowest to the link (where time changes fastest, at low bandwidth, the points
    /// lie closest).
    pub fn sweep_bandwidths(&self) -> Vec<u64> {
        let r = self.ranges().bandwidth_mibps;
        let (lo, hi) = ((*r.start()).max(1) as f64, *r.end() as f64);
        let mut out: Vec<u64> = (0..SWEEP_POINTS)
            .map(|i| {
                let f = i as f64 / (SWEEP_POINTS - 1) as f64;
                (lo * (hi / lo).powf(f)).round() as u64
            })
            .collect();
        out.dedup();
        out
    }
}

/// How a what-if run ends, in the panel's words.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Pre-copy converged: the guest paused once, briefly, and the migration completed.
    Converges,
    /// Completed after switching to post-copy (the guest ran on the destination while the
    /// rest of its memory followed).
    PostCopy,
    /// The guest dirties memory faster than the link sends it: QEMU would iterate forever.
    NotConverged,
    /// Still getting somewhere when the simulator's time limit ran out.
    TimeLimit,
    /// Failed (a prerequisite of the lab's): libvirt's message.
    Failed(String),
    /// The simulator's budget refuses these values, or its meter stopped the run (its message).
    Refused(String),
}

/// What a what-if run predicts.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// How it ends.
    pub verdict: Verdict,
    /// From the command to the end, s (when it completed).
    pub total_s: Option<f64>,
    /// The guest's pause, ms (when it completed).
    pub downtime_ms: Option<u64>,
    /// Dirty-bitmap syncs (`Iteration` in `virsh domjobinfo`).
    pub iterations: Option<u64>,
}

impl Prediction {
    fn refused(message: String) -> Prediction {
        Prediction {
            verdict: Verdict::Refused(message),
            total_s: None,
            downtime_ms: None,
            iterations: None,
        }
    }

    /// Did the migration complete?
    pub fn completed(&self) -> bool {
        matches!(self.verdict, Verdict::Converges | Verdict::PostCopy)
    }
}

/// Simulated ticks between two looks at `cancelled` (about 5 s of lab time: well under a
/// millisecond of work).
const CANCEL_EVERY: u32 = 512;

/// Run the what-if `k` of `base` to the end of its migration, for just the outcome. `None` when
/// `cancelled` said so (a newer request came) before it ended.
pub fn predict(base: &Base, k: &Knobs, cancelled: &dyn Fn() -> bool) -> Option<Prediction> {
    let scenario = base.scenario_for(k);
    if let Err((path, message)) = scenario.validate() {
        return Some(Prediction::refused(format!("{path}: {message}")));
    }
    let mut sim = Simulator::new(scenario);
    let mut postcopy = false;
    let mut last_log = None;
    let mut ticks = 0u32;
    while !sim.migrations().iter().all(|m| m.is_done()) {
        sim.step();
        while let Some(e) = sim.poll_trace() {
            match e.kind {
                TraceKind::Phase {
                    phase: Phase::Postcopy,
                } => postcopy = true,
                TraceKind::Log { message } => last_log = Some(message),
                _ => {}
            }
        }
        ticks = ticks.wrapping_add(1);
        if ticks.is_multiple_of(CANCEL_EVERY) && cancelled() {
            return None;
        }
    }
    let outcome = sim.migrations().first().and_then(|m| m.outcome().cloned());
    Some(prediction_of(outcome, postcopy, last_log))
}

fn prediction_of(outcome: Option<Outcome>, postcopy: bool, last_log: Option<String>) -> Prediction {
    let mut p = Prediction {
        verdict: Verdict::Failed(last_log.clone().unwrap_or_default()),
        total_s: None,
        downtime_ms: None,
        iterations: None,
    };
    match outcome {
        Some(Outcome::Completed {
            total_ms,
            downtime_ms,
            iterations,
            ..
        }) => {
            p.verdict = if postcopy {
                Verdict::PostCopy
            } else {
                Verdict::Converges
            };
            p.total_s = Some(total_ms as f64 / 1000.0);
            p.downtime_ms = Some(downtime_ms);
            p.iterations = Some(iterations);
        }
        Some(Outcome::NotConverged { iterations, .. }) => {
            p.verdict = Verdict::NotConverged;
            p.iterations = Some(iterations);
        }
        Some(Outcome::TimeLimit(u)) => {
            p.verdict = Verdict::TimeLimit;
            p.iterations = Some(u.iterations);
        }
        Some(Outcome::Failed { error, .. }) => p.verdict = Verdict::Failed(error.virsh_line()),
        // The meter stopped a run its estimate let through: as costly as a refused one.
        Some(Outcome::WorkLimit(_)) => p.verdict = Verdict::Refused(last_log.unwrap_or_default()),
        Some(Outcome::Aborted { .. }) | None => {}
    }
    p
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn lesson() -> (Scenario, MigrationSpec) {
        let s = crate::scenarios::load(Some(std::path::Path::new("lesson")), &[]).unwrap();
        let form = crate::sessions::migrate_form::MigrateForm::for_scenario(&s);
        (s, form.spec())
    }

    fn never() -> bool {
        false
    }

    #[test]
    fn the_outcome_is_the_full_runs() {
        let (s, spec) = lesson();
        let base = Base::new(&s, &spec).unwrap();
        for k in [
            base.start(),
            Knobs {
                bandwidth_mibps: 30,
                auto_converge: true,
                ..base.start()
            },
        ] {
            let p = predict(&base, &k, &never).unwrap();
            let mut full = base.scenario_for(&k);
            full.prober = s.prober.clone();
            full.sim.sample_interval_ms = s.sim.sample_interval_ms;
            let trace = Simulator::run(full);
            let outcome = trace.outcomes().next().map(|(_, o)| o.clone()).unwrap();
            let Outcome::Completed {
                total_ms,
                downtime_ms,
                ..
            } = outcome
            else {
                panic!("the lesson completes: {outcome:?}");
            };
            assert_eq!(p.verdict, Verdict::Converges);
            assert_eq!(p.total_s, Some(total_ms as f64 / 1000.0));
            assert_eq!(p.downtime_ms, Some(downtime_ms));
        }
    }

    #[test]
    fn the_lessons_knobs_are_the_labs() {
        let (s, spec) = lesson();
        let base = Base::new(&s, &spec).unwrap();
        let k = base.start();
        assert_eq!(
            (k.bandwidth_mibps, k.downtime_ms, k.ram_mib),
            (112, 300, 2048)
        );
        // Unchanged knobs give the lab's own command (no --bandwidth at the link's speed).
        assert_eq!(base.spec_for(&k), spec);
    }

    #[test]
    fn more_bandwidth_never_slows_an_idle_guest() {
        let (s, spec) = lesson();
        let base = Base::new(&s, &spec).unwrap();
        let idle = Knobs {
            dirty_mibps: 0,
            ram_mib: 1024,
            ..base.start()
        };
        // The lesson's guest has written 992 MiB: at the slowest caps that takes longer than
        // the scenario's time limit, which is no convergence problem (an idle guest).
        let runs: Vec<(u64, Verdict, Option<f64>)> = base
            .sweep_bandwidths()
            .into_iter()
            .map(|bw| {
                let p = predict(
                    &base,
                    &Knobs {
                        bandwidth_mibps: bw,
                        ..idle
                    },
                    &never,
                )
                .unwrap();
                (bw, p.verdict, p.total_s)
            })
            .collect();
        assert!(
            runs.iter()
                .all(|(_, v, _)| matches!(v, Verdict::Converges | Verdict::TimeLimit)),
            "{runs:?}"
        );
        let times: Vec<f64> = runs
            .iter()
            .filter(|(_, v, _)| *v == Verdict::Converges)
            .filter_map(|(_, _, t)| *t)
            .collect();
        assert!(
            times.len() >= runs.len() / 2,
            "the faster half converges: {runs:?}"
        );
        assert!(
            times.windows(2).all(|w| w[1] <= w[0]),
            "total time must fall as bandwidth grows: {times:?}"
        );
        assert!(times[0] > 4.0 * times[times.len() - 1], "{times:?}");
    }

    #[test]
    fn a_writer_faster_than_the_link_does_not_converge_without_help() {
        let (s, spec) = lesson();
        let base = Base::new(&s, &spec).unwrap();
        let k = Knobs {
            bandwidth_mibps: 20,
            dirty_mibps: 40,
            set_mib: 256,
            ram_mib: 512,
            auto_converge: false,
            postcopy: false,
            ..base.start()
        };
        let p = predict(&base, &k, &never).unwrap();
        assert_eq!(p.verdict, Verdict::NotConverged, "{p:?}");
        assert_eq!((p.total_s, p.downtime_ms), (None, None));
        // Post-copy always gets there.
        let p = predict(
            &base,
            &Knobs {
                postcopy: true,
                ..k
            },
            &never,
        )
        .unwrap();
        assert_eq!(p.verdict, Verdict::PostCopy, "{p:?}");
        assert!(p.total_s.is_some());
    }

    #[test]
    fn knobs_stay_in_their_ranges() {
        let (s, spec) = lesson();
        let base = Base::new(&s, &spec).unwrap();
        let wild = Knobs {
            bandwidth_mibps: u64::MAX,
            downtime_ms: 0,
            dirty_mibps: u64::MAX,
            set_mib: u64::MAX,
            ram_mib: u64::MAX,
            auto_converge: false,
            postcopy: false,
        };
        let k = base.clamp(wild);
        let r = base.ranges();
        assert_eq!(k.bandwidth_mibps, 112);
        assert_eq!(k.downtime_ms, *r.downtime_ms.start());
        assert_eq!(k.dirty_mibps, 224);
        assert_eq!(k.ram_mib, *r.ram_mib.end());
        assert_eq!(k.set_mib, k.ram_mib);
        // The sweep covers the slider's whole range, slowest first, the link last.
        let bws = base.sweep_bandwidths();
        assert_eq!(bws.first(), Some(&1));
        assert_eq!(bws.last(), Some(&112));
        assert!(bws.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_corner_of_the_sliders_is_within_the_simulators_budget() {
        // Hostile input is bounded by the sliders' ranges: the most costly combination they
        // allow (largest RAM and dirty rate, slowest link, ...) must still pass the validator's
        // cost estimate, so no drag can ask for a run the simulator refuses to budget.
        let (s, spec) = lesson();
        let base = Base::new(&s, &spec).unwrap();
        let r = base.ranges();
        let ends = |r: &RangeInclusive<u64>| [*r.start(), *r.end()];
        let mut corners = 0;
        for bandwidth_mibps in ends(&r.bandwidth_mibps) {
            for downtime_ms in ends(&r.downtime_ms) {
                for dirty_mibps in ends(&r.dirty_mibps) {
                    for ram_mib in ends(&r.ram_mib) {
                        for set_mib in [1, ram_mib] {
                            for flags in 0..4 {
                                let k = Knobs {
                                    bandwidth_mibps,
                                    downtime_ms,
                                    dirty_mibps,
                                    set_mib,
                                    ram_mib,
                                    auto_converge: flags & 1 != 0,
                                    postcopy: flags & 2 != 0,
                                };
                                let checked = base.scenario_for(&k).validate();
                                assert!(checked.is_ok(), "{k:?}: {checked:?}");
                                corners += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(corners, 128);
    }

    #[test]
    fn a_combination_the_budget_refuses_is_reported_with_its_message() {
        // A scenario of the instructor's may already be near the budget; the panel shows the
        // validator's refusal instead of running it.
        let (mut s, spec) = lesson();
        s.sim.max_time_s = 1.0e9;
        let base = Base::new(&s, &spec).unwrap();
        let p = predict(&base, &base.start(), &never).unwrap();
        let Verdict::Refused(message) = &p.verdict else {
            panic!("refused: {p:?}");
        };
        assert!(message.starts_with("sim.max_time_s:"), "{message}");
    }

    #[test]
    fn a_cancelled_run_gives_nothing() {
        let (s, spec) = lesson();
        let base = Base::new(&s, &spec).unwrap();
        let k = Knobs {
            bandwidth_mibps: 1,
            ..base.start()
        };
        assert_eq!(predict(&base, &k, &|| true), None);
    }
}
