//! # migralab shell
//!
//! A lab terminal: a root shell on the scenario's hosts where students type the lesson's commands
//! (`virsh migrate ...`, `ssh kvm-host-02`, `virsh list`, `ping`, `grep`) and see what the real
//! tools would print, driven by the [`Simulator`].
//!
//! Invariants:
//! - **Pure.** The model's purity rule holds here too (`sim-core/clippy.toml` governs this crate:
//!   no I/O, no clocks, no threads, no `HashMap`). No I/O and no clock: files written with `>` live in a per-host virtual filesystem,
//!   and lab time only moves when a command takes time (`virsh migrate`, `ping`, `sleep`, `wait`,
//!   and one second per line typed while a job runs in the background).
//! - **Never panics** on any input; every line gets an answer and an exit status.
//! - **The scenario's `[[migration]]` list is not run**: students type the migrations. It is kept
//!   as a reference ([`Shell::reference_migrations`]).
//! - **Real wording.** Output and errors are worded as virsh 9.x, bash, iputils `ping`, OpenSSH
//!   and iproute2 word them (see `reference/migration-facts.md`); where a wording is not verified
//!   it says so in a comment. Hint lines (`petunjuk:` / `hint:`) are migralab's own, one per line
//!   at most, in the shell's [`Lang`].
//!
//! ```
//! use migralab_sim_core::Scenario;
//! use migralab_shell::{Lang, Shell};
//! let scenario = Scenario::from_toml_str(
//!     "name='t'\n[[host]]\nname='kvm-host-01'\n[[host]]\nname='kvm-host-02'\n\
//!      [link]\nbandwidth_mibps=112.0\n[storage]\nkind='shared'\n\
//!      [[vm]]\nname='db01'\nhost='kvm-host-01'\nram_mib=64\n",
//! ).unwrap();
//! let mut sh = Shell::new(scenario, Lang::En);
//! assert_eq!(sh.prompt(), "root@kvm-host-01:~# ");
//! let out = sh.run_line("virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent");
//! assert_eq!(out.status, 0, "{}", out.text);
//! assert!(sh.run_line("ssh kvm-host-02 virsh list").text.contains("db01   running"));
//! ```

mod builtins;
mod fs;
mod guest;
mod hint;
mod jobs;
mod lex;
mod net;
mod park;
mod runs;
mod text;
mod virsh;
mod xml;

#[cfg(test)]
mod tests;

pub use hint::{hint_prefix, note_prefix};
pub use migralab_sim_core::lang::Lang;
pub use runs::ShellRun;
// The course's quiz grades "write the command" answers with the lab's own `virsh migrate` parser.
pub use virsh::{
    MigrateOption, MigrateParseError, ParsedMigrate, migrate_option, parse_migrate_line,
};

use lex::{Connector, Pipeline, Target};
use migralab_sim_core::rng::SeedTree;
use migralab_sim_core::scenario::{MigrationSpec, Scenario};
use migralab_sim_core::simulator::{Simulator, TICK};
use migralab_sim_core::text::Text;
use migralab_sim_core::time::{SimDuration, SimTime};
use migralab_sim_core::trace::TraceEvent;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// What one line printed on the terminal and its exit status (`$?`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellOutput {
    /// Everything the terminal shows, stdout and stderr in the order they were written, ending
    /// with a newline unless empty.
    pub text: String,
    /// The exit status of the last command (0 = success, 127 = command not found, ...).
    pub status: i32,
}

/// Longest line accepted (bash has no such limit; a lab does not need more).
const MAX_LINE_CHARS: usize = 64 * 1024;
/// Lab time one line may take at most (a `sleep 99999` or a stuck migration cannot hang the
/// terminal).
const LINE_TIME_BUDGET: SimDuration = SimDuration::from_secs(2 * 3600);
/// Lab time that passes for each line typed while a job runs in the background.
const TYPING_TIME: SimDuration = SimDuration::from_secs(1);
/// Deepest `ssh host ssh host ...` chain.
const MAX_SSH_DEPTH: u8 = 8;
/// Output of one line beyond this is cut (as a terminal's scrollback would lose it).
const MAX_OUTPUT_BYTES: usize = 8 * 1024 * 1024;

