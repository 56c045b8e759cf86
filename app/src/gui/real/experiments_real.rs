//! The Experiments tab in real mode: the same guide, its steps typed in the terminal on the real
//! source host and judged from what really happened ([`crate::sessions::real::experiments`]).
//! A step the hosts cannot run says why and runs in the simulated lab instead, labelled; the
//! lab in a box can be prepared for each half of Experiment 1 (its storage layout) by a button
//! that says what it will do.

use super::{REAL_COLOR, RealRuntime};
use crate::gui::LabRuntime;
use crate::gui::command::Command;
use crate::gui::experiments::{
    self as guide, compare_button_ui, conclusion_ui, header_ui, is_visible, measured_of_runs,
    remember_done, sim_step_buttons_ui, step_row_ui,
};
use crate::gui::state::AppState;
use crate::sessions::lab::RunRecord;
use crate::sessions::real::experiments::{
    self as real_exp, BusyStandIn, Evidence, Hosts, SimReason, StepMode, busy_stand_in,
    experiment_scenario, layout, plan, real_line,
};
use crate::sessions::real::{dest_name, ping_target};
use crate::settings::InstructorSettings;
use crate::tr;
use migralab_course::experiments::{self as content, Experiment};
use migralab_real::labbox::storage::Storage;
use migralab_sim_core::lang::Lang;
use std::sync::mpsc::{Receiver, TryRecvError};

/// The lab in a box being prepared on its own thread (it migrates db01 home, switches the
/// storage layout: seconds).
#[derive(Debug)]
pub struct Preparing {
    /// The layout asked for.
    pub want: Storage,
    /// The writer db01 is to run (working set MiB, rate MiB/s), for a busy scenario.
    pub writer: Option<(u64, u64)>,
    rx: Receiver<Result<(), String>>,
}

/// The Experiments tab's state in real mode (not persisted).
#[derive(Debug, Default)]
pub struct ExperimentsReal {
    /// The right side shows the simulated lab (for the steps the hosts cannot run).
    pub show_simulated: bool,
    /// Watching was switched on for the experiments once (the student may switch it off).
    pub watch_set: bool,
    /// How the last preparation ended.
    pub prepared: Option<Result<Storage, String>>,
}

/// What the hosts are, from the settings and the form.
pub fn hosts_of<'a>(
    settings: &'a InstructorSettings,
    state: &AppState,
    on_labbox: bool,
) -> Hosts<'a> {
    let cfg = migralab_real::labbox::LabboxConfig::default();
    let dst = &state.real_form.dst;
    Hosts {
        domains: &settings.real_lab.allowed_domains,
        labbox: on_labbox,
        // A URI that names no host (`test:///default`) renames nothing in the lines.
        dst_host: migralab_real::labbox::host_of_uri(&cfg, dst)
            .map(str::to_string)
            .or_else(|| Some(dest_name(dst)).filter(|h| !h.contains("://")))
            .unwrap_or_default(),
        ping: ping_target(&settings.real_lab).ok().flatten(),
    }
}

