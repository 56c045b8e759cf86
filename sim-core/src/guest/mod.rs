//! The guest as a migration sees it: its RAM (which pages hold data, what the dirty log has
//! caught) and what writes to it — its workload and, in a measured guest, the kernel's own writes
//! and where each of them lands. QEMU's migration state machine (`crate::migration`) owns a
//! [`GuestMemory`] and lets the [`Guest`] write into it as simulated time passes.

pub mod measured;
pub mod memory;
pub mod ram_layout;
pub mod workload;

pub use measured::Measured;
pub use memory::{GuestMemory, Sent};
pub use ram_layout::RamLayout;
pub use workload::Workload;

use crate::rng::FastRng;
use crate::scenario::VmSpec;
use crate::time::SimTime;

/// A running guest's memory writers: its workload, and what the measured guest adds.
#[derive(Debug, Clone)]
pub struct Guest {
    /// Where its data lies in RAM (and the firmware after it).
    layout: RamLayout,
    /// The program that writes its memory (`[vm.workload]`).
    workload: Workload,
    /// The kernel's writes and where every write lands.
    measured: Measured,
}

impl Guest {
    /// `vm` as it runs when a migration starts; `rng` is its workload's stream from the run's
    /// seed tree.
    pub fn new(vm: &VmSpec, rng: FastRng) -> Guest {
        let layout = Measured::ram_layout(vm);
        // Taken without disturbing the workload's stream, so the kernel's writes keep off its
        // pattern.
        let kernel_seed = rng.clone().next_u64();
        let workload = Measured::writer(vm, layout.ram_pages(), rng);
        let measured = Measured::new(&vm.measured, &workload, &layout, kernel_seed);
        Guest {
            layout,
            workload,
            measured,
        }
    }

    /// Where its data lies in RAM.
    pub fn layout(&self) -> &RamLayout {
        &self.layout
    }

    /// Let the guest run to `t` with its vCPUs throttled by `throttle_pct`, handing `write` each
    /// page it writes: its workload's first, then the kernel's (which the throttle does not hold
    /// back: timers and received packets).
    pub fn run(&mut self, t: SimTime, throttle_pct: u8, mut write: impl FnMut(u64)) {
        let layout = &self.layout;
        let measured = &self.measured;
        self.workload.advance_to(t, throttle_pct, |p| {
            measured.write(p, layout, &mut write);
        });
        self.measured.run_kernel(t, layout, write);
    }

    /// The guest is paused (or its writes do not matter): its writers skip to `t`.
    pub fn skip_to(&mut self, t: SimTime) {
        self.workload.skip_to(t);
        self.measured.skip_to(t);
    }
}
