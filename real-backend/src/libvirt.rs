//! Real hosts through libvirt (the `virt` crate, cargo feature `real`).
//!
//! Every libvirt call is blocking FFI that can hang on a dead host, so each one runs on its own
//! thread with a deadline ([`call`]); nothing here runs on a UI thread. libvirt's error text is
//! passed through unchanged as [`LabError::Libvirt`], so a student sees what `virsh` would print.

pub mod call;
pub mod dirtyrate;
pub(crate) mod ffi;
pub mod host;
pub mod job;
pub(crate) mod observe;
pub mod preflight;
pub mod stats;

use migralab_sim_core::LabError;
use std::sync::Once;

/// libvirt's `VIR_ERR_OPERATION_ABORTED`: the job was cancelled (`virsh domjobabort`).
pub const ERR_OPERATION_ABORTED: i32 = 78;

/// Silence libvirt's default error handler (it prints every error to stderr); our callers show
/// the errors themselves, once.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(virt::error::clear_error_callback);
}

/// libvirt's error as the lab's error, its text unchanged.
pub fn lab_error(e: &virt::error::Error) -> LabError {
    LabError::Libvirt {
        code: Some(e.code().to_raw() as i32),
        message: e.message().to_string(),
    }
}
