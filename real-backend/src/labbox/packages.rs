//! What `up` needs from the machine, checked before anything is made: root, and every program
//! with the Debian package that provides it.

use super::LabboxError;
use super::run::PATH;
use std::path::{Path, PathBuf};

/// Each program the lab runs, with the Debian package that ships it. QEMU and libvirt must come
/// from bookworm-backports (libvirt 11.3 for `shared_filesystems`; QEMU 10 to match qemu-utils).
pub const REQUIRED: &[(&str, &str)] = &[
    ("ip", "iproute2"),
    ("nsenter", "util-linux"),
    ("unshare", "util-linux"),
    ("mount", "mount"),
    ("umount", "mount"),
    ("libvirtd", "libvirt-daemon (from bookworm-backports)"),
    ("virtlogd", "libvirt-daemon (from bookworm-backports)"),
    ("virsh", "libvirt-clients (from bookworm-backports)"),
    (
        "qemu-system-x86_64",
        "qemu-system-x86 (from bookworm-backports)",
    ),
    ("qemu-img", "qemu-utils"),
    ("sshd", "openssh-server"),
    ("ssh", "openssh-client"),
    ("ssh-keygen", "openssh-client"),
    ("cpio", "cpio"),
    ("gzip", "gzip"),
    ("ping", "iputils-ping"),
    ("nft", "nftables"),
    ("apt-get", "apt"),
    ("apt-cache", "apt"),
    ("dpkg-deb", "dpkg"),
];

/// libvirt's QEMU driver is a plug-in of libvirtd, not a program.
const QEMU_DRIVER: &str =
    "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so";

/// The guest's userland: must be the static build, it runs alone in the initramfs.
pub(crate) const BUSYBOX: &str = "/bin/busybox";

/// `program` found on our PATH.
pub(crate) fn which(program: &str) -> Option<PathBuf> {
    PATH.split(':')
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
}

/// The effective uid, from /proc (no libc call needed for one number).
fn euid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// Refuse clearly, naming what is missing and the package to install.
pub fn check() -> Result<(), LabboxError> {
    if euid() != Some(0) {
        return Err(LabboxError::NotRoot);
    }
    let mut missing: Vec<String> = Vec::new();
    for (program, package) in REQUIRED {
        if which(program).is_none() {
            missing.push(format!("`{program}` (package {package})"));
        }
    }
    if !Path::new(QEMU_DRIVER).is_file() {
        missing.push(format!(
            "{QEMU_DRIVER} (package libvirt-daemon-driver-qemu, from bookworm-backports)"
        ));
    }
    match std::fs::read(BUSYBOX) {
        // A dynamic busybox needs a loader and libc, which the guest does not have.
        Ok(bytes) if !is_static_elf(&bytes) => missing.push(format!(
            "a static {BUSYBOX} (package busybox-static; the dynamic `busybox` cannot run in the guest)"
        )),
        Ok(_) => {}
        Err(_) => missing.push(format!("{BUSYBOX} (package busybox-static)")),
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(LabboxError::Missing(missing))
    }
}

/// A 64-bit ELF without a program interpreter (PT_INTERP) header runs without a loader.
pub(crate) fn is_static_elf(bytes: &[u8]) -> bool {
    let u16_at = |o: usize| {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u64_at = |o: usize| {
        let b = bytes.get(o..o + 8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(u64::from_le_bytes(a))
    };
    if bytes.get(..5) != Some(b"\x7fELF\x02".as_slice()) {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    let Ok(phoff) = usize::try_from(phoff) else {
        return false;
    };
    const PT_INTERP: u32 = 3;
    (0..usize::from(phnum)).all(|i| {
        let at = phoff + i * usize::from(phentsize);
        bytes
            .get(at..at + 4)
            .is_some_and(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) != PT_INTERP)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_binary_is_not_static_and_garbage_is_neither() {
        // Any dynamically linked system binary has PT_INTERP.
        let sh = std::fs::read("/bin/sh").unwrap_or_default();
        assert!(!is_static_elf(&sh));
        assert!(!is_static_elf(b"#!/bin/sh\n"));
    }
}
