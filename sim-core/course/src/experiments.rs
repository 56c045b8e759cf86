//! The guided experiments (Sesi 2) from `assets/experiments.toml`, and when a step is done.
//!
//! A step's completion is a pure function of what happened in the lab ([`LabFacts`]: the lines
//! typed and the migrations that ran, per scenario), so the GUI only has to collect those facts.
//! The schema is documented at the top of `assets/experiments.toml`.

use crate::{invalid, toml_error};
use migralab_shell::ShellRun;
use migralab_sim_core::located::LocatedError;
use migralab_sim_core::text::Text;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

const EXPERIMENTS_TOML: &str = include_str!("../../../assets/experiments.toml");

/// Every placeholder an explanation may use, filled from the two compared runs (`a`, `b`; see
/// [`Experiment::compare`]) and formatted for the language:
/// - `downtime_ms_a`, `downtime_ms_b`: downtime in ms, a whole number (libvirt's "Total
///   downtime");
/// - `total_s_a`, `total_s_b`: total migration time in seconds, one decimal;
/// - `disk_gib_b`: disk data the second run sent over the network in GiB, one decimal;
/// - `lost_pings_a`, `lost_pings_b`: replies the lab's background ping (one every
///   `[prober].interval_ms`) lost during the run, a whole number;
/// - `failed_after_s_a`, `failed_after_s_b`: for a run that failed, seconds from the command to
///   the error, one decimal (how late libvirt or QEMU said no);
/// - `aborted_after_s_a`: for a cancelled run (Ctrl-C, `virsh domjobabort`), seconds from the
///   command to the cancellation, one decimal;
/// - `iterations_a`: dirty-bitmap syncs of the run until it ended ("Iteration"), a whole number;
/// - `throttle_pct_b`: the highest vCPU throttle auto-converge set ("Auto converge throttle"), %;
/// - `total_s_c`, `downtime_ms_c`: as above, for the third compared run;
/// - `postcopy_faults_c`: pages the destination requested after the switch to post-copy
///   ("Postcopy requests"), a whole number.
pub const PLACEHOLDERS: [&str; 15] = [
    "downtime_ms_a",
    "total_s_a",
    "lost_pings_a",
    "downtime_ms_b",
    "total_s_b",
    "disk_gib_b",
    "lost_pings_b",
    "failed_after_s_a",
    "failed_after_s_b",
    "aborted_after_s_a",
    "iterations_a",
    "throttle_pct_b",
    "total_s_c",
    "downtime_ms_c",
    "postcopy_faults_c",
];

/// The outcomes a migration run can have ([`RunFact::outcome`], [`Done::Migration`]).
pub const OUTCOMES: [&str; 6] = [
    "completed",
    "failed",
    "aborted",
    "not-converged",
    "time-limit",
    "work-limit",
];

/// A guided experiment.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Unique id (`exp1`), used in progress files.
    pub id: String,
    /// The experiment's name.
    pub title: Text,
    /// What the student should predict before starting.
    pub hypothesis: Text,
    /// The question the student answers in their own words.
    pub observation: Text,
    /// Shown once the observation is written; may hold [`PLACEHOLDERS`] (see
    /// [`fill_placeholders`]).
    pub explanation: Text,
    /// The two migration steps whose runs are compared side by side and fill the placeholders.
    #[serde(default)]
    pub compare: Option<Compare>,
    /// The steps, in order.
    #[serde(rename = "step")]
    pub steps: Vec<Step>,
}

/// Which steps' runs are compared: `a` fills the `*_a` placeholders, `b` the `*_b` ones, `c`
/// (optional) the `*_c` ones.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compare {
    /// Id of the step whose migration is the first compared run.
    pub a: String,
    /// Id of the step whose migration is the second compared run.
    pub b: String,
    /// Id of the step whose migration is the third compared run, if any.
    #[serde(default)]
    pub c: Option<String>,
}

