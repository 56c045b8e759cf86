//! The commands besides `virsh` and the network ones: the coreutils a lab needs (`cat`, `ls`,
//! `echo`, `grep`, `head`, `tail`, `wc`, ...), bash builtins (`cd`, `jobs`, `wait`, `history`,
//! ...), and `help`.

use super::hint::{closest, t};
use super::text::{GrepOpts, Pattern};
use super::{Ctx, Io, Shell, fs, net, text};
use crate::scenario::StorageKind;
use crate::time::SimDuration;

/// Every command the lab shell knows (for typo hints).
const KNOWN: &[&str] = &[
    "virsh",
    "ssh",
    "scp",
    "ssh-copy-id",
    "exit",
    "logout",
    "ping",
    "ip",
    "hostname",
    "whoami",
    "pwd",
    "cd",
    "echo",
    "cat",
    "ls",
    "rm",
    "mount",
    "grep",
    "egrep",
    "fgrep",
    "head",
    "tail",
    "wc",
    "sort",
    "uniq",
    "less",
    "more",
    "sleep",
    "wait",
    "jobs",
    "fg",
    "history",
    "help",
    "true",
    "false",
    "clear",
];

impl Shell {
    /// Run one command with its (expanded) arguments.
    pub(super) fn dispatch(
        &mut self,
        argv: &[String],
        ctx: &mut Ctx,
        io: &mut Io,
        bg: bool,
    ) -> i32 {
        let Some((name, args)) = argv.split_first() else {
            return 0;
        };
        match name.as_str() {
            "virsh" => self.virsh(args, ctx, io, bg),
            "ssh" => self.ssh(args, ctx, io),
            "scp" => self.scp(args, ctx, io),
            "ssh-copy-id" => self.ssh_copy_id(args, ctx, io),
            "exit" | "logout" => self.exit(args, ctx, io),
            "ping" => self.ping(args, ctx, io),
            "ip" => self.ip(args, ctx, io),
            "hostname" => {
                io.outln(&ctx.host);
                0
            }
            "whoami" => {
                io.outln("root");
                0
            }
            "pwd" => {
                io.outln(&ctx.cwd);
                0
            }
            "cd" => self.cd(args, ctx, io),
            "echo" => {
                let (newline, words) = match args.first().map(String::as_str) {
                    Some("-n") => (false, &args[1..]),
                    _ => (true, args),
                };
                io.out(words.join(" "));
                if newline {
                    io.out("\n");
                }
                0
            }
            "cat" => self.cat(args, ctx, io),
            "ls" => self.ls(args, ctx, io),
            "rm" => self.rm(args, ctx, io),
            "mount" => self.mount(ctx, io),
            "grep" | "egrep" | "fgrep" => self.grep(name, args, ctx, io),
            "head" | "tail" => head_tail(name, args, ctx, io),
            "wc" => wc(args, ctx, io),
            "sort" => {
                let input = ctx.stdin.clone().unwrap_or_default();
                let mut lines: Vec<&str> = input.lines().collect();
                lines.sort_unstable();
                if args.iter().any(|a| a == "-r") {
                    lines.reverse();
                }
                for l in lines {
                    io.outln(l);
                }
                0
            }
            "uniq" => {
                let input = ctx.stdin.clone().unwrap_or_default();
                let mut last: Option<&str> = None;
                for l in input.lines() {
                    if last != Some(l) {
                        io.outln(l);
                    }
                    last = Some(l);
                }
                0
            }
            "less" | "more" => {
                if args.is_empty() {
                    io.out(ctx.stdin.clone().unwrap_or_default());
                    0
                } else {
                    self.cat(args, ctx, io)
                }
            }
            "sleep" => self.sleep(args, io),
            "wait" => {
                while self.jobs.iter().any(|j| j.id > 0 && !j.finished) {
                    if !self.step_once() {
                        break;
                    }
                }
                0
            }
            "jobs" => {
                let (current, previous) = self.current_and_previous_job();
                for j in self.jobs.iter().filter(|j| j.id > 0 && !j.finished) {
                    let mark = if Some(j.id) == current {
                        '+'
                    } else if Some(j.id) == previous {
                        '-'
                    } else {
                        ' '
                    };
                    io.outln(format!(
                        "[{}]{mark}  {:<24}{} &",
                        j.id, "Running", j.command
                    ));
                }
                0
            }
            "fg" => self.fg(args, io),
            "history" => {
                for (k, l) in self.history.iter().enumerate() {
                    io.outln(format!("{:>5}  {l}", k + 1));
                }
                0
            }
            "help" => {
                io.out(self.lang.pick(&help_text()).to_string());
                0
            }
            "true" | "clear" => 0,
            "false" => 1,
            other => {
                io.errln(format!("bash: {other}: command not found"));
                if super::virsh::COMMANDS.iter().any(|d| d.name == other) {
                    self.set_hint(t(
                        format!("`{other}` adalah perintah virsh: ketik `virsh {other} ...`."),
                        format!("`{other}` is a virsh command: type `virsh {other} ...`."),
                    ));
                } else if let Some(s) = closest(other, KNOWN.iter().copied()) {
                    self.set_hint(t(
                        format!("maksudmu `{s}`? Perintah yang ada di lab: `help`."),
                        format!("did you mean `{s}`? The lab's commands: `help`."),
                    ));
                } else {
                    self.set_hint(t(
                        "perintah yang ada di lab ini: `help`.",
                        "the commands this lab has: `help`.",
                    ));
                }
                127
            }
        }
    }

