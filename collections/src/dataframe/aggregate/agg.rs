//! [`Agg`]: one aggregation of one column (`Agg::sum("x")`), and binding
//! aggregations to the columns of a frame.

use std::fmt;

use arrow_schema::{DataType, Schema};

use crate::dataframe::aggregate::accumulate::{accumulator, Func};
use crate::dataframe::aggregate::tree::Bound;
use crate::dataframe::error::{DataFrameError, Result};

/// One aggregation: a function of a column (or of the rows, for
/// [`size`](Agg::size)), with the name of its output column. Use it with
/// [`DataFrame::agg`](crate::dataframe::DataFrame::agg), [`DataFrame::reduce`](crate::dataframe::DataFrame::reduce) and
/// [`GroupBy::agg`](crate::dataframe::GroupBy::agg).
///
/// The output column is named after the input column (as pandas and
/// Polars), `"size"` for `size`, or what [`alias`](Agg::alias) says;
/// two aggregations with the same output name are an error.
///
/// ```
/// use dagwood_collections::dataframe::Agg;
/// let a = Agg::mean("x").alias("mean_x");
/// assert_eq!(a.output_name(), "mean_x");
/// assert_eq!(a.to_string(), "mean(x) as mean_x");
/// assert_eq!(Agg::size().output_name(), "size");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Agg {
    func: Func,
    column: Option<String>,
    alias: Option<String>,
}

impl Agg {
    fn of(func: Func, column: impl Into<String>) -> Agg {
        Agg {
            func,
            column: Some(column.into()),
            alias: None,
        }
    }

