//! What one run may cost the simulator (issue 22 §3): about 5 s of CPU and 1 GiB of memory on a
//! 2-core lab PC, for any scenario the validator accepts.
//!
//! Two guards. Before a run, [`check`] estimates its cost from the scenario and refuses one that
//! would not fit, naming the value to change. During a run, every migration meters the work it
//! does (a page written by the guest, a bitmap word or disk chunk visited, a tick's fixed cost:
//! see [`TICK_WORK`]) and the simulator stops a job that has spent its share of [`MAX_WORK`]
//! with the outcome `work-limit`. The estimate cannot foresee every run (a guest re-dirtying a
//! few pages of a huge RAM faster than the link makes QEMU sync its whole bitmap again and
//! again); the meter can, so no run exceeds the budget, however its scenario was written.
//!
//! The units are calibrated so that [`MAX_WORK`] takes about 5 s on the development machine
//! (`cargo bench -p migralab_sim_core --bench precopy -- budget`; numbers in
//! `docs/src/reference/limits.md`).

use crate::scenario::{MigrationSpec, Scenario, VmSpec};
use crate::simulator::TICK;
use crate::units::{GIB, MIB, MIRROR_CHUNK_BYTES, NORMAL_PAGE_WIRE_BYTES, PAGE_SIZE};

/// Work one run may do, in the meter's units (about a nanosecond each).
pub const MAX_WORK: u64 = 5_000_000_000;

/// A page the guest writes (a random draw, the dirty log, the zero map).
pub const WRITE_WORK: u64 = 10;

/// A bitmap word visited by a sync or the sender (64 pages), or a disk chunk.
pub const WORD_WORK: u64 = 8;

/// The fixed cost of one tick of one migration (sharing the link, the state machine's checks,
/// a progress sample, the probes of the tick).
pub const TICK_WORK: u64 = 700;

/// Memory one run may hold: its bitmaps and its trace.
pub const MAX_MEMORY_BYTES: u64 = 1 << 30;

/// Trace events one run may produce (probes, progress samples, syncs, logs): each is held in
/// memory and written out by `--json`.
pub const MAX_EVENTS: u64 = 2_000_000;

/// Memory an event takes, held and written out as JSON (measured: about 150 bytes in the trace,
/// 250 in pretty JSON).
const EVENT_BYTES: u64 = 400;

/// How long QEMU's `ram_save_iterate` keeps sending before the loop looks at the threshold again:
/// at most one bitmap sync per this many ms while the guest keeps re-dirtying.
const ITERATE_MS: f64 = 50.0;

/// Syncs of a job that converges: the setup's, the end of each of a few passes, the last.
const CONVERGING_SYNCS: f64 = 16.0;

/// Room for setup, the device state, the resume and the announce after the limits above.
const STOP_AND_RESUME_MS: f64 = 10_000.0;

/// The estimate of one run's cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Simulated time from the start to the last probe, ms.
    pub span_ms: f64,
    /// Trace events.
    pub events: u64,
    /// Peak memory, bytes.
    pub memory_bytes: u64,
    /// Work of each migration, in the scenario's order.
    pub jobs: Vec<JobWork>,
}

/// One migration's work, by what causes it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct JobWork {
    /// Pages the guest writes while the job runs.
    pub writes: f64,
    /// Bitmap words visited by syncs and the sender's laps.
    pub scans: f64,
    /// The ticks' fixed cost.
    pub ticks: f64,
}

impl JobWork {
    /// All of it, in the meter's units.
    pub fn total(&self) -> u64 {
        (self.writes + self.scans + self.ticks).min(u64::MAX as f64) as u64
    }
}

/// The share of [`MAX_WORK`] each of `migrations` jobs may spend.
pub fn work_per_migration(migrations: usize) -> u64 {
    MAX_WORK / migrations.max(1) as u64
}

