//! Leaves of an expression: blocks of materialised arrays, broadcast to the
//! output's shape where needed.

use std::any::TypeId;
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
    /// A standard-layout copy broadcast to `block_shape`, when the input
    /// block cannot be read as a plain slice of that shape.
    fn prepare(
        &self,
        args: &Args,
        slot: usize,
        block_shape: &[usize],
    ) -> Result<Option<Buf>, TaskError>;
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

    fn prepare(
        &self,
        args: &Args,
        slot: usize,
        block_shape: &[usize],
    ) -> Result<Option<Buf>, TaskError> {
        let block = self.block(args, slot)?;
        if block.shape() == block_shape && block.is_standard_layout() {
            return Ok(None);
        }
        let view = block.broadcast(IxDyn(block_shape)).ok_or_else(|| {
            TaskError::failed(format!(
                "cannot broadcast a block of shape {:?} to {:?}",
                block.shape(),
                block_shape
            ))
        })?;
        Ok(Some(Box::new(view.as_standard_layout().into_owned())))
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
        let data: &ArrayD<S> = match ctx.prepared.get(slot).and_then(Option::as_ref) {
            Some(p) => p
                .downcast_ref::<ArrayD<S>>()
                .ok_or_else(|| TaskError::failed("prepared leaf of the wrong type"))?,
            None => self.block(ctx.args, slot)?,
        };
        let slice = data
            .as_slice()
            .and_then(|s| s.get(ctx.start..ctx.start + ctx.len))
            .ok_or_else(|| TaskError::failed("leaf block is not contiguous or too short"))?;
        let out = typed_mut::<S>(out)?;
        out.clear();
        out.extend_from_slice(slice);
        Ok(())
    }
    fn label(&self) -> &'static str {
        "leaf"
    }
    fn leaf(&self) -> Option<&dyn LeafSource> {
        Some(self)
    }
}
