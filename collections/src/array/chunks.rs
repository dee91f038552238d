//! How an array is cut into blocks: chunk sizes along each axis (Dask's `chunks`).

use std::sync::Arc;

use super::error::{ArrayError, Result};

/// Chunk sizes per axis; the blocks are the Cartesian product of the per-axis
/// chunks, numbered in C order.
///
/// ```
/// use dagwood_collections::array::Chunks;
/// let c = Chunks::regular(&[10, 7], &[4, 7]).unwrap();
/// assert_eq!(c.sizes(0), &[4, 4, 2]);        // ragged last chunk
/// assert_eq!(c.grid(), vec![3, 1]);
/// assert_eq!(c.block_shape(&[2, 0]), vec![2, 7]);
/// assert_eq!(c.block_offset(&[2, 0]), vec![8, 0]);
/// ```
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Chunks(Arc<[Vec<usize>]>);

impl Chunks {
    /// Chunks of `chunk` elements along each axis (the last one ragged); a
    /// chunk size of 0 means the whole axis.
    pub fn regular(shape: &[usize], chunk: &[usize]) -> Result<Chunks> {
        if shape.len() != chunk.len() {
            return Err(ArrayError::BadChunks {
                shape: shape.to_vec(),
                reason: format!(
                    "chunk shape {chunk:?} has {} axes, the array {}",
                    chunk.len(),
                    shape.len()
                ),
            });
        }
        let axes = shape
            .iter()
            .zip(chunk)
            .map(|(&n, &c)| {
                let c = if c == 0 { n.max(1) } else { c };
                let mut sizes = vec![c; n / c];
                if n % c != 0 {
                    sizes.push(n % c);
                }
                // A zero-length axis has one empty chunk, as in Dask.
                if sizes.is_empty() {
                    sizes.push(0);
                }
                sizes
            })
            .collect::<Vec<_>>();
        Ok(Chunks(axes.into()))
    }

    /// Explicit chunk sizes per axis; they must add up to the shape.
    pub fn from_sizes(shape: &[usize], sizes: Vec<Vec<usize>>) -> Result<Chunks> {
        if shape.len() != sizes.len() {
            return Err(ArrayError::BadChunks {
                shape: shape.to_vec(),
                reason: format!(
                    "{} axes of chunks for {} dimensions",
                    sizes.len(),
                    shape.len()
                ),
            });
        }
        for (axis, (s, &n)) in sizes.iter().zip(shape).enumerate() {
            let total: usize = s.iter().sum();
            if total != n || s.is_empty() || (n > 0 && s.contains(&0)) {
                return Err(ArrayError::BadChunks {
                    shape: shape.to_vec(),
                    reason: format!("axis {axis}: chunks {s:?} do not partition length {n}"),
                });
            }
        }
        Ok(Chunks(sizes.into()))
    }

    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.0.len()
    }

    /// Chunk sizes along `axis`.
    pub fn sizes(&self, axis: usize) -> &[usize] {
        &self.0[axis]
    }

    /// All axes' chunk sizes.
    pub fn all(&self) -> &[Vec<usize>] {
        &self.0
    }

    /// Blocks along each axis.
    pub fn grid(&self) -> Vec<usize> {
        self.0.iter().map(Vec::len).collect()
    }

    /// Total number of blocks.
    pub fn num_blocks(&self) -> usize {
        self.0.iter().map(Vec::len).product()
    }

    /// Shape of the block at a block index.
    pub fn block_shape(&self, idx: &[usize]) -> Vec<usize> {
        idx.iter().zip(self.0.iter()).map(|(&i, s)| s[i]).collect()
    }

    /// Offset of a block's first element along each axis.
    pub fn block_offset(&self, idx: &[usize]) -> Vec<usize> {
        idx.iter()
            .zip(self.0.iter())
            .map(|(&i, s)| s[..i].iter().sum())
            .collect()
    }

    /// The region of the whole array that a block covers, as an ndarray slice.
    pub fn block_slice(&self, idx: &[usize]) -> Vec<ndarray::SliceInfoElem> {
        self.block_offset(idx)
            .into_iter()
            .zip(self.block_shape(idx))
            .map(|(o, n)| ndarray::SliceInfoElem::Slice {
                start: o as isize,
                end: Some((o + n) as isize),
                step: 1,
            })
            .collect()
    }

    /// The block index of flat (C-order) block number `flat`.
    pub fn unravel(&self, mut flat: usize) -> Vec<usize> {
        let grid = self.grid();
        let mut idx = vec![0; grid.len()];
        for (k, &g) in grid.iter().enumerate().rev() {
            idx[k] = flat % g.max(1);
            flat /= g.max(1);
        }
        idx
    }

    /// The flat (C-order) number of a block index.
    pub fn ravel(&self, idx: &[usize]) -> usize {
        idx.iter()
            .zip(self.0.iter())
            .fold(0, |acc, (&i, s)| acc * s.len() + i)
    }

    /// Block indices in C order.
    pub fn indices(&self) -> impl Iterator<Item = Vec<usize>> + '_ {
        (0..self.num_blocks()).map(|f| self.unravel(f))
    }

    /// The largest chunk along each axis.
    pub fn max_chunk(&self) -> Vec<usize> {
        self.0
            .iter()
            .map(|s| s.iter().copied().max().unwrap_or(0))
            .collect()
    }

    pub(crate) fn from_axes(axes: Vec<Vec<usize>>) -> Chunks {
        Chunks(axes.into())
    }
}
