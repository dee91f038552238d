//! The cluster benchmark's dagwood side (issue 8), run by
//! `benches/cluster/run.sh` under `dagwood-launch -n P`:
//!
//! * `array`: `Array::<f64>::random_normal(&[N, N], &[C, C], ..).mean()`;
//! * `csv`: `read_csv(DIR/*.csv).groupby(["name"]).agg([mean("x")])` over
//!   the CSV groupby data of `benches/workloads/dataframe.rs`;
//! * `tiny`: a tree sum (fan-in 16) over `delayed(i).map(+1)` leaves, for
//!   the per-task overhead (wall time / tasks run).
//!
//! ```sh
//! cargo build --release -p dagwood-cluster --bin dagwood-launch --example cluster_bench
//! target/release/dagwood-launch -n 2 -- target/release/examples/cluster_bench array --repeat 3
//! ```
//!
//! Process 0 prints one JSON line per workload: the median wall seconds of
//! `--repeat` runs (the graph rebuilt each time; every run includes the
//! connection start-up between the processes), and from the last run's
//! `compute_with_stats`: `bytes_sent` / `values_sent` between processes,
//! `tasks` run, and `must_move_bytes`, the bytes that have to cross
//! processes at the least. What is compared: a reduction over P processes
//! must move at least one partial from each of the P - 1 processes that
//! do not gather the result; `must_move_bytes = (P - 1) × partial_bytes`,
//! where `partial_bytes` is the encoded size of one partial (array: the
//! postcard `(f64 sum, usize count)` of a block, computed here; csv: the
//! mean encoded size of the values that did move, `bytes_sent /
//! values_sent`, as the Arrow IPC partial aggregates all have about the
//! same size, ~1000 groups). So `bytes_sent / must_move_bytes` says how far
//! the placement is from the least traffic (target <= 1.2).
//! `digest` is compared with the Dask side's.

use std::path::PathBuf;
use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_array::RecordBatch;
use dagwood_cluster::{Cluster, SendStats};
use dagwood_collections::array::Array;
use dagwood_collections::dataframe::{read_csv, Agg};
use dagwood_runtime::{delayed, sum};

type Error = Box<dyn std::error::Error>;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `sum((i + 1) * mean_i)` in name order, as `benches/workloads/dataframe.rs`.
fn digest_of(batch: &RecordBatch) -> Result<(usize, f64), Error> {
    let schema = batch.schema();
    let names = batch.column(schema.index_of("name")?);
    let names: Vec<String> = if let Some(s) = names.as_string_opt::<i32>() {
        s.iter().map(|v| v.unwrap_or_default().to_owned()).collect()
    } else if let Some(s) = names.as_string_opt::<i64>() {
        s.iter().map(|v| v.unwrap_or_default().to_owned()).collect()
    } else {
        let s = names.as_string_view();
        s.iter().map(|v| v.unwrap_or_default().to_owned()).collect()
    };
    let x = batch
        .column(schema.index_of("x")?)
        .as_primitive::<Float64Type>();
    let mut pairs: Vec<(String, f64)> = names.into_iter().zip(x.values().iter().copied()).collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let digest = pairs
        .iter()
        .enumerate()
        .map(|(i, (_, v))| (i + 1) as f64 * v)
        .sum();
    Ok((x.len(), digest))
}

struct Run {
    seconds: Vec<f64>,
    stats: SendStats,
    digest: f64,
    extra: String,
}

fn run(cluster: &Cluster, mode: &str, args: &[String]) -> Result<Option<Run>, Error> {
    let repeat: usize = arg(args, "--repeat", 3);
    let mut seconds = Vec::new();
    let mut last = None;
    for _ in 0..repeat {
        let start = Instant::now();
        // The graph is built inside the timed region, as Dask's is.
        let (digest, stats, extra) = match mode {
            "array" => {
                let n: usize = arg(args, "--n", 8192);
                let c: usize = arg(args, "--chunk", 1024);
                let x = Array::<f64>::random_normal(&[n, n], &[c, c], 3.0, 2.0, 7)?;
                let (mean, stats) = cluster.compute_with_stats(&x.mean()?)?;
                let partial = postcard::to_stdvec(&(0.1_f64, c * c))?.len();
                (
                    mean,
                    stats,
                    format!(r#""n": {n}, "chunk": {c}, "partial_bytes": {partial}"#),
                )
            }
            "csv" => {
                let dir: PathBuf = arg(args, "--data", PathBuf::from("."));
                let df = read_csv(dir.join("*.csv"))?
                    .groupby(["name"])?
                    .agg([Agg::mean("x")])?;
                let (batch, stats) = cluster.compute_with_stats(&df)?;
                let (groups, digest) = match batch {
                    Some(b) => {
                        let (g, d) = digest_of(&b)?;
                        (g, Some(d))
                    }
                    None => (0, None),
                };
                (digest, stats, format!(r#""groups": {groups}"#))
            }
            "tiny" => {
                let leaves: i64 = arg(args, "--tasks", 20_000);
                let total = sum(
                    (0..leaves).map(|i| delayed(i).map("inc", |v: &i64| v + 1)),
                    16,
                )?;
                let (got, stats) = cluster.compute_with_stats(&total)?;
                (got.map(|v| v as f64), stats, String::new())
            }
            other => return Err(format!("unknown mode {other} (array, csv or tiny)").into()),
        };
        seconds.push(start.elapsed().as_secs_f64());
        last = digest.map(|d| (d, stats.total(), extra));
    }
    Ok(last.map(|(digest, stats, extra)| Run {
        seconds,
        stats,
        digest,
        extra,
    }))
}

fn main_() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().cloned().unwrap_or_else(|| "tiny".into());
    let cluster = Cluster::from_env()?;
    let Some(r) = run(&cluster, &mode, &args)? else {
        return Ok(());
    };
    let p = cluster.processes();
    let s = r.stats;
    let partial = match mode.as_str() {
        "array" => r
            .extra
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0),
        "csv" => s.bytes_sent.checked_div(s.values_sent).unwrap_or(0),
        _ => 0,
    };
    let must_move = (p as u64 - 1) * partial;
    let secs = median(r.seconds.clone());
    let extra = if r.extra.is_empty() {
        String::new()
    } else {
        format!(", {}", r.extra)
    };
    println!(
        r#"{{"impl": "dagwood", "workload": "{mode}", "processes": {p}, "threads": {}, "seconds": {secs:.6}, "runs": {:?}, "bytes_sent": {}, "values_sent": {}, "bytes_sent_within": {}, "tasks": {}, "must_move_bytes": {must_move}, "digest": {:.9}{extra}}}"#,
        cluster.threads(),
        r.seconds,
        s.bytes_sent,
        s.values_sent,
        s.bytes_sent_within,
        s.tasks_run,
        r.digest,
    );
    Ok(())
}

fn main() {
    if let Err(e) = main_() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
