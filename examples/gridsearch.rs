//! The "efficient grid search" with the futures client: a small ML pipeline
//!
//! ```text
//! normalise → features(degree A) → fit(ridge penalty B) → score
//! ```
//!
//! over a grid of A × B parameters. Every pipeline is submitted whole, step
//! by step, with [`Client::submit_pure`]: identical steps (the same
//! function on the same inputs) get the same key, so the normalisation runs
//! once, the features of each degree once, and only `fit` and `score` once
//! per combination — instead of four tasks per combination as in a naive
//! nested loop. Same idea as Dask's `submit(..., pure=True)` and
//! dask-searchcv.
//!
//! The data are synthetic: y = sin(2 x0) + x1·x2 − ½ x3² + 0.3 x4 + noise
//! over six inputs. `features(A)` expands the normalised inputs into all
//! monomials of degree ≤ A and forms the ridge system's sufficient
//! statistics (XᵀX, Xᵀy) — the costly step, which depends on A only;
//! `fit(B)` solves (XᵀX + B·I) w = Xᵀy by Cholesky; `score` is the mean
//! squared error on held-out rows. Plain `Vec<f64>` linear algebra.
//!
//! `cargo run --release --example gridsearch`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use dagwood::client::{Client, Future};

const INPUTS: usize = 6;
const TRAIN: usize = 6000;
const TEST: usize = 2000;
/// Parameter A: the degree of the polynomial features.
const DEGREES: [u32; 4] = [1, 2, 3, 4];
/// Parameter B: the ridge penalty (passed by index: `f64` has no `Hash`).
const PENALTIES: [f64; 10] = [1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6];

/// Rows of `INPUTS` values (row-major) and their targets.
#[derive(Clone)]
struct Table {
    x: Vec<f64>,
    y: Vec<f64>,
}

#[derive(Clone)]
struct Split {
    train: Table,
    test: Table,
}

/// What a fit needs (the normal equations) and what a score needs (the
/// expanded test rows), for one degree.
struct Features {
    width: usize,
    gram: Vec<f64>,
    xty: Vec<f64>,
    test_x: Vec<f64>,
    test_y: Vec<f64>,
}

/// How many times each step ran (to show the deduplication).
static RUNS: [AtomicUsize; 4] = [const { AtomicUsize::new(0) }; 4];

fn count(step: usize) {
    RUNS[step].fetch_add(1, Ordering::Relaxed);
}

fn runs() -> usize {
    RUNS.iter().map(|r| r.swap(0, Ordering::Relaxed)).sum()
}

/// A small deterministic generator (SplitMix64) for the synthetic data.
fn splitmix(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

fn make_data(seed: u64) -> Split {
    let mut s = seed;
    let mut table = |rows: usize| {
        let mut x = Vec::with_capacity(rows * INPUTS);
        let mut y = Vec::with_capacity(rows);
        for _ in 0..rows {
            // Inputs on different scales, so that normalising matters.
            let r: Vec<f64> = (0..INPUTS)
                .map(|j| (splitmix(&mut s) * 4.0 - 2.0) * (1.0 + j as f64) + j as f64)
                .collect();
            let u: Vec<f64> = r
                .iter()
                .enumerate()
                .map(|(j, v)| (v - j as f64) / (1.0 + j as f64))
                .collect();
            let noise = (splitmix(&mut s) - 0.5) * 0.2;
            y.push((2.0 * u[0]).sin() + u[1] * u[2] - 0.5 * u[3] * u[3] + 0.3 * u[4] + noise);
            x.extend(r);
        }
        Table { x, y }
    };
    let train = table(TRAIN);
    let test = table(TEST);
    Split { train, test }
}

/// Step 1: scale each input to mean 0 and variance 1 (statistics of the
/// training rows, applied to both).
fn normalise(raw: Arc<Split>) -> Arc<Split> {
    count(0);
    let mut out = (*raw).clone();
    for j in 0..INPUTS {
        let col = || raw.train.x.iter().skip(j).step_by(INPUTS);
        let mean = col().sum::<f64>() / TRAIN as f64;
        let var = col().map(|v| (v - mean) * (v - mean)).sum::<f64>() / TRAIN as f64;
        let sd = var.sqrt().max(1e-12);
        for t in [&mut out.train, &mut out.test] {
            for v in t.x.iter_mut().skip(j).step_by(INPUTS) {
                *v = (*v - mean) / sd;
            }
        }
    }
    Arc::new(out)
}

/// Exponent vectors of all monomials in `INPUTS` variables of degree ≤ `degree`.
fn monomials(degree: u32) -> Vec<[u32; INPUTS]> {
    let mut out = vec![[0; INPUTS]];
    let mut frontier = vec![[0; INPUTS]];
    for _ in 0..degree {
        let mut next = Vec::new();
        for m in &frontier {
            // Raise only variables at or after the last raised one: each
            // monomial once.
            let last = m.iter().rposition(|&e| e > 0).unwrap_or(0);
            for j in last..INPUTS {
                let mut n = *m;
                n[j] += 1;
                next.push(n);
            }
        }
        out.extend(&next);
        frontier = next;
    }
    out
}

fn expand(x: &[f64], terms: &[[u32; INPUTS]]) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len() / INPUTS * terms.len());
    for row in x.chunks_exact(INPUTS) {
        for t in terms {
            out.push(
                row.iter()
                    .zip(t)
                    .map(|(v, &e)| v.powi(e as i32))
                    .product::<f64>(),
            );
        }
    }
    out
}

