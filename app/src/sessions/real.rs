//! Real mode in the app, without egui: whether the instructor's settings allow it, the
//! migration form as `virsh` flags, the simulator's prediction for the same parameters, and
//! (with the `real` cargo feature) [`RealSession`], the worker thread that talks to libvirt.
//!
//! Invariants:
//! - **Only what the instructor allowed.** Hosts come from `real_lab.allowed_hosts`, domains
//!   from `real_lab.allowed_domains` ([`RealForm::fit`] puts anything else back in the list).
//! - **Nothing blocks the UI.** Every libvirt call runs on the session's worker thread; the UI
//!   polls channels (see [`RealSession`]).
//! - **Nothing real happens behind the user's back.** A migration starts only when asked for
//!   (the GUI asks for confirmation first); dropping the session aborts a running one.

#[cfg(feature = "real")]
pub mod experiments;
pub mod prediction;
#[cfg(all(feature = "real", target_os = "linux"))]
pub mod terminal;
#[cfg(feature = "real")]
mod worker;

#[cfg(feature = "real")]
pub use worker::{Busy, Job, RealSession};

use crate::sessions::migrate_form::MigrateForm;
use crate::settings::{InstructorSettings, LabMode};
use migralab_sim_core::scenario::MigrationSpec;
use migralab_sim_core::term::shell_line;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// Can real mode be switched on, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    /// Built with real mode, allowed by the instructor, at least one host configured.
    Ready,
    /// This binary was built without the `real` cargo feature.
    NotBuilt,
    /// The instructor locked the lab to simulated mode.
    LockedSimulated,
    /// No host in `real_lab.allowed_hosts`.
    NoHosts,
}

impl Availability {
    /// What the instructor's `settings` allow in this build.
    pub fn of(settings: &InstructorSettings) -> Availability {
        Availability::decide(migralab_real::REAL_MODE_BUILT, settings)
    }

    /// The rule itself, with the build's answer passed in (so both cases are testable).
    pub fn decide(built: bool, settings: &InstructorSettings) -> Availability {
        if !built {
            Availability::NotBuilt
        } else if settings.mode_locked == Some(LabMode::Simulated) {
            // The instructor's decision comes before anything about hosts.
            Availability::LockedSimulated
        } else if settings.real_lab.allowed_hosts.is_empty() {
            Availability::NoHosts
        } else {
            Availability::Ready
        }
    }
}

/// The real-mode migration form: which hosts, and the migrate form both modes share (its
/// domain is one of the allowed domains).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RealForm {
    /// Source host's libvirt URI (one of the allowed hosts).
    pub src: String,
    /// Destination host's libvirt URI (one of the allowed hosts).
    pub dst: String,
    /// The domain, `virsh migrate`'s flags, the bandwidth cap and the downtime limit.
    pub migrate: MigrateForm,
    /// Watch the source for migrations of the allowed domains started elsewhere (a terminal,
    /// virt-manager) and record them as runs.
    pub watch: bool,
}

impl RealForm {
    /// Keep the choices inside the instructor's lists: a host or domain that is not (or no
    /// longer) allowed is replaced by the first allowed one. The destination defaults to the
    /// second host when there is one. `free_domain`: the instructor (unlocked) may type any
    /// domain name.
    pub fn fit(&mut self, settings: &crate::settings::RealModeSettings, free_domain: bool) {
        let hosts = &settings.allowed_hosts;
        if !hosts.contains(&self.src) {
            self.src = hosts.first().cloned().unwrap_or_default();
        }
        if !hosts.contains(&self.dst) {
            self.dst = hosts
                .iter()
                .find(|h| **h != self.src)
                .or_else(|| hosts.get(1))
                .or_else(|| hosts.first())
                .cloned()
                .unwrap_or_default();
        }
        let domains = &settings.allowed_domains;
        let vm = &mut self.migrate.spec.vm;
        let typed = free_domain && !vm.trim().is_empty();
        if !typed && !domains.contains(vm) {
            *vm = domains.first().cloned().unwrap_or_default();
        }
    }

