//! Real mode in the desktop app: the mode switch's rules, the REAL banner, and what happens to
//! a running real migration when the user leaves real mode or closes the window. The Lab tab's
//! real-mode panels are in [`lab`] (only in builds with the `real` feature); the libvirt work
//! itself is [`crate::sessions::real`], on a worker thread.

#[cfg(feature = "real")]
mod compare;
#[cfg(all(feature = "real", target_os = "linux"))]
pub mod experiments_real;
#[cfg(feature = "real")]
pub mod lab;
#[cfg(all(feature = "real", target_os = "linux"))]
pub mod terminal;

use super::LabRuntime;
use crate::sessions::lab::RunId;
use crate::sessions::real::Availability;
use crate::settings::InstructorSettings;
use crate::tr;
use migralab_sim_core::lang::Lang;

/// The badge colour of real mode: unmistakably not the simulator's blue.
pub const REAL_COLOR: egui::Color32 = egui::Color32::from_rgb(0xc0, 0x39, 0x2b);

/// Real mode's state while the app runs (never persisted: the app always starts simulated,
/// unless the instructor locked it to real mode).
#[derive(Debug, Default)]
pub struct RealRuntime {
    /// Real mode is on (the Lab tab shows the real lab).
    pub on: bool,
    /// The confirmation before a real migration is open.
    pub confirm: bool,
    /// The window was asked to close while a real migration runs: the question is open.
    pub close_asked: bool,
    /// The user confirmed closing (and aborting): let the next close request through.
    pub close_confirmed: bool,
    /// A real migration was aborted because the user went back to simulated mode.
    pub left_running: bool,
    /// The last real run (in the session history).
    pub last_run: Option<RunId>,
    /// The worker that talks to libvirt (started when real mode is first switched on).
    #[cfg(feature = "real")]
    pub session: Option<crate::sessions::real::RealSession>,
    /// The terminal on a lab host (ended when real mode is left or the app closes).
    #[cfg(all(feature = "real", target_os = "linux"))]
    pub terminal: terminal::TerminalRuntime,
    /// What really happened, in order, for the experiments in real mode.
    #[cfg(all(feature = "real", target_os = "linux"))]
    pub facts: crate::sessions::real::experiments::RealFacts,
    /// The allowed hosts are the lab in a box's (it says its storage layout; TCG).
    pub on_labbox: bool,
    /// The lab in a box being prepared for an experiment's half, on its own thread.
    #[cfg(all(feature = "real", target_os = "linux"))]
    pub prepare: Option<experiments_real::Preparing>,
    /// The Experiments tab's state in real mode.
    #[cfg(all(feature = "real", target_os = "linux"))]
    pub experiments: experiments_real::ExperimentsReal,
}

impl RealRuntime {
    /// Is a real migration running?
    pub fn is_migrating(&self) -> bool {
        #[cfg(feature = "real")]
        {
            self.session
                .as_ref()
                .is_some_and(crate::sessions::real::RealSession::is_migrating)
        }
        #[cfg(not(feature = "real"))]
        {
            false
        }
    }

    /// Switch real mode on or off. Off while a migration runs aborts it (and says so).
    pub fn set_on(&mut self, on: bool, ctx: &egui::Context) {
        if on == self.on {
            return;
        }
        if !on && self.is_migrating() {
            self.abort();
            self.left_running = true;
        }
        if !on {
            self.end_terminal();
        }
        if on {
            self.left_running = false;
            self.start_session(ctx);
        }
        self.confirm = false;
        self.on = on;
    }

    #[cfg(feature = "real")]
    fn start_session(&mut self, ctx: &egui::Context) {
        if self.session.is_none() {
            let waker_ctx = ctx.clone();
            self.session = Some(crate::sessions::real::RealSession::new(
                std::sync::Arc::new(move || waker_ctx.request_repaint()),
            ));
        }
    }

    #[cfg(not(feature = "real"))]
    fn start_session(&mut self, _ctx: &egui::Context) {}

    /// End the terminal's session, if any: its child is hung up, killed if it ignores that,
    /// and reaped.
    pub fn end_terminal(&mut self) {
        #[cfg(all(feature = "real", target_os = "linux"))]
        self.terminal.end();
    }

    /// Abort the running real migration, if any.
    pub fn abort(&mut self) {
        #[cfg(feature = "real")]
        if let Some(s) = &mut self.session {
            s.abort();
        }
    }

