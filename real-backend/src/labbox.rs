//! # Lab in a box
//!
//! Two real libvirt hosts on this one machine, built from Linux namespaces, so the lesson's
//! command works unchanged:
//!
//! ```text
//! migralab labbox sh kvm-host-01 virsh migrate --live db01 qemu+ssh://kvm-host-02/system --persistent
//! ```
//!
//! - `lab-sw`: a network namespace with a bridge, the lab switch; veth cables join it to
//!   `kvm-host-01` (10.77.0.1), `kvm-host-02` (10.77.0.2) and `lab-client` (10.77.0.100).
//! - Each host: its own network, mount and UTS namespaces (pinned to files in the state dir), a
//!   `br0` carrying its address, a fresh sysfs, private /run, /etc/libvirt, /var/lib/libvirt,
//!   /etc/ssh, /etc/hosts, and its own `virtlogd`, `libvirtd` and `sshd`. One directory is
//!   bind-mounted at /var/lib/libvirt/images on both: the shared storage.
//! - The guest `db01` (10.77.0.10): Debian's cloud kernel and a busybox initramfs under TCG,
//!   optionally rewriting a working set at a chosen rate (see [`GuestSpec`]).
//! - [`Fault`]s break one prerequisite on kvm-host-02 each, and are fixed exactly.
//!
//! Everything is driven through the system's tools (`ip`, `nsenter`, `unshare`, `mount`,
//! `virsh`...), every error names the command that failed and its stderr, and everything made
//! is recorded in the state dir before it is made, so [`down`] cleans up after a crash too. The
//! root namespace's network, the real /root/.ssh and anything not the lab's are never touched.
//!
//! The recipe (every setting and why) is `shared/reference/labbox.md`.

use serde::Serialize;
use std::net::Ipv4Addr;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod daemons;
mod faults;
mod guest;
mod hostfiles;
mod mounts;
pub mod names;
mod netns;
pub mod packages;
mod run;
mod state;
pub mod storage;
mod teardown;

pub use faults::Fault;
use mounts::HostDirs;
use names::{CLIENT_NS, GUEST_ADDR, GUEST_NAME, HOSTS, SOURCE};

/// Where the lab keeps its state and its cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabboxConfig {
    /// What `up` made (namespace pins, each host's private directories, the shared storage).
    /// Removed by `down`.
    pub state_dir: PathBuf,
    /// The guest kernel and initramfs and libvirt's QEMU capabilities: kept across `down`.
    pub cache_dir: PathBuf,
}

impl Default for LabboxConfig {
    fn default() -> LabboxConfig {
        LabboxConfig {
            state_dir: PathBuf::from("/run/migralab-labbox"),
            cache_dir: PathBuf::from("/var/cache/migralab/labbox"),
        }
    }
}

/// The guest's size and workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GuestSpec {
    /// Guest RAM.
    pub ram_mib: u64,
    /// Memory the guest keeps rewriting (0: idle).
    pub working_set_mib: u64,
    /// How fast it rewrites it, MiB/s (0: idle).
    pub dirty_rate_mibps: u64,
    /// A small qcow2 disk in the shared storage (`cache='none'`).
    pub disk: bool,
}

impl Default for GuestSpec {
    fn default() -> GuestSpec {
        GuestSpec {
            ram_mib: 256,
            working_set_mib: 0,
            dirty_rate_mibps: 0,
            disk: true,
        }
    }
}

/// RAM the guest's kernel and busybox need besides the working set.
const GUEST_BASE_MIB: u64 = 96;

impl GuestSpec {
    /// The working set (and the random buffer it is copied from, a quarter of a second of the
    /// rate) must fit in RAM beside the kernel.
    pub fn validate(&self) -> Result<(), LabboxError> {
        let buffer = self.dirty_rate_mibps.min(self.working_set_mib * 4) / 4;
        let need = self.working_set_mib + buffer + GUEST_BASE_MIB;
        if self.ram_mib < 128 || self.ram_mib > 8192 {
            return Err(LabboxError::Guest(format!(
                "RAM of {} MiB is outside 128..=8192 MiB",
                self.ram_mib
            )));
        }
        if self.working_set_mib > 0 && need > self.ram_mib {
            return Err(LabboxError::Guest(format!(
                "a working set of {} MiB at {} MiB/s needs at least {need} MiB of RAM, not {}",
                self.working_set_mib, self.dirty_rate_mibps, self.ram_mib
            )));
        }
        Ok(())
    }
}

