//! Exports from the GUI: figures (PNG + SVG, the same series as on screen), the trace (CSV +
//! JSON) and the self-contained HTML lab report. The same code as `migralab report`.

use crate::export::figures::{self, Figure};
use crate::export::html::{LabReport, ReportRun};
use crate::gui::LabRuntime;
use crate::gui::command::ExportWhat;
use crate::gui::state::AppState;
use crate::lab_session::RunRecord;
use crate::tr;
use anyhow::Context as _;
use std::path::{Path, PathBuf};

/// Where exports go: `MIGRALAB_EXPORT_DIR`, else `~/migralab-laporan` (the home folder's
/// `migralab-laporan`), else the current directory.
pub fn default_dir(_state: &AppState) -> PathBuf {
    if let Some(d) = std::env::var_os("MIGRALAB_EXPORT_DIR") {
        return PathBuf::from(d);
    }
    directories::UserDirs::new()
        .map(|u| u.home_dir().join("migralab-laporan"))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Run an export and say what happened (shown under the buttons).
pub fn export(what: &ExportWhat, state: &AppState, lab: &LabRuntime) -> String {
    let lang = state.lang;
    match try_export(what, state, lab) {
        Ok(paths) => tr!(
            lang,
            "export-done",
            files = paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Err(e) => tr!(lang, "export-failed", error = format!("{e:#}")),
    }
}

/// The runs to export: the one shown, and the compared one.
fn runs_of(lab: &LabRuntime) -> Vec<&RunRecord> {
    let mut runs: Vec<&RunRecord> = lab.current_run().into_iter().collect();
    if let Some(c) = lab.compare.and_then(|c| lab.run(c))
        && runs.first().is_none_or(|r| r.id != c.id)
    {
        runs.push(c);
    }
    runs
}

fn try_export(
    what: &ExportWhat,
    state: &AppState,
    lab: &LabRuntime,
) -> anyhow::Result<Vec<PathBuf>> {
    let runs = runs_of(lab);
    let first = runs
        .first()
        .context("no run to export yet: run a migration first")?;
    let lang = state.lang;
    let mut written = Vec::new();
    let mkdir = |d: &Path| {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))
    };
    match what {
        ExportWhat::Figures(dir) => {
            mkdir(dir)?;
            let labelled: Vec<(String, &crate::series::RunSeries)> =
                runs.iter().map(|r| (r.label(), &r.series)).collect();
            let refs: Vec<(&str, &crate::series::RunSeries)> =
                labelled.iter().map(|(l, s)| (l.as_str(), *s)).collect();
            for fig in Figure::all() {
                let svg = figures::svg(fig, &refs, lang)?;
                let path = dir.join(format!("{}.svg", fig.file_stem()));
                crate::fsutil::write_atomically(&path, svg.as_bytes())?;
                written.push(path);
                let png = figures::png(fig, &refs, lang, (1200, 600))?;
                let path = dir.join(format!("{}.png", fig.file_stem()));
                crate::fsutil::write_atomically(&path, &png)?;
                written.push(path);
            }
        }
        ExportWhat::Data(dir) => {
            mkdir(dir)?;
            let stem = format!("run-{}", first.id.0);
            let csv = crate::report::ProgressCsv(&first.trace).to_string();
            let path = dir.join(format!("{stem}.csv"));
            crate::fsutil::write_atomically(&path, csv.as_bytes())?;
            written.push(path);
            let json = first
                .trace
                .to_json()
                .context("cannot serialise the trace")?;
            let path = dir.join(format!("{stem}.json"));
            crate::fsutil::write_atomically(&path, json.as_bytes())?;
            written.push(path);
        }
        ExportWhat::Report(path) => {
            if let Some(dir) = path.parent()
                && !dir.as_os_str().is_empty()
            {
                mkdir(dir)?;
            }
            let scenario_toml = lab
                .session
                .as_ref()
                .and_then(|s| toml::to_string(s.scenario()).ok())
                .unwrap_or_default();
            let observations = crate::content::experiments::experiments()
                .iter()
                .filter_map(|e| {
                    let answer = state.experiments.observations.get(&e.id)?;
                    (!answer.trim().is_empty())
                        .then(|| (lang.pick(&e.observation).to_string(), answer.clone()))
                })
                .collect();
            let commands = lab
                .session
                .as_ref()
                .map(|s| s.history().to_vec())
                .unwrap_or_default();
            let report = LabReport {
                lang,
                title: tr!(lang, "report-title"),
                student: (!state.student.trim().is_empty()).then(|| state.student.clone()),
                scenario_name: first.scenario.clone(),
                scenario_toml,
                commands,
                observations,
                runs: runs
                    .iter()
                    .map(|r| ReportRun {
                        label: format!("{} — {}", r.label(), r.command),
                        trace: &r.trace,
                    })
                    .collect(),
            };
            let html = crate::export::html::render(&report)?;
            crate::fsutil::write_atomically(path, html.as_bytes())?;
            written.push(path.clone());
        }
    }
    Ok(written)
}
