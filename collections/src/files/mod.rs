//! Files, for the collections that read and write them (bags, frames,
//! arrays' `.npy`): glob expansion ([`glob`]), reading helpers ([`read`]),
//! numbered output files ([`write`]), and [`FileError`], the one error of
//! all of them, which each collection's error wraps.

#[cfg(any(feature = "bag", feature = "dataframe"))]
pub(crate) mod glob;
#[cfg(any(feature = "bag", feature = "dataframe"))]
pub(crate) mod read;
pub(crate) mod write;

use std::io;
use std::path::{Path, PathBuf};

/// Buffer size of readers and writers: large enough that a system call
/// moves a useful amount of data, small next to a block.
pub(crate) const IO_BUFFER: usize = 256 << 10;

/// A file could not be found, listed, read or written. Each collection's
/// error holds it as its `File` variant and shows it as it is.
///
/// ```
/// # #[cfg(feature = "bag")] {
/// use dagwood_collections::bag::{read_text, BagError};
/// use dagwood_collections::FileError;
/// let err = read_text("/nonexistent-dagwood-dir/*.txt").unwrap_err();
/// assert!(matches!(err, BagError::File(FileError::NoFiles { .. })));
/// assert_eq!(err.to_string(), r#"no files match "/nonexistent-dagwood-dir/*.txt""#);
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// A glob pattern that is malformed.
    #[error("bad glob pattern {pattern:?}: {reason}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A glob pattern (or path) that matched no file.
    #[error("no files match {pattern:?}")]
    NoFiles {
        /// The pattern.
        pattern: String,
    },
    /// Reading, writing or listing a file or directory failed (a truncated
    /// `.gz` is one).
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
}

impl FileError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: impl AsRef<Path>, source: io::Error) -> FileError {
        FileError::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}
