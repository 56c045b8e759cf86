//! The Kuis and Instruktur tabs, driven as a student and an instructor would (egui_kittest):
//! take a quiz (right and wrong answers, every kind of question), see the explanations and the
//! scores, retry the mistakes; set a PIN, lock and unlock, turn on assessment mode and see the
//! quiz hold back its explanations until the end; a damaged settings file keeps the tab locked;
//! hidden objectives are not offered; the students' overview exports CSV.
//!
//! Each test gives the app its own data directory through `Shared::data_dir` (never the
//! process-wide `MIGRALAB_DATA_DIR`: tests run in parallel threads).

use crate::common::Scratch;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use migralab_app::gui::MigralabApp;
use migralab_app::gui::quiz_tab::model::Phase;
use migralab_app::gui::state::{AppState, Tab};
use migralab_app::progress::{Attempt, Profile, ProfileStore};
use migralab_app::settings::InstructorSettings;
use migralab_course::quiz::{Body, Kind, Presented};
use migralab_sim_core::lang::Lang;
use std::collections::BTreeSet;
use std::path::Path;

type H = Harness<'static, MigralabApp>;

/// The app on `tab` with its data in `dir`, in a window tall enough to show a whole question.
fn harness(tab: Tab, dir: &Path) -> H {
    let mut app = MigralabApp::new(AppState {
        tab,
        ..Default::default()
    });
    app.shared.data_dir = Some(dir.to_path_buf());
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1280.0, 4000.0))
        .build_ui_state(|ui, app: &mut MigralabApp| app.ui_root(ui), app);
    h.run();
    h
}

fn click(h: &mut H, label: &str) {
    h.get_by_label(label).click();
    h.run();
}

fn type_into(h: &mut H, label: &str, text: &str) {
    h.get_by_label(label).set_text_value_accesskit(text);
    h.run();
}

fn has(h: &H, label: &str) -> bool {
    h.query_all_by_label(label).next().is_some()
}

fn has_containing(h: &H, part: &str) -> bool {
    h.query_all_by_label_contains(part).next().is_some()
}

/// Choose objectives (by their Indonesian titles), every question, a fixed seed, then start.
fn start_quiz(h: &mut H, objectives: &[&str], seed: u64) {
    for o in objectives {
        click(h, o);
    }
    h.get_by_label("Seed pengacakan")
        .set_value_accesskit(seed as f64);
    h.run();
    assert_eq!(h.state().quiz.setup.seed, Some(seed));
    click(h, "Mulai kuis");
    let s = h.state().quiz.session.as_ref().expect("the quiz started");
    assert_eq!(s.phase, Phase::Answering);
}

/// What the current question is and what the student will do to answer it.
struct Plan {
    id: String,
    kind: Kind,
    /// Labels to click (options), or a text to type into a field.
    clicks: Vec<String>,
    typed: Option<(String, String)>,
    /// Arrange an order question correctly.
    sort_steps: bool,
    /// Every option's explanation (what the feedback must show).
    whys: Vec<String>,
}

fn option_label(
    p: &Presented<'_>,
    original: usize,
    text: &migralab_sim_core::text::Text,
) -> String {
    format!(
        "{}) {}",
        p.letter_of(original).unwrap(),
        Lang::Id.pick(text)
    )
}

/// How to answer the current question rightly (`right`) or wrongly.
fn plan_answer(h: &H, right: bool) -> Plan {
    let s = h.state().quiz.session.as_ref().unwrap();
    let p = s.current_presented().unwrap();
    let q = p.question;
    let mut plan = Plan {
        id: q.id.clone(),
        kind: q.kind(),
        clicks: Vec::new(),
        typed: None,
        sort_steps: false,
        whys: q
            .choices()
            .iter()
            .map(|c| Lang::Id.pick(&c.why).to_string())
            .collect(),
    };
    match &q.body {
        Body::Single { .. } | Body::Diagnose { .. } | Body::Predict { .. } => {
            let choices = q.choices();
            let (i, c) = choices
                .iter()
                .enumerate()
                .find(|(_, c)| c.correct == right)
                .unwrap();
            plan.clicks.push(option_label(&p, i, &c.text));
        }
        Body::Multi { options } => {
            for (i, c) in options.iter().enumerate() {
                if (right && c.correct) || (!right && !c.correct && plan.clicks.is_empty()) {
                    plan.clicks.push(option_label(&p, i, &c.text));
                }
            }
        }
        Body::Order { steps } => {
            // Shown steps are never in the right order already, so leaving them is wrong.
            plan.sort_steps = right;
            plan.whys = steps
                .iter()
                .map(|s| Lang::Id.pick(&s.why).to_string())
                .collect();
        }
        Body::Command { expected_text, .. } => {
            let text = if right {
                expected_text.clone()
            } else {
                "virsh migrate --offline db01 qemu+ssh://nowhere/system".to_string()
            };
            plan.typed = Some(("Perintah virsh migrate".into(), text));
        }
        Body::Numeric { answer, unit, .. } => {
            let v = if right {
                *answer
            } else {
                answer * 10.0 + 1000.0
            };
            plan.typed = Some((format!("Jawaban dalam {unit}"), format!("{v}")));
        }
    }
    plan
}

