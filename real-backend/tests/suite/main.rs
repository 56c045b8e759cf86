//! The real backend's tests, one binary: the ICMP prober, libvirt's `test:///default` driver and
//! the lab in a box (one binary, not one per file: each links libvirt and the model, and on CI's
//! two cores the links took longer than the tests).

// What these tests exercise exists on Linux only (namespaces, raw ICMP, libvirt's daemons).
#[cfg(target_os = "linux")]
mod labbox;
#[cfg(all(target_os = "linux", feature = "real"))] // libvirt through the `virt` crate
mod libvirt_test_driver;
#[cfg(target_os = "linux")]
mod prober;

/// Without the `real` feature `libvirt_test_driver` is compiled out, and a plain
/// `cargo test -p migralab_real` would pass without it: this fails instead, so a green run
/// always means every test ran.
#[cfg(all(target_os = "linux", not(feature = "real")))]
#[test]
fn the_libvirt_tests_were_left_out_of_this_build() {
    panic!(
        "this test binary was built without the `real` feature, so `libvirt_test_driver` (real \
         mode against libvirt's test driver) was left out. Run every test with \
         `bash scripts/test.sh`, or `cargo test --workspace --features migralab_app/real` \
         (this crate alone: `cargo test -p migralab_real --features real`; needs libvirt-dev \
         and pkg-config)"
    );
}

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
