//! The trace vocabulary both backends speak. A `Trace` is what a run leaves behind: the events in
//! order, with the scenario that produced them. Times are milliseconds from the start of the run
//! (the migration command), sizes are bytes. Serialised as JSON, a trace can be saved, reloaded,
//! compared and used as a test fixture.

use crate::error::LabError;
use serde::{Deserialize, Serialize};

/// Version of the trace format, bumped on incompatible changes.
pub const TRACE_FORMAT: u32 = 1;

/// One thing that happened, at `t_ms`, to `source` (a VM name, `prober`, or `lab`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// Milliseconds since the run started.
    pub t_ms: f64,
    /// Who the event is about: a VM name, `prober` or `lab`.
    pub source: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: TraceKind,
}

/// The kinds of trace events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum TraceKind {
    /// The migration entered a new phase.
    Phase {
        /// The phase entered.
        phase: Phase,
    },
    /// Job statistics, as `virsh domjobinfo` would show them at this moment.
    Progress(MigrationSample),
    /// A dirty-bitmap sync happened (QEMU's `dirty-sync-count` went up by one).
    Sync(SyncRecord),
    /// One ping probe and what became of it.
    Ping(PingSample),
    /// A human-readable line, as libvirt or QEMU would log it.
    Log {
        /// The line.
        message: String,
    },
    /// The migration ended.
    Finished(Outcome),
}

/// Phases of a migration job, in the order they can happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Connecting, sending the header, allocating the dirty bitmap.
    Setup,
    /// `--copy-storage-all`: the NBD block mirror copies the disks before any RAM is sent.
    StorageCopy,
    /// Iterative pre-copy of RAM while the guest runs.
    Precopy,
    /// The guest was suspended (`--timeout` with the default suspend action); the copy goes on offline.
    Suspended,
    /// The guest is paused on the source and the last dirty pages and device state are sent.
    StopAndCopy,
    /// The guest runs on the destination and pulls the pages it still lacks.
    Postcopy,
    /// Device state loaded; the destination resumes the guest.
    Resume,
    /// The job is over.
    Done,
}

/// Job statistics at one moment: the fields `virsh domjobinfo` prints (see `reference/migration-facts.md` §2.1).
/// "Data" = memory + disk, as libvirt computes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MigrationSample {
    /// Phase at the time of the sample.
    pub phase: Option<Phase>,
    /// Guest RAM size ("Memory total").
    pub memory_total: u64,
    /// Bytes of RAM sent so far, headers included ("Memory processed").
    pub memory_processed: u64,
    /// Bytes of RAM still dirty ("Memory remaining").
    pub memory_remaining: u64,
    /// Disk bytes to copy ("File total"), 0 with shared storage.
    pub disk_total: u64,
    /// Disk bytes sent by the mirror so far ("File processed").
    pub disk_processed: u64,
    /// Disk bytes still to copy ("File remaining").
    pub disk_remaining: u64,
    /// Memory bandwidth measured over the last 100 ms slot, bytes/s ("Memory bandwidth").
    pub memory_bps: f64,
    /// Guest dirty rate in pages/s, averaged over the last ≥1 s window ("Dirty rate").
    pub dirty_rate_pps: u64,
    /// Dirty-bitmap syncs so far ("Iteration", QEMU's `dirty-sync-count`).
    pub iteration: u64,
    /// Zero pages sent ("Constant pages").
    pub constant_pages: u64,
    /// Normal pages sent ("Normal pages").
    pub normal_pages: u64,
    /// Post-copy page requests from the destination ("Postcopy requests").
    pub postcopy_requests: u64,
    /// vCPU throttle set by auto-converge, percent ("Auto converge throttle").
    pub throttle_pct: u8,
    /// Bytes of dirty RAM at the last sync divided by the bandwidth, ms ("Expected downtime").
    pub expected_downtime_ms: u64,
    /// Completion threshold: bandwidth × downtime limit, bytes (not in domjobinfo; shown to teach).
    pub threshold_bytes: u64,
}

