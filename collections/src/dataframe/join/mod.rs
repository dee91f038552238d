//! Joins: [`DataFrame::merge`] and [`DataFrame::merge_with`] (pandas'
//! `merge`, Dask's distributed join), by broadcasting a one-partition side
//! or by hash-shuffling both sides; `merge_with`'s docs describe the key
//! types and strategies.
//!
//! A partition join builds a [`Table`] over the key rows of the build side
//! (the right side, the left one for a right join) and probes it with the
//! other side's rows, producing pairs of row indices (null for "no row")
//! that [`Plan::assemble`] turns into output columns with Arrow's `take`.
//!
//! The partition join (plan, hash table, probing) is in `table.rs`; the
//! broadcast join, kept as a lazy source of the frame, in `broadcast.rs`.

mod broadcast;
mod table;

pub(crate) use broadcast::BroadcastJoin;

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};
use dagwood_runtime::TaskBuilder;

use crate::dataframe::error::{DataFrameError, Result};
use crate::dataframe::expr::unknown_column;
use crate::dataframe::shuffle::{
    comparable_type, exchange, KeyEncoder, KeyUse, Route, ShuffleOptions,
};
use crate::dataframe::{part_key, DataFrame, Source};
use broadcast::broadcast_join;
use table::{Build, Out, Plan};

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
pub(super) fn key_type(l: &DataType, r: &DataType) -> Option<DataType> {
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