    /// The contents of a file on a host: the student's files, plus `/etc/hosts` and
    /// `/etc/hostname`.
    pub(super) fn read_file(&self, host: &str, path: &str) -> Option<String> {
        if let Some(text) = self.fs.read(host, path) {
            return Some(text.to_string());
        }
        match path {
            "/etc/hosts" => Some(self.etc_hosts_text(host)),
            "/etc/hostname" => Some(format!("{host}\n")),
            "/dev/null" => Some(String::new()),
            _ => None,
        }
    }

    /// Write a file; writing `/etc/hosts` changes name resolution on that host.
    pub(super) fn write_file(
        &mut self,
        host: &str,
        path: &str,
        text: &str,
        append: bool,
    ) -> Result<(), fs::FsError> {
        if path == "/etc/hosts" && self.fs.read(host, path).is_none() {
            // The first write starts from the file as it is.
            let current = self.etc_hosts_text(host);
            self.fs.write(host, path, &current, false)?;
        }
        self.fs.write(host, path, text, append)?;
        if path == "/etc/hosts" {
            let content = self.fs.read(host, path).unwrap_or_default().to_string();
            self.sim.set_etc_hosts(host, net::parse_etc_hosts(&content));
        }
        Ok(())
    }

    /// Entries of a directory: (name, size), the student's files and the lab's own.
    pub(super) fn dir_entries(&self, host: &str, dir: &str) -> Vec<(String, u64)> {
        let mut out: Vec<(String, u64)> = self
            .fs
            .list(host, dir)
            .into_iter()
            .map(|(n, s)| (n, s as u64))
            .collect();
        let add = |out: &mut Vec<(String, u64)>, name: String, size: u64| {
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, size));
            }
        };
        let scenario = self.sim.scenario();
        if dir == fs::absolute("/", &scenario.storage.path) {
            for v in scenario.vms.iter().filter(|v| v.disk_bytes() > 0) {
                let visible = match scenario.storage.kind {
                    StorageKind::Shared => scenario.storage.visible_on(host),
                    StorageKind::Local => self
                        .local_images
                        .contains(&(host.to_string(), v.name.clone())),
                };
                if visible {
                    add(&mut out, format!("{}.qcow2", v.name), v.disk_bytes());
                }
            }
        }
        if dir == "/etc" {
            let hosts = self.etc_hosts_text(host).len() as u64;
            add(&mut out, "hosts".into(), hosts);
            add(&mut out, "hostname".into(), host.len() as u64 + 1);
            add(&mut out, "libvirt".into(), 4096);
        }
        if dir == "/var/lib/libvirt" {
            add(&mut out, "qemu".into(), 4096);
        }
        out.sort();
        out
    }

    fn cd(&mut self, args: &[String], ctx: &mut Ctx, io: &mut Io) -> i32 {
        let target = match args.first() {
            None => fs::HOME.to_string(),
            Some(a) if a == "-" => fs::HOME.to_string(),
            Some(a) => fs::absolute(&ctx.cwd, a),
        };
        let exists = self.fs.is_dir(&ctx.host, &target)
            || target == fs::absolute("/", &self.sim.scenario().storage.path);
        if !exists {
            let arg = args.first().cloned().unwrap_or_default();
            if self.read_file(&ctx.host, &target).is_some() {
                io.errln(format!("bash: cd: {arg}: Not a directory"));
            } else {
                io.errln(format!("bash: cd: {arg}: No such file or directory"));
            }
            return 1;
        }
        if ctx.piped {
            return 0;
        }
        ctx.cwd = target.clone();
        if ctx.session {
            self.cwd = target;
        }
        0
    }

    fn cat(&mut self, args: &[String], ctx: &mut Ctx, io: &mut Io) -> i32 {
        let files: Vec<&String> = args
            .iter()
            .filter(|a| !a.starts_with('-') || *a == "-")
            .collect();
        if files.is_empty() {
            io.out(ctx.stdin.clone().unwrap_or_default());
            return 0;
        }
        let mut status = 0;
        for f in files {
            if f == "-" {
                io.out(ctx.stdin.clone().unwrap_or_default());
                continue;
            }
            let path = fs::absolute(&ctx.cwd, f);
            if ctx.stdout_file.as_deref() == Some(path.as_str()) {
                io.errln(format!("cat: {f}: input file is output file"));
                status = 1;
                continue;
            }
            match self.read_file(&ctx.host, &path) {
                Some(text) => io.out(text),
                None if self.fs.is_dir(&ctx.host, &path) => {
                    io.errln(format!("cat: {f}: Is a directory"));
                    status = 1;
                }
                None => {
                    io.errln(format!("cat: {f}: No such file or directory"));
                    status = 1;
                }
            }
        }
        status
    }

    fn ls(&mut self, args: &[String], ctx: &mut Ctx, io: &mut Io) -> i32 {
        let mut long = false;
        let mut human = false;
        let mut paths = Vec::new();
        for a in args {
            if let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) {
                long |= flags.contains('l');
                human |= flags.contains('h');
            } else {
                paths.push(a.clone());
            }
        }
        if paths.is_empty() {
            paths.push(".".into());
        }
        let storage = fs::absolute("/", &self.sim.scenario().storage.path);
        let mut status = 0;
        let many = paths.len() > 1;
        for (k, p) in paths.iter().enumerate() {
            let abs = fs::absolute(&ctx.cwd, p);
            let is_dir = self.fs.is_dir(&ctx.host, &abs) || abs == storage;
            if !is_dir {
                match self.read_file(&ctx.host, &abs) {
                    Some(text) => print_entries(io, &[(p.clone(), text.len() as u64)], long, human),
                    None => {
                        io.errln(format!(
                            "ls: cannot access '{p}': No such file or directory"
                        ));
                        status = 2;
                    }
                }
                continue;
            }
            if many {
                if k > 0 {
                    io.outln("");
                }
                io.outln(format!("{p}:"));
            }
            let entries = self.dir_entries(&ctx.host, &abs);
            if long {
                let bytes: u64 = entries.iter().map(|(_, s)| s.div_ceil(1024) * 1024).sum();
                let total = if human {
                    human_size(bytes)
                } else {
                    (bytes / 1024).to_string()
                };
                io.outln(format!("total {total}"));
            }
            print_entries(io, &entries, long, human);
        }
        status
    }

    fn rm(&mut self, args: &[String], ctx: &mut Ctx, io: &mut Io) -> i32 {
        let force = args.iter().any(|a| a.starts_with('-') && a.contains('f'));
        let mut status = 0;
        for a in args.iter().filter(|a| !a.starts_with('-')) {
            let path = fs::absolute(&ctx.cwd, a);
            if self.fs.is_dir(&ctx.host, &path) {
                io.errln(format!("rm: cannot remove '{a}': Is a directory"));
                status = 1;
            } else if !self.fs.remove(&ctx.host, &path) && !force {
                let what = if self.read_file(&ctx.host, &path).is_some()
                    || self
                        .dir_entries(&ctx.host, fs::parent(&path))
                        .iter()
                        .any(|(n, _)| n == fs::file_name(&path))
                {
                    "Permission denied"
                } else {
                    "No such file or directory"
                };
                io.errln(format!("rm: cannot remove '{a}': {what}"));
                status = 1;
            }
        }
        status
    }

    fn mount(&mut self, ctx: &Ctx, io: &mut Io) -> i32 {
        io.outln("/dev/sda2 on / type ext4 (rw,relatime,errors=remount-ro)");
        io.outln("proc on /proc type proc (rw,nosuid,nodev,noexec,relatime)");
        io.outln("sysfs on /sys type sysfs (rw,nosuid,nodev,noexec,relatime)");
        let s = &self.sim.scenario().storage;
        if s.kind == StorageKind::Shared && s.visible_on(&ctx.host) {
            io.outln(format!(
                "nfs-server:/export/images on {} type nfs4 (rw,relatime,vers=4.2,rsize=1048576,wsize=1048576,hard,proto=tcp,timeo=600,retrans=2,sec=sys)",
                s.path
            ));
        }
        0
    }

    fn grep(&mut self, cmd: &str, args: &[String], ctx: &mut Ctx, io: &mut Io) -> i32 {
        let mut o = GrepOpts::default();
        let mut extended = cmd == "egrep";
        let mut fixed = cmd == "fgrep";
        let mut ignore_case = false;
        let mut pattern: Option<String> = None;
        let mut files: Vec<String> = Vec::new();
        let mut i = 0;
        let mut options_done = false;
        while i < args.len() {
            let a = &args[i];
            i += 1;
            if options_done || !a.starts_with('-') || a == "-" {
                if pattern.is_none() {
                    pattern = Some(a.clone());
                } else {
                    files.push(a.clone());
                }
                continue;
            }
            if a == "--" {
                options_done = true;
                continue;
            }
            if let Some(long) = a.strip_prefix("--") {
                let (n, v) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (long, None),
                };
                let mut value = || -> Option<String> {
                    v.clone().or_else(|| {
                        let x = args.get(i).cloned();
                        i += 1;
                        x
                    })
                };
                match n {
                    "ignore-case" => ignore_case = true,
                    "invert-match" => o.invert = true,
                    "count" => o.count = true,
                    "line-number" => o.line_numbers = true,
                    "quiet" | "silent" => o.quiet = true,
                    "extended-regexp" => extended = true,
                    "fixed-strings" => fixed = true,
                    "after-context" | "before-context" | "context" => {
                        let Some(v) = value().and_then(|v| v.parse::<usize>().ok()) else {
                            io.errln(format!("grep: {a}: invalid context length argument"));
                            return 2;
                        };
                        if n != "before-context" {
                            o.after = v;
                        }
                        if n != "after-context" {
                            o.before = v;
                        }
                    }
                    "regexp" => pattern = value(),
                    _ => {
                        io.errln(format!("grep: unrecognized option '{a}'"));
                        io.errln("Usage: grep [OPTION]... PATTERNS [FILE]...");
                        io.errln("Try 'grep --help' for more information.");
                        return 2;
                    }
                }
                continue;
            }
            // Clustered short options: -iA5, -A 5, -n.
            let chars: Vec<char> = a.chars().skip(1).collect();
            let mut k = 0;
            while k < chars.len() {
                let c = chars[k];
                k += 1;
                match c {
                    'i' | 'y' => ignore_case = true,
                    'v' => o.invert = true,
                    'c' => o.count = true,
                    'n' => o.line_numbers = true,
                    'q' | 's' => o.quiet |= c == 'q',
                    'E' => extended = true,
                    'F' => fixed = true,
                    'G' | 'w' | 'x' | 'H' | 'h' | 'o' => {}
                    'A' | 'B' | 'C' | 'e' => {
                        let rest: String = chars[k..].iter().collect();
                        k = chars.len();
                        let v = if rest.is_empty() {
                            let x = args.get(i).cloned();
                            i += 1;
                            x
                        } else {
                            Some(rest)
                        };
                        let Some(v) = v else {
                            io.errln(format!("grep: option requires an argument -- '{c}'"));
                            io.errln("Usage: grep [OPTION]... PATTERNS [FILE]...");
                            io.errln("Try 'grep --help' for more information.");
                            return 2;
                        };
                        if c == 'e' {
                            pattern = Some(v);
                            continue;
                        }
                        let Ok(n) = v.parse::<usize>() else {
                            io.errln(format!("grep: {v}: invalid context length argument"));
                            return 2;
                        };
                        if c != 'B' {
                            o.after = n;
                        }
                        if c != 'A' {
                            o.before = n;
                        }
                    }
                    d if d.is_ascii_digit() => {
                        // `-5` is `-C 5`.
                        let digits: String = std::iter::once(d)
                            .chain(chars[k..].iter().copied().take_while(char::is_ascii_digit))
                            .collect();
                        k += digits.len() - 1;
                        let n = digits.parse().unwrap_or(0);
                        o.after = n;
                        o.before = n;
                    }
                    other => {
                        io.errln(format!("grep: invalid option -- '{other}'"));
                        io.errln("Usage: grep [OPTION]... PATTERNS [FILE]...");
                        io.errln("Try 'grep --help' for more information.");
                        return 2;
                    }
                }
            }
        }
        let Some(pattern) = pattern else {
            io.errln("Usage: grep [OPTION]... PATTERNS [FILE]...");
            io.errln("Try 'grep --help' for more information.");
            return 2;
        };
        let pat = Pattern::new(&pattern, extended, fixed, ignore_case);
        let mut any = false;
        let mut status_err = false;
        if files.is_empty() {
            let (out, hit) = text::grep(ctx.stdin.as_deref().unwrap_or(""), &pat, &o);
            io.out(out);
            any |= hit;
        } else {
            let many = files.len() > 1;
            for f in &files {
                let path = fs::absolute(&ctx.cwd, f);
                match self.read_file(&ctx.host, &path) {
                    Some(text) => {
                        let (out, hit) = text::grep(&text, &pat, &o);
                        any |= hit;
                        if many {
                            for l in out.lines() {
                                io.outln(format!("{f}:{l}"));
                            }
                        } else {
                            io.out(out);
                        }
                    }
                    None => {
                        io.errln(format!("grep: {f}: No such file or directory"));
                        status_err = true;
                    }
                }
            }
        }
        if status_err {
            2
        } else if any {
            0
        } else {
            1
        }
    }

    fn sleep(&mut self, args: &[String], io: &mut Io) -> i32 {
        if args.is_empty() {
            io.errln("sleep: missing operand");
            io.errln("Try 'sleep --help' for more information.");
            return 1;
        }
        let mut total = 0.0f64;
        for a in args {
            let (num, mult) = match a.char_indices().last() {
                Some((i, 's')) => (&a[..i], 1.0),
                Some((i, 'm')) => (&a[..i], 60.0),
                Some((i, 'h')) => (&a[..i], 3600.0),
                Some((i, 'd')) => (&a[..i], 86400.0),
                _ => (a.as_str(), 1.0),
            };
            match num.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => total += x * mult,
                _ => {
                    io.errln(format!("sleep: invalid time interval ‘{a}’"));
                    io.errln("Try 'sleep --help' for more information.");
                    return 1;
                }
            }
        }
        let ms = (total * 1000.0).min(super::LINE_TIME_BUDGET.as_millis() as f64);
        if !self.advance_by(SimDuration::from_ms_f64(ms)) {
            self.note(
                io,
                &t(
                    "batas waktu lab untuk satu baris tercapai (2 jam).",
                    "the lab's time limit for one line was reached (2 hours).",
                ),
            );
        }
        0
    }

    fn fg(&mut self, args: &[String], io: &mut Io) -> i32 {
        let wanted = args
            .first()
            .and_then(|a| a.trim_start_matches('%').parse::<u32>().ok());
        let pick = match wanted {
            Some(n) => self.jobs.iter().position(|j| j.id == n),
            None => self
                .jobs
                .iter()
                .enumerate()
                .filter(|(_, j)| j.id > 0)
                .max_by_key(|(_, j)| j.id)
                .map(|(i, _)| i),
        };
        let Some(slot) = pick else {
            let what = args.first().cloned().unwrap_or_else(|| "current".into());
            io.errln(format!("bash: fg: {what}: no such job"));
            return 1;
        };
        io.outln(&self.jobs[slot].command);
        let id = self.jobs[slot].id;
        while self.jobs.iter().any(|j| j.id == id && !j.finished) {
            if !self.step_once() {
                return 0;
            }
        }
        let Some(slot) = self.jobs.iter().position(|j| j.id == id) else {
            return 0;
        };
        self.reap_job(slot, io)
    }
}

