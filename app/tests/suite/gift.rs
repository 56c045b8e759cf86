//! GIFT exchange: the shipped bank exported as GIFT and imported back gives the same questions,
//! answers and explanations for every kind GIFT has; a teacher's hand-written GIFT imports what
//! maps and lists the rest by line; hostile text never panics.

use crate::moodle_xml::{assert_round_trip, shipped};
use migralab_app::lms::gift;
use migralab_course::quiz::{Kind, Question};
use proptest::prelude::*;

/// `q` as GIFT carries it: as Moodle XML does, and with the options' order left to the quiz.
fn comparable(q: &Question) -> Question {
    let mut q = crate::moodle_xml::comparable(q);
    q.shuffle = true;
    q
}

#[test]
fn export_then_import_gives_the_same_questions_for_what_gift_has() {
    let bank = shipped();
    let migralab_app::lms::Exported {
        text,
        notes,
        questions,
    } = gift::export(&bank);
    let imported = gift::import(&text, "bank.gift").unwrap();
    let in_gift = |q: &Question| !matches!(q.kind(), Kind::Predict | Kind::Order);
    assert_round_trip(&bank, in_gift, &imported, comparable);
    assert_eq!(
        questions,
        bank.questions().iter().filter(|q| in_gift(q)).count()
    );
    for q in bank.questions().iter().filter(|q| q.kind() == Kind::Order) {
        assert!(
            notes
                .iter()
                .any(|n| n.contains(&format!("`{}`: GIFT has no ordering", q.id)))
        );
    }
}

#[test]
fn a_teachers_gift_imports_what_maps_and_lists_the_rest() {
    let text = "\
// made by hand
$CATEGORY: $course$/top/migralab/flag-live

::Live?::What does --live do? {
  =Keeps the VM running#Right.
  ~Pauses it#That is without --live.
  ####The VM keeps running.
}

::No feedback::Pick one {=a ~b}

::tf::The sky is blue {T}

$CATEGORY: $course$/top/Week 3

::other::Where? {=here#yes ~there#no}
";
    let imported = gift::import(text, "hand.gift").unwrap();
    assert_eq!(imported.questions.len(), 1, "{:#?}", imported.notes);
    let q = &imported.questions[0];
    assert_eq!((q.id.as_str(), q.kind.as_str()), ("live", "single"));
    assert_eq!(q.explanation.as_ref().unwrap().en, "The VM keeps running.");
    assert_eq!(q.options[1].why.en, "That is without --live.");
    let notes = imported.notes.join("\n");
    assert!(
        notes.contains("hand.gift:10: question `no-feedback` (multichoice): not imported"),
        "{notes}"
    );
    assert!(
        notes.contains("hand.gift:12: question `tf`: Moodle's `truefalse` type"),
        "{notes}"
    );
    assert!(
        notes.contains("hand.gift:16: question `other`: its category"),
        "{notes}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any text, and the exported bank mutated anywhere, is imported or refused: never a panic.
    #[test]
    fn hostile_gift_never_panics(s in any::<String>(), at in any::<usize>(), c in any::<char>()) {
        let _ = gift::import(&s, "x.gift");
        static GIFT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let text = GIFT.get_or_init(|| gift::export(&shipped()).text);
        let mut chars: Vec<char> = text.chars().collect();
        let i = at % chars.len();
        chars[i] = c;
        let mutated: String = chars.iter().collect();
        let _ = gift::import(&mutated, "x.gift");
        let head: String = chars[..i].iter().collect();
        let _ = gift::import(&head, "x.gift");
    }
}
