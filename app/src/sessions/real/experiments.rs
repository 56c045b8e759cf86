//! Sesi 2's experiments on real hosts, without egui: which steps can run on the configured hosts
//! (and why not), each step's command as typed on them, and when a step is done, judged from
//! what really happened, in order.
//!
//! - **The facts** ([`RealFacts`]) are lines typed in the real terminal and real runs (migrations
//!   started by the form or watched), numbered in the order they happened and tagged with the
//!   storage layout they happened in when migralab knows it (the lab in a box says; other hosts
//!   do not, and then a fact counts for either layout).
//! - **In order**: a step is done by a fact that came after the fact that did the step before
//!   it, so typing `virsh domjobinfo` once does not tick both halves of Experiment 1.
//! - **A step that cannot run here** ([`StepMode::Simulated`]) names its reason and is done in
//!   the simulated lab instead, labelled so; the simulated lab's own rules judge it.

use crate::sessions::lab::{RunId, RunRecord};
use migralab_course::experiments::{self as content, Done, Experiment, LabFacts, RunFact};
use migralab_real::labbox::storage::Storage;
use migralab_sim_core::scenario::{GuestCpuSpec, Scenario, StorageKind};
use std::net::Ipv4Addr;

/// What really happened, in order.
#[derive(Debug, Default, Clone)]
pub struct RealFacts {
    facts: Vec<RealFact>,
}

/// One thing that really happened.
#[derive(Debug, Clone, PartialEq)]
pub struct RealFact {
    /// The storage layout then, when known (the lab in a box).
    pub setup: Option<Storage>,
    /// What happened.
    pub kind: FactKind,
}

/// A line typed, or a run that ended.
#[derive(Debug, Clone, PartialEq)]
pub enum FactKind {
    /// A line typed in the real terminal (by the student or a step's button).
    Typed(String),
    /// A real run of the session history.
    Run(RunId),
    /// A `virsh migrate` typed in the terminal that virsh answered with `error:` (libvirt
    /// refused it before a job the watcher could see).
    Refused {
        /// The domain.
        vm: String,
        /// `--copy-storage-all` was given.
        copy_storage_all: bool,
        /// virsh's error line.
        error: String,
    },
}

/// The migrations refused in a finished terminal command: each `virsh migrate` of `line` when
/// its `output` holds virsh's `error:` line.
pub fn refusals(line: &str, output: &str) -> Vec<FactKind> {
    let Some(error) = output
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("error:"))
    else {
        return Vec::new();
    };
    content::commands_of(line)
        .filter_map(|c| migralab_shell::parse_migrate_line(&c).ok())
        .filter_map(|p| {
            Some(FactKind::Refused {
                vm: p.values.get("domain")?.clone(),
                copy_storage_all: p.flags.contains("copy-storage-all"),
                error: error.to_string(),
            })
        })
        .collect()
}

/// The facts kept: the steps are judged every frame over all of them, so a terminal session of
/// thousands of lines must not make that slow (the oldest go first; a step they did is
/// remembered in the app's state already).
pub const MAX_FACTS: usize = 1000;

impl RealFacts {
    /// Keep `kind`, which happened in `setup`.
    pub fn push(&mut self, kind: FactKind, setup: Option<Storage>) {
        if self.facts.len() >= MAX_FACTS {
            self.facts.remove(0);
        }
        self.facts.push(RealFact { setup, kind });
    }

    /// Every fact, oldest first.
    pub fn all(&self) -> &[RealFact] {
        &self.facts
    }
}

/// How a step runs in real mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepMode {
    /// On the real hosts, in the real terminal.
    Real,
    /// In the simulated lab, for this reason.
    Simulated(SimReason),
}

/// Why a step cannot run on the configured hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimReason {
    /// The step's guest is not one of the instructor's allowed domains.
    NoDomain {
        /// The guest the step needs.
        vm: String,
    },
    /// The step's guest uses host-passthrough, which needs KVM; the lab in a box runs QEMU
    /// without it (TCG), where QEMU refuses `-cpu host`.
    NeedsKvm {
        /// The guest the step needs.
        vm: String,
    },
}

