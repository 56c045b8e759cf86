//! The README and the book in `docs/` hold together: every relative link leads to a file of the
//! repository (and a `#anchor` to a heading of the page it names), no link leaves the
//! repository, every page of `docs/src/` is in `SUMMARY.md` and every entry there exists, and the
//! README stays a front door (at most 250 lines).
//!
//! Not checked here: that the CLI reference names every subcommand of the binary. The clap
//! definition is private to the app's CLI and this crate cannot run the binary, so the test only
//! checks that the reference and the README's command table name the same commands.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

const README_MAX_LINES: usize = 250;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the repository")
        .to_path_buf()
}

fn book_src() -> PathBuf {
    repo_root().join("docs/src")
}

/// Every `*.md` under `dir`, sorted, so failures come in a stable order.
fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|x| x == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The README and every page of the book.
fn documents() -> Vec<PathBuf> {
    let mut docs = vec![repo_root().join("README.md")];
    docs.extend(markdown_files(&book_src()));
    docs
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A path relative to the repository, for messages.
fn shown(path: &Path) -> String {
    path.strip_prefix(repo_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The lines of `text` that are prose, numbered from 1: fenced code blocks are left out (a
/// command there is not a link), and inline code spans are blanked.
fn prose_lines(text: &str) -> Vec<(usize, String)> {
    let mut fence: Option<String> = None;
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let marker: String = trimmed
            .chars()
            .take_while(|&c| c == '`' || c == '~')
            .collect();
        if marker.len() >= 3
            && marker
                .chars()
                .all(|c| c == marker.chars().next().unwrap_or('`'))
        {
            match &fence {
                None => fence = Some(marker),
                Some(open) if marker.starts_with(open.as_str()) => fence = None,
                Some(_) => {}
            }
            continue;
        }
        if fence.is_none() {
            lines.push((i + 1, blank_code_spans(line)));
        }
    }
    lines
}

/// `line` with every inline code span (`` `x` ``, ``` ``x`` ```) replaced by spaces.
fn blank_code_spans(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = chars.clone();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|&&c| c == '`').count();
        let mut j = i + run;
        let mut closed = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let r = chars[j..].iter().take_while(|&&c| c == '`').count();
                if r == run {
                    closed = Some(j + r);
                    break;
                }
                j += r;
            } else {
                j += 1;
            }
        }
        match closed {
            Some(end) => {
                out[i..end].iter_mut().for_each(|c| *c = ' ');
                i = end;
            }
            None => i += run,
        }
    }
    out.into_iter().collect()
}

/// The targets of the inline links and images (`[text](target)`) and of the reference
/// definitions (`[label]: target`) on a prose line.
fn link_targets(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let trimmed = line.trim_start();
    if trimmed.starts_with('[')
        && let Some(end) = trimmed.find("]:")
    {
        if let Some(target) = trimmed[end + 2..].split_whitespace().next() {
            targets.push(target.to_string());
        }
        return targets;
    }
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i + 1 < chars.len() {
        if !(chars[i] == ']' && chars[i + 1] == '(') {
            i += 1;
            continue;
        }
        let mut depth = 0usize;
        let mut j = i + 2;
        while j < chars.len() {
            match chars[j] {
                '(' => depth += 1,
                ')' if depth == 0 => break,
                ')' => depth -= 1,
                _ => {}
            }
            j += 1;
        }
        let inside: String = chars[i + 2..j.min(chars.len())].iter().collect();
        let target = inside.split_whitespace().next().unwrap_or_default();
        let target = target.trim_start_matches('<').trim_end_matches('>');
        targets.push(target.to_string());
        i = j;
    }
    targets
}

