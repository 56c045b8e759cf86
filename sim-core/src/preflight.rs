//! Preflight: every prerequisite of a migration checked before (and instead of) failing, each with
//! the evidence, the fix and the exact error libvirt gives when it is not met.
//!
//! The checks cover the lesson's five prerequisites (shared storage, same network, SSH trust,
//! compatible CPU, compatible QEMU/libvirt) and the ones the lesson forgets (migration ports, name
//! resolution, not the same host, domain running, free memory on the destination). Each check
//! also records the *stage* at which libvirt would notice, so a simulated migration fails at the
//! same point and with the same message as a real one.

use crate::cpu::{CpuCompare, CpuDef, CpuMap, PassthroughOutcome};
use crate::error::LabError;
use crate::scenario::{
    DomainType, GuestCpuSpec, HostSpec, MigrationSpec, Scenario, StorageKind, Text, VmSpec, VmState,
};
use serde::{Deserialize, Serialize};

/// Result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckStatus {
    /// Met.
    Pass,
    /// The migration works, but something is wrong or risky.
    Warn,
    /// The migration fails.
    Fail,
    /// Could not be measured (real mode: libvirt cannot tell); the evidence says why.
    Unknown,
}

/// What is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    /// The disk images are on storage both hosts see at the same path.
    SharedStorage,
    /// The guest's bridge exists on the destination.
    Bridge,
    /// The destination's bridge is on the guest's network (same L2 segment / subnet).
    SameSubnet,
    /// The source's root can log in to the destination by key (`qemu+ssh://`).
    SshTrust,
    /// The destination can provide the guest's CPU.
    Cpu,
    /// The destination's QEMU knows the guest's machine type.
    MachineType,
    /// The destination accepts connections on the migration ports 49152–49215.
    MigrationPorts,
    /// The destination's name resolves, on the source, to the destination.
    NameResolution,
    /// Source and destination are different hosts (different host UUIDs).
    NotSameHost,
    /// The domain is running.
    DomainRunning,
    /// The destination has enough free memory for the guest.
    FreeMemory,
}

impl CheckId {
    /// The prerequisite's short name, the same in the simulated and the real lab.
    pub fn title(self) -> Text {
        let (id, en) = match self {
            CheckId::SharedStorage => ("Shared storage", "Shared storage"),
            CheckId::Bridge => ("Bridge yang sama", "Same bridge"),
            CheckId::SameSubnet => ("Jaringan yang sama", "Same network"),
            CheckId::NameResolution => ("Resolusi nama host", "Name resolution"),
            CheckId::SshTrust => ("SSH tanpa password", "SSH trust"),
            CheckId::Cpu => ("CPU yang kompatibel", "Compatible CPU"),
            CheckId::MachineType => (
                "Versi QEMU/libvirt yang kompatibel",
                "Compatible QEMU/libvirt",
            ),
            CheckId::MigrationPorts => ("Port migrasi 49152–49215", "Migration ports 49152–49215"),
            CheckId::NotSameHost => ("Host yang berbeda", "Not the same host"),
            CheckId::DomainRunning => ("Domain berjalan", "Domain running"),
            CheckId::FreeMemory => ("Memori kosong di tujuan", "Free memory on the destination"),
        };
        text(id, en)
    }
}

/// When libvirt notices a problem, in the order a `virsh migrate` goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// `virsh` opens the connection to the destination (ssh).
    Connect,
    /// The source prepares (domain state, storage safety).
    Begin,
    /// The destination starts an incoming QEMU (host UUID, machine type, CPU, disks, bridge, memory).
    Prepare,
    /// The source connects to the destination's migration port and sends.
    Perform,
    /// The destination QEMU puts the vCPU state into KVM once all RAM and the device state have
    /// arrived: a `host-passthrough` guest whose state the new CPU cannot hold fails here, after
    /// the whole copy, and resumes on the source.
    LoadState,
    /// The migration succeeds; the problem shows afterwards.
    After,
}

/// One checked prerequisite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// What was checked.
    pub id: CheckId,
    /// Pass, warn or fail.
    pub status: CheckStatus,
    /// Short name of the prerequisite.
    pub title: Text,
    /// What was found (and how it was measured).
    pub evidence: Text,
    /// What to do about it (empty when it passes).
    pub fix: Text,
    /// When libvirt would notice.
    pub stage: Stage,
    /// The error libvirt gives when this check fails.
    pub error: Option<LabError>,
}

/// All checks for one migration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreflightReport {
    /// The domain.
    pub vm: String,
    /// Source host.
    pub from: String,
    /// Destination host.
    pub to: String,
    /// The checks, the lesson's five prerequisites first.
    pub checks: Vec<Check>,
}

impl PreflightReport {
    /// The check a real migration would fail on first (earliest stage), if any.
    pub fn first_failure(&self) -> Option<&Check> {
        self.checks
            .iter()
            .filter(|c| c.status == CheckStatus::Fail)
            .min_by_key(|c| (c.stage, failure_order(c.id)))
    }

    /// Is every check a pass?
    pub fn all_pass(&self) -> bool {
        self.checks.iter().all(|c| c.status == CheckStatus::Pass)
    }

    /// The check with this id.
    pub fn check(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }
}

/// Within a stage, the order in which libvirt runs into things.
fn failure_order(id: CheckId) -> u8 {
    match id {
        CheckId::NameResolution => 0,
        CheckId::SshTrust => 1,
        CheckId::DomainRunning => 2,
        CheckId::SharedStorage => 3,
        CheckId::NotSameHost => 4,
        CheckId::MachineType => 5,
        CheckId::Cpu => 6,
        CheckId::Bridge => 7,
        CheckId::FreeMemory => 8,
        CheckId::MigrationPorts => 9,
        CheckId::SameSubnet => 10,
    }
}

fn text(id: impl Into<String>, en: impl Into<String>) -> Text {
    Text {
        id: id.into(),
        en: en.into(),
    }
}

