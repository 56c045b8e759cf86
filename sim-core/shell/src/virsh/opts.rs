//! virsh's command table and option parser, following `tools/vsh.c` (libvirt 9.x–11.x): options
//! are `--name`, `--name value` or `--name=value`; positional options fill in declaration order;
//! `--` ends the options; errors are worded as vsh words them.

use std::collections::BTreeMap;

/// Kind of an option's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Str,
    Int,
    /// vsh's `VSH_OT_ALIAS`: another name for the option named in `help`.
    Alias,
}

/// How an option may be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pos {
    /// Only as `--name`.
    Named,
    /// May be given by position; optional.
    Positional,
    /// May be given by position; required.
    Required,
}

/// One option of a command.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Opt {
    pub name: &'static str,
    pub kind: Kind,
    pub pos: Pos,
    pub help: &'static str,
}

const fn b(name: &'static str, help: &'static str) -> Opt {
    Opt {
        name,
        kind: Kind::Bool,
        pos: Pos::Named,
        help,
    }
}
const fn s(name: &'static str, help: &'static str) -> Opt {
    Opt {
        name,
        kind: Kind::Str,
        pos: Pos::Named,
        help,
    }
}
const fn i(name: &'static str, help: &'static str) -> Opt {
    Opt {
        name,
        kind: Kind::Int,
        pos: Pos::Named,
        help,
    }
}
/// `--name` is another spelling of `--target` (vsh keeps the target's name in `help`).
const fn alias(name: &'static str, target: &'static str) -> Opt {
    Opt {
        name,
        kind: Kind::Alias,
        pos: Pos::Named,
        help: target,
    }
}
const fn req(name: &'static str, help: &'static str) -> Opt {
    Opt {
        name,
        kind: Kind::Str,
        pos: Pos::Required,
        help,
    }
}
const fn opt(name: &'static str, help: &'static str) -> Opt {
    Opt {
        name,
        kind: Kind::Str,
        pos: Pos::Positional,
        help,
    }
}
const fn req_int(name: &'static str, help: &'static str) -> Opt {
    Opt {
        name,
        kind: Kind::Int,
        pos: Pos::Required,
        help,
    }
}

/// A virsh command.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Def {
    pub name: &'static str,
    /// Group title in `virsh help`.
    pub group: &'static str,
    pub help: &'static str,
    pub desc: &'static str,
    pub opts: &'static [Opt],
}

const DOMAIN: Opt = req("domain", "domain name, id or uuid");
const FILE: Opt = req("file", "file containing an XML CPU description");
/// `cpu-baseline` and `hypervisor-cpu-baseline` take the same options.
const BASELINE_OPTS: &[Opt] = &[
    req("file", "file containing XML CPU descriptions"),
    b(
        "features",
        "Show features that are part of the CPU model type",
    ),
    b("migratable", "Do not include features that block migration"),
];

/// Groups in `virsh help` order: (title, keyword).
pub(crate) const GROUPS: &[(&str, &str)] = &[
    ("Domain Management", "domain"),
    ("Domain Monitoring", "monitor"),
    ("Host and Hypervisor", "host"),
    ("Virsh itself", "virsh"),
];

