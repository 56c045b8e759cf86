//! Real preflight: the simulator's checks, measured on real hosts through libvirt, in the same
//! [`PreflightReport`]. Each check's evidence says how it was measured; where libvirt has no way
//! to tell (ports, name resolution on the source, subnets), the check is
//! [`CheckStatus::Unknown`] with the reason rather than a guess.

use super::host::{HostInfo, PoolView, RealHost};
use crate::domain_xml::DomainFacts;
use crate::port_probe::{PortProbe, PortVerdict};
use crate::uri::LibvirtUri;
use migralab_sim_core::LabError;
use migralab_sim_core::preflight::{Check, CheckId, CheckStatus, PreflightReport, Stage};
use migralab_sim_core::text::Text;

fn check(id: CheckId, status: CheckStatus, stage: Stage, evidence: Text) -> Check {
    Check {
        id,
        status,
        title: id.title(),
        evidence,
        fix: Text::default(),
        stage,
        error: None,
    }
}

fn failed(id: CheckId, stage: Stage, evidence: Text, fix: Text, error: LabError) -> Check {
    Check {
        fix,
        error: Some(error),
        ..check(id, CheckStatus::Fail, stage, evidence)
    }
}

/// How this process reaches the destination, for the SSH check's wording.
fn transport(uri: &str) -> Option<String> {
    LibvirtUri::parse(uri).ok().and_then(|u| u.transport)
}

/// How real preflight measures what libvirt cannot tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreflightOptions {
    /// Probe the destination's migration port this way. `None`: probe the destination URI's
    /// host from this machine when the URI names one (ssh, tcp), else leave the check Unknown.
    pub port_probe: Option<PortProbe>,
    /// Skip the CPU check's trial start of a paused 32 MiB domain on the destination and rely
    /// on `virConnectCompareHypervisorCPU` alone.
    pub no_trial_start: bool,
}

/// Check migrating `vm` from `src_uri` to `dst_uri`. Opens both connections (that is the SSH
/// check); fails only when the source itself cannot be reached or has no such domain.
pub fn real_preflight(
    src_uri: &str,
    dst_uri: &str,
    vm: &str,
    options: &PreflightOptions,
) -> Result<(PreflightReport, Option<(RealHost, RealHost)>), LabError> {
    let src = RealHost::open(src_uri)?;
    let dom = src.domain(vm)?;
    let facts = src.domain_facts(&dom)?;
    let src_info = src.info()?;
    let running = src.domain_state(vm)?.unwrap_or(false);
    let dst = RealHost::open(dst_uri);
    let mut checks = Vec::new();
    let dst_name = LibvirtUri::parse(dst_uri)
        .ok()
        .and_then(|u| u.host().map(str::to_string))
        .unwrap_or_else(|| dst_uri.to_string());
    let (dst, dst_info) = match dst.and_then(|d| d.info().map(|i| (d, i))) {
        Ok(pair) => pair,
        Err(e) => {
            // Nothing else can be asked of the destination.
            checks.push(ssh_failed(dst_uri, e));
            checks.push(domain_running(vm, &src_info, running));
            let report = PreflightReport {
                vm: vm.to_string(),
                from: src_info.hostname,
                to: dst_name,
                checks,
            };
            return Ok((report, None));
        }
    };
    checks.push(shared_storage(&facts, &dst_info, &dst.pools()?));
    checks.push(bridge(&facts, &dst_info, dst.interfaces()?));
    checks.push(same_subnet(&dst_info));
    checks.push(ssh_ok(dst_uri, &dst_info));
    let compared = dst.compare_cpu(&facts)?;
    let started = match (&compared, options.no_trial_start) {
        (Ok(()), false) => Some(dst.trial_start(&facts)?),
        _ => None,
    };
    checks.push(cpu(&facts, &dst_info, compared, started));
    checks.push(machine_type(
        &facts,
        &src_info,
        &dst_info,
        dst.knows_machine(&facts)?,
    ));
    let probe = options.port_probe.clone().or_else(|| {
        LibvirtUri::parse(dst_uri)
            .ok()
            .and_then(|u| u.host().map(PortProbe::migration_port))
    });
    let verdict = probe.as_ref().map(|p| (p, p.run()));
    checks.push(migration_ports(&dst_info, verdict));
    checks.push(name_resolution(&src_info, &dst_info));
    checks.push(not_same_host(&src_info, &dst_info));
    checks.push(domain_running(vm, &src_info, running));
    checks.push(free_memory(&facts, &dst_info));
    let report = PreflightReport {
        vm: vm.to_string(),
        from: src_info.hostname,
        to: dst_info.hostname,
        checks,
    };
    Ok((report, Some((src, dst))))
}

