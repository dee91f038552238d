//! Blocked collections for dagwood, lazy until `compute()`: [`array::Array`]
//! (chunks of ndarray); `Bag` and `DataFrame` follow.
#![warn(missing_docs)]

pub mod array;
pub mod bag;
mod compute;
pub mod dataframe;
pub(crate) mod files;
pub(crate) mod shuffle;

pub use dagwood_runtime as runtime;
