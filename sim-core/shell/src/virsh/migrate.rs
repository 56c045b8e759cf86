//! `virsh migrate` and the commands around a migration job: `domjobinfo`, `domjobabort`,
//! `migrate-setmaxdowntime`/`-getmaxdowntime`, `migrate-setspeed`/`-getspeed`,
//! `migrate-postcopy`.
//!
//! The command checks what virsh and libvirt check before a job exists (option combinations,
//! the domain, the URI), builds a [`MigrationSpec`] and hands it to the simulator, which fails it
//! at the stage where libvirt would (see `preflight`). In the foreground it then lets lab time
//! pass until the job ends; with a trailing `&` it becomes a bash job.

use super::opts::Args;
use super::{Ctx, Io, Shell};
use crate::net::{Peer, Resolved};
use crate::{Job, MigrateWork, Work};
use migralab_sim_core::error::LabError;
use migralab_sim_core::lab::LabCommand;
use migralab_sim_core::limits;
use migralab_sim_core::preflight::preflight;
use migralab_sim_core::scenario::{MigrationSpec, StorageKind, TimeoutAction};
use migralab_sim_core::text::Text;
use migralab_sim_core::time::{SimDuration, SimTime};
use migralab_sim_core::trace::{MigrationSample, Outcome};
use migralab_sim_core::units::LIBVIRT_UNLIMITED_MIBPS;
use migralab_sim_core::world::{DomainOp, DomainState};

/// Where a destination URI points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UriTarget {
    /// `qemu:///system`: this host.
    Local,
    /// `qemu+ssh://HOST/system`: HOST as typed (a name or an address).
    Remote(String),
}

/// Parse a libvirt connection URI the way the remote driver would refuse it.
pub(crate) fn parse_uri(uri: &str) -> Result<UriTarget, LabError> {
    let no_driver = || LabError::ConnectFailed {
        detail: format!("no connection driver available for {uri}"),
    };
    let Some((scheme, rest)) = uri.split_once("://") else {
        // virConnectOpenInternal (src/libvirt.c) nests its reason in VIR_ERR_NO_CONNECT's
        // "no connection driver available for %s" (libvirt 11.3, measured in the lab in a box).
        return Err(LabError::ConnectFailed {
            detail: format!(
                "no connection driver available for URI '{uri}' does not include a driver name"
            ),
        });
    };
    let transports = [
        "qemu",
        "qemu+ssh",
        "qemu+libssh",
        "qemu+libssh2",
        "qemu+tcp",
        "qemu+tls",
        "qemu+unix",
    ];
    if !transports.contains(&scheme) {
        return Err(no_driver());
    }
    let host = super::uri_host(uri).unwrap_or_default();
    let path_start = rest.find('/').unwrap_or(rest.len());
    let path = rest[path_start..].split('?').next().unwrap_or("");
    if path != "/system" {
        // virConnectValidateURIPath (src/driver.c): "unexpected %s URI path '%s', try
        // %s:///system", the driver's name in lower case.
        return Err(LabError::ConnectFailed {
            detail: format!(
                "internal error: unexpected qemu URI path '{path}', try qemu:///system"
            ),
        });
    }
    if host.is_empty() || host == "localhost" || host.starts_with("127.") {
        return Ok(UriTarget::Local);
    }
    Ok(UriTarget::Remote(host))
}

/// A `virsh migrate` command line, read as the lab's virsh reads it: the words of the lab
/// shell's tokenizer, virsh's global options, then the `migrate` option table and vsh's parser.
/// Only parsing happens here; nothing is checked against the lab (domains, hosts, URIs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMigrate {
    /// virsh's global `-c URI` / `--connect URI`, if given.
    pub connect: Option<String>,
    /// Options without a value that were given, by their canonical names (an alias such as
    /// `--tunneled` is stored as the option it stands for).
    pub flags: std::collections::BTreeSet<&'static str>,
    /// Options with a value, by canonical name, `domain` and `desturi` included (given by
    /// position or by name).
    pub values: std::collections::BTreeMap<&'static str, String>,
}

/// Why a line is not a `virsh migrate` command the lab's virsh would start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrateParseError {
    /// bash stops at an unmatched quote.
    UnmatchedQuote(char),
    /// Another bash syntax error: the lines bash prints.
    Syntax(String),
    /// Nothing to run (empty, or only a comment).
    Empty,
    /// Several commands (`;`, `&&`, `||`, `|`, several lines).
    SeveralCommands,
    /// The command is not `virsh`: the word typed.
    NotVirsh(String),
    /// virsh refused its global options: the lines it prints.
    Global(Vec<String>),
    /// `virsh` without a command, or with `-h`/`-v`, which run none.
    NoCommand,
    /// Another virsh command than `migrate`.
    NotMigrate(String),
    /// vsh refused the options: its line without the leading `error: `.
    Options(String),
    /// `--help`: virsh prints the help and migrates nothing.
    Help,
}

