//! Blocked matrix products (`dot`), with NumPy's meaning for operands of one
//! or two dimensions.
//!
//! Output block `(i, j)` is `Σ_k A[i, k] · B[k, j]`: one task per partial
//! product, summed in a tree of fan-in [`FAN_IN`] so that no task waits on a
//! whole row of blocks and finished partial sums free their inputs early.

use dagwood_runtime::{tree_reduce, Delayed, Key, TaskBuilder, TaskError};
use ndarray::{ArrayD, CowArray, Ix2, IxDyn};

use super::{layer_name, Array, ArrayError, Chunks, Number, Result};

/// Partial products combined per task of the summation tree: enough to keep
/// the tree shallow, few enough that a task starts as soon as a handful of
/// products are done.
const FAN_IN: usize = 8;

/// One operand's block, viewed as a matrix of `dims` (a vector is one row of
/// the left operand or one column of the right one), after checking that it
/// has the shape its chunks promise.
fn as_matrix<'a, T: Number>(
    block: &'a ArrayD<T>,
    want: &[usize],
    dims: (usize, usize),
    side: &str,
) -> std::result::Result<CowArray<'a, T, Ix2>, TaskError> {
    if block.shape() != want {
        return Err(TaskError::failed(format!(
            "dot: {side} block has shape {:?}, its chunks say {want:?}",
            block.shape()
        )));
    }
    let bad = |e: ndarray::ShapeError| {
        TaskError::failed(format!("dot: {side} block of shape {want:?}: {e}"))
    };
    if block.ndim() == 2 {
        // A view keeps whatever memory layout the block has; no copy.
        Ok(CowArray::from(
            block.view().into_dimensionality::<Ix2>().map_err(bad)?,
        ))
    } else {
        block.to_shape(dims).map_err(bad)
    }
}

/// Sums equally shaped partial products in place into the first one.
fn add_all<T: Number>(parts: Vec<ArrayD<T>>) -> ArrayD<T> {
    let mut parts = parts.into_iter();
    // `tree_reduce` never makes an empty group; the fallback only keeps this total.
    let Some(mut acc) = parts.next() else {
        return ArrayD::zeros(IxDyn(&[]));
    };
    for p in parts {
        // Every partial product of one output block was checked to have that
        // block's shape, so the shapes agree and this cannot broadcast or panic.
        acc.zip_mut_with(&p, |a, &b| *a = *a + b);
    }
    acc
}

