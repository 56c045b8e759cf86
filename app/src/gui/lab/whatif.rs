//! The what-if panel (issue 23 §4): sliders for the migration's and the guest's knobs, the
//! prediction for them (total time, downtime, converges or not) and the sweep of the whole
//! bandwidth range with the student's choice marked. It re-simulates on a worker as the student
//! drags (see [`crate::sessions::whatif`]); it never changes the lab.

use super::LabRuntime;
use crate::gui::state::AppState;
use crate::sessions::whatif::explorer::Explorer;
use crate::sessions::whatif::{Knobs, Prediction, Verdict};
use crate::tr;
use egui::Color32;
use egui_plot::{Line, LineStyle, MarkerShape, Plot, Points, VLine};
use migralab_sim_core::lang::Lang;

const TIME: Color32 = Color32::from_rgb(0x1f, 0x77, 0xb4);
const DOWNTIME: Color32 = Color32::from_rgb(0xff, 0x7f, 0x0e);
const CHOICE: Color32 = Color32::from_rgb(0xd6, 0x27, 0x28);
const GOOD: Color32 = Color32::from_rgb(0x2e, 0x8b, 0x57);

/// The panel, for the lab's current scenario and the form's guest.
pub fn whatif_ui(ui: &mut egui::Ui, state: &mut AppState, lab: &mut LabRuntime) {
    let lang = state.lang;
    let Some(session) = &lab.session else {
        return;
    };
    let ex = &mut lab.whatif;
    ex.follow(
        &session.scenario_name,
        session.scenario(),
        &state.lab.form.spec(),
    );
    let ctx = ui.ctx().clone();
    ex.update(move || Box::new(move || ctx.request_repaint()));
    ui.heading(tr!(lang, "whatif-title"));
    let Some(base) = ex.base() else {
        ui.label(tr!(lang, "whatif-no-vm"));
        return;
    };
    ui.label(
        egui::RichText::new(tr!(
            lang,
            "whatif-about",
            vm = base.vm().to_string(),
            to = base.to().to_string()
        ))
        .weak(),
    );
    let ranges = base.ranges();
    let start = base.start();
    let Some(mut k) = ex.knobs else {
        return;
    };
    sliders_ui(ui, lang, &mut k, &ranges);
    ui.horizontal_wrapped(|ui| {
        if ui
            .add_enabled(k != start, egui::Button::new(tr!(lang, "whatif-reset")))
            .on_hover_text(tr!(lang, "whatif-reset-hover"))
            .clicked()
        {
            k = start;
        }
        if ui
            .button(tr!(lang, "whatif-to-form"))
            .on_hover_text(tr!(lang, "whatif-to-form-hover"))
            .clicked()
        {
            let form = &mut state.lab.form.spec;
            form.bandwidth_mibps =
                (k.bandwidth_mibps < base.link_mibps()).then_some(k.bandwidth_mibps);
            form.auto_converge = k.auto_converge;
            form.postcopy = k.postcopy;
            form.postcopy_after_precopy = k.postcopy;
        }
    });
    ex.knobs = Some(k);
    ui.separator();
    result_ui(ui, lang, ex);
    ui.separator();
    sweep_ui(ui, lang, ex);
    if ex.is_busy() {
        // The worker wakes the UI with each result; keep the spinner turning meanwhile.
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
    }
}

/// One slider per knob, each named as virsh or the guest has it.
fn sliders_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    k: &mut Knobs,
    ranges: &crate::sessions::whatif::Ranges,
) {
    egui::Grid::new("whatif_knobs")
        .num_columns(2)
        .show(ui, |ui| {
            let row = |ui: &mut egui::Ui,
                       label: String,
                       hover: String,
                       v: &mut u64,
                       range: std::ops::RangeInclusive<u64>,
                       unit: &str,
                       log: bool| {
                ui.label(&label).on_hover_text(&hover);
                ui.add(
                    egui::Slider::new(v, range)
                        .logarithmic(log)
                        .suffix(format!(" {unit}"))
                        .clamping(egui::SliderClamping::Always),
                )
                .on_hover_text(&hover)
                .widget_info(|| egui::WidgetInfo::slider(true, *v as f64, label.clone()));
                ui.end_row();
            };
            row(
                ui,
                tr!(lang, "whatif-bandwidth"),
                tr!(lang, "whatif-bandwidth-hover"),
                &mut k.bandwidth_mibps,
                ranges.bandwidth_mibps.clone(),
                "MiB/s",
                true,
            );
            row(
                ui,
                tr!(lang, "whatif-downtime"),
                tr!(lang, "whatif-downtime-hover"),
                &mut k.downtime_ms,
                ranges.downtime_ms.clone(),
                "ms",
                true,
            );
            row(
                ui,
                tr!(lang, "whatif-dirty"),
                tr!(lang, "whatif-dirty-hover"),
                &mut k.dirty_mibps,
                ranges.dirty_mibps.clone(),
                "MiB/s",
                false,
            );
            let ram = k.ram_mib;
            row(
                ui,
                tr!(lang, "whatif-set"),
                tr!(lang, "whatif-set-hover"),
                &mut k.set_mib,
                1..=ram,
                "MiB",
                true,
            );
            row(
                ui,
                tr!(lang, "whatif-ram"),
                tr!(lang, "whatif-ram-hover"),
                &mut k.ram_mib,
                ranges.ram_mib.clone(),
                "MiB",
                true,
            );
        });
    ui.checkbox(&mut k.auto_converge, "--auto-converge")
        .on_hover_text(tr!(lang, "flag-auto-converge"));
    ui.checkbox(&mut k.postcopy, "--postcopy --postcopy-after-precopy")
        .on_hover_text(tr!(lang, "flag-postcopy"));
}

