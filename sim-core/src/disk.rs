//! `--copy-storage-all`: libvirt starts an NBD server on the destination and a block mirror on the
//! source, waits until the mirror is in sync ("ready"), and only then starts the RAM migration.
//! Guest writes to parts already copied make them dirty again; the mirror keeps copying them until
//! the switch-over. Modelled at the mirror's 64 KiB granularity.

use crate::bitmap::Bitmap;
use crate::rng::FastRng;
use crate::time::SimTime;
use crate::units::{MIB, MIRROR_CHUNK_BYTES};

/// Size of one guest disk write (a 4 KiB block).
const WRITE_BYTES: f64 = 4096.0;

/// A running block mirror of one disk.
#[derive(Debug, Clone)]
pub struct DiskMirror {
    total_bytes: u64,
    /// Chunks that still differ between source and destination (all of them at the start).
    dirty: Bitmap,
    cursor: u64,
    processed: u64,
    writes_per_sec: f64,
    carry: f64,
    until: SimTime,
    rng: FastRng,
    ready: bool,
    /// Work done so far, in [`crate::budget`]'s units (a chunk written or visited).
    work: u64,
}

impl DiskMirror {
    /// A mirror of a `total_bytes` disk that the guest writes at `write_mibps`.
    pub fn new(total_bytes: u64, write_mibps: f64, rng: FastRng) -> Self {
        let chunks = total_bytes.div_ceil(MIRROR_CHUNK_BYTES);
        DiskMirror {
            total_bytes,
            dirty: Bitmap::ones(chunks),
            cursor: 0,
            processed: 0,
            writes_per_sec: write_mibps * MIB as f64 / WRITE_BYTES,
            carry: 0.0,
            until: SimTime::ZERO,
            rng,
            ready: false,
            work: chunks.div_ceil(64) * crate::budget::WORD_WORK,
        }
    }

    /// Disk size ("File total").
    pub fn total_bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Bytes copied so far ("File processed").
    pub fn processed_bytes(&self) -> u64 {
        self.processed
    }

    /// Bytes that still differ ("File remaining").
    pub fn remaining_bytes(&self) -> u64 {
        (self.dirty.count() * MIRROR_CHUNK_BYTES).min(self.total_bytes)
    }

    /// Bytes the guest is expected to dirty within `dt` (what a mirror should ask the link for on
    /// top of what is already dirty).
    pub fn expected_dirty_bytes(&self, dt: crate::time::SimDuration) -> u64 {
        (self.writes_per_sec * dt.as_secs_f64()).ceil() as u64 * MIRROR_CHUNK_BYTES
    }

    /// Work done so far, in [`crate::budget`]'s units.
    pub fn work(&self) -> u64 {
        self.work
    }

    /// Has the mirror been in sync at least once (QEMU's job "ready" event)?
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// Start the mirror's clock at `t` (guest writes before it do not matter).
    pub fn start_at(&mut self, t: SimTime) {
        self.until = t;
    }

    /// Apply the guest's disk writes up to `t` (none while the guest is paused: pass `running = false`).
    pub fn advance_to(&mut self, t: SimTime, running: bool) {
        if t <= self.until {
            return;
        }
        let dt = (t - self.until).as_secs_f64();
        self.until = t;
        if !running || self.writes_per_sec <= 0.0 || self.dirty.is_empty() {
            return;
        }
        let owed = self.carry + self.writes_per_sec * dt;
        let n = owed.floor();
        self.carry = owed - n;
        let chunks = self.dirty.len();
        self.work = self
            .work
            .saturating_add(n as u64 * crate::budget::WRITE_WORK);
        for _ in 0..n as u64 {
            self.dirty.set(self.rng.below(chunks));
        }
    }

    /// Copy dirty chunks, walking on from the cursor, for up to `budget` bytes. Returns bytes sent.
    pub fn send(&mut self, budget: u64) -> u64 {
        let mut sent = 0;
        let chunks = self.dirty.len();
        let mut scanned = 0;
        while sent < budget && self.dirty.count() > 0 && scanned <= chunks {
            if self.cursor >= chunks {
                self.cursor = 0;
            }
            // Skip clean words quickly.
            let w = (self.cursor / 64) as usize;
            let bits =
                self.dirty.words().get(w).copied().unwrap_or(0) & (!0u64 << (self.cursor % 64));
            if bits == 0 {
                let next = (w as u64 + 1) * 64;
                scanned += next - self.cursor;
                self.cursor = next;
                continue;
            }
            let i = w as u64 * 64 + u64::from(bits.trailing_zeros());
            scanned += i - self.cursor + 1;
            self.dirty.clear(i);
            let bytes = if i + 1 == chunks {
                self.total_bytes - i * MIRROR_CHUNK_BYTES
            } else {
                MIRROR_CHUNK_BYTES
            };
            sent += bytes;
            self.cursor = i + 1;
        }
        self.processed += sent;
        self.work = self.work.saturating_add(
            (scanned / 64 + sent.div_ceil(MIRROR_CHUNK_BYTES) + 1) * crate::budget::WORD_WORK,
        );
        if self.dirty.count() == 0 {
            self.ready = true;
        }
        sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;
    use crate::units::GIB;

    #[test]
    fn a_quiet_disk_is_copied_once() {
        let mut d = DiskMirror::new(GIB, 0.0, FastRng::new(1));
        let mut total = 0;
        while !d.is_ready() {
            total += d.send(64 * MIB);
        }
        assert_eq!(total, GIB);
        assert_eq!(d.remaining_bytes(), 0);
    }

    #[test]
    fn writes_behind_the_copy_cost_extra() {
        let mut d = DiskMirror::new(GIB, 1.0, FastRng::new(1));
        let mut t = SimTime::ZERO;
        let mut total = 0;
        while !d.is_ready() {
            t += SimDuration::from_millis(100);
            d.advance_to(t, true);
            total += d.send(10 * MIB);
        }
        assert!(total > GIB, "re-dirtied chunks are copied again: {total}");
    }
}
