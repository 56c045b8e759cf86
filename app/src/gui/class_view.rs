//! The Instruktur tab's class view: the PC's own students, the imported class (`class.json`)
//! and the class folder, merged; a heat map of student × learning objective, each experiment's
//! observation with its measured numbers, who is stuck where; sorting, filtering, and the class
//! report as CSV and HTML.
//!
//! Invariants:
//! - **Live and cheap.** The class folder is listed every [`POLL`]; the class is rebuilt only
//!   when a file there changed (or on Refresh), not every frame.
//! - **Conflicts are shown, not merged** (the rules of `progress import`): a student whose
//!   files disagree is listed above the table with why.

use super::instructor_tab::Status;
use super::shared::Shared;
use crate::class::folder::ClassFolderReader;
use crate::class::gather::gather;
use crate::class::merge::Students;
use crate::class::report::{heat_rgb, to_csv, to_html};
use crate::class::view::{ClassRow, SortBy, ViewOptions, rows};
use crate::storage::write_atomically;
use crate::tr;
use migralab_course::experiments::experiments;
use migralab_course::quiz::Objective;
use migralab_sim_core::lang::Lang;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How often the class folder is looked at.
pub const POLL: Duration = Duration::from_secs(2);

/// The class view's state (runtime only).
#[derive(Debug, Default)]
pub struct ClassRuntime {
    /// The class folder being read (`None`: none set, or not yet looked at).
    reader: Option<ClassFolderReader>,
    /// When the folder was last listed.
    last_poll: Option<Instant>,
    /// The class (`None`: not built yet).
    pub students: Option<Students>,
    /// Files that do not read, conflicts, a class file that does not load.
    pub problems: Vec<String>,
    /// Sort and filter.
    pub opts: ViewOptions,
    /// The last report export.
    pub export_status: Option<Status>,
}

impl ClassRuntime {
    /// Forget the class (the tab was locked).
    pub fn clear(&mut self) {
        *self = ClassRuntime::default();
    }

    /// Rebuild the class from the data directory and the class folder `folder`.
    pub fn rebuild(&mut self, data_dir: Option<&Path>, folder: Option<&Path>) {
        if self.reader.as_ref().map(ClassFolderReader::folder) != folder {
            self.reader = folder.map(ClassFolderReader::new);
        }
        let g = gather(data_dir, self.reader.as_mut());
        self.last_poll = Some(Instant::now());
        self.students = Some(g.students);
        self.problems = g.problems;
    }

    /// Rebuild when first shown, and when the class folder changed (looked at every [`POLL`]).
    fn poll(&mut self, data_dir: Option<&Path>, folder: Option<&Path>) {
        let folder_moved = self.reader.as_ref().map(ClassFolderReader::folder) != folder;
        if self.students.is_none() || folder_moved {
            self.rebuild(data_dir, folder);
            return;
        }
        if self.last_poll.is_some_and(|t| t.elapsed() < POLL) {
            return;
        }
        self.last_poll = Some(Instant::now());
        let changed = match &mut self.reader {
            Some(reader) => reader.refresh().unwrap_or(true),
            None => false,
        };
        if changed {
            self.rebuild(data_dir, folder);
        }
    }
}

/// A heat map cell: the mastery in percent on its colour.
fn heat_cell(ui: &mut egui::Ui, mastery: Option<f64>, asked: u32, title: &str) {
    let (r, g, b) = heat_rgb(mastery);
    let text = mastery.map_or_else(|| "–".to_owned(), |m| format!("{:.0}", m * 100.0));
    egui::Frame::new()
        .fill(egui::Color32::from_rgb(r, g, b))
        .inner_margin(egui::Margin::symmetric(4, 1))
        .show(ui, |ui| {
            ui.set_min_width(26.0);
            ui.label(
                egui::RichText::new(text)
                    .color(egui::Color32::BLACK)
                    .small(),
            )
            .on_hover_text(format!("{title}: {asked}"));
        });
}

fn sort_label(lang: Lang, s: SortBy) -> String {
    match s {
        SortBy::Name => tr!(lang, "class-sort-name"),
        SortBy::Score => tr!(lang, "class-sort-score"),
        SortBy::Stuck => tr!(lang, "class-sort-stuck"),
        SortBy::LastActive => tr!(lang, "class-sort-active"),
        SortBy::Objective(i) => Objective::ALL.get(i).map_or_else(String::new, |o| {
            format!("{}. {}", i + 1, lang.pick(&o.title()))
        }),
    }
}

/// The class view, under the students' list of the unlocked tab.
pub fn class_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    shared: &mut Shared,
    cr: &mut ClassRuntime,
    export_dir: &str,
) {
    let data_dir = shared.data_dir().ok();
    let folder = shared.settings().effective().class_folder;
    cr.poll(data_dir.as_deref(), folder.as_deref());
    ui.ctx().request_repaint_after(POLL);
    // One id scope for the view, so its rows never share an automatic id with the tab's.
    ui.push_id("class_view", |ui| {
        view_ui(
            ui,
            lang,
            cr,
            data_dir.as_deref(),
            folder.as_deref(),
            export_dir,
        )
    });
}

