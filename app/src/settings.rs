//! The instructor's settings: one TOML file (`instructor.toml` in the data directory, see
//! [`crate::storage::data_dir`]), documented in the book (docs/src/instructor/settings.md).
//!
//! Invariants:
//! - **The PIN is never stored.** Only its argon2id PHC string (random salt, slow hash) is kept;
//!   verifying goes through argon2, which compares in constant time.
//! - **Unknown keys are errors** (`deny_unknown_fields`), reported as `FILE:LINE:COLUMN: message`.
//! - **Saving is atomic**, and a bad or newer-format file is renamed aside
//!   (`instructor.corrupt-N.toml`, `instructor.newer-N.toml`) with a message, as for profiles.
//!   Note: the fresh settings then have no PIN; anyone who can edit the file could delete it
//!   anyway, so the PIN guards against switching modes in the app, not against the file system.

use crate::storage::{Aside, Loaded, set_aside, write_creating_dir};
use anyhow::{Context as _, bail};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use migralab_real::fsutil::{Limit, read_bounded};
use migralab_sim_core::tomlspan::{line_col, line_col_of_path};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The settings format this build writes.
pub const SETTINGS_FORMAT: u32 = 1;

/// The settings file's name in the data directory.
pub const SETTINGS_FILE: &str = "instructor.toml";

/// A PIN needs at least this many characters.
pub const MIN_PIN_LEN: usize = 4;

/// Which lab the students use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabMode {
    /// The simulator.
    Simulated,
    /// Real hosts through libvirt.
    Real,
}

/// What the students see; a missing list means "everything".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Visible {
    /// Lesson ids shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lessons: Option<Vec<String>>,
    /// Experiment (scenario) names shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub experiments: Option<Vec<String>>,
    /// Quiz objective ids or bank names shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quizzes: Option<Vec<String>>,
}

/// Real mode: the hosts and domains the real backend may touch (`[real_lab]` in
/// `instructor.toml`; the name stays so existing files still load).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RealModeSettings {
    /// libvirt connection URIs, e.g. `qemu+ssh://kvm-host-01/system`.
    pub allowed_hosts: Vec<String>,
    /// Domains the students may migrate.
    pub allowed_domains: Vec<String>,
    /// The address pinged during a migration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ping_target: Option<String>,
    /// The scenario the simulator's prediction takes what libvirt cannot measure from (link
    /// speed, workload): a shipped scenario's name or a file. Default: `lesson`; `labbox` for
    /// the lab in a box.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prediction_scenario: Option<String>,
    /// Ping from inside this network namespace (e.g. the lab in a box's `lab-client`; needs
    /// root), when the guest's network is not reachable from this machine's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ping_netns: Option<String>,
}

/// Everything in `instructor.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstructorSettings {
    /// File format version ([`SETTINGS_FORMAT`]).
    pub format: u32,
    /// The PIN's argon2id PHC string (`$argon2id$v=19$...`); no PIN when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin_hash: Option<String>,
    /// Students cannot switch away from this mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode_locked: Option<LabMode>,
    /// Answers are revealed only after the whole quiz is submitted.
    pub assessment_mode: bool,
    /// Extra scenario folders to load.
    pub scenario_dirs: Vec<PathBuf>,
    /// Extra question bank folders to load.
    pub quiz_dirs: Vec<PathBuf>,
    /// A folder the lab PCs share: each student's progress is also written there (one file
    /// per student and PC), and the instructor's app reads the class from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_folder: Option<PathBuf>,
    /// What the students see.
    pub visible: Visible,
    /// The real lab's configuration.
    pub real_lab: RealModeSettings,
}

impl Default for InstructorSettings {
    fn default() -> InstructorSettings {
        InstructorSettings {
            format: SETTINGS_FORMAT,
            pin_hash: None,
            mode_locked: None,
            assessment_mode: false,
            scenario_dirs: Vec::new(),
            quiz_dirs: Vec::new(),
            class_folder: None,
            visible: Visible::default(),
            real_lab: RealModeSettings::default(),
        }
    }
}

/// Why a settings text was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// Not valid TOML, an unknown key, a wrong type or a bad value.
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        origin: String,
        /// 1-based.
        line: usize,
        /// 1-based.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Written by a newer migralab.
    #[error("{origin}: format {found}, this migralab reads up to {SETTINGS_FORMAT}")]
    Newer {
        /// The file.
        origin: String,
        /// The file's format.
        found: i64,
    },
}

