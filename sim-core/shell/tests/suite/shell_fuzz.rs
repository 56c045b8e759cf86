//! The lab shell never panics: arbitrary text (quotes, pipes, unicode, long lines) and random
//! sequences of the commands students actually type, hostile characters, lines around the
//! length limit and many background jobs, on the lesson's lab.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use migralab_shell::{Lang, Shell};
use migralab_sim_core::Scenario;
use proptest::prelude::*;

fn lesson() -> Scenario {
    Scenario::from_toml_str(include_str!("../../../../scenarios/lesson.toml")).unwrap()
}

/// Words, flags, operators and quotes the shell has to cope with.
const VOCABULARY: &[&str] = &[
    "virsh",
    "migrate",
    "--live",
    "--persistent",
    "--undefinesource",
    "--verbose",
    "--copy-storage-all",
    "--p2p",
    "--tunnelled",
    "--auto-converge",
    "--postcopy",
    "--postcopy-after-precopy",
    "--unsafe",
    "--bandwidth",
    "10",
    "--timeout",
    "2",
    "--timeout-postcopy",
    "--migrateuri",
    "tcp://10.0.0.2",
    "--offline",
    "db01",
    "web",
    "qemu+ssh://kvm-host-02/system",
    "qemu+ssh://root@192.168.100.12/system",
    "qemu:///system",
    "list",
    "--all",
    "--name",
    "dominfo",
    "domstate",
    "domjobinfo",
    "--completed",
    "domjobabort",
    "capabilities",
    "cpu-compare",
    "hypervisor-cpu-compare",
    "cpu-baseline",
    "caps.xml",
    "both.xml",
    "dumpxml",
    "domifaddr",
    "start",
    "shutdown",
    "destroy",
    "undefine",
    "migrate-setspeed",
    "migrate-getspeed",
    "migrate-setmaxdowntime",
    "migrate-getmaxdowntime",
    "migrate-postcopy",
    "-c",
    "help",
    "version",
    "ssh",
    "kvm-host-02",
    "kvm-host-01",
    "exit",
    "hostname",
    "ping",
    "-c",
    "3",
    "-i",
    "0.01",
    "-W",
    "1",
    "192.168.100.50",
    "grep",
    "-A5",
    "-v",
    "'<model>'",
    "\"db01\"",
    "|",
    ";",
    "&&",
    "||",
    "&",
    ">",
    ">>",
    "2>&1",
    "2>/dev/null",
    "cat",
    "/etc/hosts",
    "ls",
    "-l",
    "ip",
    "-br",
    "addr",
    "link",
    "show",
    "br0",
    "br1",
    "jobs",
    "wait",
    "fg",
    "sleep",
    "1",
    "echo",
    "'",
    "\"",
    "\\",
    "*",
    "~",
    "head",
    "tail",
    "wc",
    "-l",
    "scp",
    "kvm-host-02:",
    "ssh-copy-id",
    "root@kvm-host-02",
    "history",
    "cd",
    "..",
    "/var/lib/libvirt/images",
    "mount",
    "é",
    "日本",
    "#",
    "(",
    ")",
    "<",
    "0",
    "-1",
    "99999999999999999999",
];

/// Beginnings of the commands students type, so that random arguments reach every command.
const PREFIXES: &[&str] = &[
    "virsh migrate --live db01 qemu+ssh://kvm-host-02/system",
    "virsh migrate",
    "virsh",
    "virsh -c qemu+ssh://kvm-host-02/system",
    "ssh kvm-host-02",
    "ssh kvm-host-02 virsh",
    "ping -c 2",
    "ping -i 0.01 -c 50 192.168.100.50",
    "virsh capabilities |",
    "cat /etc/hosts |",
    "echo 192.168.100.12 kvm-host-02 >>",
    "grep",
    "ip",
    "ls",
    "scp",
    "virsh domjobinfo db01",
    "virsh list --all &&",
];

fn command_line() -> impl Strategy<Value = String> {
    (
        prop::sample::select(PREFIXES),
        prop::collection::vec(prop::sample::select(VOCABULARY), 0..10),
    )
        .prop_map(|(p, w)| format!("{p} {}", w.join(" ")))
}

