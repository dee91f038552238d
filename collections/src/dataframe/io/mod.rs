//! Reading and writing frames: CSV and Parquet, and the errors both give
//! for the files they touch.

mod csv;
mod parquet;
mod unquoted;

use std::io;
use std::path::Path;

use arrow_schema::ArrowError;

use super::error::DataFrameError;
use crate::files::FileError;

pub use self::csv::{read_csv, CsvWriteOptions, ReadCsv};
pub use self::parquet::{read_parquet, ReadParquet};

/// An I/O error on `path` as a frame's error.
fn io_error(path: &Path, source: io::Error) -> DataFrameError {
    FileError::io(path, source).into()
}

/// A failed write of `path` as an error naming it.
fn write_error(path: &Path, e: ArrowError) -> DataFrameError {
    match e {
        ArrowError::IoError(_, source) => io_error(path, source),
        other => io_error(path, io::Error::other(other.to_string())),
    }
}
