//! `DataFrame`: a lazy table in partitions of Arrow [`RecordBatch`]es
//! (Dask's `dask.dataframe`, on Apache Arrow instead of pandas).
//!
//! A frame is a *source* — CSV blocks, Parquet row groups, or partitions
//! that earlier tasks made — and a chain of row-wise *steps* (column
//! projections and filters: `select`, `with_column`, `rename`, `drop`,
//! `fillna`, `filter`, `dropna`, ...). Steps add no task of their own: the
//! task that consumes a partition (an aggregation's per-partition step, a
//! write, a shuffle split, or the task that collects the partition for
//! `compute`) reads the source batch by batch and runs the chain on each
//! batch, so a filtered-away row is never held beyond the batch it was read
//! in (filter fusion with the read). Before reading, the chain is walked
//! backwards to find the columns it needs, and only those are parsed from a
//! CSV file or read from a Parquet file (projection pushdown).
//!
//! Aggregations (`sum`, `groupby(..).agg(..)`, `value_counts`, ...) are
//! trees of partial results; joins, `drop_duplicates`, `sort_values` and
//! `groupby(..).apply` move rows between partitions with a shuffle.
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{ArrayRef, Float64Array, StringArray};
//! use dagwood_collections::dataframe::{col, DataFrame};
//!
//! let df = DataFrame::from_arrays(
//!     [
//!         ("name", Arc::new(StringArray::from(vec!["a", "b", "a", "c"])) as ArrayRef),
//!         ("x", Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0])) as ArrayRef),
//!     ],
//!     2, // partitions
//! )
//! .unwrap();
//! let big = df.filter(col("x").gt(1.5)).unwrap();
//! assert_eq!(big.len().compute().unwrap(), 3);
//! let doubled = big.with_column("y", col("x") * 2.0).unwrap().compute().unwrap();
//! assert_eq!(doubled.column(2).as_ref(), &Float64Array::from(vec![4.0, 6.0, 8.0]));
//! ```

mod aggregate;
mod apply;
mod columns;
mod dedup;
mod display;
mod error;
mod expr;
mod groupby;
mod io;
mod join;
mod scalar;
mod shuffle;
mod sort;
mod stream;

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use dagwood_runtime::{
    compute_all_with, delayed, Delayed, Plan, Scheduler, TaskBuilder, TaskError,
};

// The frame operations name their partitions with it.
use crate::keys::part_key;

/// The Arrow crates at the boundary of the API, re-exported so that users
/// build batches and schemas with the same versions dagwood uses.
pub use {arrow_array, arrow_schema};

pub use aggregate::{Agg, Reductions, DEFAULT_SPLIT_EVERY};
pub use display::{pretty, Pretty};
pub use error::{DataFrameError, Result};
pub use expr::{col, lit, Expr};
pub use groupby::GroupBy;
pub use io::{read_csv, read_parquet, CsvWriteOptions, ReadCsv, ReadParquet};
pub use join::{How, MergeOptions};
pub use scalar::Scalar;
pub use shuffle::{ShuffleOptions, SpillError, SpillStats, DEFAULT_SHUFFLE_MEMORY_LIMIT};
#[doc(hidden)]
pub use sort::Sample as SortSample;

pub(crate) use stream::{concat, BatchSink, Flow, PartitionStream, Runner, Scan, Source, Step};

/// A lazy table in partitions of Arrow record batches. Cheap to clone.
///
/// Build one with [`DataFrame::from_batches`], [`DataFrame::from_arrays`],
/// [`DataFrame::from_delayed`] or a reader (`read_csv`, `read_parquet`);
/// transform it with column operations; get results with
/// [`compute`](DataFrame::compute), [`head`](DataFrame::head) or an
/// aggregation.
#[derive(Clone)]
pub struct DataFrame {
    schema: SchemaRef,
    source: Source,
    steps: Arc<[Step]>,
}

impl std::fmt::Debug for DataFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DataFrame(")?;
        for (i, field) in self.schema.fields().iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            write!(f, "{}: {}", field.name(), field.data_type())?;
        }
        write!(f, "; {} partitions)", self.npartitions())
    }
}

impl DataFrame {
    /// A frame over a source, with no steps.
    pub(crate) fn from_source(source: Source) -> DataFrame {
        DataFrame {
            schema: source.schema().clone(),
            source,
            steps: Arc::from(Vec::new()),
        }
    }

    /// A frame over partitions that tasks make, all of `schema` (not
    /// checked until they are computed).
    pub(crate) fn from_tasks(parts: Vec<Delayed<RecordBatch>>, schema: SchemaRef) -> DataFrame {
        DataFrame::from_source(Source::Tasks {
            parts: parts.into(),
            schema,
        })
    }

