//! Self-assessment quizzes: the question schema, parsing and validation of TOML question banks,
//! grading, and deterministic shuffling.
//!
//! Invariants:
//! - **Pure.** The caller reads the files and passes their text ([`Located`]); a "predict the
//!   outcome" question is graded against a [`RunOutcome`](migralab_sim_core::RunOutcome) the caller got from
//!   the simulator. Nothing here does I/O or reads a clock.
//! - **Complete or rejected.** Every prompt, option, step and explanation exists in Bahasa
//!   Indonesia and English, every option says why it is right or wrong, and each question kind has
//!   exactly the keys it needs. Anything else is a [`QuizError`] naming the file, line and column.
//! - **Deterministic.** The same seed gives the same question and option order
//!   ([`plan`]); answers are recorded by the options' original indices, so the correct-answer
//!   mapping follows the shuffle.
//!
//! A bank is a folder of TOML files, each a list of `[[question]]` tables; `assets/quizzes/`
//! holds the shipped one and `assets/quizzes/EXAMPLE.md` documents the format for instructors.

mod command;
mod grade;
mod load;
mod present;

pub use command::{
    CommandError, DestUri, Issue, MigrateCommand, Mistake, MistakeWhen, compare, is_migrate_flag,
};
pub use grade::{
    Answer, Graded, Mark, Note, ObjectiveScore, Summary, grade, grade_prediction, review_mistakes,
};
pub use load::QuizError;
pub use present::{AnswerError, Presented, Selection, plan};

pub use migralab_sim_core::located::{Located, Location};
use migralab_sim_core::text::Text;
use serde::{Deserialize, Serialize};

/// What a question teaches. The ids are the learning objectives of the lesson (issue 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    /// What live migration is and what it is for.
    DefinitionPurpose,
    /// Prerequisite 1: shared storage.
    PrereqSharedStorage,
    /// Prerequisite 2: the same network (bridge, subnet, reachable hosts and ports).
    PrereqNetwork,
    /// Prerequisite 3: SSH trust for `qemu+ssh://`.
    PrereqSsh,
    /// Prerequisite 4: a compatible CPU.
    PrereqCpu,
    /// Prerequisite 5: compatible QEMU/libvirt versions (machine types).
    PrereqVersions,
    /// Pre-copy passes (iterations).
    PrecopyIterations,
    /// Dirty rate, the threshold and downtime.
    DirtyRateDowntime,
    /// Why shared storage makes migration fast.
    SharedStorageSpeed,
    /// CPU modes and baseline models.
    CpuModesBaseline,
    /// `--live`.
    FlagLive,
    /// `--persistent` versus `--undefinesource`.
    FlagPersistentUndefinesource,
    /// `--copy-storage-all` / `--copy-storage-inc`.
    FlagCopyStorage,
    /// `--p2p` and `--tunnelled`.
    #[serde(rename = "flag-p2p-tunnelled")]
    FlagP2pTunnelled,
    /// `--auto-converge`.
    FlagAutoConverge,
    /// `--postcopy`.
    FlagPostcopy,
    /// Checking that the migration worked.
    VerifyResult,
    /// Reading libvirt's error messages.
    ReadLibvirtErrors,
    /// The migration stream is not encrypted by default: `--tls`, `--p2p --tunnelled`.
    Encryption,
    /// Which network and how fast: `--migrateuri`, `--listen-address`, `migration_address`,
    /// `--bandwidth` / `migrate-setspeed` (libvirt's default is unlimited).
    MigrationNetwork,
    /// `migrate-setmaxdowntime` / `migrate-getmaxdowntime` (QEMU's default 300 ms).
    DowntimeTuning,
    /// `virsh domjobabort`, Ctrl-C, and why a post-copy migration cannot be rolled back.
    AbortRollback,
    /// libvirt's refusal when a disk's cache is not `none` or `directsync`, and `--unsafe`.
    DiskCacheMode,
    /// Reading `virsh domjobinfo` while a migration runs.
    ReadDomjobinfo,
}

impl Objective {
    /// Every objective, in teaching order.
    pub const ALL: [Objective; 24] = [
        Objective::DefinitionPurpose,
        Objective::PrereqSharedStorage,
        Objective::PrereqNetwork,
        Objective::PrereqSsh,
        Objective::PrereqCpu,
        Objective::PrereqVersions,
        Objective::PrecopyIterations,
        Objective::DirtyRateDowntime,
        Objective::SharedStorageSpeed,
        Objective::CpuModesBaseline,
        Objective::FlagLive,
        Objective::FlagPersistentUndefinesource,
        Objective::FlagCopyStorage,
        Objective::FlagP2pTunnelled,
        Objective::FlagAutoConverge,
        Objective::FlagPostcopy,
        Objective::VerifyResult,
        Objective::ReadLibvirtErrors,
        // The operator's topics (issue 21), after the seed's objectives so that the indices of
        // the first 18 stay what they were.
        Objective::Encryption,
        Objective::MigrationNetwork,
        Objective::DowntimeTuning,
        Objective::AbortRollback,
        Objective::DiskCacheMode,
        Objective::ReadDomjobinfo,
    ];

