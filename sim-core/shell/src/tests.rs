//! Shell behaviour on small labs (the shipped scenarios are exercised in `tests/suite/shell.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

/// A two-host lab with db01 running on kvm-host-01 on shared storage, plus `extra` TOML.
fn lab(extra: &str) -> Scenario {
    Scenario::from_toml_str(&format!(
        r#"
name = "t"
seed = 7
[[host]]
name = "kvm-host-01"
ip = "192.168.100.11"
[[host]]
name = "kvm-host-02"
ip = "192.168.100.12"
[link]
bandwidth_mibps = 112.0
[storage]
kind = "shared"
[[vm]]
name = "db01"
host = "kvm-host-01"
ip = "192.168.100.50"
ram_mib = 256
disk_gib = 4.0
{extra}
"#
    ))
    .unwrap()
}

fn sh(extra: &str) -> Shell {
    Shell::new(lab(extra), Lang::En)
}

/// Run `line`, echoing it for failure messages.
fn run(s: &mut Shell, line: &str) -> ShellOutput {
    let prompt = s.prompt();
    let out = s.run_line(line);
    eprintln!("{prompt}{line}\n{}[exit {}]", out.text, out.status);
    out
}

#[test]
fn bash_syntax_errors_and_unknown_commands_answer_like_bash() {
    let mut s = sh("");
    let out = run(&mut s, "echo \"abc");
    assert_eq!(
        (out.status, out.text.as_str()),
        (
            2,
            "bash: unexpected EOF while looking for matching `\"'\nbash: syntax error: unexpected end of file\n"
        )
    );
    let out = run(&mut s, "echo 'abc");
    assert!(
        out.text
            .starts_with("bash: unexpected EOF while looking for matching `''")
    );
    let out = run(&mut s, "| grep x");
    assert_eq!(out.text, "bash: syntax error near unexpected token `|'\n");
    let out = run(&mut s, "foo bar");
    assert_eq!(out.status, 127);
    assert_eq!(
        out.text,
        "bash: foo: command not found\nhint: the commands this lab has: `help`.\n"
    );
    let out = run(&mut s, "vrish list");
    assert!(
        out.text
            .starts_with("bash: vrish: command not found\nhint: did you mean `virsh`?")
    );
    let out = run(&mut s, "list --all");
    assert!(
        out.text
            .contains("`list` is a virsh command: type `virsh list ...`")
    );
    let out = run(&mut s, "");
    assert_eq!(
        (out.status, out.text.as_str()),
        (127, ""),
        "an empty line keeps $?"
    );
    let out = run(&mut s, "true");
    assert_eq!(out.status, 0);
}

#[test]
fn virsh_refuses_like_virsh() {
    let mut s = sh("");
    let out = run(
        &mut s,
        "virsh migrat --live db01 qemu+ssh://kvm-host-02/system",
    );
    assert_eq!(out.status, 1);
    assert_eq!(
        out.text,
        "error: unknown command: 'migrat'\nhint: did you mean `virsh migrate`? The list of commands: `virsh help`.\n"
    );
    let out = run(
        &mut s,
        "virsh migrate --x db01 qemu+ssh://kvm-host-02/system",
    );
    assert!(
        out.text
            .starts_with("error: command 'migrate' doesn't support option --x\n")
    );
    let out = run(&mut s, "virsh migrate db01");
    assert!(
        out.text
            .starts_with("error: command 'migrate' requires <desturi> option\n")
    );
    let out = run(&mut s, "virsh help migrat");
    assert_eq!(
        out.text,
        "error: command or command group 'migrat' doesn't exist\n\n"
    );
    let out = run(&mut s, "virsh dominfo web99");
    assert_eq!(out.status, 1);
    assert!(
        out.text
            .starts_with("error: failed to get domain 'web99'\n\n"),
        "{}",
        out.text
    );
    let out = run(&mut s, "virsh -x list");
    assert_eq!(
        out.text,
        "virsh: invalid option -- 'x'\nerror: unsupported option '-x'. See --help.\n"
    );
    let out = run(&mut s, "virsh migrate --live db01 kvm-host-02");
    // issue 20: `virsh migrate` prints libvirt's error alone (libvirt 11.3, lab in a box).
    assert!(
        out.text.starts_with(
            "error: no connection driver available for URI 'kvm-host-02' does not include a driver name\n\n"
        ),
        "{}",
        out.text
    );
    assert!(out.text.contains("qemu+ssh://kvm-host-02/system"));
    let uuid = s.simulator().scenario().hosts[0].host_uuid();
    let out = run(&mut s, "virsh migrate --live db01 qemu:///system");
    assert!(out.text.starts_with(&format!(
        "error: internal error: Attempt to migrate guest to the same host {uuid}\n"
    )));
    let out = run(
        &mut s,
        "virsh migrate --live --tunnelled db01 qemu+ssh://kvm-host-02/system",
    );
    assert!(out.text.starts_with(
        "error: Requested operation is not valid: cannot perform tunnelled migration without using peer2peer flag"
    ));
    let out = run(
        &mut s,
        "virsh migrate --live --bandwidth x db01 qemu+ssh://kvm-host-02/system",
    );
    assert!(out.text.starts_with(
        "error: Numeric value 'x' for <bandwidth> option is malformed or out of range"
    ));
    let out = run(
        &mut s,
        "virsh migrate --live --timeout-suspend db01 qemu+ssh://kvm-host-02/system",
    );
    assert!(
        out.text
            .starts_with("error: Option --timeout is required by option --timeout-suspend")
    );
    let out = run(
        &mut s,
        "virsh migrate --live db01 qemu+ssh://kvm-host-03/system",
    );
    assert!(
        out.text
            .starts_with("error: Cannot recv data: ssh: Could not resolve hostname kvm-host-03"),
        "{}",
        out.text
    );
    assert!(out.text.contains("not a host of this lab"));
    // Nothing above started a job.
    assert!(
        s.simulator()
            .world()
            .domain("kvm-host-01", "db01")
            .is_some()
    );
}

