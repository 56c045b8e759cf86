//! The simulator's prediction for a real migration: the same flags, bandwidth cap and downtime
//! limit, and the guest's real RAM size, in the lesson's lab. What libvirt cannot tell us (the
//! link's speed, how fast the guest dirties memory, how much of its RAM is still zero) is taken
//! from the lesson scenario, and [`Assumptions`] says so, so the GUI can show it beside the
//! numbers.

use crate::sessions::series::RunSeries;
use anyhow::Context as _;
use migralab_sim_core::scenario::{MigrationSpec, Scenario, WorkloadSpec};
use migralab_sim_core::summary::RunOutcome;
use migralab_sim_core::{Simulator, Trace};

/// How the live guest writes its memory, measured before the migration (real mode's
/// `virsh domdirtyrate-calc` windows, `migralab_real::libvirt::dirtyrate`).
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredWrites {
    /// Each window: its length (s) and the rate QEMU reported (MiB/s).
    pub windows: Vec<(u32, f64)>,
    /// The rate the guest writes at, MiB/s.
    pub rate_mibps: f64,
    /// The memory it keeps rewriting, MiB.
    pub set_mib: f64,
    /// Whether the set was seen full (else `set_mib` is a lower bound).
    pub set_measured: bool,
}

/// The values the prediction assumed because libvirt cannot measure them.
#[derive(Debug, Clone, PartialEq)]
pub struct Assumptions {
    /// The scenario they come from.
    pub scenario: String,
    /// Payload rate of the migration link, MiB/s.
    pub link_mibps: f64,
    /// The guest's working set, MiB, and how fast it is rewritten, MiB/s (`None`: idle).
    pub workload: Option<(u64, f64)>,
    /// What the guest has written, MiB (its page descriptors, 1/64 of RAM, come on top; the
    /// rest is never touched and sent almost for free).
    pub written_mib: f64,
    /// The guest's writing as measured before the migration: when given, `workload` comes
    /// from it, not from the scenario.
    pub measured: Option<MeasuredWrites>,
}

/// What the simulator predicts for one real migration.
#[derive(Debug, Clone)]
pub struct Prediction {
    /// The migration predicted (the real one's spec).
    pub spec: MigrationSpec,
    /// The command it stands for, as shown to the user.
    pub command: String,
    /// The guest's RAM, MiB (measured: from the domain's XML).
    pub ram_mib: u64,
    /// The values assumed.
    pub assumptions: Assumptions,
    /// The simulated run's outcome.
    pub outcome: RunOutcome,
    /// The simulated run as plot series (memory remaining, rates, ping).
    pub series: RunSeries,
    /// The whole simulated trace.
    pub trace: Trace,
}

/// The `base` scenario's lab (a shipped name or a file: `lesson`, `labbox`, ...) with the real
/// guest's RAM and the real command's parameters.
pub fn scenario_for(base: &str, ram_mib: u64, spec: &MigrationSpec) -> anyhow::Result<Scenario> {
    let mut sc = crate::scenarios::load(Some(std::path::Path::new(base)), &[])
        .with_context(|| format!("cannot load the scenario `{base}` for the prediction"))?;
    let (from, to) = match sc.hosts.as_slice() {
        [a, b, ..] => (a.name.clone(), b.name.clone()),
        _ => anyhow::bail!("the lesson scenario has fewer than two hosts"),
    };
    let vm = sc
        .vms
        .first_mut()
        .context("the lesson scenario has no VM")?;
    vm.name = spec.vm.clone();
    vm.host = from;
    // A RAM smaller than the lesson's working set would make the scenario invalid; such a
    // guest is tiny anyway, so its working set shrinks with it.
    vm.ram_mib = ram_mib.max(1);
    // Likewise what the guest has written: it keeps the scenario's, as far as it fits.
    if let Some(w) = vm.written_mib {
        vm.written_mib = Some(w.min(vm.max_written_mib()));
    }
    if let migralab_sim_core::scenario::WorkloadSpec::HotSet { set_mib, .. } = &mut vm.workload {
        *set_mib = (*set_mib).min(vm.ram_mib / 2).max(1);
    }
    let mut m = spec.clone();
    m.to = to;
    m.start_ms = 0;
    sc.migrations = vec![m];
    sc.prober.target = Some(spec.vm.clone());
    sc.name = format!("prediction-{}", spec.vm);
    // The domain name and sizes come from a real host: check them as a scenario file would be
    // checked, so nothing odd reaches the simulator.
    sc.validate()
        .map_err(|(path, msg)| anyhow::anyhow!("cannot predict this migration: {path}: {msg}"))?;
    Ok(sc)
}

/// The guest's workload from what was measured: idle below 0.1 MiB/s (QEMU reports whole
/// MiB/s), else a hot set of the measured size (at least 1 MiB, at most half the RAM, as
/// [`scenario_for`] keeps the lesson's set) rewritten at the measured rate.
pub fn workload_of(m: &MeasuredWrites, ram_mib: u64) -> WorkloadSpec {
    if m.rate_mibps < 0.1 {
        return WorkloadSpec::Idle;
    }
    WorkloadSpec::HotSet {
        set_mib: (m.set_mib.ceil() as u64).clamp(1, (ram_mib / 2).max(1)),
        rate_mibps: m.rate_mibps,
    }
}

