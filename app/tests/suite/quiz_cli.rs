//! `migralab quiz`, run for real: `--check`, `--stats --json`, and a quiz answered through piped
//! standard input. Runs start outside the workspace, so the shipped bank must be embedded.

use crate::common::{Run, Scratch, migralab_with};
use std::path::Path;

/// `migralab ARGS` outside the workspace, `stdin` piped in.
fn migralab(args: &[&str], stdin: &str) -> Run {
    migralab_with(&std::env::temp_dir(), args, Some(stdin))
}

fn shipped_dir() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/quizzes")
        .to_str()
        .unwrap()
        .to_string()
}

#[test]
fn check_passes_on_the_shipped_bank_embedded_and_on_disk() {
    let run = migralab(&["quiz", "--check"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("ok: assets/quizzes (shipped): "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("24/24 objectives, languages id, en"),
        "{}",
        run.stdout
    );
    let run = migralab(&["quiz", "--check", &shipped_dir()], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("questions in 5 files"),
        "{}",
        run.stdout
    );
}

#[test]
fn stats_json_has_exactly_the_documented_keys() {
    for args in [
        vec!["quiz", "--stats", "--json"],
        vec!["quiz", "--stats", "--json", &shipped_dir()],
    ] {
        let run = migralab(&args, "");
        assert_eq!(run.code, 0, "{}", run.stderr);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let obj = v.as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["languages", "objectives", "questions", "types"]);
        assert!(v["questions"].as_u64().unwrap() >= 40);
        assert_eq!(v["languages"], serde_json::json!(["id", "en"]));
        let objectives = v["objectives"].as_object().unwrap();
        assert_eq!(objectives.len(), 24);
        for (name, n) in objectives {
            assert!(n.as_u64().unwrap() >= 3, "{name}: {n}");
        }
        let types = v["types"].as_object().unwrap();
        for kind in [
            "single", "multi", "order", "command", "diagnose", "numeric", "predict",
        ] {
            assert!(types[kind].as_u64().unwrap() >= 1, "{kind}");
        }
        let total: u64 = types.values().map(|n| n.as_u64().unwrap()).sum();
        assert_eq!(total, v["questions"].as_u64().unwrap());
    }
}

const BROKEN: &str = r#"[[question]]
id = "b1"
kind = "single"
objective = "flag-live"
prompt.id = "Tanya?"
prompt.en = "Ask?"

[[question.option]]
correct = true
text.id = "Ya"
text.en = "Yes"
why.id = "Karena."

[[question.option]]
correct = true
text.id = "Tidak"
text.en = "No"
why.id = "Bukan."
why.en = "Not so."

[[question]]
id = "b2"
kind = "predict"
objective = "flag-live"
scenario = "no-such-scenario"
prompt.id = "Tebak."
prompt.en = "Guess."

[[question.option]]
correct = true
expect = { status = "completed" }
text = { id = "Selesai", en = "Completes" }
why = { id = "a", en = "b" }

[[question.option]]
expect = { status = "failed" }
text = { id = "Gagal", en = "Fails" }
why = { id = "a", en = "b" }
"#;

#[test]
fn check_reports_every_error_with_file_line_and_column() {
    let dir = Scratch::new("quiz", "check-errors");
    let bad = dir.write("bad.toml", BROKEN);
    dir.write("notes.md", "not a bank file, ignored");
    let run = migralab(&["quiz", "--check", dir.as_str()], "");
    assert_eq!(run.code, 2, "{}", run.stdout);
    let bad = bad.display().to_string();
    // The missing English explanation of option 1 (its `why` table is on line 12)...
    assert!(
        run.stderr.contains(&format!(
            "error: {bad}:12:1: question `b1`: missing translation"
        )),
        "{}",
        run.stderr
    );
    // ... and the second correct option of a single-choice question (line 15).
    assert!(
        run.stderr.contains(&format!(
            "error: {bad}:15:11: question `b1`: a `single` question has exactly one correct option"
        )),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("2 errors"), "{}", run.stderr);

    // Once the rules pass, a predict question's scenario is checked too.
    let fixed = BROKEN
        .replace(
            "why.id = \"Karena.\"\n",
            "why.id = \"Karena.\"\nwhy.en = \"Because.\"\n",
        )
        .replacen(
            "[[question.option]]\ncorrect = true\ntext.id = \"Tidak\"",
            "[[question.option]]\ntext.id = \"Tidak\"",
            1,
        );
    dir.write("bad.toml", &fixed);
    let run = migralab(&["quiz", "--check", dir.as_str()], "");
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!("{bad}:25:12: question `b2`: no scenario file or shipped scenario named `no-such-scenario`")),
        "{}",
        run.stderr
    );

    // An unknown key is a schema error at its own line and column.
    dir.write(
        "bad.toml",
        &fixed
            .replace("shuffle", "x")
            .replace("kind = \"single\"", "kind = \"single\"\nshufle = false"),
    );
    let run = migralab(&["quiz", "--check", dir.as_str()], "");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(&format!("{bad}:4:1: unknown field `shufle`")),
        "{}",
        run.stderr
    );

    // A folder without banks, and one that does not exist, are errors too.
    let empty = Scratch::new("quiz", "check-empty");
    let run = migralab(&["quiz", "--check", empty.as_str()], "");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no .toml files"), "{}", run.stderr);
    let run = migralab(&["quiz", "--check", "/nonexistent/quizzes"], "");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read the question bank folder"),
        "{}",
        run.stderr
    );
}

