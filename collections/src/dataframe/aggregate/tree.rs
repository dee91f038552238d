//! The aggregation tree of tasks (see the [module docs](super)): chunk
//! tasks per partition, combine tasks, the root.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions, UInt32Array};
use arrow_buffer::NullBuffer;
use arrow_ord::sort::{lexsort_to_indices, SortColumn};
use arrow_schema::{ArrowError, Field, Schema, SchemaRef};
use dagwood_runtime::{Combiner, Delayed, Key, TaskBuilder, TaskError};

use crate::dataframe::aggregate::accumulate::{accumulator, Accumulator, Func};
use crate::dataframe::aggregate::grouper::Grouper;
use crate::dataframe::error::{DataFrameError, Result};
use crate::dataframe::expr::unknown_column;
use crate::dataframe::{part_key, DataFrame, Flow, PartitionStream};

/// Fan-in of aggregation trees unless set with `split_every`: how many
/// partial results one combine task merges (Dask's default is 8 too).
///
/// ```
/// assert_eq!(dagwood_collections::dataframe::DEFAULT_SPLIT_EVERY, 8);
/// ```
pub const DEFAULT_SPLIT_EVERY: usize = 8;

/// One aggregation bound to its input column and output name.
#[derive(Clone, Debug)]
pub(crate) struct Bound {
    pub(crate) func: Func,
    /// The input column (`None` for `size`).
    pub(crate) column: Option<String>,
    /// The output column's name.
    pub(crate) output: String,
}

/// The task tree's shape: fan-in and number of output partitions.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    pub(crate) split_every: usize,
    pub(crate) split_out: usize,
}

