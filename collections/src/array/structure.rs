//! Structural operations: transposing, slicing, concatenating and stacking.
//!
//! Each works on the block grid: transposing and slicing make one task per
//! output block from the single source block it needs; concatenating reuses
//! the inputs' blocks as they are; stacking adds an axis to each block.

use dagwood_runtime::{Delayed, TaskBuilder, TaskError};
use ndarray::{ArrayD, Axis, SliceInfoElem};

use super::{block_key, layer_name, Array, ArrayError, Chunks, Element, Result};

/// Fails the task (instead of letting ndarray panic) when a block made by
/// user code through `from_blocks` has another shape than its chunks say.
fn expect_shape<T>(
    op: &str,
    block: &ArrayD<T>,
    want: &[usize],
) -> std::result::Result<(), TaskError> {
    if block.shape() == want {
        Ok(())
    } else {
        Err(TaskError::failed(format!(
            "{op}: input block has shape {:?}, its chunks say {want:?}",
            block.shape()
        )))
    }
}

/// A slice as it was written, for error messages: `s![2..10;3, ..]`.
fn describe(info: &[SliceInfoElem]) -> String {
    let items: Vec<String> = info.iter().map(ToString::to_string).collect();
    format!("s![{}]", items.join(", "))
}

/// `index` counted from the back when negative, or `None` when it falls
/// before the start (never overflows, unlike a plain `len - |index|`).
fn from_back(index: isize, len: usize) -> Option<usize> {
    if index < 0 {
        len.checked_sub(index.unsigned_abs())
    } else {
        Some(index.unsigned_abs())
    }
}

/// The source block along one axis containing element `pos` (`pos < len`),
/// and that block's offset. Zero-length chunks are never chosen.
fn locate(offsets: &[usize], pos: usize) -> (usize, usize) {
    let b = offsets.partition_point(|&o| o <= pos).saturating_sub(1);
    (b, offsets[b])
}

/// Start offset of each chunk along one axis.
fn offsets(sizes: &[usize]) -> Vec<usize> {
    sizes
        .iter()
        .scan(0, |acc, &n| {
            let o = *acc;
            *acc += n;
            Some(o)
        })
        .collect()
}

/// One output chunk of a sliced axis: the source block it comes from and the
/// slice of that block that makes it.
#[derive(Clone, Copy)]
struct Piece {
    block: usize,
    local: SliceInfoElem,
    len: usize,
    /// The piece is the whole block in order, so the block can be reused as is.
    whole: bool,
}

/// What one element of a slice does, once checked against the shape.
enum AxisPlan {
    /// A range along a source axis, cut into pieces by the source chunks.
    Range(Vec<Piece>),
    /// An integer index: the source block holding it and the index inside it.
    Index(usize, isize),
    /// A new axis of length 1.
    NewAxis,
}

/// Splits the selection `start..end` by `step` (ndarray's meaning: a negative
/// step walks the range backwards from `end - 1`) at the source chunk
/// boundaries of an axis; `start <= len` and `end <= len`.
fn plan_range(sizes: &[usize], start: usize, end: usize, step: isize) -> Vec<Piece> {
    let end = end.max(start);
    let abs = step.unsigned_abs();
    let n = (end - start).div_ceil(abs);
    if n == 0 {
        // An empty axis still has one (empty) chunk; any block can make it.
        let whole = sizes.first() == Some(&0);
        return vec![Piece {
            block: 0,
            local: SliceInfoElem::Slice {
                start: 0,
                end: Some(0),
                step: 1,
            },
            len: 0,
            whole,
        }];
    }
    let offs = offsets(sizes);
    let first = if step > 0 { start } else { end - 1 };
    let mut pieces = Vec::new();
    let mut j = 0;
    while j < n {
        // `j * abs < end - start` for every `j < n`, so none of this overflows.
        let pos = if step > 0 {
            first + j * abs
        } else {
            first - j * abs
        };
        let (block, off) = locate(&offs, pos);
        let size = sizes[block];
        let left = if step > 0 {
            (off + size - 1 - pos) / abs
        } else {
            (pos - off) / abs
        };
        let count = (left + 1).min(n - j);
        let at = pos - off;
        let local = if count == 1 {
            // A step no longer matters; keeping it out avoids ndarray's stride arithmetic on huge steps.
            SliceInfoElem::Slice {
                start: at as isize,
                end: Some(at as isize + 1),
                step: 1,
            }
        } else if step > 0 {
            SliceInfoElem::Slice {
                start: at as isize,
                end: Some((at + (count - 1) * abs + 1) as isize),
                step,
            }
        } else {
            SliceInfoElem::Slice {
                start: (at - (count - 1) * abs) as isize,
                end: Some(at as isize + 1),
                step,
            }
        };
        pieces.push(Piece {
            block,
            local,
            len: count,
            // A single element reads the same in either direction.
            whole: count == size && (step == 1 || count == 1),
        });
        j += count;
    }
    pieces
}

