//! The four figures of a run, drawn with plotters into SVG text or PNG bytes. Several runs are
//! overlaid (one colour each, with a legend) so that experiments can be compared in one picture.
//!
//! The data are [`RunSeries`], exactly what the GUI plots. Only the drawing thins long series
//! (keeping each pixel column's extremes), so a ping spike survives but a 20 000-probe run does
//! not turn into a 2 MB SVG.

use super::ExportError;
use crate::sessions::series::{PingPoint, RunSeries};
use migralab_sim_core::lang::Lang;
use migralab_sim_core::text::Text as Bilingual; // plotters has a `Text` of its own
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::sync::OnceLock;

/// Size of an SVG figure, pixels (the HTML report scales it to the page).
const SVG_SIZE: (u32, u32) = (800, 400);
/// The family name the embedded font is registered under.
pub(crate) const FONT: &str = "sans-serif";
/// One colour per run, in order (colour-blind friendly, after Okabe and Ito).
const PALETTE: [RGBColor; 6] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
];
/// Shade of the downtime span of a single run.
const DOWNTIME: RGBColor = RGBColor(220, 50, 47);

/// A figure of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Figure {
    /// Memory remaining over time, with a dashed line at each iteration boundary.
    MemoryRemaining,
    /// Send rate against the guest's dirty rate.
    Rates,
    /// Ping round-trip times, lost probes and the downtime.
    Ping,
    /// Disk copy progress (`--copy-storage-all`).
    Disk,
}

impl Figure {
    /// Every figure, in the order a report shows them.
    pub fn all() -> [Figure; 4] {
        [
            Figure::MemoryRemaining,
            Figure::Rates,
            Figure::Ping,
            Figure::Disk,
        ]
    }

    /// File name without extension: `memory`, `rates`, `ping`, `disk`.
    pub fn file_stem(self) -> &'static str {
        match self {
            Figure::MemoryRemaining => "memory",
            Figure::Rates => "rates",
            Figure::Ping => "ping",
            Figure::Disk => "disk",
        }
    }

    /// The figure's caption.
    pub fn title(self, lang: Lang) -> &'static str {
        match self {
            Figure::MemoryRemaining => {
                Bilingual::of("Memori tersisa", "Memory remaining").in_lang(lang)
            }
            Figure::Rates => {
                Bilingual::of("Laju kirim vs laju kotor", "Send rate vs dirty rate").in_lang(lang)
            }
            Figure::Ping => Bilingual::of("Ping ke VM", "Ping to the VM").in_lang(lang),
            Figure::Disk => Bilingual::of("Salinan disk", "Disk copy").in_lang(lang),
        }
    }

    fn y_label(self, lang: Lang) -> &'static str {
        match self {
            Figure::MemoryRemaining => {
                Bilingual::of("Memori tersisa (MiB)", "Memory remaining (MiB)").in_lang(lang)
            }
            Figure::Rates => Bilingual::of("Laju (MiB/s)", "Rate (MiB/s)").in_lang(lang),
            Figure::Ping => "RTT (ms)",
            Figure::Disk => Bilingual::of("Disk terkirim (%)", "Disk sent (%)").in_lang(lang),
        }
    }
}

/// `fig` of `runs` (label, series) as SVG text.
pub fn svg(fig: Figure, runs: &[(&str, &RunSeries)], lang: Lang) -> Result<String, ExportError> {
    register_font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SVG_SIZE).into_drawing_area();
        draw(&root, fig, runs, lang, SVG_SIZE)?;
        root.present().map_err(|e| draw_error(fig, e))?;
    }
    Ok(out)
}

/// `fig` of `runs` as PNG bytes, `size` = (width, height) in pixels.
pub fn png(
    fig: Figure,
    runs: &[(&str, &RunSeries)],
    lang: Lang,
    size: (u32, u32),
) -> Result<Vec<u8>, ExportError> {
    let (width, height) = size;
    if !(100..=10_000).contains(&width) || !(100..=10_000).contains(&height) {
        return Err(ExportError::Size { width, height });
    }
    register_font()?;
    // Both sides are at most 10 000, so the product fits in usize everywhere we run.
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        draw(&root, fig, runs, lang, size)?;
        root.present().map_err(|e| draw_error(fig, e))?;
    }
    let mut bytes = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut bytes),
        &rgb,
        width,
        height,
        image::ExtendedColorType::Rgb8,
    )
    .map_err(|source| ExportError::Png {
        figure: fig.file_stem(),
        source,
    })?;
    Ok(bytes)
}

