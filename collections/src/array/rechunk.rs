//! Changing how an array is cut into blocks.

use dagwood_runtime::{TaskBuilder, TaskError};
use ndarray::{ArrayD, IxDyn, SliceInfoElem};

use super::{layer_name, Array, ArrayError, Chunks, Element, Result};

/// Blocks along one axis that overlap `[start, end)`, with each one's offset.
fn overlapping(sizes: &[usize], start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (i, &n) in sizes.iter().enumerate() {
        if offset < end && offset + n > start || (n == 0 && start == end && offset == start) {
            out.push((i, offset));
        }
        offset += n;
    }
    out
}

fn slice(range: impl Iterator<Item = (usize, usize)>) -> Vec<SliceInfoElem> {
    range
        .map(|(s, e)| SliceInfoElem::Slice {
            start: s as isize,
            end: Some(e as isize),
            step: 1,
        })
        .collect()
}

impl<T: Element> Array<T> {
    /// The same array cut into blocks of `chunk` elements per axis (0 = the whole axis).
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let x = Array::<f64>::ones(&[10, 10], &[5, 5]).unwrap();
    /// let y = x.rechunk(&[3, 10]).unwrap();
    /// assert_eq!(y.chunks().sizes(0), &[3, 3, 3, 1]);
    /// assert_eq!(y.compute().unwrap(), x.compute().unwrap());
    /// ```
    pub fn rechunk(&self, chunk: &[usize]) -> Result<Array<T>> {
        let chunks = Chunks::regular(&self.shape, chunk)?;
        self.rechunk_to(&chunks)
    }

    /// The same array cut into exactly these chunks.
    pub fn rechunk_to(&self, chunks: &Chunks) -> Result<Array<T>> {
        self.check()?;
        if chunks.ndim() != self.ndim()
            || chunks
                .all()
                .iter()
                .zip(self.shape.iter())
                .any(|(c, &n)| c.iter().sum::<usize>() != n)
        {
            return Err(ArrayError::BadChunks {
                shape: self.shape.to_vec(),
                reason: format!("cannot rechunk to {:?}", chunks.all()),
            });
        }
        if chunks == &self.chunks {
            return Ok(self.clone());
        }
        let src = self.blocks()?;
        let name = layer_name("rechunk");
        let blocks = chunks
            .indices()
            .map(|idx| {
                let offset = chunks.block_offset(&idx);
                let shape = chunks.block_shape(&idx);
                // Per axis, the source blocks overlapping this output block.
                let per_axis: Vec<Vec<(usize, usize)>> = (0..self.ndim())
                    .map(|k| overlapping(self.chunks.sizes(k), offset[k], offset[k] + shape[k]))
                    .collect();
                let mut pieces = Vec::new();
                let mut b = TaskBuilder::new("rechunk").key(super::block_key(&name, &idx));
                for combo in product(&per_axis) {
                    let src_idx: Vec<usize> = combo.iter().map(|&(i, _)| i).collect();
                    let src_off: Vec<usize> = combo.iter().map(|&(_, o)| o).collect();
                    let slot = b.input(&src[self.chunks.ravel(&src_idx)]);
                    let src_shape = self.chunks.block_shape(&src_idx);
                    // Intersection in global coordinates, then in each block's own.
                    let (mut from, mut to) = (Vec::new(), Vec::new());
                    for k in 0..self.ndim() {
                        let lo = offset[k].max(src_off[k]);
                        let hi = (offset[k] + shape[k]).min(src_off[k] + src_shape[k]);
                        from.push((lo - src_off[k], hi - src_off[k]));
                        to.push((lo - offset[k], hi - offset[k]));
                    }
                    pieces.push((slot, slice(from.into_iter()), slice(to.into_iter())));
                }
                b.build(move |args| {
                    let mut out = ArrayD::from_elem(IxDyn(&shape), T::default());
                    for (slot, from, to) in &pieces {
                        let block = slot.get(args)?;
                        if block.ndim() != from.len() {
                            return Err(TaskError::failed(
                                "rechunk: input block of the wrong rank",
                            ));
                        }
                        out.slice_mut(to.as_slice())
                            .assign(&block.slice(from.as_slice()));
                    }
                    Ok(out)
                })
            })
            .collect();
        Array::from_blocks(&self.shape, chunks.clone(), blocks)
    }
}

impl<T: Element> Array<T> {
    /// Joins runs of neighbouring chunks along each axis while their total
    /// stays within `limit[axis]` elements (what a strided slice leaves:
    /// `x.slice(s![..;10])` of 250-row blocks has 25-row blocks). The
    /// array itself when nothing merges.
    pub(crate) fn merge_small_chunks(&self, limit: &[usize]) -> Result<Array<T>> {
        let axes: Vec<Vec<usize>> = (0..self.ndim())
            .map(|k| {
                let mut out: Vec<usize> = Vec::new();
                for &n in self.chunks.sizes(k) {
                    match out.last_mut() {
                        Some(last) if *last + n <= limit[k].max(1) => *last += n,
                        _ => out.push(n),
                    }
                }
                out
            })
            .collect();
        let merged = Chunks::from_axes(axes);
        if merged == self.chunks {
            Ok(self.clone())
        } else {
            self.rechunk_to(&merged)
        }
    }
}

/// The Cartesian product of per-axis choices, in C order.
pub(crate) fn product<X: Copy>(axes: &[Vec<X>]) -> Vec<Vec<X>> {
    let mut out: Vec<Vec<X>> = vec![Vec::new()];
    for choices in axes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                choices.iter().map(move |&c| {
                    let mut p = prefix.clone();
                    p.push(c);
                    p
                })
            })
            .collect();
    }
    out
}
