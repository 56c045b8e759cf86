//! Real mode against libvirt's `test:///default` driver: a fake hypervisor inside this process
//! (no daemon, no root), so connection handling, real preflight and error pass-through are
//! tested everywhere real mode is built. Migrations themselves are tested on the lab in a box.
//! Built with the `real` feature only; without it `main.rs` has a test that fails and says so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use migralab_real::libvirt::host::RealHost;
use migralab_real::libvirt::preflight::real_preflight;
use migralab_real::real_lab::{RealLab, RealLabConfig};
use migralab_sim_core::LabError;
use migralab_sim_core::lab::{Lab, LabCommand, record};
use migralab_sim_core::preflight::{CheckId, CheckStatus};
use migralab_sim_core::scenario::MigrationSpec;
use migralab_sim_core::time::SimDuration;
use migralab_sim_core::trace::{Outcome, TraceKind};

const TEST: &str = "test:///default";

#[test]
fn the_test_driver_answers_host_and_domain_questions() {
    let h = RealHost::open(TEST).unwrap();
    let info = h.info().unwrap();
    assert!(!info.hostname.is_empty());
    assert!(
        !info.facts.arch.is_empty(),
        "capabilities give the host architecture"
    );
    assert!(info.libvirt_version.split('.').count() == 3);
    let dom = h.domain("test").unwrap();
    let facts = h.domain_facts(&dom).unwrap();
    assert_eq!(facts.name, "test");
    assert!(facts.memory_kib > 0);
    assert_eq!(h.domain_state("test").unwrap(), Some(true));
    assert_eq!(h.domain_state("nope").unwrap(), None);
    assert_eq!(
        h.domain("nope").unwrap_err(),
        LabError::NoSuchDomain {
            name: "nope".into()
        }
    );
}

#[test]
fn preflight_to_the_same_host_fails_on_not_same_host_with_libvirts_words() {
    let (report, hosts) = real_preflight(TEST, TEST, "test", &Default::default()).unwrap();
    assert!(hosts.is_some());
    assert_eq!(report.checks.len(), 11, "every check of the simulator");
    let same = report.check(CheckId::NotSameHost).unwrap();
    assert_eq!(same.status, CheckStatus::Fail);
    let msg = same.error.as_ref().unwrap().to_string();
    assert!(
        msg.starts_with("internal error: Attempt to migrate guest to the same host "),
        "{msg}"
    );
    assert_eq!(
        report.check(CheckId::DomainRunning).unwrap().status,
        CheckStatus::Pass
    );
    // What libvirt cannot measure is said, not guessed.
    for id in [
        CheckId::MigrationPorts,
        CheckId::NameResolution,
        CheckId::SameSubnet,
    ] {
        let c = report.check(id).unwrap();
        assert_eq!(c.status, CheckStatus::Unknown, "{id:?}");
        assert!(!c.evidence.en.is_empty() && !c.evidence.id.is_empty());
    }
    // A local connection does not test SSH.
    assert_eq!(
        report.check(CheckId::SshTrust).unwrap().status,
        CheckStatus::Unknown
    );
}

#[test]
fn an_unreachable_destination_fails_the_ssh_check_without_prompting() {
    let (report, hosts) = real_preflight(
        TEST,
        "qemu+ssh://no-such-host.invalid/system",
        "test",
        &Default::default(),
    )
    .unwrap();
    assert!(hosts.is_none());
    let ssh = report.check(CheckId::SshTrust).unwrap();
    assert_eq!(ssh.status, CheckStatus::Fail);
    assert_eq!(
        report.first_failure().map(|c| c.id),
        Some(CheckId::SshTrust)
    );
    let msg = ssh.error.as_ref().unwrap().to_string();
    assert!(
        msg.starts_with("failed to connect to the hypervisor\nerror: "),
        "{msg}"
    );
    assert!(msg.contains("no-such-host.invalid"), "{msg}");
}

#[test]
fn an_unknown_source_domain_is_refused_as_virsh_does() {
    let e = real_preflight(TEST, TEST, "db99", &Default::default()).unwrap_err();
    assert_eq!(e.to_string(), "failed to get domain 'db99'");
}

#[test]
fn a_refused_migration_ends_the_trace_with_libvirts_message_unchanged() {
    let mut lab = RealLab::connect(RealLabConfig::new(TEST, TEST)).unwrap();
    // Lab time is wall time in the simulator's unit (nanoseconds).
    let before = lab.now();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let waited = lab.now().since(before);
    assert!(
        waited >= SimDuration::from_millis(20) && waited < SimDuration::from_secs(5),
        "{waited:?}"
    );
    // The test driver cannot migrate: libvirt refuses at the first migration call.
    let e = lab
        .submit(LabCommand::Migrate(MigrationSpec::new("test", "vm")))
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("this function is not supported by the connection driver"),
        "{e}"
    );
    assert!(matches!(e, LabError::Libvirt { code: Some(_), .. }));
    assert!(lab.is_idle());
    let events = record(&mut lab, SimDuration::from_millis(50));
    assert!(
        events
            .iter()
            .all(|e| !matches!(e.kind, TraceKind::Finished(Outcome::Completed { .. })))
    );
    // Commands for a job that does not exist are refused, not ignored.
    assert!(lab.submit(LabCommand::Abort { vm: "test".into() }).is_err());
}
