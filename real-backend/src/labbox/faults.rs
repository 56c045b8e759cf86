//! The lesson's prerequisites, each broken on purpose on kvm-host-02 (the destination) and
//! fixed again exactly. Every fault makes `virsh migrate` fail fast with libvirt's own message
//! while db01 keeps running on kvm-host-01.

use super::LabboxError;
use super::hostfiles::{CPU_FAULT_FLAG, all_root_keys, write_authorized_keys};
use super::mounts::{HostDirs, SHARED_EXPORT, in_host};
use super::names::{DESTINATION, LabHost, MIGRATION_PORTS, SHARED_DIR, host};
use super::netns::{netns_path, remove_bridge, restore_bridge};
use super::run::{command, run};
use super::state;
use serde::Serialize;
use std::path::Path;

/// A prerequisite of live migration that the lab can break on kvm-host-02.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// The shared images directory is unmounted on kvm-host-02.
    SharedStorage,
    /// kvm-host-02 has no `br0` (its address and MAC stay on the uplink).
    Bridge,
    /// kvm-host-02 trusts no root key: SSH from kvm-host-01 is refused.
    SshTrust,
    /// kvm-host-02's QEMU starts every vCPU without avx2, which db01's CPU requires.
    Cpu,
    /// kvm-host-02 rejects TCP to the migration ports 49152–49215 with ICMP "prohibited", like
    /// firewalld's default reject: the sender sees `No route to host`, which tells a blocked
    /// port from a closed one.
    Firewall,
}

impl Fault {
    /// Every fault, in the lesson's order.
    pub const ALL: [Fault; 5] = [
        Fault::SharedStorage,
        Fault::Bridge,
        Fault::SshTrust,
        Fault::Cpu,
        Fault::Firewall,
    ];

    /// The name used on the command line and in the state dir.
    pub fn name(self) -> &'static str {
        match self {
            Fault::SharedStorage => "shared-storage",
            Fault::Bridge => "bridge",
            Fault::SshTrust => "ssh-trust",
            Fault::Cpu => "cpu",
            Fault::Firewall => "firewall",
        }
    }

    /// What the fault does, for help texts.
    pub fn what(self) -> &'static str {
        match self {
            Fault::SharedStorage => "unmount the shared images directory on kvm-host-02",
            Fault::Bridge => "delete br0 on kvm-host-02 (its IP and MAC stay on the uplink)",
            Fault::SshTrust => "empty root's authorized keys on kvm-host-02",
            Fault::Cpu => "kvm-host-02's QEMU turns avx2 off (db01's CPU requires it)",
            Fault::Firewall => {
                "kvm-host-02 rejects TCP 49152-49215 (ICMP prohibited, like firewalld)"
            }
        }
    }

    /// A part of the error `virsh migrate --live db01 qemu+ssh://kvm-host-02/system` prints
    /// while this fault is broken (measured on libvirt 11.3, QEMU 10.0.2).
    pub fn expected_error(self) -> &'static str {
        match self {
            Fault::SharedStorage => {
                "Cannot access storage file '/var/lib/libvirt/images/db01.qcow2'"
            }
            Fault::Bridge => "Cannot get interface MTU on 'br0': No such device",
            Fault::SshTrust => "Permission denied (publickey)",
            Fault::Cpu => "guest CPU doesn't match specification: missing features: avx2",
            Fault::Firewall => {
                "unable to connect to server at 'kvm-host-02:49152': No route to host"
            }
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Fault {
    type Err = LabboxError;

    fn from_str(s: &str) -> Result<Fault, LabboxError> {
        Fault::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| LabboxError::UnknownFault(s.to_owned()))
    }
}

/// The names of every fault, for error messages.
pub(crate) fn valid_names() -> String {
    Fault::ALL.map(Fault::name).join(", ")
}

/// The nftables table of the firewall fault (only in kvm-host-02's network namespace).
const FIREWALL_TABLE: &str = "migralab_fault";

