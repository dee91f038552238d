//! Reductions, whole-array and along an axis, as tree reductions.
//!
//! The per-block step runs inside the block's fused task (the elementwise
//! work feeding a reduction is evaluated tile by tile and folded straight
//! into the accumulator); partial results are then merged in a tree whose
//! nodes take at most `split_every` inputs (Dask's name for the fan-in).

use std::sync::Arc;

use dagwood_runtime::{tree_reduce, Delayed, Key, TaskBuilder, TaskError};
use ndarray::{ArrayD, Axis, IxDyn};

use super::blockwise::program::Program;
use super::{
    block_key, layer_name, Array, ArrayError, Chunks, Element, Float, Number, Real, Result,
};
use crate::stats::Moments;

/// Fan-in of reduction trees unless set with [`Array::split_every`].
pub const DEFAULT_SPLIT_EVERY: usize = 8;

/// One kind of reduction: an accumulator per output element, updated with
/// each input element, merged with other partial accumulators, finished.
trait Reducer<T: Element>: Clone + Send + Sync + 'static {
    type Acc: Clone + Send + Sync + 'static;
    type Out: Clone + Send + Sync + 'static;
    const LABEL: &'static str;
    fn init(&self) -> Self::Acc;
    /// `i`: the element's position (flat in the block for whole-array
    /// reductions, along the axis for axis reductions).
    fn update(&self, acc: &mut Self::Acc, x: T, i: usize);
    fn update_tile(&self, acc: &mut Self::Acc, tile: &[T], start: usize) {
        for (k, &x) in tile.iter().enumerate() {
            self.update(acc, x, start + k);
        }
    }
    fn merge(&self, acc: &mut Self::Acc, other: Self::Acc);
    /// Turns block-local positions into global ones (only argmin/argmax keep any).
    fn reindex(&self, _acc: &mut Self::Acc, _to_global: &dyn Fn(usize) -> usize) {}
    fn finish(&self, acc: Self::Acc) -> std::result::Result<Self::Out, String>;
}

#[derive(Clone)]
struct Sum;
impl<T: Number> Reducer<T> for Sum {
    type Acc = T;
    type Out = T;
    const LABEL: &'static str = "sum";
    fn init(&self) -> T {
        T::zero()
    }
    fn update(&self, acc: &mut T, x: T, _: usize) {
        *acc = *acc + x;
    }
    fn update_tile(&self, acc: &mut T, tile: &[T], _: usize) {
        // A plain fold the compiler can vectorise.
        *acc = tile.iter().fold(*acc, |a, &x| a + x);
    }
    fn merge(&self, acc: &mut T, other: T) {
        *acc = *acc + other;
    }
    fn finish(&self, acc: T) -> std::result::Result<T, String> {
        Ok(acc)
    }
}

#[derive(Clone)]
struct Mean;
impl<T: Number> Reducer<T> for Mean {
    type Acc = (T, usize);
    type Out = T;
    const LABEL: &'static str = "mean";
    fn init(&self) -> (T, usize) {
        (T::zero(), 0)
    }
    fn update(&self, acc: &mut (T, usize), x: T, _: usize) {
        acc.0 = acc.0 + x;
        acc.1 += 1;
    }
    fn update_tile(&self, acc: &mut (T, usize), tile: &[T], _: usize) {
        acc.0 = tile.iter().fold(acc.0, |a, &x| a + x);
        acc.1 += tile.len();
    }
    fn merge(&self, acc: &mut (T, usize), other: (T, usize)) {
        acc.0 = acc.0 + other.0;
        acc.1 += other.1;
    }
    fn finish(&self, acc: (T, usize)) -> std::result::Result<T, String> {
        if acc.1 == 0 {
            return Err("mean of an empty array".into());
        }
        Ok(acc.0 / T::from_f64(acc.1 as f64))
    }
}