fn none() -> Text {
    Text::default()
}

struct Ctx<'a> {
    scenario: &'a Scenario,
    vm: &'a VmSpec,
    src: &'a HostSpec,
    dst: &'a HostSpec,
    spec: &'a MigrationSpec,
}

/// Check every prerequisite of migrating `spec.vm` to `spec.to` in `scenario`'s lab.
///
/// Fails (with libvirt's words) only when the command cannot even be looked at: an unknown domain
/// or destination host.
pub fn preflight(scenario: &Scenario, spec: &MigrationSpec) -> Result<PreflightReport, LabError> {
    let vm = scenario
        .vms
        .iter()
        .find(|v| v.name == spec.vm)
        .ok_or_else(|| LabError::NoSuchDomain {
            name: spec.vm.clone(),
        })?;
    let host = |name: &str| scenario.hosts.iter().find(|h| h.name == name);
    let src = host(&vm.host)
        .ok_or_else(|| LabError::Internal(format!("host '{}' is not in the lab", vm.host)))?;
    let dst = host(&spec.to).ok_or_else(|| LabError::ConnectFailed {
        detail: format!(
            "Cannot recv data: ssh: Could not resolve hostname {}: Name or service not known: Connection reset by peer",
            spec.to
        ),
    })?;
    let c = Ctx {
        scenario,
        vm,
        src,
        dst,
        spec,
    };
    let checks = vec![
        shared_storage(&c),
        bridge(&c),
        same_subnet(&c),
        ssh_trust(&c),
        cpu(&c),
        machine_type(&c),
        migration_ports(&c),
        name_resolution(&c),
        not_same_host(&c),
        domain_running(&c),
        free_memory(&c),
    ];
    Ok(PreflightReport {
        vm: vm.name.clone(),
        from: src.name.clone(),
        to: dst.name.clone(),
        checks,
    })
}

fn fail(
    id: CheckId,
    stage: Stage,
    title: Text,
    evidence: Text,
    fix: Text,
    error: LabError,
) -> Check {
    Check {
        id,
        status: CheckStatus::Fail,
        title,
        evidence,
        fix,
        stage,
        error: Some(error),
    }
}

fn warn(id: CheckId, stage: Stage, title: Text, evidence: Text, fix: Text) -> Check {
    Check {
        id,
        status: CheckStatus::Warn,
        title,
        evidence,
        fix,
        stage,
        error: None,
    }
}

fn pass(id: CheckId, stage: Stage, title: Text, evidence: Text) -> Check {
    Check {
        id,
        status: CheckStatus::Pass,
        title,
        evidence,
        fix: none(),
        stage,
        error: None,
    }
}

fn shared_storage(c: &Ctx<'_>) -> Check {
    let title = CheckId::SharedStorage.title();
    let path = c.vm.disk_path(&c.scenario.storage);
    let id = CheckId::SharedStorage;
    if c.vm.disk_bytes() == 0 {
        return pass(
            id,
            Stage::Begin,
            title,
            text("VM ini tidak punya disk.", "This VM has no disk."),
        );
    }
    if c.scenario.storage.kind == StorageKind::Local {
        if c.spec.copy_storage_all {
            return warn(
                id,
                Stage::Begin,
                title,
                text(
                    format!(
                        "{path} ada di disk lokal {}; --copy-storage-all akan menyalin seluruh disk lewat jaringan sebelum RAM.",
                        c.src.name
                    ),
                    format!(
                        "{path} is on {}'s local disk; --copy-storage-all will copy the whole disk over the network before the RAM.",
                        c.src.name
                    ),
                ),
                text(
                    "Pakai shared storage (NFS/iSCSI) di path yang sama pada kedua host agar hanya RAM yang dipindahkan.",
                    "Use shared storage (NFS/iSCSI) at the same path on both hosts so only RAM has to move.",
                ),
            );
        }
        let error = if c.spec.unsafe_ {
            LabError::StorageNotAccessible { path: path.clone() }
        } else {
            LabError::UnsafeNoSharedStorage
        };
        return fail(
            id,
            if c.spec.unsafe_ {
                Stage::Prepare
            } else {
                Stage::Begin
            },
            title,
            text(
                format!(
                    "{path} ada di disk lokal {}; {} tidak bisa melihatnya.",
                    c.src.name, c.dst.name
                ),
                format!(
                    "{path} is on {}'s local disk; {} cannot see it.",
                    c.src.name, c.dst.name
                ),
            ),
            text(
                format!(
                    "Mount shared storage yang sama di {} pada kedua host, atau tambahkan --copy-storage-all.",
                    c.scenario.storage.path
                ),
                format!(
                    "Mount the same shared storage at {} on both hosts, or add --copy-storage-all.",
                    c.scenario.storage.path
                ),
            ),
            error,
        );
    }
    if !c.scenario.storage.visible_on(&c.dst.name) && !c.spec.copy_storage_all {
        return fail(
            id,
            Stage::Prepare,
            title,
            text(
                format!(
                    "Shared storage tidak di-mount di {} pada {}: {path} tidak ada di sana.",
                    c.scenario.storage.path, c.dst.name
                ),
                format!(
                    "The shared storage is not mounted at {} on {}: {path} does not exist there.",
                    c.scenario.storage.path, c.dst.name
                ),
            ),
            text(
                format!(
                    "Mount export NFS yang sama di {} pada {} (cek dengan `ls {}`).",
                    c.scenario.storage.path, c.dst.name, c.scenario.storage.path
                ),
                format!(
                    "Mount the same NFS export at {} on {} (check with `ls {}`).",
                    c.scenario.storage.path, c.dst.name, c.scenario.storage.path
                ),
            ),
            LabError::StorageNotAccessible { path },
        );
    }
    pass(
        id,
        Stage::Begin,
        title,
        text(
            format!(
                "{path} ada di shared storage yang di-mount di path yang sama pada {} dan {}.",
                c.src.name, c.dst.name
            ),
            format!(
                "{path} is on shared storage mounted at the same path on {} and {}.",
                c.src.name, c.dst.name
            ),
        ),
    )
}

