//! The seed notebook's random arrays: `Y = random.normal(size=(1000, 1000),
//! chunks=(100, 100)); Y.mean()`, then a larger-than-memory run of
//! `(x + x.t()).mean_axis(0)` whose peak resident memory stays far below the
//! array's size.
//!
//! `cargo run --release --example random_mean [n] [chunk] [--zarr DIR]`
//! (default n = 40000: a 12.8 GB array of f64 that never exists in memory at
//! once). With `--zarr DIR` the array is also written to a Zarr store in DIR
//! block by block (zstd), read back from it, and the same mean computed from
//! the store, in the same bounded memory.

use std::time::Instant;

use dagwood::collections::array::Array;

/// Peak resident set size of this process so far, in bytes (Linux; 0 elsewhere).
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

fn gb(bytes: f64) -> String {
    format!("{:.2} GB", bytes / 1e9)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let zarr = all
        .iter()
        .position(|a| a == "--zarr")
        .and_then(|k| all.get(k + 1))
        .map(std::path::PathBuf::from);
    let mut args = all.iter().take_while(|a| *a != "--zarr");
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(40_000);
    let chunk: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2_000);

    // 1. The notebook's first cell.
    let y = Array::<f64>::random_normal(&[1000, 1000], &[100, 100], 0.0, 1.0, 0)?;
    let t = Instant::now();
    let mean = y.mean()?.compute()?;
    println!(
        "Y = random_normal((1000, 1000), chunks=(100, 100)); Y.mean() = {mean:+.6} ({:.1?}, {} tasks)",
        t.elapsed(),
        dagwood::Plan::new(&y.mean()?).task_count()
    );

    // 2. Larger than memory: each block is drawn, used and dropped; the
    //    transpose reads a recomputed copy of its block rather than one kept
    //    alive for it, and the per-block column sums are merged in trees.
    let x = Array::<f64>::random_normal(&[n, n], &[chunk, chunk], 0.0, 1.0, 1)?;
    let m = (&x + &x.t()).mean_axis(0)?;
    let t = Instant::now();
    let _bar = dagwood::diagnostics::ProgressBar::new().scoped();
    let result = m.compute()?;
    let elapsed = t.elapsed();
    let size = (n * n * 8) as f64;
    let peak = peak_rss() as f64;
    println!(
        "(x + x.t()).mean_axis(0) over {n}×{n} f64 ({} as one array) in {}×{} blocks: {elapsed:.1?}",
        gb(size),
        chunk,
        chunk
    );
    println!(
        "first values {:+.5} {:+.5} {:+.5}; mean of the result {:+.6}",
        result[[0]],
        result[[1]],
        result[[2]],
        result.sum() / n as f64
    );
    println!(
        "peak resident memory {} = {:.1}% of the array's size",
        gb(peak),
        100.0 * peak / size
    );
    // Column means of x + xᵀ are sums of two means of n standard normals:
    // their spread is about sqrt(2 / n).
    let spread = (result.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt();
    println!(
        "spread of the column means {spread:.5} (theory ≈ {:.5})",
        (2.0 / n as f64).sqrt()
    );
    if let Some(dir) = zarr {
        // 3. The same array through a Zarr store: written block by block,
        //    read back one chunk per task.
        let t = Instant::now();
        let opts = dagwood::collections::array::ToZarr::new().overwrite(true);
        x.to_zarr_with(&dir, &opts, &dagwood::Scheduler::current())?;
        println!("wrote {} as Zarr v3 in {:.1?}", dir.display(), t.elapsed());
        let t = Instant::now();
        let stored = Array::<f64>::from_zarr(&dir)?;
        let again = (&stored + &stored.t()).mean_axis(0)?.compute()?;
        let same = again == result;
        println!(
            "read back and recomputed in {:.1?}: {}; peak resident memory {}",
            t.elapsed(),
            if same {
                "identical result"
            } else {
                "RESULT DIFFERS"
            },
            gb(peak_rss() as f64)
        );
        if !same {
            return Err("the mean from the Zarr store differs".into());
        }
    }
    Ok(())
}