    /// The id used in files and on the command line, e.g. `flag-live`.
    pub fn as_str(self) -> &'static str {
        self.info().0
    }

    /// The objective with this id.
    pub fn from_id(id: &str) -> Option<Objective> {
        Objective::ALL.into_iter().find(|o| o.as_str() == id)
    }

    /// A short title in Bahasa Indonesia and English.
    pub fn title(self) -> Text {
        let (_, id, en) = self.info();
        Text::new(id, en)
    }

    fn info(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Objective::DefinitionPurpose => (
                "definition-purpose",
                "Definisi dan tujuan live migration",
                "What live migration is and why",
            ),
            Objective::PrereqSharedStorage => (
                "prereq-shared-storage",
                "Prasyarat: shared storage",
                "Prerequisite: shared storage",
            ),
            Objective::PrereqNetwork => (
                "prereq-network",
                "Prasyarat: jaringan yang sama",
                "Prerequisite: the same network",
            ),
            Objective::PrereqSsh => (
                "prereq-ssh",
                "Prasyarat: kepercayaan SSH",
                "Prerequisite: SSH trust",
            ),
            Objective::PrereqCpu => (
                "prereq-cpu",
                "Prasyarat: CPU yang kompatibel",
                "Prerequisite: a compatible CPU",
            ),
            Objective::PrereqVersions => (
                "prereq-versions",
                "Prasyarat: versi QEMU/libvirt",
                "Prerequisite: QEMU/libvirt versions",
            ),
            Objective::PrecopyIterations => (
                "precopy-iterations",
                "Putaran (iterasi) pre-copy",
                "Pre-copy iterations",
            ),
            Objective::DirtyRateDowntime => (
                "dirty-rate-downtime",
                "Dirty rate dan downtime",
                "Dirty rate and downtime",
            ),
            Objective::SharedStorageSpeed => (
                "shared-storage-speed",
                "Mengapa shared storage membuat migrasi cepat",
                "Why shared storage makes migration fast",
            ),
            Objective::CpuModesBaseline => (
                "cpu-modes-baseline",
                "Mode CPU dan model dasar (baseline)",
                "CPU modes and baseline models",
            ),
            Objective::FlagLive => ("flag-live", "Flag --live", "The --live flag"),
            Objective::FlagPersistentUndefinesource => (
                "flag-persistent-undefinesource",
                "--persistent dan --undefinesource",
                "--persistent and --undefinesource",
            ),
            Objective::FlagCopyStorage => (
                "flag-copy-storage",
                "Flag --copy-storage-*",
                "The --copy-storage-* flags",
            ),
            Objective::FlagP2pTunnelled => (
                "flag-p2p-tunnelled",
                "--p2p dan --tunnelled",
                "--p2p and --tunnelled",
            ),
            Objective::FlagAutoConverge => (
                "flag-auto-converge",
                "Flag --auto-converge",
                "The --auto-converge flag",
            ),
            Objective::FlagPostcopy => ("flag-postcopy", "Flag --postcopy", "The --postcopy flag"),
            Objective::VerifyResult => (
                "verify-result",
                "Memeriksa hasil migrasi",
                "Verifying the result",
            ),
            Objective::ReadLibvirtErrors => (
                "read-libvirt-errors",
                "Membaca pesan error libvirt",
                "Reading libvirt errors",
            ),
            Objective::Encryption => (
                "encryption",
                "Enkripsi data migrasi",
                "Encrypting the migration data",
            ),
            Objective::MigrationNetwork => (
                "migration-network",
                "Jaringan dan bandwidth migrasi",
                "The migration network and bandwidth",
            ),
            Objective::DowntimeTuning => (
                "downtime-tuning",
                "Mengatur batas downtime",
                "Tuning the downtime limit",
            ),
            Objective::AbortRollback => (
                "abort-rollback",
                "Membatalkan migrasi dan rollback",
                "Aborting a migration and rolling back",
            ),
            Objective::DiskCacheMode => ("disk-cache-mode", "Mode cache disk", "Disk cache mode"),
            Objective::ReadDomjobinfo => (
                "read-domjobinfo",
                "Membaca virsh domjobinfo",
                "Reading virsh domjobinfo",
            ),
        }
    }
}

