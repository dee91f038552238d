//! The live dashboard: a run of several seconds (arrays, then a dynamic
//! graph of simulations with a data-dependent second stage, then a static
//! graph) to watch in the browser.
//!
//! ```text
//! DAGWOOD_DASHBOARD=1 cargo run --release --example dashboard
//! # open the printed URL (http://127.0.0.1:8787/)
//! ```
//!
//! Options: `--hold SECONDS` keeps the page up that long after the run
//! (default 0); `--fail` makes one simulation fail, to show the failed
//! task's key and error; `--rounds N` runs the workload N times (default 3, about 6 s on two cores).
//! Without `DAGWOOD_DASHBOARD` it runs without a dashboard and says how to
//! get one.

use std::time::{Duration, Instant};

use dagwood::array::Array;
use dagwood::diagnostics::Dashboard;
use dagwood::prelude::*;
use dagwood::{tree_reduce, Key, TaskBuilder};

/// A deterministic "simulation" of about `ms` milliseconds of work.
fn simulate(seed: u64, ms: u64) -> f64 {
    let start = Instant::now();
    let mut x = seed as f64 + 0.5;
    let mut acc = 0.0;
    while start.elapsed() < Duration::from_millis(ms) {
        for _ in 0..1000 {
            x = (x * 1.000_001 + 0.5).fract() + 1.0;
            acc += x.ln();
        }
    }
    acc.fract() + seed as f64
}

#[delayed]
fn score(a: f64, b: f64) -> f64 {
    (a - b).abs()
}

#[delayed]
fn summarise(best: f64, arrays: f64) -> String {
    format!("best score {best:.3}, array statistic {arrays:.4}")
}

fn arrays() -> Result<f64, Box<dyn std::error::Error>> {
    let x = Array::<f64>::random_normal(&[3000, 3000], &[250, 250], 0.0, 1.0, 42)?;
    let y = Array::<f64>::random_uniform(&[3000, 3000], &[250, 250], -1.0, 1.0, 7)?;
    let mean = ((&x * 2.0) + &y.t()).mean()?.compute()?;
    let std = (&x - &y).std(0.0)?.compute()?;
    let cols = (&x * &y).sum_axis(0)?.compute()?;
    Ok(mean + std + cols.iter().take(10).sum::<f64>())
}

fn simulations(fail: bool) -> Delayed<f64> {
    // Stage 1: 96 simulations of 20-60 ms each.
    let runs: Vec<Delayed<f64>> = (0..96u64)
        .map(|i| {
            let b = TaskBuilder::new("simulate").key(Key::new("simulate").with_index(i));
            b.build_result(move |_| {
                if fail && i == 41 {
                    return Ok(Err(format!(
                        "simulation {i} diverged (step size too large)"
                    )));
                }
                Ok(Ok(simulate(i, 20 + (i * 7) % 40)))
            })
        })
        .collect();
    // Stage 2: pairwise scores between neighbours, then the best of them.
    let scores: Vec<Delayed<f64>> = runs
        .windows(2)
        .map(|w| score::lazy(w[0].clone(), w[1].clone()))
        .collect();
    tree_reduce(scores, 8, "best", |v: Vec<f64>| {
        v.into_iter().fold(f64::MAX, f64::min)
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let hold = value("--hold").unwrap_or(0);
    let rounds = value("--rounds").unwrap_or(3).max(1);
    let fail = args.iter().any(|a| a == "--fail");

    let dashboard = Dashboard::from_env()?;
    match &dashboard {
        Some(d) => println!("dashboard: {}", d.url()),
        None => println!(
            "no dashboard: run with DAGWOOD_DASHBOARD=1 to watch at http://127.0.0.1:8787/"
        ),
    }
    if let Ok(wait) = std::env::var("DAGWOOD_DASHBOARD_WAIT") {
        // Wait (bounded) for a page to connect, so that it sees the run from its start.
        let secs: u64 = wait.parse().unwrap_or(10);
        let t = Instant::now();
        while dashboard.as_ref().is_some_and(|d| d.clients() == 0) && t.elapsed().as_secs() < secs {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    let t = Instant::now();
    for round in 0..rounds {
        let a = arrays()?;
        println!("round {round}: arrays done ({:.1?})", t.elapsed());
        let best = simulations(fail);
        let report = summarise::lazy(best, a);
        match report.compute() {
            Ok(text) => println!("round {round}: {text} ({:.1?})", t.elapsed()),
            Err(e) => println!("round {round}: failed: {e}"),
        }
        // A static graph: the same pipeline shape, laid out by the compiler.
        let g = graph! {
            let a = score(1.0, 4.0);
            let b = score(2.0, 8.0);
            score(a, b)
        };
        println!("round {round}: static graph gives {}", g.compute()?);
    }
    if let Some(d) = &dashboard {
        if hold > 0 {
            println!("holding the dashboard at {} for {hold} s", d.url());
            std::thread::sleep(Duration::from_secs(hold));
        }
    }
    Ok(())
}
