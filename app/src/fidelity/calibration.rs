//! The constants the simulator cannot know about a particular lab, kept in one file
//! (`assets/calibration/labbox.toml`) and fitted by `migralab fidelity --calibrate` on the
//! calibration cases only (idle guests), so the reported error is measured on cases the fit
//! never saw.

use super::grid::Case;
use super::measure::Measurement;
use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The shipped calibration of the lab in a box.
pub const SHIPPED: &str = include_str!("../../../assets/calibration/labbox.toml");

/// Where `--calibrate` writes by default (the shipped file, in a source checkout).
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/calibration/labbox.toml")
}

/// The fitted constants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// The copy rate when no cap is set, MiB/s (QEMU on this machine's cores, not the veth).
    pub link_mibps: f64,
    /// From the command to the first RAM page (connections, QEMU started paused on the
    /// destination), ms.
    pub setup_ms: f64,
    /// Device state sent at the switch-over, KiB.
    pub device_state_kib: u64,
    /// Loading the device state and starting the vCPUs on the destination, ms.
    pub resume_ms: f64,
    /// After the resume until pings reach the guest at its new place, ms.
    pub announce_ms: f64,
    /// RAM a freshly booted idle guest has written (everything else is zero pages), MiB.
    pub guest_touched_mib: f64,
    /// What the idle guest writes anyway (timers, and the buffers of the 100 pings a second
    /// the harness sends it), MiB/s: QEMU's own dirty rate on the idle calibration cases.
    #[serde(default)]
    pub guest_background_mibps: f64,
    /// How fast the guest's writer copies memory when it does not pace itself, MiB/s: it needs
    /// rate / this of its vCPU, so auto-converge's throttle slows it only past 1 - that.
    /// Absent: a CPU-bound writer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guest_write_mibps: Option<f64>,
    /// Where the numbers come from (written by `--calibrate`).
    #[serde(default)]
    pub fitted_on: Vec<String>,
}

impl Calibration {
    /// The shipped constants.
    pub fn shipped() -> anyhow::Result<Calibration> {
        toml::from_str(SHIPPED).context("the shipped assets/calibration/labbox.toml is invalid")
    }