/// What went wrong. Every variant about a command names it and carries its stderr.
#[derive(Debug, thiserror::Error)]
pub enum LabboxError {
    /// The lab needs root.
    #[error(
        "the lab in a box needs root (namespaces, mounts, daemons): run it as root or with sudo"
    )]
    NotRoot,
    /// Programs or packages are missing.
    #[error(
        "the lab in a box needs: {}. Install them with apt-get (libvirt and QEMU with -t bookworm-backports)",
        .0.join(", ")
    )]
    Missing(Vec<String>),
    /// A command ran and failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// A command could not be started.
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file operation failed.
    #[error("{what} {}: {source}", .path.display())]
    Io {
        /// What was being done.
        what: String,
        /// On which path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Something did not happen in time.
    #[error("timed out after {secs} s waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        secs: u64,
    },
    /// A fault name that is not one of the lab's.
    #[error("unknown fault `{0}`: the faults are {valid}", valid = faults::valid_names())]
    UnknownFault(String),
    /// A host name that is not one of the lab's.
    #[error("unknown host `{0}`: the lab's hosts are kvm-host-01, kvm-host-02 and lab-client")]
    UnknownHost(String),
    /// The lab is not (completely) up.
    #[error("the lab is not up ({0}): run `migralab labbox up`")]
    NotUp(String),
    /// The guest could not be made or does not answer.
    #[error("guest db01: {0}")]
    Guest(String),
    /// The storage layout cannot change now, or its name is unknown.
    #[error("storage layout: {0}")]
    Storage(String),
    /// `down` could not remove everything.
    #[error("the lab is not completely down; left: {}", .0.join("; "))]
    Leftovers(Vec<String>),
}

/// One host of the lab as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostStatus {
    /// Namespace and host name.
    pub name: String,
    /// Address on its `br0`.
    pub address: Ipv4Addr,
    /// Its libvirtd through the socket, usable from this machine (no SSH).
    pub socket_uri: String,
    /// Its libvirtd through SSH, usable from inside the other host.
    pub ssh_uri: String,
    /// libvirtd, virtlogd and sshd with their pids (None: not running).
    pub daemons: Vec<(String, Option<u32>)>,
}

/// The guest as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GuestStatus {
    /// `db01`.
    pub name: String,
    /// 10.77.0.10.
    pub address: Ipv4Addr,
    /// The host it runs on (None: defined but not running anywhere).
    pub running_on: Option<String>,
    /// Its size and workload.
    pub spec: GuestSpec,
}

/// The lab as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabboxStatus {
    /// Every namespace exists and every daemon runs.
    pub up: bool,
    /// The hosts whose namespaces exist.
    pub hosts: Vec<HostStatus>,
    /// The guest, once defined.
    pub guest: Option<GuestStatus>,
    /// The faults currently broken.
    pub faults: Vec<Fault>,
    /// Where the guest's disk lives: one directory both hosts see, or each host its own.
    pub storage: storage::Storage,
}

/// Build the lab (or return it as it is if it is already up), ending with db01 running and
/// answering ping from lab-client. A half-built lab (a crash, a killed `up`) is taken down
/// first. `progress` hears each step.
pub fn up(
    cfg: &LabboxConfig,
    guest: &GuestSpec,
    progress: &mut dyn FnMut(&str),
) -> Result<LabboxStatus, LabboxError> {
    packages::check()?;
    guest.validate()?;
    let made = state::read(&cfg.state_dir)?;
    if made.complete {
        let s = status(cfg)?;
        if s.up {
            progress("the lab is already up");
            return ensure_guest(cfg, guest, s, progress);
        }
        progress("the lab is broken (a daemon or namespace is gone): rebuilding it");
    }
    if made != state::Made::default() || names::all_netns().iter().any(|n| netns::exists(n)) {
        progress("found a half-built lab: taking it down first");
        teardown::down(cfg, progress)?;
    }
    build(cfg, guest, progress)?;
    state::record(&cfg.state_dir, "complete", "")?;
    let s = status(cfg)?;
    progress("the lab is up");
    Ok(s)
}

