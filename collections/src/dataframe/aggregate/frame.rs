//! Aggregations of a whole frame: `agg`, `reduce`, the per-column
//! shortcuts (`sum`, `mean`, ...) through [`Reductions`], `describe` and
//! `value_counts`.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_cast::cast::cast;
use arrow_ord::sort::{lexsort_to_indices, SortColumn, SortOptions};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use dagwood_runtime::Delayed;

use crate::dataframe::aggregate::accumulate::{family, Func};
use crate::dataframe::aggregate::agg::{bind_all, per_column, scalar_type, Agg};
use crate::dataframe::aggregate::tree::{Bound, HashAggregate, Shape, DEFAULT_SPLIT_EVERY};
use crate::dataframe::error::{DataFrameError, Result};
use crate::dataframe::scalar::Scalar;
use crate::dataframe::DataFrame;

/// The rows of `describe`, in pandas' order.
const DESCRIBE_ROWS: [&str; 8] = ["count", "mean", "std", "min", "25%", "50%", "75%", "max"];

/// Whole-frame aggregations whose trees merge at most `split_every`
/// partial results per task; from [`DataFrame::split_every`]. The methods
/// are those of [`DataFrame`] of the same names.
///
/// ```
/// # use std::sync::Arc;
/// # use arrow_array::{ArrayRef, Int64Array};
/// use dagwood_collections::dataframe::{Agg, DataFrame, Scalar};
/// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from((1..=100).collect::<Vec<i64>>())) as ArrayRef)], 16).unwrap();
/// let total = df.split_every(2).reduce(Agg::sum("a")).unwrap();
/// assert_eq!(total.compute().unwrap(), Scalar::Int64(5050));
/// ```
#[derive(Clone, Debug)]
pub struct Reductions {
    df: DataFrame,
    split_every: usize,
}

impl DataFrame {
    /// Aggregations whose trees merge at most `n` partial results per task
    /// (Dask's `split_every`; the default is [`DEFAULT_SPLIT_EVERY`]).
    /// Smaller trees have more levels of smaller tasks. An `n` below 2
    /// makes the aggregations return an error.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef)], 3).unwrap();
    /// assert!(df.split_every(3).sum().is_ok());
    /// assert!(df.split_every(1).sum().is_err());
    /// ```
    pub fn split_every(&self, n: usize) -> Reductions {
        Reductions {
            df: self.clone(),
            split_every: n,
        }
    }

    fn reductions(&self) -> Reductions {
        self.split_every(DEFAULT_SPLIT_EVERY)
    }

    /// Aggregations over the whole frame: a one-row batch with one column
    /// per aggregation, named by [`Agg::output_name`]. Unknown columns,
    /// functions that do not apply to a column's type and duplicate
    /// output names are errors here, before anything runs.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Float64Array, Int64Array, StringArray};
    /// use dagwood_collections::dataframe::{Agg, DataFrame, DataFrameError};
    /// let df = DataFrame::from_arrays([
    ///     ("name", Arc::new(StringArray::from(vec!["a", "b", "a"])) as ArrayRef),
    ///     ("x", Arc::new(Float64Array::from(vec![1.0, 2.0, 6.0])) as ArrayRef),
    /// ], 2).unwrap();
    /// let out = df.agg([Agg::mean("x"), Agg::max("x").alias("top"), Agg::nunique("name")]).unwrap().compute().unwrap();
    /// assert_eq!(out.num_rows(), 1);
    /// assert_eq!(out.column(0).as_ref(), &Float64Array::from(vec![3.0]));
    /// assert_eq!(out.column(1).as_ref(), &Float64Array::from(vec![6.0]));
    /// assert_eq!(out.column(2).as_ref(), &Int64Array::from(vec![2]));
    /// assert!(matches!(df.agg([Agg::sum("name")]), Err(DataFrameError::Type { .. })));
    /// assert!(df.agg([Agg::sum("x"), Agg::mean("x")]).unwrap_err().to_string().contains("alias"));
    /// ```
    pub fn agg(&self, aggs: impl IntoIterator<Item = Agg>) -> Result<Delayed<RecordBatch>> {
        self.reductions().agg(aggs)
    }

