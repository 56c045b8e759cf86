//! One question on screen: its prompt, the widget its kind needs (options, check boxes, steps to
//! arrange, a command line, a number), and after grading, why every option is right or wrong.

use super::Action;
use super::model::{InputProblem, ItemResult, Phase, QuizSession};
use crate::quiz::kind_label;
use crate::tr;
use egui::{Color32, RichText};
use migralab_course::quiz::{Body, Mark, Presented};
use migralab_sim_core::lang::Lang;

/// The current question of `s`, its answer widgets or its feedback, and the buttons.
pub(super) fn question_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    s: &mut QuizSession,
    actions: &mut Vec<Action>,
) {
    let bank = s.bank.clone();
    let Some(item) = s.items.get(s.current).cloned() else {
        return;
    };
    let Some(question) = bank.get(&item.id) else {
        ui.colored_label(
            ui.visuals().error_fg_color,
            tr!(lang, "quiz-question-missing", id = item.id.as_str()),
        );
        return;
    };
    let p = Presented {
        question,
        order: item.order.clone(),
    };

    ui.horizontal_wrapped(|ui| {
        let (n, total) = (s.current.saturating_add(1), s.items.len());
        ui.strong(tr!(lang, "quiz-question-n", n = n, total = total));
        ui.separator();
        ui.label(lang.pick(&question.objective.title()));
        ui.separator();
        ui.weak(kind_label(lang, question.kind()));
        if s.assessment {
            ui.separator();
            ui.label(RichText::new(tr!(lang, "quiz-assessment-badge")).strong());
        } else if s.round > 0 {
            ui.separator();
            ui.label(RichText::new(tr!(lang, "quiz-retry-round")).strong());
        }
    });
    if !s.assessment && s.answered() > 0 {
        let right = s
            .items
            .iter()
            .filter_map(|i| i.result.as_ref())
            .filter(|r| r.graded.correct)
            .count();
        ui.weak(tr!(
            lang,
            "quiz-running-score",
            right = right,
            answered = s.answered()
        ));
    }
    ui.add_space(6.0);
    prompt_ui(ui, lang, &p);
    ui.add_space(6.0);

    let last = s.current + 1 == s.items.len();
    match s.phase {
        Phase::Answering => {
            ui.push_id(("answer", s.round, s.current), |ui| {
                answer_ui(ui, lang, s, &p, actions);
            });
            if let Some(problem) = &s.problem {
                let text = match problem {
                    InputProblem::NothingChosen => tr!(lang, "quiz-choose-first"),
                    InputProblem::Unreadable(t) => lang.pick(t).to_string(),
                };
                ui.colored_label(ui.visuals().error_fg_color, text);
            }
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                let check = if s.assessment {
                    tr!(lang, "quiz-submit-answer")
                } else {
                    tr!(lang, "quiz-check")
                };
                if ui.button(check).clicked() {
                    actions.push(Action::Check);
                }
                if ui.button(tr!(lang, "quiz-skip")).clicked() {
                    actions.push(Action::Skip);
                }
            });
        }
        Phase::Feedback => {
            if let Some(r) = &item.result {
                feedback_ui(ui, lang, &p, r);
            }
            ui.add_space(6.0);
            let next = if last {
                tr!(lang, "quiz-see-results")
            } else {
                tr!(lang, "quiz-next")
            };
            if ui.button(next).clicked() {
                actions.push(Action::Next);
            }
        }
        Phase::Finished => {}
    }
    ui.add_space(12.0);
    ui.separator();
    let end = if s.assessment {
        tr!(lang, "quiz-submit-now")
    } else {
        tr!(lang, "quiz-end-now")
    };
    if ui
        .button(end)
        .on_hover_text(tr!(lang, "quiz-end-now-hover"))
        .clicked()
    {
        actions.push(Action::EndNow);
    }
}

/// The question's text, with a diagnose question's error message and a predict question's
/// scenario.
pub(super) fn prompt_ui(ui: &mut egui::Ui, lang: Lang, p: &Presented<'_>) {
    let q = p.question;
    ui.label(RichText::new(lang.pick(&q.prompt)).size(16.0));
    match &q.body {
        Body::Diagnose { error, .. } => {
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.label(RichText::new(error).monospace());
            });
        }
        Body::Predict {
            scenario,
            overrides,
            ..
        } => {
            let sets: String = overrides.iter().map(|s| format!(" --set {s}")).collect();
            ui.weak(tr!(
                lang,
                "quiz-predict-scenario",
                command = format!("migralab sim {scenario}{sets}")
            ));
        }
        _ => {}
    }
}

