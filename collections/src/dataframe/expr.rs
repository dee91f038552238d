//! Column expressions: `col("x") * 2.0 + col("y")`, `col("name").contains("an")`,
//! evaluated batch by batch with Arrow's kernels.
//!
//! An [`Expr`] is a small tree built with [`col`], [`lit`], the arithmetic
//! operators (`+ - * / %`, unary `-`), `&`, `|` and `!` on booleans, and
//! methods for comparisons, null tests, string matching and casts. A frame
//! checks an expression against its schema when it is used (unknown
//! columns and type mismatches are errors there, not at compute time).
//!
//! Types follow pandas where Arrow leaves a choice: mixing integers and
//! floats computes in `Float64`, `/` between integers is true division
//! (`Float64`), comparisons and arithmetic with a null propagate the null,
//! and `&`/`|` use Kleene logic (`false & null` is `false`).

use std::fmt;
use std::ops;
use std::sync::Arc;

use arrow_array::{new_null_array, Array, ArrayRef, BooleanArray, Datum, RecordBatch};
use arrow_cast::cast::{cast_with_options, CastOptions};
use arrow_schema::{ArrowError, DataType, Schema};

use super::error::{DataFrameError, Result};
use super::scalar::Scalar;

/// A column expression. Cheap to clone (the tree is shared).
///
/// ```
/// use dagwood_collections::dataframe::{col, lit};
/// let e = (col("x") * 2.0 + col("y")).gt(lit(10));
/// assert_eq!(e.to_string(), "(((x * 2) + y) > 10)");
/// assert_eq!(e.columns(), vec!["x", "y"]);
/// ```
#[derive(Clone)]
pub struct Expr(Arc<Node>);

#[derive(Debug)]
enum Node {
    Column(String),
    Literal(Scalar),
    Binary {
        op: BinaryOp,
        left: Expr,
        right: Expr,
    },
    Negate(Expr),
    Not(Expr),
    IsNull(Expr),
    IsNotNull(Expr),
    Cast(Expr, DataType),
    Text {
        op: TextOp,
        expr: Expr,
        pattern: String,
    },
    FillNull(Expr, Expr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    And,
    Or,
}

impl BinaryOp {
    fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Eq => "==",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::And => "&",
            BinaryOp::Or => "|",
        }
    }

    fn is_arithmetic(self) -> bool {
        matches!(
            self,
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem
        )
    }
}

#[derive(Clone, Copy, Debug)]
enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
}

/// The column called `name`.
///
/// ```
/// use dagwood_collections::dataframe::{col, DataFrame};
/// use arrow_array::{ArrayRef, Int64Array};
/// use std::sync::Arc;
/// let df = DataFrame::from_arrays([("x", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef)], 2).unwrap();
/// let out = df.with_column("y", col("x") * 10).unwrap().compute().unwrap();
/// assert_eq!(out.column(1).as_ref(), &Int64Array::from(vec![10, 20, 30]));
/// ```
pub fn col(name: impl Into<String>) -> Expr {
    Expr::new(Node::Column(name.into()))
}

/// A literal value (anything that converts into a [`Scalar`]).
///
/// ```
/// use dagwood_collections::dataframe::lit;
/// assert_eq!(lit(1.5).to_string(), "1.5");
/// assert_eq!(lit("a").to_string(), "\"a\"");
/// ```
pub fn lit(value: impl Into<Scalar>) -> Expr {
    Expr::new(Node::Literal(value.into()))
}

impl Expr {
    fn new(node: Node) -> Expr {
        Expr(Arc::new(node))
    }

    fn binary(self, op: BinaryOp, right: impl Into<Expr>) -> Expr {
        Expr::new(Node::Binary {
            op,
            left: self,
            right: right.into(),
        })
    }

