//! Blocked collections for dagwood, lazy until `compute()`:
//! [`array::Array`] (an n-dimensional array in ndarray chunks, Dask's
//! `dask.array`), [`bag::Bag`] (partitions of Rust values, `dask.bag`) and
//! [`dataframe::DataFrame`] (partitions of Arrow record batches,
//! `dask.dataframe`).
//!
//! What they share lives beside them: layer and block keys (`keys.rs`),
//! files (`files/`, with [`FileError`]), the statistics merged across
//! partitions (`stats.rs`) and the shuffle (`shuffle/`).
//!
//! Each collection is a Cargo feature (`array`, `bag`, `dataframe`; all on
//! by default) pulling only its own dependencies.
#![warn(missing_docs)]
// With some collections left out, some shared helpers have no user.
#![cfg_attr(
    not(all(feature = "array", feature = "bag", feature = "dataframe")),
    allow(dead_code, unused_imports)
)]

#[cfg(feature = "array")]
pub mod array;
#[cfg(feature = "bag")]
pub mod bag;
mod compute;
#[cfg(feature = "dataframe")]
pub mod dataframe;
mod files;
mod keys;
#[cfg(any(feature = "bag", feature = "dataframe"))]
mod shuffle;
mod stats;

pub use dagwood_runtime as runtime;
pub use files::FileError;
