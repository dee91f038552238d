//! The broadcast join: a one-partition side built once per task and
//! probed by the other side's partitions as they stream.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Field, Schema, SchemaRef};
use dagwood_runtime::{ArgSlot, Delayed, TaskBuilder, TaskError};

use super::table::{unmatched, Build, Out, Plan, Side, Table};
use super::How;
use crate::dataframe::error::DataFrameError;
use crate::dataframe::{concat, part_key, DataFrame, Flow};

/// `small` whole, in one task: the side a broadcast join builds.
pub(super) fn whole_of(small: &DataFrame) -> Delayed<RecordBatch> {
    let parts = small.to_delayed();
    let mut b = TaskBuilder::new("merge-broadcast")
        .key(part_key(&crate::keys::layer_name("merge-broadcast"), 0));
    let slots: Vec<ArgSlot<RecordBatch>> = parts.iter().map(|p| b.input(p)).collect();
    let schema = small.schema().clone();
    b.build(move |args| {
        let batches = slots
            .iter()
            .map(|s| s.take(args))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        concat(&schema, &batches).map_err(TaskError::failed)
    })
}

/// A broadcast join kept as a frame's source: partition `i` of the result
/// is partition `i` of `big` streamed batch by batch through a hash table of
/// `small` (built once per task from `small` whole). Because it is built
/// when a consumer asks for partition `i` with the columns it needs, only
/// the big side's key columns and the needed ones are read (projection
/// pushdown through the join, down to the CSV or Parquet reader).
pub(crate) struct BroadcastJoin {
    pub(super) plan: Arc<Plan>,
    pub(super) big: DataFrame,
    pub(super) whole: Delayed<RecordBatch>,
    pub(super) built: Build,
    pub(super) keep_probe: bool,
}

impl BroadcastJoin {
    pub(super) fn new(
        plan: &Arc<Plan>,
        big: &DataFrame,
        small: &DataFrame,
        built: Build,
    ) -> BroadcastJoin {
        let keep_probe = match built {
            Build::Right => matches!(plan.how, How::Left | How::Outer),
            Build::Left => matches!(plan.how, How::Right | How::Outer),
        };
        BroadcastJoin {
            plan: plan.clone(),
            big: big.clone(),
            whole: whole_of(small),
            built,
            keep_probe,
        }
    }

    pub(crate) fn schema(&self) -> &SchemaRef {
        &self.plan.schema
    }

    pub(crate) fn npartitions(&self) -> usize {
        self.big.npartitions()
    }

    /// Partition `i` with exactly the output columns at `projection`
    /// (ascending): registers its inputs on `b` and returns how to stream
    /// its batches to a sink inside the task `b` builds.
    pub(crate) fn partition(
        &self,
        i: usize,
        projection: &[usize],
        b: &mut TaskBuilder,
    ) -> std::result::Result<crate::dataframe::Runner, DataFrameError> {
        let plan = &self.plan;
        let (probe_keys, build_keys) = match self.built {
            Build::Right => (&plan.left_keys, &plan.right_keys),
            Build::Left => (&plan.right_keys, &plan.left_keys),
        };
        let probe_col = |o: &Out| match (*o, self.built) {
            (Out::Left(c), Build::Right) | (Out::Right(c), Build::Left) => Some(c),
            _ => None,
        };
        // With no column asked for (a row count), still make key rows.
        let wanted: Vec<usize> = if projection.is_empty() {
            Vec::new()
        } else {
            projection.to_vec()
        };
        let outs: Vec<Out> = if wanted.is_empty() {
            vec![Out::Key(0)]
        } else {
            wanted.iter().map(|&p| plan.out[p]).collect()
        };
        // The big side's columns to read: its keys and the wanted ones.
        let mut kept: Vec<usize> = probe_keys.indices().to_vec();
        kept.extend(outs.iter().filter_map(probe_col));
        kept.sort_unstable();
        kept.dedup();
        let big_schema = self.big.schema();
        let names: Vec<&str> = kept
            .iter()
            .map(|&c| big_schema.field(c).name().as_str())
            .collect();
        let narrow = self.big.select(names)?;
        let probe_keys = probe_keys.reindexed(narrow.schema())?;
        let remap = |c: usize| kept.iter().position(|&k| k == c).unwrap_or(c);
        let out: Vec<Out> = outs
            .iter()
            .map(|o| match (*o, self.built) {
                (Out::Left(c), Build::Right) => Out::Left(remap(c)),
                (Out::Right(c), Build::Left) => Out::Right(remap(c)),
                (other, _) => other,
            })
            .collect();
        let fields: Vec<Field> = if wanted.is_empty() {
            vec![Field::new("key", plan.left_keys.types()[0].clone(), true)]
        } else {
            wanted
                .iter()
                .map(|&p| plan.schema.field(p).clone())
                .collect()
        };
        let (left_keys, right_keys) = match self.built {
            Build::Right => (probe_keys.clone(), build_keys.clone()),
            Build::Left => (build_keys.clone(), probe_keys.clone()),
        };
        let narrow_plan = Arc::new(Plan {
            how: plan.how,
            left_keys,
            right_keys,
            out,
            schema: Arc::new(Schema::new(fields)),
        });
        let small = b.input(&self.whole);
        let big = narrow.runner(i, b);
        let (built, keep_probe, build_keys) = (self.built, self.keep_probe, build_keys.clone());
        let rows_only = wanted.is_empty();
        Ok(Arc::new(move |args, sink| {
            let build = Side::new(&build_keys, small.get(args)?.clone())?;
            let table = Table::build(&build);
            big(args, &mut |batch: RecordBatch| {
                let probe = Side::new(&probe_keys, batch)?;
                let (p, bi) = table.probe(&probe, keep_probe, None);
                let out = match built {
                    Build::Right => narrow_plan.assemble(&probe, &build, &p, &bi),
                    Build::Left => narrow_plan.assemble(&build, &probe, &bi, &p),
                }
                .map_err(TaskError::failed)?;
                if rows_only {
                    let options =
                        arrow_array::RecordBatchOptions::new().with_row_count(Some(out.num_rows()));
                    let empty = Arc::new(Schema::empty());
                    let out = RecordBatch::try_new_with_options(empty, vec![], &options)
                        .map_err(TaskError::failed)?;
                    return sink(out);
                }
                sink(out)
            })
        }))
    }
}

