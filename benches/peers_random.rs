//! dagwood's side of `benches/peers/run_random.sh`: the seed notebook's
//! random-array cells, timed and printed as JSON lines (median seconds):
//! `random_normal((1000, 1000), chunks=(100, 100)).mean()` and
//! `(x + x.t()).mean_axis(0)` over a 4000 × 4000 array in 500 × 500 blocks.
//!
//! `cargo bench --bench peers_random -- [--repeat N]`

use dagwood::collections::array::Array;

#[path = "workloads/report.rs"]
mod report;
use report::{arg, measure};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let repeat: usize = arg(&args, "--repeat").unwrap_or(5);
    let small = || {
        Array::<f64>::random_normal(&[1000, 1000], &[100, 100], 0.0, 1.0, 0)
            .and_then(|y| y.mean())
            .and_then(|m| Ok(m.compute()?))
            .unwrap_or(f64::NAN)
    };
    let large = || {
        Array::<f64>::random_normal(&[4000, 4000], &[500, 500], 0.0, 1.0, 1)
            .and_then(|x| (&x + &x.t()).mean_axis(0))
            .and_then(|m| m.compute())
            .map_or(f64::NAN, |m| m[[0]])
    };
    for (workload, f) in [
        ("normal-mean-1000", &small as &dyn Fn() -> f64),
        ("x-plus-xt-mean-4000", &large),
    ] {
        let (secs, _) = measure(repeat, f);
        println!(r#"{{"workload":"{workload}","impl":"dagwood","seconds":{secs:.5}}}"#);
    }
}
