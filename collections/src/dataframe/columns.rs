//! Column operations: `select`, `with_column`/`assign`, `rename`, `drop`,
//! `fillna`, `filter`, `dropna`, `map_partitions`. Each is checked against
//! the schema when called and becomes a row-wise step (no task of its own).

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use dagwood_runtime::{BoxError, TaskError};

use super::error::{DataFrameError, Result};
use super::expr::{col, unknown_column, Expr};
use super::scalar::Scalar;
use super::{check_same_schema, DataFrame, Step};

impl DataFrame {
    /// Builds a projection step: output columns as named expressions.
    fn project(&self, columns: Vec<(String, Expr)>, context: &str) -> Result<DataFrame> {
        let mut fields = Vec::with_capacity(columns.len());
        for (name, e) in &columns {
            if fields.iter().any(|f: &Field| f.name() == name) {
                return Err(DataFrameError::Invalid(format!(
                    "{context}: column {name:?} appears twice"
                )));
            }
            let data_type = match e.as_column().map(|c| self.schema.field_with_name(c)) {
                Some(Ok(field)) => {
                    fields.push(field.clone().with_name(name.clone()));
                    continue;
                }
                _ => e.check(&self.schema, context)?,
            };
            fields.push(Field::new(name.clone(), data_type, true));
        }
        let schema = Arc::new(Schema::new(fields));
        let step = Step::Project {
            columns: columns.into(),
            schema: schema.clone(),
        };
        Ok(self.then(step, schema))
    }

    /// The columns as a list of `col(name)` projections, for operations that
    /// change some of them.
    fn identity(&self) -> Vec<(String, Expr)> {
        self.columns()
            .into_iter()
            .map(|n| (n.clone(), col(n)))
            .collect()
    }

    fn require(&self, name: &str) -> Result<()> {
        self.schema
            .index_of(name)
            .map(|_| ())
            .map_err(|_| unknown_column(name, &self.schema))
    }

    /// Only the named columns, in the order given (pandas' `df[["a", "b"]]`).
    /// Only these columns are then read from a CSV or Parquet source.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let a = Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef;
    /// let df = DataFrame::from_arrays([("a", a.clone()), ("b", a)], 1).unwrap();
    /// assert_eq!(df.select(["b"]).unwrap().columns(), vec!["b"]);
    /// assert!(df.select(["c"]).unwrap_err().to_string().contains("no column named \"c\""));
    /// ```
    pub fn select<S: AsRef<str>>(&self, names: impl IntoIterator<Item = S>) -> Result<DataFrame> {
        let mut columns = Vec::new();
        for n in names {
            let n = n.as_ref();
            self.require(n)?;
            columns.push((n.to_owned(), col(n)));
        }
        self.project(columns, "select")
    }

    /// One column as a one-column frame (pandas' `df["a"]`).
    pub fn column(&self, name: &str) -> Result<DataFrame> {
        self.select([name])
    }