fn bridge(c: &Ctx<'_>) -> Check {
    let title = CheckId::Bridge.title();
    let br = &c.vm.bridge;
    if c.dst.bridges.iter().any(|b| b == br) {
        return pass(
            CheckId::Bridge,
            Stage::Prepare,
            title,
            text(
                format!("{} punya bridge {br} (`ip link show {br}`).", c.dst.name),
                format!("{} has bridge {br} (`ip link show {br}`).", c.dst.name),
            ),
        );
    }
    fail(
        CheckId::Bridge,
        Stage::Prepare,
        title,
        text(
            format!(
                "NIC VM terpasang ke {br}, tetapi {} hanya punya: {}.",
                c.dst.name,
                list_or_none(&c.dst.bridges, "tidak ada")
            ),
            format!(
                "The VM's NIC is on {br}, but {} only has: {}.",
                c.dst.name,
                list_or_none(&c.dst.bridges, "none")
            ),
        ),
        text(
            format!(
                "Buat bridge {br} di {} dengan NIC fisik yang terhubung ke jaringan yang sama.",
                c.dst.name
            ),
            format!(
                "Create bridge {br} on {} with a physical NIC on the same network.",
                c.dst.name
            ),
        ),
        LabError::Libvirt {
            code: None,
            message: format!("Cannot get interface MTU on '{br}': No such device"),
        },
    )
}

fn list_or_none(items: &[String], none: &str) -> String {
    if items.is_empty() {
        none.to_string()
    } else {
        items.join(", ")
    }
}

fn same_subnet(c: &Ctx<'_>) -> Check {
    let title = CheckId::SameSubnet.title();
    let (s, d) = (c.src.subnet(), c.dst.subnet());
    if s == d {
        return pass(
            CheckId::SameSubnet,
            Stage::After,
            title,
            text(
                format!("Kedua host ada di {s}."),
                format!("Both hosts are on {s}."),
            ),
        );
    }
    warn(
        CheckId::SameSubnet,
        Stage::After,
        title,
        text(
            format!(
                "{} ada di {s}, {} di {d}: migrasi berhasil, tetapi IP VM tidak lagi bisa dijangkau setelah pindah.",
                c.src.name, c.dst.name
            ),
            format!(
                "{} is on {s}, {} on {d}: the migration succeeds, but the VM's IP is unreachable after it moves.",
                c.src.name, c.dst.name
            ),
        ),
        text(
            "Hubungkan bridge kedua host ke segmen L2 (VLAN/subnet) yang sama.",
            "Attach both hosts' bridges to the same L2 segment (VLAN/subnet).",
        ),
    )
}

/// Where the destination's name leads from the source: `Ok(host)` or the ssh error.
fn resolve<'a>(c: &Ctx<'a>) -> Result<&'a HostSpec, String> {
    let name = &c.dst.name;
    let ip = match &c.src.etc_hosts {
        Some(map) => map.get(name).cloned(),
        None => c.dst.ip.clone().or_else(|| Some(name.clone())),
    };
    let Some(ip) = ip else {
        return Err(format!(
            "Cannot recv data: ssh: Could not resolve hostname {name}: Name or service not known: Connection reset by peer"
        ));
    };
    if ip == *name || c.dst.ip.as_deref() == Some(ip.as_str()) {
        return Ok(c.dst);
    }
    if ip.starts_with("127.") {
        return Ok(c.src);
    }
    c.scenario
        .hosts
        .iter()
        .find(|h| h.ip.as_deref() == Some(ip.as_str()))
        .ok_or_else(|| format!("Cannot recv data: ssh: connect to host {name} port 22: No route to host: Connection reset by peer"))
}

fn name_resolution(c: &Ctx<'_>) -> Check {
    let title = CheckId::NameResolution.title();
    let name = &c.dst.name;
    match resolve(c) {
        Ok(h) if h.name == c.dst.name => pass(
            CheckId::NameResolution,
            Stage::Connect,
            title,
            text(
                format!(
                    "Di {}, {name} mengarah ke {} (/etc/hosts).",
                    c.src.name,
                    h.ip.as_deref().unwrap_or(name)
                ),
                format!(
                    "On {}, {name} resolves to {} (/etc/hosts).",
                    c.src.name,
                    h.ip.as_deref().unwrap_or(name)
                ),
            ),
        ),
        Ok(h) => fail(
            CheckId::NameResolution,
            Stage::Prepare,
            title,
            text(
                format!(
                    "Di {}, {name} mengarah ke {} — itu host {}, bukan {name}.",
                    c.src.name,
                    h.ip.as_deref().unwrap_or("127.0.1.1"),
                    h.name
                ),
                format!(
                    "On {}, {name} resolves to {} — that is {}, not {name}.",
                    c.src.name,
                    h.ip.as_deref().unwrap_or("127.0.1.1"),
                    h.name
                ),
            ),
            text(
                format!("Perbaiki baris {name} di /etc/hosts pada {}.", c.src.name),
                format!("Fix the {name} line in /etc/hosts on {}.", c.src.name),
            ),
            LabError::SameHost {
                host_uuid: h.host_uuid(),
            },
        ),
        Err(detail) => fail(
            CheckId::NameResolution,
            Stage::Connect,
            title,
            text(
                format!(
                    "Di {}, nama {name} tidak bisa di-resolve ke alamat yang benar.",
                    c.src.name
                ),
                format!(
                    "On {}, the name {name} does not resolve to the right address.",
                    c.src.name
                ),
            ),
            text(
                format!(
                    "Tambahkan `{} {name}` ke /etc/hosts di {} (atau perbaiki DNS).",
                    c.dst.ip.as_deref().unwrap_or("IP"),
                    c.src.name
                ),
                format!(
                    "Add `{} {name}` to /etc/hosts on {} (or fix DNS).",
                    c.dst.ip.as_deref().unwrap_or("IP"),
                    c.src.name
                ),
            ),
            LabError::ConnectFailed { detail },
        ),
    }
}

