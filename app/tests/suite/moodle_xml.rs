//! Moodle XML exchange: the shipped bank exported is valid by Moodle's rules for each question
//! type (checked here from `qformat_xml` and the question types' save rules), and importing it
//! back gives the same questions, answers and explanations. Hostile XML never panics.

use migralab_app::lms::convert::Imported;
use migralab_app::lms::{bank_toml, moodle_export, moodle_import};
use migralab_app::quiz::BankSource;
use migralab_course::quiz::{Bank, Body, Kind, Question, Tolerance};
use proptest::prelude::*;
use roxmltree::{Document, Node};

pub(crate) fn shipped() -> Bank {
    BankSource::shipped().bank().unwrap()
}

fn child<'a, 'i>(n: Node<'a, 'i>, tag: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(tag))
}

fn text_in(n: Node<'_, '_>, tag: &str) -> Option<String> {
    child(child(n, tag)?, "text").map(|t| t.text().unwrap_or_default().to_owned())
}

/// Moodle's grade choices for an answer (`question_bank::fraction_options_full`), in percent;
/// an imported fraction off the list is rejected by the question form.
const GRADES: [f64; 21] = [
    100.0, 90.0, 83.33333, 80.0, 75.0, 70.0, 66.66667, 60.0, 50.0, 40.0, 33.33333, 30.0, 25.0,
    20.0, 16.66667, 14.28571, 12.5, 11.11111, 10.0, 5.0, 0.0,
];

fn on_grade_list(f: f64) -> bool {
    GRADES.iter().any(|g| (g - f.abs()).abs() < 1e-4)
}

/// The multilang spans of an HTML text are `id` then `en`, balanced; returns both bodies.
fn check_multilang(html: &str, what: &str) {
    let opens = html.matches("<span lang=").count();
    assert_eq!(
        opens,
        html.matches("</span>").count(),
        "{what}: unbalanced spans: {html}"
    );
    if opens > 0 {
        assert_eq!(opens, 2, "{what}: {html}");
        let id = html
            .find("<span lang=\"id\" class=\"multilang\">")
            .expect(what);
        let en = html
            .find("<span lang=\"en\" class=\"multilang\">")
            .expect(what);
        assert!(id < en, "{what}");
    }
}

