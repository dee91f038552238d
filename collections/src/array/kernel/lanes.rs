//! `Lanes<T>`: [`LANES`] elements handled together by a compiled kernel.
//!
//! A kernel passed to [`vectorize`](super::vectorize) is ordinary Rust code
//! over `Lanes` values, written with the same operators and NumPy names as
//! [`Array`](crate::array::Array) code (`z * z + c`, `norm_sqr()`,
//! `greater(4.0)`, `where_(..)`). Every operation is a fixed-length loop over
//! a few elements that the compiler unrolls; inlined into the kernel, the
//! whole per-element program stays in registers: no tile, no buffer, no call
//! per operation. Complex lanes keep real and imaginary parts apart
//! (structure of arrays), so their arithmetic vectorises like the real one.

use std::ops;

use num_complex::Complex64;

use crate::array::Element;

/// Elements per [`Lanes`] value. A kernel's loop-carried work (`z = z*z + c`
/// twenty times) is a chain of dependent operations; 16 lanes give the CPU
/// enough independent chains to hide their latency while the values still
/// mostly fit its vector registers. Measured on the fractal (CPU time ÷ the
/// hand-written loop's): 4 lanes 1.66x, 8 lanes 1.27x, 16 lanes 1.0x,
/// 32 lanes 2.4x (register spills).
pub const LANES: usize = 16;

/// An element type that can live in [`Lanes`]: how its lanes are stored.
pub trait LaneElement: Element {
    /// The storage of `LANES` values (an array; two for complex numbers).
    type Repr: Copy + Send + Sync + 'static;
    /// Lanes from a function of the lane number.
    fn build(f: impl FnMut(usize) -> Self) -> Self::Repr;
    /// Lane `k`.
    fn lane(r: &Self::Repr, k: usize) -> Self;
    /// `a` where `mask`, else `b`, lane by lane (complex lanes choose their
    /// parts separately, which keeps the choice a blend).
    fn select(mask: &[bool; LANES], a: &Self::Repr, b: &Self::Repr) -> Self::Repr;
}

macro_rules! plain_lanes {
    ($($t:ty),*) => {$(
        impl LaneElement for $t {
            type Repr = [$t; LANES];
            #[inline(always)]
            fn build(f: impl FnMut(usize) -> Self) -> Self::Repr {
                std::array::from_fn(f)
            }
            #[inline(always)]
            fn lane(r: &Self::Repr, k: usize) -> Self {
                r[k]
            }
            #[inline(always)]
            fn select(mask: &[bool; LANES], a: &Self::Repr, b: &Self::Repr) -> Self::Repr {
                std::array::from_fn(|k| if mask[k] { a[k] } else { b[k] })
            }
        }
    )*};
}
plain_lanes!(f32, f64, i32, i64, bool);

/// Real and imaginary parts apart.
#[derive(Clone, Copy)]
pub struct ComplexLanes {
    re: [f64; LANES],
    im: [f64; LANES],
}

impl LaneElement for Complex64 {
    type Repr = ComplexLanes;
    #[inline(always)]
    fn build(mut f: impl FnMut(usize) -> Self) -> ComplexLanes {
        let v: [Complex64; LANES] = std::array::from_fn(&mut f);
        ComplexLanes {
            re: std::array::from_fn(|k| v[k].re),
            im: std::array::from_fn(|k| v[k].im),
        }
    }
    #[inline(always)]
    fn lane(r: &ComplexLanes, k: usize) -> Self {
        Complex64::new(r.re[k], r.im[k])
    }
    #[inline(always)]
    fn select(mask: &[bool; LANES], a: &ComplexLanes, b: &ComplexLanes) -> ComplexLanes {
        ComplexLanes {
            re: f64::select(mask, &a.re, &b.re),
            im: f64::select(mask, &a.im, &b.im),
        }
    }
}

/// [`LANES`] values of `T`, the unit a compiled kernel computes with.
///
/// ```
/// use dagwood_collections::array::kernel::{Lanes, LANES};
/// let x = Lanes::from_fn(|k| k as f64);
/// let y = (x * 2.0 + 1.0).sqrt();
/// assert_eq!(y.get(LANES - 1), ((2 * LANES - 1) as f64).sqrt());
/// assert!(y.greater(1.5).get(1));
/// ```
pub struct Lanes<T: LaneElement>(pub(crate) T::Repr);

