//! The migration form: each control is a `virsh migrate` flag, and the form shows the exact
//! command it produces. Running it types that command into the lab terminal.

use crate::gui::command::Command;
use crate::gui::state::MigrateForm;
use crate::sessions::lab::LabSession;
use crate::tr;
use migralab_sim_core::lang::Lang;
use migralab_sim_core::scenario::{MigrationSpec, Scenario};

/// Point the form at `scenario`: its first migration's VM, destination and flags (the `prereq-*`
/// scenarios break exactly that migration), or its first VM and another host.
pub fn reset_for(form: &mut MigrateForm, scenario: &Scenario) {
    let mut fresh = MigrateForm::default();
    if let Some(m) = scenario.migrations.first() {
        fresh.vm = m.vm.clone();
        fresh.to = m.to.clone();
        fresh.live = m.live;
        fresh.persistent = m.persistent;
        fresh.undefinesource = m.undefinesource;
        fresh.copy_storage_all = m.copy_storage_all;
        fresh.auto_converge = m.auto_converge;
        fresh.postcopy = m.postcopy || m.postcopy_after_precopy;
        fresh.tunnelled = m.p2p && m.tunnelled;
        fresh.bandwidth_mibps = m
            .bandwidth_mibps
            .map_or(0, |b| b.min(u64::from(u32::MAX)) as u32);
        fresh.timeout_s = m.timeout_s.map_or(0, |t| t.min(u64::from(u32::MAX)) as u32);
    } else if let Some(vm) = scenario.vms.first() {
        fresh.vm = vm.name.clone();
        fresh.to = scenario
            .hosts
            .iter()
            .find(|h| h.name != vm.host)
            .map(|h| h.name.clone())
            .unwrap_or_default();
    }
    *form = fresh;
}

/// After a migration the guest may sit on the form's destination: point the form back at
/// another host (the one it came from, usually), so the next run is a sensible one.
pub fn follow_guest(form: &mut MigrateForm, scenario: &Scenario, guest_host: Option<&str>) {
    if guest_host.is_some_and(|h| h == form.to)
        && let Some(other) = scenario
            .hosts
            .iter()
            .find(|h| Some(h.name.as_str()) != guest_host)
    {
        form.to = other.name.clone();
    }
}

/// The `virsh migrate` arguments the form stands for (without where virsh runs).
pub fn migrate_args(form: &MigrateForm) -> String {
    let mut parts = vec!["virsh".to_string(), "migrate".to_string()];
    let mut flag = |on: bool, f: &str| {
        if on {
            parts.push(f.to_string());
        }
    };
    flag(form.live, "--live");
    flag(form.persistent, "--persistent");
    flag(form.undefinesource, "--undefinesource");
    flag(form.copy_storage_all, "--copy-storage-all");
    flag(form.auto_converge, "--auto-converge");
    flag(form.postcopy, "--postcopy");
    flag(form.postcopy, "--postcopy-after-precopy");
    flag(form.tunnelled, "--p2p");
    flag(form.tunnelled, "--tunnelled");
    flag(form.verbose, "--verbose");
    if form.bandwidth_mibps > 0 {
        parts.push(format!("--bandwidth {}", form.bandwidth_mibps));
    }
    if form.timeout_s > 0 {
        parts.push(format!("--timeout {}", form.timeout_s));
    }
    parts.push(form.vm.clone());
    parts.push(format!("qemu+ssh://{}/system", form.to));
    parts.join(" ")
}

/// The line to type at the terminal's current host: plain `virsh migrate` where the guest runs,
/// otherwise through ssh to its host (as a student would log in there first).
pub fn command_line(form: &MigrateForm, current_host: &str, guest_host: Option<&str>) -> String {
    let args = migrate_args(form);
    match guest_host {
        Some(h) if h != current_host => format!("ssh {h} {args}"),
        _ => args,
    }
}

