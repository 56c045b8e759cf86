//! The same virsh commands typed on the lab in a box and on its simulated twin (the lab shell
//! over `scenarios/labbox.toml`), their output compared line by line for layout, field names
//! and units (issue 20 §3). Values may differ (ids, UUIDs, sizes, times, the CPU model); the
//! shape may not: [`shape`] keeps the layout and blanks the values.
//!
//! It runs inside the labbox test (one lab up per test run) right after `up`, and leaves the lab
//! as it found it: db01 running on kvm-host-01, nothing defined on kvm-host-02.

use migralab_real::labbox::{LabboxConfig, host_command};
use migralab_shell::{Lang, Shell};
use migralab_sim_core::Scenario;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const SRC: &str = "kvm-host-01";
const DST: &str = "kvm-host-02";

/// What one command printed (stdout and stderr in order) and its exit status.
#[derive(Debug, Clone)]
struct Said {
    text: String,
    status: i32,
}

/// The lab in a box: each command runs inside a host's namespaces, as typed there.
struct Real<'a> {
    cfg: &'a LabboxConfig,
}

impl Real<'_> {
    fn sh(&self, host: &str, line: &str) -> std::process::Command {
        let mut c = host_command(self.cfg, host, "sh").expect("a lab host");
        // `2>&1` inside the host keeps stdout and stderr in the order virsh wrote them.
        c.args(["-c", &format!("{line} 2>&1")])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn run(&self, host: &str, line: &str) -> Said {
        let out = self.sh(host, line).output().expect("sh in a lab host");
        Said {
            text: String::from_utf8_lossy(&out.stdout).into_owned(),
            status: out.status.code().unwrap_or(-1),
        }
    }

    fn spawn(&self, host: &str, line: &str) -> Child {
        self.sh(host, line).spawn().expect("sh in a lab host")
    }
}

/// The simulated twin: one lab shell, logged in on kvm-host-01.
struct Sim {
    shell: Shell,
}

impl Sim {
    fn new() -> Sim {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../scenarios/labbox.toml");
        let text = std::fs::read_to_string(path).expect("scenarios/labbox.toml");
        let scenario = Scenario::from_toml_str(&text).expect("labbox.toml loads");
        Sim {
            shell: Shell::new(scenario, Lang::En),
        }
    }

    /// `line` typed on `host` (through `ssh HOST` when it is not the shell's own host). The
    /// lab's own hint and note lines are not virsh's and are dropped.
    fn run(&mut self, host: &str, line: &str) -> Said {
        let away = self.shell.current_host() != host;
        if away {
            let s = self.shell.run_line(&format!("ssh {host}"));
            assert_eq!(s.status, 0, "sim: ssh {host}: {}", s.text);
        }
        let out = self.shell.run_line(line);
        if away {
            self.shell.run_line("exit");
        }
        let text = out
            .text
            .lines()
            .filter(|l| !l.starts_with("hint: ") && !l.starts_with("note: "))
            .map(|l| format!("{l}\n"))
            .collect();
        Said {
            text,
            status: out.status,
        }
    }
}

/// One output reduced to its shape: every line kept, values blanked.
///
/// - A UUID becomes `<uuid>`, a MAC address `<mac>`.
/// - A number becomes `#`; when blanks pad it to a column (virsh's `%-12llu ms`), the blanks
///   are kept so that what follows stays in its column; a single blank stays a single blank.
/// - An XML line keeps its element and attribute names and the attribute values that are
///   words of libvirt's format (`policy`, `mode`, `match`, `fallback`, `check`, `unit`, `type`);
///   other values and text content become `…`. Runs of identical lines (a CPU's features,
///   whose number depends on the model) collapse to one.
pub(crate) fn shape(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in text.lines() {
        let s = if line.trim_start().starts_with('<') {
            xml_shape(line)
        } else {
            text_shape(line)
        };
        let xml = line.trim_start().starts_with('<');
        if xml && out.last() == Some(&s) {
            continue;
        }
        out.push(s);
    }
    out
}

fn is_hex(c: char) -> bool {
    c.is_ascii_hexdigit()
}

