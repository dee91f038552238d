//! What the diagnostics add per task, measured by interleaving: each round
//! runs the same plan once per variant (off, progress bar, timed no-op
//! callback, profiler) in turn, so that load from other processes falls on
//! all of them alike; the table gives medians over the rounds.
//!
//! `cargo bench --bench diagnostics -- [--rounds N]` (default 40).

use std::hint::black_box;
use std::time::Instant;

use dagwood::Plan;

#[path = "workloads/diagnostics.rs"]
mod diagnostics_workload;
use diagnostics_workload::{
    one_microsecond, run_variant, setup, shapes, spin_graph, DIAG_TASKS, VARIANTS,
};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    println!(
        "{DIAG_TASKS} tasks per run (+ a sum tree), {rounds} interleaved rounds; \
         a 1 µs task is {} spins here",
        one_microsecond()
    );
    println!("| tasks | variant | ms per run | ns per task | added per task | added |");
    println!("|---|---|---:|---:|---:|---:|");
    for (name, iters, s) in shapes() {
        let graph = spin_graph(iters);
        let plan = Plan::new(&graph);
        let tasks = plan.task_count() as f64;
        // Warm up the pool, the allocator and the caches.
        for variant in VARIANTS {
            let _setup = setup(variant);
            for _ in 0..3 {
                black_box(run_variant(variant, &plan, &s));
            }
        }
        let mut times = vec![Vec::with_capacity(rounds); VARIANTS.len()];
        for _ in 0..rounds {
            for (v, variant) in VARIANTS.iter().enumerate() {
                let _setup = setup(variant);
                let t = Instant::now();
                black_box(run_variant(variant, &plan, &s));
                times[v].push(t.elapsed().as_secs_f64());
            }
        }
        let medians: Vec<f64> = times.into_iter().map(median).collect();
        let off = medians[0];
        for (variant, m) in VARIANTS.iter().zip(&medians) {
            let added = (m - off) / tasks * 1e9;
            println!(
                "| {name} | {variant} | {:.3} | {:.1} | {:+.1} ns | {:+.1} % |",
                m * 1e3,
                m / tasks * 1e9,
                added,
                100.0 * (m - off) / off
            );
        }
    }
}