impl<T: Element> Array<T> {
    /// The transpose: axes in reverse order (ndarray's `t`). A 0- or
    /// 1-dimensional array is returned as it is. Like the operators, it
    /// cannot fail: an error deferred in this array stays deferred in the result.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// use ndarray::{ArrayD, IxDyn};
    /// let a = ArrayD::from_shape_fn(IxDyn(&[3, 5]), |i| (i[0] * 5 + i[1]) as i64);
    /// let x = Array::from_array(&a, &[2, 2]).unwrap();
    /// let y = x.t();
    /// assert_eq!(y.shape(), &[5, 3]);
    /// assert_eq!(y.chunks().sizes(0), &[2, 2, 1]);
    /// assert_eq!(y.compute().unwrap(), a.t());
    /// ```
    pub fn t(&self) -> Array<T> {
        let axes: Vec<usize> = (0..self.ndim()).rev().collect();
        match self.permuted_axes(&axes) {
            Ok(a) => a,
            // Only a deferred operator error gets here; keep it deferred.
            Err(e) => {
                let shape: Vec<usize> = self.shape().iter().rev().copied().collect();
                let chunks = Chunks::from_axes(self.chunks().all().iter().rev().cloned().collect());
                Array::failed(&shape, chunks, e)
            }
        }
    }

    /// The array with its axes reordered: axis `k` of the result is axis
    /// `axes[k]` of this array (ndarray's `permuted_axes`). The block grid and
    /// chunks are permuted the same way; each block is transposed by a task.
    ///
    /// `axes` must list every axis exactly once.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// let x = Array::from_fn(&[2, 3, 4], &[1, 2, 4], |i| (i[0] * 100 + i[1] * 10 + i[2]) as i32).unwrap();
    /// let y = x.permuted_axes(&[2, 0, 1]).unwrap();
    /// assert_eq!(y.shape(), &[4, 2, 3]);
    /// assert_eq!(y.chunks().all(), &[vec![4], vec![1, 1], vec![2, 1]]);
    /// assert_eq!(y.compute().unwrap()[[3, 1, 2]], 123);
    /// assert!(x.permuted_axes(&[0, 0, 1]).is_err());
    /// ```
    pub fn permuted_axes(&self, axes: &[usize]) -> Result<Array<T>> {
        self.check()?;
        let ndim = self.ndim();
        if axes.len() != ndim {
            return Err(ArrayError::Invalid(format!(
                "permuted_axes({axes:?}): {} axes given for an array of {ndim} dimensions (shape {:?})",
                axes.len(),
                self.shape()
            )));
        }
        let mut seen = vec![false; ndim];
        for &a in axes {
            if a >= ndim {
                return Err(ArrayError::BadAxis {
                    axis: a,
                    ndim,
                    shape: self.shape().to_vec(),
                });
            }
            if std::mem::replace(&mut seen[a], true) {
                return Err(ArrayError::Invalid(format!(
                    "permuted_axes({axes:?}): axis {a} is listed twice (shape {:?})",
                    self.shape()
                )));
            }
        }
        if axes.iter().enumerate().all(|(k, &a)| k == a) {
            return Ok(self.clone());
        }
        let shape: Vec<usize> = axes.iter().map(|&a| self.shape()[a]).collect();
        let chunks = Chunks::from_axes(
            axes.iter()
                .map(|&a| self.chunks().sizes(a).to_vec())
                .collect(),
        );
        let src = self.blocks()?;
        let name = layer_name("transpose");
        let blocks = chunks
            .indices()
            .map(|idx| {
                let mut src_idx = vec![0; ndim];
                for (k, &a) in axes.iter().enumerate() {
                    src_idx[a] = idx[k];
                }
                let want = self.chunks().block_shape(&src_idx);
                let perm = axes.to_vec();
                let mut b = TaskBuilder::new("transpose").key(block_key(&name, &idx));
                let input = b.input(&src[self.chunks().ravel(&src_idx)]);
                b.build(move |args| {
                    let blk = input.get(args)?;
                    expect_shape("transpose", blk, &want)?;
                    // Copy into C order: later tasks read blocks fastest as contiguous slices.
                    Ok(blk
                        .view()
                        .permuted_axes(perm.as_slice())
                        .as_standard_layout()
                        .into_owned())
                })
            })
            .collect();
        Array::from_blocks(&shape, chunks, blocks)
    }

