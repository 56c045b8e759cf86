//! A small `virsh migrate` parser for "write the command" questions, and the comparison of a
//! student's command with the expected one.
//!
//! TODO(quiz): switch to the lab shell's `virsh` parser once it lands in sim-core, so the quiz
//! and the shell accept exactly the same command lines. Until then this parser follows virsh's
//! own rules for the `migrate` command (libvirt `tools/virsh-domain.c`, `opts_migrate`):
//!
//! - the line is split like a shell does: `'single'` and `"double"` quotes, backslash escapes
//!   and `\` line continuations; a leading `$`/`#` prompt and `sudo` are skipped;
//! - `virsh` may carry the global `-c URI`/`--connect URI` (and `-q`/`--quiet`) before `migrate`;
//! - options may come in any order, as `--name value` or `--name=value`;
//! - `domain` and `desturi` are positional, or named with `--domain`/`--desturi`; the optional
//!   `migrateuri graphicsuri listen-address dname` follow positionally;
//! - `--tunneled` is virsh's alias of `--tunnelled`. `virsh migrate` has no one-letter options,
//!   so there are no other short forms to accept;
//! - an option given twice is an error, as in virsh.
//!
//! Two commands are the same answer when they have the same flag set, the same option values, the
//! same domain and an equivalent destination URI: `qemu+ssh://HOST/system`,
//! `qemu+ssh://root@HOST/system/`, `qemu+ssh://HOST:22/system?no_tty=1` all name one libvirtd.

use crate::scenario::Text;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// `virsh migrate` options that take no value (canonical names, without `--`).
const BOOL_OPTIONS: &[&str] = &[
    "live",
    "offline",
    "p2p",
    "direct",
    "tunnelled",
    "persistent",
    "undefinesource",
    "suspend",
    "copy-storage-all",
    "copy-storage-inc",
    "copy-storage-synchronous-writes",
    "change-protection",
    "unsafe",
    "verbose",
    "compressed",
    "auto-converge",
    "rdma-pin-all",
    "abort-on-error",
    "postcopy",
    "postcopy-after-precopy",
    "postcopy-resume",
    "timeout-suspend",
    "timeout-postcopy",
    "tls",
    "parallel",
    "zerocopy",
];

/// `virsh migrate` options that take a value. The first six can also be given positionally, in
/// this order.
const VALUE_OPTIONS: &[&str] = &[
    "domain",
    "desturi",
    "migrateuri",
    "graphicsuri",
    "listen-address",
    "dname",
    "timeout",
    "xml",
    "persistent-xml",
    "migrate-disks",
    "migrate-disks-detect-zeroes",
    "disks-port",
    "disks-uri",
    "comp-methods",
    "comp-mt-level",
    "comp-mt-threads",
    "comp-mt-dthreads",
    "comp-xbzrle-cache",
    "comp-zlib-level",
    "comp-zstd-level",
    "auto-converge-initial",
    "auto-converge-increment",
    "postcopy-bandwidth",
    "parallel-connections",
    "bandwidth",
    "tls-destination",
    "available-switchover-bandwidth",
];

/// Positional arguments, in virsh's order.
const POSITIONAL: &[&str] = &[
    "domain",
    "desturi",
    "migrateuri",
    "graphicsuri",
    "listen-address",
    "dname",
];

/// Aliases virsh accepts, mapped to the canonical option.
const ALIASES: &[(&str, &str)] = &[("tunneled", "tunnelled")];

/// Is `name` (without `--`, aliases allowed) a `virsh migrate` flag that takes no value?
pub fn is_migrate_flag(name: &str) -> bool {
    let name = name.trim_start_matches("--");
    let name = canonical(name).unwrap_or(name);
    BOOL_OPTIONS.contains(&name)
}

fn canonical(name: &str) -> Option<&'static str> {
    if let Some((_, to)) = ALIASES.iter().find(|(from, _)| *from == name) {
        return Some(to);
    }
    BOOL_OPTIONS
        .iter()
        .chain(VALUE_OPTIONS)
        .find(|o| **o == name)
        .copied()
}

