//! `migralab gui` (and `migralab` alone): open the desktop app.

use super::LangArg;
use crate::gui::Launch;
use crate::gui::state::Tab;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// `migralab gui --help`.
pub const GUI_LONG_ABOUT: &str = "\
Open the desktop app: the lesson, the simulated lab with its virsh terminal and live plots, the \
guided experiments, the quiz and the instructor's settings. This is what `migralab` alone does.

The app needs a display (X11 or Wayland). On a machine without one, use the terminal commands: \
`migralab sim`, `migralab shell`, `migralab preflight`, `migralab quiz`.

The app remembers its tab, language, theme, zoom, lab settings and the student's observations \
in migralab's data directory (MIGRALAB_DATA_DIR if set).

Examples:
  migralab
  migralab gui --scenario prereq-no-bridge --lang en
  migralab gui --tab experiments
  migralab gui --screenshot first-frame.png
  migralab gui --whatif --screenshot what-if.png";

/// Options of `migralab gui`.
#[derive(Debug, Default, Args)]
pub struct GuiArgs {
    /// Open the Lab tab on this scenario (a file or a shipped name)
    #[arg(long, value_name = "SCENARIO")]
    pub scenario: Option<PathBuf>,

    /// Language of the interface for this run [default: the saved choice, else id]
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,

    /// Open on this tab [default: the tab shown last]
    #[arg(long, value_enum)]
    pub tab: Option<TabArg>,

    /// Save a PNG of the window once it has drawn, then quit (for tests and documentation)
    #[arg(long, value_name = "FILE")]
    pub screenshot: Option<PathBuf>,

    /// Open the Lab tab with its what-if panel shown
    #[arg(long)]
    pub whatif: bool,
}

/// `--tab`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TabArg {
    /// Pelajaran.
    Lesson,
    /// Lab.
    Lab,
    /// Eksperimen.
    Experiments,
    /// Kuis.
    Quiz,
    /// Instruktur.
    Instructor,
}

impl From<TabArg> for Tab {
    fn from(t: TabArg) -> Tab {
        match t {
            TabArg::Lesson => Tab::Lesson,
            TabArg::Lab => Tab::Lab,
            TabArg::Experiments => Tab::Experiments,
            TabArg::Quiz => Tab::Quiz,
            TabArg::Instructor => Tab::Instructor,
        }
    }
}

impl GuiConfig {
    /// Check the arguments: a scenario must load, a screenshot's folder must exist.
    pub fn from_args(args: GuiArgs) -> anyhow::Result<GuiConfig> {
        let scenario = match args.scenario {
            Some(p) => {
                crate::scenarios::load(Some(&p), &[])?;
                Some(p.to_string_lossy().into_owned())
            }
            None => None,
        };
        if let Some(shot) = &args.screenshot
            && let Some(dir) = shot.parent()
            && !dir.as_os_str().is_empty()
            && !dir.is_dir()
        {
            anyhow::bail!("--screenshot {}: no such directory", shot.display());
        }
        Ok(GuiConfig(Launch {
            scenario,
            lang: args.lang.map(Into::into),
            screenshot: args.screenshot,
            tab: args.tab.map(Into::into),
            whatif: args.whatif,
        }))
    }
}

/// A validated `migralab gui`.
#[derive(Debug)]
pub struct GuiConfig(Launch);

/// Open the window and run until it is closed.
pub fn run(config: GuiConfig) -> anyhow::Result<ExitCode> {
    crate::gui::run(config.0)
}