    /// Take what the worker finished: a finished migration joins the session history and is
    /// shown (played back at its end: it was watched live already). Lines typed in the
    /// terminal become facts for the experiments.
    pub fn poll(&mut self, lab: &mut LabRuntime) {
        #[cfg(all(feature = "real", target_os = "linux"))]
        {
            use crate::sessions::real::experiments::{FactKind, refusals};
            for line in self.terminal.take_typed() {
                let setup = self.setup_now();
                self.facts.push(FactKind::Typed(line), setup);
            }
            for (line, output) in self.terminal.take_finished() {
                let setup = self.setup_now();
                for fact in refusals(&line, &output) {
                    self.facts.push(fact, setup);
                }
            }
        }
        #[cfg(feature = "real")]
        if let Some(s) = &mut self.session
            && let Some(run) = s.poll(&mut lab.next_run_id)
        {
            self.add_run(lab, run);
        }
        #[cfg(not(feature = "real"))]
        let _ = lab;
        if !self.is_migrating() {
            // Nothing left to protect: a pending close question is moot.
            self.close_asked = false;
        }
    }

    /// Block until the real-mode worker is idle (tests; never called from a frame).
    pub fn wait_idle(&mut self, lab: &mut LabRuntime) {
        #[cfg(feature = "real")]
        if let Some(s) = &mut self.session {
            let runs = s.wait_idle(&mut lab.next_run_id, std::time::Duration::from_secs(120));
            for run in runs {
                self.add_run(lab, run);
            }
        }
        #[cfg(not(feature = "real"))]
        let _ = lab;
    }

    /// The storage layout now, when the hosts are the lab in a box's (other hosts do not say).
    #[cfg(all(feature = "real", target_os = "linux"))]
    pub fn setup_now(&self) -> Option<migralab_real::labbox::storage::Storage> {
        self.on_labbox.then(|| {
            migralab_real::labbox::storage_layout(&migralab_real::labbox::LabboxConfig::default())
        })
    }

    #[cfg(feature = "real")]
    fn add_run(&mut self, lab: &mut LabRuntime, mut run: crate::sessions::lab::RunRecord) {
        #[cfg(target_os = "linux")]
        {
            if let Some(line) =
                crate::sessions::real::experiments::cancelled_by(&self.facts, &run.vm)
            {
                run.mark_cancelled(&format!(
                    "cancelled: `{line}` was typed in the terminal while the job ran (libvirt keeps no statistics of a cancelled migration)"
                ));
            }
            let setup = self.setup_now();
            self.facts.push(
                crate::sessions::real::experiments::FactKind::Run(run.id),
                setup,
            );
        }
        self.last_run = Some(run.id);
        lab.playback = Some(crate::sessions::lab::Playback {
            run: run.id,
            cursor_s: run.span_end_s(),
            paused: false,
        });
        lab.runs.push(run);
    }
}

/// Why real mode cannot be switched on (`None`: it can).
pub fn unavailable_reason(a: Availability, lang: Lang) -> Option<String> {
    match a {
        Availability::Ready => None,
        Availability::NotBuilt => Some(tr!(lang, "mode-real-not-built")),
        Availability::LockedSimulated => Some(tr!(lang, "mode-locked-sim")),
        Availability::NoHosts => Some(tr!(lang, "mode-real-no-hosts")),
    }
}

/// Keep the mode inside what the settings allow: off when real mode became unavailable (the
/// instructor changed the settings), on when the instructor locked the lab to real mode.
pub fn follow_settings(real: &mut RealRuntime, settings: &InstructorSettings, ctx: &egui::Context) {
    #[cfg(target_os = "linux")]
    {
        let cfg = migralab_real::labbox::LabboxConfig::default();
        real.on_labbox = settings
            .real_lab
            .allowed_hosts
            .iter()
            .any(|u| migralab_real::labbox::host_of_uri(&cfg, u).is_some());
    }
    let available = Availability::of(settings) == Availability::Ready;
    if real.on && !available {
        real.set_on(false, ctx);
    } else if !real.on && available && settings.mode_locked == Some(crate::settings::LabMode::Real)
    {
        real.set_on(true, ctx);
    }
}

/// In REAL mode, on a tab that still runs the simulated lab (the Experiments): say so, plainly.
pub fn simulated_here_ui(ui: &mut egui::Ui, lang: Lang) {
    egui::Frame::new()
        .stroke(egui::Stroke::new(1.5, REAL_COLOR))
        .inner_margin(egui::Margin::symmetric(8, 4))
        .corner_radius(4.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                ui.label(egui::RichText::new(tr!(lang, "real-experiments-simulated")).strong());
                ui.label(tr!(lang, "real-experiments-simulated-detail"));
            });
        });
}

