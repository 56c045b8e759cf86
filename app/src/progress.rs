//! Student progress: one JSON profile per student in the data directory (`migralab progress
//! export` and the instructor tab read them).
//!
//! Invariants:
//! - **Writes are atomic.** A profile is written to a hidden temporary file in the same folder,
//!   flushed to disk, then renamed over the old one: a crash or a kill leaves either the old or
//!   the new profile, never half of one. Stray temporaries are ignored when loading and listing.
//! - **A bad file never crashes the app or loses data.** A profile that does not parse, or that
//!   was written by a newer migralab, is renamed aside (`NAME.corrupt-N.json`,
//!   `NAME.newer-N.json`), the caller gets a message saying so, and a fresh profile is used.
//!   Other students' files are never touched.
//! - **Time is passed in** (seconds since the Unix epoch), so everything here is testable.

use crate::export::csv_json::csv_field;
use crate::storage::{Aside, Loaded, data_dir, set_aside, write_creating_dir};
use anyhow::{Context as _, bail};
use migralab_course::quiz::Graded;
use migralab_real::fsutil::{Limit, read_bounded};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// The profile format this build writes. A file with a larger `format` is kept aside, not read.
pub const PROFILE_FORMAT: u32 = 1;

/// The folder of the data directory that holds the student profiles.
const STUDENTS_DIR: &str = "students";

/// One answered quiz question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attempt {
    /// When, in seconds since the Unix epoch.
    pub at: u64,
    /// The question's id.
    pub question: String,
    /// Its learning objective's id.
    pub objective: String,
    /// 0.0..=1.0.
    pub score: f64,
    /// Full marks?
    pub correct: bool,
}

/// What a student noted during an experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    /// When, in seconds since the Unix epoch.
    pub at: u64,
    /// The experiment (scenario) id.
    pub experiment: String,
    /// The student's text.
    pub text: String,
}

/// Running totals for one objective.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveTotals {
    /// Questions answered.
    pub asked: u32,
    /// Answered with full marks.
    pub correct: u32,
    /// Sum of the scores.
    pub points: f64,
}

/// Everything migralab remembers about one student.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// File format version ([`PROFILE_FORMAT`]).
    pub format: u32,
    /// The student's name as typed.
    pub name: String,
    /// Every quiz answer, oldest first.
    #[serde(default)]
    pub attempts: Vec<Attempt>,
    /// Notes from the experiments, oldest first.
    #[serde(default)]
    pub observations: Vec<Observation>,
    /// Totals per objective id.
    #[serde(default)]
    pub objectives: BTreeMap<String, ObjectiveTotals>,
}

impl Profile {
    /// An empty profile.
    pub fn new(name: &str) -> Profile {
        Profile {
            format: PROFILE_FORMAT,
            name: name.to_owned(),
            attempts: Vec::new(),
            observations: Vec::new(),
            objectives: BTreeMap::new(),
        }
    }

    /// Record one answer and update the objective's totals.
    pub fn record_attempt(&mut self, attempt: Attempt) {
        let t = self
            .objectives
            .entry(attempt.objective.clone())
            .or_default();
        t.asked += 1;
        t.points += attempt.score;
        if attempt.correct {
            t.correct += 1;
        }
        self.attempts.push(attempt);
    }

    /// Record graded quiz answers, all at time `at`.
    pub fn record_graded(&mut self, results: &[Graded], at: u64) {
        for g in results {
            self.record_attempt(Attempt {
                at,
                question: g.id.clone(),
                objective: g.objective.as_str().to_owned(),
                score: g.score,
                correct: g.correct,
            });
        }
    }

    /// Record a note from an experiment.
    pub fn record_observation(&mut self, experiment: &str, text: &str, at: u64) {
        self.observations.push(Observation {
            at,
            experiment: experiment.to_owned(),
            text: text.to_owned(),
        });
    }
}

/// The file stem for a student's name: letters, digits, `-` and `_` kept, every other byte
/// written as `~XX`, so different names never share a file and no stem contains a dot.
fn file_stem(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            s.push(char::from(b));
        } else {
            let _ = write!(s, "~{b:02X}");
        }
    }
    s
}

/// The student profiles in `DATA_DIR/students/`.
#[derive(Debug, Clone)]
pub struct ProfileStore {
    dir: PathBuf,
}

impl ProfileStore {
    /// Profiles under `data_dir/students`.
    pub fn new(data_dir: &Path) -> ProfileStore {
        ProfileStore {
            dir: data_dir.join(STUDENTS_DIR),
        }
    }

