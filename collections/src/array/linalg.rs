//! Linear algebra on tall-and-skinny arrays (Dask's `dask.array.linalg`):
//! [`tsqr`] (a QR factorisation by a tree of small QRs) and [`svd`] built on it.
//!
//! Both need an `f64` array of two dimensions cut along its rows only (one
//! column chunk) with every row block at least as tall as the array is wide.
//! Each row block is factored by its own task; the small `R` factors are
//! stacked and factored again in a tree of fan-in 8 until one `R` remains, and
//! the orthonormal factor is put back together by one task per row block. No
//! task ever holds more than one row block of the input.
//!
//! ```
//! use dagwood_collections::array::{linalg, Array};
//!
//! // 1000 × 4 in 10 row blocks of 100.
//! let a = Array::from_fn(&[1000, 4], &[100, 4], |i| ((i[0] * 7 + i[1] * i[1]) % 11) as f64).unwrap();
//! let (q, r) = linalg::tsqr(&a).unwrap();
//! assert_eq!(q.chunks(), a.chunks());
//! assert_eq!(r.shape(), &[4, 4]);
//! let qr = q.dot(&r).unwrap().compute().unwrap();
//! let dense = a.compute().unwrap();
//! assert!(qr.iter().zip(dense.iter()).all(|(x, y)| (x - y).abs() < 1e-9));
//! ```

use std::sync::Arc;

use dagwood_runtime::{Delayed, Key, TaskBuilder, TaskError};
use nalgebra::{DMatrix, SVD};
use ndarray::{s, Array1, Array2, ArrayD, ArrayView2, Axis, Ix2};

use super::{layer_name, Array, ArrayError, Chunks, Result};

/// Small `R` factors stacked and re-factored per task of the tree: a few
/// levels cover thousands of row blocks while each task stays small
/// (8·n × n).
const FAN_IN: usize = 8;

type TaskResult<T> = std::result::Result<T, TaskError>;

/// A thin QR factorisation: `q` (rows × n) has orthonormal columns and `r`
/// (n × n) is upper triangular with a non-negative diagonal.
struct Qr {
    q: Array2<f64>,
    r: Array2<f64>,
}

/// A small SVD, singular values descending, signs normalised (see [`svd`]).
struct SmallSvd {
    u: Array2<f64>,
    s: Array1<f64>,
    vt: Array2<f64>,
}

fn to_dmatrix(a: ArrayView2<f64>) -> DMatrix<f64> {
    // `iter` walks in logical row-major order whatever the memory layout.
    DMatrix::from_row_iterator(a.nrows(), a.ncols(), a.iter().copied())
}

fn to_array(m: &DMatrix<f64>) -> Array2<f64> {
    Array2::from_shape_fn(m.shape(), |(i, j)| m[(i, j)])
}

/// Thin QR of a matrix with at least as many rows as columns.
fn qr(a: ArrayView2<f64>) -> Qr {
    let f = to_dmatrix(a).qr();
    let (mut q, mut r) = (to_array(&f.q()), to_array(&f.r()));
    // Householder QR leaves the signs of R's diagonal arbitrary; making them
    // non-negative makes R unique (for full rank), so the tree's R equals a
    // dense QR's and the levels agree with each other.
    for k in 0..r.nrows().min(r.ncols()) {
        if r[[k, k]] < 0.0 {
            r.row_mut(k).mapv_inplace(|v| -v);
            q.column_mut(k).mapv_inplace(|v| -v);
        }
    }
    Qr { q, r }
}

