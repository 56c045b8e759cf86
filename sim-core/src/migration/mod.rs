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

mod counters;
mod phases;
mod transitions;

use crate::disk::DiskMirror;
use crate::error::LabError;
use crate::guest::{Guest, GuestMemory};
use crate::preflight::Stage;
use crate::rng::FastRng;
use crate::scenario::{MigrationSpec, SimSpec, TimeoutAction, VmSpec};
use crate::time::{SimDuration, SimTime};
use crate::trace::{MigrationSample, Outcome, SyncRecord, TraceKind};
use crate::units::MIB;

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
#[derive(Debug, Clone)]
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
    /// Ticks this job has been handed (their fixed cost counts toward its work).
    ticks_run: u64,
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
            ticks_run: 0,
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

    /// Work the simulator has done for this job, in [`crate::budget`]'s units.
    pub fn work(&self) -> u64 {
        self.mem
            .work()
            .saturating_add(self.disk.as_ref().map_or(0, DiskMirror::work))
            .saturating_add(self.ticks_run.saturating_mul(crate::budget::TICK_WORK))
    }

    /// The simulator's work budget is spent: the job ends where it stands.
    pub fn stop_at_work_limit(&mut self, t: SimTime) {
        if self.is_done() {
            return;
        }
        let at = if t > self.start {
            t.since(self.start).as_millis()
        } else {
            0
        };
        self.emit(
            t,
            TraceKind::Log {
                message: format!(
                    "work limit reached: simulating {} further would cost more than one run may; the simulator stopped it here",
                    self.vm.name
                ),
            },
        );
        let outcome = Outcome::WorkLimit(self.unfinished(at));
        self.finish(t, outcome);
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
        if !self.is_done() {
            self.ticks_run += 1;
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_job_fails_where_the_verdict_it_is_handed_says() {
        let vm = VmSpec::new("db01", "kvm-host-01", 64);
        let spec = MigrationSpec::new("db01", "kvm-host-02");
        let sim = SimSpec::default();
        let verdict = Verdict {
            failure: Some((Stage::Prepare, LabError::Internal("no".into()))),
            ..Verdict::default()
        };
        let mut m = Migration::new(&sim, &spec, &vm, verdict, FastRng::new(1), FastRng::new(2));
        let grant = Grant {
            bytes: 1 << 30,
            bytes_per_ns: 0.1,
        };
        let tick = SimDuration::from_millis(10);
        let mut t = SimTime::ZERO;
        while !m.is_done() && t < SimTime::ZERO + SimDuration::from_secs(5) {
            m.run_tick(t, tick, grant);
            t += tick;
        }
        // The destination's QEMU is where a Prepare failure shows: after setup, before any RAM.
        assert_eq!(
            m.outcome(),
            Some(&Outcome::Failed {
                error: LabError::Internal("no".into()),
                at_ms: sim.setup_ms as u64,
            })
        );
        assert_eq!(m.sample().memory_processed, 0);
    }
}
