//! Which domains each host has defined or running, as `virsh list --all` shows them, and how a
//! migration changes that. This is where the lesson's `--persistent` myth is corrected: after a
//! successful migration the source keeps its definition (shut off) unless `--undefinesource` was
//! given, and without `--persistent` the destination's copy is transient.

use crate::error::LabError;
use crate::scenario::{MigrationSpec, Scenario, VmState};
use crate::trace::Outcome;
use serde::{Deserialize, Serialize};

/// State of a domain as `virsh list` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DomainState {
    /// Running.
    Running,
    /// Paused (e.g. the incoming side of a migration).
    Paused,
    /// Defined but not running.
    ShutOff,
}

impl DomainState {
    /// The word `virsh list` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            DomainState::Running => "running",
            DomainState::Paused => "paused",
            DomainState::ShutOff => "shut off",
        }
    }
}

/// Why a domain is in its state, as `virsh domstate --reason` prints it (the words of
/// tools/virsh-domain-monitor.c's `virshDomain*Reason` tables, libvirt 11.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum StateReason {
    /// Defined and never started (`VIR_DOMAIN_SHUTOFF_UNKNOWN`), or not known.
    #[default]
    Unknown,
    /// Started on this host (`VIR_DOMAIN_RUNNING_BOOTED`).
    Booted,
    /// Arrived by migration (running) or left by migration (shut off): libvirt's
    /// `VIR_DOMAIN_RUNNING_MIGRATED` on the destination, `VIR_DOMAIN_SHUTOFF_MIGRATED` on the
    /// source (qemuMigrationDstFinish*, qemuMigrationSrcConfirmPhase).
    Migrated,
    /// Paused while a migration runs (`VIR_DOMAIN_PAUSED_MIGRATION`): the incoming domain.
    Migrating,
    /// Powered off by the guest (`VIR_DOMAIN_SHUTOFF_SHUTDOWN`).
    Shutdown,
    /// Pulled off by `virsh destroy` (`VIR_DOMAIN_SHUTOFF_DESTROYED`).
    Destroyed,
    /// Left paused on the source because the migration failed after the post-copy switch
    /// (`VIR_DOMAIN_PAUSED_POSTCOPY_FAILED`): its memory is split between the hosts.
    PostcopyFailed,
}

impl StateReason {
    /// The word `virsh domstate --reason` prints in parentheses.
    pub fn as_str(self) -> &'static str {
        match self {
            StateReason::Unknown => "unknown",
            StateReason::Booted => "booted",
            StateReason::Migrated => "migrated",
            StateReason::Migrating => "migrating",
            StateReason::Shutdown => "shutdown",
            StateReason::Destroyed => "destroyed",
            StateReason::PostcopyFailed => "post-copy failed",
        }
    }
}

/// One domain on one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    /// Domain name.
    pub name: String,
    /// Running, paused or shut off.
    pub state: DomainState,
    /// Why it is in that state (`virsh domstate --reason`).
    #[serde(default)]
    pub reason: StateReason,
    /// Has a persistent definition on this host (else transient: gone once it stops).
    pub persistent: bool,
    /// Domain id while active (`virsh list` shows `-` for inactive domains).
    pub id: Option<u32>,
}

/// A change of a domain's state typed in a shell (`virsh start/shutdown/destroy/undefine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DomainOp {
    /// `virsh start`: a defined, shut-off domain boots.
    Start,
    /// `virsh shutdown`: the guest powers off (at once here; a real guest takes a while).
    Shutdown,
    /// `virsh destroy`: the guest is pulled off at once.
    Destroy,
    /// `virsh undefine`: the definition is removed (a running domain becomes transient).
    Undefine,
    /// `virsh migrate --offline --persistent` arriving: the definition is copied here, shut off
    /// (an existing domain of that name just becomes persistent).
    Define,
}

/// Domains of every host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct World {
    hosts: Vec<(String, Vec<Domain>)>,
    next_id: u32,
}

impl World {
    /// The lab at the start of a scenario: every VM on its host, running or shut off.
    pub fn from_scenario(s: &Scenario) -> World {
        let mut w = World {
            hosts: s
                .hosts
                .iter()
                .map(|h| (h.name.clone(), Vec::new()))
                .collect(),
            next_id: 1,
        };
        for vm in &s.vms {
            let running = vm.state == VmState::Running;
            let id = running.then(|| w.take_id());
            let dom = Domain {
                name: vm.name.clone(),
                state: if running {
                    DomainState::Running
                } else {
                    DomainState::ShutOff
                },
                reason: if running {
                    StateReason::Booted
                } else {
                    StateReason::Unknown
                },
                persistent: vm.persistent,
                id,
            };
            if let Some(list) = w.list_mut(&vm.host) {
                list.push(dom);
            }
        }
        w
    }