fn ssh_failed(dst_uri: &str, e: LabError) -> Check {
    let detail = e.to_string();
    let (id_fix, en_fix) = if transport(dst_uri).as_deref() == Some("ssh") {
        (
            "Di host sumber: `ssh-copy-id root@HOST-TUJUAN`, lalu coba `ssh root@HOST-TUJUAN true` tanpa password.",
            "On the source host: `ssh-copy-id root@DEST-HOST`, then check `ssh root@DEST-HOST true` asks no password.",
        )
    } else {
        (
            "Periksa bahwa libvirtd berjalan di tujuan dan URI-nya benar.",
            "Check that libvirtd runs on the destination and that the URI is right.",
        )
    };
    failed(
        CheckId::SshTrust,
        Stage::Connect,
        Text::new(
            format!("Koneksi ke {dst_uri} gagal: {detail}"),
            format!("Connecting to {dst_uri} failed: {detail}"),
        ),
        Text::new(id_fix, en_fix),
        e,
    )
}

fn ssh_ok(dst_uri: &str, d: &HostInfo) -> Check {
    match transport(dst_uri).as_deref() {
        Some("ssh") => check(
            CheckId::SshTrust,
            CheckStatus::Pass,
            Stage::Connect,
            Text::new(
                format!(
                    "Terhubung ke {dst_uri} lewat ssh tanpa password (no_tty=1); host menjawab sebagai {}.",
                    d.hostname
                ),
                format!(
                    "Connected to {dst_uri} over ssh without a password (no_tty=1); the host answered as {}.",
                    d.hostname
                ),
            ),
        ),
        _ => check(
            CheckId::SshTrust,
            CheckStatus::Unknown,
            Stage::Connect,
            Text::new(
                format!(
                    "Terhubung ke {dst_uri} tanpa ssh, jadi kepercayaan SSH tidak diuji; `virsh migrate ... qemu+ssh://` dari host sumber tetap memerlukannya."
                ),
                format!(
                    "Connected to {dst_uri} without ssh, so SSH trust was not tested; `virsh migrate ... qemu+ssh://` typed on the source still needs it."
                ),
            ),
        ),
    }
}

