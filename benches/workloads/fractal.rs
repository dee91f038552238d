//! The fractal workload (the seed notebook's Mandelbrot), shared by the
//! criterion bench `benches/fractal.rs` and the peers report
//! `benches/peers_array.rs`.
//!
//! Every version computes the same picture with the same arithmetic, so all
//! of them agree bit for bit (`check` asserts it):
//!
//! ```text
//! z = c; out = 0
//! for it in 0..ITERS:
//!     z = z*z + c
//!     diverged = |z|² > 4
//!     out = where(diverged & (out == 0), it, out)
//!     z = where(diverged, 2, z)
//! ```
//!
//! * `dagwood_array`: dagwood arrays, written like the NumPy original
//!   (operators on `Array`: the tile interpreter);
//! * `dagwood_kernel`: the same code over `Lanes` in `kernel::vectorize`,
//!   compiled into one loop per block;
//! * `numpy_style`: NumPy's way on ndarray: one whole-array operation at a
//!   time, each making a full-size temporary, one thread;
//! * `numpy_threads` / `numpy_rayon`: `numpy_style` on strips of `STRIP` rows,
//!   hand-threaded with `std::thread` / with rayon;
//! * `handwritten`: the fastest form by hand: per-pixel loops over strips on
//!   all cores, branch-free, real and imaginary parts in separate rows so the
//!   compiler vectorises the loop.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use dagwood::collections::array::kernel::{self, vectorize};
use dagwood::collections::array::{where_, Array, Complex64};
use ndarray::{Array2, ArrayView2, Zip};
use rayon::prelude::*;

/// Rows of the benchmark picture (imaginary axis).
pub const ROWS: usize = 4000;
/// Columns of the benchmark picture (real axis).
pub const COLS: usize = 6000;
/// Iterations of `z = z*z + c`.
pub const ITERS: i32 = 20;
/// Rows per strip of the hand-threaded versions.
pub const STRIP: usize = 10;
/// dagwood's chunk shape for the benchmark (rows, columns). On 2 cores, CPU
/// time per picture was flat from 25 to 500 rows × full width and 5-10%
/// worse at 1000 rows (4 blocks); 250 rows gives 16 blocks.
pub const CHUNK: [usize; 2] = [250, COLS];

/// The grid: real parts over `[RE0, RE1]` along a row, imaginary parts over
/// `[IM0, IM1]` down a column, value `k` being `start + k * step` (like
/// NumPy's `ogrid[-1:0:rows*1j, -1.5:0:cols*1j]`).
pub const RE0: f64 = -1.5;
pub const RE1: f64 = 0.0;
pub const IM0: f64 = -1.0;
pub const IM1: f64 = 0.0;

/// Real part of column `j` of `cols`.
#[inline]
pub fn re_at(j: usize, cols: usize) -> f64 {
    RE0 + j as f64 * ((RE1 - RE0) / (cols.max(2) - 1) as f64)
}

/// Imaginary part of row `i` of `rows`.
#[inline]
pub fn im_at(i: usize, rows: usize) -> f64 {
    IM0 + i as f64 * ((IM1 - IM0) / (rows.max(2) - 1) as f64)
}

/// The picture as a lazy dagwood array: all `ITERS` iterations fuse into one
/// task per block.
pub fn dagwood_array(rows: usize, cols: usize, chunk: &[usize]) -> Array<i32> {
    // x: a (1, cols) row of reals; y: a (rows, 1) column of imaginaries (an
    // ogrid), both complex already so `x + y` broadcasts their blocks directly.
    let x = Array2::from_shape_fn((1, cols), |(_, j)| Complex64::new(re_at(j, cols), 0.0));
    let y = Array2::from_shape_fn((rows, 1), |(i, _)| Complex64::new(0.0, im_at(i, rows)));
    let x = Array::from_array(&x, &[1, chunk[1]]).expect("valid chunks");
    let y = Array::from_array(&y, &[chunk[0], 1]).expect("valid chunks");
    let mut z = &x + &y;
    let c = z.clone();
    let mut out = Array::<i32>::zeros(&[rows, cols], chunk).expect("valid chunks");
    for it in 0..ITERS {
        z = &z * &z + &c;
        let diverged = z.norm_sqr().greater(4.0);
        out = where_(&(&diverged & out.equal(0)), it, &out).expect("same shapes");
        z = where_(&diverged, Complex64::new(2.0, 0.0), &z).expect("same shapes");
    }
    out
}

