//! Global sorting: [`DataFrame::sort_values`] and [`DataFrame::set_index`]
//! by quantile-sampled range partitioning; [`DataFrame::nlargest`] and
//! [`DataFrame::nsmallest`] by a tree of per-partition top rows.
//!
//! A sort runs in three stages:
//!
//! 1. **Sample** (a task per partition): the key columns of every row are
//!    encoded as order-preserving arrow-row bytes (direction and null
//!    placement included) and an evenly spaced sample of them is kept,
//!    with the partition's row count.
//! 2. **Boundaries** (one task): the samples, each weighted by the rows it
//!    stands for, give `npartitions - 1` boundary keys at the quantiles.
//! 3. **Range shuffle**: each row goes to the output partition of the
//!    range its key falls in (a binary search among the boundaries), and
//!    each output partition is sorted (a stable sort of the key bytes).
//!
//! The output partitions in order are then a globally sorted frame. Equal
//! keys always go to one partition, so a key that makes up much of the data
//! makes that partition large (correct, but unbalanced); boundaries are
//! only estimates, so partition sizes vary. The input is read twice (once
//! to sample, once to shuffle): persist a frame that is expensive to read.

use std::sync::Arc;

use arrow_array::{RecordBatch, UInt32Array};
use arrow_schema::SortOptions;
use dagwood_runtime::{delayed, ArgSlot, Delayed, TaskBuilder, TaskError};

use super::error::Result;
use super::shuffle::{
    check_rows, exchange, key_error, key_names, valid_keys, Bounds, KeyEncoder, KeyUse, Route,
    ShuffleOptions,
};
use super::{concat, part_key, DataFrame, Flow};

/// An evenly spaced sample of one partition's key rows (public, hidden, for
/// the cluster backend's codec: samples travel to the boundaries task).
#[doc(hidden)]
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Sample {
    rows: Vec<Box<[u8]>>,
    /// Rows in the partition.
    count: u64,
}

/// Keeps every `stride`-th row offered; when the sample reaches twice its
/// target size it drops every other row and doubles the stride, so the
/// sample stays evenly spaced over a partition of unknown length without
/// randomness (the same rows every run).
struct Sampler {
    target: usize,
    stride: u64,
    seen: u64,
    rows: Vec<Box<[u8]>>,
}

impl Sampler {
    fn new(target: usize) -> Sampler {
        Sampler {
            target: target.max(1),
            stride: 1,
            seen: 0,
            rows: Vec::new(),
        }
    }

    fn offer(&mut self, row: &[u8]) {
        if self.seen.is_multiple_of(self.stride) {
            self.rows.push(row.into());
            if self.rows.len() >= 2 * self.target {
                let mut i = 0;
                self.rows.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                self.stride *= 2;
            }
        }
        self.seen += 1;
    }

    fn finish(self) -> Sample {
        Sample {
            rows: self.rows,
            count: self.seen,
        }
    }
}

/// `m - 1` boundary keys at the quantiles of the weighted samples (fewer
/// when there are no samples).
fn boundaries(samples: &[&Sample], m: usize) -> Vec<Box<[u8]>> {
    let mut all: Vec<(&[u8], f64)> = Vec::new();
    for s in samples {
        if s.rows.is_empty() {
            continue;
        }
        let w = s.count as f64 / s.rows.len() as f64;
        all.extend(s.rows.iter().map(|r| (&**r, w)));
    }
    all.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let total: f64 = all.iter().map(|(_, w)| w).sum();
    let mut out = Vec::with_capacity(m.saturating_sub(1));
    let mut acc = 0.0;
    let mut k = 1;
    for (row, w) in all {
        acc += w;
        while k < m && acc >= total * k as f64 / m as f64 {
            out.push(row.into());
            k += 1;
        }
    }
    out
}

/// `batch` stably sorted by its key rows.
fn sort_batch(
    keys: &KeyEncoder,
    batch: &RecordBatch,
) -> std::result::Result<RecordBatch, TaskError> {
    check_rows(batch, "sort_values")?;
    let rows = keys
        .batch_rows(batch)
        .map_err(|e| key_error("sort_values", keys, e))?;
    let mut order: Vec<u32> = (0..batch.num_rows() as u32).collect();
    // `sort_by` is stable: equal keys keep their input order.
    order.sort_by(|&a, &b| rows.row(a as usize).cmp(&rows.row(b as usize)));
    if order.iter().enumerate().all(|(i, &r)| i as u32 == r) {
        return Ok(batch.clone());
    }
    arrow_select::take::take_record_batch(batch, &UInt32Array::from(order))
        .map_err(TaskError::failed)
}

