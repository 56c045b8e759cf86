//! The Experiments tab (Sesi 2): guided activities over the lab. Each experiment has a
//! hypothesis, steps (done by the step's button or by typing the command: both reach the same
//! terminal, and completion is judged from what happened in the lab), an observation the student
//! writes, and the explanation, filled with the student's own measured numbers.

use super::LabRuntime;
use super::command::Command;
use super::lab;
use super::state::AppState;
use super::widgets;
use crate::sessions::lab::RunRecord;
use crate::tr;
use migralab_course::experiments::{self as content, Experiment, LabFacts, RunFact};
use migralab_sim_core::Outcome;
use migralab_sim_core::lang::Lang;
use migralab_sim_core::trace::TraceKind;
use std::collections::BTreeMap;

/// Is `exp` on the instructor's `[visible] experiments` list (by its id or the name of a scenario
/// it uses)? No list: every experiment is.
pub fn is_visible(exp: &Experiment, visible: Option<&[String]>) -> bool {
    visible.is_none_or(|v| {
        v.iter().any(|name| {
            *name == exp.id
                || exp
                    .steps
                    .iter()
                    .any(|s| s.scenario.as_deref() == Some(name.as_str()))
        })
    })
}

/// What happened in the lab, as the experiments judge it.
pub fn run_facts(lab: &LabRuntime) -> Vec<RunFact> {
    lab.runs.iter().map(|r| r.fact(&r.scenario)).collect()
}

/// Which steps of `exp` are done (computed now, or remembered from an earlier session).
pub fn steps_done(exp: &Experiment, state: &AppState, lab: &LabRuntime) -> Vec<bool> {
    let runs = run_facts(lab);
    let facts = LabFacts {
        typed: &lab.typed,
        runs: &runs,
    };
    let remembered = state.experiments.done.get(&exp.id);
    exp.steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            remembered.is_some_and(|d| d.contains(&step.id))
                || exp
                    .step_scenario(i)
                    .is_some_and(|sc| content::step_done(&step.done, sc, &facts))
        })
        .collect()
}

/// The newest run that satisfies step `step_id` of `exp`.
pub fn run_of_step<'a>(
    exp: &Experiment,
    step_id: &str,
    lab: &'a LabRuntime,
) -> Option<&'a RunRecord> {
    let i = exp.steps.iter().position(|s| s.id == step_id)?;
    let scenario = exp.step_scenario(i)?;
    let done = &exp.steps[i].done;
    lab.runs.iter().rev().find(|r| {
        let fact = [r.fact(&r.scenario)];
        content::step_done(
            done,
            scenario,
            &LabFacts {
                typed: &[],
                runs: &fact,
            },
        )
    })
}

/// A number with `decimals` decimals, with the language's decimal separator.
pub fn number(lang: Lang, x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    match lang {
        Lang::Id => s.replace('.', ","),
        Lang::En => s,
    }
}

/// The placeholder values of `exp`'s explanation from the student's compared runs.
pub fn placeholder_values(
    exp: &Experiment,
    lab: &LabRuntime,
    lang: Lang,
) -> BTreeMap<String, String> {
    formatted(&measured_values(exp, lab), lang)
}

/// What the student's compared runs of `exp` measured, by placeholder name: `downtime_ms_a`,
/// `total_s_a`, `disk_gib_a`, `failed_after_s_a`, `lost_pings_a` (and `_b`). Kept with the
/// observation in the profile, so the instructor sees each student's numbers.
pub fn measured_values(exp: &Experiment, lab: &LabRuntime) -> BTreeMap<String, f64> {
    let Some(cmp) = &exp.compare else {
        return BTreeMap::new();
    };
    let mut values = measured_of_runs(run_of_step(exp, &cmp.a, lab), run_of_step(exp, &cmp.b, lab));
    if let Some(c) = cmp.c.as_deref().and_then(|id| run_of_step(exp, id, lab)) {
        measure_run(&mut values, "c", c);
    }
    values
}