/// The prediction for the knobs set: total time, downtime and whether it converges.
fn result_ui(ui: &mut egui::Ui, lang: Lang, ex: &Explorer) {
    let current = ex.is_current();
    let Some((_, p)) = &ex.point else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(tr!(lang, "whatif-computing"));
        });
        return;
    };
    let dash = || "—".to_string();
    let total = p.total_s.map_or_else(dash, |t| format!("{t:.1} s"));
    let downtime = p.downtime_ms.map_or_else(dash, |d| format!("{d} ms"));
    egui::Grid::new("whatif_result")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label(tr!(lang, "whatif-total"));
            ui.label(egui::RichText::new(total).strong());
            ui.end_row();
            ui.label(tr!(lang, "whatif-downtime-result"));
            ui.label(egui::RichText::new(downtime).strong());
            ui.end_row();
        });
    let (text, color) = verdict_text(p, lang, ui);
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new(text).color(color).strong());
        if !current {
            ui.spinner();
        }
    });
    if let Verdict::Refused(msg) | Verdict::Failed(msg) = &p.verdict
        && !msg.is_empty()
    {
        ui.label(egui::RichText::new(msg).small().monospace());
    }
}

/// "Converges" or not, in words and a colour.
fn verdict_text(p: &Prediction, lang: Lang, ui: &egui::Ui) -> (String, Color32) {
    let iterations = p.iterations.unwrap_or(0).to_string();
    match &p.verdict {
        Verdict::Converges => (tr!(lang, "whatif-converges", iterations = iterations), GOOD),
        Verdict::PostCopy => (tr!(lang, "whatif-postcopy"), GOOD),
        Verdict::NotConverged => (
            tr!(lang, "whatif-not-converged"),
            ui.visuals().error_fg_color,
        ),
        Verdict::TimeLimit => (tr!(lang, "whatif-time-limit"), ui.visuals().warn_fg_color),
        Verdict::Failed(_) => (tr!(lang, "whatif-failed"), ui.visuals().error_fg_color),
        Verdict::Refused(_) => (tr!(lang, "whatif-refused"), ui.visuals().warn_fg_color),
    }
}