/// Why a command line is not a usable `virsh migrate` command. The messages follow virsh's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandError {
    /// A quote was opened and never closed.
    UnclosedQuote(char),
    /// Nothing was typed.
    Empty,
    /// The line does not start with `virsh`.
    NotVirsh(String),
    /// `virsh` is followed by another command than `migrate`.
    NotMigrate(String),
    /// An option `virsh migrate` does not have.
    UnknownOption(String),
    /// An option that needs a value came last.
    MissingValue(&'static str),
    /// A flag was given a value (`--live=yes`).
    UnexpectedValue(&'static str),
    /// The same option twice.
    Repeated(&'static str),
    /// More positional arguments than `virsh migrate` takes.
    UnexpectedData(String),
    /// `domain` or `desturi` is missing.
    Required(&'static str),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::UnclosedQuote(q) => write!(f, "unterminated {q} quote"),
            CommandError::Empty => write!(f, "no command was given"),
            CommandError::NotVirsh(w) => {
                write!(f, "`{w}` is not virsh: start with `virsh migrate`")
            }
            CommandError::NotMigrate(w) => {
                write!(
                    f,
                    "`virsh {w}` is not the migrate command: use `virsh migrate`"
                )
            }
            CommandError::UnknownOption(o) => {
                write!(f, "command 'migrate' doesn't support option {o}")
            }
            CommandError::MissingValue(o) => write!(f, "expected syntax: --{o} <string>"),
            CommandError::UnexpectedValue(o) => write!(f, "option --{o} takes no value"),
            CommandError::Repeated(o) => write!(f, "option --{o} already seen"),
            CommandError::UnexpectedData(d) => write!(f, "unexpected data '{d}'"),
            CommandError::Required(o) => write!(f, "command 'migrate' requires <{o}> option"),
        }
    }
}

impl std::error::Error for CommandError {}

/// Split a command line into words as a POSIX shell would (no variables, no globbing).
pub fn tokenize(line: &str) -> Result<Vec<String>, CommandError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err(CommandError::UnclosedQuote('\'')),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => word.push(ch),
                            Some('\n') => {}
                            Some(ch) => {
                                word.push('\\');
                                word.push(ch);
                            }
                            None => return Err(CommandError::UnclosedQuote('"')),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err(CommandError::UnclosedQuote('"')),
                    }
                }
            }
            '\\' => match chars.next() {
                // A line continuation: the backslash and the newline vanish.
                Some('\n') => {}
                Some('\r') if chars.peek() == Some(&'\n') => {
                    chars.next();
                }
                Some(ch) => {
                    in_word = true;
                    word.push(ch);
                }
                None => {}
            },
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// A libvirt connection URI, split into the parts that decide which libvirtd it reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestUri {
    /// The URI as typed.
    pub raw: String,
    /// `qemu+ssh`, `qemu+tcp`, `qemu`, ... (lower case). Empty if the text is not a URI.
    pub scheme: String,
    /// The user before `@`, if any.
    pub user: Option<String>,
    /// Host name or address (lower case).
    pub host: String,
    /// Port, if given.
    pub port: Option<u16>,
    /// Path without the trailing slash: `/system` or `/session`.
    pub path: String,
}

impl DestUri {
    /// Split a URI. Anything that is not `scheme://...` keeps only `raw` (and `host` = the text,
    /// so that a bare host name can still be compared).
    pub fn parse(raw: &str) -> DestUri {
        let Some((scheme, rest)) = raw.split_once("://") else {
            return DestUri {
                raw: raw.to_string(),
                scheme: String::new(),
                user: None,
                host: raw.to_ascii_lowercase(),
                port: None,
                path: String::new(),
            };
        };
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_string()), h),
            None => (None, authority),
        };
        // `[v6::addr]:port`, `host:port` or just a host.
        let (host, port) = match hostport.strip_prefix('[').and_then(|r| r.split_once(']')) {
            Some((v6, after)) => (v6.to_string(), after.strip_prefix(':')),
            None => match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            },
        };
        let port = port.and_then(|p| p.parse::<u16>().ok());
        let mut path = path.trim_end_matches('/').to_string();
        while path.contains("//") {
            path = path.replace("//", "/");
        }
        DestUri {
            raw: raw.to_string(),
            scheme: scheme.to_ascii_lowercase(),
            user,
            host: host.to_ascii_lowercase(),
            port,
            path,
        }
    }

    /// The transport after `+` (`ssh`, `tcp`, `tls`); `qemu://` alone means TLS.
    fn transport(&self) -> &str {
        self.scheme.split_once('+').map_or("tls", |(_, t)| t)
    }

    /// The port with the transport's default filled in.
    fn effective_port(&self) -> Option<u16> {
        self.port.or(match self.transport() {
            "ssh" => Some(22),
            "tcp" => Some(16509),
            "tls" => Some(16514),
            _ => None,
        })
    }

    /// The user, with `root` the same as none: the lab logs in as root either way.
    fn effective_user(&self) -> Option<&str> {
        self.user.as_deref().filter(|u| *u != "root")
    }
}