/// The lab was up already: start db01 if it runs nowhere, or rebuild it if its spec changed.
fn ensure_guest(
    cfg: &LabboxConfig,
    guest: &GuestSpec,
    s: LabboxStatus,
    progress: &mut dyn FnMut(&str),
) -> Result<LabboxStatus, LabboxError> {
    let same = s.guest.as_ref().is_some_and(|g| g.spec == *guest);
    let running = s.guest.as_ref().is_some_and(|g| g.running_on.is_some());
    if same && running {
        return Ok(s);
    }
    progress("starting db01 on kvm-host-01");
    set_guest(cfg, guest)?;
    status(cfg)
}

/// Everything `up` makes, in order; each step recorded before it is made.
fn build(
    cfg: &LabboxConfig,
    guest: &GuestSpec,
    progress: &mut dyn FnMut(&str),
) -> Result<(), LabboxError> {
    let sd = &cfg.state_dir;
    state::mkdir(sd)?;
    state::mkdir(&cfg.cache_dir)?;
    set_mode(sd, 0o755)?;
    // The guest first: the only step that may need the network, and nothing to undo if it fails.
    let kernel = guest::fetch_kernel(&cfg.cache_dir, progress)?;
    progress("building the guest's initramfs");
    let initrd = guest::initramfs(&kernel)?;
    fix_kvm(sd, progress)?;
    progress("creating namespace lab-sw (the lab switch)");
    netns::create_switch(sd)?;
    progress("creating namespace lab-client (10.77.0.100)");
    netns::create_client(sd)?;
    mounts::prepare_pin_dir(sd)?;
    let shared = sd.join("images");
    state::mkdir(&shared)?;
    set_mode(&shared, 0o755)?;
    let wrapper = cfg.cache_dir.join("qemu-system-x86_64.kvm-host-02");
    write_if_changed(&wrapper, hostfiles::qemu_wrapper().as_bytes(), 0o755)?;
    let mut all = Vec::new();
    for h in HOSTS {
        progress(&format!("creating namespace {} ({})", h.name, h.addr));
        netns::create_host(sd, &h)?;
        mounts::pin_host(sd, h.name)?;
        let dirs = HostDirs::of(sd, &cfg.cache_dir, h.name);
        hostfiles::write_host(&dirs, &h)?;
        progress(&format!("mounting {}'s private directories", h.name));
        mounts::mount_host(sd, &dirs, &shared, &h, &wrapper)?;
        all.push((dirs, h));
    }
    hostfiles::write_trust(&all)?;
    for (dirs, h) in &all {
        daemons::start(sd, dirs, h.name, progress)?;
    }
    progress("putting the guest's kernel on the shared storage");
    guest::publish(&kernel, &initrd, &shared)?;
    progress("defining and starting db01 on kvm-host-01");
    set_guest(cfg, guest)
}

/// Write `bytes` unless the file already holds them (keeping its ctime: libvirt keys its QEMU
/// capability cache on the binary's ctime, and the wrapper is kvm-host-02's QEMU binary).
fn write_if_changed(path: &Path, bytes: &[u8], mode: u32) -> Result<(), LabboxError> {
    if std::fs::read(path).ok().as_deref() != Some(bytes) {
        state::write_file(path, bytes)?;
    }
    let m = std::fs::metadata(path).map(|m| m.mode() & 0o7777).ok();
    if m != Some(mode) {
        set_mode(path, mode)?;
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), LabboxError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|source| {
        LabboxError::Io {
            what: "cannot chmod".into(),
            path: path.to_path_buf(),
            source,
        }
    })
}

/// `/dev/kvm` as Debian ships it (root:kvm 0660): at 0600, libvirt throws its QEMU capability
/// cache away on every call and each define or start takes 25-60 s. The original is recorded
/// for `down`.
fn fix_kvm(state_dir: &Path, progress: &mut dyn FnMut(&str)) -> Result<(), LabboxError> {
    let kvm = Path::new("/dev/kvm");
    let Ok(meta) = std::fs::metadata(kvm) else {
        return Ok(());
    };
    let gid = kvm_gid().unwrap_or(meta.gid());
    let (mode, uid) = (meta.mode() & 0o7777, meta.uid());
    state::record(state_dir, "kvm", &format!("{mode:o} {uid} {}", meta.gid()))?;
    if mode != 0o660 || uid != 0 || meta.gid() != gid {
        progress("setting /dev/kvm to root:kvm 0660 (restored by down)");
        std::os::unix::fs::chown(kvm, Some(0), Some(gid)).map_err(|source| LabboxError::Io {
            what: "cannot chown".into(),
            path: kvm.to_path_buf(),
            source,
        })?;
        set_mode(kvm, 0o660)?;
    }
    Ok(())
}

