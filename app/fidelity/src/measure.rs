//! One case measured twice: on the lab in a box (libvirt's completed job statistics and the
//! prober's largest reply gap) and in the simulator (the lab's twin, `scenarios/labbox.toml`,
//! with the case's guest and flags and the calibrated constants).

use super::calibration::Calibration;
use super::grid::Case;
use migralab_sim_core::scenario::{MigrationSpec, Scenario, WorkloadSpec};
use migralab_sim_core::summary::{PingStats, RunOutcome};
use migralab_sim_core::{Located, Simulator, Trace};
use serde::{Deserialize, Serialize};

/// The guest migrated in every case.
pub const VM: &str = "db01";

/// The lab's twin as shipped. Embedded, so the harness runs from any directory.
const LABBOX_SCENARIO: &str = include_str!("../../../scenarios/labbox.toml");

/// The shipped `scenarios/labbox.toml`, checked.
pub fn labbox_scenario() -> anyhow::Result<Scenario> {
    Ok(Scenario::load(
        Located {
            text: LABBOX_SCENARIO,
            origin: "scenarios/labbox.toml",
        },
        &[],
    )?)
}

/// What one migration measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// `completed`, `failed`, ...
    pub status: String,
    /// Total migration time (libvirt's `time_elapsed`), ms.
    pub total_ms: f64,
    /// Memory bytes transferred.
    pub bytes: f64,
    /// Dirty-bitmap syncs (libvirt's memory iteration).
    pub iterations: u64,
    /// Downtime, ms.
    pub downtime_ms: f64,
    /// Largest gap between ping replies, ms (0 without pings).
    pub max_gap_ms: f64,
}

impl Measurement {
    /// From a trace of one migration of db01.
    pub fn of(trace: &Trace) -> Measurement {
        let o = RunOutcome::of(trace);
        Measurement {
            status: o.status,
            total_ms: o.total_ms as f64,
            bytes: o.memory_bytes as f64,
            iterations: o.iterations,
            downtime_ms: o.downtime_ms as f64,
            max_gap_ms: PingStats::of(trace).max_gap_ms,
        }
    }

    /// Did the migration complete?
    pub fn completed(&self) -> bool {
        self.status == "completed"
    }
}

/// The migration command of a case.
pub fn spec(case: &Case, to: &str) -> MigrationSpec {
    let mut s = MigrationSpec::new(VM, to);
    s.bandwidth_mibps = case.bandwidth_mibps;
    s.downtime_limit_ms = case.downtime_limit_ms;
    s.auto_converge = case.auto_converge;
    s.timeout_s = case.timeout_s;
    s.postcopy = case.postcopy;
    s.postcopy_after_precopy = case.postcopy;
    s.copy_storage_all = case.copy_storage;
    s
}

/// What a user would set on the shipped `labbox` scenario to predict `case` (as `migralab sim
/// scenarios/labbox.toml --set KEY=VALUE ...`): the guest's RAM and what it writes, the
/// storage layout, and the command's options. Nothing measured on the lab for this case, no
/// calibration file: how a held-out case is predicted.
pub fn user_overrides(case: &Case) -> anyhow::Result<Vec<String>> {
    user_overrides_counting(case, true)
}