    fn take_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    fn list_mut(&mut self, host: &str) -> Option<&mut Vec<Domain>> {
        self.hosts
            .iter_mut()
            .find(|(h, _)| h == host)
            .map(|(_, l)| l)
    }

    /// The domains of `host` (empty for an unknown host).
    pub fn domains_on(&self, host: &str) -> &[Domain] {
        self.hosts
            .iter()
            .find(|(h, _)| h == host)
            .map_or(&[], |(_, l)| l.as_slice())
    }

    /// The domain `name` on `host`.
    pub fn domain(&self, host: &str, name: &str) -> Option<&Domain> {
        self.domains_on(host).iter().find(|d| d.name == name)
    }

    /// The host where `name` is running (or paused), if any.
    pub fn running_on(&self, name: &str) -> Option<&str> {
        self.hosts
            .iter()
            .find(|(_, l)| {
                l.iter()
                    .any(|d| d.name == name && d.state != DomainState::ShutOff)
            })
            .map(|(h, _)| h.as_str())
    }

    /// A migration started: the destination shows an incoming, paused, transient domain.
    pub fn migration_started(&mut self, spec: &MigrationSpec) {
        let id = self.take_id();
        if let Some(list) = self.list_mut(&spec.to)
            && !list
                .iter()
                .any(|d| d.name == spec.vm && d.state != DomainState::ShutOff)
        {
            list.retain(|d| d.name != spec.vm);
            list.push(Domain {
                name: spec.vm.clone(),
                state: DomainState::Paused,
                reason: StateReason::Migrating,
                persistent: false,
                id: Some(id),
            });
        }
    }

    /// A migration ended: apply libvirt's rules for definitions on both sides.
    pub fn migration_finished(&mut self, spec: &MigrationSpec, from: &str, outcome: &Outcome) {
        self.migration_ended(spec, from, outcome, false);
    }

    /// [`World::migration_finished`], where `lost` says the job failed after the post-copy
    /// switch: the guest's memory is split between the hosts, and libvirt leaves it paused on the
    /// source (it cannot run there any more).
    pub fn migration_ended(
        &mut self,
        spec: &MigrationSpec,
        from: &str,
        outcome: &Outcome,
        lost: bool,
    ) {
        let vm = spec.vm.as_str();
        if lost
            && let Some(list) = self.list_mut(from)
            && let Some(d) = list.iter_mut().find(|d| d.name == vm)
        {
            d.state = DomainState::Paused;
            d.reason = StateReason::PostcopyFailed;
        }
        if !outcome.is_completed() {
            // The incoming domain on the destination is torn down; the source is untouched.
            if let Some(list) = self.list_mut(&spec.to) {
                list.retain(|d| !(d.name == vm && d.state == DomainState::Paused && !d.persistent));
            }
            return;
        }
        if let Some(list) = self.list_mut(from)
            && let Some(pos) = list.iter().position(|d| d.name == vm)
        {
            let keep = list[pos].persistent && !spec.undefinesource;
            if keep {
                list[pos].state = DomainState::ShutOff;
                list[pos].reason = StateReason::Migrated;
                list[pos].id = None;
            } else {
                list.remove(pos);
            }
        }
        // The incoming domain becomes the running one: it keeps its id.
        let incoming = self.domain(&spec.to, vm).and_then(|d| d.id);
        let id = incoming.unwrap_or_else(|| self.take_id());
        if let Some(list) = self.list_mut(&spec.to) {
            list.retain(|d| d.name != vm);
            list.push(Domain {
                name: vm.to_string(),
                state: DomainState::Running,
                reason: StateReason::Migrated,
                persistent: spec.persistent,
                id: Some(id),
            });
        }
    }