fn print_entries(io: &mut Io, entries: &[(String, u64)], long: bool, human: bool) {
    if !long {
        if !entries.is_empty() {
            let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
            io.outln(names.join("  "));
        }
        return;
    }
    let size = |s: u64| -> String { if human { human_size(s) } else { s.to_string() } };
    let width = entries
        .iter()
        .map(|(_, s)| size(*s).len())
        .max()
        .unwrap_or(1);
    for (n, s) in entries {
        let (perm, owner) = if n.ends_with(".qcow2") {
            ("-rw-------", "libvirt-qemu kvm ")
        } else if *s == 4096 && !n.contains('.') {
            ("drwxr-xr-x", "root         root")
        } else {
            ("-rw-r--r--", "root         root")
        };
        io.outln(format!(
            "{perm} 1 {owner} {:>width$} Jan 15 09:00 {n}",
            size(*s)
        ));
    }
}

/// `ls -h` sizes: `20G`, `4.0K`, `512`.
fn human_size(s: u64) -> String {
    let units = ["", "K", "M", "G", "T"];
    let mut v = s as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        s.to_string()
    } else if v < 10.0 {
        format!("{:.1}{}", (v * 10.0).ceil() / 10.0, units[u])
    } else {
        format!("{:.0}{}", v.ceil(), units[u])
    }
}