/// Bitmap words of a guest's RAM and firmware.
fn words(vm: &VmSpec) -> u64 {
    let pages = vm.ram_mib.saturating_mul(MIB / PAGE_SIZE)
        + (vm.measured.firmware_kib.saturating_mul(1024)).div_ceil(PAGE_SIZE);
    pages.div_ceil(64)
}

/// Chunks of the block mirror's bitmap when `vm`'s disk is copied.
fn disk_chunks(vm: &VmSpec, m: &MigrationSpec) -> u64 {
    if m.copy_storage_all {
        (vm.disk_gib * (GIB / MIRROR_CHUNK_BYTES) as f64) as u64
    } else {
        0
    }
}

/// The work a job does before its first tick: its bitmaps, set up at once (the meter can only
/// stop what comes after).
pub fn setup_work(vm: &VmSpec, m: &MigrationSpec) -> u64 {
    (3 * words(vm) + disk_chunks(vm, m).div_ceil(64)).saturating_mul(WORD_WORK)
}

/// Longest a job of `vm` can last, ms: its time limit, plus what comes after pre-copy, which the
/// limit does not cut. A stop-and-copy starts with less left than the downtime limit's worth of
/// the link, so it lasts about that long; post-copy and a `--timeout` that suspends the guest may
/// have all its RAM and disk left to send, at the slowest rate the job may be given.
fn job_ms(s: &Scenario, vm: &VmSpec, m: &MigrationSpec) -> f64 {
    let tail = if m.postcopy || m.timeout_s.is_some() {
        let rate = [m.postcopy_bandwidth_mibps, m.bandwidth_mibps]
            .into_iter()
            .flatten()
            .map(|b| b as f64 * MIB as f64)
            .fold(s.link.bytes_per_sec(), f64::min)
            .max(1.0);
        let disk = if m.copy_storage_all {
            vm.disk_gib * GIB as f64
        } else {
            0.0
        };
        (vm.ram_mib as f64 * MIB as f64 + disk) / rate * 1000.0
    } else {
        2.0 * m.downtime_limit_ms as f64
    };
    s.sim.max_time_s * 1000.0 + tail + STOP_AND_RESUME_MS
}

/// What one migration of `vm` costs, at most `job_ms` long.
fn job_work(s: &Scenario, vm: &VmSpec, m: &MigrationSpec, job_ms: f64) -> JobWork {
    let limit_ms = s.sim.max_time_s * 1000.0;
    let w = words(vm) as f64;
    // The guest writes while pre-copy runs: its workload, its kernel, each burst's churn, and
    // its disk (the block mirror's dirty chunks).
    let rate = vm.workload.set_and_rate().map_or(0.0, |(_, r)| r)
        + vm.measured.background_dirty_mibps
        + vm.disk_write_mibps;
    let mut writes = rate * (MIB / PAGE_SIZE) as f64 * limit_ms / 1000.0;
    if vm.measured.workload_burst_ms > 0.0 {
        writes += vm.measured.workload_churn_kib.div_ceil(4) as f64 * limit_ms
            / vm.measured.workload_burst_ms;
    }
    // A sync visits every word; so does a lap of the sender. The first pass lasts as long as
    // sending the guest's data takes; after it, a guest that keeps writing makes QEMU sync once
    // per pass over what it rewrote (its working set), and at most once per iterate window.
    let data_bytes = (vm.data_pages() * PAGE_SIZE) as f64;
    let link = s.link.bytes_per_sec().max(1.0);
    let wire = NORMAL_PAGE_WIRE_BYTES as f64 / PAGE_SIZE as f64;
    let first_pass_ms = data_bytes * wire / link * 1000.0;
    let set_mib = vm.workload.set_and_rate().map_or(0, |(set, _)| set);
    let pass_ms = (set_mib as f64 * MIB as f64 * wire / link * 1000.0).max(ITERATE_MS);
    // A guest that writes slower than the link, or rewrites less than the downtime limit's
    // worth of it, converges within a few passes of the first.
    let threshold = link * m.downtime_limit_ms as f64 / 1000.0;
    let converges = rate * (MIB as f64) < link || (set_mib * MIB) as f64 <= threshold;
    let syncs = if first_pass_ms >= limit_ms {
        // The time limit comes first: the setup's sync and perhaps one more.
        2.0
    } else if converges {
        CONVERGING_SYNCS
    } else {
        CONVERGING_SYNCS + (limit_ms - first_pass_ms).max(0.0) / pass_ms
    };
    JobWork {
        writes: writes * WRITE_WORK as f64,
        // Each chunk of a copied disk is sent at least once.
        scans: syncs * 2.0 * w * WORD_WORK as f64
            + (setup_work(vm, m) + disk_chunks(vm, m).saturating_mul(WORD_WORK)) as f64,
        ticks: job_ms / TICK.as_ms_f64() * TICK_WORK as f64,
    }
}

