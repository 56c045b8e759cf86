//! App-wide state the app owns, not a tab: where the data directory is, the instructor's
//! settings as last read, and whether the instructor has unlocked the app. The app hands it to
//! every panel that needs it; the Quiz, Instructor and Lab tabs all read the same settings.

pub use crate::settings::SettingsFile;
use std::path::PathBuf;

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