fn ssh_trust(c: &Ctx<'_>) -> Check {
    let title = CheckId::SshTrust.title();
    let d = &c.dst.name;
    if !c.dst.firewall.ssh_open {
        return fail(
            CheckId::SshTrust,
            Stage::Connect,
            title,
            text(
                format!("Firewall {d} menolak port 22."),
                format!("{d}'s firewall rejects port 22."),
            ),
            text(
                format!("Buka port 22/tcp di firewall {d}."),
                format!("Open port 22/tcp in {d}'s firewall."),
            ),
            LabError::ConnectFailed {
                detail: format!(
                    "Cannot recv data: ssh: connect to host {d} port 22: No route to host: Connection reset by peer"
                ),
            },
        );
    }
    if c.dst.trusts(&c.src.name) {
        return pass(
            CheckId::SshTrust,
            Stage::Connect,
            title,
            text(
                format!(
                    "Kunci root {} ada di authorized_keys root {d}: `ssh {d}` masuk tanpa password.",
                    c.src.name
                ),
                format!(
                    "{}'s root key is in {d}'s root authorized_keys: `ssh {d}` logs in without a password.",
                    c.src.name
                ),
            ),
        );
    }
    fail(
        CheckId::SshTrust,
        Stage::Connect,
        title,
        text(
            format!("{d} tidak menerima kunci root dari {}.", c.src.name),
            format!("{d} does not accept root's key from {}.", c.src.name),
        ),
        text(
            format!(
                "Di {}: `ssh-copy-id root@{d}` (libvirt hanya memakai SSH untuk koneksi kontrol).",
                c.src.name
            ),
            format!(
                "On {}: `ssh-copy-id root@{d}` (libvirt only uses SSH for its control connection).",
                c.src.name
            ),
        ),
        LabError::ConnectFailed {
            detail: format!(
                "Cannot recv data: root@{d}: Permission denied ({}).: Connection reset by peer",
                c.dst.ssh_auth_methods()
            ),
        },
    )
}

/// A host's CPU as libvirt describes it.
pub fn host_cpu_def(h: &HostSpec) -> CpuDef {
    CpuDef {
        model: Some(h.cpu.model.clone()),
        vendor: None,
        require: h.cpu.extra_features.iter().cloned().collect(),
        disable: h.cpu.missing_features.iter().cloned().collect(),
    }
}

/// The guest's CPU as it runs on `host`: host-model and host-passthrough take the host's.
pub fn guest_cpu_def(vm: &VmSpec, host: &HostSpec) -> CpuDef {
    match &vm.cpu {
        GuestCpuSpec::HostModel | GuestCpuSpec::HostPassthrough => host_cpu_def(host),
        GuestCpuSpec::Custom { model, features } => CpuDef {
            model: Some(model.clone()),
            vendor: None,
            require: features.iter().cloned().collect(),
            disable: Default::default(),
        },
    }
}

/// What happens to `vm` if it is a `host-passthrough` guest moved from `src` to `dst` (`None`
/// for other CPU modes, for TCG guests, and when the CPU data cannot be read): libvirt does not
/// check this mode, QEMU and KVM decide (see [`CpuMap::passthrough_outcome`]).
pub fn passthrough_outcome(
    vm: &VmSpec,
    src: &HostSpec,
    dst: &HostSpec,
) -> Option<PassthroughOutcome> {
    if !matches!(vm.cpu, GuestCpuSpec::HostPassthrough) || vm.domain_type != DomainType::Kvm {
        return None;
    }
    CpuMap::x86()
        .ok()?
        .passthrough_outcome(&host_cpu_def(src), &host_cpu_def(dst))
        .ok()
}

