//! What the Quiz tab shows, kept apart from drawing it: the question banks, and a quiz session
//! (which questions, the student's answer in progress, grading, rounds of "review my mistakes").
//!
//! Grading, shuffling and the per-objective summary are the course crate's
//! (`migralab_course::quiz`); reading a bank and running a "predict" question's scenario are the
//! CLI's ([`crate::quiz`]).
//! Nothing here draws, and nothing here writes files: the runtime records answers.

use crate::quiz::BankSource;
pub use crate::quiz::{bank_file_name, offered};
use crate::settings::Visible;
use migralab_course::quiz::{
    Answer, Bank, Body, Graded, Kind, Mark, Note, Objective, Presented, Question, QuizError,
    Selection, Summary, grade, grade_prediction, plan, review_mistakes,
};
use migralab_sim_core::lang::Lang;
use migralab_sim_core::text::Text;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

/// Which bank a quiz is taken from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BankChoice {
    /// The shipped bank (`assets/quizzes/`, built in).
    #[default]
    Shipped,
    /// A folder from the instructor's `quiz_dirs`.
    Folder(PathBuf),
}

/// A bank read and checked (the same check as `migralab quiz --check`).
#[derive(Debug)]
pub struct LoadedBank {
    /// Which bank.
    pub choice: BankChoice,
    /// Its files (`None` when the folder cannot be read).
    pub source: Option<BankSource>,
    /// The questions, or every error as `FILE:LINE:COLUMN: message`.
    pub bank: Result<Bank, Vec<String>>,
}

impl LoadedBank {
    /// Read and check a bank.
    pub fn load(choice: &BankChoice) -> LoadedBank {
        let source = match choice {
            BankChoice::Shipped => Ok(BankSource::shipped()),
            BankChoice::Folder(dir) => BankSource::read_dir(dir),
        };
        match source {
            Ok(source) => LoadedBank {
                choice: choice.clone(),
                bank: source.check(),
                source: Some(source),
            },
            Err(e) => LoadedBank {
                choice: choice.clone(),
                source: None,
                bank: Err(vec![format!("{e:#}")]),
            },
        }
    }

    /// The questions (none when the bank has errors).
    pub fn questions(&self) -> &[Question] {
        self.bank.as_ref().map_or(&[], Bank::questions)
    }

    /// A question by id.
    pub fn get(&self, id: &str) -> Option<&Question> {
        self.bank.as_ref().ok().and_then(|b| b.get(id))
    }
}

/// A question of a round: its id and the order its options (or steps) are shown in.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The question's id in the session's bank.
    pub id: String,
    /// `order[shown position] = original index` (see [`Presented`]).
    pub order: Vec<usize>,
    /// The answer and its grade, once given.
    pub result: Option<ItemResult>,
}

/// An answered question.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemResult {
    /// What the student answered.
    pub answer: Answer,
    /// How it was graded (with every option's explanation).
    pub graded: Graded,
}

impl ItemResult {
    /// Was the question skipped?
    pub fn skipped(&self) -> bool {
        self.answer == Answer::Skipped
    }
}

/// Which questions to ask, in which order: the CLI's seeded [`plan`], narrowed to the questions
/// students may see and the chosen objectives, then cut to `count`.
///
/// With no objective or exactly one chosen, and nothing hidden, this is the same quiz as
/// `migralab quiz [--objective ID] --seed N --count C`.
pub fn plan_quiz(
    bank: &Bank,
    visible: &Visible,
    objectives: &BTreeSet<Objective>,
    count: Option<usize>,
    seed: u64,
) -> Result<Vec<Item>, QuizError> {
    let objective = match objectives.len() {
        1 => objectives.first().copied(),
        _ => None,
    };
    let selection = Selection {
        seed,
        objective,
        only: Vec::new(),
        count: None,
    };
    let mut items: Vec<Item> = plan(bank, &selection)?
        .into_iter()
        .filter(|p| offered(p.question, visible))
        .filter(|p| objectives.is_empty() || objectives.contains(&p.question.objective))
        .map(|p| Item {
            id: p.question.id.clone(),
            order: p.order,
            result: None,
        })
        .collect();
    if let Some(n) = count {
        items.truncate(n);
    }
    Ok(items)
}

/// Where a quiz session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The current question waits for an answer.
    Answering,
    /// The current question was graded; its feedback is shown (practice mode only).
    Feedback,
    /// The round is over: scores and the review.
    Finished,
}

