//! `Array`: an n-dimensional array cut into ndarray chunks (Dask's `dask.array`).
//!
//! Operations record work lazily. Consecutive elementwise operations with the
//! same chunking fuse into one task per block that evaluates the whole
//! expression over cache-sized tiles, so no block-sized temporary is made per
//! operation; reductions run their per-block step inside that same task.
//!
//! ```
//! use dagwood_collections::array::Array;
//! use ndarray::{ArrayD, IxDyn};
//!
//! let data = ArrayD::from_shape_fn(IxDyn(&[6, 4]), |i| (i[0] * 4 + i[1]) as f64);
//! let x = Array::from_array(&data, &[4, 3]).unwrap();    // 2 × 2 blocks, ragged
//! let y = (&x * 2.0 + 1.0).sqrt();                          // one task per block
//! let expected = data.mapv(|v| (v * 2.0 + 1.0).sqrt());
//! assert_eq!(y.compute().unwrap(), expected);
//! let total = y.sum().unwrap().compute().unwrap();          // a tree of partial sums
//! assert!((total - expected.sum()).abs() < 1e-9);
//! ```

mod blockwise;
mod chunks;
mod create;
mod element;
mod elementwise;
mod error;
mod grid;
pub mod kernel;
pub mod linalg;
mod matmul;
mod npy;
mod random;
mod rechunk;
mod reduce;
mod reshape;
mod structure;
mod zarr;

use std::sync::{Arc, OnceLock};

use dagwood_runtime::{compute_all_with, delayed, Delayed, Plan, Scheduler, TaskBuilder};
use ndarray::{ArrayD, IxDyn};

pub use blockwise::program::{set_tile_elements, tile_elements};
pub use chunks::Chunks;
pub use element::{Element, Float, Number, Real};
pub use elementwise::{where_, Operand};
pub use error::{ArrayError, Result};
pub use grid::{meshgrid, ogrid};
pub use num_complex::Complex64;
pub use reduce::{Reductions, DEFAULT_SPLIT_EVERY};
pub use structure::{concatenate, stack};
pub use zarr::{ToZarr, ZarrCodec};

// The block operations name their layers and blocks with these.
use crate::keys::{block_key, layer_name};
use blockwise::expr::Expr;
use blockwise::leaf::Leaf;
use blockwise::program::Program;

/// A lazy n-dimensional array of `T` in blocks.
///
/// Cloning is cheap (it shares the graph). See the [module docs](self).
pub struct Array<T: Element> {
    shape: Arc<[usize]>,
    chunks: Chunks,
    data: Data<T>,
}

type Blocks<T> = Arc<[Delayed<ArrayD<T>>]>;

enum Data<T> {
    /// One task per block, in C order of the block grid.
    Blocks(Blocks<T>),
    /// A fused elementwise expression not yet cut into tasks; the cut is
    /// made once, on first need, and shared by every later use.
    Expr(Arc<Expr>, Arc<OnceLock<Blocks<T>>>),
    /// An operator met bad operands (operators cannot return `Result`): the
    /// error surfaces from the first method that returns one.
    Failed(Arc<ArrayError>),
}

impl<T: Element> Clone for Data<T> {
    fn clone(&self) -> Self {
        match self {
            Data::Blocks(b) => Data::Blocks(b.clone()),
            Data::Expr(e, c) => Data::Expr(e.clone(), c.clone()),
            Data::Failed(e) => Data::Failed(e.clone()),
        }
    }
}

impl<T: Element> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            shape: self.shape.clone(),
            chunks: self.chunks.clone(),
            data: self.data.clone(),
        }
    }
}

impl<T: Element> std::fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Array<{}>(shape={:?}, chunks={:?})",
            T::DTYPE,
            self.shape,
            self.chunks.all()
        )
    }
}

impl<T: Element> Array<T> {
    /// An array made of existing block tasks (Dask's `from_delayed` for a
    /// grid). `blocks` are in C order of the block grid; each must compute to
    /// an array of its block's shape (checked when it runs).
    pub fn from_blocks(
        shape: &[usize],
        chunks: Chunks,
        blocks: Vec<Delayed<ArrayD<T>>>,
    ) -> Result<Array<T>> {
        if chunks.ndim() != shape.len()
            || chunks
                .all()
                .iter()
                .zip(shape)
                .any(|(c, &n)| c.iter().sum::<usize>() != n)
        {
            return Err(ArrayError::BadChunks {
                shape: shape.to_vec(),
                reason: format!("chunks {:?} do not cover the shape", chunks.all()),
            });
        }
        if blocks.len() != chunks.num_blocks() {
            return Err(ArrayError::BadChunks {
                shape: shape.to_vec(),
                reason: format!(
                    "{} blocks given for a grid of {:?}",
                    blocks.len(),
                    chunks.grid()
                ),
            });
        }
        Ok(Array {
            shape: shape.into(),
            chunks,
            data: Data::Blocks(blocks.into()),
        })
    }

