//! The element types an [`Array`](super::Array) can hold, and what each can do.

use std::fmt::Debug;

use num_complex::Complex64;

/// A type an array can hold: `f32`, `f64`, `i32`, `i64`, `bool` or [`Complex64`].
///
/// ```
/// use dagwood_collections::array::Element;
/// assert_eq!(<f64 as Element>::DTYPE, "f64");
/// assert!(!false.is_nonzero() && 2.5.is_nonzero());
/// ```
///
/// `Default` gives each type's zero (`false` for `bool`).
pub trait Element: Copy + Send + Sync + Debug + PartialEq + Default + 'static {
    /// The NumPy-style name of the type (`"f64"`, `"complex128"`, ...).
    const DTYPE: &'static str;
    /// True unless the value is zero (`count_nonzero`, and truth for `any`/`all`).
    fn is_nonzero(self) -> bool {
        self != Self::default()
    }
}

/// Elements with arithmetic: `+ - * /`, `sum`, `mean`, `matmul`.
pub trait Number:
    Element
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
    + num_traits::Zero
    + num_traits::One
{
    /// Converts a count or index (for `mean`, `arange`, ...).
    fn from_f64(v: f64) -> Self;
    /// The value as `f64` (complex: the real part), for `var`/`std`/`mean` of integers.
    fn to_f64(self) -> f64;
}

/// Real numbers with an order: comparisons, `min`/`max`, `argmin`/`argmax`, `abs`.
pub trait Real: Number + PartialOrd {
    /// Absolute value.
    fn abs(self) -> Self;
}

/// Floating-point reals: `sqrt`, `exp`, `ln`, trigonometry, powers.
pub trait Float: Real + num_traits::Float {}

macro_rules! element {
    ($($t:ty => $name:literal),*) => { $(impl Element for $t { const DTYPE: &'static str = $name; })* };
}
element!(f32 => "f32", f64 => "f64", i32 => "i32", i64 => "i64", bool => "bool", Complex64 => "complex128");

macro_rules! real {
    ($($t:ty),*) => {$(
        impl Number for $t {
            fn from_f64(v: f64) -> Self { v as $t }
            fn to_f64(self) -> f64 { self as f64 }
        }
        impl Real for $t {
            fn abs(self) -> Self { <$t>::abs(self) }
        }
    )*};
}
real!(f32, f64, i32, i64);

impl Float for f32 {}
impl Float for f64 {}

impl Number for Complex64 {
    fn from_f64(v: f64) -> Self {
        Complex64::new(v, 0.0)
    }
    fn to_f64(self) -> f64 {
        self.re
    }
}
