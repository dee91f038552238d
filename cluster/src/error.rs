//! The errors of cluster configuration, start-up and execution.

use std::path::PathBuf;

/// What went wrong configuring, starting or running a computation on a cluster.
///
/// Every message names what it is about: the variable, the host file and
/// line, the process and peer with their addresses, or the task key.
///
/// ```
/// use dagwood_cluster::ClusterError;
/// let e = ClusterError::PeerNeverCame {
///     process: 0,
///     peer: 2,
///     address: "127.0.0.1:2103".into(),
///     waited_secs: 30.0,
/// };
/// assert!(e.to_string().contains("process 2 (127.0.0.1:2103)"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// An environment variable or setting has a bad value.
    #[error("cluster configuration: {name}={value:?}: {message}")]
    Config {
        /// The variable (or builder setting).
        name: String,
        /// Its value.
        value: String,
        /// What is wrong with it.
        message: String,
    },
    /// The host file could not be read.
    #[error("cannot read host file {}: {source}", path.display())]
    HostFileIo {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A line of the host file is not `host:port`, or the file does not match
    /// the number of processes.
    #[error("host file {}:{line}: {message}", path.display())]
    HostFile {
        /// The file.
        path: PathBuf,
        /// The line (1-based; 0 when about the file as a whole).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// This process could not listen on its address (often: the port is in
    /// use by another program or another dagwood process).
    #[error("process {process} cannot listen on {address}: {source}")]
    Bind {
        /// This process.
        process: usize,
        /// The address from the configuration.
        address: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A peer process did not connect (or could not be reached) in time.
    #[error(
        "process {process}: process {peer} ({address}) never came: no connection within \
         {waited_secs:.1} s; is it running, and is the address right?"
    )]
    PeerNeverCame {
        /// This process.
        process: usize,
        /// The peer that never came.
        peer: usize,
        /// The peer's address.
        address: String,
        /// How long this process waited.
        waited_secs: f64,
    },
    /// A peer answered, but not with a matching dagwood handshake.
    #[error("process {process}: handshake with process {peer} ({address}) failed: {message}")]
    Handshake {
        /// This process.
        process: usize,
        /// The peer.
        peer: usize,
        /// The peer's address.
        address: String,
        /// What did not match.
        message: String,
    },
    /// Two processes built different graphs (a different binary, different
    /// arguments or non-deterministic graph building): refused before running.
    #[error(
        "graph fingerprint mismatch: process {process} built {ours:016x} ({our_tasks} tasks) but \
         process {peer} built {theirs:016x} ({their_tasks} tasks); every process must run the \
         same binary and build the same graph"
    )]
    FingerprintMismatch {
        /// This process.
        process: usize,
        /// This process's fingerprint.
        ours: u64,
        /// This process's task count.
        our_tasks: u64,
        /// The other process.
        peer: usize,
        /// The other process's fingerprint.
        theirs: u64,
        /// The other process's task count.
        their_tasks: u64,
    },
    /// A value must travel between workers but its type has no codec.
    #[error(
        "task {key} produces a {type_name} that must be sent to another worker, but no codec is \
         registered for it: call dagwood_cluster::register::<{type_name}>() (the type needs \
         serde's Serialize and DeserializeOwned)"
    )]
    MissingCodec {
        /// The task's key.
        key: String,
        /// The value's type.
        type_name: &'static str,
    },
    /// The graph holds work that does not run on the cluster: a shuffle's
    /// split result that a task on another worker reads whole instead of
    /// bucket by bucket (no collection builds such a graph; a hand-built
    /// one might).
    #[error("task {key}: {what} does not run on the cluster (it runs on one process: use the collection's own compute)")]
    Unsupported {
        /// The task's key.
        key: String,
        /// What is not supported.
        what: String,
    },
    /// A value could not be encoded or decoded.
    #[error("task {key}: cannot {action} its value: {message}")]
    Codec {
        /// The task's key.
        key: String,
        /// `encode` or `decode`.
        action: &'static str,
        /// The codec's message.
        message: String,
    },
    /// A task failed (returned `Err` or panicked) on some process.
    #[error("task {key} failed on process {process}: {message}")]
    Task {
        /// The task's key.
        key: String,
        /// The process it ran on.
        process: usize,
        /// The cause.
        message: String,
    },
    /// A connection to another process broke during the run (the process
    /// died or the network dropped).
    #[error("process {process}: lost the connection to {peer} during the run: {detail}")]
    PeerLost {
        /// This process.
        process: usize,
        /// Which peer, as far as known (`process 2`, or `a peer process`).
        peer: String,
        /// What timely reported.
        detail: String,
    },
    /// The timely-dataflow runtime could not start or failed.
    #[error("process {process}: timely-dataflow: {message}")]
    Timely {
        /// This process.
        process: usize,
        /// Its message.
        message: String,
    },
    /// A computation over several processes was started while another one
    /// is running in this process: one at a time per process (the cluster's
    /// processes must agree on the order of runs). Wait for the first, or
    /// use another process.
    #[error(
        "process {process}: another distributed computation is running in this process; \
         run them one after the other"
    )]
    Busy {
        /// This process.
        process: usize,
    },
    /// An error of the local runtime (for example extracting the outputs).
    #[error(transparent)]
    Runtime(#[from] dagwood_runtime::Error),
}
