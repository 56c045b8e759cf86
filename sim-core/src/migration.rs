//! One migration job as QEMU's migration thread and libvirt run it, as a state machine driven by
//! simulated time (sans-I/O: the simulator hands it time and link capacity; it hands back trace
//! events).
//!
//! The pre-copy loop follows QEMU 8.2–10.x (`migration/migration.c`, `migration/ram.c`):
//! - setup: one bitmap sync (dirty-sync-count = 1), every page marked to send;
//! - 100 ms rate-limit slots: with `--bandwidth` the slot's budget is sent at link speed, then the
//!   thread sleeps to the end of the slot; libvirt's default is unlimited, so the link decides;
//! - after each slot: bandwidth = bytes sent in the slot / slot time, threshold = bandwidth ×
//!   downtime limit, expected downtime = dirty bytes at the last sync / bandwidth;
//! - each loop step: when the cheap estimate (pages to send × 4 KiB) is below the threshold, sync
//!   the dirty bitmap (an "iteration"); complete if what is pending is still below it (or nothing
//!   is pending); otherwise keep sending. There is no iteration cap;
//! - at most once per second a sync also recomputes the dirty rate and runs auto-converge's check;
//! - completion pauses the guest, syncs once more, sends the rest without rate limit plus device
//!   state; the destination resumes; the network follows after the announce.

use crate::cpu::PassthroughOutcome;
use crate::disk::DiskMirror;
use crate::error::LabError;
use crate::memory::{GuestMemory, Sent};
use crate::preflight::{CheckId, CheckStatus, Stage, passthrough_outcome, preflight};
use crate::ram_layout::RamLayout;
use crate::rng::FastRng;
use crate::scenario::{MigrationSpec, Scenario, TimeoutAction, VmSpec, WorkloadSpec};
use crate::time::{SimDuration, SimTime};
use crate::trace::{MigrationSample, Outcome, Phase, SyncRecord, TraceKind};
use crate::units::{MIB, PAGE_SIZE};
use crate::workload::Workload;

/// QEMU's `BUFFER_DELAY`: the rate-limit and bandwidth-measurement slot.
const SLOT: SimDuration = SimDuration::from_millis(100);
/// Auto-converge looks at periods of at least this long.
const RATE_PERIOD: SimDuration = SimDuration::from_millis(1000);
/// QEMU's `throttle-trigger-threshold`: dirtied bytes above this share of sent bytes is a strike.
const THROTTLE_TRIGGER_PCT: u64 = 50;
/// QEMU's `max-cpu-throttle`.
const MAX_THROTTLE_PCT: u8 = 99;
/// QEMU's `MAX_WAIT`: one `ram_save_iterate` call sends for at most this long.
const MAX_WAIT: SimDuration = SimDuration::from_millis(50);

/// Link capacity granted to this migration for one tick.
#[derive(Debug, Clone, Copy)]
pub struct Grant {
    /// Bytes it may put on the wire in this tick.
    pub bytes: u64,
    /// Speed at which those bytes go out, bytes per nanosecond.
    pub bytes_per_ns: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Pending,
    Setup {
        until: SimTime,
    },
    StorageCopy,
    Precopy,
    /// Guest paused; sending what remains. `postcopy`: only device state goes now, RAM follows.
    StopAndCopy {
        postcopy: bool,
    },
    Resume {
        until: SimTime,
        postcopy: bool,
    },
    Postcopy,
    Done,
}

/// Tunables resolved from the scenario.
#[derive(Debug, Clone)]
struct Params {
    live: bool,
    cap_bytes_per_sec: Option<f64>,
    postcopy_cap_bytes_per_sec: Option<f64>,
    downtime_limit_ms: f64,
    auto_converge: Option<(u8, u8)>,
    postcopy: bool,
    postcopy_after_pass: Option<u64>,
    timeout: Option<(SimDuration, TimeoutAction)>,
    setup: SimDuration,
    device_state_bytes: u64,
    resume: SimDuration,
    announce: SimDuration,
    max_time: SimDuration,
    sample_every: SimDuration,
}

/// A migration job of one VM.
#[derive(Debug)]
pub struct Migration {
    spec: MigrationSpec,
    vm: VmSpec,
    params: Params,
    start: SimTime,
    state: State,
    /// The failure libvirt would report, and at which stage (from preflight).
    planned_failure: Option<(Stage, LabError)>,
    /// The destination is on another network: the guest will not answer after the move.
    unreachable_after: bool,
    /// Instructions of the source CPU the destination lacks, for a `host-passthrough` guest
    /// whose state still loads there: once it runs on the destination, the first program that
    /// uses one faults (see [`crate::cpu::PassthroughOutcome::FaultsLater`]).
    faults_after: Vec<String>,
    /// The job failed after the post-copy switch: the guest stays paused on the source.
    guest_lost: bool,
    mem: GuestMemory,
    workload: Workload,
    /// The guest's own small writes besides its workload (see `VmSpec::background_dirty_mibps`).
    background: Workload,
    /// Where the written memory is, for the background writes.
    layout: RamLayout,
    /// First page of the workload's memory (its churn below the set, then the set): after the
    /// background's pages, which are the kernel's own memory and not the writer's.
    workload_base: u64,
    /// Where the workload's pages lie (its set and its churn).
    churn: ChurnPlacement,
    disk: Option<DiskMirror>,
    // QEMU's counters.
    sync_count: u64,
    ram_bytes: u64,
    zero_pages: u64,
    normal_pages: u64,
    postcopy_requests: u64,
    threshold_bytes: u64,
    bandwidth_bytes_per_ms: f64,
    expected_downtime_ms: u64,
    dirty_rate_pps: u64,
    dirty_bytes_at_last_sync: u64,
    slot_start: SimTime,
    slot_bytes: u64,
    period_start: SimTime,
    period_dirty_pages: u64,
    period_xfer_start: u64,
    dirty_rate_high_cnt: u32,
    throttle_pct: u8,
    start_postcopy: bool,
    timeout_fired: bool,
    /// How long after the timeout the client's poll that acts on it comes.
    timeout_late: SimDuration,
    /// End of the current `ram_save_iterate` call, if one is running.
    iterate_end: Option<SimTime>,
    // Device state (and disk tail) still to send during stop-and-copy.
    device_left: u64,
    // The guest.
    paused_at: Option<SimTime>,
    resumed_at: Option<SimTime>,
    ended_at: Option<SimTime>,
    /// Outages of the guest's network: [start, end), end open while it lasts.
    outages: Vec<(SimTime, Option<SimTime>)>,
    history: Vec<SyncRecord>,
    next_sample: SimTime,
    outbox: Vec<(SimTime, TraceKind)>,
    outcome: Option<Outcome>,
}