#[test]
fn the_domain_is_on_the_other_host() {
    let mut s = sh("");
    assert_eq!(
        run(
            &mut s,
            "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --undefinesource --persistent"
        )
        .status,
        0
    );
    let out = run(&mut s, "virsh list --all");
    assert!(
        !out.text.contains("db01"),
        "--undefinesource removes the source definition"
    );
    let out = run(&mut s, "virsh dominfo db01");
    assert!(out.text.starts_with("error: failed to get domain 'db01'\n"));
    assert!(out.text.ends_with(
        "hint: db01 is not on kvm-host-01 but on kvm-host-02: `ssh kvm-host-02` first (or `virsh -c qemu+ssh://kvm-host-02/system ...`).\n"
    ), "{}", out.text);
    let out = run(
        &mut s,
        "virsh -c qemu+ssh://kvm-host-02/system dominfo db01 | grep -E 'State|Persistent'",
    );
    assert_eq!(out.text, "State:          running\nPersistent:     yes\n");
    let out = run(&mut s, "virsh -c qemu+ssh://kvm-host-09/system list");
    assert!(out.text.starts_with("error: failed to connect to the hypervisor\nerror: Cannot recv data: ssh: Could not resolve hostname kvm-host-09: Name or service not known: Connection reset by peer\n"), "{}", out.text);
}

#[test]
fn redirections_pipes_globs_and_files() {
    let mut s = sh("");
    assert_eq!(run(&mut s, "virsh capabilities > caps.xml").text, "");
    assert_eq!(
        run(&mut s, "echo one > a.txt; echo two >> a.txt; cat a.txt").text,
        "one\ntwo\n"
    );
    assert_eq!(run(&mut s, "cat a.txt | wc -l").text, "2\n");
    assert_eq!(run(&mut s, "cat caps.xml a.txt | grep -c two").text, "1\n");
    assert_eq!(run(&mut s, "ls").text, "a.txt  caps.xml\n");
    assert_eq!(run(&mut s, "cat *.txt").text, "one\ntwo\n");
    assert_eq!(
        run(&mut s, "cat a.txt >> a.txt").text,
        "cat: a.txt: input file is output file\n"
    );
    assert_eq!(run(&mut s, "cat nope.txt 2>/dev/null").status, 1);
    assert_eq!(run(&mut s, "cat nope.txt 2>/dev/null").text, "");
    assert_eq!(
        run(&mut s, "cat nope.txt 2>&1 | grep -c 'No such'").text,
        "1\n"
    );
    assert_eq!(
        run(&mut s, "echo x > /nodir/f").text,
        "bash: /nodir/f: No such file or directory\n"
    );
    assert_eq!(
        run(&mut s, "echo x > /tmp").text,
        "bash: /tmp: Is a directory\n"
    );
    assert_eq!(run(&mut s, "false && echo no || echo yes").text, "yes\n");
    assert_eq!(run(&mut s, "ls ~/a.txt").text, "/root/a.txt\n");
    assert_eq!(
        run(&mut s, "virsh list --all | tail -n 2").text,
        " 1    db01   running\n\n"
    );
    assert_eq!(run(&mut s, "virsh list --name").text, "db01\n\n");
    // Files are per host.
    assert_eq!(run(&mut s, "ssh kvm-host-02 cat a.txt").status, 1);
    assert_eq!(run(&mut s, "scp a.txt kvm-host-02:/tmp/").status, 0);
    assert_eq!(
        run(&mut s, "ssh kvm-host-02 cat /tmp/a.txt").text,
        "one\ntwo\n"
    );
    assert_eq!(
        run(&mut s, "cd /var/lib/libvirt/images; pwd").text,
        "/var/lib/libvirt/images\n"
    );
    assert_eq!(s.prompt(), "root@kvm-host-01:/var/lib/libvirt/images# ");
    assert_eq!(run(&mut s, "ls").text, "db01.qcow2\n");
    assert_eq!(
        run(&mut s, "cd; history | tail -n 1").text,
        "   22  cd; history | tail -n 1\n"
    );
}

#[test]
fn storage_listing_follows_the_mounts() {
    let mut sc = lab("");
    sc.storage.mounted_on = Some(vec!["kvm-host-01".into()]);
    let mut s = Shell::new(sc, Lang::En);
    assert_eq!(
        run(&mut s, "ls /var/lib/libvirt/images").text,
        "db01.qcow2\n"
    );
    assert_eq!(
        run(&mut s, "ssh kvm-host-02 ls /var/lib/libvirt/images").text,
        ""
    );
    assert!(run(&mut s, "mount | grep -c nfs").text == "1\n");
    assert_eq!(
        run(&mut s, "ssh kvm-host-02 'mount | grep -c nfs'").text,
        "0\n"
    );
    let out = run(
        &mut s,
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/system",
    );
    assert!(
        out.text
            .starts_with("error: Cannot access storage file '/var/lib/libvirt/images/db01.qcow2'"),
        "{}",
        out.text
    );
    assert!(
        out.text
            .contains("hint: Shared storage: Mount the same NFS export"),
        "{}",
        out.text
    );
}

