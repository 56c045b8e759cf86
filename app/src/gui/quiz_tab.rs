//! The Kuis (quiz) tab: choose objectives and how many questions, take the quiz one question at
//! a time with feedback on every option, then see a score per learning objective and review the
//! mistakes (and retry them). Answers are saved to the student's progress profile when a name is
//! given. The instructor's settings decide what is offered and whether explanations wait until
//! the end (assessment mode).
//!
//! The bank, shuffling and grading are the same as `migralab quiz` (`migralab_course::quiz` and
//! [`crate::quiz`]); the same seed gives the same quiz as the CLI when the same objective is
//! chosen. [`model`] computes what to show; this module and [`question`] draw it, and the
//! buttons' [`Action`]s are applied after drawing.

pub mod model;
mod question;

use super::shared::Shared;
use super::state::AppState;
use crate::progress::{ProfileStore, QuizRecorder};
use crate::tr;
use migralab_course::quiz::{Graded, Objective, Question};
use migralab_sim_core::lang::Lang;
use model::{BankChoice, LoadedBank, Phase, QuizSession, offered, plan_quiz};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

/// What the student chose before starting.
#[derive(Debug, Clone, PartialEq)]
pub struct QuizSetup {
    /// The bank (the shipped one, or an instructor's folder).
    pub bank: BankChoice,
    /// Only these objectives (empty: all).
    pub objectives: BTreeSet<Objective>,
    /// Ask every available question (else `count`).
    pub all_questions: bool,
    /// How many questions when not all.
    pub count: usize,
    /// The seed of the shuffle (`None`: a fresh one is picked when the tab is first shown).
    pub seed: Option<u64>,
}

impl Default for QuizSetup {
    fn default() -> QuizSetup {
        QuizSetup {
            bank: BankChoice::Shipped,
            objectives: BTreeSet::new(),
            all_questions: true,
            count: 10,
            seed: None,
        }
    }
}

/// What happened to the answers of this session in the student's profile.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordStatus {
    /// Saved: `answers` answers so far, into `student`'s profile.
    Saved {
        /// The profile's name.
        student: String,
        /// Answers saved in this session.
        answers: usize,
    },
    /// No student name was given: nothing is saved.
    NoStudent,
    /// Saving failed (the message says why).
    Failed(String),
}

/// Quiz state that lives only while the app runs.
#[derive(Debug, Default)]
pub struct QuizRuntime {
    /// The bank last loaded and the settings generation it was loaded under, reused while the
    /// same one is chosen and the instructor changed nothing.
    pub bank: Option<(Arc<LoadedBank>, u64)>,
    /// The choices before starting.
    pub setup: QuizSetup,
    /// Why the last "start" failed.
    pub start_error: Option<String>,
    /// The quiz being taken (`None`: the setup is shown).
    pub session: Option<QuizSession>,
    /// What happened to the answers in the progress profile.
    pub record: Option<RecordStatus>,
    /// Messages about progress files that were damaged and kept aside.
    pub notices: Vec<String>,
    /// Saves the session's answers as they are given (when a student is named).
    recorder: Option<QuizRecorder>,
}

impl QuizRuntime {
    /// The chosen bank, loaded (and checked) on first use.
    fn bank_for(&mut self, choice: &BankChoice, generation: u64) -> Arc<LoadedBank> {
        match &self.bank {
            Some((b, g)) if b.choice == *choice && *g == generation => b.clone(),
            _ => {
                let b = Arc::new(LoadedBank::load(choice));
                self.bank = Some((b.clone(), generation));
                b
            }
        }
    }

