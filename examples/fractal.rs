//! The seed notebook's Mandelbrot with dagwood arrays, written as the NumPy
//! original is:
//!
//! ```python
//! z = x + 1j*y; c = z.copy(); out = zeros(z.shape, int)
//! for it in range(20):
//!     z = z**2 + c
//!     diverged = abs(z) > 2
//!     out = where(diverged & (out == 0), it, out)
//!     z = where(diverged, 2, z)
//! ```
//!
//! All 20 iterations fuse into one task per block, evaluated over cache-sized
//! tiles. The answer is checked against a plain per-pixel loop (every pixel up
//! to 6 million, else a sample of rows that includes every block's edges) and
//! drawn to a PNG. Counts are `i32` (the notebook's `int` is 64-bit; 32 bits
//! halve the memory traffic of `out`).
//!
//! ```text
//! cargo run --release --example fractal -- [ROWS COLS] [--chunk ROWS[xCOLS]] [--tile N] [--out fractal.png] [--no-png]
//! ```
//!
//! Default: 8000 rows × 12000 columns in chunks of 250 rows × all columns.

use std::error::Error;
use std::time::Instant;

use dagwood::collections::array::{set_tile_elements, tile_elements, where_, Array, Complex64};
use ndarray::{Array2, ArrayView2, Axis};

/// Iterations of `z = z*z + c`.
const ITERS: i32 = 20;
/// The picture covers real parts `RE` along each row and imaginary parts `IM`
/// down each column.
const RE: (f64, f64) = (-1.5, 0.0);
const IM: (f64, f64) = (-1.0, 0.0);
/// Pixels the sequential check may cover before it samples rows instead.
const CHECK_ALL_UP_TO: usize = 6_000_000;

/// The spacing of `n` values over `range`, ends included: value `k` is
/// `start + k * step(range, n)`.
fn step((start, stop): (f64, f64), n: usize) -> f64 {
    (stop - start) / (n.max(2) - 1) as f64
}

/// The fractal, lazily: `rows × cols` pixels in chunks of `chunk`; also the
/// number of blocks of its inputs (the grid's row and column).
fn mandelbrot(
    rows: usize,
    cols: usize,
    chunk: &[usize],
) -> Result<(Array<i32>, usize), Box<dyn Error>> {
    let (dx, dy) = (step(RE, cols), step(IM, rows));
    // x: a row of reals, y: a column of imaginaries (an ogrid); `x + i·y`
    // broadcasts them to the plane inside each block's task.
    let x = Array2::from_shape_fn((1, cols), |(_, j)| {
        Complex64::new(RE.0 + j as f64 * dx, 0.0)
    });
    let y = Array2::from_shape_fn((rows, 1), |(i, _)| {
        Complex64::new(0.0, IM.0 + i as f64 * dy)
    });
    let (x, y) = (
        Array::from_array(&x, &[1, chunk[1]])?,
        Array::from_array(&y, &[chunk[0], 1])?,
    );
    let inputs = x.num_blocks() + y.num_blocks();
    let mut z = &x + &y;
    let c = z.clone();
    let mut out = Array::<i32>::zeros(&[rows, cols], chunk)?;
    for it in 0..ITERS {
        z = &z * &z + &c;
        // |z| > 2 as |z|² > 4: no square root.
        let diverged = z.norm_sqr().greater(4.0);
        out = where_(&(&diverged & out.equal(0)), it, &out)?;
        z = where_(&diverged, Complex64::new(2.0, 0.0), &z)?;
    }
    Ok((out, inputs))
}

