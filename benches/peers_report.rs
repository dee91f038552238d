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

/// Median µs per task of `f` over `repeat` timed batches.
fn measure(tasks: usize, repeat: usize, mut f: impl FnMut() -> u64) -> f64 {
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
    let report = |workload: &str, imp: &str, us: f64| {
        println!(r#"{{"workload":"{workload}","impl":"{imp}","us_per_task":{us:.5}}}"#);
    };
    let n = INDEPENDENT + 1;
    report(
        "independent",
        "dagwood-static",
        measure(n, repeat, || {
            independent.run_with(&threads, black_box(1)).unwrap_or(0)
        }),
    );
    report(
        "independent",
        "rayon",
        measure(n, repeat, || independent_rayon(black_box(1))),
    );
    report(
        "independent",
        "std-threads",
        measure(n, repeat, || independent_threads(black_box(1), n_threads)),
    );
    report(
        "independent",
        "sequential",
        measure(n, repeat, || independent_sequential(black_box(1))),
    );
    report(
        "dynamic",
        "dagwood-dynamic",
        measure(DYNAMIC, repeat, || {
            dynamic_build_and_run(black_box(1), &threads)
        }),
    );
    report(
        "dynamic",
        "rayon",
        measure(DYNAMIC, repeat, || dynamic_rayon(black_box(1))),
    );
    report(
        "dynamic",
        "std-threads",
        measure(DYNAMIC, repeat, || dynamic_threads(black_box(1), n_threads)),
    );
    report(
        "dynamic",
        "sequential",
        measure(DYNAMIC, repeat, || dynamic_sequential(black_box(1))),
    );
    report(
        "chain",
        "dagwood-static",
        measure(CHAIN, repeat, || {
            chain.run_with(&threads, black_box(1)).unwrap_or(0)
        }),
    );
    report(
        "chain",
        "dagwood-dynamic",
        measure(CHAIN, repeat, || chain_dynamic(black_box(1), &threads)),
    );
    report(
        "chain",
        "plain-loop",
        measure(CHAIN, repeat, || chain_loop(black_box(1))),
    );
}