/// The direction and null placement of each sort column.
fn sort_options<S: AsRef<str>>(
    by: &[(S, bool)],
    nulls_first: bool,
) -> (Vec<&str>, Vec<SortOptions>) {
    by.iter()
        .map(|(c, ascending)| {
            let o = SortOptions {
                descending: !ascending,
                nulls_first,
            };
            (c.as_ref(), o)
        })
        .unzip()
}

impl DataFrame {
    /// The rows sorted by the `by` columns, all ascending or all descending,
    /// nulls last (pandas' `sort_values(by, ascending=..)`): the output
    /// partitions, in order, hold consecutive ranges of the sorted rows.
    /// Rows with equal keys keep their input order (a stable sort). The
    /// output has as many partitions as the input.
    ///
    /// It runs as quantile-sampled range partitioning: a task per partition
    /// samples the keys (evenly spaced, as order-preserving row bytes), one
    /// task picks boundaries at the weighted quantiles, each row is
    /// shuffled to the range its key falls in, and each output partition is
    /// sorted. Equal keys always land in one partition, so a key that makes
    /// up much of the data makes that partition large (correct, only
    /// unbalanced). The input is read twice, once to sample (only the key
    /// columns) and once to shuffle: persist a frame that is expensive to
    /// compute.
    ///
    /// Strings sort by their UTF-8 bytes; floats by IEEE total order (`-0.0`
    /// before `0.0`; NaN after every number when ascending, before when
    /// descending — pandas places NaN with the nulls).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let x = Arc::new(Int64Array::from(vec![Some(5), None, Some(1), Some(4), Some(1), Some(9)])) as ArrayRef;
    /// let df = DataFrame::from_arrays([("x", x)], 3).unwrap();
    /// let sorted = df.sort_values(["x"], true).unwrap().compute().unwrap();
    /// assert_eq!(sorted.column(0).as_ref(), &Int64Array::from(vec![Some(1), Some(1), Some(4), Some(5), Some(9), None]));
    /// let desc = df.sort_values(["x"], false).unwrap().compute().unwrap();
    /// assert_eq!(desc.column(0).as_ref(), &Int64Array::from(vec![Some(9), Some(5), Some(4), Some(1), Some(1), None]));
    /// ```
    pub fn sort_values<S: AsRef<str>>(
        &self,
        by: impl IntoIterator<Item = S>,
        ascending: bool,
    ) -> Result<DataFrame> {
        let by: Vec<(S, bool)> = by.into_iter().map(|c| (c, ascending)).collect();
        self.sort_values_with(&by, false)
    }

    /// The rows sorted by `(column, ascending)` pairs, the first pair most
    /// significant, nulls first or last (pandas'
    /// `sort_values(by=[..], ascending=[..], na_position=..)`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array, StringArray};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("g", Arc::new(StringArray::from(vec![Some("b"), Some("a"), None, Some("a")])) as ArrayRef),
    ///     ("x", Arc::new(Int64Array::from(vec![1, 2, 3, 4])) as ArrayRef),
    /// ], 2).unwrap();
    /// let out = df.sort_values_with(&[("g", true), ("x", false)], true).unwrap().compute().unwrap();
    /// assert_eq!(out.column(0).as_ref(), &StringArray::from(vec![None, Some("a"), Some("a"), Some("b")]));
    /// assert_eq!(out.column(1).as_ref(), &Int64Array::from(vec![3, 4, 2, 1]));
    /// ```
    pub fn sort_values_with<S: AsRef<str>>(
        &self,
        by: &[(S, bool)],
        nulls_first: bool,
    ) -> Result<DataFrame> {
        self.sort_values_with_options(by, nulls_first, ShuffleOptions::default())
    }

