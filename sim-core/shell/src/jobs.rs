//! bash job control in lab time: a command started with `&` (`ping`, `sleep`, `virsh migrate`)
//! runs along with whatever is typed after it, one simulator tick at a time; `jobs`, `wait`,
//! `fg`, `kill` and the `[1]+  Done` lines behave as bash 5's (checked against bash 5.2 in a
//! terminal: `wait` and `kill` report the job at the next prompt, `jobs -l` adds the pid).
//!
//! A background job's output goes where its redirections say as it is produced (so `cat` of a
//! `ping ... > ping.log &` file grows while the job runs); output to the terminal is shown at
//! the next prompt, after the line's own output.

use super::{Dest, Fd, Io, Job, Shell, Signal, Work};
use migralab_sim_core::text::Text;
use migralab_sim_core::time::SimDuration;

/// The job a pipeline announced with `[N] PID`, waiting for its command to start.
#[derive(Debug, Clone)]
pub(super) struct Spawn {
    pub id: u32,
    pub pid: u32,
    pub command: String,
}

/// How waiting for a job ended.
enum Waited {
    Done,
    /// The job would never end: the lab pressed Ctrl-C.
    CtrlC,
    /// The line's lab-time budget ran out first.
    OutOfTime,
}

/// bash's `kill` usage line.
const KILL_USAGE: &str =
    "kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]";

/// `kill -l` as bash 5.2 prints it on Linux x86-64.
const KILL_L: &str = concat!(
    " 1) SIGHUP\t 2) SIGINT\t 3) SIGQUIT\t 4) SIGILL\t 5) SIGTRAP\n",
    " 6) SIGABRT\t 7) SIGBUS\t 8) SIGFPE\t 9) SIGKILL\t10) SIGUSR1\n",
    "11) SIGSEGV\t12) SIGUSR2\t13) SIGPIPE\t14) SIGALRM\t15) SIGTERM\n",
    "16) SIGSTKFLT\t17) SIGCHLD\t18) SIGCONT\t19) SIGSTOP\t20) SIGTSTP\n",
    "21) SIGTTIN\t22) SIGTTOU\t23) SIGURG\t24) SIGXCPU\t25) SIGXFSZ\n",
    "26) SIGVTALRM\t27) SIGPROF\t28) SIGWINCH\t29) SIGIO\t30) SIGPWR\n",
    "31) SIGSYS\t34) SIGRTMIN\t35) SIGRTMIN+1\t36) SIGRTMIN+2\t37) SIGRTMIN+3\n",
    "38) SIGRTMIN+4\t39) SIGRTMIN+5\t40) SIGRTMIN+6\t41) SIGRTMIN+7\t42) SIGRTMIN+8\n",
    "43) SIGRTMIN+9\t44) SIGRTMIN+10\t45) SIGRTMIN+11\t46) SIGRTMIN+12\t47) SIGRTMIN+13\n",
    "48) SIGRTMIN+14\t49) SIGRTMIN+15\t50) SIGRTMAX-14\t51) SIGRTMAX-13\t52) SIGRTMAX-12\n",
    "53) SIGRTMAX-11\t54) SIGRTMAX-10\t55) SIGRTMAX-9\t56) SIGRTMAX-8\t57) SIGRTMAX-7\n",
    "58) SIGRTMAX-6\t59) SIGRTMAX-5\t60) SIGRTMAX-4\t61) SIGRTMAX-3\t62) SIGRTMAX-2\n",
    "63) SIGRTMAX-1\t64) SIGRTMAX\t\n",
);

/// `kill -l [N|NAME ...]`: the table, a number's name or a name's number.
fn kill_list(args: &[String], io: &mut Io) -> i32 {
    if args.is_empty() {
        io.out(KILL_L);
        return 0;
    }
    let table: Vec<(&str, &str)> = KILL_L
        .split(['\t', '\n'])
        .filter_map(|cell| cell.trim().split_once(") "))
        .collect();
    let mut status = 0;
    for a in args {
        let up = a.to_ascii_uppercase();
        let name = up.strip_prefix("SIG").unwrap_or(&up);
        let hit = table.iter().find_map(|(n, sig)| {
            let short = sig.strip_prefix("SIG").unwrap_or(sig);
            if *n == a.as_str() {
                Some(short.to_string())
            } else if short == name {
                Some((*n).to_string())
            } else {
                None
            }
        });
        match hit {
            Some(x) => io.outln(x),
            None => {
                io.errln(format!("bash: kill: {a}: invalid signal specification"));
                status = 1;
            }
        }
    }
    status
}