/// Estimate what running `s` costs.
pub fn estimate(s: &Scenario) -> Estimate {
    let mut span_ms: f64 = 0.0;
    let mut events: u64 = 0;
    let mut memory: u64 = 0;
    let mut jobs = Vec::new();
    for m in &s.migrations {
        let Some(vm) = s.vms.iter().find(|v| v.name == m.vm) else {
            jobs.push(JobWork::default());
            continue;
        };
        let job = job_ms(s, vm, m);
        span_ms = span_ms.max(m.start_ms as f64 + job);
        // Bitmaps: to send, the dirty log, the zero pages; the block mirror's chunks.
        memory = memory
            .saturating_add(words(vm).saturating_mul(3 * 8))
            .saturating_add(disk_chunks(vm, m) / 8);
        let work = job_work(s, vm, m, job);
        // Progress samples, syncs and a few logs.
        events = events
            .saturating_add((job / s.sim.sample_interval_ms.max(1) as f64) as u64)
            .saturating_add((work.scans / (2.0 * (words(vm).max(1) * WORD_WORK) as f64)) as u64)
            .saturating_add(16);
        jobs.push(work);
    }
    span_ms += s.prober.tail_ms;
    if s.prober.enabled {
        events =
            events.saturating_add((span_ms / s.prober.interval_ms).min(u64::MAX as f64) as u64 + 1);
    }
    memory = memory.saturating_add(events.saturating_mul(EVENT_BYTES));
    Estimate {
        span_ms,
        events,
        memory_bytes: memory,
        jobs,
    }
}

