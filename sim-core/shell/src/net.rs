//! The lab network as the shell sees it: name resolution (`/etc/hosts`, the same facts as
//! preflight), `ssh`/`scp`/`ssh-copy-id` with trust and firewall, `ping` with the migration's
//! outages, and `ip`.
//!
//! Output formats follow OpenSSH 9, iputils 2024 and iproute2 6.x as remembered, not checked
//! against their sources: `ssh: Could not resolve hostname %s: Name or service not known`,
//! `ssh: connect to host %s port 22: No route to host`, `%s@%s: Permission denied
//! (publickey,password).`, ping's `64 bytes from ...: icmp_seq=N ttl=64 time=0.412 ms` and its
//! statistics lines (`%g%% packet loss`), `ip -br addr`'s `%-16s %-14s` columns and
//! `Device "%s" does not exist.`. The ssh failures inside libvirt's errors are preflight's, so the
//! shell and `migralab preflight` agree.

use super::{Ctx, Io, Shell, fs, lex, xml};
use migralab_sim_core::error::LabError;
use migralab_sim_core::ping::ProbeTracker;
use migralab_sim_core::scenario::{EtcHosts, HostSpec, ProberSpec, VmSpec, subnet_of};
use migralab_sim_core::text::Text;
use migralab_sim_core::time::SimTime;
use migralab_sim_core::world::DomainState;

/// What a name or address leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Peer {
    /// A lab host.
    Host(String),
    /// A guest (by its IP).
    Vm(String),
    /// An address nobody in the lab has.
    Other,
}

/// A resolved name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Resolved {
    pub peer: Peer,
    pub ip: String,
}

/// Why `ssh` cannot log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SshFail {
    Unresolved,
    NoRoute,
    Refused,
    /// The login was refused; the methods sshd offers.
    Denied(&'static str),
}

/// A `ping` under way: its target, options and what came back so far.
#[derive(Debug, Clone)]
pub(super) struct PingRun {
    /// The host the ping runs on.
    from: String,
    /// The name as typed.
    name: String,
    /// How reply lines name the peer (`10.0.0.5` or `name (10.0.0.5)`).
    shown: String,
    peer: Peer,
    tracker: ProbeTracker,
    /// Lab time the first probe went out.
    origin: SimTime,
    interval: f64,
    wait_s: f64,
    quiet: bool,
    /// Most probes to send (`-c`, `-w`, or the lab's cap).
    limit: u64,
    /// No probe is sent from this time (relative to `origin`) on.
    stop_rel: SimTime,
    /// Neither `-c` nor `-w`: runs until Ctrl-C or `kill`.
    endless: bool,
    sent: u64,
    rtts: Vec<f64>,
}

impl PingRun {
    /// Runs until it is interrupted (no `-c`, no `-w`).
    pub(super) fn endless(&self) -> bool {
        self.endless
    }
}

/// Most probes one `ping` may send in the lab.
const MAX_PINGS: u64 = 100_000;

impl Shell {
    /// A host's spec.
    pub(super) fn host_spec(&self, name: &str) -> Option<&HostSpec> {
        self.sim.scenario().hosts.iter().find(|h| h.name == name)
    }

    /// A guest's spec.
    pub(super) fn vm_spec(&self, name: &str) -> Option<&VmSpec> {
        self.sim.scenario().vms.iter().find(|v| v.name == name)
    }

    /// A host's address: its `ip`, or one made up on its subnet when the scenario gives none.
    pub(super) fn host_ip(&self, name: &str) -> String {
        let hosts = &self.sim.scenario().hosts;
        let Some((i, h)) = hosts.iter().enumerate().find(|(_, h)| h.name == name) else {
            return name.to_string();
        };
        if let Some(ip) = &h.ip {
            return ip.clone();
        }
        let net = h.subnet();
        let base = net.split('/').next().unwrap_or("192.168.100.0");
        let prefix: Vec<&str> = base.split('.').take(3).collect();
        format!("{}.{}", prefix.join("."), 11 + i)
    }

    pub(super) fn host_by_ip(&self, ip: &str) -> Option<String> {
        self.sim
            .scenario()
            .hosts
            .iter()
            .map(|h| h.name.clone())
            .find(|n| self.host_ip(n) == ip)
    }

    pub(super) fn vm_by_ip(&self, ip: &str) -> Option<String> {
        self.sim
            .scenario()
            .vms
            .iter()
            .find(|v| v.ip.as_deref() == Some(ip))
            .map(|v| v.name.clone())
    }

    /// Another lab host than `host` (for examples in hints).
    pub(super) fn other_host(&self, host: &str) -> String {
        self.sim
            .scenario()
            .hosts
            .iter()
            .find(|h| h.name != host)
            .map_or_else(|| host.to_string(), |h| h.name.clone())
    }

    /// Resolve `name` on host `from` as glibc would with its `/etc/hosts` (no DNS in the lab
    /// except for the lab's own host names when `/etc/hosts` is left at its default), following
    /// the same rules as preflight's name-resolution check.
    pub(super) fn resolve(&self, from: &str, name: &str) -> Option<Resolved> {
        let by_ip = |ip: &str| -> Resolved {
            let peer = if let Some(h) = self.host_by_ip(ip) {
                Peer::Host(h)
            } else if ip.starts_with("127.") {
                Peer::Host(from.to_string())
            } else if let Some(v) = self.vm_by_ip(ip) {
                Peer::Vm(v)
            } else {
                Peer::Other
            };
            Resolved {
                peer,
                ip: ip.to_string(),
            }
        };
        if name.parse::<std::net::Ipv4Addr>().is_ok() {
            return Some(by_ip(name));
        }
        if name == "localhost" || name == from {
            return Some(Resolved {
                peer: Peer::Host(from.to_string()),
                ip: if name == "localhost" {
                    "127.0.0.1".into()
                } else {
                    self.host_ip(from)
                },
            });
        }
        let src = self.host_spec(from)?;
        match &src.etc_hosts {
            Some(map) => map.get(name).map(|ip| by_ip(ip)),
            None => self.host_spec(name).map(|h| Resolved {
                peer: Peer::Host(h.name.clone()),
                ip: self.host_ip(&h.name),
            }),
        }
    }