fn shared_storage(f: &DomainFacts, d: &HostInfo, pools: &[PoolView]) -> Check {
    let id = CheckId::SharedStorage;
    if f.disks.is_empty() {
        return check(
            id,
            CheckStatus::Pass,
            Stage::Begin,
            Text::new(
                "Domain tidak punya disk berupa file: tidak ada yang perlu dibagi.",
                "The domain has no file-backed disk: nothing needs to be shared.",
            ),
        );
    }
    let mut seen = Vec::new();
    for disk in &f.disks {
        let (dir, file) = match disk.rsplit_once('/') {
            Some((dir, file)) => (if dir.is_empty() { "/" } else { dir }, file),
            None => ("", disk.as_str()),
        };
        let Some(pool) = pools.iter().find(|p| p.target.trim_end_matches('/') == dir) else {
            return check(
                id,
                CheckStatus::Unknown,
                Stage::Prepare,
                Text::new(
                    format!(
                        "Tidak ada storage pool aktif di {} untuk {dir}, jadi libvirt tidak bisa memastikan {disk} terlihat di sana.",
                        d.hostname
                    ),
                    format!(
                        "No active storage pool on {} covers {dir}, so libvirt cannot tell whether {disk} is visible there.",
                        d.hostname
                    ),
                ),
            );
        };
        if !pool.volumes.iter().any(|v| v == file) {
            return failed(
                id,
                Stage::Prepare,
                Text::new(
                    format!(
                        "Pool '{}' ({}) di {} tidak berisi {file} setelah refresh: disk tidak ada di shared storage.",
                        pool.name, pool.target, d.hostname
                    ),
                    format!(
                        "Pool '{}' ({}) on {} does not list {file} after a refresh: the disk is not on shared storage.",
                        pool.name, pool.target, d.hostname
                    ),
                ),
                Text::new(
                    format!("Mount shared storage (NFS) di {dir} pada {}.", d.hostname),
                    format!("Mount the shared storage (NFS) at {dir} on {}.", d.hostname),
                ),
                LabError::StorageNotAccessible { path: disk.clone() },
            );
        }
        seen.push(format!("{disk} (pool '{}')", pool.name));
    }
    check(
        id,
        CheckStatus::Pass,
        Stage::Prepare,
        Text::new(
            format!(
                "{} melihat {} lewat storage pool-nya.",
                d.hostname,
                seen.join(", ")
            ),
            format!(
                "{} sees {} through its storage pools.",
                d.hostname,
                seen.join(", ")
            ),
        ),
    )
}

fn bridge(f: &DomainFacts, d: &HostInfo, ifaces: Option<Vec<String>>) -> Check {
    let id = CheckId::Bridge;
    if f.bridges.is_empty() {
        return check(
            id,
            CheckStatus::Pass,
            Stage::Prepare,
            Text::new(
                "NIC domain tidak memakai bridge host.",
                "The domain's NICs use no host bridge.",
            ),
        );
    }
    let Some(ifaces) = ifaces else {
        return check(
            id,
            CheckStatus::Unknown,
            Stage::Prepare,
            Text::new(
                format!(
                    "libvirtd di {} tidak punya driver interface, jadi bridge {} tidak bisa diperiksa.",
                    d.hostname,
                    f.bridges.join(", ")
                ),
                format!(
                    "libvirtd on {} has no interface driver, so bridge {} cannot be checked.",
                    d.hostname,
                    f.bridges.join(", ")
                ),
            ),
        );
    };
    if let Some(missing) = f.bridges.iter().find(|b| !ifaces.contains(b)) {
        return failed(
            id,
            Stage::Prepare,
            Text::new(
                format!(
                    "`virsh iface-list --all` di {} tidak memuat {missing}.",
                    d.hostname
                ),
                format!(
                    "`virsh iface-list --all` on {} does not list {missing}.",
                    d.hostname
                ),
            ),
            Text::new(
                format!(
                    "Buat bridge {missing} di {} dengan NIC yang terhubung ke jaringan yang sama.",
                    d.hostname
                ),
                format!(
                    "Create bridge {missing} on {} with a NIC on the same network.",
                    d.hostname
                ),
            ),
            LabError::Libvirt {
                code: None,
                message: format!("Cannot get interface MTU on '{missing}': No such device"),
            },
        );
    }
    check(
        id,
        CheckStatus::Pass,
        Stage::Prepare,
        Text::new(
            format!(
                "`virsh iface-list --all` di {} memuat {}.",
                d.hostname,
                f.bridges.join(", ")
            ),
            format!(
                "`virsh iface-list --all` on {} lists {}.",
                d.hostname,
                f.bridges.join(", ")
            ),
        ),
    )
}

fn same_subnet(d: &HostInfo) -> Check {
    check(
        CheckId::SameSubnet,
        CheckStatus::Unknown,
        Stage::After,
        Text::new(
            format!(
                "libvirt tidak tahu subnet jaringan fisik {}; uji dengan ping ke VM setelah migrasi.",
                d.hostname
            ),
            format!(
                "libvirt does not know the physical network of {}; ping the VM after migrating to find out.",
                d.hostname
            ),
        ),
    )
}

