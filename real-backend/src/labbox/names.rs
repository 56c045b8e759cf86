//! The lab's fixed names and addresses, exactly as the lesson uses them. Everything the lab
//! creates is named here, so teardown and the leftover check know what is the lab's.

use std::net::Ipv4Addr;

/// The network namespace holding the lab switch (a Linux bridge).
pub const SWITCH_NS: &str = "lab-sw";
/// The bridge inside [`SWITCH_NS`].
pub const SWITCH_BRIDGE: &str = "sw0";
/// The network namespace of the client that pings the guest.
pub const CLIENT_NS: &str = "lab-client";
/// The client's address.
pub const CLIENT_ADDR: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 100);
/// The client's port on the switch.
const CLIENT_PORT: &str = "p-client";
/// Prefix length of the lab network 10.77.0.0/24.
pub const PREFIX_LEN: u8 = 24;
/// The bridge inside each host that carries the host address and the guest's tap.
pub const HOST_BRIDGE: &str = "br0";
/// The host's (and the client's) cable to the switch, inside its namespace.
pub const UPLINK: &str = "eth0";
/// The guest.
pub const GUEST_NAME: &str = "db01";
/// The guest's address (set by its /init).
pub const GUEST_ADDR: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 10);
/// The guest's fixed MAC, so its address and the switch's tables survive a migration.
pub const GUEST_MAC: &str = "52:54:00:77:00:0a";
/// Where both hosts see the shared storage (the stand-in for NFS).
pub const SHARED_DIR: &str = "/var/lib/libvirt/images";
/// QEMU's migration port range (libvirt's default), the one the firewall fault closes.
pub const MIGRATION_PORTS: (u16, u16) = (49152, 49215);
/// The host every fault is injected on: the lesson's destination.
pub const DESTINATION: &str = "kvm-host-02";
/// The host the guest starts on: the lesson's source.
pub const SOURCE: &str = "kvm-host-01";

/// One libvirt host of the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabHost {
    /// Namespace, hostname and SSH name.
    pub name: &'static str,
    /// Address on `br0`.
    pub addr: Ipv4Addr,
    /// MAC of `br0` and of the uplink: the same on both, so the bridge fault keeps the host's
    /// identity on the wire when the address moves to the uplink.
    pub mac: &'static str,
    /// The host's port on the switch (in [`SWITCH_NS`]).
    pub switch_port: &'static str,
    /// libvirtd's `host_uuid`: distinct per host, else both read the shared /etc/machine-id and
    /// libvirt refuses every migration as "to the same host".
    pub host_uuid: &'static str,
}

/// The two hosts, source first.
pub const HOSTS: [LabHost; 2] = [
    LabHost {
        name: SOURCE,
        addr: Ipv4Addr::new(10, 77, 0, 1),
        mac: "52:54:00:77:01:01",
        switch_port: "p-kvm-host-01",
        host_uuid: "6d1a0b52-7701-4c1a-9b01-000000000001",
    },
    LabHost {
        name: DESTINATION,
        addr: Ipv4Addr::new(10, 77, 0, 2),
        mac: "52:54:00:77:01:02",
        switch_port: "p-kvm-host-02",
        host_uuid: "6d1a0b52-7701-4c1a-9b01-000000000002",
    },
];

/// The host called `name`, if it is one of the lab's.
pub fn host(name: &str) -> Option<&'static LabHost> {
    HOSTS.iter().find(|h| h.name == name)
}

/// Every network namespace the lab creates, in creation order.
pub fn all_netns() -> [&'static str; 4] {
    [SWITCH_NS, HOSTS[0].name, HOSTS[1].name, CLIENT_NS]
}

/// The client's port on the switch.
pub(crate) fn client_port() -> &'static str {
    CLIENT_PORT
}

/// `/etc/hosts` inside each host: both hosts, the guest and the client by name.
pub(crate) fn etc_hosts() -> String {
    let mut s = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    for h in HOSTS {
        s.push_str(&format!("{}\t{}\n", h.addr, h.name));
    }
    s.push_str(&format!(
        "{GUEST_ADDR}\t{GUEST_NAME}\n{CLIENT_ADDR}\t{CLIENT_NS}\n"
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_fit_the_kernel_limit() {
        for h in HOSTS {
            assert!(h.switch_port.len() <= 15, "{}", h.switch_port);
        }
        assert!(CLIENT_PORT.len() <= 15);
    }

    #[test]
    fn etc_hosts_names_every_machine() {
        let hosts = etc_hosts();
        for line in [
            "10.77.0.1\tkvm-host-01",
            "10.77.0.2\tkvm-host-02",
            "10.77.0.10\tdb01",
        ] {
            assert!(hosts.contains(line), "{hosts}");
        }
    }
}