/// Background jobs that may run at once (see `run_pipeline`).
const MAX_RUNNING_JOBS: usize = 64;

/// Which stream a piece of output went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fd {
    Out,
    Err,
}

/// Output of a command: stdout and stderr pieces in order.
#[derive(Debug, Clone, Default)]
struct Io {
    chunks: Vec<(Fd, String)>,
}

impl Io {
    fn out(&mut self, s: impl Into<String>) {
        let s = s.into();
        if !s.is_empty() {
            self.chunks.push((Fd::Out, s));
        }
    }
    fn err(&mut self, s: impl Into<String>) {
        let s = s.into();
        if !s.is_empty() {
            self.chunks.push((Fd::Err, s));
        }
    }
    /// A line on stdout.
    fn outln(&mut self, s: impl AsRef<str>) {
        self.out(format!("{}\n", s.as_ref()));
    }
    /// A line on stderr.
    fn errln(&mut self, s: impl AsRef<str>) {
        self.err(format!("{}\n", s.as_ref()));
    }
    fn extend(&mut self, other: Io) {
        self.chunks.extend(other.chunks);
    }
    fn len(&self) -> usize {
        self.chunks.iter().map(|(_, s)| s.len()).sum()
    }
}

/// Where a command's stream goes.
#[derive(Debug, Clone)]
enum Dest {
    /// The terminal or the pipe, as the stream `Fd` of the pipeline.
    Inherit(Fd),
    /// `/dev/null`.
    Null,
    /// A file on the command's host.
    File { path: String, append: bool },
}

/// Where a command runs.
#[derive(Debug, Clone)]
struct Ctx {
    /// Host name (for `virsh -c URI`, the host virsh is connected to).
    host: String,
    /// The host the command itself runs on (where its files are).
    client: String,
    /// Working directory.
    cwd: String,
    /// The student's own session (`ssh HOST` logs in, `exit` logs out), rather than a command
    /// run by `ssh HOST CMD`.
    session: bool,
    /// How many `ssh` hops deep.
    depth: u8,
    /// Piped input.
    stdin: Option<String>,
    /// The file stdout is redirected to (so `cat f >> f` can refuse).
    stdout_file: Option<String>,
    /// `exit` ran: stop this script.
    exited: bool,
    /// Part of a pipeline of several commands (a subshell in bash: `ssh HOST`, `exit` and `cd`
    /// do not change the session).
    piped: bool,
}

/// Settings libvirt keeps per domain for its next migration.
#[derive(Debug, Clone, Copy)]
struct DomainTune {
    downtime_ms: u64,
    speed_mibps: Option<u64>,
    postcopy_speed_mibps: Option<u64>,
}

impl Default for DomainTune {
    fn default() -> Self {
        DomainTune {
            downtime_ms: 300,
            speed_mibps: None,
            postcopy_speed_mibps: None,
        }
    }
}

/// What a job does while lab time moves.
#[derive(Debug, Clone)]
enum Work {
    /// `virsh migrate`.
    Migrate(MigrateWork),
    /// `ping` (boxed: it carries its probe tracker).
    Ping(Box<net::PingRun>),
    /// `sleep`: ends at this lab time.
    Sleep { until: SimTime },
    /// A command the lab ran to its end when it started (`echo hi &`, `ping -c 3 X | grep ttl &`).
    Ran,
}

/// A `virsh migrate`'s own state.
#[derive(Debug, Clone)]
struct MigrateWork {
    /// Index into the simulator's migrations.
    mig: usize,
    spec: MigrationSpec,
    verbose: bool,
    next_progress: SimTime,
}

/// A signal `kill` can send (bash's names and numbers on Linux x86).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Hup = 1,
    Int = 2,
    Quit = 3,
    Kill = 9,
    Term = 15,
}

impl Signal {
    /// bash's word for a job killed by this signal (`strsignal`).
    fn job_word(self) -> &'static str {
        match self {
            Signal::Hup => "Hangup",
            Signal::Int => "Interrupt",
            Signal::Quit => "Quit",
            Signal::Kill => "Killed",
            Signal::Term => "Terminated",
        }
    }
}