/// What the configured hosts are, as the plan needs it.
#[derive(Debug, Clone, Default)]
pub struct Hosts<'a> {
    /// The instructor's allowed domains.
    pub domains: &'a [String],
    /// The source is the lab in a box (QEMU without KVM).
    pub labbox: bool,
    /// The destination's host name as typed on the source (`kvm-host-02`).
    pub dst_host: String,
    /// The instructor's ping target (the guest's address).
    pub ping: Option<Ipv4Addr>,
}

/// A scenario the experiments use, loaded once (the shipped ones are part of the binary).
pub fn experiment_scenario(name: &str) -> Option<&'static Scenario> {
    static LOADED: std::sync::OnceLock<Vec<Scenario>> = std::sync::OnceLock::new();
    LOADED
        .get_or_init(|| {
            let mut names: Vec<&str> = content::experiments()
                .iter()
                .flat_map(|e| e.steps.iter().filter_map(|s| s.scenario.as_deref()))
                .collect();
            names.sort_unstable();
            names.dedup();
            names
                .into_iter()
                // Every one is a shipped scenario (the course's tests load them all); never a
                // file of that name in the working directory.
                .filter_map(|n| {
                    let shipped = crate::scenarios::shipped(n)?;
                    Scenario::load(
                        migralab_sim_core::Located {
                            text: shipped.text,
                            origin: n,
                        },
                        &[],
                    )
                    .ok()
                })
                .collect()
        })
        .iter()
        .find(|s| s.name == name)
}

/// The guest step `index` is about: a migration's guest, or a scenario guest named by the
/// step's typed command (`virsh dumpxml app01`).
pub fn step_vm(exp: &Experiment, index: usize, scenario: &Scenario) -> Option<String> {
    let step = exp.steps.get(index)?;
    match &step.done {
        Done::Migration { vm, .. } => Some(vm.clone()),
        Done::Typed { prefix } => prefix
            .split_whitespace()
            .find(|w| scenario.vms.iter().any(|v| v.name == *w))
            .map(str::to_string),
    }
}

/// How each step of `exp` runs on `hosts`; `scenario_of(name)` gives a step's scenario.
pub fn plan<'s>(
    exp: &Experiment,
    hosts: &Hosts<'_>,
    scenario_of: impl Fn(&str) -> Option<&'s Scenario>,
) -> Vec<StepMode> {
    (0..exp.steps.len())
        .map(|i| {
            let Some(scenario) = exp.step_scenario(i).and_then(&scenario_of) else {
                return StepMode::Real;
            };
            let Some(vm) = step_vm(exp, i, scenario) else {
                return StepMode::Real;
            };
            if !hosts.domains.contains(&vm) {
                return StepMode::Simulated(SimReason::NoDomain { vm });
            }
            let passthrough = scenario
                .vms
                .iter()
                .any(|v| v.name == vm && v.cpu == GuestCpuSpec::HostPassthrough);
            if passthrough && hosts.labbox {
                return StepMode::Simulated(SimReason::NeedsKvm { vm });
            }
            StepMode::Real
        })
        .collect()
}

/// The storage layout a scenario stands for.
pub fn layout(scenario: &Scenario) -> Storage {
    match scenario.storage.kind {
        StorageKind::Shared => Storage::Shared,
        StorageKind::Local => Storage::Local,
    }
}

/// A step's line as typed on the real hosts: the scenario's destination host and the guest's
/// address become the real ones (on the lab in a box they are the lesson's names already, so
/// nothing changes but the address).
///
/// `MIGRATE & ping ARGS` becomes `ping ARGS & MIGRATE; kill -INT $!`: on a real shell a
/// background `virsh migrate` is stopped by job control as soon as it (or the ssh it starts)
/// touches the terminal (seen on the lab in a box: `[1]+ Stopped virsh migrate ...`, and libvirt
/// cancelled the job when the stopped client's keepalive ran out, 30 s later). So the ping runs
/// in the background (writing to the terminal is allowed), the migration in the foreground, and
/// `kill -INT` ends the ping when the migration has ended, with ping's summary, as the
/// simulated lab's ping stops by itself.
pub fn real_line(line: &str, scenario: &Scenario, hosts: &Hosts<'_>) -> String {
    let mut out = match line.split_once(" & ping ") {
        Some((migrate, ping)) if migrate.trim_start().starts_with("virsh migrate") => {
            format!("ping {} & {}; kill -INT $!", ping.trim(), migrate.trim())
        }
        _ => line.to_string(),
    };
    if let Some(dst) = scenario.hosts.get(1)
        && !hosts.dst_host.is_empty()
        && dst.name != hosts.dst_host
    {
        out = replace_word(&out, &dst.name, &hosts.dst_host);
    }
    if let Some(ping) = hosts.ping {
        for vm in &scenario.vms {
            if let Some(ip) = &vm.ip {
                out = replace_word(&out, ip, &ping.to_string());
            }
        }
    }
    out
}

