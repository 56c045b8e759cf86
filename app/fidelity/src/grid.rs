//! The cases `migralab fidelity` compares: guest RAM, what the guest writes, the bandwidth cap,
//! the downtime limit and auto-converge, each real and simulated. A named subset calibrates the
//! few constants the simulator cannot know; the error is reported on the rest.

use super::runs::GuestMemoryMap;
use serde::Serialize;

/// Every case runs with `--timeout` this many seconds (virsh then suspends the guest and the
/// migration completes paused), the way an operator bounds a migration that may never
/// converge: without auto-converge a guest writing faster than the cap never does, in QEMU or in
/// the simulator, and both are then compared on the same bounded run.
pub const TIMEOUT_S: u64 = 20;

/// One migration of the lab in a box's db01 (kvm-host-01 to kvm-host-02, shared storage).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    /// Short name, e.g. `256M-idle-bw20-dt300`.
    pub name: String,
    /// Guest RAM, MiB.
    pub ram_mib: u64,
    /// Working set the guest rewrites, MiB (0: idle).
    pub working_set_mib: u64,
    /// How fast it rewrites it, MiB/s (0: idle).
    pub dirty_rate_mibps: u64,
    /// `--bandwidth`, MiB/s (`None`: unlimited).
    pub bandwidth_mibps: Option<u64>,
    /// `migrate-setmaxdowntime`, ms.
    pub downtime_limit_ms: u64,
    /// `--auto-converge`.
    pub auto_converge: bool,
    /// `--timeout` (suspend), seconds: see [`TIMEOUT_S`].
    pub timeout_s: Option<u64>,
    /// `--postcopy --postcopy-after-precopy`: switch to post-copy once the first pass is done.
    #[serde(skip_serializing_if = "is_false")]
    pub postcopy: bool,
    /// `--copy-storage-all`, with each host's own images directory (the lab's local layout).
    #[serde(skip_serializing_if = "is_false")]
    pub copy_storage: bool,
    /// Used to fit the calibration constants (and so not counted in the error).
    pub calibration: bool,
    /// A case of the held-out set ([`held_out`]): off the grid, predicted from what a user
    /// would set on the shipped `labbox` scenario, without a dump of the guest's memory.
    #[serde(skip_serializing_if = "is_false")]
    pub held_out: bool,
    /// The guest's memory as measured on the lab when it was booted for this case (from a
    /// recording); the simulator's guest then holds that much data, where the dump found it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<GuestMemoryMap>,
}

impl Case {
    fn new(ram: u64, ws: u64, rate: u64, bw: Option<u64>, dt: u64, ac: bool) -> Case {
        let load = if rate == 0 {
            "idle".to_string()
        } else {
            format!("ws{ws}r{rate}")
        };
        let bw_name = bw.map_or("bwmax".to_string(), |b| format!("bw{b}"));
        Case {
            name: format!(
                "{ram}M-{load}-{bw_name}-dt{dt}{}",
                if ac { "-ac" } else { "" }
            ),
            ram_mib: ram,
            working_set_mib: ws,
            dirty_rate_mibps: rate,
            bandwidth_mibps: bw,
            downtime_limit_ms: dt,
            auto_converge: ac,
            timeout_s: Some(TIMEOUT_S),
            postcopy: false,
            copy_storage: false,
            calibration: false,
            held_out: false,
            memory: None,
        }
    }

    /// A held-out case: `new`'s, and post-copy or a disk copy, named with `-pc` / `-disk`.
    fn held(c: Case, postcopy: bool, copy_storage: bool) -> Case {
        let name = format!(
            "{}{}{}",
            c.name,
            if postcopy { "-pc" } else { "" },
            if copy_storage { "-disk" } else { "" }
        );
        Case {
            name,
            postcopy,
            copy_storage,
            held_out: true,
            ..c
        }
    }

    /// The random buffer the lab guest's writer copies from, MiB: a quarter second of its
    /// rate, at most its working set (see the lab's GuestSpec).
    pub fn buffer_mib(&self) -> u64 {
        self.dirty_rate_mibps.min(self.working_set_mib * 4) / 4
    }

    /// The guest kernel's page descriptors, MiB: 64 bytes for every 4 KiB page of RAM.
    pub fn page_descriptors_mib(&self) -> f64 {
        self.ram_mib as f64 / 64.0
    }