/// One step of an experiment.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Unique id across all experiments (`exp1-shared-ping`).
    pub id: String,
    /// The scenario the step opens in the Lab (if it is not open already). `None`: the step
    /// continues in the scenario of the step before it ([`Experiment::step_scenario`]).
    #[serde(default)]
    pub scenario: Option<String>,
    /// The exact line the step's button types into the lab terminal.
    #[serde(default)]
    pub command: Option<String>,
    /// The instruction.
    pub text: Text,
    /// How completion is detected.
    pub done: Done,
}

/// How a step's completion is detected (see [`step_done`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Done {
    /// The student typed a line starting with `prefix`, whitespace-normalised, in the step's
    /// scenario. Each command of a compound line counts (the pieces between `;`, `&`, `|` and
    /// new lines), so `virsh capabilities > x; virsh cpu-baseline x` does `virsh cpu-baseline`.
    Typed {
        /// The start of the command, e.g. `virsh capabilities`.
        prefix: String,
    },
    /// A migration of `vm` ran in the step's scenario, with these properties if given.
    Migration {
        /// The VM's name.
        vm: String,
        /// Whether `--copy-storage-all` was used (any if `None`).
        #[serde(default)]
        copy_storage_all: Option<bool>,
        /// How it ended, one of [`OUTCOMES`] (any if `None`).
        #[serde(default)]
        outcome: Option<String>,
    },
}

impl Experiment {
    /// The scenario step `index` runs in: its own, or that of the nearest step before it that
    /// names one. (The loader makes sure the first step names one.)
    pub fn step_scenario(&self, index: usize) -> Option<&str> {
        self.steps
            .get(..=index)?
            .iter()
            .rev()
            .find_map(|s| s.scenario.as_deref())
    }

    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }
}

/// What happened in the lab so far, for [`step_done`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LabFacts<'a> {
    /// Every line typed in a lab terminal: `(scenario, line)`.
    pub typed: &'a [(String, String)],
    /// Every migration that ended.
    pub runs: &'a [RunFact],
}

/// A migration that ran in the lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFact {
    /// The scenario the lab was on.
    pub scenario: String,
    /// The migrated VM.
    pub vm: String,
    /// Whether `--copy-storage-all` was given.
    pub copy_storage_all: bool,
    /// How it ended: one of [`OUTCOMES`].
    pub outcome: String,
}

impl RunFact {
    /// The fact of a migration the lab shell ran in `scenario`.
    pub fn from_shell_run(scenario: &str, run: &ShellRun) -> RunFact {
        RunFact {
            scenario: scenario.to_string(),
            vm: run.spec.vm.clone(),
            copy_storage_all: run.spec.copy_storage_all,
            // A finished run always has an outcome; "unknown" matches no expected outcome.
            outcome: run
                .outcome()
                .map_or("unknown", migralab_sim_core::Outcome::status)
                .to_string(),
        }
    }
}

/// Whether a step is done, given what happened in the lab. `step_scenario` is the scenario the
/// step runs in ([`Experiment::step_scenario`]); facts from other scenarios do not count.
pub fn step_done(done: &Done, step_scenario: &str, facts: &LabFacts<'_>) -> bool {
    match done {
        Done::Typed { prefix } => {
            let prefix = normalize(prefix);
            facts
                .typed
                .iter()
                .filter(|(scenario, _)| scenario == step_scenario)
                .any(|(_, line)| commands_of(line).any(|c| starts_with_words(&c, &prefix)))
        }
        Done::Migration {
            vm,
            copy_storage_all,
            outcome,
        } => facts.runs.iter().any(|r| {
            r.scenario == step_scenario
                && r.vm == *vm
                && copy_storage_all.is_none_or(|c| c == r.copy_storage_all)
                && outcome.as_deref().is_none_or(|o| o == r.outcome)
        }),
    }
}