    /// Named expressions as the only columns (Polars' `select` of
    /// expressions).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::{col, DataFrame};
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef)], 1).unwrap();
    /// let out = df.select_exprs([("twice", col("a") * 2)]).unwrap().compute().unwrap();
    /// assert_eq!(out.column(0).as_ref(), &Int64Array::from(vec![2, 4]));
    /// ```
    pub fn select_exprs<N: Into<String>>(
        &self,
        exprs: impl IntoIterator<Item = (N, Expr)>,
    ) -> Result<DataFrame> {
        let columns = exprs.into_iter().map(|(n, e)| (n.into(), e)).collect();
        self.project(columns, "select_exprs")
    }

    /// A column computed from `expr`, replacing the column of that name or
    /// appended after the others.
    pub fn with_column(&self, name: impl Into<String>, expr: Expr) -> Result<DataFrame> {
        self.assign([(name, expr)])
    }

    /// Several computed columns at once (pandas' `assign`); each expression
    /// sees the columns as they were before this call.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Float64Array};
    /// use dagwood_collections::dataframe::{col, DataFrame};
    /// let x = Arc::new(Float64Array::from(vec![1.0, 2.0])) as ArrayRef;
    /// let df = DataFrame::from_arrays([("x", x)], 1).unwrap();
    /// let out = df.assign([("y", col("x") + 1.0), ("x", col("x") * 10.0)]).unwrap();
    /// assert_eq!(out.columns(), vec!["x", "y"]);
    /// let b = out.compute().unwrap();
    /// assert_eq!(b.column(0).as_ref(), &Float64Array::from(vec![10.0, 20.0]));
    /// assert_eq!(b.column(1).as_ref(), &Float64Array::from(vec![2.0, 3.0]));
    /// ```
    pub fn assign<N: Into<String>>(
        &self,
        columns: impl IntoIterator<Item = (N, Expr)>,
    ) -> Result<DataFrame> {
        let mut out = self.identity();
        for (name, e) in columns {
            let name = name.into();
            match out.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = e,
                None => out.push((name, e)),
            }
        }
        self.project(out, "assign")
    }

    /// Columns renamed by `(old, new)` pairs.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![1])) as ArrayRef)], 1).unwrap();
    /// assert_eq!(df.rename([("a", "b")]).unwrap().columns(), vec!["b"]);
    /// ```
    pub fn rename<A: AsRef<str>, B: Into<String>>(
        &self,
        pairs: impl IntoIterator<Item = (A, B)>,
    ) -> Result<DataFrame> {
        let mut out = self.identity();
        for (old, new) in pairs {
            let old = old.as_ref();
            self.require(old)?;
            if let Some(slot) = out
                .iter_mut()
                .find(|(n, e)| e.as_column() == Some(old) && n == old)
            {
                slot.0 = new.into();
            }
        }
        self.project(out, "rename")
    }

    /// All columns but the named ones.
    pub fn drop<S: AsRef<str>>(&self, names: impl IntoIterator<Item = S>) -> Result<DataFrame> {
        let mut out = self.identity();
        for n in names {
            let n = n.as_ref();
            self.require(n)?;
            out.retain(|(name, _)| name != n);
        }
        self.project(out, "drop")
    }

    /// Nulls replaced by `value` in every column whose type it fits
    /// (numbers in numeric columns, strings in string columns, booleans in
    /// boolean columns); other columns are left as they are. A float filled
    /// into an integer column makes it `Float64`, as in pandas.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array, StringArray};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("a", Arc::new(Int64Array::from(vec![Some(1), None])) as ArrayRef),
    ///     ("s", Arc::new(StringArray::from(vec![None, Some("x")])) as ArrayRef),
    /// ], 1).unwrap();
    /// let b = df.fillna(0).unwrap().compute().unwrap();
    /// assert_eq!(b.column(0).as_ref(), &Int64Array::from(vec![1, 0]));
    /// assert_eq!(b.column(1).null_count(), 1);
    /// ```
    pub fn fillna(&self, value: impl Into<Scalar>) -> Result<DataFrame> {
        let value = value.into();
        let fits = |t: &DataType| match &value {
            Scalar::Null => false,
            Scalar::Boolean(_) => *t == DataType::Boolean,
            Scalar::Int64(_) | Scalar::UInt64(_) | Scalar::Float64(_) => t.is_numeric(),
            Scalar::Utf8(_) => {
                matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
            }
        };
        let columns: Vec<(String, Scalar)> = self
            .schema
            .fields()
            .iter()
            .filter(|f| fits(f.data_type()))
            .map(|f| (f.name().clone(), value.clone()))
            .collect();
        self.fillna_columns(columns)
    }

    /// Nulls replaced column by column: `(column, value)` pairs.
    pub fn fillna_columns<N: AsRef<str>, V: Into<Scalar>>(
        &self,
        values: impl IntoIterator<Item = (N, V)>,
    ) -> Result<DataFrame> {
        let mut out = self.identity();
        for (name, v) in values {
            let name = name.as_ref();
            self.require(name)?;
            if let Some(slot) = out.iter_mut().find(|(n, _)| n == name) {
                slot.1 = col(name).fill_null(v.into());
            }
        }
        self.project(out, "fillna")
    }

    /// The rows where `predicate` is true (a null counts as false), as
    /// pandas' `df[predicate]`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::{col, DataFrame};
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![1, 5, 2, 7])) as ArrayRef)], 2).unwrap();
    /// let b = df.filter(col("a").gt(2)).unwrap().compute().unwrap();
    /// assert_eq!(b.column(0).as_ref(), &Int64Array::from(vec![5, 7]));
    /// assert!(df.filter(col("a") + 1).is_err()); // not a boolean
    /// ```
    pub fn filter(&self, predicate: Expr) -> Result<DataFrame> {
        let t = predicate.check(&self.schema, "filter")?;
        if t != DataType::Boolean {
            return Err(DataFrameError::Type {
                context: format!("filter {predicate}"),
                message: format!("a filter needs a boolean expression, this one is {t}"),
            });
        }
        Ok(self.then(Step::Filter(predicate), self.schema.clone()))
    }

    /// The rows without a null in any column.
    pub fn dropna(&self) -> Result<DataFrame> {
        let names = self.columns();
        self.dropna_subset(&names)
    }

    /// The rows without a null in the named columns.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([
    ///     ("a", Arc::new(Int64Array::from(vec![Some(1), None, Some(3)])) as ArrayRef),
    ///     ("b", Arc::new(Int64Array::from(vec![None, Some(2), Some(3)])) as ArrayRef),
    /// ], 2).unwrap();
    /// assert_eq!(df.dropna_subset(["a"]).unwrap().len().compute().unwrap(), 2);
    /// assert_eq!(df.dropna().unwrap().len().compute().unwrap(), 1);
    /// ```
    pub fn dropna_subset<S: AsRef<str>>(
        &self,
        names: impl IntoIterator<Item = S>,
    ) -> Result<DataFrame> {
        let mut predicate: Option<Expr> = None;
        for n in names {
            let n = n.as_ref();
            self.require(n)?;
            let test = col(n).is_not_null();
            predicate = Some(match predicate {
                Some(p) => p & test,
                None => test,
            });
        }
        match predicate {
            Some(p) => self.filter(p),
            None => Ok(self.clone()),
        }
    }

    /// A function applied to each whole partition (Dask's
    /// `map_partitions`), one task per partition. Every result must have
    /// `schema`; one that does not is an error naming the partition.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, Int64Array, RecordBatch};
    /// use dagwood_collections::dataframe::DataFrame;
    /// let df = DataFrame::from_arrays([("a", Arc::new(Int64Array::from(vec![3, 1, 2])) as ArrayRef)], 2).unwrap();
    /// let firsts = df.map_partitions(|b: RecordBatch| Ok(b.slice(0, 1.min(b.num_rows()))), df.schema().clone());
    /// assert_eq!(firsts.compute().unwrap().num_rows(), 2);
    /// ```
    pub fn map_partitions<F>(&self, f: F, schema: SchemaRef) -> DataFrame
    where
        F: Fn(RecordBatch) -> std::result::Result<RecordBatch, BoxError> + Send + Sync + 'static,
    {
        let input = self.schema.clone();
        let output = schema.clone();
        let parts = self.consume("map-partitions", move |i, stream| {
            let out = f(stream.collect(&input)?).map_err(TaskError::Failed)?;
            check_same_schema(
                &output,
                out.schema_ref(),
                &format!("map_partitions result of partition {i}"),
            )
            .map_err(TaskError::failed)?;
            Ok(out)
        });
        DataFrame::from_tasks(parts, schema)
    }
}