fn view_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    cr: &mut ClassRuntime,
    data_dir: Option<&Path>,
    folder: Option<&Path>,
    export_dir: &str,
) {
    ui.heading(tr!(lang, "class-title"));
    match folder {
        Some(f) => ui.label(tr!(lang, "class-folder-at", path = f.display().to_string())),
        None => ui.label(tr!(lang, "class-folder-none")),
    };
    if ui.button(tr!(lang, "class-refresh")).clicked() {
        cr.rebuild(data_dir, folder);
    }
    for p in &cr.problems {
        ui.colored_label(ui.visuals().warn_fg_color, p);
    }
    ui.horizontal(|ui| {
        let label = ui.label(tr!(lang, "class-filter"));
        ui.add(
            egui::TextEdit::singleline(&mut cr.opts.filter)
                .hint_text(tr!(lang, "class-filter-hint"))
                .desired_width(180.0),
        )
        .labelled_by(label.id);
        ui.checkbox(&mut cr.opts.only_stuck, tr!(lang, "class-only-stuck"));
        let label = ui.label(tr!(lang, "class-sort"));
        egui::ComboBox::from_id_salt("class_sort")
            .selected_text(sort_label(lang, cr.opts.sort))
            .show_ui(ui, |ui| {
                let choices = [
                    SortBy::Name,
                    SortBy::Score,
                    SortBy::Stuck,
                    SortBy::LastActive,
                ]
                .into_iter()
                .chain((0..Objective::ALL.len()).map(SortBy::Objective));
                for s in choices {
                    ui.selectable_value(&mut cr.opts.sort, s, sort_label(lang, s));
                }
            })
            .response
            .labelled_by(label.id);
        ui.checkbox(&mut cr.opts.descending, tr!(lang, "class-descending"));
    });
    let Some(students) = &cr.students else {
        return;
    };
    let shown = rows(students, &cr.opts);
    if shown.is_empty() {
        ui.label(tr!(lang, "class-none"));
    } else {
        heat_map_ui(ui, lang, &shown, &mut cr.opts);
        ui.add_space(6.0);
        experiments_ui(ui, lang, &shown);
    }
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        let buttons = [
            (false, tr!(lang, "class-export-csv")),
            (true, tr!(lang, "class-export-html")),
        ];
        for (html, label) in buttons {
            if ui.button(label).clicked() {
                let written = export(&shown, lang, html, export_dir, data_dir);
                cr.export_status = Some(super::instructor_tab::export_status(lang, written));
            }
        }
    });
    super::instructor_tab::status_ui(ui, cr.export_status.as_ref());
}

fn heat_map_ui(ui: &mut egui::Ui, lang: Lang, shown: &[ClassRow], opts: &mut ViewOptions) {
    egui::ScrollArea::horizontal()
        .id_salt("class_heat_map")
        .show(ui, |ui| {
            egui::Grid::new("class_heat")
                .striped(true)
                .spacing([2.0, 2.0])
                .show(ui, |ui| {
                    ui.strong(tr!(lang, "instr-col-student"));
                    ui.strong(tr!(lang, "instr-col-score"));
                    for (i, o) in Objective::ALL.iter().enumerate() {
                        // A column's number sorts by it (again: the other way round).
                        let b = ui
                            .small_button((i + 1).to_string())
                            .on_hover_text(lang.pick(&o.title()));
                        if b.clicked() {
                            if opts.sort == SortBy::Objective(i) {
                                opts.descending = !opts.descending;
                            } else {
                                opts.sort = SortBy::Objective(i);
                                opts.descending = false;
                            }
                        }
                    }
                    ui.strong(tr!(lang, "class-col-stuck"));
                    ui.end_row();
                    for r in shown {
                        ui.label(&r.name);
                        ui.label(
                            r.score
                                .map_or_else(|| "–".into(), |s| format!("{:.0} %", s * 100.0)),
                        );
                        for ((m, n), o) in r.mastery.iter().zip(&r.asked).zip(Objective::ALL) {
                            heat_cell(ui, *m, *n, lang.pick(&o.title()));
                        }
                        let stuck: Vec<String> = r
                            .stuck
                            .iter()
                            .map(|o| lang.pick(&o.title()).to_owned())
                            .collect();
                        if stuck.is_empty() {
                            ui.label("");
                        } else {
                            ui.colored_label(ui.visuals().warn_fg_color, stuck.join(", "));
                        }
                        ui.end_row();
                    }
                });
        });
}

fn experiments_ui(ui: &mut egui::Ui, lang: Lang, shown: &[ClassRow]) {
    ui.strong(tr!(lang, "class-experiments-title"));
    egui::ScrollArea::horizontal()
        .id_salt("class_experiments")
        .show(ui, |ui| {
            egui::Grid::new("class_exp").striped(true).show(ui, |ui| {
                ui.strong(tr!(lang, "instr-col-student"));
                for e in experiments() {
                    ui.strong(lang.pick(&e.title));
                }
                ui.end_row();
                for r in shown {
                    ui.label(&r.name);
                    for cell in &r.experiments {
                        if cell.observed {
                            let numbers: Vec<String> = cell
                                .measured
                                .iter()
                                .map(|(k, v)| format!("{k} {v:.1}"))
                                .collect();
                            let l = ui.label(format!("✔ {}", tr!(lang, "class-observed")));
                            if !numbers.is_empty() {
                                l.on_hover_text(numbers.join("\n"));
                            }
                        } else {
                            ui.label("–");
                        }
                    }
                    ui.end_row();
                }
            });
        });
}

/// Write the class report to `export_dir` (empty: the data directory).
fn export(
    shown: &[ClassRow],
    lang: Lang,
    html: bool,
    export_dir: &str,
    data_dir: Option<&Path>,
) -> anyhow::Result<PathBuf> {
    let dir = match export_dir.trim() {
        "" => data_dir
            .map(Path::to_path_buf)
            .ok_or_else(|| anyhow::anyhow!("no data directory"))?,
        d => PathBuf::from(d),
    };
    let (name, text) = if html {
        let when = format!("{} · {}", tr!(lang, "class-report-title"), shown.len());
        ("class-report.html", to_html(shown, lang, &when)?)
    } else {
        ("class-report.csv", to_csv(shown))
    };
    let path = dir.join(name);
    write_atomically(&path, text.as_bytes())?;
    Ok(path)
}