    /// This frame with one more step, whose output schema is `schema`.
    pub(crate) fn then(&self, step: Step, schema: SchemaRef) -> DataFrame {
        let mut steps = self.steps.to_vec();
        steps.push(step);
        DataFrame {
            schema,
            source: self.source.clone(),
            steps: steps.into(),
        }
    }

    /// A frame of the given batches, one partition each. They must all
    /// have the same schema; with no batches, `schema` says what it is.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int32Array, RecordBatch};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let b = RecordBatch::try_from_iter([("a", Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef)]).unwrap();
    /// let df = DataFrame::from_batches(vec![b.clone(), b], None).unwrap();
    /// assert_eq!(df.npartitions(), 2);
    /// assert_eq!(df.len().compute().unwrap(), 4);
    /// ```
    pub fn from_batches(batches: Vec<RecordBatch>, schema: Option<SchemaRef>) -> Result<DataFrame> {
        let schema = match (schema, batches.first()) {
            (Some(s), _) => s,
            (None, Some(b)) => b.schema(),
            (None, None) => {
                return Err(DataFrameError::Invalid(
                    "from_batches needs a schema when there are no batches".into(),
                ))
            }
        };
        for (i, b) in batches.iter().enumerate() {
            check_same_schema(&schema, b.schema_ref(), &format!("batch {i}"))?;
        }
        let name = crate::keys::layer_name("from-batches");
        let parts = batches
            .into_iter()
            .enumerate()
            .map(|(i, b)| delayed(b).with_key(part_key(&name, i)))
            .collect();
        Ok(DataFrame::from_tasks(parts, schema))
    }