    /// [`sort_values_with`](Self::sort_values_with) with the number of
    /// output partitions (default: the input's), the shuffle's memory
    /// budget and its spill directory set by `options`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::{DataFrame, ShuffleOptions};
    /// let x = Arc::new(Int64Array::from((0..100).rev().collect::<Vec<i64>>())) as ArrayRef;
    /// let df = DataFrame::from_arrays([("x", x)], 4).unwrap();
    /// let options = ShuffleOptions { npartitions: Some(2), ..Default::default() };
    /// let sorted = df.sort_values_with_options(&[("x", true)], false, options).unwrap();
    /// assert_eq!(sorted.npartitions(), 2);
    /// assert_eq!(sorted.compute().unwrap().column(0).as_ref(), &Int64Array::from((0..100).collect::<Vec<i64>>()));
    /// ```
    pub fn sort_values_with_options<S: AsRef<str>>(
        &self,
        by: &[(S, bool)],
        nulls_first: bool,
        options: ShuffleOptions,
    ) -> Result<DataFrame> {
        let (names, orders) = sort_options(by, nulls_first);
        let names = key_names(self.schema(), names, "sort_values")?;
        let keys = KeyEncoder::new(
            self.schema(),
            &names,
            None,
            KeyUse::Order(orders),
            "sort_values",
        )?;
        let plan = options.plan(self.npartitions(), 1, "sort_values")?;
        let m = plan.npartitions;
        let bounds: Delayed<Bounds> = if m == 1 {
            delayed(Arc::new(Vec::new()))
        } else {
            // Only the key columns are read to sample them (projection
            // pushdown into a CSV or Parquet source); encoded with the
            // same types and options, their rows are the same bytes.
            let only_keys = self.select(&names)?;
            let (_, orders) = sort_options(by, nulls_first);
            let sample_keys = KeyEncoder::new(
                only_keys.schema(),
                &names,
                None,
                KeyUse::Order(orders),
                "sort_values",
            )?;
            only_keys.sort_bounds(&sample_keys, m, self.npartitions())
        };
        let k = keys.clone();
        let parts = exchange(
            self,
            "sort",
            &plan,
            Route::Range { keys, bounds },
            move |batch, _| sort_batch(&k, &batch),
        );
        Ok(DataFrame::from_tasks(parts, self.schema().clone()))
    }

    /// The sample stage and the boundaries task of a sort of `n` input
    /// partitions into `m`.
    fn sort_bounds(&self, keys: &KeyEncoder, m: usize, n: usize) -> Delayed<Bounds> {
        // About 32 samples per output partition in all, at least 64 per
        // input partition: enough for even ranges, small next to the data.
        let target = (32 * m).div_ceil(n.max(1)).max(64);
        let k = keys.clone();
        let samples = self.consume("sort-sample", move |_, stream| {
            let mut sampler = Sampler::new(target);
            stream.for_each(|batch| {
                let rows = k
                    .batch_rows(&batch)
                    .map_err(|e| key_error("sort_values", &k, e))?;
                rows.iter().for_each(|r| sampler.offer(r.data()));
                Ok(Flow::Continue)
            })?;
            Ok(sampler.finish())
        });
        let mut b = TaskBuilder::new("sort-bounds")
            .key(part_key(&crate::keys::layer_name("sort-bounds"), 0));
        let slots: Vec<ArgSlot<Sample>> = samples.iter().map(|s| b.input(s)).collect();
        b.build(move |args| {
            let samples = slots
                .iter()
                .map(|s| s.get(args))
                .collect::<std::result::Result<Vec<&Sample>, _>>()?;
            Ok(Arc::new(boundaries(&samples, m)))
        })
    }

    /// The rows sorted by `column` (ascending, nulls last), with that
    /// column moved to be the first (pandas' `set_index`). Arrow tables
    /// have no index, so the column stays an ordinary column; the output
    /// partitions hold consecutive ranges of it, as Dask's sorted index.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array, StringArray};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("name", Arc::new(StringArray::from(vec!["c", "a", "b"])) as ArrayRef),
    ///     ("id", Arc::new(Int64Array::from(vec![30, 10, 20])) as ArrayRef),
    /// ], 2).unwrap();
    /// let indexed = df.set_index("id").unwrap();
    /// assert_eq!(indexed.columns(), vec!["id", "name"]);
    /// let b = indexed.compute().unwrap();
    /// assert_eq!(b.column(0).as_ref(), &Int64Array::from(vec![10, 20, 30]));
    /// assert_eq!(b.column(1).as_ref(), &StringArray::from(vec!["a", "b", "c"]));
    /// ```
    pub fn set_index(&self, column: &str) -> Result<DataFrame> {
        let sorted = self.sort_values([column], true)?;
        let mut order = vec![column.to_owned()];
        order.extend(self.columns().into_iter().filter(|c| c != column));
        sorted.select(order)
    }

    /// The `n` rows with the largest values of `column`, largest first
    /// (pandas' `nlargest(n, column)`, `keep="first"`: of equal values the
    /// earlier rows win). Rows where `column` is null are left out. Each
    /// partition keeps its top `n` rows in a task of its own, and one task
    /// takes the top `n` of those: no shuffle. The result has one
    /// partition.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let x = Arc::new(Int64Array::from(vec![Some(3), None, Some(9), Some(1), Some(7)])) as ArrayRef;
    /// let df = DataFrame::from_arrays([("x", x)], 3).unwrap();
    /// let top = df.nlargest(2, "x").unwrap().compute().unwrap();
    /// assert_eq!(top.column(0).as_ref(), &Int64Array::from(vec![9, 7]));
    /// ```
    pub fn nlargest(&self, n: usize, column: &str) -> Result<DataFrame> {
        self.top(n, column, true, "nlargest")
    }