/// A signal by name (`INT`, `SIGINT`, case-insensitive as bash takes it) or number.
fn parse_signal(s: &str) -> Option<Signal> {
    let up = s.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    Some(match name {
        "HUP" | "1" => Signal::Hup,
        "INT" | "2" => Signal::Int,
        "QUIT" | "3" => Signal::Quit,
        "KILL" | "9" => Signal::Kill,
        "TERM" | "15" => Signal::Term,
        _ => return None,
    })
}

impl Shell {
    /// Start `work` as the background job the current pipeline announced (`[N] PID`).
    pub(super) fn start_job(&mut self, work: Work, host: &str) {
        let spawn = match self.spawn.take() {
            Some(s) => s,
            None => Spawn {
                id: self.new_job_id(),
                pid: self.take_pid(),
                command: String::new(),
            },
        };
        let now = self.sim.now();
        let job = Job::new(spawn.id, spawn.pid, spawn.command, work, host, now);
        self.jobs.push(job);
    }

    /// Let every running job see the lab time that just passed: progress lines, probes, ends.
    pub(super) fn tick_jobs(&mut self) {
        let now = self.sim.now();
        for i in 0..self.jobs.len() {
            if self.jobs[i].finished {
                continue;
            }
            match &self.jobs[i].work {
                Work::Migrate(w) => {
                    let Some(m) = self.sim.migrations().get(w.mig) else {
                        self.jobs[i].finished = true;
                        continue;
                    };
                    if m.is_done() {
                        self.finish_job(i);
                        if let Some(job) = self.jobs.get_mut(i)
                            && let Some(sig) = job.signal
                        {
                            // virsh was killed: it printed nothing more.
                            job.io = Io::default();
                            job.status = 128 + sig as i32;
                        }
                        continue;
                    }
                    let line = (w.verbose && m.is_active() && now >= w.next_progress).then(|| {
                        // virsh rewrites one line with `\r`; the lab prints one line a second.
                        format!("Migration: [{:>5.2} %]", m.sample().verbose_percent())
                    });
                    if let Some(line) = line {
                        let job = &mut self.jobs[i];
                        job.io.errln(line);
                        if let Work::Migrate(w) = &mut job.work {
                            while w.next_progress <= now {
                                w.next_progress += SimDuration::from_secs(1);
                            }
                        }
                    }
                }
                Work::Ping(_) => self.ping_tick(i),
                Work::Sleep { until } => {
                    if now >= *until {
                        self.jobs[i].finished = true;
                    }
                }
                Work::Ran => self.jobs[i].finished = true,
            }
        }
        for i in 0..self.jobs.len() {
            if self.jobs[i].id > 0 {
                self.route_job_output(i);
            }
        }
    }

    /// Send what job `i` printed where its redirections say: files now, the terminal later.
    fn route_job_output(&mut self, i: usize) {
        let Some(job) = self.jobs.get_mut(i) else {
            return;
        };
        if job.io.chunks.is_empty() {
            return;
        }
        let chunks = std::mem::take(&mut job.io.chunks);
        let dest = job.dest.clone();
        let host = job.host.clone();
        for (fd, s) in chunks {
            let target = match fd {
                Fd::Out => &dest[0],
                Fd::Err => &dest[1],
            };
            match target {
                Dest::Inherit(to) => {
                    if let Some(job) = self.jobs.get_mut(i) {
                        job.term.chunks.push((*to, s));
                    }
                }
                Dest::Null => {}
                Dest::File { path, .. } => {
                    // A full disk fails the program's own writes; ping (stdio) says nothing.
                    let _ = self.write_file(&host, path, &s, true);
                }
            }
        }
    }

    /// bash's `+` and `-` jobs: the newest and the one before it.
    pub(super) fn current_and_previous_job(&self) -> (Option<u32>, Option<u32>) {
        let live: Vec<u32> = self
            .jobs
            .iter()
            .filter(|j| j.id > 0)
            .map(|j| j.id)
            .collect();
        let current = live.iter().copied().max();
        let previous = live.iter().copied().filter(|&x| Some(x) != current).max();
        (current, previous)
    }

