//! Guest RAM as the migration thread sees it: QEMU's migration bitmap (pages still to send), the
//! guest's dirty log (pages written since the last sync, which KVM keeps), and which pages are
//! all zeros (sent as a header and one byte, QEMU's `duplicate` pages).

use super::ram_layout::RamLayout;
use crate::bitmap::Bitmap;
use crate::units::{NORMAL_PAGE_WIRE_BYTES, PAGE_SIZE, ZERO_PAGE_WIRE_BYTES};

/// What one call to [`GuestMemory::send`] put on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    /// Bytes on the wire, headers included.
    pub bytes: u64,
    /// Zero pages sent.
    pub zero_pages: u64,
    /// Normal pages sent.
    pub normal_pages: u64,
}

impl Sent {
    fn add(&mut self, other: Sent) {
        self.bytes += other.bytes;
        self.zero_pages += other.zero_pages;
        self.normal_pages += other.normal_pages;
    }
}

/// Guest RAM, page by page.
#[derive(Debug, Clone)]
pub struct GuestMemory {
    pages: u64,
    /// QEMU's migration bitmap: set = must still be sent. All set at setup ("first pass sends all RAM").
    to_send: Bitmap,
    /// The dirty log: pages the guest wrote since the last sync.
    dirty_log: Bitmap,
    /// Pages whose content is all zeros.
    zero: Bitmap,
    /// Where the sender resumes its walk (it wraps around, as `ram_find_and_save_block` does).
    cursor: u64,
    /// Is the dirty log on (between migration setup and the end)?
    logging: bool,
    /// What the simulator has done for this memory so far, in [`crate::budget`]'s units (a page
    /// written, a bitmap word visited). A cell: the sender's estimates read `&self`.
    work: std::cell::Cell<u64>,
}

use crate::budget::{WORD_WORK, WRITE_WORK};

impl GuestMemory {
    /// RAM of `bytes` bytes of which `zero_fraction` was never written (all zeros): the pages
    /// just below the top `top_used_pages` (which were written).
    pub fn new(bytes: u64, zero_fraction: f64, top_used_pages: u64) -> Self {
        let pages = bytes.div_ceil(PAGE_SIZE).max(1);
        let zero = ((pages as f64 * zero_fraction.clamp(0.0, 1.0)).round() as u64).min(pages);
        GuestMemory::from_layout(&RamLayout::simple(pages, pages - zero, top_used_pages))
    }

    /// Memory laid out as `layout` says (guest RAM, then firmware).
    pub fn from_layout(layout: &RamLayout) -> Self {
        let pages = layout.total_pages().max(1);
        GuestMemory {
            pages,
            to_send: Bitmap::zeros(pages),
            dirty_log: Bitmap::zeros(pages),
            zero: layout.zero_bitmap(),
            cursor: 0,
            logging: false,
            work: std::cell::Cell::new(3 * pages.div_ceil(64) * WORD_WORK),
        }
    }

    /// Work done so far, in [`crate::budget`]'s units.
    pub fn work(&self) -> u64 {
        self.work.get()
    }

    fn add_work(&self, units: u64) {
        self.work.set(self.work.get().saturating_add(units));
    }

    /// Number of pages.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Migration setup: every page is to be sent, and dirty logging starts.
    pub fn start_migration(&mut self) {
        self.to_send = Bitmap::ones(self.pages);
        self.dirty_log = Bitmap::zeros(self.pages);
        self.cursor = 0;
        self.logging = true;
    }

    /// The migration ended (either way): dirty logging stops.
    pub fn stop_logging(&mut self) {
        self.logging = false;
    }

    /// The guest writes (non-zero data) to `page`.
    #[inline]
    pub fn write(&mut self, page: u64) {
        self.add_work(WRITE_WORK);
        self.zero.clear(page);
        if self.logging {
            self.dirty_log.set(page);
        }
    }

    /// Pages still to send (QEMU's `migration_dirty_pages`).
    #[inline]
    pub fn pending_pages(&self) -> u64 {
        self.to_send.count()
    }

