//! Runs what-ifs off the UI thread, so dragging a slider never waits for the simulator.
//!
//! The UI posts the latest knobs into a one-slot mailbox (a newer request replaces an older one
//! that has not started, and cancels one that has); the worker predicts that point first, then
//! fills in the bandwidth sweep for those knobs a point at a time, each sent back as it is done.
//! A sweep does not depend on the bandwidth, so dragging the bandwidth re-runs one point and the
//! sweep stays; it is kept, points and all, until another knob changes.

use super::{Base, Knobs, Prediction, predict};
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

fn run(shared: &Shared, tx: &Sender<Report>, waker: &Waker) {
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
            if let Some(prediction) = predict(&req.base, &req.knobs, &cancelled) {
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
        if let Some(prediction) = predict(&s.base, &knobs, &cancelled) {
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