/// Variance by the pairwise merge of (count, mean, M2) in f64 ([`Moments`];
/// the tuple form is what travels between processes).
#[derive(Clone)]
struct Var {
    ddof: f64,
    sqrt: bool,
}
impl<T: Float> Reducer<T> for Var {
    type Acc = (f64, f64, f64);
    type Out = T;
    const LABEL: &'static str = "var";
    fn init(&self) -> (f64, f64, f64) {
        (0.0, 0.0, 0.0)
    }
    fn update(&self, acc: &mut (f64, f64, f64), x: T, _: usize) {
        let mut m = Moments::from(*acc);
        m.push(x.to_f64());
        *acc = m.into();
    }
    fn merge(&self, acc: &mut (f64, f64, f64), o: (f64, f64, f64)) {
        *acc = Moments::from(*acc).merged(o.into()).into();
    }
    fn finish(&self, acc: (f64, f64, f64)) -> std::result::Result<T, String> {
        let v = Moments::from(acc).variance(self.ddof).ok_or_else(|| {
            format!(
                "variance needs more than ddof = {} elements, got {}",
                self.ddof, acc.0
            )
        })?;
        Ok(T::from_f64(if self.sqrt { v.sqrt() } else { v }))
    }
}

/// `x` is NaN (the only value not equal to itself): it wins min/max, as in NumPy.
#[allow(clippy::eq_op)]
fn is_nan<T: PartialEq>(x: T) -> bool {
    x != x
}

#[derive(Clone)]
struct Extreme {
    max: bool,
}
impl<T: Real> Reducer<T> for Extreme {
    type Acc = Option<T>;
    type Out = T;
    const LABEL: &'static str = "min-max";
    fn init(&self) -> Option<T> {
        None
    }
    fn update(&self, acc: &mut Option<T>, x: T, _: usize) {
        *acc = Some(match *acc {
            None => x,
            Some(a) if is_nan(a) => a,
            Some(_) if is_nan(x) => x,
            Some(a) => {
                if (self.max && x > a) || (!self.max && x < a) {
                    x
                } else {
                    a
                }
            }
        });
    }
    fn merge(&self, acc: &mut Option<T>, other: Option<T>) {
        if let Some(x) = other {
            self.update(acc, x, 0);
        }
    }
    fn finish(&self, acc: Option<T>) -> std::result::Result<T, String> {
        acc.ok_or_else(|| format!("{} of an empty array", if self.max { "max" } else { "min" }))
    }
}

#[derive(Clone)]
struct ArgExtreme {
    max: bool,
}
impl<T: Real> Reducer<T> for ArgExtreme {
    type Acc = Option<(T, usize)>;
    type Out = i64;
    const LABEL: &'static str = "argmin-argmax";
    fn init(&self) -> Self::Acc {
        None
    }
    fn update(&self, acc: &mut Self::Acc, x: T, i: usize) {
        self.merge(acc, Some((x, i)));
    }
    fn merge(&self, acc: &mut Self::Acc, other: Self::Acc) {
        let Some((x, i)) = other else { return };
        let take = match *acc {
            None => true,
            Some((a, j)) => {
                let better = if is_nan(a) {
                    false
                } else if is_nan(x) {
                    true
                } else if self.max {
                    x > a
                } else {
                    x < a
                };
                // Ties (and NaN against NaN) go to the first position, as in NumPy.
                better || (x == a || (is_nan(x) && is_nan(a))) && i < j
            }
        };
        if take {
            *acc = Some((x, i));
        }
    }
    fn reindex(&self, acc: &mut Self::Acc, to_global: &dyn Fn(usize) -> usize) {
        if let Some((_, i)) = acc {
            *i = to_global(*i);
        }
    }
    fn finish(&self, acc: Self::Acc) -> std::result::Result<i64, String> {
        acc.map(|(_, i)| i as i64).ok_or_else(|| {
            format!(
                "{} of an empty array",
                if self.max { "argmax" } else { "argmin" }
            )
        })
    }
}