    /// Read a calibration file.
    pub fn load(path: &Path) -> anyhow::Result<Calibration> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("{} is not a calibration file", path.display()))
    }

    /// Write it with a header that says what it is.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let body = toml::to_string(self).context("cannot write the calibration as TOML")?;
        let text = format!("{HEADER}{body}");
        crate::fsutil::write_atomically(path, text.as_bytes())
    }

    /// Fit the constants to the real medians of the calibration cases, keeping `prior` where a
    /// case that would tell is missing.
    pub fn fit(prior: &Calibration, inputs: &[FitInput]) -> Calibration {
        let mut c = prior.clone();
        let cases: Vec<(&Case, &Measurement)> =
            inputs.iter().map(|i| (&i.case, &i.median)).collect();
        let idle: Vec<_> = cases
            .iter()
            .filter(|(k, m)| k.calibration && k.dirty_rate_mibps == 0 && m.completed())
            .collect();
        // Bytes: touched pages cost 4104 B (page + header), the rest 9 B (zero-page marker).
        let touched: Vec<f64> = idle
            .iter()
            .map(|(k, m)| {
                let pages = (k.ram_mib * 256) as f64;
                let touched_pages = ((m.bytes - pages * 9.0) / (4104.0 - 9.0)).max(0.0);
                touched_pages / 256.0
            })
            .collect();
        if let Some(t) = median(&touched) {
            c.guest_touched_mib = round1(t);
        }
        // Capped cases: total = setup + bytes / cap + downtime.
        let setups: Vec<f64> = idle
            .iter()
            .filter_map(|(k, m)| {
                k.bandwidth_mibps.map(|cap| {
                    m.total_ms - m.bytes / (cap as f64 * 1_048_576.0) * 1000.0 - m.downtime_ms
                })
            })
            .collect();
        if let Some(s) = median(&setups) {
            c.setup_ms = round1(s.max(0.0));
        }
        // The uncapped case: the rate QEMU reaches on its own.
        let rates: Vec<f64> = idle
            .iter()
            .filter(|(k, _)| k.bandwidth_mibps.is_none())
            .filter_map(|(_, m)| {
                let copy_ms = m.total_ms - c.setup_ms - m.downtime_ms;
                (copy_ms > 0.0).then(|| m.bytes / 1_048_576.0 / (copy_ms / 1000.0))
            })
            .collect();
        if let Some(r) = median(&rates) {
            c.link_mibps = round1(r);
        }
        // The idle guest's own writes, as QEMU measured them over the first pass.
        let background: Vec<f64> = inputs
            .iter()
            .filter(|i| i.case.calibration && i.case.dirty_rate_mibps == 0)
            .filter_map(|i| i.qemu_dirty_mibps)
            .filter(|r| *r > 0.0)
            .collect();
        if let Some(b) = median(&background) {
            c.guest_background_mibps = round3(b);
        }
        // Downtime: what the simulator has while paused (the last dirty pages and the device
        // state at the link's rate) plus loading and starting on the destination.
        let resumes: Vec<f64> = idle
            .iter()
            .filter_map(|(k, m)| {
                let trial = Calibration {
                    resume_ms: 0.0,
                    ..c.clone()
                };
                let sim = super::measure::simulate(k, &trial).ok()?;
                sim.completed().then_some(m.downtime_ms - sim.downtime_ms)
            })
            .collect();
        if let Some(r) = median(&resumes) {
            c.resume_ms = round1(r.max(0.0));
        }
        // The ping gap is the downtime plus the announce, less about one probe interval.
        let announces: Vec<f64> = idle
            .iter()
            .filter(|(_, m)| m.max_gap_ms > 0.0)
            .map(|(_, m)| m.max_gap_ms - m.downtime_ms - 10.0)
            .collect();
        if let Some(a) = median(&announces) {
            c.announce_ms = round1(a.max(0.0));
        }
        c.fitted_on = idle.iter().map(|(k, _)| k.name.clone()).collect();
        // The writer's own speed: the value (on a log scale) that lets the simulator match the
        // total time of the throttled calibration case.
        if let Some((k, m)) = cases.iter().find(|(k, m)| {
            k.calibration && k.auto_converge && k.dirty_rate_mibps > 0 && m.completed()
        }) {
            let rate = k.dirty_rate_mibps as f64;
            let error = |w: Option<f64>| {
                let trial = Calibration {
                    guest_write_mibps: w,
                    ..c.clone()
                };
                super::measure::simulate(k, &trial)
                    .ok()
                    .filter(Measurement::completed)
                    .map_or(f64::INFINITY, |s| (s.total_ms - m.total_ms).abs())
            };
            let candidates =
                std::iter::once(None).chain((0..=40).map(|i| Some(rate * 1.15f64.powi(i))));
            c.guest_write_mibps = candidates
                .map(|w| (w, error(w)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .and_then(|(w, _)| w.map(round1));
            c.fitted_on.push(k.name.clone());
        }
        c
    }
}

const HEADER: &str = "\
# The lab in a box's constants for the simulator, fitted by `migralab fidelity --calibrate` on
# the calibration cases only (idle guests at two caps and without one, and one throttled
# writer); `migralab fidelity` reports the simulator's error on the other cases. Units: MiB/s, ms, KiB, MiB.
";

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// What one calibration case measured, for [`Calibration::fit`].
#[derive(Debug, Clone)]
pub struct FitInput {
    /// The case.
    pub case: Case,
    /// The median of its real runs.
    pub median: Measurement,
    /// QEMU's dirty rate over the migration, MiB/s (median of the runs), when it reported one.
    pub qemu_dirty_mibps: Option<f64>,
}

/// The median of `v` (`None` when empty).
pub fn median(v: &[f64]) -> Option<f64> {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return None;
    }
    s.sort_by(f64::total_cmp);
    let n = s.len();
    Some(if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn m(total_ms: f64, bytes_mib: f64, downtime_ms: f64, gap: f64) -> Measurement {
        Measurement {
            status: "completed".into(),
            total_ms,
            bytes: bytes_mib * 1_048_576.0,
            iterations: 3,
            downtime_ms,
            max_gap_ms: gap,
        }
    }

    #[test]
    fn the_shipped_calibration_reads() {
        let c = Calibration::shipped().unwrap();
        assert!(c.link_mibps > 0.0 && c.guest_touched_mib > 0.0);
    }

    #[test]
    fn a_fit_recovers_the_constants_that_made_the_measurements() {
        // A made-up lab: setup 200 ms, 150 MiB/s uncapped, 90 MiB touched, 60 ms downtime.
        let grid = super::super::grid::quick();
        let cal: Vec<_> = grid.iter().filter(|c| c.calibration).collect();
        let touched = 90.0;
        let ms: Vec<Measurement> = cal
            .iter()
            .map(|k| {
                let pages = (k.ram_mib * 256) as f64;
                let tp = touched * 256.0;
                let bytes = tp * 4104.0 + (pages - tp) * 9.0;
                let rate = k.bandwidth_mibps.map_or(150.0, |b| b as f64);
                let total = 200.0 + bytes / 1_048_576.0 / rate * 1000.0 + 60.0;
                m(total, bytes / 1_048_576.0, 60.0, 100.0)
            })
            .collect();
        let inputs: Vec<FitInput> = cal
            .iter()
            .zip(ms.iter())
            .map(|(k, m)| FitInput {
                case: (*k).clone(),
                median: m.clone(),
                qemu_dirty_mibps: (k.dirty_rate_mibps == 0 && k.bandwidth_mibps.is_some())
                    .then_some(0.25),
            })
            .collect();
        let fit = Calibration::fit(&Calibration::shipped().unwrap(), &inputs);
        assert!((fit.guest_touched_mib - 90.0).abs() < 0.5, "{fit:?}");
        assert!((fit.setup_ms - 200.0).abs() < 1.0, "{fit:?}");
        assert!((fit.link_mibps - 150.0).abs() < 1.0, "{fit:?}");
        assert!((fit.announce_ms - 30.0).abs() < 0.5, "{fit:?}");
        assert_eq!(fit.guest_background_mibps, 0.25);
        assert_eq!(fit.fitted_on.len(), cal.len());
    }

    #[test]
    fn the_labbox_scenario_carries_the_shipped_calibration() {
        // The app's prediction reads the scenario; the harness reads the file: they must agree.
        let c = Calibration::shipped().unwrap();
        let sc = crate::scenarios::load(Some(Path::new("labbox")), &[]).unwrap();
        assert_eq!(sc.link.bandwidth_mibps, c.link_mibps);
        assert_eq!(sc.sim.setup_ms, c.setup_ms);
        assert_eq!(sc.sim.device_state_kib, c.device_state_kib);
        assert_eq!(sc.sim.resume_ms, c.resume_ms);
        assert_eq!(sc.sim.announce_ms, c.announce_ms);
    }

    #[test]
    fn medians_of_odd_even_and_empty_lists() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }
}