    /// Profiles under [`data_dir()`].
    pub fn open_default() -> anyhow::Result<ProfileStore> {
        Ok(ProfileStore::new(&data_dir()?))
    }

    /// The folder of the profiles.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of a student's profile.
    pub fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{}.json", file_stem(name)))
    }

    /// Load a student's profile: fresh if there is none; a bad file is set aside (see the
    /// module's invariants) and reported in `notice`. Errors only when the file cannot be read
    /// or set aside at all (permissions, I/O).
    pub fn load(&self, name: &str) -> anyhow::Result<Loaded<Profile>> {
        let name = valid_name(name)?;
        let path = self.path_of(name);
        let bytes = match read_bounded(&path, Limit::PROFILE) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => {
                return Ok(Loaded {
                    value: Profile::new(name),
                    notice: None,
                });
            }
            Err(e) => return Err(e.into()),
        };
        match parse_profile(&bytes) {
            Ok(profile) => Ok(Loaded {
                value: profile,
                notice: None,
            }),
            Err((why, detail)) => {
                let aside = set_aside(&path, why)?;
                let what = match why {
                    Aside::Corrupt => format!("is damaged ({detail})"),
                    Aside::Newer => format!("was written by a newer migralab ({detail})"),
                };
                Ok(Loaded {
                    value: Profile::new(name),
                    notice: Some(format!(
                        "the progress file {} {what}; it was kept as {} and a new profile was \
                         started for {name}",
                        path.display(),
                        aside.display()
                    )),
                })
            }
        }
    }

    /// Save a profile atomically.
    pub fn save(&self, profile: &Profile) -> anyhow::Result<()> {
        let name = valid_name(&profile.name)?;
        let mut text =
            serde_json::to_string_pretty(profile).context("cannot serialise the profile")?;
        text.push('\n');
        write_creating_dir(&self.path_of(name), text.as_bytes())
    }

    /// Load, change and save a profile; returns the notice of [`ProfileStore::load`].
    pub fn update(
        &self,
        name: &str,
        change: impl FnOnce(&mut Profile),
    ) -> anyhow::Result<Option<String>> {
        let Loaded { mut value, notice } = self.load(name)?;
        change(&mut value);
        self.save(&value)?;
        Ok(notice)
    }

    /// The files of the saved profiles, sorted (none when the folder is missing). Temporaries
    /// and kept-aside files are skipped.
    pub fn profile_paths(&self) -> anyhow::Result<Vec<PathBuf>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("cannot list {}", self.dir.display())),
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|e| e == "json")
                    && p.file_stem()
                        .and_then(|s| s.to_str())
                        .is_some_and(|s| !s.is_empty() && !s.contains('.'))
            })
            .collect();
        paths.sort();
        Ok(paths)
    }

    /// Every saved profile, sorted by name. Bad files are set aside and reported in the notices,
    /// not returned. Temporaries and kept-aside files are skipped.
    pub fn load_all(&self) -> anyhow::Result<(Vec<Profile>, Vec<String>)> {
        let mut profiles = Vec::new();
        let mut notices = Vec::new();
        for path in self.profile_paths()? {
            let bytes = read_bounded(&path, Limit::PROFILE)?;
            match parse_profile(&bytes) {
                Ok(p) => profiles.push(p),
                Err((why, detail)) => {
                    let aside = set_aside(&path, why)?;
                    notices.push(format!(
                        "the progress file {} is not readable ({detail}); it was kept as {}",
                        path.display(),
                        aside.display()
                    ));
                }
            }
        }
        profiles.sort_by(|a, b| a.name.cmp(&b.name));
        Ok((profiles, notices))
    }
}

/// Check a student name (not empty, at most 80 characters, no control characters); returns it
/// trimmed.
pub fn valid_name(name: &str) -> anyhow::Result<&str> {
    let name = name.trim();
    if name.is_empty() {
        bail!("a student name cannot be empty");
    }
    if name.chars().count() > 80 {
        bail!("a student name can have at most 80 characters");
    }
    if name.chars().any(char::is_control) {
        bail!("a student name cannot contain control characters");
    }
    Ok(name)
}

