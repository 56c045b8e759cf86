//! Real mode in the desktop app, driven through the accessibility tree with egui_kittest,
//! against libvirt's test driver (`test:///default`: a fake hypervisor inside this process, no
//! daemon, nothing real is touched). Its domain `test` runs; preflight to the same URI fails
//! "Not the same host", and a migration is refused by the driver.

use crate::common::fresh_dir;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use migralab_app::gui::MigralabApp;
use migralab_app::gui::state::{AppState, Tab};
use migralab_app::sessions::real::Availability;
use migralab_sim_core::Outcome;
use migralab_sim_core::lang::Lang;

/// Both ends are the test driver; its one domain is allowed.
const ALLOWED: &str = "format = 1\n[real_lab]\nallowed_hosts = [\"test:///default\", \"test:///default\"]\nallowed_domains = [\"test\"]\n";

/// The app on `tab` with `settings` as the instructor's file (none when `None`).
fn app(tab: Tab, settings: Option<&str>) -> MigralabApp {
    let state = AppState {
        tab,
        lang: Lang::En,
        ..AppState::default()
    };
    let mut app = MigralabApp::new(state);
    let data = fresh_dir("gui-real");
    if let Some(text) = settings {
        std::fs::write(data.join("instructor.toml"), text).unwrap();
    }
    app.shared.data_dir = Some(data);
    app.lab.export_dir = Some(fresh_dir("gui-real"));
    app
}

fn harness(app: MigralabApp) -> Harness<'static, MigralabApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 900.0))
        .with_max_steps(16)
        .build_ui_state(|ui, app: &mut MigralabApp| app.ui_root(ui), app)
}

/// Let the real-mode worker finish (preflight, migration, prediction), then draw the result.
fn settle(h: &mut Harness<'static, MigralabApp>) {
    h.step();
    h.state_mut().wait_real_idle();
    h.run();
}

fn real_button_disabled(h: &Harness<'static, MigralabApp>) -> bool {
    h.get_by_label("REAL").accesskit_node().is_disabled()
}

fn switch_on(h: &mut Harness<'static, MigralabApp>) {
    h.run();
    assert!(!real_button_disabled(h));
    h.get_by_label("REAL").click();
    h.run();
    assert!(h.state().real.on);
}

#[test]
fn real_mode_is_offered_only_when_the_instructor_allows_it() {
    // No hosts configured: disabled, and the reason says how to fix it.
    let mut h = harness(app(Tab::Lab, None));
    h.run();
    assert!(real_button_disabled(&h));
    let settings = h.state_mut().shared.settings().effective();
    assert_eq!(Availability::of(&settings), Availability::NoHosts);
    let reason =
        migralab_app::gui::real::unavailable_reason(Availability::NoHosts, Lang::En).unwrap();
    assert!(reason.contains("allowed_hosts"), "{reason}");
    // A click on a disabled button does nothing.
    h.get_by_label("REAL").click();
    h.run();
    assert!(!h.state().real.on);

    // Hosts configured but the lab locked to simulated mode: still disabled.
    let locked = format!("mode_locked = \"simulated\"\n{ALLOWED}");
    let mut h = harness(app(Tab::Lab, Some(&locked)));
    h.run();
    assert!(real_button_disabled(&h));
    let settings = h.state_mut().shared.settings().effective();
    assert_eq!(Availability::of(&settings), Availability::LockedSimulated);

    // Allowed: the switch is explicit and the Lab tab says it is real.
    let mut h = harness(app(Tab::Lab, Some(ALLOWED)));
    switch_on(&mut h);
    assert!(h.query_by_label("REAL: real hosts").is_some(), "the banner");
    assert!(h.query_by_label("Check prerequisites").is_some());
    // Only the allowed hosts and domain are offered.
    let form = &h.state().state.real_form;
    assert_eq!(
        (
            form.src.as_str(),
            form.dst.as_str(),
            form.migrate.spec.vm.as_str()
        ),
        ("test:///default", "test:///default", "test")
    );
    // And back.
    h.get_by_label("SIMULATED").click();
    h.run();
    assert!(!h.state().real.on);
    assert!(h.query_by_label("REAL: real hosts").is_none());
}

#[test]
fn the_instructors_real_lock_starts_the_app_in_real_mode() {
    let locked = format!("mode_locked = \"real\"\n{ALLOWED}");
    let mut h = harness(app(Tab::Lab, Some(&locked)));
    h.run();
    assert!(h.state().real.on);
    assert!(
        h.get_by_label("SIMULATED").accesskit_node().is_disabled(),
        "students cannot leave a locked mode"
    );
}

