//! The real backend's tests, one binary: the ICMP prober, libvirt's `test:///default` driver and
//! the lab in a box (one binary, not one per file: each links libvirt and the model, and on CI's
//! two cores the links took longer than the tests).

// What these tests exercise exists on Linux only (namespaces, raw ICMP, libvirt's daemons).
#[cfg(target_os = "linux")]
mod labbox;
#[cfg(target_os = "linux")]
mod libvirt_test_driver;
#[cfg(target_os = "linux")]
mod prober;

#[cfg(target_os = "linux")]
use std::sync::{Mutex, MutexGuard};

/// Held by every test that builds network namespaces or times packets. The lab in a box loads
/// both cores for minutes; a 300 ms loss window measured beside it would measure that load, and
/// cargo runs the tests of one binary in parallel.
#[cfg(target_os = "linux")]
fn machine_exclusive() -> MutexGuard<'static, ()> {
    static MACHINE: Mutex<()> = Mutex::new(());
    // A test that panicked while holding it has released the machine all the same.
    MACHINE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