/// SVD of the small `R`, sorted and sign-normalised.
fn small_svd(r: &Array2<f64>) -> TaskResult<SmallSvd> {
    if r.iter().any(|v| !v.is_finite()) {
        return Err(TaskError::failed(
            "svd: the matrix has NaN or infinite entries (its R factor is not finite)",
        ));
    }
    let n = r.nrows();
    // A cap, so input that defeats convergence fails instead of spinning;
    // implicit-shift SVD needs a small multiple of n iterations in practice.
    let max_iter = 1000 + 100 * n;
    let f = SVD::try_new_unordered(
        to_dmatrix(r.view()),
        true,
        true,
        f64::EPSILON * 5.0,
        max_iter,
    )
    .ok_or_else(|| {
        TaskError::failed(format!(
            "svd: the SVD of the {n}×{n} R factor did not converge"
        ))
    })?;
    let (Some(u), Some(vt)) = (f.u, f.v_t) else {
        return Err(TaskError::failed("svd: singular vectors were not computed"));
    };
    let sv = f.singular_values;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| sv[b].total_cmp(&sv[a]));
    let mut out = SmallSvd {
        u: Array2::zeros((n, n)),
        s: Array1::zeros(n),
        vt: Array2::zeros((n, n)),
    };
    for (k, &src) in order.iter().enumerate() {
        // Each singular pair is only defined up to a joint sign flip; pick the
        // one whose right vector has its largest entry (first, on ties) positive.
        let mut big = (0.0f64, 1.0f64);
        for j in 0..n {
            let v = vt[(src, j)];
            if v.abs() > big.0 {
                big = (v.abs(), v.signum());
            }
        }
        let sign = big.1;
        out.s[k] = sv[src];
        for j in 0..n {
            out.vt[[k, j]] = sign * vt[(src, j)];
            out.u[[j, k]] = sign * u[(j, src)];
        }
    }
    Ok(out)
}

/// A chunk list for an error message, cut short when long.
fn summarize(sizes: &[usize]) -> String {
    if sizes.len() <= 12 {
        format!("{sizes:?}")
    } else {
        format!("{:?} … ({} chunks)", &sizes[..12], sizes.len())
    }
}

/// How to rechunk `m` rows into blocks of at least `n` rows, keeping blocks
/// about as large as the current largest (`widest`).
fn row_advice(m: usize, n: usize, widest: usize) -> String {
    // n <= widest <= m, so there is at least one whole block of `c`.
    let c = n.max(widest).min(m);
    let (whole, tail) = (m / c, m % c);
    if tail == 0 || tail >= n {
        return format!("e.g. `a.rechunk(&[{c}, 0])`");
    }
    // A regular chunking would leave a tail shorter than n: join it to the last block.
    let rows = if whole <= 12 {
        let mut v = vec![c; whole - 1];
        v.push(c + tail);
        format!("{v:?}")
    } else {
        format!("{} blocks of {c} then one of {}", whole - 1, c + tail)
    };
    format!(
        "e.g. `a.rechunk_to(&Chunks::from_sizes(&[{m}, {n}], vec![rows, vec![{n}]])?)` with rows = {rows}"
    )
}

/// Checks TSQR's requirements, naming the shape and chunks when one fails.
fn check_tall(op: &str, a: &Array<f64>) -> Result<()> {
    a.check()?;
    let shape = a.shape();
    if a.ndim() != 2 {
        return Err(ArrayError::Invalid(format!(
            "{op} needs a 2-D array, got shape {shape:?}"
        )));
    }
    let (m, n) = (shape[0], shape[1]);
    if m == 0 || n == 0 {
        return Err(ArrayError::Invalid(format!(
            "{op} needs a non-empty matrix, got shape {shape:?}"
        )));
    }
    if m < n {
        return Err(ArrayError::Invalid(format!(
            "{op} needs a tall-and-skinny matrix (at least as many rows as columns), got shape {shape:?}"
        )));
    }
    let cols = a.chunks().sizes(1);
    if cols.len() != 1 {
        return Err(ArrayError::BadChunks {
            shape: shape.to_vec(),
            reason: format!(
                "{op} needs a single column chunk, got column chunks {}; \
                 rechunk with `a.rechunk(&[row_chunk, 0])` (0 = the whole axis)",
                summarize(cols)
            ),
        });
    }
    let rows = a.chunks().sizes(0);
    if let Some((i, &r)) = rows.iter().enumerate().find(|&(_, &r)| r < n) {
        let widest = rows.iter().copied().max().unwrap_or(n);
        return Err(ArrayError::BadChunks {
            shape: shape.to_vec(),
            reason: format!(
                "{op} needs every row block to have at least {n} rows (the number of columns), \
                 but row block {i} has {r} (row chunks {}); rechunk the rows so that none is shorter, {}",
                summarize(rows),
                row_advice(m, n, widest)
            ),
        });
    }
    Ok(())
}

