//! The constants the simulator cannot know about a particular lab, kept in one file
//! (`assets/calibration/labbox.toml`) and fitted by `migralab fidelity --calibrate` on the
//! calibration cases only — idle guests at two caps and without one, a writer throttled by
//! auto-converge, a slow writer at a tight limit — so the reported error is measured on cases
//! the fit never saw. What the recording gives directly (dumps of the guests' memory, QEMU's
//! dirty-page counts, the ping gap) is computed; the rest is searched for with the simulator,
//! round after round until the constants settle. `--check-calibration` runs one more settling
//! from the shipped constants, each search over the steps next to its value: the test suite
//! checks with it that the shipped file is what the fit gives.

use super::grid::Case;
use super::measure::Measurement;
use super::runs::GuestMemoryMap;
use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How many times the fit simulates a calibration case for each value it tries: the number the
/// notebook's rule (see [`twin_runs`](super::twin_runs)) takes over the calibration cases,
/// whose twins' medians are settled with far fewer runs than the grid's busiest cases need
/// (`migralab fidelity --replay` prints that count under the table). The fit tries some
/// hundreds of values, so its cost is this number many times over.
pub const FIT_RUNS: u64 = 51;

/// The shipped calibration of the lab in a box.
pub const SHIPPED: &str = include_str!("../../../assets/calibration/labbox.toml");

/// Where `--calibrate` writes by default (the shipped file, in a source checkout).
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/calibration/labbox.toml")
}

/// The fitted constants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// The copy rate when no cap is set, MiB/s (QEMU on this machine's cores, not the veth).
    pub link_mibps: f64,
    /// From the command to the first RAM page (connections, QEMU started paused on the
    /// destination), ms.
    pub setup_ms: f64,
    /// Device state sent at the switch-over, KiB.
    pub device_state_kib: u64,
    /// Loading the device state and starting the vCPUs on the destination, ms.
    pub resume_ms: f64,
    /// After the resume until pings reach the guest at its new place, ms.
    pub announce_ms: f64,
    /// RAM a freshly booted idle guest has written besides its page descriptors (the kernel
    /// keeps 64 bytes for each 4 KiB page, 1/64 of RAM, added on top), MiB; everything else
    /// is zero pages.
    pub guest_touched_mib: f64,
    /// Memory the boot wrote and freed, MiB: the guest's workload (its working set and
    /// buffer) takes these pages first, so only what is beyond them adds data to RAM. From
    /// dumps of the booted writers' memory (or, without dumps, their first passes).
    #[serde(default)]
    pub guest_freed_mib: f64,
    /// Written memory at the top of the guest's RAM besides the page descriptors the kernel
    /// puts there (1/64 of RAM, added on top), MiB: initrd and early allocations. From dumps of
    /// the booted guests' memory, not fitted to the migrations.
    #[serde(default)]
    pub top_used_mib: u64,
    /// What the writer's every wake-up dirties besides its working set, KiB: a `dd` process
    /// with its 256 KiB buffer, the copies the shell's fork makes, the kernel's own structures.
    /// Fitted on the slow writer at a tight limit.
    #[serde(default)]
    pub writer_churn_kib: u64,
    /// What the idle guest writes anyway (timers, and the buffers of the 100 pings a second
    /// the harness sends it), MiB/s, over a small set of pages (`guest_background_set_kib`):
    /// both fitted to the dirty pages QEMU counted over the first pass of the idle cases.
    #[serde(default)]
    pub guest_background_mibps: f64,
    /// The memory those writes go to, KiB.
    #[serde(default)]
    pub guest_background_set_kib: u64,
    /// How fast the guest's writer copies memory when it does not pace itself, MiB/s: it needs
    /// rate / this of its vCPU, so auto-converge's throttle slows it only past 1 - that.
    /// Absent: a CPU-bound writer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_write_mibps: Option<f64>,
    /// Where the numbers come from (written by `--calibrate`).
    #[serde(default)]
    pub fitted_on: Vec<String>,
}

impl Calibration {
    /// The shipped constants.
    pub fn shipped() -> anyhow::Result<Calibration> {
        toml::from_str(SHIPPED).context("the shipped assets/calibration/labbox.toml is invalid")
    }

    /// Read a calibration file.
    pub fn load(path: &Path) -> anyhow::Result<Calibration> {
        let text = migralab_real::fsutil::read_text_bounded(
            path,
            migralab_real::fsutil::Limit::CALIBRATION,
        )?;
        toml::from_str(&text)
            .with_context(|| format!("{} is not a calibration file", path.display()))
    }