/// A command running in the foreground (`virsh migrate`, id 0) or a bash background job.
#[derive(Debug, Clone)]
struct Job {
    /// bash job number (`[1]`), 0 for a foreground command.
    id: u32,
    /// Process id (`[1] 4211`, `$!`, `kill 4211`).
    pid: u32,
    /// The command as typed (for `jobs` and the `Done` line).
    command: String,
    work: Work,
    /// Output produced and not yet sent where it goes.
    io: Io,
    /// Output bound for the terminal, shown at the next prompt.
    term: Io,
    /// Where the job's stdout and stderr go (a background job honours its redirections).
    dest: [Dest; 2],
    /// The host whose files the redirections write.
    host: String,
    /// A hint for when the output is shown.
    hint: Option<Text>,
    finished: bool,
    status: i32,
    /// The signal that ended it (bash then says `Terminated`, `Killed`, ...).
    signal: Option<Signal>,
    /// Lab time the command started.
    started: SimTime,
}

impl Job {
    fn new(id: u32, pid: u32, command: String, work: Work, host: &str, started: SimTime) -> Job {
        Job {
            id,
            pid,
            command,
            work,
            io: Io::default(),
            term: Io::default(),
            dest: [Dest::Inherit(Fd::Out), Dest::Inherit(Fd::Err)],
            host: host.to_string(),
            hint: None,
            finished: false,
            status: 0,
            signal: None,
            started,
        }
    }

    fn migration(&self) -> Option<&MigrateWork> {
        match &self.work {
            Work::Migrate(m) => Some(m),
            _ => None,
        }
    }

    /// Does the job end by itself? A `ping` without `-c`/`-w` runs until it is killed.
    fn bounded(&self) -> bool {
        match &self.work {
            Work::Ping(p) => !p.endless(),
            _ => true,
        }
    }

    /// `Done`, `Exit 1`, `Terminated`, ... as bash's job lines show it.
    fn state_word(&self) -> String {
        if !self.finished {
            "Running".into()
        } else if let Some(sig) = self.signal {
            sig.job_word().into()
        } else if self.status == 0 {
            "Done".into()
        } else {
            format!("Exit {}", self.status)
        }
    }
}

/// A root shell on the lab's hosts. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct Shell {
    sim: Simulator,
    reference: Vec<MigrationSpec>,
    lang: Lang,
    host: String,
    cwd: String,
    /// Sessions left by `ssh HOST`: (host, cwd).
    stack: Vec<(String, String)>,
    fs: fs::Vfs,
    history: Vec<String>,
    jobs: Vec<Job>,
    next_pid: u32,
    tune: BTreeMap<String, DomainTune>,
    /// Where each guest was last started (a host-model CPU is fixed there and travels along).
    boot_host: BTreeMap<String, String>,
    /// Where each guest's disk image exists on local storage (its first host, plus copies made
    /// by `--copy-storage-all`).
    local_images: BTreeSet<(String, String)>,
    seeds: SeedTree,
    /// The hint of the current line (the first one wins).
    hint: Option<Text>,
    /// Lab time the current line may still take.
    budget: SimDuration,
    closed: bool,
    last_status: i32,
    /// Events of the migrations still running (and of the one just finished), for their runs.
    recorded: Vec<TraceEvent>,
    /// Runs finished and not yet taken by [`Shell::poll_run`].
    finished_runs: VecDeque<ShellRun>,
    /// The background job the current pipeline announced (`[1] 4211`) and no command has
    /// started yet.
    spawn: Option<jobs::Spawn>,
    /// `$!`: the process id of the newest background job.
    last_bg_pid: Option<u32>,
    /// Set by [`Shell::run_line_until`]: a foreground `virsh migrate` still running at this lab
    /// time stops there (parked), so the app can act at the time it shows.
    park_at: Option<SimTime>,
    /// Lab time that passes for each line typed while a job runs ([`TYPING_TIME`] unless the
    /// app sets it).
    typing_time: SimDuration,
}