/// [`user_overrides`], with or without the writer's memory counted in what the guest has
/// written (`written_mib` is what the guest's kernel, programs, files and caches hold: a writer
/// that has been running holds its working set and the buffer it copies from, on top of what
/// the idle guest holds). `false` gives the naive prediction the book compares with.
pub fn user_overrides_counting(case: &Case, count_writer: bool) -> anyhow::Result<Vec<String>> {
    let mut s = vec![format!("vm.{VM}.ram_mib={}", case.ram_mib)];
    if count_writer && case.dirty_rate_mibps > 0 && case.working_set_mib > 0 {
        let idle = labbox_scenario()?
            .vms
            .iter()
            .find(|v| v.name == VM)
            .and_then(|v| v.written_mib)
            .ok_or_else(|| anyhow::anyhow!("the labbox scenario gives no written_mib for {VM}"))?;
        s.push(format!(
            "vm.{VM}.written_mib={}",
            idle + (case.working_set_mib + case.buffer_mib()) as f64
        ));
    }
    if case.dirty_rate_mibps > 0 && case.working_set_mib > 0 {
        // The lab's writer rewrites its working set in order, round and round: a scanner.
        s.push(format!("vm.{VM}.workload.kind=scanner"));
        s.push(format!("vm.{VM}.workload.set_mib={}", case.working_set_mib));
        s.push(format!(
            "vm.{VM}.workload.rate_mibps={}",
            case.dirty_rate_mibps
        ));
    }
    if case.copy_storage {
        s.push("storage.kind=local".into());
    }
    let m = "migration.0";
    if let Some(b) = case.bandwidth_mibps {
        s.push(format!("{m}.bandwidth_mibps={b}"));
    }
    s.push(format!("{m}.downtime_limit_ms={}", case.downtime_limit_ms));
    if let Some(t) = case.timeout_s {
        s.push(format!("{m}.timeout_s={t}"));
    }
    for (on, key) in [
        (case.auto_converge, "auto_converge"),
        (case.postcopy, "postcopy"),
        (case.postcopy, "postcopy_after_precopy"),
        (case.copy_storage, "copy_storage_all"),
    ] {
        if on {
            s.push(format!("{m}.{key}=true"));
        }
    }
    Ok(s)
}

/// The shipped `labbox` scenario with [`user_overrides`] applied, as `--set` applies them.
pub fn user_scenario(case: &Case) -> anyhow::Result<Scenario> {
    user_scenario_counting(case, true)
}

/// [`user_scenario`] with [`user_overrides_counting`].
pub fn user_scenario_counting(case: &Case, count_writer: bool) -> anyhow::Result<Scenario> {
    let sc = Scenario::load(
        Located {
            text: LABBOX_SCENARIO,
            origin: "scenarios/labbox.toml",
        },
        &user_overrides_counting(case, count_writer)?,
    )?;
    anyhow::ensure!(
        sc.migrations.len() == 1 && sc.migrations[0].vm == VM,
        "the labbox scenario should migrate {VM} once"
    );
    Ok(sc)
}