/// A heading's anchor as mdBook makes it: the heading's text, lowercased, with spaces as `-`
/// and everything but letters, digits, `-` and `_` dropped.
fn anchor_of(heading: &str) -> String {
    let text: String = heading.chars().filter(|&c| c != '`' && c != '*').collect();
    // A link in a heading contributes its text only.
    let text = text.replace("](", "\u{0}");
    let text: String = text
        .split('\u{0}')
        .enumerate()
        .map(|(k, part)| {
            if k == 0 {
                part.to_string()
            } else {
                part.split_once(')')
                    .map_or("", |(_, rest)| rest)
                    .to_string()
            }
        })
        .collect();
    text.trim()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// Every anchor the headings of a Markdown page get (a repeated heading gets `-1`, `-2`, ...).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    let mut fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
            continue;
        }
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if fence || !(1..=6).contains(&hashes) || !line[hashes..].starts_with(' ') {
            continue;
        }
        let heading = line[hashes..].trim().trim_end_matches('#').replace('[', "");
        let id = anchor_of(&heading);
        let n = seen.entry(id.clone()).or_insert(0);
        out.insert(if *n == 0 {
            id.clone()
        } else {
            format!("{id}-{n}")
        });
        *n += 1;
    }
    out
}

/// `base` joined with the relative `rel`, `..` and `.` resolved without touching the disk.
fn resolve(base: &Path, rel: &str) -> PathBuf {
    let mut path = base.to_path_buf();
    for part in Path::new(rel).components() {
        match part {
            Component::ParentDir => {
                path.pop();
            }
            Component::CurDir => {}
            other => path.push(other),
        }
    }
    path
}

/// What is wrong with one link target of `doc`, if anything.
fn check_target(doc: &Path, target: &str) -> Option<String> {
    if target.is_empty() {
        return Some("an empty link".into());
    }
    let scheme = target.split_once(':').map(|(s, _)| s).filter(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if let Some(scheme) = scheme {
        return Some(format!("`{target}` leaves the repository ({scheme}:)"));
    }
    if target.starts_with('/') {
        return Some(format!(
            "`{target}` is absolute: links are relative to the page"
        ));
    }
    let (path, anchor) = match target.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (target, None),
    };
    let dir = doc.parent().unwrap_or(Path::new("."));
    let file = if path.is_empty() {
        doc.to_path_buf()
    } else {
        resolve(dir, path)
    };
    if !file.starts_with(repo_root()) {
        return Some(format!("`{target}` leads out of the repository"));
    }
    if !file.exists() {
        return Some(format!("`{target}`: no such file ({})", shown(&file)));
    }
    if let Some(anchor) = anchor
        && file.extension().is_some_and(|x| x == "md")
        && !anchors(&read(&file)).contains(anchor)
    {
        return Some(format!(
            "`{target}`: {} has no heading for #{anchor}",
            shown(&file)
        ));
    }
    None
}