fn cpu(
    f: &DomainFacts,
    d: &HostInfo,
    compared: Result<(), LabError>,
    started: Option<Result<(), LabError>>,
) -> Check {
    let id = CheckId::Cpu;
    let how = format!(
        "virConnectCompareHypervisorCPU ({} {} {})",
        f.virt_type, f.arch, f.machine
    );
    let fix = Text::new(
        "Pakai model CPU dasar yang dimiliki kedua host (`virsh cpu-baseline`).",
        "Use a baseline CPU model both hosts have (`virsh cpu-baseline`).",
    );
    if f.cpu_mode == "host-passthrough" {
        return check(
            id,
            CheckStatus::Unknown,
            Stage::LoadState,
            Text::new(
                format!(
                    "VM memakai host-passthrough: CPU tujuan ({}) harus sama persis dengan sumber. libvirt tidak membandingkannya (check='none'): kalau berbeda, migrasi gagal setelah seluruh RAM disalin, atau berhasil lalu program di VM mati dengan 'invalid opcode'.",
                    d.facts.cpu_model.as_deref().unwrap_or("?")
                ),
                format!(
                    "The VM uses host-passthrough: the destination's CPU ({}) must match the source exactly. libvirt does not compare it (check='none'): if they differ, the migration fails after all the RAM was copied, or succeeds and a program in the VM then dies with 'invalid opcode'.",
                    d.facts.cpu_model.as_deref().unwrap_or("?")
                ),
            ),
        );
    }
    if let Err(e) = compared {
        return failed(
            id,
            Stage::Prepare,
            Text::new(
                format!("{how} di {}: {e}", d.hostname),
                format!("{how} on {}: {e}", d.hostname),
            ),
            fix,
            e,
        );
    }
    match started {
        None => check(
            id,
            CheckStatus::Pass,
            Stage::Prepare,
            Text::new(
                format!(
                    "{how} di {}: CPU VM ({}) bisa disediakan.",
                    d.hostname, f.cpu_mode
                ),
                format!(
                    "{how} on {}: the guest CPU ({}) can be provided.",
                    d.hostname, f.cpu_mode
                ),
            ),
        ),
        Some(Ok(())) => check(
            id,
            CheckStatus::Pass,
            Stage::Prepare,
            Text::new(
                format!(
                    "{how} di {} lolos, dan QEMU di sana menyalakan domain uji 32 MiB (dijeda, lalu dihapus) dengan CPU VM ({}).",
                    d.hostname, f.cpu_mode
                ),
                format!(
                    "{how} on {} passes, and QEMU there started a paused 32 MiB probe domain (then destroyed) with the guest CPU ({}).",
                    d.hostname, f.cpu_mode
                ),
            ),
        ),
        // Only a CPU complaint is the CPU's fault; anything else (memory, permissions) leaves the
        // comparison's verdict standing, with the reason shown.
        Some(Err(e)) if e.to_string().contains("CPU") => failed(
            id,
            Stage::Prepare,
            Text::new(
                format!(
                    "{how} di {} lolos, tetapi QEMU di sana menolak CPU VM saat domain uji dinyalakan: {e}",
                    d.hostname
                ),
                format!(
                    "{how} on {} passes, but QEMU there refused the guest CPU when a probe domain was started: {e}",
                    d.hostname
                ),
            ),
            fix,
            e,
        ),
        Some(Err(e)) => check(
            id,
            CheckStatus::Pass,
            Stage::Prepare,
            Text::new(
                format!(
                    "{how} di {}: CPU VM bisa disediakan (domain uji tidak bisa dinyalakan karena hal lain: {e}).",
                    d.hostname
                ),
                format!(
                    "{how} on {}: the guest CPU can be provided (a probe domain could not be started for another reason: {e}).",
                    d.hostname
                ),
            ),
        ),
    }
}

