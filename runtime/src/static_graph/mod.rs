//! Static graphs: the run-time side of the `graph!` macro.
//!
//! The macro lays the DAG out at compile time as straight-line code and
//! nested joins over typed locals; all that remains for run time is where to
//! fork ([`Exec::join`]) and how to fail ([`Exec::task`]).

mod exec;
mod graph;

pub use exec::Exec;
pub use graph::{GraphFn, GraphInfo, StaticGraph, TaskInfo};
