//! The errors a computation returns.

use crate::Key;

/// A boxed error from user code, the `cause` of a failed task.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why one task did not produce a value. Task code (such as the closures given to
/// [`TaskBuilder`](crate::TaskBuilder)) returns it; the runtime attaches the
/// task's key and turns it into an [`Error`].
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The task's function returned `Err`.
    #[error("{0}")]
    Failed(#[source] BoxError),
    /// The task's function panicked; the panic message.
    #[error("panicked: {0}")]
    Panicked(String),
    /// An input had another type than the task expected: a bug in code that
    /// builds tasks by hand with [`TaskBuilder`](crate::TaskBuilder).
    #[error("input {index} has the wrong type (expected {expected})")]
    WrongType {
        /// Position of the input among the task's arguments.
        index: usize,
        /// The type the task asked for.
        expected: &'static str,
    },
}

impl TaskError {
    /// Wraps any error as the cause of a failed task.
    pub fn failed(e: impl Into<BoxError>) -> TaskError {
        TaskError::Failed(e.into())
    }
}

/// The error of a computation.
///
/// ```
/// use dagwood_runtime::{delayed, TaskBuilder, Error};
/// let mut b = TaskBuilder::new("parse");
/// let s = b.input(&delayed(String::from("x1")));
/// let n = b.build_result(move |args| Ok(s.get(args)?.parse::<i64>()));
/// let err = n.compute().unwrap_err();
/// assert!(matches!(err, Error::Task { .. }));
/// assert!(err.to_string().starts_with("task (\"parse\", "));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A task failed (returned `Err` or panicked); the computation stopped.
    #[error("task {key} failed: {cause}")]
    Task {
        /// The key of the task that failed.
        key: Key,
        /// What went wrong inside it.
        #[source]
        cause: TaskError,
    },
    /// The thread pool of a [`Threads`](crate::Threads) scheduler could not be built.
    #[error("could not start a thread pool of {threads} threads: {message}")]
    ThreadPool {
        /// The requested number of threads.
        threads: usize,
        /// The reason given by the operating system or rayon.
        message: String,
    },
    /// A bad argument to a runtime function (for example a fan-in below 2).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Reading or writing a file failed (a picture, a trace, a DOT file).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A picture was asked for but the Graphviz program that draws it is not
    /// installed. The DOT text was written all the same.
    #[error(
        "cannot draw {}: the Graphviz program `{program}` was not found; install Graphviz \
         (`apt-get install graphviz` on Debian or Ubuntu, `brew install graphviz` on macOS) \
         or ask for a .dot file; the graph's DOT text is in {}",
        path.display(),
        dot.display()
    )]
    GraphvizMissing {
        /// The program looked for (`dot` unless set otherwise).
        program: String,
        /// The picture that was asked for.
        path: std::path::PathBuf,
        /// Where the DOT text was written.
        dot: std::path::PathBuf,
    },
    /// Graphviz ran but could not draw the picture.
    #[error("`{program}` could not draw {} from {}: {message}", path.display(), dot.display())]
    Graphviz {
        /// The program that ran.
        program: String,
        /// The picture that was asked for.
        path: std::path::PathBuf,
        /// The DOT file it read.
        dot: std::path::PathBuf,
        /// Its exit status and error output.
        message: String,
    },
    /// A collection could not be turned into tasks, or its computed parts
    /// into its result (for example a block of the wrong shape).
    #[error("{0}")]
    Collection(#[source] BoxError),
    /// The task of a client [`Future`](crate::client::Future) was cancelled
    /// (or one of its inputs was), or the client shut down before it ran.
    #[error("task {key} was cancelled")]
    Cancelled {
        /// The key of the future's task.
        key: Key,
    },
    /// Waiting for client futures took longer than allowed.
    #[error("timed out after {waited:?} with {pending} futures still pending")]
    Timeout {
        /// How long was waited.
        waited: std::time::Duration,
        /// Futures not done when the time ran out.
        pending: usize,
    },
    /// A diagnostics [`Callback`](crate::diagnostics::Callback) panicked
    /// (in `method`, during task `key` if it was a task's event); the
    /// computation stopped as for a failed task.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use dagwood_runtime::diagnostics::{scoped_callback, Callback, TaskEvent};
    /// use dagwood_runtime::{delayed, Error};
    /// struct Broken;
    /// impl Callback for Broken {
    ///     fn on_task_end(&self, _: &TaskEvent<'_>) { panic!("no disk") }
    /// }
    /// let _on = scoped_callback(Arc::new(Broken));
    /// let err = delayed(1).map("inc", |v: &i32| v + 1).compute().unwrap_err();
    /// assert!(matches!(&err, Error::Callback { method: "on_task_end", .. }));
    /// assert!(err.to_string().contains("no disk"));
    /// ```
    #[error(
        "diagnostics callback `{method}` panicked{}: {message}",
        key.as_ref().map(|k| format!(" at task {k}")).unwrap_or_default()
    )]
    Callback {
        /// The method of [`Callback`](crate::diagnostics::Callback) that panicked.
        method: &'static str,
        /// The task it was told about, for a task's start or end.
        key: Option<Key>,
        /// The panic's message.
        message: String,
    },
    /// A broken invariant inside dagwood: please report it.
    #[error("internal error (a dagwood bug): {0}")]
    Internal(String),
}

impl Error {
    /// The key of the failed (or cancelled) task, if this error came from one.
    pub fn key(&self) -> Option<&Key> {
        match self {
            Error::Task { key, .. } | Error::Cancelled { key } => Some(key),
            _ => None,
        }
    }
}

/// `Result` with dagwood's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