/// The picture as one compiled kernel per block: the NumPy-style loop of
/// `dagwood_array`, written over `Lanes` and passed to `vectorize`.
pub fn dagwood_kernel(rows: usize, cols: usize, chunk: &[usize]) -> Array<i32> {
    let x = Array2::from_shape_fn((1, cols), |(_, j)| Complex64::new(re_at(j, cols), 0.0));
    let y = Array2::from_shape_fn((rows, 1), |(i, _)| Complex64::new(0.0, im_at(i, rows)));
    let x = Array::from_array(&x, &[1, chunk[1]]).expect("valid chunks");
    let y = Array::from_array(&y, &[chunk[0], 1]).expect("valid chunks");
    vectorize((&x, &y), |(x, y)| {
        let c = x + y;
        let mut z = c;
        let mut out = kernel::Lanes::splat(0i32);
        for it in 0..ITERS {
            z = z * z + c;
            let diverged = z.norm_sqr().greater(4.0);
            out = kernel::where_(diverged & out.equal(0), it, out);
            z = kernel::where_(diverged, Complex64::new(2.0, 0.0), z);
        }
        out
    })
    .expect("same shapes")
}

/// Computes `dagwood_kernel` with the default scheduler.
pub fn dagwood_kernel_run(rows: usize, cols: usize, chunk: &[usize]) -> Array2<i32> {
    dagwood_kernel(rows, cols, chunk)
        .compute()
        .expect("fractal computes")
        .into_dimensionality()
        .expect("2-d")
}

/// Computes `dagwood_array` with the default scheduler.
pub fn dagwood_run(rows: usize, cols: usize, chunk: &[usize]) -> Array2<i32> {
    dagwood_array(rows, cols, chunk)
        .compute()
        .expect("fractal computes")
        .into_dimensionality()
        .expect("2-d")
}

/// NumPy's way, into `out_rows` (rows `row0..` of a picture of `rows` rows
/// and `cols` columns): whole-array operations, each making a temporary of
/// the full (strip) size.
fn numpy_rows(row0: usize, rows: usize, cols: usize, out_rows: &mut [i32]) {
    let (h, w) = (out_rows.len() / cols.max(1), cols);
    // x: a (1, w) row of reals; y: an (h, 1) column of imaginaries (an ogrid).
    let x = Array2::from_shape_fn((1, w), |(_, j)| re_at(j, w));
    let y = Array2::from_shape_fn((h, 1), |(i, _)| im_at(row0 + i, rows));
    let mut z: Array2<Complex64> =
        &x.mapv(|v| Complex64::new(v, 0.0)) + &y.mapv(|v| Complex64::new(0.0, v));
    let c = z.clone();
    let mut out = Array2::<i32>::zeros((h, w));
    let two = Complex64::new(2.0, 0.0);
    for it in 0..ITERS {
        z = &z * &z + &c;
        let diverged: Array2<bool> = z.mapv(|v| v.norm_sqr()).mapv(|v| v > 4.0);
        let fresh: Array2<bool> = &diverged & &out.mapv(|v| v == 0);
        out = Zip::from(&fresh)
            .and(&out)
            .map_collect(|&f, &o| if f { it } else { o });
        z = Zip::from(&diverged)
            .and(&z)
            .map_collect(|&d, &v| if d { two } else { v });
    }
    out_rows.copy_from_slice(out.as_slice().expect("standard layout"));
}

fn picture(rows: usize, cols: usize, out: Vec<i32>) -> Array2<i32> {
    Array2::from_shape_vec((rows, cols), out).expect("rows × cols")
}

/// (a) `numpy_rows` on the whole picture, one thread.
pub fn numpy_style(rows: usize, cols: usize) -> Array2<i32> {
    let mut out = vec![0i32; rows * cols];
    numpy_rows(0, rows, cols, &mut out);
    picture(rows, cols, out)
}

/// (b) `numpy_rows` on strips of `STRIP` rows, `threads` std threads each
/// taking the next strip from a shared counter.
pub fn numpy_threads(rows: usize, cols: usize, threads: usize) -> Array2<i32> {
    let mut out = vec![0i32; rows * cols];
    let strips: Vec<Mutex<&mut [i32]>> = out
        .chunks_mut(STRIP * cols.max(1))
        .map(Mutex::new)
        .collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(strip) = strips.get(k) else { break };
                // Each strip is taken by exactly one thread: the lock never waits.
                let mut strip = strip.lock().unwrap_or_else(|p| p.into_inner());
                numpy_rows(k * STRIP, rows, cols, &mut strip);
            });
        }
    });
    drop(strips);
    picture(rows, cols, out)
}

