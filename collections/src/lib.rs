//! Blocked collections for dagwood, lazy until `compute()`:
//! [`array::Array`] (an n-dimensional array in ndarray chunks, Dask's
//! `dask.array`), [`bag::Bag`] (partitions of Rust values, `dask.bag`) and
//! [`dataframe::DataFrame`] (partitions of Arrow record batches,
//! `dask.dataframe`).
//!
//! What they share lives beside them: layer and block keys (`keys.rs`),
//! files (`files/`, with [`FileError`]), the statistics merged across
//! partitions (`stats.rs`) and the shuffle (`shuffle/`).
#![warn(missing_docs)]

pub mod array;
pub mod bag;
mod compute;
pub mod dataframe;
mod files;
mod keys;
mod shuffle;
mod stats;

pub use dagwood_runtime as runtime;
pub use files::FileError;