    /// Can root on `from` log in to `name` by key? `Ok(host)` or why not.
    pub(super) fn ssh_reach(&self, from: &str, user: &str, name: &str) -> Result<String, SshFail> {
        let r = self.resolve(from, name).ok_or(SshFail::Unresolved)?;
        let host = match r.peer {
            Peer::Host(h) => h,
            Peer::Vm(_) => return Err(SshFail::Refused),
            Peer::Other => return Err(SshFail::NoRoute),
        };
        let spec = self.host_spec(&host).ok_or(SshFail::NoRoute)?;
        if !spec.firewall.ssh_open && host != from {
            return Err(SshFail::NoRoute);
        }
        if user != "root" || !spec.trusts(from) {
            return Err(SshFail::Denied(spec.ssh_auth_methods()));
        }
        Ok(host)
    }

    /// What the ssh client prints for a failure.
    fn ssh_message(fail: &SshFail, user: &str, name: &str) -> String {
        match fail {
            SshFail::Unresolved => {
                format!("ssh: Could not resolve hostname {name}: Name or service not known")
            }
            SshFail::NoRoute => format!("ssh: connect to host {name} port 22: No route to host"),
            SshFail::Refused => {
                format!("ssh: connect to host {name} port 22: Connection refused")
            }
            SshFail::Denied(methods) => format!("{user}@{name}: Permission denied ({methods})."),
        }
    }

    /// Open `uri` from `from` as virsh's `-c` does; `Ok(host)` or libvirt's error.
    pub(super) fn connect_uri(&self, from: &str, uri: &str) -> Result<String, LabError> {
        match super::virsh::parse_uri_for_connect(uri)? {
            None => Ok(from.to_string()),
            Some((user, name)) => {
                self.ssh_reach(from, &user, &name)
                    .map_err(|f| LabError::ConnectFailed {
                        detail: format!(
                            "Cannot recv data: {}: Connection reset by peer",
                            Shell::ssh_message(&f, &user, &name)
                        ),
                    })
            }
        }
    }

    /// The hint for an ssh failure from `from` to `name`, if there is one.
    pub(super) fn ssh_failure_hint(&self, from: &str, name: &str) -> Option<Text> {
        let fail = self.ssh_reach(from, "root", name).err()?;
        Some(match fail {
            SshFail::Unresolved => match self.host_spec(name) {
                Some(_) => {
                    let ip = self.host_ip(name);
                    Text::new(
                        format!(
                            "{from} tidak tahu alamat {name}: tambahkan `{ip} {name}` ke /etc/hosts (misalnya `echo \"{ip} {name}\" >> /etc/hosts`)."
                        ),
                        format!(
                            "{from} does not know {name}'s address: add `{ip} {name}` to /etc/hosts (e.g. `echo \"{ip} {name}\" >> /etc/hosts`)."
                        ),
                    )
                }
                None => Text::new(
                    format!(
                        "{name} bukan host di lab ini; host yang ada: {}.",
                        self.host_names()
                    ),
                    format!(
                        "{name} is not a host of this lab; the hosts are: {}.",
                        self.host_names()
                    ),
                ),
            },
            SshFail::NoRoute => Text::new(
                format!(
                    "firewall {name} menolak port 22/tcp: buka port 22 (SSH membawa koneksi kontrol libvirt)."
                ),
                format!(
                    "{name}'s firewall rejects port 22/tcp: open port 22 (SSH carries libvirt's control connection)."
                ),
            ),
            SshFail::Refused => Text::new(
                "itu alamat sebuah VM, bukan host KVM; ssh ke host tujuan.",
                "that is a VM's address, not a KVM host; ssh to the destination host.",
            ),
            SshFail::Denied(_) => Text::new(
                format!(
                    "{name} belum menerima kunci SSH root dari {from}: jalankan `ssh-copy-id root@{name}` di {from}."
                ),
                format!(
                    "{name} does not accept root's SSH key from {from} yet: run `ssh-copy-id root@{name}` on {from}."
                ),
            ),
        })
    }