/// Step 2 (parameter A): polynomial features of degree A and the normal
/// equations of the training rows.
fn features(data: Arc<Split>, degree: u32) -> Arc<Features> {
    count(1);
    let terms = monomials(degree);
    let p = terms.len();
    let x = expand(&data.train.x, &terms);
    let mut gram = vec![0.0; p * p];
    let mut xty = vec![0.0; p];
    for (row, y) in x.chunks_exact(p).zip(&data.train.y) {
        for i in 0..p {
            let ri = row[i];
            xty[i] += ri * y;
            for (g, rj) in gram[i * p..i * p + i + 1].iter_mut().zip(row) {
                *g += ri * rj;
            }
        }
    }
    for i in 0..p {
        for j in 0..i {
            gram[j * p + i] = gram[i * p + j];
        }
    }
    Arc::new(Features {
        width: p,
        gram,
        xty,
        test_x: expand(&data.test.x, &terms),
        test_y: data.test.y.clone(),
    })
}

/// Step 3 (parameter B): ridge weights, solving (XᵀX + B·I) w = Xᵀy by
/// Cholesky (the constant term is not penalised).
fn fit(f: Arc<Features>, penalty: usize) -> Vec<f64> {
    count(2);
    let p = f.width;
    let lambda = PENALTIES[penalty];
    let mut a = f.gram.clone();
    for i in 1..p {
        a[i * p + i] += lambda;
    }
    // Tiny jitter on the constant term keeps the system positive definite.
    a[0] += 1e-9;
    // In-place Cholesky: a = L Lᵀ, L in the lower triangle.
    for j in 0..p {
        let d = a[j * p + j] - (0..j).map(|k| a[j * p + k] * a[j * p + k]).sum::<f64>();
        let d = d.max(1e-12).sqrt();
        a[j * p + j] = d;
        for i in j + 1..p {
            let s = a[i * p + j] - (0..j).map(|k| a[i * p + k] * a[j * p + k]).sum::<f64>();
            a[i * p + j] = s / d;
        }
    }
    let mut w = f.xty.clone();
    for i in 0..p {
        w[i] = (w[i] - (0..i).map(|k| a[i * p + k] * w[k]).sum::<f64>()) / a[i * p + i];
    }
    for i in (0..p).rev() {
        w[i] = (w[i] - (i + 1..p).map(|k| a[k * p + i] * w[k]).sum::<f64>()) / a[i * p + i];
    }
    w
}

/// Step 4: mean squared error on the held-out rows.
fn score(w: Vec<f64>, f: Arc<Features>) -> f64 {
    count(3);
    let sq: f64 = f
        .test_x
        .chunks_exact(f.width)
        .zip(&f.test_y)
        .map(|(row, y)| {
            let pred: f64 = row.iter().zip(&w).map(|(a, b)| a * b).sum();
            (pred - y) * (pred - y)
        })
        .sum();
    sq / f.test_y.len() as f64
}

/// The naive way: every pipeline from scratch, one after another.
fn naive(raw: &Arc<Split>) -> Vec<f64> {
    let mut scores = Vec::new();
    for &degree in &DEGREES {
        for b in 0..PENALTIES.len() {
            let data = normalise(raw.clone());
            let feats = features(data, degree);
            let w = fit(feats.clone(), b);
            scores.push(score(w, feats));
        }
    }
    scores
}

/// Every pipeline submitted whole; identical steps share one task.
fn with_client(client: &Client, raw: &Arc<Split>) -> dagwood::Result<Vec<f64>> {
    let raw = client.scatter_one(raw.clone());
    let mut scores: Vec<Future<f64>> = Vec::new();
    for &degree in &DEGREES {
        for b in 0..PENALTIES.len() {
            let data = client.submit_pure(normalise, &raw);
            let feats = client.submit_pure(features, (&data, degree));
            let w = client.submit_pure(fit, (&feats, b));
            scores.push(client.submit_pure(score, (&w, &feats)));
        }
    }
    client.gather(&scores)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let raw = Arc::new(make_data(7));
    let client = Client::new()?;
    let pipelines = DEGREES.len() * PENALTIES.len();
    let naive_tasks = 4 * pipelines;

    let t = Instant::now();
    let scores = with_client(&client, &raw)?;
    let client_time = t.elapsed();
    let client_runs = runs();

    let t = Instant::now();
    let naive_scores = naive(&raw);
    let naive_time = t.elapsed();
    let naive_runs = runs();

    // Same arithmetic either way: the same numbers.
    assert_eq!(scores, naive_scores, "client and loop disagree");
    let (best, mse) = scores
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, s)| (i, *s))
        .ok_or("empty grid")?;
    let (degree, penalty) = (
        DEGREES[best / PENALTIES.len()],
        PENALTIES[best % PENALTIES.len()],
    );
    println!(
        "grid: {} degrees × {} penalties = {pipelines} pipelines of 4 steps ({TRAIN} training rows, {TEST} test rows)",
        DEGREES.len(),
        PENALTIES.len()
    );
    println!("best: degree {degree}, ridge penalty {penalty:e} (test MSE {mse:.5})");
    for (i, &d) in DEGREES.iter().enumerate() {
        let row = &scores[i * PENALTIES.len()..(i + 1) * PENALTIES.len()];
        let best_here = row.iter().copied().fold(f64::INFINITY, f64::min);
        println!("  degree {d}: best test MSE {best_here:.5}");
    }
    println!(
        "tasks run: {client_runs} with the client (shared prefixes once) vs {naive_runs} in the naive loop ({naive_tasks} = 4 × {pipelines})"
    );
    println!(
        "time: client {:.3} s ({} threads) vs naive nested loop {:.3} s: {:.1}x faster",
        client_time.as_secs_f64(),
        client.threads(),
        naive_time.as_secs_f64(),
        naive_time.as_secs_f64() / client_time.as_secs_f64()
    );
    Ok(())
}