    /// `self == other` (null where either is null).
    pub fn eq(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::Eq, other)
    }
    /// `self != other`.
    pub fn not_eq(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::NotEq, other)
    }
    /// `self < other`.
    pub fn lt(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::Lt, other)
    }
    /// `self <= other`.
    pub fn lt_eq(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::LtEq, other)
    }
    /// `self > other`.
    pub fn gt(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::Gt, other)
    }
    /// `self >= other`.
    pub fn gt_eq(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::GtEq, other)
    }
    /// Logical and (Kleene: `false & null` is `false`); same as `&`.
    pub fn and(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::And, other)
    }
    /// Logical or (Kleene: `true | null` is `true`); same as `|`.
    pub fn or(self, other: impl Into<Expr>) -> Expr {
        self.binary(BinaryOp::Or, other)
    }
    /// Whether the value is null.
    pub fn is_null(self) -> Expr {
        Expr::new(Node::IsNull(self))
    }
    /// Whether the value is not null.
    pub fn is_not_null(self) -> Expr {
        Expr::new(Node::IsNotNull(self))
    }
    /// The value converted to `to`. A value that does not convert (`"abc"`
    /// to `Int64`, an overflow) is an error, never a silent null.
    pub fn cast(self, to: DataType) -> Expr {
        Expr::new(Node::Cast(self, to))
    }
    /// Whether the string contains `pattern` (plain text, not a regex).
    pub fn contains(self, pattern: impl Into<String>) -> Expr {
        self.text(TextOp::Contains, pattern)
    }
    /// Whether the string starts with `prefix`.
    pub fn starts_with(self, prefix: impl Into<String>) -> Expr {
        self.text(TextOp::StartsWith, prefix)
    }
    /// Whether the string ends with `suffix`.
    pub fn ends_with(self, suffix: impl Into<String>) -> Expr {
        self.text(TextOp::EndsWith, suffix)
    }
    /// The value, or `value` where it is null (pandas' `fillna`).
    pub fn fill_null(self, value: impl Into<Expr>) -> Expr {
        Expr::new(Node::FillNull(self, value.into()))
    }

    fn text(self, op: TextOp, pattern: impl Into<String>) -> Expr {
        Expr::new(Node::Text {
            op,
            expr: self,
            pattern: pattern.into(),
        })
    }

    /// The column this expression is, if it is just a column.
    pub fn as_column(&self) -> Option<&str> {
        match &*self.0 {
            Node::Column(name) => Some(name),
            _ => None,
        }
    }

    /// The names of the columns the expression reads, in first-use order,
    /// each once.
    pub fn columns(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_columns(&mut out);
        out
    }

    fn collect_columns<'a>(&'a self, out: &mut Vec<&'a str>) {
        match &*self.0 {
            Node::Column(name) => {
                if !out.contains(&name.as_str()) {
                    out.push(name);
                }
            }
            Node::Literal(_) => {}
            Node::Binary { left, right, .. } | Node::FillNull(left, right) => {
                left.collect_columns(out);
                right.collect_columns(out);
            }
            Node::Negate(e)
            | Node::Not(e)
            | Node::IsNull(e)
            | Node::IsNotNull(e)
            | Node::Cast(e, _)
            | Node::Text { expr: e, .. } => e.collect_columns(out),
        }
    }

    /// Checks the expression against `schema`: unknown columns and types
    /// the operations do not apply to are errors naming `context`. Returns
    /// the type of the result.
    pub(crate) fn check(&self, schema: &Arc<Schema>, context: &str) -> Result<DataType> {
        for name in self.columns() {
            if schema.index_of(name).is_err() {
                return Err(unknown_column(name, schema));
            }
        }
        // Evaluating on an empty batch runs every kernel's type checks
        // without a second implementation of the typing rules.
        let empty = RecordBatch::new_empty(schema.clone());
        let out = self
            .evaluate(&empty)
            .map_err(|e| DataFrameError::types(format!("{context} {self}"), e))?;
        Ok(out.data_type().clone())
    }

    /// The expression's values over `batch`, one per row.
    pub(crate) fn evaluate(
        &self,
        batch: &RecordBatch,
    ) -> std::result::Result<ArrayRef, ArrowError> {
        match self.eval(batch)? {
            Value::Array(a) => Ok(a),
            Value::Scalar(s) => broadcast(&s, batch.num_rows()),
        }
    }

    fn eval(&self, batch: &RecordBatch) -> std::result::Result<Value, ArrowError> {
        Ok(match &*self.0 {
            Node::Column(name) => {
                let i = batch.schema_ref().index_of(name)?;
                Value::Array(batch.column(i).clone())
            }
            Node::Literal(s) => Value::Scalar(s.to_array(1)),
            Node::Binary { op, left, right } => binary(*op, left.eval(batch)?, right.eval(batch)?)?,
            Node::Negate(e) => e.eval(batch)?.map(|a| arrow_arith::numeric::neg(a))?,
            Node::Not(e) => e.eval(batch)?.map(|a| {
                let b = as_boolean(a, "!")?;
                Ok(Arc::new(arrow_arith::boolean::not(b)?) as ArrayRef)
            })?,
            Node::IsNull(e) => e
                .eval(batch)?
                .map(|a| Ok(Arc::new(arrow_arith::boolean::is_null(a)?) as ArrayRef))?,
            Node::IsNotNull(e) => e
                .eval(batch)?
                .map(|a| Ok(Arc::new(arrow_arith::boolean::is_not_null(a)?) as ArrayRef))?,
            Node::Cast(e, to) => e.eval(batch)?.map(|a| {
                let options = CastOptions {
                    safe: false,
                    ..Default::default()
                };
                cast_with_options(a, to, &options)
            })?,
            Node::Text { op, expr, pattern } => {
                let v = expr.eval(batch)?;
                let pattern =
                    arrow_array::Scalar::new(Arc::new(arrow_array::StringArray::from(vec![
                        pattern.as_str()
                    ])) as ArrayRef);
                v.map(|a| {
                    let a = to_utf8(a)?;
                    let out = match op {
                        TextOp::Contains => arrow_string::like::contains(&a, &pattern),
                        TextOp::StartsWith => arrow_string::like::starts_with(&a, &pattern),
                        TextOp::EndsWith => arrow_string::like::ends_with(&a, &pattern),
                    }?;
                    Ok(Arc::new(out) as ArrayRef)
                })?
            }
            Node::FillNull(e, fill) => {
                let (v, f) = coerce(e.eval(batch)?, fill.eval(batch)?)?;
                let scalar = v.is_scalar() && f.is_scalar();
                let (va, fa) = (v.into_array(), f.into_array());
                let mask = arrow_arith::boolean::is_not_null(va.as_ref())?;
                let out = zip_datum(&mask, &va, &fa, scalar)?;
                if scalar {
                    Value::Scalar(out)
                } else {
                    Value::Array(out)
                }
            }
        })
    }
}