    fn host_names(&self) -> String {
        self.sim
            .scenario()
            .hosts
            .iter()
            .map(|h| h.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `ssh [options] [user@]host [command ...]`.
    pub(super) fn ssh(&mut self, args: &[String], ctx: &mut Ctx, io: &mut Io) -> i32 {
        let mut i = 0;
        while i < args.len() && args[i].starts_with('-') && args[i].len() > 1 {
            let flag = args[i].chars().nth(1).unwrap_or('-');
            let takes_arg = "BbcDEeFIiJLlmOoPpQRSWw".contains(flag) && args[i].chars().count() == 2;
            i += if takes_arg { 2 } else { 1 };
        }
        let Some(target) = args.get(i) else {
            io.err(SSH_USAGE);
            return 255;
        };
        let (user, name) = match target.split_once('@') {
            Some((u, h)) => (u.to_string(), h.to_string()),
            None => ("root".to_string(), target.clone()),
        };
        let command: Vec<String> = args[i + 1..].to_vec();
        if let Some(Resolved {
            peer: Peer::Vm(vm),
            ip,
        }) = self.resolve(&ctx.host, &name)
        {
            if !self.vm_answers(&vm, &ctx.host) {
                io.errln(format!(
                    "ssh: connect to host {ip} port 22: No route to host"
                ));
                return 255;
            }
            return self.guest_command(&vm, &command, io);
        }
        let host = match self.ssh_reach(&ctx.host, &user, &name) {
            Ok(h) => h,
            Err(f) => {
                io.errln(Shell::ssh_message(&f, &user, &name));
                if let Some(h) = self.ssh_failure_hint(&ctx.host, &name) {
                    self.set_hint(h);
                }
                return 255;
            }
        };
        if command.is_empty() {
            if !ctx.session || ctx.piped {
                io.errln("Pseudo-terminal will not be allocated because stdin is not a terminal.");
                return 0;
            }
            self.stack.push((self.host.clone(), self.cwd.clone()));
            self.host = host.clone();
            self.cwd = fs::HOME.into();
            ctx.client = host.clone();
            ctx.host = host;
            ctx.cwd = fs::HOME.into();
            return 0;
        }
        if ctx.depth >= super::MAX_SSH_DEPTH {
            io.errln("bash: ssh: too many nested ssh sessions in the lab");
            return 255;
        }
        // The remote shell parses the words again, joined by spaces, as real ssh sends them.
        let line = command.join(" ");
        let mut remote = Ctx {
            client: host.clone(),
            host,
            cwd: fs::HOME.into(),
            session: false,
            depth: ctx.depth + 1,
            stdin: None,
            stdout_file: None,
            exited: false,
            piped: false,
        };
        match lex::parse(&line) {
            Err(e) => {
                io.errln(e.message());
                2
            }
            Ok(script) => self.run_script(&script, &mut remote, io),
        }
    }

    /// `exit [N]` / `logout`.
    pub(super) fn exit(&mut self, args: &[String], ctx: &mut Ctx, io: &mut Io) -> i32 {
        let status = match args.first() {
            None => self.last_status,
            Some(a) => match a.parse::<i64>() {
                Ok(n) => n.rem_euclid(256) as i32,
                Err(_) => {
                    io.errln(format!("bash: exit: {a}: numeric argument required"));
                    2
                }
            },
        };
        ctx.exited = true;
        if !ctx.session || ctx.piped {
            return status;
        }
        match self.stack.pop() {
            Some((host, cwd)) => {
                let left = std::mem::replace(&mut self.host, host);
                self.cwd = cwd;
                io.outln("logout");
                io.errln(format!("Connection to {left} closed."));
                // The rest of the line goes on in the previous session.
                ctx.exited = false;
            }
            None => {
                io.outln("logout");
                self.closed = true;
            }
        }
        status
    }

    /// `scp [-r] SRC... DEST` between hosts' files.
    pub(super) fn scp(&mut self, args: &[String], ctx: &mut Ctx, io: &mut Io) -> i32 {
        let paths: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        if paths.len() < 2 {
            io.err("usage: scp [-346ABCOpqRrsTv] [-c cipher] [-D sftp_server_path] [-F ssh_config]\n           [-i identity_file] [-J destination] [-l limit] [-o ssh_option]\n           [-P port] [-S program] [-X sftp_option] source ... target\n");
            return 1;
        }
        // Split `[user@]host:path` into (host, path) on the lab; a plain path is local.
        let locate = |s: &Shell, spec: &str| -> Result<(String, String), String> {
            match spec.split_once(':') {
                Some((remote, path)) if !remote.contains('/') => {
                    let (user, name) = match remote.split_once('@') {
                        Some((u, h)) => (u.to_string(), h.to_string()),
                        None => ("root".to_string(), remote.to_string()),
                    };
                    let host = s.ssh_reach(&ctx.host, &user, &name).map_err(|f| {
                        format!(
                            "{}\nscp: Connection closed",
                            Shell::ssh_message(&f, &user, &name)
                        )
                    })?;
                    let path = if path.is_empty() { "." } else { path };
                    Ok((host, fs::absolute(fs::HOME, path)))
                }
                _ => Ok((ctx.host.clone(), fs::absolute(&ctx.cwd, spec))),
            }
        };
        let Some((dest_spec, sources)) = paths.split_last() else {
            return 1;
        };
        let (dhost, dpath) = match locate(self, dest_spec) {
            Ok(x) => x,
            Err(e) => {
                io.errln(e);
                return 255;
            }
        };
        let mut status = 0;
        for src in sources {
            let (shost, spath) = match locate(self, src) {
                Ok(x) => x,
                Err(e) => {
                    io.errln(e);
                    status = 255;
                    continue;
                }
            };
            let Some(text) = self.read_file(&shost, &spath) else {
                io.errln(format!("scp: {spath}: No such file or directory"));
                status = 1;
                continue;
            };
            let target = if self.fs.is_dir(&dhost, &dpath) {
                format!("{}/{}", dpath.trim_end_matches('/'), fs::file_name(&spath))
            } else {
                dpath.clone()
            };
            if let Err(e) = self.write_file(&dhost, &target, &text, false) {
                io.errln(format!("scp: {target}: {}", e.reason()));
                status = 1;
            }
        }
        status
    }

    /// `ssh-copy-id [-i FILE] [user@]host`: install root's key on the host (the lab types the
    /// root password for the student).
    pub(super) fn ssh_copy_id(&mut self, args: &[String], ctx: &mut Ctx, io: &mut Io) -> i32 {
        let mut i = 0;
        while i < args.len() && args[i].starts_with('-') {
            i += if matches!(args[i].as_str(), "-i" | "-p" | "-o" | "-t" | "-F") {
                2
            } else {
                1
            };
        }
        let Some(target) = args.get(i) else {
            io.err("Usage: /usr/bin/ssh-copy-id [-h|-?|-f|-n|-s|-x] [-i [identity_file]] [-p port] [-F alternative ssh_config file] [-t target_path] [[-o <ssh -o options>] ...] [user@]hostname\n");
            return 1;
        };
        let (user, name) = match target.split_once('@') {
            Some((u, h)) => (u.to_string(), h.to_string()),
            None => ("root".to_string(), target.clone()),
        };
        let prog = "/usr/bin/ssh-copy-id";
        io.errln(format!(
            "{prog}: INFO: Source of key(s) to be installed: \"/root/.ssh/id_ed25519.pub\""
        ));
        let host = match self.ssh_reach(&ctx.host, &user, &name) {
            Ok(h) => Some(h),
            Err(SshFail::Denied(_)) => None,
            Err(f) => {
                io.errln(format!(
                    "{prog}: ERROR: {}",
                    Shell::ssh_message(&f, &user, &name)
                ));
                if let Some(h) = self.ssh_failure_hint(&ctx.host, &name) {
                    self.set_hint(h);
                }
                return 1;
            }
        };
        if host.is_some() {
            io.errln(format!("{prog}: INFO: attempting to log in with the new key(s), to filter out any that are already installed"));
            io.errln(format!("\n{prog}: WARNING: All keys were skipped because they already exist on the remote system."));
            io.errln("\t\t(if you think this is a mistake, you may want to use -f option)\n");
            return 0;
        }
        let Some(Resolved {
            peer: Peer::Host(host),
            ..
        }) = self.resolve(&ctx.host, &name)
        else {
            return 1;
        };
        io.errln(format!("{prog}: INFO: attempting to log in with the new key(s), to filter out any that are already installed"));
        io.errln(format!("{prog}: INFO: 1 key(s) remain to be installed -- if you are prompted now it is to install the new keys"));
        io.err(format!("{user}@{name}'s password: \n"));
        self.note(
            io,
            &Text::new(
                "lab mengetikkan password root untukmu.",
                "the lab types root's password for you.",
            ),
        );
        if user != "root" {
            io.errln("Permission denied, please try again.");
            return 1;
        }
        let from = ctx.host.clone();
        self.sim.trust_ssh_key(&host, &from);
        io.outln("\nNumber of key(s) added: 1\n");
        io.outln(format!(
            "Now try logging into the machine, with:   \"ssh '{user}@{name}'\"\nand check to make sure that only the key(s) you wanted were added.\n"
        ));
        0
    }

    /// Is the guest `vm` answering on its address, seen from the host `from` (apart from a
    /// migration's outage)? It must run somewhere, and on a host whose bridge is on the guest's
    /// subnet; a guest on a libvirt NAT network (`network`) only answers its own host.
    fn vm_answers(&self, vm: &str, from: &str) -> bool {
        let world = self.sim.world();
        let Some(host) = self.sim.scenario().hosts.iter().find(|h| {
            world
                .domain(&h.name, vm)
                .is_some_and(|d| d.state == DomainState::Running)
        }) else {
            return false;
        };
        if self.vm_spec(vm).is_some_and(|v| v.network.is_some()) {
            return host.name == from;
        }
        let home = self
            .vm_spec(vm)
            .and_then(|v| v.ip.as_deref().and_then(subnet_of));
        home.is_none_or(|net| net == host.subnet())
    }

    /// The guest's network outages from all its migrations, shifted to start at `origin`. An
    /// outage still open when its migration ended is closed there (whether the guest is
    /// reachable afterwards is [`Shell::vm_answers`]'s question).
    fn vm_outages(&self, vm: &str, origin: SimTime) -> Vec<(SimTime, Option<SimTime>)> {
        let shift = |t: SimTime| SimTime(t.0.saturating_sub(origin.0));
        let mut out = Vec::new();
        for m in self.sim.migrations().iter().filter(|m| m.vm_name() == vm) {
            for &(a, b) in m.outages() {
                let end = b.or_else(|| m.finished_at().filter(|_| m.is_done()));
                out.push((shift(a), end.map(shift)));
            }
        }
        out
    }

    /// `ping [-c N] [-i S] [-W S] [-w S] [-q] HOST`, iputils style.
    pub(super) fn ping(&mut self, args: &[String], ctx: &mut Ctx, io: &mut Io, bg: bool) -> i32 {
        let mut run = match self.ping_start(args, ctx, io) {
            Ok(run) => run,
            Err(status) => return status,
        };
        if bg {
            self.start_job(super::Work::Ping(Box::new(run)), &ctx.client);
            return 0;
        }
        // Without -c or -w, ping runs until Ctrl-C: the lab presses it once the background jobs
        // that end by themselves have ended and three more probes went out (or after four
        // probes if nothing runs).
        let mut extra_after_jobs: Option<u64> = None;
        let mut interrupted = false;
        while run.sent < run.limit {
            if !self.step_once() {
                interrupted = true;
                break;
            }
            self.ping_poll(&mut run, io);
            if run.endless {
                let jobs_running = self.jobs.iter().any(|j| !j.finished && j.bounded());
                match extra_after_jobs {
                    _ if jobs_running => extra_after_jobs = None,
                    None => extra_after_jobs = Some(run.sent + 3),
                    Some(until) if run.sent >= until => {
                        interrupted = true;
                        break;
                    }
                    Some(_) => {}
                }
            }
        }
        if interrupted {
            io.outln("^C");
        }
        self.ping_statistics(&run, io)
    }

    /// Parse ping's options, resolve the target and print the `PING` line.
    fn ping_start(&mut self, args: &[String], ctx: &Ctx, io: &mut Io) -> Result<PingRun, i32> {
        let mut count: Option<u64> = None;
        let mut interval = 1.0f64;
        let mut wait_s = 10.0f64;
        let mut deadline: Option<f64> = None;
        let mut quiet = false;
        let mut target: Option<String> = None;
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            i += 1;
            if !a.starts_with('-') || a.len() < 2 {
                target = Some(a.clone());
                continue;
            }
            let flag = a.chars().nth(1).unwrap_or('-');
            let value = if "ciWwstlQpIM".contains(flag) {
                let attached: String = a.chars().skip(2).collect();
                if !attached.is_empty() {
                    Some(attached)
                } else {
                    let v = args.get(i).cloned();
                    i += 1;
                    if v.is_none() {
                        io.errln(format!("ping: option requires an argument -- '{flag}'"));
                        io.err(PING_USAGE);
                        return Err(2);
                    }
                    v
                }
            } else {
                None
            };
            let v = value.unwrap_or_default();
            let bad = |io: &mut Io, v: &str, range: &str| {
                io.errln(format!("ping: invalid argument: '{v}': {range}"));
                2
            };
            match flag {
                'c' => match v.parse::<u64>() {
                    Ok(n) if (1..=MAX_PINGS).contains(&n) => count = Some(n),
                    // iputils accepts up to LONG_MAX; the lab stops at 100000.
                    Ok(_) => {
                        return Err(bad(
                            io,
                            &v,
                            &format!("out of range: 1 <= value <= {MAX_PINGS}"),
                        ));
                    }
                    Err(_) => return Err(bad(io, &v, "Numerical result out of range")),
                },
                'i' => match v.parse::<f64>() {
                    Ok(x) if (0.001..=3600.0).contains(&x) => interval = x,
                    _ => {
                        io.errln(format!("ping: bad timing interval: {v}"));
                        return Err(2);
                    }
                },
                'W' => match v.parse::<f64>() {
                    Ok(x) if x.is_finite() && x >= 0.0 => wait_s = x,
                    _ => {
                        io.errln(format!("ping: bad linger time: {v}"));
                        return Err(2);
                    }
                },
                'w' => match v.parse::<f64>() {
                    Ok(x) if x.is_finite() && x >= 0.0 => deadline = Some(x),
                    _ => return Err(bad(io, &v, "Numerical result out of range")),
                },
                'q' => quiet = true,
                'n' | 'O' | 'D' | 'v' | '4' | 's' | 't' | 'l' | 'Q' | 'p' | 'I' | 'M' => {}
                _ => {
                    io.errln(format!("ping: invalid option -- '{flag}'"));
                    io.err(PING_USAGE);
                    return Err(2);
                }
            }
        }
        let Some(name) = target else {
            io.errln("ping: usage error: Destination address required");
            return Err(1);
        };
        let Some(r) = self.resolve(&ctx.host, &name) else {
            io.errln(format!("ping: {name}: Name or service not known"));
            if self.vm_spec(&name).is_some() {
                let ip = self.vm_spec(&name).and_then(|v| v.ip.clone());
                self.set_hint(match ip {
                    Some(ip) => Text::new(
                        format!("{name} adalah nama VM, bukan nama di /etc/hosts: ping alamatnya, `ping {ip}` (lihat `virsh domifaddr {name}`)."),
                        format!("{name} is a VM's name, not a name in /etc/hosts: ping its address, `ping {ip}` (see `virsh domifaddr {name}`)."),
                    ),
                    None => Text::new(
                        format!("{name} adalah nama VM; VM ini tidak punya alamat di skenario."),
                        format!("{name} is a VM's name; this VM has no address in the scenario."),
                    ),
                });
            } else if let Some(h) = self.ssh_failure_hint(&ctx.host, &name) {
                self.set_hint(h);
            }
            return Err(2);
        };
        let shown = if name == r.ip {
            r.ip.clone()
        } else {
            format!("{name} ({})", r.ip)
        };
        io.outln(format!("PING {name} ({}) 56(84) bytes of data.", r.ip));
        let prober = self.sim.scenario().prober.clone();
        let spec = ProberSpec {
            enabled: true,
            target: None,
            interval_ms: interval * 1000.0,
            rtt_ms: prober.rtt_ms,
            jitter_ms: prober.jitter_ms,
            timeout_ms: wait_s * 1000.0,
            tail_ms: 0.0,
        };
        let label = match &r.peer {
            Peer::Vm(v) | Peer::Host(v) => v.clone(),
            Peer::Other => r.ip.clone(),
        };
        let tracker = ProbeTracker::new(&spec, label, self.seeds.derive());
        let mut limit = count.unwrap_or(MAX_PINGS);
        if let Some(w) = deadline {
            limit = limit.min(((w / interval).floor() as u64).max(1));
        }
        let stop_rel = SimTime((limit as f64 * interval * 1e9).min(u64::MAX as f64 / 4.0) as u64);
        Ok(PingRun {
            from: ctx.host.clone(),
            name,
            shown,
            peer: r.peer,
            tracker,
            origin: self.sim.now(),
            interval,
            wait_s,
            quiet,
            limit,
            stop_rel,
            endless: count.is_none() && deadline.is_none(),
            sent: 0,
            rtts: Vec::new(),
        })
    }

    /// Resolve every probe that has come back (or was lost) by now and print its reply line.
    fn ping_poll(&mut self, run: &mut PingRun, io: &mut Io) {
        if run.sent >= run.limit {
            return;
        }
        let answers = match &run.peer {
            Peer::Host(_) => true,
            Peer::Vm(v) => self.vm_answers(v, &run.from),
            Peer::Other => false,
        };
        let mut outages = match &run.peer {
            Peer::Vm(v) => self.vm_outages(v, run.origin),
            _ => Vec::new(),
        };
        if !answers {
            outages.push((SimTime::ZERO, None));
        }
        let now_rel = SimTime(self.sim.now().0.saturating_sub(run.origin.0));
        for s in run.tracker.poll(now_rel, run.stop_rel, &outages) {
            if run.sent >= run.limit {
                break;
            }
            run.sent += 1;
            if let Some(rtt) = s
                .rtt_ms
                .filter(|&x| run.wait_s == 0.0 || x <= run.wait_s * 1000.0)
            {
                run.rtts.push(rtt);
                if !run.quiet {
                    io.outln(format!(
                        "64 bytes from {}: icmp_seq={} ttl=64 time={} ms",
                        run.shown,
                        s.seq,
                        fmt_rtt(rtt)
                    ));
                }
            }
        }
    }

    /// A background ping's share of the tick that just passed.
    pub(super) fn ping_tick(&mut self, slot: usize) {
        let Some(job) = self.jobs.get_mut(slot) else {
            return;
        };
        let super::Work::Ping(mut run) = std::mem::replace(&mut job.work, super::Work::Ran) else {
            return;
        };
        let mut out = Io::default();
        self.ping_poll(&mut run, &mut out);
        let status = (run.sent >= run.limit).then(|| self.ping_statistics(&run, &mut out));
        if let Some(job) = self.jobs.get_mut(slot) {
            job.io.extend(out);
            job.work = super::Work::Ping(run);
            if let Some(status) = status {
                job.status = status;
                job.finished = true;
            }
        }
    }

    /// ping's closing statistics (at its end, or on SIGINT) and its exit status.
    pub(super) fn ping_statistics(&mut self, run: &PingRun, io: &mut Io) -> i32 {
        let sent = run.sent;
        let rtts = &run.rtts;
        let name = &run.name;
        let interval = run.interval;
        let received = rtts.len() as u64;
        let loss = if sent == 0 {
            0.0
        } else {
            (sent - received) as f64 * 100.0 / sent as f64
        };
        let elapsed_ms = (sent.saturating_sub(1) as f64 * interval * 1000.0
            + rtts.last().copied().unwrap_or(0.0))
        .round() as u64;
        io.outln("");
        io.outln(format!("--- {name} ping statistics ---"));
        io.outln(format!(
            "{sent} packets transmitted, {received} received, {}% packet loss, time {elapsed_ms}ms",
            fmt_g(loss)
        ));
        if !rtts.is_empty() {
            let n = rtts.len() as f64;
            let min = rtts.iter().copied().fold(f64::INFINITY, f64::min);
            let max = rtts.iter().copied().fold(0.0f64, f64::max);
            let avg = rtts.iter().sum::<f64>() / n;
            let var = (rtts.iter().map(|x| x * x).sum::<f64>() / n - avg * avg).max(0.0);
            io.outln(format!(
                "rtt min/avg/max/mdev = {min:.3}/{avg:.3}/{max:.3}/{:.3} ms",
                var.sqrt()
            ));
        }
        if received == 0 {
            if let Peer::Vm(v) = &run.peer
                && !self.vm_answers(v, &run.from)
                && let Some(h) = self.unreachable_hint(v, &run.from)
            {
                self.set_hint(h);
            }
            1
        } else {
            0
        }
    }

    fn unreachable_hint(&self, vm: &str, from: &str) -> Option<Text> {
        let world = self.sim.world();
        let host = self.sim.scenario().hosts.iter().find(|h| {
            world
                .domain(&h.name, vm)
                .is_some_and(|d| d.state == DomainState::Running)
        });
        let nat = self.vm_spec(vm).and_then(|v| v.network.clone());
        if let (Some(h), Some(net)) = (host, nat) {
            return Some(Text::new(
                format!(
                    "{vm} ada di jaringan NAT libvirt '{net}' milik {}: hanya {} sendiri yang menjangkaunya, {from} tidak (setiap host punya jaringan '{net}' privatnya sendiri). Coba `ssh {} ping ...`.",
                    h.name, h.name, h.name
                ),
                format!(
                    "{vm} is on {}'s libvirt NAT network '{net}': only {} itself reaches it, {from} does not (each host has its own private '{net}' network). Try `ssh {} ping ...`.",
                    h.name, h.name, h.name
                ),
            ));
        }
        match host {
            None => Some(Text::new(
                format!("{vm} tidak berjalan di host mana pun (`virsh list --all`)."),
                format!("{vm} is not running on any host (`virsh list --all`)."),
            )),
            Some(h) => Some(Text::new(
                format!(
                    "{vm} berjalan di {}, yang bridge-nya ada di subnet lain ({}): VM tetap jalan tetapi IP-nya tidak bisa dijangkau.",
                    h.name,
                    h.subnet()
                ),
                format!(
                    "{vm} runs on {}, whose bridge is on another subnet ({}): the VM runs but its IP cannot be reached.",
                    h.name,
                    h.subnet()
                ),
            )),
        }
    }

    /// `ip -br addr`, `ip addr`, `ip link [show [dev] NAME]`.
    pub(super) fn ip(&mut self, args: &[String], ctx: &mut Ctx, io: &mut Io) -> i32 {
        let mut brief = false;
        let mut rest: Vec<&str> = Vec::new();
        for a in args {
            match a.as_str() {
                "-br" | "-brief" | "--brief" => brief = true,
                "-c" | "-color" | "--color" | "-4" | "-s" => {}
                s => rest.push(s),
            }
        }
        let Some(h) = self.host_spec(&ctx.host).cloned() else {
            return 1;
        };
        let object = rest.first().copied().unwrap_or("");
        let links = self.links(&h);
        // `ip link show [dev] NAME`, `ip a s NAME`, `ip addr NAME`...
        let mut want: Option<&str> = None;
        for w in rest.iter().skip(1) {
            match *w {
                "s" | "sh" | "sho" | "show" | "l" | "ls" | "lst" | "list" | "dev" => {}
                d => {
                    want = Some(d);
                    break;
                }
            }
        }
        let is = |o: &str, full: &str| !o.is_empty() && full.starts_with(o);
        if object.is_empty() {
            io.err("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n       ip [ -force ] -batch filename\nwhere  OBJECT := { address | link | route | neighbour | ... }\n");
            return 255;
        }
        let addr = is(object, "address");
        let link = is(object, "link");
        if !addr && !link {
            if is(object, "route") {
                let net = h.subnet();
                let dev = h.bridges.first().cloned().unwrap_or_else(|| "eno1".into());
                io.outln(format!(
                    "{net} dev {dev} proto kernel scope link src {}",
                    self.host_ip(&h.name)
                ));
                return 0;
            }
            io.errln(format!("Object \"{object}\" is unknown, try \"ip help\"."));
            return 255;
        }
        let chosen: Vec<&Link> = match want {
            Some(d) => match links.iter().find(|l| l.name == d) {
                Some(l) => vec![l],
                None => {
                    io.errln(format!("Device \"{d}\" does not exist."));
                    return 1;
                }
            },
            None => links.iter().collect(),
        };
        for l in chosen {
            if brief && addr {
                let mut line = format!("{:<16} {:<14} ", l.name, l.state);
                for a in &l.addrs {
                    line.push_str(a);
                    line.push(' ');
                }
                io.outln(line);
            } else if brief {
                io.outln(format!(
                    "{:<16} {:<14} {} <{}> ",
                    l.name, l.state, l.mac, l.flags
                ));
            } else {
                let master = l
                    .master
                    .as_ref()
                    .map(|m| format!(" master {m}"))
                    .unwrap_or_default();
                let mode = if addr { "" } else { " mode DEFAULT" };
                io.outln(format!(
                    "{}: {}: <{}> mtu {} qdisc {}{master} state {}{mode} group default qlen 1000",
                    l.index, l.name, l.flags, l.mtu, l.qdisc, l.state
                ));
                let kind = if l.name == "lo" { "loopback" } else { "ether" };
                let brd = if l.name == "lo" {
                    "00:00:00:00:00:00"
                } else {
                    "ff:ff:ff:ff:ff:ff"
                };
                io.outln(format!("    link/{kind} {} brd {brd}", l.mac));
                if addr {
                    for a in l.addrs.iter().filter(|a| !a.contains(':')) {
                        let line = if l.name == "lo" {
                            format!("    inet {a} scope host lo")
                        } else {
                            format!("    inet {a} brd {} scope global {}", broadcast(a), l.name)
                        };
                        io.outln(line);
                        io.outln("       valid_lft forever preferred_lft forever");
                    }
                }
            }
        }
        0
    }

    /// The host's network interfaces: lo, its NIC, its bridges, a tap per running guest.
    fn links(&self, h: &HostSpec) -> Vec<Link> {
        let ip = self.host_ip(&h.name);
        let cidr = format!("{ip}/{}", xml::prefix_len(&h.subnet()));
        let mac = xml::host_mac(&h.name);
        let up = "BROADCAST,MULTICAST,UP,LOWER_UP";
        let mut out = vec![Link {
            index: 1,
            name: "lo".into(),
            state: "UNKNOWN",
            flags: "LOOPBACK,UP,LOWER_UP",
            mtu: 65536,
            qdisc: "noqueue",
            mac: "00:00:00:00:00:00".into(),
            master: None,
            addrs: vec!["127.0.0.1/8".into(), "::1/128".into()],
        }];
        let first_bridge = h.bridges.first().cloned();
        out.push(Link {
            index: 2,
            name: "eno1".into(),
            state: "UP",
            flags: up,
            mtu: 1500,
            qdisc: "mq",
            mac: mac.clone(),
            master: first_bridge.clone(),
            addrs: if first_bridge.is_none() {
                vec![cidr.clone()]
            } else {
                Vec::new()
            },
        });
        for (k, b) in h.bridges.iter().enumerate() {
            out.push(Link {
                index: 3 + k,
                name: b.clone(),
                state: "UP",
                flags: up,
                mtu: 1500,
                qdisc: "noqueue",
                mac: mac.clone(),
                master: None,
                // virbr0 is libvirt's `default` NAT network: 192.168.122.1/24 on every host.
                addrs: if k == 0 {
                    vec![cidr.clone()]
                } else if b == "virbr0" {
                    vec!["192.168.122.1/24".into()]
                } else {
                    Vec::new()
                },
            });
        }
        let world = self.sim.world();
        let taps: Vec<(String, String)> = world
            .domains_on(&h.name)
            .iter()
            .filter(|d| d.state != DomainState::ShutOff)
            .map(|d| {
                let bridge = self
                    .vm_spec(&d.name)
                    .map(|v| v.bridge.clone())
                    .unwrap_or_default();
                (xml::domain_mac(&d.name).replacen("52", "fe", 1), bridge)
            })
            .collect();
        let base = 3 + h.bridges.len();
        for (k, (tap_mac, bridge)) in taps.into_iter().enumerate() {
            out.push(Link {
                index: base + k,
                name: format!("vnet{k}"),
                state: "UNKNOWN",
                flags: up,
                mtu: 1500,
                qdisc: "noqueue",
                mac: tap_mac,
                master: h.bridges.contains(&bridge).then_some(bridge),
                addrs: Vec::new(),
            });
        }
        out
    }

    /// `/etc/hosts` of a host as `cat` shows it.
    pub(super) fn etc_hosts_text(&self, host: &str) -> String {
        let mut out = String::from("127.0.0.1\tlocalhost\n");
        match self.host_spec(host).and_then(|h| h.etc_hosts.clone()) {
            Some(map) => {
                for (name, ip) in &map {
                    out.push_str(&format!("{ip}\t{name}\n"));
                }
            }
            None => {
                for h in &self.sim.scenario().hosts {
                    out.push_str(&format!("{}\t{}\n", self.host_ip(&h.name), h.name));
                }
            }
        }
        out.push_str("\n# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n");
        out
    }
}

/// Parse an `/etc/hosts` text into name → address (the first line naming a host wins).
pub(super) fn parse_etc_hosts(text: &str) -> EtcHosts {
    let mut map = EtcHosts::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let Some(ip) = words.next() else {
            continue;
        };
        if ip.parse::<std::net::Ipv4Addr>().is_err() {
            continue;
        }
        for name in words {
            if name == "localhost" {
                continue;
            }
            map.entry(name.to_string())
                .or_insert_with(|| ip.to_string());
        }
    }
    map
}

