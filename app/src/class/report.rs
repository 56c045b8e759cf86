//! The class report: the class view's rows as CSV (one row per student) and as one
//! self-contained HTML page (the heat map as a coloured table, the class's mastery per
//! objective as an inline SVG chart drawn by plotters; no file beside it, no script).

use super::view::{ClassRow, class_mastery};
use crate::export::csv_json::csv_field;
use crate::export::figures::{FONT, register_font};
use crate::export::html::escape;
use crate::tr;
use migralab_course::experiments::experiments;
use migralab_course::quiz::Objective;
use migralab_sim_core::lang::Lang;
use plotters::prelude::*;
use std::fmt::Write as _;

/// A share 0..1 as a whole percentage, or empty.
fn percent(v: Option<f64>) -> String {
    v.map(|v| format!("{:.0}", v * 100.0)).unwrap_or_default()
}

/// `k=v;k=v` of an experiment's measured numbers.
fn measured_text(m: &std::collections::BTreeMap<String, f64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// The CSV header: fixed columns, one per objective id (mastery, %), then per experiment id
/// whether the observation was written and what the runs measured.
pub fn csv_header() -> String {
    let mut h = String::from(
        "student,answers,score_percent,quizzes_complete,quizzes_open,stuck_on,last_active_unix",
    );
    for o in Objective::ALL {
        let _ = write!(h, ",{}", o.as_str());
    }
    for e in experiments() {
        let _ = write!(h, ",{0}_observed,{0}_measured", e.id);
    }
    h
}

/// One row per student ([`csv_header`]).
pub fn to_csv(rows: &[ClassRow]) -> String {
    let mut s = csv_header();
    s.push('\n');
    for r in rows {
        let stuck: Vec<&str> = r.stuck.iter().map(|o| o.as_str()).collect();
        let _ = write!(
            s,
            "{},{},{},{},{},{},{}",
            csv_field(&r.name),
            r.answers,
            percent(r.score),
            r.quizzes_done,
            r.quizzes_open,
            csv_field(&stuck.join(" ")),
            r.last_active
        );
        for m in &r.mastery {
            let _ = write!(s, ",{}", percent(*m));
        }
        for e in &r.experiments {
            let _ = write!(
                s,
                ",{},{}",
                e.observed,
                csv_field(&measured_text(&e.measured))
            );
        }
        s.push('\n');
    }
    s
}

/// A heat map colour for a mastery 0..1: red through yellow to green (grey: no answers).
pub fn heat_rgb(v: Option<f64>) -> (u8, u8, u8) {
    let Some(v) = v else {
        return (220, 220, 220);
    };
    let v = v.clamp(0.0, 1.0);
    // Two straight segments, red→yellow→green, light enough for black text.
    let (r, g) = if v < 0.5 {
        (240.0, 120.0 + 240.0 * v)
    } else {
        (240.0 - 280.0 * (v - 0.5), 240.0)
    };
    (r as u8, g as u8, 120)
}

/// The class's mastery per objective as an SVG bar chart.
fn mastery_svg(rows: &[ClassRow], lang: Lang) -> anyhow::Result<String> {
    register_font()?;
    let means = class_mastery(rows);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (900, 360)).into_drawing_area();
        root.fill(&WHITE)?;
        let n = Objective::ALL.len();
        let mut chart = ChartBuilder::on(&root)
            .caption(tr!(lang, "class-chart-title"), (FONT, 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(44)
            .build_cartesian_2d((1..n).into_segmented(), 0.0..100.0)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => i.to_string(),
                SegmentValue::Last => String::new(),
            })
            .y_label_formatter(&|v| format!("{v:.0}"))
            .y_desc("%")
            .label_style((FONT, 12))
            .draw()?;
        // Objectives nobody answered have no bar (not a bar at 0).
        chart.draw_series(means.iter().enumerate().filter_map(|(i, m)| {
            let m = (*m)?;
            let (r, g, b) = heat_rgb(Some(m));
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i + 1), 0.0),
                    (SegmentValue::Exact(i + 2), m * 100.0),
                ],
                RGBColor(r, g, b).filled(),
            );
            bar.set_margin(0, 0, 4, 4);
            Some(bar)
        }))?;
        root.present()?;
    }
    Ok(out)
}