    /// Start a quiz with the setup's choices and the settings in force now.
    fn start(&mut self, state: &AppState, shared: &mut Shared) {
        self.start_error = None;
        self.record = None;
        shared.reload_settings();
        let settings = shared.settings().effective();
        let student = state.student.trim();
        let student = if student.is_empty() {
            None
        } else {
            match crate::progress::valid_name(student) {
                Ok(n) => Some(n.to_string()),
                Err(e) => {
                    self.start_error = Some(e.text(state.lang));
                    return;
                }
            }
        };
        let setup = self.setup.clone();
        let bank = self.bank_for(&setup.bank, shared.settings_generation());
        let Ok(b) = &bank.bank else {
            self.start_error = Some(tr!(state.lang, "quiz-bank-broken"));
            return;
        };
        let seed = setup.seed.unwrap_or_else(crate::quiz::fresh_seed);
        let count = (!setup.all_questions).then_some(setup.count.max(1));
        match plan_quiz(b, &settings.visible, &setup.objectives, count, seed) {
            Ok(items) => {
                // The quiz is recorded before its first question: a profile that cannot be
                // written stops it here, not after the answers.
                self.recorder = None;
                if let Some(name) = &student
                    && !items.is_empty()
                {
                    let started = shared.data_dir().and_then(|dir| {
                        QuizRecorder::start(
                            ProfileStore::for_settings(&dir, &settings),
                            name,
                            "app",
                            seed,
                            items.len(),
                            crate::progress::unix_now(),
                        )
                    });
                    match started {
                        Ok((recorder, notice)) => {
                            self.notices.extend(notice);
                            self.recorder = Some(recorder);
                        }
                        Err(e) => {
                            self.start_error = Some(tr!(
                                state.lang,
                                "quiz-record-failed",
                                error = format!("{e:#}")
                            ));
                            return;
                        }
                    }
                }
                match QuizSession::new(
                    bank.clone(),
                    items,
                    seed,
                    settings.assessment_mode,
                    student.clone(),
                ) {
                    Some(s) => {
                        self.session = Some(s);
                        self.record = Some(match student {
                            Some(name) => RecordStatus::Saved {
                                student: name,
                                answers: 0,
                            },
                            None => RecordStatus::NoStudent,
                        });
                    }
                    None => self.start_error = Some(tr!(state.lang, "quiz-nothing-to-ask")),
                }
            }
            Err(e) => self.start_error = Some(e.to_string()),
        }
    }

    /// Save one graded answer to the student's profile at once (if a student is named), and
    /// mark the quiz complete when it was the first round's last.
    fn record_answer(&mut self, graded: &Graded) {
        let (Some(recorder), Some(session)) = (&self.recorder, &self.session) else {
            self.record = Some(RecordStatus::NoStudent);
            return;
        };
        let student = recorder.student().to_owned();
        let now = crate::progress::unix_now();
        let first_round_done = session.round == 0 && session.answered() == session.items.len();
        let saved = recorder.answer(graded, now).and_then(|notice| {
            let done = if first_round_done {
                recorder.complete(now)?
            } else {
                None
            };
            Ok(notice.into_iter().chain(done).collect::<Vec<_>>())
        });
        match saved {
            Ok(notices) => {
                self.notices.extend(notices);
                let answers = match &self.record {
                    Some(RecordStatus::Saved { answers, .. }) => answers + 1,
                    _ => 1,
                };
                self.record = Some(RecordStatus::Saved { student, answers });
            }
            Err(e) => self.record = Some(RecordStatus::Failed(format!("{e:#}"))),
        }
    }

    fn apply(&mut self, action: Action, state: &AppState, shared: &mut Shared) {
        match action {
            Action::Start => self.start(state, shared),
            Action::Check | Action::Skip => {
                let graded = self
                    .session
                    .as_mut()
                    .and_then(|s| s.submit(action == Action::Skip));
                if let Some(g) = graded {
                    self.record_answer(&g);
                }
            }
            Action::Next => {
                if let Some(s) = &mut self.session {
                    s.next();
                }
            }
            Action::EndNow => {
                if let Some(s) = &mut self.session {
                    s.finish();
                }
            }
            Action::RetryMissed => {
                if let Some(s) = &mut self.session {
                    s.retry_missed();
                }
            }
            Action::NewQuiz => {
                self.session = None;
                self.recorder = None;
                self.record = None;
                self.setup.seed = None;
            }
        }
    }
}

/// What a button asked for; applied after the tab has drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Start,
    Check,
    Skip,
    Next,
    EndNow,
    RetryMissed,
    NewQuiz,
}

/// The Quiz tab.
pub fn quiz_ui(ui: &mut egui::Ui, state: &mut AppState, shared: &mut Shared, rt: &mut QuizRuntime) {
    let lang = state.lang;
    let mut actions = Vec::new();
    egui::ScrollArea::vertical()
        .id_salt("quiz_scroll")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.set_max_width(900.0);
            ui.heading(tr!(lang, "tab-quiz"));
            match &mut rt.session {
                None => setup_ui(ui, state, shared, rt, &mut actions),
                Some(s) if s.phase == Phase::Finished => {
                    results_ui(ui, lang, s, &mut actions);
                    record_ui(ui, lang, rt.record.as_ref(), &rt.notices);
                }
                Some(s) => {
                    question::question_ui(ui, lang, s, &mut actions);
                    ui.add_space(8.0);
                    record_ui(ui, lang, rt.record.as_ref(), &rt.notices);
                }
            }
        });
    for a in actions {
        rt.apply(a, state, shared);
    }
}