/// The broadcast address of `a.b.c.d/len`.
fn broadcast(cidr: &str) -> String {
    let (ip, len) = cidr.split_once('/').unwrap_or((cidr, "24"));
    let len: u32 = len.parse().unwrap_or(24).min(32);
    match ip.parse::<std::net::Ipv4Addr>() {
        Ok(addr) => {
            let host_bits = if len == 0 {
                u32::MAX
            } else {
                (1u32 << (32 - len)) - 1
            };
            std::net::Ipv4Addr::from(u32::from(addr) | host_bits).to_string()
        }
        Err(_) => ip.to_string(),
    }
}

/// iputils prints the round trip with 3 significant decimals below 1 ms, fewer above.
fn fmt_rtt(ms: f64) -> String {
    if ms < 1.0 {
        format!("{ms:.3}")
    } else if ms < 10.0 {
        format!("{ms:.2}")
    } else if ms < 100.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// C's `%g` for a percentage (6 significant digits, no trailing zeros).
fn fmt_g(x: f64) -> String {
    if x == x.trunc() {
        return format!("{x:.0}");
    }
    let digits = 6 - (x.abs().log10().floor() as i32 + 1);
    let s = format!("{x:.*}", digits.max(0) as usize);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[derive(Debug, Clone)]
struct Link {
    index: usize,
    name: String,
    state: &'static str,
    flags: &'static str,
    mtu: u32,
    qdisc: &'static str,
    mac: String,
    master: Option<String>,
    addrs: Vec<String>,
}

const SSH_USAGE: &str =
    "usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] [-B bind_interface] [-b bind_address]
           [-c cipher_spec] [-D [bind_address:]port] [-E log_file]
           [-e escape_char] [-F configfile] [-I pkcs11] [-i identity_file]
           [-J destination] [-L address] [-l login_name] [-m mac_spec]
           [-O ctl_cmd] [-o option] [-P tag] [-p port] [-R address]
           [-S ctl_path] [-W host:port] [-w local_tun[:remote_tun]]
           destination [command [argument ...]]
";

const PING_USAGE: &str = "
Usage
  ping [options] <destination>

Options:
  <destination>      DNS name or IP address
  -c <count>         stop after <count> replies
  -i <interval>      seconds between sending each packet
  -q                 quiet output
  -W <timeout>       time to wait for response
  -w <deadline>      reply wait <deadline> in seconds
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_and_rtt_formats() {
        assert_eq!(fmt_g(10.0), "10");
        assert_eq!(fmt_g(0.0), "0");
        assert_eq!(fmt_g(100.0 / 3.0), "33.3333");
        assert_eq!(fmt_g(3.0 / 300.0 * 100.0), "1");
        assert_eq!(fmt_rtt(0.4123), "0.412");
        assert_eq!(fmt_rtt(12.34), "12.3");
    }

    #[test]
    fn broadcast_addresses() {
        assert_eq!(broadcast("192.168.100.11/24"), "192.168.100.255");
        assert_eq!(broadcast("10.1.2.3/16"), "10.1.255.255");
        assert_eq!(broadcast("10.1.2.3/32"), "10.1.2.3");
    }

    #[test]
    fn etc_hosts_parse() {
        let m = parse_etc_hosts(
            "127.0.0.1 localhost\n192.168.100.12 kvm-host-02 h2 # c\n::1 x\nbad line\n",
        );
        assert_eq!(
            m.get("kvm-host-02").map(String::as_str),
            Some("192.168.100.12")
        );
        assert_eq!(m.get("h2").map(String::as_str), Some("192.168.100.12"));
        assert!(!m.contains_key("localhost") && !m.contains_key("x"));
    }
}
