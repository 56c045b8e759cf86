//! Where the measured guest's workload writes: its working set, and the churn each burst
//! dirties besides (in the kernel's memory below the set and in the page descriptors at the top
//! of RAM), on the pages a dump of the lab's guest found.

use super::{descriptor_page, memmap_start};
use crate::guest::ram_layout::RamLayout;
use crate::guest::workload::Workload;

/// Where the workload's writes land. Its working set is a stretch of pages from the workload's
/// base; what each burst dirties besides (the churn: the processes it starts, their buffers) is
/// the kernel's memory, not the writer's files. A page trace of the lab's guest shows it split:
/// most just below the files, the rest in the page descriptors at the top of RAM (allocating and
/// freeing pages writes their descriptors). Which side of the set the churn lies on decides
/// whether QEMU's walk sends it again right after the set's freshly written pages.
#[derive(Debug, Clone)]
pub(super) struct ChurnPlacement {
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
    pub(super) fn new(workload: &Workload, top_share: f64, layout: &RamLayout) -> ChurnPlacement {
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
    pub(super) fn on_pages(&mut self, pages: &[u64], layout: &RamLayout) -> bool {
        let n = self.set as usize;
        let Some(skip) = pages.len().checked_sub(n) else {
            return false;
        };
        let (buffer, set) = pages.split_at(skip);
        let Some(&lowest) = set.iter().min() else {
            return false;
        };
        let memmap = memmap_start(layout);
        if memmap.is_some() {
            self.low += self.top;
            self.top = 0;
        }
        let buffer_descriptors: std::collections::BTreeSet<u64> = memmap
            .map(|m| buffer.iter().map(|&p| descriptor_page(m, p)).collect())
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
    pub(super) fn write(&self, p: u64, base: u64, layout: &RamLayout, mut write: impl FnMut(u64)) {
        let page = self.page(p, base, layout);
        write(page);
        let Some(found) = &self.found else { return };
        let Some(memmap) = found.memmap else { return };
        let set = found.set.len() as u64;
        if p < set {
            write(descriptor_page(memmap, page));
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
    pub(super) fn background_page(&self, i: u64, layout: &RamLayout) -> u64 {
        match &self.found {
            Some(found) if !found.churn.is_empty() => {
                found.churn[(i % found.churn.len() as u64) as usize]
            }
            _ => layout.data_page(i),
        }
    }

    /// Place the low churn and the set on the data pages that end at data page `end`.
    pub(super) fn in_data_below(&mut self, end: u64) {
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
    use super::super::pages_of_runs;
    use super::*;
    use crate::rng::FastRng;
    use crate::scenario::WorkloadSpec;

    #[test]
    fn churn_lies_below_the_set_and_in_the_last_data_pages() {
        // 64 MiB, half of it data at the bottom and 4 MiB at the top; 1 MiB set, 40 pages of
        // churn, a quarter of it at the top.
        let layout = RamLayout::simple(16384, 9216, 1024);
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
        let files = pages_of_runs(&[(1, 100), (7, 56), (1, 100), (4, 100)], 8 * 256);
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
        let files = pages_of_runs(&[(1, 100), (7, 56), (1, 100), (4, 100)], 8 * 256);
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
