//! Moving rows between partitions: hash partitioning of record batches by
//! key columns ([`DataFrame::shuffle`]), and the machinery that joins,
//! `drop_duplicates`, `sort_values` and `groupby(..).apply` share.
//!
//! Every such operation is one run of the crate's shuffle
//! ([`crate::shuffle`]): a *split* task per input partition streams the
//! partition's batches (with the frame's steps applied, so a filtered-away
//! row never travels), gives every row an output partition, cuts each batch
//! into one sub-batch per output partition with Arrow's `take`, and pushes
//! the sub-batches into the shuffle's buckets. Buckets past the memory
//! budget are spilled to disk in Arrow IPC stream format. A *gather* task
//! per output partition concatenates its sub-batches — in input order, so
//! rows keep their relative order — and hands the batch to the operation.
//!
//! # Keys
//!
//! Key columns are compared through their [arrow-row] encoding: the values
//! of a row's key columns as one byte string, equal exactly when the values
//! are equal (a null equals a null here). For hashing and equality the key
//! columns are first cast to the types they are compared in — a join casts
//! both sides to a common type, so that an `Int32` key and an `Int64` key of
//! equal value encode, hash and land alike — and floats are normalised so
//! that `-0.0` equals `0.0` and every NaN equals every other NaN (as pandas
//! compares them). The hash is a fixed function of those bytes, so a key's
//! output partition is the same in every task, run and process.
//!
//! [arrow-row]: https://docs.rs/arrow-row

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow_buffer::NullBuffer;
use arrow_row::{RowConverter, Rows, SortField};
use arrow_schema::{ArrowError, DataType, Schema, SchemaRef, SortOptions};
use dagwood_runtime::{BoxError, Delayed, TaskBuilder, TaskError};

use super::error::{DataFrameError, Result};
use super::expr::unknown_column;
use super::{concat, part_key, DataFrame, Flow};
use crate::shuffle::{bucket_of, gather, Spill, SplitStage};

pub use crate::shuffle::{SpillError, SpillStats};

/// The split stage's memory budget when [`ShuffleOptions::memory_limit`] is
/// `None`: 1 GiB.
pub const DEFAULT_SHUFFLE_MEMORY_LIMIT: usize = 1 << 30;

/// How a DataFrame shuffle runs: output partitions, memory budget, spill
/// directory. Used by [`DataFrame::shuffle`], joins
/// ([`MergeOptions::shuffle`](super::MergeOptions::shuffle)) and
/// `groupby(..).apply_with`.
///
/// ```
/// use std::sync::Arc;
/// use dagwood_collections::dataframe::{ShuffleOptions, SpillStats};
/// let stats = Arc::new(SpillStats::default());
/// let options = ShuffleOptions {
///     npartitions: Some(4),
///     memory_limit: Some(64 << 20), // spill past 64 MiB
///     stats: Some(stats.clone()),
///     ..Default::default()
/// };
/// assert_eq!(options.npartitions, Some(4));
/// assert!(ShuffleOptions::default().spill_dir.is_none());
/// ```
#[derive(Clone, Debug, Default)]
pub struct ShuffleOptions {
    /// Number of output partitions; `None`: the operation's default (the
    /// input's partition count; the larger side's for a join). Each output
    /// partition is built in memory, so make them small enough.
    pub npartitions: Option<usize>,
    /// Memory budget in bytes for the sub-batches held between the
    /// shuffle's two stages (their Arrow buffer sizes), shared evenly by the
    /// input partitions; past it, sub-batches are written to disk.
    /// `None`: [`DEFAULT_SHUFFLE_MEMORY_LIMIT`]; `Some(usize::MAX)`: never
    /// spill; `Some(0)`: spill everything.
    pub memory_limit: Option<usize>,
    /// Directory under which spill files go (in a fresh
    /// `dagwood-spill-<pid>-<n>` subdirectory per run, removed afterwards,
    /// also when the computation fails); `None`: [`std::env::temp_dir`].
    pub spill_dir: Option<PathBuf>,
    /// Counters to update with what was spilled.
    pub stats: Option<Arc<SpillStats>>,
}

impl ShuffleOptions {
    /// The crate shuffle's options: `default_m` output partitions unless
    /// set; `share` divides the memory budget (a join runs two shuffles).
    pub(crate) fn plan(
        &self,
        default_m: usize,
        share: usize,
        context: &str,
    ) -> Result<crate::shuffle::ShuffleOptions> {
        let m = match self.npartitions {
            Some(0) => {
                return Err(DataFrameError::Invalid(format!(
                    "{context}: npartitions must be at least 1"
                )))
            }
            Some(m) => m,
            None => default_m.max(1),
        };
        let limit = self.memory_limit.unwrap_or(DEFAULT_SHUFFLE_MEMORY_LIMIT);
        Ok(crate::shuffle::ShuffleOptions {
            npartitions: m,
            memory_limit: Some(limit / share.max(1)),
            spill_dir: self.spill_dir.clone(),
            stats: self.stats.clone(),
        })
    }
}

