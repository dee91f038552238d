//! The fractal (seed notebook's Mandelbrot) at `ROWS × COLS`: dagwood arrays
//! beside NumPy-style ndarray on one thread, the same on strips by
//! `std::thread` and by rayon, and a hand-written vectorisable loop.
//! Run: `cargo bench --bench fractal`. Every version is checked against the
//! sequential loop before it is timed. The workloads are in
//! benches/workloads/fractal.rs; `benches/peers/run_array.sh` sets the same
//! numbers beside NumPy and dask.array.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "workloads/fractal.rs"]
mod fractal;
use fractal::*;

fn bench(c: &mut Criterion) {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let want = sequential(ROWS, COLS);
    let mut g = c.benchmark_group("fractal");
    g.throughput(Throughput::Elements((ROWS * COLS) as u64));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(10));

    check(
        "dagwood-array",
        dagwood_run(ROWS, COLS, &CHUNK).view(),
        want.view(),
    );
    g.bench_function("dagwood-array", |b| {
        b.iter(|| dagwood_run(ROWS, COLS, &CHUNK))
    });

    check(
        "numpy-style-threads",
        numpy_threads(ROWS, COLS, threads).view(),
        want.view(),
    );
    g.bench_function("numpy-style-threads", |b| {
        b.iter(|| numpy_threads(ROWS, COLS, threads))
    });

    check(
        "numpy-style-rayon",
        numpy_rayon(ROWS, COLS).view(),
        want.view(),
    );
    g.bench_function("numpy-style-rayon", |b| b.iter(|| numpy_rayon(ROWS, COLS)));

    check("handwritten", handwritten(ROWS, COLS).view(), want.view());
    g.bench_function("handwritten", |b| b.iter(|| handwritten(ROWS, COLS)));

    // About 10 s a run: the fewest samples criterion allows.
    check(
        "numpy-style-1thread",
        numpy_style(ROWS, COLS).view(),
        want.view(),
    );
    g.measurement_time(Duration::from_secs(60));
    g.bench_function("numpy-style-1thread", |b| {
        b.iter(|| numpy_style(ROWS, COLS))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
