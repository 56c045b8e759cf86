//! The terminal escaper and the shell quoter of `migralab_sim_core::term`, over random strings:
//! nothing unsafe is left in what they print, and a quoted command line read back by a real
//! shell gives exactly the words it was made of.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use migralab_sim_core::term::{escape, escape_text, is_unsafe, shell_line};
use proptest::prelude::*;
use std::process::Command;

/// Characters that make quoting hard: shell syntax, quotes, whitespace, controls, bidi, unicode.
fn awkward_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::sample::select(vec![
            '\'', '"', '\\', '$', '`', ' ', '\t', '\n', '\r', '*', '?', '~', '#', '!', '&', ';',
            '|', '<', '>', '(', ')', '{', '}', '[', ']', '=', '%', '-', '\u{1b}', '\u{7f}',
            '\u{85}', '\u{9b}', '\u{202e}', '\u{2066}', '\u{200f}', '\u{2028}', 'é', '日',
        ]),
        proptest::char::range('a', 'z'),
        // Anything but NUL, which no argument can hold.
        any::<char>().prop_filter("NUL", |c| *c != '\0'),
    ]
}

fn word() -> impl Strategy<Value = String> {
    prop::collection::vec(awkward_char(), 0..12).prop_map(|cs| cs.into_iter().collect())
}

/// The words `shell` reads from `line`, as `printf '%s\0'` prints them.
fn read_back(shell: &str, line: &str) -> Vec<u8> {
    let out = Command::new(shell)
        .env("LC_ALL", "C")
        .arg("-c")
        .arg(format!("printf '%s\\0' {line}"))
        .output()
        .expect("run the shell");
    assert!(out.status.success(), "{shell} -c {line:?}: {out:?}");
    out.stdout
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn escaped_text_holds_nothing_a_terminal_acts_on(s in word()) {
        let e = escape(&s);
        prop_assert!(!e.chars().any(is_unsafe), "{e:?}");
        prop_assert_eq!(e == s, !s.chars().any(is_unsafe));
        let t = escape_text(&s);
        prop_assert!(!t.chars().any(|c| is_unsafe(c) && c != '\n' && c != '\t'), "{t:?}");
    }
}

proptest! {
    // Each case starts a shell (about 2 ms).
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn a_quoted_line_reads_back_as_its_words(words in prop::collection::vec(word(), 1..6)) {
        let line = shell_line(&words);
        prop_assert!(!line.chars().any(is_unsafe), "{line:?}");
        let expected: Vec<u8> = words.iter().flat_map(|w| w.bytes().chain([0])).collect();
        prop_assert_eq!(read_back("bash", &line), expected.clone(), "{}", line);
        // Words with nothing to escape use POSIX single quotes only: any sh reads them.
        if !words.iter().any(|w| w.chars().any(is_unsafe)) {
            prop_assert_eq!(read_back("sh", &line), expected, "{}", line);
        }
    }
}
