//! The desktop app driven as a student would, with egui_kittest: through the accessibility tree
//! (labels, roles), asserting on the app's state and on what is shown.

use crate::common::fresh_dir;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use migralab_app::gui::MigralabApp;
use migralab_app::gui::state::{AppState, Tab};
use migralab_app::sessions::lab::Speed;
use migralab_sim_core::lang::Lang;

fn app(tab: Tab, lang: Lang) -> MigralabApp {
    let mut state = AppState {
        tab,
        lang,
        ..AppState::default()
    };
    // Tests look at results, not at the animation of getting there.
    state.lab.speed = Speed::Instant;
    let mut app = MigralabApp::new(state);
    // Never the machine's own data directory: no instructor settings unless a test writes them.
    app.shared.data_dir = Some(fresh_dir("gui"));
    app
}

fn harness(app: MigralabApp) -> Harness<'static, MigralabApp> {
    harness_sized(app, egui::vec2(1280.0, 800.0))
}

/// A harness whose screen is `size` points.
fn harness_sized(app: MigralabApp, size: egui::Vec2) -> Harness<'static, MigralabApp> {
    Harness::builder()
        .with_size(size)
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
    assert_eq!(s.state.lab.form.spec.to, "kvm-host-01");
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

/// Do every step of experiment `id` with its ▶ Run button, then check each step counts as done.
fn do_experiment_with_buttons(h: &mut Harness<'static, MigralabApp>, id: &str) {
    let exp = migralab_course::experiments::experiments()
        .iter()
        .find(|e| e.id == id)
        .unwrap()
        .clone();
    h.state_mut().state.experiments.selected = id.to_string();
    h.run();
    let with_command: Vec<_> = exp.steps.iter().filter(|s| s.command.is_some()).collect();
    for idx in 0..with_command.len() {
        // The n-th ▶ Run button belongs to the n-th step that has a command.
        h.query_all_by_label("⏵ Run")
            .nth(idx)
            .unwrap()
            .click_accesskit();
        settle(h);
    }
    let done = migralab_app::gui::experiments::steps_done(&exp, &h.state().state, &h.state().lab);
    let done_with_command: Vec<bool> = exp
        .steps
        .iter()
        .zip(&done)
        .filter(|(s, _)| s.command.is_some())
        .map(|(_, d)| *d)
        .collect();
    assert!(done_with_command.iter().all(|d| *d), "{id}: {done:?}");
}

#[test]
fn experiment_1_can_be_done_with_the_step_buttons_and_the_observation_reveals_the_explanation() {
    let mut h = harness(app(Tab::Experiments, Lang::En));
    h.run();
    do_experiment_with_buttons(&mut h, "exp1");
    // Write the observation, then the explanation shows the measured numbers.
    let obs = h.get_by_role_and_label(egui::Role::TextInput, "Observation");
    obs.focus();
    obs.type_text("The ping stopped only briefly; copying the disk took much longer.");
    h.run();
    h.state_mut().state.student = "Ana Putri".into();
    h.get_by_label("Show the explanation").click_accesskit();
    h.run();
    // Handing in the observation keeps it in the student's progress profile.
    let dir = h.state().shared.data_dir.clone().unwrap();
    let profile = migralab_app::progress::ProfileStore::new(&dir)
        .load("Ana Putri")
        .unwrap()
        .value;
    assert_eq!(profile.observations.len(), 1);
    assert_eq!(profile.observations[0].experiment, "exp1");
    assert!(profile.observations[0].text.contains("ping stopped"));
    let s = h.state();
    assert!(s.state.experiments.revealed.contains(&"exp1".to_string()));
    assert!(
        s.state.experiments.observations["exp1"].contains("ping stopped"),
        "observations are kept in the persisted state"
    );
    let exp = migralab_course::experiments::experiments()
        .iter()
        .find(|e| e.id == "exp1")
        .unwrap();
    let values = migralab_app::gui::experiments::placeholder_values(exp, &s.lab, Lang::En);
    assert!(
        values.contains_key("downtime_ms_a") && values.contains_key("disk_gib_b"),
        "{values:?}"
    );
    // The shown explanation has the numbers, not the placeholders.
    let shown = migralab_course::experiments::fill_placeholders(&exp.explanation.en, &values);
    assert!(!shown.contains("{downtime_ms_a}"));
    // Code spans lose their backticks on screen.
    let on_screen = shown.replace('`', "");
    assert!(h.query_by_label(on_screen.as_str()).is_some());
}

