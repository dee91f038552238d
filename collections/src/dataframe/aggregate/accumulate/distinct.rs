//! `nunique`: the distinct values of each group, kept as a list per group
//! so that partials merge by union.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::UInt32Type;
use arrow_array::{Array, ArrayRef, BooleanArray, Int64Array, ListArray, UInt32Array};
use arrow_schema::{ArrowError, DataType, Field};

use super::{check_len, downcast, flatten_lists, missing_values, offsets_of, Accumulator};
use crate::dataframe::aggregate::grouper::Grouper;

/// The distinct non-null values of each group, as the distinct (group,
/// value) pairs of a grouper over those two columns; a group's count goes
/// up when a pair is new. Floats are normalised (the grouper does it), so
/// NaN counts as one value and `-0.0` as `0.0`.
pub(super) struct NUniqueAcc {
    pairs: Grouper,
    counts: Vec<i64>,
    value_type: DataType,
    ids: Vec<u32>,
}

impl NUniqueAcc {
    pub(super) fn new(value_type: &DataType) -> Result<NUniqueAcc, ArrowError> {
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