/// A parsed `virsh migrate` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrateCommand {
    /// The domain (positional or `--domain`).
    pub domain: String,
    /// The destination URI (positional or `--desturi`).
    pub desturi: DestUri,
    /// Flags given, canonical names without `--` (`tunneled` is stored as `tunnelled`).
    pub flags: BTreeSet<&'static str>,
    /// Options with values other than domain and desturi, canonical names without `--`.
    pub options: BTreeMap<&'static str, String>,
    /// virsh's global `-c`/`--connect` URI, if given (not compared).
    pub connect: Option<String>,
}

impl MigrateCommand {
    /// Parse a command line.
    pub fn parse(line: &str) -> Result<MigrateCommand, CommandError> {
        let words = tokenize(line)?;
        let mut it = words.iter().map(String::as_str).peekable();
        // A pasted prompt and sudo are not part of the command.
        while let Some(&w) = it.peek() {
            if matches!(w, "$" | "#" | "sudo") {
                it.next();
            } else {
                break;
            }
        }
        match it.next() {
            None => return Err(CommandError::Empty),
            Some("virsh") => {}
            Some(w) if w.ends_with("/virsh") => {}
            Some(w) => return Err(CommandError::NotVirsh(w.to_string())),
        }
        let mut connect = None;
        loop {
            match it.next() {
                None => return Err(CommandError::NotMigrate(String::new())),
                Some("-c" | "--connect") => {
                    connect = Some(
                        it.next()
                            .ok_or(CommandError::MissingValue("connect"))?
                            .to_string(),
                    );
                }
                Some(w) if w.starts_with("--connect=") => {
                    connect = Some(w.trim_start_matches("--connect=").to_string());
                }
                Some("-q" | "--quiet" | "-r" | "--readonly") => {}
                Some("migrate") => break,
                Some(w) => return Err(CommandError::NotMigrate(w.to_string())),
            }
        }
        let mut flags = BTreeSet::new();
        let mut values: BTreeMap<&'static str, String> = BTreeMap::new();
        let mut positional: Vec<String> = Vec::new();
        while let Some(w) = it.next() {
            if let Some(body) = w.strip_prefix("--").filter(|b| !b.is_empty()) {
                let (name, inline) = match body.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (body, None),
                };
                let name = canonical(name).ok_or_else(|| CommandError::UnknownOption(w.into()))?;
                if BOOL_OPTIONS.contains(&name) {
                    if inline.is_some() {
                        return Err(CommandError::UnexpectedValue(name));
                    }
                    if !flags.insert(name) {
                        return Err(CommandError::Repeated(name));
                    }
                } else {
                    let value = match inline {
                        Some(v) => v.to_string(),
                        None => it
                            .next()
                            .ok_or(CommandError::MissingValue(name))?
                            .to_string(),
                    };
                    if values.insert(name, value).is_some() {
                        return Err(CommandError::Repeated(name));
                    }
                }
            } else if w.starts_with('-') && w.len() > 1 && w.parse::<f64>().is_err() {
                return Err(CommandError::UnknownOption(w.to_string()));
            } else {
                positional.push(w.to_string());
            }
        }
        // Positional arguments fill the data options not already named, in virsh's order.
        let mut free = POSITIONAL.iter().filter(|p| !values.contains_key(*p));
        let mut assigned = Vec::new();
        for p in positional {
            match free.next() {
                Some(name) => assigned.push((*name, p)),
                None => return Err(CommandError::UnexpectedData(p)),
            }
        }
        values.extend(assigned);
        let domain = values
            .remove("domain")
            .ok_or(CommandError::Required("domain"))?;
        let desturi = values
            .remove("desturi")
            .ok_or(CommandError::Required("desturi"))?;
        Ok(MigrateCommand {
            domain,
            desturi: DestUri::parse(&desturi),
            flags,
            options: values,
            connect,
        })
    }
}

