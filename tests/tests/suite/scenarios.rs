//! Every scenario shipped in `scenarios/` loads, validates, runs to an end, and teaches what its
//! comments promise.
//!
//! The generic checks run over whatever `*.toml` files are in the directory, so a new scenario is
//! covered the moment it is added. The teaching checks name the shipped scenarios one by one: if a
//! model change makes a lesson stop showing what it is meant to show, this is where it breaks.

use migralab_sim_core::{Located, Outcome, RunOutcome, Scenario, Simulator, Trace};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const SCENARIO_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios");

/// Every `*.toml` under `scenarios/`, sorted by file name so failures come in a stable order.
fn scenario_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(SCENARIO_DIR)
        .unwrap_or_else(|e| panic!("cannot read {SCENARIO_DIR}: {e}"))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Scenario {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let origin = path.display().to_string();
    Scenario::load(
        Located {
            text: &text,
            origin: &origin,
        },
        &[],
    )
    .unwrap_or_else(|e| panic!("{e:#}"))
}

/// The outcome of each VM, by VM name. Panics if a VM finished twice.
fn outcomes(trace: &Trace) -> BTreeMap<&str, &Outcome> {
    let mut by_vm = BTreeMap::new();
    for (vm, o) in trace.outcomes() {
        assert!(
            by_vm.insert(vm, o).is_none(),
            "{vm} has more than one Finished event"
        );
    }
    by_vm
}

/// `(total_ms, downtime_ms)` of a completed migration.
fn completed(name: &str, vm: &str, o: &Outcome) -> (u64, u64) {
    match o {
        Outcome::Completed {
            total_ms,
            downtime_ms,
            ..
        } => (*total_ms, *downtime_ms),
        other => panic!("{name}: {vm} should complete, got {other:?}"),
    }
}

/// Outcome of a single-VM scenario.
fn only_outcome<'a>(name: &str, runs: &'a BTreeMap<String, Trace>) -> &'a Outcome {
    let trace = runs
        .get(name)
        .unwrap_or_else(|| panic!("scenario `{name}` is missing from scenarios/"));
    let all = outcomes(trace);
    assert_eq!(all.len(), 1, "{name} should migrate exactly one VM");
    all.into_values().next().unwrap()
}

#[test]
fn every_scenario_file_loads_runs_and_teaches_what_it_says() {
    let files = scenario_files();
    assert!(!files.is_empty(), "no *.toml in {SCENARIO_DIR}");

    // 1. Generic checks on every file; keep the traces for the teaching checks.
    let mut runs: BTreeMap<String, Trace> = BTreeMap::new();
    for path in &files {
        let sc = load(path);
        let name = sc.name.clone();
        for (what, text) in [("title", &sc.title), ("teaches", &sc.teaches)] {
            assert!(
                !text.id.trim().is_empty(),
                "{}: `{what}.id` (Bahasa Indonesia) is empty",
                path.display()
            );
            assert!(
                !text.en.trim().is_empty(),
                "{}: `{what}.en` (English) is empty",
                path.display()
            );
        }
        assert!(
            !sc.migrations.is_empty(),
            "{}: a scenario needs at least one [[migration]]",
            path.display()
        );
        let migrated: Vec<String> = sc.migrations.iter().map(|m| m.vm.clone()).collect();

        let trace = Simulator::run(sc);
        let by_vm = outcomes(&trace);
        for vm in &migrated {
            assert!(
                by_vm.contains_key(vm.as_str()),
                "{}: the migration of {vm} produced no Finished outcome",
                path.display()
            );
        }
        assert!(
            trace.pings().next().is_some(),
            "{}: the run produced no ping samples",
            path.display()
        );
        assert!(
            runs.insert(name.clone(), trace).is_none(),
            "two scenario files are both named `{name}`"
        );
    }

    // 2. What each shipped scenario is meant to show.
    for name in [
        "lesson",
        "exp1-shared-storage",
        "exp1-no-shared-storage",
        "busy-db-auto-converge",
        "busy-db-postcopy",
    ] {
        let o = only_outcome(name, &runs);
        assert!(o.is_completed(), "{name} should complete, got {o:?}");
    }

    let o = only_outcome("busy-db-no-converge", &runs);
    assert_eq!(
        o.status(),
        "not-converged",
        "busy-db-no-converge should never converge, got {o:?}"
    );

    // Shared storage matters: copying the disk makes the whole migration ten times longer or more.
    let (shared_total, _) = completed(
        "exp1-shared-storage",
        "db01",
        only_outcome("exp1-shared-storage", &runs),
    );
    let (local_total, _) = completed(
        "exp1-no-shared-storage",
        "db01",
        only_outcome("exp1-no-shared-storage", &runs),
    );
    assert!(
        local_total >= 10 * shared_total,
        "without shared storage the migration should take ≥ 10× longer: {local_total} ms vs {shared_total} ms"
    );

    // Post-copy pauses the guest only for the device state: shorter downtime than auto-converge.
    let (_, postcopy_down) = completed(
        "busy-db-postcopy",
        "db01",
        only_outcome("busy-db-postcopy", &runs),
    );
    let (_, converge_down) = completed(
        "busy-db-auto-converge",
        "db01",
        only_outcome("busy-db-auto-converge", &runs),
    );
    assert!(
        postcopy_down < converge_down,
        "post-copy downtime ({postcopy_down} ms) should be below auto-converge's ({converge_down} ms)"
    );

    // Evacuation: every VM leaves, and as they share the link they do not all finish together.
    let trace = runs
        .get("maintenance-evacuate")
        .expect("scenario `maintenance-evacuate` is missing from scenarios/");
    let by_vm = outcomes(trace);
    assert!(
        by_vm.len() >= 2,
        "maintenance-evacuate should move several VMs"
    );
    let mut totals: Vec<(u64, &str)> = by_vm
        .iter()
        .map(|(vm, o)| (completed("maintenance-evacuate", vm, o).0, *vm))
        .collect();
    totals.sort_unstable();
    for pair in totals.windows(2) {
        assert!(
            pair[0].0 != pair[1].0,
            "maintenance-evacuate: {} and {} finished at the same time ({} ms); the shared link should stagger them: {totals:?}",
            pair[0].1,
            pair[1].1,
            pair[0].0
        );
    }
    assert_eq!(RunOutcome::of(trace).status, "completed");
}
