//! The real Lab tab's terminal: a host chooser limited to the instructor's hosts, and the
//! [`TerminalSession`] logged in to the chosen one, drawn cell by cell from its emulator's grid.
//! Keys typed while it has focus go to the host as a terminal sends them (Enter, Backspace,
//! Tab, arrows, Ctrl-C and the other control keys, the function keys, pasted text). The session
//! ends when real mode is left or the app closes ([`TerminalRuntime::end`]).

use crate::sessions::real::terminal::{
    LoginCommand, TermSize, TermState, TerminalSession, login_command, terminal_hosts,
};
use crate::tr;
use migralab_real::labbox::LabboxConfig;
use migralab_sim_core::lang::Lang;
use std::sync::Arc;

/// The terminal's state in real mode.
#[derive(Debug, Default)]
pub struct TerminalRuntime {
    /// The chosen host (one of the allowed hosts with a terminal).
    pub host: String,
    /// The running (or ended) session.
    pub session: Option<TerminalSession>,
    /// Why the last start failed.
    pub error: Option<String>,
    /// Tests only: log in with this command instead of the host's (ssh, the lab's namespaces).
    pub login_override: Option<LoginCommand>,
    /// Rows scrolled back into the scrollback (0: the live screen).
    scroll: usize,
    /// Give the screen the keyboard once the click that started the session is over (a click
    /// elsewhere takes focus away in the frame it happens).
    focus_pending: bool,
    /// Lines typed since the experiments last took them ([`TerminalRuntime::take_typed`]).
    typed: Vec<String>,
    /// Lines typed whose command has not given the prompt back yet.
    running: Vec<String>,
}

impl TerminalRuntime {
    /// End the session: the child is hung up, killed if it ignores that, and reaped.
    pub fn end(&mut self) {
        self.session = None;
        self.error = None;
        self.scroll = 0;
    }

    /// Log in to `host` (one of the allowed hosts) unless a session runs already.
    pub fn ensure_started(&mut self, ctx: &egui::Context, allowed_hosts: &[String], host: &str) {
        if self
            .session
            .as_ref()
            .is_some_and(|s| s.state() == TermState::Running)
        {
            return;
        }
        if self.login_override.is_none() {
            self.host = host.to_string();
        }
        let size = self
            .session
            .as_ref()
            .map_or(TermSize::new(24, 100), TerminalSession::size);
        self.start(ctx, allowed_hosts, size);
    }