/// Parse one command line as the lab's `virsh migrate`. A leading `sudo` is skipped, and the
/// program may be given by path (`/usr/bin/virsh`), as on a real host.
pub fn parse_migrate_line(line: &str) -> Result<ParsedMigrate, MigrateParseError> {
    use crate::lex::{SyntaxError, parse};
    use std::collections::{BTreeMap, BTreeSet};
    let script = parse(line).map_err(|e| match e {
        SyntaxError::UnmatchedQuote(q) => MigrateParseError::UnmatchedQuote(q),
        other => MigrateParseError::Syntax(other.message()),
    })?;
    let simple = match script.as_slice() {
        [] => return Err(MigrateParseError::Empty),
        [(_, pipeline)] => match pipeline.cmds.as_slice() {
            [simple] => simple,
            _ => return Err(MigrateParseError::SeveralCommands),
        },
        _ => return Err(MigrateParseError::SeveralCommands),
    };
    let mut words: &[crate::lex::Word] = &simple.words;
    while let [first, rest @ ..] = words
        && first.text == "sudo"
    {
        words = rest;
    }
    let args: Vec<String> = words.iter().map(|w| w.text.clone()).collect();
    let Some((program, args)) = args.split_first() else {
        return Err(MigrateParseError::Empty);
    };
    if program != "virsh" && !program.ends_with("/virsh") {
        return Err(MigrateParseError::NotVirsh(program.clone()));
    }
    let (connect, at) = match super::parse_globals(args) {
        Ok(super::Globals::Run { uri, command, .. }) => (uri, command),
        Ok(super::Globals::Version | super::Globals::Help) => {
            return Err(MigrateParseError::NoCommand);
        }
        Err(lines) => return Err(MigrateParseError::Global(lines)),
    };
    let Some((command, rest)) = args.get(at..).and_then(<[String]>::split_first) else {
        return Err(MigrateParseError::NoCommand);
    };
    let def = match super::opts::find(command) {
        Some(def) if def.name == "migrate" => def,
        _ => return Err(MigrateParseError::NotMigrate(command.clone())),
    };
    let parsed = super::opts::parse(def, rest).map_err(MigrateParseError::Options)?;
    if parsed.help {
        return Err(MigrateParseError::Help);
    }
    let mut flags = BTreeSet::new();
    let mut values = BTreeMap::new();
    for o in def.opts {
        match (o.kind, parsed.get(o.name)) {
            (_, None) | (super::opts::Kind::Alias, _) => {}
            (super::opts::Kind::Bool, Some(_)) => {
                flags.insert(o.name);
            }
            (_, Some(v)) => {
                values.insert(o.name, v.to_string());
            }
        }
    }
    Ok(ParsedMigrate {
        connect,
        flags,
        values,
    })
}

/// A `virsh migrate` option: its canonical name (aliases resolved, without `--`), whether it
/// takes a value, and whether it may be given by position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrateOption {
    /// The name virsh stores it under.
    pub name: &'static str,
    /// `--name VALUE` rather than a flag.
    pub takes_value: bool,
    /// May be given by position (`domain`, `desturi`, ...).
    pub positional: bool,
}

/// The `virsh migrate` option `name` (with or without `--`), if the lab's virsh has it.
pub fn migrate_option(name: &str) -> Option<MigrateOption> {
    use super::opts::{Kind, Pos, find, option};
    let def = find("migrate")?;
    let o = option(def, name.strip_prefix("--").unwrap_or(name))?;
    Some(MigrateOption {
        name: o.name,
        takes_value: o.kind != Kind::Bool,
        positional: o.pos != Pos::Named,
    })
}

/// `Numeric value 'x' for <name> option is malformed or out of range`.
fn numeric(a: &Args, name: &str, max: u64) -> Result<Option<u64>, String> {
    match a.get(name) {
        None => Ok(None),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if n <= max => Ok(Some(n)),
            _ => Err(format!(
                "error: Numeric value '{v}' for <{name}> option is malformed or out of range"
            )),
        },
    }
}

/// vshPrettyCapacity (tools/vsh.c) as cmdDomjobinfo prints it, `%-.3lf %s`: even bytes get
/// three decimals (`0.000 B`).
fn pretty(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.3} {}", units[u])
}

