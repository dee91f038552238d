//! Per-task overhead of dagwood's two graph paths beside rayon, hand-threaded
//! `std::thread` and a plain loop, and what the diagnostics (progress bar,
//! profiler) add to it. Run: `cargo bench --bench overhead`.
//! Criterion reports time per iteration; the throughput line gives tasks/s.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dagwood::{Plan, Scheduler};
use std::hint::black_box;

#[path = "workloads/mod.rs"]
mod workloads;
use workloads::*;

#[path = "workloads/diagnostics.rs"]
mod diagnostics_workload;
use diagnostics_workload::{run_variant, setup, shapes, spin_graph, DIAG_TASKS, VARIANTS};

#[path = "workloads/client.rs"]
mod client_workload;
use client_workload::{map_gather, submit_gather, CLIENT_TASKS};

fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn independent(c: &mut Criterion) {
    let mut g = c.benchmark_group("independent");
    g.throughput(Throughput::Elements(INDEPENDENT as u64 + 1));
    let graph = independent_graph();
    let pool = Scheduler::default();
    g.bench_function("dagwood-static", |b| {
        b.iter(|| graph.run_with(&pool, black_box(1)).unwrap_or(0))
    });
    g.bench_function("rayon", |b| b.iter(|| independent_rayon(black_box(1))));
    g.bench_function("std-threads", |b| {
        b.iter(|| independent_threads(black_box(1), threads()))
    });
    g.bench_function("sequential", |b| {
        b.iter(|| independent_sequential(black_box(1)))
    });
    g.finish();
}

fn dynamic(c: &mut Criterion) {
    let mut g = c.benchmark_group("dynamic");
    g.throughput(Throughput::Elements(DYNAMIC as u64));
    g.sample_size(30);
    for (name, s) in [("threads", Scheduler::default()), ("sync", Scheduler::Sync)] {
        g.bench_function(BenchmarkId::new("dagwood-build-and-run", name), |b| {
            b.iter(|| dynamic_build_and_run(black_box(1), &s))
        });
    }
    g.bench_function("rayon", |b| b.iter(|| dynamic_rayon(black_box(1))));
    g.bench_function("std-threads", |b| {
        b.iter(|| dynamic_threads(black_box(1), threads()))
    });
    g.bench_function("sequential", |b| {
        b.iter(|| dynamic_sequential(black_box(1)))
    });
    g.finish();
}

fn chain(c: &mut Criterion) {
    let mut g = c.benchmark_group("chain");
    g.throughput(Throughput::Elements(CHAIN as u64));
    let graph = chain_graph();
    g.bench_function("dagwood-static-fused", |b| {
        b.iter(|| {
            graph
                .run_with(&Scheduler::default(), black_box(1))
                .unwrap_or(0)
        })
    });
    g.bench_function("dagwood-dynamic-fused", |b| {
        b.iter(|| chain_dynamic(black_box(1), &Scheduler::Sync))
    });
    g.bench_function("plain-loop", |b| b.iter(|| chain_loop(black_box(1))));
    g.finish();
}

/// The diagnostics workload (`workloads/diagnostics.rs`) with each variant:
/// off, progress bar, timed no-op callback, profiler, dashboard (without
/// and with a page connected; the dashboard lives for the variant's whole
/// measurement, as it does for a program's whole run). Criterion measures the
/// variants one after another, so load from other processes can tilt them;
/// `cargo bench --bench diagnostics` interleaves them for the comparison.
fn diagnostics(c: &mut Criterion) {
    let mut g = c.benchmark_group("diagnostics");
    g.throughput(Throughput::Elements(DIAG_TASKS));
    g.sample_size(30);
    for (name, iters, s) in shapes() {
        let graph = spin_graph(iters);
        let plan = Plan::new(&graph);
        for variant in VARIANTS {
            let _setup = setup(variant);
            g.bench_function(BenchmarkId::new(variant, name), |b| {
                b.iter(|| run_variant(variant, &plan, &s))
            });
        }
    }
    g.finish();
}

/// The futures client: 10,000 tiny tasks submitted to a running client and
/// gathered (`workloads/client.rs`); `benches/peers/run_client.sh` sets it
/// beside `dask.distributed`.
fn client(c: &mut Criterion) {
    let mut g = c.benchmark_group("client");
    g.throughput(Throughput::Elements(CLIENT_TASKS as u64));
    g.sample_size(30);
    let client = dagwood::client::Client::new().expect("client threads");
    g.bench_function("submit-gather", |b| {
        b.iter(|| submit_gather(&client, black_box(1)))
    });
    g.bench_function("map-gather", |b| {
        b.iter(|| map_gather(&client, black_box(1)))
    });
    g.finish();
}

criterion_group!(benches, independent, dynamic, chain, diagnostics, client);
criterion_main!(benches);
