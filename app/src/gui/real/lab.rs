//! The Lab tab in real mode: pick hosts and a domain from the instructor's lists, run real
//! preflight, set `virsh migrate`'s flags, confirm, watch the migration live (real job
//! statistics and pings) with the simulator's prediction beside it, abort it, export it; and a
//! terminal logged in to one of the hosts ([`super::terminal`]).

use super::RealRuntime;
use crate::gui::LabRuntime;
use crate::gui::command::Command;
use crate::gui::lab::{export_ui, outcome_name, plots, preflight_ui};
use crate::gui::migrate_form::{Mode, options_ui};
use crate::gui::state::AppState;
use crate::sessions::real::{Busy, RealForm, RealSession, job_of, ping_target};
use crate::tr;
use migralab_sim_core::lang::Lang;
use migralab_sim_core::preflight::CheckStatus;
use migralab_sim_core::trace::Outcome;

/// Below this width (points) the tab stacks its two columns.
const NARROW: f32 = 820.0;

/// The terminal's height when the columns are stacked (and its least height otherwise).
#[cfg(target_os = "linux")]
const NARROW_TERMINAL: f32 = 320.0;

/// The share of the right column's height the terminal takes (the measurements get the rest).
#[cfg(target_os = "linux")]
const TERMINAL_SHARE: f32 = 0.55;

/// What the tab needs from the instructor's settings.
pub struct Allowed<'a> {
    /// `real_lab`: hosts, domains, ping target.
    pub lab: &'a crate::settings::RealModeSettings,
    /// The instructor is unlocked: a domain name may be typed.
    pub instructor: bool,
}

/// The Lab tab in real mode.
pub fn real_lab_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    real: &mut RealRuntime,
    lab: &mut LabRuntime,
    allowed: &Allowed<'_>,
    cmds: &mut Vec<Command>,
) {
    let lang = state.lang;
    super::banner_ui(ui, lang);
    state.real_form.fit(allowed.lab, allowed.instructor);
    let Some(session) = real.session.as_mut() else {
        return;
    };
    if session.busy().is_some() {
        // The elapsed time and the live plots move while the worker works.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
    }
    if ui.available_width() < NARROW {
        egui::ScrollArea::vertical()
            .id_salt("real_narrow_scroll")
            .show(ui, |ui| {
                setup_ui(
                    ui,
                    lang,
                    &mut state.real_form,
                    session,
                    &mut real.confirm,
                    allowed,
                );
                ui.separator();
                #[cfg(target_os = "linux")]
                {
                    ui.allocate_ui(egui::vec2(ui.available_width(), NARROW_TERMINAL), |ui| {
                        super::terminal::terminal_ui(
                            ui,
                            lang,
                            &mut real.terminal,
                            &allowed.lab.allowed_hosts,
                        );
                    });
                    ui.separator();
                }
                run_ui(ui, lang, session, real.last_run, lab, cmds);
            });
    } else {
        egui::Panel::left("real_left")
            .resizable(true)
            .default_size(440.0)
            .min_size(300.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("real_left_scroll")
                    .show(ui, |ui| {
                        setup_ui(
                            ui,
                            lang,
                            &mut state.real_form,
                            session,
                            &mut real.confirm,
                            allowed,
                        );
                    });
            });
        egui::CentralPanel::default().show(ui, |ui| {
            // The terminal on top, the measurements below it: a migration typed in the
            // terminal and its plots on one screen.
            #[cfg(target_os = "linux")]
            {
                let height = (ui.available_height() * TERMINAL_SHARE).max(NARROW_TERMINAL);
                ui.allocate_ui(egui::vec2(ui.available_width(), height), |ui| {
                    super::terminal::terminal_ui(
                        ui,
                        lang,
                        &mut real.terminal,
                        &allowed.lab.allowed_hosts,
                    );
                });
                ui.separator();
            }
            egui::ScrollArea::vertical()
                .id_salt("real_main_scroll")
                .show(ui, |ui| run_ui(ui, lang, session, real.last_run, lab, cmds));
        });
    }
    if real.confirm {
        confirm_ui(
            ui.ctx(),
            lang,
            &state.real_form,
            session,
            &mut real.confirm,
            allowed,
        );
    }
}

