//! Where a guest's data lies in its RAM, and the firmware QEMU migrates after it.
//!
//! QEMU's first pass walks every page in address order, a data page costing a header and the
//! page, a zero page a header and one byte. So *where* the data lies decides how far the pass has
//! got after each 100 ms slot, and what is still pending when the estimate first falls under the
//! threshold: page traces of the lab's guest (`trace:ram_save_page`) show the pass crossing
//! hundreds of MiB of empty memory in one slot and then walking a few MiB of data at the top of
//! RAM, which decides whether one more sync is needed.
//!
//! After guest RAM come the machine's ROM blocks (`info ramblock`: `pc.bios`, `pc.rom`, a NIC's
//! option ROM), migrated like RAM.

use crate::bitmap::Bitmap;
use crate::units::{MIB, PAGE_SIZE};

/// Pages in one MiB.
pub const PAGES_PER_MIB: u64 = MIB / PAGE_SIZE;

/// The contents of a guest's RAM, page by page: which pages hold data and which are zeros.
#[derive(Debug, Clone)]
pub struct RamLayout {
    ram_pages: u64,
    /// Runs of pages with data, `(first page, length)`, in address order.
    data_runs: Vec<(u64, u64)>,
    /// Pages with data before each run (for [`RamLayout::data_page`]).
    before: Vec<u64>,
    firmware_pages: u64,
    firmware_data_pages: u64,
}

impl RamLayout {
    /// RAM of `ram_pages` pages, of which `data_pages` hold data: the top `top_pages` and the
    /// bottom ones; the pages between were never touched.
    pub fn simple(ram_pages: u64, data_pages: u64, top_pages: u64) -> RamLayout {
        let ram_pages = ram_pages.max(1);
        let top = top_pages.min(ram_pages);
        let zero = ram_pages.saturating_sub(data_pages).min(ram_pages - top);
        let low = ram_pages - top - zero;
        RamLayout::from_runs(ram_pages, vec![(0, low), (ram_pages - top, top)])
    }

    /// RAM as measured from a dump: `data_per_mib[i]` pages of MiB `i` hold data (placed at the
    /// start of that MiB; within a MiB the order barely matters), the rest are zeros, as are
    /// MiBs past the end of the list.
    pub fn measured(ram_pages: u64, data_per_mib: &[u16]) -> RamLayout {
        let ram_pages = ram_pages.max(1);
        let data = data_per_mib
            .iter()
            .enumerate()
            .map(|(mib, &n)| (mib as u64 * PAGES_PER_MIB, u64::from(n)))
            .filter(|&(start, _)| start < ram_pages)
            .map(|(start, n)| (start, n.min(PAGES_PER_MIB).min(ram_pages - start)))
            .collect();
        RamLayout::from_runs(ram_pages, data)
    }

    fn from_runs(ram_pages: u64, data: Vec<(u64, u64)>) -> RamLayout {
        let data_runs: Vec<(u64, u64)> = data.into_iter().filter(|r| r.1 > 0).collect();
        let mut before = Vec::with_capacity(data_runs.len());
        let mut n = 0;
        for &(_, len) in &data_runs {
            before.push(n);
            n += len;
        }
        RamLayout {
            ram_pages,
            data_runs,
            before,
            firmware_pages: 0,
            firmware_data_pages: 0,
        }
    }

    /// With the machine's ROM blocks after RAM: `pages` in all, the first `data_pages` of them
    /// with data.
    pub fn with_firmware(mut self, pages: u64, data_pages: u64) -> RamLayout {
        self.firmware_pages = pages;
        self.firmware_data_pages = data_pages.min(pages);
        self
    }

    /// Guest RAM, pages.
    pub fn ram_pages(&self) -> u64 {
        self.ram_pages
    }

    /// Everything QEMU migrates as RAM (guest RAM and firmware), pages.
    pub fn total_pages(&self) -> u64 {
        self.ram_pages + self.firmware_pages
    }

