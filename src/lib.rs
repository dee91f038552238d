//! # dagwood — Dask for Rust
//!
//! Parallel computing built from task graphs. Graphs come two ways:
//!
//! * **static**, from the [`graph!`] macro: the DAG is known while compiling, so
//!   chains are fused into straight-line code, independent parts become
//!   nested `rayon::join`s and the rest runs by dependency counts over typed
//!   slots — every task starts when its inputs are ready, with no allocation
//!   and no type erasure per task; a `for` binding fans out over run-time
//!   inputs;
//! * **dynamic**, from [`Delayed`] handles, built with [`delayed()`] and the
//!   `lazy` form that [`#[delayed]`](macro@delayed) adds to a function.
//!
//! Both run on one runtime ([`Scheduler::Threads`] by default, or
//! [`Scheduler::Sync`] for deterministic debugging).
//!
//! ```
//! use dagwood::prelude::*;
//!
//! #[delayed]
//! fn inc(x: i64) -> i64 { x + 1 }
//!
//! #[delayed]
//! fn add(a: i64, b: i64) -> i64 { a + b }
//!
//! // dynamic: handles combine into a graph, nothing runs until compute()
//! let total = add::lazy(inc::lazy(1), inc::lazy(2));
//! assert_eq!(total.compute().unwrap(), 5);
//!
//! // static: the same graph, laid out by the compiler
//! let g = graph! {
//!     let a = inc(1);
//!     let b = inc(2);
//!     add(a, b)
//! };
//! assert_eq!(g.compute().unwrap(), 5);
//! ```
//!
//! Cargo features (all on by default): `array`, `bag`, `dataframe` (the
//! collections, each with only its own dependencies), `diagnostics` (the
//! progress bar and the timeline picture) and `cluster` (the
//! timely-dataflow backend, and `graph! { #![distributed] .. }`). With
//! `default-features = false` this crate is the macros and the runtime only.
#![warn(missing_docs)]

#[cfg(feature = "cluster")]
pub use dagwood_cluster as cluster;
#[cfg(any(feature = "array", feature = "bag", feature = "dataframe"))]
pub use dagwood_collections as collections;
#[cfg(feature = "array")]
pub use dagwood_collections::array;
#[cfg(feature = "bag")]
pub use dagwood_collections::bag;
#[cfg(feature = "dataframe")]
pub use dagwood_collections::dataframe;
pub use dagwood_macros::{delayed, graph};
pub use dagwood_runtime::*;

/// What generated code refers to (and all it refers to); not part of the
/// public API.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "cluster")]
    pub use dagwood_cluster::__macro::wire;
    pub use dagwood_runtime::macro_support::*;
}

/// The README's examples, compiled and run as doc tests.
#[cfg(all(
    doctest,
    feature = "array",
    feature = "bag",
    feature = "dataframe",
    feature = "diagnostics",
    feature = "cluster"
))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The names most programs need: `use dagwood::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "array")]
    pub use dagwood_collections::array::{where_, Array};
    #[cfg(feature = "bag")]
    pub use dagwood_collections::bag::Bag;
    #[cfg(feature = "dataframe")]
    pub use dagwood_collections::dataframe::DataFrame;
    pub use dagwood_macros::{delayed, graph};
    pub use dagwood_runtime::prelude::*;
}