/// The error for a column `name` that `schema` lacks.
pub(crate) fn unknown_column(name: &str, schema: &Schema) -> DataFrameError {
    DataFrameError::UnknownColumn {
        name: name.to_owned(),
        available: schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// An intermediate result: a column, or one value for every row (a
/// length-1 array) that kernels take as an Arrow `Scalar`.
enum Value {
    Array(ArrayRef),
    Scalar(ArrayRef),
}

impl Value {
    fn is_scalar(&self) -> bool {
        matches!(self, Value::Scalar(_))
    }

    fn array(&self) -> &ArrayRef {
        match self {
            Value::Array(a) | Value::Scalar(a) => a,
        }
    }

    fn into_array(self) -> ArrayRef {
        match self {
            Value::Array(a) | Value::Scalar(a) => a,
        }
    }

    fn datum(&self) -> Box<dyn Datum + '_> {
        match self {
            Value::Array(a) => Box::new(a),
            Value::Scalar(a) => Box::new(arrow_array::Scalar::new(a.clone())),
        }
    }

    /// Applies an elementwise function, keeping scalars scalar.
    fn map(
        self,
        f: impl FnOnce(&dyn Array) -> std::result::Result<ArrayRef, ArrowError>,
    ) -> std::result::Result<Value, ArrowError> {
        Ok(match self {
            Value::Array(a) => Value::Array(f(a.as_ref())?),
            Value::Scalar(a) => Value::Scalar(f(a.as_ref())?),
        })
    }

    fn cast(self, to: &DataType) -> std::result::Result<Value, ArrowError> {
        if self.array().data_type() == to {
            return Ok(self);
        }
        self.map(|a| arrow_cast::cast(a, to))
    }
}

fn broadcast(scalar: &ArrayRef, len: usize) -> std::result::Result<ArrayRef, ArrowError> {
    if scalar.is_null(0) {
        return Ok(new_null_array(scalar.data_type(), len));
    }
    let indices = arrow_array::UInt32Array::from_value(0, len);
    arrow_select::take::take(scalar.as_ref(), &indices, None)
}

fn as_boolean<'a>(a: &'a dyn Array, op: &str) -> std::result::Result<&'a BooleanArray, ArrowError> {
    a.as_any().downcast_ref::<BooleanArray>().ok_or_else(|| {
        ArrowError::InvalidArgumentError(format!("{op} needs booleans, not {}", a.data_type()))
    })
}

