//! Seeded randomness. One `ChaCha8Rng` per run, seeded from the scenario, hands out the seeds of
//! small per-VM and per-prober generators. ChaCha8 is specified bit for bit by `rand_chacha`, so a
//! seed means the same run on every machine and release; the hot loops then use SplitMix64
//! (a fixed, published algorithm, implemented here) because a guest writing 1 GiB/s needs
//! hundreds of thousands of page numbers per simulated second.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng as _, SeedableRng as _};

/// Hands out independent seeds, in a fixed order, from the scenario seed.
#[derive(Debug, Clone)]
pub struct SeedTree {
    master: ChaCha8Rng,
}

impl SeedTree {
    /// A seed tree for a run.
    pub fn new(seed: u64) -> Self {
        SeedTree {
            master: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The next derived generator. Derive in a fixed order (VMs in scenario order, then the prober).
    pub fn derive(&mut self) -> FastRng {
        FastRng::new(self.master.next_u64())
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): tiny, fast, statistically sound for simulation.
#[derive(Debug, Clone)]
pub struct FastRng {
    state: u64,
}

impl FastRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        FastRng { state: seed }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (Lemire's multiply-shift; the bias is below 2^-32 for any lab size).
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `[0, 1)`.
    #[inline]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_different_seed_different_stream() {
        let a: Vec<u64> = {
            let mut t = SeedTree::new(7);
            let mut r = t.derive();
            (0..4).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut t = SeedTree::new(7);
            let mut r = t.derive();
            (0..4).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut t = SeedTree::new(8);
            let mut r = t.derive();
            (0..4).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = FastRng::new(1);
        let mut seen = [false; 10];
        for _ in 0..1000 {
            let v = r.below(10);
            assert!(v < 10);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }
}
