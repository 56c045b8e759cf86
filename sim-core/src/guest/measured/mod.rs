//! The measured guest: what the model does only to reproduce the lab in a box's guest page for
//! page, from the knobs of `[vm.measured]` that the fidelity harness fits and measures. A dump
//! of that guest's RAM maps where its data lies; QEMU's page traces show where its writer's
//! files, the writer's churn and the kernel's own writes land, and which of them QEMU's walk
//! meets first. With `[vm.measured]` at its defaults none of this changes anything: the kernel
//! writes nothing and the workload's page `p` is page `p` of RAM.

mod layout;
mod placement;

pub use layout::{DESCRIBED_PER_PAGE, descriptor_page, memmap_start, pages_of_runs};

use super::ram_layout::{PAGES_PER_MIB, RamLayout};
use super::workload::Workload;
use crate::rng::FastRng;
use crate::scenario::{MeasuredSpec, VmSpec, WorkloadSpec};
use crate::time::SimTime;
use crate::units::{MIB, PAGE_SIZE};
use placement::ChurnPlacement;

/// The kernel's own writes of a measured guest, and where its workload's writes land.
#[derive(Debug, Clone)]
pub struct Measured {
    /// The guest's own small writes besides its workload (see
    /// [`MeasuredSpec::background_dirty_mibps`]).
    background: Workload,
    /// First page of the workload's memory (its churn below the set, then the set): after the
    /// background's pages, which are the kernel's own memory and not the writer's.
    workload_base: u64,
    /// Where the workload's pages lie (its set and its churn).
    churn: ChurnPlacement,
}

impl Measured {
    /// What QEMU's migration walks for `vm`: its RAM as measured (`data_pages_per_mib`) or
    /// described (`written_mib` or `zero_fraction`, `top_used_mib`), then the machine's
    /// firmware.
    pub fn ram_layout(vm: &VmSpec) -> RamLayout {
        let m = &vm.measured;
        let pages = vm.ram_pages();
        let layout = if m.data_pages_per_mib.is_empty() {
            RamLayout::simple(pages, vm.data_pages(), m.top_used_mib * MIB / PAGE_SIZE)
        } else {
            RamLayout::measured(pages, &m.data_pages_per_mib)
        };
        layout.with_firmware(
            (m.firmware_kib * 1024).div_ceil(PAGE_SIZE),
            (m.firmware_data_kib * 1024).div_ceil(PAGE_SIZE),
        )
    }

    /// `vm`'s workload over `ram_pages` pages, as the measured guest runs it: needing
    /// `vcpu_busy_share` of its vCPU, waking every `workload_burst_ms` with its churn, and
    /// somewhere in its cycle when the migration starts.
    pub fn writer(vm: &VmSpec, ram_pages: u64, rng: FastRng) -> Workload {
        let m = &vm.measured;
        Workload::new(&vm.workload, ram_pages, m.vcpu_busy_share, rng)
            .with_bursts(m.workload_burst_ms, m.workload_churn_kib)
            .mid_cycle()
    }

    /// The kernel's writes and the placement of `workload`'s pages in `layout`, as `spec` says;
    /// `kernel_seed` seeds the kernel's writes.
    pub fn new(
        spec: &MeasuredSpec,
        workload: &Workload,
        layout: &RamLayout,
        kernel_seed: u64,
    ) -> Measured {
        let pages = layout.ram_pages();
        // The background writes land on the first `background_set_kib` of the memory the guest
        // has used (all of it when 0) — or, in a guest whose writer's files were found, on the
        // churn's pages (`ChurnPlacement::background_page`); their own random stream (taken
        // without disturbing the workload's) keeps them off its pattern. The set is given in
        // whole MiB and held to those pages by the RAM the workload is told about.
        let background_pages = match spec.background_set_kib {
            0 => layout.data_pages().max(1),
            kib => (kib * 1024)
                .div_ceil(PAGE_SIZE)
                .clamp(1, layout.data_pages().max(1)),
        };
        let background = Workload::new(
            &WorkloadSpec::HotSet {
                set_mib: (background_pages * PAGE_SIZE).div_ceil(MIB),
                rate_mibps: spec.background_dirty_mibps,
            },
            background_pages,
            1.0,
            FastRng::new(kernel_seed ^ 0x6261_636b_6772_6e64),
        );
        // The working set is the writer's own memory, not the kernel's: it starts above the
        // background's pages (QEMU's page trace of the lab's guest shows the two apart), else the
        // background would rewrite pages the writer keeps dirty anyway and add nothing. (A
        // measured layout says where the files are: see below.)
        let workload_base = if spec.background_dirty_mibps > 0.0 {
            background_pages.min(pages.saturating_sub(workload.span_pages()))
        } else {
            0
        };
        let mut churn = ChurnPlacement::new(workload, spec.workload_churn_top_share, layout);
        // A guest whose memory was dumped holds its writer's files in that data — not in the
        // kernel's first MiBs, where the set would turn empty pages into data the first pass
        // sends and share pages with the background's. When the dump found the files
        // (`MeasuredSpec::workload_files`), the set is those pages in the order the kernel gave
        // them: the holes its boot freed, among its data and at the top of RAM, then fresh
        // memory above the data. Otherwise it is the last data below the top block (the page
        // descriptors), where a tmpfs that has filled those holes goes on allocating, with the
        // low churn just below it.
        if !spec.data_pages_per_mib.is_empty() {
            let writer = pages_of_runs(&spec.workload_files, pages);
            if !churn.on_pages(&writer, layout) {
                let top = pages.saturating_sub(spec.top_used_mib * PAGES_PER_MIB);
                churn.in_data_below(layout.data_pages_below(top));
            }
        }
        Measured {
            background,
            workload_base,
            churn,
        }
    }

    /// Make the writes of the workload's page `p` in `layout`: the page it lands on, and the
    /// page descriptors that go with it when they are modelled.
    #[inline]
    pub fn write(&self, p: u64, layout: &RamLayout, write: impl FnMut(u64)) {
        self.churn.write(p, self.workload_base, layout, write);
    }

    /// Let the kernel's own writes run to `t`, handing `write` each page.
    pub fn run_kernel(&mut self, t: SimTime, layout: &RamLayout, mut write: impl FnMut(u64)) {
        let churn = &self.churn;
        self.background
            .advance_to(t, 0, |i| write(churn.background_page(i, layout)));
    }

    /// The guest is paused: the kernel's writes skip to `t`.
    pub fn skip_to(&mut self, t: SimTime) {
        self.background.skip_to(t);
    }
}
