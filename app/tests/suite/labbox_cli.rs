//! `migralab labbox`'s command line, without bringing the lab up (that is
//! real-backend/tests/suite/labbox.rs).

use crate::common::{Run, migralab};

#[test]
fn the_help_names_the_hosts_the_addresses_and_the_faults() {
    let Run { code, stdout, .. } = migralab(&["labbox", "--help"]);
    assert_eq!(code, 0);
    for name in [
        "lab-sw",
        "kvm-host-01",
        "10.77.0.1",
        "kvm-host-02",
        "10.77.0.2",
        "lab-client",
        "10.77.0.100",
        "db01",
        "10.77.0.10",
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent",
        "migralab ping 10.77.0.10 --netns lab-client",
        "shared-storage",
        "ssh-trust",
        "firewall",
        "migralab labbox down",
    ] {
        assert!(stdout.contains(name), "{name} missing from:\n{stdout}");
    }
}

#[test]
fn an_unknown_fault_exits_2_naming_the_valid_ones() {
    let Run { code, stderr, .. } = migralab(&["labbox", "break", "nonsense"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("unknown fault `nonsense`: the faults are shared-storage, bridge, ssh-trust, cpu, firewall"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_host_exits_2_naming_the_lab_hosts() {
    let Run { code, stderr, .. } = migralab(&["labbox", "sh", "kvm-host-03", "virsh", "list"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("kvm-host-01, kvm-host-02 and lab-client"),
        "{stderr}"
    );
}