/// The `kvm` group's gid from /etc/group.
fn kvm_gid() -> Option<u32> {
    let group = std::fs::read_to_string("/etc/group").ok()?;
    group
        .lines()
        .find(|l| l.starts_with("kvm:"))?
        .split(':')
        .nth(2)?
        .parse()
        .ok()
}

/// Take the lab down: exactly what `up` made (as recorded), then check that no lab namespace,
/// process or mount is left.
pub fn down(cfg: &LabboxConfig, progress: &mut dyn FnMut(&str)) -> Result<(), LabboxError> {
    teardown::down(cfg, progress)
}

/// The lab as it is now (an empty status when it is down).
pub fn status(cfg: &LabboxConfig) -> Result<LabboxStatus, LabboxError> {
    let made = state::read(&cfg.state_dir)?;
    let mut hosts = Vec::new();
    let mut up = made.complete && netns::exists(names::SWITCH_NS) && netns::exists(CLIENT_NS);
    let mut running_on = None;
    let mut defined = false;
    for h in HOSTS {
        if !netns::exists(h.name) {
            up = false;
            continue;
        }
        let dirs = HostDirs::of(&cfg.state_dir, &cfg.cache_dir, h.name);
        let daemons = daemons::pids(&dirs);
        up &= daemons.iter().all(|(_, pid)| pid.is_some());
        let socket_uri = daemons::socket_uri(&dirs);
        if daemons.iter().any(|(n, p)| n == "libvirtd" && p.is_some()) {
            let st = guest::state_on(&socket_uri);
            defined |= st.is_some();
            if st.as_deref() == Some("running") {
                running_on = Some(h.name.to_owned());
            }
        }
        hosts.push(HostStatus {
            name: h.name.to_owned(),
            address: h.addr,
            ssh_uri: format!("qemu+ssh://{}/system", h.name),
            socket_uri,
            daemons,
        });
    }
    let guest = state::guest(&cfg.state_dir)
        .filter(|_| defined)
        .map(|spec| GuestStatus {
            name: GUEST_NAME.to_owned(),
            address: GUEST_ADDR,
            running_on,
            spec,
        });
    let storage = storage::current(&cfg.state_dir);
    // The local layout is made of the shared-storage fault's unmount: not a fault then.
    let faults = state::faults(&cfg.state_dir)
        .into_iter()
        .filter(|f| !(storage == storage::Storage::Local && *f == Fault::SharedStorage))
        .collect();
    Ok(LabboxStatus {
        up,
        hosts,
        guest,
        faults,
        storage,
    })
}

/// In the local layout there is no shared storage to break or fix.
fn local_storage_keeps(cfg: &LabboxConfig, f: Fault) -> Result<(), LabboxError> {
    if f == Fault::SharedStorage && storage::current(&cfg.state_dir) == storage::Storage::Local {
        return Err(LabboxError::Storage(
            "the hosts have local storage: there is no shared storage to break or fix (`migralab labbox storage shared` brings it back)".into(),
        ));
    }
    Ok(())
}

/// Switch the storage layout (see [`storage`]): db01 must run on kvm-host-01.
pub fn set_storage(
    cfg: &LabboxConfig,
    want: storage::Storage,
) -> Result<LabboxStatus, LabboxError> {
    require_up(cfg)?;
    let s = status(cfg)?;
    let on = s.guest.as_ref().and_then(|g| g.running_on.as_deref());
    storage::set(&cfg.state_dir, &cfg.cache_dir, on, want)?;
    status(cfg)
}

/// The storage layout now (a file read: cheap enough for every fact the app records).
pub fn storage_layout(cfg: &LabboxConfig) -> storage::Storage {
    storage::current(&cfg.state_dir)
}

