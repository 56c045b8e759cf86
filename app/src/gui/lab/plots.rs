//! Live plots of a run (egui_plot): memory remaining with the iteration boundaries, send rate
//! against dirty rate, the ping timeline with lost probes and the downtime shaded, and the disk
//! copy when storage is copied. The series are the same [`RunSeries`] the exported figures use.
//! While a run plays, each plot shows the data up to the playback cursor; a compared run is shown
//! whole, dimmer.

use crate::sessions::series::{PingPoint, RunSeries};
use crate::tr;
use egui::Color32;
use egui_plot::{Legend, Line, LineStyle, MarkerShape, Plot, Points, Span, VLine};
use migralab_sim_core::lang::Lang;

const MAIN: Color32 = Color32::from_rgb(0x1f, 0x77, 0xb4);
const SECOND: Color32 = Color32::from_rgb(0xff, 0x7f, 0x0e);
const THIRD: Color32 = Color32::from_rgb(0x2c, 0xa0, 0x2c);
const LOST: Color32 = Color32::from_rgb(0xd6, 0x27, 0x28);

/// A run on the plots: its series, the label in the legend and how far to show it.
pub struct Shown<'a> {
    /// The series.
    pub series: &'a RunSeries,
    /// Legend label.
    pub label: String,
    /// Show points with x ≤ this (playback cursor); `f64::INFINITY` for all.
    pub until_s: f64,
}

/// The points of `pts` with x ≤ `until` (the series are sorted by time).
pub fn upto(pts: &[[f64; 2]], until: f64) -> &[[f64; 2]] {
    &pts[..pts.partition_point(|p| p[0] <= until)]
}

/// Columns a plot is thinned to: more points than pixels only cost time (a 20-minute run has
/// 12,000 samples and 120,000 probes), and min/max per column keeps every peak.
const COLUMNS: usize = 700;

/// The points of `pts` up to `until`, thinned for drawing.
fn shown(pts: &[[f64; 2]], until: f64) -> Vec<[f64; 2]> {
    let pts = upto(pts, until);
    match (pts.first(), pts.last()) {
        (Some(a), Some(b)) => crate::sessions::series::thin(pts, &(a[0]..b[0]), COLUMNS),
        _ => Vec::new(),
    }
}

fn pings_upto(pts: &[PingPoint], until: f64) -> &[PingPoint] {
    &pts[..pts.partition_point(|p| p.t_s <= until)]
}