#[test]
fn preflight_runs_on_the_real_hosts_and_shows_libvirts_message() {
    let mut h = harness(app(Tab::Lab, Some(ALLOWED)));
    switch_on(&mut h);
    h.get_by_label("Check prerequisites").click();
    settle(&mut h);
    // The failed check, open, with libvirt's own words.
    assert!(h.query_by_label("× Not the same host").is_some());
    assert!(
        h.query_by_label_contains(
            "error: internal error: Attempt to migrate guest to the same host"
        )
        .is_some(),
        "libvirt's message is shown"
    );
    // Checks libvirt cannot measure are marked "?" with their evidence.
    assert!(h.query_by_label("? SSH trust").is_some());
    assert!(h.query_by_label("? Same network").is_some());
    assert!(
        h.query_by_label_contains("Prerequisites for test (test:///default to test:///default)")
            .is_some()
    );
    // The simulator predicted the same migration meanwhile.
    assert!(
        h.query_by_label("Simulator prediction vs measurement")
            .is_some()
    );
    assert!(h.query_by_label("Predicted").is_some());
}

#[test]
fn a_real_migration_asks_first_and_ends_in_the_history_with_libvirts_refusal() {
    let mut h = harness(app(Tab::Lab, Some(ALLOWED)));
    switch_on(&mut h);

    // The confirmation names what will happen; cancelling does nothing.
    h.get_by_label("Migrate...").click();
    h.run();
    assert!(h.query_by_label("Run a real migration?").is_some());
    assert!(
        h.query_by_label_contains(
            "The VM test will be moved from test:///default to test:///default"
        )
        .is_some()
    );
    h.get_by_label("Cancel").click();
    h.run();
    assert!(h.query_by_label("Run a real migration?").is_none());
    assert!(h.state().lab.runs.is_empty(), "nothing ran");
    assert!(!h.state().real.is_migrating());

    // Confirmed: it runs, the driver refuses, and the run is in the history as failed.
    h.get_by_label("Migrate...").click();
    h.run();
    h.get_by_label("Yes, migrate").click();
    settle(&mut h);
    let app = h.state();
    assert_eq!(app.lab.runs.len(), 1);
    let run = &app.lab.runs[0];
    assert_eq!(run.trace.backend, "real");
    let Some(Outcome::Failed { error, .. }) = run.outcome() else {
        panic!("{:?}", run.outcome());
    };
    let msg = error.to_string();
    assert!(
        msg.starts_with(
            "this function is not supported by the connection driver: virDomainMigrateSetMaxDowntime"
        ),
        "{msg}"
    );
    assert_eq!(app.lab.current_run().map(|r| r.id), Some(run.id), "shown");
    // Shown unchanged.
    assert!(h.query_by_label(&msg).is_some(), "{msg}");
    assert!(h.query_by_label("Run #1: failed").is_some());

    // The prediction for the same parameters, with numbers, beside the measurement.
    let p = h
        .state()
        .real
        .session
        .as_ref()
        .unwrap()
        .prediction()
        .unwrap()
        .unwrap()
        .outcome
        .clone();
    assert_eq!(p.status, "completed");
    let total = format!("{:.2} s", p.total_ms as f64 / 1000.0);
    assert!(h.query_by_label(&total).is_some(), "predicted {total}");
    assert!(h.query_by_label(&format!("{} ms", p.downtime_ms)).is_some());
    assert!(h.query_by_label_contains("Unknown to libvirt").is_some());
}

#[test]
fn the_real_run_exports_like_a_simulated_one() {
    let mut h = harness(app(Tab::Lab, Some(ALLOWED)));
    switch_on(&mut h);
    h.get_by_label("Migrate...").click();
    h.run();
    h.get_by_label("Yes, migrate").click();
    settle(&mut h);
    h.get_by_label("Data (CSV + JSON)").click();
    h.step();
    h.state_mut().lab.wait_export();
    h.run();
    let dir = h.state().lab.export_dir.clone().unwrap();
    let json = std::fs::read_to_string(dir.join("run-1.json")).unwrap();
    let trace = migralab_sim_core::Trace::from_json(&json).unwrap();
    assert_eq!(trace.backend, "real");
}