fn input_of(args: &[String], ctx: &Ctx) -> String {
    let _ = args;
    ctx.stdin.clone().unwrap_or_default()
}

fn head_tail(cmd: &str, args: &[String], ctx: &Ctx, io: &mut Io) -> i32 {
    let mut n: i64 = 10;
    let mut from_start = false;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        let value = if a == "-n" {
            let v = args.get(i).cloned();
            i += 1;
            v
        } else if let Some(v) = a.strip_prefix("-n") {
            Some(v.to_string())
        } else if let Some(v) = a.strip_prefix("--lines=") {
            Some(v.to_string())
        } else if a.starts_with('-') && a[1..].chars().all(|c| c.is_ascii_digit()) && a.len() > 1 {
            Some(a[1..].to_string())
        } else {
            io.errln(format!(
                "{cmd}: cannot open '{a}' for reading: No such file or directory"
            ));
            return 1;
        };
        let Some(v) = value else {
            io.errln(format!("{cmd}: option requires an argument -- 'n'"));
            return 1;
        };
        if let Some(rest) = v.strip_prefix('+') {
            from_start = true;
            n = rest.parse().unwrap_or(1);
        } else {
            match v.parse::<i64>() {
                Ok(x) => n = x,
                Err(_) => {
                    io.errln(format!("{cmd}: invalid number of lines: ‘{v}’"));
                    return 1;
                }
            }
        }
    }
    let input = input_of(args, ctx);
    if cmd == "head" {
        io.out(text::head(&input, n));
    } else {
        io.out(text::tail(&input, n.unsigned_abs() as usize, from_start));
    }
    0
}