/// (c) `numpy_rows` on strips of `STRIP` rows with rayon.
pub fn numpy_rayon(rows: usize, cols: usize) -> Array2<i32> {
    let mut out = vec![0i32; rows * cols];
    out.par_chunks_mut(STRIP * cols.max(1))
        .enumerate()
        .for_each(|(k, strip)| numpy_rows(k * STRIP, rows, cols, strip));
    picture(rows, cols, out)
}

/// Pixels a hand-written inner loop works on at a time: its five rows
/// (z re/im, c re/im, out) stay in L1.
const LANES: usize = 512;

/// The hand-written kernel for pixels `out` of row `i`, columns from `j0`.
#[inline]
fn handwritten_run(i: usize, rows: usize, j0: usize, cols: usize, out: &mut [i32]) {
    let n = out.len();
    let mut cr = [0.0f64; LANES];
    let mut zr = [0.0f64; LANES];
    let mut zi = [0.0f64; LANES];
    let ci = im_at(i, rows);
    for (k, v) in cr[..n].iter_mut().enumerate() {
        *v = re_at(j0 + k, cols);
    }
    zr[..n].copy_from_slice(&cr[..n]);
    zi[..n].fill(ci);
    out.fill(0);
    for it in 0..ITERS {
        for (((zr, zi), cr), o) in zr[..n]
            .iter_mut()
            .zip(&mut zi[..n])
            .zip(&cr[..n])
            .zip(out.iter_mut())
        {
            // z*z + c with num-complex's operation order, so results match bit for bit.
            let (x, y) = (*zr, *zi);
            let re = (x * x - y * y) + cr;
            let im = (x * y + y * x) + ci;
            let diverged = re * re + im * im > 4.0;
            *o = if diverged & (*o == 0) { it } else { *o };
            *zr = if diverged { 2.0 } else { re };
            *zi = if diverged { 0.0 } else { im };
        }
    }
}

/// (d) The fastest hand-written form: per-pixel loops over strips of `STRIP`
/// rows on all cores (rayon), branch-free and vectorisable.
pub fn handwritten(rows: usize, cols: usize) -> Array2<i32> {
    let mut out = vec![0i32; rows * cols];
    out.par_chunks_mut(STRIP * cols.max(1))
        .enumerate()
        .for_each(|(k, strip)| {
            for (r, row) in strip.chunks_mut(cols).enumerate() {
                for (t, part) in row.chunks_mut(LANES).enumerate() {
                    handwritten_run(k * STRIP + r, rows, t * LANES, cols, part);
                }
            }
        });
    picture(rows, cols, out)
}

/// The plain sequential per-pixel loop (the reference answer).
pub fn sequential(rows: usize, cols: usize) -> Array2<i32> {
    Array2::from_shape_fn((rows, cols), |(i, j)| pixel(i, rows, j, cols))
}

/// Iteration of first divergence of one pixel, with the notebook's quirks
/// (a pixel that diverges at iteration 0 is marked again at iteration 1).
pub fn pixel(i: usize, rows: usize, j: usize, cols: usize) -> i32 {
    let c = Complex64::new(re_at(j, cols), im_at(i, rows));
    let (mut z, mut out) = (c, 0);
    for it in 0..ITERS {
        z = z * z + c;
        let diverged = z.norm_sqr() > 4.0;
        if diverged && out == 0 {
            out = it;
        }
        if diverged {
            z = Complex64::new(2.0, 0.0);
        }
    }
    out
}

/// Panics unless `got` equals `want` (naming the first difference).
pub fn check(name: &str, got: ArrayView2<'_, i32>, want: ArrayView2<'_, i32>) {
    assert_eq!(got.dim(), want.dim(), "{name}: shape");
    let bad = Zip::from(got)
        .and(want)
        .fold(0usize, |n, a, b| n + usize::from(a != b));
    if bad > 0 {
        let first = got
            .indexed_iter()
            .find(|&(ix, v)| want[ix] != *v)
            .map(|(ix, v)| (ix, *v, want[ix]));
        panic!("{name}: {bad} pixels differ from the sequential loop; first {first:?}");
    }
}
