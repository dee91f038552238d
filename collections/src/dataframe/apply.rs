//! `groupby(..).apply(f, schema)`: a function run on each whole group,
//! after a hash shuffle brings every group's rows into one partition.

use std::collections::HashMap;

use arrow_array::{ArrayRef, RecordBatch, UInt32Array};
use arrow_schema::SchemaRef;
use dagwood_runtime::task::catch_panic;
use dagwood_runtime::{BoxError, TaskError};

use super::error::Result;
use super::groupby::GroupBy;
use super::shuffle::{
    check_rows, exchange, key_error, valid_keys, KeyEncoder, KeyUse, Route, ShuffleOptions,
};
use super::{check_same_schema, concat, DataFrame};

/// `f` failed on one group; the group's key values and what `f` said.
#[derive(Debug, thiserror::Error)]
#[error("groupby apply on group ({group}): {source}")]
struct GroupFailed {
    group: String,
    #[source]
    source: BoxError,
}

/// The key values of row `row`, as `name=value, ...`.
fn describe(names: &[String], arrays: &[ArrayRef], row: usize) -> String {
    names
        .iter()
        .zip(arrays)
        .map(|(n, a)| {
            let v = arrow_cast::display::array_value_to_string(a.as_ref(), row)
                .unwrap_or_else(|_| "?".into());
            format!("{n}={v}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `f` on each group of `batch` (rows with null keys dropped), in the
/// order the groups first appear, and concatenates the results.
fn apply_groups<F>(
    keys: &KeyEncoder,
    f: &F,
    schema: &SchemaRef,
    batch: RecordBatch,
) -> std::result::Result<RecordBatch, TaskError>
where
    F: Fn(RecordBatch) -> std::result::Result<RecordBatch, BoxError>,
{
    check_rows(&batch, "groupby apply")?;
    let arrays = keys
        .arrays(&batch)
        .map_err(|e| key_error("groupby apply", keys, e))?;
    let rows = keys
        .rows(&arrays)
        .map_err(|e| key_error("groupby apply", keys, e))?;
    let valid = valid_keys(&arrays);
    let mut index: HashMap<&[u8], usize> = HashMap::new();
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for i in 0..rows.num_rows() {
        if valid.as_ref().is_some_and(|v| v.is_null(i)) {
            continue;
        }
        let g = *index.entry(rows.row(i).data()).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i as u32);
    }
    let mut outs = Vec::with_capacity(groups.len());
    for rows in groups {
        let first = rows[0] as usize;
        let group = arrow_select::take::take_record_batch(&batch, &UInt32Array::from(rows))
            .map_err(TaskError::failed)?;
        let named = |source: BoxError| GroupFailed {
            group: describe(keys.names(), &arrays, first),
            source,
        };
        let out = match catch_panic(|| f(group)) {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => return Err(TaskError::failed(named(e))),
            Err(TaskError::Panicked(text)) => {
                return Err(TaskError::Panicked(format!(
                    "{text} (groupby apply on group ({}))",
                    describe(keys.names(), &arrays, first)
                )))
            }
            Err(other) => return Err(other),
        };
        check_same_schema(schema, out.schema_ref(), "the result")
            .map_err(|e| TaskError::failed(named(e.into())))?;
        outs.push(out);
    }
    concat(schema, &outs).map_err(TaskError::failed)
}

impl GroupBy {
    /// Runs `f` on each group — all rows with one key value, in input
    /// order, all columns — and makes a frame of the results (pandas'
    /// `groupby(..).apply(f)`, Dask's `groupby(..).apply(f, meta=schema)`).
    /// Every result must have `schema` (Arrow has no index, so the keys
    /// are in the result only if `f` keeps them). Rows with a null key
    /// are left out, as pandas' default `dropna=True`.
    ///
    /// The rows are hash-shuffled by the keys first (as many output
    /// partitions as input partitions, the default memory budget; see
    /// [`apply_with`](Self::apply_with)); each output partition holds the
    /// results of its groups, in the order the groups first appear there.
    /// A group must fit in memory.
    ///
    /// An `Err` from `f`, a panic in it, or a result with another schema
    /// fails the computation with an error naming the task and the group's
    /// key values.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array, RecordBatch};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("k", Arc::new(Int64Array::from(vec![1, 2, 1, 2, 1])) as ArrayRef),
    ///     ("v", Arc::new(Int64Array::from(vec![5, 6, 7, 8, 9])) as ArrayRef),
    /// ], 2).unwrap();
    /// // The last row of each group.
    /// let last = df
    ///     .groupby(["k"]).unwrap()
    ///     .apply(|g: RecordBatch| Ok(g.slice(g.num_rows() - 1, 1)), df.schema().clone())
    ///     .unwrap()
    ///     .sort_values(["k"], true).unwrap()
    ///     .compute().unwrap();
    /// assert_eq!(last.column(1).as_ref(), &Int64Array::from(vec![9, 8]));
    ///
    /// let failing = df.groupby(["k"]).unwrap().apply(|_| Err("no".into()), df.schema().clone()).unwrap();
    /// let err = failing.compute().unwrap_err().to_string();
    /// assert!(err.contains("groupby apply on group (k=") && err.contains("no"), "{err}");
    /// ```
    pub fn apply<F>(&self, f: F, schema: SchemaRef) -> Result<DataFrame>
    where
        F: Fn(RecordBatch) -> std::result::Result<RecordBatch, BoxError> + Send + Sync + 'static,
    {
        self.apply_with(f, schema, ShuffleOptions::default())
    }

    /// [`apply`](Self::apply) with the shuffle's output partitions, memory
    /// budget and spill directory set by `options`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array, RecordBatch};
    /// use arrow_schema::{DataType, Field, Schema};
    /// use dagwood_collections::dataframe::{DataFrame, ShuffleOptions};
    /// let df = DataFrame::from_arrays([
    ///     ("k", Arc::new(Int64Array::from(vec![1, 2, 1, 3])) as ArrayRef),
    /// ], 2).unwrap();
    /// let counts = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    /// let schema = counts.clone();
    /// let sizes = df.groupby(["k"]).unwrap().apply_with(
    ///     move |g: RecordBatch| {
    ///         let n = Arc::new(Int64Array::from(vec![g.num_rows() as i64])) as ArrayRef;
    ///         Ok(RecordBatch::try_new(schema.clone(), vec![n])?)
    ///     },
    ///     counts,
    ///     ShuffleOptions { npartitions: Some(1), ..Default::default() },
    /// ).unwrap();
    /// assert_eq!(sizes.npartitions(), 1);
    /// assert_eq!(sizes.compute().unwrap().column(0).as_ref(), &Int64Array::from(vec![2, 1, 1]));
    /// ```
    pub fn apply_with<F>(
        &self,
        f: F,
        schema: SchemaRef,
        options: ShuffleOptions,
    ) -> Result<DataFrame>
    where
        F: Fn(RecordBatch) -> std::result::Result<RecordBatch, BoxError> + Send + Sync + 'static,
    {
        let df = &self.df;
        let keys = KeyEncoder::new(
            df.schema(),
            &self.keys,
            None,
            KeyUse::Equality,
            "groupby apply",
        )?;
        let plan = options.plan(df.npartitions(), 1, "groupby apply")?;
        let (k, out) = (keys.clone(), schema.clone());
        let parts = exchange(
            df,
            "groupby-apply",
            &plan,
            Route::Hash(keys),
            move |batch, _| apply_groups(&k, &f, &out, batch),
        );
        Ok(DataFrame::from_tasks(parts, schema))
    }
}
