//! ICMP echo on the wire: opening the socket (datagram, else raw), entering a network namespace,
//! building requests and recognising our replies.
//!
//! Each request carries a payload of 16 bytes: this prober's 64-bit token, then the 64-bit
//! sequence number. A raw socket sees every ICMP packet of the namespace (other probers' replies,
//! our own requests on loopback), so a reply is ours only if it is an echo reply carrying our
//! token; the full sequence number also survives the 16-bit wrap of the ICMP header's field.

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use nix::sched::{CloneFlags, setns};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::{ProberError, SocketKind};

const ECHO_REQUEST: u8 = 8;
const ECHO_REPLY: u8 = 0;
const HEADER_LEN: usize = 8;
/// ICMP header + token + sequence number.
pub(crate) const PACKET_LEN: usize = HEADER_LEN + 16;

/// Enter the network namespace `/run/netns/NAME` on the calling thread (only).
pub(crate) fn enter_netns(name: &str) -> Result<(), ProberError> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err(ProberError::InvalidConfig {
            reason: format!(
                "`{name}` is not a network namespace name (as `ip netns list` shows them)"
            ),
        });
    }
    let path = format!("/run/netns/{name}");
    let file = File::open(&path).map_err(|source| ProberError::NetnsOpen {
        name: name.to_string(),
        path: path.clone(),
        source,
    })?;
    setns(&file, CloneFlags::CLONE_NEWNET).map_err(|source| ProberError::NetnsEnter {
        name: name.to_string(),
        source,
    })
}

/// Open an ICMP socket connected to `target`: unprivileged datagram when
/// `net.ipv4.ping_group_range` allows it, raw otherwise. Connecting makes the kernel drop
/// replies from other addresses. `recv_timeout` bounds each blocking read.
pub(crate) fn open_socket(
    target: Ipv4Addr,
    netns: Option<&str>,
    recv_timeout: Duration,
) -> Result<(Socket, SocketKind), ProberError> {
    let (socket, kind) = match Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::ICMPV4)) {
        Ok(s) => (s, SocketKind::Datagram),
        Err(dgram) => match Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::ICMPV4)) {
            Ok(s) => (s, SocketKind::Raw),
            Err(raw) => {
                return Err(ProberError::NoIcmpSocket {
                    netns: netns.map(str::to_string),
                    dgram,
                    raw,
                });
            }
        },
    };
    let addr = SockAddr::from(SocketAddrV4::new(target, 0));
    let io = |what: &'static str| {
        move |source| ProberError::Socket {
            what,
            target,
            source,
        }
    };
    socket.connect(&addr).map_err(io("connect"))?;
    socket
        .set_read_timeout(Some(recv_timeout))
        .map_err(io("set the receive timeout of"))?;
    Ok((socket, kind))
}

/// RFC 1071 Internet checksum.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request. On a datagram socket the kernel replaces `ident` and the checksum.
pub(crate) fn echo_request(ident: u16, token: u64, seq: u64) -> [u8; PACKET_LEN] {
    let mut p = [0u8; PACKET_LEN];
    p[0] = ECHO_REQUEST;
    p[4..6].copy_from_slice(&ident.to_be_bytes());
    // The header's 16-bit field wraps after 655 s at 10 ms; the payload has the full number.
    p[6..8].copy_from_slice(&((seq & 0xffff) as u16).to_be_bytes());
    p[8..16].copy_from_slice(&token.to_be_bytes());
    p[16..24].copy_from_slice(&seq.to_be_bytes());
    let sum = checksum(&p);
    p[2..4].copy_from_slice(&sum.to_be_bytes());
    p
}

/// The sequence number of our echo reply in `buf` as read from a socket of `kind`, or `None`
/// for anything else (other ICMP types, other probers' replies, truncated packets).
pub(crate) fn parse_reply(buf: &[u8], kind: SocketKind, token: u64) -> Option<u64> {
    let icmp = match kind {
        SocketKind::Datagram => buf,
        SocketKind::Raw => {
            // A raw IPv4 socket hands over the IP header too.
            let ihl = usize::from(*buf.first()? & 0x0f) * 4;
            buf.get(ihl..)?
        }
    };
    if icmp.len() < PACKET_LEN || icmp[0] != ECHO_REPLY || icmp[1] != 0 {
        return None;
    }
    let field = |r: std::ops::Range<usize>| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&icmp[r]);
        u64::from_be_bytes(b)
    };
    if field(8..16) != token {
        return None;
    }
    let seq = field(16..24);
    (u16::from_be_bytes([icmp[6], icmp[7]]) == (seq & 0xffff) as u16).then_some(seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_has_a_valid_checksum_and_carries_token_and_seq() {
        let p = echo_request(0x1234, 0xdead_beef_0000_0001, 70_000);
        assert_eq!(p[0], ECHO_REQUEST);
        assert_eq!(checksum(&p), 0, "a packet with its checksum sums to zero");
        assert_eq!(&p[6..8], &((70_000u64 & 0xffff) as u16).to_be_bytes());
    }

    fn as_reply(mut p: [u8; PACKET_LEN]) -> [u8; PACKET_LEN] {
        p[0] = ECHO_REPLY;
        p
    }

    #[test]
    fn replies_are_recognised_on_datagram_and_raw_sockets() {
        let token = 42;
        let reply = as_reply(echo_request(7, token, 70_000));
        assert_eq!(
            parse_reply(&reply, SocketKind::Datagram, token),
            Some(70_000)
        );
        let mut ip = vec![0x45u8; 1];
        ip.resize(20, 0);
        ip.extend_from_slice(&reply);
        assert_eq!(parse_reply(&ip, SocketKind::Raw, token), Some(70_000));
    }

    #[test]
    fn requests_foreign_tokens_and_short_packets_are_not_ours() {
        let req = echo_request(7, 42, 5);
        assert_eq!(parse_reply(&req, SocketKind::Datagram, 42), None);
        let reply = as_reply(req);
        assert_eq!(parse_reply(&reply, SocketKind::Datagram, 43), None);
        assert_eq!(parse_reply(&reply[..12], SocketKind::Datagram, 42), None);
        assert_eq!(parse_reply(&[], SocketKind::Raw, 42), None);
    }
}