/// Register egui's default proportional font with plotters, once per process: plotters needs a
/// font even for SVG, to measure the axis labels, and the system's fonts are not to be relied on.
pub(crate) fn register_font() -> Result<(), ExportError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, epaint_default_fonts::UBUNTU_LIGHT)
            .is_ok()
    });
    if *ok { Ok(()) } else { Err(ExportError::Font) }
}

fn draw_error<E: std::error::Error + Send + Sync>(
    fig: Figure,
    e: DrawingAreaErrorKind<E>,
) -> ExportError {
    ExportError::Draw {
        figure: fig.file_stem(),
        message: e.to_string(),
    }
}

/// What a figure plots: the x and y ranges of all runs together.
struct Extent {
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    /// No data at all: the chart is drawn empty with a note.
    empty: bool,
}

fn extent(fig: Figure, runs: &[(&str, &RunSeries)]) -> Extent {
    let mut x_min = 0.0f64;
    let mut x_max = 0.0f64;
    let mut y_max = 0.0f64;
    let mut empty = true;
    let mut legend_rows = 0usize;
    for (_, r) in runs {
        x_max = x_max.max(r.end_s);
        legend_rows += match fig {
            Figure::MemoryRemaining => 1,
            Figure::Rates => 2,
            Figure::Disk => usize::from(!r.disk_percent.is_empty()),
            Figure::Ping => {
                usize::from(r.downtime_s.is_some())
                    + usize::from(r.pings.iter().any(|p| p.rtt_ms.is_some()))
                    + usize::from(r.lost_pings() > 0)
            }
        };
        let ys: Vec<f64> = match fig {
            Figure::MemoryRemaining => r.memory_remaining_mib.iter().map(|p| p[1]).collect(),
            Figure::Rates => r
                .send_rate_mibps
                .iter()
                .chain(&r.dirty_rate_mibps)
                .map(|p| p[1])
                .collect(),
            Figure::Disk => r.disk_percent.iter().map(|p| p[1]).collect(),
            Figure::Ping => {
                x_min = r.pings.iter().map(|p| p.t_s).fold(x_min, f64::min);
                r.pings.iter().map(|p| p.rtt_ms.unwrap_or(0.0)).collect()
            }
        };
        empty &= ys.is_empty();
        y_max = ys
            .into_iter()
            .filter(|y| y.is_finite())
            .fold(y_max, f64::max);
    }
    if fig == Figure::Disk && !empty {
        legend_rows += 1; // the 100 % line
    }
    let y_max = match fig {
        Figure::Disk => y_max.max(100.0),
        _ => y_max.max(1.0),
    };
    // Room above the data for the legend (about 7 % of the height a row), so it hides nothing.
    let legend = (legend_rows as f64 * 0.07 + 0.04).min(0.7);
    let y_max = y_max / (1.0 - legend);
    let usable = x_max.is_finite() && x_min.is_finite() && x_max > x_min;
    if !usable {
        x_min = 0.0;
        x_max = 1.0;
    }
    Extent {
        x: x_min..x_max,
        y: 0.0..y_max,
        empty,
    }
}

