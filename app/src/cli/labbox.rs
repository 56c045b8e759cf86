//! `migralab labbox`: the lab in a box, two real libvirt hosts in Linux namespaces on this
//! machine (see `migralab_real::labbox`). This module only parses, calls the library and prints.

use anyhow::Context as _;
use clap::{Args, Subcommand};
use migralab_real::labbox::{
    self, Fault, GuestSpec, LabboxConfig as LabPaths, LabboxStatus, names,
};
use migralab_sim_core::term;
use std::process::ExitCode;

/// `migralab labbox --help`.
pub const LABBOX_LONG_ABOUT: &str = "\
Build the lab in a box: two real libvirt/QEMU hosts in Linux namespaces on this one machine, so \
the lesson's `virsh migrate` runs for real. Needs root and Debian 12 with libvirt and QEMU from \
bookworm-backports (`up` names any missing package).

What `up` builds:
  lab-sw       the lab switch (a bridge in its own network namespace)
  kvm-host-01  10.77.0.1, bridge br0, its own libvirtd, virtlogd and sshd (the source)
  kvm-host-02  10.77.0.2, the same (the destination; faults are injected here)
  lab-client   10.77.0.100, where you ping the guest from
  db01         10.77.0.10, a small Linux guest (TCG) running on kvm-host-01
Both hosts see one shared directory at /var/lib/libvirt/images (the stand-in for NFS), trust \
each other's root SSH keys and know each other by name, as the lesson's prerequisites ask. The \
root namespace's network and the real /root/.ssh are never touched.

Example session:
  migralab labbox up
  migralab labbox sh kvm-host-01 virsh list
  migralab ping 10.77.0.10 --netns lab-client --duration 20 &
  migralab labbox sh kvm-host-01 \\
      virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent
  migralab labbox sh kvm-host-02 virsh list
  migralab labbox break ssh-trust     # then migrate again and read libvirt's error
  migralab labbox fix ssh-trust
  migralab labbox guest --ram 512 --working-set 128 --dirty-rate 64   # a busier guest
  migralab labbox down

Faults (break/fix, all on kvm-host-02):
  shared-storage  unmount the shared images directory
  bridge          delete br0 (the host keeps its IP and MAC on the uplink)
  ssh-trust       empty root's authorized keys
  cpu             QEMU turns avx2 off; db01's CPU requires it
  firewall        reject TCP 49152-49215 (the migration ports) with a TCP reset

Exit codes: 0 ok, 2 error; `sh` exits with its command's code.";

/// Options of `migralab labbox`.
#[derive(Debug, Args)]
pub struct LabboxArgs {
    #[command(subcommand)]
    command: LabboxCommand,
}

#[derive(Debug, Subcommand)]
enum LabboxCommand {
    /// Build the lab and start db01 on kvm-host-01 (does nothing if it is already up).
    Up(GuestArgs),
    /// Remove everything `up` made and check that nothing is left.
    Down,
    /// Show the hosts, their daemons and libvirt URIs, where db01 runs and the broken faults.
    Status {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Break one prerequisite on kvm-host-02: shared-storage, bridge, ssh-trust, cpu, firewall.
    Break {
        /// The fault
        #[arg(value_name = "WHAT")]
        what: String,
    },
    /// Fix a fault `break` made.
    Fix {
        /// The fault
        #[arg(value_name = "WHAT")]
        what: String,
    },
    /// The storage layout: `shared` (one images directory on both hosts, the default) or
    /// `local` (each host its own: migrate with --copy-storage-all). db01 must be on kvm-host-01.
    Storage {
        /// shared or local
        #[arg(value_name = "LAYOUT")]
        layout: String,
    },
    /// Recreate db01 on kvm-host-01 with another size or workload (unset options keep theirs).
    Guest(GuestArgs),
    /// Run a command on a lab host (kvm-host-01, kvm-host-02, lab-client); a shell without one.
    Sh {
        /// The host
        #[arg(value_name = "HOST")]
        host: String,
        /// The command and its arguments
        #[arg(
            value_name = "CMD",
            trailing_var_arg = true,
            allow_hyphen_values = true
        )]
        command: Vec<String>,
    },
}

