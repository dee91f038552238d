//! Static graphs v2 against their peers, one JSON line per measurement (for
//! `benches/peers/run_static.sh`, which interleaves it with Dask and prints
//! the medians):
//!
//! * `dag200-tiny`: a random DAG of 200 tiny tasks (2-3 inputs each) —
//!   static `graph!` (compiled: no build at run time), `Delayed` (built and
//!   run), hand-written rayon with atomic counts, one thread; µs per task;
//! * `dag200-spin`: the same DAG with spinning tasks of known cost, against
//!   the bound no schedule beats, `max(critical path, work / threads)`; ms;
//! * `connected`, `n`, `ladder`: the issue's shapes with sleeping tasks,
//!   against their critical paths; ms;
//! * `pipeline16`, `pipeline256`: Dask's delayed tutorial over 16 and 256
//!   inputs — static fan-out, lazy handles, hand-threaded, one thread; ms.
//!
//! `cargo bench --bench static_graphs -- [--repeat N]`

use std::hint::black_box;
use std::time::{Duration, Instant};

use dagwood::prelude::*;

/// A named graph shape, its critical path in ms, and the graph to run.
type Shape = (&'static str, f64, Box<dyn Fn() -> u64>);

#[path = "workloads/pipeline.rs"]
mod pipeline;
#[path = "workloads/random_dag.rs"]
mod random_dag;
#[path = "workloads/report.rs"]
mod report;

/// Median µs per task of `f` over `repeat` batches of about 20 ms.
fn per_task(tasks: usize, repeat: usize, mut f: impl FnMut() -> u64) -> f64 {
    let start = Instant::now();
    let mut iters = 0u64;
    while start.elapsed() < Duration::from_millis(20) {
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

/// Median ms of `repeat` runs of `f`, after one warm-up run.
fn ms<T>(repeat: usize, mut f: impl FnMut() -> T) -> f64 {
    black_box(f());
    report::measure(repeat, f).0 * 1e3
}

fn line(workload: &str, imp: &str, value: f64, unit: &str) {
    println!(r#"{{"workload":"{workload}","impl":"{imp}","value":{value:.5},"unit":"{unit}"}}"#);
}

fn nap(ms: u64, inputs: &[u64]) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    inputs.iter().sum::<u64>() + ms
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let repeat: usize = report::arg(&args, "--repeat").unwrap_or(5);
    let scheduler = Scheduler::default();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());

    // The random DAG: every implementation gives the same answer.
    let dag = random_dag::static_graph();
    let want = random_dag::sequential(0);
    assert_eq!(dag.run_with(&scheduler, 0).ok(), Some(want), "static");
    assert_eq!(random_dag::dynamic(0, &scheduler), want, "dynamic");
    assert_eq!(random_dag::rayon_counts(0), want, "rayon");
    let n = random_dag::TASKS;
    let w = "dag200-tiny";
    line(
        w,
        "static",
        per_task(n, repeat, || dag.run_with(&scheduler, 0).unwrap_or(0)),
        "us/task",
    );
    line(
        w,
        "dynamic",
        per_task(n, repeat, || random_dag::dynamic(0, &scheduler)),
        "us/task",
    );
    line(
        w,
        "rayon-counts",
        per_task(n, repeat, || random_dag::rayon_counts(0)),
        "us/task",
    );
    line(
        w,
        "sequential",
        per_task(n, repeat, || random_dag::sequential(0)),
        "us/task",
    );

    // Spinning tasks: 20 µs per unit of weight.
    let unit = 20_000;
    let bound = (random_dag::critical_path() as f64)
        .max(random_dag::total_work() as f64 / threads as f64)
        * unit as f64
        / 1e6;
    let w = "dag200-spin";
    line(w, "bound", bound, "ms");
    line(
        w,
        "static",
        ms(repeat, || dag.run_with(&scheduler, unit)),
        "ms",
    );
    line(
        w,
        "dynamic",
        ms(repeat, || random_dag::dynamic(unit, &scheduler)),
        "ms",
    );
    line(
        w,
        "rayon-counts",
        ms(repeat, || random_dag::rayon_counts(unit)),
        "ms",
    );
    line(
        w,
        "sequential",
        ms(repeat.min(3), || random_dag::sequential(unit)),
        "ms",
    );

    // The issue's shapes, with sleeps (ms), against their critical paths.
    let shapes: [Shape; 3] = [
        (
            "connected",
            110.0,
            Box::new(|| {
                graph! {
                    let a = nap(10, &[]);
                    let b = nap(100, &[]);
                    let c = nap(100, &[a]);
                    let d = nap(10, &[b]);
                    let e = c + d;
                    e
                }
                .compute()
                .unwrap_or(0)
            }),
        ),
        (
            "n",
            110.0,
            Box::new(|| {
                graph! {
                    let a = nap(10, &[]);
                    let b = nap(100, &[]);
                    let c = nap(100, &[a]);
                    let d = nap(10, &[a, b]);
                    c + d
                }
                .compute()
                .unwrap_or(0)
            }),
        ),
        (
            "ladder",
            120.0,
            Box::new(|| {
                graph! {
                    let a1 = nap(10, &[]);
                    let b1 = nap(100, &[]);
                    let a2 = nap(100, &[a1]);
                    let a3 = nap(10, &[a2]);
                    let b2 = nap(10, &[b1, a1]);
                    let b3 = nap(10, &[b2, a2]);
                    a3 + b3
                }
                .compute()
                .unwrap_or(0)
            }),
        ),
    ];
    for (name, critical, f) in &shapes {
        line(name, "critical-path", *critical, "ms");
        line(name, "static", ms(repeat, f), "ms");
    }

    // The pipeline: every implementation gives the same answer.
    let static_pipeline = pipeline::static_pipeline();
    for n in [16u64, 256] {
        let want = pipeline::sequential_pipeline(n);
        let same = |got: (usize, f64, f64)| {
            got.0 == want.0 && (got.1 - want.1).abs() < 1e-9 && (got.2 - want.2).abs() < 1e-9
        };
        let inputs: Vec<u64> = (0..n).collect();
        assert!(same(
            static_pipeline
                .run_with(&scheduler, inputs.clone())
                .unwrap_or_default()
        ));
        assert!(same(pipeline::lazy_pipeline(n, &scheduler)));
        assert!(same(pipeline::threaded_pipeline(n, threads)));
        let w = format!("pipeline{n}");
        let r = repeat.min(3);
        line(
            &w,
            "static",
            ms(r, || static_pipeline.run_with(&scheduler, inputs.clone())),
            "ms",
        );
        line(
            &w,
            "lazy",
            ms(r, || pipeline::lazy_pipeline(n, &scheduler)),
            "ms",
        );
        line(
            &w,
            "std-threads",
            ms(r, || pipeline::threaded_pipeline(n, threads)),
            "ms",
        );
        line(
            &w,
            "sequential",
            ms(r.min(2), || pipeline::sequential_pipeline(n)),
            "ms",
        );
    }
}
