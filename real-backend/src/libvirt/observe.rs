//! What a running migration job looks like from its job statistics, read every [`POLL`]: the
//! phases as they change, a sync at each new iteration, a progress sample each time. One
//! observer serves a migration migralab started ([`super::job`]) and one it only watches
//! ([`super::watch`]), so both write the same trace.
//!
//! [`POLL`]: super::job::POLL

use super::{ffi, stats};
use migralab_sim_core::trace::{MigrationSample, Phase, SyncRecord, TraceKind};
use virt::domain::Domain;
use virt::sys;

/// The trace so far of one job's statistics.
#[derive(Debug, Default)]
pub(crate) struct JobObserver {
    phase: Option<Phase>,
    iteration: u64,
    disk_processed: u64,
}

impl JobObserver {
    /// `phase`, if it is new.
    pub(crate) fn enter(&mut self, phase: Phase) -> Option<TraceKind> {
        (self.phase != Some(phase)).then(|| {
            self.phase = Some(phase);
            TraceKind::Phase { phase }
        })
    }

    /// The iterations seen so far (libvirt's `dirty-sync-count`).
    pub(crate) fn iteration(&self) -> u64 {
        self.iteration
    }

    /// The most disk data (`--copy-storage-all`'s block mirror) the job reported while it ran.
    /// The destination's completed statistics carry no disk figures: libvirt fills them from
    /// the source's mirror jobs (`qemuMigrationSrcFetchMirrorStats`).
    pub(crate) fn disk_processed(&self) -> u64 {
        self.disk_processed
    }

    /// Read `dom`'s running job: `None` when no job runs (or it cannot be read), else its sample
    /// and the events it makes (a new phase, a new sync, the sample itself).
    pub(crate) fn observe(&mut self, dom: &Domain) -> Option<(MigrationSample, Vec<TraceKind>)> {
        let s = ffi::job_stats(dom, 0).ok()?;
        if s.r#type != sys::VIR_DOMAIN_JOB_UNBOUNDED as i32 {
            return None;
        }
        let (state, reason) = ffi::state(dom).unwrap_or((0, 0));
        let paused = state == sys::VIR_DOMAIN_PAUSED as i32;
        let postcopy = (state == sys::VIR_DOMAIN_RUNNING as i32
            && reason == sys::VIR_DOMAIN_RUNNING_POSTCOPY as i32)
            || (paused && reason == sys::VIR_DOMAIN_PAUSED_POSTCOPY as i32);
        let sample = stats::sample(&s, paused, postcopy);
        self.disk_processed = self.disk_processed.max(sample.disk_processed);
        let mut events = Vec::new();
        if let Some(p) = sample.phase {
            events.extend(self.enter(p));
        }
        if sample.iteration > self.iteration {
            self.iteration = sample.iteration;
            events.push(TraceKind::Sync(SyncRecord {
                iteration: sample.iteration,
                new_dirty_pages: 0,
                remaining_bytes: sample.memory_remaining,
                threshold_bytes: 0,
                throttle_pct: sample.throttle_pct,
            }));
        }
        events.push(TraceKind::Progress(sample.clone()));
        Some((sample, events))
    }
}
