//! The lab shell on the shipped scenarios: the lesson's commands verbatim, every broken
//! prerequisite, experiment 2's CPU models, and a ping during a background migration.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use migralab_shell::{Lang, Shell, ShellOutput};
use migralab_sim_core::Scenario;

macro_rules! scenario {
    ($name:literal) => {
        Scenario::from_toml_str(include_str!(concat!(
            "../../../../scenarios/",
            $name,
            ".toml"
        )))
        .unwrap_or_else(|e| panic!("{}: {e}", $name))
    };
}

/// Run `line` and show it in the failure message if an assertion on it fails.
pub(crate) fn run(sh: &mut Shell, line: &str) -> ShellOutput {
    let prompt = sh.prompt();
    let out = sh.run_line(line);
    eprintln!("{prompt}{line}\n{}[exit {}]", out.text, out.status);
    out
}

#[test]
fn the_lessons_commands_work_verbatim() {
    let mut sh = Shell::new(scenario!("lesson"), Lang::Id);
    assert_eq!(sh.prompt(), "root@kvm-host-01:~# ");
    let out = run(
        &mut sh,
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent",
    );
    assert_eq!(out.status, 0);
    assert_eq!(out.text, "\n", "virsh prints only its closing empty line");
    // The migration took lab time: the first pass alone sends ~1 GiB at ~112 MiB/s.
    assert!(sh.now().as_ms_f64() > 5_000.0, "{:?}", sh.now());

    let out = run(&mut sh, "ssh kvm-host-02");
    assert_eq!((out.status, out.text.as_str()), (0, ""));
    assert_eq!(sh.prompt(), "root@kvm-host-02:~# ");
    let out = run(&mut sh, "virsh list");
    assert!(out.text.contains(" db01   running"), "{}", out.text);
    let out = run(&mut sh, "virsh capabilities | grep -A5 '<model>'");
    let first = out.text.lines().next().unwrap_or("");
    assert_eq!(first.trim(), "<model>Skylake-Client-noTSX-IBRS</model>");
    assert!(
        out.text
            .lines()
            .nth(1)
            .unwrap()
            .contains("<vendor>Intel</vendor>")
    );
    let out = run(&mut sh, "exit");
    assert!(out.text.contains("Connection to kvm-host-02 closed."));
    assert_eq!(sh.current_host(), "kvm-host-01");

    // --persistent does not remove the source definition: db01 stays, shut off.
    let out = run(&mut sh, "virsh list --all");
    assert!(out.text.contains(" -    db01   shut off"), "{}", out.text);
    let out = run(&mut sh, "virsh list");
    assert!(!out.text.contains("db01"));
    let out = run(&mut sh, "virsh capabilities | grep -A5 '<model>'");
    assert!(
        out.text
            .starts_with("      <model>Skylake-Client-noTSX-IBRS</model>\n")
    );
    assert!(!sh.is_closed());
    let out = run(&mut sh, "exit");
    assert_eq!(out.text, "logout\n");
    assert!(sh.is_closed());
}

#[test]
fn every_broken_prerequisite_fails_with_libvirts_message() {
    let cases: Vec<(Scenario, &str)> = vec![
        (
            scenario!("prereq-no-shared-storage"),
            "error: Unsafe migration: Migration without shared storage is unsafe",
        ),
        (
            scenario!("prereq-no-bridge"),
            "error: Cannot get interface MTU on 'br0': No such device",
        ),
        (
            scenario!("prereq-no-ssh-trust"),
            // `virsh migrate` prints libvirt's error alone (issue 20, lab in a box).
            "error: Cannot recv data: root@kvm-host-02: Permission denied (publickey,password).: Connection reset by peer",
        ),
        (
            scenario!("prereq-cpu-mismatch"),
            "error: operation failed: guest CPU doesn't match specification: missing features: ",
        ),
        (
            scenario!("prereq-old-qemu"),
            "error: unsupported configuration: Emulator '/usr/bin/qemu-system-x86_64' does not support machine type 'pc-q35-7.2'",
        ),
        (
            scenario!("prereq-firewall"),
            "error: unable to connect to server at 'kvm-host-02:49152': No route to host",
        ),
        (
            scenario!("prereq-dns"),
            "error: Cannot recv data: ssh: Could not resolve hostname kvm-host-02: Name or service not known: Connection reset by peer",
        ),
        (
            scenario!("prereq-same-host"),
            "error: internal error: Attempt to migrate guest to the same host 03000200-0400-0500-0006-000700080009",
        ),
    ];
    for (s, message) in cases {
        let name = s.name.clone();
        for lang in [Lang::Id, Lang::En] {
            let mut sh = Shell::new(s.clone(), lang);
            let out = run(
                &mut sh,
                "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent",
            );
            assert_eq!(out.status, 1, "{name}");
            assert!(out.text.starts_with(message), "{name}: {}", out.text);
            let hint = match lang {
                Lang::Id => "petunjuk: ",
                Lang::En => "hint: ",
            };
            let last = out.text.lines().last().unwrap_or("");
            assert!(last.starts_with(hint), "{name}: no hint in {}", out.text);
            // A failed migration leaves the guest running where it was.
            let out = run(&mut sh, "virsh list");
            assert!(out.text.contains("db01   running"), "{name}: {}", out.text);
        }
    }
}

