//! Each host's own view of the filesystem: a mount and a UTS namespace pinned to files (so any
//! later command can enter them), a fresh sysfs seen from the host's network namespace, and
//! private bind mounts over the directories where two libvirtd/sshd instances would clash.

use super::LabboxError;
use super::names::{DESTINATION, LabHost, SHARED_DIR};
use super::netns::netns_path;
use super::run::{command, run};
use super::state;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One line of /proc/self/mountinfo, the fields the lab needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountEntry {
    /// Where it is mounted.
    pub mount_point: PathBuf,
    /// Filesystem type.
    pub fs_type: String,
}

/// Parse mountinfo text (`man 5 proc`): field 5 is the mount point, the type follows ` - `.
pub(crate) fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let mount_point = left.split(' ').nth(4)?;
            let fs_type = right.split(' ').next()?;
            Some(MountEntry {
                mount_point: PathBuf::from(unescape(mount_point)),
                fs_type: fs_type.to_owned(),
            })
        })
        .collect()
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && let Some(oct) = s.get(i + 1..i + 4)
            && let Ok(b) = u8::from_str_radix(oct, 8)
        {
            out.push(b);
            i += 4;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// This process's mounts (the root namespace's, for the lab's callers).
pub(crate) fn mounts() -> Vec<MountEntry> {
    parse_mountinfo(&std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default())
}

/// Whether something is mounted exactly at `path`.
pub(crate) fn is_mount_point(path: &Path) -> bool {
    mounts().iter().any(|m| m.mount_point == path)
}

/// The pin directory inside the state dir.
pub(crate) fn pin_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("ns")
}

/// The file a host's mount namespace is pinned to.
pub(crate) fn mnt_pin(state_dir: &Path, host: &str) -> PathBuf {
    pin_dir(state_dir).join(format!("{host}.mnt"))
}

/// The file a host's UTS namespace (its hostname) is pinned to.
pub(crate) fn uts_pin(state_dir: &Path, host: &str) -> PathBuf {
    pin_dir(state_dir).join(format!("{host}.uts"))
}

/// The pin directory must be a private mount: the kernel refuses to pin a mount namespace on a
/// shared one (it could make the namespace hold itself).
pub(crate) fn prepare_pin_dir(state_dir: &Path) -> Result<(), LabboxError> {
    let dir = pin_dir(state_dir);
    state::mkdir(&dir)?;
    if !is_mount_point(&dir) {
        state::record(state_dir, "self-mount", &dir.to_string_lossy())?;
        run(command("mount").arg("--bind").arg(&dir).arg(&dir))?;
    }
    run(command("mount").arg("--make-private").arg(&dir)).map(drop)
}

/// New mount and UTS namespaces for `host`, pinned to files, with the hostname set.
pub(crate) fn pin_host(state_dir: &Path, host: &str) -> Result<(), LabboxError> {
    let (mnt, uts) = (mnt_pin(state_dir, host), uts_pin(state_dir, host));
    for pin in [&mnt, &uts] {
        state::record(state_dir, "pin", &pin.to_string_lossy())?;
        state::write_file(pin, b"")?;
    }
    // `unshare` makes every mount in the new namespace private, so nothing the host mounts
    // propagates back to this machine.
    run(command("unshare")
        .arg(format!("--mount={}", mnt.display()))
        .arg(format!("--uts={}", uts.display()))
        .args(["--propagation", "private", "true"]))?;
    run(in_host(state_dir, host, "hostname").arg(host)).map(drop)
}

/// A command that runs inside `host`'s network, mount and UTS namespaces.
pub(crate) fn in_host(state_dir: &Path, host: &str, program: &str) -> Command {
    let mut c = command("nsenter");
    c.arg(format!("--net={}", netns_path(host).display()))
        .arg(format!("--mount={}", mnt_pin(state_dir, host).display()))
        .arg(format!("--uts={}", uts_pin(state_dir, host).display()))
        .arg("--")
        .arg(program);
    c
}

