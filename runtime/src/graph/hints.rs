//! What a task may declare for backends that run it elsewhere: which part of
//! a partitioned input it reads, and that it reduces partial results.
//!
//! The local schedulers ignore both. A distributed backend (the cluster
//! backend in `dagwood-cluster`) reads them through
//! [`WireGraph`](crate::WireGraph) to move less data between
//! processes:
//!
//! * **Parts.** A shuffle's split task produces one value holding a bucket
//!   for every output partition, and output partition `j` reads only bucket
//!   `j`. Declared with [`TaskBuilder::input_part`](crate::TaskBuilder::input_part),
//!   the backend sends each worker only the parts its tasks read, encoded by
//!   the value's [`Partitioned`] implementation, instead of the whole value.
//! * **Cost.** An estimate of a task's work relative to others
//!   ([`TaskBuilder::cost`](crate::TaskBuilder::cost); 1 when not given), by
//!   which a backend balances its placement: the bytes of a CSV block, the
//!   rows of a Parquet row group.
//! * **Reductions.** A tree of combine tasks (what [`tree_reduce`](crate::tree_reduce)
//!   builds) fixes which partials meet where. Declared with
//!   [`TaskBuilder::combines`](crate::TaskBuilder::combines) and
//!   [`TaskBuilder::reduces`](crate::TaskBuilder::reduces), a backend may
//!   regroup the tree: combine each process's partials there first and send
//!   one partial per process to the root.

use std::any::type_name;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::task::{Value, ValueType};
use crate::TaskError;

/// A value made of numbered parts that different tasks read separately (a
/// shuffle's split result: one bucket per output partition).
///
/// A backend that moves values between processes encodes only the parts a
/// remote task reads ([`encode_part`](Self::encode_part)), and rebuilds a
/// value holding just those parts at the other end
/// ([`decode_parts`](Self::decode_parts)); the reading task must find its
/// part there as it would in the whole value.
///
/// A backend encodes each part at most once, and only a part that no task
/// next to the value reads, so `encode_part` may move the part out of the
/// value (through interior mutability).
///
/// ```
/// use dagwood_runtime::{Partitioned, TaskError};
/// /// Numbers bucketed by remainder; parts absent after decoding are empty.
/// struct Buckets(Vec<Vec<u32>>);
/// impl Partitioned for Buckets {
///     fn encode_part(&self, part: usize, out: &mut Vec<u8>) -> Result<(), TaskError> {
///         let b = self.0.get(part).ok_or_else(|| TaskError::failed("no such part"))?;
///         out.extend(b.iter().flat_map(|v| v.to_le_bytes()));
///         Ok(())
///     }
///     fn decode_parts(parts: Vec<(usize, Vec<u8>)>) -> Result<Self, TaskError> {
///         let n = parts.iter().map(|(p, _)| p + 1).max().unwrap_or(0);
///         let mut out = vec![Vec::new(); n];
///         for (p, bytes) in parts {
///             out[p] = bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
///         }
///         Ok(Buckets(out))
///     }
/// }
/// let mut bytes = Vec::new();
/// Buckets(vec![vec![2, 4], vec![1, 3]]).encode_part(1, &mut bytes).unwrap();
/// assert_eq!(Buckets::decode_parts(vec![(1, bytes)]).unwrap().0, vec![vec![], vec![1, 3]]);
/// ```
pub trait Partitioned: Send + Sync + Sized + 'static {
    /// Appends the encoding of part `part` to `out`.
    fn encode_part(&self, part: usize, out: &mut Vec<u8>) -> Result<(), TaskError>;

    /// A value holding the given parts (by number, each as
    /// [`encode_part`](Self::encode_part) wrote it) and no others.
    fn decode_parts(parts: Vec<(usize, Vec<u8>)>) -> Result<Self, TaskError>;
}

/// Encoded parts by part number, as [`Partitioned::decode_parts`] takes them.
type EncodedParts = Vec<(usize, Vec<u8>)>;

/// The type-erased [`Partitioned`] implementation of a value type, as a
/// backend finds it in [`WireGraph::part_codec`](crate::WireGraph::part_codec).
#[derive(Clone, Copy)]
pub struct PartCodec {
    encode: fn(&Value, usize, &mut Vec<u8>) -> Result<(), TaskError>,
    decode: fn(EncodedParts) -> Result<Value, TaskError>,
    ty: fn() -> ValueType,
}

impl PartCodec {
    pub(crate) fn of<T: Partitioned>() -> PartCodec {
        fn encode<T: Partitioned>(
            v: &Value,
            part: usize,
            out: &mut Vec<u8>,
        ) -> Result<(), TaskError> {
            let v = v
                .downcast_ref::<T>()
                .ok_or_else(|| TaskError::failed(format!("value is not a {}", type_name::<T>())))?;
            v.encode_part(part, out)
        }
        fn decode<T: Partitioned>(parts: Vec<(usize, Vec<u8>)>) -> Result<Value, TaskError> {
            T::decode_parts(parts).map(|v| Arc::new(v) as Value)
        }
        PartCodec {
            encode: encode::<T>,
            decode: decode::<T>,
            ty: ValueType::of::<T>,
        }
    }

    /// Encodes part `part` of `value` (see [`Partitioned::encode_part`]).
    pub fn encode(&self, value: &Value, part: usize, out: &mut Vec<u8>) -> Result<(), TaskError> {
        (self.encode)(value, part, out)
    }

