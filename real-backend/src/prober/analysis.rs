//! Pure analysis of a list of ping samples: what was answered, late or lost, the loss windows,
//! and how far the prober's own send schedule drifted. No sockets, no clocks: every time is in
//! milliseconds on the trace's timeline, so the same function reads a live run, a saved trace or
//! a hand-written test case.

use migralab_sim_core::trace::PingSample;

/// What became of one probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Replied within the late threshold.
    Answered,
    /// Replied after the late threshold but before the timeout.
    Late,
    /// No reply before the timeout (a reply after the timeout counts as lost too).
    Lost,
}

/// Classify one probe by its round-trip time. `late_ms < rtt ≤ timeout_ms` is late; no reply or
/// a reply after `timeout_ms` is lost.
pub fn classify(rtt_ms: Option<f64>, late_ms: f64, timeout_ms: f64) -> Fate {
    match rtt_ms {
        None => Fate::Lost,
        Some(rtt) if rtt > timeout_ms => Fate::Lost,
        Some(rtt) if rtt > late_ms => Fate::Late,
        Some(_) => Fate::Answered,
    }
}

/// How a run of probes was meant to go: the schedule the prober followed and the thresholds
/// that separate answered, late and lost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbePlan {
    /// Sequence number of the first probe.
    pub first_seq: u64,
    /// When the first probe was scheduled, ms on the trace's timeline.
    pub first_send_ms: f64,
    /// Interval between scheduled sends, ms. Probe `seq` is due at
    /// `first_send_ms + (seq − first_seq) × interval_ms`.
    pub interval_ms: f64,
    /// Replies slower than this are late, ms.
    pub late_ms: f64,
    /// Replies slower than this (or none) are lost, ms.
    pub timeout_ms: f64,
}

/// A maximal run of consecutive lost probes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LossWindow {
    /// First lost sequence number.
    pub first_seq: u64,
    /// Last lost sequence number.
    pub last_seq: u64,
    /// Number of lost probes in the run.
    pub lost: u64,
    /// When the first lost probe was sent, ms.
    pub start_ms: f64,
    /// When the last lost probe was sent, ms.
    pub end_ms: f64,
    /// Time from the last reply before the run to the first reply after it (reply arrival
    /// times, ms): the outage as the client saw it. `None` when the run is at the start or the
    /// end of the samples, so one side has no reply.
    pub gap_ms: Option<f64>,
}

/// The prober's schedule drift: actual send time − scheduled send time, ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct DriftStats {
    /// Largest drift.
    pub max_ms: f64,
    /// 99th percentile (nearest rank) of the drift.
    pub p99_ms: f64,
}

/// What a run of probes amounted to.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ProbeSummary {
    /// Probes sent.
    pub sent: u64,
    /// Probes answered before the timeout, late ones included.
    pub answered: u64,
    /// Probes with no reply before the timeout (`sent = answered + lost`).
    pub lost: u64,
    /// Answered probes whose reply came after the late threshold.
    pub late: u64,
    /// Largest round-trip time among answered probes, ms.
    pub max_rtt_ms: Option<f64>,
    /// Maximal runs of consecutive lost probes, in sequence order.
    pub loss_windows: Vec<LossWindow>,
    /// The send schedule's drift.
    pub drift: DriftStats,
    /// Replies that arrived after their probe had already timed out (counted as lost). Filled
    /// in by the live prober; [`summarize`] cannot know them and leaves 0.
    pub replies_after_timeout: u64,
    /// Probes whose send call failed (counted as sent and lost). Filled in by the live prober;
    /// [`summarize`] leaves 0.
    pub send_errors: u64,
}

impl ProbeSummary {
    /// The longest loss window, by gap when known, else by number of probes lost.
    pub fn longest_window(&self) -> Option<&LossWindow> {
        self.loss_windows.iter().max_by(|a, b| {
            let key = |w: &LossWindow| (w.gap_ms.unwrap_or(0.0), w.lost);
            let (ga, la) = key(a);
            let (gb, lb) = key(b);
            ga.total_cmp(&gb).then(la.cmp(&lb))
        })
    }
}

