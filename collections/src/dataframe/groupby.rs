//! `groupby`: rows grouped by the values of key columns, and their
//! aggregation by partial hash aggregation per partition merged in a tree
//! (see `hash_aggregate`; the functions are [`Agg`]'s).

use std::sync::Arc;

use super::aggregate::{
    bind_all, per_column, Agg, Bound, Func, HashAggregate, Shape, DEFAULT_SPLIT_EVERY,
};
use super::error::{DataFrameError, Result};
use super::expr::unknown_column;
use super::DataFrame;

/// A frame grouped by key columns, from [`DataFrame::groupby`]. Aggregate
/// it with [`agg`](GroupBy::agg) (partial aggregates per partition, merged
/// in a tree) or run a function on each group with `apply` (a shuffle).
///
/// Keys can be columns of any type Arrow's row format encodes (integers,
/// floats, strings, booleans, dates, ...), one or several. Rows with a
/// null in any key are left out (pandas' `dropna=True`). Float keys group
/// `-0.0` with `0.0` and all NaNs together.
#[derive(Clone, Debug)]
pub struct GroupBy {
    pub(crate) df: DataFrame,
    pub(crate) keys: Arc<[String]>,
    /// Fan-in of the aggregation tree.
    pub(crate) split_every: usize,
    /// Number of output partitions of an aggregation.
    pub(crate) split_out: usize,
}

impl DataFrame {
    /// Groups the rows by the values of the `keys` columns.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("k", Arc::new(Int64Array::from(vec![1, 2, 1])) as ArrayRef)], 2).unwrap();
    /// assert!(df.groupby(["k"]).is_ok());
    /// assert!(df.groupby(["nope"]).is_err());
    /// ```
    pub fn groupby<S: AsRef<str>>(&self, keys: impl IntoIterator<Item = S>) -> Result<GroupBy> {
        let mut names = Vec::new();
        for k in keys {
            let k = k.as_ref();
            if self.schema().index_of(k).is_err() {
                return Err(unknown_column(k, self.schema()));
            }
            names.push(k.to_owned());
        }
        if names.is_empty() {
            return Err(DataFrameError::Invalid(
                "groupby needs at least one key column".into(),
            ));
        }
        Ok(GroupBy {
            df: self.clone(),
            keys: names.into(),
            split_every: DEFAULT_SPLIT_EVERY,
            split_out: 1,
        })
    }
}

impl GroupBy {
    /// The key columns.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("k", Arc::new(Int64Array::from(vec![1])) as ArrayRef)], 1).unwrap();
    /// assert_eq!(df.groupby(["k"]).unwrap().keys(), ["k"]);
    /// ```
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The same grouping whose aggregation trees merge at most `n` partial
    /// results per task (Dask's `split_every`; default
    /// [`DEFAULT_SPLIT_EVERY`](super::DEFAULT_SPLIT_EVERY)). An `n` below 2
    /// makes the aggregations return an error.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::{Agg, DataFrame};
    /// let df = DataFrame::from_arrays([("k", Arc::new(Int64Array::from(vec![1, 2, 1, 2])) as ArrayRef)], 4).unwrap();
    /// let out = df.groupby(["k"]).unwrap().split_every(2).agg([Agg::size()]).unwrap().compute().unwrap();
    /// assert_eq!(out.column(1).as_ref(), &Int64Array::from(vec![2, 2]));
    /// assert!(df.groupby(["k"]).unwrap().split_every(1).size().is_err());
    /// ```
    pub fn split_every(&self, n: usize) -> GroupBy {
        GroupBy {
            split_every: n,
            ..self.clone()
        }
    }

    /// The same grouping whose aggregations give `n` output partitions
    /// (Dask's `split_out`), for results with too many groups for one
    /// task: each partition's partial result is split by the hash of the
    /// keys, and each output partition is the tree of its share. Every
    /// key is in exactly one output partition; each output partition is
    /// sorted by the keys, but partitions are not key ranges. An `n` of 0
    /// makes the aggregations return an error.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::{Agg, DataFrame};
    /// let keys: Vec<i64> = (0..100).map(|i| i % 10).collect();
    /// let df = DataFrame::from_arrays([("k", Arc::new(Int64Array::from(keys)) as ArrayRef)], 4).unwrap();
    /// let out = df.groupby(["k"]).unwrap().split_out(3).agg([Agg::size()]).unwrap();
    /// assert_eq!(out.npartitions(), 3);
    /// assert_eq!(out.len().compute().unwrap(), 10);
    /// ```
    pub fn split_out(&self, n: usize) -> GroupBy {
        GroupBy {
            split_out: n,
            ..self.clone()
        }
    }