/// The lab's twin set up for `case` with calibration `cal` (a held-out case: as a user would
/// set it up, see [`user_scenario`]).
pub fn scenario(case: &Case, cal: &Calibration) -> anyhow::Result<Scenario> {
    if case.held_out {
        return user_scenario(case);
    }
    let mut sc = labbox_scenario()?;
    sc.link.bandwidth_mibps = cal.link_mibps;
    sc.sim.setup_ms = cal.setup_ms;
    sc.sim.device_state_kib = cal.device_state_kib;
    sc.sim.resume_ms = cal.resume_ms;
    sc.sim.announce_ms = cal.announce_ms;
    let vm = sc
        .vms
        .iter_mut()
        .find(|v| v.name == VM)
        .ok_or_else(|| anyhow::anyhow!("the labbox scenario has no {VM}"))?;
    vm.ram_mib = case.ram_mib;
    match &case.memory {
        // Measured on the lab: the guest holds that much data, that much of it at the top.
        Some(m) => {
            vm.set_zero_fraction((1.0 - m.nonzero_mib / case.ram_mib as f64).clamp(0.0, 1.0));
            vm.measured.top_used_mib = m.top_mib.round() as u64;
            // And where it lies, page by page, when the recording has it.
            vm.measured.data_pages_per_mib = m.data_pages_per_mib.clone();
            // And the writer's files among that data, when the dump found them.
            vm.measured.workload_files = m.writer_files.clone();
        }
        // Otherwise from the calibration: what the idle guest's kernel and busybox wrote, its
        // page descriptors, and of the working set and the random buffer it copies from what
        // does not fit in the memory the boot wrote and freed (the files take those pages
        // first). The page descriptors sit at the top of RAM too.
        None => {
            let touched = cal.guest_touched_mib
                + case.page_descriptors_mib()
                + ((case.working_set_mib + case.buffer_mib()) as f64 - cal.guest_freed_mib)
                    .max(0.0);
            vm.set_zero_fraction((1.0 - touched / case.ram_mib as f64).clamp(0.0, 1.0));
            vm.measured.top_used_mib = cal.top_used_mib + case.page_descriptors_mib() as u64;
        }
    }
    vm.measured.background_dirty_mibps = cal.guest_background_mibps;
    vm.measured.background_set_kib = cal.guest_background_set_kib;
    if case.dirty_rate_mibps > 0 {
        // The lab's /init wakes its writer every 250 ms (labbox/guest.rs).
        vm.measured.workload_burst_ms = 250.0;
        vm.measured.workload_churn_kib = cal.writer_churn_kib;
        // All of that churn lies below the writer's files (the format's default). A page trace
        // of a validation guest put ~40 % of it at the top of RAM, in the page descriptors; the
        // twin of a recorded case models those descriptors page by page instead (see
        // `ChurnPlacement::on_pages`), so the share would only move the twins of cases without
        // a dump (a `--dry-run`) — not worth a value read off a validation case.
    }
    vm.measured.vcpu_busy_share = cal.guest_write_mibps.map_or(1.0, |w| {
        (case.dirty_rate_mibps as f64 / w).clamp(0.001, 1.0)
    });
    // The lab's guest rewrites its working set in order, round and round (see the labbox's
    // /init): every page written in a pass is a new one until the whole set is covered — a
    // scanner, not a hot set of random pages, which would re-dirty pages and converge sooner.
    vm.workload = if case.dirty_rate_mibps == 0 || case.working_set_mib == 0 {
        WorkloadSpec::Idle
    } else {
        WorkloadSpec::Scanner {
            set_mib: case.working_set_mib,
            rate_mibps: case.dirty_rate_mibps as f64,
        }
    };
    sc.migrations = vec![spec(case, "kvm-host-02")];
    sc.validate()
        .map_err(|(path, msg)| anyhow::anyhow!("case {}: {path}: {msg}", case.name))?;
    Ok(sc)
}

/// How many times the twin runs each case. The lab's writer has been running for a while when
/// a migration starts, so where it is in its working set and how long until it next wakes are
/// chance — and they decide on which side of the threshold a close pass lands. Each run draws
/// them from its own seed; the answer is the runs' median, as the real side's is the median of
/// its repetitions. The number is the one the notebook's rule takes ("How many twin runs,
/// chosen without the real runs"): the smallest of 51, 101, …, 1601 whose doubling would
/// settle less than half a case more of the grid's medians — a criterion on the simulator's
/// runs alone, never on the real ones ([`twin_runs`](super::twin_runs); the replay test checks
/// that the rule still takes this number).
pub const TWIN_RUNS: u64 = 401;

/// `runs` runs of the simulator for `case`, seeds counted up from the scenario's, spread over
/// the machine's cores (each run is independent and deterministic, so the result does not
/// depend on how many there are).
pub fn simulate_runs(
    case: &Case,
    cal: &Calibration,
    runs: u64,
) -> anyhow::Result<Vec<Measurement>> {
    let base = scenario(case, cal)?;
    let out = simulate_scenario_runs(&base, runs);
    anyhow::ensure!(
        out.len() as u64 == runs,
        "case {}: a simulator run did not finish",
        case.name
    );
    Ok(out)
}

/// `runs` runs of `base`, seeds counted up from its own (see [`simulate_runs`]); fewer come
/// back only when a run panicked.
pub fn simulate_scenario_runs(base: &Scenario, runs: u64) -> Vec<Measurement> {
    let run = |i: u64| run_seed(base, i);
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 8) as u64;
    if threads == 1 || runs < 2 * threads {
        return (0..runs).map(run).collect();
    }
    // Thread t takes a contiguous block of seeds; the blocks are joined in order, so the
    // results come back in seed order. (A thread that panicked leaves its block empty, which
    // the count below reports.)
    let blocks: Vec<Vec<Measurement>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let run = &run;
                let (from, to) = (t * runs / threads, (t + 1) * runs / threads);
                s.spawn(move || (from..to).map(run).collect())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    blocks.into_iter().flatten().collect()
}

