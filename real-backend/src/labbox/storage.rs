//! The lab's storage layout: shared (the default: one images directory bind-mounted on both
//! hosts, as the lesson's NFS) or local (each host its own, for `--copy-storage-all`).
//!
//! Local: kvm-host-02 stops seeing the shared directory (the shared-storage fault's unmount) and
//! gets the guest's kernel and initramfs in its own `/var/lib/libvirt/images` (QEMU on the
//! destination opens them at start). Each host's libvirt already has its `default` pool, a `dir`
//! pool over that directory, active and autostarted (seen with `virsh pool-list --all` on both).
//! libvirt then precreates the disk there when `--copy-storage-all` brings it: `qemuMigrationDstPrecreateStorage` skips disks
//! whose file exists and otherwise looks a pool up by the disk's directory
//! (`virStoragePoolLookupByTargetPath`) and creates a volume of the source's capacity and format
//! (libvirt `src/qemu/qemu_migration.c`, `qemuMigrationDstPrecreateDisk`). Seen on the lab:
//! db01.qcow2 (64 MiB) appears in kvm-host-02's own directory and the migration completes.

use super::LabboxError;
use super::faults::{self, Fault};
use super::guest;
use super::mounts::{HostDirs, in_host};
use super::names::{DESTINATION, SOURCE};
use super::run::run;
use super::state;
use std::path::Path;

/// Where the guest's disk lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Storage {
    /// One images directory seen by both hosts (the lesson's NFS).
    Shared,
    /// Each host its own images directory: the disk moves with `--copy-storage-all`.
    Local,
}

impl std::str::FromStr for Storage {
    type Err = LabboxError;

    fn from_str(s: &str) -> Result<Storage, LabboxError> {
        match s {
            "shared" => Ok(Storage::Shared),
            "local" => Ok(Storage::Local),
            other => Err(LabboxError::Storage(format!(
                "unknown layout `{other}` (shared, local)"
            ))),
        }
    }
}

/// libvirt's pool over `/var/lib/libvirt/images` on each host.
const POOL: &str = "default";

/// The file in the state dir that says the layout is local.
const LOCAL_MARK: &str = "storage-local";

/// The layout now.
pub(crate) fn current(state_dir: &Path) -> Storage {
    if state_dir.join(LOCAL_MARK).exists() {
        Storage::Local
    } else {
        Storage::Shared
    }
}

/// Switch to `want`; db01 must be on kvm-host-01 (its disk is never pulled from under it).
/// Local when already local removes a stale copy of the disk from kvm-host-02.
pub(crate) fn set(
    state_dir: &Path,
    cache_dir: &Path,
    running_on: Option<&str>,
    want: Storage,
) -> Result<(), LabboxError> {
    let away = running_on.is_some_and(|h| h != SOURCE);
    if current(state_dir) == want && (want == Storage::Shared || away) {
        // Nothing to do (db01's disk on kvm-host-02 is its live one: never removed).
        return Ok(());
    }
    if away {
        return Err(LabboxError::Storage(format!(
            "db01 runs on {}: migrate it back to {SOURCE} first",
            running_on.unwrap_or_default()
        )));
    }
    let dest = HostDirs::of(state_dir, cache_dir, DESTINATION);
    let own = dest.var_lib_libvirt.join("images");
    let virsh = |args: &[&str]| {
        let mut c = in_host(state_dir, DESTINATION, "virsh");
        c.args(args);
        run(&mut c).map(drop)
    };
    if current(state_dir) == want {
        // Local again with db01 at home: a disk left on kvm-host-02 by a migration there and
        // back would be opened there as it is, and a plain `virsh migrate` "completes" on a
        // stale disk (seen on the lab: libvirt cannot know the file is old). The layout the
        // lesson means has no copy there.
        remove_disks(&own)?;
        return virsh(&["pool-refresh", POOL]);
    }
    match want {
        Storage::Local => {
            faults::break_it(state_dir, cache_dir, Fault::SharedStorage)?;
            let made = (|| {
                state::mkdir(&own)?;
                let shared = state_dir.join("images");
                for f in [guest::KERNEL_FILE, guest::INITRD_FILE] {
                    std::fs::copy(shared.join(f), own.join(f)).map_err(|source| {
                        LabboxError::Io {
                            what: "cannot copy the guest's kernel files to".into(),
                            path: own.join(f),
                            source,
                        }
                    })?;
                }
                // The pool now looks at the host's own directory.
                virsh(&["pool-refresh", POOL])?;
                state::write_file(&state_dir.join(LOCAL_MARK), b"local\n")
            })();
            if made.is_err() {
                // Half a layout is none: back to shared.
                for f in [guest::KERNEL_FILE, guest::INITRD_FILE] {
                    let _ = std::fs::remove_file(own.join(f));
                }
                let _ = faults::fix_it(state_dir, cache_dir, Fault::SharedStorage);
            }
            made
        }
        Storage::Shared => {
            // Empty the host's own directory (the shared one is mounted over it again).
            state::mkdir(&own)?;
            let files = std::fs::read_dir(&own).map_err(|source| LabboxError::Io {
                what: "cannot read".into(),
                path: own.clone(),
                source,
            })?;
            for f in files.flatten() {
                std::fs::remove_file(f.path()).map_err(|source| LabboxError::Io {
                    what: "cannot remove".into(),
                    path: f.path(),
                    source,
                })?;
            }
            faults::fix_it(state_dir, cache_dir, Fault::SharedStorage)?;
            virsh(&["pool-refresh", POOL])?;
            let mark = state_dir.join(LOCAL_MARK);
            std::fs::remove_file(&mark).map_err(|source| LabboxError::Io {
                what: "cannot remove".into(),
                path: mark,
                source,
            })
        }
    }
}

/// Remove the guest's disk images from a host's own images directory (the guest's kernel and
/// initramfs stay: QEMU opens them at start).
fn remove_disks(own: &Path) -> Result<(), LabboxError> {
    let files = std::fs::read_dir(own).map_err(|source| LabboxError::Io {
        what: "cannot read".into(),
        path: own.to_path_buf(),
        source,
    })?;
    for f in files.flatten() {
        let name = f.file_name();
        if name == guest::KERNEL_FILE || name == guest::INITRD_FILE {
            continue;
        }
        std::fs::remove_file(f.path()).map_err(|source| LabboxError::Io {
            what: "cannot remove".into(),
            path: f.path(),
            source,
        })?;
    }
    Ok(())
}