impl MigrationSample {
    /// "Data total" = memory + disk.
    pub fn data_total(&self) -> u64 {
        self.memory_total + self.disk_total
    }
    /// "Data processed" = memory + disk.
    pub fn data_processed(&self) -> u64 {
        self.memory_processed + self.disk_processed
    }
    /// "Data remaining" = memory + disk.
    pub fn data_remaining(&self) -> u64 {
        self.memory_remaining + self.disk_remaining
    }
    /// `virsh migrate --verbose` progress: `100 − remaining×100/total`, capped at 99.99 until done.
    /// It can go backwards when re-dirtied pages grow "Data remaining".
    pub fn verbose_percent(&self) -> f64 {
        let total = self.data_total();
        if total == 0 {
            return 0.0;
        }
        let pct = 100.0 - (self.data_remaining() as f64 * 100.0 / total as f64);
        pct.clamp(0.0, 99.99)
    }
}

/// One dirty-bitmap sync: where an "iteration" boundary falls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRecord {
    /// `dirty-sync-count` after this sync.
    pub iteration: u64,
    /// Pages newly found dirty in the guest's dirty log.
    pub new_dirty_pages: u64,
    /// Bytes pending after the sync (dirty pages × page size).
    pub remaining_bytes: u64,
    /// The completion threshold at the time, bytes.
    pub threshold_bytes: u64,
    /// Auto-converge throttle after this sync, percent.
    pub throttle_pct: u8,
}

/// One ICMP echo probe from the lab client to a VM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PingSample {
    /// ICMP sequence number.
    pub seq: u64,
    /// Target VM.
    pub target: String,
    /// When the request was sent, ms from the start of the run.
    pub sent_ms: f64,
    /// Round-trip time; `None` if no reply came back (lost).
    pub rtt_ms: Option<f64>,
}

/// How a migration ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    /// The guest runs on the destination.
    Completed {
        /// Time from the migrate command to the end of the job, ms.
        total_ms: u64,
        /// Time the guest was paused (libvirt's "Total downtime"), ms.
        downtime_ms: u64,
        /// RAM bytes sent, headers included ("Memory processed").
        memory_bytes: u64,
        /// Disk bytes sent by the block mirror ("File processed").
        disk_bytes: u64,
        /// `dirty-sync-count` at the end ("Iteration").
        iterations: u64,
    },
    /// libvirt refused or the job failed; the guest keeps running on the source.
    Failed {
        /// The error, worded as libvirt words it.
        error: LabError,
        /// When it failed, ms.
        at_ms: u64,
    },
    /// The job was cancelled; the guest keeps running on the source.
    Aborted {
        /// When it was cancelled, ms.
        at_ms: u64,
    },
    /// The guest dirties memory faster than it can be sent: QEMU would iterate forever. The
    /// simulator stopped at its time limit, as an operator would cancel the job.
    NotConverged {
        /// When the simulator gave up, ms.
        at_ms: u64,
        /// RAM bytes sent until then.
        memory_bytes: u64,
        /// Disk bytes sent until then.
        disk_bytes: u64,
        /// `dirty-sync-count` until then.
        iterations: u64,
        /// Bytes pending after each sync, the evidence that it was not shrinking.
        history: Vec<SyncRecord>,
    },
    /// The job was still making progress (in its first pass, or what each sync left was still
    /// shrinking) when the simulator's time limit (`sim.max_time_s`) ran out: it needs more time,
    /// which is not the same as never converging.
    TimeLimit(Unfinished),
    /// The run would have cost the simulator more work than one run may
    /// ([`crate::budget::MAX_WORK`]): stopped there, however far it had got.
    WorkLimit(Unfinished),
}

/// Where a job stood when the simulator stopped it at one of its limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unfinished {
    /// When the simulator stopped it, ms from the migrate command.
    pub at_ms: u64,
    /// RAM bytes sent until then.
    pub memory_bytes: u64,
    /// Disk bytes sent until then.
    pub disk_bytes: u64,
    /// `dirty-sync-count` until then.
    pub iterations: u64,
    /// RAM bytes still to send ("Memory remaining").
    pub remaining_bytes: u64,
}

impl Outcome {
    /// The status word used in JSON output.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Completed { .. } => "completed",
            Outcome::Failed { .. } => "failed",
            Outcome::Aborted { .. } => "aborted",
            Outcome::NotConverged { .. } => "not-converged",
            Outcome::TimeLimit(_) => "time-limit",
            Outcome::WorkLimit(_) => "work-limit",
        }
    }

    /// Did the guest end up running on the destination?
    pub fn is_completed(&self) -> bool {
        matches!(self, Outcome::Completed { .. })
    }
}

