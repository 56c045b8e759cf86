//! "Write the command" questions: a student's `virsh migrate` line is read by the lab shell's
//! own `virsh` parser ([`crate::shell`]'s tokenizer, virsh's global options and the `migrate`
//! option table), so the quiz and the lab accept exactly the same command lines, and then
//! compared with the model answer.
//!
//! What the shell's parser gives (see `shell/virsh/opts.rs`, which follows libvirt's vsh):
//!
//! - bash's word splitting: `'single'` and `"double"` quotes, backslash escapes, `\` line
//!   continuations;
//! - `virsh` may carry the global `-c URI`/`--connect URI`/`--connect=URI` (and `-q`, `-r`, `-t`)
//!   before `migrate`;
//! - options in any order, as `--name value` or `--name=value`; `--tunneled` is virsh's alias of
//!   `--tunnelled`; `virsh migrate` has no one-letter options (virsh reads `-l` as data);
//! - `domain` and `desturi` are positional or named (`--domain`, `--desturi`); the optional
//!   `migrateuri graphicsuri listen-address dname` follow positionally;
//! - an option given twice, an unknown option, a flag given a value are errors worded as virsh's.
//!
//! On top of that, a pasted prompt (`$ `, `# `) is dropped, and a leading `sudo` and a program
//! path (`/usr/bin/virsh`) are accepted, as a student on a real host types them.
//!
//! Two commands are the same answer when they have the same flag set, the same option values, the
//! same domain and an equivalent destination URI: `qemu+ssh://HOST/system`,
//! `qemu+ssh://root@HOST/system/`, `qemu+ssh://HOST:22/system?no_tty=1` all name one libvirtd.

use migralab_shell::{MigrateParseError, migrate_option, parse_migrate_line};
use migralab_sim_core::text::Text;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Is `name` (with or without `--`, aliases allowed) a `virsh migrate` flag that takes no value?
pub fn is_migrate_flag(name: &str) -> bool {
    migrate_option(name).is_some_and(|o| !o.takes_value)
}

/// The canonical name of a `virsh migrate` option written by a teacher (`--tunneled` →
/// `tunnelled`), or the text without `--` when virsh has no such option.
fn canonical(name: &str) -> &str {
    migrate_option(name).map_or(name.trim_start_matches("--"), |o| o.name)
}

/// Why a command line is not a usable `virsh migrate` command. The messages follow virsh's (and
/// bash's, for a line bash itself would refuse).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandError {
    /// A quote was opened and never closed.
    UnclosedQuote(char),
    /// Another bash syntax error, as bash words it.
    Syntax(String),
    /// Nothing was typed.
    Empty,
    /// Several commands joined by `;`, `&&`, `||` or `|`.
    SeveralCommands,
    /// The line does not start with `virsh`.
    NotVirsh(String),
    /// virsh refused its global options (before the command), as virsh words it.
    Global(String),
    /// `virsh` is followed by another command than `migrate` (empty: by none).
    NotMigrate(String),
    /// virsh refused the options of `migrate`: its message without `error: `
    /// (`command 'migrate' doesn't support option --foo`, `option --live already seen`,
    /// `command 'migrate' requires <desturi> option`, ...).
    Virsh(String),
    /// `--help`: virsh prints the help and migrates nothing.
    Help,
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::UnclosedQuote(q) => write!(f, "unterminated {q} quote"),
            CommandError::Syntax(m) => write!(f, "{m}"),
            CommandError::Empty => write!(f, "no command was given"),
            CommandError::SeveralCommands => write!(
                f,
                "write one `virsh migrate` command, not several joined by `;`, `&&`, `||` or `|`"
            ),
            CommandError::NotVirsh(w) => {
                write!(f, "`{w}` is not virsh: start with `virsh migrate`")
            }
            CommandError::Global(m) => write!(f, "{m}"),
            CommandError::NotMigrate(w) if w.is_empty() => {
                write!(f, "`virsh` alone runs no command: use `virsh migrate`")
            }
            CommandError::NotMigrate(w) => {
                write!(
                    f,
                    "`virsh {w}` is not the migrate command: use `virsh migrate`"
                )
            }
            CommandError::Virsh(m) => write!(f, "{m}"),
            CommandError::Help => write!(
                f,
                "--help only prints the help of `virsh migrate`: it migrates nothing"
            ),
        }
    }
}

impl std::error::Error for CommandError {}

impl From<MigrateParseError> for CommandError {
    fn from(e: MigrateParseError) -> CommandError {
        match e {
            MigrateParseError::UnmatchedQuote(q) => CommandError::UnclosedQuote(q),
            MigrateParseError::Syntax(m) => CommandError::Syntax(m),
            MigrateParseError::Empty => CommandError::Empty,
            MigrateParseError::SeveralCommands => CommandError::SeveralCommands,
            MigrateParseError::NotVirsh(w) => CommandError::NotVirsh(w),
            MigrateParseError::Global(lines) => CommandError::Global(
                lines
                    .iter()
                    .map(|l| l.strip_prefix("error: ").unwrap_or(l))
                    .collect::<Vec<_>>()
                    .join(" / "),
            ),
            MigrateParseError::NoCommand => CommandError::NotMigrate(String::new()),
            MigrateParseError::NotMigrate(w) => CommandError::NotMigrate(w),
            MigrateParseError::Options(m) => CommandError::Virsh(m),
            MigrateParseError::Help => CommandError::Help,
        }
    }
}

