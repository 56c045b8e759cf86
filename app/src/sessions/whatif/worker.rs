//! Runs what-ifs off the UI thread, so dragging a slider never waits for the simulator.
//!
//! The UI posts the latest knobs into a one-slot mailbox (a newer request replaces an older one
//! that has not started, and cancels one that has); the worker predicts that point first, then
//! fills in the bandwidth sweep for those knobs a point at a time, each sent back as it is done.
//! A sweep does not depend on the bandwidth, so dragging the bandwidth re-runs one point and the
//! sweep stays; it is kept, points and all, until another knob changes. Every prediction is
//! cached by its knobs (see [`Cache`]), so values seen before answer at once.

use super::{Base, Knobs, Prediction, predict};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};

/// Called by the worker when it has sent something (the GUI passes `ctx.request_repaint`).
pub type Waker = Box<dyn Fn() + Send>;

/// One request: what-if `knobs` of `base`.
#[derive(Debug, Clone)]
pub struct Request {
    /// The lab's guest and migration.
    pub base: Arc<Base>,
    /// What the student set.
    pub knobs: Knobs,
}

/// What the worker sends back.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// The prediction for the knobs of request `generation`.
    Point {
        /// The request's number.
        generation: u64,
        /// Its knobs.
        knobs: Knobs,
        /// What they predict.
        prediction: Prediction,
    },
    /// One point of the sweep for `key` (knobs without bandwidth; see [`Knobs::sweep_key`]).
    Sweep {
        /// Request number whose base the sweep belongs to.
        generation: u64,
        /// The knobs the sweep is for, bandwidth aside.
        key: Knobs,
        /// Index in [`Base::sweep_bandwidths`].
        index: usize,
        /// What that bandwidth predicts.
        prediction: Prediction,
    },
}

#[derive(Default)]
struct Mailbox {
    request: Option<(u64, Request)>,
    closed: bool,
}

struct Shared {
    mailbox: Mutex<Mailbox>,
    wake: Condvar,
    /// The newest request's number: a run for an older one stops at its next look.
    latest: AtomicU64,
}

/// The worker thread and the UI's ends of its mailbox and reports.
pub struct Worker {
    shared: Arc<Shared>,
    reports: Receiver<Report>,
    next_generation: u64,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("next_generation", &self.next_generation)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// Start the worker; `waker` is called after each report.
    pub fn start(waker: Waker) -> Worker {
        let shared = Arc::new(Shared {
            mailbox: Mutex::new(Mailbox::default()),
            wake: Condvar::new(),
            latest: AtomicU64::new(0),
        });
        let (tx, reports) = mpsc::channel();
        let theirs = shared.clone();
        // If the thread cannot start, requests simply get no answer; the panel says it waits.
        let _ = std::thread::Builder::new()
            .name("migralab-whatif".into())
            .spawn(move || run(&theirs, &tx, &waker));
        Worker {
            shared,
            reports,
            next_generation: 1,
        }
    }

    /// Ask for `request`, replacing any request not yet answered. Returns its number.
    pub fn post(&mut self, request: Request) -> u64 {
        let generation = self.next_generation;
        self.next_generation += 1;
        self.shared.latest.store(generation, Ordering::SeqCst);
        if let Ok(mut m) = self.shared.mailbox.lock() {
            m.request = Some((generation, request));
        }
        self.shared.wake.notify_all();
        generation
    }

    /// Reports that have arrived, oldest first.
    pub fn poll(&self) -> Vec<Report> {
        self.reports.try_iter().collect()
    }

    /// Wait up to `timeout` for the next report (tests and benchmarks; never from a frame).
    pub fn wait(&self, timeout: std::time::Duration) -> Option<Report> {
        self.reports.recv_timeout(timeout).ok()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Ok(mut m) = self.shared.mailbox.lock() {
            m.closed = true;
        }
        // Stop a run in progress at its next look.
        self.shared.latest.store(u64::MAX, Ordering::SeqCst);
        self.shared.wake.notify_all();
    }
}

/// The sweep being filled in: for which base and knobs, and which points are done.
struct SweepState {
    base: Arc<Base>,
    key: Knobs,
    bandwidths: Vec<u64>,
    done: Vec<bool>,
}

/// Predictions already made for the current base, by knobs: dragging back over values seen, or
/// returning to a dirty rate whose sweep was drawn, answers at once. Bounded: emptied when full
/// (a prediction is a few words; a long session of dragging fills it in minutes, not megabytes).
#[derive(Default)]
struct Cache {
    base: Option<Arc<Base>>,
    known: HashMap<Knobs, Prediction>,
}

/// Predictions the cache holds at most.
const CACHED: usize = 4096;

impl Cache {
    /// The prediction of `knobs` for `base`, from the cache or run now (`None`: cancelled).
    fn predict(
        &mut self,
        base: &Arc<Base>,
        knobs: &Knobs,
        cancelled: &dyn Fn() -> bool,
    ) -> Option<Prediction> {
        if !self.base.as_ref().is_some_and(|b| Arc::ptr_eq(b, base)) {
            self.base = Some(base.clone());
            self.known.clear();
        }
        if let Some(p) = self.known.get(knobs) {
            return Some(p.clone());
        }
        let p = predict(base, knobs, cancelled)?;
        if self.known.len() >= CACHED {
            self.known.clear();
        }
        self.known.insert(*knobs, p.clone());
        Some(p)
    }
}

