//! libvirt's job statistics (`virsh domjobinfo`) as the lab's trace vocabulary: a running job
//! becomes a [`MigrationSample`], a finished one an [`Outcome`]. Pure, so the mapping is tested
//! without a migration.

use migralab_sim_core::trace::{MigrationSample, Outcome, Phase};
use virt::domain::JobStats;

/// A job statistics snapshot as a trace sample. `paused` is true when the domain is paused
/// (the stop-and-copy phase of a live migration, or the whole of a non-live one).
pub fn sample(s: &JobStats, paused: bool, postcopy: bool) -> MigrationSample {
    let disk_total = s.disk_total.unwrap_or(0);
    let disk_remaining = s.disk_remaining.unwrap_or(0);
    let iteration = s.mem_iteration.unwrap_or(0);
    let phase = if postcopy {
        Phase::Postcopy
    } else if paused && iteration > 0 {
        Phase::StopAndCopy
    } else if disk_total > 0 && disk_remaining > 0 {
        Phase::StorageCopy
    } else if iteration == 0 {
        Phase::Setup
    } else {
        Phase::Precopy
    };
    let page = s.mem_page_size.unwrap_or(4096).max(1);
    MigrationSample {
        phase: Some(phase),
        memory_total: s.mem_total.unwrap_or(0),
        memory_processed: s.mem_processed.unwrap_or(0),
        memory_remaining: s.mem_remaining.unwrap_or(0),
        disk_total,
        disk_processed: s.disk_processed.unwrap_or(0),
        disk_remaining,
        memory_bps: s.mem_bps.unwrap_or(0) as f64,
        // libvirt reports the dirty rate in pages per second already.
        dirty_rate_pps: s.mem_dirty_rate.unwrap_or(0),
        iteration,
        constant_pages: s.mem_constant.unwrap_or(0),
        normal_pages: s
            .mem_normal
            .unwrap_or_else(|| s.mem_normal_bytes.unwrap_or(0) / page),
        postcopy_requests: s.mem_postcopy_reqs.unwrap_or(0),
        throttle_pct: s.auto_converge_throttle.unwrap_or(0).clamp(0, 100) as u8,
        // QEMU's own estimate ("expected downtime") is not in libvirt's job statistics.
        expected_downtime_ms: 0,
        threshold_bytes: 0,
    }
}

/// The completed job's statistics (`virsh domjobinfo --completed`) as an outcome.
/// `wall_ms` is used when libvirt gives no elapsed time. `disk_elsewhere`: the disk data known
/// from elsewhere (the source's completed statistics, or the most seen while the job ran), used
/// when `s` has none: the destination's statistics never do, because libvirt reads the block
/// mirror's progress on the source (`qemuMigrationSrcFetchMirrorStats`).
pub fn completed(s: &JobStats, wall_ms: u64, disk_elsewhere: u64) -> Outcome {
    Outcome::Completed {
        total_ms: s.time_elapsed.unwrap_or(wall_ms),
        downtime_ms: s.downtime.unwrap_or(0),
        memory_bytes: s.mem_processed.unwrap_or(0),
        disk_bytes: s
            .disk_processed
            .filter(|b| *b > 0)
            .unwrap_or(disk_elsewhere),
        iterations: s.mem_iteration.unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(iteration: u64) -> JobStats {
        JobStats {
            r#type: 2,
            mem_total: Some(256 << 20),
            mem_processed: Some(100 << 20),
            mem_remaining: Some(150 << 20),
            mem_bps: Some(10 << 20),
            mem_dirty_rate: Some(2500),
            mem_iteration: Some(iteration),
            mem_constant: Some(1000),
            mem_normal_bytes: Some(40960),
            mem_page_size: Some(4096),
            auto_converge_throttle: Some(30),
            ..JobStats::default()
        }
    }

    #[test]
    fn a_running_job_becomes_a_sample_with_its_phase() {
        let s = sample(&running(2), false, false);
        assert_eq!(s.phase, Some(Phase::Precopy));
        assert_eq!(s.memory_remaining, 150 << 20);
        assert_eq!(s.memory_bps, (10u64 << 20) as f64);
        assert_eq!(s.dirty_rate_pps, 2500);
        assert_eq!(s.normal_pages, 10);
        assert_eq!(s.throttle_pct, 30);
        assert_eq!(sample(&running(0), false, false).phase, Some(Phase::Setup));
        assert_eq!(
            sample(&running(3), true, false).phase,
            Some(Phase::StopAndCopy)
        );
        assert_eq!(
            sample(&running(3), false, true).phase,
            Some(Phase::Postcopy)
        );
        let mut disk = running(0);
        disk.disk_total = Some(1 << 30);
        disk.disk_remaining = Some(1 << 29);
        assert_eq!(sample(&disk, false, false).phase, Some(Phase::StorageCopy));
    }

    #[test]
    fn completed_statistics_give_the_outcome() {
        let mut s = running(3);
        s.r#type = 3;
        s.time_elapsed = Some(812);
        s.downtime = Some(161);
        assert_eq!(
            completed(&s, 999, 0),
            Outcome::Completed {
                total_ms: 812,
                downtime_ms: 161,
                memory_bytes: 100 << 20,
                disk_bytes: 0,
                iterations: 3,
            }
        );
        s.time_elapsed = None;
        assert!(matches!(
            completed(&s, 999, 0),
            Outcome::Completed { total_ms: 999, .. }
        ));
        // The destination's statistics have no disk figures: the source's (or the most seen
        // while the job ran) fill them; figures of its own win.
        assert!(matches!(
            completed(&s, 999, 64 << 20),
            Outcome::Completed { disk_bytes, .. } if disk_bytes == 64 << 20
        ));
        s.disk_processed = Some(0);
        assert!(matches!(
            completed(&s, 999, 5),
            Outcome::Completed { disk_bytes: 5, .. }
        ));
        s.disk_processed = Some(7);
        assert!(matches!(
            completed(&s, 999, 5),
            Outcome::Completed { disk_bytes: 7, .. }
        ));
    }
}
