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

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Date64Type, Float16Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, ArrayRef, ArrowNativeTypeOp, BooleanArray, FixedSizeListArray, Float64Array, Int64Array,
    ListArray, PrimitiveArray, StringArray, UInt32Array, UInt64Array,
};
use arrow_buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_cast::cast::cast;
use arrow_schema::{ArrowError, DataType, Field, TimeUnit};
use num_traits::AsPrimitive;

use super::grouper::{groupable, Grouper};
use super::quantile;

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

/// The min (`MAX = false`) or max accumulator for type `t`.
fn extreme<const MAX: bool>(t: &DataType) -> Result<Box<dyn Accumulator>, String> {
    use DataType::*;
    let t0 = t.clone();
    Ok(match t {
        Int8 => Box::new(ExtremeAcc::<Int8Type, MAX>::new(t0)),
        Int16 => Box::new(ExtremeAcc::<Int16Type, MAX>::new(t0)),
        Int32 => Box::new(ExtremeAcc::<Int32Type, MAX>::new(t0)),
        Int64 => Box::new(ExtremeAcc::<Int64Type, MAX>::new(t0)),
        UInt8 => Box::new(ExtremeAcc::<UInt8Type, MAX>::new(t0)),
        UInt16 => Box::new(ExtremeAcc::<UInt16Type, MAX>::new(t0)),
        UInt32 => Box::new(ExtremeAcc::<UInt32Type, MAX>::new(t0)),
        UInt64 => Box::new(ExtremeAcc::<UInt64Type, MAX>::new(t0)),
        Float16 => Box::new(ExtremeAcc::<Float16Type, MAX>::new(t0)),
        Float32 => Box::new(ExtremeAcc::<Float32Type, MAX>::new(t0)),
        Float64 => Box::new(ExtremeAcc::<Float64Type, MAX>::new(t0)),
        Date32 => Box::new(ExtremeAcc::<Date32Type, MAX>::new(t0)),
        Date64 => Box::new(ExtremeAcc::<Date64Type, MAX>::new(t0)),
        Timestamp(TimeUnit::Second, _) => Box::new(ExtremeAcc::<TimestampSecondType, MAX>::new(t0)),
        Timestamp(TimeUnit::Millisecond, _) => {
            Box::new(ExtremeAcc::<TimestampMillisecondType, MAX>::new(t0))
        }
        Timestamp(TimeUnit::Microsecond, _) => {
            Box::new(ExtremeAcc::<TimestampMicrosecondType, MAX>::new(t0))
        }
        Timestamp(TimeUnit::Nanosecond, _) => {
            Box::new(ExtremeAcc::<TimestampNanosecondType, MAX>::new(t0))
        }
        Utf8 | LargeUtf8 | Utf8View => Box::new(StringExtremeAcc::<MAX> {
            values: Vec::new(),
            data_type: t0,
        }),
        Boolean => Box::new(BoolExtremeAcc::<MAX> { values: Vec::new() }),
        _ => {
            return Err(format!(
                "needs a numeric, string, boolean, date or timestamp column, not {t}"
            ))
        }
    })
}

/// `values` as a `PrimitiveArray<T>`, cast when it is of another type of
/// the same family (an `Int32` column summed as `Int64`).
fn as_primitive<T: ArrowPrimitiveType>(values: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    if values.data_type() == &T::DATA_TYPE {
        Ok(values.clone())
    } else {
        cast(values, &T::DATA_TYPE)
    }
}

fn downcast<T: ArrowPrimitiveType>(values: &ArrayRef) -> Result<&PrimitiveArray<T>, ArrowError> {
    values.as_primitive_opt::<T>().ok_or_else(|| {
        ArrowError::InvalidArgumentError(format!(
            "aggregation state of type {} where {} was expected",
            values.data_type(),
            T::DATA_TYPE
        ))
    })
}