/// Hosts, domain, preflight and the form.
fn setup_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    form: &mut RealForm,
    session: &mut RealSession,
    confirm: &mut bool,
    allowed: &Allowed<'_>,
) {
    let busy = session.busy().is_some();
    ui.add_enabled_ui(!busy, |ui| choose_ui(ui, lang, form, allowed));
    ui.add_space(4.0);
    let ping = ping_target(allowed.lab);
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("{}:", tr!(lang, "real-ping")));
        match &ping {
            Ok(Some(ip)) => ui.monospace(ip.to_string()),
            Ok(None) => ui.weak(tr!(lang, "real-ping-none")),
            Err(bad) => ui.colored_label(
                ui.visuals().warn_fg_color,
                tr!(lang, "real-ping-bad", target = bad.clone()),
            ),
        };
    });
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        if ui
            .add_enabled(
                !busy && form.is_complete(),
                egui::Button::new(tr!(lang, "real-preflight")),
            )
            .on_hover_text(tr!(lang, "real-preflight-hover"))
            .clicked()
        {
            session.preflight(job_of(form, allowed.lab));
        }
        if let Some((Busy::Preflight, t)) = session.busy() {
            ui.spinner();
            ui.label(tr!(
                lang,
                "real-preflight-running",
                secs = format!("{:.1}", t.as_secs_f64())
            ));
        }
    });
    report_ui(ui, lang, session);
    ui.separator();
    form_ui(ui, lang, form, busy);
    ui.label(tr!(lang, "real-command"));
    let mut text = form.virsh_commands();
    ui.add(
        egui::TextEdit::multiline(&mut text)
            .code_editor()
            .interactive(false)
            .desired_rows(2)
            .desired_width(f32::INFINITY),
    );
    if ui
        .add_enabled(
            !busy && form.is_complete(),
            egui::Button::new(tr!(lang, "real-migrate")),
        )
        .on_hover_text(tr!(lang, "real-migrate-hover"))
        .clicked()
    {
        *confirm = true;
    }
    ui.separator();
    watch_ui(ui, lang, form, session, allowed);
}

/// Watching the source for migrations started elsewhere: a toggle, and what is watched.
pub(super) fn watch_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    form: &mut RealForm,
    session: &mut RealSession,
    allowed: &Allowed<'_>,
) {
    ui.checkbox(&mut form.watch, tr!(lang, "real-watch"))
        .on_hover_text(tr!(lang, "real-watch-hover"));
    let job = job_of(form, allowed.lab);
    let wanted = (form.watch && form.is_complete()).then_some(&job);
    // Follow the form: (re)start watching when the source or the hosts change.
    let watched_src = session
        .watching()
        .map(|(j, _)| (j.src.clone(), j.dst.clone()));
    match wanted {
        Some(j) if watched_src.as_ref() != Some(&(j.src.clone(), j.dst.clone())) => {
            session.watch(j.clone(), allowed.lab.allowed_domains.clone());
        }
        None if watched_src.is_some() => session.stop_watching(),
        _ => {}
    }
    if let Some((j, state)) = session.watching() {
        let host = crate::sessions::real::dest_name(&j.src);
        match state {
            Some(Err(e)) => {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    tr!(
                        lang,
                        "real-watching-failed",
                        host = host,
                        error = e.to_string()
                    ),
                );
            }
            _ => {
                ui.weak(tr!(
                    lang,
                    "real-watching",
                    host = host,
                    vms = allowed.lab.allowed_domains.join(", ")
                ));
            }
        }
    }
}