    /// Is a session running?
    pub fn is_running(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| s.state() == TermState::Running)
    }

    /// Type `line` and Enter into the running session (a step's button): false when no session
    /// runs. The line is kept for the experiments as if typed.
    pub fn type_line(&mut self, line: &str) -> bool {
        let Some(s) = self
            .session
            .as_ref()
            .filter(|s| s.state() == TermState::Running)
        else {
            return false;
        };
        s.send(format!("{line}\r").as_bytes());
        self.typed.push(line.to_string());
        self.scroll = 0;
        true
    }

    /// The lines typed since the last call, oldest first.
    pub fn take_typed(&mut self) -> Vec<String> {
        let typed = std::mem::take(&mut self.typed);
        self.running.extend(typed.iter().cloned());
        typed
    }

    /// Commands that gave the prompt back since the last call: each line with what the screen
    /// shows after it (its output, as far as it is still on the screen). The experiments read
    /// a refusal there: a migration libvirt refuses within milliseconds leaves no job for the
    /// watcher to see, only virsh's `error:` line.
    pub fn take_finished(&mut self) -> Vec<(String, String)> {
        if self.running.is_empty() {
            return Vec::new();
        }
        let Some(session) = self.session.as_ref() else {
            self.running.clear();
            return Vec::new();
        };
        let Some(text) = session.with_screen(|s| at_prompt(s).then(|| s.contents())) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut still = Vec::new();
        for line in std::mem::take(&mut self.running) {
            // Finished once the shell has echoed the line and given a new prompt below it
            // (right after Enter the old prompt is still there, with nothing after it).
            let after = text
                .rfind(&line)
                .map(|at| text[at + line.len()..].to_string())
                .filter(|after| after.trim_end().contains('\n'));
            match after {
                Some(after) => {
                    // The last row is the prompt the shell gave back.
                    let end = after.trim_end().rfind('\n').unwrap_or(0);
                    out.push((line, after[..end].trim().to_string()));
                }
                None => still.push(line),
            }
        }
        // A line whose output scrolled it off the screen never shows again: keep a few.
        let keep = still.len().saturating_sub(MAX_RUNNING);
        self.running = still.split_off(keep);
        out
    }

    /// Log in to the chosen host in a terminal of `size`.
    fn start(&mut self, ctx: &egui::Context, allowed_hosts: &[String], size: TermSize) {
        self.end();
        let login = match &self.login_override {
            Some(c) => Ok(c.clone()),
            None => login_command(&LabboxConfig::default(), allowed_hosts, &self.host),
        };
        let waker_ctx = ctx.clone();
        let started = login.and_then(|cmd| {
            TerminalSession::spawn(&cmd, size, Arc::new(move || waker_ctx.request_repaint()))
        });
        match started {
            Ok(s) => {
                self.session = Some(s);
                self.focus_pending = true;
                ctx.request_repaint();
            }
            Err(e) => self.error = Some(format!("{e:#}")),
        }
    }
}

/// How many typed lines wait at most for their prompt (older ones are forgotten).
const MAX_RUNNING: usize = 8;

/// How a Ctrl-C pressed in the terminal is kept among the typed lines.
pub const CTRL_C: &str = "^C";

/// The id of the terminal's screen (focus, tests).
pub fn screen_id() -> egui::Id {
    egui::Id::unique("real_terminal_screen")
}

/// The terminal section: chooser, buttons, the command it runs, how it ended, the screen.
pub fn terminal_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    term: &mut TerminalRuntime,
    allowed_hosts: &[String],
) {
    let hosts = terminal_hosts(allowed_hosts);
    if !hosts.iter().any(|h| h.uri == term.host) {
        term.host = hosts.first().map(|h| h.uri.clone()).unwrap_or_default();
    }
    let state = term.session.as_ref().map(TerminalSession::state);
    let running = state == Some(TermState::Running);
    ui.horizontal_wrapped(|ui| {
        ui.strong(tr!(lang, "real-term-title"));
        let label = tr!(lang, "real-term-host");
        ui.label(format!("{label}:"));
        let shown = hosts
            .iter()
            .find(|h| h.uri == term.host)
            .map_or_else(String::new, |h| h.name.clone());
        ui.add_enabled_ui(!running, |ui| {
            egui::ComboBox::from_id_salt("real_term_host")
                .selected_text(shown)
                .width(160.0)
                .show_ui(ui, |ui| {
                    for h in &hosts {
                        ui.selectable_value(&mut term.host, h.uri.clone(), h.name.as_str())
                            .on_hover_text(h.uri.as_str());
                    }
                })
                .response
                .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, &label));
        });
        let can_start = !term.host.is_empty() || term.login_override.is_some();
        let size = term
            .session
            .as_ref()
            .map_or(TermSize::new(24, 80), TerminalSession::size);
        match state {
            None => {
                if ui
                    .add_enabled(can_start, egui::Button::new(tr!(lang, "real-term-connect")))
                    .on_hover_text(tr!(lang, "real-term-connect-hover"))
                    .clicked()
                {
                    term.start(ui.ctx(), allowed_hosts, size);
                }
            }
            Some(TermState::Running) => {
                if ui
                    .button(tr!(lang, "real-term-end"))
                    .on_hover_text(tr!(lang, "real-term-end-hover"))
                    .clicked()
                {
                    term.end();
                }
            }
            Some(TermState::Exited(_)) => {
                if ui
                    .add_enabled(can_start, egui::Button::new(tr!(lang, "real-term-restart")))
                    .clicked()
                {
                    term.start(ui.ctx(), allowed_hosts, size);
                }
            }
        }
    });
    if hosts.is_empty() && term.login_override.is_none() {
        ui.colored_label(ui.visuals().warn_fg_color, tr!(lang, "real-term-no-hosts"));
        return;
    }
    if let Some(e) = &term.error {
        ui.label(tr!(lang, "real-term-failed"));
        ui.colored_label(
            ui.visuals().error_fg_color,
            egui::RichText::new(e).monospace(),
        );
    }
    let Some(session) = term.session.as_mut() else {
        ui.weak(tr!(lang, "real-term-idle"));
        return;
    };
    ui.horizontal_wrapped(|ui| {
        ui.weak(tr!(lang, "real-term-runs"));
        ui.monospace(session.command_line());
    });
    if let Some(TermState::Exited(status)) = state {
        ui.colored_label(ui.visuals().warn_fg_color, ended_text(lang, status));
    }
    let label = tr!(lang, "real-term-label");
    screen_ui(
        ui,
        session,
        &mut term.scroll,
        &mut term.focus_pending,
        &mut term.typed,
        &label,
    );
}

