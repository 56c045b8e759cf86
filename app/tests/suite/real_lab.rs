//! Real mode against real libvirt and QEMU: the lab in a box is brought up, and the same test
//! bodies run on it and on its simulated twin (`scenarios/labbox.toml`). Both backends must
//! agree on every outcome and every error text; the real one must also show what only a real
//! lab can (lost pings, a killed daemon).
//!
//! The lab is one machine-wide resource, so this is one test that goes through the steps in
//! order, and takes the lab down however it ends. It needs root and the packages
//! `scripts/test.sh` installs; without them it FAILS with the reason (it never skips). Built
//! without the `real` feature it does not exist, and a test in `main.rs` fails in its place.

use crate::common;
use migralab_real::labbox::{self, Fault, GuestSpec, LabboxConfig, LabboxStatus};
use migralab_real::prober::{Prober, ProberConfig, ping_event};
use migralab_real::real_lab::{RealLab, RealLabConfig, real_trace};
use migralab_sim_core::lab::{Lab, LabCommand};
use migralab_sim_core::preflight::{CheckId, PreflightReport, preflight};
use migralab_sim_core::scenario::MigrationSpec;
use migralab_sim_core::summary::PingStats;
use migralab_sim_core::time::SimDuration;
use migralab_sim_core::trace::{Outcome, TRACE_FORMAT, Trace, TraceEvent, TraceKind};
use migralab_sim_core::{Scenario, SimLab};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_migralab");
const VM: &str = "db01";
const GUEST_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 10);
const HOST1: &str = "kvm-host-01";
const HOST2: &str = "kvm-host-02";

/// One way of running the lab: the simulator or the lab in a box.
trait Arm {
    fn name(&self) -> &'static str;
    /// Preflight of migrating db01 from where it runs to the other host.
    fn preflight(&mut self) -> PreflightReport;
    /// Run one migration to completion; the trace includes pings when the arm can ping.
    fn migrate(&mut self, spec: &MigrationSpec) -> Trace;
    /// Start a migration and abort it after `after`.
    fn migrate_and_abort(&mut self, spec: &MigrationSpec, after: Duration) -> Outcome;
    /// The host db01 runs on now.
    fn running_on(&mut self) -> String;
    fn break_fault(&mut self, f: Fault);
    fn fix_fault(&mut self, f: Fault);
}

fn other(host: &str) -> &'static str {
    if host == HOST1 { HOST2 } else { HOST1 }
}

fn outcome(trace: &Trace) -> Outcome {
    trace
        .outcomes()
        .find(|(vm, _)| *vm == VM)
        .map(|(_, o)| o.clone())
        .unwrap_or_else(|| panic!("no outcome for {VM} in {:?}", trace.events.last()))
}