fn machine_type(
    f: &DomainFacts,
    s: &HostInfo,
    d: &HostInfo,
    verdict: Result<(), LabError>,
) -> Check {
    let id = CheckId::MachineType;
    let versions = format!(
        "{}: libvirt {} / QEMU {}; {}: libvirt {} / QEMU {}",
        s.hostname,
        s.libvirt_version,
        s.qemu_version,
        d.hostname,
        d.libvirt_version,
        d.qemu_version
    );
    match verdict {
        Ok(()) => check(
            id,
            CheckStatus::Pass,
            Stage::Prepare,
            Text::new(
                format!(
                    "{versions}. QEMU di {} mengenal machine type {} (virConnectGetDomainCapabilities).",
                    d.hostname, f.machine
                ),
                format!(
                    "{versions}. QEMU on {} knows machine type {} (virConnectGetDomainCapabilities).",
                    d.hostname, f.machine
                ),
            ),
        ),
        Err(e) => failed(
            id,
            Stage::Prepare,
            Text::new(format!("{versions}. {e}"), format!("{versions}. {e}")),
            Text::new(
                format!(
                    "Perbarui QEMU di {} atau pakai machine type yang dikenal keduanya.",
                    d.hostname
                ),
                format!(
                    "Upgrade QEMU on {} or use a machine type both know.",
                    d.hostname
                ),
            ),
            e,
        ),
    }
}

fn migration_ports(d: &HostInfo, probe: Option<(&PortProbe, PortVerdict)>) -> Check {
    let id = CheckId::MigrationPorts;
    let Some((p, verdict)) = probe else {
        return check(
            id,
            CheckStatus::Unknown,
            Stage::Perform,
            Text::new(
                format!(
                    "libvirt tidak punya panggilan untuk menguji port 49152–49215 di {}, dan tujuan dihubungi lewat socket lokal; migrasi sendiri yang membuktikannya (atau `nc -z {} 49152` dari sumber).",
                    d.hostname, d.hostname
                ),
                format!(
                    "libvirt has no call to test ports 49152–49215 on {}, and the destination was reached through a local socket; only migrating proves it (or `nc -z {} 49152` from the source).",
                    d.hostname, d.hostname
                ),
            ),
        );
    };
    let target = format!("{}:{}", p.host, p.port);
    let (from_id, from_en) = match &p.netns {
        Some(ns) => (
            format!("dari namespace jaringan {ns}"),
            format!("from network namespace {ns}"),
        ),
        None => (
            "dari mesin ini".to_string(),
            "from this machine".to_string(),
        ),
    };
    let (status, id_txt, en_txt) = match &verdict {
        PortVerdict::Open => (CheckStatus::Pass, "terbuka (ada yang mendengarkan)".to_string(), "open (something listens)".to_string()),
        PortVerdict::Refused => (
            CheckStatus::Pass,
            "ditolak dengan reset: host terjangkau dan firewall meloloskannya (QEMU baru mendengarkan saat migrasi)".to_string(),
            "refused with a reset: the host is reachable and its firewall lets it through (QEMU listens only during a migration)".to_string(),
        ),
        PortVerdict::Blocked(why) => (CheckStatus::Fail, format!("diblokir: {why}"), format!("blocked: {why}")),
        PortVerdict::Silent => (
            CheckStatus::Fail,
            "tidak ada jawaban (firewall membuang paket, atau host mati)".to_string(),
            "no answer (a firewall drops the packets, or the host is down)".to_string(),
        ),
        PortVerdict::CannotProbe(why) => (CheckStatus::Unknown, format!("tidak bisa diuji: {why}"), format!("could not be tested: {why}")),
    };
    let evidence = Text::new(
        format!("Koneksi TCP ke {target} {from_id}: {id_txt}."),
        format!("TCP connection to {target} {from_en}: {en_txt}."),
    );
    if status != CheckStatus::Fail {
        return check(id, status, Stage::Perform, evidence);
    }
    let why = match verdict {
        PortVerdict::Blocked(why) => why,
        _ => "Connection timed out".to_string(),
    };
    failed(
        id,
        Stage::Perform,
        evidence,
        Text::new(
            format!(
                "Buka port 49152–49215/tcp di firewall {} (misalnya `firewall-cmd --add-port=49152-49215/tcp --permanent`).",
                d.hostname
            ),
            format!(
                "Open ports 49152–49215/tcp in {}'s firewall (e.g. `firewall-cmd --add-port=49152-49215/tcp --permanent`).",
                d.hostname
            ),
        ),
        LabError::Libvirt {
            code: None,
            message: format!("unable to connect to server at '{target}': {why}"),
        },
    )
}

