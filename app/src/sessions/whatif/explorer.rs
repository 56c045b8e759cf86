//! The what-if panel's state between frames: the base it explores, the knobs as the sliders
//! have them, the newest prediction and the sweep, and the worker that computes them. Each
//! frame the panel calls [`Explorer::update`], which takes the worker's reports and posts the
//! knobs if they changed; drawing only reads what is here, so a frame never waits.

use super::worker::{Report, Request, Waker, Worker};
use super::{Base, Knobs, Prediction};
use migralab_sim_core::scenario::{MigrationSpec, Scenario};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which lab situation a base was made from: a change of any of these is a new base.
#[derive(Debug, Clone, PartialEq)]
struct BaseOf {
    scenario: String,
    vm: String,
    host: String,
    spec: MigrationSpec,
}

/// The sweep of the bandwidth range for the knobs bar the bandwidth.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// The knobs it is for (bandwidth 0).
    pub key: Knobs,
    /// Its bandwidths, MiB/s, slowest first.
    pub bandwidths: Vec<u64>,
    /// What each predicts, as they arrive.
    pub points: Vec<Option<Prediction>>,
}

impl Sweep {
    /// Has every point arrived?
    pub fn is_complete(&self) -> bool {
        self.points.iter().all(Option::is_some)
    }
}

/// The what-if panel's runtime state.
#[derive(Debug, Default)]
pub struct Explorer {
    base: Option<Arc<Base>>,
    base_of: Option<BaseOf>,
    /// The knobs as the sliders have them.
    pub knobs: Option<Knobs>,
    /// Knobs last posted to the worker.
    posted: Option<Knobs>,
    /// First request number of the current base (older sweep points are another base's).
    base_generation: u64,
    /// The newest prediction and the knobs it is for.
    pub point: Option<(Knobs, Prediction)>,
    /// The sweep for the current knobs (bar the bandwidth).
    pub sweep: Option<Sweep>,
    worker: Option<Worker>,
}

impl Explorer {
    /// Follow the lab: the what-if of `spec` (the migrate form's command) in `scenario`, lab
    /// `scenario_name`. A new guest, scenario or command starts again from its knobs.
    pub fn follow(&mut self, scenario_name: &str, scenario: &Scenario, spec: &MigrationSpec) {
        let host = scenario
            .vms
            .iter()
            .find(|v| v.name == spec.vm)
            .map(|v| v.host.clone())
            .unwrap_or_default();
        let of = BaseOf {
            scenario: scenario_name.to_string(),
            vm: spec.vm.clone(),
            host,
            // The knobs the panel owns do not make a new base.
            spec: normalised(spec),
        };
        if self.base_of.as_ref() == Some(&of) {
            return;
        }
        let base = Base::new(scenario, spec).map(Arc::new);
        // A new command for the same guest keeps what the student set; a new guest does not.
        let same_guest = self
            .base_of
            .as_ref()
            .is_some_and(|b| b.scenario == of.scenario && b.vm == of.vm);
        self.knobs = match (&base, self.knobs) {
            (Some(b), Some(k)) if same_guest => Some(b.clamp(k)),
            (Some(b), _) => Some(b.start()),
            (None, _) => None,
        };
        self.base = base;
        self.base_of = Some(of);
        self.posted = None;
        self.point = None;
        self.sweep = None;
    }

    /// The base explored, if the lab has the form's guest.
    pub fn base(&self) -> Option<&Base> {
        self.base.as_deref()
    }

    /// Back to the lab's values.
    pub fn reset(&mut self) {
        self.knobs = self.base.as_ref().map(|b| b.start());
    }

    /// Take the worker's reports and post the knobs if they changed (starting the worker on
    /// first use; `waker` wakes the UI when a report is sent).
    pub fn update(&mut self, waker: impl FnOnce() -> Waker) {
        let (Some(base), Some(knobs)) = (&self.base, self.knobs) else {
            return;
        };
        let knobs = base.clamp(knobs);
        self.knobs = Some(knobs);
        let worker = self.worker.get_or_insert_with(|| Worker::start(waker()));
        for r in worker.poll() {
            take(&mut self.point, &mut self.sweep, self.base_generation, r);
        }
        if self.posted != Some(knobs) {
            let generation = worker.post(Request {
                base: base.clone(),
                knobs,
            });
            if self.posted.is_none() {
                self.base_generation = generation;
            }
            self.posted = Some(knobs);
            let key = knobs.sweep_key();
            if self.sweep.as_ref().is_none_or(|s| s.key != key) {
                let bandwidths = base.sweep_bandwidths();
                self.sweep = Some(Sweep {
                    key,
                    points: vec![None; bandwidths.len()],
                    bandwidths,
                });
            }
        }
    }