/// Whitespace runs collapsed to one space, trimmed.
fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The commands of a line: the pieces between `;`, `&`, `|` and new lines (so `&&`, `||` and
/// pipes too), normalised. Quotes are not parsed: a separator inside quotes only makes an extra
/// piece, which is harmless for "starts with".
pub fn commands_of(line: &str) -> impl Iterator<Item = String> + '_ {
    line.split([';', '&', '|', '\n'])
        .map(normalize)
        .filter(|c| !c.is_empty())
}

/// `line` is `prefix`, or starts with it and the next character ends a word (`virsh
/// capabilities | grep` and `virsh capabilities>x` count, `virsh capabilitiesx` does not).
fn starts_with_words(line: &str, prefix: &str) -> bool {
    match line.strip_prefix(prefix) {
        Some(rest) => rest
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '-' || c == '_')),
        None => false,
    }
}

/// The placeholder names (`{name}`, letters, digits and `_`) in a template, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_name(&after[..close]) => {
                names.push(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    names
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Replace each `{name}` whose name is in `values` by its value; anything else is left as it is.
pub fn fill_placeholders(template: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .map(|close| (close, &after[..close]))
            .filter(|(_, name)| is_name(name))
            .and_then(|(close, name)| values.get(name).map(|v| (close, v)))
        {
            Some((close, value)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The embedded experiments, parsed once. (If the embedded file were broken, which the tests
/// rule out, the error is logged and there are no experiments.)
pub fn experiments() -> &'static [Experiment] {
    static EXPERIMENTS: LazyLock<Vec<Experiment>> = LazyLock::new(|| match parse_embedded() {
        Ok(e) => e,
        Err(e) => {
            tracing::error!("cannot load the experiments: {e}");
            Vec::new()
        }
    });
    &EXPERIMENTS
}

pub(super) fn parse_embedded() -> Result<Vec<Experiment>, LocatedError> {
    parse_from("assets/experiments.toml", EXPERIMENTS_TOML)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(rename = "experiment")]
    experiments: Vec<Experiment>,
}

/// Parse and check experiments (the format of `assets/experiments.toml`). Errors name the line
/// and column: schema errors, empty texts, repeated ids, a first step without a scenario, an
/// unknown outcome or placeholder, a `compare` that does not name migration steps.
pub fn parse(text: &str) -> Result<Vec<Experiment>, LocatedError> {
    parse_from("<string>", text)
}

fn parse_from(origin: &str, text: &str) -> Result<Vec<Experiment>, LocatedError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| toml_error(origin, text, &e))?;
    let bad = |path: String, message: String| invalid(origin, text, &path, message);
    let both = |t: &Text, path: String| {
        if !t.is_complete() {
            Err(bad(path, "needs a non-empty `id` and `en` text".into()))
        } else {
            Ok(())
        }
    };
    let mut experiment_ids = BTreeSet::new();
    let mut step_ids = BTreeSet::new();
    for (e, exp) in raw.experiments.iter().enumerate() {
        let at = format!("experiment.{e}");
        if exp.id.trim().is_empty() || !experiment_ids.insert(exp.id.as_str()) {
            return Err(bad(
                format!("{at}.id"),
                "must be non-empty and unique".into(),
            ));
        }
        both(&exp.title, format!("{at}.title"))?;
        both(&exp.hypothesis, format!("{at}.hypothesis"))?;
        both(&exp.observation, format!("{at}.observation"))?;
        both(&exp.explanation, format!("{at}.explanation"))?;
        let used: Vec<&str> = placeholders(&exp.explanation.id)
            .into_iter()
            .chain(placeholders(&exp.explanation.en))
            .collect();
        if let Some(unknown) = used.iter().find(|p| !PLACEHOLDERS.contains(p)) {
            return Err(bad(
                format!("{at}.explanation"),
                format!(
                    "unknown placeholder `{{{unknown}}}` (known: {})",
                    PLACEHOLDERS.join(", ")
                ),
            ));
        }
        if !used.is_empty() && exp.compare.is_none() {
            return Err(bad(
                at.clone(),
                "the explanation has placeholders but there is no `compare` naming the runs".into(),
            ));
        }
        if used.iter().any(|p| p.ends_with("_c"))
            && exp.compare.as_ref().is_some_and(|c| c.c.is_none())
        {
            return Err(bad(
                format!("{at}.compare"),
                "the explanation has `*_c` placeholders but `compare` names no `c` run".into(),
            ));
        }
        if exp.steps.is_empty() {
            return Err(bad(at, "there are no [[experiment.step]] tables".into()));
        }
        for (s, step) in exp.steps.iter().enumerate() {
            let at = format!("{at}.step.{s}");
            if step.id.trim().is_empty() || !step_ids.insert(step.id.as_str()) {
                return Err(bad(
                    format!("{at}.id"),
                    "must be non-empty and unique across all experiments".into(),
                ));
            }
            if s == 0 && step.scenario.is_none() {
                return Err(bad(
                    at.clone(),
                    "the first step must name a `scenario`".into(),
                ));
            }
            if step
                .scenario
                .as_deref()
                .is_some_and(|x| x.trim().is_empty())
            {
                return Err(bad(format!("{at}.scenario"), "must not be empty".into()));
            }
            if step.command.as_deref().is_some_and(|x| x.trim().is_empty()) {
                return Err(bad(format!("{at}.command"), "must not be empty".into()));
            }
            both(&step.text, format!("{at}.text"))?;
            match &step.done {
                Done::Typed { prefix } if prefix.trim().is_empty() => {
                    return Err(bad(format!("{at}.done.prefix"), "must not be empty".into()));
                }
                Done::Migration { vm, .. } if vm.trim().is_empty() => {
                    return Err(bad(format!("{at}.done.vm"), "must not be empty".into()));
                }
                Done::Migration {
                    outcome: Some(o), ..
                } if !OUTCOMES.contains(&o.as_str()) => {
                    return Err(bad(
                        format!("{at}.done.outcome"),
                        format!("unknown outcome `{o}` (known: {})", OUTCOMES.join(", ")),
                    ));
                }
                _ => {}
            }
        }
        if let Some(c) = &exp.compare {
            let third = c.c.iter().map(|id| ("c", id));
            for (key, id) in [("a", &c.a), ("b", &c.b)].into_iter().chain(third) {
                let ok = exp
                    .step(id)
                    .is_some_and(|s| matches!(s.done, Done::Migration { .. }));
                if !ok {
                    return Err(bad(
                        format!("experiment.{e}.compare.{key}"),
                        format!(
                            "`{id}` is not a step of this experiment with kind = \"migration\""
                        ),
                    ));
                }
            }
        }
    }
    if raw.experiments.is_empty() {
        return Err(bad("experiment".into(), "there are no experiments".into()));
    }
    Ok(raw.experiments)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use migralab_shell::Shell;
    use migralab_sim_core::Scenario;
    use migralab_sim_core::lang::Lang;
    use std::path::{Path, PathBuf};

    fn scenario_path(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../scenarios/{name}.toml"))
    }

    /// The scenarios the experiments run in, embedded (the crate does no I/O, not even in tests).
    fn scenario_text(name: &str) -> &'static str {
        match name {
            "exp1-shared-storage" => include_str!("../../../scenarios/exp1-shared-storage.toml"),
            "exp1-no-shared-storage" => {
                include_str!("../../../scenarios/exp1-no-shared-storage.toml")
            }
            "exp2-cpu-models" => include_str!("../../../scenarios/exp2-cpu-models.toml"),
            "busy-db-no-converge" => include_str!("../../../scenarios/busy-db-no-converge.toml"),
            "busy-db-auto-converge" => {
                include_str!("../../../scenarios/busy-db-auto-converge.toml")
            }
            "busy-db-postcopy" => include_str!("../../../scenarios/busy-db-postcopy.toml"),
            other => panic!("an experiment runs in `{other}`: embed it in scenario_text"),
        }
    }

    fn typed(scenario: &str, line: &str) -> (String, String) {
        (scenario.to_string(), line.to_string())
    }

    fn run(scenario: &str, vm: &str, copy_storage_all: bool, outcome: &str) -> RunFact {
        RunFact {
            scenario: scenario.into(),
            vm: vm.into(),
            copy_storage_all,
            outcome: outcome.into(),
        }
    }

    #[test]
    fn the_experiments_parse_and_are_complete() {
        let exps = parse_embedded().unwrap();
        assert_eq!(experiments(), exps.as_slice());
        let ids: Vec<&str> = exps.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["exp1", "exp2", "exp3"]);
        for exp in &exps {
            assert!(
                (4..=8).contains(&exp.steps.len()),
                "{}: {} steps",
                exp.id,
                exp.steps.len()
            );
            for (i, step) in exp.steps.iter().enumerate() {
                assert!(!step.text.id.trim().is_empty() && !step.text.en.trim().is_empty());
                let scenario = exp.step_scenario(i).unwrap();
                assert!(
                    scenario_path(scenario).is_file(),
                    "{}: no scenarios/{scenario}.toml",
                    step.id
                );
            }
            for p in placeholders(&exp.explanation.id)
                .into_iter()
                .chain(placeholders(&exp.explanation.en))
            {
                assert!(PLACEHOLDERS.contains(&p), "{}: {{{p}}}", exp.id);
            }
            // Both languages use the same placeholders.
            let mut id = placeholders(&exp.explanation.id);
            let mut en = placeholders(&exp.explanation.en);
            id.sort_unstable();
            en.sort_unstable();
            assert_eq!(id, en, "{}", exp.id);
        }
        // Every placeholder is used: Experiment 1 compares its two completed runs, Experiment 2
        // how late its two failures came.
        let exp1 = &exps[0];
        let mut used: Vec<&str> = exps
            .iter()
            .flat_map(|e| placeholders(&e.explanation.en))
            .collect();
        used.sort_unstable();
        used.dedup();
        let mut all = PLACEHOLDERS.to_vec();
        all.sort_unstable();
        assert_eq!(used, all);
        let mut exp2 = placeholders(&exps[1].explanation.en);
        exp2.sort_unstable();
        exp2.dedup();
        assert_eq!(exp2, ["failed_after_s_a", "failed_after_s_b"]);
        let mut exp3 = placeholders(&exps[2].explanation.en);
        exp3.sort_unstable();
        exp3.dedup();
        assert_eq!(
            exp3,
            [
                "aborted_after_s_a",
                "downtime_ms_b",
                "downtime_ms_c",
                "iterations_a",
                "postcopy_faults_c",
                "throttle_pct_b",
                "total_s_b",
                "total_s_c"
            ]
        );
        // Experiment 3 compares the cancelled run with the two remedies that complete.
        let c3 = exps[2].compare.as_ref().unwrap();
        let outcome_of = |id: &str| match &exps[2].step(id).unwrap().done {
            Done::Migration { outcome, .. } => outcome.clone(),
            Done::Typed { .. } => None,
        };
        assert_eq!(outcome_of(&c3.a).as_deref(), Some("aborted"));
        assert_eq!(outcome_of(&c3.b).as_deref(), Some("completed"));
        assert_eq!(
            c3.c.as_deref().and_then(outcome_of).as_deref(),
            Some("completed")
        );
        let compare = exp1.compare.as_ref().unwrap();
        for (id, copy) in [(&compare.a, false), (&compare.b, true)] {
            assert_eq!(
                exp1.step(id).unwrap().done,
                Done::Migration {
                    vm: "db01".into(),
                    copy_storage_all: Some(copy),
                    outcome: Some("completed".into())
                }
            );
        }
    }

    /// The most important test: every step's command, run in order through the real lab shell
    /// (one shell per scenario, so state carries over), does what the step expects, and the
    /// facts it leaves make exactly that step done.
    #[test]
    fn every_step_command_works_in_the_lab_shell() {
        for exp in experiments() {
            let mut shells: BTreeMap<String, Shell> = BTreeMap::new();
            let mut typed_lines: Vec<(String, String)> = Vec::new();
            let mut runs: Vec<RunFact> = Vec::new();
            for (i, step) in exp.steps.iter().enumerate() {
                let scenario = exp.step_scenario(i).unwrap().to_string();
                let facts = LabFacts {
                    typed: &typed_lines,
                    runs: &runs,
                };
                assert!(
                    !step_done(&step.done, &scenario, &facts),
                    "{}: done before its command ran",
                    step.id
                );
                let Some(command) = &step.command else {
                    continue;
                };
                let sh = shells.entry(scenario.clone()).or_insert_with(|| {
                    let text = scenario_text(&scenario);
                    Shell::new(Scenario::from_toml_str(text).unwrap(), Lang::En)
                });
                let out = sh.run_line(command);
                eprintln!("[{}] {command}\n{}[exit {}]", step.id, out.text, out.status);
                typed_lines.push((scenario.clone(), command.clone()));
                while let Some(r) = sh.poll_run() {
                    runs.push(RunFact::from_shell_run(&scenario, &r));
                }
                match &step.done {
                    Done::Migration {
                        outcome: Some(o), ..
                    } => match o.as_str() {
                        "failed" => assert_ne!(out.status, 0, "{}: {}", step.id, out.text),
                        "completed" => assert_eq!(out.status, 0, "{}: {}", step.id, out.text),
                        _ => {}
                    },
                    // Any outcome counts (a migration that does not converge ends cancelled).
                    Done::Migration { outcome: None, .. } => {}
                    Done::Typed { .. } => {
                        assert_eq!(out.status, 0, "{}: {}", step.id, out.text);
                    }
                }
                assert!(
                    !out.text.contains("command not found") && !out.text.contains("hint: did you"),
                    "{}: {}",
                    step.id,
                    out.text
                );
                let facts = LabFacts {
                    typed: &typed_lines,
                    runs: &runs,
                };
                assert!(
                    step_done(&step.done, &scenario, &facts),
                    "{}: not done after its command; runs {runs:?}",
                    step.id
                );
                check_output(&step.id, &out.text);
            }
        }
    }

    /// What the key steps must show (libvirt's real errors, the CPU models, the disk copy).
    fn check_output(step: &str, text: &str) {
        let expect: &[&str] = match step {
            "exp1-shared-mount" => &["type nfs4"],
            "exp1-shared-ping" => &["packets transmitted", "[1]+  Done"],
            "exp1-shared-jobinfo" | "exp1-local-jobinfo" => &["Job type:         Completed"],
            "exp1-local-refused" => {
                &["error: Unsafe migration: Migration without shared storage is unsafe"]
            }
            "exp1-local-ping" => &["packets transmitted", "[1]+  Done"],
            "exp2-caps-source" => &["<model>Skylake-Client-noTSX-IBRS</model>"],
            "exp2-caps-destination" => &["<model>Haswell-noTSX-IBRS</model>"],
            "exp2-passthrough-xml" => &["<cpu mode='host-passthrough'"],
            // libvirt never compares a host-passthrough CPU: QEMU fails after the copy.
            "exp2-passthrough-migrate" => &[
                "Migration: [",
                "error: internal error: QEMU unexpectedly closed the monitor (vm='app01'): ",
                "Failed to set special registers: Invalid argument",
            ],
            "exp2-model-migrate" => &[
                "error: operation failed: guest CPU doesn't match specification: missing features: ",
            ],
            "exp2-baseline" | "exp2-baseline-xml" => &["Haswell-noTSX-IBRS</model>"],
            "exp2-baseline-migrate" => &["Migration: [100.00 %]"],
            // In the background: the job number, and the terminal is free.
            "exp3-watch" => &["[1] "],
            "exp3-jobinfo" => &["Job type:"],
            "exp3-abort" => &[
                "error: operation aborted: job 'migration out' canceled by client",
                "[1]+  Exit 1",
            ],
            "exp3-verify" => &["db01   running", "Job type:         None"],
            "exp3-bandwidth" => &["8796093022207", "canceled by client"],
            "exp3-downtime" => &["300", "Migration: [100.00 %]"],
            "exp3-auto-converge" | "exp3-postcopy" => &["Migration: [100.00 %]"],
            other => panic!("no expectation for step {other}"),
        };
        for needle in expect {
            assert!(text.contains(needle), "{step}: `{needle}` not in\n{text}");
        }
        if step == "exp1-local-jobinfo" {
            assert!(text.contains("File processed:"), "{text}");
        }
        if step == "exp1-shared-jobinfo" {
            assert!(!text.contains("File processed:"), "{text}");
        }
    }

    #[test]
    fn typed_steps_match_normalised_prefixes_in_their_scenario() {
        let done = Done::Typed {
            prefix: "virsh  capabilities".into(),
        };
        let lines = [
            typed(
                "exp2-cpu-models",
                "  virsh   capabilities |  grep -A5 '<model>'",
            ),
            typed("lesson", "virsh cpu-baseline both.xml"),
        ];
        let facts = LabFacts {
            typed: &lines,
            runs: &[],
        };
        assert!(step_done(&done, "exp2-cpu-models", &facts));
        assert!(!step_done(&done, "lesson", &facts), "wrong scenario");
        let baseline = Done::Typed {
            prefix: "virsh cpu-baseline".into(),
        };
        assert!(step_done(&baseline, "lesson", &facts));
        assert!(!step_done(&baseline, "exp2-cpu-models", &facts));
        // One command of a compound line counts; a longer word does not.
        let lines = [
            typed(
                "s",
                "virsh capabilities > both.xml; virsh  cpu-baseline both.xml",
            ),
            typed("s", "virsh capabilitiesx"),
        ];
        let facts = LabFacts {
            typed: &lines,
            runs: &[],
        };
        assert!(step_done(&baseline, "s", &facts));
        let only_x = LabFacts {
            typed: &lines[1..],
            runs: &[],
        };
        assert!(!step_done(&done, "s", &only_x));
        assert!(!step_done(&done, "s", &LabFacts::default()));
    }

    #[test]
    fn migration_steps_match_vm_storage_and_outcome() {
        let with_copy = Done::Migration {
            vm: "db01".into(),
            copy_storage_all: Some(true),
            outcome: Some("completed".into()),
        };
        let without_copy = Done::Migration {
            vm: "db01".into(),
            copy_storage_all: Some(false),
            outcome: None,
        };
        let any = Done::Migration {
            vm: "db01".into(),
            copy_storage_all: None,
            outcome: None,
        };
        let s = "exp1-no-shared-storage";
        let refused = [run(s, "db01", false, "failed")];
        let facts = LabFacts {
            typed: &[],
            runs: &refused,
        };
        assert!(!step_done(&with_copy, s, &facts));
        assert!(step_done(&without_copy, s, &facts));
        assert!(step_done(&any, s, &facts));
        assert!(
            !step_done(&any, "exp1-shared-storage", &facts),
            "wrong scenario"
        );
        let copied = [
            run(s, "db01", true, "failed"),
            run(s, "app01", true, "completed"),
        ];
        let facts = LabFacts {
            typed: &[],
            runs: &copied,
        };
        assert!(
            !step_done(&with_copy, s, &facts),
            "wrong outcome / wrong vm"
        );
        assert!(!step_done(&without_copy, s, &facts));
        let copied = [run(s, "db01", true, "completed")];
        let facts = LabFacts {
            typed: &[],
            runs: &copied,
        };
        assert!(step_done(&with_copy, s, &facts));
        assert!(!step_done(&without_copy, s, &facts));
    }

    #[test]
    fn placeholders_are_filled_and_unknown_ones_left() {
        let values: BTreeMap<String, String> = [
            ("downtime_ms_a".to_string(), "291".to_string()),
            ("total_s_b".to_string(), "227,9".to_string()),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            fill_placeholders(
                "a {downtime_ms_a} ms, b {total_s_b} s, {nope}, {not a name}, { , {",
                &values
            ),
            "a 291 ms, b 227,9 s, {nope}, {not a name}, { , {"
        );
        assert_eq!(
            placeholders("{a}{b_1} {x y} {"),
            vec!["a", "b_1"],
            "only names"
        );
        assert_eq!(fill_placeholders("", &values), "");
        assert_eq!(fill_placeholders("{{downtime_ms_a}}", &values), "{291}");
    }

    #[test]
    fn errors_name_the_line() {
        let step = "[[experiment.step]]\nid = \"s1\"\nscenario = \"lesson\"\ntext = { id = \"a\", en = \"b\" }\n";
        let head = "[[experiment]]\nid = \"e\"\ntitle = { id = \"a\", en = \"b\" }\n\
                    hypothesis = { id = \"a\", en = \"b\" }\nobservation = { id = \"a\", en = \"b\" }\n";
        let ok = format!(
            "{head}explanation = {{ id = \"a\", en = \"b\" }}\n{step}[experiment.step.done]\nkind = \"typed\"\nprefix = \"virsh\"\n"
        );
        assert_eq!(parse(&ok).unwrap()[0].steps[0].id, "s1");

        let unknown_kind = ok.replace("kind = \"typed\"", "kind = \"clicked\"");
        let e = parse(&unknown_kind).unwrap_err();
        assert!(
            matches!(
                e,
                LocatedError {
                    line: 12,
                    subject: None,
                    ..
                }
            ),
            "{e}"
        );

        let extra_field = ok.replace("prefix = \"virsh\"", "prefix = \"virsh\"\nvm = \"db01\"");
        assert!(matches!(
            parse(&extra_field).unwrap_err(),
            LocatedError { subject: None, .. }
        ));

        let placeholder = ok.replace("explanation = { id = \"a\"", "explanation = { id = \"{x}\"");
        let e = parse(&placeholder).unwrap_err();
        assert!(
            matches!(&e, LocatedError { line: 6, subject: Some(_), message, .. } if message.contains("`{x}`")),
            "{e}"
        );

        let outcome = ok.replace(
            "kind = \"typed\"\nprefix = \"virsh\"",
            "kind = \"migration\"\nvm = \"db01\"\noutcome = \"done\"",
        );
        let e = parse(&outcome).unwrap_err();
        assert!(
            matches!(
                &e,
                LocatedError {
                    line: 14,
                    column: Some(11),
                    subject: Some(_),
                    ..
                }
            ),
            "{e}"
        );

        let no_scenario = ok.replace("scenario = \"lesson\"\n", "");
        let e = parse(&no_scenario).unwrap_err();
        assert!(e.to_string().contains("must name a `scenario`"), "{e}");

        let empty_text = ok.replace("text = { id = \"a\", en = \"b\" }", "text = { en = \"b\" }");
        let e = parse(&empty_text).unwrap_err();
        assert!(
            matches!(
                &e,
                LocatedError {
                    line: 10,
                    subject: Some(_),
                    ..
                }
            ),
            "{e}"
        );

        let compare = ok.replace(
            "id = \"e\"\n",
            "id = \"e\"\ncompare = { a = \"s1\", b = \"s2\" }\n",
        );
        let e = parse(&compare).unwrap_err();
        assert!(e.to_string().contains("`s1` is not a step"), "{e}");

        let third = ok
            .replace(
                "id = \"e\"\n",
                "id = \"e\"\ncompare = { a = \"s1\", b = \"s1\" }\n",
            )
            .replace(
                "explanation = { id = \"a\", en = \"b\" }",
                "explanation = { id = \"{total_s_c}\", en = \"{total_s_c}\" }",
            );
        let e = parse(&third).unwrap_err();
        assert!(e.to_string().contains("names no `c` run"), "{e}");
    }
}