impl Migration {
    /// A migration of `vm` as `spec` says, in `scenario`'s lab, typed at `spec.start_ms`.
    /// `workload_rng` and `disk_rng` come from the run's seed tree.
    pub fn new(
        scenario: &Scenario,
        spec: &MigrationSpec,
        vm: &VmSpec,
        workload_rng: FastRng,
        disk_rng: FastRng,
    ) -> Self {
        let sim = &scenario.sim;
        let params = Params {
            live: spec.live,
            cap_bytes_per_sec: spec.bandwidth_mibps.map(|b| (b * MIB) as f64),
            postcopy_cap_bytes_per_sec: spec.postcopy_bandwidth_mibps.map(|b| (b * MIB) as f64),
            downtime_limit_ms: spec.downtime_limit_ms as f64,
            auto_converge: spec.auto_converge.then(|| {
                (
                    spec.auto_converge_initial.unwrap_or(20),
                    spec.auto_converge_increment.unwrap_or(10),
                )
            }),
            postcopy: spec.postcopy,
            postcopy_after_pass: spec
                .postcopy_after_pass
                .map(u64::from)
                .or(spec.postcopy_after_precopy.then_some(1)),
            timeout: spec
                .timeout_s
                .map(|s| (SimDuration::from_secs(s), spec.timeout_action)),
            setup: SimDuration::from_ms_f64(sim.setup_ms),
            device_state_bytes: sim.device_state_kib * 1024,
            resume: SimDuration::from_ms_f64(sim.resume_ms),
            announce: SimDuration::from_ms_f64(sim.announce_ms),
            max_time: SimDuration::from_ms_f64(sim.max_time_s * 1000.0),
            sample_every: SimDuration::from_millis(sim.sample_interval_ms.max(1)),
        };
        let (planned_failure, unreachable_after) = match preflight(scenario, spec) {
            Ok(report) => (
                report
                    .first_failure()
                    .and_then(|c| c.error.clone().map(|e| (c.stage, e))),
                report
                    .check(CheckId::SameSubnet)
                    .is_some_and(|c| c.status == CheckStatus::Warn),
            ),
            Err(e) => (Some((Stage::Connect, e)), false),
        };
        // virsh's --timeout is checked by the client as it polls the job, not by libvirt: the
        // guest is suspended at the first poll after the timeout, and where the polls fall
        // against the job's start is chance (the lab's runs were suspended 0-110 ms late).
        let timeout_late = if params.timeout.is_some() {
            let every = params.sample_every.as_millis().max(1);
            let mut rng = FastRng::new(workload_rng.clone().next_u64() ^ 0x0074_696d_656f_7574);
            SimDuration::from_millis(rng.below(every))
        } else {
            SimDuration::ZERO
        };
        let layout = vm.ram_layout();
        let mem = GuestMemory::from_layout(&layout);
        let pages = layout.ram_pages();
        // The background writes land on the first `background_set_kib` of the memory the guest
        // has used (all of it when 0) — or, in a guest whose writer's files were found, on the
        // churn's pages (`ChurnPlacement::background_page`); their own random stream (taken
        // without disturbing the workload's) keeps them off its pattern. The set is given in
        // whole MiB and held to those pages by the RAM the workload is told about.
        let background_pages = match vm.background_set_kib {
            0 => layout.data_pages().max(1),
            kib => (kib * 1024)
                .div_ceil(PAGE_SIZE)
                .clamp(1, layout.data_pages().max(1)),
        };
        let background = Workload::new(
            &WorkloadSpec::HotSet {
                set_mib: (background_pages * PAGE_SIZE).div_ceil(MIB),
                rate_mibps: vm.background_dirty_mibps,
            },
            background_pages,
            1.0,
            FastRng::new(workload_rng.clone().next_u64() ^ 0x6261_636b_6772_6e64),
        );
        let workload = Workload::new(&vm.workload, pages, vm.vcpu_busy_share, workload_rng)
            .with_bursts(vm.workload_burst_ms, vm.workload_churn_kib)
            .mid_cycle();
        // The working set is the writer's own memory, not the kernel's: it starts above the
        // background's pages (QEMU's page trace of the lab's guest shows the two apart), else the
        // background would rewrite pages the writer keeps dirty anyway and add nothing. (A
        // measured layout says where the files are: see below.)
        let workload_base = if vm.background_dirty_mibps > 0.0 {
            background_pages.min(pages.saturating_sub(workload.span_pages()))
        } else {
            0
        };
        let mut churn = ChurnPlacement::new(&workload, vm.workload_churn_top_share, &layout);
        // A guest whose memory was dumped holds its writer's files in that data — not in the
        // kernel's first MiBs, where the set would turn empty pages into data the first pass
        // sends and share pages with the background's. When the dump found the files
        // (`VmSpec::workload_files`), the set is those pages in the order the kernel gave them:
        // the holes its boot freed, among its data and at the top of RAM, then fresh memory
        // above the data. Otherwise it is the last data below the top block (the page
        // descriptors), where a tmpfs that has filled those holes goes on allocating, with the
        // low churn just below it.
        if !vm.data_pages_per_mib.is_empty() {
            let writer = RamLayout::pages_of_runs(&vm.workload_files, pages);
            if !churn.on_pages(&writer, &layout) {
                let top = layout
                    .ram_pages()
                    .saturating_sub(vm.top_used_mib * crate::ram_layout::PAGES_PER_MIB);
                churn.in_data_below(layout.data_pages_below(top));
            }
        }
        let host = |name: &str| scenario.hosts.iter().find(|h| h.name == name);
        let faults_after = match (host(&vm.host), host(&spec.to)) {
            (Some(src), Some(dst)) => match passthrough_outcome(vm, src, dst) {
                Some(PassthroughOutcome::FaultsLater { instructions, .. }) => instructions,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        let copies_disk = spec.copy_storage_all && vm.disk_bytes() > 0;
        let disk =
            copies_disk.then(|| DiskMirror::new(vm.disk_bytes(), vm.disk_write_mibps, disk_rng));
        let start = SimTime::ZERO + SimDuration::from_millis(spec.start_ms);
        Migration {
            spec: spec.clone(),
            vm: vm.clone(),
            params,
            start,
            state: State::Pending,
            planned_failure,
            unreachable_after,
            faults_after,
            guest_lost: false,
            mem,
            workload,
            background,
            layout,
            workload_base,
            churn,
            disk,
            sync_count: 0,
            ram_bytes: 0,
            zero_pages: 0,
            normal_pages: 0,
            postcopy_requests: 0,
            threshold_bytes: 0,
            bandwidth_bytes_per_ms: 0.0,
            expected_downtime_ms: spec.downtime_limit_ms,
            dirty_rate_pps: 0,
            dirty_bytes_at_last_sync: 0,
            slot_start: start,
            slot_bytes: 0,
            period_start: start,
            period_dirty_pages: 0,
            period_xfer_start: 0,
            dirty_rate_high_cnt: 0,
            throttle_pct: 0,
            start_postcopy: false,
            timeout_fired: false,
            timeout_late,
            iterate_end: None,
            device_left: 0,
            paused_at: None,
            resumed_at: None,
            ended_at: None,
            outages: Vec::new(),
            history: Vec::new(),
            next_sample: start,
            outbox: Vec::new(),
            outcome: None,
        }
    }

    /// The VM being migrated.
    pub fn vm_name(&self) -> &str {
        &self.vm.name
    }

    /// The host the VM left from.
    pub fn source_host(&self) -> &str {
        &self.vm.host
    }

    /// Job statistics of the finished job (`virsh domjobinfo --completed`), once it has ended.
    pub fn completed_sample(&self) -> Option<MigrationSample> {
        self.is_done().then(|| self.sample())
    }

    /// Is the job still running?
    pub fn is_active(&self) -> bool {
        !matches!(self.state, State::Pending | State::Done)
    }

    /// The command as typed.
    pub fn spec(&self) -> &MigrationSpec {
        &self.spec
    }

    /// Has the job ended (any outcome)?
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// How it ended, once it has.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// When the job ended (the last event), if it has.
    pub fn finished_at(&self) -> Option<SimTime> {
        self.ended_at
    }

    /// Periods when the guest's network was unreachable: `[start, end)`; `None` = still going.
    pub fn outages(&self) -> &[(SimTime, Option<SimTime>)] {
        &self.outages
    }

    /// Take the trace events produced so far.
    pub fn drain_events(&mut self) -> impl Iterator<Item = (SimTime, TraceKind)> + '_ {
        self.outbox.drain(..)
    }

    /// Bytes it would like to send in a tick `[now, now + dt)` (0 when it has nothing to send).
    pub fn demand(&self, now: SimTime, dt: SimDuration) -> u64 {
        let secs = dt.as_secs_f64();
        let capped = |cap: Option<f64>, want: u64| match cap {
            Some(c) => want.min((c * secs).ceil() as u64 + crate::units::NORMAL_PAGE_WIRE_BYTES),
            None => want,
        };
        let disk_left = self
            .disk
            .as_ref()
            .map_or(0, |d| d.remaining_bytes() + d.expected_dirty_bytes(dt));
        match self.state {
            State::Pending | State::Setup { .. } | State::Resume { .. } | State::Done => 0,
            State::StorageCopy => capped(self.params.cap_bytes_per_sec, disk_left.max(1)),
            State::Precopy => {
                // In a slot that has used its budget the thread sleeps.
                let slot_left = self.slot_budget_left(now).unwrap_or(u64::MAX);
                let want =
                    self.mem.pending_pages() * crate::units::NORMAL_PAGE_WIRE_BYTES + disk_left;
                want.max(1).min(slot_left)
            }
            State::StopAndCopy { .. } => self
                .mem
                .pending_wire_bytes()
                .saturating_add(self.device_left)
                .saturating_add(disk_left)
                .max(1),
            State::Postcopy => capped(
                self.params.postcopy_cap_bytes_per_sec,
                self.mem.pending_pages() * crate::units::NORMAL_PAGE_WIRE_BYTES,
            ),
        }
    }

    fn slot_budget_left(&self, _now: SimTime) -> Option<u64> {
        self.params
            .cap_bytes_per_sec
            .map(|c| ((c * SLOT.as_secs_f64()) as u64).saturating_sub(self.slot_bytes))
    }

    /// Run the job through the tick `[now, now + dt)` with the link capacity `grant`.
    pub fn run_tick(&mut self, now: SimTime, dt: SimDuration, grant: Grant) {
        let end = now + dt;
        let mut t = now;
        let mut budget = grant.bytes;
        let rate = grant.bytes_per_ns.max(1e-12);
        if self.state != State::Done && self.state != State::Pending && now >= self.next_sample {
            self.emit_sample(now);
            while self.next_sample <= now {
                self.next_sample += self.params.sample_every;
            }
        }
        // Each arm either moves `t` forward or changes state, so the loop ends.
        while t < end {
            if self.check_limits(t) {
                break;
            }
            match self.state {
                State::Done => break,
                State::Pending => {
                    if end <= self.start {
                        break;
                    }
                    t = t.max(self.start);
                    self.begin(t);
                }
                State::Setup { until } => {
                    if until >= end {
                        t = end;
                    } else {
                        t = until;
                        self.after_setup(t);
                    }
                }
                State::StorageCopy => self.storage_copy(&mut t, end, &mut budget, rate),
                State::Precopy => self.precopy(&mut t, end, &mut budget, rate),
                State::StopAndCopy { postcopy } => {
                    self.stop_and_copy(&mut t, end, &mut budget, rate, postcopy)
                }
                State::Resume { until, postcopy } => {
                    if until >= end {
                        t = end;
                    } else {
                        t = until;
                        self.resumed(t, postcopy);
                    }
                }
                State::Postcopy => self.postcopy(&mut t, end, &mut budget, rate),
            }
        }
        // Writes made in this tick by a running guest count toward the next sync.
        if matches!(self.state, State::Precopy | State::StorageCopy) && self.paused_at.is_none() {
            self.advance_guest(end);
        }
    }

    // ---- state transitions -------------------------------------------------------------------

    fn begin(&mut self, t: SimTime) {
        self.emit(
            t,
            TraceKind::Log {
                message: format!("{} (on {})", self.spec.virsh_command(), self.vm.host),
            },
        );
        if let Some((Stage::Connect | Stage::Begin, err)) = self.planned_failure.clone() {
            self.fail(t, err);
            return;
        }
        self.skip_guest(t);
        if !self.params.live {
            // Without --live libvirt pauses the guest before migrating.
            self.pause(t);
        }
        self.set_phase(t, Phase::Setup);
        self.state = State::Setup {
            until: t + self.params.setup,
        };
    }

    fn fail(&mut self, t: SimTime, error: LabError) {
        self.emit(
            t,
            TraceKind::Log {
                message: error.virsh_line(),
            },
        );
        self.finish(
            t,
            Outcome::Failed {
                error,
                at_ms: t.since(self.start).as_millis(),
            },
        );
    }

    fn after_setup(&mut self, t: SimTime) {
        self.skip_guest(t);
        // The destination's incoming QEMU (Prepare) and the first connection to its migration
        // port (Perform) are where the remaining prerequisites show.
        if let Some((Stage::Prepare | Stage::Perform, err)) = self.planned_failure.clone() {
            self.fail(t, err);
            return;
        }
        if let Some(disk) = &mut self.disk {
            disk.start_at(t);
            let gib = disk.total_bytes() as f64 / crate::units::GIB as f64;
            self.set_phase(t, Phase::StorageCopy);
            self.emit(t, TraceKind::Log {
                message: format!(
                    "blockdev-mirror of {} to the destination's NBD server: copying {gib:.1} GiB before any RAM",
                    self.vm.name
                ),
            });
            self.state = State::StorageCopy;
        } else {
            self.start_ram(t);
        }
    }

    fn start_ram(&mut self, t: SimTime) {
        self.skip_guest(t);
        self.mem.start_migration();
        // ram_init_bitmaps(): the first sync only starts dirty logging (count = 1).
        self.sync_count = 1;
        self.slot_start = t;
        self.slot_bytes = 0;
        self.period_start = t;
        self.period_dirty_pages = 0;
        self.period_xfer_start = self.ram_bytes;
        self.set_phase(
            t,
            if self.paused_at.is_some() {
                Phase::Suspended
            } else {
                Phase::Precopy
            },
        );
        self.state = State::Precopy;
    }

    fn pause(&mut self, t: SimTime) {
        if self.paused_at.is_none() {
            self.advance_guest(t);
            self.paused_at = Some(t);
            self.outages.push((t, None));
        }
    }

    fn begin_completion(&mut self, t: SimTime, postcopy: bool) {
        self.advance_guest(t);
        self.pause(t);
        // migration_completion → ram_save_complete (or postcopy_start) syncs once more.
        self.sync(t);
        self.device_left = self.params.device_state_bytes;
        if postcopy {
            // The destination will fetch pages itself; the source's dirty log is no longer needed.
            self.mem.stop_logging();
        }
        self.set_phase(t, Phase::StopAndCopy);
        self.state = State::StopAndCopy { postcopy };
    }

    fn resumed(&mut self, t: SimTime, postcopy: bool) {
        let paused_at = self.paused_at.unwrap_or(t);
        self.resumed_at = Some(t);
        let net_back = t + self.params.announce;
        if let Some(o) = self.outages.last_mut() {
            // On another subnet the guest runs but nobody can reach it.
            o.1 = (!self.unreachable_after).then_some(net_back);
        }
        self.skip_guest(t);
        self.emit(
            t,
            TraceKind::Log {
                message: format!(
                    "{} resumed on {} after {} ms paused; RARP/GARP announce sent",
                    self.vm.name,
                    self.spec.to,
                    t.since(paused_at).as_millis()
                ),
            },
        );
        if postcopy {
            self.set_phase(t, Phase::Postcopy);
            self.state = State::Postcopy;
        } else {
            self.complete(t);
        }
    }

    fn complete(&mut self, t: SimTime) {
        let downtime = self.downtime_until(self.resumed_at.unwrap_or(t));
        self.mem.stop_logging();
        self.throttle_pct = 0;
        self.emit_sample(t);
        let outcome = Outcome::Completed {
            total_ms: t.since(self.start).as_millis(),
            downtime_ms: downtime,
            memory_bytes: self.ram_bytes,
            disk_bytes: self.disk.as_ref().map_or(0, DiskMirror::processed_bytes),
            iterations: self.sync_count,
        };
        self.emit(
            t,
            TraceKind::Log {
                message: self.definitions_after_success(),
            },
        );
        if let Some(first) = self.faults_after.first() {
            let login = self.vm.ip.as_deref().unwrap_or(&self.vm.name);
            self.emit(t, TraceKind::Log {
                message: format!(
                    "{} on {}: its program 'worker' chose {first} when it started on {}; {}'s CPU has no {first}: invalid opcode, killed by SIGILL (the guest's kernel log: `ssh {login} dmesg`)",
                    self.vm.name, self.spec.to, self.vm.host, self.spec.to
                ),
            });
        }
        self.finish(t, outcome);
    }

    fn downtime_until(&self, resumed: SimTime) -> u64 {
        self.paused_at.map_or(0, |p| resumed.since(p).as_millis())
    }

    /// Instructions the guest's programs chose on the source that the destination's CPU lacks
    /// (`host-passthrough` only; empty otherwise): after a completed migration a program that
    /// uses one faults.
    pub fn faults_after(&self) -> &[String] {
        &self.faults_after
    }

    /// Did the job fail after the post-copy switch, leaving the guest paused on the source with
    /// part of its memory on the destination?
    pub fn guest_lost(&self) -> bool {
        self.guest_lost
    }

    /// What `virsh list --all` shows on each host afterwards (the lesson gets this wrong).
    fn definitions_after_success(&self) -> String {
        let dest = if self.spec.persistent {
            "persistent"
        } else {
            "transient (gone from `virsh list --all` once it shuts down)"
        };
        let src = if self.spec.undefinesource {
            "undefined (--undefinesource)".to_string()
        } else {
            "still defined, shut off (--persistent does not remove it; --undefinesource would)"
                .to_string()
        };
        format!(
            "{}: running on {} as {dest}; on {}: {src}",
            self.vm.name, self.spec.to, self.vm.host
        )
    }

    fn finish(&mut self, t: SimTime, outcome: Outcome) {
        if !outcome.is_completed() {
            // The guest goes on (or resumes) on the source; its network never moved. A guest lost
            // after the post-copy switch answers nobody again.
            if let Some(o) = self.outages.last_mut()
                && o.1.is_none()
                && !self.guest_lost
            {
                o.1 = Some(t);
            }
            self.mem.stop_logging();
            self.throttle_pct = 0;
        }
        self.set_phase(t, Phase::Done);
        self.emit(t, TraceKind::Finished(outcome.clone()));
        self.outcome = Some(outcome);
        self.ended_at = Some(t);
        self.state = State::Done;
    }

    /// Timeout and the simulator's own time limit. Returns true if the job ended.
    fn check_limits(&mut self, t: SimTime) -> bool {
        if matches!(self.state, State::Pending | State::Done) {
            return false;
        }
        let elapsed = t.since(self.start);
        if let Some((after, action)) = self.params.timeout
            && !self.timeout_fired
            && elapsed >= after + self.timeout_late
            && matches!(self.state, State::StorageCopy | State::Precopy)
        {
            {
                self.timeout_fired = true;
                match action {
                    TimeoutAction::Suspend => {
                        self.emit(
                            t,
                            TraceKind::Log {
                                message: format!(
                                    "--timeout {}: suspending {}; the migration completes offline",
                                    after.as_millis() / 1000,
                                    self.vm.name
                                ),
                            },
                        );
                        self.pause(t);
                        self.set_phase(t, Phase::Suspended);
                    }
                    TimeoutAction::Postcopy => {
                        self.emit(
                            t,
                            TraceKind::Log {
                                message: format!(
                                    "--timeout {}: switching {} to post-copy",
                                    after.as_millis() / 1000,
                                    self.vm.name
                                ),
                            },
                        );
                        self.start_postcopy = true;
                    }
                }
            }
        }
        if elapsed >= self.params.max_time
            && matches!(self.state, State::StorageCopy | State::Precopy)
        {
            let outcome = Outcome::NotConverged {
                at_ms: elapsed.as_millis(),
                memory_bytes: self.ram_bytes,
                disk_bytes: self.disk.as_ref().map_or(0, DiskMirror::processed_bytes),
                iterations: self.sync_count,
                history: self.history.clone(),
            };
            self.emit(t, TraceKind::Log {
                message: format!(
                    "{} did not converge in {} s ({} iterations): QEMU would iterate forever. Try --auto-converge, --postcopy, migrate-setmaxdowntime or --timeout.",
                    self.vm.name,
                    elapsed.as_millis() / 1000,
                    self.sync_count
                ),
            });
            self.finish(t, outcome);
            return true;
        }
        false
    }

    /// `virsh domjobabort`: cancel the job. Not possible once in post-copy.
    pub fn abort(&mut self, t: SimTime) -> Result<(), LabError> {
        match self.state {
            State::Done => Err(LabError::InvalidOperation(
                "no job is active on the domain".into(),
            )),
            State::Postcopy
            | State::Resume { postcopy: true, .. }
            | State::StopAndCopy { postcopy: true } => Err(LabError::InvalidOperation(
                "cannot abort migration in post-copy mode".into(),
            )),
            _ => {
                self.finish(
                    t,
                    Outcome::Aborted {
                        at_ms: t.since(self.start).as_millis(),
                    },
                );
                Ok(())
            }
        }
    }

    /// `virsh migrate-postcopy`: switch to post-copy at the next opportunity.
    pub fn request_postcopy(&mut self) -> Result<(), LabError> {
        if !self.params.postcopy {
            return Err(LabError::InvalidOperation(
                "switching to post-copy migration requires migration to be started with VIR_MIGRATE_POSTCOPY flag".into(),
            ));
        }
        self.start_postcopy = true;
        Ok(())
    }

    /// `virsh migrate-setmaxdowntime`.
    pub fn set_downtime_limit(&mut self, ms: u64) {
        self.params.downtime_limit_ms = ms.max(1) as f64;
    }

    /// `virsh migrate-setspeed` (MiB/s; `None` = unlimited).
    pub fn set_speed(&mut self, mibps: Option<u64>) {
        self.params.cap_bytes_per_sec = mibps.map(|b| (b * MIB) as f64);
    }

    // ---- the phases ---------------------------------------------------------------------------

    fn storage_copy(&mut self, t: &mut SimTime, end: SimTime, budget: &mut u64, rate: f64) {
        let Some(disk) = &mut self.disk else {
            self.start_ram(*t);
            return;
        };
        disk.advance_to(*t, self.paused_at.is_none());
        let time_bytes = bytes_in(*t, end, rate);
        let sent = disk.send((*budget).min(time_bytes));
        *budget = budget.saturating_sub(sent);
        if sent == 0 && !disk.is_ready() {
            *t = end;
            return;
        }
        *t = advance(*t, sent, rate).min(end);
        if disk.is_ready() {
            let at = *t;
            self.emit(
                at,
                TraceKind::Log {
                    message: format!(
                        "block job for {} is ready (disk in sync); starting RAM migration",
                        self.vm.name
                    ),
                },
            );
            self.start_ram(at);
        }
    }

    fn precopy(&mut self, t: &mut SimTime, end: SimTime, budget: &mut u64, rate: f64) {
        if *t >= self.slot_start + SLOT {
            self.update_counters(*t);
        }
        let seg_end = end.min(self.slot_start + SLOT);
        if self.iterate_end.is_none() {
            if self.slot_budget_left(*t) == Some(0) {
                // migration_rate_limit(): the slot's budget is spent; sleep to the end of the slot.
                *t = seg_end;
                return;
            }
            if self.iteration_run(*t) {
                return;
            }
            self.iterate_end = Some(*t + MAX_WAIT);
        }
        // Inside qemu_savevm_state_iterate(): send until the slot's budget is used, 50 ms have
        // passed, or nothing is left; only then does the loop look at the threshold again.
        let iterate_end = self.iterate_end.unwrap_or(*t);
        if let Some(disk) = &mut self.disk {
            // The block mirror's own connection competes for the link: give it up to half.
            let sent = disk.send((*budget / 2).min(disk.remaining_bytes()));
            *budget = budget.saturating_sub(sent);
        }
        let slot_left = self.slot_budget_left(*t).unwrap_or(u64::MAX);
        let can = (*budget)
            .min(slot_left)
            .min(bytes_in(*t, seg_end.min(iterate_end), rate));
        let sent = if can > 0 {
            self.mem.send(can)
        } else {
            Sent::default()
        };
        if sent.bytes > 0 {
            self.account(sent);
            self.slot_bytes += sent.bytes;
            *budget = budget.saturating_sub(sent.bytes);
            *t = advance(*t, sent.bytes, rate).min(seg_end);
        }
        let nothing_left = self.mem.pending_pages() == 0;
        let slot_spent = self.slot_budget_left(*t) == Some(0);
        if nothing_left || slot_spent || *t >= iterate_end {
            self.iterate_end = None;
        } else if sent.bytes == 0 {
            // The link gave no more this tick: the iterate call goes on in the next one.
            *t = if *budget == 0 {
                end
            } else {
                seg_end.min(iterate_end)
            };
        }
    }

    /// migration_iteration_run(): decide between completing, switching to post-copy and sending
    /// more. Returns true if the job left pre-copy.
    fn iteration_run(&mut self, t: SimTime) -> bool {
        self.advance_guest(t);
        // Background mirroring of new disk writes shares the connection.
        if let Some(disk) = &mut self.disk {
            disk.advance_to(t, self.paused_at.is_none());
        }
        let mut pending = self.mem.pending_bytes();
        if pending < self.threshold_bytes {
            self.sync(t);
            pending = self.mem.pending_bytes();
        }
        if pending == 0 || pending < self.threshold_bytes {
            self.begin_completion(t, false);
            return true;
        }
        if self.start_postcopy && self.params.postcopy {
            // must_precopy (device state only) is always under the threshold once it is measured.
            self.emit(
                t,
                TraceKind::Log {
                    message: format!(
                        "switching {} to post-copy with {} MiB still on the source",
                        self.vm.name,
                        pending / MIB
                    ),
                },
            );
            self.begin_completion(t, true);
            return true;
        }
        false
    }

    fn stop_and_copy(
        &mut self,
        t: &mut SimTime,
        end: SimTime,
        budget: &mut u64,
        rate: f64,
        postcopy: bool,
    ) {
        let time_bytes = bytes_in(*t, end, rate);
        let mut can = (*budget).min(time_bytes);
        let start_budget = can;
        if !postcopy {
            // Every remaining dirty page goes now, regardless of the rate limit.
            let sent = self.mem.send(can);
            self.account(sent);
            can -= sent.bytes.min(can);
        }
        if let Some(disk) = &mut self.disk {
            let sent = disk.send(can);
            can -= sent.min(can);
        }
        let dev = self.device_left.min(can);
        self.device_left -= dev;
        can -= dev;
        let used = start_budget - can;
        *budget = budget.saturating_sub(used);
        let ram_left = if postcopy {
            0
        } else {
            self.mem.pending_pages()
        };
        let disk_left = self.disk.as_ref().map_or(0, DiskMirror::remaining_bytes);
        if ram_left == 0 && disk_left == 0 && self.device_left == 0 {
            let at = advance(*t, used, rate);
            if let Some((Stage::LoadState, err)) = self.planned_failure.clone() {
                // The device state arrived; the destination QEMU exits while putting the vCPU
                // state into KVM. Before the post-copy switch libvirt resumes the guest on the
                // source; after it, the source no longer has all the guest's memory, and the
                // guest is lost (QEMU docs/devel/migration/postcopy.rst).
                *t = at.min(end);
                let message = if postcopy {
                    self.guest_lost = true;
                    format!(
                        "{}: after the post-copy switch {}'s QEMU could not load the vCPU state and exited; the guest's memory is split between the hosts: it stays paused on {} (post-copy failed)",
                        self.vm.name, self.spec.to, self.vm.host
                    )
                } else {
                    format!(
                        "{}: all RAM and the device state reached {}, whose QEMU could not load the vCPU state and exited; {} resumes on {}",
                        self.vm.name, self.spec.to, self.vm.name, self.vm.host
                    )
                };
                self.emit(*t, TraceKind::Log { message });
                self.fail(*t, err);
                return;
            }
            self.set_phase(at, Phase::Resume);
            self.state = State::Resume {
                until: at + self.params.resume,
                postcopy,
            };
            *t = at.min(end);
            if at >= end {
                *t = end;
            }
        } else {
            *t = end;
        }
    }

    fn postcopy(&mut self, t: &mut SimTime, end: SimTime, budget: &mut u64, rate: f64) {
        // The guest runs on the destination; a write to a page it does not have yet faults and the
        // page is requested from the source ahead of the background stream.
        let mut faults = Sent::default();
        let mut requests = 0;
        let mem = &mut self.mem;
        let layout = &self.layout;
        let base = self.workload_base;
        let churn = &self.churn;
        for (w, in_workload) in [(&mut self.workload, true), (&mut self.background, false)] {
            w.advance_to(*t, 0, |idx| {
                let mut fault = |page: u64| {
                    if mem.is_pending(page) {
                        let s = mem.send_page(page);
                        faults.bytes += s.bytes;
                        faults.zero_pages += s.zero_pages;
                        faults.normal_pages += s.normal_pages;
                        requests += 1;
                    }
                    mem.write(page);
                };
                // The workload's pages from the first page up (where in RAM does not change
                // what is sent: QEMU keeps every write in its dirty log, even one made before
                // the first pass reached the page); the background's in the written memory.
                if in_workload {
                    churn.write(idx, base, layout, &mut fault);
                } else {
                    fault(churn.background_page(idx, layout));
                }
            });
        }
        self.postcopy_requests += requests;
        self.account(faults);
        *budget = budget.saturating_sub(faults.bytes);
        let can = (*budget).min(bytes_in(*t, end, rate));
        let sent = self.mem.send(can);
        self.account(sent);
        *budget = budget.saturating_sub(sent.bytes);
        if self.mem.pending_pages() == 0 {
            let at = advance(*t, sent.bytes, rate);
            *t = at.min(end);
            self.complete(at);
        } else if sent.bytes == 0 {
            *t = end;
        } else {
            *t = advance(*t, sent.bytes, rate).min(end);
        }
    }

    // ---- QEMU's bookkeeping -----------------------------------------------------------------

    fn advance_guest(&mut self, t: SimTime) {
        if self.paused_at.is_some()
            || !matches!(
                self.state,
                State::Precopy | State::StorageCopy | State::Setup { .. }
            )
        {
            self.skip_guest(t);
            return;
        }
        let mem = &mut self.mem;
        let layout = &self.layout;
        let base = self.workload_base;
        let churn = &self.churn;
        self.workload.advance_to(t, self.throttle_pct, |p| {
            churn.write(p, base, layout, |page| mem.write(page));
        });
        // Timers and received packets are not held back by auto-converge's throttle.
        self.background
            .advance_to(t, 0, |i| mem.write(churn.background_page(i, layout)));
    }

    /// The guest is paused (or its writes do not matter): skip its writers to `t`.
    fn skip_guest(&mut self, t: SimTime) {
        self.workload.skip_to(t);
        self.background.skip_to(t);
    }

    fn account(&mut self, sent: Sent) {
        self.ram_bytes += sent.bytes;
        self.zero_pages += sent.zero_pages;
        self.normal_pages += sent.normal_pages;
    }

    /// migration_update_counters(): once per slot.
    fn update_counters(&mut self, t: SimTime) {
        let spent_ms = t.since(self.slot_start).as_ms_f64();
        if spent_ms > 0.0 {
            self.bandwidth_bytes_per_ms = self.slot_bytes as f64 / spent_ms;
            self.threshold_bytes =
                (self.bandwidth_bytes_per_ms * self.params.downtime_limit_ms) as u64;
            // QEMU only re-estimates once a dirty rate has been measured and something was sent.
            if self.dirty_rate_pps > 0
                && self.slot_bytes > 10_000
                && self.bandwidth_bytes_per_ms > 0.0
            {
                self.expected_downtime_ms =
                    (self.dirty_bytes_at_last_sync as f64 / self.bandwidth_bytes_per_ms) as u64;
            }
        }
        self.slot_start = t;
        self.slot_bytes = 0;
    }

    /// migration_bitmap_sync(): one "iteration".
    fn sync(&mut self, t: SimTime) {
        self.advance_guest(t);
        let logged = self.mem.sync();
        self.sync_count += 1;
        self.period_dirty_pages += logged;
        self.dirty_bytes_at_last_sync = self.mem.pending_bytes();
        if t > self.period_start + RATE_PERIOD {
            let period_ms = t.since(self.period_start).as_ms_f64();
            if let Some((initial, increment)) = self.params.auto_converge {
                // migration_trigger_throttle(): note QEMU never resets the strike counter on a calm
                // period; two strikes (not necessarily consecutive) throttle.
                let xfer = self.ram_bytes - self.period_xfer_start;
                let dirty = self.period_dirty_pages * PAGE_SIZE;
                if dirty > xfer * THROTTLE_TRIGGER_PCT / 100 {
                    self.dirty_rate_high_cnt += 1;
                    if self.dirty_rate_high_cnt >= 2 {
                        self.dirty_rate_high_cnt = 0;
                        self.throttle_pct = if self.throttle_pct == 0 {
                            initial.min(MAX_THROTTLE_PCT)
                        } else {
                            self.throttle_pct
                                .saturating_add(increment)
                                .min(MAX_THROTTLE_PCT)
                        };
                        self.emit(
                            t,
                            TraceKind::Log {
                                message: format!(
                                    "auto-converge: vCPUs of {} throttled to {} %",
                                    self.vm.name, self.throttle_pct
                                ),
                            },
                        );
                    }
                }
            }
            self.dirty_rate_pps = (self.period_dirty_pages as f64 * 1000.0 / period_ms) as u64;
            self.period_start = t;
            self.period_dirty_pages = 0;
            self.period_xfer_start = self.ram_bytes;
        }
        let record = SyncRecord {
            iteration: self.sync_count,
            new_dirty_pages: logged,
            remaining_bytes: self.mem.pending_bytes(),
            threshold_bytes: self.threshold_bytes,
            throttle_pct: self.throttle_pct,
        };
        self.history.push(record.clone());
        self.emit(t, TraceKind::Sync(record));
        if let Some(n) = self.params.postcopy_after_pass {
            // virsh --postcopy-after-precopy waits for the iteration event that ends pass 1 (count 2).
            if self.sync_count > n {
                self.start_postcopy = true;
            }
        }
    }

    // ---- output -------------------------------------------------------------------------------

    fn emit(&mut self, t: SimTime, kind: TraceKind) {
        self.outbox.push((t, kind));
    }

    fn set_phase(&mut self, t: SimTime, phase: Phase) {
        self.emit(t, TraceKind::Phase { phase });
    }

    fn phase(&self) -> Phase {
        match self.state {
            State::Pending | State::Setup { .. } => Phase::Setup,
            State::StorageCopy => Phase::StorageCopy,
            State::Precopy if self.paused_at.is_some() => Phase::Suspended,
            State::Precopy => Phase::Precopy,
            State::StopAndCopy { .. } => Phase::StopAndCopy,
            State::Resume { .. } => Phase::Resume,
            State::Postcopy => Phase::Postcopy,
            State::Done => Phase::Done,
        }
    }

    /// Job statistics now, as `virsh domjobinfo` would print them.
    pub fn sample(&self) -> MigrationSample {
        let ram_started = self.sync_count > 0;
        let (disk_total, disk_processed, disk_remaining) =
            self.disk.as_ref().map_or((0, 0, 0), |d| {
                (d.total_bytes(), d.processed_bytes(), d.remaining_bytes())
            });
        MigrationSample {
            phase: Some(self.phase()),
            memory_total: self.vm.ram_bytes(),
            memory_processed: self.ram_bytes,
            memory_remaining: if ram_started {
                self.mem.pending_bytes()
            } else {
                self.vm.ram_bytes()
            },
            disk_total,
            disk_processed,
            disk_remaining,
            memory_bps: self.bandwidth_bytes_per_ms * 1000.0,
            dirty_rate_pps: self.dirty_rate_pps,
            iteration: self.sync_count,
            constant_pages: self.zero_pages,
            normal_pages: self.normal_pages,
            postcopy_requests: self.postcopy_requests,
            throttle_pct: self.throttle_pct,
            expected_downtime_ms: self.expected_downtime_ms,
            threshold_bytes: self.threshold_bytes,
        }
    }

    fn emit_sample(&mut self, t: SimTime) {
        let s = self.sample();
        self.emit(t, TraceKind::Progress(s));
    }
}

/// Bytes that fit in `[t, end)` at `rate` bytes/ns.
fn bytes_in(t: SimTime, end: SimTime, rate: f64) -> u64 {
    (end.since(t).0 as f64 * rate) as u64
}

/// The instant after sending `bytes` from `t` at `rate` bytes/ns (at least 1 ns later).
fn advance(t: SimTime, bytes: u64, rate: f64) -> SimTime {
    t + SimDuration(((bytes as f64 / rate).ceil() as u64).max(1))
}

/// Where the workload's writes land. Its working set is a stretch of pages from the workload's
/// base; what each burst dirties besides (the churn: the processes it starts, their buffers) is
/// the kernel's memory, not the writer's files. A page trace of the lab's guest shows it split:
/// most just below the files, the rest in the page descriptors at the top of RAM (allocating and
/// freeing pages writes their descriptors). Which side of the set the churn lies on decides
/// whether QEMU's walk sends it again right after the set's freshly written pages.
#[derive(Debug, Clone)]
struct ChurnPlacement {
    /// Pages of the working set.
    set: u64,
    /// Churn pages just below the set (the set starts after them).
    low: u64,
    /// Churn pages in the page descriptors at the top of RAM.
    top: u64,
    /// The last page with data (the top churn counts down from it).
    last: u64,
    /// When set, the low churn and then the set are the data pages from this index on (a
    /// measured layout); otherwise raw pages from the workload's base.
    data_start: Option<u64>,
    /// The set's pages as a dump found them, in the order written, and the churn's: the low
    /// churn (ascending) then the top churn (descending), both on data pages that are not
    /// the files'.
    found: Option<FoundPages>,
}

/// The workload's pages when a dump found its files.
#[derive(Debug, Clone)]
struct FoundPages {
    set: std::sync::Arc<[u64]>,
    churn: std::sync::Arc<[u64]>,
    /// The first page of the kernel's page descriptors, when the layout shows where they are.
    memmap: Option<u64>,
    /// The descriptor pages of the buffer the writer reads whole at each wake-up.
    buffer_descriptors: std::sync::Arc<[u64]>,
}

impl ChurnPlacement {
    fn new(workload: &Workload, top_share: f64, layout: &RamLayout) -> ChurnPlacement {
        let churn = workload.churn_pages();
        let top = ((churn as f64) * top_share.clamp(0.0, 1.0)).round() as u64;
        ChurnPlacement {
            set: workload.span_pages() - churn,
            low: churn - top,
            top,
            last: layout.data_pages().saturating_sub(1),
            data_start: None,
            found: None,
        }
    }

