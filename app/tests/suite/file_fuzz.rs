//! Issue 22 "Done means": the files migralab keeps for people — student profiles and the
//! instructor's `instructor.toml` — under random and mutated bytes. Loading never panics: a
//! profile is read or set aside with its bytes kept and a notice; settings are read or refused
//! with an error that says where; and what migralab writes reads back equal. Public APIs only.

use crate::common::Scratch;
use migralab_app::progress::{Attempt, ObjectiveTotals, Observation, Profile, ProfileStore};
use migralab_app::settings::{InstructorSettings, LabMode, RealModeSettings, Visible};
use proptest::prelude::*;
use serde_json::Value;
use std::path::PathBuf;

// ---- student profiles --------------------------------------------------------------------------

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9-]{1,12}",
        any::<String>(),
        Just("\"quoted\", =cell\n\u{202e}".to_string())
    ]
}

fn profile() -> impl Strategy<Value = Profile> {
    let attempt = (
        any::<u64>(),
        text(),
        text(),
        0.0..=1.0f64,
        any::<bool>(),
        prop::option::of(text()),
    )
        .prop_map(|(at, question, objective, score, correct, quiz)| Attempt {
            at,
            question,
            objective,
            score,
            correct,
            quiz,
        });
    let observation = (
        any::<u64>(),
        text(),
        text(),
        prop::collection::btree_map(text(), -1e9..1e9f64, 0..3),
    )
        .prop_map(|(at, experiment, text, measured)| Observation {
            at,
            experiment,
            text,
            measured,
        });
    let totals = (any::<u32>(), any::<u32>(), 0.0..1e6f64).prop_map(|(asked, correct, points)| {
        ObjectiveTotals {
            asked,
            correct,
            points,
        }
    });
    (
        "[A-Za-zÀ-ž][A-Za-zÀ-ž '.-]{0,30}[a-z]",
        prop::collection::vec(attempt, 0..6),
        prop::collection::vec(observation, 0..3),
        prop::collection::btree_map(text(), totals, 0..4),
    )
        .prop_map(|(name, attempts, observations, objectives)| {
            let mut p = Profile::new(&name);
            p.attempts = attempts;
            p.observations = observations;
            p.objectives = objectives;
            p
        })
}

/// A saved profile's JSON with one value replaced, or cut short.
fn mutated_profile() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just(Value::Null),
        Just(Value::from(-1)),
        Just(Value::from(2)),
        Just(Value::from(1e300)),
        Just(Value::from(u64::MAX)),
        Just(Value::from("x")),
        Just(serde_json::json!([{}])),
        Just(serde_json::json!({"format": 1})),
    ];
    (
        profile(),
        prop::sample::select(vec![
            "format",
            "name",
            "attempts",
            "observations",
            "objectives",
            "extra",
        ]),
        value,
        prop::option::of(any::<prop::sample::Index>()),
    )
        .prop_map(|(p, key, v, cut)| {
            let mut doc = serde_json::to_value(&p).unwrap();
            doc[key] = v;
            let mut bytes = serde_json::to_vec_pretty(&doc).unwrap();
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            bytes
        })
}

/// Every file's bytes in `dir`.
fn contents(dir: &std::path::Path) -> Vec<Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect()
}

/// Load "Ana" from a profile file holding `bytes`: a profile, or a fresh one with a notice and
/// the bytes kept aside; never an error, never a panic, never a byte lost.
fn load_profile_file(bytes: &[u8]) -> Result<(), TestCaseError> {
    let dir = Scratch::new(
        "filefuzz",
        &format!("profile-{:?}", std::thread::current().id()),
    );
    let store = ProfileStore::new(dir.as_path());
    let path = store.path_of("Ana");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let loaded = store
        .load("Ana")
        .map_err(|e| TestCaseError::fail(format!("{e:#}")))?;
    match &loaded.notice {
        None => prop_assert_eq!(std::fs::read(&path).unwrap(), bytes, "read, not changed"),
        Some(n) => {
            prop_assert!(n.contains("kept as"), "{}", n);
            prop_assert_eq!(loaded.value.name.as_str(), "Ana");
            prop_assert!(loaded.value.attempts.is_empty());
        }
    }
    prop_assert!(
        contents(path.parent().unwrap()).iter().any(|c| c == bytes),
        "the file's bytes are kept somewhere in the folder"
    );
    Ok(())
}

