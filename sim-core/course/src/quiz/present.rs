//! Which questions a quiz asks, in which order, with the options in which order — all derived
//! from one seed — and turning what a student types (letters, a number, a command line) into an
//! [`Answer`] in terms of the options' original indices.

use super::grade::Answer;
use super::load::QuizError;
use super::{Bank, Body, Kind, Objective, Question};
use migralab_sim_core::rng::{FastRng, SeedTree};
use migralab_sim_core::text::Text;

/// Which questions to ask.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Seed of every shuffle: the same seed gives the same quiz.
    pub seed: u64,
    /// Only questions of this objective.
    pub objective: Option<Objective>,
    /// Only these questions, in this order (a "review my mistakes" round). Empty: all.
    pub only: Vec<String>,
    /// At most this many questions.
    pub count: Option<usize>,
}

/// A question as one student sees it: the order its options (or steps) are shown in.
#[derive(Debug, Clone, PartialEq)]
pub struct Presented<'a> {
    /// The question.
    pub question: &'a Question,
    /// `order[shown position] = original index` of the options or steps.
    pub order: Vec<usize>,
}

/// The questions of a quiz, in order, with their options shuffled.
///
/// Questions are shuffled unless `only` lists them; each question's options are shuffled with a
/// generator derived from the seed and the question's id, so a question looks the same whichever
/// other questions are selected. Errors name an id in `only` that the bank does not have.
pub fn plan<'a>(bank: &'a Bank, sel: &Selection) -> Result<Vec<Presented<'a>>, QuizError> {
    let mut tree = SeedTree::new(sel.seed);
    let mut question_rng = tree.derive();
    let option_seed = tree.derive().next_u64();
    let mut questions: Vec<&Question> = if sel.only.is_empty() {
        let mut qs: Vec<&Question> = bank
            .questions()
            .iter()
            .filter(|q| sel.objective.is_none_or(|o| q.objective == o))
            .collect();
        shuffle(&mut qs, &mut question_rng);
        qs
    } else {
        sel.only
            .iter()
            .map(|id| {
                bank.get(id)
                    .ok_or_else(|| QuizError::UnknownQuestion { id: id.clone() })
            })
            .collect::<Result<_, _>>()?
    };
    if let Some(n) = sel.count {
        questions.truncate(n);
    }
    Ok(questions
        .into_iter()
        .map(|q| {
            let mut rng = FastRng::new(option_seed ^ fnv1a(&q.id));
            let n = q.item_count();
            let mut order: Vec<usize> = (0..n).collect();
            let is_order = q.kind() == Kind::Order;
            if q.shuffle || is_order {
                shuffle(&mut order, &mut rng);
            }
            // Steps shown already in the right order would give the answer away.
            if is_order && n > 1 && order.iter().enumerate().all(|(i, o)| i == *o) {
                order.rotate_left(1);
            }
            Presented { question: q, order }
        })
        .collect())
}

/// Fisher–Yates with the seeded generator.
fn shuffle<T>(items: &mut [T], rng: &mut FastRng) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// FNV-1a: a stable hash of a question id (no RNG, the same everywhere).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Why a typed answer cannot be read. Shown to the student, who then tries again.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AnswerError {
    /// Nothing was typed.
    Empty,
    /// Something other than option letters.
    NotLetters(String),
    /// A letter past the last option.
    OutOfRange {
        /// The letter typed.
        letter: char,
        /// The last valid letter.
        last: char,
    },
    /// Several letters where one is expected.
    OneLetter,
    /// A letter given twice.
    Repeated(char),
    /// An order answer that does not list every step once.
    Incomplete {
        /// How many steps there are.
        steps: usize,
    },
    /// Not a number.
    NotANumber(String),
    /// A number with another unit than asked.
    WrongUnit {
        /// The unit asked for.
        unit: String,
    },
}

impl AnswerError {
    /// The message, in both languages.
    pub fn text(&self) -> Text {
        let (id, en) = match self {
            AnswerError::Empty => (
                "Jawaban kosong. Ketik jawabanmu (atau `lewati`).".to_string(),
                "Empty answer. Type your answer (or `skip`).".to_string(),
            ),
            AnswerError::NotLetters(s) => (
                format!("`{s}` bukan huruf pilihan. Jawab dengan huruf, mis. `b` atau `a,c`."),
                format!("`{s}` is not an option letter. Answer with letters, e.g. `b` or `a,c`."),
            ),
            AnswerError::OutOfRange { letter, last } => (
                format!("Tidak ada pilihan `{letter}`: pilihannya a sampai {last}."),
                format!("There is no option `{letter}`: the options are a to {last}."),
            ),
            AnswerError::OneLetter => (
                "Pilih satu huruf saja.".to_string(),
                "Choose one letter only.".to_string(),
            ),
            AnswerError::Repeated(c) => (
                format!("Huruf `{c}` disebut dua kali."),
                format!("Letter `{c}` is given twice."),
            ),
            AnswerError::Incomplete { steps } => (
                format!("Susun semua {steps} langkah, masing-masing sekali, mis. `c,a,b`."),
                format!("List all {steps} steps, each once, e.g. `c,a,b`."),
            ),
            AnswerError::NotANumber(s) => (
                format!("`{s}` bukan angka."),
                format!("`{s}` is not a number."),
            ),
            AnswerError::WrongUnit { unit } => (
                format!("Jawab dalam satuan {unit}."),
                format!("Answer in {unit}."),
            ),
        };
        Text { id, en }
    }
}

