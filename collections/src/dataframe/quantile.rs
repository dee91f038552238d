//! Quantiles across partitions from weighted summaries (what `describe`'s
//! percentiles and `Agg::median`/`Agg::quantile` compute).
//!
//! Each partition sorts its values (per group). A partition (group) with at
//! most [`SUMMARY_SIZE`] values keeps them all, each of weight 1; a larger
//! one is cut by rank into `SUMMARY_SIZE` blocks of consecutive values of
//! near-equal size, and keeps each block's middle value with the block's
//! size as weight. The root merges every partition's points (no further
//! compression in the tree) and reads order statistics off the weighted,
//! sorted points; the quantile is pandas' (NumPy's "linear") interpolation
//! between the two order statistics around rank `q·(n−1)`.
//!
//! Error bound: counting a block's values as its middle value moves any
//! value's rank by at most half a block, so each order statistic used is
//! the true one at a rank off by at most `Σₚ ⌊⌈nₚ/K⌉/2⌋` over partitions
//! `p` with `nₚ > K` values (K = `SUMMARY_SIZE`): at most about `n/(2K)`,
//! that is 0.012% of the rows, plus half a row per partition. When no
//! partition (group within a partition) has more than K values, nothing is
//! compressed and the result is exact.
//!
//! Order is Arrow's total order for floats (NaN above +∞), so NaN values
//! count as the largest values and a quantile that interpolates with one
//! is NaN.

/// The largest number of points a partition keeps per group; see the
/// module docs for the error this gives.
pub(crate) const SUMMARY_SIZE: usize = 4096;

/// Appends the summary of `sorted` (ascending in total order) to
/// `values`/`weights`: the values themselves when there are at most
/// [`SUMMARY_SIZE`], else the middle of each of `SUMMARY_SIZE` rank blocks
/// weighted by the block's size.
pub(crate) fn summarize(sorted: &[f64], values: &mut Vec<f64>, weights: &mut Vec<u64>) {
    let n = sorted.len();
    if n <= SUMMARY_SIZE {
        values.extend_from_slice(sorted);
        weights.extend(std::iter::repeat_n(1, n));
        return;
    }
    let k = SUMMARY_SIZE;
    for j in 0..k {
        // Blocks [j·n/k, (j+1)·n/k): sizes differ by at most one.
        let (start, end) = (j * n / k, (j + 1) * n / k);
        values.push(sorted[(start + end - 1) / 2]);
        weights.push((end - start) as u64);
    }
}

/// The quantiles `qs` (each in `[0, 1]`) of weighted points sorted by
/// value, by linear interpolation between order statistics of the
/// expanded data (a point of weight `w` standing for `w` equal values).
/// `None` when there are no points.
pub(crate) fn quantiles(points: &[(f64, u64)], qs: &[f64], out: &mut Vec<Option<f64>>) {
    let total: u64 = points.iter().map(|p| p.1).sum();
    if total == 0 {
        out.extend(std::iter::repeat_n(None, qs.len()));
        return;
    }
    // The value at 0-based rank `k` of the expanded data: the first point
    // whose cumulative weight passes `k`.
    let mut cumulative = Vec::with_capacity(points.len());
    let mut acc = 0u64;
    for p in points {
        acc += p.1;
        cumulative.push(acc);
    }
    let at = |k: u64| {
        let i = cumulative.partition_point(|&c| c <= k);
        points[i.min(points.len() - 1)].0
    };
    for &q in qs {
        let h = q * (total - 1) as f64;
        let lo = h.floor();
        let t = h - lo;
        let lo = lo as u64;
        let a = at(lo);
        if t == 0.0 {
            out.push(Some(a));
            continue;
        }
        let b = at((lo + 1).min(total - 1));
        out.push(Some(lerp(a, b, t)));
    }
}

/// NumPy's `_lerp`: exact at both ends, and `a` itself when `a == b`
/// (so infinities do not turn into NaN).
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    if a == b {
        return a;
    }
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(sorted: &[f64], q: f64) -> f64 {
        let h = q * (sorted.len() - 1) as f64;
        let lo = h.floor() as usize;
        let hi = (lo + 1).min(sorted.len() - 1);
        lerp(sorted[lo], sorted[hi], h - h.floor())
    }

    #[test]
    fn small_inputs_are_exact() {
        let xs: Vec<f64> = (0..100).map(|i| (i * 7 % 100) as f64).collect();
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        let (mut v, mut w) = (Vec::new(), Vec::new());
        summarize(&sorted[..50], &mut v, &mut w);
        summarize(&sorted[50..], &mut v, &mut w);
        let mut pts: Vec<(f64, u64)> = v.into_iter().zip(w).collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut out = Vec::new();
        quantiles(&pts, &[0.0, 0.25, 0.5, 0.9, 1.0], &mut out);
        for (q, got) in [0.0, 0.25, 0.5, 0.9, 1.0].iter().zip(out) {
            assert_eq!(got, Some(exact(&sorted, *q)));
        }
    }

    #[test]
    fn large_inputs_are_within_the_bound() {
        let n = 100_003usize;
        let sorted: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let (mut v, mut w) = (Vec::new(), Vec::new());
        summarize(&sorted, &mut v, &mut w);
        assert_eq!(v.len(), SUMMARY_SIZE);
        assert_eq!(w.iter().sum::<u64>(), n as u64);
        let pts: Vec<(f64, u64)> = v.into_iter().zip(w).collect();
        let mut out = Vec::new();
        quantiles(&pts, &[0.25, 0.5, 0.75], &mut out);
        let bound = (n.div_ceil(SUMMARY_SIZE) / 2) as f64;
        for (q, got) in [0.25, 0.5, 0.75].iter().zip(out) {
            let got = got.unwrap_or(f64::NAN);
            assert!(
                (got - exact(&sorted, *q)).abs() <= bound + 1.0,
                "{q}: {got}"
            );
        }
    }
}