/// A record batch as a shuffle item: spilled in Arrow IPC stream format.
pub(crate) struct SpillBatch(pub(crate) RecordBatch);

impl Spill for SpillBatch {
    fn encode(items: &[SpillBatch], out: &mut Vec<u8>) -> std::result::Result<(), BoxError> {
        // All sub-batches of one shuffle share the frame's schema, so one
        // stream (one schema message) per frame of items.
        let Some(first) = items.first() else {
            return Ok(());
        };
        let mut writer = arrow_ipc::writer::StreamWriter::try_new(out, first.0.schema_ref())?;
        for item in items {
            writer.write(&item.0)?;
        }
        writer.finish()?;
        Ok(())
    }

    fn decode(bytes: &[u8]) -> std::result::Result<Vec<SpillBatch>, BoxError> {
        if bytes.is_empty() {
            return Ok(Vec::new());
        }
        let reader = arrow_ipc::reader::StreamReader::try_new(bytes, None)?;
        reader
            .map(|b| b.map(SpillBatch).map_err(BoxError::from))
            .collect()
    }
}

/// What key rows are for: equality (hashing, joins, duplicates, groups)
/// or order (sorting, with a direction per column).
#[derive(Clone, Debug)]
pub(crate) enum KeyUse {
    /// Equal values encode alike: floats normalised (`-0.0` as `0.0`, one
    /// NaN).
    Equality,
    /// Order-preserving bytes: one `(descending, nulls_first)` per column.
    Order(Vec<SortOptions>),
}

/// Key columns of a frame, cast to the types they are compared in and
/// encoded as arrow-row bytes.
#[derive(Clone, Debug)]
pub(crate) struct KeyEncoder {
    /// Positions of the key columns in the frame's batches.
    indices: Arc<[usize]>,
    names: Arc<[String]>,
    /// The types the columns are cast to before encoding.
    types: Arc<[DataType]>,
    normalise: bool,
    converter: Arc<RowConverter>,
}

impl KeyEncoder {
    /// The same encoder over batches of `schema`, which holds the key
    /// columns elsewhere (a projection of the original).
    pub(crate) fn reindexed(&self, schema: &Schema) -> Result<KeyEncoder> {
        let mut indices = Vec::with_capacity(self.names.len());
        for n in self.names.iter() {
            indices.push(schema.index_of(n).map_err(|_| unknown_column(n, schema))?);
        }
        Ok(KeyEncoder {
            indices: indices.into(),
            ..self.clone()
        })
    }

    /// The key columns' positions in the batches.
    pub(crate) fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// The types the key columns are compared as.
    pub(crate) fn types(&self) -> &[DataType] {
        &self.types
    }

    /// An encoder of the columns `names` of `schema`, compared as `types`
    /// (their own types, dictionaries unwrapped, when `None`). Errors name
    /// `context` and the column.
    pub(crate) fn new(
        schema: &Schema,
        names: &[String],
        types: Option<Vec<DataType>>,
        key_use: KeyUse,
        context: &str,
    ) -> Result<KeyEncoder> {
        if names.is_empty() {
            return Err(DataFrameError::Invalid(format!(
                "{context}: needs at least one key column"
            )));
        }
        let mut indices = Vec::with_capacity(names.len());
        for n in names {
            indices.push(schema.index_of(n).map_err(|_| unknown_column(n, schema))?);
        }
        let types = match types {
            Some(t) => t,
            None => indices
                .iter()
                .map(|&i| comparable_type(schema.field(i).data_type()))
                .collect(),
        };
        let (normalise, options) = match key_use {
            KeyUse::Equality => (true, vec![SortOptions::default(); names.len()]),
            KeyUse::Order(o) => (false, o),
        };
        let fields: Vec<SortField> = types
            .iter()
            .zip(options)
            .map(|(t, o)| SortField::new_with_options(t.clone(), o))
            .collect();
        for ((n, t), f) in names.iter().zip(&types).zip(&fields) {
            if !RowConverter::supports_fields(std::slice::from_ref(f)) {
                return Err(DataFrameError::Type {
                    context: format!("{context} on column {n:?}"),
                    message: format!("cannot compare values of type {t}"),
                });
            }
        }
        let converter = RowConverter::new(fields).map_err(|e| DataFrameError::types(context, e))?;
        Ok(KeyEncoder {
            indices: indices.into(),
            names: names.to_vec().into(),
            types: types.into(),
            normalise,
            converter: Arc::new(converter),
        })
    }