impl Shell {
    /// A shell on `scenario`'s lab, logged in as root on the first VM's host (the first host if
    /// there are no VMs). The scenario's migrations are not run: they are kept as a reference.
    pub fn new(scenario: Scenario, lang: Lang) -> Shell {
        let mut scenario = scenario;
        let reference = std::mem::take(&mut scenario.migrations);
        // The shell's own `ping` replaces the scenario's background prober.
        scenario.prober.enabled = false;
        let host = scenario
            .vms
            .first()
            .map(|v| v.host.clone())
            .or_else(|| scenario.hosts.first().map(|h| h.name.clone()))
            .unwrap_or_else(|| "localhost".into());
        let hosts: Vec<String> = scenario.hosts.iter().map(|h| h.name.clone()).collect();
        let fs = fs::Vfs::new(&hosts, &scenario.storage.path);
        let boot_host = scenario
            .vms
            .iter()
            .map(|v| (v.name.clone(), v.host.clone()))
            .collect();
        let local_images = scenario
            .vms
            .iter()
            .filter(|v| v.disk_bytes() > 0)
            .map(|v| (v.host.clone(), v.name.clone()))
            .collect();
        let seeds = SeedTree::new(scenario.seed ^ 0x5eed_5e11);
        Shell {
            sim: Simulator::new(scenario),
            reference,
            lang,
            host,
            cwd: fs::HOME.into(),
            stack: Vec::new(),
            fs,
            history: Vec::new(),
            jobs: Vec::new(),
            next_pid: 4211,
            tune: BTreeMap::new(),
            boot_host,
            local_images,
            seeds,
            hint: None,
            budget: LINE_TIME_BUDGET,
            closed: false,
            last_status: 0,
            recorded: Vec::new(),
            finished_runs: VecDeque::new(),
            spawn: None,
            last_bg_pid: None,
            park_at: None,
            typing_time: TYPING_TIME,
        }
    }

    /// The prompt, e.g. `root@kvm-host-01:~# `.
    pub fn prompt(&self) -> String {
        format!("root@{}:{}# ", self.host, display_dir(&self.cwd))
    }

    /// Lab time now.
    pub fn now(&self) -> SimTime {
        self.sim.now()
    }

    /// The simulator underneath (its world, migrations and scenario).
    pub fn simulator(&self) -> &Simulator {
        &self.sim
    }

    /// Every non-empty line typed so far, oldest first.
    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// The host the session is on.
    pub fn current_host(&self) -> &str {
        &self.host
    }

    /// The language of hints and `help`.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// Switch the language of hints and `help` (the student changed the app's language).
    pub fn set_lang(&mut self, lang: Lang) {
        self.lang = lang;
    }

    /// The scenario's own `[[migration]]` commands, kept as a reference (not run).
    pub fn reference_migrations(&self) -> &[MigrationSpec] {
        &self.reference
    }

    /// Has the student typed `exit` in the first session (the terminal would close)?
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Run one line as bash would and return what the terminal shows.
    pub fn run_line(&mut self, line: &str) -> ShellOutput {
        self.hint = None;
        self.budget = LINE_TIME_BUDGET;
        let line = line.trim_end_matches(['\n', '\r']);
        if line.chars().count() > MAX_LINE_CHARS {
            return ShellOutput {
                text: "bash: line too long\n".into(),
                status: 2,
            };
        }
        if !line.trim().is_empty() {
            self.history.push(line.to_string());
        }
        let mut io = Io::default();
        if self.jobs.iter().any(|j| !j.finished) {
            // The student takes a moment to type: background jobs move on.
            self.advance_by(self.typing_time);
            self.show_job_output(&mut io);
        }
        let status = match lex::parse(line) {
            Err(e) => {
                io.errln(e.message());
                2
            }
            Ok(script) if script.is_empty() => self.last_status,
            Ok(script) => {
                let mut ctx = self.session_ctx();
                self.run_script(&script, &mut ctx, &mut io)
            }
        };
        self.flush_jobs(&mut io);
        self.last_status = status;
        self.terminal_output(io, status)
    }

