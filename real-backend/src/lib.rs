//! # migralab real-backend
//!
//! Real mode: the same [`migralab_sim_core::Lab`] questions answered by real hosts through
//! libvirt. Built everywhere: URI handling ([`uri`]), libvirt XML facts ([`domain_xml`]) and
//! [`fsutil`] (files written so that a crash never leaves half of one: the app's and the
//! fidelity harness's results). On Linux only: the ICMP `prober`, the `port_probe` (both enter
//! network namespaces) and the `labbox` (two libvirt hosts in namespaces on one machine); with the `real` cargo feature too (needs
//! `libvirt-dev` and `pkg-config`): the libvirt connection, real preflight and the migration
//! driver (`libvirt`) behind `real_lab::RealLab`.
//!
//! Invariants: no UI code here; nothing here blocks a UI thread (libvirt calls run on worker
//! threads with deadlines); every connection URI is made non-interactive (see [`uri`]).

#![warn(missing_docs)]

pub mod domain_xml;
pub mod fsutil;
#[cfg(target_os = "linux")]
pub mod labbox;
#[cfg(all(feature = "real", target_os = "linux"))]
pub mod libvirt;
#[cfg(target_os = "linux")]
pub mod port_probe;
#[cfg(target_os = "linux")]
pub mod prober;
#[cfg(all(feature = "real", target_os = "linux"))]
pub mod real_lab;
pub mod uri;
#[cfg(all(feature = "real", target_os = "linux"))]
pub mod watch;

/// Was this build made with real mode (the `real` cargo feature, on Linux: libvirt's daemons,
/// namespaces and raw ICMP are what real mode is made of)?
pub const REAL_MODE_BUILT: bool = cfg!(all(feature = "real", target_os = "linux"));

/// What to tell a user who asks for real mode in a build without it.
pub const REAL_MODE_MISSING: &str = "this migralab was built without real mode. Rebuild it with \
the `real` feature (needs the Debian packages libvirt-dev and pkg-config): \
`cargo run --release --features real -- ...`";
