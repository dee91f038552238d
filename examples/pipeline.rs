//! Dask's delayed tutorial in Rust: load inputs → clean → analyse → summarise.
//!
//! The same pipeline twice: once as a static `graph!` whose fan-out runs a
//! task per input however many there are (the DAG's shape is laid out by the
//! compiler, its width given at run time), once with `lazy` handles built in
//! a loop. Both are checked against the plain sequential code.
//!
//! `cargo run --release --example pipeline [n_inputs]`

use std::time::Instant;

use dagwood::prelude::*;

/// Summary statistics of one cleaned input.
#[derive(Clone, Debug, PartialEq)]
struct Stats {
    count: usize,
    sum: f64,
    sum_sq: f64,
    min: f64,
    max: f64,
}

/// Loads one "file": two million sensor readings, a few missing (NaN) and a
/// few wild outliers, generated deterministically from the file number.
#[delayed]
fn load(i: u64) -> Vec<f64> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ (i + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (0..2_000_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            match state % 1000 {
                0 => f64::NAN,
                1 => 1e6,
                _ => 20.0 + 10.0 * u + i as f64,
            }
        })
        .collect()
}

/// Drops missing readings and clips outliers.
#[delayed]
fn clean(raw: Vec<f64>) -> Vec<f64> {
    raw.into_iter()
        .filter(|x| !x.is_nan())
        .map(|x| x.min(100.0))
        .collect()
}

/// Statistics of one cleaned input (reads it by reference).
#[delayed]
fn analyse(data: &Vec<f64>) -> Stats {
    data.iter().fold(
        Stats {
            count: 0,
            sum: 0.0,
            sum_sq: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        },
        |s, &x| Stats {
            count: s.count + 1,
            sum: s.sum + x,
            sum_sq: s.sum_sq + x * x,
            min: s.min.min(x),
            max: s.max.max(x),
        },
    )
}

/// Combines the per-input statistics into (count, mean, std, min, max).
#[delayed]
fn summarise(all: Vec<Stats>) -> (usize, f64, f64, f64, f64) {
    let count: usize = all.iter().map(|s| s.count).sum();
    let sum: f64 = all.iter().map(|s| s.sum).sum();
    let sum_sq: f64 = all.iter().map(|s| s.sum_sq).sum();
    let mean = sum / count as f64;
    let std = (sum_sq / count as f64 - mean * mean).max(0.0).sqrt();
    let min = all.iter().map(|s| s.min).fold(f64::INFINITY, f64::min);
    let max = all.iter().map(|s| s.max).fold(f64::NEG_INFINITY, f64::max);
    (count, mean, std, min, max)
}

fn close(a: (usize, f64, f64, f64, f64), b: (usize, f64, f64, f64, f64)) -> bool {
    let rel = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0);
    a.0 == b.0 && rel(a.1, b.1) && rel(a.2, b.2) && a.3 == b.3 && a.4 == b.4
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(16);

    // Plain sequential code: the reference.
    let t = Instant::now();
    let expected = summarise((0..n).map(|i| analyse(&clean(load(i)))).collect());
    let sequential = t.elapsed();
    println!(
        "sequential      {n} inputs: {:>8.1?}  {expected:?}",
        sequential
    );

    // 1. A static graph over any number of inputs: the `for` binding is a
    //    fan-out, one task per input running the fused load -> clean ->
    //    analyse chain; `summarise` waits for all of them. Compiled once, run
    //    on the n inputs given at run time.
    let pipeline = graph!(|inputs: Vec<u64>| {
        let stats = for i in inputs {
            let raw = load(i);
            let cleaned = clean(raw);
            analyse(&cleaned)
        };
        summarise(stats)
    });
    let t = Instant::now();
    let got = pipeline.run((0..n).collect())?;
    let elapsed = t.elapsed();
    assert!(
        close(got, expected),
        "graph! result differs: {got:?} vs {expected:?}"
    );
    println!("graph!          {n} inputs: {elapsed:>8.1?}  {got:?}");

    // 2. The same pipeline over n inputs with lazy handles built in a loop.
    let t = Instant::now();
    let stats: Delayed<Vec<Stats>> = (0..n)
        .map(|i| analyse::lazy(clean::lazy(load::lazy(i))))
        .collect();
    let summary = summarise::lazy(stats);
    let plan = dagwood::Plan::new(&summary);
    println!(
        "lazy handles    {n} inputs: {} tasks, {} after fusion",
        plan.task_count(),
        plan.unit_count()
    );
    let got = plan.compute()?;
    let lazy = t.elapsed();
    assert!(
        close(got, expected),
        "lazy result differs: {got:?} vs {expected:?}"
    );
    println!("lazy handles    {n} inputs: {lazy:>8.1?}  {got:?}");
    println!(
        "speed-up over sequential: {:.2}x (graph!), {:.2}x (lazy) on {} threads",
        sequential.as_secs_f64() / elapsed.as_secs_f64(),
        sequential.as_secs_f64() / lazy.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    Ok(())
}
