//! Joins: [`DataFrame::merge`] and [`DataFrame::merge_with`] (pandas'
//! `merge`, Dask's distributed join), by broadcasting a one-partition side
//! or by hash-shuffling both sides; `merge_with`'s docs describe the key
//! types and strategies.
//!
//! A partition join builds a [`Table`] over the key rows of the build side
//! (the right side, the left one for a right join) and probes it with the
//! other side's rows, producing pairs of row indices (null for "no row")
//! that [`Plan::assemble`] turns into output columns with Arrow's `take`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::UInt32Builder;
use arrow_array::cast::AsArray;
use arrow_array::types::UInt32Type;
use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow_buffer::NullBuffer;
use arrow_row::Rows;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use dagwood_runtime::{ArgSlot, Delayed, TaskBuilder, TaskError};

use super::error::{DataFrameError, Result};
use super::expr::unknown_column;
use super::shuffle::{
    check_rows, comparable_type, exchange, key_error, valid_keys, KeyEncoder, KeyUse, Route,
    ShuffleOptions,
};
use super::{concat, part_key, DataFrame, Flow, Source};

/// Which rows a join keeps, as pandas' `how`.
///
/// ```
/// use dagwood_collections::dataframe::How;
/// assert_eq!(How::default(), How::Inner);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum How {
    /// Only pairs of rows whose keys match.
    #[default]
    Inner,
    /// Every left row: with each matching right row, or once with nulls.
    Left,
    /// Every right row: with each matching left row, or once with nulls.
    Right,
    /// Every row of both sides: matched pairs, then the rest with nulls.
    Outer,
}

/// Options of [`DataFrame::merge_with`].
///
/// ```
/// use dagwood_collections::dataframe::{How, MergeOptions};
/// let options = MergeOptions { how: How::Left, ..MergeOptions::on(["k"]) };
/// assert_eq!(options.left_on, vec!["k"]);
/// assert_eq!(options.suffixes, ("_x".to_string(), "_y".to_string()));
/// ```
#[derive(Clone, Debug)]
pub struct MergeOptions {
    /// Key columns of the left frame.
    pub left_on: Vec<String>,
    /// Key columns of the right frame, as many as `left_on`, matched in
    /// order.
    pub right_on: Vec<String>,
    /// Which rows to keep.
    pub how: How,
    /// Appended to the names of non-key columns that both sides have
    /// (pandas' default `("_x", "_y")`).
    pub suffixes: (String, String),
    /// `None`: broadcast a side when it has one partition and may be
    /// broadcast (see the module docs), else shuffle. `Some(true)`:
    /// broadcast the side that may be (for an inner join, the one with
    /// fewer partitions), an error for an outer join. `Some(false)`: always
    /// shuffle.
    pub broadcast: Option<bool>,
    /// How the shuffle runs, when there is one: output partitions (default:
    /// the larger side's count), memory budget (shared by the two sides'
    /// shuffles), spill directory.
    pub shuffle: ShuffleOptions,
}

impl Default for MergeOptions {
    fn default() -> Self {
        MergeOptions {
            left_on: Vec::new(),
            right_on: Vec::new(),
            how: How::Inner,
            suffixes: ("_x".into(), "_y".into()),
            broadcast: None,
            shuffle: ShuffleOptions::default(),
        }
    }
}

impl MergeOptions {
    /// An inner join on columns that both sides have under these names.
    pub fn on<S: AsRef<str>>(on: impl IntoIterator<Item = S>) -> MergeOptions {
        let on: Vec<String> = on.into_iter().map(|s| s.as_ref().to_owned()).collect();
        MergeOptions {
            left_on: on.clone(),
            right_on: on,
            ..Default::default()
        }
    }
}

