//! Helpers shared by the DataFrame tests.
#![allow(dead_code)]

use dagwood_collections::dataframe::arrow_array::RecordBatch;
use dagwood_collections::dataframe::DataFrame;

/// `whole` cut into a frame at the row offsets `cuts` (sorted, at most the
/// number of rows; equal cuts make empty partitions): `cuts.len() + 1`
/// partitions.
pub fn cut_at(whole: &RecordBatch, cuts: &[usize]) -> DataFrame {
    let n = whole.num_rows();
    let mut parts = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for c in cuts.iter().copied().chain([n]) {
        let c = c.clamp(start, n);
        parts.push(whole.slice(start, c - start));
        start = c;
    }
    DataFrame::from_batches(parts, Some(whole.schema())).expect("same schemas")
}

/// `whole` cut at fractions of its length (in any order).
pub fn cut_at_fractions(whole: &RecordBatch, cuts: &[f64]) -> DataFrame {
    let n = whole.num_rows();
    let mut points: Vec<usize> = cuts.iter().map(|f| (f * n as f64) as usize).collect();
    points.sort_unstable();
    cut_at(whole, &points)
}
