//! One real host: an open libvirt connection and the questions preflight and migration ask it.
//! Every method runs its libvirt calls on a worker thread with a deadline (see [`super::call`]).

use super::call::{self, with_deadline};
use super::{ffi, lab_error};
use crate::domain_xml::{self, DomainFacts, HostFacts};
use crate::uri::connection_uri;
use migralab_sim_core::LabError;
use std::time::Duration;
use virt::connect::Connect;
use virt::domain::Domain;

/// An open connection to one host's libvirtd.
#[derive(Debug, Clone)]
pub struct RealHost {
    uri: String,
    conn: Connect,
}

/// A host's name, identity and versions, as its libvirtd reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInfo {
    /// The host's own name (`virsh hostname`).
    pub hostname: String,
    /// From `virsh capabilities`.
    pub facts: HostFacts,
    /// libvirt version as `major.minor.micro`.
    pub libvirt_version: String,
    /// QEMU version as `major.minor.micro`.
    pub qemu_version: String,
    /// Free memory, bytes (`virsh freecell --all`).
    pub free_memory: u64,
}

/// libvirt's packed version number (`major * 1_000_000 + minor * 1000 + micro`) as text.
pub fn version_text(v: u32) -> String {
    format!("{}.{}.{}", v / 1_000_000, (v / 1000) % 1000, v % 1000)
}

fn lv<T>(r: Result<T, virt::error::Error>) -> Result<T, LabError> {
    r.map_err(|e| lab_error(&e))
}

impl RealHost {
    /// Open `uri` (ssh URIs get `no_tty=1`, so a missing key fails instead of prompting).
    /// A failure is [`LabError::ConnectFailed`] with libvirt's (ssh's) text, as `virsh` shows it.
    pub fn open(uri: &str) -> Result<RealHost, LabError> {
        super::init();
        let full = connection_uri(uri).map_err(|e| LabError::ConnectFailed {
            detail: e.to_string(),
        })?;
        let target = full.clone();
        let conn = with_deadline(&format!("connect to {uri}"), call::CONNECT, move || {
            let conn = Connect::open(Some(&target)).map_err(|e| LabError::ConnectFailed {
                detail: e.message().to_string(),
            })?;
            // Notice a dead peer within ~15 s instead of waiting for TCP.
            let _ = conn.set_keep_alive(5, 3);
            Ok(conn)
        })?;
        Ok(RealHost {
            uri: uri.to_string(),
            conn,
        })
    }

    /// The URI as the user gave it.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The underlying connection (for the migration call).
    pub(crate) fn connect(&self) -> &Connect {
        &self.conn
    }

    /// Run `f` with this host's connection on a worker thread, within `timeout`.
    pub fn ask<T, F>(&self, what: &str, timeout: Duration, f: F) -> Result<T, LabError>
    where
        T: Send + 'static,
        F: FnOnce(&Connect) -> Result<T, LabError> + Send + 'static,
    {
        let conn = self.conn.clone();
        with_deadline(&format!("{what} on {}", self.uri), timeout, move || {
            f(&conn)
        })
    }

    /// Name, UUID, versions and free memory.
    pub fn info(&self) -> Result<HostInfo, LabError> {
        self.ask("read host capabilities", call::QUICK, |c| {
            let caps = lv(c.capabilities())?;
            let facts =
                domain_xml::host_facts(&caps).map_err(|e| LabError::Internal(e.to_string()))?;
            Ok(HostInfo {
                hostname: lv(c.hostname())?,
                facts,
                libvirt_version: version_text(lv(c.lib_version())?),
                qemu_version: version_text(lv(c.hyp_version())?),
                free_memory: lv(c.free_memory())?,
            })
        })
    }

    /// Look a domain up by name (`failed to get domain 'NAME'` when it is not there).
    pub fn domain(&self, name: &str) -> Result<Domain, LabError> {
        let name = name.to_string();
        self.ask(&format!("look up domain {name}"), call::QUICK, move |c| {
            c.lookup_domain_by_name(&name)
                .map_err(|_| LabError::NoSuchDomain { name })
        })
    }

