//! `Scalar`: one value of a column — the result of a whole-column
//! reduction and the literal in an expression.

use std::fmt;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type,
    UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{
    new_null_array, Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray,
    UInt64Array,
};
use arrow_schema::DataType;

use super::error::{DataFrameError, Result};

/// One value of a column. Integers widen to `Int64`/`UInt64` and floats to
/// `Float64`, so reductions over any integer or float column have one type
/// to return.
///
/// ```
/// use dagwood_collections::dataframe::Scalar;
/// let s: Scalar = 2.5.into();
/// assert_eq!(s.as_f64(), Some(2.5));
/// assert_eq!(Scalar::from("a").to_string(), "a");
/// assert!(Scalar::Null.is_null());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Scalar {
    /// No value (Arrow's null).
    Null,
    /// A boolean.
    Boolean(bool),
    /// A signed integer.
    Int64(i64),
    /// An unsigned integer.
    UInt64(u64),
    /// A float.
    Float64(f64),
    /// A string.
    Utf8(String),
}

impl Scalar {
    /// Whether this is [`Scalar::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Scalar::Null)
    }

    /// The value as `f64`, for any number (`None` for null, strings and
    /// booleans).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Scalar::Int64(v) => Some(v as f64),
            Scalar::UInt64(v) => Some(v as f64),
            Scalar::Float64(v) => Some(v),
            _ => None,
        }
    }

    /// The value as `i64`, for integers that fit (`None` otherwise).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Scalar::Int64(v) => Some(v),
            Scalar::UInt64(v) => i64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as `&str`, for strings.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Utf8(s) => Some(s),
            _ => None,
        }
    }

    /// The value as `bool`, for booleans.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Scalar::Boolean(b) => Some(b),
            _ => None,
        }
    }

    /// The Arrow type of the value (`Null` for null).
    pub fn data_type(&self) -> DataType {
        match self {
            Scalar::Null => DataType::Null,
            Scalar::Boolean(_) => DataType::Boolean,
            Scalar::Int64(_) => DataType::Int64,
            Scalar::UInt64(_) => DataType::UInt64,
            Scalar::Float64(_) => DataType::Float64,
            Scalar::Utf8(_) => DataType::Utf8,
        }
    }

    /// An array of `len` copies of the value.
    pub fn to_array(&self, len: usize) -> ArrayRef {
        match self {
            Scalar::Null => new_null_array(&DataType::Null, len),
            Scalar::Boolean(v) => Arc::new(BooleanArray::from(vec![*v; len])),
            Scalar::Int64(v) => Arc::new(Int64Array::from_value(*v, len)),
            Scalar::UInt64(v) => Arc::new(UInt64Array::from_value(*v, len)),
            Scalar::Float64(v) => Arc::new(Float64Array::from_value(*v, len)),
            Scalar::Utf8(v) => Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
                v.as_str(),
                len,
            ))),
        }
    }

    /// Element `i` of `array`, widened as the type's docs say. Types other
    /// than booleans, integers, floats and strings are an error naming the
    /// type.
    pub fn from_array(array: &dyn Array, i: usize) -> Result<Scalar> {
        if i >= array.len() {
            return Err(DataFrameError::Invalid(format!(
                "row {i} is out of bounds for a column of length {}",
                array.len()
            )));
        }
        if array.is_null(i) {
            return Ok(Scalar::Null);
        }
        Ok(match array.data_type() {
            DataType::Null => Scalar::Null,
            DataType::Boolean => Scalar::Boolean(array.as_boolean().value(i)),
            DataType::Int8 => Scalar::Int64(array.as_primitive::<Int8Type>().value(i).into()),
            DataType::Int16 => Scalar::Int64(array.as_primitive::<Int16Type>().value(i).into()),
            DataType::Int32 => Scalar::Int64(array.as_primitive::<Int32Type>().value(i).into()),
            DataType::Int64 => Scalar::Int64(array.as_primitive::<Int64Type>().value(i)),
            DataType::UInt8 => Scalar::UInt64(array.as_primitive::<UInt8Type>().value(i).into()),
            DataType::UInt16 => Scalar::UInt64(array.as_primitive::<UInt16Type>().value(i).into()),
            DataType::UInt32 => Scalar::UInt64(array.as_primitive::<UInt32Type>().value(i).into()),
            DataType::UInt64 => Scalar::UInt64(array.as_primitive::<UInt64Type>().value(i)),
            DataType::Float16 => {
                Scalar::Float64(array.as_primitive::<Float16Type>().value(i).to_f64())
            }
            DataType::Float32 => {
                Scalar::Float64(array.as_primitive::<Float32Type>().value(i).into())
            }
            DataType::Float64 => Scalar::Float64(array.as_primitive::<Float64Type>().value(i)),
            DataType::Utf8 => Scalar::Utf8(array.as_string::<i32>().value(i).to_owned()),
            DataType::LargeUtf8 => Scalar::Utf8(array.as_string::<i64>().value(i).to_owned()),
            DataType::Utf8View => Scalar::Utf8(array.as_string_view().value(i).to_owned()),
            other => {
                return Err(DataFrameError::Invalid(format!(
                    "a value of type {other} cannot be taken as a Scalar"
                )))
            }
        })
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Null => f.write_str("null"),
            Scalar::Boolean(v) => write!(f, "{v}"),
            Scalar::Int64(v) => write!(f, "{v}"),
            Scalar::UInt64(v) => write!(f, "{v}"),
            Scalar::Float64(v) => write!(f, "{v}"),
            Scalar::Utf8(v) => f.write_str(v),
        }
    }
}

macro_rules! scalar_from {
    ($($t:ty => $variant:ident as $as:ty),* $(,)?) => {$(
        impl From<$t> for Scalar {
            fn from(v: $t) -> Scalar {
                Scalar::$variant(<$as>::from(v))
            }
        }
    )*};
}

scalar_from!(
    bool => Boolean as bool,
    i8 => Int64 as i64, i16 => Int64 as i64, i32 => Int64 as i64, i64 => Int64 as i64,
    u8 => UInt64 as u64, u16 => UInt64 as u64, u32 => UInt64 as u64, u64 => UInt64 as u64,
    f32 => Float64 as f64, f64 => Float64 as f64,
    String => Utf8 as String, &str => Utf8 as String,
);

impl<T: Into<Scalar>> From<Option<T>> for Scalar {
    fn from(v: Option<T>) -> Scalar {
        v.map_or(Scalar::Null, Into::into)
    }
}