/// Source, destination and domain, from the instructor's lists only.
fn choose_ui(ui: &mut egui::Ui, lang: Lang, form: &mut RealForm, allowed: &Allowed<'_>) {
    let pick = |ui: &mut egui::Ui, id: &str, label: String, value: &mut String, list: &[String]| {
        ui.label(label.clone());
        egui::ComboBox::from_id_salt(id)
            .selected_text(value.clone())
            .width(280.0)
            .show_ui(ui, |ui| {
                for item in list {
                    ui.selectable_value(value, item.clone(), item.as_str());
                }
            })
            .response
            .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, label.clone()));
        ui.end_row();
    };
    egui::Grid::new("real_choose")
        .num_columns(2)
        .show(ui, |ui| {
            let hosts = &allowed.lab.allowed_hosts;
            pick(ui, "real_src", tr!(lang, "real-src"), &mut form.src, hosts);
            pick(ui, "real_dst", tr!(lang, "real-dst"), &mut form.dst, hosts);
            let domains = &allowed.lab.allowed_domains;
            if allowed.instructor {
                let label = ui.label(tr!(lang, "real-domain"));
                ui.horizontal(|ui| {
                    ui.add(
                        egui::TextEdit::singleline(&mut form.migrate.spec.vm).desired_width(160.0),
                    )
                    .labelled_by(label.id)
                    .on_hover_text(tr!(lang, "real-domain-free"));
                    egui::ComboBox::from_id_salt("real_vm_pick")
                        .selected_text("")
                        .width(24.0)
                        .show_ui(ui, |ui| {
                            for d in domains {
                                ui.selectable_value(
                                    &mut form.migrate.spec.vm,
                                    d.clone(),
                                    d.as_str(),
                                );
                            }
                        });
                });
                ui.end_row();
            } else {
                pick(
                    ui,
                    "real_vm",
                    tr!(lang, "real-domain"),
                    &mut form.migrate.spec.vm,
                    domains,
                );
            }
        });
    if allowed.lab.allowed_domains.is_empty() && !allowed.instructor {
        ui.colored_label(ui.visuals().warn_fg_color, tr!(lang, "real-no-domains"));
    }
}

/// The preflight's result: counts, then every check that is not a pass, open, with libvirt's
/// message.
fn report_ui(ui: &mut egui::Ui, lang: Lang, session: &RealSession) {
    let Some((result, job)) = session.report() else {
        return;
    };
    match result {
        Err(e) => {
            ui.label(tr!(lang, "real-preflight-failed"));
            ui.colored_label(
                ui.visuals().error_fg_color,
                egui::RichText::new(e).monospace(),
            );
        }
        Ok(report) => {
            let count = |s: CheckStatus| report.checks.iter().filter(|c| c.status == s).count();
            let (src, dst) = job.map_or((String::new(), String::new()), |j| {
                (j.src.clone(), j.dst.clone())
            });
            ui.label(tr!(
                lang,
                "real-preflight-summary",
                vm = report.vm.clone(),
                src = src,
                dst = dst,
                pass = count(CheckStatus::Pass).to_string(),
                fail = count(CheckStatus::Fail).to_string(),
                warn = count(CheckStatus::Warn).to_string(),
                unknown = count(CheckStatus::Unknown).to_string()
            ));
            preflight_ui(ui, lang, report, true);
        }
    }
}

/// `virsh migrate`'s flags, the bandwidth cap and the downtime limit.
fn form_ui(ui: &mut egui::Ui, lang: Lang, form: &mut RealForm, busy: bool) {
    ui.heading(tr!(lang, "real-form-title"));
    ui.add_enabled_ui(!busy, |ui| {
        options_ui(ui, lang, &mut form.migrate, Mode::Real);
    });
}

/// Nothing real happens before this is confirmed: it names the hosts, the VM and the commands.
fn confirm_ui(
    ctx: &egui::Context,
    lang: Lang,
    form: &RealForm,
    session: &mut RealSession,
    open: &mut bool,
    allowed: &Allowed<'_>,
) {
    let mut go = false;
    let modal = egui::Modal::new(egui::Id::unique("real_confirm")).show(ctx, |ui| {
        ui.set_max_width(560.0);
        ui.heading(tr!(lang, "real-confirm-title"));
        ui.label(tr!(
            lang,
            "real-confirm-body",
            vm = form.migrate.spec.vm.trim().to_string(),
            src = form.src.clone(),
            dst = form.dst.clone()
        ));
        let mut text = form.virsh_commands();
        ui.add(
            egui::TextEdit::multiline(&mut text)
                .code_editor()
                .interactive(false)
                .desired_rows(2)
                .desired_width(f32::INFINITY),
        );
        if let Ok(Some(ip)) = ping_target(allowed.lab) {
            ui.label(tr!(lang, "real-confirm-ping", target = ip.to_string()));
        }
        ui.label(tr!(lang, "real-confirm-abort"));
        ui.add_space(6.0);
        ui.horizontal(|ui| {
            let yes = egui::Button::new(
                egui::RichText::new(tr!(lang, "real-confirm-yes")).color(egui::Color32::WHITE),
            )
            .fill(super::REAL_COLOR);
            if ui.add(yes).clicked() {
                go = true;
            }
            if ui.button(tr!(lang, "real-confirm-no")).clicked() {
                *open = false;
            }
        });
    });
    if modal.should_close() {
        *open = false;
    }
    if go {
        *open = false;
        session.migrate(job_of(form, allowed.lab));
    }
}

