//! The scenarios shipped inside the binary, and how a `SCENARIO` argument is resolved to a text.
//!
//! Resolution order (documented in `migralab sim --help`):
//! 1. an existing file at that path is read;
//! 2. otherwise a bare name (`lesson`) picks a shipped scenario;
//! 3. otherwise it is an error: a missing file if the argument looks like a path, else an unknown
//!    name, listing the shipped names.

use anyhow::bail;
use migralab_real::fsutil::{Limit, read_text_bounded};
use migralab_sim_core::{Located, Scenario};
use std::path::Path;

/// A scenario that ships with migralab, embedded at compile time.
#[derive(Debug, Clone, Copy)]
pub struct Shipped {
    /// The bare name, e.g. `lesson` (also the file stem in `scenarios/`).
    pub name: &'static str,
    /// One line on what it shows, for `--help`.
    pub about: &'static str,
    /// The TOML text.
    pub text: &'static str,
}

macro_rules! shipped {
    ($name:literal, $about:literal) => {
        Shipped {
            name: $name,
            about: $about,
            text: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../scenarios/",
                $name,
                ".toml"
            )),
        }
    };
}

/// Every shipped scenario, in teaching order. The first is the default.
pub const SHIPPED: &[Shipped] = &[
    shipped!(
        "lesson",
        "the lesson's lab: db01 (2 GiB) over 1 GbE with NFS, `--live --persistent`"
    ),
    shipped!(
        "exp1-shared-storage",
        "Experiment 1: ping db01 while it moves; shared storage, only RAM is copied"
    ),
    shipped!(
        "exp1-no-shared-storage",
        "the same VM on local disks: `--copy-storage-all` copies 20 GiB first"
    ),
    shipped!(
        "busy-db-no-converge",
        "a database dirtying RAM faster than 1 GbE carries: pre-copy never ends"
    ),
    shipped!(
        "busy-db-auto-converge",
        "the same database with `--auto-converge`: throttled vCPUs let it finish"
    ),
    shipped!(
        "busy-db-postcopy",
        "the same database with `--postcopy`: it switches over after one pass"
    ),
    shipped!(
        "maintenance-evacuate",
        "four VMs leave kvm-host-01 at once over one shared 10 GbE link"
    ),
    shipped!(
        "exp2-cpu-models",
        "Experiment 2: host-passthrough fails late, host-model is refused, a baseline model works"
    ),
    shipped!(
        "cpu-passthrough-sigill",
        "host-passthrough to a CPU without the guest's newest instructions: it moves, then SIGILL"
    ),
    shipped!(
        "prereq-no-shared-storage",
        "prerequisite 1 broken: local disks only (\"Unsafe migration\")"
    ),
    shipped!(
        "prereq-no-bridge",
        "prerequisite 2 broken: no br0 on kvm-host-02"
    ),
    shipped!(
        "prereq-no-ssh-trust",
        "prerequisite 3 broken: root cannot ssh to kvm-host-02 by key"
    ),
    shipped!(
        "prereq-cpu-mismatch",
        "prerequisite 4 broken: kvm-host-02 has an older CPU"
    ),
    shipped!(
        "prereq-old-qemu",
        "prerequisite 5 broken: kvm-host-02's QEMU lacks the machine type"
    ),
    shipped!(
        "prereq-firewall",
        "forgotten prerequisite: ports 49152-49215 blocked (data is not sent over SSH)"
    ),
    shipped!(
        "prereq-dns",
        "forgotten prerequisite: kvm-host-02 does not resolve on kvm-host-01"
    ),
    shipped!(
        "prereq-dns-loopback",
        "name trap: a copied `127.0.1.1 kvm-host-02` line makes kvm-host-01 reach itself"
    ),
    shipped!(
        "prereq-dns-localhost",
        "name trap: kvm-host-02's hostname is still localhost (\"requires an FQDN\")"
    ),
    shipped!(
        "prereq-same-host",
        "forgotten prerequisite: cloned hosts share one host UUID"
    ),
    shipped!(
        "cache-mode-unsafe",
        "disk cache writeback on an old QEMU: \"Unsafe migration\" unless --unsafe"
    ),
    shipped!(
        "encryption-tls",
        "both hosts have TLS certificates: `--tls` encrypts the migration stream"
    ),
    shipped!(
        "nat-network-trap",
        "a VM on libvirt's NAT network `default`: it moves, then its old host cannot reach it"
    ),
    shipped!(
        "migration-bandwidth",
        "the lesson's migration capped with `--bandwidth 56`: half the 1 GbE link stays free for NFS"
    ),
    shipped!(
        "cdrom-local-iso",
        "a local ISO left in the CD-ROM: \"Cannot access storage file\" until it is ejected"
    ),
    shipped!(
        "labbox",
        "the lab in a box (`migralab labbox up`) simulated: compare it with the real one"
    ),
];

/// The scenario used when none is named.
pub const DEFAULT: &str = "lesson";

/// The shipped scenario called `name`, if there is one.
pub fn shipped(name: &str) -> Option<&'static Shipped> {
    SHIPPED.iter().find(|s| s.name == name)
}

/// A scenario text and where it came from (the `origin` shown in error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// File name for errors: the path as given, or `scenarios/NAME.toml` for a shipped one.
    pub origin: String,
    /// The TOML text.
    pub text: String,
}

