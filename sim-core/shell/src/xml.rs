//! The XML documents virsh prints: host capabilities (formatcaps.rst) and domain XML
//! (formatdomain.rst), with the CPU parts built from libvirt's CPU map.
//!
//! Values libvirt reads from the machine (microcode, TSC frequency, topology, NUMA sizes) are
//! fixed, plausible numbers; the CPU model, vendor and features, the host UUID, the memory and
//! the machine types come from the scenario.

use migralab_sim_core::cpu::{CpuDef, CpuMap, guest_cpu_xml, host_cpu_xml};
use migralab_sim_core::preflight::{guest_cpu_def, host_cpu_def};
use migralab_sim_core::scenario::{GuestCpuSpec, HostSpec, StorageSpec, VmSpec};
use std::fmt::Write as _;

/// FNV-1a over `s` from `offset`.
fn fnv(s: &str, offset: u64) -> u64 {
    s.bytes().fold(offset, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A stable UUID for a domain, derived from its name (the same on every host, as a migrated
/// domain keeps its UUID).
pub(super) fn domain_uuid(name: &str) -> String {
    let a = fnv(name, 0x6c62_272e_07bb_0142);
    let b = fnv(name, 0x0142_07bb_272e_6c62);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// A stable MAC in libvirt's `52:54:00` range.
pub(super) fn domain_mac(name: &str) -> String {
    let h = fnv(name, 0xcbf2_9ce4_8422_2325);
    format!(
        "52:54:00:{:02x}:{:02x}:{:02x}",
        (h >> 16) & 0xff,
        (h >> 8) & 0xff,
        h & 0xff
    )
}

/// A stable MAC for a host's NIC (and its bridge).
pub(super) fn host_mac(name: &str) -> String {
    let h = fnv(name, 0x8422_2325_cbf2_9ce4);
    format!(
        "3c:ec:ef:{:02x}:{:02x}:{:02x}",
        (h >> 16) & 0xff,
        (h >> 8) & 0xff,
        h & 0xff
    )
}

/// `192.168.100.0/24` → 24.
pub(super) fn prefix_len(subnet: &str) -> u8 {
    subnet
        .split_once('/')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(24)
}

/// The host CPU as `virsh capabilities` names it: libvirt's host decoding of the scenario's
/// model plus extras minus missing features (a host never shows "model minus features"), with
/// the model's vendor. Falls back to the scenario's description if the map cannot name it.
pub(super) fn named_host_cpu(h: &HostSpec) -> CpuDef {
    let def = host_cpu_def(h);
    let Ok(map) = CpuMap::x86() else {
        return def;
    };
    let vendor = def
        .model
        .as_deref()
        .and_then(|m| map.model(m))
        .and_then(|m| m.vendor.clone());
    match map
        .expand(&def)
        .and_then(|features| map.host_cpu(vendor.as_deref(), &features))
    {
        Ok(mut named) => {
            named.vendor = vendor;
            named
        }
        Err(_) => def,
    }
}

/// `virsh capabilities` of a host.
/// `virsh domcapabilities`: the head and the `<cpu>` part, as libvirt 11.3 prints them (read
/// from `virsh -c 'qemu:///embed?root=DIR' domcapabilities` on QEMU 10.0.2). The host-model is the
/// host's CPU as capabilities names it, `fallback='forbid'`, with its vendor. The lab leaves out
/// the `custom` mode's model list and the `<devices>` and `<features>` sections (the shell says
/// so).
pub(super) fn domcapabilities(h: &HostSpec) -> String {
    let cpu = named_host_cpu(h);
    let machine = h
        .machine_types()
        .into_iter()
        .rfind(|m| m.starts_with("pc-i440fx-"))
        .unwrap_or_else(|| "pc".into());
    let mut out = format!(
        "<domainCapabilities>\n  <path>/usr/bin/qemu-system-x86_64</path>\n  <domain>kvm</domain>\n  <machine>{machine}</machine>\n  <arch>x86_64</arch>\n  <vcpu max='255'/>\n  <iothreads supported='yes'/>\n  <cpu>\n    <mode name='host-passthrough' supported='yes'>\n      <enum name='hostPassthroughMigratable'>\n        <value>on</value>\n        <value>off</value>\n      </enum>\n    </mode>\n    <mode name='maximum' supported='yes'>\n      <enum name='maximumMigratable'>\n        <value>on</value>\n        <value>off</value>\n      </enum>\n    </mode>\n    <mode name='host-model' supported='yes'>\n"
    );
    let block = guest_cpu_xml(&cpu, 4);
    // The mode element replaces the guest's <cpu> wrapper: keep the model, vendor and features.
    for line in block.lines().filter(|l| {
        let t = l.trim_start();
        !t.starts_with("<cpu") && !t.starts_with("</cpu>")
    }) {
        let _ = writeln!(out, "  {line}");
    }
    out.push_str(
        "    </mode>\n    <mode name='custom' supported='yes'/>\n  </cpu>\n</domainCapabilities>\n",
    );
    out
}

pub(super) fn capabilities(h: &HostSpec) -> String {
    let cpu = named_host_cpu(h);
    let (family, model) = cpu
        .model
        .as_deref()
        .and_then(|m| CpuMap::x86().ok()?.model(m))
        .and_then(|m| m.signatures.first())
        .map_or((6, 85), |s| (s.family, s.model));
    // host_cpu_xml has arch, model, vendor, then features; the real block has microcode,
    // signature, counter, topology and maxphysaddr between the vendor and the features, which
    // is what `grep -A5 '<model>'` shows.
    let block = host_cpu_xml(&cpu, 4);
    let mut lines: Vec<String> = block.lines().map(str::to_string).collect();
    let after_vendor = lines
        .iter()
        .position(|l| l.trim_start().starts_with("<vendor>"))
        .or_else(|| {
            lines
                .iter()
                .position(|l| l.trim_start().starts_with("<model>"))
        })
        .map_or(2, |i| i + 1);
    let extra = [
        "      <microcode version='240'/>".to_string(),
        format!("      <signature family='{family}' model='{model}' stepping='3'/>"),
        "      <counter name='tsc' frequency='2712000000' scaling='no'/>".to_string(),
        "      <topology sockets='1' dies='1' clusters='1' cores='4' threads='2'/>".to_string(),
        "      <maxphysaddr mode='emulate' bits='39'/>".to_string(),
    ];
    for (k, l) in extra.into_iter().enumerate() {
        lines.insert(after_vendor + k, l);
    }
    let close = lines.len().saturating_sub(1);
    for (k, size) in ["4", "2048", "1048576"].iter().enumerate() {
        lines.insert(
            close + k,
            format!("      <pages unit='KiB' size='{size}'/>"),
        );
    }
    let kib = h.memory_mib * 1024;
    let mut out = String::from("<capabilities>\n\n  <host>\n");
    let _ = writeln!(out, "    <uuid>{}</uuid>", h.host_uuid());
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str(
        "    <power_management>\n      <suspend_mem/>\n      <suspend_disk/>\n      <suspend_hybrid/>\n    </power_management>\n    <iommu support='no'/>\n    <migration_features>\n      <live/>\n      <uri_transports>\n        <uri_transport>tcp</uri_transport>\n        <uri_transport>rdma</uri_transport>\n      </uri_transports>\n    </migration_features>\n",
    );
    let _ = write!(
        out,
        "    <topology>\n      <cells num='1'>\n        <cell id='0'>\n          <memory unit='KiB'>{kib}</memory>\n          <pages unit='KiB' size='4'>{}</pages>\n          <pages unit='KiB' size='2048'>0</pages>\n          <pages unit='KiB' size='1048576'>0</pages>\n          <distances>\n            <sibling id='0' value='10'/>\n          </distances>\n          <cpus num='8'>\n",
        kib / 4
    );
    for c in 0..8 {
        let _ = writeln!(
            out,
            "            <cpu id='{c}' socket_id='0' die_id='0' cluster_id='0' core_id='{}' siblings='{},{}'/>",
            c % 4,
            c % 4,
            c % 4 + 4
        );
    }
    out.push_str("          </cpus>\n        </cell>\n      </cells>\n    </topology>\n");
    let _ = write!(
        out,
        "    <secmodel>\n      <model>{security}</model>\n      <doi>0</doi>\n    </secmodel>\n    <secmodel>\n      <model>dac</model>\n      <doi>0</doi>\n      <baselabel type='kvm'>+64055:+994</baselabel>\n      <baselabel type='qemu'>+64055:+994</baselabel>\n    </secmodel>\n  </host>\n\n",
        security = h.security_driver.as_str()
    );
    out.push_str("  <guest>\n    <os_type>hvm</os_type>\n    <arch name='x86_64'>\n      <wordsize>64</wordsize>\n      <emulator>/usr/bin/qemu-system-x86_64</emulator>\n");
    let machines = h.machine_types();
    // Newest first, as QEMU lists them, with the `pc`/`q35` aliases on the newest.
    let newest_q35 = machines.iter().rev().find(|m| m.starts_with("pc-q35-"));
    let newest_pc = machines.iter().rev().find(|m| m.starts_with("pc-i440fx-"));
    for m in machines.iter().rev() {
        let max = if m.starts_with("pc-q35-") { 288 } else { 255 };
        let _ = writeln!(out, "      <machine maxCpus='{max}'>{m}</machine>");
        if Some(m) == newest_pc {
            let _ = writeln!(
                out,
                "      <machine canonical='{m}' maxCpus='255'>pc</machine>"
            );
        }
        if Some(m) == newest_q35 {
            let _ = writeln!(
                out,
                "      <machine canonical='{m}' maxCpus='288'>q35</machine>"
            );
        }
    }
    out.push_str("      <domain type='qemu'/>\n      <domain type='kvm'/>\n    </arch>\n    <features>\n      <acpi default='on' toggle='yes'/>\n      <apic default='on' toggle='no'/>\n      <cpuselection/>\n      <deviceboot/>\n      <disksnapshot default='on' toggle='no'/>\n    </features>\n  </guest>\n\n</capabilities>\n");
    out
}

/// `virsh dumpxml` of a guest. `boot` is the host its CPU was fixed on (host-model and
/// host-passthrough); `id` is set when the domain is active, `vnet` is its tap index.
pub(super) fn domain_xml(
    vm: &VmSpec,
    storage: &StorageSpec,
    boot: Option<&HostSpec>,
    id: Option<u32>,
    vnet: Option<usize>,
) -> String {
    let kib = vm.ram_mib * 1024;
    let mut out = match id {
        Some(i) => format!("<domain type='kvm' id='{i}'>\n"),
        None => "<domain type='kvm'>\n".to_string(),
    };
    let _ = write!(
        out,
        "  <name>{}</name>\n  <uuid>{}</uuid>\n  <memory unit='KiB'>{kib}</memory>\n  <currentMemory unit='KiB'>{kib}</currentMemory>\n  <vcpu placement='static'>{}</vcpu>\n  <resource>\n    <partition>/machine</partition>\n  </resource>\n  <os>\n    <type arch='x86_64' machine='{}'>hvm</type>\n    <boot dev='hd'/>\n  </os>\n  <features>\n    <acpi/>\n    <apic/>\n  </features>\n",
        vm.name,
        domain_uuid(&vm.name),
        vm.vcpus,
        vm.machine
    );
    match (&vm.cpu, id, boot) {
        (GuestCpuSpec::HostPassthrough, _, _) => {
            out.push_str("  <cpu mode='host-passthrough' check='none' migratable='on'/>\n");
        }
        // A running host-model guest shows the CPU it got at boot, expanded.
        (GuestCpuSpec::HostModel, Some(_), Some(h)) => {
            out.push_str(&guest_cpu_xml(&guest_cpu_def(vm, h), 2));
        }
        (GuestCpuSpec::HostModel, _, _) => {
            out.push_str("  <cpu mode='host-model' check='partial'/>\n");
        }
        (GuestCpuSpec::Custom { model, features }, _, _) => {
            let def = CpuDef {
                model: Some(model.clone()),
                vendor: None,
                require: features.iter().cloned().collect(),
                disable: Default::default(),
            };
            out.push_str(&guest_cpu_xml(&def, 2));
        }
    }
    out.push_str("  <clock offset='utc'>\n    <timer name='rtc' tickpolicy='catchup'/>\n    <timer name='pit' tickpolicy='delay'/>\n    <timer name='hpet' present='no'/>\n  </clock>\n  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n  <on_crash>destroy</on_crash>\n  <devices>\n    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n");
    if vm.disk_bytes() > 0 {
        let _ = write!(
            out,
            "    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'{}/>\n      <source file='{}'/>\n      <target dev='vda' bus='virtio'/>\n    </disk>\n",
            vm.disk_cache
                .attribute()
                .map(|c| format!(" cache='{c}'"))
                .unwrap_or_default(),
            vm.disk_path(storage)
        );
    }
    // A NIC on a libvirt network shows the network and, while running, its bridge (portid left
    // out: the lab has no port objects).
    let source = match &vm.network {
        Some(net) if vnet.is_some() => format!("network='{net}' bridge='{}'", vm.bridge),
        Some(net) => format!("network='{net}'"),
        None => format!("bridge='{}'", vm.bridge),
    };
    if let Some(iso) = &vm.cdrom {
        let source = if iso.is_empty() {
            String::new()
        } else {
            format!("      <source file='{iso}'/>\n")
        };
        let _ = write!(
            out,
            "    <disk type='file' device='cdrom'>\n      <driver name='qemu' type='raw'/>\n{source}      <target dev='sda' bus='sata'/>\n      <readonly/>\n    </disk>\n"
        );
    }
    let _ = write!(
        out,
        "    <interface type='{}'>\n      <mac address='{}'/>\n      <source {source}/>\n",
        if vm.network.is_some() {
            "network"
        } else {
            "bridge"
        },
        domain_mac(&vm.name),
    );
    if let Some(n) = vnet {
        let _ = writeln!(out, "      <target dev='vnet{n}'/>");
    }
    out.push_str("      <model type='virtio'/>\n    </interface>\n    <serial type='pty'>\n      <target type='isa-serial' port='0'>\n        <model name='isa-serial'/>\n      </target>\n    </serial>\n    <console type='pty'>\n      <target type='serial' port='0'/>\n    </console>\n  </devices>\n</domain>\n");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use migralab_sim_core::cpu::parse_cpu_xml;

    #[test]
    fn capabilities_name_the_scenarios_cpu_and_parse_back() {
        let mut h = HostSpec::named("kvm-host-01");
        h.cpu.model = "Skylake-Client-noTSX-IBRS".into();
        let caps = capabilities(&h);
        let lines: Vec<&str> = caps.lines().collect();
        let i = lines
            .iter()
            .position(|l| l.contains("<model>Skylake-Client-noTSX-IBRS</model>"))
            .unwrap();
        assert!(lines[i + 1].contains("<vendor>Intel</vendor>"), "{caps}");
        assert!(lines[i + 2].contains("<microcode"));
        assert!(lines[i + 5].contains("<topology"));
        assert!(caps.contains(&format!("<uuid>{}</uuid>", h.host_uuid())));
        assert!(caps.contains("<uri_transport>tcp</uri_transport>"));
        assert!(caps.contains("<machine maxCpus='288'>pc-q35-7.2</machine>"));
        let cpus = parse_cpu_xml(&caps).unwrap();
        assert_eq!(cpus.len(), 1);
        assert_eq!(cpus[0].model.as_deref(), Some("Skylake-Client-noTSX-IBRS"));
        let map = CpuMap::x86().unwrap();
        assert!(
            map.compare(&named_host_cpu(&h), &cpus[0])
                .unwrap()
                .is_compatible()
        );
    }

    #[test]
    fn domain_xml_has_what_a_student_looks_for() {
        let vm = VmSpec::new("db01", "kvm-host-01", 2048);
        let storage = StorageSpec {
            kind: migralab_sim_core::scenario::StorageKind::Shared,
            path: "/var/lib/libvirt/images".into(),
            mounted_on: None,
        };
        let mut vm_disk = vm.clone();
        vm_disk.disk_gib = 20.0;
        let x = domain_xml(&vm_disk, &storage, None, Some(1), Some(0));
        assert!(x.contains("<name>db01</name>"));
        assert!(x.contains("<memory unit='KiB'>2097152</memory>"));
        assert!(x.contains("machine='pc-q35-7.2'"));
        assert!(x.contains("<source file='/var/lib/libvirt/images/db01.qcow2'/>"));
        assert!(x.contains("<source bridge='br0'/>"));
        assert!(x.contains("<target dev='vnet0'/>"));
        assert!(x.contains("<cpu mode='host-model' check='partial'/>"));
        assert_eq!(domain_uuid("db01"), domain_uuid("db01"));
        assert_ne!(domain_uuid("db01"), domain_uuid("db02"));
        assert!(domain_mac("db01").starts_with("52:54:00:"));
    }
}