    fn job_mark(&self, id: u32) -> char {
        let (current, previous) = self.current_and_previous_job();
        if Some(id) == current {
            '+'
        } else if Some(id) == previous {
            '-'
        } else {
            ' '
        }
    }

    /// Take a finished job out of the list: its output, its hint, its exit status.
    pub(super) fn reap_job(&mut self, slot: usize, io: &mut Io) -> i32 {
        self.route_job_output(slot);
        let job = self.jobs.remove(slot);
        io.extend(job.term);
        if let Some(h) = job.hint {
            self.set_hint(h);
        }
        job.status
    }

    /// Show what background jobs printed so far (while the student typed, it was already on the
    /// screen before the line's own output).
    pub(super) fn show_job_output(&mut self, io: &mut Io) {
        for i in 0..self.jobs.len() {
            if self.jobs[i].id > 0 {
                self.route_job_output(i);
                io.extend(std::mem::take(&mut self.jobs[i].term));
            }
        }
    }

    /// Show what background jobs printed, and report the finished ones as bash does.
    pub(super) fn flush_jobs(&mut self, io: &mut Io) {
        for i in 0..self.jobs.len() {
            if self.jobs[i].id > 0 {
                self.route_job_output(i);
            }
        }
        let marks: Vec<char> = self.jobs.iter().map(|j| self.job_mark(j.id)).collect();
        let mut keep = Vec::new();
        for (mut job, mark) in std::mem::take(&mut self.jobs).into_iter().zip(marks) {
            if job.id == 0 {
                keep.push(job);
                continue;
            }
            io.extend(std::mem::take(&mut job.term));
            if let Some(h) = job.hint.take() {
                self.set_hint(h);
            }
            if job.finished {
                io.errln(format!(
                    "[{}]{mark}  {:<24}{}",
                    job.id,
                    job.state_word(),
                    job.command
                ));
            } else {
                keep.push(job);
            }
        }
        self.jobs = keep;
    }

    /// A job by bash's jobspec (`%1`, `%%`, `%+`, `%-`) or, when `pids`, by process id.
    fn find_job(&self, spec: &str, pids: bool) -> Option<usize> {
        let (current, previous) = self.current_and_previous_job();
        let id = match spec.strip_prefix('%') {
            Some("" | "%" | "+") => current?,
            Some("-") => previous?,
            Some(n) => n.parse::<u32>().ok()?,
            None if pids => {
                let pid = spec.parse::<u32>().ok()?;
                return self.jobs.iter().position(|j| j.id > 0 && j.pid == pid);
            }
            None => return None,
        };
        self.jobs.iter().position(|j| j.id == id && j.id > 0)
    }

    /// `jobs [-l] [-p]`.
    pub(super) fn jobs_builtin(&mut self, args: &[String], io: &mut Io) -> i32 {
        let flags: String = args.iter().filter_map(|a| a.strip_prefix('-')).collect();
        if let Some(bad) = flags.chars().find(|c| !"lp".contains(*c)) {
            io.errln(format!("bash: jobs: -{bad}: invalid option"));
            io.errln("jobs: usage: jobs [-lnprs] [jobspec ...] or jobs -x command [args]");
            return 2;
        }
        for i in 0..self.jobs.len() {
            if self.jobs[i].id > 0 {
                self.route_job_output(i);
            }
        }
        let mut reported = Vec::new();
        for j in self.jobs.iter().filter(|j| j.id > 0) {
            if flags.contains('p') {
                io.outln(j.pid.to_string());
                continue;
            }
            let mark = self.job_mark(j.id);
            let pid = if flags.contains('l') {
                format!(" {}", j.pid)
            } else {
                " ".into()
            };
            let amp = if j.finished { "" } else { " &" };
            io.outln(format!(
                "[{}]{mark}{pid} {:<24}{}{amp}",
                j.id,
                j.state_word(),
                j.command
            ));
            if j.finished {
                reported.push(j.id);
            }
        }
        // A finished job `jobs` listed is not reported again.
        for id in reported {
            if let Some(slot) = self.jobs.iter().position(|j| j.id == id) {
                let mut sink = Io::default();
                self.reap_job(slot, &mut sink);
                io.extend(sink);
            }
        }
        0
    }