#[derive(Clone)]
struct Truth {
    all: bool,
}
impl<T: Element> Reducer<T> for Truth {
    type Acc = bool;
    type Out = bool;
    const LABEL: &'static str = "any-all";
    fn init(&self) -> bool {
        self.all
    }
    fn update(&self, acc: &mut bool, x: T, _: usize) {
        if self.all {
            *acc &= x.is_nonzero();
        } else {
            *acc |= x.is_nonzero();
        }
    }
    fn merge(&self, acc: &mut bool, other: bool) {
        if self.all {
            *acc &= other;
        } else {
            *acc |= other;
        }
    }
    fn finish(&self, acc: bool) -> std::result::Result<bool, String> {
        Ok(acc)
    }
}

#[derive(Clone)]
struct CountNonzero;
impl<T: Element> Reducer<T> for CountNonzero {
    type Acc = usize;
    type Out = i64;
    const LABEL: &'static str = "count_nonzero";
    fn init(&self) -> usize {
        0
    }
    fn update(&self, acc: &mut usize, x: T, _: usize) {
        *acc += usize::from(x.is_nonzero());
    }
    fn merge(&self, acc: &mut usize, other: usize) {
        *acc += other;
    }
    fn finish(&self, acc: usize) -> std::result::Result<i64, String> {
        Ok(acc as i64)
    }
}

/// Reductions of an array with a chosen tree fan-in; see [`Array::split_every`].
pub struct Reductions<'a, T: Element> {
    array: &'a Array<T>,
    split_every: usize,
}

