//! The job's steps from one state to the next, as libvirt and QEMU take them: the command, setup,
//! the start of RAM, the pause, the switch-over, the resume on the destination, and every way it
//! ends (done, failed at preflight's stage, the timeout, the simulator's own time limit).

use super::{Migration, State};
use crate::disk::DiskMirror;
use crate::error::LabError;
use crate::preflight::Stage;
use crate::scenario::TimeoutAction;
use crate::time::SimTime;
use crate::trace::{Outcome, Phase, TraceKind};

impl Migration {
    pub(super) fn begin(&mut self, t: SimTime) {
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

    pub(super) fn fail(&mut self, t: SimTime, error: LabError) {
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

    pub(super) fn after_setup(&mut self, t: SimTime) {
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

    pub(super) fn start_ram(&mut self, t: SimTime) {
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

    pub(super) fn pause(&mut self, t: SimTime) {
        if self.paused_at.is_none() {
            self.advance_guest(t);
            self.paused_at = Some(t);
            self.outages.push((t, None));
        }
    }

    pub(super) fn begin_completion(&mut self, t: SimTime, postcopy: bool) {
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

    pub(super) fn resumed(&mut self, t: SimTime, postcopy: bool) {
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

    pub(super) fn complete(&mut self, t: SimTime) {
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

    pub(super) fn downtime_until(&self, resumed: SimTime) -> u64 {
        self.paused_at.map_or(0, |p| resumed.since(p).as_millis())
    }

    /// What `virsh list --all` shows on each host afterwards (the lesson gets this wrong).
    pub(super) fn definitions_after_success(&self) -> String {
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

    pub(super) fn finish(&mut self, t: SimTime, outcome: Outcome) {
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
    pub(super) fn check_limits(&mut self, t: SimTime) -> bool {
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
            let secs = elapsed.as_millis() / 1000;
            let (outcome, message) = if self.still_converging() {
                (
                    Outcome::TimeLimit(self.unfinished(elapsed.as_millis())),
                    format!(
                        "time limit reached: {} was still being copied after {secs} s ({} iterations, {} MiB left) and needs more time; raise sim.max_time_s to see the end",
                        self.vm.name,
                        self.sync_count,
                        self.mem.pending_bytes() / crate::units::MIB
                    ),
                )
            } else {
                (
                    Outcome::NotConverged {
                        at_ms: elapsed.as_millis(),
                        memory_bytes: self.ram_bytes,
                        disk_bytes: self.disk.as_ref().map_or(0, DiskMirror::processed_bytes),
                        iterations: self.sync_count,
                        history: self.history.clone(),
                    },
                    format!(
                        "{} did not converge in {secs} s ({} iterations): QEMU would iterate forever. Try --auto-converge, --postcopy, migrate-setmaxdowntime or --timeout.",
                        self.vm.name, self.sync_count
                    ),
                )
            };
            self.emit(t, TraceKind::Log { message });
            self.finish(t, outcome);
            return true;
        }
        false
    }

    /// Was the job still getting somewhere when the time ran out? Yes while it is in its first
    /// pass or has re-sent only once (no trend yet), or when the last sync left at least a tenth
    /// less than the one before. A guest that rewrites its working set faster than the link
    /// leaves about the same each pass: that is "not converged" (QEMU would iterate forever).
    fn still_converging(&self) -> bool {
        let passes: Vec<u64> = self
            .history
            .iter()
            .filter(|r| r.iteration >= 2)
            .map(|r| r.remaining_bytes)
            .collect();
        match passes.as_slice() {
            [.., before, last] => (*last as f64) < 0.9 * *before as f64,
            _ => true,
        }
    }

    /// Where the job stands, for an outcome that stops it unfinished.
    pub(super) fn unfinished(&self, at_ms: u64) -> crate::trace::Unfinished {
        crate::trace::Unfinished {
            at_ms,
            memory_bytes: self.ram_bytes,
            disk_bytes: self.disk.as_ref().map_or(0, DiskMirror::processed_bytes),
            iterations: self.sync_count,
            remaining_bytes: self.mem.pending_bytes(),
        }
    }
}