/// Enter the planned answer through the widgets, checking the widget fits the kind.
fn enter_answer(h: &mut H, plan: &Plan) {
    match plan.kind {
        Kind::Single | Kind::Diagnose | Kind::Predict => {
            let node = h.get_by_label(&plan.clicks[0]);
            assert_eq!(
                node.accesskit_node().role(),
                egui::accesskit::Role::RadioButton
            );
        }
        Kind::Multi => {
            let node = h.get_by_label(&plan.clicks[0]);
            assert_eq!(
                node.accesskit_node().role(),
                egui::accesskit::Role::CheckBox
            );
        }
        Kind::Order => assert!(has(h, "Turunkan langkah 1"), "{}: move buttons", plan.id),
        Kind::Command | Kind::Numeric => {
            let (label, _) = plan.typed.as_ref().unwrap();
            let node = h.get_by_label(label);
            assert_eq!(
                node.accesskit_node().role(),
                egui::accesskit::Role::TextInput
            );
        }
    }
    for label in &plan.clicks {
        click(h, label);
    }
    if let Some((label, text)) = &plan.typed {
        type_into(h, label, text);
    }
    if plan.sort_steps {
        // Bubble the steps into place with the "move up" buttons, as a student would.
        loop {
            let order = h.state().quiz.session.as_ref().unwrap().input.order.clone();
            let Some(pos) = (1..order.len()).find(|i| order[i - 1] > order[*i]) else {
                break;
            };
            click(h, &format!("Naikkan langkah {}", pos + 1));
        }
    }
}

fn session(h: &H) -> &migralab_app::gui::quiz_tab::model::QuizSession {
    h.state().quiz.session.as_ref().unwrap()
}

