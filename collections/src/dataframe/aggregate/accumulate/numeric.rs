//! Counts, sums, means and variances per group.

use std::sync::Arc;

use arrow_array::types::{ArrowPrimitiveType, Float64Type, Int64Type};
use arrow_array::{Array, ArrayRef, ArrowNativeTypeOp, Float64Array, Int64Array, PrimitiveArray};
use arrow_buffer::ScalarBuffer;
use arrow_schema::{ArrowError, DataType};
use num_traits::AsPrimitive;

use super::{as_primitive, check_len, downcast, for_each_valid, missing_values, Accumulator};
use crate::stats::Moments;

/// Row counts: non-null values for `count`, rows for `size` (fed no
/// values).
#[derive(Default)]
pub(super) struct CountAcc {
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
pub(super) struct SumAcc<T: ArrowPrimitiveType> {
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

/// Count and sum in `f64` per group (the sum of an integer column is
/// exact up to 2^53).
pub(super) struct MeanAcc<T> {
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

/// Variance (or its root) with `ddof` delta degrees of freedom: null when
/// a group has at most `ddof` values.
pub(super) struct VarAcc<T> {
    moments: Vec<Moments>,
    ddof: u32,
    sqrt: bool,
    _type: std::marker::PhantomData<fn() -> T>,
}

impl<T> VarAcc<T> {
    pub(super) fn new(ddof: u32, sqrt: bool) -> Self {
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
                n: n.value(i) as f64,
                mean: mean.value(i),
                m2: m2.value(i),
            });
        }
        Ok(())
    }

    fn state(&mut self, ngroups: usize) -> Result<Vec<ArrayRef>, ArrowError> {
        self.moments.resize(ngroups, Moments::default());
        let m = std::mem::take(&mut self.moments);
        let n: Int64Array = m.iter().map(|m| m.n as i64).collect::<Vec<_>>().into();
        let mean: Float64Array = m.iter().map(|m| m.mean).collect::<Vec<_>>().into();
        let m2: Float64Array = m.iter().map(|m| m.m2).collect::<Vec<_>>().into();
        Ok(vec![Arc::new(n), Arc::new(mean), Arc::new(m2)])
    }

    fn finish(&mut self, ngroups: usize) -> Result<ArrayRef, ArrowError> {
        self.moments.resize(ngroups, Moments::default());
        let ddof = f64::from(self.ddof);
        let out: Float64Array = std::mem::take(&mut self.moments)
            .iter()
            .map(|m| {
                let var = m.variance(ddof)?;
                Some(if self.sqrt { var.sqrt() } else { var })
            })
            .collect();
        Ok(Arc::new(out))
    }
}