#[test]
fn lifecycle_commands() {
    let mut s = sh("");
    assert_eq!(
        run(&mut s, "virsh start db01").text,
        "error: Domain is already active\n\n"
    );
    assert_eq!(
        run(&mut s, "virsh shutdown db01").text,
        "Domain 'db01' is being shutdown\n\n"
    );
    assert_eq!(run(&mut s, "virsh domstate db01").text, "shut off\n\n");
    let out = run(&mut s, "virsh destroy db01");
    assert_eq!(
        out.text,
        "error: Failed to destroy domain 'db01'\nerror: Requested operation is not valid: domain is not running\n\n"
    );
    let out = run(
        &mut s,
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/system",
    );
    assert!(
        out.text
            .starts_with("error: Requested operation is not valid: domain is not running\n")
    );
    assert!(out.text.contains("virsh start db01"));
    // --offline --persistent moves the definition only.
    let out = run(
        &mut s,
        "virsh migrate --offline --persistent db01 qemu+ssh://kvm-host-02/system",
    );
    assert_eq!(out.status, 0, "{}", out.text);
    assert!(
        run(&mut s, "ssh kvm-host-02 virsh list --all")
            .text
            .contains(" -    db01   shut off")
    );
    assert_eq!(
        run(&mut s, "virsh start db01").text,
        "Domain 'db01' started\n\n"
    );
    assert_eq!(
        run(&mut s, "virsh undefine db01").text,
        "Domain 'db01' has been undefined\n\n"
    );
    assert!(
        run(&mut s, "virsh dominfo db01")
            .text
            .contains("Persistent:     no")
    );
    // Running here from the shared disk: the copy on kvm-host-02 cannot start too.
    let out = run(&mut s, "ssh kvm-host-02 virsh start db01");
    assert!(out.text.starts_with("error: Failed to start domain 'db01'\nerror: internal error: process exited while connecting to monitor"), "{}", out.text);
    assert!(out.text.contains("Failed to get \"write\" lock"));
    assert_eq!(
        run(&mut s, "virsh destroy db01").text,
        "Domain 'db01' destroyed\n\n"
    );
    assert!(
        run(&mut s, "virsh list --all").text.lines().count() == 3,
        "a transient domain disappears"
    );
}

#[test]
fn migration_tuning_and_abort() {
    let mut s = sh("[vm.workload]\nkind = \"hot-set\"\nset_mib = 64\nrate_mibps = 20.0\n");
    assert_eq!(
        run(&mut s, "virsh migrate-getspeed db01").text,
        "8796093022207\n\n"
    );
    assert_eq!(
        run(&mut s, "virsh migrate-getmaxdowntime db01").text,
        "300\n\n"
    );
    assert_eq!(
        run(&mut s, "virsh migrate-setmaxdowntime db01 50").text,
        "\n"
    );
    assert_eq!(
        run(&mut s, "virsh migrate-getmaxdowntime db01").text,
        "50\n\n"
    );
    assert_eq!(run(&mut s, "virsh migrate-setspeed db01 20").text, "\n");
    assert_eq!(run(&mut s, "virsh migrate-getspeed db01").text, "20\n\n");
    let out = run(&mut s, "virsh domjobabort db01");
    assert_eq!(
        out.text,
        "error: Requested operation is not valid: no job is active on the domain\n\n"
    );
    let out = run(
        &mut s,
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/system &",
    );
    assert_eq!(out.text, "[1] 4211\n");
    let out = run(
        &mut s,
        "virsh domjobinfo db01 | grep -E 'Job type|Memory bandwidth'",
    );
    assert!(out.text.contains("Unbounded"), "{}", out.text);
    // --bandwidth came from migrate-setspeed: about 20 MiB/s.
    assert!(out.text.contains("Memory bandwidth: 2"), "{}", out.text);
    let out = run(&mut s, "virsh domjobabort db01");
    assert!(
        out.text
            .contains("error: operation aborted: job 'migration out' canceled by client"),
        "{}",
        out.text
    );
    assert!(
        out.text.contains(
            "[1]+  Exit 1                  virsh migrate --live db01 qemu+ssh://kvm-host-02/system"
        ),
        "{}",
        out.text
    );
    assert_eq!(run(&mut s, "jobs").text, "");
    // libvirt keeps no statistics of a cancelled migration: after `virsh domjobabort`,
    // `domjobinfo --completed` (even with --anystats) says None (the lab in a box, libvirt 11.3).
    for line in [
        "virsh domjobinfo db01 --completed",
        "virsh domjobinfo db01 --completed --anystats",
    ] {
        assert_eq!(run(&mut s, line).text, "Job type:         None        \n\n");
    }
    assert!(run(&mut s, "virsh list").text.contains("db01   running"));
}

#[test]
fn a_migration_that_never_converges_is_cancelled_with_a_hint() {
    let mut s = sh(
        "[vm.workload]\nkind = \"hot-set\"\nset_mib = 200\nrate_mibps = 400.0\n[sim]\nmax_time_s = 20.0\n",
    );
    let out = run(
        &mut s,
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/system",
    );
    assert_eq!(out.status, 1);
    assert!(
        out.text.contains("did not converge in 20 s"),
        "{}",
        out.text
    );
    assert!(
        out.text
            .contains("error: operation aborted: job 'migration out' canceled by client")
    );
    assert!(
        out.text.contains("hint: the guest writes memory faster"),
        "{}",
        out.text
    );
}

#[test]
fn ping_follows_the_guest() {
    let mut s = sh("");
    let out = run(&mut s, "ping -c 2 192.168.100.50");
    assert!(out.text.starts_with("PING 192.168.100.50 (192.168.100.50) 56(84) bytes of data.\n64 bytes from 192.168.100.50: icmp_seq=1 ttl=64 time=0."));
    assert!(out.text.contains("\n--- 192.168.100.50 ping statistics ---\n2 packets transmitted, 2 received, 0% packet loss, time 1000ms\nrtt min/avg/max/mdev = "));
    assert_eq!(out.status, 0);
    let out = run(&mut s, "ping -c 2 kvm-host-02");
    assert!(
        out.text
            .contains("64 bytes from kvm-host-02 (192.168.100.12): icmp_seq=1")
    );
    let out = run(&mut s, "ping db01");
    assert_eq!(out.status, 2);
    assert!(
        out.text
            .starts_with("ping: db01: Name or service not known\nhint: db01 is a VM's name")
    );
    let out = run(&mut s, "ping -c 2 192.168.100.99");
    assert_eq!(out.status, 1);
    assert!(
        out.text
            .contains("2 packets transmitted, 0 received, 100% packet loss")
    );
    let out = run(&mut s, "ping 192.168.100.50");
    assert!(
        out.text
            .contains("^C\n\n--- 192.168.100.50 ping statistics ---\n4 packets transmitted"),
        "{}",
        out.text
    );
    let out = run(&mut s, "ping -c 0 192.168.100.50");
    assert_eq!(out.status, 2);
    run(&mut s, "virsh destroy db01");
    let out = run(&mut s, "ping -c 2 -q 192.168.100.50");
    assert!(out.text.contains("100% packet loss"));
    assert!(out.text.contains("hint: db01 is not running on any host"));
}

