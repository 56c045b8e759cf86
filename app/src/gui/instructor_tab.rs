//! The Instruktur (instructor) tab: unlock with the PIN, edit what `instructor.toml` holds (mode
//! lock, what students see, assessment mode, extra folders, the real lab), set or change the
//! PIN, and see the students' progress with an export to JSON or CSV.
//!
//! Invariants:
//! - **The PIN is checked by argon2** ([`InstructorSettings::verify_pin`]); it is never stored,
//!   and the typed PIN is cleared after every attempt.
//! - **A settings file that does not load keeps the tab locked.** The error is shown with its
//!   file and line and nothing can be unlocked or saved until the file reads cleanly (see
//!   [`SettingsFile::read`] for why this is stricter than the CLI).
//! - **Saving is atomic** ([`InstructorSettings::save`]) and validated first by reading the new
//!   text back, so the app never writes a file it would refuse to load.

use super::shared::{SettingsFile, Shared};
use super::state::AppState;
use crate::progress::{Profile, ProfileStore, export_csv, export_json};
use crate::quiz::BankSource;
use crate::settings::{InstructorSettings, LabMode, MIN_PIN_LEN, RealModeSettings, Visible};
use crate::tr;
use migralab_course::quiz::Objective;
use migralab_sim_core::lang::Lang;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A message after an action: good news or a problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// It worked.
    Done(String),
    /// It did not.
    Problem(String),
}

/// A list in the settings that may be "everything" (absent) or some names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListDraft {
    /// Everything is shown (the list is absent from the file).
    pub all: bool,
    /// One name per line.
    pub items: String,
}

impl ListDraft {
    fn from_list(list: Option<&Vec<String>>) -> ListDraft {
        ListDraft {
            all: list.is_none(),
            items: list.map(|l| l.join("\n")).unwrap_or_default(),
        }
    }

    fn to_list(&self) -> Option<Vec<String>> {
        (!self.all).then(|| lines(&self.items))
    }
}

