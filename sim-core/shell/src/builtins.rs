//! The commands besides `virsh` and the network ones: the coreutils a lab needs (`cat`, `ls`,
//! `echo`, `grep`, `head`, `tail`, `wc`, ...), bash builtins (`cd`, `jobs`, `wait`, `history`,
//! ...), and `help`.

use super::hint::closest;
use super::text::{GrepOpts, Pattern};
use super::{Ctx, Io, Shell, fs, net, text};
use migralab_sim_core::scenario::StorageKind;
use migralab_sim_core::text::Text;
use migralab_sim_core::time::SimDuration;

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
    "kill",
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
            "ping" => self.ping(args, ctx, io, bg),
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
            "head" | "tail" => self.head_tail(name, args, ctx, io),
            "wc" => self.wc(args, ctx, io),
            "sort" => self.sort(args, ctx, io),
            "uniq" => self.uniq(args, ctx, io),
            "less" | "more" => {
                if args.is_empty() {
                    io.out(ctx.stdin.clone().unwrap_or_default());
                    0
                } else {
                    self.cat(args, ctx, io)
                }
            }
            "sleep" => self.sleep(args, ctx, io, bg),
            "wait" => self.wait_builtin(args, io),
            "jobs" => self.jobs_builtin(args, io),
            "fg" => self.fg(args, io),
            "kill" => self.kill_builtin(args, io),
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
                    self.set_hint(Text::new(
                        format!("`{other}` adalah perintah virsh: ketik `virsh {other} ...`."),
                        format!("`{other}` is a virsh command: type `virsh {other} ...`."),
                    ));
                } else if let Some(s) = closest(other, KNOWN.iter().copied()) {
                    self.set_hint(Text::new(
                        format!("maksudmu `{s}`? Perintah yang ada di lab: `help`."),
                        format!("did you mean `{s}`? The lab's commands: `help`."),
                    ));
                } else {
                    self.set_hint(Text::new(
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

    /// Is `path` a directory on `host` (the student's, or the lab's own storage directory)?
    pub(super) fn is_dir(&self, host: &str, path: &str) -> bool {
        self.fs.is_dir(host, path) || path == fs::absolute("/", &self.sim.scenario().storage.path)
    }

    /// An operand of `cat`, `head`, `tail`, `wc`, `sort`, `uniq`: `-` is stdin, anything else a
    /// file looked up exactly as `cat` and redirections look it up.
    fn open_input(&self, ctx: &Ctx, name: &str) -> Input {
        if name == "-" {
            return Input::Text(ctx.stdin.clone().unwrap_or_default());
        }
        let path = fs::absolute(&ctx.cwd, name);
        if self.is_dir(&ctx.host, &path) {
            return Input::Dir;
        }
        match self.read_file(&ctx.host, &path) {
            Some(text) => Input::Text(text),
            None => Input::Missing,
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
                None if self.is_dir(&ctx.host, &path) => {
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
        let mut all = false;
        let mut almost_all = false;
        let mut paths = Vec::new();
        for a in args {
            if let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) {
                if let Some(bad) = flags.chars().find(|c| !"lhaA1".contains(*c)) {
                    io.errln(format!("ls: invalid option -- '{bad}'"));
                    io.errln("Try 'ls --help' for more information.");
                    return 2;
                }
                long |= flags.contains('l');
                human |= flags.contains('h');
                all |= flags.contains('a');
                almost_all |= flags.contains('A');
            } else {
                paths.push(a.clone());
            }
        }
        if paths.is_empty() {
            paths.push(".".into());
        }
        let mut status = 0;
        let many = paths.len() > 1;
        for (k, p) in paths.iter().enumerate() {
            let abs = fs::absolute(&ctx.cwd, p);
            let is_dir = self.is_dir(&ctx.host, &abs);
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
            let mut entries = self.dir_entries(&ctx.host, &abs);
            if !(all || almost_all) {
                // Names starting with a dot are hidden without -a/-A.
                entries.retain(|(n, _)| !n.starts_with('.'));
            }
            if all {
                entries.insert(0, ("..".into(), 4096));
                entries.insert(0, (".".into(), 4096));
            }
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

    fn sleep(&mut self, args: &[String], ctx: &Ctx, io: &mut Io, bg: bool) -> i32 {
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
        if bg {
            let until = self.sim.now() + SimDuration::from_ms_f64((total * 1000.0).min(1e15));
            self.start_job(super::Work::Sleep { until }, &ctx.client);
            return 0;
        }
        let ms = (total * 1000.0).min(super::LINE_TIME_BUDGET.as_millis() as f64);
        if !self.advance_by(SimDuration::from_ms_f64(ms)) {
            self.note(
                io,
                &Text::new(
                    "batas waktu lab untuk satu baris tercapai (2 jam).",
                    "the lab's time limit for one line was reached (2 hours).",
                ),
            );
        }
        0
    }

    /// `head`/`tail [-n N|-N|-n +N] [-f] [FILE...]`, as GNU coreutils 9 words them.
    fn head_tail(&mut self, cmd: &str, args: &[String], ctx: &Ctx, io: &mut Io) -> i32 {
        let mut n: i64 = 10;
        let mut from_start = false;
        let mut follow = false;
        let mut files: Vec<String> = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            i += 1;
            let v = if a == "-n" || a == "--lines" {
                let Some(v) = args.get(i).cloned() else {
                    io.errln(format!("{cmd}: option requires an argument -- 'n'"));
                    io.errln(format!("Try '{cmd} --help' for more information."));
                    return 1;
                };
                i += 1;
                v
            } else if let Some(v) = a.strip_prefix("--lines=") {
                v.to_string()
            } else if a == "-f" || a == "--follow" || a == "-F" {
                if cmd == "head" {
                    io.errln("head: invalid option -- 'f'");
                    io.errln("Try 'head --help' for more information.");
                    return 1;
                }
                follow = true;
                continue;
            } else if let Some(v) = a.strip_prefix("-n") {
                v.to_string()
            } else if a.len() > 1
                && a.starts_with('-')
                && a[1..].chars().all(|c| c.is_ascii_digit())
            {
                a[1..].to_string()
            } else if a.len() > 1 && a.starts_with('-') {
                let bad = a.chars().nth(1).unwrap_or('-');
                io.errln(format!("{cmd}: invalid option -- '{bad}'"));
                io.errln(format!("Try '{cmd} --help' for more information."));
                return 1;
            } else {
                files.push(a.clone());
                continue;
            };
            if let Some(rest) = v.strip_prefix('+').filter(|_| cmd == "tail") {
                from_start = true;
                match rest.parse::<i64>() {
                    Ok(x) => n = x,
                    Err(_) => {
                        io.errln(format!("{cmd}: invalid number of lines: ‘{v}’"));
                        return 1;
                    }
                }
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
        let cut = |text: &str| -> String {
            if cmd == "head" {
                text::head(text, n)
            } else {
                text::tail(text, n.unsigned_abs() as usize, from_start)
            }
        };
        if files.is_empty() {
            io.out(cut(&ctx.stdin.clone().unwrap_or_default()));
            return 0;
        }
        let mut status = 0;
        let many = files.len() > 1;
        let mut shown = 0;
        let mut followed: Vec<(String, usize)> = Vec::new();
        for f in &files {
            match self.open_input(ctx, f) {
                Input::Text(text) => {
                    if many {
                        let sep = if shown > 0 { "\n" } else { "" };
                        io.outln(format!("{sep}==> {f} <=="));
                    }
                    shown += 1;
                    io.out(cut(&text));
                    followed.push((f.clone(), text.len()));
                }
                Input::Dir => {
                    io.errln(format!("{cmd}: error reading '{f}': Is a directory"));
                    status = 1;
                }
                Input::Missing => {
                    io.errln(format!(
                        "{cmd}: cannot open '{f}' for reading: No such file or directory"
                    ));
                    status = 1;
                }
            }
        }
        if follow {
            if followed.is_empty() {
                io.errln("tail: no files remaining");
                return 1;
            }
            return self.tail_follow(&followed, ctx, io);
        }
        status
    }

    /// `tail -f`: show what is appended to the files while the background jobs that end by
    /// themselves run, then the lab presses Ctrl-C (tail itself would follow forever).
    fn tail_follow(&mut self, files: &[(String, usize)], ctx: &Ctx, io: &mut Io) -> i32 {
        let mut seen: Vec<usize> = files.iter().map(|(_, len)| *len).collect();
        let mut last_shown: Option<usize> = None;
        let mut quiet_for = SimDuration::ZERO;
        let mut deadline_hit = false;
        loop {
            let busy = self.jobs.iter().any(|j| !j.finished && j.bounded());
            if !busy {
                // One more second, so the last lines of a job that just ended come through.
                if quiet_for >= SimDuration::from_secs(1) {
                    break;
                }
                quiet_for = SimDuration(quiet_for.0 + migralab_sim_core::simulator::TICK.0);
            } else {
                quiet_for = SimDuration::ZERO;
            }
            if !self.step_once() {
                deadline_hit = true;
                break;
            }
            // Background jobs write their files once a tick; read one again only when its size
            // changed.
            for (k, (name, _)) in files.iter().enumerate() {
                let path = fs::absolute(&ctx.cwd, name);
                if self.fs.read(&ctx.host, &path).map(str::len) == Some(seen[k]) {
                    continue;
                }
                let Input::Text(text) = self.open_input(ctx, name) else {
                    continue;
                };
                if text.len() < seen[k] {
                    io.errln(format!("tail: {name}: file truncated"));
                    seen[k] = 0;
                }
                if text.len() > seen[k] && text.is_char_boundary(seen[k]) {
                    if files.len() > 1 && last_shown != Some(k) {
                        io.outln(format!("\n==> {name} <=="));
                    }
                    last_shown = Some(k);
                    io.out(&text[seen[k]..]);
                    seen[k] = text.len();
                }
            }
        }
        io.outln("^C");
        if deadline_hit {
            self.note(
                io,
                &Text::new(
                    "batas waktu lab untuk satu baris tercapai (2 jam).",
                    "the lab's time limit for one line was reached (2 hours).",
                ),
            );
        }
        130
    }

    /// `wc [-l] [-w] [-c] [-m] [FILE...]`: GNU's column widths (`compute_number_width`).
    fn wc(&mut self, args: &[String], ctx: &Ctx, io: &mut Io) -> i32 {
        let mut lines = false;
        let mut words = false;
        let mut bytes = false;
        let mut files: Vec<String> = Vec::new();
        for a in args {
            match a.strip_prefix('-').filter(|f| !f.is_empty()) {
                Some("-lines") => lines = true,
                Some("-words") => words = true,
                Some("-bytes" | "-chars") => bytes = true,
                Some(flags) => {
                    for c in flags.chars() {
                        match c {
                            'l' => lines = true,
                            'w' => words = true,
                            'c' | 'm' => bytes = true,
                            _ => {
                                io.errln(format!("wc: invalid option -- '{c}'"));
                                io.errln("Try 'wc --help' for more information.");
                                return 1;
                            }
                        }
                    }
                }
                None => files.push(a.clone()),
            }
        }
        if !(lines || words || bytes) {
            (lines, words, bytes) = (true, true, true);
        }
        let columns = [lines, words, bytes].iter().filter(|x| **x).count();
        let stdin_only = files.is_empty();
        if stdin_only {
            files.push("-".into());
        }
        let inputs: Vec<(String, Input)> = files
            .iter()
            .map(|f| (f.clone(), self.open_input(ctx, f)))
            .collect();
        // One count of one operand needs no alignment; stdin (a pipe) is padded to 7.
        let width = if inputs.len() == 1 && columns == 1 {
            1
        } else {
            let mut total = 0usize;
            let mut min = 1;
            for (f, input) in &inputs {
                match input {
                    Input::Text(t) if f != "-" => total += t.len(),
                    Input::Text(_) | Input::Dir => min = 7,
                    Input::Missing => {}
                }
            }
            total.to_string().len().max(min)
        };
        let row = |io: &mut Io, (l, w, c): (usize, usize, usize), name: Option<&str>| {
            let mut parts = Vec::new();
            for (on, v) in [(lines, l), (words, w), (bytes, c)] {
                if on {
                    parts.push(format!("{v:>width$}"));
                }
            }
            let mut line = parts.join(" ");
            if let Some(n) = name {
                line.push(' ');
                line.push_str(n);
            }
            io.outln(line);
        };
        let mut status = 0;
        let mut sum = (0, 0, 0);
        for (f, input) in &inputs {
            let name = (!stdin_only).then_some(f.as_str());
            match input {
                Input::Text(t) => {
                    let c = text::wc(t);
                    sum = (sum.0 + c.0, sum.1 + c.1, sum.2 + c.2);
                    row(io, c, name);
                }
                Input::Dir => {
                    io.errln(format!("wc: {f}: Is a directory"));
                    row(io, (0, 0, 0), name);
                    status = 1;
                }
                Input::Missing => {
                    io.errln(format!("wc: {f}: No such file or directory"));
                    status = 1;
                }
            }
        }
        if inputs.len() > 1 {
            row(io, sum, Some("total"));
        }
        status
    }

    /// The text of `cmd`'s file operands (or stdin without any), with GNU's errors. `None`
    /// when an operand cannot be read (the command then fails).
    fn read_operands(&self, cmd: &str, files: &[String], ctx: &Ctx, io: &mut Io) -> Option<String> {
        if files.is_empty() {
            return Some(ctx.stdin.clone().unwrap_or_default());
        }
        let mut all = String::new();
        for f in files {
            match self.open_input(ctx, f) {
                Input::Text(t) => {
                    all.push_str(&t);
                    if !t.is_empty() && !t.ends_with('\n') {
                        all.push('\n');
                    }
                }
                Input::Dir => {
                    io.errln(match cmd {
                        "sort" => format!("sort: read failed: {f}: Is a directory"),
                        _ => format!("{cmd}: error reading '{f}'"),
                    });
                    return None;
                }
                Input::Missing => {
                    io.errln(match cmd {
                        "sort" => format!("sort: cannot read: {f}: No such file or directory"),
                        _ => format!("{cmd}: {f}: No such file or directory"),
                    });
                    return None;
                }
            }
        }
        Some(all)
    }

    /// `sort [-n] [-r] [-u] [FILE...]`.
    fn sort(&mut self, args: &[String], ctx: &Ctx, io: &mut Io) -> i32 {
        let (flags, files) = match short_flags("sort", args, "nru", 2, io) {
            Ok(parsed) => parsed,
            Err(status) => return status,
        };
        let (numeric, reverse, unique) = (
            flags.contains('n'),
            flags.contains('r'),
            flags.contains('u'),
        );
        let Some(input) = self.read_operands("sort", &files, ctx, io) else {
            return 2;
        };
        let mut lines: Vec<&str> = input.lines().collect();
        // -n compares the leading number (none counts as 0); ties keep a byte order, as
        // GNU's last-resort comparison does.
        let key = |l: &str| -> f64 {
            let t = l.trim_start();
            let end = t
                .char_indices()
                .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && c == '-')))
                .map_or(t.len(), |(i, _)| i);
            t[..end].parse::<f64>().unwrap_or(0.0)
        };
        if numeric {
            lines.sort_by(|a, b| key(a).total_cmp(&key(b)).then_with(|| a.cmp(b)));
        } else {
            lines.sort_unstable();
        }
        if unique {
            if numeric {
                lines.dedup_by(|a, b| key(a) == key(b));
            } else {
                lines.dedup();
            }
        }
        if reverse {
            lines.reverse();
        }
        for l in lines {
            io.outln(l);
        }
        0
    }

    /// `uniq [-c] [-d] [-u] [FILE]`.
    fn uniq(&mut self, args: &[String], ctx: &Ctx, io: &mut Io) -> i32 {
        let (flags, files) = match short_flags("uniq", args, "cdu", 1, io) {
            Ok(parsed) => parsed,
            Err(status) => return status,
        };
        let (count, dups, singles) = (
            flags.contains('c'),
            flags.contains('d'),
            flags.contains('u'),
        );
        if let Some(extra) = files.get(2) {
            io.errln(format!("uniq: extra operand ‘{extra}’"));
            io.errln("Try 'uniq --help' for more information.");
            return 1;
        }
        // uniq's second operand is its output file.
        let output = files.get(1).cloned();
        let Some(input) = self.read_operands("uniq", &files[..files.len().min(1)], ctx, io) else {
            return 1;
        };
        let mut groups: Vec<(usize, &str)> = Vec::new();
        for l in input.lines() {
            match groups.last_mut() {
                Some((n, last)) if *last == l => *n += 1,
                _ => groups.push((1, l)),
            }
        }
        let mut out = Io::default();
        for (n, l) in groups {
            if (dups && n < 2) || (singles && n > 1) {
                continue;
            }
            if count {
                out.outln(format!("{n:>7} {l}"));
            } else {
                out.outln(l);
            }
        }
        let Some(name) = output else {
            io.extend(out);
            return 0;
        };
        let text: String = out.chunks.into_iter().map(|(_, s)| s).collect();
        let path = fs::absolute(&ctx.cwd, &name);
        if let Err(e) = self.write_file(&ctx.host, &path, &text, false) {
            io.errln(format!("uniq: {name}: {}", e.reason()));
            return 1;
        }
        0
    }
}

/// One operand of a text command.
enum Input {
    Text(String),
    Dir,
    Missing,
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
        } else if (*s == 4096 && !n.contains('.')) || n == "." || n == ".." {
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

/// `help`: what the lab shell can do.
fn help_text() -> Text {
    Text::new(
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
  cat FILE (juga /etc/hosts), ls [-l] [-a] [DIR], cd, pwd, echo, rm, mount\n\
  grep [-A N] [-B N] [-i] [-v] [-c] POLA [FILE], head|tail [-n N] [FILE], tail -f FILE\n\
  wc [-l] [-w] [-c] [FILE], sort [-n] [-r] [-u] [FILE], uniq [-c] [FILE]\n\
  PERINTAH > FILE, >> FILE, 2>&1, |, ;, &&, ||, $?, sleep N, history\n\
  PERINTAH & (berjalan bersamaan), jobs [-l], fg [%N], wait [%N], kill [-INT] %N|PID, $!\n\
\n\
Waktu lab hanya berjalan saat perintah memakan waktu (virsh migrate, ping, sleep, wait, fg)\n\
dan 1 detik per baris selama ada job di latar belakang: `ping -i 0.2 IP &` lalu\n\
`virsh migrate ...` menampilkan balasan yang hilang selama downtime. Setelah error yang sering membuat\n\
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
  cat FILE (also /etc/hosts), ls [-l] [-a] [DIR], cd, pwd, echo, rm, mount\n\
  grep [-A N] [-B N] [-i] [-v] [-c] PATTERN [FILE], head|tail [-n N] [FILE], tail -f FILE\n\
  wc [-l] [-w] [-c] [FILE], sort [-n] [-r] [-u] [FILE], uniq [-c] [FILE]\n\
  COMMAND > FILE, >> FILE, 2>&1, |, ;, &&, ||, $?, sleep N, history\n\
  COMMAND & (runs alongside), jobs [-l], fg [%N], wait [%N], kill [-INT] %N|PID, $!\n\
\n\
Lab time only moves when a command takes time (virsh migrate, ping, sleep, wait, fg) and by\n\
1 s per line while a job runs in the background: `ping -i 0.2 IP &` then `virsh migrate ...`\n\
shows the replies lost during the downtime. After an error students often get stuck\n\
on, a `hint:` line points at the fix. `exit` on the first host closes the shell.\n",
    )
}

/// The short option letters and the operands of a coreutils-style command (`-nr` gives `n`
/// and `r`). A letter not in `known` prints GNU's two lines and gives `Err(status)`.
fn short_flags(
    cmd: &str,
    args: &[String],
    known: &str,
    status: i32,
    io: &mut Io,
) -> Result<(String, Vec<String>), i32> {
    let mut flags = String::new();
    let mut files = Vec::new();
    for a in args {
        match a.strip_prefix('-').filter(|f| !f.is_empty()) {
            Some(letters) => {
                for c in letters.chars() {
                    if !known.contains(c) {
                        io.errln(format!("{cmd}: invalid option -- '{c}'"));
                        io.errln(format!("Try '{cmd} --help' for more information."));
                        return Err(status);
                    }
                    flags.push(c);
                }
            }
            None => files.push(a.clone()),
        }
    }
    Ok((flags, files))
}