/// Drop a prompt pasted with the command (`$ virsh ...`, `# virsh ...`): bash would read `$` as a
/// command and `#` as the start of a comment.
fn strip_prompt(line: &str) -> &str {
    let t = line.trim_start();
    ["$ ", "# ", "$\t", "#\t"]
        .iter()
        .find_map(|p| t.strip_prefix(p))
        .unwrap_or(t)
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
    /// Parse a command line with the lab shell's `virsh migrate` parser.
    pub fn parse(line: &str) -> Result<MigrateCommand, CommandError> {
        let parsed = parse_migrate_line(strip_prompt(line))?;
        let mut values = parsed.values;
        // The shell's parser already requires both; keep the error if that ever changes.
        let domain = values.remove("domain").ok_or_else(|| {
            CommandError::Virsh("command 'migrate' requires <domain> option".into())
        })?;
        let desturi = values.remove("desturi").ok_or_else(|| {
            CommandError::Virsh("command 'migrate' requires <desturi> option".into())
        })?;
        Ok(MigrateCommand {
            domain,
            desturi: DestUri::parse(&desturi),
            flags: parsed.flags,
            options: values,
            connect: parsed.connect,
        })
    }
}

/// One difference between a student's command and the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Issue {
    /// A word with one dash (`-l`) where virsh expects data: virsh has no one-letter options for
    /// `migrate` and took the word as the value of a positional option.
    SingleDash {
        /// The word as typed.
        word: String,
        /// The option virsh filled with it (`domain`, `desturi`, `migrateuri`, ...).
        read_as: &'static str,
    },
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
    // `-l` is data to virsh: it fills the next positional option and shifts the others, so
    // comparing the positional options would only repeat that one mistake.
    let positional = |name: &str| migrate_option(name).is_some_and(|o| o.positional);
    let dashed = |v: &str| v.len() > 1 && v.starts_with('-') && v.parse::<f64>().is_err();
    let given_positional = std::iter::once(("domain", given.domain.as_str()))
        .chain(std::iter::once(("desturi", given.desturi.raw.as_str())))
        .chain(
            given
                .options
                .iter()
                .filter(|(n, _)| positional(n))
                .map(|(n, v)| (*n, v.as_str())),
        );
    for (read_as, word) in given_positional {
        if dashed(word) {
            issues.push(Issue::SingleDash {
                word: word.to_string(),
                read_as,
            });
        }
    }
    let shifted = !issues.is_empty();
    if !shifted {
        compare_target(expected, given, &mut issues);
    }
    let is_optional = |f: &str| optional.iter().any(|o| canonical(o) == f);
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
        if shifted && positional(name) {
            continue;
        }
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
        if shifted && positional(name) {
            continue;
        }
        if !expected.options.contains_key(name) && !is_optional(name) {
            issues.push(Issue::ExtraOption {
                name,
                value: value.clone(),
            });
        }
    }
    issues
}

/// The domain and the destination URI.
fn compare_target(expected: &MigrateCommand, given: &MigrateCommand, issues: &mut Vec<Issue>) {
    if expected.domain != given.domain {
        issues.push(Issue::WrongDomain {
            expected: expected.domain.clone(),
            given: given.domain.clone(),
        });
    }
    let (e, g) = (&expected.desturi, &given.desturi);
    if g.scheme.is_empty() && !e.scheme.is_empty() {
        issues.push(Issue::NotAUri(g.raw.clone()));
        return;
    }
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
    } else if e.effective_user() != g.effective_user() || e.effective_port() != g.effective_port() {
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
                .find(|m| m.when == when && canonical(&m.flag) == flag)
                .map(|m| m.why.clone())
        };
        let meaning = |flag: &str| {
            flag_meaning(flag).map_or_else(
                || (String::new(), String::new()),
                |(id, en)| (format!(" {id}"), format!(" {en}")),
            )
        };
        match self {
            Issue::SingleDash { word, read_as } => Text {
                id: format!(
                    "`{word}` bukan opsi virsh migrate: opsinya ditulis dengan dua tanda minus (mis. `--live`), dan virsh membaca `{word}` sebagai data, di sini sebagai <{read_as}>."
                ),
                en: format!(
                    "`{word}` is not a virsh migrate option: its options are written with two dashes (e.g. `--live`), and virsh reads `{word}` as data, here as the <{read_as}>."
                ),
            },
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
    fn words_are_split_by_the_shell_tokenizer() {
        let c = parse(
            r#"virsh migrate 'my vm' "qemu+ssh://kvm-host-02/system" --dname a\ b \
 --live"#,
        );
        assert_eq!(c.domain, "my vm");
        assert_eq!(c.desturi.host, "kvm-host-02");
        assert_eq!(c.options.get("dname").map(String::as_str), Some("a b"));
        assert!(c.flags.contains("live"));
        assert_eq!(
            MigrateCommand::parse("virsh 'open"),
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
        assert_eq!(
            err("virsh migrate --live=yes db01 qemu+ssh://h/system").as_deref(),
            Some("invalid '=' after option --live")
        );
    }

    #[test]
    fn a_single_dash_word_is_data_as_in_virsh() {
        // virsh has no one-letter `migrate` options: `-l` is taken as the domain, which shifts
        // the other positional words. Only that mistake is reported, with the flags.
        let a = parse("virsh migrate --live db01 qemu+ssh://h/system");
        let b = parse("virsh migrate -l db01 qemu+ssh://h/system");
        assert_eq!(b.domain, "-l");
        assert_eq!(
            compare(&a, &b, &[]),
            vec![
                Issue::SingleDash {
                    word: "-l".into(),
                    read_as: "domain"
                },
                Issue::MissingFlag("live"),
            ]
        );
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