    /// What the terminal shows of `io`, cut at [`MAX_OUTPUT_BYTES`], with the line's hint.
    fn terminal_output(&mut self, io: Io, status: i32) -> ShellOutput {
        let mut text: String = io.chunks.into_iter().map(|(_, s)| s).collect();
        if text.len() > MAX_OUTPUT_BYTES {
            let mut cut = MAX_OUTPUT_BYTES;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str("\n[... output cut ...]\n");
        }
        if let Some(h) = self.hint.take() {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(hint_prefix(self.lang));
            text.push_str(self.lang.pick(&h));
            text.push('\n');
        }
        ShellOutput { text, status }
    }

    fn session_ctx(&self) -> Ctx {
        Ctx {
            host: self.host.clone(),
            client: self.host.clone(),
            cwd: self.cwd.clone(),
            session: true,
            depth: 0,
            stdin: None,
            stdout_file: None,
            exited: false,
            piped: false,
        }
    }

    /// Keep the first hint of a line.
    fn set_hint(&mut self, t: Text) {
        if self.hint.is_none() {
            self.hint = Some(t);
        }
    }

    /// Print a note (something the lab does differently from a real host) on stderr.
    fn note(&self, io: &mut Io, t: &Text) {
        io.errln(format!("{}{}", note_prefix(self.lang), self.lang.pick(t)));
    }

    fn run_script(&mut self, script: &[(Connector, Pipeline)], ctx: &mut Ctx, io: &mut Io) -> i32 {
        let mut status = 0;
        for (connector, pipeline) in script {
            let run = match connector {
                Connector::Always => true,
                Connector::And => status == 0,
                Connector::Or => status != 0,
            };
            if !run {
                continue;
            }
            status = self.run_pipeline(pipeline, ctx, io);
            self.last_status = status;
            if ctx.exited || self.closed || self.is_parked() || io.len() > MAX_OUTPUT_BYTES {
                break;
            }
        }
        status
    }

    fn run_pipeline(&mut self, p: &Pipeline, ctx: &mut Ctx, io: &mut Io) -> i32 {
        let background = p.background && ctx.session;
        if !background {
            return self.run_commands(p, ctx, io, false);
        }
        // Each running job is ticked with the lab: their number is bounded, as a user's processes
        // are by `ulimit -u`, so that no command line can make the lab crawl.
        if self.jobs.iter().filter(|j| !j.finished).count() >= MAX_RUNNING_JOBS {
            io.errln(format!(
                "-bash: fork: Resource temporarily unavailable ({})",
                self.lang.pick(&Text::new(
                    format!("lab: paling banyak {MAX_RUNNING_JOBS} job berjalan sekaligus; hentikan satu dengan `kill %N`"),
                    format!("lab: at most {MAX_RUNNING_JOBS} jobs run at once; stop one with `kill %N`"),
                ))
            ));
            return 1;
        }
        // bash announces the job before it runs: `[1] 4211` goes to the terminal, never to the
        // command's redirections.
        let id = self.new_job_id();
        let pid = self.take_pid();
        io.errln(format!("[{id}] {pid}"));
        self.last_bg_pid = Some(pid);
        let command = pipeline_text(p);
        let started = self.sim.now();
        // One command that takes time (`ping`, `sleep`, `virsh migrate`) becomes a job that runs
        // along with what is typed next; anything else runs to its end at once and is reported
        // done at the prompt.
        let single = p.cmds.len() == 1;
        self.spawn = Some(jobs::Spawn {
            id,
            pid,
            command: command.clone(),
        });
        let status = self.run_commands(p, ctx, io, single);
        if self.spawn.take().is_some() {
            let mut job = Job::new(id, pid, command, Work::Ran, &ctx.host, started);
            job.finished = true;
            job.status = status;
            self.jobs.push(job);
        }
        0
    }

