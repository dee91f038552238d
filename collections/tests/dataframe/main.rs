//! The DataFrame collection's tests, against the same computation on the rows.
//!
//! One test binary for the whole collection (each file a module): every
//! binary links Arrow, Parquet and Zarr, so fewer binaries build faster and
//! take far less disk.

#[path = "../common/mod.rs"]
mod common;

mod aggregate;
mod basics;
mod io;
mod shuffle;