fn name_resolution(s: &HostInfo, d: &HostInfo) -> Check {
    check(
        CheckId::NameResolution,
        CheckStatus::Unknown,
        Stage::Prepare,
        Text::new(
            format!(
                "Tujuan menyebut dirinya {}: QEMU di {} akan menghubungi nama itu, dan libvirt tidak bisa menguji resolusinya dari sini (`getent hosts {}` di sumber).",
                d.hostname, s.hostname, d.hostname
            ),
            format!(
                "The destination calls itself {}: QEMU on {} will connect to that name, which libvirt cannot resolve from here (`getent hosts {}` on the source).",
                d.hostname, s.hostname, d.hostname
            ),
        ),
    )
}

fn not_same_host(s: &HostInfo, d: &HostInfo) -> Check {
    let id = CheckId::NotSameHost;
    let (su, du) = (&s.facts.uuid, &d.facts.uuid);
    if su != du {
        return check(
            id,
            CheckStatus::Pass,
            Stage::Prepare,
            Text::new(
                format!(
                    "UUID host dari `virsh capabilities` berbeda: {} = {su}, {} = {du}.",
                    s.hostname, d.hostname
                ),
                format!(
                    "Host UUIDs from `virsh capabilities` differ: {} = {su}, {} = {du}.",
                    s.hostname, d.hostname
                ),
            ),
        );
    }
    failed(
        id,
        Stage::Prepare,
        Text::new(
            format!(
                "{} dan {} melaporkan UUID host yang sama ({su}).",
                s.hostname, d.hostname
            ),
            format!(
                "{} and {} report the same host UUID ({su}).",
                s.hostname, d.hostname
            ),
        ),
        Text::new(
            "Beri setiap host `host_uuid` sendiri di libvirtd.conf (atau /etc/machine-id yang berbeda).",
            "Give each host its own `host_uuid` in libvirtd.conf (or a different /etc/machine-id).",
        ),
        LabError::SameHost {
            host_uuid: su.clone(),
        },
    )
}

fn domain_running(vm: &str, s: &HostInfo, running: bool) -> Check {
    let id = CheckId::DomainRunning;
    if running {
        return check(
            id,
            CheckStatus::Pass,
            Stage::Begin,
            Text::new(
                format!("{vm} berjalan di {} (virDomainIsActive).", s.hostname),
                format!("{vm} is running on {} (virDomainIsActive).", s.hostname),
            ),
        );
    }
    failed(
        id,
        Stage::Begin,
        Text::new(
            format!("{vm} tidak berjalan di {}.", s.hostname),
            format!("{vm} is not running on {}.", s.hostname),
        ),
        Text::new(
            format!(
                "`virsh start {vm}` dulu, atau migrasi offline dengan `--offline --persistent`."
            ),
            format!(
                "`virsh start {vm}` first, or migrate it offline with `--offline --persistent`."
            ),
        ),
        LabError::InvalidOperation("domain is not running".into()),
    )
}