    /// Write it with a header that says what it is.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let body = toml::to_string(self).context("cannot write the calibration as TOML")?;
        let text = format!("{HEADER}{body}");
        Ok(migralab_real::fsutil::write_atomically(
            path,
            text.as_bytes(),
        )?)
    }

    /// Fit the constants to the real medians of the calibration cases, keeping `prior` where a
    /// case that would tell is missing; the simulator answers with the median of
    /// [`FIT_RUNS`] runs per case.
    pub fn fit(prior: &Calibration, inputs: &[FitInput]) -> Calibration {
        Calibration::fit_with_runs(prior, inputs, FIT_RUNS)
    }

    /// [`Calibration::fit`] with the median of `runs` simulated runs per case (the fit
    /// simulates each calibration case some hundred times: tests take fewer runs).
    pub fn fit_with_runs(prior: &Calibration, inputs: &[FitInput], runs: u64) -> Calibration {
        Calibration::fit_searching(prior, inputs, runs, Search::Full)
    }

    /// The fit, its simulator searches as wide as `search` says. [`Search::Full`] is the fit:
    /// its result depends on the recording alone. [`Search::Around`] checks that `prior` is the
    /// fit's result without its cost: everything the recording gives directly is recomputed,
    /// and the constants found with the simulator start from `prior`'s and go through one
    /// more round of their searches, each over the same steps but only the few next to the
    /// value (the fit's own last round, when `prior` is what the fit gave).
    pub fn fit_searching(
        prior: &Calibration,
        inputs: &[FitInput],
        runs: u64,
        search: Search,
    ) -> Calibration {
        let mut c = prior.clone();
        let cases: Vec<(&Case, &Measurement)> =
            inputs.iter().map(|i| (&i.case, &i.median)).collect();
        let idle: Vec<_> = cases
            .iter()
            .filter(|(k, m)| k.calibration && k.dirty_rate_mibps == 0 && m.completed())
            .collect();
        // Dumps of the booted guests say it directly: what an idle guest holds besides its
        // page descriptors, what lies at the top, and how much of a writer's files fit in
        // memory the boot had freed.
        let maps: Vec<(&Case, GuestMemoryMap)> = inputs
            .iter()
            .filter(|i| i.case.calibration)
            .filter_map(|i| i.case.memory.clone().map(|m| (&i.case, m)))
            .collect();
        let idle_maps: Vec<f64> = maps
            .iter()
            .filter(|(k, _)| k.dirty_rate_mibps == 0)
            .map(|(k, m)| m.nonzero_mib - k.page_descriptors_mib())
            .collect();
        if let Some(t) = median(&idle_maps) {
            c.guest_touched_mib = round1(t);
        } else {
            // Without dumps, from the idle guests' bytes: touched pages cost 4104 B (page +
            // header), the rest 9 B (zero-page marker).
            let touched: Vec<f64> = idle
                .iter()
                .map(|(k, m)| {
                    let pages = (k.ram_mib * 256) as f64;
                    let touched_pages = ((m.bytes - pages * 9.0) / (4104.0 - 9.0)).max(0.0);
                    touched_pages / 256.0 - k.page_descriptors_mib()
                })
                .collect();
            if let Some(t) = median(&touched) {
                c.guest_touched_mib = round1(t);
            }
            // Those bytes also hold the pages the idle guest wrote again during the migration
            // (its background): take out what the simulator resends, twice to settle.
            for _ in 0..2 {
                let excess: Vec<f64> = idle
                    .iter()
                    .filter_map(|(k, m)| {
                        simulated(k, &c, runs).map(|s| (s.bytes - m.bytes) / 4096.0 / 256.0)
                    })
                    .collect();
                if let Some(e) = median(&excess) {
                    c.guest_touched_mib = round1((c.guest_touched_mib - e).max(0.0));
                }
            }
        }
        let tops: Vec<f64> = maps
            .iter()
            .map(|(k, m)| m.top_mib - k.page_descriptors_mib())
            .collect();
        if let Some(t) = median(&tops) {
            c.top_used_mib = t.max(0.0).round() as u64;
        }
        let freed: Vec<f64> = maps
            .iter()
            .filter(|(k, _)| k.dirty_rate_mibps > 0)
            .map(|(k, m)| {
                let allocated = (k.working_set_mib + k.buffer_mib()) as f64;
                c.guest_touched_mib + k.page_descriptors_mib() + allocated - m.nonzero_mib
            })
            .collect();
        if let Some(f) = median(&freed) {
            c.guest_freed_mib = round1(f.max(0.0));
        }
        // Capped cases: total = setup + bytes / cap + downtime.
        let setups: Vec<f64> = idle
            .iter()
            .filter_map(|(k, m)| {
                k.bandwidth_mibps.map(|cap| {
                    m.total_ms - m.bytes / (cap as f64 * 1_048_576.0) * 1000.0 - m.downtime_ms
                })
            })
            .collect();
        if let Some(s) = median(&setups) {
            c.setup_ms = round1(s.max(0.0));
        }
        // The uncapped case: the rate QEMU reaches on its own.
        let rates: Vec<f64> = idle
            .iter()
            .filter(|(k, _)| k.bandwidth_mibps.is_none())
            .filter_map(|(_, m)| {
                let copy_ms = m.total_ms - c.setup_ms - m.downtime_ms;
                (copy_ms > 0.0).then(|| m.bytes / 1_048_576.0 / (copy_ms / 1000.0))
            })
            .collect();
        if let Some(r) = median(&rates) {
            c.link_mibps = round1(r);
        }
        // The idle guest's own writes, from the dirty pages QEMU counted after a first pass of
        // t seconds: a set of B pages rewritten at random at r pages/s leaves B (1 - e^(-rt/B))
        // of them dirty. The (B, r) that fit those counts best, on a log scale.
        let points: Vec<(f64, f64)> = inputs
            .iter()
            .filter(|i| i.case.calibration && i.case.dirty_rate_mibps == 0)
            .flat_map(|i| i.qemu_dirty.iter().copied())
            .filter(|(t, n)| *t > 0.0 && *n > 0.0)
            .collect();
        if !points.is_empty() {
            let misfit = |b: f64, r: f64| -> f64 {
                points
                    .iter()
                    .map(|(t, n)| {
                        let model = b * (1.0 - (-r * t / b).exp());
                        (model.max(1e-9) / n).ln().powi(2)
                    })
                    .sum()
            };
            let grid = |lo: f64, hi: f64, n: i32| -> Vec<f64> {
                (0..=n)
                    .map(|i| lo * (hi / lo).powf(f64::from(i) / f64::from(n)))
                    .collect()
            };
            // Telling a set's size from its rate needs passes of different lengths (a short
            // one still growing, a long one saturated); with one length only the rate is
            // fitted, on the prior's set.
            let (shortest, longest) = points
                .iter()
                .fold((f64::MAX, 0.0f64), |(lo, hi), p| (lo.min(p.0), hi.max(p.0)));
            let sizes = if longest >= 1.5 * shortest || c.guest_background_set_kib == 0 {
                grid(16.0, 65536.0, 96)
            } else {
                vec![c.guest_background_set_kib as f64 / 4.0]
            };
            let best = sizes
                .into_iter()
                .flat_map(|b| grid(4.0, 16384.0, 96).into_iter().map(move |r| (b, r)))
                .min_by(|x, y| misfit(x.0, x.1).total_cmp(&misfit(y.0, y.1)));
            if let Some((b, r)) = best {
                c.guest_background_set_kib = (b * 4.0).round() as u64;
                c.guest_background_mibps = round3(r * 4096.0 / 1_048_576.0);
            }
        }
        // Then with the simulator itself, which also sends the last dirty pages (uncapped,
        // while paused) that the formulas above leave out: the setup that makes the capped idle
        // cases as long as they were, the rate that does so for the uncapped one, and the
        // resume that gives their downtime (what the simulator has while paused — the last
        // dirty pages and the device state at the link's rate — plus loading and starting on
        // the destination). Each depends a little on the others: rounds until they settle (see
        // `settle`). The resume starts from nothing rather than from the previous calibration,
        // so that the fit is a function of the recording alone; `Search::Around` starts from
        // the prior's three.
        match search {
            Search::Full => {
                if !idle.is_empty() {
                    c.resume_ms = 0.0;
                }
            }
            Search::Around => {
                c.setup_ms = prior.setup_ms;
                c.link_mibps = prior.link_mibps;
            }
        }
        let idle_round = |c: &mut Calibration| {
            let late: Vec<f64> = idle
                .iter()
                .filter(|(k, _)| k.bandwidth_mibps.is_some())
                .filter_map(|(k, m)| simulated(k, c, runs).map(|s| m.total_ms - s.total_ms))
                .collect();
            if let Some(e) = median(&late) {
                c.setup_ms = round1((c.setup_ms + e).max(0.0));
            }
            fit_link(c, &idle, runs, search);
            let resumes: Vec<f64> = idle
                .iter()
                .filter_map(|(k, m)| {
                    let trial = Calibration {
                        resume_ms: 0.0,
                        ..c.clone()
                    };
                    simulated(k, &trial, runs).map(|s| m.downtime_ms - s.downtime_ms)
                })
                .collect();
            if let Some(r) = median(&resumes) {
                c.resume_ms = round1(r.max(0.0));
            }
        };
        // Of two states the rounds alternate between, the one whose idle twins are nearer
        // QEMU's medians (ms of total time and of downtime).
        let idle_misfit = |c: &Calibration| -> f64 {
            idle.iter()
                .map(|(k, m)| {
                    simulated(k, c, runs).map_or(f64::INFINITY, |s| {
                        (s.total_ms - m.total_ms).abs() + (s.downtime_ms - m.downtime_ms).abs()
                    })
                })
                .sum()
        };
        c = settle(c, idle_round, idle_misfit);
        // The ping gap is the downtime plus the announce, less about one probe interval.
        let announces: Vec<f64> = idle
            .iter()
            .filter(|(_, m)| m.max_gap_ms > 0.0)
            .map(|(_, m)| m.max_gap_ms - m.downtime_ms - 10.0)
            .collect();
        if let Some(a) = median(&announces) {
            c.announce_ms = round1(a.max(0.0));
        }
        c.fitted_on = idle.iter().map(|(k, _)| k.name.clone()).collect();
        // Without dumps: how much of a working set reused freed memory, from the writers'
        // first pass against the idle guest's written memory.
        if maps.is_empty() {
            let freed: Vec<f64> = inputs
                .iter()
                .filter(|i| i.case.calibration && i.case.dirty_rate_mibps > 0)
                .filter_map(|i| {
                    let allocated = (i.case.working_set_mib + i.case.buffer_mib()) as f64;
                    let idle = c.guest_touched_mib + i.case.page_descriptors_mib();
                    i.first_pass_mib.map(|p| idle + allocated - p)
                })
                .collect();
            if let Some(f) = median(&freed) {
                c.guest_freed_mib = round1(f.max(0.0));
            }
        }
        // The writers: speed on the throttled one, churn on the slow one. Each depends a little
        // on the other's result: rounds until they settle, starting from no churn (not from the
        // previous calibration's; `Search::Around` from the prior's).
        if search == Search::Full
            && cases
                .iter()
                .any(|(k, _)| k.calibration && !k.auto_converge && k.dirty_rate_mibps > 0)
        {
            c.writer_churn_kib = 0;
        }
        settle(
            c,
            |c| fit_writers(c, inputs, runs, search),
            |c| writers_misfit(c, inputs, runs),
        )
    }
}