    /// Run lab time until job `id` ends. An endless `ping` never does: the lab presses Ctrl-C
    /// for the student once every other job has ended (`fg` then interrupts the ping, as the
    /// terminal would; `wait` is interrupted itself and the ping goes on, as in bash).
    fn run_until_done(&mut self, id: u32) -> Waited {
        loop {
            let Some(job) = self.jobs.iter().find(|j| j.id == id) else {
                return Waited::Done;
            };
            if job.finished {
                return Waited::Done;
            }
            if !job.bounded()
                && !self
                    .jobs
                    .iter()
                    .any(|j| j.id != id && !j.finished && j.bounded())
            {
                return Waited::CtrlC;
            }
            if !self.step_once() {
                return Waited::OutOfTime;
            }
        }
    }

    /// `wait [%N|PID ...]`.
    pub(super) fn wait_builtin(&mut self, args: &[String], io: &mut Io) -> i32 {
        let mut targets = Vec::new();
        let mut status = 0;
        for a in args {
            match self.find_job(a, true) {
                Some(slot) => targets.push(self.jobs[slot].id),
                None if a.starts_with('%') => {
                    io.errln(format!("bash: wait: {a}: no such job"));
                    status = 127;
                }
                None if a.parse::<u32>().is_ok() => {
                    io.errln(format!("bash: wait: pid {a} is not a child of this shell"));
                    status = 127;
                }
                None => {
                    io.errln(format!("bash: wait: `{a}': not a pid or valid job spec"));
                    status = 2;
                }
            }
        }
        if args.is_empty() {
            targets = self
                .jobs
                .iter()
                .filter(|j| j.id > 0)
                .map(|j| j.id)
                .collect();
        }
        for id in targets {
            match self.run_until_done(id) {
                Waited::Done => {}
                Waited::CtrlC => {
                    io.outln("^C");
                    self.note(
                        io,
                        &Text::new(
                            format!("job [{id}] (ping tanpa -c) tidak pernah selesai sendiri: lab menekan Ctrl-C untukmu; ping tetap berjalan (`kill %{id}` menghentikannya)."),
                            format!("job [{id}] (ping without -c) never ends by itself: the lab pressed Ctrl-C for you; the ping keeps running (`kill %{id}` stops it)."),
                        ),
                    );
                    return 130;
                }
                Waited::OutOfTime => {
                    self.out_of_time_note(io);
                    return 0;
                }
            }
            if !args.is_empty() {
                status = self
                    .jobs
                    .iter()
                    .find(|j| j.id == id)
                    .map_or(127, |j| j.status);
            }
        }
        status
    }

    fn out_of_time_note(&self, io: &mut Io) {
        self.note(
            io,
            &Text::new(
                "batas waktu lab untuk satu baris tercapai (2 jam); job tetap berjalan.",
                "the lab's time limit for one line was reached (2 hours); the job keeps running.",
            ),
        );
    }

    /// `fg [%N]`: the job runs in the foreground until it ends.
    pub(super) fn fg(&mut self, args: &[String], io: &mut Io) -> i32 {
        let spec = args.first().map_or("%+", String::as_str);
        let Some(slot) = self.find_job(spec, false) else {
            let what = args.first().map_or("current", String::as_str);
            io.errln(format!("bash: fg: {what}: no such job"));
            return 1;
        };
        if self.jobs[slot].finished {
            io.errln("bash: fg: job has terminated");
            let mut sink = Io::default();
            self.reap_job(slot, &mut sink);
            io.extend(sink);
            return 1;
        }
        // What it printed before is on the screen already.
        self.route_job_output(slot);
        io.extend(std::mem::take(&mut self.jobs[slot].term));
        io.outln(&self.jobs[slot].command);
        let id = self.jobs[slot].id;
        let waited = self.run_until_done(id);
        if let Some(slot) = self.jobs.iter().position(|j| j.id == id) {
            self.route_job_output(slot);
            io.extend(std::mem::take(&mut self.jobs[slot].term));
        }
        match waited {
            Waited::Done => {}
            Waited::CtrlC => {
                // Ctrl-C reaches the job now that it is in the foreground.
                io.outln("^C");
                if let Some(slot) = self.jobs.iter().position(|j| j.id == id) {
                    self.signal_job(slot, Signal::Int);
                }
            }
            Waited::OutOfTime => {
                self.out_of_time_note(io);
                return 0;
            }
        }
        let Some(slot) = self.jobs.iter().position(|j| j.id == id) else {
            return 0;
        };
        if !self.jobs[slot].finished {
            // The time budget ran out: the job goes on in the background.
            return 0;
        }
        self.reap_job(slot, io)
    }