/// A practice quiz on `--live`: right and wrong answers, each explained (every option, also
/// the wrong ones), then the scores per objective, the review of mistakes, the answers saved
/// in the student's profile, and a retry round of only the missed questions.
#[test]
fn practice_quiz_explains_every_answer_and_scores_per_objective() {
    let dir = Scratch::new("gui-quiz", "practice");
    let mut h = harness(Tab::Quiz, dir.as_path());
    type_into(&mut h, "Nama siswa", "Ana Putri");
    assert_eq!(h.state().state.student, "Ana Putri");
    start_quiz(&mut h, &["Flag --live"], 7);
    let n = session(&h).items.len();
    assert_eq!(n, 4, "every --live question");

    // Nothing chosen: the quiz asks for an answer instead of grading.
    click(&mut h, "Periksa jawaban");
    assert!(has(&h, "Pilih jawaban dulu.") || has_containing(&h, "Jawaban kosong"));
    assert_eq!(session(&h).phase, Phase::Answering);

    let mut wrong_ids = Vec::new();
    for i in 0..n {
        assert!(has(&h, &format!("Soal {} dari {n}", i + 1)));
        let right = i % 2 == 0;
        let plan = plan_answer(&h, right);
        enter_answer(&mut h, &plan);
        click(&mut h, "Periksa jawaban");
        assert_eq!(session(&h).phase, Phase::Feedback, "{}", plan.id);
        assert!(
            has(
                &h,
                if right {
                    "✔ Benar!"
                } else {
                    "✖ Belum tepat."
                }
            ),
            "{}: verdict",
            plan.id
        );
        for why in &plan.whys {
            assert!(has(&h, why), "{}: the explanation {why:?}", plan.id);
        }
        if plan.kind == Kind::Predict {
            assert!(has_containing(&h, "Simulator:"), "the simulator's result");
        }
        if plan.kind == Kind::Command {
            assert!(has_containing(&h, "Jawaban model:"));
        }
        if !right {
            wrong_ids.push(plan.id.clone());
        }
        click(
            &mut h,
            if i + 1 == n {
                "Lihat hasil"
            } else {
                "Soal berikutnya"
            },
        );
    }

    let s = session(&h);
    assert_eq!(s.phase, Phase::Finished);
    assert!(has(&h, "Hasil"));
    assert!(has(&h, "2 dari 4 benar, skor 2.0/4 (50 %)"));
    assert!(has(&h, "Per tujuan pembelajaran"));
    assert!(has(&h, "2/4"), "the --live row");
    assert!(has(&h, "Tinjau kesalahanmu"));
    assert_eq!(s.missed(), wrong_ids);
    assert!(has(&h, "4 jawaban tersimpan di profil Ana Putri."));

    // Saved in the profile, like `migralab quiz --student`.
    let profile = ProfileStore::new(dir.as_path()).load("Ana Putri").unwrap();
    assert_eq!(profile.notice, None);
    let p = profile.value;
    assert_eq!(p.attempts.len(), 4);
    assert_eq!(p.objectives["flag-live"].asked, 4);
    assert_eq!(p.objectives["flag-live"].correct, 2);
    // One quiz, taken in the app, complete, and every answer belongs to it.
    assert_eq!(p.quizzes.len(), 1);
    assert_eq!(
        (p.quizzes[0].taken_in.as_str(), p.quizzes[0].seed),
        ("app", 7)
    );
    assert!(p.quizzes[0].completed.is_some());
    assert!(
        p.attempts
            .iter()
            .all(|a| a.quiz.as_deref() == Some(p.quizzes[0].id.as_str()))
    );

    // Review my mistakes: a round of only the missed questions.
    click(&mut h, "Ulangi soal yang salah (2)");
    let s = session(&h);
    assert_eq!(s.round, 1);
    let ids: BTreeSet<&str> = s.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, wrong_ids.iter().map(String::as_str).collect());
    assert!(has(&h, "Mengulang soal yang salah"));
    for i in 0..2 {
        let plan = plan_answer(&h, true);
        enter_answer(&mut h, &plan);
        click(&mut h, "Periksa jawaban");
        assert!(has(&h, "✔ Benar!"));
        click(
            &mut h,
            if i == 1 {
                "Lihat hasil"
            } else {
                "Soal berikutnya"
            },
        );
    }
    assert!(session(&h).missed().is_empty());
    assert!(has(&h, "Semua soal sudah benar. Bagus!"));
    click(&mut h, "Kuis baru");
    assert!(h.state().quiz.session.is_none());
    assert!(has(&h, "Mulai kuis"));
}

/// Every kind of question gets its own widget and can be answered right through it; several
/// objectives can be chosen at once, and the seed gives the same quiz again.
#[test]
fn every_kind_of_question_is_answered_through_its_widget() {
    let dir = Scratch::new("gui-quiz", "kinds");
    let objectives = [
        "Putaran (iterasi) pre-copy",
        "Dirty rate dan downtime",
        "Prasyarat: jaringan yang sama",
        "Flag --live",
    ];
    let mut h = harness(Tab::Quiz, dir.as_path());
    start_quiz(&mut h, &objectives, 11);
    let first_order: Vec<String> = session(&h).items.iter().map(|i| i.id.clone()).collect();
    assert_eq!(first_order.len(), 4 + 5 + 4 + 4);
    let mut kinds = BTreeSet::new();
    let n = first_order.len();
    for i in 0..n {
        let plan = plan_answer(&h, true);
        kinds.insert(plan.kind);
        enter_answer(&mut h, &plan);
        click(&mut h, "Periksa jawaban");
        assert!(has(&h, "✔ Benar!"), "{} ({:?})", plan.id, plan.kind);
        click(
            &mut h,
            if i + 1 == n {
                "Lihat hasil"
            } else {
                "Soal berikutnya"
            },
        );
    }
    assert_eq!(kinds, Kind::ALL.into_iter().collect::<BTreeSet<_>>());
    assert!(has(
        &h,
        &format!("{n} dari {n} benar, skor {n}.0/{n} (100 %)")
    ));
    assert!(has(&h, "Semua soal sudah benar. Bagus!"));
    assert!(has(&h, "Jawaban tidak disimpan (nama siswa kosong)."));
    assert!(
        !dir.as_path().join("students").exists(),
        "no name, no profile"
    );

    // The same seed and objectives (still chosen): the same quiz.
    click(&mut h, "Kuis baru");
    start_quiz(&mut h, &[], 11);
    let again: Vec<String> = session(&h).items.iter().map(|i| i.id.clone()).collect();
    assert_eq!(again, first_order);

    // Ending early scores only what was answered.
    let plan = plan_answer(&h, true);
    enter_answer(&mut h, &plan);
    click(&mut h, "Periksa jawaban");
    click(&mut h, "Akhiri kuis sekarang");
    assert!(has(&h, "1 dari 1 benar, skor 1.0/1 (100 %)"));
}