    /// The sum of the non-null values (0 when there are none). Integer
    /// sums wrap around on overflow.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int32Array};
    /// use dagwood_collections::dataframe::{Agg, DataFrame, Scalar};
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int32Array::from(vec![Some(1), None, Some(5)])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.reduce(Agg::sum("a")).unwrap().compute().unwrap(), Scalar::Int64(6));
    /// ```
    pub fn sum(column: impl Into<String>) -> Agg {
        Agg::of(Func::Sum, column)
    }

    /// The mean of the non-null values (`Float64`; null when there are
    /// none).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::{Agg, DataFrame, Scalar};
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![1, 2, 6])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.reduce(Agg::mean("a")).unwrap().compute().unwrap(), Scalar::Float64(3.0));
    /// ```
    pub fn mean(column: impl Into<String>) -> Agg {
        Agg::of(Func::Mean, column)
    }

    /// The number of non-null values (`Int64`).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, StringArray};
    /// use dagwood_collections::dataframe::{Agg, DataFrame, Scalar};
    /// let df = DataFrame::from_arrays([("s", Arc::new(StringArray::from(vec![Some("a"), None])) as ArrayRef)], 1).unwrap();
    /// assert_eq!(df.reduce(Agg::count("s")).unwrap().compute().unwrap(), Scalar::Int64(1));
    /// ```
    pub fn count(column: impl Into<String>) -> Agg {
        Agg::of(Func::Count, column)
    }

    /// The smallest non-null value, in the column's type (numbers,
    /// strings, booleans, dates, timestamps).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, StringArray};
    /// use dagwood_collections::dataframe::{Agg, DataFrame, Scalar};
    /// let df = DataFrame::from_arrays([("s", Arc::new(StringArray::from(vec!["b", "a", "c"])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.reduce(Agg::min("s")).unwrap().compute().unwrap(), Scalar::from("a"));
    /// ```
    pub fn min(column: impl Into<String>) -> Agg {
        Agg::of(Func::Min, column)
    }

    /// The largest non-null value, in the column's type. A float NaN is
    /// above every number.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array};
    /// use dagwood_collections::dataframe::{Agg, DataFrame, Scalar};
    /// let df = DataFrame::from_arrays([("x", Arc::new(Float64Array::from(vec![1.5, -2.0])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.reduce(Agg::max("x")).unwrap().compute().unwrap(), Scalar::Float64(1.5));
    /// ```
    pub fn max(column: impl Into<String>) -> Agg {
        Agg::of(Func::Max, column)
    }

    /// The sample standard deviation (`ddof = 1`, as pandas): null for
    /// fewer than two values.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array};
    /// use dagwood_collections::dataframe::{Agg, DataFrame};
    /// let df = DataFrame::from_arrays([("x", Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.reduce(Agg::std("x")).unwrap().compute().unwrap().as_f64(), Some(1.0));
    /// ```
    pub fn std(column: impl Into<String>) -> Agg {
        Agg::std_ddof(column, 1)
    }

    /// The sample variance (`ddof = 1`): null for fewer than two values.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array};
    /// use dagwood_collections::dataframe::{Agg, DataFrame};
    /// let df = DataFrame::from_arrays([("x", Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.reduce(Agg::var("x")).unwrap().compute().unwrap().as_f64(), Some(1.0));
    /// ```
    pub fn var(column: impl Into<String>) -> Agg {
        Agg::var_ddof(column, 1)
    }

    /// The standard deviation with `ddof` delta degrees of freedom (0 for
    /// the population's): null for at most `ddof` values.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array};
    /// use dagwood_collections::dataframe::{Agg, DataFrame};
    /// let df = DataFrame::from_arrays([("x", Arc::new(Float64Array::from(vec![1.0, 3.0])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.reduce(Agg::std_ddof("x", 0)).unwrap().compute().unwrap().as_f64(), Some(1.0));
    /// ```
    pub fn std_ddof(column: impl Into<String>, ddof: u32) -> Agg {
        Agg::of(Func::Std { ddof }, column)
    }

    /// The variance with `ddof` delta degrees of freedom.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array};
    /// use dagwood_collections::dataframe::{Agg, DataFrame};
    /// let df = DataFrame::from_arrays([("x", Arc::new(Float64Array::from(vec![1.0, 3.0])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.reduce(Agg::var_ddof("x", 0)).unwrap().compute().unwrap().as_f64(), Some(1.0));
    /// ```
    pub fn var_ddof(column: impl Into<String>, ddof: u32) -> Agg {
        Agg::of(Func::Var { ddof }, column)
    }

    /// The number of distinct non-null values (`Int64`). Floats count NaN
    /// once and `-0.0` as `0.0`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, StringArray};
    /// use dagwood_collections::dataframe::{Agg, DataFrame, Scalar};
    /// let df = DataFrame::from_arrays([("s", Arc::new(StringArray::from(vec![Some("a"), None, Some("b"), Some("a")])) as ArrayRef)], 3).unwrap();
    /// assert_eq!(df.reduce(Agg::nunique("s")).unwrap().compute().unwrap(), Scalar::Int64(2));
    /// ```
    pub fn nunique(column: impl Into<String>) -> Agg {
        Agg::of(Func::NUnique, column)
    }

    /// The number of rows, nulls included (`Int64`), named `"size"`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::{Agg, DataFrame, Scalar};
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![Some(1), None])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.reduce(Agg::size()).unwrap().compute().unwrap(), Scalar::Int64(2));
    /// ```
    pub fn size() -> Agg {
        Agg {
            func: Func::Size,
            column: None,
            alias: None,
        }
    }

    /// The median of the non-null values (`Float64`), as
    /// [`quantile`](Agg::quantile)`(column, 0.5)`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::{Agg, DataFrame};
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![4, 1, 3, 2])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.reduce(Agg::median("a")).unwrap().compute().unwrap().as_f64(), Some(2.5));
    /// ```
    pub fn median(column: impl Into<String>) -> Agg {
        Agg::quantile(column, 0.5)
    }

    /// The `q` quantile (`0 ≤ q ≤ 1`) of the non-null values (`Float64`),
    /// interpolated linearly as pandas. Exact when no partition has more
    /// than 4096 values of the column (per group); otherwise from
    /// per-partition summaries, within about `n/8192` ranks of the exact
    /// value for `n` values (see `DataFrame::describe`).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow_array::{ArrayRef, Float64Array};
    /// use dagwood_collections::dataframe::{Agg, DataFrame};
    /// let df = DataFrame::from_arrays([("x", Arc::new(Float64Array::from(vec![0.0, 10.0, 20.0])) as ArrayRef)], 2).unwrap();
    /// assert_eq!(df.reduce(Agg::quantile("x", 0.25)).unwrap().compute().unwrap().as_f64(), Some(5.0));
    /// assert!(df.reduce(Agg::quantile("x", 1.5)).is_err());
    /// ```
    pub fn quantile(column: impl Into<String>, q: f64) -> Agg {
        Agg::of(Func::Quantile(q), column)
    }

    /// The same aggregation with its output column named `name`.
    ///
    /// ```
    /// use dagwood_collections::dataframe::Agg;
    /// assert_eq!(Agg::sum("x").alias("total").output_name(), "total");
    /// ```
    pub fn alias(mut self, name: impl Into<String>) -> Agg {
        self.alias = Some(name.into());
        self
    }

    /// The name of the output column.
    ///
    /// ```
    /// use dagwood_collections::dataframe::Agg;
    /// assert_eq!(Agg::max("x").output_name(), "x");
    /// ```
    pub fn output_name(&self) -> &str {
        match (&self.alias, &self.column) {
            (Some(a), _) => a,
            (None, Some(c)) => c,
            (None, None) => self.func.name(),
        }
    }

    /// The input column (`None` for [`size`](Agg::size)).
    ///
    /// ```
    /// use dagwood_collections::dataframe::Agg;
    /// assert_eq!(Agg::count("x").column(), Some("x"));
    /// assert_eq!(Agg::size().column(), None);
    /// ```
    pub fn column(&self) -> Option<&str> {
        self.column.as_deref()
    }

    pub(crate) fn bind(&self) -> Result<Bound> {
        if let Func::Quantile(q) = self.func {
            if !(0.0..=1.0).contains(&q) {
                return Err(DataFrameError::Invalid(format!(
                    "quantile of column {:?}: q must be between 0 and 1, got {q}",
                    self.column.as_deref().unwrap_or_default()
                )));
            }
        }
        Ok(Bound {
            func: self.func.clone(),
            column: self.column.clone(),
            output: self.output_name().to_owned(),
        })
    }
}

