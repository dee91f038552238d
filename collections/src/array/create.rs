//! Making arrays: from an ndarray, constants and ranges.

use std::marker::PhantomData;

use dagwood_runtime::{delayed, Delayed};
use ndarray::{ArrayD, ArrayView, Dimension};

use super::blockwise::expr::{Expr, Fill, Generate};
use super::{Array, ArrayError, Chunks, Element, Number, Result};

impl<T: Element> Array<T> {
    /// Cuts an in-memory ndarray (any dimensionality) into blocks of `chunk`
    /// elements per axis (0 = the whole axis); the last block of an axis may be
    /// smaller.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let a = ndarray::Array2::<f64>::eye(5);
    /// let x = Array::from_array(&a, &[2, 5]).unwrap();
    /// assert_eq!(x.chunks().grid(), vec![3, 1]);
    /// assert_eq!(x.compute().unwrap(), a.into_dyn());
    /// ```
    pub fn from_array<'a, D: Dimension>(
        data: impl Into<ArrayView<'a, T, D>>,
        chunk: &[usize],
    ) -> Result<Array<T>> {
        let view = data.into().into_dyn();
        let chunks = Chunks::regular(view.shape(), chunk)?;
        let blocks: Vec<Delayed<ArrayD<T>>> = chunks
            .indices()
            .map(|idx| delayed(view.slice(chunks.block_slice(&idx).as_slice()).to_owned()))
            .collect();
        Array::from_blocks(view.shape(), chunks, blocks)
    }

    /// An array filled with `value`: no data is made until a block is needed,
    /// and then inside the task that uses it.
    pub fn full(shape: &[usize], chunk: &[usize], value: T) -> Result<Array<T>> {
        let chunks = Chunks::regular(shape, chunk)?;
        Ok(Array::from_expr(
            shape,
            chunks,
            Expr::new(Fill(value), Vec::new()),
        ))
    }

    /// An array of zeros (`false` for `bool`).
    pub fn zeros(shape: &[usize], chunk: &[usize]) -> Result<Array<T>> {
        Array::full(shape, chunk, T::default())
    }

    /// An array whose element at multi-index `i` is `f(i)` (NumPy's `fromfunction`).
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let x = Array::from_fn(&[3, 4], &[2, 2], |i| (i[0] * 10 + i[1]) as i64).unwrap();
    /// assert_eq!(x.compute().unwrap()[[2, 3]], 23);
    /// ```
    pub fn from_fn(
        shape: &[usize],
        chunk: &[usize],
        f: impl Fn(&[usize]) -> T + Send + Sync + 'static,
    ) -> Result<Array<T>> {
        let chunks = Chunks::regular(shape, chunk)?;
        Ok(Array::from_expr(
            shape,
            chunks,
            Expr::new(
                Generate {
                    f,
                    label: "from_fn",
                    _t: PhantomData,
                },
                Vec::new(),
            ),
        ))
    }
}

impl<T: Number> Array<T> {
    /// An array of ones.
    pub fn ones(shape: &[usize], chunk: &[usize]) -> Result<Array<T>> {
        Array::full(shape, chunk, T::one())
    }

    /// `start, start + step, ...` below `stop` (NumPy's `arange`), in chunks of `chunk`.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let x = Array::<f64>::arange(0.0, 1.0, 0.25, 3).unwrap();
    /// assert_eq!(x.compute().unwrap().as_slice().unwrap(), &[0.0, 0.25, 0.5, 0.75]);
    /// ```
    pub fn arange(start: T, stop: T, step: T, chunk: usize) -> Result<Array<T>> {
        let (s, e, d) = (start.to_f64(), stop.to_f64(), step.to_f64());
        if d == 0.0 || !d.is_finite() || !s.is_finite() || !e.is_finite() {
            return Err(ArrayError::Invalid(format!(
                "arange({s}, {e}, {d}): the step must be finite and non-zero"
            )));
        }
        let n = ((e - s) / d).ceil().max(0.0) as usize;
        Array::from_fn(&[n], &[chunk], move |i| {
            start + step * T::from_f64(i[0] as f64)
        })
    }

    /// `num` evenly spaced values from `start` to `stop` inclusive (NumPy's `linspace`).
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let x = Array::<f64>::linspace(-1.0, 1.0, 5, 2).unwrap();
    /// assert_eq!(x.compute().unwrap().as_slice().unwrap(), &[-1.0, -0.5, 0.0, 0.5, 1.0]);
    /// ```
    pub fn linspace(start: T, stop: T, num: usize, chunk: usize) -> Result<Array<T>> {
        let step = if num > 1 {
            (stop - start) / T::from_f64((num - 1) as f64)
        } else {
            T::default()
        };
        Array::from_fn(&[num], &[chunk], move |i| {
            // The last value is exactly `stop`, as in NumPy.
            if num > 1 && i[0] == num - 1 {
                stop
            } else {
                start + step * T::from_f64(i[0] as f64)
            }
        })
    }
}