/// Length of a UUID (8-4-4-4-12 hex digits) at the start of `s`, if there is one.
fn uuid_at(s: &str) -> Option<usize> {
    let groups = [8, 4, 4, 4, 12];
    let b: Vec<char> = s.chars().take(36).collect();
    let mut i = 0;
    for (k, n) in groups.iter().enumerate() {
        for _ in 0..*n {
            if !b.get(i).copied().is_some_and(is_hex) {
                return None;
            }
            i += 1;
        }
        if k < 4 {
            if b.get(i) != Some(&'-') {
                return None;
            }
            i += 1;
        }
    }
    Some(36)
}

/// Length of a MAC address (six hex pairs joined by `:`) at the start of `s`, if there is one.
fn mac_at(s: &str) -> Option<usize> {
    let b: Vec<char> = s.chars().take(17).collect();
    for k in 0..6 {
        let at = k * 3;
        if !(b.get(at).copied().is_some_and(is_hex) && b.get(at + 1).copied().is_some_and(is_hex)) {
            return None;
        }
        if k < 5 && b.get(at + 2) != Some(&':') {
            return None;
        }
    }
    Some(17)
}

fn text_shape(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let rest: String = chars[i..].iter().collect();
        // `kvm-host-02`, `x86_64`, `db01`: digits inside a name are part of it.
        let word_start =
            i == 0 || !(chars[i - 1].is_ascii_alphanumeric() || matches!(chars[i - 1], '-' | '_'));
        if word_start && let Some(n) = uuid_at(&rest) {
            out.push_str("<uuid>");
            i += n;
            continue;
        }
        if word_start && let Some(n) = mac_at(&rest) {
            out.push_str("<mac>");
            i += n;
            continue;
        }
        // A number: digits, maybe a fraction. Part of a word (`db01`, `kvm-host-02`,
        // `x86_64`) it stays: those are names, and both labs use the same.
        if chars[i].is_ascii_digit() && word_start {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && (chars[i].is_ascii_alphabetic() && chars[i] != 's') {
                // `kvm-host-02`-like word or a version glued to letters: keep as it is.
                out.extend(&chars[start..i]);
                continue;
            }
            let mut blanks = 0;
            while i + blanks < chars.len() && chars[i + blanks] == ' ' {
                blanks += 1;
            }
            out.push('#');
            if blanks >= 2 || (blanks > 0 && i + blanks == chars.len()) {
                // Padded to a column: keep the column.
                let width = (i - start) + blanks;
                out.extend(std::iter::repeat_n(' ', width.saturating_sub(1)));
            } else {
                out.extend(std::iter::repeat_n(' ', blanks));
            }
            i += blanks;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Attribute values that are words of libvirt's XML, not values of this machine.
const KEEP_ATTRS: [&str; 7] = [
    "policy", "mode", "match", "fallback", "check", "unit", "type",
];

fn xml_shape(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    // Inside a tag: names kept, values blanked unless kept; between tags: text blanked.
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        if !text.trim().is_empty() {
            out.push('…');
        } else {
            out.push_str(text);
        }
        let Some(gt) = rest[lt..].find('>') else {
            out.push_str(&rest[lt..]);
            return out;
        };
        let tag = &rest[lt..lt + gt + 1];
        out.push_str(&tag_shape(tag));
        rest = &rest[lt + gt + 1..];
    }
    if !rest.trim().is_empty() {
        out.push('…');
    }
    out
}

fn tag_shape(tag: &str) -> String {
    let mut out = String::new();
    let mut rest = tag;
    while let Some(q) = rest.find(['\'', '"']) {
        let quote = rest[q..].chars().next().unwrap_or('\'');
        let before = &rest[..q];
        let name = before
            .trim_end_matches('=')
            .rsplit([' ', '<'])
            .next()
            .unwrap_or("");
        out.push_str(before);
        let Some(end) = rest[q + 1..].find(quote) else {
            out.push_str(&rest[q..]);
            return out;
        };
        let value = &rest[q + 1..q + 1 + end];
        out.push(quote);
        if KEEP_ATTRS.contains(&name) {
            out.push_str(value);
        } else {
            out.push('…');
        }
        out.push(quote);
        rest = &rest[q + 1 + end + 1..];
    }
    out.push_str(rest);
    out
}

/// The `<cpu>` block of the host in `virsh capabilities`.
fn host_cpu_block(caps: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for l in caps.lines() {
        if !inside && l.trim() == "<cpu>" {
            inside = true;
        }
        if inside {
            out.push_str(l);
            out.push('\n');
            if l.trim() == "</cpu>" {
                break;
            }
        }
    }
    out
}

/// The comparisons made so far, and what differed.
#[derive(Default)]
struct Report {
    compared: usize,
    differences: Vec<String>,
}

impl Report {
    fn compare(&mut self, what: &str, real: &Said, sim: &Said) {
        self.compare_text(what, &real.text, &sim.text);
        if real.status != sim.status {
            self.differences.push(format!(
                "{what}: exit status {} (real) vs {} (sim)",
                real.status, sim.status
            ));
        }
    }

    fn compare_text(&mut self, what: &str, real: &str, sim: &str) {
        self.compared += 1;
        let (r, s) = (shape(real), shape(sim));
        if r == s {
            return;
        }
        let mut d = format!("{what}: the shapes differ\n");
        let n = r.len().max(s.len());
        for k in 0..n {
            let (a, b) = (r.get(k), s.get(k));
            let mark = if a == b { ' ' } else { '!' };
            d.push_str(&format!(
                "  {mark} real |{}|\n  {mark}  sim |{}|\n",
                a.map_or("<none>", String::as_str),
                b.map_or("<none>", String::as_str)
            ));
        }
        d.push_str(&format!("  raw real:\n{real}\n  raw sim:\n{sim}\n"));
        self.differences.push(d);
    }
}

/// Type `line` on `host` in both labs and compare.
fn both(report: &mut Report, real: &Real, sim: &mut Sim, host: &str, line: &str) -> (Said, Said) {
    let r = real.run(host, line);
    let s = sim.run(host, line);
    report.compare(&format!("`{line}` on {host}"), &r, &s);
    (r, s)
}

/// Every comparison; panics listing each command whose output has another shape.
pub(crate) fn virsh_outputs_match(cfg: &LabboxConfig) {
    let t0 = Instant::now();
    let real = Real { cfg };
    let mut sim = Sim::new();
    let mut report = Report::default();

    // The lab as `up` leaves it: db01 running on kvm-host-01, nothing on kvm-host-02.
    for (host, line) in [
        (SRC, "virsh list"),
        (SRC, "virsh list --all"),
        (DST, "virsh list --all"),
        (SRC, "virsh dominfo db01"),
        (SRC, "virsh domstate db01"),
        (SRC, "virsh domstate --reason db01"),
        (SRC, "virsh domjobinfo db01"),
        (SRC, "virsh domifaddr db01"),
        (SRC, "virsh migrate-getspeed db01"),
        (SRC, "virsh migrate-getmaxdowntime db01"),
        // libvirt's error texts.
        (
            SRC,
            "virsh migrate --live nosuch qemu+ssh://kvm-host-02/system",
        ),
        (SRC, "virsh migrate --live db01 kvm-host-02"),
        (
            SRC,
            "virsh migrate --live --bogus db01 qemu+ssh://kvm-host-02/system",
        ),
        (SRC, "virsh dominfo nosuch"),
        (SRC, "virsh list --bogus"),
        (SRC, "virsh migrat"),
    ] {
        both(&mut report, &real, &mut sim, host, line);
    }

    // The host's <cpu> in the capabilities, and the baseline computed from them.
    let r = real.run(SRC, "virsh capabilities");
    let s = sim.run(SRC, "virsh capabilities");
    report.compare_text(
        "the <cpu> block of `virsh capabilities`",
        &host_cpu_block(&r.text),
        &host_cpu_block(&s.text),
    );
    let caps = format!("/tmp/migralab-conformance-{}.xml", std::process::id());
    let r = real.run(
        SRC,
        &format!("virsh capabilities > {caps} && virsh cpu-baseline {caps}; rm -f {caps}"),
    );
    sim.run(SRC, "virsh capabilities > caps.xml");
    let s = sim.run(SRC, "virsh cpu-baseline caps.xml");
    report.compare("`virsh cpu-baseline` of the capabilities", &r, &s);

    // A migration slow enough to be watched: domjobinfo on the source while it runs.
    let migrate =
        "virsh migrate --live --persistent db01 qemu+ssh://kvm-host-02/system --bandwidth 20";
    let child = real.spawn(SRC, migrate);
    let sim_bg = sim.run(SRC, &format!("{migrate} &"));
    assert_eq!(sim_bg.status, 0, "sim: {migrate} &: {}", sim_bg.text);
    // The sim's job has run for the second a typed line takes, past its setup. The real one is
    // asked until QEMU reports its steady statistics: during setup libvirt prints only the
    // time, and QEMU's first sample has no bandwidth yet (libvirt skips a zero one).
    let line = "virsh domjobinfo db01";
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut r = real.run(SRC, line);
    while !r.text.contains("Memory bandwidth:") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        r = real.run(SRC, line);
    }
    let s = sim.run(SRC, line);
    report.compare(&format!("`{line}` on {SRC} during the migration"), &r, &s);
    let out = child.wait_with_output().expect("the real migration");
    let sim_done = sim.run(SRC, "wait");
    assert!(
        out.status.success(),
        "real: {migrate}: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(sim_done.status, 0, "sim: wait: {}", sim_done.text);

    // After it: the completed job's statistics and the domains on both sides.
    for (host, line) in [
        (SRC, "virsh domjobinfo --completed db01"),
        (DST, "virsh domjobinfo --completed db01"),
        (SRC, "virsh domjobinfo db01"),
        (SRC, "virsh domstate --reason db01"),
        (DST, "virsh domstate --reason db01"),
        (SRC, "virsh list --all"),
        (DST, "virsh list --all"),
        (DST, "virsh dominfo db01"),
    ] {
        both(&mut report, &real, &mut sim, host, line);
    }

    // Back, so the lab is as `up` left it.
    let back =
        "virsh migrate --live --persistent --undefinesource db01 qemu+ssh://kvm-host-01/system";
    let (r, s) = both(&mut report, &real, &mut sim, DST, back);
    assert_eq!((r.status, s.status), (0, 0), "back: {r:?} / {s:?}");
    both(
        &mut report,
        &real,
        &mut sim,
        SRC,
        "virsh domstate --reason db01",
    );

    eprintln!(
        "    virsh conformance: {} outputs compared in {:.1} s, {} differ",
        report.compared,
        t0.elapsed().as_secs_f64(),
        report.differences.len()
    );
    assert!(
        report.differences.is_empty(),
        "the simulated lab's virsh prints another shape than libvirt 11.3's:\n\n{}",
        report.differences.join("\n")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_numbers_keep_their_column_and_values_vanish() {
        let a = shape("Time elapsed:     262          ms\nData total:       1.500 MiB\n");
        let b = shape("Time elapsed:     1024         ms\nData total:       92.044 MiB\n");
        assert_eq!(a, b);
        assert_eq!(a[0], "Time elapsed:     #            ms");
        // A shifted unit is another layout.
        assert_ne!(
            shape("Time elapsed:     262 ms"),
            shape("Time elapsed:     262          ms")
        );
    }

    #[test]
    fn names_uuids_and_macs() {
        assert_eq!(
            shape(
                " 1    db01   running\nUUID:           6d1a0b52-7701-4c1a-9b01-000000000001\n vnet0      52:54:00:77:00:0a    ipv4         10.77.0.10/24"
            ),
            [
                " #    db01   running",
                "UUID:           <uuid>",
                " vnet0      <mac>    ipv4         #/#"
            ]
        );
        assert_ne!(shape("running"), shape("shut off"));
    }

    #[test]
    fn xml_keeps_names_and_libvirt_words_and_collapses_feature_lists() {
        let a = "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>EPYC</model>\n  <feature policy='require' name='x2apic'/>\n  <feature policy='require' name='avx2'/>\n</cpu>\n";
        let b = "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>Haswell</model>\n  <feature policy='require' name='pcid'/>\n</cpu>\n";
        assert_eq!(shape(a), shape(b));
        let c = "<cpu mode='custom' match='exact' check='partial'>\n  <model fallback='allow'>Haswell</model>\n  <feature policy='require' name='pcid'/>\n</cpu>\n";
        assert_ne!(shape(a), shape(c));
    }
}
