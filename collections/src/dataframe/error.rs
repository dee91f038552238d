//! Errors of DataFrame operations.

use std::path::PathBuf;

use crate::files::FileError;

use arrow_schema::{ArrowError, DataType};

/// What went wrong building or computing a DataFrame. Variants name the
/// file, line, column or argument involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataFrameError {
    /// An invalid argument, described.
    #[error("{0}")]
    Invalid(String),
    /// A column name that the frame does not have.
    #[error("no column named {name:?} (columns: {available})")]
    UnknownColumn {
        /// The name asked for.
        name: String,
        /// The frame's columns, comma-separated.
        available: String,
    },
    /// An expression or operation that does not apply to the columns' types.
    #[error("{context}: {message}")]
    Type {
        /// What was being built (`filter`, `with_column "z"`, ...).
        context: String,
        /// What Arrow said.
        message: String,
    },
    /// Partitions or files whose schemas differ.
    #[error("schema mismatch in {what}: {message}")]
    SchemaMismatch {
        /// The file or partition whose schema differs from the first.
        what: String,
        /// How it differs.
        message: String,
    },
    /// A file could not be found, listed, read or written (see [`FileError`]).
    #[error(transparent)]
    File(#[from] FileError),
    /// A value that does not parse as its column's type, with where it is.
    #[error("{path}:{line}: column {column:?}: cannot parse {value:?} as {data_type}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number in the file.
        line: u64,
        /// The column's name.
        column: String,
        /// The text that did not parse.
        value: String,
        /// The type the column has.
        data_type: DataType,
    },
    /// A file that is not in the format it was read as (a corrupt Parquet
    /// footer, a CSV row with the wrong number of fields, ...).
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An Arrow kernel failed outside any task.
    #[error(transparent)]
    Arrow(#[from] ArrowError),
    /// A task of the computation failed (names the task's key).
    #[error(transparent)]
    Compute(#[from] dagwood_runtime::Error),
}

/// `Result` with [`DataFrameError`].
pub type Result<T, E = DataFrameError> = std::result::Result<T, E>;

impl DataFrameError {
    /// A type error of `context` from what Arrow said.
    pub(crate) fn types(context: impl Into<String>, e: impl std::fmt::Display) -> DataFrameError {
        DataFrameError::Type {
            context: context.into(),
            message: e.to_string(),
        }
    }
}
