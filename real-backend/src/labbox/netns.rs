//! The lab's network: the switch namespace with its bridge, one veth cable to each host and to
//! the client, and inside each host a `br0` carrying the host's address (libvirt plugs the
//! guest's tap into it). The root namespace's network is never touched: every `ip` command names
//! its namespace.

use super::LabboxError;
use super::names::{
    CLIENT_ADDR, CLIENT_NS, HOST_BRIDGE, LabHost, PREFIX_LEN, SWITCH_BRIDGE, SWITCH_NS, UPLINK,
    client_port,
};
use super::run::{command, run};
use super::state;
use std::path::Path;

/// The named network namespace's file.
pub(crate) fn netns_path(name: &str) -> std::path::PathBuf {
    Path::new("/run/netns").join(name)
}

/// Whether the named network namespace exists.
pub(crate) fn exists(name: &str) -> bool {
    netns_path(name).exists()
}

/// `ip ARGS`, failing with ip's own words.
pub(crate) fn ip(args: &[&str]) -> Result<String, LabboxError> {
    run(command("ip").args(args))
}

/// `ip -n NS ARGS`.
fn ip_in(ns: &str, args: &[&str]) -> Result<String, LabboxError> {
    let mut all = vec!["-n", ns];
    all.extend_from_slice(args);
    ip(&all)
}

/// Create a namespace (recorded first) with its loopback up.
fn add_netns(state_dir: &Path, name: &str) -> Result<(), LabboxError> {
    state::record(state_dir, "netns", name)?;
    ip(&["netns", "add", name])?;
    ip_in(name, &["link", "set", "lo", "up"])?;
    Ok(())
}

/// The switch: a namespace with one bridge, no address (it only forwards).
pub(crate) fn create_switch(state_dir: &Path) -> Result<(), LabboxError> {
    add_netns(state_dir, SWITCH_NS)?;
    ip_in(SWITCH_NS, &["link", "add", SWITCH_BRIDGE, "type", "bridge"])?;
    ip_in(SWITCH_NS, &["link", "set", SWITCH_BRIDGE, "up"])?;
    Ok(())
}

/// A cable from the switch (`port`) to `ns` (where it is called `eth0`).
fn cable(port: &str, ns: &str) -> Result<(), LabboxError> {
    ip_in(
        SWITCH_NS,
        &[
            "link", "add", port, "type", "veth", "peer", "name", UPLINK, "netns", ns,
        ],
    )?;
    ip_in(SWITCH_NS, &["link", "set", port, "master", SWITCH_BRIDGE])?;
    ip_in(SWITCH_NS, &["link", "set", port, "up"])?;
    Ok(())
}

/// The client: a namespace on the switch at 10.77.0.100.
pub(crate) fn create_client(state_dir: &Path) -> Result<(), LabboxError> {
    add_netns(state_dir, CLIENT_NS)?;
    cable(client_port(), CLIENT_NS)?;
    let addr = format!("{CLIENT_ADDR}/{PREFIX_LEN}");
    ip_in(CLIENT_NS, &["addr", "add", &addr, "dev", UPLINK])?;
    ip_in(CLIENT_NS, &["link", "set", UPLINK, "up"])?;
    Ok(())
}

/// A host's network namespace, its cable and its bridge.
pub(crate) fn create_host(state_dir: &Path, host: &LabHost) -> Result<(), LabboxError> {
    add_netns(state_dir, host.name)?;
    cable(host.switch_port, host.name)?;
    ip_in(host.name, &["link", "set", UPLINK, "address", host.mac])?;
    create_bridge(host)
}

/// `br0` with the uplink in it, carrying the host's MAC and address.
pub(crate) fn create_bridge(host: &LabHost) -> Result<(), LabboxError> {
    let addr = format!("{}/{PREFIX_LEN}", host.addr);
    ip_in(host.name, &["link", "add", HOST_BRIDGE, "type", "bridge"])?;
    ip_in(
        host.name,
        &["link", "set", HOST_BRIDGE, "address", host.mac],
    )?;
    ip_in(host.name, &["link", "set", UPLINK, "master", HOST_BRIDGE])?;
    ip_in(host.name, &["addr", "add", &addr, "dev", HOST_BRIDGE])?;
    ip_in(host.name, &["link", "set", UPLINK, "up"])?;
    ip_in(host.name, &["link", "set", HOST_BRIDGE, "up"])?;
    Ok(())
}

/// The bridge fault: `br0` gone, the host's address (and MAC, which the uplink already has)
/// kept on the uplink, so the host still answers SSH and libvirt and only the guest's network
/// is missing.
pub(crate) fn remove_bridge(host: &LabHost) -> Result<(), LabboxError> {
    let addr = format!("{}/{PREFIX_LEN}", host.addr);
    ip_in(host.name, &["link", "del", HOST_BRIDGE])?;
    ip_in(host.name, &["addr", "add", &addr, "dev", UPLINK])?;
    Ok(())
}

/// Undo [`remove_bridge`].
pub(crate) fn restore_bridge(host: &LabHost) -> Result<(), LabboxError> {
    let addr = format!("{}/{PREFIX_LEN}", host.addr);
    ip_in(host.name, &["addr", "del", &addr, "dev", UPLINK])?;
    create_bridge(host)
}

/// Delete a named namespace (its veths go with it once no process holds it).
pub(crate) fn delete(name: &str) -> Result<(), LabboxError> {
    ip(&["netns", "del", name]).map(drop)
}
