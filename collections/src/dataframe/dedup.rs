//! `drop_duplicates`: one row per distinct key, found by a hash shuffle.

use std::collections::HashSet;

use arrow_array::{RecordBatch, UInt32Array};
use dagwood_runtime::TaskError;

use super::error::Result;
use super::shuffle::{
    check_rows, exchange, key_error, key_names, KeyEncoder, KeyUse, Route, ShuffleOptions,
};
use super::DataFrame;

/// The first row of each distinct key of `batch`, in row order.
fn first_of_each(
    keys: &KeyEncoder,
    batch: RecordBatch,
) -> std::result::Result<RecordBatch, TaskError> {
    check_rows(&batch, "drop_duplicates")?;
    let rows = keys
        .batch_rows(&batch)
        .map_err(|e| key_error("drop_duplicates", keys, e))?;
    let mut seen = HashSet::with_capacity(rows.num_rows());
    let keep: Vec<u32> = (0..rows.num_rows())
        .filter(|&i| seen.insert(rows.row(i).data()))
        .map(|i| i as u32)
        .collect();
    if keep.len() == batch.num_rows() {
        return Ok(batch);
    }
    arrow_select::take::take_record_batch(&batch, &UInt32Array::from(keep))
        .map_err(TaskError::failed)
}

impl DataFrame {
    /// The rows without repeats: of rows equal in every column, the first
    /// (pandas' `drop_duplicates()`, `keep="first"`). See
    /// [`drop_duplicates_subset`](Self::drop_duplicates_subset).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array, StringArray};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("k", Arc::new(Int64Array::from(vec![Some(1), Some(2), Some(1), None, None])) as ArrayRef),
    ///     ("s", Arc::new(StringArray::from(vec!["a", "b", "a", "c", "c"])) as ArrayRef),
    /// ], 3).unwrap();
    /// assert_eq!(df.drop_duplicates().unwrap().len().compute().unwrap(), 3);
    /// ```
    pub fn drop_duplicates(&self) -> Result<DataFrame> {
        let all = self.columns();
        self.drop_duplicates_subset(all)
    }

    /// The rows without repeats in the `subset` columns: of rows equal
    /// there, the first in input order (partition by partition; pandas'
    /// `drop_duplicates(subset=.., keep="first")`). Nulls count as equal
    /// to each other, as do NaNs, and `-0.0` and `0.0`, as in pandas.
    ///
    /// The rows are hash-shuffled by the subset columns, so that equal
    /// keys meet in one partition, which keeps the first of each (the
    /// shuffle keeps input order); there are as many output partitions as
    /// input partitions, and the kept rows keep their relative order
    /// within each.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("k", Arc::new(Int64Array::from(vec![1, 2, 1, 2, 3])) as ArrayRef),
    ///     ("v", Arc::new(Int64Array::from(vec![10, 20, 30, 40, 50])) as ArrayRef),
    /// ], 2).unwrap();
    /// let firsts = df.drop_duplicates_subset(["k"]).unwrap().sort_values(["k"], true).unwrap();
    /// let b = firsts.compute().unwrap();
    /// assert_eq!(b.column(1).as_ref(), &Int64Array::from(vec![10, 20, 50]));
    /// ```
    pub fn drop_duplicates_subset<S: AsRef<str>>(
        &self,
        subset: impl IntoIterator<Item = S>,
    ) -> Result<DataFrame> {
        let names = key_names(self.schema(), subset, "drop_duplicates")?;
        let keys = KeyEncoder::new(
            self.schema(),
            &names,
            None,
            KeyUse::Equality,
            "drop_duplicates",
        )?;
        let plan = ShuffleOptions::default().plan(self.npartitions(), 1, "drop_duplicates")?;
        let k = keys.clone();
        let parts = exchange(
            self,
            "drop-duplicates",
            &plan,
            Route::Hash(keys),
            move |batch, _| first_of_each(&k, batch),
        );
        Ok(DataFrame::from_tasks(parts, self.schema().clone()))
    }
}
