//! Elementwise operations: arithmetic, comparisons, math, `where_`, `mapv`,
//! `map_blocks`. Each adds a node to a fused expression (see `blockwise`).

use std::marker::PhantomData;
use std::ops;
use std::sync::Arc;

use dagwood_runtime::{TaskBuilder, TaskError};
use ndarray::ArrayD;
use num_complex::Complex64;

use super::blockwise::expr::{Expr, Fill, Map, Zip, Zip3};
use super::{layer_name, Array, ArrayError, Chunks, Element, Float, Number, Real, Result};

/// One operand of an elementwise operation: an array or a scalar.
pub enum Operand<T: Element> {
    /// An array, broadcast against the others.
    Array(Array<T>),
    /// A single value.
    Scalar(T),
}

impl<T: Element> From<T> for Operand<T> {
    fn from(v: T) -> Self {
        Operand::Scalar(v)
    }
}

impl<T: Element> From<&Array<T>> for Operand<T> {
    fn from(a: &Array<T>) -> Self {
        Operand::Array(a.clone())
    }
}

impl<T: Element> From<Array<T>> for Operand<T> {
    fn from(a: Array<T>) -> Self {
        Operand::Array(a)
    }
}

/// NumPy's broadcasting rule over several shapes.
fn broadcast_shapes(op: &'static str, shapes: &[&[usize]]) -> Result<Vec<usize>> {
    let ndim = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out = vec![1usize; ndim];
    for s in shapes {
        let lead = ndim - s.len();
        for (k, &n) in s.iter().enumerate() {
            let o = &mut out[k + lead];
            if *o == 1 {
                *o = n;
            } else if n != 1 && n != *o {
                return Err(ArrayError::ShapeMismatch {
                    op,
                    left: shapes[0].to_vec(),
                    right: s.to_vec(),
                });
            }
        }
    }
    Ok(out)
}

/// Shape-and-chunks view of an operand, whatever its element type.
pub(crate) trait Aligned {
    fn shape_of(&self) -> Option<&[usize]>;
    fn chunks_of(&self) -> Option<&Chunks>;
    fn check_of(&self) -> Result<()>;
}

impl<T: Element> Aligned for Operand<T> {
    fn shape_of(&self) -> Option<&[usize]> {
        match self {
            Operand::Array(a) => Some(a.shape()),
            Operand::Scalar(_) => None,
        }
    }
    fn chunks_of(&self) -> Option<&Chunks> {
        match self {
            Operand::Array(a) => Some(a.chunks()),
            Operand::Scalar(_) => None,
        }
    }
    fn check_of(&self) -> Result<()> {
        match self {
            Operand::Array(a) => a.check(),
            Operand::Scalar(_) => Ok(()),
        }
    }
}

/// The output shape and chunks of an elementwise operation over `ops`: the
/// broadcast shape, chunked like the first operand that spans each axis.
pub(crate) fn plan_output(op: &'static str, ops: &[&dyn Aligned]) -> Result<(Vec<usize>, Chunks)> {
    for o in ops {
        o.check_of()?;
    }
    let shapes: Vec<&[usize]> = ops.iter().filter_map(|o| o.shape_of()).collect();
    let shape = broadcast_shapes(op, &shapes)?;
    let ndim = shape.len();
    let axes = (0..ndim)
        .map(|k| {
            ops.iter()
                .filter_map(|o| Some((o.shape_of()?, o.chunks_of()?)))
                .find_map(|(s, c)| {
                    let lead = ndim - s.len();
                    (k >= lead && s[k - lead] == shape[k]).then(|| c.sizes(k - lead).to_vec())
                })
                .unwrap_or_else(|| vec![shape[k]])
        })
        .collect();
    Ok((shape, Chunks::from_axes(axes)))
}

impl<T: Element> Operand<T> {
    /// This operand as an expression over the output's shape and chunks.
    fn expr(&self, shape: &[usize], chunks: &Chunks) -> Result<Arc<Expr>> {
        match self {
            Operand::Scalar(v) => Ok(Expr::new(Fill(*v), Vec::new())),
            Operand::Array(a) => a.aligned(shape, chunks),
        }
    }
}

