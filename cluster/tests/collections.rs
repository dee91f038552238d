//! Collections on the cluster: array, bag and data frame graphs give the
//! single-process results on 2 and 3 processes (through `dagwood-launch`),
//! and only partials travel. Same harness as `launch.rs`: the launcher
//! re-runs this test binary as the program, one port range per test.

#![cfg(feature = "collections")]

mod common;
use common::run_guarded;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use dagwood_cluster::{Cluster, SendStats};
use dagwood_collections::array::Array;
use dagwood_collections::bag::Bag;
use dagwood_collections::dataframe::{Agg, DataFrame, How, ShuffleOptions};
use dagwood_runtime::compute_all;

const LAUNCH: &str = env!("CARGO_BIN_EXE_dagwood-launch");

// ---------------------------------------------------------------- workloads

/// 1024 x 1024 normal samples (8 MB of f64) in 64 blocks of 128 x 128.
fn normal() -> Array<f64> {
    Array::<f64>::random_normal(&[1024, 1024], &[128, 128], 3.0, 2.0, 7).expect("an array")
}

/// The fractal example's kernel (examples/fractal.rs): escape counts of
/// `z ← z² + c` over a grid of `c`, 240 x 360 pixels in 16 blocks.
fn fractal() -> Result<Array<i32>, Box<dyn std::error::Error>> {
    use dagwood_collections::array::{where_, Complex64};
    let (rows, cols, chunk) = (240, 360, [60, 90]);
    let (dx, dy) = (1.5 / (cols - 1) as f64, 1.0 / (rows - 1) as f64);
    let x = ndarray::Array2::from_shape_fn((1, cols), |(_, j)| {
        Complex64::new(-1.5 + j as f64 * dx, 0.0)
    });
    let y = ndarray::Array2::from_shape_fn((rows, 1), |(i, _)| {
        Complex64::new(0.0, -1.0 + i as f64 * dy)
    });
    let (x, y) = (
        Array::from_array(&x, &[1, chunk[1]])?,
        Array::from_array(&y, &[chunk[0], 1])?,
    );
    let mut z = &x + &y;
    let c = z.clone();
    let mut out = Array::<i32>::zeros(&[rows, cols], &chunk)?;
    for it in 0..20 {
        z = &z * &z + &c;
        let diverged = z.norm_sqr().greater(4.0);
        out = where_(&(&diverged & out.equal(0)), it, &out)?;
        z = where_(&diverged, Complex64::new(2.0, 0.0), &z)?;
    }
    Ok(out)
}