    /// A sub-array selected by ranges, steps and indices per axis, with
    /// ndarray's meaning (accepts the output of ndarray's `s![]` macro):
    ///
    /// - `a..b;step` takes every `step`-th element of `a..b`; a negative step
    ///   takes them from the end of the range backwards (`s![..;-1]` reverses);
    /// - negative `a`, `b` or indices count from the end of the axis;
    /// - an integer index selects one element and drops the axis;
    /// - `NewAxis` inserts an axis of length 1;
    /// - axes left out at the end are taken whole (ndarray would require them).
    ///
    /// Each output block is one task reading the single source block it comes
    /// from; output chunks are the selected parts of the source chunks. A
    /// block taken whole is reused without a task.
    ///
    /// Out-of-range bounds or indices, a zero step, or more indices than axes
    /// are errors naming the slice and the shape.
    ///
    /// ```
    /// use dagwood_collections::array::Array;
    /// use ndarray::{s, ArrayD, IxDyn};
    /// let a = ArrayD::from_shape_fn(IxDyn(&[12, 5]), |i| (i[0] * 5 + i[1]) as i64);
    /// let x = Array::from_array(&a, &[6, 2]).unwrap();     // row blocks 0..6 and 6..12
    /// let y = x.slice(s![2..10;3, ..]).unwrap();
    /// assert_eq!(y.chunks().sizes(0), &[3]);           // rows 2, 5 | 8: small pieces joined
    /// assert_eq!(y.compute().unwrap(), a.slice(s![2..10;3, ..]).into_dyn());
    ///
    /// let z = x.slice(s![-1, ..;-2]).unwrap();          // last row, reversed, every other
    /// assert_eq!(z.compute().unwrap().as_slice().unwrap(), &[59, 57, 55]);
    ///
    /// assert!(x.slice(s![12, ..]).is_err());            // out of range: no panic
    /// ```
    pub fn slice<I: AsRef<[SliceInfoElem]>>(&self, info: I) -> Result<Array<T>> {
        self.check()?;
        let info = info.as_ref();
        let ndim = self.ndim();
        let shape = self.shape();
        let used = info.iter().filter(|e| !e.is_new_axis()).count();
        if used > ndim {
            return Err(ArrayError::Invalid(format!(
                "slice {}: {used} indices for an array of {ndim} dimensions (shape {shape:?})",
                describe(info)
            )));
        }
        let full = SliceInfoElem::Slice {
            start: 0,
            end: None,
            step: 1,
        };
        let elems: Vec<SliceInfoElem> = info
            .iter()
            .copied()
            .chain(std::iter::repeat_n(full, ndim - used))
            .collect();

        let mut plans = Vec::with_capacity(elems.len());
        let mut axis = 0;
        for elem in &elems {
            let out_of_range = |what: String| ArrayError::OutOfRange {
                what: format!("{what} on axis {axis} of slice {}", describe(info)),
                shape: shape.to_vec(),
            };
            match *elem {
                SliceInfoElem::NewAxis => plans.push(AxisPlan::NewAxis),
                SliceInfoElem::Index(i) => {
                    let len = shape[axis];
                    let at = from_back(i, len)
                        .filter(|&at| at < len)
                        .ok_or_else(|| out_of_range(format!("index {i}")))?;
                    let (block, off) = locate(&offsets(self.chunks().sizes(axis)), at);
                    plans.push(AxisPlan::Index(block, (at - off) as isize));
                    axis += 1;
                }
                SliceInfoElem::Slice { start, end, step } => {
                    let len = shape[axis];
                    if step == 0 {
                        return Err(ArrayError::Invalid(format!(
                            "slice {}: step 0 on axis {axis} (shape {shape:?})",
                            describe(info)
                        )));
                    }
                    let s = from_back(start, len)
                        .filter(|&s| s <= len)
                        .ok_or_else(|| out_of_range(format!("start {start}")))?;
                    let e = match end {
                        None => len,
                        Some(end) => from_back(end, len)
                            .filter(|&e| e <= len)
                            .ok_or_else(|| out_of_range(format!("end {end}")))?,
                    };
                    plans.push(AxisPlan::Range(plan_range(
                        self.chunks().sizes(axis),
                        s,
                        e,
                        step,
                    )));
                    axis += 1;
                }
            }
        }

        // Every block taken whole: the array itself, with no tasks and any pending fusion kept.
        let identity = plans.iter().zip(0..).all(|(p, k)| match p {
            // In order too: reversing single-element blocks takes each whole.
            AxisPlan::Range(pieces) => {
                pieces.len() == self.chunks().sizes(k).len()
                    && pieces
                        .iter()
                        .enumerate()
                        .all(|(i, p)| p.whole && p.block == i)
            }
            _ => false,
        });
        if identity {
            return Ok(self.clone());
        }

        let out_axes: Vec<Vec<usize>> = plans
            .iter()
            .filter_map(|p| match p {
                AxisPlan::Range(pieces) => Some(pieces.iter().map(|p| p.len).collect()),
                AxisPlan::NewAxis => Some(vec![1]),
                AxisPlan::Index(..) => None,
            })
            .collect();
        let out_shape: Vec<usize> = out_axes.iter().map(|c| c.iter().sum()).collect();
        let chunks = Chunks::from_axes(out_axes);
        let src = self.blocks()?;
        let name = layer_name("slice");
        let blocks = chunks
            .indices()
            .map(|idx| {
                let mut src_idx = Vec::with_capacity(ndim);
                let mut local = Vec::with_capacity(plans.len());
                let mut whole = true;
                let mut out_k = 0;
                for plan in &plans {
                    match plan {
                        AxisPlan::Range(pieces) => {
                            let p = pieces[idx[out_k]];
                            src_idx.push(p.block);
                            local.push(p.local);
                            whole &= p.whole;
                            out_k += 1;
                        }
                        AxisPlan::Index(block, at) => {
                            src_idx.push(*block);
                            local.push(SliceInfoElem::Index(*at));
                            whole = false;
                        }
                        AxisPlan::NewAxis => {
                            local.push(SliceInfoElem::NewAxis);
                            whole = false;
                            out_k += 1;
                        }
                    }
                }
                let input = &src[self.chunks().ravel(&src_idx)];
                if whole {
                    return input.clone();
                }
                let want = self.chunks().block_shape(&src_idx);
                let mut b = TaskBuilder::new("slice").key(block_key(&name, &idx));
                let slot = b.input(input);
                b.build(move |args| {
                    let blk = slot.get(args)?;
                    // Checked so that the local slice, made from the chunks, cannot panic.
                    expect_shape("slice", blk, &want)?;
                    Ok(blk
                        .slice(local.as_slice())
                        .as_standard_layout()
                        .into_owned())
                })
            })
            .collect();
        let sliced = Array::from_blocks(&out_shape, chunks, blocks)?;
        // A strided slice leaves blocks smaller than the source's: join
        // neighbours up to the source's largest chunk on each sliced axis.
        let mut limit = Vec::with_capacity(plans.len());
        let mut axis = 0;
        for plan in &plans {
            match plan {
                AxisPlan::Range(_) => {
                    limit.push(self.chunks().max_chunk()[axis]);
                    axis += 1;
                }
                AxisPlan::Index(..) => axis += 1,
                AxisPlan::NewAxis => limit.push(1),
            }
        }
        sliced.merge_small_chunks(&limit)
    }
}