impl<T: Element> Array<T> {
    /// This array as an expression over an output of `shape` and `chunks`
    /// (broadcasting and rechunking it when it does not line up).
    pub(crate) fn aligned(&self, shape: &[usize], chunks: &Chunks) -> Result<Arc<Expr>> {
        if self.shape() == shape {
            return if self.chunks() == chunks {
                self.expr(shape.len())
            } else {
                self.rechunk_to(chunks)?.expr(shape.len())
            };
        }
        let lead = shape.len() - self.ndim();
        let target = Chunks::from_axes(
            (0..self.ndim())
                .map(|k| {
                    if self.shape[k] == 1 {
                        vec![1]
                    } else {
                        chunks.sizes(k + lead).to_vec()
                    }
                })
                .collect(),
        );
        // Broadcast reads go through a leaf over materialised blocks: a
        // pending expression inlined here would see the output's indices
        // (wrong for `from_fn` generators) and its tiles would not line up.
        self.rechunk_to(&target)?.leaf_expr(shape.len())
    }

    /// `f` applied to every element (ndarray's `mapv`), fused with its neighbours.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let x = Array::<i64>::arange(0, 10, 1, 4).unwrap();
    /// let y = x.mapv(|v| v * v);
    /// assert_eq!(y.compute().unwrap().as_slice().unwrap()[9], 81);
    /// ```
    pub fn mapv<U: Element>(&self, f: impl Fn(T) -> U + Send + Sync + 'static) -> Array<U> {
        self.map_labeled("mapv", f)
    }

    pub(crate) fn map_labeled<U: Element>(
        &self,
        label: &'static str,
        f: impl Fn(T) -> U + Send + Sync + 'static,
    ) -> Array<U> {
        match self.expr(self.ndim()) {
            Ok(e) => Array::from_expr(
                self.shape(),
                self.chunks().clone(),
                Expr::new(
                    Map {
                        f,
                        label,
                        _t: PhantomData,
                    },
                    vec![e],
                ),
            ),
            Err(e) => Array::failed(self.shape(), self.chunks().clone(), e),
        }
    }

    /// `f` applied to pairs of elements of two broadcast-compatible arrays.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let x = Array::<f64>::linspace(0.0, 1.0, 5, 2).unwrap();
    /// let y = x.zip_with(&x, |a, b| a.max(1.0 - b)).unwrap();
    /// assert_eq!(y.compute().unwrap().as_slice().unwrap(), &[1.0, 0.75, 0.5, 0.75, 1.0]);
    /// ```
    pub fn zip_with<B: Element, U: Element>(
        &self,
        other: &Array<B>,
        f: impl Fn(T, B) -> U + Send + Sync + 'static,
    ) -> Result<Array<U>> {
        self.zip_labeled(other, "zip", f)
    }

    pub(crate) fn zip_labeled<B: Element, U: Element>(
        &self,
        other: &Array<B>,
        label: &'static str,
        f: impl Fn(T, B) -> U + Send + Sync + 'static,
    ) -> Result<Array<U>> {
        let (a, b) = (Operand::from(self), Operand::from(other));
        let (shape, chunks) = plan_output(label, &[&a, &b])?;
        let (ea, eb) = (a.expr(&shape, &chunks)?, b.expr(&shape, &chunks)?);
        Ok(Array::from_expr(
            &shape,
            chunks,
            Expr::new(
                Zip {
                    f,
                    label,
                    _t: PhantomData,
                },
                vec![ea, eb],
            ),
        ))
    }

    /// Like `zip_labeled`, but keeps a shape error inside the result (for operators).
    pub(crate) fn zip_deferred<B: Element, U: Element>(
        &self,
        other: &Array<B>,
        label: &'static str,
        f: impl Fn(T, B) -> U + Send + Sync + 'static,
    ) -> Array<U> {
        self.zip_labeled(other, label, f)
            .unwrap_or_else(|e| Array::failed(self.shape(), self.chunks().clone(), e))
    }