impl Shape {
    fn check(&self) -> Result<()> {
        if self.split_every < 2 {
            return Err(DataFrameError::Invalid(format!(
                "split_every must be at least 2, got {}",
                self.split_every
            )));
        }
        if self.split_out < 1 {
            return Err(DataFrameError::Invalid(
                "split_out must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// Everything a task needs to know: checked against the frame's schema
/// when the aggregation is built, so tasks do not fail on types.
struct Plan {
    /// Key columns' indices in the input batches.
    key_index: Vec<usize>,
    /// Each aggregation's function and input column index in the input
    /// batches.
    aggs: Vec<(Func, Option<usize>, Option<arrow_schema::DataType>)>,
    /// Key types, for groupers.
    key_types: Vec<arrow_schema::DataType>,
    /// How many state columns each aggregation has.
    widths: Vec<usize>,
    /// Keys then state columns.
    state_schema: SchemaRef,
    /// Keys then answers.
    output_schema: SchemaRef,
}

/// A hash aggregation of a frame, ready to become tasks.
pub(crate) struct HashAggregate {
    /// The frame with only the columns the aggregation reads.
    input: DataFrame,
    plan: Arc<Plan>,
}

impl HashAggregate {
    /// Checks the aggregations against `df`'s schema: unknown columns,
    /// functions that do not apply to a column's type and duplicate output
    /// names are errors here.
    pub(crate) fn new(df: &DataFrame, keys: &[String], aggs: &[Bound]) -> Result<HashAggregate> {
        let schema = df.schema();
        // The columns to read: keys, then inputs, each once.
        let mut read: Vec<String> = Vec::new();
        let mut index_of = |name: &str| -> Result<usize> {
            schema
                .index_of(name)
                .map_err(|_| unknown_column(name, schema))?;
            Ok(match read.iter().position(|r| r == name) {
                Some(i) => i,
                None => {
                    read.push(name.to_owned());
                    read.len() - 1
                }
            })
        };
        let mut key_index = Vec::with_capacity(keys.len());
        for k in keys {
            key_index.push(index_of(k)?);
        }
        let mut bound = Vec::with_capacity(aggs.len());
        for a in aggs {
            bound.push(a.column.as_deref().map(&mut index_of).transpose()?);
        }
        let input = df.select(&read)?;

        let key_fields: Vec<Field> = key_index
            .iter()
            .map(|&i| input.schema().field(i).clone())
            .collect();
        let key_types = key_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect::<Vec<_>>();
        Grouper::new(&key_types)
            .map_err(|e| DataFrameError::types(format!("groupby {}", keys.join(", ")), e))?;

        let mut out_fields = key_fields.clone();
        let mut state_fields = key_fields;
        let mut planned = Vec::with_capacity(aggs.len());
        let mut widths = Vec::with_capacity(aggs.len());
        for (j, (a, input_index)) in aggs.iter().zip(bound).enumerate() {
            let t = input_index.map(|i| input.schema().field(i).data_type().clone());
            let acc = accumulator(&a.func, t.as_ref()).map_err(|message| DataFrameError::Type {
                context: match (&a.column, &t) {
                    (Some(c), Some(t)) => format!("{} of column {c:?} ({t})", a.func.name()),
                    _ => a.func.name().to_owned(),
                },
                message,
            })?;
            if let Some(dup) = out_fields.iter().find(|f| f.name() == &a.output) {
                return Err(DataFrameError::Invalid(format!(
                    "aggregation output column {:?} appears twice{}; give the aggregations \
                     distinct names with `.alias(..)`",
                    dup.name(),
                    if keys.contains(&a.output) {
                        " (it is a key column)"
                    } else {
                        ""
                    }
                )));
            }
            out_fields.push(Field::new(a.output.clone(), acc.output_type(), true));
            let types = acc.state_types();
            widths.push(types.len());
            for (k, t) in types.into_iter().enumerate() {
                state_fields.push(Field::new(format!("{j}.{k}"), t, true));
            }
            planned.push((a.func.clone(), input_index, t));
        }
        Ok(HashAggregate {
            input,
            plan: Arc::new(Plan {
                key_index,
                aggs: planned,
                key_types,
                widths,
                state_schema: Arc::new(Schema::new(state_fields)),
                output_schema: Arc::new(Schema::new(out_fields)),
            }),
        })
    }

    /// The schema of the result: keys, then one column per aggregation.
    pub(crate) fn output_schema(&self) -> &SchemaRef {
        &self.plan.output_schema
    }

    /// The aggregation as one task keyed `(op-N)` whose value is
    /// `finish(result)`.
    pub(crate) fn to_delayed<R: Send + Sync + 'static>(
        &self,
        op: &str,
        split_every: usize,
        finish: impl Fn(RecordBatch) -> Result<R> + Send + Sync + 'static,
    ) -> Result<Delayed<R>> {
        let shape = Shape {
            split_every,
            split_out: 1,
        };
        let mut roots = self.tasks(op, shape, false, Arc::new(finish))?;
        roots
            .pop()
            .ok_or_else(|| DataFrameError::Invalid("aggregation without a root".into()))
    }

    /// The aggregation as a frame of `shape.split_out` partitions keyed
    /// `(op-N, j)`, each `finish(result)` of schema `schema`.
    pub(crate) fn to_frame(
        &self,
        op: &str,
        shape: Shape,
        schema: SchemaRef,
        finish: impl Fn(RecordBatch) -> Result<RecordBatch> + Send + Sync + 'static,
    ) -> Result<DataFrame> {
        let parts = self.tasks(op, shape, true, Arc::new(finish))?;
        Ok(DataFrame::from_tasks(parts, schema))
    }

    #[allow(clippy::type_complexity)]
    fn tasks<R: Send + Sync + 'static>(
        &self,
        op: &str,
        shape: Shape,
        frame: bool,
        finish: Arc<dyn Fn(RecordBatch) -> Result<R> + Send + Sync>,
    ) -> Result<Vec<Delayed<R>>> {
        shape.check()?;
        let token = crate::keys::token();
        let name: Arc<str> = format!("{op}-{token}").into();
        let chunk_name: Arc<str> = format!("{op}-chunk-{token}").into();
        let combine_name: Arc<str> = format!("{op}-combine-{token}").into();
        let leaves = self.chunks(&chunk_name, shape.split_out);
        Ok((0..shape.split_out)
            .map(|j| {
                let root_key = if frame {
                    part_key(&name, j)
                } else {
                    Key::from_name(name.clone())
                };
                self.tree(&leaves, &combine_name, root_key, shape, j, finish.clone())
            })
            .collect())
    }

    /// One task per partition (one over no rows for a frame without
    /// partitions, so that a whole-frame aggregation still has its row):
    /// the partition's partials, `split_out` of them.
    fn chunks(&self, name: &Arc<str>, split_out: usize) -> Vec<Delayed<Vec<RecordBatch>>> {
        let n = self.input.npartitions();
        if n == 0 {
            let plan = self.plan.clone();
            let task = TaskBuilder::new("dataframe-aggregate")
                .key(part_key(name, 0))
                .build(move |_| {
                    Partial::new(&plan)?
                        .into_states(split_out)
                        .map_err(TaskError::failed)
                });
            return vec![task];
        }
        (0..n)
            .map(|i| {
                let mut b = TaskBuilder::new("dataframe-aggregate").key(part_key(name, i));
                let runner = self.input.runner(i, &mut b);
                let plan = self.plan.clone();
                b.build(move |args| {
                    let mut partial = Partial::new(&plan)?;
                    PartitionStream {
                        runner: &runner,
                        args,
                    }
                    .for_each(|batch| {
                        partial.update(&batch).map_err(TaskError::failed)?;
                        Ok(Flow::Continue)
                    })?;
                    partial.into_states(split_out).map_err(TaskError::failed)
                })
            })
            .collect()
    }

    /// The tree for output partition `j`: combine tasks of at most
    /// `split_every` inputs until that many remain, then the root. The
    /// leaves carry every output partition's partial; the first level
    /// takes the `j`-th, higher levels carry one.
    fn tree<R: Send + Sync + 'static>(
        &self,
        leaves: &[Delayed<Vec<RecordBatch>>],
        combine_name: &Arc<str>,
        root_key: Key,
        shape: Shape,
        j: usize,
        finish: Arc<dyn Fn(RecordBatch) -> Result<R> + Send + Sync>,
    ) -> Delayed<R> {
        let mut level: Vec<Delayed<Vec<RecordBatch>>> = leaves.to_vec();
        let mut pick = j;
        // With one output partition every task merges the first partial of
        // its inputs, whatever the tree's shape: a cluster may regroup it.
        let combiner = (shape.split_out == 1).then(|| {
            let plan = self.plan.clone();
            Combiner::new(move |partials: Vec<Vec<RecordBatch>>| {
                let mut partial = Partial::new(&plan)?;
                for p in &partials {
                    partial.merge(p, 0).map_err(TaskError::failed)?;
                }
                partial.into_states(1).map_err(TaskError::failed)
            })
        });
        let mut depth = 0u64;
        while level.len() > shape.split_every {
            level = level
                .chunks(shape.split_every)
                .enumerate()
                .map(|(i, inputs)| {
                    let key = Key::from_name(combine_name.clone());
                    let key = if shape.split_out > 1 {
                        key.with_indices(&[j as u64, depth, i as u64])
                    } else {
                        key.with_indices(&[depth, i as u64])
                    };
                    let mut b = TaskBuilder::new("dataframe-aggregate-combine").key(key);
                    if let Some(c) = &combiner {
                        b = b.combines(c);
                    }
                    let slots = b.args(inputs.iter().cloned());
                    let plan = self.plan.clone();
                    b.build(move |args| {
                        let mut partial = Partial::new(&plan)?;
                        for s in &slots {
                            partial
                                .merge(s.get(args)?, pick)
                                .map_err(TaskError::failed)?;
                        }
                        partial.into_states(1).map_err(TaskError::failed)
                    })
                })
                .collect();
            pick = 0;
            depth += 1;
        }
        let mut b = TaskBuilder::new("dataframe-aggregate-finish").key(root_key);
        if let Some(c) = &combiner {
            let (plan, finish) = (self.plan.clone(), finish.clone());
            b = b.reduces(c, move |partials: Vec<Vec<RecordBatch>>| {
                let mut partial = Partial::new(&plan)?;
                for p in &partials {
                    partial.merge(p, 0).map_err(TaskError::failed)?;
                }
                let result = partial.finish().map_err(TaskError::failed)?;
                finish(result).map_err(TaskError::failed)
            });
        }
        let slots = b.args(level);
        let plan = self.plan.clone();
        b.build(move |args| {
            let mut partial = Partial::new(&plan)?;
            for s in &slots {
                partial
                    .merge(s.get(args)?, pick)
                    .map_err(TaskError::failed)?;
            }
            let result = partial.finish().map_err(TaskError::failed)?;
            finish(result).map_err(TaskError::failed)
        })
    }
}

/// The groups and accumulator states of one task.
struct Partial<'p> {
    plan: &'p Plan,
    grouper: Grouper,
    accs: Vec<Box<dyn Accumulator>>,
    /// Scratch: the group of each row of the batch at hand.
    groups: Vec<u32>,
}

impl<'p> Partial<'p> {
    fn new(plan: &'p Plan) -> std::result::Result<Partial<'p>, TaskError> {
        let grouper = Grouper::new(&plan.key_types).map_err(TaskError::failed)?;
        let accs = plan
            .aggs
            .iter()
            .map(|(func, _, t)| accumulator(func, t.as_ref()))
            .collect::<std::result::Result<Vec<_>, String>>()
            .map_err(TaskError::failed)?;
        Ok(Partial {
            plan,
            grouper,
            accs,
            groups: Vec::new(),
        })
    }

    /// Adds the rows of an input batch, but those with a null key.
    fn update(&mut self, batch: &RecordBatch) -> std::result::Result<(), ArrowError> {
        let keys: Vec<&ArrayRef> = self
            .plan
            .key_index
            .iter()
            .map(|&i| batch.column(i))
            .collect();
        let nulls: Vec<Option<NullBuffer>> = keys.iter().map(|k| k.logical_nulls()).collect();
        let filtered;
        let batch = match NullBuffer::union_many(nulls.iter().map(Option::as_ref)) {
            Some(valid) if valid.null_count() > 0 => {
                let keep = BooleanArray::new(valid.into_inner(), None);
                filtered = arrow_select::filter::filter_record_batch(batch, &keep)?;
                &filtered
            }
            _ => batch,
        };
        let keys: Vec<ArrayRef> = self
            .plan
            .key_index
            .iter()
            .map(|&i| batch.column(i).clone())
            .collect();
        self.grouper
            .intern(&keys, batch.num_rows(), &mut self.groups)?;
        let ngroups = self.grouper.len();
        for (acc, (_, input, _)) in self.accs.iter_mut().zip(&self.plan.aggs) {
            acc.update(input.map(|i| batch.column(i)), &self.groups, ngroups)?;
        }
        Ok(())
    }

    /// Adds a partial (element `pick` of `partials`).
    fn merge(
        &mut self,
        partials: &[RecordBatch],
        pick: usize,
    ) -> std::result::Result<(), ArrowError> {
        let state = partials.get(pick).ok_or_else(|| {
            ArrowError::ComputeError(format!("no partial {pick} of {}", partials.len()))
        })?;
        let nkeys = self.plan.key_index.len();
        let columns = state.columns();
        self.grouper
            .intern(&columns[..nkeys], state.num_rows(), &mut self.groups)?;
        let ngroups = self.grouper.len();
        let mut at = nkeys;
        for (acc, &w) in self.accs.iter_mut().zip(&self.plan.widths) {
            acc.merge(&columns[at..at + w], &self.groups, ngroups)?;
            at += w;
        }
        Ok(())
    }

    /// The keys and states, one row per group, as `split_out` batches
    /// (groups routed by their key's hash).
    fn into_states(
        mut self,
        split_out: usize,
    ) -> std::result::Result<Vec<RecordBatch>, ArrowError> {
        let ngroups = self.grouper.len();
        let mut columns = self.grouper.emit()?;
        for acc in &mut self.accs {
            columns.extend(acc.state(ngroups)?);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(ngroups));
        let batch =
            RecordBatch::try_new_with_options(self.plan.state_schema.clone(), columns, &options)?;
        if split_out == 1 {
            return Ok(vec![batch]);
        }
        let mut routes: Vec<Vec<u32>> = vec![Vec::new(); split_out];
        let hashes = self.grouper.hashes();
        for g in 0..ngroups {
            // Keyless aggregations have one group and one output.
            let j = hashes.get(g).map_or(0, |&h| route(h, split_out));
            routes[j].push(g as u32);
        }
        routes
            .into_iter()
            .map(|rows| arrow_select::take::take_record_batch(&batch, &UInt32Array::from(rows)))
            .collect()
    }

    /// The keys and answers, sorted by the keys.
    fn finish(mut self) -> std::result::Result<RecordBatch, ArrowError> {
        let ngroups = self.grouper.len();
        let keys = self.grouper.emit()?;
        let mut columns = keys.clone();
        for acc in &mut self.accs {
            columns.push(acc.finish(ngroups)?);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(ngroups));
        let batch =
            RecordBatch::try_new_with_options(self.plan.output_schema.clone(), columns, &options)?;
        if keys.is_empty() {
            return Ok(batch);
        }
        let order = lexsort_to_indices(
            &keys
                .into_iter()
                .map(|values| SortColumn {
                    values,
                    options: None,
                })
                .collect::<Vec<_>>(),
            None,
        )?;
        arrow_select::take::take_record_batch(&batch, &order)
    }
}

/// The output partition of a key's hash among `n`: a multiply-shift of the
/// high half (the low bits pick table slots, so they are not reused here).
fn route(hash: u64, n: usize) -> usize {
    (((hash >> 32) * n as u64) >> 32) as usize
}