/// Run `i` of the twin: the scenario with its seed counted up by `i`.
fn run_seed(base: &Scenario, i: u64) -> Measurement {
    let mut sc = base.clone();
    sc.seed = base.seed.wrapping_add(i);
    Measurement::of(&Simulator::run(sc))
}

/// The simulator's answer for `case`: the median of [`TWIN_RUNS`] runs.
pub fn simulate(case: &Case, cal: &Calibration) -> anyhow::Result<Measurement> {
    simulate_median(case, cal, TWIN_RUNS)
}

/// The median of `runs` runs of the simulator for `case` (the first run's outcome when none
/// completed).
pub fn simulate_median(case: &Case, cal: &Calibration, runs: u64) -> anyhow::Result<Measurement> {
    let runs = simulate_runs(case, cal, runs.max(1))?;
    super::report::median_of(&runs)
        .or_else(|| runs.into_iter().next())
        .ok_or_else(|| anyhow::anyhow!("case {}: no simulated run", case.name))
}

/// One run of the simulator for `case` (the scenario's own seed) with its syncs, as a
/// recording keeps them.
pub fn simulate_with_syncs(
    case: &Case,
    cal: &Calibration,
) -> anyhow::Result<(Measurement, Vec<super::runs::SyncPoint>)> {
    let trace = Simulator::run(scenario(case, cal)?);
    Ok((
        Measurement::of(&trace),
        super::runs::sync_points(&trace, VM),
    ))
}

#[cfg(feature = "real")]
pub use real::RealBench;

#[cfg(feature = "real")]
mod real {
    use super::*;
    use crate::runs::{GuestMemoryMap, SyncPoint, sync_points};
    use anyhow::Context as _;
    use migralab_real::labbox::{self, GuestSpec, LabboxConfig};
    use migralab_real::real_lab::{RealLab, RealLabConfig, real_trace};
    use migralab_sim_core::lab::{Lab, LabCommand};
    use migralab_sim_core::time::SimDuration;
    use std::net::Ipv4Addr;
    use std::time::{Duration, Instant};

    /// The lab in a box, driven case by case.
    pub struct RealBench {
        cfg: LabboxConfig,
        src_uri: String,
        dst_uri: String,
        guest: Option<(u64, u64, u64)>,
        /// The booted guest's RAM as measured right after the boot.
        memory: Option<GuestMemoryMap>,
    }

    impl RealBench {
        /// Bring the lab up (or take it as it is).
        pub fn up(progress: &mut dyn FnMut(&str)) -> anyhow::Result<RealBench> {
            let cfg = LabboxConfig::default();
            let status = labbox::up(&cfg, &GuestSpec::default(), progress)
                .context("cannot bring the lab in a box up")?;
            let uri = |name: &str| {
                status
                    .hosts
                    .iter()
                    .find(|h| h.name == name)
                    .map(|h| h.socket_uri.clone())
                    .with_context(|| format!("the lab has no {name}"))
            };
            let guest = status.guest.as_ref().map(|g| {
                (
                    g.spec.ram_mib,
                    g.spec.working_set_mib,
                    g.spec.dirty_rate_mibps,
                )
            });
            Ok(RealBench {
                src_uri: uri("kvm-host-01")?,
                dst_uri: uri("kvm-host-02")?,
                cfg,
                guest,
                memory: None,
            })
        }

        /// Take the lab down.
        pub fn down(self, progress: &mut dyn FnMut(&str)) -> anyhow::Result<()> {
            labbox::down(&self.cfg, progress).context("cannot take the lab in a box down")
        }