/// A join that broadcasts `small` (built, whole, in one task) to every
/// partition of `big`, whose batches stream through and probe it. `built`
/// says which side of the join `small` is.
pub(super) fn broadcast_join(
    plan: &Arc<Plan>,
    big: &DataFrame,
    small: &DataFrame,
    built: Build,
) -> Vec<Delayed<RecordBatch>> {
    let whole = whole_of(small);
    let how = plan.how;
    // Only a single partition of the big side sees all its rows, so only
    // then can the built side's unmatched rows be known (outer join).
    let keep_build = how == How::Outer && big.npartitions() == 1;
    let keep_probe = match built {
        Build::Right => matches!(how, How::Left | How::Outer),
        Build::Left => matches!(how, How::Right | How::Outer),
    };
    let (build_keys, probe_keys) = match built {
        Build::Right => (plan.right_keys.clone(), plan.left_keys.clone()),
        Build::Left => (plan.left_keys.clone(), plan.right_keys.clone()),
    };
    let layer = crate::keys::layer_name("merge");
    let schema = plan.schema.clone();
    (0..big.npartitions())
        .map(|i| {
            let mut b = TaskBuilder::new("merge").key(part_key(&layer, i));
            let runner = big.runner(i, &mut b);
            let small = b.input(&whole);
            let (plan, build_keys, probe_keys, schema) = (
                plan.clone(),
                build_keys.clone(),
                probe_keys.clone(),
                schema.clone(),
            );
            let big_schema = big.schema().clone();
            b.build(move |args| {
                let build = Side::new(&build_keys, small.get(args)?.clone())?;
                let table = Table::build(&build);
                let mut outs = Vec::new();
                let mut matched = vec![false; if keep_build { build.rows.num_rows() } else { 0 }];
                runner(args, &mut |batch: RecordBatch| {
                    let probe = Side::new(&probe_keys, batch)?;
                    let (p, bi) =
                        table.probe(&probe, keep_probe, keep_build.then_some(&mut matched[..]));
                    let out = match built {
                        Build::Right => plan.assemble(&probe, &build, &p, &bi),
                        Build::Left => plan.assemble(&build, &probe, &bi, &p),
                    };
                    outs.push(out.map_err(TaskError::failed)?);
                    Ok(Flow::Continue)
                })?;
                if keep_build {
                    // The built rows that matched no row of any batch.
                    let none = Side::new(&probe_keys, RecordBatch::new_empty(big_schema.clone()))?;
                    let (p, bi) = unmatched(&matched);
                    let out = match built {
                        Build::Right => plan.assemble(&none, &build, &p, &bi),
                        Build::Left => plan.assemble(&build, &none, &bi, &p),
                    };
                    outs.push(out.map_err(TaskError::failed)?);
                }
                concat(&schema, &outs).map_err(TaskError::failed)
            })
        })
        .collect()
}
