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
//! - **One writer at a time.** [`ProfileStore::update`] holds an exclusive lock on
//!   `STEM.lock` beside the profile across its read-modify-write, so several migralab processes
//!   (two terminals, the app and a terminal) answering for one student never lose an answer.
//!   The lock is the OS's (released when the process ends, however it ends); a holder that never
//!   lets go makes the others fail after [`LOCK_WAIT`], not hang.
//! - **Each answer is saved when it is given.** A quiz is a [`QuizRecord`] started before its
//!   first question; every answer is an [`Attempt`] naming it, saved at once; the record is
//!   marked complete when the first round's last question is answered. A quiz cut short (end of
//!   input, Ctrl-C, a killed process, "end now") keeps the answers given and stays incomplete.
//! - **Time is passed in** (seconds since the Unix epoch), so everything here is testable.

use crate::export::csv_json::csv_field;
use crate::storage::{Aside, Loaded, data_dir, set_aside, write_creating_dir};
use anyhow::Context as _;
use migralab_course::quiz::Graded;
use migralab_real::fsutil::{FileLock, Limit, lock_exclusive, read_bounded};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// The profile format this build writes. A file with a larger `format` is kept aside, not read.
/// Format 2 added [`Profile::quizzes`] and [`Attempt::quiz`]; a format 1 file loads as it is
/// (its answers belong to no recorded quiz) and is written back as the current format. Format 3
/// added [`Observation::measured`] (an older migralab would refuse the new key as damage; the
/// format makes it say "newer" instead).
pub const PROFILE_FORMAT: u32 = 3;

/// How long [`ProfileStore::update`] waits for another process's lock on the same profile
/// (an update holds it for milliseconds).
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

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
    /// The [`QuizRecord::id`] of the quiz it was given in (none in format 1 files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiz: Option<String>,
}

/// One quiz a student took (or is taking): saved before its first question, so that the
/// answers saved one by one belong to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizRecord {
    /// Unique in the profile: `STARTED-RANDOM`.
    pub id: String,
    /// When it started, in seconds since the Unix epoch.
    pub started: u64,
    /// Where it was taken: `terminal` (`migralab quiz`) or `app` (the Kuis tab).
    pub taken_in: String,
    /// The seed of the question order.
    pub seed: u64,
    /// How many questions its first round has.
    pub questions: usize,
    /// When the first round's last question was answered; absent while the quiz is being
    /// taken, and for good when it was cut short (input ended, Ctrl-C, the process killed, the
    /// student ended it early). Retry rounds of missed questions add answers either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<u64>,
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
    /// What the student's compared runs measured when the observation was written, by the
    /// experiment's placeholder names (`downtime_ms_a`, `total_s_b`, ...; format 3).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub measured: BTreeMap<String, f64>,
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
    /// Every quiz started, oldest first (format 2).
    #[serde(default)]
    pub quizzes: Vec<QuizRecord>,
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
            quizzes: Vec::new(),
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

    /// Record graded quiz answers, all at time `at`, in quiz `quiz` (if any).
    pub fn record_graded(&mut self, results: &[Graded], at: u64, quiz: Option<&str>) {
        for g in results {
            self.record_attempt(Attempt {
                at,
                question: g.id.clone(),
                objective: g.objective.as_str().to_owned(),
                score: g.score,
                correct: g.correct,
                quiz: quiz.map(str::to_owned),
            });
        }
    }

    /// Start recording a quiz; returns its id (unique in this profile).
    pub fn start_quiz(&mut self, taken_in: &str, seed: u64, questions: usize, at: u64) -> String {
        let mut id = format!("{at}-{:08x}", random_u32());
        while self.quizzes.iter().any(|q| q.id == id) {
            id = format!("{at}-{:08x}", random_u32());
        }
        self.quizzes.push(QuizRecord {
            id: id.clone(),
            started: at,
            taken_in: taken_in.to_owned(),
            seed,
            questions,
            completed: None,
        });
        id
    }

    /// Mark quiz `id` complete at `at` (once; unknown ids are ignored).
    pub fn complete_quiz(&mut self, id: &str, at: u64) {
        if let Some(q) = self.quizzes.iter_mut().find(|q| q.id == id) {
            q.completed.get_or_insert(at);
        }
    }

    /// The quiz record `id`.
    pub fn quiz(&self, id: &str) -> Option<&QuizRecord> {
        self.quizzes.iter().find(|q| q.id == id)
    }

    /// Record a note from an experiment.
    pub fn record_observation(&mut self, experiment: &str, text: &str, at: u64) {
        self.observations.push(Observation {
            at,
            experiment: experiment.to_owned(),
            text: text.to_owned(),
            measured: BTreeMap::new(),
        });
    }
}