/// Before the quiz: the student's name, what to ask, the seed.
fn setup_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    shared: &mut Shared,
    rt: &mut QuizRuntime,
    actions: &mut Vec<Action>,
) {
    let lang = state.lang;
    ui.label(tr!(lang, "quiz-intro"));
    ui.add_space(6.0);
    student_ui(ui, lang, &mut state.student);
    ui.add_space(6.0);

    let settings_file = shared.settings().clone();
    if let Some(err) = settings_file.error() {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            tr!(lang, "quiz-settings-broken", error = err),
        );
        ui.colored_label(
            ui.visuals().warn_fg_color,
            tr!(lang, "quiz-settings-defaults"),
        );
    }
    let settings = settings_file.effective();
    if settings.assessment_mode {
        ui.label(egui::RichText::new(tr!(lang, "quiz-assessment-note")).strong());
    }

    // The bank: the shipped one, or one of the instructor's folders.
    if let BankChoice::Folder(dir) = &rt.setup.bank
        && !settings.quiz_dirs.contains(dir)
    {
        rt.setup.bank = BankChoice::Shipped;
    }
    if !settings.quiz_dirs.is_empty() {
        bank_choice_ui(ui, lang, &mut rt.setup.bank, &settings.quiz_dirs);
    }
    let bank = rt.bank_for(&rt.setup.bank.clone(), shared.settings_generation());
    if let Err(errors) = &bank.bank {
        ui.colored_label(ui.visuals().error_fg_color, tr!(lang, "quiz-bank-broken"));
        for e in errors {
            ui.label(egui::RichText::new(e).monospace());
        }
        return;
    }
    let visible: Vec<&Question> = bank
        .questions()
        .iter()
        .filter(|q| offered(q, &settings.visible))
        .collect();
    if visible.is_empty() {
        ui.label(tr!(lang, "quiz-nothing-visible"));
        return;
    }

    let setup = &mut rt.setup;
    // Objectives hidden since they were chosen are dropped.
    setup
        .objectives
        .retain(|o| visible.iter().any(|q| q.objective == *o));
    ui.add_space(6.0);
    ui.strong(tr!(lang, "quiz-objectives"));
    let mut all = setup.objectives.is_empty();
    if ui
        .checkbox(&mut all, tr!(lang, "quiz-all-objectives"))
        .changed()
        && all
    {
        setup.objectives.clear();
    }
    egui::Grid::new("quiz_objectives")
        .num_columns(2)
        .striped(true)
        .show(ui, |ui| {
            for o in Objective::ALL {
                let n = visible.iter().filter(|q| q.objective == o).count();
                if n == 0 {
                    continue;
                }
                let mut on = setup.objectives.contains(&o);
                if ui.checkbox(&mut on, lang.pick(&o.title())).changed() {
                    if on {
                        setup.objectives.insert(o);
                    } else {
                        setup.objectives.remove(&o);
                    }
                }
                ui.weak(tr!(lang, "quiz-n-questions", n = n));
                ui.end_row();
            }
        });

    let available = visible
        .iter()
        .filter(|q| setup.objectives.is_empty() || setup.objectives.contains(&q.objective))
        .count();
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        ui.checkbox(
            &mut setup.all_questions,
            tr!(lang, "quiz-all-questions", n = available),
        );
        if !setup.all_questions {
            let label = ui.label(tr!(lang, "quiz-count"));
            ui.add(egui::DragValue::new(&mut setup.count).range(1..=available.max(1)))
                .labelled_by(label.id);
        }
    });
    let seed = setup.seed.get_or_insert_with(crate::quiz::fresh_seed);
    ui.horizontal(|ui| {
        let label = ui.label(tr!(lang, "quiz-seed"));
        ui.add(egui::DragValue::new(seed)).labelled_by(label.id);
        ui.weak(tr!(lang, "quiz-seed-hint"));
    });
    let n = if setup.all_questions {
        available
    } else {
        setup.count.clamp(1, available.max(1)).min(available)
    };
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        if ui
            .add_enabled(n > 0, egui::Button::new(tr!(lang, "quiz-start")))
            .clicked()
        {
            actions.push(Action::Start);
        }
        ui.label(tr!(lang, "quiz-will-ask", n = n));
    });
    if let Some(e) = &rt.start_error {
        ui.colored_label(ui.visuals().error_fg_color, e);
    }
}

/// The student's name, which names the progress profile.
fn student_ui(ui: &mut egui::Ui, lang: Lang, student: &mut String) {
    ui.horizontal(|ui| {
        let label = ui.label(tr!(lang, "quiz-student"));
        ui.add(
            egui::TextEdit::singleline(student)
                .hint_text(tr!(lang, "quiz-student-hint"))
                .desired_width(260.0),
        )
        .labelled_by(label.id);
    });
    let name = student.trim();
    if name.is_empty() {
        ui.weak(tr!(lang, "quiz-student-none"));
    } else {
        match crate::progress::valid_name(name) {
            Ok(n) => {
                ui.weak(tr!(lang, "quiz-student-saved", name = n));
            }
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e.text(lang));
            }
        }
    }
}

