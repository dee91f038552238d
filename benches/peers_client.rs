//! dagwood's side of `benches/peers/run_client.sh`: the futures client's
//! per-task overhead (submit + gather of 10,000 tiny tasks on a running
//! client, and the same through `map`), printed as JSON lines (median µs
//! per task) for the script to set beside `dask.distributed`'s.
//!
//! `cargo bench --bench peers_client -- [--repeat N]`

use std::hint::black_box;

use dagwood::client::Client;

#[path = "workloads/client.rs"]
mod client_workload;
use client_workload::{expected, map_gather, submit_gather, CLIENT_TASKS};

#[path = "workloads/report.rs"]
mod report;
use report::{arg, measure};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let repeat: usize = arg(&args, "--repeat").unwrap_or(5);
    let Ok(client) = Client::new() else {
        eprintln!("could not start the client's threads");
        std::process::exit(1);
    };
    // Correct before timed, and warm.
    for f in [submit_gather, map_gather] {
        let got = f(&client, 1);
        if got != expected(1) {
            eprintln!("wrong result: {got} != {}", expected(1));
            std::process::exit(1);
        }
    }
    let per_task = |secs: f64| secs * 1e6 / CLIENT_TASKS as f64;
    for (workload, f) in [
        ("submit-gather", submit_gather as fn(&Client, u64) -> u64),
        ("map-gather", map_gather),
    ] {
        let (wall, _) = measure(repeat, || f(&client, black_box(1)));
        println!(
            r#"{{"workload":"{workload}","impl":"dagwood-client","us_per_task":{:.5}}}"#,
            per_task(wall)
        );
    }
}