/// Resolve a `SCENARIO` argument (the default scenario when `None`), apply `--set` overrides and
/// check it. Scenario errors already name the file, line and column: no context is added.
pub fn load(arg: Option<&Path>, overrides: &[String]) -> anyhow::Result<Scenario> {
    let source = resolve(arg.unwrap_or(Path::new(DEFAULT)))?;
    Ok(Scenario::load(
        Located {
            text: &source.text,
            origin: &source.origin,
        },
        overrides,
    )?)
}

/// Resolve a `SCENARIO` argument: a file path, else a shipped name (see the module docs).
pub fn resolve(arg: &Path) -> anyhow::Result<Source> {
    if arg.is_file() {
        let text = read_text_bounded(arg, Limit::SCENARIO).map_err(|e| {
            anyhow::anyhow!(
                "cannot read scenario file {}: {}",
                arg.display(),
                e.reason()
            )
        })?;
        return Ok(Source {
            origin: arg.display().to_string(),
            text,
        });
    }
    if let Some(s) = arg.to_str().and_then(shipped) {
        return Ok(Source {
            origin: format!("scenarios/{}.toml", s.name),
            text: s.text.to_string(),
        });
    }
    if looks_like_path(arg) || std::fs::symlink_metadata(arg).is_ok() {
        // Let the reader say why (no such file, permission denied, is a directory, is a FIFO:
        // refused without being opened, so it cannot block).
        let err = read_text_bounded(arg, Limit::SCENARIO)
            .err()
            .map_or_else(|| "not a regular file".to_string(), |e| e.reason());
        let hint = arg
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(shipped)
            .map(|s| {
                format!(
                    " (the shipped scenario is named without a path: `{}`)",
                    s.name
                )
            })
            .unwrap_or_default();
        bail!("cannot read scenario file {}: {err}{hint}", arg.display());
    }
    let name = arg.to_string_lossy();
    let suggestion = closest_name(&name)
        .map(|n| format!(" Did you mean `{n}`?"))
        .unwrap_or_default();
    bail!(
        "no scenario file or shipped scenario named `{name}`.{suggestion} Shipped scenarios: {}",
        shipped_names().join(", ")
    )
}

/// The shipped names, in order.
pub fn shipped_names() -> Vec<&'static str> {
    SHIPPED.iter().map(|s| s.name).collect()
}

/// A path separator or a `.toml` ending means the user meant a file, not a shipped name.
fn looks_like_path(arg: &Path) -> bool {
    arg.components().count() > 1
        || arg
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
}

/// The shipped name within a small edit distance of `name`, for a "did you mean" hint.
fn closest_name(name: &str) -> Option<&'static str> {
    SHIPPED
        .iter()
        .map(|s| (edit_distance(name, s.name), s.name))
        .filter(|(d, n)| *d <= (n.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            cur.push(substitute.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use migralab_sim_core::{Located, Scenario};
    use std::path::PathBuf;

    #[test]
    fn every_shipped_scenario_loads_and_carries_its_own_name() {
        for s in SHIPPED {
            let scenario = Scenario::load(
                Located {
                    text: s.text,
                    origin: s.name,
                },
                &[],
            )
            .unwrap_or_else(|e| panic!("{}: {e}", s.name));
            assert_eq!(
                scenario.name, s.name,
                "the `name` inside scenarios/{}.toml",
                s.name
            );
        }
        assert!(shipped(DEFAULT).is_some());
    }

    #[test]
    fn bare_name_resolves_to_the_shipped_text() {
        let src = resolve(Path::new("busy-db-postcopy")).unwrap();
        assert_eq!(src.origin, "scenarios/busy-db-postcopy.toml");
        assert!(src.text.contains("name = \"busy-db-postcopy\""));
    }

    #[test]
    fn an_existing_file_is_read_from_disk() {
        let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "scenarios", "lesson.toml"]
            .iter()
            .collect();
        let src = resolve(&path).unwrap();
        assert_eq!(src.origin, path.display().to_string());
        assert_eq!(src.text, shipped("lesson").unwrap().text);
    }

    #[test]
    fn unknown_name_lists_the_shipped_ones_and_suggests_the_closest() {
        let err = format!("{:#}", resolve(Path::new("lesosn")).unwrap_err());
        assert!(
            err.contains("no scenario file or shipped scenario named `lesosn`"),
            "{err}"
        );
        assert!(err.contains("Did you mean `lesson`?"), "{err}");
        for name in shipped_names() {
            assert!(err.contains(name), "{name} missing from: {err}");
        }
        let err = format!("{:#}", resolve(Path::new("zzz")).unwrap_err());
        assert!(!err.contains("Did you mean"), "{err}");
    }

    #[test]
    fn a_missing_path_is_a_file_error_not_a_name_error() {
        let err = format!(
            "{:#}",
            resolve(Path::new("no/such/dir/x.toml")).unwrap_err()
        );
        assert!(
            err.starts_with("cannot read scenario file no/such/dir/x.toml:"),
            "{err}"
        );
        let err = format!("{:#}", resolve(Path::new("lesson.toml")).unwrap_err());
        assert!(err.contains("named without a path: `lesson`"), "{err}");
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("lesson", "lesson"), 0);
        assert_eq!(edit_distance("lesosn", "lesson"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("busy-db-postcpy", "busy-db-postcopy"), 1);
    }
}
