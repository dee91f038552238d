//! dagwood's side of `benches/peers/run_random.sh`: the seed notebook's
//! random-array cells, timed and printed as JSON lines (median seconds):
//! `random_normal((1000, 1000), chunks=(100, 100)).mean()` and
//! `(x + x.t()).mean_axis(0)` over a 4000 × 4000 array in 500 × 500 blocks,
//! and (with `--only x-plus-xt-mean-20000`, run alone in its own process by
//! the script, for its peak RSS) over 20000 × 20000 in 1000 × 1000 blocks.
//!
//! Each case runs once untimed and its answer is checked — exactly against
//! plain ndarray on the same numbers where that fits in memory, and always
//! against the statistical bounds that `random_mean.py` applies to NumPy's
//! and Dask's answers — then `--repeat` timed runs.
//!
//! `cargo bench --bench peers_random -- [--repeat N] [--only NAME,..]`

use dagwood::collections::array::Array;
use ndarray::{ArrayD, Axis};

#[path = "workloads/report.rs"]
mod report;
use report::{arg, measure};

type Run = fn(usize, usize) -> Result<ArrayD<f64>, String>;

/// `random_normal((n, n), chunks=(c, c)).mean()`, as a 0-d array.
fn normal_mean(n: usize, c: usize) -> Result<ArrayD<f64>, String> {
    let y =
        Array::<f64>::random_normal(&[n, n], &[c, c], 0.0, 1.0, 0).map_err(|e| e.to_string())?;
    let m = y
        .mean()
        .map_err(|e| e.to_string())?
        .compute()
        .map_err(|e| e.to_string())?;
    Ok(ArrayD::from_elem(ndarray::IxDyn(&[]), m))
}

fn x_of(n: usize, c: usize) -> Result<Array<f64>, String> {
    Array::<f64>::random_normal(&[n, n], &[c, c], 0.0, 1.0, 1).map_err(|e| e.to_string())
}

/// `(x + x.t()).mean_axis(0)` over `x = random_normal((n, n), chunks=(c, c))`.
fn x_plus_xt_mean(n: usize, c: usize) -> Result<ArrayD<f64>, String> {
    let x = x_of(n, c)?;
    (&x + &x.t())
        .mean_axis(0)
        .and_then(|m| m.compute())
        .map_err(|e| e.to_string())
}

/// The same over the dense array, with ndarray.
fn x_plus_xt_mean_dense(n: usize, c: usize) -> Result<ArrayD<f64>, String> {
    let x = x_of(n, c)?.compute().map_err(|e| e.to_string())?;
    let s = &x + &x.t();
    s.mean_axis(Axis(0))
        .ok_or_else(|| "empty array".to_string())
}

/// `got` must look like its workload's answer over standard normals (the
/// bounds of `check` in random_mean.py).
fn plausible(workload: &str, got: &ArrayD<f64>, n: usize) -> Result<(), String> {
    let nf = n as f64;
    let ok = if workload.starts_with("normal-mean") {
        got.ndim() == 0 && got.iter().all(|m| m.abs() < 10.0 / nf)
    } else {
        let sd = (2.0 / nf).sqrt();
        let mean = got.iter().sum::<f64>() / nf;
        let std = (got.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / nf).sqrt();
        got.shape() == [n]
            && got.iter().all(|v| v.is_finite())
            && mean.abs() < 10.0 * sd / nf.sqrt()
            && (0.9 * sd..1.1 * sd).contains(&std)
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{workload}: the answer does not look like its workload's (shape {:?})",
            got.shape()
        ))
    }
}

fn fail(message: String) -> ! {
    eprintln!("{message}");
    std::process::exit(1)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let repeat: usize = arg(&args, "--repeat").unwrap_or(5);
    let only: String =
        arg(&args, "--only").unwrap_or_else(|| "normal-mean-1000,x-plus-xt-mean-4000".into());
    // (workload, n, chunk, the run, its dense reference if it fits)
    let cases: [(&str, usize, usize, Run, Option<Run>); 3] = [
        ("normal-mean-1000", 1000, 100, normal_mean, None),
        (
            "x-plus-xt-mean-4000",
            4000,
            500,
            x_plus_xt_mean,
            Some(x_plus_xt_mean_dense),
        ),
        ("x-plus-xt-mean-20000", 20000, 1000, x_plus_xt_mean, None),
    ];
    for workload in only.split(',') {
        let Some(&(_, n, c, run, dense)) = cases.iter().find(|k| k.0 == workload) else {
            fail(format!("no workload named {workload:?}"))
        };
        // The untimed, checked run (also the warm-up, as on the Python side).
        let got = run(n, c).unwrap_or_else(|e| fail(format!("{workload} failed: {e}")));
        plausible(workload, &got, n).unwrap_or_else(|e| fail(e));
        if let Some(dense) = dense {
            let want = dense(n, c).unwrap_or_else(|e| fail(format!("{workload} (dense): {e}")));
            let worst = got
                .iter()
                .zip(&want)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            if got.shape() != want.shape() || worst > 1e-12 {
                fail(format!("{workload}: differs from ndarray by {worst}"));
            }
        }
        let (secs, _) = measure(repeat, || run(n, c));
        println!(r#"{{"workload":"{workload}","impl":"dagwood","seconds":{secs:.5}}}"#);
    }
}