/// How the session ended, in words.
fn ended_text(lang: Lang, status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => tr!(lang, "real-term-exited", code = code.to_string()),
        (None, Some(sig)) => tr!(lang, "real-term-killed", signal = sig.to_string()),
        (None, None) => tr!(lang, "real-term-exited", code = "?".to_string()),
    }
}

/// The screen: sized to the space left, focused by a click, typed into while focused.
fn screen_ui(
    ui: &mut egui::Ui,
    session: &mut TerminalSession,
    scroll: &mut usize,
    focus_pending: &mut bool,
    lines: &mut Vec<String>,
    label: &str,
) {
    let font = egui::TextStyle::Monospace.resolve(ui.style());
    let (cell_w, cell_h) = ui.ctx().fonts_mut(|f| {
        (
            f.glyph_width(&font, 'M').max(1.0),
            f.row_height(&font).max(1.0),
        )
    });
    let avail = ui.available_size();
    let size = egui::vec2(avail.x.max(cell_w * 20.0), avail.y.max(cell_h * 6.0));
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let id = screen_id();
    let response = ui.interact(rect, id, egui::Sense::click());
    if response.clicked() {
        response.request_focus();
    } else if *focus_pending {
        if ui.input(|i| i.pointer.any_click()) {
            ui.ctx().request_repaint();
        } else {
            response.request_focus();
            *focus_pending = false;
        }
    }
    let focused = response.has_focus();
    if focused {
        // Tab, the arrows and Escape belong to the host, not to egui's focus navigation.
        ui.memory_mut(|m| {
            m.set_focus_lock_filter(
                id,
                egui::EventFilter {
                    tab: true,
                    horizontal_arrows: true,
                    vertical_arrows: true,
                    escape: true,
                },
            );
        });
    }
    let pad = 4.0;
    let inner = rect.shrink(pad);
    let want = TermSize::new(
        u16::try_from(((inner.height() / cell_h).floor() as i64).clamp(1, 500)).unwrap_or(24),
        u16::try_from(((inner.width() / cell_w).floor() as i64).clamp(1, 500)).unwrap_or(80),
    );
    if session.size() != want {
        // A failed resize keeps the old size: the screen still works, only clipped.
        let _ = session.resize(want);
    }

    if focused && session.state() == TermState::Running {
        let (app_cursor, bracketed) =
            session.with_screen(|s| (s.application_cursor(), s.bracketed_paste()));
        let events = ui.input(|i| i.events.clone());
        let mut typed = false;
        for e in &events {
            if let Some(bytes) = event_bytes(e, app_cursor, bracketed) {
                if bytes == b"\r" {
                    // The line as the screen shows it, prompt left out: what the experiments
                    // judge (a full-screen program, on the alternate screen, types none).
                    let line = session.with_screen(|s| {
                        if s.alternate_screen() {
                            String::new()
                        } else {
                            cursor_line(s)
                        }
                    });
                    if !line.is_empty() {
                        lines.push(line);
                    }
                }
                if bytes == [0x03] {
                    // Ctrl-C, kept as a line of its own: a foreground `virsh migrate` it
                    // interrupts cancels its job (see `experiments::cancelled_by`).
                    lines.push(CTRL_C.to_string());
                }
                session.send(&bytes);
                typed = true;
            }
        }
        if typed {
            *scroll = 0;
        }
    }
    if response.hovered() {
        // The wheel scrolls the terminal's own scrollback, not the panel around it.
        let rows: f32 = ui.input_mut(|i| {
            i.smooth_scroll_delta = egui::Vec2::ZERO;
            i.events
                .iter()
                .map(|e| match e {
                    egui::Event::MouseWheel { unit, delta, .. } => match unit {
                        egui::MouseWheelUnit::Line => delta.y,
                        egui::MouseWheelUnit::Point => delta.y / cell_h,
                        egui::MouseWheelUnit::Page => delta.y * inner.height() / cell_h,
                    },
                    _ => 0.0,
                })
                .sum()
        });
        let rows = rows.round() as i64;
        if rows != 0 {
            let back = i64::try_from(*scroll)
                .unwrap_or(0)
                .saturating_add(rows)
                .max(0);
            *scroll = usize::try_from(back).unwrap_or(0);
        }
    }
    session.set_scrollback(*scroll);
    // The emulator clamps to the scrollback it has.
    *scroll = session.with_screen(vt100::Screen::scrollback);

    let dark = ui.visuals().dark_mode;
    let default_bg = if dark {
        egui::Color32::from_gray(16)
    } else {
        egui::Color32::from_gray(250)
    };
    let default_fg = if dark {
        egui::Color32::from_gray(220)
    } else {
        egui::Color32::from_gray(20)
    };
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, default_bg);
    let stroke = if focused {
        ui.visuals().selection.stroke
    } else {
        ui.visuals().widgets.noninteractive.bg_stroke
    };
    painter.rect_stroke(rect, 4.0, stroke, egui::StrokeKind::Inside);
    let text = session.with_screen(|screen| {
        paint_screen(
            &painter,
            screen,
            inner.min,
            (cell_w, cell_h),
            &font,
            (default_fg, default_bg),
            focused,
        );
        screen.contents()
    });
    response.widget_info(|| {
        let mut info = egui::WidgetInfo::labeled(egui::Role::Terminal, true, label);
        info.current_text_value = Some(text.clone());
        info
    });
}

