//! Profiling a mixed workload: a dynamic graph of tasks with different names
//! and durations, then an array computation, both watched by one `Profiler`
//! with a `ResourceProfiler` attached (Dask's `Profiler` + `ResourceProfiler`).
//!
//! Writes, into the output directory (default `target/profile`):
//! * `profile.svg`: the timeline (a row per worker, a bar per task coloured
//!   by name, memory and CPU below);
//! * `trace.json`: the same as a Chrome trace (open in chrome://tracing or
//!   ui.perfetto.dev);
//! * `graph.svg` (and `graph.dot`): the dynamic graph coloured by how long
//!   each task ran; `array_graph.svg`: the array's graph, summarised by
//!   layer. Without Graphviz only the `.dot` files are written.
//!
//! `cargo run --release --example profile [out_dir]`

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dagwood::collections::array::{Array, ArrayError};
use dagwood::diagnostics::{ColorBy, GraphFiles, Profiler, ResourceProfiler, VisualizeOptions};
use dagwood::prelude::*;

/// Burns the CPU for about `d` (a stand-in for real work that shows up in
/// the CPU curve, unlike a sleep).
fn work_for(d: Duration) -> u64 {
    let start = Instant::now();
    let mut x = 0u64;
    while start.elapsed() < d {
        for _ in 0..1000 {
            x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
    }
    x
}

/// A duration between `lo` and `hi` ms that varies with `i`, deterministically.
fn jitter(i: u64, lo: u64, hi: u64) -> Duration {
    let h = (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    Duration::from_millis(lo + h % (hi - lo + 1))
}

/// Reads one input (slow, varying).
#[delayed]
fn load(i: u64) -> Vec<f64> {
    work_for(jitter(i, 20, 60));
    (0..200_000)
        .map(|k| ((k as u64 * (i + 3)) % 1000) as f64)
        .collect()
}

/// Cleans it (quick).
#[delayed]
fn clean(raw: Vec<f64>) -> Vec<f64> {
    work_for(jitter(raw.len() as u64, 5, 10));
    raw.into_iter().map(|x| x.min(900.0)).collect()
}

/// Summarises it (medium).
#[delayed]
fn features(xs: &Vec<f64>) -> f64 {
    work_for(jitter(xs[7] as u64, 10, 30));
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/profile".into()),
    );
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;

    // 1. A dynamic graph: 12 inputs, each load → clean → features, then a
    //    tree of sums.
    let scores: Vec<Delayed<f64>> = (0..12)
        .map(|i| features::lazy(clean::lazy(load::lazy(i))))
        .collect();
    let total = dagwood::tree_reduce(scores, 4, "combine", |v: Vec<f64>| {
        work_for(Duration::from_millis(15));
        v.into_iter().sum()
    })?;

    // 2. An array computation: 4000 × 4000 random normals in 500 × 500
    //    blocks, (x + xᵀ) column means.
    let x = Array::<f64>::random_normal(&[4000, 4000], &[500, 500], 0.0, 1.0, 7)?;
    let col_means = (&x + &x.t()).mean_axis(0)?;

    let prof = Profiler::new().with_resources(ResourceProfiler::new());
    let t = Instant::now();
    let (score, means) = prof.run(|| -> Result<_, Box<dyn std::error::Error>> {
        let score = total.compute()?;
        let means = col_means.compute()?;
        Ok((score, means))
    })?;
    let elapsed = t.elapsed();
    let records = prof.records();
    println!(
        "score {score:.1}, {} column means (first {:+.4}); {} tasks in {elapsed:.2?}",
        means.len(),
        means[[0]],
        records.len()
    );

    let timeline = out.join("profile.svg");
    prof.write_timeline_svg(&timeline)?;
    println!("wrote {} (timeline)", timeline.display());
    let trace = out.join("trace.json");
    prof.write_chrome_trace(&trace)?;
    println!(
        "wrote {} (open in chrome://tracing or ui.perfetto.dev)",
        trace.display()
    );

    let by_time = VisualizeOptions::new().color_by(ColorBy::Duration(&prof));
    report(total.visualize_with(out.join("graph.svg"), &by_time))?;
    // The array's graph has a few hundred tasks: drawn by layer, one node per
    // operation.
    let by_layer = by_time.clone().max_tasks(100);
    match col_means.visualize_with(out.join("array_graph.svg"), &by_layer) {
        Ok(files) => report(Ok(files))?,
        Err(ArrayError::Compute(e)) => report(Err(e))?,
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// Says what `visualize` wrote; a missing Graphviz is reported, not fatal.
fn report(result: Result<GraphFiles, dagwood::Error>) -> Result<(), dagwood::Error> {
    match result {
        Ok(files) => {
            let layers = files
                .layers
                .map(|l| format!(", drawn as {l} layers"))
                .unwrap_or_default();
            let shown = files.image.as_ref().unwrap_or(&files.dot);
            println!("wrote {} ({} tasks{layers})", shown.display(), files.tasks);
            Ok(())
        }
        Err(dagwood::Error::GraphvizMissing { path, dot, .. }) => {
            println!(
                "{}: Graphviz's `dot` is not installed (apt-get install graphviz); wrote {} instead",
                path.display(),
                dot.display()
            );
            Ok(())
        }
        Err(e) => Err(e),
    }
}