#[derive(Debug, Args)]
struct GuestArgs {
    /// Guest RAM, MiB [default: 256]
    #[arg(long, value_name = "MIB")]
    ram: Option<u64>,
    /// Memory the guest keeps rewriting, MiB [default: 0, idle]
    #[arg(long, value_name = "MIB")]
    working_set: Option<u64>,
    /// How fast it rewrites it, MiB/s [default: 0]
    #[arg(long, value_name = "MIBPS")]
    dirty_rate: Option<u64>,
    /// No disk (by default db01 has a small qcow2 on the shared storage)
    #[arg(long)]
    no_disk: bool,
}

impl GuestArgs {
    /// The spec: the options given, the rest from `base`.
    fn spec(&self, base: GuestSpec) -> GuestSpec {
        GuestSpec {
            ram_mib: self.ram.unwrap_or(base.ram_mib),
            working_set_mib: self.working_set.unwrap_or(base.working_set_mib),
            dirty_rate_mibps: self.dirty_rate.unwrap_or(base.dirty_rate_mibps),
            disk: !self.no_disk && base.disk,
        }
    }
}

/// A validated `migralab labbox`.
#[derive(Debug)]
pub struct LabboxConfig {
    paths: LabPaths,
    action: Action,
}

#[derive(Debug)]
enum Action {
    Up(GuestArgs),
    Down,
    Status { json: bool },
    Break(Fault),
    Fix(Fault),
    Storage(labbox::storage::Storage),
    Guest(GuestArgs),
    Sh { host: String, command: Vec<String> },
}

impl LabboxConfig {
    /// Check the arguments (fault and host names).
    pub fn from_args(args: LabboxArgs) -> anyhow::Result<LabboxConfig> {
        let action = match args.command {
            LabboxCommand::Up(g) => Action::Up(g),
            LabboxCommand::Down => Action::Down,
            LabboxCommand::Status { json } => Action::Status { json },
            LabboxCommand::Break { what } => Action::Break(what.parse()?),
            LabboxCommand::Fix { what } => Action::Fix(what.parse()?),
            LabboxCommand::Storage { layout } => Action::Storage(layout.parse()?),
            LabboxCommand::Guest(g) => Action::Guest(g),
            LabboxCommand::Sh { host, command } => {
                if names::host(&host).is_none() && host != names::CLIENT_NS {
                    return Err(labbox::LabboxError::UnknownHost(host).into());
                }
                Action::Sh { host, command }
            }
        };
        Ok(LabboxConfig {
            paths: LabPaths::default(),
            action,
        })
    }
}