    /// The key column names.
    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// The key columns of `batch`, cast and normalised.
    pub(crate) fn arrays(
        &self,
        batch: &RecordBatch,
    ) -> std::result::Result<Vec<ArrayRef>, ArrowError> {
        self.indices
            .iter()
            .zip(self.types.iter())
            .map(|(&i, t)| {
                let column = batch.columns().get(i).ok_or_else(|| {
                    ArrowError::SchemaError(format!(
                        "batch has {} columns, key column {i} is missing",
                        batch.num_columns()
                    ))
                })?;
                let cast = if column.data_type() == t {
                    column.clone()
                } else {
                    arrow_cast::cast(column.as_ref(), t)?
                };
                Ok(if self.normalise {
                    normalise_floats(cast)
                } else {
                    cast
                })
            })
            .collect()
    }

    /// The key rows of already cast key columns.
    pub(crate) fn rows(&self, arrays: &[ArrayRef]) -> std::result::Result<Rows, ArrowError> {
        self.converter.convert_columns(arrays)
    }

    /// The key rows of `batch`.
    pub(crate) fn batch_rows(&self, batch: &RecordBatch) -> std::result::Result<Rows, ArrowError> {
        self.rows(&self.arrays(batch)?)
    }
}

/// The type a column's keys are encoded as: its own, a dictionary's values
/// (so that dictionaries with different dictionaries compare by value).
pub(crate) fn comparable_type(t: &DataType) -> DataType {
    match t {
        DataType::Dictionary(_, values) => comparable_type(values),
        other => other.clone(),
    }
}

/// `-0.0` as `0.0` and every NaN as the one canonical NaN, so that values
/// pandas finds equal encode alike.
fn normalise_floats(a: ArrayRef) -> ArrayRef {
    match a.data_type() {
        DataType::Float64 => Arc::new(
            a.as_primitive::<Float64Type>()
                .unary::<_, Float64Type>(|x| if x.is_nan() { f64::NAN } else { x + 0.0 }),
        ),
        DataType::Float32 => Arc::new(
            a.as_primitive::<Float32Type>()
                .unary::<_, Float32Type>(|x| if x.is_nan() { f32::NAN } else { x + 0.0 }),
        ),
        _ => a,
    }
}

/// Rows of which no key column is null (`None`: all of them), from the
/// cast key columns.
pub(crate) fn valid_keys(arrays: &[ArrayRef]) -> Option<NullBuffer> {
    arrays.iter().fold(None, |acc, a| {
        NullBuffer::union(acc.as_ref(), a.logical_nulls().as_ref())
    })
}

/// A fixed 64-bit hash of a key row's bytes: the same in every process
/// (unlike std's randomly keyed hashers), mixed further by
/// [`bucket_of`].
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let step = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = step(h, u64::from_le_bytes(w));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = step(h, u64::from_le_bytes(w));
    }
    h
}

/// Sorted key rows that cut the key space into ranges, one per output
/// partition: a row goes to the number of boundaries below it.
pub(crate) type Bounds = Arc<Vec<Box<[u8]>>>;

/// How a split task picks each row's output partition.
#[derive(Clone)]
pub(crate) enum Route {
    /// By a hash of the key row: equal keys meet.
    Hash(KeyEncoder),
    /// By the range the key row falls in among boundaries a task computes:
    /// the output partitions in order are in key order.
    Range {
        keys: KeyEncoder,
        bounds: Delayed<Bounds>,
    },
}

impl Route {
    fn keys(&self) -> &KeyEncoder {
        match self {
            Route::Hash(k) | Route::Range { keys: k, .. } => k,
        }
    }

    /// The output partition of every row of `batch`.
    fn assign(
        &self,
        batch: &RecordBatch,
        bounds: Option<&Bounds>,
        m: usize,
    ) -> std::result::Result<Vec<u32>, ArrowError> {
        let rows = self.keys().batch_rows(batch)?;
        Ok(match bounds {
            None => rows
                .iter()
                .map(|r| bucket_of(hash_bytes(r.data()), m) as u32)
                .collect(),
            Some(b) => rows
                .iter()
                .map(|r| b.partition_point(|x| &**x < r.data()).min(m - 1) as u32)
                .collect(),
        })
    }
}