#[test]
fn a_guest_moved_to_another_subnet_never_answers() {
    let mut sc = lab("");
    sc.hosts[1].subnet = Some("10.0.0.0/24".into());
    let mut s = Shell::new(sc, Lang::En);
    assert_eq!(
        run(
            &mut s,
            "virsh migrate --live db01 qemu+ssh://kvm-host-02/system"
        )
        .status,
        0
    );
    let out = run(&mut s, "ping -c 5 -i 0.2 192.168.100.50");
    assert!(
        out.text
            .contains("5 packets transmitted, 0 received, 100% packet loss"),
        "{}",
        out.text
    );
    assert!(
        out.text
            .contains("hint: db01 runs on kvm-host-02, whose bridge is on another subnet")
    );
}

#[test]
fn ip_and_hosts() {
    let mut s = sh("");
    let out = run(&mut s, "ip -br addr");
    assert!(
        out.text
            .contains("br0              UP             192.168.100.11/24 \n"),
        "{}",
        out.text
    );
    assert!(out.text.contains("vnet0            UNKNOWN"));
    let out = run(&mut s, "ip link show br1");
    assert_eq!(
        (out.status, out.text.as_str()),
        (1, "Device \"br1\" does not exist.\n")
    );
    let out = run(&mut s, "ip link show br0");
    assert!(
        out.text
            .starts_with("3: br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500"),
        "{}",
        out.text
    );
    assert_eq!(run(&mut s, "hostname; whoami").text, "kvm-host-01\nroot\n");
    assert!(
        run(&mut s, "cat /etc/hosts")
            .text
            .contains("192.168.100.12\tkvm-host-02\n")
    );
}

#[test]
fn help_and_language() {
    let mut s = Shell::new(lab(""), Lang::Id);
    let out = run(&mut s, "help");
    assert!(out.text.starts_with("Shell lab migralab"));
    let out = run(&mut s, "virsh migrat");
    assert!(out.text.contains("petunjuk: maksudmu `virsh migrate`?"));
    let out = run(&mut s, "virsh help");
    assert!(out.text.starts_with("Grouping of commands:"));
    let out = run(&mut s, "virsh migrate --help | head -n 2");
    assert_eq!(
        out.text,
        "  NAME\n    migrate - migrate domain to another host\n"
    );
    assert_eq!(s.lang(), Lang::Id);
    assert!(s.reference_migrations().is_empty());
}

#[test]
fn huge_and_odd_input_never_panics() {
    let mut s = sh("");
    for line in [
        "\u{0}",
        "'",
        "\"",
        "\\",
        "é",
        "日本語 | grep 語",
        "ping -é",
        "virsh -é",
        "grep -A",
        "ssh",
        "ssh a b c d e f",
        "exit 999999999999999999999",
        ">",
        "2>&9",
        "&",
        ";",
        "a | | b",
        "(echo)",
        "virsh migrate --live db01 qemu+ssh://[::1]/system",
        "cat /",
        "sleep 1e400",
        "ping -i nan 1.1.1.1",
        "ping -c 3 -i 0.001 -W 0 192.168.100.50",
    ] {
        let _ = run(&mut s, line);
    }
    let long = "virsh list ".repeat(10_000);
    assert_eq!(run(&mut s, &long).status, 2);
    let deep = "ssh kvm-host-02 ".repeat(20) + "hostname";
    assert!(run(&mut s, &deep).text.contains("too many nested ssh"));
}

#[test]
fn destinations_by_address_and_user_and_notes() {
    let mut s = sh("");
    let out = run(
        &mut s,
        "virsh migrate --live --compressed db01 qemu+ssh://root@192.168.100.12/system --migrateuri tcp://192.168.100.12",
    );
    assert_eq!(out.status, 0, "{}", out.text);
    assert_eq!(out.text, "note: not simulated (ignored): --compressed.\n\n");
    let out = run(
        &mut s,
        "virsh -c qemu+ssh://192.168.100.12/system list --name",
    );
    assert_eq!(out.text, "db01\n\n");
    // Without --persistent the destination copy is transient and the source keeps its definition.
    assert!(
        run(&mut s, "virsh list --all")
            .text
            .contains(" -    db01   shut off")
    );
    let out = run(
        &mut s,
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/system",
    );
    assert!(
        out.text
            .starts_with("error: Requested operation is not valid: domain is not running\n")
    );
    assert!(
        out.text.contains(
            "hint: db01 runs on kvm-host-02; kvm-host-01 only has its (shut off) definition."
        ),
        "{}",
        out.text
    );
    let out = run(
        &mut s,
        "ssh kvm-host-02 'virsh destroy db01; virsh list --all'",
    );
    assert!(
        !out.text.contains("db01   "),
        "a transient domain is gone once it stops: {}",
        out.text
    );
    let out = run(
        &mut s,
        "virsh migrate --live db01 qemu+ssh://10.9.9.9/system",
    );
    assert!(
        out.text
            .contains("ssh: connect to host 10.9.9.9 port 22: No route to host"),
        "{}",
        out.text
    );
}