fn cpu(c: &Ctx<'_>) -> Check {
    let title = CheckId::Cpu.title();
    let mode = c.vm.cpu.mode_name();
    let map = match CpuMap::x86() {
        Ok(m) => m,
        Err(e) => {
            return warn(
                CheckId::Cpu,
                Stage::Prepare,
                title,
                text(
                    format!("Data model CPU tidak terbaca: {e}"),
                    format!("CPU model data could not be read: {e}"),
                ),
                none(),
            );
        }
    };
    if let Some(outcome) = passthrough_outcome(c.vm, c.src, c.dst) {
        return cpu_passthrough(c, outcome);
    }
    let guest = guest_cpu_def(c.vm, c.src);
    let dest = host_cpu_def(c.dst);
    let model = guest.model.clone().unwrap_or_default();
    match map.compare(&dest, &guest) {
        Err(e) => fail(
            CheckId::Cpu,
            Stage::Prepare,
            title,
            text(format!("{e}"), format!("{e}")),
            text(
                "Perbaiki nama model/fitur CPU di skenario.",
                "Fix the CPU model/feature names in the scenario.",
            ),
            LabError::Internal(e.to_string()),
        ),
        Ok(CpuCompare::Identical) => pass(
            CheckId::Cpu,
            Stage::Prepare,
            title,
            text(
                format!(
                    "CPU VM ({mode}, {model}) identik dengan CPU {} (`virsh hypervisor-cpu-compare`).",
                    c.dst.name
                ),
                format!(
                    "The VM's CPU ({mode}, {model}) is identical to {}'s CPU (`virsh hypervisor-cpu-compare`).",
                    c.dst.name
                ),
            ),
        ),
        Ok(CpuCompare::Superset) => pass(
            CheckId::Cpu,
            Stage::Prepare,
            title,
            text(
                format!(
                    "CPU {} menyediakan semua fitur CPU VM ({mode}, {model}).",
                    c.dst.name
                ),
                format!(
                    "{}'s CPU provides every feature of the VM's CPU ({mode}, {model}).",
                    c.dst.name
                ),
            ),
        ),
        Ok(cmp @ CpuCompare::Incompatible { .. }) => {
            let missing = match &cmp {
                CpuCompare::Incompatible { missing, .. } => missing.clone(),
                _ => Vec::new(),
            };
            let list = if missing.is_empty() {
                cmp.reason().unwrap_or_default()
            } else {
                missing.join(", ")
            };
            // A running guest's CPU reaches the destination with check='full' (the source set
            // it once QEMU started: qemuProcessUpdateLiveGuestCPU), so libvirt does not compare
            // it up front (qemuProcessUpdateGuestCPU compares only check='partial'): the
            // destination QEMU starts, and virCPUx86UpdateLive reports the features it could not
            // enable — before any RAM is sent. The lab in a box shows the same words
            // (labbox fault `cpu`, libvirt 11.3). "the CPU is incompatible with host CPU" is what
            // `virsh start` and `cpu-compare` say.
            let error = if missing.is_empty() {
                LabError::CpuIncompatible(cmp.reason().unwrap_or_default())
            } else {
                LabError::OperationFailed(format!(
                    "guest CPU doesn't match specification: missing features: {}",
                    missing.join(",")
                ))
            };
            fail(
                CheckId::Cpu,
                Stage::Prepare,
                title,
                text(
                    format!(
                        "CPU VM ({mode}, {model}) butuh fitur yang tidak ada di {}: {list}. libvirt memeriksanya saat QEMU tujuan dinyalakan, sebelum RAM disalin, lalu menolak migrasi.",
                        c.dst.name
                    ),
                    format!(
                        "The VM's CPU ({mode}, {model}) needs features {} lacks: {list}. libvirt checks this when the destination QEMU starts, before any RAM is copied, and refuses the migration.",
                        c.dst.name
                    ),
                ),
                text(
                    "Pakai model CPU dasar yang dimiliki kedua host (`virsh hypervisor-cpu-baseline` atau `virsh cpu-baseline`).",
                    "Use a baseline CPU model both hosts have (`virsh hypervisor-cpu-baseline` or `virsh cpu-baseline`).",
                ),
                error,
            )
        }
    }
}

/// The CPU check of a `host-passthrough` guest: libvirt checks nothing (`check='none'`), so
/// the check says what QEMU and KVM will do.
fn cpu_passthrough(c: &Ctx<'_>, outcome: PassthroughOutcome) -> Check {
    let title = CheckId::Cpu.title();
    let (src, dst, vm) = (&c.src.name, &c.dst.name, &c.vm.name);
    let fix = text(
        "Pakai host-model (libvirt memeriksanya sebelum menyalin) atau model CPU dasar dari `virsh hypervisor-cpu-baseline`; host-passthrough hanya untuk host yang CPU-nya identik.",
        "Use host-model (libvirt checks it before copying) or a baseline CPU model from `virsh hypervisor-cpu-baseline`; host-passthrough only between hosts with identical CPUs.",
    );
    match outcome {
        PassthroughOutcome::Works { missing } => {
            let identical = CpuMap::x86()
                .ok()
                .and_then(|m| m.compare(&host_cpu_def(c.dst), &host_cpu_def(c.src)).ok())
                == Some(CpuCompare::Identical);
            if identical && missing.is_empty() {
                pass(
                    CheckId::Cpu,
                    Stage::Prepare,
                    title,
                    text(
                        format!(
                            "host-passthrough: libvirt tidak memeriksanya (check='none'), tetapi CPU {dst} sama dengan CPU {src}."
                        ),
                        format!(
                            "host-passthrough: libvirt does not check it (check='none'), but {dst}'s CPU is the same as {src}'s."
                        ),
                    ),
                )
            } else {
                warn(
                    CheckId::Cpu,
                    Stage::After,
                    title,
                    text(
                        format!(
                            "host-passthrough: libvirt tidak memeriksanya (check='none'). CPU {dst} punya setiap instruksi dan state CPU {src} yang bisa dipakai VM, jadi migrasi berhasil; tetapi libvirt hanya mendukung host-passthrough antar host yang identik."
                        ),
                        format!(
                            "host-passthrough: libvirt does not check it (check='none'). {dst}'s CPU has every instruction and every piece of state of {src}'s that the VM can use, so the migration works; but libvirt only supports host-passthrough between identical hosts."
                        ),
                    ),
                    fix,
                )
            }
        }
        PassthroughOutcome::FailsLate {
            state,
            features,
            missing,
        } => {
            let (features, missing) = (features.join(", "), missing.join(", "));
            fail(
                CheckId::Cpu,
                Stage::LoadState,
                title,
                text(
                    format!(
                        "host-passthrough: libvirt tidak memeriksa CPU (check='none'), jadi migrasi dimulai dan seluruh RAM disalin. Di akhir, QEMU di {dst} tidak bisa memuat state vCPU: CPU-nya tidak punya {features}, yang sudah dinyalakan kernel VM sejak boot (semua yang hilang: {missing}). Migrasi gagal terlambat; {vm} tetap berjalan di {src}."
                    ),
                    format!(
                        "host-passthrough: libvirt does not check the CPU (check='none'), so the migration starts and all RAM is copied. At the end, QEMU on {dst} cannot load the vCPU state: its CPU lacks {features}, which the VM's kernel switched on at boot (everything missing: {missing}). The migration fails late; {vm} keeps running on {src}."
                    ),
                ),
                fix,
                // QEMU's log lines also carry a timestamp (libvirt starts QEMU with
                // `-msg timestamp=on`); the lab leaves it out.
                LabError::Internal(format!(
                    "QEMU unexpectedly closed the monitor (vm='{vm}'): qemu-system-x86_64: {}",
                    state.qemu_message()
                )),
            )
        }
        PassthroughOutcome::FaultsLater { instructions, .. } => {
            let missing = instructions.join(", ");
            warn(
                CheckId::Cpu,
                Stage::After,
                title,
                text(
                    format!(
                        "host-passthrough: libvirt tidak memeriksa CPU (check='none'). Migrasi akan berhasil, tetapi CPU {dst} tidak punya instruksi {missing}: program di {vm} yang memakainya mati dengan 'invalid opcode' (SIGILL) setelah pindah."
                    ),
                    format!(
                        "host-passthrough: libvirt does not check the CPU (check='none'). The migration will succeed, but {dst}'s CPU lacks the instructions {missing}: a program in {vm} that uses them dies with 'invalid opcode' (SIGILL) after the move."
                    ),
                ),
                fix,
            )
        }
    }
}

