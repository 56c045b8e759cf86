//! Taking the lab down: stop the guest, end exactly the lab's processes, drop its namespaces
//! and mounts, restore /dev/kvm, then check that nothing is left.
//!
//! "The lab's processes" are found by namespace, not by name: any process whose network or
//! mount namespace is one of the lab's (the daemons, QEMU, an sshd session, a shell a student
//! opened with `labbox sh`). A libvirtd of this machine's own is never in those namespaces.

use super::daemons::{DAEMONS, pid_of};
use super::mounts::{HostDirs, is_mount_point, mnt_pin, mounts, uts_pin};
use super::names::{HOSTS, all_netns};
use super::netns::{delete, netns_path};
use super::run::{command, run};
use super::state::{self, Made};
use super::{LabboxConfig, LabboxError};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::collections::BTreeSet;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The namespace inode behind an nsfs file (a /run/netns entry or a pin).
fn ns_inode(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.ino())
}

/// The inodes of every lab namespace that still exists.
pub(crate) fn lab_namespaces(cfg: &LabboxConfig) -> BTreeSet<u64> {
    let mut files: Vec<PathBuf> = all_netns().iter().map(|n| netns_path(n)).collect();
    for h in HOSTS {
        files.push(mnt_pin(&cfg.state_dir, h.name));
        files.push(uts_pin(&cfg.state_dir, h.name));
    }
    files
        .iter()
        // An unmounted pin is a plain empty file: its inode is no namespace.
        .filter(|f| is_nsfs(f))
        .filter_map(|f| ns_inode(f))
        .collect()
}

/// Whether `path` is a namespace file (nsfs) rather than a leftover plain file.
fn is_nsfs(path: &Path) -> bool {
    mounts()
        .iter()
        .any(|m| m.mount_point == path && m.fs_type == "nsfs")
}

/// `/proc/PID/ns/KIND`'s inode, from its `kind:[inode]` link.
fn proc_ns(pid: u32, kind: &str) -> Option<u64> {
    let link = std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).ok()?;
    let s = link.to_string_lossy();
    s.split_once('[')?.1.trim_end_matches(']').parse().ok()
}

/// Processes in any of `namespaces` (never this process).
pub(crate) fn processes_in(namespaces: &BTreeSet<u64>) -> Vec<(u32, String)> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let inside = ["net", "mnt", "uts"]
            .iter()
            .any(|k| proc_ns(pid, k).is_some_and(|ino| namespaces.contains(&ino)));
        if inside {
            let comm = super::daemons::process_comm(pid).unwrap_or_default();
            found.push((pid, comm));
        }
    }
    found
}

fn signal(pid: u32, sig: Signal) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = kill(Pid::from_raw(pid), sig);
    }
}

/// Alive and not a zombie: a dead daemon's parent (this machine's init, or libvirtd for QEMU)
/// may take its time to reap it, and a zombie holds no namespace or file.
fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next());
    !matches!(state, Some('Z' | 'X') | None)
}