impl InstructorSettings {
    /// Parse and validate a settings text; `origin` names the file in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<InstructorSettings, SettingsError> {
        let invalid = |(line, column): (usize, usize), message: String| SettingsError::Invalid {
            origin: origin.to_owned(),
            line,
            column,
            message,
        };
        // The format first, so a newer file's new keys are not reported as unknown.
        if let Ok(table) = text.parse::<toml::Table>()
            && let Some(found) = table.get("format").and_then(toml::Value::as_integer)
            && found > i64::from(SETTINGS_FORMAT)
        {
            return Err(SettingsError::Newer {
                origin: origin.to_owned(),
                found,
            });
        }
        let settings: InstructorSettings = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or((1, 1), |s| line_col(text, s.start));
            invalid(at, e.message().trim().to_owned())
        })?;
        let at = |path: &str| line_col_of_path(text, path);
        if settings.format == 0 {
            return Err(invalid(at("format"), "format must be 1 or more".into()));
        }
        if let Some(hash) = &settings.pin_hash
            && PasswordHash::new(hash).is_err()
        {
            return Err(invalid(
                at("pin_hash"),
                "pin_hash is not an argon2 PHC string; remove it and set the PIN in the app".into(),
            ));
        }
        for (i, uri) in settings.real_lab.allowed_hosts.iter().enumerate() {
            if let Err(why) = check_libvirt_uri(uri) {
                return Err(invalid(
                    at(&format!("real_lab.allowed_hosts.{i}")),
                    format!("`{uri}` is not a libvirt URI: {why}"),
                ));
            }
        }
        Ok(settings)
    }

    /// The TOML text of these settings.
    pub fn to_toml_string(&self) -> anyhow::Result<String> {
        toml::to_string_pretty(self).context("cannot serialise the instructor settings")
    }

    /// Set (or replace) the PIN: only its salted argon2id hash is kept.
    pub fn set_pin(&mut self, pin: &str) -> anyhow::Result<()> {
        if pin.chars().count() < MIN_PIN_LEN {
            bail!("the PIN needs at least {MIN_PIN_LEN} characters");
        }
        let hash = Argon2::default()
            .hash_password(pin.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot hash the PIN: {e}"))?;
        self.pin_hash = Some(hash.to_string());
        Ok(())
    }

    /// Is a PIN set?
    pub fn has_pin(&self) -> bool {
        self.pin_hash.is_some()
    }

    /// Does `pin` match the stored hash? False when no PIN is set or the hash is unreadable.
    pub fn verify_pin(&self, pin: &str) -> bool {
        let Some(stored) = &self.pin_hash else {
            return false;
        };
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        Argon2::default()
            .verify_password(pin.as_bytes(), &parsed)
            .is_ok()
    }

    /// The settings file in a data directory.
    pub fn path_in(data_dir: &Path) -> PathBuf {
        data_dir.join(SETTINGS_FILE)
    }

    /// Load the settings: defaults when the file is missing; a bad or newer file is renamed
    /// aside and the reason (with FILE:LINE:COLUMN) is returned in `notice`.
    pub fn load(path: &Path) -> anyhow::Result<Loaded<InstructorSettings>> {
        let bytes = match read_bounded(path, Limit::SETTINGS) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => {
                return Ok(Loaded {
                    value: InstructorSettings::default(),
                    notice: None,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let origin = path.display().to_string();
        let parsed = match String::from_utf8(bytes) {
            Ok(text) => InstructorSettings::from_toml_str(&text, &origin),
            Err(_) => Err(SettingsError::Invalid {
                origin: origin.clone(),
                line: 1,
                column: 1,
                message: "not UTF-8 text".into(),
            }),
        };
        match parsed {
            Ok(value) => Ok(Loaded {
                value,
                notice: None,
            }),
            Err(err) => {
                let why = match err {
                    SettingsError::Newer { .. } => Aside::Newer,
                    SettingsError::Invalid { .. } => Aside::Corrupt,
                };
                let aside = set_aside(path, why)?;
                Ok(Loaded {
                    value: InstructorSettings::default(),
                    notice: Some(format!(
                        "{err}; the file was kept as {} and default settings are used",
                        aside.display()
                    )),
                })
            }
        }
    }

    /// Save atomically.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let text = self.to_toml_string()?;
        write_creating_dir(path, text.as_bytes())
    }
}

/// The instructor's settings file as the app last read it.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsFile {
    /// `instructor.toml` in the data directory.
    pub path: PathBuf,
    /// The settings, or why the file does not load (`FILE:LINE:COLUMN: message`).
    pub loaded: Result<InstructorSettings, String>,
}

impl SettingsFile {
    /// Read the settings file of `data_dir`; a missing file gives the defaults.
    ///
    /// The app and `migralab quiz` read the settings this way. Stricter than
    /// [`InstructorSettings::load`], on purpose: a file that does not parse is **left where it
    /// is**, not renamed aside and replaced by defaults. Defaults have no PIN, so renaming a
    /// damaged file (say, one an instructor is half-way through editing) would open the
    /// Instructor tab to anyone at the keyboard. Instead the app shows the error with its file
    /// and line, keeps the instructor mode locked until the file reads cleanly, and the Quiz tab
    /// and the terminal quiz run with the default settings meanwhile (saying so).
    pub fn read(data_dir: &Path) -> SettingsFile {
        let path = InstructorSettings::path_in(data_dir);
        let origin = path.display().to_string();
        let loaded = match read_bounded(&path, Limit::SETTINGS) {
            Err(e) if e.is_not_found() => Ok(InstructorSettings::default()),
            Err(e) => Err(format!("{origin}: {}", e.reason())),
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => {
                    InstructorSettings::from_toml_str(&text, &origin).map_err(|e| e.to_string())
                }
                Err(_) => Err(SettingsError::Invalid {
                    origin: origin.clone(),
                    line: 1,
                    column: 1,
                    message: "not UTF-8 text".into(),
                }
                .to_string()),
            },
        };
        SettingsFile { path, loaded }
    }

    /// The settings in force: the file's, or the defaults while it does not load.
    pub fn effective(&self) -> InstructorSettings {
        self.loaded.clone().unwrap_or_default()
    }

    /// Why the file does not load, if it does not.
    pub fn error(&self) -> Option<&str> {
        self.loaded.as_ref().err().map(String::as_str)
    }
}