/// The task graph of a TSQR: one QR per row block, then a tree of QRs of
/// stacked `R`s.
struct Tsqr {
    shape: Vec<usize>,
    chunks: Chunks,
    n: usize,
    /// QR of each row block.
    leaves: Vec<Delayed<Qr>>,
    /// Tree levels above the leaves, bottom up; the last has a single node.
    /// Empty when there is one row block.
    levels: Vec<Vec<Delayed<Qr>>>,
    name: Arc<str>,
}

impl Tsqr {
    fn new(op: &'static str, a: &Array<f64>) -> Result<Tsqr> {
        check_tall(op, a)?;
        let shape = a.shape().to_vec();
        let chunks = a.chunks().clone();
        let n = shape[1];
        let name = layer_name(op);
        let blocks = a.blocks()?;
        let block_name: Arc<str> = format!("{name}-block").into();
        let leaves: Vec<Delayed<Qr>> = chunks
            .sizes(0)
            .iter()
            .enumerate()
            .map(|(i, &rows)| {
                let mut tb = TaskBuilder::new("tsqr-block")
                    .key(Key::from_name(block_name.clone()).with_indices(&[i as u64, 0]));
                let x = tb.input(&blocks[i]);
                tb.build(move |args| {
                    let block = x.get(args)?;
                    if block.shape() != [rows, n] {
                        return Err(TaskError::failed(format!(
                            "tsqr: row block {i} has shape {:?}, its chunks say {:?}",
                            block.shape(),
                            [rows, n]
                        )));
                    }
                    let view = block
                        .view()
                        .into_dimensionality::<Ix2>()
                        .map_err(|e| TaskError::failed(format!("tsqr: row block {i}: {e}")))?;
                    Ok(qr(view))
                })
            })
            .collect();

        let tree_name: Arc<str> = format!("{name}-tree").into();
        let mut levels: Vec<Vec<Delayed<Qr>>> = Vec::new();
        let mut level = leaves.clone();
        while level.len() > 1 {
            let depth = levels.len() as u64;
            let next: Vec<Delayed<Qr>> = level
                .chunks(FAN_IN)
                .enumerate()
                .map(|(g, group)| {
                    let mut tb = TaskBuilder::new("tsqr-tree")
                        .key(Key::from_name(tree_name.clone()).with_indices(&[depth, g as u64]));
                    let slots: Vec<_> = group.iter().map(|d| tb.input(d)).collect();
                    tb.build(move |args| {
                        let mut views = Vec::with_capacity(slots.len());
                        for s in &slots {
                            views.push(s.get(args)?.r.view());
                        }
                        let stacked = ndarray::concatenate(Axis(0), &views).map_err(|e| {
                            TaskError::failed(format!("tsqr: stacking R factors: {e}"))
                        })?;
                        Ok(qr(stacked.view()))
                    })
                })
                .collect();
            levels.push(next.clone());
            level = next;
        }
        Ok(Tsqr {
            shape,
            chunks,
            n,
            leaves,
            levels,
            name,
        })
    }

    /// The factorisation at the top of the tree.
    fn root(&self) -> &Delayed<Qr> {
        match self.levels.last() {
            Some(top) => &top[0],
            None => &self.leaves[0],
        }
    }