    /// Place the set on the last of `pages` (the writer's files in the order allocated; the
    /// ones before are the buffer it only reads); the low churn on the data just below the
    /// set's lowest page, the top churn on the last data pages, neither on the files (the
    /// boot's freed holes the files took include the last pages of RAM: the page descriptors
    /// lie below them). False, and nothing changed, when there are fewer pages than the set.
    ///
    /// When the layout shows where the page descriptors are, each page the writer writes
    /// also dirties its descriptor, and each wake-up the descriptors of the buffer it reads
    /// (the kernel locks a file's page to write it and counts a reference to read it). Those
    /// are the churn QEMU's page trace finds at the top of RAM — the descriptors of the
    /// writer's files and nothing else there to speak of — so the top churn is then none and
    /// all of the fitted churn lies below the set.
    fn on_pages(&mut self, pages: &[u64], layout: &RamLayout) -> bool {
        let n = self.set as usize;
        let Some(skip) = pages.len().checked_sub(n) else {
            return false;
        };
        let (buffer, set) = pages.split_at(skip);
        let Some(&lowest) = set.iter().min() else {
            return false;
        };
        let memmap = layout.memmap_start();
        if memmap.is_some() {
            self.low += self.top;
            self.top = 0;
        }
        let buffer_descriptors: std::collections::BTreeSet<u64> = memmap
            .map(|m| {
                buffer
                    .iter()
                    .map(|&p| RamLayout::descriptor_page(m, p))
                    .collect()
            })
            .unwrap_or_default();
        let files: std::collections::BTreeSet<u64> = pages.iter().copied().collect();
        // Data pages counting down from data index `from`, the files' skipped.
        let down = |from: u64| {
            (0..from)
                .rev()
                .map(|i| layout.data_page(i))
                .filter(|p| !files.contains(p))
        };
        let mut low: Vec<u64> = down(layout.data_pages_below(lowest))
            .take(self.low as usize)
            .collect();
        low.reverse();
        let top = down(layout.data_pages()).take(self.top as usize);
        let churn: Vec<u64> = low.into_iter().chain(top).collect();
        self.found = Some(FoundPages {
            set: set.into(),
            churn: churn.into(),
            memmap,
            buffer_descriptors: buffer_descriptors.into_iter().collect(),
        });
        true
    }

