//! `migralab generate`: the man pages and shell completions of the Debian package, written by the
//! binary itself from its own command-line definition, so they cannot drift from `--help` and
//! need neither a build script nor a second compile (`scripts/package.sh` runs it). Hidden from
//! `migralab --help`: it is for packagers, not for students.

use super::{EXIT_COMPLETED, shown_path, write_text};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use clap_complete::Shell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `migralab generate --help`.
pub const GENERATE_LONG_ABOUT: &str = "\
Write the files a package installs beside the binary, from this binary's own command line.

Examples:
  migralab generate man target/man                    migralab.1, migralab-sim.1, ...
  migralab generate completions bash target/compl     migralab.bash (also zsh: _migralab, fish)";

/// `migralab generate` arguments.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    #[command(subcommand)]
    what: GenerateWhat,
}

#[derive(Debug, Subcommand)]
enum GenerateWhat {
    /// Write the man pages: migralab.1 and one per subcommand (migralab-sim.1, migralab-labbox-up.1, ...).
    Man {
        /// The directory to write them to (created if missing)
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// Write the completion script of one shell.
    Completions {
        /// The shell
        #[arg(value_name = "SHELL")]
        shell: Shell,
        /// The directory to write it to (created if missing)
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

/// A validated `migralab generate` run: what to write, and where (clap has checked it all).
#[derive(Debug)]
pub struct GenerateConfig {
    what: GenerateWhat,
}

impl GenerateConfig {
    /// Nothing to read or check beyond what clap parsed.
    pub fn from_args(args: GenerateArgs) -> anyhow::Result<GenerateConfig> {
        Ok(GenerateConfig { what: args.what })
    }
}

/// Write the files and name them on stdout.
pub fn run(config: GenerateConfig) -> anyhow::Result<ExitCode> {
    let written = match config.what {
        GenerateWhat::Man { dir } => {
            create_dir(&dir)?;
            man_pages(&dir)?
        }
        GenerateWhat::Completions { shell, dir } => {
            create_dir(&dir)?;
            let mut command = super::command();
            let path = clap_complete::generate_to(shell, &mut command, "migralab", &dir)
                .with_context(|| {
                    format!(
                        "cannot write the {shell} completions to {}",
                        shown_path(&dir)
                    )
                })?;
            vec![path]
        }
    };
    let mut text = String::new();
    for path in written {
        text.push_str(&format!("{}\n", path.display()));
    }
    write_text(&text).context("cannot write to standard output")?;
    Ok(ExitCode::from(EXIT_COMPLETED))
}

fn create_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the directory {}", shown_path(dir)))
}

/// `migralab.1` and one page per visible subcommand, nested ones too (`migralab-labbox-up.1`):
/// clap_mangen's own walk (hidden commands and `help` left out), with the version in every
/// page's footer, not only in the first. The paths written, sorted.
fn man_pages(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut root = super::command().disable_help_subcommand(true);
    // Built once from the root: every subcommand then has its page name (`migralab-sim`).
    root.build();
    let source = format!("migralab {}", super::VERSION);
    let mut written = Vec::new();
    let mut stack = vec![root];
    while let Some(command) = stack.pop() {
        stack.extend(
            command
                .get_subcommands()
                .filter(|s| !s.is_hide_set())
                .cloned(),
        );
        let page = clap_mangen::Man::new(command).source(source.clone());
        let path = page
            .generate_to(dir)
            .with_context(|| format!("cannot write the man pages to {}", shown_path(dir)))?;
        written.push(path);
    }
    written.sort();
    Ok(written)
}