fn check_len(len: usize, groups: &[u32]) -> Result<(), ArrowError> {
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
fn for_each_valid<T: ArrowPrimitiveType>(
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

/// Row counts: non-null values for `count`, rows for `size` (fed no
/// values).
#[derive(Default)]
struct CountAcc {
    counts: Vec<i64>,
}

impl Accumulator for CountAcc {
    fn output_type(&self) -> DataType {
        DataType::Int64
    }

    fn state_types(&self) -> Vec<DataType> {
        vec![DataType::Int64]
    }

    fn update(
        &mut self,
        values: Option<&ArrayRef>,
        groups: &[u32],
        ngroups: usize,
    ) -> Result<(), ArrowError> {
        self.counts.resize(ngroups, 0);
        let counts = &mut self.counts;
        match values
            .and_then(|v| v.logical_nulls())
            .filter(|n| n.null_count() > 0)
        {
            Some(nulls) => {
                check_len(nulls.len(), groups)?;
                for i in nulls.valid_indices() {
                    counts[groups[i] as usize] += 1;
                }
            }
            None => {
                for &g in groups {
                    counts[g as usize] += 1;
                }
            }
        }
        Ok(())
    }

    fn merge(
        &mut self,
        states: &[ArrayRef],
        groups: &[u32],
        ngroups: usize,
    ) -> Result<(), ArrowError> {
        self.counts.resize(ngroups, 0);
        let counts = &mut self.counts;
        let other = downcast::<Int64Type>(&states[0])?;
        check_len(other.len(), groups)?;
        for_each_valid(other, groups, |g, n| counts[g] += n);
        Ok(())
    }

    fn state(&mut self, ngroups: usize) -> Result<Vec<ArrayRef>, ArrowError> {
        Ok(vec![self.finish(ngroups)?])
    }

    fn finish(&mut self, ngroups: usize) -> Result<ArrayRef, ArrowError> {
        self.counts.resize(ngroups, 0);
        Ok(Arc::new(Int64Array::from(std::mem::take(&mut self.counts))))
    }
}

/// Sums in the family's widest type (`T`: `Int64`, `UInt64`, `Float64`).
/// Integer sums wrap around on overflow (as NumPy's and Polars'); a group
/// with no value sums to 0 (as pandas).
struct SumAcc<T: ArrowPrimitiveType> {
    sums: Vec<T::Native>,
}

impl<T: ArrowPrimitiveType> Default for SumAcc<T> {
    fn default() -> Self {
        SumAcc { sums: Vec::new() }
    }
}

impl<T: ArrowPrimitiveType> Accumulator for SumAcc<T> {
    fn output_type(&self) -> DataType {
        T::DATA_TYPE
    }

    fn state_types(&self) -> Vec<DataType> {
        vec![T::DATA_TYPE]
    }

    fn update(
        &mut self,
        values: Option<&ArrayRef>,
        groups: &[u32],
        ngroups: usize,
    ) -> Result<(), ArrowError> {
        let Some(values) = values else {
            return Err(missing_values("sum"));
        };
        let values = as_primitive::<T>(values)?;
        let values = downcast::<T>(&values)?;
        check_len(values.len(), groups)?;
        self.sums.resize(ngroups, T::Native::ZERO);
        let sums = &mut self.sums;
        for_each_valid(values, groups, |g, v| sums[g] = sums[g].add_wrapping(v));
        Ok(())
    }

    fn finish(&mut self, ngroups: usize) -> Result<ArrayRef, ArrowError> {
        self.sums.resize(ngroups, T::Native::ZERO);
        let sums = ScalarBuffer::from(std::mem::take(&mut self.sums));
        Ok(Arc::new(PrimitiveArray::<T>::new(sums, None)))
    }
}

fn missing_values(what: &str) -> ArrowError {
    ArrowError::InvalidArgumentError(format!("{what} needs the values of a column"))
}

/// Count and sum in `f64` per group (the sum of an integer column is
/// exact up to 2^53).
struct MeanAcc<T> {
    /// (sum, count) side by side: one cache line per row.
    acc: Vec<(f64, i64)>,
    _type: std::marker::PhantomData<fn() -> T>,
}

impl<T> Default for MeanAcc<T> {
    fn default() -> Self {
        MeanAcc {
            acc: Vec::new(),
            _type: std::marker::PhantomData,
        }
    }
}

impl<T> Accumulator for MeanAcc<T>
where
    T: ArrowPrimitiveType,
    T::Native: AsPrimitive<f64>,
{
    fn output_type(&self) -> DataType {
        DataType::Float64
    }

    fn state_types(&self) -> Vec<DataType> {
        vec![DataType::Int64, DataType::Float64]
    }

    fn update(
        &mut self,
        values: Option<&ArrayRef>,
        groups: &[u32],
        ngroups: usize,
    ) -> Result<(), ArrowError> {
        let Some(values) = values else {
            return Err(missing_values("mean"));
        };
        let values = as_primitive::<T>(values)?;
        let values = downcast::<T>(&values)?;
        check_len(values.len(), groups)?;
        self.acc.resize(ngroups, (0.0, 0));
        let acc = &mut self.acc;
        for_each_valid(values, groups, |g, v| {
            let a = &mut acc[g];
            a.0 += v.as_();
            a.1 += 1;
        });
        Ok(())
    }

    fn merge(
        &mut self,
        states: &[ArrayRef],
        groups: &[u32],
        ngroups: usize,
    ) -> Result<(), ArrowError> {
        let counts = downcast::<Int64Type>(&states[0])?;
        let sums = downcast::<Float64Type>(&states[1])?;
        check_len(counts.len(), groups)?;
        check_len(sums.len(), groups)?;
        self.acc.resize(ngroups, (0.0, 0));
        for ((&g, &n), &s) in groups.iter().zip(counts.values()).zip(sums.values()) {
            let a = &mut self.acc[g as usize];
            a.0 += s;
            a.1 += n;
        }
        Ok(())
    }

    fn state(&mut self, ngroups: usize) -> Result<Vec<ArrayRef>, ArrowError> {
        self.acc.resize(ngroups, (0.0, 0));
        let acc = std::mem::take(&mut self.acc);
        let counts: Int64Array = acc.iter().map(|a| a.1).collect::<Vec<_>>().into();
        let sums: Float64Array = acc.iter().map(|a| a.0).collect::<Vec<_>>().into();
        Ok(vec![Arc::new(counts), Arc::new(sums)])
    }

    fn finish(&mut self, ngroups: usize) -> Result<ArrayRef, ArrowError> {
        self.acc.resize(ngroups, (0.0, 0));
        let acc = std::mem::take(&mut self.acc);
        let means: Float64Array = acc
            .iter()
            .map(|&(s, n)| (n > 0).then(|| s / n as f64))
            .collect();
        Ok(Arc::new(means))
    }
}

/// Count, mean and sum of squared deviations (M2) of some values.
#[derive(Clone, Copy, Debug, Default)]
struct Moments {
    n: i64,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// Welford's update with one value.
    #[inline(always)]
    fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Chan, Golub and LeVeque's merge of the moments of two disjoint sets.
    fn merge(&mut self, o: Moments) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = o;
            return;
        }
        let n = self.n + o.n;
        let (na, nb, nf) = (self.n as f64, o.n as f64, n as f64);
        let d = o.mean - self.mean;
        self.mean += d * nb / nf;
        self.m2 += o.m2 + d * d * na * nb / nf;
        self.n = n;
    }
}