/// Cuts `batch` into one sub-batch per output partition its rows go to,
/// each in the batch's row order.
fn cut(
    batch: &RecordBatch,
    buckets: &[u32],
    m: usize,
) -> std::result::Result<Vec<(usize, RecordBatch)>, ArrowError> {
    let Some(&first) = buckets.first() else {
        return Ok(Vec::new());
    };
    if buckets.iter().all(|&b| b == first) {
        return Ok(vec![(first as usize, batch.clone())]);
    }
    let mut rows: Vec<Vec<u32>> = vec![Vec::new(); m];
    for (i, &b) in buckets.iter().enumerate() {
        rows[b as usize].push(i as u32);
    }
    rows.into_iter()
        .enumerate()
        .filter(|(_, r)| !r.is_empty())
        .map(|(j, r)| {
            let sub = arrow_select::take::take_record_batch(batch, &UInt32Array::from(r))?;
            Ok((j, sub))
        })
        .collect()
}

/// An error unless `batch` has few enough rows for `u32` row indices.
pub(crate) fn check_rows(batch: &RecordBatch, context: &str) -> std::result::Result<(), TaskError> {
    if batch.num_rows() > u32::MAX as usize {
        return Err(TaskError::failed(format!(
            "{context}: a partition of {} rows is too large (at most {} rows); use more partitions",
            batch.num_rows(),
            u32::MAX
        )));
    }
    Ok(())
}

/// Shuffles `df`'s rows by `route` into `plan.npartitions` outputs and
/// runs `finish(batch, j)` on each output partition `j` (all its rows, in
/// input order). Layers `<op>-split-<n>` and `<op>-<n>`.
pub(crate) fn exchange<U, F>(
    df: &DataFrame,
    op: &str,
    plan: &crate::shuffle::ShuffleOptions,
    route: Route,
    finish: F,
) -> Vec<Delayed<U>>
where
    U: Send + Sync + 'static,
    F: Fn(RecordBatch, usize) -> std::result::Result<U, TaskError> + Send + Sync + 'static,
{
    let stage = SplitStage::new(plan, df.npartitions());
    let m = stage.npartitions();
    let layer = crate::keys::layer_name(&format!("{op}-split"));
    let op_name: Arc<str> = op.into();
    let splits: Vec<_> = (0..df.npartitions())
        .map(|i| {
            let mut b = TaskBuilder::new("shuffle-split").key(part_key(&layer, i));
            let runner = df.runner(i, &mut b);
            let bounds = match &route {
                Route::Range { bounds, .. } => Some(b.input(bounds)),
                Route::Hash(_) => None,
            };
            let (stage, route, op) = (stage.clone(), route.clone(), op_name.clone());
            b.build(move |args| {
                let bounds: Option<Bounds> = match &bounds {
                    Some(slot) => Some(slot.get(args)?.clone()),
                    None => None,
                };
                let mut buckets = stage.buckets::<SpillBatch>();
                runner(args, &mut |batch: RecordBatch| {
                    check_rows(&batch, &op)?;
                    let ids = route
                        .assign(&batch, bounds.as_ref(), m)
                        .map_err(|e| key_error(&op, route.keys(), e))?;
                    for (j, sub) in cut(&batch, &ids, m).map_err(TaskError::failed)? {
                        let heap = sub.get_array_memory_size();
                        buckets.push(j, SpillBatch(sub), heap)?;
                    }
                    Ok(Flow::Continue)
                })?;
                Ok(buckets.finish())
            })
        })
        .collect();
    let schema = df.schema().clone();
    gather(op, &splits, m, move |items, j| {
        let mut batches = Vec::with_capacity(items.remaining());
        for item in items {
            batches.push(item.map_err(TaskError::failed)?.0);
        }
        let batch = concat(&schema, &batches).map_err(TaskError::failed)?;
        finish(batch, j)
    })
}

/// A task error for key columns that could not be encoded.
pub(crate) fn key_error(op: &str, keys: &KeyEncoder, e: ArrowError) -> TaskError {
    TaskError::failed(format!(
        "{op}: cannot encode key columns {}: {e}",
        keys.names().join(", ")
    ))
}

/// The names of `cols`, checked against `schema`, with at least one.
pub(crate) fn key_names<S: AsRef<str>>(
    schema: &SchemaRef,
    cols: impl IntoIterator<Item = S>,
    context: &str,
) -> Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for c in cols {
        let c = c.as_ref();
        if schema.index_of(c).is_err() {
            return Err(unknown_column(c, schema));
        }
        if names.iter().any(|n| n == c) {
            return Err(DataFrameError::Invalid(format!(
                "{context}: column {c:?} is given twice"
            )));
        }
        names.push(c.to_owned());
    }
    if names.is_empty() {
        return Err(DataFrameError::Invalid(format!(
            "{context}: needs at least one column"
        )));
    }
    Ok(names)
}

