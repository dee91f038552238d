//! Blocked collections for dagwood, lazy until `compute()`: `Array` (chunks of
//! ndarray), `Bag` (partitions of Rust values) and `DataFrame` (Arrow record
//! batches). They build on [`dagwood_runtime`]'s dynamic graphs.
//!
//! This crate is the home of the collections; each arrives with its own issue.
#![warn(missing_docs)]

pub use dagwood_runtime as runtime;
