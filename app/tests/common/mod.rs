//! Helpers shared by the integration tests that need a real machine.

/// Does this test run as root (namespaces, libvirtd, mounts)? Read from /proc, no libc call.
#[allow(dead_code)] // not every test binary that shares this module needs root
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

/// Run the `migralab` binary with `args`: (exit code, stdout, stderr).
#[allow(dead_code)] // not every test binary that shares this module runs the binary
pub fn migralab(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_migralab"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run migralab: {e}"));
    (
        out.status
            .code()
            .unwrap_or_else(|| panic!("migralab was killed by a signal")),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