/// Lists the shapes of `arrays`, for error messages.
fn shapes_of<T: Element>(arrays: &[&Array<T>]) -> Vec<Vec<usize>> {
    arrays.iter().map(|a| a.shape().to_vec()).collect()
}

/// `a` cut like `like` on every axis except `axis` (where `a` keeps its own
/// chunks); `axis = None` aligns every axis.
fn align_chunks<T: Element>(a: &Array<T>, like: &Chunks, axis: Option<usize>) -> Result<Array<T>> {
    let target = Chunks::from_axes(
        (0..a.ndim())
            .map(|k| {
                if Some(k) == axis {
                    a.chunks().sizes(k).to_vec()
                } else {
                    like.sizes(k).to_vec()
                }
            })
            .collect(),
    );
    a.rechunk_to(&target)
}

/// The arrays joined end to end along an existing `axis` (ndarray's
/// `concatenate`). Their shapes must agree on every other axis.
///
/// The result keeps each input's blocks: its chunks along `axis` are the
/// inputs' chunks in turn, and on the other axes those of the first array
/// (an input cut differently there is rechunked first).
///
/// ```
/// use dagwood_collections::array::{concatenate, Array};
/// let a = Array::<f64>::ones(&[2, 3], &[2, 2]).unwrap();
/// let b = Array::<f64>::zeros(&[3, 3], &[2, 3]).unwrap();
/// let c = concatenate(&[&a, &b], 0).unwrap();
/// assert_eq!(c.shape(), &[5, 3]);
/// assert_eq!(c.chunks().sizes(0), &[2, 2, 1]);
/// assert_eq!(c.chunks().sizes(1), &[2, 1]);
/// let v = c.compute().unwrap();
/// assert_eq!((v[[1, 2]], v[[2, 0]]), (1.0, 0.0));
/// assert!(concatenate(&[&a, &b], 1).is_err());      // 2 rows vs 3 rows
/// ```
pub fn concatenate<T: Element>(arrays: &[&Array<T>], axis: usize) -> Result<Array<T>> {
    let Some(first) = arrays.first() else {
        return Err(ArrayError::Invalid(format!(
            "concatenate along axis {axis}: no arrays given"
        )));
    };
    for a in arrays {
        a.check()?;
    }
    let ndim = first.ndim();
    if axis >= ndim {
        return Err(ArrayError::BadAxis {
            axis,
            ndim,
            shape: first.shape().to_vec(),
        });
    }
    let agrees = |a: &Array<T>| {
        a.ndim() == ndim && (0..ndim).all(|k| k == axis || a.shape()[k] == first.shape()[k])
    };
    if !arrays.iter().all(|a| agrees(a)) {
        return Err(ArrayError::Invalid(format!(
            "shape mismatch in concatenate along axis {axis}: shapes {:?} must agree on every other axis",
            shapes_of(arrays)
        )));
    }
    // Empty inputs add nothing, and their zero-length chunk must not appear among non-empty ones.
    let parts = arrays
        .iter()
        .filter(|a| a.shape()[axis] > 0)
        .map(|a| align_chunks(a, first.chunks(), Some(axis)))
        .collect::<Result<Vec<_>>>()?;
    match parts.len() {
        0 => return Ok((*first).clone()),
        1 => return Ok(parts[0].clone()),
        _ => {}
    }
    // Output block `i` along `axis` is block `lookup[i].1` of part `lookup[i].0`.
    let lookup: Vec<(usize, usize)> = parts
        .iter()
        .enumerate()
        .flat_map(|(p, a)| (0..a.chunks().sizes(axis).len()).map(move |j| (p, j)))
        .collect();
    let sources = parts
        .iter()
        .map(Array::blocks)
        .collect::<Result<Vec<_>>>()?;
    let mut axes = first.chunks().all().to_vec();
    axes[axis] = parts
        .iter()
        .flat_map(|a| a.chunks().sizes(axis).iter().copied())
        .collect();
    let mut shape = first.shape().to_vec();
    shape[axis] = axes[axis].iter().sum();
    let chunks = Chunks::from_axes(axes);
    let blocks: Vec<Delayed<ArrayD<T>>> = chunks
        .indices()
        .map(|mut idx| {
            let (p, j) = lookup[idx[axis]];
            idx[axis] = j;
            sources[p][parts[p].chunks().ravel(&idx)].clone()
        })
        .collect();
    Array::from_blocks(&shape, chunks, blocks)
}