/// Variance (or its root) with `ddof` delta degrees of freedom: null when
/// a group has at most `ddof` values.
struct VarAcc<T> {
    moments: Vec<Moments>,
    ddof: u32,
    sqrt: bool,
    _type: std::marker::PhantomData<fn() -> T>,
}

impl<T> VarAcc<T> {
    fn new(ddof: u32, sqrt: bool) -> Self {
        VarAcc {
            moments: Vec::new(),
            ddof,
            sqrt,
            _type: std::marker::PhantomData,
        }
    }
}

impl<T> Accumulator for VarAcc<T>
where
    T: ArrowPrimitiveType,
    T::Native: AsPrimitive<f64>,
{
    fn output_type(&self) -> DataType {
        DataType::Float64
    }

    fn state_types(&self) -> Vec<DataType> {
        vec![DataType::Int64, DataType::Float64, DataType::Float64]
    }

    fn update(
        &mut self,
        values: Option<&ArrayRef>,
        groups: &[u32],
        ngroups: usize,
    ) -> Result<(), ArrowError> {
        let Some(values) = values else {
            return Err(missing_values("var"));
        };
        let values = as_primitive::<T>(values)?;
        let values = downcast::<T>(&values)?;
        check_len(values.len(), groups)?;
        self.moments.resize(ngroups, Moments::default());
        let moments = &mut self.moments;
        for_each_valid(values, groups, |g, v| moments[g].push(v.as_()));
        Ok(())
    }

    fn merge(
        &mut self,
        states: &[ArrayRef],
        groups: &[u32],
        ngroups: usize,
    ) -> Result<(), ArrowError> {
        let n = downcast::<Int64Type>(&states[0])?;
        let mean = downcast::<Float64Type>(&states[1])?;
        let m2 = downcast::<Float64Type>(&states[2])?;
        for len in [n.len(), mean.len(), m2.len()] {
            check_len(len, groups)?;
        }
        self.moments.resize(ngroups, Moments::default());
        for (i, &g) in groups.iter().enumerate() {
            self.moments[g as usize].merge(Moments {
                n: n.value(i),
                mean: mean.value(i),
                m2: m2.value(i),
            });
        }
        Ok(())
    }

    fn state(&mut self, ngroups: usize) -> Result<Vec<ArrayRef>, ArrowError> {
        self.moments.resize(ngroups, Moments::default());
        let m = std::mem::take(&mut self.moments);
        let n: Int64Array = m.iter().map(|m| m.n).collect::<Vec<_>>().into();
        let mean: Float64Array = m.iter().map(|m| m.mean).collect::<Vec<_>>().into();
        let m2: Float64Array = m.iter().map(|m| m.m2).collect::<Vec<_>>().into();
        Ok(vec![Arc::new(n), Arc::new(mean), Arc::new(m2)])
    }

    fn finish(&mut self, ngroups: usize) -> Result<ArrayRef, ArrowError> {
        self.moments.resize(ngroups, Moments::default());
        let ddof = i64::from(self.ddof);
        let out: Float64Array = std::mem::take(&mut self.moments)
            .iter()
            .map(|m| {
                (m.n > ddof).then(|| {
                    let var = m.m2 / (m.n - ddof) as f64;
                    if self.sqrt {
                        var.sqrt()
                    } else {
                        var
                    }
                })
            })
            .collect();
        Ok(Arc::new(out))
    }
}

