//! App-wide state the app owns, not a tab: where the data directory is, the instructor's
//! settings as last read, and whether the instructor has unlocked the app. The app hands it to
//! every panel that needs it; the Quiz, Instructor and Lab tabs all read the same settings.

use crate::settings::{InstructorSettings, SettingsError};
use migralab_real::fsutil::{Limit, read_bounded};
use std::path::{Path, PathBuf};

/// App-wide runtime state (not persisted).
#[derive(Debug, Default)]
pub struct Shared {
    /// The data directory (progress profiles, `instructor.toml`); `None`: `MIGRALAB_DATA_DIR`
    /// or the platform's (see [`crate::storage::data_dir`]). Tests set it.
    pub data_dir: Option<PathBuf>,
    /// The instructor's settings as last read (`None`: not read yet).
    settings: Option<SettingsFile>,
    /// Counts the instructor's changes to the settings: what was derived from them (a quiz bank
    /// from the instructor's folders) is stale when this moved on.
    generation: u64,
    /// The instructor unlocked the app with the PIN (or no PIN is set and the Instructor tab
    /// was opened).
    pub unlocked: bool,
}

impl Shared {
    /// The data directory in use.
    pub fn data_dir(&self) -> anyhow::Result<PathBuf> {
        match &self.data_dir {
            Some(d) => Ok(d.clone()),
            None => crate::storage::data_dir(),
        }
    }

    /// The instructor's settings, read on first use.
    pub fn settings(&mut self) -> &SettingsFile {
        let file = match self.settings.take() {
            Some(f) => f,
            None => self.read_settings(),
        };
        self.settings.insert(file)
    }

    /// Read the instructor's settings again (after they were saved or edited outside the app).
    pub fn reload_settings(&mut self) {
        self.settings = Some(self.read_settings());
    }

    /// The settings are now `file` (just saved by the Instructor tab).
    pub fn set_settings(&mut self, file: SettingsFile) {
        self.settings = Some(file);
    }

    /// The instructor changed what the settings point at (folders, lists): drop what was
    /// derived from them.
    pub fn settings_changed(&mut self) {
        self.generation += 1;
    }

    /// Moves on with every [`Shared::settings_changed`].
    pub fn settings_generation(&self) -> u64 {
        self.generation
    }

    fn read_settings(&self) -> SettingsFile {
        match self.data_dir() {
            Ok(dir) => SettingsFile::read(&dir),
            Err(e) => SettingsFile {
                path: PathBuf::from(crate::settings::SETTINGS_FILE),
                loaded: Err(format!("{e:#}")),
            },
        }
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
    /// Stricter than [`InstructorSettings::load`] (the CLI's), on purpose: a file that does not
    /// parse is **left where it is**, not renamed aside and replaced by defaults. Defaults have no
    /// PIN, so renaming a damaged file (say, one an instructor is half-way through editing) would
    /// open the Instructor tab to anyone at the keyboard. Instead the app shows the error with
    /// its file and line, keeps the instructor mode locked until the file reads cleanly, and the
    /// Quiz tab runs with the default settings meanwhile (saying so).
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
