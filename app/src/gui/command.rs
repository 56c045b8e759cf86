//! What panels ask for that reaches beyond their own view state. Applied after every panel has
//! drawn, so a frame never sees half of a change.

use super::state::Tab;
use crate::sessions::lab::RunId;
use migralab_sim_core::lang::Lang;

/// One request from a panel.
#[must_use]
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Show a tab.
    GoTo(Tab),
    /// Open the lab on a scenario (shipped name or file), replacing the current lab.
    OpenScenario(String),
    /// Type a line into the lab terminal, as if the student had typed it.
    RunLine(String),
    /// Ctrl-C in the lab terminal: cancel the migration being played back at the shown time.
    Interrupt,
    /// Switch the UI language.
    SetLang(Lang),
    /// Switch real mode on (true) or back to the simulated lab (false).
    SetRealMode(bool),
    /// Play a run from the start.
    Play(RunId),
    /// Overlay a run on the plots (`None`: no overlay).
    Compare(Option<RunId>),
    /// Build the simulated twin of a real run, write it to the export folder and open it in
    /// the simulated lab.
    BuildTwin(RunId),
    /// Export something of the current run.
    Export(ExportWhat),
    /// Save an experiment's observation in the student's progress profile.
    RecordObservation {
        /// Experiment id.
        experiment: String,
        /// The student's text.
        text: String,
        /// The numbers the student's compared runs measured (see
        /// [`super::experiments::measured_values`]).
        measured: std::collections::BTreeMap<String, f64>,
    },
}

/// What to export.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportWhat {
    /// Every plot as PNG and SVG into a folder.
    Figures(std::path::PathBuf),
    /// The trace as CSV (progress samples) and JSON into a folder.
    Data(std::path::PathBuf),
    /// The self-contained HTML lab report to a file.
    Report(std::path::PathBuf),
}