/// Draw `fig` on `root` (of `size` pixels: fonts scale with it).
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: Figure,
    runs: &[(&str, &RunSeries)],
    lang: Lang,
    size: (u32, u32),
) -> Result<(), ExportError> {
    let err = |e| draw_error(fig, e);
    let scale = (f64::from(size.1) / 400.0).clamp(0.5, 4.0);
    let px = |n: f64| (n * scale).round() as u32;
    root.fill(&WHITE).map_err(err)?;
    let ext = extent(fig, runs);
    let mut chart = ChartBuilder::on(root)
        .caption(fig.title(lang), (FONT, px(20.0)))
        .margin(px(12.0))
        .x_label_area_size(px(42.0))
        .y_label_area_size(px(64.0))
        .build_cartesian_2d(ext.x.clone(), ext.y.clone())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(Bilingual::of("Waktu sejak mulai (s)", "Time since the start (s)").in_lang(lang))
        .y_desc(fig.y_label(lang))
        .label_style((FONT, px(13.0)))
        .axis_desc_style((FONT, px(14.0)))
        .light_line_style(BLACK.mix(0.05))
        .bold_line_style(BLACK.mix(0.12))
        .draw()
        .map_err(err)?;

    if ext.empty {
        let note = if runs.is_empty() {
            Bilingual::of("Tidak ada data", "No data").in_lang(lang)
        } else if fig == Figure::Disk {
            Bilingual::of(
                "Tidak ada salinan disk: disk ada di shared storage",
                "No disk copy: the disk stays on shared storage",
            )
            .in_lang(lang)
        } else {
            Bilingual::of("Tidak ada data untuk gambar ini", "No data for this figure")
                .in_lang(lang)
        };
        let grey = BLACK.mix(0.6);
        let style = TextStyle::from((FONT, px(16.0)).into_font())
            .color(&grey)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let mid = (
            (ext.x.start + ext.x.end) / 2.0,
            (ext.y.start + ext.y.end) / 2.0,
        );
        chart
            .plotting_area()
            .draw(&Text::new(note, mid, style))
            .map_err(err)?;
        return Ok(());
    }

    // Thin to about two points per pixel column of the plot.
    let columns = (size.0 as usize).max(100);
    let mut legend = false;
    for (i, (label, run)) in runs.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let line = color.stroke_width(px(2.0).max(1));
        match fig {
            Figure::MemoryRemaining => {
                let pts = thin(&run.memory_remaining_mib, &ext.x, columns);
                chart
                    .draw_series(LineSeries::new(pts, line))
                    .map_err(err)?
                    .label(*label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
                let dashed = color.mix(0.6).stroke_width(1);
                for &x in &run.iterations {
                    chart
                        .draw_series(DashedLineSeries::new(
                            [(x, ext.y.start), (x, ext.y.end)],
                            px(4.0),
                            px(4.0),
                            dashed,
                        ))
                        .map_err(err)?;
                }
            }
            Figure::Rates => {
                let send = thin(&run.send_rate_mibps, &ext.x, columns);
                chart
                    .draw_series(LineSeries::new(send, line))
                    .map_err(err)?
                    .label(format!(
                        "{label}: {}",
                        Bilingual::of("kirim", "send").in_lang(lang)
                    ))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
                let dirty = thin(&run.dirty_rate_mibps, &ext.x, columns);
                chart
                    .draw_series(DashedLineSeries::new(dirty, px(6.0), px(4.0), line))
                    .map_err(err)?
                    .label(format!(
                        "{label}: {}",
                        Bilingual::of("kotor (dirty)", "dirty").in_lang(lang)
                    ))
                    .legend(move |(x, y)| {
                        DashedPathElement::new(vec![(x, y), (x + 20, y)], 5, 3, line)
                    });
            }
            Figure::Disk => {
                if i == 0 {
                    // Processed can pass 100 %: the mirror re-sends blocks the guest rewrites.
                    chart
                        .draw_series(DashedLineSeries::new(
                            [(ext.x.start, 100.0), (ext.x.end, 100.0)],
                            px(6.0),
                            px(4.0),
                            BLACK.mix(0.5).stroke_width(1),
                        ))
                        .map_err(err)?
                        .label(
                            Bilingual::of("100% = ukuran disk", "100% = disk size").in_lang(lang),
                        )
                        .legend(|(x, y)| {
                            DashedPathElement::new(
                                vec![(x, y), (x + 20, y)],
                                5,
                                3,
                                BLACK.mix(0.5).stroke_width(1),
                            )
                        });
                }
                let pts = thin(&run.disk_percent, &ext.x, columns);
                if !pts.is_empty() {
                    chart
                        .draw_series(LineSeries::new(pts, line))
                        .map_err(err)?
                        .label(*label)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
                }
            }
            Figure::Ping => {
                // Red means "paused" when alone; several runs need their own colours to tell apart.
                let shade = if runs.len() == 1 { DOWNTIME } else { color };
                let colors = (color, shade);
                draw_pings(&mut chart, label, run, colors, &ext, columns, lang, px)?;
            }
        }
        legend = true;
    }
    if legend {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font((FONT, px(13.0)))
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

/// The ping figure of one run: the downtime shaded, RTT as a line broken at every lost probe (a
/// line across the gap would invent replies), and lost probes as crosses along the bottom.
#[allow(clippy::too_many_arguments)]
fn draw_pings<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    label: &str,
    run: &RunSeries,
    (color, shade): (RGBColor, RGBColor),
    ext: &Extent,
    columns: usize,
    lang: Lang,
    px: impl Fn(f64) -> u32,
) -> Result<(), ExportError> {
    let err = |e| draw_error(Figure::Ping, e);
    let line = color.stroke_width(px(1.5).max(1));
    if let Some((start, end)) = run.downtime_s {
        // At least 0.3 % of the width: a 0.2 s pause on a four-minute chart must still show.
        let end = end.max(start + (ext.x.end - ext.x.start) * 0.003);
        chart
            .draw_series([Rectangle::new(
                [(start, ext.y.start), (end, ext.y.end)],
                shade.mix(0.18).filled(),
            )])
            .map_err(err)?
            .label(format!(
                "{label}: {}",
                Bilingual::of("downtime (VM dijeda)", "downtime (paused)").in_lang(lang)
            ))
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 20, y + 5)], shade.mix(0.3).filled())
            });
    }
    let mut labelled = false;
    for segment in run.pings.split(|p| p.rtt_ms.is_none()) {
        let pts: Vec<[f64; 2]> = segment
            .iter()
            .filter_map(|p| p.rtt_ms.map(|r| [p.t_s, r]))
            .collect();
        let series = match pts.as_slice() {
            [] => continue,
            // A lone reply between losses: a dot, since a one-point line draws nothing.
            [p] => chart
                .draw_series([Circle::new((p[0], p[1]), px(2.0), color.filled())])
                .map_err(err)?,
            _ => chart
                .draw_series(LineSeries::new(thin(&pts, &ext.x, columns), line))
                .map_err(err)?,
        };
        if !labelled {
            series
                .label(format!("{label}: RTT"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
            labelled = true;
        }
    }
    let lost = lost_markers(&run.pings, &ext.x, columns / 3);
    if !lost.is_empty() {
        let y = ext.y.start + (ext.y.end - ext.y.start) * 0.03;
        let cross = color.stroke_width(px(1.5).max(1));
        let size = px(4.0);
        chart
            .draw_series(lost.into_iter().map(|x| Cross::new((x, y), size, cross)))
            .map_err(err)?
            .label(format!(
                "{label}: {} ({})",
                Bilingual::of("ping hilang", "lost ping").in_lang(lang),
                run.lost_pings()
            ))
            .legend(move |(x, y)| Cross::new((x + 10, y), 4, cross));
    }
    Ok(())
}

/// x of the lost probes, at most about `max` of them: a crowd of losses (thousands while a guest is
/// unreachable) becomes one cross per few pixels, which looks the same and stays small.
fn lost_markers(pings: &[PingPoint], x: &std::ops::Range<f64>, max: usize) -> Vec<f64> {
    let min_gap = (x.end - x.start) / max.max(1) as f64;
    let mut out: Vec<f64> = Vec::new();
    for p in pings.iter().filter(|p| p.rtt_ms.is_none()) {
        if out.last().is_none_or(|last| p.t_s - last >= min_gap) {
            out.push(p.t_s);
        }
    }
    out
}

/// [`crate::sessions::series::thin`] as the tuples plotters draws.
fn thin(points: &[[f64; 2]], x: &std::ops::Range<f64>, columns: usize) -> Vec<(f64, f64)> {
    crate::sessions::series::thin(points, x, columns)
        .into_iter()
        .map(|p| (p[0], p[1]))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use migralab_sim_core::Simulator;
    use std::path::Path;

    fn simulated(name: &str) -> Vec<RunSeries> {
        let scenario = crate::scenarios::load(Some(Path::new(name)), &[]).unwrap();
        RunSeries::of_trace(&Simulator::run(scenario))
    }

    /// Parses as XML, is an `<svg>`, and holds every text in `needles`.
    fn check_svg(svg: &str, needles: &[&str]) {
        let doc = roxmltree::Document::parse(svg)
            .unwrap_or_else(|e| panic!("not well-formed ({e}):\n{}", &svg[..svg.len().min(500)]));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let texts: String = doc
            .descendants()
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join("\n");
        for n in needles {
            assert!(texts.contains(n), "missing {n:?} in the texts:\n{texts}");
        }
    }

    #[test]
    fn every_figure_of_a_disk_copy_is_well_formed_svg_in_both_languages() {
        let runs = simulated("exp1-no-shared-storage");
        let runs: Vec<(&str, &RunSeries)> = runs.iter().map(|r| (r.vm.as_str(), r)).collect();
        for fig in Figure::all() {
            let id = svg(fig, &runs, Lang::Id).unwrap();
            check_svg(&id, &[fig.title(Lang::Id), "Waktu sejak mulai (s)", "db01"]);
            let en = svg(fig, &runs, Lang::En).unwrap();
            check_svg(&en, &[fig.title(Lang::En), fig.y_label(Lang::En)]);
            assert!(id.len() < 400_000, "{fig:?} is {} bytes: thin it", id.len());
        }
    }

    #[test]
    fn disk_figure_without_a_disk_copy_is_an_empty_chart_with_a_note() {
        let runs = simulated("lesson");
        let runs: Vec<(&str, &RunSeries)> = runs.iter().map(|r| (r.vm.as_str(), r)).collect();
        let out = svg(Figure::Disk, &runs, Lang::En).unwrap();
        check_svg(&out, &["No disk copy"]);
        let none = svg(Figure::Ping, &[], Lang::Id).unwrap();
        check_svg(&none, &["Tidak ada data"]);
    }

    #[test]
    fn runs_are_overlaid_with_a_legend_and_labels_are_escaped() {
        let a = simulated("busy-db-auto-converge");
        let b = simulated("busy-db-postcopy");
        let runs = [("auto-converge <A&B>", &a[0]), ("postcopy", &b[0])];
        let out = svg(Figure::Rates, &runs, Lang::En).unwrap();
        check_svg(&out, &["auto-converge <A&B>: send", "postcopy: dirty"]);
        let ping = svg(Figure::Ping, &runs, Lang::En).unwrap();
        check_svg(&ping, &["postcopy: downtime (paused)", "postcopy: RTT"]);
    }

    #[test]
    fn png_decodes_to_the_requested_size_and_is_not_blank() {
        let runs = simulated("lesson");
        let runs: Vec<(&str, &RunSeries)> = runs.iter().map(|r| (r.vm.as_str(), r)).collect();
        let bytes = png(Figure::Ping, &runs, Lang::Id, (640, 320)).unwrap();
        let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (640, 320));
        let first = img.get_pixel(0, 0);
        assert!(img.pixels().any(|p| p != first), "a blank image");
        assert!(matches!(
            png(Figure::Ping, &runs, Lang::Id, (0, 320)),
            Err(ExportError::Size { .. })
        ));
    }

    #[test]
    fn thinning_keeps_the_peaks() {
        let points: Vec<[f64; 2]> = (0..10_000)
            .map(|i| [f64::from(i) / 100.0, if i == 5_555 { 500.0 } else { 1.0 }])
            .collect();
        let thinned = thin(&points, &(0.0..100.0), 100);
        assert!(thinned.len() <= 400, "{}", thinned.len());
        assert!(thinned.contains(&(55.55, 500.0)));
        assert!(thinned.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(thin(&points[..10], &(0.0..100.0), 100).len(), 10);
    }
}