/// Watching is a toggle: the tab says what it watches, nothing is recorded while no migration
/// leaves the host, and the form still works meanwhile (a migration started here is not
/// recorded twice). (A watched migration on real hosts: the `real_lab` test.)
#[test]
fn watching_says_what_it_watches_and_records_nothing_without_a_migration() {
    let mut h = harness(app(Tab::Lab, Some(ALLOWED)));
    switch_on(&mut h);
    h.get_by_label("Watch for migrations started elsewhere")
        .click();
    h.run();
    let t = std::time::Instant::now();
    while h
        .state()
        .real
        .session
        .as_ref()
        .and_then(|s| s.watching())
        .and_then(|(_, r)| r)
        .is_none()
        && t.elapsed() < std::time::Duration::from_secs(10)
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
        h.step();
    }
    h.run();
    assert!(
        h.query_by_label_contains("Watching test:///default for migrations of test")
            .is_some(),
        "the tab says what it watches"
    );
    // A migration from the form still runs (refused by the test driver) and is one run.
    h.get_by_label("Migrate...").click();
    h.run();
    h.get_by_label("Yes, migrate").click();
    settle(&mut h);
    assert_eq!(h.state().lab.runs.len(), 1, "one run, not recorded twice");
    // Turning it off stops watching.
    h.get_by_label("Watch for migrations started elsewhere")
        .click();
    h.run();
    assert!(
        h.state()
            .real
            .session
            .as_ref()
            .is_some_and(|s| s.watching().is_none())
    );
    assert!(h.query_by_label_contains("Watching test").is_none());
}

/// With REAL on, the Experiments tab runs on the real hosts and says so; a step the hosts
/// cannot run is marked SIMULATED with its reason, and the simulated lab it runs in is framed
/// as such, never shown under the REAL badge unmarked.
#[test]
fn the_experiments_run_on_the_real_hosts_and_mark_what_is_simulated() {
    let mut h = harness(app(Tab::Experiments, Some(ALLOWED)));
    h.run();
    assert!(
        h.query_by_label_contains("the experiments run on the real hosts")
            .is_none(),
        "not while SIMULATED"
    );
    switch_on(&mut h);
    assert!(
        h.query_by_label_contains("the experiments run on the real hosts")
            .is_some()
    );
    // The test driver's only domain is `test`: Experiment 1's db01 steps run simulated, said so.
    assert!(h.query_all_by_label("SIMULATED").count() >= 2);
    assert!(
        h.query_all_by_label_contains("db01 is not one of the domains the instructor allowed")
            .count()
            >= 2
    );
    // Its typed steps (mount, domjobinfo) run in the terminal on the real source.
    assert!(h.query_by_label("Type in the terminal").is_some());
    h.query_all_by_label("⏵ Run").next().unwrap().click();
    h.run();
    assert!(
        h.query_by_label("This is the SIMULATED lab, not the real hosts.")
            .is_some(),
        "the simulated lab is framed as such"
    );
}

/// Issue 23 §2: a completed real run's result has the button that builds its simulated twin,
/// saves it in the export folder and opens it in the simulated lab.
#[test]
fn a_completed_real_run_builds_its_twin_and_opens_it_in_the_simulated_lab() {
    use migralab_app::sessions::lab::{RunId, RunRecord};
    use migralab_app::sessions::series::RunSeries;
    let trace = migralab_sim_core::Trace::from_json(include_str!("../fixtures/real-idle-256.json"))
        .unwrap();
    let spec: migralab_sim_core::scenario::MigrationSpec =
        serde_json::from_value(trace.scenario["migration"].clone()).unwrap();
    let mut h = harness(app(Tab::Lab, Some(ALLOWED)));
    switch_on(&mut h);
    {
        let app = h.state_mut();
        app.lab.runs.push(RunRecord {
            id: RunId(1),
            scenario: "real".into(),
            command: spec.virsh_command(),
            vm: spec.vm.clone(),
            from: "kvm-host-01".into(),
            to: spec.to.clone(),
            series: RunSeries::from_events(&spec.vm, &trace.events),
            spec,
            trace,
            foreground: false,
        });
        app.real.last_run = Some(RunId(1));
    }
    h.run();
    h.get_by_label("Build a simulated twin").click();
    h.run();
    let app = h.state();
    assert!(!app.real.on, "back in the simulated lab");
    let dir = app.lab.export_dir.clone().unwrap();
    let file = dir.join("twin-db01.toml");
    assert!(file.is_file(), "{}", file.display());
    assert_eq!(
        app.lab.session.as_ref().map(|s| s.scenario_name.clone()),
        Some(file.display().to_string())
    );
    assert!(
        h.query_by_label_contains("The simulated twin was saved as")
            .is_some()
    );
}
