//! Errors of array operations.

/// What went wrong building or computing an array.
///
/// Every variant names the shapes, axes or files involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArrayError {
    /// Two shapes that had to agree (or broadcast) do not.
    #[error("shape mismatch in {op}: {left:?} vs {right:?}")]
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// Shape of the left (first) operand.
        left: Vec<usize>,
        /// Shape of the right (second) operand.
        right: Vec<usize>,
    },
    /// An axis beyond the array's dimensions.
    #[error("axis {axis} is out of range for an array of {ndim} dimensions (shape {shape:?})")]
    BadAxis {
        /// The axis asked for.
        axis: usize,
        /// The array's number of dimensions.
        ndim: usize,
        /// The array's shape.
        shape: Vec<usize>,
    },
    /// Chunk sizes that do not fit the shape.
    #[error("bad chunks for shape {shape:?}: {reason}")]
    BadChunks {
        /// The array's shape.
        shape: Vec<usize>,
        /// What is wrong with them.
        reason: String,
    },
    /// An index or slice outside the array.
    #[error("{what} out of range for shape {shape:?}")]
    OutOfRange {
        /// The offending index or slice, described.
        what: String,
        /// The array's shape.
        shape: Vec<usize>,
    },
    /// Any other invalid argument, described.
    #[error("{0}")]
    Invalid(String),
    /// A file could not be found, listed, read or written (see [`FileError`](crate::FileError)).
    #[error(transparent)]
    File(#[from] crate::FileError),
    /// A file is not a valid `.npy` file of the expected type.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A task of the computation failed (names the task's key).
    #[error(transparent)]
    Compute(#[from] dagwood_runtime::Error),
}

/// `Result` with [`ArrayError`].
pub type Result<T, E = ArrayError> = std::result::Result<T, E>;
