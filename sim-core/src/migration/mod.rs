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

use crate::disk::DiskMirror;
use crate::error::LabError;
use crate::guest::{Guest, GuestMemory, Sent};
use crate::preflight::Stage;
use crate::rng::FastRng;
use crate::scenario::{MigrationSpec, SimSpec, TimeoutAction, VmSpec};
use crate::time::{SimDuration, SimTime};
use crate::trace::{MigrationSample, Outcome, Phase, SyncRecord, TraceKind};
use crate::units::{MIB, PAGE_SIZE};

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

/// What the checks before the job found (the simulator runs preflight; the state machine acts on
/// its answer at the stage where libvirt would).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdict {
    /// The failure libvirt would report, and at which stage.
    pub failure: Option<(Stage, LabError)>,
    /// The destination is on another network: the guest will not answer after the move.
    pub unreachable_after: bool,
    /// Instructions of the source CPU the destination lacks, for a `host-passthrough` guest
    /// whose state still loads there (see [`crate::cpu::PassthroughOutcome::FaultsLater`]).
    pub faults_after: Vec<String>,
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
    /// The guest's RAM as QEMU tracks it: what is still to send, what the guest dirtied.
    mem: GuestMemory,
    /// What writes to that RAM while the guest runs.
    guest: Guest,
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
    /// A migration of `vm` as `spec` says, typed at `spec.start_ms`, with the simulation's
    /// constants `sim` and what preflight found (`verdict`). `workload_rng` and `disk_rng` come
    /// from the run's seed tree.
    pub fn new(
        sim: &SimSpec,
        spec: &MigrationSpec,
        vm: &VmSpec,
        verdict: Verdict,
        workload_rng: FastRng,
        disk_rng: FastRng,
    ) -> Self {
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
        let guest = Guest::new(vm, workload_rng);
        let mem = GuestMemory::from_layout(guest.layout());
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
            planned_failure: verdict.failure,
            unreachable_after: verdict.unreachable_after,
            faults_after: verdict.faults_after,
            guest_lost: false,
            mem,
            guest,
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
        // Where in RAM a write lands does not change what is sent: QEMU keeps every write in its
        // dirty log, even one made before the first pass reached the page.
        self.guest.run(*t, 0, |page| {
            if mem.is_pending(page) {
                let s = mem.send_page(page);
                faults.bytes += s.bytes;
                faults.zero_pages += s.zero_pages;
                faults.normal_pages += s.normal_pages;
                requests += 1;
            }
            mem.write(page);
        });
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
        self.guest.run(t, self.throttle_pct, |page| mem.write(page));
    }

    /// The guest is paused (or its writes do not matter): skip its writers to `t`.
    fn skip_guest(&mut self, t: SimTime) {
        self.guest.skip_to(t);
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