    /// Make the writes of the workload's page `p`: the page itself, and the descriptors that
    /// go with it when they are modelled (a set page's own; with the wake-up's first churn
    /// page, the buffer's).
    #[inline]
    fn write(&self, p: u64, base: u64, layout: &RamLayout, mut write: impl FnMut(u64)) {
        let page = self.page(p, base, layout);
        write(page);
        let Some(found) = &self.found else { return };
        let Some(memmap) = found.memmap else { return };
        let set = found.set.len() as u64;
        if p < set {
            write(RamLayout::descriptor_page(memmap, page));
        } else if p == set {
            for &d in found.buffer_descriptors.iter() {
                write(d);
            }
        }
    }

    /// The page the background's write `i` lands on. In a guest whose files were found, the
    /// churn's pages: QEMU's page trace of a busy guest finds nothing of the kernel's besides
    /// the churn's ~250 pages a pass (none in the first MiBs, where an idle guest's timers and
    /// packets would otherwise be placed) — the kernel writes the same recently freed pages
    /// for both. Otherwise the first data pages.
    #[inline]
    fn background_page(&self, i: u64, layout: &RamLayout) -> u64 {
        match &self.found {
            Some(found) if !found.churn.is_empty() => {
                found.churn[(i % found.churn.len() as u64) as usize]
            }
            _ => layout.data_page(i),
        }
    }