/// Summarise `samples` (any order; sorted by `seq` here) against `plan`.
pub fn summarize(samples: &[PingSample], plan: &ProbePlan) -> ProbeSummary {
    let mut sorted: Vec<&PingSample> = samples.iter().collect();
    sorted.sort_by_key(|s| s.seq);
    let fates: Vec<Fate> = sorted
        .iter()
        .map(|s| classify(s.rtt_ms, plan.late_ms, plan.timeout_ms))
        .collect();

    let mut summary = ProbeSummary {
        sent: sorted.len() as u64,
        ..ProbeSummary::default()
    };
    for (s, fate) in sorted.iter().zip(&fates) {
        match fate {
            Fate::Lost => summary.lost += 1,
            Fate::Late | Fate::Answered => {
                summary.answered += 1;
                if *fate == Fate::Late {
                    summary.late += 1;
                }
                if let Some(rtt) = s.rtt_ms {
                    summary.max_rtt_ms = Some(summary.max_rtt_ms.map_or(rtt, |m: f64| m.max(rtt)));
                }
            }
        }
    }
    summary.loss_windows = loss_windows(&sorted, &fates);
    summary.drift = drift(&sorted, plan);
    summary
}

/// When the reply to an answered probe arrived.
fn reply_at(s: &PingSample) -> Option<f64> {
    s.rtt_ms.map(|rtt| s.sent_ms + rtt)
}

fn loss_windows(sorted: &[&PingSample], fates: &[Fate]) -> Vec<LossWindow> {
    let mut windows = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        if fates[i] != Fate::Lost {
            i += 1;
            continue;
        }
        let first = i;
        while i < sorted.len() && fates[i] == Fate::Lost {
            i += 1;
        }
        let last = i - 1;
        // By maximality the neighbours, when present, were answered.
        let before = first.checked_sub(1).and_then(|b| reply_at(sorted[b]));
        let after = sorted.get(i).and_then(|a| reply_at(a));
        windows.push(LossWindow {
            first_seq: sorted[first].seq,
            last_seq: sorted[last].seq,
            lost: (last - first + 1) as u64,
            start_ms: sorted[first].sent_ms,
            end_ms: sorted[last].sent_ms,
            gap_ms: before.zip(after).map(|(b, a)| a - b),
        });
    }
    windows
}

