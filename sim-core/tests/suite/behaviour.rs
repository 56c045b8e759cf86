//! The pre-copy engine's behaviour, checked against what QEMU does and against the closed-form
//! geometric-series model of pre-copy (reference/migration-facts.md §4.2).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use migralab_sim_core::units::{GIB, MIB, NORMAL_PAGE_WIRE_BYTES, PAGE_SIZE, ZERO_PAGE_WIRE_BYTES};
use migralab_sim_core::{Outcome, RunSummary, Scenario, Simulator, Trace, TraceKind};

/// A one-VM lab on a link of `link_mibps`, with extra TOML lines for the VM, the migration and the rest.
fn lab(link_mibps: f64, vm: &str, migration: &str, extra: &str) -> Scenario {
    let text = format!(
        r#"
name = "t"
seed = 5
[[host]]
name = "a"
[[host]]
name = "b"
[link]
bandwidth_mibps = {link_mibps}
[storage]
kind = "shared"
[[vm]]
name = "vm"
host = "a"
{vm}
[[migration]]
vm = "vm"
to = "b"
{migration}
{extra}
"#
    );
    Scenario::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn outcome(trace: &Trace) -> Outcome {
    trace
        .outcomes()
        .next()
        .map(|(_, o)| o.clone())
        .expect("a finished migration")
}

fn completed(trace: &Trace) -> (u64, u64, u64, u64, u64) {
    match outcome(trace) {
        Outcome::Completed {
            total_ms,
            downtime_ms,
            memory_bytes,
            disk_bytes,
            iterations,
        } => (total_ms, downtime_ms, memory_bytes, disk_bytes, iterations),
        other => panic!("expected completed, got {other:?}"),
    }
}

#[test]
fn first_pass_is_the_data_pages_and_firmware() {
    let t = Simulator::run(lab(112.0, "ram_mib = 1024\nzero_fraction = 0.75", "", ""));
    let (_, _, memory, _, iterations) = completed(&t);
    let pages = 1024 * MIB / PAGE_SIZE;
    let data = pages / 4;
    // An idle guest: the first pass is all there is, zero pages cost 9 bytes instead of 4104,
    // and the machine's ROMs (640 KiB, 432 of them data) follow RAM.
    let zero = pages - data + 208 * 1024 / PAGE_SIZE;
    let data = data + 432 * 1024 / PAGE_SIZE;
    assert_eq!(
        memory,
        zero * ZERO_PAGE_WIRE_BYTES + data * NORMAL_PAGE_WIRE_BYTES
    );
    // Setup sync, the exact sync when the estimate fell under the threshold, the final sync.
    assert_eq!(
        iterations, 3,
        "an idle guest needs three syncs, as QEMU reports"
    );
}

#[test]
fn first_pass_is_sent_before_the_first_real_sync_even_when_busy() {
    let t = Simulator::run(lab(
        112.0,
        "ram_mib = 512\nzero_fraction = 0.5\n[vm.workload]\nkind = \"hot-set\"\nset_mib = 32\nrate_mibps = 20.0",
        "",
        "",
    ));
    // Progress samples before the second sync never exceed one full first pass.
    let pages = 512 * MIB / PAGE_SIZE;
    let first_pass = pages / 2 * ZERO_PAGE_WIRE_BYTES + pages / 2 * NORMAL_PAGE_WIRE_BYTES;
    let second_sync_at = t
        .syncs("vm")
        .find(|(_, s)| s.iteration == 2)
        .map(|(t, _)| t)
        .expect("a second sync");
    for (at, s) in t.samples("vm") {
        if at < second_sync_at {
            assert!(s.memory_processed <= first_pass);
        }
    }
    let (_, _, memory, _, _) = completed(&t);
    assert!(memory > first_pass, "re-dirtied pages are sent again");
}

fn iterations_at(rate_mibps: f64) -> u64 {
    let vm = format!(
        "ram_mib = 2048\n[vm.workload]\nkind = \"hot-set\"\nset_mib = 1024\nrate_mibps = {rate_mibps}"
    );
    let t = Simulator::run(lab(112.0, &vm, "", "[sim]\nmax_time_s = 300.0"));
    completed(&t).4
}

#[test]
fn iterations_grow_as_the_dirty_rate_approaches_the_bandwidth() {
    let rates = [5.0, 40.0, 70.0, 90.0];
    let its: Vec<u64> = rates.iter().map(|r| iterations_at(*r)).collect();
    assert!(
        its.windows(2).all(|w| w[0] <= w[1]),
        "iterations by rate {rates:?}: {its:?}"
    );
    assert!(
        its[3] >= its[0] + 4,
        "iterations by rate {rates:?}: {its:?}"
    );
}

#[test]
fn writing_faster_than_the_link_never_converges_without_auto_converge() {
    let vm =
        "ram_mib = 2048\n[vm.workload]\nkind = \"hot-set\"\nset_mib = 1024\nrate_mibps = 150.0";
    let t = Simulator::run(lab(112.0, vm, "", "[sim]\nmax_time_s = 120.0"));
    match outcome(&t) {
        Outcome::NotConverged {
            iterations,
            history,
            ..
        } => {
            assert!(iterations > 5);
            // Each pass leaves far more than the threshold pending.
            assert!(
                history
                    .iter()
                    .skip(1)
                    .all(|s| s.remaining_bytes > 4 * s.threshold_bytes)
            );
        }
        other => panic!("expected not-converged, got {other:?}"),
    }
    let t = Simulator::run(lab(
        112.0,
        vm,
        "auto_converge = true",
        "[sim]\nmax_time_s = 120.0",
    ));
    let (_, downtime, ..) = completed(&t);
    assert!(downtime < 1000);
    let max_throttle = t
        .samples("vm")
        .map(|(_, s)| s.throttle_pct)
        .max()
        .unwrap_or(0);
    assert!(
        max_throttle >= 20,
        "auto-converge throttled the vCPUs ({max_throttle} %)"
    );
    // QEMU's steps: 20 % first, then +10 %.
    let mut steps: Vec<u8> = t
        .syncs("vm")
        .map(|(_, s)| s.throttle_pct)
        .filter(|p| *p > 0)
        .collect();
    steps.dedup();
    assert_eq!(steps.first(), Some(&20));
    assert!(steps.windows(2).all(|w| w[1] == w[0] + 10), "{steps:?}");
}

#[test]
fn auto_converge_steps_are_tunable() {
    let vm =
        "ram_mib = 2048\n[vm.workload]\nkind = \"hot-set\"\nset_mib = 1024\nrate_mibps = 150.0";
    let t = Simulator::run(lab(
        112.0,
        vm,
        "auto_converge = true\nauto_converge_initial = 35\nauto_converge_increment = 5",
        "[sim]\nmax_time_s = 200.0",
    ));
    let mut steps: Vec<u8> = t
        .syncs("vm")
        .map(|(_, s)| s.throttle_pct)
        .filter(|p| *p > 0)
        .collect();
    steps.dedup();
    assert_eq!(steps.first(), Some(&35));
    assert!(steps.windows(2).all(|w| w[1] == w[0] + 5), "{steps:?}");
}

fn postcopy_downtime(ram_mib: u64) -> u64 {
    let vm = format!(
        "ram_mib = {ram_mib}\n[vm.workload]\nkind = \"hot-set\"\nset_mib = 512\nrate_mibps = 150.0"
    );
    let t = Simulator::run(lab(
        112.0,
        &vm,
        "postcopy = true\npostcopy_after_precopy = true",
        "[sim]\nmax_time_s = 600.0",
    ));
    completed(&t).1
}

#[test]
fn postcopy_downtime_does_not_depend_on_ram_size() {
    let small = postcopy_downtime(1024);
    let large = postcopy_downtime(8192);
    assert!(
        small.abs_diff(large) <= 2,
        "downtime {small} ms vs {large} ms"
    );
    assert!(
        large < 100,
        "the switch only moves device state: {large} ms"
    );
}

fn storage_copy_time(disk_gib: f64) -> u64 {
    let vm = format!("ram_mib = 2048\ndisk_gib = {disk_gib}\nzero_fraction = 0.5");
    let text_storage = "[storage]\nkind = \"local\"";
    let mut s = lab(112.0, &vm, "copy_storage_all = true", "");
    s.storage = toml_storage(text_storage);
    completed(&Simulator::run(s)).0
}

fn toml_storage(text: &str) -> migralab_sim_core::scenario::StorageSpec {
    #[derive(serde::Deserialize)]
    struct W {
        storage: migralab_sim_core::scenario::StorageSpec,
    }
    toml::from_str::<W>(text).unwrap().storage
}

#[test]
fn copying_storage_grows_with_the_disk_and_dwarfs_shared_storage() {
    let shared = completed(&Simulator::run(lab(
        112.0,
        "ram_mib = 2048\ndisk_gib = 20.0\nzero_fraction = 0.5",
        "",
        "",
    )))
    .0;
    let d5 = storage_copy_time(5.0);
    let d20 = storage_copy_time(20.0);
    assert!(d5 < d20, "{d5} < {d20}");
    assert!(
        d20 >= 10 * shared,
        "20 GiB disk copy {d20} ms vs shared storage {shared} ms"
    );
    // 20 GiB over ~112 MiB/s is about 183 s of disk alone.
    let disk_secs = 20.0 * 1024.0 / 112.0;
    assert!((d20 as f64 / 1000.0) > disk_secs);
}

#[test]
fn local_storage_without_copy_fails_with_libvirts_words() {
    let mut s = lab(112.0, "ram_mib = 512\ndisk_gib = 10.0", "", "");
    s.storage = toml_storage("[storage]\nkind = \"local\"");
    let t = Simulator::run(s.clone());
    let summary = RunSummary::of(&t);
    assert_eq!(summary.outcome.status, "failed");
    assert_eq!(
        summary.outcome.error.as_deref(),
        Some("Unsafe migration: Migration without shared storage is unsafe")
    );
    s.migrations[0].unsafe_ = true;
    let t = Simulator::run(s);
    let err = RunSummary::of(&t).outcome.error.unwrap_or_default();
    assert!(
        err.starts_with("Cannot access storage file '/var/lib/libvirt/images/vm.qcow2'"),
        "{err}"
    );
    // The guest never left: no ping was lost.
    assert_eq!(RunSummary::of(&t).ping.lost, 0);
}

#[test]
fn cloned_hosts_with_one_uuid_are_refused_as_the_same_host() {
    let mut s = lab(112.0, "ram_mib = 512", "", "");
    s.hosts[0].uuid = Some("03000200-0400-0500-0006-000700080009".into());
    s.hosts[1].uuid = Some("03000200-0400-0500-0006-000700080009".into());
    let e = RunSummary::of(&Simulator::run(s))
        .outcome
        .error
        .unwrap_or_default();
    assert_eq!(
        e,
        "internal error: Attempt to migrate guest to the same host 03000200-0400-0500-0006-000700080009"
    );
}

#[test]
fn bandwidth_cap_limits_the_rate_and_is_measured_as_such() {
    let t = Simulator::run(lab(1120.0, "ram_mib = 512", "bandwidth_mibps = 20", ""));
    let (total_ms, ..) = completed(&t);
    // 512 MiB (+ headers) at 20 MiB/s is 25.65 s, less the last ~300 ms worth (the threshold),
    // which stop-and-copy sends at link speed, ignoring the cap.
    assert!((25_200..25_700).contains(&total_ms), "{total_ms}");
    let bw: Vec<f64> = t
        .samples("vm")
        .map(|(_, s)| s.memory_bps)
        .filter(|b| *b > 0.0)
        .collect();
    let mid = bw[bw.len() / 2] / MIB as f64;
    assert!((19.0..21.5).contains(&mid), "measured {mid} MiB/s");
}

#[test]
fn timeout_suspends_the_guest_and_the_rest_completes_offline() {
    let vm =
        "ram_mib = 2048\n[vm.workload]\nkind = \"hot-set\"\nset_mib = 1024\nrate_mibps = 150.0";
    let t = Simulator::run(lab(
        112.0,
        vm,
        "timeout_s = 30",
        "[sim]\nmax_time_s = 300.0",
    ));
    let (total, downtime, ..) = completed(&t);
    assert!(total > 30_000);
    // Paused from the timeout to the end: the downtime is seconds, not milliseconds.
    assert!(
        downtime > 1_000 && downtime <= total - 30_000 + 50,
        "downtime {downtime} of {total}"
    );
    let summary = RunSummary::of(&t);
    assert!(summary.ping.max_gap_ms >= downtime as f64);
}

#[test]
fn timeout_acts_at_the_clients_first_poll_after_it() {
    // The client checks --timeout as it polls the job (every `sample_interval_ms`): the
    // suspension comes up to one poll late, by an amount that varies with the seed.
    let vm =
        "ram_mib = 2048\n[vm.workload]\nkind = \"hot-set\"\nset_mib = 1024\nrate_mibps = 150.0";
    let base = lab(112.0, vm, "timeout_s = 30", "[sim]\nmax_time_s = 300.0");
    let late: Vec<u64> = (0..8)
        .map(|i| {
            let mut sc = base.clone();
            sc.seed = base.seed + i;
            let (total, downtime, ..) = completed(&Simulator::run(sc));
            total - downtime - 30_000
        })
        .collect();
    assert!(late.iter().all(|l| *l <= 110), "{late:?}");
    assert!(late.iter().max() > late.iter().min(), "{late:?}");
}

#[test]
fn timeout_can_switch_to_postcopy_instead() {
    let vm =
        "ram_mib = 2048\n[vm.workload]\nkind = \"hot-set\"\nset_mib = 1024\nrate_mibps = 150.0";
    let t = Simulator::run(lab(
        112.0,
        vm,
        "postcopy = true\ntimeout_s = 30\ntimeout_action = \"postcopy\"",
        "",
    ));
    let (total, downtime, ..) = completed(&t);
    assert!(total > 30_000 && downtime < 100, "{total} {downtime}");
    assert!(
        t.samples("vm").any(|(_, s)| s.postcopy_requests > 0),
        "faults pulled pages"
    );
}

#[test]
fn pings_are_lost_exactly_while_the_guest_is_unreachable() {
    let t = Simulator::run(lab(
        112.0,
        "ram_mib = 1024\nzero_fraction = 0.5",
        "",
        "[sim]\nannounce_ms = 40.0",
    ));
    let (_, downtime, ..) = completed(&t);
    let s = RunSummary::of(&t);
    assert_eq!(s.ping.loss_windows.len(), 1);
    // Lost for the pause plus the announce delay, at 10 ms per probe (±1 probe).
    let expected = (downtime + 40) as f64 / 10.0;
    assert!(
        (s.ping.lost as f64 - expected).abs() <= 1.5,
        "lost {} expected {expected}",
        s.ping.lost
    );
}

#[test]
fn progress_can_go_backwards_as_virsh_verbose_does() {
    let vm = "ram_mib = 2048\n[vm.workload]\nkind = \"hot-set\"\nset_mib = 1024\nrate_mibps = 90.0";
    let t = Simulator::run(lab(112.0, vm, "", ""));
    let pct: Vec<f64> = t.samples("vm").map(|(_, s)| s.verbose_percent()).collect();
    assert!(
        pct.windows(2).any(|w| w[1] < w[0]),
        "re-dirtied pages push the percentage back"
    );
    assert!(pct.iter().all(|p| (0.0..=99.99).contains(p)));
}

/// The geometric-series model (Liu et al. 2011): with a guest dirtying *distinct* pages at D and
/// a link at R, pass i sends V_i = V_mem·λ^i with λ = D/R, and the total is V_mem(1−λ^{n+1})/(1−λ).
/// A sequential writer over all of RAM dirties distinct pages, so it is the model's guest.
#[test]
fn agrees_with_the_closed_form_geometric_model() {
    for (rate, ram_mib) in [(30.0, 2048u64), (56.0, 2048), (80.0, 4096)] {
        let vm = format!(
            "ram_mib = {ram_mib}\n[vm.workload]\nkind = \"scanner\"\nset_mib = {ram_mib}\nrate_mibps = {rate}"
        );
        let t = Simulator::run(lab(112.0, &vm, "", ""));
        let (_, _, memory, _, _) = completed(&t);
        let r = 112.0 * MIB as f64 * (PAGE_SIZE as f64 / NORMAL_PAGE_WIRE_BYTES as f64); // page payload rate
        let lambda = rate * MIB as f64 / r;
        let v_mem = (ram_mib * MIB) as f64;
        let v_thd = r * 0.3; // threshold = bandwidth × 300 ms
        let n = ((v_thd / v_mem).ln() / lambda.ln()).ceil();
        let v_mig = v_mem * (1.0 - lambda.powf(n + 1.0)) / (1.0 - lambda);
        let sim_payload = memory as f64 * PAGE_SIZE as f64 / NORMAL_PAGE_WIRE_BYTES as f64;
        let err = (sim_payload - v_mig).abs() / v_mig;
        assert!(
            err < 0.05,
            "rate {rate}: simulated {sim_payload:.0} vs model {v_mig:.0} ({:.1} %)",
            err * 100.0
        );
    }
}

#[test]
fn a_failed_or_aborted_job_leaves_the_guest_on_the_source() {
    use migralab_sim_core::{Lab, LabCommand, SimDuration, SimLab};
    let s = lab(112.0, "ram_mib = 2048", "", "");
    let mut lab = SimLab::new(s);
    lab.advance(SimDuration::from_secs(3));
    lab.submit(LabCommand::Abort { vm: "vm".into() }).unwrap();
    let mut finished = None;
    while let Some(e) = lab.poll_event() {
        if let TraceKind::Finished(o) = e.kind {
            finished = Some(o);
        }
    }
    assert!(
        matches!(finished, Some(Outcome::Aborted { at_ms }) if (2_900..=3_100).contains(&at_ms)),
        "{finished:?}"
    );
    let again = lab
        .submit(LabCommand::Abort { vm: "vm".into() })
        .unwrap_err();
    assert_eq!(
        again.to_string(),
        "Requested operation is not valid: no job is active on the domain"
    );
}

#[test]
fn disk_and_memory_are_reported_apart_as_domjobinfo_does() {
    let mut s = lab(
        112.0,
        "ram_mib = 1024\ndisk_gib = 2.0",
        "copy_storage_all = true",
        "",
    );
    s.storage = toml_storage("[storage]\nkind = \"local\"");
    let t = Simulator::run(s);
    let (_, _, memory, disk, _) = completed(&t);
    assert_eq!(disk, 2 * GIB);
    assert!(memory >= 1024 * MIB);
    // The disk is copied before any RAM.
    let first_ram = t
        .samples("vm")
        .find(|(_, s)| s.memory_processed > 0)
        .map(|(_, s)| s.disk_remaining);
    assert_eq!(first_ram, Some(0));
    let s = t.samples("vm").last().map(|(_, s)| s.clone()).unwrap();
    assert_eq!(s.data_total(), s.memory_total + s.disk_total);
}

#[test]
fn after_the_lessons_command_virsh_list_shows_what_libvirt_would() {
    use migralab_sim_core::world::DomainState;
    let s = lab(112.0, "ram_mib = 512", "persistent = true", "");
    let mut sim = Simulator::new(s);
    while sim.next_event_at().is_some() {
        sim.step();
    }
    let w = sim.world();
    // --persistent defines it on the destination and does NOT remove the source definition.
    assert_eq!(
        w.domain("b", "vm").map(|d| (d.state, d.persistent)),
        Some((DomainState::Running, true))
    );
    assert_eq!(
        w.domain("a", "vm").map(|d| d.state),
        Some(DomainState::ShutOff)
    );
    assert!(
        w.virsh_list("a", false).lines().count() == 3,
        "no running domain left on the source"
    );
    assert!(w.virsh_list("a", true).contains("shut off"));
}

#[test]
fn an_idle_guests_own_writes_cost_a_pass_at_a_slow_cap() {
    // QEMU syncs again once its estimate falls under the threshold; if the guest wrote a
    // little during a long first pass, that exact sync finds more than the threshold and the
    // migration goes round once more (real QEMU: 4 syncs at 10 MiB/s where a silent guest has 3).
    let run = |background: &str| {
        let vm = format!(
            "ram_mib = 256\nzero_fraction = 0.6\nmeasured = {{ top_used_mib = 4{background} }}"
        );
        completed(&Simulator::run(lab(
            1000.0,
            &vm,
            "bandwidth_mibps = 10\ndowntime_limit_ms = 300",
            "",
        )))
    };
    let (_, _, quiet_bytes, _, quiet) = run("");
    let (_, _, busy_bytes, _, busy) =
        run(", background_dirty_mibps = 1.0, background_set_kib = 1024");
    assert_eq!(quiet, 3);
    assert_eq!(busy, 4);
    let extra = busy_bytes - quiet_bytes;
    assert!(
        extra > 3 * MIB / 4 && extra < 2 * MIB,
        "about the 1 MiB it rewrote is sent again: {extra}"
    );
}

#[test]
fn a_bursty_writer_dirties_its_own_pages_on_every_wake_up() {
    // The same 4 MiB/s, continuous or in 250 ms bursts that also rewrite 512 KiB of the
    // writer's own memory: the bursts leave more to send at every sync.
    let run = |bursts: &str| {
        let vm = format!(
            "ram_mib = 256\nzero_fraction = 0.6\n{bursts}\n\
             workload = {{ kind = \"scanner\", set_mib = 16, rate_mibps = 4.0 }}"
        );
        completed(&Simulator::run(lab(
            1000.0,
            &vm,
            "bandwidth_mibps = 10\ndowntime_limit_ms = 100",
            "",
        )))
    };
    let (_, _, smooth, _, _) = run("");
    let (_, _, bursty, _, _) =
        run("measured = { workload_burst_ms = 250, workload_churn_kib = 512 }");
    assert!(bursty > smooth, "{bursty} vs {smooth}");
}

#[test]
fn the_kernels_own_writes_come_on_top_of_a_writers() {
    // An idle guest's kernel rewrites ~1 MiB of its own memory a second; a writer's working set
    // is other memory, so with both the pending pages at every sync add up (a model that put
    // both on the same pages would lose the kernel's writes under the writer's).
    let run = |background: &str| {
        let vm = format!(
            "ram_mib = 256\nzero_fraction = 0.6\n{background}\n\
             workload = {{ kind = \"scanner\", set_mib = 8, rate_mibps = 16.0 }}"
        );
        let t = Simulator::run(lab(
            1000.0,
            &vm,
            "bandwidth_mibps = 10\ndowntime_limit_ms = 100",
            "",
        ));
        let syncs: Vec<u64> = t
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                TraceKind::Sync(s) if s.iteration == 3 => Some(s.new_dirty_pages),
                _ => None,
            })
            .collect();
        syncs[0]
    };
    let alone = run("");
    let both = run("measured = { background_dirty_mibps = 1.0, background_set_kib = 1024 }");
    // The writer rewrites all of its 8 MiB between two syncs, so kernel writes landing in its set
    // would add nothing; on their own pages they add what the kernel rewrote in the meantime.
    assert!(
        both >= alone + 100,
        "the kernel's pages add to the writer's: {both} vs {alone}"
    );
}