#[test]
fn a_student_can_fix_name_resolution_and_ssh_trust() {
    let mut sh = Shell::new(scenario!("prereq-dns"), Lang::En);
    let out = run(&mut sh, "ssh kvm-host-02");
    assert_eq!(out.status, 255);
    assert!(
        out.text.starts_with(
            "ssh: Could not resolve hostname kvm-host-02: Name or service not known\n"
        )
    );
    assert!(
        out.text.contains("192.168.100.12 kvm-host-02"),
        "{}",
        out.text
    );
    run(&mut sh, "echo '192.168.100.12 kvm-host-02' >> /etc/hosts");
    let out = run(&mut sh, "cat /etc/hosts | grep kvm-host-02");
    assert_eq!(out.text, "192.168.100.12 kvm-host-02\n");
    let out = run(
        &mut sh,
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent",
    );
    assert_eq!(out.status, 0, "{}", out.text);

    let mut sh = Shell::new(scenario!("prereq-no-ssh-trust"), Lang::En);
    let out = run(&mut sh, "ssh kvm-host-02 hostname");
    assert_eq!(out.status, 255);
    assert!(
        out.text
            .starts_with("root@kvm-host-02: Permission denied (publickey,password).\n")
    );
    assert!(out.text.contains("ssh-copy-id root@kvm-host-02"));
    let out = run(&mut sh, "ssh-copy-id root@kvm-host-02");
    assert!(
        out.text.contains("Number of key(s) added: 1"),
        "{}",
        out.text
    );
    let out = run(&mut sh, "ssh kvm-host-02 hostname");
    assert_eq!((out.status, out.text.as_str()), (0, "kvm-host-02\n"));
    let out = run(
        &mut sh,
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent",
    );
    assert_eq!(out.status, 0, "{}", out.text);
}

