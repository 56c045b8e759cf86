//! The class as the instructor reads it: one row per student with mastery per learning
//! objective, each experiment's observation and measured numbers, and where the student is
//! stuck. Sorting and filtering are here, so the tab, the CSV and the HTML report agree.

use super::merge::Students;
use crate::progress::Profile;
use migralab_course::experiments::experiments;
use migralab_course::quiz::Objective;
use std::collections::BTreeMap;

/// Mastery below this share, with at least [`STUCK_MIN_ANSWERS`] answers, is "stuck".
pub const STUCK_BELOW: f64 = 0.5;
/// Answers on an objective before a low score counts as stuck (one slip is not).
pub const STUCK_MIN_ANSWERS: u32 = 2;

/// One experiment of one student.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExperimentCell {
    /// An observation was written (handed in).
    pub observed: bool,
    /// The numbers of the latest observation's compared runs.
    pub measured: BTreeMap<String, f64>,
}

/// One student.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassRow {
    /// The name.
    pub name: String,
    /// Mastery (points / answers, 0..1) per objective of [`Objective::ALL`]; none unanswered.
    pub mastery: Vec<Option<f64>>,
    /// Answers per objective of [`Objective::ALL`].
    pub asked: Vec<u32>,
    /// Every answer's score, averaged (none without answers).
    pub score: Option<f64>,
    /// Answers given.
    pub answers: usize,
    /// Quizzes taken to the end.
    pub quizzes_done: usize,
    /// Quizzes started and not finished.
    pub quizzes_open: usize,
    /// One cell per shipped experiment, in their order.
    pub experiments: Vec<ExperimentCell>,
    /// Objectives the student is stuck on.
    pub stuck: Vec<Objective>,
    /// The latest answer or observation, seconds since the epoch (0: none).
    pub last_active: u64,
}

impl ClassRow {
    /// The row of `p`.
    pub fn of(p: &Profile) -> ClassRow {
        let (mut mastery, mut asked, mut stuck) = (Vec::new(), Vec::new(), Vec::new());
        for o in Objective::ALL {
            let t = p.objectives.get(o.as_str());
            let m = t
                .filter(|t| t.asked > 0)
                .map(|t| t.points / f64::from(t.asked));
            if let (Some(m), Some(t)) = (m, t)
                && t.asked >= STUCK_MIN_ANSWERS
                && m < STUCK_BELOW
            {
                stuck.push(o);
            }
            mastery.push(m);
            asked.push(t.map_or(0, |t| t.asked));
        }
        let score = (!p.attempts.is_empty())
            .then(|| p.attempts.iter().map(|a| a.score).sum::<f64>() / p.attempts.len() as f64);
        let experiments = experiments()
            .iter()
            .map(|e| {
                let latest = p.observations.iter().rev().find(|o| o.experiment == e.id);
                ExperimentCell {
                    observed: latest.is_some(),
                    measured: latest.map(|o| o.measured.clone()).unwrap_or_default(),
                }
            })
            .collect();
        let last_active = p
            .attempts
            .iter()
            .map(|a| a.at)
            .chain(p.observations.iter().map(|o| o.at))
            .max()
            .unwrap_or(0);
        ClassRow {
            name: p.name.clone(),
            mastery,
            asked,
            score,
            answers: p.attempts.len(),
            quizzes_done: p.quizzes.iter().filter(|q| q.completed.is_some()).count(),
            quizzes_open: p.quizzes.iter().filter(|q| q.completed.is_none()).count(),
            experiments,
            stuck,
            last_active,
        }
    }
}

/// How the rows are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortBy {
    /// By name.
    #[default]
    Name,
    /// By overall score (unanswered last).
    Score,
    /// Most stuck objectives first.
    Stuck,
    /// Most recently active first.
    LastActive,
    /// By mastery of one objective (index into [`Objective::ALL`]; unanswered last).
    Objective(usize),
}

/// What is shown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ViewOptions {
    /// The order.
    pub sort: SortBy,
    /// Reverse it.
    pub descending: bool,
    /// Only names containing this (any case).
    pub filter: String,
    /// Only students stuck somewhere.
    pub only_stuck: bool,
}

/// The rows of `class`, filtered and sorted by `opts`.
pub fn rows(class: &Students, opts: &ViewOptions) -> Vec<ClassRow> {
    let needle = opts.filter.trim().to_lowercase();
    let mut rows: Vec<ClassRow> = class
        .values()
        .filter(|p| needle.is_empty() || p.name.to_lowercase().contains(&needle))
        .map(ClassRow::of)
        .filter(|r| !opts.only_stuck || !r.stuck.is_empty())
        .collect();
    // Unanswered sorts below every score, either direction: -1 is below 0.
    let num = |v: Option<f64>| v.unwrap_or(-1.0);
    rows.sort_by(|a, b| {
        let order = match opts.sort {
            SortBy::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            SortBy::Score => num(a.score).total_cmp(&num(b.score)),
            SortBy::Stuck => a.stuck.len().cmp(&b.stuck.len()),
            SortBy::LastActive => a.last_active.cmp(&b.last_active),
            SortBy::Objective(i) => num(a.mastery.get(i).copied().flatten()).total_cmp(&num(b
                .mastery
                .get(i)
                .copied()
                .flatten())),
        };
        let order = if opts.descending {
            order.reverse()
        } else {
            order
        };
        order.then_with(|| a.name.cmp(&b.name))
    });
    rows
}

/// The class's mastery of each objective (mean over the students who answered it).
pub fn class_mastery(rows: &[ClassRow]) -> Vec<Option<f64>> {
    (0..Objective::ALL.len())
        .map(|i| {
            let v: Vec<f64> = rows.iter().filter_map(|r| r.mastery[i]).collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        })
        .collect()
}