    /// The array `Q · top` (`Q` when `top` is `None`), one task per row block.
    ///
    /// Row block `i` of `Q` is its own `Q` times the slices of the tree's `Q`s
    /// on its path to the root; those n × n products are made top down, one
    /// small task per tree node, so each row-block task has two inputs.
    fn q_times(
        &self,
        top: Option<Delayed<Array2<f64>>>,
        label: &'static str,
    ) -> Result<Array<f64>> {
        let n = self.n;
        let down_name: Arc<str> = format!("{}-down", self.name).into();
        // Factor for each node of the current level, starting with the root.
        let mut down: Vec<Option<Delayed<Array2<f64>>>> = vec![top];
        for depth in (0..self.levels.len()).rev() {
            let parents = &self.levels[depth];
            let children = if depth == 0 {
                self.leaves.len()
            } else {
                self.levels[depth - 1].len()
            };
            down = (0..children)
                .map(|c| {
                    let (g, p) = (c / FAN_IN, c % FAN_IN);
                    let mut tb = TaskBuilder::new("tsqr-down").key(
                        Key::from_name(down_name.clone()).with_indices(&[depth as u64, c as u64]),
                    );
                    let parent = tb.input(&parents[g]);
                    let above = down[g].as_ref().map(|d| tb.input(d));
                    Some(tb.build(move |args| {
                        let q = &parent.get(args)?.q;
                        if q.nrows() < (p + 1) * n {
                            return Err(TaskError::failed(format!(
                                "tsqr: tree factor has {} rows, child {p} needs rows {}..{}",
                                q.nrows(),
                                p * n,
                                (p + 1) * n
                            )));
                        }
                        let slice = q.slice(s![p * n..(p + 1) * n, ..]);
                        Ok(match &above {
                            Some(d) => slice.dot(d.get(args)?),
                            None => slice.to_owned(),
                        })
                    }))
                })
                .collect();
        }

        let out_name = layer_name(label);
        let blocks = self
            .leaves
            .iter()
            .zip(down)
            .enumerate()
            .map(|(i, (leaf, d))| {
                let mut tb = TaskBuilder::new(label)
                    .key(Key::from_name(out_name.clone()).with_indices(&[i as u64, 0]));
                let leaf = tb.input(leaf);
                let d = d.as_ref().map(|d| tb.input(d));
                tb.build(move |args| {
                    let q = &leaf.get(args)?.q;
                    Ok(match &d {
                        Some(d) => q.dot(d.get(args)?).into_dyn(),
                        None => q.clone().into_dyn(),
                    })
                })
            })
            .collect();
        Array::from_blocks(&self.shape, self.chunks.clone(), blocks)
    }

    /// A small n × n (or n) result in one block, from `src` by `f`.
    fn small<S: Send + Sync + 'static>(
        &self,
        src: &Delayed<S>,
        label: &'static str,
        shape: &[usize],
        f: impl Fn(&S) -> ArrayD<f64> + Send + Sync + 'static,
    ) -> Result<Array<f64>> {
        let block = src
            .map(label, f)
            .with_key(Key::from_name(layer_name(label)).with_indices(&vec![0; shape.len()]));
        let chunks = Chunks::from_axes(shape.iter().map(|&k| vec![k]).collect());
        Array::from_blocks(shape, chunks, vec![block])
    }
}

/// The QR factorisation `A = Q · R` of a tall-and-skinny array by TSQR
/// (Dask's `da.linalg.tsqr`).
///
/// `a` must be a 2-D `f64` array of shape (m, n) with m ≥ n, chunked along
/// its rows only (one column chunk), with every row block at least n rows
/// tall. `Q` (m × n, chunked like `a`) has orthonormal columns; `R` (n × n,
/// one block) is upper triangular with a non-negative diagonal, so for a
/// matrix of full column rank both are unique and match a dense QR.
///
/// Each row block is factored by its own task; the small `R`s are stacked 8
/// at a time and factored again, level by level, until one `R` remains; then
/// each row block's `Q` is multiplied by its slice of the tree's `Q`s.
///
/// Errors with [`ArrayError::Invalid`] for an array that is not 2-D, is
/// empty or is wider than tall, and [`ArrayError::BadChunks`] for more than
/// one column chunk or a row block shorter than n (the message suggests a
/// chunking that works).
///
/// ```
/// use dagwood_collections::array::{linalg, Array};
///
/// // 257 × 3, in row blocks of 100, 100 and 57.
/// let a = Array::from_fn(&[257, 3], &[100, 3], |i| 1.0 / (1.0 + i[0] as f64 + i[1] as f64)).unwrap();
/// let (q, r) = linalg::tsqr(&a).unwrap();
/// let r = r.compute().unwrap();
/// assert_eq!(r.shape(), &[3, 3]);
/// assert!(r[[1, 0]] == 0.0 && r[[2, 0]] == 0.0 && r[[2, 1]] == 0.0);
///
/// // QᵀQ = I.
/// let q = q.compute().unwrap().into_dimensionality::<ndarray::Ix2>().unwrap();
/// let qtq = q.t().dot(&q);
/// assert!(qtq.indexed_iter().all(|((i, j), v)| (v - (i == j) as u8 as f64).abs() < 1e-12));
///
/// // Column chunks are refused, with advice.
/// let wide_chunks = a.rechunk(&[100, 2]).unwrap();
/// assert!(linalg::tsqr(&wide_chunks).unwrap_err().to_string().contains("single column chunk"));
/// ```
pub fn tsqr(a: &Array<f64>) -> Result<(Array<f64>, Array<f64>)> {
    let t = Tsqr::new("tsqr", a)?;
    let q = t.q_times(None, "tsqr-q")?;
    let r = t.small(t.root(), "tsqr-r", &[t.n, t.n], |f: &Qr| {
        f.r.clone().into_dyn()
    })?;
    Ok((q, r))
}

