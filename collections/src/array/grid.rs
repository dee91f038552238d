//! Coordinate grids from 1-D arrays: [`meshgrid`] (NumPy's `meshgrid`) and
//! its sparse form [`ogrid`], for sampling a function over a plane (a
//! fractal, a potential field) with elementwise operations.

use dagwood_runtime::{TaskBuilder, TaskError};
use ndarray::{ArrayD, IxDyn};

use super::{layer_name, Array, ArrayError, Chunks, Element, Result};

/// The same elements as `a` under a new `shape` and `chunks` with the same
/// block grid in C order, each block reshaped by a task of its own.
///
/// Only valid where reshaping keeps every block's elements together and in
/// order: adding or removing length-1 axes whose only chunk is 1 long (a 1-D
/// array as a row or a column). Checked per block: the block counts and
/// each block's number of elements must agree.
pub(crate) fn relabel_blocks<T: Element>(
    a: &Array<T>,
    op: &str,
    shape: &[usize],
    chunks: Chunks,
) -> Result<Array<T>> {
    a.check()?;
    let mismatch = || ArrayError::BadChunks {
        shape: shape.to_vec(),
        reason: format!(
            "{op}: blocks {:?} of an array of shape {:?} cannot be relabelled as {:?}",
            a.chunks().all(),
            a.shape(),
            chunks.all()
        ),
    };
    if chunks.num_blocks() != a.num_blocks() || shape.iter().product::<usize>() != a.len() {
        return Err(mismatch());
    }
    let src = a.blocks()?;
    let name = layer_name(op);
    let mut blocks = Vec::with_capacity(src.len());
    for (flat, idx) in chunks.indices().enumerate() {
        let want = chunks.block_shape(&idx);
        let have = a.chunks().block_shape(&a.chunks().unravel(flat));
        if want.iter().product::<usize>() != have.iter().product::<usize>() {
            return Err(mismatch());
        }
        let key = super::block_key(&name, &idx);
        let mut b = TaskBuilder::new("reshape").key(key);
        let input = b.input(&src[flat]);
        blocks.push(b.build(move |args| {
            // Taken, not borrowed: when this is the block's last reader the
            // reshape reuses its buffer instead of copying it.
            let block: ArrayD<T> = input.take(args)?;
            if block.len() != want.iter().product::<usize>() {
                return Err(TaskError::failed(format!(
                    "reshape: a block of shape {:?} cannot become {want:?}",
                    block.shape()
                )));
            }
            if block.is_standard_layout() {
                block
                    .into_shape_with_order(IxDyn(&want))
                    .map_err(|e| TaskError::failed(e.to_string()))
            } else {
                ArrayD::from_shape_vec(IxDyn(&want), block.iter().copied().collect())
                    .map_err(|e| TaskError::failed(e.to_string()))
            }
        }));
    }
    Array::from_blocks(shape, chunks, blocks)
}

fn check_1d<T: Element>(op: &str, which: &str, a: &Array<T>) -> Result<()> {
    a.check()?;
    if a.ndim() != 1 {
        return Err(ArrayError::Invalid(format!(
            "{op}: {which} must be 1-D, got an array of shape {:?}",
            a.shape()
        )));
    }
    Ok(())
}

/// `a` (1-D, length n) as a row of shape (1, n), chunked like `a` along it.
///
/// A row is `a` broadcast against a new leading axis, which the fused
/// expressions do inside each consumer's task: no reshape tasks needed.
fn as_row<T: Element>(a: &Array<T>) -> Result<Array<T>> {
    let chunks = Chunks::from_axes(vec![vec![1], a.chunks().sizes(0).to_vec()]);
    Ok(Array::from_expr(&[1, a.len()], chunks, a.expr(2)?))
}

/// `a` (1-D, length n) as a column of shape (n, 1), chunked like `a` along it.
fn as_column<T: Element>(op: &str, a: &Array<T>) -> Result<Array<T>> {
    let chunks = Chunks::from_axes(vec![a.chunks().sizes(0).to_vec(), vec![1]]);
    relabel_blocks(a, op, &[a.len(), 1], chunks)
}