    /// A frame of named columns of equal length, cut into `npartitions`
    /// partitions of near-equal row counts (as `dd.from_pandas`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.npartitions(), 2);
    /// ```
    pub fn from_arrays<N: Into<String>>(
        columns: impl IntoIterator<Item = (N, ArrayRef)>,
        npartitions: usize,
    ) -> Result<DataFrame> {
        let columns: Vec<(String, ArrayRef)> =
            columns.into_iter().map(|(n, a)| (n.into(), a)).collect();
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, a)| Field::new(n.clone(), a.data_type().clone(), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let arrays = columns.into_iter().map(|(_, a)| a).collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays)?;
        DataFrame::from_batches(split_rows(&batch, npartitions)?, Some(schema))
    }

    /// A frame of partitions that tasks make (Dask's `from_delayed`). Each
    /// must have `schema`; a partition that does not is an error naming it
    /// when computed.
    pub fn from_delayed(parts: Vec<Delayed<RecordBatch>>, schema: SchemaRef) -> DataFrame {
        let name = crate::keys::layer_name("from-delayed");
        let checked = parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut b = TaskBuilder::new("check-schema").key(part_key(&name, i));
                let input = b.input(p);
                let schema = schema.clone();
                b.build(move |args| {
                    let batch = input.take(args)?;
                    check_same_schema(&schema, batch.schema_ref(), &format!("partition {i}"))
                        .map_err(TaskError::failed)?;
                    Ok(batch)
                })
            })
            .collect();
        DataFrame::from_tasks(checked, schema)
    }

    /// The schema of the frame's rows.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The column names and their Arrow types (pandas' `dtypes`).
    pub fn dtypes(&self) -> Vec<(String, DataType)> {
        self.schema
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect()
    }

    /// The column names.
    pub fn columns(&self) -> Vec<String> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// How many partitions the frame has.
    pub fn npartitions(&self) -> usize {
        self.source.npartitions()
    }

    /// The partitions as tasks, one record batch each (Dask's
    /// `to_delayed`). Steps not yet run become one task per partition.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef)], 3).unwrap();
    /// let parts = df.to_delayed();
    /// assert_eq!(parts.len(), 3);
    /// assert_eq!(parts[2].compute().unwrap().num_rows(), 1);
    /// ```
    pub fn to_delayed(&self) -> Vec<Delayed<RecordBatch>> {
        if let (Source::Tasks { parts, .. }, true) = (&self.source, self.steps.is_empty()) {
            return parts.to_vec();
        }
        let op = match &self.source {
            Source::Scan(scan) if self.steps.is_empty() => scan.op().to_owned(),
            _ => "partition".to_owned(),
        };
        let schema = self.schema.clone();
        self.consume(&op, move |_, stream| stream.collect(&schema))
    }

    /// Computes the whole frame as one record batch.
    pub fn compute(&self) -> Result<RecordBatch> {
        self.compute_with(&Scheduler::current())
    }

    /// Computes the whole frame with `scheduler`.
    pub fn compute_with(&self, scheduler: &Scheduler) -> Result<RecordBatch> {
        let parts = compute_all_with(&self.to_delayed()[..], scheduler)?;
        self.assemble(&parts)
    }

    /// The whole frame from its computed partitions.
    pub(crate) fn assemble(&self, parts: &[RecordBatch]) -> Result<RecordBatch> {
        Ok(concat(&self.schema, parts)?)
    }

    /// Computes the partitions and keeps them in memory: a frame whose
    /// partitions are ready (Dask's `persist`), for frames used many times.
    pub fn persist(&self) -> Result<DataFrame> {
        let parts = compute_all_with(&self.to_delayed()[..], &Scheduler::current())?;
        DataFrame::from_batches(parts, Some(self.schema.clone()))
    }

    /// The first `n` rows. Partitions are computed one after another, and
    /// each stops reading once it has the rows still missing, so only what
    /// is needed is read (Dask's `head(n, npartitions=-1)`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from((0..100).collect::<Vec<i64>>())) as ArrayRef)], 10).unwrap();
    /// let h = df.head(15).unwrap();
    /// assert_eq!(h.num_rows(), 15);
    /// assert_eq!(h.column(0).as_ref(), &Int64Array::from((0..15).collect::<Vec<i64>>()));
    /// ```
    pub fn head(&self, n: usize) -> Result<RecordBatch> {
        let scheduler = Scheduler::current();
        let mut batches: Vec<RecordBatch> = Vec::new();
        let mut have = 0;
        for i in 0..self.npartitions() {
            if have >= n {
                break;
            }
            let missing = n - have;
            let mut b = TaskBuilder::new("head").key(part_key(&crate::keys::layer_name("head"), i));
            let runner = self.runner(i, &mut b);
            let schema = self.schema.clone();
            let part: Delayed<RecordBatch> = b.build(move |args| {
                let mut got = Vec::new();
                let mut rows = 0;
                (runner)(args, &mut |batch: RecordBatch| {
                    let take = batch.num_rows().min(missing - rows);
                    rows += take;
                    got.push(batch.slice(0, take));
                    Ok(if rows >= missing {
                        Flow::Stop
                    } else {
                        Flow::Continue
                    })
                })?;
                concat(&schema, &got).map_err(TaskError::failed)
            });
            let batch = part.compute_with(&scheduler)?;
            have += batch.num_rows();
            batches.push(batch);
        }
        Ok(concat(&self.schema, &batches)?.slice(0, have.min(n)))
    }

    /// The number of rows, as a task (no column is parsed to count them).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.len().compute().unwrap(), 3);
    /// ```
    #[allow(clippy::len_without_is_empty)] // Lazy: the length is a task.
    pub fn len(&self) -> Delayed<usize> {
        let counts = self.select::<&str>([]).map_or_else(
            |_| Vec::new(),
            |none| {
                none.consume("len-chunk", |_, stream| {
                    let mut rows = 0;
                    stream.for_each(|b| {
                        rows += b.num_rows();
                        Ok(Flow::Continue)
                    })?;
                    Ok(rows)
                })
            },
        );
        dagwood_runtime::sum(counts, 8).unwrap_or_else(|_| delayed(0))
    }

    /// Number of tasks in the frame's graph (before the runtime fuses
    /// chains).
    pub fn task_count(&self) -> usize {
        Plan::new(&self.to_delayed()[..]).task_count()
    }

    /// The frame's task graph in Graphviz DOT.
    pub fn to_dot(&self) -> String {
        Plan::new(&self.to_delayed()[..]).to_dot()
    }

    /// Draws the task graph (see the runtime's `Plan::visualize`).
    pub fn visualize(
        &self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<dagwood_runtime::diagnostics::GraphFiles> {
        Ok(Plan::new(&self.to_delayed()[..]).visualize(path)?)
    }
}

/// An error unless `got` has the fields of `expected` (names and types;
/// nullability may differ).
pub(crate) fn check_same_schema(expected: &Schema, got: &Schema, what: &str) -> Result<()> {
    let describe = |s: &Schema| {
        s.fields()
            .iter()
            .map(|f| format!("{}: {}", f.name(), f.data_type()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let same = expected.fields().len() == got.fields().len()
        && expected
            .fields()
            .iter()
            .zip(got.fields())
            .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
    if same {
        Ok(())
    } else {
        Err(DataFrameError::SchemaMismatch {
            what: what.to_owned(),
            message: format!(
                "expected ({}), found ({})",
                describe(expected),
                describe(got)
            ),
        })
    }
}

/// Cuts a batch into `n` (at least 1) slices of near-equal row counts.
pub(crate) fn split_rows(batch: &RecordBatch, n: usize) -> Result<Vec<RecordBatch>> {
    if n == 0 {
        return Err(DataFrameError::Invalid(
            "npartitions must be at least 1".into(),
        ));
    }
    let rows = batch.num_rows();
    Ok((0..n)
        .map(|k| {
            let (start, end) = (rows * k / n, rows * (k + 1) / n);
            batch.slice(start, end - start)
        })
        .collect())
}
