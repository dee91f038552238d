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

use std::sync::Arc;

use arrow_array::types::{Float64Type, UInt64Type};
use arrow_array::{ArrayRef, FixedSizeListArray, Float64Array, ListArray, UInt64Array};
use arrow_schema::{ArrowError, DataType, Field};

use super::{
    as_primitive, check_len, downcast, flatten_lists, for_each_valid, missing_values, offsets_of,
    Accumulator,
};

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
pub(super) fn lerp(a: f64, b: f64, t: f64) -> f64 {
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

/// Quantiles from weighted summaries; see [`quantile`](super::quantile).
/// Rows fed to this accumulator (one partition's) are summarised when its
/// state is taken; summaries merged into it are kept as they are.
pub(super) struct QuantileAcc {
    qs: Arc<[f64]>,
    /// Several quantiles answer as a fixed-size list per group.
    list: bool,
    /// (group, value) of the rows fed.
    raw: Vec<(u32, f64)>,
    /// (group, value, weight) of merged summaries.
    points: Vec<(u32, f64, u64)>,
}

impl QuantileAcc {
    pub(super) fn new(qs: Arc<[f64]>, list: bool) -> QuantileAcc {
        QuantileAcc {
            qs,
            list,
            raw: Vec::new(),
            points: Vec::new(),
        }
    }

    /// The rows fed so far, summarised group by group into `points`.
    fn summarize_raw(&mut self) {
        let mut raw = std::mem::take(&mut self.raw);
        raw.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let (mut values, mut weights) = (Vec::new(), Vec::new());
        for run in raw.chunk_by(|a, b| a.0 == b.0) {
            let sorted: Vec<f64> = run.iter().map(|p| p.1).collect();
            values.clear();
            weights.clear();
            summarize(&sorted, &mut values, &mut weights);
            let g = run[0].0;
            self.points
                .extend(values.iter().zip(&weights).map(|(&v, &w)| (g, v, w)));
        }
    }

    /// The points sorted by group then value, and where each group's run
    /// starts (`ngroups + 1` bounds).
    fn sorted_points(&mut self, ngroups: usize) -> (Vec<(u32, f64, u64)>, Vec<usize>) {
        let mut points = std::mem::take(&mut self.points);
        points.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut bounds = Vec::with_capacity(ngroups + 1);
        let mut i = 0;
        for g in 0..ngroups {
            bounds.push(i);
            while i < points.len() && points[i].0 as usize == g {
                i += 1;
            }
        }
        bounds.push(i);
        (points, bounds)
    }
}

impl Accumulator for QuantileAcc {
    fn output_type(&self) -> DataType {
        if self.list {
            DataType::FixedSizeList(
                Arc::new(Field::new_list_field(DataType::Float64, true)),
                self.qs.len() as i32,
            )
        } else {
            DataType::Float64
        }
    }

    fn state_types(&self) -> Vec<DataType> {
        vec![
            DataType::new_list(DataType::Float64, true),
            DataType::new_list(DataType::UInt64, true),
        ]
    }

    fn update(
        &mut self,
        values: Option<&ArrayRef>,
        groups: &[u32],
        _ngroups: usize,
    ) -> Result<(), ArrowError> {
        let Some(values) = values else {
            return Err(missing_values("quantile"));
        };
        let values = as_primitive::<Float64Type>(values)?;
        let values = downcast::<Float64Type>(&values)?;
        check_len(values.len(), groups)?;
        let raw = &mut self.raw;
        for_each_valid(values, groups, |g, v| raw.push((g as u32, v)));
        Ok(())
    }

    fn merge(
        &mut self,
        states: &[ArrayRef],
        groups: &[u32],
        _ngroups: usize,
    ) -> Result<(), ArrowError> {
        let (values, value_groups) = flatten_lists(&states[0], groups)?;
        let (weights, _) = flatten_lists(&states[1], groups)?;
        let values = downcast::<Float64Type>(&values)?;
        let weights = downcast::<UInt64Type>(&weights)?;
        check_len(values.len(), &value_groups)?;
        check_len(weights.len(), &value_groups)?;
        self.points.extend(
            value_groups
                .iter()
                .zip(values.values())
                .zip(weights.values())
                .map(|((&g, &v), &w)| (g, v, w)),
        );
        Ok(())
    }

    fn state(&mut self, ngroups: usize) -> Result<Vec<ArrayRef>, ArrowError> {
        self.summarize_raw();
        let (points, bounds) = self.sorted_points(ngroups);
        let offsets = offsets_of(bounds.windows(2).map(|w| w[1] - w[0]));
        let values = Float64Array::from_iter_values(points.iter().map(|p| p.1));
        let weights = UInt64Array::from_iter_values(points.iter().map(|p| p.2));
        let vf = Arc::new(Field::new_list_field(DataType::Float64, true));
        let wf = Arc::new(Field::new_list_field(DataType::UInt64, true));
        Ok(vec![
            Arc::new(ListArray::try_new(
                vf,
                offsets.clone(),
                Arc::new(values),
                None,
            )?),
            Arc::new(ListArray::try_new(wf, offsets, Arc::new(weights), None)?),
        ])
    }

    fn finish(&mut self, ngroups: usize) -> Result<ArrayRef, ArrowError> {
        // Rows fed straight to the root (a frame of one partition) are a
        // summary of weight 1 each: exact.
        let raw = std::mem::take(&mut self.raw);
        self.points.extend(raw.into_iter().map(|(g, v)| (g, v, 1)));
        let (points, bounds) = self.sorted_points(ngroups);
        let mut answers: Vec<Option<f64>> = Vec::with_capacity(ngroups * self.qs.len());
        let mut weighted: Vec<(f64, u64)> = Vec::new();
        for w in bounds.windows(2) {
            weighted.clear();
            weighted.extend(points[w[0]..w[1]].iter().map(|p| (p.1, p.2)));
            quantiles(&weighted, &self.qs, &mut answers);
        }
        let values = Float64Array::from(answers);
        if !self.list {
            return Ok(Arc::new(values));
        }
        let field = Arc::new(Field::new_list_field(DataType::Float64, true));
        let list =
            FixedSizeListArray::try_new(field, self.qs.len() as i32, Arc::new(values), None)?;
        Ok(Arc::new(list))
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
