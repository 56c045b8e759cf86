//! Guest workloads at page granularity: which pages a guest writes, and how many per second.
//! Writes slow down with the auto-converge vCPU throttle (a throttled vCPU runs less, so it
//! writes less) — but a writer that paces itself (writes a little, then sleeps) only slows once
//! the throttle leaves it less CPU time than it needs.

use crate::rng::FastRng;
use crate::scenario::WorkloadSpec;
use crate::time::{SimDuration, SimTime};
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
    /// Writing in bursts: how often, and what each burst dirties besides the working set.
    bursts: Option<Bursts>,
    rng: FastRng,
}

/// A writer that wakes up every `every`, writes what it owes at once and sleeps again (a
/// script on a timer). Each wake-up also rewrites `churn_pages` pages of its own (the process
/// it starts, its buffers), numbered after the working set.
#[derive(Debug, Clone)]
struct Bursts {
    every: SimDuration,
    next: SimTime,
    churn_pages: u64,
    /// Pages of the current wake-up still to write: a burst takes as long as the writer needs
    /// to copy them (a `dd` of 12 MiB runs for a third of a quarter second), not an instant.
    owed: f64,
}

impl Workload {
    /// A workload from its scenario spec, over RAM of `ram_pages` pages, needing `busy_share`
    /// of its vCPU's time at full speed (see [`MeasuredSpec::vcpu_busy_share`]).
    ///
    /// [`MeasuredSpec::vcpu_busy_share`]: crate::scenario::MeasuredSpec::vcpu_busy_share
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
            bursts: None,
            rng,
        }
    }

    /// Write in bursts every `every_ms` (0: continuously), each also dirtying `churn_kib` KiB
    /// of the writer's own memory (page numbers after the working set's).
    pub fn with_bursts(mut self, every_ms: f64, churn_kib: u64) -> Self {
        self.bursts = (every_ms > 0.0 && !matches!(self.pattern, Pattern::Idle)).then(|| {
            let every = SimDuration::from_ms_f64(every_ms);
            Bursts {
                every,
                next: SimTime::ZERO + every,
                churn_pages: (churn_kib * 1024).div_ceil(PAGE_SIZE),
                owed: 0.0,
            }
        });
        self
    }

    /// Start somewhere in its cycle, as a guest that has been running a while does: a
    /// scanner part-way through its set, a burst writer part-way to its next wake-up.
    pub fn mid_cycle(mut self) -> Self {
        if let Pattern::Sequential { next } = &mut self.pattern {
            *next = self.rng.below(self.set_pages);
        }
        if let Some(b) = self.bursts.as_mut() {
            b.next =
                SimTime::ZERO + SimDuration::from_ms_f64(b.every.as_ms_f64() * self.rng.unit());
        }
        self
    }

    /// Pages this workload may write: its working set, then its churn.
    pub fn span_pages(&self) -> u64 {
        if matches!(self.pattern, Pattern::Idle) {
            return 0;
        }
        self.set_pages + self.bursts.as_ref().map_or(0, |b| b.churn_pages)
    }

    /// Pages each burst rewrites besides the working set.
    pub fn churn_pages(&self) -> u64 {
        if matches!(self.pattern, Pattern::Idle) {
            return 0;
        }
        self.bursts.as_ref().map_or(0, |b| b.churn_pages)
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
        if let Some(b) = self.bursts.as_mut() {
            while b.next <= t {
                b.next += b.every;
            }
            b.owed = 0.0;
        }
    }

    /// Make the writes of the interval up to `t`, with the vCPUs throttled by `throttle_pct`,
    /// calling `write(page)` for each one.
    #[inline]
    pub fn advance_to(&mut self, t: SimTime, throttle_pct: u8, mut write: impl FnMut(u64)) {
        if t <= self.until {
            return;
        }
        let from = self.until;
        self.until = t;
        if matches!(self.pattern, Pattern::Idle) || self.pages_per_sec <= 0.0 {
            return;
        }
        let left = 1.0 - f64::from(throttle_pct.min(100)) / 100.0;
        // (Rounding must not shave a page off a writer that has exactly the time it needs.)
        let speed = left / self.busy_share;
        let speed = if speed > 1.0 - 1e-9 { 1.0 } else { speed };
        let Some(mut b) = self.bursts.take() else {
            let dt = (t - from).as_secs_f64();
            self.write_pages(speed * dt, &mut write);
            return;
        };
        // Each wake-up dirties its own pages (the process it starts) and owes one period's
        // worth of the set, which it writes at the speed its vCPU share allows; a wake-up
        // that finds the last burst unfinished adds to it (the script does not sleep then).
        let burst_pps = self.pages_per_sec * left / self.busy_share;
        let mut at = from;
        loop {
            let seg_end = t.min(b.next);
            if b.owed > 0.0 && seg_end > at {
                let mut n = b.owed.min(burst_pps * (seg_end - at).as_secs_f64());
                if b.owed - n < 1e-9 {
                    n = b.owed;
                }
                b.owed -= n;
                self.write_count(n, &mut write);
            }
            at = seg_end;
            if b.next > t {
                break;
            }
            b.next += b.every;
            b.owed += speed * b.every.as_secs_f64() * self.pages_per_sec;
            for p in 0..b.churn_pages {
                write(self.set_pages + p);
            }
        }
        self.bursts = Some(b);
    }

    /// Write `secs` seconds' worth of pages at full speed, in the workload's pattern.
    #[inline]
    fn write_pages(&mut self, secs: f64, write: &mut impl FnMut(u64)) {
        self.write_count(self.pages_per_sec * secs, write);
    }

    /// Write `pages` pages (fractions carry over to the next call), in the workload's pattern.
    #[inline]
    fn write_count(&mut self, pages: f64, write: &mut impl FnMut(u64)) {
        let owed = self.carry + pages;
        // (A sum of fractions that should be whole must not lose its last page to rounding.)
        let n = (owed + 1e-9).floor();
        self.carry = (owed - n).max(0.0);
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
    fn a_bursty_writer_writes_its_rate_at_each_wake_up_and_its_own_pages_too() {
        // 4 MiB/s in bursts every 250 ms: 256 pages of the set per burst, plus 16 churn pages.
        // The writer copies ten times faster than its rate (it needs a tenth of its vCPU), so
        // each burst's 256 pages take 100 ms; its own pages are dirtied as it wakes.
        let spec = WorkloadSpec::Scanner {
            set_mib: 16,
            rate_mibps: 4.0,
        };
        let mut w = Workload::new(&spec, 1 << 20, 0.1, FastRng::new(1)).with_bursts(250.0, 64);
        assert_eq!(w.span_pages(), 16 * 256 + 16);
        let mut per_ms = vec![0u64; 1001];
        for ms in 1..=1000u64 {
            w.advance_to(SimTime::ZERO + SimDuration::from_millis(ms), 0, |_| {
                per_ms[ms as usize] += 1
            });
        }
        let sum = |r: std::ops::RangeInclusive<usize>| per_ms[r].iter().sum::<u64>();
        for wake in [250, 500, 750] {
            assert_eq!(per_ms[wake], 16, "the churn as it wakes at {wake} ms");
            assert_eq!(sum(wake + 1..=wake + 100), 256, "the burst after {wake} ms");
            assert_eq!(sum(wake + 101..=wake + 249), 0, "asleep after {wake} ms");
        }
        assert_eq!(per_ms[1000], 16);
        // Paused through two wake-ups: they do not happen later, and the burst under way is
        // dropped (the paused guest does not write).
        w.skip_to(SimTime::ZERO + SimDuration::from_millis(1600));
        let mut n = 0;
        w.advance_to(SimTime::ZERO + SimDuration::from_millis(1700), 0, |_| {
            n += 1
        });
        assert_eq!(n, 0);
        w.advance_to(SimTime::ZERO + SimDuration::from_millis(1850), 0, |_| {
            n += 1
        });
        assert_eq!(n, 272);
    }

    #[test]
    fn a_writer_that_needs_its_whole_vcpu_writes_through_the_period() {
        // Busy all the time at its rate: the burst of one wake-up lasts until the next, and a
        // throttle that takes half its time leaves it half the pages.
        let spec = WorkloadSpec::Scanner {
            set_mib: 16,
            rate_mibps: 4.0,
        };
        for (throttle, per_period) in [(0u8, 256u64), (50, 128)] {
            let mut w = Workload::new(&spec, 1 << 20, 1.0, FastRng::new(1)).with_bursts(250.0, 0);
            let mut per_ms = vec![0u64; 1001];
            for ms in 1..=1000u64 {
                w.advance_to(
                    SimTime::ZERO + SimDuration::from_millis(ms),
                    throttle,
                    |_| per_ms[ms as usize] += 1,
                );
            }
            let between: u64 = per_ms[251..=500].iter().sum();
            assert_eq!(between, per_period, "throttle {throttle} %");
            let last = (251..=500).rev().find(|ms| per_ms[*ms] > 0);
            assert!(
                last.is_some_and(|ms| ms >= 495),
                "writes go on until the next wake-up: the last at {last:?} ms"
            );
        }
    }

    #[test]
    fn mid_cycle_the_seed_decides_where_a_scanner_starts_and_when_it_first_wakes() {
        let spec = WorkloadSpec::Scanner {
            set_mib: 16,
            rate_mibps: 4.0,
        };
        // The first burst of each seed: when, and the first page of the set it writes.
        let first = |seed: u64| {
            let mut w = Workload::new(&spec, 1 << 20, 1.0, FastRng::new(seed))
                .with_bursts(250.0, 0)
                .mid_cycle();
            (1..=250u64).find_map(|ms| {
                let mut page = None;
                w.advance_to(SimTime::ZERO + SimDuration::from_millis(ms), 0, |p| {
                    page = page.or(Some(p))
                });
                page.map(|p| (ms, p))
            })
        };
        let starts: Vec<(u64, u64)> = (1..=8).filter_map(first).collect();
        // Every seed wakes within one period and starts inside the set, ...
        assert_eq!(starts.len(), 8);
        assert!(starts.iter().all(|&(ms, p)| ms <= 250 && p < 16 * 256));
        // ... and not all at the same moment or page (a fresh writer: 250 ms, page 0).
        let distinct = |f: fn(&(u64, u64)) -> u64| {
            starts
                .iter()
                .map(f)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        };
        assert!(distinct(|s| s.0) > 4 && distinct(|s| s.1) > 4, "{starts:?}");
        // The same seed starts the same way.
        assert_eq!(first(3), first(3));
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
