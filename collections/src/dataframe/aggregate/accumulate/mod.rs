//! Accumulators: the typed per-group states of aggregations, shared by
//! whole-frame aggregation (one group) and `groupby` (many).
//!
//! An accumulator holds one state per group, indexed by the dense group
//! indices a [`Grouper`](super::grouper::Grouper) gives. It is fed rows
//! (`update`, in a partition's task) or the states of other accumulators
//! (`merge`, in the tree's combine and root tasks), and gives its states
//! as Arrow columns (`state`, one row per group) or its answers
//! (`finish`). The states travel between tasks as those columns:
//!
//! | function     | state columns                                   |
//! |--------------|-------------------------------------------------|
//! | sum          | sum (`Int64`, `UInt64` or `Float64`)            |
//! | mean         | count `Int64`, sum `Float64`                    |
//! | var, std     | count `Int64`, mean `Float64`, M2 `Float64`     |
//! | count, size  | count `Int64`                                   |
//! | min, max     | the extreme, of the column's type (null: none)  |
//! | nunique      | the distinct values, `List` of the column type  |
//! | quantile     | summary values `List<Float64>`, weights `List<UInt64>` |
//!
//! Variances merge with Chan, Golub and LeVeque's parallel formula, so
//! they are as accurate as one pass of Welford's update over all rows.
//!
//! The accumulators themselves: counts, sums, means and variances in
//! `numeric.rs`, min and max in `extreme.rs`, `nunique` in `distinct.rs`,
//! quantiles (and their summaries) in `quantile.rs`.

mod distinct;
mod extreme;
mod numeric;
mod quantile;

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{ArrowPrimitiveType, Float64Type, Int64Type, UInt64Type};
use arrow_array::{Array, ArrayRef, PrimitiveArray};
use arrow_buffer::OffsetBuffer;
use arrow_cast::cast::cast;
use arrow_schema::{ArrowError, DataType};

use crate::dataframe::aggregate::grouper::groupable;
use distinct::NUniqueAcc;
use extreme::extreme;
use numeric::{CountAcc, MeanAcc, SumAcc, VarAcc};
use quantile::QuantileAcc;

/// What an aggregation computes, before it is bound to a column.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Func {
    Sum,
    Mean,
    Count,
    Size,
    Min,
    Max,
    Var {
        ddof: u32,
    },
    Std {
        ddof: u32,
    },
    NUnique,
    /// One quantile: a `Float64` answer.
    Quantile(f64),
    /// Several quantiles from one summary: a `FixedSizeList<Float64>`
    /// answer (for `describe`).
    Quantiles(Arc<[f64]>),
}

impl Func {
    /// The name used in task keys and messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Func::Sum => "sum",
            Func::Mean => "mean",
            Func::Count => "count",
            Func::Size => "size",
            Func::Min => "min",
            Func::Max => "max",
            Func::Var { .. } => "var",
            Func::Std { .. } => "std",
            Func::NUnique => "nunique",
            Func::Quantile(_) | Func::Quantiles(_) => "quantile",
        }
    }
}

/// The per-group states of one aggregation; see the module docs.
pub(crate) trait Accumulator: Send {
    /// The type of the answers.
    fn output_type(&self) -> DataType;
    /// The types of the state columns.
    fn state_types(&self) -> Vec<DataType>;
    /// Adds rows: `values` (`None` for `size`) with the group of each row.
    /// Groups are below `ngroups`.
    fn update(
        &mut self,
        values: Option<&ArrayRef>,
        groups: &[u32],
        ngroups: usize,
    ) -> Result<(), ArrowError>;
    /// Adds the states of another accumulator: columns as its
    /// [`state`](Self::state) gave them, with the group of each row.
    ///
    /// By default the state is the answer itself (min, max: an extreme of
    /// extremes is the extreme), so merging is adding it as values.
    fn merge(
        &mut self,
        states: &[ArrayRef],
        groups: &[u32],
        ngroups: usize,
    ) -> Result<(), ArrowError> {
        self.update(Some(&states[0]), groups, ngroups)
    }
    /// The state columns, one row per group (`ngroups` of them, groups
    /// that saw no row in their empty state). Leaves the accumulator empty.
    /// By default the one column of answers.
    fn state(&mut self, ngroups: usize) -> Result<Vec<ArrayRef>, ArrowError> {
        Ok(vec![self.finish(ngroups)?])
    }
    /// The answers, one row per group. Leaves the accumulator empty.
    fn finish(&mut self, ngroups: usize) -> Result<ArrayRef, ArrowError>;
}