/// A random number from the standard library's per-process hash keys (no extra crate): quiz
/// ids only need to differ between processes that start a quiz in the same second.
pub(crate) fn random_u32() -> u32 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 32) as u32
}

/// The file stem for a student's name: letters, digits, `-` and `_` kept, every other byte
/// written as `~XX`, so different names never share a file and no stem contains a dot.
pub(crate) fn file_stem(name: &str) -> String {
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
    /// Where each saved profile is also written for the instructor (the class folder).
    class_folder: Option<crate::class::folder::ClassFolder>,
}

impl ProfileStore {
    /// Profiles under `data_dir/students`.
    pub fn new(data_dir: &Path) -> ProfileStore {
        ProfileStore {
            dir: data_dir.join(STUDENTS_DIR),
            class_folder: None,
        }
    }

    /// Profiles under `data_dir/students`, each saved one also written to the class folder of
    /// `settings` (if set) for the instructor.
    pub fn for_settings(
        data_dir: &Path,
        settings: &crate::settings::InstructorSettings,
    ) -> ProfileStore {
        ProfileStore {
            class_folder: settings
                .class_folder
                .as_deref()
                .map(|f| crate::class::folder::ClassFolder::new(f, data_dir)),
            ..ProfileStore::new(data_dir)
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

    /// The lock file beside a student's profile (`STEM.lock`; not a `.json`, so never listed).
    pub fn lock_path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{}.lock", file_stem(name)))
    }

    /// Hold the student's lock (creating the folder first).
    fn lock(&self, name: &str) -> anyhow::Result<FileLock> {
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("cannot create {}", self.dir.display()))?;
        Ok(lock_exclusive(&self.lock_path_of(name), LOCK_WAIT)?)
    }

    /// Load a student's profile: fresh if there is none; a bad file is set aside (see the
    /// module's invariants) and reported in `notice`. Errors only when the file cannot be read
    /// or set aside at all (permissions, I/O).
    pub fn load(&self, name: &str) -> anyhow::Result<Loaded<Profile>> {
        let name = valid_name(name)?;
        // Reading needs no lock (writes are atomic), so a read-only data directory can still be
        // exported; a damaged file is set aside under the lock, so that a concurrent update
        // cannot be setting it aside too.
        match read_bounded(&self.path_of(name), Limit::PROFILE) {
            Err(e) if e.is_not_found() => {
                return Ok(Loaded {
                    value: Profile::new(name),
                    notice: None,
                });
            }
            Err(e) => return Err(e.into()),
            Ok(bytes) => {
                if let Ok(profile) = parse_profile(&bytes) {
                    return Ok(Loaded {
                        value: profile,
                        notice: None,
                    });
                }
            }
        }
        let _lock = self.lock(name)?;
        self.load_locked(name)
    }

