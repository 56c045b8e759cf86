//! Issue 22 "Done means": the question-bank loader takes anything — arbitrary text, and shipped
//! questions cut, spliced and mutated — and returns the bank or errors that say what is wrong,
//! never a panic. Bounded: a fixed number of cases, each on a few questions, not whole files.

use migralab_course::quiz::Bank;
use migralab_sim_core::located::Located;
use proptest::prelude::*;

const FILES: &[&str] = &[
    include_str!("../../../assets/quizzes/concepts.toml"),
    include_str!("../../../assets/quizzes/prerequisites.toml"),
    include_str!("../../../assets/quizzes/virsh-migrate.toml"),
    include_str!("../../../assets/quizzes/errors.toml"),
    include_str!("../../../assets/quizzes/operator.toml"),
];

/// Every shipped `[[question]]` with its options and steps, as text.
fn questions() -> Vec<String> {
    FILES
        .iter()
        .flat_map(|f| f.split("\n[[question]]\n").skip(1))
        .map(|q| format!("[[question]]\n{q}\n"))
        .collect()
}

/// One edit of a line-structured TOML text, applied at a position given as a fraction.
#[derive(Debug, Clone)]
enum Edit {
    DeleteLine(f64),
    DuplicateLine(f64),
    SwapLines(f64, f64),
    /// Replace what follows the first `=` of a line.
    ReplaceValue(f64, String),
    Insert(f64, String),
    Truncate(f64),
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = 0.0..1.0f64;
    let value = prop_oneof![
        Just(String::new()),
        Just("\"\"".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("true".to_string()),
        Just("-1".to_string()),
        Just("1e309".to_string()),
        Just("nan".to_string()),
        Just("18446744073709551616".to_string()),
        Just("\"\\u001b[2J\\u202e\"".to_string()),
        Just("[[1, 2], [3]]".to_string()),
        "[ -~]{0,24}",
        any::<String>(),
    ];
    prop_oneof![
        at.clone().prop_map(Edit::DeleteLine),
        at.clone().prop_map(Edit::DuplicateLine),
        (at.clone(), at.clone()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        (at.clone(), value.clone()).prop_map(|(a, v)| Edit::ReplaceValue(a, v)),
        (
            at.clone(),
            prop_oneof![
                value,
                Just("[[question]]\n".to_string()),
                Just("[[question.option]]\n".to_string()),
                Just("[[question.step]]\n".to_string()),
                Just("\0\u{feff}\r\n".to_string()),
            ]
        )
            .prop_map(|(a, s)| Edit::Insert(a, s)),
        at.prop_map(Edit::Truncate),
    ]
}

fn index(len: usize, at: f64) -> usize {
    ((len as f64 * at) as usize).min(len.saturating_sub(1))
}

fn apply(text: &str, e: &Edit) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let n = lines.len();
    match e {
        Edit::DeleteLine(a) => {
            lines.remove(index(n, *a));
        }
        Edit::DuplicateLine(a) => {
            let i = index(n, *a);
            lines.insert(i, lines[i].clone());
        }
        Edit::SwapLines(a, b) => lines.swap(index(n, *a), index(n, *b)),
        Edit::ReplaceValue(a, v) => {
            let i = index(n, *a);
            if let Some(eq) = lines[i].find('=') {
                lines[i] = format!("{}= {v}", &lines[i][..eq]);
            }
        }
        Edit::Insert(a, s) => {
            let i = index(n, *a);
            lines.insert(i, s.clone());
        }
        Edit::Truncate(a) => {
            let joined = lines.join("\n");
            let mut cut = index(joined.len() + 1, *a);
            while !joined.is_char_boundary(cut) {
                cut -= 1;
            }
            return joined[..cut].to_string();
        }
    }
    lines.join("\n")
}

/// The loader's answer is the bank, or errors each of which says something.
fn answered(files: &[Located<'_>]) -> Result<(), TestCaseError> {
    match Bank::load(files) {
        Ok(bank) => prop_assert!(!bank.questions().is_empty()),
        Err(errors) => {
            prop_assert!(!errors.is_empty());
            for e in &errors {
                prop_assert!(!e.to_string().trim().is_empty(), "{e:?}");
            }
        }
    }
    Ok(())
}

#[test]
fn every_shipped_question_loads_on_its_own() {
    let qs = questions();
    assert!(qs.len() >= 60, "{} questions", qs.len());
    for q in &qs {
        assert!(Bank::from_toml_str(q).is_ok(), "{q}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_is_a_bank_or_errors(text in prop_oneof![
        any::<String>(),
        "(\\[\\[question(\\.option|\\.step)?\\]\\]\n|[a-z._]{1,12} = [\"\\[\\]{}0-9a-z, .-]{0,20}\n){0,30}",
    ]) {
        answered(&[Located { text: &text, origin: "fuzz.toml" }])?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn mutated_shipped_questions_are_a_bank_or_errors(
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
        edits in prop::collection::vec(edit(), 0..6),
        split in any::<bool>(),
    ) {
        let qs = questions();
        let mut text: String = picks.iter().map(|i| i.get(&qs).as_str()).collect();
        for e in &edits {
            text = apply(&text, e);
        }
        if split {
            // The same questions as two files of one bank (ids must be unique across them).
            let mid = text.find("\n[[question]]").unwrap_or(text.len());
            let (a, b) = text.split_at(mid);
            answered(&[
                Located { text: a, origin: "a.toml" },
                Located { text: b, origin: "b.toml" },
            ])?;
        } else {
            answered(&[Located { text: &text, origin: "bank.toml" }])?;
        }
        // Unedited picks of distinct questions always load.
        if edits.is_empty() {
            let mut distinct: Vec<usize> = picks.iter().map(|i| i.index(qs.len())).collect();
            distinct.sort_unstable();
            distinct.dedup();
            let text: String = distinct.iter().map(|i| qs[*i].as_str()).collect();
            prop_assert!(Bank::from_toml_str(&text).is_ok(), "{text}");
        }
    }
}
