//! Compiled elementwise kernels: NumPy-style code over [`Lanes`], compiled
//! by rustc into one loop per block (Numba's `@vectorize`, done by the Rust
//! compiler).
//!
//! Operators on [`Array`] build a fused expression at run time and evaluate
//! it with the tile interpreter: one pass over a cache-sized tile per
//! operation. [`vectorize`] takes the same code written over `Lanes` values
//! instead: the closure is an ordinary Rust function, monomorphised into the
//! block's loop, so a chain of twenty iterations of `z * z + c` with
//! `where_`s runs with every intermediate in registers — no tile, buffer or
//! call per operation. Its inputs are aligned and broadcast like any
//! elementwise operation's, and it fuses with the interpreter's operations
//! around it (its inputs may be pending expressions, its result feeds
//! further operations and reductions in the same task).
//!
//! ```
//! use dagwood_collections::array::kernel::{vectorize, where_, Lanes};
//! use dagwood_collections::array::{Array, Complex64};
//!
//! // The seed notebook's Mandelbrot, as one compiled loop.
//! let x = Array::<f64>::linspace(-1.5, 0.0, 60, 60).unwrap().to_complex();
//! let y = Array::from_fn(&[40, 1], &[10, 1], |i| Complex64::new(0.0, -1.0 + i[0] as f64 / 39.0)).unwrap();
//! let counts = vectorize((&x, &y), |(x, y)| {
//!     let c = x + y;
//!     let (mut z, mut out) = (c, Lanes::splat(0i32));
//!     for it in 0..20 {
//!         z = z * z + c;
//!         let diverged = z.norm_sqr().greater(4.0);
//!         out = where_(diverged & out.equal(0), it, out);
//!         z = where_(diverged, Complex64::new(2.0, 0.0), z);
//!     }
//!     out
//! })
//! .unwrap();
//! assert_eq!(counts.shape(), &[40, 60]);
//! assert_eq!(counts.compute().unwrap()[[0, 0]], 1);
//! ```

mod lanes;

use std::marker::PhantomData;
use std::sync::Arc;

use dagwood_runtime::TaskError;

pub use lanes::{where_, ComplexLanes, LaneElement, Lanes, LANES};

use super::blockwise::expr::{input, output_of, typed_mut, Buf, Expr, Op, TileCtx};
use super::elementwise::{plan_output, Aligned};
use super::{Array, Chunks, Operand, Result};

/// The arrays a kernel reads: one `&Array<A>`, or a tuple of up to four
/// arrays of any element types. `Lanes` is what the kernel's closure gets.
pub trait KernelArgs {
    /// The closure's argument: `Lanes<A>`, or a tuple of lanes.
    type Lanes;
    /// The output's shape and chunks and the kernel's node over the inputs.
    #[doc(hidden)]
    fn build<U, F>(&self, f: F) -> Result<(Vec<usize>, Chunks, KernelNode)>
    where
        U: LaneElement,
        F: Fn(Self::Lanes) -> Lanes<U> + Send + Sync + 'static;
}

/// A kernel's node in a fused expression (opaque).
#[doc(hidden)]
pub struct KernelNode(Arc<Expr>);

/// Marker of a single input of type `A`.
struct One<A>(PhantomData<fn() -> A>);

/// The kernel as an operation of the fused expression.
struct Kernel<Types, U, F> {
    f: F,
    _t: PhantomData<fn(Types) -> U>,
}

/// Applies `f` to the arrays `args` lane by lane: `f` is ordinary Rust code
/// over [`Lanes`] (operators, NumPy-named methods, [`where_`], loops), and
/// what runs per block is one loop of `f` compiled and inlined, with no
/// intermediate tile per operation. The arrays broadcast against each other
/// like the operands of `+` (NumPy's rules); the result is chunked like
/// them.
///
/// `f` sees [`LANES`] consecutive elements of the block at a time; the last
/// group of a tile may repeat its last element to fill the lanes (those
/// lanes' results are dropped), so `f` must not depend on the lane
/// position. Scalars are captured by the closure.
///
/// ```
/// use dagwood_collections::array::kernel::{vectorize, where_};
/// use dagwood_collections::array::Array;
/// let x = Array::<f64>::arange(-3.0, 3.0, 1.0, 4).unwrap();
/// let row = Array::<f64>::ones(&[2, 1], &[1, 1]).unwrap();     // broadcast to (2, 6)
/// let y = vectorize((&x, &row), |(x, r)| where_(x.greater(0.0), x * r, 0.0)).unwrap();
/// assert_eq!(y.shape(), &[2, 6]);
/// let v = y.compute().unwrap();
/// assert_eq!(v.as_slice().unwrap()[6..], [0.0, 0.0, 0.0, 0.0, 1.0, 2.0]);
/// let bad = Array::<f64>::ones(&[5], &[5]).unwrap();
/// assert!(vectorize((&x, &bad), |(a, b)| a + b).is_err());     // 6 vs 5: no broadcast
/// ```
pub fn vectorize<A, U, F>(args: A, f: F) -> Result<Array<U>>
where
    A: KernelArgs,
    U: LaneElement,
    F: Fn(A::Lanes) -> Lanes<U> + Send + Sync + 'static,
{
    let (shape, chunks, node) = args.build(f)?;
    Ok(Array::from_expr(&shape, chunks, node.0))
}