/// Min or max of a primitive column, in the column's type. Floats compare
/// in Arrow's total order: NaN is above every number, so a NaN is the max
/// of its group and is the min only when every value is NaN.
struct ExtremeAcc<T: ArrowPrimitiveType, const MAX: bool> {
    values: Vec<T::Native>,
    seen: Vec<bool>,
    data_type: DataType,
}

impl<T: ArrowPrimitiveType, const MAX: bool> ExtremeAcc<T, MAX> {
    fn new(data_type: DataType) -> Self {
        ExtremeAcc {
            values: Vec::new(),
            seen: Vec::new(),
            data_type,
        }
    }

    fn resize(&mut self, ngroups: usize) {
        self.values.resize(ngroups, T::Native::ZERO);
        self.seen.resize(ngroups, false);
    }
}

impl<T: ArrowPrimitiveType, const MAX: bool> Accumulator for ExtremeAcc<T, MAX> {
    fn output_type(&self) -> DataType {
        self.data_type.clone()
    }

    fn state_types(&self) -> Vec<DataType> {
        vec![self.data_type.clone()]
    }

    fn update(
        &mut self,
        values: Option<&ArrayRef>,
        groups: &[u32],
        ngroups: usize,
    ) -> Result<(), ArrowError> {
        let Some(values) = values else {
            return Err(missing_values(if MAX { "max" } else { "min" }));
        };
        let values = downcast::<T>(values)?;
        check_len(values.len(), groups)?;
        self.resize(ngroups);
        let (best, seen) = (&mut self.values, &mut self.seen);
        for_each_valid(values, groups, |g, v| {
            let better = if MAX {
                v.is_gt(best[g])
            } else {
                v.is_lt(best[g])
            };
            if better || !seen[g] {
                best[g] = v;
                seen[g] = true;
            }
        });
        Ok(())
    }

