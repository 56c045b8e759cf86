//! Tests of the quiz module: validation errors with file and line, grading of every kind,
//! deterministic shuffling, summaries, and the shipped bank.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use migralab_sim_core::RunOutcome;

/// The shipped bank, embedded (the crate does no I/O, not even in tests).
const SHIPPED: [(&str, &str); 5] = [
    (
        "concepts.toml",
        include_str!("../../../../assets/quizzes/concepts.toml"),
    ),
    (
        "prerequisites.toml",
        include_str!("../../../../assets/quizzes/prerequisites.toml"),
    ),
    (
        "virsh-migrate.toml",
        include_str!("../../../../assets/quizzes/virsh-migrate.toml"),
    ),
    (
        "errors.toml",
        include_str!("../../../../assets/quizzes/errors.toml"),
    ),
    (
        "operator.toml",
        include_str!("../../../../assets/quizzes/operator.toml"),
    ),
];

fn shipped() -> Bank {
    let located: Vec<Located<'_>> = SHIPPED
        .iter()
        .map(|(origin, text)| Located { text, origin })
        .collect();
    Bank::load(&located).unwrap_or_else(|e| panic!("{}", messages(&e)))
}

fn messages(errors: &[QuizError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn load_one(text: &str) -> Result<Bank, Vec<QuizError>> {
    Bank::load(&[Located {
        text,
        origin: "mine.toml",
    }])
}

fn errors_of(text: &str) -> Vec<QuizError> {
    match load_one(text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e,
    }
}

/// A valid single-choice question; tests break one thing at a time.
const SINGLE: &str = r#"[[question]]
id = "q1"
kind = "single"
objective = "flag-live"
prompt.id = "Tanya?"
prompt.en = "Ask?"

[[question.option]]
correct = true
text.id = "Ya"
text.en = "Yes"
why.id = "Karena."
why.en = "Because."

[[question.option]]
text.id = "Tidak"
text.en = "No"
why.id = "Bukan."
why.en = "Not so."
"#;

fn q(bank: &Bank, id: &str) -> Question {
    bank.get(id).cloned().expect("question")
}

fn outcome(status: &str, downtime_ms: u64, total_ms: u64, error: Option<&str>) -> RunOutcome {
    RunOutcome {
        status: status.into(),
        total_ms,
        downtime_ms,
        memory_bytes: 0,
        disk_bytes: 0,
        iterations: 3,
        error: error.map(Into::into),
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

#[test]
fn a_valid_question_loads() {
    let bank = load_one(SINGLE).unwrap_or_else(|e| panic!("{}", messages(&e)));
    let q = q(&bank, "q1");
    assert_eq!(q.kind(), Kind::Single);
    assert_eq!(q.objective, Objective::FlagLive);
    assert_eq!(q.at.line, 1);
    assert!(q.shuffle);
}

#[test]
fn unknown_key_names_file_line_and_column() {
    let text = SINGLE.replace("correct = true\n", "correct = true\nright = true\n");
    let e = errors_of(&text);
    assert_eq!(e.len(), 1);
    let msg = e[0].to_string();
    assert!(msg.starts_with("mine.toml:10:1: "), "{msg}");
    assert!(msg.contains("unknown field `right`"), "{msg}");
}

#[test]
fn unknown_objective_and_kind_are_schema_errors() {
    let e = errors_of(&SINGLE.replace("\"flag-live\"", "\"flag-liev\""));
    let msg = e[0].to_string();
    assert!(msg.starts_with("mine.toml:4:"), "{msg}");
    assert!(
        msg.contains("flag-liev") && msg.contains("flag-live"),
        "{msg}"
    );
    let e = errors_of(&SINGLE.replace("\"single\"", "\"essay\""));
    assert!(e[0].to_string().starts_with("mine.toml:3:"), "{}", e[0]);
}

#[test]
fn missing_translation_names_the_line() {
    let text = SINGLE.replace("text.en = \"No\"\n", "");
    let e = errors_of(&text);
    assert_eq!(e.len(), 1, "{}", messages(&e));
    let msg = e[0].to_string();
    // The option's `text` table starts on line 16 (text.id); no English text there.
    assert!(msg.starts_with("mine.toml:16:"), "{msg}");
    assert!(msg.contains("question `q1`"), "{msg}");
    assert!(
        msg.contains("missing translation") && msg.contains("English"),
        "{msg}"
    );

    let text = SINGLE.replace("prompt.id = \"Tanya?\"", "prompt.id = \"  \"");
    let msg = errors_of(&text)[0].to_string();
    assert!(msg.starts_with("mine.toml:5:"), "{msg}");
    assert!(msg.contains("Bahasa Indonesia"), "{msg}");
}

#[test]
fn missing_explanation_is_an_error() {
    let text = SINGLE.replace("why.id = \"Bukan.\"\nwhy.en = \"Not so.\"\n", "");
    let e = errors_of(&text);
    assert_eq!(e.len(), 1, "{}", messages(&e));
    let msg = e[0].to_string();
    // Reported where the second option starts.
    assert!(msg.starts_with("mine.toml:15:"), "{msg}");
    assert!(msg.contains("explanation (`why`) of option 2"), "{msg}");
}

#[test]
fn single_with_two_correct_options_is_an_error() {
    let text = SINGLE.replace(
        "[[question.option]]\ntext.id",
        "[[question.option]]\ncorrect = true\ntext.id",
    );
    let e = errors_of(&text);
    assert_eq!(e.len(), 1, "{}", messages(&e));
    let msg = e[0].to_string();
    assert!(msg.starts_with("mine.toml:16:"), "{msg}");
    assert!(msg.contains("exactly one correct option"), "{msg}");
    // The same options are fine for a multi question.
    assert!(load_one(&text.replace("\"single\"", "\"multi\"")).is_ok());
}

#[test]
fn keys_of_other_kinds_and_missing_kind_keys_are_errors() {
    let e = errors_of(&SINGLE.replace("objective", "answer = 3.0\nobjective"));
    let msg = messages(&e);
    assert!(
        msg.contains("mine.toml:4:1") && msg.contains("`answer` is not used by `single`"),
        "{msg}"
    );

    let numeric = r#"[[question]]
id = "n1"
kind = "numeric"
objective = "shared-storage-speed"
unit = "s"
prompt.id = "a"
prompt.en = "b"
"#;
    let msg = messages(&errors_of(numeric));
    assert!(msg.contains("needs `answer`"), "{msg}");
    assert!(msg.contains("needs `tolerance`"), "{msg}");
    assert!(msg.contains("need an `explanation`"), "{msg}");

    let command = r#"[[question]]
id = "c1"
kind = "command"
objective = "flag-live"
expected = "virsh migrate --live --persistant db01 qemu+ssh://h/system"
prompt.id = "a"
prompt.en = "b"
explanation.id = "c"
explanation.en = "d"
"#;
    let msg = messages(&errors_of(command));
    assert!(
        msg.contains("mine.toml:5:12") && msg.contains("doesn't support option --persistant"),
        "{msg}"
    );
}

#[test]
fn duplicate_ids_across_files_point_at_both() {
    let e = Bank::load(&[
        Located {
            text: SINGLE,
            origin: "a.toml",
        },
        Located {
            text: SINGLE,
            origin: "b.toml",
        },
    ])
    .err()
    .unwrap_or_default();
    let msg = messages(&e);
    assert!(
        msg.contains("b.toml:1:1") && msg.contains("already used at a.toml:1:1"),
        "{msg}"
    );
}

#[test]
fn an_empty_bank_is_an_error() {
    let msg = messages(&errors_of("# nothing\n"));
    assert!(msg.contains("no questions"), "{msg}");
}

#[test]
fn predict_options_need_distinct_expectations() {
    let text = r#"[[question]]
id = "p1"
kind = "predict"
objective = "flag-live"
scenario = "lesson"
prompt.id = "a"
prompt.en = "b"

[[question.option]]
correct = true
expect = { status = "completed" }
text = { id = "x", en = "y" }
why = { id = "x", en = "y" }

[[question.option]]
expect = { status = "completed" }
text = { id = "x", en = "y" }
why = { id = "x", en = "y" }

[[question.option]]
text = { id = "x", en = "y" }
why = { id = "x", en = "y" }
"#;
    let msg = messages(&errors_of(text));
    assert!(
        msg.contains("mine.toml:16:") && msg.contains("expect the same outcome"),
        "{msg}"
    );
    assert!(
        msg.contains("option 3 of a predict question needs `expect`"),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------------------------
// Grading
// ---------------------------------------------------------------------------------------------

#[test]
fn single_and_diagnose_grading() {
    let bank = shipped();
    let q = q(&bank, "def-what-is");
    let right = grade(&q, &Answer::Choice(0));
    assert!(right.correct && right.score == 1.0);
    assert_eq!(right.notes.len(), 4, "every option is explained");
    assert_eq!(right.notes[0].mark, Mark::Right);
    assert_eq!(right.notes[1].mark, Mark::Other);
    let wrong = grade(&q, &Answer::Choice(1));
    assert!(!wrong.correct && wrong.score == 0.0);
    assert_eq!(wrong.notes[0].mark, Mark::Missed);
    assert_eq!(wrong.notes[1].mark, Mark::Wrong);
    assert!(wrong.notes[1].text.en.contains("cold"));

    let d = q_diag(&bank);
    assert!(grade(&d, &Answer::Choice(0)).correct);
    assert!(!grade(&d, &Answer::Choice(2)).correct);
    assert!(!grade(&d, &Answer::Skipped).correct);
}

fn q_diag(bank: &Bank) -> Question {
    let q = q(bank, "err-firewall-ports");
    assert_eq!(q.kind(), Kind::Diagnose);
    q
}

#[test]
fn multi_partial_credit() {
    let bank = shipped();
    let q = q(&bank, "def-purposes"); // options 0,1,2 right; 3,4 wrong
    let all_right = grade(&q, &Answer::Choices(vec![2, 0, 1]));
    assert!(all_right.correct && all_right.score == 1.0);
    let two_of_three = grade(&q, &Answer::Choices(vec![0, 1]));
    assert!(!two_of_three.correct);
    assert!((two_of_three.score - 2.0 / 3.0).abs() < 1e-9);
    let with_a_wrong_one = grade(&q, &Answer::Choices(vec![0, 1, 2, 3]));
    assert!(!with_a_wrong_one.correct);
    assert!((with_a_wrong_one.score - 0.5).abs() < 1e-9);
    let everything = grade(&q, &Answer::Choices(vec![0, 1, 2, 3, 4]));
    assert_eq!(everything.score, 0.0);
    assert_eq!(grade(&q, &Answer::Choices(vec![3])).score, 0.0);
    assert_eq!(with_a_wrong_one.notes[3].mark, Mark::Wrong);
    assert_eq!(two_of_three.notes[2].mark, Mark::Missed);
}

#[test]
fn order_grading_with_partial_credit() {
    let bank = shipped();
    let q = q(&bank, "precopy-phases-order");
    let right = grade(&q, &Answer::Order(vec![0, 1, 2, 3, 4]));
    assert!(right.correct && right.score == 1.0);
    let swapped = grade(&q, &Answer::Order(vec![0, 2, 1, 3, 4]));
    assert!(!swapped.correct);
    assert!((swapped.score - 0.9).abs() < 1e-9);
    assert_eq!(swapped.notes[1].mark, Mark::Wrong);
    assert_eq!(swapped.notes[0].mark, Mark::Right);
    assert!(swapped.notes[1].text.en.starts_with("Step 2: "));
    assert_eq!(grade(&q, &Answer::Order(vec![4, 3, 2, 1, 0])).score, 0.0);
}

#[test]
fn command_answers_written_in_equivalent_ways_are_right() {
    let bank = shipped();
    let q = q(&bank, "persist-command");
    for answer in [
        "virsh migrate --live --persistent --undefinesource db01 qemu+ssh://kvm-host-02/system",
        "virsh migrate --undefinesource --persistent --live db01 qemu+ssh://kvm-host-02/system",
        "virsh migrate --live db01 qemu+ssh://root@kvm-host-02/system --persistent --undefinesource",
        "virsh migrate --live --persistent --undefinesource db01 qemu+ssh://kvm-host-02/system/",
        "virsh migrate --live --persistent --undefinesource --verbose db01 'qemu+ssh://root@kvm-host-02/system'",
        "$ sudo virsh migrate --domain db01 --desturi=qemu+ssh://kvm-host-02/system --live --persistent --undefinesource",
        "virsh -c qemu:///system migrate --live --persistent \\\n --undefinesource db01 qemu+ssh://kvm-host-02:22/system?no_tty=1",
    ] {
        let g = grade(&q, &Answer::Command(answer.into()));
        assert!(g.correct, "{answer}: {:?}", g.notes);
        assert_eq!(g.score, 1.0);
    }
    let tunnel = q_tunnel(&bank);
    for answer in [
        "virsh migrate --live --p2p --tunneled db01 qemu+ssh://kvm-host-02/system",
        "virsh migrate --tunnelled --live --p2p db01 qemu+ssh://root@kvm-host-02/system/",
    ] {
        assert!(
            grade(&tunnel, &Answer::Command(answer.into())).correct,
            "{answer}"
        );
    }
}

fn q_tunnel(bank: &Bank) -> Question {
    q(bank, "p2p-tunnelled-command")
}

fn wrong_notes(q: &Question, answer: &str) -> Vec<String> {
    let g = grade(q, &Answer::Command(answer.into()));
    assert!(!g.correct, "{answer} should be wrong");
    assert_eq!(g.score, 0.0);
    g.notes
        .iter()
        .filter(|n| n.mark == Mark::Wrong)
        .map(|n| n.text.en.clone())
        .collect()
}

#[test]
fn plausible_wrong_commands_get_specific_explanations() {
    let bank = shipped();
    // The lesson's mistake: --persistent where --undefinesource was asked for.
    let q1 = q(&bank, "persist-command");
    let notes = wrong_notes(
        &q1,
        "virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system",
    );
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("Missing --undefinesource")
            && notes[0].contains("removes nothing on the source"),
        "{notes:?}"
    );

    let live = q(&bank, "live-command");
    let notes = wrong_notes(
        &live,
        "virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system",
    );
    assert!(
        notes[0].contains("--persistent is not asked for") && notes[0].contains("does NOT remove"),
        "{notes:?}"
    );

    // Missing --live.
    let notes = wrong_notes(&live, "virsh migrate db01 qemu+ssh://kvm-host-02/system");
    assert!(
        notes[0].starts_with("Missing --live") && notes[0].contains("pauses the VM"),
        "{notes:?}"
    );

    // Wrong host: the source instead of the destination.
    let notes = wrong_notes(
        &live,
        "virsh migrate --live db01 qemu+ssh://kvm-host-01/system",
    );
    assert!(
        notes[0].contains("destination host is `kvm-host-02`, not `kvm-host-01`"),
        "{notes:?}"
    );

    // Not a URI, wrong transport, session instead of system, wrong VM.
    let notes = wrong_notes(&live, "virsh migrate --live db01 kvm-host-02");
    assert!(notes[0].contains("not a libvirt URI"), "{notes:?}");
    let notes = wrong_notes(
        &live,
        "virsh migrate --live db01 qemu+tcp://kvm-host-02/system",
    );
    assert!(
        notes[0].contains("`qemu+ssh://`, not `qemu+tcp://`"),
        "{notes:?}"
    );
    let notes = wrong_notes(
        &live,
        "virsh migrate --live db01 qemu+ssh://kvm-host-02/session",
    );
    assert!(notes[0].contains("`/system`"), "{notes:?}");
    let notes = wrong_notes(
        &live,
        "virsh migrate --live web01 qemu+ssh://kvm-host-02/system",
    );
    assert!(notes[0].contains("`db01`, not `web01`"), "{notes:?}");

    // A typo is what virsh itself would say.
    let notes = wrong_notes(
        &live,
        "virsh migrate --lvie db01 qemu+ssh://kvm-host-02/system",
    );
    assert!(
        notes[0].contains("doesn't support option --lvie"),
        "{notes:?}"
    );

    // --tunnelled without --p2p: the teacher's explanation.
    let notes = wrong_notes(
        &q_tunnel(&bank),
        "virsh migrate --live --tunnelled db01 qemu+ssh://kvm-host-02/system",
    );
    assert!(notes[0].contains("--tunnelled needs it"), "{notes:?}");

    // Every wrong answer still shows the model answer.
    let g = grade(&live, &Answer::Command("virsh list".into()));
    assert!(g.notes.iter().any(|n| {
        n.mark == Mark::Info
            && n.text
                .en
                .starts_with("Model answer: virsh migrate --live db01")
    }));
}

#[test]
fn numeric_grading_with_tolerance_and_pitfalls() {
    let bank = shipped();
    let q = q(&bank, "storage-ram-pass-time"); // 73.1 s ± 5 %
    for v in [73.1, 70.0, 76.7] {
        let g = grade(&q, &Answer::Number(v));
        assert!(g.correct, "{v}");
    }
    let low = grade(&q, &Answer::Number(68.0));
    assert!(!low.correct && low.notes[0].text.en.starts_with("Too low: 68 s"));
    let pitfall = grade(&q, &Answer::Number(8.0));
    assert!(
        pitfall
            .notes
            .iter()
            .any(|n| n.text.en.contains("1 GbE = 1 gigabit/s")),
        "{:?}",
        pitfall.notes
    );

    let abs = q_abs(&bank); // 33.6 MiB ± 1
    assert!(grade(&abs, &Answer::Number(34.5)).correct);
    assert!(!grade(&abs, &Answer::Number(34.7)).correct);
    assert!(
        grade(&abs, &Answer::Number(33600.0))
            .notes
            .iter()
            .any(|n| n.text.en.contains("milliseconds to seconds"))
    );
}

fn q_abs(bank: &Bank) -> Question {
    q(bank, "dirty-threshold")
}

#[test]
fn predictions_are_graded_against_the_simulated_outcome() {
    let bank = shipped();
    let q = q(&bank, "p2p-predict-firewall"); // option 0: completed; 1: failed with "49152"
    // Offline: the bank's expected answer.
    assert!(grade(&q, &Answer::Choice(0)).correct);
    // Against a run: the simulator decides.
    let completed = outcome("completed", 291, 9785, None);
    let g = grade_prediction(&q, &Answer::Choice(0), &completed);
    assert!(g.correct);
    assert_eq!(g.actual.as_ref(), Some(&completed));
    assert!(g.notes.iter().any(|n| n.mark == Mark::Info && n.text.en.starts_with("Simulator: completed in 9.8 s")));
    let failed = outcome(
        "failed",
        0,
        30,
        Some("unable to connect to server at 'kvm-host-02:49152': No route to host"),
    );
    let g = grade_prediction(&q, &Answer::Choice(0), &failed);
    assert!(!g.correct);
    assert_eq!(
        g.notes[1].mark,
        Mark::Missed,
        "the option that matches the run is shown"
    );
    assert!(grade_prediction(&q, &Answer::Choice(1), &failed).correct);
    assert!(
        g.notes
            .iter()
            .any(|n| n.text.en.contains("failed — error: unable to connect"))
    );

    let pc = q_postcopy(&bank); // downtime below 100 ms vs at least 100 ms
    assert!(
        grade_prediction(
            &pc,
            &Answer::Choice(0),
            &outcome("completed", 26, 36398, None)
        )
        .correct
    );
    assert!(
        grade_prediction(
            &pc,
            &Answer::Choice(1),
            &outcome("completed", 260, 36398, None)
        )
        .correct
    );
}

fn q_postcopy(bank: &Bank) -> Question {
    q(bank, "postcopy-predict")
}

#[test]
fn summary_per_objective_and_review_of_mistakes() {
    let bank = shipped();
    let results = vec![
        grade(&q(&bank, "def-what-is"), &Answer::Choice(0)),
        grade(&q(&bank, "def-purposes"), &Answer::Choices(vec![0, 1])),
        grade(
            &q(&bank, "live-command"),
            &Answer::Command("virsh migrate db01 qemu+ssh://kvm-host-02/system".into()),
        ),
        grade(&q(&bank, "live-without-flag"), &Answer::Skipped),
    ];
    let s = Summary::of(&results);
    assert_eq!(s.total.asked, 4);
    assert_eq!(s.total.correct, 1);
    let def = s.objectives[&Objective::DefinitionPurpose];
    assert_eq!((def.asked, def.correct), (2, 1));
    assert!((def.points - (1.0 + 2.0 / 3.0)).abs() < 1e-9);
    assert!((def.percent() - 83.333).abs() < 0.01);
    let live = s.objectives[&Objective::FlagLive];
    assert_eq!((live.asked, live.correct, live.points), (2, 0, 0.0));
    assert_eq!(
        review_mistakes(&results),
        vec!["def-purposes", "live-command", "live-without-flag"]
    );
    // Answering one right in a review round takes it off the list.
    let mut more = results.clone();
    more.push(grade(
        &q(&bank, "live-command"),
        &Answer::Command("virsh migrate --live db01 qemu+ssh://kvm-host-02/system".into()),
    ));
    assert_eq!(
        review_mistakes(&more),
        vec!["def-purposes", "live-without-flag"]
    );
}

// ---------------------------------------------------------------------------------------------
// Shuffling and answer input
// ---------------------------------------------------------------------------------------------

fn order_of(p: &[Presented<'_>]) -> Vec<(String, Vec<usize>)> {
    p.iter()
        .map(|x| (x.question.id.clone(), x.order.clone()))
        .collect()
}

#[test]
fn same_seed_same_quiz_other_seed_other_quiz() {
    let bank = shipped();
    let sel = |seed| Selection {
        seed,
        ..Selection::default()
    };
    let a = order_of(&plan(&bank, &sel(7)).unwrap());
    let b = order_of(&plan(&bank, &sel(7)).unwrap());
    let c = order_of(&plan(&bank, &sel(8)).unwrap());
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.len(), bank.questions().len());
    // Options are really shuffled for some questions, and every order is a permutation.
    assert!(a.iter().any(|(_, o)| o.windows(2).any(|w| w[0] > w[1])));
    for (_, o) in &a {
        let mut s = o.clone();
        s.sort_unstable();
        assert_eq!(s, (0..o.len()).collect::<Vec<_>>());
    }
}

#[test]
fn a_questions_option_order_does_not_depend_on_the_selection() {
    let bank = shipped();
    let all = plan(
        &bank,
        &Selection {
            seed: 3,
            ..Selection::default()
        },
    )
    .unwrap();
    let only = plan(
        &bank,
        &Selection {
            seed: 3,
            only: vec!["def-purposes".into(), "def-what-is".into()],
            ..Selection::default()
        },
    )
    .unwrap();
    assert_eq!(
        only[0].question.id, "def-purposes",
        "`only` keeps its order"
    );
    let in_all = all
        .iter()
        .find(|p| p.question.id == "def-purposes")
        .unwrap();
    assert_eq!(in_all.order, only[0].order);
    let by_objective = plan(
        &bank,
        &Selection {
            seed: 3,
            objective: Some(Objective::FlagPostcopy),
            count: Some(2),
            ..Selection::default()
        },
    )
    .unwrap();
    assert_eq!(by_objective.len(), 2);
    assert!(
        by_objective
            .iter()
            .all(|p| p.question.objective == Objective::FlagPostcopy)
    );
    assert!(matches!(
        plan(
            &bank,
            &Selection {
                only: vec!["nope".into()],
                ..Selection::default()
            }
        ),
        Err(QuizError::UnknownQuestion { .. })
    ));
}

#[test]
fn the_correct_answer_follows_the_shuffle() {
    let bank = shipped();
    for seed in [1, 2, 99] {
        for p in plan(
            &bank,
            &Selection {
                seed,
                ..Selection::default()
            },
        )
        .unwrap()
        {
            let letters: String = p
                .correct_letters()
                .iter()
                .map(char::to_string)
                .collect::<Vec<_>>()
                .join(",");
            if letters.is_empty() {
                continue; // command, numeric
            }
            let answer = p
                .parse_answer(&letters)
                .unwrap_or_else(|e| panic!("{}: {:?}", p.question.id, e));
            let g = grade(p.question, &answer);
            assert!(g.correct, "seed {seed}, {}: {letters}", p.question.id);
            // And a wrong letter is wrong.
            if matches!(p.question.kind(), Kind::Single | Kind::Diagnose) {
                let wrong = (0..p.order.len())
                    .map(Presented::letter)
                    .find(|l| !p.correct_letters().contains(l))
                    .unwrap();
                let g = grade(p.question, &p.parse_answer(&wrong.to_string()).unwrap());
                assert!(!g.correct);
            }
        }
    }
}

#[test]
fn order_steps_are_never_shown_in_the_right_order() {
    let bank = shipped();
    for seed in 0..50 {
        for p in plan(
            &bank,
            &Selection {
                seed,
                ..Selection::default()
            },
        )
        .unwrap()
        {
            if p.question.kind() == Kind::Order {
                assert!(p.order.iter().enumerate().any(|(i, o)| i != *o), "{seed}");
            }
        }
    }
}

#[test]
fn typed_answers_are_read_leniently() {
    let bank = shipped();
    let p = Presented {
        question: bank.get("def-purposes").unwrap(),
        order: vec![4, 3, 2, 1, 0],
    };
    assert_eq!(p.parse_answer("a, c"), Ok(Answer::Choices(vec![4, 2])));
    assert_eq!(p.parse_answer("A C"), Ok(Answer::Choices(vec![4, 2])));
    assert_eq!(p.parse_answer("ac"), Ok(Answer::Choices(vec![4, 2])));
    assert_eq!(p.parse_answer("lewati"), Ok(Answer::Skipped));
    assert_eq!(p.parse_answer("a,a"), Err(AnswerError::Repeated('a')));
    assert_eq!(
        p.parse_answer("f"),
        Err(AnswerError::OutOfRange {
            letter: 'f',
            last: 'e'
        })
    );
    assert!(matches!(
        p.parse_answer("1"),
        Err(AnswerError::NotLetters(_))
    ));
    assert_eq!(p.parse_answer(" "), Err(AnswerError::Empty));
    assert_eq!(p.letter_of(4), Some('a'));
    assert_eq!(
        p.items()[0].1.en,
        bank.get("def-purposes").unwrap().choices()[4].text.en
    );

    let single = Presented {
        question: bank.get("def-what-is").unwrap(),
        order: vec![0, 1, 2, 3],
    };
    assert_eq!(single.parse_answer("b)"), Ok(Answer::Choice(1)));
    assert_eq!(single.parse_answer("a,b"), Err(AnswerError::OneLetter));

    let order = Presented {
        question: bank.get("precopy-phases-order").unwrap(),
        order: vec![1, 0, 2, 3, 4],
    };
    assert_eq!(
        order.parse_answer("b a c d e"),
        Ok(Answer::Order(vec![0, 1, 2, 3, 4]))
    );
    assert_eq!(
        order.parse_answer("b,a"),
        Err(AnswerError::Incomplete { steps: 5 })
    );
    assert_eq!(order.correct_letters(), vec!['b', 'a', 'c', 'd', 'e']);

    let numeric = Presented {
        question: bank.get("storage-ram-pass-time").unwrap(),
        order: Vec::new(),
    };
    assert_eq!(numeric.parse_answer("73,1 s"), Ok(Answer::Number(73.1)));
    for e in [
        AnswerError::Empty,
        AnswerError::OneLetter,
        AnswerError::WrongUnit { unit: "s".into() },
    ] {
        let t = e.text();
        assert!(!t.id.is_empty() && !t.en.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// The shipped bank
// ---------------------------------------------------------------------------------------------

#[test]
fn shipped_bank_is_big_bilingual_and_covers_every_objective() {
    let bank = shipped();
    let stats = bank.stats();
    assert!(stats.questions >= 100, "{}", stats.questions);
    assert_eq!(stats.languages, vec!["id", "en"]);
    for o in Objective::ALL {
        let n = stats.objectives.get(o.as_str());
        assert!(n >= 3, "objective {} has {n} questions", o.as_str());
    }
    for k in Kind::ALL {
        assert!(stats.types.get(k.as_str()) >= 3, "kind {}", k.as_str());
    }
    for q in bank.questions() {
        for t in
            std::iter::once(&q.prompt).chain(q.choices().iter().flat_map(|c| [&c.text, &c.why]))
        {
            assert!(
                !t.id.trim().is_empty() && !t.en.trim().is_empty(),
                "{}",
                q.id
            );
            // Identical texts are fine only when they are code (`virsh net-list`).
            if !t.en.starts_with('`') {
                assert_ne!(t.id, t.en, "{}: untranslated text {:?}", q.id, t.en);
            }
        }
    }
    let json = serde_json::to_value(&stats).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4);
}

/// Issue 21's operator topics: a bank of at least 100, each topic asked at least twice in
/// `operator.toml`, and predict questions that run the busy-database scenarios.
#[test]
fn the_operators_topics_are_covered() {
    let bank = shipped();
    assert!(bank.questions().len() >= 100, "{}", bank.questions().len());
    let operator: Vec<&Question> = bank
        .questions()
        .iter()
        .filter(|q| q.at.origin == "operator.toml")
        .collect();
    assert!(
        operator.len() >= 25,
        "{} operator questions",
        operator.len()
    );
    for o in [
        Objective::Encryption,
        Objective::MigrationNetwork,
        Objective::DowntimeTuning,
        Objective::AbortRollback,
        Objective::DiskCacheMode,
        Objective::ReadDomjobinfo,
        Objective::FlagPostcopy,
        Objective::FlagAutoConverge,
    ] {
        let n = operator.iter().filter(|q| q.objective == o).count();
        assert!(n >= 2, "{}: {n} questions in operator.toml", o.as_str());
    }
    let busy_db_predictions = operator
        .iter()
        .filter(|q| matches!(&q.body, Body::Predict { scenario, .. } if scenario.starts_with("busy-db-")))
        .count();
    assert!(busy_db_predictions >= 3, "{busy_db_predictions}");
}

#[test]
fn the_lessons_mistakes_are_taught_right() {
    // The seed lesson says --persistent removes the source definition and that migration data
    // goes over SSH. The bank must say otherwise wherever it touches those points.
    let bank = shipped();
    let q1 = bank.get("persist-source-after").unwrap();
    let right = q1.choices().into_iter().find(|c| c.correct).unwrap();
    assert!(right.text.en.contains("still listed") && right.text.en.contains("does not remove"));
    let q2 = bank.get("prereq-ssh-what-for").unwrap();
    let right = q2.choices().into_iter().find(|c| c.correct).unwrap();
    assert!(right.text.en.contains("49152–49215"));
}

#[test]
fn objective_ids_round_trip() {
    for o in Objective::ALL {
        assert_eq!(Objective::from_id(o.as_str()), Some(o));
        let json = serde_json::to_string(&o).unwrap();
        assert_eq!(json, format!("\"{}\"", o.as_str()));
        assert!(!o.title().id.is_empty() && !o.title().en.is_empty());
    }
    assert_eq!(Objective::from_id("nope"), None);
}

#[test]
fn the_instructors_example_is_a_valid_bank_with_every_kind() {
    let doc = include_str!("../../../../assets/quizzes/EXAMPLE.md");
    let mut toml = String::new();
    let mut inside = false;
    for line in doc.lines() {
        match (inside, line.trim_end()) {
            (false, "```toml") => inside = true,
            (true, "```") => inside = false,
            (true, l) => {
                toml.push_str(l);
                toml.push('\n');
            }
            _ => {}
        }
    }
    let bank = Bank::load(&[Located {
        text: &toml,
        origin: "EXAMPLE.md",
    }])
    .unwrap_or_else(|e| panic!("{}", messages(&e)));
    for k in Kind::ALL {
        assert_eq!(bank.stats().types.get(k.as_str()), 1, "{}", k.as_str());
    }
    let c = bank.get("example-command").unwrap();
    let notes = grade(
        c,
        &Answer::Command(
            "virsh migrate --persistent --live web01 qemu+ssh://kvm-host-02/system".into(),
        ),
    )
    .notes;
    assert!(
        notes
            .iter()
            .any(|n| n.text.en.starts_with("Without --undefinesource, web01"))
    );
}

// Issue 5: command answers are graded by the lab shell's own `virsh migrate` parser.

/// A two-host lab with db01 running on kvm-host-01 on shared storage, for the lab's virsh.
fn issue_5_lab() -> migralab_shell::Shell {
    let lab = migralab_sim_core::Scenario::from_toml_str(
        r#"
name = "t"
seed = 7
[[host]]
name = "kvm-host-01"
ip = "192.168.100.11"
[[host]]
name = "kvm-host-02"
ip = "192.168.100.12"
[link]
bandwidth_mibps = 112.0
[storage]
kind = "shared"
[[vm]]
name = "db01"
host = "kvm-host-01"
ip = "192.168.100.50"
ram_mib = 256
disk_gib = 4.0
"#,
    )
    .unwrap();
    migralab_shell::Shell::new(lab, migralab_shell::Lang::En)
}

/// The first line the lab's virsh prints for `line`, and its exit status.
fn issue_5_shell_says(line: &str) -> (i32, String) {
    let out = issue_5_lab().run_line(line);
    let first = out.text.lines().next().unwrap_or_default().to_string();
    (out.status, first)
}

#[test]
fn issue_5_equivalent_command_answers_are_right() {
    let bank = shipped();
    let q = q(&bank, "persist-command");
    // Each line is also run by the lab's virsh: what the quiz accepts, the lab migrates.
    let also_in_the_lab = [
        // Flag order.
        "virsh migrate --undefinesource --live db01 --persistent qemu+ssh://kvm-host-02/system",
        // `--name=value` and `--name value`, named positionals.
        "virsh migrate --live --persistent --undefinesource --domain=db01 --desturi qemu+ssh://kvm-host-02/system",
        "virsh migrate --desturi=qemu+ssh://kvm-host-02/system --live --persistent --undefinesource --domain db01",
        // Quoted arguments.
        r#"virsh migrate --live --persistent --undefinesource "db01" 'qemu+ssh://kvm-host-02/system'"#,
        r#"virsh migrate "--live" --persistent --undefinesource --domain="db01" qemu+ssh://kvm-host-02/system"#,
        // virsh's global connection option, in its three spellings.
        "virsh -c qemu:///system migrate --live --persistent --undefinesource db01 qemu+ssh://kvm-host-02/system",
        "virsh --connect qemu:///system migrate --live --persistent --undefinesource db01 qemu+ssh://kvm-host-02/system",
        "virsh --connect=qemu:///system migrate --live --persistent --undefinesource db01 qemu+ssh://kvm-host-02/system",
        // Equivalent URIs: root@, trailing slash, the SSH port.
        "virsh migrate --live --persistent --undefinesource db01 qemu+ssh://root@kvm-host-02/system",
        "virsh migrate --live --persistent --undefinesource db01 qemu+ssh://kvm-host-02:22/system",
        // A line continuation and an allowed optional flag.
        "virsh migrate --live --persistent \\\n  --undefinesource --verbose db01 qemu+ssh://kvm-host-02/system",
    ];
    for answer in also_in_the_lab {
        let g = grade(&q, &Answer::Command(answer.into()));
        assert!(g.correct, "{answer}: {:?}", g.notes);
        let (status, first) = issue_5_shell_says(answer);
        assert_eq!(status, 0, "the lab's virsh refused {answer}: {first}");
    }
    // What a student pastes from a real host: a prompt, sudo, the program's path. And a trailing
    // slash after /system, which the quiz counts as the same libvirtd but the lab's URI check
    // (`shell::virsh::migrate::parse_uri`) refuses.
    for answer in [
        "virsh migrate --live --persistent --undefinesource db01 qemu+ssh://kvm-host-02/system/",
        "$ virsh migrate --live --persistent --undefinesource db01 qemu+ssh://kvm-host-02/system",
        "# virsh migrate --live --persistent --undefinesource db01 qemu+ssh://kvm-host-02/system",
        "sudo virsh migrate --live --persistent --undefinesource db01 qemu+ssh://kvm-host-02/system",
        "/usr/bin/virsh migrate --live --persistent --undefinesource db01 qemu+ssh://kvm-host-02/system",
    ] {
        let g = grade(&q, &Answer::Command(answer.into()));
        assert!(g.correct, "{answer}: {:?}", g.notes);
    }
    // virsh's alias --tunneled is --tunnelled, for the quiz and for the lab's virsh alike.
    let tunnel = q_tunnel(&bank);
    let answer = "virsh migrate --tunneled --p2p --live db01 qemu+ssh://kvm-host-02/system";
    assert!(grade(&tunnel, &Answer::Command(answer.into())).correct);
    let (_, first) = issue_5_shell_says(answer);
    assert!(!first.contains("doesn't support option"), "{first}");
}

#[test]
fn issue_5_plausible_wrong_commands_are_explained() {
    let bank = shipped();
    let persist = q(&bank, "persist-command");
    let live = q(&bank, "live-command");

    // Missing --live.
    let notes = wrong_notes(
        &persist,
        "virsh migrate --persistent --undefinesource db01 qemu+ssh://kvm-host-02/system",
    );
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("Missing --live"), "{notes:?}");

    // --persistent alone where --undefinesource was asked for too.
    let notes = wrong_notes(
        &persist,
        "virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system",
    );
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("Missing --undefinesource"), "{notes:?}");
    // ... and --persistent where only a live migration was asked for.
    let notes = wrong_notes(
        &live,
        "virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system",
    );
    assert!(
        notes[0].contains("--persistent is not asked for"),
        "{notes:?}"
    );

    // A one-dash "short form": virsh reads it as data (the domain), as the lab's virsh does.
    let notes = wrong_notes(&live, "virsh migrate -l db01 qemu+ssh://kvm-host-02/system");
    assert!(
        notes[0].contains("`-l` is not a virsh migrate option") && notes[0].contains("<domain>"),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.starts_with("Missing --live")),
        "{notes:?}"
    );
    let (status, first) = issue_5_shell_says("virsh migrate -l db01 qemu+ssh://kvm-host-02/system");
    assert_eq!(
        (status, first.as_str()),
        (1, "error: failed to get domain '-l'")
    );
}

#[test]
fn issue_5_refused_commands_are_refused_with_the_lab_virsh_words() {
    let bank = shipped();
    let live = q(&bank, "live-command");
    // (answer, virsh's message): the quiz quotes exactly what the lab's virsh prints.
    for (answer, message) in [
        // An unknown flag.
        (
            "virsh migrate --live --fast db01 qemu+ssh://kvm-host-02/system",
            "error: command 'migrate' doesn't support option --fast",
        ),
        // A typo'd flag, also as `--flag=value`.
        (
            "virsh migrate --lvie db01 qemu+ssh://kvm-host-02/system",
            "error: command 'migrate' doesn't support option --lvie",
        ),
        (
            "virsh migrate --live --undefinesorce db01 qemu+ssh://kvm-host-02/system",
            "error: command 'migrate' doesn't support option --undefinesorce",
        ),
        (
            "virsh migrate --live --desturl=qemu+ssh://kvm-host-02/system db01",
            "error: command 'migrate' doesn't support option --desturl",
        ),
        // Missing destination.
        (
            "virsh migrate --live db01",
            "error: command 'migrate' requires <desturi> option",
        ),
        // Missing everything but the flags.
        (
            "virsh migrate --live",
            "error: command 'migrate' requires <domain> option",
        ),
        // A value given to a flag.
        (
            "virsh migrate --live=yes db01 qemu+ssh://kvm-host-02/system",
            "error: invalid '=' after option --live",
        ),
        // A flag twice, through its alias.
        (
            "virsh migrate --live --tunnelled --tunneled db01 qemu+ssh://kvm-host-02/system",
            "error: option --tunnelled already seen",
        ),
        // A value option at the end with no value.
        (
            "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --bandwidth",
            "error: expected syntax: --bandwidth <number>",
        ),
        // Too many positional words.
        (
            "virsh migrate --live db01 qemu+ssh://kvm-host-02/system a b c d e",
            "error: unexpected data 'e'",
        ),
    ] {
        let notes = wrong_notes(&live, answer);
        assert_eq!(
            notes,
            vec![format!("virsh would reject this command: {message}")],
            "{answer}"
        );
        let (status, first) = issue_5_shell_says(answer);
        assert_eq!((status, first.as_str()), (1, message), "{answer}");
    }
    // Not a migrate command at all, and a line bash itself refuses.
    for (answer, says) in [
        (
            "virsh list --all",
            "`virsh list` is not the migrate command",
        ),
        ("virsh", "`virsh` alone runs no command"),
        ("ssh kvm-host-02", "`ssh` is not virsh"),
        (
            "virsh migrate --live db01 'qemu+ssh://kvm-host-02/system",
            "unterminated ' quote",
        ),
        (
            "virsh migrate --live db01 qemu+ssh://kvm-host-02/system; virsh list",
            "not several",
        ),
        ("virsh migrate --help", "--help only prints the help"),
        (
            "virsh -x migrate --live db01 qemu+ssh://kvm-host-02/system",
            "unsupported option '-x'",
        ),
    ] {
        let notes = wrong_notes(&live, answer);
        assert!(
            notes.len() == 1 && notes[0].contains(says),
            "{answer}: {notes:?}"
        );
    }
}

#[test]
fn issue_5_optional_flags_and_mistakes_accept_virsh_aliases() {
    // A bank may name a flag by virsh's alias; it means the canonical flag.
    let text = r#"[[question]]
id = "c1"
kind = "command"
objective = "flag-p2p-tunnelled"
expected = "virsh migrate --live --p2p db01 qemu+ssh://kvm-host-02/system"
optional_flags = ["--tunneled"]
prompt.id = "a"
prompt.en = "b"
explanation.id = "c"
explanation.en = "d"
"#;
    let bank = load_one(text).unwrap_or_else(|e| panic!("{}", messages(&e)));
    let c = bank.get("c1").unwrap();
    for answer in [
        "virsh migrate --live --p2p db01 qemu+ssh://kvm-host-02/system",
        "virsh migrate --live --p2p --tunnelled db01 qemu+ssh://kvm-host-02/system",
    ] {
        assert!(
            grade(c, &Answer::Command(answer.into())).correct,
            "{answer}"
        );
    }
    assert!(is_migrate_flag("--tunneled") && is_migrate_flag("live"));
    assert!(!is_migrate_flag("--bandwidth") && !is_migrate_flag("--lvie"));
}
