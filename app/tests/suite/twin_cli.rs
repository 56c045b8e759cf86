//! `migralab twin` (issue 23 §2): the twin of a recorded real run replays it within the fidelity
//! goals; a trace that is not a completed real migration, is damaged or hostile is refused with
//! the reason and no file.

use crate::common::{Scratch, migralab_in};
use migralab_sim_core::{RunOutcome, Scenario, Simulator, Trace};

/// Real runs recorded on the lab in a box (`migralab migrate --real --out`; see
/// `fixtures/README.md`).
const REAL_RUNS: [(&str, &str); 3] = [
    ("idle", include_str!("../fixtures/real-idle-256.json")),
    (
        "writer",
        include_str!("../fixtures/real-ws32r16-unlimited.json"),
    ),
    ("capped", include_str!("../fixtures/real-ws32r16-bw20.json")),
];
const REAL_RUN: &str = REAL_RUNS[0].1;

/// A simulated run of `scenario` with `--set`s, saved as a real one would be: backend `real`,
/// the hosts' URIs and the command as its scenario.
fn as_real(dir: &Scratch, scenario: &str, sets: &[&str]) -> (String, RunOutcome) {
    let sc = migralab_app::scenarios::load(
        Some(std::path::Path::new(scenario)),
        &sets.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    )
    .unwrap();
    let mut trace = Simulator::run(sc.clone());
    trace.backend = "real".into();
    trace.scenario = serde_json::json!({
        "src": "qemu:///system",
        "dst": format!("qemu+ssh://{}/system", sc.migrations[0].to),
        "migration": sc.migrations[0],
    });
    let outcome = RunOutcome::of(&trace);
    let path = dir.write("run.json", &trace.to_json().unwrap());
    (path.display().to_string(), outcome)
}

/// Build the twin of `trace` into `dir/twin.toml` and run the simulator on it.
fn twin_of(dir: &Scratch, trace: &str) -> (String, RunOutcome) {
    let out = dir.arg("twin.toml");
    let run = migralab_in(dir.as_path(), &["twin", trace, "-o", &out]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("replays the real run within"),
        "{}",
        run.stderr
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let sc = Scenario::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, RunOutcome::of(&Simulator::run(sc)))
}

fn assert_close(twin: &RunOutcome, real: &RunOutcome, within: f64) {
    let rel = |a: u64, b: u64| (a as f64 - b as f64).abs() / b as f64;
    assert_eq!(twin.status, "completed");
    assert!(
        rel(twin.memory_bytes, real.memory_bytes) <= within
            && rel(twin.total_ms, real.total_ms) <= within,
        "twin {twin:?} vs real {real:?}"
    );
}

#[test]
fn the_twin_of_a_recorded_real_run_reproduces_it() {
    for (name, run) in REAL_RUNS {
        let dir = Scratch::new("twin", name);
        let path = dir.write("real.json", run);
        let real = RunOutcome::of(&Trace::from_json(run).unwrap());
        let (text, twin) = twin_of(&dir, &path.display().to_string());
        // The fidelity goals (model/fidelity.md): within 5 % on bytes and time.
        assert_close(&twin, &real, 0.05);
        let sc = Scenario::from_toml_str(&text).unwrap();
        assert_eq!(sc.vms[0].ram_mib, 256, "{name}");
        assert!(
            !sc.migrations[0].live,
            "{name}: the recorded command had no --live"
        );
        if name == "capped" {
            assert_eq!(sc.migrations[0].bandwidth_mibps, Some(20));
            assert!(text.contains("cap, not the link"), "{text}");
        }
    }
    let dir = Scratch::new("twin", "real");
    let path = dir.write("real.json", REAL_RUN);
    let (text, _) = twin_of(&dir, &path.display().to_string());
    // The idle guest wrote what the calibration's dumps found (71.5 MiB).
    let sc = Scenario::from_toml_str(&text).unwrap();
    let written = sc.vms[0].written_mib.unwrap();
    assert!((70.0..=73.0).contains(&written), "{written}");
    // It says what was measured and what assumed, value by value.
    for what in [
        "# Measured:",
        "# Assumed:",
        "vm.ram_mib = ",
        "vm.written_mib = ",
        "link.bandwidth_mibps = ",
    ] {
        assert!(text.contains(what), "{what}:\n{text}");
    }
}

