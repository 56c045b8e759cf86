//! How fast a running guest writes its memory, measured before a migration with what libvirt
//! offers: `virsh domdirtyrate-calc VM SECONDS` then `virsh domstats --dirtyrate VM`
//! (`virDomainStartDirtyRateCalc`, `VIR_DOMAIN_STATS_DIRTYRATE`).
//!
//! QEMU's page sampling (`calc-dirty-rate`, `migration/dirtyrate.c`) hashes a sample of the
//! guest's pages, hashes them again after the window, and reports the share that changed as
//! MiB/s of the whole RAM. A page rewritten twice in the window counts once, so what it really
//! measures is the memory dirtied *during the window*, divided by the window. That is what a
//! pre-copy pass sees too. Two windows tell a rate from a working set: a guest that rewrites
//! `S` MiB at `R` MiB/s dirties `min(R·t, S)` in `t` seconds, so when the 3 s window dirtied
//! about what the 1 s window did, the set is full ([`estimate`]).

use super::{call, ffi, host::RealHost, lab_error};
use migralab_sim_core::LabError;
use std::time::{Duration, Instant};

/// The windows measured, in seconds (libvirt's least is 1).
pub const WINDOWS_S: [u32; 2] = [1, 3];

/// One window's measurement.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Window {
    /// The window, s.
    pub seconds: u32,
    /// What QEMU reported, MiB/s.
    pub mib_per_s: f64,
}

/// What the windows say about the guest's writing.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Estimate {
    /// The rate it writes at, MiB/s: the shortest window's (a lower bound when the set
    /// filled within it).
    pub rate_mibps: f64,
    /// The memory it keeps rewriting, MiB: measured when the longer window dirtied no more than
    /// `SATURATED` × the shorter one, else at least what the longer window dirtied.
    pub set_mib: f64,
    /// Whether the set was seen full (`set_mib` measured, not a lower bound).
    pub set_measured: bool,
}

/// The longer window dirtied at most this many times what the shorter one did: the writes went
/// over the same pages again, the set is full. (A steady writer over fresh memory would reach
/// 3×; sampling noise of a few pages keeps a full set well under 2×.)
pub const SATURATED: f64 = 1.5;

/// The guest's writing from the windows' measurements (pure: the arithmetic above).
pub fn estimate(windows: &[Window]) -> Option<Estimate> {
    let first = windows.first()?;
    let last = windows.last()?;
    let dirtied = |w: &Window| w.mib_per_s * f64::from(w.seconds);
    let (d1, d2) = (dirtied(first), dirtied(last));
    if d1 <= 0.0 && d2 <= 0.0 {
        return Some(Estimate {
            rate_mibps: 0.0,
            set_mib: 0.0,
            set_measured: true,
        });
    }
    let full = last.seconds > first.seconds && d2 <= SATURATED * d1;
    Some(if full {
        Estimate {
            rate_mibps: first.mib_per_s,
            set_mib: d2.max(d1),
            set_measured: true,
        }
    } else {
        // The shortest window is the least filled: its rate is the writer's.
        Estimate {
            rate_mibps: first.mib_per_s,
            set_mib: d2,
            set_measured: false,
        }
    })
}

/// Measure `vm` on `host` over each of [`WINDOWS_S`] in turn (about 4.5 s in all).
pub fn measure(host: &RealHost, vm: &str) -> Result<Vec<Window>, LabError> {
    let dom = host.domain(vm)?;
    let mut out = Vec::new();
    for seconds in WINDOWS_S {
        let d = dom.clone();
        host.ask("start the dirty-rate calculation", call::QUICK, move |_| {
            ffi::start_dirty_rate_calc(&d, seconds as i32).map_err(|e| lab_error(&e))
        })?;
        let deadline = Instant::now() + Duration::from_secs(u64::from(seconds) + 10);
        std::thread::sleep(Duration::from_secs(u64::from(seconds)));
        let rate = loop {
            let d = dom.clone();
            let (status, rate) = host.ask("read the dirty rate", call::QUICK, move |_| {
                ffi::dirty_rate(&d).map_err(|e| lab_error(&e))
            })?;
            // 2 = VIR_DOMAIN_DIRTYRATE_MEASURED.
            if status == virt::sys::VIR_DOMAIN_DIRTYRATE_MEASURED as i32
                && let Some(r) = rate
            {
                break r;
            }
            if Instant::now() > deadline {
                return Err(LabError::OperationFailed(format!(
                    "the dirty rate of {vm} was not measured within {} s (status {status})",
                    seconds + 10
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        out.push(Window {
            seconds,
            mib_per_s: rate.max(0) as f64,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn w(seconds: u32, mib_per_s: f64) -> Window {
        Window { seconds, mib_per_s }
    }

    #[test]
    fn a_full_set_is_told_from_a_steady_writer() {
        // 32 MiB rewritten at 48 MiB/s: full within a second, 32 MiB in both windows.
        let e = estimate(&[w(1, 32.0), w(3, 11.0)]).unwrap();
        assert!(e.set_measured);
        assert!((e.set_mib - 33.0).abs() < 1.0, "{e:?}");
        assert!((e.rate_mibps - 32.0).abs() < 1e-9, "a lower bound: {e:?}");
        // 4 MiB/s over fresh memory: three times as much in three seconds.
        let e = estimate(&[w(1, 4.0), w(3, 4.0)]).unwrap();
        assert!(!e.set_measured);
        assert!((e.rate_mibps - 4.0).abs() < 1e-9);
        assert!((e.set_mib - 12.0).abs() < 1e-9, "at least: {e:?}");
        // 8 MiB/s over a 16 MiB set: 8 in one second, 16 (not 24) in three: the rate is the
        // first window's, the set at least what the longer one saw.
        let e = estimate(&[w(1, 8.0), w(3, 16.0 / 3.0)]).unwrap();
        assert!(!e.set_measured, "16 > 1.5 × 8");
        assert!((e.rate_mibps - 8.0).abs() < 1e-9 && (e.set_mib - 16.0).abs() < 1e-9);
        // An idle guest.
        let e = estimate(&[w(1, 0.0), w(3, 0.0)]).unwrap();
        assert_eq!((e.rate_mibps, e.set_mib), (0.0, 0.0));
        assert!(estimate(&[]).is_none());
    }
}
