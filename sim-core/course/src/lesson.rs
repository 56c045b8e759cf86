//! The lesson (Sesi 1): Markdown in both languages, cut into [`Block`]s at widget marker lines,
//! and the lesson's command taken apart ([`CommandBreakdown`]).
//!
//! A marker is a line that is exactly `<!-- widget: NAME -->` (outside fenced code blocks);
//! the names are `kitchen`, `command`, `prereq:NAME` (see [`Prereq::marker`]) and `topic:NAME`
//! (see [`Topic::marker`]). Any other
//! `<!--` line outside a code block is an error, so a typo in a marker cannot silently become
//! text.

use crate::{invalid, toml_error};
use migralab_sim_core::lang::Lang;
use migralab_sim_core::located::LocatedError;
use migralab_sim_core::text::Text;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

const ID_MD: &str = include_str!("../../../assets/lesson/id.md");
const EN_MD: &str = include_str!("../../../assets/lesson/en.md");
const COMMAND_TOML: &str = include_str!("../../../assets/lesson/command.toml");

/// The lesson's command, which [`command`] takes apart.
pub const LESSON_COMMAND: &str =
    "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent";

/// One piece of the lesson, in order: text, or a widget the GUI draws at that place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// Simple Markdown (headings, paragraphs, `-` lists, bold, code, fenced code blocks).
    Markdown(String),
    /// The animated kitchen analogy of pre-copy (`<!-- widget: kitchen -->`).
    Kitchen,
    /// A "show me" button that opens the Lab on a scenario where this prerequisite is broken
    /// (`<!-- widget: prereq:NAME -->`).
    Prereq(Prereq),
    /// The lesson's command taken apart, with hover explanations from [`command`]
    /// (`<!-- widget: command -->`).
    Command,
    /// A "show me" button that opens the Lab on the scenario of an operator's topic
    /// (`<!-- widget: topic:NAME -->`).
    Topic(Topic),
}

impl Block {
    /// The widget's marker name (`kitchen`, `prereq:cpu`, ...), `None` for Markdown.
    pub fn marker(&self) -> Option<&'static str> {
        match self {
            Block::Markdown(_) => None,
            Block::Kitchen => Some("kitchen"),
            Block::Prereq(p) => Some(p.marker()),
            Block::Command => Some("command"),
            Block::Topic(t) => Some(t.marker()),
        }
    }

    /// The widget a marker name stands for.
    pub fn from_marker(name: &str) -> Option<Block> {
        match name {
            "kitchen" => Some(Block::Kitchen),
            "command" => Some(Block::Command),
            _ => Prereq::all()
                .into_iter()
                .find(|p| p.marker() == name)
                .map(Block::Prereq)
                .or_else(|| {
                    Topic::all()
                        .into_iter()
                        .find(|t| t.marker() == name)
                        .map(Block::Topic)
                }),
        }
    }
}

/// The lesson's five prerequisites of a live migration, in the lesson's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Prereq {
    /// 1. Both hosts see the VM's disk at the same path.
    SharedStorage,
    /// 2. The same network and bridge on both hosts.
    Network,
    /// 3. Passwordless SSH from the source to the destination (libvirt's control connection).
    SshTrust,
    /// 4. A CPU model the destination can provide.
    Cpu,
    /// 5. A destination QEMU/libvirt that knows the VM's machine type.
    Versions,
}

impl Prereq {
    /// All five, in the lesson's order.
    pub fn all() -> [Prereq; 5] {
        [
            Prereq::SharedStorage,
            Prereq::Network,
            Prereq::SshTrust,
            Prereq::Cpu,
            Prereq::Versions,
        ]
    }