/// The instructor sets a PIN (only its hash is written), locks the tab, cannot unlock it with
/// a wrong PIN, unlocks with the right one, and turns on assessment mode; the quiz then shows
/// no verdict and no explanation until the whole quiz is submitted.
#[test]
fn pin_lock_and_assessment_mode() {
    let dir = Scratch::new("gui-quiz", "pin");
    let settings_path = InstructorSettings::path_in(dir.as_path());
    let mut h = harness(Tab::Instructor, dir.as_path());
    assert!(has_containing(&h, "Belum ada PIN"));
    assert!(has(&h, "Simpan pengaturan"), "open while no PIN is set");

    // Two different PINs are refused.
    type_into(&mut h, "PIN baru", "2468");
    type_into(&mut h, "Ulangi PIN baru", "2469");
    click(&mut h, "Pasang PIN");
    assert!(has(&h, "✖ Kedua PIN tidak sama."));
    assert!(!settings_path.exists());

    type_into(&mut h, "PIN baru", "2468");
    type_into(&mut h, "Ulangi PIN baru", "2468");
    click(&mut h, "Pasang PIN");
    assert!(has(&h, "✔ PIN dipasang."));
    let text = std::fs::read_to_string(&settings_path).unwrap();
    assert!(text.contains("$argon2id$"), "{text}");
    assert!(!text.contains("2468"), "the PIN is not stored in clear");

    click(&mut h, "Kunci");
    assert!(!h.state().shared.unlocked);
    assert!(has(&h, "Buka kunci"));
    assert!(
        !has(&h, "Simpan pengaturan"),
        "settings hidden while locked"
    );

    type_into(&mut h, "Masukkan PIN", "1111");
    click(&mut h, "Buka kunci");
    assert!(!h.state().shared.unlocked, "a wrong PIN cannot unlock");
    assert!(has(&h, "✖ PIN salah."));
    assert!(!has(&h, "Simpan pengaturan"));
    assert!(
        h.state().instructor.pin.is_empty(),
        "the typed PIN is cleared"
    );

    type_into(&mut h, "Masukkan PIN", "2468");
    click(&mut h, "Buka kunci");
    assert!(h.state().shared.unlocked);
    assert!(has(&h, "Pengaturan kelas"));

    click(&mut h, "Mode penilaian");
    assert!(has(&h, "Ada perubahan yang belum disimpan."));
    click(&mut h, "Simpan pengaturan");
    assert!(has(&h, "✔ Pengaturan disimpan."));
    let saved = InstructorSettings::from_toml_str(
        &std::fs::read_to_string(&settings_path).unwrap(),
        "instructor.toml",
    )
    .unwrap();
    assert!(saved.assessment_mode);
    assert!(saved.verify_pin("2468") && !saved.verify_pin("1111"));

    // A student takes the quiz.
    h.state_mut().state.tab = Tab::Quiz;
    h.run();
    assert!(has_containing(&h, "Mode penilaian: benar/salah"));
    start_quiz(&mut h, &["Flag --live"], 3);
    assert!(session(&h).assessment);
    let n = session(&h).items.len();
    let mut whys = Vec::new();
    for i in 0..n {
        let plan = plan_answer(&h, i == 0);
        enter_answer(&mut h, &plan);
        click(&mut h, "Kirim jawaban");
        whys.extend(plan.whys.iter().cloned());
        if i + 1 == n {
            break;
        }
        // Straight on to the next question: no verdict, no explanation.
        assert_eq!(session(&h).current, i + 1);
        assert!(
            !has(&h, "✔ Benar!") && !has(&h, "✖ Belum tepat."),
            "{}",
            plan.id
        );
        for why in &whys {
            assert!(!has(&h, why), "{}: explained too early", plan.id);
        }
        assert!(!has(&h, "Soal berikutnya"));
    }
    // Submitted: the results, and now every answer with its explanations.
    assert_eq!(session(&h).phase, Phase::Finished);
    assert!(has(&h, &format!("1 dari {n} benar, skor 1.0/{n} (25 %)")));
    assert!(has(&h, "Jawaban dan penjelasan"));
    for why in &whys {
        assert!(has(&h, why), "{why:?} shown at the end");
    }
}

