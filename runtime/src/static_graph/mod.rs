//! Static graphs: the run-time side of the `graph!` macro.
//!
//! The macro lays the DAG out at compile time. Series-parallel parts become
//! straight-line code and nested joins over typed locals; all that remains
//! for run time there is where to fork ([`Exec::join`]) and how to fail
//! ([`Exec::task`]). Parts that joins cannot run exactly are run by
//! dependency counts over typed [`Slot`]s ([`Exec::dag`]); fan-outs over
//! run-time inputs and their reductions by [`Exec::map`] and
//! [`Exec::map_reduce`]; lazy values in the output are computed in the same
//! run ([`resolve`]).

mod dag;
mod exec;
mod fan_out;
mod graph;
mod resolve;
mod slot;

pub use dag::Dag;
pub use exec::Exec;
pub use graph::{GraphFn, GraphInfo, StaticGraph, TaskInfo, TaskKind};
pub use slot::Slot;

/// What only generated code needs.
#[doc(hidden)]
pub mod support {
    pub use super::fan_out::{items, no_value, sum_empty, sum_pair};
    pub use super::resolve::{Eager, EagerKind, Lazy, LazyKind, Probe};
}
