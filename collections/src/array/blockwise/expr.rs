//! Nodes of a fused elementwise expression.
//!
//! An expression is a DAG of `Expr` nodes shared by `Arc` (so `z * z` reads
//! `z` once). Each node's operation is generic over its element types and its
//! closure, so the per-element loop of a tile is monomorphised and inlined;
//! only the per-tile call goes through a trait object.

use std::any::{Any, TypeId};
use std::marker::PhantomData;
use std::sync::Arc;

use dagwood_runtime::{Args, TaskError};

use super::leaf::LeafSource;
use crate::array::Element;

/// A tile's buffer: a `Vec<T>` of the node's output type, type-erased so one
/// program can mix element types.
pub(crate) type Buf = Box<dyn Any + Send>;

/// Where a tile lies in the block being computed.
pub(crate) struct TileCtx<'a> {
    /// The inputs of the block's task: one per leaf, in leaf order.
    pub(crate) args: &'a Args,
    /// Shape of the output block.
    pub(crate) block_shape: &'a [usize],
    /// Offset of the output block in the whole array.
    pub(crate) block_offset: &'a [usize],
    /// First element of the tile, flat C-order index in the block.
    pub(crate) start: usize,
    /// Elements in the tile.
    pub(crate) len: usize,
}

/// One operation of an expression.
pub(crate) trait Op: Send + Sync {
    /// The output element type.
    fn out_type(&self) -> TypeId;
    /// An empty buffer of the output type.
    fn new_buf(&self, capacity: usize) -> Buf;
    /// Computes one tile into `out` from the tiles of its inputs (`bufs[i]`
    /// for `i` in `inputs`, in input order) or, for a leaf, from the block's
    /// input number `leaf`.
    fn eval(
        &self,
        bufs: &[Option<Buf>],
        inputs: &[usize],
        leaf: Option<usize>,
        ctx: &TileCtx<'_>,
        out: &mut Buf,
    ) -> Result<(), TaskError>;
    /// A short name for keys and pictures (`add`, `sqrt`, ...).
    fn label(&self) -> &'static str;
    /// Leaves read block data; other operations return `None`.
    fn leaf(&self) -> Option<&dyn LeafSource> {
        None
    }
}

/// A node of an expression DAG.
pub(crate) struct Expr {
    pub(crate) op: Box<dyn Op>,
    pub(crate) inputs: Vec<Arc<Expr>>,
}

impl Expr {
    pub(crate) fn new(op: impl Op + 'static, inputs: Vec<Arc<Expr>>) -> Arc<Expr> {
        Arc::new(Expr {
            op: Box::new(op),
            inputs,
        })
    }
}

/// Input `k`'s tile, typed.
pub(crate) fn input<'b, T: 'static>(
    bufs: &'b [Option<Buf>],
    inputs: &[usize],
    k: usize,
) -> Result<&'b Vec<T>, TaskError> {
    inputs
        .get(k)
        .and_then(|&i| bufs.get(i))
        .and_then(Option::as_ref)
        .and_then(|b| b.downcast_ref::<Vec<T>>())
        .ok_or(TaskError::WrongType {
            index: k,
            expected: std::any::type_name::<Vec<T>>(),
        })
}

pub(crate) fn typed_mut<T: 'static>(b: &mut Buf) -> Result<&mut Vec<T>, TaskError> {
    b.downcast_mut::<Vec<T>>().ok_or(TaskError::WrongType {
        index: 0,
        expected: std::any::type_name::<Vec<T>>(),
    })
}

/// The two `Op` methods that only depend on the output element type.
macro_rules! output_of {
    ($t:ty) => {
        fn out_type(&self) -> std::any::TypeId {
            std::any::TypeId::of::<$t>()
        }
        fn new_buf(&self, capacity: usize) -> Buf {
            Box::new(Vec::<$t>::with_capacity(capacity))
        }
    };
}
pub(crate) use output_of;

/// `f` applied to each element of one input.
pub(crate) struct Map<A, U, F> {
    pub(crate) f: F,
    pub(crate) label: &'static str,
    pub(crate) _t: PhantomData<fn(A) -> U>,
}

impl<A: Element, U: Element, F: Fn(A) -> U + Send + Sync> Op for Map<A, U, F> {
    output_of!(U);
    fn eval(
        &self,
        bufs: &[Option<Buf>],
        inputs: &[usize],
        _: Option<usize>,
        _: &TileCtx<'_>,
        out: &mut Buf,
    ) -> Result<(), TaskError> {
        let a = input::<A>(bufs, inputs, 0)?;
        let out = typed_mut::<U>(out)?;
        out.clear();
        out.extend(a.iter().map(|&x| (self.f)(x)));
        Ok(())
    }
    fn label(&self) -> &'static str {
        self.label
    }
}