#[test]
fn experiment_2_passthrough_fails_late_host_model_is_refused_and_the_baseline_migrates() {
    let mut h = harness(app(Tab::Experiments, Lang::En));
    h.run();
    do_experiment_with_buttons(&mut h, "exp2");
    let runs = &h.state().lab.runs;
    let error_of = |vm: &str| {
        let run = runs
            .iter()
            .find(|r| r.vm == vm)
            .unwrap_or_else(|| panic!("no run of {vm}"));
        match run.outcome().unwrap() {
            migralab_sim_core::Outcome::Failed { error, at_ms } => (error.to_string(), *at_ms),
            other => panic!("{vm}: {other:?}"),
        }
    };
    let (passthrough, late) = error_of("app01");
    assert!(
        passthrough.contains("Failed to set special registers"),
        "{passthrough}"
    );
    let (host_model, early) = error_of("web01");
    assert!(
        host_model.contains("guest CPU doesn't match specification"),
        "{host_model}"
    );
    assert!(
        late > early,
        "host-passthrough fails after the copy: {late} vs {early} ms"
    );
    assert!(runs.iter().any(|r| r.outcome().unwrap().is_completed()));
}

/// Experiment 3 end to end: the migration that does not converge in the background,
/// `virsh domjobinfo` while it runs, `virsh domjobabort` cancelling it; a foreground migration
/// typed by hand and cancelled by Ctrl-C at the time the playback shows; then every other step
/// by its button, the observation and the explanation with the student's numbers.
#[test]
fn experiment_3_reads_domjobinfo_and_cancels_at_the_shown_time_then_compares_the_remedies() {
    use migralab_app::sessions::lab::Playback;
    use migralab_sim_core::Outcome;
    let mut a = app(Tab::Experiments, Lang::En);
    a.state.lab.speed = Speed::X10;
    let mut h = harness(a);
    h.run();
    h.state_mut().state.experiments.selected = "exp3".into();
    h.run();
    assert!(
        h.query_by_label("Reading domjobinfo").is_some(),
        "the domjobinfo panel is offered"
    );
    let run_step = |h: &mut Harness<'static, MigralabApp>, i: usize| {
        h.query_all_by_label("⏵ Run")
            .nth(i)
            .unwrap()
            .click_accesskit();
    };
    let last_output = |h: &Harness<'static, MigralabApp>| {
        let session = h.state().lab.session.as_ref().unwrap();
        session
            .terminal()
            .last()
            .unwrap()
            .output
            .clone()
            .unwrap_or_default()
    };
    // The output of the newest line typed that starts with `input` (a background job's
    // progress comes between the prompts as entries of their own).
    let output_of = |h: &Harness<'static, MigralabApp>, input: &str| {
        let session = h.state().lab.session.as_ref().unwrap();
        session
            .terminal()
            .iter()
            .rev()
            .find(|e| e.input.starts_with(input))
            .and_then(|e| e.output.clone())
            .unwrap_or_default()
    };
    // Step 1: the migration in the background; the terminal is free at once.
    run_step(&mut h, 0);
    settle(&mut h);
    assert!(last_output(&h).starts_with("[1] "), "{}", last_output(&h));
    assert!(h.state().lab.runs.is_empty(), "still running");
    // The job runs in lab time as the frames pass.
    for _ in 0..20 {
        h.step();
    }
    // Step 2 while it runs.
    run_step(&mut h, 1);
    settle(&mut h);
    let info = output_of(&h, "virsh domjobinfo db01");
    assert!(info.contains("Job type:         Unbounded"), "{info}");
    assert!(info.contains("Iteration:"), "{info}");
    // Step 3: cancelled in the background, where it was; db01 stays on kvm-host-01.
    run_step(&mut h, 2);
    settle(&mut h);
    {
        let lab = &h.state().lab;
        assert_eq!(lab.runs.len(), 1, "{:?}", last_output(&h));
        match lab.runs[0].outcome().unwrap() {
            Outcome::Aborted { at_ms } => assert!(*at_ms > 0, "{at_ms}"),
            other => panic!("{other:?}"),
        }
        let session = lab.session.as_ref().unwrap();
        assert_eq!(session.world().running_on("db01"), Some("kvm-host-01"));
        let all: String = session
            .terminal()
            .iter()
            .filter_map(|e| e.output.clone())
            .collect();
        assert!(
            all.contains("operation aborted: job 'migration out' canceled by client"),
            "{all}"
        );
    }
    // A migration in the foreground, typed by hand: its playback, and Ctrl-C at 30 s.
    let input = h.get_by_label("Terminal command line");
    input.focus();
    input.type_text("virsh migrate --live --verbose db01 qemu+ssh://kvm-host-02/system");
    h.run();
    h.key_press(egui::Key::Enter);
    settle_playing(&mut h);
    let watched = h.state().lab.runs[1].clone();
    assert_eq!(watched.outcome().unwrap().status(), "not-converged");
    assert!(h.state().lab.is_playing(watched.id));
    // domjobinfo typed while it plays answers for the moment shown, like a second terminal.
    h.state_mut().lab.playback = Some(Playback {
        run: watched.id,
        cursor_s: 15.0,
        paused: true,
    });
    run_step(&mut h, 1);
    settle(&mut h);
    let info = last_output(&h);
    assert!(info.starts_with("Job type:         Unbounded"), "{info}");
    assert!(info.contains("Time elapsed:     15"), "{info}");
    h.state_mut().lab.playback = Some(Playback {
        run: watched.id,
        cursor_s: 30.0,
        // Paused, so the frames before the click reaches the lab do not move the shown time.
        paused: true,
    });
    h.get_by_label("Ctrl-C").click();
    settle(&mut h);
    {
        let lab = &h.state().lab;
        assert_eq!(lab.runs.len(), 2, "the run is replaced, not added");
        let cancelled = &lab.runs[1];
        assert_eq!(cancelled.id, watched.id);
        match cancelled.outcome().unwrap() {
            Outcome::Aborted { at_ms } => assert!((30_000..30_100).contains(at_ms), "{at_ms}"),
            other => panic!("{other:?}"),
        }
        assert!(cancelled.series.end_s < 35.0, "the plots stop at the abort");
        let session = lab.session.as_ref().unwrap();
        assert_eq!(session.world().running_on("db01"), Some("kvm-host-01"));
        let out = session
            .terminal()
            .iter()
            .rev()
            .find(|e| e.input.starts_with("virsh migrate --live --verbose db01"))
            .and_then(|e| e.output.clone())
            .unwrap();
        assert!(
            out.contains("^C\nerror: operation aborted: job 'migration out' canceled by client"),
            "{out}"
        );
    }
    h.state_mut().state.lab.speed = Speed::Instant;
    h.run();
    // The remaining steps by their buttons: the checks and the knobs.
    for i in 3..8 {
        run_step(&mut h, i);
        settle(&mut h);
    }
    let exp = migralab_course::experiments::experiments()
        .iter()
        .find(|e| e.id == "exp3")
        .unwrap();
    let done = migralab_app::gui::experiments::steps_done(exp, &h.state().state, &h.state().lab);
    assert!(done.iter().all(|d| *d), "{done:?}");
    let verify = h
        .state()
        .lab
        .session
        .as_ref()
        .map(|s| s.scenario_name.clone());
    assert_eq!(verify.as_deref(), Some("busy-db-postcopy"));
    // The observation reveals the explanation, filled from the runs.
    let obs = h.get_by_role_and_label(egui::Role::TextInput, "Observation");
    obs.focus();
    obs.type_text("It never converged; auto-converge slowed the VM, post-copy moved it at once.");
    h.run();
    h.get_by_label("Show the explanation").click_accesskit();
    h.run();
    let values = migralab_app::gui::experiments::placeholder_values(exp, &h.state().lab, Lang::En);
    for key in [
        "aborted_after_s_a",
        "iterations_a",
        "throttle_pct_b",
        "total_s_b",
        "downtime_ms_b",
        "total_s_c",
        "downtime_ms_c",
        "postcopy_faults_c",
    ] {
        assert!(values.contains_key(key), "{key}: {values:?}");
    }
    // The newest cancelled run counts: the bandwidth step's, cancelled after 10 s.
    assert_eq!(values["aborted_after_s_a"], "10.0");
    let number = |k: &str| values[k].parse::<f64>().unwrap();
    assert!(number("throttle_pct_b") >= 20.0, "{values:?}");
    assert!(number("postcopy_faults_c") > 0.0, "{values:?}");
    assert!(
        number("downtime_ms_c") < number("downtime_ms_b"),
        "{values:?}"
    );
    let shown = migralab_course::experiments::fill_placeholders(&exp.explanation.en, &values);
    assert!(!shown.contains('{'), "{shown}");
    assert!(h.query_by_label(shown.replace('`', "").as_str()).is_some());
}