/// The running migration (or the last one), the prediction beside it, the plots, export.
pub(super) fn run_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    session: &mut RealSession,
    last_run: Option<crate::sessions::lab::RunId>,
    lab: &LabRuntime,
    cmds: &mut Vec<Command>,
) {
    let finished = last_run.and_then(|id| lab.run(id));
    if let Some((Busy::Migration, t)) = session.busy() {
        let watched = session.live_is_watched();
        ui.horizontal_wrapped(|ui| {
            ui.spinner();
            let secs = format!("{:.1}", t.as_secs_f64());
            ui.label(if watched {
                tr!(lang, "real-watched-running", secs = secs)
            } else {
                tr!(lang, "real-running", secs = secs)
            });
            let abort = egui::Button::new(
                egui::RichText::new(tr!(lang, "real-abort")).color(egui::Color32::WHITE),
            )
            .fill(super::REAL_COLOR);
            if ui
                .add_enabled(!session.abort_requested(), abort)
                .on_hover_text(tr!(lang, "real-abort-hover"))
                .clicked()
            {
                session.abort();
            }
            if session.abort_requested() {
                ui.label(tr!(lang, "real-abort-requested"));
            }
        });
    } else if let Some(r) = finished {
        result_ui(ui, lang, r, cmds);
    } else {
        ui.label(tr!(lang, "real-no-run"));
    }
    for n in session.notices() {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            egui::RichText::new(n).monospace(),
        );
    }
    ui.separator();
    let measured = if session.is_migrating() {
        None
    } else {
        finished
    };
    super::compare::compare_ui(ui, lang, session, measured);
    ui.separator();
    let predicted = session.prediction().and_then(Result::ok);
    let mut shown = Vec::new();
    if let (true, Some(series)) = (session.is_migrating(), session.live_series()) {
        let label = session.live_job().map_or_else(String::new, |j| {
            format!(
                "{} -> {} ({})",
                j.spec.vm,
                j.spec.to,
                tr!(lang, "real-legend-live")
            )
        });
        shown.push(plots::Shown {
            series,
            label,
            until_s: f64::INFINITY,
        });
    } else if let Some(r) = finished {
        shown.push(plots::Shown {
            series: &r.series,
            label: r.label(),
            until_s: f64::INFINITY,
        });
    }
    if let Some(p) = predicted {
        shown.push(plots::Shown {
            series: &p.series,
            label: tr!(lang, "real-legend-predicted"),
            until_s: f64::INFINITY,
        });
    }
    plots::plots_ui(ui, lang, &shown, None, 120.0);
    ui.separator();
    export_ui(ui, lang, lab, cmds);
}

/// How the last real run ended, with libvirt's message exactly as libvirt gave it.
fn result_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    r: &crate::sessions::lab::RunRecord,
    cmds: &mut Vec<Command>,
) {
    let Some(o) = r.outcome() else {
        return;
    };
    let color = match o {
        Outcome::Completed { .. } => egui::Color32::from_rgb(0x2e, 0x8b, 0x57),
        Outcome::Aborted { .. }
        | Outcome::NotConverged { .. }
        | Outcome::TimeLimit(_)
        | Outcome::WorkLimit(_) => ui.visuals().warn_fg_color,
        Outcome::Failed { .. } => ui.visuals().error_fg_color,
    };
    ui.colored_label(
        color,
        egui::RichText::new(tr!(
            lang,
            "real-result",
            id = r.id.0.to_string(),
            outcome = outcome_name(o, lang)
        ))
        .strong(),
    );
    ui.monospace(&r.command);
    if matches!(o, Outcome::Completed { .. })
        && ui
            .button(tr!(lang, "real-twin"))
            .on_hover_text(tr!(lang, "real-twin-hover"))
            .clicked()
    {
        cmds.push(Command::BuildTwin(r.id));
    }
    if let Outcome::Failed { error, .. } = o {
        ui.label(tr!(lang, "real-libvirt-says"));
        ui.colored_label(
            ui.visuals().error_fg_color,
            egui::RichText::new(error.to_string()).monospace(),
        );
    }
}