fn free_memory(f: &DomainFacts, d: &HostInfo) -> Check {
    let id = CheckId::FreeMemory;
    let (free, need) = (d.free_memory >> 20, f.memory_kib >> 10);
    if free >= need {
        return check(
            id,
            CheckStatus::Pass,
            Stage::Prepare,
            Text::new(
                format!(
                    "{} punya {free} MiB bebas (virNodeGetFreeMemory); VM butuh {need} MiB.",
                    d.hostname
                ),
                format!(
                    "{} has {free} MiB free (virNodeGetFreeMemory); the VM needs {need} MiB.",
                    d.hostname
                ),
            ),
        );
    }
    failed(
        id,
        Stage::Prepare,
        Text::new(
            format!("{} hanya punya {free} MiB bebas; VM butuh {need} MiB.", d.hostname),
            format!("{} has only {free} MiB free; the VM needs {need} MiB.", d.hostname),
        ),
        Text::new(
            format!("Kosongkan memori di {} (pindahkan atau matikan VM lain).", d.hostname),
            format!("Free memory on {} (move or stop other VMs).", d.hostname),
        ),
        LabError::Internal(
            "qemu unexpectedly closed the monitor: qemu-system-x86_64: cannot set up guest memory 'pc.ram': Cannot allocate memory".into(),
        ),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain_xml::HostFacts;

    fn host(name: &str, uuid: &str) -> HostInfo {
        HostInfo {
            hostname: name.into(),
            facts: HostFacts {
                uuid: uuid.into(),
                arch: "x86_64".into(),
                cpu_model: None,
            },
            libvirt_version: "11.3.0".into(),
            qemu_version: "10.0.2".into(),
            free_memory: 1 << 30,
        }
    }

    fn guest() -> DomainFacts {
        DomainFacts {
            name: "db01".into(),
            memory_kib: 256 * 1024,
            bridges: vec!["br0".into()],
            disks: vec!["/var/lib/libvirt/images/db01.qcow2".into()],
            ..DomainFacts::default()
        }
    }

    fn pool(volumes: &[&str]) -> Vec<PoolView> {
        vec![PoolView {
            name: "default".into(),
            target: "/var/lib/libvirt/images/".into(),
            volumes: volumes.iter().map(|v| v.to_string()).collect(),
        }]
    }

    #[test]
    fn storage_is_judged_by_the_destination_pool_that_covers_the_disk() {
        let d = host("kvm-host-02", "b");
        let ok = shared_storage(&guest(), &d, &pool(&["db01.qcow2"]));
        assert_eq!(ok.status, CheckStatus::Pass, "{:?}", ok.evidence);
        let gone = shared_storage(&guest(), &d, &pool(&[]));
        assert_eq!(gone.status, CheckStatus::Fail);
        assert_eq!(
            gone.error.unwrap().to_string(),
            "Cannot access storage file '/var/lib/libvirt/images/db01.qcow2' (as uid:64055, gid:64055): No such file or directory"
        );
        let unknown = shared_storage(&guest(), &d, &[]);
        assert_eq!(unknown.status, CheckStatus::Unknown);
        assert!(
            unknown.evidence.en.contains("No active storage pool"),
            "{}",
            unknown.evidence.en
        );
    }

    #[test]
    fn a_missing_bridge_fails_with_libvirts_words_and_no_driver_is_unknown() {
        let d = host("kvm-host-02", "b");
        let gone = bridge(&guest(), &d, Some(vec!["lo".into(), "eth0".into()]));
        assert_eq!(gone.status, CheckStatus::Fail);
        assert_eq!(
            gone.error.unwrap().to_string(),
            "Cannot get interface MTU on 'br0': No such device"
        );
        assert_eq!(
            bridge(&guest(), &d, Some(vec!["br0".into()])).status,
            CheckStatus::Pass
        );
        assert_eq!(bridge(&guest(), &d, None).status, CheckStatus::Unknown);
    }

    #[test]
    fn same_uuid_fails_as_libvirt_refuses_it() {
        let c = not_same_host(&host("a", "u-1"), &host("b", "u-1"));
        assert_eq!(c.status, CheckStatus::Fail);
        assert_eq!(
            c.error.unwrap().to_string(),
            "internal error: Attempt to migrate guest to the same host u-1"
        );
        assert_eq!(
            not_same_host(&host("a", "u-1"), &host("b", "u-2")).status,
            CheckStatus::Pass
        );
    }

    #[test]
    fn memory_and_cpu_verdicts_say_how_they_were_measured() {
        let mut d = host("kvm-host-02", "b");
        assert_eq!(free_memory(&guest(), &d).status, CheckStatus::Pass);
        d.free_memory = 100 << 20;
        let c = free_memory(&guest(), &d);
        assert_eq!(c.status, CheckStatus::Fail);
        assert!(c.evidence.en.contains("100 MiB"), "{}", c.evidence.en);
        let e = LabError::Libvirt {
            code: Some(1),
            message: "the CPU is incompatible with host CPU: Host CPU does not provide required features: avx2".into(),
        };
        let c = cpu(&guest(), &d, Err(e.clone()), None);
        assert_eq!(c.status, CheckStatus::Fail);
        assert_eq!(c.error, Some(e));
        assert!(c.evidence.en.contains("virConnectCompareHypervisorCPU"));
        assert_eq!(cpu(&guest(), &d, Ok(()), None).status, CheckStatus::Pass);
        assert_eq!(
            cpu(&guest(), &d, Ok(()), Some(Ok(()))).status,
            CheckStatus::Pass
        );
        // QEMU refusing the CPU at start is what a TCG guest's migration meets.
        let refused = LabError::Libvirt {
            code: Some(1),
            message:
                "operation failed: guest CPU doesn't match specification: missing features: avx2"
                    .into(),
        };
        let c = cpu(&guest(), &d, Ok(()), Some(Err(refused.clone())));
        assert_eq!(c.status, CheckStatus::Fail);
        assert_eq!(c.error, Some(refused));
        let other = LabError::Libvirt {
            code: Some(1),
            message: "cannot allocate memory".into(),
        };
        let c = cpu(&guest(), &d, Ok(()), Some(Err(other)));
        assert_eq!(c.status, CheckStatus::Pass);
        assert!(c.evidence.en.contains("cannot allocate memory"));
    }

    #[test]
    fn the_port_check_reads_the_probe() {
        let d = host("kvm-host-02", "b");
        assert_eq!(migration_ports(&d, None).status, CheckStatus::Unknown);
        let p = PortProbe::migration_port("kvm-host-02");
        assert_eq!(
            migration_ports(&d, Some((&p, PortVerdict::Refused))).status,
            CheckStatus::Pass
        );
        let c = migration_ports(
            &d,
            Some((&p, PortVerdict::Blocked("No route to host".into()))),
        );
        assert_eq!(c.status, CheckStatus::Fail);
        assert_eq!(
            c.error.unwrap().to_string(),
            "unable to connect to server at 'kvm-host-02:49152': No route to host"
        );
        assert_eq!(
            migration_ports(&d, Some((&p, PortVerdict::Silent))).status,
            CheckStatus::Fail
        );
    }

    #[test]
    fn ssh_is_only_judged_when_the_connection_used_ssh() {
        let d = host("kvm-host-02", "b");
        assert_eq!(
            ssh_ok("qemu+ssh://kvm-host-02/system", &d).status,
            CheckStatus::Pass
        );
        assert_eq!(
            ssh_ok("qemu:///system?socket=/run/x/libvirt-sock", &d).status,
            CheckStatus::Unknown
        );
        let f = ssh_failed(
            "qemu+ssh://kvm-host-02/system",
            LabError::ConnectFailed {
                detail: "Cannot recv data: Permission denied (publickey).".into(),
            },
        );
        assert_eq!(f.status, CheckStatus::Fail);
        assert_eq!(f.stage, Stage::Connect);
        assert!(f.fix.en.contains("ssh-copy-id"));
    }
}
