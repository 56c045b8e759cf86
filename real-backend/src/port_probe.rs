//! Is the destination's migration port reachable? libvirt has no call for it, so real preflight
//! opens a TCP connection itself, from the source's network (this machine, or a named network
//! namespace such as a lab-in-a-box host). Nothing listens on 49152 between migrations, so a
//! *refused* connection is good news: the host answered and its firewall let the packet in. A
//! firewall shows itself as "No route to host" (REJECT with icmp-host-prohibited, firewalld's
//! default) or as silence (DROP).

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The first port QEMU's incoming migration listens on (libvirt's migration_port_min).
pub const MIGRATION_PORT: u16 = 49152;

/// Where to probe from and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortProbe {
    /// Run the probe inside `/run/netns/NAME` (the source's network), or here when `None`.
    pub netns: Option<String>,
    /// Destination host name or address.
    pub host: String,
    /// Port (normally [`MIGRATION_PORT`]).
    pub port: u16,
    /// How long to wait for an answer.
    pub timeout: Duration,
}

/// What the destination answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortVerdict {
    /// Something listens (a migration is being received right now).
    Open,
    /// The host answered with a reset: reachable, nothing listening, not filtered.
    Refused,
    /// The connection was rejected on the way ("No route to host", "Network is unreachable").
    Blocked(String),
    /// No answer in time: dropped by a firewall, or the host is down.
    Silent,
    /// The probe itself could not run (name does not resolve, namespace missing).
    CannotProbe(String),
}

impl PortVerdict {
    /// Would QEMU's connection get through?
    pub fn passes(&self) -> bool {
        matches!(self, PortVerdict::Open | PortVerdict::Refused)
    }
}

impl PortProbe {
    /// Probe `host:49152` from here.
    pub fn migration_port(host: &str) -> PortProbe {
        PortProbe {
            netns: None,
            host: host.to_string(),
            port: MIGRATION_PORT,
            timeout: Duration::from_secs(3),
        }
    }

    /// Connect once and say what happened. Runs on its own thread (entering a namespace
    /// changes only the calling thread).
    pub fn run(&self) -> PortVerdict {
        let probe = self.clone();
        let worker = std::thread::Builder::new()
            .name("port probe".into())
            .spawn(move || probe.run_here());
        match worker.map(|h| h.join()) {
            Ok(Ok(v)) => v,
            Ok(Err(_)) => PortVerdict::CannotProbe("the probe thread panicked".into()),
            Err(e) => PortVerdict::CannotProbe(format!("cannot start the probe thread: {e}")),
        }
    }

    fn run_here(&self) -> PortVerdict {
        if let Some(ns) = &self.netns
            && let Err(e) = crate::prober::enter_netns_for_probe(ns)
        {
            return PortVerdict::CannotProbe(e.to_string());
        }
        let addr: Option<SocketAddr> = match (self.host.as_str(), self.port).to_socket_addrs() {
            Ok(mut a) => a.next(),
            Err(e) => return PortVerdict::CannotProbe(format!("{}: {e}", self.host)),
        };
        let Some(addr) = addr else {
            return PortVerdict::CannotProbe(format!("{} has no address", self.host));
        };
        match TcpStream::connect_timeout(&addr, self.timeout) {
            Ok(_) => PortVerdict::Open,
            Err(e) => match e.kind() {
                std::io::ErrorKind::ConnectionRefused => PortVerdict::Refused,
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                    PortVerdict::Silent
                }
                _ => PortVerdict::Blocked(strip_os_error(&e)),
            },
        }
    }
}

/// "No route to host (os error 113)" as the C library words it: "No route to host".
fn strip_os_error(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_listening_port_is_open_and_a_closed_one_refused() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let port = l.local_addr().map(|a| a.port()).unwrap_or(0);
        let mut p = PortProbe::migration_port("127.0.0.1");
        p.port = port;
        assert_eq!(p.run(), PortVerdict::Open);
        drop(l);
        assert_eq!(p.run(), PortVerdict::Refused);
        assert!(p.run().passes());
    }

    #[test]
    fn an_unknown_name_or_namespace_cannot_be_probed() {
        let p = PortProbe::migration_port("no-such-host.invalid");
        assert!(
            matches!(p.run(), PortVerdict::CannotProbe(m) if m.contains("no-such-host.invalid"))
        );
        let mut p = PortProbe::migration_port("127.0.0.1");
        p.netns = Some("migralab-no-such-ns".into());
        assert!(
            matches!(p.run(), PortVerdict::CannotProbe(m) if m.contains("migralab-no-such-ns"))
        );
    }
}