    fn finish(&mut self, ngroups: usize) -> Result<ArrayRef, ArrowError> {
        self.resize(ngroups);
        let values = ScalarBuffer::from(std::mem::take(&mut self.values));
        let nulls = NullBuffer::from(std::mem::take(&mut self.seen));
        let array =
            PrimitiveArray::<T>::new(values, Some(nulls)).with_data_type(self.data_type.clone());
        Ok(Arc::new(array))
    }
}

/// Min or max of a string column by bytes (Arrow's order for strings).
/// Only an improvement copies a value, into the group's own buffer.
struct StringExtremeAcc<const MAX: bool> {
    values: Vec<Option<String>>,
    data_type: DataType,
}

impl<const MAX: bool> StringExtremeAcc<MAX> {
    fn update_strs<'a>(
        &mut self,
        array: impl arrow_array::StringArrayType<'a>,
        groups: &[u32],
    ) -> Result<(), ArrowError> {
        check_len(array.len(), groups)?;
        for (i, &g) in groups.iter().enumerate() {
            if array.is_null(i) {
                continue;
            }
            let v = array.value(i);
            match &mut self.values[g as usize] {
                Some(best) => {
                    let better = if MAX {
                        v > best.as_str()
                    } else {
                        v < best.as_str()
                    };
                    if better {
                        best.clear();
                        best.push_str(v);
                    }
                }
                slot => *slot = Some(v.to_owned()),
            }
        }
        Ok(())
    }
}

impl<const MAX: bool> Accumulator for StringExtremeAcc<MAX> {
    fn output_type(&self) -> DataType {
        self.data_type.clone()
    }

    fn state_types(&self) -> Vec<DataType> {
        vec![self.data_type.clone()]
    }

    fn update(
        &mut self,
        values: Option<&ArrayRef>,
        groups: &[u32],
        ngroups: usize,
    ) -> Result<(), ArrowError> {
        let Some(values) = values else {
            return Err(missing_values(if MAX { "max" } else { "min" }));
        };
        self.values.resize(ngroups, None);
        match values.data_type() {
            DataType::Utf8 => self.update_strs(values.as_string::<i32>(), groups),
            DataType::LargeUtf8 => self.update_strs(values.as_string::<i64>(), groups),
            DataType::Utf8View => self.update_strs(values.as_string_view(), groups),
            t => Err(ArrowError::InvalidArgumentError(format!(
                "string min/max fed a column of type {t}"
            ))),
        }
    }

    fn finish(&mut self, ngroups: usize) -> Result<ArrayRef, ArrowError> {
        self.values.resize(ngroups, None);
        let values = std::mem::take(&mut self.values);
        let array: ArrayRef = Arc::new(StringArray::from_iter(values.iter().map(Option::as_deref)));
        if self.data_type == DataType::Utf8 {
            Ok(array)
        } else {
            cast(&array, &self.data_type)
        }
    }
}

/// Min (all true) or max (any true) of a boolean column.
struct BoolExtremeAcc<const MAX: bool> {
    values: Vec<Option<bool>>,
}

impl<const MAX: bool> Accumulator for BoolExtremeAcc<MAX> {
    fn output_type(&self) -> DataType {
        DataType::Boolean
    }

