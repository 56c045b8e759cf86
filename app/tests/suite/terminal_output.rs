//! Issue 22 §5, through the real binary: whatever a scenario, a trace, a file name or an argument
//! holds, no control or bidirectional formatting character reaches the terminal raw. Every hostile
//! string below is put in every place a command prints from: names and titles in scenario files,
//! the lab shell's input, file names in messages, trace contents. The escaper and the quoter
//! themselves are tested in `migralab_sim_core` (unit tests and `tests/suite/term.rs`).

use crate::common::{Run, Scratch, migralab_in, migralab_with};

/// One of each class a terminal acts on: C0 (ESC sequences, BEL, CR, backspace), DEL, C1 (CSI,
/// NEL), the bidirectional overrides and isolates, and the line separator. Each with its TOML
/// basic-string spelling.
const HOSTILE: &[(&str, &str)] = &[
    (
        "\u{1b}[2J\u{1b}]0;owned\u{7}",
        r"\u001b[2J\u001b]0;owned\u0007",
    ),
    ("a\rb\u{8}c", r"a\rb\bc"),
    ("x\u{7f}y", r"x\u007fy"),
    ("\u{9b}31m\u{85}", r"\u009b31m\u0085"),
    ("db01\u{202e}lmth.exe", r"db01\u202elmth.exe"),
    (
        "\u{2066}\u{2067}\u{2068}\u{2069}\u{200f}\u{61c}",
        r"\u2066\u2067\u2068\u2069\u200f\u061c",
    ),
    ("line\u{2028}sep\u{2029}", r"line\u2028sep\u2029"),
];

/// A character a terminal would act on; newlines and tabs are the program's own layout.
/// Written out here independently of `migralab_sim_core::term`, so a gap there shows.
fn acted_on(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
                | '\u{2028}' | '\u{2029}'
        )
}

/// Neither stream holds a raw control or bidi character.
fn clean(run: &Run, what: &str) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        if let Some(c) = text.chars().find(|c| acted_on(*c)) {
            panic!("{what}: raw U+{:04X} on {name}:\n{text:?}", u32::from(c));
        }
    }
}

/// A small valid scenario; `TITLE`, `HOST`, `VM` and `NAME` are replaced (as TOML basic-string
/// contents).
const SCENARIO: &str = r#"
name = "NAME"
[title]
en = "TITLE"
id = "TITLE"
[teaches]
en = "TITLE"
[[host]]
name = "HOST"
ip = "10.0.0.1"
[[host]]
name = "kvm-host-02"
ip = "10.0.0.2"
[link]
bandwidth_mibps = 1000.0
[storage]
kind = "shared"
[[vm]]
name = "VM"
host = "HOST"
ram_mib = 64
ip = "10.0.0.50"
[[migration]]
vm = "VM"
to = "kvm-host-02"
[sim]
max_time_s = 30.0
"#;

fn scenario(name: &str, title: &str, host: &str, vm: &str) -> String {
    SCENARIO
        .replace("NAME", name)
        .replace("TITLE", title)
        .replace("HOST", host)
        .replace("VM", vm)
}

#[test]
fn titles_from_a_scenario_are_printed_escaped() {
    let dir = Scratch::new("termout", "titles");
    for (i, (raw, toml)) in HOSTILE.iter().enumerate() {
        let file = format!("t{i}.toml");
        dir.write(&file, &scenario("t", toml, "kvm-host-01", "db01"));
        let run = migralab_in(dir.as_path(), &["sim", &file]);
        clean(&run, &format!("sim with title {raw:?}"));
        assert_eq!(run.code, 0, "{}", run.stderr);
        let first = run.stdout.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("Scenario t: ") && first.contains(r"\u{"),
            "the title, escaped, on the first line: {first:?}"
        );
        // The lab shell's banner shows the title too (piped stdin: banner, then the session).
        let run = migralab_with(
            dir.as_path(),
            &["shell", &file, "--lang", "en"],
            Some("virsh list --all\n"),
        );
        clean(&run, &format!("shell banner with title {raw:?}"));
        assert!(run.stdout.contains(r"\u{"), "{}", run.stdout);
        assert!(run.stdout.contains("db01"), "{}", run.stdout);
        // And `--set` reaches the same place.
        let set = format!("title.en=\"{toml}\"");
        let run = migralab_in(dir.as_path(), &["sim", "lesson", "--set", &set]);
        clean(&run, &format!("sim --set {set}"));
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
}