/// A host's private directories, as seen from this machine.
#[derive(Debug, Clone)]
pub(crate) struct HostDirs {
    /// `hosts/<host>` in the state dir.
    pub root: PathBuf,
    /// Mounted over the host's /run.
    pub run: PathBuf,
    /// Over /etc/libvirt.
    pub etc_libvirt: PathBuf,
    /// Over /var/lib/libvirt.
    pub var_lib_libvirt: PathBuf,
    /// Over /var/log/libvirt.
    pub log: PathBuf,
    /// Over /var/cache/libvirt: in the cache dir, so libvirt's QEMU capabilities (20 s to probe)
    /// survive `down`.
    pub cache: PathBuf,
    /// Over /etc/ssh.
    pub etc_ssh: PathBuf,
}

impl HostDirs {
    /// The directories of `host`.
    pub fn of(state_dir: &Path, cache_dir: &Path, host: &str) -> HostDirs {
        let root = state_dir.join("hosts").join(host);
        HostDirs {
            run: root.join("run"),
            etc_libvirt: root.join("etc-libvirt"),
            var_lib_libvirt: root.join("var-lib-libvirt"),
            log: root.join("log-libvirt"),
            cache: cache_dir.join("libvirt-cache").join(host),
            etc_ssh: root.join("etc-ssh"),
            root,
        }
    }

    /// libvirtd's socket, usable from this machine.
    pub fn libvirt_sock(&self) -> PathBuf {
        self.run.join("libvirt").join("libvirt-sock")
    }
}

/// Inside each host, a second view of the shared directory that the shared-storage fault leaves
/// alone, so `fix` can mount it back from inside the host (this machine's path to it is hidden
/// there under the host's own /run).
pub(crate) const SHARED_EXPORT: &str = "/var/lib/libvirt/migralab/nfs-export";

/// Inside kvm-host-02, the real QEMU binary once the wrapper covers /usr/bin's.
pub(crate) const REAL_QEMU: &str = "/var/lib/libvirt/migralab/qemu-system-x86_64.real";

/// The QEMU binary libvirt runs.
pub(crate) const QEMU: &str = "/usr/bin/qemu-system-x86_64";

/// Mount a host's private directories (and the shared storage) inside its mount namespace.
pub(crate) fn mount_host(
    state_dir: &Path,
    dirs: &HostDirs,
    shared: &Path,
    host: &LabHost,
    qemu_wrapper: &Path,
) -> Result<(), LabboxError> {
    let name = host.name;
    let mount = |args: &[&str]| run(in_host(state_dir, name, "mount").args(args)).map(drop);
    let bind = |from: &Path, to: &str| {
        run(in_host(state_dir, name, "mount")
            .arg("--bind")
            .arg(from)
            .arg(to))
        .map(drop)
    };
    // A sysfs mounted from inside the host's network namespace shows that host's bridges and
    // taps (libvirt reads them there). It would hide the cgroup tree mounted below /sys, so that
    // is moved aside first and back on top after.
    let hold = dirs.root.join("cgroup-hold");
    state::mkdir(&hold)?;
    let hold = hold.to_string_lossy().into_owned();
    let cgroup = is_mount_point(Path::new("/sys/fs/cgroup"));
    if cgroup {
        mount(&["--move", "/sys/fs/cgroup", &hold])?;
    }
    mount(&["-t", "sysfs", "sysfs", "/sys"])?;
    if cgroup {
        mount(&["--move", &hold, "/sys/fs/cgroup"])?;
    }
    bind(&dirs.etc_libvirt, "/etc/libvirt")?;
    bind(&dirs.var_lib_libvirt, "/var/lib/libvirt")?;
    bind(shared, SHARED_DIR)?;
    bind(shared, SHARED_EXPORT)?;
    bind(&dirs.log, "/var/log/libvirt")?;
    bind(&dirs.cache, "/var/cache/libvirt")?;
    bind(&dirs.etc_ssh, "/etc/ssh")?;
    bind(&dirs.root.join("hosts"), "/etc/hosts")?;
    bind(&dirs.root.join("hostname"), "/etc/hostname")?;
    if name == DESTINATION {
        // The CPU fault's wrapper covers QEMU on kvm-host-02 for the lab's whole life, so
        // libvirt's capability cache (keyed on the binary's ctime) stays valid when the fault is
        // broken and fixed: only a flag file changes.
        bind(Path::new(QEMU), REAL_QEMU)?;
        bind(qemu_wrapper, QEMU)?;
    }
    // Last: this machine's /run (and the state dir in it) disappears from the host's view.
    bind(&dirs.run, "/run")
}
