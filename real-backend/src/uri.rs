//! libvirt connection URIs. A `qemu+ssh://` URI is made non-interactive (`no_tty=1`) so that a
//! missing SSH key fails with ssh's own error instead of hanging on a password prompt that the
//! app cannot show.

/// A URI that cannot be used, with what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// Not of the form `driver[+transport]://[user@]host[:port]/path[?query]`.
    #[error("`{uri}` is not a libvirt URI (expected e.g. qemu+ssh://kvm-host-02/system): {reason}")]
    Malformed {
        /// The URI as given.
        uri: String,
        /// What is missing.
        reason: &'static str,
    },
}

/// A libvirt URI split into the parts real mode cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibvirtUri {
    /// `qemu`, `test`, ...
    pub driver: String,
    /// `ssh`, `tcp`, `tls`, `unix`, or none (local).
    pub transport: Option<String>,
    /// `user@host[:port]`, empty for a local socket.
    pub authority: String,
    /// `/system` or `/session` (or a test-driver path).
    pub path: String,
    /// Query parameters in the order given.
    pub query: Vec<(String, String)>,
}

impl LibvirtUri {
    /// Parse a URI such as `qemu+ssh://root@kvm-host-02/system?keyfile=/root/.ssh/id_ed25519`.
    pub fn parse(uri: &str) -> Result<Self, UriError> {
        let bad = |reason| UriError::Malformed {
            uri: uri.to_string(),
            reason,
        };
        let (scheme, rest) = uri.split_once("://").ok_or_else(|| bad("no `://`"))?;
        if scheme.is_empty() {
            return Err(bad("no driver before `://`"));
        }
        let (driver, transport) = match scheme.split_once('+') {
            Some((d, t)) if !t.is_empty() => (d.to_string(), Some(t.to_string())),
            Some(_) => return Err(bad("empty transport after `+`")),
            None => (scheme.to_string(), None),
        };
        let (before_query, query) = match rest.split_once('?') {
            Some((b, q)) => (b, q),
            None => (rest, ""),
        };
        let (authority, path) = match before_query.find('/') {
            Some(i) => (&before_query[..i], &before_query[i..]),
            None => (before_query, ""),
        };
        if transport.as_deref() == Some("ssh") && authority.is_empty() {
            return Err(bad("an ssh URI needs a host"));
        }
        let query = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (p.to_string(), String::new()),
            })
            .collect();
        Ok(LibvirtUri {
            driver,
            transport,
            authority: authority.to_string(),
            path: path.to_string(),
            query,
        })
    }

    /// The host name (without user and port), if the URI names one.
    pub fn host(&self) -> Option<&str> {
        let after_user = self.authority.rsplit('@').next().unwrap_or("");
        let host = after_user.split(':').next().unwrap_or("");
        (!host.is_empty()).then_some(host)
    }

    /// For ssh transports, add `no_tty=1` unless the URI already sets `no_tty`.
    pub fn non_interactive(mut self) -> Self {
        if self.transport.as_deref() == Some("ssh")
            && !self.query.iter().any(|(k, _)| k == "no_tty")
        {
            self.query.push(("no_tty".into(), "1".into()));
        }
        self
    }
}

impl std::fmt::Display for LibvirtUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.driver)?;
        if let Some(t) = &self.transport {
            write!(f, "+{t}")?;
        }
        write!(f, "://{}{}", self.authority, self.path)?;
        for (i, (k, v)) in self.query.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            if v.is_empty() {
                write!(f, "{sep}{k}")?;
            } else {
                write!(f, "{sep}{k}={v}")?;
            }
        }
        Ok(())
    }
}

/// Parse `uri` and make it non-interactive, as real mode connects with it.
pub fn connection_uri(uri: &str) -> Result<String, UriError> {
    Ok(LibvirtUri::parse(uri)?.non_interactive().to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ssh_uris_get_no_tty_once() {
        assert_eq!(
            connection_uri("qemu+ssh://kvm-host-02/system").unwrap(),
            "qemu+ssh://kvm-host-02/system?no_tty=1"
        );
        assert_eq!(
            connection_uri("qemu+ssh://root@kvm-host-02:2222/system?keyfile=/k").unwrap(),
            "qemu+ssh://root@kvm-host-02:2222/system?keyfile=/k&no_tty=1"
        );
        assert_eq!(
            connection_uri("qemu+ssh://h/system?no_tty=0").unwrap(),
            "qemu+ssh://h/system?no_tty=0"
        );
    }

    #[test]
    fn other_transports_are_left_alone() {
        assert_eq!(connection_uri("qemu:///system").unwrap(), "qemu:///system");
        assert_eq!(
            connection_uri("qemu+tcp://10.77.0.2/system").unwrap(),
            "qemu+tcp://10.77.0.2/system"
        );
        assert_eq!(
            connection_uri("qemu+unix:///system?socket=/run/lab/h1/libvirt-sock").unwrap(),
            "qemu+unix:///system?socket=/run/lab/h1/libvirt-sock"
        );
    }

    #[test]
    fn host_is_found_behind_user_and_port() {
        assert_eq!(
            LibvirtUri::parse("qemu+ssh://root@kvm-host-02:22/system")
                .unwrap()
                .host(),
            Some("kvm-host-02")
        );
        assert_eq!(LibvirtUri::parse("qemu:///system").unwrap().host(), None);
    }

    #[test]
    fn malformed_uris_say_what_is_wrong() {
        let e = connection_uri("kvm-host-02").unwrap_err().to_string();
        assert!(
            e.contains("not a libvirt URI") && e.contains("no `://`"),
            "{e}"
        );
        assert!(connection_uri("qemu+ssh:///system").is_err());
        assert!(connection_uri("qemu+://h/system").is_err());
    }
}