    /// Applies `f` to every block (Dask's `map_blocks`): `f` gets the block
    /// and its block index and must return a block of the same shape.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let x = Array::<f64>::ones(&[4, 4], &[2, 2]).unwrap();
    /// let y = x.map_blocks(|b, idx| b.mapv(|v| v + idx[0] as f64)).unwrap();
    /// assert_eq!(y.sum().unwrap().compute().unwrap(), 16.0 + 8.0);
    /// ```
    pub fn map_blocks<U: Element>(
        &self,
        f: impl Fn(&ArrayD<T>, &[usize]) -> ArrayD<U> + Send + Sync + 'static,
    ) -> Result<Array<U>> {
        let f = Arc::new(f);
        let name = layer_name("map_blocks");
        let blocks = self.blocks()?;
        let out = self
            .chunks()
            .indices()
            .map(|idx| {
                let mut b = TaskBuilder::new("map_blocks").key(super::block_key(&name, &idx));
                let input = b.input(&blocks[self.chunks().ravel(&idx)]);
                let (f, want) = (f.clone(), self.chunks().block_shape(&idx));
                b.build(move |args| {
                    let out = f(input.get(args)?, &idx);
                    if out.shape() != want.as_slice() {
                        return Err(TaskError::failed(format!(
                            "map_blocks returned a block of shape {:?}, expected {:?}",
                            out.shape(),
                            want
                        )));
                    }
                    Ok(out)
                })
            })
            .collect();
        Array::from_blocks(self.shape(), self.chunks().clone(), out)
    }

    fn compare(
        &self,
        other: Operand<T>,
        label: &'static str,
        // Generic, not a `fn` pointer: the comparison must inline into the
        // tile loop (a pointer call per element cost 40 % of the fractal).
        f: impl Fn(&T, &T) -> bool + Copy + Send + Sync + 'static,
    ) -> Array<bool> {
        match other {
            Operand::Scalar(v) => self.map_labeled(label, move |x| f(&x, &v)),
            Operand::Array(b) => self.zip_deferred(&b, label, move |x, y| f(&x, &y)),
        }
    }

    /// Elementwise `==` with an array or a scalar (NumPy's `equal`).
    pub fn equal(&self, other: impl Into<Operand<T>>) -> Array<bool> {
        self.compare(other.into(), "equal", T::eq)
    }

    /// Elementwise `!=` (NumPy's `not_equal`).
    pub fn not_equal(&self, other: impl Into<Operand<T>>) -> Array<bool> {
        self.compare(other.into(), "not_equal", T::ne)
    }
}

impl<T: Real> Array<T> {
    /// Elementwise `<` with an array or a scalar (NumPy's `less`).
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let x = Array::<i32>::arange(0, 6, 1, 4).unwrap();
    /// assert_eq!(x.less(3).count_nonzero().unwrap().compute().unwrap(), 3);
    /// ```
    pub fn less(&self, other: impl Into<Operand<T>>) -> Array<bool> {
        self.compare(other.into(), "less", T::lt)
    }
    /// Elementwise `<=`.
    pub fn less_equal(&self, other: impl Into<Operand<T>>) -> Array<bool> {
        self.compare(other.into(), "less_equal", T::le)
    }
    /// Elementwise `>`.
    pub fn greater(&self, other: impl Into<Operand<T>>) -> Array<bool> {
        self.compare(other.into(), "greater", T::gt)
    }
    /// Elementwise `>=`.
    pub fn greater_equal(&self, other: impl Into<Operand<T>>) -> Array<bool> {
        self.compare(other.into(), "greater_equal", T::ge)
    }
    /// Absolute value.
    pub fn abs(&self) -> Array<T> {
        self.map_labeled("abs", T::abs)
    }
    /// Elementwise maximum with an array or scalar (NumPy's `maximum`).
    pub fn maximum(&self, other: impl Into<Operand<T>>) -> Array<T> {
        let pick = |x: T, y: T| if y > x { y } else { x };
        match other.into() {
            Operand::Scalar(v) => self.map_labeled("maximum", move |x| pick(x, v)),
            Operand::Array(b) => self.zip_deferred(&b, "maximum", pick),
        }
    }
    /// Elementwise minimum with an array or scalar (NumPy's `minimum`).
    pub fn minimum(&self, other: impl Into<Operand<T>>) -> Array<T> {
        let pick = |x: T, y: T| if y < x { y } else { x };
        match other.into() {
            Operand::Scalar(v) => self.map_labeled("minimum", move |x| pick(x, v)),
            Operand::Array(b) => self.zip_deferred(&b, "minimum", pick),
        }
    }
}