/// The Experiments tab in real mode.
pub fn experiments_real_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    real: &mut RealRuntime,
    lab: &mut LabRuntime,
    settings: &InstructorSettings,
    instructor: bool,
    cmds: &mut Vec<Command>,
) {
    let lang = state.lang;
    poll_prepare(real);
    state.real_form.fit(&settings.real_lab, instructor);
    if !real.experiments.watch_set {
        // Watching only reads job statistics: the experiments need it to see a migration typed
        // in the terminal, so it starts on; the switch stays the student's.
        state.real_form.watch = true;
        real.experiments.watch_set = true;
    }
    banner_ui(ui, lang);
    let visible = settings.visible.experiments.as_deref();
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
    let hosts = hosts_of(settings, state, real.on_labbox);
    egui::Panel::left("exp_real_guide")
        .resizable(true)
        .default_size(470.0)
        .min_size(320.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("exp_real_guide_scroll")
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
                        guide_ui(ui, exp, state, real, lab, settings, &hosts, cmds);
                    }
                });
        });
    egui::CentralPanel::default().show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.selectable_value(
                &mut real.experiments.show_simulated,
                false,
                tr!(lang, "exp-real-view-hosts"),
            );
            ui.selectable_value(
                &mut real.experiments.show_simulated,
                true,
                tr!(lang, "exp-real-view-sim"),
            );
        });
        if real.experiments.show_simulated {
            super::simulated_here_ui(ui, lang);
            if let Some(s) = &lab.session {
                ui.label(
                    egui::RichText::new(format!(
                        "{} {}",
                        tr!(lang, "lab-scenario"),
                        s.scenario_name
                    ))
                    .strong(),
                );
            }
            crate::gui::lab::terminal::terminal_ui(ui, lang, lab, cmds, 150.0);
            crate::gui::lab::lab_main_ui(ui, state, lab, cmds, false);
        } else {
            hosts_view_ui(ui, state, real, lab, settings, instructor, cmds);
        }
    });
}

/// The real side: the terminal on the source, what is watched, the run and its plots.
fn hosts_view_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    real: &mut RealRuntime,
    lab: &mut LabRuntime,
    settings: &InstructorSettings,
    instructor: bool,
    cmds: &mut Vec<Command>,
) {
    let lang = state.lang;
    let height = (ui.available_height() * 0.5).max(260.0);
    ui.allocate_ui(egui::vec2(ui.available_width(), height), |ui| {
        super::terminal::terminal_ui(
            ui,
            lang,
            &mut real.terminal,
            &settings.real_lab.allowed_hosts,
        );
    });
    ui.separator();
    let allowed = super::lab::Allowed {
        lab: &settings.real_lab,
        instructor,
    };
    let last = real.last_run;
    let Some(session) = real.session.as_mut() else {
        return;
    };
    if session.busy().is_some() {
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
    }
    super::lab::watch_ui(ui, lang, &mut state.real_form, session, &allowed);
    egui::ScrollArea::vertical()
        .id_salt("exp_real_main_scroll")
        .show(ui, |ui| {
            super::lab::run_ui(ui, lang, session, last, lab, cmds)
        });
}

/// The REAL frame over the tab: what runs where.
fn banner_ui(ui: &mut egui::Ui, lang: Lang) {
    super::banner_text_ui(
        ui,
        &tr!(lang, "exp-real-banner"),
        &tr!(lang, "exp-real-banner-detail"),
    );
}

/// Why a step runs in the simulated lab, in words.
pub fn reason_text(lang: Lang, r: &SimReason) -> String {
    match r {
        SimReason::NoDomain { vm } => tr!(lang, "exp-real-sim-no-domain", vm = vm.clone()),
        SimReason::NeedsKvm { vm } => tr!(lang, "exp-real-sim-needs-kvm", vm = vm.clone()),
    }
}

/// Which steps are done, and by what: real steps by real facts in order (or remembered from
/// before), simulated ones by the simulated lab.
pub fn steps_state(
    exp: &Experiment,
    state: &AppState,
    real: &RealRuntime,
    lab: &LabRuntime,
    hosts: &Hosts<'_>,
) -> (Vec<StepMode>, Vec<Option<Evidence>>, Vec<bool>) {
    let modes = plan(exp, hosts, experiment_scenario);
    let evidence = real_exp::judge(
        exp,
        &modes,
        &real.facts,
        &lab.runs,
        hosts,
        experiment_scenario,
    );
    let sim = guide::steps_done(exp, state, lab);
    let remembered = state.experiments.done_real.get(&exp.id);
    let done = exp
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| match modes[i] {
            StepMode::Real => {
                evidence[i].is_some() || remembered.is_some_and(|d| d.contains(&step.id))
            }
            StepMode::Simulated(_) => sim[i],
        })
        .collect();
    (modes, evidence, done)
}