    /// One aggregation as one value (pandas' `df["x"].mean()`). Its type
    /// must be one a [`Scalar`] holds (min/max of a date column is not:
    /// use [`agg`](DataFrame::agg)).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Float64Array};
    /// use dagwood_collections::dataframe::{Agg, DataFrame, Scalar};
    /// let df = DataFrame::from_arrays([("x", Arc::new(Float64Array::from(vec![1.0, 2.0, 6.0])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.reduce(Agg::mean("x")).unwrap().compute().unwrap(), Scalar::Float64(3.0));
    /// ```
    pub fn reduce(&self, agg: Agg) -> Result<Delayed<Scalar>> {
        self.reductions().reduce(agg)
    }

    /// The sum of every integer and float column (pandas'
    /// `sum(numeric_only=True)`): a one-row batch.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Float64Array, Int32Array, Int64Array, StringArray};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("s", Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef),
    ///     ("i", Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef),
    ///     ("x", Arc::new(Float64Array::from(vec![0.5, 0.25])) as ArrayRef),
    /// ], 2).unwrap();
    /// let out = df.sum().unwrap().compute().unwrap();
    /// assert_eq!(out.schema().field(0).name(), "i");
    /// assert_eq!(out.column(0).as_ref(), &Int64Array::from(vec![3]));
    /// assert_eq!(out.column(1).as_ref(), &Float64Array::from(vec![0.75]));
    /// ```
    pub fn sum(&self) -> Result<Delayed<RecordBatch>> {
        self.reductions().sum()
    }

    /// The mean of every integer and float column.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.mean().unwrap().compute().unwrap().column(0).as_ref(), &Float64Array::from(vec![1.5]));
    /// ```
    pub fn mean(&self) -> Result<Delayed<RecordBatch>> {
        self.reductions().mean()
    }

    /// The min of every number, string, boolean, date and timestamp column.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, StringArray};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("s", Arc::new(StringArray::from(vec!["b", "a"])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.min().unwrap().compute().unwrap().column(0).as_ref(), &StringArray::from(vec!["a"]));
    /// ```
    pub fn min(&self) -> Result<Delayed<RecordBatch>> {
        self.reductions().min()
    }

    /// The max of every number, string, boolean, date and timestamp column.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, BooleanArray};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("b", Arc::new(BooleanArray::from(vec![false, true])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.max().unwrap().compute().unwrap().column(0).as_ref(), &BooleanArray::from(vec![true]));
    /// ```
    pub fn max(&self) -> Result<Delayed<RecordBatch>> {
        self.reductions().max()
    }

    /// The sample standard deviation (`ddof = 1`) of every integer and
    /// float column.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("x", Arc::new(Float64Array::from(vec![1.0, 3.0])) as ArrayRef)], 2).unwrap();
    /// let sd = df.std().unwrap().compute().unwrap();
    /// assert_eq!(sd.column(0).as_ref(), &Float64Array::from(vec![2f64.sqrt()]));
    /// ```
    pub fn std(&self) -> Result<Delayed<RecordBatch>> {
        self.reductions().std()
    }

    /// The sample variance (`ddof = 1`) of every integer and float column.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("x", Arc::new(Float64Array::from(vec![1.0, 3.0])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.var().unwrap().compute().unwrap().column(0).as_ref(), &Float64Array::from(vec![2.0]));
    /// ```
    pub fn var(&self) -> Result<Delayed<RecordBatch>> {
        self.reductions().var()
    }

    /// The number of non-null values of every column (`Int64`).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array, StringArray};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("s", Arc::new(StringArray::from(vec![Some("a"), None])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.count().unwrap().compute().unwrap().column(0).as_ref(), &Int64Array::from(vec![1]));
    /// ```
    pub fn count(&self) -> Result<Delayed<RecordBatch>> {
        self.reductions().count()
    }

    /// The number of distinct non-null values of every column (`Int64`).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![3, 1, 3])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.nunique().unwrap().compute().unwrap().column(0).as_ref(), &Int64Array::from(vec![2]));
    /// ```
    pub fn nunique(&self) -> Result<Delayed<RecordBatch>> {
        self.reductions().nunique()
    }

