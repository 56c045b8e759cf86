//! The Lab tab: the topology, the migration form, the terminal, playback and the live plots.

pub mod export;
pub mod form;
pub mod plots;
pub mod terminal;
pub mod topology;
pub mod whatif;

use super::LabRuntime;
use super::command::{Command, ExportWhat};
use super::state::AppState;
use crate::sessions::lab::{RunRecord, Speed};
use crate::tr;
use migralab_sim_core::lang::Lang;
use migralab_sim_core::preflight::{CheckStatus, PreflightReport, preflight};
use migralab_sim_core::{Outcome, Phase};

/// Below this width (points) the Lab tab stacks its two columns.
const NARROW: f32 = 820.0;

/// The Lab tab.
pub fn lab_tab_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    lab: &mut LabRuntime,
    extra_dirs: &[std::path::PathBuf],
    cmds: &mut Vec<Command>,
) {
    let lang = state.lang;
    scenario_bar_ui(ui, lang, state, lab, extra_dirs, cmds);
    ui.separator();
    if ui.available_width() < NARROW {
        // Large zoom or a small window: one column, the picture and the form first.
        egui::ScrollArea::vertical()
            .id_salt("lab_narrow_scroll")
            .show(ui, |ui| {
                left_column_ui(ui, state, lab, cmds);
                ui.separator();
                if state.lab.whatif {
                    whatif::whatif_ui(ui, state, lab);
                    ui.separator();
                }
                lab_main_ui(ui, state, lab, cmds, true);
            });
        return;
    }
    egui::Panel::left("lab_left")
        .resizable(true)
        .default_size(430.0)
        .min_size(300.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("lab_left_scroll")
                .show(ui, |ui| {
                    left_column_ui(ui, state, lab, cmds);
                });
        });
    if state.lab.whatif {
        egui::Panel::right("lab_whatif")
            .resizable(true)
            .default_size(390.0)
            .min_size(300.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("lab_whatif_scroll")
                    .show(ui, |ui| whatif::whatif_ui(ui, state, lab));
            });
    }
    egui::CentralPanel::default().show(ui, |ui| {
        lab_main_ui(ui, state, lab, cmds, true);
    });
}

/// Scenario picker and the scenario's title.
fn scenario_bar_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    state: &mut AppState,
    lab: &LabRuntime,
    extra_dirs: &[std::path::PathBuf],
    cmds: &mut Vec<Command>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.label(tr!(lang, "lab-scenario"));
        let current = state.lab.scenario.clone();
        let mut chosen = current.clone();
        egui::ComboBox::from_id_salt("scenario_pick")
            .selected_text(current.clone())
            .width(220.0)
            .show_ui(ui, |ui| {
                for s in crate::scenarios::SHIPPED {
                    ui.selectable_value(&mut chosen, s.name.to_string(), s.name)
                        .on_hover_text(s.about);
                }
                // The instructor's extra folders (read only while the list is open).
                for path in extra_scenarios(extra_dirs) {
                    let shown = path.display().to_string();
                    ui.selectable_value(&mut chosen, shown.clone(), shown);
                }
            })
            .response
            .widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::ComboBox, true, tr!(lang, "lab-scenario"))
            });
        if chosen != current {
            cmds.push(Command::OpenScenario(chosen));
        }
        if ui
            .button(tr!(lang, "lab-reset"))
            .on_hover_text(tr!(lang, "lab-reset-hover"))
            .clicked()
        {
            cmds.push(Command::OpenScenario(current));
        }
        ui.toggle_value(&mut state.lab.whatif, tr!(lang, "whatif-toggle"))
            .on_hover_text(tr!(lang, "whatif-toggle-hover"));
        if let Some(s) = &lab.session {
            ui.label(egui::RichText::new(lang.pick(&s.scenario().title)).italics());
        }
    });
    if let Some(s) = &lab.session
        && !s.scenario().teaches.en.is_empty()
    {
        ui.collapsing(tr!(lang, "lab-teaches"), |ui| {
            crate::gui::widgets::text_with_code(ui, lang.pick(&s.scenario().teaches));
        });
    }
    if let Some(err) = &lab.open_error {
        ui.colored_label(ui.visuals().error_fg_color, err);
    }
}