    fn state_types(&self) -> Vec<DataType> {
        vec![DataType::Boolean]
    }

    fn update(
        &mut self,
        values: Option<&ArrayRef>,
        groups: &[u32],
        ngroups: usize,
    ) -> Result<(), ArrowError> {
        let Some(values) = values else {
            return Err(missing_values(if MAX { "max" } else { "min" }));
        };
        let values = values.as_boolean_opt().ok_or_else(|| {
            ArrowError::InvalidArgumentError(format!(
                "boolean min/max fed a column of type {}",
                values.data_type()
            ))
        })?;
        check_len(values.len(), groups)?;
        self.values.resize(ngroups, None);
        for (i, &g) in groups.iter().enumerate() {
            if values.is_valid(i) {
                let v = values.value(i);
                let slot = &mut self.values[g as usize];
                *slot = Some(match *slot {
                    None => v,
                    Some(b) if MAX => b || v,
                    Some(b) => b && v,
                });
            }
        }
        Ok(())
    }

    fn finish(&mut self, ngroups: usize) -> Result<ArrayRef, ArrowError> {
        self.values.resize(ngroups, None);
        Ok(Arc::new(BooleanArray::from(std::mem::take(
            &mut self.values,
        ))))
    }
}

/// Offsets of lists whose lengths are `lengths`.
fn offsets_of(lengths: impl IntoIterator<Item = usize>) -> OffsetBuffer<i32> {
    OffsetBuffer::from_lengths(lengths)
}