macro_rules! float_unary {
    ($($name:ident => $doc:literal),*) => {
        impl<T: Float> Array<T> {
            $(
                #[doc = $doc]
                pub fn $name(&self) -> Array<T> {
                    self.map_labeled(stringify!($name), <T as num_traits::Float>::$name)
                }
            )*
            /// Integer power.
            pub fn powi(&self, n: i32) -> Array<T> {
                self.map_labeled("powi", move |x| <T as num_traits::Float>::powi(x, n))
            }
            /// Real power.
            pub fn powf(&self, p: T) -> Array<T> {
                self.map_labeled("powf", move |x| <T as num_traits::Float>::powf(x, p))
            }
            /// True where the value is NaN.
            pub fn is_nan(&self) -> Array<bool> {
                self.map_labeled("is_nan", <T as num_traits::Float>::is_nan)
            }
        }
    };
}

float_unary!(
    sqrt => "Square root.",
    exp => "e to the power of each element.",
    ln => "Natural logarithm.",
    log10 => "Base-10 logarithm.",
    sin => "Sine.",
    cos => "Cosine.",
    tan => "Tangent.",
    floor => "Largest integer not above.",
    ceil => "Smallest integer not below."
);

macro_rules! complex_unary {
    ($($name:ident => $doc:literal),*) => {
        impl Array<Complex64> {
            $(
                #[doc = $doc]
                pub fn $name(&self) -> Array<Complex64> {
                    self.map_labeled(stringify!($name), |z: Complex64| z.$name())
                }
            )*
            /// Magnitude `|z|` (NumPy's `abs` of a complex array).
            pub fn norm(&self) -> Array<f64> {
                self.map_labeled("norm", |z: Complex64| z.norm())
            }
            /// Squared magnitude `|z|²`: cheaper than `norm` (no square root).
            pub fn norm_sqr(&self) -> Array<f64> {
                self.map_labeled("norm_sqr", |z: Complex64| z.norm_sqr())
            }
            /// Real parts.
            pub fn re(&self) -> Array<f64> {
                self.map_labeled("re", |z: Complex64| z.re)
            }
            /// Imaginary parts.
            pub fn im(&self) -> Array<f64> {
                self.map_labeled("im", |z: Complex64| z.im)
            }
            /// Integer power.
            pub fn powi(&self, n: i32) -> Array<Complex64> {
                self.map_labeled("powi", move |z: Complex64| z.powi(n))
            }
            /// Real power.
            pub fn powf(&self, p: f64) -> Array<Complex64> {
                self.map_labeled("powf", move |z: Complex64| z.powf(p))
            }
        }
    };
}

complex_unary!(
    sqrt => "Principal square root.",
    exp => "Complex exponential.",
    ln => "Principal natural logarithm.",
    sin => "Complex sine.",
    cos => "Complex cosine.",
    conj => "Complex conjugate."
);

impl Array<f64> {
    /// `re + i·0` for each element, to mix real arrays into complex arithmetic.
    pub fn to_complex(&self) -> Array<Complex64> {
        self.map_labeled("to_complex", |x| Complex64::new(x, 0.0))
    }
}