    /// Are source, destination and domain chosen?
    pub fn is_complete(&self) -> bool {
        !self.src.is_empty() && !self.dst.is_empty() && !self.migrate.spec.vm.trim().is_empty()
    }

    /// The migration the form stands for. `to` is the destination's host name (the URI when it
    /// names none, as `test:///default`), which is what the trace and the run list show.
    pub fn spec(&self) -> MigrationSpec {
        let mut spec = self.migrate.spec();
        spec.to = dest_name(&self.dst);
        spec
    }

    /// The `virsh migrate` command typed on this machine that does what the form does.
    pub fn migrate_command(&self) -> String {
        self.virsh_commands()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }

    /// What will run, as `virsh` commands typed on this machine: the migration, and the downtime
    /// limit migralab sets on the job.
    pub fn virsh_commands(&self) -> String {
        let spec = self.spec();
        let mut migrate = vec![
            "virsh".to_string(),
            "-c".into(),
            self.src.clone(),
            "migrate".into(),
        ];
        migrate.extend(self.migrate.options());
        migrate.push(spec.vm.clone());
        migrate.push(self.dst.clone());
        let downtime = [
            "virsh".to_string(),
            "-c".into(),
            self.src.clone(),
            "migrate-setmaxdowntime".into(),
            spec.vm.clone(),
            spec.downtime_limit_ms.to_string(),
        ];
        format!("{}\n{}", shell_line(migrate), shell_line(downtime))
    }
}

/// The request the worker gets for `form`: the hosts, the instructor's ping target (none when
/// it is not an address; the form says so) and the migration.
#[cfg(feature = "real")]
pub fn job_of(form: &RealForm, settings: &crate::settings::RealModeSettings) -> Job {
    Job {
        src: form.src.clone(),
        dst: form.dst.clone(),
        ping: ping_target(settings).ok().flatten(),
        spec: form.spec(),
        command: form.migrate_command(),
        ping_netns: settings.ping_netns.clone(),
        prediction_scenario: settings
            .prediction_scenario
            .clone()
            .unwrap_or_else(|| crate::scenarios::DEFAULT.to_string()),
    }
}

/// The name a destination URI gives its host: `kvm-host-02` for
/// `qemu+ssh://root@kvm-host-02/system`, the URI itself when it names no host.
pub fn dest_name(uri: &str) -> String {
    migralab_real::uri::LibvirtUri::parse(uri)
        .ok()
        .and_then(|u| u.host().map(str::to_string))
        .unwrap_or_else(|| uri.to_string())
}