/// The commands the lab's virsh knows (a subset of the real ~250).
pub(crate) const COMMANDS: &[Def] = &[
    // Help texts as in tools/virsh-domain.c (opts_change_media), the lab's subset of options.
    Def {
        name: "change-media",
        group: "Domain Management",
        help: "Change media of CD or floppy drive",
        desc: "Change media of CD or floppy drive.",
        opts: &[
            DOMAIN,
            req("path", "Fully-qualified path or target of disk device"),
            b("eject", "Eject the media"),
            b(
                "current",
                "can be either or both of --live and --config, depends on implementation hypervisor driver",
            ),
            b("live", "alter live configuration of running domain"),
            b(
                "config",
                "alter persistent configuration, effect observed on next boot",
            ),
        ],
    },
    Def {
        name: "destroy",
        group: "Domain Management",
        help: "destroy (stop) a domain",
        desc: "Forcefully stop a given domain, but leave its resources intact.",
        opts: &[DOMAIN, b("graceful", "terminate gracefully")],
    },
    Def {
        name: "domjobabort",
        group: "Domain Management",
        help: "abort active domain job",
        desc: "Aborts the currently running domain job",
        opts: &[DOMAIN, b("postcopy", "interrupt post-copy migration")],
    },
    Def {
        name: "domjobinfo",
        group: "Domain Management",
        help: "domain job information",
        desc: "Returns information about jobs running on a domain.",
        opts: &[
            DOMAIN,
            b("completed", "return statistics of a recently completed job"),
            b(
                "keep-completed",
                "don't destroy statistics of a recently completed job when reading",
            ),
            b(
                "anystats",
                "print statistics for any kind of job (even failed ones)",
            ),
            b("rawstats", "print the raw data returned by libvirt"),
        ],
    },
    Def {
        name: "dumpxml",
        group: "Domain Management",
        help: "domain information in XML",
        desc: "Output the domain information as an XML dump to stdout.",
        opts: &[
            DOMAIN,
            b("inactive", "show inactive defined XML"),
            b(
                "security-info",
                "include security sensitive information in XML dump",
            ),
            b("update-cpu", "update guest CPU according to host CPU"),
            b("migratable", "provide XML suitable for migrations"),
        ],
    },
    Def {
        name: "migrate",
        group: "Domain Management",
        help: "migrate domain to another host",
        desc: "Migrate domain to another host.  Add --live for live migration.",
        opts: &[
            b("live", "live migration"),
            b("offline", "offline migration"),
            b("p2p", "peer-2-peer migration"),
            b("direct", "direct migration"),
            alias("tunneled", "tunnelled"),
            b("tunnelled", "tunnelled migration"),
            b("persistent", "persist VM on destination"),
            b("undefinesource", "undefine VM on source"),
            b(
                "suspend",
                "do not restart the domain on the destination host",
            ),
            b(
                "copy-storage-all",
                "migration with non-shared storage with full disk copy",
            ),
            b(
                "copy-storage-inc",
                "migration with non-shared storage with incremental copy (same base image shared between source and destination)",
            ),
            b(
                "change-protection",
                "prevent any configuration changes to domain until migration ends",
            ),
            b("unsafe", "force migration even if it may be unsafe"),
            b("verbose", "display the progress of migration"),
            b(
                "compressed",
                "compress repeated pages during live migration",
            ),
            b("auto-converge", "force convergence during live migration"),
            b(
                "rdma-pin-all",
                "pin all memory before starting RDMA live migration",
            ),
            b("abort-on-error", "abort on soft errors during migration"),
            b(
                "postcopy",
                "enable post-copy migration; switch to it using migrate-postcopy command",
            ),
            b(
                "postcopy-after-precopy",
                "automatically switch to post-copy migration after one pass of pre-copy",
            ),
            b("postcopy-resume", "resume failed post-copy migration"),
            b(
                "zerocopy",
                "use zero-copy mechanism for migrating memory pages",
            ),
            req("domain", "domain name, id or uuid"),
            req(
                "desturi",
                "connection URI of the destination host as seen from the client(normal migration) or source(p2p migration)",
            ),
            opt("migrateuri", "migration URI, usually can be omitted"),
            opt(
                "graphicsuri",
                "graphics URI to be used for seamless graphics migration",
            ),
            opt(
                "listen-address",
                "listen address that destination should bind to for incoming migration",
            ),
            opt(
                "dname",
                "rename to new name during migration (if supported)",
            ),
            i(
                "timeout",
                "run action specified by --timeout-* option (suspend by default) if live migration exceeds timeout (in seconds)",
            ),
            b("timeout-suspend", "suspend the guest after timeout"),
            b("timeout-postcopy", "switch to post-copy after timeout"),
            s("xml", "filename containing updated XML for the target"),
            s(
                "migrate-disks",
                "comma separated list of disks to be migrated",
            ),
            i(
                "disks-port",
                "port to use by target server for incoming disks migration",
            ),
            s(
                "disks-uri",
                "URI to use for disks migration (overrides --disks-port)",
            ),
            s(
                "comp-methods",
                "comma separated list of compression methods to be used",
            ),
            i(
                "comp-mt-level",
                "compress level for multithread compression",
            ),
            i(
                "comp-mt-threads",
                "number of compression threads for multithread compression",
            ),
            i(
                "comp-mt-dthreads",
                "number of decompression threads for multithread compression",
            ),
            i(
                "comp-xbzrle-cache",
                "page cache size for xbzrle compression",
            ),
            i(
                "auto-converge-initial",
                "initial CPU throttling rate for auto-convergence",
            ),
            i(
                "auto-converge-increment",
                "CPU throttling rate increment for auto-convergence",
            ),
            s(
                "persistent-xml",
                "filename containing updated persistent XML for the target",
            ),
            b("tls", "use TLS for migration"),
            i(
                "postcopy-bandwidth",
                "post-copy migration bandwidth limit in MiB/s",
            ),
            b("parallel", "enable parallel migration"),
            i(
                "parallel-connections",
                "number of connections for parallel migration",
            ),
            i("bandwidth", "migration bandwidth limit in MiB/s"),
            s(
                "tls-destination",
                "override the destination host name used for TLS verification",
            ),
            b(
                "copy-storage-synchronous-writes",
                "force guest disk writes to be synchronously written to the destination to improve storage migration convergence",
            ),
            i(
                "available-switchover-bandwidth",
                "allow to override the bandwidth available for the switchover in MiB/s",
            ),
        ],
    },
    Def {
        name: "migrate-getmaxdowntime",
        group: "Domain Management",
        help: "get maximum tolerable downtime",
        desc: "Get maximum tolerable downtime of a domain which is being live-migrated to another host.",
        opts: &[DOMAIN],
    },
    Def {
        name: "migrate-getspeed",
        group: "Domain Management",
        help: "Get the maximum migration bandwidth",
        desc: "Get the maximum migration bandwidth (in MiB/s) for a domain.",
        opts: &[DOMAIN, b("postcopy", "get post-copy migration bandwidth")],
    },
    Def {
        name: "migrate-postcopy",
        group: "Domain Management",
        help: "Switch running migration from pre-copy to post-copy",
        desc: "Switch running migration from pre-copy to post-copy. The migration must have been started with --postcopy option.",
        opts: &[DOMAIN],
    },
    Def {
        name: "migrate-setmaxdowntime",
        group: "Domain Management",
        help: "set maximum tolerable downtime",
        desc: "Set maximum tolerable downtime of a domain which is being live-migrated to another host.",
        opts: &[
            DOMAIN,
            req_int(
                "downtime",
                "maximum tolerable downtime (in milliseconds) for migration",
            ),
        ],
    },
    Def {
        name: "migrate-setspeed",
        group: "Domain Management",
        help: "Set the maximum migration bandwidth",
        desc: "Set the maximum migration bandwidth (in MiB/s) for a domain which is being migrated to another host.",
        opts: &[
            DOMAIN,
            req_int("bandwidth", "migration bandwidth limit in MiB/s"),
            b("postcopy", "set post-copy migration bandwidth"),
        ],
    },
    Def {
        name: "shutdown",
        group: "Domain Management",
        help: "gracefully shutdown a domain",
        desc: "Run shutdown in the target domain.",
        opts: &[
            DOMAIN,
            s("mode", "shutdown mode: acpi|agent|initctl|signal|paravirt"),
        ],
    },
    Def {
        name: "start",
        group: "Domain Management",
        help: "start a (previously defined) inactive domain",
        desc: "Start a domain, either from the last managedsave\n    state, or via a fresh boot if no managedsave state\n    is present.",
        opts: &[
            DOMAIN,
            b("console", "attach to console after creation"),
            b("paused", "leave the guest paused after creation"),
            b(
                "autodestroy",
                "automatically destroy the guest when virsh disconnects",
            ),
            b("bypass-cache", "avoid file system cache when loading"),
            b(
                "force-boot",
                "force fresh boot by discarding any managed save",
            ),
        ],
    },
    Def {
        name: "undefine",
        group: "Domain Management",
        help: "undefine a domain",
        desc: "Undefine an inactive domain, or convert persistent to transient.",
        opts: &[
            DOMAIN,
            b("managed-save", "remove domain managed state file"),
            b(
                "snapshots-metadata",
                "remove all domain snapshot metadata, if inactive",
            ),
            b("nvram", "remove nvram file"),
            b("keep-nvram", "keep nvram file"),
            b(
                "remove-all-storage",
                "remove all associated storage volumes (use with caution)",
            ),
        ],
    },
    Def {
        name: "domifaddr",
        group: "Domain Monitoring",
        help: "Get network interfaces' addresses for a running domain",
        desc: "Get network interfaces' addresses for a running domain",
        opts: &[
            DOMAIN,
            s("interface", "network interface name"),
            b("full", "always display names and MACs of interfaces"),
            s("source", "address source: 'lease', 'agent', or 'arp'"),
        ],
    },
    Def {
        name: "dominfo",
        group: "Domain Monitoring",
        help: "domain information",
        desc: "Returns basic information about the domain.",
        opts: &[DOMAIN],
    },
    Def {
        name: "domstate",
        group: "Domain Monitoring",
        help: "domain state",
        desc: "Returns state about a domain.",
        opts: &[DOMAIN, b("reason", "also print reason for the state")],
    },
    Def {
        name: "list",
        group: "Domain Monitoring",
        help: "list domains",
        desc: "Returns list of domains.",
        opts: &[
            b("inactive", "list inactive domains"),
            b("all", "list inactive & active domains"),
            b("transient", "list transient domains"),
            b("persistent", "list persistent domains"),
            b("state-running", "list domains in running state"),
            b("state-paused", "list domains in paused state"),
            b("state-shutoff", "list domains in shutoff state"),
            b("uuid", "list uuid's only"),
            b("name", "list domain names only"),
            b("id", "list domain IDs only"),
            b("table", "list table (default)"),
        ],
    },
    Def {
        name: "capabilities",
        group: "Host and Hypervisor",
        help: "capabilities",
        desc: "Returns capabilities of hypervisor/driver.",
        opts: &[
            s("xpath", "xpath expression to filter the XML document"),
            b("wrap", "wrap xpath results in an common root element"),
        ],
    },
    Def {
        name: "cpu-baseline",
        group: "Host and Hypervisor",
        help: "compute baseline CPU",
        desc: "Compute baseline CPU for a set of given CPUs.",
        opts: BASELINE_OPTS,
    },
    Def {
        name: "hypervisor-cpu-baseline",
        group: "Host and Hypervisor",
        help: "compute baseline CPU usable by a specific hypervisor",
        desc: "Compute baseline CPU for a set of given CPUs. The result will be tailored to the specified hypervisor.",
        opts: BASELINE_OPTS,
    },
    Def {
        name: "domcapabilities",
        group: "Host and Hypervisor",
        help: "domain capabilities",
        desc: "Returns capabilities of emulator with respect to host and libvirt.",
        opts: &[],
    },
    Def {
        name: "cpu-compare",
        group: "Host and Hypervisor",
        help: "compare host CPU with a CPU described by an XML file",
        desc: "compare CPU with host CPU",
        opts: &[
            FILE,
            b("error", "report error if CPUs are incompatible"),
            b("validate", "validate the XML document against schema"),
        ],
    },
    Def {
        name: "hostname",
        group: "Host and Hypervisor",
        help: "print the hypervisor hostname",
        desc: "",
        opts: &[],
    },
    Def {
        name: "hypervisor-cpu-compare",
        group: "Host and Hypervisor",
        help: "compare a CPU with the CPU created by a hypervisor on the host",
        desc: "compare CPU with hypervisor CPU",
        opts: &[
            FILE,
            s("virttype", "virtualization type (/domain/@type)"),
            s(
                "emulator",
                "path to emulator binary (/domain/devices/emulator)",
            ),
            s("arch", "CPU architecture (/domain/os/type/@arch)"),
            s("machine", "machine type (/domain/os/type/@machine)"),
            b("error", "report error if CPUs are incompatible"),
            b("validate", "validate the XML document against schema"),
        ],
    },
    Def {
        name: "nodeinfo",
        group: "Host and Hypervisor",
        help: "node information",
        desc: "Returns basic information about the node.",
        opts: &[],
    },
    Def {
        name: "uri",
        group: "Host and Hypervisor",
        help: "print the hypervisor canonical URI",
        desc: "",
        opts: &[],
    },
    Def {
        name: "version",
        group: "Host and Hypervisor",
        help: "show version",
        desc: "Display the system version information.",
        opts: &[b("daemon", "report daemon version too")],
    },
    Def {
        name: "help",
        group: "Virsh itself",
        help: "print help",
        desc: "Prints global help, command specific help, or help for a\n    group of related commands",
        opts: &[opt(
            "command",
            "Prints global help, command specific help, or help for a group of related commands",
        )],
    },
];