    /// Pages with data at addresses below `page`.
    pub fn data_pages_below(&self, page: u64) -> u64 {
        let k = self.data_runs.partition_point(|&(start, _)| start < page);
        if k == 0 {
            return 0;
        }
        let (start, len) = self.data_runs[k - 1];
        self.before[k - 1] + len.min(page - start)
    }

    /// Pages of guest RAM that hold data.
    pub fn data_pages(&self) -> u64 {
        self.before
            .last()
            .zip(self.data_runs.last())
            .map_or(0, |(b, r)| b + r.1)
    }

    /// The `i`-th page of guest RAM with data, in address order (the last one for `i` past the
    /// end; page 0 if there is none).
    pub fn data_page(&self, i: u64) -> u64 {
        let Some(&(last_start, last_len)) = self.data_runs.last() else {
            return 0;
        };
        let k = self.before.partition_point(|&b| b <= i).saturating_sub(1);
        let (start, len) = self.data_runs[k];
        let off = i - self.before[k];
        if off < len {
            start + off
        } else {
            last_start + last_len - 1
        }
    }

    /// Zero pages (all of them: touched or not), over all migrated pages.
    pub fn zero_bitmap(&self) -> Bitmap {
        let mut zero = Bitmap::zeros(self.total_pages());
        zero.set_range(0, self.ram_pages);
        let mut data = Bitmap::zeros(self.total_pages());
        for &(start, len) in &self.data_runs {
            data.set_range(start, start + len);
        }
        // Clear the data pages, a word at a time.
        for (w, &m) in data.words().iter().enumerate() {
            if m != 0 {
                zero.clear_word_bits(w, m);
            }
        }
        let fw_zero = self.ram_pages + self.firmware_data_pages;
        zero.set_range(fw_zero, self.total_pages());
        zero
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_layout_has_data_at_the_bottom_and_the_top() {
        let l = RamLayout::simple(1000, 500, 100);
        assert_eq!(l.data_pages(), 500);
        assert_eq!(l.data_page(0), 0);
        assert_eq!(l.data_page(399), 399);
        assert_eq!(l.data_page(400), 900);
        assert_eq!(l.data_page(499), 999);
        let zero = l.zero_bitmap();
        assert_eq!(zero.count(), 500);
        assert!(zero.get(400) && zero.get(899) && !zero.get(900));
    }

    #[test]
    fn data_pages_below_counts_the_data_under_an_address() {
        // MiB 0 half full, MiB 1 empty, MiB 2 full.
        let l = RamLayout::measured(3 * PAGES_PER_MIB, &[128, 0, 256]);
        assert_eq!(l.data_pages_below(0), 0);
        assert_eq!(l.data_pages_below(100), 100);
        assert_eq!(l.data_pages_below(PAGES_PER_MIB), 128);
        assert_eq!(l.data_pages_below(2 * PAGES_PER_MIB), 128);
        assert_eq!(l.data_pages_below(2 * PAGES_PER_MIB + 10), 138);
        assert_eq!(l.data_pages_below(u64::MAX), l.data_pages());
    }

    #[test]
    fn measured_layout_follows_the_map_and_puts_firmware_after_ram() {
        // MiB 0 half full, MiB 1 empty, MiB 2 full.
        let l = RamLayout::measured(3 * PAGES_PER_MIB, &[128, 0, 256]).with_firmware(10, 4);
        assert_eq!(l.total_pages(), 3 * PAGES_PER_MIB + 10);
        assert_eq!(l.data_pages(), 384);
        assert_eq!(l.data_page(127), 127);
        assert_eq!(l.data_page(128), 2 * PAGES_PER_MIB);
        let zero = l.zero_bitmap();
        // 128 zeros in MiB 0, all of MiB 1, 6 zero firmware pages.
        assert_eq!(zero.count(), 128 + 256 + 6);
        assert!(zero.get(128) && !zero.get(127) && zero.get(PAGES_PER_MIB));
        // Firmware: data first, then zeros.
        let fw = 3 * PAGES_PER_MIB;
        assert!(!zero.get(fw + 3) && zero.get(fw + 4));
    }
}
