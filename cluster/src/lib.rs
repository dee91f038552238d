//! Cluster execution for dagwood: the same task graphs, run across
//! processes and machines on [timely-dataflow](https://docs.rs/timely).
//!
//! Every process runs the same program and builds the same graph; each
//! runs its share of the tasks, values needed elsewhere travel serialized
//! (postcard), and process 0 gathers the outputs. Start the processes with
//! the `dagwood-launch` binary (`dagwood-launch -n 4 -- ./my-program`),
//! under Slurm (`srun`), or as a Kubernetes StatefulSet; each finds its
//! place with [`Cluster::from_env`].
//!
//! ```no_run
//! use dagwood_cluster::Cluster;
//! use dagwood_runtime::{delayed, sum};
//!
//! let cluster = Cluster::from_env()?;
//! let squares = (0..10_000_i64).map(|i| delayed(i).map("square", |v: &i64| v * v));
//! let total = sum(squares, 16)?;
//! if let Some(total) = cluster.compute(&total)? {
//!     println!("sum of squares: {total}"); // on process 0
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Collections (`Array`, `Bag`, `DataFrame` of `dagwood-collections`, with
//! the default feature `collections`) are computed the same way; only their
//! partials and result blocks travel, and [`Cluster::compute_with_stats`]
//! counts the bytes:
//!
//! ```no_run
//! # #[cfg(feature = "collections")] {
//! use dagwood_cluster::Cluster;
//! use dagwood_collections::array::Array;
//!
//! let cluster = Cluster::from_env()?;
//! let x = Array::<f64>::random_normal(&[1024, 1024], &[128, 128], 3.0, 2.0, 7)?;
//! let (mean, stats) = cluster.compute_with_stats(&x.mean()?)?;
//! if let Some(mean) = mean {
//!     println!("mean {mean}, {} bytes sent", stats.total().bytes_sent);
//! }
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Values that travel between workers need a codec: common types have one,
//! others get one from [`register`] or [`WireExt::wire`] (the type needs
//! serde's `Serialize` and `DeserializeOwned`). A graph in which a value
//! without a codec would have to travel is refused before any task runs,
//! with an error naming the task.
#![warn(missing_docs)]

mod codec;
#[cfg(feature = "collections")]
mod collection_codecs;
#[cfg(feature = "collections")]
mod collections;
mod config;
mod connect;
mod dashboard;
mod error;
mod gather;
mod heartbeat;
mod plan;
mod registry;
mod run;
mod stats;
mod worker;

pub use codec::Codec;
#[cfg(feature = "collections")]
pub use collections::{register_bag_item, register_foldby};
pub use config::{
    expand_nodelist, read_hosts_file, Cluster, DEFAULT_BASE_PORT, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_HEARTBEAT_TIMEOUT,
};
pub use error::ClusterError;
pub use gather::Gather;
pub use registry::{is_registered, register, register_codec, WireExt};
pub use stats::{ClusterStats, SendStats};

/// What `graph! { #![distributed] .. }` expands to refers to; not a stable API.
#[doc(hidden)]
pub mod __macro {
    use dagwood_runtime::Delayed;
    use serde::de::DeserializeOwned;
    use serde::Serialize;

    /// Requires, at compile time, that a distributed graph binding's value can
    /// travel between processes, and registers its codec.
    pub fn wire<T>(_: &Delayed<T>)
    where
        T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
    {
        crate::register::<T>();
    }
}