    /// QEMU's cheap pending estimate: pages still to send × page size.
    #[inline]
    pub fn pending_bytes(&self) -> u64 {
        self.to_send.count() * PAGE_SIZE
    }

    /// Pages in the dirty log, not yet synced.
    pub fn logged_pages(&self) -> u64 {
        self.dirty_log.count()
    }

    /// Is `page` still to be sent? (In post-copy: not yet on the destination.)
    #[inline]
    pub fn is_pending(&self, page: u64) -> bool {
        self.to_send.get(page)
    }

    /// Number of zero pages in RAM right now.
    pub fn zero_pages(&self) -> u64 {
        self.zero.count()
    }

    /// Dirty-bitmap sync: pull the dirty log into the migration bitmap. Returns the pages that
    /// became dirty in it — logged pages that were still waiting to be sent do not count, as in
    /// QEMU's `cpu_physical_memory_sync_dirty_bitmap` (the number it adds to
    /// `migration_dirty_pages` and `num_dirty_pages_period`, which auto-converge compares with
    /// what was sent).
    pub fn sync(&mut self) -> u64 {
        self.add_work(self.to_send.words().len() as u64 * WORD_WORK);
        self.to_send.absorb(&mut self.dirty_log)
    }

    /// Bytes on the wire needed to send every pending page now.
    pub fn pending_wire_bytes(&self) -> u64 {
        self.add_work(self.to_send.words().len() as u64 * WORD_WORK);
        let mut zero = 0u64;
        for (t, z) in self.to_send.words().iter().zip(self.zero.words()) {
            zero += u64::from((t & z).count_ones());
        }
        zero * ZERO_PAGE_WIRE_BYTES + (self.to_send.count() - zero) * NORMAL_PAGE_WIRE_BYTES
    }

    /// Send pending pages, walking on from the cursor, until `budget` wire bytes are used (the
    /// last page may overshoot it, as QEMU checks the rate limit after each page) or nothing is
    /// pending.
    pub fn send(&mut self, budget: u64) -> Sent {
        let mut sent = Sent::default();
        if budget == 0 || self.to_send.count() == 0 {
            return sent;
        }
        let nwords = self.to_send.words().len();
        let mut w = (self.cursor / 64) as usize;
        let mut first_mask = !0u64 << (self.cursor % 64);
        let mut visited = 0usize;
        // One full lap plus the partial first word covers every page.
        while visited <= nwords && sent.bytes < budget && self.to_send.count() > 0 {
            if w >= nwords {
                w = 0;
            }
            let bits = self.to_send.words()[w] & first_mask;
            first_mask = !0;
            if bits != 0 {
                let zmask = self.zero.words()[w];
                let zn = u64::from((bits & zmask).count_ones());
                let nn = u64::from((bits & !zmask).count_ones());
                let cost = zn * ZERO_PAGE_WIRE_BYTES + nn * NORMAL_PAGE_WIRE_BYTES;
                if sent.bytes + cost <= budget {
                    self.to_send.clear_word_bits(w, bits);
                    sent.add(Sent {
                        bytes: cost,
                        zero_pages: zn,
                        normal_pages: nn,
                    });
                    self.cursor = (w as u64 + 1) * 64;
                } else {
                    // Page by page within the word until the budget is used.
                    let mut rest = bits;
                    while rest != 0 && sent.bytes < budget {
                        let b = rest.trailing_zeros();
                        let m = 1u64 << b;
                        rest &= !m;
                        self.to_send.clear_word_bits(w, m);
                        if zmask & m != 0 {
                            sent.add(Sent {
                                bytes: ZERO_PAGE_WIRE_BYTES,
                                zero_pages: 1,
                                normal_pages: 0,
                            });
                        } else {
                            sent.add(Sent {
                                bytes: NORMAL_PAGE_WIRE_BYTES,
                                zero_pages: 0,
                                normal_pages: 1,
                            });
                        }
                        self.cursor = w as u64 * 64 + u64::from(b) + 1;
                    }
                    if rest != 0 {
                        break;
                    }
                }
            }
            w += 1;
            visited += 1;
        }
        if self.cursor >= self.pages {
            self.cursor = 0;
        }
        self.add_work((visited as u64 + 1) * WORD_WORK);
        sent
    }

