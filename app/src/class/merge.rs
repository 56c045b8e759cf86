//! Merging students' profiles from many PCs into one class, per student and per answer.
//!
//! Invariants:
//! - **Idempotent.** An answer, a quiz and an observation are each keyed by what identifies
//!   them in the file they come from (an answer: quiz, question, time and how many identical
//!   keys came before it in that profile); merging a profile whose keys are all present already
//!   changes nothing, so importing the same file twice is a no-op.
//! - **Never silent.** Two names that differ only by case or spaces (`Ana` and `ana `) are
//!   not merged, nor is a student whose file disagrees with the class about one answer, quiz or
//!   observation: both are reported as [`Conflict`]s and that student's file is left out whole
//!   (merging half a disagreeing file would hide which half was right).
//! - **Totals follow the answers.** A merged profile's per-objective totals are recomputed from
//!   its answers, never added up from two files' totals (which would count shared answers twice).

use crate::progress::{Attempt, Observation, Profile, QuizRecord, valid_name};
use std::collections::{BTreeMap, HashMap};

/// Why one student's data from one file was not merged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The file (or class folder entry) it came from.
    pub source: String,
    /// The student's name as that file writes it.
    pub student: String,
    /// What disagrees.
    pub what: String,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: `{}` was not merged: {}",
            self.source, self.student, self.what
        )
    }
}

/// What a merge added, and what it refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// Students the class did not have.
    pub new_students: usize,
    /// Answers added.
    pub new_attempts: usize,
    /// Quizzes added (or newly marked complete).
    pub new_quizzes: usize,
    /// Observations added.
    pub new_observations: usize,
    /// Students left out, and why.
    pub conflicts: Vec<Conflict>,
}

impl MergeReport {
    /// Did the merge change the class?
    pub fn changed(&self) -> bool {
        self.new_students + self.new_attempts + self.new_quizzes + self.new_observations > 0
    }

    /// Add another report's counts and conflicts to this one.
    pub fn absorb(&mut self, other: MergeReport) {
        self.new_students += other.new_students;
        self.new_attempts += other.new_attempts;
        self.new_quizzes += other.new_quizzes;
        self.new_observations += other.new_observations;
        self.conflicts.extend(other.conflicts);
    }
}