/// Refuse a scenario whose run would cost more than the budget, naming the value to change.
pub fn check(s: &Scenario) -> Result<(), (String, String)> {
    let e = estimate(s);
    // The simulator ticks through the whole span, migrations or not.
    let ticks = e.span_ms / TICK.as_ms_f64();
    if ticks * TICK_WORK as f64 > MAX_WORK as f64 {
        let latest = s
            .migrations
            .iter()
            .enumerate()
            .max_by_key(|(_, m)| m.start_ms);
        let path = match latest {
            Some((i, m)) if m.start_ms as f64 > s.prober.tail_ms.max(s.sim.max_time_s * 1000.0) => {
                format!("migration.{i}.start_ms")
            }
            _ if s.prober.tail_ms > s.sim.max_time_s * 1000.0 => "prober.tail_ms".into(),
            _ => "sim.max_time_s".into(),
        };
        return Err((
            path,
            format!(
                "the run would last up to {:.0} s of simulated time; one run may last at most {:.0} s: start the migrations earlier, or shorten sim.max_time_s or prober.tail_ms",
                e.span_ms / 1000.0,
                MAX_WORK as f64 / TICK_WORK as f64 * TICK.as_ms_f64() / 1000.0
            ),
        ));
    }
    if e.events > MAX_EVENTS {
        let probes = s.prober.enabled && e.span_ms / s.prober.interval_ms > e.events as f64 / 2.0;
        let (path, what) = if probes {
            (
                "prober.interval_ms",
                format!("a probe every {} ms", s.prober.interval_ms),
            )
        } else {
            (
                "sim.sample_interval_ms",
                format!("a progress sample every {} ms", s.sim.sample_interval_ms),
            )
        };
        return Err((
            path.into(),
            format!(
                "{what} over up to {:.0} s of simulated time makes {} trace events; one run may make at most {MAX_EVENTS}: make the interval longer, or sim.max_time_s or prober.tail_ms shorter",
                e.span_ms / 1000.0,
                e.events
            ),
        ));
    }
    if e.memory_bytes > MAX_MEMORY_BYTES {
        let biggest = s
            .migrations
            .iter()
            .filter_map(|m| s.vms.iter().position(|v| v.name == m.vm))
            .max_by_key(|&i| s.vms[i].ram_mib);
        return Err((
            biggest.map_or_else(|| "vm".into(), |i| format!("vm.{i}.ram_mib")),
            format!(
                "the migrated guests' RAM and the trace would take {} MiB of the simulator's memory; one run may take at most {} MiB: migrate smaller or fewer VMs",
                e.memory_bytes / MIB,
                MAX_MEMORY_BYTES / MIB
            ),
        ));
    }
    let per = work_per_migration(s.migrations.len());
    for (i, job) in e.jobs.iter().enumerate() {
        if job.total() <= per {
            continue;
        }
        let vm = s
            .migrations
            .get(i)
            .and_then(|m| s.vms.iter().position(|v| v.name == m.vm))
            .unwrap_or(0);
        let (path, cause) = if job.writes >= job.scans && job.writes >= job.ticks {
            (
                if vm_writes_workload(s, vm) {
                    format!("vm.{vm}.workload.rate_mibps")
                } else {
                    format!("vm.{vm}.measured.background_dirty_mibps")
                },
                "the guest's writes",
            )
        } else if job.scans >= job.ticks {
            (
                format!("vm.{vm}.ram_mib"),
                "its RAM's bitmaps, synced again and again",
            )
        } else {
            ("sim.max_time_s".into(), "its length")
        };
        return Err((
            path,
            format!(
                "simulating migration {i} would take about {:.0} s of CPU, mostly for {cause}, over up to {:.0} s of simulated time; one run may take about {:.0} s: lower this value or sim.max_time_s",
                job.total() as f64 * s.migrations.len() as f64 / 1e9,
                s.sim.max_time_s,
                MAX_WORK as f64 / 1e9
            ),
        ));
    }
    Ok(())
}