impl Shell {
    pub(crate) fn virsh_migrate(
        &mut self,
        ctx: &mut Ctx,
        a: &Args,
        io: &mut Io,
        bg: bool,
        cmdline: &str,
    ) -> i32 {
        // Checks virsh makes before it talks to libvirt (tools/virsh-domain.c cmdMigrate).
        let exclusive = [("live", "offline"), ("timeout-suspend", "timeout-postcopy")];
        for (x, y) in exclusive {
            if a.has(x) && a.has(y) {
                io.errln(format!(
                    "error: Options --{x} and --{y} are mutually exclusive"
                ));
                return 1;
            }
        }
        let requires = [
            ("timeout-suspend", "timeout"),
            ("timeout-postcopy", "timeout"),
            ("postcopy-after-precopy", "postcopy"),
            ("persistent-xml", "persistent"),
            ("tls-destination", "tls"),
        ];
        for (x, needs) in requires {
            if a.has(x) && !a.has(needs) {
                io.errln(format!(
                    "error: Option --{needs} is required by option --{x}"
                ));
                return 1;
            }
        }
        let parsed = (|| -> Result<_, String> {
            let bandwidth = numeric(a, "bandwidth", LIBVIRT_UNLIMITED_MIBPS)?;
            let postcopy_bw = numeric(a, "postcopy-bandwidth", LIBVIRT_UNLIMITED_MIBPS)?;
            let timeout = numeric(a, "timeout", u64::from(i32::MAX as u32 / 1000))?;
            // virsh reads them as ints; QEMU checks the range (migralab_sim_core::limits).
            let ac_initial = numeric(a, "auto-converge-initial", i32::MAX as u64)?;
            let ac_increment = numeric(a, "auto-converge-increment", i32::MAX as u64)?;
            for n in [
                "disks-port",
                "comp-mt-level",
                "comp-mt-threads",
                "comp-mt-dthreads",
                "comp-xbzrle-cache",
                "parallel-connections",
                "available-switchover-bandwidth",
            ] {
                numeric(a, n, u64::MAX)?;
            }
            if timeout == Some(0) {
                return Err(
                    "error: Numeric value '0' for <timeout> option is malformed or out of range"
                        .into(),
                );
            }
            Ok((bandwidth, postcopy_bw, timeout, ac_initial, ac_increment))
        })();
        let (bandwidth, postcopy_bw, timeout, ac_initial, ac_increment) = match parsed {
            Ok(v) => v,
            Err(e) => {
                io.errln(e);
                return 1;
            }
        };
        let live = a.has("live");
        if timeout.is_some() && !live {
            io.errln("error: migrate: Unexpected timeout for offline migration");
            return 1;
        }
        let key = a.get("domain").unwrap_or("").to_string();
        let Some(vm) = self.lookup_domain(&ctx.host, &key, io) else {
            return 1;
        };
        let uri = a.get("desturi").unwrap_or("").to_string();
        let dest = match parse_uri(&uri)
            .and_then(|target| self.migration_destination(&ctx.host, &target))
        {
            Ok(d) => d,
            Err(e) => {
                io.errln(super::migrate_error_line(&e));
                if uri.contains("://") {
                    self.hint_for_uri(&ctx.host, &uri);
                } else {
                    self.set_hint(Text::new(
                        format!("URI tujuan ditulis `qemu+ssh://HOST/system`, misalnya `qemu+ssh://{}/system`.", self.other_host(&ctx.host)),
                        format!("the destination URI is written `qemu+ssh://HOST/system`, e.g. `qemu+ssh://{}/system`.", self.other_host(&ctx.host)),
                    ));
                }
                return 1;
            }
        };
        // `--migrateuri tcp://HOST[:PORT]`: where the data goes (the port is not modelled).
        let migrate_uri_host = match a.get("migrateuri").map(migrate_uri_host) {
            Some(Err(e)) => {
                io.errln(e.virsh_line());
                return 1;
            }
            Some(Ok(h)) => h,
            None => None,
        };
        // Flag checks libvirt makes before the migration starts.
        let p2p = a.has("p2p");
        let tunnelled = a.has("tunnelled");
        let copy = a.has("copy-storage-all") || a.has("copy-storage-inc");
        let libvirt_refusal = if tunnelled && !p2p {
            Some(LabError::InvalidOperation(
                "cannot perform tunnelled migration without using peer2peer flag".into(),
            ))
        } else if a.has("copy-storage-all") && a.has("copy-storage-inc") {
            // Wording of libvirt's VIR_EXCLUSIVE_FLAGS check (not verified word for word).
            Some(LabError::Libvirt {
                code: None,
                message: "invalid argument: Flags 'VIR_MIGRATE_NON_SHARED_DISK' and 'VIR_MIGRATE_NON_SHARED_INC' are mutually exclusive".into(),
            })
        } else if (ac_initial.is_some() || ac_increment.is_some()) && !a.has("auto-converge") {
            Some(LabError::Libvirt {
                code: None,
                message: limits::AUTO_CONVERGE_OFF.into(),
            })
        } else if a.has("parallel-connections") && !a.has("parallel") {
            Some(LabError::Libvirt {
                code: None,
                message: limits::PARALLEL_OFF.into(),
            })
        } else if let Some(message) = ac_initial
            .and_then(|v| limits::throttle_out_of_range(v, false))
            .or_else(|| ac_increment.and_then(|v| limits::throttle_out_of_range(v, true)))
        {
            // QEMU refuses the step when libvirt sets it on the source, before any RAM moves.
            Some(LabError::Libvirt {
                code: None,
                message,
            })
        } else if copy && tunnelled {
            Some(LabError::Libvirt {
                code: None,
                message: "Operation not supported: migration of non-shared storage is not supported with tunnelled migration and this QEMU".into(),
            })
        } else if a.has("postcopy") && tunnelled {
            Some(LabError::Libvirt {
                code: None,
                message:
                    "argument unsupported: post-copy is not supported with tunnelled migration"
                        .into(),
            })
        } else if a.has("offline") && !a.has("persistent") {
            Some(LabError::InvalidOperation(
                "offline migration must be specified with the persistent flag set".into(),
            ))
        } else {
            None
        };
        if let Some(e) = libvirt_refusal {
            io.errln(e.virsh_line());
            return 1;
        }
        // At the timeout virsh asks for post-copy; without --postcopy libvirt refuses and virsh
        // only logs that at debug level (virshMigrateTimeout), so the migration just goes on.
        let timeout_postcopy_fails = a.has("timeout-postcopy") && !a.has("postcopy");
        if timeout_postcopy_fails && timeout.is_some() {
            self.note(
                io,
                &Text::new(
                    "--timeout-postcopy tanpa --postcopy: saat batas waktu, virsh meminta post-copy, libvirt menolak (migrasi tidak dimulai dengan --postcopy), dan virsh diam saja; migrasi berjalan terus.",
                    "--timeout-postcopy without --postcopy: at the timeout virsh asks for post-copy, libvirt refuses (the migration was not started with --postcopy) and virsh stays silent; the migration goes on.",
                ),
            );
        }
        let state = self
            .sim
            .world()
            .domain(&ctx.host, &vm)
            .map(|d| d.state)
            .unwrap_or(DomainState::ShutOff);
        if a.has("offline") {
            return self.offline_migration(&ctx.host, &vm, &dest, a.has("undefinesource"), io);
        }
        if state == DomainState::ShutOff {
            io.errln(LabError::InvalidOperation("domain is not running".into()).virsh_line());
            if let Some(other) = self
                .sim
                .world()
                .running_on(&vm)
                .filter(|h| *h != ctx.host)
                .map(str::to_string)
            {
                self.set_hint(Text::new(
                    format!("{vm} berjalan di {other}; yang ada di {} hanya definisinya (shut off). Migrasikan dari sana: `ssh {other}`.", ctx.host),
                    format!("{vm} runs on {other}; {} only has its (shut off) definition. Migrate it from there: `ssh {other}`.", ctx.host),
                ));
                return 1;
            }
            self.set_hint(Text::new(
                format!("{vm} mati di sini: `virsh start {vm}` dulu, atau pindahkan definisinya saja dengan `--offline --persistent`."),
                format!("{vm} is shut off here: `virsh start {vm}` first, or move just its definition with `--offline --persistent`."),
            ));
            return 1;
        }
        self.migrate_notes(a, io);
        let tune = self.tune.get(&vm).copied().unwrap_or_default();
        // Typed by address (or another name), SSH needs no name, but the data still goes to
        // the name the destination offers: preflight's name-resolution check.
        let uri_host = match parse_uri(&uri) {
            Ok(UriTarget::Remote(h)) if h != dest => Some(h),
            _ => None,
        };
        let spec = MigrationSpec {
            uri_host,
            vm: vm.clone(),
            to: dest,
            start_ms: 0,
            live,
            persistent: a.has("persistent"),
            undefinesource: a.has("undefinesource"),
            copy_storage_all: copy,
            p2p,
            tunnelled,
            auto_converge: a.has("auto-converge"),
            postcopy: a.has("postcopy"),
            postcopy_after_precopy: a.has("postcopy-after-precopy"),
            postcopy_after_pass: None,
            unsafe_: a.has("unsafe"),
            tls: a.has("tls"),
            bandwidth_mibps: bandwidth.or(tune.speed_mibps).filter(|&b| b > 0),
            postcopy_bandwidth_mibps: postcopy_bw.or(tune.postcopy_speed_mibps).filter(|&b| b > 0),
            timeout_s: timeout.filter(|_| !timeout_postcopy_fails),
            timeout_action: if a.has("timeout-postcopy") {
                TimeoutAction::Postcopy
            } else {
                TimeoutAction::Suspend
            },
            downtime_limit_ms: tune.downtime_ms,
            auto_converge_initial: ac_initial.map(|v| v as u8),
            auto_converge_increment: ac_increment.map(|v| v as u8),
            migrate_uri_host,
        };
        let index = self.sim.migrations().len();
        if let Err(e) = self.sim.apply(LabCommand::Migrate(spec.clone())) {
            io.errln(super::migrate_error_line(&e));
            self.record_refused(cmdline, &spec, &e);
            self.hint_for_uri(&ctx.host, &uri);
            return 1;
        }
        let now = self.sim.now();
        let work = Work::Migrate(MigrateWork {
            mig: index,
            spec,
            verbose: a.has("verbose"),
            next_progress: now + SimDuration::from_secs(1),
        });
        if bg {
            self.start_job(work, &ctx.client);
            return 0;
        }
        let job = Job::new(0, 0, cmdline.to_string(), work, &ctx.client, now);
        self.jobs.push(job);
        let slot = self.jobs.len() - 1;
        // Only a migrate whose output goes straight to the terminal can be parked: the rest of
        // a pipe would need it finished.
        let parkable = !ctx.piped && ctx.stdout_file.is_none();
        while !self.jobs[slot].finished {
            if parkable && self.park_at.is_some_and(|t| self.sim.now() >= t) {
                // `run_line_until`: it stays in the foreground, running, for `interrupt` or
                // `resume`; what it printed so far stays with it.
                return 0;
            }
            if !self.step_once() {
                // The line's time budget is used up: the job goes on in the background.
                let id = self.new_job_id();
                self.jobs[slot].id = id;
                self.jobs[slot].pid = self.take_pid();
                io.extend(std::mem::take(&mut self.jobs[slot].io));
                self.note(
                    io,
                    &Text::new(
                        format!("migrasi masih berjalan; dipindah ke latar belakang sebagai job [{id}] (lihat `jobs`, `virsh domjobinfo {vm}`)."),
                        format!("the migration is still running; it now runs in the background as job [{id}] (see `jobs`, `virsh domjobinfo {vm}`)."),
                    ),
                );
                return 0;
            }
        }
        self.reap_job(slot, io)
    }

