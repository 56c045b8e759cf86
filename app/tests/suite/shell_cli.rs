//! `migralab shell`, run for real: `-c` batches, piped stdin, exit statuses.

use crate::common::{Run, migralab_with};

/// `migralab ARGS` outside the workspace, `stdin` piped in (`None`: no standard input).
fn migralab(args: &[&str], stdin: Option<&str>) -> Run {
    migralab_with(&std::env::temp_dir(), args, stdin)
}

#[test]
fn a_batch_runs_and_exits_with_the_last_status() {
    let run = migralab(&["shell", "lesson", "-c", "virsh list; hostname"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        " Id   Name   State\n----------------------\n 1    db01   running\n\nkvm-host-01\n"
    );
    let run = migralab(
        &["shell", "lesson", "-c", "hostname; virsh dominfo web"],
        None,
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .starts_with("kvm-host-01\nerror: failed to get domain 'web'\n")
    );
    assert!(run.stdout.contains("petunjuk: "), "{}", run.stdout);
    let run = migralab(&["shell", "-c", "nosuchcommand", "--lang", "en"], None);
    assert_eq!(run.code, 127);
    assert!(
        run.stdout
            .starts_with("bash: nosuchcommand: command not found\nhint: ")
    );
}

#[test]
fn the_lessons_migration_in_one_batch() {
    let run = migralab(
        &[
            "shell",
            "lesson",
            "-c",
            "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent && ssh kvm-host-02 virsh list",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains(" db01   running"), "{}", run.stdout);
}

#[test]
fn piped_stdin_is_read_line_by_line() {
    let run = migralab(
        &["shell", "prereq-firewall", "--lang", "en"],
        Some(
            "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent\nssh kvm-host-02\nhostname\nexit\nhostname\n",
        ),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("migralab shell — "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("`help`"));
    assert!(run.stdout.contains(
        "root@kvm-host-01:~# virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent\nerror: unable to connect to server at 'kvm-host-02:49152': No route to host\n"
    ), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("hint: Migration ports 49152–49215: Open 49152–49215/tcp"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("root@kvm-host-02:~# hostname\nkvm-host-02\n")
    );
    assert!(
        run.stdout
            .ends_with("root@kvm-host-01:~# hostname\nkvm-host-01\n")
    );
    // `exit` on the first host ends the session; later lines are not read.
    let run = migralab(&["shell"], Some("exit 3\nhostname\n"));
    assert_eq!(run.code, 3);
    assert!(!run.stdout.contains("kvm-host-01\n"));
}

#[test]
fn a_bad_scenario_is_an_error() {
    let run = migralab(&["shell", "no-such-scenario", "-c", "hostname"], None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    let run = migralab(
        &[
            "shell",
            "lesson",
            "--set",
            "link.bandwidth_mibps=0",
            "-c",
            "hostname",
        ],
        None,
    );
    assert_eq!(run.code, 2, "{}", run.stdout);
}
