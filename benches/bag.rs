//! The JSON-lines frequencies pipeline over 20 gzip files x 100k records
//! (`read_text(..).map_json().filter(..).pluck("name").frequencies()`):
//! dagwood's `Bag` beside the same work written by hand with rayon over the
//! files and by one thread with an iterator chain, for untyped
//! (`serde_json::Value`) and typed (`#[derive(Deserialize)]`) records.
//! Target: dagwood within 1.1x of the hand-written rayon version.
//!
//! Run: `cargo bench --bench bag`. The data is generated once into
//! `target/bench-data/bag-json`; every version is checked against the
//! sequential one before it is timed. The workloads are in
//! benches/workloads/bag.rs; `benches/peers/run_bag.sh` sets the same
//! numbers beside dask.bag.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "workloads/bag.rs"]
mod bag;
use bag::*;

fn bench(c: &mut Criterion) {
    let dir = ensure_data().expect("generating the benchmark data");
    let want = sequential_value(&dir).expect("the sequential version");
    let check = |name: &str, got: Counts| assert!(got == want, "{name} differs from sequential");
    check("dagwood-value", dagwood_value(&dir).expect("dagwood-value"));
    check("rayon-value", rayon_value(&dir).expect("rayon-value"));
    check("dagwood-typed", dagwood_typed(&dir).expect("dagwood-typed"));
    check("rayon-typed", rayon_typed(&dir).expect("rayon-typed"));

    let mut g = c.benchmark_group("bag-json-frequencies");
    g.throughput(Throughput::Elements((FILES * RECORDS) as u64));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(2));
    g.measurement_time(Duration::from_secs(12));
    g.bench_function("dagwood-value", |b| b.iter(|| dagwood_value(&dir)));
    g.bench_function("rayon-value", |b| b.iter(|| rayon_value(&dir)));
    g.bench_function("dagwood-typed", |b| b.iter(|| dagwood_typed(&dir)));
    g.bench_function("rayon-typed", |b| b.iter(|| rayon_typed(&dir)));
    g.measurement_time(Duration::from_secs(25));
    g.bench_function("sequential-value", |b| b.iter(|| sequential_value(&dir)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