    /// The guest this case needs (cases with the same guest share one boot).
    pub fn guest(&self) -> (u64, u64, u64) {
        (self.ram_mib, self.working_set_mib, self.dirty_rate_mibps)
    }
}

/// The calibration subset: idle guests, so only the constants matter (setup, per-page cost,
/// the rate without a cap, device state and resume), at two caps and without one; one writer
/// faster than its cap with auto-converge, for how much CPU the guest's writer needs; and one
/// slow writer at a tight limit, for what its wake-ups dirty besides its working set.
fn calibration_cases() -> Vec<Case> {
    [
        Case::new(256, 0, 0, Some(10), 300, false),
        Case::new(256, 0, 0, Some(40), 300, false),
        Case::new(512, 0, 0, None, 300, false),
        Case::new(256, 32, 48, Some(40), 300, true),
        // A slow writer at a tight limit: whether QEMU can finish depends on the little extra
        // the writer's every wake-up dirties (its process, its buffer), which this case fits.
        Case::new(256, 8, 4, Some(10), 100, false),
    ]
    .into_iter()
    .map(|c| Case {
        calibration: true,
        // They all converge, and the throttled writer must be free to take as long as its
        // throttle makes it: its total time is what the writer's speed is fitted to.
        timeout_s: None,
        ..c
    })
    .collect()
}

/// The whole grid: RAM 256 and 512 MiB; idle and three non-zero rates (one above every cap);
/// caps 10, 20, 40 MiB/s; downtime limits 100 and 300 ms; auto-converge off and on (for the
/// guests that write fast enough for it to act). The calibration cases come first.
pub fn full() -> Vec<Case> {
    let mut cases = calibration_cases();
    let loads = [(0, 0), (16, 4), (32, 16), (32, 48)];
    for ram in [256, 512] {
        for (ws, rate) in loads {
            for bw in [10, 20, 40] {
                for dt in [100, 300] {
                    for ac in [false, true] {
                        // Auto-converge only acts on a guest that writes faster than about
                        // half the copy rate; the idle guest and the 4 MiB/s writer never
                        // trigger it, so their -ac twins would repeat the same migration.
                        if ac && rate < 16 {
                            continue;
                        }
                        let c = Case::new(ram, ws, rate, Some(bw), dt, ac);
                        if !cases.iter().any(|k| k.name == c.name) {
                            cases.push(c);
                        }
                    }
                }
            }
        }
    }
    cases
}

/// The held-out set: cases off the grid on every axis — RAM 128, 384, 768 and 1024 MiB, working
/// sets of 24, 48 and 64 MiB, rates 8, 24 and 32 MiB/s, caps 15 and 30 MiB/s and none, the
/// 200 ms limit, post-copy and `--copy-storage-all` — never used to fit or to choose anything.
/// Each is predicted only from what a user would set on the shipped `labbox` scenario (see
/// [`user_overrides`](super::measure::user_overrides)): no dump of the guest, no calibration
/// file. They run with the grid's `--timeout` (suspend); the post-copy cases switch after the
/// first pass instead.
pub fn held_out() -> Vec<Case> {
    let n = Case::new;
    let h = Case::held;
    vec![
        h(n(128, 0, 0, Some(15), 200, false), false, false),
        h(n(1024, 0, 0, Some(30), 300, false), false, false),
        h(n(768, 0, 0, None, 300, false), false, false),
        h(n(384, 64, 8, Some(30), 200, false), false, false),
        h(n(768, 24, 8, Some(15), 300, false), false, false),
        h(n(384, 48, 24, Some(30), 300, false), false, false),
        h(n(384, 48, 24, Some(15), 300, true), false, false),
        h(n(768, 48, 24, None, 300, false), false, false),
        h(n(512, 24, 24, Some(15), 200, false), true, false),
        h(n(1024, 64, 32, Some(30), 300, false), true, false),
        h(n(256, 0, 0, Some(30), 300, false), false, true),
        h(n(512, 16, 8, Some(20), 300, false), false, true),
    ]
}