    pub(crate) fn from_expr(shape: &[usize], chunks: Chunks, expr: Arc<Expr>) -> Array<T> {
        Array {
            shape: shape.into(),
            chunks,
            data: Data::Expr(expr, Arc::new(OnceLock::new())),
        }
    }

    pub(crate) fn failed(shape: &[usize], chunks: Chunks, e: ArrayError) -> Array<T> {
        Array {
            shape: shape.into(),
            chunks,
            data: Data::Failed(Arc::new(e)),
        }
    }

    /// The array's shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How the array is cut into blocks.
    pub fn chunks(&self) -> &Chunks {
        &self.chunks
    }

    /// Number of blocks.
    pub fn num_blocks(&self) -> usize {
        self.chunks.num_blocks()
    }

    /// The element type's name (`"f64"`, ...).
    pub fn dtype(&self) -> &'static str {
        T::DTYPE
    }

    /// The deferred error of an operator applied to bad operands, if any.
    pub fn check(&self) -> Result<()> {
        match &self.data {
            Data::Failed(e) => Err(e.duplicate()),
            _ => Ok(()),
        }
    }

    /// The block tasks, in C order of the block grid (Dask's `to_delayed`).
    pub fn to_delayed(&self) -> Result<Vec<Delayed<ArrayD<T>>>> {
        Ok(self.blocks()?.to_vec())
    }

    /// One task per block, cutting a pending fused expression into tasks.
    pub(crate) fn blocks(&self) -> Result<Blocks<T>> {
        match &self.data {
            Data::Blocks(b) => Ok(b.clone()),
            Data::Expr(e, cache) => Ok(cache.get_or_init(|| self.lower(e)).clone()),
            Data::Failed(e) => Err(e.duplicate()),
        }
    }

    /// The expression to build on when this array feeds an elementwise
    /// operation with output of `out_ndim` dimensions.
    pub(crate) fn expr(&self, out_ndim: usize) -> Result<Arc<Expr>> {
        match &self.data {
            // Extend the pending expression, unless it has been cut into
            // tasks already: then read those tasks' results instead of
            // evaluating it a second time.
            Data::Expr(e, cache) if out_ndim == self.ndim() && cache.get().is_none() => {
                Ok(e.clone())
            }
            Data::Failed(e) => Err(e.duplicate()),
            _ => self.leaf_expr(out_ndim),
        }
    }

    /// A leaf reading this array's blocks (cutting a pending expression into
    /// tasks first), for an output of `out_ndim` dimensions.
    pub(crate) fn leaf_expr(&self, out_ndim: usize) -> Result<Arc<Expr>> {
        Ok(Expr::new(
            Leaf {
                blocks: self.blocks()?,
                chunks: self.chunks.clone(),
                shape: self.shape.to_vec(),
                out_ndim,
                _t: std::marker::PhantomData,
            },
            Vec::new(),
        ))
    }

    fn lower(&self, expr: &Arc<Expr>) -> Blocks<T> {
        let program = Arc::new(Program::new(expr));
        let name = layer_name(&program.label());
        self.chunks
            .indices()
            .map(|idx| {
                let shape = self.chunks.block_shape(&idx);
                let offset = self.chunks.block_offset(&idx);
                let key = block_key(&name, &idx);
                let mut b = TaskBuilder::new("blockwise").key(key);
                program.register_inputs(&mut b, &idx);
                let program = program.clone();
                b.build(move |args| {
                    let mut out: Vec<T> = Vec::with_capacity(shape.iter().product());
                    program
                        .run::<T>(args, &shape, &offset, |tile, _| out.extend_from_slice(tile))?;
                    ArrayD::from_shape_vec(IxDyn(&shape), out)
                        .map_err(|e| dagwood_runtime::TaskError::failed(e.to_string()))
                })
            })
            .collect()
    }

    /// Cuts any pending fused expression into tasks here: later operations
    /// start a new fused expression instead of extending this one (a fusion
    /// barrier, for comparison and for sharing an expensive intermediate).
    pub fn materialize(&self) -> Result<Array<T>> {
        Ok(Array {
            shape: self.shape.clone(),
            chunks: self.chunks.clone(),
            data: Data::Blocks(self.blocks()?),
        })
    }

    /// Number of tasks in the graph of this array (after the collection's
    /// blockwise fusion, before the runtime fuses linear chains).
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let x = Array::<f64>::ones(&[100], &[10]).unwrap();   // 10 blocks
    /// let fused = ((&x + 1.0) * 2.0).sqrt();
    /// assert_eq!(fused.task_count().unwrap(), 10);            // one task per block
    /// let split = ((&x + 1.0).materialize().unwrap() * 2.0).sqrt();
    /// assert_eq!(split.task_count().unwrap(), 20);
    /// ```
    pub fn task_count(&self) -> Result<usize> {
        let blocks = self.to_delayed()?;
        Ok(Plan::new(&blocks).task_count())
    }

    /// Computes the whole array with the default scheduler.
    pub fn compute(&self) -> Result<ArrayD<T>> {
        self.compute_with(&Scheduler::current())
    }

    /// Computes the whole array with `scheduler`.
    pub fn compute_with(&self, scheduler: &Scheduler) -> Result<ArrayD<T>> {
        let blocks = self.to_delayed()?;
        let parts = compute_all_with(&blocks, scheduler)?;
        self.assemble(parts)
    }

    /// The whole array from its computed blocks, in C order of the grid.
    pub(crate) fn assemble(&self, parts: Vec<ArrayD<T>>) -> Result<ArrayD<T>> {
        let mut out = ArrayD::<T>::from_elem(IxDyn(&self.shape), T::default());
        for (flat, part) in parts.into_iter().enumerate() {
            let idx = self.chunks.unravel(flat);
            let want = self.chunks.block_shape(&idx);
            if part.shape() != want.as_slice() {
                return Err(ArrayError::ShapeMismatch {
                    op: "compute (a block has the wrong shape)",
                    left: want,
                    right: part.shape().to_vec(),
                });
            }
            out.slice_mut(self.chunks.block_slice(&idx).as_slice())
                .assign(&part);
        }
        Ok(out)
    }

    /// Computes the blocks and keeps them as a new array whose graph is just
    /// the results (Dask's `persist`).
    pub fn persist(&self) -> Result<Array<T>> {
        let blocks = self.to_delayed()?;
        let parts = compute_all_with(&blocks, &Scheduler::current())?;
        Ok(Array {
            shape: self.shape.clone(),
            chunks: self.chunks.clone(),
            data: Data::Blocks(parts.into_iter().map(delayed).collect()),
        })
    }

    /// The task graph in Graphviz DOT.
    pub fn to_dot(&self) -> Result<String> {
        let blocks = self.to_delayed()?;
        Ok(Plan::new(&blocks).to_dot())
    }

    /// Draws the task graph (Dask's `x.visualize("graph.svg")`): DOT
    /// always, and a picture when `path` ends in a Graphviz format such as
    /// `.svg` or `.png` (needs Graphviz's `dot`). Graphs of more than 2000
    /// tasks are drawn one node per operation with its task count. See
    /// [`Plan::visualize`].
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let x = Array::<f64>::ones(&[100, 100], &[50, 50]).unwrap();   // 4 blocks
    /// let y = (&x + 1.0).t();
    /// let path = std::env::temp_dir().join("dagwood-doc-array.dot");
    /// let files = y.visualize(&path).unwrap();
    /// assert!(files.tasks >= 4 && files.layers.is_none());
    /// assert!(std::fs::read_to_string(files.dot).unwrap().starts_with("digraph"));
    /// ```
    pub fn visualize(
        &self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<dagwood_runtime::diagnostics::GraphFiles> {
        self.visualize_with(
            path,
            &dagwood_runtime::diagnostics::VisualizeOptions::default(),
        )
    }

    /// [`visualize`](Self::visualize) with options: the layer threshold,
    /// colours from a profile, the Graphviz program.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// use dagwood_runtime::diagnostics::VisualizeOptions;
    /// let x = Array::<f64>::ones(&[100, 100], &[10, 10]).unwrap();   // 100 blocks
    /// let y = (&x * 2.0).materialize().unwrap() + 1.0;
    /// let path = std::env::temp_dir().join("dagwood-doc-array-layers.dot");
    /// let files = y.visualize_with(&path, &VisualizeOptions::new().max_tasks(50)).unwrap();
    /// assert_eq!(files.layers, Some(2)); // ones fused with × 2, then + 1
    /// ```
    pub fn visualize_with(
        &self,
        path: impl AsRef<std::path::Path>,
        options: &dagwood_runtime::diagnostics::VisualizeOptions<'_>,
    ) -> Result<dagwood_runtime::diagnostics::GraphFiles> {
        let blocks = self.to_delayed()?;
        Ok(Plan::new(&blocks).visualize_with(path, options)?)
    }
}

impl ArrayError {
    /// A copy for a deferred error held by several arrays.
    pub(crate) fn duplicate(&self) -> ArrayError {
        match self {
            ArrayError::ShapeMismatch { op, left, right } => ArrayError::ShapeMismatch {
                op,
                left: left.clone(),
                right: right.clone(),
            },
            ArrayError::BadAxis { axis, ndim, shape } => ArrayError::BadAxis {
                axis: *axis,
                ndim: *ndim,
                shape: shape.clone(),
            },
            ArrayError::BadChunks { shape, reason } => ArrayError::BadChunks {
                shape: shape.clone(),
                reason: reason.clone(),
            },
            ArrayError::OutOfRange { what, shape } => ArrayError::OutOfRange {
                what: what.clone(),
                shape: shape.clone(),
            },
            other => ArrayError::Invalid(other.to_string()),
        }
    }
}