#[test]
fn every_link_resolves_inside_the_repository() {
    let mut problems = Vec::new();
    let mut links = 0;
    for doc in documents() {
        for (n, line) in prose_lines(&read(&doc)) {
            for target in link_targets(&line) {
                links += 1;
                if let Some(p) = check_target(&doc, &target) {
                    problems.push(format!("{}:{n}: {p}", shown(&doc)));
                }
            }
        }
    }
    assert!(links > 50, "the link scanner found only {links} links");
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_web_address_outside_code_blocks() {
    let mut problems = Vec::new();
    for doc in documents() {
        let text = read(&doc);
        let raw: Vec<&str> = text.lines().collect();
        for (n, _) in prose_lines(&text) {
            // Checked with its inline code: an address there would still send the reader away.
            let line = raw[n - 1];
            if line.contains("http://") || line.contains("https://") {
                problems.push(format!("{}:{n}: {}", shown(&doc), line.trim()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "web addresses:\n{}",
        problems.join("\n")
    );
}

/// The pages `SUMMARY.md` lists, relative to `docs/src`.
fn summary_entries() -> Vec<String> {
    let summary = read(&book_src().join("SUMMARY.md"));
    prose_lines(&summary)
        .iter()
        .flat_map(|(_, line)| link_targets(line))
        .collect()
}

#[test]
fn summary_lists_every_page_and_every_entry_exists() {
    let entries = summary_entries();
    assert!(entries.len() > 20, "SUMMARY.md lists only {entries:?}");
    let missing: Vec<&String> = entries
        .iter()
        .filter(|e| !book_src().join(e).is_file())
        .collect();
    assert!(
        missing.is_empty(),
        "SUMMARY.md entries without a page: {missing:?}"
    );
    let listed: BTreeSet<PathBuf> = entries.iter().map(|e| book_src().join(e)).collect();
    let unlisted: Vec<String> = markdown_files(&book_src())
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "SUMMARY.md") && !listed.contains(p))
        .map(|p| shown(&p))
        .collect();
    assert!(unlisted.is_empty(), "pages not in SUMMARY.md: {unlisted:?}");
    let mut seen = BTreeSet::new();
    let twice: Vec<&String> = entries.iter().filter(|e| !seen.insert(*e)).collect();
    assert!(twice.is_empty(), "listed twice in SUMMARY.md: {twice:?}");
}

#[test]
fn the_readme_is_a_front_door() {
    let readme = read(&repo_root().join("README.md"));
    let lines = readme.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines; at most {README_MAX_LINES}: move the rest into the book"
    );
    for part in [
        "```sh\ncargo run --release\n```",
        "```sh\nbash scripts/test.sh\n```",
    ] {
        assert!(readme.contains(part), "the README's two commands: {part}");
    }
}

/// The `migralab ...` commands named in the first column of a page's command table.
fn table_commands(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("| `migralab "))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_cli_reference_and_the_readme_name_the_same_commands() {
    let reference = table_commands(&read(&book_src().join("reference/cli.md")));
    let readme = table_commands(&read(&repo_root().join("README.md")));
    assert!(reference.len() >= 10, "{reference:?}");
    assert_eq!(reference, readme);
    // ... and the binary's own list (this build's: on Linux every command is there), less the
    // hidden ones (`generate`, for packagers, has a section of its own in the reference).
    let built: BTreeSet<String> = migralab_app::cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_string())
        .filter(|name| name != "help")
        .collect();
    assert_eq!(reference, built, "the CLI reference and `migralab --help`");
    let usage = read(&book_src().join("reference/cli.md"));
    for command in &reference {
        assert!(
            usage.contains(&format!("\nmigralab {command} ")),
            "the reference's usage block has no line for `migralab {command}`"
        );
    }
}

#[test]
fn the_link_scanner_reads_markdown_as_mdbook_does() {
    assert_eq!(
        link_targets("see [a](x.md#b) and ![i](img.png \"t\") or [f(x)](g(1).md)"),
        ["x.md#b", "img.png", "g(1).md"]
    );
    assert_eq!(
        link_targets(&blank_code_spans("not `[c](d)` but [e](f)")),
        ["f"]
    );
    assert_eq!(link_targets("[label]: ../x.md"), ["../x.md"]);
    assert_eq!(
        anchor_of("Real-mode ping prober: `migralab ping`"),
        "real-mode-ping-prober-migralab-ping"
    );
    assert_eq!(
        anchors("# A\n## A\n```\n# not\n```\n### B (c)"),
        ["a", "a-1", "b-c"].map(String::from).into()
    );
    let doc = book_src().join("student/app.md");
    assert!(check_target(&doc, "https://example.org").is_some());
    assert!(check_target(&doc, "mailto:x@y").is_some());
    assert!(check_target(&doc, "../../../../outside.md").is_some());
    assert!(check_target(&doc, "nope.md").is_some());
    assert!(check_target(&doc, "shell.md#no-such-heading").is_some());
    assert!(check_target(&doc, "../instructor/real-mode.md#real-mode-in-the-app").is_none());
}