/// Is the shell waiting at its prompt (the cursor after a prompt, nothing typed)?
fn at_prompt(screen: &vt100::Screen) -> bool {
    if screen.alternate_screen() {
        return false;
    }
    let (row, col) = screen.cursor_position();
    let text: String = screen
        .rows(0, col)
        .nth(usize::from(row))
        .unwrap_or_default();
    let t = text.trim_end();
    cursor_line(screen).is_empty() && (t.ends_with('#') || t.ends_with('$'))
}

/// The logical line the cursor is on (rows the terminal wrapped joined), after its prompt.
fn cursor_line(screen: &vt100::Screen) -> String {
    let (row, _) = screen.cursor_position();
    let cols = screen.size().1.get();
    let rows: Vec<String> = screen.rows(0, cols).collect();
    let mut first = row;
    while first > 0 && screen.row_wrapped(first - 1) {
        first -= 1;
    }
    let text: String = rows
        .get(usize::from(first)..=usize::from(row))
        .map(|r| r.concat())
        .unwrap_or_default();
    crate::sessions::real::experiments::line_after_prompt(&text).to_string()
}

/// Draw the emulator's cells: backgrounds, then runs of same-styled text placed at their
/// column, then the cursor.
fn paint_screen(
    painter: &egui::Painter,
    screen: &vt100::Screen,
    origin: egui::Pos2,
    (cell_w, cell_h): (f32, f32),
    font: &egui::FontId,
    (default_fg, default_bg): (egui::Color32, egui::Color32),
    focused: bool,
) {
    let (rows, cols) = screen.size();
    let (rows, cols) = (rows.get(), cols.get());
    let pos = |r: u16, c: u16| origin + egui::vec2(f32::from(c) * cell_w, f32::from(r) * cell_h);
    for r in 0..rows {
        let mut run = String::new();
        let mut run_start = 0u16;
        let mut run_style: Option<(egui::Color32, bool, bool)> = None;
        let flush = |run: &mut String, start: u16, style: Option<(egui::Color32, bool, bool)>| {
            if run.trim().is_empty() {
                run.clear();
                return;
            }
            let Some((fg, italic, underline)) = style else {
                return;
            };
            let mut fmt = egui::TextFormat::simple(font.clone(), fg);
            fmt.italics = italic;
            if underline {
                fmt.underline = egui::Stroke::new(1.0, fg);
            }
            let job = egui::text::LayoutJob::single_section(std::mem::take(run), fmt);
            let galley = painter.layout_job(job);
            painter.galley(pos(r, start), galley, fg);
        };
        for c in 0..cols {
            let Some(cell) = screen.cell(r, c) else {
                continue;
            };
            if cell.is_wide_continuation() {
                continue;
            }
            let (mut fg, mut bg) = (
                color(cell.fgcolor(), default_fg, cell.bold()),
                color(cell.bgcolor(), default_bg, false),
            );
            if cell.inverse() {
                std::mem::swap(&mut fg, &mut bg);
            }
            if cell.dim() {
                fg = fg.gamma_multiply(0.6);
            }
            if bg != default_bg {
                let w = if cell.is_wide() { 2.0 } else { 1.0 };
                painter.rect_filled(
                    egui::Rect::from_min_size(pos(r, c), egui::vec2(cell_w * w, cell_h)),
                    0.0,
                    bg,
                );
            }
            let style = Some((fg, cell.italic(), cell.underline()));
            if style != run_style || cell.is_wide() {
                flush(&mut run, run_start, run_style);
                run_start = c;
                run_style = style;
            }
            let s = cell.contents();
            run.push_str(if s.is_empty() { " " } else { s });
            if cell.is_wide() {
                // Start again after it, so the next cell sits on its own column.
                flush(&mut run, run_start, run_style);
                run_start = c.saturating_add(2);
            }
        }
        flush(&mut run, run_start, run_style);
    }
    if !screen.hide_cursor() && screen.scrollback() == 0 {
        let (r, c) = screen.cursor_position();
        let cursor = egui::Rect::from_min_size(pos(r, c), egui::vec2(cell_w, cell_h));
        if focused {
            painter.rect_filled(cursor, 0.0, default_fg.gamma_multiply(0.7));
        } else {
            painter.rect_stroke(
                cursor,
                0.0,
                egui::Stroke::new(1.0, default_fg),
                egui::StrokeKind::Inside,
            );
        }
    }
}

