//! `migralab report`, run for real: a simulated run saved as JSON becomes an HTML report, figures
//! and data files; bad input exits 2 and says why.

use crate::common::{Scratch, migralab_in};
use std::path::Path;

/// Simulate `scenario` and save it with `migralab sim --json --out`.
fn saved_run(dir: &Scratch, scenario: &str) -> String {
    let path = dir.arg("run.json");
    let run = migralab_in(dir.as_path(), &["sim", scenario, "--json", "--out", &path]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    path
}

#[test]
fn report_writes_every_output_from_a_saved_sim_run() {
    let dir = Scratch::new("report", "all");
    let trace = saved_run(&dir, "exp1-no-shared-storage");
    let run = migralab_in(
        dir.as_path(),
        &[
            "report",
            &trace,
            "--html",
            &dir.arg("report.html"),
            "--png",
            &dir.arg("png"),
            "--svg",
            &dir.arg("svg"),
            "--csv",
            &dir.arg("samples.csv"),
            "--json",
            &dir.arg("trace.json"),
            "--lang",
            "en",
            "--student",
            "Ana <Putri>",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);

    let html = std::fs::read_to_string(dir.path("report.html")).unwrap();
    assert!(html.contains("<svg"), "inline figures");
    assert!(
        html.contains("exp1-no-shared-storage"),
        "the scenario's name"
    );
    assert!(html.contains("virsh migrate --live --copy-storage-all db01"));
    assert!(html.contains("Ana &lt;Putri&gt;"), "the student, escaped");
    let outside_svg = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !outside_svg.contains("http://") && !outside_svg.contains("https://"),
        "the report must open offline"
    );

    for stem in ["memory", "rates", "ping", "disk"] {
        let png = dir.path(&format!("png/{stem}.png"));
        let img = image::open(&png)
            .unwrap_or_else(|e| panic!("{}: {e}", png.display()))
            .to_rgb8();
        let first = *img.get_pixel(0, 0);
        assert!(img.pixels().any(|p| *p != first), "{stem}.png is blank");
        let svg = std::fs::read_to_string(dir.path(&format!("svg/{stem}.svg"))).unwrap();
        roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{stem}.svg: {e}"));
        for out in [format!("png/{stem}.png"), format!("svg/{stem}.svg")] {
            assert!(run.stderr.contains(&format!("wrote {}", dir.arg(&out))));
        }
    }

    let csv = std::fs::read_to_string(dir.path("samples.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("t_ms,vm,phase,"));
    assert!(lines.count() > 100, "one row per 100 ms sample");

    // The plain trace reads back, and is itself accepted by `report`.
    let plain = dir.arg("trace.json");
    let again = migralab_in(
        dir.as_path(),
        &["report", &plain, "--csv", &dir.arg("again.csv")],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(std::fs::read_to_string(dir.path("again.csv")).unwrap(), csv);
}

#[test]
fn report_of_a_bad_file_exits_2_naming_it() {
    let dir = Scratch::new("report", "bad");
    let bad = dir.path("not-a-trace.json");
    std::fs::write(&bad, "{\"name\": \"lesson\"}").unwrap();
    let out = dir.arg("r.html");
    let run = migralab_in(
        dir.as_path(),
        &["report", &bad.display().to_string(), "--html", &out],
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not-a-trace.json"), "{}", run.stderr);
    assert!(
        run.stderr.contains("is not a migralab trace"),
        "{}",
        run.stderr
    );
    assert!(!Path::new(&out).exists(), "nothing written");

    let missing = migralab_in(dir.as_path(), &["report", "missing.json", "--html", &out]);
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("cannot read the trace missing.json")
    );
}

#[test]
fn report_without_an_output_exits_2_and_says_what_to_add() {
    let dir = Scratch::new("report", "none");
    let trace = saved_run(&dir, "lesson");
    let run = migralab_in(dir.as_path(), &["report", &trace]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nothing to write"), "{}", run.stderr);
    assert!(run.stderr.contains("--html FILE"), "{}", run.stderr);
}