    /// Is this domain defined here and running?
    pub fn domain_state(&self, name: &str) -> Result<Option<bool>, LabError> {
        let name = name.to_string();
        self.ask(&format!("state of {name}"), call::QUICK, move |c| {
            match c.lookup_domain_by_name(&name) {
                Ok(d) => Ok(Some(lv(d.is_active())?)),
                Err(_) => Ok(None),
            }
        })
    }

    /// The domain's live definition, reduced to migration's facts.
    pub fn domain_facts(&self, dom: &Domain) -> Result<DomainFacts, LabError> {
        let dom = dom.clone();
        self.ask("read the domain XML", call::QUICK, move |_| {
            let xml = lv(dom.xml_desc(0))?;
            domain_xml::domain_facts(&xml).map_err(|e| LabError::Internal(e.to_string()))
        })
    }

    /// Can this host's QEMU provide the guest CPU? `Ok(())` when it can, libvirt's error
    /// (naming the missing features) when it cannot.
    pub fn compare_cpu(&self, d: &DomainFacts) -> Result<Result<(), LabError>, LabError> {
        let Some(cpu) = d.cpu_xml.clone() else {
            return Ok(Ok(()));
        };
        let (arch, machine, virt_type) = (d.arch.clone(), d.machine.clone(), d.virt_type.clone());
        self.ask("compare the guest CPU", call::QUICK, move |c| {
            Ok(
                match ffi::compare_hypervisor_cpu(c, &arch, &machine, &virt_type, &cpu) {
                    Ok(_) => Ok(()),
                    Err(e) => Err(lab_error(&e)),
                },
            )
        })
    }

    /// Start a paused, throwaway 32 MiB domain with the guest's CPU, machine and emulator, then
    /// destroy it: QEMU itself says whether it can give that CPU. `compare_cpu` cannot see
    /// everything (a TCG guest, a QEMU that masks features), and this is what a migration's
    /// destination does first. Auto-destroyed with the connection should we die in between.
    /// `Ok(())` when it started; libvirt's error when it did not.
    pub fn trial_start(&self, d: &DomainFacts) -> Result<Result<(), LabError>, LabError> {
        let xml = trial_domain_xml(d, std::process::id());
        self.ask("start a paused CPU probe domain", call::CONNECT, move |c| {
            let flags =
                virt::sys::VIR_DOMAIN_START_PAUSED | virt::sys::VIR_DOMAIN_START_AUTODESTROY;
            Ok(match c.create_domain_xml(&xml, flags) {
                Ok(dom) => {
                    let _ = dom.destroy();
                    Ok(())
                }
                Err(e) => Err(lab_error(&e)),
            })
        })
    }

    /// Does this host's QEMU know the machine type? `Err` carries libvirt's refusal.
    pub fn knows_machine(&self, d: &DomainFacts) -> Result<Result<(), LabError>, LabError> {
        let (arch, machine, virt_type) = (d.arch.clone(), d.machine.clone(), d.virt_type.clone());
        self.ask("read domain capabilities", call::QUICK, move |c| {
            Ok(
                c.domain_capabilities(None, Some(&arch), Some(&machine), Some(&virt_type), 0)
                    .map(|_| ())
                    .map_err(|e| lab_error(&e)),
            )
        })
    }

    /// Names of the host's network interfaces that libvirt can see (`virsh iface-list --all`),
    /// or `None` when this libvirtd has no interface driver.
    pub fn interfaces(&self) -> Result<Option<Vec<String>>, LabError> {
        self.ask("list interfaces", call::QUICK, |c| {
            match c.list_all_interfaces(0) {
                Ok(list) => Ok(Some(
                    list.iter()
                        .filter_map(|i| i.name().ok())
                        .collect::<Vec<_>>(),
                )),
                Err(_) => Ok(None),
            }
        })
    }

