//! The prober's bookkeeping as a state machine with time passed in (ms on the trace's timeline):
//! probes go in as they are sent, replies as they arrive, and resolved [`PingSample`]s come out
//! in sequence order once each probe is answered or has timed out.

use std::collections::VecDeque;

use migralab_sim_core::trace::PingSample;

/// Extra time, beyond a probe's timeout, before it is declared lost: a reply that reached the
/// socket just in time may still be on its way through the receive thread. The verdict itself
/// is by round-trip time, so this only delays the output, it never changes it.
pub(crate) const SETTLE_MS: f64 = 5.0;

/// A probe not yet handed out.
#[derive(Debug, Clone, Copy)]
struct Pending {
    seq: u64,
    sent_ms: f64,
    rtt_ms: Option<f64>,
}

/// What a reply turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplyFate {
    /// The first reply to a probe in time.
    Matched,
    /// The probe had already timed out: it stays lost.
    AfterTimeout,
    /// A second reply to the same probe, ignored.
    Duplicate,
    /// A sequence number this prober never sent, ignored.
    Unknown,
}

/// Outstanding probes and the samples they become.
#[derive(Debug)]
pub(crate) struct ProbeBook {
    target: String,
    timeout_ms: f64,
    next_seq: u64,
    pending: VecDeque<Pending>,
    replies_after_timeout: u64,
}

/// Round to the microsecond: finer digits are noise for a user-space clock.
fn round_us(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

impl ProbeBook {
    /// A book for probes to `target` (the name written into each sample).
    pub(crate) fn new(target: String, timeout_ms: f64) -> Self {
        ProbeBook {
            target,
            timeout_ms,
            next_seq: 1,
            pending: VecDeque::new(),
            replies_after_timeout: 0,
        }
    }

    /// The sequence number the next probe will carry.
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// A probe was sent at `sent_ms`; returns its sequence number.
    pub(crate) fn on_sent(&mut self, sent_ms: f64) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push_back(Pending {
            seq,
            sent_ms,
            rtt_ms: None,
        });
        seq
    }

    /// A reply to `seq` arrived at `at_ms`.
    pub(crate) fn on_reply(&mut self, seq: u64, at_ms: f64) -> ReplyFate {
        if seq == 0 || seq >= self.next_seq {
            return ReplyFate::Unknown;
        }
        let Some(front) = self.pending.front() else {
            self.replies_after_timeout += 1;
            return ReplyFate::AfterTimeout;
        };
        let Some(index) = seq.checked_sub(front.seq) else {
            // Already handed out as lost.
            self.replies_after_timeout += 1;
            return ReplyFate::AfterTimeout;
        };
        let Some(p) = usize::try_from(index)
            .ok()
            .and_then(|i| self.pending.get_mut(i))
        else {
            return ReplyFate::Unknown;
        };
        if p.rtt_ms.is_some() {
            return ReplyFate::Duplicate;
        }
        let rtt = (at_ms - p.sent_ms).max(0.0);
        if rtt > self.timeout_ms {
            self.replies_after_timeout += 1;
            return ReplyFate::AfterTimeout;
        }
        p.rtt_ms = Some(round_us(rtt));
        ReplyFate::Matched
    }

    /// The next sample in sequence order that is resolved at `now_ms`, if any.
    pub(crate) fn poll_sample(&mut self, now_ms: f64) -> Option<PingSample> {
        let front = self.pending.front()?;
        let resolved =
            front.rtt_ms.is_some() || now_ms >= front.sent_ms + self.timeout_ms + SETTLE_MS;
        if !resolved {
            return None;
        }
        let p = self.pending.pop_front()?;
        Some(PingSample {
            seq: p.seq,
            target: self.target.clone(),
            sent_ms: round_us(p.sent_ms),
            rtt_ms: p.rtt_ms,
        })
    }

    /// When the oldest unanswered probe will be declared lost, if one is waiting.
    pub(crate) fn next_deadline_ms(&self) -> Option<f64> {
        self.pending
            .front()
            .map(|p| p.sent_ms + self.timeout_ms + SETTLE_MS)
    }

    /// No probe is waiting for its verdict.
    pub(crate) fn is_settled(&self) -> bool {
        self.pending.is_empty()
    }

    /// Replies that came after their probe's timeout.
    pub(crate) fn replies_after_timeout(&self) -> u64 {
        self.replies_after_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(book: &mut ProbeBook, now: f64) -> Vec<(u64, Option<f64>)> {
        std::iter::from_fn(|| book.poll_sample(now))
            .map(|s| (s.seq, s.rtt_ms))
            .collect()
    }

    #[test]
    fn samples_come_out_in_seq_order_even_when_replies_do_not() {
        let mut b = ProbeBook::new("db01".into(), 100.0);
        for t in [0.0, 10.0, 20.0] {
            b.on_sent(t);
        }
        assert_eq!(b.on_reply(3, 21.0), ReplyFate::Matched);
        assert_eq!(b.on_reply(2, 12.5), ReplyFate::Matched);
        // seq 1 still open: nothing may come out yet.
        assert_eq!(drain(&mut b, 30.0), vec![]);
        assert_eq!(b.next_deadline_ms(), Some(100.0 + SETTLE_MS));
        assert_eq!(b.on_reply(1, 40.0), ReplyFate::Matched);
        assert_eq!(
            drain(&mut b, 40.0),
            vec![(1, Some(40.0)), (2, Some(2.5)), (3, Some(1.0))]
        );
        assert!(b.is_settled());
    }

    #[test]
    fn a_probe_is_lost_at_its_timeout_and_a_later_reply_does_not_revive_it() {
        let mut b = ProbeBook::new("db01".into(), 100.0);
        b.on_sent(0.0);
        b.on_sent(10.0);
        assert_eq!(drain(&mut b, 100.0), vec![], "not before timeout + settle");
        // The reply to seq 1 arrives 120 ms after it was sent, but before the poll: still lost.
        assert_eq!(b.on_reply(1, 120.0), ReplyFate::AfterTimeout);
        assert_eq!(drain(&mut b, 106.0), vec![(1, None)]);
        assert_eq!(b.on_reply(1, 130.0), ReplyFate::AfterTimeout);
        assert_eq!(b.on_reply(2, 15.0), ReplyFate::Matched);
        assert_eq!(b.on_reply(2, 16.0), ReplyFate::Duplicate);
        assert_eq!(b.on_reply(9, 16.0), ReplyFate::Unknown);
        assert_eq!(drain(&mut b, 106.0), vec![(2, Some(5.0))]);
        assert_eq!(b.replies_after_timeout(), 2);
        assert_eq!(b.next_seq(), 3);
    }
}
