//! The Bag collection's tests, against the plain iterator result.
//!
//! One test binary for the whole collection (each file a module): every
//! binary links Arrow, Parquet and Zarr, so fewer binaries build faster and
//! take far less disk.

mod basics;
mod groupby;
mod text;