        /// Migrate db01 to kvm-host-02 as `case` says, with pings from lab-client, then bring
        /// it back (unmeasured). Returns what it measured and its syncs.
        pub fn measure(
            &mut self,
            case: &Case,
        ) -> anyhow::Result<(Measurement, Vec<SyncPoint>, Option<GuestMemoryMap>)> {
            // The disk cases need each host's own images directory; the others the shared
            // one. db01 is home on kvm-host-01 between cases, where a switch wants it.
            let layout = if case.copy_storage {
                labbox::storage::Storage::Local
            } else {
                labbox::storage::Storage::Shared
            };
            let guest_changes = self.guest != Some(case.guest());
            if guest_changes || labbox::storage_layout(&self.cfg) != layout {
                // A new guest is booted on the shared images directory.
                labbox::set_storage(&self.cfg, labbox::storage::Storage::Shared)
                    .with_context(|| format!("cannot share the storage for {}", case.name))?;
            }
            if guest_changes {
                let spec = GuestSpec {
                    ram_mib: case.ram_mib,
                    working_set_mib: case.working_set_mib,
                    dirty_rate_mibps: case.dirty_rate_mibps,
                    disk: true,
                };
                labbox::set_guest(&self.cfg, &spec)
                    .with_context(|| format!("cannot boot db01 for {}", case.name))?;
                self.guest = Some(case.guest());
                // Let the workload reach its steady state.
                std::thread::sleep(Duration::from_secs(2));
                self.memory = None;
            }
            if labbox::storage_layout(&self.cfg) != layout {
                labbox::set_storage(&self.cfg, layout)
                    .with_context(|| format!("cannot set the storage for {}", case.name))?;
            }
            // A held-out case is predicted without a dump: none is taken.
            if self.memory.is_none() && !case.held_out {
                self.memory = match self.dump_memory(case.ram_mib) {
                    Ok(m) => {
                        eprintln!(
                            "db01 for {}: {:.1} MiB of its RAM hold data ({:.1} MiB at the top)",
                            case.name, m.nonzero_mib, m.top_mib
                        );
                        Some(m)
                    }
                    Err(e) => {
                        // The map is a check on the simulator's input, not the measurement:
                        // say so and go on without it.
                        eprintln!("warning: cannot map db01's memory for {}: {e:#}", case.name);
                        None
                    }
                };
            }
            let trace = self.migrate(&self.src_uri.clone(), &self.dst_uri.clone(), case, true)?;
            let back = Case {
                bandwidth_mibps: None,
                timeout_s: None,
                downtime_limit_ms: 300,
                auto_converge: true,
                postcopy: false,
                ..case.clone()
            };
            let home = self.migrate(&self.dst_uri.clone(), &self.src_uri.clone(), &back, false)?;
            let m = Measurement::of(&trace);
            let syncs = sync_points(&trace, VM);
            anyhow::ensure!(
                Measurement::of(&home).completed(),
                "{}: db01 did not come back to kvm-host-01: {:?}",
                case.name,
                RunOutcome::of(&home).error
            );
            Ok((m, syncs, self.memory.clone().filter(|_| !case.held_out)))
        }