/// Rounds of a fit whose constants depend on each other, at most.
const MAX_ROUNDS: usize = 8;

/// `round` again and again from `start` until a round ends where an earlier one did: on a
/// state no round changes, or — the searches' steps being discrete, two states can send each
/// other back and forth — on a cycle, of which the state with the least `misfit` is taken. A
/// fit from anywhere that reaches the cycle takes the same state, so one more settling from
/// the result gives the result again (what `Search::Around` checks).
fn settle(
    start: Calibration,
    mut round: impl FnMut(&mut Calibration),
    misfit: impl Fn(&Calibration) -> f64,
) -> Calibration {
    let mut seen = vec![start.clone()];
    let mut c = start;
    for _ in 0..MAX_ROUNDS {
        round(&mut c);
        if let Some(i) = seen.iter().position(|s| *s == c) {
            let cycle = &seen[i..];
            if cycle.len() == 1 {
                return c;
            }
            return cycle
                .iter()
                .map(|s| (misfit(s), s))
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map_or(c.clone(), |(_, s)| s.clone());
        }
        seen.push(c.clone());
    }
    c
}

/// How far the writers' calibration cases are from QEMU with `c`: the sum of what their two
/// searches minimise (see `fit_writers`).
fn writers_misfit(c: &Calibration, inputs: &[FitInput], runs: u64) -> f64 {
    writer_case(inputs, true).map_or(0.0, |i| misfit(&i.case, &i.median, c, 0.0, runs))
        + writer_case(inputs, false).map_or(0.0, |i| {
            distribution_misfit(&i.case, &i.median, &i.completed_runs(), c, 0.5, runs)
        })
}