    /// The shipped scenario (in `scenarios/`) where exactly this prerequisite is broken.
    pub fn scenario(self) -> &'static str {
        match self {
            Prereq::SharedStorage => "prereq-no-shared-storage",
            Prereq::Network => "prereq-no-bridge",
            Prereq::SshTrust => "prereq-no-ssh-trust",
            Prereq::Cpu => "prereq-cpu-mismatch",
            Prereq::Versions => "prereq-old-qemu",
        }
    }

    /// The marker name in the lesson files (`prereq:shared-storage`, ...).
    pub fn marker(self) -> &'static str {
        match self {
            Prereq::SharedStorage => "prereq:shared-storage",
            Prereq::Network => "prereq:network",
            Prereq::SshTrust => "prereq:ssh",
            Prereq::Cpu => "prereq:cpu",
            Prereq::Versions => "prereq:versions",
        }
    }

    /// Its number in the lesson (1–5).
    pub fn number(self) -> u8 {
        match self {
            Prereq::SharedStorage => 1,
            Prereq::Network => 2,
            Prereq::SshTrust => 3,
            Prereq::Cpu => 4,
            Prereq::Versions => 5,
        }
    }
}

/// The operator's topics after the basics, each with a scenario that shows it (issue 21 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Topic {
    /// A disk's cache mode, and libvirt's refusal of a cached disk on an old QEMU.
    CacheMode,
    /// The migration stream is not encrypted: `--tls`, or `--p2p --tunnelled`.
    Encryption,
    /// libvirt's NAT network `default` (virbr0) is private to each host.
    NatNetwork,
    /// Which network carries the data (`--migrateuri`, qemu.conf), and how much of it.
    MigrationNetwork,
    /// What `--copy-storage-*` copies, and a local ISO left in the CD-ROM.
    DiskCopying,
}

impl Topic {
    /// Every topic, in the lesson's order.
    pub fn all() -> [Topic; 5] {
        [
            Topic::CacheMode,
            Topic::Encryption,
            Topic::NatNetwork,
            Topic::MigrationNetwork,
            Topic::DiskCopying,
        ]
    }

    /// The shipped scenario (in `scenarios/`) that shows the topic.
    pub fn scenario(self) -> &'static str {
        match self {
            Topic::CacheMode => "cache-mode-unsafe",
            Topic::Encryption => "encryption-tls",
            Topic::NatNetwork => "nat-network-trap",
            Topic::MigrationNetwork => "migration-bandwidth",
            Topic::DiskCopying => "cdrom-local-iso",
        }
    }

    /// The marker name in the lesson files (`topic:cache-mode`, ...).
    pub fn marker(self) -> &'static str {
        match self {
            Topic::CacheMode => "topic:cache-mode",
            Topic::Encryption => "topic:encryption",
            Topic::NatNetwork => "topic:nat-network",
            Topic::MigrationNetwork => "topic:migration-network",
            Topic::DiskCopying => "topic:disk-copying",
        }
    }
}

/// Every marker name, for error messages.
fn marker_names() -> Vec<&'static str> {
    let mut names = vec!["kitchen"];
    names.extend(Prereq::all().map(Prereq::marker));
    names.push("command");
    names.extend(Topic::all().map(Topic::marker));
    names
}

/// The embedded lesson text (Markdown with markers) in `lang`.
pub fn source(lang: Lang) -> &'static str {
    match lang {
        Lang::Id => ID_MD,
        Lang::En => EN_MD,
    }
}

/// The lesson in `lang`, parsed once. (If the embedded file were broken, which the tests rule
/// out, the error is logged and shown as the only block.)
pub fn blocks(lang: Lang) -> &'static [Block] {
    static ID: LazyLock<Vec<Block>> = LazyLock::new(|| or_error_block(parse_embedded(Lang::Id)));
    static EN: LazyLock<Vec<Block>> = LazyLock::new(|| or_error_block(parse_embedded(Lang::En)));
    match lang {
        Lang::Id => &ID,
        Lang::En => &EN,
    }
}

fn or_error_block(parsed: Result<Vec<Block>, LocatedError>) -> Vec<Block> {
    parsed.unwrap_or_else(|e| {
        tracing::error!("cannot load the lesson: {e}");
        vec![Block::Markdown(format!("**{e}**"))]
    })
}