    /// `virsh start/shutdown/destroy/undefine NAME` on `host`, refused as libvirt refuses it.
    /// A domain that stops and is not persistent disappears; undefining a running domain makes
    /// it transient.
    pub fn apply_op(&mut self, host: &str, name: &str, op: DomainOp) -> Result<(), LabError> {
        let id = self.next_id;
        let Some(list) = self.list_mut(host) else {
            return Err(LabError::NoSuchDomain { name: name.into() });
        };
        if op == DomainOp::Define {
            match list.iter_mut().find(|d| d.name == name) {
                Some(d) => d.persistent = true,
                None => list.push(Domain {
                    name: name.to_string(),
                    state: DomainState::ShutOff,
                    reason: StateReason::Unknown,
                    persistent: true,
                    id: None,
                }),
            }
            return Ok(());
        }
        let Some(pos) = list.iter().position(|d| d.name == name) else {
            return Err(LabError::NoSuchDomain { name: name.into() });
        };
        let not_running = || LabError::InvalidOperation("domain is not running".into());
        let d = &mut list[pos];
        match op {
            DomainOp::Start => {
                if d.state != DomainState::ShutOff {
                    // virsh's own check, before it asks libvirt (tools/virsh-domain.c cmdStart).
                    return Err(LabError::Libvirt {
                        code: None,
                        message: "Domain is already active".into(),
                    });
                }
                d.state = DomainState::Running;
                d.reason = StateReason::Booted;
                d.id = Some(id);
                self.next_id += 1;
            }
            DomainOp::Shutdown | DomainOp::Destroy => {
                if d.state == DomainState::ShutOff {
                    return Err(not_running());
                }
                if d.persistent {
                    d.state = DomainState::ShutOff;
                    d.reason = if op == DomainOp::Shutdown {
                        StateReason::Shutdown
                    } else {
                        StateReason::Destroyed
                    };
                    d.id = None;
                } else {
                    list.remove(pos);
                }
            }
            DomainOp::Define => {}
            DomainOp::Undefine => {
                if !d.persistent {
                    return Err(LabError::InvalidOperation(
                        "cannot undefine transient domain".into(),
                    ));
                }
                if d.state == DomainState::ShutOff {
                    list.remove(pos);
                } else {
                    d.persistent = false;
                }
            }
        }
        Ok(())
    }

    /// `virsh list` (running domains) or `virsh list --all` on `host`, as virsh prints it.
    pub fn virsh_list(&self, host: &str, all: bool) -> String {
        self.virsh_list_where(host, |d| all || d.state != DomainState::ShutOff)
    }

    /// `virsh list` with its other filters (`--inactive`, `--state-*`, `--persistent`, ...):
    /// the domains of `host` for which `keep` holds, laid out as [`World::virsh_list`] does.
    pub fn virsh_list_where(&self, host: &str, keep: impl Fn(&Domain) -> bool) -> String {
        let mut rows: Vec<(String, String, String)> = Vec::new();
        let mut doms: Vec<&Domain> = self.domains_on(host).iter().filter(|d| keep(d)).collect();
        // Active domains by id first, then inactive ones by name, as virsh sorts them.
        doms.sort_by(|a, b| match (a.id, b.id) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.name.cmp(&b.name),
        });
        for d in doms {
            rows.push((
                d.id.map_or("-".into(), |i| i.to_string()),
                d.name.clone(),
                d.state.as_str().to_string(),
            ));
        }
        let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(2);
        let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(4);
        let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(5);
        // The last column is not padded: no trailing blanks.
        let mut out = format!(" {:<w0$}   {:<w1$}   State\n", "Id", "Name");
        // vshTablePrint (tools/vsh-table.c): each column's widest cell plus 3 dashes.
        out.push_str(&"-".repeat(w0 + w1 + w2 + 9));
        out.push('\n');
        for (id, name, state) in rows {
            out.push_str(&format!(" {id:<w0$}   {name:<w1$}   {state}\n"));
        }
        out.push('\n');
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn lab() -> Scenario {
        Scenario::from_toml_str(
            "name='t'\n[[host]]\nname='a'\n[[host]]\nname='b'\n[link]\nbandwidth_mibps=100.0\n[storage]\nkind='shared'\n[[vm]]\nname='db01'\nhost='a'\nram_mib=64\n[[vm]]\nname='web'\nhost='a'\nram_mib=64\nstate='shut-off'\n[[migration]]\nvm='db01'\nto='b'\n",
        )
        .unwrap()
    }

    fn done() -> Outcome {
        Outcome::Completed {
            total_ms: 1,
            downtime_ms: 1,
            memory_bytes: 1,
            disk_bytes: 0,
            iterations: 3,
        }
    }

    #[test]
    fn persistent_keeps_the_source_definition_and_undefinesource_removes_it() {
        let s = lab();
        let mut spec = s.migrations[0].clone();
        spec.persistent = true;
        let mut w = World::from_scenario(&s);
        w.migration_started(&spec);
        assert_eq!(
            w.domain("b", "db01").map(|d| d.state),
            Some(DomainState::Paused)
        );
        w.migration_finished(&spec, "a", &done());
        assert_eq!(
            w.domain("a", "db01").map(|d| (d.state, d.persistent)),
            Some((DomainState::ShutOff, true))
        );
        assert_eq!(
            w.domain("b", "db01").map(|d| (d.state, d.persistent)),
            Some((DomainState::Running, true))
        );
        assert_eq!(
            w.domain("b", "db01").and_then(|d| d.id),
            Some(2),
            "the incoming domain keeps its id"
        );

        let mut spec2 = spec.clone();
        spec2.undefinesource = true;
        let mut w = World::from_scenario(&s);
        w.migration_finished(&spec2, "a", &done());
        assert!(w.domain("a", "db01").is_none());
    }

