//! What the Debian package installs beside the binary (scripts/package.sh): the man pages and
//! completions `migralab generate` writes, and the desktop entry and AppStream metadata in
//! app/packaging/.

use crate::common::{Scratch, migralab};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// Every visible command, nested ones too, as its man page names it (`migralab-labbox-up`),
/// with the long options of each.
fn commands() -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut stack = vec![("migralab".to_string(), migralab_app::cli::command())];
    while let Some((name, command)) = stack.pop() {
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            stack.push((format!("{name}-{}", sub.get_name()), sub.clone()));
        }
        let longs = command
            .get_arguments()
            .filter(|a| !a.is_hide_set())
            .filter_map(|a| a.get_long().map(str::to_string))
            .collect();
        out.push((name, longs));
    }
    out
}

#[test]
fn man_pages_one_per_command_with_its_name_and_options() {
    let dir = Scratch::new("packaging", "man");
    let run = migralab(&["generate", "man", &dir.arg("man")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let written: BTreeSet<String> = std::fs::read_dir(dir.path("man"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let commands = commands();
    let expected: BTreeSet<String> = commands.iter().map(|(n, _)| format!("{n}.1")).collect();
    assert_eq!(written, expected, "one page per visible command, no more");
    assert!(written.contains("migralab-sim.1") && written.contains("migralab-labbox-up.1"));
    assert!(
        !written
            .iter()
            .any(|p| p.contains("generate") || p.contains("help"))
    );
    // stdout names every page written.
    assert_eq!(run.stdout.lines().count(), expected.len(), "{}", run.stdout);
    for (name, longs) in &commands {
        let page = std::fs::read_to_string(dir.path(&format!("man/{name}.1"))).unwrap();
        // roff escapes every '-' as '\-'.
        let roff = |s: &str| s.replace('-', "\\-");
        assert!(
            page.contains(&format!(".SH NAME\n{} \\- ", roff(name))),
            "{name}.1:\n{page}"
        );
        assert!(
            page.contains(&format!("\"migralab {}", env!("CARGO_PKG_VERSION"))),
            "{name}.1 names no version in its footer"
        );
        for long in longs {
            assert!(
                page.contains(&roff(&format!("--{long}"))),
                "{name}.1 has no --{long}"
            );
        }
    }
}

#[test]
fn completions_for_bash_zsh_and_fish_offer_every_command() {
    let dir = Scratch::new("packaging", "completions");
    let names: Vec<String> = migralab_app::cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect();
    assert!(names.len() >= 10, "{names:?}");
    for (shell, file) in [
        ("bash", "migralab.bash"),
        ("zsh", "_migralab"),
        ("fish", "migralab.fish"),
    ] {
        let run = migralab(&["generate", "completions", shell, dir.as_str()]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert_eq!(run.stdout.trim_end(), dir.arg(file));
        let script = std::fs::read_to_string(dir.path(file)).unwrap();
        for name in &names {
            assert!(script.contains(name.as_str()), "{shell} has no {name}");
        }
        assert!(script.contains("seed"), "{shell} has no `sim --seed`");
    }
}

#[test]
fn generate_says_which_directory_it_cannot_create() {
    let dir = Scratch::new("packaging", "unwritable");
    let file = dir.write("a-file", "not a directory");
    let target = file.join("man");
    let run = migralab(&["generate", "man", target.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("cannot create the directory") && run.stderr.contains("a-file"),
        "{}",
        run.stderr
    );
}

fn packaging(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("packaging")
        .join(name)
}

/// The desktop entry starts a command this binary has, with the icon the package installs, and
/// the AppStream metadata and the Debian changelog name this version.
#[test]
fn desktop_entry_and_metainfo_match_the_binary() {
    let entry = std::fs::read_to_string(packaging("migralab.desktop")).unwrap();
    let value = |key: &str| {
        entry
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key}= in the desktop entry"))
    };
    let exec: Vec<&str> = value("Exec").split_whitespace().collect();
    assert_eq!(exec.first(), Some(&"migralab"));
    let matches = migralab_app::cli::command()
        .try_get_matches_from(&exec)
        .unwrap_or_else(|e| panic!("Exec={exec:?}: {e}"));
    assert_eq!(matches.subcommand_name(), Some("gui"));
    assert_eq!(value("Icon"), "migralab");
    assert!(packaging("icons/migralab.svg").is_file());
    for size in [48, 64, 128, 256] {
        let png = std::fs::read(packaging(&format!("icons/migralab-{size}.png"))).unwrap();
        // The PNG header's width and height (IHDR, big-endian, bytes 16..24).
        assert_eq!(&png[1..4], b"PNG");
        let side = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
        assert_eq!((side(16), side(20)), (size, size));
    }
    assert_eq!(value("StartupWMClass"), migralab_app::gui::APP_ID);
    let icon = migralab_app::gui::window_icon().expect("the window's icon decodes");
    assert_eq!((icon.width, icon.height), (64, 64));
    assert!(value("Categories").split(';').any(|c| c == "Education"));
    assert!(!value("Name[id]").is_empty() && value("Name[id]") != value("Name"));

    let text = std::fs::read_to_string(packaging("invalid.example.migralab.metainfo.xml")).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let tag = |name: &str| {
        doc.descendants()
            .find(|n| n.has_tag_name(name))
            .unwrap_or_else(|| panic!("no <{name}> in the metainfo"))
    };
    assert_eq!(tag("id").text(), Some("invalid.example.migralab"));
    assert_eq!(tag("launchable").text(), Some("migralab.desktop"));
    assert_eq!(
        tag("release").attribute("version"),
        Some(env!("CARGO_PKG_VERSION")),
        "the metainfo's newest release is this version"
    );
    let changelog = std::fs::read_to_string(packaging("changelog")).unwrap();
    assert!(
        changelog.starts_with(&format!("migralab ({}-1) ", env!("CARGO_PKG_VERSION"))),
        "the Debian changelog's newest entry is this version:\n{changelog}"
    );
}