impl<T: LaneElement> Clone for Lanes<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: LaneElement> Copy for Lanes<T> {}

impl<T: LaneElement> std::fmt::Debug for Lanes<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries((0..LANES).map(|k| self.get(k)))
            .finish()
    }
}

impl<T: LaneElement> From<T> for Lanes<T> {
    #[inline(always)]
    fn from(v: T) -> Self {
        Lanes::splat(v)
    }
}

impl<T: LaneElement> Lanes<T> {
    /// Every lane `v`.
    #[inline(always)]
    pub fn splat(v: T) -> Self {
        Lanes(T::build(|_| v))
    }
    /// Lane `k` is `f(k)`.
    #[inline(always)]
    pub fn from_fn(f: impl FnMut(usize) -> T) -> Self {
        Lanes(T::build(f))
    }
    /// The value of lane `k` (`k < LANES`).
    #[inline(always)]
    pub fn get(&self, k: usize) -> T {
        T::lane(&self.0, k)
    }
    /// `f` applied to every lane: the way to use any scalar function (a
    /// cast, a lookup, a special function) inside a kernel.
    ///
    /// ```
    /// use dagwood_collections::array::kernel::Lanes;
    /// let n = Lanes::splat(3i32).map(f64::from);
    /// assert_eq!(n.get(0), 3.0);
    /// ```
    #[inline(always)]
    pub fn map<U: LaneElement>(self, f: impl Fn(T) -> U) -> Lanes<U> {
        Lanes::from_fn(|k| f(self.get(k)))
    }
    /// `f` applied to pairs of lanes.
    #[inline(always)]
    pub fn zip_map<B: LaneElement, U: LaneElement>(
        self,
        other: impl Into<Lanes<B>>,
        f: impl Fn(T, B) -> U,
    ) -> Lanes<U> {
        let other = other.into();
        Lanes::from_fn(|k| f(self.get(k), other.get(k)))
    }
    /// Elementwise `==` (NumPy's `equal`).
    #[inline(always)]
    pub fn equal(self, other: impl Into<Lanes<T>>) -> Lanes<bool> {
        self.zip_map(other, |a, b| a == b)
    }
    /// Elementwise `!=`.
    #[inline(always)]
    pub fn not_equal(self, other: impl Into<Lanes<T>>) -> Lanes<bool> {
        self.zip_map(other, |a, b| a != b)
    }
    /// Lanes from `LANES` consecutive values.
    #[inline(always)]
    pub(crate) fn load(src: &[T; LANES]) -> Self {
        Lanes::from_fn(|k| src[k])
    }
    /// Writes the lanes to `LANES` consecutive values.
    #[inline(always)]
    pub(crate) fn store(self, dst: &mut [T; LANES]) {
        for (k, d) in dst.iter_mut().enumerate() {
            *d = self.get(k);
        }
    }
    /// Writes the first `dst.len() <= LANES` lanes.
    #[inline]
    pub(crate) fn store_partial(self, dst: &mut [T]) {
        for (k, d) in dst.iter_mut().enumerate().take(LANES) {
            *d = self.get(k);
        }
    }
    /// Lanes from the first `src.len() < LANES` values, the rest repeating the
    /// last one (a value the kernel is known to accept; zeros could divide by
    /// zero in integer code).
    #[inline]
    pub(crate) fn load_partial(src: &[T]) -> Self {
        let last = src.len().saturating_sub(1);
        Lanes::from_fn(|k| src.get(k).copied().unwrap_or_else(|| src[last]))
    }
}

/// `a` where `mask` holds, else `b` (NumPy's `where`), lane by lane, with no
/// branch: both sides are computed.
///
/// ```
/// use dagwood_collections::array::kernel::{where_, Lanes};
/// let x = Lanes::from_fn(|k| k as f64 - 1.0);
/// let relu = where_(x.greater(0.0), x, 0.0);
/// assert_eq!((relu.get(0), relu.get(2)), (0.0, 1.0));
/// ```
#[inline(always)]
pub fn where_<T: LaneElement>(
    mask: Lanes<bool>,
    a: impl Into<Lanes<T>>,
    b: impl Into<Lanes<T>>,
) -> Lanes<T> {
    Lanes(T::select(&mask.0, &a.into().0, &b.into().0))
}