/// Moodle's rules for the questions migralab writes; returns (type, name) per question.
fn check_moodle_xml(xml: &str) -> Vec<(String, String)> {
    let doc = Document::parse(xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "quiz");
    let mut seen = Vec::new();
    let mut category = None;
    for q in root.children().filter(|n| n.is_element()) {
        assert_eq!(q.tag_name().name(), "question");
        let qtype = q.attribute("type").expect("type attribute").to_owned();
        if qtype == "category" {
            let path = text_in(q, "category").expect("category/text");
            assert!(path.starts_with("$course$/top/"), "{path}");
            category = Some(path);
            continue;
        }
        assert!(category.is_some(), "a question before any category");
        let name = text_in(q, "name").expect("name/text");
        assert!(!name.trim().is_empty());
        let what = format!("{qtype} `{name}`");
        let qt = child(q, "questiontext").expect("questiontext");
        assert_eq!(qt.attribute("format"), Some("html"), "{what}");
        let html = text_in(q, "questiontext").unwrap();
        assert!(!html.trim().is_empty(), "{what}");
        check_multilang(html.split("<pre").next().unwrap(), &what);
        for tag in ["defaultgrade", "penalty", "hidden"] {
            let v = child(q, tag).and_then(|n| n.text()).expect(tag);
            v.parse::<f64>()
                .unwrap_or_else(|_| panic!("{what}: {tag} `{v}`"));
        }
        let answers: Vec<(f64, Node<'_, '_>)> = q
            .children()
            .filter(|n| n.has_tag_name("answer"))
            .map(|a| {
                let f = a
                    .attribute("fraction")
                    .expect("fraction")
                    .parse::<f64>()
                    .unwrap();
                assert!(child(a, "text").is_some(), "{what}: answer without text");
                if let Some(fb) = text_in(a, "feedback") {
                    check_multilang(&fb, &what);
                }
                (f, a)
            })
            .collect();
        let fractions: Vec<f64> = answers.iter().map(|a| a.0).collect();
        match qtype.as_str() {
            "multichoice" => {
                let single = child(q, "single").and_then(|n| n.text()).expect("single");
                assert!(matches!(single, "true" | "false"), "{what}");
                assert!(matches!(
                    child(q, "answernumbering").and_then(|n| n.text()),
                    Some("abc" | "ABCD" | "123" | "none")
                ));
                assert!(answers.len() >= 2, "{what}: fewer than 2 choices");
                assert!(
                    fractions.iter().all(|f| on_grade_list(*f)),
                    "{what}: {fractions:?}"
                );
                let max = fractions.iter().cloned().fold(f64::MIN, f64::max);
                if single == "true" {
                    // qtype_multichoice: one answer must have full marks.
                    assert!((max - 100.0).abs() < 1e-9, "{what}: {fractions:?}");
                } else {
                    // The positive fractions add up to 100 % (Moodle rounds the sum to 2 places
                    // of the 0..1 fraction).
                    let sum: f64 = fractions.iter().filter(|f| **f > 0.0).sum();
                    assert_eq!(
                        (sum / 100.0 * 100.0).round(),
                        100.0,
                        "{what}: {fractions:?}"
                    );
                    let neg: f64 = fractions.iter().filter(|f| **f < 0.0).sum();
                    assert!(neg >= -100.0 - 1e-3, "{what}");
                }
            }
            "numerical" => {
                assert!(fractions.contains(&100.0), "{what}: no full-marks answer");
                for (_, a) in &answers {
                    let v = child(*a, "text").and_then(|n| n.text()).unwrap();
                    assert!(v == "*" || v.parse::<f64>().is_ok(), "{what}: `{v}`");
                    let t = child(*a, "tolerance")
                        .and_then(|n| n.text())
                        .expect("tolerance");
                    assert!(t.parse::<f64>().unwrap() >= 0.0, "{what}");
                }
            }
            "shortanswer" => {
                assert!(matches!(
                    child(q, "usecase").and_then(|n| n.text()),
                    Some("0" | "1")
                ));
                assert!(fractions.contains(&100.0), "{what}: no full-marks answer");
                assert!(
                    fractions.iter().all(|f| on_grade_list(*f) && *f >= 0.0),
                    "{what}"
                );
            }
            "ordering" => {
                // qtype_ordering: at least 2 items; the fraction is the position, 1..n.
                assert!(answers.len() >= 2, "{what}");
                let mut pos = fractions.clone();
                pos.sort_by(f64::total_cmp);
                let want: Vec<f64> = (1..=answers.len()).map(|i| i as f64).collect();
                assert_eq!(pos, want, "{what}");
                for (tag, allowed) in [
                    ("layouttype", &["VERTICAL", "HORIZONTAL"][..]),
                    ("selecttype", &["ALL", "RANDOM", "CONTIGUOUS"][..]),
                    (
                        "gradingtype",
                        &[
                            "ALL_OR_NOTHING",
                            "ABSOLUTE_POSITION",
                            "RELATIVE_NEXT_EXCLUDE_LAST",
                            "RELATIVE_NEXT_INCLUDE_LAST",
                            "RELATIVE_ONE_PREVIOUS_AND_NEXT",
                            "RELATIVE_ALL_PREVIOUS_AND_NEXT",
                            "LONGEST_ORDERED_SUBSET",
                            "LONGEST_CONTIGUOUS_SUBSET",
                            "RELATIVE_TO_CORRECT",
                        ][..],
                    ),
                ] {
                    let v = child(q, tag).and_then(|n| n.text()).expect(tag);
                    assert!(allowed.contains(&v), "{what}: {tag} `{v}`");
                }
            }
            other => panic!("unexpected question type `{other}`"),
        }
        seen.push((qtype, name));
    }
    seen
}

/// `q` as the importer's would be: the location is where it was read, a percentage tolerance
/// becomes the absolute width Moodle has.
pub(crate) fn comparable(q: &Question) -> Question {
    let mut q = q.clone();
    if let Body::Numeric {
        answer, tolerance, ..
    } = &mut q.body
    {
        *tolerance = Tolerance::Absolute(tolerance.width(*answer));
    }
    q
}

#[test]
fn the_shipped_bank_exports_to_valid_moodle_xml() {
    let bank = shipped();
    let migralab_app::lms::Exported {
        text: xml,
        notes,
        questions,
    } = moodle_export::export(&bank);
    let seen = check_moodle_xml(&xml);
    let exported: Vec<&Question> = bank
        .questions()
        .iter()
        .filter(|q| q.kind() != Kind::Predict)
        .collect();
    assert_eq!(seen.len(), exported.len());
    assert_eq!(questions, exported.len());
    for kind in ["multichoice", "numerical", "shortanswer", "ordering"] {
        assert!(seen.iter().any(|(t, _)| t == kind), "no {kind} question");
    }
    // Every predict question is named in the notes.
    for q in bank
        .questions()
        .iter()
        .filter(|q| q.kind() == Kind::Predict)
    {
        assert!(
            notes.iter().any(|n| n.contains(&format!("`{}`", q.id))),
            "{}",
            q.id
        );
    }
}

/// The questions of `bank` that `exported` keeps came back as `imported`, equal once both
/// pass through `comparable`, and none was left out.
pub(crate) fn assert_round_trip(
    bank: &Bank,
    exported: impl Fn(&Question) -> bool,
    imported: &Imported,
    comparable: impl Fn(&Question) -> Question,
) {
    let back = Bank::from_toml_str(&bank_toml::to_toml(&imported.questions).unwrap()).unwrap();
    let exported: Vec<&Question> = bank.questions().iter().filter(|q| exported(q)).collect();
    assert_eq!(
        back.questions().len(),
        exported.len(),
        "{:#?}",
        imported.notes
    );
    for (orig, got) in exported.into_iter().zip(back.questions()) {
        let mut got = comparable(got);
        got.at = orig.at.clone();
        assert_eq!(got, comparable(orig), "question `{}`", orig.id);
    }
    // Nothing but renames of ids, and one-language texts, would be worth a note here.
    assert!(
        imported.notes.iter().all(|n| !n.contains("not imported")),
        "{:#?}",
        imported.notes
    );
}