fn wc(args: &[String], ctx: &Ctx, io: &mut Io) -> i32 {
    let input = ctx.stdin.clone().unwrap_or_default();
    let (l, w, c) = text::wc(&input);
    let flags: String = args
        .iter()
        .filter(|a| a.starts_with('-'))
        .flat_map(|a| a.chars().skip(1))
        .collect();
    if flags.is_empty() {
        io.outln(format!("{l:>7} {w:>7} {c:>7}"));
    } else {
        let mut parts = Vec::new();
        if flags.contains('l') {
            parts.push(l);
        }
        if flags.contains('w') {
            parts.push(w);
        }
        if flags.contains('c') || flags.contains('m') {
            parts.push(c);
        }
        let text: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        io.outln(text.join(" "));
    }
    0
}

/// `help`: what the lab shell can do.
fn help_text() -> crate::scenario::Text {
    t(
        "Shell lab migralab: host KVM simulasi, perintah asli.\n\
\n\
  virsh migrate [--live] [--persistent] [--undefinesource] [--verbose] ... VM qemu+ssh://HOST/system [&]\n\
  virsh list [--all] | dominfo VM | domstate VM | domjobinfo VM [--completed] | domjobabort VM\n\
  virsh dumpxml VM | domifaddr VM | capabilities | cpu-compare FILE | hypervisor-cpu-compare FILE\n\
  virsh cpu-baseline FILE | migrate-setmaxdowntime VM MS | migrate-getmaxdowntime VM\n\
  virsh migrate-setspeed VM MIBPS | migrate-getspeed VM | migrate-postcopy VM\n\
  virsh start|shutdown|destroy|undefine VM | version | nodeinfo | hostname | help [PERINTAH]\n\
  virsh -c qemu+ssh://HOST/system PERINTAH   (virsh di host lain)\n\
\n\
  ssh HOST [PERINTAH], exit, scp FILE HOST:, ssh-copy-id root@HOST, hostname\n\
  ping [-c N] [-i DETIK] [-W DETIK] IP, ip -br addr, ip link show BRIDGE, ip route\n\
  cat FILE (juga /etc/hosts), ls [-l] [DIR], cd, pwd, echo, rm, mount\n\
  ... | grep [-A N] [-B N] [-i] [-v] [-c] POLA, head, tail, wc -l, sort, uniq\n\
  PERINTAH > FILE, >> FILE, 2>&1, ;, &&, ||, PERINTAH &, jobs, fg, wait, sleep N, history\n\
\n\
Waktu lab hanya berjalan saat perintah memakan waktu (virsh migrate, ping, sleep, wait) dan\n\
1 detik per baris selama ada migrasi di latar belakang. Setelah error yang sering membuat\n\
bingung, baris `petunjuk:` menunjukkan perbaikannya. `exit` di host pertama menutup shell.\n",
        "The migralab lab shell: simulated KVM hosts, real commands.\n\
\n\
  virsh migrate [--live] [--persistent] [--undefinesource] [--verbose] ... VM qemu+ssh://HOST/system [&]\n\
  virsh list [--all] | dominfo VM | domstate VM | domjobinfo VM [--completed] | domjobabort VM\n\
  virsh dumpxml VM | domifaddr VM | capabilities | cpu-compare FILE | hypervisor-cpu-compare FILE\n\
  virsh cpu-baseline FILE | migrate-setmaxdowntime VM MS | migrate-getmaxdowntime VM\n\
  virsh migrate-setspeed VM MIBPS | migrate-getspeed VM | migrate-postcopy VM\n\
  virsh start|shutdown|destroy|undefine VM | version | nodeinfo | hostname | help [COMMAND]\n\
  virsh -c qemu+ssh://HOST/system COMMAND   (virsh on another host)\n\
\n\
  ssh HOST [COMMAND], exit, scp FILE HOST:, ssh-copy-id root@HOST, hostname\n\
  ping [-c N] [-i SECONDS] [-W SECONDS] IP, ip -br addr, ip link show BRIDGE, ip route\n\
  cat FILE (also /etc/hosts), ls [-l] [DIR], cd, pwd, echo, rm, mount\n\
  ... | grep [-A N] [-B N] [-i] [-v] [-c] PATTERN, head, tail, wc -l, sort, uniq\n\
  COMMAND > FILE, >> FILE, 2>&1, ;, &&, ||, COMMAND &, jobs, fg, wait, sleep N, history\n\
\n\
Lab time only moves when a command takes time (virsh migrate, ping, sleep, wait) and by 1 s\n\
per line while a migration runs in the background. After an error students often get stuck\n\
on, a `hint:` line points at the fix. `exit` on the first host closes the shell.\n",
    )
}