        /// Dump db01's RAM (QEMU's `pmemsave`, into the shared images directory) and map it.
        fn dump_memory(&self, ram_mib: u64) -> anyhow::Result<GuestMemoryMap> {
            use std::os::unix::fs::PermissionsExt as _;
            const NAME: &str = "migralab-memory-map.bin";
            let local = self.cfg.state_dir.join("images").join(NAME);
            // QEMU runs as its own user: give it a file it may write (the directory is root's).
            std::fs::write(&local, b"")
                .with_context(|| format!("cannot create {}", local.display()))?;
            std::fs::set_permissions(&local, std::fs::Permissions::from_mode(0o666))?;
            let hmp = format!(
                "pmemsave 0 {} \"{}/{NAME}\"",
                ram_mib << 20,
                labbox::names::SHARED_DIR
            );
            let out = std::process::Command::new("virsh")
                .args([
                    "-c",
                    &self.src_uri,
                    "qemu-monitor-command",
                    VM,
                    "--hmp",
                    &hmp,
                ])
                .output()
                .context("cannot run virsh")?;
            let map = std::fs::File::open(&local).and_then(GuestMemoryMap::of_reader);
            let _ = std::fs::remove_file(&local);
            anyhow::ensure!(
                out.status.success(),
                "virsh qemu-monitor-command: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            let (map, bytes) = map.with_context(|| format!("cannot read {}", local.display()))?;
            anyhow::ensure!(
                bytes == ram_mib << 20,
                "the dump has {bytes} bytes, not {ram_mib} MiB"
            );
            Ok(map)
        }

        fn migrate(
            &mut self,
            src: &str,
            dst: &str,
            case: &Case,
            ping: bool,
        ) -> anyhow::Result<Trace> {
            let mut config = RealLabConfig::new(src, dst);
            if ping {
                config.ping = Some(Ipv4Addr::new(10, 77, 0, 10));
                config.ping_netns = Some("lab-client".into());
            }
            let mut lab = RealLab::connect(config).map_err(|e| anyhow::anyhow!("{e}"))?;
            let to = if dst == self.dst_uri {
                "kvm-host-02"
            } else {
                "kvm-host-01"
            };
            let command = spec(case, to);
            lab.submit(LabCommand::Migrate(command.clone()))
                .map_err(|e| anyhow::anyhow!("{}: {e}", case.name))?;
            let started = Instant::now();
            let mut events = Vec::new();
            loop {
                events.extend(std::iter::from_fn(|| lab.poll_event()));
                if lab.is_idle() {
                    break;
                }
                if started.elapsed() > Duration::from_secs(300) {
                    let _ = lab.abort();
                    anyhow::bail!("{}: no end after 5 minutes (aborted)", case.name);
                }
                lab.advance(SimDuration::from_millis(100));
            }
            Ok(real_trace(src, dst, &command, events))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The grid's case called `name`.
    fn case_named(name: &str) -> Case {
        super::super::grid::full()
            .into_iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no case {name} in the grid"))
    }

    #[test]
    fn a_held_out_case_is_predicted_from_what_a_user_sets_on_the_shipped_scenario() {
        let cal = Calibration::shipped().unwrap();
        let held = super::super::grid::held_out();
        let shipped = labbox_scenario().unwrap();
        for case in &held {
            let sc = scenario(case, &cal).unwrap();
            // Only what --set changed: the shipped link, timings and measured knobs stay.
            assert_eq!(sc.link, shipped.link, "{}", case.name);
            assert_eq!(sc.sim, shipped.sim, "{}", case.name);
            let vm = &sc.vms[0];
            assert_eq!(vm.measured, shipped.vms[0].measured, "{}", case.name);
            // What the guest has written: the idle guest's, plus a writer's set and buffer.
            let idle = shipped.vms[0].written_mib.unwrap();
            let writer = (case.working_set_mib + case.buffer_mib()) as f64;
            assert_eq!(vm.written_mib, Some(idle + writer), "{}", case.name);
            assert_eq!(vm.ram_mib, case.ram_mib);
            assert_eq!(
                vm.workload.set_and_rate(),
                (case.dirty_rate_mibps > 0)
                    .then_some((case.working_set_mib, case.dirty_rate_mibps as f64))
            );
            let m = &sc.migrations[0];
            assert_eq!(*m, {
                let mut want = spec(case, "kvm-host-02");
                want.persistent = m.persistent;
                want
            });
            assert_eq!(
                sc.storage.kind == migralab_sim_core::scenario::StorageKind::Shared,
                !case.copy_storage,
                "{}",
                case.name
            );
        }
        // The overrides are what `migralab sim --set` takes: the same scenario from the text.
        let disk = held.iter().find(|c| c.copy_storage).unwrap();
        let twice = user_scenario(disk).unwrap();
        assert_eq!(twice, scenario(disk, &cal).unwrap());
    }

    #[test]
    fn a_held_out_idle_guests_bytes_grow_with_ram_by_its_page_descriptors_only() {
        let cal = Calibration::shipped().unwrap();
        let idle = |ram: u64| {
            let mut c = super::super::grid::held_out()[0].clone();
            c.ram_mib = ram;
            c.bandwidth_mibps = Some(30);
            simulate_median(&c, &cal, 5).unwrap()
        };
        let (small, big) = (idle(256), idle(1024));
        let grew_mib = (big.bytes - small.bytes) / 1_048_576.0;
        // 768 MiB more RAM: 12 MiB more page descriptors (RAM/64), and each zero page's
        // few bytes on the wire — far from the 3x a share of RAM would send.
        assert!(grew_mib > 10.0 && grew_mib < 30.0, "{small:?} {big:?}");
    }

    #[test]
    fn the_twin_takes_the_cases_guest_flags_and_constants() {
        let cal = Calibration::shipped().unwrap();
        let case = super::super::grid::quick()
            .into_iter()
            .find(|c| c.auto_converge)
            .unwrap();
        let sc = scenario(&case, &cal).unwrap();
        let vm = &sc.vms[0];
        assert_eq!(vm.ram_mib, case.ram_mib);
        assert!(
            matches!(vm.workload, WorkloadSpec::Scanner { set_mib, .. } if set_mib == case.working_set_mib)
        );
        assert!(vm.zero_share() > 0.0 && vm.zero_share() < 1.0 && vm.written_mib.is_none());
        let m = &sc.migrations[0];
        assert_eq!(m.bandwidth_mibps, case.bandwidth_mibps);
        assert!(m.auto_converge);
        assert_eq!(sc.link.bandwidth_mibps, cal.link_mibps);
        let sim = simulate(&case, &cal).unwrap();
        assert!(
            sim.completed() && sim.bytes > 0.0 && sim.iterations >= 2,
            "{sim:?}"
        );
    }

    #[test]
    fn the_twins_runs_start_the_writer_at_different_points_and_it_answers_with_their_median() {
        let cal = Calibration::shipped().unwrap();
        let case = case_named("256M-ws32r16-bw40-dt300");
        let runs = simulate_runs(&case, &cal, 7).unwrap();
        assert!(runs.iter().all(Measurement::completed), "{runs:?}");
        // Where the writer is when the migration starts changes how it goes ...
        let times: std::collections::BTreeSet<u64> =
            runs.iter().map(|m| m.total_ms as u64).collect();
        assert!(times.len() > 1, "{runs:?}");
        // ... the same seeds give the same runs ...
        assert_eq!(runs, simulate_runs(&case, &cal, 7).unwrap());
        // ... and the answer is their median, metric by metric.
        let median = simulate_median(&case, &cal, 7).unwrap();
        let mut t: Vec<f64> = runs.iter().map(|m| m.total_ms).collect();
        t.sort_by(f64::total_cmp);
        assert_eq!(median.total_ms, t[3]);
        let mut it: Vec<u64> = runs.iter().map(|m| m.iterations).collect();
        it.sort_unstable();
        assert_eq!(median.iterations, it[3]);
    }

    #[test]
    fn runs_spread_over_the_cores_come_back_in_seed_order() {
        let cal = Calibration::shipped().unwrap();
        let case = case_named("256M-ws16r4-bw40-dt100");
        // Enough runs to be split over threads on any machine with two or more cores.
        let runs = simulate_runs(&case, &cal, 19).unwrap();
        let base = scenario(&case, &cal).unwrap();
        let one_by_one: Vec<Measurement> = (0..19).map(|i| run_seed(&base, i)).collect();
        assert_eq!(runs, one_by_one);
    }

    #[test]
    fn a_capped_idle_guest_takes_about_its_bytes_over_the_cap() {
        let cal = Calibration::shipped().unwrap();
        let case = &super::super::grid::quick()[0];
        let m = simulate(case, &cal).unwrap();
        let cap = case.bandwidth_mibps.unwrap() as f64 * 1_048_576.0;
        let expected_ms = m.bytes / cap * 1000.0;
        assert!(
            (m.total_ms - expected_ms).abs() / expected_ms < 0.1,
            "{m:?} vs {expected_ms} ms"
        );
    }
}