/// Sparse coordinate grids: `x` (length nx) as a row of shape (1, nx) and
/// `y` (length ny) as a column of shape (ny, 1) — NumPy's
/// `meshgrid(x, y, sparse=True)`, or `ogrid` with the axes in `xy` order.
///
/// Elementwise operations broadcast the pair to the full (ny, nx) grid
/// inside each block's task, so `f(gx, gy)` over the plane is one fused
/// task per block. The pair holds only nx + ny values, so unlike the dense
/// grids of [`meshgrid`] it stays small when persisted or reused. Chunks follow `x` along
/// axis 1 and `y` along axis 0. Both must be 1-D ([`ArrayError::Invalid`]).
///
/// ```
/// use dagwood_collections::array::{ogrid, Array};
/// let x = Array::<f64>::linspace(-1.0, 1.0, 5, 2).unwrap();
/// let y = Array::<f64>::linspace(0.0, 2.0, 3, 2).unwrap();
/// let (gx, gy) = ogrid(&x, &y).unwrap();
/// assert_eq!((gx.shape(), gy.shape()), (&[1, 5][..], &[3, 1][..]));
/// let r2 = &gx * &gx + &gy * &gy;                  // broadcasts to (3, 5)
/// let r2 = r2.compute().unwrap();
/// assert_eq!(r2.shape(), &[3, 5]);
/// assert_eq!(r2[[2, 0]], 1.0 + 4.0);
/// ```
pub fn ogrid<T: Element>(x: &Array<T>, y: &Array<T>) -> Result<(Array<T>, Array<T>)> {
    check_1d("ogrid", "x", x)?;
    check_1d("ogrid", "y", y)?;
    Ok((as_row(x)?, as_column("ogrid_y", y)?))
}

/// Dense coordinate grids of two 1-D arrays, NumPy's `meshgrid(x, y)` with
/// `xy` indexing: both outputs have shape (len(y), len(x)), the first with
/// `X[i, j] = x[j]`, the second with `Y[i, j] = y[i]`.
///
/// The outputs are lazy fused expressions that broadcast `x` and `y` inside
/// each block's task, so nothing grid-sized exists until computed, and
/// elementwise operations on them fuse into the same tasks. Chunks follow
/// `x` along axis 1 and `y` along axis 0. Both must be 1-D
/// ([`ArrayError::Invalid`]). To keep grids around (persisted, or reused
/// by many expressions), the sparse pair of [`ogrid`] is much smaller.
///
/// ```
/// use dagwood_collections::array::{meshgrid, Array};
/// let x = Array::<i64>::arange(0, 3, 1, 2).unwrap();
/// let y = Array::<i64>::arange(10, 12, 1, 1).unwrap();
/// let (gx, gy) = meshgrid(&x, &y).unwrap();
/// assert_eq!(gx.compute().unwrap(), ndarray::array![[0, 1, 2], [0, 1, 2]].into_dyn());
/// assert_eq!(gy.compute().unwrap(), ndarray::array![[10, 10, 10], [11, 11, 11]].into_dyn());
/// ```
pub fn meshgrid<T: Element>(x: &Array<T>, y: &Array<T>) -> Result<(Array<T>, Array<T>)> {
    check_1d("meshgrid", "x", x)?;
    check_1d("meshgrid", "y", y)?;
    let shape = [y.len(), x.len()];
    let chunks = Chunks::from_axes(vec![
        y.chunks().sizes(0).to_vec(),
        x.chunks().sizes(0).to_vec(),
    ]);
    // `x` broadcasts along the new leading axis as it is; `y` needs a
    // trailing length-1 axis first.
    let gx = Array::from_expr(&shape, chunks.clone(), x.aligned(&shape, &chunks)?);
    let gy = as_column("meshgrid_y", y)?;
    let gy = Array::from_expr(&shape, chunks.clone(), gy.aligned(&shape, &chunks)?);
    Ok((gx, gy))
}