/// The thin singular value decomposition `A = U · diag(S) · Vt` of a
/// tall-and-skinny array, built on [`tsqr`] (Dask's `da.linalg.svd`).
///
/// `a` has the same requirements as for [`tsqr`]. With `A = Q·R`, the small
/// `R` (n × n) is decomposed as `U_r · diag(S) · Vt` in one task, and
/// `U = Q · U_r` is formed per row block. `U` (m × n) is chunked like `a`;
/// `S` (n) and `Vt` (n × n) are one block each.
///
/// Singular values are sorted in descending order. Each singular pair is only
/// defined up to a joint change of sign; the sign is chosen so that the
/// largest-magnitude entry of each row of `Vt` (the first one, on ties) is
/// positive, which makes results comparable across chunkings and with a dense
/// SVD normalised the same way (when the singular values are distinct).
///
/// Errors as [`tsqr`] does; a matrix with NaN or infinite entries fails when
/// computed.
///
/// ```
/// use dagwood_collections::array::{linalg, Array};
/// use ndarray::{Ix1, Ix2};
///
/// let a = Array::from_fn(&[300, 3], &[50, 3], |i| ((i[0] + 1) * (i[1] + 2) % 17) as f64).unwrap();
/// let (u, s, vt) = linalg::svd(&a).unwrap();
/// assert_eq!((u.shape(), s.shape(), vt.shape()), (&[300, 3][..], &[3][..], &[3, 3][..]));
///
/// let s = s.compute().unwrap().into_dimensionality::<Ix1>().unwrap();
/// assert!(s[0] >= s[1] && s[1] >= s[2]);
///
/// // U · diag(S) · Vt rebuilds A.
/// let u = u.compute().unwrap().into_dimensionality::<Ix2>().unwrap();
/// let vt = vt.compute().unwrap().into_dimensionality::<Ix2>().unwrap();
/// let rebuilt = (&u * &s).dot(&vt); // s broadcasts along the rows of u
/// let dense = a.compute().unwrap();
/// assert!(rebuilt.iter().zip(dense.iter()).all(|(x, y)| (x - y).abs() < 1e-9 * 17.0));
/// ```
pub fn svd(a: &Array<f64>) -> Result<(Array<f64>, Array<f64>, Array<f64>)> {
    let t = Tsqr::new("svd", a)?;
    let n = t.n;
    let mut tb =
        TaskBuilder::new("svd-small").key(Key::from_name(layer_name("svd-small")).with_index(0));
    let root = tb.input(t.root());
    let small: Delayed<SmallSvd> = tb.build(move |args| small_svd(&root.get(args)?.r));
    let u_r = small.map("svd-u-small", |f: &SmallSvd| f.u.clone());
    let u = t.q_times(Some(u_r), "svd-u")?;
    let s = t.small(&small, "svd-s", &[n], |f: &SmallSvd| f.s.clone().into_dyn())?;
    let vt = t.small(&small, "svd-vt", &[n, n], |f: &SmallSvd| {
        f.vt.clone().into_dyn()
    })?;
    Ok((u, s, vt))
}
