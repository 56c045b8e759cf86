//! Guest workloads at page granularity: which pages a guest writes, and how many per second.
//! Writes slow down with the auto-converge vCPU throttle (a throttled vCPU runs less, so it
//! writes less) — but a writer that paces itself (writes a little, then sleeps) only slows once
//! the throttle leaves it less CPU time than it needs.

use crate::rng::FastRng;
use crate::scenario::WorkloadSpec;
use crate::time::SimTime;
use crate::units::{MIB, PAGE_SIZE};

#[derive(Debug, Clone)]
enum Pattern {
    Idle,
    Uniform,
    /// Inverse-CDF exponent of a continuous power law: index = set × u^exponent.
    Skewed {
        exponent: f64,
    },
    Sequential {
        next: u64,
    },
}

/// A running workload: emits page numbers as simulated time passes.
#[derive(Debug, Clone)]
pub struct Workload {
    pattern: Pattern,
    set_pages: u64,
    /// Pages written per second at full speed.
    pages_per_sec: f64,
    /// Share of its vCPU's time the writer needs at full speed (1: CPU-bound).
    busy_share: f64,
    /// Writes owed but not yet made (fractions of a page carry over, so rates are exact).
    carry: f64,
    /// Writes have been applied up to this instant.
    until: SimTime,
    rng: FastRng,
}

impl Workload {
    /// A workload from its scenario spec, over RAM of `ram_pages` pages, needing `busy_share`
    /// of its vCPU's time at full speed (see [`VmSpec::vcpu_busy_share`]).
    ///
    /// [`VmSpec::vcpu_busy_share`]: crate::scenario::VmSpec::vcpu_busy_share
    pub fn new(spec: &WorkloadSpec, ram_pages: u64, busy_share: f64, rng: FastRng) -> Self {
        let (pattern, set_mib, rate) = match *spec {
            WorkloadSpec::Idle => (Pattern::Idle, 0, 0.0),
            WorkloadSpec::HotSet {
                set_mib,
                rate_mibps,
            } => (Pattern::Uniform, set_mib, rate_mibps),
            WorkloadSpec::Zipf {
                set_mib,
                rate_mibps,
                skew,
            } => (
                Pattern::Skewed {
                    exponent: 1.0 / (1.0 - skew.clamp(0.0, 0.999)),
                },
                set_mib,
                rate_mibps,
            ),
            WorkloadSpec::Scanner {
                set_mib,
                rate_mibps,
            } => (Pattern::Sequential { next: 0 }, set_mib, rate_mibps),
        };
        let set_pages = (set_mib * MIB / PAGE_SIZE).clamp(1, ram_pages.max(1));
        Workload {
            pattern,
            set_pages,
            pages_per_sec: rate * MIB as f64 / PAGE_SIZE as f64,
            busy_share: busy_share.clamp(0.001, 1.0),
            carry: 0.0,
            until: SimTime::ZERO,
            rng,
        }
    }

    /// Pages per second written at full vCPU speed.
    pub fn pages_per_sec(&self) -> f64 {
        self.pages_per_sec
    }

    /// Instant up to which writes have been made.
    pub fn until(&self) -> SimTime {
        self.until
    }

    /// Skip ahead to `t` without writing (the guest is paused, or its writes do not matter).
    pub fn skip_to(&mut self, t: SimTime) {
        if t > self.until {
            self.until = t;
        }
    }