/// The `*.toml` files of the instructor's scenario folders, sorted; unreadable folders are
/// skipped (the Instructor tab reports them when the settings are saved).
pub fn extra_scenarios(dirs: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    let mut files: Vec<std::path::PathBuf> = dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|entries| entries.filter_map(Result::ok).map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Topology, what the preflight found, and the form.
fn left_column_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    lab: &mut LabRuntime,
    cmds: &mut Vec<Command>,
) {
    let lang = state.lang;
    let Some(session) = &lab.session else {
        return;
    };
    let report = preflight(session.scenario(), &state.lab.form.spec()).ok();
    let playing = lab
        .playback
        .and_then(|p| lab.run(p.run).map(|r| (r, p.cursor_s)));
    let pic = topology::Picture::of(session, playing, report.as_ref(), lang);
    topology::topology_ui(ui, &pic, lang);
    if let Some(r) = &report {
        preflight_ui(ui, lang, r, false);
    }
    ui.separator();
    form::form_ui(ui, lang, &mut state.lab.form, session, cmds);
}

/// The checks that fail, warn or could not be measured (`?`, real mode), with the evidence, the
/// fix and libvirt's message. `expanded` opens the failures (real mode: the student asked for
/// them); the others stay one click away so the list stays short.
pub(crate) fn preflight_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    report: &PreflightReport,
    expanded: bool,
) {
    let problems: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.status != CheckStatus::Pass)
        .collect();
    if problems.is_empty() {
        ui.label(
            egui::RichText::new(tr!(lang, "preflight-all-ok"))
                .color(egui::Color32::from_rgb(0x2e, 0x8b, 0x57)),
        );
        return;
    }
    for c in problems {
        let (mark, color) = match c.status {
            CheckStatus::Fail => ("×", ui.visuals().error_fg_color),
            CheckStatus::Unknown => ("?", ui.visuals().weak_text_color()),
            _ => ("!", ui.visuals().warn_fg_color),
        };
        egui::CollapsingHeader::new(
            egui::RichText::new(format!("{mark} {}", lang.pick(&c.title))).color(color),
        )
        .default_open(expanded && c.status == CheckStatus::Fail)
        .show(ui, |ui| {
            ui.label(lang.pick(&c.evidence));
            if !c.fix.en.is_empty() {
                ui.label(format!(
                    "{} {}",
                    tr!(lang, "preflight-fix"),
                    lang.pick(&c.fix)
                ));
            }
            if c.status == CheckStatus::Fail
                && let Some(e) = &c.error
            {
                ui.label(tr!(lang, "preflight-libvirt"));
                ui.label(egui::RichText::new(e.virsh_line()).monospace());
            }
        });
    }
}

/// Playback bar, progress, terminal and plots. `with_terminal` false leaves the terminal out
/// (the experiments tab shows its own).
pub fn lab_main_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    lab: &mut LabRuntime,
    cmds: &mut Vec<Command>,
    with_terminal: bool,
) {
    let lang = state.lang;
    playback_bar_ui(ui, lang, state, lab, cmds);
    progress_ui(ui, lang, lab);
    if with_terminal {
        ui.separator();
        terminal::terminal_ui(ui, lang, lab, cmds, 170.0);
    }
    ui.separator();
    let mut plots_and_export = |ui: &mut egui::Ui| {
        let shown = shown_runs(lab);
        let cursor = lab.playback.map(|p| p.cursor_s);
        plots::plots_ui(ui, lang, &shown, cursor, 120.0);
        ui.separator();
        export_ui(ui, lang, lab, cmds);
    };
    if ui.available_height().is_finite() && ui.available_height() < 10_000.0 {
        egui::ScrollArea::vertical()
            .id_salt("plots_scroll")
            .show(ui, plots_and_export);
    } else {
        // Already inside a scrolling column (narrow layout).
        plots_and_export(ui);
    }
}