/// The settings being edited, in the form the widgets edit them.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// `mode_locked`.
    pub mode_locked: Option<LabMode>,
    /// `assessment_mode`.
    pub assessment_mode: bool,
    /// `visible.lessons`.
    pub lessons: ListDraft,
    /// `visible.experiments`.
    pub experiments: ListDraft,
    /// `visible.quizzes` absent: every quiz is shown.
    pub quizzes_all: bool,
    /// The objectives of `visible.quizzes`.
    pub quiz_objectives: BTreeSet<Objective>,
    /// Other entries of `visible.quizzes` (bank file names, question ids), one per line.
    pub quiz_other: String,
    /// `scenario_dirs`, one per line.
    pub scenario_dirs: String,
    /// `quiz_dirs`, one per line.
    pub quiz_dirs: String,
    /// `class_folder` (empty: none).
    pub class_folder: String,
    /// `real_lab.allowed_hosts`, one per line.
    pub allowed_hosts: String,
    /// `real_lab.allowed_domains`, one per line.
    pub allowed_domains: String,
    /// `real_lab.ping_target` (empty: none).
    pub ping_target: String,
    /// `real_lab.prediction_scenario` (empty: the lesson's).
    pub prediction_scenario: String,
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn path_lines(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

impl Draft {
    /// The widgets' form of `s`.
    pub fn from_settings(s: &InstructorSettings) -> Draft {
        let (mut objectives, mut other) = (BTreeSet::new(), Vec::new());
        for entry in s.visible.quizzes.iter().flatten() {
            match Objective::from_id(entry) {
                Some(o) => {
                    objectives.insert(o);
                }
                None => other.push(entry.clone()),
            }
        }
        Draft {
            mode_locked: s.mode_locked,
            assessment_mode: s.assessment_mode,
            lessons: ListDraft::from_list(s.visible.lessons.as_ref()),
            experiments: ListDraft::from_list(s.visible.experiments.as_ref()),
            quizzes_all: s.visible.quizzes.is_none(),
            quiz_objectives: objectives,
            quiz_other: other.join("\n"),
            scenario_dirs: path_lines(&s.scenario_dirs),
            quiz_dirs: path_lines(&s.quiz_dirs),
            class_folder: s
                .class_folder
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            allowed_hosts: s.real_lab.allowed_hosts.join("\n"),
            allowed_domains: s.real_lab.allowed_domains.join("\n"),
            ping_target: s.real_lab.ping_target.clone().unwrap_or_default(),
            prediction_scenario: s.real_lab.prediction_scenario.clone().unwrap_or_default(),
        }
    }

    /// `base` with this draft's values (the format and the PIN stay `base`'s).
    pub fn apply(&self, base: &InstructorSettings) -> InstructorSettings {
        let quizzes = (!self.quizzes_all).then(|| {
            Objective::ALL
                .iter()
                .filter(|o| self.quiz_objectives.contains(o))
                .map(|o| o.as_str().to_owned())
                .chain(lines(&self.quiz_other))
                .collect()
        });
        let ping = self.ping_target.trim();
        let prediction = self.prediction_scenario.trim();
        InstructorSettings {
            format: base.format,
            pin_hash: base.pin_hash.clone(),
            mode_locked: self.mode_locked,
            assessment_mode: self.assessment_mode,
            scenario_dirs: lines(&self.scenario_dirs)
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            quiz_dirs: lines(&self.quiz_dirs)
                .into_iter()
                .map(PathBuf::from)
                .collect(),
            class_folder: Some(self.class_folder.trim())
                .filter(|f| !f.is_empty())
                .map(PathBuf::from),
            visible: Visible {
                lessons: self.lessons.to_list(),
                experiments: self.experiments.to_list(),
                quizzes,
            },
            real_lab: RealModeSettings {
                // Not edited here (a lab-in-a-box detail): kept as the file has it.
                ping_netns: base.real_lab.ping_netns.clone(),
                allowed_hosts: lines(&self.allowed_hosts),
                allowed_domains: lines(&self.allowed_domains),
                ping_target: (!ping.is_empty()).then(|| ping.to_owned()),
                prediction_scenario: (!prediction.is_empty()).then(|| prediction.to_owned()),
            },
        }
    }
}

/// The Instructor tab's state (runtime only).
#[derive(Debug, Default)]
pub struct InstructorRuntime {
    /// The PIN being typed to unlock.
    pub pin: String,
    /// A new PIN being set.
    pub new_pin: String,
    /// The new PIN again.
    pub new_pin_again: String,
    /// The settings being edited (`None`: not started; made from the file when shown).
    pub draft: Option<Draft>,
    /// The result of the last action.
    pub status: Option<Status>,
    /// What checking the extra folders found: `(fine, message)`.
    pub folder_report: Vec<(bool, String)>,
    /// The students' profiles (`None`: not loaded yet), or why they cannot be read.
    pub students: Option<Result<Vec<Profile>, String>>,
    /// Messages about damaged profiles that were kept aside while listing.
    pub student_notices: Vec<String>,
    /// The folder exports go to (empty: the data directory).
    pub export_dir: String,
    /// The result of the last export.
    pub export_status: Option<Status>,
    /// The class view.
    pub class: super::class_view::ClassRuntime,
}

impl InstructorRuntime {
    /// Lock the app (the unlock is app-wide: [`Shared::unlocked`]) and forget what was typed.
    fn lock(&mut self, shared: &mut Shared) {
        shared.unlocked = false;
        self.pin.clear();
        self.new_pin.clear();
        self.new_pin_again.clear();
        self.draft = None;
        self.students = None;
        self.class.clear();
        self.folder_report.clear();
    }
}

/// What a button asked for; applied after the tab has drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Reload,
    Unlock,
    Lock,
    SetPin,
    RemovePin,
    Save,
    Revert,
    CheckFolders,
    RefreshStudents,
    ExportJson,
    ExportCsv,
}

