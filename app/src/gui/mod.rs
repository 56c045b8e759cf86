//! The desktop app (eframe/egui): lesson, lab, experiments, quiz and instructor tabs over the
//! same sim-core lab the command line uses.
//!
//! Shape (after egui_demo_app and rerun): one persisted [`AppState`]; app-wide runtime state
//! (the data directory, the instructor's settings, the unlock) in [`shared::Shared`], owned by
//! the app and handed to the panels; the open lab, its runs and playback in [`LabRuntime`]; panels are `*_ui(ui, ...)` functions that edit
//! view state directly and push a `#[must_use]` [`Command`] for anything that touches the lab,
//! files or several panels, applied after every panel has drawn. Long work (a migration in the
//! lab shell) runs on a worker thread and wakes the UI when it is done.

pub mod class_view;
pub mod command;
pub mod experiments;
pub mod instructor_tab;
pub mod jobinfo_help;
pub mod lab;
pub mod lesson;
pub mod migrate_form;
pub mod quiz_tab;
pub mod real;
pub mod shared;
pub mod state;
mod top_bar;
pub mod widgets;

use crate::sessions::lab::{LabSession, Playback, RunId, RunRecord};
use crate::sessions::migrate_form::MigrateForm;
pub use command::Command;
use migralab_sim_core::lang::Lang;
use migralab_sim_core::time::{SimDuration, SimTime};
use state::{AppState, Tab, ThemePref};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What the window opens on (`migralab gui`'s validated options).
#[derive(Debug, Default)]
pub struct Launch {
    /// Scenario to open the lab on, if given (checked to load).
    pub scenario: Option<String>,
    /// Language override.
    pub lang: Option<Lang>,
    /// Screenshot-and-quit target.
    pub screenshot: Option<PathBuf>,
    /// Tab override.
    pub tab: Option<Tab>,
    /// Open the Lab tab with the what-if panel shown.
    pub whatif: bool,
}

/// The window's app id (Wayland) and class (X11): the desktop entry's `StartupWMClass`, by
/// which a dock finds the entry and its icon.
pub const APP_ID: &str = "migralab";

/// The window's icon: the Debian package's (`app/packaging/icons/`), built into the binary, so a
/// window of a `cargo run` build has it too. `None` only if the embedded PNG did not decode.
pub fn window_icon() -> Option<egui::IconData> {
    eframe::icon_data::from_png_bytes(include_bytes!("../../packaging/icons/migralab-64.png")).ok()
}

/// Open the window and run until it is closed.
pub fn run(config: Launch) -> anyhow::Result<std::process::ExitCode> {
    if cfg!(target_os = "linux")
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        anyhow::bail!(
            "no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so the desktop app cannot open; \
             in a terminal use `migralab sim`, `migralab shell`, `migralab preflight` or `migralab quiz` \
             (see `migralab --help`)"
        );
    }
    let launched = std::time::Instant::now();
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("migralab")
        .with_app_id(APP_ID)
        .with_inner_size([1280.0, 800.0])
        .with_min_inner_size([800.0, 560.0]);
    if let Some(icon) = window_icon() {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport,
        persistence_path: crate::storage::data_dir().ok().map(|d| d.join("gui.ron")),
        ..Default::default()
    };
    let screenshot = config.screenshot.clone();
    let failed = Arc::new(std::sync::Mutex::new(None::<String>));
    let failed_in_app = failed.clone();
    eframe::run_native(
        "migralab",
        options,
        Box::new(move |cc| {
            let mut state: AppState = cc
                .storage
                .and_then(|s| eframe::get_value(s, eframe::APP_KEY))
                .unwrap_or_default();
            if let Some(lang) = config.lang {
                state.lang = lang;
            }
            if let Some(s) = &config.scenario {
                state.lab.scenario = s.clone();
                state.tab = Tab::Lab;
            }
            if let Some(tab) = config.tab {
                state.tab = tab;
            }
            if config.whatif {
                state.lab.whatif = true;
                state.tab = Tab::Lab;
            }
            let mut app = MigralabApp::new(state);
            app.launched = Some(launched);
            app.screenshot = screenshot.map(|path| ScreenshotJob {
                path,
                requested: false,
                failed: failed_in_app,
            });
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("the desktop app failed: {e}"))?;
    if let Ok(guard) = failed.lock()
        && let Some(msg) = guard.as_ref()
    {
        anyhow::bail!("{msg}");
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `--screenshot FILE`: save the first settled frame and quit.
struct ScreenshotJob {
    path: PathBuf,
    requested: bool,
    failed: Arc<std::sync::Mutex<Option<String>>>,
}

/// The open lab and everything that lives only as long as the app runs.
#[derive(Debug, Default)]
pub struct LabRuntime {
    /// The simulated lab (opened on first use).
    pub session: Option<LabSession>,
    /// Why the last scenario could not be opened.
    pub open_error: Option<String>,
    /// Every run of this session, oldest first (kept across scenarios, for comparisons).
    pub runs: Vec<RunRecord>,
    /// The last run id handed out.
    pub next_run_id: u32,
    /// The run being shown and where its playback stands.
    pub playback: Option<Playback>,
    /// A second run overlaid on the plots.
    pub compare: Option<RunId>,
    /// The terminal's input line.
    pub input: String,
    /// Position while walking the history with ↑/↓.
    pub history_pos: Option<usize>,
    /// Wall seconds not yet turned into lab time for running background jobs.
    bg_wall_s: f64,
    /// The last export's result, shown under the export buttons.
    pub export_status: Option<String>,
    /// Every line typed in a lab terminal: `(scenario, line)` (the experiments judge by it).
    pub typed: Vec<(String, String)>,
    /// `wait_idle` took runs that the next frame has not seen yet.
    waited: bool,
    /// Where exports go (`None`: `MIGRALAB_EXPORT_DIR`, else `~/migralab-laporan`). Tests set it.
    pub export_dir: Option<PathBuf>,
    /// The export running on its worker, if any.
    pub export_job: Option<std::sync::mpsc::Receiver<String>>,
    /// What happened to the last observation saved in the student's profile.
    pub observation_status: Option<String>,
    /// The what-if panel's state and its worker.
    pub whatif: crate::sessions::whatif::explorer::Explorer,
}

impl LabRuntime {
    /// A run by id.
    pub fn run(&self, id: RunId) -> Option<&RunRecord> {
        self.runs.iter().find(|r| r.id == id)
    }

    /// The run shown (the one being played back).
    pub fn current_run(&self) -> Option<&RunRecord> {
        self.playback.and_then(|p| self.run(p.run))
    }

    /// Is `id` still being played back (its command's output not shown yet)?
    pub fn is_playing(&self, id: RunId) -> bool {
        match (self.playback, self.run(id)) {
            (Some(p), Some(r)) if p.run == id => !p.is_done(r.span_end_s()),
            _ => false,
        }
    }

    /// Take new runs from the lab and start playing the newest. True when runs arrived.
    fn poll(&mut self) -> bool {
        let Some(session) = &mut self.session else {
            return false;
        };
        let new = session.poll(&mut self.next_run_id);
        let live = session.live_runs();
        let any = !new.is_empty();
        self.add_runs(new);
        if live
            && any
            && let Some(p) = &mut self.playback
        {
            // It ran while the student watched: show it whole, not again.
            if let Some(end) = self
                .runs
                .iter()
                .find(|r| r.id == p.run)
                .map(|r| r.span_end_s())
            {
                p.cursor_s = end;
            }
        }
        any
    }

    fn add_runs(&mut self, new: Vec<RunRecord>) {
        let mut fresh = Vec::new();
        for run in new {
            // A replay (Ctrl-C, a line typed during playback) keeps its runs' ids: the played run
            // goes on from where it is.
            match self.runs.iter_mut().find(|r| r.id == run.id) {
                Some(old) => *old = run,
                None => fresh.push(run),
            }
        }
        if let Some(last) = fresh.last() {
            self.playback = Some(Playback {
                run: last.id,
                cursor_s: 0.0,
                paused: false,
            });
        }
        self.runs.extend(fresh);
    }

    /// The lab time shown by the playback of a run the lab can replay (a foreground `virsh
    /// migrate` of the last line that started one), while it plays: where Ctrl-C and lines
    /// typed then act.
    pub fn shown_lab_time(&self) -> Option<SimTime> {
        let session = self.session.as_ref()?;
        let p = self.playback?;
        if !session.rewindable_runs().contains(&p.run) || !self.is_playing(p.run) {
            return None;
        }
        let r = self.run(p.run).filter(|r| r.foreground)?;
        let ms = (r.series.t0_ms + p.cursor_s * 1000.0).max(0.0);
        Some(SimTime::ZERO + SimDuration::from_ms_f64(ms))
    }

    /// Ctrl-C in the lab terminal: cancels the migration being played back at the shown time.
    /// False when nothing plays that can be interrupted.
    pub fn interrupt(&mut self) -> bool {
        let Some(at) = self.shown_lab_time() else {
            return false;
        };
        self.session.as_mut().is_some_and(|s| s.interrupt_at(at))
    }

    /// Take the result of a finished export.
    fn poll_export(&mut self) {
        if let Some(rx) = &self.export_job {
            match rx.try_recv() {
                Ok(msg) => {
                    self.export_status = Some(msg);
                    self.export_job = None;
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => {}
                Err(std::sync::mpsc::TryRecvError::Disconnected) => self.export_job = None,
            }
        }
    }

    /// Block until the running export is done (tests; never called from a frame).
    pub fn wait_export(&mut self) {
        if let Some(rx) = self.export_job.take()
            && let Ok(msg) = rx.recv_timeout(Duration::from_secs(120))
        {
            self.export_status = Some(msg);
        }
    }

    /// Block until the lab's running line is done (tests; never called from a frame).
    pub fn wait_idle(&mut self) {
        let Some(session) = &mut self.session else {
            return;
        };
        let new = session.wait(&mut self.next_run_id, Duration::from_secs(120));
        self.add_runs(new);
        self.waited = true;
    }
}

/// The desktop app.
pub struct MigralabApp {
    /// Persisted state.
    pub state: AppState,
    /// Runtime lab state.
    pub lab: LabRuntime,
    /// App-wide runtime state: the data directory, the instructor's settings, the unlock.
    pub shared: shared::Shared,
    /// Quiz tab runtime state.
    pub quiz: quiz_tab::QuizRuntime,
    /// Instructor tab runtime state.
    pub instructor: instructor_tab::InstructorRuntime,
    /// Lesson tab runtime state.
    pub lesson: lesson::LessonRuntime,
    /// Real mode (real hosts through libvirt).
    pub real: real::RealRuntime,
    ctx: Option<egui::Context>,
    applied_zoom: Option<f32>,
    applied_theme: Option<ThemePref>,
    launched: Option<std::time::Instant>,
    first_frame_logged: bool,
    screenshot: Option<ScreenshotJob>,
    frames: u64,
}

impl MigralabApp {
    /// An app with `state` (restored or default).
    pub fn new(state: AppState) -> MigralabApp {
        MigralabApp {
            state,
            lab: LabRuntime::default(),
            shared: shared::Shared::default(),
            quiz: quiz_tab::QuizRuntime::default(),
            instructor: instructor_tab::InstructorRuntime::default(),
            lesson: lesson::LessonRuntime::default(),
            real: real::RealRuntime::default(),
            ctx: None,
            applied_zoom: None,
            applied_theme: None,
            launched: None,
            first_frame_logged: false,
            screenshot: None,
            frames: 0,
        }
    }

    /// Draw one frame into `ui` and apply what the panels asked for. This is the whole app;
    /// eframe and the kittest harness both call it.
    pub fn ui_root(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.ctx = Some(ctx.clone());
        self.apply_view_settings(&ctx);
        self.ensure_lab(&ctx);
        let arrived = self.lab.poll() || std::mem::take(&mut self.lab.waited);
        if arrived && let Some(s) = &self.lab.session {
            let guest_host = s
                .world()
                .running_on(&self.state.lab.form.spec.vm)
                .map(str::to_owned);
            self.state
                .lab
                .form
                .follow_guest(s.scenario(), guest_host.as_deref());
        }
        self.lab.poll_export();
        self.tick_playback(ui);
        self.tick_background(ui);

        let mut cmds = Vec::new();
        // The instructor's settings decide what students see (read once, kept app-wide).
        let settings = self.shared.settings().effective();
        real::follow_settings(&mut self.real, &settings, &ctx);
        self.real.poll(&mut self.lab);
        self.guard_close(&ctx);
        let mode = top_bar::ModeSwitch {
            real_on: self.real.on,
            availability: crate::sessions::real::Availability::of(&settings),
            locked: settings.mode_locked,
        };
        let instructor = self.shared.unlocked;
        egui::Panel::top("top_bar").show(ui, |ui| {
            top_bar::top_bar_ui(ui, &mut self.state, &mode, &mut cmds);
        });
        egui::CentralPanel::default().show(ui, |ui| match self.state.tab {
            Tab::Lesson => lesson::lesson_ui(
                ui,
                &mut self.state,
                &mut self.lesson,
                settings.visible.lessons.as_deref(),
                &mut cmds,
            ),
            Tab::Lab if self.real.on => {
                #[cfg(feature = "real")]
                real::lab::real_lab_ui(
                    ui,
                    &mut self.state,
                    &mut self.real,
                    &mut self.lab,
                    &real::lab::Allowed {
                        lab: &settings.real_lab,
                        instructor,
                    },
                    &mut cmds,
                );
                #[cfg(not(feature = "real"))]
                let _ = instructor;
            }
            Tab::Lab => {
                real::left_running_ui(ui, self.state.lang, &self.real);
                lab::lab_tab_ui(
                    ui,
                    &mut self.state,
                    &mut self.lab,
                    &settings.scenario_dirs,
                    &mut cmds,
                );
            }
            #[cfg(all(feature = "real", target_os = "linux"))]
            Tab::Experiments if self.real.on => real::experiments_real::experiments_real_ui(
                ui,
                &mut self.state,
                &mut self.real,
                &mut self.lab,
                &settings,
                instructor,
                &mut cmds,
            ),
            Tab::Experiments => {
                if self.real.on {
                    // The experiments still run in the simulated lab: never under a REAL badge
                    // without saying so.
                    real::simulated_here_ui(ui, self.state.lang);
                }
                experiments::experiments_ui(
                    ui,
                    &mut self.state,
                    &mut self.lab,
                    settings.visible.experiments.as_deref(),
                    &mut cmds,
                )
            }
            Tab::Quiz => quiz_tab::quiz_ui(ui, &mut self.state, &mut self.shared, &mut self.quiz),
            Tab::Instructor => instructor_tab::instructor_ui(
                ui,
                &mut self.state,
                &mut self.shared,
                &mut self.instructor,
            ),
        });
        for cmd in &cmds {
            self.apply(cmd, &ctx);
        }
        self.frames += 1;
    }

    /// Closing the window while a real migration runs asks first: closing aborts it.
    fn guard_close(&mut self, ctx: &egui::Context) {
        if self.real.is_migrating()
            && !self.real.close_confirmed
            && ctx.input(|i| i.viewport().close_requested())
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.real.close_asked = true;
        }
        if real::close_question_ui(ctx, self.state.lang, &mut self.real) {
            // The worker aborts the job; dropping the app waits (bounded) for it.
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    /// Block until real mode's worker is idle and take its runs (tests; never from a frame).
    pub fn wait_real_idle(&mut self) {
        self.real.wait_idle(&mut self.lab);
    }

    /// Zoom and theme follow the state (changed by the top bar or a restored session).
    fn apply_view_settings(&mut self, ctx: &egui::Context) {
        let zoom = self
            .state
            .zoom
            .clamp(*state::ZOOM_RANGE.start(), *state::ZOOM_RANGE.end());
        if self.applied_zoom != Some(zoom) {
            ctx.set_zoom_factor(zoom);
            self.applied_zoom = Some(zoom);
        } else if (ctx.zoom_factor() - zoom).abs() > 1e-3 {
            // Ctrl +/- changed it: remember the new value.
            self.state.zoom = ctx.zoom_factor();
            self.applied_zoom = Some(self.state.zoom);
        }
        if self.applied_theme != Some(self.state.theme) {
            ctx.set_theme(match self.state.theme {
                ThemePref::System => egui::ThemePreference::System,
                ThemePref::Light => egui::ThemePreference::Light,
                ThemePref::Dark => egui::ThemePreference::Dark,
            });
            self.applied_theme = Some(self.state.theme);
        }
    }

    /// Open the lab on the saved scenario the first time it is needed.
    fn ensure_lab(&mut self, ctx: &egui::Context) {
        if self.lab.session.is_none() && self.lab.open_error.is_none() {
            let name = self.state.lab.scenario.clone();
            self.open_scenario(&name, ctx);
        }
    }

    fn open_scenario(&mut self, name: &str, ctx: &egui::Context) {
        match crate::scenarios::load(Some(std::path::Path::new(name)), &[]) {
            Ok(scenario) => {
                self.state.lab.form = MigrateForm::for_scenario(&scenario);
                let waker_ctx = ctx.clone();
                let session = LabSession::open(
                    name,
                    scenario,
                    self.state.lang,
                    Box::new(move || waker_ctx.request_repaint()),
                );
                self.lab.session = Some(session);
                self.lab.open_error = None;
                self.lab.input.clear();
                self.lab.history_pos = None;
                self.state.lab.scenario = name.to_string();
            }
            Err(e) => {
                self.lab.open_error = Some(format!("{name}: {e:#}"));
                if self.lab.session.is_none() && name != "lesson" {
                    // Keep a working lab behind the message.
                    self.state.lab.scenario = "lesson".into();
                    let err = self.lab.open_error.take();
                    self.open_scenario("lesson", ctx);
                    self.lab.open_error = err;
                }
            }
        }
    }

    fn tick_playback(&mut self, ui: &egui::Ui) {
        let dt = f64::from(ui.input(|i| i.stable_dt)).min(0.1);
        let speed = self.state.lab.speed;
        let Some(p) = &mut self.lab.playback else {
            return;
        };
        let Some(end) = self
            .lab
            .runs
            .iter()
            .find(|r| r.id == p.run)
            .map(|r| r.span_end_s())
        else {
            return;
        };
        if !p.is_done(end) {
            p.tick(dt, speed, end);
            if !p.paused {
                // Live plots: ~30 frames/s while a run plays, nothing when idle.
                ui.ctx().request_repaint_after(Duration::from_millis(33));
            }
        }
    }

    /// Background jobs (`virsh migrate ... &`) run in lab time at the playback speed while the
    /// student watches, so what they print and `virsh domjobinfo` follow the clock. Not while a
    /// run plays back (the lab acts at its shown time then) nor at the instant speed.
    fn tick_background(&mut self, ui: &egui::Ui) {
        let Some(factor) = self.state.lab.speed.factor() else {
            return;
        };
        let playing = self
            .lab
            .playback
            .is_some_and(|p| self.lab.is_playing(p.run));
        let Some(session) = &mut self.lab.session else {
            return;
        };
        if !session.jobs_running() || playing {
            self.lab.bg_wall_s = 0.0;
            return;
        }
        self.lab.bg_wall_s += f64::from(ui.input(|i| i.stable_dt)).min(0.1);
        // A quarter of a second at a time: the terminal updates smoothly, the worker idles.
        if self.lab.bg_wall_s >= 0.25 && !session.is_busy() {
            let lab_s = self.lab.bg_wall_s * factor;
            if session.advance(SimDuration::from_ms_f64(lab_s * 1000.0)) {
                self.lab.bg_wall_s = 0.0;
            }
        }
        ui.ctx().request_repaint_after(Duration::from_millis(50));
    }

    fn apply(&mut self, cmd: &Command, ctx: &egui::Context) {
        match cmd {
            Command::GoTo(tab) => self.state.tab = *tab,
            Command::OpenScenario(name) => self.open_scenario(name, ctx),
            Command::RunLine(line) => {
                let at = self.lab.shown_lab_time();
                if let Some(s) = &mut self.lab.session
                    && match at {
                        Some(at) => s.submit_line_at(line, at),
                        None => s.submit_line(line),
                    }
                {
                    self.lab.typed.push((s.scenario_name.clone(), line.clone()));
                }
                self.lab.history_pos = None;
            }
            Command::Interrupt => {
                self.lab.interrupt();
            }
            Command::SetRealMode(on) => {
                let allowed =
                    crate::sessions::real::Availability::of(&self.shared.settings().effective())
                        == crate::sessions::real::Availability::Ready;
                if !*on || allowed {
                    self.real.set_on(*on, ctx);
                }
            }
            Command::SetLang(lang) => {
                self.state.lang = *lang;
                if let Some(s) = &mut self.lab.session {
                    s.set_lang(*lang);
                }
            }
            Command::Play(id) => {
                self.lab.playback = Some(Playback {
                    run: *id,
                    cursor_s: 0.0,
                    paused: false,
                });
            }
            Command::Compare(id) => self.lab.compare = *id,
            Command::RecordObservation {
                experiment,
                text,
                measured,
            } => {
                self.lab.observation_status =
                    Some(self.record_observation(experiment, text, measured));
            }
            Command::BuildTwin(id) => {
                let lang = self.state.lang;
                let dir = lab::export::default_dir(&self.lab);
                let built = match self.lab.run(*id) {
                    Some(r) => crate::twin::build_into(&dir, &r.trace),
                    None => Err(anyhow::anyhow!("run #{} is gone", id.0)),
                };
                match built {
                    Ok(path) => {
                        let name = path.display().to_string();
                        self.real.set_on(false, ctx);
                        self.open_scenario(&name, ctx);
                        self.state.tab = Tab::Lab;
                        self.lab.export_status = Some(crate::tr!(lang, "twin-opened", path = name));
                    }
                    Err(e) => {
                        self.lab.export_status =
                            Some(crate::tr!(lang, "twin-failed", error = format!("{e:#}")));
                    }
                }
            }
            Command::Export(what) => {
                let input = lab::export::ExportInput::gather(&self.state, &self.lab);
                let waker_ctx = ctx.clone();
                self.lab.export_status = None;
                self.lab.export_job = Some(lab::export::start(
                    what.clone(),
                    input,
                    Box::new(move || waker_ctx.request_repaint()),
                ));
            }
        }
    }

    /// Save an observation in the student's profile; says what happened, in the UI language.
    fn record_observation(
        &mut self,
        experiment: &str,
        text: &str,
        measured: &std::collections::BTreeMap<String, f64>,
    ) -> String {
        let lang = self.state.lang;
        let student = self.state.student.trim();
        if student.is_empty() {
            return crate::tr!(lang, "exp-saved-no-student");
        }
        let student = match crate::progress::valid_name(student) {
            Ok(s) => s,
            Err(e) => return crate::tr!(lang, "exp-save-failed", error = e.text(lang)),
        };
        let settings = self.shared.settings().effective();
        let saved = self.shared.data_dir().and_then(|dir| {
            crate::progress::ProfileStore::for_settings(&dir, &settings).update(student, |p| {
                p.record_observation(experiment, text, crate::progress::unix_now());
                if let Some(o) = p.observations.last_mut() {
                    o.measured.clone_from(measured);
                }
            })
        });
        match saved {
            Ok(notice) => {
                let mut msg = crate::tr!(lang, "exp-saved", student = student.to_string());
                if let Some(n) = notice {
                    msg.push_str(&format!(" ({n})"));
                }
                msg
            }
            Err(e) => crate::tr!(lang, "exp-save-failed", error = format!("{e:#}")),
        }
    }
}

impl eframe::App for MigralabApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.ui_root(ui);
        if !self.first_frame_logged {
            self.first_frame_logged = true;
            if let Some(t) = self.launched {
                tracing::info!(
                    "first frame after {:.0} ms",
                    t.elapsed().as_secs_f64() * 1e3
                );
                if std::env::var_os("MIGRALAB_TIMING").is_some() {
                    eprintln!(
                        "first frame after {:.0} ms",
                        t.elapsed().as_secs_f64() * 1e3
                    );
                }
            }
        }
        if let Some(job) = &mut self.screenshot
            && !job.requested
            && self.frames >= 3
        {
            job.requested = true;
            let path = job.path.clone();
            let failed = job.failed.clone();
            let ctx = ui.ctx().clone();
            ui.ctx().request_screenshot(move |img| {
                if let Err(e) = widgets::save_png(&img, &path)
                    && let Ok(mut f) = failed.lock()
                {
                    *f = Some(format!("--screenshot {}: {e:#}", path.display()));
                }
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                ctx.request_repaint();
            });
        }
        if self.screenshot.is_some() {
            ui.ctx().request_repaint();
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
    }

    fn on_exit(&mut self) {
        // Closing the app ends the real terminal's session (dropping the app would too).
        self.real.end_terminal();
    }

    fn auto_save_interval(&self) -> Duration {
        // Observations are typed here: lose at most a few seconds of them on a crash.
        Duration::from_secs(5)
    }
}
