//! Issue 22 §4, "students' data is never lost", through the real binary: the student name is
//! checked before the first question by the one rule; every answer is in the profile as soon as
//! it is given (a killed quiz keeps them); a line of input that is not UTF-8 rejects that line
//! only; concurrent processes answering for one student lose nothing; a damaged profile is set
//! aside with the notice said by every command; the terminal quiz honours `instructor.toml`.

use crate::common::{Run, Scratch};
use migralab_app::progress::{Profile, ProfileStore};
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Three single-choice questions on `--live`, options not shuffled: `a` is right in each.
const BANK: &str = r#"[[question]]
id = "s-one"
kind = "single"
objective = "flag-live"
shuffle = false
prompt.id = "Satu?"
prompt.en = "One?"

[[question.option]]
correct = true
text = { id = "--live", en = "--live" }
why = { id = "Benar.", en = "Right one." }

[[question.option]]
text = { id = "--persistent", en = "--persistent" }
why = { id = "Salah.", en = "Wrong one." }

[[question]]
id = "s-two"
kind = "single"
objective = "flag-live"
shuffle = false
prompt.id = "Dua?"
prompt.en = "Two?"

[[question.option]]
correct = true
text = { id = "--live", en = "--live" }
why = { id = "Benar.", en = "Right two." }

[[question.option]]
text = { id = "--offline", en = "--offline" }
why = { id = "Salah.", en = "Wrong two." }

[[question]]
id = "s-three"
kind = "single"
objective = "flag-live"
shuffle = false
prompt.id = "Tiga?"
prompt.en = "Three?"

[[question.option]]
correct = true
text = { id = "--live", en = "--live" }
why = { id = "Benar.", en = "Right three." }

[[question.option]]
text = { id = "--suspend", en = "--suspend" }
why = { id = "Salah.", en = "Wrong three." }
"#;

/// A scratch folder with the bank in `bank/` and the data directory `data/`.
fn lab(test: &str) -> Scratch {
    let s = Scratch::new("student-data", test);
    std::fs::create_dir_all(s.path("bank")).unwrap();
    s.write("bank/three.toml", BANK);
    s
}