/// `virsh migrate ... &`: lab time follows the wall clock at the playback speed while the
/// student only watches, so the job's progress lines come and `virsh domjobinfo` sees it move.
#[test]
fn a_background_migration_runs_while_the_student_watches() {
    let mut a = app(Tab::Lab, Lang::En);
    a.state.lab.speed = Speed::X10;
    a.state.lab.scenario = "busy-db-no-converge".into();
    let mut h = harness(a);
    h.run();
    let input = h.get_by_label("Terminal command line");
    input.focus();
    input.type_text("virsh migrate --live --verbose db01 qemu+ssh://kvm-host-02/system &");
    h.run();
    h.key_press(egui::Key::Enter);
    settle(&mut h);
    let start = h.state().lab.session.as_ref().unwrap().now();
    // Twenty frames (kittest's are a tenth of a second): at ×10 the lab moves on by about 20 s,
    // short of the lab's 120 s cap for a migration that never ends.
    for _ in 0..20 {
        h.step();
    }
    h.state_mut().lab.wait_idle();
    h.step();
    let session = h.state().lab.session.as_ref().unwrap();
    assert_eq!(session.scenario_name, "busy-db-no-converge");
    let moved = session.now().since(start).as_millis();
    assert!(session.jobs_running(), "moved {moved} ms");
    assert!(moved >= 10_000, "the lab moved on {moved} ms");
    let printed = session
        .terminal()
        .iter()
        .filter(|e| e.is_output_only())
        .filter_map(|e| e.output.clone())
        .collect::<String>();
    assert!(printed.contains("Migration: ["), "{printed}");
    assert!(
        h.query_all_by_label_contains("Migration: [").count() > 0,
        "shown"
    );
}