// ---- real arithmetic --------------------------------------------------------

macro_rules! real_arith {
    ($($t:ty),*) => {$(
        real_arith!(@op $t, Add, add, +);
        real_arith!(@op $t, Sub, sub, -);
        real_arith!(@op $t, Mul, mul, *);
        real_arith!(@op $t, Div, div, /);
        real_arith!(@op $t, Rem, rem, %);
        impl ops::Neg for Lanes<$t> {
            type Output = Lanes<$t>;
            #[inline(always)]
            fn neg(self) -> Self {
                Lanes(std::array::from_fn(|k| -self.0[k]))
            }
        }
        impl Lanes<$t> {
            /// Elementwise `<` (NumPy's `less`).
            #[inline(always)]
            pub fn less(self, other: impl Into<Lanes<$t>>) -> Lanes<bool> {
                let o = other.into();
                Lanes(std::array::from_fn(|k| self.0[k] < o.0[k]))
            }
            /// Elementwise `<=`.
            #[inline(always)]
            pub fn less_equal(self, other: impl Into<Lanes<$t>>) -> Lanes<bool> {
                let o = other.into();
                Lanes(std::array::from_fn(|k| self.0[k] <= o.0[k]))
            }
            /// Elementwise `>`.
            #[inline(always)]
            pub fn greater(self, other: impl Into<Lanes<$t>>) -> Lanes<bool> {
                let o = other.into();
                Lanes(std::array::from_fn(|k| self.0[k] > o.0[k]))
            }
            /// Elementwise `>=`.
            #[inline(always)]
            pub fn greater_equal(self, other: impl Into<Lanes<$t>>) -> Lanes<bool> {
                let o = other.into();
                Lanes(std::array::from_fn(|k| self.0[k] >= o.0[k]))
            }
            /// Elementwise maximum (NumPy's `maximum`; for floats, the
            /// first operand wins when they are unordered, as in `Array::maximum`).
            #[inline(always)]
            pub fn maximum(self, other: impl Into<Lanes<$t>>) -> Lanes<$t> {
                let o = other.into();
                Lanes(std::array::from_fn(|k| if o.0[k] > self.0[k] { o.0[k] } else { self.0[k] }))
            }
            /// Elementwise minimum (NumPy's `minimum`).
            #[inline(always)]
            pub fn minimum(self, other: impl Into<Lanes<$t>>) -> Lanes<$t> {
                let o = other.into();
                Lanes(std::array::from_fn(|k| if o.0[k] < self.0[k] { o.0[k] } else { self.0[k] }))
            }
            /// Absolute value.
            #[inline(always)]
            pub fn abs(self) -> Lanes<$t> {
                Lanes(std::array::from_fn(|k| self.0[k].abs()))
            }
        }
    )*};
    (@op $t:ty, $tr:ident, $m:ident, $op:tt) => {
        impl ops::$tr for Lanes<$t> {
            type Output = Lanes<$t>;
            #[inline(always)]
            fn $m(self, o: Lanes<$t>) -> Lanes<$t> {
                Lanes(std::array::from_fn(|k| self.0[k] $op o.0[k]))
            }
        }
        impl ops::$tr<$t> for Lanes<$t> {
            type Output = Lanes<$t>;
            #[inline(always)]
            fn $m(self, o: $t) -> Lanes<$t> {
                Lanes(std::array::from_fn(|k| self.0[k] $op o))
            }
        }
        impl ops::$tr<Lanes<$t>> for $t {
            type Output = Lanes<$t>;
            #[inline(always)]
            fn $m(self, o: Lanes<$t>) -> Lanes<$t> {
                Lanes(std::array::from_fn(|k| self $op o.0[k]))
            }
        }
    };
}
real_arith!(f32, f64, i32, i64);