/// Parse the embedded lesson in `lang`, naming the asset in errors.
pub(super) fn parse_embedded(lang: Lang) -> Result<Vec<Block>, LocatedError> {
    let origin = match lang {
        Lang::Id => "assets/lesson/id.md",
        Lang::En => "assets/lesson/en.md",
    };
    parse_from(origin, source(lang))
}

/// Cut a lesson text into blocks at its marker lines. Errors name the line of an unknown,
/// malformed or repeated marker.
pub fn parse(text: &str) -> Result<Vec<Block>, LocatedError> {
    parse_from("<string>", text)
}

fn parse_from(origin: &str, text: &str) -> Result<Vec<Block>, LocatedError> {
    let err = |line: usize, message: String| LocatedError::at_line(origin, line, message);
    let mut blocks = Vec::new();
    let mut markdown = String::new();
    // The opening fence (```` ``` ```` or `~~~`, maybe longer) of the code block we are in.
    let mut fence: Option<String> = None;
    let mut seen: BTreeMap<&'static str, usize> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = raw.trim();
        if let Some(open) = &fence {
            if trimmed.starts_with(open.as_str())
                && trimmed
                    .trim_start_matches(open.chars().next().unwrap_or('`'))
                    .is_empty()
            {
                fence = None;
            }
        } else if let Some(open) = fence_of(trimmed) {
            fence = Some(open);
        } else if trimmed.starts_with("<!--") {
            let name = trimmed
                .strip_prefix("<!-- widget:")
                .and_then(|r| r.strip_suffix("-->"))
                .map(str::trim)
                .ok_or_else(|| {
                    err(
                        line_no,
                        format!(
                            "`{trimmed}` is not a widget marker: a marker is exactly \
                             `<!-- widget: NAME -->`, and no other HTML is allowed"
                        ),
                    )
                })?;
            let block = Block::from_marker(name).ok_or_else(|| {
                err(
                    line_no,
                    format!(
                        "unknown widget marker `{name}` (known: {})",
                        marker_names().join(", ")
                    ),
                )
            })?;
            let key = block.marker().unwrap_or_default();
            if let Some(first) = seen.insert(key, line_no) {
                return Err(err(
                    line_no,
                    format!("widget marker `{name}` is repeated (first on line {first})"),
                ));
            }
            push_markdown(&mut blocks, &mut markdown);
            blocks.push(block);
            continue;
        }
        markdown.push_str(raw);
        markdown.push('\n');
    }
    push_markdown(&mut blocks, &mut markdown);
    Ok(blocks)
}

/// The fence string if `line` opens a fenced code block (three or more backticks or tildes).
fn fence_of(line: &str) -> Option<String> {
    let c = line.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let run: String = line.chars().take_while(|x| *x == c).collect();
    (run.chars().count() >= 3).then_some(run)
}

/// Close the Markdown collected so far into a block (without blank lines around it).
fn push_markdown(blocks: &mut Vec<Block>, markdown: &mut String) {
    let text = markdown.trim_matches('\n').trim_end();
    if !text.trim().is_empty() {
        blocks.push(Block::Markdown(format!("{text}\n")));
    }
    markdown.clear();
}

/// One piece of the lesson's command, with its explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandPart {
    /// The text as it appears in the command (`--live`, `kvm-host-02`, ...).
    pub text: String,
    /// What goes before it when the command is put together: `" "`, or `""` for a piece that
    /// attaches to the one before it (the first part's is always `""`).
    pub join: String,
    /// What this part means.
    pub explain: Text,
    /// A common misconception about this part, corrected (only on `--persistent`).
    pub myth: Option<Text>,
}

/// A related option worth knowing, shown next to the command.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandFlag {
    /// The option as typed (`--undefinesource`, `--p2p --tunnelled`, ...).
    pub text: String,
    /// What it does.
    pub explain: Text,
}