    /// Summary statistics of every integer and float column, in pandas'
    /// layout: a `statistic` column (`count`, `mean`, `std`, `min`, `25%`,
    /// `50%`, `75%`, `max`) and one `Float64` column per numeric column.
    /// Statistics of a column without values are null (count 0). A frame
    /// without numeric columns gives the `statistic` column alone.
    ///
    /// Percentiles are interpolated linearly between order statistics, as
    /// pandas. They are exact when no partition has more than 4096
    /// non-null values of the column. Otherwise each larger partition
    /// keeps a summary of 4096 points (the middle values of 4096 blocks of
    /// consecutive sorted values, weighted by block size) and the root
    /// reads the percentiles off the merged summaries: each order
    /// statistic used is the exact one at a rank off by at most half a
    /// block per summarised partition, about `n/8192` ranks (0.012%) for
    /// `n` values. Partitions sort their values, and the root holds up to
    /// 4096 points per partition and column.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Float64Array, Int64Array, StringArray};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("a", Arc::new(Int64Array::from(vec![1, 2, 3, 4])) as ArrayRef),
    ///     ("s", Arc::new(StringArray::from(vec!["w", "x", "y", "z"])) as ArrayRef),
    /// ], 2).unwrap();
    /// let d = df.describe().unwrap().compute().unwrap();
    /// assert_eq!(d.column(0).as_ref(), &StringArray::from(vec!["count", "mean", "std", "min", "25%", "50%", "75%", "max"]));
    /// let a = d.column(1).as_any().downcast_ref::<Float64Array>().unwrap();
    /// assert_eq!(a.values()[..2], [4.0, 2.5]);
    /// assert_eq!(a.values()[3..], [1.0, 1.75, 2.5, 3.25, 4.0]);
    /// ```
    pub fn describe(&self) -> Result<Delayed<RecordBatch>> {
        self.reductions().describe()
    }

    /// How often each distinct non-null value of `column` occurs: a lazy
    /// frame of one partition with the column and `count` (`Int64`),
    /// most frequent first, equal counts by value ascending (pandas'
    /// `value_counts()`, with a deterministic order for ties).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array, StringArray};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("s", Arc::new(StringArray::from(vec![Some("b"), Some("a"), None, Some("b"), Some("c")])) as ArrayRef)], 2).unwrap();
    /// let vc = df.value_counts("s").unwrap().compute().unwrap();
    /// assert_eq!(vc.column(0).as_ref(), &StringArray::from(vec!["b", "a", "c"]));
    /// assert_eq!(vc.column(1).as_ref(), &Int64Array::from(vec![2, 1, 1]));
    /// ```
    pub fn value_counts(&self, column: &str) -> Result<DataFrame> {
        self.reductions().value_counts(column)
    }
}

impl Reductions {
    fn whole(&self, op: &str, aggs: &[Bound]) -> Result<Delayed<RecordBatch>> {
        HashAggregate::new(&self.df, &[], aggs)?.to_delayed(op, self.split_every, Ok)
    }

    fn per_column(&self, func: Func) -> Result<Delayed<RecordBatch>> {
        let aggs = per_column(self.df.schema(), &func, &[]);
        self.whole(func.name(), &aggs)
    }

