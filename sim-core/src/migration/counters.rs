//! QEMU's bookkeeping for the job: the guest's writes reaching the dirty log, bytes sent, the
//! per-slot bandwidth and threshold, the dirty-bitmap sync with auto-converge's check, and the
//! events the job reports.

use super::{MAX_THROTTLE_PCT, Migration, RATE_PERIOD, State, THROTTLE_TRIGGER_PCT};
use crate::guest::Sent;
use crate::time::SimTime;
use crate::trace::{Phase, SyncRecord, TraceKind};
use crate::units::PAGE_SIZE;

impl Migration {
    pub(super) fn advance_guest(&mut self, t: SimTime) {
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
    pub(super) fn skip_guest(&mut self, t: SimTime) {
        self.guest.skip_to(t);
    }

    pub(super) fn account(&mut self, sent: Sent) {
        self.ram_bytes += sent.bytes;
        self.zero_pages += sent.zero_pages;
        self.normal_pages += sent.normal_pages;
    }

    /// migration_update_counters(): once per slot.
    pub(super) fn update_counters(&mut self, t: SimTime) {
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
    pub(super) fn sync(&mut self, t: SimTime) {
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

    pub(super) fn emit(&mut self, t: SimTime, kind: TraceKind) {
        self.outbox.push((t, kind));
    }

    pub(super) fn set_phase(&mut self, t: SimTime, phase: Phase) {
        self.emit(t, TraceKind::Phase { phase });
    }

    pub(super) fn phase(&self) -> Phase {
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

    pub(super) fn emit_sample(&mut self, t: SimTime) {
        let s = self.sample();
        self.emit(t, TraceKind::Progress(s));
    }
}