/// The rest of a small bank after [`crate::common::ONE_QUESTION`] (options in a fixed order,
/// so the test knows the letters).
const SMALL_REST: &str = r#"
[[question]]
id = "s-time"
kind = "numeric"
objective = "shared-storage-speed"
answer = 73.1
tolerance_percent = 5.0
unit = "s"
prompt.id = "Berapa detik untuk 8 GiB pada 112 MiB/s?"
prompt.en = "How many seconds for 8 GiB at 112 MiB/s?"
explanation.id = "8192 / 112 ≈ 73 s."
explanation.en = "8192 / 112 ≈ 73 s."

[[question]]
id = "s-move"
kind = "command"
objective = "flag-persistent-undefinesource"
expected = "virsh migrate --live --persistent --undefinesource db01 qemu+ssh://kvm-host-02/system"
prompt.id = "Pindahkan db01 secara permanen ke kvm-host-02."
prompt.en = "Move db01 to kvm-host-02 for good."
explanation.id = "--persistent saja tidak menghapus definisi di sumber."
explanation.en = "--persistent alone does not remove the source definition."

[[question]]
id = "s-firewall"
kind = "predict"
objective = "prereq-network"
scenario = "prereq-firewall"
shuffle = false
prompt.id = "Firewall menolak port 49152–49215. Apa yang terjadi?"
prompt.en = "The firewall rejects ports 49152–49215. What happens?"

[[question.option]]
expect = { status = "completed" }
text = { id = "Selesai lewat SSH", en = "Completes over SSH" }
why = { id = "Data tidak lewat SSH.", en = "The data does not go over SSH." }

[[question.option]]
correct = true
expect = { status = "failed", error_contains = "49152" }
text = { id = "Gagal di port 49152", en = "Fails at port 49152" }
why = { id = "Port migrasi diblokir.", en = "The migration port is blocked." }
"#;

#[test]
fn a_quiz_answered_through_piped_stdin() {
    let dir = Scratch::new("quiz", "piped");
    dir.write(
        "small.toml",
        &format!("{}{SMALL_REST}", crate::common::ONE_QUESTION),
    );
    let args = [
        "quiz",
        "--bank",
        dir.as_str(),
        "--lang",
        "en",
        "--seed",
        "4",
        "--only",
        "s-live,s-time,s-move,s-firewall",
    ];
    // Right, right (decimal comma and unit), the lesson's mistake, right; then retry the miss.
    let input = "a\n73,1 s\nvirsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system\nb\ny\nvirsh migrate --undefinesource --persistent --live db01 qemu+ssh://root@kvm-host-02/system/\n";
    let run = migralab(&args, input);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(out.contains("migralab quiz — 4 questions, seed 4"), "{out}");
    assert!(
        out.contains("[1/4] The --live flag · single choice"),
        "{out}"
    );
    assert!(out.contains("✓ Right!"), "{out}");
    assert!(out.contains("Missing --undefinesource"), "{out}");
    assert!(
        out.contains("Model answer: virsh migrate --live --persistent --undefinesource db01"),
        "{out}"
    );
    // The prediction is shown beside what the simulator did.
    assert!(
        out.contains("Running the scenario in the simulator..."),
        "{out}"
    );
    assert!(
        out.contains("Simulator: failed — error: unable to connect to server at 'kvm-host-02:49152': No route to host"),
        "{out}"
    );
    assert!(
        out.contains("Result: 3 of 4 right, score 3.0/4 (75 %)"),
        "{out}"
    );
    assert!(out.contains("--persistent and --undefinesource"), "{out}");
    assert!(out.contains("Questions to review: s-move"), "{out}");
    assert!(out.contains("Result: 1 of 1 right"), "{out}");
    assert!(
        out.contains("Every question is right now. Well done!"),
        "{out}"
    );

    // The same quiz in Bahasa Indonesia, stopping early when the input ends.
    let run = migralab(&args.map(|a| if a == "en" { "id" } else { a }), "b\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Kuis migralab — 4 soal"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("✗ Belum tepat."), "{}", run.stdout);
    assert!(
        run.stdout.contains("Hasil: 0 dari 1 benar"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Soal yang perlu diulang: s-live"),
        "{}",
        run.stdout
    );
}

#[test]
fn the_shipped_bank_runs_from_any_directory() {
    // Skip three questions of the shipped bank: the quiz runs and summarises them.
    let run = migralab(
        &["quiz", "--lang", "en", "--seed", "11", "--count", "3"],
        "skip\nskip\nskip\nn\n",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.matches("– Skipped.").count(),
        3,
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Result: 0 of 3 right"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("To retry later: migralab quiz --only "),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_arguments_exit_2() {
    let run = migralab(&["quiz", "--objective", "flag-liev"], "");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("flag-live"), "{}", run.stderr);
    let run = migralab(&["quiz", "--json"], "");
    assert_eq!(run.code, 2, "--json needs --stats");
    let run = migralab(&["quiz", "--only", "no-such-question"], "");
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("no question has the id `no-such-question`"),
        "{}",
        run.stderr
    );
}