/// The type equal keys of types `l` and `r` are compared in.
fn key_type(l: &DataType, r: &DataType) -> Option<DataType> {
    use DataType::*;
    let (l, r) = (comparable_type(l), comparable_type(r));
    if l == r {
        return Some(l);
    }
    let width = |t: &DataType| t.primitive_width().unwrap_or(8);
    Some(match (&l, &r) {
        (Null, t) | (t, Null) => t.clone(),
        (a, b) if a.is_integer() && b.is_integer() => {
            let (sa, sb) = (a.is_signed_integer(), b.is_signed_integer());
            let w = if sa == sb {
                width(a).max(width(b))
            } else {
                // Signed against unsigned: a signed type wider than the
                // unsigned one holds both exactly, up to 64 bits.
                let (s, u) = if sa { (a, b) } else { (b, a) };
                width(s).max(2 * width(u))
            };
            match (w, sa || sb) {
                (1, true) => Int8,
                (2, true) => Int16,
                (4, true) => Int32,
                (8, true) => Int64,
                (1, false) => UInt8,
                (2, false) => UInt16,
                (4, false) => UInt32,
                (8, false) => UInt64,
                _ => Float64,
            }
        }
        (a, b) if a.is_numeric() && b.is_numeric() => Float64,
        (Utf8 | LargeUtf8 | Utf8View, Utf8 | LargeUtf8 | Utf8View) => Utf8,
        (Binary | LargeBinary | BinaryView, Binary | LargeBinary | BinaryView) => Binary,
        _ => return None,
    })
}

/// Where an output column's values come from.
#[derive(Clone, Copy, Debug)]
enum Out {
    /// A left column (by position).
    Left(usize),
    /// A right column (by position).
    Right(usize),
    /// Key `k`, shared by both sides under one name: the left key where
    /// there is a left row, else the right key (both in the key type).
    Key(usize),
}

/// What every partition join needs: the key encoders and the output
/// columns.
struct Plan {
    how: How,
    left_keys: KeyEncoder,
    right_keys: KeyEncoder,
    out: Vec<Out>,
    schema: SchemaRef,
}

/// One side's batch with its key columns (cast) and key rows.
struct Side {
    batch: RecordBatch,
    keys: Vec<ArrayRef>,
    rows: Rows,
    valid: Option<NullBuffer>,
}

impl Side {
    fn new(keys: &KeyEncoder, batch: RecordBatch) -> std::result::Result<Side, TaskError> {
        check_rows(&batch, "merge")?;
        let arrays = keys
            .arrays(&batch)
            .map_err(|e| key_error("merge", keys, e))?;
        let rows = keys
            .rows(&arrays)
            .map_err(|e| key_error("merge", keys, e))?;
        Ok(Side {
            valid: valid_keys(&arrays),
            batch,
            keys: arrays,
            rows,
        })
    }

    fn has_key(&self, i: usize) -> bool {
        self.valid.as_ref().is_none_or(|v| v.is_valid(i))
    }
}

/// A hash table over the key rows of the build side; rows with a null key
/// are left out (they match nothing).
struct Table<'a> {
    /// First row of each key.
    heads: HashMap<&'a [u8], u32>,
    /// The next row with the same key, in row order (`u32::MAX`: none).
    next: Vec<u32>,
}

const END: u32 = u32::MAX;

impl<'a> Table<'a> {
    fn build(side: &'a Side) -> Table<'a> {
        let n = side.rows.num_rows();
        let mut heads: HashMap<&'a [u8], u32> = HashMap::with_capacity(n);
        let mut next = vec![END; n];
        // Backwards, pushing in front, so that chains run in row order.
        for i in (0..n).rev() {
            if !side.has_key(i) {
                continue;
            }
            let row = side.rows.row(i).data();
            if let Some(head) = heads.insert(row, i as u32) {
                next[i] = head;
            }
        }
        Table { heads, next }
    }

    /// Row-index pairs `(probe, build)` of the matches of every probe row,
    /// in probe order and then build order; with `keep_probe`, a probe row
    /// without a match pairs with null. `matched` (one flag per build row)
    /// records which build rows matched.
    fn probe(
        &self,
        probe: &Side,
        keep_probe: bool,
        mut matched: Option<&mut [bool]>,
    ) -> (UInt32Array, UInt32Array) {
        let n = probe.rows.num_rows();
        let (mut p, mut b) = (
            UInt32Builder::with_capacity(n),
            UInt32Builder::with_capacity(n),
        );
        for i in 0..n {
            let mut j = if probe.has_key(i) {
                let row = probe.rows.row(i).data();
                self.heads.get(row).copied().unwrap_or(END)
            } else {
                END
            };
            if j == END && keep_probe {
                p.append_value(i as u32);
                b.append_null();
            }
            while j != END {
                p.append_value(i as u32);
                b.append_value(j);
                if let Some(m) = matched.as_deref_mut() {
                    m[j as usize] = true;
                }
                j = self.next[j as usize];
            }
        }
        (p.finish(), b.finish())
    }
}

/// Index pairs `(null, j)` for the build rows `j` that matched nothing.
fn unmatched(matched: &[bool]) -> (UInt32Array, UInt32Array) {
    let rows: Vec<u32> = (0..matched.len() as u32)
        .filter(|&j| !matched[j as usize])
        .collect();
    (UInt32Array::new_null(rows.len()), UInt32Array::from(rows))
}

/// Which side a partition join builds its table over.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Build {
    Left,
    Right,
}