/// One difference between a student's command and the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Issue {
    /// A flag the answer needs is not there.
    MissingFlag(&'static str),
    /// A flag the answer does not want is there.
    ExtraFlag(&'static str),
    /// An option with a value is missing.
    MissingOption {
        /// Option name.
        name: &'static str,
        /// The expected value.
        value: String,
    },
    /// An option with a value that is not wanted.
    ExtraOption {
        /// Option name.
        name: &'static str,
        /// The value given.
        value: String,
    },
    /// An option has another value.
    WrongValue {
        /// Option name.
        name: &'static str,
        /// Expected value.
        expected: String,
        /// Given value.
        given: String,
    },
    /// Another domain is migrated.
    WrongDomain {
        /// Expected domain.
        expected: String,
        /// Given domain.
        given: String,
    },
    /// The destination is another host.
    WrongHost {
        /// Expected host.
        expected: String,
        /// Given host.
        given: String,
    },
    /// The destination URI is not a libvirt URI at all (`kvm-host-02` instead of `qemu+ssh://...`).
    NotAUri(String),
    /// Another driver or transport (`qemu+tcp` where `qemu+ssh` was asked).
    WrongScheme {
        /// Expected scheme.
        expected: String,
        /// Given scheme.
        given: String,
    },
    /// `/session` where `/system` was asked, or no path.
    WrongPath {
        /// Expected path.
        expected: String,
        /// Given path.
        given: String,
    },
    /// Another user than root, or another port.
    WrongLogin {
        /// Expected `user@host:port`.
        expected: String,
        /// Given `user@host:port`.
        given: String,
    },
}

/// A teacher's explanation for one flag being missing or extra in one question.
#[derive(Debug, Clone, PartialEq)]
pub struct Mistake {
    /// The flag, canonical, without `--`.
    pub flag: String,
    /// When it applies.
    pub when: MistakeWhen,
    /// What to tell the student.
    pub why: Text,
}

/// Whether a [`Mistake`] is about a missing or an extra flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MistakeWhen {
    /// The flag was needed and left out.
    Missing,
    /// The flag was not asked for and given.
    Extra,
}

/// Compare a student's command with the expected one. `optional` flags may be present or absent
/// (e.g. `verbose`). An empty list means the answer is right.
pub fn compare(
    expected: &MigrateCommand,
    given: &MigrateCommand,
    optional: &[String],
) -> Vec<Issue> {
    let mut issues = Vec::new();
    if expected.domain != given.domain {
        issues.push(Issue::WrongDomain {
            expected: expected.domain.clone(),
            given: given.domain.clone(),
        });
    }
    let (e, g) = (&expected.desturi, &given.desturi);
    if g.scheme.is_empty() && !e.scheme.is_empty() {
        issues.push(Issue::NotAUri(g.raw.clone()));
    } else {
        if e.host != g.host {
            issues.push(Issue::WrongHost {
                expected: e.host.clone(),
                given: g.host.clone(),
            });
        }
        if e.scheme != g.scheme {
            issues.push(Issue::WrongScheme {
                expected: e.scheme.clone(),
                given: g.scheme.clone(),
            });
        } else if e.effective_user() != g.effective_user()
            || e.effective_port() != g.effective_port()
        {
            let login = |u: &DestUri| {
                format!(
                    "{}@{}:{}",
                    u.effective_user().unwrap_or("root"),
                    u.host,
                    u.effective_port().map_or("?".into(), |p| p.to_string())
                )
            };
            issues.push(Issue::WrongLogin {
                expected: login(e),
                given: login(g),
            });
        }
        if e.path != g.path {
            issues.push(Issue::WrongPath {
                expected: e.path.clone(),
                given: g.path.clone(),
            });
        }
    }
    let is_optional = |f: &str| optional.iter().any(|o| o.trim_start_matches("--") == f);
    for f in expected.flags.difference(&given.flags) {
        if !is_optional(f) {
            issues.push(Issue::MissingFlag(f));
        }
    }
    for f in given.flags.difference(&expected.flags) {
        if !is_optional(f) {
            issues.push(Issue::ExtraFlag(f));
        }
    }
    for (name, value) in &expected.options {
        match given.options.get(name) {
            None => issues.push(Issue::MissingOption {
                name,
                value: value.clone(),
            }),
            Some(v) if !same_value(value, v) => issues.push(Issue::WrongValue {
                name,
                expected: value.clone(),
                given: v.clone(),
            }),
            Some(_) => {}
        }
    }
    for (name, value) in &given.options {
        if !expected.options.contains_key(name) && !is_optional(name) {
            issues.push(Issue::ExtraOption {
                name,
                value: value.clone(),
            });
        }
    }
    issues
}