fn machine_type(c: &Ctx<'_>) -> Check {
    let title = CheckId::MachineType.title();
    let m = &c.vm.machine;
    if c.dst.machine_types().iter().any(|t| t == m) {
        return pass(
            CheckId::MachineType,
            Stage::Prepare,
            title,
            text(
                format!(
                    "QEMU {} di {} mengenal machine type {m}.",
                    c.dst.qemu_version, c.dst.name
                ),
                format!(
                    "QEMU {} on {} knows machine type {m}.",
                    c.dst.qemu_version, c.dst.name
                ),
            ),
        );
    }
    fail(
        CheckId::MachineType,
        Stage::Prepare,
        title,
        text(
            format!(
                "VM memakai {m} (QEMU {} di {}), tetapi QEMU {} di {} tidak mengenalnya.",
                c.src.qemu_version, c.src.name, c.dst.qemu_version, c.dst.name
            ),
            format!(
                "The VM uses {m} (QEMU {} on {}), but QEMU {} on {} does not know it.",
                c.src.qemu_version, c.src.name, c.dst.qemu_version, c.dst.name
            ),
        ),
        text(
            format!(
                "Perbarui QEMU di {} ke versi yang sama dengan {}, atau pakai machine type lama yang dikenal keduanya.",
                c.dst.name, c.src.name
            ),
            format!(
                "Upgrade QEMU on {} to {}'s version, or use an older machine type both know.",
                c.dst.name, c.src.name
            ),
        ),
        LabError::Unsupported(format!(
            "Emulator '/usr/bin/qemu-system-x86_64' does not support machine type '{m}'"
        )),
    )
}

fn migration_ports(c: &Ctx<'_>) -> Check {
    let title = CheckId::MigrationPorts.title();
    let d = &c.dst.name;
    if c.dst.firewall.migration_ports_open || c.spec.tunnelled {
        let (id_txt, en_txt) = if c.spec.tunnelled {
            ("--p2p --tunnelled: data lewat koneksi libvirtd, port 49152–49215 tidak dipakai.".to_string(), "--p2p --tunnelled: data goes over the libvirtd connection; ports 49152–49215 are not used.".to_string())
        } else {
            (
                format!(
                    "{d} menerima koneksi TCP ke 49152–49215: data RAM mengalir langsung dari QEMU ke QEMU, bukan lewat SSH."
                ),
                format!(
                    "{d} accepts TCP to 49152–49215: RAM flows directly QEMU to QEMU, not over SSH."
                ),
            )
        };
        return pass(
            CheckId::MigrationPorts,
            Stage::Perform,
            title,
            text(id_txt, en_txt),
        );
    }
    let error = if c.spec.copy_storage_all {
        // libvirt 6+ (blockdev) attaches the destination's NBD export with `blockdev-add` before
        // `blockdev-mirror` (qemuMigrationSrcNBDStorageCopyBlockdev); QEMU's connect error is
        // util/qemu-sockets.c's. The NBD server takes the next port after the RAM's.
        LabError::Internal(format!(
            "unable to execute QEMU command 'blockdev-add': Failed to connect to '{d}:49153': No route to host"
        ))
    } else {
        LabError::Libvirt {
            code: None,
            message: format!("unable to connect to server at '{d}:49152': No route to host"),
        }
    };
    fail(
        CheckId::MigrationPorts,
        Stage::Perform,
        title,
        text(
            format!(
                "Firewall {d} menolak port 49152–49215. SSH saja tidak cukup: data migrasi tidak lewat SSH."
            ),
            format!(
                "{d}'s firewall rejects ports 49152–49215. SSH alone is not enough: migration data does not go over SSH."
            ),
        ),
        text(
            format!(
                "Buka 49152–49215/tcp di {d} (mis. `firewall-cmd --add-port=49152-49215/tcp`), atau pakai --p2p --tunnelled."
            ),
            format!(
                "Open 49152–49215/tcp on {d} (e.g. `firewall-cmd --add-port=49152-49215/tcp`), or use --p2p --tunnelled."
            ),
        ),
        error,
    )
}

fn not_same_host(c: &Ctx<'_>) -> Check {
    let title = CheckId::NotSameHost.title();
    let (su, du) = (c.src.host_uuid(), c.dst.host_uuid());
    if su != du {
        return pass(
            CheckId::NotSameHost,
            Stage::Prepare,
            title,
            text(
                format!(
                    "UUID host berbeda: {} = {su}, {} = {du}.",
                    c.src.name, c.dst.name
                ),
                format!(
                    "Host UUIDs differ: {} = {su}, {} = {du}.",
                    c.src.name, c.dst.name
                ),
            ),
        );
    }
    fail(
        CheckId::NotSameHost,
        Stage::Prepare,
        title,
        text(
            format!(
                "{} dan {} melaporkan UUID host yang sama ({du}) — misalnya host hasil clone.",
                c.src.name, c.dst.name
            ),
            format!(
                "{} and {} report the same host UUID ({du}) — e.g. cloned hosts.",
                c.src.name, c.dst.name
            ),
        ),
        text(
            "Beri UUID unik di /etc/libvirt/libvirtd.conf (`host_uuid = \"...\"`) lalu restart libvirtd.",
            "Set a unique `host_uuid` in /etc/libvirt/libvirtd.conf and restart libvirtd.",
        ),
        LabError::SameHost { host_uuid: du },
    )
}