impl Plan {
    /// The output rows for row-index pairs into `left` and `right` (a null
    /// index: no row on that side).
    fn assemble(
        &self,
        left: &Side,
        right: &Side,
        li: &UInt32Array,
        ri: &UInt32Array,
    ) -> std::result::Result<RecordBatch, ArrowError> {
        let take = |a: &ArrayRef, i: &UInt32Array| arrow_select::take::take(a.as_ref(), i, None);
        let columns = self
            .out
            .iter()
            .map(|o| match *o {
                Out::Left(c) => take(left.batch.column(c), li),
                Out::Right(c) => take(right.batch.column(c), ri),
                Out::Key(k) => {
                    let l = take(&left.keys[k], li)?;
                    if li.null_count() == 0 {
                        return Ok(l);
                    }
                    let r = take(&right.keys[k], ri)?;
                    let has_left = arrow_arith::boolean::is_not_null(li)?;
                    arrow_select::zip::zip(&has_left, &l, &r)
                }
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(li.len()));
        RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)
    }

    /// Joins `probe` against `table` (over `build`). With `keep_build`, the
    /// build rows that matched nothing follow, paired with null.
    fn join(
        &self,
        built: Build,
        build: &Side,
        table: &Table<'_>,
        probe: &Side,
        keep_probe: bool,
        keep_build: bool,
    ) -> std::result::Result<RecordBatch, TaskError> {
        let mut matched = vec![false; if keep_build { build.rows.num_rows() } else { 0 }];
        let (p, b) = table.probe(probe, keep_probe, keep_build.then_some(&mut matched[..]));
        let (p, b) = if keep_build {
            let (up, ub) = unmatched(&matched);
            let p = arrow_select::concat::concat(&[&p, &up]).map_err(TaskError::failed)?;
            let b = arrow_select::concat::concat(&[&b, &ub]).map_err(TaskError::failed)?;
            (
                p.as_primitive::<UInt32Type>().clone(),
                b.as_primitive::<UInt32Type>().clone(),
            )
        } else {
            (p, b)
        };
        let out = match built {
            Build::Right => self.assemble(probe, build, &p, &b),
            Build::Left => self.assemble(build, probe, &b, &p),
        };
        out.map_err(TaskError::failed)
    }

    /// Joins two whole partitions whose keys can only meet each other.
    fn join_pair(
        &self,
        left: RecordBatch,
        right: RecordBatch,
    ) -> std::result::Result<RecordBatch, TaskError> {
        let (left, right) = (
            Side::new(&self.left_keys, left)?,
            Side::new(&self.right_keys, right)?,
        );
        match self.how {
            How::Right => {
                let table = Table::build(&left);
                self.join(Build::Left, &left, &table, &right, true, false)
            }
            how => {
                let table = Table::build(&right);
                let keep_left = matches!(how, How::Left | How::Outer);
                self.join(
                    Build::Right,
                    &right,
                    &table,
                    &left,
                    keep_left,
                    how == How::Outer,
                )
            }
        }
    }
}