    /// See [`DataFrame::agg`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::{Agg, DataFrame};
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef)], 3).unwrap();
    /// let out = df.split_every(2).agg([Agg::min("a"), Agg::size()]).unwrap().compute().unwrap();
    /// assert_eq!(out.column(1).as_ref(), &Int64Array::from(vec![3]));
    /// ```
    pub fn agg(&self, aggs: impl IntoIterator<Item = Agg>) -> Result<Delayed<RecordBatch>> {
        self.whole("agg", &bind_all(aggs)?)
    }

    /// See [`DataFrame::reduce`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::{Agg, DataFrame, Scalar};
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef)], 3).unwrap();
    /// assert_eq!(df.split_every(2).reduce(Agg::max("a")).unwrap().compute().unwrap(), Scalar::Int64(3));
    /// ```
    pub fn reduce(&self, agg: Agg) -> Result<Delayed<Scalar>> {
        let bound = agg.bind()?;
        let plan = HashAggregate::new(&self.df, &[], std::slice::from_ref(&bound))?;
        let t = plan.output_schema().field(0).data_type().clone();
        if !scalar_type(&t) {
            return Err(DataFrameError::Type {
                context: format!("reduce {agg}"),
                message: format!("a {t} value is not a Scalar; use agg for a one-row batch"),
            });
        }
        plan.to_delayed(bound.func.name(), self.split_every, |batch| {
            Scalar::from_array(batch.column(0).as_ref(), 0)
        })
    }

    /// See [`DataFrame::sum`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, UInt64Array, UInt8Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("a", Arc::new(UInt8Array::from(vec![200, 100])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.split_every(2).sum().unwrap().compute().unwrap().column(0).as_ref(), &UInt64Array::from(vec![300]));
    /// ```
    pub fn sum(&self) -> Result<Delayed<RecordBatch>> {
        self.per_column(Func::Sum)
    }

    /// See [`DataFrame::mean`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("x", Arc::new(Float64Array::from(vec![1.0, 2.0])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.split_every(2).mean().unwrap().compute().unwrap().column(0).as_ref(), &Float64Array::from(vec![1.5]));
    /// ```
    pub fn mean(&self) -> Result<Delayed<RecordBatch>> {
        self.per_column(Func::Mean)
    }

    /// See [`DataFrame::min`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![2, 1])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.split_every(2).min().unwrap().compute().unwrap().column(0).as_ref(), &Int64Array::from(vec![1]));
    /// ```
    pub fn min(&self) -> Result<Delayed<RecordBatch>> {
        self.per_column(Func::Min)
    }

    /// See [`DataFrame::max`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![2, 1])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.split_every(2).max().unwrap().compute().unwrap().column(0).as_ref(), &Int64Array::from(vec![2]));
    /// ```
    pub fn max(&self) -> Result<Delayed<RecordBatch>> {
        self.per_column(Func::Max)
    }

    /// See [`DataFrame::std`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("x", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef)], 1).unwrap();
    /// assert!(df.split_every(2).std().unwrap().compute().unwrap().column(0).is_null(0)); // one value
    /// ```
    pub fn std(&self) -> Result<Delayed<RecordBatch>> {
        self.per_column(Func::Std { ddof: 1 })
    }

    /// See [`DataFrame::var`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("x", Arc::new(Float64Array::from(vec![1.0, 3.0])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.split_every(2).var().unwrap().compute().unwrap().column(0).as_ref(), &Float64Array::from(vec![2.0]));
    /// ```
    pub fn var(&self) -> Result<Delayed<RecordBatch>> {
        self.per_column(Func::Var { ddof: 1 })
    }

    /// See [`DataFrame::count`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![Some(1), None])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.split_every(2).count().unwrap().compute().unwrap().column(0).as_ref(), &Int64Array::from(vec![1]));
    /// ```
    pub fn count(&self) -> Result<Delayed<RecordBatch>> {
        self.per_column(Func::Count)
    }

    /// See [`DataFrame::nunique`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![1, 1, 2])) as ArrayRef)], 3).unwrap();
    /// assert_eq!(df.split_every(2).nunique().unwrap().compute().unwrap().column(0).as_ref(), &Int64Array::from(vec![2]));
    /// ```
    pub fn nunique(&self) -> Result<Delayed<RecordBatch>> {
        self.per_column(Func::NUnique)
    }

    /// See [`DataFrame::describe`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("x", Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])) as ArrayRef)], 3).unwrap();
    /// let d = df.split_every(2).describe().unwrap().compute().unwrap();
    /// assert_eq!(d.num_rows(), 8);
    /// ```
    pub fn describe(&self) -> Result<Delayed<RecordBatch>> {
        let numeric: Vec<String> = self
            .df
            .schema()
            .fields()
            .iter()
            .filter(|f| family(f.data_type()).is_some())
            .map(|f| f.name().clone())
            .collect();
        // Per column: count, mean, std, min, max and one summary for the
        // three percentiles; internal names cannot clash.
        let quartiles: Arc<[f64]> = Arc::from([0.25, 0.5, 0.75]);
        let mut aggs = Vec::with_capacity(numeric.len() * 6);
        for (k, c) in numeric.iter().enumerate() {
            let funcs = [
                Func::Count,
                Func::Mean,
                Func::Std { ddof: 1 },
                Func::Min,
                Func::Max,
                Func::Quantiles(quartiles.clone()),
            ];
            for (s, func) in funcs.into_iter().enumerate() {
                aggs.push(Bound {
                    func,
                    column: Some(c.clone()),
                    output: format!("{k}.{s}"),
                });
            }
        }
        let mut fields = vec![Field::new("statistic", DataType::Utf8, false)];
        fields.extend(
            numeric
                .iter()
                .map(|c| Field::new(c.clone(), DataType::Float64, true)),
        );
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let plan = HashAggregate::new(&self.df, &[], &aggs)?;
        plan.to_delayed("describe", self.split_every, move |stats| {
            describe_layout(&stats, numeric.len(), &schema)
        })
    }

    /// See [`DataFrame::value_counts`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![5, 7, 5])) as ArrayRef)], 3).unwrap();
    /// let vc = df.split_every(2).value_counts("a").unwrap().compute().unwrap();
    /// assert_eq!(vc.column(0).as_ref(), &Int64Array::from(vec![5, 7]));
    /// ```
    pub fn value_counts(&self, column: &str) -> Result<DataFrame> {
        if column == "count" {
            return Err(DataFrameError::Invalid(
                "value_counts names its counts \"count\": rename the column \"count\" first".into(),
            ));
        }
        let keys = [column.to_owned()];
        let size = Agg::size().alias("count").bind()?;
        let plan = HashAggregate::new(&self.df, &keys, &[size])?;
        let schema = plan.output_schema().clone();
        let shape = Shape {
            split_every: self.split_every,
            split_out: 1,
        };
        plan.to_frame("value-counts", shape, schema, |counts| {
            let order = lexsort_to_indices(
                &[
                    SortColumn {
                        values: counts.column(1).clone(),
                        options: Some(SortOptions {
                            descending: true,
                            nulls_first: false,
                        }),
                    },
                    SortColumn {
                        values: counts.column(0).clone(),
                        options: None,
                    },
                ],
                None,
            )?;
            Ok(arrow_select::take::take_record_batch(&counts, &order)?)
        })
    }
}