#[allow(clippy::too_many_arguments)]
fn guide_ui(
    ui: &mut egui::Ui,
    exp: &Experiment,
    state: &mut AppState,
    real: &mut RealRuntime,
    lab: &LabRuntime,
    settings: &InstructorSettings,
    hosts: &Hosts<'_>,
    cmds: &mut Vec<Command>,
) {
    let lang = state.lang;
    header_ui(ui, exp, lang);
    let (modes, evidence, done) = steps_state(exp, state, real, lab, hosts);
    let real_done: Vec<bool> = done
        .iter()
        .zip(&modes)
        .map(|(d, m)| *d && *m == StepMode::Real)
        .collect();
    remember_done(&mut state.experiments.done_real, exp, &real_done);
    let current = lab
        .session
        .as_ref()
        .map(|s| s.scenario_name.clone())
        .unwrap_or_default();
    let sim_busy = lab.session.as_ref().is_some_and(|s| s.is_busy());
    let setup = real.setup_now();
    let migrating = real.is_migrating();
    for (i, step) in exp.steps.iter().enumerate() {
        let scenario = exp.step_scenario(i).and_then(experiment_scenario);
        let text = lang.pick(&step.text);
        let text = scenario.map_or_else(|| text.to_string(), |sc| real_line(text, sc, hosts));
        step_row_ui(ui, done[i], &text, |ui| match &modes[i] {
            StepMode::Real => {
                if let (Some(sc), true) = (scenario, step.scenario.is_some()) {
                    let busy = busy_stand_in(sc, hosts);
                    if let Some(b) = busy {
                        stand_in_ui(ui, lang, &b);
                    }
                    prepare_ui(ui, lang, real, setup, layout(sc), busy, migrating);
                }
                if let (Some(line), Some(sc)) = (&step.command, scenario) {
                    let line = real_exp::real_command(line, sc, hosts);
                    let button = egui::Button::new(tr!(lang, "exp-real-type"));
                    // The step runs on the source: never typed into a terminal on another host.
                    let elsewhere = real.terminal.is_running()
                        && real.terminal.login_override.is_none()
                        && real.terminal.host != state.real_form.src;
                    // A line that starts a migration waits for the one running to end; one
                    // that reads or cancels it (`virsh domjobinfo`, `domjobabort`) is for then.
                    let migrates = content::commands_of(&line)
                        .any(|c| c.split_whitespace().take(2).eq(["virsh", "migrate"]));
                    let blocked = elsewhere || (migrating && migrates);
                    let resp = ui
                        .add_enabled(!blocked, button)
                        .on_hover_text(tr!(lang, "exp-real-type-hover"));
                    let resp = if elsewhere {
                        resp.on_disabled_hover_text(tr!(
                            lang,
                            "exp-real-type-elsewhere",
                            host = dest_name(&real.terminal.host)
                        ))
                    } else {
                        resp
                    };
                    if resp.clicked() {
                        real.terminal.ensure_started(
                            ui.ctx(),
                            &settings.real_lab.allowed_hosts,
                            &state.real_form.src,
                        );
                        real.terminal.type_line(&line);
                        real.experiments.show_simulated = false;
                    }
                    ui.label(egui::RichText::new(&line).monospace().small());
                    if line.contains("kill -INT $!") {
                        ui.end_row();
                        ui.label(egui::RichText::new(tr!(lang, "exp-real-ping-ctrl-c")).small());
                    }
                }
            }
            StepMode::Simulated(why) => {
                ui.label(
                    egui::RichText::new(tr!(lang, "exp-real-sim-badge"))
                        .strong()
                        .color(REAL_COLOR),
                );
                ui.label(egui::RichText::new(reason_text(lang, why)).small());
                let before = cmds.len();
                sim_step_buttons_ui(ui, lang, exp, i, &current, sim_busy, cmds);
                if cmds.len() > before {
                    real.experiments.show_simulated = true;
                }
            }
        });
    }
    let compared = compared_runs(exp, &modes, &evidence, lab);
    if let Some((Some(a), Some(b))) = compared {
        compare_button_ui(ui, lang, a.id, b.id, cmds);
    }
    let measured = compared_values(exp, &modes, &evidence, lab);
    conclusion_ui(
        ui,
        exp,
        state,
        lab.observation_status.as_deref(),
        &measured,
        cmds,
    );
}