/// The writer's calibration case with a real median: the one throttled by auto-converge
/// (`throttled`), or the slow one at a tight limit.
fn writer_case(inputs: &[FitInput], throttled: bool) -> Option<&FitInput> {
    inputs.iter().find(|i| {
        i.case.calibration
            && i.case.auto_converge == throttled
            && i.case.dirty_rate_mibps > 0
            && i.median.completed()
    })
}

/// How wide the fit's simulator searches look (see [`Calibration::fit_searching`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// Every step of every search, from where the recording puts them.
    Full,
    /// One round from the prior's constants, over the steps next to each.
    Around,
}

impl Search {
    /// The steps `i` of a search over `range` whose value is within `reach` steps of step
    /// `at` (the current value's); all of `range` for a full search.
    fn steps(
        self,
        range: std::ops::RangeInclusive<i32>,
        at: f64,
        reach: f64,
    ) -> impl Iterator<Item = i32> {
        range.filter(move |&i| self == Search::Full || (f64::from(i) - at).abs() <= reach)
    }
}

/// The simulator's answer for `k` with `c` (the median of `runs` runs), if it completed.
fn simulated(k: &Case, c: &Calibration, runs: u64) -> Option<Measurement> {
    super::measure::simulate_median(k, c, runs)
        .ok()
        .filter(Measurement::completed)
}

/// The uncapped rate: the value, within half to twice the current estimate (at first the
/// formula's), that makes the simulator's uncapped idle cases last as long as they did. A
/// search, not a ratio update: the simulated downtime jumps as the last pass ends before or
/// after a sync, and scaling the rate by the ratio of copy times then swings between two
/// values instead of settling.
fn fit_link(c: &mut Calibration, idle: &[&(&Case, &Measurement)], runs: u64, search: Search) {
    let uncapped: Vec<(&Case, &Measurement)> = idle
        .iter()
        .filter(|(k, _)| k.bandwidth_mibps.is_none())
        .map(|(k, m)| (*k, *m))
        .collect();
    if uncapped.is_empty() || c.link_mibps <= 0.0 {
        return;
    }
    let error = |link: f64| {
        let trial = Calibration {
            link_mibps: link,
            ..c.clone()
        };
        let errors: Vec<f64> = uncapped
            .iter()
            .map(|(k, m)| {
                simulated(k, &trial, runs).map_or(f64::INFINITY, |s| {
                    (s.total_ms - m.total_ms).abs() / m.total_ms
                })
            })
            .collect();
        median(&errors).unwrap_or(f64::INFINITY)
    };
    // 1 % steps; among equally good rates, the one nearest the estimate.
    let start = c.link_mibps;
    let best = search
        .steps(-70..=70, 0.0, 3.0)
        .map(|i| round1(start * 1.01f64.powi(i)))
        .map(|l| (l, error(l)))
        .min_by(|a, b| {
            a.1.total_cmp(&b.1).then(
                (a.0 / start)
                    .ln()
                    .abs()
                    .total_cmp(&(b.0 / start).ln().abs()),
            )
        });
    if let Some((l, e)) = best
        && e.is_finite()
    {
        c.link_mibps = l;
    }
}