/// The Instructor tab.
pub fn instructor_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    shared: &mut Shared,
    ir: &mut InstructorRuntime,
) {
    let lang = state.lang;
    let mut actions = Vec::new();
    egui::ScrollArea::vertical()
        .id_salt("instructor_scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.set_max_width(900.0);
            ui.heading(tr!(lang, "tab-instructor"));
            let file = shared.settings().clone();
            match &file.loaded {
                Err(err) => {
                    ir.lock(shared);
                    broken_ui(ui, lang, &file, err, &mut actions);
                }
                Ok(saved) if saved.has_pin() && !shared.unlocked => {
                    lock_ui(ui, lang, ir, &mut actions);
                }
                Ok(saved) => {
                    // No PIN, or unlocked with it.
                    shared.unlocked = true;
                    let mut draft = ir
                        .draft
                        .take()
                        .unwrap_or_else(|| Draft::from_settings(saved));
                    unlocked_ui(ui, lang, &file, saved, &mut draft, ir, &mut actions);
                    ir.draft = Some(draft);
                    // After the students of this PC: the whole class.
                    ui.separator();
                    let export_dir = ir.export_dir.clone();
                    super::class_view::class_ui(ui, lang, shared, &mut ir.class, &export_dir);
                }
            }
        });
    for a in actions {
        apply(shared, ir, a, lang);
    }
}

/// The file does not load: say where, and offer to read it again once fixed.
fn broken_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    file: &SettingsFile,
    err: &str,
    actions: &mut Vec<Action>,
) {
    ui.colored_label(ui.visuals().error_fg_color, tr!(lang, "instr-broken"));
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.label(egui::RichText::new(err).monospace());
    });
    ui.label(tr!(
        lang,
        "instr-broken-fix",
        path = file.path.display().to_string()
    ));
    if ui.button(tr!(lang, "instr-reload")).clicked() {
        actions.push(Action::Reload);
    }
}

/// A PIN is set and the tab is locked.
fn lock_ui(ui: &mut egui::Ui, lang: Lang, ir: &mut InstructorRuntime, actions: &mut Vec<Action>) {
    ui.label(tr!(lang, "instr-locked"));
    ui.horizontal(|ui| {
        let label = ui.label(tr!(lang, "instr-pin"));
        let resp = ui
            .add(
                egui::TextEdit::singleline(&mut ir.pin)
                    .password(true)
                    .desired_width(160.0),
            )
            .labelled_by(label.id);
        let enter = resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button(tr!(lang, "instr-unlock")).clicked() || enter {
            actions.push(Action::Unlock);
        }
    });
    status_ui(ui, ir.status.as_ref());
}

/// What an export said: the file written, or why not.
pub(super) fn export_status(lang: Lang, written: anyhow::Result<PathBuf>) -> Status {
    match written {
        Ok(path) => Status::Done(tr!(
            lang,
            "instr-exported",
            path = path.display().to_string()
        )),
        Err(e) => Status::Problem(tr!(lang, "instr-export-failed", error = format!("{e:#}"))),
    }
}

pub(super) fn status_ui(ui: &mut egui::Ui, status: Option<&Status>) {
    match status {
        Some(Status::Done(m)) => {
            ui.label(egui::RichText::new(format!("✔ {m}")).strong());
        }
        Some(Status::Problem(m)) => {
            ui.colored_label(ui.visuals().error_fg_color, format!("✖ {m}"));
        }
        None => {}
    }
}

/// A multi-line list field, one entry per line, named by its label.
fn list_field(ui: &mut egui::Ui, label: String, hint: &str, text: &mut String) {
    let label = ui.label(label);
    ui.add(
        egui::TextEdit::multiline(text)
            .desired_rows(2)
            .hint_text(hint)
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id);
}