/// The placeholder values from the compared runs `a` and `b` (simulated or real alike).
pub fn values_of_runs(
    a: Option<&RunRecord>,
    b: Option<&RunRecord>,
    lang: Lang,
) -> BTreeMap<String, String> {
    formatted(&measured_of_runs(a, b), lang)
}

/// The measured numbers as the explanation shows them: whole milliseconds and pings, one
/// decimal otherwise, with the language's decimal separator.
pub fn formatted(measured: &BTreeMap<String, f64>, lang: Lang) -> BTreeMap<String, String> {
    measured
        .iter()
        .map(|(k, v)| {
            let whole = [
                "downtime_ms",
                "lost_pings",
                "iterations",
                "throttle_pct",
                "postcopy_faults",
            ];
            let text = if whole.iter().any(|w| k.starts_with(w)) {
                format!("{v:.0}")
            } else {
                number(lang, *v, 1)
            };
            (k.clone(), text)
        })
        .collect()
}

/// What the compared runs `a` and `b` measured, by placeholder name.
pub fn measured_of_runs(a: Option<&RunRecord>, b: Option<&RunRecord>) -> BTreeMap<String, f64> {
    let mut values = BTreeMap::new();
    for (suffix, run) in [("a", a), ("b", b)] {
        if let Some(run) = run {
            measure_run(&mut values, suffix, run);
        }
    }
    values
}

/// What `run` measured, under the placeholder names ending in `_{suffix}`.
pub fn measure_run(values: &mut BTreeMap<String, f64>, suffix: &str, run: &RunRecord) {
    match run.outcome() {
        Some(Outcome::Completed {
            total_ms,
            downtime_ms,
            disk_bytes,
            iterations,
            ..
        }) => {
            values.insert(format!("downtime_ms_{suffix}"), *downtime_ms as f64);
            values.insert(format!("total_s_{suffix}"), *total_ms as f64 / 1000.0);
            values.insert(
                format!("disk_gib_{suffix}"),
                *disk_bytes as f64 / f64::from(1u32 << 30),
            );
            values.insert(format!("iterations_{suffix}"), *iterations as f64);
        }
        Some(Outcome::Failed { at_ms, .. }) => {
            values.insert(format!("failed_after_s_{suffix}"), *at_ms as f64 / 1000.0);
        }
        Some(Outcome::Aborted { at_ms }) => {
            values.insert(format!("aborted_after_s_{suffix}"), *at_ms as f64 / 1000.0);
        }
        _ => {}
    }
    values.insert(
        format!("lost_pings_{suffix}"),
        run.series.lost_pings() as f64,
    );
    // The job's own counters, as `virsh domjobinfo` showed them while it ran: the last
    // "Iteration" and "Postcopy requests", the highest "Auto converge throttle".
    let samples = run.trace.events.iter().filter_map(|e| match &e.kind {
        TraceKind::Progress(p) if e.source == run.vm => Some(p),
        _ => None,
    });
    let (mut iteration, mut throttle, mut faults) = (None, 0u8, 0u64);
    for p in samples {
        iteration = Some(p.iteration);
        throttle = throttle.max(p.throttle_pct);
        faults = faults.max(p.postcopy_requests);
    }
    if let Some(i) = iteration {
        values
            .entry(format!("iterations_{suffix}"))
            .or_insert(i as f64);
    }
    values.insert(format!("throttle_pct_{suffix}"), f64::from(throttle));
    values.insert(format!("postcopy_faults_{suffix}"), faults as f64);
}