    /// Notes on options the lab accepts but does not simulate.
    fn migrate_notes(&self, a: &Args, io: &mut Io) {
        if let Some(u) = a.get("migrateuri").filter(|u| !u.starts_with("tcp://")) {
            self.note(
                io,
                &Text::new(
                    format!(
                        "--migrateuri {u} diabaikan: lab ini hanya menyimulasikan tcp://HOST[:PORT]."
                    ),
                    format!("--migrateuri {u} is ignored: the lab simulates tcp://HOST[:PORT] only."),
                ),
            );
        }
        if let Some(addr) = a.get("listen-address") {
            self.note(
                io,
                &Text::new(
                    format!(
                        "--listen-address {addr}: QEMU di host tujuan mendengarkan di alamat itu saja (bawaan 0.0.0.0, atau `migration_address` di qemu.conf); lab ini tidak memodelkannya."
                    ),
                    format!(
                        "--listen-address {addr}: the destination's QEMU listens on that address only (default 0.0.0.0, or `migration_address` in qemu.conf); the lab does not model it."
                    ),
                ),
            );
        }
        let ignored: Vec<String> = [
            "direct",
            "suspend",
            "copy-storage-inc",
            "change-protection",
            "compressed",
            "rdma-pin-all",
            "abort-on-error",
            "postcopy-resume",
            "zerocopy",
            "graphicsuri",
            "dname",
            "xml",
            "migrate-disks",
            "disks-port",
            "disks-uri",
            "comp-methods",
            "comp-mt-level",
            "comp-mt-threads",
            "comp-mt-dthreads",
            "comp-xbzrle-cache",
            "persistent-xml",
            "tls-destination",
            "parallel",
            "parallel-connections",
            "copy-storage-synchronous-writes",
            "available-switchover-bandwidth",
        ]
        .iter()
        .filter(|n| a.has(n))
        .map(|n| format!("--{n}"))
        .collect();
        if a.has("copy-storage-inc") {
            self.note(
                io,
                &Text::new(
                    "--copy-storage-inc diperlakukan seperti --copy-storage-all (seluruh disk disalin).",
                    "--copy-storage-inc is treated as --copy-storage-all (the whole disk is copied).",
                ),
            );
        }
        let ignored: Vec<String> = ignored
            .into_iter()
            .filter(|n| n != "--copy-storage-inc")
            .collect();
        if !ignored.is_empty() {
            let list = ignored.join(", ");
            self.note(
                io,
                &Text::new(
                    format!("tidak disimulasikan (diabaikan): {list}."),
                    format!("not simulated (ignored): {list}."),
                ),
            );
        }
    }