fn run(shared: &Shared, tx: &Sender<Report>, waker: &Waker) {
    let mut cache = Cache::default();
    let mut current: Option<(u64, Request)> = None;
    let mut point_done = true;
    let mut sweep: Option<SweepState> = None;
    loop {
        // Take the newest request, or wait for one when there is nothing left to do.
        {
            let Ok(mut m) = shared.mailbox.lock() else {
                return;
            };
            loop {
                if m.closed {
                    return;
                }
                if let Some(req) = m.request.take() {
                    current = Some(req);
                    point_done = false;
                    break;
                }
                let sweep_left = sweep.as_ref().is_some_and(|s| s.done.contains(&false));
                if !point_done || sweep_left {
                    break;
                }
                m = match shared.wake.wait(m) {
                    Ok(m) => m,
                    Err(_) => return,
                };
            }
        }
        let Some((generation, req)) = current.clone() else {
            continue;
        };
        let cancelled = || shared.latest.load(Ordering::SeqCst) != generation;
        if !point_done {
            if let Some(prediction) = cache.predict(&req.base, &req.knobs, &cancelled) {
                point_done = true;
                let _ = tx.send(Report::Point {
                    generation,
                    knobs: req.knobs,
                    prediction,
                });
                waker();
            }
            let key = req.knobs.sweep_key();
            let same = sweep
                .as_ref()
                .is_some_and(|s| Arc::ptr_eq(&s.base, &req.base) && s.key == key);
            if !same {
                let bandwidths = req.base.sweep_bandwidths();
                sweep = Some(SweepState {
                    base: req.base.clone(),
                    key,
                    done: vec![false; bandwidths.len()],
                    bandwidths,
                });
            }
            continue;
        }
        let Some(s) = sweep.as_mut() else {
            continue;
        };
        // Fastest first: those runs are the shortest, and the link's end is where most
        // choices lie.
        let Some(index) = s.done.iter().rposition(|d| !d) else {
            continue;
        };
        let knobs = Knobs {
            bandwidth_mibps: s.bandwidths[index],
            ..s.key
        };
        if let Some(prediction) = cache.predict(&s.base, &knobs, &cancelled) {
            s.done[index] = true;
            let _ = tx.send(Report::Sweep {
                generation,
                key: s.key,
                index,
                prediction,
            });
            waker();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    fn lesson() -> Arc<Base> {
        let s = crate::scenarios::load(Some(std::path::Path::new("lesson")), &[]).unwrap();
        let spec = crate::sessions::migrate_form::MigrateForm::for_scenario(&s).spec();
        Arc::new(Base::new(&s, &spec).unwrap())
    }

    #[test]
    fn a_newer_request_replaces_an_older_one_whose_answer_never_comes() {
        let base = lesson();
        let mut worker = Worker::start(Box::new(|| {}));
        // A guest that never converges, run to the 600 s time limit: 60,000 ticks, cancelled
        // at its next look once the second request is posted.
        let slow = Knobs {
            bandwidth_mibps: 1,
            dirty_mibps: 200,
            set_mib: 2048,
            ..base.start()
        };
        let first = worker.post(Request {
            base: base.clone(),
            knobs: slow,
        });
        let second = worker.post(Request {
            base: base.clone(),
            knobs: base.start(),
        });
        let mut seen = Vec::new();
        loop {
            let r = worker.wait(Duration::from_secs(60)).unwrap();
            let done = matches!(&r, Report::Point { generation, .. } if *generation == second);
            seen.push(r);
            if done {
                break;
            }
        }
        assert!(
            !seen
                .iter()
                .any(|r| matches!(r, Report::Point { generation, .. } if *generation == first)),
            "{seen:?}"
        );
        // Then the sweep of the newer knobs, every point of it.
        let points = base.sweep_bandwidths().len();
        let mut indices = std::collections::BTreeSet::new();
        while indices.len() < points {
            match worker.wait(Duration::from_secs(60)).unwrap() {
                Report::Sweep { key, index, .. } => {
                    assert_eq!(key, base.start().sweep_key());
                    indices.insert(index);
                }
                r => panic!("only the sweep is left: {r:?}"),
            }
        }
    }

    #[test]
    fn knobs_seen_before_are_answered_from_the_cache() {
        let base = lesson();
        let mut cache = Cache::default();
        let k = base.start();
        let first = cache.predict(&base, &k, &|| false).unwrap();
        // A run of the lesson is about 1,000 ticks: asked to stop at its first look, a real run
        // would give nothing; the cached answer comes back.
        assert_eq!(cache.predict(&base, &k, &|| true), Some(first));
        // Another base (the lab changed) starts afresh.
        let other = lesson();
        assert_eq!(cache.predict(&other, &k, &|| true), None);
    }
}
