//! Leaves of an expression: blocks of materialised arrays, broadcast to the
//! output's shape where needed.

use std::marker::PhantomData;
use std::sync::Arc;

use dagwood_runtime::{Args, Delayed, TaskBuilder, TaskError};
use ndarray::{ArrayD, IxDyn};

use super::expr::{output_of, typed_mut, Buf, Op, TileCtx};
use crate::array::{Chunks, Element};

/// What the program needs of a leaf apart from evaluating it.
pub(crate) trait LeafSource: Send + Sync {
    /// Same source, same broadcast: one input is enough.
    fn identity(&self) -> (usize, usize);
    /// Adds the source block that feeds output block `out_idx` as the next task input.
    fn register(&self, b: &mut TaskBuilder, out_idx: &[usize]);
}

/// Reads blocks of an array of `S` (shape `shape`, chunks `chunks`) into an
/// output of `out_ndim` dimensions, broadcasting length-1 and missing axes.
pub(crate) struct Leaf<S> {
    pub(crate) blocks: Arc<[Delayed<ArrayD<S>>]>,
    pub(crate) chunks: Chunks,
    pub(crate) shape: Vec<usize>,
    pub(crate) out_ndim: usize,
    pub(crate) _t: PhantomData<fn() -> S>,
}

impl<S: Element> Leaf<S> {
    fn block<'a>(&self, args: &'a Args, slot: usize) -> Result<&'a ArrayD<S>, TaskError> {
        args.get::<ArrayD<S>>(slot)
    }
}

impl<S: Element> LeafSource for Leaf<S> {
    fn identity(&self) -> (usize, usize) {
        (
            Arc::as_ptr(&self.blocks) as *const () as usize,
            self.out_ndim,
        )
    }

    fn register(&self, b: &mut TaskBuilder, out_idx: &[usize]) {
        let lead = self.out_ndim - self.shape.len();
        let src: Vec<usize> = (0..self.shape.len())
            .map(|k| {
                if self.chunks.sizes(k).len() == 1 {
                    0
                } else {
                    out_idx[k + lead]
                }
            })
            .collect();
        b.input(&self.blocks[self.chunks.ravel(&src)]);
    }
}

impl<S: Element> Op for Leaf<S> {
    output_of!(S);
    fn eval(
        &self,
        _: &[Option<Buf>],
        _: &[usize],
        leaf: Option<usize>,
        ctx: &TileCtx<'_>,
        out: &mut Buf,
    ) -> Result<(), TaskError> {
        let slot = leaf.ok_or_else(|| TaskError::failed("leaf without an input slot"))?;
        let data = self.block(ctx.args, slot)?;
        let out = typed_mut::<S>(out)?;
        out.clear();
        if data.shape() == ctx.block_shape {
            if let Some(s) = data.as_slice() {
                let tile = s
                    .get(ctx.start..ctx.start + ctx.len)
                    .ok_or_else(|| TaskError::failed("leaf block is too short"))?;
                out.extend_from_slice(tile);
                return Ok(());
            }
        }
        gather(data, ctx.block_shape, ctx.start, ctx.len, out)
    }
    fn label(&self) -> &'static str {
        "leaf"
    }
    fn leaf(&self) -> Option<&dyn LeafSource> {
        Some(self)
    }
}

/// Appends elements `start..start + len` (C order) of `block` broadcast to
/// `shape`: a tile's worth of reads through strides (0 along broadcast
/// axes), never a block-sized copy. Runs of the last axis are copied, or
/// filled from one value when that axis is broadcast.
fn gather<S: Element>(
    block: &ArrayD<S>,
    shape: &[usize],
    start: usize,
    len: usize,
    out: &mut Vec<S>,
) -> Result<(), TaskError> {
    let nd = shape.len();
    let lead = nd
        .checked_sub(block.ndim())
        .ok_or_else(|| TaskError::failed("leaf block has more axes than the output"))?;
    let bad = || {
        TaskError::failed(format!(
            "cannot broadcast a block of shape {:?} to {:?}",
            block.shape(),
            shape
        ))
    };
    let mut strides = vec![0isize; nd];
    for k in lead..nd {
        let n = block.shape()[k - lead];
        if n == shape[k] {
            strides[k] = block.strides()[k - lead];
        } else if n != 1 {
            return Err(bad());
        }
    }
    // Owned blocks with non-negative strides are read through their memory;
    // anything else (a user's `from_blocks` with reversed axes) by index.
    let memory = block
        .as_slice_memory_order()
        .filter(|_| strides.iter().all(|&s| s >= 0));
    let mut idx = vec![0usize; nd];
    let mut rem = start;
    for k in (0..nd).rev() {
        let n = shape[k].max(1);
        idx[k] = rem % n;
        rem /= n;
    }
    let last = nd.saturating_sub(1);
    let row = if nd == 0 { 1 } else { shape[last] };
    let step = if nd == 0 { 0 } else { strides[last] };
    let mut done = 0;
    while done < len {
        let at = if nd == 0 { 0 } else { idx[last] };
        let run = (row - at).min(len - done);
        let base: isize = idx
            .iter()
            .zip(&strides)
            .map(|(&i, &s)| i as isize * s)
            .sum();
        match memory {
            Some(mem) if step == 0 => {
                let v = *mem.get(base as usize).ok_or_else(bad)?;
                out.extend(std::iter::repeat_n(v, run));
            }
            Some(mem) if step == 1 => {
                let b = base as usize;
                out.extend_from_slice(mem.get(b..b + run).ok_or_else(bad)?);
            }
            Some(mem) => {
                for j in 0..run {
                    out.push(
                        *mem.get((base + j as isize * step) as usize)
                            .ok_or_else(bad)?,
                    );
                }
            }
            None => {
                let mut src: Vec<usize> = (lead..nd)
                    .map(|k| if strides[k] == 0 { 0 } else { idx[k] })
                    .collect();
                for j in 0..run {
                    if nd > lead && step != 0 {
                        src[last - lead] = at + j;
                    }
                    out.push(*block.get(IxDyn(&src)).ok_or_else(bad)?);
                }
            }
        }
        done += run;
        // Next row: carry into the axes before the last.
        if nd > 0 {
            idx[last] = 0;
            let mut k = last;
            if at + run < row {
                idx[last] = at + run;
            } else {
                while k > 0 {
                    k -= 1;
                    idx[k] += 1;
                    if idx[k] < shape[k] {
                        break;
                    }
                    idx[k] = 0;
                }
            }
        }
    }
    Ok(())
}
