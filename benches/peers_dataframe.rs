//! dagwood's side of `benches/peers/run_dataframe.sh`: times the CSV
//! groupby-mean (benches/workloads/dataframe.rs) by dagwood and by hand and
//! prints one JSON line per implementation (median wall and CPU seconds per
//! run, the number of groups and a digest of the means), for the script to
//! set beside pandas', Polars' and dask.dataframe's numbers from the same
//! run. Generates the data first if needed
//! (`target/bench-data/csv-groupby-10x{ROWS}`), and checks every version
//! against the single-threaded one unless told not to.
//!
//! `cargo bench --bench peers_dataframe -- [--rows N] [--repeat N] [--only NAME,..] [--no-check]`
//! (`--rows`: rows per file, default 1,000,000).

use std::path::Path;

#[path = "workloads/dataframe.rs"]
mod dataframe;
#[path = "workloads/report.rs"]
mod report;
use dataframe::*;
use report::{arg, measure};

type Run = fn(&Path) -> Result<Means, String>;

fn fail(what: std::fmt::Arguments<'_>) -> ! {
    eprintln!("{what}");
    std::process::exit(1);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rows: usize = arg(&args, "--rows").unwrap_or(PEERS_ROWS);
    let repeat: usize = arg(&args, "--repeat").unwrap_or(3);
    let only: Option<String> = arg(&args, "--only");
    let check = !args.iter().any(|a| a == "--no-check");
    let dir =
        ensure_data(rows).unwrap_or_else(|e| fail(format_args!("generating the data failed: {e}")));
    let impls: [(&str, Run); 3] = [
        ("dagwood", |d| dagwood(d).map_err(|e| e.to_string())),
        ("rayon-handwritten", |d| {
            rayon_handwritten(d).map_err(|e| e.to_string())
        }),
        ("single-threaded", |d| {
            single_threaded(d).map_err(|e| e.to_string())
        }),
    ];
    let want = check.then(|| {
        single_threaded(&dir)
            .unwrap_or_else(|e| fail(format_args!("the single-threaded version failed: {e}")))
    });
    for (name, run) in impls {
        if only
            .as_ref()
            .is_some_and(|o| !o.split(',').any(|x| x == name))
        {
            continue;
        }
        // The checked run also warms the page cache and the allocator.
        let means = run(&dir).unwrap_or_else(|e| fail(format_args!("{name} failed: {e}")));
        if let Some(want) = &want {
            if let Err(e) = same(&means, want) {
                fail(format_args!(
                    "{name} differs from the single-threaded version: {e}"
                ));
            }
        }
        let (wall, cpu) = measure(repeat, || run(&dir));
        println!(
            r#"{{"impl":"{name}","seconds":{wall:.4},"cpu_seconds":{cpu:.3},"groups":{},"digest":{:.9},"rows":{}}}"#,
            means.len(),
            digest(&means),
            FILES * rows
        );
    }
}
