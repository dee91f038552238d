//! Errors of bag operations.

use std::path::PathBuf;

/// What went wrong building or computing a bag. Variants name the file,
/// line, pattern or argument involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BagError {
    /// An invalid argument, described.
    #[error("{0}")]
    Invalid(String),
    /// A glob pattern that is malformed.
    #[error("bad glob pattern {pattern:?}: {reason}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A glob pattern that matched no file.
    #[error("no files match {pattern:?}")]
    NoFiles {
        /// The pattern.
        pattern: String,
    },
    /// Reading or writing a file failed (a truncated `.gz` is one).
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
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