/// The writer db01 runs on the lab in a box for a step whose scenario has a busy guest: its
/// working set (MiB) and rate (MiB/s). Small enough for the lab's TCG guest to keep up, and a
/// scanner (it rewrites its set in order), so a pass never finds less than the whole set dirty
/// while the writer outruns the cap (on the lab in a box such a migration ran 66 s, 96 passes,
/// until cancelled).
pub const LAB_WRITER: (u64, u64) = (16, 24);

/// How the lab in a box stands in for a scenario whose guest writes faster than its link: db01
/// runs [`LAB_WRITER`] and every migration is capped at the rate that keeps the scenario's
/// ratio of write rate to link rate (150 MiB/s on a 112 MiB/s link: 24 MiB/s against 18).
/// The lab's own link is far faster than its guest can write, so without the cap no migration
/// there would ever fail to converge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BusyStandIn {
    /// db01's writer: working set MiB, rate MiB/s.
    pub writer: (u64, u64),
    /// The cap that stands in for the scenario's link, MiB/s.
    pub cap_mibps: u64,
    /// The scenario's link, MiB/s (what a `--bandwidth` in a step is scaled from).
    pub link_mibps: f64,
}

impl BusyStandIn {
    /// A bandwidth given for the scenario's link, on the lab's cap (at least 1 MiB/s).
    pub fn scale(&self, mibps: u64) -> u64 {
        ((mibps as f64 * self.cap_mibps as f64 / self.link_mibps).round() as u64).max(1)
    }
}

/// The stand-in for `scenario` on these hosts: on the lab in a box, when a guest of the
/// scenario writes faster than the scenario's link carries.
pub fn busy_stand_in(scenario: &Scenario, hosts: &Hosts<'_>) -> Option<BusyStandIn> {
    if !hosts.labbox {
        return None;
    }
    let rate = scenario
        .vms
        .iter()
        .find_map(|v| v.workload.set_and_rate())
        .map(|(_, r)| r)?;
    let link = scenario.link.bandwidth_mibps;
    // Only a guest that outruns its link needs one: any other converges on the lab as it is.
    if !(link > 0.0 && rate > link) {
        return None;
    }
    Some(BusyStandIn {
        writer: LAB_WRITER,
        cap_mibps: ((LAB_WRITER.1 as f64 * link / rate).round() as u64).max(1),
        link_mibps: link,
    })
}

/// A step's command as typed on the real hosts: [`real_line`], then
/// - a background `virsh migrate … &` reads no terminal (`</dev/null`): virsh turns the
///   terminal's interrupt key off when its stdin is one (tools/vsh.c `vshTTYDisableInterrupt`),
///   which stops a background job on a real shell; with stdin elsewhere it runs (seen on the lab
///   in a box: `Running`, and `virsh domjobinfo`/`domjobabort` from the same terminal work);
/// - with a [`BusyStandIn`], every `virsh migrate` gets the stand-in's `--bandwidth` and a
///   bandwidth the step gives (`--bandwidth N`, `migrate-setspeed VM N`) is scaled to it.
pub fn real_command(line: &str, scenario: &Scenario, hosts: &Hosts<'_>) -> String {
    let line = real_line(line, scenario, hosts);
    let stand_in = busy_stand_in(scenario, hosts);
    let mut out = String::with_capacity(line.len() + 32);
    for (command, sep) in split_commands(&line) {
        let lead = &command[..command.len() - command.trim_start().len()];
        let trail = &command[command.trim_end().len()..];
        let mut words: Vec<String> = command.split_whitespace().map(str::to_string).collect();
        let is = |w: &[String], sub: &str| w.len() >= 2 && w[0] == "virsh" && w[1] == sub;
        if let Some(b) = stand_in {
            if is(&words, "migrate") {
                match words.iter().position(|w| w == "--bandwidth") {
                    Some(at) => {
                        if let Some(n) = words.get(at + 1).and_then(|n| n.parse::<u64>().ok()) {
                            words[at + 1] = b.scale(n).to_string();
                        }
                    }
                    None => words.extend(["--bandwidth".to_string(), b.cap_mibps.to_string()]),
                }
            } else if is(&words, "migrate-setspeed")
                && let Some(n) = words.get(3).and_then(|n| n.parse::<u64>().ok())
            {
                words[3] = b.scale(n).to_string();
            }
        }
        if is(&words, "migrate") && sep == "&" && !words.iter().any(|w| w.starts_with('<')) {
            words.push("</dev/null".into());
        }
        if words.is_empty() {
            out.push_str(command);
        } else {
            out.push_str(lead);
            out.push_str(&words.join(" "));
            out.push_str(trail);
        }
        out.push_str(sep);
    }
    out
}