/// Which plots to show for these runs: the disk plot only when a run copies storage.
pub fn has_disk(runs: &[Shown<'_>]) -> bool {
    runs.iter().any(|r| !r.series.disk_percent.is_empty())
}

/// Every plot, stacked, x axes linked. `cursor` draws the playback position.
pub fn plots_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    runs: &[Shown<'_>],
    cursor: Option<f64>,
    plot_h: f32,
) {
    if runs.is_empty() {
        ui.label(tr!(lang, "plots-empty"));
        return;
    }
    let group = egui::Id::unique("lab_plots");
    let x_label = tr!(lang, "axis-time-s");
    let base = |id: &str, y_label: String| {
        Plot::new(id.to_string())
            .height(plot_h)
            .legend(Legend::default())
            .link_axis(group, [true, false])
            .link_cursor(group, [true, false])
            .x_axis_label(x_label.clone())
            .y_axis_label(y_label)
            .allow_scroll(false)
            .include_y(0.0)
    };
    let colors = [MAIN, SECOND, THIRD];
    let vline = |plot_ui: &mut egui_plot::PlotUi<'_>| {
        if let Some(t) = cursor {
            plot_ui.vline(
                VLine::new("", t)
                    .color(Color32::GRAY)
                    .style(LineStyle::dashed_loose()),
            );
        }
    };

    ui.label(egui::RichText::new(tr!(lang, "plot-memory")).strong());
    base("plot_memory", "MiB".into()).show(ui, |plot_ui| {
        for (i, r) in runs.iter().enumerate() {
            let c = colors[i % colors.len()];
            plot_ui.line(
                Line::new(
                    r.label.clone(),
                    shown(&r.series.memory_remaining_mib, r.until_s),
                )
                .color(c),
            );
            if i == 0 {
                for &t in r.series.iterations.iter().take_while(|&&t| t <= r.until_s) {
                    plot_ui.vline(
                        VLine::new(tr!(lang, "legend-iteration"), t)
                            .color(c.gamma_multiply(0.4))
                            .style(LineStyle::dotted_dense()),
                    );
                }
            }
        }
        vline(plot_ui);
    });

    ui.label(egui::RichText::new(tr!(lang, "plot-rates")).strong());
    base("plot_rates", "MiB/s".into()).show(ui, |plot_ui| {
        for (i, r) in runs.iter().enumerate() {
            let c = colors[i % colors.len()];
            plot_ui.line(
                Line::new(
                    format!("{} · {}", r.label, tr!(lang, "legend-send")),
                    shown(&r.series.send_rate_mibps, r.until_s),
                )
                .color(c),
            );
            plot_ui.line(
                Line::new(
                    format!("{} · {}", r.label, tr!(lang, "legend-dirty")),
                    shown(&r.series.dirty_rate_mibps, r.until_s),
                )
                .color(c)
                .style(LineStyle::dashed_dense()),
            );
        }
        vline(plot_ui);
    });

    ui.label(egui::RichText::new(tr!(lang, "plot-ping")).strong());
    base("plot_ping", "ms".into()).show(ui, |plot_ui| {
        for (i, r) in runs.iter().enumerate() {
            let c = colors[i % colors.len()];
            if let Some((a, b)) = r.series.downtime_s
                && a <= r.until_s
            {
                plot_ui.span(
                    Span::new(tr!(lang, "legend-downtime"), a..=b.min(r.until_s))
                        .fill(c.gamma_multiply(0.25)),
                );
            }
            let pings = pings_upto(&r.series.pings, r.until_s);
            let answered: Vec<[f64; 2]> = pings
                .iter()
                .filter_map(|p| p.rtt_ms.map(|rtt| [p.t_s, rtt]))
                .collect();
            let lost: Vec<[f64; 2]> = pings
                .iter()
                .filter(|p| p.rtt_ms.is_none())
                .map(|p| [p.t_s, 0.0])
                .collect();
            let answered = shown(&answered, f64::INFINITY);
            let lost = shown(&lost, f64::INFINITY);
            plot_ui.points(
                Points::new(format!("{} · RTT", r.label), answered)
                    .color(c)
                    .radius(1.5),
            );
            if !lost.is_empty() {
                plot_ui.points(
                    Points::new(format!("{} · {}", r.label, tr!(lang, "legend-lost")), lost)
                        .color(LOST)
                        .shape(MarkerShape::Cross)
                        .radius(4.0),
                );
            }
        }
        vline(plot_ui);
    });

    if has_disk(runs) {
        ui.label(egui::RichText::new(tr!(lang, "plot-disk")).strong());
        base("plot_disk", "%".into())
            .include_y(100.0)
            .show(ui, |plot_ui| {
                for (i, r) in runs.iter().enumerate() {
                    if r.series.disk_percent.is_empty() {
                        continue;
                    }
                    plot_ui.line(
                        Line::new(r.label.clone(), shown(&r.series.disk_percent, r.until_s))
                            .color(colors[i % colors.len()]),
                    );
                }
                vline(plot_ui);
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upto_keeps_the_points_up_to_the_cursor() {
        let pts = [[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]];
        assert_eq!(upto(&pts, 1.0).len(), 2);
        assert_eq!(upto(&pts, -1.0).len(), 0);
        assert_eq!(upto(&pts, f64::INFINITY).len(), 3);
    }
}
