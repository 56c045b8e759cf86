//! The simulator: drives every migration, the shared link and the prober through simulated time,
//! in fixed ticks. State changes inside a tick carry their exact instant (a sync, a pause, the end
//! of a transfer), so the tick only bounds how often link capacity is re-shared.

use crate::cpu::PassthroughOutcome;
use crate::error::LabError;
use crate::lab::{Lab, LabCommand};
use crate::migration::{Grant, Migration, Verdict};
use crate::ping::ProbeTracker;
use crate::preflight::{CheckId, CheckStatus, Stage, passthrough_outcome, preflight};
use crate::rng::{FastRng, SeedTree};
use crate::scenario::{EtcHosts, MigrationSpec, Scenario, StorageKind, VmSpec, VmState};
use crate::time::{SimDuration, SimTime};
use crate::trace::{TRACE_FORMAT, Trace, TraceEvent, TraceKind};
use crate::world::{DomainOp, World};
use std::collections::{BTreeMap, VecDeque};

/// What preflight finds for migrating `vm` as `spec` says in `scenario`: the state machine acts
/// on it at the stage where libvirt would.
fn verdict(scenario: &Scenario, spec: &MigrationSpec, vm: &VmSpec) -> Verdict {
    let (failure, unreachable_after) = match preflight(scenario, spec) {
        Ok(report) => (
            report
                .first_failure()
                .and_then(|c| c.error.clone().map(|e| (c.stage, e))),
            report
                .check(CheckId::SameSubnet)
                .is_some_and(|c| c.status == CheckStatus::Warn),
        ),
        Err(e) => (Some((Stage::Connect, e)), false),
    };
    let host = |name: &str| scenario.hosts.iter().find(|h| h.name == name);
    let faults_after = match (host(&vm.host), host(&spec.to)) {
        (Some(src), Some(dst)) => match passthrough_outcome(vm, src, dst) {
            Some(PassthroughOutcome::FaultsLater { instructions, .. }) => instructions,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    };
    Verdict {
        failure,
        unreachable_after,
        faults_after,
    }
}

/// Granularity at which the link is re-shared between migrations.
pub const TICK: SimDuration = SimDuration::from_millis(10);

/// Per-VM random streams, derived once in scenario order so adding a migration never shifts
/// another VM's randomness.
#[derive(Debug, Clone)]
struct VmRngs {
    workload: FastRng,
    disk: FastRng,
}

/// A deterministic run of a scenario. Clone: the app rewinds a lab to replay a line.
#[derive(Debug, Clone)]
pub struct Simulator {
    scenario: Scenario,
    now: SimTime,
    migrations: Vec<Migration>,
    rngs: Vec<VmRngs>,
    prober: Option<ProbeTracker>,
    outbox: VecDeque<TraceEvent>,
    /// When probing stops: the last migration's end plus the prober's tail.
    stop_at: Option<SimTime>,
    /// Which domains each host has, updated as migrations start and end.
    world: World,
    /// What each guest's kernel logged during the run (`ssh VM-IP dmesg`), oldest first.
    guest_logs: BTreeMap<String, Vec<String>>,
    /// Work one migration may do before it is stopped (see [`crate::budget`]).
    work_limit: u64,
}

/// How long the lab's guests have been up when the lab starts (their kernel log's clock).
const GUEST_UPTIME_AT_START: SimDuration = SimDuration::from_secs(3 * 3600);

/// The kernel's line for a program killed by an invalid opcode (`do_trap` → `show_signal` in
/// arch/x86/kernel/traps.c: "traps: %s[%d] trap %s ip:%lx sp:%lx error:%lx", then
/// `print_vma_addr`'s " in %s[%lx+%lx]"). The lab's guests run one program, `worker`, built for
/// the newest instructions of the CPU it started on (as glibc and crypto libraries choose theirs
/// once, at start-up); `feature` is the one it meets first. Addresses are made up but stable.
fn guest_sigill_line(t: SimTime, feature: &str, salt: usize) -> String {
    let up = t.since(SimTime::ZERO) + GUEST_UPTIME_AT_START;
    let ms = up.as_millis();
    let pid = 1187 + salt * 211;
    let base = 0x5581_6a40_0000_u64 + (salt as u64) * 0x10_0000;
    let ip = base + 0x2_1f3c + (feature.len() as u64) * 0x40;
    format!(
        "[{:>5}.{:06}] traps: worker[{pid}] trap invalid opcode ip:{ip:x} sp:7ffc9e2b{:04x} error:0 in worker[{base:x}+3c000]",
        ms / 1000,
        (ms % 1000) * 1000,
        0x1a40 + salt * 0x20
    )
}

impl Simulator {
    /// A simulator for `scenario`, with its migrations queued at their `start_ms`.
    pub fn new(scenario: Scenario) -> Self {
        let mut seeds = SeedTree::new(scenario.seed);
        let rngs: Vec<VmRngs> = scenario
            .vms
            .iter()
            .map(|_| VmRngs {
                workload: seeds.derive(),
                disk: seeds.derive(),
            })
            .collect();
        let prober_rng = seeds.derive();
        let target = scenario
            .prober
            .target
            .clone()
            .or_else(|| scenario.migrations.first().map(|m| m.vm.clone()))
            .or_else(|| scenario.vms.first().map(|v| v.name.clone()));
        let prober = match target {
            Some(t) if scenario.prober.enabled => {
                Some(ProbeTracker::new(&scenario.prober, t, prober_rng))
            }
            _ => None,
        };
        let world = World::from_scenario(&scenario);
        let scenario_migrations = scenario.migrations.len();
        let mut sim = Simulator {
            world,
            guest_logs: BTreeMap::new(),
            scenario,
            now: SimTime::ZERO,
            migrations: Vec::new(),
            rngs,
            prober,
            outbox: VecDeque::new(),
            stop_at: None,
            work_limit: crate::budget::work_per_migration(scenario_migrations),
        };
        let specs = sim.scenario.migrations.clone();
        for spec in &specs {
            // Validated scenarios always name an existing VM; a stray one is reported, not panicked on.
            if let Err(e) = sim.add_migration(spec) {
                sim.push(
                    SimTime::ZERO,
                    "lab",
                    TraceKind::Log {
                        message: e.virsh_line(),
                    },
                );
            }
        }
        sim
    }

    fn add_migration(&mut self, spec: &MigrationSpec) -> Result<(), LabError> {
        let idx = self
            .scenario
            .vms
            .iter()
            .position(|v| v.name == spec.vm)
            .ok_or_else(|| LabError::NoSuchDomain {
                name: spec.vm.clone(),
            })?;
        if !self.scenario.hosts.iter().any(|h| h.name == spec.to) {
            return Err(LabError::ConnectFailed {
                detail: format!(
                    "Cannot recv data: ssh: Could not resolve hostname {}: Name or service not known: Connection reset by peer",
                    spec.to
                ),
            });
        }
        if self
            .migrations
            .iter()
            .any(|m| m.vm_name() == spec.vm && !m.is_done())
        {
            return Err(LabError::InvalidOperation(
                "another migration job is already running for domain".into(),
            ));
        }
        let vm = &self.scenario.vms[idx];
        let rngs = &self.rngs[idx];
        self.migrations.push(Migration::new(
            &self.scenario.sim,
            spec,
            vm,
            verdict(&self.scenario, spec, vm),
            rngs.workload.clone(),
            rngs.disk.clone(),
        ));
        self.stop_at = None;
        Ok(())
    }

    /// The same simulator with another work limit per migration (tests use a small one to
    /// reach it quickly; runs keep [`crate::budget::work_per_migration`]'s).
    pub fn with_work_limit(mut self, units: u64) -> Self {
        self.work_limit = units;
        self
    }

    /// The scenario being run.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Current simulated time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The migrations, in the order they were started.
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }

    /// When the next step happens, or `None` once the run is over (every migration ended and the
    /// prober's tail has passed).
    pub fn next_event_at(&self) -> Option<SimTime> {
        match self.stop_at {
            Some(stop) if self.now >= stop + TICK => None,
            _ => Some(self.now + TICK),
        }
    }

    /// Is the run over?
    pub fn is_finished(&self) -> bool {
        self.next_event_at().is_none()
    }

    /// Run one tick.
    pub fn step(&mut self) {
        let now = self.now;
        let dt = TICK;
        let capacity_bps = self.scenario.link.bytes_per_sec();
        let demands: Vec<u64> = self.migrations.iter().map(|m| m.demand(now, dt)).collect();
        let grants = share_link(&demands, capacity_bps, dt);
        for (m, g) in self.migrations.iter_mut().zip(grants) {
            m.run_tick(now, dt, g);
            if m.work() > self.work_limit {
                m.stop_at_work_limit(now + dt);
            }
        }
        let mut produced = Vec::new();
        for m in &mut self.migrations {
            let name = m.vm_name().to_string();
            produced.extend(m.drain_events().map(|(t, k)| (t, name.clone(), k)));
        }
        for (t, source, kind) in produced {
            self.update_world(t, &source, &kind);
            self.push(t, &source, kind);
        }
        self.now = now + dt;
        if self.stop_at.is_none() && self.migrations.iter().all(Migration::is_done) {
            let last = self
                .migrations
                .iter()
                .filter_map(Migration::finished_at)
                .max()
                .unwrap_or(self.now);
            self.stop_at = Some(last + SimDuration::from_ms_f64(self.scenario.prober.tail_ms));
        }
        if let Some(p) = &mut self.prober {
            let outages = self
                .migrations
                .iter()
                .find(|m| m.vm_name() == p.target())
                .map_or(&[][..], |m| m.outages());
            let stop = self.stop_at.unwrap_or(SimTime(u64::MAX));
            for s in p.poll(self.now, stop, outages) {
                let t = SimTime::ZERO + SimDuration::from_ms_f64(s.sent_ms);
                self.outbox.push_back(TraceEvent {
                    t_ms: t.as_ms_f64(),
                    source: "prober".into(),
                    kind: TraceKind::Ping(s),
                });
            }
        }
    }

    /// Keep `virsh list` in step with the migrations' phases.
    fn update_world(&mut self, t: SimTime, vm: &str, kind: &TraceKind) {
        let Some(m) = self.migrations.iter().rev().find(|m| m.vm_name() == vm) else {
            return;
        };
        match kind {
            TraceKind::Phase {
                phase: crate::trace::Phase::Setup,
            } => self.world.migration_started(m.spec()),
            TraceKind::Finished(outcome) => {
                let from = m.source_host().to_string();
                let spec = m.spec().clone();
                self.world
                    .migration_ended(&spec, &from, outcome, m.guest_lost());
                if outcome.is_completed() {
                    if let Some(first) = m.faults_after().first() {
                        let line = guest_sigill_line(t, first, self.guest_logs.len());
                        self.guest_logs
                            .entry(vm.to_string())
                            .or_default()
                            .push(line);
                    }
                    // The guest lives on the destination now: a later migration starts there.
                    if let Some(v) = self.scenario.vms.iter_mut().find(|v| v.name == spec.vm) {
                        v.host = spec.to.clone();
                    }
                }
            }
            _ => {}
        }
    }

    /// What `vm`'s kernel has logged in this run (empty for most guests), oldest first.
    pub fn guest_log(&self, vm: &str) -> &[String] {
        self.guest_logs.get(vm).map_or(&[], Vec::as_slice)
    }

    /// Which domains each host has right now.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// `virsh start/shutdown/destroy/undefine VM` typed on `host` (the shell's commands): the
    /// world changes as libvirt would change it, and so does the scenario's view of the guest
    /// (its host and whether it runs), so the next migration's preflight sees the new state.
    ///
    /// Refused while a migration job of the domain runs (libvirt holds the domain's job lock),
    /// and `start` is refused while the guest runs elsewhere on the same shared disk (QEMU's
    /// image locking).
    pub fn handle_domain_op(&mut self, host: &str, vm: &str, op: DomainOp) -> Result<(), LabError> {
        if self
            .migrations
            .iter()
            .any(|m| m.vm_name() == vm && !m.is_done())
        {
            // libvirt's VIR_ERR_OPERATION_TIMEOUT for a domain whose job lock is held; the
            // holder's name varies with the migration API (not verified word for word).
            return Err(LabError::Libvirt {
                code: None,
                message: "Timed out during operation: cannot acquire state change lock (held by monitor=remoteDispatchDomainMigratePerform3Params)".into(),
            });
        }
        if op == DomainOp::Start
            && self.world.domain(host, vm).is_some()
            && let Some(other) = self.world.running_on(vm)
            && other != host
            && let Some(spec) = self.scenario.vms.iter().find(|v| v.name == vm)
            && spec.disk_bytes() > 0
            && self.scenario.storage.kind == StorageKind::Shared
            && self.scenario.storage.visible_on(host)
        {
            let path = spec.disk_path(&self.scenario.storage);
            // QEMU's image locking as libvirt reports it (real messages also carry a timestamp
            // and the full -blockdev JSON).
            return Err(LabError::Internal(format!(
                "process exited while connecting to monitor: qemu-system-x86_64: -blockdev {{\"driver\":\"file\",\"filename\":\"{path}\",\"node-name\":\"libvirt-1-storage\"}}: Failed to get \"write\" lock\nIs another process using the image [{path}]?"
            )));
        }
        self.world.apply_op(host, vm, op)?;
        if let Some(spec) = self.scenario.vms.iter_mut().find(|v| v.name == vm) {
            match op {
                DomainOp::Start => {
                    spec.host = host.to_string();
                    spec.state = VmState::Running;
                }
                DomainOp::Shutdown | DomainOp::Destroy if spec.host == host => {
                    spec.state = VmState::ShutOff;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// `virsh change-media VM sda --eject`: the VM's CD-ROM drive is left without media (later
    /// migrations no longer need the image). False when the VM has no drive.
    pub fn eject_cdrom(&mut self, vm: &str) -> bool {
        match self
            .scenario
            .vms
            .iter_mut()
            .find(|v| v.name == vm)
            .and_then(|v| v.cdrom.as_mut())
        {
            Some(media) => {
                media.clear();
                true
            }
            None => false,
        }
    }

    /// A new `/etc/hosts` for `host` (a student fixed name resolution); later migrations
    /// resolve names with it.
    pub fn set_etc_hosts(&mut self, host: &str, entries: EtcHosts) {
        if let Some(h) = self.scenario.hosts.iter_mut().find(|h| h.name == host) {
            h.etc_hosts = Some(entries);
        }
    }

    /// `ssh-copy-id root@host` typed on `from`: `host` now accepts root's key from `from`.
    pub fn trust_ssh_key(&mut self, host: &str, from: &str) {
        if let Some(h) = self.scenario.hosts.iter_mut().find(|h| h.name == host)
            && let Some(list) = &mut h.ssh_trusts
            && !list.iter().any(|x| x == from)
        {
            list.push(from.to_string());
        }
    }

    /// Let simulated time pass until `t`, whether or not anything is running (the shell's clock:
    /// `ping -c 10` takes ten seconds of lab time).
    pub fn advance_to(&mut self, t: SimTime) {
        while self.now < t {
            self.step();
        }
    }

    /// The newest migration of `vm`, if it ever had one.
    pub fn migration_of(&self, vm: &str) -> Option<&Migration> {
        self.migrations.iter().rev().find(|m| m.vm_name() == vm)
    }

    fn push(&mut self, t: SimTime, source: &str, kind: TraceKind) {
        self.outbox.push_back(TraceEvent {
            t_ms: t.as_ms_f64(),
            source: source.to_string(),
            kind,
        });
    }

    /// Take the next trace event produced so far.
    pub fn poll_trace(&mut self) -> Option<TraceEvent> {
        self.outbox.pop_front()
    }

    /// Apply a command now.
    pub fn apply(&mut self, cmd: LabCommand) -> Result<(), LabError> {
        let now = self.now;
        let find = |migs: &mut Vec<Migration>, vm: &str| -> Result<usize, LabError> {
            migs.iter()
                .rposition(|m| m.vm_name() == vm && !m.is_done())
                .ok_or_else(|| LabError::InvalidOperation("no job is active on the domain".into()))
        };
        match cmd {
            LabCommand::Migrate(mut spec) => {
                spec.start_ms = now.as_millis();
                self.add_migration(&spec)
            }
            LabCommand::Abort { vm } => {
                let i = find(&mut self.migrations, &vm)?;
                self.migrations[i].abort(now)?;
                let events: Vec<_> = self.migrations[i].drain_events().collect();
                for (t, k) in events {
                    self.update_world(t, &vm, &k);
                    self.push(t, &vm, k);
                }
                Ok(())
            }
            LabCommand::StartPostcopy { vm } => {
                let i = find(&mut self.migrations, &vm)?;
                self.migrations[i].request_postcopy()
            }
            LabCommand::SetMaxDowntime { vm, ms } => {
                let i = find(&mut self.migrations, &vm)?;
                self.migrations[i].set_downtime_limit(ms);
                Ok(())
            }
            LabCommand::SetSpeed { vm, mibps } => {
                let i = find(&mut self.migrations, &vm)?;
                self.migrations[i].set_speed(mibps);
                Ok(())
            }
        }
    }

    /// Run the whole scenario and return its trace (events in time order).
    pub fn run(scenario: Scenario) -> Trace {
        // Through the Lab trait, as every other driver (CLI, app, tests) runs a lab.
        let mut lab = SimLab::new(scenario);
        let events = crate::lab::record(&mut lab, SimDuration::from_secs(1));
        lab.sim.into_trace(events)
    }

    /// Package recorded events with this run's scenario into a `Trace` (sorted by time, stably).
    pub fn into_trace(self, events: Vec<TraceEvent>) -> Trace {
        self.trace_of(events)
    }

    /// Package events with the scenario as it is now into a `Trace` (sorted by time, stably).
    pub fn trace_of(&self, mut events: Vec<TraceEvent>) -> Trace {
        events.sort_by(|a, b| a.t_ms.total_cmp(&b.t_ms));
        Trace {
            format: TRACE_FORMAT,
            backend: "sim".into(),
            seed: self.scenario.seed,
            scenario: serde_json::to_value(&self.scenario).unwrap_or(serde_json::Value::Null),
            events,
        }
    }
}

/// Max-min fair share of the link between the flows' demands for one tick (TCP streams sharing a
/// bottleneck). A flow that wants less than its share leaves the rest to the others.
fn share_link(demands: &[u64], capacity_bps: f64, dt: SimDuration) -> Vec<Grant> {
    let cap_bytes = capacity_bps * dt.as_secs_f64();
    let active = demands.iter().filter(|d| **d > 0).count();
    let mut grants = vec![
        Grant {
            bytes: 0,
            bytes_per_ns: capacity_bps / 1e9
        };
        demands.len()
    ];
    if active == 0 {
        return grants;
    }
    let mut order: Vec<usize> = (0..demands.len()).filter(|i| demands[*i] > 0).collect();
    order.sort_by_key(|i| demands[*i]);
    let mut left = cap_bytes;
    let mut n = order.len() as f64;
    for i in order {
        let fair = left / n;
        let give = (demands[i] as f64).min(fair);
        grants[i].bytes = give as u64;
        left -= give;
        n -= 1.0;
    }
    let burst = capacity_bps / active as f64 / 1e9;
    for g in &mut grants {
        g.bytes_per_ns = burst.max(g.bytes as f64 / dt.0 as f64);
    }
    grants
}

/// A simulated lab behind the [`Lab`] trait.
#[derive(Debug)]
pub struct SimLab {
    sim: Simulator,
}

impl SimLab {
    /// A lab running `scenario`.
    pub fn new(scenario: Scenario) -> Self {
        SimLab {
            sim: Simulator::new(scenario),
        }
    }

    /// The simulator inside.
    pub fn simulator(&self) -> &Simulator {
        &self.sim
    }
}

impl Lab for SimLab {
    fn now(&self) -> SimTime {
        self.sim.now()
    }

    fn submit(&mut self, cmd: LabCommand) -> Result<(), LabError> {
        self.sim.apply(cmd)
    }

    fn advance(&mut self, budget: SimDuration) {
        let until = self.sim.now() + budget;
        while let Some(t) = self.sim.next_event_at() {
            if t > until {
                break;
            }
            self.sim.step();
        }
    }

    fn poll_event(&mut self) -> Option<TraceEvent> {
        self.sim.poll_trace()
    }

    fn is_idle(&self) -> bool {
        self.sim.is_finished()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn two_hosts(extra: &str) -> Scenario {
        Scenario::from_toml_str(&format!(
            "name='t'\n[[host]]\nname='a'\n[[host]]\nname='b'\nssh_trusts=[]\n[link]\nbandwidth_mibps=100.0\n[storage]\nkind='shared'\n[[vm]]\nname='db01'\nhost='a'\nram_mib=64\ndisk_gib=1.0\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn domain_ops_change_the_world_and_what_preflight_sees() {
        let mut sim = Simulator::new(two_hosts(""));
        sim.handle_domain_op("a", "db01", DomainOp::Shutdown)
            .unwrap();
        assert_eq!(sim.scenario().vms[0].state, VmState::ShutOff);
        assert_eq!(
            sim.world().domain("a", "db01").map(|d| d.state),
            Some(crate::world::DomainState::ShutOff)
        );
        sim.handle_domain_op("a", "db01", DomainOp::Start).unwrap();
        assert_eq!(sim.scenario().vms[0].state, VmState::Running);
    }

    #[test]
    fn no_state_change_while_a_migration_runs_and_no_second_writer_on_a_shared_disk() {
        let mut s = two_hosts("[[migration]]\nvm='db01'\nto='b'\npersistent=true\n");
        s.hosts[1].ssh_trusts = None;
        let mut sim = Simulator::new(s);
        sim.step();
        let err = sim
            .handle_domain_op("a", "db01", DomainOp::Destroy)
            .unwrap_err();
        assert!(err.to_string().contains("cannot acquire state change lock"));
        while sim.migration_of("db01").is_some_and(|m| !m.is_done()) {
            sim.step();
        }
        assert!(
            sim.migration_of("db01")
                .unwrap()
                .outcome()
                .unwrap()
                .is_completed()
        );
        // db01 runs on b; its shut-off definition on a cannot start on the same disk.
        let err = sim
            .handle_domain_op("a", "db01", DomainOp::Start)
            .unwrap_err();
        assert!(
            err.to_string().contains("Failed to get \"write\" lock"),
            "{err}"
        );
    }

    #[test]
    fn etc_hosts_and_ssh_keys_can_be_fixed() {
        let mut sim = Simulator::new(two_hosts(""));
        sim.trust_ssh_key("b", "a");
        assert!(sim.scenario().hosts[1].trusts("a"));
        let mut hosts = EtcHosts::new();
        hosts.insert("b".into(), "10.0.0.2".into());
        sim.set_etc_hosts("a", hosts.clone());
        assert_eq!(sim.scenario().hosts[0].etc_hosts, Some(hosts));
    }

    #[test]
    fn link_is_shared_max_min_fairly() {
        // 10 MB/s for 10 ms = 100,000 bytes to share.
        let g = share_link(
            &[10, 1_000_000, 1_000_000, 0],
            10_000_000.0,
            SimDuration::from_millis(10),
        );
        assert_eq!(g[0].bytes, 10);
        assert_eq!(g[1].bytes, 49_995);
        assert_eq!(g[2].bytes, 49_995);
        assert_eq!(g[3].bytes, 0);
    }
}