/// A recorded run: the scenario it came from and every event, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// [`TRACE_FORMAT`] of the writer.
    pub format: u32,
    /// `sim` or `real`.
    pub backend: String,
    /// The seed of the run (simulated runs).
    pub seed: u64,
    /// The resolved scenario (after `--set` overrides), as TOML-compatible JSON.
    pub scenario: serde_json::Value,
    /// All events in the order they happened.
    pub events: Vec<TraceEvent>,
}

impl Trace {
    /// Progress samples of one VM, in order.
    pub fn samples<'a>(
        &'a self,
        vm: &'a str,
    ) -> impl Iterator<Item = (f64, &'a MigrationSample)> + 'a {
        self.events.iter().filter_map(move |e| match &e.kind {
            TraceKind::Progress(s) if e.source == vm => Some((e.t_ms, s)),
            _ => None,
        })
    }

    /// Syncs of one VM, in order.
    pub fn syncs<'a>(&'a self, vm: &'a str) -> impl Iterator<Item = (f64, &'a SyncRecord)> + 'a {
        self.events.iter().filter_map(move |e| match &e.kind {
            TraceKind::Sync(s) if e.source == vm => Some((e.t_ms, s)),
            _ => None,
        })
    }

    /// All ping probes, in the order they were sent.
    pub fn pings(&self) -> impl Iterator<Item = &PingSample> + '_ {
        self.events.iter().filter_map(|e| match &e.kind {
            TraceKind::Ping(p) => Some(p),
            _ => None,
        })
    }

    /// The outcome of each migrated VM, in the order they finished.
    pub fn outcomes(&self) -> impl Iterator<Item = (&str, &Outcome)> + '_ {
        self.events.iter().filter_map(|e| match &e.kind {
            TraceKind::Finished(o) => Some((e.source.as_str(), o)),
            _ => None,
        })
    }

    /// Did `vm`'s migration copy its disks (`--copy-storage-all`)? Seen in its progress (a disk
    /// total) or its outcome (disk bytes). A watched real run knows its flags only this way:
    /// libvirt's job statistics carry no flags, but a disk total only with a block mirror.
    pub fn copied_storage(&self, vm: &str) -> bool {
        self.samples(vm).any(|(_, s)| s.disk_total > 0)
            || self.outcomes().any(|(v, o)| {
                v == vm && matches!(o, Outcome::Completed { disk_bytes, .. } if *disk_bytes > 0)
            })
    }

    /// Serialise to pretty JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// Read a trace back from JSON.
    pub fn from_json(text: &str) -> Result<Trace, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(events: Vec<(&str, TraceKind)>) -> Trace {
        Trace {
            format: TRACE_FORMAT,
            backend: "real".into(),
            seed: 0,
            scenario: serde_json::Value::Null,
            events: events
                .into_iter()
                .enumerate()
                .map(|(i, (source, kind))| TraceEvent {
                    t_ms: i as f64,
                    source: source.into(),
                    kind,
                })
                .collect(),
        }
    }

    fn done(disk_bytes: u64) -> TraceKind {
        TraceKind::Finished(Outcome::Completed {
            total_ms: 1,
            downtime_ms: 1,
            memory_bytes: 1,
            disk_bytes,
            iterations: 1,
        })
    }

    #[test]
    fn a_disk_total_or_disk_bytes_say_the_storage_was_copied() {
        let ram_only = MigrationSample::default();
        let disk = MigrationSample {
            disk_total: 64 << 20,
            ..MigrationSample::default()
        };
        let t = trace(vec![
            ("db01", TraceKind::Progress(ram_only)),
            ("db01", done(0)),
        ]);
        assert!(!t.copied_storage("db01"));
        let t = trace(vec![("db01", TraceKind::Progress(disk)), ("db01", done(0))]);
        assert!(t.copied_storage("db01"));
        assert!(!t.copied_storage("web01"), "another guest's");
        let t = trace(vec![("db01", done(5))]);
        assert!(t.copied_storage("db01"), "only the outcome says it");
        assert!(!trace(vec![("web01", done(5))]).copied_storage("db01"));
    }
}