/// `line` cut at the shell's separators (`;`, `&`, `&&`, `|`, `||`, new lines), each command
/// with the separator after it (empty at the end). Quotes are not looked into: a step's
/// commands have none around a separator.
fn split_commands(line: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        let c = bytes[i];
        if matches!(c, b';' | b'&' | b'|' | b'\n') {
            let len = if (c == b'&' || c == b'|') && bytes.get(i + 1) == Some(&c) {
                2
            } else {
                1
            };
            out.push((&line[start..i], &line[i..i + len]));
            i += len;
            start = i;
        } else {
            i += 1;
        }
    }
    out.push((&line[start..], ""));
    out
}

/// `text` with every occurrence of `from` that is not part of a longer name (host names,
/// addresses) replaced by `to`.
fn replace_word(text: &str, from: &str, to: &str) -> String {
    let part = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + from.len()..].chars().next();
        // A dot after the name ends a sentence or a domain: `kvm-host-02.` is still the host.
        let after_ok = after.is_none_or(|c| !part(c) || c == '.');
        if before.is_none_or(|c| !part(c)) && after_ok {
            out.push_str(&rest[..at]);
            out.push_str(to);
        } else {
            out.push_str(&rest[..at + from.len()]);
        }
        rest = &rest[at + from.len()..];
    }
    out.push_str(rest);
    out
}

/// The evidence that did a step: the fact's place in [`RealFacts`] and, for a migration step,
/// the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evidence {
    /// Index of the fact in [`RealFacts::all`].
    pub fact: usize,
    /// The run that did it (migration steps).
    pub run: Option<RunId>,
}

/// Which real steps of `exp` are done, each by a fact after the one that did the step before.
/// Simulated steps are left `None` (the simulated lab judges them) and do not break the chain.
pub fn judge<'s>(
    exp: &Experiment,
    modes: &[StepMode],
    facts: &RealFacts,
    runs: &[RunRecord],
    hosts: &Hosts<'_>,
    scenario_of: impl Fn(&str) -> Option<&'s Scenario>,
) -> Vec<Option<Evidence>> {
    let mut after = 0usize;
    let mut out = Vec::with_capacity(exp.steps.len());
    for (i, step) in exp.steps.iter().enumerate() {
        if modes.get(i) != Some(&StepMode::Real) {
            out.push(None);
            continue;
        }
        let Some(name) = exp.step_scenario(i) else {
            out.push(None);
            continue;
        };
        let scenario = scenario_of(name);
        let need = scenario.map(layout);
        // The step's own words, as typed on these hosts.
        let done = match (&step.done, scenario) {
            (Done::Typed { prefix }, Some(sc)) => Done::Typed {
                prefix: real_line(prefix, sc, hosts),
            },
            (d, _) => d.clone(),
        };
        let found = facts
            .all()
            .iter()
            .enumerate()
            .skip(after)
            .find_map(|(k, f)| {
                if need.is_some_and(|n| f.setup.is_some_and(|s| s != n)) {
                    return None;
                }
                let ok = match &f.kind {
                    FactKind::Typed(line) => content::step_done(
                        &done,
                        name,
                        &LabFacts {
                            typed: &[(name.to_string(), line.clone())],
                            runs: &[],
                        },
                    ),
                    FactKind::Run(id) => runs.iter().find(|r| r.id == *id).is_some_and(|r| {
                        content::step_done(
                            &done,
                            name,
                            &LabFacts {
                                typed: &[],
                                runs: &[r.fact(name)],
                            },
                        )
                    }),
                    FactKind::Refused {
                        vm,
                        copy_storage_all,
                        ..
                    } => content::step_done(
                        &done,
                        name,
                        &LabFacts {
                            typed: &[],
                            runs: &[RunFact {
                                scenario: name.to_string(),
                                vm: vm.clone(),
                                copy_storage_all: *copy_storage_all,
                                outcome: "failed".into(),
                            }],
                        },
                    ),
                };
                ok.then_some(Evidence {
                    fact: k,
                    run: match f.kind {
                        FactKind::Run(id) => Some(id),
                        _ => None,
                    },
                })
            });
        if let Some(e) = found {
            after = e.fact + 1;
        }
        out.push(found);
    }
    out
}