/// Everything an unlocked instructor can do.
fn unlocked_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    file: &SettingsFile,
    saved: &InstructorSettings,
    draft: &mut Draft,
    ir: &mut InstructorRuntime,
    actions: &mut Vec<Action>,
) {
    ui.horizontal_wrapped(|ui| {
        ui.weak(tr!(
            lang,
            "instr-file",
            path = file.path.display().to_string()
        ));
        if ui.button(tr!(lang, "instr-reload")).clicked() {
            actions.push(Action::Reload);
        }
        if saved.has_pin() && ui.button(tr!(lang, "instr-lock")).clicked() {
            actions.push(Action::Lock);
        }
    });
    if !saved.has_pin() {
        ui.colored_label(ui.visuals().warn_fg_color, tr!(lang, "instr-no-pin"));
    }
    status_ui(ui, ir.status.as_ref());

    // The PIN.
    ui.add_space(8.0);
    ui.heading(tr!(lang, "instr-pin-title"));
    egui::Grid::new("instr_pin").num_columns(2).show(ui, |ui| {
        let label = ui.label(tr!(lang, "instr-new-pin"));
        ui.add(
            egui::TextEdit::singleline(&mut ir.new_pin)
                .password(true)
                .desired_width(160.0),
        )
        .labelled_by(label.id);
        ui.end_row();
        let label = ui.label(tr!(lang, "instr-new-pin-again"));
        ui.add(
            egui::TextEdit::singleline(&mut ir.new_pin_again)
                .password(true)
                .desired_width(160.0),
        )
        .labelled_by(label.id);
        ui.end_row();
    });
    ui.horizontal(|ui| {
        let set = if saved.has_pin() {
            tr!(lang, "instr-change-pin")
        } else {
            tr!(lang, "instr-set-pin")
        };
        if ui.button(set).clicked() {
            actions.push(Action::SetPin);
        }
        if saved.has_pin() && ui.button(tr!(lang, "instr-remove-pin")).clicked() {
            actions.push(Action::RemovePin);
        }
    });
    ui.weak(tr!(lang, "instr-pin-note", min = MIN_PIN_LEN));

    // The class settings.
    ui.add_space(8.0);
    ui.heading(tr!(lang, "instr-settings-title"));
    ui.strong(tr!(lang, "instr-mode-lock"));
    ui.radio_value(&mut draft.mode_locked, None, tr!(lang, "instr-mode-free"));
    ui.radio_value(
        &mut draft.mode_locked,
        Some(LabMode::Simulated),
        tr!(lang, "instr-mode-simulated"),
    );
    ui.radio_value(
        &mut draft.mode_locked,
        Some(LabMode::Real),
        tr!(lang, "instr-mode-real"),
    );
    ui.add_space(4.0);
    ui.checkbox(&mut draft.assessment_mode, tr!(lang, "instr-assessment"));
    ui.weak(tr!(lang, "instr-assessment-note"));

    ui.add_space(4.0);
    ui.strong(tr!(lang, "instr-visible"));
    ui.checkbox(&mut draft.lessons.all, tr!(lang, "instr-lessons-all"));
    if !draft.lessons.all {
        list_field(
            ui,
            tr!(lang, "instr-lessons"),
            "lesson",
            &mut draft.lessons.items,
        );
    }
    ui.checkbox(
        &mut draft.experiments.all,
        tr!(lang, "instr-experiments-all"),
    );
    if !draft.experiments.all {
        let ids: Vec<&str> = migralab_course::experiments::experiments()
            .iter()
            .map(|e| e.id.as_str())
            .collect();
        list_field(
            ui,
            tr!(lang, "instr-experiments"),
            &ids.join("\n"),
            &mut draft.experiments.items,
        );
    }
    ui.checkbox(&mut draft.quizzes_all, tr!(lang, "instr-quizzes-all"));
    if !draft.quizzes_all {
        egui::Grid::new("instr_quiz_objectives")
            .num_columns(2)
            .show(ui, |ui| {
                for (i, o) in Objective::ALL.iter().enumerate() {
                    let mut on = draft.quiz_objectives.contains(o);
                    if ui.checkbox(&mut on, lang.pick(&o.title())).changed() {
                        if on {
                            draft.quiz_objectives.insert(*o);
                        } else {
                            draft.quiz_objectives.remove(o);
                        }
                    }
                    if i % 2 == 1 {
                        ui.end_row();
                    }
                }
            });
        list_field(
            ui,
            tr!(lang, "instr-quizzes-other"),
            "concepts",
            &mut draft.quiz_other,
        );
    }

    ui.add_space(4.0);
    ui.strong(tr!(lang, "instr-folders"));
    list_field(
        ui,
        tr!(lang, "instr-scenario-dirs"),
        "/srv/lab/scenarios",
        &mut draft.scenario_dirs,
    );
    list_field(
        ui,
        tr!(lang, "instr-quiz-dirs"),
        "/srv/lab/quizzes",
        &mut draft.quiz_dirs,
    );
    let label = ui.label(tr!(lang, "instr-class-folder"));
    ui.add(
        egui::TextEdit::singleline(&mut draft.class_folder)
            .hint_text("/srv/lab/class")
            .desired_width(f32::INFINITY),
    )
    .labelled_by(label.id);
    if ui.button(tr!(lang, "instr-check-folders")).clicked() {
        actions.push(Action::CheckFolders);
    }
    for (fine, line) in &ir.folder_report {
        if *fine {
            ui.label(format!("✔ {line}"));
        } else {
            ui.colored_label(
                ui.visuals().error_fg_color,
                egui::RichText::new(format!("✖ {line}")).monospace(),
            );
        }
    }

    ui.add_space(4.0);
    ui.strong(tr!(lang, "instr-real-lab"));
    list_field(
        ui,
        tr!(lang, "instr-allowed-hosts"),
        "qemu+ssh://root@kvm-host-01/system",
        &mut draft.allowed_hosts,
    );
    list_field(
        ui,
        tr!(lang, "instr-allowed-domains"),
        "web01",
        &mut draft.allowed_domains,
    );
    ui.horizontal(|ui| {
        let label = ui.label(tr!(lang, "instr-ping-target"));
        ui.add(
            egui::TextEdit::singleline(&mut draft.ping_target)
                .hint_text("192.168.100.50")
                .desired_width(200.0),
        )
        .labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        let label = ui.label(tr!(lang, "instr-prediction-scenario"));
        ui.add(
            egui::TextEdit::singleline(&mut draft.prediction_scenario)
                .hint_text("lesson")
                .desired_width(200.0),
        )
        .labelled_by(label.id);
    });

    ui.add_space(8.0);
    let changed = draft.apply(saved) != *saved;
    ui.horizontal(|ui| {
        if ui
            .add_enabled(changed, egui::Button::new(tr!(lang, "instr-save")))
            .clicked()
        {
            actions.push(Action::Save);
        }
        if ui
            .add_enabled(changed, egui::Button::new(tr!(lang, "instr-revert")))
            .clicked()
        {
            actions.push(Action::Revert);
        }
        if changed {
            ui.colored_label(ui.visuals().warn_fg_color, tr!(lang, "instr-unsaved"));
        }
    });

    ui.add_space(12.0);
    students_ui(ui, lang, ir, actions);
}