/// The widget each kind of question needs.
fn answer_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    s: &mut QuizSession,
    p: &Presented<'_>,
    actions: &mut Vec<Action>,
) {
    let q = p.question;
    match &q.body {
        Body::Single { .. } | Body::Diagnose { .. } | Body::Predict { .. } => {
            ui.weak(tr!(lang, "quiz-single-hint"));
            for (letter, original, text) in shown_items(p) {
                let on = s.input.choice == Some(original);
                if ui
                    .radio(on, format!("{letter}) {}", lang.pick(text)))
                    .clicked()
                {
                    s.input.choice = Some(original);
                    s.problem = None;
                }
            }
        }
        Body::Multi { .. } => {
            ui.weak(tr!(lang, "quiz-multi-hint"));
            for (letter, original, text) in shown_items(p) {
                let mut on = s.input.chosen.contains(&original);
                if ui
                    .checkbox(&mut on, format!("{letter}) {}", lang.pick(text)))
                    .changed()
                {
                    if on {
                        s.input.chosen.insert(original);
                    } else {
                        s.input.chosen.remove(&original);
                    }
                    s.problem = None;
                }
            }
        }
        Body::Order { steps } => {
            ui.weak(tr!(lang, "quiz-order-hint"));
            let n = s.input.order.len();
            let mut moved = None;
            egui::Grid::new("order_steps")
                .num_columns(3)
                .striped(true)
                .show(ui, |ui| {
                    for (pos, original) in s.input.order.iter().enumerate() {
                        let number = pos.saturating_add(1);
                        ui.strong(format!("{number}."));
                        ui.horizontal(|ui| {
                            if ui
                                .add_enabled(pos > 0, egui::Button::new("⬆").small())
                                .accessible_name(tr!(lang, "quiz-move-up", n = number))
                                .clicked()
                            {
                                moved = Some((pos, true));
                            }
                            if ui
                                .add_enabled(pos + 1 < n, egui::Button::new("⬇").small())
                                .accessible_name(tr!(lang, "quiz-move-down", n = number))
                                .clicked()
                            {
                                moved = Some((pos, false));
                            }
                        });
                        ui.label(steps.get(*original).map_or("", |st| lang.pick(&st.text)));
                        ui.end_row();
                    }
                });
            if let Some((pos, up)) = moved {
                s.move_step(pos, up);
            }
        }
        Body::Command { .. } => {
            ui.weak(tr!(lang, "quiz-command-hint"));
            let resp = ui
                .add(
                    egui::TextEdit::singleline(&mut s.input.text)
                        .font(egui::TextStyle::Monospace)
                        .hint_text("virsh migrate …")
                        .desired_width(f32::INFINITY),
                )
                .accessible_name(tr!(lang, "quiz-command-input"));
            if resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                actions.push(Action::Check);
            }
        }
        Body::Numeric { unit, .. } => {
            ui.weak(tr!(lang, "quiz-number-hint"));
            ui.horizontal(|ui| {
                let resp = ui
                    .add(egui::TextEdit::singleline(&mut s.input.text).desired_width(140.0))
                    .accessible_name(tr!(lang, "quiz-number-input", unit = unit.as_str()));
                ui.label(unit);
                if resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                    actions.push(Action::Check);
                }
            });
        }
    }
}

/// The options (or steps) as shown: letter, original index, text.
fn shown_items<'a>(p: &'a Presented<'_>) -> Vec<(char, usize, &'a migralab_sim_core::text::Text)> {
    let choices = p.question.choices();
    p.order
        .iter()
        .enumerate()
        .filter_map(|(pos, original)| {
            choices
                .get(*original)
                .map(|c| (Presented::letter(pos), *original, &c.text))
        })
        .collect()
}

/// The sign before a feedback line. The terminal's ✓/✗/→ are not in egui's fonts, so the app
/// uses the heavy check and cross and arrow of its emoji font.
fn marker(mark: Mark) -> &'static str {
    match mark {
        Mark::Right => "✔",
        Mark::Wrong => "✖",
        Mark::Missed => "➡",
        Mark::Other => "  ",
        Mark::Info => "ℹ",
    }
}

