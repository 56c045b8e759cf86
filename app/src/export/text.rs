//! Turning a finished run into text: the human summary, the JSON document and the CSV of progress
//! samples. Pure functions of the scenario, trace and summary: no I/O here, so the GUI's export can
//! use them too.

use crate::export::csv_json::csv_field;
use migralab_sim_core::scenario::{MigrationSpec, StorageKind};
use migralab_sim_core::term;
use migralab_sim_core::trace::SyncRecord;
use migralab_sim_core::units::{GIB, MIB};
use migralab_sim_core::{Outcome, Phase, RunSummary, Scenario, Trace, TraceKind};
use std::fmt;

/// How many of the last dirty-bitmap syncs a not-converged summary shows.
const SYNCS_SHOWN: usize = 5;
/// How many ping loss windows the summary lists before it says "and N more".
const LOSS_WINDOWS_SHOWN: usize = 5;

/// The whole trace as one JSON object, plus the keys `outcome`, `ping` and `vms` of the summary.
pub fn json(trace: &Trace, summary: &RunSummary) -> serde_json::Result<String> {
    let mut doc = serde_json::to_value(trace)?;
    if let serde_json::Value::Object(map) = &mut doc {
        map.insert("outcome".into(), serde_json::to_value(&summary.outcome)?);
        map.insert("ping".into(), serde_json::to_value(&summary.ping)?);
        map.insert("vms".into(), serde_json::to_value(&summary.vms)?);
    }
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    Ok(text)
}

/// The CSV header of [`ProgressCsv`].
pub const CSV_HEADER: &str = "t_ms,vm,phase,memory_total,memory_processed,memory_remaining,disk_total,\
disk_processed,disk_remaining,data_remaining,memory_bps,dirty_rate_pps,iteration,throttle_pct,\
expected_downtime_ms,threshold_bytes,verbose_percent";

/// Every `Progress` event of a trace as CSV (header first), one row per sample, in trace order.
pub struct ProgressCsv<'a>(pub &'a Trace);

impl fmt::Display for ProgressCsv<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{CSV_HEADER}")?;
        for e in &self.0.events {
            let TraceKind::Progress(s) = &e.kind else {
                continue;
            };
            let phase = s.phase.map(phase_name).unwrap_or_default();
            writeln!(
                f,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.2}",
                e.t_ms,
                csv_field(&e.source),
                csv_field(&phase),
                s.memory_total,
                s.memory_processed,
                s.memory_remaining,
                s.disk_total,
                s.disk_processed,
                s.disk_remaining,
                s.data_remaining(),
                s.memory_bps,
                s.dirty_rate_pps,
                s.iteration,
                s.throttle_pct,
                s.expected_downtime_ms,
                s.threshold_bytes,
                s.verbose_percent(),
            )?;
        }
        Ok(())
    }
}

/// A phase as the trace spells it (`stop-and-copy`).
fn phase_name(phase: Phase) -> String {
    match serde_json::to_value(phase) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{phase:?}"),
    }
}

/// The short summary a person reads after `migralab sim`. Its commands are shell-quoted; the
/// whole text goes through [`term::escape_text`] on its way to a terminal.
pub struct HumanSummary<'a> {
    /// First line: what ran (`Scenario lesson: ... (seed 1)`, or the real hosts).
    pub heading: String,
    /// The commands that ran.
    pub migrations: Vec<MigrationSpec>,
    /// Disks stay where they are (shared storage), so "no disk sent" is the expected case.
    pub shared_storage: bool,
    /// The prober's interval, ms.
    pub ping_interval_ms: f64,
    /// Its trace.
    pub trace: &'a Trace,
    /// The trace summarised.
    pub summary: &'a RunSummary,
}

impl<'a> HumanSummary<'a> {
    /// The summary of a simulated scenario run.
    pub fn of_scenario(
        sc: &Scenario,
        trace: &'a Trace,
        summary: &'a RunSummary,
    ) -> HumanSummary<'a> {
        let title = if sc.title.en.is_empty() {
            &sc.title.id
        } else {
            &sc.title.en
        };
        // One line, whatever the file holds (a title may hold a newline).
        let (name, title) = (term::escape(&sc.name), term::escape(title));
        let heading = if title.is_empty() {
            format!("Scenario {name} (seed {})", sc.seed)
        } else {
            format!("Scenario {name}: {title} (seed {})", sc.seed)
        };
        HumanSummary {
            heading,
            migrations: sc.migrations.clone(),
            shared_storage: sc.storage.kind == StorageKind::Shared,
            ping_interval_ms: sc.prober.interval_ms,
            trace,
            summary,
        }
    }
}

