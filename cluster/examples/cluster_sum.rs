//! A tree sum of 10,000 tasks on however many processes the environment
//! says (one without any set).
//!
//! ```sh
//! cargo build -p dagwood-cluster --examples --bins
//! target/debug/dagwood-launch -n 3 -- target/debug/examples/cluster_sum
//! ```

use dagwood_cluster::Cluster;
use dagwood_runtime::{delayed, sum};

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let cluster = Cluster::from_env()?;
    let squares = (0..10_000_i64).map(|i| delayed(i).map("square", |v: &i64| v * v));
    let total = sum(squares, 16)?;
    match cluster.compute(&total)? {
        Some(t) => println!("sum of squares on {} processes: {t}", cluster.processes()),
        None => println!("process {} done", cluster.process()),
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
