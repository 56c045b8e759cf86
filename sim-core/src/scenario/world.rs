//! The parts of a scenario that describe the lab world beyond the migration itself: what each
//! host runs and offers (CPU, QEMU/libvirt, machine types, bridges, firewall, SSH trust, name
//! resolution) and how each guest is configured (CPU mode, machine type, bridge, state).
//! Every field has a default that makes a healthy lab, so a scenario only spells out what breaks.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A host's CPU, as `virsh capabilities` describes it: a libvirt model plus differences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostCpuSpec {
    /// A model from libvirt's CPU map (`assets/cpu_map/`), e.g. `Skylake-Client-noTSX-IBRS`.
    #[serde(default = "defaults::cpu_model")]
    pub model: String,
    /// Features the host has beyond the model (the `<feature>` lines of `virsh capabilities`).
    #[serde(default)]
    pub extra_features: Vec<String>,
    /// Features of the model this host lacks (e.g. TSX switched off by a microcode update).
    #[serde(default)]
    pub missing_features: Vec<String>,
}

impl Default for HostCpuSpec {
    fn default() -> Self {
        HostCpuSpec {
            model: defaults::cpu_model(),
            extra_features: Vec::new(),
            missing_features: Vec::new(),
        }
    }
}

/// Which ports a host's firewall lets in from the other lab hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallSpec {
    /// QEMU's migration ports 49152–49215 (and the NBD port for disk copies).
    #[serde(default = "defaults::yes")]
    pub migration_ports_open: bool,
    /// SSH (22), which carries libvirt's control connection for `qemu+ssh://`.
    #[serde(default = "defaults::yes")]
    pub ssh_open: bool,
}

impl Default for FirewallSpec {
    fn default() -> Self {
        FirewallSpec {
            migration_ports_open: true,
            ssh_open: true,
        }
    }
}

/// How a guest's CPU is configured (`<cpu mode=...>` in its domain XML).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "mode", rename_all = "kebab-case", deny_unknown_fields)]
pub enum GuestCpuSpec {
    /// libvirt's default for new guests: the host's model, fixed at start and carried along.
    #[default]
    HostModel,
    /// The host CPU exactly as it is: fastest, but only safe between identical hosts.
    HostPassthrough,
    /// A named model plus required features (e.g. the output of `virsh cpu-baseline`).
    Custom {
        /// A model from libvirt's CPU map.
        model: String,
        /// Features required on top of the model.
        #[serde(default)]
        features: Vec<String>,
    },
}

impl GuestCpuSpec {
    /// The mode's name as libvirt writes it.
    pub fn mode_name(&self) -> &'static str {
        match self {
            GuestCpuSpec::HostModel => "host-model",
            GuestCpuSpec::HostPassthrough => "host-passthrough",
            GuestCpuSpec::Custom { .. } => "custom",
        }
    }
}

/// The security driver of a host's libvirt (`security_driver` in qemu.conf), as `virsh
/// dominfo` and `virsh capabilities` show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SecurityDriver {
    /// AppArmor: what Debian and Ubuntu hosts run; each guest gets a `libvirt-UUID` profile.
    #[default]
    Apparmor,
    /// None: the lab in a box's namespaces (dominfo then prints no security label).
    None,
}

impl SecurityDriver {
    /// The model name libvirt reports.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityDriver::Apparmor => "apparmor",
            SecurityDriver::None => "none",
        }
    }
}

/// The hypervisor a domain asks for (`<domain type=...>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DomainType {
    /// Hardware virtualisation: libvirt compares the guest CPU with the host's before migrating.
    #[default]
    Kvm,
    /// TCG emulation: QEMU itself finds out, when it starts on the destination.
    Qemu,
}

/// A disk's `<driver cache=...>` mode in the domain XML.
///
/// libvirt refuses a live migration of a disk with a host page cache (anything but `none` or
/// `directsync`) only when the source QEMU cannot drop that cache at the switch-over: QEMU's
/// file `drop-cache` option (qapi/block-core.json, since 4.0; libvirt's capability
/// `QEMU_CAPS_MIGRATION_FILE_DROP_CACHE`, checked in `qemuMigrationSrcIsSafe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DiskCache {
    /// `cache='none'` (O_DIRECT, no host page cache): what the lab's guests have unless told.
    #[default]
    None,
    /// `cache='directsync'`: O_DIRECT and every write synced.
    Directsync,
    /// `cache='writethrough'`: host page cache, every write synced.
    Writethrough,
    /// `cache='writeback'`: host page cache; what QEMU uses when the XML names no mode.
    Writeback,
    /// `cache='unsafe'`: host page cache, flushes ignored.
    Unsafe,
    /// No `cache` attribute: the hypervisor's default (QEMU's is writeback).
    Default,
}

impl DiskCache {
    /// The value of the XML attribute, `None` when the XML has none.
    pub fn attribute(self) -> Option<&'static str> {
        match self {
            DiskCache::None => Some("none"),
            DiskCache::Directsync => Some("directsync"),
            DiskCache::Writethrough => Some("writethrough"),
            DiskCache::Writeback => Some("writeback"),
            DiskCache::Unsafe => Some("unsafe"),
            DiskCache::Default => Option::None,
        }
    }

    /// Does the host's page cache sit between the guest and the image? (libvirt counts every
    /// mode but `none` and `directsync` as cached.)
    pub fn uses_host_cache(self) -> bool {
        !matches!(self, DiskCache::None | DiskCache::Directsync)
    }

    /// `none`, the default (for `skip_serializing_if`, so traces without it stay unchanged).
    pub fn is_none(&self) -> bool {
        *self == DiskCache::None
    }
}

