//! One partition join: the plan of the output columns, a hash table over
//! the build side's key rows, and the probe that pairs row indices.

use std::collections::HashMap;

use arrow_array::builder::UInt32Builder;
use arrow_array::cast::AsArray;
use arrow_array::types::UInt32Type;
use arrow_array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow_buffer::NullBuffer;
use arrow_row::Rows;
use arrow_schema::{ArrowError, SchemaRef};
use dagwood_runtime::TaskError;

use super::How;
use crate::dataframe::shuffle::{check_rows, key_error, valid_keys, KeyEncoder};

/// Where an output column's values come from.
#[derive(Clone, Copy, Debug)]
pub(super) enum Out {
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
pub(super) struct Plan {
    pub(super) how: How,
    pub(super) left_keys: KeyEncoder,
    pub(super) right_keys: KeyEncoder,
    pub(super) out: Vec<Out>,
    pub(super) schema: SchemaRef,
}

/// One side's batch with its key columns (cast) and key rows.
pub(super) struct Side {
    pub(super) batch: RecordBatch,
    pub(super) keys: Vec<ArrayRef>,
    pub(super) rows: Rows,
    pub(super) valid: Option<NullBuffer>,
}

impl Side {
    pub(super) fn new(
        keys: &KeyEncoder,
        batch: RecordBatch,
    ) -> std::result::Result<Side, TaskError> {
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

    pub(super) fn has_key(&self, i: usize) -> bool {
        self.valid.as_ref().is_none_or(|v| v.is_valid(i))
    }
}

/// A hash table over the key rows of the build side; rows with a null key
/// are left out (they match nothing).
pub(super) struct Table<'a> {
    /// First row of each key.
    pub(super) heads: HashMap<&'a [u8], u32>,
    /// The next row with the same key, in row order (`u32::MAX`: none).
    pub(super) next: Vec<u32>,
}

pub(super) const END: u32 = u32::MAX;

impl<'a> Table<'a> {
    pub(super) fn build(side: &'a Side) -> Table<'a> {
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
    pub(super) fn probe(
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
pub(super) fn unmatched(matched: &[bool]) -> (UInt32Array, UInt32Array) {
    let rows: Vec<u32> = (0..matched.len() as u32)
        .filter(|&j| !matched[j as usize])
        .collect();
    (UInt32Array::new_null(rows.len()), UInt32Array::from(rows))
}

/// Which side a partition join builds its table over.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Build {
    Left,
    Right,
}

impl Plan {
    /// The output rows for row-index pairs into `left` and `right` (a null
    /// index: no row on that side).
    pub(super) fn assemble(
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
    pub(super) fn join(
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
    pub(super) fn join_pair(
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