/// The students' progress and the export.
fn students_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    ir: &mut InstructorRuntime,
    actions: &mut Vec<Action>,
) {
    ui.heading(tr!(lang, "instr-students-title"));
    if ir.students.is_none() {
        actions.push(Action::RefreshStudents);
    }
    if ui.button(tr!(lang, "instr-students-refresh")).clicked() {
        actions.push(Action::RefreshStudents);
    }
    for n in &ir.student_notices {
        ui.colored_label(ui.visuals().warn_fg_color, n);
    }
    match &ir.students {
        None => {}
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        Some(Ok(profiles)) if profiles.is_empty() => {
            ui.label(tr!(lang, "instr-students-none"));
        }
        Some(Ok(profiles)) => {
            egui::Grid::new("instr_students")
                .num_columns(5)
                .striped(true)
                .show(ui, |ui| {
                    for h in [
                        tr!(lang, "instr-col-student"),
                        tr!(lang, "instr-col-answers"),
                        tr!(lang, "instr-col-right"),
                        tr!(lang, "instr-col-score"),
                        tr!(lang, "instr-col-observations"),
                    ] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for p in profiles {
                        let asked: u32 = p.objectives.values().map(|t| t.asked).sum();
                        let right: u32 = p.objectives.values().map(|t| t.correct).sum();
                        let points: f64 = p.objectives.values().map(|t| t.points).sum();
                        let per_objective: Vec<String> = p
                            .objectives
                            .iter()
                            .map(|(id, t)| {
                                let title = Objective::from_id(id)
                                    .map_or_else(|| id.clone(), |o| lang.pick(&o.title()).into());
                                format!("{title}: {}/{}", t.correct, t.asked)
                            })
                            .collect();
                        let name = ui.label(&p.name);
                        if !per_objective.is_empty() {
                            name.on_hover_text(per_objective.join("\n"));
                        }
                        ui.label(p.attempts.len().to_string());
                        ui.label(right.to_string());
                        ui.label(if asked == 0 {
                            "–".to_string()
                        } else {
                            format!("{:.0} %", 100.0 * points / f64::from(asked))
                        });
                        ui.label(p.observations.len().to_string());
                        ui.end_row();
                    }
                });
        }
    }
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        let label = ui.label(tr!(lang, "instr-export-dir"));
        ui.add(
            egui::TextEdit::singleline(&mut ir.export_dir)
                .hint_text(tr!(lang, "instr-export-dir-hint"))
                .desired_width(320.0),
        )
        .labelled_by(label.id);
    });
    ui.horizontal(|ui| {
        if ui.button(tr!(lang, "instr-export-json")).clicked() {
            actions.push(Action::ExportJson);
        }
        if ui.button(tr!(lang, "instr-export-csv")).clicked() {
            actions.push(Action::ExportCsv);
        }
    });
    status_ui(ui, ir.export_status.as_ref());
}

