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