    /// `--offline --persistent`: copy the definition only (connection checks as for ssh).
    fn offline_migration(
        &mut self,
        from: &str,
        vm: &str,
        dest: &str,
        undefine_source: bool,
        io: &mut Io,
    ) -> i32 {
        if let Err(e) = self.connect_uri(from, &format!("qemu+ssh://{dest}/system")) {
            io.errln(e.virsh_line());
            return 1;
        }
        if dest == from {
            let uuid = self
                .host_spec(from)
                .map(|h| h.host_uuid())
                .unwrap_or_default();
            io.errln(LabError::SameHost { host_uuid: uuid }.virsh_line());
            return 1;
        }
        if let Err(e) = self.sim.handle_domain_op(dest, vm, DomainOp::Define) {
            io.errln(e.virsh_line());
            return 1;
        }
        if undefine_source {
            let inactive = self
                .sim
                .world()
                .domain(from, vm)
                .is_some_and(|d| d.state == DomainState::ShutOff);
            if inactive {
                let _ = self.sim.handle_domain_op(from, vm, DomainOp::Undefine);
            }
        }
        0
    }

    /// The lab host a destination URI names, as seen from `from`. Names the lab does not know
    /// are passed on, so the simulator fails them as ssh would.
    fn migration_destination(&self, from: &str, target: &UriTarget) -> Result<String, LabError> {
        match target {
            UriTarget::Local => Ok(from.to_string()),
            UriTarget::Remote(h) => {
                if self.host_spec(h).is_some() {
                    return Ok(h.clone());
                }
                if h.parse::<std::net::Ipv4Addr>().is_ok() {
                    return match self.host_by_ip(h) {
                        Some(name) => Ok(name),
                        None => Err(LabError::ConnectFailed {
                            detail: format!(
                                "Cannot recv data: ssh: connect to host {h} port 22: {}: Connection reset by peer",
                                if self.vm_by_ip(h).is_some() {
                                    "Connection refused"
                                } else {
                                    "No route to host"
                                }
                            ),
                        }),
                    };
                }
                match self.resolve(from, h) {
                    Some(Resolved {
                        peer: Peer::Host(name),
                        ..
                    }) => Ok(name),
                    _ => Ok(h.clone()),
                }
            }
        }
    }

    fn hint_for_uri(&mut self, from: &str, uri: &str) {
        let host = match parse_uri(uri) {
            Ok(UriTarget::Remote(h)) => h,
            _ => return,
        };
        if let Some(h) = self.ssh_failure_hint(from, &host) {
            self.set_hint(h);
        }
    }

    /// The job `i` has ended: its last lines, status and hint.
    pub(crate) fn finish_job(&mut self, i: usize) {
        let Some(job) = self.jobs.get(i) else {
            return;
        };
        let Some(w) = job.migration() else {
            return;
        };
        let outcome = self
            .sim
            .migrations()
            .get(w.mig)
            .and_then(|m| m.outcome().cloned());
        let spec = w.spec.clone();
        let verbose = w.verbose;
        let mut io = Io::default();
        let mut hint = None;
        let status = match outcome {
            Some(Outcome::Completed { .. }) => {
                if verbose {
                    io.errln("Migration: [100.00 %]");
                }
                if spec.copy_storage_all && self.sim.scenario().storage.kind == StorageKind::Local {
                    self.local_images.insert((spec.to.clone(), spec.vm.clone()));
                }
                0
            }
            Some(Outcome::Failed { error, .. }) => {
                io.errln(super::migrate_error_line(&error));
                hint = self.migration_hint(&spec);
                1
            }
            Some(Outcome::Aborted { .. }) => {
                io.errln(LabError::Aborted.virsh_line());
                1
            }
            Some(Outcome::NotConverged {
                at_ms, iterations, ..
            }) => {
                let secs = at_ms / 1000;
                io.errln(crate::note_prefix(self.lang).to_string() + self.lang.pick(&Text::new(
                    format!("migrasi tidak konvergen dalam {secs} detik ({iterations} iterasi): QEMU akan terus mengulang tanpa akhir, jadi lab membatalkannya seperti Ctrl-C."),
                    format!("the migration did not converge in {secs} s ({iterations} iterations): QEMU would iterate forever, so the lab cancelled it as Ctrl-C would."),
                )));
                io.errln(LabError::Aborted.virsh_line());
                hint = Some(Text::new(
                    "VM menulis memori lebih cepat daripada yang bisa dikirim: coba --auto-converge, --postcopy (lalu `virsh migrate-postcopy`), `virsh migrate-setmaxdowntime`, atau --timeout N.",
                    "the guest writes memory faster than it can be sent: try --auto-converge, --postcopy (then `virsh migrate-postcopy`), `virsh migrate-setmaxdowntime`, or --timeout N.",
                ));
                1
            }
            Some(Outcome::TimeLimit(u)) => {
                let secs = u.at_ms / 1000;
                let left = u.remaining_bytes / (1024 * 1024);
                io.errln(crate::note_prefix(self.lang).to_string() + self.lang.pick(&Text::new(
                    format!("batas waktu lab tercapai: setelah {secs} detik migrasi masih menyalin ({left} MiB tersisa) dan butuh waktu lebih lama, jadi lab membatalkannya seperti Ctrl-C. Ini bukan tanda tidak konvergen."),
                    format!("the lab's time limit was reached: after {secs} s the migration was still copying ({left} MiB left) and needs longer, so the lab cancelled it as Ctrl-C would. This is not a sign that it does not converge."),
                )));
                io.errln(LabError::Aborted.virsh_line());
                1
            }
            Some(Outcome::WorkLimit(u)) => {
                let secs = u.at_ms / 1000;
                io.errln(crate::note_prefix(self.lang).to_string() + self.lang.pick(&Text::new(
                    format!("batas kerja simulator tercapai setelah {secs} detik: mensimulasikan migrasi ini lebih lanjut terlalu mahal, jadi lab membatalkannya seperti Ctrl-C."),
                    format!("the simulator's work limit was reached after {secs} s: simulating this migration further costs too much, so the lab cancelled it as Ctrl-C would."),
                )));
                io.errln(LabError::Aborted.virsh_line());
                1
            }
            None => 1,
        };
        let Some(job) = self.jobs.get_mut(i) else {
            return;
        };
        if job.id != 0 {
            // virsh exits: its closing empty line.
            io.out("\n");
        }
        job.io.extend(io);
        job.status = status;
        job.finished = true;
        if job.hint.is_none() {
            job.hint = hint;
        }
        self.record_finished_job(i);
    }