fn drift(sorted: &[&PingSample], plan: &ProbePlan) -> DriftStats {
    let mut lags: Vec<f64> = sorted
        .iter()
        .map(|s| {
            let k = s.seq.saturating_sub(plan.first_seq) as f64;
            // Send times are rounded to the microsecond: never report that rounding as drift.
            (s.sent_ms - (plan.first_send_ms + k * plan.interval_ms)).max(0.0)
        })
        .collect();
    if lags.is_empty() {
        return DriftStats::default();
    }
    lags.sort_by(f64::total_cmp);
    let rank = ((lags.len() as f64) * 0.99).ceil() as usize;
    DriftStats {
        max_ms: lags[lags.len() - 1],
        p99_ms: lags[rank.clamp(1, lags.len()) - 1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: ProbePlan = ProbePlan {
        first_seq: 1,
        first_send_ms: 100.0,
        interval_ms: 10.0,
        late_ms: 50.0,
        timeout_ms: 200.0,
    };

    /// Probes 1..=n on schedule, each with the given RTT.
    fn run(rtts: &[Option<f64>]) -> Vec<PingSample> {
        rtts.iter()
            .enumerate()
            .map(|(i, &rtt_ms)| PingSample {
                seq: i as u64 + 1,
                target: "db01".into(),
                sent_ms: 100.0 + 10.0 * i as f64,
                rtt_ms,
            })
            .collect()
    }

    #[test]
    fn classify_separates_answered_late_and_lost_at_the_thresholds() {
        assert_eq!(classify(Some(0.05), 50.0, 200.0), Fate::Answered);
        assert_eq!(classify(Some(50.0), 50.0, 200.0), Fate::Answered);
        assert_eq!(classify(Some(50.1), 50.0, 200.0), Fate::Late);
        assert_eq!(classify(Some(200.0), 50.0, 200.0), Fate::Late);
        assert_eq!(classify(Some(200.1), 50.0, 200.0), Fate::Lost);
        assert_eq!(classify(None, 50.0, 200.0), Fate::Lost);
    }

    #[test]
    fn a_loss_window_in_the_middle_has_its_gap_from_reply_to_reply() {
        let s = run(&[
            Some(1.0),
            Some(1.0),
            None,
            None,
            None,
            Some(80.0), // late: queued during the outage
            Some(1.0),
        ]);
        let sum = summarize(&s, &PLAN);
        assert_eq!((sum.sent, sum.answered, sum.lost, sum.late), (7, 4, 3, 1));
        assert_eq!(sum.max_rtt_ms, Some(80.0));
        assert_eq!(sum.loss_windows.len(), 1);
        let w = &sum.loss_windows[0];
        assert_eq!((w.first_seq, w.last_seq, w.lost), (3, 5, 3));
        assert_eq!((w.start_ms, w.end_ms), (120.0, 140.0));
        // Last reply before: seq 2 sent at 110 + 1 = 111; first after: seq 6 at 150 + 80 = 230.
        assert_eq!(w.gap_ms, Some(119.0));
        assert_eq!(sum.longest_window(), Some(w));
    }

    #[test]
    fn windows_at_the_start_and_the_end_have_no_gap() {
        let s = run(&[None, None, Some(1.0), None, Some(1.0), None, None]);
        let sum = summarize(&s, &PLAN);
        let seqs: Vec<_> = sum
            .loss_windows
            .iter()
            .map(|w| (w.first_seq, w.last_seq, w.gap_ms))
            .collect();
        assert_eq!(
            seqs,
            vec![(1, 2, None), (4, 4, Some(20.0)), (6, 7, None)],
            "start, middle and end windows"
        );
        assert_eq!(sum.lost, 5);
    }

    #[test]
    fn all_lost_is_one_window_and_none_lost_is_none() {
        let sum = summarize(&run(&[None, None, None]), &PLAN);
        assert_eq!(sum.loss_windows.len(), 1);
        assert_eq!(sum.loss_windows[0].lost, 3);
        assert_eq!(sum.max_rtt_ms, None);
        let sum = summarize(&run(&[Some(0.1); 5]), &PLAN);
        assert!(sum.loss_windows.is_empty());
        assert_eq!((sum.answered, sum.lost, sum.late), (5, 0, 0));
    }

    #[test]
    fn a_reply_after_the_timeout_is_lost_and_breaks_no_window() {
        let s = run(&[Some(1.0), Some(250.0), None, Some(1.0)]);
        let sum = summarize(&s, &PLAN);
        assert_eq!((sum.answered, sum.lost, sum.late), (2, 2, 0));
        assert_eq!(sum.loss_windows.len(), 1);
        assert_eq!(sum.loss_windows[0].first_seq, 2);
        assert_eq!(sum.loss_windows[0].last_seq, 3);
    }

    #[test]
    fn samples_are_analysed_in_seq_order_whatever_order_they_come_in() {
        let mut s = run(&[Some(1.0), None, None, Some(1.0)]);
        s.reverse();
        let sum = summarize(&s, &PLAN);
        assert_eq!(sum.loss_windows[0].first_seq, 2);
        assert_eq!(sum.loss_windows[0].gap_ms, Some(30.0));
    }

    #[test]
    fn drift_is_max_and_p99_of_actual_minus_scheduled() {
        let mut s = run(&[Some(1.0); 200]);
        // On schedule except seq 50 (+3 ms), seq 51 (+7 ms) and seq 120 (+2 ms).
        s[49].sent_ms += 3.0;
        s[50].sent_ms += 7.0;
        s[119].sent_ms += 2.0;
        // Sub-microsecond rounding below the schedule is not negative drift.
        s[0].sent_ms -= 0.0004;
        let d = summarize(&s, &PLAN).drift;
        assert_eq!(d.max_ms, 7.0);
        // 200 samples: the 99th percentile is the 198th smallest, i.e. the third largest.
        assert_eq!(d.p99_ms, 2.0);
        assert_eq!(summarize(&[], &PLAN).drift, DriftStats::default());
    }
}
