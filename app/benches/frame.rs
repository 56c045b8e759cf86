//! What a frame of the desktop app costs on the CPU, without rendering: the Lab tab with a long
//! run (about 12,300 progress samples and 123,000 ping probes) playing back, the same with the
//! what-if panel open while a slider is dragged, the Lesson tab, and the what-if panel's
//! re-simulation (one run, and the bandwidth sweep) of the lesson's db01.
//! `cargo bench -p migralab_app --bench frame`; the numbers are in docs/src/development/benchmarks.md.
//! The run's setup asserts what that page says it is; the test command runs this binary without
//! `--bench` (each benchmark once, as a test), so a change that alters the run fails there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use migralab_app::gui::MigralabApp;
use migralab_app::gui::state::{AppState, Tab};
use migralab_app::sessions::lab::LabSession;
use migralab_app::sessions::whatif::{Base, Knobs, Verdict, predict};
use migralab_sim_core::lang::Lang;

fn main() {
    divan::main();
}

/// An app on `tab` whose lab holds one long run, half played: the run the docs' table describes.
fn app_with_long_run(tab: Tab) -> (MigralabApp, egui::Context) {
    // 12 GiB (half of it zero pages) over 5 MiB/s: a migration of about 20 minutes, sampled
    // every 100 ms and pinged every 10 ms. The lesson's hot set is written at 1 MiB/s, well under
    // the link, so the run converges after a few passes (at its 20 MiB/s it never would, and the
    // run would go on to the time limit).
    let scenario = migralab_app::scenarios::load(
        Some(std::path::Path::new("lesson")),
        &[
            "link.bandwidth_mibps=5".into(),
            "sim.max_time_s=3600".into(),
            "vm.db01.ram_mib=12288".into(),
            "vm.db01.zero_fraction=0.5".into(),
            "vm.db01.workload.rate_mibps=1".into(),
        ],
    )
    .unwrap();
    let mut app = MigralabApp::new(AppState {
        tab,
        lang: Lang::Id,
        ..AppState::default()
    });
    let mut session = LabSession::open("lesson", scenario, Lang::Id, Box::new(|| {}));
    session.submit_line("virsh migrate --live db01 qemu+ssh://kvm-host-02/system");
    app.lab.session = Some(session);
    app.lab.wait_idle();
    let run = &app.lab.runs[0];
    // What docs/src/development/benchmarks.md says was measured: a completed run of about
    // 20 minutes, about 12,300 progress samples and 123,000 ping probes.
    let outcome = run.outcome().map(|o| o.status());
    assert_eq!(
        outcome,
        Some("completed"),
        "the benchmarked run must complete"
    );
    let length_s = run.span_end_s();
    assert!(
        (1200.0..=1260.0).contains(&length_s),
        "{length_s} s simulated"
    );
    let samples = run.series.memory_remaining_mib.len();
    assert!((12_000..=12_600).contains(&samples), "{samples} samples");
    let probes = run.series.pings.len();
    assert!((120_000..=126_000).contains(&probes), "{probes} probes");
    if let Some(p) = &mut app.lab.playback {
        p.cursor_s = run.span_end_s() / 2.0;
    }
    let ctx = egui::Context::default();
    // First frames lay out fonts and open everything.
    for _ in 0..3 {
        frame(&ctx, &mut app);
    }
    (app, ctx)
}

fn frame(ctx: &egui::Context, app: &mut MigralabApp) {
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1280.0, 720.0),
        )),
        ..Default::default()
    };
    let mut out = ctx.run_ui(input, |ui| app.ui_root(ui));
    // No renderer takes the font textures here; epaint's debug build (the test command's run)
    // panics on dropping them unapplied.
    out.textures_delta.clear();
    divan::black_box(out);
}

#[divan::bench(sample_count = 30)]
fn lab_tab_frame_with_a_10k_sample_run_playing(bencher: divan::Bencher) {
    let (mut app, ctx) = app_with_long_run(Tab::Lab);
    bencher.bench_local(|| frame(&ctx, &mut app));
}

#[divan::bench(sample_count = 30)]
fn lesson_tab_frame(bencher: divan::Bencher) {
    let (mut app, ctx) = app_with_long_run(Tab::Lesson);
    bencher.bench_local(|| frame(&ctx, &mut app));
}

/// The what-if panel's re-simulation of the lesson's db01 (2 GiB, its 64 MiB hot set written at
/// 20 MiB/s) at the lab's values, outcome only: what the worker does for each step of a drag.
#[divan::bench(sample_count = 30)]
fn whatif_resimulation_lesson(bencher: divan::Bencher) {
    let (base, knobs) = whatif_base();
    let p = predict(&base, &knobs, &|| false).unwrap();
    assert_eq!(p.verdict, Verdict::Converges, "the lesson's db01 converges");
    bencher.bench_local(|| divan::black_box(predict(&base, divan::black_box(&knobs), &|| false)));
}

/// The whole bandwidth sweep of the lesson's db01 (16 runs, 1 to 112 MiB/s), which the worker
/// fills in a point at a time after a knob other than the bandwidth changes.
#[divan::bench(sample_count = 5)]
fn whatif_sweep_lesson(bencher: divan::Bencher) {
    let (base, knobs) = whatif_base();
    bencher.bench_local(|| {
        for bw in base.sweep_bandwidths() {
            let k = Knobs {
                bandwidth_mibps: bw,
                ..knobs
            };
            divan::black_box(predict(&base, &k, &|| false));
        }
    });
}

/// A frame of the Lab tab with the what-if panel open while the student drags the bandwidth,
/// after running the lesson's command (its run shown whole on the plots): each frame the knobs
/// change and go to the worker; the panel draws the newest prediction and the sweep (settled
/// before the timing starts).
#[divan::bench(sample_count = 30)]
fn lab_tab_frame_with_whatif_dragging(bencher: divan::Bencher) {
    let scenario =
        migralab_app::scenarios::load(Some(std::path::Path::new("lesson")), &[]).unwrap();
    let mut state = AppState {
        tab: Tab::Lab,
        lang: Lang::Id,
        ..AppState::default()
    };
    state.lab.whatif = true;
    state.lab.form = migralab_app::sessions::migrate_form::MigrateForm::for_scenario(&scenario);
    let mut app = MigralabApp::new(state);
    let mut session = LabSession::open("lesson", scenario, Lang::Id, Box::new(|| {}));
    session.submit_line("virsh migrate --live db01 qemu+ssh://kvm-host-02/system");
    app.lab.session = Some(session);
    app.lab.wait_idle();
    let ctx = egui::Context::default();
    for _ in 0..3 {
        frame(&ctx, &mut app);
    }
    let settled = app
        .lab
        .whatif
        .wait_settled(std::time::Duration::from_secs(300));
    assert!(settled, "the sweep settles: {:?}", app.lab.whatif);
    frame(&ctx, &mut app);
    let mut bw = 50;
    bencher.bench_local(|| {
        bw = if bw == 50 { 51 } else { 50 };
        if let Some(k) = &mut app.lab.whatif.knobs {
            k.bandwidth_mibps = bw;
        }
        frame(&ctx, &mut app);
    });
}

/// The lesson's db01 as the what-if panel starts from it.
fn whatif_base() -> (Base, Knobs) {
    let scenario =
        migralab_app::scenarios::load(Some(std::path::Path::new("lesson")), &[]).unwrap();
    let spec = migralab_app::sessions::migrate_form::MigrateForm::for_scenario(&scenario).spec();
    let base = Base::new(&scenario, &spec).unwrap();
    let knobs = base.start();
    (base, knobs)
}