#[test]
fn export_then_import_gives_the_same_questions_answers_and_explanations() {
    let bank = shipped();
    let xml = moodle_export::export(&bank).text;
    let imported = moodle_import::import(&xml, "bank.xml").unwrap();
    assert_round_trip(&bank, |q| q.kind() != Kind::Predict, &imported, comparable);
}

#[test]
fn a_moodle_made_bank_imports_what_maps_and_lists_the_rest() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category"><category><text>$course$/top/Default for Class/flag-live</text></category></question>
  <question type="multichoice">
    <name><text>Live flag?</text></name>
    <questiontext format="html"><text><![CDATA[<p>What does <b>--live</b> do?</p>]]></text></questiontext>
    <generalfeedback format="html"><text></text></generalfeedback>
    <single>true</single>
    <answer fraction="100" format="html"><text>Keeps the VM running</text><feedback format="html"><text>Right.</text></feedback></answer>
    <answer fraction="0" format="html"><text>Pauses it</text><feedback format="html"><text>That is without --live.</text></feedback></answer>
  </question>
  <question type="multichoice">
    <name><text>no feedback</text></name>
    <questiontext format="html"><text>Pick one</text></questiontext>
    <single>true</single>
    <answer fraction="100"><text>a</text></answer>
    <answer fraction="0"><text>b</text></answer>
  </question>
  <question type="essay">
    <name><text>essay</text></name>
    <questiontext format="html"><text>Explain.</text></questiontext>
  </question>
  <question type="category"><category><text>$course$/top/Week 3</text></category></question>
  <question type="truefalse">
    <name><text>tf</text></name>
    <questiontext format="html"><text>True?</text></questiontext>
  </question>
</quiz>"#;
    let imported = moodle_import::import(xml, "class.xml").unwrap();
    assert_eq!(imported.questions.len(), 1, "{:#?}", imported.notes);
    let q = &imported.questions[0];
    assert_eq!(
        (q.id.as_str(), q.objective.as_str()),
        ("live-flag", "flag-live")
    );
    assert_eq!(q.prompt.en, "What does --live do?");
    let notes = imported.notes.join("\n");
    assert!(
        notes.contains("class.xml:12: question `no-feedback` (multichoice): not imported"),
        "{notes}"
    );
    assert!(
        notes.contains("class.xml:19: question `essay`: Moodle's `essay` type"),
        "{notes}"
    );
    assert!(
        notes.contains("class.xml:24: question `tf`: its category `$course$/top/Week 3`"),
        "{notes}"
    );
}

#[test]
fn bad_xml_is_refused_with_its_line() {
    let err = moodle_import::import("<quiz>\n<question type=\"x\">\n</quiz>", "b.xml").unwrap_err();
    assert!(
        err.to_string().starts_with("b.xml:3: not well-formed XML"),
        "{err}"
    );
    let err = moodle_import::import("<x/>", "b.xml").unwrap_err();
    assert!(err.to_string().contains("not Moodle XML's <quiz>"), "{err}");
    // A DTD (entity expansion) is refused.
    let bomb =
        "<!DOCTYPE quiz [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><quiz>&b;</quiz>";
    assert!(moodle_import::import(bomb, "b.xml").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any text, and the exported bank cut or mutated anywhere, is imported or refused: never
    /// a panic.
    #[test]
    fn hostile_moodle_xml_never_panics(s in any::<String>(), cut in 0usize..60_000, byte in any::<u8>()) {
        let _ = moodle_import::import(&s, "x.xml");
        static XML: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let xml = XML.get_or_init(|| moodle_export::export(&shipped()).text);
        let mut bytes = xml.clone().into_bytes();
        let at = cut % bytes.len();
        bytes[at] = byte;
        let mutated = String::from_utf8_lossy(&bytes[..]).into_owned();
        let _ = moodle_import::import(&mutated, "x.xml");
        if let Some(head) = mutated.get(..at) {
            let _ = moodle_import::import(head, "x.xml");
        }
    }

    /// Bilingual texts survive HTML and XML escaping.
    #[test]
    fn texts_survive_multilang(id in "\\PC{1,40}", en in "\\PC{1,40}") {
        use migralab_app::lms::multilang::{from_html, to_html};
        use migralab_sim_core::text::Text;
        let t = Text::new(id.trim(), en.trim());
        prop_assume!(!t.id.is_empty() && !t.en.is_empty());
        let (back, _) = from_html(&to_html(&t));
        prop_assert_eq!(back, t);
    }
}
