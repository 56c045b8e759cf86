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
    DomainType, GuestCpuSpec, HostSpec, MigrationSpec, QEMU_DROP_CACHE_SINCE, Scenario,
    StorageKind, VmSpec, VmState, parse_version,
};
use crate::text::Text;
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
    /// With `--tls`: both hosts have the migration's TLS certificates (only checked then).
    Tls,
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
            CheckId::Tls => ("Sertifikat TLS (--tls)", "TLS certificates (--tls)"),
        };
        Text::new(id, en)
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
        CheckId::Tls => 9,
        CheckId::MigrationPorts => 10,
        CheckId::SameSubnet => 11,
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
    let mut checks = vec![
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
    if spec.tls {
        checks.push(tls(&c));
    }
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
    let disks = disk_images(c);
    if disks.status == CheckStatus::Fail {
        return disks;
    }
    cdrom(c).unwrap_or(disks)
}

/// A CD-ROM's ISO image: read-only, so libvirt neither refuses it as unsafe nor copies it with
/// `--copy-storage-*` (`qemuMigrationSrcIsSafe`, `qemuMigrationAnyCopyDisk` skip read-only
/// disks). The destination must open the same path while it prepares, and a missing image
/// fails there (`qemuDomainCheckDiskPresence`; a drive without a `startupPolicy` is not
/// dropped). `None` when there is no image or the destination sees it.
fn cdrom(c: &Ctx<'_>) -> Option<Check> {
    let iso = c.vm.cdrom.as_deref().filter(|p| !p.is_empty())?;
    let dir = format!("{}/", c.scenario.storage.path.trim_end_matches('/'));
    if iso.starts_with(&dir) && c.scenario.storage.visible_on(&c.dst.name) {
        return None;
    }
    let id = CheckId::SharedStorage;
    Some(fail(
        id,
        Stage::Prepare,
        id.title(),
        Text::new(
            format!(
                "CD-ROM {vm} berisi {iso}, file di disk lokal {src}; {dst} tidak punya file itu, dan --copy-storage-all tidak menyalin disk read-only.",
                vm = c.vm.name,
                src = c.src.name,
                dst = c.dst.name
            ),
            format!(
                "{vm}'s CD-ROM holds {iso}, a file on {src}'s local disk; {dst} has no such file, and --copy-storage-all does not copy read-only disks.",
                vm = c.vm.name,
                src = c.src.name,
                dst = c.dst.name
            ),
        ),
        Text::new(
            format!(
                "Keluarkan media-nya dulu: `virsh change-media {} sda --eject` (atau taruh ISO di shared storage {}).",
                c.vm.name, c.scenario.storage.path
            ),
            format!(
                "Eject the media first: `virsh change-media {} sda --eject` (or put the ISO on the shared storage, {}).",
                c.vm.name, c.scenario.storage.path
            ),
        ),
        LabError::StorageNotAccessible {
            path: iso.to_string(),
        },
    ))
}