fn to_utf8(a: &dyn Array) -> std::result::Result<ArrayRef, ArrowError> {
    match a.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            Ok(arrow_array::make_array(a.to_data()))
        }
        DataType::Null => arrow_cast::cast(a, &DataType::Utf8),
        other => Err(ArrowError::InvalidArgumentError(format!(
            "string matching needs strings, not {other}"
        ))),
    }
}

/// The type two operands meet in: pandas-like numeric widening, nulls take
/// the other side's type, strings meet as `Utf8`.
fn common_type(l: &DataType, r: &DataType) -> Option<DataType> {
    use DataType::*;
    if l == r {
        return Some(l.clone());
    }
    match (l, r) {
        (Null, t) | (t, Null) => Some(t.clone()),
        (a, b) if a.is_floating() || b.is_floating() => {
            (a.is_numeric() && b.is_numeric()).then_some(Float64)
        }
        (a, b) if a.is_unsigned_integer() && b.is_unsigned_integer() => Some(UInt64),
        (a, b) if a.is_integer() && b.is_integer() => Some(Int64),
        (Utf8 | LargeUtf8 | Utf8View, Utf8 | LargeUtf8 | Utf8View) => Some(Utf8),
        _ => None,
    }
}

fn coerce(l: Value, r: Value) -> std::result::Result<(Value, Value), ArrowError> {
    let (lt, rt) = (l.array().data_type().clone(), r.array().data_type().clone());
    match common_type(&lt, &rt) {
        Some(t) => Ok((l.cast(&t)?, r.cast(&t)?)),
        None => Err(ArrowError::InvalidArgumentError(format!(
            "cannot combine {lt} with {rt}"
        ))),
    }
}

fn binary(op: BinaryOp, l: Value, r: Value) -> std::result::Result<Value, ArrowError> {
    let (mut l, mut r) = coerce(l, r)?;
    let scalar = l.is_scalar() && r.is_scalar();
    let t = l.array().data_type().clone();
    if op.is_arithmetic() && !(t.is_numeric() || t == DataType::Null) {
        return Err(ArrowError::InvalidArgumentError(format!(
            "{} needs numbers, not {t}",
            op.symbol()
        )));
    }
    if op == BinaryOp::Div && (t.is_integer() || t == DataType::Null) {
        // True division, as pandas.
        l = l.cast(&DataType::Float64)?;
        r = r.cast(&DataType::Float64)?;
    }
    let (ld, rd) = (l.datum(), r.datum());
    let (ld, rd) = (ld.as_ref(), rd.as_ref());
    use arrow_arith::numeric;
    use arrow_ord::cmp;
    let out: ArrayRef = match op {
        BinaryOp::Add => numeric::add(ld, rd)?,
        BinaryOp::Sub => numeric::sub(ld, rd)?,
        BinaryOp::Mul => numeric::mul(ld, rd)?,
        BinaryOp::Div => numeric::div(ld, rd)?,
        BinaryOp::Rem => numeric::rem(ld, rd)?,
        BinaryOp::Eq => Arc::new(cmp::eq(ld, rd)?),
        BinaryOp::NotEq => Arc::new(cmp::neq(ld, rd)?),
        BinaryOp::Lt => Arc::new(cmp::lt(ld, rd)?),
        BinaryOp::LtEq => Arc::new(cmp::lt_eq(ld, rd)?),
        BinaryOp::Gt => Arc::new(cmp::gt(ld, rd)?),
        BinaryOp::GtEq => Arc::new(cmp::gt_eq(ld, rd)?),
        BinaryOp::And | BinaryOp::Or => {
            // The boolean kernels want equal lengths: spread a scalar side.
            let len = l.array().len().max(r.array().len());
            let (la, ra) = (spread(&l, len)?, spread(&r, len)?);
            let (lb, rb) = (
                as_boolean(la.as_ref(), op.symbol())?,
                as_boolean(ra.as_ref(), op.symbol())?,
            );
            Arc::new(if op == BinaryOp::And {
                arrow_arith::boolean::and_kleene(lb, rb)?
            } else {
                arrow_arith::boolean::or_kleene(lb, rb)?
            })
        }
    };
    Ok(if scalar {
        Value::Scalar(out)
    } else {
        Value::Array(out)
    })
}

