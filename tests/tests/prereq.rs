//! Every `prereq-*` scenario breaks exactly one prerequisite: preflight fails on that check alone,
//! and the simulated `virsh migrate` fails with libvirt's own message while the guest stays put.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use migralab_sim_core::preflight::{CheckId, CheckStatus, preflight};
use migralab_sim_core::{Located, Outcome, RunSummary, Scenario, Simulator};

fn load(name: &str) -> Scenario {
    let path = format!("{}/../scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    Scenario::load(
        Located {
            text: &text,
            origin: &path,
        },
        &[],
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

const CASES: &[(&str, CheckId, &str)] = &[
    (
        "prereq-no-shared-storage",
        CheckId::SharedStorage,
        "Unsafe migration: Migration without shared storage is unsafe",
    ),
    (
        "prereq-no-bridge",
        CheckId::Bridge,
        "Cannot get interface MTU on 'br0': No such device",
    ),
    (
        "prereq-no-ssh-trust",
        CheckId::SshTrust,
        "failed to connect to the hypervisor\nerror: Cannot recv data: root@kvm-host-02: Permission denied (publickey,password).: Connection reset by peer",
    ),
    (
        "prereq-cpu-mismatch",
        CheckId::Cpu,
        "the CPU is incompatible with host CPU: Host CPU does not provide required features: ",
    ),
    (
        "prereq-old-qemu",
        CheckId::MachineType,
        "unsupported configuration: Emulator '/usr/bin/qemu-system-x86_64' does not support machine type 'pc-q35-7.2'",
    ),
    (
        "prereq-firewall",
        CheckId::MigrationPorts,
        "unable to connect to server at 'kvm-host-02:49152': No route to host",
    ),
    (
        "prereq-dns",
        CheckId::NameResolution,
        "failed to connect to the hypervisor\nerror: Cannot recv data: ssh: Could not resolve hostname kvm-host-02: Name or service not known: Connection reset by peer",
    ),
    (
        "prereq-dns-loopback",
        CheckId::NameResolution,
        "failed to connect to the hypervisor\nerror: Cannot recv data: @@@@",
    ),
    (
        "prereq-dns-localhost",
        CheckId::NameResolution,
        "internal error: hostname on destination resolved to localhost, but migration requires an FQDN",
    ),
    (
        "prereq-same-host",
        CheckId::NotSameHost,
        "internal error: Attempt to migrate guest to the same host 03000200-0400-0500-0006-000700080009",
    ),
];

#[test]
fn each_prereq_scenario_fails_preflight_on_exactly_its_check() {
    for (name, id, _) in CASES {
        let s = load(name);
        assert_eq!(
            s.migrations[0].virsh_command(),
            "virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system",
            "{name} uses the lesson's command"
        );
        let r = preflight(&s, &s.migrations[0]).unwrap();
        let failing: Vec<CheckId> = r
            .checks
            .iter()
            .filter(|c| c.status == CheckStatus::Fail)
            .map(|c| c.id)
            .collect();
        assert_eq!(failing, vec![*id], "{name}");
        let f = r.first_failure().unwrap();
        assert!(
            !f.fix.en.is_empty() && !f.fix.id.is_empty(),
            "{name}: a failing check says how to fix it, in both languages"
        );
    }
}

#[test]
fn each_prereq_scenario_fails_its_migration_with_libvirts_message() {
    for (name, _, message) in CASES {
        let t = Simulator::run(load(name));
        let (vm, outcome) = t.outcomes().next().unwrap();
        assert_eq!(vm, "db01");
        match outcome {
            Outcome::Failed { error, .. } => {
                assert!(error.to_string().starts_with(message), "{name}: {error}")
            }
            other => panic!("{name}: expected a failure, got {other:?}"),
        }
        // A failed migration leaves the guest running on the source: it keeps answering pings.
        assert_eq!(RunSummary::of(&t).ping.lost, 0, "{name}");
        // Failed traces save and reload like any other (regression: LabError's JSON form).
        let json = t.to_json().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            migralab_sim_core::Trace::from_json(&json).unwrap(),
            t,
            "{name}"
        );
    }
}

#[test]
fn the_lessons_lab_passes_every_check() {
    let s = load("lesson");
    let r = preflight(&s, &s.migrations[0]).unwrap();
    assert!(
        r.all_pass(),
        "{:?}",
        r.checks
            .iter()
            .filter(|c| c.status != CheckStatus::Pass)
            .map(|c| c.id)
            .collect::<Vec<_>>()
    );
}

#[test]
fn experiment_two_host_passthrough_fails_and_the_baseline_model_migrates() {
    let s = load("exp2-cpu-models");
    let t = Simulator::run(s.clone());
    let outcomes: Vec<(String, Outcome)> = t
        .outcomes()
        .map(|(v, o)| (v.to_string(), o.clone()))
        .collect();
    let app = outcomes
        .iter()
        .find(|(v, _)| v == "app01")
        .map(|(_, o)| o)
        .unwrap();
    let db = outcomes
        .iter()
        .find(|(v, _)| v == "db01")
        .map(|(_, o)| o)
        .unwrap();
    match app {
        Outcome::Failed { error, .. } => assert!(
            error.to_string().starts_with(
                "operation failed: guest CPU doesn't match specification: missing features: "
            ),
            "{error}"
        ),
        other => panic!("host-passthrough should fail, got {other:?}"),
    }
    assert!(db.is_completed(), "{db:?}");
    // The custom model is what `virsh cpu-baseline` computes from both hosts' CPUs.
    let map = migralab_sim_core::cpu::CpuMap::x86().unwrap();
    let hosts: Vec<_> = s
        .hosts
        .iter()
        .map(migralab_sim_core::preflight::host_cpu_def)
        .collect();
    let baseline = map.baseline(&hosts).unwrap();
    let vm = s.vms.iter().find(|v| v.name == "db01").unwrap();
    match &vm.cpu {
        migralab_sim_core::scenario::GuestCpuSpec::Custom { model, features } => {
            assert_eq!(Some(model.as_str()), baseline.model.as_deref());
            assert_eq!(
                features
                    .iter()
                    .cloned()
                    .collect::<std::collections::BTreeSet<_>>(),
                baseline.require
            );
        }
        other => panic!("db01 should use a custom model, got {other:?}"),
    }
}
