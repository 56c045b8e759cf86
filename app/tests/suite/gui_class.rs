//! The Instruktur tab's class view, driven as an instructor would (egui_kittest): the PC's own
//! students, the imported class and the class folder in one heat map; filter, "only stuck",
//! sort by an objective's column; a new file in the class folder shows up by itself; the
//! class report exported as CSV and as self-contained HTML.

use crate::common::Scratch;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use migralab_app::class::files::ProgressFile;
use migralab_app::class::store::ClassStore;
use migralab_app::gui::MigralabApp;
use migralab_app::gui::class_view::POLL;
use migralab_app::gui::state::{AppState, Tab};
use migralab_app::progress::{Attempt, Profile, ProfileStore};
use migralab_app::settings::InstructorSettings;
use migralab_sim_core::lang::Lang;
use std::collections::BTreeMap;
use std::path::Path;

type H = Harness<'static, MigralabApp>;

fn harness(dir: &Path) -> H {
    let mut app = MigralabApp::new(AppState {
        tab: Tab::Instructor,
        lang: Lang::En,
        ..Default::default()
    });
    app.shared.data_dir = Some(dir.to_path_buf());
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1400.0, 4000.0))
        .build_ui_state(|ui, app: &mut MigralabApp| app.ui_root(ui), app);
    h.run();
    h
}

fn has(h: &H, label: &str) -> bool {
    h.query_all_by_label(label).next().is_some()
}

fn count(h: &H, label: &str) -> usize {
    h.query_all_by_label(label).count()
}

fn student(name: &str, answers: &[(&str, f64)], observed: bool) -> Profile {
    let mut p = Profile::new(name);
    for (i, (objective, score)) in answers.iter().enumerate() {
        p.record_attempt(Attempt {
            at: 1_700_000_000 + i as u64,
            question: format!("q{i}"),
            objective: (*objective).into(),
            score: *score,
            correct: *score >= 1.0,
            quiz: None,
        });
    }
    if observed {
        p.record_observation("exp1", "only the RAM was copied", 1_700_000_100);
        p.observations[0].measured = BTreeMap::from([("downtime_ms_a".to_owned(), 120.0)]);
    }
    p
}

/// A scratch folder with a data directory whose settings name the class folder `share`.
fn class_with_folder(test: &str) -> (Scratch, std::path::PathBuf, std::path::PathBuf) {
    let dir = Scratch::new("gui-class", test);
    let (data, share) = (dir.path("data"), dir.path("share"));
    std::fs::create_dir_all(&share).unwrap();
    InstructorSettings {
        class_folder: Some(share.clone()),
        ..InstructorSettings::default()
    }
    .save(&data.join("instructor.toml"))
    .unwrap();
    (dir, data, share)
}

#[test]
fn the_class_view_merges_filters_sorts_follows_the_folder_and_exports() {
    let (dir, data, share) = class_with_folder("flow");
    // Ana on this PC (stuck on --live), Budi imported, Citra in the class folder.
    ProfileStore::new(&data)
        .save(&student(
            "Ana",
            &[("flag-live", 0.0), ("flag-live", 0.0), ("prereq-cpu", 1.0)],
            true,
        ))
        .unwrap();
    ClassStore::new(&data)
        .import(&[ProgressFile {
            path: dir.path("pc2.json"),
            students: vec![student(
                "Budi",
                &[("flag-live", 1.0), ("prereq-cpu", 0.5)],
                false,
            )],
        }])
        .unwrap();
    let citra = student("Citra", &[("flag-live", 0.5)], false);
    std::fs::write(
        share.join("Citra.00000000000000aa.json"),
        serde_json::to_string(&citra).unwrap(),
    )
    .unwrap();

    let mut h = harness(&data);
    assert!(has(&h, "Class"));
    for name in ["Ana", "Budi", "Citra"] {
        assert!(has(&h, name), "{name} in the class view");
    }
    // Ana's row says where she is stuck; her observation is marked written.
    assert!(has(&h, "The --live flag"), "Ana's stuck objective");
    assert!(has(&h, "✔ observation written"));

    // Ana is also in the PC's own list above the class: her rows in the class view (heat map
    // and experiments) are the ones beyond that one.
    let ana_outside = count(&h, "Ana") - 2;
    // Filter by name, then only the stuck.
    h.get_by_label("Find a name")
        .set_text_value_accesskit("bud");
    h.run();
    assert!(has(&h, "Budi") && !has(&h, "Citra"));
    assert_eq!(count(&h, "Ana"), ana_outside);
    h.get_by_label("Find a name").set_text_value_accesskit("");
    h.run();
    h.get_by_label("Only those who are stuck").click();
    h.run();
    assert_eq!(count(&h, "Ana"), ana_outside + 2);
    assert!(!has(&h, "Budi") && !has(&h, "Citra"));
    h.get_by_label("Only those who are stuck").click();
    h.run();

    // A student saves on another PC: the folder is looked at again within POLL.
    let dewi = student("Dewi", &[("prereq-cpu", 1.0)], false);
    std::fs::write(
        share.join("Dewi.00000000000000bb.json"),
        serde_json::to_string(&dewi).unwrap(),
    )
    .unwrap();
    std::thread::sleep(POLL + std::time::Duration::from_millis(200));
    h.run();
    assert!(has(&h, "Dewi"), "the class folder is followed live");

    // Sort by --live's column (objective 11), highest first: Budi, Citra, Ana, then Dewi who
    // never answered it. The CSV export has the rows in the order shown.
    let exports = dir.path("out");
    std::fs::create_dir_all(&exports).unwrap();
    h.get_by_label("Export folder")
        .set_text_value_accesskit(exports.to_str().unwrap());
    h.run();
    h.get_by_label("11").click();
    h.run();
    h.get_by_label("11").click();
    h.run();
    h.get_by_label("Export the class report (CSV)").click();
    h.run();
    let csv = std::fs::read_to_string(exports.join("class-report.csv")).unwrap();
    let names: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(names, ["Budi", "Citra", "Ana", "Dewi"], "{csv}");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let live = header.iter().position(|c| *c == "flag-live").unwrap();
    let ana: Vec<&str> = csv.lines().nth(3).unwrap().split(',').collect();
    assert_eq!(ana[live], "0");
    assert!(csv.contains("true,downtime_ms_a=120"), "{csv}");

    h.get_by_label("Export the class report (HTML)").click();
    h.run();
    let html = std::fs::read_to_string(exports.join("class-report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("Class mastery per learning objective"));
    for name in ["Ana", "Budi", "Citra", "Dewi"] {
        assert!(
            html.contains(&format!("<td class=\"n\">{name}</td>")),
            "{name}"
        );
    }
    // Self-contained: nothing fetched from elsewhere.
    assert!(
        !html.contains("src=") && !html.contains("href="),
        "external references"
    );
}

#[test]
fn a_hostile_name_in_the_class_folder_is_listed_not_shown_as_a_student() {
    let (_dir, data, share) = class_with_folder("hostile");
    std::fs::write(
        share.join("x.json"),
        r#"{"format": 3, "name": "Ana\u202Egnp.exe"}"#,
    )
    .unwrap();
    std::fs::write(share.join("y.json"), "{ not json").unwrap();
    let h = harness(&data);
    assert!(!has(&h, "Ana\u{202E}gnp.exe"));
    assert!(
        h.query_all_by_label_contains("x.json: student #1")
            .next()
            .is_some(),
        "the refused file is listed with why"
    );
    assert!(h.query_all_by_label_contains("y.json:1:").next().is_some());
}