/// How far the simulator with `trial` is from the real median `m` of case `k`: the relative
/// errors of time and bytes, plus `passes_weight` times that of the iteration count
/// (infinite when the simulated run does not complete).
fn misfit(k: &Case, m: &Measurement, trial: &Calibration, passes_weight: f64, runs: u64) -> f64 {
    simulated(k, trial, runs).map_or(f64::INFINITY, |s| {
        (s.total_ms - m.total_ms).abs() / m.total_ms
            + (s.bytes - m.bytes).abs() / m.bytes
            + passes_weight * (s.iterations as f64 - m.iterations as f64).abs()
                / m.iterations.max(1) as f64
    })
}

/// How far the twin's runs of `k` with `trial` lie from the real runs `real`: the earth
/// mover's distance between the two distributions of total time, of bytes and (weighted by
/// `passes_weight`) of passes, each relative to the real median `m`. Infinite when no
/// simulated run completed.
fn distribution_misfit(
    k: &Case,
    m: &Measurement,
    real: &[&Measurement],
    trial: &Calibration,
    passes_weight: f64,
    runs: u64,
) -> f64 {
    let Ok(sims) = super::measure::simulate_runs(k, trial, runs) else {
        return f64::INFINITY;
    };
    let sims: Vec<&Measurement> = sims.iter().filter(|s| s.completed()).collect();
    if sims.is_empty() || real.is_empty() {
        return f64::INFINITY;
    }
    let distance = |f: &dyn Fn(&Measurement) -> f64, scale: f64| {
        let a: Vec<f64> = real.iter().map(|r| f(r)).collect();
        let b: Vec<f64> = sims.iter().map(|s| f(s)).collect();
        earth_movers_distance(&a, &b) / scale.max(f64::MIN_POSITIVE)
    };
    distance(&|r| r.total_ms, m.total_ms)
        + distance(&|r| r.bytes, m.bytes)
        + passes_weight * distance(&|r| r.iterations as f64, m.iterations.max(1) as f64)
}