/// The VM's disk image: shared, or copied, and safe to migrate.
fn disk_images(c: &Ctx<'_>) -> Check {
    let title = CheckId::SharedStorage.title();
    let path = c.vm.disk_path(&c.scenario.storage);
    let id = CheckId::SharedStorage;
    if c.vm.disk_bytes() == 0 {
        return pass(
            id,
            Stage::Begin,
            title,
            Text::new("VM ini tidak punya disk.", "This VM has no disk."),
        );
    }
    if c.scenario.storage.kind == StorageKind::Local {
        if c.spec.copy_storage_all {
            return warn(
                id,
                Stage::Begin,
                title,
                Text::new(
                    format!(
                        "{path} ada di disk lokal {}; --copy-storage-all akan menyalin seluruh disk lewat jaringan sebelum RAM.",
                        c.src.name
                    ),
                    format!(
                        "{path} is on {}'s local disk; --copy-storage-all will copy the whole disk over the network before the RAM.",
                        c.src.name
                    ),
                ),
                Text::new(
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
            Text::new(
                format!(
                    "{path} ada di disk lokal {}; {} tidak bisa melihatnya.",
                    c.src.name, c.dst.name
                ),
                format!(
                    "{path} is on {}'s local disk; {} cannot see it.",
                    c.src.name, c.dst.name
                ),
            ),
            Text::new(
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
            Text::new(
                format!(
                    "Shared storage tidak di-mount di {} pada {}: {path} tidak ada di sana.",
                    c.scenario.storage.path, c.dst.name
                ),
                format!(
                    "The shared storage is not mounted at {} on {}: {path} does not exist there.",
                    c.scenario.storage.path, c.dst.name
                ),
            ),
            Text::new(
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
    if let Some(check) = disk_cache(c, &path) {
        return check;
    }
    pass(
        id,
        Stage::Begin,
        title,
        Text::new(
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

/// libvirt's second test of a shared disk (`qemuMigrationSrcIsSafe`, same loop as the shared
/// storage test): a disk the host page cache sits in front of is refused unless the source QEMU
/// drops that cache at the switch-over (`drop-cache`, QEMU 4.0 and later). A copied disk
/// (`--copy-storage-*`) is safe, and `--unsafe` skips the whole test. `None` when it passes.
fn disk_cache(c: &Ctx<'_>, path: &str) -> Option<Check> {
    let cache = c.vm.disk_cache;
    let mode = cache.attribute().unwrap_or("default (writeback)");
    let drops_cache = parse_version(&c.src.qemu_version).is_none_or(|v| v >= QEMU_DROP_CACHE_SINCE);
    if !cache.uses_host_cache() || c.spec.copy_storage_all || drops_cache {
        return None;
    }
    let id = CheckId::SharedStorage;
    let title = id.title();
    let evidence = Text::new(
        format!(
            "{path} memakai cache='{mode}' (page cache host), dan QEMU {} di {} belum bisa membuang page cache itu saat peralihan (baru sejak QEMU 4.0): host tujuan bisa membaca data disk yang basi.",
            c.src.qemu_version, c.src.name
        ),
        format!(
            "{path} uses cache='{mode}' (the host page cache), and QEMU {} on {} cannot drop that cache at the switch-over (only QEMU 4.0 and later can): the destination may read stale disk data.",
            c.src.qemu_version, c.src.name
        ),
    );
    let fix = Text::new(
        "Matikan VM, set `<driver ... cache='none'/>` dengan `virsh edit`, lalu nyalakan lagi (atau perbarui QEMU ke 4.0 ke atas). `--unsafe` melewati pemeriksaan ini, dengan risiko data disk rusak.",
        "Shut the VM down, set `<driver ... cache='none'/>` with `virsh edit`, and start it again (or upgrade QEMU to 4.0 or later). `--unsafe` skips this check, at the risk of corrupting the disk's data.",
    );
    if c.spec.unsafe_ {
        return Some(warn(id, Stage::Begin, title, evidence, fix));
    }
    Some(fail(
        id,
        Stage::Begin,
        title,
        evidence,
        fix,
        LabError::UnsafeDiskCache,
    ))
}

/// Where libvirt looks for the migration's TLS certificates when qemu.conf names no other
/// directory (`default_tls_x509_cert_dir`; `migrate_tls_x509_cert_dir` falls back to it).
pub const TLS_CERT_DIR: &str = "/etc/pki/qemu";

/// `--tls`: each side's libvirt adds a `tls-creds-x509` object to its QEMU
/// (`qemuMigrationParamsEnableTLS`): the destination's (a server) while it prepares, the source's
/// (a client) when it starts sending. QEMU loads `ca-cert.pem` first on both sides
/// (crypto/tlscredsx509.c), so a host without certificates fails on that file, and libvirt
/// passes QEMU's error on as "unable to execute QEMU command 'object-add': ...".
fn tls(c: &Ctx<'_>) -> Check {
    let id = CheckId::Tls;
    let title = id.title();
    let missing = |host: &HostSpec| {
        Text::new(
            format!(
                "{} tidak punya sertifikat TLS di {TLS_CERT_DIR}.",
                host.name
            ),
            format!("{} has no TLS certificates in {TLS_CERT_DIR}.", host.name),
        )
    };
    let fix = Text::new(
        format!(
            "Buat CA dan sertifikat untuk kedua host (lihat dokumentasi TLS QEMU/libvirt) dan taruh ca-cert.pem, server-cert.pem, server-key.pem, client-cert.pem dan client-key.pem di {TLS_CERT_DIR} di kedua host; atau tanpa --tls pakai --p2p --tunnelled, yang membawa data lewat koneksi libvirt (SSH untuk qemu+ssh://)."
        ),
        format!(
            "Create a CA and certificates for both hosts (see QEMU's and libvirt's TLS documentation) and put ca-cert.pem, server-cert.pem, server-key.pem, client-cert.pem and client-key.pem in {TLS_CERT_DIR} on both hosts; or, without --tls, use --p2p --tunnelled, which carries the data over libvirt's connection (SSH for qemu+ssh://)."
        ),
    );
    let error = LabError::Internal(format!(
        "unable to execute QEMU command 'object-add': Unable to access credentials {TLS_CERT_DIR}/ca-cert.pem: No such file or directory"
    ));
    if !c.dst.tls_certs {
        return fail(id, Stage::Prepare, title, missing(c.dst), fix, error);
    }
    if !c.src.tls_certs {
        return fail(id, Stage::Perform, title, missing(c.src), fix, error);
    }
    pass(
        id,
        Stage::Perform,
        title,
        Text::new(
            format!(
                "{} dan {} punya sertifikat di {TLS_CERT_DIR}: QEMU mengenkripsi aliran migrasi dengan TLS.",
                c.src.name, c.dst.name
            ),
            format!(
                "{} and {} have certificates in {TLS_CERT_DIR}: QEMU encrypts the migration stream with TLS.",
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
            Text::new(
                format!("{} punya bridge {br} (`ip link show {br}`).", c.dst.name),
                format!("{} has bridge {br} (`ip link show {br}`).", c.dst.name),
            ),
        );
    }
    fail(
        CheckId::Bridge,
        Stage::Prepare,
        title,
        Text::new(
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
        Text::new(
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
    if let Some(net) = &c.vm.network {
        return nat_network(c, net);
    }
    let (s, d) = (c.src.subnet(), c.dst.subnet());
    if s == d {
        return pass(
            CheckId::SameSubnet,
            Stage::After,
            title,
            Text::new(
                format!("Kedua host ada di {s}."),
                format!("Both hosts are on {s}."),
            ),
        );
    }
    warn(
        CheckId::SameSubnet,
        Stage::After,
        title,
        Text::new(
            format!(
                "{} ada di {s}, {} di {d}: migrasi berhasil, tetapi IP VM tidak lagi bisa dijangkau setelah pindah.",
                c.src.name, c.dst.name
            ),
            format!(
                "{} is on {s}, {} on {d}: the migration succeeds, but the VM's IP is unreachable after it moves.",
                c.src.name, c.dst.name
            ),
        ),
        Text::new(
            "Hubungkan bridge kedua host ke segmen L2 (VLAN/subnet) yang sama.",
            "Attach both hosts' bridges to the same L2 segment (VLAN/subnet).",
        ),
    )
}

/// A VM on a libvirt virtual network (`<interface type='network'>`, e.g. `default`): each host
/// has its own network of that name, a NAT network behind its `virbr0` (192.168.122.0/24 with
/// `forward mode='nat'` in libvirt's `default.xml`). The destination has one too, so the
/// migration succeeds, but the VM now sits behind the destination's NAT: the source host (the
/// only machine that could reach it) no longer can, and connections through the source's NAT
/// are gone.
fn nat_network(c: &Ctx<'_>, net: &str) -> Check {
    let ip = c.vm.ip.as_deref().unwrap_or("?");
    warn(
        CheckId::SameSubnet,
        Stage::After,
        CheckId::SameSubnet.title(),
        Text::new(
            format!(
                "NIC {vm} ada di jaringan libvirt '{net}' ({br}), jaringan NAT yang privat di setiap host: {dst} punya jaringan '{net}'-nya sendiri, jadi migrasi berhasil, tetapi sesudahnya {vm} ({ip}) berada di balik NAT {dst}. {src} tidak bisa menjangkaunya lagi, dan dari LAN memang tidak pernah bisa.",
                vm = c.vm.name,
                br = c.vm.bridge,
                dst = c.dst.name,
                src = c.src.name,
            ),
            format!(
                "{vm}'s NIC is on libvirt's network '{net}' ({br}), a NAT network private to each host: {dst} has its own '{net}' network, so the migration succeeds, but afterwards {vm} ({ip}) sits behind {dst}'s NAT. {src} can no longer reach it, and the LAN never could.",
                vm = c.vm.name,
                br = c.vm.bridge,
                dst = c.dst.name,
                src = c.src.name,
            ),
        ),
        Text::new(
            "Pasang NIC VM ke bridge yang terhubung ke jaringan fisik yang sama di kedua host (mis. `<interface type='bridge'><source bridge='br0'/>`), bukan ke jaringan NAT 'default'.",
            "Attach the VM's NIC to a bridge connected to the same physical network on both hosts (e.g. `<interface type='bridge'><source bridge='br0'/>`), not to the NAT network 'default'.",
        ),
    )
}

/// Where a name or an address leads from the source.
enum Lookup<'a> {
    /// Not in the source's /etc/hosts (and no DNS).
    Unknown,
    /// A loopback address (`127.0.1.1`, Debian's line for a host's own name): the source itself.
    Loopback(String),
    /// A lab host.
    Host(&'a HostSpec, String),
    /// An address no lab machine has (stale).
    Nowhere(String),
}

/// Look `name` up as the source's resolver does: an address as it is, a name in the source's
/// /etc/hosts (every lab host's name when the scenario gives none; there is no DNS).
fn lookup<'a>(c: &Ctx<'a>, name: &str) -> Lookup<'a> {
    let by_ip = |ip: String| -> Lookup<'a> {
        if ip.starts_with("127.") {
            return Lookup::Loopback(ip);
        }
        match c
            .scenario
            .hosts
            .iter()
            .find(|h| h.ip.as_deref() == Some(ip.as_str()) || h.name == ip)
        {
            Some(h) => Lookup::Host(h, ip),
            None => Lookup::Nowhere(ip),
        }
    };
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return by_ip(name.to_string());
    }
    match &c.src.etc_hosts {
        Some(map) => map.get(name).cloned().map_or(Lookup::Unknown, by_ip),
        None => match c.scenario.hosts.iter().find(|h| h.name == name) {
            Some(h) => by_ip(h.ip.clone().unwrap_or_else(|| h.name.clone())),
            None => Lookup::Unknown,
        },
    }
}

/// A stable stand-in for the SHA256 fingerprint of `host`'s SSH host key.
fn host_key_fingerprint(host: &HostSpec) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    (0..43)
        .map(|i| {
            for b in host.name.bytes().chain([i as u8]) {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
            B64[(h >> 58) as usize] as char
        })
        .collect()
}

/// What ssh says when `name` leads to another machine than the one whose key root's
/// known_hosts holds under that name: measured in the lab in a box (OpenSSH 9.2, an
/// ED25519 key), with the lesson hosts' known_hosts in root's home.
fn host_key_changed(name: &str, answering: &HostSpec) -> String {
    let fp = host_key_fingerprint(answering);
    format!(
        "Cannot recv data: @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n\
         @    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n\
         @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n\
         IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\n\
         Someone could be eavesdropping on you right now (man-in-the-middle attack)!\n\
         It is also possible that a host key has just been changed.\n\
         The fingerprint for the ED25519 key sent by the remote host is\n\
         SHA256:{fp}.\n\
         Please contact your system administrator.\n\
         Add correct host key in /root/.ssh/known_hosts to get rid of this message.\n\
         Offending ED25519 key in /root/.ssh/known_hosts:2\n\
         \x20 remove with:\n\
         \x20 ssh-keygen -f \"/root/.ssh/known_hosts\" -R \"{name}\"\n\
         Host key for {name} has changed and you have requested strict checking.\n\
         Host key verification failed.: Connection reset by peer"
    )
}

/// Name resolution, the three ways it breaks a native migration, each as the lab in a box
/// showed it (libvirt 11.3; captures in the docs):
///
/// 1. SSH: the source resolves the URI's host (`qemu+ssh://NAME/system`). Unknown: ssh cannot
///    resolve it. Another machine (Debian's `127.0.1.1 NAME` line copied from the destination
///    leads back to the source): that machine's host key is not NAME's, and ssh refuses.
/// 2. The destination offers *its own hostname* as the migration address (libvirt
///    qemuMigrationDstPrepareDirect, src/qemu/qemu_migration.c: `tcp:HOSTNAME:PORT` from
///    virGetHostname, unless qemu.conf sets `migration_host`) and refuses if that name starts
///    with `localhost`. virGetHostname (src/util/virutil.c) ignores a canonical name that
///    resolves to localhost, so the destination's name on its `127.0.0.1 localhost` line is
///    harmless; a hostname that *is* `localhost…` is not.
/// 3. The source resolves that name to connect to port 49152 (qemuMigrationSrcConnect →
///    virNetSocketNewConnectTCP, src/rpc/virnetsocket.c), after the destination's QEMU has
///    started and before any RAM is sent. This bites when the URI names the destination by
///    address: SSH works, the data connection does not.
fn name_resolution(c: &Ctx<'_>) -> Check {
    let title = CheckId::NameResolution.title();
    let id = CheckId::NameResolution;
    let src = &c.src.name;
    let dst = &c.dst.name;
    let uri_host = c.spec.uri_host.as_deref().unwrap_or(dst);
    let add_line = Text::new(
        format!(
            "Perbaiki /etc/hosts di {src}: `{} {dst}` (hapus baris 127.0.1.1 yang tersalin), atau perbaiki DNS.",
            c.dst.ip.as_deref().unwrap_or("IP")
        ),
        format!(
            "Fix /etc/hosts on {src}: `{} {dst}` (remove a copied 127.0.1.1 line), or fix DNS.",
            c.dst.ip.as_deref().unwrap_or("IP")
        ),
    );
    // 1. The control connection.
    let reached = match lookup(c, uri_host) {
        Lookup::Host(h, _) if h.name == *dst => None,
        Lookup::Unknown => Some((
            Text::new(
                format!(
                    "Di {src}, nama {uri_host} tidak bisa di-resolve (tidak ada di /etc/hosts, tidak ada DNS)."
                ),
                format!(
                    "On {src}, the name {uri_host} does not resolve (not in /etc/hosts, no DNS)."
                ),
            ),
            format!(
                "Cannot recv data: ssh: Could not resolve hostname {uri_host}: Name or service not known: Connection reset by peer"
            ),
        )),
        Lookup::Nowhere(ip) => Some((
            Text::new(
                format!(
                    "Di {src}, {uri_host} mengarah ke {ip}, alamat yang tidak dipakai mesin mana pun."
                ),
                format!("On {src}, {uri_host} resolves to {ip}, an address no machine has."),
            ),
            format!(
                "Cannot recv data: ssh: connect to host {uri_host} port 22: No route to host: Connection reset by peer"
            ),
        )),
        Lookup::Loopback(ip) => Some((
            Text::new(
                format!(
                    "Di {src}, {uri_host} mengarah ke {ip} (loopback): ssh sampai di {src} sendiri, yang kunci host-nya bukan kunci {uri_host}."
                ),
                format!(
                    "On {src}, {uri_host} resolves to {ip} (loopback): ssh reaches {src} itself, whose host key is not {uri_host}'s."
                ),
            ),
            host_key_changed(uri_host, c.src),
        )),
        Lookup::Host(h, ip) => Some((
            Text::new(
                format!(
                    "Di {src}, {uri_host} mengarah ke {ip} — itu {}, yang kunci host-nya bukan kunci {uri_host}.",
                    h.name
                ),
                format!(
                    "On {src}, {uri_host} resolves to {ip} — that is {}, whose host key is not {uri_host}'s.",
                    h.name
                ),
            ),
            host_key_changed(uri_host, h),
        )),
    };
    if let Some((evidence, detail)) = reached {
        return fail(
            id,
            Stage::Connect,
            title,
            evidence,
            add_line,
            LabError::ConnectFailed { detail },
        );
    }
    // 2. The name the destination offers for the data: its hostname, or the host of
    //    `--migrateuri`, which libvirt takes as it is (qemuMigrationDstPrepareDirect checks
    //    the hostname for "localhost" only when no URI was given).
    let offered = c
        .spec
        .migrate_uri_host
        .as_deref()
        .unwrap_or_else(|| c.dst.hostname.as_deref().unwrap_or(dst));
    if c.spec.migrate_uri_host.is_none() && offered.starts_with("localhost") {
        return fail(
            id,
            Stage::Prepare,
            title,
            Text::new(
                format!(
                    "`hostname` di {dst} adalah {offered}: libvirt di {dst} tidak bisa memberi alamat migrasi yang berguna."
                ),
                format!(
                    "`hostname` on {dst} is {offered}: libvirt on {dst} cannot offer a usable migration address."
                ),
            ),
            Text::new(
                format!(
                    "Beri {dst} nama sungguhan: `hostnamectl set-hostname {dst}` (atau `migration_host` di /etc/libvirt/qemu.conf di {dst})."
                ),
                format!(
                    "Give {dst} a real name: `hostnamectl set-hostname {dst}` (or `migration_host` in /etc/libvirt/qemu.conf on {dst})."
                ),
            ),
            LabError::Internal(
                "hostname on destination resolved to localhost, but migration requires an FQDN"
                    .into(),
            ),
        );
    }
    // 3. The source connects to it (not with --p2p --tunnelled: the data then goes over the
    //    libvirtd connection).
    let via = if c.spec.uri_host.is_some() {
        Text::new(
            format!(
                " URI menyebut {uri_host}, tetapi data migrasi dikirim ke nama yang ditawarkan {dst}: {offered}."
            ),
            format!(
                " The URI names {uri_host}, but the migration data goes to the name {dst} offers: {offered}."
            ),
        )
    } else {
        Text::new("", "")
    };
    let data_error = if c.spec.tunnelled {
        None
    } else {
        match lookup(c, offered) {
            Lookup::Host(h, _) if h.name == *dst => None,
            Lookup::Unknown => Some((
                format!("tidak bisa di-resolve di {src}"),
                format!("does not resolve on {src}"),
                format!(
                    "Unable to resolve address '{offered}' service '49152': Name or service not known"
                ),
            )),
            Lookup::Nowhere(ip) => Some((
                format!("mengarah ke {ip} di {src}, alamat yang tidak dipakai mesin mana pun"),
                format!("resolves to {ip} on {src}, an address no machine has"),
                format!("unable to connect to server at '{offered}:49152': No route to host"),
            )),
            Lookup::Loopback(ip) => Some((
                format!(
                    "mengarah ke {ip} (loopback) di {src}: {src} menyambung ke dirinya sendiri"
                ),
                format!("resolves to {ip} (loopback) on {src}: {src} connects to itself"),
                format!("unable to connect to server at '{offered}:49152': Connection refused"),
            )),
            Lookup::Host(h, ip) => Some((
                format!("mengarah ke {ip} di {src}, yaitu {}", h.name),
                format!("resolves to {ip} on {src}, which is {}", h.name),
                format!("unable to connect to server at '{offered}:49152': Connection refused"),
            )),
        }
    };
    if let Some((why_id, why_en, message)) = data_error {
        return fail(
            id,
            Stage::Perform,
            title,
            Text::new(
                format!(
                    "Alamat migrasi {offered} {why_id}; QEMU {dst} sudah dijalankan, RAM belum dikirim.{}",
                    via.id
                ),
                format!(
                    "The migration address {offered} {why_en}; {dst}'s QEMU has started, no RAM is sent.{}",
                    via.en
                ),
            ),
            add_line,
            LabError::Libvirt {
                code: None,
                message,
            },
        );
    }
    pass(
        id,
        Stage::Connect,
        title,
        Text::new(
            format!(
                "Di {src}, {uri_host} dan alamat migrasi {offered} mengarah ke {} ({dst}).",
                c.dst.ip.as_deref().unwrap_or(dst)
            ),
            format!(
                "On {src}, {uri_host} and the migration address {offered} resolve to {} ({dst}).",
                c.dst.ip.as_deref().unwrap_or(dst)
            ),
        ),
    )
}

fn ssh_trust(c: &Ctx<'_>) -> Check {
    let title = CheckId::SshTrust.title();
    let d = &c.dst.name;
    if !c.dst.firewall.ssh_open {
        return fail(
            CheckId::SshTrust,
            Stage::Connect,
            title,
            Text::new(
                format!("Firewall {d} menolak port 22."),
                format!("{d}'s firewall rejects port 22."),
            ),
            Text::new(
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
            Text::new(
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
        Text::new(
            format!("{d} tidak menerima kunci root dari {}.", c.src.name),
            format!("{d} does not accept root's key from {}.", c.src.name),
        ),
        Text::new(
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
                Text::new(
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
            Text::new(format!("{e}"), format!("{e}")),
            Text::new(
                "Perbaiki nama model/fitur CPU di skenario.",
                "Fix the CPU model/feature names in the scenario.",
            ),
            LabError::Internal(e.to_string()),
        ),
        Ok(CpuCompare::Identical) => pass(
            CheckId::Cpu,
            Stage::Prepare,
            title,
            Text::new(
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
            Text::new(
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
                Text::new(
                    format!(
                        "CPU VM ({mode}, {model}) butuh fitur yang tidak ada di {}: {list}. libvirt memeriksanya saat QEMU tujuan dinyalakan, sebelum RAM disalin, lalu menolak migrasi.",
                        c.dst.name
                    ),
                    format!(
                        "The VM's CPU ({mode}, {model}) needs features {} lacks: {list}. libvirt checks this when the destination QEMU starts, before any RAM is copied, and refuses the migration.",
                        c.dst.name
                    ),
                ),
                Text::new(
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
    let fix = Text::new(
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
                    Text::new(
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
                    Text::new(
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
                Text::new(
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
                Text::new(
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
            Text::new(
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
        Text::new(
            format!(
                "VM memakai {m} (QEMU {} di {}), tetapi QEMU {} di {} tidak mengenalnya.",
                c.src.qemu_version, c.src.name, c.dst.qemu_version, c.dst.name
            ),
            format!(
                "The VM uses {m} (QEMU {} on {}), but QEMU {} on {} does not know it.",
                c.src.qemu_version, c.src.name, c.dst.qemu_version, c.dst.name
            ),
        ),
        Text::new(
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
            Text::new(id_txt, en_txt),
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
        Text::new(
            format!(
                "Firewall {d} menolak port 49152–49215. SSH saja tidak cukup: data migrasi tidak lewat SSH."
            ),
            format!(
                "{d}'s firewall rejects ports 49152–49215. SSH alone is not enough: migration data does not go over SSH."
            ),
        ),
        Text::new(
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
            Text::new(
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
        Text::new(
            format!(
                "{} dan {} melaporkan UUID host yang sama ({du}) — misalnya host hasil clone.",
                c.src.name, c.dst.name
            ),
            format!(
                "{} and {} report the same host UUID ({du}) — e.g. cloned hosts.",
                c.src.name, c.dst.name
            ),
        ),
        Text::new(
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
            Text::new(
                format!("{n} berjalan di {}.", c.src.name),
                format!("{n} is running on {}.", c.src.name),
            ),
        );
    }
    fail(
        CheckId::DomainRunning,
        Stage::Begin,
        title,
        Text::new(
            format!("{n} dalam keadaan mati (shut off)."),
            format!("{n} is shut off."),
        ),
        Text::new(
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
            Text::new(
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
    fail(CheckId::FreeMemory, Stage::Prepare, title, Text::new(
            format!("{} hanya punya {free} MiB bebas; VM butuh {need} MiB.", c.dst.name),
            format!("{} has only {free} MiB free; the VM needs {need} MiB.", c.dst.name),
        ), Text::new(
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
    fn a_cached_disk_is_refused_only_where_qemu_cannot_drop_the_cache() {
        let old = "qemu_version = \"3.1.0\"";
        let vm = |cache: &str| format!("machine = \"pc-q35-3.1\"\ndisk_cache = \"{cache}\"");
        let refused = Some((
            CheckId::SharedStorage,
            "Unsafe migration: Migration may lead to data corruption if disks use cache other than none or directsync".to_string(),
        ));
        for cache in ["writeback", "writethrough", "unsafe", "default"] {
            assert_eq!(first(&lab(old, old, &vm(cache), "")), refused, "{cache}");
            // QEMU 4.0 and later drop the page cache at the switch-over: libvirt lets it go.
            assert_eq!(
                first(&lab("", "", &format!("disk_cache = \"{cache}\""), "")),
                None
            );
        }
        for cache in ["none", "directsync"] {
            assert_eq!(first(&lab(old, old, &vm(cache), "")), None, "{cache}");
        }
        // A disk copied by QEMU is safe; --unsafe skips the test but the check warns.
        let copied = lab(old, old, &vm("writeback"), "copy_storage_all = true");
        assert_eq!(first(&copied), None);
        let forced = lab(old, old, &vm("writeback"), "unsafe = true");
        assert_eq!(first(&forced), None);
        let r = preflight(&forced, &forced.migrations[0]).unwrap();
        assert_eq!(
            r.check(CheckId::SharedStorage).map(|c| c.status),
            Some(CheckStatus::Warn)
        );
        // The destination's QEMU does not matter: libvirt asks the source's.
        assert_eq!(first(&lab(old, "", &vm("writeback"), "")), refused);
    }

    #[test]
    fn tls_needs_certificates_on_both_hosts_and_is_checked_only_when_asked_for() {
        let refused = Some((
            CheckId::Tls,
            "internal error: unable to execute QEMU command 'object-add': Unable to access credentials /etc/pki/qemu/ca-cert.pem: No such file or directory".to_string(),
        ));
        let certs = "tls_certs = true";
        let stage = |s: &Scenario| {
            let r = preflight(s, &s.migrations[0]).unwrap();
            r.check(CheckId::Tls).map(|c| (c.status, c.stage))
        };
        // No --tls: no TLS check at all.
        assert_eq!(stage(&lab("", "", "", "")), None);
        // The destination adds its (server) credentials while it prepares ...
        let s = lab(certs, "", "", "tls = true");
        assert_eq!(first(&s), refused);
        assert_eq!(stage(&s), Some((CheckStatus::Fail, Stage::Prepare)));
        // ... the source its (client) credentials when it starts sending.
        let s = lab("", certs, "", "tls = true");
        assert_eq!(first(&s), refused);
        assert_eq!(stage(&s), Some((CheckStatus::Fail, Stage::Perform)));
        let s = lab(certs, certs, "", "tls = true");
        assert_eq!(first(&s), None);
        assert_eq!(stage(&s), Some((CheckStatus::Pass, Stage::Perform)));
        assert_eq!(
            s.migrations[0].virsh_command(),
            "virsh migrate --live --tls db01 qemu+ssh://kvm-host-02/system"
        );
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
        // A host-passthrough guest moving from a host with CPU `from` to one with CPU `to`.
        let lab_of = |from: &str, to: &str| {
            lab(
                &format!("[host.cpu]\nmodel = \"{from}\""),
                &format!("[host.cpu]\nmodel = \"{to}\""),
                "[vm.cpu]\nmode = \"host-passthrough\"",
                "",
            )
        };
        let cpu_check = |s: &Scenario| {
            let r = preflight(s, &s.migrations[0]).unwrap();
            assert!(r.first_failure().is_none_or(|c| c.id == CheckId::Cpu));
            r.check(CheckId::Cpu).cloned().unwrap()
        };
        // An older source: the destination has more, the migration works (a warning: libvirt
        // only supports identical hosts).
        let cpu = cpu_check(&lab_of("Haswell-noTSX", "Skylake-Client-noTSX-IBRS"));
        assert_eq!((cpu.status, cpu.stage), (CheckStatus::Warn, Stage::After));
        // A newer source: SMAP is missing, so the destination QEMU fails after the RAM copy,
        // with QEMU's words, never with libvirt's CPU comparison errors.
        let s = lab_of("Skylake-Client-noTSX-IBRS", "Haswell-noTSX");
        let cpu = cpu_check(&s);
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
        let s = lab_of("Cascadelake-Server-noTSX", "Skylake-Server-noTSX-IBRS");
        let cpu = cpu_check(&s);
        assert_eq!((cpu.status, cpu.stage), (CheckStatus::Warn, Stage::After));
        assert!(
            cpu.evidence.en.contains("avx512vnni"),
            "{}",
            cpu.evidence.en
        );
        assert!(first(&s).is_none());
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

    /// Debian's `127.0.1.1 kvm-host-02`, copied from kvm-host-02 to kvm-host-01.
    const COPIED_LOOPBACK: &str = "etc_hosts = { \"kvm-host-02\" = \"127.0.1.1\" }";

    #[test]
    fn issue_20_a_name_that_resolves_to_loopback_fails_ssh_on_the_host_key() {
        let s = lab(COPIED_LOOPBACK, "", "", "");
        let r = preflight(&s, &s.migrations[0]).unwrap();
        let c = r.first_failure().unwrap();
        assert_eq!((c.id, c.stage), (CheckId::NameResolution, Stage::Connect));
        let err = c.error.as_ref().unwrap().to_string();
        assert!(
            err.contains("WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!"),
            "{err}"
        );
        assert!(
            err.ends_with("Host key for kvm-host-02 has changed and you have requested strict checking.\nHost key verification failed.: Connection reset by peer"),
            "{err}"
        );
        assert!(!err.contains("same host"), "{err}");
    }

    #[test]
    fn issue_20_by_address_ssh_works_but_the_data_goes_to_the_offered_name() {
        // The URI names 192.168.100.12; kvm-host-02 offers `kvm-host-02`, which kvm-host-01
        // resolves to itself: refused at 49152, after the Prepare, before any RAM.
        let by_ip = "uri_host = \"192.168.100.12\"";
        let s = lab(COPIED_LOOPBACK, "", "", by_ip);
        let r = preflight(&s, &s.migrations[0]).unwrap();
        let c = r.first_failure().unwrap();
        assert_eq!((c.id, c.stage), (CheckId::NameResolution, Stage::Perform));
        assert_eq!(
            c.error.as_ref().unwrap().to_string(),
            "unable to connect to server at 'kvm-host-02:49152': Connection refused"
        );
        // A stale address: nobody answers ARP.
        let stale = "etc_hosts = { \"kvm-host-02\" = \"192.168.100.99\" }";
        let s = lab(stale, "", "", by_ip);
        assert_eq!(
            first(&s),
            Some((
                CheckId::NameResolution,
                "unable to connect to server at 'kvm-host-02:49152': No route to host".into()
            ))
        );
        // Not resolvable at all.
        let s = lab("etc_hosts = {}", "", "", by_ip);
        assert_eq!(
            first(&s),
            Some((
                CheckId::NameResolution,
                "Unable to resolve address 'kvm-host-02' service '49152': Name or service not known".into()
            ))
        );
        // --p2p --tunnelled sends the data over the libvirtd connection: no second lookup.
        let s = lab(
            COPIED_LOOPBACK,
            "",
            "",
            &format!("{by_ip}\np2p = true\ntunnelled = true"),
        );
        assert!(first(&s).is_none(), "{:?}", first(&s));
    }

    #[test]
    fn issue_20_a_destination_called_localhost_is_refused_but_its_name_on_the_localhost_line_is_not()
     {
        let s = lab("", "hostname = \"localhost.localdomain\"", "", "");
        let r = preflight(&s, &s.migrations[0]).unwrap();
        let c = r.first_failure().unwrap();
        assert_eq!((c.id, c.stage), (CheckId::NameResolution, Stage::Prepare));
        assert_eq!(
            c.error.as_ref().unwrap().to_string(),
            "internal error: hostname on destination resolved to localhost, but migration requires an FQDN"
        );
        // `127.0.0.1 localhost kvm-host-02` on kvm-host-02 itself: virGetHostname falls back
        // to the short name, and the migration works (measured).
        let s = lab(
            "",
            "etc_hosts = { \"localhost\" = \"127.0.0.1\", \"kvm-host-02\" = \"127.0.0.1\" }",
            "",
            "",
        );
        assert!(first(&s).is_none(), "{:?}", first(&s));
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
