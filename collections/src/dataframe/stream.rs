//! The batch-streaming engine under every frame: a partition's *source*
//! (a [`Scan`] of files, or tasks that made record batches) and the chain
//! of row-wise *steps* run on each batch as it is read, inside the task
//! that consumes the partition. Before reading, the chain is pruned to the
//! columns it needs, and only those are read (projection pushdown).

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{ArrowError, Field, Schema, SchemaRef};
use dagwood_runtime::{ArgSlot, Args, Delayed, TaskBuilder, TaskError};

use super::expr::Expr;
use super::join;
use super::DataFrame;
use crate::keys::part_key;

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
    pub(crate) fn schema(&self) -> &SchemaRef {
        match self {
            Source::Tasks { schema, .. } => schema,
            Source::Scan(scan) => scan.schema(),
            Source::Join(j) => j.schema(),
        }
    }

    pub(crate) fn npartitions(&self) -> usize {
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
    pub(crate) fn apply(&self, batch: RecordBatch) -> std::result::Result<RecordBatch, ArrowError> {
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
    pub(crate) runner: &'a Runner,
    pub(crate) args: &'a mut Args,
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

impl DataFrame {
    /// The steps cut down to what the frame's columns need, and the
    /// columns of the source they read, as ascending indices (projection
    /// pushdown): walking the chain backwards, a projection keeps only the
    /// outputs needed after it, and asks for the columns those read; a
    /// filter asks for its columns too.
    pub(crate) fn pruned(&self) -> (Vec<Step>, Vec<usize>) {
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
    pub(crate) fn runner(&self, i: usize, b: &mut TaskBuilder) -> Runner {
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
        let layer = crate::keys::layer_name(op);
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
}

#[cfg(test)]
mod tests {
    use crate::dataframe::col;
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
