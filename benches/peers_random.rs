//! dagwood's side of `benches/peers/run_random.sh`: the seed notebook's
//! random-array cells, timed and printed as JSON lines (median seconds):
//! `random_normal((1000, 1000), chunks=(100, 100)).mean()` and
//! `(x + x.t()).mean_axis(0)` over a 4000 × 4000 array in 500 × 500 blocks.
//!
//! `cargo bench --bench peers_random -- [--repeat N]`

use std::hint::black_box;
use std::time::Instant;

use dagwood::collections::array::Array;

fn median_secs(repeat: usize, mut f: impl FnMut() -> f64) -> f64 {
    let mut t: Vec<f64> = (0..repeat)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let repeat = args
        .iter()
        .position(|a| a == "--repeat")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
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
        let secs = median_secs(repeat, f);
        println!(r#"{{"workload":"{workload}","impl":"dagwood","seconds":{secs:.5}}}"#);
    }
}
