//! The top bar: mode badge, tabs, language, theme and zoom.

use super::command::Command;
use super::state::{AppState, Tab, ThemePref, ZOOM_RANGE};
use crate::sessions::real::Availability;
use crate::settings::LabMode;
use crate::tr;
use migralab_sim_core::lang::Lang;

/// What the mode switch needs to know.
pub(super) struct ModeSwitch {
    /// Real mode is on.
    pub real_on: bool,
    /// Whether it may be switched on, and if not, why.
    pub availability: Availability,
    /// The instructor's lock.
    pub locked: Option<LabMode>,
}

pub(super) fn top_bar_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    mode: &ModeSwitch,
    cmds: &mut Vec<Command>,
) {
    let lang = state.lang;
    ui.horizontal_wrapped(|ui| {
        ui.strong("migralab");
        ui.separator();
        mode_ui(ui, lang, mode, cmds);
        ui.separator();
        for tab in Tab::ALL {
            let label = tab_label(tab, lang);
            if ui.selectable_label(state.tab == tab, label).clicked() {
                cmds.push(Command::GoTo(tab));
            }
        }
        ui.separator();
        let mut chosen = lang;
        egui::ComboBox::from_id_salt("lang")
            .selected_text(lang_name(lang))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut chosen, Lang::Id, lang_name(Lang::Id));
                ui.selectable_value(&mut chosen, Lang::En, lang_name(Lang::En));
            })
            .response
            .on_hover_text(tr!(lang, "lang-hover"))
            .widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::ComboBox, true, tr!(lang, "lang-label"))
            });
        if chosen != lang {
            cmds.push(Command::SetLang(chosen));
        }
        let mut theme = state.theme;
        egui::ComboBox::from_id_salt("theme")
            .selected_text(theme_name(theme, lang))
            .show_ui(ui, |ui| {
                for t in [ThemePref::System, ThemePref::Light, ThemePref::Dark] {
                    ui.selectable_value(&mut theme, t, theme_name(t, lang));
                }
            })
            .response
            .widget_info(|| {
                egui::WidgetInfo::labeled(egui::Role::ComboBox, true, tr!(lang, "theme-label"))
            });
        state.theme = theme;
        if ui
            .button("A−")
            .on_hover_text(tr!(lang, "zoom-out"))
            .clicked()
        {
            state.zoom = (state.zoom - 0.1).max(*ZOOM_RANGE.start());
        }
        if ui
            .button(format!("{:.0} %", state.zoom * 100.0))
            .on_hover_text(tr!(lang, "zoom-reset"))
            .clicked()
        {
            state.zoom = 1.0;
        }
        if ui
            .button("A+")
            .on_hover_text(tr!(lang, "zoom-in"))
            .clicked()
        {
            state.zoom = (state.zoom + 0.1).min(*ZOOM_RANGE.end());
        }
    });
}

/// The mode: the active one is a coloured badge, the other a button to switch to it, disabled
/// with the reason when it may not be chosen. Switching is always an explicit click.
fn mode_ui(ui: &mut egui::Ui, lang: Lang, mode: &ModeSwitch, cmds: &mut Vec<Command>) {
    let badge = |text: String, color: egui::Color32| {
        egui::RichText::new(text)
            .strong()
            .color(egui::Color32::WHITE)
            .background_color(color)
    };
    if mode.real_on {
        let locked = mode.locked == Some(LabMode::Real);
        let back = ui
            .add_enabled(!locked, egui::Button::new(tr!(lang, "mode-sim")))
            .on_hover_text(tr!(lang, "mode-sim-switch"))
            .on_disabled_hover_text(tr!(lang, "mode-locked-real"));
        if back.clicked() {
            cmds.push(Command::SetRealMode(false));
        }
        ui.label(badge(tr!(lang, "mode-real"), super::real::REAL_COLOR))
            .on_hover_text(tr!(lang, "mode-real-on-hover"));
    } else {
        ui.label(badge(
            tr!(lang, "mode-sim"),
            egui::Color32::from_rgb(0x1f, 0x6f, 0xb5),
        ))
        .on_hover_text(tr!(lang, "mode-sim-hover"));
        let reason = super::real::unavailable_reason(mode.availability, lang);
        let button = ui
            .add_enabled(reason.is_none(), egui::Button::new(tr!(lang, "mode-real")))
            .on_hover_text(tr!(lang, "mode-real-switch"));
        let button = match reason {
            Some(r) => button.on_disabled_hover_text(r),
            None => button,
        };
        if button.clicked() {
            cmds.push(Command::SetRealMode(true));
        }
    }
}

/// The tab's name in `lang`.
pub fn tab_label(tab: Tab, lang: Lang) -> String {
    match tab {
        Tab::Lesson => tr!(lang, "tab-lesson"),
        Tab::Lab => tr!(lang, "tab-lab"),
        Tab::Experiments => tr!(lang, "tab-experiments"),
        Tab::Quiz => tr!(lang, "tab-quiz"),
        Tab::Instructor => tr!(lang, "tab-instructor"),
    }
}

/// A language's own name (never translated).
fn lang_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Id => "Bahasa Indonesia",
        Lang::En => "English",
    }
}

fn theme_name(t: ThemePref, lang: Lang) -> String {
    match t {
        ThemePref::System => tr!(lang, "theme-system"),
        ThemePref::Light => tr!(lang, "theme-light"),
        ThemePref::Dark => tr!(lang, "theme-dark"),
    }
}