/// The spec the form stands for, for the preflight drawn on the topology.
pub fn spec_of(form: &MigrateForm) -> Option<MigrationSpec> {
    let mut spec: MigrationSpec = serde_json::from_value(serde_json::json!({
        "vm": form.vm,
        "to": form.to,
    }))
    .ok()?;
    spec.live = form.live;
    spec.persistent = form.persistent;
    spec.undefinesource = form.undefinesource;
    spec.copy_storage_all = form.copy_storage_all;
    spec.auto_converge = form.auto_converge;
    spec.p2p = form.tunnelled;
    spec.tunnelled = form.tunnelled;
    Some(spec)
}

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
                .selected_text(form.vm.clone())
                .show_ui(ui, |ui| {
                    for vm in &scenario.vms {
                        ui.selectable_value(&mut form.vm, vm.name.clone(), vm.name.as_str());
                    }
                })
                .response
                .widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::ComboBox, true, tr!(lang, "form-vm"))
                });
            ui.end_row();
            ui.label(tr!(lang, "form-to"));
            egui::ComboBox::from_id_salt("form_to")
                .selected_text(form.to.clone())
                .show_ui(ui, |ui| {
                    for h in &scenario.hosts {
                        ui.selectable_value(&mut form.to, h.name.clone(), h.name.as_str());
                    }
                })
                .response
                .widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::ComboBox, true, tr!(lang, "form-to"))
                });
            ui.end_row();
        });
    let flags: [(&mut bool, &str, String); 8] = [
        (&mut form.live, "--live", tr!(lang, "flag-live")),
        (
            &mut form.persistent,
            "--persistent",
            tr!(lang, "flag-persistent"),
        ),
        (
            &mut form.undefinesource,
            "--undefinesource",
            tr!(lang, "flag-undefinesource"),
        ),
        (
            &mut form.copy_storage_all,
            "--copy-storage-all",
            tr!(lang, "flag-copy-storage-all"),
        ),
        (
            &mut form.auto_converge,
            "--auto-converge",
            tr!(lang, "flag-auto-converge"),
        ),
        (&mut form.postcopy, "--postcopy", tr!(lang, "flag-postcopy")),
        (
            &mut form.tunnelled,
            "--p2p --tunnelled",
            tr!(lang, "flag-tunnelled"),
        ),
        (&mut form.verbose, "--verbose", tr!(lang, "flag-verbose")),
    ];
    ui.horizontal_wrapped(|ui| {
        for (value, flag, help) in flags {
            ui.checkbox(value, egui::RichText::new(flag).monospace())
                .on_hover_text(help);
        }
    });
    ui.horizontal(|ui| {
        ui.label("--bandwidth");
        ui.add(
            egui::DragValue::new(&mut form.bandwidth_mibps)
                .range(0..=100_000)
                .suffix(" MiB/s"),
        )
        .on_hover_text(tr!(lang, "flag-bandwidth"))
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::SpinButton, true, "--bandwidth"));
        ui.label("--timeout");
        ui.add(
            egui::DragValue::new(&mut form.timeout_s)
                .range(0..=86_400)
                .suffix(" s"),
        )
        .on_hover_text(tr!(lang, "flag-timeout"))
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::SpinButton, true, "--timeout"));
    });
    let guest_host = session.world().running_on(&form.vm);
    let current = session
        .prompt()
        .trim_start_matches("root@")
        .split(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let line = command_line(form, &current, guest_host);
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
    let ready = !form.vm.is_empty() && !form.to.is_empty() && !session.is_busy();
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_default_form_is_the_lessons_command() {
        let scenario = crate::scenarios::load(Some(std::path::Path::new("lesson")), &[]).unwrap();
        let mut form = MigrateForm::default();
        reset_for(&mut form, &scenario);
        assert_eq!(
            migrate_args(&form),
            "virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system"
        );
        assert_eq!(
            command_line(&form, "kvm-host-02", Some("kvm-host-01")),
            "ssh kvm-host-01 virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system"
        );
    }

    #[test]
    fn every_control_is_a_flag() {
        let form = MigrateForm {
            vm: "db01".into(),
            to: "h2".into(),
            live: true,
            persistent: false,
            undefinesource: true,
            copy_storage_all: true,
            auto_converge: true,
            postcopy: true,
            tunnelled: true,
            verbose: true,
            bandwidth_mibps: 50,
            timeout_s: 30,
        };
        assert_eq!(
            migrate_args(&form),
            "virsh migrate --live --undefinesource --copy-storage-all --auto-converge --postcopy \
             --postcopy-after-precopy --p2p --tunnelled --verbose --bandwidth 50 --timeout 30 db01 \
             qemu+ssh://h2/system"
        );
        let spec = spec_of(&form).unwrap();
        assert!(spec.copy_storage_all && spec.p2p && spec.tunnelled && !spec.persistent);
    }
}
