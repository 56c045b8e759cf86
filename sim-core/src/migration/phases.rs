//! What the job does in each phase while the link gives it bytes: the disk mirror, QEMU's
//! pre-copy loop (`migration_iteration_run`, the 50 ms `ram_save_iterate` calls in 100 ms
//! rate-limit slots), stop-and-copy and post-copy.

use super::{MAX_WAIT, Migration, SLOT, State};
use crate::disk::DiskMirror;
use crate::guest::Sent;
use crate::preflight::Stage;
use crate::time::{SimDuration, SimTime};
use crate::trace::{Phase, TraceKind};
use crate::units::MIB;

impl Migration {
    pub(super) fn storage_copy(
        &mut self,
        t: &mut SimTime,
        end: SimTime,
        budget: &mut u64,
        rate: f64,
    ) {
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

    pub(super) fn precopy(&mut self, t: &mut SimTime, end: SimTime, budget: &mut u64, rate: f64) {
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
    pub(super) fn iteration_run(&mut self, t: SimTime) -> bool {
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

    pub(super) fn stop_and_copy(
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

    pub(super) fn postcopy(&mut self, t: &mut SimTime, end: SimTime, budget: &mut u64, rate: f64) {
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
}

/// Bytes that fit in `[t, end)` at `rate` bytes/ns.
fn bytes_in(t: SimTime, end: SimTime, rate: f64) -> u64 {
    (end.since(t).0 as f64 * rate) as u64
}

/// The instant after sending `bytes` from `t` at `rate` bytes/ns (at least 1 ns later).
fn advance(t: SimTime, bytes: u64, rate: f64) -> SimTime {
    t + SimDuration(((bytes as f64 / rate).ceil() as u64).max(1))
}