#[test]
fn experiment_2_baseline_and_host_passthrough() {
    let mut sh = Shell::new(scenario!("exp2-cpu-models"), Lang::En);
    let out = run(&mut sh, "virsh capabilities > caps1.xml");
    assert_eq!((out.status, out.text.as_str()), (0, ""));
    let out = run(&mut sh, "ssh kvm-host-02 virsh capabilities > caps2.xml");
    assert_eq!(out.status, 0, "{}", out.text);
    let out = run(&mut sh, "grep '<model>' caps1.xml caps2.xml | head -n 4");
    assert!(
        out.text
            .contains("caps1.xml:      <model>Skylake-Client-noTSX-IBRS</model>")
    );
    assert!(
        out.text
            .contains("caps2.xml:      <model>Haswell-noTSX-IBRS</model>")
    );
    run(
        &mut sh,
        "cat caps1.xml > both.xml; cat caps2.xml >> both.xml",
    );
    let out = run(
        &mut sh,
        "virsh cpu-baseline both.xml > baseline.xml; cat baseline.xml",
    );
    assert!(
        out.text.starts_with("<cpu mode='custom' match='exact'"),
        "{}",
        out.text
    );
    assert!(
        // A computed CPU has libvirt's default fallback (issue 20, lab in a box).
        out.text.contains("<model fallback='allow'>"),
        "{}",
        out.text
    );
    // The baseline runs here and on kvm-host-02; kvm-host-02's CPU does not run here... and
    // kvm-host-01's CPU is more than kvm-host-02 has.
    let out = run(&mut sh, "virsh cpu-compare baseline.xml");
    assert_eq!(out.status, 0);
    assert!(
        out.text
            .starts_with("Host CPU is a superset of CPU described in baseline.xml")
    );
    let out = run(&mut sh, "virsh cpu-compare caps2.xml");
    assert_eq!(out.status, 0, "{}", out.text);
    run(&mut sh, "scp baseline.xml caps1.xml kvm-host-02:");
    let out = run(
        &mut sh,
        "ssh kvm-host-02 virsh hypervisor-cpu-compare caps1.xml",
    );
    assert_eq!(out.status, 1);
    assert!(out.text.starts_with(
        "CPU described in caps1.xml is incompatible with the CPU provided by hypervisor on the host\n"
    ));
    let out = run(&mut sh, "ssh kvm-host-02 virsh cpu-compare baseline.xml");
    assert_eq!(out.status, 0, "{}", out.text);

    // host-passthrough: libvirt does not compare it; the copy runs, then the destination QEMU
    // cannot load the vCPU state (SMAP, switched on by the guest's kernel, is missing).
    let out = run(
        &mut sh,
        "virsh migrate --live app01 qemu+ssh://kvm-host-02/system --persistent",
    );
    assert_eq!(out.status, 1);
    assert!(
        out.text.starts_with(
            "error: internal error: QEMU unexpectedly closed the monitor (vm='app01'): "
        ),
        "{}",
        out.text
    );
    assert!(
        !out.text.contains("doesn't match specification"),
        "{}",
        out.text
    );
    assert!(out.text.contains("host-model"), "{}", out.text);
    // host-model: checked, and refused before any RAM is copied.
    let out = run(
        &mut sh,
        "virsh migrate --live web01 qemu+ssh://kvm-host-02/system --persistent",
    );
    assert_eq!(out.status, 1);
    assert!(
        out.text.starts_with(
            "error: operation failed: guest CPU doesn't match specification: missing features: "
        ),
        "{}",
        out.text
    );
    assert!(out.text.contains("cpu-baseline"), "{}", out.text);
    let out = run(&mut sh, "virsh dumpxml app01 | grep '<cpu'");
    assert_eq!(
        out.text,
        "  <cpu mode='host-passthrough' check='none' migratable='on'/>\n"
    );
    // What libvirt now recommends: the baseline over what each host's QEMU can give.
    run(&mut sh, "virsh domcapabilities > dc.xml");
    run(&mut sh, "ssh kvm-host-02 virsh domcapabilities >> dc.xml");
    let out = run(&mut sh, "virsh hypervisor-cpu-baseline dc.xml");
    assert_eq!(out.status, 0, "{}", out.text);
    assert!(
        out.text.starts_with(
            "<cpu mode='custom' match='exact'>\n  <model fallback='forbid'>Haswell-noTSX-IBRS</model>\n  <vendor>Intel</vendor>\n"
        ),
        "{}",
        out.text
    );
    let dumped = run(&mut sh, "virsh dumpxml db01");
    for line in out.text.lines().filter(|l| l.contains("<feature ")) {
        assert!(
            dumped.text.contains(line),
            "db01 lacks {line}:\n{}",
            dumped.text
        );
    }
    // The baseline model migrates.
    let out = run(
        &mut sh,
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent --verbose",
    );
    assert_eq!(out.status, 0, "{}", out.text);
    assert!(out.text.contains("Migration: [100.00 %]"));
}