    /// Make the writes of the interval up to `t`, with the vCPUs throttled by `throttle_pct`,
    /// calling `write(page)` for each one.
    #[inline]
    pub fn advance_to(&mut self, t: SimTime, throttle_pct: u8, mut write: impl FnMut(u64)) {
        if t <= self.until {
            return;
        }
        let dt = (t - self.until).as_secs_f64();
        self.until = t;
        if matches!(self.pattern, Pattern::Idle) || self.pages_per_sec <= 0.0 {
            return;
        }
        let left = 1.0 - f64::from(throttle_pct.min(100)) / 100.0;
        // (Rounding must not shave a page off a writer that has exactly the time it needs.)
        let speed = left / self.busy_share;
        let speed = if speed > 1.0 - 1e-9 { 1.0 } else { speed };
        let owed = self.carry + self.pages_per_sec * speed * dt;
        let n = owed.floor();
        self.carry = owed - n;
        let n = n as u64;
        let set = self.set_pages;
        match &mut self.pattern {
            Pattern::Idle => {}
            Pattern::Uniform => {
                for _ in 0..n {
                    write(self.rng.below(set));
                }
            }
            Pattern::Skewed { exponent } => {
                let e = *exponent;
                for _ in 0..n {
                    let idx = (self.rng.unit().powf(e) * set as f64) as u64;
                    write(idx.min(set - 1));
                }
            }
            Pattern::Sequential { next } => {
                for _ in 0..n {
                    write(*next);
                    *next += 1;
                    if *next >= set {
                        *next = 0;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;

    fn count_writes(
        spec: WorkloadSpec,
        secs: u64,
        throttle: u8,
    ) -> (u64, std::collections::BTreeSet<u64>) {
        count_writes_busy(spec, secs, throttle, 1.0)
    }

    fn count_writes_busy(
        spec: WorkloadSpec,
        secs: u64,
        throttle: u8,
        busy_share: f64,
    ) -> (u64, std::collections::BTreeSet<u64>) {
        let mut w = Workload::new(&spec, 1 << 20, busy_share, FastRng::new(3));
        let mut n = 0;
        let mut pages = std::collections::BTreeSet::new();
        for ms in 1..=secs * 1000 {
            w.advance_to(
                SimTime::ZERO + SimDuration::from_millis(ms),
                throttle,
                |p| {
                    n += 1;
                    pages.insert(p);
                },
            );
        }
        (n, pages)
    }

    #[test]
    fn rate_is_exact_over_time_and_scales_with_throttle() {
        // 4 MiB/s = 1024 pages/s.
        let spec = WorkloadSpec::HotSet {
            set_mib: 64,
            rate_mibps: 4.0,
        };
        assert_eq!(count_writes(spec.clone(), 2, 0).0, 2048);
        assert_eq!(count_writes(spec, 2, 50).0, 1024);
    }

    #[test]
    fn a_paced_writer_slows_only_when_the_throttle_takes_the_time_it_needs() {
        let spec = WorkloadSpec::HotSet {
            set_mib: 64,
            rate_mibps: 4.0,
        };
        // Needing 10 % of its vCPU: a 50 % or 90 % throttle leaves enough.
        assert_eq!(count_writes_busy(spec.clone(), 2, 50, 0.1).0, 2048);
        assert_eq!(count_writes_busy(spec.clone(), 2, 90, 0.1).0, 2048);
        // At 95 % only half of what it needs is left.
        assert_eq!(count_writes_busy(spec, 2, 95, 0.1).0, 1024);
    }

    #[test]
    fn writes_stay_inside_the_working_set() {
        let (_, pages) = count_writes(
            WorkloadSpec::Zipf {
                set_mib: 1,
                rate_mibps: 8.0,
                skew: 0.8,
            },
            1,
            0,
        );
        assert!(pages.iter().all(|p| *p < 256));
        let (_, seq) = count_writes(
            WorkloadSpec::Scanner {
                set_mib: 1,
                rate_mibps: 2.0,
            },
            1,
            0,
        );
        assert_eq!(
            seq.len(),
            256,
            "a scanner over 256 pages touches each once per lap"
        );
    }

    #[test]
    fn skewed_writes_concentrate_on_few_pages() {
        let (n, uniform) = count_writes(
            WorkloadSpec::HotSet {
                set_mib: 16,
                rate_mibps: 16.0,
            },
            1,
            0,
        );
        let (m, skewed) = count_writes(
            WorkloadSpec::Zipf {
                set_mib: 16,
                rate_mibps: 16.0,
                skew: 0.9,
            },
            1,
            0,
        );
        assert_eq!(n, m);
        assert!(
            skewed.len() * 2 < uniform.len(),
            "skewed {} vs uniform {}",
            skewed.len(),
            uniform.len()
        );
    }
}
