//! Errors of bag operations.

use std::path::PathBuf;

use crate::files::FileError;

/// What went wrong building or computing a bag. Variants name the file,
/// line, pattern or argument involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BagError {
    /// An invalid argument, described.
    #[error("{0}")]
    Invalid(String),
    /// A file could not be found, listed, read or written (see [`FileError`]).
    #[error(transparent)]
    File(#[from] FileError),
    /// A record that does not parse, with where it is.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file (or `<partition N>` for bags not read from files).
        path: PathBuf,
        /// 1-based line number (or item number within the partition).
        line: u64,
        /// What the parser said.
        message: String,
    },
    /// A task of the computation failed (names the task's key).
    #[error(transparent)]
    Compute(#[from] dagwood_runtime::Error),
}

/// `Result` with [`BagError`].
pub type Result<T, E = BagError> = std::result::Result<T, E>;