impl Presented<'_> {
    /// The letter shown at a position (`a`, `b`, ...).
    pub fn letter(pos: usize) -> char {
        char::from(b'a' + (pos.min(25) as u8))
    }

    /// The letter an original option (or step) is shown with.
    pub fn letter_of(&self, original: usize) -> Option<char> {
        self.order
            .iter()
            .position(|o| *o == original)
            .map(Presented::letter)
    }

    /// The options or steps as shown: `(letter, text)`.
    pub fn items(&self) -> Vec<(char, &Text)> {
        let texts: Vec<&Text> = match &self.question.body {
            Body::Order { steps } => steps.iter().map(|s| &s.text).collect(),
            _ => self.question.choices().iter().map(|c| &c.text).collect(),
        };
        self.order
            .iter()
            .enumerate()
            .filter_map(|(pos, o)| texts.get(*o).map(|t| (Presented::letter(pos), *t)))
            .collect()
    }

    /// The right answer as the student would type it: the correct letters (sorted), or for an
    /// order question the letters in the right sequence. Empty for free answers.
    pub fn correct_letters(&self) -> Vec<char> {
        match &self.question.body {
            Body::Order { steps } => (0..steps.len()).filter_map(|i| self.letter_of(i)).collect(),
            _ => {
                let mut v: Vec<char> = self
                    .question
                    .choices()
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.correct)
                    .filter_map(|(i, _)| self.letter_of(i))
                    .collect();
                v.sort_unstable();
                v
            }
        }
    }

    /// Read what the student typed. Letters map through the shuffle to original indices.
    /// `skip`/`lewati` gives [`Answer::Skipped`].
    pub fn parse_answer(&self, input: &str) -> Result<Answer, AnswerError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(AnswerError::Empty);
        }
        if matches!(input.to_lowercase().as_str(), "skip" | "lewati" | "lewat") {
            return Ok(Answer::Skipped);
        }
        match &self.question.body {
            Body::Single { .. } | Body::Diagnose { .. } | Body::Predict { .. } => {
                match self.letters(input)?.as_slice() {
                    [one] => Ok(Answer::Choice(*one)),
                    _ => Err(AnswerError::OneLetter),
                }
            }
            Body::Multi { .. } => Ok(Answer::Choices(self.letters(input)?)),
            Body::Order { steps } => {
                let v = self.letters(input)?;
                if v.len() != steps.len() {
                    return Err(AnswerError::Incomplete { steps: steps.len() });
                }
                Ok(Answer::Order(v))
            }
            Body::Command { .. } => Ok(Answer::Command(input.to_string())),
            Body::Numeric { unit, .. } => parse_number(input, unit).map(Answer::Number),
        }
    }

    /// Letters (`a,c`, `a c`, `ac`) → original indices, in the order typed.
    fn letters(&self, input: &str) -> Result<Vec<usize>, AnswerError> {
        let n = self.order.len();
        let mut chars = Vec::new();
        for tok in input.split(|c: char| c == ',' || c == ';' || c.is_whitespace()) {
            let tok = tok.trim().trim_end_matches([')', '.']);
            if tok.is_empty() {
                continue;
            }
            if !tok.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(AnswerError::NotLetters(tok.to_string()));
            }
            chars.extend(tok.chars().map(|c| c.to_ascii_lowercase()));
        }
        if chars.is_empty() {
            return Err(AnswerError::Empty);
        }
        let last = Presented::letter(n.saturating_sub(1));
        let mut out: Vec<usize> = Vec::new();
        for c in chars {
            let pos = (c as usize).wrapping_sub('a' as usize);
            let Some(original) = self.order.get(pos) else {
                return Err(AnswerError::OutOfRange { letter: c, last });
            };
            if out.contains(original) {
                return Err(AnswerError::Repeated(c));
            }
            out.push(*original);
        }
        Ok(out)
    }
}

/// A number as people type it: `73`, `73.1`, `73,1` (decimal comma), `≈ 73 s`, `73s`.
fn parse_number(input: &str, unit: &str) -> Result<f64, AnswerError> {
    let mut s = input
        .trim()
        .trim_start_matches(['~', '≈', '='])
        .trim()
        .to_string();
    let lower = s.to_lowercase();
    let unit_l = unit.to_lowercase();
    if !unit_l.is_empty() && lower.ends_with(&unit_l) {
        s.truncate(s.len() - unit.len());
        s = s.trim().to_string();
    }
    // Indonesian writes the decimal separator as a comma.
    if !s.contains('.') && s.matches(',').count() == 1 {
        s = s.replace(',', ".");
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => {
            let numeric_prefix: String = s
                .chars()
                .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'))
                .collect();
            if !numeric_prefix.is_empty() && numeric_prefix.parse::<f64>().is_ok() {
                Err(AnswerError::WrongUnit {
                    unit: unit.to_string(),
                })
            } else {
                Err(AnswerError::NotANumber(input.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_the_ways_students_type_them() {
        assert_eq!(parse_number("73", "s"), Ok(73.0));
        assert_eq!(parse_number("73,1", "s"), Ok(73.1));
        assert_eq!(parse_number("≈ 73.1 s", "s"), Ok(73.1));
        assert_eq!(parse_number("73S", "s"), Ok(73.0));
        assert_eq!(parse_number("33.6 MiB", "MiB"), Ok(33.6));
        assert_eq!(
            parse_number("1.2 min", "s"),
            Err(AnswerError::WrongUnit { unit: "s".into() })
        );
        assert!(matches!(
            parse_number("lots", "s"),
            Err(AnswerError::NotANumber(_))
        ));
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_ne!(fnv1a("a"), fnv1a("b"));
    }
}
