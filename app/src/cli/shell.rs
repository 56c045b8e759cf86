//! `migralab shell`: a root terminal on the scenario's lab hosts. The shell itself (parsing,
//! `virsh`, `ssh`, `ping`, hints) lives in `migralab_shell`; this module only reads the
//! scenario, feeds it lines and prints what comes back.
//!
//! Three ways in, one engine:
//! - `-c 'cmd; cmd'` runs the commands and exits with the last one's status (like `bash -c`);
//! - a terminal on stdin gets line editing and history (rustyline);
//! - anything else on stdin is read line by line; each line is echoed after the prompt, so the
//!   output reads like a recorded session.

use super::LangArg as CliLang;
use super::lines::{Line, read_line};
use crate::scenarios;
use anyhow::Context as _;
use clap::Args;
use migralab_shell::{Lang, Shell};
use migralab_sim_core::Scenario;
use migralab_sim_core::text::Text;
use std::io::{self, IsTerminal as _};
use std::path::PathBuf;
use std::process::ExitCode;

/// `migralab shell --help`.
pub const SHELL_LONG_ABOUT: &str = "\
Open a root shell on the scenario's simulated KVM hosts and type the lesson's commands.

The prompt is `root@kvm-host-01:~#`. `virsh migrate`, `virsh list`, `virsh domjobinfo`, \
`virsh capabilities`, `ssh kvm-host-02`, `ping`, `grep` and friends answer as the real tools \
would, worded as virsh, bash, ssh and ping word them; after an error students often get stuck on, \
a `petunjuk:` (`hint:`) line points at the fix. Lab time only moves when a command takes time \
(`virsh migrate`, `ping`, `sleep`, `wait`) and by one second per line typed while a migration \
runs in the background (`virsh migrate ... &`). The scenario's own `[[migration]]` commands are \
not run: you type them. Type `help` inside the shell for everything it knows.

Examples:
  migralab shell
  migralab shell prereq-firewall --lang en
  migralab shell lesson -c 'virsh migrate --live db01 qemu+ssh://kvm-host-02/system; virsh list --all'
  printf 'virsh list --all\\nping -c 3 192.168.100.50\\n' | migralab shell";

/// `migralab shell` exit codes.
pub const SHELL_AFTER_HELP: &str = "\
Exit codes: the status of the last command, as bash's (0 success, 1 a command failed, \
127 command not found, ...); 2 also for bad input (unknown scenario, invalid file or --set).";

/// Arguments of `migralab shell`.
#[derive(Debug, Args)]
pub struct ShellArgs {
    /// A scenario file (TOML), or the name of a shipped scenario [default: lesson]
    #[arg(value_name = "SCENARIO")]
    scenario: Option<PathBuf>,

    /// Run COMMANDS (separated by `;`, `&&` or new lines) and exit with the last one's status
    #[arg(short = 'c', value_name = "COMMANDS")]
    commands: Option<String>,

    /// Language of hints, notes and `help` (the tools' own output stays as the tools print it)
    #[arg(long, value_enum, default_value = "id")]
    lang: CliLang,

    /// Change one scenario value (as for `migralab sim`; may repeat)
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
}

/// A validated `migralab shell` run.
#[derive(Debug)]
pub struct ShellConfig {
    scenario: Scenario,
    commands: Option<String>,
    lang: Lang,
}

impl ShellConfig {
    /// Read and check the scenario.
    pub fn from_args(args: ShellArgs) -> anyhow::Result<ShellConfig> {
        let scenario = scenarios::load(args.scenario.as_deref(), &args.overrides)?;
        Ok(ShellConfig {
            scenario,
            commands: args.commands,
            lang: args.lang.into(),
        })
    }
}

/// Run the shell as configured.
pub fn run(config: ShellConfig) -> anyhow::Result<ExitCode> {
    let lang = config.lang;
    let banner = banner(&config.scenario, lang);
    let mut shell = Shell::new(config.scenario, lang);
    let status = match config.commands {
        Some(commands) => run_batch(&mut shell, &commands)?,
        None if io::stdin().is_terminal() => run_interactive(&mut shell, &banner, lang)?,
        None => run_piped(&mut shell, &banner, lang)?,
    };
    Ok(ExitCode::from(
        u8::try_from(status.rem_euclid(256)).unwrap_or(1),
    ))
}

