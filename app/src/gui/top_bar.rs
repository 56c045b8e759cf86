//! The top bar: mode badge, tabs, language, theme and zoom.

use super::command::Command;
use super::state::{AppState, Tab, ThemePref, ZOOM_RANGE};
use crate::instructor::LabMode;
use crate::tr;
use migralab_sim_core::lang::Lang;

/// Why real mode cannot be chosen in this build.
fn real_mode_reason(lang: Lang) -> String {
    tr!(lang, "mode-real-unavailable")
}

pub(super) fn top_bar_ui(
    ui: &mut egui::Ui,
    state: &mut AppState,
    mode_locked: Option<LabMode>,
    cmds: &mut Vec<Command>,
) {
    let lang = state.lang;
    ui.horizontal_wrapped(|ui| {
        ui.strong("migralab");
        ui.separator();
        // Mode badge: simulated is the only mode of this build; real mode is shown, disabled,
        // with the reason.
        let sim = egui::RichText::new(tr!(lang, "mode-sim"))
            .strong()
            .color(egui::Color32::WHITE)
            .background_color(egui::Color32::from_rgb(0x1f, 0x6f, 0xb5));
        ui.label(sim).on_hover_text(tr!(lang, "mode-sim-hover"));
        let reason = match mode_locked {
            // The instructor's lock wins over everything else: say who decided.
            Some(LabMode::Simulated) => tr!(lang, "mode-locked-sim"),
            _ => real_mode_reason(lang),
        };
        ui.add_enabled(false, egui::Button::new(tr!(lang, "mode-real")))
            .on_disabled_hover_text(reason);
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