/// Get the lab ready for one half of Sesi 2's first experiment: db01 back home on kvm-host-01
/// if it runs elsewhere (migrated live with `--persistent --undefinesource`, and with
/// `--copy-storage-all` in the local layout, where its disk lives only there), then the storage
/// layout `want` (see [`set_storage`]). What the app's "prepare the hosts" button does; every
/// step is what a person would type, said in the button's text.
pub fn prepare_storage(
    cfg: &LabboxConfig,
    want: storage::Storage,
) -> Result<LabboxStatus, LabboxError> {
    require_up(cfg)?;
    let s = status(cfg)?;
    if let Some(on) = s.guest.as_ref().and_then(|g| g.running_on.as_deref())
        && on != SOURCE
    {
        let mut c = mounts::in_host(&cfg.state_dir, on, "virsh");
        c.args(["migrate", "--live", "--persistent", "--undefinesource"]);
        if s.storage == storage::Storage::Local {
            c.arg("--copy-storage-all");
        }
        c.args([GUEST_NAME, &format!("qemu+ssh://{SOURCE}/system")]);
        c.stdin(std::process::Stdio::null());
        run::run_timeout(&mut c, Duration::from_secs(120))?;
    }
    set_storage(cfg, want)
}

/// The writer db01 was booted with: (working set MiB, rate MiB/s), `(0, 0)` when idle; `None`
/// before a guest was defined (a file read: cheap enough for every frame).
pub fn guest_writer(cfg: &LabboxConfig) -> Option<(u64, u64)> {
    state::guest(&cfg.state_dir).map(|g| (g.working_set_mib, g.dirty_rate_mibps))
}

/// [`prepare_storage`], then db01 rebooted with this writer (working set MiB, rate MiB/s) if it
/// runs another: what the app's "prepare the hosts" does for an experiment whose guest is busy
/// (the writer stands in for the scenario's database). The guest keeps its RAM and disk.
pub fn prepare_guest(
    cfg: &LabboxConfig,
    want: storage::Storage,
    writer: (u64, u64),
) -> Result<LabboxStatus, LabboxError> {
    let s = prepare_storage(cfg, want)?;
    if guest_writer(cfg) == Some(writer) {
        return Ok(s);
    }
    let current = state::guest(&cfg.state_dir).unwrap_or_default();
    let spec = GuestSpec {
        working_set_mib: writer.0,
        dirty_rate_mibps: writer.1,
        ..current
    };
    // A new guest is booted on the shared images directory (set_guest creates its disk there);
    // the layout asked for comes back after.
    if want == storage::Storage::Local {
        set_storage(cfg, storage::Storage::Shared)?;
    }
    set_guest(cfg, &spec)?;
    set_storage(cfg, want)
}

/// Destroy db01 wherever it runs, undefine it on both hosts, then define and start it on
/// kvm-host-01 with this size and workload, and wait until it answers ping from lab-client.
pub fn set_guest(cfg: &LabboxConfig, spec: &GuestSpec) -> Result<(), LabboxError> {
    spec.validate()?;
    require_up(cfg)?;
    for h in HOSTS {
        let dirs = HostDirs::of(&cfg.state_dir, &cfg.cache_dir, h.name);
        guest::remove_from(&daemons::socket_uri(&dirs))?;
    }
    let shared = cfg.state_dir.join("images");
    let disk = shared.join(guest::DISK_FILE);
    if spec.disk && !disk.exists() {
        run::run(
            run::command("qemu-img")
                .args(["create", "-q", "-f", "qcow2"])
                .arg(&disk)
                .arg("64M"),
        )?;
    }
    let xml = cfg.state_dir.join("db01.xml");
    state::write_file(&xml, guest::domain_xml(spec).as_bytes())?;
    state::set_guest(&cfg.state_dir, spec)?;
    let src = HostDirs::of(&cfg.state_dir, &cfg.cache_dir, SOURCE);
    guest::define_and_start(&daemons::socket_uri(&src), &xml)?;
    wait_for_ping(Duration::from_secs(90))
}

