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

mod accumulate;
mod aggregate;
mod apply;
mod columns;
mod dedup;
mod display;
mod error;
mod expr;
mod groupby;
mod grouper;
mod hash_aggregate;
mod io;
mod join;
mod quantile;
mod scalar;
mod shuffle;
mod sort;

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use dagwood_runtime::{
    compute_all_with, delayed, ArgSlot, Args, Delayed, Key, Plan, Scheduler, TaskBuilder, TaskError,
};

/// The Arrow crates at the boundary of the API, re-exported so that users
/// build batches and schemas with the same versions dagwood uses.
pub use {arrow_array, arrow_schema};

#[allow(unused_imports)] // Filled in module by module.
pub use aggregate::*;
pub use display::{pretty, Pretty};
pub use error::{DataFrameError, Result};
pub use expr::{col, lit, Expr};
pub use groupby::GroupBy;
#[allow(unused_imports)]
pub use io::*;
#[allow(unused_imports)]
pub use join::*;
pub use scalar::Scalar;
#[allow(unused_imports)]
pub use shuffle::*;
#[doc(hidden)]
pub use sort::Sample as SortSample;
#[allow(unused_imports)]
pub use sort::*;

/// Whether a partition's reader should go on after the batch it just gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Give the next batch.
    Continue,
    /// Stop reading: the consumer has what it needs (`head`).
    Stop,
}

/// Where a partition's batches go, in order.
pub(crate) type BatchSink<'a> = dyn FnMut(RecordBatch) -> std::result::Result<Flow, TaskError> + 'a;

/// A source that reads partitions itself and can leave columns out: CSV
/// blocks, Parquet row groups.
pub(crate) trait Scan: Send + Sync + 'static {
    /// The schema of a full row.
    fn schema(&self) -> &SchemaRef;
    /// How many partitions the source has.
    fn npartitions(&self) -> usize;
    /// The layer name's operation, for task keys (`read-csv`).
    fn op(&self) -> &str;
    /// The work of reading partition `part`, relative to the others (its
    /// bytes, its rows), for placement on a cluster.
    fn cost(&self, part: usize) -> u64;
    /// Reads partition `part`, parsing only the columns at `projection`
    /// (ascending indices into [`schema`](Self::schema)), and gives the
    /// batches to `sink` until it returns [`Flow::Stop`] or the partition
    /// ends. Batches have exactly the projected columns, in that order (and
    /// their row count when the projection is empty).
    fn read(
        &self,
        part: usize,
        projection: &[usize],
        sink: &mut BatchSink<'_>,
    ) -> std::result::Result<(), TaskError>;
}

/// Where a frame's rows come from.
#[derive(Clone)]
pub(crate) enum Source {
    /// Partitions made by tasks, all with `schema`.
    Tasks {
        parts: Arc<[Delayed<RecordBatch>]>,
        schema: SchemaRef,
    },
    /// Partitions read by a [`Scan`].
    Scan(Arc<dyn Scan>),
    /// A broadcast join of a partitioned frame with a small one.
    Join(Arc<join::BroadcastJoin>),
}

impl Source {
    fn schema(&self) -> &SchemaRef {
        match self {
            Source::Tasks { schema, .. } => schema,
            Source::Scan(scan) => scan.schema(),
            Source::Join(j) => j.schema(),
        }
    }

    fn npartitions(&self) -> usize {
        match self {
            Source::Tasks { parts, .. } => parts.len(),
            Source::Scan(scan) => scan.npartitions(),
            Source::Join(j) => j.npartitions(),
        }
    }
}

/// A row-wise step, run on each batch inside the consuming task.
#[derive(Clone)]
pub(crate) enum Step {
    /// Output columns as named expressions over the input batch, with the
    /// output schema they make.
    Project {
        columns: Arc<[(String, Expr)]>,
        schema: SchemaRef,
    },
    /// Keeps the rows where the predicate is true (null counts as false).
    Filter(Expr),
}

impl Step {
    fn apply(&self, batch: RecordBatch) -> std::result::Result<RecordBatch, ArrowError> {
        match self {
            Step::Project { columns, schema } => {
                let arrays = columns
                    .iter()
                    .map(|(_, e)| e.evaluate(&batch))
                    .collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
                let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
                RecordBatch::try_new_with_options(schema.clone(), arrays, &options)
            }
            Step::Filter(predicate) => {
                let mask = predicate.evaluate(&batch)?;
                let mask = mask
                    .as_any()
                    .downcast_ref::<arrow_array::BooleanArray>()
                    .ok_or_else(|| {
                        ArrowError::InvalidArgumentError(format!(
                            "filter needs a boolean predicate, {predicate} is {}",
                            mask.data_type()
                        ))
                    })?;
                arrow_select::filter::filter_record_batch(&batch, mask)
            }
        }
    }
}

/// A partition as a stream of batches, ready to run inside its consuming
/// task (whose builder registered the partition's inputs).
pub(crate) struct PartitionStream<'a> {
    runner: &'a Runner,
    args: &'a mut Args,
}