/// Do it.
pub fn run(config: LabboxConfig) -> anyhow::Result<ExitCode> {
    let paths = &config.paths;
    let mut progress = |step: &str| eprintln!("  {}", term::escape_text(step));
    match config.action {
        Action::Up(g) => {
            let spec = g.spec(GuestSpec::default());
            let start = std::time::Instant::now();
            let status = labbox::up(paths, &spec, &mut progress).context("labbox up")?;
            eprintln!("  ({:.1} s)", start.elapsed().as_secs_f64());
            print(&human(&status))?;
        }
        Action::Down => labbox::down(paths, &mut progress).context("labbox down")?,
        Action::Status { json } => {
            let status = labbox::status(paths).context("labbox status")?;
            if json {
                let mut s =
                    serde_json::to_string_pretty(&status).context("cannot serialise the status")?;
                s.push('\n');
                print(&s)?;
            } else {
                print(&human(&status))?;
            }
        }
        Action::Break(f) => {
            labbox::break_fault(paths, f).with_context(|| format!("labbox break {f}"))?;
            print(&format!(
                "broke {f} on kvm-host-02: {}.\nA migration to kvm-host-02 now fails with: {}\n\
                 Fix it with: migralab labbox fix {f}\n",
                f.what(),
                f.expected_error()
            ))?;
        }
        Action::Fix(f) => {
            labbox::fix_fault(paths, f).with_context(|| format!("labbox fix {f}"))?;
            print(&format!("fixed {f} on kvm-host-02\n"))?;
        }
        Action::Storage(layout) => {
            let status = labbox::set_storage(paths, layout).context("labbox storage")?;
            print(&human(&status))?;
        }
        Action::Guest(g) => {
            let base = labbox::status(paths)
                .ok()
                .and_then(|s| s.guest.map(|g| g.spec))
                .unwrap_or_default();
            let spec = g.spec(base);
            eprintln!("  recreating db01 on kvm-host-01");
            labbox::set_guest(paths, &spec).context("labbox guest")?;
            print(&human(&labbox::status(paths).context("labbox status")?))?;
        }
        Action::Sh { host, command } => {
            let (program, rest) = match command.split_first() {
                Some((p, rest)) => (p.clone(), rest.to_vec()),
                None => ("bash".to_owned(), Vec::new()),
            };
            let mut cmd = labbox::host_command(paths, &host, &program)
                .with_context(|| format!("labbox sh {host}"))?;
            let status = cmd
                .args(&rest)
                .status()
                .with_context(|| format!("cannot run {program} on {host}"))?;
            return Ok(ExitCode::from(exit_code(status)));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The command's exit code, or 128 + the signal that killed it (as shells report it).
fn exit_code(status: std::process::ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c).unwrap_or(1),
        (None, Some(sig)) => u8::try_from(128 + sig).unwrap_or(1),
        (None, None) => 1,
    }
}

/// Print to stdout with control and bidi characters escaped (paths and names come from the
/// machine); a closed pipe is not an error.
fn print(text: &str) -> anyhow::Result<()> {
    super::write_text(text).context("cannot write to standard output")
}

/// The status as a student reads it.
fn human(s: &LabboxStatus) -> String {
    if s.hosts.is_empty() {
        return "the lab in a box is down (migralab labbox up builds it)\n".into();
    }
    let mut out = format!(
        "lab in a box: {}\n",
        if s.up {
            "up"
        } else {
            "NOT complete (migralab labbox up repairs it)"
        }
    );
    for h in &s.hosts {
        let daemons: Vec<String> = h
            .daemons
            .iter()
            .map(|(name, pid)| match pid {
                Some(p) => format!("{name} {p}"),
                None => format!("{name} NOT RUNNING"),
            })
            .collect();
        out.push_str(&format!(
            "{}  {}  {}\n  from this machine:  {}\n  from the other host: {}\n",
            h.name,
            h.address,
            daemons.join(", "),
            term::shell_line(["virsh", "-c", &h.socket_uri]),
            h.ssh_uri
        ));
    }
    match &s.guest {
        Some(g) => out.push_str(&format!(
            "{}  {}  {}  ({} MiB RAM, working set {} MiB at {} MiB/s, {})\n",
            g.name,
            g.address,
            g.running_on
                .as_deref()
                .map(|h| format!("running on {h}"))
                .unwrap_or_else(|| "not running".into()),
            g.spec.ram_mib,
            g.spec.working_set_mib,
            g.spec.dirty_rate_mibps,
            if g.spec.disk { "disk" } else { "no disk" }
        )),
        None => out.push_str("db01 is not defined\n"),
    }
    out.push_str(match s.storage {
        labbox::storage::Storage::Shared => {
            "storage: shared (one images directory on both hosts, as the lesson's NFS)\n"
        }
        labbox::storage::Storage::Local => {
            "storage: local (each host its own images directory: migrate with --copy-storage-all)\n"
        }
    });
    if s.faults.is_empty() {
        out.push_str("faults broken on kvm-host-02: none\n");
    } else {
        let f: Vec<String> = s.faults.iter().map(ToString::to_string).collect();
        out.push_str(&format!("faults broken on kvm-host-02: {}\n", f.join(", ")));
    }
    out
}