impl DataFrame {
    /// Joins with `right` on columns that both frames have under the same
    /// names (pandas' `merge(right, on=.., how=..)`). The output has the
    /// left columns, then the right non-key columns; each key appears once
    /// (for an outer or right join, taken from whichever side has the row);
    /// other columns that both sides have get the suffixes `_x` and `_y`.
    /// A null key matches nothing (pandas matches null with null). See
    /// [`merge_with`](Self::merge_with) for the key types, the options and
    /// how the join runs.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array, StringArray};
    /// use dagwood_collections::dataframe::{DataFrame, How};
    /// let people = DataFrame::from_arrays([
    ///     ("id", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
    ///     ("name", Arc::new(StringArray::from(vec!["ann", "bob", "cy"])) as ArrayRef),
    /// ], 2).unwrap();
    /// let orders = DataFrame::from_arrays([
    ///     ("id", Arc::new(Int64Array::from(vec![1, 1, 3, 4])) as ArrayRef),
    ///     ("total", Arc::new(Int64Array::from(vec![10, 20, 30, 40])) as ArrayRef),
    /// ], 2).unwrap();
    /// let joined = people.merge(&orders, ["id"], How::Inner).unwrap();
    /// assert_eq!(joined.columns(), vec!["id", "name", "total"]);
    /// assert_eq!(joined.len().compute().unwrap(), 3);
    /// let left = people.merge(&orders, ["id"], How::Left).unwrap().compute().unwrap();
    /// assert_eq!(left.num_rows(), 4); // bob has no order: one row with a null total
    /// assert_eq!(left.column(2).null_count(), 1);
    /// ```
    pub fn merge<S: AsRef<str>>(
        &self,
        right: &DataFrame,
        on: impl IntoIterator<Item = S>,
        how: How,
    ) -> Result<DataFrame> {
        self.merge_with(
            right,
            MergeOptions {
                how,
                ..MergeOptions::on(on)
            },
        )
    }