/// The command named `name`.
pub(crate) fn find(name: &str) -> Option<&'static Def> {
    COMMANDS.iter().find(|d| d.name == name)
}

/// The option `--name` of `def`, with an alias resolved to the option it stands for.
pub(crate) fn option(def: &'static Def, name: &str) -> Option<&'static Opt> {
    let o = def.opts.iter().find(|o| o.name == name)?;
    if o.kind == Kind::Alias {
        return def
            .opts
            .iter()
            .find(|t| t.name == o.help && t.kind != Kind::Alias);
    }
    Some(o)
}

/// Parsed options of one command.
#[derive(Debug, Clone, Default)]
pub(crate) struct Args {
    values: BTreeMap<&'static str, String>,
    /// `--help` was given.
    pub help: bool,
}

impl Args {
    /// Was the boolean (or any) option given?
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
    /// The value of an option.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}

/// Parse `args` for `def` as vsh does. Errors are the lines vsh prints (without `error: `).
pub(crate) fn parse(def: &'static Def, args: &[String]) -> Result<Args, String> {
    let mut out = Args::default();
    let mut positional_only = false;
    let mut i = 0;
    let assign_positional = |out: &mut Args, val: &str| -> Result<(), String> {
        let next = def
            .opts
            .iter()
            .find(|o| o.pos != Pos::Named && !out.values.contains_key(o.name));
        match next {
            Some(o) => {
                out.values.insert(o.name, val.to_string());
                Ok(())
            }
            None if def.name == "help" => Ok(()),
            None => Err(format!("unexpected data '{val}'")),
        }
    };
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if positional_only || !a.starts_with("--") {
            assign_positional(&mut out, a)?;
            continue;
        }
        if a == "--" {
            positional_only = true;
            continue;
        }
        let body = &a[2..];
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        if name == "help" {
            out.help = true;
            continue;
        }
        let Some(o) = option(def, name) else {
            if def.name == "help" {
                continue;
            }
            return Err(format!(
                "command '{}' doesn't support option --{name}",
                def.name
            ));
        };
        // vsh names the option an alias stands for when it reports a repeat.
        let name = o.name;
        if out.values.contains_key(name) {
            return Err(format!("option --{name} already seen"));
        }
        match o.kind {
            Kind::Bool => {
                if inline.is_some() {
                    return Err(format!("invalid '=' after option --{name}"));
                }
                out.values.insert(o.name, String::new());
            }
            // `option` never returns an alias.
            Kind::Str | Kind::Int | Kind::Alias => {
                let value = match inline {
                    Some(v) => v,
                    None => match args.get(i) {
                        Some(v) => {
                            i += 1;
                            v.clone()
                        }
                        None => {
                            let what = if o.kind == Kind::Int {
                                "number"
                            } else {
                                "string"
                            };
                            return Err(format!("expected syntax: --{name} <{what}>"));
                        }
                    },
                };
                out.values.insert(o.name, value);
            }
        }
    }
    if out.help {
        return Ok(out);
    }
    if let Some(o) = def
        .opts
        .iter()
        .find(|o| o.pos == Pos::Required && !out.values.contains_key(o.name))
    {
        return Err(format!(
            "command '{}' requires <{}> option",
            def.name, o.name
        ));
    }
    Ok(out)
}

/// `virsh help CMD` / `virsh CMD --help`, laid out as vshCmddefHelp does.
pub(crate) fn help_text(def: &Def) -> String {
    let mut out = format!(
        "  NAME\n    {} - {}\n\n  SYNOPSIS\n    {}",
        def.name, def.help, def.name
    );
    for o in def.opts {
        match (o.kind, o.pos) {
            // vsh leaves aliases out of the help.
            (Kind::Alias, _) => {}
            (Kind::Bool, _) => out.push_str(&format!(" [--{}]", o.name)),
            (_, Pos::Required) => out.push_str(&format!(" <{}>", o.name)),
            (_, Pos::Positional) => out.push_str(&format!(" [<{}>]", o.name)),
            (Kind::Int, Pos::Named) => out.push_str(&format!(" [--{} <number>]", o.name)),
            (Kind::Str, Pos::Named) => out.push_str(&format!(" [--{} <string>]", o.name)),
        }
    }
    out.push('\n');
    if !def.desc.is_empty() {
        out.push_str(&format!("\n  DESCRIPTION\n    {}\n", def.desc));
    }
    if !def.opts.is_empty() {
        out.push_str("\n  OPTIONS\n");
        for o in def.opts {
            let left = match (o.kind, o.pos) {
                (Kind::Alias, _) => continue,
                (Kind::Bool, _) => format!("--{}", o.name),
                (Kind::Int, Pos::Named) => format!("--{} <number>", o.name),
                (Kind::Str, Pos::Named) => format!("--{} <string>", o.name),
                (Kind::Int, _) => format!("[--{}] <number>", o.name),
                (Kind::Str, _) => format!("[--{}] <string>", o.name),
            };
            out.push_str(&format!("    {left:<15}  {}\n", o.help));
        }
    }
    out
}

/// `virsh help`: every group and its commands.
pub(crate) fn help_all() -> String {
    let mut out = String::from("Grouping of commands:\n\n");
    for (title, keyword) in GROUPS {
        out.push_str(&format!(" {title} (help keyword '{keyword}'):\n"));
        for d in COMMANDS.iter().filter(|d| d.group == *title) {
            out.push_str(&format!("    {:<30} {}\n", d.name, d.help));
        }
        out.push('\n');
    }
    out
}

/// `virsh help GROUP`.
pub(crate) fn help_group(keyword: &str) -> Option<String> {
    let (title, kw) = GROUPS
        .iter()
        .find(|(t, k)| *k == keyword || t.eq_ignore_ascii_case(keyword))?;
    let mut out = format!(" {title} (help keyword '{kw}'):\n");
    for d in COMMANDS.iter().filter(|d| d.group == *title) {
        out.push_str(&format!("    {:<30} {}\n", d.name, d.help));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn p(cmd: &str, args: &[&str]) -> Result<Args, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse(find(cmd).unwrap(), &args)
    }

    #[test]
    fn the_lessons_migrate_command_parses() {
        let a = p(
            "migrate",
            &[
                "--live",
                "db01",
                "qemu+ssh://kvm-host-02/system",
                "--persistent",
            ],
        )
        .unwrap();
        assert!(a.has("live") && a.has("persistent") && !a.has("unsafe"));
        assert_eq!(a.get("domain"), Some("db01"));
        assert_eq!(a.get("desturi"), Some("qemu+ssh://kvm-host-02/system"));
        let a = p(
            "migrate",
            &["--domain=db01", "--desturi", "x", "--bandwidth=10"],
        )
        .unwrap();
        assert_eq!(a.get("bandwidth"), Some("10"));
    }

    #[test]
    fn errors_are_worded_as_vsh_words_them() {
        assert_eq!(
            p("migrate", &["--x", "db01"]).unwrap_err(),
            "command 'migrate' doesn't support option --x"
        );
        assert_eq!(
            p("migrate", &["db01"]).unwrap_err(),
            "command 'migrate' requires <desturi> option"
        );
        assert_eq!(
            p("migrate", &["db01", "u", "--bandwidth"]).unwrap_err(),
            "expected syntax: --bandwidth <number>"
        );
        assert_eq!(
            p("migrate", &["--live=1", "db01", "u"]).unwrap_err(),
            "invalid '=' after option --live"
        );
        assert_eq!(
            p("dominfo", &["db01", "extra"]).unwrap_err(),
            "unexpected data 'extra'"
        );
        assert_eq!(
            p("list", &["--all", "--all"]).unwrap_err(),
            "option --all already seen"
        );
        assert!(p("migrate", &["--help"]).unwrap().help);
    }

    #[test]
    fn help_lists_the_synopsis() {
        let h = help_text(find("migrate-setspeed").unwrap());
        assert!(
            h.contains("migrate-setspeed <domain> <bandwidth> [--postcopy]"),
            "{h}"
        );
        assert!(
            help_all()
                .contains("    migrate                        migrate domain to another host")
        );
        assert!(help_group("host").is_some() && help_group("nope").is_none());
    }
}