/// pandas' layout of `describe` from the one-row batch of six statistics
/// per numeric column (count, mean, std, min, max, quartiles).
fn describe_layout(stats: &RecordBatch, columns: usize, schema: &SchemaRef) -> Result<RecordBatch> {
    let as_f64 = |i: usize| -> Result<Option<f64>> {
        let c = cast(stats.column(i), &DataType::Float64)?;
        let c = c.as_primitive::<Float64Type>();
        Ok(c.is_valid(0).then(|| c.value(0)))
    };
    let mut out: Vec<ArrayRef> = vec![Arc::new(StringArray::from(DESCRIBE_ROWS.to_vec()))];
    for k in 0..columns {
        let at = 6 * k;
        let quartiles = stats
            .column(at + 5)
            .as_fixed_size_list_opt()
            .ok_or_else(|| DataFrameError::Invalid("describe: quartiles are not a list".into()))?;
        let q = quartiles.value(0);
        let q = q.as_primitive::<Float64Type>();
        let quartile = |j: usize| q.is_valid(j).then(|| q.value(j));
        let column = Float64Array::from(vec![
            as_f64(at)?,
            as_f64(at + 1)?,
            as_f64(at + 2)?,
            as_f64(at + 3)?,
            quartile(0),
            quartile(1),
            quartile(2),
            as_f64(at + 4)?,
        ]);
        out.push(Arc::new(column));
    }
    Ok(RecordBatch::try_new(schema.clone(), out)?)
}