    /// The preflight fix for a failed migration.
    fn migration_hint(&self, spec: &MigrationSpec) -> Option<Text> {
        let report = preflight(self.sim.scenario(), spec).ok()?;
        let check = report.first_failure()?;
        if check.fix.en.is_empty() && check.fix.id.is_empty() {
            return None;
        }
        Some(Text::new(
            format!("{}: {}", check.title.id, check.fix.id),
            format!("{}: {}", check.title.en, check.fix.en),
        ))
    }

    /// The newest migration of `vm` that involves `host`, if any.
    fn job_of(&self, host: &str, vm: &str) -> Option<usize> {
        self.sim
            .migrations()
            .iter()
            .rposition(|m| m.vm_name() == vm && (m.source_host() == host || m.spec().to == host))
    }

    /// `virsh domjobinfo`, laid out as cmdDomjobinfo (tools/virsh-domain.c) prints the
    /// statistics libvirt's QEMU driver gives (qemuDomainMigrationJobDataToParams,
    /// src/qemu/qemu_domainjob.c), as measured in the lab in a box (libvirt 11.3).
    pub(crate) fn virsh_domjobinfo(&mut self, host: &str, a: &Args, io: &mut Io) -> i32 {
        let Some(vm) = self.lookup_domain(host, a.get("domain").unwrap_or(""), io) else {
            return 1;
        };
        let row = |io: &mut Io, k: &str, v: String| io.outln(format!("{k:<17} {v}"));
        let none = |io: &mut Io| row(io, "Job type:", format!("{:<12}", "None"));
        let completed = a.has("completed");
        let active = self
            .sim
            .world()
            .domain(host, &vm)
            .is_some_and(|d| d.state != DomainState::ShutOff);
        if !completed && !active {
            // qemuDomainGetJobStats asks only a running domain for its current job.
            io.errln(LabError::InvalidOperation("domain is not running".into()).virsh_line());
            return 1;
        }
        let Some(idx) = self.job_of(host, &vm) else {
            none(io);
            return 0;
        };
        let Some(m) = self.sim.migrations().get(idx) else {
            none(io);
            return 0;
        };
        let outgoing = m.source_host() == host;
        let op = if outgoing {
            "Outgoing migration"
        } else {
            "Incoming migration"
        };
        let start = SimTime::ZERO + SimDuration::from_millis(m.spec().start_ms);
        let setup_ms = self.sim.scenario().sim.setup_ms.round() as u64;
        // libvirt's timeDelta: how long the statistics took from one host to the other in the
        // migration cookie; with it, the completed job also has the "w/o network" times.
        let sim = &self.sim.scenario().sim;
        let delta_ms = (sim.resume_ms + self.sim.scenario().link.rtt_ms / 2.0)
            .round()
            .max(1.0) as u64;
        if completed {
            let Some(outcome) = m.outcome().cloned() else {
                none(io);
                return 0;
            };
            let sample = m.completed_sample().unwrap_or_default();
            let (kind, downtime) = match &outcome {
                Outcome::Completed { downtime_ms, .. } => ("Completed", Some(*downtime_ms)),
                // libvirt keeps no statistics of a cancelled migration: after `virsh
                // domjobabort` (virsh still printing "operation aborted"), `domjobinfo
                // --completed`, with or without --anystats or --keep-completed, says "Job
                // type: None" (the lab in a box, libvirt 11.3).
                Outcome::Aborted { .. }
                | Outcome::NotConverged { .. }
                | Outcome::TimeLimit(_)
                | Outcome::WorkLimit(_) => {
                    none(io);
                    return 0;
                }
                _ => ("Failed", None),
            };
            row(io, "Job type:", format!("{kind:<12}"));
            row(io, "Operation:", format!("{op:<12}"));
            if downtime.is_none() && !a.has("anystats") {
                return 0;
            }
            let elapsed = match &outcome {
                Outcome::Completed { total_ms, .. } => *total_ms,
                _ => m.finished_at().unwrap_or(start).since(start).as_millis(),
            };
            row(io, "Time elapsed:", format!("{elapsed:<12} ms"));
            if elapsed > delta_ms {
                row(
                    io,
                    "Time elapsed w/o network:",
                    format!("{:<12} ms", elapsed - delta_ms),
                );
            }
            job_stats(io, &sample, &row);
            if let Some(d) = downtime {
                row(io, "Total downtime:", format!("{d:<12} ms"));
                if d > delta_ms {
                    row(
                        io,
                        "Downtime w/o network:",
                        format!("{:<12} ms", d - delta_ms),
                    );
                }
            }
            row(io, "Setup time:", format!("{setup_ms:<12} ms"));
            if let Outcome::Failed { error, .. } = outcome {
                row(io, "Error message:", error.to_string());
            }
            return 0;
        }
        if m.is_done() {
            none(io);
            return 0;
        }
        if !outgoing {
            // qemuDomainGetJobInfoMigrationStats: QEMU's incoming side has no statistics.
            io.errln("error: Operation not supported: migration statistics are available only on the source host");
            return 1;
        }
        let sample = m.sample();
        let elapsed = self.sim.now().since(start).as_millis();
        row(io, "Job type:", format!("{:<12}", "Unbounded"));
        row(io, "Operation:", format!("{op:<12}"));
        row(io, "Time elapsed:", format!("{elapsed:<12} ms"));
        if matches!(
            sample.phase,
            None | Some(migralab_sim_core::trace::Phase::Setup)
        ) {
            // While libvirt prepares the destination and QEMU sets up, QEMU reports no
            // statistics yet: only the time is printed (measured in the lab in a box).
            return 0;
        }
        job_stats(io, &sample, &row);
        row(
            io,
            "Expected downtime:",
            format!("{:<12} ms", sample.expected_downtime_ms),
        );
        row(io, "Setup time:", format!("{setup_ms:<12} ms"));
        if sample.throttle_pct > 0 {
            // The one field cmdDomjobinfo prints with `%-13d`.
            row(
                io,
                "Auto converge throttle:",
                format!("{:<13}", sample.throttle_pct),
            );
        }
        0
    }