fn apply(shared: &mut Shared, ir: &mut InstructorRuntime, action: Action, lang: Lang) {
    let file = shared.settings().clone();
    match action {
        Action::Reload => {
            shared.reload_settings();
            // Extra quiz folders may have changed.
            shared.settings_changed();
            let old_pin = file.loaded.as_ref().ok().and_then(|s| s.pin_hash.clone());
            let relock = match &shared.settings().loaded {
                Ok(s) => s.has_pin() && s.pin_hash != old_pin,
                Err(_) => true,
            };
            ir.draft = None;
            ir.status = None;
            if relock {
                // A new PIN (or a broken file) since the tab was unlocked: ask again.
                ir.lock(shared);
            }
        }
        Action::Unlock => {
            let ok = file.loaded.as_ref().is_ok_and(|s| s.verify_pin(&ir.pin));
            ir.pin.clear();
            if ok {
                shared.unlocked = true;
                ir.draft = None;
                ir.students = None;
                ir.status = None;
            } else {
                shared.unlocked = false;
                ir.status = Some(Status::Problem(tr!(lang, "instr-wrong-pin")));
            }
        }
        Action::Lock => {
            ir.lock(shared);
            ir.status = None;
        }
        Action::SetPin => {
            let (pin, again) = (
                std::mem::take(&mut ir.new_pin),
                std::mem::take(&mut ir.new_pin_again),
            );
            let status = if pin != again {
                Status::Problem(tr!(lang, "instr-pin-mismatch"))
            } else if pin.chars().count() < MIN_PIN_LEN {
                Status::Problem(tr!(lang, "instr-pin-short", min = MIN_PIN_LEN))
            } else {
                let had = file.loaded.as_ref().is_ok_and(InstructorSettings::has_pin);
                match file.loaded.clone() {
                    Ok(mut s) => match s.set_pin(&pin).and_then(|()| s.save(&file.path)) {
                        Ok(()) => {
                            shared.set_settings(SettingsFile {
                                path: file.path.clone(),
                                loaded: Ok(s),
                            });
                            Status::Done(if had {
                                tr!(lang, "instr-pin-changed")
                            } else {
                                tr!(lang, "instr-pin-set")
                            })
                        }
                        Err(e) => Status::Problem(format!("{e:#}")),
                    },
                    Err(e) => Status::Problem(e),
                }
            };
            ir.status = Some(status);
        }
        Action::RemovePin => {
            let status = match file.loaded.clone() {
                Ok(mut s) => {
                    s.pin_hash = None;
                    match s.save(&file.path) {
                        Ok(()) => {
                            shared.set_settings(SettingsFile {
                                path: file.path.clone(),
                                loaded: Ok(s),
                            });
                            Status::Done(tr!(lang, "instr-pin-removed"))
                        }
                        Err(e) => Status::Problem(format!("{e:#}")),
                    }
                }
                Err(e) => Status::Problem(e),
            };
            ir.status = Some(status);
        }
        Action::Save => {
            let (Ok(saved), Some(draft)) = (&file.loaded, &ir.draft) else {
                return;
            };
            let new = draft.apply(saved);
            let status = match save_checked(&new, &file.path) {
                Ok(()) => {
                    ir.folder_report = check_folders(&new, lang);
                    shared.set_settings(SettingsFile {
                        path: file.path.clone(),
                        loaded: Ok(new),
                    });
                    shared.settings_changed();
                    Status::Done(tr!(lang, "instr-saved"))
                }
                Err(e) => Status::Problem(tr!(lang, "instr-save-failed", error = e)),
            };
            ir.status = Some(status);
        }
        Action::Revert => {
            ir.draft = None;
            ir.status = None;
        }
        Action::CheckFolders => {
            if let (Ok(saved), Some(draft)) = (&file.loaded, &ir.draft) {
                ir.folder_report = check_folders(&draft.apply(saved), lang);
                if ir.folder_report.is_empty() {
                    ir.folder_report.push((true, tr!(lang, "instr-no-folders")));
                }
            }
        }
        Action::RefreshStudents => {
            let loaded = shared
                .data_dir()
                .and_then(|dir| ProfileStore::new(&dir).load_all());
            match loaded {
                Ok((profiles, notices)) => {
                    ir.students = Some(Ok(profiles));
                    ir.student_notices.extend(notices);
                }
                Err(e) => ir.students = Some(Err(format!("{e:#}"))),
            }
        }
        Action::ExportJson | Action::ExportCsv => {
            let csv = action == Action::ExportCsv;
            ir.export_status = Some(export_status(lang, export(shared, ir, csv)));
        }
    }
}

