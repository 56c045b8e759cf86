//! What the app remembers between runs. Only [`AppState`] is persisted (eframe storage, RON);
//! the lab, its runs and playback are runtime state owned by the app.

use crate::sessions::lab::Speed;
use crate::sessions::migrate_form::MigrateForm;
use migralab_sim_core::lang::Lang;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The tabs, in the order of the tab bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Tab {
    /// Sesi 1: the lesson.
    #[default]
    Lesson,
    /// The lab: topology, terminal, migration form, plots.
    Lab,
    /// Sesi 2: the guided experiments.
    Experiments,
    /// Self-assessment quiz.
    Quiz,
    /// Instructor settings.
    Instructor,
}

impl Tab {
    /// Every tab, in tab-bar order: one table drives both the tab bar and the dispatch.
    pub const ALL: [Tab; 5] = [
        Tab::Lesson,
        Tab::Lab,
        Tab::Experiments,
        Tab::Quiz,
        Tab::Instructor,
    ];
}

/// Light, dark, or follow the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ThemePref {
    /// Follow the desktop's setting.
    #[default]
    System,
    /// Light.
    Light,
    /// Dark.
    Dark,
}

/// Lab tab settings worth keeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LabView {
    /// The scenario the lab opens on (a shipped name or a file path).
    pub scenario: String,
    /// Playback speed.
    pub speed: Speed,
    /// The migration form.
    pub form: MigrateForm,
    /// Is the what-if panel shown?
    pub whatif: bool,
}

impl Default for LabView {
    fn default() -> Self {
        LabView {
            scenario: "lesson".into(),
            speed: Speed::default(),
            form: MigrateForm::default(),
            whatif: false,
        }
    }
}

/// The student's work in the experiments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExperimentsState {
    /// The experiment shown.
    pub selected: String,
    /// Observation written per experiment id.
    pub observations: BTreeMap<String, String>,
    /// Steps done per experiment id (step ids), kept so a restart does not lose progress.
    pub done: BTreeMap<String, Vec<String>>,
    /// Experiments whose explanation was revealed.
    pub revealed: Vec<String>,
    /// Steps done on real hosts per experiment id (step ids): real mode keeps its own list, so
    /// a step done in the simulated lab is never shown as done for real.
    pub done_real: BTreeMap<String, Vec<String>>,
}

/// Everything persisted between runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppState {
    /// The tab shown.
    pub tab: Tab,
    /// UI language (Bahasa Indonesia by default).
    pub lang: Lang,
    /// Theme.
    pub theme: ThemePref,
    /// Zoom factor (1.0 = 100 %).
    pub zoom: f32,
    /// Lab tab.
    pub lab: LabView,
    /// Experiments tab.
    pub experiments: ExperimentsState,
    /// The student's name for reports and quiz progress.
    pub student: String,
    /// Real mode's migration form (hosts and domain are re-checked against the instructor's
    /// lists every frame, so a stale saved choice cannot reach libvirt).
    pub real_form: crate::sessions::real::RealForm,
}

impl Default for AppState {
    fn default() -> Self {
        AppState {
            tab: Tab::Lesson,
            lang: Lang::Id,
            theme: ThemePref::System,
            zoom: 1.0,
            lab: LabView::default(),
            experiments: ExperimentsState::default(),
            student: String::new(),
            real_form: crate::sessions::real::RealForm::default(),
        }
    }
}

/// Zoom limits: 50 % to 300 %.
pub const ZOOM_RANGE: std::ops::RangeInclusive<f32> = 0.5..=3.0;