fn vm_writes_workload(s: &Scenario, vm: usize) -> bool {
    s.vms.get(vm).is_some_and(|v| {
        v.workload.set_and_rate().map_or(0.0, |(_, r)| r) >= v.measured.background_dirty_mibps
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::Simulator;

    /// The lesson's lab with `extra` TOML appended to its `[[vm]]` (then any other tables).
    fn lab(vm_extra: &str, rest: &str) -> String {
        format!(
            "name='t'\n[[host]]\nname='a'\nmemory_mib=20000000\n[[host]]\nname='b'\nmemory_mib=20000000\n\
             [link]\nbandwidth_mibps=112.0\n[storage]\nkind='shared'\n\
             [[vm]]\nname='db01'\nhost='a'\nram_mib=2048\ndisk_gib=20.0\nzero_fraction=0.5\n{vm_extra}\n\
             [vm.workload]\nkind='hot-set'\nset_mib=64\nrate_mibps=20.0\n\
             [[migration]]\nvm='db01'\nto='b'\n{rest}"
        )
    }

    fn rejected(vm_extra: &str, rest: &str) -> (String, String) {
        let s: Scenario = toml::from_str(&lab(vm_extra, rest)).unwrap();
        s.validate().expect_err("over the budget")
    }

    #[test]
    fn a_lesson_sized_run_is_well_inside_the_budget() {
        let s: Scenario = toml::from_str(&lab("", "")).unwrap();
        assert_eq!(s.validate(), Ok(()));
        let e = estimate(&s);
        assert!(e.jobs[0].total() < MAX_WORK / 10, "{e:?}");
        assert!(e.memory_bytes < MAX_MEMORY_BYTES / 10, "{e:?}");
    }

    #[test]
    fn each_cost_is_refused_with_the_value_to_change() {
        let cases = [
            (
                "",
                "[prober]\ntail_ms=1e12",
                "prober.tail_ms",
                "simulated time",
            ),
            (
                "",
                "start_ms=600000000000",
                "migration.0.start_ms",
                "simulated time",
            ),
            (
                "",
                "[sim]\nmax_time_s=604800.0",
                "sim.max_time_s",
                "simulated time",
            ),
            (
                "",
                "[prober]\ninterval_ms=0.001",
                "prober.interval_ms",
                "trace events",
            ),
            (
                "",
                "[sim]\nsample_interval_ms=1\nmax_time_s=7200.0\n[prober]\nenabled=false",
                "sim.sample_interval_ms",
                "trace events",
            ),
            ("", "", "vm.0.ram_mib", "MiB of the simulator's memory"),
        ];
        for (vm, rest, path, words) in cases {
            let (p, m) = if path == "vm.0.ram_mib" {
                let s = lab(vm, rest).replace("ram_mib=2048", "ram_mib=16777216");
                toml::from_str::<Scenario>(&s)
                    .unwrap()
                    .validate()
                    .unwrap_err()
            } else {
                rejected(vm, rest)
            };
            assert_eq!(p, path, "{vm} {rest}: {m}");
            assert!(m.contains(words), "{m}");
        }
        // The writes: a guest writing a terabyte a second (its own section, after the base's).
        let s = lab("", "").replace("rate_mibps=20.0", "rate_mibps=1000000.0");
        let s: Scenario = toml::from_str(&s).unwrap();
        let (p, m) = s.validate().unwrap_err();
        assert_eq!(p, "vm.0.workload.rate_mibps", "{m}");
        assert!(m.contains("the guest's writes"), "{m}");
    }

    #[test]
    fn the_meter_stops_a_job_at_its_limit_and_says_so() {
        let s: Scenario = toml::from_str(&lab("", "")).unwrap();
        let limit = 1_000_000;
        let mut sim = Simulator::new(s).with_work_limit(limit);
        while !sim.is_finished() {
            sim.step();
        }
        let m = &sim.migrations()[0];
        let Some(crate::Outcome::WorkLimit(u)) = m.outcome() else {
            panic!("expected work-limit, got {:?}", m.outcome());
        };
        assert!(u.at_ms > 0 && u.memory_bytes > 0, "{u:?}");
        // Stopped in the tick that crossed it: over by at most one tick's work.
        assert!(
            m.work() > limit && m.work() < limit + limit / 10,
            "{}",
            m.work()
        );
    }

    #[test]
    fn a_run_cut_by_the_time_limit_while_still_copying_is_not_called_not_converged() {
        // 1 GiB of data over a 1 MiB/s link: the first pass alone needs ~17 minutes.
        let first_pass = lab("", "[sim]\nmax_time_s=60.0").replace("112.0", "1.0");
        // 1 GiB rewritten at 150 MiB/s over 112 MiB/s: never converges.
        let busy = lab("", "[sim]\nmax_time_s=60.0")
            .replace("set_mib=64", "set_mib=1024")
            .replace("rate_mibps=20.0", "rate_mibps=150.0");
        for (text, status) in [(first_pass, "time-limit"), (busy, "not-converged")] {
            let trace = Simulator::run(Scenario::from_toml_str(&text).unwrap());
            let (_, o) = trace.outcomes().next().unwrap();
            assert_eq!(o.status(), status, "{o:?}");
        }
    }
}