/// Option values compare as numbers when both are numbers (`100` = `100.0`), as URIs when both
/// are URIs, else as text.
fn same_value(a: &str, b: &str) -> bool {
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        return x == y;
    }
    if a.contains("://") && b.contains("://") {
        let (x, y) = (DestUri::parse(a), DestUri::parse(b));
        return x.scheme == y.scheme && x.host == y.host && x.port == y.port && x.path == y.path;
    }
    a == b
}

/// What a flag does, in both languages, for feedback on a missing or extra flag.
fn flag_meaning(flag: &str) -> Option<(&'static str, &'static str)> {
    let m = match flag {
        "live" => (
            "--live menjaga VM tetap berjalan selama RAM disalin. Tanpa --live, libvirt menjeda VM dulu, sehingga VM berhenti selama seluruh penyalinan (downtime = waktu migrasi).",
            "--live keeps the VM running while its RAM is copied. Without it libvirt pauses the VM first, so the VM is stopped for the whole copy (downtime = migration time).",
        ),
        "persistent" => (
            "--persistent menyimpan definisi VM di host tujuan setelah migrasi berhasil. Flag ini TIDAK menghapus definisi di host sumber.",
            "--persistent defines the VM on the destination after a successful migration. It does NOT remove the definition from the source host.",
        ),
        "undefinesource" => (
            "--undefinesource menghapus definisi VM dari host sumber setelah migrasi berhasil. Hanya flag ini yang membuat sumber 'lupa' pada VM.",
            "--undefinesource removes the VM's definition from the source host after a successful migration. Only this flag makes the source forget the VM.",
        ),
        "copy-storage-all" => (
            "--copy-storage-all menyalin seluruh disk ke host tujuan (lewat NBD) sebelum RAM. Perlu bila disk tidak ada di shared storage; tanpa shared storage migrasi ditolak ('Unsafe migration').",
            "--copy-storage-all copies the whole disk to the destination (over NBD) before the RAM. It is needed when the disk is not on shared storage; without shared storage the migration is refused ('Unsafe migration').",
        ),
        "copy-storage-inc" => (
            "--copy-storage-inc hanya menyalin lapisan disk di atas image dasar yang sudah ada di kedua host.",
            "--copy-storage-inc copies only the disk layer above a base image that both hosts already have.",
        ),
        "p2p" => (
            "--p2p membuat libvirtd sumber sendiri yang menghubungi libvirtd tujuan (bukan virsh). Wajib untuk --tunnelled.",
            "--p2p makes the source libvirtd itself connect to the destination libvirtd (not virsh). --tunnelled needs it.",
        ),
        "tunnelled" => (
            "--tunnelled mengirim data migrasi lewat koneksi libvirtd (cukup satu port), bukan lewat koneksi TCP langsung QEMU ke port 49152–49215. Harus bersama --p2p.",
            "--tunnelled sends the migration data through the libvirtd connection (one port is enough) instead of QEMU's direct TCP connection to ports 49152–49215. It needs --p2p.",
        ),
        "auto-converge" => (
            "--auto-converge memperlambat vCPU VM (mulai 20 %, naik 10 %) bila VM mengotori memori lebih cepat daripada yang bisa dikirim, agar migrasi bisa selesai.",
            "--auto-converge throttles the VM's vCPUs (from 20 %, +10 % steps) when it dirties memory faster than it can be sent, so that the migration can finish.",
        ),
        "postcopy" => (
            "--postcopy mengizinkan peralihan ke post-copy: VM pindah dulu ke tujuan lalu mengambil halaman yang tersisa sesuai kebutuhan. Peralihannya dipicu oleh migrate-postcopy, --postcopy-after-precopy atau --timeout-postcopy.",
            "--postcopy allows switching to post-copy: the VM moves to the destination first and pulls the remaining pages on demand. The switch is triggered by migrate-postcopy, --postcopy-after-precopy or --timeout-postcopy.",
        ),
        "postcopy-after-precopy" => (
            "--postcopy-after-precopy beralih ke post-copy otomatis setelah satu putaran pre-copy. Memerlukan --postcopy.",
            "--postcopy-after-precopy switches to post-copy automatically after one pre-copy pass. It needs --postcopy.",
        ),
        "unsafe" => (
            "--unsafe memaksa migrasi walau libvirt menilainya tidak aman (mis. disk tidak di shared storage). Tujuan lalu bisa gagal membuka disk.",
            "--unsafe forces a migration libvirt considers unsafe (e.g. a disk not on shared storage). The destination may then fail to open the disk.",
        ),
        "offline" => (
            "--offline hanya memindahkan definisi VM yang mati, tanpa isi memori.",
            "--offline moves only the definition of a shut-off VM, no memory.",
        ),
        "suspend" => (
            "--suspend membiarkan VM dalam keadaan dijeda di host tujuan.",
            "--suspend leaves the VM paused on the destination.",
        ),
        "verbose" => (
            "--verbose hanya menampilkan persentase kemajuan.",
            "--verbose only prints the progress percentage.",
        ),
        _ => return None,
    };
    Some(m)
}