/// `f` applied to pairs of elements of two inputs.
pub(crate) struct Zip<A, B, U, F> {
    pub(crate) f: F,
    pub(crate) label: &'static str,
    pub(crate) _t: PhantomData<fn(A, B) -> U>,
}

impl<A: Element, B: Element, U: Element, F: Fn(A, B) -> U + Send + Sync> Op for Zip<A, B, U, F> {
    output_of!(U);
    fn eval(
        &self,
        bufs: &[Option<Buf>],
        inputs: &[usize],
        _: Option<usize>,
        _: &TileCtx<'_>,
        out: &mut Buf,
    ) -> Result<(), TaskError> {
        let (a, b) = (input::<A>(bufs, inputs, 0)?, input::<B>(bufs, inputs, 1)?);
        let out = typed_mut::<U>(out)?;
        out.clear();
        out.extend(a.iter().zip(b).map(|(&x, &y)| (self.f)(x, y)));
        Ok(())
    }
    fn label(&self) -> &'static str {
        self.label
    }
}

/// `f` applied to triples of elements (`where_`).
pub(crate) struct Zip3<A, B, C, U, F> {
    pub(crate) f: F,
    pub(crate) label: &'static str,
    pub(crate) _t: PhantomData<fn(A, B, C) -> U>,
}

impl<A, B, C, U, F> Op for Zip3<A, B, C, U, F>
where
    A: Element,
    B: Element,
    C: Element,
    U: Element,
    F: Fn(A, B, C) -> U + Send + Sync,
{
    output_of!(U);
    fn eval(
        &self,
        bufs: &[Option<Buf>],
        inputs: &[usize],
        _: Option<usize>,
        _: &TileCtx<'_>,
        out: &mut Buf,
    ) -> Result<(), TaskError> {
        let (a, b, c) = (
            input::<A>(bufs, inputs, 0)?,
            input::<B>(bufs, inputs, 1)?,
            input::<C>(bufs, inputs, 2)?,
        );
        let out = typed_mut::<U>(out)?;
        out.clear();
        out.extend(
            a.iter()
                .zip(b)
                .zip(c)
                .map(|((&x, &y), &z)| (self.f)(x, y, z)),
        );
        Ok(())
    }
    fn label(&self) -> &'static str {
        self.label
    }
}

/// Values computed from each element's global index (creation functions:
/// `full`, `arange`, `linspace`, grids). `f` gets the multi-index.
pub(crate) struct Generate<T, F> {
    pub(crate) f: F,
    pub(crate) label: &'static str,
    pub(crate) _t: PhantomData<fn() -> T>,
}

impl<T: Element, F: Fn(&[usize]) -> T + Send + Sync> Op for Generate<T, F> {
    output_of!(T);
    fn eval(
        &self,
        _: &[Option<Buf>],
        _: &[usize],
        _: Option<usize>,
        ctx: &TileCtx<'_>,
        out: &mut Buf,
    ) -> Result<(), TaskError> {
        let out = typed_mut::<T>(out)?;
        out.clear();
        let nd = ctx.block_shape.len();
        // Global multi-index of the tile's first element, then an odometer.
        let mut local = vec![0usize; nd];
        let mut rem = ctx.start;
        for k in (0..nd).rev() {
            let n = ctx.block_shape[k].max(1);
            local[k] = rem % n;
            rem /= n;
        }
        let mut global: Vec<usize> = local
            .iter()
            .zip(ctx.block_offset)
            .map(|(l, o)| l + o)
            .collect();
        for _ in 0..ctx.len {
            out.push((self.f)(&global));
            for k in (0..nd).rev() {
                local[k] += 1;
                global[k] += 1;
                if local[k] < ctx.block_shape[k] {
                    break;
                }
                global[k] -= local[k];
                local[k] = 0;
            }
        }
        Ok(())
    }
    fn label(&self) -> &'static str {
        self.label
    }
}

/// A constant (a scalar operand of `where_`, `full`).
pub(crate) struct Fill<T>(pub(crate) T);

impl<T: Element> Op for Fill<T> {
    output_of!(T);
    fn eval(
        &self,
        _: &[Option<Buf>],
        _: &[usize],
        _: Option<usize>,
        ctx: &TileCtx<'_>,
        out: &mut Buf,
    ) -> Result<(), TaskError> {
        let out = typed_mut::<T>(out)?;
        out.clear();
        out.resize(ctx.len, self.0);
        Ok(())
    }
    fn label(&self) -> &'static str {
        "full"
    }
}