impl<T: Element> Reductions<'_, T> {
    fn check(&self) -> Result<()> {
        self.array.check()?;
        if self.split_every < 2 {
            return Err(ArrayError::Invalid(format!(
                "split_every must be at least 2, got {}",
                self.split_every
            )));
        }
        Ok(())
    }

    /// The whole array reduced to one value.
    fn whole<R: Reducer<T>>(&self, r: R) -> Result<Delayed<R::Out>> {
        self.check()?;
        let a = self.array;
        let program = Arc::new(Program::new(&a.expr(a.ndim())?));
        // Dask's naming: `sum-3-chunk` per block, `sum-3-combine` trees, `sum-3` results.
        let name = layer_name(R::LABEL);
        let chunk_name: Arc<str> = format!("{name}-chunk").into();
        let shape = a.shape().to_vec();
        let partials: Vec<Delayed<R::Acc>> = a
            .chunks()
            .indices()
            .map(|idx| {
                let mut b = TaskBuilder::new("reduce-block").key(block_key(&chunk_name, &idx));
                program.register_inputs(&mut b, &idx);
                let (program, r, shape) = (program.clone(), r.clone(), shape.clone());
                let (bshape, offset) =
                    (a.chunks().block_shape(&idx), a.chunks().block_offset(&idx));
                b.build(move |args| {
                    let mut acc = r.init();
                    program.run::<T>(args, &bshape, &offset, |tile, start| {
                        r.update_tile(&mut acc, tile, start)
                    })?;
                    r.reindex(&mut acc, &|local| {
                        global_flat(local, &bshape, &offset, &shape)
                    });
                    Ok(acc)
                })
            })
            .collect();
        let merge = r.clone();
        let total = tree_reduce(
            partials,
            self.split_every,
            format!("{name}-combine"),
            move |accs| {
                let mut it = accs.into_iter();
                let mut acc = it.next().unwrap_or_else(|| merge.init());
                for other in it {
                    merge.merge(&mut acc, other);
                }
                acc
            },
        )?;
        let mut b = TaskBuilder::new("reduce-finish").key(Key::from_name(name.clone()));
        let acc = b.input(&total);
        Ok(b.build(move |args| r.finish(acc.take(args)?).map_err(TaskError::failed)))
    }

    /// The array reduced along `axis` (which disappears from the shape).
    fn along<R>(&self, r: R, axis: usize) -> Result<Array<R::Out>>
    where
        R: Reducer<T>,
        R::Out: Element,
    {
        self.check()?;
        let a = self.array;
        if axis >= a.ndim() {
            return Err(ArrayError::BadAxis {
                axis,
                ndim: a.ndim(),
                shape: a.shape().to_vec(),
            });
        }
        let program = Arc::new(Program::new(&a.expr(a.ndim())?));
        // Dask's naming: `sum-3-chunk` per block, `sum-3-combine` trees, `sum-3` results.
        let name = layer_name(R::LABEL);
        let chunk_name: Arc<str> = format!("{name}-chunk").into();
        let partials: Vec<Delayed<ArrayD<R::Acc>>> = a
            .chunks()
            .indices()
            .map(|idx| {
                let mut b = TaskBuilder::new("reduce-block").key(block_key(&chunk_name, &idx));
                program.register_inputs(&mut b, &idx);
                let (program, r) = (program.clone(), r.clone());
                let (bshape, offset) =
                    (a.chunks().block_shape(&idx), a.chunks().block_offset(&idx));
                b.build(move |args| {
                    let mut data: Vec<T> = Vec::with_capacity(bshape.iter().product());
                    program.run::<T>(args, &bshape, &offset, |tile, _| {
                        data.extend_from_slice(tile)
                    })?;
                    let block = ArrayD::from_shape_vec(IxDyn(&bshape), data)
                        .map_err(|e| TaskError::failed(e.to_string()))?;
                    let accs: Vec<R::Acc> = block
                        .lanes(Axis(axis))
                        .into_iter()
                        .map(|lane| {
                            let mut acc = r.init();
                            for (i, &x) in lane.iter().enumerate() {
                                r.update(&mut acc, x, offset[axis] + i);
                            }
                            acc
                        })
                        .collect();
                    let mut out_shape = bshape.clone();
                    out_shape.remove(axis);
                    ArrayD::from_shape_vec(IxDyn(&out_shape), accs)
                        .map_err(|e| TaskError::failed(e.to_string()))
                })
            })
            .collect();
        let mut out_axes = a.chunks().all().to_vec();
        out_axes.remove(axis);
        let out_chunks = Chunks::from_axes(out_axes);
        let mut out_shape = a.shape().to_vec();
        out_shape.remove(axis);
        let along = a.chunks().sizes(axis).len();
        let blocks = out_chunks
            .indices()
            .map(|out_idx| {
                let group: Vec<Delayed<ArrayD<R::Acc>>> = (0..along)
                    .map(|k| {
                        let mut idx = out_idx.clone();
                        idx.insert(axis, k);
                        partials[a.chunks().ravel(&idx)].clone()
                    })
                    .collect();
                let merge = r.clone();
                let total = tree_reduce(
                    group,
                    self.split_every,
                    format!("{name}-combine"),
                    move |parts| {
                        let mut it = parts.into_iter();
                        // tree_reduce never calls with an empty group.
                        let mut acc = it
                            .next()
                            .unwrap_or_else(|| ArrayD::from_elem(IxDyn(&[0]), merge.init()));
                        for other in it {
                            acc.zip_mut_with(&other, |x, y| merge.merge(x, y.clone()));
                        }
                        acc
                    },
                )?;
                let mut b = TaskBuilder::new("reduce-finish").key(block_key(&name, &out_idx));
                let acc = b.input(&total);
                let r = r.clone();
                Ok(b.build(move |args| {
                    let accs = acc.take(args)?;
                    let shape = accs.shape().to_vec();
                    let out = accs
                        .into_iter()
                        .map(|x| r.finish(x))
                        .collect::<std::result::Result<Vec<_>, _>>()
                        .map_err(TaskError::failed)?;
                    ArrayD::from_shape_vec(IxDyn(&shape), out)
                        .map_err(|e| TaskError::failed(e.to_string()))
                }))
            })
            .collect::<Result<Vec<_>>>()?;
        Array::from_blocks(&out_shape, out_chunks, blocks)
    }
}

/// Global C-order flat index of the block-local flat index `local`.
fn global_flat(local: usize, block_shape: &[usize], offset: &[usize], shape: &[usize]) -> usize {
    let mut rem = local;
    let mut pos = vec![0; block_shape.len()];
    for k in (0..block_shape.len()).rev() {
        let n = block_shape[k].max(1);
        pos[k] = rem % n + offset[k];
        rem /= n;
    }
    pos.iter().zip(shape).fold(0, |acc, (&p, &n)| acc * n + p)
}

