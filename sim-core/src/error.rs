//! Errors. `LabError` is what a migration (simulated or real) fails with, worded exactly as libvirt
//! words it, because students learn to read the real messages. `ScenarioError` is bad input.

use crate::located::LocatedError;
use serde::{Deserialize, Serialize};

/// Why a lab operation failed, with libvirt's own wording (see `reference/migration-facts.md` §3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
// Adjacently tagged: some variants carry a bare string, which an internally tagged enum cannot hold.
#[serde(tag = "kind", content = "detail", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum LabError {
    /// Source and destination report the same host UUID.
    #[error("internal error: Attempt to migrate guest to the same host {host_uuid}")]
    SameHost {
        /// The host UUID both sides share.
        host_uuid: String,
    },
    /// A disk is not on shared storage and neither `--copy-storage-*` nor `--unsafe` was given.
    #[error("Unsafe migration: Migration without shared storage is unsafe")]
    UnsafeNoSharedStorage,
    /// A disk uses the host page cache and the source QEMU cannot drop it at the switch-over
    /// (older than 4.0), and `--unsafe` was not given (`qemuMigrationSrcIsSafe`).
    #[error(
        "Unsafe migration: Migration may lead to data corruption if disks use cache other than none or directsync"
    )]
    UnsafeDiskCache,
    /// The destination cannot open a disk image (local storage forced through with `--unsafe`).
    // 64055 is the libvirt-qemu user on Debian and Ubuntu (the lab in a box runs Debian); RHEL uses 107.
    #[error(
        "Cannot access storage file '{path}' (as uid:64055, gid:64055): No such file or directory"
    )]
    StorageNotAccessible {
        /// The disk image path the destination QEMU tried to open.
        path: String,
    },
    /// The domain named in the command does not exist on that host.
    #[error("failed to get domain '{name}'")]
    NoSuchDomain {
        /// The name that was asked for.
        name: String,
    },
    /// The destination cannot provide the CPU the guest needs (libvirt's VIR_ERR_CPU_INCOMPATIBLE).
    #[error("the CPU is incompatible with host CPU: {0}")]
    CpuIncompatible(String),
    /// `virsh` could not open the connection to the destination (`qemu+ssh://...`).
    #[error("failed to connect to the hypervisor\nerror: {detail}")]
    ConnectFailed {
        /// The second error line: what ssh or the socket said.
        detail: String,
    },
    /// The job was cancelled (`virsh domjobabort`, Ctrl-C).
    #[error("operation aborted: job 'migration out' canceled by client")]
    Aborted,
    /// libvirt's VIR_ERR_OPERATION_INVALID.
    #[error("Requested operation is not valid: {0}")]
    InvalidOperation(String),
    /// libvirt's VIR_ERR_CONFIG_UNSUPPORTED.
    #[error("unsupported configuration: {0}")]
    Unsupported(String),
    /// libvirt's VIR_ERR_OPERATION_FAILED.
    #[error("operation failed: {0}")]
    OperationFailed(String),
    /// libvirt's VIR_ERR_INTERNAL_ERROR.
    #[error("internal error: {0}")]
    Internal(String),
    /// A real libvirt did not answer in time (real mode: every call has a deadline).
    #[error("no answer from libvirt within {seconds} s: {what}")]
    Timeout {
        /// The call that was waited for, e.g. `connect to qemu+ssh://kvm-host-02/system`.
        what: String,
        /// The deadline, seconds.
        seconds: u64,
    },
    /// A message passed through unchanged from a real libvirt (real mode).
    #[error("{message}")]
    Libvirt {
        /// libvirt's error code (`virErrorNumber`), when known.
        code: Option<i32>,
        /// The text libvirt gave, unchanged.
        message: String,
    },
}

impl LabError {
    /// The message as `virsh` prints it (`error: <message>`).
    pub fn virsh_line(&self) -> String {
        format!("error: {self}")
    }
}

/// A scenario file (or an override) that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The text is not valid TOML, does not fit the schema, or holds an impossible value (zero
    /// bandwidth, hot set larger than RAM, ...).
    #[error(transparent)]
    Located(#[from] LocatedError),
    /// A `--set key=value` override that cannot be applied.
    #[error("--set {assignment}: {message}")]
    Override {
        /// The override as given.
        assignment: String,
        /// What is wrong.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_lab_error_round_trips_through_json() {
        let all = vec![
            LabError::SameHost {
                host_uuid: "u".into(),
            },
            LabError::UnsafeNoSharedStorage,
            LabError::UnsafeDiskCache,
            LabError::StorageNotAccessible { path: "/p".into() },
            LabError::NoSuchDomain { name: "d".into() },
            LabError::CpuIncompatible("Host CPU does not provide required features: avx".into()),
            LabError::ConnectFailed {
                detail: "Cannot recv data".into(),
            },
            LabError::Aborted,
            LabError::InvalidOperation("x".into()),
            LabError::Unsupported("x".into()),
            LabError::OperationFailed("x".into()),
            LabError::Internal("x".into()),
            LabError::Timeout {
                what: "connect".into(),
                seconds: 10,
            },
            LabError::Libvirt {
                code: Some(1),
                message: "x".into(),
            },
        ];
        for e in all {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(
                serde_json::from_str::<LabError>(&json).unwrap(),
                e,
                "{json}"
            );
        }
    }
}