impl<T: Number> Array<T> {
    /// The matrix product `self · other` (NumPy's and Dask's `dot`) of arrays
    /// of one or two dimensions:
    ///
    /// - 2-D × 2-D: `(m, k) · (k, n) → (m, n)`;
    /// - 2-D × 1-D: `(m, k) · (k,) → (m,)`; 1-D × 2-D: `(k,) · (k, n) → (n,)`;
    /// - 1-D × 1-D: the inner product, as an array of zero dimensions.
    ///
    /// The result is chunked like `self`'s rows and `other`'s columns. Each
    /// partial product `A[i, k] · B[k, j]` is one task, and the sum over `k`
    /// is a tree of partial sums. When `other`'s row chunks differ from
    /// `self`'s column chunks, `other` is rechunked along its rows to match.
    ///
    /// Errors with [`ArrayError::ShapeMismatch`] when the inner lengths
    /// differ, and [`ArrayError::Invalid`] for operands of other ranks.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// use ndarray::Array2;
    ///
    /// let a = Array2::from_shape_fn((5, 7), |(i, j)| (i + 2 * j) as f64);
    /// let b = Array2::from_shape_fn((7, 3), |(i, j)| i as f64 - j as f64);
    /// let x = Array::from_array(&a, &[2, 3]).unwrap();
    /// let y = Array::from_array(&b, &[4, 2]).unwrap(); // rows rechunked to x's columns
    /// let z = x.dot(&y).unwrap();
    /// assert_eq!(z.shape(), &[5, 3]);
    /// assert_eq!(z.chunks().sizes(0), &[2, 2, 1]);
    /// assert_eq!(z.chunks().sizes(1), &[2, 1]);
    /// assert_eq!(z.compute().unwrap(), a.dot(&b).into_dyn());
    ///
    /// // Matrix times vector.
    /// let v = Array::from_array(&ndarray::arr1(&[1.0; 7]), &[7]).unwrap();
    /// assert_eq!(x.dot(&v).unwrap().compute().unwrap(), a.sum_axis(ndarray::Axis(1)).into_dyn());
    ///
    /// // Inner lengths that do not agree.
    /// assert!(x.dot(&x).is_err());
    /// ```
    pub fn dot(&self, other: &Array<T>) -> Result<Array<T>> {
        self.check()?;
        other.check()?;
        let (a_shape, b_shape) = (self.shape(), other.shape());
        if !(1..=2).contains(&self.ndim()) || !(1..=2).contains(&other.ndim()) {
            return Err(ArrayError::Invalid(format!(
                "dot: operands must have 1 or 2 dimensions, got shapes {a_shape:?} and {b_shape:?}"
            )));
        }
        if a_shape[self.ndim() - 1] != b_shape[0] {
            return Err(ArrayError::ShapeMismatch {
                op: "dot",
                left: a_shape.to_vec(),
                right: b_shape.to_vec(),
            });
        }
        // A partial product needs A's column block k to line up with B's row block k.
        let k_sizes = self.chunks().sizes(self.ndim() - 1).to_vec();
        let b = if other.chunks().sizes(0) == k_sizes.as_slice() {
            other.clone()
        } else {
            let mut axes = other.chunks().all().to_vec();
            axes[0] = k_sizes.clone();
            other.rechunk_to(&Chunks::from_axes(axes))?
        };

        // Rows of A and columns of B: a vector operand is one row / one column.
        let (a_mat, b_mat) = (self.ndim() == 2, b.ndim() == 2);
        let rows: Vec<usize> = if a_mat {
            self.chunks().sizes(0).to_vec()
        } else {
            vec![1]
        };
        let cols: Vec<usize> = if b_mat {
            b.chunks().sizes(1).to_vec()
        } else {
            vec![1]
        };
        let mut out_shape = Vec::new();
        let mut out_axes = Vec::new();
        if a_mat {
            out_shape.push(a_shape[0]);
            out_axes.push(rows.clone());
        }
        if b_mat {
            out_shape.push(b.shape()[1]);
            out_axes.push(cols.clone());
        }
        let out_chunks = Chunks::from_axes(out_axes);

        let (a_blocks, b_blocks) = (self.blocks()?, b.blocks()?);
        let (part_name, out_name) = (layer_name("dot-partial"), layer_name("dot"));
        let mut out: Vec<Delayed<ArrayD<T>>> = Vec::with_capacity(rows.len() * cols.len());
        // C order of the output grid: i outer, j inner (a vector side has one index).
        for (i, &m) in rows.iter().enumerate() {
            for (j, &n) in cols.iter().enumerate() {
                let out_idx: Vec<usize> = [(a_mat, i), (b_mat, j)]
                    .iter()
                    .filter(|(keep, _)| *keep)
                    .map(|&(_, x)| x)
                    .collect();
                let out_want = out_chunks.block_shape(&out_idx);
                let mut parts: Vec<Delayed<ArrayD<T>>> = k_sizes
                    .iter()
                    .enumerate()
                    .map(|(k, &kc)| {
                        let a_want = if a_mat { vec![m, kc] } else { vec![kc] };
                        let b_want = if b_mat { vec![kc, n] } else { vec![kc] };
                        let mut tb = TaskBuilder::new("dot-partial").key(
                            Key::from_name(part_name.clone())
                                .with_indices(&[i as u64, j as u64, k as u64]),
                        );
                        let xa = tb.input(&a_blocks[i * k_sizes.len() + k]);
                        let xb = tb.input(&b_blocks[k * cols.len() + j]);
                        let out_want = out_want.clone();
                        tb.build(move |args| {
                            let a = as_matrix(xa.get(args)?, &a_want, (m, kc), "left")?;
                            let b = as_matrix(xb.get(args)?, &b_want, (kc, n), "right")?;
                            a.dot(&b)
                                .into_shape_with_order(IxDyn(&out_want))
                                .map_err(|e| {
                                    TaskError::failed(format!(
                                        "dot: block of shape {out_want:?}: {e}"
                                    ))
                                })
                        })
                    })
                    .collect();
                let block = match parts.len() {
                    1 => parts.pop(),
                    // The tree's keys name the output block: `("…-sum-i-j", level, n)`.
                    _ => Some(tree_reduce(
                        parts,
                        FAN_IN,
                        format!("{part_name}-sum-{i}-{j}"),
                        add_all::<T>,
                    )?),
                };
                let block = block.ok_or_else(|| {
                    ArrayError::Invalid(format!(
                        "dot: no blocks along the inner axis of {a_shape:?}"
                    ))
                })?;
                let key: Vec<u64> = out_idx.iter().map(|&x| x as u64).collect();
                out.push(block.with_key(Key::from_name(out_name.clone()).with_indices(&key)));
            }
        }
        Array::from_blocks(&out_shape, out_chunks, out)
    }
}