#[test]
fn a_ping_during_a_background_migration_loses_replies() {
    let mut sh = Shell::new(scenario!("lesson"), Lang::En);
    let out = run(
        &mut sh,
        "virsh migrate --live --verbose db01 qemu+ssh://kvm-host-02/system --persistent &",
    );
    assert_eq!(out.status, 0);
    assert!(out.text.starts_with("[1] "), "{}", out.text);
    // The progress line printed while `jobs` was typed comes first.
    let out = run(&mut sh, "jobs");
    assert!(
        out.text.starts_with("Migration: [")
            && out
                .text
                .contains("\n[1]+  Running                 virsh migrate --live --verbose db01"),
        "{}",
        out.text
    );
    // The job's progress line of the second it took to type comes first.
    let out = run(&mut sh, "virsh domjobinfo db01");
    assert!(
        out.text.starts_with("Migration: [")
            && out.text.contains("%]\nJob type:         Unbounded"),
        "{}",
        out.text
    );
    assert!(out.text.contains("Operation:        Outgoing migration"));
    // 300 probes 10 ms apart (3 s) do not cover a 10+ s migration: ping until it ends.
    let mut lost = 0;
    let mut done = false;
    for _ in 0..10 {
        let out = run(&mut sh, "ping -c 300 -i 0.01 192.168.100.50 | tail -n 3");
        let stats = out
            .text
            .lines()
            .find(|l| l.contains("packets transmitted"))
            .unwrap()
            .to_string();
        let received: u64 = stats
            .split(", ")
            .nth(1)
            .and_then(|x| x.split(' ').next())
            .and_then(|x| x.parse().ok())
            .unwrap();
        lost += 300 - received;
        if out.text.contains("[1]+  Done") {
            done = true;
            break;
        }
    }
    assert!(done, "the migration should have finished");
    // About 0.3 s of downtime plus the announce: tens of lost replies at 10 ms.
    assert!((5..200).contains(&lost), "lost {lost}");
    let out = run(&mut sh, "ping -c 3 192.168.100.50");
    assert!(
        out.text
            .contains("3 packets transmitted, 3 received, 0% packet loss"),
        "{}",
        out.text
    );
    // db01 is shut off here now: libvirt has no current job to show (issue 20, lab in a box).
    let out = run(&mut sh, "virsh domjobinfo db01");
    assert!(
        out.text
            .starts_with("error: Requested operation is not valid: domain is not running"),
        "{}",
        out.text
    );
}

/// The `icmp_seq` numbers of ping's reply lines in `text`, in order.
fn seqs(text: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|l| l.split("icmp_seq=").nth(1))
        .filter_map(|r| r.split(' ').next()?.parse().ok())
        .collect()
}

/// How many probes `interval_s` apart fell into the migration's network outages: the loss a
/// ping running across the migration must show.
fn expected_loss(sh: &Shell, interval_s: f64) -> f64 {
    let m = &sh.simulator().migrations()[0];
    let outage_s: f64 = m
        .outages()
        .iter()
        .map(|&(a, b)| b.unwrap_or(a).as_ms_f64() - a.as_ms_f64())
        .sum::<f64>()
        / 1000.0;
    outage_s / interval_s
}

#[test]
fn issue_20_a_background_ping_sees_the_loss_of_a_migration_typed_after_it() {
    // Experiment 1 typed in one terminal, as the lesson says.
    let mut sh = Shell::new(scenario!("lesson"), Lang::En);
    let mut all = String::new();
    let out = run(&mut sh, "ping -i 0.2 192.168.100.50 &");
    assert!(out.text.starts_with("[1] "), "{}", out.text);
    assert!(
        out.text
            .contains("PING 192.168.100.50 (192.168.100.50) 56(84) bytes of data.")
    );
    all.push_str(&out.text);
    let out = run(
        &mut sh,
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent",
    );
    assert_eq!(out.status, 0, "{}", out.text);
    // The ping went on during the migration: its replies are on the terminal.
    assert!(
        out.text.contains("64 bytes from 192.168.100.50"),
        "{}",
        out.text
    );
    all.push_str(&out.text);
    // The replies of the second it took to type `jobs` come first.
    let out = run(&mut sh, "jobs");
    assert!(
        out.text
            .ends_with("\n[1]+  Running                 ping -i 0.2 192.168.100.50 &\n"),
        "{}",
        out.text
    );
    all.push_str(&out.text);
    // Ctrl-C's signal: iputils prints its statistics and exits 0 (bash says Done).
    let out = run(&mut sh, "kill -INT %1");
    all.push_str(&out.text);
    assert!(
        out.text
            .ends_with("[1]+  Done                    ping -i 0.2 192.168.100.50\n"),
        "{}",
        out.text
    );
    let seqs = seqs(&all);
    let first = seqs[0];
    let last = *seqs.last().unwrap();
    let lost = (last - first + 1) as usize - seqs.len();
    let expected = expected_loss(&sh, 0.2);
    assert!(expected > 1.0, "the lesson's downtime spans several probes");
    assert!(
        (lost as f64 - expected).abs() <= 1.5,
        "lost {lost}, the outage covers {expected:.1} probes"
    );
    // The statistics agree with the replies shown.
    let stats = all
        .lines()
        .find(|l| l.contains("packets transmitted"))
        .unwrap();
    let n: Vec<u64> = stats
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|x| x.parse().ok())
        .collect();
    assert_eq!(n[1] as usize, seqs.len(), "{stats}");
    assert!(n[0] >= last && n[0] - n[1] >= lost as u64, "{stats}");
}

