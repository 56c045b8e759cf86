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

/// Issue 23 §1: what a guest has written does not grow with its RAM. The lab in a box's idle
/// guest at 1024 MiB instead of 256 sends its page descriptors for the bigger RAM (1/64 of the
/// 768 MiB more: 12 MiB) and the extra zero pages' headers, not four times the data — which is
/// what the share fitted at 256 MiB (`zero_fraction = 0.705`) predicted, 3.3 times what QEMU
/// really sent.
#[test]
fn more_ram_alone_adds_the_page_descriptors_not_a_share_of_data() {
    use migralab_sim_core::units::{MIB, NORMAL_PAGE_WIRE_BYTES, PAGE_SIZE, ZERO_PAGE_WIRE_BYTES};
    let path = Path::new(SCENARIO_DIR).join("labbox.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let sent = |overrides: &[&str]| {
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        let sc = Scenario::load(
            Located {
                text: &text,
                origin: "labbox.toml",
            },
            &overrides,
        )
        .unwrap_or_else(|e| panic!("{e:#}"));
        let o = RunOutcome::of(&Simulator::run(sc));
        assert_eq!(o.status, "completed", "{overrides:?}: {o:?}");
        o.memory_bytes as f64
    };
    let small = sent(&[]);
    let big = sent(&["vm.db01.ram_mib=1024"]);
    // 768 MiB more RAM: 12 MiB more page descriptors sent as data, the rest as zero pages.
    let pages = |mib: u64| (mib * MIB / PAGE_SIZE) as f64;
    let descriptors = pages(12) * NORMAL_PAGE_WIRE_BYTES as f64;
    let zeros = (pages(768) - pages(12)) * ZERO_PAGE_WIRE_BYTES as f64;
    let grown = big - small;
    // Within 2 MiB of that: the idle guest's background writes over a longer first pass.
    assert!(
        (grown - descriptors - zeros).abs() < 2.0 * MIB as f64,
        "256 MiB sent {:.1} MiB, 1024 MiB {:.1} MiB: grew by {:.1} MiB, expected {:.1} MiB",
        small / MIB as f64,
        big / MIB as f64,
        grown / MIB as f64,
        (descriptors + zeros) / MIB as f64
    );
    assert!(big < 1.3 * small, "{big} vs {small}");
    // The share, which a scenario may still give, scales with RAM instead.
    let share = sent(&["vm.db01.ram_mib=1024", "vm.db01.zero_fraction=0.705"]);
    assert!(share > 3.0 * small, "{share} vs {small}");
}