#[test]
fn post_copy_and_timeout_rescue_a_busy_guest() {
    let busy = "[vm.workload]\nkind = \"hot-set\"\nset_mib = 200\nrate_mibps = 400.0\n[sim]\nmax_time_s = 60.0\n";
    let mut s = sh(busy);
    assert_eq!(
        run(
            &mut s,
            "virsh migrate --live db01 qemu+ssh://kvm-host-02/system &"
        )
        .status,
        0
    );
    let out = run(&mut s, "virsh migrate-postcopy db01");
    assert_eq!(
        out.text,
        "error: Requested operation is not valid: switching to post-copy migration requires migration to be started with VIR_MIGRATE_POSTCOPY flag\n\n"
    );
    run(&mut s, "virsh domjobabort db01");

    let mut s = sh(busy);
    run(
        &mut s,
        "virsh migrate --live --postcopy db01 qemu+ssh://kvm-host-02/system &",
    );
    run(&mut s, "sleep 5");
    assert_eq!(run(&mut s, "virsh migrate-postcopy db01").status, 0);
    let out = run(&mut s, "wait");
    assert!(out.text.contains("[1]+  Done"), "{}", out.text);

    let mut s = sh(busy);
    let out = run(
        &mut s,
        "virsh migrate --live --timeout 5 db01 qemu+ssh://kvm-host-02/system --verbose",
    );
    assert_eq!(out.status, 0, "{}", out.text);
    assert!(out.text.ends_with("Migration: [100.00 %]\n\n"));
    let out = run(
        &mut s,
        "ssh kvm-host-02 virsh domjobinfo db01 --completed | grep 'Total downtime'",
    );
    assert!(out.text.starts_with("Total downtime:"), "{}", out.text);
}

#[test]
fn a_pipeline_is_a_subshell() {
    let mut s = sh("");
    let out = run(&mut s, "ssh kvm-host-02 | cat");
    assert_eq!(
        out.text,
        "Pseudo-terminal will not be allocated because stdin is not a terminal.\n"
    );
    assert_eq!(s.current_host(), "kvm-host-01");
    run(&mut s, "exit | cat; cd /tmp | cat");
    assert!(!s.is_closed());
    assert_eq!(s.prompt(), "root@kvm-host-01:~# ");
    assert_eq!(
        run(&mut s, "ssh kvm-host-02; hostname").text,
        "kvm-host-02\n"
    );
    assert_eq!(
        run(&mut s, "exit; hostname").text,
        "logout\nConnection to kvm-host-02 closed.\nkvm-host-01\n"
    );
    assert_eq!(run(&mut s, "exit; hostname").text, "logout\n");
    assert!(s.is_closed());
}

#[test]
fn virsh_reads_files_on_the_client_even_when_connected_elsewhere() {
    let mut s = sh("");
    run(&mut s, "virsh capabilities > here.xml");
    let out = run(
        &mut s,
        "virsh -c qemu+ssh://kvm-host-02/system cpu-compare here.xml",
    );
    assert_eq!(
        out.text,
        "CPU described in here.xml is identical to host CPU\n\n"
    );
    let out = run(&mut s, "ssh kvm-host-02 virsh cpu-compare here.xml");
    assert!(
        out.text
            .starts_with("error: Failed to open file 'here.xml': No such file or directory\n")
    );
}

// ---- runs left behind for the app ----------------------------------------------------------

#[test]
fn a_typed_migration_leaves_a_run_with_its_events_and_the_pings_around_it() {
    let mut s = sh("");
    run(&mut s, "sleep 5");
    assert!(s.poll_run().is_none(), "no migration yet");
    let out = run(
        &mut s,
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent",
    );
    assert_eq!(out.status, 0, "{}", out.text);
    let r = s.poll_run().expect("a run");
    assert!(s.poll_run().is_none(), "each run is returned once");
    assert_eq!(r.from, "kvm-host-01");
    assert_eq!(r.spec.to, "kvm-host-02");
    assert!(r.spec.persistent);
    assert!(r.command.starts_with("virsh migrate --live db01"));
    assert!(r.started >= SimTime::ZERO + SimDuration::from_secs(5));
    assert!(r.ended > r.started);
    assert!(matches!(
        r.outcome(),
        Some(migralab_sim_core::trace::Outcome::Completed { .. })
    ));
    // Only this VM's events, none from before the command.
    let t0 = r.started.as_ms_f64();
    assert!(r.trace.samples("db01").count() > 3);
    assert!(
        r.trace
            .events
            .iter()
            .all(|e| e.source == "db01" || e.source == "prober")
    );
    assert!(
        r.trace
            .events
            .iter()
            .filter(|e| e.source == "db01")
            .all(|e| e.t_ms >= t0)
    );
    // Probes from a second before until after the end, some lost around the switch-over.
    let pings: Vec<_> = r.trace.pings().collect();
    assert!(pings.first().unwrap().sent_ms < t0);
    assert!(pings.last().unwrap().sent_ms > r.ended.as_ms_f64());
    let lost = pings.iter().filter(|p| p.rtt_ms.is_none()).count();
    assert!(
        lost > 0 && lost < pings.len() / 2,
        "{lost} of {}",
        pings.len()
    );
    assert!(pings.iter().all(|p| p.target == "db01"));
}