    /// The commands of a pipeline, each one's stdout feeding the next.
    fn run_commands(&mut self, p: &Pipeline, ctx: &mut Ctx, io: &mut Io, bg: bool) -> i32 {
        let mut input: Option<String> = None;
        let mut status = 0;
        let n = p.cmds.len();
        for (i, cmd) in p.cmds.iter().enumerate() {
            if ctx.session {
                ctx.host = self.host.clone();
                ctx.client = self.host.clone();
                ctx.cwd = self.cwd.clone();
            }
            let mut cio = Io::default();
            ctx.stdin = input.take();
            ctx.piped = n > 1;
            status = self.run_simple(cmd, ctx, &mut cio, bg && n == 1);
            ctx.stdin = None;
            ctx.piped = false;
            if n > 1 {
                // A subshell's `exit` ends only its own part of the pipeline.
                ctx.exited = false;
            }
            if i + 1 < n {
                // stdout feeds the next command; stderr goes to the terminal.
                let mut piped = String::new();
                for (fd, s) in cio.chunks {
                    match fd {
                        Fd::Out => piped.push_str(&s),
                        Fd::Err => io.err(s),
                    }
                }
                input = Some(piped);
            } else {
                io.extend(cio);
            }
            if ctx.exited || self.closed {
                break;
            }
        }
        status
    }

    /// Expand words, set up redirections, run the command and route its output.
    fn run_simple(&mut self, cmd: &lex::Simple, ctx: &mut Ctx, io: &mut Io, bg: bool) -> i32 {
        if cmd.input_redirect {
            io.errln("bash: input redirection (<) is not available in the lab shell");
            return 1;
        }
        let argv = self.expand_words(&cmd.words, ctx);
        let mut dest: [Dest; 2] = [Dest::Inherit(Fd::Out), Dest::Inherit(Fd::Err)];
        for r in &cmd.redirects {
            let d = match &r.target {
                Target::Fd(1) => dest[0].clone(),
                Target::Fd(2) => dest[1].clone(),
                Target::Fd(n) => {
                    io.errln(format!("bash: {n}: Bad file descriptor"));
                    return 1;
                }
                Target::File(w) => {
                    let name = self.expand_words(std::slice::from_ref(w), ctx);
                    let name = match name.as_slice() {
                        [one] => one.clone(),
                        _ => {
                            io.errln(format!("bash: {}: ambiguous redirect", w.text));
                            return 1;
                        }
                    };
                    if name == "/dev/null" {
                        Dest::Null
                    } else {
                        let path = fs::absolute(&ctx.cwd, &name);
                        // bash opens (and truncates) the file before the command runs.
                        let existing = self.read_file(&ctx.host, &path);
                        let initial = if r.append {
                            existing.unwrap_or_default()
                        } else {
                            String::new()
                        };
                        if let Err(e) = self.write_file(&ctx.host, &path, &initial, false) {
                            io.errln(format!("bash: {name}: {}", e.reason()));
                            return 1;
                        }
                        Dest::File {
                            path,
                            append: r.append,
                        }
                    }
                }
            };
            match r.fd {
                1 => dest[0] = d,
                2 => dest[1] = d,
                _ => {
                    dest[0] = d.clone();
                    dest[1] = d;
                }
            }
        }
        // `cat f >> f` is refused by cat itself; `cat f > f` just finds an empty file.
        ctx.stdout_file = match &dest[0] {
            Dest::File { path, append: true } => Some(path.clone()),
            _ => None,
        };
        let mut cio = Io::default();
        let announced = self.spawn.as_ref().map(|s| s.id).filter(|_| bg);
        let status = if argv.is_empty() {
            0
        } else {
            self.dispatch(&argv, ctx, &mut cio, bg)
        };
        ctx.stdout_file = None;
        if let Some(id) = announced
            && self.spawn.is_none()
            && let Some(job) = self.jobs.iter_mut().find(|j| j.id == id)
        {
            // The command became a background job: what it prints later goes where its
            // redirections say.
            job.dest = dest.clone();
            job.host = ctx.host.clone();
        }
        for (fd, s) in cio.chunks {
            let target = match fd {
                Fd::Out => &dest[0],
                Fd::Err => &dest[1],
            };
            match target {
                Dest::Inherit(to) => io.chunks.push((*to, s)),
                Dest::Null => {}
                Dest::File { path, .. } => {
                    if let Err(e) = self.write_file(&ctx.host, path, &s, true) {
                        io.errln(format!("bash: {}: {}", path, e.reason()));
                    }
                }
            }
        }
        status
    }

