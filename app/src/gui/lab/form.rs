//! The simulated lab's migration form: the domain and the destination from the scenario, the
//! flags (the widget both modes share), and the exact command they produce. Running it types
//! that command into the lab terminal.

use crate::gui::command::Command;
use crate::gui::migrate_form::{Mode, options_ui};
use crate::sessions::lab::LabSession;
use crate::sessions::migrate_form::MigrateForm;
use crate::tr;
use migralab_sim_core::lang::Lang;

/// The form.
pub fn form_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    form: &mut MigrateForm,
    session: &LabSession,
    cmds: &mut Vec<Command>,
) {
    let scenario = session.scenario();
    ui.heading(tr!(lang, "form-title"));
    egui::Grid::new("migrate_form")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label(tr!(lang, "form-vm"));
            egui::ComboBox::from_id_salt("form_vm")
                .selected_text(form.spec.vm.clone())
                .show_ui(ui, |ui| {
                    for vm in &scenario.vms {
                        ui.selectable_value(&mut form.spec.vm, vm.name.clone(), vm.name.as_str());
                    }
                })
                .response
                .widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::ComboBox, true, tr!(lang, "form-vm"))
                });
            ui.end_row();
            ui.label(tr!(lang, "form-to"));
            egui::ComboBox::from_id_salt("form_to")
                .selected_text(form.spec.to.clone())
                .show_ui(ui, |ui| {
                    for h in &scenario.hosts {
                        ui.selectable_value(&mut form.spec.to, h.name.clone(), h.name.as_str());
                    }
                })
                .response
                .widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::ComboBox, true, tr!(lang, "form-to"))
                });
            ui.end_row();
        });
    options_ui(ui, lang, form, Mode::Simulated);
    let guest_host = session.world().running_on(&form.spec.vm);
    let current = session
        .prompt()
        .trim_start_matches("root@")
        .split(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let line = form.command_line(&current, guest_host);
    ui.label(tr!(lang, "form-command"));
    ui.add(
        egui::TextEdit::multiline(&mut line.as_str())
            .code_editor()
            .desired_rows(2)
            .desired_width(f32::INFINITY),
    )
    .widget_info(|| {
        egui::WidgetInfo::labeled(egui::Role::TextInput, true, tr!(lang, "form-command"))
    });
    let ready = !form.spec.vm.is_empty() && !form.spec.to.is_empty() && !session.is_busy();
    ui.horizontal(|ui| {
        if ui
            .add_enabled(ready, egui::Button::new(tr!(lang, "form-run")))
            .on_hover_text(tr!(lang, "form-run-hover"))
            .clicked()
        {
            cmds.push(Command::RunLine(line.clone()));
        }
        if ui.button(tr!(lang, "form-copy")).clicked() {
            ui.ctx().copy_text(line.clone());
        }
    });
}