/// Plans the output of `ops` and puts the kernel `op` over them.
fn plan(
    ops: &[&dyn Aligned],
    exprs: impl FnOnce(&[usize], &Chunks) -> Result<Vec<Arc<Expr>>>,
    op: impl Op + 'static,
) -> Result<(Vec<usize>, Chunks, KernelNode)> {
    let (shape, chunks) = plan_output("vectorize", ops)?;
    let inputs = exprs(&shape, &chunks)?;
    Ok((shape, chunks, KernelNode(Expr::new(op, inputs))))
}

impl<A: LaneElement> KernelArgs for &Array<A> {
    type Lanes = Lanes<A>;
    fn build<U, F>(&self, f: F) -> Result<(Vec<usize>, Chunks, KernelNode)>
    where
        U: LaneElement,
        F: Fn(Lanes<A>) -> Lanes<U> + Send + Sync + 'static,
    {
        let op = Operand::from(*self);
        plan(
            &[&op],
            |shape, chunks| Ok(vec![self.aligned(shape, chunks)?]),
            Kernel::<One<A>, U, F> { f, _t: PhantomData },
        )
    }
}

impl<A: LaneElement, U: LaneElement, F> Op for Kernel<One<A>, U, F>
where
    F: Fn(Lanes<A>) -> Lanes<U> + Send + Sync,
{
    output_of!(U);
    fn eval(
        &self,
        bufs: &[Option<Buf>],
        inputs: &[usize],
        _: Option<usize>,
        ctx: &TileCtx<'_>,
        out: &mut Buf,
    ) -> std::result::Result<(), TaskError> {
        let a = tile::<A>(bufs, inputs, 0, ctx.len)?;
        let out = out_tile::<U>(out, ctx.len)?;
        let (ac, at) = a.as_chunks::<LANES>();
        let (oc, ot) = out.as_chunks_mut::<LANES>();
        for (a, o) in ac.iter().zip(oc) {
            (self.f)(Lanes::load(a)).store(o);
        }
        if !ot.is_empty() {
            let r = (self.f)(Lanes::load_partial(at));
            r.store_partial(ot);
        }
        Ok(())
    }
    fn label(&self) -> &'static str {
        "vectorize"
    }
}

/// `KernelArgs` and the compiled loop for a tuple of `n` arrays.
macro_rules! tuple_kernel {
    ($(($A:ident, $a:ident, $at:ident, $k:tt)),*) => {
        impl<'x, $($A: LaneElement),*> KernelArgs for ($(&'x Array<$A>,)*) {
            type Lanes = ($(Lanes<$A>,)*);
            fn build<U, F>(&self, f: F) -> Result<(Vec<usize>, Chunks, KernelNode)>
            where
                U: LaneElement,
                F: Fn(Self::Lanes) -> Lanes<U> + Send + Sync + 'static,
            {
                let ops = ($(Operand::from(self.$k),)*);
                plan(
                    &[$(&ops.$k),*],
                    |shape, chunks| Ok(vec![$(self.$k.aligned(shape, chunks)?),*]),
                    Kernel::<($($A,)*), U, F> {
                        f,
                        _t: PhantomData,
                    },
                )
            }
        }

        impl<$($A: LaneElement,)* U: LaneElement, F> Op for Kernel<($($A,)*), U, F>
        where
            F: Fn(($(Lanes<$A>,)*)) -> Lanes<U> + Send + Sync,
        {
            output_of!(U);
            fn eval(
                &self,
                bufs: &[Option<Buf>],
                inputs: &[usize],
                _: Option<usize>,
                ctx: &TileCtx<'_>,
                out: &mut Buf,
            ) -> std::result::Result<(), TaskError> {
                $(let $a = tile::<$A>(bufs, inputs, $k, ctx.len)?;)*
                let out = out_tile::<U>(out, ctx.len)?;
                $(let ($a, $at) = $a.as_chunks::<LANES>();)*
                let (oc, ot) = out.as_chunks_mut::<LANES>();
                for (g, o) in oc.iter_mut().enumerate() {
                    (self.f)(($(Lanes::load(&$a[g]),)*)).store(o);
                }
                if !ot.is_empty() {
                    (self.f)(($(Lanes::load_partial($at),)*)).store_partial(ot);
                }
                Ok(())
            }
            fn label(&self) -> &'static str {
                "vectorize"
            }
        }
    };
}

tuple_kernel!((A, a, at, 0));
tuple_kernel!((A, a, at, 0), (B, b, bt, 1));
tuple_kernel!((A, a, at, 0), (B, b, bt, 1), (C, c, ct, 2));
tuple_kernel!((A, a, at, 0), (B, b, bt, 1), (C, c, ct, 2), (D, d, dt, 3));

/// Input `k`'s tile, which must hold the tile's `len` elements.
#[inline]
fn tile<'b, T: 'static>(
    bufs: &'b [Option<Buf>],
    inputs: &[usize],
    k: usize,
    len: usize,
) -> std::result::Result<&'b [T], TaskError> {
    input::<T>(bufs, inputs, k)?
        .get(..len)
        .ok_or_else(|| TaskError::failed("vectorize: an input tile is too short"))
}

/// The output tile, `len` elements long.
#[inline]
fn out_tile<U: LaneElement>(out: &mut Buf, len: usize) -> std::result::Result<&mut [U], TaskError> {
    let out = typed_mut::<U>(out)?;
    out.clear();
    out.resize(len, U::default());
    Ok(out.as_mut_slice())
}