#[test]
fn names_with_control_characters_are_refused_and_shown_escaped() {
    let dir = Scratch::new("termout", "names");
    for (i, (raw, toml)) in HOSTILE.iter().enumerate() {
        let host = format!("h{toml}");
        let vm = format!("v{toml}");
        for (which, text) in [
            (
                "name",
                scenario(&format!("n{toml}"), "t", "kvm-host-01", "db01"),
            ),
            ("host.0.name", scenario("t", "t", &host, "db01")),
            ("vm.0.name", scenario("t", "t", "kvm-host-01", &vm)),
        ] {
            let file = format!("n{i}.toml");
            dir.write(&file, &text);
            for args in [
                vec!["sim", file.as_str()],
                vec!["preflight", file.as_str()],
                vec!["shell", file.as_str(), "-c", "virsh list --all"],
            ] {
                let run = migralab_in(dir.as_path(), &args);
                clean(&run, &format!("{args:?} with {which} holding {raw:?}"));
                assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
                assert!(
                    run.stderr.contains(which)
                        && run.stderr.contains("control or bidirectional")
                        && run.stderr.contains(r"\u{"),
                    "{args:?}: {}",
                    run.stderr
                );
            }
        }
    }
}

#[test]
fn what_is_typed_into_the_lab_shell_comes_back_escaped() {
    let dir = Scratch::new("termout", "shell");
    for (raw, _) in HOSTILE {
        let line = format!("echo {raw}; virsh dominfo '{raw}'; {raw}");
        let run = migralab_in(dir.as_path(), &["shell", "lesson", "-c", &line]);
        clean(&run, &format!("shell -c {line:?}"));
        assert!(run.stdout.contains(r"\u{"), "{}", run.stdout);
        // Piped, each line is echoed after the prompt.
        let run = migralab_with(
            dir.as_path(),
            &["shell", "lesson"],
            Some(&format!("{line}\n")),
        );
        clean(&run, &format!("shell < {line:?}"));
    }
}

#[test]
fn file_names_and_broken_files_in_messages_are_escaped() {
    let dir = Scratch::new("termout", "files");
    for (i, (raw, _)) in HOSTILE.iter().enumerate() {
        // A scenario file whose name is hostile, and whose TOML error quotes a raw line.
        let bad = format!("bad{i}{raw}.toml");
        dir.write(&bad, &format!("name = 't'\ntitle = 3{raw}\n"));
        let run = migralab_in(dir.as_path(), &["sim", &bad]);
        clean(&run, &format!("sim on a broken file {bad:?}"));
        assert_eq!(run.code, 2, "{}", run.stderr);
        // A valid run written to a hostile --out: `wrote PATH`.
        let out = format!("out{i}{raw}.json");
        let run = migralab_in(dir.as_path(), &["sim", "lesson", "--json", "--out", &out]);
        clean(&run, &format!("sim --out {out:?}"));
        assert!(
            run.code == 0 && run.stderr.starts_with("wrote ") && run.stderr.contains(r"\u{"),
            "{}",
            run.stderr
        );
        assert!(dir.path(&out).exists(), "the file itself keeps its name");
        // `report` on that run (its name is hostile), and on a hand-made trace whose VM names,
        // sources and messages are.
        let csv = format!("c{i}{raw}.csv");
        let run = migralab_in(dir.as_path(), &["report", &out, "--csv", &csv]);
        clean(&run, &format!("report {out:?}"));
        assert_eq!(run.code, 0, "{}", run.stderr);
        let trace = format!(
            r#"{{"format": 1, "backend": "sim{raw}", "seed": 0, "scenario": {{"name": "s{raw}"}},
               "events": [{{"t_ms": 0.0, "source": "{raw}", "kind": "garbage{raw}"}}]}}"#
        )
        .replace('\u{1b}', r"\u001b")
        .replace('\r', r"\r")
        .replace('\u{8}', r"\b")
        .replace('\u{7}', r"\u0007");
        dir.write("hand.json", &trace);
        let run = migralab_in(dir.as_path(), &["report", "hand.json", "--csv", &csv]);
        clean(&run, &format!("report on a hand-made trace {trace:?}"));
    }
}