/// The kind of a question: how it is asked and graded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// One correct option.
    Single,
    /// Several correct options (partial credit, see [`grade`]).
    Multi,
    /// Put the steps in order.
    Order,
    /// Write the `virsh migrate` command.
    Command,
    /// A libvirt error message: which prerequisite failed? (single choice)
    Diagnose,
    /// A number within a tolerance.
    Numeric,
    /// Predict what a shipped scenario does, then watch the simulator run it.
    Predict,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 7] = [
        Kind::Single,
        Kind::Multi,
        Kind::Order,
        Kind::Command,
        Kind::Diagnose,
        Kind::Numeric,
        Kind::Predict,
    ];

    /// The name used in files (`kind = "single"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Single => "single",
            Kind::Multi => "multi",
            Kind::Order => "order",
            Kind::Command => "command",
            Kind::Diagnose => "diagnose",
            Kind::Numeric => "numeric",
            Kind::Predict => "predict",
        }
    }
}

pub use migralab_sim_core::lang::Lang;

/// An answer option of a choice question: its text, whether it is right, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// What the student reads.
    pub text: Text,
    /// Is this option right?
    pub correct: bool,
    /// Why it is right or wrong.
    pub why: Text,
}

/// A step of an "order" question (given in the correct order).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// What the step is.
    pub text: Text,
    /// Why it comes at this point.
    pub why: Text,
}

/// A run's status, as `RunOutcome::status` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeStatus {
    /// Every migration completed.
    Completed,
    /// A migration failed with a libvirt error.
    Failed,
    /// A migration never converged (the simulation gave up).
    NotConverged,
    /// A migration was still making progress when the simulator's time limit ran out.
    TimeLimit,
    /// A migration was aborted.
    Aborted,
}

impl OutcomeStatus {
    /// The status string of `RunOutcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeStatus::Completed => "completed",
            OutcomeStatus::Failed => "failed",
            OutcomeStatus::NotConverged => "not-converged",
            OutcomeStatus::TimeLimit => "time-limit",
            OutcomeStatus::Aborted => "aborted",
        }
    }
}

/// What an option of a "predict" question claims about the run. Every given condition must
/// hold for the prediction to match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The run's status.
    pub status: OutcomeStatus,
    /// The first error contains this text.
    #[serde(default)]
    pub error_contains: Option<String>,
    /// Longest downtime below this, ms.
    #[serde(default)]
    pub downtime_below_ms: Option<u64>,
    /// Longest downtime at least this, ms.
    #[serde(default)]
    pub downtime_at_least_ms: Option<u64>,
    /// Total time below this, ms.
    #[serde(default)]
    pub total_below_ms: Option<u64>,
    /// Total time at least this, ms.
    #[serde(default)]
    pub total_at_least_ms: Option<u64>,
}

impl Expect {
    /// Does the run's outcome satisfy this prediction?
    pub fn matches(&self, actual: &migralab_sim_core::RunOutcome) -> bool {
        actual.status == self.status.as_str()
            && self
                .error_contains
                .as_deref()
                .is_none_or(|needle| actual.error.as_deref().is_some_and(|e| e.contains(needle)))
            && self
                .downtime_below_ms
                .is_none_or(|v| actual.downtime_ms < v)
            && self
                .downtime_at_least_ms
                .is_none_or(|v| actual.downtime_ms >= v)
            && self.total_below_ms.is_none_or(|v| actual.total_ms < v)
            && self.total_at_least_ms.is_none_or(|v| actual.total_ms >= v)
    }
}

/// An option of a "predict" question.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Text, the bank's expected answer and the explanation.
    pub choice: Choice,
    /// What the option claims about the run.
    pub expect: Expect,
}

/// How close a numeric answer must be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// Within ± this many units.
    Absolute(f64),
    /// Within ± this percentage of the answer.
    Percent(f64),
}

impl Tolerance {
    /// The allowed distance from `answer`.
    pub fn width(self, answer: f64) -> f64 {
        match self {
            Tolerance::Absolute(a) => a,
            Tolerance::Percent(p) => answer.abs() * p / 100.0,
        }
    }
}

/// A typical wrong numeric answer and what it reveals.
#[derive(Debug, Clone, PartialEq)]
pub struct Pitfall {
    /// The wrong value (matched with the question's tolerance).
    pub value: f64,
    /// What the student probably did.
    pub why: Text,
}

