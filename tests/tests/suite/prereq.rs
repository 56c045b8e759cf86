//! Every `prereq-*` scenario breaks exactly one prerequisite: preflight fails on that check alone,
//! and the simulated `virsh migrate` fails with libvirt's own message while the guest stays put.

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
        "operation failed: guest CPU doesn't match specification: missing features: ",
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
fn experiment_two_passthrough_fails_late_host_model_is_refused_and_the_baseline_migrates() {
    let s = load("exp2-cpu-models");
    let t = Simulator::run(s.clone());
    let outcome = |vm: &str| {
        t.outcomes()
            .find(|(v, _)| *v == vm)
            .map(|(_, o)| o.clone())
            .unwrap_or_else(|| panic!("no outcome for {vm}"))
    };
    // host-passthrough: libvirt never compares it, so libvirt's CPU errors never appear; the
    // whole RAM goes over, then the destination QEMU cannot load the vCPU state.
    let (app_error, app_at) = match outcome("app01") {
        Outcome::Failed { error, at_ms } => (error.to_string(), at_ms),
        other => panic!("host-passthrough should fail late, got {other:?}"),
    };
    assert_eq!(
        app_error,
        "internal error: QEMU unexpectedly closed the monitor (vm='app01'): qemu-system-x86_64: \
         Putting registers after init: Failed to set special registers: Invalid argument"
    );
    assert!(
        !app_error.contains("CPU is incompatible") && !app_error.contains("match specification")
    );
    // Late: after app01's RAM (1 GiB, half of it never written) crossed a shared 1 GbE link.
    assert!(app_at > 3_000, "failed after only {app_at} ms");
    // host-model: checked when the destination QEMU starts, before any RAM is sent.
    let (web_error, web_at) = match outcome("web01") {
        Outcome::Failed { error, at_ms } => (error.to_string(), at_ms),
        other => panic!("host-model should be refused, got {other:?}"),
    };
    assert!(
        web_error.starts_with(
            "operation failed: guest CPU doesn't match specification: missing features: "
        ),
        "{web_error}"
    );
    assert!(web_error.contains("smap"), "{web_error}");
    assert!(web_at < 1_000, "refused only after {web_at} ms");
    let db = outcome("db01");
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

#[test]
fn host_passthrough_without_the_newest_instructions_migrates_then_a_program_faults() {
    let s = load("cpu-passthrough-sigill");
    let report = preflight(&s, &s.migrations[0]).unwrap();
    let cpu = report.check(CheckId::Cpu).unwrap();
    assert_eq!(cpu.status, CheckStatus::Warn);
    assert!(
        cpu.evidence.en.contains("avx512vnni"),
        "{}",
        cpu.evidence.en
    );
    let mut sim = Simulator::new(s);
    while !sim.is_finished() {
        sim.step();
    }
    let done = sim
        .migrations()
        .iter()
        .find(|m| m.vm_name() == "app01")
        .and_then(|m| m.outcome().cloned());
    assert!(done.as_ref().is_some_and(Outcome::is_completed), "{done:?}");
    // The guest's own kernel log has the fault, worded as Linux words it.
    let log = sim.guest_log("app01");
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(
        log[0].contains("] traps: worker[") && log[0].contains(" trap invalid opcode ip:"),
        "{}",
        log[0]
    );
    // A guest that moves to the same CPU logs nothing.
    let same = load("exp1-shared-storage");
    let mut sim = Simulator::new(same);
    while !sim.is_finished() {
        sim.step();
    }
    assert!(sim.guest_log("db01").is_empty());
}

#[test]
fn in_the_lab_shell_the_guests_kernel_log_shows_the_invalid_opcode() {
    use migralab_shell::{Lang, Shell};
    let mut sh = Shell::new(load("cpu-passthrough-sigill"), Lang::En);
    let before = sh.run_line("ssh 192.168.100.51 dmesg");
    assert_eq!(before.status, 0, "{}", before.text);
    assert!(!before.text.contains("invalid opcode"), "{}", before.text);
    let out = sh.run_line("virsh migrate --live app01 qemu+ssh://kvm-host-02/system --persistent");
    assert_eq!(out.status, 0, "{}", out.text);
    let after = sh.run_line("ssh 192.168.100.51 dmesg");
    assert!(after.text.contains("trap invalid opcode"), "{}", after.text);
}

#[test]
fn in_the_lab_shell_host_passthrough_fails_after_the_copy_and_stays_on_the_source() {
    use migralab_shell::{Lang, Shell};
    let mut sh = Shell::new(load("exp2-cpu-models"), Lang::En);
    let out = sh.run_line(
        "virsh migrate --live --verbose app01 qemu+ssh://kvm-host-02/system --persistent",
    );
    assert_eq!(out.status, 1, "{}", out.text);
    // The copy ran (progress lines) before the error.
    assert!(out.text.contains("Migration: ["), "{}", out.text);
    assert!(
        out.text.contains(
            "error: internal error: QEMU unexpectedly closed the monitor (vm='app01'): qemu-system-x86_64: Putting registers after init: Failed to set special registers: Invalid argument"
        ),
        "{}",
        out.text
    );
    assert!(!out.text.contains("CPU is incompatible"), "{}", out.text);
    let list = sh.run_line("virsh list");
    assert!(list.text.contains("app01"), "{}", list.text);
    let out = sh.run_line("virsh migrate --live web01 qemu+ssh://kvm-host-02/system --persistent");
    assert!(
        out.text.starts_with(
            "error: operation failed: guest CPU doesn't match specification: missing features: "
        ),
        "{}",
        out.text
    );
}