fn firewall_rules() -> String {
    let (lo, hi) = MIGRATION_PORTS;
    format!(
        "table inet {FIREWALL_TABLE} {{\n\
         \x20 chain input {{\n\
         \x20   type filter hook input priority filter; policy accept;\n\
         \x20   tcp dport {lo}-{hi} reject with icmpx type admin-prohibited\n\
         \x20 }}\n\
         }}\n"
    )
}

fn destination() -> Result<&'static LabHost, LabboxError> {
    host(DESTINATION).ok_or_else(|| LabboxError::UnknownHost(DESTINATION.into()))
}

fn nft(args: &[&str], stdin_rules: Option<&Path>) -> Result<(), LabboxError> {
    let mut cmd = command("nsenter");
    cmd.arg(format!("--net={}", netns_path(DESTINATION).display()))
        .arg("nft")
        .args(args);
    if let Some(file) = stdin_rules {
        cmd.arg("-f").arg(file);
    }
    run(&mut cmd).map(drop)
}

/// Break `fault` on kvm-host-02 (a fault already broken is left as it is).
pub(crate) fn break_it(
    state_dir: &Path,
    cache_dir: &Path,
    fault: Fault,
) -> Result<(), LabboxError> {
    let mut active = state::faults(state_dir);
    if active.contains(&fault) {
        return Ok(());
    }
    let dest = destination()?;
    let dirs = HostDirs::of(state_dir, cache_dir, DESTINATION);
    match fault {
        Fault::SharedStorage => {
            run(in_host(state_dir, DESTINATION, "umount").arg(SHARED_DIR))?;
        }
        Fault::Bridge => remove_bridge(dest)?,
        Fault::SshTrust => write_authorized_keys(&dirs, "")?,
        Fault::Cpu => {
            let flag = dirs.run.join(CPU_FAULT_FLAG.trim_start_matches("/run/"));
            state::write_file(&flag, b"avx2 off\n")?;
        }
        Fault::Firewall => {
            let rules = state_dir.join("firewall.nft");
            state::write_file(&rules, firewall_rules().as_bytes())?;
            nft(&[], Some(&rules))?;
        }
    }
    active.push(fault);
    active.sort();
    state::set_faults(state_dir, &active)
}

/// Fix `fault` on kvm-host-02 (a fault not broken is left as it is).
pub(crate) fn fix_it(state_dir: &Path, cache_dir: &Path, fault: Fault) -> Result<(), LabboxError> {
    let mut active = state::faults(state_dir);
    if !active.contains(&fault) {
        return Ok(());
    }
    let dest = destination()?;
    let dirs = HostDirs::of(state_dir, cache_dir, DESTINATION);
    match fault {
        Fault::SharedStorage => {
            run(in_host(state_dir, DESTINATION, "mount")
                .arg("--bind")
                .arg(SHARED_EXPORT)
                .arg(SHARED_DIR))?;
        }
        Fault::Bridge => restore_bridge(dest)?,
        Fault::SshTrust => write_authorized_keys(&dirs, &all_root_keys(state_dir, cache_dir)?)?,
        Fault::Cpu => {
            let flag = dirs.run.join(CPU_FAULT_FLAG.trim_start_matches("/run/"));
            std::fs::remove_file(&flag).map_err(|source| LabboxError::Io {
                what: "cannot remove".into(),
                path: flag.clone(),
                source,
            })?;
        }
        Fault::Firewall => nft(&["delete", "table", "inet", FIREWALL_TABLE], None)?,
    }
    active.retain(|f| *f != fault);
    state::set_faults(state_dir, &active)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_and_print_by_their_command_line_names() {
        for f in Fault::ALL {
            assert_eq!(f.name().parse::<Fault>().ok(), Some(f));
            assert_eq!(f.to_string(), f.name());
        }
        let err = "nonsense".parse::<Fault>().err().map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(
            err.contains("shared-storage, bridge, ssh-trust, cpu, firewall"),
            "{err}"
        );
    }

    #[test]
    fn the_firewall_resets_the_migration_ports() {
        let rules = firewall_rules();
        assert!(
            rules.contains("tcp dport 49152-49215 reject with icmpx type admin-prohibited"),
            "{rules}"
        );
    }
}