/// `migralab ARGS` with `data` as its data directory and `stdin` (bytes) piped in.
fn run(data: &Path, args: &[&str], stdin: &[u8]) -> Run {
    let mut child = spawn(data, args);
    let _ = child.stdin.take().unwrap().write_all(stdin);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().expect("killed by a signal"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn spawn(data: &Path, args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_migralab"))
        .args(args)
        .env("MIGRALAB_DATA_DIR", data)
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// `migralab quiz` on the three-question bank, seed 1, in English, for `student`.
fn quiz_args<'a>(bank: &'a str, student: &'a str) -> Vec<&'a str> {
    vec![
        "quiz",
        "--bank",
        bank,
        "--seed",
        "1",
        "--lang",
        "en",
        "--student",
        student,
    ]
}

fn profile(data: &Path, name: &str) -> Profile {
    let loaded = ProfileStore::new(data).load(name).unwrap();
    assert_eq!(loaded.notice, None);
    loaded.value
}

#[test]
fn a_bad_student_name_is_refused_before_the_first_question_by_every_command() {
    let s = lab("names");
    let (data, bank) = (s.path("data"), s.arg("bank"));
    let long_ascii = "a".repeat(81);
    let long_utf8 = "é".repeat(40); // 40 characters, 240 bytes of file name
    let cases: [(&str, &str); 10] = [
        ("", "tidak boleh kosong"),
        ("   ", "tidak boleh kosong"),
        ("Ana\u{202E}lanif", "(U+202E)"),
        ("Ana\u{2066}x\u{2069}", "(U+2066)"),
        ("Ana\u{200F}", "(U+200F)"),
        ("Ana\u{061C}", "(U+061C)"),
        ("Ana\tPutri", "(U+0009)"),
        ("../Ana", "`/`"),
        (&long_ascii, "paling banyak 80 karakter"),
        (&long_utf8, "paling banyak 80 karakter"),
    ];
    for (name, why) in cases {
        // The quiz, in its default language: refused before anything is asked or written.
        let r = run(
            &data,
            &["quiz", "--bank", &bank, "--student", name],
            b"a\na\na\n",
        );
        assert_eq!(r.code, 2, "{name:?}: {}", r.stderr);
        assert!(r.stderr.contains(why), "{name:?}: {}", r.stderr);
        assert!(!r.stdout.contains("[1/"), "{name:?} asked: {}", r.stdout);
        assert!(!data.exists(), "{name:?}: nothing written");
        // The export: the same rule.
        let r = run(&data, &["progress", "export", "--student", name], b"");
        assert_eq!(r.code, 2, "{name:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("a student name"),
            "{name:?}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("no saved progress"), "{}", r.stderr);
    }
    // `\` too, and every refusal in English with --lang en.
    let r = run(
        &data,
        &["quiz", "--bank", &bank, "--lang", "en", "--student", "a\\b"],
        b"",
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("cannot contain `/` or `\\`"),
        "{}",
        r.stderr
    );

    // Spaces around a name are trimmed, the same way by the quiz and the export.
    let r = run(&data, &quiz_args(&bank, "  Ana Putri "), b"a\na\na\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("Answers will be saved to Ana Putri's profile.")
    );
    let r = run(
        &data,
        &["progress", "export", "--student", "Ana Putri   "],
        b"",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["students"][0]["name"], "Ana Putri");
    // 80 characters is still a name.
    let eighty = "b".repeat(80);
    let r = run(&data, &quiz_args(&bank, &eighty), b"a\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(profile(&data, &eighty).attempts.len(), 1);
}

#[test]
fn each_answer_is_saved_when_given_and_a_killed_quiz_keeps_them() {
    let s = lab("each-answer");
    let (data, bank) = (s.path("data"), s.arg("bank"));

    // The input ends after one answer of three: that answer is kept, the quiz incomplete.
    let r = run(&data, &quiz_args(&bank, "Ana"), b"a\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p = profile(&data, "Ana");
    assert_eq!(p.quizzes.len(), 1);
    let q = &p.quizzes[0];
    assert_eq!(
        (q.taken_in.as_str(), q.seed, q.questions),
        ("terminal", 1, 3)
    );
    assert_eq!(q.completed, None);
    assert_eq!(p.attempts.len(), 1);
    assert_eq!(p.attempts[0].quiz.as_deref(), Some(q.id.as_str()));

    // Killed while waiting for its second answer: the first is already on disk.
    let mut child = spawn(&data, &quiz_args(&bank, "Budi"));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"b\n").unwrap();
    stdin.flush().unwrap();
    let start = Instant::now();
    let saved = loop {
        let p = ProfileStore::new(&data).load("Budi").unwrap().value;
        if !p.attempts.is_empty() || start.elapsed() > Duration::from_secs(20) {
            break p;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap();
    let _ = child.wait();
    drop(stdin);
    assert_eq!(saved.attempts.len(), 1, "saved before the quiz ended");
    let p = profile(&data, "Budi");
    assert_eq!(p.attempts.len(), 1);
    assert!(!p.attempts[0].correct);
    assert_eq!(p.quizzes[0].completed, None);

    // Answered to the end: complete, and the export says which answers came from which.
    let r = run(&data, &quiz_args(&bank, "Budi"), b"a\na\na\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let p = profile(&data, "Budi");
    assert_eq!((p.quizzes.len(), p.attempts.len()), (2, 4));
    assert!(p.quizzes[1].completed.is_some());
    let r = run(
        &data,
        &["progress", "export", "--csv", "--student", "Budi"],
        b"",
    );
    let rows: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(rows.len(), 5, "{}", r.stdout);
    assert!(
        rows[1].ends_with(&format!(",{},false", p.quizzes[0].id)),
        "{}",
        r.stdout
    );
    assert!(
        rows[4].ends_with(&format!(",{},true", p.quizzes[1].id)),
        "{}",
        r.stdout
    );
}

#[test]
fn an_invalid_utf8_line_rejects_that_line_only() {
    let s = lab("utf8");
    let (data, bank) = (s.path("data"), s.arg("bank"));
    // The quiz: a line that is not UTF-8, then one too long, then the answers.
    let mut input = b"\xff\xfe a\n".to_vec();
    input.extend(vec![b'x'; 70_000]);
    input.extend_from_slice(b"\na\na\na\n");
    let r = run(&data, &quiz_args(&bank, "Ana"), &input);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("This line is not UTF-8 text, so it was ignored. Type it again."),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("This line is longer than 65536 bytes"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Result: 3 of 3 right"), "{}", r.stdout);
    assert_eq!(profile(&data, "Ana").attempts.len(), 3);

    // The shell: the commands before and after the bad line run.
    let r = run(
        &data,
        &["shell", "--lang", "en"],
        b"hostname\nvirsh list \xc3\x28\nhostname\n",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout.matches("# hostname\nkvm-host-01\n").count(),
        2,
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("migralab shell: This line is not UTF-8 text"),
        "{}",
        r.stdout
    );
}

#[test]
fn concurrent_processes_answering_for_one_student_lose_nothing() {
    const N: usize = 6;
    let s = lab("concurrent");
    let (data, bank) = (s.path("data"), s.arg("bank"));
    let children: Vec<_> = (0..N)
        .map(|_| {
            let mut c = spawn(&data, &quiz_args(&bank, "Ana"));
            // Every answer at once, so the processes' saves overlap.
            c.stdin.take().unwrap().write_all(b"a\nb\na\nn\n").unwrap();
            c
        })
        .collect();
    crate::common::wait_all_succeed(children);
    let p = profile(&data, "Ana");
    assert_eq!(p.quizzes.len(), N, "every quiz recorded");
    assert_eq!(p.attempts.len(), 3 * N, "every answer recorded");
    assert!(p.quizzes.iter().all(|q| q.completed.is_some()));
    for q in &p.quizzes {
        let n = p
            .attempts
            .iter()
            .filter(|a| a.quiz.as_deref() == Some(q.id.as_str()))
            .count();
        assert_eq!(n, 3, "quiz {}", q.id);
    }
    let t = &p.objectives["flag-live"];
    assert_eq!((t.asked, t.correct), (3 * N as u32, 2 * N as u32));
}

#[test]
fn a_damaged_profile_is_set_aside_with_the_notice_in_every_command() {
    let s = lab("damaged");
    let (data, bank) = (s.path("data"), s.arg("bank"));
    let students = data.join("students");
    std::fs::create_dir_all(&students).unwrap();
    let damage = |name: &str, text: &str| std::fs::write(students.join(name), text).unwrap();

    // The quiz: said before the first question; the answers go to a fresh profile.
    damage("Ana.json", "{ not json");
    let r = run(&data, &quiz_args(&bank, "Ana"), b"a\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("warning: the progress file"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("is damaged"), "{}", r.stderr);
    assert!(r.stderr.contains("Ana.corrupt-1.json"), "{}", r.stderr);
    assert!(students.join("Ana.corrupt-1.json").exists());
    assert_eq!(profile(&data, "Ana").attempts.len(), 1);

    // The export of one student.
    damage("Budi.json", r#"{"format": 99, "name": "Budi"}"#);
    let r = run(&data, &["progress", "export", "--student", "Budi"], b"");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("was written by a newer migralab"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("Budi.newer-1.json"), "{}", r.stderr);

    // The export of every student, as CSV and as JSON.
    damage("Cici.json", "[1, 2");
    let r = run(&data, &["progress", "export", "--csv"], b"");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("Cici.json is not readable"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("Cici.corrupt-1.json"), "{}", r.stderr);
    assert!(r.stdout.contains("\nAna,"), "{}", r.stdout);
    damage("Dodi.json", "");
    let r = run(&data, &["progress", "export"], b"");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("Dodi.corrupt-1.json"), "{}", r.stderr);
    assert_eq!(r.json()["students"][0]["name"], "Ana", "{}", r.stdout);
}

#[test]
fn the_terminal_quiz_honours_instructor_toml_as_the_app_does() {
    let s = lab("settings");
    let (data, bank) = (s.path("data"), s.arg("bank"));
    std::fs::create_dir_all(&data).unwrap();
    let settings = data.join("instructor.toml");

    // Assessment mode, and only two of the three questions visible.
    std::fs::write(
        &settings,
        "assessment_mode = true\n[visible]\nquizzes = [\"s-one\", \"s-three\"]\n",
    )
    .unwrap();
    let r = run(&data, &quiz_args(&bank, "Ana"), b"a\nb\nn\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = &r.stdout;
    assert!(out.contains("migralab quiz — 2 questions"), "{out}");
    assert!(out.contains("Assessment mode: right/wrong"), "{out}");
    assert!(!out.contains("Two?"), "a hidden question was asked: {out}");
    assert_eq!(out.matches("Answer recorded.").count(), 2, "{out}");
    // Nothing judged until the round is over, then every answer with its explanation.
    let review = out.find("Answers and explanations").expect("the review");
    let first_verdict = out.find("✓ Right!").expect("a verdict");
    assert!(first_verdict > review, "judged before the end: {out}");
    assert!(out[review..].contains("Right one.") && out[review..].contains("Wrong three."));
    assert!(out.contains("Result: 1 of 2 right"), "{out}");
    assert_eq!(profile(&data, "Ana").attempts.len(), 2);

    // Nothing visible from this bank: said, nothing asked.
    std::fs::write(&settings, "[visible]\nquizzes = [\"flag-postcopy\"]\n").unwrap();
    let r = run(&data, &quiz_args(&bank, "Ana"), b"a\n");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("The instructor has not made any question of this bank visible"),
        "{}",
        r.stderr
    );

    // A damaged file: said, with its line, and what is used instead; left where it is.
    std::fs::write(&settings, "assessment_mode = \"yes\"\n").unwrap();
    let r = run(&data, &quiz_args(&bank, "Ana"), b"a\na\na\n");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("warning: The instructor's settings cannot be read"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("instructor.toml:1:"), "{}", r.stderr);
    assert!(
        r.stderr.contains("The defaults: practice mode"),
        "{}",
        r.stderr
    );
    assert!(settings.exists(), "the instructor's file is left in place");
    assert_eq!(r.stdout.matches("✓ Right!").count(), 3, "{}", r.stdout);
}