    /// The `n` rows with the smallest values of `column`, smallest first
    /// (pandas' `nsmallest`); see [`nlargest`](Self::nlargest).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Float64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let x = Arc::new(Float64Array::from(vec![3.0, 0.5, 9.0, 1.0])) as ArrayRef;
    /// let df = DataFrame::from_arrays([("x", x)], 2).unwrap();
    /// let low = df.nsmallest(3, "x").unwrap().compute().unwrap();
    /// assert_eq!(low.column(0).as_ref(), &Float64Array::from(vec![0.5, 1.0, 3.0]));
    /// ```
    pub fn nsmallest(&self, n: usize, column: &str) -> Result<DataFrame> {
        self.top(n, column, false, "nsmallest")
    }

    fn top(&self, n: usize, column: &str, largest: bool, op: &'static str) -> Result<DataFrame> {
        let names = key_names(self.schema(), [column], op)?;
        let order = SortOptions {
            descending: largest,
            nulls_first: false,
        };
        let keys = KeyEncoder::new(self.schema(), &names, None, KeyUse::Order(vec![order]), op)?;
        // The top `n` non-null rows of a batch, best first.
        let best = move |keys: &KeyEncoder,
                         batch: &RecordBatch|
              -> std::result::Result<RecordBatch, TaskError> {
            let arrays = keys.arrays(batch).map_err(|e| key_error(op, keys, e))?;
            let batch = match valid_keys(&arrays) {
                Some(valid) if valid.null_count() > 0 => {
                    let mask = arrow_array::BooleanArray::new(valid.into_inner(), None);
                    arrow_select::filter::filter_record_batch(batch, &mask)
                        .map_err(TaskError::failed)?
                }
                _ => batch.clone(),
            };
            let sorted = sort_batch(keys, &batch)?;
            Ok(sorted.slice(0, n.min(sorted.num_rows())))
        };
        let schema = self.schema().clone();
        let k = keys.clone();
        let chunk_schema = schema.clone();
        let chunks = self.consume(&format!("{op}-chunk"), move |_, stream| {
            // Keep at most `n` rows between batches.
            let mut kept = RecordBatch::new_empty(chunk_schema.clone());
            stream.for_each(|batch| {
                let both =
                    concat(&chunk_schema, &[kept.clone(), batch]).map_err(TaskError::failed)?;
                kept = best(&k, &both)?;
                Ok(Flow::Continue)
            })?;
            Ok(kept)
        });
        let mut b = TaskBuilder::new("top").key(part_key(&crate::keys::layer_name(op), 0));
        let slots: Vec<ArgSlot<RecordBatch>> = chunks.iter().map(|c| b.input(c)).collect();
        let out_schema = schema.clone();
        let top = b.build(move |args| {
            let parts = slots
                .iter()
                .map(|s| s.take(args))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            best(
                &keys,
                &concat(&out_schema, &parts).map_err(TaskError::failed)?,
            )
        });
        Ok(DataFrame::from_tasks(vec![top], schema))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampler_stays_bounded_and_even() {
        let mut s = Sampler::new(10);
        for i in 0..1000u32 {
            s.offer(&i.to_be_bytes());
        }
        let sample = s.finish();
        assert_eq!(sample.count, 1000);
        assert!(
            sample.rows.len() >= 10 && sample.rows.len() < 20,
            "{}",
            sample.rows.len()
        );
        // Evenly spaced: consecutive samples one stride apart.
        let values: Vec<u32> = sample
            .rows
            .iter()
            .map(|r| u32::from_be_bytes([r[0], r[1], r[2], r[3]]))
            .collect();
        let stride = values[1] - values[0];
        assert!(
            values.windows(2).all(|w| w[1] - w[0] == stride),
            "{values:?}"
        );
    }

    #[test]
    fn boundaries_at_weighted_quantiles() {
        let rows =
            |r: std::ops::Range<u8>| r.map(|i| Box::from([i].as_slice())).collect::<Vec<_>>();
        // One partition's 10 samples stand for 1000 rows, another's 10 for 10.
        let big = Sample {
            rows: rows(0..10),
            count: 1000,
        };
        let small = Sample {
            rows: rows(100..110),
            count: 10,
        };
        let b = boundaries(&[&big, &small], 2);
        assert_eq!(b.len(), 1);
        assert!(
            b[0][0] < 10,
            "the median is among the heavy samples: {:?}",
            b[0]
        );
        assert!(boundaries(&[], 4).is_empty());
    }
}