/// The first QEMU whose file driver drops the host page cache at a migration's switch-over
/// (`drop-cache`, qapi/block-core.json: "since: 4.0").
pub const QEMU_DROP_CACHE_SINCE: (u32, u32) = (4, 0);

/// Whether a guest is running when the lab starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum VmState {
    /// Running on its host.
    #[default]
    Running,
    /// Defined but shut off.
    ShutOff,
}

/// Machine types a QEMU version knows: `pc-q35-X.Y` and `pc-i440fx-X.Y` for every release
/// from 2.4 up to its own, oldest first.
///
/// The releases are QEMU's: 2.4–2.12, 3.0–3.1, 4.0–4.2, then x.0–x.2 each year since 5.0
/// (there never was a 3.2), and `pc-q35-4.0.1` (a q35 fix released with 4.0.1). Checked
/// against `qemu-system-x86_64 -machine help` of QEMU 10.0.2 (bookworm-backports), whose
/// oldest types are the 2.4 ones: QEMU 9.1 removed pc-i440fx-2.0–2.3 and QEMU 10.0 deprecates
/// all up to 7.0 (hw/i386/pc_piix.c, pc_q35.c; docs/about/deprecated.rst). Older QEMU releases
/// also had types older than 2.4; the lab does not list them.
pub fn machine_types_of(qemu_version: &str) -> Vec<String> {
    let Some(own) = parse_version(qemu_version) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (ma, mi) in qemu_releases(own.0).take_while(|r| *r <= own) {
        out.push(format!("pc-q35-{ma}.{mi}"));
        if (ma, mi) == (4, 0) && own >= (4, 1) {
            out.push("pc-q35-4.0.1".into());
        }
        out.push(format!("pc-i440fx-{ma}.{mi}"));
    }
    out
}

/// QEMU's releases (major, minor) from 2.4 to major `last` (at most 99: a scenario's version
/// cannot make this loop long), oldest first.
fn qemu_releases(last: u32) -> impl Iterator<Item = (u32, u32)> {
    let last_minor = |major: u32| match major {
        2 => 12,
        3 => 1,
        _ => 2,
    };
    (2..=last.min(99)).flat_map(move |ma| {
        let first = if ma == 2 { 4 } else { 0 };
        (first..=last_minor(ma)).map(move |mi| (ma, mi))
    })
}

/// `"10.0.2"` → `(10, 0)`.
pub fn parse_version(v: &str) -> Option<(u32, u32)> {
    let mut it = v.trim().split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next().unwrap_or("0").parse().ok()?;
    Some((major, minor))
}

/// The /24 network of an IPv4 address, as `a.b.c.0/24`.
pub fn subnet_of(ip: &str) -> Option<String> {
    let parts: Vec<u8> = ip
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<Vec<u8>>>()?;
    (parts.len() == 4).then(|| format!("{}.{}.{}.0/24", parts[0], parts[1], parts[2]))
}

/// Explicit `/etc/hosts` entries of a host (name → address).
pub type EtcHosts = BTreeMap<String, String>;

pub(super) mod defaults {
    pub fn cpu_model() -> String {
        "Skylake-Client-noTSX-IBRS".into()
    }
    pub fn yes() -> bool {
        true
    }
    pub fn qemu_version() -> String {
        "7.2.0".into()
    }
    pub fn libvirt_version() -> String {
        "9.0.0".into()
    }
    pub fn host_memory_mib() -> u64 {
        64 * 1024
    }
    pub fn bridges() -> Vec<String> {
        vec!["br0".into()]
    }
    pub fn machine() -> String {
        "pc-q35-7.2".into()
    }
    pub fn bridge() -> String {
        "br0".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_types_follow_the_qemu_version() {
        let m = machine_types_of("7.2.0");
        assert!(m.contains(&"pc-q35-7.2".to_string()) && m.contains(&"pc-q35-5.1".to_string()));
        assert!(!m.contains(&"pc-q35-8.0".to_string()));
        assert!(machine_types_of("10.0.2").contains(&"pc-q35-10.0".to_string()));
        assert!(machine_types_of("nonsense").is_empty());
    }

    #[test]
    fn issue_20_machine_types_are_those_qemu_really_had() {
        // QEMU 10.0.2's `-machine help` (bookworm-backports), versioned types only.
        let m = machine_types_of("10.0.2");
        assert_eq!(m.len(), 2 * 30 + 1, "{m:?}");
        assert_eq!(m.first().map(String::as_str), Some("pc-q35-2.4"));
        assert_eq!(m.last().map(String::as_str), Some("pc-i440fx-10.0"));
        for never in [
            "pc-q35-3.2",
            "pc-i440fx-3.2",
            "pc-q35-10.1",
            "pc-i440fx-2.3",
        ] {
            assert!(!m.iter().any(|x| x == never), "{never}");
        }
        for had in [
            "pc-i440fx-2.4",
            "pc-q35-2.10",
            "pc-q35-4.0.1",
            "pc-i440fx-3.1",
        ] {
            assert!(m.iter().any(|x| x == had), "{had}");
        }
        assert!(!machine_types_of("4.0.0").contains(&"pc-q35-4.0.1".to_string()));
        assert!(
            machine_types_of("6.2.0").ends_with(&["pc-q35-6.2".into(), "pc-i440fx-6.2".into()])
        );
    }

    #[test]
    fn subnets_are_slash_24() {
        assert_eq!(
            subnet_of("192.168.100.11").as_deref(),
            Some("192.168.100.0/24")
        );
        assert_eq!(subnet_of("300.1.1.1"), None);
        assert_eq!(subnet_of("kvm-host-02"), None);
    }
}