    /// [`ProfileStore::load`], the caller holding the lock.
    fn load_locked(&self, name: &str) -> anyhow::Result<Loaded<Profile>> {
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

    /// Save a profile atomically, as the current format ([`PROFILE_FORMAT`]: what is written
    /// is that format's, whatever the file it was read from had).
    pub fn save(&self, profile: &Profile) -> anyhow::Result<()> {
        let name = valid_name(&profile.name)?;
        let current = Profile {
            format: PROFILE_FORMAT,
            ..profile.clone()
        };
        let mut text =
            serde_json::to_string_pretty(&current).context("cannot serialise the profile")?;
        text.push('\n');
        write_creating_dir(&self.path_of(name), text.as_bytes())
    }

    /// Load, change and save a profile, holding the student's lock throughout (see the
    /// module's invariants); returns the notice of [`ProfileStore::load`].
    pub fn update(
        &self,
        name: &str,
        change: impl FnOnce(&mut Profile),
    ) -> anyhow::Result<Option<String>> {
        let name = valid_name(name)?;
        let _lock = self.lock(name)?;
        let Loaded { mut value, notice } = self.load_locked(name)?;
        change(&mut value);
        self.save(&value)?;
        // Still under the student's lock, so two processes of one student on this PC write the
        // class folder's file in the order they saved. A share that is down costs the class
        // view this update, not the student's answer: said, not fatal.
        let shared = self.class_folder.as_ref().and_then(|f| {
            f.publish(&value)
                .err()
                .map(|e| format!("the class folder was not updated: {e:#}"))
        });
        Ok(match (notice, shared) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        })
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
                    // Set aside under the lock of the name the file is for, and only if it is
                    // still bad then (an update may have replaced it meanwhile).
                    let stem = path
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .unwrap_or_default();
                    let lock = lock_exclusive(&self.dir.join(format!("{stem}.lock")), LOCK_WAIT)?;
                    let again = read_bounded(&path, Limit::PROFILE).ok();
                    match again.as_deref().map(parse_profile) {
                        // Gone: another process set it aside meanwhile, and said so.
                        None => continue,
                        Some(Ok(p)) => {
                            profiles.push(p);
                            continue;
                        }
                        Some(Err(_)) => {}
                    }
                    let aside = set_aside(&path, why)?;
                    drop(lock);
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

/// A student name has at most this many characters.
pub const MAX_NAME_CHARS: usize = 80;

/// The file stem of a name (see [`file_stem`]) has at most this many bytes: with the
/// temporary's, the kept-aside file's and the lock's additions the longest file name stays well
/// under the 255 bytes file systems allow. Letters beyond A–Z take 6 to 12 bytes each.
const MAX_STEM_BYTES: usize = 200;

/// Why a student name is refused (see [`valid_name`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// Empty, or only spaces.
    #[error("a student name cannot be empty")]
    Empty,
    /// Longer than [`MAX_NAME_CHARS`], or too long a file name.
    #[error(
        "a student name can have at most {MAX_NAME_CHARS} characters (fewer with letters \
         beyond A-Z, which take more room in the file name)"
    )]
    TooLong,
    /// A control character (tab, new line, escape, ...), or an invisible one that changes how
    /// the text is shown (bidi overrides and isolates, zero-width space, line separators).
    #[error("a student name cannot contain control or invisible characters (U+{0:04X})")]
    Control(u32),
    /// `/` or `\`.
    #[error("a student name cannot contain `/` or `\\`")]
    Separator,
}

impl NameError {
    /// The message in `lang`.
    pub fn text(&self, lang: migralab_sim_core::lang::Lang) -> String {
        match self {
            NameError::Empty => crate::tr!(lang, "name-empty"),
            NameError::TooLong => crate::tr!(lang, "name-too-long", max = MAX_NAME_CHARS),
            NameError::Control(c) => {
                crate::tr!(lang, "name-control", code = format!("U+{c:04X}"))
            }
            NameError::Separator => crate::tr!(lang, "name-separator"),
        }
    }
}

/// Characters that are not control characters (`char::is_control`) but change how text around
/// them is shown or hide in it: bidi embeddings, overrides and isolates (U+202A–202E,
/// U+2066–2069), the direction marks (U+200E, U+200F, U+061C), zero-width space and word joiner,
/// the byte-order mark, and the line and paragraph separators.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{200B}'
            | '\u{2060}'
            | '\u{FEFF}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// The one rule for a student name, used by `migralab quiz --student`, `migralab progress