/// The arrays stacked along a new `axis` of length `arrays.len()` (ndarray's
/// `stack`); they must all have the same shape. `axis` may be anything from
/// 0 to the inputs' number of dimensions.
///
/// The new axis has chunks of 1; the other axes are chunked like the first
/// array. Each block gains the new axis in a task.
///
/// ```
/// use dagwood_collections::array::{stack, Array};
/// let a = Array::<i64>::arange(0, 5, 1, 2).unwrap();
/// let b = Array::<i64>::arange(10, 15, 1, 3).unwrap();
/// let s = stack(&[&a, &b], 1).unwrap();
/// assert_eq!(s.shape(), &[5, 2]);
/// assert_eq!(s.chunks().all(), &[vec![2, 2, 1], vec![1, 1]]);
/// assert_eq!(s.compute().unwrap()[[4, 1]], 14);
/// assert!(stack(&[&a, &b], 2).is_err());
/// ```
pub fn stack<T: Element>(arrays: &[&Array<T>], axis: usize) -> Result<Array<T>> {
    let Some(first) = arrays.first() else {
        return Err(ArrayError::Invalid(format!(
            "stack along axis {axis}: no arrays given"
        )));
    };
    for a in arrays {
        a.check()?;
    }
    let ndim = first.ndim();
    if axis > ndim {
        return Err(ArrayError::Invalid(format!(
            "stack along axis {axis}: the result has {} dimensions (inputs of shape {:?})",
            ndim + 1,
            first.shape()
        )));
    }
    if arrays.iter().any(|a| a.shape() != first.shape()) {
        return Err(ArrayError::Invalid(format!(
            "shape mismatch in stack along axis {axis}: shapes {:?} must all be equal",
            shapes_of(arrays)
        )));
    }
    let parts = arrays
        .iter()
        .map(|a| align_chunks(a, first.chunks(), None))
        .collect::<Result<Vec<_>>>()?;
    let sources = parts
        .iter()
        .map(Array::blocks)
        .collect::<Result<Vec<_>>>()?;
    let mut axes = first.chunks().all().to_vec();
    axes.insert(axis, vec![1; arrays.len()]);
    let mut shape = first.shape().to_vec();
    shape.insert(axis, arrays.len());
    let chunks = Chunks::from_axes(axes);
    let name = layer_name("stack");
    let blocks = chunks
        .indices()
        .map(|idx| {
            let mut src_idx = idx.clone();
            let p = src_idx.remove(axis);
            let want = first.chunks().block_shape(&src_idx);
            let mut b = TaskBuilder::new("stack").key(block_key(&name, &idx));
            let input = b.input(&sources[p][first.chunks().ravel(&src_idx)]);
            b.build(move |args| {
                let blk = input.get(args)?;
                expect_shape("stack", blk, &want)?;
                Ok(blk
                    .view()
                    .insert_axis(Axis(axis))
                    .as_standard_layout()
                    .into_owned())
            })
        })
        .collect();
    Array::from_blocks(&shape, chunks, blocks)
}