    pub(crate) fn virsh_domjobabort(&mut self, host: &str, a: &Args, io: &mut Io) -> i32 {
        let Some(vm) = self.lookup_domain(host, a.get("domain").unwrap_or(""), io) else {
            return 1;
        };
        match self.sim.apply(LabCommand::Abort { vm }) {
            Ok(()) => {
                // The cancellation's events belong to the run (its outcome among them).
                while let Some(ev) = self.sim.poll_trace() {
                    self.record_event(ev);
                }
                self.tick_jobs();
                0
            }
            Err(e) => {
                io.errln(e.virsh_line());
                1
            }
        }
    }

    pub(crate) fn virsh_migrate_tune(
        &mut self,
        host: &str,
        cmd: &str,
        a: &Args,
        io: &mut Io,
    ) -> i32 {
        let Some(vm) = self.lookup_domain(host, a.get("domain").unwrap_or(""), io) else {
            return 1;
        };
        let running = self
            .sim
            .world()
            .domain(host, &vm)
            .is_some_and(|d| d.state != DomainState::ShutOff);
        let active_job = self
            .sim
            .migrations()
            .iter()
            .any(|m| m.vm_name() == vm && !m.is_done());
        let mut tune = self.tune.get(&vm).copied().unwrap_or_default();
        match cmd {
            "migrate-getmaxdowntime" => {
                if !running {
                    io.errln(
                        LabError::InvalidOperation("domain is not running".into()).virsh_line(),
                    );
                    return 1;
                }
                io.outln(tune.downtime_ms.to_string());
                0
            }
            "migrate-setmaxdowntime" => {
                let ms = match numeric(a, "downtime", u64::MAX) {
                    Ok(Some(ms)) if ms >= 1 => ms,
                    Ok(_) => {
                        io.errln("error: migrate: Invalid downtime");
                        return 1;
                    }
                    Err(e) => {
                        io.errln(e);
                        return 1;
                    }
                };
                if !running {
                    io.errln(
                        LabError::InvalidOperation("domain is not running".into()).virsh_line(),
                    );
                    return 1;
                }
                if let Some(e) = limits::downtime_too_long(ms) {
                    io.errln(format!("error: {e}"));
                    return 1;
                }
                tune.downtime_ms = ms;
                self.tune.insert(vm.clone(), tune);
                if active_job {
                    let _ = self.sim.apply(LabCommand::SetMaxDowntime { vm, ms });
                }
                0
            }
            "migrate-getspeed" => {
                // Unset, the pre-copy speed is libvirt's "unlimited" and the post-copy one is
                // QEMU's max-postcopy-bandwidth 0 (measured: 8796093022207 and 0).
                let v = if a.has("postcopy") {
                    tune.postcopy_speed_mibps.unwrap_or(0)
                } else {
                    tune.speed_mibps.unwrap_or(LIBVIRT_UNLIMITED_MIBPS)
                };
                io.outln(v.to_string());
                0
            }
            "migrate-setspeed" => {
                let bw = match numeric(a, "bandwidth", LIBVIRT_UNLIMITED_MIBPS) {
                    Ok(Some(b)) => b,
                    Ok(None) => return 1,
                    Err(e) => {
                        io.errln(e);
                        return 1;
                    }
                };
                let value = (bw != LIBVIRT_UNLIMITED_MIBPS).then_some(bw);
                if a.has("postcopy") {
                    tune.postcopy_speed_mibps = value;
                } else {
                    tune.speed_mibps = value;
                    if active_job {
                        let _ = self.sim.apply(LabCommand::SetSpeed {
                            vm: vm.clone(),
                            mibps: value.filter(|&b| b > 0),
                        });
                    }
                }
                self.tune.insert(vm, tune);
                0
            }
            _ => match self.sim.apply(LabCommand::StartPostcopy { vm }) {
                Ok(()) => 0,
                Err(e) => {
                    io.errln(e.virsh_line());
                    1
                }
            },
        }
    }
}

/// The data, memory, file and page lines of `virsh domjobinfo`, in cmdDomjobinfo's order; each
/// group only when one of its totals is not zero, as cmdDomjobinfo prints them.
fn job_stats(io: &mut Io, s: &MigrationSample, row: &dyn Fn(&mut Io, &str, String)) {
    if s.data_total() + s.data_processed() + s.data_remaining() > 0 {
        row(io, "Data processed:", pretty(s.data_processed()));
        row(io, "Data remaining:", pretty(s.data_remaining()));
        row(io, "Data total:", pretty(s.data_total()));
    }
    if s.memory_total + s.memory_processed + s.memory_remaining > 0 {
        row(io, "Memory processed:", pretty(s.memory_processed));
        row(io, "Memory remaining:", pretty(s.memory_remaining));
        row(io, "Memory total:", pretty(s.memory_total));
        if s.memory_bps > 0.0 {
            row(
                io,
                "Memory bandwidth:",
                format!("{}/s", pretty(s.memory_bps as u64)),
            );
        }
        row(
            io,
            "Dirty rate:",
            format!("{:<12} pages/s", s.dirty_rate_pps),
        );
        row(
            io,
            "Page size:",
            format!("{:<12} bytes", migralab_sim_core::units::PAGE_SIZE),
        );
        row(io, "Iteration:", format!("{:<12}", s.iteration));
        row(
            io,
            "Postcopy requests:",
            format!("{:<12}", s.postcopy_requests),
        );
    }
    if s.disk_total + s.disk_processed + s.disk_remaining > 0 {
        row(io, "File processed:", pretty(s.disk_processed));
        row(io, "File remaining:", pretty(s.disk_remaining));
        row(io, "File total:", pretty(s.disk_total));
    }
    row(io, "Constant pages:", format!("{:<12}", s.constant_pages));
    row(io, "Normal pages:", format!("{:<12}", s.normal_pages));
    row(
        io,
        "Normal data:",
        pretty(s.normal_pages * migralab_sim_core::units::PAGE_SIZE),
    );
}