#[test]
fn a_lab_report_is_exported_from_the_lab_tab() {
    let mut a = app(Tab::Lab, Lang::En);
    let dir = fresh_dir("gui");
    a.lab.export_dir = Some(dir.clone());
    let mut h = harness(a);
    h.run();
    h.get_by_label("⏵ Run in the terminal").click();
    settle(&mut h);
    h.get_by_label("Lab report (HTML)").click_accesskit();
    h.step();
    h.state_mut().lab.wait_export();
    h.run();
    let status = h.state().lab.export_status.clone().unwrap();
    assert!(status.starts_with("Saved:"), "{status}");
    let html = std::fs::read_to_string(dir.join("laporan-lab.html")).unwrap();
    assert!(html.contains("<svg"));
    assert!(html.contains("virsh migrate --live --persistent db01"));
    h.get_by_label("Plot images (PNG + SVG)").click_accesskit();
    h.step();
    h.state_mut().lab.wait_export();
    let pngs = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count();
    assert_eq!(pngs, 4, "one PNG per figure");
    h.get_by_label("Data (CSV + JSON)").click_accesskit();
    h.step();
    h.state_mut().lab.wait_export();
    let json = std::fs::read_to_string(dir.join("run-1.json")).unwrap();
    let trace = migralab_sim_core::Trace::from_json(&json).unwrap();
    assert_eq!(trace.events, h.state().lab.runs[0].trace.events);
}

#[test]
fn the_instructors_visibility_list_hides_lessons_and_experiments() {
    let a = app(Tab::Experiments, Lang::En);
    let dir = a.shared.data_dir.clone().unwrap();
    std::fs::write(
        dir.join("instructor.toml"),
        "format = 1\nmode_locked = \"simulated\"\n[visible]\nlessons = []\nexperiments = [\"exp2-cpu-models\"]\n",
    )
    .unwrap();
    let mut h = harness(a);
    h.run();
    let exp2 = migralab_course::experiments::experiments()
        .iter()
        .find(|e| e.id == "exp2")
        .unwrap();
    let exp1 = migralab_course::experiments::experiments()
        .iter()
        .find(|e| e.id == "exp1")
        .unwrap();
    assert!(h.query_all_by_label(exp2.title.en.as_str()).count() > 0);
    assert_eq!(
        h.query_all_by_label(exp1.title.en.as_str()).count(),
        0,
        "exp1 is hidden"
    );
    h.state_mut().state.tab = Tab::Lesson;
    h.run();
    assert!(
        h.query_by_label("The instructor has hidden this part.")
            .is_some()
    );
}

// ---- a few pictures (software renderer; `UPDATE_SNAPSHOTS=true` rewrites them) --------------

#[test]
fn snapshot_lab_after_the_lessons_migration() {
    let mut h = harness_sized(app(Tab::Lab, Lang::Id), egui::vec2(1280.0, 720.0));
    h.run();
    h.get_by_label("⏵ Jalankan di terminal").click();
    settle(&mut h);
    h.snapshot("lab_after_migration");
}