macro_rules! float_math {
    ($($t:ty),*) => {$(
        impl Lanes<$t> {
            float_math!(@unary $t, sqrt "Square root.", exp "e to the power of each lane.",
                ln "Natural logarithm.", log10 "Base-10 logarithm.", sin "Sine.",
                cos "Cosine.", tan "Tangent.", floor "Largest integer not above.",
                ceil "Smallest integer not below.");
            /// Integer power.
            #[inline(always)]
            pub fn powi(self, n: i32) -> Lanes<$t> {
                Lanes(std::array::from_fn(|k| self.0[k].powi(n)))
            }
            /// Real power.
            #[inline(always)]
            pub fn powf(self, p: $t) -> Lanes<$t> {
                Lanes(std::array::from_fn(|k| self.0[k].powf(p)))
            }
            /// True where the lane is NaN.
            #[inline(always)]
            pub fn is_nan(self) -> Lanes<bool> {
                Lanes(std::array::from_fn(|k| self.0[k].is_nan()))
            }
        }
    )*};
    (@unary $t:ty, $($name:ident $doc:literal),*) => {$(
        #[doc = $doc]
        #[inline(always)]
        pub fn $name(self) -> Lanes<$t> {
            Lanes(std::array::from_fn(|k| self.0[k].$name()))
        }
    )*};
}
float_math!(f32, f64);

impl Lanes<f64> {
    /// `re + i·0` per lane.
    #[inline(always)]
    pub fn to_complex(self) -> Lanes<Complex64> {
        Lanes(ComplexLanes {
            re: self.0,
            im: [0.0; LANES],
        })
    }
}

// ---- complex arithmetic, real and imaginary parts apart ----------------------
// The formulas are num-complex's, in its order, so a kernel's results equal
// `Array<Complex64>` arithmetic bit for bit.

#[inline(always)]
fn parts(f: impl Fn(usize) -> (f64, f64)) -> ComplexLanes {
    let mut re = [0.0; LANES];
    let mut im = [0.0; LANES];
    for k in 0..LANES {
        let (r, i) = f(k);
        re[k] = r;
        im[k] = i;
    }
    ComplexLanes { re, im }
}

impl ops::Add for Lanes<Complex64> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        let (a, b) = (self.0, o.0);
        Lanes(ComplexLanes {
            re: std::array::from_fn(|k| a.re[k] + b.re[k]),
            im: std::array::from_fn(|k| a.im[k] + b.im[k]),
        })
    }
}

impl ops::Sub for Lanes<Complex64> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        let (a, b) = (self.0, o.0);
        Lanes(ComplexLanes {
            re: std::array::from_fn(|k| a.re[k] - b.re[k]),
            im: std::array::from_fn(|k| a.im[k] - b.im[k]),
        })
    }
}

impl ops::Mul for Lanes<Complex64> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        let (a, b) = (self.0, o.0);
        Lanes(ComplexLanes {
            re: std::array::from_fn(|k| a.re[k] * b.re[k] - a.im[k] * b.im[k]),
            im: std::array::from_fn(|k| a.re[k] * b.im[k] + a.im[k] * b.re[k]),
        })
    }
}

impl ops::Div for Lanes<Complex64> {
    type Output = Self;
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        let (a, b) = (self.0, o.0);
        Lanes(parts(|k| {
            let n = b.re[k] * b.re[k] + b.im[k] * b.im[k];
            let re = a.re[k] * b.re[k] + a.im[k] * b.im[k];
            let im = a.im[k] * b.re[k] - a.re[k] * b.im[k];
            (re / n, im / n)
        }))
    }
}

impl ops::Neg for Lanes<Complex64> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        let a = self.0;
        Lanes(ComplexLanes {
            re: std::array::from_fn(|k| -a.re[k]),
            im: std::array::from_fn(|k| -a.im[k]),
        })
    }
}

/// Complex lanes with complex scalars on either side, through a splat.
macro_rules! complex_scalar {
    ($($tr:ident $m:ident),*) => {$(
        impl ops::$tr<Complex64> for Lanes<Complex64> {
            type Output = Self;
            #[inline(always)]
            fn $m(self, o: Complex64) -> Self {
                ops::$tr::$m(self, Lanes::splat(o))
            }
        }
        impl ops::$tr<Lanes<Complex64>> for Complex64 {
            type Output = Lanes<Complex64>;
            #[inline(always)]
            fn $m(self, o: Lanes<Complex64>) -> Lanes<Complex64> {
                ops::$tr::$m(Lanes::splat(self), o)
            }
        }
    )*};
}
complex_scalar!(Add add, Sub sub, Mul mul, Div div);

