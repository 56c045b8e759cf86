//! `migralab ping`, run for real against loopback (needs an ICMP socket: root, as CI has, or an
//! open net.ipv4.ping_group_range).

use crate::common::{Run, migralab};
use crate::machine_exclusive;

#[test]
fn loopback_for_a_second_answers_every_probe_and_saves_a_trace() {
    let _machine = machine_exclusive();
    let dir = std::env::temp_dir().join(format!("migralab-ping-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("ping.json");
    let Run {
        code,
        stdout,
        stderr,
    } = migralab(&[
        "ping",
        "127.0.0.1",
        "--duration",
        "1",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("pinging 127.0.0.1 every 10 ms"), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let sent = v["summary"]["sent"].as_u64().unwrap();
    assert!(sent >= 80, "{sent} probes in a second at 10 ms");
    assert_eq!(v["summary"]["lost"], 0);
    assert_eq!(v["samples"].as_array().unwrap().len() as u64, sent);
    let trace =
        migralab_sim_core::Trace::from_json(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(trace.backend, "real");
    assert_eq!(trace.pings().count() as u64, sent);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_human_summary_names_the_loss_windows() {
    let _machine = machine_exclusive();
    let Run {
        code,
        stdout,
        stderr,
    } = migralab(&["ping", "127.0.0.1", "--duration", "0.5"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("lost 0"), "{stdout}");
    assert!(stdout.contains("no loss window"), "{stdout}");
    assert!(stdout.contains("send schedule drift"), "{stdout}");
}

#[test]
fn bad_input_exits_2_with_the_reason() {
    let Run { code, stderr, .. } = migralab(&["ping", "10.0.0.999"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not an IPv4 address"), "{stderr}");
    let Run { code, stderr, .. } = migralab(&[
        "ping",
        "127.0.0.1",
        "--netns",
        "no-such-ns-migralab",
        "--duration",
        "1",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no-such-ns-migralab"), "{stderr}");
    let Run { code, stderr, .. } = migralab(&["ping", "127.0.0.1", "--interval", "0"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--interval"), "{stderr}");
}