fn bits(xs: impl IntoIterator<Item = f64>) -> String {
    xs.into_iter()
        .map(|x| format!("{:x}", x.to_bits()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Lines of a few words each, in 12 partitions.
fn lines() -> Result<Bag<String>, dagwood_collections::bag::BagError> {
    let lines: Vec<String> = (0..4000_u64)
        .map(|i| format!("w{} w{} x{} common", i % 7, i % 13, i % 101))
        .collect();
    Bag::from_sequence(lines, 12)
}

/// The words' frequencies.
fn words() -> Bag<(String, usize)> {
    lines()
        .expect("a bag")
        .flat_map(|l: String| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .frequencies()
        .expect("frequencies")
}

fn frame() -> DataFrame {
    let n = 20_000_i64;
    let k: Vec<String> = (0..n).map(|i| format!("k{}", (i * 7919) % 37)).collect();
    let x: Vec<f64> = (0..n).map(|i| ((i * 31) % 1000) as f64 / 8.0).collect();
    let y: Vec<i64> = (0..n).map(|i| i % 5).collect();
    DataFrame::from_arrays(
        [
            ("k", Arc::new(StringArray::from(k)) as ArrayRef),
            ("x", Arc::new(Float64Array::from(x)) as ArrayRef),
            ("y", Arc::new(Int64Array::from(y)) as ArrayRef),
        ],
        10,
    )
    .expect("a frame")
}

fn grouped() -> DataFrame {
    frame()
        .groupby(["k"])
        .expect("groupby")
        .agg([
            Agg::mean("x").alias("x_mean"),
            Agg::count("x").alias("x_count"),
            Agg::sum("y"),
        ])
        .expect("agg")
}

/// A label per key of `frame`, in 3 partitions (so a merge with it is a
/// shuffle join, not a broadcast).
fn labels() -> DataFrame {
    let k: Vec<String> = (0..37).map(|i| format!("k{i}")).collect();
    let label: Vec<i64> = (0..37).map(|i| i * 100).collect();
    DataFrame::from_arrays(
        [
            ("k", Arc::new(StringArray::from(k)) as ArrayRef),
            ("label", Arc::new(Int64Array::from(label)) as ArrayRef),
        ],
        3,
    )
    .expect("a frame")
}

/// Every row of a frame's batches, in order.
fn show_rows(parts: &[RecordBatch]) -> String {
    let rows: Vec<String> = parts
        .iter()
        .flat_map(|b| {
            (0..b.num_rows()).map(move |r| {
                b.columns()
                    .iter()
                    .map(|c| arrow_cast_display(c, r))
                    .collect::<Vec<_>>()
                    .join("|")
            })
        })
        .collect();
    format!("{} rows: {}", rows.len(), rows.join(";"))
}

fn show_batch(b: &RecordBatch) -> String {
    // Rows sorted, so that the text does not depend on row order.
    let mut rows: Vec<String> = (0..b.num_rows())
        .map(|r| {
            b.columns()
                .iter()
                .map(|c| arrow_cast_display(c, r))
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    rows.sort();
    format!(
        "{:?} {}",
        b.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect::<Vec<_>>(),
        rows.join(";")
    )
}

fn arrow_cast_display(c: &ArrayRef, r: usize) -> String {
    if let Some(a) = c.as_any().downcast_ref::<Float64Array>() {
        format!("{:x}", a.value(r).to_bits())
    } else if let Some(a) = c.as_any().downcast_ref::<Int64Array>() {
        a.value(r).to_string()
    } else if let Some(a) = c.as_any().downcast_ref::<StringArray>() {
        a.value(r).to_string()
    } else {
        format!("{:?}", c.slice(r, 1))
    }
}

/// The result of a workload as text, computed by `run` (the cluster or the
/// local scheduler).
fn result(
    mode: &str,
    cluster: Option<&Cluster>,
) -> Result<(Option<String>, SendStats), Box<dyn std::error::Error>> {
    let none = SendStats::default();
    Ok(match mode {
        "array-mean" => {
            let m = normal().mean()?;
            match cluster {
                None => (Some(bits([m.compute()?])), none),
                Some(c) => {
                    let (v, s) = c.compute_with_stats(&m)?;
                    (v.map(|v| bits([v])), s.total())
                }
            }
        }
        "array-axis" => {
            // An axis reduction gathered as an array, and elementwise work
            // with a transpose (blocks travel) feeding a whole reduction.
            let x = normal();
            let cols = x.sum_axis(0)?;
            let sym = (&x + &x.t()).sum()?;
            match cluster {
                // `sym` first: its blocks come first in the graph's order, so
                // that `cols`' partial blocks (ArrayD) are computed away from
                // process 0 and travel there.
                None => {
                    let (s, c) = compute_all((&sym, &cols))?;
                    (
                        Some(format!("{} {}", bits(c.iter().copied()), bits([s]))),
                        none,
                    )
                }
                Some(cl) => {
                    let (v, s) = cl.compute_with_stats(&(&sym, &cols))?;
                    (
                        v.map(|(s, c)| format!("{} {}", bits(c.iter().copied()), bits([s]))),
                        s.total(),
                    )
                }
            }
        }
        "fractal" => {
            let f = fractal()?;
            let show = |a: &ndarray::ArrayD<i32>| {
                format!(
                    "{:?} {}",
                    a.shape(),
                    a.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("")
                )
            };
            match cluster {
                None => (Some(show(&f.compute()?)), none),
                Some(c) => {
                    let (v, s) = c.compute_with_stats(&f)?;
                    (v.map(|a| show(&a)), s.total())
                }
            }
        }
        "bag" => {
            // frequencies, and a foldby: total word length per first letter.
            let f = words();
            let lengths = lines()?
                .flat_map(|l: String| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                .foldby(
                    |w: &String| w.chars().next().unwrap_or(' ').to_string(),
                    |n: u64, w: String| n + w.len() as u64,
                    0,
                    |a: u64, b: u64| a + b,
                )?;
            match cluster {
                None => {
                    let (f, l) = compute_all((&f, &lengths))?;
                    (Some(format!("{f:?} {l:?}")), none)
                }
                Some(c) => {
                    let (v, s) = c.compute_with_stats(&(&f, &lengths))?;
                    (v.map(|(f, l)| format!("{f:?} {l:?}")), s.total())
                }
            }
        }
        "frame" => {
            let g = grouped();
            match cluster {
                None => (Some(show_batch(&g.compute()?)), none),
                Some(c) => {
                    let (v, s) = c.compute_with_stats(&g)?;
                    (v.map(|b| show_batch(&b)), s.total())
                }
            }
        }
        "shuffle" | "shuffle-spill" | "merge" | "sort" => {
            let f = match mode {
                // Rows with equal keys in one partition.
                "shuffle" => frame().shuffle(["k"], ShuffleOptions::default())?,
                // Every bucket spilled to local disk before it travels.
                "shuffle-spill" => frame().shuffle(
                    ["k"],
                    ShuffleOptions {
                        memory_limit: Some(0),
                        ..ShuffleOptions::default()
                    },
                )?,
                // Both sides partitioned: a hash join through two shuffles.
                "merge" => frame().merge(&labels(), ["k"], How::Inner)?,
                // By sampled quantiles, then sorted within partitions.
                _ => frame().sort_values(["x", "y"], true)?,
            };
            // Every row in order (partition after partition): the
            // partitioning itself must match the single-process run's.
            match cluster {
                None => (Some(show_rows(&[f.compute()?])), none),
                Some(c) => {
                    let (v, s) = c.compute_with_stats(&f)?;
                    (v.map(|b| show_rows(&[b])), s.total())
                }
            }
        }
        "bag-groupby" => {
            let words = lines()?
                .flat_map(|l: String| l.split_whitespace().map(str::to_string).collect::<Vec<_>>());
            let g = words.groupby(|w: &String| w.clone());
            let show = |groups: Vec<(String, Vec<String>)>| {
                let mut g: Vec<String> = groups
                    .into_iter()
                    .map(|(k, v)| format!("{k}:{}", v.len()))
                    .collect();
                g.sort();
                g.join(",")
            };
            match cluster {
                None => (Some(show(g.compute()?)), none),
                Some(c) => {
                    let (v, s) = c.compute_with_stats(&g)?;
                    (v.map(show), s.total())
                }
            }
        }
        other => return Err(format!("unknown mode {other}").into()),
    })
}

fn child(mode: &str) -> Result<Option<String>, Box<dyn std::error::Error>> {
    let cluster = Cluster::from_env()?;
    let (r, s) = result(mode, Some(&cluster))?;
    if r.is_some() {
        println!(
            "\nSTATS bytes_sent={} values_sent={} tasks_run={} within_process={}",
            s.bytes_sent, s.values_sent, s.tasks_run, s.bytes_sent_within
        );
    }
    Ok(r)
}

/// Not a test of its own: the program that the launcher starts.
#[test]
fn child_program() {
    common::child_main(child);
}

// ------------------------------------------------------------- harness

/// Runs `mode` on `n` processes of `threads` threads; gives process 0's
/// result line and its total bytes sent between processes.
fn launch(
    mode: &str,
    n: usize,
    threads: usize,
    base_port: u16,
    env: &[(&str, &str)],
) -> (String, u64) {
    let me = std::env::current_exe().expect("test binary");
    let mut cmd = Command::new(LAUNCH);
    cmd.args(["-n", &n.to_string(), "--threads", &threads.to_string()])
        .args(["--base-port", &base_port.to_string(), "--timeout", "20"])
        .arg("--")
        .arg(me)
        .arg("child_program")
        .arg("--exact")
        .arg("--nocapture")
        .arg("--test-threads=1")
        .env("DAGWOOD_TEST_CHILD", mode)
        .envs(env.iter().copied());
    let (out, _) = run_guarded(cmd, Duration::from_secs(240));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "{mode} on {n} processes\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let line = |prefix: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix).map(str::to_string))
            .unwrap_or_else(|| panic!("no {prefix:?} line in\n{stdout}\nstderr:\n{stderr}"))
    };
    let result = line("[p0] RESULT ");
    let stats = line("[p0] STATS ");
    eprintln!("{mode} on {n} processes x {threads} threads: {stats}");
    let bytes = stats
        .split_whitespace()
        .find_map(|w| w.strip_prefix("bytes_sent="))
        .and_then(|b| b.parse().ok())
        .unwrap_or_else(|| panic!("no bytes_sent in {stats:?}"));
    (result, bytes)
}

fn check(mode: &str, ports: [u16; 2]) -> Vec<u64> {
    let (want, _) = result(mode, None).expect("single-process run");
    let want = want.expect("a result");
    let mut sent = Vec::new();
    // 2 processes of 1 thread, 3 processes of 2 threads.
    for (n, threads, port) in [(2, 1, ports[0]), (3, 2, ports[1])] {
        let (got, bytes) = launch(mode, n, threads, port, &[]);
        assert_eq!(got, want, "{mode} on {n} processes");
        assert!(bytes > 0, "{mode} on {n} processes sent nothing");
        sent.push(bytes);
    }
    sent
}

// ---------------------------------------------------------------- tests

#[test]
fn every_value_in_the_workloads_has_a_codec() {
    use dagwood_cluster::is_registered;
    use dagwood_runtime::WireGraph;
    let x = normal();
    let graphs = [
        WireGraph::new(&x.mean().unwrap()),
        WireGraph::new(&(&x.sum_axis(0).unwrap(), &(&x + &x.t()).sum().unwrap())),
        WireGraph::new(&x.var(1.0).unwrap()),
        WireGraph::new(&fractal().unwrap()),
        WireGraph::new(&words()),
        WireGraph::new(
            &lines()
                .unwrap()
                .foldby(
                    |w: &String| w.len(),
                    |n: f64, _: String| n + 1.0,
                    0.0,
                    |a, b| a + b,
                )
                .unwrap(),
        ),
        WireGraph::new(&grouped()),
        WireGraph::new(&frame().shuffle(["k"], ShuffleOptions::default()).unwrap()),
        WireGraph::new(&frame().merge(&labels(), ["k"], How::Inner).unwrap()),
        WireGraph::new(&frame().sort_values(["x", "y"], true).unwrap()),
        WireGraph::new(&frame().drop_duplicates_subset(["k"]).unwrap()),
        WireGraph::new(
            &lines()
                .unwrap()
                .groupby(|l: &String| l.len())
                .map(|(k, v): (usize, Vec<String>)| (k, v.len())),
        ),
    ];
    // The groupby's partitions, read by the map next to them, would travel
    // only if gathered, and gathering a bag registers its partitions' codec.
    dagwood_cluster::register::<Vec<(usize, Vec<String>)>>();
    for g in &graphs {
        for t in (0..g.len()).filter(|&t| !g.is_constant(t)) {
            let ty = g.value_type(t);
            // A shuffle's split results travel bucket by bucket.
            if g.part_codec(t).is_some() {
                continue;
            }
            assert!(
                is_registered(&ty),
                "{}: {} has no codec",
                g.key(t),
                ty.name()
            );
        }
    }
}

#[test]
fn in_one_process_with_threads_every_workload_matches() {
    for mode in ["array-mean", "array-axis", "fractal", "bag", "frame"] {
        let (want, _) = result(mode, None).unwrap();
        let cluster = Cluster::single().with_threads(3);
        let (got, s) = result(mode, Some(&cluster)).unwrap();
        assert_eq!(got, want, "{mode}");
        assert_eq!(s.bytes_sent, 0, "{mode}: one process sends nothing out");
        assert!(s.tasks_run > 0, "{mode}");
    }
}

#[test]
fn a_shuffle_runs_on_workers_of_one_process() {
    for mode in ["shuffle", "merge", "sort", "bag-groupby"] {
        let (want, _) = result(mode, None).unwrap();
        let (got, s) = result(mode, Some(&Cluster::single().with_threads(4))).unwrap();
        assert_eq!(got, want, "{mode}");
        assert!(
            s.bytes_sent_within > 0,
            "{mode}: buckets move between workers"
        );
    }
}

#[test]
fn array_mean_moves_only_partials() {
    let sent = check("array-mean", [24100, 24110]);
    // 64 blocks of 128 KB; a partial (sum, count) is ~10 bytes. Even if
    // every partial crossed processes, that is well under 2 KB; one block
    // crossing would be 128 KB.
    for b in sent {
        assert!(b < 2_000, "{b} bytes sent for an 8 MB array's mean");
    }
}

#[test]
fn array_axis_sum_and_transpose() {
    let sent = check("array-axis", [24120, 24130]);
    // The column sums (8 blocks of 1 KB) travel to process 0, and a few
    // partial sums; the transposed operand is computed where it is used
    // (its random blocks are fused into the consuming task), so no 128 KB
    // block of the 8 MB array moves.
    for b in sent {
        assert!(b < 64_000, "{b} bytes sent");
    }
}

#[test]
fn fractal_matches() {
    let sent = check("fractal", [24180, 24190]);
    // The result's blocks computed elsewhere travel to process 0: at most
    // the whole result (240 x 360 i32, 345,600 bytes, plus framing).
    for b in sent {
        assert!(b < 360_000, "{b} bytes sent");
    }
}

#[test]
fn bag_frequencies_match() {
    let sent = check("bag", [24140, 24150]);
    for b in sent {
        // Partial tables of ~130 distinct words, never the 16,000 words.
        assert!(b < 40_000, "{b} bytes sent");
    }
}

#[test]
fn dataframe_groupby_matches() {
    let sent = check("frame", [24160, 24170]);
    for (b, p) in sent.into_iter().zip([2, 3]) {
        // One partial table of 37 groups (~2.4 KB in Arrow IPC) from each
        // process but the first, not one per partition or the 20,000 rows.
        assert!(b < 3_000 * (p - 1), "{b} bytes sent on {p} processes");
    }
}

/// The frame's size in Arrow IPC, the encoding its rows travel in.
fn frame_ipc_bytes() -> u64 {
    let batch = frame().compute().expect("a frame");
    let mut out = Vec::new();
    let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut out, &batch.schema()).expect("ipc");
    w.write(&batch).expect("ipc");
    w.finish().expect("ipc");
    drop(w);
    out.len() as u64
}

#[test]
fn dataframe_shuffle_moves_only_buckets() {
    let sent = check("shuffle", [24200, 24210]);
    let whole = frame_ipc_bytes() as f64;
    for (b, p) in sent.into_iter().zip([2.0, 3.0]) {
        // What must move: the rows whose bucket lives on another process
        // (P-1)/P of them with buckets spread evenly), and the output
        // partitions not on process 0 to it (another (P-1)/P).
        let least = 2.0 * (p - 1.0) / p * whole;
        let ratio = b as f64 / least;
        eprintln!("shuffle on {p} processes: {b} bytes, {ratio:.3}x the least ({least:.0})");
        assert!(
            ratio <= 1.2,
            "{b} bytes sent on {p} processes: {ratio:.3}x the least"
        );
        assert!(ratio > 0.5, "{b} bytes: too few rows moved?");
    }
}

#[test]
fn a_shuffle_that_spills_sends_its_buckets_from_disk() {
    check("shuffle-spill", [24300, 24310]);
}

#[test]
fn dataframe_merge_of_two_partitioned_frames() {
    let sent = check("merge", [24220, 24230]);
    let whole = frame_ipc_bytes();
    for b in sent {
        // Both sides' buckets, and each joined partition to process 0.
        assert!(b < 3 * whole, "{b} bytes sent, frame is {whole}");
    }
}

#[test]
fn dataframe_sort_values() {
    check("sort", [24240, 24250]);
}

#[test]
fn bag_groupby_matches() {
    let sent = check("bag-groupby", [24260, 24270]);
    for b in sent {
        // 16,000 words of ~3 bytes (postcard), each crossing at most once,
        // plus the grouped result gathered at process 0.
        assert!(b < 250_000, "{b} bytes sent");
    }
}

#[test]
fn regrouping_off_sends_more_and_gives_the_same_result() {
    for mode in ["array-mean", "frame"] {
        let want = result(mode, None).unwrap().0.unwrap();
        let (on, bytes_on) = launch(mode, 3, 1, 24280, &[]);
        let (off, bytes_off) = launch(mode, 3, 1, 24290, &[("DAGWOOD_REGROUP", "0")]);
        assert_eq!(off, want, "{mode} without regrouping is bit-identical");
        assert_eq!(on, want, "{mode} with regrouping");
        assert!(
            bytes_on < bytes_off,
            "{mode}: {bytes_on} vs {bytes_off} bytes"
        );
    }
}