/// A settings file that does not load shows its error with file and line, keeps the tab
/// locked (no PIN field, no settings), and is left in place; once fixed, Reload unlocks.
#[test]
fn a_damaged_settings_file_refuses_to_unlock_until_fixed() {
    let dir = Scratch::new("gui-quiz", "damaged");
    let path = InstructorSettings::path_in(dir.as_path());
    std::fs::write(&path, "format = 1\nassessment_mode = maybe\n").unwrap();
    let mut h = harness(Tab::Instructor, dir.as_path());
    assert!(has_containing(&h, "File pengaturan instruktur rusak"));
    let where_ = format!("{}:2:", path.display());
    assert!(has_containing(&h, &where_), "the error names {where_}");
    assert!(!has(&h, "Buka kunci") && !has(&h, "Masukkan PIN"));
    assert!(!has(&h, "Simpan pengaturan"));
    assert!(!h.state().shared.unlocked);
    // Reloading the same broken file changes nothing, and the file is not renamed aside.
    click(&mut h, "Muat ulang");
    assert!(!h.state().shared.unlocked);
    assert!(path.exists());
    assert_eq!(std::fs::read_dir(dir.as_path()).unwrap().count(), 1);

    // The quiz still runs, on the defaults, and says why.
    h.state_mut().state.tab = Tab::Quiz;
    h.run();
    assert!(has_containing(
        &h,
        "Pengaturan instruktur tidak bisa dibaca"
    ));
    assert!(has(&h, "Mulai kuis"));

    // Fixed: unlocks (no PIN in the fixed file).
    std::fs::write(&path, "format = 1\nassessment_mode = true\n").unwrap();
    h.state_mut().state.tab = Tab::Instructor;
    h.run();
    click(&mut h, "Muat ulang");
    assert!(h.state().shared.unlocked);
    assert!(has(&h, "Simpan pengaturan"));
}

/// Issue 22 §4: a bad name is refused before the first question, nothing written; each answer
/// is in the profile as soon as it is checked; a quiz ended early stays incomplete; a damaged
/// profile met at the start is set aside with the notice shown.
#[test]
fn the_name_is_checked_first_and_each_answer_is_saved_at_once() {
    let dir = Scratch::new("gui-quiz", "save-each");
    let mut h = harness(Tab::Quiz, dir.as_path());
    type_into(&mut h, "Nama siswa", "Ana\u{202E}lanif");
    assert!(has_containing(
        &h,
        "karakter kontrol atau karakter tak terlihat (U+202E)"
    ));
    click(&mut h, "Mulai kuis");
    assert!(h.state().quiz.session.is_none(), "not started");
    assert!(!dir.path("students").exists(), "nothing written");

    // A damaged profile for the name about to be used.
    std::fs::create_dir_all(dir.path("students")).unwrap();
    std::fs::write(dir.path("students/Ana.json"), "{ not json").unwrap();
    type_into(&mut h, "Nama siswa", "  Ana ");
    start_quiz(&mut h, &["Flag --live"], 3);
    assert!(has_containing(&h, "is damaged"), "the notice is shown");
    assert!(dir.path("students/Ana.corrupt-1.json").exists());
    let profile = |dir: &Scratch| ProfileStore::new(dir.as_path()).load("Ana").unwrap().value;
    let p = profile(&dir);
    assert_eq!(
        (p.quizzes.len(), p.attempts.len()),
        (1, 0),
        "recorded at the start"
    );

    let plan = plan_answer(&h, true);
    enter_answer(&mut h, &plan);
    click(&mut h, "Periksa jawaban");
    let p = profile(&dir);
    assert_eq!(p.name, "Ana", "trimmed");
    assert_eq!(
        p.attempts.len(),
        1,
        "saved when checked, before the quiz ends"
    );
    assert_eq!(
        p.attempts[0].quiz.as_deref(),
        Some(p.quizzes[0].id.as_str())
    );
    click(&mut h, "Soal berikutnya");
    click(&mut h, "Akhiri kuis sekarang");
    assert_eq!(session(&h).phase, Phase::Finished);
    let p = profile(&dir);
    assert_eq!(p.attempts.len(), 1);
    assert_eq!(p.quizzes[0].completed, None, "ended early: incomplete");
}