/// export --student`, the app's Kuis and Eksperimen tabs and every profile read or written:
/// leading and trailing spaces are **trimmed** (so ` Ana ` is Ana everywhere), and the rest must
/// be non-empty, at most [`MAX_NAME_CHARS`] characters, without control or invisible characters
/// (see [`invisible`]) and without `/` or `\`. Returns the trimmed name.
pub fn valid_name(name: &str) -> Result<&str, NameError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if let Some(c) = name.chars().find(|c| c.is_control() || invisible(*c)) {
        return Err(NameError::Control(u32::from(c)));
    }
    if name.contains(['/', '\\']) {
        return Err(NameError::Separator);
    }
    if name.chars().count() > MAX_NAME_CHARS || file_stem(name).len() > MAX_STEM_BYTES {
        return Err(NameError::TooLong);
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

/// The CSV header of [`export_csv`].
pub const CSV_HEADER: &str =
    "student,time_unix,question,objective,score,correct,quiz,quiz_complete";

/// CSV with one row per quiz answer ([`CSV_HEADER`]): `quiz` is the quiz's id and
/// `quiz_complete` whether that quiz was taken to its end (both empty for answers saved before
/// quizzes were recorded, format 1).
pub fn export_csv(profiles: &[Profile]) -> String {
    let mut s = format!("{CSV_HEADER}\n");
    for p in profiles {
        for a in &p.attempts {
            let complete = match a.quiz.as_deref().and_then(|id| p.quiz(id)) {
                Some(q) => {
                    if q.completed.is_some() {
                        "true"
                    } else {
                        "false"
                    }
                }
                None => "",
            };
            let _ = writeln!(
                s,
                "{},{},{},{},{},{},{},{complete}",
                csv_field(&p.name),
                a.at,
                csv_field(&a.question),
                csv_field(&a.objective),
                a.score,
                a.correct,
                csv_field(a.quiz.as_deref().unwrap_or_default()),
            );
        }
    }
    s
}

/// Saves one quiz's answers into a student's profile as they are given: the terminal quiz and
/// the app's Kuis tab both go through it (see the module's invariants). Each call is one locked
/// [`ProfileStore::update`] and returns its notice (a damaged file set aside) for the caller to
/// show.
#[derive(Debug, Clone)]
pub struct QuizRecorder {
    store: ProfileStore,
    student: String,
    quiz: String,
}

impl QuizRecorder {
    /// Record the start of a quiz (before its first question: a profile that cannot be
    /// written fails here, not after the answers). `taken_in`: `terminal` or `app`.
    pub fn start(
        store: ProfileStore,
        student: &str,
        taken_in: &str,
        seed: u64,
        questions: usize,
        at: u64,
    ) -> anyhow::Result<(QuizRecorder, Option<String>)> {
        let student = valid_name(student)?.to_owned();
        let mut quiz = String::new();
        let notice = store
            .update(&student, |p| {
                quiz = p.start_quiz(taken_in, seed, questions, at)
            })
            .with_context(|| format!("cannot save the progress of {student}"))?;
        Ok((
            QuizRecorder {
                store,
                student,
                quiz,
            },
            notice,
        ))
    }

    /// Save one graded answer now.
    pub fn answer(&self, graded: &Graded, at: u64) -> anyhow::Result<Option<String>> {
        self.store
            .update(&self.student, |p| {
                p.record_graded(std::slice::from_ref(graded), at, Some(&self.quiz));
            })
            .with_context(|| format!("cannot save the answer of {}", self.student))
    }

    /// Mark the quiz complete (its first round's last question was answered).
    pub fn complete(&self, at: u64) -> anyhow::Result<Option<String>> {
        self.store
            .update(&self.student, |p| p.complete_quiz(&self.quiz, at))
            .with_context(|| format!("cannot save the progress of {}", self.student))
    }

    /// The student (trimmed).
    pub fn student(&self) -> &str {
        &self.student
    }

    /// The quiz's id.
    pub fn quiz_id(&self) -> &str {
        &self.quiz
    }
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
                quiz: None,
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
            quiz: None,
        });
        let csv = export_csv(&[p]);
        assert_eq!(
            csv.lines().nth(1),
            Some("\"'=cmd|' /C calc'!A0\",7,q1,o,1,true,,")
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
            quiz: None,
        });
        let csv = export_csv(&[p]);
        assert_eq!(
            csv.lines().nth(1),
            Some("\"Lee, \"\"Sam\"\"\",7,q1,o,1,true,,")
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
