//! The simulator's prediction beside the measurement: total time, downtime, memory sent and
//! iterations, and what the prediction had to assume because libvirt cannot measure it.

use crate::sessions::lab::RunRecord;
use crate::sessions::real::RealSession;
use crate::sessions::real::prediction::Prediction;
use crate::tr;
use migralab_sim_core::lang::Lang;
use migralab_sim_core::summary::RunOutcome;
use migralab_sim_core::units::MIB;

/// The prediction panel; `measured` is the finished real run it predicts, if any.
pub fn compare_ui(
    ui: &mut egui::Ui,
    lang: Lang,
    session: &RealSession,
    measured: Option<&RunRecord>,
) {
    ui.strong(tr!(lang, "real-prediction"));
    let p = match session.prediction() {
        None if session.is_predicting() => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(tr!(lang, "real-predicting"));
            });
            return;
        }
        None => {
            ui.label(tr!(lang, "real-prediction-none"));
            return;
        }
        Some(Err(e)) => {
            ui.label(tr!(lang, "real-prediction-failed", error = e.to_string()));
            return;
        }
        Some(Ok(p)) => p,
    };
    ui.label(tr!(
        lang,
        "real-prediction-for",
        command = p.command.clone()
    ));
    // Only a run of the same migration is compared.
    let measured = measured
        .filter(|r| r.spec == p.spec)
        .map(|r| RunOutcome::of(&r.trace));
    egui::Grid::new("real_compare")
        .num_columns(3)
        .striped(true)
        .spacing([24.0, 4.0])
        .show(ui, |ui| {
            ui.strong(tr!(lang, "real-col-what"));
            ui.strong(tr!(lang, "real-col-predicted"));
            ui.strong(tr!(lang, "real-col-measured"));
            ui.end_row();
            for row in rows(lang, &p.outcome, measured.as_ref()) {
                ui.label(row.0);
                ui.label(row.1);
                ui.label(row.2);
                ui.end_row();
            }
        });
    ui.label(egui::RichText::new(assumptions(lang, p)).italics().weak());
}

/// The table's rows: (quantity, predicted, measured); "-" where there is no number.
fn rows(lang: Lang, pred: &RunOutcome, meas: Option<&RunOutcome>) -> Vec<(String, String, String)> {
    let secs = |ms: u64| format!("{:.2} s", ms as f64 / 1000.0);
    let millis = |ms: u64| format!("{ms} ms");
    let mib = |b: u64| format!("{:.1} MiB", b as f64 / MIB as f64);
    let count = |n: u64| n.to_string();
    let dash = || "-".to_string();
    let completed = |o: &RunOutcome| o.status == "completed";
    // A run that did not complete has no downtime, and sent only what it sent before it ended.
    let shown = |o: Option<&RunOutcome>, f: &dyn Fn(&RunOutcome) -> Option<String>| {
        o.and_then(f).unwrap_or_else(dash)
    };
    let both = |f: &dyn Fn(&RunOutcome) -> Option<String>| (shown(Some(pred), f), shown(meas, f));
    let mut out = Vec::new();
    let status = both(&|o| Some(status_name(&o.status, lang)));
    out.push((tr!(lang, "real-row-outcome"), status.0, status.1));
    let total = both(&|o| (o.total_ms > 0 || completed(o)).then(|| secs(o.total_ms)));
    out.push((tr!(lang, "real-row-total"), total.0, total.1));
    let down = both(&|o| completed(o).then(|| millis(o.downtime_ms)));
    out.push((tr!(lang, "real-row-downtime"), down.0, down.1));
    let mem = both(&|o| (o.memory_bytes > 0 || completed(o)).then(|| mib(o.memory_bytes)));
    out.push((tr!(lang, "real-row-memory"), mem.0, mem.1));
    let iters = both(&|o| (o.iterations > 0 || completed(o)).then(|| count(o.iterations)));
    out.push((tr!(lang, "real-row-iterations"), iters.0, iters.1));
    out
}

/// A run's status (`completed`, `failed`, ...) in words.
fn status_name(status: &str, lang: Lang) -> String {
    match status {
        "completed" => tr!(lang, "outcome-completed"),
        "failed" => tr!(lang, "outcome-failed"),
        "not-converged" => tr!(lang, "outcome-not-converged"),
        _ => tr!(lang, "outcome-aborted"),
    }
}

/// What was measured and what was assumed, in one sentence.
fn assumptions(lang: Lang, p: &Prediction) -> String {
    let a = &p.assumptions;
    if let Some(m) = &a.measured {
        let windows = m
            .windows
            .iter()
            .map(|(s, r)| format!("{s} s: {r:.0} MiB/s"))
            .collect::<Vec<_>>()
            .join(", ");
        let set = if m.set_measured {
            tr!(lang, "real-measured-set", set = format!("{:.0}", m.set_mib))
        } else {
            tr!(
                lang,
                "real-measured-set-least",
                set = format!("{:.0}", m.set_mib)
            )
        };
        return tr!(
            lang,
            "real-assumptions-measured",
            ram = p.ram_mib.to_string(),
            windows = windows,
            rate = format!("{:.0}", m.rate_mibps),
            set = set,
            scenario = a.scenario.clone(),
            link = format!("{:.0}", a.link_mibps),
            written = format!("{:.0}", a.written_mib)
        );
    }
    let workload = match a.workload {
        Some((set, rate)) => tr!(
            lang,
            "real-workload-hot",
            set = set.to_string(),
            rate = format!("{rate:.0}")
        ),
        None => tr!(lang, "real-workload-idle"),
    };
    tr!(
        lang,
        "real-assumptions",
        ram = p.ram_mib.to_string(),
        scenario = a.scenario.clone(),
        link = format!("{:.0}", a.link_mibps),
        workload = workload,
        written = format!("{:.0}", a.written_mib)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(status: &str, total_ms: u64) -> RunOutcome {
        RunOutcome {
            status: status.into(),
            total_ms,
            downtime_ms: 310,
            memory_bytes: 1024 * MIB,
            disk_bytes: 0,
            iterations: 3,
            error: None,
        }
    }

    #[test]
    fn a_refused_run_has_dashes_where_it_has_no_numbers() {
        let pred = outcome("completed", 9_500);
        let mut meas = outcome("failed", 0);
        meas.memory_bytes = 0;
        meas.iterations = 0;
        let r = rows(Lang::En, &pred, Some(&meas));
        assert_eq!(r[0].1, "completed");
        assert_eq!(r[0].2, "failed");
        assert_eq!((r[1].1.as_str(), r[1].2.as_str()), ("9.50 s", "-"));
        assert_eq!((r[2].1.as_str(), r[2].2.as_str()), ("310 ms", "-"));
        assert_eq!((r[3].1.as_str(), r[3].2.as_str()), ("1024.0 MiB", "-"));
        assert_eq!((r[4].1.as_str(), r[4].2.as_str()), ("3", "-"));
        let none = rows(Lang::Id, &pred, None);
        assert!(none.iter().all(|row| row.2 == "-"));
    }
}
