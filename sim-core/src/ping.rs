//! The lab client's ping: one ICMP echo every `interval_ms` to a VM, with a little jitter on the
//! round trip. A probe is lost if it reaches the guest while its network is out: from the pause to
//! the resume on the destination plus the time the switch needs to learn the new port (announce).

use crate::rng::FastRng;
use crate::scenario::ProberSpec;
use crate::time::{SimDuration, SimTime};
use crate::trace::PingSample;

/// Decides the fate of each probe once the guest's state at its arrival is known.
#[derive(Debug, Clone)]
pub struct ProbeTracker {
    target: String,
    interval: SimDuration,
    one_way: SimDuration,
    rtt_ms: f64,
    jitter_ms: f64,
    next_seq: u64,
    /// When the first probe is sent.
    start: SimTime,
    rng: FastRng,
}

impl ProbeTracker {
    /// A prober pinging `target`.
    pub fn new(spec: &ProberSpec, target: String, rng: FastRng) -> Self {
        ProbeTracker {
            target,
            interval: SimDuration::from_ms_f64(spec.interval_ms).max(SimDuration(1)),
            one_way: SimDuration::from_ms_f64(spec.rtt_ms / 2.0),
            rtt_ms: spec.rtt_ms,
            jitter_ms: spec.jitter_ms,
            next_seq: 0,
            start: SimTime::ZERO,
            rng,
        }
    }

    /// The same prober, sending its first probe at `t` instead of at time zero.
    pub fn starting_at(mut self, t: SimTime) -> Self {
        self.start = t;
        self
    }

    /// The VM being pinged.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// When the next probe is sent.
    pub fn next_send(&self) -> SimTime {
        self.start + SimDuration(self.interval.0.saturating_mul(self.next_seq))
    }

    /// Resolve every probe that has reached the guest by `now` and was sent before `stop`.
    /// `outages` are the guest's unreachable periods `[start, end)`, an open end meaning "still".
    pub fn poll(
        &mut self,
        now: SimTime,
        stop: SimTime,
        outages: &[(SimTime, Option<SimTime>)],
    ) -> Vec<PingSample> {
        let mut out = Vec::new();
        loop {
            let sent = self.next_send();
            let arrival = sent + self.one_way;
            if arrival > now || sent >= stop {
                break;
            }
            let lost = outages
                .iter()
                .any(|&(a, b)| arrival >= a && b.is_none_or(|b| arrival < b));
            let rtt_ms = if lost {
                None
            } else {
                let ms = self.rtt_ms + self.jitter_ms * self.rng.unit();
                Some((ms * 1000.0).round() / 1000.0)
            };
            out.push(PingSample {
                seq: self.next_seq + 1,
                target: self.target.clone(),
                sent_ms: sent.as_ms_f64(),
                rtt_ms,
            });
            self.next_seq += 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_inside_an_outage_are_lost_and_the_rest_answered() {
        let spec = ProberSpec {
            interval_ms: 10.0,
            rtt_ms: 0.4,
            jitter_ms: 0.0,
            ..ProberSpec::default()
        };
        let mut p = ProbeTracker::new(&spec, "db01".into(), FastRng::new(1));
        let out_start = SimTime::ZERO + SimDuration::from_millis(100);
        let out_end = SimTime::ZERO + SimDuration::from_millis(150);
        let samples = p.poll(
            SimTime::ZERO + SimDuration::from_millis(300),
            SimTime(u64::MAX),
            &[(out_start, Some(out_end))],
        );
        let lost: Vec<u64> = samples
            .iter()
            .filter(|s| s.rtt_ms.is_none())
            .map(|s| s.seq)
            .collect();
        // Probes sent at 100..140 ms arrive 0.2 ms later, inside [100, 150).
        assert_eq!(lost, vec![11, 12, 13, 14, 15]);
        assert!(
            samples
                .iter()
                .filter(|s| s.rtt_ms.is_some())
                .all(|s| s.rtt_ms == Some(0.4))
        );
    }

    #[test]
    fn an_open_outage_holds_nothing_back_but_loses_what_arrives_in_it() {
        let spec = ProberSpec {
            interval_ms: 10.0,
            ..ProberSpec::default()
        };
        let mut p = ProbeTracker::new(&spec, "db01".into(), FastRng::new(1));
        let s = p.poll(
            SimTime::ZERO + SimDuration::from_millis(50),
            SimTime(u64::MAX),
            &[(SimTime::ZERO + SimDuration::from_millis(25), None)],
        );
        assert_eq!(s.len(), 5);
        assert_eq!(s.iter().filter(|x| x.rtt_ms.is_none()).count(), 2);
    }
}