/// The earth mover's (1-Wasserstein) distance between the empirical distributions of `a` and
/// `b`: the area between their step CDFs, so for two samples of the same size the mean
/// |difference| of their sorted values. 0 when either is empty.
pub fn earth_movers_distance(a: &[f64], b: &[f64]) -> f64 {
    let sorted = |v: &[f64]| {
        let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let (a, b) = (sorted(a), sorted(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let mut all: Vec<f64> = a.iter().chain(b.iter()).copied().collect();
    all.sort_by(f64::total_cmp);
    // Walk the merged values; between two of them both CDFs are flat.
    let (mut i, mut j, mut area) = (0usize, 0usize, 0.0);
    for w in all.windows(2) {
        while i < a.len() && a[i] <= w[0] {
            i += 1;
        }
        while j < b.len() && b[j] <= w[0] {
            j += 1;
        }
        let fa = i as f64 / a.len() as f64;
        let fb = j as f64 / b.len() as f64;
        area += (fa - fb).abs() * (w[1] - w[0]);
    }
    area
}

/// Fit the writers' constants of `c` (see [`Calibration::fit`]).
fn fit_writers(c: &mut Calibration, inputs: &[FitInput], runs: u64, search: Search) {
    // The writer's own speed: the value (on a log scale) that lets the simulator match the
    // total time and the bytes of the throttled calibration case.
    if let Some(FitInput {
        case: k, median: m, ..
    }) = writer_case(inputs, true)
    {
        let rate = k.dirty_rate_mibps as f64;
        let error = |w: Option<f64>| {
            let trial = Calibration {
                guest_write_mibps: w,
                ..c.clone()
            };
            misfit(k, m, &trial, 0.0, runs)
        };
        // Around a value: its step (none is a CPU-bound writer, below every step) and the
        // next on either side.
        let at = c
            .guest_write_mibps
            .map_or(-1.0, |w| (w / rate).ln() / 1.15f64.ln());
        let none = search == Search::Full || at < 0.0;
        let best = none
            .then_some(None)
            .into_iter()
            .chain(
                search
                    .steps(0..=40, at, 1.0)
                    .map(|i| Some(rate * 1.15f64.powi(i))),
            )
            .map(|w| (w, error(w)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((w, _)) = best {
            c.guest_write_mibps = w.map(round1);
        }
        if !c.fitted_on.contains(&k.name) {
            c.fitted_on.push(k.name.clone());
        }
    }
    // The writer's churn: the value that lets the simulator match the slow writer at a
    // tight limit (bytes, time and passes all depend on it there). Its real runs spread
    // widely (9-18 passes on the lab), so the twin's runs are matched to all of them, not to
    // their median: the median pass count of a few runs moves by one with every new pair of
    // runs, and one pass there moved the fitted churn by a fifth.
    if let Some(input) = writer_case(inputs, false) {
        let k = &input.case;
        let real = input.completed_runs();
        let error = |churn: u64| {
            let trial = Calibration {
                writer_churn_kib: churn,
                ..c.clone()
            };
            distribution_misfit(k, &input.median, &real, &trial, 0.5, runs)
        };
        let near = match search {
            Search::Full => None,
            Search::Around => Some(c.writer_churn_kib),
        };
        if let Some(best) = best_churn_kib(error, near) {
            c.writer_churn_kib = best;
        }
        if !c.fitted_on.contains(&k.name) {
            c.fitted_on.push(k.name.clone());
        }
    }
}

/// The churn (KiB) with the least `error`: 128 KiB steps from 0 to 4 MiB, then 32 KiB steps
/// within 96 KiB of the best of those — a long round's pass count can turn on a few dozen pages,
/// finer than the coarse grid. Ties go to the smaller churn. With `near`, only the coarse steps
/// within 1.5 steps of it are tried ([`Search::Around`]).
fn best_churn_kib(error: impl Fn(u64) -> f64, near: Option<u64>) -> Option<u64> {
    let best_of = |candidates: &mut dyn Iterator<Item = u64>| {
        candidates
            .map(|kib| (kib, error(kib)))
            .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
            .map(|(kib, _)| kib)
    };
    let coarse = best_of(
        &mut (0..=32u64)
            .map(|i| i * 128)
            .filter(|k| near.is_none_or(|n| k.abs_diff(n) <= 192)),
    )?;
    best_of(&mut (-3i64..=3).filter_map(|i| coarse.checked_add_signed(i * 32)))
}

const HEADER: &str = "\
# The lab in a box's constants for the simulator, fitted by `migralab fidelity --calibrate` on
# the calibration cases only (`fitted_on`: idle guests at two caps and without one, a writer
# throttled by auto-converge, a slow writer at a tight limit) from the real runs' medians and
# QEMU's own counters; what the guest's RAM holds (`guest_touched_mib`, `guest_freed_mib`,
# `top_used_mib`) from dumps of it taken when it was booted, when the recording has them. `migralab
# fidelity` reports the simulator's error on the other cases; `--check-calibration` checks that
# this file is what the fit gives for the recording. Units: MiB/s, ms, KiB, MiB.
";

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// What one calibration case measured, for [`Calibration::fit`].
#[derive(Debug, Clone)]
pub struct FitInput {
    /// The case.
    pub case: Case,
    /// The median of its real runs.
    pub median: Measurement,
    /// Every real run (the fits that match distributions use them; empty: the median stands
    /// for them).
    pub runs: Vec<Measurement>,
    /// Dirty pages QEMU counted at the end of a first pass, with how long the pass took
    /// (seconds, pages), one per run that reported them.
    pub qemu_dirty: Vec<(f64, f64)>,
    /// What the first pass sent, MiB (median of the runs: the bytes QEMU reported at its
    /// second sync).
    pub first_pass_mib: Option<f64>,
}

impl FitInput {
    /// The real runs that completed, or the median standing for them when none did (or the
    /// recording kept only the median).
    fn completed_runs(&self) -> Vec<&Measurement> {
        if self.runs.iter().any(Measurement::completed) {
            self.runs.iter().filter(|r| r.completed()).collect()
        } else {
            vec![&self.median]
        }
    }
}

/// The median of `v` (`None` when empty).
pub fn median(v: &[f64]) -> Option<f64> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_churn_search_refines_the_best_coarse_step_in_32_kib_steps() {
        // The least error at 1100 KiB: the coarse grid finds 1152, the fine steps 1088.
        assert_eq!(
            best_churn_kib(|k| (k as f64 - 1100.0).abs(), None),
            Some(1088)
        );
        // On the grid itself and at its ends.
        assert_eq!(
            best_churn_kib(|k| (k as f64 - 1408.0).abs(), None),
            Some(1408)
        );
        assert_eq!(best_churn_kib(|k| k as f64, None), Some(0));
        assert_eq!(best_churn_kib(|k| -(k as f64), None), Some(4096 + 96));
        // A flat error keeps the smallest candidate.
        assert_eq!(best_churn_kib(|_| 1.0, None), Some(0));
        // Near a value, only the coarse steps next to it: the best far away is not seen.
        let tried = std::cell::RefCell::new(Vec::new());
        let around = best_churn_kib(
            |k| {
                tried.borrow_mut().push(k);
                (k as f64 - 3000.0).abs()
            },
            Some(1376),
        );
        assert_eq!(around, Some(1536 + 96));
        assert!(
            tried
                .borrow()
                .iter()
                .all(|k| (1280..=1536 + 96).contains(k)),
            "{tried:?}"
        );
    }

    #[test]
    fn the_shipped_calibration_reads() {
        let c = Calibration::shipped().unwrap();
        assert!(c.link_mibps > 0.0 && c.guest_touched_mib > 0.0);
    }

    /// Simulated runs per case in these tests: the median of a few, so that a fit takes
    /// seconds, not minutes.
    const RUNS: u64 = 3;

    #[test]
    fn a_fit_recovers_the_constants_that_made_the_measurements() {
        // A made-up lab, "measured" by the simulator itself with known constants; the fit
        // starts from the shipped ones and must find the made-up ones again.
        let truth = Calibration {
            link_mibps: 150.0,
            setup_ms: 300.0,
            resume_ms: 30.0,
            guest_touched_mib: 70.0,
            guest_background_mibps: 1.0,
            guest_background_set_kib: 1024,
            // (A slow writer whose wake-ups dirty much more than the threshold may never
            // converge in this made-up lab: then its case cannot be fitted.)
            writer_churn_kib: 1024,
            ..Calibration::shipped().unwrap()
        };
        let grid = super::super::grid::quick();
        let inputs: Vec<FitInput> = grid
            .iter()
            .filter(|c| c.calibration)
            .map(|k| {
                let runs = super::super::measure::simulate_runs(k, &truth, RUNS).unwrap();
                let mut median = super::super::report::median_of(&runs).unwrap();
                let (_, syncs) = super::super::measure::simulate_with_syncs(k, &truth).unwrap();
                median.max_gap_ms = median.downtime_ms + 10.0 + 25.0;
                let cap = k.bandwidth_mibps.map(|b| b as f64 * 1_048_576.0);
                let qemu_dirty = syncs
                    .iter()
                    .filter(|s| s.iteration >= 2 && s.dirty_rate_pps.is_some_and(|d| d > 0))
                    .take(1)
                    .filter_map(|s| {
                        let secs = s.processed_bytes as f64 / cap?;
                        Some((secs, s.dirty_rate_pps? as f64 * secs))
                    })
                    .collect();
                let first_pass_mib = syncs
                    .iter()
                    .find(|s| s.iteration >= 2)
                    .map(|s| s.processed_bytes as f64 / 1_048_576.0);
                FitInput {
                    case: k.clone(),
                    median,
                    runs,
                    qemu_dirty,
                    first_pass_mib,
                }
            })
            .collect();
        let fit = Calibration::fit_with_runs(&Calibration::shipped().unwrap(), &inputs, RUNS);
        let near = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol * b;
        assert!(near(fit.guest_touched_mib, 70.0, 0.02), "{fit:?}");
        assert!(near(fit.setup_ms, 300.0, 0.05), "{fit:?}");
        assert!(near(fit.link_mibps, 150.0, 0.05), "{fit:?}");
        // The resume and the background rate are seen only through a few ms of downtime and
        // counts near saturation: recovered roughly.
        assert!((fit.resume_ms - 30.0).abs() < 10.0, "{fit:?}");
        assert!((fit.announce_ms - 25.0).abs() < 0.5, "{fit:?}");
        assert!(near(fit.guest_background_mibps, 1.0, 0.5), "{fit:?}");
        assert!(
            (512..=2048).contains(&fit.guest_background_set_kib),
            "{fit:?}"
        );
        // The churn, matched to the runs' spread, within a step or two of the grid.
        assert!(
            fit.writer_churn_kib.abs_diff(truth.writer_churn_kib) <= 256,
            "{fit:?}"
        );
        assert_eq!(
            fit.fitted_on.len(),
            inputs.len(),
            "{fit:?} {:?}",
            inputs
                .iter()
                .map(|i| (&i.case.name, &i.median))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_fit_depends_on_the_recording_not_on_the_previous_calibration() {
        // Fitted once from the shipped constants and once from very different ones, the same
        // measurements must give the same constants. (A rate scaled by the ratio of copy times
        // swings between two values depending on where it starts: see `fit_link`.)
        let shipped = Calibration::shipped().unwrap();
        let inputs: Vec<FitInput> = super::super::grid::full()
            .into_iter()
            .filter(|c| c.calibration && c.dirty_rate_mibps == 0)
            .map(|k| {
                let median = super::super::measure::simulate_median(&k, &shipped, RUNS).unwrap();
                FitInput {
                    case: k,
                    median,
                    runs: Vec::new(),
                    qemu_dirty: Vec::new(),
                    first_pass_mib: None,
                }
            })
            .collect();
        assert!(inputs.iter().any(|i| i.case.bandwidth_mibps.is_none()));
        let far = Calibration {
            link_mibps: shipped.link_mibps * 1.6,
            setup_ms: shipped.setup_ms * 0.5,
            resume_ms: 60.0,
            writer_churn_kib: 4096,
            ..shipped.clone()
        };
        let a = Calibration::fit_with_runs(&shipped, &inputs, RUNS);
        let b = Calibration::fit_with_runs(&far, &inputs, RUNS);
        assert_eq!(
            (a.link_mibps, a.setup_ms, a.resume_ms),
            (b.link_mibps, b.setup_ms, b.resume_ms)
        );
        // And the simulator with the fitted constants reproduces the uncapped case's time.
        let (k, m) = inputs
            .iter()
            .find(|i| i.case.bandwidth_mibps.is_none())
            .map(|i| (&i.case, &i.median))
            .unwrap();
        let s = super::super::measure::simulate_median(k, &a, RUNS).unwrap();
        assert!(
            (s.total_ms - m.total_ms).abs() <= 0.02 * m.total_ms,
            "{s:?} vs {m:?}"
        );
    }

    #[test]
    fn dumps_of_the_booted_guests_give_what_their_memory_holds() {
        // Made-up dumps of the calibration guests: an idle kernel of 70 MiB, 9 MiB freed by
        // the boot, 3 MiB at the top besides the page descriptors.
        let shipped = Calibration::shipped().unwrap();
        let inputs: Vec<FitInput> = super::super::grid::full()
            .into_iter()
            .filter(|c| c.calibration)
            .map(|mut k| {
                let pd = k.page_descriptors_mib();
                let allocated = (k.working_set_mib + k.buffer_mib()) as f64;
                k.memory = Some(GuestMemoryMap {
                    nonzero_mib: 70.0 + pd + (allocated - 9.0).max(0.0),
                    top_mib: 3.0 + pd,
                    data_pages_per_mib: Vec::new(),
                    writer_files: Vec::new(),
                });
                let median = super::super::measure::simulate_median(&k, &shipped, RUNS).unwrap();
                // The dirty pages after first passes of one length only (as when the poll missed
                // the short pass's sync).
                let qemu_dirty = if k.dirty_rate_mibps == 0 {
                    vec![(7.5, 233.0)]
                } else {
                    Vec::new()
                };
                FitInput {
                    case: k,
                    median,
                    runs: Vec::new(),
                    qemu_dirty,
                    first_pass_mib: None,
                }
            })
            .collect();
        assert!(
            inputs
                .iter()
                .any(|i| i.case.working_set_mib + i.case.buffer_mib() > 9)
        );
        let fit = Calibration::fit_with_runs(&shipped, &inputs, RUNS);
        assert_eq!(fit.guest_touched_mib, 70.0);
        assert_eq!(fit.top_used_mib, 3);
        assert_eq!(fit.guest_freed_mib, 9.0);
        // One pass length cannot tell a set's size from its rate: the size stays, the rate fits.
        assert_eq!(
            fit.guest_background_set_kib,
            shipped.guest_background_set_kib
        );
        let b = shipped.guest_background_set_kib as f64 / 4.0;
        let r = fit.guest_background_mibps * 256.0;
        let model = b * (1.0 - (-r * 7.5 / b).exp());
        assert!((model - 233.0).abs() < 10.0, "{fit:?}");
    }

    #[test]
    fn the_labbox_scenario_carries_the_shipped_calibration() {
        // The app's prediction reads the scenario; the harness reads the file: they must agree.
        let c = Calibration::shipped().unwrap();
        let sc = crate::measure::labbox_scenario().unwrap();
        assert_eq!(sc.link.bandwidth_mibps, c.link_mibps);
        assert_eq!(sc.sim.setup_ms, c.setup_ms);
        assert_eq!(sc.sim.device_state_kib, c.device_state_kib);
        assert_eq!(sc.sim.resume_ms, c.resume_ms);
        assert_eq!(sc.sim.announce_ms, c.announce_ms);
        // And db01 is the idle guest the calibration describes.
        let vm = &sc.vms[0];
        // What it wrote, the page descriptors (1/64 of RAM) on top.
        assert_eq!(vm.written_mib, Some(c.guest_touched_mib));
        assert_eq!(vm.zero_fraction, None);
        let touched = c.guest_touched_mib + vm.ram_mib as f64 / 64.0;
        assert_eq!(vm.data_pages() as f64, touched * 256.0);
        assert_eq!(vm.measured.background_dirty_mibps, c.guest_background_mibps);
        assert_eq!(vm.measured.background_set_kib, c.guest_background_set_kib);
        assert_eq!(vm.measured.top_used_mib, c.top_used_mib + vm.ram_mib / 64);
    }

    #[test]
    fn earth_movers_distance_is_the_area_between_the_cdfs() {
        assert_eq!(
            earth_movers_distance(&[1.0, 2.0, 3.0], &[3.0, 1.0, 2.0]),
            0.0
        );
        // Same sizes: the mean |difference| of the sorted values.
        let d = earth_movers_distance(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]);
        assert!((d - 2.0).abs() < 1e-12, "{d}");
        // A point against two: half the mass moves by 1.
        let d = earth_movers_distance(&[0.0], &[0.0, 1.0]);
        assert!((d - 0.5).abs() < 1e-12, "{d}");
        // Symmetric, and shifting one sample by c moves it by c.
        let a = [9.0, 11.0, 12.0, 18.0];
        let b = [10.0, 10.0, 11.0];
        assert_eq!(earth_movers_distance(&a, &b), earth_movers_distance(&b, &a));
        let shifted: Vec<f64> = a.iter().map(|x| x + 5.0).collect();
        assert!((earth_movers_distance(&a, &shifted) - 5.0).abs() < 1e-12);
        assert_eq!(earth_movers_distance(&a, &[]), 0.0);
    }

    #[test]
    fn medians_of_odd_even_and_empty_lists() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