fn bank_choice_ui(ui: &mut egui::Ui, lang: Lang, choice: &mut BankChoice, dirs: &[PathBuf]) {
    let name = |c: &BankChoice| match c {
        BankChoice::Shipped => tr!(lang, "quiz-bank-shipped"),
        BankChoice::Folder(d) => d.display().to_string(),
    };
    ui.horizontal(|ui| {
        let label = ui.label(tr!(lang, "quiz-bank"));
        egui::ComboBox::from_id_salt("quiz_bank")
            .selected_text(name(choice))
            .show_ui(ui, |ui| {
                ui.selectable_value(choice, BankChoice::Shipped, name(&BankChoice::Shipped));
                for d in dirs {
                    let c = BankChoice::Folder(d.clone());
                    let text = name(&c);
                    ui.selectable_value(choice, c, text);
                }
            })
            .response
            .labelled_by(label.id);
    });
}

/// The end of a round: scores per objective, the review, and what next.
fn results_ui(ui: &mut egui::Ui, lang: Lang, s: &QuizSession, actions: &mut Vec<Action>) {
    let summary = s.summary();
    ui.heading(tr!(lang, "quiz-results"));
    if summary.total.asked == 0 {
        ui.label(tr!(lang, "quiz-results-none"));
    } else {
        ui.label(
            egui::RichText::new(tr!(
                lang,
                "quiz-results-total",
                correct = summary.total.correct,
                asked = summary.total.asked,
                points = format!("{:.1}", summary.total.points),
                percent = format!("{:.0}", summary.total.percent())
            ))
            .strong(),
        );
        ui.add_space(4.0);
        ui.strong(tr!(lang, "quiz-per-objective"));
        egui::Grid::new("quiz_scores")
            .num_columns(3)
            .striped(true)
            .show(ui, |ui| {
                for (o, score) in &summary.objectives {
                    ui.label(lang.pick(&o.title()));
                    ui.label(format!("{}/{}", score.correct, score.asked));
                    ui.label(format!("{:.0} %", score.percent()));
                    ui.end_row();
                }
            });
    }
    ui.weak(tr!(lang, "quiz-seed-was", seed = s.seed.to_string()));

    let missed = s.missed();
    ui.add_space(8.0);
    ui.horizontal(|ui| {
        if !missed.is_empty()
            && ui
                .button(tr!(lang, "quiz-retry-missed", n = missed.len()))
                .clicked()
        {
            actions.push(Action::RetryMissed);
        }
        if ui.button(tr!(lang, "quiz-new")).clicked() {
            actions.push(Action::NewQuiz);
        }
    });

    // In assessment mode nothing was explained yet: review every answer. Otherwise the
    // mistakes of this round (and what was skipped).
    ui.add_space(8.0);
    let review: Vec<usize> = (0..s.items.len())
        .filter(|i| {
            s.items[*i]
                .result
                .as_ref()
                .is_some_and(|r| s.assessment || !r.graded.correct)
        })
        .collect();
    if review.is_empty() {
        if summary.total.asked > 0 {
            ui.label(tr!(lang, "quiz-all-right"));
        }
        return;
    }
    ui.heading(if s.assessment {
        tr!(lang, "quiz-review-all")
    } else {
        tr!(lang, "quiz-review-mistakes")
    });
    for i in review {
        let (Some(p), Some(r)) = (s.presented(i), s.items[i].result.as_ref()) else {
            continue;
        };
        ui.push_id(("review", i), |ui| {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(ui.available_width());
                question::prompt_ui(ui, lang, &p);
                question::feedback_ui(ui, lang, &p, r);
            });
        });
        ui.add_space(4.0);
    }
}

/// Where the answers go.
fn record_ui(ui: &mut egui::Ui, lang: Lang, record: Option<&RecordStatus>, notices: &[String]) {
    match record {
        Some(RecordStatus::Saved { student, answers }) => {
            let n: usize = *answers;
            ui.weak(tr!(lang, "quiz-recorded", name = student.as_str(), n = n));
        }
        Some(RecordStatus::NoStudent) => {
            ui.weak(tr!(lang, "quiz-not-recorded"));
        }
        Some(RecordStatus::Failed(e)) => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                tr!(lang, "quiz-record-failed", error = e.as_str()),
            );
        }
        None => {}
    }
    for n in notices {
        ui.colored_label(ui.visuals().warn_fg_color, n);
    }
}
