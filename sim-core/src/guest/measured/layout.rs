//! What a dump of the measured guest shows besides which pages hold data: where the kernel's
//! page descriptors are, and which pages its writer's files took.

use crate::guest::ram_layout::{PAGES_PER_MIB, RamLayout};
use crate::units::PAGE_SIZE;

/// Pages of RAM one page of the kernel's page descriptors describes (a 64-byte `struct page`
/// each).
pub const DESCRIBED_PER_PAGE: u64 = PAGE_SIZE / 64;

/// The pages `(MiB, pages)` runs name in a measured layout, in the runs' order: each run
/// takes the next `pages` pages of its MiB (from the MiB's start, where
/// [`RamLayout::measured`] puts that MiB's data), after those earlier runs took.
pub fn pages_of_runs(runs: &[(u64, u16)], ram_pages: u64) -> Vec<u64> {
    let mut taken = std::collections::BTreeMap::<u64, u64>::new();
    let mut pages = Vec::new();
    for &(mib, n) in runs {
        let used = taken.entry(mib).or_default();
        // Saturating: the runs may come from a recording, and a MiB past RAM names nothing.
        let start = mib.saturating_mul(PAGES_PER_MIB).saturating_add(*used);
        let end = start
            .saturating_add(u64::from(n))
            .min(mib.saturating_add(1).saturating_mul(PAGES_PER_MIB))
            .min(ram_pages);
        *used = used.saturating_add(u64::from(n));
        pages.extend(start.min(end)..end);
    }
    pages
}

/// The first page of the kernel's page descriptors (`struct page`, 64 bytes for each 4 KiB
/// page: one page of them describes 64 pages of RAM), in a measured layout: the top
/// `ram/64` MiB of the highest run of full MiBs. Dumps of the lab's guests show them as the
/// 4 full MiB below the top two of 256 MiB (8 below the top two of 512), and QEMU's page
/// trace of a busy guest finds in them exactly the descriptors of the pages its writer
/// touched (MiB 250 + page/64 for a 256 MiB guest). None when no run is long enough.
pub fn memmap_start(layout: &RamLayout) -> Option<u64> {
    let ram_pages = layout.ram_pages();
    let mibs = ram_pages / PAGES_PER_MIB;
    let need = ram_pages
        .div_ceil(DESCRIBED_PER_PAGE * PAGES_PER_MIB)
        .max(1);
    let full = |mib: u64| {
        let start = mib * PAGES_PER_MIB;
        layout.data_pages_below(start + PAGES_PER_MIB) - layout.data_pages_below(start)
            == PAGES_PER_MIB
    };
    let mut run = 0;
    for mib in (0..mibs).rev() {
        if full(mib) {
            run += 1;
        } else if run >= need {
            // The run is MiBs mib+1 ..= mib+run; the descriptors are its top `need`.
            return Some((mib + 1 + run - need) * PAGES_PER_MIB);
        } else {
            run = 0;
        }
    }
    (run >= need).then(|| (run - need) * PAGES_PER_MIB)
}

/// The page holding the descriptor of `page`, with the descriptors from `memmap`.
#[inline]
pub fn descriptor_page(memmap: u64, page: u64) -> u64 {
    memmap + page / DESCRIBED_PER_PAGE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_take_the_next_pages_of_their_mib_in_order() {
        let pages = pages_of_runs(&[(2, 3), (0, 2), (2, 2), (3, 300)], 3 * 256 + 10);
        // MiB 2's second run goes on after its first; a run never leaves its MiB nor RAM.
        let want: Vec<u64> = [512, 513, 514, 0, 1, 515, 516]
            .into_iter()
            .chain(768..778)
            .collect();
        assert_eq!(pages, want);
        assert!(pages_of_runs(&[], 1024).is_empty());
        assert!(pages_of_runs(&[(u64::MAX / 2, 256), (u64::MAX, 9)], 1024).is_empty());
    }

    #[test]
    fn the_descriptors_are_the_top_of_the_highest_long_enough_run_of_full_mibs() {
        // 256 MiB as the lab's dumps show it: full MiBs low down, MiB 248 partly used, 249 full
        // in some boots, 250-253 full (the descriptors: 4 MiB for 256), 254-255 partly used.
        let mut map = vec![0u16; 256];
        map[..8].fill(256);
        map[248] = 225;
        map[250..254].fill(256);
        map[254] = 200;
        map[255] = 253;
        let l = RamLayout::measured(256 * PAGES_PER_MIB, &map);
        assert_eq!(memmap_start(&l), Some(250 * PAGES_PER_MIB));
        map[249] = 256;
        let l = RamLayout::measured(256 * PAGES_PER_MIB, &map);
        assert_eq!(memmap_start(&l), Some(250 * PAGES_PER_MIB));
        // Too short a run at the top: the full MiBs at the bottom are taken instead.
        map[251] = 255;
        let l = RamLayout::measured(256 * PAGES_PER_MIB, &map);
        assert_eq!(memmap_start(&l), Some(4 * PAGES_PER_MIB));
        // No run long enough anywhere.
        let l = RamLayout::measured(256 * PAGES_PER_MIB, &[256, 256, 0, 256]);
        assert_eq!(memmap_start(&l), None);
        // Page 64 * k is described in the k-th page of them.
        assert_eq!(descriptor_page(1000, 0), 1000);
        assert_eq!(descriptor_page(1000, 63), 1000);
        assert_eq!(descriptor_page(1000, 88 * PAGES_PER_MIB), 1000 + 88 * 4);
    }
}