fn spread(v: &Value, len: usize) -> std::result::Result<ArrayRef, ArrowError> {
    match v {
        Value::Array(a) => Ok(a.clone()),
        Value::Scalar(s) => {
            let s = if s.data_type() == &DataType::Null {
                arrow_cast::cast(s.as_ref(), &DataType::Boolean)?
            } else {
                s.clone()
            };
            broadcast(&s, len)
        }
    }
}

fn zip_datum(
    mask: &BooleanArray,
    truthy: &ArrayRef,
    falsy: &ArrayRef,
    scalar_falsy: bool,
) -> std::result::Result<ArrayRef, ArrowError> {
    if falsy.len() == truthy.len() || !scalar_falsy && falsy.len() != 1 {
        arrow_select::zip::zip(mask, truthy, falsy)
    } else {
        arrow_select::zip::zip(mask, truthy, &arrow_array::Scalar::new(falsy.clone()))
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            Node::Column(name) => f.write_str(name),
            Node::Literal(Scalar::Utf8(s)) => write!(f, "{s:?}"),
            Node::Literal(s) => write!(f, "{s}"),
            Node::Binary { op, left, right } => write!(f, "({left} {} {right})", op.symbol()),
            Node::Negate(e) => write!(f, "-{e}"),
            Node::Not(e) => write!(f, "!{e}"),
            Node::IsNull(e) => write!(f, "{e}.is_null()"),
            Node::IsNotNull(e) => write!(f, "{e}.is_not_null()"),
            Node::Cast(e, t) => write!(f, "{e}.cast({t})"),
            Node::Text { op, expr, pattern } => {
                let name = match op {
                    TextOp::Contains => "contains",
                    TextOp::StartsWith => "starts_with",
                    TextOp::EndsWith => "ends_with",
                };
                write!(f, "{expr}.{name}({pattern:?})")
            }
            Node::FillNull(e, v) => write!(f, "{e}.fill_null({v})"),
        }
    }
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expr({self})")
    }
}

macro_rules! expr_from_literal {
    ($($t:ty),*) => {$(
        impl From<$t> for Expr {
            fn from(v: $t) -> Expr {
                lit(v)
            }
        }
    )*};
}
expr_from_literal!(bool, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, String, &str, Scalar);

macro_rules! expr_binary_ops {
    ($($trait:ident $method:ident $op:ident),*) => {$(
        impl<R: Into<Expr>> ops::$trait<R> for Expr {
            type Output = Expr;
            fn $method(self, rhs: R) -> Expr {
                self.binary(BinaryOp::$op, rhs)
            }
        }
    )*};
}
expr_binary_ops!(Add add Add, Sub sub Sub, Mul mul Mul, Div div Div, Rem rem Rem,
    BitAnd bitand And, BitOr bitor Or);

impl ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::new(Node::Negate(self))
    }
}

impl ops::Not for Expr {
    type Output = Expr;
    fn not(self) -> Expr {
        Expr::new(Node::Not(self))
    }
}