pub(crate) type Runner =
    Arc<dyn Fn(&mut Args, &mut BatchSink<'_>) -> std::result::Result<(), TaskError> + Send + Sync>;

impl PartitionStream<'_> {
    /// Gives every batch of the partition to `f`, in order, until `f` says
    /// stop.
    pub(crate) fn for_each(
        self,
        mut f: impl FnMut(RecordBatch) -> std::result::Result<Flow, TaskError>,
    ) -> std::result::Result<(), TaskError> {
        (self.runner)(self.args, &mut f)
    }

    /// The whole partition as one batch of `schema`.
    pub(crate) fn collect(self, schema: &SchemaRef) -> std::result::Result<RecordBatch, TaskError> {
        let mut batches = Vec::new();
        self.for_each(|b| {
            batches.push(b);
            Ok(Flow::Continue)
        })?;
        concat(schema, &batches).map_err(TaskError::failed)
    }
}

/// Concatenates batches of one schema (keeping the row count of batches
/// without columns).
pub(crate) fn concat(
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> std::result::Result<RecordBatch, ArrowError> {
    if batches.len() == 1 {
        return Ok(batches[0].clone());
    }
    if schema.fields().is_empty() {
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        return RecordBatch::try_new_with_options(schema.clone(), vec![], &options);
    }
    arrow_select::concat::concat_batches(schema, batches)
}

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

/// The key of partition `i` of a layer: `("read-csv-3", i)`.
pub(crate) fn part_key(layer: &Arc<str>, i: usize) -> Key {
    Key::from_name(layer.clone()).with_index(i as u64)
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
        let name = crate::array::layer_name("from-batches");
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
        let name = crate::array::layer_name("from-delayed");
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

    /// The steps cut down to what the frame's columns need, and the
    /// columns of the source they read, as ascending indices (projection
    /// pushdown): walking the chain backwards, a projection keeps only the
    /// outputs needed after it, and asks for the columns those read; a
    /// filter asks for its columns too.
    fn pruned(&self) -> (Vec<Step>, Vec<usize>) {
        let mut needed: Vec<String> = self.columns();
        let mut steps = Vec::with_capacity(self.steps.len());
        for step in self.steps.iter().rev() {
            match step {
                Step::Project { columns, schema } => {
                    let kept: Vec<(String, Expr)> = columns
                        .iter()
                        .filter(|(name, _)| needed.contains(name))
                        .cloned()
                        .collect();
                    let mut before: Vec<String> = Vec::new();
                    for (_, e) in &kept {
                        for c in e.columns() {
                            if !before.iter().any(|b| b == c) {
                                before.push(c.to_owned());
                            }
                        }
                    }
                    let fields: Vec<Arc<Field>> = schema
                        .fields()
                        .iter()
                        .filter(|f| kept.iter().any(|(n, _)| n == f.name()))
                        .cloned()
                        .collect();
                    steps.push(Step::Project {
                        columns: kept.into(),
                        schema: Arc::new(Schema::new(fields)),
                    });
                    needed = before;
                }
                Step::Filter(e) => {
                    for c in e.columns() {
                        if !needed.iter().any(|n| n == c) {
                            needed.push(c.to_owned());
                        }
                    }
                    steps.push(step.clone());
                }
            }
        }
        steps.reverse();
        let source = self.source.schema();
        let mut projection: Vec<usize> = needed
            .iter()
            .filter_map(|n| source.index_of(n).ok())
            .collect();
        projection.sort_unstable();
        projection.dedup();
        (steps, projection)
    }

    /// Partition `i` as a stream: registers its inputs on `b` and returns
    /// how to run it inside the task `b` builds.
    fn runner(&self, i: usize, b: &mut TaskBuilder) -> Runner {
        let (steps, projection) = self.pruned();
        let run_steps = move |mut batch: RecordBatch,
                              sink: &mut BatchSink<'_>|
              -> std::result::Result<Flow, TaskError> {
            for step in steps.iter() {
                batch = step.apply(batch).map_err(TaskError::failed)?;
            }
            sink(batch)
        };
        match &self.source {
            Source::Tasks { parts, .. } => {
                let input: ArgSlot<RecordBatch> = b.input(&parts[i]);
                Arc::new(move |args: &mut Args, sink: &mut BatchSink<'_>| {
                    run_steps(input.take(args)?, sink).map(|_| ())
                })
            }
            Source::Scan(scan) => {
                b.set_cost(scan.cost(i));
                let scan = scan.clone();
                Arc::new(move |_: &mut Args, sink: &mut BatchSink<'_>| {
                    scan.read(i, &projection, &mut |batch| run_steps(batch, sink))
                })
            }
            Source::Join(join) => match join.partition(i, &projection, b) {
                Ok(part) => Arc::new(move |args: &mut Args, sink: &mut BatchSink<'_>| {
                    part(args, &mut |batch| run_steps(batch, sink))
                }),
                // Cannot happen for a join that was planned (its columns and
                // keys exist); fail the task rather than the build.
                Err(e) => {
                    let e = Arc::new(e.to_string());
                    Arc::new(move |_: &mut Args, _: &mut BatchSink<'_>| {
                        Err(TaskError::failed(format!("merge: {e}")))
                    })
                }
            },
        }
    }

    /// One task per partition, keyed `(op-N, i)`: `f(i, stream)` consumes
    /// partition `i`'s batches (with the steps applied) and makes a result.
    pub(crate) fn consume<U, F>(&self, op: &str, f: F) -> Vec<Delayed<U>>
    where
        U: Send + Sync + 'static,
        F: Fn(usize, PartitionStream<'_>) -> std::result::Result<U, TaskError>
            + Send
            + Sync
            + 'static,
    {
        let layer = crate::array::layer_name(op);
        let f = Arc::new(f);
        (0..self.npartitions())
            .map(|i| {
                let mut b = TaskBuilder::new("dataframe-partition").key(part_key(&layer, i));
                let runner = self.runner(i, &mut b);
                let f = f.clone();
                b.build(move |args| {
                    f(
                        i,
                        PartitionStream {
                            runner: &runner,
                            args,
                        },
                    )
                })
            })
            .collect()
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
            let mut b =
                TaskBuilder::new("head").key(part_key(&crate::array::layer_name("head"), i));
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use arrow_array::Int64Array;

    use super::*;

    /// A scan over one in-memory batch per partition that records the
    /// projections it is asked for.
    struct MemScan {
        schema: SchemaRef,
        parts: Vec<RecordBatch>,
        asked: Mutex<Vec<Vec<usize>>>,
    }

    impl Scan for MemScan {
        fn schema(&self) -> &SchemaRef {
            &self.schema
        }
        fn npartitions(&self) -> usize {
            self.parts.len()
        }
        fn op(&self) -> &str {
            "read-mem"
        }
        fn cost(&self, part: usize) -> u64 {
            self.parts.get(part).map_or(1, |b| b.num_rows() as u64)
        }
        fn read(
            &self,
            part: usize,
            projection: &[usize],
            sink: &mut BatchSink<'_>,
        ) -> std::result::Result<(), TaskError> {
            self.asked.lock().unwrap().push(projection.to_vec());
            let b = self.parts[part]
                .project(projection)
                .map_err(TaskError::failed)?;
            // Two batches per partition, so a stop after the first shows.
            let half = b.num_rows() / 2;
            if sink(b.slice(0, half))? == Flow::Stop {
                return Ok(());
            }
            sink(b.slice(half, b.num_rows() - half)).map(|_| ())
        }
    }

    fn scan() -> Arc<MemScan> {
        let column = |k: i64| {
            Arc::new(Int64Array::from_iter_values((0..10).map(move |v| v * k))) as ArrayRef
        };
        let batch = RecordBatch::try_from_iter([
            ("a", column(1)),
            ("b", column(10)),
            ("c", column(100)),
            ("d", column(1000)),
        ])
        .unwrap();
        Arc::new(MemScan {
            schema: batch.schema(),
            parts: vec![batch.clone(), batch],
            asked: Mutex::new(Vec::new()),
        })
    }

    #[test]
    fn only_the_needed_columns_are_read() {
        let s = scan();
        let df = DataFrame::from_source(Source::Scan(s.clone()))
            .with_column("e", col("c") + col("a"))
            .unwrap()
            .filter(col("b").gt(20))
            .unwrap()
            .select(["e"])
            .unwrap();
        let out = df.compute().unwrap();
        // c + a for b in 30..=90, twice.
        let want: Vec<i64> = (3..10).map(|v| 101 * v).collect();
        let want = [want.clone(), want].concat();
        assert_eq!(
            out.column(0).as_ref(),
            &Int64Array::from(want) as &dyn Array
        );
        assert!(s.asked.lock().unwrap().iter().all(|p| p == &[0, 1, 2]));

        s.asked.lock().unwrap().clear();
        assert_eq!(df.len().compute().unwrap(), 14);
        // Counting rows needs only what the filter reads.
        assert!(s.asked.lock().unwrap().iter().all(|p| p == &[1]));

        s.asked.lock().unwrap().clear();
        let plain = DataFrame::from_source(Source::Scan(s.clone()));
        assert_eq!(plain.len().compute().unwrap(), 20);
        assert!(s.asked.lock().unwrap().iter().all(|p| p.is_empty()));
    }

    #[test]
    fn a_scanned_partition_task_carries_its_cost() {
        let df = DataFrame::from_source(Source::Scan(scan()));
        let parts = df.to_delayed();
        let g = dagwood_runtime::WireGraph::new(&parts);
        let costs: Vec<u64> = (0..g.len()).map(|t| g.cost(t)).collect();
        assert_eq!(costs, [10, 10]); // rows of each partition
    }

    #[test]
    fn head_stops_reading_early() {
        let s = scan();
        let df = DataFrame::from_source(Source::Scan(s.clone()));
        let h = df.head(3).unwrap();
        assert_eq!(h.num_rows(), 3);
        // One partition asked, and it stopped after its first batch.
        assert_eq!(s.asked.lock().unwrap().len(), 1);
        let h = df.head(12).unwrap();
        assert_eq!(
            h.column(0).as_ref(),
            &Int64Array::from(vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]) as &dyn Array
        );
    }
}