/// Run the simulator for `spec` with a guest of `ram_mib`, writing as `measured` says when it
/// was measured (CPU work: call it off the UI thread).
pub fn predict(
    base: &str,
    ram_mib: u64,
    spec: &MigrationSpec,
    measured: Option<&MeasuredWrites>,
) -> anyhow::Result<Prediction> {
    let mut sc = scenario_for(base, ram_mib, spec)?;
    if let (Some(m), Some(vm)) = (measured, sc.vms.first_mut()) {
        vm.workload = workload_of(m, vm.ram_mib);
        sc.validate().map_err(|(path, msg)| {
            anyhow::anyhow!("cannot predict with the measured writes: {path}: {msg}")
        })?;
    }
    let assumptions = Assumptions {
        scenario: base.to_string(),
        link_mibps: sc.link.bandwidth_mibps,
        workload: sc.vms.first().and_then(|v| v.workload.set_and_rate()),
        written_mib: sc.vms.first().map_or(0.0, |v| v.written()),
        measured: measured.cloned(),
    };
    let trace = Simulator::run(sc);
    let series = RunSeries::from_events(&spec.vm, &trace.events);
    Ok(Prediction {
        spec: spec.clone(),
        command: spec.virsh_command(),
        ram_mib,
        assumptions,
        outcome: RunOutcome::of(&trace),
        series,
        trace,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_prediction_uses_the_real_ram_and_parameters() {
        let mut spec = MigrationSpec::new("test", "test:///default");
        spec.bandwidth_mibps = Some(50);
        spec.downtime_limit_ms = 500;
        let p = predict("lesson", 1024, &spec, None).unwrap();
        assert_eq!(p.ram_mib, 1024);
        assert_eq!(p.outcome.status, "completed", "{:?}", p.outcome);
        assert!(p.outcome.total_ms > 0 && p.outcome.memory_bytes > 0);
        assert!(!p.series.memory_remaining_mib.is_empty());
        // The cap is obeyed: nothing is sent faster than 50 MiB/s (a little slack for sampling).
        let fastest = p
            .series
            .send_rate_mibps
            .iter()
            .map(|q| q[1])
            .fold(0.0, f64::max);
        assert!(fastest <= 52.0, "{fastest}");
        assert!(p.assumptions.link_mibps > 0.0);
        let sc = scenario_for("lesson", 1024, &spec).unwrap();
        // The lab in a box predicts from its own twin: its link, its idle guest.
        let lb = scenario_for("labbox", 256, &spec).unwrap();
        #[cfg(target_os = "linux")] // the harness is Linux-only; its calibration file is not
        {
            let calibrated = migralab_fidelity::calibration::Calibration::shipped().unwrap();
            assert_eq!(lb.link.bandwidth_mibps, calibrated.link_mibps);
        }
        assert_eq!(lb.vms[0].ram_mib, 256);
        assert!(scenario_for("no-such-scenario", 256, &spec).is_err());
        assert_eq!(sc.migrations[0].downtime_limit_ms, 500);
        assert_eq!(sc.vms[0].name, "test");
    }

    #[test]
    fn measured_writes_replace_the_scenarios_guest() {
        let spec = MigrationSpec::new("db01", "h2");
        let busy = MeasuredWrites {
            windows: vec![(1, 32.0), (3, 11.0)],
            rate_mibps: 32.0,
            set_mib: 33.0,
            set_measured: true,
        };
        let idle = predict("labbox", 256, &spec, None).unwrap();
        let p = predict("labbox", 256, &spec, Some(&busy)).unwrap();
        assert_eq!(p.assumptions.workload, Some((33, 32.0)));
        assert_eq!(p.assumptions.measured.as_ref(), Some(&busy));
        assert!(
            p.outcome.memory_bytes > idle.outcome.memory_bytes,
            "a busy guest sends more: {:?} vs {:?}",
            p.outcome,
            idle.outcome
        );
        let quiet = MeasuredWrites {
            rate_mibps: 0.0,
            set_mib: 0.0,
            ..busy.clone()
        };
        assert_eq!(workload_of(&quiet, 256), WorkloadSpec::Idle);
        let huge = MeasuredWrites {
            set_mib: 1e9,
            ..busy.clone()
        };
        assert!(
            matches!(
                workload_of(&huge, 256),
                WorkloadSpec::HotSet { set_mib: 128, .. }
            ),
            "the set stays inside the RAM"
        );
    }

    #[test]
    fn a_tiny_guest_still_makes_a_valid_scenario() {
        let spec = MigrationSpec::new("mini", "h2");
        let p = predict("lesson", 16, &spec, None).unwrap();
        assert_eq!(p.outcome.status, "completed");
        // The lesson's guest wrote 992 MiB: in 16 MiB it fills all but the page descriptors.
        assert_eq!(p.assumptions.written_mib, 15.75);
        let p = predict("lesson", 4096, &spec, None).unwrap();
        assert_eq!(p.assumptions.written_mib, 992.0);
    }
}