#[test]
fn the_twin_of_a_busy_guest_finds_its_set_and_rate_and_answers_what_if() {
    let dir = Scratch::new("twin", "busy");
    // The lesson's guest at 512 MiB (a 64 MiB hot set at 20 MiB/s).
    let (trace, real) = as_real(
        &dir,
        "lesson",
        &["vm.0.ram_mib=512", "vm.0.written_mib=200"],
    );
    let (text, twin) = twin_of(&dir, &trace);
    assert_close(&twin, &real, 0.05);
    assert!(text.contains("kind = \"hot-set\""), "{text}");
    // A busy database under auto-converge: the rate it writes at and its set are found.
    let dir = Scratch::new("twin", "converge");
    let (trace, real) = as_real(&dir, "busy-db-auto-converge", &[]);
    let (text, twin) = twin_of(&dir, &trace);
    assert_close(&twin, &real, 0.05);
    let sc = Scenario::from_toml_str(&text).unwrap();
    let (set, rate) = sc.vms[0].workload.set_and_rate().unwrap();
    assert!((1000..=1100).contains(&set), "{set}");
    assert!((140.0..=160.0).contains(&rate), "{rate}");
    assert!(sc.migrations[0].auto_converge);
    // The what-if: the same guest without auto-converge never converges on this link.
    let what_if = Scenario::load(
        migralab_sim_core::Located {
            text: &text,
            origin: "twin.toml",
        },
        &["migration.auto_converge=false".into()],
    )
    .unwrap();
    let o = RunOutcome::of(&Simulator::run(what_if));
    assert_eq!(o.status, "not-converged", "{o:?}");
}

#[test]
fn a_trace_that_is_no_real_completed_migration_or_is_damaged_gives_a_reason_and_no_file() {
    let dir = Scratch::new("twin", "refused");
    let real: serde_json::Value = serde_json::from_str(REAL_RUN).unwrap();
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = real.clone();
        f(&mut v);
        v.to_string()
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "sim",
            with(&|v| v["backend"] = "sim".into()),
            "not a real one",
        ),
        (
            "nocmd",
            with(&|v| v["scenario"] = serde_json::Value::Null),
            "no migration command",
        ),
        (
            "noevents",
            with(&|v| v["events"] = serde_json::json!([])),
            "no job statistics",
        ),
        (
            "failed",
            with(&|v| {
                let events = v["events"].as_array_mut().unwrap();
                events.retain(|e| e["event"] != "finished");
            }),
            "did not complete",
        ),
        (
            "huge",
            with(&|v| {
                for e in v["events"].as_array_mut().unwrap() {
                    if e["event"] == "progress" {
                        e["memory_total"] = u64::MAX.into();
                    }
                }
            }),
            "no valid scenario",
        ),
        (
            "cut",
            REAL_RUN[..REAL_RUN.len() / 2].to_string(),
            "not a migralab trace",
        ),
        ("text", "hello".to_string(), "not a migralab trace"),
    ];
    for (name, text, why) in cases {
        let trace = dir.write(&format!("{name}.json"), &text);
        let out = dir.path(&format!("{name}.toml"));
        let run = migralab_in(
            dir.as_path(),
            &["twin", trace.to_str().unwrap(), "-o", out.to_str().unwrap()],
        );
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(run.stderr.contains(why), "{name}: {}", run.stderr);
        assert!(!out.exists(), "{name}: a file was written");
    }
    // An existing file is never replaced.
    let trace = dir.write("ok.json", REAL_RUN);
    let out = dir.write("taken.toml", "mine\n");
    let run = migralab_in(
        dir.as_path(),
        &["twin", trace.to_str().unwrap(), "-o", out.to_str().unwrap()],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("exists already"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "mine\n");
}

/// Hostile values anywhere in a recorded run's statistics: a twin or a reason, never a panic
/// (and never a scenario the validator would refuse).
#[test]
fn extreme_values_in_any_field_give_a_twin_or_a_reason() {
    let base: serde_json::Value = serde_json::from_str(REAL_RUNS[1].1).unwrap();
    let fields = [
        "t_ms",
        "memory_total",
        "memory_processed",
        "memory_remaining",
        "memory_bps",
        "dirty_rate_pps",
        "iteration",
        "normal_pages",
        "constant_pages",
        "remaining_bytes",
        "total_ms",
        "memory_bytes",
        "downtime_ms",
        "disk_total",
    ];
    let values = [
        serde_json::json!(0),
        serde_json::json!(u64::MAX),
        serde_json::json!(1e300),
        serde_json::json!(-1e300),
        serde_json::json!(1),
    ];
    for field in fields {
        for value in &values {
            for every in [1, 3] {
                let mut v = base.clone();
                for (i, e) in v["events"].as_array_mut().unwrap().iter_mut().enumerate() {
                    if i % every == 0 && e.get(field).is_some() {
                        e[field] = value.clone();
                    }
                }
                // A value its type cannot hold is a parse error: the loader's, not the twin's.
                let Ok(trace) = serde_json::from_value::<Trace>(v) else {
                    continue;
                };
                if let Ok(twin) = migralab_app::twin::Twin::from_trace(&trace) {
                    assert!(twin.scenario.validate().is_ok(), "{field}={value}");
                    assert!(twin.to_toml().is_ok());
                }
            }
        }
    }
}