/// Save `s` only if its text loads back as the same settings (e.g. every host a libvirt URI).
fn save_checked(s: &InstructorSettings, path: &Path) -> Result<(), String> {
    let text = s.to_toml_string().map_err(|e| format!("{e:#}"))?;
    InstructorSettings::from_toml_str(&text, &path.display().to_string()).map_err(|e| match e {
        crate::settings::SettingsError::Invalid { message, .. } => message,
        other => other.to_string(),
    })?;
    s.save(path).map_err(|e| format!("{e:#}"))
}

/// Load every extra folder the way the app and the CLI would, and report what each holds or
/// every error with its file and line.
fn check_folders(s: &InstructorSettings, lang: Lang) -> Vec<(bool, String)> {
    let mut report = Vec::new();
    for dir in &s.quiz_dirs {
        match BankSource::read_dir(dir) {
            Err(e) => report.push((false, format!("{e:#}"))),
            Ok(source) => match source.check() {
                Ok(bank) => report.push((
                    true,
                    tr!(
                        lang,
                        "instr-folder-questions",
                        dir = dir.display().to_string(),
                        n = bank.questions().len()
                    ),
                )),
                Err(errors) => report.extend(errors.into_iter().map(|e| (false, e))),
            },
        }
    }
    for dir in &s.scenario_dirs {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                report.push((false, format!("{}: {e}", dir.display())));
                continue;
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
            })
            .collect();
        files.sort();
        if files.is_empty() {
            report.push((
                false,
                tr!(lang, "instr-folder-empty", dir = dir.display().to_string()),
            ));
        }
        let mut fine = 0usize;
        for f in files {
            match crate::scenarios::load(Some(&f), &[]) {
                Ok(_) => fine += 1,
                Err(e) => report.push((false, format!("{e:#}"))),
            }
        }
        if fine > 0 {
            report.push((
                true,
                tr!(
                    lang,
                    "instr-folder-scenarios",
                    dir = dir.display().to_string(),
                    n = fine
                ),
            ));
        }
    }
    report
}

/// Write every student's results to `migralab-progress.{json,csv}` in the export folder. A
/// damaged profile met on the way is set aside and its notice joins the students' notices.
fn export(shared: &Shared, ir: &mut InstructorRuntime, csv: bool) -> anyhow::Result<PathBuf> {
    let data_dir = shared.data_dir()?;
    let (profiles, notices) = ProfileStore::new(&data_dir).load_all()?;
    ir.student_notices.extend(notices);
    let dir = match ir.export_dir.trim() {
        "" => data_dir,
        d => PathBuf::from(d),
    };
    let (name, text) = if csv {
        ("migralab-progress.csv", export_csv(&profiles))
    } else {
        ("migralab-progress.json", export_json(&profiles)?)
    };
    let path = dir.join(name);
    crate::storage::write_creating_dir(&path, text.as_bytes())?;
    Ok(path)
}