    /// Is the prediction shown the one for the knobs set?
    pub fn is_current(&self) -> bool {
        matches!((&self.point, self.knobs), (Some((k, _)), Some(now)) if *k == now)
    }

    /// Is the worker still computing something the panel will show?
    pub fn is_busy(&self) -> bool {
        !self.is_current() || self.sweep.as_ref().is_some_and(|s| !s.is_complete())
    }

    /// Block until the prediction for the knobs and the whole sweep are in, or `timeout`
    /// passes (tests and benchmarks; never from a frame). True if they are.
    pub fn wait_settled(&mut self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        self.update(|| Box::new(|| {}));
        while self.is_busy() {
            let left = until.saturating_duration_since(Instant::now());
            let Some(worker) = &self.worker else {
                return false;
            };
            if left.is_zero() {
                return false;
            }
            let Some(r) = worker.wait(left) else {
                return false;
            };
            take(&mut self.point, &mut self.sweep, self.base_generation, r);
        }
        true
    }
}

/// The form's command without the knobs the panel sets.
fn normalised(spec: &MigrationSpec) -> MigrationSpec {
    let mut s = spec.clone();
    s.bandwidth_mibps = None;
    s.downtime_limit_ms = 0;
    s.auto_converge = false;
    s.postcopy = false;
    s.postcopy_after_precopy = false;
    s
}

/// Keep a report if it is for what is shown now.
fn take(
    point: &mut Option<(Knobs, Prediction)>,
    sweep: &mut Option<Sweep>,
    base_generation: u64,
    r: Report,
) {
    match r {
        Report::Point {
            generation,
            knobs,
            prediction,
        } if generation >= base_generation => *point = Some((knobs, prediction)),
        Report::Sweep {
            generation,
            key,
            index,
            prediction,
        } if generation >= base_generation => {
            if let Some(s) = sweep
                && s.key == key
                && let Some(slot) = s.points.get_mut(index)
            {
                *slot = Some(prediction);
            }
        }
        _ => {}
    }
}

/// The sweep as the plot draws it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SweepSeries {
    /// (bandwidth MiB/s, total time s) of the points that completed.
    pub total_s: Vec<[f64; 2]>,
    /// (bandwidth MiB/s, downtime ms) of the points that completed.
    pub downtime_ms: Vec<[f64; 2]>,
    /// Bandwidths whose run did not complete (not converged, time limit, failed, refused).
    pub not_completed: Vec<f64>,
    /// The student's choice: its bandwidth, and its total time and downtime if it completed.
    pub choice: Option<(f64, Option<f64>, Option<f64>)>,
}

impl Explorer {
    /// The sweep and the student's choice, as plotted.
    pub fn sweep_series(&self) -> SweepSeries {
        let mut out = SweepSeries::default();
        if let Some(s) = &self.sweep {
            for (bw, p) in s.bandwidths.iter().zip(&s.points) {
                let Some(p) = p else { continue };
                let x = *bw as f64;
                match (p.total_s, p.downtime_ms) {
                    (Some(t), Some(d)) if p.completed() => {
                        out.total_s.push([x, t]);
                        out.downtime_ms.push([x, d as f64]);
                    }
                    _ => out.not_completed.push(x),
                }
            }
        }
        if let Some(k) = self.knobs {
            let shown = self.point.as_ref().filter(|(pk, _)| *pk == k);
            out.choice = Some((
                k.bandwidth_mibps as f64,
                shown.and_then(|(_, p)| p.total_s),
                shown.and_then(|(_, p)| p.downtime_ms.map(|d| d as f64)),
            ));
        }
        out
    }
}