/// SIGTERM, a grace period, then SIGKILL.
fn end(pids: &[u32]) {
    for p in pids {
        signal(*p, Signal::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for p in pids {
        if alive(*p) {
            signal(*p, Signal::SIGKILL);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The QEMU processes a host's libvirtd started, by their pid files.
fn qemu_pids(dirs: &HostDirs) -> Vec<u32> {
    let dir = dirs.run.join("libvirt/qemu");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let pid: u32 = std::fs::read_to_string(e.path())
                .ok()?
                .trim()
                .parse()
                .ok()?;
            let qemu = super::daemons::process_comm(pid)?.starts_with("qemu-system");
            (name.ends_with(".pid") && qemu).then_some(pid)
        })
        .collect()
}

/// Take the lab down, then verify.
pub(crate) fn down(cfg: &LabboxConfig, progress: &mut dyn FnMut(&str)) -> Result<(), LabboxError> {
    let made = state::read(&cfg.state_dir)?;
    let namespaces = lab_namespaces(cfg);
    // 1. QEMU first (SIGKILL: its disk is thrown away anyway, and `virsh destroy` would spend
    //    seconds on a polite SIGTERM), then every host's daemons at once, then anything else
    //    still inside a lab namespace (an sshd session, a student's `labbox sh`).
    let mut qemus = Vec::new();
    let mut daemons = Vec::new();
    for h in HOSTS {
        let dirs = HostDirs::of(&cfg.state_dir, &cfg.cache_dir, h.name);
        qemus.extend(qemu_pids(&dirs));
        daemons.extend(
            DAEMONS
                .iter()
                .filter_map(|(comm, _, _, file)| pid_of(&dirs, comm, file)),
        );
    }
    if !qemus.is_empty() {
        progress("stopping db01");
        for p in &qemus {
            signal(*p, Signal::SIGKILL);
        }
        end(&qemus);
    }
    if !daemons.is_empty() {
        progress("stopping libvirtd, virtlogd and sshd on both hosts");
        end(&daemons);
    }
    let rest: Vec<u32> = processes_in(&namespaces).iter().map(|(p, _)| *p).collect();
    if !rest.is_empty() {
        progress(&format!("ending {} more lab processes", rest.len()));
        end(&rest);
    }
    // 3. Pinned namespaces, then network namespaces (a host's sysfs holds its network
    //    namespace until the host's mount namespace is gone).
    let mut errors = Vec::new();
    let mut pins = made.pins.clone();
    for h in HOSTS {
        for p in [
            mnt_pin(&cfg.state_dir, h.name),
            uts_pin(&cfg.state_dir, h.name),
        ] {
            if !pins.contains(&p) {
                pins.push(p);
            }
        }
    }
    for pin in &pins {
        if is_mount_point(pin) {
            progress(&format!("unmounting {}", pin.display()));
            if let Err(e) = run(command("umount").arg(pin)) {
                errors.push(e.to_string());
            }
        }
    }
    let mut names: Vec<String> = made.netns.clone();
    for n in all_netns() {
        if !names.iter().any(|m| m == n) {
            names.push(n.to_owned());
        }
    }
    for n in names.iter().rev() {
        if netns_path(n).exists() {
            progress(&format!("deleting namespace {n}"));
            if let Err(e) = delete(n) {
                errors.push(e.to_string());
            }
        }
    }
    for dir in &made.self_mounts {
        if is_mount_point(dir)
            && let Err(e) = run(command("umount").arg(dir))
        {
            errors.push(e.to_string());
        }
    }
    restore_kvm(&made, progress);
    // 4. Check, and only then forget.
    let mut left = leftovers(cfg, &namespaces);
    left.extend(errors);
    if !left.is_empty() {
        return Err(LabboxError::Leftovers(left));
    }
    if cfg.state_dir.exists() {
        std::fs::remove_dir_all(&cfg.state_dir).map_err(|source| LabboxError::Io {
            what: "cannot remove".into(),
            path: cfg.state_dir.clone(),
            source,
        })?;
    }
    progress("the lab is down");
    Ok(())
}

/// Put /dev/kvm's mode and owner back as they were before the first `up`.
fn restore_kvm(made: &Made, progress: &mut dyn FnMut(&str)) {
    let Some((mode, uid, gid)) = made.kvm else {
        return;
    };
    let kvm = Path::new("/dev/kvm");
    let Ok(meta) = std::fs::metadata(kvm) else {
        return;
    };
    if meta.mode() & 0o7777 != mode || meta.uid() != uid || meta.gid() != gid {
        progress(&format!("restoring /dev/kvm to {mode:o} {uid}:{gid}"));
        let _ = std::os::unix::fs::chown(kvm, Some(uid), Some(gid));
        let _ = std::fs::set_permissions(kvm, std::fs::Permissions::from_mode(mode));
    }
}

/// Everything of the lab still present: named namespaces, processes in its namespaces, mounts
/// under the state dir or on its namespace files.
pub(crate) fn leftovers(cfg: &LabboxConfig, namespaces: &BTreeSet<u64>) -> Vec<String> {
    let mut left = Vec::new();
    for n in all_netns() {
        if netns_path(n).exists() {
            left.push(format!("network namespace {n}"));
        }
    }
    for (pid, comm) in processes_in(namespaces) {
        left.push(format!("process {pid} ({comm})"));
    }
    for m in mounts() {
        let lab_netns = all_netns().iter().any(|n| m.mount_point == netns_path(n));
        if m.mount_point.starts_with(&cfg.state_dir) || lab_netns {
            left.push(format!("mount {} ({})", m.mount_point.display(), m.fs_type));
        }
    }
    left
}