fn domain_running(c: &Ctx<'_>) -> Check {
    let title = CheckId::DomainRunning.title();
    let n = &c.vm.name;
    if c.vm.state == VmState::Running {
        return pass(
            CheckId::DomainRunning,
            Stage::Begin,
            title,
            text(
                format!("{n} berjalan di {}.", c.src.name),
                format!("{n} is running on {}.", c.src.name),
            ),
        );
    }
    fail(
        CheckId::DomainRunning,
        Stage::Begin,
        title,
        text(
            format!("{n} dalam keadaan mati (shut off)."),
            format!("{n} is shut off."),
        ),
        text(
            format!(
                "`virsh start {n}` dulu, atau pindahkan definisinya saja dengan --offline --persistent."
            ),
            format!(
                "`virsh start {n}` first, or move just its definition with --offline --persistent."
            ),
        ),
        LabError::InvalidOperation("domain is not running".into()),
    )
}

fn free_memory(c: &Ctx<'_>) -> Check {
    let title = CheckId::FreeMemory.title();
    let used: u64 = c
        .scenario
        .vms
        .iter()
        .filter(|v| v.host == c.dst.name && v.state == VmState::Running)
        .map(|v| v.ram_mib)
        .sum();
    let free = c.dst.memory_mib.saturating_sub(used);
    let need = c.vm.ram_mib;
    if free >= need {
        return pass(
            CheckId::FreeMemory,
            Stage::Prepare,
            title,
            text(
                format!(
                    "{} punya {free} MiB bebas; VM butuh {need} MiB.",
                    c.dst.name
                ),
                format!(
                    "{} has {free} MiB free; the VM needs {need} MiB.",
                    c.dst.name
                ),
            ),
        );
    }
    fail(CheckId::FreeMemory, Stage::Prepare, title, text(
            format!("{} hanya punya {free} MiB bebas; VM butuh {need} MiB.", c.dst.name),
            format!("{} has only {free} MiB free; the VM needs {need} MiB.", c.dst.name),
        ), text(
            format!("Kosongkan memori di {} (pindahkan atau matikan VM lain).", c.dst.name),
            format!("Free memory on {} (move or stop other VMs).", c.dst.name),
        ), LabError::Internal(
            "qemu unexpectedly closed the monitor: qemu-system-x86_64: cannot set up guest memory 'pc.ram': Cannot allocate memory".into(),
        ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn lab(extra_src: &str, extra_dst: &str, vm_extra: &str, mig_extra: &str) -> Scenario {
        Scenario::from_toml_str(&format!(
            r#"
name = "t"
[[host]]
name = "kvm-host-01"
ip = "192.168.100.11"
{extra_src}
[[host]]
name = "kvm-host-02"
ip = "192.168.100.12"
{extra_dst}
[link]
bandwidth_mibps = 112.0
[storage]
kind = "shared"
[[vm]]
name = "db01"
host = "kvm-host-01"
ram_mib = 2048
disk_gib = 20.0
{vm_extra}
[[migration]]
vm = "db01"
to = "kvm-host-02"
{mig_extra}
"#
        ))
        .unwrap()
    }

    fn first(s: &Scenario) -> Option<(CheckId, String)> {
        let r = preflight(s, &s.migrations[0]).unwrap();
        r.first_failure().map(|c| {
            (
                c.id,
                c.error.as_ref().map(|e| e.to_string()).unwrap_or_default(),
            )
        })
    }

    #[test]
    fn a_healthy_lab_passes_everything() {
        let s = lab("", "", "", "");
        let r = preflight(&s, &s.migrations[0]).unwrap();
        assert!(
            r.all_pass(),
            "{:#?}",
            r.checks
                .iter()
                .filter(|c| c.status != CheckStatus::Pass)
                .collect::<Vec<_>>()
        );
        assert_eq!(r.checks.len(), 11);
    }

    #[test]
    fn each_broken_prerequisite_fails_its_own_check_with_libvirts_words() {
        let cases: Vec<(Scenario, CheckId, &str)> = vec![
            (
                lab("", "bridges = []", "", ""),
                CheckId::Bridge,
                "Cannot get interface MTU on 'br0': No such device",
            ),
            (
                lab("", "ssh_trusts = []", "", ""),
                CheckId::SshTrust,
                "Permission denied (publickey,password)",
            ),
            (
                lab("", "qemu_version = \"6.2.0\"", "", ""),
                CheckId::MachineType,
                "does not support machine type 'pc-q35-7.2'",
            ),
            (
                lab("", "[host.firewall]\nmigration_ports_open = false", "", ""),
                CheckId::MigrationPorts,
                "unable to connect to server at 'kvm-host-02:49152': No route to host",
            ),
            (
                lab("etc_hosts = {}", "", "", ""),
                CheckId::NameResolution,
                "Could not resolve hostname kvm-host-02",
            ),
            (
                lab(
                    "uuid = \"03000200-0400-0500-0006-000700080009\"",
                    "uuid = \"03000200-0400-0500-0006-000700080009\"",
                    "",
                    "",
                ),
                CheckId::NotSameHost,
                "Attempt to migrate guest to the same host 03000200-0400-0500-0006-000700080009",
            ),
            (
                lab("", "", "state = \"shut-off\"", ""),
                CheckId::DomainRunning,
                "Requested operation is not valid: domain is not running",
            ),
            (
                lab("", "memory_mib = 1024", "", ""),
                CheckId::FreeMemory,
                "Cannot allocate memory",
            ),
            (
                lab(
                    "",
                    "[host.cpu]\nmodel = \"Haswell-noTSX\"",
                    "[vm.cpu]\nmode = \"custom\"\nmodel = \"Skylake-Client-noTSX-IBRS\"",
                    "",
                ),
                CheckId::Cpu,
                "operation failed: guest CPU doesn't match specification: missing features:",
            ),
        ];
        for (s, id, text) in cases {
            let (got, err) = first(&s).unwrap_or_else(|| panic!("{id:?} should fail"));
            assert_eq!(got, id);
            assert!(err.contains(text), "{id:?}: {err}");
            let r = preflight(&s, &s.migrations[0]).unwrap();
            let fails: Vec<_> = r
                .checks
                .iter()
                .filter(|c| c.status == CheckStatus::Fail)
                .map(|c| c.id)
                .collect();
            assert_eq!(fails, vec![id], "only {id:?} fails");
        }
    }

    #[test]
    fn local_storage_fails_as_unsafe_and_warns_with_copy_storage_all() {
        let mut s = lab("", "", "", "");
        s.storage.kind = StorageKind::Local;
        assert_eq!(
            first(&s).map(|f| f.1).as_deref(),
            Some("Unsafe migration: Migration without shared storage is unsafe")
        );
        s.migrations[0].copy_storage_all = true;
        let r = preflight(&s, &s.migrations[0]).unwrap();
        assert_eq!(
            r.check(CheckId::SharedStorage).map(|c| c.status),
            Some(CheckStatus::Warn)
        );
        assert!(r.first_failure().is_none());
    }

    #[test]
    fn host_passthrough_is_never_compared_by_libvirt() {
        let passthrough = "[vm.cpu]\nmode = \"host-passthrough\"";
        // An older source: the destination has more, the migration works (a warning: libvirt
        // only supports identical hosts).
        let s = lab(
            "[host.cpu]\nmodel = \"Haswell-noTSX\"",
            "[host.cpu]\nmodel = \"Skylake-Client-noTSX-IBRS\"",
            passthrough,
            "",
        );
        let r = preflight(&s, &s.migrations[0]).unwrap();
        let cpu = r.check(CheckId::Cpu).unwrap();
        assert_eq!((cpu.status, cpu.stage), (CheckStatus::Warn, Stage::After));
        // A newer source: SMAP is missing, so the destination QEMU fails after the RAM copy,
        // with QEMU's words, never with libvirt's CPU comparison errors.
        let s = lab(
            "[host.cpu]\nmodel = \"Skylake-Client-noTSX-IBRS\"",
            "[host.cpu]\nmodel = \"Haswell-noTSX\"",
            passthrough,
            "",
        );
        let r = preflight(&s, &s.migrations[0]).unwrap();
        let cpu = r.check(CheckId::Cpu).unwrap();
        assert_eq!(
            (cpu.status, cpu.stage),
            (CheckStatus::Fail, Stage::LoadState)
        );
        let (id, err) = first(&s).unwrap();
        assert_eq!(id, CheckId::Cpu);
        assert_eq!(
            err,
            "internal error: QEMU unexpectedly closed the monitor (vm='db01'): qemu-system-x86_64: \
             Putting registers after init: Failed to set special registers: Invalid argument"
        );
        // Only new instructions missing: the migration works and a program faults later.
        let s = lab(
            "[host.cpu]\nmodel = \"Cascadelake-Server-noTSX\"",
            "[host.cpu]\nmodel = \"Skylake-Server-noTSX-IBRS\"",
            passthrough,
            "",
        );
        let r = preflight(&s, &s.migrations[0]).unwrap();
        let cpu = r.check(CheckId::Cpu).unwrap();
        assert_eq!((cpu.status, cpu.stage), (CheckStatus::Warn, Stage::After));
        assert!(
            cpu.evidence.en.contains("avx512vnni"),
            "{}",
            cpu.evidence.en
        );
        assert!(r.first_failure().is_none());
    }

    #[test]
    fn a_host_model_guest_is_refused_before_any_ram_is_copied() {
        let s = lab(
            "[host.cpu]\nmodel = \"Skylake-Client-noTSX-IBRS\"",
            "[host.cpu]\nmodel = \"Haswell-noTSX\"",
            "[vm.cpu]\nmode = \"host-model\"",
            "",
        );
        let r = preflight(&s, &s.migrations[0]).unwrap();
        let cpu = r.check(CheckId::Cpu).unwrap();
        assert_eq!((cpu.status, cpu.stage), (CheckStatus::Fail, Stage::Prepare));
        let (_, err) = first(&s).unwrap();
        assert!(
            err.starts_with(
                "operation failed: guest CPU doesn't match specification: missing features: "
            ),
            "{err}"
        );
        assert!(err.contains("smap"), "{err}");
    }

    #[test]
    fn a_different_subnet_only_warns() {
        let s = lab("", "subnet = \"10.0.0.0/24\"", "", "");
        let r = preflight(&s, &s.migrations[0]).unwrap();
        assert_eq!(
            r.check(CheckId::SameSubnet).map(|c| c.status),
            Some(CheckStatus::Warn)
        );
        assert!(r.first_failure().is_none());
    }

    #[test]
    fn a_name_that_resolves_to_loopback_is_the_same_host() {
        let s = lab(
            "etc_hosts = { \"kvm-host-02\" = \"127.0.1.1\" }",
            "",
            "",
            "",
        );
        let (id, err) = first(&s).unwrap();
        assert_eq!(id, CheckId::NameResolution);
        assert!(
            err.contains("Attempt to migrate guest to the same host"),
            "{err}"
        );
    }

    #[test]
    fn the_connect_stage_fails_before_anything_else() {
        let s = lab(
            "",
            "ssh_trusts = []\nbridges = []",
            "state = \"shut-off\"",
            "",
        );
        assert_eq!(first(&s).map(|f| f.0), Some(CheckId::SshTrust));
    }
}