impl Issue {
    /// Explain this difference to a student. A teacher's [`Mistake`] for the flag wins over the
    /// built-in text.
    pub fn explain(&self, mistakes: &[Mistake]) -> Text {
        let teacher = |flag: &str, when: MistakeWhen| {
            mistakes
                .iter()
                .find(|m| m.when == when && m.flag.trim_start_matches("--") == flag)
                .map(|m| m.why.clone())
        };
        let meaning = |flag: &str| {
            flag_meaning(flag).map_or_else(
                || (String::new(), String::new()),
                |(id, en)| (format!(" {id}"), format!(" {en}")),
            )
        };
        match self {
            Issue::MissingFlag(f) => teacher(f, MistakeWhen::Missing).unwrap_or_else(|| {
                let (id, en) = meaning(f);
                Text {
                    id: format!("Kurang --{f}.{id}"),
                    en: format!("Missing --{f}.{en}"),
                }
            }),
            Issue::ExtraFlag(f) => teacher(f, MistakeWhen::Extra).unwrap_or_else(|| {
                let (id, en) = meaning(f);
                Text {
                    id: format!("--{f} tidak diminta di soal ini.{id}"),
                    en: format!("--{f} is not asked for here.{en}"),
                }
            }),
            Issue::MissingOption { name, value } => Text {
                id: format!("Kurang --{name} {value}."),
                en: format!("Missing --{name} {value}."),
            },
            Issue::ExtraOption { name, value } => Text {
                id: format!("--{name} {value} tidak diminta di soal ini."),
                en: format!("--{name} {value} is not asked for here."),
            },
            Issue::WrongValue {
                name,
                expected,
                given,
            } => Text {
                id: format!("--{name} seharusnya {expected}, bukan {given}."),
                en: format!("--{name} should be {expected}, not {given}."),
            },
            Issue::WrongDomain { expected, given } => Text {
                id: format!("VM yang dipindahkan seharusnya `{expected}`, bukan `{given}`."),
                en: format!("The domain to migrate is `{expected}`, not `{given}`."),
            },
            Issue::WrongHost { expected, given } => Text {
                id: format!(
                    "Host tujuan seharusnya `{expected}`, bukan `{given}`. URI tujuan menunjuk libvirtd di host tujuan, bukan di host sumber."
                ),
                en: format!(
                    "The destination host is `{expected}`, not `{given}`. The destination URI names the libvirtd on the target host, not the source."
                ),
            },
            Issue::NotAUri(raw) => Text {
                id: format!(
                    "`{raw}` bukan URI libvirt. Tuliskan URI lengkap, misalnya qemu+ssh://kvm-host-02/system."
                ),
                en: format!(
                    "`{raw}` is not a libvirt URI. Write the whole URI, e.g. qemu+ssh://kvm-host-02/system."
                ),
            },
            Issue::WrongScheme { expected, given } => Text {
                id: format!(
                    "URI seharusnya memakai `{expected}://`, bukan `{given}://`: transport ini menentukan cara virsh menghubungi libvirtd tujuan."
                ),
                en: format!(
                    "The URI should use `{expected}://`, not `{given}://`: the transport decides how virsh reaches the destination libvirtd."
                ),
            },
            Issue::WrongPath { expected, given } => {
                let shown = |p: &str| {
                    if p.is_empty() {
                        "(none)".into()
                    } else {
                        p.to_string()
                    }
                };
                Text {
                    id: format!(
                        "Path URI seharusnya `{expected}` (instance libvirtd sistem, tempat VM lab didefinisikan), bukan `{}`.",
                        shown(given)
                    ),
                    en: format!(
                        "The URI path should be `{expected}` (the system libvirtd, where the lab's VMs are defined), not `{}`.",
                        shown(given)
                    ),
                }
            }
            Issue::WrongLogin { expected, given } => Text {
                id: format!(
                    "Login SSH seharusnya {expected}, bukan {given}. Lab ini memakai root dengan kunci SSH pada port 22."
                ),
                en: format!(
                    "The SSH login should be {expected}, not {given}. This lab uses root with an SSH key on port 22."
                ),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> MigrateCommand {
        MigrateCommand::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    #[test]
    fn tokenizer_handles_quotes_escapes_and_continuations() {
        assert_eq!(
            tokenize(
                r#"virsh migrate 'my vm' "a \"b\"" c\ d \
 --live"#
            )
            .unwrap_or_default(),
            vec!["virsh", "migrate", "my vm", "a \"b\"", "c d", "--live"]
        );
        assert_eq!(
            tokenize("virsh 'open"),
            Err(CommandError::UnclosedQuote('\''))
        );
    }

    #[test]
    fn uri_forms_are_equivalent() {
        let a = parse("virsh migrate db01 qemu+ssh://kvm-host-02/system");
        for uri in [
            "qemu+ssh://root@kvm-host-02/system",
            "qemu+ssh://kvm-host-02/system/",
            "qemu+ssh://KVM-HOST-02:22/system?no_tty=1",
            "'qemu+ssh://root@kvm-host-02//system/'",
        ] {
            let b = parse(&format!("virsh migrate db01 {uri}"));
            assert_eq!(compare(&a, &b, &[]), vec![], "{uri}");
        }
        let b = parse("virsh migrate db01 qemu+ssh://admin@kvm-host-02/system");
        assert!(matches!(
            compare(&a, &b, &[]).as_slice(),
            [Issue::WrongLogin { .. }]
        ));
    }

    #[test]
    fn named_positionals_alias_and_equals_form() {
        let a = parse("virsh migrate --live --p2p --tunnelled db01 qemu+ssh://kvm-host-02/system");
        let b = parse(
            "virsh -c qemu:///system migrate --desturi=qemu+ssh://kvm-host-02/system --tunneled --domain db01 --p2p --live",
        );
        assert_eq!(compare(&a, &b, &[]), vec![]);
        assert_eq!(b.connect.as_deref(), Some("qemu:///system"));
    }

    #[test]
    fn errors_follow_virsh() {
        let err = |l: &str| MigrateCommand::parse(l).err().map(|e| e.to_string());
        assert_eq!(
            err("virsh migrate --persistant db01 qemu+ssh://h/system").as_deref(),
            Some("command 'migrate' doesn't support option --persistant")
        );
        assert_eq!(
            err("virsh migrate --live --live db01 qemu+ssh://h/system").as_deref(),
            Some("option --live already seen")
        );
        assert_eq!(
            err("virsh migrate --live db01").as_deref(),
            Some("command 'migrate' requires <desturi> option")
        );
        assert_eq!(
            err("virsh migrate db01 a b c d e f").as_deref(),
            Some("unexpected data 'f'")
        );
        assert!(err("virsh list --all").is_some());
        assert!(err("scp db01 h:").is_some());
        assert!(err("virsh migrate -l db01 qemu+ssh://h/system").is_some());
    }

    #[test]
    fn optional_flags_and_numeric_values() {
        let a = parse("virsh migrate --live db01 qemu+ssh://h/system --bandwidth 100");
        let b = parse("virsh migrate --verbose --bandwidth=100.0 --live db01 qemu+ssh://h/system");
        assert_eq!(compare(&a, &b, &["verbose".into()]), vec![]);
        assert_eq!(compare(&a, &b, &[]), vec![Issue::ExtraFlag("verbose")]);
    }

    #[test]
    fn teacher_text_wins_over_the_built_in_one() {
        let m = Mistake {
            flag: "--persistent".into(),
            when: MistakeWhen::Extra,
            why: Text {
                id: "x".into(),
                en: "y".into(),
            },
        };
        assert_eq!(Issue::ExtraFlag("persistent").explain(&[m]).en, "y");
        assert!(
            Issue::MissingFlag("undefinesource")
                .explain(&[])
                .en
                .contains("Only this flag")
        );
    }
}
