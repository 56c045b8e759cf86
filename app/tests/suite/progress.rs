//! Student progress and instructor settings on disk: round trips, bad files kept aside, a kill
//! mid-write, the PIN lock, and `migralab quiz --student` followed by `migralab progress export`.

use crate::common::Scratch;
use migralab_app::progress::{Attempt, Profile, ProfileStore, export_csv, export_json};
use migralab_app::settings::{InstructorSettings, LabMode, SettingsError};
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

fn attempt(question: &str, correct: bool) -> Attempt {
    Attempt {
        at: 1_700_000_000,
        question: question.into(),
        objective: "flag-live".into(),
        score: if correct { 1.0 } else { 0.0 },
        correct,
        quiz: None,
    }
}

fn saved(store: &ProfileStore, name: &str) -> Profile {
    let mut p = Profile::new(name);
    p.record_attempt(attempt("q1", true));
    p.record_attempt(attempt("q2", false));
    p.record_observation(
        "exp1-shared-storage",
        "only the RAM was copied",
        1_700_000_100,
    );
    store.save(&p).unwrap();
    p
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn profile_round_trip() {
    let dir = Scratch::new("progress", "round-trip");
    let store = ProfileStore::new(dir.as_path());
    let p = saved(&store, "Ana Putri");
    let loaded = store.load("Ana Putri").unwrap();
    assert_eq!(loaded.notice, None);
    assert_eq!(loaded.value, p);
    assert_eq!(loaded.value.objectives["flag-live"].asked, 2);
    // A student never seen gets a fresh profile.
    let fresh = store.load("Budi").unwrap();
    assert_eq!((fresh.value, fresh.notice), (Profile::new("Budi"), None));
    let (all, notices) = store.load_all().unwrap();
    assert!(notices.is_empty());
    assert_eq!(all, vec![p]);
}

#[test]
fn corrupt_profile_is_kept_aside_and_others_survive() {
    let dir = Scratch::new("progress", "corrupt");
    let store = ProfileStore::new(dir.as_path());
    let budi = saved(&store, "Budi");
    saved(&store, "Ana");
    std::fs::write(store.path_of("Ana"), "{\"format\": 1, \"name\": \"An").unwrap();

    let loaded = store.load("Ana").unwrap();
    assert_eq!(loaded.value, Profile::new("Ana"));
    let notice = loaded.notice.expect("a notice");
    assert!(
        notice.contains("damaged") && notice.contains("Ana.corrupt-1.json"),
        "{notice}"
    );
    assert!(!store.path_of("Ana").exists());
    // A second bad file does not overwrite the first one kept aside.
    std::fs::write(store.path_of("Ana"), "garbage").unwrap();
    let notice = store.load("Ana").unwrap().notice.unwrap();
    assert!(notice.contains("Ana.corrupt-2.json"), "{notice}");
    // (`Ana.lock` is the lock taken while the damaged file was set aside.)
    assert_eq!(
        files_in(store.dir()),
        [
            "Ana.corrupt-1.json",
            "Ana.corrupt-2.json",
            "Ana.lock",
            "Budi.json"
        ]
    );
    assert_eq!(store.load("Budi").unwrap().value, budi);

    // Listing every student sets a bad file aside too, and returns the rest.
    std::fs::write(store.path_of("Citra"), "[1, 2").unwrap();
    let (all, notices) = store.load_all().unwrap();
    assert_eq!(all, vec![budi]);
    assert_eq!(notices.len(), 1);
    assert!(
        notices[0].contains("Citra.corrupt-1.json"),
        "{}",
        notices[0]
    );
}

#[test]
fn newer_format_profile_is_kept_aside() {
    let dir = Scratch::new("progress", "newer");
    let store = ProfileStore::new(dir.as_path());
    std::fs::create_dir_all(store.dir()).unwrap();
    let newer = r#"{"format": 4, "name": "Ana", "badges": ["x"]}"#;
    std::fs::write(store.path_of("Ana"), newer).unwrap();
    let loaded = store.load("Ana").unwrap();
    assert_eq!(loaded.value, Profile::new("Ana"));
    let notice = loaded.notice.unwrap();
    assert!(
        notice.contains("newer migralab") && notice.contains("Ana.newer-1.json"),
        "{notice}"
    );
    let kept = std::fs::read_to_string(store.dir().join("Ana.newer-1.json")).unwrap();
    assert_eq!(kept, newer);
}

/// A profile written before quizzes were recorded (format 1) loads as it is, and is written
/// back as the current format with its answers kept.
#[test]
fn a_format_1_profile_still_loads() {
    let dir = Scratch::new("progress", "format-1");
    let store = ProfileStore::new(dir.as_path());
    std::fs::create_dir_all(store.dir()).unwrap();
    let old = r#"{
  "format": 1,
  "name": "Ana",
  "attempts": [
    {"at": 1700000000, "question": "q1", "objective": "flag-live", "score": 1.0, "correct": true}
  ],
  "observations": [],
  "objectives": {"flag-live": {"asked": 1, "correct": 1, "points": 1.0}}
}"#;
    std::fs::write(store.path_of("Ana"), old).unwrap();
    let loaded = store.load("Ana").unwrap();
    assert_eq!(loaded.notice, None);
    assert_eq!(loaded.value.attempts.len(), 1);
    assert_eq!(loaded.value.attempts[0].quiz, None);
    assert!(loaded.value.quizzes.is_empty());
    store
        .update("Ana", |p| p.record_attempt(attempt("q2", false)))
        .unwrap();
    let text = std::fs::read_to_string(store.path_of("Ana")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["format"], migralab_app::progress::PROFILE_FORMAT);
    assert_eq!(json["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(json["objectives"]["flag-live"]["asked"], 2);
}

/// A kill mid-write leaves only a temporary beside the profile: the rename never happened, so
/// the profile loads as it was, and the temporaries are not mistaken for profiles.
#[test]
fn kill_mid_write_leaves_the_profile_intact() {
    let dir = Scratch::new("progress", "kill");
    let store = ProfileStore::new(dir.as_path());
    let ana = saved(&store, "Ana");
    let full = std::fs::read(store.path_of("Ana")).unwrap();
    // What a killed writer leaves: an empty temporary and a truncated one.
    std::fs::write(store.dir().join(".Ana.json.99999.0.tmp"), b"").unwrap();
    std::fs::write(
        store.dir().join(".Ana.json.99998.3.tmp"),
        &full[..full.len() / 2],
    )
    .unwrap();

    let loaded = store.load("Ana").unwrap();
    assert_eq!((loaded.value, loaded.notice), (ana.clone(), None));
    let (all, notices) = store.load_all().unwrap();
    assert_eq!((all, notices), (vec![ana.clone()], Vec::<String>::new()));

    // The next save still works and replaces the profile whole.
    let notice = store
        .update("Ana", |p| p.record_attempt(attempt("q3", true)))
        .unwrap();
    assert_eq!(notice, None);
    let after = store.load("Ana").unwrap().value;
    assert_eq!(after.attempts.len(), 3);
    assert_eq!(after.objectives["flag-live"].correct, 2);
}

#[test]
fn export_has_one_csv_row_per_attempt() {
    let dir = Scratch::new("progress", "export");
    let store = ProfileStore::new(dir.as_path());
    let ana = saved(&store, "Ana");
    let csv = export_csv(std::slice::from_ref(&ana));
    assert_eq!(
        csv,
        "student,time_unix,question,objective,score,correct,quiz,quiz_complete\n\
         Ana,1700000000,q1,flag-live,1,true,,\n\
         Ana,1700000000,q2,flag-live,0,false,,\n"
    );
    let json: serde_json::Value = serde_json::from_str(&export_json(&[ana]).unwrap()).unwrap();
    assert_eq!(json["students"][0]["name"], "Ana");
    assert_eq!(json["students"][0]["attempts"].as_array().unwrap().len(), 2);
}

#[test]
fn wrong_pin_cannot_unlock_and_pin_is_not_stored_in_clear() {
    let dir = Scratch::new("progress", "pin");
    let path = InstructorSettings::path_in(dir.as_path());
    let mut s = InstructorSettings::default();
    assert!(!s.verify_pin("4821"), "no PIN set: nothing unlocks");
    assert!(s.set_pin("12").is_err(), "too short");
    s.set_pin("4821").unwrap();
    s.mode_locked = Some(LabMode::Simulated);
    s.save(&path).unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("4821"), "{text}");
    assert!(text.contains("$argon2id$"), "{text}");

    let loaded = InstructorSettings::load(&path).unwrap();
    assert_eq!(loaded.notice, None);
    let s = loaded.value;
    assert!(s.verify_pin("4821"));
    for wrong in ["4822", "", "48211", " 4821"] {
        assert!(!s.verify_pin(wrong), "{wrong:?}");
    }
    assert_eq!(s.mode_locked, Some(LabMode::Simulated));

    // Two hashes of one PIN differ: the salt is random.
    let mut again = InstructorSettings::default();
    again.set_pin("4821").unwrap();
    assert_ne!(again.pin_hash, s.pin_hash);
}

#[test]
fn unknown_settings_key_names_file_and_line() {
    let text = "assessment_mode = true\n\n[real_lab]\nallowed_hosts = [\"qemu:///system\"]\nping_targt = \"10.0.0.5\"\n";
    let err = InstructorSettings::from_toml_str(text, "/srv/instructor.toml").unwrap_err();
    assert!(
        matches!(err, SettingsError::Invalid { line: 5, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.starts_with("/srv/instructor.toml:5:1:"), "{msg}");
    assert!(msg.contains("ping_targt"), "{msg}");

    // Loaded from disk, the bad file is kept aside and the same location is reported.
    let dir = Scratch::new("progress", "unknown-key");
    let path = InstructorSettings::path_in(dir.as_path());
    std::fs::write(&path, text).unwrap();
    let loaded = InstructorSettings::load(&path).unwrap();
    assert_eq!(loaded.value, InstructorSettings::default());
    let notice = loaded.notice.unwrap();
    assert!(
        notice.contains(&format!("{}:5:1:", path.display())),
        "{notice}"
    );
    assert!(dir.as_path().join("instructor.corrupt-1.toml").exists());

    // A newer format is kept aside as such.
    std::fs::write(&path, "format = 3\nnew_thing = 1\n").unwrap();
    let notice = InstructorSettings::load(&path).unwrap().notice.unwrap();
    assert!(notice.contains("format 3"), "{notice}");
    assert!(dir.as_path().join("instructor.newer-1.toml").exists());
}

fn migralab(data: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_migralab"))
        .args(args)
        .env("MIGRALAB_DATA_DIR", data)
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().expect("killed by a signal"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn quiz_student_answers_are_exported_as_csv() {
    let scratch = Scratch::new("progress", "cli");
    let bank = scratch.as_path().join("bank");
    std::fs::create_dir_all(&bank).unwrap();
    std::fs::write(bank.join("one.toml"), crate::common::ONE_QUESTION).unwrap();
    let data = scratch.as_path().join("data");
    let bank = bank.to_str().unwrap();

    let (code, out, err) = migralab(
        &data,
        &["quiz", "--bank", bank, "--seed", "1", "--student", "Ana"],
        "a\n",
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = migralab(
        &data,
        &["quiz", "--bank", bank, "--seed", "2", "--student", "Ana"],
        "b\nn\n",
    );
    assert_eq!(code, 0, "{out}\n{err}");

    let (code, csv, err) = migralab(&data, &["progress", "export", "--csv"], "");
    assert_eq!(code, 0, "{err}");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[0],
        "student,time_unix,question,objective,score,correct,quiz,quiz_complete"
    );
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(
        rows[1].starts_with("Ana,") && rows[1].contains(",s-live,flag-live,1,true,"),
        "{csv}"
    );
    // The first quiz was answered to its end; the second stopped at the retry question, after
    // its one question: complete too.
    assert!(rows[1].ends_with(",true"), "{csv}");
    assert!(rows[2].contains(",s-live,flag-live,0,false,"), "{csv}");
    assert!(rows[2].ends_with(",true"), "{csv}");

    let out_file = scratch.as_path().join("ana.json");
    let (code, _, err) = migralab(
        &data,
        &[
            "progress",
            "export",
            "--student",
            "Ana",
            "--json",
            "--out",
            out_file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(json["students"][0]["objectives"]["flag-live"]["asked"], 2);

    let (code, _, err) = migralab(&data, &["progress", "export", "--student", "Nobody"], "");
    assert_eq!(code, 2);
    assert!(err.contains("no saved progress for `Nobody`"), "{err}");
}