/// Parse a profile file, or say why it must be set aside.
fn parse_profile(bytes: &[u8]) -> Result<Profile, (Aside, String)> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| (Aside::Corrupt, e.to_string()))?;
    let format = value.get("format").and_then(serde_json::Value::as_u64);
    match format {
        Some(f) if f > u64::from(PROFILE_FORMAT) => {
            return Err((
                Aside::Newer,
                format!("format {f}, this migralab reads up to {PROFILE_FORMAT}"),
            ));
        }
        Some(_) => {}
        None => return Err((Aside::Corrupt, "no `format` number".into())),
    }
    serde_json::from_value(value).map_err(|e| (Aside::Corrupt, e.to_string()))
}

/// The JSON an instructor collects: `{"format": 1, "students": [profile, ...]}`.
pub fn export_json(profiles: &[Profile]) -> anyhow::Result<String> {
    #[derive(Serialize)]
    struct Export<'a> {
        format: u32,
        students: &'a [Profile],
    }
    let mut s = serde_json::to_string_pretty(&Export {
        format: PROFILE_FORMAT,
        students: profiles,
    })
    .context("cannot serialise the export")?;
    s.push('\n');
    Ok(s)
}

/// CSV with one row per quiz answer:
/// `student,time_unix,question,objective,score,correct`.
pub fn export_csv(profiles: &[Profile]) -> String {
    let mut s = String::from("student,time_unix,question,objective,score,correct\n");
    for p in profiles {
        for a in &p.attempts {
            let _ = writeln!(
                s,
                "{},{},{},{},{},{}",
                csv_field(&p.name),
                a.at,
                csv_field(&a.question),
                csv_field(&a.objective),
                a.score,
                a.correct
            );
        }
    }
    s
}

/// Record graded quiz answers into a student's profile (the `migralab quiz --student` hook).
/// A notice about a bad file that was set aside is printed to standard error.
pub fn record_quiz(student: &str, results: &[Graded], at: u64) -> anyhow::Result<()> {
    let store = ProfileStore::open_default()?;
    let notice = store
        .update(student, |p| p.record_graded(results, at))
        .with_context(|| format!("cannot save the progress of {student}"))?;
    if let Some(n) = notice {
        eprintln!("warning: {n}");
    }
    Ok(())
}

/// Seconds since the Unix epoch, for the CLI (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn file_stems_are_distinct_and_dotless() {
        assert_eq!(file_stem("Ana"), "Ana");
        assert_eq!(file_stem("Ana B"), "Ana~20B");
        assert_ne!(file_stem("Ana B"), file_stem("Ana_B"));
        assert!(!file_stem("../x.y").contains(['.', '/']));
    }

    #[test]
    fn totals_follow_the_attempts() {
        let mut p = Profile::new("Ana");
        for (score, correct) in [(1.0, true), (0.5, false)] {
            p.record_attempt(Attempt {
                at: 1,
                question: "q".into(),
                objective: "flag-live".into(),
                score,
                correct,
            });
        }
        let t = &p.objectives["flag-live"];
        assert_eq!((t.asked, t.correct), (2, 1));
        assert!((t.points - 1.5).abs() < 1e-9);
    }

    #[test]
    fn a_name_a_spreadsheet_would_run_is_exported_as_text() {
        let mut p = Profile::new("=cmd|' /C calc'!A0");
        p.record_attempt(Attempt {
            at: 7,
            question: "q1".into(),
            objective: "o".into(),
            score: 1.0,
            correct: true,
        });
        let csv = export_csv(&[p]);
        assert_eq!(
            csv.lines().nth(1),
            Some("\"'=cmd|' /C calc'!A0\",7,q1,o,1,true")
        );
    }

    #[test]
    fn csv_quotes_awkward_names() {
        let mut p = Profile::new("Lee, \"Sam\"");
        p.record_attempt(Attempt {
            at: 7,
            question: "q1".into(),
            objective: "o".into(),
            score: 1.0,
            correct: true,
        });
        let csv = export_csv(&[p]);
        assert_eq!(
            csv.lines().nth(1),
            Some("\"Lee, \"\"Sam\"\"\",7,q1,o,1,true")
        );
    }

    #[test]
    fn newer_and_missing_format_are_recognised() {
        assert!(matches!(
            parse_profile(br#"{"format": 99, "name": "x"}"#),
            Err((Aside::Newer, _))
        ));
        assert!(matches!(
            parse_profile(br#"{"name": "x"}"#),
            Err((Aside::Corrupt, _))
        ));
        assert!(matches!(
            parse_profile(b"{\"form"),
            Err((Aside::Corrupt, _))
        ));
    }
}