/// Objectives the instructor hides are not offered, and a quiz asks only visible questions.
#[test]
fn hidden_objectives_are_not_offered() {
    let dir = Scratch::new("gui-quiz", "visible");
    let settings = InstructorSettings::from_toml_str(
        "[visible]\nquizzes = [\"flag-live\", \"verify-result\"]\n",
        "instructor.toml",
    )
    .unwrap();
    settings
        .save(&InstructorSettings::path_in(dir.as_path()))
        .unwrap();
    let mut h = harness(Tab::Quiz, dir.as_path());
    assert!(has(&h, "Flag --live"));
    assert!(has(&h, "Memeriksa hasil migrasi"));
    assert!(!has(&h, "Flag --postcopy"));
    assert!(!has(&h, "Prasyarat: shared storage"));
    assert!(has(&h, "Semua soal (8)"));
    start_quiz(&mut h, &[], 1);
    let s = session(&h);
    assert_eq!(s.items.len(), 8);
    for item in &s.items {
        let q = s.bank.get(&item.id).unwrap();
        assert!(
            matches!(q.objective.as_str(), "flag-live" | "verify-result"),
            "{}",
            q.id
        );
    }
}

/// The instructor sees every student's progress and exports it as CSV.
#[test]
fn students_overview_and_csv_export() {
    let dir = Scratch::new("gui-quiz", "students");
    let store = ProfileStore::new(dir.as_path());
    for (name, right) in [("Ana Putri", 2), ("Budi", 1)] {
        let mut p = Profile::new(name);
        for i in 0..2 {
            p.record_attempt(Attempt {
                at: 1_700_000_000,
                question: format!("q{i}"),
                objective: "flag-live".into(),
                score: if i < right { 1.0 } else { 0.0 },
                correct: i < right,
                quiz: None,
            });
        }
        store.save(&p).unwrap();
    }
    let mut h = harness(Tab::Instructor, dir.as_path());
    assert!(has(&h, "Kemajuan siswa"));
    assert!(has(&h, "Ana Putri") && has(&h, "Budi"));
    assert!(has(&h, "100 %") && has(&h, "50 %"));
    let out = dir.as_path().join("exports");
    type_into(&mut h, "Folder ekspor", &out.display().to_string());
    click(&mut h, "Ekspor CSV");
    let csv_path = out.join("migralab-progress.csv");
    assert!(has_containing(&h, "Tersimpan:"));
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(
        csv.starts_with("student,time_unix,question,objective,score,correct,quiz,quiz_complete\n")
    );
    assert_eq!(csv.lines().count(), 1 + 4);
    click(&mut h, "Ekspor JSON");
    let json = std::fs::read_to_string(out.join("migralab-progress.json")).unwrap();
    assert!(json.contains("\"Budi\""));
}

/// A damaged profile met by the Instruktur tab is set aside and said above the student list.
#[test]
fn the_instructor_tab_says_when_a_profile_was_set_aside() {
    let dir = Scratch::new("gui-quiz", "students-damaged");
    let store = ProfileStore::new(dir.as_path());
    store.save(&Profile::new("Ana Putri")).unwrap();
    std::fs::write(store.path_of("Budi"), "{ not json").unwrap();
    let h = harness(Tab::Instructor, dir.as_path());
    assert!(has(&h, "Ana Putri"));
    assert!(has_containing(&h, "Budi.json is not readable"));
    assert!(has_containing(&h, "Budi.corrupt-1.json"));
    assert!(dir.path("students/Budi.corrupt-1.json").exists());
}

