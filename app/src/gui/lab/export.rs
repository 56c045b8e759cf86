//! Exports from the GUI: figures (PNG + SVG, the same series as on screen), the trace (CSV +
//! JSON) and the self-contained HTML lab report. The same code as `migralab report`.

use crate::export::figures::{self, Figure};
use crate::export::html::{LabReport, ReportRun};
use crate::gui::LabRuntime;
use crate::gui::command::ExportWhat;
use crate::gui::state::AppState;
use crate::sessions::lab::RunRecord;
use crate::tr;
use anyhow::Context as _;
use migralab_sim_core::lang::Lang;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;

/// Where exports go: `MIGRALAB_EXPORT_DIR`, else `~/migralab-laporan` (the home folder's
/// `migralab-laporan`), else the current directory.
pub fn default_dir(lab: &LabRuntime) -> PathBuf {
    if let Some(d) = &lab.export_dir {
        return d.clone();
    }
    if let Some(d) = std::env::var_os("MIGRALAB_EXPORT_DIR") {
        return PathBuf::from(d);
    }
    directories::UserDirs::new()
        .map(|u| u.home_dir().join("migralab-laporan"))
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Everything an export needs, owned, so it can run off the UI thread.
pub struct ExportInput {
    lang: Lang,
    student: Option<String>,
    runs: Vec<RunRecord>,
    scenario_toml: String,
    commands: Vec<String>,
    observations: Vec<(String, String)>,
}

impl ExportInput {
    /// Take what the export needs from the app: the run shown and the compared one, the
    /// scenario, the commands typed and the observations written.
    pub fn gather(state: &AppState, lab: &LabRuntime) -> ExportInput {
        let lang = state.lang;
        let mut runs: Vec<RunRecord> = lab.current_run().into_iter().cloned().collect();
        if let Some(c) = lab.compare.and_then(|c| lab.run(c))
            && runs.first().is_none_or(|r| r.id != c.id)
        {
            runs.push(c.clone());
        }
        // A real run has no scenario: its "scenario" is the hosts and the command.
        let real = runs.first().filter(|r| r.trace.backend == "real");
        let scenario_toml = match real {
            Some(r) => real_setup_toml(r),
            None => lab
                .session
                .as_ref()
                .and_then(|s| toml::to_string(s.scenario()).ok())
                .unwrap_or_default(),
        };
        let observations = migralab_course::experiments::experiments()
            .iter()
            .filter_map(|e| {
                let answer = state.experiments.observations.get(&e.id)?;
                (!answer.trim().is_empty())
                    .then(|| (lang.pick(&e.observation).to_string(), answer.clone()))
            })
            .collect();
        let commands = match real {
            Some(r) => vec![r.command.clone()],
            None => lab
                .session
                .as_ref()
                .map(|s| s.history().to_vec())
                .unwrap_or_default(),
        };
        ExportInput {
            lang,
            student: (!state.student.trim().is_empty()).then(|| state.student.clone()),
            runs,
            scenario_toml,
            commands,
            observations,
        }
    }
}

/// A real run's setup as TOML for the report: the two URIs and the migration's parameters.
fn real_setup_toml(r: &RunRecord) -> String {
    // TOML's own quoting (a URI may hold quotes or backslashes).
    let uri = |k: &str| {
        toml::Value::from(
            r.trace
                .scenario
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or(""),
        )
        .to_string()
    };
    let mut text = format!(
        "# real migration (libvirt)\nsrc = {}\ndst = {}\n\n[migration]\n",
        uri("src"),
        uri("dst")
    );
    text.push_str(&toml::to_string(&r.spec).unwrap_or_default());
    text
}

/// Start an export on a worker thread; the message saying what happened arrives on the channel
/// (and `waker` is called) when it is done. Rendering PNGs of long runs takes a moment: the
/// window must not freeze meanwhile.
pub fn start(
    what: ExportWhat,
    input: ExportInput,
    waker: Box<dyn Fn() + Send>,
) -> Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("export".into())
        .spawn(move || {
            let lang = input.lang;
            let msg = match try_export(&what, &input) {
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
            };
            let _ = tx.send(msg);
            waker();
        });
    if let Err(e) = spawned {
        let (tx, rx) = std::sync::mpsc::channel();
        let _ = tx.send(format!("cannot start the export: {e}"));
        return rx;
    }
    rx
}

/// Do the export now (the worker's body; also what tests call).
pub fn try_export(what: &ExportWhat, input: &ExportInput) -> anyhow::Result<Vec<PathBuf>> {
    let runs = &input.runs;
    let first = runs
        .first()
        .context("no run to export yet: run a migration first")?;
    let lang = input.lang;
    let mut written = Vec::new();
    let mkdir = |d: &Path| {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))
    };
    match what {
        ExportWhat::Figures(dir) => {
            mkdir(dir)?;
            let labelled: Vec<(String, &crate::sessions::series::RunSeries)> =
                runs.iter().map(|r| (r.label(), &r.series)).collect();
            let refs: Vec<(&str, &crate::sessions::series::RunSeries)> =
                labelled.iter().map(|(l, s)| (l.as_str(), *s)).collect();
            for fig in Figure::all() {
                let svg = figures::svg(fig, &refs, lang)?;
                let path = dir.join(format!("{}.svg", fig.file_stem()));
                crate::storage::write_atomically(&path, svg.as_bytes())?;
                written.push(path);
                let png = figures::png(fig, &refs, lang, (1200, 600))?;
                let path = dir.join(format!("{}.png", fig.file_stem()));
                crate::storage::write_atomically(&path, &png)?;
                written.push(path);
            }
        }
        ExportWhat::Data(dir) => {
            mkdir(dir)?;
            let stem = format!("run-{}", first.id.0);
            let csv = crate::export::text::ProgressCsv(&first.trace).to_string();
            let path = dir.join(format!("{stem}.csv"));
            crate::storage::write_atomically(&path, csv.as_bytes())?;
            written.push(path);
            let json = first
                .trace
                .to_json()
                .context("cannot serialise the trace")?;
            let path = dir.join(format!("{stem}.json"));
            crate::storage::write_atomically(&path, json.as_bytes())?;
            written.push(path);
        }
        ExportWhat::Report(path) => {
            if let Some(dir) = path.parent()
                && !dir.as_os_str().is_empty()
            {
                mkdir(dir)?;
            }
            let report = LabReport {
                lang,
                title: tr!(lang, "report-title"),
                student: input.student.clone(),
                scenario_name: first.scenario.clone(),
                scenario_toml: input.scenario_toml.clone(),
                commands: input.commands.clone(),
                observations: input.observations.clone(),
                runs: runs
                    .iter()
                    .map(|r| ReportRun {
                        label: format!("{} — {}", r.label(), r.command),
                        trace: &r.trace,
                    })
                    .collect(),
            };
            let html = crate::export::html::render(&report)?;
            crate::storage::write_atomically(path, html.as_bytes())?;
            written.push(path.clone());
        }
    }
    Ok(written)
}