    /// Send one page out of order (a post-copy page fault); returns its wire bytes, 0 if it was not pending.
    pub fn send_page(&mut self, page: u64) -> Sent {
        if !self.to_send.clear(page) {
            return Sent::default();
        }
        if self.zero.get(page) {
            Sent {
                bytes: ZERO_PAGE_WIRE_BYTES,
                zero_pages: 1,
                normal_pages: 0,
            }
        } else {
            Sent {
                bytes: NORMAL_PAGE_WIRE_BYTES,
                zero_pages: 0,
                normal_pages: 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::MIB;

    #[test]
    fn first_pass_costs_ram_minus_zero_page_savings() {
        let mut m = GuestMemory::new(64 * MIB, 0.25, 0);
        m.start_migration();
        let pages = m.pages();
        let zero = m.zero_pages();
        assert_eq!(zero, pages / 4);
        let expected = zero * ZERO_PAGE_WIRE_BYTES + (pages - zero) * NORMAL_PAGE_WIRE_BYTES;
        assert_eq!(m.pending_wire_bytes(), expected);
        let sent = m.send(u64::MAX);
        assert_eq!(sent.bytes, expected);
        assert_eq!(sent.zero_pages, zero);
        assert_eq!(m.pending_pages(), 0);
    }

    #[test]
    fn a_measured_layout_sends_its_data_pages_where_they_lie() {
        // MiB 0 half full, MiB 1 empty, MiB 2 full: a budget of 128 data pages and the 128 zero
        // pages after them ends the pass's walk at the start of MiB 2.
        let layout = RamLayout::measured(3 * MIB / PAGE_SIZE, &[128, 0, 256]);
        let mut m = GuestMemory::from_layout(&layout);
        m.start_migration();
        let zeros = 128 + 256;
        let sent = m.send(128 * NORMAL_PAGE_WIRE_BYTES + zeros * ZERO_PAGE_WIRE_BYTES);
        assert_eq!((sent.normal_pages, sent.zero_pages), (128, zeros));
        assert_eq!(m.pending_pages(), 256);
    }

    #[test]
    fn send_respects_budget_and_resumes_where_it_stopped() {
        let mut m = GuestMemory::new(MIB, 0.0, 0);
        m.start_migration();
        let a = m.send(10 * NORMAL_PAGE_WIRE_BYTES);
        assert_eq!(a.normal_pages, 10);
        let b = m.send(u64::MAX);
        assert_eq!(a.normal_pages + b.normal_pages, m.pages());
    }

    #[test]
    fn writes_reach_the_bitmap_only_at_sync_and_unzero_pages() {
        let mut m = GuestMemory::new(MIB, 1.0, 0);
        m.start_migration();
        m.send(u64::MAX);
        m.write(3);
        m.write(3);
        m.write(5);
        assert_eq!(m.pending_pages(), 0);
        assert_eq!(m.sync(), 2);
        assert_eq!(m.pending_pages(), 2);
        assert_eq!(m.pending_wire_bytes(), 2 * NORMAL_PAGE_WIRE_BYTES);
        assert_eq!(m.zero_pages(), m.pages() - 2);
    }

    #[test]
    fn a_sync_counts_only_pages_that_were_not_already_waiting() {
        let mut m = GuestMemory::new(MIB, 0.0, 0);
        m.start_migration();
        // Page 0 goes, pages 1.. still wait; the guest writes 0 (sent) and 7 (waiting).
        m.send(NORMAL_PAGE_WIRE_BYTES);
        m.write(0);
        m.write(7);
        assert_eq!(m.sync(), 1, "page 7 was already to be sent");
        assert_eq!(m.pending_pages(), m.pages());
    }
}