/// The lesson's command taken apart, and related options.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommandBreakdown {
    /// The command's parts in order; [`CommandBreakdown::full_command`] puts them together.
    pub parts: Vec<CommandPart>,
    /// Related options (`--undefinesource`, `--verbose`, `--copy-storage-all`, ...).
    pub extra: Vec<CommandFlag>,
}

impl CommandBreakdown {
    /// The parts put together: each part's `join`, then its text.
    pub fn full_command(&self) -> String {
        self.parts
            .iter()
            .flat_map(|p| [p.join.as_str(), p.text.as_str()])
            .collect()
    }
}

/// The lesson's command taken apart, parsed once. (If the embedded file were broken, which the
/// tests rule out, the error is logged and the command is one part explaining the error.)
pub fn command() -> &'static CommandBreakdown {
    static COMMAND: LazyLock<CommandBreakdown> = LazyLock::new(|| match parse_command_embedded() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("cannot load the lesson's command: {e}");
            let message = e.to_string();
            CommandBreakdown {
                parts: vec![CommandPart {
                    text: LESSON_COMMAND.to_string(),
                    join: String::new(),
                    explain: Text::same(message),
                    myth: None,
                }],
                extra: Vec::new(),
            }
        }
    });
    &COMMAND
}

pub(super) fn parse_command_embedded() -> Result<CommandBreakdown, LocatedError> {
    parse_command_from("assets/lesson/command.toml", COMMAND_TOML)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommand {
    command: String,
    #[serde(rename = "part")]
    parts: Vec<RawPart>,
    #[serde(default, rename = "extra")]
    extra: Vec<RawFlag>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPart {
    text: String,
    join: Option<String>,
    explain: Text,
    myth: Option<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlag {
    text: String,
    explain: Text,
}

/// Parse a command breakdown (the format of `assets/lesson/command.toml`): every text in both
/// languages, `join` only `""` or `" "`, and the parts must join to exactly `command`.
pub fn parse_command(text: &str) -> Result<CommandBreakdown, LocatedError> {
    parse_command_from("<string>", text)
}

fn parse_command_from(origin: &str, text: &str) -> Result<CommandBreakdown, LocatedError> {
    let raw: RawCommand = toml::from_str(text).map_err(|e| toml_error(origin, text, &e))?;
    let bad = |path: String, message: &str| invalid(origin, text, &path, message);
    let both = |t: &Text, path: String| {
        if !t.is_complete() {
            Err(bad(path, "needs a non-empty `id` and `en` text"))
        } else {
            Ok(())
        }
    };
    if raw.parts.is_empty() {
        return Err(bad("command".into(), "there are no [[part]] tables"));
    }
    let mut parts = Vec::new();
    for (i, p) in raw.parts.into_iter().enumerate() {
        if p.text.trim().is_empty() || p.text.trim() != p.text {
            return Err(bad(
                format!("part.{i}.text"),
                "must be non-empty, without spaces around it",
            ));
        }
        let join = match p.join.as_deref() {
            None | Some(" ") => " ",
            Some("") => "",
            Some(_) => return Err(bad(format!("part.{i}.join"), "must be \"\" or \" \"")),
        };
        both(&p.explain, format!("part.{i}.explain"))?;
        if let Some(m) = &p.myth {
            both(m, format!("part.{i}.myth"))?;
        }
        parts.push(CommandPart {
            text: p.text,
            join: if i == 0 { String::new() } else { join.into() },
            explain: p.explain,
            myth: p.myth,
        });
    }
    let mut extra = Vec::new();
    for (i, f) in raw.extra.into_iter().enumerate() {
        if f.text.trim().is_empty() {
            return Err(bad(format!("extra.{i}.text"), "must not be empty"));
        }
        both(&f.explain, format!("extra.{i}.explain"))?;
        extra.push(CommandFlag {
            text: f.text,
            explain: f.explain,
        });
    }
    let breakdown = CommandBreakdown { parts, extra };
    let joined = breakdown.full_command();
    if joined != raw.command {
        return Err(bad(
            "command".into(),
            &format!("the parts join to `{joined}`, not to this command"),
        ));
    }
    Ok(breakdown)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::path::Path;

    fn markers(blocks: &[Block]) -> Vec<&'static str> {
        blocks.iter().filter_map(Block::marker).collect()
    }

    #[test]
    fn both_lessons_parse_with_every_marker_once_in_the_same_order() {
        let id = parse_embedded(Lang::Id).unwrap();
        let en = parse_embedded(Lang::En).unwrap();
        assert_eq!(markers(&id), markers(&en));
        let mut expected = marker_names();
        assert_eq!(markers(&id).len(), expected.len(), "{:?}", markers(&id));
        let mut got = markers(&id);
        got.sort_unstable();
        expected.sort_unstable();
        assert_eq!(got, expected, "each marker exactly once");
        // The cached blocks are the parsed ones.
        assert_eq!(blocks(Lang::Id), id.as_slice());
        assert_eq!(blocks(Lang::En), en.as_slice());
        assert!(super::super::check().is_ok());
    }

    #[test]
    fn both_lessons_have_the_same_structure() {
        let headings = |lang| -> Vec<usize> {
            source(lang)
                .lines()
                .filter(|l| l.starts_with('#'))
                .map(|l| l.chars().take_while(|c| *c == '#').count())
                .collect()
        };
        assert_eq!(headings(Lang::Id), headings(Lang::En));
        for lang in [Lang::Id, Lang::En] {
            let n = source(lang).lines().count();
            assert!((120..=200).contains(&n), "{lang:?}: {n} lines");
            let fences = source(lang)
                .lines()
                .filter(|l| l.starts_with("```"))
                .count();
            assert_eq!(fences % 2, 0, "{lang:?}: unclosed code block");
            assert_eq!(
                source(lang)
                    .lines()
                    .filter(|l| l.starts_with("```"))
                    .count(),
                source(Lang::Id)
                    .lines()
                    .filter(|l| l.starts_with("```"))
                    .count()
            );
            // Simple Markdown only: no tables, images or HTML besides the markers.
            for (i, l) in source(lang).lines().enumerate() {
                assert!(
                    !l.trim_start().starts_with('|'),
                    "{lang:?}:{}: table",
                    i + 1
                );
                assert!(!l.contains("!["), "{lang:?}:{}: image", i + 1);
            }
        }
    }

    #[test]
    fn the_lesson_corrects_the_seeds_errors() {
        for lang in [Lang::Id, Lang::En] {
            let text = source(lang);
            for needle in [
                "--undefinesource",
                "49152–49215",
                "--p2p --tunnelled",
                "virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent",
                "virsh list --all",
                "virsh domjobinfo",
                // Five probes a second: plain `ping` sees 0-1 lost replies of a 300 ms pause.
                "ping -i 0.2 192.168.100.50",
                // libvirt does not check host-passthrough; host-model is refused before copying.
                "check='none'",
                "guest CPU doesn't match specification",
                "hypervisor-cpu-baseline",
                // The destination's own hostname is resolved again by the source.
                "127.0.1.1",
            ] {
                assert!(text.contains(needle), "{lang:?} lacks {needle}");
            }
            // What libvirt never says for a migration, and what the lesson used to promise.
            assert!(
                !text.contains("the CPU is incompatible with host CPU: Host CPU does not provide"),
                "{lang:?}"
            );
        }
    }

    #[test]
    fn markers_are_checked() {
        let blocks = parse("# T\n\nintro\n<!-- widget: kitchen -->\n\nmore\n").unwrap();
        assert_eq!(
            blocks,
            vec![
                Block::Markdown("# T\n\nintro\n".into()),
                Block::Kitchen,
                Block::Markdown("more\n".into()),
            ]
        );
        let e = parse("a\n\n<!-- widget: kitchn -->\n").unwrap_err();
        assert!(
            matches!(&e, LocatedError { line: 3, column: None, message, .. } if message.contains("unknown widget marker `kitchn`")),
            "{e}"
        );
        assert!(e.to_string().starts_with("<string>:3: "), "{e}");
        let e = parse("<!-- widget: command -->\nx\n<!-- widget: command -->\n").unwrap_err();
        assert!(
            matches!(
                e,
                LocatedError {
                    line: 3,
                    column: None,
                    ..
                }
            ),
            "{e}"
        );
        let e = parse("x\n<!-- a comment -->\n").unwrap_err();
        assert!(
            matches!(
                e,
                LocatedError {
                    line: 2,
                    column: None,
                    ..
                }
            ),
            "{e}"
        );
        // Inside a code block a marker is just text.
        let blocks = parse("```\n<!-- widget: kitchen -->\n```\n").unwrap();
        assert_eq!(
            blocks,
            vec![Block::Markdown(
                "```\n<!-- widget: kitchen -->\n```\n".into()
            )]
        );
        let blocks = parse("<!-- widget: prereq:cpu -->\r\n").unwrap();
        assert_eq!(blocks, vec![Block::Prereq(Prereq::Cpu)]);
    }

    #[test]
    fn every_prereq_scenario_is_shipped() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        for (i, p) in Prereq::all().into_iter().enumerate() {
            assert_eq!(usize::from(p.number()), i + 1);
            let path = dir.join(format!("{}.toml", p.scenario()));
            assert!(path.is_file(), "{} is missing", path.display());
            assert_eq!(Block::from_marker(p.marker()), Some(Block::Prereq(p)));
        }
    }

    #[test]
    fn every_topic_scenario_is_shipped() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        for t in Topic::all() {
            let path = dir.join(format!("{}.toml", t.scenario()));
            assert!(path.is_file(), "{} is missing", path.display());
            assert_eq!(Block::from_marker(t.marker()), Some(Block::Topic(t)));
        }
    }

    #[test]
    fn the_command_parts_join_to_the_lessons_command() {
        let c = parse_command_embedded().unwrap();
        assert_eq!(c.full_command(), LESSON_COMMAND);
        assert_eq!(command(), &c);
        let texts: Vec<&str> = c.parts.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "virsh",
                "migrate",
                "--live",
                "db01",
                "qemu+ssh://",
                "kvm-host-02",
                "/system",
                "--persistent"
            ]
        );
        let persistent = c.parts.last().unwrap();
        let myth = persistent
            .myth
            .as_ref()
            .expect("--persistent corrects the myth");
        assert!(myth.id.contains("--undefinesource") && myth.en.contains("--undefinesource"));
        assert_eq!(c.parts.iter().filter(|p| p.myth.is_some()).count(), 1);
        let extra: Vec<&str> = c.extra.iter().map(|f| f.text.as_str()).collect();
        assert_eq!(
            extra,
            [
                "--undefinesource",
                "--verbose",
                "--copy-storage-all",
                "--auto-converge",
                "--postcopy",
                "--p2p --tunnelled",
                "--timeout"
            ]
        );
    }

    #[test]
    fn a_command_that_does_not_join_up_is_refused() {
        let text = "command = \"virsh list\"\n\
                    [[part]]\ntext = \"virsh\"\nexplain = { id = \"a\", en = \"b\" }\n\
                    [[part]]\ntext = \"list\"\njoin = \"\"\nexplain = { id = \"a\", en = \"b\" }\n";
        let e = parse_command(text).unwrap_err();
        assert!(e.to_string().contains("`virshlist`"), "{e}");
        assert!(e.to_string().starts_with("<string>:1:"), "{e}");
        let e = parse_command(
            "command = \"x\"\n[[part]]\ntext = \"x\"\nexplain = { en = \"b\" }\nbogus = 1\n",
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                LocatedError {
                    line: 5,
                    subject: None,
                    ..
                }
            ),
            "{e}"
        );
    }
}