/// The runs the explanation compares (`compare = { a, b }`): for each, the real run that did
/// its step, or the simulated one when the step runs simulated.
pub fn compared_runs<'l>(
    exp: &Experiment,
    modes: &[StepMode],
    evidence: &[Option<Evidence>],
    lab: &'l LabRuntime,
) -> Option<(Option<&'l RunRecord>, Option<&'l RunRecord>)> {
    let run_for = |id: &str| run_of(exp, id, modes, evidence, lab);
    exp.compare.as_ref().map(|c| (run_for(&c.a), run_for(&c.b)))
}

/// The run that did step `id`: the real run of its evidence, or the simulated one when the
/// step runs simulated.
fn run_of<'l>(
    exp: &Experiment,
    id: &str,
    modes: &[StepMode],
    evidence: &[Option<Evidence>],
    lab: &'l LabRuntime,
) -> Option<&'l RunRecord> {
    let i = exp.steps.iter().position(|s| s.id == id)?;
    match modes.get(i)? {
        StepMode::Real => evidence
            .get(i)
            .copied()
            .flatten()
            .and_then(|e| e.run)
            .and_then(|r| lab.run(r)),
        StepMode::Simulated(_) => guide::run_of_step(exp, id, lab),
    }
}

/// What the compared runs measured (`compare = { a, b, c }`), by placeholder name: the real
/// run that did each step, or the simulated one when the step runs simulated.
pub fn compared_values(
    exp: &Experiment,
    modes: &[StepMode],
    evidence: &[Option<Evidence>],
    lab: &LabRuntime,
) -> std::collections::BTreeMap<String, f64> {
    let mut values = compared_runs(exp, modes, evidence, lab)
        .map_or_else(Default::default, |(a, b)| measured_of_runs(a, b));
    let third = exp
        .compare
        .as_ref()
        .and_then(|c| c.c.as_deref())
        .and_then(|id| run_of(exp, id, modes, evidence, lab));
    if let Some(c) = third {
        crate::gui::experiments::measure_run(&mut values, "c", c);
    }
    values
}

/// How the lab in a box stands in for a busy scenario, said under the step that opens it.
fn stand_in_ui(ui: &mut egui::Ui, lang: Lang, b: &BusyStandIn) {
    ui.label(
        egui::RichText::new(tr!(
            lang,
            "exp-real-stand-in",
            writer = writer_text(lang, b.writer),
            cap = b.cap_mibps,
            link = format!("{:.0}", b.link_mibps)
        ))
        .small()
        .italics(),
    );
}

fn writer_text(lang: Lang, (set, rate): (u64, u64)) -> String {
    tr!(lang, "exp-real-busy-writer", set = set, rate = rate)
}