    /// Rebuilds a value holding the given parts.
    pub fn decode(&self, parts: Vec<(usize, Vec<u8>)>) -> Result<Value, TaskError> {
        (self.decode)(parts)
    }

    /// The type whose parts these are.
    pub fn value_type(&self) -> ValueType {
        (self.ty)()
    }
}

/// A function of a list of task values (partials) to one value.
type ValuesFn = dyn Fn(Vec<Value>) -> Result<Value, TaskError> + Send + Sync;

/// How partial results of type `P` combine: an associative function of a
/// list of partials (in order) to one partial. Shared by every task of one
/// reduction tree, which is how a backend tells the trees apart.
///
/// ```
/// use dagwood_runtime::{delayed, Combiner, Key, TaskBuilder};
/// let add = Combiner::new(|xs: Vec<i64>| Ok(xs.into_iter().sum()));
/// let parts: Vec<_> = (1..=4_i64).map(delayed).collect();
/// // A root over two inner combines; the root finishes with a doubling.
/// let inner: Vec<_> = parts
///     .chunks(2)
///     .map(|pair| {
///         let mut b = TaskBuilder::new("add").combines(&add);
///         let slots = b.args(pair.iter().cloned());
///         b.build(move |args| slots.iter().map(|s| s.take(args)).sum::<Result<i64, _>>())
///     })
///     .collect();
/// let mut b = TaskBuilder::new("total").reduces(&add, |xs: Vec<i64>| Ok(2 * xs.into_iter().sum::<i64>()));
/// let slots = b.args(inner);
/// let total = b.build(move |args| Ok(2 * slots.iter().map(|s| s.take(args)).sum::<Result<i64, _>>()?));
/// assert_eq!(total.compute().unwrap(), 20);
/// ```
pub struct Combiner<P> {
    f: Arc<ValuesFn>,
    _p: PhantomData<fn() -> P>,
}

impl<P> Clone for Combiner<P> {
    fn clone(&self) -> Self {
        Combiner {
            f: self.f.clone(),
            _p: PhantomData,
        }
    }
}

impl<P: Clone + Send + Sync + 'static> Combiner<P> {
    /// The combiner whose function is `f`. It must be associative over
    /// consecutive runs of partials: `f([f(xs[..k]), f(xs[k..])])` is
    /// `f(xs)` (up to floating-point rounding) for every split `k`.
    pub fn new(f: impl Fn(Vec<P>) -> Result<P, TaskError> + Send + Sync + 'static) -> Combiner<P> {
        Combiner {
            f: values_fn(f),
            _p: PhantomData,
        }
    }
}

/// `f` over type-erased values: each value is moved out of its `Arc` when
/// nothing else holds it, cloned otherwise.
fn values_fn<P, R>(
    f: impl Fn(Vec<P>) -> Result<R, TaskError> + Send + Sync + 'static,
) -> Arc<ValuesFn>
where
    P: Clone + Send + Sync + 'static,
    R: Send + Sync + 'static,
{
    Arc::new(move |values: Vec<Value>| {
        let mut xs = Vec::with_capacity(values.len());
        for (index, v) in values.into_iter().enumerate() {
            let v = v.downcast::<P>().map_err(|_| TaskError::WrongType {
                index,
                expected: type_name::<P>(),
            })?;
            xs.push(Arc::try_unwrap(v).unwrap_or_else(|shared| (*shared).clone()));
        }
        f(xs).map(|r| Arc::new(r) as Value)
    })
}

/// A task's part in a reduction tree: the tree's combine function, and
/// what the task makes of a list of partials (its own function over its
/// inputs, restated over any number of them).
#[derive(Clone)]
pub struct Reduction {
    combine: Arc<ValuesFn>,
    finish: Arc<ValuesFn>,
}

impl Reduction {
    pub(crate) fn inner<P: Clone + Send + Sync + 'static>(c: &Combiner<P>) -> Reduction {
        Reduction {
            combine: c.f.clone(),
            finish: c.f.clone(),
        }
    }

    pub(crate) fn root<P, R>(
        c: &Combiner<P>,
        finish: impl Fn(Vec<P>) -> Result<R, TaskError> + Send + Sync + 'static,
    ) -> Reduction
    where
        P: Clone + Send + Sync + 'static,
        R: Send + Sync + 'static,
    {
        Reduction {
            combine: c.f.clone(),
            finish: values_fn(finish),
        }
    }

    /// Combines partials into one partial (the tree's combine function).
    pub fn combine(&self, partials: Vec<Value>) -> Result<Value, TaskError> {
        (self.combine)(partials)
    }

    /// What the task computes from partials: its value, had its inputs been
    /// `partials`.
    pub fn finish(&self, partials: Vec<Value>) -> Result<Value, TaskError> {
        (self.finish)(partials)
    }

    /// True when both tasks belong to the same tree (share a combiner).
    pub fn same_tree(&self, other: &Reduction) -> bool {
        Arc::ptr_eq(&self.combine, &other.combine)
    }
}

/// A task's declarations for distributed backends (absent for most tasks).
#[derive(Clone, Default)]
pub(crate) struct Hints {
    /// Per input, in argument order: the part of that input the task reads
    /// and the codec of its parts (`None`: the whole value). Empty when the
    /// task reads only whole values.
    pub(crate) parts: Box<[Option<(u32, PartCodec)>]>,
    pub(crate) reduction: Option<Reduction>,
    /// Estimated work relative to other tasks (`None`: 1).
    pub(crate) cost: Option<u64>,
}
