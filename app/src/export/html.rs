//! The lab report: one self-contained HTML file a student hands in. CSS is inline and the figures
//! are inline SVG, so the file opens anywhere, offline, and prints well; nothing is fetched.
//!
//! Everything that comes from the user or a file (title, names, scenario, commands, answers, VM
//! names, error texts) goes through [`escape`].

use super::ExportError;
use super::figures::{self, Figure};
use crate::sessions::series::RunSeries;
use migralab_sim_core::lang::Lang;
use migralab_sim_core::text::Text;
use migralab_sim_core::units::MIB;
use migralab_sim_core::{Outcome, Trace};
use std::fmt::Write as _;

/// Everything a lab report shows.
#[derive(Debug, Clone)]
pub struct LabReport<'a> {
    /// Language of the report's own words.
    pub lang: Lang,
    /// Title at the top of the page.
    pub title: String,
    /// The student's name, if given.
    pub student: Option<String>,
    /// Name of the scenario that ran.
    pub scenario_name: String,
    /// The scenario as TOML, shown verbatim.
    pub scenario_toml: String,
    /// The commands the student typed, in order.
    pub commands: Vec<String>,
    /// The student's observations: (question, answer).
    pub observations: Vec<(String, String)>,
    /// The runs to tabulate and plot (several are overlaid for comparison).
    pub runs: Vec<ReportRun<'a>>,
}

/// One run in a report.
#[derive(Debug, Clone)]
pub struct ReportRun<'a> {
    /// How the run is named in the table and legends, e.g. `auto-converge`.
    pub label: String,
    /// The run.
    pub trace: &'a Trace,
}