// A complex lane with a real scalar, as num-complex does it (the imaginary
// part is untouched by + and -, scaled by * and /).
impl ops::Add<f64> for Lanes<Complex64> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: f64) -> Self {
        let a = self.0;
        Lanes(ComplexLanes {
            re: std::array::from_fn(|k| a.re[k] + o),
            im: a.im,
        })
    }
}
impl ops::Sub<f64> for Lanes<Complex64> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: f64) -> Self {
        let a = self.0;
        Lanes(ComplexLanes {
            re: std::array::from_fn(|k| a.re[k] - o),
            im: a.im,
        })
    }
}
impl ops::Mul<f64> for Lanes<Complex64> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, o: f64) -> Self {
        let a = self.0;
        Lanes(ComplexLanes {
            re: std::array::from_fn(|k| a.re[k] * o),
            im: std::array::from_fn(|k| a.im[k] * o),
        })
    }
}
impl ops::Div<f64> for Lanes<Complex64> {
    type Output = Self;
    #[inline(always)]
    fn div(self, o: f64) -> Self {
        let a = self.0;
        Lanes(ComplexLanes {
            re: std::array::from_fn(|k| a.re[k] / o),
            im: std::array::from_fn(|k| a.im[k] / o),
        })
    }
}

impl Lanes<Complex64> {
    /// Squared magnitude `re² + im²` (no square root).
    #[inline(always)]
    pub fn norm_sqr(self) -> Lanes<f64> {
        let a = self.0;
        Lanes(std::array::from_fn(|k| {
            a.re[k] * a.re[k] + a.im[k] * a.im[k]
        }))
    }
    /// Magnitude `|z|`.
    #[inline(always)]
    pub fn norm(self) -> Lanes<f64> {
        self.map(|z| z.norm())
    }
    /// Real parts.
    #[inline(always)]
    pub fn re(self) -> Lanes<f64> {
        Lanes(self.0.re)
    }
    /// Imaginary parts.
    #[inline(always)]
    pub fn im(self) -> Lanes<f64> {
        Lanes(self.0.im)
    }
    /// Complex conjugate.
    #[inline(always)]
    pub fn conj(self) -> Self {
        let a = self.0;
        Lanes(ComplexLanes {
            re: a.re,
            im: std::array::from_fn(|k| -a.im[k]),
        })
    }
    /// Lanes `re + i·im` from real and imaginary lanes.
    #[inline(always)]
    pub fn from_parts(re: Lanes<f64>, im: Lanes<f64>) -> Self {
        Lanes(ComplexLanes { re: re.0, im: im.0 })
    }
    /// Principal square root.
    #[inline(always)]
    pub fn sqrt(self) -> Self {
        self.map(|z| z.sqrt())
    }
    /// Complex exponential.
    #[inline(always)]
    pub fn exp(self) -> Self {
        self.map(|z| z.exp())
    }
    /// Principal natural logarithm.
    #[inline(always)]
    pub fn ln(self) -> Self {
        self.map(|z| z.ln())
    }
    /// Complex sine.
    #[inline(always)]
    pub fn sin(self) -> Self {
        self.map(|z| z.sin())
    }
    /// Complex cosine.
    #[inline(always)]
    pub fn cos(self) -> Self {
        self.map(|z| z.cos())
    }
    /// Integer power.
    #[inline(always)]
    pub fn powi(self, n: i32) -> Self {
        self.map(|z| z.powi(n))
    }
    /// Real power.
    #[inline(always)]
    pub fn powf(self, p: f64) -> Self {
        self.map(|z| z.powf(p))
    }
}

// ---- masks -------------------------------------------------------------------

macro_rules! logic {
    ($($tr:ident $m:ident $op:tt),*) => {$(
        impl ops::$tr for Lanes<bool> {
            type Output = Self;
            #[inline(always)]
            fn $m(self, o: Self) -> Self {
                Lanes(std::array::from_fn(|k| self.0[k] $op o.0[k]))
            }
        }
    )*};
}
logic!(BitAnd bitand &, BitOr bitor |, BitXor bitxor ^);

impl ops::Not for Lanes<bool> {
    type Output = Self;
    #[inline(always)]
    fn not(self) -> Self {
        Lanes(std::array::from_fn(|k| !self.0[k]))
    }
}

impl Lanes<bool> {
    /// True if any lane is true.
    #[inline(always)]
    pub fn any(self) -> bool {
        self.0.iter().any(|&b| b)
    }
    /// True if every lane is true.
    #[inline(always)]
    pub fn all(self) -> bool {
        self.0.iter().all(|&b| b)
    }
}
