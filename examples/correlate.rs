//! All-pairs correlation of time series, every pair a task (the seed talk's
//! example). The answer is checked against the sequential double loop.
//!
//! `cargo run --release --example correlate [n_series] [length]`

use std::time::Instant;

use dagwood::prelude::*;

/// One synthetic time series: a shared random walk (the "market") plus the
/// series' own noise, so some pairs correlate strongly and others barely.
#[delayed]
fn series(i: u64, len: usize) -> Vec<f64> {
    let mut market = 0x2545_F491_4F6C_DD1D_u64;
    let mut own = 0x9E37_79B9_7F4A_7C15_u64 ^ (i + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let next = |s: &mut u64| {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        (*s >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    };
    // Golden-ratio steps spread the market weights: every pair differs.
    let weight = 0.95 * ((i as f64 + 1.0) * 0.618_033_988_749_895).fract();
    let (mut m, mut o) = (0.0, 0.0);
    (0..len)
        .map(|_| {
            m += next(&mut market);
            o += next(&mut own);
            weight * m + (1.0 - weight) * o
        })
        .collect()
}

/// Pearson correlation of two equally long series.
#[delayed]
fn correlation(a: &Vec<f64>, b: &Vec<f64>) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    sab / (saa * sbb).sqrt()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(64);
    let len: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50_000);

    let t = Instant::now();
    let data: Vec<Vec<f64>> = (0..n).map(|i| series(i, len)).collect();
    let mut expected = Vec::new();
    for i in 0..n as usize {
        for j in i + 1..n as usize {
            expected.push(correlation(&data[i], &data[j]));
        }
    }
    let sequential = t.elapsed();

    let t = Instant::now();
    let handles: Vec<Delayed<Vec<f64>>> = (0..n).map(|i| series::lazy(i, len)).collect();
    let mut pairs = Vec::new();
    for i in 0..n as usize {
        for j in i + 1..n as usize {
            // By-reference parameters: every pair shares the two series.
            pairs.push(correlation::lazy(&handles[i], &handles[j]));
        }
    }
    let all: Delayed<Vec<f64>> = pairs.into_iter().collect();
    let got = all.compute()?;
    let parallel = t.elapsed();

    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        assert!(
            (g - e).abs() < 1e-12,
            "pair correlation differs: {g} vs {e}"
        );
    }
    let (best, value) = got
        .iter()
        .enumerate()
        .filter(|(_, c)| c.is_finite())
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(k, c)| (k, *c))
        .ok_or("no finite correlation")?;
    let mut k = best;
    let mut i = 0usize;
    while k >= n as usize - 1 - i {
        k -= n as usize - 1 - i;
        i += 1;
    }
    println!("{n} series × {len} samples: {} pair tasks", got.len());
    println!(
        "most correlated pair: ({i}, {}) with r = {value:.4}",
        i + 1 + k
    );
    println!(
        "sequential {sequential:.1?}, dagwood {parallel:.1?} ({:.2}x); results identical",
        sequential.as_secs_f64() / parallel.as_secs_f64()
    );
    Ok(())
}
