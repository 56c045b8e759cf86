//! The desktop app driven as a student would, with egui_kittest: through the accessibility tree
//! (labels, roles), asserting on the app's state and on what is shown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use migralab_app::gui::MigralabApp;
use migralab_app::gui::state::{AppState, Tab};
use migralab_app::lab_session::Speed;
use migralab_sim_core::lang::Lang;

fn app(tab: Tab, lang: Lang) -> MigralabApp {
    let mut state = AppState {
        tab,
        lang,
        ..AppState::default()
    };
    // Tests look at results, not at the animation of getting there.
    state.lab.speed = Speed::Instant;
    MigralabApp::new(state)
}

fn harness(app: MigralabApp) -> Harness<'static, MigralabApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .with_max_steps(16)
        .build_ui_state(|ui, app: &mut MigralabApp| app.ui_root(ui), app)
}

/// Let the lab's worker finish the line it runs, then draw the result.
fn settle(h: &mut Harness<'static, MigralabApp>) {
    // One frame takes the click or key to the lab; while the worker runs, a spinner would keep
    // the UI repainting, so wait for it rather than `run()`.
    h.step();
    h.state_mut().lab.wait_idle();
    h.run();
}

#[test]
fn show_me_in_the_lesson_opens_the_lab_on_that_prerequisites_scenario() {
    let mut h = harness(app(Tab::Lesson, Lang::En));
    h.run();
    h.get_by_label("Show me: the same network/bridge")
        .click_accesskit();
    h.run();
    let s = h.state();
    assert_eq!(s.state.tab, Tab::Lab);
    assert_eq!(
        s.lab.session.as_ref().unwrap().scenario_name,
        "prereq-no-bridge"
    );
    // The broken prerequisite is marked on the picture and listed with its fix.
    let topo = h.get_by_role(egui::Role::Image);
    let label = topo.accesskit_node().label().unwrap_or_default();
    assert!(label.contains("prerequisite failed"), "{label}");
    assert!(label.contains("Same bridge"), "{label}");
    assert!(
        h.query_by_label("× Same bridge").is_some(),
        "listed under the picture"
    );
}

#[test]
fn a_migration_from_the_form_runs_in_the_terminal_and_becomes_a_run() {
    let mut h = harness(app(Tab::Lab, Lang::En));
    h.run();
    h.get_by_label("⏵ Run in the terminal").click();
    settle(&mut h);
    let s = h.state();
    let session = s.lab.session.as_ref().unwrap();
    let entry = session.terminal().last().unwrap();
    assert_eq!(
        entry.input,
        "virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system"
    );
    assert_eq!(entry.status, 0);
    assert_eq!(s.lab.runs.len(), 1);
    let run = &s.lab.runs[0];
    assert!(run.outcome().unwrap().is_completed());
    assert_eq!(session.world().running_on("db01"), Some("kvm-host-02"));
    // The form now points back at the host the guest came from, so the next run makes sense.
    assert_eq!(s.state.lab.form.to, "kvm-host-01");
    // The run is shown: its plots and the finished progress bar.
    assert!(h.query_by_label_contains("completed").is_some());
    let topo = h.get_by_role(egui::Role::Image);
    assert!(
        topo.accesskit_node()
            .label()
            .unwrap_or_default()
            .contains("db01 runs on kvm-host-02")
    );
}

#[test]
fn a_migration_typed_in_the_terminal_counts_the_same() {
    let mut h = harness(app(Tab::Lab, Lang::En));
    h.run();
    let input = h.get_by_label("Terminal command line");
    input.focus();
    input.type_text("virsh migrate --live db01 qemu+ssh://kvm-host-02/system");
    h.run();
    h.key_press(egui::Key::Enter);
    settle(&mut h);
    let s = h.state();
    assert_eq!(s.lab.runs.len(), 1);
    assert_eq!(s.lab.typed.len(), 1);
    assert!(!s.lab.runs[0].spec.persistent);
    // ↑ brings the line back.
    h.get_by_label("Terminal command line").focus();
    h.key_press(egui::Key::ArrowUp);
    h.run();
    assert_eq!(
        h.state().lab.input,
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/system"
    );
}

#[test]
fn switching_language_changes_the_visible_strings() {
    let mut h = harness(app(Tab::Lab, Lang::Id));
    h.run();
    assert!(h.query_by_label("Pelajaran").is_some());
    assert!(h.query_by_label("Lesson").is_none());
    h.state_mut().state.lang = Lang::En;
    h.run();
    assert!(h.query_by_label("Lesson").is_some());
    assert!(h.query_by_label("Pelajaran").is_none());
    assert!(h.query_by_label("⏵ Run in the terminal").is_some());
}

#[test]
fn experiment_1_can_be_done_with_the_step_buttons_and_the_observation_reveals_the_explanation() {
    let mut h = harness(app(Tab::Experiments, Lang::En));
    h.run();
    let exp = migralab_app::content::experiments::experiments()
        .iter()
        .find(|e| e.id == "exp1")
        .unwrap()
        .clone();
    for step in &exp.steps {
        if step.command.is_none() {
            continue;
        }
        // Each step's ▶ Run button; the n-th one belongs to the n-th step with a command.
        let buttons = h.query_all_by_label("⏵ Run").count();
        assert!(buttons > 0);
        let idx = exp
            .steps
            .iter()
            .filter(|s| s.command.is_some())
            .position(|s| s.id == step.id)
            .unwrap();
        h.query_all_by_label("⏵ Run")
            .nth(idx)
            .unwrap()
            .click_accesskit();
        settle(&mut h);
    }
    let done = migralab_app::gui::experiments::steps_done(&exp, &h.state().state, &h.state().lab);
    let with_commands: Vec<bool> = exp
        .steps
        .iter()
        .zip(&done)
        .filter(|(s, _)| s.command.is_some())
        .map(|(_, d)| *d)
        .collect();
    assert!(with_commands.iter().all(|d| *d), "{done:?}");
    // Write the observation, then the explanation shows the measured numbers.
    let obs = h.get_by_role_and_label(egui::Role::TextInput, "Observation");
    obs.focus();
    obs.type_text("The ping stopped only briefly; copying the disk took much longer.");
    h.run();
    h.get_by_label("Show the explanation").click_accesskit();
    h.run();
    let s = h.state();
    assert!(s.state.experiments.revealed.contains(&"exp1".to_string()));
    assert!(
        s.state.experiments.observations["exp1"].contains("ping stopped"),
        "observations are kept in the persisted state"
    );
    let values = migralab_app::gui::experiments::placeholder_values(&exp, &s.lab, Lang::En);
    assert!(
        values.contains_key("downtime_ms_a") && values.contains_key("disk_gib_b"),
        "{values:?}"
    );
}

// ---- a few pictures (software renderer; `UPDATE_SNAPSHOTS=true` rewrites them) --------------

#[test]
fn snapshot_lab_after_the_lessons_migration() {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .with_max_steps(16)
        .build_ui_state(
            |ui, app: &mut MigralabApp| app.ui_root(ui),
            app(Tab::Lab, Lang::Id),
        );
    h.run();
    h.get_by_label("⏵ Jalankan di terminal").click();
    settle(&mut h);
    h.snapshot("lab_after_migration");
}

#[test]
fn snapshot_lesson_at_200_percent_zoom_in_english() {
    let mut a = app(Tab::Lesson, Lang::En);
    a.state.zoom = 2.0;
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 720.0))
        .with_max_steps(16)
        .build_ui_state(|ui, app: &mut MigralabApp| app.ui_root(ui), a);
    h.run();
    h.snapshot("lesson_zoom_200_en");
}