/// The whole class report as one HTML page.
pub fn to_html(rows: &[ClassRow], lang: Lang, generated: &str) -> anyhow::Result<String> {
    let title = tr!(lang, "class-report-title");
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n\
         body{{font-family:sans-serif;margin:2em;color:#222}} table{{border-collapse:collapse;margin:1em 0}}\n\
         td,th{{border:1px solid #bbb;padding:3px 6px;text-align:center;font-size:13px}} th.n,td.n{{text-align:left}}\n\
         svg{{max-width:100%;height:auto}} .stuck{{color:#a00;font-weight:bold}}\n</style>\n</head>\n<body>\n",
        match lang {
            Lang::Id => "id",
            Lang::En => "en",
        },
        escape(&title)
    );
    let _ = writeln!(
        h,
        "<h1>{}</h1>\n<p>{}</p>",
        escape(&title),
        escape(generated)
    );
    let _ = writeln!(h, "<h2>{}</h2>", escape(&tr!(lang, "class-chart-title")));
    h.push_str(&mastery_svg(rows, lang)?);
    // The objectives by number, as the chart and the table head name them.
    h.push_str("\n<ol>\n");
    for o in Objective::ALL {
        let _ = writeln!(
            h,
            "<li>{} (<code>{}</code>)</li>",
            escape(lang.pick(&o.title())),
            o.as_str()
        );
    }
    h.push_str("</ol>\n");
    let _ = writeln!(
        h,
        "<h2>{}</h2>\n<table>\n<tr><th class=\"n\">{}</th><th>{}</th>",
        escape(&tr!(lang, "class-heatmap-title")),
        escape(&tr!(lang, "instr-col-student")),
        escape(&tr!(lang, "instr-col-score"))
    );
    for i in 1..=Objective::ALL.len() {
        let _ = write!(h, "<th>{i}</th>");
    }
    let _ = writeln!(
        h,
        "<th class=\"n\">{}</th></tr>",
        escape(&tr!(lang, "class-col-stuck"))
    );
    for r in rows {
        let _ = write!(
            h,
            "<tr><td class=\"n\">{}</td><td>{}</td>",
            escape(&r.name),
            percent(r.score)
        );
        for (m, n) in r.mastery.iter().zip(&r.asked) {
            let (cr, cg, cb) = heat_rgb(*m);
            let _ = write!(
                h,
                "<td style=\"background:#{cr:02x}{cg:02x}{cb:02x}\" title=\"{n}\">{}</td>",
                percent(*m)
            );
        }
        let stuck: Vec<String> = r
            .stuck
            .iter()
            .map(|o| escape(lang.pick(&o.title())))
            .collect();
        let _ = writeln!(h, "<td class=\"n stuck\">{}</td></tr>", stuck.join(", "));
    }
    h.push_str("</table>\n");
    let _ = writeln!(
        h,
        "<h2>{}</h2>\n<table>\n<tr><th class=\"n\">{}</th>",
        escape(&tr!(lang, "class-experiments-title")),
        escape(&tr!(lang, "instr-col-student"))
    );
    for e in experiments() {
        let _ = write!(h, "<th>{}</th>", escape(lang.pick(&e.title)));
    }
    h.push_str("</tr>\n");
    for r in rows {
        let _ = write!(h, "<tr><td class=\"n\">{}</td>", escape(&r.name));
        for e in &r.experiments {
            let cell = if e.observed {
                format!(
                    "✔ {}",
                    escape(&measured_text(&e.measured).replace(';', " "))
                )
            } else {
                "–".to_owned()
            };
            let _ = write!(h, "<td>{cell}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n</body>\n</html>\n");
    Ok(h)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::class::merge::Students;
    use crate::class::view::{ViewOptions, rows};
    use crate::progress::Profile;

    #[test]
    fn names_are_escaped_in_html_and_defused_in_csv() {
        let mut class = Students::new();
        for name in ["<script>alert(1)</script>", "=HYPERLINK(\"x\")"] {
            class.insert(name.to_owned(), Profile::new(name));
        }
        let r = rows(&class, &ViewOptions::default());
        let html = to_html(&r, Lang::En, "now").unwrap();
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        let csv = to_csv(&r);
        assert!(csv.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{csv}");
    }

    #[test]
    fn the_heat_map_runs_from_red_to_green() {
        let (r0, g0, _) = heat_rgb(Some(0.0));
        let (r1, g1, _) = heat_rgb(Some(1.0));
        assert!(r0 > g0 && g1 > r1);
        assert_eq!(heat_rgb(None), (220, 220, 220));
    }
}