fn token_line() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCABULARY), 1..24).prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(
        lines in prop::collection::vec(
            prop_oneof![
                any::<String>(),
                "[ -~]{0,200}",
                "[a-z'\"|;&<>()\\\\ *~#-]{0,80}",
                "\\PC{0,40}",
                "[a-z ]{2000,4000}",
            ],
            1..4,
        )
    ) {
        let mut sh = Shell::new(lesson(), Lang::Id);
        for line in &lines {
            let out = sh.run_line(line);
            prop_assert!(out.text.is_empty() || out.text.ends_with('\n'), "{:?}", out.text);
        }
    }

    #[test]
    fn random_command_sequences_never_panic(
        lines in prop::collection::vec(prop_oneof![token_line(), command_line()], 1..6)
    ) {
        let mut sh = Shell::new(lesson(), Lang::En);
        for line in &lines {
            let out = sh.run_line(line);
            prop_assert!(out.text.is_empty() || out.text.ends_with('\n'), "{:?}", out.text);
            prop_assert!(!sh.prompt().is_empty());
        }
    }
}

/// Characters a hostile or careless line holds: controls, DEL, C1, bidi, NUL, BOM.
fn hostile_char() -> impl Strategy<Value = char> {
    prop::sample::select(vec![
        '\u{0}', '\u{1b}', '\u{7}', '\u{8}', '\r', '\t', '\u{7f}', '\u{85}', '\u{9b}', '\u{202e}',
        '\u{2066}', '\u{2028}', '\u{feff}', 'a', ' ', '\'', '"', '&', '|', ';', '$', '`',
    ])
}

/// The shell is still usable: a plain command answers as it should.
fn still_answers(sh: &mut Shell) -> Result<(), TestCaseError> {
    if !sh.is_closed() {
        prop_assert_eq!(sh.run_line("echo still here").text, "still here\n");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn hostile_characters_in_commands_never_panic(
        prefix in prop::sample::select(PREFIXES),
        junk in prop::collection::vec(hostile_char(), 1..40),
        words in prop::collection::vec(prop::sample::select(VOCABULARY), 0..6),
    ) {
        let mut sh = Shell::new(lesson(), Lang::En);
        let junk: String = junk.into_iter().collect();
        for line in [format!("{prefix} {junk}"), format!("{junk} {}", words.join(" "))] {
            let out = sh.run_line(&line);
            prop_assert!(out.text.is_empty() || out.text.ends_with('\n'), "{:?}", out.text);
        }
        still_answers(&mut sh)?;
    }
}

proptest! {
    // Each case types lines of 60–70 thousand characters, around the shell's line limit.
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn lines_around_the_length_limit_never_panic(
        len in 60_000usize..70_000,
        word in prop::sample::select(VOCABULARY),
    ) {
        let mut sh = Shell::new(lesson(), Lang::En);
        let line: String = std::iter::repeat_n(word, len / (word.len() + 1) + 1)
            .collect::<Vec<_>>()
            .join(" ");
        let out = sh.run_line(&format!("echo {line}"));
        prop_assert!(out.text.ends_with('\n'));
        prop_assert!(out.text.len() <= 9 * 1024 * 1024);
        still_answers(&mut sh)?;
    }
}

proptest! {
    // Each case starts up to 200 background jobs, lists them and waits for them.
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn many_background_jobs_never_panic(
        jobs in prop::collection::vec(prop::sample::select(vec![
            "sleep 1 &",
            "sleep 30 &",
            "ping -c 3 192.168.100.50 &",
            "virsh migrate --live db01 qemu+ssh://kvm-host-02/system &",
            "virsh domjobinfo db01 &",
            "echo x &",
        ]), 1..200),
        per_line in 1usize..40,
    ) {
        let mut sh = Shell::new(lesson(), Lang::En);
        for chunk in jobs.chunks(per_line) {
            let out = sh.run_line(&chunk.join(" "));
            prop_assert!(out.text.is_empty() || out.text.ends_with('\n'), "{:?}", out.text);
        }
        for line in ["jobs", "jobs -l", "kill %1", "wait", "jobs"] {
            let out = sh.run_line(line);
            prop_assert!(out.text.is_empty() || out.text.ends_with('\n'), "{:?}", out.text);
        }
        still_answers(&mut sh)?;
    }
}
