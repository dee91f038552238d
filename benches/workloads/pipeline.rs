//! Dask's delayed tutorial as a benchmark (the shape of examples/pipeline.rs,
//! with a size per input): load each input, clean it, analyse it, summarise
//! all; four ways — a static `graph!` with a fan-out, `lazy` handles built in
//! a loop, hand-threaded `std::thread` code, and one thread.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use dagwood::prelude::*;

/// Readings per input.
pub const READINGS: usize = 250_000;

/// Per-input statistics: count, sum, sum of squares, min, max.
pub type Stats = (usize, f64, f64, f64, f64);

/// One input: deterministic readings with a few missing (NaN) and outliers.
#[delayed]
pub fn load(i: u64) -> Vec<f64> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ (i + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (0..READINGS)
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
pub fn clean(raw: Vec<f64>) -> Vec<f64> {
    raw.into_iter()
        .filter(|x| !x.is_nan())
        .map(|x| x.min(100.0))
        .collect()
}

/// Statistics of one cleaned input.
#[delayed]
pub fn analyse(data: &Vec<f64>) -> Stats {
    data.iter()
        .fold((0, 0.0, 0.0, f64::INFINITY, f64::NEG_INFINITY), |s, &x| {
            (s.0 + 1, s.1 + x, s.2 + x * x, s.3.min(x), s.4.max(x))
        })
}

/// Count, mean and standard deviation over all inputs, in input order.
#[delayed]
pub fn summarise(all: Vec<Stats>) -> (usize, f64, f64) {
    let (n, s, sq) = all
        .iter()
        .fold((0, 0.0, 0.0), |a, x| (a.0 + x.0, a.1 + x.1, a.2 + x.2));
    let mean = s / n as f64;
    (n, mean, (sq / n as f64 - mean * mean).max(0.0).sqrt())
}

/// The pipeline as one static graph over any number of inputs.
#[allow(clippy::type_complexity)] // the graph's type is an `impl Fn`; an alias cannot name it
pub fn static_pipeline(
) -> dagwood::GraphFn<impl Fn(&dagwood::Exec, Vec<u64>) -> (usize, f64, f64) + Sync, (Vec<u64>,)> {
    graph!(|inputs: Vec<u64>| {
        let stats = for i in inputs {
            analyse(&clean(load(i)))
        };
        summarise(stats)
    })
}

/// The pipeline as `lazy` handles built in a loop, then computed.
pub fn lazy_pipeline(n: u64, scheduler: &Scheduler) -> (usize, f64, f64) {
    let stats: Delayed<Vec<Stats>> = (0..n)
        .map(|i| analyse::lazy(clean::lazy(load::lazy(i))))
        .collect();
    summarise::lazy(stats)
        .compute_with(scheduler)
        .unwrap_or((0, 0.0, 0.0))
}

/// The pipeline by hand: one thread per core pulling inputs off a counter.
pub fn threaded_pipeline(n: u64, threads: usize) -> (usize, f64, f64) {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<(u64, Stats)>> = Mutex::new(Vec::with_capacity(n as usize));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as u64;
                if i >= n {
                    break;
                }
                let stats = analyse(&clean(load(i)));
                if let Ok(mut out) = out.lock() {
                    out.push((i, stats));
                }
            });
        }
    });
    let mut all = out.into_inner().unwrap_or_default();
    all.sort_by_key(|(i, _)| *i);
    summarise(all.into_iter().map(|(_, s)| s).collect())
}

/// The pipeline on one thread.
pub fn sequential_pipeline(n: u64) -> (usize, f64, f64) {
    summarise((0..n).map(|i| analyse(&clean(load(i)))).collect())
}