/// Ping db01 from lab-client until it answers.
fn wait_for_ping(limit: Duration) -> Result<(), LabboxError> {
    let deadline = Instant::now() + limit;
    let addr = GUEST_ADDR.to_string();
    loop {
        let mut cmd = run::command("nsenter");
        cmd.arg(format!("--net={}", netns::netns_path(CLIENT_NS).display()))
            .args(["ping", "-c1", "-W1", "-q", &addr]);
        let out = run::output(&mut cmd, Duration::from_secs(10))?;
        if out.status.success() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(LabboxError::Guest(format!(
                "does not answer ping from lab-client after {} s (on kvm-host-01 see \
                 /var/log/libvirt/qemu/db01-console.log and db01.log)",
                limit.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Fail unless every namespace and daemon is there.
fn require_up(cfg: &LabboxConfig) -> Result<(), LabboxError> {
    for n in names::all_netns() {
        if !netns::exists(n) {
            return Err(LabboxError::NotUp(format!("no namespace {n}")));
        }
    }
    for h in HOSTS {
        let dirs = HostDirs::of(&cfg.state_dir, &cfg.cache_dir, h.name);
        for (daemon, pid) in daemons::pids(&dirs) {
            if pid.is_none() {
                return Err(LabboxError::NotUp(format!(
                    "{daemon} is not running on {}",
                    h.name
                )));
            }
        }
    }
    Ok(())
}

/// Break one prerequisite on kvm-host-02 (see [`Fault`]).
pub fn break_fault(cfg: &LabboxConfig, f: Fault) -> Result<(), LabboxError> {
    require_up(cfg)?;
    local_storage_keeps(cfg, f)?;
    faults::break_it(&cfg.state_dir, &cfg.cache_dir, f)
}

/// Restore what [`break_fault`] broke, exactly.
pub fn fix_fault(cfg: &LabboxConfig, f: Fault) -> Result<(), LabboxError> {
    require_up(cfg)?;
    local_storage_keeps(cfg, f)?;
    faults::fix_it(&cfg.state_dir, &cfg.cache_dir, f)
}

/// A command that runs `program` inside a lab host's network, mount and UTS namespaces (for
/// `lab-client`, which has only a network namespace: inside that). Add arguments and run it.
pub fn host_command(cfg: &LabboxConfig, host: &str, program: &str) -> Result<Command, LabboxError> {
    if host == CLIENT_NS {
        if !netns::exists(CLIENT_NS) {
            return Err(LabboxError::NotUp(format!("no namespace {CLIENT_NS}")));
        }
        let mut c = run::command("nsenter");
        c.arg(format!("--net={}", netns::netns_path(CLIENT_NS).display()))
            .arg("--")
            .arg(program)
            .stdin(std::process::Stdio::inherit());
        return Ok(c);
    }
    if names::host(host).is_none() {
        return Err(LabboxError::UnknownHost(host.to_owned()));
    }
    let pin = mounts::mnt_pin(&cfg.state_dir, host);
    if !netns::exists(host) || !mounts::is_mount_point(&pin) {
        return Err(LabboxError::NotUp(format!("{host} has no namespaces")));
    }
    let mut c = mounts::in_host(&cfg.state_dir, host, program);
    // An interactive command (a shell, `virsh console`) needs the caller's terminal.
    c.stdin(std::process::Stdio::inherit());
    Ok(c)
}

/// The lab host whose libvirtd `uri` reaches through its socket (the URIs `migralab labbox
/// status` prints, as an instructor lists them in `real_lab.allowed_hosts`), if it is one.
/// Only compares paths: says nothing about whether the lab is up.
pub fn host_of_uri(cfg: &LabboxConfig, uri: &str) -> Option<&'static str> {
    HOSTS
        .iter()
        .find(|h| daemons::socket_uri(&HostDirs::of(&cfg.state_dir, &cfg.cache_dir, h.name)) == uri)
        .map(|h| h.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_guest_fits_and_a_working_set_larger_than_ram_does_not() {
        assert!(GuestSpec::default().validate().is_ok());
        let too_big = GuestSpec {
            working_set_mib: 200,
            dirty_rate_mibps: 64,
            ..GuestSpec::default()
        };
        let err = too_big
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("needs at least 312 MiB"), "{err}");
    }

    #[test]
    fn a_hosts_socket_uri_names_the_host_and_nothing_else_does() {
        let cfg = LabboxConfig {
            state_dir: PathBuf::from("/tmp/lab-state"),
            cache_dir: PathBuf::from("/tmp/lab-cache"),
        };
        for h in HOSTS {
            let dirs = HostDirs::of(&cfg.state_dir, &cfg.cache_dir, h.name);
            assert_eq!(host_of_uri(&cfg, &daemons::socket_uri(&dirs)), Some(h.name));
        }
        for other in [
            "qemu:///system",
            "qemu+ssh://kvm-host-01/system",
            "qemu:///system?socket=/tmp/lab-state/hosts/kvm-host-03/run/libvirt/libvirt-sock",
            "test:///default",
        ] {
            assert_eq!(host_of_uri(&cfg, other), None, "{other}");
        }
    }
}