    fn aggregate(&self, op: &str, aggs: &[Bound]) -> Result<DataFrame> {
        let plan = HashAggregate::new(&self.df, &self.keys, aggs)?;
        let schema = plan.output_schema().clone();
        let shape = Shape {
            split_every: self.split_every,
            split_out: self.split_out,
        };
        plan.to_frame(op, shape, schema, Ok)
    }

    fn per_column(&self, func: Func) -> Result<DataFrame> {
        let op = format!("groupby-{}", func.name());
        self.aggregate(&op, &per_column(self.df.schema(), &func, &self.keys))
    }

    /// Aggregations per group: a lazy frame of the key columns then one
    /// column per aggregation, one row per group, sorted by the keys
    /// (pandas' `sort=True`), in one partition (see
    /// [`split_out`](GroupBy::split_out)). Unknown columns, functions that
    /// do not apply to a column's type and duplicate output names (keys
    /// included) are errors here, before anything runs.
    ///
    /// Each partition's task groups its rows in a hash table as it reads
    /// them and keeps one state per group and aggregation; only the key
    /// and input columns are read.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Float64Array, Int64Array, StringArray};
    /// use dagwood_collections::dataframe::{Agg, DataFrame};
    /// let df = DataFrame::from_arrays([
    ///     ("name", Arc::new(StringArray::from(vec![Some("b"), Some("a"), None, Some("b")])) as ArrayRef),
    ///     ("x", Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 5.0])) as ArrayRef),
    /// ], 2).unwrap();
    /// let out = df.groupby(["name"]).unwrap()
    ///     .agg([Agg::mean("x"), Agg::size().alias("n")]).unwrap()
    ///     .compute().unwrap();
    /// assert_eq!(out.column(0).as_ref(), &StringArray::from(vec!["a", "b"]));
    /// assert_eq!(out.column(1).as_ref(), &Float64Array::from(vec![2.0, 3.0]));
    /// assert_eq!(out.column(2).as_ref(), &Int64Array::from(vec![1, 2]));
    /// ```
    pub fn agg(&self, aggs: impl IntoIterator<Item = Agg>) -> Result<DataFrame> {
        self.aggregate("groupby-agg", &bind_all(aggs)?)
    }

    /// The sum per group of every integer and float column but the keys.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array, StringArray};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("k", Arc::new(StringArray::from(vec!["a", "b", "a"])) as ArrayRef),
    ///     ("v", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
    /// ], 2).unwrap();
    /// let out = df.groupby(["k"]).unwrap().sum().unwrap().compute().unwrap();
    /// assert_eq!(out.column(1).as_ref(), &Int64Array::from(vec![4, 2]));
    /// ```
    pub fn sum(&self) -> Result<DataFrame> {
        self.per_column(Func::Sum)
    }

    /// The mean per group of every integer and float column but the keys.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("k", Arc::new(Int64Array::from(vec![1, 1, 2])) as ArrayRef),
    ///     ("v", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
    /// ], 2).unwrap();
    /// let out = df.groupby(["k"]).unwrap().mean().unwrap().compute().unwrap();
    /// assert_eq!(out.column(1).as_ref(), &Float64Array::from(vec![1.5, 3.0]));
    /// ```
    pub fn mean(&self) -> Result<DataFrame> {
        self.per_column(Func::Mean)
    }

    /// The number of non-null values per group of every column but the
    /// keys.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("k", Arc::new(Int64Array::from(vec![1, 1, 2])) as ArrayRef),
    ///     ("v", Arc::new(Int64Array::from(vec![Some(1), None, Some(3)])) as ArrayRef),
    /// ], 2).unwrap();
    /// let out = df.groupby(["k"]).unwrap().count().unwrap().compute().unwrap();
    /// assert_eq!(out.column(1).as_ref(), &Int64Array::from(vec![1, 1]));
    /// ```
    pub fn count(&self) -> Result<DataFrame> {
        self.per_column(Func::Count)
    }

