//! The scenarios behind the lesson's operator topics (issue 21 §2): each shows its outcome with
//! libvirt's own message, and the option that changes it does.

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

#[test]
fn cache_mode_unsafe_is_refused_before_anything_is_copied_and_unsafe_lets_it_through() {
    let s = load("cache-mode-unsafe");
    let r = preflight(&s, &s.migrations[0]).unwrap();
    let f = r.first_failure().unwrap();
    assert_eq!(f.id, CheckId::SharedStorage);
    let failing = r
        .checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .count();
    assert_eq!(failing, 1, "only the cache mode is wrong");
    let t = Simulator::run(s.clone());
    match t.outcomes().next().unwrap().1 {
        Outcome::Failed { error, .. } => assert_eq!(
            error.to_string(),
            "Unsafe migration: Migration may lead to data corruption if disks use cache other than none or directsync"
        ),
        other => panic!("expected libvirt's refusal, got {other:?}"),
    }
    assert_eq!(RunSummary::of(&t).ping.lost, 0, "the guest never left");

    let mut forced = s.clone();
    forced.migrations[0].unsafe_ = true;
    let t = Simulator::run(forced);
    assert!(t.outcomes().next().unwrap().1.is_completed());

    // The same disk with a QEMU that drops the page cache at the switch-over migrates.
    let mut upgraded = s;
    for h in &mut upgraded.hosts {
        h.qemu_version = "4.0.0".into();
    }
    let t = Simulator::run(upgraded);
    assert!(t.outcomes().next().unwrap().1.is_completed());
}

#[test]
fn tls_migrates_where_both_hosts_have_certificates_and_fails_where_they_have_none() {
    let s = load("encryption-tls");
    assert_eq!(
        s.migrations[0].virsh_command(),
        "virsh migrate --live --persistent --tls db01 qemu+ssh://kvm-host-02/system"
    );
    let t = Simulator::run(s);
    assert!(t.outcomes().next().unwrap().1.is_completed());

    // The lesson's lab has no certificates: the destination cannot load its CA certificate.
    let mut lesson = load("lesson");
    lesson.migrations[0].tls = true;
    let t = Simulator::run(lesson);
    match t.outcomes().next().unwrap().1 {
        Outcome::Failed { error, .. } => assert_eq!(
            error.to_string(),
            "internal error: unable to execute QEMU command 'object-add': Unable to access credentials /etc/pki/qemu/ca-cert.pem: No such file or directory"
        ),
        other => panic!("expected QEMU's refusal, got {other:?}"),
    }
    assert_eq!(RunSummary::of(&t).ping.lost, 0, "the guest never left");
}

#[test]
fn nat_network_trap_completes_and_the_vm_is_unreachable_from_its_old_host() {
    let s = load("nat-network-trap");
    let r = preflight(&s, &s.migrations[0]).unwrap();
    assert!(r.first_failure().is_none(), "libvirt has nothing to refuse");
    let net = r.check(CheckId::SameSubnet).unwrap();
    assert_eq!(net.status, CheckStatus::Warn);
    assert!(net.evidence.en.contains("NAT"), "{}", net.evidence.en);
    let t = Simulator::run(s.clone());
    assert!(t.outcomes().next().unwrap().1.is_completed());
    let lost = RunSummary::of(&t).ping.lost;
    assert!(
        lost > 50,
        "every probe after the move is lost, not just the downtime: {lost}"
    );

    // The same VM on the lesson's bridge loses only the downtime's probes (about 30 here, against
    // the downtime plus the whole tail after the move).
    let mut bridged = s;
    bridged.vms[0].network = None;
    bridged.vms[0].bridge = "br0".into();
    bridged.vms[0].ip = Some("192.168.100.50".into());
    let t = Simulator::run(bridged);
    let bridged_lost = RunSummary::of(&t).ping.lost;
    assert!(bridged_lost < lost / 2, "{bridged_lost} vs {lost}");
}

#[test]
fn migration_network_numbers_the_lesson_quotes() {
    // The lesson: unlimited (libvirt's default) takes the whole 1 GbE link for about 10 s; a
    // cap of 56 MiB/s leaves half of it to NFS and takes about twice as long.
    let s = load("migration-bandwidth");
    assert_eq!(s.migrations[0].bandwidth_mibps, Some(56));
    let capped = Simulator::run(s.clone());
    let mut free = s;
    free.migrations[0].bandwidth_mibps = None;
    let free = Simulator::run(free);
    let total = |t: &migralab_sim_core::Trace| match t.outcomes().next().unwrap().1 {
        Outcome::Completed { total_ms, .. } => *total_ms,
        other => panic!("expected completion, got {other:?}"),
    };
    let (free_ms, capped_ms) = (total(&free), total(&capped));
    assert!((9_000..11_000).contains(&free_ms), "{free_ms}");
    assert!((18_000..22_000).contains(&capped_ms), "{capped_ms}");
}

#[test]
fn migrateuri_sends_the_data_past_a_destination_called_localhost() {
    let mut s = load("prereq-dns-localhost");
    s.migrations[0].migrate_uri_host = Some("192.168.100.12".into());
    assert_eq!(
        s.migrations[0].virsh_command(),
        "virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system --migrateuri tcp://192.168.100.12"
    );
    let t = Simulator::run(s);
    assert!(t.outcomes().next().unwrap().1.is_completed());
}

#[test]
fn a_local_iso_in_the_cdrom_fails_on_the_destination_even_with_copy_storage_all() {
    let s = load("cdrom-local-iso");
    let message = "Cannot access storage file '/root/debian-12.iso' (as uid:64055, gid:64055): No such file or directory";
    for copy in [false, true] {
        let mut s = s.clone();
        s.migrations[0].copy_storage_all = copy;
        let r = preflight(&s, &s.migrations[0]).unwrap();
        assert_eq!(
            r.first_failure().map(|c| c.id),
            Some(CheckId::SharedStorage)
        );
        let t = Simulator::run(s);
        match t.outcomes().next().unwrap().1 {
            Outcome::Failed { error, .. } => assert_eq!(error.to_string(), message, "{copy}"),
            other => panic!("expected the destination's refusal, got {other:?}"),
        }
        assert_eq!(RunSummary::of(&t).ping.lost, 0, "the guest never left");
    }
    // Ejected (a drive without media), or the ISO on the shared storage: it migrates.
    for media in ["", "/var/lib/libvirt/images/debian-12.iso"] {
        let mut s = s.clone();
        s.vms[0].cdrom = Some(media.into());
        let t = Simulator::run(s);
        assert!(t.outcomes().next().unwrap().1.is_completed(), "{media:?}");
    }
}