/// For each element of the lists of `list`, the group of its list: the
/// elements' values (one array) and their groups.
fn flatten_lists(list: &ArrayRef, groups: &[u32]) -> Result<(ArrayRef, Vec<u32>), ArrowError> {
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

/// The distinct non-null values of each group, as the distinct (group,
/// value) pairs of a grouper over those two columns; a group's count goes
/// up when a pair is new. Floats are normalised (the grouper does it), so
/// NaN counts as one value and `-0.0` as `0.0`.
struct NUniqueAcc {
    pairs: Grouper,
    counts: Vec<i64>,
    value_type: DataType,
    ids: Vec<u32>,
}

impl NUniqueAcc {
    fn new(value_type: &DataType) -> Result<NUniqueAcc, ArrowError> {
        Ok(NUniqueAcc {
            pairs: Grouper::new(&[DataType::UInt32, value_type.clone()])?,
            counts: Vec::new(),
            value_type: value_type.clone(),
            ids: Vec::new(),
        })
    }

    fn list_field(&self) -> Arc<Field> {
        Arc::new(Field::new_list_field(self.value_type.clone(), true))
    }
}

impl Accumulator for NUniqueAcc {
    fn output_type(&self) -> DataType {
        DataType::Int64
    }

    fn state_types(&self) -> Vec<DataType> {
        vec![DataType::List(self.list_field())]
    }

    fn update(
        &mut self,
        values: Option<&ArrayRef>,
        groups: &[u32],
        ngroups: usize,
    ) -> Result<(), ArrowError> {
        let Some(values) = values else {
            return Err(missing_values("nunique"));
        };
        check_len(values.len(), groups)?;
        self.counts.resize(ngroups, 0);
        // Nulls are not values: drop them (and their groups) first.
        let (values, groups): (ArrayRef, Vec<u32>) = match values.logical_nulls() {
            Some(nulls) if nulls.null_count() > 0 => {
                let keep = BooleanArray::new(nulls.inner().clone(), None);
                let groups = nulls.valid_indices().map(|i| groups[i]).collect();
                (arrow_select::filter::filter(values, &keep)?, groups)
            }
            _ => (values.clone(), groups.to_vec()),
        };
        let before = self.pairs.len();
        let group_column: ArrayRef = Arc::new(UInt32Array::from(groups));
        self.pairs.intern(
            &[group_column.clone(), values],
            group_column.len(),
            &mut self.ids,
        )?;
        // New pairs get the next indices in the order they first appear.
        let groups = group_column.as_primitive::<UInt32Type>().values();
        let mut next = before as u32;
        for (&id, &g) in self.ids.iter().zip(groups.iter()) {
            if id == next {
                self.counts[g as usize] += 1;
                next += 1;
            }
        }
        Ok(())
    }

    fn merge(
        &mut self,
        states: &[ArrayRef],
        groups: &[u32],
        ngroups: usize,
    ) -> Result<(), ArrowError> {
        let (values, groups) = flatten_lists(&states[0], groups)?;
        self.update(Some(&values), &groups, ngroups)
    }

    fn state(&mut self, ngroups: usize) -> Result<Vec<ArrayRef>, ArrowError> {
        self.counts.resize(ngroups, 0);
        let columns = self.pairs.emit()?;
        let (groups, values) = match &columns[..] {
            [g, v] => (downcast::<UInt32Type>(g)?.values().clone(), v),
            _ => {
                return Err(ArrowError::ComputeError(
                    "nunique pairs without two columns".into(),
                ))
            }
        };
        // Counting sort of the pairs by group: a group's count is the
        // number of its pairs.
        let mut start: Vec<usize> = Vec::with_capacity(ngroups);
        let mut total = 0usize;
        for &c in &self.counts {
            start.push(total);
            total += c as usize;
        }
        let mut order = vec![0u32; groups.len()];
        for (pair, &g) in groups.iter().enumerate() {
            let slot = &mut start[g as usize];
            order[*slot] = pair as u32;
            *slot += 1;
        }
        let values = arrow_select::take::take(values.as_ref(), &UInt32Array::from(order), None)?;
        let offsets = offsets_of(self.counts.iter().map(|&c| c as usize));
        let list = ListArray::try_new(self.list_field(), offsets, values, None)?;
        self.counts.clear();
        Ok(vec![Arc::new(list)])
    }

    fn finish(&mut self, ngroups: usize) -> Result<ArrayRef, ArrowError> {
        self.counts.resize(ngroups, 0);
        Ok(Arc::new(Int64Array::from(std::mem::take(&mut self.counts))))
    }
}

/// Quantiles from weighted summaries; see [`quantile`](super::quantile).
/// Rows fed to this accumulator (one partition's) are summarised when its
/// state is taken; summaries merged into it are kept as they are.
struct QuantileAcc {
    qs: Arc<[f64]>,
    /// Several quantiles answer as a fixed-size list per group.
    list: bool,
    /// (group, value) of the rows fed.
    raw: Vec<(u32, f64)>,
    /// (group, value, weight) of merged summaries.
    points: Vec<(u32, f64, u64)>,
}

impl QuantileAcc {
    fn new(qs: Arc<[f64]>, list: bool) -> QuantileAcc {
        QuantileAcc {
            qs,
            list,
            raw: Vec::new(),
            points: Vec::new(),
        }
    }

    /// The rows fed so far, summarised group by group into `points`.
    fn summarize_raw(&mut self) {
        let mut raw = std::mem::take(&mut self.raw);
        raw.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let (mut values, mut weights) = (Vec::new(), Vec::new());
        for run in raw.chunk_by(|a, b| a.0 == b.0) {
            let sorted: Vec<f64> = run.iter().map(|p| p.1).collect();
            values.clear();
            weights.clear();
            quantile::summarize(&sorted, &mut values, &mut weights);
            let g = run[0].0;
            self.points
                .extend(values.iter().zip(&weights).map(|(&v, &w)| (g, v, w)));
        }
    }

    /// The points sorted by group then value, and where each group's run
    /// starts (`ngroups + 1` bounds).
    fn sorted_points(&mut self, ngroups: usize) -> (Vec<(u32, f64, u64)>, Vec<usize>) {
        let mut points = std::mem::take(&mut self.points);
        points.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let mut bounds = Vec::with_capacity(ngroups + 1);
        let mut i = 0;
        for g in 0..ngroups {
            bounds.push(i);
            while i < points.len() && points[i].0 as usize == g {
                i += 1;
            }
        }
        bounds.push(i);
        (points, bounds)
    }
}

impl Accumulator for QuantileAcc {
    fn output_type(&self) -> DataType {
        if self.list {
            DataType::FixedSizeList(
                Arc::new(Field::new_list_field(DataType::Float64, true)),
                self.qs.len() as i32,
            )
        } else {
            DataType::Float64
        }
    }

    fn state_types(&self) -> Vec<DataType> {
        vec![
            DataType::new_list(DataType::Float64, true),
            DataType::new_list(DataType::UInt64, true),
        ]
    }

    fn update(
        &mut self,
        values: Option<&ArrayRef>,
        groups: &[u32],
        _ngroups: usize,
    ) -> Result<(), ArrowError> {
        let Some(values) = values else {
            return Err(missing_values("quantile"));
        };
        let values = as_primitive::<Float64Type>(values)?;
        let values = downcast::<Float64Type>(&values)?;
        check_len(values.len(), groups)?;
        let raw = &mut self.raw;
        for_each_valid(values, groups, |g, v| raw.push((g as u32, v)));
        Ok(())
    }

    fn merge(
        &mut self,
        states: &[ArrayRef],
        groups: &[u32],
        _ngroups: usize,
    ) -> Result<(), ArrowError> {
        let (values, value_groups) = flatten_lists(&states[0], groups)?;
        let (weights, _) = flatten_lists(&states[1], groups)?;
        let values = downcast::<Float64Type>(&values)?;
        let weights = downcast::<UInt64Type>(&weights)?;
        check_len(values.len(), &value_groups)?;
        check_len(weights.len(), &value_groups)?;
        self.points.extend(
            value_groups
                .iter()
                .zip(values.values())
                .zip(weights.values())
                .map(|((&g, &v), &w)| (g, v, w)),
        );
        Ok(())
    }

    fn state(&mut self, ngroups: usize) -> Result<Vec<ArrayRef>, ArrowError> {
        self.summarize_raw();
        let (points, bounds) = self.sorted_points(ngroups);
        let offsets = offsets_of(bounds.windows(2).map(|w| w[1] - w[0]));
        let values = Float64Array::from_iter_values(points.iter().map(|p| p.1));
        let weights = UInt64Array::from_iter_values(points.iter().map(|p| p.2));
        let vf = Arc::new(Field::new_list_field(DataType::Float64, true));
        let wf = Arc::new(Field::new_list_field(DataType::UInt64, true));
        Ok(vec![
            Arc::new(ListArray::try_new(
                vf,
                offsets.clone(),
                Arc::new(values),
                None,
            )?),
            Arc::new(ListArray::try_new(wf, offsets, Arc::new(weights), None)?),
        ])
    }

    fn finish(&mut self, ngroups: usize) -> Result<ArrayRef, ArrowError> {
        // Rows fed straight to the root (a frame of one partition) are a
        // summary of weight 1 each: exact.
        let raw = std::mem::take(&mut self.raw);
        self.points.extend(raw.into_iter().map(|(g, v)| (g, v, 1)));
        let (points, bounds) = self.sorted_points(ngroups);
        let mut answers: Vec<Option<f64>> = Vec::with_capacity(ngroups * self.qs.len());
        let mut weighted: Vec<(f64, u64)> = Vec::new();
        for w in bounds.windows(2) {
            weighted.clear();
            weighted.extend(points[w[0]..w[1]].iter().map(|p| (p.1, p.2)));
            quantile::quantiles(&weighted, &self.qs, &mut answers);
        }
        let values = Float64Array::from(answers);
        if !self.list {
            return Ok(Arc::new(values));
        }
        let field = Arc::new(Field::new_list_field(DataType::Float64, true));
        let list =
            FixedSizeListArray::try_new(field, self.qs.len() as i32, Arc::new(values), None)?;
        Ok(Arc::new(list))
    }
}