/// What the student has entered so far for the current question.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnswerInput {
    /// The chosen option (single, diagnose, predict), by original index.
    pub choice: Option<usize>,
    /// The ticked options (multi), by original index.
    pub chosen: BTreeSet<usize>,
    /// The steps as the student arranged them (order), by original index, first step first.
    pub order: Vec<usize>,
    /// The typed command or number.
    pub text: String,
}

/// Why the answer cannot be checked yet.
#[derive(Debug, Clone, PartialEq)]
pub enum InputProblem {
    /// No option chosen.
    NothingChosen,
    /// The typed answer cannot be read (sim-core's message, both languages).
    Unreadable(Text),
}

/// One quiz, possibly over several rounds (the first, then "review my mistakes" rounds).
#[derive(Debug, Clone)]
pub struct QuizSession {
    /// The bank the questions come from (kept, so a settings change cannot pull it away).
    pub bank: Arc<LoadedBank>,
    /// The first round's seed (later rounds use `seed + round`, like the CLI).
    pub seed: u64,
    /// Assessment mode: no feedback until the round is submitted. Fixed at the start.
    pub assessment: bool,
    /// Whose progress profile records the answers (`None`: not recorded).
    pub student: Option<String>,
    /// This round's questions.
    pub items: Vec<Item>,
    /// The question shown (an index into `items`).
    pub current: usize,
    /// Where the session stands.
    pub phase: Phase,
    /// The answer being entered.
    pub input: AnswerInput,
    /// Why the last "check" was refused.
    pub problem: Option<InputProblem>,
    /// Every graded answer of every round, oldest first.
    pub history: Vec<Graded>,
    /// 0 for the first round, then 1, 2, ... for each retry.
    pub round: u64,
}

impl QuizSession {
    /// A session over `items` (at least one).
    pub fn new(
        bank: Arc<LoadedBank>,
        items: Vec<Item>,
        seed: u64,
        assessment: bool,
        student: Option<String>,
    ) -> Option<QuizSession> {
        if items.is_empty() {
            return None;
        }
        let mut s = QuizSession {
            bank,
            seed,
            assessment,
            student,
            items,
            current: 0,
            phase: Phase::Answering,
            input: AnswerInput::default(),
            problem: None,
            history: Vec::new(),
            round: 0,
        };
        s.reset_input();
        Some(s)
    }