/// On the lab in a box, the button that gets the hosts ready for a half that needs another
/// storage layout (and, for a busy scenario, db01 home with its writer); on other hosts, what
/// the half needs from them.
fn prepare_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    real: &mut RealRuntime,
    setup: Option<Storage>,
    want: Storage,
    busy: Option<BusyStandIn>,
    migrating: bool,
) {
    let name = |s: Storage| match s {
        Storage::Shared => tr!(lang, "exp-real-layout-shared"),
        Storage::Local => tr!(lang, "exp-real-layout-local"),
    };
    if let Some(p) = &real.prepare {
        ui.spinner();
        let what = match p.writer {
            Some(w) => format!("{}, {}", name(p.want), writer_text(lang, w)),
            None => name(p.want),
        };
        ui.label(tr!(lang, "exp-real-preparing", layout = what));
        return;
    }
    if let (Some(b), Some(_)) = (busy, setup) {
        // Whether db01 is home is not known without asking libvirt: the button is always
        // there, and does nothing that is done already.
        let writer = writer_text(lang, b.writer);
        let now =
            migralab_real::labbox::guest_writer(&migralab_real::labbox::LabboxConfig::default());
        if now == Some(b.writer) && setup == Some(want) {
            ui.label(
                egui::RichText::new(tr!(lang, "exp-real-busy-ready", writer = writer.clone()))
                    .small(),
            );
        }
        if ui
            .add_enabled(
                !migrating,
                egui::Button::new(tr!(
                    lang,
                    "exp-real-prepare-busy",
                    layout = name(want),
                    writer = writer.clone()
                )),
            )
            .on_hover_text(tr!(
                lang,
                "exp-real-prepare-busy-hover",
                layout = name(want),
                writer = writer
            ))
            .clicked()
        {
            start_prepare(real, want, Some(b.writer), ui.ctx());
        }
        prepared_error_ui(ui, real);
        return;
    }
    match setup {
        Some(now) if now == want => {
            ui.label(
                egui::RichText::new(tr!(lang, "exp-real-layout-ready", layout = name(want)))
                    .small(),
            );
        }
        Some(_) => {
            if ui
                .add_enabled(
                    !migrating,
                    egui::Button::new(tr!(lang, "exp-real-prepare", layout = name(want))),
                )
                .on_hover_text(tr!(lang, "exp-real-prepare-hover", layout = name(want)))
                .clicked()
            {
                start_prepare(real, want, None, ui.ctx());
            }
        }
        None => {
            ui.label(
                egui::RichText::new(tr!(lang, "exp-real-layout-needed", layout = name(want)))
                    .small(),
            );
        }
    }
    prepared_error_ui(ui, real);
}

/// How the last preparation failed, if it did.
fn prepared_error_ui(ui: &mut egui::Ui, real: &RealRuntime) {
    if let Some(Err(e)) = &real.experiments.prepared {
        ui.colored_label(
            ui.visuals().error_fg_color,
            egui::RichText::new(e).monospace(),
        );
    }
}

fn start_prepare(
    real: &mut RealRuntime,
    want: Storage,
    writer: Option<(u64, u64)>,
    ctx: &egui::Context,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let waker = ctx.clone();
    let spawned = std::thread::Builder::new()
        .name("labbox-prepare".into())
        .spawn(move || {
            let cfg = migralab_real::labbox::LabboxConfig::default();
            let r = match writer {
                Some(w) => migralab_real::labbox::prepare_guest(&cfg, want, w),
                None => migralab_real::labbox::prepare_storage(&cfg, want),
            }
            .map(drop)
            .map_err(|e| e.to_string());
            let _ = tx.send(r);
            waker.request_repaint();
        });
    match spawned {
        Ok(_) => {
            real.experiments.prepared = None;
            real.prepare = Some(Preparing { want, writer, rx });
        }
        Err(e) => real.experiments.prepared = Some(Err(e.to_string())),
    }
}

/// Take the preparation's end, if it came.
fn poll_prepare(real: &mut RealRuntime) {
    let Some(p) = &real.prepare else {
        return;
    };
    let ended = match p.rx.try_recv() {
        Ok(r) => Some(r.map(|()| p.want)),
        Err(TryRecvError::Empty) => None,
        Err(TryRecvError::Disconnected) => Some(Err("the preparation stopped".to_string())),
    };
    if let Some(r) = ended {
        real.experiments.prepared = Some(r);
        real.prepare = None;
    }
}

/// Block until a preparation ends (tests; never called from a frame).
pub fn wait_prepared(real: &mut RealRuntime, timeout: std::time::Duration) {
    let end = std::time::Instant::now() + timeout;
    while real.prepare.is_some() && std::time::Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(50));
        poll_prepare(real);
    }
}