#[test]
fn a_refused_migration_leaves_a_failed_run() {
    let mut s = sh("");
    let out = run(
        &mut s,
        "virsh migrate --live db01 qemu+ssh://kvm-host-01/system",
    );
    assert_ne!(out.status, 0);
    let r = s.poll_run().expect("a run");
    match r.outcome() {
        Some(migralab_sim_core::trace::Outcome::Failed { error, .. }) => {
            assert!(out.text.contains(&error.virsh_line()), "{}", out.text);
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn a_background_migration_leaves_its_run_when_it_ends() {
    let mut s = sh("");
    run(
        &mut s,
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/system &",
    );
    assert!(s.poll_run().is_none(), "still running");
    run(&mut s, "wait");
    let r = s.poll_run().expect("a run once the job ended");
    assert!(r.outcome().is_some_and(|o| o.is_completed()));
    assert!(r.trace.samples("db01").count() > 3);
}

#[test]
fn issue_20_job_control_answers_as_bash_does() {
    let mut s = sh("");
    assert_eq!(run(&mut s, "sleep 10 &").text, "[1] 4211\n");
    let t0 = s.now();
    let out = run(&mut s, "sleep 20 &");
    let pid2: u32 = out.text[4..out.text.len() - 1].parse().unwrap();
    assert_eq!(out.text, format!("[2] {pid2}\n"));
    assert_eq!(
        run(&mut s, "jobs").text,
        "[1]-  Running                 sleep 10 &\n[2]+  Running                 sleep 20 &\n"
    );
    assert_eq!(
        run(&mut s, "jobs -l").text,
        format!(
            "[1]- 4211 Running                 sleep 10 &\n[2]+ {pid2} Running                 sleep 20 &\n"
        )
    );
    assert_eq!(run(&mut s, "echo $!").text, format!("{pid2}\n"));
    assert_eq!(run(&mut s, "echo '$!'").text, "$!\n");
    assert_eq!(
        run(&mut s, "kill %2").text,
        "[2]+  Terminated              sleep 20\n"
    );
    // Lines typed while a job runs take a second each: `wait` runs the rest of the 10 s.
    assert!(s.now().as_ms_f64() - t0.as_ms_f64() < 9_000.0);
    assert_eq!(
        run(&mut s, "wait").text,
        "[1]+  Done                    sleep 10\n"
    );
    let waited = s.now().as_ms_f64() - t0.as_ms_f64();
    assert!((10_000.0..10_100.0).contains(&waited), "{waited}");
    let out = run(&mut s, "wait %1");
    assert_eq!(
        (out.status, out.text.as_str()),
        (127, "bash: wait: %1: no such job\n")
    );
    let out = run(&mut s, "wait 12345");
    assert_eq!(
        (out.status, out.text.as_str()),
        (127, "bash: wait: pid 12345 is not a child of this shell\n")
    );
    let out = run(&mut s, "fg");
    assert_eq!(
        (out.status, out.text.as_str()),
        (1, "bash: fg: current: no such job\n")
    );
    assert_eq!(run(&mut s, "fg %5").text, "bash: fg: %5: no such job\n");
    assert_eq!(run(&mut s, "kill %9").text, "bash: kill: %9: no such job\n");
    assert_eq!(
        run(&mut s, "kill 12345").text,
        "bash: kill: (12345) - No such process\n"
    );
    assert_eq!(
        run(&mut s, "kill -FOO %1").text,
        "bash: kill: FOO: invalid signal specification\n"
    );
    let out = run(&mut s, "kill");
    assert_eq!(out.status, 2);
    assert_eq!(
        out.text,
        "kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n"
    );
    // A command that takes no time is done at once and reported at the prompt.
    let out = run(&mut s, "false &");
    assert!(
        out.text.ends_with("]+  Exit 1                  false\n"),
        "{}",
        out.text
    );
    let out = run(&mut s, "echo hi > f &");
    assert!(
        out.text
            .ends_with("]+  Done                    echo hi > f\n"),
        "{}",
        out.text
    );
    assert_eq!(run(&mut s, "cat f").text, "hi\n");
    // fg waits for the job and takes its status.
    run(&mut s, "sleep 3 &");
    let before = s.now();
    let out = run(&mut s, "fg %1");
    assert_eq!((out.status, out.text.as_str()), (0, "sleep 3\n"));
    assert!(s.now().as_ms_f64() - before.as_ms_f64() >= 1_900.0);
    run(&mut s, "sleep 30 &");
    assert_eq!(
        run(&mut s, "kill -9 $!").text,
        "[1]+  Killed                  sleep 30\n"
    );
    assert_eq!(run(&mut s, "false; echo $?").text, "1\n");
    assert!(
        run(&mut s, "kill -l")
            .text
            .starts_with(" 1) SIGHUP\t 2) SIGINT\t 3) SIGQUIT\t 4) SIGILL\t 5) SIGTRAP\n")
    );
    assert_eq!(run(&mut s, "kill -l 15 INT").text, "TERM\n2\n");
}

#[test]
fn issue_20_an_endless_background_ping_runs_until_killed() {
    let mut s = sh("");
    let out = run(&mut s, "ping -i 0.2 192.168.100.50 &");
    assert_eq!(
        out.text,
        "[1] 4211\nPING 192.168.100.50 (192.168.100.50) 56(84) bytes of data.\n"
    );
    // Each line typed lets a second pass: five replies at -i 0.2, shown before the answer.
    let out = run(&mut s, "hostname");
    assert!(out.text.ends_with("ms\nkvm-host-01\n"), "{}", out.text);
    let replies = seqs_of(&out.text);
    assert!((4..=6).contains(&replies.len()), "{}", out.text);
    // `wait` would wait forever: the lab presses Ctrl-C, and the ping goes on, as in bash.
    let out = run(&mut s, "wait");
    assert_eq!(out.status, 130, "{}", out.text);
    assert!(out.text.contains("^C\n"), "{}", out.text);
    assert!(run(&mut s, "jobs").text.contains("Running"));
    // In the foreground, Ctrl-C reaches ping: its statistics, status 0.
    let out = run(&mut s, "fg");
    assert_eq!(out.status, 0, "{}", out.text);
    // The replies of the second it took to type `fg` come first.
    assert!(out.text.contains("ttl=64 time=0.4"), "{}", out.text);
    assert!(
        out.text.contains("\nping -i 0.2 192.168.100.50\n"),
        "{}",
        out.text
    );
    assert!(
        out.text
            .contains("^C\n\n--- 192.168.100.50 ping statistics ---\n"),
        "{}",
        out.text
    );
    assert!(out.text.contains(" 0% packet loss"), "{}", out.text);
    assert_eq!(run(&mut s, "jobs").text, "");
    // A bounded ping in the background ends by itself.
    run(&mut s, "ping -c 3 192.168.100.50 > p.txt &");
    let out = run(&mut s, "wait");
    assert!(
        out.text
            .contains("]+  Done                    ping -c 3 192.168.100.50 > p.txt"),
        "{}",
        out.text
    );
    let p = run(&mut s, "cat p.txt").text;
    assert!(
        p.contains("3 packets transmitted, 3 received, 0% packet loss"),
        "{p}"
    );
    // A foreground endless ping next to an endless background one still stops.
    run(&mut s, "ping 192.168.100.50 > /dev/null &");
    let out = run(&mut s, "ping 192.168.100.50");
    assert!(out.text.contains("^C"), "{}", out.text);
}

/// The `icmp_seq` numbers in `text`.
fn seqs_of(text: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|l| l.split("icmp_seq=").nth(1))
        .filter_map(|r| r.split(' ').next()?.parse().ok())
        .collect()
}

#[test]
fn issue_20_coreutils_read_the_files_cat_reads() {
    let mut s = sh("");
    run(
        &mut s,
        "echo 10 > n.txt; echo 9 >> n.txt; echo b >> n.txt; echo b >> n.txt; echo a >> n.txt",
    );
    assert_eq!(run(&mut s, "cat n.txt").text, "10\n9\nb\nb\na\n");
    assert_eq!(run(&mut s, "tail -n 2 n.txt").text, "b\na\n");
    assert_eq!(run(&mut s, "tail -2 n.txt").text, "b\na\n");
    assert_eq!(run(&mut s, "tail -n +4 n.txt").text, "b\na\n");
    assert_eq!(run(&mut s, "head -n 1 n.txt").text, "10\n");
    assert_eq!(
        run(&mut s, "head -1 n.txt n.txt").text,
        "==> n.txt <==\n10\n\n==> n.txt <==\n10\n"
    );
    // GNU wc: one count of one file unpadded; otherwise as wide as the total size.
    assert_eq!(run(&mut s, "wc -l n.txt").text, "5 n.txt\n");
    assert_eq!(run(&mut s, "wc n.txt").text, " 5  5 11 n.txt\n");
    assert_eq!(
        run(&mut s, "wc -lw n.txt n.txt").text,
        " 5  5 n.txt\n 5  5 n.txt\n10 10 total\n"
    );
    assert_eq!(
        run(&mut s, "cat n.txt | wc").text,
        "      5       5      11\n"
    );
    assert_eq!(run(&mut s, "cat n.txt | wc -l").text, "5\n");
    assert_eq!(run(&mut s, "sort n.txt").text, "10\n9\na\nb\nb\n");
    assert_eq!(run(&mut s, "sort -n n.txt").text, "a\nb\nb\n9\n10\n");
    assert_eq!(run(&mut s, "sort -ru n.txt").text, "b\na\n9\n10\n");
    assert_eq!(
        run(&mut s, "uniq -c n.txt").text,
        "      1 10\n      1 9\n      2 b\n      1 a\n"
    );
    assert_eq!(run(&mut s, "uniq n.txt").text, "10\n9\nb\na\n");
    run(&mut s, "echo x > .hidden");
    assert_eq!(run(&mut s, "ls").text, "n.txt\n");
    assert_eq!(run(&mut s, "ls -a").text, ".  ..  .hidden  n.txt\n");
    assert!(
        run(&mut s, "ls -l /root")
            .text
            .contains(" 11 Jan 15 09:00 n.txt\n")
    );
    // GNU coreutils 9's wording for a missing file and a directory.
    for (line, status, text) in [
        (
            "tail x",
            1,
            "tail: cannot open 'x' for reading: No such file or directory\n",
        ),
        (
            "head x",
            1,
            "head: cannot open 'x' for reading: No such file or directory\n",
        ),
        ("wc x", 1, "wc: x: No such file or directory\n"),
        (
            "sort x",
            2,
            "sort: cannot read: x: No such file or directory\n",
        ),
        ("uniq x", 1, "uniq: x: No such file or directory\n"),
        (
            "ls x",
            2,
            "ls: cannot access 'x': No such file or directory\n",
        ),
        (
            "head /etc",
            1,
            "head: error reading '/etc': Is a directory\n",
        ),
        (
            "wc /etc",
            1,
            "wc: /etc: Is a directory\n      0       0       0 /etc\n",
        ),
        (
            "tail -f x",
            1,
            "tail: cannot open 'x' for reading: No such file or directory\ntail: no files remaining\n",
        ),
        (
            "head -n abc n.txt",
            1,
            "head: invalid number of lines: ‘abc’\n",
        ),
    ] {
        let out = run(&mut s, line);
        assert_eq!((out.status, out.text.as_str()), (status, text), "{line}");
    }
    // `tail -f` follows a file a background job writes, until the job ends.
    run(&mut s, "ping -c 4 192.168.100.50 > p.log &");
    let out = run(&mut s, "tail -f p.log");
    assert_eq!(out.status, 130);
    assert!(out.text.contains("icmp_seq=4 "), "{}", out.text);
    assert!(
        out.text.contains("--- 192.168.100.50 ping statistics ---"),
        "{}",
        out.text
    );
    assert!(out.text.contains("^C\n"), "{}", out.text);
}

#[test]
fn issue_20_virsh_applies_the_validators_limits_with_libvirts_errors() {
    let mut s = sh("");
    let migrate = "virsh migrate --live db01 qemu+ssh://kvm-host-02/system";
    let refused = |s: &mut Shell, line: &str, error: &str| {
        let out = run(s, line);
        assert_eq!(
            (out.status, out.text.as_str()),
            (1, format!("error: {error}\n\n").as_str()),
            "{line}"
        );
        assert_eq!(
            s.simulator().migrations().len(),
            0,
            "{line}: nothing started"
        );
    };
    // Downtime: virsh refuses 0, QEMU refuses more than 2000 s; the validator's range.
    for (ms, ok) in [
        (0u64, false),
        (1, true),
        (2_000_000, true),
        (2_000_001, false),
    ] {
        let out = run(&mut s, &format!("virsh migrate-setmaxdowntime db01 {ms}"));
        assert_eq!(out.status == 0, ok, "{ms}: {}", out.text);
        assert_eq!(
            migralab_sim_core::limits::DOWNTIME_LIMIT_MS.contains(&ms),
            ok
        );
    }
    assert_eq!(
        run(&mut s, "virsh migrate-setmaxdowntime db01 0").text,
        "error: migrate: Invalid downtime\n\n"
    );
    assert_eq!(
        run(&mut s, "virsh migrate-setmaxdowntime db01 2000001").text,
        "error: internal error: unable to execute QEMU command 'migrate-set-parameters': Parameter 'downtime_limit' expects an integer in the range of 0 to (2000 * 1000) ms\n\n"
    );
    assert_eq!(
        run(&mut s, "virsh migrate-getmaxdowntime db01").text,
        "2000000\n\n"
    );
    run(&mut s, "virsh migrate-setmaxdowntime db01 300");
    // Auto-converge tunables need --auto-converge, then QEMU's 1..99.
    refused(
        &mut s,
        &format!("{migrate} --auto-converge-initial 30"),
        "invalid argument: Turn auto convergence on to tune it",
    );
    for (v, ok) in [
        (0u64, false),
        (1, true),
        (99, true),
        (100, false),
        (150, false),
    ] {
        assert_eq!(migralab_sim_core::limits::THROTTLE_PCT.contains(&v), ok);
        if ok {
            continue;
        }
        refused(
            &mut s,
            &format!("{migrate} --auto-converge --auto-converge-initial {v}"),
            "internal error: unable to execute QEMU command 'migrate-set-parameters': Parameter 'cpu_throttle_initial' expects an integer in the range of 1 to 99",
        );
        refused(
            &mut s,
            &format!("{migrate} --auto-converge --auto-converge-increment {v}"),
            "internal error: unable to execute QEMU command 'migrate-set-parameters': Parameter 'cpu_throttle_increment' expects an integer in the range of 1 to 99",
        );
    }
    // --parallel-connections needs --parallel.
    refused(
        &mut s,
        &format!("{migrate} --parallel-connections 4"),
        "invalid argument: Turn parallel migration on to tune it",
    );
    // --timeout-postcopy without --postcopy: virsh's switch fails silently, the migration goes
    // on (the validator refuses the same combination in a scenario).
    let out = run(
        &mut s,
        &format!(
            "{migrate} --auto-converge --auto-converge-initial 99 --timeout 1 --timeout-postcopy"
        ),
    );
    assert_eq!(out.status, 0, "{}", out.text);
    assert!(
        out.text.contains("--timeout-postcopy without --postcopy"),
        "{}",
        out.text
    );
    // The scenario validator draws the line at the same values.
    let validates = |f: &dyn Fn(&mut migralab_sim_core::scenario::MigrationSpec)| {
        let mut scenario = lab("");
        let mut m = migralab_sim_core::scenario::MigrationSpec::new("db01", "kvm-host-02");
        f(&mut m);
        scenario.migrations.push(m);
        scenario.validate().is_ok()
    };
    assert!(validates(&|m| m.downtime_limit_ms = 2_000_000));
    assert!(!validates(&|m| m.downtime_limit_ms = 2_000_001));
    assert!(!validates(&|m| m.downtime_limit_ms = 0));
    assert!(validates(&|m| {
        m.auto_converge = true;
        m.auto_converge_initial = Some(99);
    }));
    assert!(!validates(&|m| {
        m.auto_converge = true;
        m.auto_converge_increment = Some(100);
    }));
    assert!(!validates(&|m| m.auto_converge_initial = Some(20)));
}

#[test]
fn issue_20_waiting_past_the_lines_time_budget_leaves_the_job_running() {
    let mut s = sh("");
    run(&mut s, "sleep 9000 &");
    let out = run(&mut s, "wait");
    assert_eq!(out.status, 0, "{}", out.text);
    assert!(!out.text.contains("^C"), "{}", out.text);
    assert!(
        out.text
            .contains("the lab's time limit for one line was reached"),
        "{}",
        out.text
    );
    assert_eq!(
        run(&mut s, "jobs").text,
        "[1]+  Running                 sleep 9000 &\n"
    );
    // The rest of the 2.5 hours fits in the next line's budget.
    let out = run(&mut s, "fg");
    assert_eq!((out.status, out.text.as_str()), (0, "sleep 9000\n"));
    assert_eq!(run(&mut s, "jobs").text, "");
}

#[test]
fn sort_and_uniq_refuse_an_unknown_option_as_coreutils_does() {
    let mut s = sh("");
    let out = run(&mut s, "sort -nx f");
    assert_eq!(
        (out.status, out.text.as_str()),
        (
            2,
            "sort: invalid option -- 'x'\nTry 'sort --help' for more information.\n"
        )
    );
    let out = run(&mut s, "uniq -q f");
    assert_eq!(
        (out.status, out.text.as_str()),
        (
            1,
            "uniq: invalid option -- 'q'\nTry 'uniq --help' for more information.\n"
        )
    );
    run(&mut s, "echo b > f; echo a >> f; echo b >> f");
    let out = run(&mut s, "sort -ru f");
    assert_eq!(out.text, "b\na\n");
}