/// The simulator after `s` ran to its end (its world and migrations can then be read).
fn run_to_end(s: Scenario) -> Simulator {
    let mut sim = Simulator::new(s);
    while !sim.is_finished() {
        sim.step();
    }
    sim
}

/// A host-passthrough guest on `from`'s CPU moving to `to`'s, with extra migration lines.
fn passthrough_lab(from: &str, to: &str, migration: &str) -> Scenario {
    let text = format!(
        r#"
name = "t"
seed = 5
[[host]]
name = "a"
[host.cpu]
model = "{from}"
[[host]]
name = "b"
[host.cpu]
model = "{to}"
[link]
bandwidth_mibps = 112.0
[storage]
kind = "shared"
[[vm]]
name = "vm"
host = "a"
ram_mib = 512
[vm.cpu]
mode = "host-passthrough"
[vm.workload]
kind = "hot-set"
set_mib = 64
rate_mibps = 200.0
[[migration]]
vm = "vm"
to = "b"
{migration}
"#
    );
    Scenario::from_toml_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn host_passthrough_fails_after_the_copy_and_the_guest_resumes_on_the_source() {
    let s = passthrough_lab(
        "Skylake-Client-noTSX-IBRS",
        "Haswell-noTSX-IBRS",
        "timeout_s = 5",
    );
    let sim = run_to_end(s);
    let m = &sim.migrations()[0];
    match m.outcome() {
        Some(Outcome::Failed { error, at_ms }) => {
            assert!(
                error
                    .to_string()
                    .contains("Failed to set special registers"),
                "{error}"
            );
            // 512 MiB went over 1 GbE first.
            assert!(*at_ms > 4_000, "failed after {at_ms} ms");
        }
        other => panic!("expected a late failure, got {other:?}"),
    }
    assert!(!m.guest_lost());
    // The guest's outage ended: it runs on the source again.
    assert!(m.outages().iter().all(|(_, end)| end.is_some()));
    let world = sim.world();
    assert_eq!(
        world.domain("a", "vm").map(|d| d.state),
        Some(migralab_sim_core::world::DomainState::Running)
    );
}

#[test]
fn host_passthrough_failing_after_the_post_copy_switch_loses_the_guest() {
    let s = passthrough_lab(
        "Skylake-Client-noTSX-IBRS",
        "Haswell-noTSX-IBRS",
        "postcopy = true\npostcopy_after_precopy = true",
    );
    let sim = run_to_end(s);
    let m = &sim.migrations()[0];
    assert!(
        matches!(m.outcome(), Some(Outcome::Failed { .. })),
        "{:?}",
        m.outcome()
    );
    assert!(m.guest_lost());
    assert!(
        m.outages().iter().any(|(_, end)| end.is_none()),
        "the guest never answers again"
    );
    let d = sim.world().domain("a", "vm").cloned().unwrap();
    assert_eq!(d.state, migralab_sim_core::world::DomainState::Paused);
    assert_eq!(d.reason.as_str(), "post-copy failed");
}