/// The Experiments tab: the guide on the left, the lab (terminal, playback, plots) on the right.
pub fn experiments_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    lab: &mut LabRuntime,
    visible: Option<&[String]>,
    cmds: &mut Vec<Command>,
) {
    let lang = state.lang;
    let all: Vec<&Experiment> = content::experiments()
        .iter()
        .filter(|e| is_visible(e, visible))
        .collect();
    if all.is_empty() {
        ui.label(tr!(lang, "exp-none"));
        return;
    }
    if !all.iter().any(|e| e.id == state.experiments.selected) {
        state.experiments.selected = all[0].id.clone();
    }
    egui::Panel::left("exp_guide")
        .resizable(true)
        .default_size(470.0)
        .min_size(320.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("exp_guide_scroll")
                .show(ui, |ui| {
                    ui.horizontal_wrapped(|ui| {
                        for e in &all {
                            let selected = state.experiments.selected == e.id;
                            if ui.selectable_label(selected, lang.pick(&e.title)).clicked() {
                                state.experiments.selected = e.id.clone();
                            }
                        }
                    });
                    ui.separator();
                    if let Some(exp) = all.iter().find(|e| e.id == state.experiments.selected) {
                        guide_ui(ui, exp, state, lab, cmds);
                    }
                });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        if let Some(s) = &lab.session {
            ui.label(
                egui::RichText::new(format!("{} {}", tr!(lang, "lab-scenario"), s.scenario_name))
                    .strong(),
            );
        }
        lab::terminal::terminal_ui(ui, lang, lab, cmds, 150.0);
        lab::lab_main_ui(ui, state, lab, cmds, false);
    });
}

fn guide_ui(
    ui: &mut egui::Ui,
    exp: &Experiment,
    state: &mut AppState,
    lab: &LabRuntime,
    cmds: &mut Vec<Command>,
) {
    let lang = state.lang;
    header_ui(ui, exp, lang);
    let done = steps_done(exp, state, lab);
    remember_done(&mut state.experiments.done, exp, &done);
    let current = lab
        .session
        .as_ref()
        .map(|s| s.scenario_name.clone())
        .unwrap_or_default();
    let busy = lab.session.as_ref().is_some_and(|s| s.is_busy());
    // The domjobinfo panel goes under the first step that reads it.
    let help_at = super::jobinfo_help::first_domjobinfo_step(exp);
    for (i, step) in exp.steps.iter().enumerate() {
        step_row_ui(ui, done[i], lang.pick(&step.text), |ui| {
            sim_step_buttons_ui(ui, lang, exp, i, &current, busy, cmds);
        });
        if help_at == Some(i) {
            super::jobinfo_help::jobinfo_help_ui(ui, lang);
        }
    }
    if let Some(cmp) = &exp.compare
        && let (Some(a), Some(b)) = (run_of_step(exp, &cmp.a, lab), run_of_step(exp, &cmp.b, lab))
    {
        compare_button_ui(ui, lang, a.id, b.id, cmds);
    }
    let measured = measured_values(exp, lab);
    conclusion_ui(
        ui,
        exp,
        state,
        lab.observation_status.as_deref(),
        &measured,
        cmds,
    );
}

/// The experiment's title, hypothesis and the steps' heading.
pub fn header_ui(ui: &mut egui::Ui, exp: &Experiment, lang: Lang) {
    ui.heading(lang.pick(&exp.title));
    ui.label(egui::RichText::new(tr!(lang, "exp-hypothesis")).strong());
    widgets::text_with_code(ui, lang.pick(&exp.hypothesis));
    ui.add_space(6.0);
    ui.label(egui::RichText::new(tr!(lang, "exp-steps")).strong());
}

/// Remember what is done, so a restart keeps the progress.
pub fn remember_done(
    remembered: &mut BTreeMap<String, Vec<String>>,
    exp: &Experiment,
    done: &[bool],
) {
    let list = remembered.entry(exp.id.clone()).or_default();
    for (step, d) in exp.steps.iter().zip(done) {
        if *d && !list.contains(&step.id) {
            list.push(step.id.clone());
        }
    }
}

/// One step: its mark, its text, and what `buttons` adds under the text.
pub fn step_row_ui(ui: &mut egui::Ui, done: bool, text: &str, buttons: impl FnOnce(&mut egui::Ui)) {
    ui.horizontal_top(|ui| {
        let mark = if done { "✔" } else { "○" };
        ui.label(egui::RichText::new(mark).strong());
        ui.vertical(|ui| {
            widgets::text_with_code(ui, text);
            ui.horizontal_wrapped(buttons);
        });
    });
}

