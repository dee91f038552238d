//! CSV input and output: [`read_csv`] / [`ReadCsv`] make a frame of the
//! rows of files named by a glob, plain files cut into blocks of bytes;
//! [`DataFrame::to_csv`] writes one file per partition.
//!
//! When a frame is built, the glob is expanded, every file's header (its
//! first record) is read and compared with the first file's, and the column
//! types are inferred from a sample; the rows themselves are parsed inside
//! the tasks, column by column and only for the columns the frame's steps
//! need (arrow-csv's decoder with a projection).
//!
//! The reader's options are in `options.rs`, the schema's planning (header
//! checks and type inference) in `infer.rs`, the tasks' block scan in
//! `scan.rs`, and the writer in `write.rs`.

mod infer;
mod options;
mod scan;
mod write;

pub use options::{read_csv, ReadCsv};
pub use write::CsvWriteOptions;

/// The block size plain files are cut into by default: 64 MiB, Dask's.
const DEFAULT_BLOCKSIZE: u64 = 64 << 20;

/// Rows per decoded batch by default: large enough to amortize the
/// per-batch work, small enough that a batch of text stays in cache-sized
/// pieces of a few megabytes.
const DEFAULT_BATCH_SIZE: usize = 65536;

/// Rows sampled to infer the column types by default.
const DEFAULT_INFER_ROWS: usize = 1000;