impl fmt::Display for HumanSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.heading)?;
        for m in &self.migrations {
            let at = if m.start_ms > 0 {
                format!("   # at {}", seconds(m.start_ms))
            } else {
                String::new()
            };
            writeln!(f, "  $ {}{at}", m.virsh_command())?;
        }
        if self.migrations.is_empty() && self.summary.vms.is_empty() {
            writeln!(f, "  (the scenario runs no migration)")?;
        }

        let mut any_iterations = false;
        for vm in &self.summary.vms {
            writeln!(f)?;
            any_iterations |= self.vm_outcome(f, &vm.vm, &vm.outcome)?;
        }

        writeln!(f)?;
        self.ping(f)?;

        writeln!(f)?;
        if any_iterations {
            writeln!(
                f,
                "Iterations are QEMU's dirty-bitmap syncs: each starts a new pass that re-sends the pages"
            )?;
            writeln!(f, "the guest wrote since the previous one.")?;
        }
        if self.summary.outcome.status == migralab_sim_core::summary::NO_MIGRATION {
            return writeln!(
                f,
                "Result: no migration (the scenario has no [[migration]])"
            );
        }
        writeln!(f, "Result: {}", self.summary.outcome.status)
    }
}

impl HumanSummary<'_> {
    /// One VM's block; returns whether it printed an iteration count.
    fn vm_outcome(
        &self,
        f: &mut fmt::Formatter<'_>,
        vm: &str,
        outcome: &Outcome,
    ) -> Result<bool, fmt::Error> {
        let row = |f: &mut fmt::Formatter<'_>, label: &str, value: String| {
            writeln!(f, "  {label:<14}{value}")
        };
        match outcome {
            Outcome::Completed {
                total_ms,
                downtime_ms,
                memory_bytes,
                disk_bytes,
                iterations,
            } => {
                writeln!(f, "{vm}: completed")?;
                row(f, "total time", seconds(*total_ms))?;
                row(f, "downtime", format!("{downtime_ms} ms (guest paused)"))?;
                row(f, "memory sent", mib(*memory_bytes))?;
                row(f, "disk sent", self.disk(*disk_bytes))?;
                row(f, "iterations", iterations.to_string())?;
                Ok(true)
            }
            Outcome::Failed { error, at_ms } => {
                if *at_ms == 0 {
                    writeln!(f, "{vm}: failed at once (libvirt refused the command)")?;
                } else {
                    writeln!(f, "{vm}: failed after {}", seconds(*at_ms))?;
                }
                writeln!(f, "  {}", error.virsh_line().replace('\n', "\n  "))?;
                writeln!(f, "  (the guest keeps running on the source host)")?;
                Ok(false)
            }
            Outcome::Aborted { at_ms } => {
                writeln!(f, "{vm}: aborted after {}", seconds(*at_ms))?;
                writeln!(f, "  (the guest keeps running on the source host)")?;
                Ok(false)
            }
            Outcome::NotConverged {
                at_ms,
                memory_bytes,
                disk_bytes,
                iterations,
                history,
            } => {
                writeln!(
                    f,
                    "{vm}: not converged: still copying after {}",
                    seconds(*at_ms)
                )?;
                writeln!(
                    f,
                    "  The guest dirties memory faster than the link sends it, so the data left never fell"
                )?;
                writeln!(
                    f,
                    "  to the threshold. QEMU would go on forever; the simulation stopped at its time limit."
                )?;
                row(f, "memory sent", mib(*memory_bytes))?;
                row(f, "disk sent", self.disk(*disk_bytes))?;
                row(f, "iterations", iterations.to_string())?;
                self.last_syncs(f, history)?;
                Ok(true)
            }
            Outcome::TimeLimit(u) => {
                writeln!(
                    f,
                    "{vm}: time limit reached: still copying after {}",
                    seconds(u.at_ms)
                )?;
                writeln!(
                    f,
                    "  The migration was still getting somewhere (in its first pass, or leaving less after"
                )?;
                writeln!(
                    f,
                    "  each sync) when the simulator's time limit ran out: it needs longer, which is not the"
                )?;
                writeln!(
                    f,
                    "  same as never converging. Raise sim.max_time_s to see it end."
                )?;
                self.unfinished_rows(f, u)?;
                Ok(true)
            }
            Outcome::WorkLimit(u) => {
                writeln!(
                    f,
                    "{vm}: work limit reached: stopped after {}",
                    seconds(u.at_ms)
                )?;
                writeln!(
                    f,
                    "  Simulating this migration further would cost more than one run may (about 5 s of CPU),"
                )?;
                writeln!(
                    f,
                    "  so the simulator stopped it here. A smaller RAM or a shorter time limit fits."
                )?;
                self.unfinished_rows(f, u)?;
                Ok(true)
            }
        }
    }

    fn unfinished_rows(
        &self,
        f: &mut fmt::Formatter<'_>,
        u: &migralab_sim_core::trace::Unfinished,
    ) -> fmt::Result {
        let row = |f: &mut fmt::Formatter<'_>, label: &str, value: String| {
            writeln!(f, "  {label:<14}{value}")
        };
        row(f, "memory sent", mib(u.memory_bytes))?;
        row(f, "memory left", mib(u.remaining_bytes))?;
        row(f, "disk sent", self.disk(u.disk_bytes))?;
        row(f, "iterations", u.iterations.to_string())
    }

    fn last_syncs(&self, f: &mut fmt::Formatter<'_>, history: &[SyncRecord]) -> fmt::Result {
        if history.is_empty() {
            return Ok(());
        }
        let shown = &history[history.len().saturating_sub(SYNCS_SHOWN)..];
        writeln!(
            f,
            "  last {} syncs (data left after each, vs. the threshold that would let it stop):",
            shown.len()
        )?;
        for s in shown {
            let throttle = if s.throttle_pct > 0 {
                format!(", throttle {} %", s.throttle_pct)
            } else {
                String::new()
            };
            writeln!(
                f,
                "    iteration {:>4}: {:>10} left, threshold {}{throttle}",
                s.iteration,
                mib(s.remaining_bytes),
                mib(s.threshold_bytes)
            )?;
        }
        Ok(())
    }

    fn disk(&self, bytes: u64) -> String {
        if bytes == 0 && self.shared_storage {
            "none (the disk stays on shared storage)".into()
        } else if bytes >= GIB {
            format!("{:.2} GiB", bytes as f64 / GIB as f64)
        } else {
            mib(bytes)
        }
    }

    fn ping(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.summary.ping;
        let Some(target) = self.trace.pings().next().map(|s| s.target.as_str()) else {
            return writeln!(
                f,
                "Ping: no probes were sent (the prober is disabled in this scenario)."
            );
        };
        writeln!(
            f,
            "Ping {target} every {} ms: {} sent, {} lost, largest gap between replies {:.1} ms",
            self.ping_interval_ms, p.sent, p.lost, p.max_gap_ms
        )?;
        for w in p.loss_windows.iter().take(LOSS_WINDOWS_SHOWN) {
            writeln!(
                f,
                "  lost {} in a row (seq {}-{}), sent from {:.3} s to {:.3} s",
                w.lost(),
                w.first_seq,
                w.last_seq,
                w.start_ms / 1000.0,
                w.end_ms / 1000.0
            )?;
        }
        if let Some(more) = p
            .loss_windows
            .len()
            .checked_sub(LOSS_WINDOWS_SHOWN)
            .filter(|n| *n > 0)
        {
            writeln!(f, "  ... and {more} more loss windows (see --json)")?;
        }
        Ok(())
    }
}

/// `10.52 s`, or `193.4 s (3 min 13 s)` from a minute on.
fn seconds(ms: u64) -> String {
    let s = ms as f64 / 1000.0;
    if ms >= 60_000 {
        let whole = (ms + 500) / 1000;
        format!("{s:.1} s ({} min {} s)", whole / 60, whole % 60)
    } else {
        format!("{s:.2} s")
    }
}

/// `1034.2 MiB`.
fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / MIB as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_read_naturally() {
        assert_eq!(seconds(10_520), "10.52 s");
        assert_eq!(seconds(193_400), "193.4 s (3 min 13 s)");
        assert_eq!(mib(3 * MIB / 2), "1.5 MiB");
    }

    #[test]
    fn phases_are_spelled_as_in_the_trace() {
        assert_eq!(phase_name(Phase::StopAndCopy), "stop-and-copy");
        assert_eq!(CSV_HEADER.split(',').count(), 17);
    }
}