impl DataFrame {
    /// The rows moved so that all rows with equal values in the `on`
    /// columns are in the same partition (Dask's `df.shuffle(on)`), by a
    /// hash of those values. Within an output partition rows keep their
    /// input order (partition by partition). Rows with a null key are kept
    /// (all nulls hash alike).
    ///
    /// `options` sets the number of output partitions (default: the
    /// input's), the memory budget past which the shuffle spills to disk,
    /// and where. Which partition a key goes to depends on its value and
    /// type, not on the run; equal values of different types (`Int32`
    /// against `Int64`) may go to different partitions — joins cast both
    /// sides to one type first.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::{DataFrame, ShuffleOptions};
    /// let k = Arc::new(Int64Array::from(vec![1, 2, 3, 1, 2, 3, 1])) as ArrayRef;
    /// let df = DataFrame::from_arrays([("k", k)], 3).unwrap();
    /// let options = ShuffleOptions { npartitions: Some(2), ..Default::default() };
    /// let out = df.shuffle(["k"], options).unwrap();
    /// assert_eq!(out.npartitions(), 2);
    /// // Each key's rows are all in one partition.
    /// let parts: Vec<_> = out.to_delayed().iter().map(|p| p.compute().unwrap()).collect();
    /// let holds = |p: &arrow_array::RecordBatch, v: i64| {
    ///     p.column(0).as_any().downcast_ref::<Int64Array>().unwrap().values().contains(&v)
    /// };
    /// for v in 1..=3 {
    ///     assert_eq!(parts.iter().filter(|p| holds(p, v)).count(), 1);
    /// }
    /// assert_eq!(out.len().compute().unwrap(), 7);
    /// assert!(df.shuffle(["nope"], ShuffleOptions::default()).is_err());
    /// ```
    pub fn shuffle<S: AsRef<str>>(
        &self,
        on: impl IntoIterator<Item = S>,
        options: ShuffleOptions,
    ) -> Result<DataFrame> {
        let names = key_names(self.schema(), on, "shuffle")?;
        let keys = KeyEncoder::new(self.schema(), &names, None, KeyUse::Equality, "shuffle")?;
        let plan = options.plan(self.npartitions(), 1, "shuffle")?;
        let parts = exchange(self, "shuffle", &plan, Route::Hash(keys), |batch, _| {
            Ok(batch)
        });
        Ok(DataFrame::from_tasks(parts, self.schema().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Float64Array, Int32Array, StringArray};

    #[test]
    fn spill_batches_round_trip() {
        let b = RecordBatch::try_from_iter([
            (
                "a",
                Arc::new(Int32Array::from(vec![Some(1), None, Some(3)])) as ArrayRef,
            ),
            (
                "s",
                Arc::new(StringArray::from(vec!["x", "yy", "zzz"])) as ArrayRef,
            ),
        ])
        .unwrap();
        let items = vec![SpillBatch(b.clone()), SpillBatch(b.slice(1, 2))];
        let mut buf = Vec::new();
        SpillBatch::encode(&items, &mut buf).unwrap();
        let back = SpillBatch::decode(&buf).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].0, b);
        assert_eq!(back[1].0, b.slice(1, 2));
        assert!(SpillBatch::decode(&[]).unwrap().is_empty());
        assert!(SpillBatch::decode(&buf[..buf.len() / 2]).is_err());
    }

    #[test]
    fn equal_floats_encode_alike() {
        let schema = Schema::new(vec![arrow_schema::Field::new("x", DataType::Float64, true)]);
        let enc = KeyEncoder::new(&schema, &["x".into()], None, KeyUse::Equality, "t").unwrap();
        let x = Arc::new(Float64Array::from(vec![0.0, -0.0, f64::NAN, -f64::NAN]));
        let rows = enc
            .rows(
                &enc.arrays(&RecordBatch::try_new(Arc::new(schema), vec![x]).unwrap())
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(rows.row(0), rows.row(1));
        assert_eq!(rows.row(2), rows.row(3));
        assert_ne!(rows.row(0), rows.row(2));
    }

    #[test]
    fn hash_is_fixed() {
        assert_eq!(hash_bytes(b""), 0);
        assert_eq!(hash_bytes(b"abc"), hash_bytes(b"abc"));
        assert_ne!(hash_bytes(b"abc"), hash_bytes(b"abd"));
        assert_ne!(hash_bytes(b"abcdefgh1"), hash_bytes(b"abcdefgh2"));
    }
}