    /// Joins with `right` as `options` say (pandas' `merge` with
    /// `left_on`, `right_on`, `how`, `suffixes`). A key pair with the same
    /// name on both sides appears once in the output; differently named
    /// keys both stay, each among its side's columns. Every output column
    /// is nullable.
    ///
    /// # Keys
    ///
    /// Key columns must have equal types, or both be numeric (compared in a
    /// common type: the wider integer; a signed integer wide enough for
    /// both when signed meets unsigned, up to `Int64`; `Float64` otherwise,
    /// exact only up to 2^53 for big integers), or both be strings
    /// (compared as `Utf8`) or both binary; dictionaries compare by their
    /// values. A shared key column has the common type. A null key never
    /// matches (SQL semantics; pandas matches null keys with null keys).
    /// Floats compare as pandas does: `-0.0` equals `0.0`, NaN equals NaN.
    ///
    /// # How it runs
    ///
    /// * **Broadcast**: when the side that may be broadcast has one
    ///   partition (or [`MergeOptions::broadcast`] says so), it is
    ///   concatenated in one task and joined against every partition of the
    ///   other side, whose batches stream through without a shuffle. Only a
    ///   side whose unmatched rows are dropped can be broadcast: the right
    ///   side of an inner or left join, the left side of an inner or right
    ///   join. An outer join of two single-partition frames is one task.
    ///   The output has the other side's partitions.
    /// * **Shuffle**: otherwise both sides are hash-shuffled by their keys
    ///   (cast to the common type, so equal keys meet) into the same number
    ///   of partitions (default: the larger side's count), then joined
    ///   partition by partition. Each output partition is built in memory.
    ///
    /// A partition join builds a hash table over one side's key rows and
    /// probes it with the other side's: output rows follow the left side's
    /// order (the right side's for a right join), an outer join's unmatched
    /// right rows last.
    ///
    /// Errors (when called): unknown columns, no keys or key lists of
    /// different lengths, key types that cannot be compared (naming both
    /// columns), suffixes that make two output columns with one name,
    /// `npartitions: Some(0)`, and `broadcast: Some(true)` for an outer
    /// join.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int32Array, Int64Array, Float64Array};
    /// use dagwood_collections::dataframe::{DataFrame, How, MergeOptions};
    /// let left = DataFrame::from_arrays([
    ///     ("a", Arc::new(Int32Array::from(vec![1, 2, 3])) as ArrayRef),
    ///     ("v", Arc::new(Float64Array::from(vec![0.1, 0.2, 0.3])) as ArrayRef),
    /// ], 3).unwrap();
    /// let right = DataFrame::from_arrays([
    ///     ("b", Arc::new(Int64Array::from(vec![3, 4, 1])) as ArrayRef),
    ///     ("v", Arc::new(Float64Array::from(vec![30.0, 40.0, 10.0])) as ArrayRef),
    /// ], 2).unwrap();
    /// let options = MergeOptions {
    ///     left_on: vec!["a".into()],
    ///     right_on: vec!["b".into()],
    ///     how: How::Outer,
    ///     ..Default::default()
    /// };
    /// let joined = left.merge_with(&right, options).unwrap();
    /// assert_eq!(joined.columns(), vec!["a", "v_x", "b", "v_y"]);
    /// assert_eq!(joined.len().compute().unwrap(), 4); // 1 and 3 match; 2 and 4 alone
    ///
    /// let bad = MergeOptions { left_on: vec!["v".into()], right_on: vec!["nope".into()], ..Default::default() };
    /// assert!(left.merge_with(&right, bad).unwrap_err().to_string().contains("nope"));
    /// ```
    pub fn merge_with(&self, right: &DataFrame, options: MergeOptions) -> Result<DataFrame> {
        let plan = Arc::new(self.merge_plan(right, &options)?);
        let (nl, nr) = (self.npartitions(), right.npartitions());
        let how = options.how;
        // The side that may be broadcast: its unmatched rows are not kept.
        let (may_left, may_right) = (
            matches!(how, How::Inner | How::Right),
            matches!(how, How::Inner | How::Left),
        );
        let broadcast = match options.broadcast {
            Some(false) => None,
            Some(true) => match how {
                How::Outer => {
                    return Err(DataFrameError::Invalid(
                        "merge: an outer join cannot broadcast either side (both sides' \
                         unmatched rows are kept); use broadcast: None or Some(false)"
                            .into(),
                    ))
                }
                How::Left => Some(Build::Right),
                How::Right => Some(Build::Left),
                How::Inner if nl < nr => Some(Build::Left),
                How::Inner => Some(Build::Right),
            },
            None if may_right && nr == 1 => Some(Build::Right),
            None if may_left && nl == 1 => Some(Build::Left),
            // Both whole: one task sees every row of both sides.
            None if nl == 1 && nr == 1 => Some(Build::Right),
            None => None,
        };
        // Kept lazy (a frame source) when every partition's output depends
        // on that partition alone: the columns read downstream then decide
        // the columns read from the big side.
        let lazy = |big: &DataFrame, small: &DataFrame, built: Build| {
            (!(how == How::Outer && big.npartitions() == 1))
                .then(|| BroadcastJoin::new(&plan, big, small, built))
        };
        let lazy = match broadcast {
            Some(Build::Right) => lazy(self, right, Build::Right),
            Some(Build::Left) => lazy(right, self, Build::Left),
            None => None,
        };
        if let Some(join) = lazy {
            return Ok(DataFrame::from_source(Source::Join(Arc::new(join))));
        }
        let parts = match broadcast {
            Some(Build::Right) => broadcast_join(&plan, self, right, Build::Right),
            Some(Build::Left) => broadcast_join(&plan, right, self, Build::Left),
            None => {
                let m = nl.max(nr);
                let lp = options.shuffle.plan(m, 2, "merge")?;
                let rp = options.shuffle.plan(m, 2, "merge")?;
                let lg = exchange(
                    self,
                    "merge-left",
                    &lp,
                    Route::Hash(plan.left_keys.clone()),
                    |b, _| Ok(b),
                );
                let rg = exchange(
                    right,
                    "merge-right",
                    &rp,
                    Route::Hash(plan.right_keys.clone()),
                    |b, _| Ok(b),
                );
                let layer = crate::keys::layer_name("merge");
                lg.iter()
                    .zip(&rg)
                    .enumerate()
                    .map(|(j, (l, r))| {
                        let mut b = TaskBuilder::new("merge").key(part_key(&layer, j));
                        let (l, r) = (b.input(l), b.input(r));
                        let plan = plan.clone();
                        b.build(move |args| plan.join_pair(l.take(args)?, r.take(args)?))
                    })
                    .collect()
            }
        };
        Ok(DataFrame::from_tasks(parts, plan.schema.clone()))
    }