impl<T: Element> Array<T> {
    /// Reductions whose trees merge at most `n` partial results per task
    /// (Dask's `split_every`; the default is [`DEFAULT_SPLIT_EVERY`]).
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let x = Array::<i64>::arange(0, 100, 1, 10).unwrap();
    /// assert_eq!(x.split_every(2).sum().unwrap().compute().unwrap(), 4950);
    /// ```
    pub fn split_every(&self, n: usize) -> Reductions<'_, T> {
        Reductions {
            array: self,
            split_every: n,
        }
    }

    fn reductions(&self) -> Reductions<'_, T> {
        self.split_every(DEFAULT_SPLIT_EVERY)
    }
}

impl<T: Element> Reductions<'_, T> {
    /// True if any element is non-zero (`true` for `bool`).
    pub fn any(&self) -> Result<Delayed<bool>> {
        self.whole(Truth { all: false })
    }
    /// True if every element is non-zero.
    pub fn all(&self) -> Result<Delayed<bool>> {
        self.whole(Truth { all: true })
    }
    /// Number of non-zero elements.
    pub fn count_nonzero(&self) -> Result<Delayed<usize>> {
        Ok(self
            .whole(CountNonzero)?
            .map("count_nonzero", |&n: &i64| n as usize))
    }
    /// [`any`](Self::any) along an axis.
    pub fn any_axis(&self, axis: usize) -> Result<Array<bool>> {
        self.along(Truth { all: false }, axis)
    }
    /// [`all`](Self::all) along an axis.
    pub fn all_axis(&self, axis: usize) -> Result<Array<bool>> {
        self.along(Truth { all: true }, axis)
    }
    /// [`count_nonzero`](Self::count_nonzero) along an axis.
    pub fn count_nonzero_axis(&self, axis: usize) -> Result<Array<i64>> {
        self.along(CountNonzero, axis)
    }
}

impl<T: Number> Reductions<'_, T> {
    /// Sum of all elements.
    pub fn sum(&self) -> Result<Delayed<T>> {
        self.whole(Sum)
    }
    /// Mean of all elements (integer division for integer types, as ndarray).
    pub fn mean(&self) -> Result<Delayed<T>> {
        self.whole(Mean)
    }
    /// Sums along `axis`, which disappears.
    pub fn sum_axis(&self, axis: usize) -> Result<Array<T>> {
        self.along(Sum, axis)
    }
    /// Means along `axis`.
    pub fn mean_axis(&self, axis: usize) -> Result<Array<T>> {
        self.along(Mean, axis)
    }
}

impl<T: Real> Reductions<'_, T> {
    /// Smallest element (NaN if any element is NaN, as in NumPy).
    pub fn min(&self) -> Result<Delayed<T>> {
        self.whole(Extreme { max: false })
    }
    /// Largest element.
    pub fn max(&self) -> Result<Delayed<T>> {
        self.whole(Extreme { max: true })
    }
    /// Flat C-order index of the first smallest element.
    pub fn argmin(&self) -> Result<Delayed<usize>> {
        Ok(self
            .whole(ArgExtreme { max: false })?
            .map("argmin", |&i: &i64| i as usize))
    }
    /// Flat C-order index of the first largest element.
    pub fn argmax(&self) -> Result<Delayed<usize>> {
        Ok(self
            .whole(ArgExtreme { max: true })?
            .map("argmax", |&i: &i64| i as usize))
    }
    /// Minima along `axis`.
    pub fn min_axis(&self, axis: usize) -> Result<Array<T>> {
        self.along(Extreme { max: false }, axis)
    }
    /// Maxima along `axis`.
    pub fn max_axis(&self, axis: usize) -> Result<Array<T>> {
        self.along(Extreme { max: true }, axis)
    }
    /// Index along `axis` of the first minimum of each lane.
    pub fn argmin_axis(&self, axis: usize) -> Result<Array<i64>> {
        self.along(ArgExtreme { max: false }, axis)
    }
    /// Index along `axis` of the first maximum of each lane.
    pub fn argmax_axis(&self, axis: usize) -> Result<Array<i64>> {
        self.along(ArgExtreme { max: true }, axis)
    }
}

