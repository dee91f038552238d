//! dagwood's side of `benches/peers/run_bag.sh`: times the JSON-lines
//! frequencies pipeline (benches/workloads/bag.rs) by dagwood and by hand
//! and prints one JSON line per implementation (median wall and CPU seconds
//! per run, and a checksum of the counts), for the script to set beside
//! dask.bag's numbers from the same run. Generates the data first if needed
//! (`target/bench-data/bag-json`), and checks every version against the
//! sequential one unless told not to.
//!
//! `cargo bench --bench peers_bag -- [--repeat N] [--only NAME,..] [--no-check]`

use std::path::Path;

#[path = "workloads/bag.rs"]
mod bag;
#[path = "workloads/report.rs"]
mod report;
use bag::*;
use report::{arg, measure};

type Run = fn(&Path) -> Result<Counts, String>;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let repeat: usize = arg(&args, "--repeat").unwrap_or(3);
    let only: Option<String> = arg(&args, "--only");
    let check = !args.iter().any(|a| a == "--no-check");
    let dir = match ensure_data() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("generating the data failed: {e}");
            std::process::exit(1);
        }
    };
    let impls: [(&str, Run); 5] = [
        ("dagwood-value", |d| {
            dagwood_value(d).map_err(|e| e.to_string())
        }),
        ("rayon-value", |d| rayon_value(d).map_err(|e| e.to_string())),
        ("dagwood-typed", |d| {
            dagwood_typed(d).map_err(|e| e.to_string())
        }),
        ("rayon-typed", |d| rayon_typed(d).map_err(|e| e.to_string())),
        ("sequential-value", |d| {
            sequential_value(d).map_err(|e| e.to_string())
        }),
    ];
    let want = if check {
        match sequential_value(&dir) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("sequential version failed: {e}");
                std::process::exit(1);
            }
        }
    } else {
        None
    };
    for (name, run) in impls {
        if only
            .as_ref()
            .is_some_and(|o| !o.split(',').any(|x| x == name))
        {
            continue;
        }
        // The checked run also warms the page cache and the allocator.
        let counts = match run(&dir) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{name} failed: {e}");
                std::process::exit(1);
            }
        };
        if let Some(want) = &want {
            if &counts != want {
                eprintln!("{name} differs from the sequential version");
                std::process::exit(1);
            }
        }
        let (wall, cpu) = measure(repeat, || run(&dir));
        println!(
            r#"{{"impl":"{name}","seconds":{wall:.4},"cpu_seconds":{cpu:.3},"checksum":"{:016x}","names":{},"records":{}}}"#,
            checksum(&counts),
            counts.len(),
            counts.values().sum::<usize>()
        );
    }
}
