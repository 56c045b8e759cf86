//! The what-if panel driven as a student would: a slider set through the accessibility tree,
//! the prediction and the sweep read back from what the panel shows.

use crate::common::fresh_dir;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use migralab_app::gui::MigralabApp;
use migralab_app::gui::state::{AppState, Tab};
use migralab_app::sessions::whatif::Verdict;
use migralab_sim_core::lang::Lang;
use std::time::Duration;

fn harness() -> Harness<'static, MigralabApp> {
    let mut state = AppState {
        tab: Tab::Lab,
        lang: Lang::En,
        ..AppState::default()
    };
    state.lab.whatif = true;
    let mut app = MigralabApp::new(state);
    app.shared.data_dir = Some(fresh_dir("gui-whatif"));
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .with_max_steps(16)
        .build_ui_state(|ui, app: &mut MigralabApp| app.ui_root(ui), app)
}

/// Let the worker predict the knobs set and fill the sweep, then draw it.
fn settle(h: &mut Harness<'static, MigralabApp>) {
    h.step();
    assert!(
        h.state_mut()
            .lab
            .whatif
            .wait_settled(Duration::from_secs(120)),
        "the worker answers"
    );
    h.run();
}

#[test]
fn dragging_the_bandwidth_re_simulates_and_the_sweep_marks_the_choice() {
    let mut h = harness();
    settle(&mut h);
    // The lesson's db01 at the link's speed: it converges, as the lab's own run does.
    let (knobs, first) = h.state().lab.whatif.point.clone().unwrap();
    assert_eq!(knobs.bandwidth_mibps, 112);
    assert_eq!(first.verdict, Verdict::Converges);
    let total = format!("{:.1} s", first.total_s.unwrap());
    assert!(h.query_by_label(&total).is_some(), "{total} shown");
    let iterations = first.iterations.unwrap();
    h.get_by_label(&format!(
        "Converges: completed after {iterations} iterations"
    ));
    let sweep = h.state().lab.whatif.sweep.clone().unwrap();
    assert!(sweep.is_complete());
    h.get_by_label("dashed line: your choice: 112 MiB/s");

    // Drag the bandwidth cap down to 40 MiB/s: the migration takes longer, and the sweep
    // (which does not depend on the bandwidth) stays as it was.
    h.get_by_role_and_label(egui::Role::Slider, "Bandwidth cap")
        .set_value_accesskit(40.0);
    settle(&mut h);
    let s = &h.state().lab.whatif;
    let (knobs, slow) = s.point.clone().unwrap();
    assert_eq!(knobs.bandwidth_mibps, 40);
    assert_eq!(slow.verdict, Verdict::Converges, "{slow:?}");
    assert!(slow.total_s.unwrap() > 2.0 * first.total_s.unwrap());
    assert_eq!(s.sweep.as_ref(), Some(&sweep), "the sweep is kept");
    let series = s.sweep_series();
    let (x, t, d) = series.choice.unwrap();
    assert_eq!(x, 40.0);
    assert_eq!((t, d.map(|d| d as u64)), (slow.total_s, slow.downtime_ms));
    let total = format!("{:.1} s", slow.total_s.unwrap());
    assert!(h.query_by_label(&total).is_some(), "{total} shown");
    h.get_by_label("dashed line: your choice: 40 MiB/s");
    // The lab itself did not change: no run, the form's command as it was.
    assert!(h.state().lab.runs.is_empty());
    assert_eq!(h.state().state.lab.form.spec.bandwidth_mibps, None);

    // A guest writing faster than the link, without --auto-converge: it does not converge,
    // and the sweep is computed again for it.
    h.get_by_role_and_label(egui::Role::Slider, "Dirty rate")
        .set_value_accesskit(200.0);
    settle(&mut h);
    let s = &h.state().lab.whatif;
    assert_eq!(s.point.as_ref().unwrap().1.verdict, Verdict::NotConverged);
    assert_ne!(s.sweep.as_ref(), Some(&sweep));
    h.get_by_label(
        "Does not converge: the VM dirties memory faster than it can be sent (QEMU would keep iterating)",
    );
    assert!(
        !s.sweep_series().not_completed.is_empty(),
        "the sweep marks where it does not complete"
    );

    // --auto-converge throttles the writer until the migration completes.
    // (The migrate form on the left has a checkbox of that name too: the panel's is on the right.)
    h.get_all_by_label("--auto-converge")
        .find(|n| {
            n.accesskit_node()
                .bounding_box()
                .is_some_and(|r| r.x0 > 640.0)
        })
        .expect("the panel's --auto-converge")
        .click();
    settle(&mut h);
    let (knobs, p) = h.state().lab.whatif.point.clone().unwrap();
    assert!(knobs.auto_converge);
    assert_eq!(p.verdict, Verdict::Converges, "{p:?}");

    // "Use in the form" puts the bandwidth and the flag into the lab's command.
    h.get_by_label("Use in the form").click();
    h.run();
    let form = &h.state().state.lab.form.spec;
    assert_eq!(form.bandwidth_mibps, Some(40));
    assert!(form.auto_converge);
}
