//! The lesson's operator topics in the lab shell: each refusal worded as libvirt words it, and
//! the option that changes the outcome.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::shell::run;
use migralab_shell::{Lang, Shell};
use migralab_sim_core::Scenario;

const LESSON_COMMAND: &str = "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent";

#[test]
fn a_writeback_disk_on_an_old_qemu_is_refused_unless_unsafe() {
    for lang in [Lang::Id, Lang::En] {
        let mut sh = Shell::new(scenario!("cache-mode-unsafe"), lang);
        let out = run(&mut sh, "virsh dumpxml db01");
        assert!(
            out.text
                .contains("<driver name='qemu' type='qcow2' cache='writeback'/>"),
            "{}",
            out.text
        );
        let out = run(&mut sh, LESSON_COMMAND);
        assert_eq!(out.status, 1);
        assert!(
            out.text.starts_with(
                "error: Unsafe migration: Migration may lead to data corruption if disks use cache other than none or directsync\n"
            ),
            "{}",
            out.text
        );
        assert!(
            out.text.contains("cache='none'"),
            "the hint names the fix: {}",
            out.text
        );
        let out = run(&mut sh, "virsh list");
        assert!(out.text.contains("db01   running"), "{}", out.text);

        let out = run(&mut sh, &format!("{LESSON_COMMAND} --unsafe"));
        assert_eq!(out.status, 0, "{}", out.text);
        let out = run(&mut sh, "virsh list --all");
        assert!(out.text.contains("db01   shut off"), "{}", out.text);
    }
}

#[test]
fn a_writeback_disk_on_todays_qemu_migrates() {
    let s = Scenario::from_toml_str(
        &include_str!("../../../../scenarios/cache-mode-unsafe.toml")
            .replace("qemu_version = \"3.1.0\"", "qemu_version = \"7.2.0\""),
    )
    .unwrap();
    let mut sh = Shell::new(s, Lang::En);
    let out = run(&mut sh, LESSON_COMMAND);
    assert_eq!(out.status, 0, "{}", out.text);
}

#[test]
fn tls_is_refused_without_certificates_and_works_with_them() {
    let mut sh = Shell::new(scenario!("lesson"), Lang::En);
    let out = run(&mut sh, &format!("{LESSON_COMMAND} --tls"));
    assert_eq!(out.status, 1);
    assert!(
        out.text.starts_with(
            "error: internal error: unable to execute QEMU command 'object-add': Unable to access credentials /etc/pki/qemu/ca-cert.pem: No such file or directory\n"
        ),
        "{}",
        out.text
    );
    assert!(!out.text.contains("not simulated"), "{}", out.text);
    let hint = out.text.lines().last().unwrap_or("");
    assert!(
        hint.starts_with("hint: ")
            && hint.contains("server-cert.pem")
            && hint.contains("--tunnelled"),
        "the hint names the files and the other way: {}",
        out.text
    );

    let mut sh = Shell::new(scenario!("encryption-tls"), Lang::Id);
    let out = run(&mut sh, &format!("{LESSON_COMMAND} --tls"));
    assert_eq!(out.status, 0, "{}", out.text);
    assert_eq!(out.text, "\n", "virsh prints only its closing empty line");
}

#[test]
fn tunnelled_needs_p2p_and_refuses_what_libvirt_refuses() {
    let cases = [
        (
            "--tunnelled",
            "error: Requested operation is not valid: cannot perform tunnelled migration without using peer2peer flag",
        ),
        (
            "--p2p --tunnelled --postcopy",
            "error: argument unsupported: post-copy is not supported with tunnelled migration",
        ),
        (
            "--p2p --tunnelled --copy-storage-all",
            "error: Operation not supported: migration of non-shared storage is not supported with tunnelled migration and this QEMU",
        ),
    ];
    for (flags, message) in cases {
        let mut sh = Shell::new(scenario!("lesson"), Lang::En);
        let out = run(&mut sh, &format!("{LESSON_COMMAND} {flags}"));
        assert_eq!(out.status, 1, "{flags}");
        assert!(out.text.starts_with(message), "{flags}: {}", out.text);
    }
    // Through libvirt's connection the migration ports are not needed.
    let mut sh = Shell::new(scenario!("prereq-firewall"), Lang::En);
    let out = run(&mut sh, &format!("{LESSON_COMMAND} --p2p --tunnelled"));
    assert_eq!(out.status, 0, "{}", out.text);
}