/// The xterm palette: the 16 ANSI colours, the 6×6×6 cube, the grey ramp. Bold brightens the
/// first 8, as terminals do.
pub fn color(c: vt100::Color, default: egui::Color32, bold: bool) -> egui::Color32 {
    const ANSI: [(u8, u8, u8); 16] = [
        (0x00, 0x00, 0x00),
        (0xcd, 0x31, 0x31),
        (0x0d, 0xbc, 0x79),
        (0xe5, 0xe5, 0x10),
        (0x24, 0x72, 0xc8),
        (0xbc, 0x3f, 0xbc),
        (0x11, 0xa8, 0xcd),
        (0xe5, 0xe5, 0xe5),
        (0x66, 0x66, 0x66),
        (0xf1, 0x4c, 0x4c),
        (0x23, 0xd1, 0x8b),
        (0xf5, 0xf5, 0x43),
        (0x3b, 0x8e, 0xea),
        (0xd6, 0x70, 0xd6),
        (0x29, 0xb8, 0xdb),
        (0xff, 0xff, 0xff),
    ];
    match c {
        vt100::Color::Default => default,
        vt100::Color::Rgb(r, g, b) => egui::Color32::from_rgb(r, g, b),
        vt100::Color::Idx(i) => {
            let i = if bold && i < 8 { i + 8 } else { i };
            if let Some(&(r, g, b)) = ANSI.get(usize::from(i)) {
                egui::Color32::from_rgb(r, g, b)
            } else if i < 232 {
                let n = i - 16;
                let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
                egui::Color32::from_rgb(level(n / 36), level((n / 6) % 6), level(n % 6))
            } else {
                egui::Color32::from_gray(8 + (i - 232) * 10)
            }
        }
    }
}