    /// `kill [-s SIG | -n NUM | -SIG] %N|PID ...`.
    pub(super) fn kill_builtin(&mut self, args: &[String], io: &mut Io) -> i32 {
        let mut sig = Signal::Term;
        let mut rest = args;
        if let Some(first) = rest.first() {
            if first == "-l" || first == "-L" {
                return kill_list(&rest[1..], io);
            }
            if first == "-s" || first == "-n" {
                let Some(name) = rest.get(1) else {
                    io.errln(format!("bash: kill: {first}: option requires an argument"));
                    io.errln(KILL_USAGE);
                    return 2;
                };
                match parse_signal(name) {
                    Some(s) => sig = s,
                    None => {
                        io.errln(format!("bash: kill: {name}: invalid signal specification"));
                        return 1;
                    }
                }
                rest = &rest[2..];
            } else if let Some(name) = first.strip_prefix('-').filter(|n| !n.is_empty()) {
                match parse_signal(name) {
                    Some(s) => sig = s,
                    None => {
                        io.errln(format!("bash: kill: {name}: invalid signal specification"));
                        return 1;
                    }
                }
                rest = &rest[1..];
            }
        }
        if rest.is_empty() {
            io.errln(KILL_USAGE);
            return 2;
        }
        let mut status = 0;
        for a in rest {
            match self.find_job(a, true) {
                Some(slot) if !self.jobs[slot].finished => self.signal_job(slot, sig),
                Some(_) | None if a.starts_with('%') => {
                    io.errln(format!("bash: kill: {a}: no such job"));
                    status = 1;
                }
                _ if a.parse::<u32>().is_ok() => {
                    io.errln(format!("bash: kill: ({a}) - No such process"));
                    status = 1;
                }
                _ => {
                    io.errln(format!(
                        "bash: kill: {a}: arguments must be process or job IDs"
                    ));
                    status = 1;
                }
            }
        }
        status
    }

    /// Deliver `sig` to job `slot` as its program reacts to it.
    pub(super) fn signal_job(&mut self, slot: usize, sig: Signal) {
        let work = std::mem::replace(&mut self.jobs[slot].work, Work::Ran);
        match work {
            Work::Ping(run) => {
                // iputils ping catches SIGINT (and SIGALRM) to print its statistics and exit;
                // SIGQUIT only asks for a status line; SIGTERM, SIGHUP and SIGKILL kill it
                // silently (ping/ping_common.c `setup`: set_signal(SIGINT, sigexit), ...).
                match sig {
                    Signal::Int => {
                        let mut out = Io::default();
                        let status = self.ping_statistics(&run, &mut out);
                        let job = &mut self.jobs[slot];
                        job.io.extend(out);
                        job.status = status;
                        job.finished = true;
                    }
                    Signal::Quit => {}
                    _ => {
                        let job = &mut self.jobs[slot];
                        job.signal = Some(sig);
                        job.status = 128 + sig as i32;
                        job.finished = true;
                    }
                }
                self.jobs[slot].work = Work::Ping(run);
            }
            Work::Migrate(w) => {
                // virsh aborts the migration job on SIGINT (vshWatchJob); when it dies of another
                // signal its connection closes and libvirtd cancels the migration it drove.
                let vm = w.spec.vm.clone();
                self.jobs[slot].work = Work::Migrate(w);
                if sig != Signal::Int && sig != Signal::Quit {
                    self.jobs[slot].signal = Some(sig);
                }
                if sig != Signal::Quit {
                    let _ = self
                        .sim
                        .apply(migralab_sim_core::lab::LabCommand::Abort { vm });
                    while let Some(ev) = self.sim.poll_trace() {
                        self.record_event(ev);
                    }
                    self.tick_jobs();
                }
            }
            other => {
                let job = &mut self.jobs[slot];
                job.work = other;
                job.signal = Some(sig);
                job.status = 128 + sig as i32;
                job.finished = true;
            }
        }
    }
}