impl fmt::Display for Agg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}({})",
            self.func.name(),
            self.column.as_deref().unwrap_or("")
        )?;
        if let Some(a) = &self.alias {
            write!(f, " as {a}")?;
        }
        Ok(())
    }
}

/// Binds aggregations for the engine.
pub(crate) fn bind_all(aggs: impl IntoIterator<Item = Agg>) -> Result<Vec<Bound>> {
    aggs.into_iter().map(|a| a.bind()).collect()
}

/// `func` of every column of `schema` (but `skip`) it applies to, each
/// named after its column: the per-column shortcuts (`df.sum()`).
pub(crate) fn per_column(schema: &Schema, func: &Func, skip: &[String]) -> Vec<Bound> {
    schema
        .fields()
        .iter()
        .filter(|f| !skip.contains(f.name()))
        .filter(|f| accumulator(func, Some(f.data_type())).is_ok())
        .map(|f| Bound {
            func: func.clone(),
            column: Some(f.name().clone()),
            output: f.name().clone(),
        })
        .collect()
}

/// Whether a value of type `t` can be a [`Scalar`].
pub(super) fn scalar_type(t: &DataType) -> bool {
    use DataType::*;
    t.is_integer()
        || matches!(
            t,
            Null | Boolean | Float16 | Float32 | Float64 | Utf8 | LargeUtf8 | Utf8View
        )
}