/// A small subset for CI: the calibration cases and three validation cases of the full grid on
/// two guests (each guest is a boot): an idle guest at 20 MiB/s, and the slow writer at
/// 40 MiB/s and at 20 MiB/s with the 100 ms limit (six passes). A throttled writer is left to
/// the replay of the published recording: on the lab it runs to the 20 s timeout, which with its
/// own guest's boot was half a minute of CI's ten.
pub fn quick() -> Vec<Case> {
    let mut cases = calibration_cases();
    cases.extend([
        Case::new(256, 0, 0, Some(20), 300, false),
        Case::new(256, 16, 4, Some(40), 300, false),
        Case::new(256, 16, 4, Some(20), 100, false),
    ]);
    cases
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_grid_covers_every_axis_the_issue_names() {
        let g = full();
        let has = |f: &dyn Fn(&Case) -> bool| g.iter().any(f);
        for ram in [256, 512] {
            assert!(has(&|c| c.ram_mib == ram));
        }
        for bw in [10, 20, 40] {
            assert!(has(&|c| c.bandwidth_mibps == Some(bw)));
        }
        for dt in [100, 300] {
            assert!(has(&|c| c.downtime_limit_ms == dt));
        }
        assert!(has(&|c| c.auto_converge) && has(&|c| !c.auto_converge));
        assert!(has(&|c| c.dirty_rate_mibps == 0));
        let rates: std::collections::BTreeSet<u64> = g
            .iter()
            .map(|c| c.dirty_rate_mibps)
            .filter(|r| *r > 0)
            .collect();
        assert!(rates.len() >= 3, "three non-zero rates: {rates:?}");
        assert!(
            has(&|c| c.bandwidth_mibps.is_some_and(|b| c.dirty_rate_mibps > b)),
            "one rate above the cap"
        );
        let names: std::collections::BTreeSet<&str> = g.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names.len(), g.len(), "names are unique");
        assert!(g.iter().filter(|c| c.calibration).count() >= 2);
        assert!(g.iter().filter(|c| !c.calibration).count() > 40);
    }

    #[test]
    fn the_quick_subset_validates_on_cases_it_did_not_calibrate_on() {
        let q = quick();
        assert!(q.iter().any(|c| c.calibration));
        assert!(q.iter().filter(|c| !c.calibration).count() >= 3);
        assert_eq!(q[0].name, "256M-idle-bw10-dt300");
        // Every one a case of the full grid, so the published recording has its real runs.
        let full: Vec<String> = full().into_iter().map(|c| c.name).collect();
        assert!(q.iter().all(|c| full.contains(&c.name)), "{q:?}");
    }

    #[test]
    fn every_held_out_case_is_off_the_grid_and_the_set_covers_what_the_issue_names() {
        let grid = full();
        let held = held_out();
        let on_grid = |f: &dyn Fn(&Case) -> bool| grid.iter().any(f);
        for c in &held {
            assert!(
                c.held_out && !c.calibration && c.memory.is_none(),
                "{}",
                c.name
            );
            // Off the grid on at least one axis the grid varies (or a flag it never uses).
            let same_axes = on_grid(&|g| g.ram_mib == c.ram_mib)
                && on_grid(&|g| g.guest() == c.guest())
                && on_grid(&|g| g.bandwidth_mibps == c.bandwidth_mibps)
                && on_grid(&|g| g.downtime_limit_ms == c.downtime_limit_ms)
                && !c.postcopy
                && !c.copy_storage;
            assert!(!same_axes, "{} is a grid case", c.name);
            assert!(!grid.iter().any(|g| g.name == c.name), "{}", c.name);
        }
        let has = |f: &dyn Fn(&Case) -> bool| held.iter().any(f);
        for ram in [128, 1024] {
            assert!(has(&|c| c.ram_mib == ram), "RAM {ram}");
        }
        assert!(has(&|c| c.postcopy && c.dirty_rate_mibps > 0));
        assert!(has(&|c| c.copy_storage && c.dirty_rate_mibps == 0));
        assert!(has(&|c| c.copy_storage && c.dirty_rate_mibps > 0));
        assert!(has(&|c| c.bandwidth_mibps.is_none()));
        assert!(has(&|c| c.auto_converge));
        assert!(has(&|c| !on_grid(
            &|g| g.working_set_mib == c.working_set_mib
        )));
        assert!(has(&|c| !on_grid(
            &|g| g.dirty_rate_mibps == c.dirty_rate_mibps
        )));
        let names: std::collections::BTreeSet<&str> =
            held.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names.len(), held.len(), "names are unique");
    }
}