/// A libvirt URI as the real lab accepts it: `qemu[+transport]://[host]/system|session`, or
/// libvirt's test driver (`test:///default`).
fn check_libvirt_uri(uri: &str) -> Result<(), &'static str> {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return Err("expected DRIVER[+TRANSPORT]://[HOST]/PATH");
    };
    let (driver, transport) = scheme.split_once('+').unwrap_or((scheme, ""));
    if driver == "test" {
        // libvirt's test driver is a fake hypervisor inside the client process (no daemon, no
        // VM is ever touched): instructors use `test:///default` to demonstrate the real-mode
        // screens without a lab, and the app's tests run real mode against it. Only the local
        // form: a remote test driver would be a daemon somewhere, which nothing here needs.
        return if transport.is_empty() && rest.starts_with('/') && rest.len() > 1 {
            Ok(())
        } else {
            Err("the test driver is local only: `test:///default`")
        };
    }
    if driver != "qemu" {
        return Err("the driver must be `qemu` (or `test` for libvirt's test driver)");
    }
    if !matches!(
        transport,
        "" | "ssh" | "tcp" | "tls" | "unix" | "libssh" | "libssh2"
    ) {
        return Err("unknown transport");
    }
    let path = rest.split_once('/').map(|(_, p)| p).unwrap_or_default();
    let path = path.split('?').next().unwrap_or_default();
    if !matches!(path, "system" | "session") {
        return Err("the path must be /system or /session");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn libvirt_uris() {
        for ok in [
            "qemu:///system",
            "qemu+ssh://root@kvm-host-01/system",
            "qemu+tcp://10.0.0.2/system?no_verify=1",
            "test:///default",
        ] {
            assert_eq!(check_libvirt_uri(ok), Ok(()), "{ok}");
        }
        for bad in [
            "kvm-host-01",
            "xen:///system",
            "qemu+ssh://h/",
            "qemu+foo://h/system",
            "test+ssh://h/default",
            "test://",
        ] {
            assert!(check_libvirt_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_uri_names_its_line() {
        let text = "[real_lab]\nallowed_hosts = [\n  \"qemu:///system\",\n  \"nope\",\n]\n";
        let err = InstructorSettings::from_toml_str(text, "i.toml").unwrap_err();
        assert!(err.to_string().starts_with("i.toml:4:"), "{err}");
    }

    #[test]
    fn readme_example_is_valid() {
        let readme = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/src/instructor/settings.md"
        ));
        let section = readme
            .split("**Instructor settings**")
            .nth(1)
            .expect("the book documents the settings");
        let example = section
            .split("```toml\n")
            .nth(1)
            .and_then(|s| s.split("```").next())
            .expect("an example");
        let s = InstructorSettings::from_toml_str(example, "settings.md").unwrap();
        assert_eq!(s.mode_locked, Some(LabMode::Simulated));
        assert_eq!(s.real_lab.allowed_hosts.len(), 2);
        assert!(s.assessment_mode && s.visible.lessons.is_some());
    }

    #[test]
    fn defaults_round_trip() {
        let s = InstructorSettings {
            mode_locked: Some(LabMode::Real),
            visible: Visible {
                quizzes: Some(vec!["flag-live".into()]),
                ..Visible::default()
            },
            ..InstructorSettings::default()
        };
        let text = s.to_toml_string().unwrap();
        assert_eq!(InstructorSettings::from_toml_str(&text, "x").unwrap(), s);
        assert_eq!(
            InstructorSettings::from_toml_str("", "x").unwrap(),
            InstructorSettings::default()
        );
    }
}
