//! The lab terminal: the sim-core shell in a terminal-like panel. History with ↑/↓, copy of the
//! whole scroll-back, the prompt shows the host the student is on. A migration's output appears
//! when its playback ends, as `virsh migrate` returns when the job is done.

use crate::gui::LabRuntime;
use crate::gui::command::Command;
use crate::tr;
use migralab_sim_core::lang::Lang;

/// Id of the input line (tests and focus).
pub fn input_id() -> egui::Id {
    egui::Id::unique("lab_terminal_input")
}

/// The scroll-back as plain text (what "copy" puts on the clipboard).
pub fn scrollback_text(lab: &LabRuntime) -> String {
    let Some(session) = &lab.session else {
        return String::new();
    };
    let mut out = String::new();
    for e in session.terminal() {
        if !e.is_output_only() {
            out.push_str(&e.prompt);
            out.push_str(&e.input);
            out.push('\n');
        }
        if let Some(o) = &e.output
            && !e.runs.iter().any(|r| lab.is_playing(*r))
        {
            out.push_str(o);
        }
    }
    out
}

/// The terminal panel.
pub fn terminal_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    lab: &mut LabRuntime,
    cmds: &mut Vec<Command>,
    height: f32,
) {
    let Some(session) = &lab.session else {
        return;
    };
    let mono = egui::TextStyle::Monospace;
    let bg = if ui.visuals().dark_mode {
        egui::Color32::from_gray(16)
    } else {
        egui::Color32::from_gray(248)
    };
    egui::Frame::new()
        .fill(bg)
        .inner_margin(6.0)
        .corner_radius(4.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("terminal_scroll")
                .max_height(height)
                .stick_to_bottom(true)
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    ui.style_mut().override_text_style = Some(mono.clone());
                    for e in session.terminal() {
                        if !e.is_output_only() {
                            ui.label(
                                egui::RichText::new(format!("{}{}", e.prompt, e.input)).strong(),
                            );
                        }
                        let playing = e.runs.iter().find(|r| lab.is_playing(**r)).copied();
                        match (&e.output, playing) {
                            (None, _) => {
                                ui.horizontal(|ui| {
                                    ui.spinner();
                                    ui.label(tr!(lang, "term-running"));
                                });
                            }
                            (Some(_), Some(id)) => {
                                let pct = lab
                                    .run(id)
                                    .zip(lab.playback)
                                    .map(|(r, p)| 100.0 * p.cursor_s / r.span_end_s().max(1e-9))
                                    .unwrap_or(0.0);
                                ui.label(tr!(lang, "term-playing", pct = format!("{pct:.0}")));
                            }
                            (Some(out), None) => {
                                if !out.is_empty() {
                                    let text = out.strip_suffix('\n').unwrap_or(out);
                                    let rt = egui::RichText::new(text);
                                    ui.label(if e.status != 0 {
                                        rt.color(ui.visuals().warn_fg_color)
                                    } else {
                                        rt
                                    });
                                }
                            }
                        }
                    }
                });
        });
    let busy = session.is_busy();
    let prompt = session.prompt().to_string();
    let history: Vec<String> = session.history().to_vec();
    ui.horizontal(|ui| {
        ui.label(egui::RichText::new(&prompt).monospace().strong());
        let edit = egui::TextEdit::singleline(&mut lab.input)
            .id(input_id())
            .code_editor()
            .hint_text(tr!(lang, "term-hint"))
            .desired_width(ui.available_width() - 190.0);
        let resp = ui.add_enabled(!busy, edit);
        let resp = resp.on_hover_text(tr!(lang, "term-input-hover"));
        resp.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::TextInput, !busy, tr!(lang, "term-input"))
        });
        let (enter, up, down) = ui.input(|i| {
            (
                i.key_pressed(egui::Key::Enter),
                i.key_pressed(egui::Key::ArrowUp),
                i.key_pressed(egui::Key::ArrowDown),
            )
        });
        if resp.lost_focus() && enter && !busy {
            let line = std::mem::take(&mut lab.input);
            cmds.push(Command::RunLine(line));
            resp.request_focus();
        } else if resp.has_focus() && (up || down) && !history.is_empty() {
            let pos = match (lab.history_pos, up) {
                (None, true) => Some(history.len() - 1),
                (Some(p), true) => Some(p.saturating_sub(1)),
                (Some(p), false) if p + 1 < history.len() => Some(p + 1),
                _ => None,
            };
            lab.history_pos = pos;
            lab.input = pos
                .and_then(|p| history.get(p))
                .cloned()
                .unwrap_or_default();
        }
        // Ctrl-C acts on the migration being played back at the time shown (the shell replays
        // the line up to there: `LabSession::interrupt_at`).
        let interruptible = lab.shown_lab_time().is_some();
        let ctrl_c_key = interruptible
            && resp.has_focus()
            && ui.input(|i| {
                i.events.iter().any(|e| {
                    matches!(e, egui::Event::Copy)
                        || matches!(e, egui::Event::Key { key: egui::Key::C, pressed: true, modifiers, .. } if modifiers.ctrl)
                })
            });
        let ctrl_c_button = ui
            .add_enabled(interruptible, egui::Button::new(tr!(lang, "term-ctrl-c")))
            .on_hover_text(tr!(lang, "term-ctrl-c-hover"))
            .on_disabled_hover_text(tr!(lang, "term-ctrl-c-hover"));
        if ctrl_c_key || ctrl_c_button.clicked() {
            cmds.push(Command::Interrupt);
        }
        if ui
            .button(tr!(lang, "term-copy"))
            .on_hover_text(tr!(lang, "term-copy-hover"))
            .clicked()
        {
            ui.ctx().copy_text(scrollback_text(lab));
        }
    });
}
