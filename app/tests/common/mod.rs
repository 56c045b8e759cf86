//! Helpers shared by the integration tests that need a real machine.

/// Does this test run as root (namespaces, libvirtd, mounts)? Read from /proc, no libc call.
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}
