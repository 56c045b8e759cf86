//! Issue 22, §1–2, through the real binary: nothing a user names as an output or an input can
//! hang migralab, and no file is destroyed or lost. The properties of the helper itself are
//! tested in `migralab_real::fsutil`.

use crate::common::{Run, Scratch, is_root, migralab_in};
use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Run `migralab ARGS` in `dir`; a run that blocks fails the test instead of hanging CI.
fn migralab_within(secs: u64, dir: &Path, args: &[&str]) -> Run {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let _ = tx.send(migralab_in(&dir, &args));
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("migralab blocked for more than {secs} s"))
}

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// Exit 2 with the reason, and never a `wrote` line.
fn refused(run: &Run, reason: &str) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains(reason), "{}", run.stderr);
    assert!(!run.stderr.contains("wrote"), "{}", run.stderr);
}

/// The names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

#[test]
fn out_to_a_fifo_nobody_reads_is_refused_without_blocking() {
    let dir = Scratch::new("hostile", "fifo-noreader");
    let fifo = dir.path("pipe");
    mkfifo(&fifo);
    let run = migralab_within(60, dir.as_path(), &["sim", "--out", &dir.arg("pipe")]);
    refused(&run, "no process is reading");
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn out_to_a_fifo_with_a_reader_is_written_into() {
    let dir = Scratch::new("hostile", "fifo-reader");
    let fifo = dir.path("pipe");
    mkfifo(&fifo);
    let f = fifo.clone();
    // Opened before migralab runs, as `cat pipe &` is: the open blocks until a writer comes.
    let reader = std::thread::spawn(move || std::fs::read_to_string(&f).unwrap());
    // Give the reader time to open: migralab does not wait for one.
    std::thread::sleep(Duration::from_millis(300));
    let run = migralab_within(
        60,
        dir.as_path(),
        &["sim", "--json", "--out", &dir.arg("pipe")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = reader.join().unwrap();
    assert!(text.contains("\"outcome\""), "{text}");
    assert!(
        std::fs::metadata(&fifo).unwrap().file_type().is_fifo(),
        "still a FIFO"
    );
}

#[test]
fn out_to_dev_null_writes_into_it() {
    let dir = Scratch::new("hostile", "devnull");
    let run = migralab_within(60, dir.as_path(), &["sim", "--out", "/dev/null"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

#[test]
fn out_to_a_full_device_exits_2_with_the_reason() {
    let dir = Scratch::new("hostile", "devfull");
    let run = migralab_within(60, dir.as_path(), &["sim", "--out", "/dev/full"]);
    refused(&run, "No space left on device");
}

/// A tiny tmpfs, unmounted when dropped.
struct TinyDisk(PathBuf);

impl TinyDisk {
    /// `None` when this test cannot mount (not root, no mount namespace rights).
    fn mount(at: PathBuf) -> Option<TinyDisk> {
        std::fs::create_dir_all(&at).unwrap();
        let ok = is_root()
            && std::process::Command::new("mount")
                .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
                .arg(&at)
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
        ok.then_some(TinyDisk(at))
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn out_to_a_full_disk_or_an_unwritable_folder_exits_2_and_leaves_nothing() {
    let dir = Scratch::new("hostile", "full");
    if let Some(disk) = TinyDisk::mount(dir.path("disk")) {
        // A JSON trace is far more than 64 KiB.
        let out = disk.0.join("run.json");
        let run = migralab_within(
            60,
            dir.as_path(),
            &["sim", "--json", "--out", out.to_str().unwrap()],
        );
        refused(&run, "No space left on device");
        assert!(names(&disk.0).is_empty(), "{:?}", names(&disk.0));
    }
    let ro = dir.path("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    let run = migralab_within(60, dir.as_path(), &["sim", "--out", &dir.arg("ro/run.txt")]);
    // Root writes anywhere: there the run succeeds, which is right too.
    if !is_root() {
        refused(&run, "Permission denied");
        assert!(names(&ro).is_empty());
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_replaced_output_keeps_its_permissions() {
    let dir = Scratch::new("hostile", "mode");
    let out = dir.write("run.json", "old");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = migralab_within(
        60,
        dir.as_path(),
        &["sim", "--json", "--out", &dir.arg("run.json")],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(meta.len() > 3, "replaced");
    assert_eq!(names(dir.as_path()), ["run.json"], "no temporary left");
}

#[test]
fn an_output_that_is_an_input_is_refused_with_nothing_written() {
    let dir = Scratch::new("hostile", "same");
    let trace = dir.arg("run.json");
    let run = migralab_in(dir.as_path(), &["sim", "--json", "--out", &trace]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let before = std::fs::read(&trace).unwrap();

    // The trace as its own --json output, through another spelling of the path.
    let alias = format!("{}/./run.json", dir.as_str());
    let run = migralab_in(
        dir.as_path(),
        &[
            "report",
            &trace,
            "--csv",
            &dir.arg("a.csv"),
            "--json",
            &alias,
        ],
    );
    refused(&run, "are the same file");
    assert_eq!(std::fs::read(&trace).unwrap(), before);
    assert!(
        !dir.path("a.csv").exists(),
        "nothing is written, not even the other outputs"
    );

    // Two outputs naming one new file.
    let run = migralab_in(
        dir.as_path(),
        &["report", &trace, "--csv", "b.txt", "--json", "./b.txt"],
    );
    refused(&run, "are the same file");
    assert!(!dir.path("b.txt").exists());

    // A scenario file as the output of its own run.
    let scenario = dir.path("mine.toml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/lesson.toml"),
        &scenario,
    )
    .unwrap();
    let before = std::fs::read(&scenario).unwrap();
    let run = migralab_in(dir.as_path(), &["sim", "mine.toml", "--out", "mine.toml"]);
    refused(&run, "are the same file");
    assert_eq!(std::fs::read(&scenario).unwrap(), before);
}

#[test]
fn reading_a_fifo_is_refused_without_blocking() {
    let dir = Scratch::new("hostile", "read-fifo");
    mkfifo(&dir.path("scenario.toml"));
    mkfifo(&dir.path("run.json"));
    let run = migralab_within(60, dir.as_path(), &["sim", "scenario.toml"]);
    refused(&run, "is a FIFO");
    let run = migralab_within(
        60,
        dir.as_path(),
        &["report", "run.json", "--csv", &dir.arg("a.csv")],
    );
    refused(&run, "is a FIFO");
    let run = migralab_within(60, dir.as_path(), &["sim", "/dev/zero"]);
    refused(&run, "is a device");
}

#[test]
fn reading_an_oversized_file_is_refused_naming_the_limit() {
    let dir = Scratch::new("hostile", "read-big");
    // A comment is valid TOML: only the size is wrong.
    let mut text = String::from("# padding\n");
    text.push_str(&"#".repeat(1 << 20));
    dir.write("big.toml", &text);
    let run = migralab_within(60, dir.as_path(), &["sim", "big.toml"]);
    refused(&run, "larger than 1 MiB, the limit for a scenario");
}

// ---- §3: a cost budget for every valid input ------------------------------------------------

/// Values that would make one run of the lesson cost more than its budget (simulated time,
/// trace events, memory, CPU) are refused before anything runs, naming the value to change.
#[test]
fn a_run_over_the_budget_is_refused_up_front_naming_the_value() {
    let dir = crate::common::fresh_dir("budget");
    let big_hosts = [
        "--set",
        "host.0.memory_mib=40000000",
        "--set",
        "host.1.memory_mib=40000000",
    ];
    let cases: [(&[&str], &str); 6] = [
        (&["--set", "prober.tail_ms=1e12"], "`prober.tail_ms`"),
        (
            &["--set", "migration.start_ms=600000000000"],
            "`migration.0.start_ms`",
        ),
        (
            &["--set", "prober.interval_ms=0.001"],
            "`prober.interval_ms`",
        ),
        (
            &[
                "--set",
                "sim.sample_interval_ms=1",
                "--set",
                "sim.max_time_s=7200",
            ],
            "`sim.sample_interval_ms`",
        ),
        (&["--set", "vm.db01.ram_mib=16777216"], "`vm.0.ram_mib`"),
        (
            &[
                "--set",
                "vm.db01.workload.rate_mibps=1000000",
                "--set",
                "sim.max_time_s=60",
            ],
            "`vm.0.workload.rate_mibps`",
        ),
    ];
    for (set, key) in cases {
        let mut args = vec!["sim", "lesson"];
        args.extend(big_hosts);
        args.extend(set);
        let run = migralab_within(20, &dir, &args);
        assert_eq!(run.code, 2, "{set:?}: {}", run.stderr);
        assert!(run.stderr.contains(key), "{set:?}: {}", run.stderr);
        assert!(run.stderr.contains("one run may"), "{}", run.stderr);
    }
    // The same bounds in the lab shell: a job count a user cannot exceed.
    let mut script = String::new();
    for _ in 0..70 {
        script.push_str("ping 192.168.100.50 >/dev/null &\n");
    }
    script.push_str("jobs | wc -l\n");
    let run =
        crate::common::migralab_with(&dir, &["shell", "lesson", "--lang", "en"], Some(&script));
    // (The lab prints its terminal, stderr included, on standard output.)
    assert!(
        run.stdout.contains("at most 64 jobs run at once"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.lines().any(|l| l.trim() == "64"),
        "{}",
        run.stdout
    );
}

/// A run stopped by the time limit while still copying says so; a scenario without a migration
/// says that, and neither is called "not converged" or "aborted".
#[test]
fn a_run_names_why_it_stopped() {
    let dir = crate::common::fresh_dir("budget-outcomes");
    // A 4 TiB guest over 10 GbE is still in its first pass after 600 s.
    let run = migralab_within(
        30,
        &dir,
        &[
            "sim",
            "lesson",
            "--set",
            "host.0.memory_mib=8000000",
            "--set",
            "host.1.memory_mib=8000000",
            "--set",
            "vm.db01.ram_mib=4194304",
            // Half of it written (the lesson's 992 MiB would not keep it busy).
            "--set",
            "vm.db01.zero_fraction=0.5",
            "--set",
            "link.bandwidth_mibps=1250",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("db01: time limit reached"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Result: time-limit"), "{}", run.stdout);
    assert!(!run.stdout.contains("not converged"), "{}", run.stdout);
    let run = migralab_within(20, &dir, &["sim", "lesson", "--set", "migration=[]"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Result: no migration"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("aborted"), "{}", run.stdout);
}

/// `migralab twin`: a FIFO as the trace is refused without blocking, a folder as the output is
/// refused before the trace is read, and nothing is written either way.
#[test]
fn twin_refuses_a_fifo_trace_and_a_folder_output() {
    let dir = Scratch::new("hostile", "twin");
    let fifo = dir.path("pipe");
    mkfifo(&fifo);
    let out = dir.arg("twin.toml");
    let run = migralab_within(60, dir.as_path(), &["twin", &dir.arg("pipe"), "-o", &out]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot read the trace"),
        "{}",
        run.stderr
    );
    std::fs::create_dir(dir.path("folder")).unwrap();
    let run = migralab_within(
        60,
        dir.as_path(),
        &["twin", &dir.arg("pipe"), "-o", &dir.arg("folder")],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("-o"), "{}", run.stderr);
    assert_eq!(names(dir.as_path()), ["folder", "pipe"]);
}