    #[test]
    fn without_persistent_the_destination_copy_is_transient() {
        let s = lab();
        let mut w = World::from_scenario(&s);
        w.migration_finished(&s.migrations[0], "a", &done());
        assert_eq!(w.domain("b", "db01").map(|d| d.persistent), Some(false));
    }

    #[test]
    fn a_failed_migration_changes_nothing_on_the_source() {
        let s = lab();
        let mut w = World::from_scenario(&s);
        w.migration_started(&s.migrations[0]);
        w.migration_finished(&s.migrations[0], "a", &Outcome::Aborted { at_ms: 5 });
        assert_eq!(
            w.domain("a", "db01").map(|d| d.state),
            Some(DomainState::Running)
        );
        assert!(w.domain("b", "db01").is_none());
    }

    #[test]
    fn issue_20_reasons_follow_libvirt_through_a_migration() {
        let s = lab();
        let mut spec = s.migrations[0].clone();
        spec.persistent = true;
        let mut w = World::from_scenario(&s);
        assert_eq!(w.domain("a", "db01").unwrap().reason, StateReason::Booted);
        assert_eq!(w.domain("a", "web").unwrap().reason, StateReason::Unknown);
        w.migration_started(&spec);
        let incoming = w.domain("b", "db01").unwrap();
        assert_eq!(
            (incoming.state, incoming.reason),
            (DomainState::Paused, StateReason::Migrating)
        );
        w.migration_finished(&spec, "a", &done());
        let src = w.domain("a", "db01").unwrap();
        let dst = w.domain("b", "db01").unwrap();
        assert_eq!(
            (src.state, src.reason),
            (DomainState::ShutOff, StateReason::Migrated)
        );
        assert_eq!(
            (dst.state, dst.reason),
            (DomainState::Running, StateReason::Migrated)
        );
        w.apply_op("b", "db01", DomainOp::Destroy).unwrap();
        assert_eq!(
            w.domain("b", "db01").unwrap().reason,
            StateReason::Destroyed
        );
        w.apply_op("b", "db01", DomainOp::Start).unwrap();
        assert_eq!(w.domain("b", "db01").unwrap().reason, StateReason::Booted);
    }

    #[test]
    fn virsh_list_shows_running_and_with_all_also_shut_off() {
        let w = World::from_scenario(&lab());
        let list = w.virsh_list("a", false);
        assert!(list.starts_with(" Id   Name   State\n"), "{list}");
        assert!(list.contains(" 1    db01   running"), "{list}");
        assert!(!list.contains("web"));
        let all = w.virsh_list("a", true);
        assert!(all.contains(" -    web    shut off"), "{all}");
        let inactive = w.virsh_list_where("a", |d| d.state == DomainState::ShutOff);
        assert!(
            inactive.contains("web") && !inactive.contains("db01"),
            "{inactive}"
        );
    }

    #[test]
    fn start_shutdown_destroy_undefine_follow_libvirt() {
        let mut w = World::from_scenario(&lab());
        assert_eq!(
            w.apply_op("a", "db01", DomainOp::Start)
                .unwrap_err()
                .to_string(),
            "Domain is already active"
        );
        w.apply_op("a", "web", DomainOp::Start).unwrap();
        assert_eq!(
            w.domain("a", "web").map(|d| (d.state, d.id)),
            Some((DomainState::Running, Some(2)))
        );
        w.apply_op("a", "web", DomainOp::Shutdown).unwrap();
        assert_eq!(
            w.apply_op("a", "web", DomainOp::Destroy)
                .unwrap_err()
                .to_string(),
            "Requested operation is not valid: domain is not running"
        );
        // Undefining a running domain leaves it running, transient; destroying it then removes it.
        w.apply_op("a", "db01", DomainOp::Undefine).unwrap();
        assert_eq!(w.domain("a", "db01").map(|d| d.persistent), Some(false));
        assert_eq!(
            w.apply_op("a", "db01", DomainOp::Undefine)
                .unwrap_err()
                .to_string(),
            "Requested operation is not valid: cannot undefine transient domain"
        );
        w.apply_op("a", "db01", DomainOp::Destroy).unwrap();
        assert!(w.domain("a", "db01").is_none());
        w.apply_op("a", "web", DomainOp::Undefine).unwrap();
        assert!(w.domains_on("a").is_empty());
        assert_eq!(
            w.apply_op("b", "web", DomainOp::Start)
                .unwrap_err()
                .to_string(),
            "failed to get domain 'web'"
        );
    }
}