#[test]
fn issue_20_a_redirected_background_ping_writes_its_file_and_coreutils_agree() {
    let mut sh = Shell::new(scenario!("lesson"), Lang::En);
    let out = run(&mut sh, "ping -i 0.2 192.168.100.50 > ping.log &");
    assert!(out.text.starts_with("[1] "), "{}", out.text);
    assert!(!out.text.contains("PING"), "{}", out.text);
    let out = run(
        &mut sh,
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent",
    );
    assert_eq!(out.status, 0, "{}", out.text);
    assert!(!out.text.contains("64 bytes"), "{}", out.text);
    let out = run(&mut sh, "kill %1");
    // SIGTERM kills iputils ping without its statistics.
    assert_eq!(
        out.text,
        "[1]+  Terminated              ping -i 0.2 192.168.100.50 > ping.log\n"
    );
    let cat = run(&mut sh, "cat ping.log").text;
    assert!(cat.starts_with("PING 192.168.100.50"), "{cat}");
    assert!(!cat.contains("statistics"), "{cat}");
    let seqs = seqs(&cat);
    let lost = (seqs.last().unwrap() - seqs[0] + 1) as usize - seqs.len();
    let expected = expected_loss(&sh, 0.2);
    assert!(
        (lost as f64 - expected).abs() <= 1.5,
        "lost {lost}, the outage covers {expected:.1} probes"
    );
    let lines: Vec<&str> = cat.lines().collect();
    let tail = run(&mut sh, "tail -n 3 ping.log");
    assert_eq!(tail.status, 0);
    assert_eq!(tail.text, lines[lines.len() - 3..].join("\n") + "\n");
    assert_eq!(
        run(&mut sh, "tail ping.log").text,
        lines[lines.len() - 10..].join("\n") + "\n"
    );
    assert_eq!(
        run(&mut sh, "head -2 ping.log").text,
        lines[..2].join("\n") + "\n"
    );
    assert_eq!(
        run(&mut sh, "wc -l ping.log").text,
        format!("{} ping.log\n", lines.len())
    );
    assert_eq!(
        run(&mut sh, "cat ping.log | wc -l").text,
        format!("{}\n", lines.len())
    );
    let grep = run(&mut sh, "grep -c icmp_seq ping.log").text;
    assert_eq!(grep, format!("{}\n", seqs.len()));
    let ls = run(&mut sh, "ls -l ping.log").text;
    assert!(ls.contains(&format!(" {} ", cat.len())), "{ls}");
}