/// `a` where `cond` holds, else `b` (NumPy's `where`), broadcasting all three.
///
/// ```
/// use dagwood_collections::array::{where_, Array};
/// let x = Array::<f64>::arange(-2.0, 3.0, 1.0, 2).unwrap();
/// let relu = where_(&x.greater(0.0), &x, 0.0).unwrap();
/// assert_eq!(relu.compute().unwrap().as_slice().unwrap(), &[0.0, 0.0, 0.0, 1.0, 2.0]);
/// ```
pub fn where_<T: Element>(
    cond: &Array<bool>,
    a: impl Into<Operand<T>>,
    b: impl Into<Operand<T>>,
) -> Result<Array<T>> {
    let (c, a, b) = (Operand::from(cond), a.into(), b.into());
    let (shape, chunks) = plan_output("where", &[&c, &a, &b])?;
    let cond = c.expr(&shape, &chunks)?;
    let label = "where";
    // A scalar branch is captured by the closure instead of being filled
    // into a tile each time: one pass less per scalar.
    let expr = match (a, b) {
        (Operand::Scalar(x), Operand::Scalar(y)) => {
            let f = move |c: bool| if c { x } else { y };
            Expr::new(
                Map {
                    f,
                    label,
                    _t: PhantomData,
                },
                vec![cond],
            )
        }
        (Operand::Scalar(x), b @ Operand::Array(_)) => {
            let f = move |c: bool, y: T| if c { x } else { y };
            Expr::new(
                Zip {
                    f,
                    label,
                    _t: PhantomData,
                },
                vec![cond, b.expr(&shape, &chunks)?],
            )
        }
        (a @ Operand::Array(_), Operand::Scalar(y)) => {
            let f = move |c: bool, x: T| if c { x } else { y };
            Expr::new(
                Zip {
                    f,
                    label,
                    _t: PhantomData,
                },
                vec![cond, a.expr(&shape, &chunks)?],
            )
        }
        (a, b) => {
            let f = |c: bool, x: T, y: T| if c { x } else { y };
            let exprs = vec![cond, a.expr(&shape, &chunks)?, b.expr(&shape, &chunks)?];
            Expr::new(
                Zip3 {
                    f,
                    label,
                    _t: PhantomData,
                },
                exprs,
            )
        }
    };
    Ok(Array::from_expr(&shape, chunks, expr))
}

// ---- operators -------------------------------------------------------------
// Operators cannot return `Result`: a shape mismatch is kept in the result
// and returned by its first fallible method (`compute`, `sum`, `check`, ...).

macro_rules! arith {
    ($trait:ident, $method:ident, $label:literal, $op:tt) => {
        impl<T: Number> ops::$trait<&Array<T>> for &Array<T> {
            type Output = Array<T>;
            fn $method(self, rhs: &Array<T>) -> Array<T> {
                self.zip_deferred(rhs, $label, |x, y| x $op y)
            }
        }
        impl<T: Number> ops::$trait<Array<T>> for &Array<T> {
            type Output = Array<T>;
            fn $method(self, rhs: Array<T>) -> Array<T> {
                self.zip_deferred(&rhs, $label, |x, y| x $op y)
            }
        }
        impl<T: Number> ops::$trait<&Array<T>> for Array<T> {
            type Output = Array<T>;
            fn $method(self, rhs: &Array<T>) -> Array<T> {
                self.zip_deferred(rhs, $label, |x, y| x $op y)
            }
        }
        impl<T: Number> ops::$trait<Array<T>> for Array<T> {
            type Output = Array<T>;
            fn $method(self, rhs: Array<T>) -> Array<T> {
                self.zip_deferred(&rhs, $label, |x, y| x $op y)
            }
        }
        impl<T: Number> ops::$trait<T> for &Array<T> {
            type Output = Array<T>;
            fn $method(self, rhs: T) -> Array<T> {
                self.map_labeled($label, move |x| x $op rhs)
            }
        }
        impl<T: Number> ops::$trait<T> for Array<T> {
            type Output = Array<T>;
            fn $method(self, rhs: T) -> Array<T> {
                self.map_labeled($label, move |x| x $op rhs)
            }
        }
    };
}

arith!(Add, add, "add", +);
arith!(Sub, sub, "sub", -);
arith!(Mul, mul, "mul", *);
arith!(Div, div, "div", /);