#[test]
fn snapshot_lesson_at_200_percent_zoom_in_english() {
    let mut a = app(Tab::Lesson, Lang::En);
    a.state.zoom = 2.0;
    // A 1280×720 window at 200 %.
    let mut h = harness_sized(a, egui::vec2(640.0, 360.0));
    h.run();
    h.snapshot("lesson_zoom_200_en");
}

#[test]
fn snapshot_lab_at_200_percent_zoom_stacks_its_columns() {
    let mut a = app(Tab::Lab, Lang::Id);
    a.state.zoom = 2.0;
    // A 1280×720 window at 200 %.
    let mut h = harness_sized(a, egui::vec2(640.0, 360.0));
    h.run();
    // Everything is still reachable: the form's run button and the terminal.
    assert!(h.query_by_label("⏵ Jalankan di terminal").is_some());
    assert!(h.query_by_label("Baris perintah terminal").is_some());
    h.snapshot("lab_zoom_200_id");
}

#[test]
fn issue_5_extra_scenario_folders_are_offered_and_a_broken_file_is_named_with_its_line() {
    let a = app(Tab::Lab, Lang::En);
    let data = a.shared.data_dir.clone().unwrap();
    let extra = data.join("my-scenarios");
    std::fs::create_dir_all(&extra).unwrap();
    let lesson = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/lesson.toml"),
    )
    .unwrap();
    std::fs::write(
        extra.join("class-a.toml"),
        lesson.replace("name = \"lesson\"", "name = \"class-a\""),
    )
    .unwrap();
    std::fs::write(
        extra.join("broken.toml"),
        "name = \"x\"\nseed = 1\nbogus = 3\n",
    )
    .unwrap();
    std::fs::write(
        data.join("instructor.toml"),
        format!(
            "format = 1\nscenario_dirs = [{:?}]\n",
            extra.display().to_string()
        ),
    )
    .unwrap();
    let mut h = harness(a);
    h.run();
    let open = |h: &mut Harness<'static, MigralabApp>, file: &str| {
        let path = extra.join(file).display().to_string();
        if h.query_by_label(path.as_str()).is_none() {
            h.get_by_role_and_label(egui::Role::ComboBox, "Scenario:")
                .click();
            h.run();
        }
        h.get_by_label(path.as_str()).click_accesskit();
        h.run();
    };
    open(&mut h, "broken.toml");
    let err = h.state().lab.open_error.clone().unwrap();
    assert!(err.contains("broken.toml:3:1"), "{err}");
    assert_eq!(
        h.state().lab.session.as_ref().unwrap().scenario_name,
        "lesson",
        "the lab that worked stays open"
    );
    open(&mut h, "class-a.toml");
    assert!(h.state().lab.open_error.is_none());
    assert!(
        h.state()
            .lab
            .session
            .as_ref()
            .unwrap()
            .scenario_name
            .ends_with("class-a.toml")
    );
}

#[test]
fn playback_holds_the_commands_output_until_the_run_is_played_and_steps_by_iteration() {
    let mut a = app(Tab::Lab, Lang::En);
    a.state.lab.speed = Speed::X10;
    let mut h = harness(a);
    h.run();
    h.state_mut().state.lab.form.verbose = true;
    h.step();
    h.get_by_label("⏵ Run in the terminal").click();
    settle_playing(&mut h);
    let id = h.state().lab.runs[0].id;
    assert!(
        h.state().lab.is_playing(id),
        "played back, not shown at once"
    );
    assert!(h.query_by_label_contains("(playback)").is_some());
    assert!(h.query_by_label_contains("Migration: [100.00 %]").is_none());
    // Step to the next iteration: paused on a dirty-bitmap sync.
    h.get_by_label("⏭").click();
    h.step();
    h.step();
    let p = h.state().lab.playback.unwrap();
    assert!(p.paused);
    let iterations = &h.state().lab.runs[0].series.iterations;
    assert!(
        iterations.iter().any(|t| (t - p.cursor_s).abs() < 1e-9),
        "{p:?}"
    );
    // Instant playback, resume: the run ends and virsh's output appears.
    h.get_by_label("instant").click();
    h.step();
    h.get_by_label("⏵").click();
    h.run();
    assert!(!h.state().lab.is_playing(id));
    assert!(h.query_by_label_contains("Migration: [100.00 %]").is_some());
}

/// Like `settle`, but a run then plays back (the UI keeps repainting): a few frames, no `run()`.
fn settle_playing(h: &mut Harness<'static, MigralabApp>) {
    h.step();
    h.state_mut().lab.wait_idle();
    for _ in 0..3 {
        h.step();
    }
}