    /// Where each active storage pool keeps its volumes, and the volumes it lists after a
    /// refresh (so a vanished mount shows as a missing file).
    pub fn pools(&self) -> Result<Vec<PoolView>, LabError> {
        self.ask("list storage pools", call::QUICK, |c| {
            let pools =
                match c.list_all_storage_pools(virt::sys::VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE) {
                    Ok(p) => p,
                    // No storage driver on that host: nothing can be said about its disks.
                    Err(_) => return Ok(Vec::new()),
                };
            let mut out = Vec::new();
            for p in pools {
                let Ok(xml) = p.xml_desc(0) else { continue };
                let Some(target) = pool_target(&xml) else {
                    continue;
                };
                let _ = p.refresh(0);
                out.push(PoolView {
                    name: p.name().unwrap_or_default(),
                    target,
                    volumes: p.list_volumes().unwrap_or_default(),
                });
            }
            Ok(out)
        })
    }
}

/// A storage pool as preflight sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolView {
    /// Pool name.
    pub name: String,
    /// Directory the pool keeps its volumes in.
    pub target: String,
    /// Volume (file) names in it.
    pub volumes: Vec<String>,
}

/// The probe domain of [`RealHost::trial_start`]: the guest's CPU on an empty machine.
fn trial_domain_xml(d: &DomainFacts, pid: u32) -> String {
    let emulator = d
        .emulator
        .as_deref()
        .map(|e| format!("<devices><emulator>{e}</emulator></devices>"))
        .unwrap_or_default();
    format!(
        "<domain type='{}'><name>migralab-cpu-check-{pid}</name><memory unit='MiB'>32</memory>\
         <vcpu>1</vcpu><os><type arch='{}' machine='{}'>hvm</type></os>{}{emulator}</domain>",
        d.virt_type,
        d.arch,
        d.machine,
        d.cpu_xml.as_deref().unwrap_or("")
    )
}

fn pool_target(xml: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let path = doc
        .descendants()
        .find(|n| n.has_tag_name("target"))?
        .children()
        .find(|n| n.has_tag_name("path"))?
        .text()?
        .trim()
        .to_string();
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_unpack_as_virsh_prints_them() {
        assert_eq!(version_text(11_003_000), "11.3.0");
        assert_eq!(version_text(10_000_002), "10.0.2");
    }

    #[test]
    fn the_cpu_probe_domain_carries_the_guests_cpu_and_nothing_else() {
        let d = DomainFacts {
            virt_type: "qemu".into(),
            arch: "x86_64".into(),
            machine: "pc-i440fx-10.0".into(),
            emulator: Some("/usr/bin/qemu-system-x86_64".into()),
            cpu_xml: Some("<cpu mode='custom'><model>qemu64</model></cpu>".into()),
            disks: vec!["/x.qcow2".into()],
            ..DomainFacts::default()
        };
        let xml = trial_domain_xml(&d, 42);
        let parsed = crate::domain_xml::domain_facts(&xml).unwrap_or_default();
        assert_eq!(parsed.name, "migralab-cpu-check-42");
        assert_eq!(parsed.virt_type, "qemu");
        assert_eq!(parsed.machine, "pc-i440fx-10.0");
        assert_eq!(parsed.memory_kib, 32 * 1024);
        assert_eq!(parsed.cpu_xml, d.cpu_xml);
        assert!(parsed.disks.is_empty() && parsed.bridges.is_empty());
    }

    #[test]
    fn a_pool_target_is_read_from_its_xml() {
        let xml = "<pool type='dir'><name>default</name><target><path>/var/lib/libvirt/images</path></target></pool>";
        assert_eq!(pool_target(xml).as_deref(), Some("/var/lib/libvirt/images"));
        assert_eq!(pool_target("<pool/>"), None);
    }
}
