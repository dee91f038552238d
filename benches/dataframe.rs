//! The CSV groupby-mean over 10 CSV files x 200k rows of `id,name,x,y`
//! (`read_csv("*.csv").groupby(["name"]).agg([Agg::mean("x")])`, 1000
//! names): dagwood's `DataFrame` beside the same work written by hand with
//! arrow-csv and rayon over the files, and by one thread.
//!
//! Run: `cargo bench --bench dataframe`. The data is generated once into
//! `target/bench-data/csv-groupby-10x200000`; every version is checked
//! against the single-threaded one before it is timed. The workloads are in
//! benches/workloads/dataframe.rs; `benches/peers/run_dataframe.sh` sets
//! the same numbers (on 10 x 1M rows) beside pandas, Polars and
//! dask.dataframe.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};

#[path = "workloads/dataframe.rs"]
mod dataframe;
use dataframe::*;

fn bench(c: &mut Criterion) {
    let dir = ensure_data(BENCH_ROWS).expect("generating the benchmark data");
    let want = single_threaded(&dir).expect("the single-threaded version");
    assert_eq!(want.len(), NAMES, "every name has a mean");
    let check = |name: &str, got: Means| {
        if let Err(e) = same(&got, &want) {
            panic!("{name} differs from single-threaded: {e}");
        }
    };
    check("dagwood", dagwood(&dir).expect("dagwood"));
    check("rayon-handwritten", rayon_handwritten(&dir).expect("rayon"));

    let mut g = c.benchmark_group("csv-groupby-mean");
    g.throughput(Throughput::Elements((FILES * BENCH_ROWS) as u64));
    // Runs of 0.1-0.5 s: a few equal samples rather than a linear ramp.
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(2));
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("dagwood", |b| b.iter(|| dagwood(&dir)));
    g.bench_function("rayon-handwritten", |b| b.iter(|| rayon_handwritten(&dir)));
    g.measurement_time(Duration::from_secs(15));
    g.bench_function("single-threaded", |b| b.iter(|| single_threaded(&dir)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