proptest! {
    // Each case writes and reads a few files in a scratch folder (a save syncs to disk).
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn a_profile_file_of_any_bytes_is_read_or_set_aside(bytes in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..400),
        "[{}\\[\\]\":,0-9a-z_ ]{0,200}".prop_map(String::into_bytes),
    ]) {
        load_profile_file(&bytes)?;
    }

    #[test]
    fn a_mutated_profile_is_read_or_set_aside(bytes in mutated_profile()) {
        load_profile_file(&bytes)?;
    }

    #[test]
    fn a_saved_profile_reads_back_equal(p in profile()) {
        let dir = Scratch::new("filefuzz", &format!("roundtrip-{:?}", std::thread::current().id()));
        let store = ProfileStore::new(dir.as_path());
        store.save(&p).map_err(|e| TestCaseError::fail(format!("{e:#}")))?;
        let loaded = store
            .load(&p.name)
            .map_err(|e| TestCaseError::fail(format!("{e:#}")))?;
        prop_assert!(loaded.notice.is_none(), "{:?}", loaded.notice);
        prop_assert_eq!(loaded.value, p);
    }
}

// ---- instructor settings -----------------------------------------------------------------------

fn settings() -> impl Strategy<Value = InstructorSettings> {
    let names = || prop::option::of(prop::collection::vec(text(), 0..3));
    let host = prop::sample::select(vec![
        "test:///default",
        "qemu:///system",
        "qemu+ssh://kvm-host-01/system",
        "qemu+ssh://root@10.0.0.2/system?keyfile=/k",
    ]);
    (
        prop::option::of(prop::sample::select(vec![
            LabMode::Simulated,
            LabMode::Real,
        ])),
        any::<bool>(),
        prop::collection::vec(text().prop_map(PathBuf::from), 0..3),
        prop::collection::vec(text().prop_map(PathBuf::from), 0..3),
        (names(), names(), names()),
        (
            prop::collection::vec(host.prop_map(str::to_string), 0..3),
            prop::collection::vec(text(), 0..3),
            prop::option::of(text()),
            prop::option::of(text()),
            prop::option::of(text()),
        ),
    )
        .prop_map(
            |(mode_locked, assessment_mode, scenario_dirs, quiz_dirs, visible, real)| {
                InstructorSettings {
                    mode_locked,
                    assessment_mode,
                    scenario_dirs,
                    quiz_dirs,
                    visible: Visible {
                        lessons: visible.0,
                        experiments: visible.1,
                        quizzes: visible.2,
                    },
                    real_lab: RealModeSettings {
                        allowed_hosts: real.0,
                        allowed_domains: real.1,
                        ping_target: real.2,
                        prediction_scenario: real.3,
                        ping_netns: real.4,
                    },
                    ..InstructorSettings::default()
                }
            },
        )
}

/// One line of a settings text replaced by a random one, or the text cut short.
fn mutated_settings() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("format = 99".to_string()),
        Just("format = 0".to_string()),
        Just("format = -1".to_string()),
        Just("pin_hash = \"$argon2id$v=19$bogus\"".to_string()),
        Just("[real_lab]".to_string()),
        Just("allowed_hosts = [\"ftp://x\", 3]".to_string()),
        Just("mode_locked = \"root\"".to_string()),
        Just("[visible]\nlessons = [1]".to_string()),
        Just("unknown = 1".to_string()),
        "[ -~]{0,40}",
        any::<String>(),
    ];
    (
        settings(),
        any::<prop::sample::Index>(),
        line,
        any::<bool>(),
    )
        .prop_map(|(s, at, line, cut)| {
            let text = s.to_toml_string().unwrap();
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            let i = at.index(lines.len().max(1));
            if cut {
                lines.truncate(i);
            } else if lines.is_empty() {
                lines.push(line);
            } else {
                lines[i] = line;
            }
            lines.join("\n")
        })
}

/// Settings, or an error naming the file and what is wrong.
fn parse_settings(text: &str) -> Result<(), TestCaseError> {
    match InstructorSettings::from_toml_str(text, "instructor.toml") {
        Ok(s) => prop_assert!(s.format >= 1),
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(
                msg.starts_with("instructor.toml") && msg.len() > 20,
                "{}",
                msg
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_settings_text_of_anything_is_read_or_refused(text in prop_oneof![
        any::<String>(),
        "([a-z_\\[\\]]{1,16}( = [\"0-9a-z:/\\[\\], ]{0,20})?\n){0,12}",
    ]) {
        parse_settings(&text)?;
    }

    #[test]
    fn mutated_settings_are_read_or_refused(text in mutated_settings()) {
        parse_settings(&text)?;
    }

    #[test]
    fn written_settings_read_back_equal(s in settings()) {
        let text = s.to_toml_string().unwrap();
        let back = InstructorSettings::from_toml_str(&text, "instructor.toml")
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, s);
    }
}