/// Total time and downtime across the whole bandwidth range, the choice marked.
fn sweep_ui(ui: &mut egui::Ui, lang: Lang, ex: &Explorer) {
    let series = ex.sweep_series();
    let filling = ex.sweep.as_ref().is_some_and(|s| !s.is_complete());
    ui.horizontal(|ui| {
        ui.label(egui::RichText::new(tr!(lang, "whatif-sweep")).strong());
        if filling {
            ui.spinner();
        }
    });
    let group = egui::Id::unique("whatif_sweep");
    let x_label = tr!(lang, "whatif-axis-bandwidth");
    // Bandwidth on a log scale (x = log10 MiB/s): time grows as 1/bandwidth, and the sweep's
    // points are spread evenly on that scale.
    let lx = |bw: f64| bw.max(1.0).log10();
    let (lo, hi) = ex.base().map_or((1.0, 100.0), |b| {
        let r = b.ranges().bandwidth_mibps;
        (*r.start() as f64, *r.end() as f64)
    });
    // Bounds from the data every frame (the plots take no drag or zoom): the sweep grows as its
    // points arrive, and a plot that kept its first bounds would cut the slow end off.
    let plot = |id: &str, y: String, top: f64| {
        Plot::new(id.to_string())
            .reset()
            .include_y(top)
            .height(130.0)
            .link_axis(group, [true, false])
            .x_axis_label(x_label.clone())
            .y_axis_label(y)
            .y_axis_min_width(36.0)
            .x_grid_spacer(log_marks)
            .y_grid_spacer(nice_marks)
            .x_axis_formatter(|m, _| format!("{:.0}", 10f64.powf(m.value)))
            .allow_scroll(false)
            .allow_drag(false)
            .allow_zoom(false)
            .include_y(0.0)
            .include_x(lx(lo))
            .include_x(lx(hi))
    };
    let on_log = |pts: &[[f64; 2]]| pts.iter().map(|p| [lx(p[0]), p[1]]).collect::<Vec<_>>();
    let choice = series.choice;
    let red = ui.visuals().error_fg_color;
    let stuck = |y: f64| -> Points<'static> {
        Points::new(
            tr!(lang, "whatif-legend-stuck"),
            series
                .not_completed
                .iter()
                .map(|&x| [lx(x), y])
                .collect::<Vec<_>>(),
        )
        .shape(MarkerShape::Cross)
        .radius(4.0)
        .color(red)
    };
    let top = |pts: &[[f64; 2]], chosen: Option<f64>| {
        pts.iter().map(|p| p[1]).chain(chosen).fold(0.0, f64::max) * 1.08
    };
    let top_t = top(&series.total_s, choice.and_then(|c| c.1));
    let top_d = top(&series.downtime_ms, choice.and_then(|c| c.2));
    plot("whatif_time", "s".into(), top_t).show(ui, |p| {
        p.line(Line::new(tr!(lang, "whatif-total"), on_log(&series.total_s)).color(TIME));
        p.points(stuck(0.0));
        if let Some((x, t, _)) = choice {
            let x = lx(x);
            p.vline(
                VLine::new("", x)
                    .color(CHOICE)
                    .style(LineStyle::dashed_loose()),
            );
            if let Some(t) = t {
                p.points(Points::new("", vec![[x, t]]).color(CHOICE).radius(5.0));
            }
        }
    });
    plot("whatif_downtime", "ms".into(), top_d).show(ui, |p| {
        p.line(
            Line::new(
                tr!(lang, "whatif-downtime-result"),
                on_log(&series.downtime_ms),
            )
            .color(DOWNTIME),
        );
        p.points(stuck(0.0));
        if let Some((x, _, d)) = choice {
            let x = lx(x);
            p.vline(
                VLine::new("", x)
                    .color(CHOICE)
                    .style(LineStyle::dashed_loose()),
            );
            if let Some(d) = d {
                p.points(Points::new("", vec![[x, d]]).color(CHOICE).radius(5.0));
            }
        }
    });
    if let Some((x, _, _)) = choice {
        ui.label(
            egui::RichText::new(tr!(lang, "whatif-choice", bandwidth = format!("{x:.0}")))
                .color(CHOICE),
        );
    }
    if !series.not_completed.is_empty() {
        ui.label(egui::RichText::new(tr!(lang, "whatif-stuck-note")).weak());
    }
}

/// Grid marks of a log10 axis at 1, 2 and 5 times each power of ten in view (powers of ten
/// drawn strongest).
fn log_marks(input: egui_plot::GridInput) -> Vec<egui_plot::GridMark> {
    let (a, b) = input.bounds;
    let mut marks = Vec::new();
    let first = a.floor() as i32;
    let last = b.ceil() as i32;
    for e in first..=last {
        for (m, step) in [(1.0_f64, 1.0), (2.0, 0.3), (5.0, 0.3)] {
            let v = (m * 10f64.powi(e)).log10();
            if (a..=b).contains(&v) {
                marks.push(egui_plot::GridMark {
                    value: v,
                    step_size: step,
                });
            }
        }
    }
    marks
}

/// Grid marks about a quarter of the range apart, at 1, 2 or 5 times a power of ten (egui_plot's
/// own spacer steps by powers of ten only, and on a short plot it would label just the 0 of
/// 0–60 s).
fn nice_marks(input: egui_plot::GridInput) -> Vec<egui_plot::GridMark> {
    let (a, b) = input.bounds;
    let span = b - a;
    if !(span.is_finite() && span > 0.0) {
        return Vec::new();
    }
    let rough = span / 4.0;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * power);
    let first = (a / step).ceil() as i64;
    let last = (b / step).floor() as i64;
    (first..=last)
        .map(|i| egui_plot::GridMark {
            value: i as f64 * step,
            step_size: step,
        })
        .collect()
}
