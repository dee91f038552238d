//! `reshape` with NumPy's row-major (C order) semantics.
//!
//! A reshape keeps the elements in C order, so a block of the result is a
//! contiguous range of the flat array exactly when it is a band of whole
//! rows: the input is rechunked into bands of whole trailing axes (only
//! where it is not already), and each output band is one task that joins
//! the input bands overlapping its flat range.

use dagwood_runtime::{TaskBuilder, TaskError};
use ndarray::{ArrayD, IxDyn};

use super::{block_key, layer_name, Array, ArrayError, Chunks, Element, Result};

/// Flat C-order start of each band along axis 0, with the band's end.
fn bands(sizes: &[usize], row: usize) -> Vec<(usize, usize)> {
    let mut at = 0;
    sizes
        .iter()
        .map(|&n| {
            let r = (at * row, (at + n) * row);
            at += n;
            r
        })
        .collect()
}

impl<T: Element> Array<T> {
    /// The same elements in C order with a new shape (NumPy's and Dask's
    /// `reshape`); the sizes must agree. The result is chunked in bands of
    /// whole rows along its first axis, about as many elements per block as
    /// the input's largest block.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let x = Array::<i64>::arange(0, 24, 1, 5).unwrap();
    /// let y = x.reshape(&[2, 3, 4]).unwrap();
    /// let v = y.compute().unwrap();
    /// assert_eq!(v[[1, 2, 3]], 23);
    /// assert_eq!(y.reshape(&[24]).unwrap().compute().unwrap(), x.compute().unwrap());
    /// let err = x.reshape(&[5, 5]).unwrap_err().to_string();
    /// assert!(err.contains("[24]") && err.contains("[5, 5]"));
    /// ```
    pub fn reshape(&self, shape: &[usize]) -> Result<Array<T>> {
        self.check()?;
        let n: usize = self.shape().iter().product();
        let m = shape
            .iter()
            .try_fold(1usize, |a, &k| a.checked_mul(k))
            .unwrap_or(usize::MAX);
        if n != m {
            return Err(ArrayError::ShapeMismatch {
                op: "reshape (the sizes differ)",
                left: self.shape().to_vec(),
                right: shape.to_vec(),
            });
        }
        if shape == self.shape() {
            return Ok(self.clone());
        }
        if shape.is_empty() || self.ndim() == 0 {
            // To or from a 0-d array: one block.
            let whole = self.rechunk_to(&Chunks::from_axes(
                self.shape().iter().map(|&k| vec![k]).collect(),
            ))?;
            return self.reshape_bands(&whole, shape, &Chunks::from_axes(Vec::new()));
        }
        // Input in bands of whole rows along axis 0, as cut along axis 0 now.
        let in_axes: Vec<Vec<usize>> = (0..self.ndim())
            .map(|k| {
                if k == 0 {
                    self.chunks().sizes(0).to_vec()
                } else {
                    vec![self.shape()[k]]
                }
            })
            .collect();
        let banded = self.rechunk_to(&Chunks::from_axes(in_axes))?;
        // Output bands of about the input's largest block.
        let per_block: usize = self.chunks().max_chunk().iter().product::<usize>().max(1);
        let out_row: usize = shape[1..].iter().product::<usize>().max(1);
        let rows = (per_block / out_row).max(1);
        let mut out_axes: Vec<Vec<usize>> = shape[1..].iter().map(|&k| vec![k]).collect();
        out_axes.insert(0, Chunks::regular(&shape[..1], &[rows])?.sizes(0).to_vec());
        self.reshape_bands(&banded, shape, &Chunks::from_axes(out_axes))
    }

    /// `banded` (bands of whole rows) reshaped to `shape` cut into `out`
    /// (bands of whole rows; no axes for a 0-d result).
    fn reshape_bands(&self, banded: &Array<T>, shape: &[usize], out: &Chunks) -> Result<Array<T>> {
        let in_row: usize = banded.shape().iter().skip(1).product::<usize>();
        let in_bands = if banded.ndim() == 0 {
            vec![(0, 1)]
        } else {
            bands(banded.chunks().sizes(0), in_row)
        };
        let out_chunks = if shape.is_empty() {
            Chunks::from_axes(Vec::new())
        } else {
            out.clone()
        };
        let out_row: usize = shape.iter().skip(1).product::<usize>();
        let out_bands = if shape.is_empty() {
            vec![(0, 1)]
        } else {
            bands(out_chunks.sizes(0), out_row)
        };
        let src = banded.blocks()?;
        let name = layer_name("reshape");
        let blocks = out_chunks
            .indices()
            .map(|idx| {
                let (lo, hi) = out_bands[idx.first().copied().unwrap_or(0)];
                let bshape = out_chunks.block_shape(&idx);
                let mut b = TaskBuilder::new("reshape").key(block_key(&name, &idx));
                // (input slot, flat range inside that input band)
                let pieces: Vec<_> = in_bands
                    .iter()
                    .enumerate()
                    .filter(|(_, &(s, e))| s < hi && e > lo || (s == e && s == lo && lo == hi))
                    .map(|(k, &(s, e))| {
                        let slot = b.input(&src[k]);
                        (slot, lo.max(s) - s, hi.min(e) - s)
                    })
                    .collect();
                b.build(move |args| {
                    let mut data: Vec<T> = Vec::with_capacity(hi - lo);
                    for (slot, from, to) in &pieces {
                        let blk: &ArrayD<T> = slot.get(args)?;
                        let c = blk.as_standard_layout();
                        let flat = c
                            .as_slice()
                            .and_then(|s| s.get(*from..*to))
                            .ok_or_else(|| TaskError::failed("reshape: input band too short"))?;
                        data.extend_from_slice(flat);
                    }
                    ArrayD::from_shape_vec(IxDyn(&bshape), data)
                        .map_err(|e| TaskError::failed(format!("reshape: {e}")))
                })
            })
            .collect();
        Array::from_blocks(shape, out_chunks, blocks)
    }
}