/// The same pixel by a plain loop, with the same arithmetic.
fn pixel(i: usize, j: usize, rows: usize, cols: usize) -> i32 {
    let c = Complex64::new(
        RE.0 + j as f64 * step(RE, cols),
        IM.0 + i as f64 * step(IM, rows),
    );
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

/// Compares rows of `got` with the plain loop: all of them for small
/// pictures, else evenly spaced rows plus the first and last row of each
/// block. Returns the number of pixels checked.
fn check(got: ArrayView2<'_, i32>, chunk_rows: usize) -> Result<usize, Box<dyn Error>> {
    let (rows, cols) = got.dim();
    let every = (rows * cols).div_ceil(CHECK_ALL_UP_TO).max(1);
    let mut checked = 0;
    for (i, row) in got.axis_iter(Axis(0)).enumerate() {
        let edge = i % chunk_rows == 0 || i % chunk_rows == chunk_rows - 1;
        if i % every != 0 && !edge {
            continue;
        }
        for (j, &v) in row.iter().enumerate() {
            let want = pixel(i, j, rows, cols);
            if v != want {
                return Err(
                    format!("pixel ({i}, {j}) is {v}, the sequential loop says {want}").into(),
                );
            }
        }
        checked += cols;
    }
    Ok(checked)
}

/// A colour per iteration count: points that never diverge (0) are black,
/// the rest go from deep blue through orange to pale yellow.
fn palette() -> Vec<u8> {
    const STOPS: [(f64, [f64; 3]); 5] = [
        (0.0, [8.0, 16.0, 64.0]),
        (0.25, [32.0, 107.0, 203.0]),
        (0.5, [237.0, 255.0, 255.0]),
        (0.75, [255.0, 170.0, 0.0]),
        (1.0, [120.0, 10.0, 0.0]),
    ];
    let mut rgb = vec![0u8; 3];
    for v in 1..ITERS {
        let t = (v - 1) as f64 / (ITERS - 2) as f64;
        let k = STOPS
            .windows(2)
            .position(|w| t <= w[1].0)
            .unwrap_or(STOPS.len() - 2);
        let ((t0, a), (t1, b)) = (STOPS[k], STOPS[k + 1]);
        let f = (t - t0) / (t1 - t0);
        rgb.extend((0..3).map(|ch| (a[ch] + (b[ch] - a[ch]) * f).round() as u8));
    }
    rgb
}

/// Writes the iteration counts as an indexed-colour PNG.
fn write_png(path: &str, counts: ArrayView2<'_, i32>) -> Result<(), Box<dyn Error>> {
    let (rows, cols) = counts.dim();
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut enc = png::Encoder::new(file, u32::try_from(cols)?, u32::try_from(rows)?);
    enc.set_color(png::ColorType::Indexed);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_palette(palette());
    enc.set_compression(png::Compression::Fast);
    let pixels: Vec<u8> = counts
        .iter()
        .map(|&v| v.clamp(0, ITERS - 1) as u8)
        .collect();
    enc.write_header()?.write_image_data(&pixels)?;
    Ok(())
}

struct Options {
    rows: usize,
    cols: usize,
    chunk: [usize; 2],
    out: Option<String>,
}

fn options() -> Result<Options, Box<dyn Error>> {
    let mut dims = Vec::new();
    let (mut chunk, mut out) = (None, Some("fractal.png".to_string()));
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--chunk" => {
                let v = args.next().ok_or("--chunk needs ROWS or ROWSxCOLS")?;
                let mut parts = v.split('x').map(str::parse::<usize>);
                let r = parts.next().ok_or("bad --chunk")??;
                chunk = Some((r, parts.next().transpose()?));
            }
            "--tile" => set_tile_elements(args.next().ok_or("--tile needs a number")?.parse()?),
            "--out" => out = Some(args.next().ok_or("--out needs a path")?),
            "--no-png" => out = None,
            _ => dims.push(a.parse::<usize>().map_err(|e| format!("{a}: {e}"))?),
        }
    }
    let (rows, cols) = match dims[..] {
        [] => (8000, 12000),
        [r, c] => (r, c),
        _ => return Err("give ROWS and COLS, or neither".into()),
    };
    let (r, c) = chunk.unwrap_or((250, None));
    Ok(Options {
        rows,
        cols,
        chunk: [
            r.clamp(1, rows.max(1)),
            c.unwrap_or(cols).clamp(1, cols.max(1)),
        ],
        out,
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    let Options {
        rows,
        cols,
        chunk,
        out,
    } = options()?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "mandelbrot: {rows} × {cols} pixels, {ITERS} iterations, chunks of {} × {}, tiles of {} elements, {threads} threads",
        chunk[0],
        chunk[1],
        tile_elements()
    );

    let t = Instant::now();
    let (fractal, inputs) = mandelbrot(rows, cols, &chunk)?;
    let tasks = fractal.task_count()?;
    println!(
        "graph: {tasks} tasks = {} blocks, each one fused task for all {ITERS} iterations, + {inputs} input blocks of the grid's row and column ({:.1} ms to build)",
        fractal.num_blocks(),
        t.elapsed().as_secs_f64() * 1e3
    );
    if tasks != fractal.num_blocks() + inputs {
        return Err(format!("expected one task per block, got {tasks} tasks").into());
    }

    let t = Instant::now();
    // A progress bar on stderr while the blocks compute (hidden when stderr
    // is not a terminal).
    let _bar = dagwood::diagnostics::ProgressBar::new().scoped();
    let counts = fractal.compute()?.into_dimensionality::<ndarray::Ix2>()?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "compute: {:.3} s ({:.2} ns per pixel-iteration per thread)",
        secs,
        secs * 1e9 * threads as f64 / (rows * cols) as f64 / ITERS as f64
    );

    let t = Instant::now();
    let checked = check(counts.view(), chunk[0])?;
    println!(
        "check: {checked} of {} pixels equal the sequential loop's ({:.3} s)",
        rows * cols,
        t.elapsed().as_secs_f64()
    );

    let inside = counts.iter().filter(|&&v| v == 0).count();
    println!(
        "{inside} pixels never diverged ({:.1}%)",
        100.0 * inside as f64 / (rows * cols).max(1) as f64
    );

    if let Some(path) = out {
        let t = Instant::now();
        write_png(&path, counts.view())?;
        println!("wrote {path} ({:.3} s)", t.elapsed().as_secs_f64());
    }
    Ok(())
}
