//! The migrate form both labs share (the simulated one and real hosts): a [`MigrationSpec`] being
//! set up, and the `virsh migrate` options it stands for, rendered from
//! [`MigrationSpec::virsh_flags`] so the form shows exactly what the simulator or libvirt runs.
//! No egui here: the widget is `crate::gui::migrate_form`.

use migralab_sim_core::scenario::{MigrationSpec, Scenario};
use migralab_sim_core::term::{shell_line, shell_word};
use serde::{Deserialize, Serialize};

/// A `virsh migrate` being set up: the migration, plus what only the terminal sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MigrateForm {
    /// The domain, the destination host, the flags, the bandwidth cap, the timeout and the
    /// downtime limit. The form offers a subset of the spec; the rest stays at its default.
    pub spec: MigrationSpec,
    /// `--verbose`: virsh prints the progress (the migration itself is the same).
    pub verbose: bool,
}

impl Default for MigrateForm {
    /// `--live --persistent`, as the lesson types it; no domain or destination yet.
    fn default() -> Self {
        let mut spec = MigrationSpec::new("", "");
        spec.persistent = true;
        MigrateForm {
            spec,
            verbose: false,
        }
    }
}

impl MigrateForm {
    /// The form for `scenario`: its first migration's VM, destination and the flags the form
    /// offers (the `prereq-*` scenarios break exactly that migration), or its first VM and
    /// another host.
    pub fn for_scenario(scenario: &Scenario) -> MigrateForm {
        let mut fresh = MigrateForm::default();
        let spec = &mut fresh.spec;
        if let Some(m) = scenario.migrations.first() {
            spec.vm.clone_from(&m.vm);
            spec.to.clone_from(&m.to);
            spec.live = m.live;
            spec.persistent = m.persistent;
            spec.undefinesource = m.undefinesource;
            spec.copy_storage_all = m.copy_storage_all;
            spec.auto_converge = m.auto_converge;
            // The form's one post-copy switch is `--postcopy --postcopy-after-precopy`.
            spec.postcopy = m.postcopy || m.postcopy_after_precopy;
            spec.postcopy_after_precopy = spec.postcopy;
            // And its one tunnel switch is `--p2p --tunnelled`.
            spec.p2p = m.p2p && m.tunnelled;
            spec.tunnelled = spec.p2p;
            // The form's 0 is "not given".
            spec.bandwidth_mibps = m.bandwidth_mibps.filter(|&b| b > 0);
            spec.timeout_s = m.timeout_s.filter(|&t| t > 0);
        } else if let Some(vm) = scenario.vms.first() {
            spec.vm.clone_from(&vm.name);
            spec.to = scenario
                .hosts
                .iter()
                .find(|h| h.name != vm.host)
                .map(|h| h.name.clone())
                .unwrap_or_default();
        }
        fresh
    }

    /// After a migration the guest may sit on the form's destination: point the form back at
    /// another host (the one it came from, usually), so the next run is a sensible one.
    pub fn follow_guest(&mut self, scenario: &Scenario, guest_host: Option<&str>) {
        if guest_host.is_some_and(|h| h == self.spec.to)
            && let Some(other) = scenario
                .hosts
                .iter()
                .find(|h| Some(h.name.as_str()) != guest_host)
        {
            self.spec.to = other.name.clone();
        }
    }

    /// The migration the form stands for: the domain as typed, trimmed, and `--tunnelled` with
    /// the `--p2p` libvirt requires for it.
    pub fn spec(&self) -> MigrationSpec {
        let mut spec = self.spec.clone();
        spec.vm = spec.vm.trim().to_string();
        spec.p2p |= spec.tunnelled;
        spec
    }

    /// `virsh migrate`'s options, in virsh's order: the flags, `--verbose`, `--bandwidth N`,
    /// `--timeout N` (the domain and the destination follow them).
    pub fn options(&self) -> Vec<String> {
        let spec = self.spec();
        let mut words: Vec<String> = spec.virsh_flags().into_iter().map(str::to_string).collect();
        if self.verbose {
            words.push("--verbose".into());
        }
        if let Some(bw) = spec.bandwidth_mibps {
            words.extend(["--bandwidth".to_string(), bw.to_string()]);
        }
        if let Some(t) = spec.timeout_s {
            words.extend(["--timeout".to_string(), t.to_string()]);
        }
        words
    }

    /// The `virsh migrate` command typed in the simulated lab (without where virsh runs).
    pub fn virsh_line(&self) -> String {
        let mut parts = vec!["virsh".to_string(), "migrate".to_string()];
        parts.extend(self.options());
        parts.push(self.spec.vm.clone());
        parts.push(format!("qemu+ssh://{}/system", self.spec.to));
        shell_line(parts)
    }

    /// The line to type at the terminal's current host: plain `virsh migrate` where the guest
    /// runs, otherwise through ssh to its host (as a student would log in there first).
    pub fn command_line(&self, current_host: &str, guest_host: Option<&str>) -> String {
        let line = self.virsh_line();
        match guest_host {
            Some(h) if h != current_host => format!("ssh {} {line}", shell_word(h)),
            _ => line,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_default_form_is_the_lessons_command() {
        let scenario = crate::scenarios::load(Some(std::path::Path::new("lesson")), &[]).unwrap();
        let form = MigrateForm::for_scenario(&scenario);
        assert_eq!(
            form.virsh_line(),
            "virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system"
        );
        assert_eq!(
            form.command_line("kvm-host-02", Some("kvm-host-01")),
            "ssh kvm-host-01 virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system"
        );
    }

    #[test]
    fn every_control_is_a_flag_in_virshs_order() {
        let mut form = MigrateForm::default();
        let s = &mut form.spec;
        s.vm = "db01".into();
        s.to = "h2".into();
        s.persistent = false;
        s.undefinesource = true;
        s.copy_storage_all = true;
        s.auto_converge = true;
        s.postcopy = true;
        s.postcopy_after_precopy = true;
        s.tunnelled = true;
        s.bandwidth_mibps = Some(50);
        s.timeout_s = Some(30);
        form.verbose = true;
        assert_eq!(
            form.virsh_line(),
            "virsh migrate --live --undefinesource --copy-storage-all --p2p --tunnelled \
             --auto-converge --postcopy --postcopy-after-precopy --verbose --bandwidth 50 \
             --timeout 30 db01 qemu+ssh://h2/system"
        );
        let spec = form.spec();
        assert!(spec.copy_storage_all && spec.p2p && spec.tunnelled && !spec.persistent);
    }
}
