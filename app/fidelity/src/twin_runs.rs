//! How many runs the twin needs, decided by the simulator alone: the rule planned in the
//! fidelity notebook ("How many twin runs, chosen without the real runs", session 16) before
//! any number with it.
//!
//! The twin's answer for a case is the median pass count of its runs. With the pass counts of
//! a case's runs as its distribution `F`, the median of N fresh runs is count `c` with the
//! probability the binomial distribution gives; the case is *unsettled* by one minus the
//! probability of its most likely median. E(N), summed over the cases, is how many cases a
//! fresh set of seeds would be expected to answer differently. Cases whose runs split evenly
//! stay unsettled however many runs there are, so E stops falling rather than reaching zero:
//! the twin's number of runs is the smallest candidate whose doubling lowers E by less than
//! half a case.

/// The candidates, each about double the one before; the last only serves as the doubling of
/// the one before it.
pub const CANDIDATES: [u64; 7] = [51, 101, 201, 401, 801, 1601, 3201];

/// A doubling that lowers E by less than this many cases is not worth its cost.
pub const WORTH_A_DOUBLING: f64 = 0.5;

/// E(n): the expected number of cases whose median pass count over `n` fresh runs (odd) is not
/// their most likely one, each case's distribution being the pass counts of its runs in
/// `samples`. Cases without runs count nothing.
pub fn expected_unsettled(samples: &[Vec<u64>], n: u64) -> f64 {
    let ln_factorial = ln_factorials(n);
    samples
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| 1.0 - most_likely_median_probability(s, n, &ln_factorial))
        .sum()
}

/// E at every candidate, in order.
pub fn stability(samples: &[Vec<u64>]) -> Vec<(u64, f64)> {
    CANDIDATES
        .iter()
        .map(|&n| (n, expected_unsettled(samples, n)))
        .collect()
}

/// The rule's number of runs for `stability` (as [`stability`] gives it): the first candidate
/// whose doubling lowers E by less than [`WORTH_A_DOUBLING`]; the last but one when every
/// doubling is still worth it.
pub fn chosen(stability: &[(u64, f64)]) -> Option<u64> {
    stability
        .windows(2)
        .find(|w| w[0].1 - w[1].1 < WORTH_A_DOUBLING)
        .or_else(|| stability.windows(2).last())
        .map(|w| w[0].0)
}

/// The probability that the median of `n` draws from the empirical distribution of `sample`
/// is the count it most likely is.
fn most_likely_median_probability(sample: &[u64], n: u64, ln_factorial: &[f64]) -> f64 {
    let mut counts: Vec<u64> = sample.to_vec();
    counts.sort_unstable();
    counts.dedup();
    let total = sample.len() as f64;
    // The median of n (odd) draws is at most c when at least (n + 1) / 2 of them are.
    let half = n.div_ceil(2);
    let mut below = 0.0; // P(median < c)
    let mut best: f64 = 0.0;
    for c in counts {
        let at_most_c = sample.iter().filter(|&&x| x <= c).count() as f64 / total;
        let p_at_most = binomial_tail(n, half, at_most_c, ln_factorial);
        best = best.max(p_at_most - below);
        below = p_at_most;
    }
    best
}

/// P(X ≥ k) for X ~ Binomial(n, p).
fn binomial_tail(n: u64, k: u64, p: f64, ln_factorial: &[f64]) -> f64 {
    if p <= 0.0 {
        return if k == 0 { 1.0 } else { 0.0 };
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    let at = |i: usize| ln_factorial.get(i).copied().unwrap_or(f64::INFINITY);
    (k..=n)
        .map(|j| {
            let (j, m) = (j as usize, (n - j) as usize);
            (at(n as usize) - at(j) - at(m) + j as f64 * lp + m as f64 * lq).exp()
        })
        .sum::<f64>()
        .min(1.0)
}

/// ln(k!) for k = 0..=n.
fn ln_factorials(n: u64) -> Vec<f64> {
    let mut v = Vec::with_capacity(n as usize + 1);
    let mut acc = 0.0;
    v.push(acc);
    for k in 1..=n {
        acc += (k as f64).ln();
        v.push(acc);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_whose_runs_agree_is_settled_at_any_count() {
        let samples = vec![vec![7; 201]];
        for n in CANDIDATES {
            assert!(expected_unsettled(&samples, n) < 1e-12);
        }
    }

    #[test]
    fn an_even_split_stays_a_coin_toss() {
        // Half the runs took 11 passes, half 12: the median of fresh runs is either, evenly.
        let split: Vec<u64> = (0..200).map(|i| 11 + i % 2).collect();
        for n in [51, 801, 3201] {
            let e = expected_unsettled(std::slice::from_ref(&split), n);
            assert!((e - 0.5).abs() < 0.01, "{n}: {e}");
        }
    }

    #[test]
    fn a_lopsided_split_settles_as_the_runs_grow() {
        // 55 % of the runs at 11 passes: few runs often give 12, many almost never.
        let runs: Vec<u64> = (0..200).map(|i| if i < 110 { 11 } else { 12 }).collect();
        let s = stability(std::slice::from_ref(&runs));
        assert!(s.windows(2).all(|w| w[1].1 < w[0].1), "{s:?}");
        assert!(s[0].1 > 0.2 && s[6].1 < 0.01, "{s:?}");
    }

    #[test]
    fn the_rule_takes_the_first_count_whose_doubling_is_not_worth_it() {
        let e = |v: [f64; 7]| -> Vec<(u64, f64)> { CANDIDATES.iter().copied().zip(v).collect() };
        // 51 → 101 saves 1.2 cases, 101 → 201 0.6, 201 → 401 0.3: 201.
        assert_eq!(chosen(&e([4.0, 2.8, 2.2, 1.9, 1.8, 1.75, 1.7])), Some(201));
        assert_eq!(chosen(&e([1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])), Some(51));
        assert_eq!(chosen(&e([9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0])), Some(1601));
    }
}
