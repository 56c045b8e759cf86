//! The few facts real preflight needs from libvirt's XML: a domain's definition
//! (`virsh dumpxml`) and a host's capabilities (`virsh capabilities`). Pure parsing, so it is
//! tested without libvirt.

use roxmltree::{Document, Node};

/// XML that libvirt gave but that does not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read libvirt's {what} XML: {reason}")]
pub struct XmlError {
    /// `domain` or `capabilities`.
    pub what: &'static str,
    /// What was wrong.
    pub reason: String,
}

/// A domain's definition, reduced to what migration depends on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DomainFacts {
    /// `<name>`.
    pub name: String,
    /// `<domain type=...>`: `kvm` or `qemu` (TCG).
    pub virt_type: String,
    /// `<os><type arch=...>`.
    pub arch: String,
    /// `<os><type machine=...>`, e.g. `pc-i440fx-10.0` (libvirt expands `pc`).
    pub machine: String,
    /// `<devices><emulator>`.
    pub emulator: Option<String>,
    /// `<memory>` in KiB.
    pub memory_kib: u64,
    /// `<cpu mode=...>`: `host-passthrough`, `host-model`, `custom` (libvirt's default), ...
    pub cpu_mode: String,
    /// The whole `<cpu>` element as written, for `virConnectCompareHypervisorCPU`.
    pub cpu_xml: Option<String>,
    /// Bridges the domain's NICs are plugged into (`<interface type='bridge'><source bridge=...>`).
    pub bridges: Vec<String>,
    /// libvirt networks the domain's NICs use (`<interface type='network'>`).
    pub networks: Vec<String>,
    /// File-backed disks (`<disk type='file' device='disk'>`, cdroms left out), by path.
    pub disks: Vec<String>,
}

/// What a host's capabilities say about the host itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HostFacts {
    /// `<host><uuid>`: what libvirt compares to refuse a migration to the same host.
    pub uuid: String,
    /// `<host><cpu><arch>`.
    pub arch: String,
    /// `<host><cpu><model>` (libvirt's name for the host CPU), if given.
    pub cpu_model: Option<String>,
}

fn parse<'a>(what: &'static str, xml: &'a str) -> Result<Document<'a>, XmlError> {
    Document::parse(xml).map_err(|e| XmlError {
        what,
        reason: e.to_string(),
    })
}

fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(name))
}

fn text_of(n: Option<Node<'_, '_>>) -> String {
    n.and_then(|n| n.text()).unwrap_or("").trim().to_string()
}