/// The runs on the plots: the one playing (up to the cursor) and the compared one (whole).
pub fn shown_runs(lab: &LabRuntime) -> Vec<plots::Shown<'_>> {
    let mut shown = Vec::new();
    if let Some(p) = lab.playback
        && let Some(r) = lab.run(p.run)
    {
        shown.push(plots::Shown {
            series: &r.series,
            label: r.label(),
            until_s: p.cursor_s,
        });
    }
    if let Some(c) = lab.compare
        && lab.playback.map(|p| p.run) != Some(c)
        && let Some(r) = lab.run(c)
    {
        shown.push(plots::Shown {
            series: &r.series,
            label: r.label(),
            until_s: f64::INFINITY,
        });
    }
    shown
}

/// Which run, play/pause, speed, step by iteration, compare.
fn playback_bar_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    state: &mut AppState,
    lab: &mut LabRuntime,
    cmds: &mut Vec<Command>,
) {
    ui.horizontal_wrapped(|ui| {
        let current = lab.playback.map(|p| p.run);
        let label_of = |id| {
            lab.run(id)
                .map(RunRecord::label)
                .unwrap_or_else(|| tr!(lang, "runs-none"))
        };
        egui::ComboBox::from_id_salt("run_pick")
            .selected_text(
                current
                    .map(label_of)
                    .unwrap_or_else(|| tr!(lang, "runs-none")),
            )
            .show_ui(ui, |ui| {
                for r in lab.runs.iter().rev() {
                    if ui
                        .selectable_label(
                            current == Some(r.id),
                            format!("{} — {}", r.label(), r.command),
                        )
                        .clicked()
                    {
                        cmds.push(Command::Play(r.id));
                    }
                }
            })
            .response
            .widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::ComboBox, true, tr!(lang, "runs-label"))
            });
        let Some(p) = &mut lab.playback else {
            ui.label(tr!(lang, "runs-hint"));
            return;
        };
        let end = lab
            .runs
            .iter()
            .find(|r| r.id == p.run)
            .map_or(0.0, RunRecord::span_end_s);
        let (icon, hover) = if p.paused || p.is_done(end) {
            ("⏵", tr!(lang, "play"))
        } else {
            ("⏸", tr!(lang, "pause"))
        };
        if ui.button(icon).on_hover_text(hover.clone()).clicked() {
            if p.is_done(end) {
                p.cursor_s = 0.0;
                p.paused = false;
            } else {
                p.paused = !p.paused;
            }
        }
        if ui
            .button("⏭")
            .on_hover_text(tr!(lang, "step-iteration"))
            .clicked()
            && let Some(r) = lab.runs.iter().find(|r| r.id == p.run)
        {
            p.step_iteration(&r.series, end);
        }
        for s in Speed::ALL {
            let name = match s {
                Speed::RealTime => tr!(lang, "speed-real"),
                Speed::X10 => "×10".to_string(),
                Speed::X100 => "×100".to_string(),
                Speed::Instant => tr!(lang, "speed-instant"),
            };
            ui.selectable_value(&mut state.lab.speed, s, name);
        }
        ui.label(format!("t = {:.2} s / {:.2} s", p.cursor_s, end));
        let mut compare = lab.compare;
        egui::ComboBox::from_id_salt("compare_pick")
            .selected_text(
                compare
                    .and_then(|c| lab.run(c))
                    .map(RunRecord::label)
                    .unwrap_or_else(|| tr!(lang, "compare-none")),
            )
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut compare, None, tr!(lang, "compare-none"));
                for r in lab.runs.iter().rev() {
                    ui.selectable_value(
                        &mut compare,
                        Some(r.id),
                        format!("{} — {}", r.label(), r.scenario),
                    );
                }
            })
            .response
            .on_hover_text(tr!(lang, "compare-hover"))
            .widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::ComboBox, true, tr!(lang, "compare-label"))
            });
        if compare != lab.compare {
            cmds.push(Command::Compare(compare));
        }
    });
}

