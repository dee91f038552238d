//! Dask's delayed tutorial in Rust: load inputs → clean → analyse → summarise.
//!
//! The same pipeline twice: once as a static `graph!` (the DAG is laid out by
//! the compiler), once with `lazy` handles built in a loop (the DAG's size is
//! known only at run time). Both are checked against the plain sequential code.
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

    // 1. A static graph of four inputs, written out: the macro fuses each
    //    load → clean → analyse chain and runs the four chains in parallel.
    let t = Instant::now();
    let four = graph! {
        let raw0 = load(0);
        let raw1 = load(1);
        let raw2 = load(2);
        let raw3 = load(3);
        let clean0 = clean(raw0);
        let clean1 = clean(raw1);
        let clean2 = clean(raw2);
        let clean3 = clean(raw3);
        let stats0 = analyse(&clean0);
        let stats1 = analyse(&clean1);
        let stats2 = analyse(&clean2);
        let stats3 = analyse(&clean3);
        summarise(vec![stats0, stats1, stats2, stats3])
    };
    println!(
        "graph!           4 inputs: {} tasks, {} after fusion",
        four.info().task_count(),
        four.info().unit_count()
    );
    let got = four.compute()?;
    let want = summarise((0..4).map(|i| analyse(&clean(load(i)))).collect());
    assert!(
        close(got, want),
        "graph! result differs: {got:?} vs {want:?}"
    );
    println!("graph!           4 inputs: {:>8.1?}  {got:?}", t.elapsed());

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
    let parallel = t.elapsed();
    assert!(
        close(got, expected),
        "lazy result differs: {got:?} vs {expected:?}"
    );
    println!("lazy handles    {n} inputs: {:>8.1?}  {got:?}", parallel);
    println!(
        "speed-up over sequential: {:.2}x on {} threads",
        sequential.as_secs_f64() / parallel.as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    Ok(())
}