/// `-c`: each line of COMMANDS is one shell line.
fn run_batch(shell: &mut Shell, commands: &str) -> anyhow::Result<i32> {
    let mut status = 0;
    for line in commands.lines() {
        let out = shell.run_line(line);
        write_out(&out.text)?;
        status = out.status;
        if shell.is_closed() {
            break;
        }
    }
    Ok(status)
}

/// Lines from a pipe or file: echo each after the prompt, then its output.
fn run_piped(shell: &mut Shell, banner: &str, shell_lang: Lang) -> anyhow::Result<i32> {
    write_out(banner)?;
    let mut status = 0;
    let mut input = io::stdin().lock();
    while let Some(line) = read_line(&mut input).context("cannot read standard input")? {
        let line = match line {
            Line::Text(line) => line,
            bad => {
                // That line only: the session goes on with the next.
                let why = bad.problem(shell_lang).unwrap_or_default();
                write_out(&format!("{}\nmigralab shell: {why}\n", shell.prompt()))?;
                status = 1;
                continue;
            }
        };
        write_out(&format!("{}{line}\n", shell.prompt()))?;
        let out = shell.run_line(&line);
        write_out(&out.text)?;
        status = out.status;
        if shell.is_closed() {
            break;
        }
    }
    Ok(status)
}

/// A terminal: line editing and history.
fn run_interactive(shell: &mut Shell, banner: &str, lang: Lang) -> anyhow::Result<i32> {
    use rustyline::error::ReadlineError;
    write_out(banner)?;
    let mut editor =
        rustyline::DefaultEditor::new().context("cannot set up line editing on this terminal")?;
    let mut status = 0;
    loop {
        match editor.readline(&shell.prompt()) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    // A duplicate or an over-long entry is simply not added.
                    let _ = editor.add_history_entry(line.as_str());
                }
                let out = shell.run_line(&line);
                write_out(&out.text)?;
                status = out.status;
                if shell.is_closed() {
                    break;
                }
            }
            // Ctrl-C abandons the line, as in bash.
            Err(ReadlineError::Interrupted) => {
                status = 130;
            }
            // Ctrl-D on an empty line logs out.
            Err(ReadlineError::Eof) => {
                write_out("logout\n")?;
                break;
            }
            // Bytes that are not UTF-8 (a terminal set to another encoding): that line only.
            Err(ReadlineError::Io(e)) if e.kind() == io::ErrorKind::InvalidData => {
                write_out(&format!(
                    "migralab shell: {}\n",
                    Line::NotUtf8.problem(lang).unwrap_or_default()
                ))?;
                status = 1;
            }
            Err(e) => return Err(e).context("cannot read from the terminal"),
        }
    }
    Ok(status)
}

/// Title, how to get help and how to leave, and the scenario's own command to try.
fn banner(s: &Scenario, lang: Lang) -> String {
    let title = lang.pick(&s.title);
    let title = migralab_sim_core::term::escape(if title.is_empty() { &s.name } else { title });
    let help = Text::of(
        "Ketik `help` untuk daftar perintah, `exit` untuk keluar. Waktu lab disimulasikan.",
        "Type `help` for the list of commands, `exit` to leave. Lab time is simulated.",
    )
    .in_lang(lang);
    let try_it = Text::of("Coba", "Try").in_lang(lang);
    let mut out = format!("migralab shell — {title}\n{help}\n");
    if let Some(m) = s.migrations.first() {
        out.push_str(&format!("{try_it}: {}\n", m.virsh_command()));
    }
    out.push('\n');
    out
}

/// Print to stdout with control and bidi characters escaped (what the lab prints holds the
/// scenario's names and whatever was typed); a closed pipe (`migralab shell ... | head`) ends
/// quietly.
fn write_out(text: &str) -> anyhow::Result<()> {
    super::write_text(text).context("cannot write to standard output")
}
