//! The dagwood runtime: task graphs, their optimisation and ordering, and the
//! schedulers that run them.
//!
//! Most users reach it through the `dagwood` facade crate. Graphs come from
//! [`Delayed`] handles (dynamic) or from the `graph!` macro (static, see
//! [`StaticGraph`]); [`Plan`] shows what will run; a [`Scheduler`] runs it.
//! The futures [`Client`] runs tasks in the background as they are
//! submitted (Dask's `distributed.Client`); see [`client`].
//!
//! ```
//! use dagwood_runtime::{delayed, sum, Scheduler};
//! let parts: Vec<_> = (0..100).map(|i| delayed(i).map("square", |v: &i64| v * v)).collect();
//! let total = sum(parts, 8).unwrap();
//! assert_eq!(total.compute_with(&Scheduler::Sync).unwrap(), (0..100).map(|i| i * i).sum::<i64>());
//! ```
#![warn(missing_docs)]

pub mod client;
mod compute;
pub mod diagnostics;
mod dot;
mod error;
mod graph;
mod key;
#[doc(hidden)]
pub mod macro_support;
mod plan;
mod scheduler;
mod static_graph;
#[doc(hidden)]
pub mod task;

pub use client::Client;
pub use compute::{compute_all, compute_all_with, Computable, Outputs, Results};
pub use error::{BoxError, Error, Result, TaskError};
pub use graph::delayed::{delayed, Arg, ArgSlot, Delayed, IntoArg, TaskBuilder};
pub use graph::hints::{Combiner, PartCodec, Partitioned, Reduction};
pub use graph::reduce::{sum, tree_reduce};
pub use key::Key;
pub use plan::wire::WireGraph;
pub use plan::Plan;
pub use scheduler::{set_default_scheduler, Scheduler, Threads};
pub use static_graph::{Dag, Exec, GraphFn, GraphInfo, Slot, StaticGraph, TaskInfo, TaskKind};
pub use task::{Args, Value, ValueType};

/// The names most programs need.
pub mod prelude {
    pub use crate::{compute_all, delayed, Delayed, Error, Scheduler};
}
