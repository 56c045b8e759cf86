//! What a run amounts to: per-VM outcomes folded into one status, and the ping statistics a
//! student reads off the prober (sent, lost, the largest gap between replies, loss windows).

use crate::trace::{Outcome, Trace};
use serde::{Deserialize, Serialize};

/// A maximal run of consecutive lost probes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossWindow {
    /// First lost sequence number.
    pub first_seq: u64,
    /// Last lost sequence number.
    pub last_seq: u64,
    /// Send time of the first lost probe, ms.
    pub start_ms: f64,
    /// Send time of the last lost probe, ms.
    pub end_ms: f64,
}

impl LossWindow {
    /// Probes lost in this window.
    pub fn lost(&self) -> u64 {
        self.last_seq - self.first_seq + 1
    }
}

/// Ping statistics of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PingStats {
    /// Probes sent.
    pub sent: u64,
    /// Probes without a reply.
    pub lost: u64,
    /// Largest time between two consecutive replies arriving, ms.
    pub max_gap_ms: f64,
    /// Where the losses were.
    pub loss_windows: Vec<LossWindow>,
}

impl PingStats {
    /// Statistics of the probes in `trace`.
    pub fn of(trace: &Trace) -> PingStats {
        let mut st = PingStats::default();
        let mut last_reply: Option<f64> = None;
        let mut first_sent: Option<f64> = None;
        let mut last_sent = 0.0f64;
        let mut window: Option<LossWindow> = None;
        for p in trace.pings() {
            st.sent += 1;
            first_sent.get_or_insert(p.sent_ms);
            last_sent = p.sent_ms;
            match p.rtt_ms {
                Some(rtt) => {
                    let at = p.sent_ms + rtt;
                    if let Some(prev) = last_reply {
                        st.max_gap_ms = st.max_gap_ms.max(at - prev);
                    }
                    last_reply = Some(at);
                    st.loss_windows.extend(window.take());
                }
                None => {
                    st.lost += 1;
                    match &mut window {
                        Some(w) => {
                            w.last_seq = p.seq;
                            w.end_ms = p.sent_ms;
                        }
                        None => {
                            window = Some(LossWindow {
                                first_seq: p.seq,
                                last_seq: p.seq,
                                start_ms: p.sent_ms,
                                end_ms: p.sent_ms,
                            })
                        }
                    }
                }
            }
        }
        st.loss_windows.extend(window);
        if last_reply.is_none() {
            // Not a single reply: the whole probing span was a gap.
            st.max_gap_ms = last_sent - first_sent.unwrap_or(last_sent);
        }
        st.max_gap_ms = (st.max_gap_ms * 1000.0).round() / 1000.0;
        st
    }
}

/// One VM's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VmResult {
    /// The VM.
    pub vm: String,
    /// How its migration ended.
    pub outcome: Outcome,
}

/// The status of a run whose scenario has no `[[migration]]`.
pub const NO_MIGRATION: &str = "no-migration";

/// The whole run in one object: the `outcome` of `migralab sim --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// `completed` when every migration completed; else the worst status (failed, not-converged,
    /// work-limit, time-limit, aborted); [`NO_MIGRATION`] when the scenario migrates nothing.
    pub status: String,
    /// Time until the last migration ended, ms.
    pub total_ms: u64,
    /// Longest downtime of any VM, ms.
    pub downtime_ms: u64,
    /// RAM bytes sent, all VMs.
    pub memory_bytes: u64,
    /// Disk bytes sent, all VMs.
    pub disk_bytes: u64,
    /// Most iterations of any VM.
    pub iterations: u64,
    /// The first error, worded as libvirt words it.
    pub error: Option<String>,
}

impl RunOutcome {
    /// Fold the per-VM outcomes of a trace.
    pub fn of(trace: &Trace) -> RunOutcome {
        let mut out = RunOutcome {
            status: "completed".into(),
            total_ms: 0,
            downtime_ms: 0,
            memory_bytes: 0,
            disk_bytes: 0,
            iterations: 0,
            error: None,
        };
        let rank = |s: &str| match s {
            "failed" => 5,
            "not-converged" => 4,
            "work-limit" => 3,
            "time-limit" => 2,
            "aborted" => 1,
            _ => 0,
        };
        let mut any = false;
        for (_, o) in trace.outcomes() {
            any = true;
            if rank(o.status()) > rank(&out.status) {
                out.status = o.status().into();
            }
            match o {
                Outcome::Completed {
                    total_ms,
                    downtime_ms,
                    memory_bytes,
                    disk_bytes,
                    iterations,
                } => {
                    out.total_ms = out.total_ms.max(*total_ms);
                    out.downtime_ms = out.downtime_ms.max(*downtime_ms);
                    out.memory_bytes += memory_bytes;
                    out.disk_bytes += disk_bytes;
                    out.iterations = out.iterations.max(*iterations);
                }
                Outcome::Failed { error, at_ms } => {
                    out.total_ms = out.total_ms.max(*at_ms);
                    out.error.get_or_insert_with(|| error.to_string());
                }
                Outcome::Aborted { at_ms } => out.total_ms = out.total_ms.max(*at_ms),
                Outcome::NotConverged {
                    at_ms,
                    memory_bytes,
                    disk_bytes,
                    iterations,
                    ..
                } => {
                    out.total_ms = out.total_ms.max(*at_ms);
                    out.memory_bytes += memory_bytes;
                    out.disk_bytes += disk_bytes;
                    out.iterations = out.iterations.max(*iterations);
                }
                Outcome::TimeLimit(u) | Outcome::WorkLimit(u) => {
                    out.total_ms = out.total_ms.max(u.at_ms);
                    out.memory_bytes += u.memory_bytes;
                    out.disk_bytes += u.disk_bytes;
                    out.iterations = out.iterations.max(u.iterations);
                }
            }
        }
        if !any {
            out.status = NO_MIGRATION.into();
        }
        out
    }
}

/// Everything a report needs about a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The folded outcome.
    pub outcome: RunOutcome,
    /// Each VM's outcome.
    pub vms: Vec<VmResult>,
    /// The prober's statistics.
    pub ping: PingStats,
}

impl RunSummary {
    /// Summarise a trace.
    pub fn of(trace: &Trace) -> RunSummary {
        RunSummary {
            outcome: RunOutcome::of(trace),
            vms: trace
                .outcomes()
                .map(|(vm, o)| VmResult {
                    vm: vm.to_string(),
                    outcome: o.clone(),
                })
                .collect(),
            ping: PingStats::of(trace),
        }
    }
}