/// The key two names share when they differ only by case or spaces: lower case, runs of
/// white space as one space, trimmed.
pub fn name_key(name: &str) -> String {
    name.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The students of a class, by exact (trimmed) name.
pub type Students = BTreeMap<String, Profile>;

/// Each entry's identity: `base` (what names it in a file), and how many earlier entries of
/// the same list share that base (two answers to one question in one second of a retry).
fn occurrence_keys<T, K: std::hash::Hash + Eq + Clone>(
    items: &[T],
    base: impl Fn(&T) -> K,
) -> Vec<(K, usize)> {
    let mut seen: HashMap<K, usize> = HashMap::new();
    items
        .iter()
        .map(|item| {
            let k = base(item);
            let n = seen.entry(k.clone()).or_default();
            let key = (k, *n);
            *n += 1;
            key
        })
        .collect()
}

/// The entries of `incoming` that `have` lacks, by identity; an entry whose identity is there
/// with other content is a disagreement, described by `differs(theirs, ours)`.
fn new_entries<T: PartialEq + Clone, K: std::hash::Hash + Eq + Clone>(
    have: &[T],
    incoming: &[T],
    base: impl Fn(&T) -> K,
    differs: impl Fn(&T, &T) -> String,
) -> Result<Vec<T>, String> {
    let index: HashMap<(K, usize), usize> = occurrence_keys(have, &base)
        .into_iter()
        .enumerate()
        .map(|(i, k)| (k, i))
        .collect();
    let mut added = Vec::new();
    for (key, item) in occurrence_keys(incoming, &base).into_iter().zip(incoming) {
        match index.get(&key) {
            Some(&i) if have[i] == *item => {}
            Some(&i) => return Err(differs(&have[i], item)),
            None => added.push(item.clone()),
        }
    }
    Ok(added)
}

/// Merge `incoming` (read from `source`) into `class`; see the module's invariants.
pub fn merge_profile(class: &mut Students, incoming: &Profile, source: &str) -> MergeReport {
    let mut report = MergeReport::default();
    let conflict = |what: String| Conflict {
        source: source.to_owned(),
        student: incoming.name.clone(),
        what,
    };
    let name = match valid_name(&incoming.name) {
        Ok(n) => n.to_owned(),
        Err(e) => {
            report.conflicts.push(conflict(e.to_string()));
            return report;
        }
    };
    if !class.contains_key(&name) {
        let key = name_key(&name);
        if let Some(other) = class.keys().find(|n| name_key(n) == key) {
            report.conflicts.push(conflict(format!(
                "the class has `{other}`, which differs only by case or spaces; rename one of \
                 them (if they are one student) or make the names distinct"
            )));
            return report;
        }
        let mut fresh = Profile::new(&name);
        report.new_students = 1;
        let r = merge_into(&mut fresh, incoming);
        match r {
            Ok(counts) => {
                report.add_counts(counts);
                class.insert(name, fresh);
            }
            Err(what) => report.conflicts.push(conflict(what)),
        }
        return report;
    }
    let Some(existing) = class.get_mut(&name) else {
        return report;
    };
    let mut merged = existing.clone();
    match merge_into(&mut merged, incoming) {
        Ok(counts) => {
            report.add_counts(counts);
            *existing = merged;
        }
        Err(what) => report.conflicts.push(conflict(what)),
    }
    report
}

/// (answers, quizzes, observations) added.
type Counts = (usize, usize, usize);

impl MergeReport {
    fn add_counts(&mut self, (a, q, o): Counts) {
        self.new_attempts += a;
        self.new_quizzes += q;
        self.new_observations += o;
    }
}

/// Add `incoming`'s answers, quizzes and observations to `into`, or say what disagrees (then
/// `into` is half-changed: the caller merges into a copy).
fn merge_into(into: &mut Profile, incoming: &Profile) -> Result<Counts, String> {
    let mut counts = (0, 0, 0);

    let added = new_entries(
        &into.attempts,
        &incoming.attempts,
        |a: &Attempt| (a.quiz.clone(), a.question.clone(), a.at),
        |ours, theirs| {
            format!(
                "its answer to `{}` at {} (quiz {}) differs from the class's (score {} there, \
                 {} here)",
                theirs.question,
                theirs.at,
                theirs.quiz.as_deref().unwrap_or("-"),
                ours.score,
                theirs.score
            )
        },
    )?;

    for q in &incoming.quizzes {
        match into.quizzes.iter_mut().find(|have| have.id == q.id) {
            None => {
                into.quizzes.push(q.clone());
                counts.1 += 1;
            }
            Some(have) => {
                if !same_quiz(have, q) {
                    return Err(format!("its quiz `{}` differs from the class's", q.id));
                }
                if have.completed.is_none() && q.completed.is_some() {
                    have.completed = q.completed;
                    counts.1 += 1;
                }
            }
        }
    }

    let added_obs = new_entries(
        &into.observations,
        &incoming.observations,
        |o: &Observation| (o.experiment.clone(), o.at),
        |_, theirs| {
            format!(
                "its observation on `{}` at {} differs from the class's",
                theirs.experiment, theirs.at
            )
        },
    )?;

    counts.0 = added.len();
    counts.2 = added_obs.len();
    into.attempts.extend(added);
    // One order whatever order the files came in (so merging is order-free): by time, then
    // by what identifies the entry; the sort is stable, so a retry's answers of one second to
    // one question keep their order.
    into.attempts
        .sort_by(|a, b| (a.at, &a.quiz, &a.question).cmp(&(b.at, &b.quiz, &b.question)));
    into.quizzes
        .sort_by(|a, b| (a.started, &a.id).cmp(&(b.started, &b.id)));
    into.observations.extend(added_obs);
    into.observations
        .sort_by(|a, b| (a.at, &a.experiment).cmp(&(b.at, &b.experiment)));
    recompute_totals(into);
    Ok(counts)
}

/// Equal but for `completed` (a later file may have the quiz finished; an earlier may not):
/// both set and different is a disagreement.
fn same_quiz(a: &QuizRecord, b: &QuizRecord) -> bool {
    a.started == b.started
        && a.taken_in == b.taken_in
        && a.seed == b.seed
        && a.questions == b.questions
        && (a.completed.is_none() || b.completed.is_none() || a.completed == b.completed)
}

fn recompute_totals(p: &mut Profile) {
    let attempts = std::mem::take(&mut p.attempts);
    p.objectives.clear();
    for a in attempts {
        p.record_attempt(a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_differ_by_case_or_spaces_share_a_key() {
        assert_eq!(name_key(" Ana  Putri "), name_key("ana putri"));
        assert_ne!(name_key("Ana Putri"), name_key("AnaPutri"));
    }
}