    /// Checks the options against both schemas and lays out the output.
    fn merge_plan(&self, right: &DataFrame, options: &MergeOptions) -> Result<Plan> {
        let (ls, rs) = (self.schema(), right.schema());
        let (lon, ron) = (&options.left_on, &options.right_on);
        if lon.is_empty() || lon.len() != ron.len() {
            return Err(DataFrameError::Invalid(format!(
                "merge: needs as many left key columns as right ones, at least one; got {} ({}) and {} ({})",
                lon.len(),
                lon.join(", "),
                ron.len(),
                ron.join(", ")
            )));
        }
        let mut types = Vec::with_capacity(lon.len());
        for (l, r) in lon.iter().zip(ron) {
            let lf = ls.field_with_name(l).map_err(|_| unknown_column(l, ls))?;
            let rf = rs.field_with_name(r).map_err(|_| unknown_column(r, rs))?;
            let t =
                key_type(lf.data_type(), rf.data_type()).ok_or_else(|| DataFrameError::Type {
                    context: format!("merge on left {l:?} and right {r:?}"),
                    message: format!(
                        "cannot compare keys of type {} with keys of type {} (key types must be \
                     equal, both numeric, both strings or both binary)",
                        lf.data_type(),
                        rf.data_type()
                    ),
                })?;
            types.push(t);
        }
        let left_keys = KeyEncoder::new(ls, lon, Some(types.clone()), KeyUse::Equality, "merge")?;
        let right_keys = KeyEncoder::new(rs, ron, Some(types.clone()), KeyUse::Equality, "merge")?;

        // A key pair under one name is one output column (pandas' `on`).
        let shared = |name: &str| {
            lon.iter()
                .zip(ron)
                .position(|(l, r)| l == name && r == name)
        };
        let right_out: Vec<usize> = (0..rs.fields().len())
            .filter(|&i| shared(rs.field(i).name()).is_none())
            .collect();
        let overlaps =
            |name: &str, other: &Schema| shared(name).is_none() && other.index_of(name).is_ok();
        let mut out = Vec::new();
        let mut fields: Vec<Field> = Vec::new();
        for (i, f) in ls.fields().iter().enumerate() {
            let (o, t) = match shared(f.name()) {
                Some(k) => (Out::Key(k), types[k].clone()),
                None => (Out::Left(i), f.data_type().clone()),
            };
            let name = if overlaps(f.name(), rs) {
                format!("{}{}", f.name(), options.suffixes.0)
            } else {
                f.name().clone()
            };
            out.push(o);
            fields.push(Field::new(name, t, true).with_metadata(f.metadata().clone()));
        }
        for &i in &right_out {
            let f = rs.field(i);
            let name = if overlaps(f.name(), ls) {
                format!("{}{}", f.name(), options.suffixes.1)
            } else {
                f.name().clone()
            };
            out.push(Out::Right(i));
            fields.push(
                Field::new(name, f.data_type().clone(), true).with_metadata(f.metadata().clone()),
            );
        }
        for (i, f) in fields.iter().enumerate() {
            if fields[..i].iter().any(|g| g.name() == f.name()) {
                return Err(DataFrameError::Invalid(format!(
                    "merge: the output would have two columns named {:?}; choose other suffixes \
                     (now {:?})",
                    f.name(),
                    options.suffixes
                )));
            }
        }
        Ok(Plan {
            how: options.how,
            left_keys,
            right_keys,
            out,
            schema: Arc::new(Schema::new(fields)),
        })
    }
}

/// `small` whole, in one task: the side a broadcast join builds.
fn whole_of(small: &DataFrame) -> Delayed<RecordBatch> {
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
    plan: Arc<Plan>,
    big: DataFrame,
    whole: Delayed<RecordBatch>,
    built: Build,
    keep_probe: bool,
}

impl BroadcastJoin {
    fn new(plan: &Arc<Plan>, big: &DataFrame, small: &DataFrame, built: Build) -> BroadcastJoin {
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
    ) -> std::result::Result<super::Runner, DataFrameError> {
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
fn broadcast_join(
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
