//! dagwood's side of `benches/peers/run_array.sh`: times the fractal workload
//! (benches/workloads/fractal.rs) by dagwood and by hand and prints one JSON
//! line per measurement (median wall and CPU seconds per picture), for the script to set
//! beside NumPy's and dask.array's numbers from the same run.
//!
//! `cargo bench --bench peers_array -- [--repeat N] [--chunk ROWS] [--tile N] [--only NAME,..] [--no-check]`

use std::time::Instant;

use dagwood::collections::array::set_tile_elements;

#[path = "workloads/fractal.rs"]
mod fractal;
#[path = "workloads/report.rs"]
mod report;
use fractal::*;
use report::{arg, measure};

/// Median wall seconds and median CPU seconds of `repeat` runs of `f`; a
/// run that took over 3 s (`first`, the checked run, which also warms up)
/// is timed once.
fn measure_once_if_slow<T>(repeat: usize, first: f64, f: impl FnMut() -> T) -> (f64, f64) {
    measure(if first > 3.0 { 1 } else { repeat }, f)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let repeat: usize = arg(&args, "--repeat").unwrap_or(5);
    let chunk_rows: usize = arg(&args, "--chunk").unwrap_or(CHUNK[0]);
    if let Some(tile) = arg::<usize>(&args, "--tile") {
        set_tile_elements(tile);
    }
    let only: Option<String> = arg(&args, "--only");
    let wanted = |name: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|w| w == name))
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = [chunk_rows, COLS];

    // Every version must give the reference picture before it is timed
    // (`--no-check` skips that, for profiling).
    let want = (!args.iter().any(|a| a == "--no-check")).then(|| sequential(ROWS, COLS));
    let report = |imp: &str, (secs, cpu): (f64, f64), got: &ndarray::Array2<i32>| {
        let checksum: i64 = got.iter().map(|&v| i64::from(v)).sum();
        let zeros = got.iter().filter(|&&v| v == 0).count();
        println!(
            r#"{{"workload":"fractal","impl":"{imp}","seconds":{secs:.5},"cpu_seconds":{cpu:.2},"checksum":{checksum},"zeros":{zeros}}}"#
        );
    };
    let runs: [(&str, &dyn Fn() -> ndarray::Array2<i32>); 6] = [
        ("dagwood-kernel", &|| dagwood_kernel_run(ROWS, COLS, &chunk)),
        ("dagwood-array", &|| dagwood_run(ROWS, COLS, &chunk)),
        ("numpy-style-1thread", &|| numpy_style(ROWS, COLS)),
        ("numpy-style-threads", &|| {
            numpy_threads(ROWS, COLS, threads)
        }),
        ("numpy-style-rayon", &|| numpy_rayon(ROWS, COLS)),
        ("handwritten", &|| handwritten(ROWS, COLS)),
    ];
    for (name, f) in runs {
        if !wanted(name) {
            continue;
        }
        let t = Instant::now();
        let got = f();
        let first = t.elapsed().as_secs_f64();
        if let Some(want) = &want {
            check(name, got.view(), want.view());
        }
        report(name, measure_once_if_slow(repeat, first, f), &got);
    }
}