    /// Tilde and pathname expansion.
    fn expand_words(&self, words: &[lex::Word], ctx: &Ctx) -> Vec<String> {
        let mut out = Vec::new();
        for w in words {
            let mut text = w.text.clone();
            if text.contains([lex::PARAM_LAST_BG_PID, lex::PARAM_STATUS]) {
                // bash expands `$!` to nothing before any job was started.
                let pid = self.last_bg_pid.map(|p| p.to_string()).unwrap_or_default();
                text = text
                    .replace(lex::PARAM_LAST_BG_PID, &pid)
                    .replace(lex::PARAM_STATUS, &self.last_status.to_string());
            }
            if w.tilde {
                text = format!("{}{}", fs::HOME, &text[1..]);
            }
            if w.glob {
                let matches = self.glob(&ctx.host, &ctx.cwd, &text);
                if !matches.is_empty() {
                    out.extend(matches);
                    continue;
                }
            }
            out.push(text);
        }
        out
    }

    /// Files matching a glob in its directory (only the last component may have wildcards).
    fn glob(&self, host: &str, cwd: &str, pattern: &str) -> Vec<String> {
        let (dir_part, pat) = match pattern.rfind('/') {
            Some(i) => (&pattern[..=i], &pattern[i + 1..]),
            None => ("", pattern),
        };
        if dir_part.contains(['*', '?', '[']) {
            return Vec::new();
        }
        let dir = fs::absolute(cwd, if dir_part.is_empty() { "." } else { dir_part });
        let mut names: Vec<String> = self
            .dir_entries(host, &dir)
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| fs::glob_match(pat, n))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| format!("{dir_part}{n}"))
            .collect()
    }

    fn new_job_id(&self) -> u32 {
        self.jobs.iter().map(|j| j.id).max().unwrap_or(0) + 1
    }

    fn take_pid(&mut self) -> u32 {
        let pid = self.next_pid;
        self.next_pid = self.next_pid.wrapping_add(1 + pid % 7).max(300);
        pid
    }

    // ---- time -------------------------------------------------------------------------------

    /// One simulator tick, with the jobs kept up to date. False when the line's time budget is
    /// used up.
    fn step_once(&mut self) -> bool {
        if self.budget < TICK {
            return false;
        }
        self.budget = SimDuration(self.budget.0 - TICK.0);
        self.sim.step();
        while let Some(ev) = self.sim.poll_trace() {
            self.record_event(ev);
        }
        self.tick_jobs();
        true
    }

    /// Let `d` of lab time pass. False if the line's time budget ran out first.
    fn advance_by(&mut self, d: SimDuration) -> bool {
        let target = self.sim.now() + d;
        while self.sim.now() < target {
            if !self.step_once() {
                return false;
            }
        }
        true
    }
}

/// `/root` → `~`, `/root/x` → `~/x`.
fn display_dir(cwd: &str) -> String {
    if cwd == fs::HOME {
        "~".into()
    } else if let Some(rest) = cwd.strip_prefix("/root/") {
        format!("~/{rest}")
    } else {
        cwd.to_string()
    }
}

/// The pipeline as bash shows it in job lines.
fn pipeline_text(p: &Pipeline) -> String {
    p.cmds
        .iter()
        .map(|c| {
            let mut parts: Vec<String> = c
                .words
                .iter()
                .map(|w| lex::quote_for_display(&w.text))
                .collect();
            for r in &c.redirects {
                let op = match (r.fd, r.append) {
                    (1, false) => ">".to_string(),
                    (1, true) => ">>".to_string(),
                    (2, false) => "2>".to_string(),
                    (2, true) => "2>>".to_string(),
                    (_, false) => "&>".to_string(),
                    (_, true) => "&>>".to_string(),
                };
                match &r.target {
                    Target::File(w) => parts.push(format!("{op} {}", w.text)),
                    Target::Fd(n) => parts.push(format!("{op}&{n}")),
                }
            }
            parts.join(" ")
        })
        .collect::<Vec<_>>()
        .join(" | ")
}
