//! `migralab progress import`: many PCs' exports merged into the instructor's class, per
//! student and answer: idempotent, conflicts reported and never merged, a bad file changing
//! nothing.

use crate::common::Scratch;
use migralab_app::class::merge::{Students, merge_profile};
use migralab_app::class::store::ClassStore;
use migralab_app::progress::{Attempt, Profile, export_json};
use std::path::Path;
use std::process::Command;

fn answer(question: &str, at: u64, score: f64, quiz: &str) -> Attempt {
    Attempt {
        at,
        question: question.into(),
        objective: "flag-live".into(),
        score,
        correct: score >= 1.0,
        quiz: Some(quiz.into()),
    }
}

fn profile(name: &str, answers: &[(&str, u64, f64)], quiz: &str) -> Profile {
    let mut p = Profile::new(name);
    let started = answers.first().map_or(1, |a| a.1);
    p.quizzes.push(migralab_app::progress::QuizRecord {
        id: quiz.into(),
        started,
        taken_in: "terminal".into(),
        seed: 7,
        questions: 10,
        completed: None,
    });
    for (q, at, score) in answers {
        p.record_attempt(answer(q, *at, *score, quiz));
    }
    p
}

/// `migralab progress import ARGS` with the data directory `data`.
fn import(data: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_migralab"))
        .args(["progress", "import"])
        .args(args)
        .env("MIGRALAB_DATA_DIR", data)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn class_of(data: &Path) -> Students {
    ClassStore::new(data).load().unwrap()
}

#[test]
fn importing_twice_changes_nothing_and_two_pcs_of_one_student_are_joined() {
    let dir = Scratch::new("class-import", "idempotent");
    let data = dir.path("data");
    let pc1 = dir.write(
        "pc1.json",
        &export_json(&[
            profile("Ana", &[("q1", 100, 1.0), ("q2", 101, 0.0)], "100-a"),
            profile("Budi", &[("q1", 100, 0.0)], "100-b"),
        ])
        .unwrap(),
    );
    // Ana used a second PC for another quiz.
    let pc2 = dir.write(
        "pc2.json",
        &export_json(&[profile("Ana", &[("q3", 200, 1.0)], "200-c")]).unwrap(),
    );
    let (code, out, err) = import(&data, &[dir.as_str()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("new: 2 students, 3 answers"), "{out}");
    let class = class_of(&data);
    assert_eq!(class.len(), 2);
    let ana = &class["Ana"];
    assert_eq!(ana.attempts.len(), 3);
    assert_eq!(ana.quizzes.len(), 2);
    assert_eq!(ana.objectives["flag-live"].asked, 3);
    assert_eq!(ana.objectives["flag-live"].correct, 2);
    let bytes = std::fs::read(data.join("class.json")).unwrap();

    // The same files again, singly and together: nothing changes, not even the file's bytes.
    for args in [
        vec![pc1.to_str().unwrap()],
        vec![pc2.to_str().unwrap(), pc1.to_str().unwrap()],
    ] {
        let (code, out, err) = import(&data, &args);
        assert_eq!(code, 0, "{out}{err}");
        assert!(
            out.contains("new: 0 students, 0 answers, 0 quizzes, 0 observations"),
            "{out}"
        );
        assert_eq!(std::fs::read(data.join("class.json")).unwrap(), bytes);
    }
}

#[test]
fn two_identical_answers_in_one_second_are_both_kept() {
    // A retry answered twice within one second, wrong both times.
    let p = profile("Ana", &[("q", 5, 0.0), ("q", 5, 0.0)], "5-a");
    let mut class = Students::new();
    merge_profile(&mut class, &p, "a.json");
    let again = merge_profile(&mut class, &p, "a.json");
    assert!(!again.changed());
    assert_eq!(class["Ana"].attempts.len(), 2);
    assert_eq!(class["Ana"].objectives["flag-live"].asked, 2);
}

#[test]
fn a_later_export_completes_a_quiz_and_adds_only_the_new_answers() {
    let mut class = Students::new();
    let early = profile("Ana", &[("q1", 100, 1.0)], "100-a");
    let mut late = profile("Ana", &[("q1", 100, 1.0), ("q2", 110, 1.0)], "100-a");
    late.quizzes[0].completed = Some(110);
    assert!(
        merge_profile(&mut class, &early, "early")
            .conflicts
            .is_empty()
    );
    let r = merge_profile(&mut class, &late, "late");
    assert!(r.conflicts.is_empty(), "{:?}", r.conflicts);
    assert_eq!((r.new_attempts, r.new_quizzes), (1, 1));
    assert_eq!(class["Ana"].quiz("100-a").unwrap().completed, Some(110));
    // The earlier file again does not undo the completion.
    let r = merge_profile(&mut class, &early, "early");
    assert!(!r.changed() && r.conflicts.is_empty());
    assert_eq!(class["Ana"].quiz("100-a").unwrap().completed, Some(110));
}

#[test]
fn conflicts_are_reported_and_not_merged() {
    let dir = Scratch::new("class-import", "conflicts");
    let data = dir.path("data");
    dir.write(
        "a.json",
        &export_json(&[profile("Ana Putri", &[("q1", 100, 1.0)], "100-a")]).unwrap(),
    );
    let (code, ..) = import(&data, &[dir.path("a.json").to_str().unwrap()]);
    assert_eq!(code, 0);
    let before = std::fs::read(data.join("class.json")).unwrap();

    // The same answer with another score; a name differing only by case and spaces.
    let other_score = dir.write(
        "b.json",
        &export_json(&[profile(
            "Ana Putri",
            &[("q1", 100, 0.0), ("q9", 101, 1.0)],
            "100-a",
        )])
        .unwrap(),
    );
    let other_case = dir.write(
        "c.json",
        &export_json(&[profile("ana  putri", &[("q5", 300, 1.0)], "300-x")]).unwrap(),
    );
    let (code, out, err) = import(
        &data,
        &[other_score.to_str().unwrap(), other_case.to_str().unwrap()],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("b.json: `Ana Putri` was not merged: its answer to `q1` at 100"),
        "{err}"
    );
    assert!(
        err.contains("c.json: `ana  putri` was not merged: the class has `Ana Putri`"),
        "{err}"
    );
    // Neither the disagreeing file's new answer nor the other name got in.
    assert_eq!(std::fs::read(data.join("class.json")).unwrap(), before);
    let class = class_of(&data);
    assert_eq!(class.keys().collect::<Vec<_>>(), ["Ana Putri"]);
    assert_eq!(class["Ana Putri"].attempts.len(), 1);
}

#[test]
fn a_bad_file_among_good_ones_changes_nothing_and_says_where() {
    let dir = Scratch::new("class-import", "bad-file");
    let data = dir.path("data");
    let good = dir.write(
        "good.json",
        &export_json(&[profile("Ana", &[("q1", 100, 1.0)], "100-a")]).unwrap(),
    );
    let broken = dir.write(
        "broken.json",
        "{\"format\": 2,\n \"students\": [ {\"name\": }]}",
    );
    let (code, _, err) = import(&data, &[good.to_str().unwrap(), broken.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("broken.json:2:"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    assert!(!data.join("class.json").exists());

    // A name the name rule refuses, with an escape sequence that must not reach the terminal.
    let hostile = dir.write(
        "hostile.json",
        r#"{"format": 2, "students": [{"format": 2, "name": "Ana\u001b[2J"}]}"#,
    );
    let (code, _, err) = import(&data, &[hostile.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("student #1"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(!data.join("class.json").exists());

    // A newer format.
    let newer = dir.write("newer.json", r#"{"format": 99, "students": []}"#);
    let (code, _, err) = import(&data, &[newer.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("format 99"), "{err}");

    // A damaged class file is refused with its line, never overwritten.
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("class.json"), "{\n  \"format\": 3,\n  oops").unwrap();
    let (code, _, err) = import(&data, &[good.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("class.json:3:"), "{err}");
    assert_eq!(
        std::fs::read_to_string(data.join("class.json")).unwrap(),
        "{\n  \"format\": 3,\n  oops"
    );
}

mod properties {
    use super::*;
    use migralab_app::class::files::parse_progress;
    use proptest::prelude::*;

    fn answers() -> impl Strategy<Value = Vec<(String, u64, f64)>> {
        prop::collection::vec(
            (
                "q[0-3]",
                0u64..5,
                prop_oneof![Just(0.0), Just(0.5), Just(1.0)],
            ),
            0..8,
        )
    }

    fn build(name: &str, quiz: &str, answers: &[(String, u64, f64)]) -> Profile {
        let refs: Vec<(&str, u64, f64)> = answers
            .iter()
            .map(|(q, at, s)| (q.as_str(), *at, *s))
            .collect();
        profile(name, &refs, quiz)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Merging is idempotent and order-free for files that agree: A then B then A again
        /// equals B then A.
        #[test]
        fn merging_is_idempotent_and_order_free(a in answers(), b in answers()) {
            let pa = build("Ana", "1-a", &a);
            let pb = build("Ana", "2-b", &b);
            let mut one = Students::new();
            merge_profile(&mut one, &pa, "a");
            merge_profile(&mut one, &pb, "b");
            let again = merge_profile(&mut one, &pa, "a");
            prop_assert!(!again.changed() && again.conflicts.is_empty());
            let mut two = Students::new();
            merge_profile(&mut two, &pb, "b");
            merge_profile(&mut two, &pa, "a");
            prop_assert_eq!(&one, &two);
            prop_assert_eq!(one["Ana"].attempts.len(), a.len() + b.len());
        }

        /// Random bytes, and an export mutated anywhere, are read or refused: never a panic.
        #[test]
        fn hostile_progress_files_never_panic(s in any::<Vec<u8>>(), at in any::<usize>(), byte in any::<u8>()) {
            let _ = parse_progress(&s, "x.json");
            let text = export_json(&[profile("Ana", &[("q1", 1, 1.0)], "1-a")]).unwrap();
            let mut bytes = text.into_bytes();
            let i = at % bytes.len();
            bytes[i] = byte;
            let _ = parse_progress(&bytes, "x.json");
            let _ = parse_progress(&bytes[..i], "x.json");
        }
    }
}

/// `migralab progress report`: the class as the tab gathers it (this PC, the imported class and
/// the class folder), as CSV on standard output or HTML to a file.
#[test]
fn progress_report_gathers_the_class_as_csv_and_html() {
    let dir = Scratch::new("class-import", "report");
    let data = dir.path("data");
    let share = dir.path("share");
    std::fs::create_dir_all(&share).unwrap();
    migralab_app::settings::InstructorSettings {
        class_folder: Some(share.clone()),
        ..Default::default()
    }
    .save(&data.join("instructor.toml"))
    .unwrap();
    let pc = dir.write(
        "pc.json",
        &export_json(&[profile("Budi", &[("q1", 100, 1.0)], "100-b")]).unwrap(),
    );
    assert_eq!(import(&data, &[pc.to_str().unwrap()]).0, 0);
    let stuck = profile("Citra", &[("q1", 100, 0.0), ("q2", 101, 0.0)], "100-c");
    std::fs::write(
        share.join("Citra.00000000000000cc.json"),
        serde_json::to_string(&stuck).unwrap(),
    )
    .unwrap();
    std::fs::write(share.join("broken.json"), "{").unwrap();

    let report = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_migralab"))
            .args(["progress", "report"])
            .args(args)
            .env("MIGRALAB_DATA_DIR", &data)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (csv, err) = report(&["--csv"]);
    let names: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(names, ["Budi", "Citra"], "{csv}");
    assert!(
        csv.lines().nth(2).unwrap().contains(",flag-live,"),
        "Citra is stuck on --live: {csv}"
    );
    assert!(
        err.contains("broken.json:1:"),
        "the unreadable file is said: {err}"
    );
    let (only, _) = report(&["--only-stuck"]);
    assert_eq!(only.lines().count(), 2, "{only}");

    let html = dir.path("kelas.html");
    report(&["--html", "--lang", "id", "--out", html.to_str().unwrap()]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<html lang=\"id\">") && page.contains("Laporan kelas"));
    assert!(page.contains("<svg") && page.contains("Citra"));
}