/// What a question asks, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// One correct option.
    Single {
        /// The options.
        options: Vec<Choice>,
    },
    /// One or more correct options.
    Multi {
        /// The options.
        options: Vec<Choice>,
    },
    /// Steps, listed in the correct order.
    Order {
        /// The steps.
        steps: Vec<Step>,
    },
    /// Write a `virsh migrate` command.
    Command {
        /// The model answer as written in the bank.
        expected_text: String,
        /// The model answer, parsed.
        expected: MigrateCommand,
        /// Flags that may be present or absent (`verbose`).
        optional_flags: Vec<String>,
        /// The teacher's explanations for particular missing or extra flags.
        mistakes: Vec<Mistake>,
    },
    /// A libvirt error message; one option names the failed prerequisite.
    Diagnose {
        /// The message as virsh prints it.
        error: String,
        /// The options.
        options: Vec<Choice>,
    },
    /// A number.
    Numeric {
        /// The right value.
        answer: f64,
        /// How close is close enough.
        tolerance: Tolerance,
        /// Unit, e.g. `s` or `MiB`.
        unit: String,
        /// Typical wrong values, explained.
        pitfalls: Vec<Pitfall>,
    },
    /// Predict a scenario's outcome.
    Predict {
        /// A shipped scenario name (or a file next to the bank).
        scenario: String,
        /// `--set key=value` overrides applied to the scenario.
        overrides: Vec<String>,
        /// The possible outcomes.
        options: Vec<Prediction>,
        /// Where `scenario` was written, for errors about it.
        scenario_at: Location,
    },
}

/// One validated question.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// Unique id in the bank, e.g. `flags-undefinesource-1`.
    pub id: String,
    /// The learning objective it checks.
    pub objective: Objective,
    /// The question text.
    pub prompt: Text,
    /// An explanation shown after answering (the worked solution for numeric and command).
    pub explanation: Option<Text>,
    /// May the options be shuffled? (`shuffle = false` keeps the written order.)
    pub shuffle: bool,
    /// What it asks.
    pub body: Body,
    /// Where the question starts.
    pub at: Location,
}

impl Question {
    /// The kind of question.
    pub fn kind(&self) -> Kind {
        match self.body {
            Body::Single { .. } => Kind::Single,
            Body::Multi { .. } => Kind::Multi,
            Body::Order { .. } => Kind::Order,
            Body::Command { .. } => Kind::Command,
            Body::Diagnose { .. } => Kind::Diagnose,
            Body::Numeric { .. } => Kind::Numeric,
            Body::Predict { .. } => Kind::Predict,
        }
    }

    /// The choices a student picks from (options, or a prediction's options), if any.
    pub fn choices(&self) -> Vec<&Choice> {
        match &self.body {
            Body::Single { options } | Body::Multi { options } | Body::Diagnose { options, .. } => {
                options.iter().collect()
            }
            Body::Predict { options, .. } => options.iter().map(|p| &p.choice).collect(),
            _ => Vec::new(),
        }
    }

    /// How many items are shown in a list (options or steps); 0 for free answers.
    pub fn item_count(&self) -> usize {
        match &self.body {
            Body::Order { steps } => steps.len(),
            _ => self.choices().len(),
        }
    }
}

/// A validated question bank.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Bank {
    questions: Vec<Question>,
}

impl Bank {
    /// The questions, in file order (files in the order given).
    pub fn questions(&self) -> &[Question] {
        &self.questions
    }

    /// The question with this id.
    pub fn get(&self, id: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.id == id)
    }

    /// Counts for `migralab quiz --stats`.
    pub fn stats(&self) -> Stats {
        let mut objectives: Vec<(&'static str, usize)> =
            Objective::ALL.iter().map(|o| (o.as_str(), 0)).collect();
        let mut types: Vec<(&'static str, usize)> =
            Kind::ALL.iter().map(|k| (k.as_str(), 0)).collect();
        for q in &self.questions {
            if let Some(slot) = objectives
                .iter_mut()
                .find(|(n, _)| *n == q.objective.as_str())
            {
                slot.1 += 1;
            }
            if let Some(slot) = types.iter_mut().find(|(n, _)| *n == q.kind().as_str()) {
                slot.1 += 1;
            }
        }
        // Validation requires both languages in every text, so a non-empty bank has both.
        let languages = if self.questions.is_empty() {
            Vec::new()
        } else {
            vec!["id", "en"]
        };
        Stats {
            questions: self.questions.len(),
            languages,
            objectives: Counts(objectives),
            types: Counts(types),
        }
    }
}

/// What `migralab quiz --stats --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Number of questions.
    pub questions: usize,
    /// Languages every text is written in.
    pub languages: Vec<&'static str>,
    /// Questions per objective (every objective listed, in teaching order).
    pub objectives: Counts,
    /// Questions per kind (every kind listed).
    pub types: Counts,
}

/// Named counts that serialise as a JSON object in their listed order.
#[derive(Debug, Clone, PartialEq)]
pub struct Counts(pub Vec<(&'static str, usize)>);

impl Counts {
    /// The count for `name` (0 if absent).
    pub fn get(&self, name: &str) -> usize {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, c)| *c)
    }
}

impl Serialize for Counts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests;