/// The colour of a feedback line.
fn mark_color(ui: &egui::Ui, mark: Mark) -> Color32 {
    let dark = ui.visuals().dark_mode;
    match mark {
        Mark::Right if dark => Color32::from_rgb(0x6c, 0xd1, 0x7c),
        Mark::Right => Color32::from_rgb(0x1b, 0x7a, 0x2e),
        Mark::Wrong => ui.visuals().error_fg_color,
        Mark::Missed => ui.visuals().warn_fg_color,
        Mark::Other | Mark::Info => ui.visuals().text_color(),
    }
}

/// Whether the answer was right, and why every option (or step) is right or wrong.
pub(super) fn feedback_ui(ui: &mut egui::Ui, lang: Lang, p: &Presented<'_>, r: &ItemResult) {
    let g = &r.graded;
    let (verdict, mark) = if r.skipped() {
        (tr!(lang, "quiz-skipped"), Mark::Other)
    } else if g.correct {
        (tr!(lang, "quiz-right"), Mark::Right)
    } else if g.score > 0.0 {
        (
            tr!(lang, "quiz-partly-right", score = format!("{:.2}", g.score)),
            Mark::Missed,
        )
    } else {
        (tr!(lang, "quiz-wrong"), Mark::Wrong)
    };
    ui.label(
        RichText::new(verdict)
            .strong()
            .size(16.0)
            .color(mark_color(ui, mark)),
    );
    let q = p.question;
    let free_notes = g.notes.iter().filter(|n| n.item.is_none());
    match &q.body {
        Body::Single { .. } | Body::Multi { .. } | Body::Diagnose { .. } | Body::Predict { .. } => {
            // What the simulator did first, beside the prediction.
            for note in free_notes {
                ui.label(RichText::new(lang.pick(&note.text)).strong());
            }
            let choices = q.choices();
            for (pos, original) in p.order.iter().enumerate() {
                let Some(note) = g.notes.iter().find(|n| n.item == Some(*original)) else {
                    continue;
                };
                let text = choices.get(*original).map_or("", |c| lang.pick(&c.text));
                let tag = match note.mark {
                    Mark::Right | Mark::Wrong => tr!(lang, "quiz-your-answer"),
                    Mark::Missed => tr!(lang, "quiz-the-right-one"),
                    _ => String::new(),
                };
                let line = format!(
                    "{} {}) {text}{}",
                    marker(note.mark),
                    Presented::letter(pos),
                    if tag.is_empty() {
                        String::new()
                    } else {
                        format!("  ⬅ {tag}")
                    }
                );
                ui.label(RichText::new(line).color(mark_color(ui, note.mark)));
                why_ui(ui, lang.pick(&note.text));
            }
        }
        Body::Order { steps } => {
            if let migralab_course::quiz::Answer::Order(given) = &r.answer {
                let yours: Vec<String> = given.iter().map(|i| (i + 1).to_string()).collect();
                ui.label(tr!(lang, "quiz-your-order", order = yours.join(" ➡ ")));
            }
            ui.strong(tr!(lang, "quiz-right-order"));
            for note in g.notes.iter().filter(|n| n.item.is_some()) {
                let Some(i) = note.item else { continue };
                let text = steps.get(i).map_or("", |s| lang.pick(&s.text));
                ui.label(
                    RichText::new(format!("{} {}. {text}", marker(note.mark), i + 1))
                        .color(mark_color(ui, note.mark)),
                );
                why_ui(ui, lang.pick(&note.text));
            }
        }
        Body::Command { .. } | Body::Numeric { .. } => {
            if let migralab_course::quiz::Answer::Command(line) = &r.answer {
                ui.label(tr!(lang, "quiz-your-command"));
                ui.label(RichText::new(line).monospace());
            }
            for note in free_notes {
                ui.label(
                    RichText::new(format!("{} {}", marker(note.mark), lang.pick(&note.text)))
                        .color(mark_color(ui, note.mark)),
                );
            }
        }
    }
    if let Some(e) = &g.explanation {
        ui.add_space(4.0);
        ui.label(tr!(lang, "quiz-explanation", text = lang.pick(e)));
    }
}

/// An option's explanation, indented under it.
fn why_ui(ui: &mut egui::Ui, text: &str) {
    egui::Frame::NONE
        .inner_margin(egui::Margin {
            left: 24,
            right: 0,
            top: 0,
            bottom: 2,
        })
        .show(ui, |ui| {
            ui.label(RichText::new(text).italics());
        });
}