/// virsh's formats as libvirt 11.3 prints them, each measured in the lab in a box (captures in
/// the issue-20 notes): the table rule, domstate's reasons after a migration, domifaddr without
/// a lease, domjobinfo's zero values and "w/o network" lines, cpu-baseline's attributes.
#[test]
fn issue_20_virsh_prints_what_libvirt_11_prints() {
    let mut sh = Shell::new(scenario!("labbox"), Lang::En);
    // vshTablePrint: each column's widest cell + 3 dashes ("running": 2 + 4 + 7 + 9 = 22).
    let out = run(&mut sh, "virsh list");
    assert_eq!(
        out.text,
        " Id   Name   State\n----------------------\n 1    db01   running\n\n"
    );
    let out = run(&mut sh, "virsh domstate --reason db01");
    assert_eq!(out.text, "running (booted)\n\n");
    // A guest on a host bridge has no libvirt lease: the header only.
    let out = run(&mut sh, "virsh domifaddr db01");
    assert_eq!(
        out.text,
        format!(
            " Name       MAC address          Protocol     Address\n{}\n\n",
            "-".repeat(79)
        )
    );
    let out = run(&mut sh, "virsh domifaddr db01 --source arp");
    assert!(
        out.text.contains("ipv4         10.77.0.10/0\n"),
        "{}",
        out.text
    );
    let out = run(&mut sh, "virsh dominfo db01");
    assert!(
        out.text.contains("\nAutostart Once: disable\n"),
        "{}",
        out.text
    );
    assert!(
        out.text.contains("\nSecurity model: none\n"),
        "{}",
        out.text
    );
    assert!(!out.text.contains("Security label"), "{}", out.text);
    let out = run(&mut sh, "virsh migrate-getspeed db01 --postcopy");
    assert_eq!(out.text, "0\n\n");
    let out = run(
        &mut sh,
        "virsh capabilities > caps.xml; virsh cpu-baseline caps.xml",
    );
    assert!(
        out.text.starts_with(
            "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>EPYC</model>\n"
        ),
        "{}",
        out.text
    );

    let out = run(
        &mut sh,
        "virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system",
    );
    assert_eq!(out.status, 0, "{}", out.text);
    // The source keeps the definition, shut off because the domain migrated; the destination
    // runs it for the same reason.
    let out = run(&mut sh, "virsh domstate --reason db01");
    assert_eq!(out.text, "shut off (migrated)\n\n");
    let out = run(&mut sh, "virsh list --all");
    assert!(
        out.text
            .contains("\n-----------------------\n -    db01   shut off\n"),
        "{}",
        out.text
    );
    // Only a running domain has a current job.
    let out = run(&mut sh, "virsh domjobinfo db01");
    assert_eq!(
        (out.status, out.text.as_str()),
        (
            1,
            "error: Requested operation is not valid: domain is not running\n\n"
        )
    );
    let out = run(&mut sh, "virsh domjobinfo --completed db01");
    let lines: Vec<&str> = out.text.lines().collect();
    assert_eq!(lines[0], "Job type:         Completed   ");
    assert_eq!(lines[1], "Operation:        Outgoing migration");
    assert!(
        lines[3].starts_with("Time elapsed w/o network: "),
        "{}",
        out.text
    );
    // vshPrettyCapacity prints bytes with three decimals too.
    assert!(
        out.text.contains("\nData remaining:   0.000 B\n"),
        "{}",
        out.text
    );
    assert!(
        out.text.contains("\nMemory remaining: 0.000 B\n"),
        "{}",
        out.text
    );
    let downtime = lines
        .iter()
        .position(|l| l.starts_with("Total downtime:"))
        .unwrap();
    assert!(
        lines[downtime + 1].starts_with("Downtime w/o network: "),
        "{}",
        out.text
    );
    let out = run(&mut sh, "ssh kvm-host-02");
    assert_eq!(out.status, 0);
    let out = run(&mut sh, "virsh domstate --reason db01");
    assert_eq!(out.text, "running (migrated)\n\n");
    let out = run(&mut sh, "virsh domjobinfo --completed db01");
    assert!(
        out.text.contains("Operation:        Incoming migration\n"),
        "{}",
        out.text
    );
}

/// The name-resolution traps as the lab in a box showed them (issue 20 §2): a copied
/// `127.0.1.1 kvm-host-02` line fails ssh by name and the data connection by address; a
/// destination still called localhost is refused in the Prepare step.
#[test]
fn issue_20_name_resolution_traps_fail_as_libvirt_fails_them() {
    let mut sh = Shell::new(scenario!("prereq-dns-loopback"), Lang::En);
    let out = run(
        &mut sh,
        "virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system",
    );
    assert_eq!(out.status, 1);
    assert!(
        out.text.starts_with("error: Cannot recv data: @@@@"),
        "{}",
        out.text
    );
    assert!(
        out.text
            .contains("Host key verification failed.: Connection reset by peer\n"),
        "{}",
        out.text
    );
    let out = run(
        &mut sh,
        "virsh migrate --live --persistent db01 qemu+ssh://192.168.100.12/system",
    );
    assert_eq!(out.status, 1);
    assert!(
        out.text.starts_with(
            "error: unable to connect to server at 'kvm-host-02:49152': Connection refused\n"
        ),
        "{}",
        out.text
    );
    // Nothing moved: db01 still runs here.
    assert!(
        run(&mut sh, "virsh domstate db01")
            .text
            .starts_with("running")
    );

    let mut sh = Shell::new(scenario!("prereq-dns-localhost"), Lang::En);
    let out = run(
        &mut sh,
        "virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system",
    );
    assert!(
        out.text.starts_with("error: internal error: hostname on destination resolved to localhost, but migration requires an FQDN\n"),
        "{}",
        out.text
    );
}