    /// Place the low churn and the set on the data pages that end at data page `end`.
    fn in_data_below(&mut self, end: u64) {
        self.data_start = Some(end.saturating_sub(self.set + self.low));
    }

    /// The page written for the workload's page `p` (set pages first, then churn).
    #[inline]
    fn page(&self, p: u64, base: u64, layout: &RamLayout) -> u64 {
        if let Some(found) = &self.found {
            let p = p as usize;
            return match found.set.get(p) {
                Some(&page) => page,
                None => found
                    .churn
                    .get(p - found.set.len())
                    .copied()
                    .unwrap_or_else(|| layout.data_page(self.last)),
            };
        }
        if let Some(d) = self.data_start {
            if p < self.set {
                return layout.data_page(d + self.low + p);
            }
            if p - self.set < self.low {
                return layout.data_page(d + p - self.set);
            }
        }
        if p < self.set {
            base + self.low + p
        } else if p - self.set < self.low {
            base + p - self.set
        } else {
            layout.data_page(self.last.saturating_sub(p - self.set - self.low))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn churn_lies_below_the_set_and_in_the_last_data_pages() {
        // 64 MiB, half of it data at the bottom and 4 MiB at the top; 1 MiB set, 40 pages of
        // churn, a quarter of it at the top.
        let layout = RamLayout::simple(16384, 0.4375, 1024);
        let workload = Workload::new(
            &WorkloadSpec::Scanner {
                set_mib: 1,
                rate_mibps: 1.0,
            },
            16384,
            1.0,
            FastRng::new(1),
        )
        .with_bursts(250.0, 160);
        let c = ChurnPlacement::new(&workload, 0.25, &layout);
        let base = 1000;
        // The set's first page comes after the 30 low churn pages.
        assert_eq!(c.page(0, base, &layout), base + 30);
        assert_eq!(c.page(255, base, &layout), base + 30 + 255);
        // Churn: 30 pages just below the set, then 10 counting down from the last page of RAM.
        assert_eq!(c.page(256, base, &layout), base);
        assert_eq!(c.page(256 + 29, base, &layout), base + 29);
        assert_eq!(c.page(256 + 30, base, &layout), 16383);
        assert_eq!(c.page(256 + 39, base, &layout), 16374);
    }

    /// An 8 MiB measured guest — MiB 0-2 full, MiB 3 empty, MiB 4-5 full, MiB 6 empty, MiB 7
    /// half full (the top block) — and a 1 MiB writer with 160 pages of churn per burst.
    fn measured_guest() -> (RamLayout, Workload) {
        let layout = RamLayout::measured(8 * 256, &[256, 256, 256, 0, 256, 256, 0, 128]);
        let workload = Workload::new(
            &WorkloadSpec::Scanner {
                set_mib: 1,
                rate_mibps: 1.0,
            },
            8 * 256,
            1.0,
            FastRng::new(1),
        )
        .with_bursts(250.0, 160);
        (layout, workload)
    }

    #[test]
    fn in_a_measured_guest_the_set_and_its_churn_are_the_data_below_the_top_block() {
        // 8 MiB: MiB 0-2 full (the kernel), MiB 3 empty, MiB 4-5 full (the files), MiB 6 empty,
        // MiB 7 half full (the page descriptors: the top block).
        let (layout, workload) = measured_guest();
        let mut c = ChurnPlacement::new(&workload, 0.25, &layout);
        c.in_data_below(layout.data_pages_below(7 * 256));
        let base = 1000;
        // Data below MiB 7 ends with MiB 5: the set is its last MiB, the 30 low churn pages
        // the ones before it; the base no longer matters.
        assert_eq!(c.page(0, base, &layout), 5 * 256);
        assert_eq!(c.page(255, base, &layout), 6 * 256 - 1);
        assert_eq!(c.page(256, base, &layout), 5 * 256 - 30);
        assert_eq!(c.page(256 + 29, base, &layout), 5 * 256 - 1);
        // The top churn still counts down from the last data page.
        assert_eq!(c.page(256 + 30, base, &layout), 7 * 256 + 127);
    }

    #[test]
    fn with_the_files_found_the_set_is_their_last_pages_in_the_order_allocated() {
        // 8 MiB: MiB 0-2 full (the kernel, with holes the boot freed), MiB 3 empty, MiB 4-5
        // full, MiB 7 half full (the top block).
        let (layout, workload) = measured_guest();
        // The files: 100 pages of MiB 1 (the buffer the writer reads), then 56 of MiB 7 (a
        // hole at the top), then 100 more of MiB 1 and 100 of MiB 4.
        let files = RamLayout::pages_of_runs(&[(1, 100), (7, 56), (1, 100), (4, 100)], 8 * 256);
        assert_eq!(files.len(), 356);
        let mut c = ChurnPlacement::new(&workload, 0.25, &layout);
        assert!(c.on_pages(&files, &layout));
        let base = 1000;
        // The set is the last 256 of them, in that order: MiB 7's pages come first, then the
        // second run of MiB 1 (after the first run's pages), then MiB 4.
        assert_eq!(c.page(0, base, &layout), 7 * 256);
        assert_eq!(c.page(55, base, &layout), 7 * 256 + 55);
        assert_eq!(c.page(56, base, &layout), 256 + 100);
        assert_eq!(c.page(155, base, &layout), 256 + 199);
        assert_eq!(c.page(156, base, &layout), 4 * 256);
        assert_eq!(c.page(255, base, &layout), 4 * 256 + 99);
        // The layout shows page descriptors (the top of the highest full run: MiB 5 for 8 MiB),
        // so all 40 churn pages lie below the set: the data just below its lowest page (MiB
        // 1's 100th), but not the files' — the buffer's 100 pages there are skipped, down into
        // MiB 0.
        assert_eq!(c.page(256, base, &layout), 216);
        assert_eq!(c.page(256 + 39, base, &layout), 255);
        // Writing a set page dirties its descriptor too; the wake-up's first churn page comes
        // with the buffer's descriptors (MiB 1's first 100 pages: two descriptor pages).
        let writes = |p: u64| {
            let mut w = Vec::new();
            c.write(p, base, &layout, |page| w.push(page));
            w
        };
        let memmap = 5 * 256;
        assert_eq!(writes(0), [7 * 256, memmap + 7 * 256 / 64]);
        assert_eq!(writes(156), [4 * 256, memmap + 4 * 256 / 64]);
        assert_eq!(writes(256), [216, memmap + 4, memmap + 5]);
        assert_eq!(writes(257), [217]);
        // The background writes on the churn's pages, round and round.
        assert_eq!(c.background_page(0, &layout), 216);
        assert_eq!(c.background_page(39, &layout), 255);
        assert_eq!(c.background_page(40, &layout), 216);
        // Fewer pages than the set: nothing changes.
        let mut d = ChurnPlacement::new(&workload, 0.25, &layout);
        assert!(!d.on_pages(&files[..255], &layout));
        assert_eq!(d.page(0, base, &layout), base + 30);
        // Without the files, the background writes the first data pages.
        assert_eq!(d.background_page(0, &layout), 0);
        assert_eq!(d.background_page(300, &layout), 300);
    }

    #[test]
    fn with_the_files_found_but_no_descriptors_the_top_churn_counts_down_from_the_top() {
        // As above, but no MiB is quite full: where the descriptors are is not known.
        let layout = RamLayout::measured(8 * 256, &[255, 255, 255, 0, 255, 255, 0, 128]);
        let (_, workload) = measured_guest();
        let files = RamLayout::pages_of_runs(&[(1, 100), (7, 56), (1, 100), (4, 100)], 8 * 256);
        let mut c = ChurnPlacement::new(&workload, 0.25, &layout);
        assert!(c.on_pages(&files, &layout));
        let base = 1000;
        // 30 low churn pages, just below the set and off the buffer, into MiB 0.
        assert_eq!(c.page(256, base, &layout), 225);
        assert_eq!(c.page(256 + 29, base, &layout), 254);
        // The top churn counts down from the last data page that is not the files' (MiB 7's
        // first 56 pages are).
        assert_eq!(c.page(256 + 30, base, &layout), 7 * 256 + 127);
        assert_eq!(c.page(256 + 39, base, &layout), 7 * 256 + 118);
        // And no descriptors are written.
        let mut w = Vec::new();
        c.write(0, base, &layout, |page| w.push(page));
        c.write(256, base, &layout, |page| w.push(page));
        assert_eq!(w, [7 * 256, 225]);
    }
}