    /// Item `i` as the student sees it.
    pub fn presented(&self, i: usize) -> Option<Presented<'_>> {
        let item = self.items.get(i)?;
        Some(Presented {
            question: self.bank.get(&item.id)?,
            order: item.order.clone(),
        })
    }

    /// The question shown.
    pub fn current_presented(&self) -> Option<Presented<'_>> {
        self.presented(self.current)
    }

    /// Questions answered in this round.
    pub fn answered(&self) -> usize {
        self.items.iter().filter(|i| i.result.is_some()).count()
    }

    fn reset_input(&mut self) {
        self.problem = None;
        self.input = AnswerInput {
            order: self
                .items
                .get(self.current)
                .map(|i| i.order.clone())
                .unwrap_or_default(),
            ..AnswerInput::default()
        };
    }

    /// The answer entered so far, in terms of the options' original indices.
    pub fn answer(&self) -> Result<Answer, InputProblem> {
        let p = self
            .current_presented()
            .ok_or(InputProblem::NothingChosen)?;
        match &p.question.body {
            Body::Single { .. } | Body::Diagnose { .. } | Body::Predict { .. } => self
                .input
                .choice
                .map(Answer::Choice)
                .ok_or(InputProblem::NothingChosen),
            Body::Multi { .. } => {
                // In the order shown, as if typed letter by letter.
                let v: Vec<usize> = p
                    .order
                    .iter()
                    .copied()
                    .filter(|o| self.input.chosen.contains(o))
                    .collect();
                if v.is_empty() {
                    Err(InputProblem::NothingChosen)
                } else {
                    Ok(Answer::Choices(v))
                }
            }
            Body::Order { .. } => Ok(Answer::Order(self.input.order.clone())),
            Body::Command { .. } | Body::Numeric { .. } => p
                .parse_answer(&self.input.text)
                .map_err(|e| InputProblem::Unreadable(e.text())),
        }
    }

    /// Grade the current question (`skip`: as skipped). Returns the graded answer for the
    /// caller to record, or `None` when the answer cannot be read yet (see `problem`).
    pub fn submit(&mut self, skip: bool) -> Option<Graded> {
        if self.phase != Phase::Answering {
            return None;
        }
        let answer = if skip {
            Answer::Skipped
        } else {
            match self.answer() {
                Ok(a) => a,
                Err(p) => {
                    self.problem = Some(p);
                    return None;
                }
            }
        };
        let graded = {
            let q = self.bank.get(self.items.get(self.current)?.id.as_str())?;
            grade_answer(&self.bank, q, &answer)
        };
        self.problem = None;
        self.history.push(graded.clone());
        if let Some(item) = self.items.get_mut(self.current) {
            item.result = Some(ItemResult {
                answer,
                graded: graded.clone(),
            });
        }
        if self.assessment {
            self.next();
        } else {
            self.phase = Phase::Feedback;
        }
        Some(graded)
    }

    /// On to the next question, or to the results after the last.
    pub fn next(&mut self) {
        if self.current + 1 < self.items.len() {
            self.current += 1;
            self.phase = Phase::Answering;
            self.reset_input();
        } else {
            self.finish();
        }
    }

    /// End the round now (unanswered questions are left out of the scores, like the CLI when
    /// its input ends).
    pub fn finish(&mut self) {
        self.phase = Phase::Finished;
        self.problem = None;
    }

    /// This round's graded answers, in the order asked.
    pub fn round_results(&self) -> Vec<Graded> {
        self.items
            .iter()
            .filter_map(|i| i.result.as_ref().map(|r| r.graded.clone()))
            .collect()
    }

    /// Scores of this round, in total and per objective.
    pub fn summary(&self) -> Summary {
        Summary::of(&self.round_results())
    }

    /// The questions whose latest answer is not fully right (over every round).
    pub fn missed(&self) -> Vec<String> {
        review_mistakes(&self.history)
    }

    /// Start a round of the missed questions ("review my mistakes"); false when none is missed.
    pub fn retry_missed(&mut self) -> bool {
        let missed = self.missed();
        if missed.is_empty() {
            return false;
        }
        let round = self.round + 1;
        let selection = Selection {
            seed: self.seed.wrapping_add(round),
            objective: None,
            only: missed,
            count: None,
        };
        let Ok(bank) = &self.bank.bank else {
            return false;
        };
        let Ok(planned) = plan(bank, &selection) else {
            return false;
        };
        let items: Vec<Item> = planned
            .into_iter()
            .map(|p| Item {
                id: p.question.id.clone(),
                order: p.order,
                result: None,
            })
            .collect();
        if items.is_empty() {
            return false;
        }
        self.items = items;
        self.round = round;
        self.current = 0;
        self.phase = Phase::Answering;
        self.reset_input();
        true
    }

    /// Move step `pos` of the order being arranged one place up (`up`) or down.
    pub fn move_step(&mut self, pos: usize, up: bool) {
        let n = self.input.order.len();
        let other = if up {
            pos.checked_sub(1)
        } else {
            Some(pos + 1).filter(|p| *p < n)
        };
        if let Some(other) = other
            && pos < n
        {
            self.input.order.swap(pos, other);
        }
    }
}

/// Grade an answer; a "predict" question's scenario runs in the simulator first, and the
/// prediction is graded against what it really did.
fn grade_answer(bank: &LoadedBank, q: &Question, answer: &Answer) -> Graded {
    if q.kind() != Kind::Predict || *answer == Answer::Skipped {
        return grade(q, answer);
    }
    let run = match &bank.source {
        Some(source) => crate::quiz::simulate(source, q),
        None => Err(anyhow::anyhow!("the bank's files are not available")),
    };
    match run {
        Ok(actual) => grade_prediction(q, answer, &actual),
        Err(e) => {
            let mut g = grade(q, answer);
            let error = format!("{e:#}");
            g.notes.push(Note {
                mark: Mark::Info,
                item: None,
                text: both_langs(|lang| {
                    crate::tr!(lang, "quiz-sim-failed", error = error.as_str())
                }),
            });
            g
        }
    }
}

/// A UI message in both languages, for texts kept beside the bank's (which are bilingual).
pub fn both_langs(f: impl Fn(Lang) -> String) -> Text {
    Text {
        id: f(Lang::Id),
        en: f(Lang::En),
    }
}
