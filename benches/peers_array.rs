//! dagwood's side of `benches/peers/run_array.sh`: times the fractal workload
//! (benches/workloads/fractal.rs) by dagwood and by hand and prints one JSON
//! line per measurement (median wall and CPU seconds per picture), for the script to set
//! beside NumPy's and dask.array's numbers from the same run.
//!
//! `cargo bench --bench peers_array -- [--repeat N] [--chunk ROWS] [--tile N] [--only NAME,..] [--no-check]`

use std::hint::black_box;
use std::time::Instant;

use dagwood::collections::array::set_tile_elements;

#[path = "workloads/fractal.rs"]
mod fractal;
use fractal::*;

/// CPU seconds used by this process so far, all threads (Linux; 0 elsewhere).
/// On a machine shared with other work, CPU time per picture is steadier
/// than wall time.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses): utime and
    // stime are the 12th and 13th (counting the state), in clock ticks (USER_HZ = 100 on Linux).
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |k: usize| f.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// Median wall seconds and median CPU seconds of `repeat` runs of `f`; a
/// run that took over 3 s (`first`, the checked run, which also warms up)
/// is timed once.
fn measure<T>(repeat: usize, first: f64, mut f: impl FnMut() -> T) -> (f64, f64) {
    let repeat = if first > 3.0 { 1 } else { repeat.max(1) };
    let (mut wall, mut cpu): (Vec<f64>, Vec<f64>) = (0..repeat)
        .map(|_| {
            let (t, c) = (Instant::now(), cpu_seconds());
            black_box(f());
            (t.elapsed().as_secs_f64(), cpu_seconds() - c)
        })
        .unzip();
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    (wall[wall.len() / 2], cpu[cpu.len() / 2])
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
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
    let runs: [(&str, &dyn Fn() -> ndarray::Array2<i32>); 5] = [
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
        report(name, measure(repeat, first, f), &got);
    }
}
