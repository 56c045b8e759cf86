//! The `migralab` binary, run for real: exit codes, output formats and error messages.
//!
//! Every run starts in a scratch directory outside the workspace, so these tests also check that
//! the shipped scenarios are embedded rather than read from `scenarios/`.

use crate::common::{Scratch, migralab, migralab_in};
use std::process::Command;

#[test]
fn sim_lesson_completes_with_exit_0() {
    let run = migralab(&["sim", "lesson"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("$ virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system")
    );
    for needle in [
        "db01: completed",
        "downtime",
        "memory sent",
        "iterations",
        "Ping db01",
        "Result: completed",
    ] {
        assert!(
            run.stdout.contains(needle),
            "missing {needle:?} in:\n{}",
            run.stdout
        );
    }
    assert_eq!(run.stderr, "");
}

#[test]
fn no_subcommand_without_a_display_points_at_the_terminal_commands() {
    let out = Command::new(env!("CARGO_BIN_EXE_migralab"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no display"), "{stderr}");
    assert!(stderr.contains("migralab sim"), "{stderr}");
}

#[test]
fn busy_db_no_converge_exits_1_and_says_not_converged() {
    let run = migralab(&["sim", "busy-db-no-converge"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("db01: not converged"), "{}", run.stdout);
    assert!(
        run.stdout.contains("left, threshold"),
        "the last syncs are shown:\n{}",
        run.stdout
    );

    let run = migralab(&["sim", "busy-db-no-converge", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["outcome"]["status"], "not-converged");
    assert_eq!(doc["vms"][0]["outcome"]["status"], "not-converged");
}

#[test]
fn a_refused_migration_exits_1_with_libvirts_error() {
    let run = migralab(&[
        "sim",
        "lesson",
        "--set",
        "storage.kind=local",
        "--set",
        "migration.unsafe=true",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("db01: failed"), "{}", run.stdout);
    assert!(
        run.stdout.contains("  error: Cannot access storage file"),
        "{}",
        run.stdout
    );
}

#[test]
fn missing_file_exits_2() {
    let run = migralab(&["sim", "no/such/scenario.toml"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("error: cannot read scenario file no/such/scenario.toml:"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn unknown_scenario_name_exits_2_and_lists_the_shipped_ones() {
    let run = migralab(&["sim", "lesosn"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("Did you mean `lesson`?"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("busy-db-postcopy, maintenance-evacuate"),
        "{}",
        run.stderr
    );
}

#[test]
fn unknown_key_exits_2_naming_file_and_line() {
    let scratch = Scratch::new("cli", "unknown-key");
    let text = "\
name = \"typo\"

[[host]]
name = \"a\"

[[host]]
name = \"b\"

[link]
bandwidth_mibps = 112.0

[storage]
kind = \"shared\"

[[vm]]
name = \"db01\"
host = \"a\"
ram_mib = 512
ram_gib = 2
";
    std::fs::write(scratch.path("typo.toml"), text).unwrap();
    let run = migralab_in(scratch.as_path(), &["sim", "typo.toml"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.starts_with("error: typo.toml:19:"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("ram_gib"), "{}", run.stderr);
}

#[test]
fn zero_bandwidth_exits_2_mentioning_bandwidth() {
    let run = migralab(&["sim", "lesson", "--set", "link.bandwidth_mibps=0"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("error: scenarios/lesson.toml:"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("bandwidth"), "{}", run.stderr);
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let run = migralab(&["sim", "--json", "--csv"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
    assert_eq!(migralab(&["sim", "--seed", "x"]).code, 2);
    assert_eq!(migralab(&["frobnicate"]).code, 2);

    let run = migralab(&["sim", "--help"]);
    assert_eq!(run.code, 0);
    for needle in [
        "A scenario is a TOML file",
        "busy-db-postcopy",
        "--set migration.auto_converge=true",
        "Exit codes:",
    ] {
        assert!(
            run.stdout.contains(needle),
            "missing {needle:?} in:\n{}",
            run.stdout
        );
    }
    assert_eq!(migralab(&["--version"]).code, 0);
}

#[test]
fn json_is_the_trace_plus_summary_keys() {
    let run = migralab(&["sim", "exp1-shared-storage", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(doc["outcome"]["status"], "completed");
    assert!(doc["outcome"]["error"].is_null());
    assert!(doc["outcome"]["downtime_ms"].as_u64().unwrap() > 0);
    assert!(doc["ping"]["sent"].as_u64().unwrap() > 0);
    assert!(doc["ping"]["loss_windows"].is_array());
    assert_eq!(doc["vms"][0]["vm"], "db01");
    assert!(!doc["events"].as_array().unwrap().is_empty());
    assert_eq!(doc["backend"], "sim");
    assert_eq!(doc["scenario"]["name"], "exp1-shared-storage");
}

#[test]
fn csv_has_the_header_and_rows_of_the_same_width() {
    let run = migralab(&["sim", "lesson", "--csv"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut lines = run.stdout.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("t_ms,vm,phase,memory_total,"),
        "{header}"
    );
    assert!(
        header.ends_with(",threshold_bytes,verbose_percent"),
        "{header}"
    );
    let width = header.split(',').count();
    assert_eq!(width, 17);
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() > 10, "{} rows", rows.len());
    for row in &rows {
        assert_eq!(row.split(',').count(), width, "{row}");
        assert!(row.split(',').nth(1) == Some("db01"), "{row}");
    }
}

#[test]
fn same_seed_gives_identical_json() {
    let a = migralab(&["sim", "exp1-shared-storage", "--json", "--seed", "7"]);
    let b = migralab(&["sim", "exp1-shared-storage", "--json", "--seed", "7"]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert!(a.stdout == b.stdout, "two runs with --seed 7 differ");
    assert_eq!(a.json()["seed"], 7);
    let c = migralab(&["sim", "exp1-shared-storage", "--json", "--seed", "8"]);
    assert!(a.stdout != c.stdout, "--seed changes nothing");
}

#[test]
fn out_writes_the_file_and_leaves_no_temporary() {
    let scratch = Scratch::new("cli", "out");
    let run = migralab_in(
        scratch.as_path(),
        &["sim", "exp1-shared-storage", "--json", "--out", "run.json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr, "wrote run.json\n");
    let text = std::fs::read_to_string(scratch.path("run.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["outcome"]["status"], "completed");

    // Replacing an existing file works, and only the target is left in the directory.
    let run = migralab_in(
        scratch.as_path(),
        &["sim", "lesson", "--csv", "--out", "run.json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        std::fs::read_to_string(scratch.path("run.json"))
            .unwrap()
            .starts_with("t_ms,")
    );
    let names: Vec<_> = std::fs::read_dir(scratch.as_path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["run.json"]);
}

#[test]
fn out_into_a_missing_directory_exits_2() {
    let scratch = Scratch::new("cli", "out-missing");
    let run = migralab_in(
        scratch.as_path(),
        &["sim", "lesson", "--out", "nodir/run.txt"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("error: cannot write nodir/run.txt:"),
        "{}",
        run.stderr
    );
}

#[test]
fn out_naming_a_directory_exits_2_before_running() {
    let scratch = Scratch::new("cli", "out-dir");
    let run = migralab_in(scratch.as_path(), &["sim", "lesson", "--out", "."]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: --out .: is a directory; name a file in it\n"
    );
}

#[test]
#[cfg(target_os = "linux")] // the fidelity harness is Linux-only
fn fidelity_dry_run_prints_the_harness_plan_and_exits_0() {
    let run = migralab(&["fidelity", "--quick", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("8 cases, 1 real run(s) each: about"),
        "{}",
        run.stdout
    );
}

#[test]
#[cfg(target_os = "linux")] // the fidelity harness is Linux-only
fn fidelity_exits_1_when_the_median_bytes_error_is_above_fail_above() {
    // One validation case of the published recording (the full name matches no other case: a
    // `--case` filter is a substring); its bytes error there is a few per cent.
    const CASE: &str = "256M-ws32r16-bw20-dt300-ac";
    let replay = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/calibration/labbox-runs.jsonl"
    );
    let fidelity = |limit: &str| {
        migralab(&[
            "fidelity",
            "--replay",
            replay,
            "--case",
            CASE,
            "--json",
            "--fail-above",
            limit,
        ])
    };
    let strict = fidelity("0.0001");
    assert_eq!(strict.code, 1, "{}\n{}", strict.stdout, strict.stderr);
    // The report is printed all the same, and shows why the limit was passed.
    let report = strict.json();
    let summary = &report["summary"];
    assert_eq!(summary["cases_compared"], 1, "{summary}");
    assert_eq!(report["cases"][0]["case"]["name"], CASE);
    let error = summary["median_error_bytes"].as_f64().unwrap();
    assert!(error > 0.0001 && error < 0.5, "{summary}");

    let generous = fidelity("0.5");
    assert_eq!(generous.code, 0, "{}", generous.stderr);
    assert_eq!(generous.json()["summary"], *summary);
}

/// `migralab watch` watches real hosts only, and an unreachable one is an error (exit 2), said
/// at once, never a wait.
#[test]
fn watch_needs_real_and_a_reachable_host() {
    let run = migralab(&["watch", "--src", "qemu:///system"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("needs --real"), "{}", run.stderr);
    let run = migralab(&["watch", "--real", "--src", "not a uri"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--src"), "{}", run.stderr);
    if migralab_real::REAL_MODE_BUILT {
        // The test driver has a domain but never a migration job: --wait ends the watch.
        let run = migralab(&["watch", "--real", "--src", "test:///default", "--wait", "1"]);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            run.stderr.contains("no migration started"),
            "{}",
            run.stderr
        );
    }
}

/// `--version` and `-V` say the version and whether this build has real mode, as the build is.
#[test]
fn version_says_whether_real_mode_is_built_in() {
    let long = migralab(&["--version"]);
    assert_eq!(long.code, 0, "{}", long.stderr);
    let short = migralab(&["-V"]);
    assert_eq!(short.code, 0, "{}", short.stderr);
    assert_eq!(long.stdout, short.stdout);
    let line = long.stdout.trim_end();
    assert!(
        line.starts_with(&format!("migralab {} (", env!("CARGO_PKG_VERSION"))),
        "{line}"
    );
    assert_eq!(
        line.contains("real mode built in"),
        migralab_real::REAL_MODE_BUILT,
        "{line}"
    );
    assert_eq!(
        line.contains("built without real mode"),
        !migralab_real::REAL_MODE_BUILT,
        "{line}"
    );
}