impl<T: Float> Reductions<'_, T> {
    /// Variance with `ddof` delta degrees of freedom (0: population, 1: sample).
    pub fn var(&self, ddof: f64) -> Result<Delayed<T>> {
        self.whole(Var { ddof, sqrt: false })
    }
    /// Standard deviation with `ddof` delta degrees of freedom.
    pub fn std(&self, ddof: f64) -> Result<Delayed<T>> {
        self.whole(Var { ddof, sqrt: true })
    }
    /// Variances along `axis`.
    pub fn var_axis(&self, axis: usize, ddof: f64) -> Result<Array<T>> {
        self.along(Var { ddof, sqrt: false }, axis)
    }
    /// Standard deviations along `axis`.
    pub fn std_axis(&self, axis: usize, ddof: f64) -> Result<Array<T>> {
        self.along(Var { ddof, sqrt: true }, axis)
    }
}

/// The same reductions directly on arrays, with the default fan-in.
macro_rules! delegate {
    ($bound:ident: $($name:ident($($arg:ident: $ty:ty),*) -> $out:ty, $doc:literal;)*) => {
        impl<T: $bound> Array<T> {
            $(
                #[doc = $doc]
                #[doc = ""]
                #[doc = "A tree reduction with fan-in [`DEFAULT_SPLIT_EVERY`]; see [`split_every`](Array::split_every)."]
                pub fn $name(&self, $($arg: $ty),*) -> Result<$out> {
                    self.reductions().$name($($arg),*)
                }
            )*
        }
    };
}

delegate!(Element:
    any() -> Delayed<bool>, "True if any element is non-zero (`true`).";
    all() -> Delayed<bool>, "True if every element is non-zero (`true`).";
    count_nonzero() -> Delayed<usize>, "Number of non-zero (`true`) elements.";
    any_axis(axis: usize) -> Array<bool>, "`any` along an axis, which disappears.";
    all_axis(axis: usize) -> Array<bool>, "`all` along an axis, which disappears.";
    count_nonzero_axis(axis: usize) -> Array<i64>, "`count_nonzero` along an axis.";
);

delegate!(Number:
    sum() -> Delayed<T>, "Sum of all elements.";
    mean() -> Delayed<T>, "Mean of all elements (integer division for integers, as ndarray).";
    sum_axis(axis: usize) -> Array<T>, "Sums along `axis`, which disappears (ndarray's `sum_axis`).";
    mean_axis(axis: usize) -> Array<T>, "Means along `axis` (ndarray's `mean_axis`).";
);

delegate!(Real:
    min() -> Delayed<T>, "Smallest element; NaN if any is NaN, as in NumPy.";
    max() -> Delayed<T>, "Largest element; NaN if any is NaN.";
    argmin() -> Delayed<usize>, "Flat C-order index of the first smallest element.";
    argmax() -> Delayed<usize>, "Flat C-order index of the first largest element.";
    min_axis(axis: usize) -> Array<T>, "Minima along `axis`.";
    max_axis(axis: usize) -> Array<T>, "Maxima along `axis`.";
    argmin_axis(axis: usize) -> Array<i64>, "Position along `axis` of each lane's first minimum.";
    argmax_axis(axis: usize) -> Array<i64>, "Position along `axis` of each lane's first maximum.";
);

delegate!(Float:
    var(ddof: f64) -> Delayed<T>, "Variance with `ddof` delta degrees of freedom (ndarray's `var`).";
    std(ddof: f64) -> Delayed<T>, "Standard deviation with `ddof` delta degrees of freedom.";
    var_axis(axis: usize, ddof: f64) -> Array<T>, "Variances along `axis` (ndarray's `var_axis`).";
    std_axis(axis: usize, ddof: f64) -> Array<T>, "Standard deviations along `axis`.";
);
