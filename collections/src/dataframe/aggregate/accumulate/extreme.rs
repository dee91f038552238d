//! Min and max per group: of numbers, dates and timestamps in their own
//! type, of strings and of booleans.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Date64Type, Float16Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef, ArrowNativeTypeOp, BooleanArray, PrimitiveArray, StringArray};
use arrow_buffer::{NullBuffer, ScalarBuffer};
use arrow_cast::cast::cast;
use arrow_schema::{ArrowError, DataType, TimeUnit};

use super::{check_len, downcast, for_each_valid, missing_values, Accumulator};

/// The min (`MAX = false`) or max accumulator for type `t`.
pub(super) fn extreme<const MAX: bool>(t: &DataType) -> Result<Box<dyn Accumulator>, String> {
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

/// Min or max of a primitive column, in the column's type. Floats compare
/// in Arrow's total order: NaN is above every number, so a NaN is the max
/// of its group and is the min only when every value is NaN.
pub(super) struct ExtremeAcc<T: ArrowPrimitiveType, const MAX: bool> {
    values: Vec<T::Native>,
    seen: Vec<bool>,
    data_type: DataType,
}

impl<T: ArrowPrimitiveType, const MAX: bool> ExtremeAcc<T, MAX> {
    pub(super) fn new(data_type: DataType) -> Self {
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
pub(super) struct StringExtremeAcc<const MAX: bool> {
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
pub(super) struct BoolExtremeAcc<const MAX: bool> {
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
