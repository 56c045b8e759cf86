//! One vocabulary (issue 20 §4): no shipped text uses a variant `assets/glossary.toml` lists as
//! unwanted.
//!
//! "Shipped text" is every text a student reads: the lesson, the experiments, the quiz bank, the
//! scenario files, the app's Fluent catalogs, the string literals of the Rust sources (preflight,
//! the lab shell's hints and messages, reports, real mode), and, run for real, what preflight and
//! the lab shell print for every shipped scenario in both languages. Each failure names the file
//! (or the scenario and command) and the line.

use migralab_course::glossary::{Line, TextLang, normalize, strip_quoted, violations};
use migralab_shell::Shell;
use migralab_sim_core::lang::Lang;
use migralab_sim_core::preflight::preflight;
use migralab_sim_core::{Located, Scenario};
use std::path::{Path, PathBuf};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn read(rel: &str) -> String {
    let path = format!("{ROOT}/{rel}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn toml_files(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(format!("{ROOT}/{dir}"))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| format!("{dir}/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    v.sort();
    v
}

/// A whole file in one language (Markdown lesson, Fluent catalog). A Fluent message's key
/// (`topo-guest-on = ...`) is a name, not text: only its value is kept.
fn lines_of(rel: &str, lang: TextLang) -> Vec<Line> {
    let fluent = rel.ends_with(".ftl");
    read(rel)
        .lines()
        .enumerate()
        .map(|(i, t)| {
            let text = match t.split_once(" = ") {
                Some((key, value))
                    if fluent
                        && !key.is_empty()
                        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
                {
                    value
                }
                _ => t,
            };
            Line {
                origin: rel.to_string(),
                line: i + 1,
                lang,
                text: text.to_string(),
            }
        })
        .collect()
}

/// A TOML content file: a value's language is its key's last segment (`id`/`en`, as in
/// `why.id = "..."` or `[title]` + `id = "..."`); multi-line strings keep their key's language.
/// Values without a space (`id = "err-guest-cpu-mismatch"`) are identifiers, not prose.
fn toml_lines(rel: &str) -> Vec<Line> {
    toml_lines_in(rel, &read(rel))
}

fn toml_lines_in(rel: &str, src: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut open: Option<(&str, TextLang)> = None; // closing delimiter of a multi-line string
    for (i, raw) in src.lines().enumerate() {
        let mut lang = TextLang::Unknown;
        let mut text = raw.to_string();
        if let Some((delim, l)) = open {
            lang = l;
            if raw.contains(delim) {
                open = None;
            }
        } else if let Some((key, value)) = raw.split_once('=')
            && !raw.trim_start().starts_with('#')
            && !raw.trim_start().starts_with('[')
        {
            let last = key
                .trim()
                .rsplit('.')
                .next()
                .unwrap_or("")
                .trim_matches('"');
            let value = value.trim();
            lang = match last {
                "id" => TextLang::Id,
                "en" => TextLang::En,
                _ => TextLang::Unknown,
            };
            for delim in ["\"\"\"", "'''"] {
                if let Some(rest) = value.strip_prefix(delim)
                    && !rest.contains(delim)
                {
                    open = Some((delim, lang));
                }
            }
            // The string's content, without TOML's own quotes (which would hide it all from
            // the quote-stripping prose check).
            let inner = value
                .trim_start_matches(['"', '\''])
                .trim_end_matches(['"', '\''])
                .replace("\\\"", "\"");
            if !inner.contains(char::is_whitespace) && open.is_none() {
                lang = TextLang::Unknown;
            }
            text = inner;
        }
        out.push(Line {
            origin: rel.to_string(),
            line: i + 1,
            lang,
            text,
        });
    }
    out
}

/// Every string literal of a Rust file, with the line it starts on (language unknown: the
/// Indonesian-only words are checked). Comments are skipped.
fn rust_string_literals(rel: &str) -> Vec<Line> {
    rust_string_literals_in(rel, &read(rel))
}

fn rust_string_literals_in(rel: &str, src: &str) -> Vec<Line> {
    let b: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let push = |out: &mut Vec<Line>, line: usize, s: String| {
        out.push(Line {
            origin: rel.to_string(),
            line,
            lang: TextLang::Unknown,
            text: s,
        })
    };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            '/' if next == Some('/') => {
                while i < b.len() && b[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                    line += usize::from(b[i] == '\n');
                    i += 1;
                }
                i += 2;
            }
            'r' if (next == Some('"') || next == Some('#'))
                && !b[..i]
                    .last()
                    .is_some_and(|p| p.is_alphanumeric() || *p == '_') =>
            {
                // Raw string r"..." / r#"..."#.
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&'"') {
                    i += 1;
                    continue;
                }
                let start_line = line;
                let mut s = String::new();
                j += 1;
                while j < b.len() {
                    if b[j] == '"' && (1..=hashes).all(|k| b.get(j + k) == Some(&'#')) {
                        break;
                    }
                    line += usize::from(b[j] == '\n');
                    s.push(b[j]);
                    j += 1;
                }
                push(&mut out, start_line, s);
                i = j + 1 + hashes;
            }
            '"' => {
                let start_line = line;
                let mut s = String::new();
                let mut j = i + 1;
                while j < b.len() && b[j] != '"' {
                    if b[j] == '\\' {
                        // `\` + newline continues the string without the next line's indent.
                        j += 1;
                        match b.get(j) {
                            Some('\n') => {
                                while b.get(j + 1).is_some_and(|c| c.is_whitespace()) {
                                    j += 1;
                                    line += usize::from(b[j] == '\n');
                                }
                                line += 1;
                            }
                            Some('n') => s.push('\n'),
                            Some(&e) => s.push(e),
                            None => {}
                        }
                    } else {
                        line += usize::from(b[j] == '\n');
                        s.push(b[j]);
                    }
                    j += 1;
                }
                push(&mut out, start_line, s);
                i = j + 1;
            }
            '\'' => {
                // A char literal ('"', '\'', '\n') or a lifetime ('a).
                if next == Some('\\') {
                    let mut j = i + 2;
                    while j < b.len() && b[j] != '\'' {
                        j += 1;
                    }
                    i = j + 1;
                } else if b.get(i + 2) == Some(&'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn load_scenario(rel: &str) -> Scenario {
    let text = read(rel);
    Scenario::load(
        Located {
            text: &text,
            origin: rel,
        },
        &[],
    )
    .unwrap_or_else(|e| panic!("{e:#}"))
}

/// What preflight says and what the lab shell prints, for every shipped scenario in both
/// languages: the texts built in code, assembled as a student sees them.
fn runtime_lines() -> Vec<Line> {
    let mut out = Vec::new();
    // A shell line printed alike in every scenario is checked (and reported) once.
    let mut shell_seen = std::collections::BTreeSet::new();
    for rel in toml_files("scenarios") {
        let sc = load_scenario(&rel);
        // Preflight of the scenario's migrations, and of every VM to every other host.
        let mut specs = sc.migrations.clone();
        if let Some(first) = sc.migrations.first() {
            for vm in &sc.vms {
                for h in sc.hosts.iter().filter(|h| h.name != vm.host) {
                    if specs.iter().any(|s| s.vm == vm.name && s.to == h.name) {
                        continue;
                    }
                    let mut s = first.clone();
                    s.vm = vm.name.clone();
                    s.to = h.name.clone();
                    specs.push(s);
                }
            }
        }
        for spec in &specs {
            let Ok(report) = preflight(&sc, spec) else {
                continue;
            };
            let origin = format!(
                "preflight of {} {} → {} ({rel})",
                spec.vm, report.from, report.to
            );
            for c in &report.checks {
                for (what, t) in [
                    ("title", &c.title),
                    ("evidence", &c.evidence),
                    ("fix", &c.fix),
                ] {
                    for (lang, text) in [(TextLang::Id, &t.id), (TextLang::En, &t.en)] {
                        for (i, l) in text.lines().enumerate() {
                            out.push(Line {
                                origin: format!("{origin}, {:?}.{what}", c.id),
                                line: i + 1,
                                lang,
                                text: l.to_string(),
                            });
                        }
                    }
                }
            }
        }
        // The lab shell: help, typos (hints), and each migration the scenario teaches (its
        // errors and hints).
        let mut commands: Vec<String> = [
            "help",
            "virsh help",
            "virsh migrat",
            "vrish list",
            "virsh list --al",
            "virsh dominfo db0",
            "virsh list --all",
            "virsh capabilities",
            "virsh domjobinfo db01",
        ]
        .into_iter()
        .map(str::to_string)
        .collect();
        commands.extend(sc.migrations.iter().map(|m| m.virsh_command()));
        commands.push("virsh domjobinfo db01 --completed".into());
        for lang in [Lang::Id, Lang::En] {
            let mut shell = Shell::new(sc.clone(), lang);
            for cmd in &commands {
                let printed = shell.run_line(cmd);
                for (i, l) in printed.text.lines().enumerate() {
                    if !shell_seen.insert((format!("{lang:?}"), cmd.clone(), l.to_string())) {
                        continue;
                    }
                    // Hints and notes are ours, in the shell's language; the rest is libvirt's,
                    // QEMU's or bash's English, checked only for the Indonesian-only words.
                    let ours = l.starts_with(migralab_shell::hint_prefix(lang))
                        || l.starts_with(migralab_shell::note_prefix(lang));
                    out.push(Line {
                        origin: format!("lab shell ({lang:?}) on {rel}: `{cmd}`"),
                        line: i + 1,
                        lang: match (ours, lang) {
                            (true, Lang::Id) => TextLang::Id,
                            (true, Lang::En) => TextLang::En,
                            (false, _) => TextLang::Unknown,
                        },
                        text: l.to_string(),
                    });
                }
            }
        }
    }
    out
}

/// All shipped texts, in a stable order.
fn shipped_lines() -> Vec<Line> {
    let mut lines = Vec::new();
    lines.extend(lines_of("assets/lesson/id.md", TextLang::Id));
    lines.extend(lines_of("assets/lesson/en.md", TextLang::En));
    lines.extend(lines_of("app/i18n/id/migralab_app.ftl", TextLang::Id));
    lines.extend(lines_of("app/i18n/en/migralab_app.ftl", TextLang::En));
    let mut tomls = vec![
        "assets/lesson/command.toml".to_string(),
        "assets/experiments.toml".to_string(),
    ];
    tomls.extend(toml_files("assets/quizzes"));
    tomls.extend(toml_files("scenarios"));
    for rel in &tomls {
        lines.extend(toml_lines(rel));
    }
    for dir in ["sim-core/src", "app/src", "real-backend/src"] {
        let mut files = Vec::new();
        rust_files(&Path::new(ROOT).join(dir), &mut files);
        for f in files {
            let rel = f
                .strip_prefix(ROOT)
                .unwrap_or(&f)
                .to_string_lossy()
                .trim_start_matches('/')
                .to_string();
            lines.extend(rust_string_literals(&rel));
        }
    }
    lines.extend(runtime_lines());
    lines
}

#[test]
fn no_shipped_text_uses_an_unwanted_variant() {
    let terms = migralab_course::glossary::shipped().unwrap_or_else(|e| panic!("{e}"));
    let lines = shipped_lines();
    // The texts built at run time are really there: preflight's, and the shell's own hint and
    // note lines in both languages (else this test would check nothing of them).
    let count = |origin: &str, lang: TextLang| {
        lines
            .iter()
            .filter(|l| l.origin.starts_with(origin) && l.lang == lang)
            .count()
    };
    for lang in [TextLang::Id, TextLang::En] {
        assert!(
            count("preflight of ", lang) > 100,
            "preflight texts in {lang:?}"
        );
        assert!(
            count("lab shell ", lang) > 10,
            "lab shell hints in {lang:?}"
        );
    }
    let mut glosses = Vec::new();
    let mut bad = violations(&terms, &lines, &mut glosses);
    // The same text printed for several scenarios is reported once per place.
    let mut seen = std::collections::BTreeSet::new();
    bad.retain(|b| seen.insert(b.clone()));
    assert!(
        bad.is_empty(),
        "{} unwanted variant(s) of assets/glossary.toml's terms:\n{}",
        bad.len(),
        bad.join("\n")
    );
    // Each gloss is given exactly once, where the glossary says.
    for t in &terms {
        if let Some((g, file)) = &t.gloss {
            let at: Vec<&String> = glosses
                .iter()
                .filter(|(k, _)| k == &t.key)
                .map(|(_, w)| w)
                .collect();
            assert_eq!(
                at.len(),
                1,
                "{}: the gloss \"{}\" must appear exactly once in {file}, on the line that introduces \"{}\"; found at {at:?}",
                t.key,
                g.shown,
                t.id
            );
        }
    }
    // Every house term is in use in Indonesian (a glossary entry nobody follows is stale).
    for t in &terms {
        let term = normalize(&t.id);
        assert!(
            lines
                .iter()
                .any(|l| l.lang == TextLang::Id && normalize(&l.text).contains(&term)),
            "{}: no Indonesian text uses \"{}\"",
            t.key,
            t.id
        );
    }
}

#[test]
fn the_checker_finds_each_kind_of_variant() {
    let terms = migralab_course::glossary::shipped().unwrap_or_else(|e| panic!("{e}"));
    let line = |origin: &str, lang, text: &str| Line {
        origin: origin.to_string(),
        line: 7,
        lang,
        text: text.to_string(),
    };
    let check = |l: Line| {
        let mut g = Vec::new();
        let v = violations(&terms, &[l], &mut g);
        (v, g)
    };
    // Indonesian-only words, anywhere, with suffixes where the glossary says `*`.
    let (v, _) = check(line("x.rs", TextLang::Unknown, "CPU tamu tidak cocok"));
    assert_eq!(v.len(), 1, "{v:?}");
    assert!(v[0].starts_with("x.rs:7: \"tamu*\""), "{v:?}");
    assert_eq!(check(line("x", TextLang::Id, "hapus berkasnya")).0.len(), 1);
    assert_eq!(
        check(line("x", TextLang::Id, "maksud Anda `ls`?")).0.len(),
        1
    );
    assert_eq!(
        check(line("x", TextLang::Id, "halaman\n  kotor")).0.len(),
        1
    );
    // Whole words only: "andal" and "Rwanda" are not "Anda", `err-guest-cpu` is a name.
    assert!(
        check(line("x", TextLang::Id, "hasil yang andal di Rwanda"))
            .0
            .is_empty()
    );
    assert!(
        check(line("x", TextLang::Id, "lihat err-guest-cpu"))
            .0
            .is_empty()
    );
    // The gloss: allowed on its file's line that names the term, a variant anywhere else.
    let (v, g) = check(line(
        "assets/lesson/id.md",
        TextLang::Id,
        "**Live migration** (migrasi langsung) adalah",
    ));
    assert!(v.is_empty(), "{v:?}");
    assert_eq!(g.len(), 1);
    assert_eq!(
        check(line(
            "assets/quizzes/x.toml",
            TextLang::Id,
            "Live migration (migrasi langsung)"
        ))
        .0
        .len(),
        1
    );
    // "guest" is libvirt's word: fine in English and in quotes, not in Indonesian prose.
    assert_eq!(
        check(line("x", TextLang::Id, "CPU guest tidak cocok"))
            .0
            .len(),
        1
    );
    assert!(
        check(line(
            "x",
            TextLang::Id,
            "Pesannya tentang 'guest CPU' dan `<guest>`"
        ))
        .0
        .is_empty()
    );
    assert!(check(line("x", TextLang::En, "the guest CPU")).0.is_empty());
    assert!(strip_quoted("the host's 'x' y").contains("host"));
}

#[test]
fn toml_and_rust_texts_are_read_with_their_language_and_line() {
    // Rust: strings, raw strings, `\`-continued lines; comments, chars and lifetimes skipped.
    let src = "// tamu in a comment\nfn f<'a>(c: char) {}\nlet c = '\"';\nlet s = \"a \\\n   b\";\nlet r = r#\"x \"y\" z\"#;\n/* \"no\" */ let e = \"\\\"q\\\"\";\n";
    let lits: Vec<(usize, String)> = rust_string_literals_in("t.rs", src)
        .into_iter()
        .map(|l| (l.line, l.text))
        .collect();
    assert_eq!(
        lits,
        vec![
            (4, "a b".to_string()),
            (6, "x \"y\" z".to_string()),
            (7, "\"q\"".to_string())
        ],
        "{src}"
    );
    // TOML: the language of `why.id`, of `id` under a table, of multi-line strings; identifiers
    // and comments are not prose.
    let toml = "# guest tamu\nid = \"err-guest-cpu\"\nwhy.id = \"CPU guest\"\n[t]\nen = \"\"\"\nguest\n\"\"\"\n";
    let langs: Vec<(usize, TextLang)> = toml_lines_in("t.toml", toml)
        .into_iter()
        .map(|l| (l.line, l.lang))
        .collect();
    assert_eq!(
        langs,
        vec![
            (1, TextLang::Unknown),
            (2, TextLang::Unknown),
            (3, TextLang::Id),
            (4, TextLang::Unknown),
            (5, TextLang::En),
            (6, TextLang::En),
            (7, TextLang::En)
        ]
    );
}