/// An accumulator for `func` over values of type `input` (`None` for
/// `size`), or why the function does not apply to that type.
pub(crate) fn accumulator(
    func: &Func,
    input: Option<&DataType>,
) -> Result<Box<dyn Accumulator>, String> {
    let Some(t) = input else {
        return match func {
            Func::Size => Ok(Box::new(CountAcc::default())),
            _ => Err(format!("{} needs a column", func.name())),
        };
    };
    let numeric = || format!("needs an integer or float column, not {t}");
    Ok(match func {
        Func::Size => Box::new(CountAcc::default()),
        Func::Count => Box::new(CountAcc::default()),
        Func::Sum => match family(t).ok_or_else(numeric)? {
            Family::Signed => Box::new(SumAcc::<Int64Type>::default()),
            Family::Unsigned => Box::new(SumAcc::<UInt64Type>::default()),
            Family::Float => Box::new(SumAcc::<Float64Type>::default()),
        },
        Func::Mean => match family(t).ok_or_else(numeric)? {
            Family::Signed => Box::new(MeanAcc::<Int64Type>::default()),
            Family::Unsigned => Box::new(MeanAcc::<UInt64Type>::default()),
            Family::Float => Box::new(MeanAcc::<Float64Type>::default()),
        },
        Func::Var { ddof } | Func::Std { ddof } => {
            let sqrt = matches!(func, Func::Std { .. });
            match family(t).ok_or_else(numeric)? {
                Family::Signed => Box::new(VarAcc::<Int64Type>::new(*ddof, sqrt)),
                Family::Unsigned => Box::new(VarAcc::<UInt64Type>::new(*ddof, sqrt)),
                Family::Float => Box::new(VarAcc::<Float64Type>::new(*ddof, sqrt)),
            }
        }
        Func::Min => extreme::<false>(t)?,
        Func::Max => extreme::<true>(t)?,
        Func::NUnique => {
            if !groupable(t) {
                return Err(format!("cannot count distinct values of type {t}"));
            }
            Box::new(NUniqueAcc::new(t).map_err(|e| e.to_string())?)
        }
        Func::Quantile(q) => {
            family(t).ok_or_else(numeric)?;
            Box::new(QuantileAcc::new(Arc::from([*q]), false))
        }
        Func::Quantiles(qs) => {
            family(t).ok_or_else(numeric)?;
            Box::new(QuantileAcc::new(qs.clone(), true))
        }
    })
}

/// The integer and float families: what sums, means and variances widen
/// to before accumulating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Signed,
    Unsigned,
    Float,
}

/// The numeric family of `t` (`None` for non-numbers, decimals included).
pub(crate) fn family(t: &DataType) -> Option<Family> {
    use DataType::*;
    match t {
        Int8 | Int16 | Int32 | Int64 => Some(Family::Signed),
        UInt8 | UInt16 | UInt32 | UInt64 => Some(Family::Unsigned),
        Float16 | Float32 | Float64 => Some(Family::Float),
        _ => None,
    }
}

/// `values` as a `PrimitiveArray<T>`, cast when it is of another type of
/// the same family (an `Int32` column summed as `Int64`).
pub(super) fn as_primitive<T: ArrowPrimitiveType>(
    values: &ArrayRef,
) -> Result<ArrayRef, ArrowError> {
    if values.data_type() == &T::DATA_TYPE {
        Ok(values.clone())
    } else {
        cast(values, &T::DATA_TYPE)
    }
}

pub(super) fn downcast<T: ArrowPrimitiveType>(
    values: &ArrayRef,
) -> Result<&PrimitiveArray<T>, ArrowError> {
    values.as_primitive_opt::<T>().ok_or_else(|| {
        ArrowError::InvalidArgumentError(format!(
            "aggregation state of type {} where {} was expected",
            values.data_type(),
            T::DATA_TYPE
        ))
    })
}

pub(super) fn check_len(len: usize, groups: &[u32]) -> Result<(), ArrowError> {
    if len == groups.len() {
        Ok(())
    } else {
        Err(ArrowError::InvalidArgumentError(format!(
            "{len} values for {} group indices",
            groups.len()
        )))
    }
}

/// Calls `f(group, value)` for every non-null value: a plain zip when
/// there are no nulls (the common case, and the fast loop).
#[inline(always)]
pub(super) fn for_each_valid<T: ArrowPrimitiveType>(
    array: &PrimitiveArray<T>,
    groups: &[u32],
    mut f: impl FnMut(usize, T::Native),
) {
    let values = array.values();
    match array.nulls().filter(|n| n.null_count() > 0) {
        None => {
            for (&g, &v) in groups.iter().zip(values.iter()) {
                f(g as usize, v);
            }
        }
        Some(nulls) => {
            for i in nulls.valid_indices() {
                f(groups[i] as usize, values[i]);
            }
        }
    }
}

pub(super) fn missing_values(what: &str) -> ArrowError {
    ArrowError::InvalidArgumentError(format!("{what} needs the values of a column"))
}

/// Offsets of lists whose lengths are `lengths`.
pub(super) fn offsets_of(lengths: impl IntoIterator<Item = usize>) -> OffsetBuffer<i32> {
    OffsetBuffer::from_lengths(lengths)
}

/// For each element of the lists of `list`, the group of its list: the
/// elements' values (one array) and their groups.
pub(super) fn flatten_lists(
    list: &ArrayRef,
    groups: &[u32],
) -> Result<(ArrayRef, Vec<u32>), ArrowError> {
    let list = list.as_list_opt::<i32>().ok_or_else(|| {
        ArrowError::InvalidArgumentError(format!(
            "aggregation state of type {} where a list was expected",
            list.data_type()
        ))
    })?;
    check_len(list.len(), groups)?;
    let offsets = list.value_offsets();
    let (first, last) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
    let mut expanded = Vec::with_capacity(last - first);
    for (w, &g) in offsets.windows(2).zip(groups) {
        expanded.extend(std::iter::repeat_n(g, (w[1] - w[0]) as usize));
    }
    Ok((list.values().slice(first, last - first), expanded))
}