    /// The min per group of every number, string, boolean, date and
    /// timestamp column but the keys.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array, StringArray};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("k", Arc::new(Int64Array::from(vec![1, 1, 2])) as ArrayRef),
    ///     ("s", Arc::new(StringArray::from(vec!["y", "x", "z"])) as ArrayRef),
    /// ], 2).unwrap();
    /// let out = df.groupby(["k"]).unwrap().min().unwrap().compute().unwrap();
    /// assert_eq!(out.column(1).as_ref(), &StringArray::from(vec!["x", "z"]));
    /// ```
    pub fn min(&self) -> Result<DataFrame> {
        self.per_column(Func::Min)
    }

    /// The max per group of every number, string, boolean, date and
    /// timestamp column but the keys.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("k", Arc::new(Int64Array::from(vec![1, 1, 2])) as ArrayRef),
    ///     ("v", Arc::new(Int64Array::from(vec![5, 7, 6])) as ArrayRef),
    /// ], 2).unwrap();
    /// let out = df.groupby(["k"]).unwrap().max().unwrap().compute().unwrap();
    /// assert_eq!(out.column(1).as_ref(), &Int64Array::from(vec![7, 6]));
    /// ```
    pub fn max(&self) -> Result<DataFrame> {
        self.per_column(Func::Max)
    }

    /// The sample standard deviation (`ddof = 1`) per group of every
    /// integer and float column but the keys (null for a group of one).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("k", Arc::new(Int64Array::from(vec![1, 1, 2])) as ArrayRef),
    ///     ("v", Arc::new(Float64Array::from(vec![1.0, 3.0, 6.0])) as ArrayRef),
    /// ], 2).unwrap();
    /// let out = df.groupby(["k"]).unwrap().std().unwrap().compute().unwrap();
    /// assert_eq!(out.column(1).as_ref(), &Float64Array::from(vec![Some(2f64.sqrt()), None]));
    /// ```
    pub fn std(&self) -> Result<DataFrame> {
        self.per_column(Func::Std { ddof: 1 })
    }

    /// The sample variance (`ddof = 1`) per group of every integer and
    /// float column but the keys.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("k", Arc::new(Int64Array::from(vec![1, 1, 2])) as ArrayRef),
    ///     ("v", Arc::new(Float64Array::from(vec![1.0, 3.0, 6.0])) as ArrayRef),
    /// ], 2).unwrap();
    /// let out = df.groupby(["k"]).unwrap().var().unwrap().compute().unwrap();
    /// assert_eq!(out.column(1).as_ref(), &Float64Array::from(vec![Some(2.0), None]));
    /// ```
    pub fn var(&self) -> Result<DataFrame> {
        self.per_column(Func::Var { ddof: 1 })
    }

    /// The number of distinct non-null values per group of every column
    /// but the keys.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array, StringArray};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("k", Arc::new(Int64Array::from(vec![1, 1, 1, 2])) as ArrayRef),
    ///     ("s", Arc::new(StringArray::from(vec!["x", "y", "x", "x"])) as ArrayRef),
    /// ], 2).unwrap();
    /// let out = df.groupby(["k"]).unwrap().nunique().unwrap().compute().unwrap();
    /// assert_eq!(out.column(1).as_ref(), &Int64Array::from(vec![2, 1]));
    /// ```
    pub fn nunique(&self) -> Result<DataFrame> {
        self.per_column(Func::NUnique)
    }

    /// The number of rows per group (nulls included), in a column named
    /// `size`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("k", Arc::new(Int64Array::from(vec![2, 1, 2])) as ArrayRef)], 2).unwrap();
    /// let out = df.groupby(["k"]).unwrap().size().unwrap().compute().unwrap();
    /// assert_eq!(out.column(0).as_ref(), &Int64Array::from(vec![1, 2]));
    /// assert_eq!(out.column(1).as_ref(), &Int64Array::from(vec![1, 2]));
    /// ```
    pub fn size(&self) -> Result<DataFrame> {
        self.aggregate("groupby-size", &bind_all([Agg::size()])?)
    }
}