/// Style of the page: readable on screen, sober on paper.
const CSS: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Ubuntu,sans-serif;max-width:60rem;margin:2rem auto;\
padding:0 1rem;color:#222;line-height:1.45}\
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}\
.meta{color:#555;margin-top:0}\
pre{background:#f5f5f5;border:1px solid #ddd;padding:.6rem;overflow-x:auto;font-size:.85rem}\
table{border-collapse:collapse;width:100%;font-size:.9rem}\
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}\
figure{margin:1rem 0;page-break-inside:avoid}figure svg{max-width:100%;height:auto}\
figcaption{color:#555;font-size:.9rem}\
.answer{white-space:pre-wrap;border-left:3px solid #0072b2;padding-left:.6rem}\
.error{color:#a00}.none{color:#888;font-style:italic}\
footer{margin-top:3rem;color:#888;font-size:.8rem}";

/// Render the report as one HTML document.
pub fn render(report: &LabReport<'_>) -> Result<String, ExportError> {
    let lang = report.lang;
    let t = |id, en| Text::of(id, en).in_lang(lang);
    let mut h = String::new();
    // Writing to a String cannot fail: the `fmt::Result`s below are ignored for that reason.
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"migralab\">\n<title>{}</title>\n<style>{CSS}</style>\n\
         </head>\n<body>\n<h1>{}</h1>\n",
        t("id", "en"),
        escape(&report.title),
        escape(&report.title),
    );
    if let Some(student) = &report.student {
        let _ = writeln!(
            h,
            "<p class=\"meta\">{}: {}</p>",
            t("Mahasiswa", "Student"),
            escape(student)
        );
    }

    let _ = writeln!(
        h,
        "<h2>{}</h2>\n<p><code>{}</code></p>\n<pre>{}</pre>",
        t("Skenario", "Scenario"),
        escape(&report.scenario_name),
        escape(report.scenario_toml.trim_end()),
    );

    let _ = writeln!(h, "<h2>{}</h2>", t("Perintah", "Commands"));
    if report.commands.is_empty() {
        let _ = writeln!(h, "<p class=\"none\">{}</p>", t("(tidak ada)", "(none)"));
    } else {
        h.push_str("<pre>");
        for c in &report.commands {
            let _ = writeln!(h, "$ {}", escape(c));
        }
        h.push_str("</pre>\n");
    }

    // One series per migrated VM of every run, labelled for the table and the legends.
    let series: Vec<(String, RunSeries)> = report
        .runs
        .iter()
        .flat_map(|run| {
            let vms = RunSeries::of_trace(run.trace);
            let several = vms.len() > 1;
            vms.into_iter().map(move |s| {
                let label = match (report.runs.len() > 1, several) {
                    (false, _) => s.vm.clone(),
                    (true, false) => run.label.clone(),
                    (true, true) => format!("{} · {}", run.label, s.vm),
                };
                (label, s)
            })
        })
        .collect();

    results_table(&mut h, lang, &series);

    let _ = writeln!(h, "<h2>{}</h2>", t("Grafik", "Figures"));
    let runs: Vec<(&str, &RunSeries)> = series.iter().map(|(l, s)| (l.as_str(), s)).collect();
    for fig in Figure::all() {
        let svg = figures::svg(fig, &runs, lang)?;
        let _ = writeln!(
            h,
            "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>",
            escape(fig.title(lang))
        );
    }

    let _ = writeln!(h, "<h2>{}</h2>", t("Pengamatan", "Observations"));
    if report.observations.is_empty() {
        let _ = writeln!(h, "<p class=\"none\">{}</p>", t("(tidak ada)", "(none)"));
    }
    for (question, answer) in &report.observations {
        let answer = if answer.trim().is_empty() {
            format!(
                "<span class=\"none\">{}</span>",
                t("(belum dijawab)", "(not answered)")
            )
        } else {
            escape(answer.trim_end())
        };
        let _ = writeln!(
            h,
            "<h3>{}</h3>\n<p class=\"answer\">{answer}</p>",
            escape(question)
        );
    }

    let _ = writeln!(
        h,
        "<footer>{}</footer>\n</body>\n</html>",
        t(
            "Dibuat oleh migralab dari jejak (trace) simulasi.",
            "Made by migralab from the run's trace."
        )
    );
    Ok(h)
}

/// The results table: one row per migrated VM of every run, then libvirt's error for each failure.
fn results_table(h: &mut String, lang: Lang, series: &[(String, RunSeries)]) {
    let t = |id, en| Text::of(id, en).in_lang(lang);
    let _ = writeln!(h, "<h2>{}</h2>", t("Hasil", "Results"));
    if series.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"none\">{}</p>",
            t("(tidak ada migrasi)", "(no migration)")
        );
        return;
    }
    let _ = writeln!(
        h,
        "<table>\n<tr><th>{}</th><th>{}</th><th>{}</th><th>Downtime</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("Migrasi", "Migration"),
        t("Hasil", "Outcome"),
        t("Waktu total", "Total time"),
        t("Data terkirim (memori + disk)", "Data sent (memory + disk)"),
        t("Iterasi", "Iterations"),
        t("Ping hilang", "Lost pings"),
    );
    let mut errors = Vec::new();
    for (label, s) in series {
        let row = Row::of(s.outcome.as_ref(), lang);
        if let Some(Outcome::Failed { error, .. }) = &s.outcome {
            errors.push((label, error.virsh_line()));
        }
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{} / {}</td></tr>",
            escape(label),
            row.status,
            row.total,
            row.downtime,
            row.data,
            row.iterations,
            s.lost_pings(),
            s.pings.len(),
        );
    }
    h.push_str("</table>\n");
    for (label, line) in errors {
        let _ = writeln!(
            h,
            "<p><strong>{}</strong>: <span class=\"error\">{}</span></p>",
            escape(label),
            escape(&line)
        );
    }
}

/// The cells of one result row, already formatted (no user text in them).
struct Row {
    status: &'static str,
    total: String,
    downtime: String,
    data: String,
    iterations: String,
}

impl Row {
    fn of(outcome: Option<&Outcome>, lang: Lang) -> Row {
        let t = |id, en| Text::of(id, en).in_lang(lang);
        let dash = || "—".to_string();
        let data = |memory: u64, disk: u64| {
            format!(
                "{:.1} MiB ({:.1} + {:.1})",
                (memory + disk) as f64 / MIB as f64,
                memory as f64 / MIB as f64,
                disk as f64 / MIB as f64
            )
        };
        let secs = |ms: u64| format!("{:.2} s", ms as f64 / 1000.0);
        match outcome {
            None => Row {
                status: t("belum selesai", "not finished"),
                total: dash(),
                downtime: dash(),
                data: dash(),
                iterations: dash(),
            },
            Some(Outcome::Completed {
                total_ms,
                downtime_ms,
                memory_bytes,
                disk_bytes,
                iterations,
            }) => Row {
                status: t("berhasil", "completed"),
                total: secs(*total_ms),
                downtime: format!("{downtime_ms} ms"),
                data: data(*memory_bytes, *disk_bytes),
                iterations: iterations.to_string(),
            },
            Some(Outcome::Failed { at_ms, .. }) => Row {
                status: t("gagal", "failed"),
                total: secs(*at_ms),
                downtime: dash(),
                data: dash(),
                iterations: dash(),
            },
            Some(Outcome::Aborted { at_ms }) => Row {
                status: t("dibatalkan", "aborted"),
                total: secs(*at_ms),
                downtime: dash(),
                data: dash(),
                iterations: dash(),
            },
            Some(Outcome::NotConverged {
                at_ms,
                memory_bytes,
                disk_bytes,
                iterations,
                ..
            }) => Row {
                status: t("tidak konvergen", "not converged"),
                total: secs(*at_ms),
                downtime: dash(),
                data: data(*memory_bytes, *disk_bytes),
                iterations: iterations.to_string(),
            },
            Some(Outcome::TimeLimit(u) | Outcome::WorkLimit(u)) => Row {
                status: if matches!(outcome, Some(Outcome::TimeLimit(_))) {
                    t("batas waktu tercapai", "time limit reached")
                } else {
                    t("batas kerja tercapai", "work limit reached")
                },
                total: secs(u.at_ms),
                downtime: dash(),
                data: data(u.memory_bytes, u.disk_bytes),
                iterations: u.iterations.to_string(),
            },
        }
    }
}

/// Escape text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    escape_with(s, true)
}

