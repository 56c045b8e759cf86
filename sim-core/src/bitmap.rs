//! A fixed-size bitmap with a running count of set bits, as QEMU keeps its dirty bitmaps.

/// A bitmap of `len` bits, counting how many are set.
#[derive(Debug, Clone)]
pub struct Bitmap {
    words: Vec<u64>,
    len: u64,
    ones: u64,
}

impl Bitmap {
    /// `len` bits, all clear.
    pub fn zeros(len: u64) -> Self {
        Bitmap {
            words: vec![0; len.div_ceil(64) as usize],
            len,
            ones: 0,
        }
    }

    /// `len` bits, all set.
    pub fn ones(len: u64) -> Self {
        let mut words = vec![u64::MAX; len.div_ceil(64) as usize];
        if let Some(last) = words.last_mut() {
            let tail = len % 64;
            if tail != 0 {
                *last = (1u64 << tail) - 1;
            }
        }
        Bitmap {
            words,
            len,
            ones: len,
        }
    }

    /// Number of bits.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True if there are no bits at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of set bits.
    #[inline]
    pub fn count(&self) -> u64 {
        self.ones
    }

    /// Is bit `i` set? (Out-of-range bits read as clear.)
    #[inline]
    pub fn get(&self, i: u64) -> bool {
        self.words
            .get((i / 64) as usize)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Set bit `i`; returns true if it was clear. Out-of-range bits are ignored.
    #[inline]
    pub fn set(&mut self, i: u64) -> bool {
        if let Some(w) = self.words.get_mut((i / 64) as usize) {
            let m = 1u64 << (i % 64);
            if *w & m == 0 {
                *w |= m;
                self.ones += 1;
                return true;
            }
        }
        false
    }

    /// Clear bit `i`; returns true if it was set.
    #[inline]
    pub fn clear(&mut self, i: u64) -> bool {
        if let Some(w) = self.words.get_mut((i / 64) as usize) {
            let m = 1u64 << (i % 64);
            if *w & m != 0 {
                *w &= !m;
                self.ones -= 1;
                return true;
            }
        }
        false
    }

    /// Set bits `start..end` (used to mark a range, e.g. zero pages at the top of RAM).
    pub fn set_range(&mut self, start: u64, end: u64) {
        let end = end.min(self.len);
        let mut i = start;
        while i < end {
            let w = (i / 64) as usize;
            let lo = i % 64;
            let hi = (end - (i - lo)).min(64);
            let mask = if hi == 64 {
                !0u64 << lo
            } else {
                ((1u64 << hi) - 1) & (!0u64 << lo)
            };
            if let Some(word) = self.words.get_mut(w) {
                self.ones += u64::from((mask & !*word).count_ones());
                *word |= mask;
            }
            i = (i - lo) + 64;
        }
    }

    /// OR `other` into `self` and clear `other`; returns how many bits were newly set in `self`.
    pub fn absorb(&mut self, other: &mut Bitmap) -> u64 {
        let mut added = 0;
        for (a, b) in self.words.iter_mut().zip(other.words.iter_mut()) {
            if *b != 0 {
                added += u64::from((*b & !*a).count_ones());
                *a |= *b;
                *b = 0;
            }
        }
        self.ones += added;
        other.ones = 0;
        added
    }

    /// Raw words (read-only), for fast scans.
    #[inline]
    pub fn words(&self) -> &[u64] {
        &self.words
    }

    /// Clear the bits of `mask` in word `w` (all of which must be set); keeps the count right.
    #[inline]
    pub fn clear_word_bits(&mut self, w: usize, mask: u64) {
        if let Some(word) = self.words.get_mut(w) {
            let m = *word & mask;
            *word &= !m;
            self.ones -= u64::from(m.count_ones());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_sets_and_clears() {
        let mut b = Bitmap::zeros(130);
        assert!(b.set(0) && b.set(129) && !b.set(129));
        assert_eq!(b.count(), 2);
        assert!(b.clear(0) && !b.clear(0));
        assert_eq!(b.count(), 1);
        let mut r = Bitmap::zeros(200);
        r.set_range(3, 150);
        assert_eq!(r.count(), 147);
        assert!(!r.get(2) && r.get(3) && r.get(149) && !r.get(150));
        r.set_range(0, 200);
        assert_eq!(r.count(), 200);
        let ones = Bitmap::ones(130);
        assert_eq!(ones.count(), 130);
        assert!(ones.get(129) && !ones.get(130));
    }

    #[test]
    fn absorb_moves_bits_and_counts_only_new_ones() {
        let mut a = Bitmap::zeros(100);
        let mut b = Bitmap::zeros(100);
        a.set(1);
        b.set(1);
        b.set(70);
        assert_eq!(a.absorb(&mut b), 1);
        assert_eq!(a.count(), 2);
        assert_eq!(b.count(), 0);
        assert!(!b.get(70) && a.get(70));
    }
}