/// Read a domain definition.
pub fn domain_facts(xml: &str) -> Result<DomainFacts, XmlError> {
    let doc = parse("domain", xml)?;
    let root = doc.root_element();
    if !root.has_tag_name("domain") {
        return Err(XmlError {
            what: "domain",
            reason: format!("the root element is <{}>", root.tag_name().name()),
        });
    }
    let os_type = child(root, "os").and_then(|os| child(os, "type"));
    let memory = child(root, "memory");
    let memory_kib = memory
        .and_then(|m| m.text())
        .and_then(|t| t.trim().parse::<u64>().ok())
        .map(|v| match memory.and_then(|m| m.attribute("unit")) {
            Some("MiB") => v * 1024,
            Some("GiB") => v * 1024 * 1024,
            Some("b") | Some("bytes") => v / 1024,
            _ => v,
        })
        .unwrap_or(0);
    let cpu = child(root, "cpu");
    let mut facts = DomainFacts {
        name: text_of(child(root, "name")),
        virt_type: root.attribute("type").unwrap_or("").to_string(),
        arch: os_type
            .and_then(|t| t.attribute("arch"))
            .unwrap_or("")
            .to_string(),
        machine: os_type
            .and_then(|t| t.attribute("machine"))
            .unwrap_or("")
            .to_string(),
        memory_kib,
        cpu_mode: cpu
            .and_then(|c| c.attribute("mode"))
            .unwrap_or("custom")
            .to_string(),
        cpu_xml: cpu.map(|c| xml[c.range()].to_string()),
        ..DomainFacts::default()
    };
    if let Some(devices) = child(root, "devices") {
        let emulator = text_of(child(devices, "emulator"));
        facts.emulator = (!emulator.is_empty()).then_some(emulator);
        for dev in devices.children().filter(|c| c.is_element()) {
            let source = child(dev, "source");
            match dev.tag_name().name() {
                "interface" => match dev.attribute("type") {
                    Some("bridge") => {
                        if let Some(b) = source.and_then(|s| s.attribute("bridge")) {
                            facts.bridges.push(b.to_string());
                        }
                    }
                    Some("network") => {
                        if let Some(n) = source.and_then(|s| s.attribute("network")) {
                            facts.networks.push(n.to_string());
                        }
                    }
                    _ => {}
                },
                "disk" if dev.attribute("device").unwrap_or("disk") == "disk" => {
                    if let Some(f) = source.and_then(|s| s.attribute("file")) {
                        facts.disks.push(f.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Ok(facts)
}

/// Read a host's capabilities.
pub fn host_facts(xml: &str) -> Result<HostFacts, XmlError> {
    let doc = parse("capabilities", xml)?;
    let host = child(doc.root_element(), "host").ok_or_else(|| XmlError {
        what: "capabilities",
        reason: "no <host> element".into(),
    })?;
    let cpu = child(host, "cpu");
    let model = text_of(cpu.and_then(|c| child(c, "model")));
    Ok(HostFacts {
        uuid: text_of(child(host, "uuid")),
        arch: text_of(cpu.and_then(|c| child(c, "arch"))),
        cpu_model: (!model.is_empty()).then_some(model),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const DOMAIN: &str = r#"<domain type='qemu' id='1'>
  <name>db01</name>
  <memory unit='KiB'>262144</memory>
  <os><type arch='x86_64' machine='pc-i440fx-10.0'>hvm</type><kernel>/k</kernel></os>
  <cpu mode='custom' match='exact' check='partial'>
    <model fallback='forbid'>qemu64</model>
    <feature policy='require' name='avx2'/>
  </cpu>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/db01.qcow2'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><source file='/iso/x.iso'/></disk>
    <interface type='bridge'><mac address='52:54:00:77:00:10'/><source bridge='br0'/></interface>
    <interface type='network'><source network='default'/></interface>
  </devices>
</domain>"#;

    #[test]
    fn a_domain_definition_gives_what_migration_depends_on() {
        let f = domain_facts(DOMAIN).unwrap();
        assert_eq!(f.name, "db01");
        assert_eq!(f.virt_type, "qemu");
        assert_eq!(f.arch, "x86_64");
        assert_eq!(f.machine, "pc-i440fx-10.0");
        assert_eq!(f.memory_kib, 262_144);
        assert_eq!(f.cpu_mode, "custom");
        let cpu = f.cpu_xml.unwrap();
        assert!(cpu.starts_with("<cpu mode='custom'") && cpu.ends_with("</cpu>"));
        assert!(cpu.contains("avx2"));
        assert_eq!(f.bridges, ["br0"]);
        assert_eq!(f.networks, ["default"]);
        assert_eq!(f.disks, ["/var/lib/libvirt/images/db01.qcow2"]);
        assert_eq!(f.emulator.as_deref(), Some("/usr/bin/qemu-system-x86_64"));
    }

    #[test]
    fn memory_units_are_converted_to_kib() {
        let f =
            domain_facts("<domain type='kvm'><name>a</name><memory unit='GiB'>2</memory></domain>")
                .unwrap();
        assert_eq!(f.memory_kib, 2 * 1024 * 1024);
        assert_eq!(f.cpu_mode, "custom");
        assert!(f.cpu_xml.is_none());
    }

    #[test]
    fn capabilities_give_the_host_uuid() {
        let caps = "<capabilities><host><uuid>8b5b2d4e-0000-4000-8000-000000000001</uuid>\
                    <cpu><arch>x86_64</arch><model>Skylake-Client-IBRS</model></cpu></host></capabilities>";
        let h = host_facts(caps).unwrap();
        assert_eq!(h.uuid, "8b5b2d4e-0000-4000-8000-000000000001");
        assert_eq!(h.arch, "x86_64");
        assert_eq!(h.cpu_model.as_deref(), Some("Skylake-Client-IBRS"));
    }

    #[test]
    fn wrong_xml_says_what_it_is() {
        let e = domain_facts("<capabilities/>").unwrap_err();
        assert!(
            e.to_string().contains("root element is <capabilities>"),
            "{e}"
        );
        let e = host_facts("<capabilities>").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot read libvirt's capabilities XML"),
            "{e}"
        );
    }
}