/// `scalar op array` for each concrete element type (a generic impl for a
/// foreign left-hand side is not allowed).
macro_rules! scalar_lhs {
    ($($t:ty),*) => {$(
        impl ops::Add<&Array<$t>> for $t {
            type Output = Array<$t>;
            fn add(self, rhs: &Array<$t>) -> Array<$t> { rhs.map_labeled("add", move |x| self + x) }
        }
        impl ops::Add<Array<$t>> for $t {
            type Output = Array<$t>;
            fn add(self, rhs: Array<$t>) -> Array<$t> { rhs.map_labeled("add", move |x| self + x) }
        }
        impl ops::Sub<&Array<$t>> for $t {
            type Output = Array<$t>;
            fn sub(self, rhs: &Array<$t>) -> Array<$t> { rhs.map_labeled("sub", move |x| self - x) }
        }
        impl ops::Sub<Array<$t>> for $t {
            type Output = Array<$t>;
            fn sub(self, rhs: Array<$t>) -> Array<$t> { rhs.map_labeled("sub", move |x| self - x) }
        }
        impl ops::Mul<&Array<$t>> for $t {
            type Output = Array<$t>;
            fn mul(self, rhs: &Array<$t>) -> Array<$t> { rhs.map_labeled("mul", move |x| self * x) }
        }
        impl ops::Mul<Array<$t>> for $t {
            type Output = Array<$t>;
            fn mul(self, rhs: Array<$t>) -> Array<$t> { rhs.map_labeled("mul", move |x| self * x) }
        }
        impl ops::Div<&Array<$t>> for $t {
            type Output = Array<$t>;
            fn div(self, rhs: &Array<$t>) -> Array<$t> { rhs.map_labeled("div", move |x| self / x) }
        }
        impl ops::Div<Array<$t>> for $t {
            type Output = Array<$t>;
            fn div(self, rhs: Array<$t>) -> Array<$t> { rhs.map_labeled("div", move |x| self / x) }
        }
    )*};
}

scalar_lhs!(f32, f64, i32, i64, Complex64);

impl<T: Number + ops::Neg<Output = T>> ops::Neg for &Array<T> {
    type Output = Array<T>;
    fn neg(self) -> Array<T> {
        self.map_labeled("neg", |x: T| -x)
    }
}

impl<T: Number + ops::Neg<Output = T>> ops::Neg for Array<T> {
    type Output = Array<T>;
    fn neg(self) -> Array<T> {
        self.map_labeled("neg", |x: T| -x)
    }
}

macro_rules! logic {
    ($trait:ident, $method:ident, $label:literal, $op:tt) => {
        impl ops::$trait<&Array<bool>> for &Array<bool> {
            type Output = Array<bool>;
            fn $method(self, rhs: &Array<bool>) -> Array<bool> {
                self.zip_deferred(rhs, $label, |x, y| x $op y)
            }
        }
        impl ops::$trait<Array<bool>> for Array<bool> {
            type Output = Array<bool>;
            fn $method(self, rhs: Array<bool>) -> Array<bool> {
                self.zip_deferred(&rhs, $label, |x, y| x $op y)
            }
        }
        impl ops::$trait<&Array<bool>> for Array<bool> {
            type Output = Array<bool>;
            fn $method(self, rhs: &Array<bool>) -> Array<bool> {
                self.zip_deferred(rhs, $label, |x, y| x $op y)
            }
        }
        impl ops::$trait<Array<bool>> for &Array<bool> {
            type Output = Array<bool>;
            fn $method(self, rhs: Array<bool>) -> Array<bool> {
                self.zip_deferred(&rhs, $label, |x, y| x $op y)
            }
        }
    };
}

logic!(BitAnd, bitand, "and", &);
logic!(BitOr, bitor, "or", |);
logic!(BitXor, bitxor, "xor", ^);

impl ops::Not for &Array<bool> {
    type Output = Array<bool>;
    fn not(self) -> Array<bool> {
        self.map_labeled("not", |x: bool| !x)
    }
}

impl ops::Not for Array<bool> {
    type Output = Array<bool>;
    fn not(self) -> Array<bool> {
        self.map_labeled("not", |x: bool| !x)
    }
}

/// A complex array with a real scalar, as NumPy allows (`z * 0.5`, `z + 1.0`).
macro_rules! complex_real {
    ($trait:ident, $method:ident, $label:literal, $op:tt) => {
        impl ops::$trait<f64> for &Array<Complex64> {
            type Output = Array<Complex64>;
            fn $method(self, rhs: f64) -> Array<Complex64> {
                self.map_labeled($label, move |z: Complex64| z $op rhs)
            }
        }
        impl ops::$trait<f64> for Array<Complex64> {
            type Output = Array<Complex64>;
            fn $method(self, rhs: f64) -> Array<Complex64> {
                self.map_labeled($label, move |z: Complex64| z $op rhs)
            }
        }
    };
}

complex_real!(Add, add, "add", +);
complex_real!(Sub, sub, "sub", -);
complex_real!(Mul, mul, "mul", *);
complex_real!(Div, div, "div", /);
