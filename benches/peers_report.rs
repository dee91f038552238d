//! dagwood's side of `benches/peers/run.sh`: times the overhead workloads and
//! prints one JSON line per measurement (µs per task), for the script to set
//! beside Dask's numbers from the same run.
//!
//! `cargo bench --bench peers_report -- [--repeat N]`

use std::hint::black_box;
use std::time::Instant;

use dagwood::Scheduler;

#[path = "workloads/mod.rs"]
mod workloads;
use workloads::*;

/// Median µs per task of `f` over `repeat` timed batches, after checking
/// that `f` answers `want` (the plain loop's answer; overhead.py checks
/// Dask's the same way and run.sh compares the two sides').
fn measure(tasks: usize, repeat: usize, want: u64, mut f: impl FnMut() -> u64) -> f64 {
    let got = f();
    if got != want {
        eprintln!("wrong answer: {got}, the plain loop's is {want}");
        std::process::exit(1);
    }
    // Size a batch to about 20 ms so timer noise is small.
    let start = Instant::now();
    let mut iters = 0u64;
    while start.elapsed().as_millis() < 20 {
        black_box(f());
        iters += 1;
    }
    let mut samples: Vec<f64> = (0..repeat)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                black_box(f());
            }
            t.elapsed().as_secs_f64() * 1e6 / (iters as f64 * tasks as f64)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let repeat = args
        .iter()
        .position(|a| a == "--repeat")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let threads = Scheduler::default();
    let n_threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let independent = independent_graph();
    let chain = chain_graph();
    // Every measurement is checked against these before it is timed, and
    // its answer printed for run.sh to compare with Dask's.
    let (want_independent, want_dynamic, want_chain) = (
        independent_sequential(1),
        dynamic_sequential(1),
        chain_loop(1),
    );
    let report = |workload: &str, imp: &str, us: f64| {
        let answer = match workload {
            "independent" => want_independent,
            "dynamic" => want_dynamic,
            _ => want_chain,
        };
        println!(
            r#"{{"workload":"{workload}","impl":"{imp}","us_per_task":{us:.5},"answer":"{answer}"}}"#
        );
    };
    let n = INDEPENDENT + 1;
    report(
        "independent",
        "dagwood-static",
        measure(n, repeat, want_independent, || {
            independent
                .run_with(&threads, black_box(1))
                .expect("the static graph failed")
        }),
    );
    report(
        "independent",
        "rayon",
        measure(n, repeat, want_independent, || {
            independent_rayon(black_box(1))
        }),
    );
    report(
        "independent",
        "std-threads",
        measure(n, repeat, want_independent, || {
            independent_threads(black_box(1), n_threads)
        }),
    );
    report(
        "independent",
        "sequential",
        measure(n, repeat, want_independent, || {
            independent_sequential(black_box(1))
        }),
    );
    report(
        "dynamic",
        "dagwood-dynamic",
        measure(DYNAMIC, repeat, want_dynamic, || {
            dynamic_build_and_run(black_box(1), &threads)
        }),
    );
    report(
        "dynamic",
        "rayon",
        measure(DYNAMIC, repeat, want_dynamic, || {
            dynamic_rayon(black_box(1))
        }),
    );
    report(
        "dynamic",
        "std-threads",
        measure(DYNAMIC, repeat, want_dynamic, || {
            dynamic_threads(black_box(1), n_threads)
        }),
    );
    report(
        "dynamic",
        "sequential",
        measure(DYNAMIC, repeat, want_dynamic, || {
            dynamic_sequential(black_box(1))
        }),
    );
    report(
        "chain",
        "dagwood-static",
        measure(CHAIN, repeat, want_chain, || {
            chain
                .run_with(&threads, black_box(1))
                .expect("the static chain failed")
        }),
    );
    report(
        "chain",
        "dagwood-dynamic",
        measure(CHAIN, repeat, want_chain, || {
            chain_dynamic(black_box(1), &threads)
        }),
    );
    report(
        "chain",
        "plain-loop",
        measure(CHAIN, repeat, want_chain, || chain_loop(black_box(1))),
    );
}