/// A step's buttons in the simulated lab: open its scenario, type its command.
pub fn sim_step_buttons_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    exp: &Experiment,
    i: usize,
    current: &str,
    busy: bool,
    cmds: &mut Vec<Command>,
) {
    let step = &exp.steps[i];
    let scenario = exp.step_scenario(i).unwrap_or_default().to_string();
    if let Some(sc) = &step.scenario
        && *sc != current
        && ui
            .button(tr!(lang, "exp-open-lab", scenario = sc.clone()))
            .clicked()
    {
        cmds.push(Command::OpenScenario(sc.clone()));
    }
    if let Some(line) = &step.command {
        let label = tr!(lang, "exp-run-step");
        if ui
            .add_enabled(!busy, egui::Button::new(label))
            .on_hover_text(egui::RichText::new(line).monospace())
            .clicked()
        {
            if scenario != current {
                cmds.push(Command::OpenScenario(scenario.clone()));
            }
            cmds.push(Command::RunLine(line.clone()));
        }
        ui.label(egui::RichText::new(line).monospace().small());
    }
}

/// "Compare the two runs": play `a` with `b` overlaid.
pub fn compare_button_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    a: crate::sessions::lab::RunId,
    b: crate::sessions::lab::RunId,
    cmds: &mut Vec<Command>,
) {
    if ui
        .button(tr!(lang, "exp-compare"))
        .on_hover_text(tr!(lang, "exp-compare-hover"))
        .clicked()
    {
        cmds.push(Command::Play(a));
        cmds.push(Command::Compare(Some(b)));
    }
}

/// The observation the student writes, handing it in, and the explanation filled with
/// the `measured` numbers once it is revealed (they are handed in with the observation).
pub fn conclusion_ui(
    ui: &mut egui::Ui,
    exp: &Experiment,
    state: &mut AppState,
    observation_status: Option<&str>,
    measured: &BTreeMap<String, f64>,
    cmds: &mut Vec<Command>,
) {
    let lang = state.lang;
    ui.add_space(6.0);
    ui.label(egui::RichText::new(tr!(lang, "exp-observation")).strong());
    widgets::text_with_code(ui, lang.pick(&exp.observation));
    let text = state
        .experiments
        .observations
        .entry(exp.id.clone())
        .or_default();
    ui.add(
        egui::TextEdit::multiline(text)
            .desired_rows(4)
            .desired_width(f32::INFINITY)
            .hint_text(tr!(lang, "exp-observation-hint")),
    )
    .widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::TextInput, true, tr!(lang, "exp-observation"))
    });
    let written = text.trim().chars().count() >= 10;
    let revealed = state.experiments.revealed.contains(&exp.id);
    let text = text.clone();
    ui.horizontal_wrapped(|ui| {
        ui.label(tr!(lang, "exp-student"));
        ui.add(egui::TextEdit::singleline(&mut state.student).desired_width(160.0))
            .widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::TextInput, true, tr!(lang, "exp-student"))
            });
        if ui
            .add_enabled(written, egui::Button::new(tr!(lang, "exp-save")))
            .on_hover_text(tr!(lang, "exp-save-hover"))
            .clicked()
        {
            cmds.push(Command::RecordObservation {
                experiment: exp.id.clone(),
                text: text.clone(),
                measured: measured.clone(),
            });
        }
    });
    if let Some(s) = observation_status {
        ui.label(egui::RichText::new(s).small());
    }
    if !revealed {
        let resp = ui.add_enabled(written, egui::Button::new(tr!(lang, "exp-reveal")));
        if !written {
            resp.on_disabled_hover_text(tr!(lang, "exp-reveal-why"));
        } else if resp.clicked() {
            state.experiments.revealed.push(exp.id.clone());
            // Revealing the explanation is handing the observation in: keep it in the profile.
            cmds.push(Command::RecordObservation {
                experiment: exp.id.clone(),
                text,
                measured: measured.clone(),
            });
        }
    } else {
        ui.label(egui::RichText::new(tr!(lang, "exp-explanation")).strong());
        widgets::text_with_code(
            ui,
            &content::fill_placeholders(lang.pick(&exp.explanation), &formatted(measured, lang)),
        );
    }
}