/// The line that cancelled `vm`'s migration from the terminal: a `virsh domjobabort VM` typed
/// since the last run ended (the run that ends next is the one it cancelled), or a Ctrl-C
/// (`^C`: virsh cancels the job of a foreground `virsh migrate` it interrupts). A real run whose
/// job ended without completing is then a cancelled one: libvirt keeps no statistics of a
/// cancelled migration (`virsh domjobinfo --completed` says `Job type: None` afterwards, seen
/// on the lab in a box with libvirt 11.3), so the watcher alone cannot tell it from a failure.
pub fn cancelled_by(facts: &RealFacts, vm: &str) -> Option<String> {
    facts
        .all()
        .iter()
        .rev()
        .take_while(|f| !matches!(f.kind, FactKind::Run(_)))
        .find_map(|f| match &f.kind {
            FactKind::Typed(line) if line == crate::gui::real::terminal::CTRL_C => {
                Some(line.clone())
            }
            FactKind::Typed(line) => content::commands_of(line)
                .any(|c| {
                    let w: Vec<&str> = c.split_whitespace().collect();
                    w.len() >= 3 && w[0] == "virsh" && w[1] == "domjobabort" && w[2] == vm
                })
                .then(|| line.clone()),
            _ => None,
        })
}

/// What a terminal line holds after its prompt (`root@kvm-host-01:~# virsh list` gives
/// `virsh list`): the text after the first `# ` or `$ `, or the whole line when there is none.
pub fn line_after_prompt(row: &str) -> &str {
    let row = row.trim_end();
    let at = [row.find("# "), row.find("$ ")].into_iter().flatten().min();
    match at {
        Some(i) => row[i + 2..].trim_start(),
        // The prompt alone (its trailing space trimmed): nothing typed.
        None if row.ends_with('#') || row.ends_with('$') => "",
        None => row.trim_start(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn scenario(name: &str) -> Scenario {
        experiment_scenario(name).unwrap().clone()
    }

    fn exp(id: &str) -> &'static Experiment {
        content::experiments().iter().find(|e| e.id == id).unwrap()
    }

    #[test]
    fn steps_of_guests_the_hosts_lack_or_cannot_run_are_simulated_with_the_reason() {
        let scenarios = [scenario("exp2-cpu-models")];
        let of = |n: &str| scenarios.iter().find(|s| s.name == n);
        let domains = vec!["db01".to_string()];
        let hosts = Hosts {
            domains: &domains,
            labbox: true,
            dst_host: "kvm-host-02".into(),
            ping: None,
        };
        let e = exp("exp2");
        let modes = plan(e, &hosts, of);
        let by_id = |id: &str| modes[e.steps.iter().position(|s| s.id == id).unwrap()].clone();
        assert_eq!(by_id("exp2-caps-source"), StepMode::Real);
        assert_eq!(
            by_id("exp2-passthrough-migrate"),
            StepMode::Simulated(SimReason::NoDomain { vm: "app01".into() })
        );
        assert_eq!(by_id("exp2-baseline-migrate"), StepMode::Real);
        // app01 allowed, but host-passthrough on the lab in a box's TCG cannot run.
        let domains = vec!["db01".to_string(), "app01".into(), "web01".into()];
        let modes = plan(
            e,
            &Hosts {
                domains: &domains,
                ..hosts.clone()
            },
            of,
        );
        let i = e
            .steps
            .iter()
            .position(|s| s.id == "exp2-passthrough-migrate")
            .unwrap();
        assert_eq!(
            modes[i],
            StepMode::Simulated(SimReason::NeedsKvm { vm: "app01".into() })
        );
        // On KVM hosts that have it, it runs for real.
        let modes = plan(
            e,
            &Hosts {
                domains: &domains,
                labbox: false,
                ..hosts
            },
            of,
        );
        assert!(modes.iter().all(|m| *m == StepMode::Real), "{modes:?}");
    }

    #[test]
    fn lines_name_the_real_destination_and_guest_address() {
        let sc = scenario("exp1-shared-storage");
        let domains = vec![];
        let hosts = Hosts {
            domains: &domains,
            labbox: false,
            dst_host: "node2.lab".into(),
            ping: Some(Ipv4Addr::new(10, 77, 0, 10)),
        };
        assert_eq!(
            real_line(
                "virsh migrate --live db01 qemu+ssh://kvm-host-02/system & ping -i 0.1 192.168.100.50",
                &sc,
                &hosts
            ),
            "ping -i 0.1 10.77.0.10 & virsh migrate --live db01 qemu+ssh://node2.lab/system; kill -INT $!"
        );
        // Longer names that contain the host's are left alone.
        assert_eq!(
            real_line("ssh kvm-host-020 x; ssh xkvm-host-02", &sc, &hosts),
            "ssh kvm-host-020 x; ssh xkvm-host-02"
        );
        let same = Hosts {
            dst_host: "kvm-host-02".into(),
            ping: None,
            ..hosts
        };
        let line = "ssh kvm-host-02 virsh capabilities";
        assert_eq!(real_line(line, &sc, &same), line, "the lesson's words kept");
    }

    #[test]
    fn a_migration_virsh_refused_is_read_from_its_output() {
        let out = "error: Cannot access storage file '/var/lib/libvirt/images/db01.qcow2' (as uid:64055, gid:64055): No such file or directory";
        assert_eq!(
            refusals(
                "virsh migrate --live db01 qemu+ssh://kvm-host-02/system",
                out
            ),
            vec![FactKind::Refused {
                vm: "db01".into(),
                copy_storage_all: false,
                error: out.into(),
            }]
        );
        let line = "virsh migrate --live --copy-storage-all db01 qemu+ssh://h/system & ping -q x";
        assert!(matches!(
            refusals(line, &format!("PING x\n{out}")).as_slice(),
            [FactKind::Refused {
                copy_storage_all: true,
                ..
            }]
        ));
        assert!(refusals(line, "Migration: [100 %]").is_empty(), "no error");
        assert!(refusals("virsh list", out).is_empty(), "not a migration");
    }

    #[test]
    fn each_step_needs_a_fact_after_the_one_before_and_in_its_layout() {
        let e = exp("exp1");
        let domains = vec!["db01".to_string()];
        let hosts = Hosts {
            domains: &domains,
            labbox: true,
            dst_host: "kvm-host-02".into(),
            ping: None,
        };
        let modes = plan(e, &hosts, experiment_scenario);
        assert!(modes.iter().all(|m| *m == StepMode::Real));
        let done = |facts: &RealFacts| -> Vec<bool> {
            judge(e, &modes, facts, &[], &hosts, experiment_scenario)
                .iter()
                .map(Option::is_some)
                .collect()
        };
        let mut f = RealFacts::default();
        f.push(
            FactKind::Typed("mount | grep images".into()),
            Some(Storage::Shared),
        );
        f.push(
            FactKind::Typed("virsh domjobinfo db01 --completed".into()),
            Some(Storage::Shared),
        );
        // Once typed: the shared half's statistics step, not the local half's.
        assert_eq!(done(&f), [true, false, true, false, false, false]);
        // Typed again in the local layout: now the local half's too.
        f.push(
            FactKind::Typed("virsh domjobinfo db01 --completed".into()),
            Some(Storage::Local),
        );
        assert_eq!(done(&f), [true, false, true, false, false, true]);
        // A refusal counts in the local layout only.
        let refused = FactKind::Refused {
            vm: "db01".into(),
            copy_storage_all: false,
            error: "error: Cannot access storage file".into(),
        };
        let mut g = RealFacts::default();
        g.push(refused.clone(), Some(Storage::Shared));
        assert!(!done(&g)[3], "a refusal in the shared layout");
        g.push(refused, Some(Storage::Local));
        assert!(done(&g)[3]);
    }

    #[test]
    fn the_facts_kept_are_bounded() {
        let mut f = RealFacts::default();
        for i in 0..MAX_FACTS + 10 {
            f.push(FactKind::Typed(format!("echo {i}")), None);
        }
        assert_eq!(f.all().len(), MAX_FACTS);
        assert_eq!(
            f.all()[0].kind,
            FactKind::Typed("echo 10".into()),
            "the oldest went"
        );
    }

    #[test]
    fn the_prompt_is_not_part_of_the_line() {
        assert_eq!(
            line_after_prompt("root@kvm-host-01:~# virsh list --all  "),
            "virsh list --all"
        );
        assert_eq!(line_after_prompt("user@pc:~$ ping -c 1 x"), "ping -c 1 x");
        assert_eq!(line_after_prompt("virsh list"), "virsh list");
        assert_eq!(
            line_after_prompt("root@kvm-host-01:/# "),
            "",
            "the prompt alone"
        );
        assert_eq!(line_after_prompt("root@kvm-host-01:/#"), "");
    }

    #[test]
    fn the_lab_in_a_box_stands_in_for_the_busy_database_with_its_writer_and_a_cap() {
        let sc = scenario("busy-db-no-converge");
        let domains = vec!["db01".to_string()];
        let labbox = Hosts {
            domains: &domains,
            labbox: true,
            dst_host: "kvm-host-02".into(),
            ping: None,
        };
        let b = busy_stand_in(&sc, &labbox).unwrap();
        // 150 MiB/s on a 112 MiB/s link: the writer's 24 MiB/s against 18.
        assert_eq!((b.writer, b.cap_mibps), (LAB_WRITER, 18));
        let watch = "virsh migrate --live --verbose db01 qemu+ssh://kvm-host-02/system";
        assert_eq!(
            real_command(watch, &sc, &labbox),
            format!("{watch} --bandwidth 18")
        );
        // A bandwidth the step gives is scaled to the cap; a background migration reads no
        // terminal, so job control does not stop it.
        assert_eq!(
            real_command(
                "virsh migrate-getspeed db01; virsh migrate --live --bandwidth 50 db01 qemu+ssh://kvm-host-02/system & sleep 15; virsh domjobabort db01",
                &sc,
                &labbox
            ),
            "virsh migrate-getspeed db01; virsh migrate --live --bandwidth 8 db01 qemu+ssh://kvm-host-02/system </dev/null & sleep 15; virsh domjobabort db01"
        );
        assert_eq!(
            real_command("virsh migrate-setspeed db01 112", &sc, &labbox),
            "virsh migrate-setspeed db01 18"
        );
        // Elsewhere the lines stay the scenario's, but for the background migration's stdin;
        // and an idle scenario has no stand-in.
        let kvm = Hosts {
            labbox: false,
            ..labbox.clone()
        };
        assert!(busy_stand_in(&sc, &kvm).is_none());
        assert_eq!(real_command(watch, &sc, &kvm), watch);
        assert_eq!(
            real_command(&format!("{watch} & sleep 1"), &sc, &kvm),
            format!("{watch} </dev/null & sleep 1")
        );
        assert!(busy_stand_in(&scenario("exp1-shared-storage"), &labbox).is_none());
        // `&&`, `||` and pipes are not backgrounds.
        assert_eq!(
            real_command(&format!("{watch} && echo ok | cat"), &sc, &kvm),
            format!("{watch} && echo ok | cat")
        );
    }

    #[test]
    fn a_run_is_cancelled_by_a_domjobabort_typed_since_the_last_run() {
        let mut facts = RealFacts::default();
        facts.push(
            FactKind::Typed(
                "virsh migrate --live db01 qemu+ssh://kvm-host-02/system </dev/null &".into(),
            ),
            None,
        );
        assert_eq!(cancelled_by(&facts, "db01"), None);
        facts.push(
            FactKind::Typed("virsh domjobinfo db01; virsh domjobabort db01".into()),
            None,
        );
        assert_eq!(
            cancelled_by(&facts, "db01").as_deref(),
            Some("virsh domjobinfo db01; virsh domjobabort db01")
        );
        assert_eq!(cancelled_by(&facts, "web01"), None, "another guest's job");
        // Once a run has ended, an earlier abort no longer counts for the next.
        facts.push(FactKind::Run(RunId(1)), None);
        assert_eq!(cancelled_by(&facts, "db01"), None);
    }
}