fn error_text(o: &Outcome) -> String {
    match o {
        Outcome::Failed { error, .. } => error.to_string(),
        other => panic!("expected a failed migration, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The simulated arm.

struct SimArm {
    base: Scenario,
    host: String,
    faults: Vec<Fault>,
}

impl SimArm {
    fn new() -> SimArm {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/labbox.toml");
        SimArm {
            base: migralab_app::scenarios::load(Some(&path), &[]).unwrap(),
            host: HOST1.into(),
            faults: Vec::new(),
        }
    }

    /// The scenario as the lab is now: db01 where it runs, every active fault applied.
    fn scenario(&self, spec: Option<&MigrationSpec>) -> Scenario {
        let overrides: Vec<String> = self
            .faults
            .iter()
            .map(|f| match f {
                Fault::SharedStorage => format!("storage.mounted_on=[\"{HOST1}\"]"),
                Fault::Bridge => format!("host.{HOST2}.bridges=[]"),
                Fault::SshTrust => format!("host.{HOST2}.ssh_trusts=[]"),
                Fault::Cpu => format!("host.{HOST2}.cpu.missing_features=[\"avx2\"]"),
                Fault::Firewall => format!("host.{HOST2}.firewall.migration_ports_open=false"),
            })
            .chain([format!("vm.{VM}.host={}", self.host)])
            .collect();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/labbox.toml");
        let mut s = migralab_app::scenarios::load(Some(&path), &overrides).unwrap();
        s.migrations = spec.into_iter().cloned().collect();
        s
    }

    fn run(&mut self, spec: &MigrationSpec, abort_after: Option<Duration>) -> Vec<TraceEvent> {
        let mut lab = SimLab::new(self.scenario(None));
        let mut events = Vec::new();
        if let Err(e) = lab.submit(LabCommand::Migrate(spec.clone())) {
            return vec![TraceEvent {
                t_ms: 0.0,
                source: VM.into(),
                kind: TraceKind::Finished(Outcome::Failed { error: e, at_ms: 0 }),
            }];
        }
        let mut aborted = false;
        loop {
            events.extend(std::iter::from_fn(|| lab.poll_event()));
            if lab.is_idle() {
                break;
            }
            if let Some(after) = abort_after
                && !aborted
                && lab.now().as_ms_f64() >= after.as_secs_f64() * 1000.0
            {
                aborted = true;
                lab.submit(LabCommand::Abort { vm: VM.into() }).unwrap();
            }
            lab.advance(SimDuration::from_millis(10));
        }
        let done = events
            .iter()
            .any(|e| matches!(e.kind, TraceKind::Finished(Outcome::Completed { .. })));
        if done {
            self.host = spec.to.clone();
        }
        events
    }
}

impl Arm for SimArm {
    fn name(&self) -> &'static str {
        "simulated"
    }
    fn preflight(&mut self) -> PreflightReport {
        let spec = MigrationSpec::new(VM, other(&self.host));
        preflight(&self.scenario(None), &spec).unwrap()
    }
    fn migrate(&mut self, spec: &MigrationSpec) -> Trace {
        let events = self.run(spec, None);
        Trace {
            format: TRACE_FORMAT,
            backend: "sim".into(),
            seed: self.base.seed,
            scenario: serde_json::Value::Null,
            events,
        }
    }
    fn migrate_and_abort(&mut self, spec: &MigrationSpec, after: Duration) -> Outcome {
        let events = self.run(spec, Some(after));
        let t = Trace {
            format: TRACE_FORMAT,
            backend: "sim".into(),
            seed: 0,
            scenario: serde_json::Value::Null,
            events,
        };
        outcome(&t)
    }
    fn running_on(&mut self) -> String {
        self.host.clone()
    }
    fn break_fault(&mut self, f: Fault) {
        self.faults.push(f);
    }
    fn fix_fault(&mut self, f: Fault) {
        self.faults.retain(|x| *x != f);
    }
}

// ---------------------------------------------------------------------------------------------
// The real arm: commands typed on the source host (as in the lesson, through ssh), a prober in
// the lab's client namespace, and the library's RealLab over the hosts' local sockets.

struct RealArm {
    cfg: LabboxConfig,
    status: LabboxStatus,
}

impl RealArm {
    fn socket_uri(&self, host: &str) -> String {
        self.status
            .hosts
            .iter()
            .find(|h| h.name == host)
            .map(|h| h.socket_uri.clone())
            .unwrap_or_else(|| panic!("labbox status has no {host}: {:?}", self.status))
    }

    /// `migralab ARGS...` typed on `host`.
    fn on_host(&self, host: &str, args: &[&str]) -> std::process::Output {
        let mut cmd: Command = labbox::host_command(&self.cfg, host, BIN).unwrap();
        cmd.args(args);
        cmd.output().unwrap()
    }

    fn source(&mut self) -> String {
        self.running_on()
    }
}

impl Arm for RealArm {
    fn name(&self) -> &'static str {
        "real"
    }

    fn preflight(&mut self) -> PreflightReport {
        let src = self.source();
        let dst = format!("qemu+ssh://{}/system", other(&src));
        let out = self.on_host(
            &src,
            &[
                "preflight",
                "--real",
                "--src",
                "qemu:///system",
                "--dst",
                &dst,
                "--vm",
                VM,
                "--json",
            ],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "preflight on {src} printed no report ({e}):\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    fn migrate(&mut self, spec: &MigrationSpec) -> Trace {
        let src = self.source();
        assert_eq!(
            other(&src),
            spec.to,
            "the test migrates db01 away from where it runs"
        );
        let mut pc = ProberConfig::new(GUEST_IP, Instant::now());
        pc.netns = Some("lab-client".into());
        let mut prober = Prober::start(pc).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let dst = format!("qemu+ssh://{}/system", spec.to);
        let mut args = vec![
            "migrate",
            "--real",
            "--src",
            "qemu:///system",
            "--dst",
            &dst,
            VM,
            "--json",
        ];
        let bw = spec.bandwidth_mibps.map(|b| b.to_string());
        for (on, flag) in [
            (spec.live, "--live"),
            (spec.persistent, "--persistent"),
            (spec.undefinesource, "--undefinesource"),
            (spec.p2p, "--p2p"),
        ] {
            if on {
                args.push(flag);
            }
        }
        if let Some(bw) = &bw {
            args.extend(["--bandwidth", bw]);
        }
        let out = self.on_host(&src, &args);
        std::thread::sleep(Duration::from_millis(700));
        prober.stop().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let mut trace = Trace::from_json(&stdout).unwrap_or_else(|e| {
            panic!(
                "migrate on {src} printed no trace ({e}):\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        trace
            .events
            .extend(prober.poll_samples().into_iter().map(ping_event));
        trace
    }

    fn migrate_and_abort(&mut self, spec: &MigrationSpec, after: Duration) -> Outcome {
        let src = self.source();
        let (src_uri, dst_uri) = (self.socket_uri(&src), self.socket_uri(other(&src)));
        let config = RealLabConfig::new(&src_uri, &dst_uri);
        let mut lab = RealLab::connect(config).unwrap();
        lab.submit(LabCommand::Migrate(spec.clone())).unwrap();
        let started = Instant::now();
        let mut events = Vec::new();
        let mut aborted = false;
        loop {
            events.extend(std::iter::from_fn(|| lab.poll_event()));
            if lab.is_idle() {
                break;
            }
            if !aborted && started.elapsed() >= after {
                aborted = true;
                lab.submit(LabCommand::Abort { vm: VM.into() }).unwrap();
            }
            lab.advance(SimDuration::from_millis(50));
        }
        outcome(&real_trace(&src_uri, &dst_uri, spec, events))
    }

    fn running_on(&mut self) -> String {
        let s = labbox::status(&self.cfg).unwrap();
        let on = s.guest.and_then(|g| g.running_on);
        on.unwrap_or_else(|| panic!("db01 runs nowhere: {:?}", labbox::status(&self.cfg)))
    }

    fn break_fault(&mut self, f: Fault) {
        labbox::break_fault(&self.cfg, f).unwrap();
    }

    fn fix_fault(&mut self, f: Fault) {
        labbox::fix_fault(&self.cfg, f).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// The test bodies, the same for both arms.

#[derive(Debug)]
struct FaultObservation {
    first_failure: Option<CheckId>,
    error: String,
    still_on_source: bool,
}

fn healthy_lab_migrates_there_and_back(arm: &mut dyn Arm) -> (Outcome, PingStats) {
    let report = arm.preflight();
    assert!(
        report.first_failure().is_none(),
        "{}: preflight of the healthy lab fails: {:#?}",
        arm.name(),
        report.first_failure()
    );
    let mut spec = MigrationSpec::new(VM, HOST2);
    spec.persistent = true;
    let trace = arm.migrate(&spec);
    let o = outcome(&trace);
    assert!(o.is_completed(), "{}: {o:?}", arm.name());
    assert_eq!(
        arm.running_on(),
        HOST2,
        "{}: db01 runs on the destination",
        arm.name()
    );
    let pings = PingStats::of(&trace);
    // And back, so every later step starts from kvm-host-01.
    let back = arm.migrate(&MigrationSpec::new(VM, HOST1));
    assert!(
        outcome(&back).is_completed(),
        "{}: back: {:?}",
        arm.name(),
        outcome(&back)
    );
    assert_eq!(arm.running_on(), HOST1);
    (o, pings)
}

fn each_fault_fails_preflight_and_migration(arm: &mut dyn Arm) -> Vec<(Fault, FaultObservation)> {
    let faults = [
        Fault::SharedStorage,
        Fault::Bridge,
        Fault::SshTrust,
        Fault::Cpu,
        Fault::Firewall,
    ];
    faults
        .into_iter()
        .map(|f| {
            arm.break_fault(f);
            let report = arm.preflight();
            let mut spec = MigrationSpec::new(VM, HOST2);
            spec.persistent = true;
            let trace = arm.migrate(&spec);
            let obs = FaultObservation {
                first_failure: report.first_failure().map(|c| c.id),
                error: error_text(&outcome(&trace)),
                still_on_source: arm.running_on() == HOST1,
            };
            arm.fix_fault(f);
            (f, obs)
        })
        .collect()
}

fn abort_leaves_the_guest_on_the_source(arm: &mut dyn Arm) -> Outcome {
    let mut spec = MigrationSpec::new(VM, HOST2);
    // 10 MiB/s: the copy takes several seconds, the abort comes after one.
    spec.bandwidth_mibps = Some(10);
    let o = arm.migrate_and_abort(&spec, Duration::from_secs(1));
    assert!(
        matches!(o, Outcome::Aborted { .. }),
        "{}: abort gave {o:?}",
        arm.name()
    );
    assert_eq!(arm.running_on(), HOST1, "{}: after the abort", arm.name());
    o
}

fn expected_check(f: Fault) -> CheckId {
    match f {
        Fault::SharedStorage => CheckId::SharedStorage,
        Fault::Bridge => CheckId::Bridge,
        Fault::SshTrust => CheckId::SshTrust,
        Fault::Cpu => CheckId::Cpu,
        Fault::Firewall => CheckId::MigrationPorts,
    }
}

/// Takes the lab down when the test ends, passed or not.
struct Down(LabboxConfig);

impl Drop for Down {
    fn drop(&mut self) {
        if let Err(e) = labbox::down(&self.0, &mut |m| eprintln!("labbox down: {m}")) {
            eprintln!("labbox down failed: {e}");
        }
    }
}

#[test]
fn the_lab_in_a_box_and_its_simulated_twin_agree() {
    // Taken first, so it is released after the lab is down.
    let _machine = crate::machine_exclusive();
    assert!(
        common::is_root(),
        "the real-lab test needs root (namespaces, libvirtd, mounts); run the suite as root, as CI does"
    );
    let cfg = LabboxConfig::default();
    let t0 = Instant::now();
    let mut log = |m: &str| eprintln!("[{:6.1} s] labbox: {m}", t0.elapsed().as_secs_f64());
    labbox::down(&cfg, &mut log).unwrap();
    let status = labbox::up(&cfg, &GuestSpec::default(), &mut log)
        .unwrap_or_else(|e| panic!("labbox up failed: {e}"));
    let _down = Down(cfg.clone());
    let mut real = RealArm {
        cfg: cfg.clone(),
        status,
    };
    let mut sim = SimArm::new();

    // 1. A healthy lab: preflight passes, the lesson's migration works there and back.
    let (sim_done, _) = healthy_lab_migrates_there_and_back(&mut sim);
    let (real_done, pings) = healthy_lab_migrates_there_and_back(&mut real);
    eprintln!(
        "[{:6.1} s] healthy: sim {sim_done:?} / real {real_done:?} / pings {pings:?}",
        t0.elapsed().as_secs_f64()
    );
    assert!(pings.sent > 100, "the prober ran: {pings:?}");
    assert!(
        pings.lost > 0,
        "a live migration loses some pings: {pings:?}"
    );
    assert!(
        pings.max_gap_ms < 2000.0,
        "the gap stays under 2 s: {pings:?}"
    );

    // 2. Each fault fails preflight on its own check and the migration with libvirt's words,
    //    and both backends say the same.
    let sim_faults = each_fault_fails_preflight_and_migration(&mut sim);
    let real_faults = each_fault_fails_preflight_and_migration(&mut real);
    for ((f, s), (_, r)) in sim_faults.iter().zip(&real_faults) {
        eprintln!(
            "[{:6.1} s] {f}: sim {s:?}\n           real {r:?}",
            t0.elapsed().as_secs_f64()
        );
        assert_eq!(
            r.first_failure,
            Some(expected_check(*f)),
            "real preflight with {f} broken"
        );
        assert_eq!(
            s.first_failure, r.first_failure,
            "{f}: both backends name the same check"
        );
        assert_eq!(
            s.error, r.error,
            "{f}: both backends give libvirt's same message"
        );
        assert!(
            r.still_on_source && s.still_on_source,
            "{f}: db01 keeps running on the source"
        );
    }

    // 3. Aborting a slow migration leaves db01 where it was, on both.
    abort_leaves_the_guest_on_the_source(&mut sim);
    abort_leaves_the_guest_on_the_source(&mut real);

    // 4. The desktop app's real mode does the same through its Lab tab.
    the_app_migrates_db01_for_real(&mut real);
    eprintln!(
        "[{:6.1} s] the app's real mode migrated db01",
        t0.elapsed().as_secs_f64()
    );

    // 5. Sesi 2's first experiment in the Experiments tab, on the real hosts: both halves.
    experiment_1_on_the_real_hosts(&mut real);
    eprintln!(
        "[{:6.1} s] Experiment 1 done on the real hosts",
        t0.elapsed().as_secs_f64()
    );

    // 6. Sesi 2's third experiment, on the real hosts: a database that won't converge.
    experiment_3_on_the_real_hosts(&mut real);
    eprintln!(
        "[{:6.1} s] Experiment 3 done on the real hosts",
        t0.elapsed().as_secs_f64()
    );
    labbox::set_guest(&real.cfg, &GuestSpec::default())
        .unwrap_or_else(|e| panic!("db01 idle again: {e}"));

    // 7. `migralab watch` records migrations it did not start: typed on the hosts with virsh.
    a_migration_typed_with_virsh_is_watched(&mut real);
    eprintln!(
        "[{:6.1} s] migralab watch recorded virsh's migrations",
        t0.elapsed().as_secs_f64()
    );

    // 8. Only a real lab can lose its destination daemon mid-migration; a watcher sees it too.
    destination_daemon_killed_mid_migration(&mut real);
    eprintln!("[{:6.1} s] all steps done", t0.elapsed().as_secs_f64());
}

/// The instructor allows the lab in a box's hosts; a student switches to NYATA, checks the
/// prerequisites, confirms, and the migration runs with live statistics and pings.
fn the_app_migrates_db01_for_real(real: &mut RealArm) {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;
    use migralab_app::gui::MigralabApp;
    use migralab_app::gui::state::{AppState, Tab};

    let data = instructor_allows_the_lab(real, "lab-gui");
    let mut app = MigralabApp::new(AppState {
        tab: Tab::Lab,
        lang: migralab_sim_core::lang::Lang::En,
        ..AppState::default()
    });
    app.shared.data_dir = Some(data.clone());
    app.lab.export_dir = Some(data.join("export"));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 900.0))
        .with_max_steps(16)
        .build_ui_state(|ui, app: &mut MigralabApp| app.ui_root(ui), app);
    h.run();
    h.get_by_label("REAL").click();
    h.run();
    assert!(h.state().real.on, "NYATA is on");

    h.get_by_label("Check prerequisites").click();
    h.step();
    h.state_mut().wait_real_idle();
    h.run();
    let report = h
        .state()
        .real
        .session
        .as_ref()
        .and_then(|s| s.report())
        .map(|(r, _)| r.clone())
        .expect("a preflight report")
        .expect("preflight ran");
    assert!(
        report.first_failure().is_none(),
        "no failed check in the healthy lab: {:#?}",
        report.first_failure()
    );
    assert!(h.query_by_label("× Shared storage").is_none());
    // The prediction before the first run comes from the live guest's writes, measured with
    // libvirt's dirty-rate calculation (two windows), and says so.
    let measured = h
        .state()
        .real
        .session
        .as_ref()
        .and_then(|s| s.prediction())
        .and_then(Result::ok)
        .and_then(|p| p.assumptions.measured.clone());
    assert!(
        measured
            .as_ref()
            .is_some_and(|m| m.windows.len() == 2 && m.rate_mibps <= 4.0),
        "the idle guest's writes, measured: {measured:?}"
    );
    assert!(
        h.query_by_label_contains("virsh domdirtyrate-calc")
            .is_some(),
        "the inputs are shown"
    );

    h.get_by_label("Migrate...").click();
    h.run();
    h.get_by_label("Yes, migrate").click();
    h.step();
    h.state_mut().wait_real_idle();
    h.run();
    let app = h.state();
    let run = app.lab.runs.last().expect("the run is in the history");
    assert_eq!(run.trace.backend, "real");
    completed_with_plots_and_lost_pings(run);
    let predicted = app
        .real
        .session
        .as_ref()
        .and_then(|s| s.prediction())
        .and_then(Result::ok)
        .map(|p| p.outcome.status.clone());
    assert_eq!(
        predicted.as_deref(),
        Some("completed"),
        "the labbox twin's prediction"
    );
    assert_eq!(real.running_on(), HOST2);

    // Back with the lesson's command typed, verbatim, in the app's own terminal on
    // kvm-host-02: the app, watching that host, notices it, plots it with its pings and keeps
    // it as a run.
    let runs_before = h.state().lab.runs.len();
    h.state_mut().state.real_form.src = real.socket_uri(HOST2);
    h.state_mut().state.real_form.dst = real.socket_uri(HOST1);
    h.get_by_label("Watch for migrations started elsewhere")
        .click();
    h.run();
    let t = Instant::now();
    while h.query_by_label_contains("Watching").is_none() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    assert!(
        h.query_by_label_contains("Watching").is_some(),
        "the tab says what it watches"
    );
    h.state_mut().real.terminal.host = real.socket_uri(HOST2);
    h.get_by_label("Connect").click();
    h.run();
    let screen = |h: &egui_kittest::Harness<'_, MigralabApp>| {
        h.get_by_label("Host terminal").value().unwrap_or_default()
    };
    let t = Instant::now();
    while !screen(&h).contains('#') && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
        h.run();
    }
    assert!(
        screen(&h).contains('#'),
        "a root prompt on {HOST2}:\n{}",
        screen(&h)
    );
    h.get_by_label("Host terminal").type_text(&format!(
        "virsh migrate --live {VM} qemu+ssh://{HOST1}/system --persistent"
    ));
    h.key_press(egui::Key::Enter);
    let t = Instant::now();
    while h.state().lab.runs.len() == runs_before && t.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    eprintln!("the app's terminal:\n{}", screen(&h));
    let app = h.state();
    let run = app
        .lab
        .runs
        .last()
        .expect("the watched run is in the history");
    assert_eq!(
        app.lab.runs.len(),
        runs_before + 1,
        "the watched migration became a run"
    );
    completed_with_plots_and_lost_pings(run);
    drop(h);
    assert_eq!(real.running_on(), HOST1);
    let _ = std::fs::remove_dir_all(&data);
}

/// The Experiments tab in REAL mode runs Experiment 1 on the lab in a box: every step typed in
/// the terminal on kvm-host-01 by its button, judged from real facts (the watched runs, virsh's
/// refusal, the lines typed), the hosts prepared for the local-storage half by the tab's own
/// button, and the explanation filled with the real numbers of both halves.
fn experiment_1_on_the_real_hosts(real: &mut RealArm) {
    use egui_kittest::kittest::Queryable as _;
    use migralab_app::gui::MigralabApp;

    // The lesson's layout to start from: shared storage, db01 on kvm-host-01.
    labbox::prepare_storage(&real.cfg, labbox::storage::Storage::Shared)
        .unwrap_or_else(|e| panic!("prepare shared: {e}"));
    let (mut h, data) = real_experiments_app(real, "exp1");
    let step_done = |id: &'static str| step_done("exp1", id);
    let runs = |a: &MigralabApp| a.lab.runs.len();

    // The shared half.
    type_step(&mut h, 0);
    until(
        &mut h,
        "the mount step",
        20,
        &step_done("exp1-shared-mount"),
    );
    until(&mut h, "the prompt", 10, &at_prompt);
    let before = runs(h.state());
    type_step(&mut h, 1);
    until(&mut h, "the shared migration's run", 60, &move |a| {
        runs(a) > before
    });
    until(&mut h, "the ping step", 10, &step_done("exp1-shared-ping"));
    // The ping ended with the migration (`kill -INT $!`): its summary, then the prompt.
    until(&mut h, "the prompt", 20, &at_prompt);
    assert_eq!(real.running_on(), HOST2);
    type_step(&mut h, 2);
    until(&mut h, "domjobinfo", 20, &step_done("exp1-shared-jobinfo"));
    until(&mut h, "the prompt", 10, &at_prompt);
    // The student reads the finished job's statistics: migralab's watcher read them first and
    // left them there (VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED).
    let screen = h
        .state()
        .real
        .terminal
        .session
        .as_ref()
        .map(|s| s.contents())
        .unwrap_or_default();
    assert!(
        screen.contains("Completed") && screen.contains("Total downtime"),
        "domjobinfo --completed shows the job:\n{screen}"
    );

    // The local half: the tab prepares the hosts (db01 home, each host its own images).
    assert!(
        !step_done("exp1-local-refused")(h.state()),
        "nothing of the second half is done yet"
    );
    h.get_by_label("Prepare the hosts: local storage")
        .click_accesskit();
    h.step();
    migralab_app::gui::real::experiments_real::wait_prepared(
        &mut h.state_mut().real,
        Duration::from_secs(120),
    );
    h.run_steps(4);
    assert!(
        matches!(h.state().real.experiments.prepared, Some(Ok(_))),
        "{:?}",
        h.state().real.experiments.prepared
    );
    assert_eq!(
        labbox::status(&real.cfg).unwrap().storage,
        labbox::storage::Storage::Local
    );
    let states = |real: &RealArm| {
        [HOST1, HOST2]
            .map(|host| {
                let out = labbox::host_command(&real.cfg, host, "virsh")
                    .unwrap()
                    .args(["domstate", "--reason", VM])
                    .stdin(std::process::Stdio::null())
                    .output()
                    .unwrap();
                format!(
                    "{host}: {} {}",
                    String::from_utf8_lossy(&out.stdout).trim(),
                    String::from_utf8_lossy(&out.stderr).trim()
                )
            })
            .join("; ")
    };
    let t = Instant::now();
    while labbox::status(&real.cfg)
        .ok()
        .and_then(|s| s.guest)
        .and_then(|g| g.running_on)
        .is_none()
        && t.elapsed() < Duration::from_secs(10)
    {
        eprintln!("db01 after preparing: {}", states(real));
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(real.running_on(), HOST1, "db01 came home");
    until(&mut h, "the prompt", 10, &at_prompt);
    type_step(&mut h, 3);
    until(
        &mut h,
        "libvirt's refusal",
        30,
        &step_done("exp1-local-refused"),
    );
    assert_eq!(real.running_on(), HOST1, "refused: db01 stays");
    until(&mut h, "the prompt", 10, &at_prompt);
    let before = h
        .state()
        .lab
        .runs
        .iter()
        .filter(|r| r.spec.copy_storage_all)
        .count();
    type_step(&mut h, 4);
    until(&mut h, "the disk-copying run", 120, &move |a| {
        a.lab
            .runs
            .iter()
            .filter(|r| r.spec.copy_storage_all)
            .count()
            > before
    });
    until(&mut h, "the copy step", 10, &step_done("exp1-local-ping"));
    until(&mut h, "the prompt", 20, &at_prompt);
    assert_eq!(real.running_on(), HOST2);
    type_step(&mut h, 5);
    until(
        &mut h,
        "domjobinfo again",
        20,
        &step_done("exp1-local-jobinfo"),
    );
    eprintln!(
        "the app's terminal:\n{}",
        h.state()
            .real
            .terminal
            .session
            .as_ref()
            .map(|s| s.contents())
            .unwrap_or_default()
    );

    // Both halves measured: the second copied the disk, both lost pings at the switch-over.
    let app = h.state();
    let copied = app.lab.runs.last().unwrap();
    assert!(
        copied.spec.copy_storage_all,
        "the watched run copied storage"
    );
    completed_with_plots_and_lost_pings(copied);
    assert!(
        matches!(copied.outcome(), Some(Outcome::Completed { disk_bytes, .. }) if *disk_bytes >= 32 << 20),
        "the disk's bytes are measured: {:?}",
        copied.outcome()
    );
    // The explanation, revealed after the observation, holds the real numbers.
    let obs = h.get_by_role_and_label(egui::Role::TextInput, "Observation");
    obs.focus();
    obs.type_text("Both paused only briefly; copying the disk made it take longer.");
    h.run();
    h.get_by_label("Show the explanation").click_accesskit();
    h.run();
    assert!(
        h.state()
            .state
            .experiments
            .revealed
            .contains(&"exp1".to_string()),
        "the explanation is shown"
    );
    let (exp, modes, evidence) = every_step_done_for_real(&mut h, "exp1");
    let app = h.state();
    let (a, b) =
        migralab_app::gui::real::experiments_real::compared_runs(exp, &modes, &evidence, &app.lab)
            .unwrap();
    let (a, b) = (a.expect("the shared run"), b.expect("the copying run"));
    assert!(!a.spec.copy_storage_all && b.spec.copy_storage_all);
    let values = migralab_app::gui::experiments::values_of_runs(
        Some(a),
        Some(b),
        migralab_sim_core::lang::Lang::En,
    );
    let text = migralab_course::experiments::fill_placeholders(&exp.explanation.en, &values);
    eprintln!("the explanation with the real numbers:\n{text}");
    assert!(!text.contains('{'), "every number filled: {text}");
    assert!(
        values["disk_gib_b"] == "0.1" && values["disk_gib_a"] == "0.0",
        "64 MiB copied in the second half only: {values:?}"
    );
    drop(h);
    // Back to the lesson's layout for what follows.
    labbox::prepare_storage(&real.cfg, labbox::storage::Storage::Shared)
        .unwrap_or_else(|e| panic!("back to shared: {e}"));
    let _ = std::fs::remove_dir_all(&data);
}

/// Sesi 2's third experiment on the lab in a box by its step buttons: db01's writer outruns the
/// cap that stands in for the scenario's link, so the migration really does not converge; it is
/// read while it runs, cancelled (db01 stays on kvm-host-01), and the knobs make it finish:
/// the downtime limit, auto-converge (the vCPUs really throttled) and post-copy.
fn experiment_3_on_the_real_hosts(real: &mut RealArm) {
    use egui_kittest::kittest::Queryable as _;
    use migralab_app::gui::MigralabApp;
    use migralab_app::sessions::real::experiments::LAB_WRITER;

    let (mut h, data) = real_experiments_app(real, "exp3");
    let step_done = |id: &'static str| step_done("exp3", id);
    let prepare = |h: &mut ExpHarness, real: &mut RealArm, n: usize| {
        let label = format!(
            "Prepare the hosts: shared storage, db01 writing {} MiB at {} MiB/s",
            LAB_WRITER.0, LAB_WRITER.1
        );
        h.query_all_by_label(&label)
            .nth(n)
            .unwrap_or_else(|| panic!("prepare button {n}"))
            .click_accesskit();
        h.step();
        migralab_app::gui::real::experiments_real::wait_prepared(
            &mut h.state_mut().real,
            Duration::from_secs(180),
        );
        h.run_steps(4);
        assert!(
            matches!(h.state().real.experiments.prepared, Some(Ok(_))),
            "{:?}",
            h.state().real.experiments.prepared
        );
        assert_eq!(labbox::guest_writer(&real.cfg), Some(LAB_WRITER));
        assert_eq!(real.running_on(), HOST1, "db01 is home");
    };
    let last_run = |a: &MigralabApp| a.lab.runs.last().map(|r| (r.id, r.outcome().cloned()));

    // The hosts: db01 home with its writer.
    prepare(&mut h, real, 0);
    // 1. The migration in the background (capped: it cannot converge), and its progress.
    type_step(&mut h, 0);
    until(&mut h, "the watch step", 20, &step_done("exp3-watch"));
    until(&mut h, "a migration being watched", 20, &|a| {
        a.real.is_migrating()
    });
    // The first pass sends what the guest holds (~90 MiB at 18 MiB/s: 5 s), then a pass of
    // the writer's whole set every second or so.
    std::thread::sleep(Duration::from_secs(9));
    h.run_steps(4);
    // 2. Read while it runs: passes climbing.
    type_step_now(&mut h, 1);
    until(&mut h, "domjobinfo", 20, &step_done("exp3-jobinfo"));
    // (The background migration's progress is printed after the prompt.)
    let screen = terminal_text(h.state());
    assert!(
        screen.contains("Iteration:") && screen.contains("Dirty rate:"),
        "domjobinfo of a running migration:\n{screen}"
    );
    // 3. Cancelled: the watched run ends aborted, db01 stays.
    type_step_now(&mut h, 2);
    until(&mut h, "the abort step", 60, &step_done("exp3-abort"));
    let aborted = h.state().lab.runs.last().unwrap();
    assert!(
        matches!(aborted.outcome(), Some(Outcome::Aborted { .. })),
        "{:?}",
        aborted.outcome()
    );
    let passes = aborted
        .trace
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            TraceKind::Progress(p) => Some(p.iteration),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    assert!(passes >= 4, "it kept passing over memory: {passes} passes");
    // (virsh's error is printed after the prompt; bash reports the job at the next one.)
    type_step(&mut h, 3);
    until(&mut h, "the check", 20, &step_done("exp3-verify"));
    assert_eq!(real.running_on(), HOST1, "cancelled: db01 stays");
    until(&mut h, "the prompt", 20, &at_prompt);
    // 4. The bandwidth: lower still, cancelled again (its line ends with the cancelling
    //    `domjobabort`, virsh's error after the prompt).
    let runs_before = h.state().lab.runs.len();
    type_step(&mut h, 4);
    until(
        &mut h,
        "the bandwidth step",
        20,
        &step_done("exp3-bandwidth"),
    );
    until(&mut h, "the bandwidth run, cancelled", 60, &move |a| {
        a.lab.runs.len() > runs_before
    });
    assert!(matches!(
        h.state().lab.runs.last().unwrap().outcome(),
        Some(Outcome::Aborted { .. })
    ));
    // 5. A longer downtime limit: it converges.
    type_step(&mut h, 5);
    until(&mut h, "the downtime step", 90, &step_done("exp3-downtime"));
    assert_eq!(real.running_on(), HOST2);
    until(&mut h, "the prompt", 20, &at_prompt);
    // 6. Auto-converge, db01 home again: the vCPUs are throttled until it converges. Typed by
    //    hand with the throttle's steps the step's text names (--auto-converge-initial,
    //    -increment), which converge in half the step's default 30 s (20 %, +10 %).
    prepare(&mut h, real, 1);
    until(&mut h, "the prompt", 20, &at_prompt);
    assert!(h.state_mut().real.terminal.type_line(
        "virsh migrate --live --verbose --auto-converge --auto-converge-initial 50 \
         --auto-converge-increment 20 db01 qemu+ssh://kvm-host-02/system --bandwidth 18"
    ));
    until(
        &mut h,
        "the auto-converge step",
        120,
        &step_done("exp3-auto-converge"),
    );
    let throttled = h.state().lab.runs.last().unwrap();
    let throttle = throttled
        .trace
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            TraceKind::Progress(p) => Some(p.throttle_pct),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    assert!(throttle >= 50, "auto-converge throttled db01: {throttle} %");
    until(&mut h, "the prompt", 20, &at_prompt);
    // 7. Post-copy, switched by hand a few seconds in (the step's --timeout 40 would do it
    //    after 40 s).
    prepare(&mut h, real, 2);
    until(&mut h, "the prompt", 20, &at_prompt);
    let before = last_run(h.state());
    let line = "virsh migrate --live --verbose --postcopy db01 qemu+ssh://kvm-host-02/system \
                --bandwidth 18 </dev/null & sleep 4; virsh migrate-postcopy db01; wait";
    assert!(h.state_mut().real.terminal.type_line(line));
    until(
        &mut h,
        "the post-copy step",
        90,
        &step_done("exp3-postcopy"),
    );
    assert_ne!(last_run(h.state()), before);
    until(&mut h, "the prompt", 30, &at_prompt);
    eprintln!("the app's terminal:\n{}", terminal_text(h.state()));

    // Every step done, and the explanation filled from the real runs.
    let (exp, modes, evidence) = every_step_done_for_real(&mut h, "exp3");
    let app = h.state();
    let measured = migralab_app::gui::real::experiments_real::compared_values(
        exp, &modes, &evidence, &app.lab,
    );
    let values =
        migralab_app::gui::experiments::formatted(&measured, migralab_sim_core::lang::Lang::En);
    let text = migralab_course::experiments::fill_placeholders(&exp.explanation.en, &values);
    eprintln!("Experiment 3's explanation with the real numbers:\n{text}");
    assert!(!text.contains('{'), "every number filled: {text}");
    drop(h);
    let _ = std::fs::remove_dir_all(&data);
}

/// Every step of experiment `id` done on the real hosts, judged as the tab judges them: the
/// experiment, its steps' modes and evidence (for the compared runs).
fn every_step_done_for_real(
    h: &mut ExpHarness,
    id: &str,
) -> (
    &'static migralab_course::experiments::Experiment,
    Vec<migralab_app::sessions::real::experiments::StepMode>,
    Vec<Option<migralab_app::sessions::real::experiments::Evidence>>,
) {
    use migralab_app::gui::real::experiments_real::{hosts_of, steps_state};
    let settings = h.state_mut().shared.settings().effective();
    let app = h.state();
    let exp = migralab_course::experiments::experiments()
        .iter()
        .find(|e| e.id == id)
        .unwrap();
    let hosts = hosts_of(&settings, &app.state, app.real.on_labbox);
    let (modes, evidence, done) = steps_state(exp, &app.state, &app.real, &app.lab, &hosts);
    assert!(done.iter().all(|d| *d), "{id}: {done:?}");
    (exp, modes, evidence)
}

/// A data directory whose instructor.toml allows the lab in a box's hosts, db01, its address
/// and lab-client's pings (removed by the caller).
fn instructor_allows_the_lab(real: &RealArm, name: &str) -> std::path::PathBuf {
    let settings = format!(
        "format = 1\n[real_lab]\nallowed_hosts = [\"{}\", \"{}\"]\nallowed_domains = [\"{VM}\"]\n\
         ping_target = \"{GUEST_IP}\"\nping_netns = \"lab-client\"\nprediction_scenario = \"labbox\"\n",
        real.socket_uri(HOST1),
        real.socket_uri(HOST2)
    );
    let data = std::env::temp_dir().join(format!("migralab-real-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("instructor.toml"), settings).unwrap();
    data
}

type ExpHarness = egui_kittest::Harness<'static, migralab_app::gui::MigralabApp>;

/// The app on the Experiments tab with experiment `exp` selected, NYATA on (the lab in a box's
/// hosts allowed, db01, its address and lab-client's pings), watching kvm-host-01; and the
/// data directory to remove afterwards.
fn real_experiments_app(real: &RealArm, exp: &str) -> (ExpHarness, std::path::PathBuf) {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable as _;
    use migralab_app::gui::MigralabApp;
    use migralab_app::gui::state::{AppState, Tab};
    let data = instructor_allows_the_lab(real, exp);
    let mut app = MigralabApp::new(AppState {
        tab: Tab::Experiments,
        lang: migralab_sim_core::lang::Lang::En,
        ..AppState::default()
    });
    app.state.experiments.selected = exp.into();
    app.shared.data_dir = Some(data.clone());
    let mut h: ExpHarness = Harness::builder()
        .with_size(egui::vec2(1400.0, 1000.0))
        .with_max_steps(16)
        .build_ui_state(|ui, app: &mut MigralabApp| app.ui_root(ui), app);
    h.run();
    h.get_by_label("REAL").click();
    h.run();
    assert!(h.state().real.on, "NYATA is on");
    assert!(
        h.query_by_label_contains("the experiments run on the real hosts")
            .is_some(),
        "the tab says it runs on the real hosts"
    );
    until(&mut h, "watching kvm-host-01", 10, &|a| {
        a.real.session.as_ref().and_then(|s| s.watching()).is_some()
    });
    (h, data)
}

/// Step the app until `done` holds, at most `secs` seconds; otherwise fail with the facts, the
/// runs, the steps done and the terminal.
fn until(
    h: &mut ExpHarness,
    what: &str,
    secs: u64,
    done: &dyn Fn(&migralab_app::gui::MigralabApp) -> bool,
) {
    let t = Instant::now();
    while !done(h.state()) && t.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    if !done(h.state()) {
        let a = h.state();
        let runs: Vec<String> = a
            .lab
            .runs
            .iter()
            .map(|r| {
                format!(
                    "{:?} {} copy={} {:?}",
                    r.id,
                    r.vm,
                    r.spec.copy_storage_all,
                    r.outcome()
                )
            })
            .collect();
        panic!(
            "waited {secs} s for {what}\nfacts: {:?}\nruns: {runs:#?}\ndone: {:?}\nterminal:\n{}",
            a.real.facts.all(),
            a.state.experiments.done_real,
            terminal_text(a)
        );
    }
    // A watched migration that just began keeps the plots repainting: a few frames do.
    h.run_steps(4);
}

/// What the app's real terminal shows.
fn terminal_text(a: &migralab_app::gui::MigralabApp) -> String {
    a.real
        .terminal
        .session
        .as_ref()
        .map(|s| s.contents())
        .unwrap_or_default()
}

/// Step `id` of experiment `exp` is done on the real hosts.
fn step_done(
    exp: &'static str,
    id: &'static str,
) -> impl Fn(&migralab_app::gui::MigralabApp) -> bool {
    move |a| {
        a.state
            .experiments
            .done_real
            .get(exp)
            .is_some_and(|d| d.iter().any(|s| s == id))
    }
}

/// The terminal shows its prompt on the last line.
fn at_prompt(a: &migralab_app::gui::MigralabApp) -> bool {
    a.real.terminal.session.as_ref().is_some_and(|s| {
        s.contents()
            .trim_end()
            .lines()
            .last()
            .is_some_and(|l| l.trim_end().ends_with('#'))
    })
}

/// Click the `n`th "Type in the terminal" button now: a line that reads or cancels the running
/// migration (the buttons of lines that start one wait for it).
fn type_step_now(h: &mut ExpHarness, n: usize) {
    use egui_kittest::kittest::Queryable as _;
    h.run_steps(2);
    h.query_all_by_label("Type in the terminal")
        .nth(n)
        .unwrap_or_else(|| panic!("step button {n}"))
        .click_accesskit();
    h.run_steps(4);
}

/// Click the `n`th "Type in the terminal" button (after any migration being recorded ends).
fn type_step(h: &mut ExpHarness, n: usize) {
    use egui_kittest::kittest::Queryable as _;
    // The buttons wait while a migration is being recorded (a refusal the watcher caught too
    // is recorded for a moment).
    let t = Instant::now();
    while h
        .state()
        .real
        .session
        .as_ref()
        .is_some_and(|s| s.busy().is_some())
        && t.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(50));
        h.step();
    }
    h.run_steps(2);
    h.query_all_by_label("Type in the terminal")
        .nth(n)
        .unwrap_or_else(|| panic!("step button {n}"))
        .click_accesskit();
    h.run_steps(4);
}

/// A run of the app's history: completed, its job statistics plotted, pinged from lab-client
/// with some pings lost (a live migration's pause).
fn completed_with_plots_and_lost_pings(run: &migralab_app::sessions::lab::RunRecord) {
    assert!(
        matches!(run.outcome(), Some(Outcome::Completed { .. })),
        "{:?}",
        run.outcome()
    );
    assert!(
        run.trace.samples(VM).count() > 0,
        "job statistics were plotted"
    );
    let pings = PingStats::of(&run.trace);
    assert!(
        pings.sent > 50 && pings.lost > 0,
        "pings from lab-client: {pings:?}"
    );
}

/// `migralab watch --real ARGS --json` started now; its JSON document once it ends.
fn watch(src_uri: &str, dst_uri: &str, ping: bool) -> std::process::Child {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "watch", "--real", "--src", src_uri, "--dst", dst_uri, "--vm", VM,
    ]);
    cmd.args(["--wait", "30", "--json"]);
    if ping {
        cmd.args([
            "--ping",
            &GUEST_IP.to_string(),
            "--ping-netns",
            "lab-client",
        ]);
    }
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn watched(child: std::process::Child) -> (Option<i32>, serde_json::Value, String) {
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("watch printed no JSON ({e}); stderr: {stderr}"));
    (out.status.code(), doc, stderr)
}

/// The lesson's command typed on the source host with virsh: the watcher, in another process,
/// notices it, records it with its pings and reports it completed. (Typed in the app's own
/// terminal: `the_app_migrates_db01_for_real`.)
fn a_migration_typed_with_virsh_is_watched(real: &mut RealArm) {
    let from = real.source();
    let to = other(&from);
    let child = watch(&real.socket_uri(&from), &real.socket_uri(to), true);
    // The watcher is waiting before the command is typed.
    std::thread::sleep(Duration::from_millis(700));
    let uri = format!("qemu+ssh://{to}/system");
    let typed = labbox::host_command(&real.cfg, &from, "virsh")
        .unwrap()
        .args(["migrate", "--live", VM, &uri, "--persistent"])
        .output()
        .unwrap();
    assert!(
        typed.status.success(),
        "virsh migrate on {from}: {}",
        String::from_utf8_lossy(&typed.stderr)
    );
    let (code, doc, stderr) = watched(child);
    eprintln!("watched {from} -> {to}: {}", doc["outcome"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(doc["outcome"]["status"], "completed", "{stderr}");
    assert!(
        doc["outcome"]["memory_bytes"].as_u64() > Some(0),
        "{}",
        doc["outcome"]
    );
    assert!(doc["ping"]["sent"].as_u64() > Some(50), "{}", doc["ping"]);
    assert!(
        doc["ping"]["lost"].as_u64() > Some(0),
        "a live migration loses some pings: {}",
        doc["ping"]
    );
    assert_eq!(real.running_on(), to, "db01 moved");
}

fn destination_daemon_killed_mid_migration(real: &mut RealArm) {
    let from = real.source();
    let to = other(&from);
    let (src_uri, dst_uri) = (real.socket_uri(&from), real.socket_uri(to));
    // A watcher in another process, as a second terminal would run it.
    let watcher = watch(&src_uri, &dst_uri, false);
    std::thread::sleep(Duration::from_millis(700));
    let config = RealLabConfig::new(&src_uri, &dst_uri);
    let mut lab = RealLab::connect(config).unwrap();
    let mut spec = MigrationSpec::new(VM, to);
    spec.bandwidth_mibps = Some(10);
    lab.submit(LabCommand::Migrate(spec.clone())).unwrap();
    let started = Instant::now();
    let mut events = Vec::new();
    let mut killed = false;
    while !lab.is_idle() && started.elapsed() < Duration::from_secs(60) {
        events.extend(std::iter::from_fn(|| lab.poll_event()));
        if !killed && started.elapsed() >= Duration::from_secs(1) {
            killed = true;
            let pid = labbox::status(&real.cfg)
                .unwrap()
                .hosts
                .iter()
                .find(|h| h.name == to)
                .and_then(|h| h.daemons.iter().find(|(n, _)| n == "libvirtd"))
                .and_then(|(_, p)| *p)
                .expect("the destination's libvirtd pid");
            let ok = Command::new("kill")
                .arg("-9")
                .arg(pid.to_string())
                .status()
                .unwrap();
            assert!(ok.success());
        }
        lab.advance(SimDuration::from_millis(50));
    }
    events.extend(std::iter::from_fn(|| lab.poll_event()));
    let trace = real_trace(&src_uri, &dst_uri, &spec, events);
    let o = outcome(&trace);
    eprintln!("destination killed: {o:?}");
    assert!(
        matches!(o, Outcome::Failed { .. }),
        "a dead destination fails the migration: {o:?}"
    );
    assert!(!error_text(&o).is_empty());
    assert_eq!(
        lab.running_on_source(VM).unwrap(),
        Some(true),
        "db01 keeps running on the source"
    );
    let (code, doc, stderr) = watched(watcher);
    eprintln!("watched the killed destination: {}", doc["outcome"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(doc["outcome"]["status"], "failed", "{stderr}");
    assert!(
        doc["outcome"]["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "the watcher says why: {}",
        doc["outcome"]
    );
}