#[test]
fn a_vm_on_the_nat_network_answers_only_its_own_host() {
    let mut sh = Shell::new(scenario!("nat-network-trap"), Lang::En);
    let out = run(&mut sh, "virsh dumpxml db01");
    assert!(
        out.text.contains("<interface type='network'>")
            && out
                .text
                .contains("<source network='default' bridge='virbr0'/>"),
        "{}",
        out.text
    );
    let out = run(&mut sh, "ping -c 2 192.168.122.50");
    assert_eq!(
        out.status, 0,
        "before the move its host reaches it: {}",
        out.text
    );
    let out = run(&mut sh, "ip -br addr show virbr0");
    assert!(out.text.contains("192.168.122.1/24"), "{}", out.text);
    let out = run(&mut sh, LESSON_COMMAND);
    assert_eq!(out.status, 0, "libvirt has nothing to refuse: {}", out.text);
    let out = run(&mut sh, "ping -c 2 192.168.122.50");
    assert_eq!(out.status, 1, "{}", out.text);
    assert!(out.text.contains("100% packet loss"), "{}", out.text);
    assert!(
        out.text
            .contains("kvm-host-02's libvirt NAT network 'default'"),
        "the hint explains: {}",
        out.text
    );
    let out = run(&mut sh, "ssh kvm-host-02 ping -c 2 192.168.122.50");
    assert_eq!(out.status, 0, "its new host reaches it: {}", out.text);
}

#[test]
fn migrateuri_picks_where_the_data_goes_and_listen_address_is_explained() {
    // The destination still calls itself localhost: without a URI libvirt refuses ...
    let mut sh = Shell::new(scenario!("prereq-dns-localhost"), Lang::En);
    let out = run(&mut sh, LESSON_COMMAND);
    assert!(out.text.contains("requires an FQDN"), "{}", out.text);
    // ... with one it takes the address as given.
    let out = run(
        &mut sh,
        &format!("{LESSON_COMMAND} --migrateuri tcp://192.168.100.12:49152"),
    );
    assert_eq!(out.status, 0, "{}", out.text);
    assert!(!out.text.contains("ignored"), "{}", out.text);

    let mut sh = Shell::new(scenario!("lesson"), Lang::En);
    let out = run(&mut sh, &format!("{LESSON_COMMAND} --migrateuri tcp://"));
    assert_eq!(out.status, 1);
    assert!(
        out.text
            .starts_with("error: invalid argument: missing host in migration URI: tcp://\n"),
        "{}",
        out.text
    );
    let out = run(
        &mut sh,
        &format!("{LESSON_COMMAND} --listen-address 192.168.100.12"),
    );
    assert_eq!(out.status, 0, "{}", out.text);
    assert!(out.text.contains("migration_address"), "{}", out.text);
}

#[test]
fn a_local_iso_blocks_the_migration_until_change_media_ejects_it() {
    let mut sh = Shell::new(scenario!("cdrom-local-iso"), Lang::En);
    let out = run(&mut sh, "virsh dumpxml db01");
    assert!(
        out.text.contains("<disk type='file' device='cdrom'>")
            && out.text.contains("<source file='/root/debian-12.iso'/>")
            && out.text.contains("<readonly/>"),
        "{}",
        out.text
    );
    let out = run(&mut sh, LESSON_COMMAND);
    assert_eq!(out.status, 1);
    assert!(
        out.text.starts_with(
            "error: Cannot access storage file '/root/debian-12.iso' (as uid:64055, gid:64055): No such file or directory\n"
        ),
        "{}",
        out.text
    );
    assert!(
        out.text.contains("change-media db01 sda --eject"),
        "{}",
        out.text
    );
    let out = run(&mut sh, "virsh change-media db01 sdb --eject");
    assert_eq!(out.status, 1);
    assert_eq!(
        out.text,
        "error: No disk found whose source path or target is sdb\n\n"
    );
    let out = run(&mut sh, "virsh change-media db01 sda --eject");
    assert_eq!(out.status, 0, "{}", out.text);
    assert_eq!(out.text, "Successfully ejected media.\n\n");
    let out = run(&mut sh, "virsh dumpxml db01");
    assert!(!out.text.contains("debian-12.iso"), "{}", out.text);
    let out = run(&mut sh, LESSON_COMMAND);
    assert_eq!(out.status, 0, "{}", out.text);
}