/// The banner over the Lab tab in real mode.
pub fn banner_ui(ui: &mut egui::Ui, lang: Lang) {
    banner_text_ui(
        ui,
        &tr!(lang, "real-banner"),
        &tr!(lang, "real-banner-detail"),
    );
}

/// A REAL banner: `title` in bold, `detail` after it, white on real mode's colour.
pub fn banner_text_ui(ui: &mut egui::Ui, title: &str, detail: &str) {
    egui::Frame::new()
        .fill(REAL_COLOR)
        .inner_margin(egui::Margin::symmetric(8, 4))
        .corner_radius(4.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal_wrapped(|ui| {
                ui.label(
                    egui::RichText::new(title)
                        .strong()
                        .color(egui::Color32::WHITE),
                );
                ui.label(egui::RichText::new(detail).color(egui::Color32::WHITE));
            });
        });
}

/// The notice in the simulated Lab tab after leaving real mode with a migration running.
pub fn left_running_ui(ui: &mut egui::Ui, lang: Lang, real: &RealRuntime) {
    if real.left_running && !real.on {
        ui.colored_label(ui.visuals().warn_fg_color, tr!(lang, "real-left-running"));
    }
}

/// The question when the window is closed while a real migration runs. Returns true when the
/// user chose to abort and close.
pub fn close_question_ui(ctx: &egui::Context, lang: Lang, real: &mut RealRuntime) -> bool {
    if !real.close_asked {
        return false;
    }
    let mut close = false;
    let modal = egui::Modal::new(egui::Id::unique("real_close_question")).show(ctx, |ui| {
        ui.set_max_width(460.0);
        ui.heading(tr!(lang, "real-close-title"));
        ui.label(tr!(lang, "real-close-body"));
        ui.horizontal(|ui| {
            if ui.button(tr!(lang, "real-close-yes")).clicked() {
                close = true;
            }
            if ui.button(tr!(lang, "real-close-no")).clicked() {
                real.close_asked = false;
            }
        });
    });
    if modal.should_close() {
        real.close_asked = false;
    }
    if close {
        real.abort();
        real.close_asked = false;
        real.close_confirmed = true;
    }
    close
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Without the `real` feature the switch stays disabled even when the instructor allowed
    /// hosts, and clicking it does nothing.
    #[cfg(not(feature = "real"))]
    #[test]
    fn a_build_without_real_mode_keeps_nyata_disabled() {
        use egui_kittest::kittest::{NodeT as _, Queryable as _};
        let dir = std::env::temp_dir().join(format!("migralab-norealgui-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("instructor.toml"),
            "format = 1\n[real_lab]\nallowed_hosts = [\"test:///default\"]\nallowed_domains = [\"test\"]\n",
        )
        .unwrap();
        let mut app = crate::gui::MigralabApp::new(crate::gui::state::AppState {
            tab: crate::gui::state::Tab::Lab,
            lang: Lang::En,
            ..Default::default()
        });
        app.shared.data_dir = Some(dir);
        let mut h = egui_kittest::Harness::builder()
            .with_size(egui::vec2(1280.0, 800.0))
            .with_max_steps(16)
            .build_ui_state(|ui, app: &mut crate::gui::MigralabApp| app.ui_root(ui), app);
        h.run();
        assert!(h.get_by_label("REAL").accesskit_node().is_disabled());
        let settings = h.state_mut().shared.settings().effective();
        assert_eq!(Availability::of(&settings), Availability::NotBuilt);
        h.get_by_label("REAL").click();
        h.run();
        assert!(!h.state().real.on);
    }

    #[test]
    fn every_unavailable_state_has_a_reason_in_both_languages() {
        for lang in [Lang::Id, Lang::En] {
            assert_eq!(unavailable_reason(Availability::Ready, lang), None);
            for a in [
                Availability::NotBuilt,
                Availability::LockedSimulated,
                Availability::NoHosts,
            ] {
                assert!(unavailable_reason(a, lang).is_some_and(|r| r.len() > 20));
            }
        }
        assert!(
            unavailable_reason(Availability::NotBuilt, Lang::En)
                .is_some_and(|r| r.contains("--features real")),
            "says how to get it"
        );
    }
}