/// Escape text for element content only (`&`, `<`, `>`): quotes stay, for formats that would
/// have to escape an entity's `#` (GIFT).
pub fn escape_content(s: &str) -> String {
    escape_with(s, false)
}

fn escape_with(s: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quotes => out.push_str("&quot;"),
            '\'' if quotes => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use migralab_sim_core::Simulator;
    use std::path::Path;

    fn trace(name: &str) -> Trace {
        Simulator::run(crate::scenarios::load(Some(Path::new(name)), &[]).unwrap())
    }

    fn report<'a>(runs: Vec<ReportRun<'a>>, lang: Lang) -> LabReport<'a> {
        LabReport {
            lang,
            title: "Lab <1> & \"friends\"".into(),
            student: Some("Ana <script>alert(1)</script>".into()),
            scenario_name: "busy-db".into(),
            scenario_toml: "name = \"busy-db\"\n[link]\nbandwidth_mibps = 117\n".into(),
            commands: vec!["virsh migrate --live db01 qemu+ssh://kvm-host-02/system".into()],
            observations: vec![
                (
                    "Why did it <not> converge?".into(),
                    "dirty > send\n& more".into(),
                ),
                ("Empty?".into(), "  ".into()),
            ],
            runs,
        }
    }

    #[test]
    fn report_is_self_contained_and_escapes_user_text() {
        let a = trace("busy-db-no-converge");
        let b = trace("busy-db-auto-converge");
        let html = render(&report(
            vec![
                ReportRun {
                    label: "plain".into(),
                    trace: &a,
                },
                ReportRun {
                    label: "auto-converge".into(),
                    trace: &b,
                },
            ],
            Lang::En,
        ))
        .unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert_eq!(html.matches("<svg").count(), 4);
        assert!(!html.contains("<script>"), "student name not escaped");
        assert!(html.contains("Ana &lt;script&gt;"));
        assert!(html.contains("Lab &lt;1&gt; &amp; &quot;friends&quot;"));
        assert!(html.contains("Why did it &lt;not&gt; converge?"));
        assert!(html.contains("dirty &gt; send\n&amp; more"));
        assert!(html.contains("(not answered)"));
        for needle in [
            "not converged",
            "completed",
            "plain",
            "auto-converge",
            "Lost pings",
        ] {
            assert!(html.contains(needle), "missing {needle}");
        }
        let outside_svg = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(!outside_svg.contains("http://") && !outside_svg.contains("https://"));
        assert!(!html.contains("<link") && !html.contains("src="));
    }

    #[test]
    fn indonesian_labels_and_failure_messages() {
        let t = trace("prereq-firewall");
        let html = render(&report(
            vec![ReportRun {
                label: "firewall".into(),
                trace: &t,
            }],
            Lang::Id,
        ))
        .unwrap();
        for needle in [
            "<html lang=\"id\">",
            "Mahasiswa",
            "Hasil",
            "gagal",
            "Pengamatan",
        ] {
            assert!(html.contains(needle), "missing {needle}");
        }
        assert!(html.contains("class=\"error\""), "libvirt's error is shown");
    }

    #[test]
    fn escape_covers_the_five_characters() {
        assert_eq!(
            escape(r#"<a href='x'>&"#),
            "&lt;a href=&#39;x&#39;&gt;&amp;"
        );
    }
}