/// The host of `--migrateuri tcp://HOST[:PORT]` (libvirt's qemuMigrationDstPrepareDirect:
/// "missing host in migration URI"); `None` for another scheme, which the lab does not simulate.
fn migrate_uri_host(uri: &str) -> Result<Option<String>, LabError> {
    let Some(rest) = uri.strip_prefix("tcp://") else {
        return Ok(None);
    };
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    if host.is_empty() {
        return Err(LabError::Libvirt {
            code: None,
            message: format!("invalid argument: missing host in migration URI: {uri}"),
        });
    }
    Ok(Some(host.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn uris() {
        assert_eq!(
            parse_uri("qemu+ssh://kvm-host-02/system").unwrap(),
            UriTarget::Remote("kvm-host-02".into())
        );
        assert_eq!(
            parse_uri("qemu+ssh://root@kvm-host-02/system").unwrap(),
            UriTarget::Remote("kvm-host-02".into())
        );
        assert_eq!(parse_uri("qemu:///system").unwrap(), UriTarget::Local);
        assert_eq!(
            parse_uri("kvm-host-02").unwrap_err().virsh_line(),
            "error: failed to connect to the hypervisor\nerror: no connection driver available for URI 'kvm-host-02' does not include a driver name"
        );
        assert!(
            parse_uri("qemu+ssh://kvm-host-02")
                .unwrap_err()
                .to_string()
                .contains("unexpected qemu URI path ''")
        );
    }

    #[test]
    fn issue_5_parse_migrate_line_reads_a_line_as_the_lab_virsh_does() {
        let p = parse_migrate_line(
            "virsh -c qemu:///system migrate --tunneled --p2p --live=\"\" 'db 01' --desturi=qemu+ssh://h/system",
        );
        assert_eq!(
            p,
            Err(MigrateParseError::Options(
                "invalid '=' after option --live".into()
            ))
        );
        let p = parse_migrate_line(
            "sudo virsh -c qemu:///system migrate --tunneled --p2p 'db 01' \\\n --desturi=qemu+ssh://h/system --bandwidth 10 &",
        )
        .unwrap();
        assert_eq!(p.connect.as_deref(), Some("qemu:///system"));
        assert_eq!(
            p.flags.iter().copied().collect::<Vec<_>>(),
            ["p2p", "tunnelled"]
        );
        assert_eq!(p.values.get("domain").map(String::as_str), Some("db 01"));
        assert_eq!(
            p.values.get("desturi").map(String::as_str),
            Some("qemu+ssh://h/system")
        );
        assert_eq!(p.values.get("bandwidth").map(String::as_str), Some("10"));
        let err = |l: &str| parse_migrate_line(l).unwrap_err();
        assert_eq!(
            err("virsh migrate 'db01"),
            MigrateParseError::UnmatchedQuote('\'')
        );
        assert_eq!(err("  # a comment"), MigrateParseError::Empty);
        assert_eq!(
            err("virsh migrate a b | cat"),
            MigrateParseError::SeveralCommands
        );
        assert_eq!(
            err("virsh list && true"),
            MigrateParseError::SeveralCommands
        );
        assert_eq!(err("ssh h"), MigrateParseError::NotVirsh("ssh".into()));
        assert_eq!(err("virsh -q"), MigrateParseError::NoCommand);
        assert_eq!(err("virsh --version migrate"), MigrateParseError::NoCommand);
        assert_eq!(
            err("virsh list"),
            MigrateParseError::NotMigrate("list".into())
        );
        assert_eq!(err("virsh migrate --help"), MigrateParseError::Help);
        assert_eq!(
            err("virsh --bogus migrate"),
            MigrateParseError::Global(vec![
                "virsh: unrecognized option '--bogus'".into(),
                "error: unsupported option '--bogus'. See --help.".into()
            ])
        );
        assert_eq!(
            err("virsh migrate --foo db01 qemu+ssh://h/system"),
            MigrateParseError::Options("command 'migrate' doesn't support option --foo".into())
        );
    }

    #[test]
    fn issue_5_the_option_table_answers_for_the_quiz() {
        let o = |n: &str| migrate_option(n).map(|o| (o.name, o.takes_value, o.positional));
        assert_eq!(o("--live"), Some(("live", false, false)));
        assert_eq!(o("tunneled"), Some(("tunnelled", false, false)));
        assert_eq!(o("desturi"), Some(("desturi", true, true)));
        assert_eq!(o("--bandwidth"), Some(("bandwidth", true, false)));
        assert_eq!(o("--lvie"), None);
        // vsh keeps aliases out of the help.
        let help = super::super::opts::help_text(super::super::opts::find("migrate").unwrap());
        assert!(
            help.contains("[--tunnelled]") && !help.contains("tunneled"),
            "{help}"
        );
    }

    #[test]
    fn capacities_are_pretty() {
        assert_eq!(pretty(512), "512.000 B");
        assert_eq!(pretty(2 * 1024 * 1024 * 1024), "2.000 GiB");
        assert_eq!(pretty(1536 * 1024), "1.500 MiB");
        // issue 20: bytes too get vshPrettyCapacity's three decimals.
        assert_eq!(pretty(0), "0.000 B");
        assert_eq!(pretty(1023), "1023.000 B");
    }
}