/// The instructor's ping target as an address; `Err` says why it cannot be used.
pub fn ping_target(
    settings: &crate::settings::RealModeSettings,
) -> Result<Option<Ipv4Addr>, String> {
    match settings.ping_target.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t.parse::<Ipv4Addr>().map(Some).map_err(|_| t.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::settings::RealModeSettings;

    fn lab(hosts: &[&str], domains: &[&str]) -> RealModeSettings {
        RealModeSettings {
            allowed_hosts: hosts.iter().map(|s| s.to_string()).collect(),
            allowed_domains: domains.iter().map(|s| s.to_string()).collect(),
            ping_target: None,
            prediction_scenario: None,
            ping_netns: None,
        }
    }

    #[test]
    fn real_mode_needs_the_build_the_instructor_and_a_host() {
        let mut s = InstructorSettings::default();
        assert_eq!(Availability::decide(false, &s), Availability::NotBuilt);
        assert_eq!(Availability::decide(true, &s), Availability::NoHosts);
        s.real_lab = lab(&["test:///default"], &["test"]);
        assert_eq!(Availability::decide(true, &s), Availability::Ready);
        assert_eq!(Availability::decide(false, &s), Availability::NotBuilt);
        s.mode_locked = Some(LabMode::Simulated);
        assert_eq!(
            Availability::decide(true, &s),
            Availability::LockedSimulated
        );
        s.mode_locked = Some(LabMode::Real);
        assert_eq!(Availability::decide(true, &s), Availability::Ready);
        assert_eq!(
            Availability::of(&s) == Availability::Ready,
            migralab_real::REAL_MODE_BUILT
        );
    }

    #[test]
    fn the_form_stays_inside_the_allowed_lists() {
        let allowed = lab(
            &["qemu:///system", "qemu+ssh://h2/system"],
            &["db01", "web01"],
        );
        let mut f = RealForm {
            src: "qemu+ssh://evil/system".into(),
            ..RealForm::default()
        };
        f.migrate.spec.vm = "secret".into();
        f.fit(&allowed, false);
        assert_eq!(f.src, "qemu:///system");
        assert_eq!(f.dst, "qemu+ssh://h2/system", "the other host");
        assert_eq!(f.migrate.spec.vm, "db01");
        assert!(f.is_complete());
        // The instructor may type a domain; a student may not.
        f.migrate.spec.vm = "lab-extra".into();
        f.fit(&allowed, true);
        assert_eq!(f.migrate.spec.vm, "lab-extra");
        f.fit(&allowed, false);
        assert_eq!(f.migrate.spec.vm, "db01");
        // One host twice (the test driver): both ends are that host.
        let mut g = RealForm::default();
        g.fit(&lab(&["test:///default"], &[]), false);
        assert_eq!(
            (g.src.as_str(), g.dst.as_str()),
            ("test:///default", "test:///default")
        );
        assert!(!g.is_complete(), "no domain allowed");
    }

    #[test]
    fn the_form_is_virshs_command() {
        let mut f = RealForm {
            src: "qemu:///system".into(),
            dst: "qemu+ssh://root@kvm-host-02/system?keyfile=/k&no_tty=1".into(),
            ..RealForm::default()
        };
        let s = &mut f.migrate.spec;
        s.vm = " db01".into();
        s.tunnelled = true;
        s.bandwidth_mibps = Some(50);
        s.downtime_limit_ms = 500;
        let spec = f.spec();
        assert!(spec.p2p && spec.tunnelled, "--tunnelled brings --p2p");
        assert_eq!(spec.to, "kvm-host-02");
        assert_eq!(spec.bandwidth_mibps, Some(50));
        assert_eq!(spec.downtime_limit_ms, 500);
        assert_eq!(
            f.virsh_commands(),
            "virsh -c qemu:///system migrate --live --persistent --p2p --tunnelled --bandwidth 50 \
             db01 'qemu+ssh://root@kvm-host-02/system?keyfile=/k&no_tty=1'\n\
             virsh -c qemu:///system migrate-setmaxdowntime db01 500"
        );
        assert_eq!(dest_name("test:///default"), "test:///default");
    }

    #[test]
    fn the_ping_target_must_be_an_address() {
        let mut l = lab(&[], &[]);
        assert_eq!(ping_target(&l), Ok(None));
        l.ping_target = Some("10.0.0.5".into());
        assert_eq!(ping_target(&l), Ok(Some(Ipv4Addr::new(10, 0, 0, 5))));
        l.ping_target = Some("db01.lab".into());
        assert_eq!(ping_target(&l), Err("db01.lab".into()));
    }

    #[test]
    fn awkward_uris_and_names_are_quoted_once_each() {
        let mut f = RealForm {
            src: "qemu+ssh://h/system?socket=/run/a b".into(),
            dst: "qemu+ssh://it's/system".into(),
            ..RealForm::default()
        };
        f.migrate.spec.vm = "db\u{1b}01".into();
        let text = f.virsh_commands();
        assert!(
            text.starts_with("virsh -c 'qemu+ssh://h/system?socket=/run/a b' migrate --live "),
            "{text}"
        );
        assert!(
            text.contains(r" $'db\x1b01' 'qemu+ssh://it'\''s/system'"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "{text}");
    }
}
