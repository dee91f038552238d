//! The Array collection's tests, against plain ndarray.
//!
//! One test binary for the whole collection (each file a module): every
//! binary links Arrow, Parquet and Zarr, so fewer binaries build faster and
//! take far less disk.

mod basics;
mod grid;
mod kernel;
mod linalg;
mod matmul;
mod npy;
mod random;
mod reshape;
mod structure;
mod zarr;