/// The progress of the playing run, and why it went backwards when it did.
pub fn progress_ui(ui: &mut egui::Ui, lang: Lang, lab: &LabRuntime) {
    let Some(p) = lab.playback else {
        return;
    };
    let Some(r) = lab.run(p.run) else {
        return;
    };
    let pts = plots::upto(&r.series.progress, p.cursor_s);
    let now = pts.last().map_or(0.0, |q| q[1]);
    let best = pts.iter().map(|q| q[1]).fold(0.0, f64::max);
    let phase = r
        .series
        .phases
        .iter()
        .take_while(|(t, _)| *t <= p.cursor_s)
        .last()
        .map(|(_, ph)| phase_name(*ph, lang))
        .unwrap_or_default();
    let text = match r.outcome() {
        Some(o) if p.is_done(r.span_end_s()) => {
            format!("{} — {}", outcome_name(o, lang), r.command)
        }
        _ => format!("{now:.1} % — {phase}"),
    };
    ui.add(egui::ProgressBar::new((now / 100.0) as f32).text(text));
    if best - now > 0.5 {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            tr!(
                lang,
                "progress-backwards",
                best = format!("{best:.1}"),
                now = format!("{now:.1}")
            ),
        );
    }
}

/// Export buttons: figures, data, lab report.
pub(crate) fn export_ui(ui: &mut egui::Ui, lang: Lang, lab: &LabRuntime, cmds: &mut Vec<Command>) {
    let has_run = lab.current_run().is_some() && lab.export_job.is_none();
    let dir = export::default_dir(lab);
    ui.horizontal_wrapped(|ui| {
        ui.label(tr!(lang, "export-label"));
        if ui
            .add_enabled(has_run, egui::Button::new(tr!(lang, "export-figures")))
            .clicked()
        {
            cmds.push(Command::Export(ExportWhat::Figures(dir.clone())));
        }
        if ui
            .add_enabled(has_run, egui::Button::new(tr!(lang, "export-data")))
            .clicked()
        {
            cmds.push(Command::Export(ExportWhat::Data(dir.clone())));
        }
        if ui
            .add_enabled(has_run, egui::Button::new(tr!(lang, "export-report")))
            .clicked()
        {
            cmds.push(Command::Export(ExportWhat::Report(
                dir.join("laporan-lab.html"),
            )));
        }
    });
    if lab.export_job.is_some() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(tr!(lang, "export-running"));
        });
    } else if let Some(s) = &lab.export_status {
        ui.label(s);
    }
}

/// A migration phase in words.
pub fn phase_name(p: Phase, lang: Lang) -> String {
    match p {
        Phase::Setup => tr!(lang, "phase-setup"),
        Phase::StorageCopy => tr!(lang, "phase-storage-copy"),
        Phase::Precopy => tr!(lang, "phase-precopy"),
        Phase::Suspended => tr!(lang, "phase-suspended"),
        Phase::StopAndCopy => tr!(lang, "phase-stop-and-copy"),
        Phase::Postcopy => tr!(lang, "phase-postcopy"),
        Phase::Resume => tr!(lang, "phase-resume"),
        Phase::Done => tr!(lang, "phase-done"),
    }
}

/// How a run ended, in words.
pub fn outcome_name(o: &Outcome, lang: Lang) -> String {
    match o {
        Outcome::Completed { .. } => tr!(lang, "outcome-completed"),
        Outcome::Failed { .. } => tr!(lang, "outcome-failed"),
        Outcome::Aborted { .. } => tr!(lang, "outcome-aborted"),
        Outcome::NotConverged { .. } => tr!(lang, "outcome-not-converged"),
        Outcome::TimeLimit(_) => tr!(lang, "outcome-time-limit"),
        Outcome::WorkLimit(_) => tr!(lang, "outcome-work-limit"),
    }
}