/// The bytes a terminal sends for `event` (`None`: not for the host). `app_cursor`: the host
/// asked for application cursor keys (`ESC O A` instead of `ESC [ A`); `bracketed`: for
/// bracketed paste.
pub fn event_bytes(event: &egui::Event, app_cursor: bool, bracketed: bool) -> Option<Vec<u8>> {
    use egui::Key;
    match event {
        egui::Event::Text(t) => Some(t.as_bytes().to_vec()),
        egui::Event::Paste(t) => {
            // Terminals send a pasted newline as Enter.
            let text = t.replace("\r\n", "\r").replace('\n', "\r");
            Some(if bracketed {
                format!("\x1b[200~{text}\x1b[201~").into_bytes()
            } else {
                text.into_bytes()
            })
        }
        // egui turns Ctrl-C and Ctrl-X into these: in a terminal they are the control keys.
        egui::Event::Copy => Some(vec![0x03]),
        egui::Event::Cut => Some(vec![0x18]),
        egui::Event::Key {
            key,
            pressed: true,
            modifiers,
            ..
        } => {
            if modifiers.ctrl
                && !modifiers.alt
                && let Some(b) = control_byte(*key)
            {
                return Some(vec![b]);
            }
            let arrow = |c: char| {
                Some(if app_cursor {
                    format!("\x1bO{c}").into_bytes()
                } else {
                    format!("\x1b[{c}").into_bytes()
                })
            };
            let seq = |s: &str| Some(s.as_bytes().to_vec());
            match key {
                Key::Enter => seq("\r"),
                Key::Backspace => Some(vec![0x7f]),
                Key::Tab if modifiers.shift => seq("\x1b[Z"),
                Key::Tab => seq("\t"),
                Key::Escape => seq("\x1b"),
                Key::ArrowUp => arrow('A'),
                Key::ArrowDown => arrow('B'),
                Key::ArrowRight => arrow('C'),
                Key::ArrowLeft => arrow('D'),
                Key::Home => arrow('H'),
                Key::End => arrow('F'),
                Key::Insert => seq("\x1b[2~"),
                Key::Delete => seq("\x1b[3~"),
                Key::PageUp => seq("\x1b[5~"),
                Key::PageDown => seq("\x1b[6~"),
                Key::F1 => seq("\x1bOP"),
                Key::F2 => seq("\x1bOQ"),
                Key::F3 => seq("\x1bOR"),
                Key::F4 => seq("\x1bOS"),
                Key::F5 => seq("\x1b[15~"),
                Key::F6 => seq("\x1b[17~"),
                Key::F7 => seq("\x1b[18~"),
                Key::F8 => seq("\x1b[19~"),
                Key::F9 => seq("\x1b[20~"),
                Key::F10 => seq("\x1b[21~"),
                Key::F11 => seq("\x1b[23~"),
                Key::F12 => seq("\x1b[24~"),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Ctrl plus `key`: the C0 control code (Ctrl-A is 1 ... Ctrl-Z is 26, Ctrl-[ is Escape).
fn control_byte(key: egui::Key) -> Option<u8> {
    use egui::Key;
    let name = key.name();
    if name.len() == 1
        && let Some(c) = name.chars().next()
        && c.is_ascii_uppercase()
    {
        return Some(c as u8 - b'A' + 1);
    }
    match key {
        Key::Space => Some(0),
        Key::OpenBracket => Some(0x1b),
        Key::Backslash => Some(0x1c),
        Key::CloseBracket => Some(0x1d),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use egui::{Event, Key, Modifiers};

    fn key(key: Key, modifiers: Modifiers) -> Event {
        Event::Key {
            key,
            physical_key: None,
            pressed: true,
            repeat: false,
            modifiers,
        }
    }

    #[test]
    fn keys_are_sent_as_a_terminal_sends_them() {
        let none = Modifiers::NONE;
        let b = |e: Event| event_bytes(&e, false, false).unwrap();
        assert_eq!(b(Event::Text("ls -l".into())), b"ls -l");
        assert_eq!(b(key(Key::Enter, none)), b"\r");
        assert_eq!(b(key(Key::Backspace, none)), [0x7f]);
        assert_eq!(b(key(Key::Tab, none)), b"\t");
        assert_eq!(b(key(Key::ArrowUp, none)), b"\x1b[A");
        assert_eq!(b(key(Key::ArrowLeft, none)), b"\x1b[D");
        assert_eq!(b(key(Key::C, Modifiers::CTRL)), [0x03]);
        assert_eq!(b(key(Key::D, Modifiers::CTRL)), [0x04]);
        assert_eq!(b(key(Key::Z, Modifiers::CTRL)), [0x1a]);
        assert_eq!(b(Event::Copy), [0x03], "egui's Ctrl-C");
        assert_eq!(b(Event::Paste("a\nb".into())), b"a\rb");
        assert_eq!(
            event_bytes(&key(Key::ArrowUp, none), true, false).unwrap(),
            b"\x1bOA",
            "application cursor keys"
        );
        assert_eq!(
            event_bytes(&Event::Paste("x".into()), false, true).unwrap(),
            b"\x1b[200~x\x1b[201~"
        );
        // Releases and plain letters without text are not typed.
        let release = Event::Key {
            key: Key::Enter,
            physical_key: None,
            pressed: false,
            repeat: false,
            modifiers: none,
        };
        assert_eq!(event_bytes(&release, false, false), None);
        assert_eq!(event_bytes(&key(Key::A, none), false, false), None);
    }

    #[test]
    fn the_palette_covers_every_index() {
        let d = egui::Color32::from_gray(1);
        assert_eq!(color(vt100::Color::Default, d, false), d);
        assert_eq!(
            color(vt100::Color::Idx(1), d, false),
            egui::Color32::from_rgb(0xcd, 0x31, 0x31)
        );
        assert_eq!(
            color(vt100::Color::Idx(1), d, true),
            egui::Color32::from_rgb(0xf1, 0x4c, 0x4c),
            "bold brightens"
        );
        assert_eq!(
            color(vt100::Color::Idx(16), d, false),
            egui::Color32::from_rgb(0, 0, 0)
        );
        assert_eq!(
            color(vt100::Color::Idx(231), d, false),
            egui::Color32::from_rgb(255, 255, 255)
        );
        assert_eq!(
            color(vt100::Color::Idx(255), d, false),
            egui::Color32::from_gray(238)
        );
    }
}