/// In English, with only one question visible (by its id): the command is parsed, not compared
/// as text, and a wrong one is explained in English beside the model answer.
#[test]
fn english_quiz_of_one_visible_question() {
    let dir = Scratch::new("gui-quiz", "english");
    InstructorSettings::from_toml_str("[visible]\nquizzes = [\"live-command\"]\n", "i.toml")
        .unwrap()
        .save(&InstructorSettings::path_in(dir.as_path()))
        .unwrap();
    let mut h = harness(Tab::Quiz, dir.as_path());
    h.state_mut().state.lang = Lang::En;
    h.run();
    assert!(has(&h, "1 question will be asked."));
    click(&mut h, "Start the quiz");
    assert!(has(&h, "Question 1 of 1"));
    type_into(
        &mut h,
        "virsh migrate command",
        "virsh migrate --persistent db01 qemu+ssh://kvm-host-02/system",
    );
    click(&mut h, "Check the answer");
    assert!(has(&h, "✖ Not right."));
    assert!(has_containing(&h, "Missing --live"));
    assert!(has_containing(&h, "Model answer:"));
    click(&mut h, "See the results");
    assert!(has(&h, "0 of 1 right, score 0.0/1 (0 %)"));
    click(&mut h, "Retry the missed questions (1)");
    // Flag order, `root@` and a trailing slash do not matter.
    type_into(
        &mut h,
        "virsh migrate command",
        "virsh migrate db01 qemu+ssh://root@kvm-host-02/system/ --live",
    );
    click(&mut h, "Check the answer");
    assert!(has(&h, "✔ Right!"));
}

const MY_QUESTION: &str = r#"[[question]]
id = "my-live"
kind = "single"
objective = "flag-live"
prompt.id = "Apa fungsi --live?"
prompt.en = "What does --live do?"

[[question.option]]
correct = true
text.id = "VM tetap berjalan selama dipindahkan."
text.en = "The VM keeps running while it moves."
why.id = "Benar: pre-copy."
why.en = "Right: pre-copy."

[[question.option]]
text.id = "VM dimatikan dulu."
text.en = "The VM is shut down first."
why.id = "Itu migrasi offline."
why.en = "That is an offline migration."
"#;

/// An extra question bank folder is checked when saved, with errors as FILE:LINE; once valid,
/// students can take a quiz from it.
#[test]
fn an_extra_quiz_folder_is_checked_and_offered() {
    let dir = Scratch::new("gui-quiz", "folder");
    let bank = dir.as_path().join("my-quizzes");
    std::fs::create_dir_all(&bank).unwrap();
    let file = bank.join("mine.toml");
    std::fs::write(&file, MY_QUESTION.replace("kind = ", "kindd = ")).unwrap();
    let mut h = harness(Tab::Instructor, dir.as_path());
    type_into(
        &mut h,
        "Folder bank soal (satu per baris)",
        &bank.display().to_string(),
    );
    click(&mut h, "Simpan pengaturan");
    assert!(has(&h, "✔ Pengaturan disimpan."));
    let at = format!("✖ {}:3:1: unknown field `kindd`", file.display());
    assert!(has_containing(&h, &at), "the error names {at}");

    std::fs::write(&file, MY_QUESTION).unwrap();
    click(&mut h, "Periksa folder");
    assert!(has(
        &h,
        &format!("✔ {}: 1 soal, semuanya valid.", bank.display())
    ));

    h.state_mut().state.tab = Tab::Quiz;
    h.run();
    h.get_by_label("Bank soal").click();
    h.run();
    click(&mut h, &bank.display().to_string());
    assert!(has(&h, "Semua soal (1)"));
    click(&mut h, "Mulai kuis");
    // Options are shuffled: whichever letter it has.
    h.get_by_label_contains("VM tetap berjalan selama dipindahkan.")
        .click();
    h.run();
    click(&mut h, "Periksa jawaban");
    assert!(has(&h, "✔ Benar!"));
    assert!(has(&h, "Itu migrasi offline."));
}
